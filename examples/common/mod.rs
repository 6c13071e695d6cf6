//! What the examples share: where they run, and how a user names an object.
//!
//! With `XO_URL` and `XO_TOKEN` set (and optionally `XO_CA_CERT` or
//! `XO_INSECURE=1`), an example talks to that Xen Orchestra. Without
//! `XO_URL` it starts the in-process simulator, xo-sim, and runs against
//! it, so every example runs anywhere (`tests/examples_run.rs` runs each
//! one's `run` function that way).

// Each example uses part of this module.
#![allow(dead_code)]

use std::future::Future;

use xo_sdk::prelude::*;

/// Any error, for the examples' `main`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A client, and the simulator it talks to when there is no `XO_URL`.
pub struct Target {
    /// The SDK client.
    pub client: Client,
    /// The simulator, kept alive for as long as the example runs.
    pub sim: Option<xo_sim::Sim>,
}

impl Target {
    /// Whether the example runs against the simulator.
    pub fn is_simulated(&self) -> bool {
        self.sim.is_some()
    }
}

/// Connect to `XO_URL`/`XO_TOKEN`, or start xo-sim when `XO_URL` is unset.
pub async fn connect() -> Result<Target, BoxError> {
    if std::env::var_os(xo_sdk::runtime::ENV_URL).is_some() {
        let client = Client::from_env()?;
        eprintln!("Using the Xen Orchestra at {}", client.base_url());
        return Ok(Target { client, sim: None });
    }
    let sim = xo_sim::start().await?;
    eprintln!(
        "XO_URL is not set: using an in-process xo-sim at {}",
        sim.url()
    );
    let client = simulated_client(&sim)?;
    Ok(Target {
        client,
        sim: Some(sim),
    })
}

/// A client for a simulator.
pub fn simulated_client(sim: &xo_sim::Sim) -> Result<Client, BoxError> {
    Ok(Client::builder(sim.url()).token(sim.token()).build()?)
}

/// The first pool's id.
pub async fn first_pool(client: &Client) -> Result<PoolId, BoxError> {
    let pools = client.pools().list().send().await?;
    Ok(pools.first().ok_or("XO has no pool")?.id())
}

/// The object a user named on the command line, by id or by exact name:
/// `by_id` (a `get`) first, and `by_name` only when XO has no object with
/// that id.
pub async fn by_id_or_name<T, E: Into<BoxError>>(
    by_id: impl Future<Output = xo_sdk::Result<T>>,
    by_name: impl Future<Output = Result<T, E>>,
) -> Result<T, BoxError> {
    match by_id.await {
        Err(e) if e.is_not_found() => by_name.await.map_err(Into::into),
        found => Ok(found?),
    }
}

/// The VM whose id or exact name is `arg`.
pub async fn vm(client: &Client, arg: &str) -> Result<Vm, BoxError> {
    by_id_or_name(
        client.vms().get(VmId::new(arg)).send(),
        client.vms().list().find_by_name(arg),
    )
    .await
}

/// The host whose id or exact name is `arg`.
pub async fn host(client: &Client, arg: &str) -> Result<Host, BoxError> {
    by_id_or_name(
        client.hosts().get(HostId::new(arg)).send(),
        client.hosts().list().find_by_name(arg),
    )
    .await
}

/// The SR whose id or exact name is `arg`.
pub async fn sr(client: &Client, arg: &str) -> Result<Sr, BoxError> {
    by_id_or_name(
        client.srs().get(SrId::new(arg)).send(),
        client.srs().list().find_by_name(arg),
    )
    .await
}

// Users, ACL roles and backup repositories are named by `name`, not
// `name_label`: `find_by_name` (which matches `name_label`) is not
// generated for them, so these ask XO for the candidates (its filter
// matches substrings) and keep the exact match.

/// The user whose id or exact name (`name`, usually an email) is `arg`.
pub async fn user(client: &Client, arg: &str) -> Result<User, BoxError> {
    by_id_or_name(client.users().get(UserId::new(arg)).send(), async {
        let users = client
            .users()
            .list()
            .filter(Filter::eq(User::NAME, arg))
            .all_fields()
            .send()
            .await?;
        exactly_one(users, |u| u.name.as_deref(), arg, "user")
    })
    .await
}

/// The ACL role whose id or exact name is `arg`.
pub async fn acl_role(client: &Client, arg: &str) -> Result<AclRole, BoxError> {
    by_id_or_name(client.acl_roles().get(AclRoleId::new(arg)).send(), async {
        let roles = client
            .acl_roles()
            .list()
            .filter(Filter::eq(AclRole::NAME, arg))
            .all_fields()
            .send()
            .await?;
        exactly_one(roles, |r| r.name.as_deref(), arg, "role")
    })
    .await
}

/// The backup repository whose id or exact name is `arg`.
pub async fn backup_repository(client: &Client, arg: &str) -> Result<BackupRepository, BoxError> {
    let id = BackupRepositoryId::new(arg);
    by_id_or_name(client.backup_repositories().get(id).send(), async {
        let repos = client
            .backup_repositories()
            .list()
            .filter(Filter::eq(BackupRepository::NAME, arg))
            .all_fields()
            .send()
            .await?;
        exactly_one(repos, |r| r.name.as_deref(), arg, "backup repository")
    })
    .await
}

/// The one of `objects` whose name is exactly `wanted`.
fn exactly_one<T>(
    objects: Vec<T>,
    name: impl Fn(&T) -> Option<&str>,
    wanted: &str,
    what: &str,
) -> Result<T, BoxError> {
    let mut named = objects.into_iter().filter(|o| name(o) == Some(wanted));
    match (named.next(), named.next()) {
        (Some(one), None) => Ok(one),
        (Some(_), Some(_)) => {
            Err(format!("several {what}s are named {wanted:?}: give the id instead").into())
        }
        (None, _) => Err(format!("no {what} with id or name {wanted:?}").into()),
    }
}

/// Stop unless the example runs against xo-sim or `--yes` was given: for
/// the examples that reboot, shut down or reconfigure real machines.
pub fn require_yes(target: &Target, warning: &str) {
    if !target.is_simulated() && !std::env::args().any(|a| a == "--yes") {
        eprintln!("{warning}: run again with --yes.");
        std::process::exit(2);
    }
}

/// The command-line arguments that are not flags (`--yes`, `--zstd`, …).
pub fn positional_args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect()
}

/// The positional argument at `i` as a number, `default` when absent; an
/// unparsable one is an error that quotes it.
pub fn positional_number(args: &[String], i: usize, default: u64) -> Result<u64, BoxError> {
    args.get(i)
        .map_or(Ok(default), |a| a.parse())
        .map_err(|e| format!("{:?}: {e}", args[i]).into())
}

/// Whether the flag (`--zstd`) was given.
pub fn flag(name: &str) -> bool {
    std::env::args().skip(1).any(|a| a == name)
}

/// Print `prompt` and wait for the user to press Enter.
pub async fn wait_for_enter(prompt: &str) -> Result<(), BoxError> {
    use tokio::io::AsyncBufReadExt;
    println!("{prompt}");
    let mut line = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await?;
    Ok(())
}
