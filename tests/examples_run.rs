//! Runs every example (`examples/*.rs`) against xo-sim and checks its effect
//! in the simulator's state.
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

mod support;

#[allow(dead_code)]
#[path = "../examples/add_pool_server.rs"]
mod add_pool_server;

#[allow(dead_code)]
#[path = "../examples/attach_disk_to_running_vm.rs"]
mod attach_disk_to_running_vm;

#[allow(dead_code)]
#[path = "../examples/create_and_start_vm.rs"]
mod create_and_start_vm;

#[allow(dead_code)]
#[path = "../examples/export_vm.rs"]
mod export_vm;

#[allow(dead_code)]
#[path = "../examples/group_based_access.rs"]
mod group_based_access;

#[allow(dead_code)]
#[path = "../examples/health_snapshot.rs"]
mod health_snapshot;

#[allow(dead_code)]
#[path = "../examples/host_maintenance.rs"]
mod host_maintenance;

#[allow(dead_code)]
#[path = "../examples/host_stats_last_hour.rs"]
mod host_stats_last_hour;

#[allow(dead_code)]
#[path = "../examples/import_vdi.rs"]
mod import_vdi;

#[allow(dead_code)]
#[path = "../examples/inventory_report.rs"]
mod inventory_report;

#[allow(dead_code)]
#[path = "../examples/list_running_vms.rs"]
mod list_running_vms;

#[allow(dead_code)]
#[path = "../examples/lock_down_vif.rs"]
mod lock_down_vif;

#[allow(dead_code)]
#[path = "../examples/maintenance_mode_across_reboot.rs"]
mod maintenance_mode_across_reboot;

#[allow(dead_code)]
#[path = "../examples/provision_vm_from_template.rs"]
mod provision_vm_from_template;

#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[allow(dead_code)]
#[path = "../examples/rbac_read_only_operator.rs"]
mod rbac_read_only_operator;

#[allow(dead_code)]
#[path = "../examples/reboot_host_with_pinned_vms.rs"]
mod reboot_host_with_pinned_vms;

#[allow(dead_code)]
#[path = "../examples/register_nfs_backup_repository.rs"]
mod register_nfs_backup_repository;

#[allow(dead_code)]
#[path = "../examples/rolling_pool_update.rs"]
mod rolling_pool_update;

#[allow(dead_code)]
#[path = "../examples/run_backup_schedule.rs"]
mod run_backup_schedule;

#[allow(dead_code)]
#[path = "../examples/validate_backup_repository.rs"]
mod validate_backup_repository;

#[allow(dead_code)]
#[path = "../examples/watch_events.rs"]
mod watch_events;

#[allow(dead_code)]
#[path = "../examples/live_inventory.rs"]
mod live_inventory;

#[allow(dead_code)]
#[path = "../examples/keep_running.rs"]
mod keep_running;

use xo_sdk::prelude::*;
use xo_sdk::types::{BackupLogStatus, TaskStatus};

use support::sim;

#[tokio::test]
async fn create_and_start_vm() {
    let (sim, client) = sim().await;
    let made = create_and_start_vm::run(&client, "my-new-vm", "Debian")
        .await
        .unwrap();
    assert_eq!(made.power_state, Some(PowerState::Running));
    let vm = sim
        .object("vms", made.vm_id.as_str())
        .expect("the VM exists");
    assert_eq!(vm["name_label"], "my-new-vm");
    assert_eq!(vm["power_state"], "Running");
    assert_eq!(vm["memory"]["size"], 2u64 * 1024 * 1024 * 1024);
    let template = sim.object("vm-templates", made.template.as_str()).unwrap();
    assert!(template["name_label"].as_str().unwrap().contains("Debian"));
    assert_eq!(vm["$pool"], template["$pool"]);
    assert_eq!(
        sim.object("tasks", made.task_id.as_str()).unwrap()["status"],
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
    assert_eq!(update.pool.as_str(), sim.ids("pools")[0]);
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
    let schedule = sim.object("schedules", run.schedule.as_str()).unwrap();
    assert_eq!(schedule["name"], "nightly");
    assert_eq!(schedule["jobId"], run.job.as_str());
    assert_eq!(sim.objects("backup-logs").len(), logs_before + 1);
    let log = run.latest_log.expect("a backup log");
    assert_eq!(log.status, Some(BackupLogStatus::Success));
    assert_eq!(
        sim.object("tasks", run.task_id.as_str()).unwrap()["status"],
        "success"
    );

    let err = run_backup_schedule::run(&client, "no-such-schedule")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no schedule"), "{err}");
}

/// Every example is run here: a new file in `examples/` without a test
/// fails this.
#[test]
fn every_example_is_run() {
    let source = include_str!("examples_run.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let declared = format!("#[path = \"../examples/{name}.rs\"]\nmod {name};");
            assert!(source.contains(&declared), "examples/{name}.rs is not run");
            let called = format!("{name}::run(");
            assert!(
                source.contains(&called),
                "examples/{name}.rs: run() not called"
            );
            count += 1;
        }
    }
    assert!(count >= 13, "{count} examples");
}

