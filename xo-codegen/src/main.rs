//! `xo-codegen` command line: check, list, print and generate.

use std::path::PathBuf;
use std::process::ExitCode;

use xo_codegen::{Input, Target};

const USAGE: &str = "usage:
  xo-codegen check FILE [--overlay FILE]        validate; print the tool count
  xo-codegen tools FILE [--overlay FILE]        one line per tool: name, method, path, Rust path
  xo-codegen print FILE [--overlay FILE]        print the generated Rust source
  xo-codegen ir FILE [--overlay FILE]           print the intermediate representation as JSON
  xo-codegen generate FILE [--overlay FILE] --crate-dir DIR [--sdk-path PATH]
                                                write a scratch crate that compiles against xo-sdk";

struct Args {
    command: String,
    input: Input,
    crate_dir: Option<PathBuf>,
    sdk_path: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or("missing command")?;
    let mut file = None;
    let mut overlays = Vec::new();
    let mut crate_dir = None;
    let mut sdk_path = None;
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--overlay" => overlays.push(PathBuf::from(value("--overlay")?)),
            "--crate-dir" => crate_dir = Some(PathBuf::from(value("--crate-dir")?)),
            "--sdk-path" => sdk_path = Some(PathBuf::from(value("--sdk-path")?)),
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if file.is_none() => file = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    let mut input = Input::new(file.ok_or("missing FILE")?);
    for o in overlays {
        input = input.with_overlay(o);
    }
    Ok(Args {
        command,
        input,
        crate_dir,
        sdk_path,
    })
}

fn run(args: Args) -> Result<(), String> {
    let api = xo_codegen::analyze(&args.input).map_err(|e| e.to_string())?;
    for w in &api.warnings {
        eprintln!("warning: {w}");
    }
    match args.command.as_str() {
        "check" => {
            println!(
                "ok: {} tools in {} resources",
                api.operations.len(),
                api.resources.len()
            );
            for line in xo_codegen::typed_lines(&api) {
                println!("{line}");
            }
        }
        "tools" => {
            for line in xo_codegen::tool_lines(&api) {
                println!("{line}");
            }
        }
        "print" => print!("{}", xo_codegen::emit::emit(&api, Target::InCrate)),
        "ir" => println!(
            "{}",
            serde_json::to_string_pretty(&api).map_err(|e| e.to_string())?
        ),
        "generate" => {
            let dir = args.crate_dir.ok_or("generate needs --crate-dir DIR")?;
            let sdk = match args.sdk_path {
                Some(p) => p,
                None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
            };
            let sdk = std::fs::canonicalize(&sdk).map_err(|e| format!("{}: {e}", sdk.display()))?;
            xo_codegen::standalone_crate::write_crate(&api, &dir, &sdk)
                .map_err(|e| e.to_string())?;
            println!("wrote {} ({} tools)", dir.display(), api.operations.len());
        }
        other => return Err(format!("unknown command `{other}`")),
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args() {
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}");
            }
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
        Ok(args) => match run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
