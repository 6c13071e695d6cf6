//! Constructors of XO objects with every field XO's schemas require.
//! Used by the seed and by actions that create objects.

use serde_json::{Map, Value, json};

use crate::state::uuid_of;

/// Base time of the seeded inventory (Unix seconds).
pub const T0: u64 = 1_760_000_000;

/// Fields every XAPI object carries.
pub fn xapi_base(id: &str, pool: &str, ty: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("uuid".into(), json!(id));
    m.insert("type".into(), json!(ty));
    m.insert("$pool".into(), json!(pool));
    m.insert("$poolId".into(), json!(pool));
    m.insert(
        "_xapiRef".into(),
        json!(format!("OpaqueRef:{}", uuid_of(&format!("ref:{id}")))),
    );
    m
}

/// Parameters of a VM-like object.
#[derive(Debug, Clone)]
pub struct VmSpec {
    /// id
    pub id: String,
    /// pool id
    pub pool: String,
    /// `VM`, `VM-template`, `VM-snapshot` or `VM-controller`
    pub ty: &'static str,
    /// name_label
    pub name: String,
    /// name_description
    pub description: String,
    /// power_state
    pub power_state: &'static str,
    /// resident host, when not halted
    pub host: Option<String>,
    /// vCPUs
    pub cpus: u64,
    /// memory in bytes
    pub memory: u64,
    /// tags
    pub tags: Vec<String>,
    /// `debian`, `ubuntu`, `windows`, `xcp-ng` or empty
    pub os: &'static str,
    /// main IPv4 address
    pub ip: Option<String>,
    /// creation time (seconds)
    pub created: u64,
}

