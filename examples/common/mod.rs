//! What the examples share: where they run.
//!
//! With `XO_URL` and `XO_TOKEN` set (and optionally `XO_CA_CERT` or
//! `XO_INSECURE=1`), an example talks to that Xen Orchestra. Without
//! `XO_URL` it starts the in-process simulator, xo-sim, and runs against
//! it, so every example runs anywhere (`tests/examples_run.rs` runs each
//! one's `run` function that way).

// Each example uses part of this module.
#![allow(dead_code)]

/// Any error, for the examples' `main`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A client, and the simulator it talks to when there is no `XO_URL`.
pub struct Target {
    /// The SDK client.
    pub client: xo_sdk::Client,
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
        let client = xo_sdk::Client::from_env()?;
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
pub fn simulated_client(sim: &xo_sim::Sim) -> Result<xo_sdk::Client, BoxError> {
    Ok(xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .build()?)
}

/// The first pool's id.
pub async fn first_pool(client: &xo_sdk::Client) -> Result<String, BoxError> {
    use xo_sdk::xo::Collection;
    let pools = client
        .pools()
        .list()
        .select(["id", "name_label"])
        .send()
        .await?;
    let pool = pools
        .into_iter()
        .find_map(|p| p.id)
        .ok_or("XO has no pool")?;
    Ok(pool)
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

/// Whether the flag (`--zstd`) was given.
pub fn flag(name: &str) -> bool {
    std::env::args().skip(1).any(|a| a == name)
}

/// The id of the one object of a collection whose id, or whose
/// `label_field` (`name_label` for XAPI objects, `name` for users, groups,
/// roles and backup repositories), is `wanted`.
///
/// Asking XO for two fields of every object and matching here keeps the
/// match exact: a complex-matcher filter `name_label:web` also matches
/// `web-01`.
pub async fn resolve<C>(
    list: C,
    label_field: &str,
    wanted: &str,
    what: &str,
) -> Result<String, BoxError>
where
    C: xo_sdk::xo::Collection,
{
    let objects = list
        .select(["id", label_field])
        .send_as::<serde_json::Map<String, serde_json::Value>>()
        .await?;
    let field = |o: &serde_json::Map<String, serde_json::Value>, k: &str| {
        o.get(k).and_then(|v| v.as_str()).map(str::to_owned)
    };
    if let Some(id) = objects
        .iter()
        .filter_map(|o| field(o, "id"))
        .find(|id| id == wanted)
    {
        return Ok(id);
    }
    let mut matches = objects
        .iter()
        .filter(|o| field(o, label_field).as_deref() == Some(wanted))
        .filter_map(|o| field(o, "id"));
    match (matches.next(), matches.next()) {
        (Some(id), None) => Ok(id),
        (Some(_), Some(_)) => {
            Err(format!("several {what}s are named {wanted:?}: give the id instead").into())
        }
        (None, _) => Err(format!("no {what} with id or {label_field} {wanted:?}").into()),
    }
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
