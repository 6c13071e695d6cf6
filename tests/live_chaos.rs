//! Chaos proof of the live store: a few hundred random creates, updates and
//! deletes made in xo-sim while the event connection is cut and xo-sim
//! restarted at random moments; afterwards the store must equal a fresh
//! list, field by field, and a subscriber that applied every typed change
//! to its own map must hold the same. Eight seeds; each run prints its seed
//! so that a failure can be replayed (`LIVE_CHAOS_SEED=n`).

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use xo_sdk::prelude::*;
use xo_sdk::xo::LiveChange;

/// Operations per seed.
const OPERATIONS: usize = 300;

/// splitmix64: a small seeded generator, enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const POWER: [&str; 4] = ["Running", "Halted", "Paused", "Suspended"];

fn vm(id: &str, rng: &mut Rng) -> Value {
    json!({
        "id": id,
        "type": "VM",
        "uuid": id,
        "name_label": format!("vm-{}", rng.below(1000)),
        "power_state": POWER[rng.below(4) as usize],
        "tags": (0..rng.below(3)).map(|i| format!("t{i}")).collect::<Vec<_>>(),
        "memory": {"size": 1024 * (1 + rng.below(8))},
    })
}

/// The fresh list, as the store keeps it (no `href`).
async fn fresh(client: &Client) -> HashMap<String, Vm> {
    client
        .vms()
        .list()
        .select([Vm::ID, Vm::NAME_LABEL, Vm::POWER_STATE, Vm::TAGS])
        .send()
        .await
        .unwrap()
        .into_iter()
        .map(|mut vm| {
            vm.href = None;
            (vm.id.clone().unwrap().to_string(), vm)
        })
        .collect()
}

fn stored(store: &xo_sdk::xo::Store<Vm, VmId>) -> HashMap<String, Vm> {
    store.iter().map(|(id, vm)| (id.to_string(), vm)).collect()
}

