//! Live store of VMs with three fields (`name_label`, `power_state`,
//! `tags`): memory, time to the first consistent snapshot, and changes
//! applied per second against decoding the same events with serde_json
//! alone.
//!
//! `cargo bench --bench reflector` (optionally `-- OBJECTS ROUNDS`, default
//! 100000 objects, 3 rounds). Three measures:
//!
//! - **memory**: the resident set (VmRSS) a fresh process gains while it
//!   builds the store from OBJECTS add events, against the same objects
//!   kept as typed models (`HashMap<String, Vm>` of the three fields: what
//!   a store of models would cost);
//! - **first snapshot**: `reflector().fields(…).start().await` against an
//!   xo-sim holding OBJECTS VMs (subscribe, NDJSON list, build), against
//!   the bare typed list of the same fields (`select(…).stream()` into a
//!   `Vec<Vm>`);
//! - **changes/s**: OBJECTS update events (as XO sends them: JSON text)
//!   applied to a full store (parse, project, check that the row decodes,
//!   swap), against `serde_json::from_str::<Vm>` of the same texts.
//!
//! Prints min/median/max per measure and the ratios of medians.

mod common;

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Map, Value, json};
use xo_sdk::prelude::*;
use xo_sdk::xo::live::OfflineStore;
use xo_sdk::xo::{Change, Event};

const FIELDS: [&str; 3] = ["name_label", "power_state", "tags"];

