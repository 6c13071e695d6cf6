//! Counts the operations (method + path) of XO's official OpenAPI document
//! that xo-sim implements: every operation is sent to a fresh simulator
//! with real ids substituted, and counts as implemented unless the answer
//! is the simulator's "no such route" 404 (Express's HTML `Cannot <METHOD>
//! <path>` page, as XO answers a route it does not have).
//!
//! The document is read from `XO_SPEC_JSON`, or from the cache that
//! `scripts/fetch-spec.sh` fills; without it the test prints a notice and
//! passes. Run `xo-sim/scripts/spec-coverage.sh` to see the figure.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use xo_sim::Sim;

fn spec_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("XO_SPEC_JSON") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../.cache/xo-spec/rest-api-0.39.0/swagger.json");
    p.exists().then_some(p)
}

fn first(sim: &Sim, coll: &str) -> String {
    sim.ids(coll)
        .into_iter()
        .next()
        .unwrap_or_else(|| "x".into())
}

#[tokio::test]
async fn count_official_operations_implemented() {
    let Some(path) = spec_path() else {
        println!(
            "spec-coverage: official swagger.json not found (run scripts/fetch-spec.sh); skipped"
        );
        return;
    };
    let spec: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read spec")).expect("spec JSON");
    let sim = Sim::builder()
        .task_delay(Duration::from_millis(1))
        .export_size(1024)
        .start()
        .await
        .expect("start");
    // See tests/common: a workspace build unifies reqwest's TLS features.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let cookie = format!("authenticationToken={}", sim.token());
    let mut total = 0;
    let mut missing = Vec::new();
    let paths = spec["paths"].as_object().expect("paths");
    for (tpl, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let Ok(m) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                continue;
            }
            total += 1;
            let segs: Vec<&str> = tpl.trim_start_matches('/').split('/').collect();
            let coll = match segs[0] {
                "backup" if segs.get(1) == Some(&"logs") => "backup-logs",
                "backup" => "backup-jobs",
                "restore" => "restore-logs",
                c => c,
            };
            let id = if coll == "users" {
                sim.admin_id().to_string()
            } else {
                first(&sim, coll)
            };
            let format = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == "format")
                .and_then(|p| p["schema"]["enum"][0].as_str())
                .unwrap_or("raw")
                .to_string();
            let mut url = tpl
                .replace(
                    "{id}",
                    &percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
                        .to_string(),
                )
                .replace("{format}", &format)
                .replace("{tag}", "coverage")
                .replace("{data_source}", "cpu0")
                .replace("{userId}", sim.admin_id())
                .replace("{groupId}", &first(&sim, "groups"))
                .replace("{subscriptionId}", "VM");
            if tpl.starts_with("/backup/jobs/") {
                let ty = match segs[2] {
                    "vm" => "backup",
                    "metadata" => "metadataBackup",
                    _ => "mirrorBackup",
                };
                if let Some(j) = sim
                    .objects("backup-jobs")
                    .into_iter()
                    .find(|j| j["type"] == ty)
                {
                    url = url.replace(&id, j["id"].as_str().unwrap());
                }
            }
            let mut rb = http
                .request(m.clone(), format!("{}{url}", sim.api_url()))
                .header("cookie", &cookie);
            let octet = op["requestBody"]["content"]
                .get("application/octet-stream")
                .is_some();
            if octet {
                rb = rb
                    .header("content-type", "application/octet-stream")
                    .body(vec![7u8; 512]);
            } else if matches!(method.as_str(), "post" | "put" | "patch") {
                rb = rb.header("content-type", "application/json").body("{}");
            }
            let resp = rb.send().await.expect("request");
            let status = resp.status().as_u16();
            if status >= 500 {
                println!(
                    "spec-coverage: note {status} for {} {url}",
                    method.to_uppercase()
                );
            }
            let no_route = if status == 404 {
                // Express's HTML page, as XO answers a route it lacks
                let html = resp
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|c| c.starts_with("text/html"));
                let body = resp.bytes().await.unwrap_or_default();
                html && String::from_utf8_lossy(&body).contains("<pre>Cannot ")
            } else {
                drop(resp);
                false
            };
            if no_route || status == 405 || status == 501 {
                missing.push(format!("{} {tpl}", method.to_uppercase()));
            }
        }
    }
    let implemented = total - missing.len();
    println!("spec-coverage: xo-sim implements {implemented} of {total} official operations");
    for m in &missing {
        println!("spec-coverage: missing {m}");
    }
    assert_eq!(
        total, 271,
        "the pinned official document has 271 operations"
    );
    assert!(
        implemented >= 260,
        "coverage dropped: {implemented} of {total}"
    );
}
