//! Restarts with the same data file, concurrent registrations, storage
//! failures.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use common::{record, start, Client};
use serde_json::{json, Value};
use sluice_registry::{Change, RegistryError, RegistryServer, State, Storage};

#[tokio::test]
async fn restart_with_the_same_file_keeps_ids_versions_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/registry.json");

    let r = start(Some(data.clone())).await;
    let c = r.client;
    let a1 = record("a", &["x:int"]);
    let a2 = record("a", &["x:int", "y:int=0"]);
    let b1 = record("b", &["z:string"]);
    assert_eq!(c.register("a", &a1).await, 1);
    assert_eq!(c.register("a", &a2).await, 2);
    assert_eq!(c.register("b", &b1).await, 3);
    assert_eq!(c.register("b2", &a1).await, 1);
    c.delete("/subjects/a/versions/1").await.expect_ok();
    c.set_compatibility("b", "FULL").await;
    c.put("/config", &json!({"compatibility": "FORWARD"}))
        .await
        .expect_ok();
    r.stop().await;

    // The file is there and is JSON.
    let text = std::fs::read_to_string(&data).unwrap();
    let _: Value = serde_json::from_str(&text).unwrap();

    let r = start(Some(data.clone())).await;
    let c = r.client;
    assert_eq!(
        c.get("/subjects").await.expect_ok(),
        json!(["a", "b", "b2"])
    );
    assert_eq!(c.get("/subjects/a/versions").await.expect_ok(), json!([2]));
    assert_eq!(
        c.get("/subjects/a/versions?deleted=true").await.expect_ok(),
        json!([1, 2])
    );
    assert_eq!(
        c.get("/subjects/b/versions/1").await.expect_ok(),
        json!({"subject": "b", "version": 1, "id": 3, "schema": b1})
    );
    assert_eq!(c.get("/schemas/ids/1").await.expect_ok()["schema"], a1);
    assert_eq!(
        c.get("/config/b").await.expect_ok(),
        json!({"compatibilityLevel": "FULL"})
    );
    assert_eq!(
        c.get("/config").await.expect_ok(),
        json!({"compatibilityLevel": "FORWARD"})
    );
    // Same schemas, same ids; new ones continue after the highest.
    assert_eq!(c.register("a", &a2).await, 2);
    assert_eq!(c.register("c", &b1).await, 3);
    assert_eq!(c.register("d", &record("d", &["w:long"])).await, 4);
    // Ids are not reused even when the schema holding the highest one is
    // deleted for good.
    c.delete("/subjects/d").await.expect_ok();
    c.delete("/subjects/d?permanent=true").await.expect_ok();
    r.stop().await;

    let r = start(Some(data.clone())).await;
    let c = r.client;
    c.get("/schemas/ids/4").await.expect_error(404, 40403);
    assert_eq!(c.register("e", &record("e", &["v:long"])).await, 5);
    r.stop().await;
}

#[tokio::test]
async fn a_damaged_data_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("registry.json");
    std::fs::write(&data, "not json").unwrap();
    let err = RegistryServer::bind("127.0.0.1:0".parse().unwrap(), Some(data))
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, RegistryError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("registry.json"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_of_one_schema_get_one_id() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(Some(dir.path().join("r.json"))).await;
    let c = r.client;
    let schema = record("same", &["a:int"]);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let schema = schema.clone();
        let subject = if i % 3 == 0 { "other" } else { "one" };
        tasks.push(tokio::spawn(
            async move { c.register(subject, &schema).await },
        ));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(
        c.get("/subjects/one/versions").await.expect_ok(),
        json!([1])
    );
    assert_eq!(
        c.get("/subjects/other/versions").await.expect_ok(),
        json!([1])
    );

    // Different schemas at the same time: distinct ids, contiguous versions.
    c.set_compatibility("many", "NONE").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let schema = record("m", &[&format!("f{i}:int")]);
        tasks.push(tokio::spawn(
            async move { c.register("many", &schema).await },
        ));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort_unstable();
    assert_eq!(ids, (2..14).collect::<Vec<u64>>());
    assert_eq!(
        c.get("/subjects/many/versions").await.expect_ok(),
        json!((1..13).collect::<Vec<u32>>())
    );
    r.stop().await;
}

/// Storage whose writes fail while `failing` is set.
struct Flaky {
    failing: Arc<AtomicBool>,
}

#[async_trait]
impl Storage for Flaky {
    async fn load(&self) -> Result<State, RegistryError> {
        Ok(State::new())
    }

    async fn append(&self, _changes: &[Change], _after: &State) -> Result<(), RegistryError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(RegistryError::Storage("disk on fire".into()))
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn a_failed_write_is_answered_50001_and_changes_nothing() {
    let failing = Arc::new(AtomicBool::new(true));
    let server = RegistryServer::bind_with_storage(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(Flaky {
            failing: failing.clone(),
        }),
    )
    .await
    .unwrap();
    let c = Client {
        addr: server.local_addr(),
    };
    let task = server.spawn();
    let schema = record("r", &["a:int"]);
    let msg = c.try_register("s", &schema).await.expect_error(500, 50001);
    assert!(msg.contains("disk on fire"), "{msg}");
    assert_eq!(c.get("/subjects").await.expect_ok(), json!([]));
    c.get("/schemas/ids/1").await.expect_error(404, 40403);
    c.put("/config", &json!({"compatibility": "NONE"}))
        .await
        .expect_error(500, 50001);
    assert_eq!(
        c.get("/config").await.expect_ok(),
        json!({"compatibilityLevel": "BACKWARD"})
    );
    // Once the storage works again, the id that was not stored is given out.
    failing.store(false, Ordering::SeqCst);
    assert_eq!(c.register("s", &schema).await, 1);
    task.abort();
}
