//! Actions (`POST /<coll>/<id>/actions/<name>`) and the tasks that run them.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, oneshot};

use crate::Shared;
use crate::body::{self, Spec};
use crate::error::{XoError, XoResult};
use crate::objects::{self, mac_of};
use crate::server::{
    Ctx, authorize, created, json_response, no_content, now_ms, now_s, ok_json, read_json,
};
use crate::state::{Store, kind};

/// What a successful action produced.
pub(crate) enum Outcome {
    /// Nothing (204 in sync mode).
    Void,
    /// A new object (201 `{id}` + Location in sync mode).
    Created(&'static str, String),
    /// The object's new id (200 `{id}`, VDI migration).
    Id(String),
    /// A result value (200, benchmarks).
    Value(Value),
}

type Effect = Box<dyn FnOnce(&mut Store) -> XoResult<Outcome> + Send>;

/// The body spec of an action, or `None` when the route does not exist.
fn action_spec(coll: &str, name: &str) -> Option<Spec> {
    use body::*;
    Some(match (coll, name) {
        ("vms", "start") => START_VM,
        (
            "vms",
            "clean_shutdown" | "clean_reboot" | "hard_shutdown" | "hard_reboot" | "pause"
            | "suspend" | "resume" | "unpause",
        ) => Spec::None,
        ("vms", "revert_snapshot") => REVERT_SNAPSHOT,
        ("vms", "snapshot") => SNAPSHOT_VM,
        ("vms", "clone") => CLONE_VM,
        ("vms", "migrate") => MIGRATE_VM,
        ("vifs" | "vbds", "connect" | "disconnect") => Spec::None,
        ("vdis", "migrate") => MIGRATE_VDI,
        ("tasks", "abort") => Spec::None,
        ("srs", "reclaim_space" | "scan" | "forget") => Spec::None,
        ("servers", "connect" | "disconnect") => Spec::None,
        ("schedules", "run") => Spec::None,
        ("pools", "create_network") => CREATE_NETWORK,
        ("pools", "create_bonded_network") => CREATE_BONDED_NETWORK,
        ("pools", "create_internal_network") => CREATE_INTERNAL_NETWORK,
        ("pools", "emergency_shutdown") => Spec::None,
        ("pools", "rolling_reboot" | "rolling_update") => ROLLING,
        ("pools", "create_vm") => CREATE_VM,
        ("pools", "management_reconfigure") => POOL_MGMT_RECONFIGURE,
        ("pools", "add_host") => ADD_HOST,
        ("pbds", "plug" | "unplug") => Spec::None,
        ("hosts", "management_reconfigure") => HOST_MGMT_RECONFIGURE,
        ("hosts", "disable") => DISABLE_HOST,
        ("hosts", "clean_shutdown") => HOST_SHUTDOWN,
        ("hosts", "clean_reboot") => HOST_REBOOT,
        ("hosts", "smart_reboot") => HOST_SMART_REBOOT,
        ("hosts", "restart_toolstack") => HOST_RESTART_TOOLSTACK,
        (
            "hosts",
            "enable" | "start" | "emergency_shutdown" | "detach" | "forget" | "scan_pifs",
        ) => Spec::None,
        ("backup-repositories", "forget" | "benchmark") => Spec::None,
        ("acl-roles", "copy") => COPY_ACL_ROLE,
        _ => return None,
    })
}

/// ACL action name of a REST action.
fn acl_action(coll: &str, name: &str) -> String {
    match (coll, name) {
        ("vms", "revert_snapshot") => "revert".into(),
        ("pools", "create_vm") => "create:vm".into(),
        ("pools", n) if n.starts_with("create_") => "create:network".into(),
        ("pools", "emergency_shutdown") => "emergency-shutdown".into(),
        (_, n) => {
            for prefix in ["clean", "hard", "smart", "emergency"] {
                if let Some(rest) = n.strip_prefix(&format!("{prefix}_")) {
                    return format!("{rest}:{prefix}");
                }
            }
            n.replace('_', "-")
        }
    }
}

/// Validates an action request and runs it; `Ok(None)` for unknown actions.
pub(crate) async fn prepare(
    sh: &Arc<Shared>,
    ctx: &Ctx,
    coll: &str,
    id: &str,
    name: &str,
    body: Body,
) -> XoResult<Option<Response>> {
    let Some(spec) = action_spec(coll, name) else {
        return Ok(None);
    };
    let Some(k) = kind(coll) else {
        return Ok(None);
    };
    let sync = ctx.query.flag("sync")?;
    // Like XO: the object, then the privileges, then the body; except the
    // host management reconfiguration, whose body (and its PIF) come first.
    let params = if (coll, name) == ("hosts", "management_reconfigure") {
        let params = read_json(body, spec).await?;
        let pif = params
            .get("pif")
            .and_then(Value::as_str)
            .unwrap_or_default();
        sh.lock().need("pifs", pif)?;
        let store = sh.lock();
        let obj = store.need(coll, id)?;
        authorize(&store, ctx, coll, &acl_action(coll, name), Some(obj))?;
        params
    } else if (coll, name) == ("pools", "management_reconfigure") {
        // XO looks the network up before the pool, and before checking
        // the body: no network is `no such network undefined`
        let raw = crate::server::read_body(body).await?;
        let network = serde_json::from_slice::<Value>(&raw)
            .ok()
            .and_then(|v| v["network"].as_str().map(String::from));
        match &network {
            None => {
                return Err(XoError::with_data(
                    StatusCode::NOT_FOUND,
                    "no such network undefined",
                    json!({ "type": "network" }),
                ));
            }
            Some(n) => {
                sh.lock().need("networks", n)?;
            }
        }
        {
            let store = sh.lock();
            let obj = store.need(coll, id)?;
            authorize(&store, ctx, coll, &acl_action(coll, name), Some(obj))?;
        }
        body::validate(spec, &raw)?
    } else {
        {
            let store = sh.lock();
            let obj = store.need(coll, id)?;
            authorize(&store, ctx, coll, &acl_action(coll, name), Some(obj))?;
        }
        read_json(body, spec).await?
    };
    // Like XO: aborting a task that is no longer running is itself a task,
    // and that task fails (the running task is not found any more).
    let abort_target_gone = coll == "tasks" && !abort_now(sh, id);
    let effect = if abort_target_gone {
        let target = id.to_string();
        Box::new(move |_: &mut crate::state::Store| -> XoResult<Outcome> {
            Err(XoError::no_such("task", &target))
        }) as Effect
    } else {
        effect(
            coll,
            id.to_string(),
            name,
            params.clone(),
            ctx.user_id(),
            sh.config.task_delay,
        )
    };
    let noun = match coll {
        "backup-repositories" => "backup repository",
        "servers" => "server",
        _ => k.noun,
    };
    let task_name = format!("REST API: {name} {noun}");
    let method = format!("{}.{}", k.acl, name);
    Ok(Some(
        run(
            sh,
            ctx,
            (id, k.xo_type),
            &task_name,
            &method,
            params,
            effect,
            sync,
        )
        .await,
    ))
}

/// Request the abort of a pending task; `false` when it is not pending.
fn abort_now(sh: &Shared, task_id: &str) -> bool {
    let pending = {
        let mut store = sh.lock();
        let pending = store
            .get("tasks", task_id)
            .is_some_and(|t| t["status"] == "pending");
        if pending {
            let _ = store.update("tasks", task_id, |t| {
                t.insert("abortionRequestedAt".into(), json!(now_ms()));
                t.insert("updatedAt".into(), json!(now_ms()));
            });
        }
        pending
    };
    if pending {
        let n = sh
            .aborts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(task_id)
            .cloned();
        if let Some(n) = n {
            n.notify_one();
        }
    }
    pending
}

/// Types of the objects XO manages itself (no hypervisor involved): their
/// actions' tasks have XO's plain shape (`properties.args`, no progress).
const XO_ONLY_TYPES: &[&str] = &[
    "acl-role",
    "backup-repository",
    "server",
    "task",
    "schedule",
];

/// Creates a task, runs `effect` after the configured delay, and answers
/// 202 (async) or the outcome (sync).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    sh: &Arc<Shared>,
    ctx: &Ctx,
    object: (&str, &str),
    task_name: &str,
    method: &str,
    params: Map<String, Value>,
    effect: Effect,
    sync: bool,
) -> Response {
    let task_id = {
        let mut store = sh.lock();
        let tid = store.new_task_id();
        let t = if XO_ONLY_TYPES.contains(&object.1) {
            objects::xo_task(&tid, task_name, object, &ctx.user_id(), &params, now_ms())
        } else {
            objects::task(
                &tid,
                task_name,
                method,
                Some(object),
                &ctx.user_id(),
                Value::Object(params),
                now_ms(),
            )
        };
        store.insert("tasks", t);
        tid
    };
    let notify = Arc::new(Notify::new());
    sh.aborts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(task_id.clone(), notify.clone());
    let (done_tx, done_rx) = oneshot::channel::<XoResult<Outcome>>();
    let sh2 = sh.clone();
    let tid = task_id.clone();
    // An abort is quick in XO whatever the aborted action's duration.
    let delay = if object.1 == "task" && method.ends_with(".abort") {
        std::time::Duration::ZERO
    } else {
        sh.config.task_delay
    };
    tokio::spawn(async move {
        let half = delay / 2;
        let aborted = tokio::select! {
            _ = tokio::time::sleep(half) => false,
            _ = notify.notified() => true,
        };
        let aborted = aborted || {
            {
                let mut store = sh2.lock();
                if store
                    .get("tasks", &tid)
                    .is_some_and(|t| t.get("progress").is_some())
                {
                    let _ = store.update("tasks", &tid, |t| {
                        t.insert("progress".into(), json!(50));
                        t.insert("updatedAt".into(), json!(now_ms()));
                    });
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(delay - half) => false,
                _ = notify.notified() => true,
            }
        };
        let result = if aborted {
            Err(XoError::with_data(
                StatusCode::INTERNAL_SERVER_ERROR,
                "aborted",
                json!({ "taskId": tid }),
            ))
        } else {
            let mut store = sh2.lock();
            effect(&mut store)
        };
        {
            let mut store = sh2.lock();
            let end = now_ms();
            let _ = store.update("tasks", &tid, |t| {
                t.insert("end".into(), json!(end));
                t.insert("updatedAt".into(), json!(end));
                if t.contains_key("progress") {
                    t.insert("progress".into(), json!(100));
                }
                match &result {
                    Ok(Outcome::Void) => {
                        t.insert("status".into(), json!("success"));
                    }
                    Ok(Outcome::Created(_, id) | Outcome::Id(id)) => {
                        t.insert("status".into(), json!("success"));
                        t.insert("result".into(), json!({ "id": id }));
                    }
                    Ok(Outcome::Value(v)) => {
                        t.insert("status".into(), json!("success"));
                        t.insert("result".into(), v.clone());
                    }
                    Err(e) => {
                        t.insert(
                            "status".into(),
                            json!(if aborted { "interrupted" } else { "failure" }),
                        );
                        t.insert(
                            "result".into(),
                            e.task
                                .as_deref()
                                .cloned()
                                .unwrap_or_else(|| e.task_result()),
                        );
                    }
                }
            });
        }
        sh2.aborts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&tid);
        let _ = done_tx.send(result);
    });
    if sync {
        match done_rx.await {
            Ok(Ok(Outcome::Void)) => no_content(),
            Ok(Ok(Outcome::Created(coll, id))) => created(coll, &id),
            Ok(Ok(Outcome::Id(id))) => ok_json(&json!({ "id": id })),
            Ok(Ok(Outcome::Value(v))) => ok_json(&v),
            Ok(Err(e)) => e.into_response(),
            Err(_) => XoError::internal("task runner stopped").into_response(),
        }
    } else {
        let mut r = json_response(StatusCode::ACCEPTED, &json!({ "taskId": task_id }));
        if let Ok(v) = HeaderValue::from_str(&format!("/rest/v0/tasks/{task_id}")) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r.into_response()
    }
}

