//! The Avro converter against a real schema registry (sluice's embedded
//! one, served on a free loopback port), plus a tiny recording HTTP server
//! for the requests a registry cannot show (headers).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use sluice_connect_api::data::logical;
use sluice_connect_api::{
    Converter, Decimal, ErrorKind, Props, SchemaBuilder, SchemaRef, Struct, Value,
};
use sluice_converters::avro::{schema_id_of, AvroData};
use sluice_converters::{converter_config_def, create_converter, AvroConverter};

/// An embedded registry on its own runtime (so the blocking converter can
/// be called from the test thread).
struct Registry {
    url: String,
    _runtime: tokio::runtime::Runtime,
}

fn start_registry() -> Registry {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(sluice_registry::RegistryServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            None,
        ))
        .unwrap();
    let url = format!("http://{}", server.local_addr());
    runtime.spawn(server.run());
    Registry {
        url,
        _runtime: runtime,
    }
}

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn converter(url: &str, extra: &[(&str, &str)], is_key: bool) -> AvroConverter {
    let mut p = props(extra);
    p.insert("schema.registry.url".into(), url.into());
    AvroConverter::new(&p, is_key).unwrap()
}

fn http_get(url: &str) -> serde_json::Value {
    let mut response = ureq::get(url).call().unwrap();
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

fn http_post(url: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut response = agent
        .post(url)
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .send(body.to_string().as_bytes())
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

fn row_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("shop.public.orders.Value")
        .version(1)
        .field("id", SchemaBuilder::int32().build())
        .field("note", SchemaBuilder::string().optional().build())
        .field("amount", logical::decimal(2).optional().build())
        .build()
}

fn row(schema: &SchemaRef, id: i32, note: Option<&str>) -> Value {
    Value::Struct(
        Struct::new(schema.clone())
            .with("id", id)
            .with("note", note.map(str::to_string))
            .with(
                "amount",
                Value::Decimal(Decimal::new(i64::from(id) * 100 + 5, 2)),
            ),
    )
}

#[test]
fn auto_registers_and_caches_ids() {
    let reg = start_registry();
    let c = converter(&reg.url, &[], false);
    let schema = row_schema();
    let bytes = c
        .from_connect("orders", Some(&schema), &row(&schema, 1, Some("a")))
        .unwrap()
        .unwrap();
    let id = schema_id_of(&bytes).expect("Confluent header");
    assert_eq!(bytes[0], 0);
    assert_eq!(c.registry_request_count(), 1);

    // The registry holds the schema text Confluent's converter registers,
    // unchanged (Confluent's registry serves Avro Java's rendering, which
    // is what the converter sends).
    let latest = http_get(&format!(
        "{}/subjects/orders-value/versions/latest",
        reg.url
    ));
    assert_eq!(latest["id"].as_i64(), Some(i64::from(id)));
    assert_eq!(latest["version"].as_i64(), Some(1));
    let stored = latest["schema"].as_str().unwrap();
    let sent = AvroData::default().schema_text(&schema).unwrap();
    assert_eq!(stored, sent);

    // Same schema again, and an equal schema in another Arc: no request.
    for i in 0..50 {
        let b = c
            .from_connect("orders", Some(&schema), &row(&schema, i, None))
            .unwrap()
            .unwrap();
        assert_eq!(schema_id_of(&b), Some(id));
    }
    let equal = row_schema();
    let b = c
        .from_connect("orders", Some(&equal), &row(&equal, 2, None))
        .unwrap()
        .unwrap();
    assert_eq!(schema_id_of(&b), Some(id));
    assert_eq!(
        c.registry_request_count(),
        1,
        "the hot path never calls the registry"
    );

    // Another topic is another subject: one more registration, same id
    // (the registry shares ids between subjects for equal schemas).
    let b = c
        .from_connect("orders2", Some(&schema), &row(&schema, 3, None))
        .unwrap()
        .unwrap();
    assert_eq!(schema_id_of(&b), Some(id));
    assert_eq!(c.registry_request_count(), 2);

    // The key converter uses <topic>-key.
    let key_schema = SchemaBuilder::struct_()
        .name("shop.public.orders.Key")
        .field("id", SchemaBuilder::int32().build())
        .build();
    let k = converter(&reg.url, &[], true);
    let kb = k
        .from_connect(
            "orders",
            Some(&key_schema),
            &Value::Struct(Struct::new(key_schema.clone()).with("id", 1)),
        )
        .unwrap()
        .unwrap();
    let key_latest = http_get(&format!("{}/subjects/orders-key/versions/latest", reg.url));
    assert_eq!(key_latest["id"].as_i64(), schema_id_of(&kb).map(i64::from));
    assert_ne!(schema_id_of(&kb), Some(id));
    let subjects = http_get(&format!("{}/subjects", reg.url));
    let mut subjects: Vec<&str> = subjects
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["orders-key", "orders-value", "orders2-value"]);

    // A fresh converter registers again and gets the same id back.
    let c2 = converter(&reg.url, &[], false);
    let b = c2
        .from_connect("orders", Some(&schema), &row(&schema, 1, None))
        .unwrap()
        .unwrap();
    assert_eq!(schema_id_of(&b), Some(id));
    let versions = http_get(&format!("{}/subjects/orders-value/versions", reg.url));
    assert_eq!(versions, serde_json::json!([1]));
}

