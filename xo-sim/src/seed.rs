//! The deterministic inventory every simulator starts with: 2 pools,
//! 3 hosts, 20 VMs with their disks and interfaces, storage, networks,
//! snapshots, templates, tasks, messages, alarms, backups and users.

use serde_json::{Value, json};

use crate::objects::{self, T0, VmSpec, mac_of, xapi_base};
use crate::state::Store;
use crate::state::uuid_of as uid;

/// Ids of notable seeded objects.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The admin user.
    pub admin_id: String,
    /// The admin's token (cookie value).
    pub admin_token: String,
}

struct VmRow {
    name: &'static str,
    pool: usize,
    host: usize,
    power: &'static str,
    cpus: u64,
    mem_gib: u64,
    disks_gib: &'static [u64],
    tags: &'static [&'static str],
    os: &'static str,
}

const VMS: &[VmRow] = &[
    row(
        "web-01",
        0,
        0,
        "Running",
        2,
        4,
        &[20],
        &["prod", "web"],
        "debian",
    ),
    row(
        "web-02",
        0,
        1,
        "Running",
        2,
        4,
        &[20],
        &["prod", "web"],
        "debian",
    ),
    row(
        "web-03",
        0,
        0,
        "Running",
        2,
        4,
        &[20],
        &["staging", "web"],
        "debian",
    ),
    row(
        "db-01",
        0,
        1,
        "Running",
        4,
        16,
        &[40, 200],
        &["prod", "db"],
        "ubuntu",
    ),
    row(
        "db-02",
        0,
        0,
        "Running",
        4,
        16,
        &[40, 200],
        &["prod", "db"],
        "ubuntu",
    ),
    row(
        "app-01",
        0,
        1,
        "Running",
        2,
        8,
        &[30],
        &["prod", "app"],
        "debian",
    ),
    row(
        "app-02",
        0,
        0,
        "Running",
        2,
        8,
        &[30],
        &["prod", "app"],
        "debian",
    ),
    row(
        "app-03",
        0,
        1,
        "Halted",
        2,
        8,
        &[30],
        &["staging", "app"],
        "debian",
    ),
    row(
        "ci-runner-01",
        0,
        0,
        "Running",
        8,
        16,
        &[100],
        &["ci"],
        "ubuntu",
    ),
    row(
        "ci-runner-02",
        0,
        1,
        "Paused",
        8,
        16,
        &[100],
        &["ci"],
        "ubuntu",
    ),
    row(
        "monitoring",
        0,
        0,
        "Running",
        2,
        4,
        &[50],
        &["infra"],
        "debian",
    ),
    row(
        "dns-01",
        0,
        1,
        "Running",
        1,
        1,
        &[10],
        &["infra", "dns"],
        "debian",
    ),
    row(
        "dns-02",
        0,
        0,
        "Halted",
        1,
        1,
        &[10],
        &["infra", "dns"],
        "debian",
    ),
    row(
        "win-ad-01",
        0,
        1,
        "Suspended",
        2,
        8,
        &[60],
        &["windows", "infra"],
        "windows",
    ),
    row(
        "backup-proxy",
        0,
        0,
        "Halted",
        2,
        4,
        &[20],
        &["infra", "backup"],
        "debian",
    ),
    row(
        "edge-gw-01",
        1,
        2,
        "Running",
        2,
        2,
        &[10],
        &["edge", "prod"],
        "debian",
    ),
    row(
        "edge-cache-01",
        1,
        2,
        "Running",
        4,
        8,
        &[20, 100],
        &["edge", "cache"],
        "ubuntu",
    ),
    row(
        "edge-cache-02",
        1,
        2,
        "Running",
        4,
        8,
        &[20, 100],
        &["edge", "cache"],
        "ubuntu",
    ),
    row("edge-log", 1, 2, "Halted", 1, 2, &[20], &["edge"], "debian"),
    row("edge-test", 1, 2, "Halted", 1, 1, &[10], &[], ""),
];

#[allow(clippy::too_many_arguments)]
const fn row(
    name: &'static str,
    pool: usize,
    host: usize,
    power: &'static str,
    cpus: u64,
    mem_gib: u64,
    disks_gib: &'static [u64],
    tags: &'static [&'static str],
    os: &'static str,
) -> VmRow {
    VmRow {
        name,
        pool,
        host,
        power,
        cpus,
        mem_gib,
        disks_gib,
        tags,
        os,
    }
}