// ---------------------------------------------------------------------------
// helpers

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn bad_power(vm: &Value, expected: &str) -> XoError {
    XoError::xapi(
        "VM_BAD_POWER_STATE",
        vec![
            vm["_xapiRef"].clone(),
            json!(expected),
            json!(vm["power_state"].as_str().unwrap_or("").to_lowercase()),
        ],
    )
}

fn need_host_usable(store: &Store, host: &str) -> XoResult<Value> {
    let h = store.need("hosts", host)?.clone();
    if h["power_state"] != "Running" {
        return Err(XoError::xapi("HOST_OFFLINE", vec![h["_xapiRef"].clone()]));
    }
    if h["enabled"] != true {
        return Err(XoError::xapi("HOST_DISABLED", vec![h["_xapiRef"].clone()]));
    }
    Ok(h)
}

/// Changes a VM's power state and everything that follows from it.
pub(crate) fn set_power(store: &mut Store, id: &str, state: &str, host: Option<&str>) {
    let Some(vm) = store.get("vms", id).cloned() else {
        return;
    };
    let pool = s(&vm["$pool"]);
    let old_host = s(&vm["$container"]);
    let running = matches!(state, "Running" | "Paused");
    let new_container = if running {
        host.map(String::from).unwrap_or(old_host.clone())
    } else {
        pool.clone()
    };
    if old_host != new_container {
        store.pull_ref("hosts", &old_host, "residentVms", id);
    }
    if running {
        store.push_ref("hosts", &new_container, "residentVms", id);
    }
    let was_running = matches!(vm["power_state"].as_str(), Some("Running" | "Paused"));
    let now = now_s();
    let _ = store.update("vms", id, |o| {
        o.insert("power_state".into(), json!(state));
        o.insert("$container".into(), json!(new_container));
        if running && !was_running {
            o.insert("startTime".into(), json!(now));
        }
        if !running {
            o.insert("startTime".into(), Value::Null);
            o.insert("addresses".into(), json!({}));
            o.remove("mainIpAddress");
            if let Some(m) = o.get_mut("memory").and_then(Value::as_object_mut) {
                m.insert("usage".into(), json!(0));
            }
        } else {
            let size = o["memory"]["size"].as_u64().unwrap_or(0);
            if let Some(m) = o.get_mut("memory").and_then(Value::as_object_mut) {
                m.insert("usage".into(), json!(size * 3 / 5));
            }
        }
    });
    for vbd in str_list(&vm["$VBDs"]) {
        let _ = store.update("vbds", &vbd, |o| {
            o.insert("attached".into(), json!(running));
        });
    }
    for vif in str_list(&vm["VIFs"]) {
        let _ = store.update("vifs", &vif, |o| {
            o.insert("attached".into(), json!(running));
        });
    }
}

