//! The generated models (DADL `types` in the errata overlay) decode XO's
//! answers: whole objects, collection items with a few fields, values and
//! fields a newer XO may add, and — over HTTP — the typed `send()` of the
//! single-object GETs.
//!
//! The JSON documents are hand-written in the shape XO 6.x answers
//! (xo-server's `xapi-objects-to-xo`, the REST API's task and stats
//! objects); the ids are made up.

mod support;

use serde_json::{Value, json};
use support::{Reply, Server};
use xo_sdk::runtime::Href;
use xo_sdk::types::{
    AclEffect, AclPrivilege, AclPrivilegeId, AclRoleId, BackupJob, BackupJobId, BackupJobType,
    BackupLog, BackupLogStatus, BackupMode, ContainerId, Dashboard, Host, HostId, HostPowerState,
    HostStats, PbdId, Pif, PifId, PoolDashboard, PoolId, PoolStats, PowerState, SrId, Task, TaskId,
    TaskStatus, User, UserId, UserPermission, VbdId, Vdi, VdiType, VifId, VirtualizationMode, Vm,
    VmDashboard, VmId, VmProtection, VmSnapshotId, VmStats,
};

const VM_ID: &str = "0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b";

/// A running VM as `GET /rest/v0/vms/{id}` answers it, plus one field this
/// SDK does not know (`futureField`).
const VM: &str = r#"{
  "type": "VM",
  "addresses": { "0/ipv4/0": "10.0.0.12", "0/ipv6/0": "fe80::1" },
  "auto_poweron": true,
  "bios_strings": { "bios-vendor": "Xen", "system-manufacturer": "Xen" },
  "blockedOperations": { "destroy": "protected by the backup team" },
  "boot": { "firmware": "uefi", "order": "cd" },
  "CPUs": { "max": 4, "number": 2 },
  "creation": { "date": "2025-03-01T09:12:44.000Z", "template": "6a9c3f39-0c4e-4d5b-9d41-2d3c1f0a7b11", "user": "c2a4e7f0-5d9e-4a0b-8f1e-3b6c7d8e9f00" },
  "current_operations": {},
  "expNestedHvm": false,
  "isNestedVirtEnabled": false,
  "viridian": true,
  "mainIpAddress": "10.0.0.12",
  "high_availability": "",
  "isFirmwareSupported": true,
  "memory": { "dynamic": [2147483648, 4294967296], "static": [536870912, 8589934592], "usage": 1811939328, "size": 4294967296 },
  "installTime": 1740819164,
  "name_description": "front web server",
  "name_label": "web-01",
  "needsVtpm": false,
  "other": { "base_template_name": "Debian Bookworm 12", "xo:backup:job": "e6e0c2f8" },
  "os_version": { "name": "Debian GNU/Linux 12 (bookworm)", "distro": "debian", "major": "12" },
  "power_state": "Running",
  "hasVendorDevice": false,
  "snapshots": ["8d1f3c2a-6b7e-4f90-a1b2-c3d4e5f60718"],
  "startDelay": 0,
  "startTime": 1747651200,
  "secureBoot": false,
  "tags": ["prod", "team=web"],
  "VIFs": ["6c2b1a09-8f7e-4d6c-b5a4-938271605f4e"],
  "VTPMs": [],
  "virtualizationMode": "hvm",
  "managementAgentDetected": true,
  "pvDriversDetected": true,
  "pvDriversVersion": "9.4.0-146",
  "pvDriversUpToDate": true,
  "$container": "4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d",
  "$VBDs": ["a1b2c3d4-e5f6-4789-8abc-def012345678", "b2c3d4e5-f6a7-4890-9bcd-ef0123456789"],
  "VGPUs": [],
  "$VGPUs": [],
  "xenStoreData": { "vm-data/mmio-hole-size": "268435456" },
  "vga": "std",
  "videoram": "8",
  "coresPerSocket": 2,
  "cpuWeight": 256,
  "vulnerabilities": { "xsa468": false },
  "id": "0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b",
  "uuid": "0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b",
  "$pool": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910",
  "$poolId": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910",
  "_xapiRef": "OpaqueRef:1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b",
  "futureField": { "enabled": true, "level": 3 }
}"#;

fn vm() -> Vm {
    serde_json::from_str(VM).expect("the VM decodes")
}

