//! Actions, tasks and live events over real HTTP against xo-sim: the
//! asynchronous form (202 → task → typed result), failed and aborted
//! tasks, a long-poll whose connection breaks mid-wait, the synchronous
//! forms (204, 201 + Location, 200) and their typed outputs, the typed
//! answers of creates and empty operations, XO's error codes, the task
//! watch stream, and SSE subscriptions with add/update/remove, pings, a
//! dropped stream that is re-subscribed, and a bounded reconnection that
//! gives up.
//!
//! No assertion depends on timing: tests wait for conditions the simulator
//! reports (a long-poll in flight, an event), and tasks that must stay
//! pending run with an hour-long simulated duration.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use support::{Reply, Server, sim};
use xo_sdk::RetryConfig;
use xo_sdk::types::{
    AclRoleId, BackupRepositoryBenchmark, BackupRepositoryId, NetworkId, PoolId, PowerState, SrId,
    TaskId, TaskStatus, UserId, VdiId, Vm, VmId, VmSnapshotId, VmTemplateId,
};
use xo_sdk::xo::{Action, Event, SyncOutcome, Task, TaskError, TaskEvent, TaskState, WatchTasks};

const LONG: Duration = Duration::from_secs(3600);

fn client_for(sim: &xo_sim::Sim) -> xo_sdk::Client {
    xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .build()
        .unwrap()
}

/// A client that never retries: what the SDK's own code re-issues is all
/// that reaches the simulator.
fn no_retry_client(sim: &xo_sim::Sim) -> xo_sdk::Client {
    xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

/// A simulator whose tasks stay pending for an hour (until a test ends
/// them).
async fn slow_sim() -> xo_sim::Sim {
    xo_sim::Sim::builder()
        .task_delay(LONG)
        .start()
        .await
        .expect("xo-sim starts")
}

/// The seeded VMs in `power_state` that may be started.
fn vms_in(sim: &xo_sim::Sim, power_state: &str) -> Vec<VmId> {
    sim.objects("vms")
        .into_iter()
        .filter(|v| {
            v["power_state"] == power_state && v["blockedOperations"].get("start").is_none()
        })
        .filter_map(|v| v["id"].as_str().map(VmId::new))
        .collect()
}

fn vm_in(sim: &xo_sim::Sim, power_state: &str) -> VmId {
    vms_in(sim, power_state)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("the seed has a {power_state} VM"))
}

/// Wait (without a time limit: the test harness has one) until `cond`.
async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------------------
// Which tools are actions, and what their tasks give

/// The generator's view of the XO description, with both overlays, as
/// build.rs generates the SDK from it.
fn analyzed() -> xo_codegen::ir::Api {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = xo_codegen::Input::new(root.join("dadl/xen-orchestra.dadl"))
        .with_overlay(root.join("dadl/xen-orchestra.errata.yaml"))
        .with_overlay(root.join("dadl/xen-orchestra.sdk.yaml"));
    xo_codegen::analyze(&input).unwrap()
}

