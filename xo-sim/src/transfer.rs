//! Binary transfers: exports stream deterministic bytes, imports consume
//! and record their bodies.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::json;

use crate::Shared;
use crate::error::{XoError, XoResult};
use crate::objects;
use crate::server::{Ctx, authorize, created, no_content};
use crate::state::{FNV_OFFSET, ImportRecord, fnv1a64, splitmix};

const CHUNK: usize = 64 * 1024;

/// Collections with `/{id}.{format}` routes.
pub(crate) fn is_transfer_coll(coll: &str) -> bool {
    matches!(
        coll,
        "vms" | "vm-snapshots" | "vm-templates" | "vdis" | "vdi-snapshots"
    )
}

/// The key that seeds an export's bytes: `<id>.<format>` plus `+<compress>`.
pub fn export_key(id: &str, format: &str, compress: Option<&str>) -> String {
    match compress {
        Some(c) => format!("{id}.{format}+{c}"),
        None => format!("{id}.{format}"),
    }
}

fn magic(key: &str) -> &'static [u8] {
    if key.ends_with("+gzip") {
        &[0x1f, 0x8b]
    } else if key.ends_with("+zstd") {
        &[0x28, 0xb5, 0x2f, 0xfd]
    } else {
        &[]
    }
}

struct Gen {
    rng: u64,
    produced: u64,
    total: u64,
    magic: &'static [u8],
}

impl Gen {
    fn new(key: &str, total: u64) -> Self {
        Gen {
            rng: fnv1a64(FNV_OFFSET, key.as_bytes()),
            produced: 0,
            total,
            magic: magic(key),
        }
    }

    fn next_chunk(&mut self) -> Option<Vec<u8>> {
        if self.produced >= self.total {
            return None;
        }
        let n = (self.total - self.produced).min(CHUNK as u64) as usize;
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&splitmix(&mut self.rng).to_le_bytes());
        }
        out.truncate(n);
        for (i, b) in self.magic.iter().enumerate() {
            let pos = i as u64;
            if pos >= self.produced && pos < self.produced + n as u64 {
                out[(pos - self.produced) as usize] = *b;
            }
        }
        self.produced += n as u64;
        Some(out)
    }
}

/// The exact bytes an export with this key and size streams.
pub fn export_bytes(key: &str, size: u64) -> Vec<u8> {
    let mut g = Gen::new(key, size);
    let mut out = Vec::with_capacity(size.min(1 << 30) as usize);
    while let Some(c) = g.next_chunk() {
        out.extend_from_slice(&c);
    }
    out
}