#[test]
fn vm_decodes_with_renamed_and_nested_fields() {
    let vm = vm();
    assert_eq!(vm.id, Some(VmId::new(VM_ID)));
    assert_eq!(vm.id.as_ref().map(VmId::as_str), Some(VM_ID));
    assert_eq!(vm.type_.as_deref(), Some("VM"));
    assert_eq!(vm.name_label.as_deref(), Some("web-01"));
    assert_eq!(vm.power_state, Some(PowerState::Running));
    assert_eq!(vm.virtualization_mode, Some(VirtualizationMode::Hvm));
    // `$`-prefixed and acronym names are renamed, values kept.
    // Fields naming objects are typed ids.
    assert_eq!(
        vm.pool,
        Some(PoolId::new("7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910"))
    );
    assert_eq!(vm.pool_id, vm.pool);
    assert_eq!(
        vm.container,
        Some(ContainerId::new("4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d"))
    );
    assert_eq!(
        vm.xapi_ref.as_deref(),
        Some("OpaqueRef:1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b")
    );
    assert_eq!(vm.vbds.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        vm.vbds.as_ref().unwrap()[1],
        VbdId::new("b2c3d4e5-f6a7-4890-9bcd-ef0123456789")
    );
    assert_eq!(
        vm.vifs,
        Some(vec![VifId::new("6c2b1a09-8f7e-4d6c-b5a4-938271605f4e")])
    );
    assert_eq!(
        vm.snapshots,
        Some(vec![VmSnapshotId::new(
            "8d1f3c2a-6b7e-4f90-a1b2-c3d4e5f60718"
        )])
    );
    assert_eq!(vm.vgpus, Some(vec![]));
    assert_eq!(vm.vgpus_2, Some(vec![]));
    // Nested types; sizes are integers.
    let cpus = vm.cpus.as_ref().expect("CPUs");
    assert_eq!((cpus.number, cpus.max), (Some(2), Some(4)));
    let memory = vm.memory.as_ref().expect("memory");
    assert_eq!(memory.size, Some(4_294_967_296));
    assert_eq!(memory.usage, Some(1_811_939_328));
    assert_eq!(memory.static_, Some(vec![536_870_912, 8_589_934_592]));
    assert_eq!(memory.dynamic, Some(vec![2_147_483_648, 4_294_967_296]));
    assert_eq!(vm.start_time, Some(1_747_651_200));
    assert_eq!(vm.cpu_weight, Some(256));
    // Maps of strings.
    let addresses = vm.addresses.as_ref().expect("addresses");
    assert_eq!(
        addresses.get("0/ipv4/0").map(String::as_str),
        Some("10.0.0.12")
    );
    assert_eq!(
        vm.blocked_operations
            .as_ref()
            .and_then(|b| b.get("destroy"))
            .map(String::as_str),
        Some("protected by the backup team")
    );
    assert_eq!(vm.high_availability.as_deref(), Some(""));
    // `videoram` is whatever XO copied from the platform: here a string.
    assert_eq!(vm.videoram, Some(json!("8")));
    assert_eq!(
        vm.vulnerabilities.as_ref().and_then(|v| v.xsa468.clone()),
        Some(json!(false))
    );
}

#[test]
fn unknown_field_is_kept_and_serialized_back() {
    let vm = vm();
    assert_eq!(vm.unknown_fields.len(), 1, "{:?}", vm.unknown_fields);
    assert_eq!(
        vm.unknown_fields.get("futureField"),
        Some(&json!({ "enabled": true, "level": 3 }))
    );
    // Declared fields never land in the map.
    assert!(!vm.unknown_fields.contains_key("$pool"));
    // Serializing gives XO's document back: original names, nothing lost.
    let original: Value = serde_json::from_str(VM).unwrap();
    assert_eq!(serde_json::to_value(&vm).unwrap(), original);
}

#[test]
fn unknown_enum_values_are_kept() {
    let mut doc: Value = serde_json::from_str(VM).unwrap();
    doc["power_state"] = json!("Migrating");
    doc["virtualizationMode"] = json!("pvh2");
    let vm: Vm = serde_json::from_value(doc).expect("a new value does not break decoding");
    assert_eq!(
        vm.power_state,
        Some(PowerState::Unknown("Migrating".into()))
    );
    assert_eq!(vm.power_state.as_ref().unwrap().as_str(), "Migrating");
    assert_eq!(vm.power_state.as_ref().unwrap().to_string(), "Migrating");
    assert_eq!(
        vm.virtualization_mode,
        Some(VirtualizationMode::Unknown("pvh2".into()))
    );
    let back = serde_json::to_value(&vm).unwrap();
    assert_eq!(back["power_state"], "Migrating");
    assert_eq!(back["virtualizationMode"], "pvh2");
    // From a string, as a caller matching on values does.
    assert_eq!(PowerState::from_wire("Halted"), PowerState::Halted);
    assert_eq!(
        PowerState::from_wire("halted"),
        PowerState::Unknown("halted".into())
    );
}