/// Builds a VM-like object (no VBDs/VIFs yet).
pub fn vm(s: &VmSpec) -> Value {
    let mut m = xapi_base(&s.id, &s.pool, s.ty);
    let running = matches!(s.power_state, "Running" | "Paused");
    let container = match (&s.host, s.power_state) {
        (Some(h), "Running" | "Paused") => h.clone(),
        _ => s.pool.clone(),
    };
    let windows = s.os == "windows";
    let os_version = if running || s.power_state == "Suspended" {
        match s.os {
            "debian" => {
                json!({"name": "Debian GNU/Linux 12 (bookworm)", "distro": "debian", "major": "12", "minor": "7", "uname": "6.1.0-26-amd64"})
            }
            "ubuntu" => {
                json!({"name": "Ubuntu 24.04.1 LTS", "distro": "ubuntu", "major": "24", "minor": "04", "uname": "6.8.0-45-generic"})
            }
            "windows" => {
                json!({"name": "Microsoft Windows Server 2022 Standard|C:\\Windows|\\Device\\Harddisk0\\Partition2", "distro": "windows", "major": "10", "minor": "0"})
            }
            "xcp-ng" => {
                json!({"name": "XCP-ng 8.3.0", "distro": "xcp-ng", "major": "8", "minor": "3"})
            }
            _ => json!({}),
        }
    } else {
        json!({})
    };
    let tools = running && !s.os.is_empty();
    let mem = s.memory;
    m.insert("$VBDs".into(), json!([]));
    m.insert("$VGPUs".into(), json!([]));
    m.insert("$container".into(), json!(container));
    m.insert(
        "CPUs".into(),
        json!({"number": s.cpus, "max": s.cpus.max(2)}),
    );
    m.insert("VGPUs".into(), json!([]));
    m.insert("VIFs".into(), json!([]));
    m.insert("VTPMs".into(), json!([]));
    let mut addresses = Map::new();
    if running {
        if let Some(ip) = &s.ip {
            addresses.insert("0/ipv4/0".into(), json!(ip));
        }
    }
    m.insert("addresses".into(), Value::Object(addresses));
    m.insert("auto_poweron".into(), json!(false));
    m.insert(
        "bios_strings".into(),
        json!({"bios-vendor": "Xen", "bios-version": "", "system-manufacturer": "Xen", "system-product-name": "HVM domU"}),
    );
    m.insert("blockedOperations".into(), json!({}));
    m.insert(
        "boot".into(),
        json!({"firmware": if windows { "uefi" } else { "bios" }, "order": "cd"}),
    );
    m.insert("coresPerSocket".into(), json!(1));
    m.insert("cpuWeight".into(), json!(256));
    m.insert(
        "creation".into(),
        json!({"date": iso_date(s.created), "user": "admin"}),
    );
    m.insert("current_operations".into(), json!({}));
    m.insert("expNestedHvm".into(), json!(false));
    m.insert("isNestedVirtEnabled".into(), json!(false));
    m.insert("hasVendorDevice".into(), json!(windows));
    m.insert("high_availability".into(), json!(""));
    m.insert("installTime".into(), json!(s.created));
    m.insert("isFirmwareSupported".into(), json!(true));
    m.insert(
        "memory".into(),
        json!({"size": mem, "static": [mem.min(1 << 30), mem], "dynamic": [mem, mem], "usage": if running { mem * 3 / 5 } else { 0 }}),
    );
    if running {
        if let Some(ip) = &s.ip {
            m.insert("mainIpAddress".into(), json!(ip));
        }
    }
    m.insert("managementAgentDetected".into(), json!(tools));
    m.insert("name_description".into(), json!(s.description));
    m.insert("name_label".into(), json!(s.name));
    m.insert("needsVtpm".into(), json!(false));
    m.insert("nicType".into(), json!(if windows { "e1000" } else { "" }));
    m.insert("os_version".into(), os_version);
    m.insert(
        "other".into(),
        json!({"base_template_name": base_template(s.os)}),
    );
    m.insert("power_state".into(), json!(s.power_state));
    m.insert("pvDriversDetected".into(), json!(tools));
    if tools {
        m.insert("pvDriversVersion".into(), json!("9.3.1"));
        m.insert("pvDriversUpToDate".into(), json!(true));
        m.insert(
            "xentools".into(),
            json!({"major": 9, "minor": 3, "version": "9.3.1"}),
        );
    } else {
        m.insert("xentools".into(), json!(false));
    }
    m.insert("PV_args".into(), json!(""));
    m.insert("secureBoot".into(), json!(false));
    m.insert("snapshots".into(), json!([]));
    m.insert("startDelay".into(), json!(0));
    m.insert(
        "startTime".into(),
        if running {
            json!(s.created + 3600)
        } else {
            Value::Null
        },
    );
    m.insert("tags".into(), json!(s.tags));
    m.insert("vga".into(), json!("std"));
    m.insert("videoram".into(), json!(8));
    m.insert("viridian".into(), json!(windows));
    m.insert(
        "virtualizationMode".into(),
        json!(if s.ty == "VM-controller" { "pv" } else { "hvm" }),
    );
    m.insert("xenStoreData".into(), json!({}));
    m.insert("vulnerabilities".into(), json!({"xsa468": false}));
    Value::Object(m)
}

fn base_template(os: &str) -> &'static str {
    match os {
        "debian" => "Debian Bookworm 12",
        "ubuntu" => "Ubuntu Noble Numbat 24.04",
        "windows" => "Windows Server 2022 (64-bit)",
        _ => "Other install media",
    }
}

