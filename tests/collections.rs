//! Typed collections over real HTTP against xo-sim: href lists, selected
//! and all fields, filter quoting, limit, NDJSON streaming, Markdown, and
//! tolerance of unknown enum values, unknown fields and missing fields.

mod support;

use std::collections::BTreeSet;

use futures::TryStreamExt;
use serde_json::json;
use xo_sdk::types::{PowerState, Vm};
use xo_sdk::xo::{Collection, Filter, MarkdownTable};

use support::sim;

#[tokio::test]
async fn refs_are_the_default_answer() {
    let (sim, client) = sim().await;
    let refs = client.vms().list().refs().await.unwrap();
    let ids: BTreeSet<String> = refs.iter().map(|h| h.id().to_owned()).collect();
    assert_eq!(ids, sim.ids("vms").into_iter().collect());
    assert!(refs.iter().all(|h| h.collection() == Some("vms")));
    assert!(refs[0].as_str().starts_with("/rest/v0/vms/"));
}

#[tokio::test]
async fn selected_fields_are_typed_and_the_rest_missing() {
    let (sim, client) = sim().await;
    let vms = client
        .vms()
        .list()
        .select(["name_label", "power_state"])
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
    }
}

#[tokio::test]
async fn all_fields_give_whole_objects() {
    let (sim, client) = sim().await;
    let hosts = client.hosts().list().all_fields().send().await.unwrap();
    assert_eq!(hosts.len(), sim.ids("hosts").len());
    for h in &hosts {
        let id = h.id.as_deref().unwrap();
        let raw = sim.object("hosts", id).unwrap();
        assert_eq!(h.name_label.as_deref(), raw["name_label"].as_str());
    }
}

#[tokio::test]
async fn filters_are_quoted_and_applied_with_limit() {
    let (sim, client) = sim().await;
    let running: Vec<Vm> = client
        .vms()
        .list()
        .filter(Filter::eq("power_state", "Running"))
        .select(["name_label", "power_state"])
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
    let one = sim.objects("vms")[0].clone();
    let id = one["id"].as_str().unwrap().to_owned();
    sim.update_object("vms", &id, |vm| {
        vm.insert("name_label".into(), json!("web 01.example"));
    })
    .unwrap();
    let found = client
        .vms()
        .list()
        .filter(Filter::eq("name_label", "web 01.example"))
        .refs()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id(), id);

    let limited = client.vms().list().limit(3).refs().await.unwrap();
    assert_eq!(limited.len(), 3);
}

#[tokio::test]
async fn ndjson_stream_yields_every_object() {
    let (sim, client) = sim().await;
    let stream = client.vms().list().all_fields().stream();
    let vms: Vec<Vm> = stream.try_collect().await.unwrap();
    assert_eq!(vms.len(), sim.ids("vms").len());
    let names: BTreeSet<_> = vms.iter().filter_map(|v| v.name_label.clone()).collect();
    assert_eq!(names.len(), vms.len());
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
    let (_sim, client) = sim().await;
    let table = client
        .vms()
        .list()
        .fields("name_label,power_state")
        .markdown_table()
        .await
        .unwrap();
    assert!(table.contains("name_label"), "{table}");
    assert!(
        table.lines().filter(|l| l.starts_with('|')).count() > 2,
        "{table}"
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
    let vm = client.vms().get(&id).send().await.unwrap();
    assert_eq!(
        vm.power_state,
        Some(PowerState::Unknown("Hibernating".into()))
    );
    assert_eq!(vm.unknown_fields["future_field"], json!({"x": 1}));
    // Through a collection too.
    let vms = client
        .vms()
        .list()
        .filter(Filter::eq("power_state", "Hibernating"))
        .select(["power_state", "future_field"])
        .send()
        .await
        .unwrap();
    assert_eq!(vms.len(), 1);
    assert_eq!(vms[0].unknown_fields["future_field"], json!({"x": 1}));
}

/// Every collection tool of the generated client (a GET with `fields` and
/// `ndjson` query parameters) has a `Collection` implementation.
#[test]
fn every_collection_tool_is_typed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = xo_codegen::Input::new(root.join("dadl/xen-orchestra.dadl"))
        .with_overlay(root.join("dadl/xen-orchestra.errata.yaml"));
    let api = xo_codegen::analyze(&input).unwrap();
    let table = std::fs::read_to_string(root.join("xo-sdk/xo/mod.rs")).unwrap();
    let mut count = 0;
    for op in &api.operations {
        let query: BTreeSet<&str> = op
            .params
            .iter()
            .filter(|p| p.location == xo_codegen::ir::Location::Query)
            .map(|p| p.name.as_str())
            .collect();
        if op.http_method == "GET" && query.contains("fields") && query.contains("ndjson") {
            count += 1;
            let entry = format!("crate::{}::{} =>", op.module, op.type_name);
            assert!(table.contains(&entry), "{} has no Collection impl", op.tool);
            let markdown = table.contains(&format!("{entry} ")) && {
                let line = table.lines().find(|l| l.contains(&entry)).unwrap();
                line.contains(", markdown;")
            };
            assert_eq!(
                markdown,
                query.contains("markdown"),
                "{}: markdown flag",
                op.tool
            );
        }
    }
    assert_eq!(count, 86);
}
