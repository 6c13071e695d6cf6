//! Provision a VM from the template list: the DADL example of the same
//! name in Rust.
//!
//! Finds the first template whose name contains `Debian`, creates a VM from
//! it with 2 GiB of memory, boots it, and reads it back. Unlike
//! `create_and_start_vm`, `create_vm` runs synchronously here
//! (`sync=true`): XO answers `201 {id}` once the VM exists.
//!
//! The DADL's JavaScript takes the first template and the first pool
//! separately; a template belongs to one pool, so this version creates the
//! VM in the template's pool.
//!
//! ```sh
//! cargo run --example provision_vm_from_template          # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example provision_vm_from_template -- fresh-debian Debian
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;

/// 2 GiB.
pub const MEMORY: i64 = 2 * 1024 * 1024 * 1024;

/// What was made.
#[derive(Debug)]
pub struct Provisioned {
    /// The template used.
    pub template: VmTemplateId,
    /// The pool, the template's.
    pub pool: PoolId,
    /// The new VM, as read back.
    pub vm: Vm,
}

/// Create and boot `name` from the first template whose name contains
/// `template_hint`.
pub async fn run(
    client: &Client,
    name: &str,
    template_hint: &str,
) -> Result<Provisioned, BoxError> {
    // `name_label:Debian` is a substring match in XO's filter syntax.
    let mut templates = client
        .vm_templates()
        .list()
        .filter(Filter::eq(VmTemplate::NAME_LABEL, template_hint))
        .select([VmTemplate::ID, VmTemplate::NAME_LABEL, VmTemplate::POOL])
        .send()
        .await?;
    // XO's order is not specified: sort, so that reruns pick the same one.
    templates.sort_by(|a, b| a.name_label.cmp(&b.name_label));
    let template = templates
        .into_iter()
        .next()
        .ok_or_else(|| format!("no template matches {template_hint:?}"))?;
    let (Some(template_id), Some(pool)) = (template.id, template.pool) else {
        return Err("XO sent a template without id or pool".into());
    };
    println!(
        "Creating {name:?} from {:?} in pool {pool}",
        template.name_label.unwrap_or_default()
    );

    // The new VM's id (an XO that predates `sync` answers 202 with a
    // task anyway: `run_sync` then waits for it).
    let vm_id: VmId = client
        .pools()
        .create_vm(&pool, name, &template_id)
        .memory(MEMORY)
        .boot(true)
        .run_sync()
        .await?;

    let vm = client.vms().get(&vm_id).send().await?;
    println!(
        "VM {vm_id} is {}",
        vm.power_state.as_ref().map_or("unknown", |s| s.as_str())
    );
    Ok(Provisioned {
        template: template_id,
        pool,
        vm,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = common::positional_args();
    let name = args.first().map_or("fresh-debian", String::as_str);
    let hint = args.get(1).map_or("Debian", String::as_str);
    let target = common::connect().await?;
    run(&target.client, name, hint).await?;
    Ok(())
}
