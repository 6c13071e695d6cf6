//! Typed collections over real HTTP against xo-sim: href lists, selected
//! and all fields, filter quoting, limit, NDJSON streaming, Markdown,
//! lookups by exact name, and tolerance of unknown enum values, unknown
//! fields and missing fields; and, from the generator's IR, that every
//! collection and every action of the API description is typed as one.

mod support;

use std::collections::BTreeSet;

use futures::TryStreamExt;
use serde_json::{Value, json};
use xo_codegen::ir::{Kind, Location, Operation};
use xo_sdk::prelude::*;

use support::sim;

fn vm_ids(sim: &xo_sim::Sim) -> BTreeSet<VmId> {
    sim.ids("vms").into_iter().map(VmId::new).collect()
}

/// Rename VM `id` in the simulator.
fn rename(sim: &xo_sim::Sim, id: &str, name: &str) {
    sim.update_object("vms", id, |vm| {
        vm.insert("name_label".into(), json!(name));
    })
    .unwrap();
}

#[tokio::test]
async fn refs_are_the_default_answer() {
    let (sim, client) = sim().await;
    let refs: Vec<Href<VmId>> = client.vms().list().send().await.unwrap();
    let ids: BTreeSet<VmId> = refs.iter().map(Href::id).collect();
    assert_eq!(ids, vm_ids(&sim));
    assert!(refs.iter().all(|h| h.collection() == Some("vms")));
    assert!(refs[0].as_str().starts_with("/rest/v0/vms/"));
    assert_eq!(refs[0].id_str(), refs[0].id().as_str());
    // The trait's `refs` is the same answer.
    let again = Collection::refs(client.vms().list()).await.unwrap();
    assert_eq!(again, refs);
    // Another collection, another id type.
    let hosts: Vec<Href<HostId>> = client.hosts().list().send().await.unwrap();
    let host_ids: BTreeSet<HostId> = hosts.iter().map(Href::id).collect();
    assert_eq!(
        host_ids,
        sim.ids("hosts").into_iter().map(HostId::new).collect()
    );
}

#[tokio::test]
async fn selected_fields_are_typed_and_the_rest_missing() {
    let (sim, client) = sim().await;
    let vms = client
        .vms()
        .list()
        .select([Vm::NAME_LABEL, Vm::POWER_STATE])
        .send()
        .await
        .unwrap();
    assert_eq!(vms.len(), sim.ids("vms").len());
    for vm in &vms {
        assert!(vm.name_label.is_some());
        assert!(vm.power_state.is_some());
        // Missing fields are `None`, not an error.
        assert!(vm.memory.is_none());
        assert!(vm.id.is_none());
        // XO adds the reference to every object.
        let href = vm.href.as_ref().expect("href");
        assert!(sim.object("vms", href.id().as_str()).is_some());
    }
}

#[tokio::test]
async fn field_constants_use_xo_wire_names() {
    let (sim, client) = sim().await;
    let vms = client
        .vms()
        .list()
        .select([Vm::ID, Vm::CPUS, Vm::POOL, Vm::CONTAINER])
        .send()
        .await
        .unwrap();
    assert_eq!(vms.len(), sim.ids("vms").len());
    for vm in &vms {
        let id = vm.id.as_ref().expect("id selected");
        let raw = sim.object("vms", id.as_str()).unwrap();
        assert_eq!(
            vm.pool.as_ref().map(PoolId::as_str),
            raw["$pool"].as_str(),
            "$pool"
        );
        assert_eq!(
            vm.container.as_ref().map(ContainerId::as_str),
            raw["$container"].as_str(),
            "$container"
        );
        let cpus = vm.cpus.as_ref().expect("CPUs selected");
        assert_eq!(cpus.number, raw["CPUs"]["number"].as_i64());
        assert!(vm.name_label.is_none(), "not selected");
    }
    assert!(vms.iter().all(|v| v.pool.is_some()));
}

#[test]
fn typed_reports_the_selection() {
    // Building a request needs a client, not a server.
    let client = Client::builder("http://127.0.0.1:9")
        .token("t")
        .build()
        .unwrap();
    let typed = client
        .vms()
        .list()
        .select([Vm::NAME_LABEL, Vm::CPUS, Vm::POOL]);
    assert_eq!(typed.fields(), Some(&["name_label", "CPUs", "$pool"][..]));
    // Filter and limit keep the selection.
    let typed = typed
        .filter(Filter::eq(Vm::POWER_STATE, "Running"))
        .limit(2);
    assert_eq!(typed.fields(), Some(&["name_label", "CPUs", "$pool"][..]));
    let unchecked = client
        .vms()
        .list()
        .select([Vm::NAME_LABEL, Field::unchecked("future_field")]);
    assert_eq!(
        unchecked.fields(),
        Some(&["name_label", "future_field"][..])
    );
    assert_eq!(client.hosts().list().all_fields().fields(), None);
    assert_eq!(client.vms().list().select([]).fields(), Some(&[][..]));
    // The wire names of the constants.
    assert_eq!(Vm::CPUS.name(), "CPUs");
    assert_eq!(Vm::POOL.name(), "$pool");
    assert_eq!(Vm::CONTAINER.name(), "$container");
    assert_eq!(Vm::POWER_STATE.to_string(), "power_state");
}

