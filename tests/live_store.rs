//! Live state against xo-sim: a reflector's store equals the collection,
//! follows its changes (typed), repairs a reconnection by listing again,
//! and waits on conditions with typed errors.

mod support;

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use xo_sdk::prelude::*;
use xo_sdk::xo::{LiveChange, WaitError};

async fn sim() -> (xo_sim::Sim, Client) {
    let sim = xo_sim::Sim::builder()
        .ping_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let client = support::admin_client(&sim);
    (sim, client)
}

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what} never finished"))
}

fn fast<C: Watchable>(builder: xo_sdk::xo::ReflectorBuilder<C>) -> xo_sdk::xo::ReflectorBuilder<C> {
    builder
        .event_options(|e| {
            e.reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100))
        })
        .max_failures(20, Duration::from_millis(20))
}

#[tokio::test]
async fn the_store_equals_the_list_with_the_selected_fields_only() {
    let (sim, client) = sim().await;
    let store = client
        .vms()
        .list()
        .reflector()
        .fields([Vm::NAME_LABEL, Vm::POWER_STATE])
        .start()
        .await
        .unwrap()
        .store();
    assert!(store.is_synced());
    assert_eq!(store.fields(), ["id", "name_label", "power_state"]);
    let listed = client
        .vms()
        .list()
        .select([Vm::ID, Vm::NAME_LABEL, Vm::POWER_STATE])
        .send()
        .await
        .unwrap();
    assert_eq!(store.len(), listed.len());
    assert_eq!(store.len(), sim.ids("vms").len());
    for mut vm in listed {
        vm.href = None;
        let id = vm.id.clone().unwrap();
        let stored = store.get(&id).unwrap();
        assert_eq!(stored, vm);
        // Not selected: not kept.
        assert!(stored.tags.is_none() && stored.memory.is_none());
    }
    let snapshot = store.snapshot();
    assert_eq!(snapshot.iter().count(), snapshot.len());
    assert_eq!(store.iter().count(), store.len());
}

#[tokio::test]
async fn changes_are_applied_and_sent_typed() {
    let (sim, client) = sim().await;
    let (store, mut changes) = fast(client.vms().list().reflector())
        .fields([Vm::NAME_LABEL, Vm::TAGS])
        .start()
        .await
        .unwrap()
        .into_parts();
    let id = sim.ids("vms")[0].clone();
    let vm_id = VmId::new(&id);
    sim.update_object("vms", &id, |v| {
        v.insert("name_label".into(), json!("renamed"));
    })
    .unwrap();
    let change = bounded("the update", changes.next()).await.unwrap();
    let LiveChange::Updated {
        id: changed,
        old,
        new,
    } = change
    else {
        panic!("expected an update, got {change:?}");
    };
    assert_eq!(changed, vm_id);
    assert_ne!(old.name_label.as_deref(), Some("renamed"));
    assert_eq!(new.name_label.as_deref(), Some("renamed"));
    assert_eq!(
        store.get(&vm_id).unwrap().name_label.as_deref(),
        Some("renamed")
    );

    // A change of a field that is not selected changes nothing.
    sim.update_object("vms", &id, |v| {
        v.insert("name_description".into(), json!("unseen"));
    })
    .unwrap();
    let mut created = sim.object("vms", &id).unwrap();
    created["id"] = json!("new-vm");
    created["name_label"] = json!("fresh");
    sim.put_object("vms", created).unwrap();
    let change = bounded("the add", changes.next()).await.unwrap();
    assert!(
        matches!(&change, LiveChange::Added { id, object } if id.as_str() == "new-vm" && object.name_label.as_deref() == Some("fresh")),
        "{change:?}"
    );
    sim.remove_object("vms", "new-vm").unwrap();
    let change = bounded("the removal", changes.next()).await.unwrap();
    assert!(
        matches!(&change, LiveChange::Removed { id, last } if id.as_str() == "new-vm" && last.name_label.as_deref() == Some("fresh")),
        "{change:?}"
    );
    assert!(!store.contains(&VmId::new("new-vm")));
}