#[test]
fn documented_unknown_value_is_not_the_catch_all() {
    // XO reports a host whose metrics are missing as power_state "Unknown":
    // a documented value, distinct from a value this SDK does not know.
    let host: Host = serde_json::from_str(r#"{"power_state": "Unknown"}"#).unwrap();
    assert_eq!(host.power_state, Some(HostPowerState::UnknownValue));
    let host: Host = serde_json::from_str(r#"{"power_state": "Rebooting"}"#).unwrap();
    assert_eq!(
        host.power_state,
        Some(HostPowerState::Unknown("Rebooting".into()))
    );
}

#[test]
fn missing_fields_are_none() {
    // A collection item asked with `fields=name_label,power_state`.
    let item: Vm = serde_json::from_str(
        r#"{"name_label": "web-01", "power_state": "Halted", "href": "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b"}"#,
    )
    .unwrap();
    assert_eq!(item.name_label.as_deref(), Some("web-01"));
    assert_eq!(item.power_state, Some(PowerState::Halted));
    let href = item.href.as_ref().expect("href");
    assert_eq!(
        href.as_str(),
        "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b"
    );
    // A reference knows the id type of its object.
    assert_eq!(href.id(), VmId::new(VM_ID));
    assert_eq!(href.collection(), Some("vms"));
    assert_eq!(
        item.href,
        Some(Href::new(
            "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b"
        ))
    );
    assert_eq!(item.id, None);
    assert_eq!(item.memory, None);
    assert_eq!(item.tags, None);
    assert!(item.unknown_fields.is_empty());
    // Nothing at all, and explicit nulls (XO sends `os_version: null`).
    assert_eq!(serde_json::from_str::<Vm>("{}").unwrap(), Vm::default());
    let vm: Vm =
        serde_json::from_str(r#"{"os_version": null, "startTime": null, "installTime": null}"#)
            .unwrap();
    assert_eq!(vm, Vm::default());
    // Only the present fields are serialized.
    assert_eq!(
        serde_json::to_value(&item).unwrap(),
        json!({"name_label": "web-01", "power_state": "Halted", "href": "/rest/v0/vms/0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b"})
    );
}

#[test]
fn declared_types_are_still_checked() {
    // Tolerance is for absent fields and new values, not for a wrong type.
    let err = serde_json::from_str::<Vm>(r#"{"memory": "4 GiB"}"#).unwrap_err();
    assert!(err.to_string().contains("invalid type"), "{err}");
}

#[test]
fn host_with_duplicate_link_fields() {
    let host: Host = serde_json::from_str(
        r#"{
          "type": "host",
          "CPUs": { "cpu_count": "16", "socket_count": "1", "vendor": "GenuineIntel", "modelname": "Intel(R) Xeon(R) E-2288G CPU @ 3.70GHz" },
          "address": "192.168.1.21",
          "agentStartTime": 1747040131.25,
          "startTime": 1747040020,
          "bios_strings": { "bios-vendor": "Dell Inc." },
          "build": "release/yangtze/master/58",
          "chipset_info": { "iommu": true },
          "controlDomain": "c6b9f4d2-8e1a-4b3c-9d5e-7f6a5b4c3d2e",
          "cpus": { "cores": 16, "sockets": 1 },
          "enabled": true,
          "hostname": "xcp-host-1",
          "license_expiry": null,
          "memory": { "usage": 20937965568, "size": 68719476736 },
          "power_state": "Running",
          "productBrand": "XCP-ng",
          "version": "8.3.0",
          "PIFs": ["5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716"],
          "$PIFs": ["5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716"],
          "PCIs": [], "$PCIs": [], "PGPUs": [], "$PGPUs": [],
          "$PBDs": ["0a1b2c3d-4e5f-4061-8728-394a5b6c7d8e"],
          "supplementalPacks": [{ "name": "xcp-ng-pv-tools", "description": "XCP-ng PV tools", "author": "xcp-ng", "version": "8.3" }],
          "certificates": [{ "fingerprint": "AB:CD:EF", "notAfter": 1893456000 }],
          "id": "4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d",
          "$pool": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910"
        }"#,
    )
    .unwrap();
    assert_eq!(host.power_state, Some(HostPowerState::Running));
    assert_eq!(host.pifs, host.pifs_2);
    assert_eq!(
        host.pifs,
        Some(vec![PifId::new("5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716")])
    );
    assert_eq!(
        host.pbds,
        Some(vec![PbdId::new("0a1b2c3d-4e5f-4061-8728-394a5b6c7d8e")])
    );
    assert_eq!(
        host.id,
        Some(HostId::new("4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d"))
    );
    // A host id is also a container id (the host a VM runs on).
    assert_eq!(
        ContainerId::from(host.id.clone().unwrap()),
        ContainerId::new("4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d")
    );
    assert_eq!(
        host.pool,
        Some(PoolId::new("7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910"))
    );
    let cpus = host.cpus.as_ref().unwrap();
    assert_eq!((cpus.cores, cpus.sockets), (Some(16), Some(1)));
    assert_eq!(
        host.cpus_2
            .as_ref()
            .and_then(|c| c.get("cpu_count"))
            .map(String::as_str),
        Some("16")
    );
    // Copied from other_config: may have a fraction.
    assert_eq!(host.agent_start_time, Some(1_747_040_131.25));
    assert_eq!(host.memory.as_ref().unwrap().size, Some(68_719_476_736));
    assert_eq!(host.license_expiry, None);
    let packs = host.supplemental_packs.as_ref().unwrap();
    assert_eq!(packs[0].name.as_deref(), Some("xcp-ng-pv-tools"));
    assert_eq!(packs[0].size, None, "XCP-ng packs have no size");
    assert_eq!(
        host.certificates.as_ref().unwrap()[0].not_after,
        Some(1_893_456_000)
    );
}

#[test]
fn vdi_and_pif_enums() {
    let vdi: Vdi = serde_json::from_str(
        r#"{"type": "VDI", "VDI_type": "user", "size": 21474836480, "usage": 6442450944, "$SR": "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5", "$VBDs": [], "image_format": "vhd", "missing": false}"#,
    )
    .unwrap();
    assert_eq!(vdi.vdi_type, Some(VdiType::User));
    assert_eq!(vdi.size, Some(21_474_836_480));
    assert_eq!(
        vdi.sr,
        Some(SrId::new("1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"))
    );
    let pif: Pif = serde_json::from_str(
        r#"{"type": "PIF", "device": "eth0", "mode": "DHCP", "ipv6Mode": "None", "primaryAddressType": "IPv4", "vlan": -1, "mtu": 1500, "speed": 10000, "management": true, "$host": "4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d"}"#,
    )
    .unwrap();
    assert_eq!(pif.vlan, Some(-1));
    assert_eq!(pif.mode.as_ref().map(|m| m.as_str()), Some("DHCP"));
    assert_eq!(pif.ipv6_mode.as_ref().map(|m| m.as_str()), Some("None"));
    assert_eq!(
        pif.host,
        Some(HostId::new("4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d"))
    );
}

/// A failed action's task with a subtask, as `GET /rest/v0/tasks/{id}`
/// answers it.
const TASK: &str = r#"{
  "id": "0m8k2xq4p1",
  "properties": {
    "name": "REST API: snapshot VM",
    "objectId": "0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b",
    "type": "xo:rest-api:action",
    "userId": "c2a4e7f0-5d9e-4a0b-8f1e-3b6c7d8e9f00",
    "params": { "name_label": "before upgrade" },
    "method": "vm.snapshot",
    "extraInfo": "set by a newer XO"
  },
  "start": 1747651300123,
  "updatedAt": 1747651302456,
  "end": 1747651302456,
  "status": "failure",
  "result": { "message": "VM_BAD_POWER_STATE", "name": "XapiError", "code": "VM_BAD_POWER_STATE", "stack": "XapiError: VM_BAD_POWER_STATE\n    at ..." },
  "infos": [{ "message": "snapshot requested", "data": { "vm": "0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b" } }],
  "tasks": [
    { "id": "0m8k2xq4p2", "properties": { "name": "snapshot" }, "start": 1747651300200, "end": 1747651302400, "status": "failure", "data": { "type": "VM", "isFull": false } }
  ]
}"#;

#[test]
fn task_tree_and_failure() {
    let task: Task = serde_json::from_str(TASK).unwrap();
    assert_eq!(task.id, Some(TaskId::new("0m8k2xq4p1")));
    assert_eq!(task.status, Some(TaskStatus::Failure));
    assert_eq!(task.start, Some(1_747_651_300_123));
    let props = task.properties.as_ref().unwrap();
    assert_eq!(props.method.as_deref(), Some("vm.snapshot"));
    assert_eq!(props.object_id.as_deref(), Some(VM_ID));
    assert_eq!(
        props.user_id,
        Some(UserId::new("c2a4e7f0-5d9e-4a0b-8f1e-3b6c7d8e9f00"))
    );
    assert_eq!(
        props.params.as_ref().unwrap().get("name_label"),
        Some(&json!("before upgrade"))
    );
    // The properties bag is open: undeclared keys are kept there too.
    assert_eq!(
        props.unknown_fields.get("extraInfo"),
        Some(&json!("set by a newer XO"))
    );
    assert_eq!(
        task.result.as_ref().unwrap()["message"],
        json!("VM_BAD_POWER_STATE")
    );
    assert_eq!(
        task.infos.as_ref().unwrap()[0].message.as_deref(),
        Some("snapshot requested")
    );
    let sub = &task.tasks.as_ref().unwrap()[0];
    assert_eq!(sub.status, Some(TaskStatus::Failure));
    // Subtask data holds non-string values.
    assert_eq!(
        sub.data.as_ref().unwrap().get("isFull"),
        Some(&json!(false))
    );
    // A task status XO may add later.
    let t: Task = serde_json::from_str(r#"{"status": "aborting"}"#).unwrap();
    assert_eq!(t.status, Some(TaskStatus::Unknown("aborting".into())));
}

#[test]
fn stats_series_keep_missing_samples() {
    let stats: VmStats = serde_json::from_str(
        r#"{
          "endTimestamp": 1747651320,
          "interval": 5,
          "stats": {
            "cpus": { "0": [0.021, null, 0.034], "1": [0.018, 0.02, null] },
            "cpuUsage": [1.95, null, 2.7],
            "memory": [4294967296, 4294967296, 4294967296],
            "memoryFree": [2482978816, null, 2480000000],
            "vifs": { "rx": { "0": [1520.5, 1880, null] }, "tx": { "0": [400, 512.25, null] } },
            "xvds": { "r": { "xvda": [0, 4096, 0] }, "w": { "xvda": [8192, 0, null] }, "total": { "xvda": [8192, 4096, null] } },
            "iops": { "r": { "xvda": [0, 1, 0] }, "w": { "xvda": [2, 0, null] } },
            "runstateFullrun": [0.02, 0.03, null]
          }
        }"#,
    )
    .unwrap();
    assert_eq!(stats.end_timestamp, Some(1_747_651_320));
    assert_eq!(stats.interval, Some(5));
    let data = stats.stats.as_ref().unwrap();
    let usage = data.cpu_usage.as_ref().unwrap();
    assert_eq!(usage.len(), 3);
    assert_eq!(usage[0].as_f64(), Some(1.95));
    assert!(usage[1].is_null(), "a missing sample stays null");
    let cpu1 = &data.cpus.as_ref().unwrap()["1"];
    assert!(cpu1[2].is_null());
    let rx = &data.vifs.as_ref().unwrap().rx.as_ref().unwrap()["0"];
    assert_eq!(rx[1].as_f64(), Some(1880.0));
    let total = &data.xvds.as_ref().unwrap().total.as_ref().unwrap()["xvda"];
    assert_eq!(total[0].as_f64(), Some(8192.0));
    assert_eq!(data.vbd_latency, None);

    let host: HostStats = serde_json::from_str(
        r#"{"endTimestamp": 1747651320, "interval": 60, "stats": {"load": [0.5, null], "pifs": {"rx": {"0": [10, 20]}, "tx": {"0": [1, null]}}, "iowait": {"1c2d3e4f": [0, 0.1]}}}"#,
    )
    .unwrap();
    assert_eq!(host.interval, Some(60));
    assert!(host.stats.as_ref().unwrap().load.as_ref().unwrap()[1].is_null());

    // A pool answers one entry per host, or the error for that host.
    let pool: PoolStats = serde_json::from_str(
        r#"{
          "4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d": {"endTimestamp": 1747651320, "interval": 5, "stats": {"load": [0.2]}},
          "9e8d7c6b-5a49-4382-a716-05f4e3d2c1b0": {"error": {"message": "HOST_OFFLINE", "code": "HOST_OFFLINE"}}
        }"#,
    )
    .unwrap();
    assert_eq!(pool.len(), 2);
    assert_eq!(
        pool["4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d"].interval,
        Some(5)
    );
    let failed = &pool["9e8d7c6b-5a49-4382-a716-05f4e3d2c1b0"];
    assert_eq!(failed.stats, None);
    assert_eq!(
        failed.error.as_ref().unwrap().get("code"),
        Some(&json!("HOST_OFFLINE"))
    );
}

#[test]
fn backup_job_with_job_and_schedule_settings() {
    let job: BackupJob = serde_json::from_str(
        r#"{
          "id": "e6e0c2f8-3b1a-4c5d-9e8f-7a6b5c4d3e2f",
          "type": "backup",
          "name": "nightly web",
          "mode": "delta",
          "compression": "zstd",
          "remotes": { "id": "3a4b5c6d-7e8f-4091-a2b3-c4d5e6f70819" },
          "vms": { "id": { "__or": ["0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b", "1c8d3d6d-0a7b-4c2f-9f4f-2d3e4f5a6b7c"] } },
          "settings": {
            "": { "reportWhen": "failure", "concurrency": 2, "timeout": 7200000, "offlineSnapshot": false,
                  "longTermRetention": { "daily": { "retention": 7, "settings": {} } } },
            "5d6e7f80-91a2-4b3c-8d4e-5f60718293a4": { "exportRetention": 14, "fullInterval": 7, "snapshotRetention": 2 }
          },
          "href": "/rest/v0/backup-jobs/e6e0c2f8-3b1a-4c5d-9e8f-7a6b5c4d3e2f"
        }"#,
    )
    .unwrap();
    let job_id = BackupJobId::new("e6e0c2f8-3b1a-4c5d-9e8f-7a6b5c4d3e2f");
    assert_eq!(job.id.as_ref(), Some(&job_id));
    assert_eq!(job.href.as_ref().map(Href::id).as_ref(), Some(&job_id));
    assert_eq!(job.type_, Some(BackupJobType::Backup));
    assert_eq!(job.mode, Some(BackupMode::Delta));
    assert_eq!(job.compression.as_deref(), Some("zstd"));
    // Complex-matcher patterns stay JSON.
    assert_eq!(
        job.vms.as_ref().unwrap()["id"]["__or"][1],
        json!("1c8d3d6d-0a7b-4c2f-9f4f-2d3e4f5a6b7c")
    );
    let settings = job.settings.as_ref().unwrap();
    let general = &settings[""];
    assert_eq!(general.report_when.as_deref(), Some("failure"));
    assert_eq!(general.timeout, Some(7_200_000));
    let daily = general
        .long_term_retention
        .as_ref()
        .and_then(|r| r.daily.as_ref())
        .unwrap();
    assert_eq!(daily.retention, Some(7));
    let schedule = &settings["5d6e7f80-91a2-4b3c-8d4e-5f60718293a4"];
    assert_eq!(schedule.export_retention, Some(14));
    assert_eq!(schedule.full_interval, Some(7));
    assert_eq!(schedule.copy_retention, None);

    let job: BackupJob =
        serde_json::from_str(r#"{"type": "metadataBackup", "xoMetadata": true}"#).unwrap();
    assert_eq!(job.type_, Some(BackupJobType::MetadataBackup));
    assert_eq!(job.xo_metadata, Some(true));

    let log: BackupLog = serde_json::from_str(
        r#"{"id": "1747612800123", "message": "backup", "jobId": "e6e0c2f8-3b1a-4c5d-9e8f-7a6b5c4d3e2f", "jobName": "nightly web",
            "scheduleId": "5d6e7f80-91a2-4b3c-8d4e-5f60718293a4", "start": 1747612800123, "end": 1747613100456, "status": "skipped",
            "tasks": [{"id": "t1", "status": "success", "data": {"type": "VM", "id": "0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b"}}]}"#,
    )
    .unwrap();
    assert_eq!(log.status, Some(BackupLogStatus::Skipped));
    assert_eq!(log.job_id, Some(job_id));
    assert_eq!(
        log.tasks.as_ref().unwrap()[0].status,
        Some(TaskStatus::Success)
    );
    // Log fields the spec does not declare are kept.
    assert_eq!(
        log.unknown_fields.get("jobName"),
        Some(&json!("nightly web"))
    );
}