/// The ids of the simulator's objects of `coll` whose `field` is `value`.
fn ids_where(sim: &xo_sim::Sim, coll: &str, field: &str, value: &str) -> Vec<String> {
    let mut ids: Vec<String> = sim
        .objects(coll)
        .into_iter()
        .filter(|o| o[field] == value)
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The simulator's tasks whose action parameters include `param: value`.
fn tasks_with_param(
    sim: &xo_sim::Sim,
    param: &str,
    value: serde_json::Value,
) -> Vec<serde_json::Value> {
    sim.objects("tasks")
        .into_iter()
        .filter(|t| t["properties"]["params"][param] == value)
        .collect()
}

#[tokio::test]
async fn quickstart() {
    let (sim, client) = sim().await;
    let tour = quickstart::run(&client).await.unwrap();

    let vms = sim.objects("vms");
    assert_eq!(tour.by_power_state.values().sum::<usize>(), vms.len());
    for (state, count) in &tour.by_power_state {
        assert_eq!(
            ids_where(&sim, "vms", "power_state", state).len(),
            *count,
            "{state}"
        );
    }
    let mut running: Vec<String> = vms
        .iter()
        .filter(|v| v["power_state"] == "Running")
        .map(|v| v["name_label"].as_str().unwrap().to_owned())
        .collect();
    running.sort();
    assert_eq!(tour.running, running);

    let sr = sim.object("srs", tour.sr.as_str()).unwrap();
    assert_ne!(sr["content_type"], "iso");
    assert_eq!(tour.task.status(), &TaskStatus::Success);
    let task = sim.object("tasks", tour.task.id().unwrap()).unwrap();
    assert_eq!(task["properties"]["method"], "sr.scan");
    assert_eq!(task["properties"]["objectId"], tour.sr.as_str());
    assert_eq!(task["status"], "success");
}

#[tokio::test]
async fn list_running_vms() {
    let (sim, client) = sim().await;
    let vms = list_running_vms::run(&client).await.unwrap();
    let mut ids: Vec<String> = vms.iter().map(|v| v.uuid.clone().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ids_where(&sim, "vms", "power_state", "Running"));
    assert!(
        vms.iter()
            .all(|v| v.power_state == Some(PowerState::Running))
    );
    // Only the fields asked for came back.
    assert!(
        vms.iter()
            .all(|v| v.memory.is_none() && v.name_label.is_some())
    );
    let names: Vec<_> = vms.iter().map(|v| v.name_label.clone()).collect();
    assert!(names.is_sorted());
}

#[tokio::test]
async fn inventory_report() {
    let (sim, client) = sim().await;
    // More VMs than any page size, in both pools, with names that sort
    // differently from their ids, and a pool without VMs.
    let template = sim.find_by_name("vms", "app-03").unwrap();
    let pool_ids = sim.ids("pools");
    for i in 0..300 {
        let mut vm = template.clone();
        vm["id"] = format!("bulk-{i:03}").into();
        vm["uuid"] = vm["id"].clone();
        vm["name_label"] = format!("bulk-{:03}", 299 - i).into();
        let pool = &pool_ids[i % pool_ids.len()];
        vm["$pool"] = pool.as_str().into();
        vm["$poolId"] = pool.as_str().into();
        vm["$container"] = pool.as_str().into();
        sim.put_object("vms", vm).unwrap();
    }
    let mut empty = sim.objects("pools")[0].clone();
    empty["id"] = "empty-pool".into();
    empty["name_label"] = "Empty".into();
    sim.put_object("pools", empty).unwrap();

    let report = inventory_report::run(&client).await.unwrap();

    // Every VM, once.
    let mut ids: Vec<&str> = report.vms.iter().map(|v| v.id.as_str()).collect();
    ids.sort();
    let mut expected = sim.ids("vms");
    expected.sort();
    assert_eq!(expected.len(), 320);
    assert_eq!(ids, expected);

    // Sorted by pool name, then VM name.
    let keys: Vec<(&str, &str)> = report
        .vms
        .iter()
        .map(|v| (v.pool_name.as_str(), v.name.as_str()))
        .collect();
    assert!(keys.is_sorted(), "{keys:?}");

    // The count of every pool (the one without VMs too), in the same order.
    let pools = sim.objects("pools");
    assert_eq!(report.pools.len(), pools.len());
    for pool in &pools {
        let id = pool["id"].as_str().unwrap();
        let count = report
            .pools
            .iter()
            .find(|c| c.pool.as_ref().map(PoolId::as_str) == Some(id))
            .expect("the pool is reported");
        assert_eq!(count.name, pool["name_label"].as_str().unwrap());
        assert_eq!(count.vms, ids_where(&sim, "vms", "$pool", id).len(), "{id}");
        assert_eq!(
            count.vms,
            report.vms.iter().filter(|v| v.pool == count.pool).count()
        );
    }
    assert!(report.pools.iter().any(|c| c.name == "Empty" && c.vms == 0));
    let names: Vec<&str> = report.pools.iter().map(|c| c.name.as_str()).collect();
    assert!(names.is_sorted(), "{names:?}");

    // Each VM's fields, as the simulator has them; the host only when the
    // VM's container is a host.
    for line in &report.vms {
        let vm = sim.object("vms", line.id.as_str()).unwrap();
        assert_eq!(line.name, vm["name_label"].as_str().unwrap());
        assert_eq!(line.power(), vm["power_state"].as_str().unwrap());
        assert_eq!(line.vcpus, vm["CPUs"]["number"].as_i64());
        assert_eq!(line.memory, vm["memory"]["size"].as_i64());
        let tags: Vec<&str> = vm["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(line.tags, tags);
        let container = vm["$container"].as_str().unwrap();
        let host = sim.object("hosts", container);
        assert_eq!(
            line.host.as_deref(),
            host.as_ref().map(|h| h["name_label"].as_str().unwrap()),
            "{}",
            line.name
        );
        if line.power() == "Running" {
            assert!(line.host.is_some(), "{}", line.name);
        }
        if line.power() == "Halted" {
            assert_eq!(line.host, None, "{}", line.name);
        }
    }

    // The text: a heading with the count per pool, one line per VM.
    let text = report.render();
    for count in &report.pools {
        assert!(
            text.contains(&format!("Pool {:?}: {} VM", count.name, count.vms)),
            "{text}"
        );
    }
    for line in &report.vms {
        let rows = text
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(line.name.as_str()))
            .count();
        assert_eq!(rows, 1, "{}", line.name);
    }
    assert!(text.ends_with("320 VMs in 3 pools\n"), "{text}");
}

#[tokio::test]
async fn attach_disk_to_running_vm() {
    let (sim, client) = sim().await;
    let disk = attach_disk_to_running_vm::run(
        &client,
        Some("web-01"),
        None,
        "data-disk",
        attach_disk_to_running_vm::DISK_SIZE,
    )
    .await
    .unwrap();

    let vm = sim.find_by_name("vms", "web-01").unwrap();
    assert_eq!(disk.vm.as_str(), vm["id"]);
    let pool = sim.object("pools", vm["$pool"].as_str().unwrap()).unwrap();
    assert_eq!(disk.sr.as_str(), pool["default_SR"]);
    let vdi = sim.object("vdis", disk.vdi.as_str()).unwrap();
    assert_eq!(vdi["name_label"], "data-disk");
    assert_eq!(vdi["size"], 53_687_091_200u64);
    assert_eq!(vdi["$SR"], disk.sr.as_str());
    let vbd = sim.object("vbds", disk.vbd.as_str()).unwrap();
    assert_eq!(vbd["VM"], disk.vm.as_str());
    assert_eq!(vbd["VDI"], disk.vdi.as_str());
    assert_eq!(vbd["attached"], true);

    // A halted VM (named by its id this time): refused before anything
    // is created.
    let vdis = sim.objects("vdis").len();
    let halted = sim.find_by_name("vms", "app-03").unwrap();
    let halted = halted["id"].as_str().unwrap();
    let err = attach_disk_to_running_vm::run(&client, Some(halted), None, "x", 1 << 30)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs a running VM"), "{err}");
    assert_eq!(sim.objects("vdis").len(), vdis);

    // Neither an id nor an exact name (`web` is only part of names).
    let err = attach_disk_to_running_vm::run(&client, Some("web"), None, "x", 1 << 30)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<xo_sdk::Error>(),
            Some(xo_sdk::Error::Lookup { found: 0, .. })
        ),
        "{err}"
    );
    assert_eq!(sim.objects("vdis").len(), vdis);
}

