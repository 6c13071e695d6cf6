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