#[tokio::test]
async fn changes_missed_during_a_restart_come_from_a_new_list() {
    let (sim, client) = sim().await;
    let (store, mut changes) = fast(client.vms().list().reflector())
        .fields([Vm::NAME_LABEL])
        .start()
        .await
        .unwrap()
        .into_parts();
    let ids = sim.ids("vms");
    // XO restarts; the changes made before the stream is back are never
    // sent as events.
    sim.restart(Duration::from_millis(300));
    sim.update_object("vms", &ids[0], |v| {
        v.insert("name_label".into(), json!("while away"));
    })
    .unwrap();
    sim.remove_object("vms", &ids[1]).unwrap();
    // Whether the sim sent them before the cut or not, both changes reach
    // the subscriber, and a resync follows the reconnection.
    let mut seen: Vec<LiveChange<Vm, VmId>> = Vec::new();
    let mut resynced = false;
    while !(resynced
        && seen.iter().any(|c| matches!(c, LiveChange::Removed { id, .. } if id.as_str() == ids[1]))
        && seen.iter().any(|c| matches!(c, LiveChange::Updated { id, new, .. } if id.as_str() == ids[0] && new.name_label.as_deref() == Some("while away"))))
    {
        match bounded("the resync", changes.next()).await.unwrap() {
            LiveChange::Synced(report) => {
                assert!(!report.initial);
                resynced = true;
            }
            other => seen.push(other),
        }
    }
    assert!(store.is_synced());
    let vm = store.get(&VmId::new(&ids[0])).unwrap();
    assert_eq!(vm.name_label.as_deref(), Some("while away"));
    assert_eq!(store.len(), sim.ids("vms").len());
}

