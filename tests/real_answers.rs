//! Every answer recorded from a real xo-server (`conformance/real/
//! corpus.jsonl`, written by `scripts/xo-real/record.py`) decodes into the
//! SDK's typed result for its operation, or gives the typed error its
//! status calls for.
//!
//! Each recorded answer is served again, byte for byte (status, content
//! type, `Location`, body), by a loopback HTTP server; the SDK calls the
//! operation's route over HTTP and the generated `ANSWERS` check of that
//! operation decodes the answer as its `send()` does (references, objects,
//! NDJSON lines or Markdown for a collection as the recorded query asked;
//! a task or the sync output for an action; the new id for a create; the
//! declared model otherwise). Prints `real answers decode: N/N`.

mod support;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use support::{Reply, Server};
use xo_sdk::Error;

struct Exchange {
    seq: u64,
    tool: String,
    method: String,
    path: String,
    query: String,
    status: u16,
    location: Option<String>,
    reply: Reply,
    /// The text of XO's `error` for a JSON error answer.
    error_text: Option<String>,
}

fn corpus() -> (Value, Vec<Exchange>, Vec<String>) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/real/corpus.jsonl");
    let text = std::fs::read_to_string(&path).expect("the recorded corpus");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("a header")).unwrap();
    let mut exchanges = Vec::new();
    let mut skipped = Vec::new();
    for line in lines {
        let e: Value = serde_json::from_str(line).unwrap();
        let seq = e["seq"].as_u64().unwrap();
        let Some(tool) = e["tool"].as_str() else {
            skipped.push(format!(
                "seq={seq}: no operation of the SDK ({} {})",
                e["request"]["method"], e["request"]["path"]
            ));
            continue;
        };
        let response = &e["response"];
        if response["truncated"] == true {
            skipped.push(format!(
                "seq={seq} {tool}: the recorder kept only the answer's first 64 KiB"
            ));
            continue;
        }
        let query = e["request"]["query"].as_str().unwrap_or("");
        if tool.ends_with("dashboard") && query.contains("ndjson=true") {
            skipped.push(format!(
                "seq={seq} {tool}: a request the SDK cannot make (the dashboard as NDJSON, one property per line; see the errata)"
            ));
            continue;
        }
        let Some(status) = response["status"].as_u64() else {
            skipped.push(format!(
                "seq={seq} {tool}: XO never answered (recorded timeout)"
            ));
            continue;
        };
        let body = match (&response["json"], response["text"].as_str()) {
            (_, Some(text)) => text.as_bytes().to_vec(),
            (Value::Null, None) => Vec::new(),
            (json, None) => serde_json::to_vec(json).unwrap(),
        };
        let mut headers = Vec::new();
        if let Some(ct) = response["content_type"].as_str() {
            headers.push(("content-type".to_owned(), ct.to_owned()));
        }
        if let Some(location) = response["location"].as_str() {
            headers.push(("location".to_owned(), location.to_owned()));
        }
        exchanges.push(Exchange {
            seq,
            tool: tool.to_owned(),
            method: e["request"]["method"].as_str().unwrap().to_owned(),
            path: e["request"]["path"].as_str().unwrap().to_owned(),
            query: e["request"]["query"].as_str().unwrap_or("").to_owned(),
            status: status as u16,
            location: response["location"].as_str().map(str::to_owned),
            reply: Reply::Respond {
                status: status as u16,
                headers,
                body,
            },
            error_text: response["json"]["error"].as_str().map(str::to_owned),
        });
    }
    (header, exchanges, skipped)
}

