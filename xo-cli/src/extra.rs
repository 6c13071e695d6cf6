//! The commands that are not one API operation: `xo tasks wait`,
//! `xo events watch`, `xo profiles`, `xo completions`. They use the SDK's
//! own task handle and event stream.

use std::io::IsTerminal;

use clap::builder::{NonEmptyStringValueParser, PossibleValuesParser};
use clap::{Arg, ArgMatches, Command, value_parser};
use futures::StreamExt;
use xo_sdk::Client;
use xo_sdk::xo::Event;

use crate::fail::{Exit, Failure};

/// Commands added under a resource (`xo tasks wait`, `xo events watch`).
pub fn add_to_resource(resource: &str, cmd: Command) -> Command {
    match resource {
        "tasks" => cmd.subcommand(
            Command::new("wait")
                .about("Wait for a task to end; print its result, exit 1 if it failed")
                .arg(
                    Arg::new("id")
                        .value_name("ID")
                        .required(true)
                        .value_parser(NonEmptyStringValueParser::new())
                        .help("The task id"),
                )
                .arg(crate::args::format_arg()),
        ),
        "events" => cmd.subcommand(
            Command::new("watch")
                .about("Follow XO's live object changes of one collection (VM, host, SR, …)")
                .long_about(
                    "Follow XO's live object changes of one collection: one line per added, \
                     updated or removed object. COLLECTION is an XO type (VM, VM-template, \
                     VM-snapshot, host, pool, SR, VDI, VBD, VIF, PIF, network, task, message, \
                     alarm, …; case does not matter for these). Runs until interrupted, or \
                     until --count changes were shown.",
                )
                .arg(
                    Arg::new("collection")
                        .value_name("COLLECTION")
                        .required(true)
                        .value_parser(NonEmptyStringValueParser::new())
                        .help("The XO type to watch (vm, host, SR, …)"),
                )
                .arg(
                    Arg::new("fields")
                        .long("fields")
                        .value_name("FIELDS")
                        .value_parser(NonEmptyStringValueParser::new())
                        .help("Comma-separated fields to receive (default: all)"),
                )
                .arg(
                    Arg::new("count")
                        .long("count")
                        .value_name("N")
                        .value_parser(value_parser!(u64).range(1..))
                        .help("Stop after N changes"),
                )
                .arg(
                    Arg::new("output")
                        .short('o')
                        .long("output")
                        .value_name("FORMAT")
                        .value_parser(PossibleValuesParser::new(["table", "ndjson"]))
                        .default_value("table")
                        .help("One line per change: `EVENT ID field=value…` or a JSON object"),
                ),
        ),
        _ => cmd,
    }
}

/// Commands added at the top (`xo profiles`, `xo completions`).
pub fn add_to_root(root: Command) -> Command {
    root.subcommand(Command::new("profiles").about("List the profiles of the config file (never their tokens)"))
        .subcommand(
            Command::new("completions")
                .about("Print the shell completion script: xo completions bash > /etc/bash_completion.d/xo")
                .arg(
                    Arg::new("shell").value_name("SHELL").required(true)
                        .value_parser(value_parser!(clap_complete::Shell)),
                ),
        )
}

/// The extra command `resource op`, when it is one.
pub async fn run(
    client: &Client,
    resource: &str,
    op: &str,
    m: &ArgMatches,
) -> Option<Result<(), Failure>> {
    match (resource, op) {
        ("tasks", "wait") => {
            let id = m.get_one::<String>("id").expect("required").clone();
            let format = m.get_one::<String>("output").expect("defaulted").clone();
            let id: xo_sdk::types::TaskId = xo_sdk::runtime::Id::from_wire(id);
            Some(crate::run::follow(&client.task(id), &format).await)
        }
        ("events", "watch") => Some(watch(client, m).await),
        _ => None,
    }
}

/// Whether `resource op` is an extra command.
pub fn is_extra(resource: &str, op: &str) -> bool {
    matches!((resource, op), ("tasks", "wait") | ("events", "watch"))
}

/// XO's spelling of a collection typed in any case.
fn collection_name(typed: &str) -> String {
    const KNOWN: &[&str] = &[
        "VM",
        "VM-template",
        "VM-snapshot",
        "VM-controller",
        "host",
        "pool",
        "SR",
        "VDI",
        "VDI-snapshot",
        "VBD",
        "VIF",
        "PIF",
        "PBD",
        "PCI",
        "PGPU",
        "SM",
        "network",
        "task",
        "message",
        "alarm",
    ];
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(typed))
        .map(|k| (*k).to_owned())
        .unwrap_or_else(|| typed.to_owned())
}

async fn watch(client: &Client, m: &ArgMatches) -> Result<(), Failure> {
    let collection = collection_name(m.get_one::<String>("collection").expect("required"));
    let table = m.get_one::<String>("output").map(String::as_str) != Some("ndjson");
    let limit = m.get_one::<u64>("count").copied();
    let builder = client.event_stream();
    let builder = match m.get_one::<String>("fields") {
        Some(f) => builder.subscribe(&collection, f.split(',').map(str::trim)),
        None => builder.subscribe_all(&collection),
    };
    let mut events = builder.open().await?;
    // Said once the subscription is in place: every change from now on is
    // shown (scripts and tests wait for this line).
    eprintln!(
        "watching {collection}{}",
        if std::io::stdin().is_terminal() {
            " (Ctrl-C to stop)"
        } else {
            ""
        }
    );
    let mut shown = 0u64;
    while let Some(event) = events.next().await {
        let (kind, change) = match &event? {
            Event::Add(c) => ("add", c.clone()),
            Event::Update(c) => ("update", c.clone()),
            Event::Remove(c) => ("remove", c.clone()),
            Event::Reconnected(r) => {
                eprintln!(
                    "reconnected ({}): changes in between were not shown",
                    r.cause
                );
                continue;
            }
            _ => continue,
        };
        let line = if table {
            let fields: Vec<String> = change
                .object
                .iter()
                .filter(|(k, _)| *k != "id")
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}={s}"),
                    v => format!("{k}={v}"),
                })
                .collect();
            format!(
                "{kind}\t{}\t{}",
                change.id().unwrap_or("-"),
                fields.join(" ")
            )
        } else {
            serde_json::json!({ "event": kind, "collection": change.collection, "object": change.object }).to_string()
        };
        crate::run::print(&format!("{line}\n"))?;
        shown += 1;
        if limit.is_some_and(|n| shown >= n) {
            break;
        }
    }
    Ok(())
}

/// `xo completions SHELL`.
pub fn completions(m: &ArgMatches) -> Result<(), Failure> {
    let shell = *m
        .get_one::<clap_complete::Shell>("shell")
        .expect("required");
    // Into a buffer: clap_complete panics when it cannot write (a closed
    // pipe), `print` does not.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::args::command(), "xo", &mut script);
    crate::run::print(&String::from_utf8_lossy(&script))
}

/// `xo profiles`.
pub fn profiles() -> Result<(), Failure> {
    crate::run::print(&crate::config::list_profiles()?)
}

/// An unreachable pairing of the parser and the table is a bug of `xo`.
pub fn unknown(resource: &str, op: &str) -> Failure {
    Failure::new(Exit::Usage, format!("unknown command `{resource} {op}`"))
}
