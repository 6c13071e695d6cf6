//! Binary transfers over real HTTP: exports saved to files (with and
//! without Content-Length), truncated downloads, imports from files and
//! readers checked by the server (length and checksum), the missing-length
//! error, progress totals, idle timeouts on uploads, and cancellation of
//! downloads and uploads.
//!
//! No assertion depends on timing: waits are bounded and generous, and
//! assert on state (what the server saw, what is on disk).

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use xo_sdk::runtime::{Progress, Value};
use xo_sdk::types::{HostId, PoolId, SrId, VdiId, VdiSnapshotId, VmId, VmSnapshotId};
use xo_sdk::xo::{Compression, VdiFormat, VmExportFormat};
use xo_sdk::{Body, Error};
use xo_sim::state::{FNV_OFFSET, fnv1a64};

// ---------------------------------------------------------------------
// Helpers.

async fn sim_with(export_size: u64, content_length: bool) -> (xo_sim::Sim, xo_sdk::Client) {
    let sim = xo_sim::Sim::builder()
        .export_size(export_size)
        .export_content_length(content_length)
        .start()
        .await
        .expect("xo-sim starts");
    let client = xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .build()
        .unwrap();
    (sim, client)
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "xo-sdk-transfers-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Names of the entries, sorted.
    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every progress report, for assertions.
#[derive(Clone, Default)]
struct Reports(Arc<Mutex<Vec<Progress>>>);

impl Reports {
    fn callback(&self) -> impl FnMut(Progress) + Send + 'static {
        let reports = self.0.clone();
        move |p| reports.lock().unwrap().push(p)
    }

    fn all(&self) -> Vec<Progress> {
        self.0.lock().unwrap().clone()
    }

    /// Reports are cumulative and all carry the same total; returns the
    /// last one.
    fn check(&self) -> Progress {
        let all = self.all();
        assert!(!all.is_empty(), "no progress reported");
        assert!(
            all.windows(2)
                .all(|w| w[0].bytes < w[1].bytes && w[0].total == w[1].total),
            "progress is not cumulative: {all:?}"
        );
        *all.last().unwrap()
    }
}

/// Poll `cond` until it holds; panic after a minute (the bound is there so
/// that a broken build fails instead of hanging, not to measure anything).
async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..6000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("gave up waiting for: {what}");
}

fn checksum(bytes: &[u8]) -> u64 {
    fnv1a64(FNV_OFFSET, bytes)
}

/// Deterministic bytes that are not a repeated pattern.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// An `AsyncRead` producing `pseudo_random(len, seed)` on the fly, in
/// small irregular reads.
struct Generated {
    x: u64,
    left: usize,
}

impl Generated {
    fn new(len: usize, seed: u64) -> Self {
        Generated {
            x: seed | 1,
            left: len,
        }
    }
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = buf.remaining().min(self.left).min(10_007);
        for _ in 0..n {
            let mut x = self.x;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.x = x;
            buf.put_slice(&[(x >> 24) as u8]);
        }
        self.left -= n;
        std::task::Poll::Ready(Ok(()))
    }
}

/// A VDI that no attached VBD uses (XO refuses to overwrite those).
fn free_vdi(sim: &xo_sim::Sim) -> VdiId {
    let attached: Vec<String> = sim
        .objects("vbds")
        .into_iter()
        .filter(|b| b["attached"] == true)
        .filter_map(|b| b["VDI"].as_str().map(str::to_owned))
        .collect();
    sim.objects("vdis")
        .into_iter()
        .find(|v| {
            let id = v["id"].as_str().unwrap_or_default();
            !attached.iter().any(|a| a == id)
        })
        .and_then(|v| v["id"].as_str().map(VdiId::new))
        .expect("a VDI without attached VBD")
}

/// An SR that takes disk images (not an ISO library).
fn disk_sr(sim: &xo_sim::Sim) -> SrId {
    sim.objects("srs")
        .into_iter()
        .find(|s| s["content_type"] != "iso")
        .and_then(|s| s["id"].as_str().map(SrId::new))
        .expect("a disk SR")
}

