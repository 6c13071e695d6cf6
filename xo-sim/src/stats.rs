//! Stats, dashboards and missing patches, computed from the state.

use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::collection::render_values;
use crate::error::{XoError, XoResult};
use crate::server::{Ctx, authorize, no_content, now_s, ok_json, require_admin};
use crate::state::{FNV_OFFSET, Store, fnv1a64, splitmix};

fn granularity(ctx: &Ctx) -> XoResult<(u64, usize)> {
    match ctx.query.get("granularity").unwrap_or("seconds") {
        "seconds" => Ok((5, 120)),
        "minutes" => Ok((60, 120)),
        "hours" => Ok((3600, 168)),
        "days" => Ok((86_400, 366)),
        other => Err(XoError::invalid_field(
            "granularity",
            "should be one of the following; [seconds,minutes,hours,days]",
            json!(other),
        )),
    }
}

/// A deterministic series of `n` values in `[lo, hi)`.
fn series(key: &str, n: usize, lo: f64, hi: f64) -> Value {
    let mut st = fnv1a64(FNV_OFFSET, key.as_bytes());
    let v: Vec<Value> = (0..n)
        .map(|_| {
            let r = (splitmix(&mut st) >> 11) as f64 / (1u64 << 53) as f64;
            json!(((lo + r * (hi - lo)) * 1000.0).round() / 1000.0)
        })
        .collect();
    Value::Array(v)
}

fn per(key: &str, names: &[&str], n: usize, lo: f64, hi: f64) -> Value {
    let mut m = Map::new();
    for name in names {
        m.insert(
            name.to_string(),
            series(&format!("{key}:{name}"), n, lo, hi),
        );
    }
    Value::Object(m)
}

fn rw(key: &str, names: &[&str], n: usize, lo: f64, hi: f64) -> Value {
    json!({ "r": per(&format!("{key}:r"), names, n, lo, hi), "w": per(&format!("{key}:w"), names, n, lo, hi) })
}

fn host_stats(store: &Store, id: &str, interval: u64, n: usize) -> Value {
    let host = store.get("hosts", id).cloned().unwrap_or(Value::Null);
    let mem = host["memory"]["size"].as_f64().unwrap_or(0.0);
    let cpus: Vec<String> = (0..8).map(|i| i.to_string()).collect();
    let cpu_refs: Vec<&str> = cpus.iter().map(String::as_str).collect();
    let srs: Vec<String> = store
        .list("srs")
        .into_iter()
        .filter(|s| s["$pool"] == host["$pool"])
        .filter_map(|s| s["uuid"].as_str().map(|u| u[..8].to_string()))
        .collect();
    let sr_refs: Vec<&str> = srs.iter().map(String::as_str).collect();
    json!({
        "endTimestamp": now_s(),
        "interval": interval,
        "stats": {
            "cpus": per(&format!("{id}:cpu"), &cpu_refs, n, 0.0, 0.6),
            "load": series(&format!("{id}:load"), n, 0.1, 4.0),
            "memory": series(&format!("{id}:mem"), n, mem, mem + 1.0),
            "memoryFree": series(&format!("{id}:memfree"), n, mem * 0.4, mem * 0.6),
            "pifs": { "rx": per(&format!("{id}:rx"), &["0", "1"], n, 0.0, 1e7), "tx": per(&format!("{id}:tx"), &["0", "1"], n, 0.0, 1e7) },
            "iops": rw(&format!("{id}:iops"), &sr_refs, n, 0.0, 500.0),
            "ioThroughput": rw(&format!("{id}:thr"), &sr_refs, n, 0.0, 5e7),
            "latency": rw(&format!("{id}:lat"), &sr_refs, n, 0.0, 2.0),
            "iowait": per(&format!("{id}:iowait"), &sr_refs, n, 0.0, 0.05),
        }
    })
}

