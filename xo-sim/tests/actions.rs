//! Actions: the async protocol (202 + Location + taskId), sync mode,
//! tasks (wait, watch, abort), VM lifecycle and object creation.

mod common;

use std::time::Duration;

use common::env;
use futures::StreamExt;
use serde_json::{Value, json};

#[tokio::test]
async fn async_action_returns_a_task_then_changes_state() {
    let e = env().await;
    let id = e.vm("app-03");
    assert_eq!(e.power(&id), "Halted");
    let r = e.post(&format!("/vms/{id}/actions/start"), json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let task_id = r.json()["taskId"].as_str().unwrap().to_string();
    // XO's shape: creation time in base 36, a dash, a random part
    assert!(task_id.len() < 24 && task_id.contains('-'), "{task_id}");
    assert_eq!(
        r.header("location").unwrap(),
        format!("/rest/v0/tasks/{task_id}")
    );
    let pending = e.get(&format!("/tasks/{task_id}")).await.json();
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["properties"]["objectId"], id);
    assert!(pending["properties"]["name"].is_string());
    assert!(pending["start"].is_number());
    let done = e.wait(&task_id).await;
    assert_eq!(done["status"], "success");
    assert!(done["end"].as_u64().unwrap() >= done["start"].as_u64().unwrap());
    assert_eq!(e.power(&id), "Running");
    let vm = e.sim.object("vms", &id).unwrap();
    let host = vm["$container"].as_str().unwrap();
    assert!(
        e.sim.object("hosts", host).unwrap()["residentVms"]
            .as_array()
            .unwrap()
            .contains(&json!(id))
    );
    // the task shows under the VM
    let tasks = e.get(&format!("/vms/{id}/tasks")).await.json();
    assert!(
        tasks
            .as_array()
            .unwrap()
            .contains(&json!(format!("/rest/v0/tasks/{task_id}")))
    );

    // a failure in async mode shows only in the task
    let r = e.post(&format!("/vms/{id}/actions/start"), json!({})).await;
    assert_eq!(r.status, 202);
    let t = e.wait(r.json()["taskId"].as_str().unwrap()).await;
    assert_eq!(t["status"], "failure");
    assert!(
        t["result"]["message"]
            .as_str()
            .unwrap()
            .contains("VM_BAD_POWER_STATE")
    );
    assert_eq!(t["result"]["code"], "VM_BAD_POWER_STATE");
    // wait=result is not a boolean
    assert_eq!(
        e.get(&format!("/tasks/{task_id}?wait=result")).await.status,
        422
    );
}

#[tokio::test]
async fn vm_lifecycle_in_sync_mode() {
    let e = env().await;
    let id = e.vm("web-02");
    let act = |a: &str| format!("/vms/{id}/actions/{a}?sync=true");
    let steps: &[(&str, u16, &str)] = &[
        ("pause", 204, "Paused"),
        ("pause", 500, "Paused"),
        ("unpause", 204, "Running"),
        ("suspend", 204, "Suspended"),
        ("start", 500, "Suspended"),
        ("resume", 204, "Running"),
        ("clean_reboot", 204, "Running"),
        ("hard_reboot", 204, "Running"),
        ("clean_shutdown", 204, "Halted"),
        ("clean_shutdown", 500, "Halted"),
        ("hard_shutdown", 500, "Halted"),
        ("start", 204, "Running"),
        ("hard_shutdown", 204, "Halted"),
    ];
    for (a, status, after) in steps {
        let r = e.post(&act(a), json!({})).await;
        assert_eq!(r.status, *status, "{a}: {}", r.text());
        if *status == 500 {
            let b = r.json();
            assert_eq!(b["data"]["code"], "VM_BAD_POWER_STATE", "{b}");
            assert!(b["info"].as_str().unwrap().contains("XenServer/XCP-ng"));
        }
        assert_eq!(e.power(&id), *after, "after {a}");
    }
    // halted VMs have no resident host and detached devices
    let vm = e.sim.object("vms", &id).unwrap();
    assert_eq!(vm["$container"], vm["$pool"]);
    for vif in vm["VIFs"].as_array().unwrap() {
        assert_eq!(
            e.sim.object("vifs", vif.as_str().unwrap()).unwrap()["attached"],
            false
        );
    }
    // start on an explicit host of the pool
    let host = e
        .sim
        .ids("hosts")
        .into_iter()
        .find(|h| e.sim.object("hosts", h).unwrap()["$pool"] == vm["$pool"]);
    let r = e
        .post(&act("start"), json!({"hostId": host.clone().unwrap()}))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        e.sim.object("vms", &id).unwrap()["$container"],
        json!(host.unwrap())
    );
    // unknown body field
    assert_eq!(
        e.post(&act("start"), json!({"host": "x"})).await.status,
        422
    );
    // unknown VM: 404 even in async mode
    assert_eq!(
        e.post("/vms/nope/actions/start", json!({})).await.status,
        404
    );
}

