//! HTTP front: authentication, routing and the generic handlers
//! (collections, single objects, CRUD, tags, sub-collections).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::body::{self, Spec};
use crate::collection::{self, ListParams, Query};
use crate::error::{XoError, XoResult, json_body};
use crate::matcher;
use crate::state::{Kind, Store, kind};
use crate::{actions, events, stats, transfer};

/// Builds the axum router: one fallback handler doing all the routing.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Seconds since the epoch.
pub(crate) fn now_s() -> u64 {
    now_ms() / 1000
}

/// What a handler knows about the request.
pub(crate) struct Ctx {
    pub method: Method,
    pub path: String,
    pub query: Query,
    pub headers: HeaderMap,
    pub user: Value,
}

impl Ctx {
    pub fn user_id(&self) -> String {
        self.user["id"].as_str().unwrap_or_default().to_string()
    }

    pub fn is_admin(&self) -> bool {
        self.user["permission"] == "admin"
    }
}

async fn handle(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    sh.requests.fetch_add(1, Ordering::Relaxed);
    match dispatch(&sh, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// JSON response with a status.
pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, json_body(v)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// 200 JSON.
pub(crate) fn ok_json(v: &Value) -> Response {
    json_response(StatusCode::OK, v)
}

/// 204.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// 201 `{id}` with a Location.
pub(crate) fn created(coll: &str, id: &str) -> Response {
    let mut r = json_response(StatusCode::CREATED, &json!({ "id": id }));
    if let Ok(v) = HeaderValue::from_str(&href(coll, id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A redirect as Express sends it: `Location` and a short text body
/// (`Temporary Redirect. Redirecting to <location>`).
pub(crate) fn redirect(status: StatusCode, location: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Redirect");
    let mut r = (status, format!("{reason}. Redirecting to {location}")).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `/rest/v0/<coll>/<id>` with the id percent-encoded.
pub(crate) fn href(coll: &str, id: &str) -> String {
    format!(
        "/rest/v0/{coll}/{}",
        percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .replace("%2D", "-")
    )
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    for v in headers.get_all(header::COOKIE) {
        let Ok(s) = v.to_str() else { continue };
        for part in s.split(';') {
            if let Some((k, val)) = part.trim().split_once('=') {
                if k.trim() == "authenticationToken" {
                    return Some(val.trim().to_string());
                }
            }
        }
    }
    None
}

fn authenticate(sh: &Shared, headers: &HeaderMap) -> XoResult<Value> {
    let token = cookie_token(headers);
    let authz = headers.get(header::AUTHORIZATION);
    if token.is_some() && authz.is_some() {
        return Err(XoError::bad_request(
            "cannot use both a token cookie and an Authorization header",
        ));
    }
    if token.is_some() {
        let refused_until = *sh
            .tokens_refused_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if refused_until.is_some_and(|t| std::time::Instant::now() < t) {
            return Err(XoError::unauthorized());
        }
    }
    let mut store = sh.lock();
    if let Some(t) = token {
        let tok = store
            .tokens
            .get(&t)
            .cloned()
            .ok_or_else(XoError::unauthorized)?;
        if tok["expiration"].as_u64().is_some_and(|e| e < now_ms()) {
            return Err(XoError::unauthorized());
        }
        let uid = tok["user_id"].as_str().unwrap_or_default();
        let user = store
            .get("users", uid)
            .cloned()
            .ok_or_else(XoError::unauthorized)?;
        // XO records when and from where each token was last used (the
        // simulator listens on loopback only).
        if let Some(tok) = store.tokens.get_mut(&t) {
            if !tok["last_uses"].is_object() {
                tok["last_uses"] = json!({});
            }
            tok["last_uses"]["127.0.0.1"] = json!({ "timestamp": now_ms() });
        }
        return Ok(user);
    }
    let Some(authz) = authz else {
        return Err(XoError::unauthorized());
    };
    let s = authz.to_str().map_err(|_| XoError::unauthorized())?;
    let Some(b64) = s
        .strip_prefix("Basic ")
        .or_else(|| s.strip_prefix("basic "))
    else {
        return Err(XoError::unauthorized());
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| XoError::unauthorized())?;
    let raw = String::from_utf8(raw).map_err(|_| XoError::unauthorized())?;
    let (name, password) = raw.split_once(':').ok_or_else(XoError::unauthorized)?;
    let user = store
        .list("users")
        .into_iter()
        .find(|u| u["name"] == name || u["email"] == name)
        .cloned();
    let uid = user
        .as_ref()
        .and_then(|u| u["id"].as_str())
        .unwrap_or_default();
    match user {
        Some(user) if store.passwords.get(uid).map(String::as_str) == Some(password) => Ok(user),
        _ => {
            auth_failure_task(&mut store, name);
            Err(XoError::unauthorized())
        }
    }
}

/// The task XO leaves behind a failed password authentication.
fn auth_failure_task(store: &mut Store, username: &str) {
    let id = store.new_task_id();
    let now = now_ms();
    let e = XoError::unauthorized();
    store.insert(
        "tasks",
        json!({
            "id": id,
            "properties": {
                "credentials": { "username": username, "password": "* obfuscated *" },
                "userData": { "ip": "127.0.0.1" },
                "name": "XO user authentication",
                "type": "xo:authentication:authenticateUser",
            },
            "start": now, "status": "failure", "updatedAt": now, "end": now,
            "result": e.task_result(),
        }),
    );
}

/// Reads a whole request body (bounded).
pub(crate) async fn read_body(body: Body) -> XoResult<bytes::Bytes> {
    axum::body::to_bytes(body, 32 * 1024 * 1024)
        .await
        .map_err(|e| XoError::bad_request(format!("could not read the request body: {e}")))
}

/// Reads and validates a JSON body.
pub(crate) async fn read_json(body: Body, spec: Spec) -> XoResult<Map<String, Value>> {
    let bytes = read_body(body).await?;
    body::validate(spec, &bytes)
}

async fn dispatch(sh: &Arc<Shared>, req: Request) -> XoResult<Response> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let method = parts.method.clone();
    let Some(rest) = path.strip_prefix("/rest/v0") else {
        return Err(XoError::no_route(method.as_str(), &path));
    };
    if !rest.is_empty() && !rest.starts_with('/') {
        return Err(XoError::no_route(method.as_str(), &path));
    }
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let query = Query::parse(parts.uri.query());
    let seg: Vec<&str> = segs.iter().map(String::as_str).collect();

    // routes open without credentials (credentials given must be valid)
    let open = match (&method, seg.as_slice()) {
        (&Method::GET, ["ping"]) => {
            Some(ok_json(&json!({ "result": "pong", "timestamp": now_ms() })))
        }
        (&Method::GET, ["gui-routes"]) => Some(ok_json(&json!({ "xo5": "/", "xo6": "/v6" }))),
        (&Method::GET, ["docs", "swagger.json"]) => Some(ok_json(&json!({
            "openapi": "3.0.0",
            "info": { "title": "xo-sim", "version": env!("CARGO_PKG_VERSION"),
                      "description": "Simulated Xen Orchestra REST API; see the official document for the real one" },
            "servers": [{ "url": "/rest/v0" }],
            "paths": {},
        }))),
        // the API root redirects to its documentation
        (&Method::GET, []) => Some(redirect(StatusCode::FOUND, "/rest/v0/docs")),
        _ => None,
    };
    if let Some(r) = open {
        if cookie_token(&parts.headers).is_some()
            || parts.headers.contains_key(header::AUTHORIZATION)
        {
            authenticate(sh, &parts.headers)?;
        }
        return Ok(r);
    }

    let user = authenticate(sh, &parts.headers)?;
    let ctx = Ctx {
        method: method.clone(),
        path: path.clone(),
        query,
        headers: parts.headers,
        user,
    };

    let m = &method;
    match seg.as_slice() {
        ["dashboard"] if m == Method::GET => stats::global_dashboard(sh, &ctx),
        ["mcp", "status"] if m == Method::GET => Ok(ok_json(&json!({ "enabled": true }))),
        ["events"] if m == Method::GET => events::open(sh, &ctx),
        ["events", conn, "subscriptions"] if m == Method::POST => {
            events::subscribe(sh, &ctx, conn, body).await
        }
        ["events", conn, "subscriptions", sub] if m == Method::DELETE => {
            events::unsubscribe(sh, conn, sub)
        }
        // only the routes that exist for a user id redirect
        ["users", "me", rest @ ..]
            if matches!(
                (m.as_str(), rest),
                ("GET" | "PATCH" | "DELETE", [])
                    | (
                        "GET",
                        ["groups" | "tasks" | "acl-privileges" | "authentication_tokens"]
                    )
                    | ("POST", ["authentication_tokens"])
            ) =>
        {
            let mut loc = format!("/rest/v0/users/{}", ctx.user_id());
            for r in rest {
                loc.push('/');
                loc.push_str(
                    &percent_encoding::utf8_percent_encode(r, percent_encoding::NON_ALPHANUMERIC)
                        .to_string()
                        .replace("%2D", "-")
                        .replace("%5F", "_")
                        .replace("%2E", "."),
                );
            }
            let q = ctx.query.encode();
            if !q.is_empty() {
                loc.push('?');
                loc.push_str(&q);
            }
            Ok(redirect(StatusCode::TEMPORARY_REDIRECT, &loc))
        }
        ["users", "authentication_tokens"] if m == Method::POST => {
            let uid = ctx.user_id();
            create_token(sh, &ctx, &uid, body).await
        }
        ["users", id, "authentication_tokens"] if m == Method::GET => list_tokens(sh, &ctx, id),
        ["users", id, "authentication_tokens"] if m == Method::POST => {
            create_token(sh, &ctx, id, body).await
        }
        ["backup", "jobs", ty] if m == Method::GET => {
            let t = backup_job_type(ty).ok_or_else(|| XoError::no_route(m.as_str(), &path))?;
            list_filtered(
                sh,
                &ctx,
                "backup-jobs",
                &format!("/rest/v0/backup/jobs/{ty}"),
                |o| o["type"] == t,
            )
        }
        ["backup", "jobs", ty, id] if m == Method::GET => {
            let t = backup_job_type(ty).ok_or_else(|| XoError::no_route(m.as_str(), &path))?;
            let store = sh.lock();
            let o = store.need("backup-jobs", id)?;
            if o["type"] != t {
                return Err(XoError::no_such("backup job", id));
            }
            Ok(ok_json(o))
        }
        ["backup", "logs"] if m == Method::GET => {
            list_filtered(sh, &ctx, "backup-logs", "/rest/v0/backup/logs", |_| true)
        }
        ["backup", "logs", id] if m == Method::GET => get_one(sh, &ctx, "backup-logs", id).await,
        ["restore", "logs"] if m == Method::GET => {
            list_filtered(sh, &ctx, "restore-logs", "/rest/v0/restore/logs", |_| true)
        }
        ["restore", "logs", id] if m == Method::GET => get_one(sh, &ctx, "restore-logs", id).await,
        ["pools", id, "vms"] if m == Method::POST => transfer::import_vm(sh, &ctx, id, body).await,
        ["srs", id, "vdis"] if m == Method::POST => {
            transfer::import_vdi_into_sr(sh, &ctx, id, body).await
        }
        ["hosts", id, "audit.txt"] if m == Method::GET => transfer::host_audit(sh, &ctx, id),
        ["hosts", id, "logs.tgz"] if m == Method::GET => transfer::host_logs(sh, &ctx, id),
        [coll, file] if file.contains('.') && transfer::is_transfer_coll(coll) => {
            let (id, fmt) = file.rsplit_once('.').unwrap_or((file, ""));
            match *m {
                Method::GET => transfer::export(sh, &ctx, coll, id, fmt),
                Method::PUT if *coll == "vdis" => {
                    transfer::import_vdi_content(sh, &ctx, id, fmt, body).await
                }
                _ => Err(XoError::no_route(m.as_str(), &path)),
            }
        }
        ["tasks"] if m == Method::DELETE => {
            let mut store = sh.lock();
            let tasks = kind("tasks").ok_or_else(|| XoError::internal("no task collection"))?;
            let done: Vec<String> = store
                .list("tasks")
                .iter()
                .filter(|t| t["status"] != "pending")
                .filter(|t| allowed(&store, &ctx.user, tasks, "delete", Some(t)))
                .filter_map(|t| t["id"].as_str().map(String::from))
                .collect();
            for id in done {
                let _ = store.remove("tasks", &id);
            }
            Ok(no_content())
        }
        ["tasks"] if m == Method::GET && ctx.query.flag("watch")? => {
            events::watch_tasks(sh, &ctx).await
        }
        [coll] if m == Method::GET && kind(coll).is_some() => list(sh, &ctx, coll),
        [coll] if m == Method::POST && CREATABLE.contains(coll) => {
            create(sh, &ctx, coll, body).await
        }
        [coll, id] if m == Method::GET && kind(coll).is_some() => get_one(sh, &ctx, coll, id).await,
        [coll, id] if m == Method::PATCH && PATCHABLE.contains(coll) => {
            patch(sh, &ctx, coll, id, body).await
        }
        [coll, id] if m == Method::DELETE && DELETABLE.contains(coll) => delete(sh, &ctx, coll, id),
        [coll, id, "actions", name] if m == Method::POST => {
            match actions::prepare(sh, &ctx, coll, id, name, body).await? {
                Some(r) => Ok(r),
                None => Err(XoError::no_route(m.as_str(), &path)),
            }
        }
        [coll, id, "tags", tag]
            if TAGGABLE.contains(coll) && (m == Method::PUT || m == Method::DELETE) =>
        {
            tags(sh, &ctx, coll, id, tag)
        }
        ["vms", id, "stats", "data_source", ds] if m == Method::PUT || m == Method::DELETE => {
            stats::data_source(sh, &ctx, id, ds)
        }
        ["groups", id, "users", uid] if m == Method::PUT || m == Method::DELETE => {
            link(sh, &ctx, ("groups", id, "users"), ("users", uid, "groups"))
        }
        ["acl-roles", id, "users", uid] if m == Method::PUT || m == Method::DELETE => {
            link(sh, &ctx, ("acl-roles", id, "userIds"), ("users", uid, ""))
        }
        ["acl-roles", id, "groups", gid] if m == Method::PUT || m == Method::DELETE => link(
            sh,
            &ctx,
            ("acl-roles", id, "groupIds"),
            ("groups", gid, "aclRoleIds"),
        ),
        [coll, id, sub] if m == Method::GET => match sub_collection(sh, &ctx, coll, id, sub)? {
            Some(r) => Ok(r),
            None => Err(XoError::no_route(m.as_str(), &path)),
        },
        _ => Err(XoError::no_route(m.as_str(), &path)),
    }
}

fn backup_job_type(ty: &str) -> Option<&'static str> {
    match ty {
        "vm" => Some("backup"),
        "metadata" => Some("metadataBackup"),
        "mirror" => Some("mirrorBackup"),
        _ => None,
    }
}

const CREATABLE: &[&str] = &[
    "vifs",
    "vdis",
    "vbds",
    "users",
    "srs",
    "servers",
    "groups",
    "backup-repositories",
    "acl-roles",
    "acl-privileges",
];
const PATCHABLE: &[&str] = &[
    "vms",
    "vifs",
    "vdis",
    "users",
    "groups",
    "backup-repositories",
    "acl-roles",
    "acl-privileges",
];
const DELETABLE: &[&str] = &[
    "vms",
    "vm-templates",
    "vm-snapshots",
    "vifs",
    "vdis",
    "vdi-snapshots",
    "vbds",
    "users",
    "tasks",
    "srs",
    "servers",
    "networks",
    "groups",
    "acl-roles",
    "acl-privileges",
];
const TAGGABLE: &[&str] = &[
    "vms",
    "vm-templates",
    "vm-snapshots",
    "vm-controllers",
    "vdis",
    "vdi-snapshots",
    "srs",
    "pools",
    "networks",
    "hosts",
];
/// Collections with `/alarms` and `/messages` sub-collections.
const WITH_ALARMS: &[&str] = &[
    "vms",
    "vm-templates",
    "vm-snapshots",
    "vm-controllers",
    "vifs",
    "vdis",
    "vdi-snapshots",
    "vbds",
    "srs",
    "pools",
    "pifs",
    "networks",
    "hosts",
];
const VM_LIKE: &[&str] = &["vms", "vm-templates", "vm-snapshots", "vm-controllers"];

// ---------------------------------------------------------------------------
// ACLs

fn privileges_of(store: &Store, user: &Value) -> Vec<Value> {
    let uid = user["id"].as_str().unwrap_or_default();
    let groups: Vec<&Value> = user["groups"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for role in store.list("acl-roles") {
        let by_user = role["userIds"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == uid));
        let by_group = role["groupIds"]
            .as_array()
            .is_some_and(|a| a.iter().any(|g| groups.contains(&g)));
        if !(by_user || by_group) {
            continue;
        }
        for pid in role["privilegeIds"].as_array().into_iter().flatten() {
            if let Some(p) = pid.as_str().and_then(|p| store.get("acl-privileges", p)) {
                out.push(p.clone());
            }
        }
    }
    out
}

/// Whether `user` may do `action` on an object of `kind`.
pub(crate) fn allowed(
    store: &Store,
    user: &Value,
    kind: &Kind,
    action: &str,
    obj: Option<&Value>,
) -> bool {
    if user["permission"] == "admin" {
        return true;
    }
    let mut allow = false;
    for p in privileges_of(store, user) {
        if p["resource"] != kind.acl {
            continue;
        }
        let pa = p["action"].as_str().unwrap_or_default();
        if !(pa == "*" || pa == action || action.starts_with(&format!("{pa}:"))) {
            continue;
        }
        if let (Some(sel), Some(o)) = (p["selector"].as_str(), obj) {
            if !sel.is_empty() {
                match matcher::parse(sel) {
                    Ok(n) if n.matches(o) => {}
                    _ => continue,
                }
            }
        }
        if p["effect"] == "deny" {
            return false;
        }
        allow = true;
    }
    allow
}

/// 403 unless allowed.
pub(crate) fn authorize(
    store: &Store,
    ctx: &Ctx,
    coll: &str,
    action: &str,
    obj: Option<&Value>,
) -> XoResult<()> {
    let Some(k) = kind(coll) else {
        return Ok(());
    };
    if allowed(store, &ctx.user, k, action, obj) {
        return Ok(());
    }
    let mut missing = json!({ "resource": k.acl, "action": action });
    if let Some(id) = obj.and_then(|o| o["id"].as_str()) {
        missing["objectId"] = json!(id);
    }
    Err(XoError::missing_privileges(json!([missing])))
}

/// 403 unless the user is an admin.
pub(crate) fn require_admin(ctx: &Ctx) -> XoResult<()> {
    if ctx.is_admin() {
        Ok(())
    } else {
        Err(XoError::forbidden())
    }
}

/// Whether a collection lists the object for this user: XO filters by ACL
/// privileges only (a non-admin's own user is readable, not listed).
fn listable(store: &Store, ctx: &Ctx, coll: &str, obj: &Value) -> bool {
    ctx.is_admin() || kind(coll).is_some_and(|k| allowed(store, &ctx.user, k, "read", Some(obj)))
}

fn readable(store: &Store, ctx: &Ctx, coll: &str, obj: &Value) -> bool {
    if ctx.is_admin() {
        return true;
    }
    if coll == "users" && obj["id"] == ctx.user["id"] {
        return true;
    }
    kind(coll).is_some_and(|k| allowed(store, &ctx.user, k, "read", Some(obj)))
}

// ---------------------------------------------------------------------------
// collections

fn list(sh: &Shared, ctx: &Ctx, coll: &str) -> XoResult<Response> {
    list_filtered(sh, ctx, coll, &format!("/rest/v0/{coll}"), |_| true)
}

fn list_filtered(
    sh: &Shared,
    ctx: &Ctx,
    coll: &str,
    base: &str,
    keep: impl Fn(&Value) -> bool,
) -> XoResult<Response> {
    let p = ListParams::from_query(&ctx.query)?;
    let store = sh.lock();
    let items: Vec<(String, Value)> = store
        .list(coll)
        .into_iter()
        .filter(|o| keep(o) && listable(&store, ctx, coll, o))
        .map(|o| {
            let id = o["id"].as_str().unwrap_or_default();
            let h = if base == format!("/rest/v0/{coll}") {
                href(coll, id)
            } else {
                format!("{base}/{id}")
            };
            (h, o.clone())
        })
        .collect();
    drop(store);
    Ok(collection::render(items, &p))
}

/// Renders objects of (possibly several) collections given by (coll, object).
pub(crate) fn render_objects(ctx: &Ctx, objs: Vec<(&str, Value)>) -> XoResult<Response> {
    let p = ListParams::from_query(&ctx.query)?;
    let items = objs
        .into_iter()
        .map(|(c, o)| (href(c, o["id"].as_str().unwrap_or_default()), o))
        .collect();
    Ok(collection::render(items, &p))
}

async fn get_one(sh: &Arc<Shared>, ctx: &Ctx, coll: &str, id: &str) -> XoResult<Response> {
    if coll == "tasks" {
        let wait = ctx.query.flag("wait")?;
        if wait {
            return events::wait_task(sh, ctx, id).await;
        }
    }
    let store = sh.lock();
    let obj = store.need(coll, id)?;
    if !readable(&store, ctx, coll, obj) {
        authorize(&store, ctx, coll, "read", Some(obj))?;
    }
    Ok(ok_json(obj))
}

fn sub_collection(
    sh: &Shared,
    ctx: &Ctx,
    coll: &str,
    id: &str,
    sub: &str,
) -> XoResult<Option<Response>> {
    let with_tasks = WITH_ALARMS.contains(&coll) || matches!(coll, "users" | "servers" | "groups");
    let ok = match sub {
        "alarms" | "messages" => WITH_ALARMS.contains(&coll),
        "tasks" => with_tasks,
        "vdis" => VM_LIKE.contains(&coll),
        "backup-jobs" => coll == "vms",
        "stats" => matches!(coll, "vms" | "hosts" | "pools"),
        "dashboard" => matches!(coll, "vms" | "pools"),
        "missing_patches" => matches!(coll, "hosts" | "pools"),
        "smt" => coll == "hosts",
        "health" => coll == "backup-repositories",
        "groups" => matches!(coll, "users" | "acl-roles"),
        "users" => matches!(coll, "groups" | "acl-roles"),
        "acl-roles" => coll == "groups",
        "privileges" => coll == "acl-roles",
        "acl-privileges" => coll == "users",
        _ => false,
    };
    if !ok {
        return Ok(None);
    }
    match sub {
        // XO filters the jobs by VM without looking the VM up
        "backup-jobs" => {
            let store = sh.lock();
            let vm = json!({ "id": id });
            let objs: Vec<(&str, Value)> = store
                .list("backup-jobs")
                .into_iter()
                .filter(|j| j["type"] == "backup" && pattern_selects(&j["vms"], &vm))
                .filter(|j| listable(&store, ctx, "backup-jobs", j))
                .map(|j| ("backup-jobs", j.clone()))
                .collect();
            drop(store);
            return render_objects(ctx, objs).map(Some);
        }
        "stats" => return stats::stats(sh, ctx, coll, id).map(Some),
        "dashboard" => return stats::dashboard(sh, ctx, coll, id).map(Some),
        "missing_patches" => return stats::missing_patches(sh, ctx, coll, id).map(Some),
        _ => {}
    }
    let store = sh.lock();
    let parent = store.need(coll, id)?.clone();
    if !readable(&store, ctx, coll, &parent) {
        authorize(&store, ctx, coll, "read", Some(&parent))?;
    }
    let str_list = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let objs: Vec<(&str, Value)> = match sub {
        "smt" => return Ok(Some(ok_json(&json!({ "enabled": true })))),
        "health" => {
            if parent["enabled"] == false {
                return Err(XoError::with_data(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "backup repository is disabled",
                    json!({ "id": id }),
                ));
            }
            return Ok(Some(ok_json(&json!({ "success": true }))));
        }
        "alarms" => store
            .list("alarms")
            .into_iter()
            .filter(|a| a["object"]["uuid"] == id)
            .map(|a| ("alarms", a.clone()))
            .collect(),
        "messages" => store
            .list("messages")
            .into_iter()
            .filter(|a| a["$object"] == id)
            .map(|a| ("messages", a.clone()))
            .collect(),
        "tasks" => store
            .list("tasks")
            .into_iter()
            .filter(|t| {
                if coll == "users" {
                    t["properties"]["userId"] == id
                } else {
                    t["properties"]["objectId"] == id
                }
            })
            .map(|t| ("tasks", t.clone()))
            .collect(),
        "vdis" => {
            let mut out = Vec::new();
            for vbd in str_list(&parent["$VBDs"]) {
                let Some(v) = store.get("vbds", &vbd) else {
                    continue;
                };
                let Some(vdi) = v["VDI"].as_str() else {
                    continue;
                };
                if let Some(o) = store.get("vdis", vdi) {
                    out.push(("vdis", o.clone()));
                } else if let Some(o) = store.get("vdi-snapshots", vdi) {
                    out.push(("vdi-snapshots", o.clone()));
                }
            }
            out
        }
        "groups" => {
            let ids = if coll == "users" {
                str_list(&parent["groups"])
            } else {
                str_list(&parent["groupIds"])
            };
            ids.iter()
                .filter_map(|g| store.get("groups", g))
                .map(|g| ("groups", g.clone()))
                .collect()
        }
        "users" => {
            let ids = if coll == "groups" {
                str_list(&parent["users"])
            } else {
                str_list(&parent["userIds"])
            };
            ids.iter()
                .filter_map(|u| store.get("users", u))
                .map(|u| ("users", u.clone()))
                .collect()
        }
        "acl-roles" => store
            .list("acl-roles")
            .into_iter()
            .filter(|r| {
                r["groupIds"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|g| g == id))
            })
            .map(|r| ("acl-roles", r.clone()))
            .collect(),
        "privileges" => str_list(&parent["privilegeIds"])
            .iter()
            .filter_map(|p| store.get("acl-privileges", p))
            .map(|p| ("acl-privileges", p.clone()))
            .collect(),
        "acl-privileges" => privileges_of(&store, &parent)
            .into_iter()
            .map(|p| ("acl-privileges", p))
            .collect(),
        _ => return Ok(None),
    };
    drop(store);
    render_objects(ctx, objs).map(Some)
}

/// Does a backup job's `vms` pattern select this VM?
fn pattern_selects(pattern: &Value, vm: &Value) -> bool {
    let id = &vm["id"];
    match &pattern["id"] {
        Value::String(s) => s == id,
        Value::Object(o) => o
            .get("__or")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == id)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// tokens

/// Creates a token for a user and returns its secret.
pub(crate) fn mint_token(
    store: &mut Store,
    user_id: &str,
    expires_in: Option<u64>,
    description: Option<&str>,
    client: Option<Value>,
) -> String {
    let secret = store.new_secret();
    let now = now_ms();
    let expiration = now + expires_in.unwrap_or(30 * 86_400_000);
    let mut tok = json!({
        "id": secret, "user_id": user_id, "created_at": now, "expiration": expiration,
    });
    if let Some(d) = description {
        tok["description"] = json!(d);
    }
    if let Some(c) = client {
        tok["client"] = c;
    }
    store.tokens.insert(secret.clone(), tok);
    secret
}

/// Parses `expiresIn`: milliseconds as a number, or a duration string
/// (`30s`, `10 minutes`, `2h`, `7d`, `1 week`…). Like XO: a value that is
/// neither is a 422, a string that is no duration a 500 (`not a valid
/// duration`), and a duration under one minute a 500 (`invalid expiresIn
/// duration`).
fn parse_expires_in(v: &Value) -> XoResult<Option<u64>> {
    let raw = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let ms = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64().filter(|x| *x >= 0.0 && x.is_finite()),
        Value::String(s) => {
            let s = s.trim();
            let split = s
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(s.len());
            let (num, unit) = s.split_at(split);
            let mult = match unit.trim().to_ascii_lowercase().as_str() {
                "" | "ms" | "millisecond" | "milliseconds" => Some(1.0),
                "s" | "sec" | "secs" | "second" | "seconds" => Some(1000.0),
                "m" | "min" | "mins" | "minute" | "minutes" => Some(60_000.0),
                "h" | "hr" | "hrs" | "hour" | "hours" => Some(3_600_000.0),
                "d" | "day" | "days" => Some(86_400_000.0),
                "w" | "week" | "weeks" => Some(604_800_000.0),
                "y" | "year" | "years" => Some(31_557_600_000.0),
                _ => None,
            };
            match (num.parse::<f64>(), mult) {
                (Ok(n), Some(m)) => Some(n * m),
                _ => return Err(XoError::internal(format!("not a valid duration: {raw}"))),
            }
        }
        _ => {
            let mut m = Map::new();
            m.insert(
                "body.expiresIn".into(),
                json!({ "message": "Value does not match any allowed schema", "value": v }),
            );
            return Err(XoError::invalid_fields(m));
        }
    };
    match ms {
        Some(ms) if ms >= 60_000.0 => Ok(Some(ms as u64)),
        _ => Err(XoError::internal(format!(
            "invalid expiresIn duration: {raw}"
        ))),
    }
}

async fn create_token(sh: &Shared, ctx: &Ctx, user_id: &str, body: Body) -> XoResult<Response> {
    // XO's rule, admins included, checked before anything else
    if user_id != ctx.user_id() {
        return Err(XoError::forbidden_operation(
            "create authentication token",
            "you can only create token for yourself",
        ));
    }
    let b = read_json(body, body::CREATE_TOKEN).await?;
    let expires = parse_expires_in(b.get("expiresIn").unwrap_or(&Value::Null))?;
    let mut store = sh.lock();
    store.need("users", user_id)?;
    let secret = mint_token(
        &mut store,
        user_id,
        expires,
        b.get("description").and_then(Value::as_str),
        b.get("client").cloned(),
    );
    let tok = store.tokens.get(&secret).cloned().unwrap_or(Value::Null);
    Ok(json_response(StatusCode::CREATED, &json!({ "token": tok })))
}

fn list_tokens(sh: &Shared, ctx: &Ctx, user_id: &str) -> XoResult<Response> {
    let store = sh.lock();
    store.need("users", user_id)?;
    if user_id != ctx.user_id() {
        return Err(XoError::forbidden_operation(
            "get authentication tokens",
            "can only see own authentication tokens",
        ));
    }
    let p = ListParams::from_query(&ctx.query)?;
    let mut out = Vec::new();
    for t in store.tokens.values() {
        if t["user_id"] != user_id {
            continue;
        }
        if let Some(f) = &p.filter {
            if !f.matches(t) {
                continue;
            }
        }
        if p.limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        out.push(t.clone());
    }
    Ok(ok_json(&Value::Array(out)))
}

// ---------------------------------------------------------------------------
// tags, links

fn tags(sh: &Shared, ctx: &Ctx, coll: &str, id: &str, tag: &str) -> XoResult<Response> {
    let mut store = sh.lock();
    let obj = store.need(coll, id)?.clone();
    authorize(&store, ctx, coll, "update:tags", Some(&obj))?;
    let add = ctx.method == Method::PUT;
    store.update(coll, id, |o| {
        let tags = o.entry("tags").or_insert_with(|| json!([]));
        if let Value::Array(a) = tags {
            a.retain(|t| t != tag);
            if add {
                a.push(json!(tag));
            }
        }
    })?;
    Ok(no_content())
}

/// PUT/DELETE of a membership, kept consistent on both sides. Adding a
/// user to a group twice, or removing it twice, is fine; attaching a role
/// twice is a 409 and detaching one not attached a 404, as in XO.
fn link(
    sh: &Shared,
    ctx: &Ctx,
    (c1, id1, f1): (&str, &str, &str),
    (c2, id2, f2): (&str, &str, &str),
) -> XoResult<Response> {
    require_admin(ctx)?;
    let mut store = sh.lock();
    let first = store.need(c1, id1)?.clone();
    store.need(c2, id2)?;
    let add = ctx.method == Method::PUT;
    if c1 == "acl-roles" && first["isTemplate"] == true {
        return Err(XoError::forbidden());
    }
    if c1 == "acl-roles" {
        let (what, side) = if c2 == "users" {
            ("userRole", "userId")
        } else {
            ("groupRole", "groupId")
        };
        let linked = first[f1]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == id2));
        if add && linked {
            let link_id = crate::state::uuid_of(&format!("{what}:{id1}:{id2}"));
            return Err(XoError::already_exists(what, Some(&link_id)));
        }
        if !add && !linked {
            return Err(XoError::no_such(
                what,
                &format!("{side}:{id2} and roleId:{id1}"),
            ));
        }
    }
    if add {
        store.push_ref(c1, id1, f1, id2);
        if !f2.is_empty() {
            store.push_ref(c2, id2, f2, id1);
        }
    } else {
        store.pull_ref(c1, id1, f1, id2);
        if !f2.is_empty() {
            store.pull_ref(c2, id2, f2, id1);
        }
    }
    Ok(no_content())
}

// ---------------------------------------------------------------------------
// create

fn str_of<'a>(b: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    b.get(k).and_then(Value::as_str)
}

