//! Binary transfers: SDK vs raw reqwest, export and import, in one run.
//!
//! `cargo bench --bench transfer` (optionally `-- SIZE_MIB ROUNDS`, default
//! 4096 MiB and 3 rounds; CI can run `-- 64 2`). A loopback server (its own
//! thread and runtime) streams SIZE bytes as a chunked download, like XO's
//! exports, and reads uploads of SIZE bytes sent with a Content-Length,
//! like XO's imports. Both sides move the same bytes with identically
//! configured reqwest clients:
//!
//! - export, SDK: `client.vms().export(.., VmExportFormat::Xva).send()` then
//!   `ByteStream::write_to(tokio::io::sink())`;
//!   raw: `reqwest` `bytes_stream()` written to the same sink;
//! - import, SDK: `client.pools().import_vm(.., Body::from_reader(reader, len))`;
//!   raw: `reqwest` with `Body::wrap_stream` over the same reader, read in
//!   256 KiB chunks, and the same Content-Length.
//!
//! Next to wall-clock throughput, the client thread's CPU time per GiB is
//! reported (the client runs on one current-thread runtime): on a machine
//! shared with other work, wall-clock speed swings widely while CPU per
//! byte, the SDK's actual overhead, barely moves. Its resolution is one
//! clock tick (10 ms): it means something from about 1 GiB per transfer.
//!
//! Each round runs three series per direction, SDK, raw and raw again (an
//! A/A control that shows the noise floor), in a rotating order. Reports
//! MiB/s min/median/max per series and the ratio of medians (target ≥
//! 0.95), two `save_to` runs of the whole export into a file in a temporary
//! directory (next to raw reqwest → `tokio::fs` copies; every file is
//! deleted at once, so disk use stays at one export), then the
//! SDK's peak RSS (VmHWM, in a fresh process that also runs the server) for
//! export, import and save_to at 1 GiB and 4 GiB (target ≤ 32 MiB, flat).

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use xo_sdk::Body;
use xo_sdk::types::{PoolId, VmExportFormat, VmId};

const MIB: u64 = 1024 * 1024;
/// The server's pattern, sent over and over (pseudo-random, not zeros).
const PATTERN: usize = 1 << 20;

fn pattern() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..PATTERN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// An `AsyncRead` of `left` bytes copied from the pattern: a source as
/// fast as memory, so that the transfer is what is measured.
struct Source {
    pattern: std::sync::Arc<Vec<u8>>,
    pos: usize,
    left: u64,
}

impl Source {
    fn new(pattern: std::sync::Arc<Vec<u8>>, size: u64) -> Self {
        Source {
            pattern,
            pos: 0,
            left: size,
        }
    }
}

impl AsyncRead for Source {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let n = (buf.remaining() as u64)
            .min(this.left)
            .min((PATTERN - this.pos) as u64) as usize;
        buf.put_slice(&this.pattern[this.pos..this.pos + n]);
        this.pos = (this.pos + n) % PATTERN;
        this.left -= n as u64;
        Poll::Ready(Ok(()))
    }
}

/// What a careful raw-reqwest user writes to stream an `AsyncRead`: 256 KiB
/// reads into fresh buffers (as the SDK does).
fn raw_reader_stream(
    reader: Source,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send {
    futures::stream::try_unfold(reader, |mut r| async move {
        let mut buf = BytesMut::with_capacity(256 * 1024);
        while buf.len() < buf.capacity() {
            if r.read_buf(&mut buf).await? == 0 {
                break;
            }
        }
        if buf.is_empty() {
            Ok(None)
        } else {
            Ok(Some((buf.freeze(), r)))
        }
    })
}

// ---------------------------------------------------------------------
// The server.

/// Start the server on its own thread; answers every GET with `size`
/// bytes (chunked, 1 MiB frames) and reads every upload to its end.
fn start_server(size: u64) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let pattern = std::sync::Arc::new(pattern());
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let _ = sock.set_nodelay(true);
                tokio::spawn(serve(sock, pattern.clone(), size));
            }
        });
    });
    rx.recv().unwrap()
}

