//! Create and start a VM: the DADL example of the same name in Rust.
//!
//! Picks the first pool and one of its templates (the first whose name
//! contains the argument, `Debian` by default), creates a VM from it with
//! `boot: true` through XO's asynchronous action protocol (202 → task),
//! waits for the task, and reads the new VM back.
//!
//! ```sh
//! cargo run --example create_and_start_vm              # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example create_and_start_vm -- Ubuntu # against a real XO
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;

/// What the example made.
#[derive(Debug)]
pub struct NewVm {
    /// The create_vm task.
    pub task_id: TaskId,
    /// The template used.
    pub template: VmTemplateId,
    /// The new VM's id.
    pub vm_id: VmId,
    /// Its power state once the task ended.
    pub power_state: Option<PowerState>,
}

/// Create `name` from the first template of the first pool whose name
/// contains `template_hint`, boot it, and return what was made.
pub async fn run(client: &Client, name: &str, template_hint: &str) -> Result<NewVm, BoxError> {
    let pool = common::first_pool(client).await?;

    // The DADL example has "template-uuid-here": look one up instead.
    let templates = client
        .vm_templates()
        .list()
        .select([VmTemplate::ID, VmTemplate::NAME_LABEL, VmTemplate::POOL])
        .send()
        .await?;
    let hint = template_hint.to_lowercase();
    let (template, template_name) = templates
        .into_iter()
        .filter(|t| t.pool.as_ref() == Some(&pool))
        .filter_map(|t| Some((t.id?, t.name_label.unwrap_or_default())))
        .find(|(_, label)| label.to_lowercase().contains(&hint))
        .ok_or_else(|| format!("no template matching {template_hint:?} in pool {pool}"))?;
    println!("Creating {name:?} in pool {pool} from {template_name:?}");

    let task = client
        .pools()
        .create_vm(&pool, name, &template)
        .memory(2 * 1024 * 1024 * 1024)
        .boot(true)
        .send()
        .await?;
    println!("create_vm runs as task {}", task.id());

    // The task's result is the new VM's id; a failure comes back with
    // XO's message, error name and XAPI code (TaskError::Failed).
    let vm_id: VmId = task.result().await?;
    let vm = client.vms().get(&vm_id).send().await?;
    println!(
        "VM {vm_id} ({:?}) is {:?}",
        vm.name_label.as_deref().unwrap_or_default(),
        vm.power_state
    );
    Ok(NewVm {
        task_id: task.id(),
        template,
        vm_id,
        power_state: vm.power_state,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let hint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Debian".to_owned());
    let target = common::connect().await?;
    run(&target.client, "my-new-vm", &hint).await?;
    Ok(())
}