async fn create(sh: &Shared, ctx: &Ctx, coll: &str, body: Body) -> XoResult<Response> {
    let spec = match coll {
        "vifs" => body::CREATE_VIF,
        "vdis" => body::CREATE_VDI,
        "vbds" => body::CREATE_VBD,
        "users" => body::CREATE_USER,
        "srs" => body::CREATE_SR,
        "servers" => body::ADD_SERVER,
        "groups" => body::CREATE_GROUP,
        "backup-repositories" => body::CREATE_BACKUP_REPOSITORY,
        "acl-roles" => body::CREATE_ACL_ROLE,
        _ => body::CREATE_ACL_PRIVILEGE,
    };
    let b = read_json(body, spec).await?;
    let mut store = sh.lock();
    authorize(&store, ctx, coll, "create", None)?;
    let id = match coll {
        "vifs" => actions::create_vif(&mut store, &b)?,
        "vdis" => {
            let sr = str_of(&b, "srId").unwrap_or_default();
            let srobj = store.need("srs", sr)?.clone();
            let size = b.get("virtual_size").and_then(Value::as_f64).unwrap_or(0.0);
            if size < 0.0 {
                return Err(XoError::invalid_field(
                    "body.virtual_size",
                    "must be positive",
                    json!(size),
                ));
            }
            let id = store.new_uuid();
            let tags: Vec<String> = b
                .get("tags")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let mut v = crate::objects::vdi(
                &id,
                srobj["$pool"].as_str().unwrap_or_default(),
                sr,
                str_of(&b, "name_label").unwrap_or(""),
                str_of(&b, "name_description").unwrap_or(""),
                size as u64,
                &tags,
                None,
            );
            v["usage"] = json!(0);
            v["chainPhysicalUsage"] = json!(0);
            if let Some(t) = str_of(&b, "type") {
                v["VDI_type"] = json!(t);
            }
            if let Some(o) = b.get("other_config") {
                v["other_config"] = o.clone();
            }
            store.insert("vdis", v);
            store.push_ref("srs", sr, "VDIs", &id);
            id
        }
        "vbds" => actions::create_vbd(&mut store, &b)?,
        "users" => {
            let name = str_of(&b, "name").unwrap_or_default();
            if store.list("users").iter().any(|u| u["name"] == name) {
                // not a 409: XO lets this error through as a 500
                return Err(XoError::internal(format!("the user {name} already exists")));
            }
            let id = store.new_uuid();
            store.insert(
                "users",
                json!({"id": id, "name": name, "email": name, "permission": b.get("permission").cloned().unwrap_or(json!("none")), "pw_hash": crate::objects::PW_HASH, "groups": [], "preferences": {}}),
            );
            store.passwords.insert(
                id.clone(),
                str_of(&b, "password").unwrap_or_default().to_string(),
            );
            id
        }
        "srs" => {
            let host = str_of(&b, "hostId").unwrap_or_default();
            let h = store.need("hosts", host)?.clone();
            let pool = h["$pool"].as_str().unwrap_or_default().to_string();
            let id = store.new_uuid();
            let pbd = store.new_uuid();
            let sr_type = str_of(&b, "SR_type").unwrap_or("ext");
            let size = b.get("size").and_then(Value::as_u64).unwrap_or(100 << 30);
            let shared = matches!(
                sr_type,
                "nfs" | "smb" | "iscsi" | "lvmoiscsi" | "cephfs" | "glusterfs"
            );
            let mut m = crate::objects::xapi_base(&id, &pool, "SR");
            m.insert("$PBDs".into(), json!([pbd]));
            m.insert(
                "$container".into(),
                json!(if shared {
                    pool.clone()
                } else {
                    host.to_string()
                }),
            );
            m.insert("VDIs".into(), json!([]));
            m.insert("allocationStrategy".into(), json!("thin"));
            m.insert(
                "content_type".into(),
                json!(str_of(&b, "content_type").unwrap_or("user")),
            );
            m.insert("current_operations".into(), json!({}));
            m.insert("inMaintenanceMode".into(), json!(false));
            m.insert(
                "name_description".into(),
                json!(str_of(&b, "name_description").unwrap_or("")),
            );
            m.insert(
                "name_label".into(),
                json!(str_of(&b, "name_label").unwrap_or("")),
            );
            m.insert("other_config".into(), json!({}));
            m.insert("physical_usage".into(), json!(0));
            m.insert("shared".into(), json!(shared));
            m.insert("size".into(), json!(size));
            m.insert(
                "sm_config".into(),
                b.get("sm_config").cloned().unwrap_or(json!({})),
            );
            m.insert("SR_type".into(), json!(sr_type));
            m.insert("tags".into(), json!([]));
            m.insert("usage".into(), json!(0));
            store.insert("srs", Value::Object(m));
            let mut p = crate::objects::xapi_base(&pbd, &pool, "PBD");
            p.insert("attached".into(), json!(true));
            let dc = b.get("device_config").cloned().unwrap_or(json!({}));
            p.insert(
                "device_config".into(),
                if dc.is_object() { dc } else { json!({}) },
            );
            p.insert("host".into(), json!(host));
            p.insert("otherConfig".into(), json!({}));
            p.insert("SR".into(), json!(id));
            store.insert("pbds", Value::Object(p));
            store.push_ref("hosts", host, "$PBDs", &pbd);
            id
        }
        "servers" => {
            let host = str_of(&b, "host").unwrap_or_default();
            if store.list("servers").iter().any(|s| s["host"] == host) {
                return Err(XoError::already_exists("server", None));
            }
            let id = store.new_uuid();
            store.insert(
                "servers",
                json!({
                    "id": id, "host": host, "label": str_of(&b, "label").unwrap_or(""),
                    "username": str_of(&b, "username").unwrap_or(""),
                    "allowUnauthorized": b.get("allowUnauthorized").cloned().unwrap_or(json!(false)),
                    "readOnly": b.get("readOnly").cloned().unwrap_or(json!(false)),
                    "enabled": true, "status": "disconnected",
                }),
            );
            if let Some(p) = str_of(&b, "httpProxy") {
                let _ = store.update("servers", &id, |o| {
                    o.insert("httpProxy".into(), json!(p));
                });
            }
            id
        }
        "groups" => {
            let name = str_of(&b, "name").unwrap_or("");
            if let Some(g) = store.list("groups").into_iter().find(|g| g["name"] == name) {
                return Err(XoError::already_exists("group", g["id"].as_str()));
            }
            let id = store.new_uuid();
            store.insert(
                "groups",
                json!({"id": id, "name": str_of(&b, "name").unwrap_or(""), "users": [], "aclRoleIds": []}),
            );
            id
        }
        "backup-repositories" => {
            let id = store.new_uuid();
            // XO creates a repository with `error: ""` (not tested yet).
            let mut r = json!({"id": id, "name": str_of(&b, "name").unwrap_or(""), "url": str_of(&b, "url").unwrap_or(""), "enabled": true, "error": ""});
            for k in ["options", "proxy"] {
                if let Some(v) = str_of(&b, k) {
                    r[k] = json!(v);
                }
            }
            store.insert("backup-repositories", r);
            id
        }
        "acl-roles" => {
            let id = store.new_uuid();
            let mut r = json!({"id": id, "name": str_of(&b, "name").unwrap_or(""), "privilegeIds": [], "groupIds": [], "userIds": []});
            if let Some(d) = str_of(&b, "description") {
                r["description"] = json!(d);
            }
            store.insert("acl-roles", r);
            id
        }
        _ => {
            let role = str_of(&b, "roleId").unwrap_or_default().to_string();
            let r = store.need("acl-roles", &role)?.clone();
            if r["isTemplate"] == true {
                return Err(XoError::forbidden());
            }
            let resource = str_of(&b, "resource").unwrap_or_default();
            if !crate::state::KINDS.iter().any(|k| k.acl == resource)
                && !matches!(
                    resource,
                    "gpuGroup" | "vgpu" | "vgpuType" | "vdi-unmanaged" | "vtpm"
                )
            {
                // a privilege is a union over resources: none matches
                return Err(XoError::invalid_field(
                    "privilege",
                    "Value does not match any allowed schema",
                    Value::Object(b.clone()),
                ));
            }
            let id = store.new_uuid();
            let mut p = json!({"id": id, "resource": resource, "action": str_of(&b, "action").unwrap_or(""), "effect": str_of(&b, "effect").unwrap_or("allow"), "roleId": role});
            if let Some(s) = str_of(&b, "selector") {
                if let Err(e) = matcher::parse(s) {
                    return Err(XoError::invalid_field(
                        "body.selector",
                        format!("invalid selector: {e}"),
                        json!(s),
                    ));
                }
                p["selector"] = json!(s);
            }
            store.insert("acl-privileges", p);
            store.push_ref("acl-roles", &role, "privilegeIds", &id);
            id
        }
    };
    // XO answers a creation with the id only (no Location)
    Ok(json_response(StatusCode::CREATED, &json!({ "id": id })))
}

