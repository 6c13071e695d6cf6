//! The argument parser, built at run time from the generated command table:
//! one subcommand per resource, one per operation under it, one argument
//! per parameter with the value parser its type asks for. Usage errors are
//! clap's, exit status 2.

use clap::builder::{BoolValueParser, NonEmptyStringValueParser, PossibleValuesParser};
use clap::{Arg, ArgAction, Command, value_parser};

use crate::table::{Answer, Operation, Param, RESOURCES, Value};

/// The exit statuses, as `xo --help` and the README list them.
pub const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  the API refused the call, the server could not be reached, or the task failed
  2  usage: unknown command, missing or malformed argument
  3  configuration or authentication: no URL or token, unknown profile, 401/403
  4  local file: cannot read the file to import or write the export
  5  not confirmed: a dangerous operation without --yes (or a 'no' at the prompt)";

const CONFIG_HELP: &str = "\
Server and token, first found wins:
  --profile NAME         the profile's url and token (config file below);
                         XO_PROFILE=NAME is the same
  XO_URL, XO_TOKEN       environment (XO_CA_CERT, XO_INSECURE=1 as for xo-sdk)
  default profile        `default_profile` of the config file
Config file: $XO_CONFIG, else $XDG_CONFIG_HOME/xo/config.toml, else
~/.config/xo/config.toml:
  default_profile = \"lab\"
  [profiles.lab]
  url = \"https://xo.lab.example\"
  token = \"...\"          # never printed by xo
  ca_cert = \"/etc/xo/ca.pem\"   # optional
  insecure = false             # optional";

/// Output formats of `-o`.
pub const FORMATS: [&str; 4] = ["table", "json", "ndjson", "markdown"];

/// The whole `xo` command.
pub fn command() -> Command {
    let mut root = Command::new("xo")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Xen Orchestra from the command line: every operation of the REST API")
        .long_about(
            "Xen Orchestra from the command line: every operation of the REST API \
             (generated from the same DADL description as xo-sdk), by resource: \
             `xo vms list`, `xo vms start ID`, `xo hosts disable ID --evacuate`.",
        )
        .after_help(format!("{CONFIG_HELP}\n\n{EXIT_CODES}"))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("profile")
                .long("profile")
                .global(true)
                .help_heading("Global options")
                .value_name("NAME")
                .value_parser(NonEmptyStringValueParser::new())
                .help("Use this profile of the config file"),
        )
        .arg(
            Arg::new("url")
                .long("url")
                .global(true)
                .help_heading("Global options")
                .value_name("URL")
                .value_parser(NonEmptyStringValueParser::new())
                .help("XO's address (instead of XO_URL or the profile's)"),
        )
        .arg(
            Arg::new("yes")
                .long("yes")
                .short('y')
                .global(true)
                .help_heading("Global options")
                .action(ArgAction::SetTrue)
                .help("Run dangerous operations without asking"),
        );
    for resource in RESOURCES {
        let mut cmd = Command::new(resource.name)
            .about(format!("Operations on /{}", resource.name))
            .subcommand_required(true)
            .arg_required_else_help(true);
        for op in resource.operations {
            cmd = cmd.subcommand(operation(op));
        }
        cmd = crate::extra::add_to_resource(resource.name, cmd);
        root = root.subcommand(cmd);
    }
    crate::extra::add_to_root(root)
}

/// The first sentence (or line) of a text, for the short `-h` help.
fn summary(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.find(". ") {
        Some(i) => line[..=i].to_owned(),
        None => line.to_owned(),
    }
}

fn operation(op: &'static Operation) -> Command {
    let mut cmd = Command::new(op.name)
        .about(summary(op.about))
        .long_about(op.about);
    let mut positional = 0;
    for p in op.params {
        cmd = cmd.arg(param(p, positional));
        positional += usize::from(p.positional);
    }
    match op.answer {
        Answer::Bytes => cmd.arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .value_name("FILE")
                .value_parser(value_parser!(std::path::PathBuf))
                .help("Save to FILE (created once complete) instead of writing to stdout"),
        ),
        Answer::Stream => cmd,
        Answer::Action => cmd.arg(format_arg()).arg(
            Arg::new("no-wait")
                .long("no-wait")
                .action(ArgAction::SetTrue)
                .help("Print the task id and exit instead of following the task"),
        ),
        _ => cmd.arg(format_arg()),
    }
}

/// `-o, --output FORMAT`.
pub fn format_arg() -> Arg {
    Arg::new("output")
        .short('o')
        .long("output")
        .value_name("FORMAT")
        .value_parser(PossibleValuesParser::new(FORMATS))
        .default_value("table")
        .help("Output format")
}

/// The argument of `p`; `index` is its place among the positional ones
/// (the first id is `ID`, the next ones are named: `USER-ID`).
fn param(p: &'static Param, index: usize) -> Arg {
    let mut arg = Arg::new(p.flag)
        .help(summary(p.help))
        .long_help(p.help)
        .required(p.required);
    arg = if p.positional {
        arg.value_name(p.flag.to_uppercase())
    } else {
        arg.long(p.flag)
    };
    match p.value {
        Value::String => arg.value_parser(NonEmptyStringValueParser::new()),
        Value::Id(id) => arg
            .long_help(format!("{}\n[an id: {id}]", p.help))
            .value_name(if p.positional && index == 0 {
                "ID".to_owned()
            } else {
                p.flag.to_uppercase()
            })
            .value_parser(NonEmptyStringValueParser::new()),
        Value::Integer => arg.value_name("INTEGER").value_parser(value_parser!(i64)),
        Value::Number => arg.value_name("NUMBER").value_parser(value_parser!(f64)),
        // `--evacuate` alone is `true`; `--evacuate=false` says no.
        Value::Boolean => arg
            .value_name("BOOL")
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .value_parser(BoolValueParser::new()),
        Value::Enum(values) => {
            if !p.positional {
                arg = arg.value_name(p.flag.to_uppercase());
            }
            arg.value_parser(PossibleValuesParser::new(values))
        }
        Value::List => arg.value_name("LIST").value_parser(parse_list),
        Value::Json => arg.value_name("JSON").value_parser(parse_json),
        Value::File => arg
            .value_name("FILE")
            .value_parser(value_parser!(std::path::PathBuf)),
    }
}

/// A JSON argument: parsed here so that a typo is a usage error naming the
/// flag, before anything is sent.
fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))
}

/// `a,b` or `["a","b"]` → a JSON array (text items stay strings: XO's list
/// parameters are lists of ids, tags and names; anything else takes JSON).
fn parse_list(text: &str) -> Result<serde_json::Value, String> {
    if text.trim_start().starts_with('[') {
        return match parse_json(text)? {
            v @ serde_json::Value::Array(_) => Ok(v),
            _ => Err("not a JSON array".to_owned()),
        };
    }
    Ok(serde_json::Value::Array(
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| serde_json::Value::String(s.to_owned()))
            .collect(),
    ))
}
