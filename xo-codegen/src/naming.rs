//! The one naming rule from DADL names to Rust names.
//!
//! 1. A name is split into lower-case words at every character that is not
//!    an ASCII letter or digit and at lower→upper case changes
//!    (`srIdByVdiId` → `sr id by vdi id`, `vm-snapshots` → `vm snapshots`).
//! 2. Snake case joins the words with `_`, Pascal case capitalises them.
//! 3. A name that starts with a digit is prefixed with `n` / `N`; an empty
//!    name becomes `unnamed` / `Unnamed`.
//! 4. Rust keywords, and the names a generated builder uses itself
//!    ([`RESERVED_MEMBERS`]), get a trailing `_` (`type` → `type_`,
//!    `self` → `self_`, `Self` → `Self_`).
//! 5. Resources: an operation belongs to the module named after the first
//!    literal segment of its path (`/vm-snapshots/{id}` → `vm_snapshots`).
//! 6. Methods: the tool's words minus the first occurrence of the resource's
//!    plural words, else of its singular words (`list_vm_alarms` on `vms` →
//!    `list_alarms`; `snapshot_vm` → `snapshot`). If nothing is left, if the
//!    result is a method every service already has ([`SERVICE_MEMBERS`]:
//!    `clone_vm` would shadow `Clone::clone`), or if two tools of one
//!    resource would get the same method, those tools keep their whole
//!    snake-case name (`clone_vm`).
//! 7. Request builder types are the Pascal-case tool name (`ListVmAlarms`);
//!    their spec tables the upper-case tool name (`LIST_VM_ALARMS`); the
//!    service of a resource is its Pascal-case segment plus `Service`
//!    (`vm-snapshots` → `vm_snapshots::VmSnapshotsService`).
//! 8. Parameters of one tool in different places (path, query, header,
//!    body) that get the same snake-case name are all suffixed with their
//!    place (`linodeId` in the path, `linode_id` in the body →
//!    `linode_id_path`, `linode_id_body`); see `lower::operations`.

/// Rust keywords (strict and reserved, 2024 edition).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "union",
];

/// Names generated request builders use for their own members; a parameter
/// with one of these names gets a trailing `_`.
pub const RESERVED_MEMBERS: &[&str] = &[
    "client",
    "new",
    "send",
    "send_as",
    "send_value",
    "into_request",
    "with_call_options",
    "call_options",
    "body",
];

/// Methods every generated service has through its derives or inherent
/// impl; a stripped tool name equal to one of them keeps its full name.
pub const SERVICE_MEMBERS: &[&str] = &["clone", "clone_from", "fmt", "new", "to_owned"];

/// Split a name into lower-case words (rule 1).
pub fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev = None;
            continue;
        }
        let boundary = match prev {
            Some(p) if c.is_ascii_uppercase() => {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    // `HTTPServer`: split before the last capital of a run
                    // followed by lower case, except for an acronym's plural
                    // `s` (`VDIs`, `CPUsCount`).
                    || (p.is_ascii_uppercase()
                        && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())
                        && !is_plural_s(&chars, i + 1))
            }
            _ => false,
        };
        if boundary && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_lowercase());
        prev = Some(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// `chars[i]` is an `s` that ends a word (`VDIs`, `PIFsOf`).
fn is_plural_s(chars: &[char], i: usize) -> bool {
    chars[i] == 's' && chars.get(i + 1).is_none_or(|n| !n.is_ascii_lowercase())
}

pub(crate) fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

fn finish(mut s: String, digit_prefix: &str, empty: &str) -> String {
    if s.is_empty() {
        return empty.to_owned();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, digit_prefix);
    }
    if is_keyword(&s) {
        s.push('_');
    }
    s
}

/// Snake-case identifier (rules 1–4, keywords only).
pub fn snake(name: &str) -> String {
    finish(words(name).join("_"), "n", "unnamed")
}

