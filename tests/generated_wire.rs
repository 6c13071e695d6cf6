//! Generated operations on the wire: for a sample of XO tools across every
//! kind of resource, the exact method, request target (path + query) and
//! JSON body that the generated builder sends through the runtime to a real
//! HTTP server on loopback, and the typed answer it makes of XO's reply
//! (references, models, new ids, task handles, nothing).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::TryStreamExt;
use serde_json::{Value, json};
use support::{Reply, Server};
use xo_sdk::prelude::*;
use xo_sdk::types::{
    AlarmId, BackupRepositoryHealth, Dashboard, MessageId, PbdId, Pif, PifId, Ping, Pool,
    ScheduleId, ServerId, SmId, VmStats,
};

type Call = Pin<Box<dyn Future<Output = xo_sdk::Result<()>>>>;

/// One expectation: what the builder call must put on the wire, what the
/// server answers, and (inside `call`) what the typed answer must be.
struct Case {
    tool: &'static str,
    call: Call,
    reply: Reply,
    method: &'static str,
    target: &'static str,
    body: Option<Value>,
}

/// A call whose typed answer is checked by `check`.
fn typed<F, T>(f: F, check: impl FnOnce(T) + 'static) -> Call
where
    F: Future<Output = xo_sdk::Result<T>> + 'static,
{
    Box::pin(async move {
        check(f.await?);
        Ok(())
    })
}

/// A call whose answer is `()`.
fn empty<F>(f: F) -> Call
where
    F: Future<Output = xo_sdk::Result<()>> + 'static,
{
    typed(f, |()| ())
}

/// A synchronous action (`run_sync`), whose typed output is checked.
fn sync_action<F, T>(f: F, check: impl FnOnce(T) + 'static) -> Call
where
    F: Future<Output = Result<T, TaskError>> + 'static,
{
    Box::pin(async move {
        match f.await {
            Ok(v) => {
                check(v);
                Ok(())
            }
            Err(TaskError::Sdk(e)) => Err(e),
            Err(e) => panic!("task failed: {e}"),
        }
    })
}

/// An action submitted asynchronously: its answer is a handle on `task`.
fn submitted<F, T>(f: F, task: &'static str) -> Call
where
    F: Future<Output = xo_sdk::Result<Task<T>>> + 'static,
{
    typed(f, move |t: Task<T>| assert_eq!(t.id(), TaskId::new(task)))
}

/// XO's `202 Accepted` of an action: the task in the body and a `Location`.
fn accepted(task: &str) -> Reply {
    Reply::json(202, &json!({ "taskId": task }).to_string())
        .with_header("location", &format!("/rest/v0/tasks/{task}"))
}

/// `201 Created` with the new object's id and its `Location`.
fn created(collection: &str, id: &str) -> Reply {
    Reply::json(201, &json!({ "id": id }).to_string())
        .with_header("location", &format!("/rest/v0/{collection}/{id}"))
}

fn no_content() -> Reply {
    Reply::status(204)
}

fn with_type(content_type: &str, body: &str) -> Reply {
    Reply::Respond {
        status: 200,
        headers: vec![("content-type".into(), content_type.into())],
        body: body.as_bytes().to_vec(),
    }
}

fn json_reply(v: Value) -> Reply {
    Reply::json(200, &v.to_string())
}

const ID: &str = "0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b";
const MARKDOWN: &str = "| href |\n| --- |\n| /rest/v0/alarms/a1 |\n";

fn cases(c: &xo_sdk::Client) -> Vec<Case> {
    let vm = VmId::new(ID);
    vec![
        Case {
            tool: "ping",
            call: typed(c.ping().ping().send(), |p: Ping| {
                assert_eq!(p.result.as_deref(), Some("pong"));
                assert_eq!(p.timestamp, Some(1_747_651_200_000));
            }),
            reply: json_reply(json!({"result": "pong", "timestamp": 1_747_651_200_000_i64})),
            method: "GET",
            target: "/rest/v0/ping",
            body: None,
        },
        Case {
            tool: "get_dashboard",
            call: typed(c.dashboard().get().send(), |d: Dashboard| {
                assert_eq!(d.n_hosts, Some(5));
            }),
            reply: json_reply(json!({"nHosts": 5})),
            method: "GET",
            target: "/rest/v0/dashboard",
            body: None,
        },
        // A collection answers references by default.
        Case {
            tool: "list_vms",
            call: typed(c.vms().list().send(), |refs: Vec<Href<VmId>>| {
                let ids: Vec<VmId> = refs.iter().map(Href::id).collect();
                assert_eq!(ids, [VmId::new("v1"), VmId::new(ID)]);
                assert_eq!(refs[1].as_str(), format!("/rest/v0/vms/{ID}"));
            }),
            reply: json_reply(json!(["/rest/v0/vms/v1", format!("/rest/v0/vms/{ID}")])),
            method: "GET",
            target: "/rest/v0/vms",
            body: None,
        },
        // Selected fields by their wire names, a filter, a limit, and the
        // objects streamed from NDJSON.
        Case {
            tool: "list_vms",
            call: Box::pin({
                let stream = c
                    .vms()
                    .list()
                    .select([Vm::NAME_LABEL, Vm::POWER_STATE])
                    .filter("power_state:Running name_label:\"web 01\"")
                    .limit(5)
                    .stream();
                async move {
                    let vms: Vec<Vm> = stream.try_collect().await?;
                    assert_eq!(vms.len(), 2);
                    assert_eq!(vms[0].name_label.as_deref(), Some("web 01"));
                    assert_eq!(vms[1].power_state, Some(PowerState::Running));
                    assert_eq!(vms[1].href.as_ref().map(Href::id), Some(VmId::new("v2")));
                    Ok(())
                }
            }),
            reply: with_type(
                "application/x-ndjson",
                "{\"name_label\":\"web 01\",\"power_state\":\"Running\",\"href\":\"/rest/v0/vms/v1\"}\n\
                 {\"name_label\":\"web 01b\",\"power_state\":\"Running\",\"href\":\"/rest/v0/vms/v2\"}\n",
            ),
            method: "GET",
            target: "/rest/v0/vms?fields=name_label,power_state&filter=power_state%3ARunning%20name_label%3A%22web%2001%22&limit=5&ndjson=true",
            body: None,
        },
        // Field constants send XO's spelling (`CPUs`, `$pool`), and a
        // `Filter` built from a field constant quotes its value.
        Case {
            tool: "list_vms",
            call: typed(
                c.vms()
                    .list()
                    .select([Vm::CPUS, Vm::POOL, Vm::CONTAINER])
                    .filter(Filter::eq(Vm::NAME_LABEL, "web 01"))
                    .send(),
                |vms: Vec<Vm>| {
                    assert_eq!(vms.len(), 1);
                    let vm = &vms[0];
                    assert_eq!(vm.cpus.as_ref().and_then(|c| c.number), Some(2));
                    assert_eq!(vm.pool, Some(PoolId::new("p1")));
                    assert_eq!(vm.container, Some(ContainerId::new("h1")));
                    assert_eq!(vm.name_label, None, "not selected");
                },
            ),
            reply: json_reply(json!([
                {"CPUs": {"number": 2}, "$pool": "p1", "$container": "h1", "href": "/rest/v0/vms/v1"}
            ])),
            method: "GET",
            target: "/rest/v0/vms?fields=CPUs,%24pool,%24container&filter=name_label%3A%22web%2001%22",
            body: None,
        },
        Case {
            tool: "get_vm",
            call: typed(c.vms().get(&vm).send(), |got: Vm| {
                assert_eq!(got.id, Some(VmId::new(ID)));
                assert_eq!(got.pool, Some(PoolId::new("p1")));
                assert_eq!(got.name_label.as_deref(), Some("web-01"));
            }),
            reply: json_reply(json!({"id": ID, "name_label": "web-01", "$pool": "p1"})),
            method: "GET",
            target: "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b",
            body: None,
        },
        Case {
            tool: "update_vm",
            call: empty(
                c.vms()
                    .update(&vm)
                    .name_label("db-01")
                    .cpus(4)
                    .tags(["prod", "db"])
                    .auto_poweron(true)
                    .send(),
            ),
            reply: no_content(),
            method: "PATCH",
            target: "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b",
            body: Some(
                json!({"nameLabel": "db-01", "tags": ["prod", "db"], "cpus": 4, "autoPoweron": true}),
            ),
        },
        Case {
            tool: "delete_vm",
            call: empty(c.vms().delete(VmId::new("a/../b")).send()),
            reply: no_content(),
            method: "DELETE",
            target: "/rest/v0/vms/a%2F%2E%2E%2Fb",
            body: None,
        },
        // An action run synchronously: `sync=true`, done when answered.
        Case {
            tool: "start_vm",
            call: sync_action(
                c.vms().start(&vm).host_id(HostId::new("h1")).run_sync(),
                |()| (),
            ),
            reply: no_content(),
            method: "POST",
            target: "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b/actions/start?sync=true",
            body: Some(json!({"hostId": "h1"})),
        },
        // The same action submitted: `sync=false`, a task handle.
        Case {
            tool: "start_vm",
            call: submitted(c.vms().start(&vm).send(), "0lr4zlj01"),
            reply: accepted("0lr4zlj01"),
            method: "POST",
            target: "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b/actions/start?sync=false",
            body: Some(json!({})),
        },
        Case {
            tool: "snapshot_vm",
            call: typed(
                c.vms()
                    .snapshot(VmId::new("v1"))
                    .name_label("before upgrade")
                    .send(),
                |task: Task<VmSnapshotId>| assert_eq!(task.id().as_str(), "0lr4zlj02"),
            ),
            reply: accepted("0lr4zlj02"),
            method: "POST",
            target: "/rest/v0/vms/v1/actions/snapshot?sync=false",
            body: Some(json!({"name_label": "before upgrade"})),
        },
        // Run synchronously, a snapshot answers the new snapshot's id.
        Case {
            tool: "snapshot_vm",
            call: sync_action(
                c.vms().snapshot(VmId::new("v1")).run_sync(),
                |snapshot: VmSnapshotId| assert_eq!(snapshot, VmSnapshotId::new("s1")),
            ),
            reply: created("vm-snapshots", "s1"),
            method: "POST",
            target: "/rest/v0/vms/v1/actions/snapshot?sync=true",
            body: Some(json!({})),
        },
        Case {
            tool: "add_vm_tag",
            call: empty(c.vms().add_tag(VmId::new("v1"), "team=ops #1").send()),
            reply: no_content(),
            method: "PUT",
            target: "/rest/v0/vms/v1/tags/team%3Dops%20%231",
            body: None,
        },
        Case {
            tool: "list_vm_alarms",
            call: typed(
                c.vms().list_alarms(VmId::new("v1")).markdown(),
                |table: String| assert_eq!(table, MARKDOWN),
            ),
            reply: with_type("text/markdown; charset=utf-8", MARKDOWN),
            method: "GET",
            target: "/rest/v0/vms/v1/alarms?fields=*&markdown=true",
            body: None,
        },
        Case {
            tool: "list_vm_alarms",
            call: typed(
                c.vms().list_alarms(VmId::new("v1")).send(),
                |refs: Vec<Href<AlarmId>>| {
                    assert_eq!(refs.len(), 1);
                    assert_eq!(refs[0].id(), AlarmId::new("a1"));
                    assert_eq!(refs[0].collection(), Some("alarms"));
                },
            ),
            reply: json_reply(json!(["/rest/v0/alarms/a1"])),
            method: "GET",
            target: "/rest/v0/vms/v1/alarms",
            body: None,
        },
        Case {
            tool: "get_vm_stats",
            call: typed(
                c.vms()
                    .get_stats(VmId::new("v1"))
                    .granularity("minutes")
                    .send(),
                |s: VmStats| assert_eq!(s.interval, Some(60)),
            ),
            reply: json_reply(json!({"interval": 60, "endTimestamp": 1_747_651_320})),
            method: "GET",
            target: "/rest/v0/vms/v1/stats?granularity=minutes",
            body: None,
        },
        Case {
            tool: "export_vm_xva",
            call: Box::pin({
                let f = c
                    .vms()
                    .export(VmId::new("v1"), VmExportFormat::Xva)
                    .compress(Compression::Zstd)
                    .send();
                async move {
                    let bytes = f.await?.collect().await?;
                    assert_eq!(&bytes[..], b"XVA bytes");
                    Ok(())
                }
            }),
            reply: with_type("application/octet-stream", "XVA bytes"),
            method: "GET",
            target: "/rest/v0/vms/v1.xva?compress=zstd",
            body: None,
        },
        Case {
            tool: "list_hosts",
            call: typed(
                c.hosts().list().limit(0).send(),
                |refs: Vec<Href<HostId>>| assert!(refs.is_empty()),
            ),
            reply: json_reply(json!([])),
            method: "GET",
            target: "/rest/v0/hosts?limit=0",
            body: None,
        },
        Case {
            tool: "get_host",
            call: typed(c.hosts().get(HostId::new("h1")).send(), |h: Host| {
                assert_eq!(h.id, Some(HostId::new("h1")));
                assert_eq!(h.pool, Some(PoolId::new("p1")));
            }),
            reply: json_reply(json!({"id": "h1", "$pool": "p1"})),
            method: "GET",
            target: "/rest/v0/hosts/h1",
            body: None,
        },
        Case {
            tool: "remove_host_tag",
            call: empty(c.hosts().remove_tag(HostId::new("h1"), "a/b").send()),
            reply: no_content(),
            method: "DELETE",
            target: "/rest/v0/hosts/h1/tags/a%2Fb",
            body: None,
        },
        Case {
            tool: "list_pools",
            call: typed(c.pools().list().all_fields().send(), |pools: Vec<Pool>| {
                assert_eq!(pools.len(), 1);
                assert_eq!(pools[0].id, Some(PoolId::new("p1")));
                assert_eq!(
                    pools[0].href.as_ref().map(Href::id),
                    Some(PoolId::new("p1"))
                );
                assert_eq!(pools[0].name_label.as_deref(), Some("pool A"));
            }),
            reply: json_reply(json!([
                {"id": "p1", "name_label": "pool A", "href": "/rest/v0/pools/p1"}
            ])),
            method: "GET",
            target: "/rest/v0/pools?fields=*",
            body: None,
        },
        // A task named only by the `Location` header.
        Case {
            tool: "emergency_shutdown_pool",
            call: submitted(
                c.pools().emergency_shutdown(PoolId::new("p1")).send(),
                "0lr4zlj03",
            ),
            reply: Reply::status(202).with_header("location", "/rest/v0/tasks/0lr4zlj03"),
            method: "POST",
            target: "/rest/v0/pools/p1/actions/emergency_shutdown?sync=false",
            body: None,
        },
        Case {
            tool: "rolling_reboot_pool",
            call: submitted(
                c.pools()
                    .rolling_reboot(PoolId::new("p1"))
                    .shutdown_pinned_vms(true)
                    .send(),
                "0lr4zlj04",
            ),
            reply: accepted("0lr4zlj04"),
            method: "POST",
            target: "/rest/v0/pools/p1/actions/rolling_reboot?sync=false",
            body: Some(json!({"shutdownPinnedVms": true})),
        },
        Case {
            tool: "scan_sr",
            call: sync_action(c.srs().scan(SrId::new("sr1")).run_sync(), |()| ()),
            reply: no_content(),
            method: "POST",
            target: "/rest/v0/srs/sr1/actions/scan?sync=true",
            body: None,
        },
        Case {
            tool: "list_vdis",
            call: typed(
                c.vdis().list().filter("size:>1e9").send(),
                |refs: Vec<Href<VdiId>>| {
                    assert_eq!(
                        refs.iter().map(Href::id).collect::<Vec<_>>(),
                        [VdiId::new("d1")]
                    )
                },
            ),
            reply: json_reply(json!(["/rest/v0/vdis/d1"])),
            method: "GET",
            target: "/rest/v0/vdis?filter=size%3A%3E1e9",
            body: None,
        },
        // A migrated VDI gets a new id: the synchronous answer.
        Case {
            tool: "migrate_vdi",
            call: sync_action(
                c.vdis()
                    .migrate(VdiId::new("d1"), SrId::new("sr2"))
                    .run_sync(),
                |vdi: VdiId| assert_eq!(vdi, VdiId::new("d2")),
            ),
            reply: Reply::json(200, r#"{"id": "d2"}"#),
            method: "POST",
            target: "/rest/v0/vdis/d1/actions/migrate?sync=true",
            body: Some(json!({"srId": "sr2"})),
        },
        Case {
            tool: "delete_vm_snapshot",
            call: empty(c.vm_snapshots().delete(VmSnapshotId::new("s1")).send()),
            reply: no_content(),
            method: "DELETE",
            target: "/rest/v0/vm-snapshots/s1",
            body: None,
        },
        Case {
            tool: "list_vm_templates",
            call: typed(
                c.vm_templates().list().send(),
                |refs: Vec<Href<VmTemplateId>>| assert_eq!(refs[0].id(), VmTemplateId::new("t1")),
            ),
            reply: json_reply(json!(["/rest/v0/vm-templates/t1"])),
            method: "GET",
            target: "/rest/v0/vm-templates",
            body: None,
        },
        Case {
            tool: "delete_network",
            call: empty(c.networks().delete(NetworkId::new("n1")).send()),
            reply: no_content(),
            method: "DELETE",
            target: "/rest/v0/networks/n1",
            body: None,
        },
        Case {
            tool: "connect_vif",
            call: submitted(c.vifs().connect(VifId::new("vif1")).send(), "0lr4zlj05"),
            reply: accepted("0lr4zlj05"),
            method: "POST",
            target: "/rest/v0/vifs/vif1/actions/connect?sync=false",
            body: None,
        },
        Case {
            tool: "list_pifs",
            call: Box::pin({
                let stream = c.pifs().list().all_fields().stream();
                async move {
                    let pifs: Vec<Pif> = stream.try_collect().await?;
                    assert_eq!(pifs.len(), 1);
                    assert_eq!(pifs[0].id, Some(PifId::new("pif1")));
                    assert_eq!(pifs[0].host, Some(HostId::new("h1")));
                    Ok(())
                }
            }),
            reply: with_type(
                "application/x-ndjson",
                "{\"id\":\"pif1\",\"device\":\"eth0\",\"$host\":\"h1\",\"href\":\"/rest/v0/pifs/pif1\"}\n",
            ),
            method: "GET",
            target: "/rest/v0/pifs?fields=*&ndjson=true",
            body: None,
        },
        Case {
            tool: "plug_pbd",
            call: sync_action(c.pbds().plug(PbdId::new("pbd1")).run_sync(), |()| ()),
            reply: no_content(),
            method: "POST",
            target: "/rest/v0/pbds/pbd1/actions/plug?sync=true",
            body: None,
        },
        Case {
            tool: "list_sms",
            call: typed(c.sms().list().send(), |refs: Vec<Href<SmId>>| {
                assert_eq!(refs[0].id(), SmId::new("sm1"))
            }),
            reply: json_reply(json!(["/rest/v0/sms/sm1"])),
            method: "GET",
            target: "/rest/v0/sms",
            body: None,
        },
        Case {
            tool: "abort_task",
            call: submitted(
                c.tasks().abort(TaskId::new("0lr4zljmz")).send(),
                "0lr4zlj06",
            ),
            reply: accepted("0lr4zlj06"),
            method: "POST",
            target: "/rest/v0/tasks/0lr4zljmz/actions/abort?sync=false",
            body: None,
        },
        Case {
            tool: "list_messages",
            call: typed(
                c.messages()
                    .list()
                    .filter("name:HA_POOL_OVERCOMMITTED")
                    .send(),
                |refs: Vec<Href<MessageId>>| assert!(refs.is_empty()),
            ),
            reply: json_reply(json!([])),
            method: "GET",
            target: "/rest/v0/messages?filter=name%3AHA_POOL_OVERCOMMITTED",
            body: None,
        },
        Case {
            tool: "create_group",
            call: typed(c.groups().create("ops").send(), |g: GroupId| {
                assert_eq!(g, GroupId::new("g9"))
            }),
            reply: created("groups", "g9"),
            method: "POST",
            target: "/rest/v0/groups",
            body: Some(json!({"name": "ops"})),
        },
        Case {
            tool: "update_group",
            call: empty(c.groups().update(GroupId::new("g1")).send()),
            reply: no_content(),
            method: "PATCH",
            target: "/rest/v0/groups/g1",
            // A JSON-body operation with nothing set sends an empty object.
            body: Some(json!({})),
        },
        Case {
            tool: "add_user_to_group",
            call: empty(
                c.groups()
                    .add_user_to(GroupId::new("g1"), UserId::new("u1"))
                    .send(),
            ),
            reply: no_content(),
            method: "PUT",
            target: "/rest/v0/groups/g1/users/u1",
            body: None,
        },
        // The new id from the `Location` header when the body has none.
        Case {
            tool: "create_acl_role",
            call: typed(
                c.acl_roles()
                    .create("auditor")
                    .description("read only")
                    .send(),
                |r: AclRoleId| assert_eq!(r, AclRoleId::new("r9")),
            ),
            reply: Reply::status(201).with_header("location", "/rest/v0/acl-roles/r9"),
            method: "POST",
            target: "/rest/v0/acl-roles",
            body: Some(json!({"name": "auditor", "description": "read only"})),
        },
        Case {
            tool: "copy_acl_role",
            call: sync_action(
                c.acl_roles()
                    .copy(AclRoleId::new("r1"))
                    .name("auditor 2")
                    .run_sync(),
                |r: AclRoleId| assert_eq!(r, AclRoleId::new("r2")),
            ),
            reply: created("acl-roles", "r2"),
            method: "POST",
            target: "/rest/v0/acl-roles/r1/actions/copy?sync=true",
            body: Some(json!({"name": "auditor 2"})),
        },
        Case {
            tool: "get_backup_repository_health",
            call: typed(
                c.backup_repositories()
                    .get_health(BackupRepositoryId::new("br1"))
                    .send(),
                |_: BackupRepositoryHealth| (),
            ),
            reply: json_reply(json!({})),
            method: "GET",
            target: "/rest/v0/backup-repositories/br1/health",
            body: None,
        },
        Case {
            tool: "run_schedule",
            call: submitted(
                c.schedules().run(ScheduleId::new("sch1")).send(),
                "0lr4zlj07",
            ),
            reply: accepted("0lr4zlj07"),
            method: "POST",
            target: "/rest/v0/schedules/sch1/actions/run?sync=false",
            body: None,
        },
        Case {
            tool: "add_server",
            call: typed(
                c.servers()
                    .add("10.0.0.1", "root", "hunter2")
                    .label("lab")
                    .allow_unauthorized(true)
                    .send(),
                |s: ServerId| assert_eq!(s, ServerId::new("srv9")),
            ),
            reply: created("servers", "srv9"),
            method: "POST",
            target: "/rest/v0/servers",
            body: Some(
                json!({"host": "10.0.0.1", "username": "root", "password": "hunter2", "label": "lab", "allowUnauthorized": true}),
            ),
        },
        Case {
            tool: "connect_server",
            call: submitted(
                c.servers().connect(ServerId::new("srv1")).send(),
                "0lr4zlj08",
            ),
            reply: accepted("0lr4zlj08"),
            method: "POST",
            target: "/rest/v0/servers/srv1/actions/connect?sync=false",
            body: None,
        },
    ]
}

#[tokio::test]
async fn sampled_operations_send_exact_requests() {
    // The replies are the cases', in order; set once the cases exist.
    let replies: Arc<Mutex<Vec<Reply>>> = Arc::default();
    let server = Server::start({
        let replies = replies.clone();
        move |_, n| replies.lock().unwrap()[n].clone()
    })
    .await;
    let client = xo_sdk::Client::builder(server.url())
        .token("t0ken")
        .build()
        .unwrap();
    let cases = cases(&client);
    *replies.lock().unwrap() = cases.iter().map(|c| c.reply.clone()).collect();
    let n = cases.len();
    assert!(n >= 30, "sample covers {n} calls");
    let mut modules = std::collections::BTreeSet::new();
    let mut tools = std::collections::BTreeSet::new();
    for (i, case) in cases.into_iter().enumerate() {
        case.call
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", case.tool));
        assert_eq!(server.count(), i + 1, "{}: one request", case.tool);
        let got = &server.requests()[i];
        assert_eq!(got.method, case.method, "{}: method", case.tool);
        assert_eq!(got.target, case.target, "{}: request target", case.tool);
        assert_eq!(
            got.header("cookie"),
            Some("authenticationToken=t0ken"),
            "{}: auth cookie",
            case.tool
        );
        match &case.body {
            None => assert!(
                got.body.is_empty(),
                "{}: unexpected body {:?}",
                case.tool,
                String::from_utf8_lossy(&got.body)
            ),
            Some(expected) => {
                let sent: Value = serde_json::from_slice(&got.body)
                    .unwrap_or_else(|e| panic!("{}: body is not JSON: {e}", case.tool));
                assert_eq!(&sent, expected, "{}: body", case.tool);
                assert_eq!(
                    got.header("content-type"),
                    Some("application/json"),
                    "{}",
                    case.tool
                );
            }
        }
        tools.insert(case.tool);
        modules.insert(
            case.target
                .split('/')
                .nth(3)
                .unwrap_or("")
                .split(['?', '.'])
                .next()
                .unwrap_or("")
                .to_owned(),
        );
    }
    assert_eq!(server.count(), n);
    assert!(tools.len() >= 30, "sample covers {} tools", tools.len());
    // The sample spans the resources, not just VMs.
    assert!(modules.len() >= 20, "resources covered: {modules:?}");
}