#[tokio::test]
async fn a_new_list_is_sent_as_its_differences() {
    use xo_sdk::xo::live::OfflineStore;
    let object = |v: serde_json::Value| v.as_object().cloned().unwrap();
    let store: OfflineStore<Vm, VmId> = OfflineStore::new("VM", &["name_label"]);
    let mut changes = store.store().changes();
    store.sync([
        object(json!({"id": "a", "name_label": "A"})),
        object(json!({"id": "b", "name_label": "B"})),
    ]);
    let first = changes.next().await.unwrap();
    assert!(
        matches!(first, LiveChange::Synced(r) if r.initial && r.objects == 2),
        "{first:?}"
    );
    store.sync([
        object(json!({"id": "a", "name_label": "A2"})),
        object(json!({"id": "c", "name_label": "C", "href": "/rest/v0/vms/c"})),
    ]);
    let mut kinds = Vec::new();
    loop {
        match changes.next().await.unwrap() {
            LiveChange::Synced(r) => {
                assert_eq!((r.added, r.updated, r.removed, r.objects), (1, 1, 1, 2));
                break;
            }
            LiveChange::Added { id, .. } => kinds.push(format!("+{id}")),
            LiveChange::Updated { id, .. } => kinds.push(format!("~{id}")),
            LiveChange::Removed { id, .. } => kinds.push(format!("-{id}")),
            other => panic!("{other:?}"),
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["+c", "-b", "~a"]);

    // A collection empty at first: its later objects still come as changes.
    let empty: OfflineStore<Vm, VmId> = OfflineStore::new("VM", &["name_label"]);
    let mut later = empty.store().changes();
    empty.sync([]);
    empty.sync([object(json!({"id": "e", "name_label": "E"}))]);
    let first = later.next().await.unwrap();
    assert!(
        matches!(first, LiveChange::Synced(r) if r.initial),
        "{first:?}"
    );
    let added = later.next().await.unwrap();
    assert!(
        matches!(&added, LiveChange::Added { id, .. } if id.as_str() == "e"),
        "{added:?}"
    );
    // An object that does not decode into the model is left out.
    store.apply(xo_sdk::xo::Event::Update(xo_sdk::xo::Change {
        collection: "VM".into(),
        object: object(json!({"id": "d", "name_label": 42})),
    }));
    assert!(!store.store().contains(&VmId::new("d")));
    assert_eq!(store.store().rejected(), 1);
    // Events of another collection are not this store's.
    store.apply(xo_sdk::xo::Event::Remove(xo_sdk::xo::Change {
        collection: "host".into(),
        object: object(json!({"id": "a"})),
    }));
    assert_eq!(store.store().len(), 2);
}

#[tokio::test]
async fn wait_until_sees_the_condition_come_true() {
    let (sim, client) = sim().await;
    let store = client
        .vms()
        .list()
        .reflector()
        .fields([Vm::POWER_STATE, Vm::ADDRESSES])
        .start()
        .await
        .unwrap()
        .store();
    let id = sim.ids("vms")[0].clone();
    sim.update_object("vms", &id, |v| {
        v.insert("power_state".into(), json!("Halted"));
        v.insert("addresses".into(), json!({}));
    })
    .unwrap();
    // The store follows XO, a little later: wait for the halt to be seen.
    store
        .wait_until(&VmId::new(&id), Duration::from_secs(20), |vm| {
            vm.power_state == Some(PowerState::Halted)
        })
        .await
        .unwrap();
    let sim = std::sync::Arc::new(sim);
    let later = sim.clone();
    let boot = id.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        later
            .update_object("vms", &boot, |v| {
                v.insert("power_state".into(), json!("Running"));
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        later
            .update_object("vms", &boot, |v| {
                v.insert("addresses".into(), json!({"0/ipv4/0": "10.0.0.9"}));
            })
            .unwrap();
    });
    let vm = store
        .wait_until(&VmId::new(&id), Duration::from_secs(20), |vm| {
            vm.power_state == Some(PowerState::Running)
                && vm.addresses.as_ref().is_some_and(|a| !a.is_empty())
        })
        .await
        .unwrap();
    assert_eq!(
        vm.addresses.unwrap().get("0/ipv4/0").map(String::as_str),
        Some("10.0.0.9")
    );

    // Never true: the deadline, typed.
    let err = store
        .wait_until(&VmId::new(&id), Duration::from_millis(150), |_| false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, WaitError::Deadline { seen: true, .. }),
        "{err}"
    );
    // Removed while waited on.
    let gone = id.clone();
    let remover = sim.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        remover.remove_object("vms", &gone).unwrap();
    });
    let err = store
        .wait_until(&VmId::new(&id), Duration::from_secs(20), |_| false)
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::Deleted { .. }), "{err}");
    // An object that never comes.
    let err = store
        .wait_until(&VmId::new("nope"), Duration::from_millis(100), |_| true)
        .await
        .unwrap_err();
    assert!(
        matches!(err, WaitError::Deadline { seen: false, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_standalone_wait_watches_one_object() {
    let (sim, client) = sim().await;
    let id = sim.ids("hosts")[0].clone();
    let sim = std::sync::Arc::new(sim);
    let later = sim.clone();
    let target = id.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        later
            .update_object("hosts", &target, |h| {
                h.insert("name_label".into(), json!("renamed host"));
            })
            .unwrap();
    });
    let host = client
        .hosts()
        .list()
        .reflector()
        .fields([Host::NAME_LABEL])
        .wait_until(&HostId::new(&id), Duration::from_secs(20), |h| {
            h.name_label.as_deref() == Some("renamed host")
        })
        .await
        .unwrap();
    assert_eq!(host.id.unwrap().as_str(), id);
}

#[tokio::test]
async fn a_reflector_that_cannot_start_says_why() {
    let (sim, _) = sim().await;
    let client = Client::builder(sim.url()).token("wrong").build().unwrap();
    let err = client
        .vms()
        .list()
        .reflector()
        .max_failures(1, Duration::from_millis(1))
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
}

#[tokio::test]
async fn every_evented_collection_has_its_type() {
    use xo_sdk::xo::Watchable;
    fn event_type<C: Watchable>(_: C) -> &'static str {
        C::EVENT_TYPE
    }
    let (_sim, client) = sim().await;
    assert_eq!(event_type(client.vms().list()), "VM");
    assert_eq!(event_type(client.vm_templates().list()), "VM-template");
    assert_eq!(event_type(client.hosts().list()), "host");
    assert_eq!(event_type(client.srs().list()), "SR");
    assert_eq!(event_type(client.tasks().list()), "task");
    // A store of another collection works the same way.
    let store = client
        .srs()
        .list()
        .reflector()
        .fields([Sr::NAME_LABEL])
        .start()
        .await
        .unwrap()
        .store();
    assert_eq!(store.len(), _sim.ids("srs").len());
}

#[tokio::test]
async fn a_reflector_that_cannot_recover_stops_and_says_why() {
    let (sim, client) = sim().await;
    let (store, mut changes) = client
        .vms()
        .list()
        .reflector()
        .fields([Vm::NAME_LABEL])
        .event_options(|e| {
            e.reconnect_backoff(Duration::from_millis(5), Duration::from_millis(20))
                .max_reconnects(2)
        })
        .max_failures(2, Duration::from_millis(5))
        .start()
        .await
        .unwrap()
        .into_parts();
    let id = VmId::new(&sim.ids("vms")[0]);
    // XO comes back refusing the token for good.
    sim.restart(Duration::from_secs(3600));
    let waiting = store.wait_until(&id, Duration::from_secs(30), |_| false);
    let err = bounded("the wait", waiting).await.unwrap_err();
    let WaitError::Stopped(cause) = &err else {
        panic!("expected Stopped, got {err}");
    };
    assert_eq!(cause.status(), Some(401), "{cause}");
    // The change stream ends, the store keeps its last state.
    while bounded("the end of the changes", changes.next())
        .await
        .is_some()
    {}
    assert!(store.error().is_some() && !store.is_synced());
    assert!(store.get(&id).is_some());
}