// ---------------------------------------------------------------------------
// patch

fn parse_size(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|x| *x >= 0.0).map(|x| x as u64),
        Value::String(s) => {
            let s = s.trim();
            let split = s
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(s.len());
            let (num, unit) = s.split_at(split);
            let n: f64 = num.parse().ok()?;
            let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1.0,
                "k" | "kb" => 1e3,
                "kib" => 1024.0,
                "m" | "mb" => 1e6,
                "mib" => 1_048_576.0,
                "g" | "gb" => 1e9,
                "gib" => 1_073_741_824.0,
                "t" | "tb" => 1e12,
                "tib" => 1_099_511_627_776.0,
                _ => return None,
            };
            Some((n * mult) as u64)
        }
        _ => None,
    }
}

async fn patch(sh: &Shared, ctx: &Ctx, coll: &str, id: &str, body: Body) -> XoResult<Response> {
    let spec = match coll {
        "vms" => body::UPDATE_VM,
        "vifs" => body::UPDATE_VIF,
        "vdis" => body::UPDATE_VDI,
        "users" => body::UPDATE_USER,
        "groups" => body::UPDATE_GROUP,
        "backup-repositories" => body::UPDATE_BACKUP_REPOSITORY,
        "acl-roles" => body::UPDATE_ACL_ROLE,
        _ => body::UPDATE_ACL_PRIVILEGE,
    };
    // Like XO: the object, then the privileges, then the body.
    let obj = sh.lock().need(coll, id)?.clone();
    let raw = read_body(body).await?;
    if coll == "users" && !ctx.is_admin() {
        // one `update:<field>` privilege per field sent
        let sent: Vec<String> = serde_json::from_slice::<Value>(&raw)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default();
        let store = sh.lock();
        let k = kind(coll).ok_or_else(|| XoError::internal("no user collection"))?;
        let missing: Vec<Value> = sent
            .iter()
            .map(|f| format!("update:{f}"))
            .filter(|a| !allowed(&store, &ctx.user, k, a, Some(&obj)))
            .map(|a| json!({ "objectId": id, "action": a, "resource": k.acl }))
            .collect();
        if !missing.is_empty() {
            return Err(XoError::missing_privileges(json!(missing)));
        }
    } else {
        authorize(&sh.lock(), ctx, coll, "update", Some(&obj))?;
    }
    let b = body::validate(spec, &raw)?;
    let mut store = sh.lock();
    let obj = store.need(coll, id)?.clone();
    if coll == "users"
        && id == ctx.user_id()
        && b.get("permission").is_some_and(|p| *p != obj["permission"])
    {
        return Err(XoError::forbidden_operation(
            "update user",
            "cannot change own permission",
        ));
    }
    if coll == "acl-roles" || coll == "acl-privileges" {
        let role = if coll == "acl-roles" {
            obj.clone()
        } else {
            store
                .get("acl-roles", obj["roleId"].as_str().unwrap_or_default())
                .cloned()
                .unwrap_or(Value::Null)
        };
        if role["isTemplate"] == true {
            return Err(XoError::forbidden());
        }
    }
    if coll == "vdis" {
        if let Some(size) = b.get("size").and_then(Value::as_u64) {
            if size < obj["size"].as_u64().unwrap_or(0) {
                return Err(XoError::xapi(
                    "VDI_SIZE_TOO_SMALL",
                    vec![json!(obj["_xapiRef"]), json!(size)],
                ));
            }
        }
    }
    if coll == "users" {
        if let Some(p) = str_of(&b, "password") {
            store.passwords.insert(id.to_string(), p.to_string());
        }
    }
    store.update(coll, id, |o| {
        for (k, v) in &b {
            match (coll, k.as_str()) {
                ("users", "password") => {}
                ("users", "name") => {
                    o.insert("name".into(), v.clone());
                    o.insert("email".into(), v.clone());
                }
                ("vms", "nameLabel") => {
                    o.insert("name_label".into(), v.clone());
                }
                ("vms", "nameDescription") => {
                    o.insert("name_description".into(), v.clone());
                }
                ("vms", "autoPoweron") => {
                    o.insert("auto_poweron".into(), v.clone());
                }
                ("vms", "highAvailability") => {
                    o.insert("high_availability".into(), v.clone());
                }
                ("vms", "nestedVirt") => {
                    o.insert("isNestedVirtEnabled".into(), v.clone());
                }
                ("vms", "cpus") => {
                    let n = v.as_u64().unwrap_or(1);
                    let max = o["CPUs"]["max"].as_u64().unwrap_or(n).max(n);
                    o.insert("CPUs".into(), json!({"number": n, "max": max}));
                }
                ("vms", "cpusStaticMax") => {
                    if let Some(n) = parse_size(v) {
                        let cur = o["CPUs"]["number"].as_u64().unwrap_or(1);
                        o.insert("CPUs".into(), json!({"number": cur.min(n), "max": n}));
                    }
                }
                ("vms", "memory" | "memoryMax" | "memoryMin" | "memoryStaticMax") => {
                    if let Some(n) = parse_size(v) {
                        let old = o.get("memory").cloned().unwrap_or(Value::Null);
                        let size = old["size"].as_u64().unwrap_or(n);
                        let pair = |f: &str| {
                            (
                                old[f][0].as_u64().unwrap_or(size),
                                old[f][1].as_u64().unwrap_or(size),
                            )
                        };
                        let (mut smin, mut smax) = pair("static");
                        let (mut dmin, mut dmax) = pair("dynamic");
                        let mut size = size;
                        match k.as_str() {
                            "memory" => {
                                size = n;
                                dmin = n;
                                dmax = n;
                                smax = smax.max(n);
                            }
                            "memoryStaticMax" => smax = n,
                            "memoryMin" => dmin = n,
                            _ => dmax = n,
                        }
                        smin = smin.min(dmin);
                        let usage = old["usage"].as_u64().unwrap_or(0);
                        o.insert(
                            "memory".into(),
                            json!({"size": size, "static": [smin, smax], "dynamic": [dmin, dmax], "usage": usage}),
                        );
                    }
                }
                ("vms", "hvmBootFirmware") => {
                    let mut boot = o
                        .get("boot")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    boot.insert("firmware".into(), v.clone());
                    o.insert("boot".into(), Value::Object(boot));
                }
                ("vms", "share" | "uefiMode") => {}
                (_, _) if v.is_null() => {
                    o.remove(k);
                }
                _ => {
                    o.insert(k.clone(), v.clone());
                }
            }
        }
        // XO tests a repository again when it changes: the empty error of
        // a new repository goes
        if coll == "backup-repositories" && o.get("error") == Some(&json!("")) {
            o.remove("error");
        }
    })?;
    Ok(no_content())
}