/// `GET /vms|hosts|pools/{id}/stats`
pub(crate) fn stats(sh: &Shared, ctx: &Ctx, coll: &str, id: &str) -> XoResult<Response> {
    let (interval, n) = granularity(ctx)?;
    let store = sh.lock();
    let obj = store.need(coll, id)?.clone();
    authorize(&store, ctx, coll, "read", Some(&obj))?;
    match coll {
        "vms" => {
            if obj["power_state"] != "Running" {
                return Err(XoError::invalid_parameters(
                    format!(
                        "VM {id} is {}",
                        obj["power_state"]
                            .as_str()
                            .unwrap_or("halted")
                            .to_lowercase()
                    ),
                    json!({ "id": id, "power_state": obj["power_state"] }),
                ));
            }
            let ncpu = obj["CPUs"]["number"].as_u64().unwrap_or(1) as usize;
            let cpus: Vec<String> = (0..ncpu).map(|i| i.to_string()).collect();
            let cpu_refs: Vec<&str> = cpus.iter().map(String::as_str).collect();
            let mem = obj["memory"]["size"].as_f64().unwrap_or(0.0);
            let disks = ["xvda", "xvdb"];
            let vifs = ["0"];
            Ok(ok_json(&json!({
                "endTimestamp": now_s(),
                "interval": interval,
                "stats": {
                    "cpus": per(&format!("{id}:cpu"), &cpu_refs, n, 0.0, 1.0),
                    "cpuUsage": series(&format!("{id}:cpuusage"), n, 0.0, 100.0),
                    "memory": series(&format!("{id}:mem"), n, mem, mem + 1.0),
                    "memoryFree": series(&format!("{id}:memfree"), n, mem * 0.2, mem * 0.5),
                    "memoryTarget": series(&format!("{id}:memtarget"), n, mem, mem + 1.0),
                    "vifs": { "rx": per(&format!("{id}:rx"), &vifs, n, 0.0, 1e6), "tx": per(&format!("{id}:tx"), &vifs, n, 0.0, 1e6) },
                    "vifErrors": { "rx": per(&format!("{id}:rxe"), &vifs, n, 0.0, 1.0), "tx": per(&format!("{id}:txe"), &vifs, n, 0.0, 1.0) },
                    "xvds": { "r": per(&format!("{id}:xr"), &disks, n, 0.0, 1e7), "w": per(&format!("{id}:xw"), &disks, n, 0.0, 1e7), "total": per(&format!("{id}:xt"), &disks, n, 0.0, 2e7) },
                    "iops": rw(&format!("{id}:iops"), &disks, n, 0.0, 300.0),
                    "vbdLatency": rw(&format!("{id}:lat"), &disks, n, 0.0, 2.0),
                    "vbdIowait": per(&format!("{id}:iowait"), &disks, n, 0.0, 0.05),
                    "vbdInflight": per(&format!("{id}:inflight"), &disks, n, 0.0, 4.0),
                    "vbdAvgquSz": per(&format!("{id}:avgqu"), &disks, n, 0.0, 2.0),
                    "runstateFullrun": series(&format!("{id}:rs1"), n, 0.0, 1.0),
                    "runstateFullContention": series(&format!("{id}:rs2"), n, 0.0, 0.1),
                    "runstateConcurrencyHazard": series(&format!("{id}:rs3"), n, 0.0, 0.1),
                    "runstateBlocked": series(&format!("{id}:rs4"), n, 0.0, 1.0),
                    "runstatePartialRun": series(&format!("{id}:rs5"), n, 0.0, 0.1),
                    "runstatePartialContention": series(&format!("{id}:rs6"), n, 0.0, 0.1),
                }
            })))
        }
        "hosts" => {
            if obj["power_state"] != "Running" {
                return Err(XoError::invalid_parameters(
                    format!("host {id} is not running"),
                    json!({ "id": id, "power_state": obj["power_state"] }),
                ));
            }
            Ok(ok_json(&host_stats(&store, id, interval, n)))
        }
        _ => {
            let mut m = Map::new();
            for h in store.list("hosts") {
                if h["$pool"] != id {
                    continue;
                }
                let hid = h["id"].as_str().unwrap_or_default();
                if h["power_state"] == "Running" {
                    m.insert(hid.into(), host_stats(&store, hid, interval, n));
                } else {
                    m.insert(
                        hid.into(),
                        json!({ "error": { "message": format!("host {hid} is not running"), "name": "Error" } }),
                    );
                }
            }
            Ok(ok_json(&Value::Object(m)))
        }
    }
}

