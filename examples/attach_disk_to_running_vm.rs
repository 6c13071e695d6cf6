//! Attach a disk to a running VM: the DADL example of the same name in Rust.
//!
//! Creates an empty 50 GiB VDI on an SR (the VM pool's default SR unless
//! one is named), plugs it into the VM with a new VBD, and hot-plugs the
//! VBD while the VM runs.
//!
//! The DADL's JavaScript sends `create_vdi({sr, size})` and
//! `create_vbd({vm, vdi})`: XO rejects both (422). The errata overlay
//! corrected the tools, so the generated methods take `srId` /
//! `virtual_size` and `VM` / `VDI` (see `dadl/ERRATA.md`).
//!
//! ```sh
//! cargo run --example attach_disk_to_running_vm            # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example attach_disk_to_running_vm -- VM [SR]
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::runtime::JsonMap;

/// 50 GiB, the DADL example's size.
pub const DISK_SIZE: i64 = 50 * 1024 * 1024 * 1024;

/// What was created.
#[derive(Debug)]
pub struct AttachedDisk {
    /// The VM.
    pub vm: VmId,
    /// The SR the disk is on.
    pub sr: SrId,
    /// The new VDI.
    pub vdi: VdiId,
    /// The new VBD, plugged.
    pub vbd: VbdId,
}

/// Create a `size`-byte disk named `disk_name` and hot-plug it into `vm`
/// (an id or a name; the first running VM when `None`), on `sr` (an id or
/// a name; the pool's default SR when `None`).
pub async fn run(
    client: &Client,
    vm: Option<&str>,
    sr: Option<&str>,
    disk_name: &str,
    size: i64,
) -> Result<AttachedDisk, BoxError> {
    let vm = match vm {
        Some(wanted) => common::vm(client, wanted).await?,
        None => {
            let running = client
                .vms()
                .list()
                .filter(Filter::eq(Vm::POWER_STATE, "Running"))
                .send()
                .await?;
            let first = running.first().ok_or("no running VM")?;
            client.vms().get(first.id()).send().await?
        }
    };

    // Check before creating anything: a disk cannot be hot-plugged into a
    // VM that is not running, and the VDI would be left behind.
    let vm_id = vm.id.clone().ok_or("XO sent a VM without id")?;
    let vm_name = vm.name_label.clone().unwrap_or_default();
    if vm.power_state != Some(PowerState::Running) {
        return Err(format!(
            "VM {vm_name:?} is {:?}: hot-plugging needs a running VM",
            vm.power_state
        )
        .into());
    }
    let sr_id = match sr {
        Some(wanted) => common::sr(client, wanted)
            .await?
            .id
            .ok_or("XO sent an SR without id")?,
        None => {
            let pool = vm.pool.as_ref().ok_or("the VM has no pool")?;
            let pool = client.pools().get(pool).send().await?;
            pool.default_sr
                .ok_or("the pool has no default SR: name one")?
        }
    };

    // `other_config: {}` is optional from XO 6.5 on and required by 6.4.x;
    // sending it works everywhere.
    let vdi: VdiId = client
        .vdis()
        .create(&sr_id, size)
        .name_label(disk_name)
        .other_config(JsonMap::new())
        .send()
        .await?;
    println!("Created VDI {disk_name:?} ({} GiB): {vdi}", size >> 30);

    let vbd: VbdId = client.vbds().create(&vm_id, &vdi).send().await?;
    println!("Created VBD {vbd} (VM {vm_name:?} ↔ VDI {vdi})");

    // Hot-plug, synchronously: XO answers when XAPI is done (204), or
    // with the XAPI error.
    if let Err(e) = client.vbds().connect(&vbd).run_sync().await {
        // Leave nothing half-done behind.
        eprintln!("Hot-plug failed ({e}); removing the VBD and the VDI");
        client.vbds().delete(&vbd).send().await?;
        client.vdis().delete(&vdi).send().await?;
        return Err(e.into());
    }
    println!("Plugged into {vm_name:?}");

    Ok(AttachedDisk {
        vm: vm_id,
        sr: sr_id,
        vdi,
        vbd,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = common::positional_args();
    let target = common::connect().await?;
    if !target.is_simulated() && args.is_empty() {
        return Err("name the VM (id or name) to attach a disk to".into());
    }
    run(
        &target.client,
        args.first().map(String::as_str),
        args.get(1).map(String::as_str),
        "data-disk",
        DISK_SIZE,
    )
    .await?;
    Ok(())
}