/// Every action tool (`POST …/actions/NAME`, or a `sync` query parameter:
/// the calls XO answers with 202 and a task) is an action in the
/// generator's IR, the IR has no other actions, and the generated client
/// implements `Action` for exactly these builders, with the declared task
/// result as `Output`.
#[test]
fn every_action_tool_is_typed() {
    let api = analyzed();
    let mut expected = BTreeSet::new();
    for op in &api.operations {
        let sync = op
            .params
            .iter()
            .any(|p| p.location == xo_codegen::ir::Location::Query && p.name == "sync");
        if op.path.contains("/actions/") || sync {
            assert_eq!(op.http_method, "POST", "{}", op.tool);
            assert!(sync, "{} has no `sync` parameter", op.tool);
            assert!(
                matches!(op.kind, xo_codegen::ir::Kind::Action { .. }),
                "{} is not an action in the IR: {:?}",
                op.tool,
                op.kind
            );
            expected.insert(op.tool.as_str());
        }
    }
    let actions: BTreeSet<&str> = api
        .operations
        .iter()
        .filter(|op| matches!(op.kind, xo_codegen::ir::Kind::Action { .. }))
        .map(|op| op.tool.as_str())
        .collect();
    assert_eq!(actions, expected, "the IR's actions are the action tools");
    assert_eq!(expected.len(), 58);

    // What each action's task gives: the new object's id for the actions
    // that make one (or give one a new id), the benchmark's figures, and
    // nothing for the others.
    let outputs: Vec<(&str, String)> = api
        .operations
        .iter()
        .filter_map(|op| match &op.kind {
            xo_codegen::ir::Kind::Action { output: Some(ty) } => Some((
                op.tool.as_str(),
                match ty {
                    xo_codegen::types::TypeRef::Named(name) => name.clone(),
                    other => panic!("{}: unexpected task output {other:?}", op.tool),
                },
            )),
            _ => None,
        })
        .collect();
    let outputs: BTreeSet<(&str, &str)> = outputs.iter().map(|(t, o)| (*t, o.as_str())).collect();
    assert_eq!(
        outputs,
        BTreeSet::from([
            ("snapshot_vm", "VmSnapshotId"),
            ("clone_vm", "VmId"),
            ("copy_vm", "VmId"),
            ("create_vm", "VmId"),
            ("create_pool_network", "NetworkId"),
            ("create_bonded_network", "NetworkId"),
            ("create_internal_network", "NetworkId"),
            ("migrate_vdi", "VdiId"),
            ("copy_acl_role", "AclRoleId"),
            ("benchmark_backup_repository", "BackupRepositoryBenchmark"),
        ])
    );

    // The compiled client: one `Action` impl per action of the IR, whose
    // `Output` is the declared result (`()` when there is none), and no
    // other impl.
    let generated = include_str!(concat!(env!("OUT_DIR"), "/xo_api.rs"));
    const IMPL: &str = "impl ::xo_sdk::xo::Action for ";
    let impls: Vec<(&str, &str)> = generated
        .match_indices(IMPL)
        .map(|(at, _)| {
            let rest = &generated[at + IMPL.len()..];
            let type_name = rest.split_whitespace().next().unwrap();
            let output = rest
                .split_once("type Output = ")
                .and_then(|(_, o)| o.split_once(';'))
                .map(|(o, _)| o.trim())
                .unwrap();
            (type_name, output)
        })
        .collect();
    assert_eq!(impls.len(), expected.len(), "{impls:?}");
    for op in &api.operations {
        let xo_codegen::ir::Kind::Action { output } = &op.kind else {
            assert!(
                !impls.iter().any(|(t, _)| *t == op.type_name),
                "{} is not an action but implements Action",
                op.tool
            );
            continue;
        };
        let want = match output {
            Some(xo_codegen::types::TypeRef::Named(name)) => format!("super::types::{name}"),
            None => "()".to_owned(),
            Some(other) => panic!("{}: unexpected task output {other:?}", op.tool),
        };
        let found: Vec<&str> = impls
            .iter()
            .filter(|(t, _)| *t == op.type_name)
            .map(|(_, o)| *o)
            .collect();
        assert_eq!(found, [want.as_str()], "{} ({})", op.tool, op.type_name);
    }
}

/// The same, checked by the compiler on the builders themselves.
#[test]
fn action_outputs_are_typed_at_compile_time() {
    fn output<A: Action<Output = O>, O>(_: &A) {}
    let client = xo_sdk::Client::builder("http://127.0.0.1:9")
        .token("t")
        .build()
        .unwrap();
    let vm = VmId::new("vm");
    let pool = PoolId::new("pool");
    output::<_, VmSnapshotId>(&client.vms().snapshot(&vm));
    output::<_, VmId>(&client.vms().clone_vm(&vm));
    output::<_, VmId>(&client.vms().copy(&vm, SrId::new("sr")));
    output::<_, VmId>(
        &client
            .pools()
            .create_vm(&pool, "web", VmTemplateId::new("tpl")),
    );
    output::<_, NetworkId>(&client.pools().create_internal_network(&pool, "net"));
    output::<_, VdiId>(&client.vdis().migrate(VdiId::new("vdi"), SrId::new("sr")));
    output::<_, AclRoleId>(&client.acl_roles().copy(AclRoleId::new("role")));
    output::<_, BackupRepositoryBenchmark>(
        &client
            .backup_repositories()
            .benchmark(BackupRepositoryId::new("repo")),
    );
    output::<_, ()>(&client.vms().start(&vm));
    output::<_, ()>(&client.vms().clean_shutdown(&vm));
    output::<_, ()>(&client.tasks().abort(TaskId::new("t")));
}

// ---------------------------------------------------------------------------
// Asynchronous actions and tasks

