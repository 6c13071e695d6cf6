//! The simulator's one seam with its Prism validation harness, the
//! `xo-prism` crate (behind the `prism` feature). The rest of the simulator
//! calls [`Hook`] and has no `cfg` of its own; the harness sees only the
//! router it wraps and the ids of the objects a test injected, never the
//! simulator's state.

use std::io;
#[cfg(feature = "prism")]
use std::sync::Arc;

use axum::Router;

use crate::Config;

/// What a simulator does for Prism validation mode: nothing unless the
/// environment asks for it and the simulator was not left out of it
/// ([`SimBuilder::without_prism`](crate::SimBuilder::without_prism)).
pub(crate) struct Hook {
    #[cfg(feature = "prism")]
    tap: Option<Arc<xo_prism::Tap>>,
}

impl Hook {
    /// The hook of a simulator about to start; starts the process's Prism
    /// on first use (its failure is the simulator's).
    #[cfg(feature = "prism")]
    pub(crate) async fn start(config: &Config) -> io::Result<Hook> {
        if !config.prism {
            return Ok(Hook { tap: None });
        }
        // The report names each exchange's source: the test's thread.
        let origin = std::thread::current()
            .name()
            .unwrap_or("unnamed thread")
            .to_string();
        Ok(Hook {
            tap: xo_prism::tap_from_env(origin).await?,
        })
    }

    /// Without the harness compiled in, a run that asks for Prism would
    /// otherwise pass with nothing checked: refusing to start says so.
    #[cfg(not(feature = "prism"))]
    pub(crate) async fn start(config: &Config) -> io::Result<Hook> {
        // The names `xo_prism::ENV_PRISM` and `ENV_SPEC` define; the
        // harness is not there to ask.
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if config.prism && set("XO_SIM_PRISM") && set("XO_SIM_SPEC") {
            return Err(io::Error::other(
                "XO_SIM_PRISM and XO_SIM_SPEC ask for Prism validation, but xo-sim was \
                 built without its `prism` feature",
            ));
        }
        Ok(Hook {})
    }

    /// The simulator's router, wrapped by the harness when it is on.
    pub(crate) fn layer(&self, app: Router) -> Router {
        #[cfg(feature = "prism")]
        if let Some(tap) = &self.tap {
            return tap.layer(app);
        }
        app
    }

    /// Notes an object a test put in the simulator itself (its findings
    /// are counted apart: the test, not the simulator, made it).
    pub(crate) fn injected(&self, id: &str) {
        #[cfg(feature = "prism")]
        if let Some(tap) = &self.tap {
            tap.injected(id);
        }
        #[cfg(not(feature = "prism"))]
        let _ = id;
    }

    /// The counters of this simulator's checks, in Prism validation mode.
    #[cfg(feature = "prism")]
    pub(crate) fn stats(&self) -> Option<xo_prism::PrismStats> {
        self.tap.as_ref().map(|t| t.stats())
    }
}

#[cfg(all(test, feature = "prism"))]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use axum::http::StatusCode;
    use xo_prism::{ENV_PRISM, ENV_SPEC};

    /// A GET with the admin's token, read to the connection's end.
    async fn get(sim: &crate::Sim, path: &str) -> StatusCode {
        send(sim, "GET", path, "").await
    }

    /// A request with the admin's token (and a JSON body unless empty).
    async fn send(sim: &crate::Sim, method: &str, path: &str, body: &str) -> StatusCode {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncookie: authenticationToken={}\r\nconnection: close\r\n",
            sim.addr(),
            sim.token()
        );
        if !body.is_empty() {
            req.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        let addr = sim.addr();
        let raw = tokio::task::spawn_blocking(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(req.as_bytes()).unwrap();
            let mut raw = Vec::new();
            s.read_to_end(&mut raw).unwrap();
            raw
        })
        .await
        .unwrap();
        status_of(&raw)
    }

    /// The status of a raw HTTP/1.1 answer (`HTTP/1.1 200 OK…`).
    fn status_of(raw: &[u8]) -> StatusCode {
        let code = raw
            .split(|b| *b == b' ')
            .nth(1)
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.parse::<u16>().ok())
            .expect("an HTTP status line");
        StatusCode::from_u16(code).unwrap()
    }

    /// The checker catches what it must (`scripts/prism-suite.sh` runs this
    /// before the suite): a wrong answer, a wrong answer and a wrong request
    /// whose schemas Prism compiles only once repaired, a route the document
    /// lacks; and sets apart an object the test injected.
    #[tokio::test]
    #[ignore = "needs Prism: XO_SIM_PRISM and XO_SIM_SPEC (scripts/prism-suite.sh runs it)"]
    async fn prism_mode_catches_a_wrong_answer_and_an_unknown_route() {
        assert!(
            std::env::var_os(ENV_PRISM).is_some() && std::env::var_os(ENV_SPEC).is_some(),
            "set {ENV_PRISM} and {ENV_SPEC}"
        );
        let sim = crate::Sim::builder().start().await.unwrap();
        let vms = sim.ids("vms");
        let stats = || sim.prism_stats().expect("Prism mode");

        assert_eq!(
            get(&sim, "/rest/v0/vms?fields=name_label").await,
            StatusCode::OK
        );
        assert_eq!(stats().checked, 1);
        assert_eq!(stats().violations, 0, "{:?}", stats());

        // Changed behind the test accessors' back: the simulator's fault.
        sim.shared
            .lock()
            .update("vms", &vms[0], |vm| {
                vm.insert("power_state".into(), "Hibernating".into());
            })
            .unwrap();
        assert_eq!(
            get(&sim, &format!("/rest/v0/vms/{}", vms[0])).await,
            StatusCode::OK
        );
        assert_eq!(stats().violations, 1, "{:?}", stats());

        // `GET /rest/v0/` (XO redirects to its documentation) is not in
        // the document.
        assert_eq!(get(&sim, "/rest/v0/").await, StatusCode::FOUND);
        assert_eq!(stats().violations, 2, "{:?}", stats());

        // PIFs use a "branded" string: Prism checks them only with the
        // repaired copy of the document.
        let pif = sim.ids("pifs")[0].clone();
        sim.shared
            .lock()
            .update("pifs", &pif, |p| {
                p.insert("device".into(), 5.into());
            })
            .unwrap();
        assert_eq!(
            get(&sim, &format!("/rest/v0/pifs/{pif}")).await,
            StatusCode::OK
        );
        assert_eq!(stats().violations, 3, "{:?}", stats());

        // PATCH /vms/{id}'s body has `nullable` without `type`: Prism checks
        // it only with the repaired copy. The simulator refuses it too.
        let path = format!("/rest/v0/vms/{}", vms[2]);
        let status = send(&sim, "PATCH", &path, r#"{"nameLabel":5}"#).await;
        assert!(status.is_client_error(), "{status}");
        assert_eq!(
            (stats().refused, stats().violations),
            (1, 3),
            "{:?}",
            stats()
        );

        // Put there by the test: counted apart.
        sim.update_object("vms", &vms[1], |vm| {
            vm.insert("power_state".into(), "Hibernating".into());
        })
        .unwrap();
        assert_eq!(
            get(&sim, &format!("/rest/v0/vms/{}", vms[1])).await,
            StatusCode::OK
        );
        let s = stats();
        assert_eq!((s.violations, s.injected, s.checked), (3, 1, 6), "{s:?}");
    }
}
