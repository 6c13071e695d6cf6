//! The in-memory object store and its change feed.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::error::{XoError, XoResult};

/// One collection of the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// URL segment under `/rest/v0` (`vms`).
    pub coll: &'static str,
    /// XO type, as in the objects' `type` and in event subscriptions (`VM`).
    pub xo_type: &'static str,
    /// Noun of 404 messages (`no such VM …`), XO's own: `remote` for a
    /// backup repository, `xenServer` for a server, `role`, `privilege`.
    pub noun: &'static str,
    /// Resource name in ACL privileges.
    pub acl: &'static str,
}

macro_rules! kinds {
    ($($c:literal $t:literal $n:literal $a:literal),* $(,)?) => {
        /// Every collection the simulator stores.
        pub const KINDS: &[Kind] = &[$(Kind { coll: $c, xo_type: $t, noun: $n, acl: $a }),*];
    };
}

kinds! {
    "vms" "VM" "VM" "vm",
    "vm-templates" "VM-template" "VM-template" "vm-template",
    "vm-snapshots" "VM-snapshot" "VM-snapshot" "vm-snapshot",
    "vm-controllers" "VM-controller" "VM-controller" "vm-controller",
    "vifs" "VIF" "VIF" "vif",
    "vdis" "VDI" "VDI" "vdi",
    "vdi-snapshots" "VDI-snapshot" "VDI-snapshot" "vdi-snapshot",
    "vbds" "VBD" "VBD" "vbd",
    "srs" "SR" "SR" "sr",
    "sms" "SM" "SM" "sm",
    "pools" "pool" "pool" "pool",
    "pifs" "PIF" "PIF" "pif",
    "pgpus" "PGPU" "PGPU" "pgpu",
    "pcis" "PCI" "PCI" "pci",
    "pbds" "PBD" "PBD" "pbd",
    "networks" "network" "network" "network",
    "messages" "message" "message" "message",
    "alarms" "alarm" "alarm" "alarm",
    "hosts" "host" "host" "host",
    "users" "user" "user" "user",
    "groups" "group" "group" "group",
    "tasks" "task" "task" "task",
    "servers" "server" "xenServer" "server",
    "schedules" "schedule" "schedule" "schedule",
    "proxies" "proxy" "proxy" "proxy",
    "backup-repositories" "backup-repository" "remote" "backup-repository",
    "backup-jobs" "backup-job" "backup job" "backup-job",
    "backup-logs" "backup-log" "backup log" "backup-log",
    "restore-logs" "restore-log" "restore log" "restore-log",
    "backup-archives" "backup-archive" "backup archive" "backup-archive",
    "acl-roles" "acl-role" "role" "acl-role",
    "acl-privileges" "acl-privilege" "privilege" "acl-privilege",
}

/// Finds a collection by its URL segment.
pub fn kind(coll: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.coll == coll)
}

/// Finds a collection by XO type (`VM`, `host`, …).
pub fn kind_by_type(xo_type: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.xo_type == xo_type)
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created.
    Add,
    /// Modified.
    Update,
    /// Deleted.
    Remove,
}

impl ChangeKind {
    /// `add`, `update` or `remove`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Add => "add",
            ChangeKind::Update => "update",
            ChangeKind::Remove => "remove",
        }
    }
}

/// A change of one object, broadcast to event streams and waiters.
#[derive(Debug, Clone)]
pub struct Change {
    /// Collection of the object.
    pub kind: &'static Kind,
    /// What happened.
    pub change: ChangeKind,
    /// The object after the change (before it, for a removal).
    pub object: Value,
}

/// A record of one import request, for tests to check what arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// Method and path of the request (`PUT /rest/v0/vdis/<id>.raw`).
    pub route: String,
    /// The object the import targeted (pool, SR or VDI id).
    pub target: String,
    /// The object created or written.
    pub object_id: Option<String>,
    /// Bytes received.
    pub bytes: u64,
    /// FNV-1a 64-bit hash of the bytes received.
    pub fnv1a64: u64,
    /// Content-Length announced by the client, if any.
    pub content_length: Option<u64>,
    /// Whether the request completed successfully.
    pub accepted: bool,
}

