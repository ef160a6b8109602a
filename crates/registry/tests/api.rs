//! The REST API over real HTTP: flows, error codes, content types.

mod common;

use common::{record, start, SR_JSON};
use serde_json::{json, Value};

#[tokio::test]
async fn root_unknown_routes_and_methods() {
    let r = start(None).await;
    let c = r.client;
    assert_eq!(c.get("/").await.expect_ok(), json!({}));
    let msg = c.get("/no/such/path").await.expect_error(404, 404);
    assert_eq!(msg, "HTTP 404 Not Found");
    c.get("/schemas/ids/abc").await.expect_error(404, 404);
    c.request("PATCH", "/subjects", None, None)
        .await
        .expect_error(405, 405);
    assert_eq!(c.get("/subjects").await.expect_ok(), json!([]));
    assert_eq!(c.get("/schemas/types").await.expect_ok(), json!(["AVRO"]));
    r.stop().await;
}

#[tokio::test]
async fn register_lookup_fetch_by_id_and_version() {
    let r = start(None).await;
    let c = r.client;
    let v1 = record("user", &["name:string"]);
    assert_eq!(c.register("users-value", &v1).await, 1);
    // The same schema again: same id, no new version.
    assert_eq!(c.register("users-value", &v1).await, 1);
    // Layout does not matter.
    let spaced = format!(" {}\n", v1.replace(',', " , "));
    assert_eq!(c.register("users-value", &spaced).await, 1);
    assert_eq!(
        c.get("/subjects/users-value/versions").await.expect_ok(),
        json!([1])
    );
    // Another subject reuses the global id, with its own version 1.
    assert_eq!(c.register("audit-value", &v1).await, 1);
    assert_eq!(
        c.get("/subjects").await.expect_ok(),
        json!(["audit-value", "users-value"])
    );

    // A compatible evolution gets the next id and version.
    let v2 = record("user", &["name:string", "age:int=0"]);
    assert_eq!(c.register("users-value", &v2).await, 2);
    assert_eq!(
        c.get("/subjects/users-value/versions").await.expect_ok(),
        json!([1, 2])
    );

    let by_id = c.get("/schemas/ids/1").await.expect_ok();
    assert_eq!(by_id, json!({ "schema": v1 }));
    assert_eq!(c.get("/schemas/ids/1/schema").await.body, v1);
    assert_eq!(
        c.get("/schemas/ids/1/versions").await.expect_ok(),
        json!([
            {"subject": "audit-value", "version": 1},
            {"subject": "users-value", "version": 1}
        ])
    );
    assert_eq!(
        c.get("/schemas/ids/1/subjects").await.expect_ok(),
        json!(["audit-value", "users-value"])
    );

    let latest = c
        .get("/subjects/users-value/versions/latest")
        .await
        .expect_ok();
    assert_eq!(
        latest,
        json!({"subject": "users-value", "version": 2, "id": 2, "schema": v2})
    );
    let first = c.get("/subjects/users-value/versions/1").await.expect_ok();
    assert_eq!(
        first,
        json!({"subject": "users-value", "version": 1, "id": 1, "schema": v1})
    );
    assert_eq!(
        c.get("/subjects/users-value/versions/-1").await.expect_ok()["version"],
        2
    );
    assert_eq!(
        c.get("/subjects/users-value/versions/2/schema").await.body,
        v2
    );

    // Lookup: which version of the subject holds this schema.
    let found = c
        .post("/subjects/users-value", &json!({ "schema": v1 }))
        .await
        .expect_ok();
    assert_eq!(
        found,
        json!({"subject": "users-value", "version": 1, "id": 1, "schema": v1})
    );
    let msg = c
        .post("/subjects/audit-value", &json!({ "schema": v2 }))
        .await
        .expect_error(404, 40403);
    assert_eq!(msg, "Schema not found");
    let msg = c
        .post("/subjects/nobody", &json!({ "schema": v1 }))
        .await
        .expect_error(404, 40401);
    assert_eq!(msg, "Subject 'nobody' not found.");
    r.stop().await;
}

