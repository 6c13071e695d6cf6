//! Exports (deterministic streamed bytes, no Content-Length by default)
//! and imports (bodies consumed and recorded; VDI imports need a length).

mod common;

use common::{env, env_with};
use futures::StreamExt;
use reqwest::Method;
use xo_sim::{Sim, export_bytes, export_key};

fn fnv(bytes: &[u8]) -> u64 {
    xo_sim::state::fnv1a64(xo_sim::state::FNV_OFFSET, bytes)
}

#[tokio::test]
async fn exports_stream_deterministic_bytes() {
    let e = env_with(Sim::builder().export_size(300_000)).await;
    let vm = e.vm("web-01");
    let r = e.get(&format!("/vms/{vm}.xva")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    assert!(
        r.header("content-length").is_none(),
        "no Content-Length by default"
    );
    assert_eq!(r.body.len(), 300_000);
    assert_eq!(
        &r.body[..],
        &export_bytes(&export_key(&vm, "xva", None), 300_000)[..]
    );

    let z = e.get(&format!("/vms/{vm}.xva?compress=zstd")).await;
    assert_eq!(&z.body[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
    let g = e.get(&format!("/vms/{vm}.xva?compress=gzip")).await;
    assert_eq!(&g.body[..2], &[0x1f, 0x8b]);
    assert_eq!(
        e.get(&format!("/vms/{vm}.ova?compress=gzip")).await.status,
        422
    );
    assert_eq!(
        e.get(&format!("/vms/{vm}.xva?compress=lz4")).await.status,
        422
    );
    assert_eq!(e.get(&format!("/vms/{vm}.qcow2")).await.status, 422);
    assert_eq!(e.get("/vms/nope.xva").await.status, 404);

    let snap = e.sim.ids("vm-snapshots")[0].clone();
    assert_eq!(
        e.get(&format!("/vm-snapshots/{snap}.ova")).await.body.len(),
        300_000
    );
    let tpl = e.sim.ids("vm-templates")[0].clone();
    assert_eq!(e.get(&format!("/vm-templates/{tpl}.xva")).await.status, 200);
    let vdi = e.sim.ids("vdis")[0].clone();
    let raw = e.get(&format!("/vdis/{vdi}.raw")).await;
    assert_eq!(
        fnv(&raw.body),
        fnv(&export_bytes(&export_key(&vdi, "raw", None), 300_000))
    );
    let vs = e.sim.ids("vdi-snapshots")[0].clone();
    assert_eq!(e.get(&format!("/vdi-snapshots/{vs}.vhd")).await.status, 200);

    let host = e.sim.ids("hosts")[0].clone();
    let audit = e.get(&format!("/hosts/{host}/audit.txt")).await;
    assert!(
        audit
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(audit.text().lines().count() > 1);
    let logs = e.get(&format!("/hosts/{host}/logs.tgz")).await;
    assert_eq!(&logs.body[..2], &[0x1f, 0x8b]);
}

#[tokio::test]
async fn export_with_content_length_option() {
    let e = env_with(Sim::builder().export_size(4096).export_content_length(true)).await;
    let vm = e.vm("web-01");
    let r = e.get(&format!("/vms/{vm}.xva")).await;
    assert_eq!(r.header("content-length").as_deref(), Some("4096"));
    assert_eq!(r.body.len(), 4096);
}

#[tokio::test]
async fn imports_are_recorded() {
    let e = env().await;
    let pool = e.sim.find_by_name("pools", "Lab").unwrap();
    let pool_id = pool["id"].as_str().unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    // XVA import: streamed (chunked) body accepted
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        data.chunks(10_000).map(|c| Ok(c.to_vec())).collect();
    let r = e
        .send(
            e.req(Method::POST, &format!("/pools/{pool_id}/vms"))
                .header("content-type", "application/octet-stream")
                .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks))),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let vm = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location").unwrap(), format!("/rest/v0/vms/{vm}"));
    assert_eq!(e.sim.object("vms", &vm).unwrap()["power_state"], "Halted");
    let rec = e.sim.imports().pop().unwrap();
    assert_eq!(rec.bytes, 100_000);
    assert_eq!(rec.fnv1a64, fnv(&data));
    assert_eq!(rec.object_id.as_deref(), Some(vm.as_str()));
    assert!(rec.accepted);
    assert_eq!(
        e.send(
            e.req(Method::POST, &format!("/pools/{pool_id}/vms?sr=nope"))
                .body(data.clone())
        )
        .await
        .status,
        404
    );

    // VDI into an SR, with a Content-Length
    let sr = pool["default_SR"].as_str().unwrap();
    let r = e
        .send(
            e.req(
                Method::POST,
                &format!("/srs/{sr}/vdis?name_label=disk&raw=true"),
            )
            .header("content-type", "application/octet-stream")
            .body(data.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let vdi = r.json()["id"].as_str().unwrap().to_string();
    let v = e.sim.object("vdis", &vdi).unwrap();
    assert_eq!(v["name_label"], "disk");
    assert_eq!(v["size"], 100_000);
    assert_eq!(
        e.sim.imports().last().unwrap().content_length,
        Some(100_000)
    );

    // PUT content: 204, and a chunked upload is a 500
    let r = e
        .send(
            e.req(Method::PUT, &format!("/vdis/{vdi}.raw"))
                .body(data[..5000].to_vec()),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let rec = e.sim.imports().pop().unwrap();
    assert_eq!((rec.bytes, rec.fnv1a64), (5000, fnv(&data[..5000])));
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(vec![1u8; 10])]);
    let r = e
        .send(
            e.req(Method::PUT, &format!("/vdis/{vdi}.vhd"))
                .body(reqwest::Body::wrap_stream(stream)),
        )
        .await;
    assert_eq!(r.status, 500);
    assert!(!e.sim.imports().last().unwrap().accepted);
    assert_eq!(
        e.send(
            e.req(Method::PUT, &format!("/vdis/{vdi}.qcow2"))
                .body(vec![1u8])
        )
        .await
        .status,
        422
    );
    // the stream of an export can be read incrementally
    let resp = e
        .req(Method::GET, &format!("/vdis/{vdi}.raw"))
        .send()
        .await
        .unwrap();
    let mut s = resp.bytes_stream();
    let mut n = 0;
    while let Some(c) = s.next().await {
        n += c.unwrap().len();
    }
    assert_eq!(n as u64, e.sim.config().export_size);
}