#[test]
fn users_and_privileges() {
    let user: User = serde_json::from_str(
        r#"{"id": "c2a4e7f0-5d9e-4a0b-8f1e-3b6c7d8e9f00", "email": "admin@example.com", "permission": "admin", "groups": [],
            "preferences": {"lang": "en", "filters": {"VM": {"running": "power_state:Running"}}}}"#,
    )
    .unwrap();
    assert_eq!(user.permission, Some(UserPermission::Admin));
    assert_eq!(
        user.id,
        Some(UserId::new("c2a4e7f0-5d9e-4a0b-8f1e-3b6c7d8e9f00"))
    );
    assert_eq!(user.groups, Some(vec![]));
    // Preferences hold nested values, not only strings.
    assert_eq!(
        user.preferences.as_ref().unwrap()["filters"]["VM"]["running"],
        json!("power_state:Running")
    );
    let privilege: AclPrivilege = serde_json::from_str(
        r#"{"id": "p1", "roleId": "r1", "resource": "vm", "action": "update:name_label", "effect": "allow", "selector": "tags:prod"}"#,
    )
    .unwrap();
    assert_eq!(privilege.effect, Some(AclEffect::Allow));
    assert_eq!(privilege.id, Some(AclPrivilegeId::new("p1")));
    assert_eq!(privilege.role_id, Some(AclRoleId::new("r1")));
    assert_eq!(privilege.action.as_deref(), Some("update:name_label"));
}

