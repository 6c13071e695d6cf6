//! `ByteStream::save_to` against `curl -o FILE && sync FILE`, side by side
//! in one run, on the same export of the same server.
//!
//! `cargo bench --bench save_vs_curl` (optionally `-- SIZE_MIB ROUNDS DIR`,
//! default 4096 MiB, 5 rounds, a temporary directory; the disk of DIR is
//! what is measured). xo-sim runs in a child process and serves a VM export
//! of SIZE bytes (chunked, no Content-Length, as XO does). Each round runs,
//! in a rotating order, three series: the SDK (`vms().export(..).send()`
//! then `save_to`, which syncs the file before renaming it), curl (`curl -s
//! -o FILE` then `sync FILE`, in a shell), and the SDK again (an A/A
//! control that shows the noise floor). Every file is deleted after its
//! run. Reports MiB/s min/median/max per series, the ratio of medians
//! SDK/curl (target ≥ 0.95) and SDK/SDK, then the SDK's peak RSS (VmHWM)
//! for one save_to in a fresh process (target ≤ 32 MiB). Then the same
//! for imports: one file of SIZE bytes uploaded as a VDI's raw content by
//! the SDK (`vdis().import(.., VdiFormat::Raw, Body::from_file(..))`) and
//! by `curl -T` (a PUT with the file's Content-Length).

mod common;

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use xo_sdk::types::{VdiFormat, VdiId, VmExportFormat, VmId};

/// The child: xo-sim exporting `size` bytes; prints `URL TOKEN VM`, then
/// serves until stdin closes.
fn serve(size: u64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sim = xo_sim::Sim::builder()
            .export_size(size)
            .without_prism()
            .start()
            .await
            .unwrap();
        let vm = sim.ids("vms")[0].clone();
        // A VDI no running VM has attached (XO refuses to overwrite those).
        let attached: Vec<String> = sim
            .objects("vbds")
            .into_iter()
            .filter(|b| b["attached"] == true)
            .filter_map(|b| b["VDI"].as_str().map(String::from))
            .collect();
        let vdi = sim
            .ids("vdis")
            .into_iter()
            .find(|v| !attached.contains(v))
            .unwrap();
        println!("{} {} {vm} {vdi}", sim.url(), sim.token());
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).unwrap_or(0) > 0 {}
        })
        .await
        .unwrap();
    });
}

/// One SDK save_to on a current-thread runtime; the bytes saved.
fn sdk_save(url: &str, token: &str, vm: &str, path: &Path) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = xo_sdk::Client::builder(url).token(token).build().unwrap();
        client
            .vms()
            .export(VmId::new(vm), VmExportFormat::Xva)
            .send()
            .await
            .unwrap()
            .save_to(path)
            .await
            .unwrap()
    })
}

/// One SDK import of `path` as the raw content of `vdi`.
fn sdk_import(url: &str, token: &str, vdi: &str, path: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = xo_sdk::Client::builder(url).token(token).build().unwrap();
        let body = xo_sdk::Body::from_file(path).await.unwrap();
        client
            .vdis()
            .import(VdiId::new(vdi), VdiFormat::Raw, body)
            .send()
            .await
            .unwrap();
    })
}

fn curl_import(url: &str, token: &str, vdi: &str, path: &Path) {
    let status = Command::new("curl")
        .args(["-sf", "-o", "/dev/null", "-T"])
        .arg(path)
        .arg("--cookie")
        .arg(format!("authenticationToken={token}"))
        .arg(format!("{url}/rest/v0/vdis/{vdi}.raw"))
        .status()
        .unwrap();
    assert!(status.success(), "curl -T failed");
}

fn curl_save(url: &str, token: &str, vm: &str, path: &Path) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "curl -sf -o '{p}' --cookie 'authenticationToken={token}' '{url}/rest/v0/vms/{vm}.xva' && sync '{p}'",
            p = path.display()
        ))
        .status()
        .unwrap();
    assert!(status.success(), "curl failed");
}

