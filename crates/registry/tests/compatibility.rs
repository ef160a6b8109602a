//! Compatibility levels, over HTTP: what each one lets in and keeps out,
//! and the compatibility-check endpoint.

mod common;

use common::{record, start, Client};
use serde_json::json;

/// Registers `history` under a fresh subject with `level`, then tries
/// `candidate`: true when it was accepted.
async fn accepted(
    c: &Client,
    subject: &str,
    level: &str,
    history: &[&[&str]],
    candidate: &[&str],
) -> bool {
    c.set_compatibility(subject, level).await;
    for fields in history {
        c.register(subject, &record("r", fields)).await;
    }
    let reply = c.try_register(subject, &record("r", candidate)).await;
    match reply.status {
        200 => true,
        409 => {
            let msg = reply.expect_error(409, 409);
            assert!(msg.contains(&format!("compatibility: '{level}'")), "{msg}");
            false
        }
        _ => panic!("unexpected answer {reply:?}"),
    }
}

/// (level, fields of the versions registered first, fields of the new
/// schema, accepted?)
type Case = (
    &'static str,
    &'static [&'static [&'static str]],
    &'static [&'static str],
    bool,
);

#[tokio::test]
async fn every_level_accepts_and_rejects_what_confluent_does() {
    let r = start(None).await;
    let c = r.client;
    let mut n = 0;
    let mut subject = || {
        n += 1;
        format!("subject-{n}")
    };
    let cases: &[Case] = &[
        // BACKWARD: the new schema reads data of the latest one.
        ("BACKWARD", &[&["a:int"]], &["a:int", "b:string"], false),
        (
            "BACKWARD",
            &[&["a:int"]],
            &["a:int", "b:string=\"x\""],
            true,
        ),
        ("BACKWARD", &[&["a:int", "b:string"]], &["a:int"], true),
        ("BACKWARD", &[&["a:int"]], &["a:long"], true),
        ("BACKWARD", &[&["a:long"]], &["a:int"], false),
        ("BACKWARD", &[&["a:int"]], &["a:string"], false),
        // FORWARD: the latest schema reads data of the new one.
        ("FORWARD", &[&["a:int", "b:string"]], &["a:int"], false),
        ("FORWARD", &[&["a:int", "b:string=\"x\""]], &["a:int"], true),
        ("FORWARD", &[&["a:int"]], &["a:int", "b:string"], true),
        ("FORWARD", &[&["a:int"]], &["a:long"], false),
        // FULL: both.
        ("FULL", &[&["a:int"]], &["a:int", "b:string"], false),
        ("FULL", &[&["a:int", "b:string"]], &["a:int"], false),
        ("FULL", &[&["a:int"]], &["a:int", "b:string=\"x\""], true),
        ("FULL", &[&["a:int", "b:string=\"x\""]], &["a:int"], true),
        // NONE: anything.
        ("NONE", &[&["a:int"]], &["b:string"], true),
        // Only the latest counts for the non-transitive levels...
        ("BACKWARD", &[&["a:int"], &[]], &["a:string=\"z\""], true),
        ("FORWARD", &[&["a:int"], &["a:int=0"]], &[], true),
        ("FULL", &[&["a:int"], &["a:int=0"]], &[], true),
        // ...every version for the transitive ones.
        (
            "BACKWARD_TRANSITIVE",
            &[&["a:int"], &[]],
            &["a:string=\"z\""],
            false,
        ),
        (
            "BACKWARD_TRANSITIVE",
            &[&["a:int"], &[]],
            &["a:int=5"],
            true,
        ),
        (
            "FORWARD_TRANSITIVE",
            &[&["a:int"], &["a:int=0"]],
            &[],
            false,
        ),
        (
            "FORWARD_TRANSITIVE",
            &[&["a:int=1"], &["a:int=0"]],
            &[],
            true,
        ),
        ("FULL_TRANSITIVE", &[&["a:int"], &["a:int=0"]], &[], false),
        ("FULL_TRANSITIVE", &[&["a:int=1"], &["a:int=0"]], &[], true),
    ];
    for (level, history, candidate, expected) in cases {
        let s = subject();
        assert_eq!(
            accepted(&c, &s, level, history, candidate).await,
            *expected,
            "{level}: {history:?} then {candidate:?}"
        );
    }
    r.stop().await;
}