#[test]
fn dashboards() {
    let d: Dashboard = serde_json::from_str(
        r#"{
          "nPools": 2, "nHosts": 5,
          "poolsStatus": {"connected": 2, "disconnected": 0, "unreachable": 0, "unknown": 0, "total": 2},
          "hostsStatus": {"running": 4, "halted": 0, "disabled": 1, "unknown": 0, "total": 5},
          "vmsStatus": {"running": 40, "halted": 12, "paused": 0, "suspended": 1, "active": 41, "inactive": 12, "unknown": 0, "total": 53},
          "resourcesOverview": {"nCpus": 96, "memorySize": 549755813888, "srSize": 21990232555520},
          "storageRepositories": {"error": true},
          "backupRepositories": {"isEmpty": true, "isExpired": true},
          "backups": {"jobs": {"total": 3, "successful": 2, "failed": 1, "skipped": 0, "disabled": 0, "noRecentRun": 0},
                      "issues": [{"uuid": "e6e0c2f8", "name": "nightly web", "type": "backup", "logs": ["failure", "success"]}],
                      "vmsProtection": {"protected": 30, "unprotected": 20, "notInJob": 3}},
          "missingPatches": {"hasAuthorization": false}
        }"#,
    )
    .unwrap();
    assert_eq!(d.n_hosts, Some(5));
    assert_eq!(d.vms_status.as_ref().unwrap().running, Some(40));
    assert_eq!(
        d.resources_overview.as_ref().unwrap().memory_size,
        Some(549_755_813_888)
    );
    // A part that could not be computed, and one served from a stale cache.
    assert_eq!(d.storage_repositories.as_ref().unwrap().error, Some(true));
    assert_eq!(d.storage_repositories.as_ref().unwrap().size, None);
    assert_eq!(
        d.backup_repositories.as_ref().unwrap().is_expired,
        Some(true)
    );
    let issue = &d.backups.as_ref().unwrap().issues.as_ref().unwrap()[0];
    assert_eq!(issue.type_, Some(BackupJobType::Backup));
    assert_eq!(
        issue.logs.as_deref(),
        Some(&[BackupLogStatus::Failure, BackupLogStatus::Success][..])
    );
    assert_eq!(
        d.missing_patches.as_ref().unwrap().has_authorization,
        Some(false)
    );

    let vd: VmDashboard = serde_json::from_str(
        r#"{
          "alarms": [],
          "quickInfo": {"id": "0b7c2b5c-9f6a-4b1e-8f3e-1c2d3e4f5a6b", "power_state": "Running", "CPUs": {"number": 2}, "memory": {"size": 4294967296},
                        "os_version": {"name": "Debian GNU/Linux 12 (bookworm)"}, "virtualizationMode": "hvm", "tags": ["prod"],
                        "creation": {"date": "2025-03-01T09:12:44.000Z", "user": "admin@example.com"}, "host": "4f0d7a3e-2c1b-4e8f-9a6d-5b4c3a2f1e0d"},
          "backupsInfo": {"vmProtection": "protected", "replication": {},
                          "lastRuns": [{"backupJobId": "e6e0c2f8", "timestamp": 1747612800123, "status": "success"}],
                          "backupArchives": [{"id": "a1", "backupRepository": "3a4b5c6d", "timestamp": 1747612800123, "size": 1073741824}]}
        }"#,
    )
    .unwrap();
    let quick = vd.quick_info.as_ref().unwrap();
    assert_eq!(quick.power_state, Some(PowerState::Running));
    assert_eq!(quick.cpus.as_ref().unwrap().number, Some(2));
    assert_eq!(quick.memory.as_ref().unwrap().size, Some(4_294_967_296));
    let backups = vd.backups_info.as_ref().unwrap();
    assert_eq!(backups.vm_protection, Some(VmProtection::Protected));
    assert_eq!(
        backups.replication.as_ref().unwrap().id,
        None,
        "no replica yet"
    );
    assert_eq!(
        backups.backup_archives.as_ref().unwrap()[0].size,
        Some(1_073_741_824)
    );

    let pd: PoolDashboard = serde_json::from_str(
        r#"{
          "alarms": ["m1"],
          "cpuProvisioning": {"total": 32, "assigned": 40, "percent": 125},
          "hosts": {"status": {"running": 2, "halted": 0, "disabled": 0, "total": 2},
                    "topFiveUsage": {"cpu": [{"id": "h1", "name_label": "xcp-host-1", "percent": 12.5}],
                                     "ram": [{"id": "h1", "name_label": "xcp-host-1", "percent": 30.4, "size": 68719476736, "usage": 20891828633.6}]},
                    "missingPatches": {"hasAuthorization": true, "missingPatches": [{"name": "xen-hypervisor", "version": "4.17.5", "release": "3.el8", "size": 4210688, "changelog": {"date": 1746000000, "author": "XCP-ng", "description": "security fixes"}}]}},
          "vms": {"status": {"running": 10, "halted": 2, "paused": 0, "suspended": 0, "total": 12},
                  "topFiveUsage": {"cpu": [], "ram": [{"id": "v1", "name_label": "db-01", "memory": 8589934592, "memoryFree": 1073741824.5, "percent": 87.5}]}},
          "srs": {"topFiveUsage": [{"id": "s1", "name_label": "Local storage", "size": 999653638144, "physical_usage": 512000000000, "percent": 51.2}]}
        }"#,
    )
    .unwrap();
    let hosts = pd.hosts.as_ref().unwrap();
    let patch = &hosts
        .missing_patches
        .as_ref()
        .unwrap()
        .missing_patches
        .as_ref()
        .unwrap()[0];
    assert_eq!(patch.release.as_deref(), Some("3.el8"));
    assert_eq!(patch.changelog.as_ref().unwrap().date, Some(1_746_000_000));
    let ram = &hosts.top_five_usage.as_ref().unwrap().ram.as_ref().unwrap()[0];
    assert_eq!(ram.usage, Some(20_891_828_633.6));
    assert_eq!(pd.cpu_provisioning.as_ref().unwrap().percent, Some(125.0));
}