/// Copies a VDI to `sr` as a new VDI (or snapshot).
fn copy_vdi(
    store: &mut Store,
    vdi_coll: &str,
    vdi_id: &str,
    sr: Option<&str>,
    snapshot: Option<u64>,
    name: Option<&str>,
) -> Option<String> {
    let v = store.get(vdi_coll, vdi_id)?.clone();
    let new_id = store.new_uuid();
    let sr = sr.map(String::from).unwrap_or_else(|| s(&v["$SR"]));
    let pool = store
        .get("srs", &sr)
        .map(|o| s(&o["$pool"]))
        .unwrap_or_else(|| s(&v["$pool"]));
    let nv = objects::vdi(
        &new_id,
        &pool,
        &sr,
        name.unwrap_or(v["name_label"].as_str().unwrap_or("")),
        v["name_description"].as_str().unwrap_or(""),
        v["size"].as_u64().unwrap_or(0),
        &str_list(&v["tags"]),
        snapshot.map(|t| (vdi_id, t)),
    );
    store.insert(
        if snapshot.is_some() {
            "vdi-snapshots"
        } else {
            "vdis"
        },
        nv,
    );
    store.push_ref("srs", &sr, "VDIs", &new_id);
    if snapshot.is_some() {
        store.push_ref("vdis", vdi_id, "snapshots", &new_id);
    }
    Some(new_id)
}

/// Copies the disks and interfaces of a VM-like object onto `target`.
#[allow(clippy::too_many_arguments)]
fn copy_devices(
    store: &mut Store,
    src: &Value,
    target_coll: &str,
    target: &str,
    pool: &str,
    sr: Option<&str>,
    snapshot: Option<u64>,
    with_vifs: bool,
) {
    for (pos, vbd_id) in str_list(&src["$VBDs"]).iter().enumerate() {
        let Some(vbd) = store.get("vbds", vbd_id).cloned() else {
            continue;
        };
        let new_vdi = match vbd["VDI"].as_str() {
            Some(vdi) => {
                let coll = if store.get("vdis", vdi).is_some() {
                    "vdis"
                } else {
                    "vdi-snapshots"
                };
                copy_vdi(store, coll, vdi, sr, snapshot, None)
            }
            None => None,
        };
        let new_vbd = store.new_uuid();
        let position = vbd["position"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .unwrap_or(pos as u32);
        let nv = objects::vbd(
            &new_vbd,
            pool,
            target,
            new_vdi.as_deref(),
            position,
            vbd["is_cd_drive"] == true,
            false,
        );
        store.insert("vbds", nv);
        store.push_ref(target_coll, target, "$VBDs", &new_vbd);
        if let Some(vdi) = &new_vdi {
            let c = if snapshot.is_some() {
                "vdi-snapshots"
            } else {
                "vdis"
            };
            store.push_ref(c, vdi, "$VBDs", &new_vbd);
        }
    }
    if with_vifs {
        for (n, vif_id) in str_list(&src["VIFs"]).iter().enumerate() {
            let Some(vif) = store.get("vifs", vif_id).cloned() else {
                continue;
            };
            let new_vif = store.new_uuid();
            let net = s(&vif["$network"]);
            let nv = objects::vif(
                &new_vif,
                pool,
                target,
                &net,
                vif["device"]
                    .as_str()
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(n as u32),
                &mac_of(&new_vif),
                false,
            );
            store.insert("vifs", nv);
            store.push_ref(target_coll, target, "VIFs", &new_vif);
            if snapshot.is_none() {
                store.push_ref("networks", &net, "VIFs", &new_vif);
            }
        }
    }
}

fn snapshot_vm(store: &mut Store, vm_id: &str, name: Option<&str>) -> XoResult<String> {
    let vm = store.need("vms", vm_id)?.clone();
    let id = store.new_uuid();
    let now = now_s();
    let label = name.map(String::from).unwrap_or_else(|| {
        format!(
            "{}_{}",
            vm["name_label"].as_str().unwrap_or(""),
            objects::iso_date(now)
        )
    });
    let snap = objects::snapshot_of(&vm, &id, &label, now);
    store.insert("vm-snapshots", snap);
    store.push_ref("vms", vm_id, "snapshots", &id);
    let pool = s(&vm["$pool"]);
    copy_devices(
        store,
        &vm,
        "vm-snapshots",
        &id,
        &pool,
        None,
        Some(now),
        true,
    );
    Ok(id)
}

/// `POST /vifs`.
pub(crate) fn create_vif(store: &mut Store, b: &Map<String, Value>) -> XoResult<String> {
    let vm_id = b.get("vmId").map(s).unwrap_or_default();
    let net_id = b.get("networkId").map(s).unwrap_or_default();
    let vm = store.need("vms", &vm_id)?.clone();
    store.need("networks", &net_id)?;
    let used: Vec<u32> = str_list(&vm["VIFs"])
        .iter()
        .filter_map(|v| store.get("vifs", v))
        .filter_map(|v| v["device"].as_str().and_then(|d| d.parse().ok()))
        .collect();
    let device = match b.get("device").and_then(Value::as_str) {
        Some(d) => {
            let n: u32 = d
                .parse()
                .map_err(|_| XoError::invalid_field("body.device", "invalid device", json!(d)))?;
            if used.contains(&n) {
                return Err(XoError::xapi("DEVICE_ALREADY_EXISTS", vec![json!(d)]));
            }
            n
        }
        None => (0..64).find(|n| !used.contains(n)).unwrap_or(0),
    };
    let id = store.new_uuid();
    let mac = b
        .get("MAC")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| mac_of(&id));
    let running = vm["power_state"] == "Running";
    let attached = running && b.get("currently_attached") != Some(&json!(false));
    let mut v = objects::vif(
        &id,
        &s(&vm["$pool"]),
        &vm_id,
        &net_id,
        device,
        &mac,
        attached,
    );
    if let Some(m) = b.get("MTU") {
        v["MTU"] = m.clone();
    }
    if let Some(m) = b.get("locking_mode") {
        v["lockingMode"] = m.clone();
    }
    for (from, to) in [
        ("ipv4_allowed", "allowedIpv4Addresses"),
        ("ipv6_allowed", "allowedIpv6Addresses"),
    ] {
        if let Some(m) = b.get(from) {
            v[to] = m.clone();
        }
    }
    if let Some(o) = b.get("other_config") {
        v["other_config"] = o.clone();
    }
    store.insert("vifs", v);
    store.push_ref("vms", &vm_id, "VIFs", &id);
    store.push_ref("networks", &net_id, "VIFs", &id);
    Ok(id)
}

