//! Export a VM to a file, with a progress bar.
//!
//! Streams `GET /vms/{id}.xva` (optionally zstd- or gzip-compressed by XO)
//! straight to disk in constant memory. The file appears only once the
//! whole export has arrived: the bytes go to a temporary file next to it,
//! which is synced and renamed at the end, and removed if anything fails.
//!
//! XO usually sends exports without a `Content-Length`: the bar then shows
//! bytes and throughput instead of a percentage.
//!
//! ```sh
//! cargo run --example export_vm                          # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example export_vm -- web-01 /backups/web-01.xva.zst --zstd
//! ```

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::BoxError;
use indicatif::{ProgressBar, ProgressStyle};
use xo_sdk::prelude::*;

/// What was exported.
#[derive(Debug)]
pub struct Export {
    /// The VM.
    pub vm: VmId,
    /// The file written.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
}

/// A bar for a transfer of `total` bytes, or a spinner with a byte count
/// when the total is unknown. Hidden when stderr is not a terminal.
pub fn transfer_bar(total: Option<u64>) -> ProgressBar {
    match total {
        Some(total) => ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => {
            let bar = ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {bytes} {bytes_per_sec} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        }
    }
}

/// Export `vm` as XVA into `path`.
pub async fn run(
    client: &Client,
    vm: &VmId,
    path: &Path,
    compression: Option<Compression>,
) -> Result<Export, BoxError> {
    let mut request = client.vms().export(vm, VmExportFormat::Xva);
    if let Some(c) = compression {
        request = request.compress(c);
    }
    // The call returns once the answer's head is in; the body is read as
    // it is saved.
    let stream = request.send().await?;
    let bar = transfer_bar(stream.content_length());
    let progress = bar.clone();
    let started = Instant::now();
    let saved = stream
        .on_progress(move |p| progress.set_position(p.bytes))
        .save_to(path)
        .await;
    bar.finish_and_clear();
    let bytes = saved?;
    println!(
        "Exported VM {vm} to {} ({bytes} bytes in {:.1?})",
        path.display(),
        started.elapsed()
    );
    Ok(Export {
        vm: vm.clone(),
        path: path.to_owned(),
        bytes,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let client = &target.client;
    let args = common::positional_args();
    let vm = match args.first() {
        Some(wanted) => common::vm(client, wanted)
            .await?
            .id
            .ok_or("a VM without id")?,
        // A halted VM: its disks do not change while they are exported.
        None if target.is_simulated() => {
            let halted = client
                .vms()
                .list()
                .filter(Filter::eq(Vm::POWER_STATE, "Halted"))
                .send()
                .await?;
            halted.first().ok_or("no halted VM")?.id()
        }
        None => return Err("usage: export_vm VM [FILE] [--zstd|--gzip]".into()),
    };
    let compression = if common::flag("--zstd") {
        Some(Compression::Zstd)
    } else if common::flag("--gzip") {
        Some(Compression::Gzip)
    } else {
        None
    };
    let path = match args.get(1) {
        Some(p) => PathBuf::from(p),
        None => {
            let suffix = compression.as_ref().map_or("", Compression::suffix);
            std::env::temp_dir().join(format!("{vm}.xva{suffix}"))
        }
    };
    run(client, &vm, &path, compression).await?;
    Ok(())
}
