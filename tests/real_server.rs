//! The SDK against a real xo-server with no hypervisor attached: everything
//! such a server can do (users, groups, ACL roles and privileges, tokens,
//! servers, `file://` backup repositories, tasks, the task watch, events,
//! errors, every collection, the dashboard), through the typed API only.
//!
//! Every test is ignored by default; with `XO_REAL_URL` and
//! `XO_REAL_TOKEN` (an admin token) set they run with
//!
//! ```sh
//! XO_REAL_URL=http://127.0.0.1:18080 XO_REAL_TOKEN=… \
//!     cargo test --test real_server -- --ignored --test-threads=1
//! ```
//!
//! or all at once, with the examples, by `scripts/xo-real/run-tests.sh`.
//! The server may be shared: every object is created with a unique name,
//! removed at the end of its test (also when the test fails), and no test
//! assumes that it is alone on the server.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{FutureExt, TryStreamExt};
use serde_json::{Value, json};
use xo_sdk::ApiError;
use xo_sdk::prelude::*;
use xo_sdk::types::{
    AclEffect, AclPrivilege, AclPrivilegeId, AuthenticationToken, BackupRepositoryBenchmark,
    ServerId, ServerStatus, Task as TaskModel, TaskStatus, UserPermission,
};
use xo_sdk::xo::{Event, TaskEvent, WatchTasks};

/// Longest wait for anything that could hang (a task, a watch, an event).
const BOUND: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Harness

fn real_url() -> String {
    std::env::var("XO_REAL_URL").unwrap_or_else(|_| {
        panic!(
            "XO_REAL_URL is not set: these tests need a real xo-server \
             (XO_REAL_URL=http://127.0.0.1:18080 XO_REAL_TOKEN=<admin token>, \
             or run scripts/xo-real/run-tests.sh)"
        )
    })
}

fn real_token() -> String {
    std::env::var("XO_REAL_TOKEN").unwrap_or_else(|_| {
        panic!(
            "XO_REAL_TOKEN is not set: give an admin token of the xo-server at XO_REAL_URL \
             (scripts/xo-real/run-tests.sh mints one from XO_REAL_USER/XO_REAL_PASSWORD)"
        )
    })
}

/// The admin client of the real server.
fn admin() -> Client {
    // The URL first: without it nothing else matters.
    real_url();
    client_with_token(&real_token())
}

fn client_with_token(token: &str) -> Client {
    Client::builder(real_url())
        .token(token)
        .build()
        .expect("a client for XO_REAL_URL")
}

/// A name no other test run uses.
fn unique(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!("xo-sdk-real-{what}-{}-{nanos}", std::process::id())
}

/// `f`, failing the test when it has not finished within [`BOUND`].
async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: still not finished after {BOUND:?}"))
}

/// What a test created, removed when it ends (whether it passed or not).
#[derive(Default)]
struct Trash {
    users: Mutex<Vec<UserId>>,
    groups: Mutex<Vec<GroupId>>,
    roles: Mutex<Vec<AclRoleId>>,
    servers: Mutex<Vec<ServerId>>,
    repositories: Mutex<Vec<BackupRepositoryId>>,
    tasks: Mutex<Vec<TaskId>>,
    dirs: Mutex<Vec<PathBuf>>,
}

impl Trash {
    fn user(&self, id: &UserId) {
        self.users.lock().unwrap().push(id.clone());
    }
    fn group(&self, id: &GroupId) {
        self.groups.lock().unwrap().push(id.clone());
    }
    fn role(&self, id: &AclRoleId) {
        self.roles.lock().unwrap().push(id.clone());
    }
    fn server(&self, id: &ServerId) {
        self.servers.lock().unwrap().push(id.clone());
    }
    fn repository(&self, id: &BackupRepositoryId) {
        self.repositories.lock().unwrap().push(id.clone());
    }
    fn task(&self, id: TaskId) {
        self.tasks.lock().unwrap().push(id);
    }

    /// A fresh empty directory for a `file://` backup repository.
    fn dir(&self, what: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(unique(what));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        self.dirs.lock().unwrap().push(dir.clone());
        dir
    }

