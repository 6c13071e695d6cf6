//! Helpers shared by the integration tests: a simulator plus a small
//! HTTP client speaking to it over real HTTP.
#![allow(dead_code)]

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use xo_sim::Sim;

pub struct Env {
    pub sim: Sim,
    pub http: reqwest::Client,
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }
}

/// A reqwest client builder that works whatever TLS features the build
/// unified: in a workspace build, xo-sdk turns on reqwest's
/// `rustls-no-provider`, and a plain `reqwest::Client` then needs a
/// process-wide crypto provider (installing it twice is harmless).
pub fn http_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

pub async fn env() -> Env {
    env_with(Sim::builder()).await
}

pub async fn env_with(builder: xo_sim::SimBuilder) -> Env {
    let sim = builder
        .task_delay(Duration::from_millis(20))
        .start()
        .await
        .expect("start xo-sim");
    let http = http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    Env { sim, http }
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sim.api_url(), path)
    }

    pub fn cookie(&self) -> String {
        format!("authenticationToken={}", self.sim.token())
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.expect("body");
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("cookie", self.cookie())
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.req(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(
            self.req(Method::POST, path)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(
            self.req(Method::PATCH, path)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    pub async fn put(&self, path: &str) -> Resp {
        self.send(self.req(Method::PUT, path)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.req(Method::DELETE, path)).await
    }

    /// Id of the seeded VM with this name.
    pub fn vm(&self, name: &str) -> String {
        self.sim
            .find_by_name("vms", name)
            .and_then(|v| v["id"].as_str().map(String::from))
            .unwrap_or_else(|| panic!("no seeded VM {name}"))
    }

    pub fn power(&self, id: &str) -> String {
        self.sim.object("vms", id).expect("vm")["power_state"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits for a task with `wait=true`.
    pub async fn wait(&self, task_id: &str) -> Value {
        let r = self.get(&format!("/tasks/{task_id}?wait=true")).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }
}
