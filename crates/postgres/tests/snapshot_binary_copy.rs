//! Against a real PostgreSQL: every type the snapshot reads with binary
//! `COPY` (`sluice_postgres::types::reads_binary`) gives, through
//! `ColumnMapping::convert_binary`, exactly the value the text `COPY` of the
//! same rows gives through `convert_text` — on edge values (limits, NULLs,
//! escapes, BC and five-digit years, infinities, NaN, long numerics), with
//! every `decimal.handling.mode`, and with the session in UTC and in a zone
//! with a non-whole-hour offset. Binary output cut into arbitrary pieces
//! parses to the same rows.

use bytes::Bytes;
use futures_util::StreamExt;
use sluice_connect_api::Value;
use sluice_postgres::pgoutput::{ColumnRef, Tuple};
use sluice_postgres::snapshot::{BinaryCopyParser, CopyRow};
use sluice_postgres::types::{column_mapping, reads_binary, TypeRegistry, TypeSettings};
use sluice_testkit::{postgres_available, unique_name, PgServer};
use tokio_postgres::NoTls;

const COLUMNS: &[(&str, &str)] = &[
    ("c_bool", "boolean"),
    ("c_int2", "smallint"),
    ("c_int4", "integer"),
    ("c_int8", "bigint"),
    ("c_text", "text"),
    ("c_varchar", "varchar(12)"),
    ("c_char", "char(5)"),
    ("c_tz", "timestamptz"),
    ("c_tz3", "timestamptz(3)"),
    ("c_tz0", "timestamptz(0)"),
    ("c_num", "numeric"),
    ("c_num12_2", "numeric(12,2)"),
    ("c_num30_10", "numeric(30,10)"),
];

/// One row of SQL literals per line, one per column, separated by ` | `;
/// NULL everywhere in the last.
const ROWS: &[&str] = &[
    "true | -32768 | -2147483648 | -9223372036854775808 | 'plain' | 'a' | 'ab' | '2000-01-01 00:00:00+00' | '2024-02-29 12:34:56.789+00' | '1970-01-01 00:00:00+00' | 0 | 0 | 0",
    "false | 32767 | 2147483647 | 9223372036854775807 | E'tab\\there\\nnew line \\\\ back \"quote\" é ✓ \\x01' | 'twelve chars' | 'abcde' | '1999-12-31 23:59:59.999999+00' | '1999-12-31 23:59:59.9995+00' | '2038-01-19 03:14:07.5+00' | -0.0001 | -0.01 | -12345678901234567890.0123456789",
    "true | 0 | 0 | 0 | '' | '' | ' ' | '0001-01-01 00:00:00+00' | '4713-01-01 00:00:00+00 BC' | '0044-03-15 12:00:00+00 BC' | 123456789012345678901234567890.123456789 | 9999999999.99 | 0.0000000001",
    "false | 1 | -1 | 1 | repeat('x', 5000) | '12345' | 'x' | 'infinity' | '-infinity' | '294276-12-31 23:59:59+00' | 'NaN' | 1.5 | 1",
    "true | -1 | 1 | -1 | 'z' | 'z' | 'z' | '10000-01-01 00:00:00.000001+00' | '2024-06-30 23:59:59.999+00' | '1969-12-31 23:59:59+00' | 'Infinity' | 10000 | 99999999999999999999.9999999999",
    "true | 2 | 3 | 4 | 'y' | 'y' | 'y' | '1900-01-01 00:00:00.1+00' | '2000-02-29 00:00:00+00' | '2100-03-01 00:00:00+00' | '-Infinity' | 0.1 | -0.0000000001",
    "true | 2 | 3 | 4 | 'y' | 'y' | 'y' | '2024-01-01 00:00:00+00' | '2024-01-01 00:00:00+00' | '2024-01-01 00:00:00+00' | 1e100 | -1 | 0.5",
    "true | 2 | 3 | 4 | 'y' | 'y' | 'y' | '2024-01-01 00:00:00+00' | '2024-01-01 00:00:00+00' | '2024-01-01 00:00:00+00' | -0.000000000000000000000000000000000000000000000000000000000000000000000000123 | 100 | 10",
    "NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL",
];

async fn copy_out(client: &tokio_postgres::Client, sql: &str) -> Vec<Bytes> {
    let stream = client.copy_out(sql).await.unwrap();
    futures_util::pin_mut!(stream);
    let mut out = Vec::new();
    while let Some(data) = stream.next().await {
        out.push(data.unwrap());
    }
    out
}