#[tokio::test]
async fn host_maintenance() {
    let (sim, client) = sim().await;
    let host = host_maintenance::evacuable_host(&client).await.unwrap();
    let h = sim.object("hosts", host.as_str()).unwrap();
    let control_domain = h["controlDomain"].clone();

    let sim_ref = &sim;
    let host_ref = host.as_str();
    let done = host_maintenance::run(&client, &host, async move {
        // During the work the host is disabled and runs no guest.
        let h = sim_ref.object("hosts", host_ref).unwrap();
        assert_eq!(h["enabled"], false);
        assert!(
            h["residentVms"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| *v == control_domain)
        );
        Ok(())
    })
    .await
    .unwrap();

    assert!(!done.moved.is_empty());
    for (vm, now_on) in &done.moved {
        let vm = sim.object("vms", vm.as_str()).unwrap();
        assert_ne!(vm["$container"], host.as_str());
        let now_on = now_on.as_ref().expect("a container").as_str();
        assert_eq!(vm["$container"], now_on);
        assert_eq!(sim.object("hosts", now_on).unwrap()["$pool"], h["$pool"]);
    }
    assert_eq!(sim.object("hosts", host.as_str()).unwrap()["enabled"], true);
    let disables = tasks_with_param(&sim, "evacuate", true.into());
    assert_eq!(disables.len(), 1);
    assert_eq!(disables[0]["properties"]["objectId"], host.as_str());

    // Failed work: the host stays disabled.
    let err = host_maintenance::run(&client, &host, async { Err("disk swap failed".into()) })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("stays disabled"), "{err}");
    assert_eq!(
        sim.object("hosts", host.as_str()).unwrap()["enabled"],
        false
    );
}