/// `PUT|DELETE /vms/{id}/stats/data_source/{ds}`
pub(crate) fn data_source(sh: &Shared, ctx: &Ctx, id: &str, ds: &str) -> XoResult<Response> {
    let mut store = sh.lock();
    let vm = store.need("vms", id)?.clone();
    authorize(&store, ctx, "vms", "update", Some(&vm))?;
    if vm["power_state"] != "Running" {
        return Err(XoError::xapi(
            "VM_BAD_POWER_STATE",
            vec![
                vm["_xapiRef"].clone(),
                json!("running"),
                json!(vm["power_state"].as_str().unwrap_or("").to_lowercase()),
            ],
        ));
    }
    let list = store.data_sources.entry(id.to_string()).or_default();
    if ctx.method == axum::http::Method::PUT {
        if !list.iter().any(|d| d == ds) {
            list.push(ds.to_string());
        }
    } else {
        list.retain(|d| d != ds);
    }
    Ok(no_content())
}

fn count_by<'a>(items: impl Iterator<Item = &'a Value>, field: &str, value: &str) -> usize {
    items.filter(|o| o[field] == value).count()
}

/// `GET /dashboard`
pub(crate) fn global_dashboard(sh: &Shared, ctx: &Ctx) -> XoResult<Response> {
    require_admin(ctx)?;
    let ndjson = ctx.query.flag("ndjson")?;
    let store = sh.lock();
    let vms = store.list("vms");
    let hosts = store.list("hosts");
    let pools = store.list("pools");
    let servers = store.list("servers");
    let running = count_by(vms.iter().copied(), "power_state", "Running");
    let halted = count_by(vms.iter().copied(), "power_state", "Halted");
    let paused = count_by(vms.iter().copied(), "power_state", "Paused");
    let suspended = count_by(vms.iter().copied(), "power_state", "Suspended");
    let srs: Vec<&Value> = store
        .list("srs")
        .into_iter()
        .filter(|s| s["content_type"] != "iso")
        .collect();
    let sr_total: u64 = srs.iter().filter_map(|s| s["size"].as_u64()).sum();
    let sr_used: u64 = srs
        .iter()
        .filter_map(|s| s["physical_usage"].as_u64())
        .sum();
    let mem: u64 = hosts
        .iter()
        .filter_map(|h| h["memory"]["size"].as_u64())
        .sum();
    let ncpus: u64 = hosts
        .iter()
        .filter_map(|h| h["cpus"]["cores"].as_u64())
        .sum();
    let connected = count_by(servers.iter().copied(), "status", "connected");
    let protected: Vec<String> = store
        .list("backup-jobs")
        .iter()
        .filter(|j| j["type"] == "backup")
        .flat_map(|j| {
            j["vms"]["id"]["__or"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| v.as_str().map(String::from))
        })
        .collect();
    let n_protected = vms
        .iter()
        .filter(|v| protected.iter().any(|p| v["id"] == p.as_str()))
        .count();
    let repos = store.list("backup-repositories");
    let jobs = store.list("backup-jobs");
    // XO says `{"isEmpty": true}` for a part with nothing to count
    let or_empty = |empty: bool, v: Value| if empty { json!({ "isEmpty": true }) } else { v };
    let missing_patches = if hosts.is_empty() {
        json!({
            "hasAuthorization": true, "nHosts": 0, "nHostsFailed": 0, "nHostsWithMissingPatches": 0,
            "nHostsEol": { "isEmpty": true }, "nPools": pools.len(), "nPoolsWithMissingPatches": 0,
        })
    } else {
        json!({ "hasAuthorization": false })
    };
    let dashboard = json!({
        "nPools": pools.len(),
        "nHosts": hosts.len(),
        "poolsStatus": { "connected": connected, "disconnected": servers.len() - connected, "unreachable": 0, "unknown": 0, "total": servers.len() },
        "hostsStatus": {
            "running": count_by(hosts.iter().copied(), "power_state", "Running"),
            "halted": count_by(hosts.iter().copied(), "power_state", "Halted"),
            "disabled": hosts.iter().filter(|h| h["enabled"] == false).count(),
            "unknown": 0,
            "total": hosts.len(),
        },
        "vmsStatus": { "running": running, "halted": halted, "paused": paused, "suspended": suspended, "active": running + paused, "inactive": halted + suspended, "unknown": 0, "total": vms.len() },
        "resourcesOverview": or_empty(hosts.is_empty(), json!({ "nCpus": ncpus, "memorySize": mem, "srSize": sr_total })),
        "storageRepositories": or_empty(srs.is_empty(), json!({ "size": { "total": sr_total, "used": sr_used, "available": sr_total - sr_used.min(sr_total), "other": 0, "replicated": 0 } })),
        "missingPatches": missing_patches,
        "backups": or_empty(jobs.is_empty(), json!({
            "jobs": { "disabled": 1, "failed": 1, "skipped": 0, "noRecentRun": 1, "successful": 1, "total": jobs.len() },
            "issues": [],
            "vmsProtection": { "protected": n_protected, "unprotected": vms.len() - n_protected, "notInJob": vms.len() - n_protected },
        })),
        "backupRepositories": or_empty(repos.is_empty(), json!({
            "other": { "size": { "available": 0, "backups": 0, "other": 0, "total": 0, "used": 0 } },
            "s3": { "size": { "backups": 0 } },
        })),
    });
    if ndjson {
        // one property per line
        let lines: Vec<Value> = dashboard
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| json!({ k.clone(): v.clone() }))
            .collect();
        return Ok(render_values(
            lines,
            &crate::collection::ListParams::from_query(&ctx.query)?,
        ));
    }
    Ok(ok_json(&dashboard))
}

