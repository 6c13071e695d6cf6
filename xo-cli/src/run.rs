//! Running one operation of the table: its arguments onto the SDK's
//! runtime request (the same `OperationSpec`, so the same wire encoding,
//! retries and errors as the SDK's typed builder), then the answer shown
//! the way the SDK types it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::ArgMatches;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use xo_sdk::runtime::Request;
use xo_sdk::xo::Task;
use xo_sdk::{Body, Client};

use crate::fail::{Exit, Failure};
use crate::output::{render, render_result};
use crate::table::{Answer, Operation, Param, Value, Where};

/// The fields a collection lists when `--fields` is not given: enough to
/// pick an object (`*` where the objects have no name).
fn default_fields(by_name: bool) -> &'static str {
    if by_name { "id,name_label" } else { "*" }
}

/// Run `op` with the arguments in `m`.
pub async fn operation(
    client: &Client,
    op: &'static Operation,
    m: &ArgMatches,
) -> Result<(), Failure> {
    confirm(op, m)?;
    let mut request = client.request(op.spec);
    let mut columns = Vec::new();
    for p in op.params {
        apply(&mut request, p, m).await?;
    }
    if let Answer::Collection { by_name } = op.answer {
        let fields = m
            .try_get_one::<String>("fields")
            .ok()
            .flatten()
            .map(String::as_str)
            .unwrap_or(default_fields(by_name));
        if m.try_get_one::<String>("fields").ok().flatten().is_none() {
            request.query("fields", &fields);
        }
        columns = fields.split(',').map(|f| f.trim().to_owned()).collect();
    }
    let format = m
        .try_get_one::<String>("output")
        .ok()
        .flatten()
        .cloned()
        .unwrap_or_else(|| "table".to_owned());
    match op.answer {
        // One object at a time, as the SDK's `stream()`: constant memory
        // for a collection of any size.
        Answer::Collection { .. } if format == "ndjson" => {
            request.query("ndjson", &true);
            let mut items = request.send_stream().await?.ndjson::<serde_json::Value>();
            while let Some(item) = items.next().await {
                print(&format!("{}\n", item?))?;
            }
            Ok(())
        }
        Answer::Collection { .. } | Answer::Json => {
            let value: serde_json::Value = request.send_json().await?;
            print(&render(&value, &format, &columns))
        }
        Answer::Empty => Ok(request.send_empty().await?),
        Answer::Create(created) => {
            let raw = request.send_response().await?;
            let id = created(&raw)?;
            print(&render_result(&serde_json::json!({ "id": id }), &format))
        }
        Answer::Action => {
            let raw = request.send_response().await?;
            let task = Task::from_accepted(client.clone(), &raw)?;
            if m.get_flag("no-wait") {
                return print(&format!("{}\n", task.id().as_str()));
            }
            follow(&task, &format).await
        }
        Answer::Bytes => {
            let path = m.get_one::<PathBuf>("output").cloned();
            download(request, path).await
        }
        Answer::Stream => {
            let stream = request.send_stream().await?;
            stream.write_to(tokio::io::stdout()).await?;
            Ok(())
        }
    }
}

/// One parameter's value, parsed by clap already, onto the request.
async fn apply(request: &mut Request, p: &'static Param, m: &ArgMatches) -> Result<(), Failure> {
    let value: Option<serde_json::Value> = match p.value {
        Value::String | Value::Id(_) | Value::Enum(_) => {
            m.get_one::<String>(p.flag).map(|s| s.clone().into())
        }
        Value::Integer => m.get_one::<i64>(p.flag).map(|v| (*v).into()),
        Value::Number => m.get_one::<f64>(p.flag).map(|v| (*v).into()),
        Value::Boolean => m.get_one::<bool>(p.flag).map(|v| (*v).into()),
        Value::List | Value::Json => m.get_one::<serde_json::Value>(p.flag).cloned(),
        Value::File => {
            if let Some(path) = m.get_one::<PathBuf>(p.flag) {
                request.raw_body(upload(path).await?);
            }
            return Ok(());
        }
    };
    if let Some(v) = value {
        match p.location {
            Where::Path => request.path_param(p.wire, &v),
            Where::Query => request.query(p.wire, &v),
            Where::Header => request.header(p.wire, &v),
            Where::Body => request.body_field(p.wire, &v),
        };
    }
    Ok(())
}

