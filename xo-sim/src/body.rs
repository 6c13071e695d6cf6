//! Strict validation of JSON request bodies: per-route lists of allowed
//! fields, their types and which are required. Unknown fields are a 422,
//! as with XO's validation layer.

use serde_json::{Map, Value, json};

use crate::error::{XoError, XoResult, json_body};

/// Type of one body field.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// string
    Str,
    /// number
    Num,
    /// boolean
    Bool,
    /// any object
    Obj,
    /// array of strings
    StrArr,
    /// array of numbers
    NumArr,
    /// array of objects
    ObjArr,
    /// number or numeric string
    NumOrStr,
    /// array of strings or the literal `*`
    StrArrOrStar,
    /// one of these strings
    Enum(&'static [&'static str]),
    /// one of these numbers
    NumEnum(&'static [i64]),
    /// an object without members (XO's typed preferences accept none)
    NoKeys,
    /// string, or null to remove the member
    StrOrNull,
    /// anything
    Any,
}

/// One allowed field: name, required, type.
pub type F = (&'static str, bool, Ty);

/// The body of a route: one shape, or several alternatives (a union).
///
/// XO (tsoa) reports the same mistakes differently depending on how a
/// route's body type is declared, hence the variants: an excess property is
/// `body.<name>` (whose `value` is the property's name) for a plain object
/// type, one `body` error (whose `value` holds the excess properties) for a
/// derived type, and a union or intersection type is one error with the
/// whole body as `value`.
#[derive(Debug, Clone, Copy)]
pub enum Spec {
    /// No body expected; any body is ignored.
    None,
    /// One object shape; an excess property is a `body.<name>` error.
    Shape(&'static [F]),
    /// Any of several shapes.
    Union(&'static [&'static [F]]),
    /// One object shape; excess properties are one `body` error whose
    /// `value` holds them (`{"bogus": 1}`).
    Whole(&'static [F]),
    /// One shape checked as an intersection: any error is one `body`
    /// error, `Could not match the intersection…`, with the whole body.
    Intersection(&'static [F]),
    /// One shape checked as a union named `.0`: any error is one `<name>`
    /// error, `Value does not match any allowed schema`, with the whole body.
    Named(&'static str, &'static [F]),
}

/// How excess properties are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Excess {
    /// `body.<name>`, value: the name.
    Field,
    /// One `body` error, value: the excess properties.
    Whole,
}

fn type_ok(ty: Ty, v: &Value) -> bool {
    match ty {
        Ty::Str => v.is_string(),
        Ty::Num => v.is_number(),
        Ty::Bool => v.is_boolean(),
        Ty::Obj => v.is_object(),
        Ty::NoKeys => v.as_object().is_some_and(|o| o.is_empty()),
        Ty::StrOrNull => v.is_string() || v.is_null(),
        Ty::StrArr => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Ty::NumArr => v.as_array().is_some_and(|a| a.iter().all(Value::is_number)),
        Ty::ObjArr => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
        Ty::NumOrStr => v.is_number() || v.as_str().is_some_and(|s| !s.is_empty()),
        Ty::StrArrOrStar => v == "*" || type_ok(Ty::StrArr, v),
        Ty::Enum(allowed) => v.as_str().is_some_and(|s| allowed.contains(&s)),
        Ty::NumEnum(allowed) => v.as_i64().is_some_and(|n| allowed.contains(&n)),
        Ty::Any => true,
    }
}

fn describe(ty: Ty) -> String {
    match ty {
        Ty::Str => "invalid string value".into(),
        Ty::Num => "invalid number value".into(),
        Ty::Bool => "invalid boolean value".into(),
        Ty::Obj => "invalid object".into(),
        Ty::NoKeys => "invalid object".into(),
        Ty::StrOrNull => "invalid string value".into(),
        Ty::StrArr => "invalid array of strings".into(),
        Ty::NumArr => "invalid array of numbers".into(),
        Ty::ObjArr => "invalid array of objects".into(),
        Ty::NumOrStr => "invalid number or string value".into(),
        Ty::StrArrOrStar => "should be an array of strings or \"*\"".into(),
        Ty::Enum(_) | Ty::NumEnum(_) => "Value does not match any allowed schema".into(),
        Ty::Any => "invalid value".into(),
    }
}

fn excess_message(k: &str) -> String {
    format!("\"{k}\" is an excess property and therefore is not allowed")
}

fn check_shape(shape: &[F], body: &Map<String, Value>, excess: Excess) -> Map<String, Value> {
    let mut errors = Map::new();
    let mut extra = Map::new();
    for (k, v) in body {
        match shape.iter().find(|(n, _, _)| n == k) {
            None if excess == Excess::Whole => {
                extra.insert(k.clone(), v.clone());
            }
            None => {
                errors.insert(
                    format!("body.{k}"),
                    json!({ "message": excess_message(k), "value": k }),
                );
            }
            Some((_, _, ty)) => {
                if !type_ok(*ty, v) {
                    let message = match (ty, v.as_object().and_then(|o| o.keys().next())) {
                        (Ty::NoKeys, Some(first)) => excess_message(first),
                        _ => describe(*ty),
                    };
                    errors.insert(
                        format!("body.{k}"),
                        json!({ "message": message, "value": v }),
                    );
                }
            }
        }
    }
    for (n, req, _) in shape {
        if *req && !body.contains_key(*n) {
            errors.insert(
                format!("body.{n}"),
                json!({ "message": format!("'{n}' is required") }),
            );
        }
    }
    if let Some(first) = extra.keys().next() {
        errors.insert(
            "body".into(),
            json!({ "message": excess_message(first), "value": Value::Object(extra.clone()) }),
        );
    }
    errors
}

/// Parses and validates a body against a route's spec; returns the object
/// (empty when there is no body).
pub fn validate(spec: Spec, raw: &[u8]) -> XoResult<Map<String, Value>> {
    let trimmed = raw.iter().all(|b| b.is_ascii_whitespace());
    let value: Value = if trimmed {
        Value::Object(Map::new())
    } else {
        match serde_json::from_slice(raw) {
            Ok(v) => v,
            Err(e) => {
                if matches!(spec, Spec::None) {
                    return Ok(Map::new());
                }
                return Err(XoError::bad_request(format!("invalid JSON body: {e}")));
            }
        }
    };
    let (shapes, excess): (Vec<&[F]>, Excess) = match spec {
        Spec::None => return Ok(value.as_object().cloned().unwrap_or_default()),
        Spec::Shape(s) => (vec![s], Excess::Field),
        Spec::Union(u) => (u.to_vec(), Excess::Field),
        Spec::Whole(s) => (vec![s], Excess::Whole),
        Spec::Intersection(s) => {
            let Value::Object(map) = &value else {
                return Err(XoError::invalid_field("body", "invalid object", value));
            };
            let errs = check_shape(s, map, Excess::Field);
            if errs.is_empty() {
                return Ok(map.clone());
            }
            let issues = json_body(&Value::Object(errs));
            let message =
                format!("Could not match the intersection against every type. Issues: [{issues}]");
            let mut m = Map::new();
            m.insert("body".into(), json!({ "message": message, "value": value }));
            return Err(XoError::invalid_fields(m));
        }
        Spec::Named(name, s) => {
            if let Value::Object(map) = &value {
                if check_shape(s, map, Excess::Field).is_empty() {
                    return Ok(map.clone());
                }
            }
            let mut m = Map::new();
            m.insert(
                name.into(),
                json!({ "message": "Value does not match any allowed schema", "value": value }),
            );
            return Err(XoError::invalid_fields(m));
        }
    };
    let Value::Object(map) = value else {
        return Err(XoError::invalid_field("body", "invalid object", value));
    };
    let mut best: Option<Map<String, Value>> = None;
    for shape in shapes {
        let errs = check_shape(shape, &map, excess);
        if errs.is_empty() {
            return Ok(map);
        }
        if best.as_ref().is_none_or(|b| errs.len() < b.len()) {
            best = Some(errs);
        }
    }
    Err(XoError::invalid_fields(best.unwrap_or_default()))
}

use Ty::*;

/// `PATCH /vms/{id}`
pub const UPDATE_VM: Spec = Spec::Shape(&[
    ("affinityHost", false, Str),
    ("autoPoweron", false, Bool),
    ("blockedOperations", false, Obj),
    ("coresPerSocket", false, NumOrStr),
    ("cpuCap", false, Num),
    ("cpuMask", false, NumArr),
    ("cpuWeight", false, Num),
    ("cpus", false, Num),
    ("cpusStaticMax", false, NumOrStr),
    ("creation", false, Obj),
    ("expNestedHvm", false, Bool),
    ("hasVendorDevice", false, Bool),
    (
        "highAvailability",
        false,
        Enum(&["best-effort", "restart", ""]),
    ),
    ("hvmBootFirmware", false, Str),
    ("memory", false, NumOrStr),
    ("memoryMax", false, NumOrStr),
    ("memoryMin", false, NumOrStr),
    ("memoryStaticMax", false, NumOrStr),
    ("nameDescription", false, Str),
    ("nameLabel", false, Str),
    ("nestedVirt", false, Bool),
    ("nicType", false, Str),
    ("notes", false, Str),
    ("PV_args", false, Str),
    ("secureBoot", false, Bool),
    ("startDelay", false, Num),
    ("suspendSr", false, Str),
    ("tags", false, StrArr),
    ("uefiMode", false, Enum(&["setup", "user"])),
    ("vga", false, Enum(&["std", "cirrus"])),
    ("videoram", false, NumEnum(&[1, 2, 4, 8, 16])),
    ("viridian", false, Bool),
    ("virtualizationMode", false, Enum(&["pv", "hvm"])),
    ("xenStoreData", false, Obj),
    ("resourceSet", false, Str),
    ("share", false, Bool),
]);

/// `POST /vms/{id}/actions/start`
pub const START_VM: Spec = Spec::Shape(&[("hostId", false, Str)]);
/// `POST /vms/{id}/actions/revert_snapshot`
pub const REVERT_SNAPSHOT: Spec =
    Spec::Shape(&[("snapshotBefore", false, Bool), ("snapshotId", true, Str)]);
/// `POST /vms/{id}/actions/snapshot`
pub const SNAPSHOT_VM: Spec = Spec::Shape(&[("name_label", false, Str)]);
/// `POST /vms/{id}/actions/clone`: `fast` excludes `srId`/`compress`.
pub const CLONE_VM: Spec = Spec::Union(&[
    &[("fast", false, Bool), ("name_label", false, Str)],
    &[
        ("compress", false, Str),
        ("srId", false, Str),
        ("name_label", false, Str),
    ],
]);
/// `POST /vms/{id}/actions/migrate`
pub const MIGRATE_VM: Spec = Spec::Union(&[
    &[("migrationNetworkId", false, Str), ("hostId", true, Str)],
    &[
        ("networkIdByVifId", false, Obj),
        ("srIdByVdiId", false, Obj),
        ("srId", false, Str),
        ("migrationNetworkId", false, Str),
        ("hostId", true, Str),
    ],
]);
/// `POST /vifs`
pub const CREATE_VIF: Spec = Spec::Intersection(&[
    ("device", false, Str),
    ("MTU", false, Num),
    ("currently_attached", false, Bool),
    ("ipv4_allowed", false, StrArr),
    ("ipv6_allowed", false, StrArr),
    ("locking_mode", false, Str),
    ("qos_algorithm_type", false, Str),
    ("MAC", false, Str),
    ("qos_algorithm_params", false, Obj),
    ("other_config", false, Obj),
    ("vmId", true, Str),
    ("networkId", true, Str),
]);
/// `PATCH /vifs/{id}`
pub const UPDATE_VIF: Spec = Spec::Shape(&[
    ("lockingMode", false, Str),
    ("rateLimit", false, Num),
    ("txChecksumming", false, Bool),
    ("allowedIpv6Addresses", false, StrArr),
    ("allowedIpv4Addresses", false, StrArr),
]);
/// `POST /vdis`
pub const CREATE_VDI: Spec = Spec::Intersection(&[
    ("name_description", false, Str),
    ("name_label", false, Str),
    ("tags", false, StrArr),
    ("type", false, Str),
    ("read_only", false, Bool),
    ("sharable", false, Bool),
    ("virtual_size", true, Num),
    ("xenstore_data", false, Obj),
    ("other_config", false, Obj),
    ("srId", true, Str),
    ("sm_config", false, Obj),
]);
/// `PATCH /vdis/{id}`
pub const UPDATE_VDI: Spec = Spec::Shape(&[
    ("name_label", false, Str),
    ("name_description", false, Str),
    ("size", false, Num),
]);
/// `POST /vdis/{id}/actions/migrate`
pub const MIGRATE_VDI: Spec = Spec::Shape(&[("srId", true, Str)]);
/// `POST /vbds`
pub const CREATE_VBD: Spec = Spec::Intersection(&[
    ("type", false, Str),
    ("other_config", false, Obj),
    ("mode", false, Str),
    ("qos_algorithm_params", false, Obj),
    ("qos_algorithm_type", false, Str),
    ("bootable", false, Bool),
    ("empty", false, Bool),
    ("unpluggable", false, Bool),
    ("userdevice", false, Str),
    ("VDI", true, Str),
    ("VM", true, Str),
]);
/// `POST /users`
pub const CREATE_USER: Spec = Spec::Whole(&[
    ("permission", false, Enum(&["none", "admin"])),
    ("password", true, Str),
    ("name", true, Str),
]);
/// `PATCH /users/{id}`
pub const UPDATE_USER: Spec = Spec::Shape(&[
    ("name", false, Str),
    ("password", false, Str),
    ("permission", false, Enum(&["none", "admin"])),
    ("preferences", false, NoKeys),
]);
/// `POST /users/{id}/authentication_tokens`
pub const CREATE_TOKEN: Spec = Spec::Whole(&[
    ("expiresIn", false, Any),
    ("description", false, Str),
    ("client", false, Obj),
]);
/// `POST /srs`
pub const CREATE_SR: Spec = Spec::Intersection(&[
    ("name_description", false, Str),
    ("name_label", true, Str),
    ("content_type", false, Str),
    ("sm_config", false, Obj),
    ("device_config", true, Any),
    ("size", false, Num),
    ("SR_type", true, Str),
    ("hostId", true, Str),
]);
/// `POST /servers`
pub const ADD_SERVER: Spec = Spec::Shape(&[
    ("host", true, Str),
    ("httpProxy", false, Str),
    ("label", false, Str),
    ("username", true, Str),
    ("allowUnauthorized", false, Bool),
    ("password", true, Str),
    ("readOnly", false, Bool),
]);
/// `POST /pools/{id}/actions/create_network`
pub const CREATE_NETWORK: Spec = Spec::Shape(&[
    ("name", true, Str),
    ("description", false, Str),
    ("mtu", false, Num),
    ("nbd", false, Bool),
    ("pif", true, Str),
    ("vlan", true, Num),
]);
/// `POST /pools/{id}/actions/create_bonded_network`
pub const CREATE_BONDED_NETWORK: Spec = Spec::Shape(&[
    ("name", true, Str),
    ("description", false, Str),
    ("mtu", false, Num),
    ("nbd", false, Bool),
    ("pifIds", true, StrArr),
    (
        "bondMode",
        true,
        Enum(&["active-backup", "balance-slb", "lacp"]),
    ),
]);
/// `POST /pools/{id}/actions/create_internal_network`
pub const CREATE_INTERNAL_NETWORK: Spec = Spec::Shape(&[
    ("nbd", false, Bool),
    ("mtu", false, Num),
    ("description", false, Str),
    ("name", true, Str),
]);
/// `POST /pools/{id}/actions/rolling_reboot|rolling_update`
pub const ROLLING: Spec = Spec::Shape(&[("shutdownPinnedVms", false, Bool)]);
/// `POST /pools/{id}/actions/create_vm`
pub const CREATE_VM: Spec = Spec::Shape(&[
    ("memory", false, Num),
    ("name_description", false, Str),
    ("name_label", true, Str),
    ("secureBoot", false, Bool),
    ("clone", false, Bool),
    ("gpuGroup", false, Str),
    ("vgpuType", false, Str),
    ("cpus", false, Num),
    ("autoPoweron", false, Bool),
    ("vifs", false, ObjArr),
    ("copyHostBiosStrings", false, Bool),
    ("hvmBootFirmware", false, Enum(&["uefi", "bios"])),
    (
        "high_availability",
        false,
        Enum(&["", "best-effort", "restart"]),
    ),
    ("template", true, Str),
    ("affinity", false, Str),
    ("vdis", false, ObjArr),
    ("install", false, Obj),
    ("cloud_config", false, Str),
    ("network_config", false, Str),
    ("boot", false, Bool),
    ("destroy_cloud_config_vdi", false, Bool),
    ("createVtpm", false, Bool),
]);
/// `POST /pools/{id}/actions/management_reconfigure`
pub const POOL_MGMT_RECONFIGURE: Spec = Spec::Shape(&[("network", true, Str)]);
/// `POST /pools/{id}/actions/add_host`
pub const ADD_HOST: Spec = Spec::Shape(&[("force", false, Bool), ("host", true, Str)]);
/// `POST /hosts/{id}/actions/management_reconfigure`
pub const HOST_MGMT_RECONFIGURE: Spec = Spec::Shape(&[("pif", true, Str)]);
/// `POST /hosts/{id}/actions/disable`: `force`/`vmIdsToForceMigrate` only with `evacuate`.
pub const DISABLE_HOST: Spec = Spec::Union(&[
    &[("autoEnable", false, Bool), ("evacuate", false, Bool)],
    &[
        ("autoEnable", false, Bool),
        ("vmIdsToForceMigrate", false, StrArr),
        ("force", false, Bool),
        ("evacuate", true, Bool),
    ],
]);
/// `POST /hosts/{id}/actions/clean_shutdown`
pub const HOST_SHUTDOWN: Spec = Spec::Shape(&[
    ("bypassEvacuate", false, Bool),
    ("bypassBackupCheck", false, Bool),
]);
/// `POST /hosts/{id}/actions/clean_reboot`
pub const HOST_REBOOT: Spec = Spec::Shape(&[
    ("bypassVersionCheck", false, Bool),
    ("bypassBackupCheck", false, Bool),
    ("force", false, Bool),
]);
/// `POST /hosts/{id}/actions/smart_reboot`
pub const HOST_SMART_REBOOT: Spec = Spec::Shape(&[
    ("bypassCurrentVmCheck", false, Bool),
    ("bypassBlockedSuspend", false, Bool),
    ("bypassVersionCheck", false, Bool),
    ("bypassBackupCheck", false, Bool),
]);
/// `POST /hosts/{id}/actions/restart_toolstack`
pub const HOST_RESTART_TOOLSTACK: Spec = Spec::Shape(&[("bypassBackupCheck", false, Bool)]);
/// `POST /groups`
pub const CREATE_GROUP: Spec = Spec::Whole(&[("name", true, Str)]);
/// `PATCH /groups/{id}`
pub const UPDATE_GROUP: Spec = Spec::Shape(&[("name", false, Str)]);
/// Event subscription collections.
pub const SUBSCRIPTION_COLLECTIONS: &[&str] = &[
    "pool",
    "VBD",
    "host",
    "VIF",
    "VTPM",
    "VM-snapshot",
    "SR",
    "VM",
    "VM-template",
    "message",
    "vgpu",
    "gpuGroup",
    "network",
    "PBD",
    "PCI",
    "PGPU",
    "PIF",
    "VDI",
    "VDI-snapshot",
    "VDI-unmanaged",
    "vgpuType",
    "VM-controller",
    "SM",
    "alarm",
    "task",
];
/// `POST /events/{id}/subscriptions`
pub const ADD_SUBSCRIPTION: Spec = Spec::Shape(&[
    ("fields", false, StrArrOrStar),
    ("collection", true, Enum(SUBSCRIPTION_COLLECTIONS)),
]);
/// `POST /backup-repositories`
pub const CREATE_BACKUP_REPOSITORY: Spec = Spec::Whole(&[
    ("name", true, Str),
    ("options", false, Str),
    ("proxy", false, Str),
    ("url", true, Str),
]);
/// `PATCH /backup-repositories/{id}`
pub const UPDATE_BACKUP_REPOSITORY: Spec = Spec::Whole(&[
    ("enabled", false, Bool),
    ("name", false, Str),
    ("options", false, Str),
    ("proxy", false, Str),
    ("url", false, Str),
]);
/// `POST /acl-roles`
pub const CREATE_ACL_ROLE: Spec = Spec::Whole(&[("description", false, Str), ("name", true, Str)]);
/// `PATCH /acl-roles/{id}` (a null description removes it)
pub const UPDATE_ACL_ROLE: Spec =
    Spec::Whole(&[("description", false, StrOrNull), ("name", false, Str)]);
/// `POST /acl-roles/{id}/actions/copy`
pub const COPY_ACL_ROLE: Spec = Spec::Whole(&[("description", false, Str), ("name", false, Str)]);
/// `POST /acl-privileges`
pub const CREATE_ACL_PRIVILEGE: Spec = Spec::Named(
    "privilege",
    &[
        ("resource", true, Str),
        ("action", true, Str),
        ("selector", false, Str),
        ("effect", true, Enum(&["allow", "deny"])),
        ("roleId", true, Str),
    ],
);
/// `PATCH /acl-privileges/{id}`
pub const UPDATE_ACL_PRIVILEGE: Spec = Spec::Named(
    "privilege",
    &[
        ("resource", false, Str),
        ("action", false, Str),
        ("selector", false, Str),
        ("effect", false, Enum(&["allow", "deny"])),
    ],
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert!(validate(SNAPSHOT_VM, b"{\"name_label\":\"x\"}").is_ok());
        assert!(validate(SNAPSHOT_VM, b"").is_ok());
        let e = validate(SNAPSHOT_VM, b"{\"name_label\":\"x\",\"foo\":1}").unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
        assert!(e.body["error"]["body.foo"].is_object());
        assert_eq!(
            validate(SNAPSHOT_VM, b"{nope").unwrap_err().status.as_u16(),
            400
        );
        assert_eq!(
            validate(SNAPSHOT_VM, b"[1]").unwrap_err().status.as_u16(),
            422
        );
        assert!(validate(CLONE_VM, b"{\"fast\":true}").is_ok());
        assert!(validate(CLONE_VM, b"{\"srId\":\"x\",\"compress\":\"zstd\"}").is_ok());
        assert!(validate(CLONE_VM, b"{\"fast\":true,\"srId\":\"x\"}").is_err());
        assert!(validate(MIGRATE_VDI, b"{}").is_err());
        assert!(
            validate(
                ADD_SUBSCRIPTION,
                b"{\"collection\":\"VM\",\"fields\":\"*\"}"
            )
            .is_ok()
        );
        assert!(
            validate(
                ADD_SUBSCRIPTION,
                b"{\"collection\":\"VM\",\"fields\":\"id,name\"}"
            )
            .is_err()
        );
    }
}