#[test]
fn round_trips_through_the_registry() {
    let reg = start_registry();
    let c = converter(&reg.url, &[], false);
    let schema = row_schema();
    for value in [
        row(&schema, 1, Some("x")),
        row(&schema, -7, None),
        Value::Struct(Struct::new(schema.clone()).with("id", 0)),
    ] {
        let bytes = c.from_connect("t", Some(&schema), &value).unwrap().unwrap();
        let (back_schema, back) = c.to_connect("t", Some(&bytes)).unwrap();
        assert_eq!(*back_schema.unwrap(), *schema);
        assert_eq!(back, value);
    }
    // A fresh converter (cold caches) reads it too, fetching the schema by
    // id once.
    let reader = converter(&reg.url, &[], false);
    let bytes = c
        .from_connect("t", Some(&schema), &row(&schema, 5, None))
        .unwrap()
        .unwrap();
    for _ in 0..3 {
        let (s, v) = reader.to_connect("t", Some(&bytes)).unwrap();
        assert_eq!(*s.unwrap(), *schema);
        assert_eq!(v, row(&schema, 5, None));
    }
    let after_first = reader.registry_request_count();
    assert!(after_first <= 2, "{after_first}");
    reader.to_connect("t", Some(&bytes)).unwrap();
    assert_eq!(reader.registry_request_count(), after_first);

    // A top-level schema without connect.version takes the registry's
    // version, as Confluent's converter does.
    let unversioned = SchemaBuilder::struct_()
        .name("t.NoVersion")
        .field("a", SchemaBuilder::int64().build())
        .build();
    let value = Value::Struct(Struct::new(unversioned.clone()).with("a", Value::Int64(3)));
    let bytes = c
        .from_connect("nv", Some(&unversioned), &value)
        .unwrap()
        .unwrap();
    let (s, v) = c.to_connect("nv", Some(&bytes)).unwrap();
    let s = s.unwrap();
    assert_eq!(s.version, Some(1));
    assert_eq!(s.name.as_deref(), Some("t.NoVersion"));
    let Value::Struct(v) = v else { panic!() };
    assert_eq!(v.get("a"), Some(&Value::Int64(3)));

    // Primitive keys, nulls and tombstones.
    let k = converter(&reg.url, &[], true);
    let string = SchemaBuilder::string().optional().build();
    let bytes = k
        .from_connect("t", Some(&string), &"key-1".into())
        .unwrap()
        .unwrap();
    assert_eq!(&bytes[5..], [0x02, 0x0a, b'k', b'e', b'y', b'-', b'1']);
    let (s, v) = k.to_connect("t", Some(&bytes)).unwrap();
    assert_eq!(*s.unwrap(), *string);
    assert_eq!(v, "key-1".into());
    assert_eq!(
        k.from_connect("t", Some(&string), &Value::Null).unwrap(),
        None
    );
    assert_eq!(k.from_connect("t", None, &Value::Null).unwrap(), None);
    assert_eq!(k.to_connect("t", None).unwrap(), (None, Value::Null));
    let err = k
        .from_connect("t", Some(&SchemaBuilder::string().build()), &Value::Null)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    let err = k.from_connect("t", None, &"x".into()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[test]
fn wrong_magic_byte_and_short_payloads() {
    let reg = start_registry();
    let c = converter(&reg.url, &[], false);
    let err = c.to_connect("t", Some(&[1, 0, 0, 0, 1, 2])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert!(err.message().contains("Unknown magic byte!"), "{err}");
    assert!(c
        .to_connect("t", Some(b"{\"json\":1}"))
        .unwrap_err()
        .message()
        .contains("Unknown magic byte!"));
    assert!(c
        .to_connect("t", Some(&[]))
        .unwrap_err()
        .message()
        .contains("Unknown magic byte!"));
    let err = c.to_connect("t", Some(&[0, 0, 0])).unwrap_err();
    assert!(err.message().contains("5-byte header"), "{err}");
    // An id the registry does not know.
    let err = c
        .to_connect("t", Some(&[0, 0, 0, 0x7f, 0x7f, 2]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert!(
        err.message().contains("32639") && err.message().contains(&reg.url),
        "{err}"
    );
}

#[test]
fn use_latest_version_and_lookup() {
    let reg = start_registry();
    let schema = row_schema();
    let registered = converter(&reg.url, &[], false)
        .from_connect("inv", Some(&schema), &row(&schema, 1, None))
        .unwrap()
        .unwrap();
    let v1 = schema_id_of(&registered).unwrap();

    // auto.register.schemas=false: the schema must be registered already.
    let lookup = converter(&reg.url, &[("auto.register.schemas", "false")], false);
    let b = lookup
        .from_connect("inv", Some(&schema), &row(&schema, 2, None))
        .unwrap()
        .unwrap();
    assert_eq!(schema_id_of(&b), Some(v1));
    let other = SchemaBuilder::struct_()
        .name("x.Unregistered")
        .field("a", SchemaBuilder::int32().build())
        .build();
    let err = lookup
        .from_connect(
            "inv",
            Some(&other),
            &Value::Struct(Struct::new(other.clone()).with("a", 1)),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data);
    assert!(!err.is_retriable());
    let msg = err.message();
    assert!(
        msg.contains("inv-value") && msg.contains(&reg.url) && msg.contains("error_code 404"),
        "{msg}"
    );
    let err = lookup
        .from_connect("nosuchtopic", Some(&schema), &row(&schema, 1, None))
        .unwrap_err();
    assert!(err.message().contains("error_code 40401"), "{err}");

    // A second version with one more optional field, registered by hand.
    let v2_schema = SchemaBuilder::struct_()
        .name("shop.public.orders.Value")
        .version(1)
        .field("id", SchemaBuilder::int32().build())
        .field("note", SchemaBuilder::string().optional().build())
        .field("amount", logical::decimal(2).optional().build())
        .field("extra", SchemaBuilder::string().optional().build())
        .build();
    let v2_text = AvroData::default().schema_text(&v2_schema).unwrap();
    let (status, body) = http_post(
        &format!("{}/subjects/inv-value/versions", reg.url),
        &serde_json::json!({ "schema": v2_text }),
    );
    assert_eq!(status, 200, "{body}");
    let v2 = body["id"].as_i64().unwrap() as i32;
    assert_ne!(v1, v2);

    // use.latest.version writes the old-shaped record with the latest
    // schema: the missing field takes its default.
    let latest = converter(
        &reg.url,
        &[
            ("auto.register.schemas", "false"),
            ("use.latest.version", "true"),
        ],
        false,
    );
    let b = latest
        .from_connect("inv", Some(&schema), &row(&schema, 3, Some("n")))
        .unwrap()
        .unwrap();
    assert_eq!(schema_id_of(&b), Some(v2));
    let (s, v) = latest.to_connect("inv", Some(&b)).unwrap();
    assert_eq!(*s.unwrap(), *v2_schema);
    let Value::Struct(v) = v else { panic!() };
    assert_eq!(v.get("id"), Some(&Value::Int32(3)));
    assert_eq!(v.get("note"), Some(&Value::String("n".into())));
    assert_eq!(v.get("extra"), Some(&Value::Null));
    // And a record of the latest shape keeps the latest id too.
    let b = latest
        .from_connect(
            "inv",
            Some(&v2_schema),
            &Value::Struct(
                Struct::new(v2_schema.clone())
                    .with("id", 4)
                    .with("extra", "e"),
            ),
        )
        .unwrap()
        .unwrap();
    assert_eq!(schema_id_of(&b), Some(v2));
}

#[test]
fn incompatible_schema_is_not_retriable() {
    let reg = start_registry();
    let c = converter(&reg.url, &[], false);
    let v1 = SchemaBuilder::struct_()
        .name("x.Row")
        .field("id", SchemaBuilder::int32().build())
        .build();
    c.from_connect(
        "inc",
        Some(&v1),
        &Value::Struct(Struct::new(v1.clone()).with("id", 1)),
    )
    .unwrap();
    let v2 = SchemaBuilder::struct_()
        .name("x.Row")
        .field("id", SchemaBuilder::string().build())
        .build();
    let err = c
        .from_connect(
            "inc",
            Some(&v2),
            &Value::Struct(Struct::new(v2.clone()).with("id", "1")),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data, "{err}");
    assert!(!err.is_retriable());
    let msg = err.message();
    assert!(
        msg.contains("HTTP 409") && msg.contains("inc-value") && msg.contains(&reg.url),
        "{msg}"
    );
}

fn closed_port_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

#[test]
fn unreachable_registry_is_retriable_and_names_the_url() {
    let down = closed_port_url();
    let c = converter(&down, &[], false);
    let schema = row_schema();
    let err = c
        .from_connect("t", Some(&schema), &row(&schema, 1, None))
        .unwrap_err();
    assert!(err.is_retriable(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(err.message().contains(&down), "{err}");
    assert!(err.message().contains("t-value"), "{err}");
    let err = c.to_connect("t", Some(&[0, 0, 0, 0, 1, 0])).unwrap_err();
    assert!(err.is_retriable() && err.message().contains(&down), "{err}");

    // With a second URL that answers, the converter fails over to it.
    let reg = start_registry();
    let c = converter(&format!("{down}, {}", reg.url), &[], false);
    let bytes = c
        .from_connect("t", Some(&schema), &row(&schema, 1, None))
        .unwrap()
        .unwrap();
    assert_eq!(
        c.to_connect("t", Some(&bytes)).unwrap().1,
        row(&schema, 1, None)
    );
}

/// A one-shot HTTP server that records the request and answers `reply`.
fn recording_server(reply: &'static str) -> (String, thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut content_length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                content_length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).unwrap();
        head.push_str(&String::from_utf8(body).unwrap());
        let mut stream = reader.into_inner();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        )
        .unwrap();
        stream.flush().unwrap();
        head
    });
    (format!("http://{addr}"), handle)
}

#[test]
fn basic_auth_header_from_user_info() {
    let (url, server) = recording_server(r#"{"id":7}"#);
    let c = converter(
        &url,
        &[
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.user.info", "fred:s3cret"),
        ],
        false,
    );
    let schema = SchemaBuilder::int64().build();
    let bytes = c
        .from_connect("auth", Some(&schema), &Value::Int64(1))
        .unwrap()
        .unwrap();
    assert_eq!(bytes, [0, 0, 0, 0, 7, 2]);
    let request = server.join().unwrap();
    // base64("fred:s3cret")
    assert!(
        request.contains("\r\nauthorization: Basic ZnJlZDpzM2NyZXQ=\r\n")
            || request.contains("\r\nAuthorization: Basic ZnJlZDpzM2NyZXQ=\r\n"),
        "{request}"
    );
    assert!(
        request.starts_with("POST /subjects/auth-value/versions?normalize=false HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("content-type: application/vnd.schemaregistry.v1+json"),
        "{request}"
    );
    assert!(
        request.ends_with(r#"{"schemaType":"AVRO","schema":"\"long\""}"#),
        "{request}"
    );
    // The secret never shows in Debug output.
    assert!(!format!("{c:?}").contains("s3cret"));
}

#[test]
fn basic_auth_header_from_url() {
    let (url, server) = recording_server(r#"{"id":8}"#);
    let with_user = url.replace("http://", "http://alice:pw@");
    let c = converter(&with_user, &[], false);
    assert_eq!(c.registry_urls(), vec![url.clone()]);
    let schema = SchemaBuilder::boolean().build();
    let bytes = c
        .from_connect("u", Some(&schema), &Value::Boolean(true))
        .unwrap()
        .unwrap();
    assert_eq!(bytes, [0, 0, 0, 0, 8, 1]);
    let request = server.join().unwrap().to_ascii_lowercase();
    // base64("alice:pw")
    assert!(
        request.contains("\r\nauthorization: basic ywxpy2u6chc=\r\n"),
        "{request}"
    );
}

#[test]
fn no_auth_header_without_credentials() {
    let (url, server) = recording_server(r#"{"id":9}"#);
    let c = converter(&url, &[], true);
    c.from_connect("n", Some(&SchemaBuilder::int32().build()), &Value::Int32(1))
        .unwrap();
    let request = server.join().unwrap().to_ascii_lowercase();
    assert!(!request.contains("authorization"), "{request}");
    assert!(
        request.starts_with("post /subjects/n-key/versions"),
        "{request}"
    );
}

#[test]
fn configuration() {
    let def = converter_config_def("avro").unwrap();
    let default = |k: &str| def.key(k).unwrap_or_else(|| panic!("{k}")).default.clone();
    assert!(def.key("schema.registry.url").unwrap().is_required());
    assert_eq!(default("auto.register.schemas").as_deref(), Some("true"));
    assert_eq!(default("use.latest.version").as_deref(), Some("false"));
    assert_eq!(
        default("basic.auth.credentials.source").as_deref(),
        Some("URL")
    );
    assert_eq!(default("connect.meta.data").as_deref(), Some("true"));
    assert_eq!(
        default("enhanced.avro.schema.support").as_deref(),
        Some("false")
    );
    assert_eq!(default("schemas.cache.config").as_deref(), Some("1000"));
    assert_eq!(
        default("value.subject.name.strategy").as_deref(),
        Some("io.confluent.kafka.serializers.subject.TopicNameStrategy")
    );
    assert_eq!(
        converter_config_def("io.confluent.connect.avro.AvroConverter")
            .unwrap()
            .keys()
            .len(),
        def.keys().len()
    );

    let url = "http://127.0.0.1:1";
    let c = create_converter("avro", &props(&[("schema.registry.url", url)]), false).unwrap();
    assert_eq!(c.content_type(), sluice_connect_api::ContentType::Binary);
    create_converter(
        "io.confluent.connect.avro.AvroConverter",
        &props(&[("schema.registry.url", url)]),
        true,
    )
    .unwrap();

    let err = |p: &[(&str, &str)]| AvroConverter::new(&props(p), false).unwrap_err();
    let e = err(&[]);
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("schema.registry.url"), "{e}");
    let e = err(&[
        ("schema.registry.url", url),
        (
            "value.subject.name.strategy",
            "io.confluent.kafka.serializers.subject.RecordNameStrategy",
        ),
    ]);
    assert!(
        e.message().contains("value.subject.name.strategy")
            && e.message()
                .contains("io.confluent.kafka.serializers.subject.TopicNameStrategy"),
        "{e}"
    );
    let e = err(&[
        ("schema.registry.url", url),
        ("basic.auth.credentials.source", "SASL_INHERIT"),
    ]);
    assert!(
        e.message().contains("basic.auth.credentials.source")
            && e.message().contains("SASL_INHERIT"),
        "{e}"
    );
    let e = err(&[
        ("schema.registry.url", url),
        ("basic.auth.credentials.source", "USER_INFO"),
    ]);
    assert!(e.message().contains("basic.auth.user.info"), "{e}");
    let e = err(&[
        ("schema.registry.url", url),
        ("enhanced.avro.schema.support", "true"),
    ]);
    assert!(e.message().contains("enhanced.avro.schema.support"), "{e}");
    let e = err(&[("schema.registry.url", "localhost:8081")]);
    assert!(
        e.message().contains("schema.registry.url") && e.message().contains("localhost:8081"),
        "{e}"
    );
    let e = err(&[
        ("schema.registry.url", url),
        ("auto.register.schemas", "maybe"),
    ]);
    assert!(e.message().contains("auto.register.schemas"), "{e}");
}

#[test]
fn works_inside_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The registry is served by the same runtime: the converter's
        // blocking call must let it run.
        let server = sluice_registry::RegistryServer::bind("127.0.0.1:0".parse().unwrap(), None)
            .await
            .unwrap();
        let url = format!("http://{}", server.local_addr());
        let _task = server.spawn();
        let c = Arc::new(converter(&url, &[], false));
        let schema = row_schema();
        let mut tasks = Vec::new();
        for i in 0..4 {
            let c = c.clone();
            let schema = schema.clone();
            tasks.push(tokio::spawn(async move {
                let v = row(&schema, i, None);
                let b = c.from_connect("rt", Some(&schema), &v).unwrap().unwrap();
                let (_, back) = c.to_connect("rt", Some(&b)).unwrap();
                assert_eq!(back, v);
                schema_id_of(&b).unwrap()
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1);
    });
}