    /// Remove everything, ignoring what is already gone.
    async fn empty(&self, client: &Client) {
        let repositories = std::mem::take(&mut *self.repositories.lock().unwrap());
        for id in repositories {
            let _ = client.backup_repositories().forget(&id).run_sync().await;
        }
        let servers = std::mem::take(&mut *self.servers.lock().unwrap());
        for id in servers {
            let _ = client.servers().delete(&id).send().await;
        }
        let roles = std::mem::take(&mut *self.roles.lock().unwrap());
        for id in roles {
            let _ = client.acl_roles().delete(&id).send().await;
        }
        let groups = std::mem::take(&mut *self.groups.lock().unwrap());
        for id in groups {
            let _ = client.groups().delete(&id).send().await;
        }
        let users = std::mem::take(&mut *self.users.lock().unwrap());
        for id in users {
            let _ = client.users().delete(&id).send().await;
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap());
        for id in tasks {
            let _ = client.tasks().delete_task(&id).send().await;
        }
        let dirs = std::mem::take(&mut *self.dirs.lock().unwrap());
        for dir in dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Run `body` with the admin client and a [`Trash`], then empty the trash
/// (also after a failed assertion, whose panic is then resumed).
async fn with_trash<F, Fut>(body: F)
where
    F: FnOnce(Client, Arc<Trash>) -> Fut,
    Fut: Future<Output = ()>,
{
    let client = admin();
    let trash = Arc::new(Trash::default());
    let outcome = AssertUnwindSafe(body(client.clone(), trash.clone()))
        .catch_unwind()
        .await;
    trash.empty(&client).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The API error of a failed call, or a failure naming what came instead.
fn api_error<T: std::fmt::Debug>(what: &str, result: xo_sdk::Result<T>) -> ApiError {
    match result {
        Err(Error::Api(e)) => *e,
        other => panic!("{what}: expected a typed API error, got {other:?}"),
    }
}

fn assert_status<T: std::fmt::Debug>(
    what: &str,
    result: xo_sdk::Result<T>,
    status: u16,
) -> ApiError {
    let e = api_error(what, result);
    assert_eq!(e.status, status, "{what}: {e:?}");
    e
}

/// The admin user's own id (`GET /users/me`, a redirect to its id).
async fn me(client: &Client) -> UserId {
    let me: User = client.users().get(UserId::new("me")).send().await.unwrap();
    me.id.expect("XO sends the user's id")
}

/// A user with permission `none` and a password, for the tests that need
/// one.
async fn new_user(client: &Client, trash: &Trash, what: &str) -> (UserId, String, String) {
    let name = unique(what);
    let password = format!("pw-{}", unique("secret"));
    let id = client
        .users()
        .create(&name, &password)
        .permission("none")
        .send()
        .await
        .unwrap();
    trash.user(&id);
    (id, name, password)
}

/// A `file://` backup repository in a fresh directory.
/// Start the benchmark task of `repo`: a task XO runs without a
/// hypervisor. The trash deletes it at the end.
async fn start_benchmark(
    client: &Client,
    trash: &Trash,
    repo: &BackupRepositoryId,
) -> Task<BackupRepositoryBenchmark> {
    let task = client
        .backup_repositories()
        .benchmark(repo)
        .send()
        .await
        .unwrap();
    trash.task(task.id());
    task
}

async fn new_repository(client: &Client, trash: &Trash) -> (BackupRepositoryId, String, String) {
    let name = unique("repo");
    let dir = trash.dir("repo-dir");
    let url = format!("file://{}", dir.display());
    let id = client
        .backup_repositories()
        .create(&name, &url)
        .send()
        .await
        .unwrap();
    trash.repository(&id);
    (id, name, url)
}

// ---------------------------------------------------------------------------
// Meta

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn ping_dashboard_and_routes() {
    let client = admin();
    let pong = client.ping().ping().send().await.unwrap();
    assert_eq!(pong.result.as_deref(), Some("pong"), "{pong:?}");
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let ts = pong.timestamp.expect("ping has a timestamp");
    assert!(
        (ts - now_ms).abs() < 600_000,
        "server clock {ts} vs {now_ms}"
    );

    let dashboard = client.dashboard().get().send().await.unwrap();
    let hosts = client.hosts().list().send().await.unwrap();
    let pools = client.pools().list().send().await.unwrap();
    assert_eq!(dashboard.n_hosts, Some(hosts.len() as i64), "{dashboard:?}");
    assert_eq!(dashboard.n_pools, Some(pools.len() as i64), "{dashboard:?}");
    assert!(dashboard.pools_status.is_some(), "{dashboard:?}");
    assert!(dashboard.backup_repositories.is_some(), "{dashboard:?}");

    // XO's own routes (a free-form object) and the MCP status.
    let routes = client.gui_routes().get().send().await.unwrap();
    assert_eq!(routes.xo5.as_deref(), Some("/v5"), "{routes:?}");
    assert_eq!(routes.xo6.as_deref(), Some("/v6"), "{routes:?}");
    let mcp = client.mcp().get_status().send().await.unwrap();
    assert!(mcp.enabled.is_some(), "{mcp:?}");
}

// ---------------------------------------------------------------------------
// Users

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn users_create_read_update_list_delete() {
    with_trash(|client, trash| async move {
        let name = unique("user");
        let id: UserId = client
            .users()
            .create(&name, "a-password-1")
            .permission("none")
            .send()
            .await
            .unwrap();
        trash.user(&id);

        let user = client.users().get(&id).send().await.unwrap();
        assert_eq!(user.id.as_ref(), Some(&id));
        assert_eq!(user.name.as_deref(), Some(name.as_str()));
        assert_eq!(user.email.as_deref(), Some(name.as_str()));
        assert_eq!(user.permission, Some(UserPermission::None));
        assert_eq!(user.groups.as_deref(), Some(&[][..]));
        assert_eq!(user.pw_hash.as_deref(), Some("***obfuscated***"));

        // A second user with that name: XO answers 500 (not 409).
        let duplicate = client.users().create(&name, "another-pw-1").send().await;
        let e = assert_status("duplicate user", duplicate, 500);
        assert!(e.message_text().contains("already exists"), "{e:?}");

        let renamed = format!("{name}-renamed");
        client
            .users()
            .update(&id)
            .name(&renamed)
            .permission("admin")
            .send()
            .await
            .unwrap();
        let user = client.users().get(&id).send().await.unwrap();
        assert_eq!(user.name.as_deref(), Some(renamed.as_str()));
        assert_eq!(user.permission, Some(UserPermission::Admin));
        // Only `none` and `admin` exist: XO refuses the rest (422).
        let bad = client.users().update(&id).permission("user").send().await;
        assert!(api_error("permission user", bad).status == 422);

        // References, selected fields, whole objects, a stream, Markdown.
        let refs = client.users().list().send().await.unwrap();
        assert!(refs.iter().any(|r| r.id() == id), "{refs:?}");
        assert!(refs.iter().all(|r| r.collection() == Some("users")));
        let selected: Vec<User> = client
            .users()
            .list()
            .select([User::NAME, User::PERMISSION])
            .send()
            .await
            .unwrap();
        let mine = selected
            .iter()
            .find(|u| u.name.as_deref() == Some(renamed.as_str()))
            .expect("the new user is listed");
        assert_eq!(mine.permission, Some(UserPermission::Admin));
        assert_eq!(mine.groups, None, "not selected");
        let filtered = client
            .users()
            .list()
            .all_fields()
            .filter(Filter::eq(User::NAME, renamed.as_str()))
            .send()
            .await
            .unwrap();
        assert_eq!(filtered.len(), 1, "{filtered:?}");
        assert_eq!(filtered[0].id.as_ref(), Some(&id));
        assert!(filtered[0].preferences.is_some());
        let streamed: Vec<User> = client
            .users()
            .list()
            .all_fields()
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            streamed
                .iter()
                .filter(|u| u.id.as_ref() == Some(&id))
                .count(),
            1
        );
        assert!(streamed.len() >= 2, "the admin and the new user");
        let limited = client.users().list().limit(1).send().await.unwrap();
        assert_eq!(limited.len(), 1);
        let table = client
            .users()
            .list()
            .filter(Filter::eq(User::NAME, renamed.as_str()))
            .markdown()
            .await
            .unwrap();
        assert!(table.contains(id.as_str()), "{table}");

        // What a fresh user has.
        assert!(
            client
                .users()
                .list_groups(&id)
                .send()
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            client
                .users()
                .list_tasks(&id)
                .send()
                .await
                .unwrap()
                .is_empty()
        );
        let privileges = client
            .users()
            .list_acl_privileges(&id)
            .send()
            .await
            .unwrap();
        assert!(privileges.is_empty());

        client.users().delete(&id).send().await.unwrap();
        let gone = client.users().get(&id).send().await;
        assert!(api_error("deleted user", gone).status == 404);
        let again = client.users().delete(&id).send().await;
        let e = assert_status("second delete", again, 404);
        assert_eq!(e.code, "not_found");
    })
    .await;
}

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn the_admin_is_me_and_cannot_change_its_own_permission() {
    let client = admin();
    let id = me(&client).await;
    let user = client.users().get(&id).send().await.unwrap();
    assert_eq!(user.permission, Some(UserPermission::Admin));
    let refused = client.users().update(&id).permission("none").send().await;
    let e = assert_status("own permission", refused, 403);
    assert!(e.message_text().contains("forbidden"), "{e:?}");
    assert_eq!(
        client.users().get(&id).send().await.unwrap().permission,
        Some(UserPermission::Admin)
    );
}

// ---------------------------------------------------------------------------
// Groups

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn groups_members_and_conflicts() {
    with_trash(|client, trash| async move {
        let (user, _, _) = new_user(&client, &trash, "member").await;
        let name = unique("group");
        let group: GroupId = client.groups().create(&name).send().await.unwrap();
        trash.group(&group);

        let duplicate = client.groups().create(&name).send().await;
        let e = assert_status("duplicate group", duplicate, 409);
        assert_eq!(e.code, "conflict");
        assert!(Error::Api(Box::new(e)).is_conflict());

        let fresh = client.groups().get(&group).send().await.unwrap();
        assert_eq!(fresh.name.as_deref(), Some(name.as_str()));
        assert_eq!(fresh.users.as_deref(), Some(&[][..]));
        assert_eq!(fresh.acl_role_ids.as_deref(), Some(&[][..]));

        let renamed = format!("{name}-renamed");
        client
            .groups()
            .update(&group)
            .name(&renamed)
            .send()
            .await
            .unwrap();

        client
            .groups()
            .add_user_to(&group, &user)
            .send()
            .await
            .unwrap();
        // Adding a member twice is accepted.
        client
            .groups()
            .add_user_to(&group, &user)
            .send()
            .await
            .unwrap();
        let with_member = client.groups().get(&group).send().await.unwrap();
        assert_eq!(with_member.name.as_deref(), Some(renamed.as_str()));
        assert_eq!(with_member.users, Some(vec![user.clone()]));
        let members = client.groups().list_users(&group).send().await.unwrap();
        assert_eq!(
            members.iter().map(|r| r.id()).collect::<Vec<_>>(),
            vec![user.clone()]
        );
        let members: Vec<User> = client
            .groups()
            .list_users(&group)
            .all_fields()
            .send()
            .await
            .unwrap();
        assert_eq!(members[0].groups, Some(vec![group.clone()]));
        let groups_of_user: Vec<Group> = client
            .users()
            .list_groups(&user)
            .all_fields()
            .send()
            .await
            .unwrap();
        assert_eq!(groups_of_user.len(), 1);
        assert_eq!(groups_of_user[0].id.as_ref(), Some(&group));
        assert!(
            client
                .groups()
                .list_tasks(&group)
                .send()
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            client
                .groups()
                .list_acl_roles(&group)
                .send()
                .await
                .unwrap()
                .is_empty()
        );
        let listed: Vec<Group> = client
            .groups()
            .list()
            .select([Group::NAME, Group::USERS])
            .send()
            .await
            .unwrap();
        assert!(
            listed
                .iter()
                .any(|g| g.name.as_deref() == Some(renamed.as_str())
                    && g.users == Some(vec![user.clone()]))
        );

        client
            .groups()
            .remove_user_from(&group, &user)
            .send()
            .await
            .unwrap();
        // Removing a non-member is accepted too.
        client
            .groups()
            .remove_user_from(&group, &user)
            .send()
            .await
            .unwrap();
        let emptied = client.groups().get(&group).send().await.unwrap();
        assert_eq!(emptied.users.as_deref(), Some(&[][..]));

        let unknown = client
            .groups()
            .add_user_to(&group, UserId::new("00000000-0000-4000-8000-000000000000"))
            .send()
            .await;
        assert!(api_error("unknown member", unknown).status == 404);

        client.groups().delete(&group).send().await.unwrap();
        let gone = client.groups().get(&group).send().await;
        assert_eq!(api_error("deleted group", gone).code, "not_found");
    })
    .await;
}

// ---------------------------------------------------------------------------
// ACL roles and privileges

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn acl_roles_privileges_users_and_groups() {
    with_trash(|client, trash| async move {
        let (user, _, _) = new_user(&client, &trash, "acl-user").await;
        let group: GroupId = client
            .groups()
            .create(unique("acl-group"))
            .send()
            .await
            .unwrap();
        trash.group(&group);

        let name = unique("role");
        let role: AclRoleId = client
            .acl_roles()
            .create(&name)
            .description("xo-sdk real-server test")
            .send()
            .await
            .unwrap();
        trash.role(&role);
        let fresh = client.acl_roles().get(&role).send().await.unwrap();
        assert_eq!(fresh.name.as_deref(), Some(name.as_str()));
        assert_eq!(
            fresh.description.as_deref(),
            Some("xo-sdk real-server test")
        );
        assert_eq!(fresh.privilege_ids.as_deref(), Some(&[][..]));
        assert_eq!(fresh.is_template, None);

        client
            .acl_roles()
            .update(&role)
            .description("updated")
            .send()
            .await
            .unwrap();
        assert_eq!(
            client
                .acl_roles()
                .get(&role)
                .send()
                .await
                .unwrap()
                .description
                .as_deref(),
            Some("updated")
        );

        let read: AclPrivilegeId = client
            .acl_privileges()
            .create(&role, "vm", "read", AclEffect::Allow)
            .send()
            .await
            .unwrap();
        let start: AclPrivilegeId = client
            .acl_privileges()
            .create(&role, "vm", "start", AclEffect::Deny)
            .send()
            .await
            .unwrap();
        let bad = client
            .acl_privileges()
            .create(&role, "vm", "fly", AclEffect::Allow)
            .send()
            .await;
        assert!(api_error("unknown action", bad).status == 422);

        let privilege: AclPrivilege = client.acl_privileges().get(&read).send().await.unwrap();
        assert_eq!(privilege.role_id.as_ref(), Some(&role));
        assert_eq!(privilege.resource.as_deref(), Some("vm"));
        assert_eq!(privilege.action.as_deref(), Some("read"));
        assert_eq!(privilege.effect, Some(AclEffect::Allow));
        client
            .acl_privileges()
            .update(&read)
            .effect(AclEffect::Deny)
            .send()
            .await
            .unwrap();
        assert_eq!(
            client
                .acl_privileges()
                .get(&read)
                .send()
                .await
                .unwrap()
                .effect,
            Some(AclEffect::Deny)
        );

        let of_role = client
            .acl_roles()
            .list_privileges(&role)
            .send()
            .await
            .unwrap();
        let mut ids: Vec<AclPrivilegeId> = of_role.iter().map(|r| r.id()).collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let mut want = vec![read.clone(), start.clone()];
        want.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        assert_eq!(ids, want);
        let all: Vec<AclPrivilege> = client
            .acl_privileges()
            .list()
            .all_fields()
            .filter(Filter::eq(AclPrivilege::ROLE_ID, role.as_str()))
            .send()
            .await
            .unwrap();
        assert_eq!(all.len(), 2, "{all:?}");
        let roles: Vec<AclRole> = client.acl_roles().list().all_fields().send().await.unwrap();
        // XO's built-in roles are templates: they are copied, never
        // attached (403, "role is a template").
        let template = roles
            .iter()
            .find(|r| r.is_template == Some(true))
            .and_then(|r| r.id.clone())
            .expect("XO's template roles");
        for (what, result) in [
            (
                "a template attached to a user",
                client
                    .acl_roles()
                    .attach_to_user(&template, &user)
                    .send()
                    .await,
            ),
            (
                "a template attached to a group",
                client
                    .acl_roles()
                    .attach_to_group(&template, &group)
                    .send()
                    .await,
            ),
        ] {
            let e = assert_status(what, result, 403);
            assert_eq!(e.code, "forbidden", "{what}");
            assert_eq!(
                e.data.as_ref().and_then(|d| d["reason"].as_str()),
                Some("role is a template"),
                "{what}: {e:?}"
            );
        }
        let mine = roles
            .iter()
            .find(|r| r.id.as_ref() == Some(&role))
            .expect("the new role is listed");
        assert_eq!(mine.privilege_ids.as_ref().map(Vec::len), Some(2));

        // A user.
        client
            .acl_roles()
            .attach_to_user(&role, &user)
            .send()
            .await
            .unwrap();
        let twice = client.acl_roles().attach_to_user(&role, &user).send().await;
        assert!(api_error("attached twice", twice).status == 409);
        let users = client.acl_roles().list_users(&role).send().await.unwrap();
        assert_eq!(
            users.iter().map(|r| r.id()).collect::<Vec<_>>(),
            vec![user.clone()]
        );
        let effective: Vec<AclPrivilege> = client
            .users()
            .list_acl_privileges(&user)
            .all_fields()
            .send()
            .await
            .unwrap();
        assert_eq!(effective.len(), 2, "{effective:?}");
        assert!(
            client
                .acl_roles()
                .get(&role)
                .send()
                .await
                .unwrap()
                .user_ids
                .is_some_and(|u| u == vec![user.clone()])
        );
        client
            .acl_roles()
            .detach_from_user(&role, &user)
            .send()
            .await
            .unwrap();
        let detached = client
            .acl_roles()
            .detach_from_user(&role, &user)
            .send()
            .await;
        assert!(api_error("detached twice", detached).status == 404);

        // A group.
        client
            .acl_roles()
            .attach_to_group(&role, &group)
            .send()
            .await
            .unwrap();
        let groups: Vec<Group> = client
            .acl_roles()
            .list_groups(&role)
            .all_fields()
            .send()
            .await
            .unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].acl_role_ids, Some(vec![role.clone()]));
        let of_group: Vec<AclRole> = client
            .groups()
            .list_acl_roles(&group)
            .all_fields()
            .send()
            .await
            .unwrap();
        assert_eq!(of_group.len(), 1);
        assert_eq!(of_group[0].id.as_ref(), Some(&role));
        client
            .acl_roles()
            .detach_from_group(&role, &group)
            .send()
            .await
            .unwrap();
        assert!(
            client
                .acl_roles()
                .list_groups(&role)
                .send()
                .await
                .unwrap()
                .is_empty()
        );

        // A copy is an action whose task gives the new role's id.
        let copy_name = unique("role-copy");
        let task = client
            .acl_roles()
            .copy(&role)
            .name(&copy_name)
            .send()
            .await
            .unwrap();
        trash.task(task.id());
        let copy: AclRoleId = bounded("the copy task", task.result()).await.unwrap();
        trash.role(&copy);
        assert_ne!(copy, role);
        let copied = client.acl_roles().get(&copy).send().await.unwrap();
        assert_eq!(copied.name.as_deref(), Some(copy_name.as_str()));
        assert_eq!(copied.privilege_ids.as_ref().map(Vec::len), Some(2));
        client.acl_roles().delete(&copy).send().await.unwrap();

        client.acl_privileges().delete(&start).send().await.unwrap();
        let gone = client.acl_privileges().get(&start).send().await;
        assert!(api_error("deleted privilege", gone).status == 404);
        client.acl_roles().delete(&role).send().await.unwrap();
        let gone = client.acl_roles().get(&role).send().await;
        assert!(api_error("deleted role", gone).status == 404);
        // The role's privileges went with it.
        let orphan = client.acl_privileges().get(&read).send().await;
        assert!(api_error("privilege of a deleted role", orphan).status == 404);
    })
    .await;
}

