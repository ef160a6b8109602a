//! Against a real PostgreSQL: a table with a column of every supported type
//! (plus an enum, domains, arrays, and the hstore / ltree / citext / isn
//! extension types), one row of interesting values read back as text with
//! the simple query protocol (as pgoutput sends them), the type registry
//! filled by `TypeRegistry::CATALOG_QUERY`, and each converted value compared
//! with the value Debezium emits for it.
//!
//! The session time zone is Asia/Kolkata (+05:30, and +05:53:28 LMT before
//! 1942), so timestamptz / timetz / range texts carry non-UTC offsets.

#[path = "types_common.rs"]
mod types_common;

use serde_json::{json, Value as Json};
use sluice_postgres::types::{column_mapping, TypeRegistry, TypeSettings};
use sluice_testkit::{postgres_available, unique_name, PgServer};
use tokio_postgres::{NoTls, SimpleQueryMessage};
use types_common::*;

/// `(column, declaration, inserted SQL literal, expected Debezium value as
/// JsonConverter renders it, expected schema name or type, source of the
/// expectation)`.
type Col = (
    &'static str,
    &'static str,
    &'static str,
    Json,
    &'static str,
    &'static str,
);

fn micros(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64, us: i64) -> i64 {
    // java.time LocalDate.toEpochDay, written out (days before 1970-01-01 of
    // the proleptic Gregorian calendar).
    let days = {
        let (y, m) = if mo <= 2 { (y - 1, mo + 12) } else { (y, mo) };
        let m = i64::from(m);
        365 * y + y.div_euclid(4) - y.div_euclid(100)
            + y.div_euclid(400)
            + (153 * (m - 3) + 2) / 5
            + i64::from(d)
            - 719_469
    };
    ((days * 86_400) + h * 3600 + mi * 60 + s) * 1_000_000 + us
}

