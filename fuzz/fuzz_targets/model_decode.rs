//! Model decoding: `serde_json::from_slice` into the generated models, ids
//! and `Href` must never panic, and what decodes must survive a round trip
//! (serialize, decode again, equal). The first byte picks the type.
//!
//! serde_json's default float parsing is best effort (a number with more
//! than 17 significant digits, such as `1073741888888888808882`, may come
//! back 1 ULP off after a round trip): this crate enables its
//! `float_roundtrip` feature, so the property tests the models, not that.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "altstack.rs"]
mod altstack;
use xo_sdk::runtime::Href;
use xo_sdk::types::*;

fn round_trip<T>(json: &[u8])
where
    T: xo_sdk::runtime::serde::de::DeserializeOwned
        + xo_sdk::runtime::serde::Serialize
        + PartialEq
        + std::fmt::Debug,
{
    let Ok(value) = serde_json::from_slice::<T>(json) else {
        return;
    };
    let text = serde_json::to_vec(&value).expect("a decoded model serializes");
    let again: T = serde_json::from_slice(&text).unwrap_or_else(|e| {
        panic!(
            "re-decoding failed: {e}\n{}",
            String::from_utf8_lossy(&text)
        )
    });
    assert_eq!(again, value, "round trip changed the value");
}

fn href<I: xo_sdk::runtime::Id>(json: &[u8]) {
    if let Ok(h) = serde_json::from_slice::<Href<I>>(json) {
        let _ = (h.as_str(), h.id_str(), h.collection(), h.id().to_string());
        let text = serde_json::to_vec(&h).unwrap();
        let again: Href<I> = serde_json::from_slice(&text).unwrap();
        assert_eq!(again, h);
    }
}

macro_rules! pick {
    ($tag:expr, $json:expr; models: $($m:ty),*; hrefs: $($h:ty),* $(,)?) => {{
        let models: &[fn(&[u8])] = &[$(round_trip::<$m>),*];
        let hrefs: &[fn(&[u8])] = &[$(href::<$h>),*];
        let n = models.len() + hrefs.len();
        let i = $tag as usize % n;
        if i < models.len() { models[i]($json) } else { hrefs[i - models.len()]($json) }
    }};
}

fuzz_target!(|input: &[u8]| {
    altstack::install();
    let Some((&tag, json)) = input.split_first() else {
        return;
    };
    pick!(tag, json;
        models: Vm, Host, Task, BackupRepository, Pool, Sr, Vdi, Vbd, Vif, Pif, Network,
            VmTemplate, VmSnapshot, User, Group, AclRole, Message, Alarm, Schedule,
            BackupJob, BackupLog, RestoreLog, BackupArchive, Server, Proxy, Dashboard,
            VmStats, HostStats, PowerState, VmId, TaskId, Vec<Vm>, Vec<Href<VmId>>;
        hrefs: VmId, HostId, TaskId, BackupRepositoryId, String,
    );
});