/// `POST /vbds`.
pub(crate) fn create_vbd(store: &mut Store, b: &Map<String, Value>) -> XoResult<String> {
    let vm_id = b.get("VM").map(s).unwrap_or_default();
    let vdi_id = b.get("VDI").map(s).unwrap_or_default();
    let vm = store.need("vms", &vm_id)?.clone();
    store.need("vdis", &vdi_id)?;
    let used: Vec<u32> = str_list(&vm["$VBDs"])
        .iter()
        .filter_map(|v| store.get("vbds", v))
        .filter_map(|v| v["position"].as_str().and_then(|d| d.parse().ok()))
        .collect();
    let position = match b.get("userdevice").and_then(Value::as_str) {
        Some(d) => {
            let n: u32 = d.parse().map_err(|_| {
                XoError::invalid_field("body.userdevice", "invalid userdevice", json!(d))
            })?;
            if used.contains(&n) {
                return Err(XoError::xapi("DEVICE_ALREADY_EXISTS", vec![json!(d)]));
            }
            n
        }
        None => (0..64).find(|n| !used.contains(n)).unwrap_or(0),
    };
    let id = store.new_uuid();
    let cd = b.get("type").and_then(Value::as_str) == Some("CD");
    let mut v = objects::vbd(
        &id,
        &s(&vm["$pool"]),
        &vm_id,
        Some(&vdi_id),
        position,
        cd,
        false,
    );
    if let Some(bt) = b.get("bootable") {
        v["bootable"] = bt.clone();
    }
    if b.get("mode").and_then(Value::as_str) == Some("RO") {
        v["read_only"] = json!(true);
    }
    store.insert("vbds", v);
    store.push_ref("vms", &vm_id, "$VBDs", &id);
    store.push_ref("vdis", &vdi_id, "$VBDs", &id);
    Ok(id)
}

fn create_network_objects(
    store: &mut Store,
    pool: &str,
    b: &Map<String, Value>,
    kind_: &str,
) -> XoResult<String> {
    let name = b.get("name").map(s).unwrap_or_default();
    let description = b.get("description").map(s).unwrap_or_default();
    let mtu = b.get("mtu").and_then(Value::as_u64).unwrap_or(1500);
    let id = store.new_uuid();
    let n_nets = store.list("networks").len();
    let bridge = match kind_ {
        "internal" => format!("xapi{n_nets}"),
        _ => format!("xenbr{n_nets}"),
    };
    let hosts: Vec<String> = store
        .list("hosts")
        .into_iter()
        .filter(|h| h["$pool"] == pool)
        .map(|h| s(&h["id"]))
        .collect();
    let mut net = objects::network(
        &id,
        pool,
        &name,
        &description,
        &bridge,
        mtu,
        kind_ == "bonded",
    );
    if b.get("nbd") == Some(&json!(true)) {
        net["nbd"] = json!(true);
    }
    match kind_ {
        "vlan" => {
            let pif_id = b.get("pif").map(s).unwrap_or_default();
            let pif = store.need("pifs", &pif_id)?.clone();
            if pif["$pool"] != pool {
                return Err(XoError::invalid_parameters(
                    "PIF does not belong to this pool",
                    json!({ "pif": pif_id, "pool": pool }),
                ));
            }
            let vlan = b.get("vlan").and_then(Value::as_i64).unwrap_or(-1);
            if !(0..=4094).contains(&vlan) {
                return Err(XoError::xapi("VLAN_TAG_INVALID", vec![json!(vlan)]));
            }
            let dup = store
                .list("pifs")
                .iter()
                .any(|p| p["$pool"] == pool && p["device"] == pif["device"] && p["vlan"] == vlan);
            if dup {
                return Err(XoError::xapi(
                    "PIF_VLAN_EXISTS",
                    vec![pif["_xapiRef"].clone()],
                ));
            }
            store.insert("networks", net);
            for h in &hosts {
                let pid = store.new_uuid();
                let p = objects::pif(
                    &pid,
                    pool,
                    h,
                    &id,
                    pif["device"].as_str().unwrap_or("eth0"),
                    "",
                    false,
                    vlan,
                );
                store.insert("pifs", p);
                store.push_ref("networks", &id, "PIFs", &pid);
                store.push_ref("hosts", h, "$PIFs", &pid);
                store.push_ref("hosts", h, "PIFs", &pid);
            }
        }
        "bonded" => {
            let pif_ids: Vec<String> = b.get("pifIds").map(str_list).unwrap_or_default();
            if pif_ids.len() < 2 {
                return Err(XoError::invalid_parameters(
                    "a bond needs at least 2 PIFs",
                    json!({ "pifIds": pif_ids }),
                ));
            }
            let mut slaves = Vec::new();
            for p in &pif_ids {
                slaves.push(store.need("pifs", p)?.clone());
            }
            store.insert("networks", net);
            for h in &hosts {
                let mine: Vec<&Value> = slaves.iter().filter(|p| p["$host"] == json!(h)).collect();
                if mine.is_empty() {
                    continue;
                }
                let pid = store.new_uuid();
                let mut master = objects::pif(&pid, pool, h, &id, "bond0", "", false, -1);
                master["isBondMaster"] = json!(true);
                master["bondSlaves"] =
                    json!(mine.iter().map(|p| p["id"].clone()).collect::<Vec<_>>());
                store.insert("pifs", master);
                for sl in &mine {
                    let sid = s(&sl["id"]);
                    let _ = store.update("pifs", &sid, |o| {
                        o.insert("isBondSlave".into(), json!(true));
                        o.insert("bondMaster".into(), json!(pid));
                    });
                }
                store.push_ref("networks", &id, "PIFs", &pid);
                store.push_ref("hosts", h, "$PIFs", &pid);
                store.push_ref("hosts", h, "PIFs", &pid);
            }
        }
        _ => {
            store.insert("networks", net);
        }
    }
    Ok(id)
}