#[tokio::test]
async fn async_action_gives_a_task_that_succeeds_with_a_result() {
    let (sim, client) = sim().await;
    let vm = vm_in(&sim, "Running");
    let task = client
        .vms()
        .snapshot(&vm)
        .name_label("before upgrade")
        .submit()
        .await
        .unwrap();
    // The handle names the task XO created for the action.
    let raw = sim
        .object("tasks", task.id().as_str())
        .expect("the task exists");
    assert_eq!(raw["properties"]["objectId"], json!(vm));

    let done = task.wait().await.unwrap();
    assert!(done.is_success());
    assert_eq!(done.status(), &TaskStatus::Success);
    assert_eq!(done.progress(), Some(100.0));
    assert_eq!(done.object_id(), Some(vm.as_str()));
    assert!(done.name().unwrap().contains("snapshot"));
    assert!(done.typed().unwrap().end.is_some());

    // The typed result: the new snapshot's id, from XO's `{id}` result.
    let created: VmSnapshotId = task.result().await.unwrap();
    assert_eq!(
        done.result_as::<Value>().unwrap(),
        json!({ "id": created.as_str() })
    );
    let snapshot = sim
        .object("vm-snapshots", created.as_str())
        .expect("snapshot");
    assert_eq!(snapshot["name_label"], "before upgrade");
    assert_eq!(snapshot["$snapshot_of"], json!(vm));
    // Asking again gives the same.
    assert_eq!(task.result().await.unwrap(), created);

    // A void action: success with nothing to read, and the effect is there.
    let halted = vm_in(&sim, "Halted");
    let task = client.vms().start(&halted).submit().await.unwrap();
    let () = task.result().await.unwrap();
    assert_eq!(
        task.wait().await.unwrap().into_result().unwrap(),
        Value::Null
    );
    assert_eq!(
        sim.object("vms", halted.as_str()).unwrap()["power_state"],
        "Running"
    );

    // poll() of a finished task; a handle from an id.
    let again = client.task(task.id()).poll().await.unwrap();
    assert_eq!(again.status(), Some(TaskStatus::Success));
    assert!(!again.is_pending());
}

#[tokio::test]
async fn snapshot_task_result_is_a_snapshot_of_the_vm() {
    let (sim, client) = sim().await;
    let vm = vm_in(&sim, "Running");
    let before = sim.ids("vm-snapshots");
    // `send()` is the asynchronous form: a task typed by the action.
    let task: Task<VmSnapshotId> = client
        .vms()
        .snapshot(&vm)
        .name_label("typed snapshot")
        .send()
        .await
        .unwrap();
    let snap: VmSnapshotId = task.result().await.unwrap();
    assert!(!before.contains(&snap.to_string()), "a new object");

    // In xo-sim's state: a VM snapshot of that VM, listed by the VM.
    let raw = sim.object("vm-snapshots", snap.as_str()).expect("exists");
    assert_eq!(raw["type"], "VM-snapshot");
    assert_eq!(raw["$snapshot_of"], vm.as_str());
    assert_eq!(raw["name_label"], "typed snapshot");
    let parent = sim.object("vms", vm.as_str()).unwrap();
    assert!(
        parent["snapshots"]
            .as_array()
            .unwrap()
            .contains(&json!(snap)),
        "{parent}"
    );

    // The typed id reads the typed object back.
    let got = client.vm_snapshots().get(&snap).send().await.unwrap();
    assert_eq!(got.id.as_ref(), Some(&snap));
    assert_eq!(got.snapshot_of.as_ref(), Some(&vm));
    let vm_now = client.vms().get(&vm).send().await.unwrap();
    assert!(vm_now.snapshots.unwrap_or_default().contains(&snap));
}

#[tokio::test]
async fn clone_task_result_is_the_new_vm() {
    let (sim, client) = sim().await;
    let source = vm_in(&sim, "Halted");
    let before = sim.ids("vms");
    let task: Task<VmId> = client
        .vms()
        .clone_vm(&source)
        .name_label("typed clone")
        .send()
        .await
        .unwrap();
    let clone: VmId = task.result().await.unwrap();
    assert_ne!(clone, source);
    assert!(!before.contains(&clone.to_string()), "a new VM");
    let raw = sim.object("vms", clone.as_str()).expect("the clone exists");
    assert_eq!(raw["type"], "VM");
    assert_eq!(raw["name_label"], "typed clone");
    assert_eq!(sim.ids("vms").len(), before.len() + 1);

    let vm = client.vms().get(&clone).send().await.unwrap();
    assert_eq!(vm.id.as_ref(), Some(&clone));
    assert_eq!(vm.name_label.as_deref(), Some("typed clone"));
    assert_eq!(vm.power_state, Some(PowerState::Halted));
}