const GIB: u64 = 1 << 30;

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Fills `store` with the seeded inventory.
pub fn seed(store: &mut Store, admin_email: &str, admin_password: &str) -> Seeded {
    let pools = [uid("pool:lab"), uid("pool:edge")];
    let hosts = [uid("host:1"), uid("host:2"), uid("host:3")];
    let host_pool = [0usize, 0, 1];
    let host_names = ["xcp-host-01", "xcp-host-02", "xcp-edge-01"];

    // --- SRs ---------------------------------------------------------------
    let sr_local: Vec<String> = (0..3).map(|i| uid(&format!("sr:local:{i}"))).collect();
    let sr_nfs = uid("sr:nfs");
    let sr_iso = uid("sr:iso");
    type SrRow<'a> = (String, usize, Option<usize>, &'a str, &'a str, &'a str, u64);
    let mut srs: Vec<SrRow> = Vec::new();
    for (i, id) in sr_local.iter().enumerate() {
        srs.push((
            id.clone(),
            host_pool[i],
            Some(i),
            "Local storage",
            if i == 2 { "lvm" } else { "ext" },
            "user",
            500 * GIB,
        ));
    }
    srs.push((
        sr_nfs.clone(),
        0,
        None,
        "NFS shared storage",
        "nfs",
        "user",
        4096 * GIB,
    ));
    srs.push((
        sr_iso.clone(),
        0,
        None,
        "ISO library",
        "iso",
        "iso",
        200 * GIB,
    ));
    for (id, p, host, name, sr_type, content, size) in &srs {
        let mut m = xapi_base(id, &pools[*p], "SR");
        let container = match host {
            Some(h) => hosts[*h].clone(),
            None => pools[*p].clone(),
        };
        m.insert("$PBDs".into(), json!([]));
        m.insert("$container".into(), json!(container));
        m.insert("VDIs".into(), json!([]));
        m.insert(
            "allocationStrategy".into(),
            json!(if *sr_type == "lvm" { "thick" } else { "thin" }),
        );
        m.insert("content_type".into(), json!(content));
        m.insert("current_operations".into(), json!({}));
        m.insert("inMaintenanceMode".into(), json!(false));
        m.insert(
            "name_description".into(),
            json!(match host {
                Some(h) => format!("Local storage of {}", host_names[*h]),
                None => format!("{name} of the pool"),
            }),
        );
        m.insert("name_label".into(), json!(name));
        m.insert("other_config".into(), json!({}));
        m.insert("physical_usage".into(), json!(size / 5));
        m.insert("shared".into(), json!(host.is_none()));
        m.insert("size".into(), json!(size));
        m.insert("sm_config".into(), json!({}));
        m.insert("SR_type".into(), json!(sr_type));
        m.insert("tags".into(), json!([]));
        m.insert("usage".into(), json!(size / 4));
        store.insert("srs", Value::Object(m));
    }
    // PBDs
    for (id, p, host, _, sr_type, _, _) in &srs {
        let attached_hosts: Vec<usize> = match host {
            Some(h) => vec![*h],
            None => (0..3).filter(|h| host_pool[*h] == *p).collect(),
        };
        for h in attached_hosts {
            let pbd = uid(&format!("pbd:{id}:{h}"));
            let mut m = xapi_base(&pbd, &pools[*p], "PBD");
            m.insert("attached".into(), json!(true));
            m.insert(
                "device_config".into(),
                match *sr_type {
                    "nfs" => json!({"server": "10.0.0.50", "serverpath": "/export/vms"}),
                    "iso" => json!({"location": "/opt/xensource/packages/iso", "legacy_mode": "true", "path": "/isos"}),
                    _ => json!({"device": format!("/dev/sdb")}),
                },
            );
            m.insert("host".into(), json!(hosts[h]));
            m.insert("otherConfig".into(), json!({}));
            m.insert("SR".into(), json!(id));
            store.insert("pbds", Value::Object(m));
            store.push_ref("srs", id, "$PBDs", &pbd);
        }
    }

    // --- networks and PIFs ------------------------------------------------------
    let net_main = [uid("net:lab:eth0"), uid("net:edge:eth0")];
    let net_storage = uid("net:lab:eth1");
    let net_internal = uid("net:lab:internal");
    store.insert(
        "networks",
        objects::network(
            &net_main[0],
            &pools[0],
            "Pool-wide network associated with eth0",
            "",
            "xenbr0",
            1500,
            false,
        ),
    );
    store.insert(
        "networks",
        objects::network(
            &net_main[1],
            &pools[1],
            "Pool-wide network associated with eth0",
            "",
            "xenbr0",
            1500,
            false,
        ),
    );
    store.insert(
        "networks",
        objects::network(
            &net_storage,
            &pools[0],
            "Storage network",
            "10G storage VLAN-less network",
            "xenbr1",
            9000,
            false,
        ),
    );
    store.insert(
        "networks",
        objects::network(
            &net_internal,
            &pools[0],
            "Host internal management network",
            "Network on which guests will be assigned a private link-local IP address",
            "xenapi",
            1500,
            false,
        ),
    );
    let mut host_pifs: Vec<Vec<String>> = vec![Vec::new(); 3];
    for h in 0..3 {
        let p = host_pool[h];
        let eth0 = uid(&format!("pif:{h}:eth0"));
        let ip = format!("10.0.{}.{}", p, 11 + h);
        store.insert(
            "pifs",
            objects::pif(
                &eth0,
                &pools[p],
                &hosts[h],
                &net_main[p],
                "eth0",
                &ip,
                true,
                -1,
            ),
        );
        store.push_ref("networks", &net_main[p], "PIFs", &eth0);
        host_pifs[h].push(eth0);
        if p == 0 {
            let eth1 = uid(&format!("pif:{h}:eth1"));
            store.insert(
                "pifs",
                objects::pif(
                    &eth1,
                    &pools[p],
                    &hosts[h],
                    &net_storage,
                    "eth1",
                    "",
                    false,
                    -1,
                ),
            );
            store.push_ref("networks", &net_storage, "PIFs", &eth1);
            host_pifs[h].push(eth1);
        }
    }

    // --- SMs, PCIs, PGPUs ---------------------------------------------------------
    for (p, pool) in pools.iter().enumerate() {
        for (sm_type, name, formats) in [
            ("ext", "Local EXT3 VHD", &["vhd", "qcow2"][..]),
            ("nfs", "NFS VHD", &["vhd", "qcow2"][..]),
            ("lvm", "Local LVM", &["vhd"][..]),
            ("iso", "ISO", &[][..]),
        ] {
            let id = uid(&format!("sm:{p}:{sm_type}"));
            let mut m = xapi_base(&id, pool, "SM");
            m.insert("SM_type".into(), json!(sm_type));
            m.insert("vendor".into(), json!("Citrix Systems Inc"));
            m.insert("name_label".into(), json!(name));
            m.insert(
                "name_description".into(),
                json!(format!("SR plugin for {name}")),
            );
            m.insert("configuration".into(), json!({}));
            m.insert(
                "features".into(),
                json!({"SR_PROBE": 1, "SR_SCAN": 2, "VDI_CREATE": 1}),
            );
            m.insert(
                "driver_filename".into(),
                json!(format!("/opt/xensource/sm/{}SR", sm_type.to_uppercase())),
            );
            m.insert("required_cluster_stack".into(), json!([]));
            m.insert("supported_image_formats".into(), json!(formats));
            store.insert("sms", Value::Object(m));
        }
    }
    let mut host_pcis: Vec<Vec<String>> = vec![Vec::new(); 3];
    let mut host_pgpus: Vec<Vec<String>> = vec![Vec::new(); 3];
    for h in 0..3 {
        let p = host_pool[h];
        for (n, (class, device, pci_id)) in [
            (
                "Ethernet controller",
                "Ethernet Controller X710 for 10GbE SFP+",
                "0000:03:00.0",
            ),
            (
                "VGA compatible controller",
                "ASPEED Graphics Family",
                "0000:05:00.0",
            ),
        ]
        .iter()
        .enumerate()
        {
            let id = uid(&format!("pci:{h}:{n}"));
            let mut m = xapi_base(&id, &pools[p], "PCI");
            m.insert("$host".into(), json!(hosts[h]));
            m.insert("class_name".into(), json!(class));
            m.insert("device_name".into(), json!(device));
            m.insert("pci_id".into(), json!(pci_id));
            store.insert("pcis", Value::Object(m));
            host_pcis[h].push(id.clone());
            if n == 1 {
                let g = uid(&format!("pgpu:{h}"));
                let mut m = xapi_base(&g, &pools[p], "PGPU");
                m.insert("$host".into(), json!(hosts[h]));
                m.insert("$vgpus".into(), json!([]));
                m.insert("dom0Access".into(), json!("enabled"));
                m.insert("enabledVgpuTypes".into(), json!([]));
                m.insert("host".into(), json!(hosts[h]));
                m.insert("isSystemDisplayDevice".into(), json!(true));
                m.insert("pci".into(), json!(id));
                m.insert("supportedVgpuTypes".into(), json!([]));
                m.insert("vgpus".into(), json!([]));
                store.insert("pgpus", Value::Object(m));
                host_pgpus[h].push(g);
            }
        }
    }

    // --- hosts and dom0 controllers -------------------------------------------
    for h in 0..3 {
        let p = host_pool[h];
        let id = &hosts[h];
        let mut m = xapi_base(id, &pools[p], "host");
        let pbds: Vec<String> = store
            .list("pbds")
            .iter()
            .filter(|o| o["host"] == json!(id))
            .filter_map(|o| o["id"].as_str().map(String::from))
            .collect();
        m.insert("$PBDs".into(), json!(pbds));
        m.insert("$PCIs".into(), json!(host_pcis[h]));
        m.insert("$PGPUs".into(), json!(host_pgpus[h]));
        m.insert("$PIFs".into(), json!(host_pifs[h]));
        m.insert("PCIs".into(), json!(host_pcis[h]));
        m.insert("PGPUs".into(), json!(host_pgpus[h]));
        m.insert("PIFs".into(), json!(host_pifs[h]));
        m.insert(
            "CPUs".into(),
            json!({"cpu_count": "32", "socket_count": "2", "vendor": "GenuineIntel", "speed": "2400.000", "modelname": "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz", "family": "6", "model": "106", "stepping": "6"}),
        );
        m.insert("address".into(), json!(format!("10.0.{}.{}", p, 11 + h)));
        m.insert("agentStartTime".into(), json!(T0 - 86_400 * 10));
        m.insert(
            "bios_strings".into(),
            json!({"bios-vendor": "American Megatrends Inc.", "bios-version": "3.4", "system-manufacturer": "Supermicro", "system-product-name": "SYS-1029P-WTR"}),
        );
        m.insert("build".into(), json!("release/yangtze/master/58"));
        m.insert(
            "certificates".into(),
            json!([{"notAfter": T0 + 86_400 * 3650, "fingerprint": format!("SHA256:{}", uid(&format!("cert:{h}")))}]),
        );
        m.insert("chipset_info".into(), json!({"iommu": true}));
        m.insert("controlDomain".into(), json!(uid(&format!("dom0:{h}"))));
        m.insert("cpus".into(), json!({"sockets": 2, "cores": 32}));
        m.insert("current_operations".into(), json!({}));
        m.insert("enabled".into(), json!(true));
        m.insert("hostname".into(), json!(host_names[h]));
        m.insert("hvmCapable".into(), json!(true));
        m.insert(
            "iscsiIqn".into(),
            json!(format!("iqn.2025-10.com.example:{}", host_names[h])),
        );
        m.insert("license_expiry".into(), Value::Null);
        m.insert("license_params".into(), json!({}));
        m.insert(
            "license_server".into(),
            json!({"address": "localhost", "port": "27000"}),
        );
        m.insert("logging".into(), json!({}));
        m.insert(
            "memory".into(),
            json!({"usage": 48 * GIB, "size": 256 * GIB, "total": 256 * GIB}),
        );
        m.insert("multipathing".into(), json!(false));
        m.insert("name_description".into(), json!("Default install"));
        m.insert("name_label".into(), json!(host_names[h]));
        m.insert(
            "otherConfig".into(),
            json!({"agent_start_time": (T0 - 864_000).to_string()}),
        );
        m.insert("patches".into(), json!([]));
        m.insert("power_state".into(), json!("Running"));
        m.insert("powerOnMode".into(), json!(""));
        m.insert("productBrand".into(), json!("XCP-ng"));
        m.insert("rebootRequired".into(), json!(h == 2));
        m.insert("residentVms".into(), json!([]));
        m.insert("startTime".into(), json!(T0 - 86_400 * 10));
        m.insert("supplementalPacks".into(), json!([]));
        m.insert("tags".into(), json!([]));
        m.insert("version".into(), json!("8.3.0"));
        m.insert("zstdSupported".into(), json!(true));
        store.insert("hosts", Value::Object(m));

        let dom0 = uid(&format!("dom0:{h}"));
        let v = objects::vm(&VmSpec {
            id: dom0.clone(),
            pool: pools[p].clone(),
            ty: "VM-controller",
            name: format!("Control domain on host: {}", host_names[h]),
            description: "The domain which manages physical devices and manages other domains"
                .into(),
            power_state: "Running",
            host: Some(id.clone()),
            cpus: 16,
            memory: 8 * GIB,
            tags: Vec::new(),
            os: "xcp-ng",
            ip: Some(format!("10.0.{}.{}", p, 11 + h)),
            created: T0 - 86_400 * 30,
        });
        store.insert("vm-controllers", v);
        store.push_ref("hosts", id, "residentVms", &dom0);
    }

    // --- pools -----------------------------------------------------------------
    for (p, id) in pools.iter().enumerate() {
        let mut m = xapi_base(id, id, "pool");
        m.insert("auto_poweron".into(), json!(false));
        m.insert(
            "cpus".into(),
            json!({"sockets": if p == 0 { 4 } else { 2 }, "cores": if p == 0 { 64 } else { 32 }}),
        );
        m.insert("current_operations".into(), json!({}));
        m.insert(
            "default_SR".into(),
            json!(if p == 0 {
                sr_nfs.clone()
            } else {
                sr_local[2].clone()
            }),
        );
        m.insert("HA_enabled".into(), json!(false));
        m.insert("haRebootVmOnInternalShutdown".into(), json!(true));
        m.insert("haSrs".into(), json!([]));
        m.insert(
            "master".into(),
            json!(if p == 0 {
                hosts[0].clone()
            } else {
                hosts[2].clone()
            }),
        );
        m.insert("migrationCompression".into(), json!(false));
        m.insert(
            "name_description".into(),
            json!(if p == 0 {
                "Main lab pool"
            } else {
                "Edge site pool"
            }),
        );
        m.insert(
            "name_label".into(),
            json!(if p == 0 { "Lab" } else { "Edge" }),
        );
        m.insert("otherConfig".into(), json!({}));
        m.insert("platform_version".into(), json!("3.4.0"));
        m.insert(
            "suspendSr".into(),
            json!(if p == 0 {
                sr_nfs.clone()
            } else {
                sr_local[2].clone()
            }),
        );
        m.insert(
            "tags".into(),
            json!(if p == 0 { vec!["lab"] } else { vec!["edge"] }),
        );
        m.insert("vtpmSupported".into(), json!(true));
        m.insert("zstdSupported".into(), json!(true));
        store.insert("pools", Value::Object(m));
    }

    // --- templates ---------------------------------------------------------------
    for (p, pool) in pools.iter().enumerate() {
        for (n, (name, os, methods)) in [
            (
                "Debian Bookworm 12",
                "debian",
                &["cdrom", "http", "ftp", "nfs"][..],
            ),
            ("Ubuntu Noble Numbat 24.04", "ubuntu", &["cdrom"][..]),
            ("Windows Server 2022 (64-bit)", "windows", &["cdrom"][..]),
            ("Other install media", "", &["cdrom"][..]),
        ]
        .iter()
        .enumerate()
        {
            let id = uid(&format!("template:{p}:{n}"));
            let mut v = objects::vm(&VmSpec {
                id: id.clone(),
                pool: pool.clone(),
                ty: "VM-template",
                name: name.to_string(),
                description: format!("Template which allows VM installation of {name}"),
                power_state: "Halted",
                host: None,
                cpus: if *os == "windows" { 2 } else { 1 },
                memory: if *os == "windows" { 4 * GIB } else { 2 * GIB },
                tags: Vec::new(),
                os,
                ip: None,
                created: T0 - 86_400 * 60,
            });
            v["isDefaultTemplate"] = json!(true);
            v["template_info"] = json!({
                "arch": "amd64",
                "install_methods": methods,
                "disks": [{"bootable": true, "device": "0", "size": if *os == "windows" { 32 * GIB } else { 10 * GIB }, "type": "system", "SR": ""}],
            });
            store.insert("vm-templates", v);
        }
    }
    // a custom template with a disk in the lab pool
    let custom_tpl = uid("template:custom");
    {
        let mut v = objects::vm(&VmSpec {
            id: custom_tpl.clone(),
            pool: pools[0].clone(),
            ty: "VM-template",
            name: "debian-12-cloudinit".into(),
            description: "Debian 12 cloud image with cloud-init".into(),
            power_state: "Halted",
            host: None,
            cpus: 2,
            memory: 2 * GIB,
            tags: strs(&["template", "cloudinit"]),
            os: "debian",
            ip: None,
            created: T0 - 86_400 * 20,
        });
        v["isDefaultTemplate"] = json!(false);
        v["template_info"] = json!({"arch": "amd64", "install_methods": [], "disks": []});
        store.insert("vm-templates", v);
        let vdi = uid("template:custom:vdi");
        store.insert(
            "vdis",
            objects::vdi(
                &vdi,
                &pools[0],
                &sr_nfs,
                "debian-12-cloudinit disk",
                "",
                10 * GIB,
                &[],
                None,
            ),
        );
        store.push_ref("srs", &sr_nfs, "VDIs", &vdi);
        let vbd = uid("template:custom:vbd");
        store.insert(
            "vbds",
            objects::vbd(&vbd, &pools[0], &custom_tpl, Some(&vdi), 0, false, false),
        );
        store.push_ref("vdis", &vdi, "$VBDs", &vbd);
        store.push_ref("vm-templates", &custom_tpl, "$VBDs", &vbd);
    }

    // --- VMs --------------------------------------------------------------------
    let mut vm_ids = Vec::new();
    for (i, r) in VMS.iter().enumerate() {
        let id = uid(&format!("vm:{}", r.name));
        vm_ids.push(id.clone());
        let pool = &pools[r.pool];
        let host = &hosts[r.host];
        let v = objects::vm(&VmSpec {
            id: id.clone(),
            pool: pool.clone(),
            ty: "VM",
            name: r.name.into(),
            description: format!("{} ({})", r.name, r.tags.join(", ")),
            power_state: r.power,
            host: Some(host.clone()),
            cpus: r.cpus,
            memory: r.mem_gib * GIB,
            tags: strs(r.tags),
            os: r.os,
            ip: Some(format!("10.0.{}.{}", 100 + r.pool, 10 + i)),
            created: T0 - 86_400 * (40 - i as u64),
        });
        let mut v = v;
        v["auto_poweron"] = json!(r.tags.contains(&"prod"));
        v["affinityHost"] = json!(host);
        store.insert("vms", v);
        if matches!(r.power, "Running" | "Paused") {
            store.push_ref("hosts", host, "residentVms", &id);
        }
        let attached = matches!(r.power, "Running" | "Paused");
        let sr = if r.pool == 1 {
            sr_local[2].clone()
        } else if i % 2 == 0 {
            sr_nfs.clone()
        } else {
            sr_local[r.host].clone()
        };
        for (d, size) in r.disks_gib.iter().enumerate() {
            let vdi = uid(&format!("vdi:{}:{d}", r.name));
            let label = if d == 0 {
                format!("{} system disk", r.name)
            } else {
                format!("{} data disk", r.name)
            };
            store.insert(
                "vdis",
                objects::vdi(&vdi, pool, &sr, &label, "", size * GIB, &[], None),
            );
            store.push_ref("srs", &sr, "VDIs", &vdi);
            let vbd = uid(&format!("vbd:{}:{d}", r.name));
            store.insert(
                "vbds",
                objects::vbd(&vbd, pool, &id, Some(&vdi), d as u32, false, attached),
            );
            store.push_ref("vdis", &vdi, "$VBDs", &vbd);
            store.push_ref("vms", &id, "$VBDs", &vbd);
        }
        if i % 4 == 0 {
            let vbd = uid(&format!("vbd:{}:cd", r.name));
            store.insert(
                "vbds",
                objects::vbd(&vbd, pool, &id, None, 3, true, attached),
            );
            store.push_ref("vms", &id, "$VBDs", &vbd);
        }
        let mut nets = vec![net_main[r.pool].clone()];
        if r.tags.contains(&"db") {
            nets.push(net_storage.clone());
        }
        for (n, net) in nets.iter().enumerate() {
            let vif = uid(&format!("vif:{}:{n}", r.name));
            store.insert(
                "vifs",
                objects::vif(&vif, pool, &id, net, n as u32, &mac_of(&vif), attached),
            );
            store.push_ref("vms", &id, "VIFs", &vif);
            store.push_ref("networks", net, "VIFs", &vif);
        }
    }

    // --- snapshots -----------------------------------------------------------------
    for (n, vm_name) in ["web-01", "db-01", "edge-gw-01"].iter().enumerate() {
        let vm_id = uid(&format!("vm:{vm_name}"));
        let snap_id = uid(&format!("snapshot:{vm_name}"));
        let time = T0 - 3600 * (n as u64 + 1);
        let Some(vm) = store.get("vms", &vm_id).cloned() else {
            continue;
        };
        let pool = vm["$pool"].as_str().unwrap_or_default().to_string();
        let snap = objects::snapshot_of(&vm, &snap_id, &format!("{vm_name} before upgrade"), time);
        store.insert("vm-snapshots", snap);
        store.push_ref("vms", &vm_id, "snapshots", &snap_id);
        let vbds: Vec<String> = vm["$VBDs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for (d, vbd_id) in vbds.iter().enumerate() {
            let Some(vbd) = store.get("vbds", vbd_id).cloned() else {
                continue;
            };
            let Some(vdi_id) = vbd["VDI"].as_str().map(String::from) else {
                continue;
            };
            let Some(vdi) = store.get("vdis", &vdi_id).cloned() else {
                continue;
            };
            let sid = uid(&format!("vdi-snapshot:{vm_name}:{d}"));
            let sr = vdi["$SR"].as_str().unwrap_or_default().to_string();
            store.insert(
                "vdi-snapshots",
                objects::vdi(
                    &sid,
                    &pool,
                    &sr,
                    vdi["name_label"].as_str().unwrap_or_default(),
                    "",
                    vdi["size"].as_u64().unwrap_or(0),
                    &[],
                    Some((&vdi_id, time)),
                ),
            );
            store.push_ref("vdis", &vdi_id, "snapshots", &sid);
            store.push_ref("srs", &sr, "VDIs", &sid);
            let svbd = uid(&format!("vbd-snapshot:{vm_name}:{d}"));
            store.insert(
                "vbds",
                objects::vbd(&svbd, &pool, &snap_id, Some(&sid), d as u32, false, false),
            );
            store.push_ref("vdi-snapshots", &sid, "$VBDs", &svbd);
            store.push_ref("vm-snapshots", &snap_id, "$VBDs", &svbd);
        }
    }

    // --- users, groups, ACLs -----------------------------------------------------------
    let admin_id = uid("user:admin");
    let operator_id = uid("user:operator");
    let ops_group = uid("group:ops");
    let role_id = uid("acl-role:vm-operator");
    let tpl_role = uid("acl-role:template:read-only");
    store.insert(
        "users",
        json!({"id": admin_id, "email": admin_email, "name": admin_email, "permission": "admin", "groups": [], "preferences": {}, "authProviders": {}}),
    );
    store
        .passwords
        .insert(admin_id.clone(), admin_password.to_string());
    store.insert(
        "users",
        json!({"id": operator_id, "email": "operator@example.com", "name": "operator@example.com", "permission": "none", "groups": [ops_group], "preferences": {}}),
    );
    store
        .passwords
        .insert(operator_id.clone(), "operator".to_string());
    store.insert(
        "groups",
        json!({"id": ops_group, "name": "ops", "users": [operator_id], "aclRoleIds": [role_id]}),
    );
    let privs = [
        ("vm", "read", "tags:web"),
        ("vm", "start", "tags:web"),
        ("vm", "shutdown", "tags:web"),
        ("host", "read", ""),
        ("pool", "read", ""),
        ("task", "read", ""),
    ];
    let mut priv_ids = Vec::new();
    for (n, (res, action, selector)) in privs.iter().enumerate() {
        let pid = uid(&format!("acl-privilege:{n}"));
        let mut p = json!({"id": pid, "resource": res, "action": action, "effect": "allow", "roleId": role_id});
        if !selector.is_empty() {
            p["selector"] = json!(selector);
        }
        store.insert("acl-privileges", p);
        priv_ids.push(pid);
    }
    store.insert(
        "acl-roles",
        json!({"id": role_id, "name": "VM operator", "description": "Start and stop web VMs", "privilegeIds": priv_ids, "groupIds": [ops_group], "userIds": []}),
    );
    let tpl_priv = uid("acl-privilege:template:read");
    store.insert(
        "acl-privileges",
        json!({"id": tpl_priv, "resource": "vm", "action": "read", "effect": "allow", "roleId": tpl_role}),
    );
    store.insert(
        "acl-roles",
        json!({"id": tpl_role, "name": "Read-only VMs", "description": "Built-in template: read VMs", "privilegeIds": [tpl_priv], "isTemplate": true, "roleTemplateId": 1}),
    );

    // --- servers, proxies ------------------------------------------------------------
    for (p, pool) in pools.iter().enumerate() {
        let id = uid(&format!("server:{p}"));
        store.insert(
            "servers",
            json!({
                "id": id, "host": format!("10.0.{}.{}", p, 11 + 2 * p), "label": if p == 0 { "Lab" } else { "Edge" },
                "username": "root", "allowUnauthorized": true, "enabled": true, "readOnly": false,
                "status": "connected", "master": if p == 0 { hosts[0].clone() } else { hosts[2].clone() },
                "poolId": pool, "poolNameLabel": if p == 0 { "Lab" } else { "Edge" },
                "poolNameDescription": if p == 0 { "Main lab pool" } else { "Edge site pool" },
            }),
        );
    }
    let backup_proxy_vm = uid("vm:backup-proxy");
    let proxy_id = uid("proxy:1");
    store.insert(
        "proxies",
        json!({"id": proxy_id, "name": "backup-proxy", "url": "https://10.0.100.24", "address": "10.0.100.24:443", "version": "0.29.21", "vmUuid": backup_proxy_vm}),
    );

    // --- backups ---------------------------------------------------------------------
    let repo_nfs = uid("repo:nfs");
    let repo_s3 = uid("repo:s3");
    store.insert(
        "backup-repositories",
        json!({"id": repo_nfs, "name": "NFS backups", "url": "nfs://10.0.0.50:/export/backups", "enabled": true, "options": "", "benchmarks": [{"readRate": 412_000_000u64, "writeRate": 268_000_000u64, "timestamp": (T0 - 86_400) * 1000}]}),
    );
    store.insert(
        "backup-repositories",
        json!({"id": repo_s3, "name": "S3 offsite", "url": "s3://AKIAEXAMPLE:secret@s3.example.com/xo-backups", "enabled": true, "proxy": proxy_id}),
    );
    let job_vm = uid("job:vm");
    let job_meta = uid("job:metadata");
    let job_mirror = uid("job:mirror");
    let sched_vm = uid("schedule:vm");
    let sched_meta = uid("schedule:metadata");
    let sched_mirror = uid("schedule:mirror");
    let protected: Vec<String> = ["web-01", "web-02", "db-01", "db-02"]
        .iter()
        .map(|n| uid(&format!("vm:{n}")))
        .collect();
    store.insert(
        "backup-jobs",
        json!({
            "id": job_vm, "type": "backup", "name": "Nightly prod delta", "mode": "delta", "compression": "zstd",
            "remotes": {"id": repo_nfs}, "vms": {"id": {"__or": protected}},
            "settings": {"": {"reportWhen": "failure", "timezone": "Europe/Paris", "concurrency": 2}, sched_vm.clone(): {"exportRetention": 7}},
        }),
    );
    store.insert(
        "backup-jobs",
        json!({
            "id": job_meta, "type": "metadataBackup", "name": "XO config backup", "xoMetadata": true, "userId": admin_id,
            "pools": {"id": {"__or": pools}}, "remotes": {"id": repo_nfs},
            "settings": {"": {"reportWhen": "failure"}, sched_meta.clone(): {"retentionXoMetadata": 7, "retentionPoolMetadata": 7}},
        }),
    );
    store.insert(
        "backup-jobs",
        json!({
            "id": job_mirror, "type": "mirrorBackup", "name": "Offsite mirror", "mode": "delta", "sourceRemote": repo_nfs,
            "remotes": {"id": repo_s3}, "settings": {"": {"reportWhen": "failure"}, sched_mirror.clone(): {"exportRetention": 14}},
        }),
    );
    for (id, job, name, cron, enabled) in [
        (&sched_vm, &job_vm, "nightly", "0 1 * * *", true),
        (&sched_meta, &job_meta, "daily config", "30 0 * * *", true),
        (
            &sched_mirror,
            &job_mirror,
            "weekly mirror",
            "0 4 * * 0",
            false,
        ),
    ] {
        store.insert(
            "schedules",
            json!({"id": id, "jobId": job, "name": name, "cron": cron, "enabled": enabled, "timezone": "Europe/Paris"}),
        );
    }
    let run1 = (T0 - 86_400 + 3600) * 1000;
    store.insert(
        "backup-logs",
        json!({
            "id": format!("{run1}"), "message": "backup", "jobId": job_vm, "jobName": "Nightly prod delta", "scheduleId": sched_vm,
            "data": {"mode": "delta", "reportWhen": "failure"}, "start": run1, "end": run1 + 420_000, "status": "success",
            "tasks": [],
        }),
    );
    let run2 = (T0 - 3600) * 1000;
    store.insert(
        "backup-logs",
        json!({
            "id": format!("{run2}"), "message": "backup", "jobId": job_vm, "jobName": "Nightly prod delta", "scheduleId": sched_vm,
            "data": {"mode": "delta", "reportWhen": "failure"}, "start": run2, "end": run2 + 60_000, "status": "failure",
            "result": {"message": "all targets have failed, step: writer.beforeBackup()", "name": "Error"},
            "tasks": [],
        }),
    );
    let restore = (T0 - 7200) * 1000;
    store.insert(
        "restore-logs",
        json!({"id": format!("{restore}"), "message": "restore", "start": restore, "end": restore + 90_000, "status": "success",
               "data": {"backupId": "", "jobId": job_vm, "srId": sr_nfs, "time": restore}, "infos": []}),
    );
    for (n, vm_name) in ["web-01", "db-01"].iter().enumerate() {
        let vm_id = uid(&format!("vm:{vm_name}"));
        let ts = (T0 - 86_400 + 3600) * 1000 + n as u64 * 60_000;
        let id = format!("{repo_nfs}//xo-vm-backups/{vm_id}/20251008T090000Z-{n}.json");
        let disk = uid(&format!("vdi:{vm_name}:0"));
        store.insert(
            "backup-archives",
            json!({
                "id": id, "type": "xo-vm-backup", "backupRepository": repo_nfs, "jobId": job_vm, "scheduleId": sched_vm,
                "mode": "delta", "size": 3 * GIB, "timestamp": ts, "isImmutable": false, "withMemory": false,
                "differencingVhds": 1, "dynamicVhds": 0,
                "disks": [{"id": format!("/xo-vm-backups/{vm_id}/vdis/{job_vm}/{disk}/20251008T090000Z.vhd"), "name": format!("{vm_name} system disk"), "uuid": disk}],
                "vm": {"uuid": vm_id, "name_label": vm_name, "name_description": "", "tags": ["prod"]},
            }),
        );
    }

    // --- messages and alarms -------------------------------------------------------------
    let msgs = [
        ("VM_STARTED", "vm:web-01", "VM 'web-01' started"),
        ("VM_SHUTDOWN", "vm:app-03", "VM 'app-03' shut down"),
        (
            "VM_SNAPSHOTTED",
            "vm:db-01",
            "Snapshot of VM 'db-01' created",
        ),
        (
            "HOST_CLOCK_SKEW_DETECTED",
            "host:2",
            "The clock of host xcp-host-02 is 2.3 seconds ahead",
        ),
        (
            "PBD_PLUG_FAILED_ON_SERVER_START",
            "sr:nfs",
            "Failed to plug PBD on server start",
        ),
        (
            "POOL_CPU_FEATURES_UP",
            "pool:edge",
            "Pool CPU features increased",
        ),
    ];
    for (n, (name, obj, body)) in msgs.iter().enumerate() {
        let id = uid(&format!("message:{n}"));
        let oid = uid(obj);
        let pool = pool_of(store, &oid).unwrap_or_else(|| pools[0].clone());
        let mut m = xapi_base(&id, &pool, "message");
        m.insert("$object".into(), json!(oid));
        m.insert("body".into(), json!(body));
        m.insert("name".into(), json!(name));
        m.insert("time".into(), json!(T0 - 600 * (n as u64 + 1)));
        store.insert("messages", Value::Object(m));
    }
    let alarms = [
        ("cpu_usage", "0.953", "vm:ci-runner-01", "VM"),
        ("memory_free_kib", "102400", "host:2", "host"),
        ("physical_utilisation", "0.91", "sr:local:0", "SR"),
    ];
    for (n, (name, value, obj, ty)) in alarms.iter().enumerate() {
        let id = uid(&format!("alarm:{n}"));
        let oid = uid(obj);
        let pool = pool_of(store, &oid).unwrap_or_else(|| pools[0].clone());
        let coll = match *ty {
            "VM" => "vms",
            "host" => "hosts",
            _ => "srs",
        };
        let mut m = xapi_base(&id, &pool, "message");
        m.insert("name".into(), json!("ALARM"));
        m.insert("time".into(), json!(T0 - 300 * (n as u64 + 1)));
        m.insert("body".into(), json!({"name": name, "value": value}));
        m.insert(
            "object".into(),
            json!({"type": ty, "uuid": oid, "href": format!("/rest/v0/{coll}/{oid}")}),
        );
        store.insert("alarms", Value::Object(m));
    }

    // --- finished tasks ------------------------------------------------------------------
    let tasks = [
        (
            "REST API: start VM",
            "vm.start",
            "vm:web-01",
            "VM",
            "success",
            None,
        ),
        (
            "REST API: snapshot VM",
            "vm.snapshot",
            "vm:db-01",
            "VM",
            "success",
            Some(json!({"id": uid("snapshot:db-01")})),
        ),
        (
            "REST API: clean_shutdown VM",
            "vm.clean_shutdown",
            "vm:app-03",
            "VM",
            "failure",
            Some(
                json!({"message": "VM_LACKS_FEATURE(OpaqueRef:0)", "name": "XapiError", "code": "VM_LACKS_FEATURE", "params": ["OpaqueRef:0"]}),
            ),
        ),
    ];
    for (n, (name, method, obj, ty, status, result)) in tasks.iter().enumerate() {
        let id = format!("0mgs{n}seed");
        let start = (T0 - 1800 + 60 * n as u64) * 1000;
        let mut t = objects::task(
            &id,
            name,
            method,
            Some((&uid(obj), ty)),
            &admin_id,
            json!({}),
            start,
        );
        t["status"] = json!(status);
        t["end"] = json!(start + 4200);
        t["updatedAt"] = json!(start + 4200);
        t["progress"] = json!(100);
        if let Some(r) = result {
            t["result"] = r.clone();
        }
        store.insert("tasks", t);
    }

    // --- admin token --------------------------------------------------------------------------
    let admin_token = admin_token(store, &admin_id);
    let _ = (net_internal, vm_ids);
    Seeded {
        admin_id,
        admin_token,
    }
}