fn stream_response(
    key: String,
    size: u64,
    with_length: bool,
    ct: &'static str,
    filename: &str,
) -> Response {
    let generator = Gen::new(&key, size);
    let stream = futures::stream::unfold(generator, |mut g| async move {
        g.next_chunk()
            .map(|c| (Ok::<Bytes, Infallible>(Bytes::from(c)), g))
    });
    let mut r = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if with_length {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    r
}

/// `GET /vms|vm-snapshots|vm-templates/{id}.{xva|ova}`, `GET /vdis|vdi-snapshots/{id}.{vhd|raw}`
pub(crate) fn export(
    sh: &Shared,
    ctx: &Ctx,
    coll: &str,
    id: &str,
    fmt: &str,
) -> XoResult<Response> {
    let vm_like = matches!(coll, "vms" | "vm-snapshots" | "vm-templates");
    let formats: &[&str] = if vm_like {
        &["ova", "xva"]
    } else {
        &["raw", "vhd"]
    };
    if !formats.contains(&fmt) {
        return Err(XoError::invalid_field(
            "format",
            format!("should be one of the following; [{}]", formats.join(",")),
            json!(fmt),
        ));
    }
    let compress = match ctx.query.get("compress") {
        None => None,
        Some(c) if !vm_like => {
            return Err(XoError::invalid_field(
                "compress",
                "not supported for disks",
                json!(c),
            ));
        }
        Some(c) if fmt != "xva" => {
            return Err(XoError::invalid_parameters(
                "compression is only supported for XVA exports",
                json!({ "compress": c, "format": fmt }),
            ));
        }
        Some(c @ ("gzip" | "zstd")) => Some(c.to_string()),
        Some("true") => Some("gzip".to_string()),
        Some("false") => None,
        Some(c) => {
            return Err(XoError::invalid_field(
                "compress",
                "should be one of the following; [gzip,zstd]",
                json!(c),
            ));
        }
    };
    let name = {
        let store = sh.lock();
        let obj = store.need(coll, id)?;
        authorize(
            &store,
            ctx,
            coll,
            if vm_like { "export" } else { "export-content" },
            Some(obj),
        )?;
        obj["name_label"].as_str().unwrap_or(id).to_string()
    };
    let key = export_key(id, fmt, compress.as_deref());
    let suffix = match compress.as_deref() {
        Some("gzip") => ".gz",
        Some("zstd") => ".zst",
        _ => "",
    };
    Ok(stream_response(
        key,
        sh.config.export_size,
        sh.config.export_content_length,
        "application/octet-stream",
        &format!("{name}.{fmt}{suffix}"),
    ))
}

/// `GET /hosts/{id}/audit.txt`
pub(crate) fn host_audit(sh: &Shared, ctx: &Ctx, id: &str) -> XoResult<Response> {
    let store = sh.lock();
    let h = store.need("hosts", id)?;
    authorize(&store, ctx, "hosts", "export", Some(h))?;
    let name = h["name_label"].as_str().unwrap_or(id);
    let mut text = String::new();
    for i in 0..20u64 {
        let ts = objects::iso_date(objects::T0 - 3600 * (20 - i));
        text.push_str(&format!(
            "{ts} ALLOWED|{name}|root|10.0.0.5|session.login_with_password|OpaqueRef:{}\n",
            crate::state::uuid_of(&format!("audit:{id}:{i}"))
        ));
    }
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(r)
}

/// `GET /hosts/{id}/logs.tgz`
pub(crate) fn host_logs(sh: &Shared, ctx: &Ctx, id: &str) -> XoResult<Response> {
    {
        let store = sh.lock();
        let h = store.need("hosts", id)?;
        authorize(&store, ctx, "hosts", "export:logs", Some(h))?;
    }
    Ok(stream_response(
        format!("{id}.logs+gzip"),
        sh.config.export_size.min(256 * 1024),
        false,
        "application/gzip",
        &format!("{id}-logs.tgz"),
    ))
}

struct Received {
    bytes: u64,
    hash: u64,
}

async fn consume(body: Body) -> Result<Received, String> {
    let mut stream = body.into_data_stream();
    let mut r = Received {
        bytes: 0,
        hash: FNV_OFFSET,
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        r.bytes += chunk.len() as u64;
        r.hash = fnv1a64(r.hash, &chunk);
    }
    Ok(r)
}

fn content_length(ctx: &Ctx) -> Option<u64> {
    ctx.headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn record(sh: &Shared, rec: ImportRecord) {
    sh.lock().imports.push(rec);
}

/// `POST /pools/{id}/vms[?sr=]`: XVA import, synchronous.
pub(crate) async fn import_vm(
    sh: &Arc<Shared>,
    ctx: &Ctx,
    pool: &str,
    body: Body,
) -> XoResult<Response> {
    let route = format!("POST {}", ctx.path);
    let sr = {
        let store = sh.lock();
        let p = store.need("pools", pool)?;
        authorize(&store, ctx, "pools", "create:vm", Some(p))?;
        match ctx.query.get("sr") {
            Some(sr) => {
                let s = store.need("srs", sr)?;
                if s["$pool"] != pool {
                    return Err(XoError::invalid_parameters(
                        "SR does not belong to this pool",
                        json!({ "sr": sr, "pool": pool }),
                    ));
                }
                sr.to_string()
            }
            None => p["default_SR"].as_str().unwrap_or_default().to_string(),
        }
    };
    let cl = content_length(ctx);
    let rec = consume(body).await;
    let mut r = ImportRecord {
        route,
        target: pool.to_string(),
        object_id: None,
        bytes: 0,
        fnv1a64: FNV_OFFSET,
        content_length: cl,
        accepted: false,
    };
    let got = match rec {
        Ok(g) => g,
        Err(e) => {
            record(sh, r);
            return Err(XoError::bad_request(format!(
                "could not read the upload: {e}"
            )));
        }
    };
    r.bytes = got.bytes;
    r.fnv1a64 = got.hash;
    if got.bytes == 0 {
        record(sh, r);
        return Err(XoError::internal("invalid XVA: empty stream"));
    }
    let id = {
        let mut store = sh.lock();
        let n = store.list("vms").len();
        let id = store.new_uuid();
        let v = objects::vm(&objects::VmSpec {
            id: id.clone(),
            pool: pool.to_string(),
            ty: "VM",
            name: format!("Imported VM {n}"),
            description: "Imported from an XVA stream".into(),
            power_state: "Halted",
            host: None,
            cpus: 1,
            memory: 1 << 30,
            tags: Vec::new(),
            os: "",
            ip: None,
            created: crate::server::now_s(),
        });
        store.insert("vms", v);
        let vdi = store.new_uuid();
        store.insert(
            "vdis",
            objects::vdi(&vdi, pool, &sr, "Imported disk", "", got.bytes, &[], None),
        );
        store.push_ref("srs", &sr, "VDIs", &vdi);
        let vbd = store.new_uuid();
        store.insert(
            "vbds",
            objects::vbd(&vbd, pool, &id, Some(&vdi), 0, false, false),
        );
        store.push_ref("vms", &id, "$VBDs", &vbd);
        store.push_ref("vdis", &vdi, "$VBDs", &vbd);
        id
    };
    r.object_id = Some(id.clone());
    r.accepted = true;
    record(sh, r);
    Ok(created("vms", &id))
}

fn require_length(sh: &Shared, ctx: &Ctx, target: &str) -> XoResult<u64> {
    match content_length(ctx) {
        Some(n) => Ok(n),
        None => {
            record(
                sh,
                ImportRecord {
                    route: format!("{} {}", ctx.method, ctx.path),
                    target: target.to_string(),
                    object_id: None,
                    bytes: 0,
                    fnv1a64: FNV_OFFSET,
                    content_length: None,
                    accepted: false,
                },
            );
            Err(XoError::internal(
                "a VDI import requires a Content-Length (chunked uploads are not supported)",
            ))
        }
    }
}

/// `POST /srs/{id}/vdis?name_label&name_description&raw=true`
pub(crate) async fn import_vdi_into_sr(
    sh: &Arc<Shared>,
    ctx: &Ctx,
    sr: &str,
    body: Body,
) -> XoResult<Response> {
    let raw = ctx.query.flag("raw")?;
    let pool = {
        let store = sh.lock();
        let s = store.need("srs", sr)?;
        authorize(&store, ctx, "srs", "import:vdi", Some(s))?;
        if s["content_type"] == "iso" && !raw {
            return Err(XoError::invalid_parameters(
                "only raw imports are possible into an ISO SR",
                json!({ "sr": sr }),
            ));
        }
        s["$pool"].as_str().unwrap_or_default().to_string()
    };
    let cl = require_length(sh, ctx, sr)?;
    let got = consume(body)
        .await
        .map_err(|e| XoError::bad_request(format!("could not read the upload: {e}")))?;
    let id = {
        let mut store = sh.lock();
        let id = store.new_uuid();
        let mut v = objects::vdi(
            &id,
            &pool,
            sr,
            ctx.query.get("name_label").unwrap_or("Imported disk"),
            ctx.query.get("name_description").unwrap_or(""),
            got.bytes,
            &[],
            None,
        );
        v["image_format"] = json!(if raw { "raw" } else { "vhd" });
        v["usage"] = json!(got.bytes);
        store.insert("vdis", v);
        store.push_ref("srs", sr, "VDIs", &id);
        store.imports.push(ImportRecord {
            route: format!("POST {}", ctx.path),
            target: sr.to_string(),
            object_id: Some(id.clone()),
            bytes: got.bytes,
            fnv1a64: got.hash,
            content_length: Some(cl),
            accepted: true,
        });
        id
    };
    Ok(created("vdis", &id))
}

/// `PUT /vdis/{id}.{vhd|raw}`
pub(crate) async fn import_vdi_content(
    sh: &Arc<Shared>,
    ctx: &Ctx,
    id: &str,
    fmt: &str,
    body: Body,
) -> XoResult<Response> {
    if !matches!(fmt, "vhd" | "raw") {
        return Err(XoError::invalid_field(
            "format",
            "should be one of the following; [raw,vhd]",
            json!(fmt),
        ));
    }
    {
        let store = sh.lock();
        let v = store.need("vdis", id)?;
        authorize(&store, ctx, "vdis", "import-content", Some(v))?;
        let in_use = v["$VBDs"].as_array().into_iter().flatten().any(|b| {
            b.as_str()
                .and_then(|b| store.get("vbds", b))
                .is_some_and(|b| b["attached"] == true)
        });
        if in_use {
            return Err(XoError::xapi(
                "VDI_IN_USE",
                vec![v["_xapiRef"].clone(), json!("import")],
            ));
        }
    }
    let cl = require_length(sh, ctx, id)?;
    let got = consume(body)
        .await
        .map_err(|e| XoError::bad_request(format!("could not read the upload: {e}")))?;
    let mut store = sh.lock();
    let _ = store.update("vdis", id, |o| {
        o.insert("usage".into(), json!(got.bytes));
        let size = o["size"].as_u64().unwrap_or(0);
        if got.bytes > size {
            o.insert("size".into(), json!(got.bytes));
        }
    });
    store.imports.push(ImportRecord {
        route: format!("PUT {}", ctx.path),
        target: id.to_string(),
        object_id: Some(id.to_string()),
        bytes: got.bytes,
        fnv1a64: got.hash,
        content_length: Some(cl),
        accepted: true,
    });
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let a = export_bytes("x.xva", 200_000);
        let b = export_bytes("x.xva", 200_000);
        assert_eq!(a, b);
        assert_eq!(a.len(), 200_000);
        let z = export_bytes("x.xva+zstd", 10);
        assert_eq!(&z[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert_ne!(export_bytes("y.xva", 16), export_bytes("x.xva", 16));
    }
}
