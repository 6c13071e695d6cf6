//! Collections (hrefs, fields, filter, limit, ndjson, markdown), single
//! objects, sub-collections, tags, stats and XO's error shapes.

mod common;

use common::env;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn default_is_an_array_of_hrefs() {
    let e = env().await;
    let r = e.get("/vms").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let v = r.json();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 20);
    for h in list {
        let h = h.as_str().unwrap();
        assert!(h.starts_with("/rest/v0/vms/"));
    }
    for (coll, n) in [
        ("pools", 2),
        ("hosts", 3),
        ("vm-snapshots", 3),
        ("vm-controllers", 3),
    ] {
        assert_eq!(
            e.get(&format!("/{coll}"))
                .await
                .json()
                .as_array()
                .unwrap()
                .len(),
            n,
            "{coll}"
        );
    }
}

#[tokio::test]
async fn fields_filter_limit() {
    let e = env().await;
    let r = e
        .get("/vms?fields=name_label,power_state&filter=power_state:Running")
        .await;
    let v = r.json();
    let list = v.as_array().unwrap();
    assert!(!list.is_empty());
    for o in list {
        let keys: Vec<&String> = o.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3, "{o}");
        assert_eq!(o["power_state"], "Running");
        assert!(o["href"].as_str().unwrap().starts_with("/rest/v0/vms/"));
    }
    let all = e.get("/vms?fields=*&limit=1").await.json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert!(all[0]["href"].is_string() && all[0]["CPUs"].is_object());

    assert_eq!(names(&e, "tags:db").await, vec!["db-01", "db-02"]);
    assert_eq!(names(&e, "tags:db !name_label:db-02").await, vec!["db-01"]);
    assert_eq!(
        names(&e, "|(name_label:dns-01 name_label:dns-02)").await,
        vec!["dns-01", "dns-02"]
    );
    assert_eq!(
        names(&e, "name_label:\"edge-cache-01\"").await,
        vec!["edge-cache-01"]
    );
    assert_eq!(
        names(&e, "memory:(size:>1e10) power_state:Paused").await,
        vec!["ci-runner-02"]
    );
    assert_eq!(
        names(&e, "CPUs:(number:>=8)").await,
        vec!["ci-runner-01", "ci-runner-02"]
    );
    assert_eq!(
        names(&e, "(tags:edge tags:cache)").await,
        vec!["edge-cache-01", "edge-cache-02"]
    );
    assert_eq!(names(&e, "power_state:Suspended").await, vec!["win-ad-01"]);
    // limit applies after filtering
    let r = e.get("/vms?filter=tags:prod&limit=2").await.json();
    assert_eq!(r.as_array().unwrap().len(), 2);
    // filters work on empty results
    assert_eq!(
        e.get("/vms?filter=tags:nothing-has-this").await.json(),
        json!([])
    );
}

async fn names(e: &common::Env, f: &str) -> Vec<String> {
    let url = format!("/vms?fields=name_label&filter={}", urlencode(f));
    let r = e.get(&url).await;
    assert_eq!(r.status, 200, "{f}: {}", r.text());
    let mut names: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name_label"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn bad_filters_and_booleans() {
    let e = env().await;
    let r = e
        .get(&format!(
            "/vms?filter={}",
            urlencode("name:bob@example.com")
        ))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["data"]["stringToParse"], "name:bob@example.com");
    let r = e.get(&format!("/vms?filter={}", urlencode("|(a b"))).await;
    assert_eq!(r.status, 400);
    // booleans must be true or false
    assert_eq!(e.get("/vms?ndjson").await.status, 422);
    assert_eq!(e.get("/vms?ndjson=TRUE").await.status, 422);
    assert_eq!(e.get("/vms?ndjson=true&markdown=true").await.status, 422);
    assert_eq!(e.get("/vms?limit=abc").await.status, 422);
    let vm = e.vm("app-03");
    let r = e
        .post(&format!("/vms/{vm}/actions/start?sync"), json!({}))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.json()["error"]["sync"].is_object());
}

#[tokio::test]
async fn ndjson_and_markdown() {
    let e = env().await;
    let r = e.get("/hosts?fields=name_label&ndjson=true").await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/x-ndjson")
    );
    let lines: Vec<Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["name_label"].is_string()));
    let r = e.get("/hosts?ndjson=true").await;
    assert!(r.text().lines().all(|l| l.starts_with("\"/rest/v0/hosts/")));
    let r = e.get("/pools?fields=name_label&markdown=true").await;
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/markdown")
    );
    let t = r.text();
    let rows: Vec<&str> = t.lines().collect();
    // like XO: the fields asked for, no href column, no final newline
    assert_eq!(rows[0], "| name_label |");
    assert_eq!(rows[1], "| --- |");
    assert_eq!(rows.len(), 4);
    assert!(t.contains("| Lab |") && t.contains("| Edge |"));
    assert!(!t.ends_with('\n'));
    // an empty collection is no table
    let r = e
        .get("/pools?fields=name_label&markdown=true&filter=name_label:nope")
        .await;
    assert_eq!(r.text(), "No results.");
}

