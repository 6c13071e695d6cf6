//! The real `xo` binary against a started xo-sim: output formats, fields
//! and filters, actions and their tasks, exports and imports (checked byte
//! for byte), the event stream, profiles, confirmations, value parsing and
//! exit statuses. Every command's stdout and stderr are checked for the
//! token.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use xo_sim::Sim;

/// What one run of `xo` gave.
struct Run {
    code: i32,
    bytes: Vec<u8>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// `xo ARGS` with the simulator in the environment (and no config file).
fn xo(sim: &Sim, args: &[&str]) -> Run {
    xo_with(
        sim,
        args,
        &[("XO_URL", &sim.url()), ("XO_TOKEN", sim.token())],
    )
}

/// `xo ARGS` with exactly these variables of ours set.
fn xo_with(sim: &Sim, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xo"));
    cmd.args(args).stdin(Stdio::null());
    for k in [
        "XO_URL",
        "XO_TOKEN",
        "XO_PROFILE",
        "XO_CA_CERT",
        "XO_INSECURE",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("XO_CONFIG", "/nonexistent/xo-cli-test/config.toml");
    for (k, v) in env {
        cmd.env(k, v);
    }
    finish(sim, cmd.output().expect("run xo"), args)
}

fn finish(sim: &Sim, out: Output, args: &[&str]) -> Run {
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        bytes: out.stdout.clone(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(sim.token()) && !run.stderr.contains(sim.token()),
        "the token shows in the output of xo {args:?}"
    );
    run
}

fn ok(sim: &Sim, args: &[&str]) -> Run {
    let run = xo(sim, args);
    assert_eq!(run.code, 0, "xo {args:?}: {}", run.stderr);
    run
}

fn vm_in(sim: &Sim, state: &str) -> String {
    sim.objects("vms")
        .into_iter()
        .find(|v| v["power_state"] == state)
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("a {state} VM"))
}

fn power_state(sim: &Sim, id: &str) -> String {
    sim.object("vms", id).unwrap()["power_state"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xo-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn sim() -> Sim {
    Sim::builder().start().await.expect("xo-sim starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_in_every_format_with_fields_filter_and_limit() {
    let sim = sim().await;
    let vms = sim.objects("vms");

    let table = ok(&sim, &["vms", "list"]);
    let mut lines = table.stdout.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["ID", "NAME_LABEL"]
    );
    assert_eq!(lines.count(), vms.len());
    assert!(
        table
            .stdout
            .contains(vms[0]["name_label"].as_str().unwrap())
    );

    let json = ok(&sim, &["vms", "list", "-o", "json"]).json();
    assert_eq!(json.as_array().unwrap().len(), vms.len());

    let ndjson = ok(
        &sim,
        &["vms", "list", "-o", "ndjson", "--fields", "id,power_state"],
    );
    let items: Vec<Value> = ndjson
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), vms.len());
    assert!(
        items
            .iter()
            .all(|i| i["power_state"].is_string() && i.get("name_label").is_none())
    );

    let md = ok(
        &sim,
        &[
            "vms",
            "list",
            "-o",
            "markdown",
            "--fields",
            "name_label,power_state",
        ],
    );
    assert!(
        md.stdout
            .starts_with("| name_label | power_state |\n| --- | --- |\n"),
        "{}",
        md.stdout
    );

    let halted = ok(
        &sim,
        &[
            "vms",
            "list",
            "--filter",
            "power_state:Halted",
            "-o",
            "json",
            "--fields",
            "power_state",
        ],
    )
    .json();
    let expected = vms.iter().filter(|v| v["power_state"] == "Halted").count();
    assert_eq!(halted.as_array().unwrap().len(), expected);
    assert!(
        halted
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["power_state"] == "Halted")
    );

    let limited = ok(&sim, &["vms", "list", "--limit", "3", "-o", "ndjson"]);
    assert_eq!(limited.stdout.lines().count(), 3);

