//! `xo`: Xen Orchestra from the command line. Every operation of the REST
//! API is a command, from the command table that `build.rs` generates out
//! of the same DADL description as xo-sdk; requests go through the SDK.

mod args;
mod config;
mod extra;
mod fail;
mod output;
mod run;
mod table;

use std::process::ExitCode;

use clap::ArgMatches;
use fail::{Exit, Failure};

fn main() -> ExitCode {
    let matches = match args::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            // `--help` and `--version` are "errors" that exit 0; the rest
            // are usage errors, 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Usage as u8 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("xo: cannot start: {e}");
            return ExitCode::from(Exit::Api as u8);
        }
    };
    match runtime.block_on(dispatch(&matches)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("xo: {}", failure.message);
            failure.code()
        }
    }
}

async fn dispatch(matches: &ArgMatches) -> Result<(), Failure> {
    let (resource, m) = matches
        .subcommand()
        .ok_or_else(|| Failure::new(Exit::Usage, "no command"))?;
    match resource {
        "completions" => return extra::completions(m),
        "profiles" => return extra::profiles(),
        _ => {}
    }
    let (op, om) = m
        .subcommand()
        .ok_or_else(|| Failure::new(Exit::Usage, "no operation"))?;
    let client = connect(om)?;
    if extra::is_extra(resource, op) {
        return extra::run(&client, resource, op, om)
            .await
            .unwrap_or_else(|| Err(extra::unknown(resource, op)));
    }
    match table::find(resource, op) {
        Some(operation) => run::operation(&client, operation, om).await,
        None => Err(extra::unknown(resource, op)),
    }
}

/// The client for `--profile`/`--url`, the environment or the config file.
fn connect(m: &ArgMatches) -> Result<xo_sdk::Client, Failure> {
    let from_env = std::env::var("XO_PROFILE").ok().filter(|p| !p.is_empty());
    let lookup = config::resolve(
        m.get_one::<String>("profile")
            .or(from_env.as_ref())
            .map(String::as_str),
        m.get_one::<String>("url").map(String::as_str),
    )?;
    Ok(xo_sdk::ClientBuilder::from_env_lookup(&xo_sdk::API, lookup)?.build()?)
}
