//! Lock down a VIF to a single IP (XO 6.6+): the DADL example of the same
//! name in Rust.
//!
//! Switches a VIF to the `locked` mode, where XAPI drops the VM's traffic
//! from any address but the allowed ones, allows one IPv4 address, and
//! caps the VIF's bandwidth.
//!
//! The DADL's JavaScript names the fields `ipv4Allowed`; XO calls them
//! `allowedIpv4Addresses` and rejects the other name (422): the overlay
//! corrected the tool (`dadl/ERRATA.md`).
//!
//! A wrong address cuts the VM off the network: against a real XO it needs
//! `--yes`.
//!
//! ```sh
//! cargo run --example lock_down_vif                     # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example lock_down_vif -- VIF-UUID 10.0.0.42/32 --yes
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::types::VifLockingMode;

/// The rate limit of the DADL example, in kB/s (XAPI's unit).
pub const RATE_LIMIT: i64 = 100_000;

/// Lock `vif` to `address`, limit it to `rate_limit` kB/s, and return the
/// VIF as XO then shows it.
pub async fn run(
    client: &Client,
    vif: &VifId,
    address: &str,
    rate_limit: i64,
) -> Result<Vif, BoxError> {
    client
        .vifs()
        .update(vif)
        .locking_mode(VifLockingMode::Locked)
        .allowed_ipv4_addresses([address])
        .rate_limit(rate_limit)
        .send()
        .await?;

    let vif_now = client.vifs().get(vif).send().await?;
    let allowed = vif_now
        .allowed_ipv4_addresses
        .as_deref()
        .unwrap_or_default()
        .join(", ");
    println!(
        "VIF {vif} (device {} of VM {}): {}, IPv4 allowed [{allowed}], rate limit {} kB/s",
        vif_now.device.as_deref().unwrap_or("?"),
        vif_now.vm.as_ref().map_or("?", VmId::as_str),
        vif_now.locking_mode.as_ref().map_or("?", |m| m.as_str()),
        vif_now.rate_limit.unwrap_or_default()
    );
    Ok(vif_now)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    common::require_yes(
        &target,
        "This restricts the VM's network traffic to one address",
    );
    let args = common::positional_args();
    let vif = match args.first() {
        Some(vif) => VifId::new(vif),
        None if target.is_simulated() => {
            let vifs = target.client.vifs().list().send().await?;
            vifs.first().ok_or("no VIF")?.id()
        }
        None => return Err("usage: lock_down_vif VIF-UUID [ADDRESS]".into()),
    };
    let address = args.get(1).map_or("10.0.0.42/32", String::as_str);
    run(&target.client, &vif, address, RATE_LIMIT).await?;
    Ok(())
}
