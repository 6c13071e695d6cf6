//! Inventory report: every VM with its power state, vCPUs, memory, host
//! and tags, grouped by pool, with a count per pool.
//!
//! The VMs come from one streamed request (`fields=…&ndjson=true`): XO
//! sends one object per line and the SDK decodes them one by one, so a
//! large infrastructure is listed whole (no `limit`, nothing truncated)
//! without holding XO's whole answer in memory. The hosts and pools are
//! two small lists, asked for at the same time, that name the ids.
//!
//! A VM's `$container` is the host it runs on, or its pool when it is not
//! running: the host column then shows `-`.
//!
//! ```sh
//! cargo run --example inventory_report                    # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… cargo run --example inventory_report
//! ```

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::fmt::Write as _;

use common::BoxError;
use futures::TryStreamExt;
use xo_sdk::prelude::*;

/// One VM of the report.
#[derive(Debug, Clone)]
pub struct VmLine {
    /// The VM.
    pub id: VmId,
    /// Its name.
    pub name: String,
    /// Its pool.
    pub pool: Option<PoolId>,
    /// The pool's name (its id when XO does not list the pool).
    pub pool_name: String,
    /// Its power state.
    pub power_state: Option<PowerState>,
    /// Its number of vCPUs.
    pub vcpus: Option<i64>,
    /// Its memory, in bytes.
    pub memory: Option<i64>,
    /// The name of the host it runs on; `None` when it does not run on one
    /// (its container is then its pool).
    pub host: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
}

/// The VMs of one pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolCount {
    /// The pool (`None` for VMs that XO shows without a pool).
    pub pool: Option<PoolId>,
    /// Its name.
    pub name: String,
    /// Its number of VMs.
    pub vms: usize,
}

/// The report.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// Every VM, sorted by pool name, then VM name.
    pub vms: Vec<VmLine>,
    /// Every pool (those without VMs too), in the same order.
    pub pools: Vec<PoolCount>,
}

/// Collect the inventory and print it.
pub async fn run(client: &Client) -> Result<Inventory, BoxError> {
    let hosts = client
        .hosts()
        .list()
        .select([Host::ID, Host::NAME_LABEL])
        .send();
    let pools = client
        .pools()
        .list()
        .select([Pool::ID, Pool::NAME_LABEL])
        .send();
    let (hosts, pools) = futures::try_join!(hosts, pools)?;
    let host_names: HashMap<HostId, String> = hosts
        .into_iter()
        .filter_map(|h| Some((h.id?, h.name_label.unwrap_or_default())))
        .collect();
    let pool_names: HashMap<PoolId, String> = pools
        .into_iter()
        .filter_map(|p| Some((p.id?, p.name_label.unwrap_or_default())))
        .collect();

    let mut stream = client
        .vms()
        .list()
        .select([
            Vm::ID,
            Vm::NAME_LABEL,
            Vm::POWER_STATE,
            Vm::CPUS,
            Vm::MEMORY,
            Vm::POOL,
            Vm::CONTAINER,
            Vm::TAGS,
        ])
        .stream();
    let mut vms = Vec::new();
    while let Some(vm) = stream.try_next().await? {
        let id = vm.id.ok_or("XO sent a VM without id")?;
        let pool_name = match &vm.pool {
            Some(pool) => pool_names
                .get(pool)
                .cloned()
                .unwrap_or_else(|| pool.to_string()),
            None => "(no pool)".to_owned(),
        };
        vms.push(VmLine {
            id,
            name: vm.name_label.unwrap_or_default(),
            pool: vm.pool,
            pool_name,
            power_state: vm.power_state,
            vcpus: vm.cpus.and_then(|c| c.number),
            memory: vm.memory.and_then(|m| m.size),
            // A container that is not a host is the pool.
            host: vm
                .container
                .and_then(|c| host_names.get(c.as_str()).cloned()),
            tags: vm.tags.unwrap_or_default(),
        });
    }
    // Two pools (or VMs) may share a name: the ids keep the order stable.
    vms.sort_by(|a, b| {
        (&a.pool_name, &a.pool, &a.name, &a.id).cmp(&(&b.pool_name, &b.pool, &b.name, &b.id))
    });

    let mut counts: HashMap<Option<PoolId>, PoolCount> = pool_names
        .into_iter()
        .map(|(id, name)| {
            let count = PoolCount {
                pool: Some(id.clone()),
                name,
                vms: 0,
            };
            (Some(id), count)
        })
        .collect();
    for vm in &vms {
        counts
            .entry(vm.pool.clone())
            .or_insert_with(|| PoolCount {
                pool: vm.pool.clone(),
                name: vm.pool_name.clone(),
                vms: 0,
            })
            .vms += 1;
    }
    let mut pools: Vec<PoolCount> = counts.into_values().collect();
    pools.sort_by(|a, b| (&a.name, &a.pool).cmp(&(&b.name, &b.pool)));

    let inventory = Inventory { vms, pools };
    print!("{}", inventory.render());
    Ok(inventory)
}

impl VmLine {
    /// The power state as XO names it (`Running`, `Halted`, …).
    pub fn power(&self) -> &str {
        self.power_state.as_ref().map_or("?", PowerState::as_str)
    }
}

impl Inventory {
    /// The report as text: per pool a heading with its VM count, then one
    /// line per VM.
    pub fn render(&self) -> String {
        let width = |f: fn(&VmLine) -> usize, title: &str| {
            self.vms.iter().map(f).max().unwrap_or(0).max(title.len())
        };
        let name_w = width(|v| v.name.chars().count(), "VM");
        let host_w = width(|v| v.host.as_ref().map_or(1, |h| h.chars().count()), "HOST");
        let power_w = width(|v| v.power().len(), "POWER");
        let mut out = String::new();
        for pool in &self.pools {
            let plural = if pool.vms == 1 { "" } else { "s" };
            let _ = writeln!(out, "Pool {:?}: {} VM{plural}", pool.name, pool.vms);
            if pool.vms == 0 {
                continue;
            }
            let _ = writeln!(
                out,
                "  {:<name_w$}  {:<power_w$}  {:>5}  {:>9}  {:<host_w$}  TAGS",
                "VM", "POWER", "vCPUs", "MEMORY", "HOST"
            );
            for vm in self.vms.iter().filter(|v| v.pool == pool.pool) {
                let line = format!(
                    "  {:<name_w$}  {:<power_w$}  {:>5}  {:>9}  {:<host_w$}  {}",
                    vm.name,
                    vm.power(),
                    vm.vcpus.map_or("?".to_owned(), |n| n.to_string()),
                    vm.memory.map_or("?".to_owned(), human_bytes),
                    vm.host.as_deref().unwrap_or("-"),
                    vm.tags.join(", "),
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
        let _ = writeln!(out, "{} VMs in {} pools", self.vms.len(), self.pools.len());
        out
    }
}

/// `4.0 GiB`, `512 MiB`.
fn human_bytes(bytes: i64) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    const GIB: f64 = (1u64 << 30) as f64;
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.0} MiB", b / MIB)
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    run(&target.client).await?;
    Ok(())
}
