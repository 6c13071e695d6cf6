//! Pass: the backend-wide settings (base path, authentication) and the
//! policies a tool inherits or overrides as a whole (errors and retries,
//! pagination).

use crate::error::Result;
use crate::ir;
use crate::load::Loaded;
use crate::model::{self, AuthType, InjectInto};
use crate::yaml::pointer_token;

/// The path part of `backend.base_url` (empty when absent or when it has
/// `{VARIABLE}` placeholders: the generated builder then makes the whole
/// URL), and its template when it has placeholders.
pub fn base_url(loaded: &Loaded) -> Result<(String, Option<ir::BaseUrlTemplate>)> {
    let ptr = "/backend/base_url";
    let Some(u) = &loaded.document.backend.base_url else {
        return Ok((String::new(), None));
    };
    let not_url = || loaded.error_at(ptr, format!("`{u}` is not an absolute http(s) URL"));
    if !u.contains(['{', '}']) {
        return Ok((base_path_of(u).ok_or_else(not_url)?, None));
    }
    let variables = url_variables(u).map_err(|m| loaded.error_at(ptr, m))?;
    // With every variable filled by a plain word, the URL must be one the
    // runtime accepts; the values themselves are checked at run time.
    let mut sample = u.clone();
    for v in &variables {
        let value = if v.place == ir::UrlPlace::Origin {
            "https://x"
        } else {
            "x"
        };
        sample = sample.replace(&format!("{{{}}}", v.name), value);
    }
    base_path_of(&sample).ok_or_else(not_url)?;
    let mut seen = std::collections::HashMap::new();
    for v in &variables {
        if let Some(other) = seen.insert(v.rust_name.clone(), v.name.clone()) {
            return Err(loaded.error_at(
                ptr,
                format!(
                    "base URL variables `{other}` and `{}` both become `{}` in Rust; rename one",
                    v.name, v.rust_name
                ),
            ));
        }
    }
    let template = ir::BaseUrlTemplate {
        url: u.clone(),
        variables,
    };
    Ok((String::new(), Some(template)))
}

/// The `{VARIABLE}`s of a base URL: each in the host or in the path, never
/// in the scheme, query or fragment, each once.
fn url_variables(url: &str) -> std::result::Result<Vec<ir::BaseUrlVariable>, String> {
    // `{INSTANCE_URL}/api/v1`: a variable that opens the URL is the whole
    // origin of a self-hosted deployment; what follows is path.
    let (rest, host_end) = if url.starts_with('{') {
        let close = url.find('}').ok_or("unclosed `{` in base URL")?;
        if !(url[close + 1..].is_empty() || url[close + 1..].starts_with('/')) {
            return Err(format!(
                "`{url}`: a variable that opens a base URL is the whole origin (`https://host[:port]`), so a `/` or nothing must follow it"
            ));
        }
        (url, close + 1)
    } else {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| {
                format!("`{url}` starts with neither `http://`, `https://` nor a `{{VARIABLE}}`")
            })?;
        (rest, rest.find('/').unwrap_or(rest.len()))
    };
    if rest.contains(['?', '#']) {
        return Err("a base URL with variables cannot have a query or fragment".into());
    }
    let mut variables: Vec<ir::BaseUrlVariable> = Vec::new();
    let mut at = 0;
    while let Some(open) = rest[at..].find(['{', '}']).map(|i| i + at) {
        if rest.as_bytes()[open] == b'}' {
            return Err("unbalanced `}` in base URL".into());
        }
        let close = rest[open + 1..]
            .find('}')
            .map(|i| i + open + 1)
            .ok_or("unclosed `{` in base URL")?;
        let name = &rest[open + 1..close];
        if name.is_empty()
            || name.contains('{')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!("malformed base URL variable `{{{name}}}`"));
        }
        if variables.iter().any(|v| v.name == name) {
            return Err(format!("base URL variable `{{{name}}}` appears twice"));
        }
        let place = if open == 0 && url.starts_with('{') {
            ir::UrlPlace::Origin
        } else if open >= host_end {
            ir::UrlPlace::Path
        } else if rest[..open].ends_with(':') && close + 1 == host_end {
            ir::UrlPlace::Port
        } else {
            ir::UrlPlace::Host
        };
        variables.push(ir::BaseUrlVariable {
            name: name.to_owned(),
            rust_name: crate::naming::member(name),
            place,
        });
        at = close + 1;
    }
    Ok(variables)
}

/// How credentials are injected, with the defaults of the spec: an API
/// key goes in `X-API-Key`, any other token in `Authorization` behind
/// `Bearer `.
///
/// `credential: none` (a public API: the spec's way to say that no key is
/// needed) is no authentication at all, whatever `inject_into` says.
pub fn auth(loaded: &Loaded, a: &model::Auth) -> Result<ir::Auth> {
    let ptr = "/backend/auth";
    if a.credential.as_deref() == Some("none") && a.kind != AuthType::Basic {
        return Ok(ir::Auth::None);
    }
    Ok(match a.kind {
        AuthType::Basic => ir::Auth::Basic,
        AuthType::Bearer | AuthType::Apikey | AuthType::Oauth2 | AuthType::Session => {
            match a.inject_into.unwrap_or(InjectInto::Header) {
                InjectInto::Query => ir::Auth::Query {
                    param: a.query_param.clone().ok_or_else(|| {
                        loaded.error_at(
                            &format!("{ptr}/inject_into"),
                            "a credential injected into the query needs `query_param`",
                        )
                    })?,
                },
                InjectInto::Header => {
                    let default_header = if a.kind == AuthType::Apikey {
                        "X-API-Key"
                    } else {
                        "Authorization"
                    };
                    let name = a
                        .header_name
                        .clone()
                        .unwrap_or_else(|| default_header.into());
                    let default_prefix = if name.eq_ignore_ascii_case("authorization") {
                        "Bearer "
                    } else {
                        ""
                    };
                    ir::Auth::Header {
                        prefix: a.prefix.clone().unwrap_or_else(|| default_prefix.into()),
                        name,
                    }
                }
            }
        }
    })
}

