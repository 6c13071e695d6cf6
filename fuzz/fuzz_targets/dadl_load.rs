//! The DADL loader, overlay merge and lowering (`xo_codegen::analyze`), and
//! the emitter on what lowers, on arbitrary YAML: errors are fine, panics
//! are not. The input is a DADL file, optionally followed by a line `#8<`
//! and an overlay. Both are written to a private directory, so the DADL
//! may include the overlay file (`overlay.yaml`) as a fragment; inputs
//! whose includes point anywhere else are skipped (no reads outside it).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "altstack.rs"]
mod altstack;
use serde_json::Value;

const CUT: &str = "\n#8<\n";

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("xo-fuzz-dadl-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

/// Every include path is a bare file name of the directory.
fn acceptable(text: &str) -> bool {
    let Ok(doc) = xo_codegen::yaml::parse(text, "dadl.yaml") else {
        return true; // load fails the same way before reading anything
    };
    let Some(Value::Array(items)) = doc.value.get("includes") else {
        return true;
    };
    items.iter().all(|i| match i.get("path") {
        Some(Value::String(p)) => !p.contains(['/', '\\']) && !p.starts_with('.'),
        _ => true,
    })
}

fuzz_target!(|input: &[u8]| {
    altstack::install();
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let (dadl, overlay) = match text.split_once(CUT) {
        Some((d, o)) => (d, Some(o)),
        None => (text, None),
    };
    if !acceptable(dadl) {
        return;
    }
    let dir = dir();
    let dadl_path = dir.join("dadl.yaml");
    let overlay_path = dir.join("overlay.yaml");
    std::fs::write(&dadl_path, dadl).unwrap();
    std::fs::write(&overlay_path, overlay.unwrap_or("_fragment: true\n")).unwrap();
    let mut input = xo_codegen::Input::new(&dadl_path);
    if overlay.is_some() {
        input = input.with_overlay(&overlay_path);
    }
    if let Ok(api) = xo_codegen::analyze(&input) {
        let _ = xo_codegen::tool_lines(&api);
        let _ = xo_codegen::typed_lines(&api);
        let _ = xo_codegen::emit::emit(&api, xo_codegen::Target::Standalone);
    }
});