    let id = vms[0]["id"].as_str().unwrap();
    let one = ok(&sim, &["vms", "get", id, "-o", "json"]).json();
    assert_eq!(one["id"], id);
    let fields = ok(&sim, &["vms", "get", id]);
    assert!(
        fields.stdout.starts_with("FIELD"),
        "a single object is a field/value table"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_follow_their_task_and_fail_with_status_1() {
    let sim = sim().await;
    let vm = vm_in(&sim, "Halted");
    ok(&sim, &["vms", "start", &vm]);
    assert_eq!(power_state(&sim, &vm), "Running");

    // Starting a running VM: the task fails, and so does xo.
    let again = xo(&sim, &["vms", "start", &vm]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(
        again.stderr.contains("VM_BAD_POWER_STATE"),
        "{}",
        again.stderr
    );

    // --no-wait prints the task id; `xo tasks wait` follows it.
    let task = ok(&sim, &["vms", "hard-shutdown", &vm, "--no-wait"])
        .stdout
        .trim()
        .to_owned();
    assert!(
        !task.is_empty() && !task.contains(char::is_whitespace),
        "{task:?}"
    );
    ok(&sim, &["tasks", "wait", &task]);
    assert_eq!(power_state(&sim, &vm), "Halted");
    let failed = xo(&sim, &["vms", "hard-shutdown", &vm, "--no-wait"])
        .stdout
        .trim()
        .to_owned();
    assert_eq!(xo(&sim, &["tasks", "wait", &failed]).code, 1);

    // An action with a result: the snapshot's id.
    let snap = ok(
        &sim,
        &[
            "vms",
            "snapshot",
            &vm,
            "--name-label",
            "before",
            "-o",
            "json",
        ],
    )
    .json();
    let snap_id = snap["id"].as_str().expect("the snapshot id");
    assert_eq!(
        sim.object("vm-snapshots", snap_id).unwrap()["name_label"],
        "before"
    );
    // In a table, a result that is only an id is the bare id.
    let bare = ok(&sim, &["vms", "snapshot", &vm, "--name-label", "after"]);
    let bare = bare.stdout.trim();
    assert!(sim.object("vm-snapshots", bare).is_some(), "{bare:?}");

    // A boolean flag alone is true, and a bad one is a usage error.
    assert_eq!(
        xo(
            &sim,
            &["vms", "snapshot", &vm, "--name-label=x", "--no-wait=yes"]
        )
        .code,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_creates_and_dangerous_operations() {
    let sim = sim().await;
    let vm = vm_in(&sim, "Halted");
    ok(
        &sim,
        &[
            "vms",
            "update",
            &vm,
            "--name-label",
            "renamed",
            "--tags",
            "a,b",
        ],
    );
    let obj = sim.object("vms", &vm).unwrap();
    assert_eq!(obj["name_label"], "renamed");
    assert_eq!(obj["tags"], serde_json::json!(["a", "b"]));

    let group = ok(&sim, &["groups", "create", "--name", "cli-test-group"])
        .stdout
        .trim()
        .to_owned();
    assert_eq!(
        sim.object("groups", &group).unwrap()["name"],
        "cli-test-group"
    );

    // Dangerous: refused without --yes when nobody can be asked.
    let refused = xo(&sim, &["groups", "delete", &group]);
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"));
    assert!(sim.object("groups", &group).is_some());
    ok(&sim, &["groups", "delete", &group, "--yes"]);
    assert!(sim.object("groups", &group).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_are_usage_errors_naming_the_flag() {
    let sim = sim().await;
    let vm = vm_in(&sim, "Halted");
    let bad_int = xo(&sim, &["vms", "update", &vm, "--cpus", "four"]);
    assert_eq!(bad_int.code, 2);
    assert!(
        bad_int
            .stderr
            .contains("invalid value 'four' for '--cpus <INTEGER>'"),
        "{}",
        bad_int.stderr
    );
    let bad_enum = xo(
        &sim,
        &["vms", "export", &vm, "--format", "qcow2", "-o", "/dev/null"],
    );
    assert_eq!(bad_enum.code, 2);
    assert!(
        bad_enum.stderr.contains("[possible values: xva, ova]"),
        "{}",
        bad_enum.stderr
    );
    let bad_json = xo(
        &sim,
        &[
            "vms",
            "update",
            &vm,
            "--blocked-operations",
            "{destroy: true",
        ],
    );
    assert_eq!(bad_json.code, 2);
    assert!(
        bad_json.stderr.contains("not valid JSON"),
        "{}",
        bad_json.stderr
    );
    let missing = xo(&sim, &["vms", "start"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("<ID>"), "{}", missing.stderr);
    // The API's own refusal (an unknown VM) is status 1.
    assert_eq!(xo(&sim, &["vms", "get", "no-such-vm"]).code, 1);
}

/// FNV-1a 64, the checksum xo-sim records of every import.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn free_vdi(sim: &Sim) -> String {
    let attached: Vec<String> = sim
        .objects("vbds")
        .into_iter()
        .filter(|b| b["attached"] == true)
        .filter_map(|b| b["VDI"].as_str().map(str::to_owned))
        .collect();
    sim.objects("vdis")
        .into_iter()
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .find(|id| !attached.contains(id))
        .expect("a VDI without attached VBD")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_and_imports_stream_to_and_from_files() {
    let size = 3 * 1024 * 1024 + 5;
    let sim = Sim::builder().export_size(size).start().await.unwrap();
    let dir = temp_dir("transfer");
    let vm = vm_in(&sim, "Halted");
    let file = dir.join("vm.xva");
    let export = ok(
        &sim,
        &[
            "vms",
            "export",
            &vm,
            "--format",
            "xva",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        export.stderr.contains(&format!("{size} bytes written")),
        "{}",
        export.stderr
    );
    let expected = xo_sim::export_bytes(&xo_sim::export_key(&vm, "xva", None), size);
    assert_eq!(fnv1a64(&std::fs::read(&file).unwrap()), fnv1a64(&expected));

    // To stdout when it is not a terminal.
    let piped = xo(
        &sim,
        &[
            "vms",
            "export",
            &vm,
            "--format",
            "xva",
            "--compress",
            "zstd",
        ],
    );
    assert_eq!(piped.code, 0);
    let zstd = xo_sim::export_bytes(&xo_sim::export_key(&vm, "xva", Some("zstd")), size);
    assert_eq!(fnv1a64(&piped.bytes), fnv1a64(&zstd));

    let vdi = free_vdi(&sim);
    let image = dir.join("disk.raw");
    let data: Vec<u8> = (0..1_000_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&image, &data).unwrap();
    ok(
        &sim,
        &[
            "vdis",
            "import",
            &vdi,
            "--format",
            "raw",
            image.to_str().unwrap(),
        ],
    );
    let rec = sim.imports().pop().expect("an import");
    assert!(rec.accepted && rec.route.starts_with("PUT "));
    assert_eq!(
        (rec.bytes, rec.content_length, rec.fnv1a64),
        (data.len() as u64, Some(data.len() as u64), fnv1a64(&data))
    );

    let missing = xo(
        &sim,
        &[
            "vdis",
            "import",
            &vdi,
            "--format",
            "raw",
            dir.join("nope").to_str().unwrap(),
        ],
    );
    assert_eq!(missing.code, 4, "{}", missing.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_watch_shows_changes_until_count() {
    let sim = sim().await;
    let vm = vm_in(&sim, "Halted");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xo"))
        .args([
            "events",
            "watch",
            "vm",
            "--fields",
            "name_label",
            "--count",
            "2",
            "-o",
            "ndjson",
        ])
        .env("XO_URL", sim.url())
        .env("XO_TOKEN", sim.token())
        .env("XO_CONFIG", "/nonexistent/xo-cli-test/config.toml")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut ready = String::new();
    tokio::task::block_in_place(|| stderr.read_line(&mut ready)).unwrap();
    assert!(ready.starts_with("watching VM"), "{ready:?}");
    for name in ["first", "second", "third"] {
        sim.update_object("vms", &vm, |o| {
            o.insert("name_label".into(), name.into());
        })
        .unwrap();
    }
    let out = tokio::task::block_in_place(|| child.wait_with_output()).unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "--count 2");
    assert_eq!(lines[0]["event"], "update");
    assert_eq!(lines[0]["collection"], "VM");
    assert_eq!(lines[0]["object"]["id"], vm.as_str());
    assert_eq!(lines[1]["object"]["name_label"], "second");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(sim.token()));
}

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_from_the_config_file_and_the_environment() {
    let sim = sim().await;
    let dir = temp_dir("profiles");
    let url = sim.url();
    let config = write_config(
        &dir,
        &format!(
            "default_profile = \"lab\"\n\n[profiles.lab]\nurl = \"{url}\"\ntoken = \"{}\"\n\n[profiles.stale]\nurl = \"{url}\"\ntoken = \"expired-token\"\n",
            sim.token()
        ),
    );
    let only_config = [("XO_CONFIG", config.as_str())];
    // The default profile.
    let listed = xo_with(&sim, &["pools", "list", "-o", "json"], &only_config);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    // A named one: its token is refused, status 3.
    let stale = xo_with(&sim, &["pools", "list", "--profile", "stale"], &only_config);
    assert_eq!(stale.code, 3, "{}", stale.stderr);
    assert!(!stale.stderr.contains("expired-token"));
    // The environment wins over the default profile, not over --profile.
    let env_over = [
        ("XO_CONFIG", config.as_str()),
        ("XO_TOKEN", "expired-token"),
    ];
    assert_eq!(xo_with(&sim, &["pools", "list"], &env_over).code, 3);
    assert_eq!(
        xo_with(&sim, &["pools", "list", "--profile", "lab"], &env_over).code,
        0
    );
    let env_fix = [("XO_CONFIG", config.as_str()), ("XO_TOKEN", sim.token())];
    let fixed = xo_with(&sim, &["pools", "list", "--profile", "stale"], &env_fix);
    assert_eq!(fixed.code, 3, "--profile is used as it is");
    // Unknown profile, no configuration at all: status 3 and a hint.
    let unknown = xo_with(&sim, &["pools", "list", "--profile", "prod"], &only_config);
    assert_eq!(unknown.code, 3);
    assert!(
        unknown.stderr.contains("no profile `prod`"),
        "{}",
        unknown.stderr
    );
    let nothing = xo_with(&sim, &["pools", "list"], &[]);
    assert_eq!(nothing.code, 3);
    assert!(nothing.stderr.contains("XO_URL"), "{}", nothing.stderr);
    // `xo profiles` never shows a token.
    let profiles = xo_with(&sim, &["profiles"], &only_config);
    assert!(profiles.stdout.contains("lab (default)") && profiles.stdout.contains("stale"));
    assert!(!profiles.stdout.contains("expired-token"));
    // A broken file: status 3, and the line, not its text.
    let broken = write_config(&dir, &format!("[profiles.x]\ntoken = \"{}\n", sim.token()));
    let bad = xo_with(&sim, &["pools", "list"], &[("XO_CONFIG", broken.as_str())]);
    assert_eq!(bad.code, 3, "{}", bad.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_for_three_shells() {
    let sim = sim().await;
    for shell in ["bash", "zsh", "fish"] {
        let run = xo_with(&sim, &["completions", shell], &[]);
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains("hard-shutdown"), "{shell}");
    }
    assert_eq!(xo_with(&sim, &["completions", "tcsh"], &[]).code, 2);
}