/// What the SDK made of one replayed answer; `Err` says why it is wrong.
async fn check(client: &xo_sdk::Client, first: &Exchange, e: &Exchange) -> Result<String, String> {
    let spec = xo_sdk::OPERATIONS
        .iter()
        .find(|s| s.tool == e.tool)
        .ok_or("no such operation in the SDK")?;
    let (_, decode) = xo_sdk::ANSWERS
        .iter()
        .find(|(tool, _)| *tool == e.tool)
        .ok_or("no answer check for the operation")?;
    let request = xo_sdk::xo::replay::request(client, spec, &first.path).ok_or_else(|| {
        format!(
            "the path does not fit the operation's template {}",
            spec.path
        )
    })?;
    let answer = request.send_response().await;
    match (e.status, answer) {
        (200..=299, Ok(raw)) => decode(client, &raw, &e.query)
            .map(str::to_owned)
            .map_err(|err| format!("HTTP {} did not decode: {err}", e.status)),
        (200..=299, Err(err)) => Err(format!("HTTP {} gave an error: {err}", e.status)),
        (300..=399, Err(Error::Redirect { status, .. })) if status == e.status => {
            Ok(format!("Error::Redirect {status}"))
        }
        (400..=599, Err(Error::Api(api))) => {
            if api.status != e.status {
                return Err(format!(
                    "HTTP {} became Error::Api {}",
                    e.status, api.status
                ));
            }
            if let Some(text) = &e.error_text {
                if api.message.as_ref().and_then(Value::as_str) != Some(text.as_str()) {
                    return Err(format!("XO's error text {text:?} became {:?}", api.message));
                }
            }
            Ok(format!("Error::Api {} {}", api.status, api.code))
        }
        (status, Ok(raw)) => Err(format!("HTTP {status} answered Ok({})", raw.status)),
        (status, Err(err)) => Err(format!("HTTP {status} gave {err}")),
    }
}

#[tokio::test]
async fn recorded_real_answers_decode() {
    let (header, exchanges, skipped) = corpus();
    // The answers to serve next, in order (a redirect and its target).
    let queue: Arc<Mutex<VecDeque<Reply>>> = Arc::default();
    let serving = queue.clone();
    let server = Server::start(move |_, _| {
        serving
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Reply::status(599))
    })
    .await;
    // No retries: one recorded answer, one request.
    let client = xo_sdk::Client::builder(server.url())
        .token("replay")
        .retry(xo_sdk::RetryConfig::disabled())
        .build()
        .unwrap();

    let mut failures = Vec::new();
    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    let mut tools = std::collections::BTreeSet::new();
    let mut i = 0;
    while i < exchanges.len() {
        let e = &exchanges[i];
        i += 1;
        let mut replies = VecDeque::from([e.reply.clone()]);
        // XO answers `/users/me/…` with a 307 to the caller's own path; the
        // SDK follows it, and the corpus holds the followed exchange next.
        let followed = exchanges.get(i).filter(|next| {
            (300..400).contains(&e.status)
                && next.tool == e.tool
                && e.location.as_deref() == Some(next.path.as_str())
        });
        if let Some(next) = followed {
            replies.push_back(next.reply.clone());
            i += 1;
        }
        let target = followed.unwrap_or(e);
        *queue.lock().unwrap() = replies;
        let before = server.count();
        match check(&client, e, target).await {
            Ok(what) => {
                tools.insert(e.tool.clone());
                let what = match followed {
                    Some(_) => format!("{} after a followed {}", what, e.status),
                    None => what,
                };
                *by_outcome.entry(what).or_default() += 1 + usize::from(followed.is_some());
            }
            Err(why) => failures.push(format!(
                "FAIL seq={} {} {} {}{}: {why}",
                e.seq,
                e.tool,
                e.method,
                e.path,
                if e.query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", e.query)
                }
            )),
        }
        assert_eq!(
            server.count(),
            before + 1 + usize::from(followed.is_some()),
            "seq={}: one request per recorded answer",
            e.seq
        );
    }
    let passed = exchanges.len() - failures.len();
    println!(
        "real answers decode: {passed}/{} (xo-server {}, {} operations)",
        exchanges.len(),
        header["server"]["xo_server"].as_str().unwrap_or("?"),
        tools.len()
    );
    for (what, n) in &by_outcome {
        println!("  {n:4} {what}");
    }
    for s in &skipped {
        println!("  SKIP {s}");
    }
    for f in &failures {
        println!("{f}");
    }
    assert!(
        exchanges.len() >= 150,
        "the corpus has {} answers",
        exchanges.len()
    );
    assert!(
        failures.is_empty(),
        "{} recorded answers do not decode",
        failures.len()
    );
}