/// A loopback server that hands each connection to `serve` after reading
/// the request head.
async fn raw_server<F, Fut>(serve: F) -> SocketAddr
where
    F: Fn(TcpStream, Vec<u8>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = Arc::new(serve);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let serve = serve.clone();
            tokio::spawn(async move {
                // Read up to the end of the head; keep what came after it.
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match sock.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                };
                let rest = buf.split_off(end);
                serve(sock, rest).await;
            });
        }
    });
    addr
}

fn client_for(addr: SocketAddr) -> xo_sdk::Client {
    xo_sdk::Client::builder(format!("http://{addr}"))
        .token("tok")
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------
// Exports.

#[tokio::test]
async fn export_without_content_length_is_saved_to_a_file() {
    let size = 3 * 1024 * 1024 + 17;
    let (sim, client) = sim_with(size, false).await;
    let vm = VmId::new(&sim.ids("vms")[0]);
    let dir = TempDir::new("export-nocl");
    let dest = dir.path("vm.xva");
    let reports = Reports::default();

    let stream = client
        .vms()
        .export(&vm, VmExportFormat::Xva)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.content_length(), None, "XO sends no length");
    let n = stream
        .on_progress(reports.callback())
        .save_to(&dest)
        .await
        .unwrap();

    assert_eq!(n, size);
    let want = xo_sim::export_bytes(&xo_sim::export_key(vm.as_str(), "xva", None), size);
    assert!(
        std::fs::read(&dest).unwrap() == want,
        "file content differs"
    );
    assert_eq!(dir.entries(), vec!["vm.xva"], "no temporary file is left");
    let last = reports.check();
    assert_eq!(last.bytes, size);
    assert_eq!(last.total, None);
}

