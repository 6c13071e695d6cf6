//! Prism's process: started behind a watchdog, stopped with ours.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{START_TIMEOUT, lock};

pub(super) struct PrismProcess {
    pub(super) addr: SocketAddr,
    /// The watchdog shell; Prism is its child.
    child: Child,
    /// Closing it makes the watchdog stop Prism.
    stdin: Option<ChildStdin>,
    /// Prism's pid, as the watchdog reported it.
    pid: Arc<Mutex<Option<u32>>>,
}

/// Starts Prism in the background and kills it when its stdin reaches EOF
/// (this process ended, or closed the pipe) or when the shell is signalled;
/// then removes the directory of Prism's copy of the document
/// (`XO_SIM_PRISM_TMP`) unless the last line read was `keep` (a retry uses
/// it again).
const WATCHDOG: &str = r#"
"$@" </dev/null &
p=$!
echo "xo-sim-prism-pid $p" >&2
exec >/dev/null 2>&1
trap 'kill "$p" 2>/dev/null' EXIT HUP INT TERM
last=
while IFS= read -r line; do last=$line; done
kill "$p" 2>/dev/null
wait "$p" 2>/dev/null
if [ "$last" != keep ] && [ -n "$XO_SIM_PRISM_TMP" ]; then rm -rf "$XO_SIM_PRISM_TMP"; fi
"#;

impl PrismProcess {
    pub(super) fn spawn(
        prism: &Path,
        spec: &Path,
        upstream: SocketAddr,
    ) -> io::Result<PrismProcess> {
        let mut last = String::new();
        // A free port can be taken between its choice and Prism's bind: retry.
        for _ in 0..3 {
            let port = StdListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(WATCHDOG)
                .env("XO_SIM_PRISM_TMP", spec.parent().unwrap_or(Path::new("")))
                .arg("xo-sim-prism")
                .arg(prism)
                .arg("proxy")
                .arg(spec)
                .arg(format!("http://{upstream}"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                .args(["--multiprocess=false", "--cors=false", "-v", "warn"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| io::Error::new(e.kind(), format!("starting sh for Prism: {e}")))?;
            let tail = Arc::new(Mutex::new(VecDeque::new()));
            let pid = Arc::new(Mutex::new(None));
            let exited = Arc::new(AtomicBool::new(false));
            if let Some(out) = child.stdout.take() {
                drain(out, tail.clone(), None, Some(exited.clone()));
            }
            if let Some(err) = child.stderr.take() {
                drain(err, tail.clone(), Some(pid.clone()), None);
            }
            let stdin = child.stdin.take();
            let mut process = PrismProcess {
                addr,
                child,
                stdin,
                pid,
            };
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                if StdStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Ok(process);
                }
                if exited.load(Ordering::SeqCst) || matches!(process.child.try_wait(), Ok(Some(_)))
                {
                    break;
                }
                if Instant::now() > deadline {
                    process.stop(false);
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "Prism did not listen on {addr} within {START_TIMEOUT:?}: {}",
                            tail_text(&tail)
                        ),
                    ));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            // Prism's pipes may still hold its last words.
            std::thread::sleep(Duration::from_millis(100));
            last = tail_text(&tail);
            process.stop(true);
        }
        Err(io::Error::other(format!("Prism exited: {last}")))
    }

    /// Closes the watchdog's stdin (it kills Prism and removes Prism's copy
    /// of the document unless `keep_files`), waits for it (bounded) and
    /// kills what is left.
    pub(super) fn stop(mut self, keep_files: bool) {
        if let Some(mut stdin) = self.stdin.take() {
            if keep_files {
                let _ = stdin.write_all(b"keep\n");
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(pid) = *lock(&self.pid) {
            // Prism already gone when the watchdog did its job: `kill` fails
            // harmlessly.
            let _ = Command::new("kill")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a pipe to its end in a background thread, keeping the last lines
/// for diagnostics (and Prism's pid from the watchdog's first line).
fn drain(
    pipe: impl io::Read + Send + 'static,
    tail: Arc<Mutex<VecDeque<String>>>,
    pid: Option<Arc<Mutex<Option<u32>>>>,
    ended: Option<Arc<AtomicBool>>,
) {
    let _ = std::thread::Builder::new()
        .name("xo-sim-prism-log".into())
        .spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let (Some(pid), Some(n)) = (&pid, line.strip_prefix("xo-sim-prism-pid ")) {
                    *lock(pid) = n.trim().parse().ok();
                    continue;
                }
                let mut t = lock(&tail);
                if t.len() == 20 {
                    t.pop_front();
                }
                t.push_back(line);
            }
            if let Some(ended) = ended {
                ended.store(true, Ordering::SeqCst);
            }
        });
}

fn tail_text(tail: &Mutex<VecDeque<String>>) -> String {
    lock(tail).iter().cloned().collect::<Vec<_>>().join(" | ")
}