fn create_vm(
    store: &mut Store,
    pool: &str,
    b: &Map<String, Value>,
    user: &str,
) -> XoResult<String> {
    let tpl_id = b.get("template").map(s).unwrap_or_default();
    let (tpl_coll, tpl) = ["vm-templates", "vms", "vm-snapshots"]
        .iter()
        .find_map(|c| store.get(c, &tpl_id).map(|t| (*c, t.clone())))
        .ok_or_else(|| XoError::no_such("VM-template", &tpl_id))?;
    if tpl["$pool"] != pool {
        return Err(XoError::invalid_parameters(
            "template does not belong to this pool",
            json!({ "template": tpl_id, "pool": pool }),
        ));
    }
    let pool_obj = store.need("pools", pool)?.clone();
    let default_sr = s(&pool_obj["default_SR"]);
    let id = store.new_uuid();
    let mut vm = tpl.as_object().cloned().unwrap_or_default();
    for k in [
        "isDefaultTemplate",
        "template_info",
        "$snapshot_of",
        "snapshot_time",
    ] {
        vm.remove(k);
    }
    let base = objects::xapi_base(&id, pool, "VM");
    for (k, v) in base {
        vm.insert(k, v);
    }
    vm.insert(
        "name_label".into(),
        json!(b.get("name_label").map(s).unwrap_or_default()),
    );
    vm.insert(
        "name_description".into(),
        json!(b.get("name_description").map(s).unwrap_or_default()),
    );
    vm.insert("$VBDs".into(), json!([]));
    vm.insert("VIFs".into(), json!([]));
    vm.insert("snapshots".into(), json!([]));
    vm.insert("tags".into(), json!([]));
    vm.insert("power_state".into(), json!("Halted"));
    vm.insert("$container".into(), json!(pool));
    vm.insert("startTime".into(), Value::Null);
    vm.insert("installTime".into(), json!(now_s()));
    vm.insert(
        "creation".into(),
        json!({"date": objects::iso_date(now_s()), "template": tpl_id, "user": user}),
    );
    vm.insert(
        "other".into(),
        json!({"base_template_name": tpl["name_label"]}),
    );
    if let Some(c) = b.get("cpus").and_then(Value::as_u64) {
        vm.insert("CPUs".into(), json!({"number": c, "max": c}));
    }
    if let Some(m) = b.get("memory").and_then(Value::as_u64) {
        vm.insert(
            "memory".into(),
            json!({"size": m, "static": [m.min(1 << 30), m], "dynamic": [m, m], "usage": 0}),
        );
    }
    if let Some(a) = b.get("autoPoweron") {
        vm.insert("auto_poweron".into(), a.clone());
    }
    if let Some(a) = b.get("affinity").and_then(Value::as_str) {
        store.need("hosts", a)?;
        vm.insert("affinityHost".into(), json!(a));
    }
    if let Some(h) = b.get("high_availability") {
        vm.insert("high_availability".into(), h.clone());
    }
    if let Some(sb) = b.get("secureBoot") {
        vm.insert("secureBoot".into(), sb.clone());
    }
    if let Some(f) = b.get("hvmBootFirmware").and_then(Value::as_str) {
        vm.insert("boot".into(), json!({"firmware": f, "order": "cd"}));
    }
    if b.get("createVtpm") == Some(&json!(true)) {
        vm.insert("VTPMs".into(), json!([store.new_uuid()]));
    }
    vm.insert("xentools".into(), json!(false));
    vm.insert("managementAgentDetected".into(), json!(false));
    vm.insert("pvDriversDetected".into(), json!(false));
    vm.insert("os_version".into(), json!({}));
    vm.insert("addresses".into(), json!({}));
    vm.remove("mainIpAddress");
    vm.remove("pvDriversVersion");
    vm.remove("pvDriversUpToDate");
    // validate the disk and interface requests before creating anything
    let vdis_req: Vec<Value> = b
        .get("vdis")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for v in &vdis_req {
        if let Some(sr) = v.get("sr").and_then(Value::as_str) {
            store.need("srs", sr)?;
        }
        let existing = v.get("userdevice").is_some() || v.get("userdervice").is_some();
        let complete = v.get("size").and_then(Value::as_f64).is_some()
            && v.get("name_label").and_then(Value::as_str).is_some();
        if !existing && !complete {
            return Err(XoError::invalid_field(
                "body.vdis",
                "a new disk needs name_label and size",
                v.clone(),
            ));
        }
    }
    let vifs_req: Vec<Value> = b
        .get("vifs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for v in &vifs_req {
        if let Some(n) = v.get("network").and_then(Value::as_str) {
            store.need("networks", n)?;
        }
    }
    store.insert("vms", Value::Object(vm));
    let tpl_for_copy = {
        let mut t = tpl.clone();
        if vifs_req.is_empty() {
            t
        } else {
            t["VIFs"] = json!([]);
            t
        }
    };
    let _ = tpl_coll;
    copy_devices(store, &tpl_for_copy, "vms", &id, pool, None, None, true);
    let mut used: Vec<u32> = Vec::new();
    if let Some(vm) = store.get("vms", &id) {
        for vbd in str_list(&vm["$VBDs"]) {
            if let Some(p) = store
                .get("vbds", &vbd)
                .and_then(|v| v["position"].as_str()?.parse().ok())
            {
                used.push(p);
            }
        }
    }
    for v in &vdis_req {
        if v.get("destroy") == Some(&json!(true)) || v.get("userdevice").is_some() {
            continue;
        }
        let sr = v
            .get("sr")
            .and_then(Value::as_str)
            .unwrap_or(&default_sr)
            .to_string();
        let vdi = store.new_uuid();
        let size = v.get("size").and_then(Value::as_f64).unwrap_or(0.0) as u64;
        store.insert(
            "vdis",
            objects::vdi(
                &vdi,
                pool,
                &sr,
                v.get("name_label").and_then(Value::as_str).unwrap_or(""),
                v.get("name_description")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                size,
                &[],
                None,
            ),
        );
        store.push_ref("srs", &sr, "VDIs", &vdi);
        let pos = (0..64).find(|n| !used.contains(n)).unwrap_or(0);
        used.push(pos);
        let vbd = store.new_uuid();
        store.insert(
            "vbds",
            objects::vbd(&vbd, pool, &id, Some(&vdi), pos, false, false),
        );
        store.push_ref("vms", &id, "$VBDs", &vbd);
        store.push_ref("vdis", &vdi, "$VBDs", &vbd);
    }
    for (n, v) in vifs_req.iter().enumerate() {
        if v.get("destroy") == Some(&json!(true)) {
            continue;
        }
        let Some(net) = v.get("network").and_then(Value::as_str) else {
            continue;
        };
        let mut body = Map::new();
        body.insert("vmId".into(), json!(id));
        body.insert("networkId".into(), json!(net));
        body.insert(
            "device".into(),
            json!(
                v.get("device")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .unwrap_or_else(|| n.to_string())
            ),
        );
        if let Some(mac) = v.get("mac") {
            body.insert("MAC".into(), mac.clone());
        }
        if let Some(mtu) = v.get("mtu") {
            body.insert("MTU".into(), mtu.clone());
        }
        create_vif(store, &body)?;
    }
    if b.get("boot") == Some(&json!(true)) {
        let host = b
            .get("affinity")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| s(&pool_obj["master"]));
        need_host_usable(store, &host)?;
        set_power(store, &id, "Running", Some(&host));
    }
    Ok(id)
}

fn pick_host(store: &Store, vm: &Value, requested: Option<&str>) -> XoResult<String> {
    if let Some(h) = requested {
        let host = need_host_usable(store, h)?;
        if host["$pool"] != vm["$pool"] {
            return Err(XoError::xapi(
                "VM_HOST_INCOMPATIBLE_VERSION",
                vec![host["_xapiRef"].clone(), vm["_xapiRef"].clone()],
            ));
        }
        return Ok(h.to_string());
    }
    if let Some(a) = vm["affinityHost"].as_str() {
        if need_host_usable(store, a).is_ok() {
            return Ok(a.to_string());
        }
    }
    store
        .list("hosts")
        .into_iter()
        .find(|h| {
            h["$pool"] == vm["$pool"] && h["power_state"] == "Running" && h["enabled"] == true
        })
        .map(|h| s(&h["id"]))
        .ok_or_else(|| XoError::xapi("NO_HOSTS_AVAILABLE", vec![]))
}

// ---------------------------------------------------------------------------
// effects