/// Seconds since the epoch as an ISO 8601 UTC date.
pub fn iso_date(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // civil-from-days (proleptic Gregorian)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Turns a VM object into a snapshot of it.
pub fn snapshot_of(vm: &Value, id: &str, name: &str, time: u64) -> Value {
    let mut m = vm.as_object().cloned().unwrap_or_default();
    let vm_id = vm["id"].as_str().unwrap_or_default().to_string();
    let pool = vm["$pool"].clone();
    m.insert("id".into(), json!(id));
    m.insert("uuid".into(), json!(id));
    m.insert(
        "_xapiRef".into(),
        json!(format!("OpaqueRef:{}", uuid_of(&format!("ref:{id}")))),
    );
    m.insert("type".into(), json!("VM-snapshot"));
    m.insert("$snapshot_of".into(), json!(vm_id));
    m.insert("snapshot_time".into(), json!(time));
    m.insert("name_label".into(), json!(name));
    m.insert("$container".into(), pool);
    m.insert("power_state".into(), json!("Halted"));
    m.insert("startTime".into(), Value::Null);
    m.insert("snapshots".into(), json!([]));
    m.insert("$VBDs".into(), json!([]));
    m.insert("VIFs".into(), json!([]));
    m.remove("mainIpAddress");
    Value::Object(m)
}

/// A VDI (or VDI snapshot when `snapshot_of` is set).
#[allow(clippy::too_many_arguments)]
pub fn vdi(
    id: &str,
    pool: &str,
    sr: &str,
    name: &str,
    description: &str,
    size: u64,
    tags: &[String],
    snapshot_of: Option<(&str, u64)>,
) -> Value {
    let ty = if snapshot_of.is_some() {
        "VDI-snapshot"
    } else {
        "VDI"
    };
    let mut m = xapi_base(id, pool, ty);
    m.insert("$SR".into(), json!(sr));
    m.insert("$VBDs".into(), json!([]));
    m.insert("VDI_type".into(), json!("user"));
    m.insert("cbt_enabled".into(), json!(false));
    m.insert("current_operations".into(), json!({}));
    m.insert("missing".into(), json!(false));
    m.insert("name_description".into(), json!(description));
    m.insert("name_label".into(), json!(name));
    m.insert("other_config".into(), json!({}));
    m.insert("image_format".into(), json!("vhd"));
    m.insert("size".into(), json!(size));
    m.insert("snapshots".into(), json!([]));
    m.insert("tags".into(), json!(tags));
    m.insert("usage".into(), json!(size / 4));
    match snapshot_of {
        Some((of, time)) => {
            m.insert("$snapshot_of".into(), json!(of));
            m.insert("snapshot_time".into(), json!(time));
        }
        None => {
            m.insert("chainPhysicalUsage".into(), json!(size / 4));
        }
    }
    Value::Object(m)
}

/// A VBD linking `vm` and `vdi` (`None`: an empty CD drive).
pub fn vbd(
    id: &str,
    pool: &str,
    vm: &str,
    vdi: Option<&str>,
    position: u32,
    cd: bool,
    attached: bool,
) -> Value {
    let mut m = xapi_base(id, pool, "VBD");
    let letter = (b'a' + (position % 26) as u8) as char;
    m.insert("attached".into(), json!(attached));
    m.insert("bootable".into(), json!(position == 0 && !cd));
    m.insert("device".into(), json!(format!("xvd{letter}")));
    m.insert("is_cd_drive".into(), json!(cd));
    m.insert("position".into(), json!(position.to_string()));
    m.insert("read_only".into(), json!(cd));
    m.insert("VM".into(), json!(vm));
    if let Some(v) = vdi {
        m.insert("VDI".into(), json!(v));
    }
    Value::Object(m)
}

/// A VIF.
pub fn vif(
    id: &str,
    pool: &str,
    vm: &str,
    network: &str,
    device: u32,
    mac: &str,
    attached: bool,
) -> Value {
    let mut m = xapi_base(id, pool, "VIF");
    m.insert("$VM".into(), json!(vm));
    m.insert("$network".into(), json!(network));
    m.insert("allowedIpv4Addresses".into(), json!([]));
    m.insert("allowedIpv6Addresses".into(), json!([]));
    m.insert("attached".into(), json!(attached));
    m.insert("device".into(), json!(device.to_string()));
    m.insert("lockingMode".into(), json!("network_default"));
    m.insert("MAC".into(), json!(mac));
    m.insert("MTU".into(), json!(1500));
    m.insert("other_config".into(), json!({}));
    m.insert("txChecksumming".into(), json!(true));
    Value::Object(m)
}

/// A MAC address derived from a label.
pub fn mac_of(label: &str) -> String {
    let u = uuid_of(label).replace('-', "");
    let b = u.as_bytes();
    format!(
        "02:{}{}:{}{}:{}{}:{}{}:{}{}",
        b[0] as char,
        b[1] as char,
        b[2] as char,
        b[3] as char,
        b[4] as char,
        b[5] as char,
        b[6] as char,
        b[7] as char,
        b[8] as char,
        b[9] as char
    )
}

/// A network.
pub fn network(
    id: &str,
    pool: &str,
    name: &str,
    description: &str,
    bridge: &str,
    mtu: u64,
    bonded: bool,
) -> Value {
    let mut m = xapi_base(id, pool, "network");
    m.insert("MTU".into(), json!(mtu));
    m.insert("PIFs".into(), json!([]));
    m.insert("VIFs".into(), json!([]));
    m.insert("automatic".into(), json!(false));
    m.insert("bridge".into(), json!(bridge));
    m.insert("current_operations".into(), json!({}));
    m.insert("defaultIsLocked".into(), json!(false));
    m.insert("insecureNbd".into(), json!(false));
    m.insert("isBonded".into(), json!(bonded));
    m.insert("name_description".into(), json!(description));
    m.insert("name_label".into(), json!(name));
    m.insert("nbd".into(), json!(false));
    m.insert("other_config".into(), json!({}));
    m.insert("tags".into(), json!([]));
    Value::Object(m)
}

/// A PIF.
#[allow(clippy::too_many_arguments)]
pub fn pif(
    id: &str,
    pool: &str,
    host: &str,
    network: &str,
    device: &str,
    ip: &str,
    management: bool,
    vlan: i64,
) -> Value {
    let mut m = xapi_base(id, pool, "PIF");
    m.insert("$host".into(), json!(host));
    m.insert("$network".into(), json!(network));
    m.insert("attached".into(), json!(true));
    m.insert("carrier".into(), json!(true));
    m.insert("device".into(), json!(device));
    m.insert(
        "deviceName".into(),
        json!("Intel Corporation Ethernet Controller X710 for 10GbE SFP+"),
    );
    m.insert("disallowUnplug".into(), json!(management));
    m.insert(
        "dns".into(),
        json!(if ip.is_empty() { "" } else { "10.0.0.2" }),
    );
    m.insert(
        "gateway".into(),
        json!(if ip.is_empty() { "" } else { "10.0.0.1" }),
    );
    m.insert("ip".into(), json!(ip));
    m.insert("ipv6".into(), json!([]));
    m.insert("ipv6Mode".into(), json!("None"));
    m.insert("isBondMaster".into(), json!(false));
    m.insert("isBondSlave".into(), json!(false));
    m.insert("mac".into(), json!(mac_of(&format!("pif:{id}"))));
    m.insert("management".into(), json!(management));
    m.insert(
        "mode".into(),
        json!(if ip.is_empty() { "None" } else { "Static" }),
    );
    m.insert("mtu".into(), json!(1500));
    m.insert(
        "netmask".into(),
        json!(if ip.is_empty() { "" } else { "255.255.255.0" }),
    );
    m.insert("physical".into(), json!(vlan < 0));
    m.insert("primaryAddressType".into(), json!("IPv4"));
    m.insert("speed".into(), json!(10000));
    m.insert("vlan".into(), json!(vlan));
    Value::Object(m)
}

/// The task of an action on an object XO manages itself (ACL role, backup
/// repository, server, task), shaped as xo-server 5.207.2 shows it:
/// `properties` has the request body as `args` (when there is one), no
/// progress.
pub fn xo_task(
    id: &str,
    name: &str,
    (object_id, object_type): (&str, &str),
    user: &str,
    args: &serde_json::Map<String, Value>,
    start_ms: u64,
) -> Value {
    let mut props = json!({
        "objectType": object_type,
        "name": name,
        "objectId": object_id,
        "userId": user,
        "type": "xo:rest-api:action",
    });
    if !args.is_empty() {
        props["args"] = Value::Object(args.clone());
    }
    json!({
        "id": id,
        "properties": props,
        "start": start_ms,
        "status": "pending",
        "updatedAt": start_ms,
    })
}

/// What XO shows instead of a user's password hash.
pub const PW_HASH: &str = "***obfuscated***";

/// A task object.
pub fn task(
    id: &str,
    name: &str,
    method: &str,
    object: Option<(&str, &str)>,
    user: &str,
    params: Value,
    start_ms: u64,
) -> Value {
    let mut props = json!({
        "name": name,
        "type": "xo:rest-api:action",
        "method": method,
        "userId": user,
        "params": params,
    });
    if let Some((oid, oty)) = object {
        props["objectId"] = json!(oid);
        props["objectType"] = json!(oty);
    }
    json!({
        "id": id,
        "properties": props,
        "start": start_ms,
        "updatedAt": start_ms,
        "status": "pending",
        "progress": 0,
        "infos": [],
        "warnings": [],
        "tasks": [],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::iso_date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::iso_date(1_760_000_000), "2025-10-09T08:53:20.000Z");
    }
}