/// Values compared with NaN floats equal to themselves.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float64(x), Value::Float64(y)) => x.to_bits() == y.to_bits(),
        (Value::Struct(x), Value::Struct(y)) => {
            x.schema() == y.schema()
                && x.values().len() == y.values().len()
                && x.values().iter().zip(y.values()).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

#[tokio::test]
async fn binary_copy_values_equal_text_copy_values() {
    if !postgres_available() {
        eprintln!("skipping: PostgreSQL not installed");
        return;
    }
    let pg = PgServer::start().expect("start PostgreSQL");
    let db = unique_name("bincopy");
    pg.create_database(&db).unwrap();
    let mut ddl = String::from("CREATE TABLE t (");
    ddl.push_str(
        &COLUMNS
            .iter()
            .map(|(n, d)| format!("{n} {d}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    ddl.push_str(");\n");
    for row in ROWS {
        let literals: Vec<&str> = row.split(" | ").collect();
        assert_eq!(literals.len(), COLUMNS.len(), "{row}");
        ddl.push_str(&format!(
            "INSERT INTO t VALUES ({});\n",
            literals.join(", ")
        ));
    }
    pg.psql(&db, &ddl).unwrap();

    let (client, connection) = tokio_postgres::connect(&pg.url(&db), NoTls).await.unwrap();
    tokio::spawn(connection);
    let registry = TypeRegistry::builtin();
    let meta = client
        .query(
            "SELECT atttypid::int8, atttypmod FROM pg_attribute WHERE attrelid = 't'::regclass \
             AND attnum > 0 ORDER BY attnum",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(meta.len(), COLUMNS.len());
    for m in &meta {
        assert!(reads_binary(m.get::<_, i64>(0) as u32), "{m:?}");
    }

    // Binary output, whole and cut into pieces of every size from 1 to 7
    // bytes (and the header and first tuple as one piece).
    let binary_pieces = copy_out(&client, "COPY t TO STDOUT (FORMAT binary)").await;
    let all: Vec<u8> = binary_pieces
        .iter()
        .flat_map(|b| b.iter().copied())
        .collect();
    let parse = |pieces: Vec<Bytes>| {
        let mut parser = BinaryCopyParser::default();
        let mut rows = Vec::new();
        for p in pieces {
            parser.feed(p, &mut rows).unwrap();
        }
        parser.finish().unwrap();
        rows
    };
    let binary_rows = parse(binary_pieces.clone());
    assert_eq!(binary_rows.len(), ROWS.len());
    for cut in 1..8 {
        let pieces = all.chunks(cut).map(Bytes::copy_from_slice).collect();
        assert_eq!(parse(pieces), binary_rows, "pieces of {cut} bytes");
    }
    // A truncated stream is an error, not fewer rows.
    let mut parser = BinaryCopyParser::default();
    let mut rows = Vec::new();
    parser
        .feed(Bytes::copy_from_slice(&all[..all.len() - 3]), &mut rows)
        .unwrap();
    assert!(parser.finish().is_err());

    let modes = ["precise", "double", "string"];
    for zone in ["UTC", "Asia/Kolkata"] {
        client
            .batch_execute(&format!("SET TimeZone = '{zone}'"))
            .await
            .unwrap();
        let mut text_rows = Vec::new();
        for chunk in copy_out(&client, "COPY t TO STDOUT").await {
            for line in chunk.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                text_rows.push(CopyRow::parse(Bytes::copy_from_slice(line)).unwrap());
            }
        }
        assert_eq!(text_rows.len(), ROWS.len());
        for mode in modes {
            let settings = TypeSettings {
                decimal: mode.parse().unwrap(),
                ..TypeSettings::default()
            };
            for (c, m) in meta.iter().enumerate() {
                let (oid, typmod) = (m.get::<_, i64>(0) as u32, m.get::<_, i32>(1));
                let mapping = column_mapping(&registry, oid, typmod, true, &settings).unwrap();
                for (r, (text_row, binary_row)) in text_rows.iter().zip(&binary_rows).enumerate() {
                    assert!(binary_row.is_binary() && !text_row.is_binary());
                    let (from_text, from_binary) = match (text_row.column(c), binary_row.column(c))
                    {
                        (ColumnRef::Null, ColumnRef::Null) => continue,
                        (ColumnRef::Data(t), ColumnRef::Data(b)) => {
                            (mapping.convert_text(t), mapping.convert_binary(b))
                        }
                        other => panic!(
                            "{} row {r}: NULL in one format only: {other:?}",
                            COLUMNS[c].0
                        ),
                    };
                    let (t, b) = match (from_text, from_binary) {
                        (Ok(t), Ok(b)) => (t, b),
                        // The same refusal (NaN in precise mode).
                        (Err(t), Err(b)) if t.to_string() == b.to_string() => continue,
                        (t, b) => panic!(
                            "{} row {r} ({zone}, {mode}): text {t:?}, binary {b:?}",
                            COLUMNS[c].0
                        ),
                    };
                    assert!(
                        same(&t, &b),
                        "{} row {r} ({zone}, {mode}): text {t:?}, binary {b:?}",
                        COLUMNS[c].0
                    );
                }
            }
        }
    }
}
