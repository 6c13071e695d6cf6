//! Server-sent events: init, subscriptions, add/update/remove, pings,
//! and dropped connections.

mod common;

use std::time::Duration;

use common::env_with;
use futures::StreamExt;
use serde_json::{Value, json};
use xo_sim::Sim;

struct Sse {
    stream: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Sse {
    /// Next `(event, data)`; `None` when the server closed the stream.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(pos) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..pos + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                return Some((event, serde_json::from_str(&data).unwrap()));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("SSE data in time")?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk.ok()?));
        }
    }

    async fn next_not_ping(&mut self) -> Option<(String, Value)> {
        loop {
            let ev = self.next().await?;
            if ev.0 != "ping" {
                return Some(ev);
            }
        }
    }
}

async fn open(e: &common::Env) -> (Sse, String) {
    let resp = e.req(reqwest::Method::GET, "/events").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut sse = Sse {
        stream: Box::pin(resp.bytes_stream()),
        buf: String::new(),
    };
    let (ev, data) = sse.next().await.unwrap();
    assert_eq!(ev, "init");
    let id = data["id"].as_str().unwrap().to_string();
    (sse, id)
}

#[tokio::test]
async fn subscriptions_deliver_changes() {
    let e = env_with(Sim::builder().ping_interval(Duration::from_millis(100))).await;
    let (mut sse, conn) = open(&e).await;
    // first a ping
    let (ev, _) = sse.next().await.unwrap();
    assert_eq!(ev, "ping");
    let r = e
        .post(
            &format!("/events/{conn}/subscriptions"),
            json!({"collection": "VM", "fields": ["id", "name_label", "power_state"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json(), json!({"id": "VM"}));
    assert_eq!(
        e.post(
            &format!("/events/{conn}/subscriptions"),
            json!({"collection": "VM", "fields": "id,name_label"})
        )
        .await
        .status,
        422
    );
    assert_eq!(
        e.post("/events/nope/subscriptions", json!({"collection": "VM"}))
            .await
            .status,
        404
    );

    let vm = e.vm("app-03");
    assert_eq!(
        e.post(&format!("/vms/{vm}/actions/start?sync=true"), json!({}))
            .await
            .status,
        204
    );
    let mut saw_running = false;
    while !saw_running {
        let (ev, data) = sse.next_not_ping().await.unwrap();
        assert_eq!(ev, "update");
        assert_eq!(data["$subscription"], "VM");
        assert!(data.get("CPUs").is_none(), "only the subscribed fields");
        if data["id"] == vm && data["power_state"] == "Running" {
            saw_running = true;
        }
    }
    // snapshot: add on VM-snapshot not subscribed, clone: add on VM
    let halted = e.vm("dns-02");
    let r = e
        .post(
            &format!("/vms/{halted}/actions/clone?sync=true"),
            json!({"name_label": "c"}),
        )
        .await;
    let clone = r.json()["id"].as_str().unwrap().to_string();
    loop {
        let (ev, data) = sse.next_not_ping().await.unwrap();
        if ev == "add" {
            assert_eq!(data["id"], clone);
            assert_eq!(data["name_label"], "c");
            break;
        }
    }
    assert_eq!(e.delete(&format!("/vms/{clone}")).await.status, 204);
    loop {
        let (ev, data) = sse.next_not_ping().await.unwrap();
        if ev == "remove" {
            assert_eq!(data["id"], clone);
            break;
        }
    }
    // unsubscribe: no more VM events
    assert_eq!(
        e.delete(&format!("/events/{conn}/subscriptions/VM"))
            .await
            .status,
        204
    );
    // removing it again is fine, as in XO; an unknown connection is not
    assert_eq!(
        e.delete(&format!("/events/{conn}/subscriptions/VM"))
            .await
            .status,
        204
    );
    let r = e
        .delete("/events/00000000-0000-4000-8000-000000000000/subscriptions/VM")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["data"]["type"], "event");
    let r = e
        .post(
            &format!("/events/{conn}/subscriptions"),
            json!({"collection": "task", "fields": "*"}),
        )
        .await;
    assert_eq!(r.status, 201);
    e.post(&format!("/vms/{vm}/actions/pause"), json!({})).await;
    let (ev, data) = sse.next_not_ping().await.unwrap();
    assert_eq!(data["$subscription"], "task", "{ev} {data}");
    assert!(data["properties"].is_object());
}

#[tokio::test]
async fn dropped_connections_can_reconnect() {
    let e = env_with(Sim::builder()).await;
    let (mut sse, _) = open(&e).await;
    assert_eq!(e.sim.sse_connection_count(), 1);
    e.sim.drop_sse_connections();
    assert!(sse.next().await.is_none(), "stream closed by the server");
    // reconnect: a new connection id, subscriptions start empty
    let (mut sse2, conn2) = open(&e).await;
    let r = e
        .post(
            &format!("/events/{conn2}/subscriptions"),
            json!({"collection": "host"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let host = e.sim.ids("hosts")[0].clone();
    assert_eq!(
        e.put(&format!("/hosts/{host}/tags/reconnected"))
            .await
            .status,
        204
    );
    let (ev, data) = sse2.next_not_ping().await.unwrap();
    assert_eq!(ev, "update");
    assert_eq!(data["$subscription"], "host");
    assert!(
        data["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("reconnected"))
    );
    // the old connection's subscriptions are gone
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(e.sim.sse_connection_count(), 1);
}