/// The effective error and retry policy of `errors` (at `ptr`), or the
/// policy of a file without one.
pub fn error_policy(
    loaded: &Loaded,
    ptr: &str,
    errors: Option<&model::Errors>,
) -> Result<ir::ErrorPolicy> {
    let Some(e) = errors else {
        return Ok(ir::ErrorPolicy {
            message_path: None,
            code_path: None,
            retry_on: vec![],
            terminal: vec![],
            max_retries: 0,
            backoff: model::Backoff::Exponential,
            initial_delay_ms: 1000,
            status_map: vec![],
            retry_after_header: None,
        });
    };
    for (field, list) in [("retry_on", &e.retry_on), ("terminal", &e.terminal)] {
        if let Some(bad) = list.iter().find(|s| !(100..=599).contains(*s)) {
            return Err(loaded.error_at(
                &format!("{ptr}/{field}"),
                format!("{bad} is not an HTTP status"),
            ));
        }
    }
    if let Some(both) = e.retry_on.iter().find(|s| e.terminal.contains(s)) {
        return Err(loaded.error_at(
            &format!("{ptr}/terminal"),
            format!("status {both} is both retryable and terminal"),
        ));
    }
    let mut status_map = Vec::new();
    for (status, code) in &e.map {
        let n: u16 = status
            .parse()
            .ok()
            .filter(|n| (400..=599).contains(n))
            .ok_or_else(|| {
                loaded.error_at(
                    &format!("{ptr}/map/{}", pointer_token(status)),
                    format!("`{status}` is not a 4xx/5xx status"),
                )
            })?;
        status_map.push((n, code.clone()));
    }
    let rs = e.retry_strategy.as_ref();
    let initial_delay_ms = match rs.and_then(|r| r.initial_delay.as_deref()) {
        None => 1000,
        Some(d) => duration_ms(d).ok_or_else(|| {
            loaded.error_at(
                &format!("{ptr}/retry_strategy/initial_delay"),
                format!("`{d}` is not a duration (e.g. `500ms`, `2s`, `1m`)"),
            )
        })?,
    };
    let for_retries = !e.retry_on.is_empty();
    Ok(ir::ErrorPolicy {
        message_path: e.message_path.clone(),
        code_path: e.code_path.clone(),
        retry_on: e.retry_on.clone(),
        terminal: e.terminal.clone(),
        max_retries: rs
            .and_then(|r| r.max_retries)
            .unwrap_or(if for_retries { 3 } else { 0 }),
        backoff: rs
            .and_then(|r| r.backoff)
            .unwrap_or(model::Backoff::Exponential),
        initial_delay_ms,
        status_map,
        retry_after_header: e
            .rate_limit
            .as_ref()
            .and_then(|r| r.retry_after_header.clone())
            .or_else(|| for_retries.then(|| "Retry-After".to_owned())),
    })
}

/// The effective pagination of a `pagination` object.
pub fn pagination(p: &model::Pagination) -> ir::Pagination {
    let req = p.request.as_ref();
    ir::Pagination {
        strategy: p.strategy,
        behavior: p.behavior,
        limit_param: req.and_then(|r| r.limit_param.clone()),
        limit_default: req.and_then(|r| r.limit_default),
        max_pages: p.max_pages,
    }
}

/// Parse a DADL duration (`2s`, `500ms`, `1m`, `1h`) into milliseconds.
fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some((n * factor).round() as u64)
}

/// The path of an absolute http(s) URL, without trailing slash.
fn base_path_of(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_end = rest.find('/').unwrap_or(rest.len());
    if host_end == 0 {
        return None;
    }
    let path = &rest[host_end..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    Some(path.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("2s"), Some(2000));
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("1m"), Some(60_000));
        assert_eq!(duration_ms("soon"), None);
    }

    #[test]
    fn base_paths() {
        assert_eq!(
            base_path_of("https://xo.example.com/rest/v0").as_deref(),
            Some("/rest/v0")
        );
        assert_eq!(base_path_of("https://api.example.com").as_deref(), Some(""));
        assert_eq!(base_path_of("api.example.com"), None);
    }

    #[test]
    fn url_templates() {
        let v = url_variables("https://{tenant}.example.com:{port}/api/{api_version}").unwrap();
        let got: Vec<_> = v.iter().map(|v| (v.name.as_str(), v.place)).collect();
        use ir::UrlPlace::*;
        assert_eq!(
            got,
            [("tenant", Host), ("port", Port), ("api_version", Path)]
        );
        let v = url_variables("{BASE_URL}/api/{v}").unwrap();
        let got: Vec<_> = v.iter().map(|v| (v.rust_name.as_str(), v.place)).collect();
        assert_eq!(got, [("base_url", Origin), ("v", Path)]);
        assert!(url_variables("{scheme}://x").is_err());
        assert!(url_variables("{host}.example.com").is_err());
        assert!(url_variables("ftp://{x}").is_err());
        assert!(url_variables("https://x/{a}/{a}").is_err());
        assert!(url_variables("https://x/{a").is_err());
        assert!(url_variables("https://x/a}").is_err());
        assert!(url_variables("https://x/{a b}").is_err());
        assert!(url_variables("https://x/{a}?q=1").is_err());
    }
}