async fn serve(mut sock: TcpStream, pattern: std::sync::Arc<Vec<u8>>, size: u64) {
    let mut buf = vec![0u8; 1 << 20];
    let mut have = 0usize;
    loop {
        // The request head.
        let end = loop {
            if let Some(i) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if have == buf.len() {
                return;
            }
            match sock.read(&mut buf[have..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => have += n,
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length: u64 = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        buf.copy_within(end..have, 0);
        have -= end;
        if head.starts_with("get ") {
            let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n";
            if sock.write_all(ok).await.is_err() {
                return;
            }
            let mut left = size;
            while left > 0 {
                let n = left.min(PATTERN as u64) as usize;
                let frame = format!("{n:x}\r\n");
                if sock.write_all(frame.as_bytes()).await.is_err()
                    || sock.write_all(&pattern[..n]).await.is_err()
                    || sock.write_all(b"\r\n").await.is_err()
                {
                    return;
                }
                left -= n as u64;
            }
            if sock.write_all(b"0\r\n\r\n").await.is_err() {
                return;
            }
        } else {
            // An upload: read exactly Content-Length bytes.
            let mut left = length;
            let early = (have as u64).min(left);
            left -= early;
            buf.copy_within(early as usize..have, 0);
            have -= early as usize;
            while left > 0 {
                let cap = (buf.len() as u64).min(left) as usize;
                match sock.read(&mut buf[..cap]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => left -= n as u64,
                }
            }
            let body = format!("{{\"id\":\"{length}\"}}");
            let answer = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if sock.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------
// The two sides.

async fn sdk_export(client: &xo_sdk::Client) -> u64 {
    client
        .vms()
        .export(VmId::new("vm"), VmExportFormat::Xva)
        .send()
        .await
        .unwrap()
        .write_to(tokio::io::sink())
        .await
        .unwrap()
}

async fn raw_export(http: &reqwest::Client, base: &str) -> u64 {
    let resp = http
        .get(format!("{base}/rest/v0/vms/vm.xva"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let mut body = resp.bytes_stream();
    let mut sink = tokio::io::sink();
    let mut n = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        sink.write_all(&chunk).await.unwrap();
        n += chunk.len() as u64;
    }
    sink.flush().await.unwrap();
    n
}

async fn sdk_import(client: &xo_sdk::Client, pattern: &std::sync::Arc<Vec<u8>>, size: u64) -> u64 {
    let body = Body::from_reader(Source::new(pattern.clone(), size), size);
    // The server answers the byte count as the new VM's id.
    let vm: VmId = client
        .pools()
        .import_vm(PoolId::new("pool"), body)
        .send()
        .await
        .unwrap();
    vm.as_str().parse().unwrap()
}

async fn raw_import(
    http: &reqwest::Client,
    base: &str,
    pattern: &std::sync::Arc<Vec<u8>>,
    size: u64,
) -> u64 {
    let stream = raw_reader_stream(Source::new(pattern.clone(), size));
    let resp = http
        .post(format!("{base}/rest/v0/pools/pool/vms"))
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .header(reqwest::header::CONTENT_LENGTH, size)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let answer: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    answer["id"].as_str().unwrap().parse().unwrap()
}

async fn sdk_save(client: &xo_sdk::Client, dest: &std::path::Path) -> u64 {
    client
        .vms()
        .export(VmId::new("vm"), VmExportFormat::Xva)
        .send()
        .await
        .unwrap()
        .save_to(dest)
        .await
        .unwrap()
}

async fn raw_save(http: &reqwest::Client, base: &str, dest: &std::path::Path) -> u64 {
    let resp = http
        .get(format!("{base}/rest/v0/vms/vm.xva"))
        .send()
        .await
        .unwrap();
    let file = tokio::fs::File::create(dest).await.unwrap();
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut body = resp.bytes_stream();
    let mut n = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        out.write_all(&chunk).await.unwrap();
        n += chunk.len() as u64;
    }
    out.flush().await.unwrap();
    out.get_ref().sync_all().await.unwrap();
    n
}

// ---------------------------------------------------------------------

/// CPU time of the calling thread (user + system), in clock ticks (1/100 s
/// on Linux). The client runs on one current-thread runtime, hyper's
/// connection task included, so this is the whole client side; unlike
/// wall-clock time it hardly moves when other processes compete for the
/// CPU.
fn thread_cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name, which may contain spaces.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xo-sdk-bench-transfer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn sdk_client(addr: SocketAddr) -> xo_sdk::Client {
    xo_sdk::Client::builder(format!("http://{addr}"))
        .token("t")
        .build()
        .unwrap()
}

/// Child mode: one SDK transfer of `size` bytes, then print VmHWM (KiB).
fn rss_child(what: &str, size: u64) {
    let addr = start_server(size);
    let pattern = std::sync::Arc::new(pattern());
    runtime().block_on(async {
        let client = sdk_client(addr);
        let n = match what {
            "export" => sdk_export(&client).await,
            "import" => sdk_import(&client, &pattern, size).await,
            "save" => {
                let dir = temp_dir();
                let dest = dir.join("export.xva");
                let n = sdk_save(&client, &dest).await;
                let _ = std::fs::remove_dir_all(&dir);
                n
            }
            other => panic!("unknown mode {other}"),
        };
        assert_eq!(n, size);
    });
    println!("{}", common::peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if args.first().map(String::as_str) == Some("rss") {
        rss_child(&args[1], args[2].parse().unwrap());
        return;
    }
    let size_mib: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(4096);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let size = size_mib * MIB;
    let load_before = load();
    let addr = start_server(size);
    let base = format!("http://{addr}");
    let pattern = std::sync::Arc::new(pattern());
    let rt = runtime();
    let client = sdk_client(addr);
    let http = xo_sdk::runtime::http_client_builder()
        .unwrap()
        .build()
        .unwrap();
    let mib_s = |t: Instant| size as f64 / MIB as f64 / t.elapsed().as_secs_f64();
    // Client CPU milliseconds per GiB since `ticks`.
    let cpu_ms_gib = |ticks: u64| {
        (thread_cpu_ticks() - ticks) as f64 * 10.0 / (size as f64 / (1024.0 * MIB as f64))
    };

    // Three series per direction: SDK, raw, and raw again as an A/A
    // control that shows the noise floor; the order rotates every round.
    let mut ex: [Vec<f64>; 3] = Default::default();
    let mut im: [Vec<f64>; 3] = Default::default();
    let mut ex_cpu: [Vec<f64>; 3] = Default::default();
    let mut im_cpu: [Vec<f64>; 3] = Default::default();
    rt.block_on(async {
        for r in 0..rounds {
            let order = [[0, 1, 2], [1, 2, 0], [2, 0, 1]][r % 3];
            for side in order {
                let (t, ticks) = (Instant::now(), thread_cpu_ticks());
                let n = if side == 0 {
                    sdk_export(&client).await
                } else {
                    raw_export(&http, &base).await
                };
                assert_eq!(n, size);
                ex[side].push(mib_s(t));
                ex_cpu[side].push(cpu_ms_gib(ticks));
            }
            for side in order {
                let (t, ticks) = (Instant::now(), thread_cpu_ticks());
                let n = if side == 0 {
                    sdk_import(&client, &pattern, size).await
                } else {
                    raw_import(&http, &base, &pattern, size).await
                };
                assert_eq!(n, size);
                im[side].push(mib_s(t));
                im_cpu[side].push(cpu_ms_gib(ticks));
            }
        }
    });
    println!(
        "size: {size_mib} MiB per transfer, {rounds} rounds; load average before: {load_before}"
    );
    for (name, [sdk, raw, control], [sdk_cpu, raw_cpu, control_cpu]) in
        [("export", ex, ex_cpu), ("import", im, im_cpu)]
    {
        let (smin, smed, smax) = common::stats(sdk);
        let (rmin, rmed, rmax) = common::stats(raw);
        let (cmin, cmed, cmax) = common::stats(control);
        println!("{name} sdk    : min/median/max {smin:.0}/{smed:.0}/{smax:.0} MiB/s");
        println!("{name} raw    : min/median/max {rmin:.0}/{rmed:.0}/{rmax:.0} MiB/s");
        println!("{name} raw A/A: min/median/max {cmin:.0}/{cmed:.0}/{cmax:.0} MiB/s");
        println!(
            "{name} ratio sdk/raw (medians): {:.3} (target >= 0.95); A/A control raw/raw: {:.3}",
            smed / rmed,
            cmed / rmed,
        );
        let (sc_min, sc_med, sc_max) = common::stats(sdk_cpu);
        let (rc_min, rc_med, rc_max) = common::stats(raw_cpu);
        let (cc_min, cc_med, cc_max) = common::stats(control_cpu);
        println!(
            "{name} client CPU ms/GiB min/median/max: sdk {sc_min:.0}/{sc_med:.0}/{sc_max:.0}, \
             raw {rc_min:.0}/{rc_med:.0}/{rc_max:.0}, raw A/A {cc_min:.0}/{cc_med:.0}/{cc_max:.0}"
        );
        println!(
            "{name} CPU-efficiency ratio raw/sdk (medians): {:.3} (1.0 = same CPU per byte); A/A: {:.3}",
            rc_med / sc_med,
            rc_med / cc_med,
        );
    }

    // save_to of the whole export next to a raw copy into a file, twice in
    // alternating order; each file is deleted right away so that disk use
    // stays at one export.
    let dir = temp_dir();
    let dest = dir.join("export.xva");
    let (mut sdk_saves, mut raw_saves) = (vec![], vec![]);
    rt.block_on(async {
        for r in 0..2 {
            for side in if r % 2 == 0 { [0, 1] } else { [1, 0] } {
                let t = Instant::now();
                let n = if side == 0 {
                    sdk_save(&client, &dest).await
                } else {
                    raw_save(&http, &base, &dest).await
                };
                let speed = mib_s(t);
                assert_eq!(n, size);
                assert_eq!(std::fs::metadata(&dest).unwrap().len(), size);
                std::fs::remove_file(&dest).unwrap();
                if side == 0 {
                    sdk_saves.push(speed)
                } else {
                    raw_saves.push(speed)
                }
            }
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "save to a file (write, fsync; sdk also renames): sdk save_to {} MiB/s; raw reqwest -> tokio::fs {} MiB/s",
        fmt(&sdk_saves),
        fmt(&raw_saves)
    );

    let exe = std::env::current_exe().unwrap();
    let mut sizes = vec![1024 * MIB, 4096 * MIB];
    if size < 1024 * MIB {
        // A small CI run: small sizes too.
        sizes = vec![size, 4 * size];
    }
    for what in ["export", "import", "save"] {
        let mut line = format!("sdk peak RSS ({what}):");
        for &n in &sizes {
            let out = std::process::Command::new(&exe)
                .args(["rss", what, &n.to_string()])
                .output()
                .unwrap();
            let kib: u64 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .unwrap_or(0);
            line.push_str(&format!(
                " {} MiB -> {:.1} MiB;",
                n / MIB,
                kib as f64 / 1024.0
            ));
        }
        println!("{line} (target <= 32 MiB, flat)");
    }
    println!("load average after: {}", load());
    std::io::stdout().flush().unwrap();
}