/// `GET /vms|pools/{id}/dashboard`
pub(crate) fn dashboard(sh: &Shared, ctx: &Ctx, coll: &str, id: &str) -> XoResult<Response> {
    let store = sh.lock();
    let obj = store.need(coll, id)?.clone();
    authorize(&store, ctx, coll, "read", Some(&obj))?;
    if coll == "vms" {
        let alarms: Vec<Value> = store
            .list("alarms")
            .into_iter()
            .filter(|a| a["object"]["uuid"] == id)
            .filter_map(|a| a["id"].as_str().map(|i| json!(i)))
            .collect();
        let protected = store.list("backup-jobs").iter().any(|j| {
            j["vms"]["id"]["__or"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == id))
        });
        let mut quick = Map::new();
        for k in [
            "$pool",
            "uuid",
            "id",
            "CPUs",
            "memory",
            "name_description",
            "os_version",
            "power_state",
            "pvDriversDetected",
            "pvDriversVersion",
            "pvDriversUpToDate",
            "startTime",
            "tags",
            "virtualizationMode",
            "mainIpAddress",
            "creation",
        ] {
            if let Some(v) = obj.get(k) {
                quick.insert(k.into(), v.clone());
            }
        }
        if obj["power_state"] == "Running" {
            quick.insert("host".into(), obj["$container"].clone());
        }
        let archives: Vec<Value> = store
            .list("backup-archives")
            .into_iter()
            .filter(|a| a["vm"]["uuid"] == id)
            .map(|a| json!({ "id": a["id"], "timestamp": a["timestamp"], "backupRepository": a["backupRepository"], "size": a["size"] }))
            .collect();
        return Ok(ok_json(&json!({
            "quickInfo": quick,
            "alarms": alarms,
            "backupsInfo": {
                "vmProtection": if protected { "protected" } else { "not-in-active-job" },
                "replication": {},
                "backupArchives": archives,
                "lastRuns": [],
            }
        })));
    }
    // pool
    let vms: Vec<&Value> = store
        .list("vms")
        .into_iter()
        .filter(|v| v["$pool"] == id)
        .collect();
    let hosts: Vec<&Value> = store
        .list("hosts")
        .into_iter()
        .filter(|h| h["$pool"] == id)
        .collect();
    let assigned: u64 = vms
        .iter()
        .filter(|v| v["power_state"] == "Running")
        .filter_map(|v| v["CPUs"]["number"].as_u64())
        .sum();
    let total: u64 = hosts
        .iter()
        .filter_map(|h| h["cpus"]["cores"].as_u64())
        .sum();
    let alarms: Vec<Value> = store
        .list("alarms")
        .into_iter()
        .filter(|a| a["$pool"] == id)
        .filter_map(|a| a["id"].as_str().map(|i| json!(i)))
        .collect();
    let srs: Vec<Value> = store
        .list("srs")
        .into_iter()
        .filter(|s| s["$pool"] == id)
        .take(5)
        .map(|s| json!({ "id": s["id"], "name_label": s["name_label"], "size": s["size"], "physical_usage": s["physical_usage"], "percent": s["physical_usage"].as_f64().unwrap_or(0.0) * 100.0 / s["size"].as_f64().unwrap_or(1.0).max(1.0) }))
        .collect();
    Ok(ok_json(&json!({
        "cpuProvisioning": { "assigned": assigned, "total": total, "percent": if total > 0 { assigned as f64 * 100.0 / total as f64 } else { 0.0 } },
        "alarms": alarms,
        "srs": { "topFiveUsage": srs },
        "hosts": {
            "status": {
                "running": hosts.iter().filter(|h| h["power_state"] == "Running").count(),
                "halted": hosts.iter().filter(|h| h["power_state"] == "Halted").count(),
                "unknown": 0,
                "total": hosts.len(),
            },
            "topFiveUsage": { "ram": [], "cpu": [] },
            "missingPatches": { "hasAuthorization": false },
        },
        "vms": {
            "status": {
                "running": vms.iter().filter(|v| v["power_state"] == "Running").count(),
                "halted": vms.iter().filter(|v| v["power_state"] == "Halted").count(),
                "paused": vms.iter().filter(|v| v["power_state"] == "Paused").count(),
                "suspended": vms.iter().filter(|v| v["power_state"] == "Suspended").count(),
                "total": vms.len(),
            },
            "topFiveUsage": { "ram": [], "cpu": [] },
        },
    })))
}

/// `GET /hosts|pools/{id}/missing_patches`: a plain array.
pub(crate) fn missing_patches(sh: &Shared, ctx: &Ctx, coll: &str, id: &str) -> XoResult<Response> {
    let store = sh.lock();
    let obj = store.need(coll, id)?.clone();
    authorize(&store, ctx, coll, "read", Some(&obj))?;
    let needs = match coll {
        "hosts" => obj["rebootRequired"] == true,
        _ => store
            .list("hosts")
            .iter()
            .any(|h| h["$pool"] == id && h["rebootRequired"] == true),
    };
    let patches = if needs {
        json!([{
            "name": "xapi", "version": "25.6.0", "release": "1.1.xcpng8.3", "size": 4_718_592,
            "description": "xapi toolstack", "license": "LGPL", "url": "https://updates.xcp-ng.org/8/8.3/base/x86_64/",
            "changelog": { "date": 1_759_000_000, "description": "Fix for XSA-470", "author": "XCP-ng team" },
        }])
    } else {
        json!([])
    };
    Ok(ok_json(&patches))
}