#[tokio::test]
async fn a_failing_task_is_a_typed_failure() {
    let (sim, client) = sim().await;
    // Starting a running VM: XAPI's VM_BAD_POWER_STATE, in the task only.
    let running = vm_in(&sim, "Running");
    let task = client.vms().start(&running).submit().await.unwrap();
    let done = task.wait().await.unwrap();
    assert_eq!(done.status(), &TaskStatus::Failure);
    let failure = done.clone().into_result().unwrap_err();
    assert_eq!(failure.task_id, task.id());
    assert_eq!(failure.status, TaskStatus::Failure);
    assert!(
        failure.message.starts_with("VM_BAD_POWER_STATE("),
        "{}",
        failure.message
    );
    assert_eq!(failure.name.as_deref(), Some("XapiError"));
    assert_eq!(failure.code.as_deref(), Some("VM_BAD_POWER_STATE"));
    let data = failure.data.as_ref().expect("data");
    assert_eq!(data["params"][1], "halted");
    assert!(!failure.is_interrupted());
    assert!(
        failure.to_string().contains("failed: VM_BAD_POWER_STATE"),
        "{failure}"
    );

    // The same through the one-`?` forms.
    match task.result().await {
        Err(TaskError::Failed(f)) => assert_eq!(f, failure),
        other => panic!("expected a task failure, got {other:?}"),
    }
    let err = task.result_as::<Value>().await.unwrap_err();
    assert_eq!(
        err.failure().map(|f| f.code.as_deref()),
        Some(Some("VM_BAD_POWER_STATE"))
    );
    assert!(err.sdk().is_none());

    // An action refused before any task exists is an HTTP error.
    let err = client
        .vms()
        .start(VmId::new("no-such-vm"))
        .submit()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn an_aborted_task_ends_interrupted() {
    let sim = slow_sim().await;
    let client = client_for(&sim);
    let halted = vm_in(&sim, "Halted");
    let task = client.vms().start(&halted).submit().await.unwrap();
    let state = task.poll().await.unwrap();
    assert!(state.is_pending());
    assert!(!state.abortion_requested());

    task.abort().await.unwrap();
    let done = task.wait().await.unwrap();
    assert_eq!(done.status(), &TaskStatus::Interrupted);
    assert!(done.abortion_requested());
    let failure = done.failure().unwrap();
    assert!(failure.is_interrupted() && failure.aborted);
    assert!(failure.to_string().contains("was interrupted"), "{failure}");
    // The typed result is the interruption.
    let err = task.result().await.unwrap_err();
    assert!(err.failure().is_some_and(|f| f.is_interrupted()), "{err}");
    // The action's effect never happened.
    assert_eq!(
        sim.object("vms", halted.as_str()).unwrap()["power_state"],
        "Halted"
    );
}

#[tokio::test]
async fn a_long_poll_dropped_mid_wait_is_resumed() {
    let sim = slow_sim().await;
    // No runtime retries: only Task::wait re-issues the long-poll.
    let client = no_retry_client(&sim);
    let halted = vm_in(&sim, "Halted");
    let task = client.vms().start(&halted).submit().await.unwrap();

    let waiting = tokio::spawn({
        let task = task.clone();
        async move { task.wait().await }
    });
    until(|| sim.task_waits_in_flight() == 1).await;
    assert_eq!(sim.task_wait_count(), 1);

    // The connection breaks mid-wait; the handle checks the task and waits
    // again.
    sim.drop_task_waits();
    until(|| sim.task_wait_count() == 2 && sim.task_waits_in_flight() == 1).await;
    assert!(!waiting.is_finished());

    // The task ends: the resumed long-poll answers.
    sim.update_object("tasks", task.id().as_str(), |t| {
        t.insert("status".into(), json!("success"));
        t.insert("progress".into(), json!(100));
        t.insert("end".into(), json!(1));
        t.insert("result".into(), json!({"answer": 42}));
    })
    .unwrap();
    let done = waiting.await.unwrap().unwrap();
    assert!(done.is_success());
    assert_eq!(done.into_result().unwrap(), json!({"answer": 42}));
    assert_eq!(sim.task_wait_count(), 2);
}

#[tokio::test]
async fn wait_for_gives_up_at_the_client_deadline() {
    let sim = slow_sim().await;
    let client = client_for(&sim);
    let vm = vm_in(&sim, "Halted");
    let task = client.vms().start(&vm).submit().await.unwrap();
    let err = task.wait_for(Duration::from_millis(20)).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.tool(), Some("get_task"));
    // The task is still there, still pending.
    assert!(task.poll().await.unwrap().is_pending());
}

