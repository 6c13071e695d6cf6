//! Typed options of Xen Orchestra's binary transfers, where the DADL has
//! free strings: export compression and file formats.
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
//! use xo_sdk::xo::VdiImportFormat;
//!
//! // Back a VM up to disk, zstd-compressed; nothing is left at the
//! // destination if the transfer fails.
//! let vm = VmId::new("0b7c2b5c-9f6a-4c1e-8d2f-3a4b5c6d7e8f");
//! client
//!     .vms()
//!     .export_xva(&vm)
//!     .compression(Compression::Zstd)
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
//!     .import_vdi_to(&sr, body)
//!     .format(VdiFormat::Raw)
//!     .name_label("restored disk")
//!     .send()
//!     .await?;
//! # let _ = created;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;

/// Compression of an XVA export (`?compress=`).
///
/// `gzip` and `zstd` need XO 6.6 or later (`zstd` also needs XCP-ng); XO
/// 6.4 and 6.5 only accept `compress=true` (gzip), which the generated
/// `compress("true")` setter still sends. XO refuses compression of OVA
/// exports (422).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// gzip: understood everywhere, slow.
    Gzip,
    /// zstd: much faster (XCP-ng only).
    Zstd,
}

impl Compression {
    /// The value sent on the wire (`gzip`, `zstd`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The usual file name suffix (`.gz`, `.zst`).
    pub const fn suffix(self) -> &'static str {
        match self {
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }
}

/// A VM, VM snapshot or VM template export format (the `{format}` of
/// `/vm-snapshots/{id}.{format}` and `/vm-templates/{id}.{format}`).
///
/// It converts into the `String` the generated builders take:
///
/// ```no_run
/// # async fn demo(client: xo_sdk::Client, snapshot: xo_sdk::types::VmSnapshotId) -> xo_sdk::Result<()> {
/// use xo_sdk::prelude::*;
/// let ova = client.vm_snapshots().export(&snapshot, VmExportFormat::Ova).send().await?;
/// # let _ = ova;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VmExportFormat {
    /// XVA, XCP-ng's native format (can be compressed).
    Xva,
    /// OVA, the Open Virtualization Format (portable across hypervisors).
    Ova,
}

impl VmExportFormat {
    /// The format as XO names it (`xva`, `ova`), which is also the file
    /// extension.
    pub const fn as_str(self) -> &'static str {
        match self {
            VmExportFormat::Xva => "xva",
            VmExportFormat::Ova => "ova",
        }
    }

    /// Whether XO can compress this format ([`Compression`]).
    pub const fn supports_compression(self) -> bool {
        matches!(self, VmExportFormat::Xva)
    }
}

/// A disk image format: VDI and VDI snapshot exports (`{format}` of
/// `/vdi-snapshots/{id}.{format}`) and VDI imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VdiFormat {
    /// VHD (dynamic, sparse).
    Vhd,
    /// A raw image (the whole virtual size).
    Raw,
}

impl VdiFormat {
    /// The format as XO names it (`vhd`, `raw`), which is also the file
    /// extension.
    pub const fn as_str(self) -> &'static str {
        match self {
            VdiFormat::Vhd => "vhd",
            VdiFormat::Raw => "raw",
        }
    }

    /// The format a file name suggests: `.vhd`, or `.raw`/`.img` for raw
    /// images (case-insensitive); `None` for anything else.
    ///
    /// ```
    /// use xo_sdk::xo::VdiFormat;
    /// assert_eq!(VdiFormat::from_path("backup/disk0.VHD"), Some(VdiFormat::Vhd));
    /// assert_eq!(VdiFormat::from_path("disk.img"), Some(VdiFormat::Raw));
    /// assert_eq!(VdiFormat::from_path("disk.qcow2"), None);
    /// ```
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Option<VdiFormat> {
        let ext = path.as_ref().extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "vhd" => Some(VdiFormat::Vhd),
            "raw" | "img" => Some(VdiFormat::Raw),
            _ => None,
        }
    }
}

macro_rules! wire_enum {
    ($ty:ident, $what:literal, [$($variant:ident),+]) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.as_str().to_owned()
            }
        }

        impl FromStr for $ty {
            type Err = UnknownValue;

            /// Parse the wire name, ignoring ASCII case.
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                $(
                    if s.eq_ignore_ascii_case($ty::$variant.as_str()) {
                        return Ok($ty::$variant);
                    }
                )+
                Err(UnknownValue { what: $what, value: s.to_owned() })
            }
        }
    };
}

wire_enum!(Compression, "compression", [Gzip, Zstd]);
wire_enum!(VmExportFormat, "VM export format", [Xva, Ova]);
wire_enum!(VdiFormat, "disk format", [Vhd, Raw]);

/// A string that names no variant of [`Compression`], [`VmExportFormat`]
/// or [`VdiFormat`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    what: &'static str,
    value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {}: {:?}", self.what, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// Typed compression for the export builders that take XO's free-string
/// `compress` (`export_vm_xva`, `export_vm_snapshot`, `export_vm_template`).
///
/// ```no_run
/// # async fn demo(client: xo_sdk::Client, template: xo_sdk::types::VmTemplateId) -> xo_sdk::Result<()> {
/// use xo_sdk::prelude::*;
/// let stream = client
///     .vm_templates()
///     .export(&template, VmExportFormat::Xva)
///     .compression(Compression::Gzip)
///     .send()
///     .await?;
/// # Ok(())
/// # }
/// ```
pub trait ExportCompression: Sized {
    /// Compress the export (`?compress=gzip|zstd`; XVA only).
    fn compression(self, compression: Compression) -> Self;
}

impl ExportCompression for crate::vms::ExportVmXva {
    fn compression(self, compression: Compression) -> Self {
        self.compress(compression.as_str())
    }
}

impl ExportCompression for crate::vm_snapshots::ExportVmSnapshot {
    fn compression(self, compression: Compression) -> Self {
        self.compress(compression.as_str())
    }
}

impl ExportCompression for crate::vm_templates::ExportVmTemplate {
    fn compression(self, compression: Compression) -> Self {
        self.compress(compression.as_str())
    }
}

/// The image format of a VDI import into an SR (`import_vdi_to`), typed:
/// XO's `raw` flag.
pub trait VdiImportFormat: Sized {
    /// Import a VHD (the default) or a raw image.
    fn format(self, format: VdiFormat) -> Self;
}

impl VdiImportFormat for crate::srs::ImportVdiToSr {
    fn format(self, format: VdiFormat) -> Self {
        self.raw(format == VdiFormat::Raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for c in [Compression::Gzip, Compression::Zstd] {
            assert_eq!(c.as_str().parse::<Compression>(), Ok(c));
            assert_eq!(String::from(c), c.to_string());
        }
        for f in [VmExportFormat::Xva, VmExportFormat::Ova] {
            assert_eq!(f.as_str().to_uppercase().parse::<VmExportFormat>(), Ok(f));
        }
        for f in [VdiFormat::Vhd, VdiFormat::Raw] {
            assert_eq!(f.as_str().parse::<VdiFormat>(), Ok(f));
        }
        let err = "lz4".parse::<Compression>().unwrap_err();
        assert_eq!(err.to_string(), "unknown compression: \"lz4\"");
        assert!(VmExportFormat::Xva.supports_compression());
        assert!(!VmExportFormat::Ova.supports_compression());
        assert_eq!(Compression::Zstd.suffix(), ".zst");
    }
}