fn effect(
    coll: &str,
    id: String,
    name: &str,
    b: Map<String, Value>,
    user: String,
    _delay: std::time::Duration,
) -> Effect {
    let name = name.to_string();
    let coll = coll.to_string();
    Box::new(move |store: &mut Store| -> XoResult<Outcome> {
        let str_param = |k: &str| b.get(k).and_then(Value::as_str).map(String::from);
        match (coll.as_str(), name.as_str()) {
            ("vms", action) => vm_action(store, &id, action, &b),
            ("vifs" | "vbds", action) => {
                let obj = store.need(&coll, &id)?.clone();
                let vm_id = if coll == "vifs" {
                    s(&obj["$VM"])
                } else {
                    s(&obj["VM"])
                };
                let vm = store.need("vms", &vm_id)?.clone();
                let connect = action == "connect";
                if vm["power_state"] != "Running" {
                    return Err(bad_power(&vm, "running"));
                }
                if (obj["attached"] == true) == connect {
                    return Err(XoError::xapi(
                        if connect {
                            "DEVICE_ALREADY_ATTACHED"
                        } else {
                            "DEVICE_ALREADY_DETACHED"
                        },
                        vec![obj["_xapiRef"].clone()],
                    ));
                }
                store.update(&coll, &id, |o| {
                    o.insert("attached".into(), json!(connect));
                })?;
                Ok(Outcome::Void)
            }
            ("vdis", "migrate") => {
                let sr = str_param("srId").unwrap_or_default();
                let sr_obj = store.need("srs", &sr)?.clone();
                let vdi = store.need("vdis", &id)?.clone();
                if sr_obj["content_type"] == "iso" {
                    return Err(XoError::xapi(
                        "SR_OPERATION_NOT_SUPPORTED",
                        vec![sr_obj["_xapiRef"].clone()],
                    ));
                }
                let new_id = store.new_uuid();
                let mut nv = vdi.clone();
                nv["id"] = json!(new_id);
                nv["uuid"] = json!(new_id);
                nv["$SR"] = json!(sr);
                nv["$pool"] = sr_obj["$pool"].clone();
                nv["$poolId"] = sr_obj["$pool"].clone();
                nv["_xapiRef"] = json!(format!(
                    "OpaqueRef:{}",
                    crate::state::uuid_of(&format!("ref:{new_id}"))
                ));
                store.remove("vdis", &id)?;
                store.insert("vdis", nv);
                store.pull_ref("srs", &s(&vdi["$SR"]), "VDIs", &id);
                store.push_ref("srs", &sr, "VDIs", &new_id);
                for vbd in str_list(&vdi["$VBDs"]) {
                    let _ = store.update("vbds", &vbd, |o| {
                        o.insert("VDI".into(), json!(new_id));
                    });
                }
                Ok(Outcome::Id(new_id))
            }
            ("tasks", "abort") => Ok(Outcome::Void),
            ("srs", "forget") => {
                let sr = store.need("srs", &id)?.clone();
                for vdi in str_list(&sr["VDIs"]) {
                    let _ = store.remove("vdis", &vdi);
                    let _ = store.remove("vdi-snapshots", &vdi);
                }
                for pbd in str_list(&sr["$PBDs"]) {
                    if let Ok(p) = store.remove("pbds", &pbd) {
                        store.pull_ref("hosts", &s(&p["host"]), "$PBDs", &pbd);
                    }
                }
                store.remove("srs", &id)?;
                Ok(Outcome::Void)
            }
            ("srs", _) => {
                store.need("srs", &id)?;
                Ok(Outcome::Void)
            }
            ("servers", "connect") if !store.hypervisor => {
                // nothing listens at the server's address
                let host = s(&store.need("servers", &id)?["host"]);
                let (address, port) = match host.rsplit_once(':') {
                    Some((a, p)) if p.parse::<u16>().is_ok() => {
                        (a.to_string(), p.parse::<u16>().unwrap_or(443))
                    }
                    _ => (host.clone(), 443),
                };
                let message = format!("connect ECONNREFUSED {address}:{port}");
                let error = json!({
                    "errno": -111, "code": "ECONNREFUSED", "syscall": "connect",
                    "address": address, "port": port,
                    "call": {"duration": 1, "method": "session.login_with_password", "params": "* obfuscated *"},
                });
                store.update("servers", &id, |o| {
                    o.insert("status".into(), json!("disconnected"));
                    o.insert("error".into(), error.clone());
                })?;
                let mut result = error;
                result["message"] = json!(message);
                result["name"] = json!("Error");
                result["stack"] = json!(format!("Error: {message}\n    at xo-sim"));
                let mut e = XoError::internal(message);
                e.task = Some(Box::new(result));
                Err(e)
            }
            ("servers", action) => {
                let server = store.need("servers", &id)?.clone();
                let connect = action == "connect";
                // XO disconnects a server that is connected, or that kept
                // the error of a failed connection; anything else is in an
                // incorrect state
                if !connect && server["status"] != "connected" && server.get("error").is_none() {
                    return Err(XoError::incorrect_state(
                        &id,
                        "status",
                        server["status"].clone(),
                        json!(["connected", "connecting"]),
                    ));
                }
                let status = if connect { "connected" } else { "disconnected" };
                store.update("servers", &id, |o| {
                    o.insert("status".into(), json!(status));
                    o.insert("enabled".into(), json!(connect));
                    o.remove("error");
                })?;
                Ok(Outcome::Void)
            }
            ("schedules", "run") => {
                let sched = store.need("schedules", &id)?.clone();
                let job_id = s(&sched["jobId"]);
                let job = store.need("backup-jobs", &job_id)?.clone();
                let now = now_ms();
                store.insert(
                    "backup-logs",
                    json!({
                        "id": now.to_string(), "message": "backup", "jobId": job_id, "jobName": job["name"],
                        "scheduleId": id, "data": {"mode": job["mode"], "reportWhen": "failure"},
                        "start": now, "end": now + 1, "status": "success", "tasks": [],
                    }),
                );
                Ok(Outcome::Void)
            }
            ("pools", "create_network") => create_network_objects(store, &id, &b, "vlan")
                .map(|n| Outcome::Created("networks", n)),
            ("pools", "create_bonded_network") => create_network_objects(store, &id, &b, "bonded")
                .map(|n| Outcome::Created("networks", n)),
            ("pools", "create_internal_network") => {
                create_network_objects(store, &id, &b, "internal")
                    .map(|n| Outcome::Created("networks", n))
            }
            ("pools", "create_vm") => {
                create_vm(store, &id, &b, &user).map(|v| Outcome::Created("vms", v))
            }
            ("pools", "emergency_shutdown") => {
                let vms: Vec<String> = store
                    .list("vms")
                    .into_iter()
                    .filter(|v| v["$pool"] == id && v["power_state"] != "Halted")
                    .map(|v| s(&v["id"]))
                    .collect();
                for v in vms {
                    set_power(store, &v, "Halted", None);
                }
                for h in store.ids("hosts") {
                    if store.get("hosts", &h).is_some_and(|o| o["$pool"] == id) {
                        let _ = store.update("hosts", &h, |o| {
                            o.insert("power_state".into(), json!("Halted"));
                        });
                    }
                }
                Ok(Outcome::Void)
            }
            ("pools", "management_reconfigure") => {
                let net = str_param("network").unwrap_or_default();
                let n = store.need("networks", &net)?.clone();
                if n["$pool"] != id {
                    return Err(XoError::invalid_parameters(
                        "network does not belong to this pool",
                        json!({"network": net}),
                    ));
                }
                for pif in store.ids("pifs") {
                    let Some(p) = store.get("pifs", &pif).cloned() else {
                        continue;
                    };
                    if p["$pool"] != id {
                        continue;
                    }
                    let mgmt = p["$network"] == net;
                    if p["management"] != mgmt {
                        let _ = store.update("pifs", &pif, |o| {
                            o.insert("management".into(), json!(mgmt));
                        });
                    }
                }
                Ok(Outcome::Void)
            }
            ("pools", "add_host") => {
                let h = str_param("host").unwrap_or_default();
                let host = store.need("hosts", &h)?.clone();
                if host["$pool"] == id {
                    return Err(XoError::xapi(
                        "HOST_IS_SLAVE",
                        vec![host["_xapiRef"].clone()],
                    ));
                }
                Ok(Outcome::Void)
            }
            ("pools", _) => {
                store.need("pools", &id)?;
                Ok(Outcome::Void)
            }
            ("pbds", action) => {
                let plug = action == "plug";
                let p = store.need("pbds", &id)?.clone();
                if (p["attached"] == true) == plug {
                    return Err(XoError::xapi(
                        if plug {
                            "DEVICE_ALREADY_ATTACHED"
                        } else {
                            "DEVICE_ALREADY_DETACHED"
                        },
                        vec![p["_xapiRef"].clone()],
                    ));
                }
                store.update("pbds", &id, |o| {
                    o.insert("attached".into(), json!(plug));
                })?;
                Ok(Outcome::Void)
            }
            ("hosts", action) => host_action(store, &id, action, &b),
            ("backup-repositories", "forget") => {
                store.remove("backup-repositories", &id)?;
                Ok(Outcome::Void)
            }
            ("backup-repositories", _) => {
                let r = store.need("backup-repositories", &id)?.clone();
                if r["enabled"] == false {
                    return Err(XoError::internal("backup repository is disabled"));
                }
                // XO's rates are floats (bytes/s); whole numbers here, as
                // tests/tasks_events.rs reads them as integers
                let (read, write) = (1_210_312_197u64, 1_153_865_918u64);
                let bench = json!({"readRate": read, "timestamp": now_ms(), "writeRate": write});
                store.update("backup-repositories", &id, |o| {
                    let b = o.entry("benchmarks").or_insert_with(|| json!([]));
                    if let Value::Array(a) = b {
                        a.push(bench.clone());
                    }
                    o.remove("error");
                })?;
                Ok(Outcome::Value(
                    json!({"success": true, "writeRate": write, "readRate": read}),
                ))
            }
            ("acl-roles", _) => {
                let role = store.need("acl-roles", &id)?.clone();
                let new_id = store.new_uuid();
                let mut privs = Vec::new();
                for p in str_list(&role["privilegeIds"]) {
                    let Some(mut pv) = store.get("acl-privileges", &p).cloned() else {
                        continue;
                    };
                    let pid = store.new_uuid();
                    pv["id"] = json!(pid);
                    pv["roleId"] = json!(new_id);
                    store.insert("acl-privileges", pv);
                    privs.push(pid);
                }
                let name = str_param("name")
                    .unwrap_or_else(|| format!("{} (copy)", role["name"].as_str().unwrap_or("")));
                let mut r = json!({"id": new_id, "name": name, "privilegeIds": privs, "groupIds": [], "userIds": []});
                if let Some(d) = str_param("description")
                    .or_else(|| role["description"].as_str().map(String::from))
                {
                    r["description"] = json!(d);
                }
                store.insert("acl-roles", r);
                Ok(Outcome::Created("acl-roles", new_id))
            }
            _ => Err(XoError::internal("unknown action")),
        }
    })
}

