//! `xo-sim` binary: serves the simulator until interrupted.
//!
//! ```text
//! xo-sim [--listen 127.0.0.1:8080] [--task-delay-ms 50] [--export-size BYTES]
//!        [--ping-interval-secs 30] [--export-content-length] [--empty]
//! ```
//!
//! `--empty` starts from the state of a freshly reset xo-server (only the
//! admin user and the built-in ACL role templates) instead of the demo
//! inventory.

use std::net::SocketAddr;
use std::time::Duration;

fn usage() -> ! {
    eprintln!(
        "usage: xo-sim [--listen ADDR] [--task-delay-ms MS] [--export-size BYTES] \
         [--ping-interval-secs S] [--export-content-length] [--empty]"
    );
    std::process::exit(2)
}

fn value<T: std::str::FromStr>(args: &mut impl Iterator<Item = String>, name: &str) -> T {
    match args.next().map(|v| v.parse::<T>()) {
        Some(Ok(v)) => v,
        _ => {
            eprintln!("xo-sim: {name} needs a valid value");
            usage()
        }
    }
}

#[tokio::main]
async fn main() {
    let mut builder = xo_sim::Sim::builder();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => builder = builder.listen(value::<SocketAddr>(&mut args, "--listen")),
            "--task-delay-ms" => {
                builder =
                    builder.task_delay(Duration::from_millis(value(&mut args, "--task-delay-ms")))
            }
            "--export-size" => builder = builder.export_size(value(&mut args, "--export-size")),
            "--ping-interval-secs" => {
                builder = builder.ping_interval(Duration::from_secs(value(
                    &mut args,
                    "--ping-interval-secs",
                )))
            }
            "--export-content-length" => builder = builder.export_content_length(true),
            "--empty" => builder = builder.empty(),
            "-h" | "--help" => usage(),
            other => {
                eprintln!("xo-sim: unknown argument {other}");
                usage()
            }
        }
    }
    let sim = match builder.start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xo-sim: {e}");
            std::process::exit(1)
        }
    };
    let (user, password) = sim.admin_credentials();
    println!("xo-sim listening on {}", sim.url());
    println!("XO_URL={}", sim.url());
    println!("XO_TOKEN={}", sim.token());
    println!("admin: {user} / {password}");
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
}