#[tokio::test]
async fn custom_properties_survive_registration() {
    let r = start(None).await;
    let c = r.client;
    // What Kafka Connect's AvroConverter registers for a Debezium timestamp.
    let schema = json!({
        "type": "record", "name": "Value", "namespace": "db.public.t",
        "fields": [
            {"name": "id", "type": "int"},
            {"name": "ts", "type": ["null", {"type": "string", "connect.version": 1,
                "connect.name": "io.debezium.time.ZonedTimestamp"}], "default": null}
        ],
        "connect.name": "db.public.t.Value"
    })
    .to_string();
    let id = c.register("db.public.t-value", &schema).await;
    let stored: Value = serde_json::from_str(
        c.get(&format!("/schemas/ids/{id}")).await.expect_ok()["schema"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored["connect.name"], "db.public.t.Value");
    assert_eq!(
        stored["fields"][1]["type"][1]["connect.name"],
        "io.debezium.time.ZonedTimestamp"
    );
    r.stop().await;
}

#[tokio::test]
async fn error_codes() {
    let r = start(None).await;
    let c = r.client;
    let s = record("r", &["a:int"]);
    c.register("s", &s).await;

    // 42201: not JSON, not Avro, empty, unsupported type or references.
    for body in [
        json!({"schema": "{not json"}),
        json!({"schema": "{\"type\":\"record\",\"name\":\"r\"}"}),
        json!({"schema": "\"no_such_type\""}),
    ] {
        let msg = c
            .post("/subjects/s/versions", &body)
            .await
            .expect_error(422, 42201);
        assert!(
            msg.starts_with("Invalid schema of type AVRO, details: "),
            "{msg}"
        );
    }
    assert_eq!(
        c.post("/subjects/s/versions", &json!({"schema": ""}))
            .await
            .expect_error(422, 42201),
        "Empty schema"
    );
    assert_eq!(
        c.post("/subjects/s/versions", &json!({}))
            .await
            .expect_error(422, 42201),
        "Empty schema"
    );
    assert_eq!(
        c.post(
            "/subjects/s/versions",
            &json!({"schema": "{}", "schemaType": "PROTOBUF"})
        )
        .await
        .expect_error(422, 42201),
        "Invalid schema type PROTOBUF"
    );
    c.post(
        "/subjects/s/versions",
        &json!({"schema": s, "references": [{"name": "x", "subject": "y", "version": 1}]}),
    )
    .await
    .expect_error(422, 42201);
    // An explicit AVRO type and empty references are fine.
    let v = c
        .post(
            "/subjects/s/versions",
            &json!({"schema": s, "schemaType": "AVRO", "references": []}),
        )
        .await
        .expect_ok();
    assert_eq!(v, json!({"id": 1}));
    // 42201 on lookup too.
    c.post("/subjects/s", &json!({"schema": "{"}))
        .await
        .expect_error(422, 42201);

    // 42202: versions that are not versions.
    for bad in ["0", "-2", "abc", "2147483648"] {
        let msg = c
            .get(&format!("/subjects/s/versions/{bad}"))
            .await
            .expect_error(422, 42202);
        assert_eq!(
            msg,
            format!("The specified version '{bad}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")
        );
        c.delete(&format!("/subjects/s/versions/{bad}"))
            .await
            .expect_error(422, 42202);
    }

    // 40401 / 40402 / 40403.
    assert_eq!(
        c.get("/subjects/nope/versions")
            .await
            .expect_error(404, 40401),
        "Subject 'nope' not found."
    );
    c.get("/subjects/nope/versions/1")
        .await
        .expect_error(404, 40401);
    c.get("/subjects/nope/versions/latest")
        .await
        .expect_error(404, 40401);
    c.delete("/subjects/nope").await.expect_error(404, 40401);
    c.delete("/subjects/nope/versions/1")
        .await
        .expect_error(404, 40401);
    assert_eq!(
        c.get("/subjects/s/versions/9")
            .await
            .expect_error(404, 40402),
        "Version 9 not found."
    );
    c.delete("/subjects/s/versions/9")
        .await
        .expect_error(404, 40402);
    assert_eq!(
        c.get("/schemas/ids/99").await.expect_error(404, 40403),
        "Schema 99 not found"
    );
    c.get("/schemas/ids/99/versions")
        .await
        .expect_error(404, 40403);
    c.get("/schemas/ids/0").await.expect_error(404, 40403);
    assert_eq!(
        c.get("/schemas/ids/-3").await.expect_error(404, 40403),
        "Schema -3 not found"
    );

    // 42203 / 40408.
    let invalid_level = "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive";
    assert_eq!(
        c.put("/config", &json!({"compatibility": "SOMETIMES"}))
            .await
            .expect_error(422, 42203),
        invalid_level
    );
    c.put("/config/s", &json!({"compatibility": 3}))
        .await
        .expect_error(422, 42203);
    c.put("/config/s", &json!({}))
        .await
        .expect_error(422, 42203);
    assert_eq!(
        c.get("/config/s").await.expect_error(404, 40408),
        "Subject 's' does not have subject-level compatibility configured"
    );

    // 409 for an incompatible schema.
    let msg = c
        .try_register("s", &record("r", &["a:int", "b:string"]))
        .await
        .expect_error(409, 409);
    assert!(
        msg.starts_with(
            "Schema being registered is incompatible with an earlier schema for subject \"s\", details: [{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'"
        ),
        "{msg}"
    );
    assert!(
        msg.ends_with("{validateFields: 'false', compatibility: 'BACKWARD'}]"),
        "{msg}"
    );

    // Bodies: malformed JSON, wrong shapes, content types.
    c.request("POST", "/subjects/s/versions", Some(SR_JSON), Some("{"))
        .await
        .expect_error(400, 400);
    c.request("POST", "/subjects/s/versions", Some(SR_JSON), Some(""))
        .await
        .expect_error(400, 400);
    c.request(
        "POST",
        "/subjects/s/versions",
        Some(SR_JSON),
        Some("{\"schema\": 5}"),
    )
    .await
    .expect_error(422, 422);
    c.request(
        "POST",
        "/subjects/s/versions",
        Some("text/plain"),
        Some(&json!({"schema": s}).to_string()),
    )
    .await
    .expect_error(415, 415);
    let body = json!({"schema": s}).to_string();
    for ct in [
        None,
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("application/vnd.schemaregistry.v1+json"),
        Some("application/vnd.schemaregistry+json"),
    ] {
        let reply = c
            .request("POST", "/subjects/s/versions", ct, Some(&body))
            .await;
        assert_eq!(reply.expect_ok(), json!({"id": 1}), "{ct:?}");
    }
    r.stop().await;
}

#[tokio::test]
async fn soft_and_permanent_deletes() {
    let r = start(None).await;
    let c = r.client;
    let v1 = record("r", &["a:int"]);
    let v2 = record("r", &["a:int", "b:int=1"]);
    let v3 = record("r", &["a:int", "b:int=1", "c:int=2"]);
    assert_eq!(c.register("s", &v1).await, 1);
    assert_eq!(c.register("s", &v2).await, 2);
    assert_eq!(c.register("s", &v3).await, 3);

    // Soft-delete version 1: hidden, still readable with deleted=true and by id.
    assert_eq!(
        c.delete("/subjects/s/versions/1").await.expect_ok(),
        json!(1)
    );
    c.get("/subjects/s/versions/1")
        .await
        .expect_error(404, 40402);
    assert_eq!(
        c.get("/subjects/s/versions/1?deleted=true")
            .await
            .expect_ok()["id"],
        1
    );
    assert_eq!(
        c.get("/subjects/s/versions").await.expect_ok(),
        json!([2, 3])
    );
    assert_eq!(
        c.get("/subjects/s/versions?deleted=true").await.expect_ok(),
        json!([1, 2, 3])
    );
    assert_eq!(c.get("/schemas/ids/1").await.expect_ok()["schema"], v1);
    assert_eq!(
        c.get("/schemas/ids/1/versions").await.expect_ok(),
        json!([])
    );
    assert_eq!(
        c.get("/schemas/ids/1/versions?deleted=true")
            .await
            .expect_ok(),
        json!([{"subject": "s", "version": 1}])
    );
    c.post("/subjects/s", &json!({"schema": v1}))
        .await
        .expect_error(404, 40403);
    assert_eq!(
        c.post("/subjects/s?deleted=true", &json!({"schema": v1}))
            .await
            .expect_ok()["version"],
        1
    );
    let msg = c
        .delete("/subjects/s/versions/1")
        .await
        .expect_error(404, 40406);
    assert_eq!(
        msg,
        "Subject 's' Version 1 was soft deleted.Set permanent=true to delete permanently"
    );
    // Permanent delete needs a soft delete first.
    let msg = c
        .delete("/subjects/s/versions/2?permanent=true")
        .await
        .expect_error(404, 40407);
    assert_eq!(
        msg,
        "Subject 's' Version 2 was not deleted first before being permanently deleted"
    );
    assert_eq!(
        c.delete("/subjects/s/versions/1?permanent=true")
            .await
            .expect_ok(),
        json!(1)
    );
    c.get("/subjects/s/versions/1?deleted=true")
        .await
        .expect_error(404, 40402);
    c.get("/schemas/ids/1").await.expect_error(404, 40403);

    // "latest" deletes the latest live version.
    assert_eq!(
        c.delete("/subjects/s/versions/latest").await.expect_ok(),
        json!(3)
    );
    assert_eq!(
        c.get("/subjects/s/versions/latest").await.expect_ok()["version"],
        2
    );

    // Whole subject: soft, then permanent.
    let msg = c
        .delete("/subjects/s?permanent=true")
        .await
        .expect_error(404, 40405);
    assert_eq!(
        msg,
        "Subject 's' was not deleted first before being permanently deleted"
    );
    assert_eq!(c.delete("/subjects/s").await.expect_ok(), json!([2]));
    let msg = c.delete("/subjects/s").await.expect_error(404, 40404);
    assert_eq!(
        msg,
        "Subject 's' was soft deleted.Set permanent=true to delete permanently"
    );
    assert_eq!(c.get("/subjects").await.expect_ok(), json!([]));
    assert_eq!(
        c.get("/subjects?deleted=true").await.expect_ok(),
        json!(["s"])
    );
    c.get("/subjects/s/versions").await.expect_error(404, 40401);
    c.get("/subjects/s/versions/latest")
        .await
        .expect_error(404, 40401);
    // Registering again after a soft delete continues the version numbers;
    // like Confluent, the soft-deleted version holding the same schema
    // (version 2) is dropped.
    assert_eq!(c.register("s", &v2).await, 2);
    assert_eq!(
        c.get("/subjects/s/versions?deleted=true").await.expect_ok(),
        json!([3, 4])
    );
    assert_eq!(c.delete("/subjects/s").await.expect_ok(), json!([4]));
    assert_eq!(
        c.delete("/subjects/s?permanent=true").await.expect_ok(),
        json!([3, 4])
    );
    c.get("/subjects/s/versions?deleted=true")
        .await
        .expect_error(404, 40401);
    c.delete("/subjects/s?permanent=true")
        .await
        .expect_error(404, 40401);
    // After a permanent delete the subject starts over; ids stay the same.
    assert_eq!(c.register("s", &v3).await, 3);
    assert_eq!(c.get("/subjects/s/versions").await.expect_ok(), json!([1]));
    assert_eq!(c.register("s2", &record("q", &["z:long"])).await, 4);
    r.stop().await;
}

#[tokio::test]
async fn config_global_and_per_subject() {
    let r = start(None).await;
    let c = r.client;
    assert_eq!(
        c.get("/config").await.expect_ok(),
        json!({"compatibilityLevel": "BACKWARD"})
    );
    assert_eq!(
        c.put("/config", &json!({"compatibility": "full"}))
            .await
            .expect_ok(),
        json!({"compatibility": "FULL"})
    );
    assert_eq!(
        c.get("/config").await.expect_ok(),
        json!({"compatibilityLevel": "FULL"})
    );
    c.get("/config/orders-value").await.expect_error(404, 40408);
    assert_eq!(
        c.get("/config/orders-value?defaultToGlobal=true")
            .await
            .expect_ok(),
        json!({"compatibilityLevel": "FULL"})
    );
    // A subject's level can be set before it has any schema.
    c.set_compatibility("orders-value", "NONE").await;
    assert_eq!(
        c.get("/config/orders-value").await.expect_ok(),
        json!({"compatibilityLevel": "NONE"})
    );
    assert_eq!(c.get("/subjects").await.expect_ok(), json!([]));
    // NONE lets anything in.
    c.register("orders-value", &record("o", &["a:int"])).await;
    c.register("orders-value", &record("o", &["a:string", "b:int"]))
        .await;
    assert_eq!(
        c.delete("/config/orders-value").await.expect_ok(),
        json!({"compatibilityLevel": "NONE"})
    );
    c.get("/config/orders-value").await.expect_error(404, 40408);
    // Back under the global FULL.
    c.try_register(
        "orders-value",
        &record("o", &["a:string", "b:int", "c:int"]),
    )
    .await
    .expect_error(409, 409);
    assert_eq!(
        c.delete("/config/orders-value")
            .await
            .expect_error(404, 40401),
        "Subject 'orders-value' not found."
    );
    assert_eq!(
        c.delete("/config").await.expect_ok(),
        json!({"compatibilityLevel": "FULL"})
    );
    assert_eq!(
        c.get("/config").await.expect_ok(),
        json!({"compatibilityLevel": "BACKWARD"})
    );
    // A permanent subject delete takes its config along.
    c.set_compatibility("gone", "FORWARD").await;
    c.register("gone", &record("g", &["a:int"])).await;
    c.delete("/subjects/gone").await.expect_ok();
    assert_eq!(
        c.get("/config/gone").await.expect_ok(),
        json!({"compatibilityLevel": "FORWARD"}),
        "a soft delete keeps the config"
    );
    c.delete("/subjects/gone?permanent=true").await.expect_ok();
    c.get("/config/gone").await.expect_error(404, 40408);
    r.stop().await;
}