#[tokio::test]
async fn snapshot_clone_revert_delete() {
    let e = env().await;
    let id = e.vm("app-01");
    let r = e
        .post(
            &format!("/vms/{id}/actions/snapshot?sync=true"),
            json!({"name_label": "before"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let snap = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/rest/v0/vm-snapshots/{snap}")
    );
    let s = e.get(&format!("/vm-snapshots/{snap}")).await.json();
    assert_eq!(s["$snapshot_of"], id);
    assert_eq!(s["name_label"], "before");
    let vdis = e
        .get(&format!(
            "/vm-snapshots/{snap}/vdis?fields=type,$snapshot_of"
        ))
        .await
        .json();
    assert_eq!(vdis.as_array().unwrap().len(), 1);
    assert_eq!(vdis[0]["type"], "VDI-snapshot");
    assert!(
        e.sim.object("vms", &id).unwrap()["snapshots"]
            .as_array()
            .unwrap()
            .contains(&json!(snap))
    );

    // async snapshot: the task result holds the id
    let r = e
        .post(&format!("/vms/{id}/actions/snapshot"), json!({}))
        .await;
    assert_eq!(r.status, 202);
    let t = e.wait(r.json()["taskId"].as_str().unwrap()).await;
    assert!(t["result"]["id"].is_string());

    // clone needs a halted VM
    assert_eq!(
        e.post(&format!("/vms/{id}/actions/clone?sync=true"), json!({}))
            .await
            .status,
        500
    );
    let halted = e.vm("dns-02");
    assert_eq!(
        e.post(
            &format!("/vms/{halted}/actions/clone?sync=true"),
            json!({"fast": true, "srId": "x"})
        )
        .await
        .status,
        422,
        "fast excludes srId"
    );
    let r = e
        .post(
            &format!("/vms/{halted}/actions/clone?sync=true"),
            json!({"name_label": "dns-03", "fast": true}),
        )
        .await;
    assert_eq!(r.status, 201);
    let clone = r.json()["id"].as_str().unwrap().to_string();
    let c = e.get(&format!("/vms/{clone}")).await.json();
    assert_eq!(c["name_label"], "dns-03");
    assert_eq!(c["power_state"], "Halted");
    assert_eq!(c["$VBDs"].as_array().unwrap().len(), 2, "disk and CD drive");
    assert_eq!(c["VIFs"].as_array().unwrap().len(), 1);
    let orig_vdi = e.get(&format!("/vms/{halted}/vdis?fields=id")).await.json()[0]["id"].clone();
    let clone_vdi = e.get(&format!("/vms/{clone}/vdis?fields=id")).await.json()[0]["id"].clone();
    assert_ne!(orig_vdi, clone_vdi);

    // revert
    let r = e
        .post(
            &format!("/vms/{id}/actions/revert_snapshot?sync=true"),
            json!({"snapshotId": snap}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(e.power(&id), "Halted");

    // delete the clone: VM, VBDs, VDIs, VIFs go
    let before = e.sim.objects("vdis").len();
    assert_eq!(e.delete(&format!("/vms/{clone}")).await.status, 204);
    assert_eq!(e.get(&format!("/vms/{clone}")).await.status, 404);
    assert_eq!(e.sim.objects("vdis").len(), before - 1);
    assert_eq!(e.delete(&format!("/vm-snapshots/{snap}")).await.status, 204);
}

#[tokio::test]
async fn create_vm_vdi_vbd_vif_network() {
    let e = env().await;
    let pools = e.sim.ids("pools");
    let lab = e.sim.find_by_name("pools", "Lab").unwrap();
    let pool = lab["id"].as_str().unwrap();
    assert!(pools.contains(&pool.to_string()));
    let tpl = e
        .sim
        .find_by_name("vm-templates", "debian-12-cloudinit")
        .unwrap();
    let net = e
        .sim
        .objects("networks")
        .into_iter()
        .find(|n| n["$pool"] == pool && n["bridge"] == "xenbr0")
        .unwrap();
    let r = e
        .post(
            &format!("/pools/{pool}/actions/create_vm?sync=true"),
            json!({
                "name_label": "new-vm", "template": tpl["id"], "cpus": 4, "memory": 4294967296u64, "boot": true,
                "vifs": [{"network": net["id"]}],
                "vdis": [{"name_label": "data", "size": 1073741824u64}],
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let vm_id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/rest/v0/vms/{vm_id}")
    );
    let vm = e.get(&format!("/vms/{vm_id}")).await.json();
    assert_eq!(vm["power_state"], "Running");
    assert_eq!(vm["CPUs"]["number"], 4);
    assert_eq!(
        vm["$VBDs"].as_array().unwrap().len(),
        2,
        "template disk + new disk"
    );
    assert_eq!(vm["VIFs"].as_array().unwrap().len(), 1);
    assert_eq!(
        e.post(&format!("/pools/{pool}/actions/create_vm?sync=true"), json!({"name_label": "x", "template": tpl["id"], "autoPoweron": true, "auto_poweron": true}))
            .await
            .status,
        422
    );

    // VDI + VBD + VIF
    let sr = lab["default_SR"].as_str().unwrap();
    let r = e
        .post(
            "/vdis",
            json!({"srId": sr, "virtual_size": 1048576, "name_label": "scratch"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let vdi = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        e.post("/vdis", json!({"sr": sr, "size": 1})).await.status,
        422
    );
    let r = e
        .post("/vbds", json!({"VM": vm_id, "VDI": vdi, "bootable": false}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let vbd = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        e.post(&format!("/vbds/{vbd}/actions/connect?sync=true"), json!({}))
            .await
            .status,
        204
    );
    assert_eq!(e.sim.object("vbds", &vbd).unwrap()["attached"], true);
    assert_eq!(
        e.post("/vbds", json!({"vm": vm_id, "vdi": vdi}))
            .await
            .status,
        422
    );
    let r = e
        .post("/vifs", json!({"vmId": vm_id, "networkId": net["id"]}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let vif = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(e.sim.object("vifs", &vif).unwrap()["device"], "1");
    assert_eq!(
        e.patch(&format!("/vifs/{vif}"), json!({"lockingMode": "locked"}))
            .await
            .status,
        204
    );

    // VDI migration changes the id: 200 {id}
    let other_sr = e
        .sim
        .objects("srs")
        .into_iter()
        .find(|s| s["$pool"] == pool && s["id"] != sr && s["content_type"] == "user")
        .unwrap();
    let r = e
        .post(
            &format!("/vdis/{vdi}/actions/migrate?sync=true"),
            json!({"srId": other_sr["id"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let new_vdi = r.json()["id"].as_str().unwrap().to_string();
    assert_ne!(new_vdi, vdi);
    assert_eq!(e.get(&format!("/vdis/{vdi}")).await.status, 404);
    assert_eq!(e.sim.object("vbds", &vbd).unwrap()["VDI"], json!(new_vdi));

    // networks
    let pif = net["PIFs"][0].as_str().unwrap();
    let r = e
        .post(
            &format!("/pools/{pool}/actions/create_network?sync=true"),
            json!({"name": "vlan42", "pif": pif, "vlan": 42}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let n = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        e.get(&format!("/networks/{n}")).await.json()["PIFs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        e.post(
            &format!("/pools/{pool}/actions/create_network?sync=true"),
            json!({"name": "novlan", "pif": pif})
        )
        .await
        .status,
        422,
        "vlan is required"
    );
    let r = e
        .post(
            &format!("/pools/{pool}/actions/create_internal_network?sync=true"),
            json!({"name": "private"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let internal = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(e.delete(&format!("/networks/{internal}")).await.status, 204);
}

#[tokio::test]
async fn hosts_pools_and_misc_actions() {
    let e = env().await;
    let hosts = e.sim.ids("hosts");
    let h2 = e.sim.find_by_name("hosts", "xcp-host-02").unwrap();
    let h2id = h2["id"].as_str().unwrap().to_string();
    let r = e
        .post(
            &format!("/hosts/{h2id}/actions/disable?sync=true"),
            json!({"evacuate": true}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let h = e.sim.object("hosts", &h2id).unwrap();
    assert_eq!(h["enabled"], false);
    assert!(
        h["residentVms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| e.sim.object("vms", v.as_str().unwrap()).is_none()),
        "VMs evacuated"
    );
    assert_eq!(
        e.post(
            &format!("/hosts/{h2id}/actions/disable?sync=true"),
            json!({"force": true})
        )
        .await
        .status,
        422,
        "force only with evacuate"
    );
    assert_eq!(
        e.post(
            &format!("/hosts/{h2id}/actions/enable?sync=true"),
            json!({})
        )
        .await
        .status,
        204
    );
    assert_eq!(hosts.len(), 3);
    let pbd = e.sim.ids("pbds")[0].clone();
    assert_eq!(
        e.post(&format!("/pbds/{pbd}/actions/unplug?sync=true"), json!({}))
            .await
            .status,
        204
    );
    assert_eq!(
        e.post(&format!("/pbds/{pbd}/actions/unplug?sync=true"), json!({}))
            .await
            .status,
        500
    );
    let repo = e.sim.ids("backup-repositories")[0].clone();
    let r = e
        .post(
            &format!("/backup-repositories/{repo}/actions/benchmark?sync=true"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["readRate"].is_number());
    let sched = e.sim.ids("schedules")[0].clone();
    let logs = e.sim.objects("backup-logs").len();
    assert_eq!(
        e.post(
            &format!("/schedules/{sched}/actions/run?sync=true"),
            json!({})
        )
        .await
        .status,
        204
    );
    assert_eq!(e.sim.objects("backup-logs").len(), logs + 1);
}

#[tokio::test]
async fn abort_and_watch_tasks() {
    let e = common::env_with(xo_sim::Sim::builder()).await;
    // a slow simulator for abort
    let slow = xo_sim::Sim::builder()
        .task_delay(Duration::from_secs(5))
        .start()
        .await
        .unwrap();
    let vm = slow.find_by_name("vms", "app-03").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let http = common::http_builder().build().unwrap();
    let cookie = format!("authenticationToken={}", slow.token());
    let r = http
        .post(format!("{}/vms/{vm}/actions/start", slow.api_url()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let tid = v["taskId"].as_str().unwrap().to_string();
    let r = http
        .post(format!("{}/tasks/{tid}/actions/abort", slow.api_url()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let r = http
        .get(format!("{}/tasks/{tid}?wait=true", slow.api_url()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let t: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(t["status"], "interrupted");
    assert!(t["abortionRequestedAt"].is_number());
    assert_eq!(slow.object("vms", &vm).unwrap()["power_state"], "Halted");

    // watch: changes only, as ["update", task] lines; like XO, the head
    // comes with the first change, so the watch is sent before the action
    let watch = tokio::spawn(
        e.req(reqwest::Method::GET, "/tasks?ndjson=true&watch=true")
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let id = e.vm("app-03");
    let r = e.post(&format!("/vms/{id}/actions/start"), json!({})).await;
    let tid = r.json()["taskId"].as_str().unwrap().to_string();
    let resp = watch.await.unwrap().unwrap();
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let mut statuses = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !statuses.contains(&"success".to_string()) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("watch events in time")
            .unwrap()
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(pos) = buf.find('\n') {
            let line: Value = serde_json::from_str(&buf[..pos]).unwrap();
            buf.drain(..=pos);
            assert_eq!(line[0], "update");
            if line[1]["id"] == tid {
                statuses.push(line[1]["status"].as_str().unwrap().to_string());
            }
        }
    }
    assert_eq!(statuses.first().map(String::as_str), Some("pending"));
    assert_eq!(e.delete("/tasks").await.status, 204);
}
