//! Generated operations on the wire: for a sample of XO tools across every
//! kind of resource, the exact method, request target (path + query) and
//! JSON body that the generated builder sends through the runtime to a real
//! HTTP server on loopback.

mod support;

use std::future::Future;
use std::pin::Pin;

use serde_json::{Value, json};
use support::{Reply, Server};

type Call = Pin<Box<dyn Future<Output = xo_sdk::Result<()>>>>;

/// One expectation: what the builder call must put on the wire.
struct Case {
    tool: &'static str,
    call: Call,
    method: &'static str,
    target: &'static str,
    body: Option<Value>,
}

fn json_call<F, T>(f: F) -> Call
where
    F: Future<Output = xo_sdk::Result<T>> + 'static,
{
    Box::pin(async move { f.await.map(drop) })
}

fn cases(c: &xo_sdk::Client) -> Vec<Case> {
    let id = "0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b";
    vec![
        Case {
            tool: "ping",
            call: json_call(c.ping().ping().send()),
            method: "GET",
            target: "/rest/v0/ping",
            body: None,
        },
        Case {
            tool: "get_dashboard",
            call: json_call(c.dashboard().get().ndjson(false).send()),
            method: "GET",
            target: "/rest/v0/dashboard?ndjson=false",
            body: None,
        },
        Case {
            tool: "list_vms",
            call: json_call(
                c.vms()
                    .list()
                    .fields("name_label,power_state")
                    .filter("power_state:Running name_label:\"web 01\"")
                    .limit(5)
                    .ndjson(true)
                    .send(),
            ),
            method: "GET",
            target: "/rest/v0/vms?fields=name_label,power_state&filter=power_state%3ARunning%20name_label%3A%22web%2001%22&limit=5&ndjson=true",
            body: None,
        },
        Case {
            tool: "get_vm",
            call: json_call(c.vms().get(id).send()),
            method: "GET",
            target: "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b",
            body: None,
        },
        Case {
            tool: "update_vm",
            call: json_call(
                c.vms()
                    .update(id)
                    .name_label("db-01")
                    .cpus(4)
                    .tags(["prod", "db"])
                    .auto_poweron(true)
                    .send(),
            ),
            method: "PATCH",
            target: "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b",
            body: Some(
                json!({"nameLabel": "db-01", "tags": ["prod", "db"], "cpus": 4, "autoPoweron": true}),
            ),
        },
        Case {
            tool: "delete_vm",
            call: json_call(c.vms().delete("a/../b").send()),
            method: "DELETE",
            target: "/rest/v0/vms/a%2F%2E%2E%2Fb",
            body: None,
        },
        Case {
            tool: "start_vm",
            call: json_call(c.vms().start(id).host_id("h1").sync(true).send()),
            method: "POST",
            target: "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b/actions/start?sync=true",
            body: Some(json!({"hostId": "h1"})),
        },
        Case {
            tool: "snapshot_vm",
            call: json_call(c.vms().snapshot("v1").name_label("before upgrade").send()),
            method: "POST",
            target: "/rest/v0/vms/v1/actions/snapshot",
            body: Some(json!({"name_label": "before upgrade"})),
        },
        Case {
            tool: "add_vm_tag",
            call: json_call(c.vms().add_tag("v1", "team=ops #1").send()),
            method: "PUT",
            target: "/rest/v0/vms/v1/tags/team%3Dops%20%231",
            body: None,
        },
        Case {
            tool: "list_vm_alarms",
            call: json_call(c.vms().list_alarms("v1").markdown(true).send()),
            method: "GET",
            target: "/rest/v0/vms/v1/alarms?markdown=true",
            body: None,
        },
        Case {
            tool: "get_vm_stats",
            call: json_call(c.vms().get_stats("v1").granularity("minutes").send()),
            method: "GET",
            target: "/rest/v0/vms/v1/stats?granularity=minutes",
            body: None,
        },
        Case {
            tool: "export_vm_xva",
            call: Box::pin({
                let f = c.vms().export_xva("v1").compress("zstd").send();
                async move { f.await?.collect().await.map(drop) }
            }),
            method: "GET",
            target: "/rest/v0/vms/v1.xva?compress=zstd",
            body: None,
        },
        Case {
            tool: "list_hosts",
            call: json_call(c.hosts().list().limit(0).send()),
            method: "GET",
            target: "/rest/v0/hosts?limit=0",
            body: None,
        },
        Case {
            tool: "get_host",
            call: json_call(c.hosts().get("h1").send()),
            method: "GET",
            target: "/rest/v0/hosts/h1",
            body: None,
        },
        Case {
            tool: "remove_host_tag",
            call: json_call(c.hosts().remove_tag("h1", "a/b").send()),
            method: "DELETE",
            target: "/rest/v0/hosts/h1/tags/a%2Fb",
            body: None,
        },
        Case {
            tool: "list_pools",
            call: json_call(c.pools().list().fields("*").send()),
            method: "GET",
            target: "/rest/v0/pools?fields=*",
            body: None,
        },
        Case {
            tool: "emergency_shutdown_pool",
            call: json_call(c.pools().emergency_shutdown("p1").sync(false).send()),
            method: "POST",
            target: "/rest/v0/pools/p1/actions/emergency_shutdown?sync=false",
            body: None,
        },
        Case {
            tool: "rolling_reboot_pool",
            call: json_call(
                c.pools()
                    .rolling_reboot("p1")
                    .shutdown_pinned_vms(true)
                    .send(),
            ),
            method: "POST",
            target: "/rest/v0/pools/p1/actions/rolling_reboot",
            body: Some(json!({"shutdownPinnedVms": true})),
        },
        Case {
            tool: "scan_sr",
            call: json_call(c.srs().scan("sr1").send()),
            method: "POST",
            target: "/rest/v0/srs/sr1/actions/scan",
            body: None,
        },
        Case {
            tool: "list_vdis",
            call: json_call(c.vdis().list().filter("size:>1e9").send()),
            method: "GET",
            target: "/rest/v0/vdis?filter=size%3A%3E1e9",
            body: None,
        },
        Case {
            tool: "migrate_vdi",
            call: json_call(c.vdis().migrate("d1", "sr2").sync(true).send()),
            method: "POST",
            target: "/rest/v0/vdis/d1/actions/migrate?sync=true",
            body: Some(json!({"srId": "sr2"})),
        },
        Case {
            tool: "delete_vm_snapshot",
            call: json_call(c.vm_snapshots().delete("s1").send()),
            method: "DELETE",
            target: "/rest/v0/vm-snapshots/s1",
            body: None,
        },
        Case {
            tool: "list_vm_templates",
            call: json_call(c.vm_templates().list().send()),
            method: "GET",
            target: "/rest/v0/vm-templates",
            body: None,
        },
        Case {
            tool: "delete_network",
            call: json_call(c.networks().delete("n1").send()),
            method: "DELETE",
            target: "/rest/v0/networks/n1",
            body: None,
        },
        Case {
            tool: "connect_vif",
            call: json_call(c.vifs().connect("vif1").send()),
            method: "POST",
            target: "/rest/v0/vifs/vif1/actions/connect",
            body: None,
        },
        Case {
            tool: "list_pifs",
            call: json_call(c.pifs().list().ndjson(true).send()),
            method: "GET",
            target: "/rest/v0/pifs?ndjson=true",
            body: None,
        },
        Case {
            tool: "plug_pbd",
            call: json_call(c.pbds().plug("pbd1").sync(true).send()),
            method: "POST",
            target: "/rest/v0/pbds/pbd1/actions/plug?sync=true",
            body: None,
        },
        Case {
            tool: "list_sms",
            call: json_call(c.sms().list().send()),
            method: "GET",
            target: "/rest/v0/sms",
            body: None,
        },
        Case {
            tool: "abort_task",
            call: json_call(c.tasks().abort("0lr4zljmz").send()),
            method: "POST",
            target: "/rest/v0/tasks/0lr4zljmz/actions/abort",
            body: None,
        },
        Case {
            tool: "list_messages",
            call: json_call(
                c.messages()
                    .list()
                    .filter("name:HA_POOL_OVERCOMMITTED")
                    .send(),
            ),
            method: "GET",
            target: "/rest/v0/messages?filter=name%3AHA_POOL_OVERCOMMITTED",
            body: None,
        },
        Case {
            tool: "create_group",
            call: json_call(c.groups().create("ops").send()),
            method: "POST",
            target: "/rest/v0/groups",
            body: Some(json!({"name": "ops"})),
        },
        Case {
            tool: "update_group",
            call: json_call(c.groups().update("g1").send()),
            method: "PATCH",
            target: "/rest/v0/groups/g1",
            // A JSON-body operation with nothing set sends an empty object.
            body: Some(json!({})),
        },
        Case {
            tool: "add_user_to_group",
            call: json_call(c.groups().add_user_to("g1", "u1").send()),
            method: "PUT",
            target: "/rest/v0/groups/g1/users/u1",
            body: None,
        },
        Case {
            tool: "create_acl_role",
            call: json_call(
                c.acl_roles()
                    .create("auditor")
                    .description("read only")
                    .send(),
            ),
            method: "POST",
            target: "/rest/v0/acl-roles",
            body: Some(json!({"name": "auditor", "description": "read only"})),
        },
        Case {
            tool: "copy_acl_role",
            call: json_call(c.acl_roles().copy("r1").name("auditor 2").sync(true).send()),
            method: "POST",
            target: "/rest/v0/acl-roles/r1/actions/copy?sync=true",
            body: Some(json!({"name": "auditor 2"})),
        },
        Case {
            tool: "get_backup_repository_health",
            call: json_call(c.backup_repositories().get_health("br1").send()),
            method: "GET",
            target: "/rest/v0/backup-repositories/br1/health",
            body: None,
        },
        Case {
            tool: "run_schedule",
            call: json_call(c.schedules().run("sch1").send()),
            method: "POST",
            target: "/rest/v0/schedules/sch1/actions/run",
            body: None,
        },
        Case {
            tool: "add_server",
            call: json_call(
                c.servers()
                    .add("10.0.0.1", "root", "hunter2")
                    .label("lab")
                    .allow_unauthorized(true)
                    .send(),
            ),
            method: "POST",
            target: "/rest/v0/servers",
            body: Some(
                json!({"host": "10.0.0.1", "username": "root", "password": "hunter2", "label": "lab", "allowUnauthorized": true}),
            ),
        },
        Case {
            tool: "connect_server",
            call: json_call(c.servers().connect("srv1").send()),
            method: "POST",
            target: "/rest/v0/servers/srv1/actions/connect",
            body: None,
        },
    ]
}

#[tokio::test]
async fn sampled_operations_send_exact_requests() {
    let server = Server::always(Reply::json(200, "{}")).await;
    let client = xo_sdk::Client::builder(server.url())
        .token("t0ken")
        .build()
        .unwrap();
    let cases = cases(&client);
    let n = cases.len();
    assert!(n >= 30, "sample covers {n} tools");
    let mut modules = std::collections::BTreeSet::new();
    for (i, case) in cases.into_iter().enumerate() {
        case.call
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", case.tool));
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
    // The sample spans the resources, not just VMs.
    assert!(modules.len() >= 20, "resources covered: {modules:?}");
}
