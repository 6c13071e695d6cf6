//! Typed NDJSON collection stream: SDK vs raw reqwest + serde_json, in one run.
//!
//! `cargo bench --bench ndjson_stream` (optionally `-- OBJECTS ROUNDS`,
//! default 100000 objects, 5 rounds). A loopback server streams OBJECTS
//! realistic VM objects (~2 KB each) as NDJSON; both sides decode every
//! line into the same `xo_sdk::types::Vm`:
//!
//! - SDK: `client.vms().list().all_fields().stream()` (`xo::Typed`);
//! - baseline: reqwest `bytes_stream()`, split on `\n`, `serde_json::from_slice`.
//!
//! Reports throughput min/median/max per side and the ratio of medians
//! (target ≥ 0.9), then the SDK's peak RSS (VmHWM) in a fresh process at
//! 10 000, 100 000 and (when larger) OBJECTS objects (target: flat —
//! memory does not grow with the collection). The scale figure of the
//! README is `-- 1000000 3`.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Instant;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use xo_sdk::types::Vm;

/// One VM object of about 2 KB, shaped like XO's (varying by index).
fn vm_line(i: usize) -> String {
    let id = format!("{:08x}-7a1f-4c57-9a2b-{:012x}", i, i * 7919);
    let power_state = ["Running", "Halted", "Paused", "Suspended"][i % 4];
    let mut v = serde_json::json!({
        "id": id,
        "uuid": id,
        "type": "VM",
        "href": format!("/rest/v0/vms/{id}"),
        "name_label": format!("web-{i:06}"),
        "name_description": "Front-end web server of the shop, behind the load balancer; restart with care.",
        "power_state": power_state,
        "$pool": "b7569d99-30f8-178a-7d94-801de3e29b5b",
        "$poolId": "b7569d99-30f8-178a-7d94-801de3e29b5b",
        "$container": "1f3a6c1e-0c4d-4a9e-8d0e-6e2b8d1f7c55",
        "addresses": {"0/ipv4/0": format!("10.0.{}.{}", i / 250 % 250, i % 250), "0/ipv6/0": "fe80::1"},
        "auto_poweron": i % 2 == 0,
        "boot": {"firmware": "uefi", "order": "cdn"},
        "CPUs": {"max": 8, "number": 4},
        "memory": {"dynamic": [2147483648u64, 4294967296u64], "static": [1073741824u64, 8589934592u64], "size": 4294967296u64, "usage": 3221225472u64},
        "tags": ["prod", "web", format!("rack-{}", i % 40)],
        "os_version": {"name": "Debian GNU/Linux 12 (bookworm)", "uname": "6.1.0-18-amd64", "distro": "debian", "major": "12"},
        "other": {"base_template_name": "Debian Bookworm 12", "import_task": "OpaqueRef:1234", "mac_seed": "7e1c9b2a-3f0e-4d5c-8b6a-9c0d1e2f3a4b"},
        "blockedOperations": {},
        "current_operations": {},
        "creation": {"date": "2025-11-03T10:12:44.000Z", "template": "b1e3c2f4-7d8a-4e9b-a0c1-d2e3f4a5b6c7", "user": "5c0e8a3d-2b1f-4d6e-9a8c-7b6e5d4c3b2a"},
        "high_availability": "restart",
        "isFirmwareSupported": true,
        "managementAgentDetected": true,
        "pvDriversDetected": true,
        "pvDriversVersion": "9.3.3-15",
        "startDelay": 0,
        "startTime": 1_760_000_000 + i as u64,
        "secureBoot": false,
        "hasVendorDevice": false,
        "viridian": true,
        "virtualizationMode": "hvm",
        "xenStoreData": {"vm-data/mmio-hole-size": "268435456", "vm-data": ""},
        "$VBDs": ["a1b2c3d4-0000-4000-8000-000000000001", "a1b2c3d4-0000-4000-8000-000000000002"],
        "VIFs": ["c1d2e3f4-0000-4000-8000-000000000003"],
        "VGPUs": [],
        "attachedPcis": [],
        "notes": "Patched monthly. Owner: team-web. Backup: daily at 02:00, 14 days of retention on the NFS repository.",
    });
    // Pad to ~2 KB with an unknown field, as a newer XO might send.
    let len = v.to_string().len();
    if len < 2048 {
        v["futureField"] = serde_json::Value::String("x".repeat(2048 - len));
    }
    v.to_string()
}