// ---------------------------------------------------------------------------
// delete

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Removes a VBD and its references.
pub(crate) fn destroy_vbd(store: &mut Store, id: &str) {
    let Ok(vbd) = store.remove("vbds", id) else {
        return;
    };
    if let Some(vm) = vbd["VM"].as_str() {
        for c in VM_LIKE {
            store.pull_ref(c, vm, "$VBDs", id);
        }
    }
    if let Some(vdi) = vbd["VDI"].as_str() {
        store.pull_ref("vdis", vdi, "$VBDs", id);
        store.pull_ref("vdi-snapshots", vdi, "$VBDs", id);
    }
}

/// Removes a VDI (or VDI snapshot) with its VBDs and references.
pub(crate) fn destroy_vdi(store: &mut Store, coll: &str, id: &str) {
    let Ok(vdi) = store.remove(coll, id) else {
        return;
    };
    for vbd in str_list(&vdi["$VBDs"]) {
        destroy_vbd(store, &vbd);
    }
    if let Some(sr) = vdi["$SR"].as_str() {
        store.pull_ref("srs", sr, "VDIs", id);
    }
    if let Some(of) = vdi["$snapshot_of"].as_str() {
        store.pull_ref("vdis", of, "snapshots", id);
    }
}

/// Removes a VIF and its references.
pub(crate) fn destroy_vif(store: &mut Store, id: &str) {
    let Ok(vif) = store.remove("vifs", id) else {
        return;
    };
    if let Some(vm) = vif["$VM"].as_str() {
        for c in VM_LIKE {
            store.pull_ref(c, vm, "VIFs", id);
        }
    }
    if let Some(n) = vif["$network"].as_str() {
        store.pull_ref("networks", n, "VIFs", id);
    }
}