#[tokio::test]
async fn maintenance_mode_across_reboot() {
    use maintenance_mode_across_reboot::PowerOn;
    use std::time::Duration;

    let (sim, client) = sim().await;
    let host = maintenance_mode_across_reboot::first_non_master(&client)
        .await
        .unwrap();
    let start_before = sim.object("hosts", host.as_str()).unwrap()["startTime"].clone();

    let sim_ref = &sim;
    let host_ref = host.as_str();
    let work = async move {
        // The hardware work happens on a host that is off and disabled.
        let h = sim_ref.object("hosts", host_ref).unwrap();
        assert_eq!(h["power_state"], "Halted");
        assert_eq!(h["enabled"], false);
        Ok(())
    };
    let done = maintenance_mode_across_reboot::run(
        &client,
        &host,
        work,
        PowerOn::ThroughXo,
        Duration::from_millis(20),
    )
    .await
    .unwrap();
    assert_eq!(done.host, host);

    let h = sim.object("hosts", host.as_str()).unwrap();
    assert_eq!(h["power_state"], "Running");
    assert_eq!(h["enabled"], true);
    assert_ne!(h["startTime"], start_before);
    let disable = tasks_with_param(&sim, "autoEnable", false.into());
    assert_eq!(disable.len(), 1);
    assert_eq!(disable[0]["properties"]["params"]["evacuate"], true);
    let methods: Vec<String> = sim
        .objects("tasks")
        .into_iter()
        .filter(|t| t["properties"]["objectId"] == host.as_str())
        .map(|t| t["properties"]["method"].as_str().unwrap().to_owned())
        .collect();
    for step in [
        "host.disable",
        "host.clean_shutdown",
        "host.start",
        "host.enable",
    ] {
        assert!(methods.iter().any(|m| m == step), "{step} in {methods:?}");
    }

    // Nobody powers the host on: the wait ends at its deadline.
    let err = maintenance_mode_across_reboot::run(
        &client,
        &host,
        async { Ok(()) },
        PowerOn::ByHand(Duration::from_millis(100)),
        Duration::from_millis(20),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not running"), "{err}");
    assert_eq!(
        sim.object("hosts", host.as_str()).unwrap()["power_state"],
        "Halted"
    );
}

#[tokio::test]
async fn reboot_host_with_pinned_vms() {
    let (sim, client) = sim().await;
    let host = sim.find_by_name("hosts", "xcp-host-01").unwrap();
    let host_id = host["id"].as_str().unwrap();
    let reboot = reboot_host_with_pinned_vms::run(&client, &HostId::new(host_id))
        .await
        .unwrap();

    assert_eq!(reboot.task.status(), &TaskStatus::Success);
    let task = sim.object("tasks", reboot.task.id().unwrap()).unwrap();
    assert_eq!(task["properties"]["method"], "host.smart_reboot");
    assert_eq!(task["properties"]["params"]["bypassBlockedSuspend"], false);
    // The guests (not dom0) are resumed where they were.
    assert!(!reboot.residents_before.is_empty());
    let dom0 = host["controlDomain"].as_str().unwrap();
    assert!(reboot.residents_before.iter().all(|vm| vm.as_str() != dom0));
    assert_eq!(reboot.residents_before, reboot.residents_after);
    let after = sim.object("hosts", host_id).unwrap();
    assert_ne!(after["startTime"], host["startTime"]);
}

#[tokio::test]
async fn validate_backup_repository() {
    use validate_backup_repository::Verdict;

    let (sim, client) = sim().await;
    let repo = sim
        .find_by_name("backup-repositories", "NFS backups")
        .unwrap();
    let repo_id = repo["id"].as_str().unwrap().to_owned();
    let benchmarks = |sim: &xo_sim::Sim| {
        sim.object("backup-repositories", &repo_id).unwrap()["benchmarks"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = benchmarks(&sim);

    let verdict = validate_backup_repository::run(&client, Some("NFS backups"))
        .await
        .unwrap();
    let Verdict::Benchmarked {
        repository,
        task_id,
        benchmark,
    } = verdict
    else {
        panic!("{verdict:?}");
    };
    assert_eq!(repository.as_str(), repo_id);
    assert_eq!(benchmarks(&sim), before + 1);
    let last = &sim.object("backup-repositories", &repo_id).unwrap()["benchmarks"][before];
    assert!(benchmark.read_rate.is_some() && benchmark.write_rate.is_some());
    assert_eq!(benchmark.read_rate, last["readRate"].as_f64());
    assert_eq!(benchmark.write_rate, last["writeRate"].as_f64());
    assert_eq!(
        sim.object("tasks", task_id.as_str()).unwrap()["status"],
        "success"
    );

    // A disabled repository is unreachable: no benchmark is started.
    sim.update_object("backup-repositories", &repo_id, |r| {
        r.insert("enabled".into(), false.into());
    })
    .unwrap();
    let tasks = sim.objects("tasks").len();
    let verdict = validate_backup_repository::run(&client, Some(&repo_id))
        .await
        .unwrap();
    assert!(
        matches!(verdict, Verdict::Unreachable { .. }),
        "{verdict:?}"
    );
    assert_eq!(sim.objects("tasks").len(), tasks);
    assert_eq!(benchmarks(&sim), before + 1);
}

#[tokio::test]
async fn rbac_read_only_operator() {
    let (sim, client) = sim().await;
    let operator = sim.find_by_name("users", "operator@example.com").unwrap();
    let operator_id = operator["id"].as_str().unwrap();
    let as_operator = xo_sdk::Client::builder(sim.url())
        .token(sim.create_token(operator_id).unwrap())
        .build()
        .unwrap();
    // xo-sim's operator reads only the VMs tagged `web` so far.
    let vms_seen = || async { as_operator.vms().list().refs().await.unwrap().len() };
    let all_vms = sim.objects("vms").len();
    assert!(vms_seen().await < all_vms);

    let made = rbac_read_only_operator::run(&client, "operator@example.com", "operator-readonly")
        .await
        .unwrap();

    let role = sim.object("acl-roles", made.role.as_str()).unwrap();
    assert_eq!(role["name"], "operator-readonly");
    assert_eq!(role["userIds"], serde_json::json!([operator_id]));
    assert_eq!(role["privilegeIds"], serde_json::json!(made.privileges));
    let mut resources = Vec::new();
    for id in &made.privileges {
        let p = sim.object("acl-privileges", id.as_str()).unwrap();
        assert_eq!(
            (&p["action"], &p["effect"]),
            (&"read".into(), &"allow".into())
        );
        assert_eq!(p["roleId"], made.role.as_str());
        resources.push(p["resource"].as_str().unwrap().to_owned());
    }
    assert_eq!(resources, rbac_read_only_operator::READABLE);
    // The role works: the operator now reads every VM.
    assert_eq!(vms_seen().await, all_vms);

    let err = rbac_read_only_operator::run(&client, "nobody@example.com", "r")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no user"), "{err}");
    assert!(sim.find_by_name("acl-roles", "r").is_none());
}

#[tokio::test]
async fn group_based_access() {
    let (sim, client) = sim().await;
    let members = ["alice@example.com", "bob@example.com"];
    group_based_access::create_missing_users(&client, &members)
        .await
        .unwrap();
    let team = group_based_access::run(&client, "devops-team", &members, "VM operator")
        .await
        .unwrap();

    let group = sim.object("groups", team.group.as_str()).unwrap();
    assert_eq!(group["name"], "devops-team");
    let member_ids: Vec<UserId> = members
        .iter()
        .map(|m| {
            UserId::new(
                sim.find_by_name("users", m).unwrap()["id"]
                    .as_str()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(group["users"], serde_json::json!(member_ids));
    assert_eq!(team.users, member_ids);
    assert_eq!(group["aclRoleIds"], serde_json::json!([team.role]));
    let role = sim.object("acl-roles", team.role.as_str()).unwrap();
    assert_eq!(role["name"], "VM operator");
    assert!(
        role["groupIds"]
            .as_array()
            .unwrap()
            .contains(&team.group.as_str().into())
    );

    // An unknown member: nothing is created.
    let groups = sim.objects("groups").len();
    let err = group_based_access::run(&client, "g", &["carol@example.com"], "VM operator")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no user"), "{err}");
    assert_eq!(sim.objects("groups").len(), groups);
}

#[tokio::test]
async fn add_pool_server() {
    let (sim, client) = sim().await;
    let server = add_pool_server::run(
        &client,
        "xcp.example.com",
        "root",
        "supersecret",
        "production-pool",
    )
    .await
    .unwrap();
    let id = server.id.clone().unwrap();
    let s = sim.object("servers", id.as_str()).unwrap();
    assert_eq!(s["host"], "xcp.example.com");
    assert_eq!(s["label"], "production-pool");
    assert_eq!(s["username"], "root");
    assert_eq!(s["status"], "connected");
    assert_eq!(server.status.unwrap().as_str(), "connected");

    // The same host again: XO refuses, nothing is connected.
    let err = add_pool_server::run(&client, "xcp.example.com", "root", "x", "again")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("409"), "{err}");
}

#[tokio::test]
async fn provision_vm_from_template() {
    let (sim, client) = sim().await;
    let made = provision_vm_from_template::run(&client, "fresh-debian", "Debian")
        .await
        .unwrap();
    let id = made.vm.id.clone().unwrap();
    let vm = sim.object("vms", id.as_str()).unwrap();
    assert_eq!(vm["name_label"], "fresh-debian");
    assert_eq!(vm["power_state"], "Running");
    assert_eq!(vm["memory"]["size"], provision_vm_from_template::MEMORY);
    let template = sim.object("vm-templates", made.template.as_str()).unwrap();
    assert!(template["name_label"].as_str().unwrap().contains("Debian"));
    assert_eq!(vm["$pool"], template["$pool"]);
    assert_eq!(made.pool.as_str(), vm["$pool"]);
    // Synchronous: the task was over when create_vm answered.
    let create = sim
        .objects("tasks")
        .into_iter()
        .find(|t| t["properties"]["method"] == "pool.create_vm")
        .unwrap();
    assert_eq!(create["status"], "success");
    assert_eq!(create["result"]["id"], id.as_str());
}

#[tokio::test]
async fn host_stats_last_hour() {
    let (sim, client) = sim().await;
    let host = HostId::new(sim.ids("hosts")[0].clone());
    let summary = host_stats_last_hour::run(&client, &host).await.unwrap();

    // The same figures, computed from the raw answer.
    let raw = client
        .hosts()
        .get_stats(&host)
        .granularity("minutes")
        .send_as::<serde_json::Value>()
        .await
        .unwrap();
    let last_hour = |series: &serde_json::Value| -> Vec<f64> {
        let all = series.as_array().unwrap();
        all[all.len() - 60..]
            .iter()
            .filter_map(|v| v.as_f64())
            .collect()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let cpus = raw["stats"]["cpus"].as_object().unwrap();
    let cpu: Vec<f64> = cpus.values().flat_map(last_hour).collect();
    let total = last_hour(&raw["stats"]["memory"]);
    let free = last_hour(&raw["stats"]["memoryFree"]);
    let used: Vec<f64> = total.iter().zip(&free).map(|(t, f)| t - f).collect();
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() <= 1e-6 * b.abs().max(1.0);

    assert_eq!(summary.interval, 60);
    assert_eq!(summary.samples, 60);
    assert_eq!(summary.cpus, cpus.len());
    assert!(close(summary.cpu_mean, mean(&cpu)));
    assert!(close(summary.memory_used_mean, mean(&used)));
    assert!(close(
        summary.load_mean,
        mean(&last_hour(&raw["stats"]["load"]))
    ));
    assert!(summary.cpu_peak.unwrap() >= summary.cpu_mean.unwrap());
}

#[tokio::test]
async fn health_snapshot() {
    let (sim, client) = sim().await;
    let health = health_snapshot::run(&client).await.unwrap();
    let mut ids: Vec<String> = health
        .alarms
        .iter()
        .map(|a| a.id.clone().unwrap().into())
        .collect();
    ids.sort();
    let mut expected = sim.ids("alarms");
    expected.sort();
    assert_eq!(ids, expected);
    assert!(health.alarms.windows(2).all(|w| w[0].time >= w[1].time));
    assert!(
        health
            .alarms
            .iter()
            .all(|a| a.body.is_some() && a.object.is_some())
    );
    let d = &health.dashboard;
    assert_eq!(d.n_hosts, Some(sim.objects("hosts").len() as i64));
    let vms = d.vms_status.as_ref().unwrap();
    assert_eq!(vms.total, Some(sim.objects("vms").len() as i64));
    assert_eq!(
        vms.running,
        Some(ids_where(&sim, "vms", "power_state", "Running").len() as i64)
    );
}

#[tokio::test]
async fn register_nfs_backup_repository() {
    let (sim, client) = sim().await;
    let url = "nfs://nas.example.com:/srv/backups";
    let repo = register_nfs_backup_repository::run(&client, "nightly-nfs", url)
        .await
        .unwrap();
    let r = sim
        .object("backup-repositories", repo.id.as_ref().unwrap().as_str())
        .unwrap();
    assert_eq!(r["name"], "nightly-nfs");
    assert_eq!(r["url"], url);
    assert_eq!(r["enabled"], true);
    assert_eq!(repo.enabled, Some(true));
}

#[tokio::test]
async fn lock_down_vif() {
    let (sim, client) = sim().await;
    let vif = VifId::new(sim.ids("vifs")[0].clone());
    let after = lock_down_vif::run(&client, &vif, "10.0.0.42/32", lock_down_vif::RATE_LIMIT)
        .await
        .unwrap();
    let v = sim.object("vifs", vif.as_str()).unwrap();
    assert_eq!(v["lockingMode"], "locked");
    assert_eq!(
        v["allowedIpv4Addresses"],
        serde_json::json!(["10.0.0.42/32"])
    );
    assert_eq!(v["rateLimit"], 100_000);
    assert_eq!(
        after.allowed_ipv4_addresses,
        Some(vec!["10.0.0.42/32".to_owned()])
    );
}

#[tokio::test]
async fn export_vm() {
    // Without and with a Content-Length (XO usually sends none).
    for with_length in [false, true] {
        let sim = xo_sim::Sim::builder()
            .export_size(3 * 1024 * 1024 + 17)
            .export_content_length(with_length)
            .start()
            .await
            .unwrap();
        let client = xo_sdk::Client::builder(sim.url())
            .token(sim.token())
            .build()
            .unwrap();
        let vm = VmId::new(ids_where(&sim, "vms", "power_state", "Halted")[0].clone());
        let dir = scratch_dir("export");
        let path = dir.join("vm.xva.zst");

        let export = export_vm::run(&client, &vm, &path, Some(Compression::Zstd))
            .await
            .unwrap();
        let expected = xo_sim::export_bytes(
            &xo_sim::export_key(vm.as_str(), "xva", Some("zstd")),
            sim.config().export_size,
        );
        let written = std::fs::read(&path).unwrap();
        assert_eq!(export.bytes, expected.len() as u64);
        assert!(
            written == expected,
            "the file holds the export (length {with_length})"
        );
        // Nothing but the file is left in the directory.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

        // An unknown VM: an error, and no file.
        let missing = dir.join("missing.xva");
        let err = export_vm::run(&client, &VmId::new("no-such-vm"), &missing, None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("404"), "{err}");
        assert!(!missing.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[tokio::test]
async fn import_vdi() {
    let (sim, client) = sim().await;
    let dir = scratch_dir("import");
    let file = dir.join("restored-disk.raw");
    let size = 3 * 1024 * 1024 + 5;
    import_vdi::demo_image(&file, size).await.unwrap();
    let sr = SrId::new(sim.objects("pools")[0]["default_SR"].as_str().unwrap());

    let import = import_vdi::run(&client, &file, &sr).await.unwrap();
    assert_eq!(import.bytes, size as u64);
    assert_eq!(import.format, VdiFormat::Raw);
    let record = sim.imports().pop().unwrap();
    assert!(record.accepted);
    assert_eq!(record.target, sr.as_str());
    assert_eq!(record.object_id.as_deref(), Some(import.vdi.as_str()));
    assert_eq!(record.bytes, size as u64);
    assert_eq!(record.content_length, Some(size as u64));
    assert_eq!(record.fnv1a64, fnv1a64(&std::fs::read(&file).unwrap()));
    let vdi = sim.object("vdis", import.vdi.as_str()).unwrap();
    assert_eq!(vdi["name_label"], "restored-disk");
    assert_eq!(vdi["image_format"], "raw");
    assert_eq!(vdi["$SR"], sr.as_str());

    // Not a disk image: refused before any request.
    let requests = sim.request_count();
    let err = import_vdi::run(&client, &dir.join("disk.qcow2"), &sr)
        .await
        .unwrap_err();
    assert!(err.to_string().contains(".vhd"), "{err}");
    assert_eq!(sim.request_count(), requests);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn watch_events() {
    use std::time::{Duration, Instant};
    use watch_events::Limits;

    let (sim, client) = sim().await;
    let limits = Limits {
        max_events: 100,
        timeout: Duration::from_secs(20),
    };
    let seen = watch_events::run(&client, limits, true).await.unwrap();

    // The clone was added, started and stopped, and removed.
    let add = seen.iter().find(|s| s.kind == "add").expect("an add event");
    let demo = add.id.clone();
    assert_eq!(
        add.vm.as_ref().unwrap().name_label.as_deref(),
        Some(watch_events::DEMO_VM)
    );
    let states: Vec<_> = seen
        .iter()
        .filter(|s| s.id == demo && s.kind == "update")
        .filter_map(|s| s.vm.as_ref().unwrap().power_state.clone())
        .collect();
    assert!(states.contains(&PowerState::Running), "{states:?}");
    let last = seen.last().unwrap();
    assert_eq!((last.kind, last.id.as_str()), ("remove", demo.as_str()));
    assert!(sim.object("vms", demo.as_str()).is_none());
    assert!(sim.find_by_name("vms", watch_events::DEMO_VM).is_none());

    // Watching only, nothing changes: it stops at its timeout.
    let started = Instant::now();
    let quiet = Limits {
        max_events: 10,
        timeout: Duration::from_millis(300),
    };
    let seen = watch_events::run(&client, quiet, false).await.unwrap();
    assert!(seen.is_empty(), "{seen:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // At most `max_events`.
    let few = Limits {
        max_events: 2,
        timeout: Duration::from_secs(20),
    };
    let seen = watch_events::run(&client, few, true).await.unwrap();
    assert_eq!(seen.len(), 2);
}

/// FNV-1a, 64 bits: the checksum xo-sim records for each import.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A new empty directory under the system temporary directory.
fn scratch_dir(what: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "xo-sdk-examples-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn live_inventory() {
    use std::time::Duration;
    let (sim, client) = sim().await;
    let limits = live_inventory::Limits {
        max_changes: 2,
        timeout: Duration::from_secs(20),
    };
    let (counts, seen) = live_inventory::run(&client, limits, true).await.unwrap();
    // A VM started then stopped: two changes, and the counts are XO's.
    assert_eq!(seen, 2);
    let mut expected = std::collections::BTreeMap::new();
    for vm in sim.objects("vms") {
        *expected
            .entry(vm["power_state"].as_str().unwrap().to_owned())
            .or_insert(0usize) += 1;
    }
    assert_eq!(counts, expected);
}

#[tokio::test]
async fn keep_running() {
    use std::time::Duration;
    let (sim, client) = sim().await;
    let limits = keep_running::Limits {
        max_starts: 2,
        timeout: Duration::from_secs(30),
    };
    let started = keep_running::run(&client, keep_running::DEMO_TAG, limits, true)
        .await
        .unwrap();
    // Started when it got the tag, and again after it was shut down.
    assert_eq!(started.len(), 2, "{started:?}");
    assert_eq!(started[0], started[1]);
    let vm = sim.object("vms", started[0].as_str()).unwrap();
    assert_eq!(vm["power_state"], "Running");
    assert!(
        vm["tags"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(keep_running::DEMO_TAG))
    );
}
