//! Import a disk image into an SR as a new VDI, with a progress bar.
//!
//! Streams the file (`.vhd`, or `.raw`/`.img` for a raw image) to
//! `POST /srs/{id}/vdis` in constant memory. XO needs the upload's length
//! up front (it answers 500 to a chunked upload): `Body::from_file` takes
//! it from the file, so the bar has a total.
//!
//! Without a file, against xo-sim, it imports a generated 8 MiB raw image.
//!
//! ```sh
//! cargo run --example import_vdi                         # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example import_vdi -- disk.vhd "Local storage"
//! ```

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::BoxError;
use indicatif::{ProgressBar, ProgressStyle};
use xo_sdk::prelude::*;

/// What was imported.
#[derive(Debug)]
pub struct Import {
    /// The new VDI.
    pub vdi: VdiId,
    /// The SR it is on.
    pub sr: SrId,
    /// Bytes sent.
    pub bytes: u64,
    /// The image format.
    pub format: VdiFormat,
}

/// Import `file` into `sr` as a VDI named after the file.
pub async fn run(client: &Client, file: &Path, sr: &SrId) -> Result<Import, BoxError> {
    let format = VdiFormat::from_path(file)
        .ok_or_else(|| format!("{}: use a .vhd, .raw or .img file", file.display()))?;
    let name = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("imported disk")
        .to_owned();

    let body = Body::from_file(file).await?;
    let bytes = body
        .length()
        .ok_or("not a regular file: its length is unknown")?;
    let bar = ProgressBar::new(bytes).with_style(
        ProgressStyle::with_template("{wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let progress = bar.clone();
    let body = body.on_progress(move |p| progress.set_position(p.bytes));

    let started = Instant::now();
    // The answer is `201 {id}` once XO has written the disk.
    let sent = client
        .srs()
        .import_vdi(sr, body)
        .raw(format == VdiFormat::Raw)
        .name_label(&name)
        .send()
        .await;
    bar.finish_and_clear();
    let vdi: VdiId = sent?;
    println!(
        "Imported {} ({bytes} bytes, {format}) as VDI {name:?} {vdi} in {:.1?}",
        file.display(),
        started.elapsed()
    );
    Ok(Import {
        vdi,
        sr: sr.clone(),
        bytes,
        format,
    })
}

/// Write an `size`-byte raw image with a recognisable pattern (for xo-sim).
pub async fn demo_image(path: &Path, size: usize) -> Result<(), BoxError> {
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    tokio::fs::write(path, data).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let client = &target.client;
    let args = common::positional_args();
    let file = match args.first() {
        Some(f) => PathBuf::from(f),
        None if target.is_simulated() => {
            let path = std::env::temp_dir().join("xo-sdk-demo-disk.raw");
            demo_image(&path, 8 << 20).await?;
            path
        }
        None => return Err("usage: import_vdi FILE [SR]".into()),
    };
    let sr = match args.get(1) {
        Some(wanted) => common::sr(client, wanted)
            .await?
            .id
            .ok_or("an SR without id")?,
        None => {
            // The first pool's default SR.
            let pool = common::first_pool(client).await?;
            let pool = client.pools().get(&pool).send().await?;
            pool.default_sr
                .ok_or("the pool has no default SR: name one")?
        }
    };
    run(client, &file, &sr).await?;
    Ok(())
}
