//! List running VMs: the DADL example of the same name in Rust.
//!
//! One request: XO filters the VMs (`power_state:Running`) and sends back
//! only the fields asked for, decoded into the typed `Vm` model.
//!
//! ```sh
//! cargo run --example list_running_vms             # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… cargo run --example list_running_vms
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;

/// The running VMs, sorted by name.
pub async fn run(client: &Client) -> Result<Vec<Vm>, BoxError> {
    // GET /rest/v0/vms?fields=name_label,power_state,uuid&filter=power_state:Running
    let mut vms = client
        .vms()
        .list()
        .filter(Filter::eq(Vm::POWER_STATE, "Running"))
        .select([Vm::NAME_LABEL, Vm::POWER_STATE, Vm::UUID])
        .send()
        .await?;
    vms.sort_by(|a, b| a.name_label.cmp(&b.name_label));

    println!("{} running VMs", vms.len());
    for vm in &vms {
        println!(
            "  {}  {}",
            vm.uuid.as_deref().unwrap_or("?"),
            vm.name_label.as_deref().unwrap_or_default()
        );
    }
    Ok(vms)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    run(&target.client).await?;
    Ok(())
}
