//! Where `xo` finds its server and token: `--url`/`--profile`, the
//! environment, the config file. The token is kept inside the SDK's
//! builder as soon as it is read and never printed: not in errors, not by
//! `xo profiles`, not in `Debug` output.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use xo_sdk::runtime::{ENV_CA_CERT, ENV_INSECURE, ENV_TOKEN, ENV_URL};

use crate::fail::{Exit, Failure};

/// `$XDG_CONFIG_HOME/xo/config.toml`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile used when neither `--profile` nor `XO_URL` says.
    pub default_profile: Option<String>,
    /// Named servers.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One XO server.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// XO's address.
    pub url: Option<String>,
    /// The authentication token.
    pub token: Option<String>,
    /// PEM file of extra root certificates (a self-signed appliance).
    pub ca_cert: Option<String>,
    /// Skip certificate verification.
    pub insecure: Option<bool>,
}

// By hand, so that no `{:?}` can show the token.
impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_cert", &self.ca_cert)
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// The config file's path: `$XO_CONFIG`, `$XDG_CONFIG_HOME/xo/config.toml`
/// or `$HOME/.config/xo/config.toml`.
pub fn path() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(p) = env("XO_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("xo/config.toml"))
}

/// The config file, empty when there is none.
pub fn load() -> Result<(Option<PathBuf>, ConfigFile), Failure> {
    let Some(path) = path() else {
        return Ok((None, ConfigFile::default()));
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Some(path), ConfigFile::default()));
        }
        Err(e) => {
            return Err(Failure::new(
                Exit::Config,
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    warn_if_readable_by_others(&path);
    // toml's message quotes the offending line, which may be the token's:
    // only its position is kept.
    let file = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!(" at line {}", text[..s.start].lines().count().max(1)))
            .unwrap_or_default();
        Failure::new(
            Exit::Config,
            format!("{} is not a valid config file{at}", path.display()),
        )
    })?;
    Ok((Some(path), file))
}

/// The file holds tokens: say so when others may read it.
#[cfg(unix)]
fn warn_if_readable_by_others(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "xo: warning: {} is readable by other users; it holds tokens (chmod 600 it)",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &std::path::Path) {}

/// The settings of the call: `--profile` alone when given; else the
/// environment, then the default profile, variable by variable.
pub fn resolve(
    profile: Option<&str>,
    url: Option<&str>,
) -> Result<impl Fn(&str) -> Option<String>, Failure> {
    let (path, file) = load()?;
    let where_ = || {
        path.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the config file".to_owned())
    };
    let chosen = match profile {
        Some(name) => Some(file.profiles.get(name).cloned().ok_or_else(|| {
            Failure::new(Exit::Config, format!("no profile `{name}` in {}", where_()))
        })?),
        None => match &file.default_profile {
            Some(name) => Some(file.profiles.get(name).cloned().ok_or_else(|| {
                Failure::new(
                    Exit::Config,
                    format!("default_profile `{name}` is not a profile of {}", where_()),
                )
            })?),
            None => None,
        },
    };
    let explicit = profile.is_some();
    let chosen = chosen.unwrap_or_default();
    let url = url.map(str::to_owned);
    let lookup = move |name: &str| -> Option<String> {
        let env = || {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty() && !explicit)
        };
        let from_profile = match name {
            n if n == ENV_URL => chosen.url.clone(),
            n if n == ENV_TOKEN => chosen.token.clone(),
            n if n == ENV_CA_CERT => chosen.ca_cert.clone(),
            n if n == ENV_INSECURE => chosen.insecure.map(|b| b.to_string()),
            _ => None,
        };
        if name == ENV_URL && url.is_some() {
            return url.clone();
        }
        env().or(from_profile)
    };
    if lookup(ENV_URL).is_none() || lookup(ENV_TOKEN).is_none() {
        let missing = if lookup(ENV_URL).is_none() {
            "URL"
        } else {
            "token"
        };
        return Err(Failure::new(
            Exit::Config,
            format!(
                "no XO {missing}: set {ENV_URL} and {ENV_TOKEN}, use --profile NAME, \
                 or set default_profile in {} (see `xo --help`)",
                where_()
            ),
        ));
    }
    Ok(lookup)
}

/// `xo profiles`: name, URL and whether a token is set, one per line.
pub fn list_profiles() -> Result<String, Failure> {
    let (path, file) = load()?;
    let mut out = String::new();
    if let Some(p) = &path {
        out.push_str(&format!("# {}\n", p.display()));
    }
    for (name, p) in &file.profiles {
        let default = if file.default_profile.as_deref() == Some(name) {
            " (default)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{name}{default}\t{}\ttoken: {}\n",
            p.url.as_deref().unwrap_or("-"),
            if p.token.is_some() { "set" } else { "not set" }
        ));
    }
    Ok(out)
}