/// Removes a VM-like object with its VBDs, VDIs (not shared with another
/// VM) and VIFs.
pub(crate) fn destroy_vm(store: &mut Store, coll: &str, id: &str) {
    let Some(vm) = store.get(coll, id).cloned() else {
        return;
    };
    for vbd_id in str_list(&vm["$VBDs"]) {
        let Some(vbd) = store.get("vbds", &vbd_id).cloned() else {
            continue;
        };
        destroy_vbd(store, &vbd_id);
        if let Some(vdi) = vbd["VDI"].as_str() {
            for c in ["vdis", "vdi-snapshots"] {
                let orphan = store
                    .get(c, vdi)
                    .is_some_and(|v| str_list(&v["$VBDs"]).is_empty());
                if orphan {
                    destroy_vdi(store, c, vdi);
                }
            }
        }
    }
    for vif in str_list(&vm["VIFs"]) {
        destroy_vif(store, &vif);
    }
    if let Some(of) = vm["$snapshot_of"].as_str() {
        store.pull_ref("vms", of, "snapshots", id);
    }
    if let Some(host) = vm["$container"].as_str() {
        store.pull_ref("hosts", host, "residentVms", id);
    }
    let _ = store.remove(coll, id);
}

fn delete(sh: &Shared, ctx: &Ctx, coll: &str, id: &str) -> XoResult<Response> {
    let mut store = sh.lock();
    let obj = store.need(coll, id)?.clone();
    authorize(&store, ctx, coll, "delete", Some(&obj))?;
    match coll {
        "vms" => {
            let ps = obj["power_state"].as_str().unwrap_or_default();
            if ps != "Halted" {
                return Err(XoError::incorrect_state(
                    id,
                    "power_state",
                    json!(ps),
                    json!("Halted"),
                ));
            }
            if obj["blockedOperations"].get("destroy").is_some() {
                return Err(XoError::xapi(
                    "OPERATION_BLOCKED",
                    vec![obj["_xapiRef"].clone(), json!("destroy")],
                ));
            }
            destroy_vm(&mut store, coll, id);
        }
        "vm-templates" | "vm-snapshots" => destroy_vm(&mut store, coll, id),
        "vdis" | "vdi-snapshots" => {
            let in_use = str_list(&obj["$VBDs"])
                .iter()
                .any(|v| store.get("vbds", v).is_some_and(|b| b["attached"] == true));
            if in_use {
                return Err(XoError::xapi(
                    "VDI_IN_USE",
                    vec![obj["_xapiRef"].clone(), json!("destroy")],
                ));
            }
            destroy_vdi(&mut store, coll, id);
        }
        "vbds" => {
            if obj["attached"] == true {
                return Err(XoError::xapi(
                    "OPERATION_NOT_ALLOWED",
                    vec![json!("VBD is currently attached")],
                ));
            }
            destroy_vbd(&mut store, id);
        }
        "vifs" => {
            if obj["attached"] == true {
                return Err(XoError::xapi(
                    "OPERATION_NOT_ALLOWED",
                    vec![json!("VIF is currently attached")],
                ));
            }
            destroy_vif(&mut store, id);
        }
        "networks" => {
            if !str_list(&obj["VIFs"]).is_empty() {
                return Err(XoError::xapi(
                    "NETWORK_CONTAINS_VIF",
                    vec![json!(str_list(&obj["VIFs"]))],
                ));
            }
            for pif in str_list(&obj["PIFs"]) {
                if let Ok(p) = store.remove("pifs", &pif) {
                    if let Some(h) = p["$host"].as_str() {
                        store.pull_ref("hosts", h, "$PIFs", &pif);
                        store.pull_ref("hosts", h, "PIFs", &pif);
                    }
                }
            }
            store.remove("networks", id)?;
        }
        "srs" => {
            for vdi in str_list(&obj["VDIs"]) {
                for c in ["vdis", "vdi-snapshots"] {
                    if store.get(c, &vdi).is_some() {
                        destroy_vdi(&mut store, c, &vdi);
                    }
                }
            }
            for pbd in str_list(&obj["$PBDs"]) {
                if let Ok(p) = store.remove("pbds", &pbd) {
                    if let Some(h) = p["host"].as_str() {
                        store.pull_ref("hosts", h, "$PBDs", &pbd);
                    }
                }
            }
            store.remove("srs", id)?;
        }
        "users" => {
            for g in str_list(&obj["groups"]) {
                store.pull_ref("groups", &g, "users", id);
            }
            for r in store.ids("acl-roles") {
                store.pull_ref("acl-roles", &r, "userIds", id);
            }
            store.tokens.retain(|_, t| t["user_id"] != id);
            store.passwords.remove(id);
            store.remove("users", id)?;
        }
        "groups" => {
            for u in str_list(&obj["users"]) {
                store.pull_ref("users", &u, "groups", id);
            }
            for r in store.ids("acl-roles") {
                store.pull_ref("acl-roles", &r, "groupIds", id);
            }
            store.remove("groups", id)?;
        }
        "acl-roles" => {
            if obj["isTemplate"] == true {
                return Err(XoError::forbidden());
            }
            for p in str_list(&obj["privilegeIds"]) {
                let _ = store.remove("acl-privileges", &p);
            }
            for g in str_list(&obj["groupIds"]) {
                store.pull_ref("groups", &g, "aclRoleIds", id);
            }
            store.remove("acl-roles", id)?;
        }
        "acl-privileges" => {
            if let Some(r) = obj["roleId"].as_str() {
                if store
                    .get("acl-roles", r)
                    .is_some_and(|r| r["isTemplate"] == true)
                {
                    return Err(XoError::forbidden());
                }
                store.pull_ref("acl-roles", r, "privilegeIds", id);
            }
            store.remove("acl-privileges", id)?;
        }
        "tasks" => {
            store.remove("tasks", id)?;
        }
        _ => {
            store.remove(coll, id)?;
        }
    }
    Ok(no_content())
}