#[tokio::test]
async fn all_fields_give_whole_objects() {
    let (sim, client) = sim().await;
    let hosts = client.hosts().list().all_fields().send().await.unwrap();
    assert_eq!(hosts.len(), sim.ids("hosts").len());
    for h in &hosts {
        let id: &HostId = h.id.as_ref().unwrap();
        let raw = sim.object("hosts", id.as_str()).unwrap();
        assert_eq!(h.name_label.as_deref(), raw["name_label"].as_str());
        assert_eq!(h.href.as_ref().map(Href::id).as_ref(), Some(id));
        assert_eq!(h.pool.as_ref().map(PoolId::as_str), raw["$pool"].as_str());
    }
}

#[tokio::test]
async fn filters_are_quoted_and_applied_with_limit() {
    let (sim, client) = sim().await;
    let running: Vec<Vm> = client
        .vms()
        .list()
        .filter(Filter::eq(Vm::POWER_STATE, "Running"))
        .select([Vm::NAME_LABEL, Vm::POWER_STATE])
        .send()
        .await
        .unwrap();
    let expected = sim
        .objects("vms")
        .iter()
        .filter(|v| v["power_state"] == "Running")
        .count();
    assert!(expected > 1);
    assert_eq!(running.len(), expected);
    assert!(
        running
            .iter()
            .all(|v| v.power_state == Some(PowerState::Running))
    );

    // A value with a space and a dot must be quoted to match.
    let id = sim.ids("vms")[0].clone();
    rename(&sim, &id, "web 01.example");
    let found = client
        .vms()
        .list()
        .filter(Filter::eq(Vm::NAME_LABEL, "web 01.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id(), VmId::new(&id));

    let limited = client.vms().list().limit(3).send().await.unwrap();
    assert_eq!(limited.len(), 3);
}

#[tokio::test]
async fn select_then_filter_is_the_same_as_filter_then_select() {
    let (sim, client) = sim().await;
    let running = Filter::eq(Vm::POWER_STATE, "Running");
    let after: Vec<Vm> = client
        .vms()
        .list()
        .select([Vm::ID, Vm::POWER_STATE])
        .filter(running.clone())
        .send()
        .await
        .unwrap();
    let before: Vec<Vm> = client
        .vms()
        .list()
        .filter(running.clone())
        .select([Vm::ID, Vm::POWER_STATE])
        .send()
        .await
        .unwrap();
    assert_eq!(after, before);
    let expected: BTreeSet<VmId> = sim
        .objects("vms")
        .iter()
        .filter(|v| v["power_state"] == "Running")
        .map(|v| VmId::new(v["id"].as_str().unwrap()))
        .collect();
    assert!(expected.len() > 1);
    let got: BTreeSet<VmId> = after.iter().map(|v| v.id.clone().unwrap()).collect();
    assert_eq!(got, expected);
    assert!(
        after
            .iter()
            .all(|v| v.power_state == Some(PowerState::Running))
    );

    // Filter and limit on the typed request, streamed.
    let streamed: Vec<Vm> = client
        .vms()
        .list()
        .select([Vm::ID])
        .filter(running)
        .limit(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 1);
    assert!(expected.contains(streamed[0].id.as_ref().unwrap()));
}

#[tokio::test]
async fn ndjson_stream_yields_every_object() {
    let (sim, client) = sim().await;
    let stream = client.vms().list().all_fields().stream();
    let vms: Vec<Vm> = stream.try_collect().await.unwrap();
    assert_eq!(vms.len(), sim.ids("vms").len());
    let names: BTreeSet<_> = vms.iter().filter_map(|v| v.name_label.clone()).collect();
    assert_eq!(names.len(), vms.len());
    let ids: BTreeSet<VmId> = vms.iter().filter_map(|v| v.id.clone()).collect();
    assert_eq!(ids, vm_ids(&sim));
}

#[tokio::test]
async fn a_failed_stream_request_is_the_first_item() {
    let (sim, _) = sim().await;
    let bad = xo_sdk::Client::builder(sim.url())
        .token("wrong")
        .build()
        .unwrap();
    let mut stream = Box::pin(bad.vms().list().all_fields().stream());
    let first = stream.try_next().await.unwrap_err();
    assert!(first.is_unauthorized(), "{first}");
}

#[tokio::test]
async fn markdown_table() {
    let (sim, client) = sim().await;
    // Whole objects (`fields=*`: without it XO answers href lines).
    let table: String = client.vms().list().markdown().await.unwrap();
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.contains("| name_label |") && header.contains("| id |"),
        "{table}"
    );
    let rows = |t: &str| t.lines().filter(|l| l.starts_with('|')).count();
    // Header, separator, one row per VM.
    assert_eq!(rows(&table), sim.ids("vms").len() + 2, "{table}");
    for id in sim.ids("vms") {
        assert!(table.contains(&id), "{table}");
    }
    // Selected fields: one column each.
    let names = client
        .vms()
        .list()
        .select([Vm::NAME_LABEL, Vm::POWER_STATE])
        .markdown()
        .await
        .unwrap();
    assert_eq!(
        names.lines().next(),
        Some("| name_label | power_state |"),
        "{names}"
    );
    assert_eq!(rows(&names), sim.ids("vms").len() + 2, "{names}");

    // Filter and limit apply; the trait method is the same call.
    let running = sim
        .objects("vms")
        .iter()
        .filter(|v| v["power_state"] == "Running")
        .count();
    let filtered = MarkdownTable::markdown(
        client
            .vms()
            .list()
            .filter(Filter::eq(Vm::POWER_STATE, "Running")),
    )
    .await
    .unwrap();
    assert_eq!(rows(&filtered), running + 2, "{filtered}");
    let limited = client.vms().list().limit(1).markdown().await.unwrap();
    assert_eq!(rows(&limited), 3, "{limited}");
}

#[tokio::test]
async fn find_by_name_keeps_the_exact_match() {
    let (sim, client) = sim().await;
    let ids = sim.ids("vms");
    // XO's `name_label:web` matches all of these (substring, any case);
    // only one is named exactly `web`.
    rename(&sim, &ids[0], "webmail");
    rename(&sim, &ids[1], "web");
    rename(&sim, &ids[2], "WEB");
    let candidates = client
        .vms()
        .list()
        .filter(Filter::eq(Vm::NAME_LABEL, "web"))
        .send()
        .await
        .unwrap();
    assert!(candidates.len() > 3, "substring matches: {candidates:?}");

    let vm: Vm = client.vms().list().find_by_name("web").await.unwrap();
    assert_eq!(vm.id, Some(VmId::new(&ids[1])));
    assert_eq!(vm.name_label.as_deref(), Some("web"));
    // The whole object.
    let raw = sim.object("vms", &ids[1]).unwrap();
    assert_eq!(vm.pool.as_ref().map(PoolId::as_str), raw["$pool"].as_str());
    assert!(vm.memory.is_some());

    // A filter set before is replaced, not combined.
    let vm = client
        .vms()
        .list()
        .filter("name_label:nothing-matches-this")
        .find_by_name("WEB")
        .await
        .unwrap();
    assert_eq!(vm.id, Some(VmId::new(&ids[2])));

    // Through the trait, on another collection.
    let raw = &sim.objects("hosts")[1];
    let name = raw["name_label"].as_str().unwrap();
    let host: Host = ByName::find_by_name(client.hosts().list(), name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(host.id.as_ref().map(HostId::as_str), raw["id"].as_str());
    // The SR plugins are per pool: one name, several objects.
    let err = ByName::find_by_name(client.sms().list(), "NFS VHD")
        .await
        .unwrap_err();
    let pools = sim.ids("pools").len();
    assert!(pools > 1);
    assert!(
        matches!(&err, Error::Lookup { found, .. } if *found == pools),
        "{err:?}"
    );
}

#[tokio::test]
async fn find_by_name_without_a_match_is_a_lookup_error() {
    let (sim, client) = sim().await;
    for name in ["no-such-vm", "we", "web-0", "WEB-01 "] {
        let err = client.vms().list().find_by_name(name).await.unwrap_err();
        match &err {
            Error::Lookup {
                name: looked_for,
                found,
                ..
            } => {
                assert_eq!(looked_for, name);
                assert_eq!(*found, 0, "{name}");
            }
            other => panic!("{name}: expected Error::Lookup, got {other:?}"),
        }
        assert_eq!(err.tool(), Some("list_vms"));
        assert!(err.to_string().contains(name), "{err}");
    }
    // Several substring matches, none exact.
    assert!(sim.find_by_name("vms", "web-01").is_some());
    let err = client.vms().list().find_by_name("web-0").await.unwrap_err();
    assert!(matches!(err, Error::Lookup { found: 0, .. }), "{err:?}");
}

#[tokio::test]
async fn find_by_name_with_two_matches_is_a_lookup_error() {
    let (sim, client) = sim().await;
    let ids = sim.ids("vms");
    rename(&sim, &ids[0], "twin");
    rename(&sim, &ids[1], "twin");
    rename(&sim, &ids[2], "twins");
    let err = client.vms().list().find_by_name("twin").await.unwrap_err();
    assert!(
        matches!(&err, Error::Lookup { name, found: 2, .. } if name == "twin"),
        "{err:?}"
    );
    // Exactly one `twins`.
    let vm = client.vms().list().find_by_name("twins").await.unwrap();
    assert_eq!(vm.id, Some(VmId::new(&ids[2])));
}

#[tokio::test]
async fn find_by_name_quotes_the_name() {
    let (sim, client) = sim().await;
    let ids = sim.ids("vms");
    // Names that are filter syntax when sent bare: quotes, spaces,
    // backslashes, `|( )`, `!`, `:` and `*`.
    let names = [
        r#"db "primary" 01"#,
        "db primary 01",
        r"C:\VMs\web",
        "|(a b) !c *:d",
        "web 01.example.com",
    ];
    for (id, name) in ids.iter().zip(names) {
        rename(&sim, id, name);
    }
    for (id, name) in ids.iter().zip(names) {
        let vm = client
            .vms()
            .list()
            .find_by_name(name)
            .await
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(vm.id, Some(VmId::new(id)), "{name:?}");
        assert_eq!(vm.name_label.as_deref(), Some(name));
    }
    // A quoted name that nobody has.
    let err = client
        .vms()
        .list()
        .find_by_name(r#"db "primary""#)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Lookup { found: 0, .. }), "{err:?}");
}

/// On the wire: whole objects, the name quoted and escaped in the filter.
#[tokio::test]
async fn find_by_name_request_on_the_wire() {
    let server = support::Server::always(support::Reply::json(
        200,
        r#"[{"id": "v1", "name_label": "a \"b\" c", "href": "/rest/v0/vms/v1"},
            {"id": "v2", "name_label": "a \"b\" cd", "href": "/rest/v0/vms/v2"}]"#,
    ))
    .await;
    let client = Client::builder(server.url()).token("t").build().unwrap();
    let vm = client
        .vms()
        .list()
        .limit(10)
        .find_by_name(r#"a "b" c"#)
        .await
        .unwrap();
    assert_eq!(vm.id, Some(VmId::new("v1")));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].target,
        "/rest/v0/vms?fields=*&filter=name_label%3A%22a%20%5C%22b%5C%22%20c%22&limit=10"
    );
}

#[tokio::test]
async fn unknown_enum_values_and_unknown_fields_are_kept() {
    let (sim, client) = sim().await;
    let id = sim.ids("vms")[0].clone();
    sim.update_object("vms", &id, |vm| {
        vm.insert("power_state".into(), json!("Hibernating"));
        vm.insert("future_field".into(), json!({"x": 1}));
    })
    .unwrap();
    let vm = client.vms().get(VmId::new(&id)).send().await.unwrap();
    assert_eq!(
        vm.power_state,
        Some(PowerState::Unknown("Hibernating".into()))
    );
    assert_eq!(vm.unknown_fields["future_field"], json!({"x": 1}));
    // Through a collection too, selecting an undeclared field.
    let vms = client
        .vms()
        .list()
        .select([Vm::POWER_STATE, Field::unchecked("future_field")])
        .filter(Filter::eq(Vm::POWER_STATE, "Hibernating"))
        .send()
        .await
        .unwrap();
    assert_eq!(vms.len(), 1);
    assert_eq!(vms[0].unknown_fields["future_field"], json!({"x": 1}));
    // And into the caller's own type.
    let raw: Vec<Value> = client
        .vms()
        .list()
        .select([Field::unchecked("future_field")])
        .filter(Filter::eq(Vm::POWER_STATE, "Hibernating"))
        .send_as()
        .await
        .unwrap();
    assert_eq!(raw[0]["future_field"], json!({"x": 1}));
}

// ---------------------------------------------------------------------
// The generator's IR: what is a collection and what is an action.

fn api() -> xo_codegen::ir::Api {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = xo_codegen::Input::new(root.join("dadl/xen-orchestra.dadl"))
        .with_overlay(root.join("dadl/xen-orchestra.errata.yaml"))
        .with_overlay(root.join("dadl/xen-orchestra.sdk.yaml"));
    xo_codegen::analyze(&input).unwrap()
}

fn query(op: &Operation) -> BTreeSet<&str> {
    op.params
        .iter()
        .filter(|p| p.location == Location::Query)
        .map(|p| p.name.as_str())
        .collect()
}

/// Every collection tool (a GET with the `fields`, `filter`, `limit` and
/// `ndjson` query parameters) is typed as a collection, with the markdown
/// flag of its `markdown` parameter, the id type of its item's `id` and a
/// lookup by name when its item has a `name_label`; nothing else is.
#[test]
fn every_collection_tool_is_typed() {
    let api = api();
    let structs: std::collections::HashMap<&str, &Vec<xo_codegen::types::Field>> = api
        .types
        .iter()
        .filter_map(|t| match t {
            xo_codegen::types::TypeDef::Struct { name, fields, .. } => {
                Some((name.as_str(), fields))
            }
            _ => None,
        })
        .collect();
    let mut count = 0;
    for op in &api.operations {
        let query = query(op);
        let is_collection = op.http_method == "GET"
            && ["fields", "filter", "limit", "ndjson"]
                .iter()
                .all(|p| query.contains(p));
        match &op.kind {
            Kind::Collection {
                item,
                id,
                markdown,
                by_name,
                event_type,
            } => {
                // Events name objects of a whole collection, never of a
                // sub-collection (`/vms/{id}/tasks`).
                assert!(
                    event_type.is_none() || !op.path.contains('{'),
                    "{}: x-event-type on a sub-collection",
                    op.tool
                );
                assert!(
                    is_collection,
                    "{} is a collection without its parameters",
                    op.tool
                );
                count += 1;
                assert_eq!(
                    *markdown,
                    query.contains("markdown"),
                    "{}: markdown",
                    op.tool
                );
                let fields = structs
                    .get(item.as_str())
                    .unwrap_or_else(|| panic!("{}: item {item} is not a struct", op.tool));
                let field = |wire: &str| fields.iter().find(|f| f.wire == wire);
                assert_eq!(
                    field("id").map(|f| &f.ty),
                    Some(id),
                    "{}: the id type is the item's `id`",
                    op.tool
                );
                assert_eq!(
                    field("href").map(|f| &f.ty),
                    Some(&xo_codegen::types::TypeRef::Href(match id {
                        xo_codegen::types::TypeRef::Named(n) => n.clone(),
                        other => panic!("{}: id {other:?}", op.tool),
                    })),
                    "{}: the item's `href` refers to its id type",
                    op.tool
                );
                assert_eq!(
                    *by_name,
                    field("name_label").is_some_and(|f| f.ty == xo_codegen::types::TypeRef::String),
                    "{}: by_name",
                    op.tool
                );
            }
            other => assert!(
                !is_collection,
                "{} is not typed as a collection: {other:?}",
                op.tool
            ),
        }
    }
    assert_eq!(count, 86);
}

/// Every action (`POST …/actions/NAME`, answered with a task) is typed as
/// one, and nothing else is; every action has the `sync` parameter that
/// `send` and `run_sync` set.
#[test]
fn every_action_tool_is_typed() {
    let api = api();
    let mut count = 0;
    for op in &api.operations {
        let is_action = op.http_method == "POST" && op.path.contains("/actions/");
        match &op.kind {
            Kind::Action { .. } => {
                assert!(
                    is_action,
                    "{} ({} {}) is typed as an action",
                    op.tool, op.http_method, op.path
                );
                assert!(query(op).contains("sync"), "{}: sync", op.tool);
                count += 1;
            }
            other => assert!(
                !is_action,
                "{} is not typed as an action: {other:?}",
                op.tool
            ),
        }
    }
    assert_eq!(count, 58);
    // Outputs declared in the overlay.
    let output = |tool: &str| match &api.operations.iter().find(|o| o.tool == tool).unwrap().kind {
        Kind::Action { output } => output.clone(),
        other => panic!("{tool}: {other:?}"),
    };
    let named = |n: &str| Some(xo_codegen::types::TypeRef::Named(n.into()));
    assert_eq!(output("snapshot_vm"), named("VmSnapshotId"));
    assert_eq!(output("clone_vm"), named("VmId"));
    assert_eq!(output("migrate_vdi"), named("VdiId"));
    assert_eq!(output("copy_acl_role"), named("AclRoleId"));
    assert_eq!(output("start_vm"), None);
}
