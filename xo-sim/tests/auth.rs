//! Authentication: cookie tokens, Basic auth, minting tokens, 401/400/403
//! shapes and the `/users/me` redirect.

mod common;

use base64::Engine;
use common::env;
use reqwest::Method;
use serde_json::json;

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn unauthenticated_routes_and_401_shape() {
    let e = env().await;
    let ping = e.send(e.http.get(e.url("/ping"))).await;
    assert_eq!(ping.status, 200);
    assert_eq!(ping.json()["result"], "pong");
    assert!(ping.json()["timestamp"].is_number());
    let gui = e.send(e.http.get(e.url("/gui-routes"))).await;
    assert_eq!(gui.status, 200);

    let r = e.send(e.http.get(e.url("/vms"))).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Basic realm=\"xo\"")
    );
    assert_eq!(r.json(), json!({"error": "invalid credentials"}));

    let bad = e
        .send(
            e.http
                .get(e.url("/vms"))
                .header("cookie", "authenticationToken=nope"),
        )
        .await;
    assert_eq!(bad.status, 401);
    let bearer = e
        .send(
            e.http
                .get(e.url("/vms"))
                .header("authorization", format!("Bearer {}", e.sim.token())),
        )
        .await;
    assert_eq!(bearer.status, 401, "a Bearer token is not accepted");
    let wrong = e
        .send(
            e.http
                .get(e.url("/vms"))
                .header("authorization", basic("admin@admin.net", "x")),
        )
        .await;
    assert_eq!(wrong.status, 401);
}

#[tokio::test]
async fn basic_auth_mints_a_token_usable_as_cookie() {
    let e = env().await;
    let (user, password) = e.sim.admin_credentials();
    let path = format!("/users/{}/authentication_tokens", e.sim.admin_id());
    let r = e
        .send(
            e.http
                .post(e.url(&path))
                .header("authorization", basic(user, password))
                .header("content-type", "application/json")
                .body(json!({"description": "ci", "expiresIn": "1 hour"}).to_string()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let token = r.json()["token"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["token"]["user_id"], e.sim.admin_id());
    assert!(r.json()["token"]["expiration"].is_number());
    let ok = e
        .send(
            e.http
                .get(e.url("/vms?limit=1"))
                .header("cookie", format!("authenticationToken={token}")),
        )
        .await;
    assert_eq!(ok.status, 200);
    // the new token is listed
    let list = e.get(&path).await;
    assert_eq!(list.status, 200);
    assert!(
        list.json()
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == token)
    );

    // cookie + Authorization together: 400
    let both = e
        .send(
            e.http
                .get(e.url("/vms"))
                .header("cookie", e.cookie())
                .header("authorization", basic(user, password)),
        )
        .await;
    assert_eq!(both.status, 400);
    assert!(both.json()["error"].is_string());

    // extra body field: 422
    let extra = e.post(&path, json!({"description": "x", "nope": 1})).await;
    assert_eq!(extra.status, 422);
}

#[tokio::test]
async fn users_me_redirects_with_307() {
    let e = env().await;
    let r = e.get("/users/me/authentication_tokens?limit=5").await;
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("location").unwrap(),
        format!(
            "/rest/v0/users/{}/authentication_tokens?limit=5",
            e.sim.admin_id()
        )
    );
    let me = e.get("/users/me").await;
    assert_eq!(me.status, 307);
    // a client following the redirect (same origin, method and cookie kept)
    let follow = common::http_builder().build().unwrap();
    let r = e
        .send(
            follow
                .request(Method::GET, e.url("/users/me"))
                .header("cookie", e.cookie()),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["permission"], "admin");
}