fn vm_action(
    store: &mut Store,
    id: &str,
    action: &str,
    b: &Map<String, Value>,
) -> XoResult<Outcome> {
    let vm = store.need("vms", id)?.clone();
    let ps = vm["power_state"].as_str().unwrap_or("").to_string();
    if let Some(reason) = vm["blockedOperations"].get(action) {
        return Err(XoError::xapi(
            "OPERATION_BLOCKED",
            vec![vm["_xapiRef"].clone(), reason.clone()],
        ));
    }
    let host = s(&vm["$container"]);
    match action {
        "start" => {
            if ps != "Halted" {
                return Err(bad_power(&vm, "halted"));
            }
            let h = pick_host(store, &vm, b.get("hostId").and_then(Value::as_str))?;
            set_power(store, id, "Running", Some(&h));
            Ok(Outcome::Void)
        }
        "clean_shutdown" => {
            if ps != "Running" {
                return Err(bad_power(&vm, "running"));
            }
            if vm["managementAgentDetected"] != true {
                return Err(XoError::xapi(
                    "VM_LACKS_FEATURE",
                    vec![vm["_xapiRef"].clone()],
                ));
            }
            set_power(store, id, "Halted", None);
            Ok(Outcome::Void)
        }
        "hard_shutdown" => {
            if ps == "Halted" {
                return Err(bad_power(&vm, "running"));
            }
            set_power(store, id, "Halted", None);
            Ok(Outcome::Void)
        }
        "clean_reboot" | "hard_reboot" => {
            let ok = ps == "Running" || (action == "hard_reboot" && ps == "Paused");
            if !ok {
                return Err(bad_power(&vm, "running"));
            }
            if action == "clean_reboot" && vm["managementAgentDetected"] != true {
                return Err(XoError::xapi(
                    "VM_LACKS_FEATURE",
                    vec![vm["_xapiRef"].clone()],
                ));
            }
            set_power(store, id, "Running", Some(&host));
            let now = now_s();
            store.update("vms", id, |o| {
                o.insert("startTime".into(), json!(now));
            })?;
            Ok(Outcome::Void)
        }
        "pause" | "suspend" => {
            if ps != "Running" {
                return Err(bad_power(&vm, "running"));
            }
            let to = if action == "pause" {
                "Paused"
            } else {
                "Suspended"
            };
            set_power(store, id, to, Some(&host));
            Ok(Outcome::Void)
        }
        "unpause" => {
            if ps != "Paused" {
                return Err(bad_power(&vm, "paused"));
            }
            set_power(store, id, "Running", Some(&host));
            Ok(Outcome::Void)
        }
        "resume" => {
            if ps != "Suspended" {
                return Err(bad_power(&vm, "suspended"));
            }
            let h = pick_host(store, &vm, None)?;
            set_power(store, id, "Running", Some(&h));
            Ok(Outcome::Void)
        }
        "snapshot" => {
            let snap = snapshot_vm(store, id, b.get("name_label").and_then(Value::as_str))?;
            Ok(Outcome::Created("vm-snapshots", snap))
        }
        "clone" => {
            if ps != "Halted" && ps != "Suspended" {
                return Err(bad_power(&vm, "halted"));
            }
            let sr = b.get("srId").and_then(Value::as_str);
            if let Some(sr) = sr {
                store.need("srs", sr)?;
            }
            let new_id = store.new_uuid();
            let mut nv = vm.clone();
            let pool = s(&vm["$pool"]);
            for (k, v) in objects::xapi_base(&new_id, &pool, "VM") {
                nv[k] = v;
            }
            nv["name_label"] = json!(
                b.get("name_label")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .unwrap_or_else(|| format!(
                        "{}_clone",
                        vm["name_label"].as_str().unwrap_or("")
                    ))
            );
            nv["$VBDs"] = json!([]);
            nv["VIFs"] = json!([]);
            nv["snapshots"] = json!([]);
            nv["power_state"] = json!("Halted");
            nv["$container"] = json!(pool);
            nv["startTime"] = Value::Null;
            nv["addresses"] = json!({});
            if let Some(o) = nv.as_object_mut() {
                o.remove("mainIpAddress");
            }
            store.insert("vms", nv);
            copy_devices(store, &vm, "vms", &new_id, &pool, sr, None, true);
            Ok(Outcome::Created("vms", new_id))
        }
        "revert_snapshot" => {
            let snap_id = b.get("snapshotId").map(s).unwrap_or_default();
            let snap = store.need("vm-snapshots", &snap_id)?.clone();
            if snap["$snapshot_of"] != vm["id"] {
                return Err(XoError::invalid_parameters(
                    "this snapshot does not belong to this VM",
                    json!({ "snapshotId": snap_id, "vmId": id }),
                ));
            }
            if b.get("snapshotBefore") == Some(&json!(true)) {
                snapshot_vm(store, id, None)?;
            }
            if ps != "Halted" {
                set_power(store, id, "Halted", None);
            }
            store.update("vms", id, |o| {
                for k in ["CPUs", "memory", "name_label", "name_description"] {
                    o.insert(k.into(), snap[k].clone());
                }
            })?;
            Ok(Outcome::Void)
        }
        "migrate" => {
            let target = b.get("hostId").map(s).unwrap_or_default();
            let h = need_host_usable(store, &target)?;
            let cross_pool = h["$pool"] != vm["$pool"];
            if cross_pool {
                let new_pool = s(&h["$pool"]);
                let sr = b
                    .get("srId")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .or_else(|| store.get("pools", &new_pool).map(|p| s(&p["default_SR"])));
                if let Some(sr) = &sr {
                    store.need("srs", sr)?;
                }
                for vbd in str_list(&vm["$VBDs"]) {
                    let Some(v) = store.get("vbds", &vbd).cloned() else {
                        continue;
                    };
                    let _ = store.update("vbds", &vbd, |o| {
                        o.insert("$pool".into(), json!(new_pool));
                        o.insert("$poolId".into(), json!(new_pool));
                    });
                    if let (Some(vdi), Some(sr)) = (v["VDI"].as_str(), &sr) {
                        let old_sr = store.get("vdis", vdi).map(|o| s(&o["$SR"]));
                        if let Some(old) = old_sr {
                            store.pull_ref("srs", &old, "VDIs", vdi);
                            store.push_ref("srs", sr, "VDIs", vdi);
                            let _ = store.update("vdis", vdi, |o| {
                                o.insert("$SR".into(), json!(sr));
                                o.insert("$pool".into(), json!(new_pool));
                                o.insert("$poolId".into(), json!(new_pool));
                            });
                        }
                    }
                }
                store.update("vms", id, |o| {
                    o.insert("$pool".into(), json!(new_pool));
                    o.insert("$poolId".into(), json!(new_pool));
                })?;
            }
            if ps == "Running" || ps == "Paused" {
                set_power(store, id, &ps, Some(&target));
            }
            Ok(Outcome::Void)
        }
        _ => Err(XoError::internal("unknown VM action")),
    }
}