/// One built-in ACL role template: template id, name, description,
/// privileges as (resource, action), all `allow` without selector.
type RoleTemplate = (
    u64,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// XO's built-in ACL role templates (as a fresh xo-server 5.207.2 lists
/// them): template id, name, description, privileges (resource, action).
const ROLE_TEMPLATES: &[RoleTemplate] = &[
    (
        1,
        "Read only",
        "Access the whole infra in read-only mode",
        &[
            ("proxy", "read"),
            ("vgpu", "read"),
            ("restore-log", "read"),
            ("vdi", "read"),
            ("acl-privilege", "read"),
            ("pgpu", "read"),
            ("vm", "read"),
            ("pif", "read"),
            ("server", "read"),
            ("pool", "read"),
            ("vm-snapshot", "read"),
            ("acl-role", "read"),
            ("sm", "read"),
            ("vif", "read"),
            ("vdi-unmanaged", "read"),
            ("message", "read"),
            ("backup-job", "read"),
            ("alarm", "read"),
            ("group", "read"),
            ("vm-controller", "read"),
            ("vgpuType", "read"),
            ("network", "read"),
            ("backup-repository", "read"),
            ("backup-log", "read"),
            ("vdi-snapshot", "read"),
            ("vbd", "read"),
            ("host", "read"),
            ("user", "read"),
            ("vtpm", "read"),
            ("task", "read"),
            ("pci", "read"),
            ("sr", "read"),
            ("pbd", "read"),
            ("vm-template", "read"),
            ("gpuGroup", "read"),
            ("schedule", "read"),
            ("backup-archive", "read"),
        ],
    ),
    (
        2,
        "VMs power state manager",
        "Allow to manage VM's power state",
        &[
            ("vm", "shutdown"),
            ("vm", "unpause"),
            ("vm", "reboot"),
            ("vm", "pause"),
            ("vm", "start"),
            ("vm", "resume"),
            ("vm", "suspend"),
        ],
    ),
    (
        3,
        "VMs creator",
        "Allow to create VMs",
        &[
            ("vdi", "boot"),
            ("vif", "create"),
            ("host", "allow-vm"),
            ("vm-template", "instantiate"),
            ("vdi", "create"),
            ("pool", "create:vm"),
        ],
    ),
    (
        4,
        "VMs read only",
        "Allow to only see VMs",
        &[("vm", "read")],
    ),
    (
        5,
        "VMs administrator",
        "Full control over VM actions",
        &[("vm", "*"), ("vm-snapshot", "read")],
    ),
    (
        6,
        "Network administrator",
        "Manage networks across pools, hosts and VMs",
        &[
            ("network", "*"),
            ("host", "read"),
            ("pool", "create:network"),
            ("pif", "update"),
            ("vif", "*"),
            ("pif", "read"),
            ("pool", "read"),
            ("vm", "read"),
        ],
    ),
    (
        7,
        "Administrator",
        "Full access to the entire infrastructure.",
        &[
            ("pool", "*"),
            ("vbd", "*"),
            ("vdi-unmanaged", "*"),
            ("sr", "*"),
            ("alarm", "*"),
            ("pgpu", "*"),
            ("schedule", "*"),
            ("pbd", "*"),
            ("proxy", "*"),
            ("vm-snapshot", "*"),
            ("server", "*"),
            ("user", "*"),
            ("backup-archive", "*"),
            ("backup-repository", "*"),
            ("restore-log", "*"),
            ("backup-job", "*"),
            ("gpuGroup", "*"),
            ("task", "*"),
            ("vm-controller", "*"),
            ("vgpuType", "*"),
            ("vm", "*"),
            ("pci", "*"),
            ("vtpm", "*"),
            ("sm", "*"),
            ("acl-privilege", "*"),
            ("message", "*"),
            ("pif", "*"),
            ("host", "*"),
            ("vif", "*"),
            ("vdi", "*"),
            ("acl-role", "*"),
            ("backup-log", "*"),
            ("vm-template", "*"),
            ("vgpu", "*"),
            ("vdi-snapshot", "*"),
            ("network", "*"),
            ("group", "*"),
        ],
    ),
    (
        8,
        "Storage administrator",
        "Full control over storage: SRs, VDIs, VBDs, PBDs and backup repositories",
        &[
            ("vdi", "*"),
            ("sm", "read"),
            ("backup-repository", "*"),
            ("pbd", "*"),
            ("vdi-unmanaged", "read"),
            ("sr", "*"),
            ("vbd", "*"),
        ],
    ),
];

/// Inserts XO's built-in ACL role templates and their privileges.
fn role_templates(store: &mut Store) {
    for (template, name, description, privileges) in ROLE_TEMPLATES {
        let role = uid(&format!("acl-role-template:{template}"));
        let mut ids = Vec::new();
        for (n, (resource, action)) in privileges.iter().enumerate() {
            let id = uid(&format!("acl-role-template:{template}:{n}"));
            store.insert(
                "acl-privileges",
                json!({"action": action, "effect": "allow", "resource": resource, "roleId": role, "id": id}),
            );
            ids.push(id);
        }
        store.insert(
            "acl-roles",
            json!({"name": name, "description": description, "roleTemplateId": template, "isTemplate": true, "id": role, "privilegeIds": ids}),
        );
    }
}

/// The state of a freshly reset xo-server without hypervisor: the admin
/// user, XO's built-in ACL role templates, and the simulator's admin token.
pub fn seed_empty(store: &mut Store, admin_email: &str, admin_password: &str) -> Seeded {
    let admin_id = uid("user:admin");
    store.insert(
        "users",
        json!({"email": admin_email, "permission": "admin", "pw_hash": objects::PW_HASH, "groups": [], "preferences": {}, "id": admin_id, "name": admin_email}),
    );
    store
        .passwords
        .insert(admin_id.clone(), admin_password.to_string());
    role_templates(store);
    store.hypervisor = false;
    let admin_token = admin_token(store, &admin_id);
    Seeded {
        admin_id,
        admin_token,
    }
}

/// The simulator's own admin token (cookie value of [`crate::Sim::token`]).
fn admin_token(store: &mut Store, admin_id: &str) -> String {
    let admin_token = uid("token:admin").replace('-', "");
    store.tokens.insert(
        admin_token.clone(),
        json!({"id": admin_token, "user_id": admin_id, "created_at": T0 * 1000, "expiration": (T0 + 86_400 * 3650) * 1000, "description": "xo-sim admin token", "client": {"id": "xo-sim"}}),
    );
    admin_token
}

fn pool_of(store: &Store, id: &str) -> Option<String> {
    store
        .find_any(id)
        .and_then(|(_, v)| v["$pool"].as_str().map(String::from))
}