// ---------------------------------------------------------------------------
// Authentication tokens, and what other credentials get

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn authentication_tokens_create_list_and_use() {
    let client = admin();
    let me = me(&client).await;
    let description = unique("token");
    let mut client_info = serde_json::Map::new();
    client_info.insert("id".into(), json!(description));
    // `me` answers 307 to the user's own path; the SDK follows it.
    let answer: Value = client
        .users()
        .create_auth_token(UserId::new("me"))
        .description(&description)
        .expires_in("10 minutes")
        .client_(client_info)
        .send()
        .await
        .unwrap();
    let token = answer["token"]["id"]
        .as_str()
        .expect("the new token")
        .to_owned();
    assert_eq!(answer["token"]["user_id"], json!(me.as_str()));
    let expiration = answer["token"]["expiration"].as_i64().unwrap();
    let created = answer["token"]["created_at"].as_i64().unwrap();
    assert!((expiration - created - 600_000).abs() < 5_000, "{answer}");

    let tokens: Vec<AuthenticationToken> =
        client.users().list_auth_tokens(&me).send().await.unwrap();
    let listed = tokens
        .iter()
        .find(|t| t.description.as_deref() == Some(description.as_str()))
        .expect("the new token is listed");
    assert_eq!(listed.user_id.as_ref(), Some(&me));
    assert_eq!(
        listed.client.as_ref().and_then(|c| c.id.as_deref()),
        Some(description.as_str())
    );
    let filtered = client
        .users()
        .list_auth_tokens(&me)
        .filter(Filter::eq("description", description.as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);

    // The new token works.
    let other = client_with_token(&token);
    assert_eq!(self::me(&other).await, me);
    let bad = client
        .users()
        .create_auth_token(UserId::new("00000000-0000-4000-8000-000000000000"))
        .send()
        .await;
    assert!(api_error("a token for someone else", bad).status == 403);
}

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn a_bad_token_is_401() {
    let client = client_with_token("not-a-token-of-this-server");
    for (what, result) in [
        ("ping", client.ping().ping().send().await.map(|_| ())),
        ("list users", client.users().list().send().await.map(|_| ())),
        (
            "dashboard",
            client.dashboard().get().send().await.map(|_| ()),
        ),
        ("list tasks", client.tasks().list().send().await.map(|_| ())),
    ] {
        let e = assert_status(what, result, 401);
        assert_eq!(e.code, "unauthorized", "{what}");
        assert_eq!(e.message_text(), "invalid credentials", "{what}");
    }
    let err = client.vms().list().send().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    // The event stream refuses to open rather than retrying forever.
    let events = bounded(
        "an event stream with a bad token",
        client.event_stream().subscribe_all("task").open(),
    )
    .await;
    assert_eq!(events.unwrap_err().status(), Some(401));
}

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn a_non_admin_user_is_403() {
    with_trash(|client, trash| async move {
        let admin_id = me(&client).await;
        let (user, name, password) = new_user(&client, &trash, "nonadmin").await;
        // A token minted with the user's own Basic credentials.
        let basic = Client::builder(real_url())
            .basic(&name, &password)
            .build()
            .unwrap();
        let answer = basic
            .users()
            .create_auth_token(UserId::new("me"))
            .description("xo-sdk real-server test, non-admin")
            .expires_in("10 minutes")
            .send()
            .await
            .unwrap();
        assert_eq!(answer["token"]["user_id"], json!(user.as_str()));
        let token = answer["token"]["id"].as_str().unwrap().to_owned();
        let nobody = client_with_token(&token);

        let own = nobody.users().get(&user).send().await.unwrap();
        assert_eq!(own.permission, Some(UserPermission::None));
        let other = nobody.users().get(&admin_id).send().await;
        let e = assert_status("another user", other, 403);
        assert_eq!(e.code, "forbidden");
        assert_eq!(e.message_text(), "not enough privileges");
        let err = nobody
            .groups()
            .create(unique("forbidden"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_forbidden(), "{err}");
        let e = assert_status(
            "create a role",
            nobody.acl_roles().create(unique("forbidden")).send().await,
            403,
        );
        assert!(e.data.is_some(), "XO says which privileges are missing");
        assert_status("dashboard", nobody.dashboard().get().send().await, 403);
        assert_status(
            "add a server",
            nobody
                .servers()
                .add("127.0.0.1:9", "root", "x")
                .send()
                .await,
            403,
        );
        // Lists answer only what the user may see: nothing.
        assert!(nobody.users().list().send().await.unwrap().is_empty());
        assert!(nobody.groups().list().send().await.unwrap().is_empty());
        assert!(nobody.acl_roles().list().send().await.unwrap().is_empty());
        assert_eq!(
            nobody.ping().ping().send().await.unwrap().result.as_deref(),
            Some("pong")
        );

        // Once the user is deleted, its token is refused.
        client.users().delete(&user).send().await.unwrap();
        assert_status(
            "a deleted user's token",
            nobody.ping().ping().send().await,
            401,
        );
    })
    .await;
}

// ---------------------------------------------------------------------------
// Unknown objects

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn unknown_ids_are_typed_404s() {
    let client = admin();
    const NONE: &str = "00000000-0000-4000-8000-000000000000";
    let cases: Vec<(&str, &str, xo_sdk::Result<()>)> = vec![
        (
            "VM",
            "no such VM",
            client.vms().get(VmId::new(NONE)).send().await.map(drop),
        ),
        (
            "host",
            "no such host",
            client.hosts().get(HostId::new(NONE)).send().await.map(drop),
        ),
        (
            "pool",
            "no such pool",
            client.pools().get(PoolId::new(NONE)).send().await.map(drop),
        ),
        (
            "SR",
            "no such SR",
            client.srs().get(SrId::new(NONE)).send().await.map(drop),
        ),
        (
            "VDI",
            "no such VDI",
            client.vdis().get(VdiId::new(NONE)).send().await.map(drop),
        ),
        (
            "network",
            "no such network",
            client
                .networks()
                .get(NetworkId::new(NONE))
                .send()
                .await
                .map(drop),
        ),
        (
            "template",
            "no such",
            client
                .vm_templates()
                .get(VmTemplateId::new(NONE))
                .send()
                .await
                .map(drop),
        ),
        (
            "user",
            "no such user",
            client.users().get(UserId::new(NONE)).send().await.map(drop),
        ),
        (
            "group",
            "no such group",
            client
                .groups()
                .get(GroupId::new(NONE))
                .send()
                .await
                .map(drop),
        ),
        (
            "role",
            "no such role",
            client
                .acl_roles()
                .get(AclRoleId::new(NONE))
                .send()
                .await
                .map(drop),
        ),
        (
            "server",
            "no such xenServer",
            client
                .servers()
                .get(ServerId::new(NONE))
                .send()
                .await
                .map(drop),
        ),
        (
            "repository",
            "no such remote",
            client
                .backup_repositories()
                .get(BackupRepositoryId::new(NONE))
                .send()
                .await
                .map(drop),
        ),
        (
            "task",
            "no such task",
            client
                .tasks()
                .get(TaskId::new("0xo0sdk0unknown"))
                .send()
                .await
                .map(drop),
        ),
    ];
    for (what, message, result) in cases {
        let e = assert_status(what, result, 404);
        assert_eq!(e.code, "not_found", "{what}");
        assert!(e.message_text().starts_with(message), "{what}: {e:?}");
        assert!(e.data.is_some(), "{what}: XO names the object");
    }
    // A VM action on an unknown VM: refused before any task exists.
    let start = client.vms().start(VmId::new(NONE)).send().await;
    assert!(start.unwrap_err().is_not_found());
    // The task handle of an unknown task.
    let wait = client.task(TaskId::new("0xo0sdk0unknown")).wait().await;
    assert!(wait.unwrap_err().is_not_found());
}

// ---------------------------------------------------------------------------
// Servers

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn an_unreachable_server_is_added_fails_to_connect_and_is_deleted() {
    with_trash(|client, trash| async move {
        // Nothing listens on port 9 of loopback; a unique address of
        // 127.0.0.0/8 so that another run's server is not a duplicate.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let host = format!(
            "127.{}.{}.{}:9",
            1 + nanos % 250,
            (nanos / 250) % 250,
            1 + std::process::id() % 250
        );
        let label = unique("server");
        let id: ServerId = client
            .servers()
            .add(&host, "root", "not-a-password")
            .label(&label)
            .send()
            .await
            .unwrap();
        trash.server(&id);

        let duplicate = client.servers().add(&host, "root", "x").send().await;
        assert!(api_error("same host again", duplicate).status == 409);

        let server = client.servers().get(&id).send().await.unwrap();
        assert_eq!(server.host.as_deref(), Some(host.as_str()));
        assert_eq!(server.label.as_deref(), Some(label.as_str()));
        assert_eq!(server.username.as_deref(), Some("root"));
        assert_eq!(server.status, Some(ServerStatus::Disconnected));
        let listed: Vec<xo_sdk::types::Server> = client
            .servers()
            .list()
            .select([
                xo_sdk::types::Server::ID,
                xo_sdk::types::Server::HOST,
                xo_sdk::types::Server::STATUS,
            ])
            .send()
            .await
            .unwrap();
        assert!(
            listed
                .iter()
                .any(|s| s.id.as_ref() == Some(&id) && s.host.as_deref() == Some(host.as_str()))
        );

        // Synchronously: XO answers the connection error (500).
        let sync = bounded("a sync connect", client.servers().connect(&id).run_sync()).await;
        let err = sync.unwrap_err();
        let e = err
            .sdk()
            .and_then(Error::as_api)
            .unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!(e.status, 500);
        assert!(e.message_text().contains("ECONNREFUSED"), "{e:?}");

        // As a task: the task fails with XO's error.
        let task = client.servers().connect(&id).send().await.unwrap();
        trash.task(task.id());
        let failed = bounded("the connect task", task.result())
            .await
            .unwrap_err();
        let failure = failed.failure().unwrap_or_else(|| panic!("{failed:?}"));
        assert!(failure.to_string().contains("ECONNREFUSED"), "{failure}");
        let done = task.wait().await.unwrap();
        assert_eq!(*done.status(), TaskStatus::Failure);
        assert_eq!(done.object_id(), Some(id.as_str()));

        let after = client.servers().get(&id).send().await.unwrap();
        assert_eq!(after.status, Some(ServerStatus::Disconnected));
        assert!(after.error.is_some(), "XO keeps the last error: {after:?}");
        let tasks = client.servers().list_tasks(&id).send().await.unwrap();
        assert!(tasks.iter().any(|t| t.id() == task.id()), "{tasks:?}");

        client.servers().disconnect(&id).run_sync().await.unwrap();
        client.servers().delete(&id).send().await.unwrap();
        let gone = client.servers().get(&id).send().await;
        assert!(api_error("deleted server", gone).status == 404);
    })
    .await;
}

// ---------------------------------------------------------------------------
// Backup repositories

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn a_file_backup_repository_lifecycle_and_benchmark() {
    with_trash(|client, trash| async move {
        let (id, name, url) = new_repository(&client, &trash).await;

        let repo = client.backup_repositories().get(&id).send().await.unwrap();
        assert_eq!(repo.id.as_ref(), Some(&id));
        assert_eq!(repo.name.as_deref(), Some(name.as_str()));
        assert_eq!(repo.url.as_deref(), Some(url.as_str()));
        assert_eq!(repo.enabled, Some(true));
        // A new repository's `error` is an empty string.
        assert_eq!(repo.error, Some(json!("")));

        let all: Vec<BackupRepository> = client
            .backup_repositories()
            .list()
            .all_fields()
            .send()
            .await
            .unwrap();
        assert!(all.iter().any(|r| r.id.as_ref() == Some(&id)));
        let refs = client.backup_repositories().list().send().await.unwrap();
        assert!(refs.iter().any(|r| r.id() == id));
        let streamed: Vec<BackupRepository> = client
            .backup_repositories()
            .list()
            .select([BackupRepository::NAME, BackupRepository::URL])
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert!(
            streamed
                .iter()
                .any(|r| r.url.as_deref() == Some(url.as_str()))
        );

        let health = client
            .backup_repositories()
            .get_health(&id)
            .send()
            .await
            .unwrap();
        assert_eq!(health.success, Some(true));

        let renamed = format!("{name}-renamed");
        client
            .backup_repositories()
            .update(&id)
            .name(&renamed)
            .send()
            .await
            .unwrap();
        let repo = client.backup_repositories().get(&id).send().await.unwrap();
        assert_eq!(repo.name.as_deref(), Some(renamed.as_str()));
        assert_eq!(repo.url.as_deref(), Some(url.as_str()));

        // The benchmark as a task: its updates end with its final state,
        // its result is typed.
        let task = client
            .backup_repositories()
            .benchmark(&id)
            .send()
            .await
            .unwrap();
        trash.task(task.id());
        let states: Vec<_> = bounded("following the benchmark", async {
            task.updates()
                .await
                .unwrap()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
        })
        .await;
        let (last, before) = states.split_last().expect("at least the final state");
        assert!(before.iter().all(|s| s.is_pending()), "{states:?}");
        assert_eq!(last.status(), Some(TaskStatus::Success), "{last:?}");
        assert_eq!(last.object_id(), Some(id.as_str()));
        let done = bounded("waiting for the benchmark", task.wait())
            .await
            .unwrap();
        assert!(done.is_success());
        let benchmark: BackupRepositoryBenchmark = bounded("the benchmark result", task.result())
            .await
            .unwrap();
        assert!(
            benchmark.read_rate.is_some_and(|r| r > 0.0),
            "{benchmark:?}"
        );
        assert!(
            benchmark.write_rate.is_some_and(|r| r > 0.0),
            "{benchmark:?}"
        );

        // Aborting a task that has ended fails, with XO's reason.
        let abort = bounded("aborting an ended task", task.abort()).await;
        let err = abort.unwrap_err();
        assert!(err.to_string().contains("no such task"), "{err:?}");

        // Synchronously: the figures straight away.
        let sync = bounded(
            "a sync benchmark",
            client.backup_repositories().benchmark(&id).run_sync(),
        )
        .await
        .unwrap();
        assert!(sync.write_rate.is_some_and(|r| r > 0.0), "{sync:?}");
        let repo = client.backup_repositories().get(&id).send().await.unwrap();
        let benchmarks = repo.benchmarks.expect("XO keeps the benchmarks");
        assert!(benchmarks.len() >= 2, "{benchmarks:?}");

        client
            .backup_repositories()
            .forget(&id)
            .run_sync()
            .await
            .unwrap();
        let gone = client.backup_repositories().get(&id).send().await;
        let e = assert_status("forgotten repository", gone, 404);
        assert!(e.message_text().contains("no such remote"));
    })
    .await;
}

// ---------------------------------------------------------------------------
// Tasks

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn the_task_watch_opened_before_an_action_sees_it_end() {
    with_trash(|client, trash| async move {
        let (repo, _, _) = new_repository(&client, &trash).await;
        // XO sends nothing on the watch until a task changes: opening it
        // must not wait for that.
        let mut changes = bounded("opening the watch", client.tasks().list().changes())
            .await
            .unwrap();
        let task = start_benchmark(&client, &trash, &repo).await;
        let mut seen = Vec::new();
        let last = bounded("watching the benchmark task", async {
            loop {
                let event = changes
                    .try_next()
                    .await
                    .unwrap()
                    .expect("the watch goes on");
                if let TaskEvent::Update(state) = event {
                    if state.id() == Some(task.id().as_str()) {
                        seen.push(state.status_str().to_owned());
                        if !state.is_pending() {
                            return state;
                        }
                    }
                }
            }
        })
        .await;
        assert_eq!(last.status(), Some(TaskStatus::Success), "{seen:?}");
        assert_eq!(last.name(), Some("REST API: benchmark backup repository"));
        assert!(last.end().is_some() && last.start().is_some());
        let typed = last.typed().unwrap();
        assert_eq!(typed.status, Some(TaskStatus::Success));
        drop(changes);

        // Following the task after it ended gives its final state, at once.
        let states: Vec<_> = bounded("updates of an ended task", async {
            task.updates()
                .await
                .unwrap()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
        })
        .await;
        assert_eq!(states.len(), 1, "{states:?}");
        assert_eq!(states[0].status(), Some(TaskStatus::Success));
        assert_eq!(states[0].result_value(), last.result_value());
    })
    .await;
}

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn tasks_list_get_and_delete_typed() {
    with_trash(|client, trash| async move {
        let (repo, _, _) = new_repository(&client, &trash).await;
        let task = start_benchmark(&client, &trash, &repo).await;
        bounded("the benchmark", task.wait()).await.unwrap();

        let refs = client.tasks().list().send().await.unwrap();
        assert!(refs.iter().any(|r| r.id() == task.id()));
        let all: Vec<TaskInfo> = client.tasks().list().all_fields().send().await.unwrap();
        let mine = all
            .iter()
            .find(|t| t.id.as_ref() == Some(&task.id()))
            .expect("the task is listed");
        assert_eq!(mine.status, Some(TaskStatus::Success));
        let properties = mine.properties.as_ref().expect("XO sends the properties");
        assert_eq!(properties.object_id.as_deref(), Some(repo.as_str()));
        let successes: Vec<TaskInfo> = client
            .tasks()
            .list()
            .select([TaskInfo::ID, TaskInfo::STATUS])
            .filter(Filter::eq(TaskInfo::STATUS, "success"))
            .send()
            .await
            .unwrap();
        assert!(
            successes
                .iter()
                .all(|t| t.status == Some(TaskStatus::Success))
        );
        assert!(successes.iter().any(|t| t.id.as_ref() == Some(&task.id())));
        let streamed: Vec<TaskInfo> = client
            .tasks()
            .list()
            .all_fields()
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert!(streamed.iter().any(|t| t.id.as_ref() == Some(&task.id())));
        let table = client.tasks().list().markdown().await.unwrap();
        assert!(table.contains(task.id().as_str()), "{table}");

        let got = client.tasks().get(task.id()).send().await.unwrap();
        assert_eq!(got.status, Some(TaskStatus::Success));
        assert!(got.result.is_some_and(|r| r["writeRate"].is_number()));

        client.tasks().delete_task(task.id()).send().await.unwrap();
        let gone = client.tasks().get(task.id()).send().await;
        assert!(api_error("deleted task", gone).status == 404);
    })
    .await;
}

// ---------------------------------------------------------------------------
// Events

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn the_event_stream_sees_a_task_come_and_go() {
    with_trash(|client, trash| async move {
        let (repo, _, _) = new_repository(&client, &trash).await;
        // Without a hypervisor only XO's own objects change: tasks.
        let mut events = bounded(
            "opening the event stream",
            client
                .event_stream()
                .subscribe_all("task")
                .subscribe("VM", [Vm::NAME_LABEL.name()])
                .open(),
        )
        .await
        .unwrap();
        assert!(!events.connection_id().is_empty());
        let task = start_benchmark(&client, &trash, &repo).await;
        let id = task.id();
        let ended = bounded("the task's events", async {
            loop {
                let event = events
                    .try_next()
                    .await
                    .unwrap()
                    .expect("the stream goes on");
                if let Event::Add(c) | Event::Update(c) = &event {
                    if c.collection == "task" && c.id() == Some(id.as_str()) {
                        let info: TaskInfo = c.decode().unwrap();
                        if info.status != Some(TaskStatus::Pending) {
                            return info;
                        }
                    }
                }
            }
        })
        .await;
        assert_eq!(ended.status, Some(TaskStatus::Success));
        assert!(ended.result.is_some_and(|r| r["readRate"].is_number()));

        client.tasks().delete_task(&id).send().await.unwrap();
        let removed = bounded("the task's removal", async {
            loop {
                let event = events
                    .try_next()
                    .await
                    .unwrap()
                    .expect("the stream goes on");
                if let Event::Remove(c) = &event {
                    if c.id() == Some(id.as_str()) {
                        return c.clone();
                    }
                }
            }
        })
        .await;
        assert_eq!(removed.collection, "task");
    })
    .await;
}

/// The live store on a real XO, on the collection it fills without a
/// hypervisor: tasks. It follows a task from its creation to its end and
/// removal, equals a fresh list field by field at the end, and a
/// standalone wait sees the same end.
#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn a_live_store_of_tasks_follows_a_task_and_equals_a_fresh_list() {
    with_trash(|client, trash| async move {
        let (repo, _, _) = new_repository(&client, &trash).await;
        let fields = [TaskModel::STATUS, TaskModel::END, TaskModel::PROPERTIES];
        let reflector = bounded(
            "starting the live store",
            client.tasks().list().reflector().fields(fields).start(),
        )
        .await
        .unwrap();
        let store = reflector.store();
        assert!(store.is_synced());
        let before = store.len();

        let task = start_benchmark(&client, &trash, &repo).await;
        let id = task.id();
        let ended = store
            .wait_until(&id, Duration::from_secs(60), |t| {
                t.status.as_ref().is_some_and(|s| *s != TaskStatus::Pending)
            })
            .await
            .unwrap();
        assert_eq!(ended.status, Some(TaskStatus::Success));
        assert!(ended.end.is_some());
        assert_eq!(store.len(), before + 1);

        // A standalone wait (its own list and subscription) agrees.
        let alone = client
            .tasks()
            .list()
            .reflector()
            .fields(fields)
            .wait_until(&id, Duration::from_secs(30), |t| t.end.is_some())
            .await
            .unwrap();
        assert_eq!(alone.status, ended.status);

        // The store equals a fresh list, field by field.
        // (`select` sends only what is selected: the id too.)
        let listed = client
            .tasks()
            .list()
            .select([TaskModel::ID].into_iter().chain(fields))
            .send()
            .await
            .unwrap();
        let snapshot = store.snapshot();
        assert_eq!(snapshot.len(), listed.len());
        for task in &listed {
            let id = task.id.clone().expect("a listed task has an id");
            let mine = snapshot
                .get(&id)
                .expect("every listed task is in the store");
            assert_eq!(
                (&mine.status, mine.end, &mine.properties),
                (&task.status, task.end, &task.properties),
                "{id}"
            );
        }

        client.tasks().delete_task(&id).send().await.unwrap();
        bounded("the task's removal from the store", async {
            while store.contains(&id) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert_eq!(store.len(), before);
        assert!(store.error().is_none());
    })
    .await;
}

// ---------------------------------------------------------------------------
// Every collection

/// `.list().send()` (references) and `.list().all_fields().send()`
/// (whole objects) of a collection, checked against each other.
macro_rules! both_shapes {
    ($client:expr, $($service:ident . $list:ident ( $($arg:expr)? )),+ $(,)?) => {{
        let mut checked = Vec::new();
        $(
            let what = concat!(stringify!($service), "().", stringify!($list), "()");
            let refs = $client.$service().$list($($arg)?).send().await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let objects = $client.$service().$list($($arg)?).all_fields().send().await
                .unwrap_or_else(|e| panic!("{what}.all_fields(): {e}"));
            // Others may add or remove objects meanwhile: compare loosely,
            // and every object must carry its id and href.
            let ids: Vec<String> = refs.iter().map(|r| r.id_str().to_owned()).collect();
            for object in &objects {
                let id = object.id.as_ref().unwrap_or_else(|| panic!("{what}: an object without id"));
                let href = object.href.as_ref().unwrap_or_else(|| panic!("{what}: an object without href"));
                assert_eq!(href.id_str(), id.to_string(), "{what}");
            }
            assert!(
                ids.len().abs_diff(objects.len()) <= 5,
                "{what}: {} references, {} objects", ids.len(), objects.len()
            );
            checked.push((what, refs.len()));
        )+
        checked
    }};
}

#[tokio::test]
#[ignore = "needs a real xo-server: XO_REAL_URL, see scripts/xo-real/run-tests.sh"]
async fn every_collection_decodes_as_references_and_objects() {
    let client = admin();
    let checked = both_shapes!(
        client,
        users.list(),
        groups.list(),
        acl_roles.list(),
        acl_privileges.list(),
        vms.list(),
        pools.list(),
        vm_snapshots.list(),
        vm_templates.list(),
        vm_controllers.list(),
        hosts.list(),
        srs.list(),
        vdis.list(),
        vdi_snapshots.list(),
        vbds.list(),
        networks.list(),
        vifs.list(),
        pifs.list(),
        pbds.list(),
        pcis.list(),
        pgpus.list(),
        sms.list(),
        messages.list(),
        alarms.list(),
        backup_archives.list_backups(BackupRepositoryId::new("*")),
        backup_jobs.list(),
        backup_logs.list(),
        restore_logs.list(),
        backup_repositories.list(),
        schedules.list(),
        proxies.list(),
        servers.list(),
    );
    assert_eq!(checked.len(), 31);
    // The task list changes under concurrent use; its shapes decode.
    client.tasks().list().send().await.unwrap();
    client.tasks().list().all_fields().send().await.unwrap();

    // Streams and Markdown of the hypervisor collections, empty or not.
    let vms: Vec<Vm> = client
        .vms()
        .list()
        .all_fields()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let hosts: Vec<Host> = client
        .hosts()
        .list()
        .all_fields()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(vms.len(), client.vms().list().send().await.unwrap().len());
    assert_eq!(
        hosts.len(),
        client.hosts().list().send().await.unwrap().len()
    );
    let table = client.vms().list().markdown().await.unwrap();
    if vms.is_empty() {
        assert_eq!(table.trim(), "No results.", "{table:?}");
    }

    // A lookup by exact name finds nothing.
    let name = unique("no-such-vm");
    let lookup = client.vms().list().find_by_name(&name).await;
    match lookup {
        Err(Error::Lookup { found, name: n, .. }) => {
            assert_eq!(found, 0);
            assert_eq!(n, name);
        }
        other => panic!("expected a failed lookup, got {other:?}"),
    }
    let lookup = client.srs().list().find_by_name(&name).await;
    assert!(
        matches!(lookup, Err(Error::Lookup { found: 0, .. })),
        "{lookup:?}"
    );

    // A filter XO cannot parse is a typed 400 (`invalid_input`); one that
    // matches nothing is an empty list.
    let bad = client.users().list().filter("(").send().await;
    let e = assert_status("filter (", bad, 400);
    assert_eq!(e.code, "invalid_input");
    assert!(e.message_text().contains("parse error"), "{e:?}");
    let nothing: Vec<User> = client
        .users()
        .list()
        .select([User::NAME])
        .filter(Filter::eq(User::NAME, unique("nobody").as_str()))
        .send()
        .await
        .unwrap();
    assert!(nothing.is_empty());
}