fn host_action(
    store: &mut Store,
    id: &str,
    action: &str,
    b: &Map<String, Value>,
) -> XoResult<Outcome> {
    let host = store.need("hosts", id)?.clone();
    let running = host["power_state"] == "Running";
    let residents: Vec<String> = str_list(&host["residentVms"])
        .into_iter()
        .filter(|v| store.get("vms", v).is_some())
        .collect();
    let others: Vec<String> = store
        .list("hosts")
        .into_iter()
        .filter(|h| {
            h["$pool"] == host["$pool"]
                && h["id"] != id
                && h["power_state"] == "Running"
                && h["enabled"] == true
        })
        .map(|h| s(&h["id"]))
        .collect();
    let set = |store: &mut Store, k: &str, v: Value| {
        let _ = store.update("hosts", id, |o| {
            o.insert(k.into(), v);
        });
    };
    match action {
        "enable" => {
            set(store, "enabled", json!(true));
        }
        "disable" => {
            if b.get("evacuate") == Some(&json!(true)) && !residents.is_empty() {
                let Some(target) = others.first() else {
                    if b.get("force") != Some(&json!(true)) {
                        return Err(XoError::xapi(
                            "HOST_NOT_ENOUGH_FREE_MEMORY",
                            vec![json!(0), json!(0)],
                        ));
                    }
                    set(store, "enabled", json!(false));
                    return Ok(Outcome::Void);
                };
                for v in &residents {
                    let ps = store
                        .get("vms", v)
                        .map(|o| s(&o["power_state"]))
                        .unwrap_or_default();
                    set_power(store, v, &ps, Some(target));
                }
            }
            set(store, "enabled", json!(false));
        }
        "start" => {
            if running {
                return Err(XoError::xapi(
                    "HOST_IS_LIVE",
                    vec![host["_xapiRef"].clone()],
                ));
            }
            set(store, "power_state", json!("Running"));
            set(store, "startTime", json!(now_s()));
        }
        "clean_shutdown" | "emergency_shutdown" => {
            if !running {
                return Err(XoError::xapi(
                    "HOST_OFFLINE",
                    vec![host["_xapiRef"].clone()],
                ));
            }
            let evacuate =
                action == "clean_shutdown" && b.get("bypassEvacuate") != Some(&json!(true));
            for v in &residents {
                let ps = store
                    .get("vms", v)
                    .map(|o| s(&o["power_state"]))
                    .unwrap_or_default();
                match (evacuate, others.first()) {
                    (true, Some(t)) => set_power(store, v, &ps, Some(t)),
                    _ => set_power(store, v, "Halted", None),
                }
            }
            set(store, "power_state", json!("Halted"));
            set(store, "enabled", json!(false));
        }
        "clean_reboot" | "smart_reboot" => {
            if !running {
                return Err(XoError::xapi(
                    "HOST_OFFLINE",
                    vec![host["_xapiRef"].clone()],
                ));
            }
            if action == "clean_reboot"
                && host["enabled"] == true
                && b.get("force") != Some(&json!(true))
                && !residents.is_empty()
            {
                return Err(XoError::incorrect_state(
                    id,
                    "enabled",
                    json!(true),
                    json!(false),
                ));
            }
            set(store, "startTime", json!(now_s()));
            set(store, "rebootRequired", json!(false));
            set(store, "enabled", json!(true));
        }
        "restart_toolstack" => {
            set(store, "agentStartTime", json!(now_s()));
        }
        "detach" | "forget" => {
            let is_master = store
                .get("pools", &s(&host["$pool"]))
                .is_some_and(|p| p["master"] == id);
            if is_master {
                return Err(XoError::xapi(
                    "HOST_IS_MASTER",
                    vec![host["_xapiRef"].clone()],
                ));
            }
            if action == "forget" {
                if running {
                    return Err(XoError::xapi(
                        "HOST_IS_LIVE",
                        vec![host["_xapiRef"].clone()],
                    ));
                }
                store.remove("hosts", id)?;
            }
        }
        "management_reconfigure" => {
            let pif = b.get("pif").map(s).unwrap_or_default();
            let p = store.need("pifs", &pif)?.clone();
            if p["$host"] != id {
                return Err(XoError::invalid_parameters(
                    "PIF does not belong to this host",
                    json!({"pif": pif}),
                ));
            }
            for other in str_list(&host["$PIFs"]) {
                let mgmt = other == pif;
                let _ = store.update("pifs", &other, |o| {
                    o.insert("management".into(), json!(mgmt));
                });
            }
        }
        _ => {}
    }
    Ok(Outcome::Void)
}

#[cfg(test)]
mod tests {
    #[test]
    fn acl_names() {
        assert_eq!(super::acl_action("vms", "clean_shutdown"), "shutdown:clean");
        assert_eq!(super::acl_action("hosts", "smart_reboot"), "reboot:smart");
        assert_eq!(
            super::acl_action("pools", "create_bonded_network"),
            "create:network"
        );
        assert_eq!(super::acl_action("srs", "reclaim_space"), "reclaim-space");
    }
}
