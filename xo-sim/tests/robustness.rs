//! Bad input never crashes the simulator: malformed JSON, wrong types,
//! odd paths and parameters all get an XO-shaped error.

mod common;

use common::env;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn malformed_requests_get_errors_not_crashes() {
    let e = env().await;
    let vm = e.vm("web-01");
    let pool = e.sim.ids("pools")[0].clone();
    let json_routes = [
        (Method::POST, "/vifs".to_string()),
        (Method::POST, "/vdis".to_string()),
        (Method::POST, "/vbds".to_string()),
        (Method::POST, "/users".to_string()),
        (Method::POST, "/groups".to_string()),
        (Method::POST, "/srs".to_string()),
        (Method::POST, "/servers".to_string()),
        (Method::POST, "/acl-roles".to_string()),
        (Method::POST, "/acl-privileges".to_string()),
        (Method::POST, "/backup-repositories".to_string()),
        (Method::PATCH, format!("/vms/{vm}")),
        (
            Method::POST,
            format!("/vms/{vm}/actions/snapshot?sync=true"),
        ),
        (Method::POST, format!("/vms/{vm}/actions/migrate?sync=true")),
        (
            Method::POST,
            format!("/pools/{pool}/actions/create_vm?sync=true"),
        ),
        (
            Method::POST,
            format!("/pools/{pool}/actions/create_bonded_network?sync=true"),
        ),
        (Method::POST, "/events/x/subscriptions".to_string()),
        (
            Method::POST,
            format!("/users/{}/authentication_tokens", e.sim.admin_id()),
        ),
    ];
    let bodies = [
        "{",
        "[]",
        "null",
        "42",
        "\"s\"",
        "{\"a\":",
        "{\"name\":{}}",
        "{\"vmId\":1,\"networkId\":[]}",
        "{\"template\":\"x\",\"name_label\":\"y\",\"vdis\":[1,2]}",
        "\u{0}\u{1}",
        "{\"expiresIn\":-5}",
        "{\"pifIds\":[\"a\"],\"bondMode\":\"lacp\",\"name\":\"n\"}",
    ];
    for (m, path) in &json_routes {
        for b in bodies {
            let r = e
                .send(
                    e.req(m.clone(), path)
                        .header("content-type", "application/json")
                        .body(b.to_string()),
                )
                .await;
            assert!(
                (400..600).contains(&r.status) && r.status != 501,
                "{m} {path} {b:?}: {}",
                r.status
            );
            assert!(r.json()["error"].is_string() || r.json()["error"].is_object());
        }
    }
    let odd = [
        "/vms/%FF%FE",
        "/vms/..%2F..%2Fetc",
        "/vms?limit=1e400",
        "/vms?limit=-1",
        "/vms?fields=",
        "/vms?fields=,,,",
        "/vms?filter=%22",
        "/vms?filter=a:b:c:d",
        "/vms/x/tags/",
        "/vms/x.xva.xva",
        "/tasks/x?wait=true",
        "/%E2%82%AC",
    ];
    for p in odd {
        let r = e.get(p).await;
        assert!(r.status < 600, "{p}");
        // a route XO does not have is Express's HTML 404, anything else JSON
        if r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
        {
            assert_eq!(r.status, 404, "{p}");
            assert!(r.text().contains("Cannot GET /rest/v0/"), "{p}");
        } else {
            let _ = r.json();
        }
    }
    let deep = format!("/vms?filter={}", "(".repeat(2000));
    assert_eq!(e.get(&deep).await.status, 400);
    let deep_not = format!("/vms?filter={}a", "!".repeat(2000));
    assert_eq!(e.get(&deep_not).await.status, 400);
    // memory as a size string
    assert_eq!(
        e.patch(&format!("/vms/{vm}"), json!({"memory": "8GiB"}))
            .await
            .status,
        204
    );
    assert_eq!(
        e.sim.object("vms", &vm).unwrap()["memory"]["size"],
        8u64 * 1024 * 1024 * 1024
    );
    assert_eq!(
        e.patch(&format!("/vms/{vm}"), json!({"memory": true}))
            .await
            .status,
        422
    );
    // a test helper refuses non-objects
    assert!(e.sim.put_object("vms", json!(1)).is_err());
    // still alive
    assert_eq!(e.get("/ping").await.status, 200);
    assert!(e.sim.request_count() > 200);
}