/// Once the store has `marker`, a change made after every other, it has
/// seen every event before it (the stream is ordered); a resync may still
/// be under way. Then it must equal a fresh list, field by field.
async fn checkpoint(
    seed: u64,
    sim: &xo_sim::Sim,
    client: &Client,
    store: &xo_sdk::xo::Store<Vm, VmId>,
    marker: &str,
    rng: &mut Rng,
) {
    sim.put_object("vms", vm(marker, rng)).unwrap();
    store
        .wait_until(&VmId::new(marker), Duration::from_secs(60), |_| true)
        .await
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    let started = Instant::now();
    let expected = fresh(client).await;
    loop {
        let actual = stored(store);
        if store.is_synced() && actual == expected {
            return;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let missing: Vec<_> = expected
                .keys()
                .filter(|k| !actual.contains_key(*k))
                .collect();
            let extra: Vec<_> = actual
                .keys()
                .filter(|k| !expected.contains_key(*k))
                .collect();
            let differ: Vec<_> = expected
                .iter()
                .filter(|(k, v)| actual.get(*k).is_some_and(|a| a != *v))
                .map(|(k, _)| k)
                .collect();
            panic!(
                "seed {seed}, at {marker}: the store never equalled the list: missing {missing:?}, extra {extra:?}, different {differ:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn run(seed: u64) {
    let mut rng = Rng(seed);
    let sim = xo_sim::Sim::builder()
        .ping_interval(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let client = support::admin_client(&sim);
    let (store, mut changes) = client
        .vms()
        .list()
        .reflector()
        .fields([Vm::NAME_LABEL, Vm::POWER_STATE, Vm::TAGS])
        .event_options(|e| {
            e.reconnect_backoff(Duration::from_millis(10), Duration::from_millis(80))
                .healthy_after(Duration::from_millis(50))
                .max_reconnects(20)
        })
        .max_failures(200, Duration::from_millis(10))
        .start()
        .await
        .unwrap()
        .into_parts();

    // A subscriber's own copy, built from the typed changes only.
    let mut mirror = stored(&store);
    let follower = tokio::spawn(async move {
        let mut lagged = false;
        // Resyncs, and the differences they found (changes XO never sent).
        let (mut resyncs, mut repaired) = (0, 0);
        loop {
            // After the end marker, read on until the stream is idle: the
            // marker may come in the middle of a resync's differences.
            let wait = if mirror.contains_key("chaos-end") {
                Duration::from_millis(300)
            } else {
                Duration::from_secs(120)
            };
            let Ok(Some(change)) = tokio::time::timeout(wait, changes.next()).await else {
                break;
            };
            match change {
                LiveChange::Added { id, object } => {
                    mirror.insert(id.to_string(), object);
                }
                LiveChange::Updated { id, new, .. } => {
                    mirror.insert(id.to_string(), new);
                }
                LiveChange::Removed { id, .. } => {
                    mirror.remove(id.as_str());
                }
                LiveChange::Lagged { .. } => lagged = true,
                LiveChange::Synced(r) => {
                    resyncs += 1;
                    repaired += r.added + r.updated + r.removed;
                }
                _ => {}
            }
        }
        (mirror, lagged, resyncs, repaired)
    });

    let mut next_id = 0u64;
    let (mut cuts, mut restarts) = (0, 0);
    for op in 0..OPERATIONS {
        if op > 0 && op % 50 == 0 {
            // A pause in the chaos: every change so far must be in.
            checkpoint(seed, &sim, &client, &store, &format!("mark-{op}"), &mut rng).await;
        }
        let ids = sim.ids("vms");
        match rng.below(10) {
            0..=2 => {
                next_id += 1;
                let id = format!("chaos-{seed}-{next_id}");
                sim.put_object("vms", vm(&id, &mut rng)).unwrap();
            }
            3..=7 if !ids.is_empty() => {
                let id = &ids[rng.below(ids.len() as u64) as usize];
                let replacement = vm(id, &mut rng);
                sim.update_object("vms", id, |v| {
                    for field in ["name_label", "power_state", "tags"] {
                        if rng.below(2) == 0 {
                            v.insert(field.into(), replacement[field].clone());
                        }
                    }
                    // A change of a field the store does not keep.
                    v.insert("name_description".into(), json!(rng.below(100)));
                })
                .unwrap();
            }
            _ if !ids.is_empty() => {
                let id = &ids[rng.below(ids.len() as u64) as usize];
                sim.remove_object("vms", id).unwrap();
            }
            _ => {}
        }
        match rng.below(100) {
            0..=1 => {
                sim.drop_sse_connections();
                cuts += 1;
            }
            2..=3 => {
                sim.restart(Duration::from_millis(rng.below(150)));
                restarts += 1;
            }
            _ => {}
        }
        if rng.below(8) == 0 {
            tokio::time::sleep(Duration::from_millis(rng.below(15))).await;
        }
    }
    checkpoint(seed, &sim, &client, &store, "chaos-marker", &mut rng).await;
    assert!(store.error().is_none());
    assert_eq!(store.rejected(), 0);

    // The subscriber's copy, once it saw one more change.
    sim.put_object("vms", vm("chaos-end", &mut rng)).unwrap();
    let expected = fresh(&client).await;
    let (mirror, lagged, resyncs, repaired) =
        tokio::time::timeout(Duration::from_secs(150), follower)
            .await
            .expect("the follower saw the end")
            .unwrap();
    assert!(!lagged, "seed {seed}: the follower lagged");
    if mirror != expected {
        let missing: Vec<_> = expected
            .keys()
            .filter(|k| !mirror.contains_key(*k))
            .collect();
        let extra: Vec<_> = mirror
            .keys()
            .filter(|k| !expected.contains_key(*k))
            .collect();
        let differ: Vec<_> = expected
            .iter()
            .filter(|(k, v)| mirror.get(*k).is_some_and(|a| a != *v))
            .map(|(k, v)| (k, v.name_label.clone(), mirror[k].name_label.clone()))
            .collect();
        panic!(
            "seed {seed}: the typed changes missed something: missing {missing:?}, extra {extra:?}, different {differ:?}"
        );
    }
    eprintln!(
        "seed {seed}: {OPERATIONS} operations, {cuts} cuts, {restarts} restarts, {resyncs} resyncs repairing {repaired} objects, {} VMs at the end",
        expected.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_survives_cuts_and_restarts() {
    let seeds: Vec<u64> = match std::env::var("LIVE_CHAOS_SEED") {
        Ok(s) => vec![s.parse().expect("LIVE_CHAOS_SEED is a number")],
        Err(_) => (1..=8).collect(),
    };
    for seed in seeds {
        run(seed).await;
    }
}