/// Snake-case identifier of a builder member (parameter setter/argument).
pub fn member(name: &str) -> String {
    let mut s = snake(name);
    if RESERVED_MEMBERS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Pascal-case type name.
pub fn pascal(name: &str) -> String {
    let s: String = words(name)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect();
    finish(s, "N", "Unnamed")
}

/// Module names the generated code uses itself, and methods of the client
/// (a module's name is also its accessor, `client.vms()`); a resource that
/// would get one of them gets a trailing `_` (`/types` → `types_`).
pub const RESERVED_MODULES: &[&str] = &[
    "types",
    "tool_index",
    "builder",
    "from_runtime",
    "from_env",
    "builder_for",
    "builder_for_url",
    "from_env_for",
    "base_url",
    "api",
    "request",
    "clone",
    "clone_from",
    "fmt",
    "to_owned",
];

/// Module name of a resource segment (rules 4 and 5).
pub fn module(segment: &str) -> String {
    let mut m = snake(segment);
    if RESERVED_MODULES.contains(&m.as_str()) {
        m.push('_');
    }
    m
}

/// Service type name of a resource segment (rule 7).
pub fn service(segment: &str) -> String {
    let base = pascal(segment);
    format!("{}Service", base.trim_end_matches('_'))
}

/// Upper snake case constant name.
pub fn upper(name: &str) -> String {
    let s = words(name).join("_").to_ascii_uppercase();
    finish(s, "N", "UNNAMED")
}

/// The singular of a resource segment's words (`repositories` →
/// `repository`, `vms` → `vm`, `dashboard` → `dashboard`).
pub fn singular(words: &[String]) -> Vec<String> {
    let mut out = words.to_vec();
    if let Some(last) = out.last_mut() {
        *last = if let Some(stem) = last.strip_suffix("ies") {
            format!("{stem}y")
        } else if last.ends_with("sses") || last.ends_with("xes") {
            last[..last.len() - 2].to_owned()
        } else if last.ends_with('s') && !last.ends_with("ss") && last.len() > 1 {
            last[..last.len() - 1].to_owned()
        } else {
            last.clone()
        };
    }
    out
}

/// The resource segment of a path (rule 5): its first literal segment, or
/// `""` when it has none.
pub fn resource_segment(path: &str) -> &str {
    path.split('/')
        .find(|s| !s.is_empty() && !s.starts_with('{'))
        .map(|s| s.split(['{', '.']).next().unwrap_or(s))
        .filter(|s| !s.is_empty())
        .unwrap_or("")
}

/// The method name of a tool in its resource before collision handling
/// (rule 6), or `None` when stripping leaves nothing.
pub fn method_name(tool: &str, segment: &str) -> Option<String> {
    let tool_words = words(tool);
    let plural = words(segment);
    let single = singular(&plural);
    for needle in [&plural, &single] {
        if needle.is_empty() || needle.len() > tool_words.len() {
            continue;
        }
        if let Some(pos) = tool_words
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
        {
            let mut rest = tool_words.clone();
            rest.drain(pos..pos + needle.len());
            if rest.is_empty() {
                return None;
            }
            return Some(snake(&rest.join("_")));
        }
    }
    Some(snake(tool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split() {
        assert_eq!(words("srIdByVdiId"), ["sr", "id", "by", "vdi", "id"]);
        assert_eq!(words("vm-snapshots"), ["vm", "snapshots"]);
        assert_eq!(words("VDI"), ["vdi"]);
        assert_eq!(words("HTTPServer"), ["http", "server"]);
        assert_eq!(words("CPUs"), ["cpus"]);
        assert_eq!(words("$VBDs"), ["vbds"]);
        assert_eq!(words("PIFsCount"), ["pifs", "count"]);
        assert_eq!(words("$pool"), ["pool"]);
        assert_eq!(words("list_vm_alarms"), ["list", "vm", "alarms"]);
    }

    #[test]
    fn identifiers() {
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("self"), "self_");
        assert_eq!(pascal("self"), "Self_");
        assert_eq!(snake("2fa-code"), "n2fa_code");
        assert_eq!(pascal("2fa"), "N2fa");
        assert_eq!(snake("..."), "unnamed");
        assert_eq!(member("send"), "send_");
        assert_eq!(member("client"), "client_");
        assert_eq!(upper("list_vms"), "LIST_VMS");
    }

    #[test]
    fn methods() {
        assert_eq!(
            method_name("list_vm_alarms", "vms").as_deref(),
            Some("list_alarms")
        );
        assert_eq!(
            method_name("snapshot_vm", "vms").as_deref(),
            Some("snapshot")
        );
        assert_eq!(method_name("list_vms", "vms").as_deref(), Some("list"));
        assert_eq!(
            method_name("get_backup_repository", "backup-repositories").as_deref(),
            Some("get")
        );
        assert_eq!(method_name("ping", "ping"), None);
        assert_eq!(resource_segment("/vms/{id}.xva"), "vms");
        assert_eq!(resource_segment("/x/{id}.{format}"), "x");
        assert_eq!(resource_segment("/{id}"), "");
    }
}