#[tokio::test]
async fn waiting_for_a_task_that_is_gone_fails_at_once() {
    let (_sim, client) = sim().await;
    let err = client
        .task(TaskId::new("no-such-task"))
        .wait()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

// ---------------------------------------------------------------------------
// Synchronous actions

/// What xo-sim answers to the request `run_sync` sends (`sync=true`).
async fn sync_answer<A: Action>(action: A) -> SyncOutcome {
    let response = action
        .set_sync(true)
        .request()
        .send_response()
        .await
        .unwrap();
    SyncOutcome::from_response(&response)
}

#[tokio::test]
async fn sync_forms_204_201_200() {
    let (sim, client) = sim().await;
    let halted = vms_in(&sim, "Halted");
    assert!(halted.len() >= 2, "the seed has two halted VMs");

    // 204: a void action.
    assert_eq!(
        sync_answer(client.vms().start(&halted[1])).await,
        SyncOutcome::Done
    );
    let () = client.vms().start(&halted[0]).run_sync().await.unwrap();
    for vm in &halted[..2] {
        assert_eq!(
            sim.object("vms", vm.as_str()).unwrap()["power_state"],
            "Running"
        );
    }

    // 201 {id} + Location: a new object, whose id is the typed output.
    let outcome = sync_answer(client.vms().snapshot(&halted[0]).name_label("wire snap")).await;
    let SyncOutcome::Created { id, location } = &outcome else {
        panic!("expected Created, got {outcome:?}");
    };
    assert_eq!(
        location.as_deref(),
        Some(&*format!("/rest/v0/vm-snapshots/{id}"))
    );
    assert_eq!(outcome.created_id(), Some(id.as_str()));
    let snap: VmSnapshotId = client
        .vms()
        .snapshot(&halted[0])
        .name_label("sync snap")
        .run_sync()
        .await
        .unwrap();
    assert_ne!(snap.as_str(), id);
    let raw = sim.object("vm-snapshots", snap.as_str()).unwrap();
    assert_eq!(raw["name_label"], "sync snap");
    assert_eq!(raw["$snapshot_of"], halted[0].as_str());

    // 200 {id}: a migrated VDI gets a new id, without Location.
    let vdis = sim.objects("vdis");
    let target_for = |vdi: &Value| -> SrId {
        sim.objects("srs")
            .into_iter()
            .find(|sr| sr["content_type"] != "iso" && sr["id"] != vdi["$SR"])
            .and_then(|sr| sr["id"].as_str().map(SrId::new))
            .unwrap()
    };
    let vdi_id = VdiId::new(vdis[1]["id"].as_str().unwrap());
    let outcome = sync_answer(client.vdis().migrate(&vdi_id, target_for(&vdis[1]))).await;
    let SyncOutcome::Created {
        id: wire_id,
        location: None,
    } = &outcome
    else {
        panic!("expected Created without Location, got {outcome:?}");
    };
    assert_ne!(wire_id, vdi_id.as_str());

    let vdi_id = VdiId::new(vdis[0]["id"].as_str().unwrap());
    let target = target_for(&vdis[0]);
    let migrated: VdiId = client
        .vdis()
        .migrate(&vdi_id, &target)
        .run_sync()
        .await
        .unwrap();
    assert_ne!(migrated, vdi_id);
    assert_eq!(
        sim.object("vdis", migrated.as_str()).unwrap()["$SR"],
        target.as_str()
    );

    // 200 with a value: a benchmark, decoded into its model.
    let repo = sim
        .objects("backup-repositories")
        .into_iter()
        .find(|r| r["enabled"] == true)
        .and_then(|r| r["id"].as_str().map(BackupRepositoryId::new))
        .unwrap();
    let outcome = sync_answer(client.backup_repositories().benchmark(&repo)).await;
    let SyncOutcome::Value(bench) = outcome else {
        panic!("expected a value, got {outcome:?}");
    };
    assert!(bench["writeRate"].as_f64().unwrap() > 0.0);
    let bench: BackupRepositoryBenchmark = client
        .backup_repositories()
        .benchmark(&repo)
        .run_sync()
        .await
        .unwrap();
    assert!(bench.write_rate.unwrap() > 0.0, "{bench:?}");
    assert!(bench.read_rate.unwrap() > 0.0, "{bench:?}");

    // A synchronous failure is an HTTP error with XO's data and code.
    let err = client.vms().start(&halted[0]).run_sync().await.unwrap_err();
    assert!(err.failure().is_none(), "no task to fail: {err}");
    let api = err
        .sdk()
        .and_then(xo_sdk::Error::as_api)
        .expect("an API error");
    assert_eq!(api.status, 500);
    assert_eq!(api.server_code.as_deref(), Some("VM_BAD_POWER_STATE"));
    assert_eq!(api.data.as_ref().unwrap()["code"], "VM_BAD_POWER_STATE");
}

/// The wire of `run_sync` and `send`, and every answer form `run_sync`
/// decodes, against a scripted server.
#[tokio::test]
async fn run_sync_asks_for_sync_and_decodes_every_answer_form() {
    let server = Server::start(|req, _| {
        match (req.method.as_str(), req.target.as_str()) {
            ("POST", "/rest/v0/vms/vm1/actions/start?sync=true") => Reply::status(204),
            ("POST", "/rest/v0/vms/vm1/actions/snapshot?sync=true") => {
                Reply::json(201, r#"{"id":"snap-body"}"#)
                    .with_header("location", "/rest/v0/vm-snapshots/snap-body")
            }
            ("POST", "/rest/v0/vms/vm2/actions/snapshot?sync=true") => {
                Reply::status(201).with_header("location", "/rest/v0/vm-snapshots/snap-location")
            }
            // An XO older than `sync`: 202 and a task, followed to its end.
            ("POST", "/rest/v0/vms/vm3/actions/snapshot?sync=true")
            | ("POST", "/rest/v0/vms/vm3/actions/snapshot?sync=false") => {
                Reply::json(202, r#"{"taskId":"t1"}"#).with_header("location", "/rest/v0/tasks/t1")
            }
            ("GET", "/rest/v0/tasks/t1?wait=true") => Reply::json(
                200,
                r#"{"id":"t1","status":"success","result":{"id":"snap-task"}}"#,
            ),
            _ => Reply::json(404, r#"{"error":"unexpected request"}"#),
        }
    })
    .await;
    let client = xo_sdk::Client::builder(server.url())
        .token("t")
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();

    let () = client
        .vms()
        .start(VmId::new("vm1"))
        .run_sync()
        .await
        .unwrap();
    let snap = client
        .vms()
        .snapshot(VmId::new("vm1"))
        .run_sync()
        .await
        .unwrap();
    assert_eq!(snap, VmSnapshotId::new("snap-body"));
    let snap = client
        .vms()
        .snapshot(VmId::new("vm2"))
        .run_sync()
        .await
        .unwrap();
    assert_eq!(snap, VmSnapshotId::new("snap-location"));
    let snap = client
        .vms()
        .snapshot(VmId::new("vm3"))
        .run_sync()
        .await
        .unwrap();
    assert_eq!(snap, VmSnapshotId::new("snap-task"));
    // `send()` asks for the asynchronous form.
    let task = client
        .vms()
        .snapshot(VmId::new("vm3"))
        .send()
        .await
        .unwrap();
    assert_eq!(task.id(), TaskId::new("t1"));
    assert_eq!(task.result().await.unwrap(), VmSnapshotId::new("snap-task"));

    let seen: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .map(|r| (r.method, r.target))
        .collect();
    let seen: Vec<(&str, &str)> = seen.iter().map(|(m, t)| (m.as_str(), t.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("POST", "/rest/v0/vms/vm1/actions/start?sync=true"),
            ("POST", "/rest/v0/vms/vm1/actions/snapshot?sync=true"),
            ("POST", "/rest/v0/vms/vm2/actions/snapshot?sync=true"),
            ("POST", "/rest/v0/vms/vm3/actions/snapshot?sync=true"),
            ("GET", "/rest/v0/tasks/t1?wait=true"),
            ("POST", "/rest/v0/vms/vm3/actions/snapshot?sync=false"),
            ("GET", "/rest/v0/tasks/t1?wait=true"),
        ]
    );

    // An answer without the new id is a decode error, not a made-up id.
    let server = Server::always(Reply::status(204)).await;
    let client = xo_sdk::Client::builder(server.url())
        .token("t")
        .build()
        .unwrap();
    let err = client
        .vms()
        .snapshot(VmId::new("vm1"))
        .run_sync()
        .await
        .unwrap_err();
    assert!(
        matches!(err.sdk(), Some(xo_sdk::Error::Decode { .. })),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Creates and empty answers

#[tokio::test]
async fn creates_answer_the_new_typed_id() {
    let (sim, client) = sim().await;

    let user: UserId = client
        .users()
        .create("typed@example.com", "s3cret!")
        .send()
        .await
        .unwrap();
    let raw = sim.object("users", user.as_str()).expect("the user exists");
    assert_eq!(raw["email"], "typed@example.com");
    let got = client.users().get(&user).send().await.unwrap();
    assert_eq!(got.id.as_ref(), Some(&user));

    let sr = sim
        .objects("srs")
        .into_iter()
        .find(|s| s["content_type"] != "iso")
        .and_then(|s| s["id"].as_str().map(SrId::new))
        .unwrap();
    let before = sim.ids("vdis");
    let vdi: VdiId = client
        .vdis()
        .create(&sr, 1 << 30)
        .name_label("typed disk")
        .send()
        .await
        .unwrap();
    assert!(!before.contains(&vdi.to_string()), "a new VDI");
    let raw = sim.object("vdis", vdi.as_str()).expect("the VDI exists");
    assert_eq!(raw["name_label"], "typed disk");
    assert_eq!(raw["$SR"], sr.as_str());
    assert_eq!(raw["size"], json!(1u64 << 30));
}

#[tokio::test]
async fn empty_operations_answer_unit() {
    let (sim, client) = sim().await;
    let vm = vm_in(&sim, "Halted");

    let () = client.vms().add_tag(&vm, "typed-tag").send().await.unwrap();
    let tags = || sim.object("vms", vm.as_str()).unwrap()["tags"].clone();
    assert!(tags().as_array().unwrap().contains(&json!("typed-tag")));
    let () = client
        .vms()
        .remove_tag(&vm, "typed-tag")
        .send()
        .await
        .unwrap();
    assert!(!tags().as_array().unwrap().contains(&json!("typed-tag")));

    let user = client
        .users()
        .create("doomed@example.com", "s3cret!")
        .send()
        .await
        .unwrap();
    let () = client.users().delete(&user).send().await.unwrap();
    assert!(sim.object("users", user.as_str()).is_none(), "deleted");

    let () = client.vms().delete(&vm).send().await.unwrap();
    assert!(sim.object("vms", vm.as_str()).is_none(), "deleted");
    // Deleting it again: XO's 404, typed.
    let err = client.vms().delete(&vm).send().await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

// ---------------------------------------------------------------------------
// XO's error codes

#[tokio::test]
async fn xo_error_codes_are_api_server_codes() {
    let (sim, client) = sim().await;
    let running = vm_in(&sim, "Running");

    // A XAPI failure relayed by XO: `{"error", "data": {"code", "params"}}`.
    let err = client.vms().start(&running).run_sync().await.unwrap_err();
    let api = err
        .sdk()
        .and_then(xo_sdk::Error::as_api)
        .expect("an API error");
    assert_eq!(api.status, 500);
    assert_eq!(api.code, "internal");
    assert_eq!(api.server_code.as_deref(), Some("VM_BAD_POWER_STATE"));
    assert!(
        api.message_text().starts_with("VM_BAD_POWER_STATE("),
        "{}",
        api.message_text()
    );
    // `data` is the body's `data` member, as sent.
    let data = api.data.as_ref().expect("data");
    assert_eq!(data["code"], "VM_BAD_POWER_STATE");
    assert_eq!(data["params"][1], "halted");
    assert_eq!(data["params"][2], "running");

    // An error whose data has no code: no server code.
    let err = client
        .vms()
        .get(VmId::new("no-such-vm"))
        .send()
        .await
        .unwrap_err();
    let api = err.as_api().expect("an API error");
    assert_eq!(api.status, 404);
    assert_eq!(api.server_code, None);
    assert_eq!(api.data.as_ref().unwrap()["type"], "VM");
}

// ---------------------------------------------------------------------------
// Task watch stream

#[tokio::test]
async fn task_watch_stream_reports_updates_and_removal() {
    let (sim, client) = sim().await;
    let mut changes = client.tasks().list().changes().await.unwrap();

    let vm = vm_in(&sim, "Halted");
    let task = client.vms().start(&vm).submit().await.unwrap();
    let mut seen: Vec<TaskState> = Vec::new();
    while let Some(event) = changes.try_next().await.unwrap() {
        if let TaskEvent::Update(state) = event {
            if state.id() == Some(task.id().as_str()) {
                let pending = state.is_pending();
                seen.push(state);
                if !pending {
                    break;
                }
            }
        }
    }
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen[0].is_pending());
    assert_eq!(seen[0].name(), Some("REST API: start VM"));
    let last = seen.last().unwrap();
    assert_eq!(last.status(), Some(TaskStatus::Success));
    let progress: Vec<f64> = seen.iter().filter_map(TaskState::progress).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&100.0));

    // Removing the task is a `remove` line.
    client.tasks().delete_task(task.id()).send().await.unwrap();
    loop {
        let event = changes.try_next().await.unwrap().expect("more lines");
        if let TaskEvent::Remove(state) = &event {
            if state.id() == Some(task.id().as_str()) {
                break;
            }
        }
    }
}

#[tokio::test]
async fn task_updates_follow_one_task_to_its_end() {
    let (sim, client) = sim().await;
    let vm = vm_in(&sim, "Running");
    let task = client.vms().start(&vm).submit().await.unwrap();
    let states: Vec<TaskState> = task.updates().await.unwrap().try_collect().await.unwrap();
    assert!(!states.is_empty());
    assert!(states.iter().all(|s| s.id() == Some(task.id().as_str())));
    let (last, before) = states.split_last().unwrap();
    assert!(before.iter().all(TaskState::is_pending));
    assert_eq!(last.status(), Some(TaskStatus::Failure));
}

// ---------------------------------------------------------------------------
// Server-sent events

fn new_vm(sim: &xo_sim::Sim, id: &str) -> Value {
    let mut vm = sim.objects("vms")[0].clone();
    vm["id"] = json!(id);
    vm["uuid"] = json!(id);
    vm["name_label"] = json!("event test");
    vm
}

async fn next_change(events: &mut xo_sdk::xo::EventStream) -> Event {
    events.try_next().await.unwrap().expect("an event")
}

#[tokio::test]
async fn sse_subscription_delivers_add_update_remove() {
    let sim = xo_sim::Sim::builder()
        .ping_interval(Duration::from_millis(10))
        .start()
        .await
        .unwrap();
    let client = client_for(&sim);
    let mut events = client
        .event_stream()
        .subscribe("VM", ["name_label", "power_state"])
        .open()
        .await
        .unwrap();
    assert!(!events.connection_id().is_empty());
    assert_eq!(sim.sse_connection_count(), 1);

    // Let pings flow: they are handled, never yielded.
    tokio::time::sleep(Duration::from_millis(50)).await;

    // A host change is not subscribed: the first event is the VM's.
    let host = sim.ids("hosts")[0].clone();
    sim.update_object("hosts", &host, |h| {
        h.insert("name_label".into(), json!("renamed host"));
    })
    .unwrap();

    let id = "0a0a0a0a-1111-2222-3333-444444444444";
    sim.put_object("vms", new_vm(&sim, id)).unwrap();
    let Event::Add(added) = next_change(&mut events).await else {
        panic!("expected add");
    };
    assert_eq!(added.collection, "VM");
    assert_eq!(added.id(), Some(id));
    assert_eq!(added.get("name_label"), Some(&json!("event test")));
    // Only the subscribed fields (and id).
    let keys: BTreeSet<&str> = added.object.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["id", "name_label", "power_state"]));

    sim.update_object("vms", id, |vm| {
        vm.insert("name_label".into(), json!("renamed"));
        vm.insert("power_state".into(), json!("Paused"));
    })
    .unwrap();
    let Event::Update(updated) = next_change(&mut events).await else {
        panic!("expected update");
    };
    let vm: Vm = updated.decode().unwrap();
    assert_eq!(vm.name_label.as_deref(), Some("renamed"));
    assert_eq!(vm.power_state, Some(PowerState::Paused));
    assert!(vm.memory.is_none());

    sim.remove_object("vms", id).unwrap();
    let Event::Remove(removed) = next_change(&mut events).await else {
        panic!("expected remove");
    };
    assert_eq!(removed.id(), Some(id));
}

#[tokio::test]
async fn whole_objects_and_several_collections() {
    let (sim, client) = sim().await;
    let mut events = client
        .event_stream()
        .subscribe_all("host")
        .subscribe("VM", ["name_label"])
        .open()
        .await
        .unwrap();
    let host = sim.ids("hosts")[0].clone();
    sim.update_object("hosts", &host, |h| {
        h.insert("name_label".into(), json!("h1"));
    })
    .unwrap();
    let Event::Update(change) = next_change(&mut events).await else {
        panic!("expected update");
    };
    assert_eq!(change.collection, "host");
    // Whole objects: far more than the name.
    assert!(change.object.len() > 5);
    let h: xo_sdk::types::Host = change.decode().unwrap();
    assert_eq!(h.name_label.as_deref(), Some("h1"));

    // An unknown collection is refused when opening, not retried.
    let err = client
        .event_stream()
        .subscribe_all("NoSuchType")
        .open()
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
}

#[tokio::test]
async fn sse_dropped_stream_is_reopened_and_resubscribed() {
    let (sim, client) = sim().await;
    let mut events = client
        .event_stream()
        .subscribe("VM", ["name_label"])
        .open()
        .await
        .unwrap();
    let first_id = events.connection_id();
    let vm = sim.ids("vms")[0].clone();

    sim.drop_sse_connections();
    let Event::Reconnected(r) = next_change(&mut events).await else {
        panic!("expected the reconnection to be reported");
    };
    assert_ne!(r.connection_id, first_id);
    assert_eq!(r.connection_id, events.connection_id());
    assert_eq!(r.attempts, 1);
    assert!(r.cause.contains("ended"), "{}", r.cause);
    assert_eq!(sim.sse_connection_count(), 1);

    // The new connection is subscribed again.
    sim.update_object("vms", &vm, |v| {
        v.insert("name_label".into(), json!("after reconnect"));
    })
    .unwrap();
    let Event::Update(c) = next_change(&mut events).await else {
        panic!("expected update");
    };
    assert_eq!(c.id(), Some(vm.as_str()));
    assert_eq!(c.get("name_label"), Some(&json!("after reconnect")));
}

#[tokio::test]
async fn sse_reconnection_is_bounded() {
    let sim = xo_sim::start().await.unwrap();
    let client = no_retry_client(&sim);
    let mut events = client
        .event_stream()
        .subscribe_all("VM")
        .max_reconnects(2)
        .reconnect_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .open()
        .await
        .unwrap();
    // The stream is not polled while the server goes away for good.
    sim.shutdown().await;
    let err = events.next().await.expect("an item").unwrap_err();
    assert!(err.is_transport(), "{err}");
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn task_handle_from_an_accepted_answer() {
    // Task::new and Client::task make the same handle.
    let (_sim, client) = sim().await;
    let a = Task::new(&client, TaskId::new("abc"));
    let b = client.task(TaskId::new("abc"));
    assert_eq!(a.id(), b.id());
    assert_eq!(a.id().as_str(), "abc");
    assert_eq!(a.path(), "/tasks/abc");
    assert!(format!("{a:?}").contains("abc"));
}