#[tokio::test]
async fn non_admin_users_get_filtered_lists_and_403() {
    let e = env().await;
    let op = e
        .sim
        .find_by_name("users", "operator@example.com")
        .expect("seeded operator");
    let token = e.sim.create_token(op["id"].as_str().unwrap()).unwrap();
    let as_op = |m: Method, p: &str| {
        e.http
            .request(m, e.url(p))
            .header("cookie", format!("authenticationToken={token}"))
    };
    // the operator's role allows reading VMs tagged web only
    let vms = e.send(as_op(Method::GET, "/vms?fields=tags")).await;
    assert_eq!(vms.status, 200);
    let list = vms.json();
    let list = list.as_array().unwrap();
    assert!(!list.is_empty() && list.len() < 20);
    assert!(
        list.iter()
            .all(|v| v["tags"].as_array().unwrap().contains(&json!("web")))
    );
    // a db VM is not readable
    let db = e.vm("db-01");
    let r = e.send(as_op(Method::GET, &format!("/vms/{db}"))).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "not enough privileges");
    assert!(r.json()["data"]["missingPrivileges"].is_array());
    // nor startable
    let r = e
        .send(as_op(
            Method::POST,
            &format!("/vms/{db}/actions/start?sync=true"),
        ))
        .await;
    assert_eq!(r.status, 403);
    // like XO: the users list follows the privileges (none on users), yet
    // the operator reads its own user
    let users = e.send(as_op(Method::GET, "/users")).await;
    assert_eq!(users.json(), json!([]));
    let me = e
        .send(as_op(
            Method::GET,
            &format!("/users/{}", op["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(me.status, 200);
    // clearing finished tasks deletes only what the user may delete
    let before = e.sim.ids("tasks").len();
    let r = e.send(as_op(Method::DELETE, "/tasks")).await;
    assert_eq!(r.status, 204);
    assert_eq!(e.sim.ids("tasks").len(), before);
    // admin-only
    let r = e.send(as_op(Method::GET, "/dashboard")).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "not enough permissions");
}

#[tokio::test]
async fn users_groups_and_acl_crud() {
    let e = env().await;
    let r = e
        .post(
            "/users",
            json!({"name": "bob@example.com", "password": "pw", "permission": "none"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let bob = r.json()["id"].as_str().unwrap().to_string();
    // like XO: the id, no Location
    assert!(r.header("location").is_none());
    assert_eq!(r.json()["pw_hash"], json!(null));
    assert_eq!(
        e.get(&format!("/users/{bob}")).await.json()["pw_hash"],
        "***obfuscated***"
    );
    assert_eq!(
        e.post(
            "/users",
            json!({"name": "bob@example.com", "password": "x"})
        )
        .await
        .status,
        500,
        "XO lets a duplicate user through as a 500"
    );
    assert_eq!(e.post("/users", json!({"name": "x"})).await.status, 422);
    assert_eq!(
        e.patch(&format!("/users/{bob}"), json!({"permission": "root"}))
            .await
            .status,
        422
    );
    // XO's typed preferences take no member through the REST API
    let r = e
        .patch(
            &format!("/users/{bob}"),
            json!({"preferences": {"lang": "fr"}}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.json()["error"]["body.preferences"].is_object());
    assert_eq!(
        e.patch(&format!("/users/{bob}"), json!({"preferences": {}}))
            .await
            .status,
        204
    );

    let g = e.post("/groups", json!({"name": "devs"})).await;
    assert_eq!(g.status, 201);
    let gid = g.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        e.put(&format!("/groups/{gid}/users/{bob}")).await.status,
        204
    );
    let members = e.get(&format!("/groups/{gid}/users?fields=name")).await;
    assert_eq!(members.json()[0]["name"], "bob@example.com");
    let groups = e.get(&format!("/users/{bob}/groups")).await;
    assert_eq!(groups.json(), json!([format!("/rest/v0/groups/{gid}")]));

    let role = e.post("/acl-roles", json!({"name": "readers"})).await;
    assert_eq!(role.status, 201);
    let rid = role.json()["id"].as_str().unwrap().to_string();
    let p = e
        .post(
            "/acl-privileges",
            json!({"roleId": rid, "resource": "vm", "action": "read", "effect": "allow", "selector": "tags:prod"}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.text());
    assert_eq!(
        e.post("/acl-privileges", json!({"roleId": rid, "resource": "vm", "action": "read", "effect": "allow", "objectId": "x"}))
            .await
            .status,
        422,
        "objectId is not a field of privileges"
    );
    assert_eq!(
        e.put(&format!("/acl-roles/{rid}/groups/{gid}"))
            .await
            .status,
        204
    );
    let privs = e
        .get(&format!("/users/{bob}/acl-privileges?fields=selector"))
        .await;
    assert_eq!(privs.json()[0]["selector"], "tags:prod");
    let copy = e
        .post(
            &format!("/acl-roles/{rid}/actions/copy?sync=true"),
            json!({"name": "readers 2"}),
        )
        .await;
    assert_eq!(copy.status, 201);
    assert!(
        copy.header("location")
            .unwrap()
            .starts_with("/rest/v0/acl-roles/")
    );
    assert_eq!(e.delete(&format!("/users/{bob}")).await.status, 204);
    assert_eq!(e.get(&format!("/users/{bob}")).await.status, 404);
    assert_eq!(
        e.get(&format!("/groups/{gid}")).await.json()["users"],
        json!([])
    );

    let s = e
        .post(
            "/servers",
            json!({"host": "10.9.9.9", "username": "root", "password": "p", "label": "x"}),
        )
        .await;
    assert_eq!(s.status, 201);
    let sid = s.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        e.post(
            &format!("/servers/{sid}/actions/connect?sync=true"),
            json!({})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        e.get(&format!("/servers/{sid}")).await.json()["status"],
        "connected"
    );
    assert_eq!(e.delete(&format!("/servers/{sid}")).await.status, 204);
}