// ---------------------------------------------------------------------
// Over HTTP: the typed `send()` of the single-object GETs.

#[tokio::test]
async fn get_vm_over_http_is_typed() {
    let server = Server::always(Reply::json(200, VM)).await;
    let client = xo_sdk::Client::builder(server.url())
        .token("t0ken")
        .build()
        .unwrap();

    let id = VmId::new(VM_ID);
    let vm: Vm = client.vms().get(&id).send().await.expect("typed VM");
    assert_eq!(vm.id.as_ref(), Some(&id));
    assert_eq!(vm.name_label.as_deref(), Some("web-01"));
    assert_eq!(vm.power_state, Some(PowerState::Running));
    assert_eq!(vm.memory.as_ref().unwrap().size, Some(4_294_967_296));
    assert_eq!(
        vm.unknown_fields.get("futureField"),
        Some(&json!({ "enabled": true, "level": 3 }))
    );

    // The escape hatches: raw JSON, and the caller's own type.
    let raw: Value = client.vms().get(&id).send_as().await.unwrap();
    assert_eq!(raw["futureField"]["level"], json!(3));
    #[derive(serde::Deserialize)]
    struct Mine {
        name_label: String,
        #[serde(rename = "CPUs")]
        cpus: Value,
    }
    let mine: Mine = client.vms().get(id).send_as().await.unwrap();
    assert_eq!(mine.name_label, "web-01");
    assert_eq!(mine.cpus["number"], json!(2));

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, format!("/rest/v0/vms/{VM_ID}"));
        assert_eq!(r.header("cookie"), Some("authenticationToken=t0ken"));
    }
}