#[tokio::test]
async fn enums_and_unions() {
    let r = start(None).await;
    let c = r.client;
    let abc = r#"{"type":"enum","name":"e","symbols":["A","B","C"]}"#;
    let ab = r#"{"type":"enum","name":"e","symbols":["A","B"]}"#;
    c.register("enum", abc).await;
    let msg = c.try_register("enum", ab).await.expect_error(409, 409);
    assert!(msg.contains("MISSING_ENUM_SYMBOLS"), "{msg}");
    assert!(msg.contains("additionalInfo:'[C]'"), "{msg}");
    c.set_compatibility("enum", "FORWARD").await;
    c.register("enum", ab).await;

    c.register("union", r#"["null","string","int"]"#).await;
    let msg = c
        .try_register("union", r#"["null","string"]"#)
        .await
        .expect_error(409, 409);
    assert!(msg.contains("MISSING_UNION_BRANCH"), "{msg}");
    c.register("union", r#"["null","string","int","long"]"#)
        .await;
    r.stop().await;
}

#[tokio::test]
async fn compatibility_endpoint() {
    let r = start(None).await;
    let c = r.client;
    let v1 = record("r", &["a:int"]);
    c.register("s", &v1).await;
    c.register("s", &record("r", &["a:int", "b:int=0"])).await;

    let bad = json!({"schema": record("r", &["a:int", "c:string"])});
    let good = json!({"schema": record("r", &["a:int", "c:string=\"\""])});
    for path in [
        "/compatibility/subjects/s/versions/latest",
        "/compatibility/subjects/s/versions/1",
        "/compatibility/subjects/s/versions",
    ] {
        assert_eq!(
            c.post(path, &bad).await.expect_ok(),
            json!({"is_compatible": false}),
            "{path}"
        );
        assert_eq!(
            c.post(path, &good).await.expect_ok(),
            json!({"is_compatible": true}),
            "{path}"
        );
    }
    let verbose = c
        .post(
            "/compatibility/subjects/s/versions/latest?verbose=true",
            &bad,
        )
        .await
        .expect_ok();
    assert_eq!(verbose["is_compatible"], false);
    let messages = verbose["messages"].as_array().unwrap();
    assert!(
        messages[0]
            .as_str()
            .unwrap()
            .starts_with("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&json!("{oldSchemaVersion: 2}")),
        "{messages:?}"
    );
    assert_eq!(
        c.post("/compatibility/subjects/s/versions/1?verbose=true", &good)
            .await
            .expect_ok(),
        json!({"is_compatible": true, "messages": []})
    );
    // The level of the subject decides.
    c.set_compatibility("s", "NONE").await;
    assert_eq!(
        c.post("/compatibility/subjects/s/versions/latest", &bad)
            .await
            .expect_ok(),
        json!({"is_compatible": true})
    );
    // A subject without versions accepts anything at "latest".
    assert_eq!(
        c.post("/compatibility/subjects/new/versions/latest", &bad)
            .await
            .expect_ok(),
        json!({"is_compatible": true})
    );
    c.post("/compatibility/subjects/s/versions/7", &good)
        .await
        .expect_error(404, 40402);
    c.post("/compatibility/subjects/s/versions/zero", &good)
        .await
        .expect_error(422, 42202);
    let invalid = json!({"schema": "{\"type\":\"nope\"}"});
    c.post("/compatibility/subjects/s/versions/latest", &invalid)
        .await
        .expect_error(422, 42201);
    let v = c
        .post(
            "/compatibility/subjects/s/versions/latest?verbose=true",
            &invalid,
        )
        .await
        .expect_ok();
    assert_eq!(v["is_compatible"], false);
    assert!(v["messages"][0]
        .as_str()
        .unwrap()
        .starts_with("Invalid schema of type AVRO"));
    // Checks change nothing.
    assert_eq!(
        c.get("/subjects/s/versions").await.expect_ok(),
        json!([1, 2])
    );
    r.stop().await;
}