#[tokio::test]
async fn export_with_content_length_is_saved_with_progress_totals() {
    let size = 2 * 1024 * 1024 + 5;
    let (sim, client) = sim_with(size, true).await;
    let vm = VmId::new(&sim.ids("vms")[1]);
    let dir = TempDir::new("export-cl");
    let dest = dir.path("vm.xva.zst");
    let reports = Reports::default();

    let stream = client
        .vms()
        .export(&vm, VmExportFormat::Xva)
        .compress(Compression::Zstd)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.content_length(), Some(size));
    let n = stream
        .on_progress(reports.callback())
        .save_to(&dest)
        .await
        .unwrap();

    assert_eq!(n, size);
    let want = xo_sim::export_bytes(&xo_sim::export_key(vm.as_str(), "xva", Some("zstd")), size);
    let got = std::fs::read(&dest).unwrap();
    assert_eq!(&got[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd magic");
    assert!(got == want, "file content differs");
    assert_eq!(dir.entries(), vec!["vm.xva.zst"]);
    let last = reports.check();
    assert_eq!(
        last,
        reports.all()[reports.all().len() - 1],
        "last report is the total"
    );
    assert_eq!((last.bytes, last.total), (size, Some(size)));
    assert_eq!(last.fraction(), Some(1.0));
}

#[tokio::test]
async fn typed_formats_reach_the_wire() {
    let size = 100_000;
    let (sim, client) = sim_with(size, false).await;
    let snap = VmSnapshotId::new(&sim.ids("vm-snapshots")[0]);
    let ova = client
        .vm_snapshots()
        .export(&snap, VmExportFormat::Ova)
        .send()
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert!(
        ova[..] == xo_sim::export_bytes(&xo_sim::export_key(snap.as_str(), "ova", None), size)[..]
    );
    let vdi_snap = VdiSnapshotId::new(&sim.ids("vdi-snapshots")[0]);
    let raw = client
        .vdi_snapshots()
        .export(&vdi_snap, VdiFormat::Raw)
        .send()
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert!(
        raw[..]
            == xo_sim::export_bytes(&xo_sim::export_key(vdi_snap.as_str(), "raw", None), size)[..]
    );
    // XO refuses compression of OVA exports; the error is XO's, typed.
    let err = client
        .vm_snapshots()
        .export(&snap, VmExportFormat::Ova)
        .compress(Compression::Gzip)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
}

#[tokio::test]
async fn write_to_and_async_read_deliver_the_same_bytes() {
    let size = 1024 * 1024 + 3;
    let (sim, client) = sim_with(size, false).await;
    let vdi = VdiId::new(&sim.ids("vdis")[0]);
    let want = xo_sim::export_bytes(&xo_sim::export_key(vdi.as_str(), "vhd", None), size);

    let mut sink = Vec::new();
    let n = client
        .vdis()
        .export(&vdi, VdiFormat::Vhd)
        .send()
        .await
        .unwrap()
        .write_to(&mut sink)
        .await
        .unwrap();
    assert_eq!(n, size);
    assert!(sink == want);

    let mut reader = client
        .vdis()
        .export(&vdi, VdiFormat::Vhd)
        .send()
        .await
        .unwrap()
        .into_async_read();
    let mut read = Vec::new();
    reader.read_to_end(&mut read).await.unwrap();
    assert!(read == want);

    // Line by line, through AsyncBufRead.
    let host = HostId::new(&sim.ids("hosts")[0]);
    let text = client
        .hosts()
        .get_audit_log(&host)
        .send()
        .await
        .unwrap()
        .into_async_read();
    let mut lines = tokio::io::AsyncBufReadExt::lines(text);
    let mut count = 0;
    while let Some(line) = lines.next_line().await.unwrap() {
        assert!(line.contains("ALLOWED"), "{line}");
        count += 1;
    }
    assert_eq!(count, 20);
}

/// A server that announces `announced` bytes (or chunked encoding when
/// `None`), sends `sent` bytes, then closes the connection.
async fn truncating_server(announced: Option<u64>, sent: usize) -> SocketAddr {
    raw_server(move |mut sock, _| async move {
        let data = pseudo_random(sent, 7);
        let head = match announced {
            Some(n) => format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {n}\r\n\r\n"
            ),
            None => "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n".to_owned(),
        };
        let _ = sock.write_all(head.as_bytes()).await;
        match announced {
            Some(_) => {
                let _ = sock.write_all(&data).await;
            }
            None => {
                for chunk in data.chunks(16 * 1024) {
                    let frame = format!("{:x}\r\n", chunk.len());
                    let _ = sock.write_all(frame.as_bytes()).await;
                    let _ = sock.write_all(chunk).await;
                    let _ = sock.write_all(b"\r\n").await;
                }
                // No terminating `0` chunk: the body is cut.
            }
        }
        let _ = sock.flush().await;
        let _ = sock.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn truncated_download_with_content_length_fails_and_leaves_no_file() {
    let addr = truncating_server(Some(1024 * 1024), 100 * 1024).await;
    let client = client_for(addr);
    let dir = TempDir::new("trunc-cl");
    let dest = dir.path("vm.xva");
    let stream = client
        .vms()
        .export(VmId::new("vm1"), VmExportFormat::Xva)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.content_length(), Some(1024 * 1024));
    let err = stream.save_to(&dest).await.unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    assert!(!dest.exists(), "no destination file");
    assert_eq!(dir.entries(), Vec::<String>::new(), "no temporary file");
}

#[tokio::test]
async fn truncated_chunked_download_fails_and_keeps_the_previous_file() {
    let addr = truncating_server(None, 200 * 1024).await;
    let client = client_for(addr);
    let dir = TempDir::new("trunc-chunked");
    let dest = dir.path("vm.xva");
    std::fs::write(&dest, b"previous backup").unwrap();
    let err = client
        .vms()
        .export(VmId::new("vm1"), VmExportFormat::Xva)
        .send()
        .await
        .unwrap()
        .save_to(&dest)
        .await
        .unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous backup");
    assert_eq!(dir.entries(), vec!["vm.xva"], "no temporary file");
}

#[tokio::test]
async fn truncated_download_is_an_error_for_every_reader() {
    let addr = truncating_server(Some(500_000), 10_000).await;
    let client = client_for(addr);
    let err = client
        .vms()
        .export(VmId::new("vm1"), VmExportFormat::Xva)
        .send()
        .await
        .unwrap()
        .write_to(tokio::io::sink())
        .await
        .unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    let mut reader = client
        .vms()
        .export(VmId::new("vm1"), VmExportFormat::Xva)
        .send()
        .await
        .unwrap()
        .into_async_read();
    let mut buf = Vec::new();
    assert!(reader.read_to_end(&mut buf).await.is_err());
}

#[tokio::test]
async fn save_to_replaces_an_existing_file_on_success() {
    let size = 300_000;
    let (sim, client) = sim_with(size, false).await;
    let vm = VmId::new(&sim.ids("vms")[0]);
    let dir = TempDir::new("replace");
    let dest = dir.path("vm.xva");
    std::fs::write(&dest, b"old").unwrap();
    client
        .vms()
        .export(&vm, VmExportFormat::Xva)
        .send()
        .await
        .unwrap()
        .save_to(&dest)
        .await
        .unwrap();
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), size);
    assert_eq!(dir.entries(), vec!["vm.xva"]);

    // A destination that cannot be written names itself; nothing is left.
    let blocked = dir.path("sub");
    std::fs::create_dir(&blocked).unwrap();
    let err = client
        .vms()
        .export(&vm, VmExportFormat::Xva)
        .send()
        .await
        .unwrap()
        .save_to(&blocked)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(err.to_string().contains("sub"), "{err}");
    assert_eq!(dir.entries(), vec!["sub", "vm.xva"]);
    let err = client
        .vms()
        .export(&vm, VmExportFormat::Xva)
        .send()
        .await
        .unwrap()
        .save_to(dir.path("missing/vm.xva"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

// ---------------------------------------------------------------------
// Imports.

#[tokio::test]
async fn vdi_import_from_a_file_sends_content_length_and_every_byte() {
    let (sim, client) = sim_with(1024, false).await;
    let sr = disk_sr(&sim);
    let dir = TempDir::new("import-file");
    let path = dir.path("disk.raw");
    let data = pseudo_random(5 * 1024 * 1024 + 123, 1);
    std::fs::write(&path, &data).unwrap();
    let reports = Reports::default();

    let body = Body::from_file(&path)
        .await
        .unwrap()
        .on_progress(reports.callback());
    assert_eq!(body.length(), Some(data.len() as u64));
    let created: VdiId = client
        .srs()
        .import_vdi(&sr, body)
        .raw(VdiFormat::from_path(&path) == Some(VdiFormat::Raw))
        .name_label("restored")
        .send()
        .await
        .unwrap();

    let imports = sim.imports();
    assert_eq!(imports.len(), 1);
    let rec = &imports[0];
    assert!(rec.accepted, "{rec:?}");
    assert_eq!(rec.content_length, Some(data.len() as u64));
    assert_eq!(rec.bytes, data.len() as u64);
    assert_eq!(rec.fnv1a64, checksum(&data));
    // The answer is the new VDI's id, the one XO gave the import.
    assert_eq!(rec.object_id.as_deref(), Some(created.as_str()));
    let vdi = sim.object("vdis", created.as_str()).unwrap();
    assert_eq!(vdi["name_label"], "restored");
    assert_eq!(vdi["image_format"], "raw");
    let last = reports.check();
    assert_eq!(
        (last.bytes, last.total),
        (data.len() as u64, Some(data.len() as u64))
    );
}

#[tokio::test]
async fn vm_import_from_a_file_is_accepted() {
    let (sim, client) = sim_with(1024, false).await;
    let pool = PoolId::new(&sim.ids("pools")[0]);
    let dir = TempDir::new("import-xva");
    let path = dir.path("web.xva");
    let data = pseudo_random(700_001, 2);
    std::fs::write(&path, &data).unwrap();
    let before = sim.ids("vms");
    let created: VmId = client
        .pools()
        .import_vm(&pool, Body::from_file(&path).await.unwrap())
        .send()
        .await
        .unwrap();
    let rec = &sim.imports()[0];
    assert!(rec.accepted);
    assert_eq!(rec.content_length, Some(data.len() as u64));
    assert_eq!(
        (rec.bytes, rec.fnv1a64),
        (data.len() as u64, checksum(&data))
    );
    // The answer is the new VM's id.
    assert!(!before.contains(&created.to_string()), "a new VM");
    assert!(sim.object("vms", created.as_str()).is_some());
    assert_eq!(rec.object_id.as_deref(), Some(created.as_str()));
}

#[tokio::test]
async fn vdi_content_import_from_an_async_read_with_its_length() {
    let (sim, client) = sim_with(1024, false).await;
    let vdi = free_vdi(&sim);
    let len = 3 * 1024 * 1024 + 7;
    let reports = Reports::default();
    let body =
        Body::from_reader(Generated::new(len, 3), len as u64).on_progress(reports.callback());
    // 204: nothing to read.
    let () = client
        .vdis()
        .import(&vdi, VdiFormat::Raw, body)
        .send()
        .await
        .unwrap();
    let rec = &sim.imports()[0];
    assert!(rec.accepted);
    assert!(rec.route.starts_with("PUT "), "{}", rec.route);
    assert_eq!(rec.content_length, Some(len as u64));
    assert_eq!(
        (rec.bytes, rec.fnv1a64),
        (len as u64, checksum(&pseudo_random(len, 3)))
    );
    let last = reports.check();
    assert_eq!((last.bytes, last.total), (len as u64, Some(len as u64)));
}

#[tokio::test]
async fn in_memory_and_stream_bodies_carry_their_length() {
    let (sim, client) = sim_with(1024, false).await;
    let vdi = free_vdi(&sim);
    let data = pseudo_random(600_000, 4);
    client
        .vdis()
        .import(&vdi, VdiFormat::Vhd, data.clone())
        .send()
        .await
        .unwrap();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        data.chunks(70_000).map(|c| Ok(c.to_vec())).collect();
    let body = Body::from_stream(futures::stream::iter(chunks), Some(data.len() as u64));
    client
        .vdis()
        .import(&vdi, VdiFormat::Vhd, body)
        .send()
        .await
        .unwrap();
    for rec in sim.imports() {
        assert!(rec.accepted);
        assert_eq!(rec.content_length, Some(data.len() as u64));
        assert_eq!(rec.fnv1a64, checksum(&data));
    }
    assert_eq!(sim.imports().len(), 2);
}

#[cfg(unix)]
#[tokio::test]
async fn unknown_length_is_refused_before_sending() {
    let (sim, client) = sim_with(1024, false).await;
    let sr = disk_sr(&sim);
    let before = sim.request_count();
    // A character device: no length to announce.
    let body = Body::from_file("/dev/zero").await.unwrap();
    assert_eq!(body.length(), None);
    let err = client.srs().import_vdi(&sr, body).send().await.unwrap_err();
    match &err {
        Error::InvalidArgument { name, reason, .. } => {
            assert_eq!(name, "body");
            assert!(reason.contains("Content-Length"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_invalid_input());
    assert_eq!(err.tool(), Some("import_vdi_to_sr"));
    assert_eq!(sim.request_count(), before, "nothing was sent");
    assert!(sim.imports().is_empty());
}

#[tokio::test]
async fn chunked_upload_is_an_explicit_choice_and_xo_refuses_it_for_vdis() {
    let (sim, client) = sim_with(1024, false).await;
    let sr = disk_sr(&sim);
    let pool = PoolId::new(&sim.ids("pools")[0]);
    let len = 400_000;

    // An XVA import takes a chunked body.
    let body = Body::from_reader_chunked(Generated::new(len, 5));
    assert_eq!(body.length(), None);
    client.pools().import_vm(&pool, body).send().await.unwrap();
    let rec = &sim.imports()[0];
    assert!(rec.accepted);
    assert_eq!(rec.content_length, None);
    assert_eq!(
        (rec.bytes, rec.fnv1a64),
        (len as u64, checksum(&pseudo_random(len, 5)))
    );

    // A VDI import does not: XO answers 500 (documented on `Body`).
    let err = client
        .srs()
        .import_vdi(&sr, Body::from_reader_chunked(Generated::new(len, 6)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500), "{err}");
    assert!(!sim.imports()[1].accepted);
}

#[tokio::test]
async fn a_source_shorter_than_its_length_fails_the_call() {
    let (sim, client) = sim_with(1024, false).await;
    let vdi = free_vdi(&sim);
    let err = client
        .vdis()
        .import(
            &vdi,
            VdiFormat::Raw,
            Body::from_reader(Generated::new(1000, 1), 5000),
        )
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::InvalidArgument { name, reason, .. } => {
            assert_eq!(name, "body");
            assert!(reason.contains("1000 of the 5000"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(sim.imports().iter().all(|r| !r.accepted));

    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![1; 600]), Ok(vec![2; 600])];
    let err = client
        .vdis()
        .import(
            &vdi,
            VdiFormat::Raw,
            Body::from_stream(futures::stream::iter(chunks), Some(1000)),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { reason, .. } if reason.contains("more than")),
        "{err:?}"
    );
    assert!(sim.imports().iter().all(|r| !r.accepted));
}

#[tokio::test]
async fn an_unreadable_source_is_an_io_error() {
    let (sim, client) = sim_with(1024, false).await;
    let vdi = free_vdi(&sim);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(vec![1; 1000]),
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "disk says no",
        )),
    ];
    let err = client
        .vdis()
        .import(
            &vdi,
            VdiFormat::Raw,
            Body::from_stream(futures::stream::iter(chunks), Some(5000)),
        )
        .send()
        .await
        .unwrap_err();
    match err {
        Error::Io(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
            assert!(e.to_string().contains("disk says no"));
        }
        other => panic!("{other:?}"),
    }
    let missing = Body::from_file("/nonexistent/disk.vhd").await.unwrap_err();
    assert!(
        missing.to_string().contains("/nonexistent/disk.vhd"),
        "{missing}"
    );
}

// ---------------------------------------------------------------------
// Timeouts.

#[tokio::test]
async fn a_long_upload_that_keeps_moving_is_not_an_idle_timeout() {
    // reqwest's read timeout runs from the request's start to the answer's
    // head: the SDK must not apply it to uploads.
    let server = support::Server::always(support::Reply::status(204)).await;
    let client = xo_sdk::Client::builder_for(&support::API, server.url())
        .token("tok")
        .read_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    // 30 chunks, one every 50 ms: far longer than the timeout in total,
    // never idle for long.
    let slow = futures::stream::unfold(0u32, |i| async move {
        if i == 30 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        Some((Ok::<_, std::io::Error>(vec![7u8; 100]), i + 1))
    });
    support::call(&client, &support::IMPORT_VDI, |r| {
        r.path_param("id", &"v")
            .raw_body(Body::from_stream(slow, Some(3000)));
    })
    .send_json::<Value>()
    .await
    .expect("a moving upload completes");
    let req = &server.requests()[0];
    assert_eq!(req.body.len(), 3000);
    assert_eq!(req.header("content-length"), Some("3000"));
}

#[tokio::test]
async fn an_upload_the_server_stops_reading_is_a_write_idle_timeout() {
    // The server reads the head, then nothing: the socket buffers fill up
    // and the upload stalls.
    let addr = raw_server(|sock, _| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(sock);
    })
    .await;
    let client = xo_sdk::Client::builder(format!("http://{addr}"))
        .token("tok")
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let len = 1u64 << 30;
    let err = client
        .vdis()
        .import(
            VdiId::new("v"),
            VdiFormat::Raw,
            Body::from_reader(tokio::io::repeat(1).take(len), len),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                what: "write idle",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn no_answer_after_an_upload_is_a_read_idle_timeout() {
    let server = support::Server::always(support::Reply::Hang).await;
    let client = xo_sdk::Client::builder_for(&support::API, server.url())
        .token("tok")
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = support::call(&client, &support::IMPORT_VM, |r| {
        r.path_param("id", &"p")
            .raw_body(Body::from(vec![1u8; 1000]));
    })
    .send_json::<Value>()
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                what: "read idle",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
}

// ---------------------------------------------------------------------
// Cancellation.

/// What an endless download server saw of its client.
#[derive(Default)]
struct Endless {
    sent: AtomicU64,
    closed: AtomicBool,
}

/// A server that streams bytes until the client goes away.
async fn endless_server(seen: Arc<Endless>) -> SocketAddr {
    raw_server(move |mut sock, _| {
        let seen = seen.clone();
        async move {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1099511627776\r\n\r\n";
            if sock.write_all(head.as_bytes()).await.is_err() {
                seen.closed.store(true, Ordering::SeqCst);
                return;
            }
            let chunk = vec![0x5a; 64 * 1024];
            loop {
                if sock.write_all(&chunk).await.is_err() {
                    seen.closed.store(true, Ordering::SeqCst);
                    return;
                }
                seen.sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
        }
    })
    .await
}

#[tokio::test]
async fn dropping_a_download_closes_the_connection() {
    let seen = Arc::new(Endless::default());
    let addr = endless_server(seen.clone()).await;
    let client = client_for(addr);
    let mut stream = client
        .vms()
        .export(VmId::new("vm1"), VmExportFormat::Xva)
        .send()
        .await
        .unwrap();
    let mut got = 0;
    while got < 4 * 1024 * 1024 {
        got += stream.next().await.unwrap().unwrap().len();
    }
    assert!(!seen.closed.load(Ordering::SeqCst));
    drop(stream);
    wait_until("the server sees the connection close", || {
        seen.closed.load(Ordering::SeqCst)
    })
    .await;
    // It stopped sending: the count no longer moves.
    let stopped = seen.sent.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(seen.sent.load(Ordering::SeqCst), stopped);
}

#[tokio::test]
async fn dropping_save_to_stops_the_transfer_and_removes_the_temporary_file() {
    let seen = Arc::new(Endless::default());
    let addr = endless_server(seen.clone()).await;
    let client = client_for(addr);
    let dir = TempDir::new("cancel-save");
    let dest = dir.path("vm.xva");
    let stream = client
        .vms()
        .export(VmId::new("vm1"), VmExportFormat::Xva)
        .send()
        .await
        .unwrap();
    let task = tokio::spawn({
        let dest = dest.clone();
        async move { stream.save_to(&dest).await }
    });
    wait_until("the download is under way", || {
        seen.sent.load(Ordering::SeqCst) > 8 * 1024 * 1024 && dir.entries().len() == 1
    })
    .await;
    assert!(
        dir.entries()[0].starts_with(".vm.xva.") && dir.entries()[0].ends_with(".part"),
        "{:?}",
        dir.entries()
    );
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    wait_until("the server sees the connection close", || {
        seen.closed.load(Ordering::SeqCst)
    })
    .await;
    assert!(!dest.exists());
    assert_eq!(
        dir.entries(),
        Vec::<String>::new(),
        "the temporary file is removed"
    );
}

/// What an upload sink server saw.
#[derive(Default)]
struct Sink {
    received: AtomicU64,
    ended_early: AtomicBool,
}

#[tokio::test]
async fn dropping_an_upload_closes_the_connection() {
    let seen = Arc::new(Sink::default());
    let addr = raw_server({
        let seen = seen.clone();
        move |mut sock, early| {
            let seen = seen.clone();
            async move {
                seen.received
                    .fetch_add(early.len() as u64, Ordering::SeqCst);
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => {
                            seen.ended_early.store(true, Ordering::SeqCst);
                            return;
                        }
                        Ok(n) => {
                            seen.received.fetch_add(n as u64, Ordering::SeqCst);
                        }
                    }
                }
            }
        }
    })
    .await;
    let client = client_for(addr);
    let len = 1u64 << 40;
    let reports = Reports::default();
    let body =
        Body::from_reader(tokio::io::repeat(3).take(len), len).on_progress(reports.callback());
    let task = tokio::spawn(async move {
        client
            .vdis()
            .import(VdiId::new("vdi1"), VdiFormat::Raw, body)
            .send()
            .await
    });
    wait_until("the upload is under way", || {
        seen.received.load(Ordering::SeqCst) > 8 * 1024 * 1024
    })
    .await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    wait_until("the server sees the connection close", || {
        seen.ended_early.load(Ordering::SeqCst)
    })
    .await;
    assert!(seen.received.load(Ordering::SeqCst) < len);
    let last = reports.check();
    assert_eq!(last.total, Some(len));
    assert!(last.bytes < len);
}

#[test]
fn bodies_and_their_futures_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Body>();
    send::<xo_sdk::ByteStream>();
    send::<xo_sdk::runtime::ByteStreamReader>();
    fn send_future<F: std::future::Future + Send>(_: &F) {}
    // Futures are inert until polled: building them checks their type.
    fn check_save(s: xo_sdk::ByteStream) {
        send_future(&s.save_to(Path::new("x")));
    }
    let _ = check_save;
    let file_fut = Body::from_file("x");
    send_future(&file_fut);
}

// ---------------------------------------------------------------------
// TLS: uploads go through a second, lazily built client, which must carry
// the same TLS settings.

const CA_PEM: &[u8] = support::TEST_CA_PEM;

/// An HTTPS server that answers 204 to every request and records the body
/// lengths it received.
async fn tls_upload_server() -> (u16, Arc<Mutex<Vec<usize>>>) {
    let acceptor = support::test_tls_acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut reader = tokio::io::BufReader::new(tls);
                while let Some(req) = support::read_request(&mut reader).await {
                    seen.lock().unwrap().push(req.body.len());
                    let reply = "HTTP/1.1 204 No Content\r\n\r\n";
                    if reader.get_mut().write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                    let _ = reader.get_mut().flush().await;
                }
            });
        }
    });
    (port, bodies)
}

