//! Health snapshot — alarms, missing patches, disconnected servers: the
//! DADL example of the same name in Rust.
//!
//! Two requests in parallel (the JavaScript's `Promise.all`): the alarms,
//! with four fields each, and XO's dashboard, an aggregate of the whole
//! infrastructure. Parts of the dashboard XO could not compute come back
//! flagged (`error`, `isEmpty`), not as a failed call.
//!
//! ```sh
//! cargo run --example health_snapshot                    # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… cargo run --example health_snapshot
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::types::{Alarm, Dashboard};

/// The snapshot.
#[derive(Debug)]
pub struct Health {
    /// Every alarm, newest first.
    pub alarms: Vec<Alarm>,
    /// XO's dashboard.
    pub dashboard: Dashboard,
}

/// Take the snapshot and print it.
pub async fn run(client: &Client) -> Result<Health, BoxError> {
    let (mut alarms, dashboard) = futures::try_join!(
        client
            .alarms()
            .list()
            .select([Alarm::ID, Alarm::OBJECT, Alarm::TIME, Alarm::BODY])
            .send(),
        client.dashboard().get().send(),
    )?;
    alarms.sort_by_key(|a| std::cmp::Reverse(a.time));

    println!("{} alarms", alarms.len());
    for alarm in &alarms {
        let body = alarm.body.as_ref();
        let object = alarm.object.as_ref();
        // `time` is in Unix seconds.
        let when = alarm
            .time
            .and_then(|t| u64::try_from(t).ok())
            .map_or("?".to_owned(), |t| {
                httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t))
            });
        println!(
            "  {when}  {} {}  {} = {}",
            object.and_then(|o| o.type_.as_deref()).unwrap_or("?"),
            object.and_then(|o| o.uuid.as_deref()).unwrap_or("?"),
            body.and_then(|b| b.name.as_deref()).unwrap_or("?"),
            body.and_then(|b| b.value.as_deref()).unwrap_or("?"),
        );
    }

    match &dashboard.missing_patches {
        Some(p) if p.has_authorization == Some(false) => {
            println!("Missing patches: unknown (XO has no license to check them)")
        }
        Some(p) if p.error == Some(true) => println!("Missing patches: XO could not check"),
        Some(p) => println!(
            "Missing patches: {} of {} hosts, in {} of {} pools",
            p.n_hosts_with_missing_patches.unwrap_or(0),
            p.n_hosts.unwrap_or(0),
            p.n_pools_with_missing_patches.unwrap_or(0),
            p.n_pools.unwrap_or(0),
        ),
        None => println!("Missing patches: not reported"),
    }
    // A pool whose master XO cannot reach is a disconnected server.
    if let Some(p) = &dashboard.pools_status {
        println!(
            "Pools: {} connected, {} disconnected, {} unreachable",
            p.connected.unwrap_or(0),
            p.disconnected.unwrap_or(0),
            p.unreachable.unwrap_or(0)
        );
    }
    if let Some(h) = &dashboard.hosts_status {
        println!(
            "Hosts: {} running, {} halted, {} disabled",
            h.running.unwrap_or(0),
            h.halted.unwrap_or(0),
            h.disabled.unwrap_or(0)
        );
    }
    Ok(Health { alarms, dashboard })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    run(&target.client).await?;
    Ok(())
}