/// Run the SDK (series 0), curl (1) and the SDK again (2, the A/A
/// control) `rounds` times in a rotating order (`run(true)` is curl; only
/// it is timed, `after` checks and cleans up), then print each series'
/// MiB/s and the ratios of medians.
fn compare(
    what: &str,
    names: [&str; 3],
    rounds: usize,
    mib: u64,
    mut run: impl FnMut(bool),
    mut after: impl FnMut(),
) {
    let mut series: [Vec<f64>; 3] = Default::default();
    for round in 0..rounds {
        for k in 0..3 {
            let which = (round + k) % 3;
            let started = Instant::now();
            run(which == 1);
            series[which].push(mib as f64 / started.elapsed().as_secs_f64());
            after();
        }
    }
    let mut medians = [0.0; 3];
    for (i, s) in series.into_iter().enumerate() {
        let (min, med, max) = common::stats(s);
        medians[i] = med;
        println!(
            "{:18}: min/median/max {min:.0}/{med:.0}/{max:.0} MiB/s",
            names[i]
        );
    }
    println!(
        "ratio sdk/curl {what} (medians): {:.3} (target >= 0.95); A/A sdk/sdk: {:.3}",
        medians[0] / medians[1],
        medians[0] / medians[2]
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.first().map(String::as_str) {
        Some("serve") => return serve(args[1].parse().unwrap()),
        Some("rss-import") => {
            sdk_import(&args[1], &args[2], &args[3], Path::new(&args[4]));
            println!("{}", common::peak_rss_kib());
            return;
        }
        Some("rss") => {
            sdk_save(&args[1], &args[2], &args[3], Path::new(&args[4]));
            println!("{}", common::peak_rss_kib());
            return;
        }
        _ => {}
    }
    let mib: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(4096);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let dir = args.get(2).map(PathBuf::from).unwrap_or_else(|| {
        std::env::temp_dir().join(format!("save-vs-curl-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).unwrap();
    let size = mib << 20;

    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(&exe)
        .args(["serve", &size.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut head)
        .unwrap();
    let parts: Vec<&str> = head.split_whitespace().collect();
    let (url, token, vm, vdi) = (parts[0], parts[1], parts[2], parts[3]);

    let file = dir.join("export.xva");
    println!(
        "{mib} MiB per transfer in {}, {rounds} rounds",
        dir.display()
    );
    compare(
        "save_to",
        ["sdk save_to", "curl -o && sync", "sdk save_to (A/A)"],
        rounds,
        mib,
        |curl| {
            if curl {
                curl_save(url, token, vm, &file);
            } else {
                assert_eq!(sdk_save(url, token, vm, &file), size);
            }
        },
        || {
            assert_eq!(std::fs::metadata(&file).unwrap().len(), size);
            std::fs::remove_file(&file).unwrap();
        },
    );

    // Imports: the same file (written once) uploaded by the SDK and by
    // `curl -T` (a PUT with its Content-Length).
    let source = dir.join("disk.raw");
    {
        let mut f =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&source).unwrap());
        let block: Vec<u8> = (0..1u32 << 20)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        for _ in 0..mib {
            f.write_all(&block).unwrap();
        }
        f.flush().unwrap();
    }
    compare(
        "import",
        ["sdk import", "curl -T", "sdk import (A/A)"],
        rounds,
        mib,
        |curl| {
            if curl {
                curl_import(url, token, vdi, &source);
            } else {
                sdk_import(url, token, vdi, &source);
            }
        },
        || {},
    );

    let rss = |mode: &str, id: &str, path: &Path| -> f64 {
        let out = Command::new(&exe)
            .args([mode, url, token, id, &path.display().to_string()])
            .output()
            .unwrap();
        let kib: u64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        kib as f64 / 1024.0
    };
    println!(
        "sdk peak RSS, one import of {mib} MiB: {:.1} MiB (target <= 32)",
        rss("rss-import", vdi, &source)
    );
    let _ = std::fs::remove_file(&source);
    println!(
        "sdk peak RSS, one save_to of {mib} MiB: {:.1} MiB (target <= 32)",
        rss("rss", vm, &file)
    );
    let _ = std::fs::remove_file(&file);
    drop(child.stdin.take());
    let _ = child.wait();
    let _ = std::fs::remove_dir(&dir);
}
