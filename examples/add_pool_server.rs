//! Add a new XCP-ng pool to XO: the DADL example of the same name in Rust.
//!
//! Registers the pool master as an XO server, then connects to it
//! (synchronously: XO answers once it has logged in to XAPI and started
//! importing the pool's objects, or with XAPI's error).
//!
//! The password is read from `XCP_PASSWORD`, never from the command line
//! (where `ps` and the shell history would show it).
//!
//! ```sh
//! cargo run --example add_pool_server                       # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… XCP_PASSWORD=… \
//!     cargo run --example add_pool_server -- xcp.example.com production-pool
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::types::{Server, ServerId};

/// Register `host` (the pool master's address) as `label`, log in as
/// `username`, and return the server as XO then shows it.
pub async fn run(
    client: &Client,
    host: &str,
    username: &str,
    password: &str,
    label: &str,
) -> Result<Server, BoxError> {
    let id: ServerId = client
        .servers()
        .add(host, username, password)
        .label(label)
        .send()
        .await?;
    println!("Registered {host} as {label:?}: server {id}");

    if let Err(e) = client.servers().connect(&id).run_sync().await {
        // The registration stays: fix the address or the credentials
        // (update_server) and connect again.
        return Err(format!("server {id} is registered but could not connect: {e}").into());
    }

    let server = client.servers().get(&id).send().await?;
    println!(
        "Connected: status {}, pool {:?}",
        server.status.as_ref().map_or("unknown", |s| s.as_str()),
        server
            .pool_name_label
            .as_deref()
            .unwrap_or("(not yet known)")
    );
    Ok(server)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let args = common::positional_args();
    let password = match std::env::var("XCP_PASSWORD") {
        Ok(p) => p,
        // xo-sim does not check pool credentials.
        Err(_) if target.is_simulated() => "supersecret".to_owned(),
        Err(_) => return Err("set XCP_PASSWORD to the pool master's root password".into()),
    };
    let (host, label) = match args.as_slice() {
        [host, label, ..] => (host.as_str(), label.as_str()),
        [] if target.is_simulated() => ("xcp.example.com", "production-pool"),
        _ => return Err("usage: add_pool_server HOST LABEL".into()),
    };
    run(&target.client, host, "root", &password, label).await?;
    Ok(())
}