async fn serve(objects: usize) -> SocketAddr {
    // A few dozen distinct lines, repeated: realistic bytes without holding
    // 200 MB of text in the server.
    let lines: Vec<String> = (0..64).map(|i| vm_line(i) + "\n").collect();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let lines = lines.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n")
                    .await;
                let mut batch = Vec::with_capacity(64 * 1024);
                for i in 0..objects {
                    batch.extend_from_slice(lines[i % lines.len()].as_bytes());
                    if batch.len() >= 60 * 1024 {
                        if sock.write_all(&batch).await.is_err() {
                            return;
                        }
                        batch.clear();
                    }
                }
                let _ = sock.write_all(&batch).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    addr
}

async fn sdk_side(client: &xo_sdk::Client) -> usize {
    let mut stream = Box::pin(client.vms().list().all_fields().stream());
    let mut n = 0;
    while let Some(vm) = stream.next().await {
        let vm: Vm = vm.expect("decodes");
        std::hint::black_box(&vm);
        n += 1;
    }
    n
}

async fn raw_side(http: &reqwest::Client, url: &str) -> usize {
    let resp = http.get(url).send().await.unwrap();
    let mut body = resp.bytes_stream();
    let mut partial: Vec<u8> = Vec::new();
    let mut n = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        partial.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(i) = partial[start..].iter().position(|&b| b == b'\n') {
            let vm: Vm = serde_json::from_slice(&partial[start..start + i]).unwrap();
            std::hint::black_box(&vm);
            n += 1;
            start += i + 1;
        }
        partial.drain(..start);
    }
    n
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    // Child mode: stream N objects through the SDK once, print VmHWM.
    if args.first().map(String::as_str) == Some("rss") {
        let n: usize = args[1].parse().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let addr = serve(n).await;
            let client = xo_sdk::Client::builder(format!("http://{addr}"))
                .build()
                .unwrap();
            assert_eq!(sdk_side(&client).await, n);
        });
        println!("{}", common::peak_rss_kib());
        return;
    }
    let objects: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let line_bytes = vm_line(0).len() + 1;
    let (sdk, raw) = rt.block_on(async {
        let addr = serve(objects).await;
        let client = xo_sdk::Client::builder(format!("http://{addr}"))
            .build()
            .unwrap();
        let http = xo_sdk::runtime::http_client_builder()
            .unwrap()
            .build()
            .unwrap();
        let url = format!("http://{addr}/rest/v0/vms?fields=*&ndjson=true");
        let (mut sdk, mut raw) = (Vec::new(), Vec::new());
        // One warm-up of each, then alternate which side goes first.
        sdk_side(&client).await;
        raw_side(&http, &url).await;
        for r in 0..rounds {
            for side in if r % 2 == 0 { [0, 1] } else { [1, 0] } {
                let t = Instant::now();
                let n = if side == 0 {
                    sdk_side(&client).await
                } else {
                    raw_side(&http, &url).await
                };
                assert_eq!(n, objects);
                let per_sec = n as f64 / t.elapsed().as_secs_f64();
                if side == 0 {
                    sdk.push(per_sec)
                } else {
                    raw.push(per_sec)
                }
            }
        }
        (sdk, raw)
    });
    let (smin, smed, smax) = common::stats(sdk);
    let (rmin, rmed, rmax) = common::stats(raw);
    println!("objects: {objects} of {line_bytes} bytes, {rounds} rounds");
    println!("sdk typed stream : min/median/max {smin:.0}/{smed:.0}/{smax:.0} objects/s");
    println!("raw reqwest+serde: min/median/max {rmin:.0}/{rmed:.0}/{rmax:.0} objects/s");
    println!(
        "throughput ratio sdk/raw (medians): {:.3} (target >= 0.9)",
        smed / rmed
    );
    let exe = std::env::current_exe().unwrap();
    // Peak RSS at 10 000, 100 000 and the run's own size (e.g. 1 000 000):
    // flat when memory does not grow with the collection.
    let mut sizes = vec![10_000usize, 100_000];
    if objects > 100_000 {
        sizes.push(objects);
    }
    for n in sizes {
        let out = std::process::Command::new(&exe)
            .args(["rss", &n.to_string()])
            .output()
            .unwrap();
        let kib: u64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        println!(
            "sdk peak RSS streaming {n} objects: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
    std::io::stdout().flush().unwrap();
}