fn columns() -> Vec<Col> {
    const ARPT: &str = "Debezium 3.6.1 AbstractRecordsProducerTest";
    const DOCS: &str = "Debezium 3.6.1 PostgreSQL connector docs, data type mappings";
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        json!(base64::engine::general_purpose::STANDARD.encode(b))
    };
    vec![
        ("c_bool", "boolean", "true", json!(true), "boolean", DOCS),
        ("c_bit1", "bit(1)", "B'1'", json!(true), "boolean", ARPT),
        (
            "c_bit10",
            "bit(10)",
            "B'1000000001'",
            b64(&[0x01, 0x02]),
            "io.debezium.data.Bits",
            DOCS,
        ),
        (
            "c_varbit",
            "bit varying",
            "B'101'",
            b64(&[5]),
            "io.debezium.data.Bits",
            ARPT,
        ),
        ("c_int2", "smallint", "-32768", json!(-32768), "int16", DOCS),
        (
            "c_int4",
            "integer",
            "2147483647",
            json!(2147483647),
            "int32",
            DOCS,
        ),
        (
            "c_int8",
            "bigint",
            "-9223372036854775808",
            json!(i64::MIN),
            "int64",
            DOCS,
        ),
        (
            "c_oid",
            "oid",
            "4000000000",
            json!(4_000_000_000u64),
            "int64",
            ARPT,
        ),
        ("c_float4", "real", "3.3", json!(3.3), "float", ARPT),
        (
            "c_float8",
            "double precision",
            "4.44",
            json!(4.44),
            "double",
            ARPT,
        ),
        (
            "c_float8_nan",
            "double precision",
            "'NaN'",
            json!("NaN"),
            "double",
            ARPT,
        ),
        (
            "c_float4_ninf",
            "real",
            "'-Infinity'",
            json!("-Infinity"),
            "float",
            ARPT,
        ),
        (
            "c_numeric",
            "numeric(6,4)",
            "22.22",
            b64(&[0x03, 0x63, 0xf8]),
            "org.apache.kafka.connect.data.Decimal",
            ARPT,
        ),
        (
            "c_numeric_zs",
            "numeric(4)",
            "22.2",
            b64(&[22]),
            "org.apache.kafka.connect.data.Decimal",
            ARPT,
        ),
        (
            "c_numeric_vs",
            "numeric",
            "10.1111",
            json!({"scale": 4, "value": b64(&[0x01, 0x8a, 0xf7])}),
            "io.debezium.data.VariableScaleDecimal",
            ARPT,
        ),
        (
            "c_money",
            "money",
            "1234.11",
            b64(&[0x01, 0xe2, 0x13]),
            "org.apache.kafka.connect.data.Decimal",
            ARPT,
        ),
        (
            "c_money_neg",
            "money",
            "-1234.11",
            b64(&[0xfe, 0x1d, 0xed]),
            "org.apache.kafka.connect.data.Decimal",
            ARPT,
        ),
        ("c_char", "char(4)", "'cdef'", json!("cdef"), "string", ARPT),
        (
            "c_char_pad",
            "char(5)",
            "'ab'",
            json!("ab   "),
            "string",
            ARPT,
        ),
        (
            "c_varchar",
            "varchar(2)",
            "'žš'",
            json!("žš"),
            "string",
            ARPT,
        ),
        (
            "c_text",
            "text",
            "'some text'",
            json!("some text"),
            "string",
            ARPT,
        ),
        (
            "c_name",
            "name",
            "'postgres'",
            json!("postgres"),
            "string",
            "pgjdbc name → VARCHAR",
        ),
        (
            "c_qchar",
            "\"char\"",
            "'x'",
            json!("x"),
            "string",
            "pgjdbc \"char\" → CHAR",
        ),
        (
            "c_bytea",
            "bytea",
            "'\\x000102'::bytea",
            b64(&[0, 1, 2]),
            "bytes",
            ARPT,
        ),
        (
            "c_json",
            "json",
            "'{\"bar\": \"baz\"}'",
            json!("{\"bar\": \"baz\"}"),
            "io.debezium.data.Json",
            ARPT,
        ),
        (
            "c_jsonb",
            "jsonb",
            "'{\"bar\":   \"baz\"}'",
            json!("{\"bar\": \"baz\"}"),
            "io.debezium.data.Json",
            ARPT,
        ),
        (
            "c_xml",
            "xml",
            "'<foo>bar</foo><foo>bar</foo>'",
            json!("<foo>bar</foo><foo>bar</foo>"),
            "io.debezium.data.Xml",
            ARPT,
        ),
        (
            "c_uuid",
            "uuid",
            "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
            json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            "io.debezium.data.Uuid",
            ARPT,
        ),
        (
            "c_inet",
            "inet",
            "'192.168.2.0/12'",
            json!("192.168.2.0/12"),
            "string",
            ARPT,
        ),
        (
            "c_cidr",
            "cidr",
            "'192.168.100.128/25'",
            json!("192.168.100.128/25"),
            "string",
            ARPT,
        ),
        (
            "c_macaddr",
            "macaddr",
            "'08-00-2b-01-02-03'",
            json!("08:00:2b:01:02:03"),
            "string",
            ARPT,
        ),
        (
            "c_macaddr8",
            "macaddr8",
            "'08:00:2b:01:02:03:04:05'",
            json!("08:00:2b:01:02:03:04:05"),
            "string",
            ARPT,
        ),
        (
            "c_date",
            "date",
            "'2016-11-04'",
            json!(17109),
            "io.debezium.time.Date",
            ARPT,
        ),
        (
            "c_date_bc",
            "date",
            "'0044-03-15 BC'",
            json!(micros(-43, 3, 15, 0, 0, 0, 0) / 86_400_000_000),
            "io.debezium.time.Date",
            DOCS,
        ),
        (
            "c_date_inf",
            "date",
            "'infinity'",
            json!(-2_147_472_692),
            "io.debezium.time.Date",
            "Debezium 3.6.1 PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE",
        ),
        (
            "c_time",
            "time",
            "'13:51:30.123456'",
            json!(49_890_123_456i64),
            "io.debezium.time.MicroTime",
            ARPT,
        ),
        (
            "c_time3",
            "time(3)",
            "'13:51:30.123'",
            json!(49_890_123),
            "io.debezium.time.Time",
            ARPT,
        ),
        (
            "c_time_24",
            "time",
            "'24:00:00'",
            json!(86_400_000_000i64),
            "io.debezium.time.MicroTime",
            ARPT,
        ),
        (
            "c_timetz",
            "time with time zone",
            "'13:51:30.123789+02'",
            json!("11:51:30.123789Z"),
            "io.debezium.time.ZonedTime",
            ARPT,
        ),
        (
            "c_timetz3",
            "timetz(3)",
            "'13:51:30.123+02'",
            json!("11:51:30.123Z"),
            "io.debezium.time.ZonedTime",
            ARPT,
        ),
        (
            "c_ts",
            "timestamp",
            "'2016-11-04T13:51:30.123456'",
            json!(micros(2016, 11, 4, 13, 51, 30, 123_456)),
            "io.debezium.time.MicroTimestamp",
            ARPT,
        ),
        (
            "c_ts3",
            "timestamp(3)",
            "'2016-11-04T13:51:30.123456'",
            json!(micros(2016, 11, 4, 13, 51, 30, 123_000) / 1000),
            "io.debezium.time.Timestamp",
            ARPT,
        ),
        (
            "c_ts_bc",
            "timestamp",
            "'4713-12-31T23:59:59.999999 BC'",
            json!(-210_831_897_600_000_001i64),
            "io.debezium.time.MicroTimestamp",
            ARPT,
        ),
        (
            "c_ts_large",
            "timestamp",
            "'21016-11-04T13:51:30.123456'",
            json!(micros(21016, 11, 4, 13, 51, 30, 123_456)),
            "io.debezium.time.MicroTimestamp",
            ARPT,
        ),
        (
            "c_ts_inf",
            "timestamp",
            "'infinity'",
            json!(9_223_372_036_825_200_000i64),
            "io.debezium.time.MicroTimestamp",
            ARPT,
        ),
        (
            "c_tstz",
            "timestamptz",
            "'2016-11-04T13:51:30.123456+02:00'",
            json!("2016-11-04T11:51:30.123456Z"),
            "io.debezium.time.ZonedTimestamp",
            ARPT,
        ),
        (
            "c_tstz0",
            "timestamptz(0)",
            "'2016-11-04 13:51:30+02'",
            json!("2016-11-04T11:51:30Z"),
            "io.debezium.time.ZonedTimestamp",
            DOCS,
        ),
        (
            "c_tstz_lmt",
            "timestamptz",
            "'1900-01-01 00:00:00+00'",
            json!("1900-01-01T00:00:00.000000Z"),
            "io.debezium.time.ZonedTimestamp",
            DOCS,
        ),
        (
            "c_tstz_large",
            "timestamptz",
            "'21016-11-04T13:51:30.123456+07:00'",
            json!("+21016-11-04T06:51:30.123456Z"),
            "io.debezium.time.ZonedTimestamp",
            ARPT,
        ),
        (
            "c_tstz_ninf",
            "timestamptz",
            "'-infinity'",
            json!("-infinity"),
            "io.debezium.time.ZonedTimestamp",
            ARPT,
        ),
        (
            "c_interval",
            "interval",
            "'P1Y2M3DT4H5M6.78S'",
            json!(37_091_106_780_000i64),
            "io.debezium.time.MicroDuration",
            ARPT,
        ),
        (
            "c_interval_neg",
            "interval",
            "'-1 days -1.5 seconds'",
            json!(-86_401_500_000i64),
            "io.debezium.time.MicroDuration",
            DOCS,
        ),
        (
            "c_point",
            "point",
            "'(1.5,-2)'",
            json!({"x": 1.5, "y": -2.0, "wkb": b64(&[1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0]), "srid": null}),
            "io.debezium.data.geometry.Point",
            ARPT,
        ),
        (
            "c_int4range",
            "int4range",
            "'[1000,6000)'",
            json!("[1000,6000)"),
            "string",
            ARPT,
        ),
        (
            "c_numrange",
            "numrange",
            "'[5.3,6.3)'",
            json!("[5.3,6.3)"),
            "string",
            ARPT,
        ),
        (
            "c_tsrange",
            "tsrange",
            "'[2019-03-31 15:30:00, infinity)'",
            json!("[\"2019-03-31 15:30:00\",infinity)"),
            "string",
            ARPT,
        ),
        (
            "c_tstzrange",
            "tstzrange",
            "'[2017-06-05 11:29:12.549426+00,)'",
            json!("[\"2017-06-05 16:59:12.549426+05:30\",)"),
            "string",
            "Debezium passes the range text through (in the session time zone)",
        ),
        (
            "c_daterange",
            "daterange",
            "'[2019-03-31,2019-04-30)'",
            json!("[2019-03-31,2019-04-30)"),
            "string",
            ARPT,
        ),
        (
            "c_int8range",
            "int8range",
            "'[1000000,6000000)'",
            json!("[1000000,6000000)"),
            "string",
            ARPT,
        ),
        (
            "c_tsvector",
            "tsvector",
            "'a fat cat'",
            json!("'a' 'cat' 'fat'"),
            "io.debezium.data.Tsvector",
            "Debezium 3.6.1 TsVector",
        ),
        (
            "c_enum",
            "mood",
            "'happy'",
            json!("happy"),
            "io.debezium.data.Enum",
            "Debezium 3.6.1 RecordsStreamProducerIT enums",
        ),
        (
            "c_domain_numeric",
            "amount",
            "12.5",
            b64(&[0x04, 0xe2]),
            "org.apache.kafka.connect.data.Decimal",
            DOCS,
        ),
        (
            "c_domain_text",
            "nmtoken",
            "'foo'",
            json!("foo"),
            "string",
            "Debezium 3.6.1 DomainTypesIT",
        ),
        (
            "c_int_array",
            "int[]",
            "'{1,2,NULL,3}'",
            json!([1, 2, null, 3]),
            "array",
            ARPT,
        ),
        (
            "c_text_array",
            "text[]",
            "ARRAY['one', 'two words', 'with \"quote\"', NULL, 'NULL', 'back\\slash']",
            json!([
                "one",
                "two words",
                "with \"quote\"",
                null,
                "NULL",
                "back\\slash"
            ]),
            "array",
            ARPT,
        ),
        (
            "c_varchar_array",
            "varchar(10)[]",
            "'{vcone,vctwo,vcthree}'",
            json!(["vcone", "vctwo", "vcthree"]),
            "array",
            ARPT,
        ),
        (
            "c_enum_array",
            "mood[]",
            "'{sad,happy}'",
            json!(["sad", "happy"]),
            "array",
            "Debezium 3.6.1 RecordsStreamProducerIT.shouldStreamEnumArrayAsKnownType",
        ),
        (
            "c_numeric_array",
            "numeric(10,2)[]",
            "'{1.2,3.4,5.6}'",
            json!([b64(&[120]), b64(&[0x01, 0x54]), b64(&[0x02, 0x30])]),
            "array",
            ARPT,
        ),
        (
            "c_date_array",
            "date[]",
            "'{2016-11-04,2016-11-05}'",
            json!([17109, 17110]),
            "array",
            ARPT,
        ),
        (
            "c_uuid_array",
            "uuid[]",
            "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'",
            json!(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]),
            "array",
            ARPT,
        ),
        (
            "c_bytea_array",
            "bytea[]",
            "ARRAY['\\x000102'::bytea, '\\x030405'::bytea]",
            json!([b64(&[0, 1, 2]), b64(&[3, 4, 5])]),
            "array",
            ARPT,
        ),
        (
            "c_jsonb_array",
            "jsonb[]",
            "ARRAY['{\"bar\": \"baz\"}'::jsonb]",
            json!(["{\"bar\": \"baz\"}"]),
            "array",
            ARPT,
        ),
        (
            "c_timetz_array",
            "timetz[]",
            "'{13:51:02+02,14:51:03+02}'",
            json!(["11:51:02Z", "12:51:03Z"]),
            "array",
            "Debezium 3.6.1 RecordsStreamProducerIT.shouldStreamTimeArrayTypesAsKnownTypes",
        ),
        (
            "c_tstz_array",
            "timestamptz[]",
            "'{2020-04-01 13:51:02+02,2020-04-01 14:51:03+02}'",
            json!(["2020-04-01T11:51:02.000000Z", "2020-04-01T12:51:03.000000Z"]),
            "array",
            "Debezium 3.6.1 RecordsStreamProducerIT.shouldStreamTimeArrayTypesAsKnownTypes",
        ),
        (
            "c_hstore",
            "hstore",
            "'\"key1\"=>\"val1\",\"key2\"=>NULL'",
            json!("{\"key1\":\"val1\",\"key2\":null}"),
            "io.debezium.data.Json",
            ARPT,
        ),
        (
            "c_hstore_special",
            "hstore",
            "'\"key_#1\" => \"val 1\",\"key 2\" =>\" ##123 78\"'",
            json!("{\"key_#1\":\"val 1\",\"key 2\":\" ##123 78\"}"),
            "io.debezium.data.Json",
            ARPT,
        ),
        (
            "c_ltree",
            "ltree",
            "'Top.Collections.Pictures.Astronomy.Galaxies'",
            json!("Top.Collections.Pictures.Astronomy.Galaxies"),
            "io.debezium.data.Ltree",
            ARPT,
        ),
        (
            "c_ltree_array",
            "ltree[]",
            "'{Ship.Frigate,Ship.Destroyer}'",
            json!(["Ship.Frigate", "Ship.Destroyer"]),
            "array",
            ARPT,
        ),
        (
            "c_citext",
            "citext",
            "'Hello World'",
            json!("Hello World"),
            "string",
            ARPT,
        ),
        (
            "c_isbn",
            "isbn",
            "'978-0-393-04002-9'",
            json!("0-393-04002-X"),
            "string",
            ARPT,
        ),
        ("c_null", "integer", "NULL", json!(null), "int32", DOCS),
    ]
}

