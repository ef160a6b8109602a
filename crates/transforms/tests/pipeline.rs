//! Kafka's SMTs and predicates in a running worker: FileStreamSource →
//! transforms (with predicates and negate) → JsonConverter → file sink, and
//! the worker's validation of `transforms.*` / `predicates.*` keys.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sluice_connect_api::config::Props;
use sluice_runtime::connectors::file_stream::FileStreamSource;
use sluice_runtime::{Plugins, Worker};

fn plugins() -> Plugins {
    let mut plugins = Plugins::new();
    plugins.add_connector(Arc::new(FileStreamSource::new()));
    for sink in sluice_sinks::all_plugins() {
        plugins.add_sink(sink);
    }
    for t in sluice_transforms::all_plugins() {
        plugins.add_transform(t);
    }
    for p in sluice_transforms::all_predicates() {
        plugins.add_predicate(p);
    }
    plugins.set_converters(Arc::new(sluice_converters::create_converter));
    plugins
}

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn new_worker() -> Worker {
    Worker::with_memory_offsets(
        plugins(),
        props(&[
            (
                "key.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("key.converter.schemas.enable", "false"),
            ("value.converter.schemas.enable", "true"),
            ("sink.type", "file"),
            ("sink.file.fsync", "false"),
            ("offset.flush.interval.ms", "50"),
        ]),
    )
    .expect("worker config")
}

/// The transform chain both connectors share: wrap each line in a struct,
/// mask it on "secret-*" topics only, and route everything else.
const CHAIN: &[(&str, &str)] = &[
    ("transforms", "hoist,mask,route,stamp"),
    (
        "transforms.hoist.type",
        "org.apache.kafka.connect.transforms.HoistField$Value",
    ),
    ("transforms.hoist.field", "line"),
    (
        "transforms.mask.type",
        "org.apache.kafka.connect.transforms.MaskField$Value",
    ),
    ("transforms.mask.fields", "line"),
    ("transforms.mask.replacement", "****"),
    ("transforms.mask.predicate", "secret"),
    (
        "transforms.route.type",
        "org.apache.kafka.connect.transforms.RegexRouter",
    ),
    ("transforms.route.regex", "(.*)-lines"),
    ("transforms.route.replacement", "routed-$1"),
    ("transforms.route.predicate", "secret"),
    ("transforms.route.negate", "true"),
    ("transforms.stamp.type", "InsertHeader"),
    ("transforms.stamp.header", "via"),
    ("transforms.stamp.value.literal", "sluice"),
    ("predicates", "secret"),
    (
        "predicates.secret.type",
        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
    ),
    ("predicates.secret.pattern", "secret-.*"),
];

fn connector(name: &str, input: &Path, topic: &str, output: &Path) -> Props {
    let mut p = props(CHAIN);
    p.extend(props(&[
        ("name", name),
        ("connector.class", "FileStreamSource"),
        ("topic", topic),
    ]));
    p.insert("file".into(), input.display().to_string());
    p.insert("sink.file.path".into(), output.display().to_string());
    p
}

fn read_lines(path: &Path, want: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        let lines: Vec<Value> = complete
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.len() >= want {
            return lines;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {want} lines in {}: {text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_and_masks_only_where_the_predicate_says() {
    let dir = tempfile::tempdir().unwrap();
    let public_in = dir.path().join("public.txt");
    let secret_in = dir.path().join("secret.txt");
    let public_out = dir.path().join("public.jsonl");
    let secret_out = dir.path().join("secret.jsonl");
    std::fs::write(&public_in, "alpha\nbeta\n").unwrap();
    std::fs::write(&secret_in, "hunter2\ncorrect horse\n").unwrap();

    let worker = new_worker();
    let public = connector("public", &public_in, "public-lines", &public_out);
    let secret = connector("secret", &secret_in, "secret-lines", &secret_out);
    for c in [&public, &secret] {
        let v = worker.validate_connector(c);
        assert!(v.is_ok(), "{:?}", v.issues);
    }
    worker.start_connector(public).await.unwrap();
    worker.start_connector(secret).await.unwrap();

    let public_lines = read_lines(&public_out, 2);
    let secret_lines = read_lines(&secret_out, 2);
    worker.shutdown().await;

    // Not "secret-*": routed (negated predicate matches), not masked.
    let values: Vec<&Value> = public_lines
        .iter()
        .map(|l| &l["value"]["payload"]["line"])
        .collect();
    assert_eq!(values, [&json!("alpha"), &json!("beta")]);
    for l in &public_lines {
        assert_eq!(l["topic"], "routed-public");
        assert_eq!(l["headers"]["via"], "sluice");
        // the converter saw HoistField's struct schema
        assert_eq!(
            l["value"]["schema"],
            json!({"type": "struct", "optional": false, "fields": [
                {"type": "string", "optional": false, "field": "line"}]})
        );
    }
    // "secret-*": masked, topic kept.
    for l in &secret_lines {
        assert_eq!(l["topic"], "secret-lines");
        assert_eq!(l["value"]["payload"]["line"], "****");
        assert_eq!(l["headers"]["via"], "sluice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_with_a_negated_predicate_keeps_only_matching_records() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.jsonl");
    std::fs::write(&input, "one\ntwo\nthree\n").unwrap();
    let mut c = props(&[
        ("name", "filtered"),
        ("connector.class", "FileStreamSource"),
        ("topic", "kept"),
        ("transforms", "drop,ts"),
        ("transforms.drop.type", "Filter"),
        ("transforms.drop.predicate", "kept"),
        ("transforms.drop.negate", "true"),
        (
            "transforms.ts.type",
            "org.apache.kafka.connect.transforms.TimestampRouter",
        ),
        ("transforms.ts.topic.format", "${topic}_${timestamp}"),
        ("transforms.ts.timestamp.format", "yyyy"),
        ("predicates", "kept"),
        ("predicates.kept.type", "TopicNameMatches"),
        ("predicates.kept.pattern", "kept"),
    ]);
    c.insert("file".into(), input.display().to_string());
    c.insert("sink.file.path".into(), output.display().to_string());
    let worker = new_worker();
    worker.start_connector(c.clone()).await.unwrap();
    let lines = read_lines(&output, 3);
    worker.shutdown().await;
    assert_eq!(lines.len(), 3);
    for l in &lines {
        let topic = l["topic"].as_str().unwrap();
        assert!(topic.starts_with("kept_20"), "{topic}");
    }

    // The same pipeline with the predicate matching nothing drops everything.
    let output2 = dir.path().join("out2.jsonl");
    c.insert("name".into(), "filtered2".into());
    c.insert("predicates.kept.pattern".into(), "other".into());
    c.insert("sink.file.path".into(), output2.display().to_string());
    let second = new_worker();
    second.start_connector(c).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    second.shutdown().await;
    let text = std::fs::read_to_string(&output2).unwrap_or_default();
    assert_eq!(text, "");
}

fn issue_keys(worker: &Worker, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut c = props(&[
        ("name", "v"),
        ("connector.class", "FileStreamSource"),
        ("topic", "t"),
        ("file", "/dev/null"),
        ("sink.file.path", "/dev/null"),
    ]);
    c.extend(props(extra));
    worker
        .validate_connector(&c)
        .issues
        .into_iter()
        .map(|i| (i.key, i.message))
        .collect()
}

#[test]
fn validation_names_every_bad_transform_and_predicate_key() {
    let worker = new_worker();
    assert_eq!(issue_keys(&worker, CHAIN), vec![]);

    // an unknown predicate alias, a negate without predicate, a bad value
    let issues = issue_keys(
        &worker,
        &[
            ("transforms", "a,b,c"),
            ("transforms.a.type", "Filter"),
            ("transforms.a.predicate", "nope"),
            ("transforms.b.type", "Filter"),
            ("transforms.b.negate", "true"),
            (
                "transforms.c.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.c.regex", "("),
            ("transforms.c.replacement", "x"),
        ],
    );
    let keys: Vec<&str> = issues.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "transforms.a.predicate",
            "transforms.b.negate",
            "transforms.c.regex"
        ],
        "{issues:?}"
    );
    assert!(issues[0]
        .1
        .contains("no predicate with this alias is listed in 'predicates'"));
    assert_eq!(
        issues[1].1,
        "Config 'transforms.b.negate' was provided but there is no config 'transforms.b.predicate' defining a predicate to be negated."
    );
    assert!(
        issues[2]
            .1
            .starts_with("Invalid value ( for configuration transforms.c.regex: Invalid regex"),
        "{}",
        issues[2].1
    );

    // predicates: missing and unknown types, bad settings, duplicates
    let issues = issue_keys(
        &worker,
        &[
            ("transforms", "f"),
            ("transforms.f.type", "Filter"),
            ("transforms.f.predicate", "p1"),
            ("transforms.f.negate", "maybe"),
            ("predicates", "p1,p2,p3,p3"),
            ("predicates.p1.type", "TopicNameMatches"),
            ("predicates.p2.type", "com.example.Nope"),
        ],
    );
    let keys: Vec<&str> = issues.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "predicates",
            "transforms.f.negate",
            "predicates.p1.pattern",
            "predicates.p2.type",
            "predicates.p3.type",
        ],
        "{issues:?}"
    );
    assert!(issues[0].1.ends_with("Duplicate alias provided."));
    assert_eq!(
        issues[2].1,
        "Missing required configuration \"predicates.p1.pattern\" which has no default value."
    );
    assert!(issues[3].1.contains("com.example.Nope could not be found"));

    // whole-transform problems land on the stage's type; a missing type is named
    let issues = issue_keys(
        &worker,
        &[
            ("transforms", "ins,x"),
            (
                "transforms.ins.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
        ],
    );
    assert_eq!(
        issues,
        vec![
            (
                "transforms.ins.type".to_string(),
                "No field insertion configured".to_string()
            ),
            (
                "transforms.x.type".to_string(),
                "Missing required configuration \"transforms.x.type\" which has no default value."
                    .to_string()
            ),
        ]
    );
}