#[tokio::test]
async fn uploads_over_tls_use_the_client_s_trust_settings() {
    let (port, bodies) = tls_upload_server().await;
    let len = 2 * 1024 * 1024 + 1;
    let trusted = xo_sdk::Client::builder(format!("https://localhost:{port}"))
        .token("t")
        .add_root_certificate_pem(CA_PEM)
        .build()
        .unwrap();
    trusted
        .vdis()
        .import(
            VdiId::new("vdi1"),
            VdiFormat::Raw,
            Body::from_reader(Generated::new(len, 9), len as u64),
        )
        .send()
        .await
        .expect("the extra CA is trusted by the upload client too");
    assert_eq!(*bodies.lock().unwrap(), vec![len]);

    // Without the CA the upload client refuses the server, like the other.
    let untrusting = xo_sdk::Client::builder(format!("https://localhost:{port}"))
        .token("t")
        .build()
        .unwrap();
    let err = untrusting
        .vdis()
        .import(
            VdiId::new("vdi1"),
            VdiFormat::Raw,
            Body::from(vec![0u8; 1000]),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    assert!(
        err.to_string().to_ascii_lowercase().contains("certificate"),
        "{err}"
    );
    assert_eq!(bodies.lock().unwrap().len(), 1, "nothing more was received");
}