/// A dangerous operation runs with `--yes`, or after a `y` at the prompt;
/// never when nobody can answer (stdin is not a terminal).
fn confirm(op: &'static Operation, m: &ArgMatches) -> Result<(), Failure> {
    if op.spec.access != Some("dangerous") || m.get_flag("yes") {
        return Ok(());
    }
    let targets: Vec<String> = op
        .params
        .iter()
        .filter(|p| p.positional)
        .filter_map(|p| m.get_raw(p.flag))
        .flatten()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    let what = format!(
        "`{}` ({}) on {}",
        op.name,
        op.tool,
        if targets.is_empty() {
            "-".to_owned()
        } else {
            targets.join(" ")
        }
    );
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            Exit::NotConfirmed,
            format!(
                "{what} is dangerous (destructive or irreversible): add --yes to run it (stdin is not a terminal, nobody to ask)"
            ),
        ));
    }
    eprint!("{what} is dangerous (destructive or irreversible). Run it? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Failure::new(Exit::NotConfirmed, "not confirmed")),
    }
}

/// Follow a task to its end with a spinner on stderr (hidden when stderr
/// is not a terminal); its result is printed, a failure is exit status 1.
pub async fn follow(task: &Task, format: &str) -> Result<(), Failure> {
    let id = task.id().as_str().to_owned();
    let spinner = ProgressBar::new_spinner().with_message(format!("task {id}"));
    spinner.enable_steady_tick(Duration::from_millis(100));
    // The task's progress on the spinner, from XO's task watch; only for
    // a person looking at it (nothing is drawn otherwise).
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| tokio::spawn(show_progress(task.clone(), spinner.clone())));
    let done = task.wait().await;
    if let Some(p) = progress {
        p.abort();
    }
    spinner.finish_and_clear();
    let done = done?;
    if let Some(failure) = done.failure() {
        return Err(Failure::new(Exit::Api, failure.to_string()));
    }
    match done.result_value() {
        Some(v) if !v.is_null() => print(&render_result(v, format)),
        _ => {
            if std::io::stderr().is_terminal() {
                eprintln!("task {id}: {}", done.status_str());
            }
            Ok(())
        }
    }
}

async fn show_progress(task: Task, spinner: ProgressBar) {
    let Ok(mut updates) = task.updates().await else {
        return;
    };
    while let Some(Ok(state)) = updates.next().await {
        let percent = state
            .progress()
            .map(|p| format!(" {p:.0}%"))
            .unwrap_or_default();
        spinner.set_message(format!(
            "task {} {}{percent}: {}",
            task.id().as_str(),
            state.status_str(),
            state.name().unwrap_or_default()
        ));
    }
}

/// A transfer bar: a percentage when the size is known, else bytes and
/// throughput. Hidden when stderr is not a terminal.
fn bar(total: Option<u64>) -> ProgressBar {
    let (bar, template) = match total {
        Some(t) => (
            ProgressBar::new(t),
            "{wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {bytes} {bytes_per_sec} {elapsed}",
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

async fn upload(path: &PathBuf) -> Result<Body, Failure> {
    let body = Body::from_file(path).await?;
    let progress = bar(body.length());
    Ok(body.on_progress(move |p| {
        progress.set_position(p.bytes);
        if Some(p.bytes) == p.total {
            progress.finish_and_clear();
        }
    }))
}

async fn download(request: Request, path: Option<PathBuf>) -> Result<(), Failure> {
    let Some(path) = path else {
        if std::io::stdout().is_terminal() {
            return Err(Failure::new(
                Exit::Usage,
                "not writing binary data to a terminal: use -o FILE, or redirect stdout",
            ));
        }
        request
            .send_stream()
            .await?
            .write_to(tokio::io::stdout())
            .await?;
        return Ok(());
    };
    let stream = request.send_stream().await?;
    let progress = bar(stream.content_length());
    let p2 = progress.clone();
    let saved = stream
        .on_progress(move |p| p2.set_position(p.bytes))
        .save_to(&path)
        .await;
    progress.finish_and_clear();
    let bytes = saved?;
    eprintln!("{bytes} bytes written to {}", path.display());
    Ok(())
}

/// Print to stdout; a closed pipe (`xo … | head`) is not an error.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::new(
            Exit::Io,
            format!("cannot write to stdout: {e}"),
        )),
        _ => Ok(()),
    }
}
