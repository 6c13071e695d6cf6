// TEMPORARY stub until xo-codegen is wired in.
fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("xo_api.rs");
    std::fs::write(&out, r#"
/// The API description.
pub static API: crate::runtime::ApiSpec = crate::runtime::ApiSpec { name: "xen-orchestra", version: None, base_path: "/rest/v0", auth: crate::runtime::AuthSpec::Header { name: "Cookie", prefix: "authenticationToken=" } };
"#).unwrap();
}
