//! Behaviour of Xen Orchestra's binary transfers, over the generated
//! transfer options ([`Compression`], [`VmExportFormat`], [`VdiFormat`], all
//! declared as data in the API description's overlay).
//!
//! One naming rule covers every transfer: `<resource>().export(id, format)`
//! downloads (VMs, VM snapshots, VM templates, VDIs, VDI snapshots),
//! `vdis().import(id, format, body)` replaces a disk's content, and an
//! import that creates an object is `<parent>().import_<object>(...)`
//! (`pools().import_vm`, `srs().import_vdi`). Compression has one setter,
//! `.compress(Compression)`, on the exports that XO can compress.
//!
//! How XO transfers behave (and what the runtime does about it):
//!
//! * **Exports** (`GET /vms|vm-snapshots|vm-templates/{id}.{xva|ova}`,
//!   `GET /vdis|vdi-snapshots/{id}.{vhd|raw}`, host logs and audit log)
//!   stream `application/octet-stream`, usually without `Content-Length`:
//!   [`ByteStream::content_length`](crate::ByteStream::content_length) is
//!   then `None` and progress has no total. Only XVA exports can be
//!   compressed ([`Compression`]).
//! * **Imports** take a raw body ([`Body`](crate::Body)). XO requires a
//!   `Content-Length` for VDI imports (`POST /srs/{id}/vdis`,
//!   `PUT /vdis/{id}.{vhd|raw}`) and answers 500 to a chunked upload, after
//!   reading it; every `Body` has a length unless chunked encoding was
//!   chosen explicitly, so this cannot happen by accident. An XVA import
//!   (`POST /pools/{id}/vms`) runs synchronously and answers 201 with the
//!   new VM's id.
//! * Transfers can take hours: there is no total timeout, only the idle
//!   timeout; dropping the future or the stream stops the transfer.
//!
//! ```no_run
//! # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
//! use xo_sdk::prelude::*;
//!
//! // Back a VM up to disk, zstd-compressed; nothing is left at the
//! // destination if the transfer fails.
//! let vm = VmId::new("0b7c2b5c-9f6a-4c1e-8d2f-3a4b5c6d7e8f");
//! client
//!     .vms()
//!     .export(&vm, VmExportFormat::Xva)
//!     .compress(Compression::Zstd)
//!     .send()
//!     .await?
//!     .save_to("/backups/web.xva.zst")
//!     .await?;
//!
//! // Import a raw disk image into an SR, with progress.
//! let body = Body::from_file("disk.img")
//!     .await?
//!     .on_progress(|p| eprintln!("{:.0} %", p.fraction().unwrap_or(0.0) * 100.0));
//! let sr = SrId::new("5e2f9a1c-7b3d-4e8a-9c0f-1d2e3f4a5b6c");
//! let created: VdiId = client
//!     .srs()
//!     .import_vdi(&sr, body)
//!     .raw(true)
//!     .name_label("restored disk")
//!     .send()
//!     .await?;
//! # let _ = created;
//! # Ok(())
//! # }
//! ```

use std::path::Path;

use crate::types::{Compression, VdiFormat, VmExportFormat};

impl Compression {
    /// The usual file name suffix (`.gz`, `.zst`); empty for a value this
    /// SDK does not know.
    pub fn suffix(&self) -> &'static str {
        match self {
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
            _ => "",
        }
    }
}

impl VmExportFormat {
    /// Whether XO can compress this format (only XVA: XO answers 422 to a
    /// compressed OVA export).
    pub fn supports_compression(&self) -> bool {
        matches!(self, VmExportFormat::Xva)
    }
}

impl VdiFormat {
    /// The format a file name suggests: `.vhd`, or `.raw`/`.img` for raw
    /// images (case-insensitive); `None` for anything else.
    ///
    /// ```
    /// use xo_sdk::prelude::*;
    /// assert_eq!(VdiFormat::from_path("backup/disk0.VHD"), Some(VdiFormat::Vhd));
    /// assert_eq!(VdiFormat::from_path("disk.img"), Some(VdiFormat::Raw));
    /// assert_eq!(VdiFormat::from_path("disk.qcow2"), None);
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Option<VdiFormat> {
        let ext = path.as_ref().extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "vhd" => Some(VdiFormat::Vhd),
            "raw" | "img" => Some(VdiFormat::Raw),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for c in [Compression::Gzip, Compression::Zstd] {
            assert_eq!(Compression::from_wire(c.as_str()), c);
        }
        assert_eq!("true".parse(), Ok(Compression::Unknown("true".into())));
        assert_eq!(String::from(VmExportFormat::Ova), "ova");
        assert!(VmExportFormat::Xva.supports_compression());
        assert!(!VmExportFormat::Ova.supports_compression());
        assert_eq!(Compression::Zstd.suffix(), ".zst");
        assert_eq!(VdiFormat::Raw.as_str(), "raw");
    }
}
