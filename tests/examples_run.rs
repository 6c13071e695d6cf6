//! Runs the Rust versions of the DADL examples against xo-sim.
//!
//! Cargo gives tests no path to example binaries, and `cargo run --example`
//! from a test would rebuild and serialise on the build lock. Each example
//! therefore keeps its logic in a `pub async fn run(client, …)` and its
//! `main` only connects (`XO_URL`/`XO_TOKEN`, or an in-process xo-sim) and
//! calls it. This test compiles each example file as a module (its `main`
//! unused) and calls `run` against a fresh simulator, then checks the
//! effect in the simulator's state. `cargo clippy --all-targets` and
//! `cargo test` build the example binaries themselves.

// Each example includes `examples/common/mod.rs`, as its binary does.
#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "../examples/create_and_start_vm.rs"]
mod create_and_start_vm;

#[allow(dead_code)]
#[path = "../examples/rolling_pool_update.rs"]
mod rolling_pool_update;

#[allow(dead_code)]
#[path = "../examples/run_backup_schedule.rs"]
mod run_backup_schedule;

use xo_sdk::types::{BackupLogStatus, PowerState, TaskStatus};

async fn sim() -> (xo_sim::Sim, xo_sdk::Client) {
    let sim = xo_sim::start().await.expect("xo-sim starts");
    let client = xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .build()
        .unwrap();
    (sim, client)
}

#[tokio::test]
async fn create_and_start_vm() {
    let (sim, client) = sim().await;
    let made = create_and_start_vm::run(&client, "my-new-vm", "Debian")
        .await
        .unwrap();
    assert_eq!(made.power_state, Some(PowerState::Running));
    let vm = sim.object("vms", &made.vm_id).expect("the VM exists");
    assert_eq!(vm["name_label"], "my-new-vm");
    assert_eq!(vm["power_state"], "Running");
    assert_eq!(vm["memory"]["size"], 2u64 * 1024 * 1024 * 1024);
    let template = sim.object("vm-templates", &made.template).unwrap();
    assert!(template["name_label"].as_str().unwrap().contains("Debian"));
    assert_eq!(vm["$pool"], template["$pool"]);
    assert_eq!(
        sim.object("tasks", &made.task_id).unwrap()["status"],
        "success"
    );

    // No template matches: an error, not a panic.
    let err = create_and_start_vm::run(&client, "x", "no such template")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no template"), "{err}");
}

#[tokio::test]
async fn rolling_pool_update() {
    let (sim, client) = sim().await;
    let update = rolling_pool_update::run(&client).await.unwrap();
    assert_eq!(update.pool, sim.ids("pools")[0]);
    assert_eq!(update.task.status(), &TaskStatus::Success);
    assert_eq!(update.task.object_id(), Some(update.pool.as_str()));
    assert!(update.states_seen >= 1);
    let task = sim.object("tasks", update.task.id().unwrap()).unwrap();
    assert_eq!(task["properties"]["params"]["shutdownPinnedVms"], true);
}

#[tokio::test]
async fn run_backup_schedule() {
    let (sim, client) = sim().await;
    let logs_before = sim.objects("backup-logs").len();
    let run = run_backup_schedule::run(&client, "nightly").await.unwrap();
    let schedule = sim.object("schedules", &run.schedule).unwrap();
    assert_eq!(schedule["name"], "nightly");
    assert_eq!(schedule["jobId"], run.job.as_str());
    assert_eq!(sim.objects("backup-logs").len(), logs_before + 1);
    let log = run.latest_log.expect("a backup log");
    assert_eq!(log.status, Some(BackupLogStatus::Success));
    assert_eq!(
        sim.object("tasks", &run.task_id).unwrap()["status"],
        "success"
    );

    let err = run_backup_schedule::run(&client, "no-such-schedule")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no schedule"), "{err}");
}