async fn simple_rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn types_round_trip_through_postgres() {
    if !postgres_available() {
        eprintln!("skipping: PostgreSQL not installed");
        return;
    }
    let pg = PgServer::start().expect("start PostgreSQL");
    let db = unique_name("types");
    pg.create_database(&db).unwrap();
    let cols = columns();

    let mut ddl = String::from(
        "CREATE EXTENSION hstore; CREATE EXTENSION ltree; CREATE EXTENSION citext; CREATE EXTENSION isn;\n\
         CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n\
         CREATE DOMAIN amount AS numeric(10,2);\n\
         CREATE DOMAIN nmtoken AS text;\n\
         CREATE TABLE all_types (id serial PRIMARY KEY, c_default text NOT NULL DEFAULT 'abc', c_box box, c_money_array money[]",
    );
    for (name, decl, ..) in &cols {
        ddl.push_str(&format!(", {name} {decl}"));
    }
    ddl.push_str(");\n");
    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let literals: Vec<&str> = cols.iter().map(|c| c.2).collect();
    ddl.push_str(&format!(
        "INSERT INTO all_types (c_box, c_money_array, {}) VALUES ('(3,4),(1,2)', '{{1.00}}', {});",
        names.join(", "),
        literals.join(", ")
    ));
    pg.psql(&db, &ddl).unwrap();

    let (client, connection) = tokio_postgres::connect(&pg.url(&db), NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .batch_execute("SET TimeZone = 'Asia/Kolkata'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'")
        .await
        .unwrap();

    let mut registry = TypeRegistry::builtin();
    let catalog = client
        .query(TypeRegistry::CATALOG_QUERY, &[])
        .await
        .unwrap();
    let added = registry.add_catalog_rows(&catalog).unwrap();
    assert!(added >= 10, "catalog rows: {added}");
    assert!(
        registry.hstore_oid().is_some()
            && registry.ltree_oid().is_some()
            && registry.citext_oid().is_some()
    );

    // Column metadata as the Relation message carries it (type OID, typmod),
    // plus nullability and the default expression.
    let meta = simple_rows(
        &client,
        "SELECT a.attname, a.atttypid, a.atttypmod, a.attnotnull, pg_get_expr(d.adbin, d.adrelid) \
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = 'all_types'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    )
    .await;
    let values = simple_rows(&client, "SELECT * FROM all_types").await;
    assert_eq!(values.len(), 1);
    let row = &values[0];
    assert_eq!(row.len(), meta.len());

    let settings = TypeSettings::default();
    let mut failures = Vec::new();
    for (i, m) in meta.iter().enumerate() {
        let name = m[0].as_deref().unwrap();
        let oid: u32 = m[1].as_deref().unwrap().parse().unwrap();
        let typmod: i32 = m[2].as_deref().unwrap().parse().unwrap();
        let optional = m[3].as_deref() != Some("t");
        let mapping = column_mapping(&registry, oid, typmod, optional, &settings);
        match name {
            "c_box" | "c_money_array" => {
                if mapping.is_ok() {
                    failures.push(format!("{name}: expected UnsupportedType"));
                }
                continue;
            }
            _ => {}
        }
        let mapping = match mapping {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let mapping = match m[4].as_deref() {
            Some(expr) => mapping.with_default_expression(expr),
            None => mapping,
        };
        let value = match row[i].as_deref() {
            None => mapping.null_value(),
            Some(text) => match mapping.convert_text(text.as_bytes()) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{name}: {e}"));
                    continue;
                }
            },
        };
        let actual = value_json(&value, &mapping.schema);
        let schema = schema_json(&mapping.schema);
        match name {
            "id" => {
                // serial: Debezium's schema int32 with default 0 (nextval placeholder).
                if !json_equal(
                    &schema,
                    &json!({"type": "int32", "optional": false, "default": 0}),
                ) || actual != json!(1)
                {
                    failures.push(format!("id: {schema} {actual}"));
                }
            }
            "c_default" => {
                if !json_equal(
                    &schema,
                    &json!({"type": "string", "optional": false, "default": "abc"}),
                ) || actual != json!("abc")
                {
                    failures.push(format!("c_default: {schema} {actual}"));
                }
            }
            _ => {
                let (_, decl, _, expected, kind, source) =
                    cols.iter().find(|c| c.0 == name).unwrap();
                if !json_equal(&actual, expected) {
                    failures.push(format!(
                        "{name} ({decl}, text {:?}): actual {actual}, expected {expected} [{source}]",
                        row[i]
                    ));
                }
                let schema_kind = mapping
                    .schema
                    .name
                    .as_deref()
                    .unwrap_or(mapping.schema.schema_type.name());
                if schema_kind != *kind {
                    failures.push(format!("{name}: schema {schema}, expected {kind}"));
                }
                if !value.is_null() {
                    if let Err(e) = mapping.schema.validate_value(&value) {
                        failures.push(format!("{name}: {e}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} columns differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