fn vm(i: usize, version: usize) -> Map<String, Value> {
    let id = format!("{:08x}-7a1f-4c57-9a2b-{:012x}", i, i * 7919);
    let power_state = ["Running", "Halted", "Paused", "Suspended"][(i + version) % 4];
    let v = json!({
        "id": id,
        "uuid": id,
        "type": "VM",
        "name_label": format!("web-{i:06}-{version}"),
        "name_description": "Front-end web server of the shop, behind the load balancer.",
        "power_state": power_state,
        "$pool": "b7569d99-30f8-178a-7d94-801de3e29b5b",
        "tags": ["prod", "web", format!("rack-{}", i % 40)],
        "CPUs": {"max": 8, "number": 4},
        "memory": {"size": 4294967296u64},
        "addresses": {"0/ipv4/0": format!("10.0.{}.{}", i / 250 % 250, i % 250)},
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The text of an `update` event as XO sends it for a subscription to
/// three fields (`id` added).
fn event_text(i: usize, version: usize) -> String {
    let mut object = vm(i, version);
    let mut data = Map::new();
    data.insert("$subscription".into(), json!("VM"));
    data.insert("id".into(), object.remove("id").unwrap_or(Value::Null));
    for f in FIELDS {
        data.insert(f.into(), object.remove(f).unwrap_or(Value::Null));
    }
    Value::Object(data).to_string()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Child mode: build one kind of store of `n` objects, print the RSS it
/// added (KiB).
fn child_memory(kind: &str, n: usize) {
    let before = rss_kib();
    match kind {
        "store" => {
            let store: OfflineStore<Vm, VmId> = OfflineStore::new("VM", &FIELDS);
            for i in 0..n {
                store.apply(Event::Add(Change {
                    collection: "VM".into(),
                    object: vm(i, 0),
                }));
            }
            println!("{}", rss_kib().saturating_sub(before));
            assert_eq!(store.store().len(), n);
        }
        _ => {
            let mut models: HashMap<String, Vm> = HashMap::new();
            for i in 0..n {
                let mut object = vm(i, 0);
                object.retain(|k, _| k == "id" || FIELDS.contains(&k.as_str()));
                let model: Vm = serde_json::from_value(Value::Object(object)).unwrap_or_default();
                models.insert(
                    model.id.clone().map(|i| i.to_string()).unwrap_or_default(),
                    model,
                );
            }
            println!("{}", rss_kib().saturating_sub(before));
            assert_eq!(models.len(), n);
        }
    }
}

fn memory(objects: usize) -> (f64, f64) {
    let exe = std::env::current_exe().unwrap_or_default();
    let run = |kind: &str| -> f64 {
        let out = std::process::Command::new(&exe)
            .args(["--child-memory", kind, &objects.to_string()])
            .output()
            .expect("run the child");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<f64>()
            .unwrap_or(0.0)
    };
    (run("store"), run("models"))
}

fn changes_per_second(objects: usize, rounds: usize) -> (Vec<f64>, Vec<f64>) {
    let store: OfflineStore<Vm, VmId> = OfflineStore::new("VM", &FIELDS);
    store.sync((0..objects).map(|i| vm(i, 0)));
    let texts: Vec<String> = (0..objects)
        .map(|i| event_text((i * 7) % objects, 1 + i % 3))
        .collect();
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        for text in &texts {
            // What the event stream and the store do with one event.
            let Ok(mut object) = serde_json::from_str::<Map<String, Value>>(text) else {
                continue;
            };
            let collection = match object.remove("$subscription") {
                Some(Value::String(s)) => s,
                _ => continue,
            };
            store.apply(Event::Update(Change { collection, object }));
        }
        ours.push(texts.len() as f64 / t.elapsed().as_secs_f64());

        let t = Instant::now();
        let mut decoded = 0usize;
        for text in &texts {
            if let Ok(vm) = serde_json::from_str::<Vm>(text) {
                decoded += usize::from(vm.id.is_some());
            }
        }
        std::hint::black_box(decoded);
        plain.push(texts.len() as f64 / t.elapsed().as_secs_f64());
    }
    (ours, plain)
}

async fn first_snapshot(objects: usize, rounds: usize) -> (Vec<f64>, Vec<f64>) {
    let sim = xo_sim::Sim::builder()
        .empty()
        .without_prism()
        .start()
        .await
        .expect("start xo-sim");
    for i in 0..objects {
        sim.put_object("vms", Value::Object(vm(i, 0)))
            .expect("put a VM");
    }
    let client = Client::builder(sim.url())
        .token(sim.token())
        .build()
        .expect("client");
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        let store = client
            .vms()
            .list()
            .reflector()
            .fields([Vm::NAME_LABEL, Vm::POWER_STATE, Vm::TAGS])
            .start()
            .await
            .expect("reflector")
            .store();
        ours.push(t.elapsed().as_secs_f64());
        assert!(store.len() >= objects);
        drop(store);

        let t = Instant::now();
        let mut stream = client
            .vms()
            .list()
            .select([Vm::ID, Vm::NAME_LABEL, Vm::POWER_STATE, Vm::TAGS])
            .stream();
        let mut listed = Vec::new();
        while let Some(vm) = futures::StreamExt::next(&mut stream).await {
            listed.push(vm.expect("a VM"));
        }
        plain.push(t.elapsed().as_secs_f64());
        assert!(listed.len() >= objects);
    }
    (ours, plain)
}

fn line(what: &str, unit: &str, v: &[f64]) -> f64 {
    let (min, med, max) = common::stats(v.to_vec());
    println!("  {what:<34} min {min:>12.3} median {med:>12.3} max {max:>12.3} {unit}");
    med
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--bench"))
        .collect();
    if args.first().map(String::as_str) == Some("--child-memory") {
        let n = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(100_000);
        child_memory(args.get(1).map_or("store", String::as_str), n);
        return;
    }
    let objects: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3).max(1);
    println!("live store of {objects} VMs, fields {FIELDS:?}, {rounds} rounds");

    let (store_kib, models_kib) = memory(objects);
    println!("memory (RSS added while building, fresh process):");
    println!(
        "  store (rows of selected fields)    {:>8.1} MiB  {:>6.0} bytes/VM",
        store_kib / 1024.0,
        store_kib * 1024.0 / objects as f64
    );
    println!(
        "  HashMap<String, Vm> (3 fields)     {:>8.1} MiB  {:>6.0} bytes/VM",
        models_kib / 1024.0,
        models_kib * 1024.0 / objects as f64
    );
    if store_kib > 0.0 {
        println!("  models / store: {:.1}x", models_kib / store_kib);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (ours, plain) = runtime.block_on(first_snapshot(objects, rounds));
    println!("time to the first consistent snapshot (xo-sim on loopback):");
    let a = line("reflector start()", "s", &ours);
    let b = line("typed list select().stream()", "s", &plain);
    println!("  reflector / list: {:.2}x", a / b);

    let (ours, plain) = changes_per_second(objects, rounds);
    println!("update events ({objects} per round):");
    let a = line("applied to the store", "events/s", &ours);
    let b = line("serde_json::from_str::<Vm> only", "events/s", &plain);
    println!("  store / decode only: {:.2}x", a / b);
}