#[tokio::test]
async fn single_objects_and_errors() {
    let e = env().await;
    let id = e.vm("web-01");
    let r = e.get(&format!("/vms/{id}")).await;
    assert_eq!(r.status, 200);
    let vm = r.json();
    assert!(vm.get("href").is_none());
    assert_eq!(vm["id"], id);
    assert_eq!(vm["type"], "VM");
    assert_eq!(vm["name_label"], "web-01");
    // relations are consistent
    let pool = vm["$pool"].as_str().unwrap();
    assert_eq!(e.get(&format!("/pools/{pool}")).await.status, 200);
    let host = vm["$container"].as_str().unwrap();
    let h = e.get(&format!("/hosts/{host}")).await.json();
    assert!(h["residentVms"].as_array().unwrap().contains(&json!(id)));
    for vbd in vm["$VBDs"].as_array().unwrap() {
        let vbd = e
            .get(&format!("/vbds/{}", vbd.as_str().unwrap()))
            .await
            .json();
        assert_eq!(vbd["VM"], id);
        if let Some(vdi) = vbd["VDI"].as_str() {
            let vdi = e.get(&format!("/vdis/{vdi}")).await.json();
            assert!(vdi["$VBDs"].as_array().unwrap().contains(&vbd["id"]));
            let sr = e
                .get(&format!("/srs/{}", vdi["$SR"].as_str().unwrap()))
                .await
                .json();
            assert!(sr["VDIs"].as_array().unwrap().contains(&vdi["id"]));
        }
    }

    // unknown object: 404 with XO's shape
    let r = e.get("/vms/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"error": "no such VM 00000000-0000-0000-0000-000000000000", "data": {"id": "00000000-0000-0000-0000-000000000000", "type": "VM"}})
    );
    // wrong type: a host id under /vms
    assert_eq!(e.get(&format!("/vms/{host}")).await.status, 404);
    // unknown routes
    assert_eq!(e.get("/nothing").await.status, 404);
    assert_eq!(e.get(&format!("/vms/{id}/nothing")).await.status, 404);
    assert_eq!(
        e.post(&format!("/vms/{id}/actions/explode"), json!({}))
            .await
            .status,
        404
    );
    // strict bodies: unknown field → 422, malformed JSON → 400
    let r = e
        .patch(&format!("/vms/{id}"), json!({"name_label": "x"}))
        .await;
    assert_eq!(r.status, 422, "PATCH takes nameLabel, not name_label");
    assert!(r.json()["error"]["body.name_label"]["message"].is_string());
    let r = e
        .send(
            e.req(Method::PATCH, &format!("/vms/{id}"))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = e
        .patch(
            &format!("/vms/{id}"),
            json!({"nameLabel": "web-01-renamed", "tags": ["a"]}),
        )
        .await;
    assert_eq!(r.status, 204);
    let vm = e.get(&format!("/vms/{id}")).await.json();
    assert_eq!(vm["name_label"], "web-01-renamed");
    assert_eq!(vm["tags"], json!(["a"]));
    // deleting a running VM is refused
    let r = e.delete(&format!("/vms/{id}")).await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn sub_collections_tags_stats() {
    let e = env().await;
    let id = e.vm("db-01");
    let vdis = e
        .get(&format!("/vms/{id}/vdis?fields=name_label"))
        .await
        .json();
    assert_eq!(vdis.as_array().unwrap().len(), 2);
    let ci = e.vm("ci-runner-01");
    let alarms = e.get(&format!("/vms/{ci}/alarms?fields=body")).await.json();
    assert_eq!(alarms[0]["body"]["name"], "cpu_usage");
    let msgs = e
        .get(&format!("/vms/{id}/messages?fields=name"))
        .await
        .json();
    assert_eq!(msgs[0]["name"], "VM_SNAPSHOTTED");
    let tasks = e
        .get(&format!("/vms/{id}/tasks?fields=status"))
        .await
        .json();
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    let jobs = e
        .get(&format!("/vms/{id}/backup-jobs?fields=name"))
        .await
        .json();
    assert_eq!(jobs[0]["name"], "Nightly prod delta");
    assert_eq!(e.get(&format!("/vms/{id}/dashboard")).await.status, 200);

    assert_eq!(
        e.put(&format!("/vms/{id}/tags/hello%20world")).await.status,
        204
    );
    let tags = e.get(&format!("/vms/{id}")).await.json()["tags"].clone();
    assert!(tags.as_array().unwrap().contains(&json!("hello world")));
    let found = e.get("/vms?filter=tags:%22hello%20world%22").await.json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(
        e.delete(&format!("/vms/{id}/tags/hello%20world"))
            .await
            .status,
        204
    );
    let tags = e.get(&format!("/vms/{id}")).await.json()["tags"].clone();
    assert!(!tags.as_array().unwrap().contains(&json!("hello world")));

    let s = e.get(&format!("/vms/{id}/stats?granularity=minutes")).await;
    assert_eq!(s.status, 200);
    let s = s.json();
    assert_eq!(s["interval"], 60);
    assert!(s["endTimestamp"].is_number());
    assert_eq!(s["stats"]["cpus"]["0"].as_array().unwrap().len(), 120);
    let halted = e.vm("app-03");
    assert_eq!(e.get(&format!("/vms/{halted}/stats")).await.status, 422);
    assert_eq!(
        e.get(&format!("/vms/{id}/stats?granularity=weeks"))
            .await
            .status,
        422
    );
    let host = e.sim.ids("hosts")[0].clone();
    assert_eq!(e.get(&format!("/hosts/{host}/stats")).await.status, 200);
    let pool = e.sim.ids("pools")[0].clone();
    let ps = e.get(&format!("/pools/{pool}/stats")).await.json();
    assert!(!ps.as_object().unwrap().is_empty());
    let mp = e.get(&format!("/pools/{pool}/missing_patches")).await;
    assert!(mp.json().is_array());
    assert_eq!(e.get("/dashboard").await.json()["nPools"], 2);
}