#[tokio::test]
async fn get_task_and_stats_over_http_are_typed() {
    let server = Server::script(vec![
        Reply::json(200, TASK),
        Reply::json(
            200,
            r#"{"endTimestamp": 1747651320, "interval": 60, "stats": {"cpuUsage": [null, 3.5]}}"#,
        ),
    ])
    .await;
    let client = xo_sdk::Client::builder(server.url())
        .token("t0ken")
        .build()
        .unwrap();

    let task: Task = client
        .tasks()
        .get(TaskId::new("0m8k2xq4p1"))
        .wait(true)
        .send()
        .await
        .unwrap();
    assert_eq!(task.id, Some(TaskId::new("0m8k2xq4p1")));
    assert_eq!(task.status, Some(TaskStatus::Failure));
    assert_eq!(task.tasks.as_ref().map(Vec::len), Some(1));

    let stats: VmStats = client
        .vms()
        .get_stats(VmId::new(VM_ID))
        .granularity("minutes")
        .send()
        .await
        .unwrap();
    let usage = stats.stats.unwrap().cpu_usage.unwrap();
    assert!(usage[0].is_null());
    assert_eq!(usage[1].as_f64(), Some(3.5));

    let requests = server.requests();
    assert_eq!(requests[0].target, "/rest/v0/tasks/0m8k2xq4p1?wait=true");
    assert_eq!(
        requests[1].target,
        format!("/rest/v0/vms/{VM_ID}/stats?granularity=minutes")
    );
}