/// Per-connection SSE subscriptions: collection → fields (`None` = `*`).
pub type Subscriptions = BTreeMap<String, Option<Vec<String>>>;

/// The whole mutable state of a simulator.
#[derive(Debug)]
pub struct Store {
    objects: BTreeMap<&'static str, BTreeMap<String, Value>>,
    tx: broadcast::Sender<Change>,
    /// Passwords by user id.
    pub passwords: BTreeMap<String, String>,
    /// Authentication tokens by secret.
    pub tokens: BTreeMap<String, Value>,
    /// Received imports.
    pub imports: Vec<ImportRecord>,
    /// SSE connections and their subscriptions.
    pub sse: BTreeMap<String, Subscriptions>,
    /// Data sources enabled through `/vms/{id}/stats/data_source`.
    pub data_sources: BTreeMap<String, Vec<String>>,
    /// Whether a hypervisor answers the servers added through the API
    /// (`false` with [`crate::Seed::Empty`]: connecting fails as when
    /// nothing listens at the server's address).
    pub hypervisor: bool,
    rng: u64,
    task_seq: u64,
    last_task_ms: u64,
}

fn base36(mut n: u64) -> String {
    let mut s = Vec::new();
    loop {
        let d = (n % 36) as u8;
        s.push(if d < 10 { b'0' + d } else { b'a' + d - 10 });
        n /= 36;
        if n == 0 {
            break;
        }
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// splitmix64 step.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a 64 over bytes, continuing from `h` (start with [`FNV_OFFSET`]).
pub fn fnv1a64(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// FNV-1a 64 offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// A UUID-shaped id derived deterministically from a seed.
pub fn uuid_from(seed: u64) -> String {
    let mut s = seed;
    let a = splitmix(&mut s);
    let b = splitmix(&mut s);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0x0fff) as u16,
        (0x8000 | (b >> 48) as u16 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// A deterministic UUID from a label.
pub fn uuid_of(label: &str) -> String {
    uuid_from(fnv1a64(FNV_OFFSET, label.as_bytes()))
}

impl Store {
    /// An empty store.
    pub fn new(tx: broadcast::Sender<Change>) -> Self {
        Store {
            objects: KINDS.iter().map(|k| (k.coll, BTreeMap::new())).collect(),
            tx,
            passwords: BTreeMap::new(),
            tokens: BTreeMap::new(),
            imports: Vec::new(),
            sse: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            hypervisor: true,
            rng: 0x5eed_0f70_5133,
            task_seq: 0,
            last_task_ms: 0,
        }
    }

    /// A fresh deterministic UUID.
    pub fn new_uuid(&mut self) -> String {
        let n = splitmix(&mut self.rng);
        uuid_from(n)
    }

    /// A fresh random-looking secret (tokens).
    pub fn new_secret(&mut self) -> String {
        let a = splitmix(&mut self.rng);
        let b = splitmix(&mut self.rng);
        let raw = format!("{a:016x}{b:016x}");
        raw.chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 3 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect::<String>()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    }

    /// A fresh task id shaped like XO's (`0mx9fjve7-5ssqck3nm94`: the
    /// creation time in milliseconds, base 36, then a random part), so
    /// tasks sort by creation as in XO.
    pub fn new_task_id(&mut self) -> String {
        self.task_seq += 1;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.last_task_ms = now.max(self.last_task_ms + 1);
        let random = splitmix(&mut self.rng) >> 12;
        format!("0{}-{}", base36(self.last_task_ms), base36(random))
    }

    fn map(&self, k: &Kind) -> &BTreeMap<String, Value> {
        static EMPTY: BTreeMap<String, Value> = BTreeMap::new();
        self.objects.get(k.coll).unwrap_or(&EMPTY)
    }

    /// All objects of a collection, in id order.
    pub fn list(&self, coll: &str) -> Vec<&Value> {
        match kind(coll) {
            Some(k) => self.map(k).values().collect(),
            None => Vec::new(),
        }
    }

    /// One object.
    pub fn get(&self, coll: &str, id: &str) -> Option<&Value> {
        self.objects.get(coll).and_then(|m| m.get(id))
    }

    /// One object or XO's 404.
    pub fn need(&self, coll: &str, id: &str) -> XoResult<&Value> {
        self.get(coll, id).ok_or_else(|| {
            let noun = kind(coll).map(|k| k.noun).unwrap_or("object");
            XoError::no_such(noun, id)
        })
    }

    /// Finds an object in any collection.
    pub fn find_any(&self, id: &str) -> Option<(&'static Kind, &Value)> {
        KINDS.iter().find_map(|k| {
            self.objects
                .get(k.coll)
                .and_then(|m| m.get(id))
                .map(|v| (k, v))
        })
    }

    fn emit(&self, kind: &'static Kind, change: ChangeKind, object: Value) {
        let _ = self.tx.send(Change {
            kind,
            change,
            object,
        });
    }

    /// Inserts (or replaces) an object; its `id` member is its key.
    pub fn insert(&mut self, coll: &str, obj: Value) -> String {
        let Some(k) = kind(coll) else {
            return String::new();
        };
        let id = obj["id"].as_str().unwrap_or_default().to_string();
        let existed = self
            .objects
            .entry(k.coll)
            .or_default()
            .insert(id.clone(), obj.clone())
            .is_some();
        self.emit(
            k,
            if existed {
                ChangeKind::Update
            } else {
                ChangeKind::Add
            },
            obj,
        );
        id
    }

    /// Modifies an object in place; 404 if missing.
    pub fn update<R>(
        &mut self,
        coll: &str,
        id: &str,
        f: impl FnOnce(&mut serde_json::Map<String, Value>) -> R,
    ) -> XoResult<R> {
        let k = kind(coll).ok_or_else(|| XoError::no_such("object", id))?;
        let obj = self
            .objects
            .get_mut(k.coll)
            .and_then(|m| m.get_mut(id))
            .ok_or_else(|| XoError::no_such(k.noun, id))?;
        if !obj.is_object() {
            *obj = json!({});
        }
        let r = match obj.as_object_mut() {
            Some(map) => f(map),
            None => return Err(XoError::internal("corrupt object")),
        };
        let snapshot = obj.clone();
        self.emit(k, ChangeKind::Update, snapshot);
        Ok(r)
    }

    /// Removes an object; 404 if missing.
    pub fn remove(&mut self, coll: &str, id: &str) -> XoResult<Value> {
        let k = kind(coll).ok_or_else(|| XoError::no_such("object", id))?;
        let v = self
            .objects
            .get_mut(k.coll)
            .and_then(|m| m.remove(id))
            .ok_or_else(|| XoError::no_such(k.noun, id))?;
        self.emit(k, ChangeKind::Remove, v.clone());
        Ok(v)
    }

    /// Ids of a collection.
    pub fn ids(&self, coll: &str) -> Vec<String> {
        self.objects
            .get(coll)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Adds `value` to the string array `field` of an object (no duplicates).
    pub fn push_ref(&mut self, coll: &str, id: &str, field: &str, value: &str) {
        let _ = self.update(coll, id, |o| {
            let arr = o
                .entry(field.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = arr {
                if !a.iter().any(|v| v == value) {
                    a.push(Value::String(value.to_string()));
                }
            }
        });
    }

    /// Removes `value` from the string array `field` of an object.
    pub fn pull_ref(&mut self, coll: &str, id: &str, field: &str, value: &str) {
        if self.get(coll, id).is_none() {
            return;
        }
        let _ = self.update(coll, id, |o| {
            if let Some(Value::Array(a)) = o.get_mut(field) {
                a.retain(|v| v != value);
            }
        });
    }
}
