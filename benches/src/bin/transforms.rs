//! The transform micro-benchmark: what does the usual Debezium chain —
//! `ExtractNewRecordState` (unwrap) then Kafka's `RegexRouter` (route) —
//! add per record, compared with a baseline loop that only moves each record
//! through the same loop?
//!
//! Records are built the way the PostgreSQL connector builds them
//! (`sluice_postgres::events` schemas, values converted from PostgreSQL's
//! text format by the connector's type mapping): a `customers` table with
//! int4, text, varchar, numeric, timestamp, bool and int8 columns; 50 %
//! inserts, 40 % updates, 10 % deletes, each delete followed by its
//! tombstone, with the transaction block. Each run transforms `--records`
//! records in batches of 10 000, built untimed; the timed part moves each
//! record through the chain into an output vector and drops that vector
//! (dropping is part of both sides: the chain frees the envelope parts it
//! discards, the baseline frees whole records). The figure per chain is the
//! median over `--runs` runs (default 7), interleaved with the baseline; the
//! allocator is the `sluice` binary's (mimalloc).
//!
//! `cargo run --release -p sluice-benches --bin transforms -- [--records N] [--runs R]`
//!
//! One JSON object goes to stdout.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value as Json};
use sluice_benches::{git_commit, machine, parse_count, round, Result};
use sluice_connect_api::config::Props;
use sluice_connect_api::{SourceRecord, Struct, Transform, Value};
use sluice_postgres::events::{
    transaction_block, ColumnInput, CommonSchemas, NameAdjustment, SourceFields, SourceInfo,
    TableSchema,
};
use sluice_postgres::types::{column_mapping, TypeRegistry, TypeSettings};

// The allocator of the `sluice` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 10_000;
const TOPIC: &str = "server1.public.customers";

/// The table's schemas, as the connector builds them.
struct Table {
    schema: TableSchema,
    common: CommonSchemas,
    source: SourceFields,
}

fn table() -> Result<Table> {
    let registry = TypeRegistry::builtin();
    let settings = TypeSettings::default();
    // (name, type oid, typmod, nullable, key position)
    let columns: [(&str, u32, i32, bool, Option<usize>); 7] = [
        ("id", 23, -1, false, Some(0)),
        ("name", 25, -1, true, None),
        ("email", 1043, 255 + 4, true, None),
        ("score", 1700, ((10 << 16) | 2) + 4, true, None),
        ("created", 1114, -1, true, None),
        ("active", 16, -1, false, None),
        ("visits", 20, -1, true, None),
    ];
    let mut inputs = Vec::new();
    for (name, oid, typmod, nullable, key) in columns {
        let mapping = column_mapping(&registry, oid, typmod, nullable, &settings)
            .map_err(|e| format!("{name}: {e:?}"))?;
        inputs.push(ColumnInput {
            name: name.to_string(),
            mapping: Some(mapping),
            key_position: key,
        });
    }
    let common = CommonSchemas::new(false);
    let schema = TableSchema::build(
        TOPIC,
        "public",
        "customers",
        inputs,
        &common,
        (NameAdjustment::None, NameAdjustment::None),
    );
    Ok(Table {
        schema,
        common,
        source: SourceFields {
            name: "server1".into(),
            db: "postgres".into(),
        },
    })
}

impl Table {
    /// A row from PostgreSQL's text output, converted by the connector's
    /// type mapping.
    fn row(&self, id: i64, version: i64) -> Struct {
        let texts: [String; 7] = [
            id.to_string(),
            format!("Customer {id} v{version}"),
            format!("customer{id}@example.com"),
            format!("{}.{:02}", id % 10_000, version % 100),
            "2024-05-06 07:08:09.123456".into(),
            if id % 2 == 0 { "t" } else { "f" }.into(),
            (id * 3 + version).to_string(),
        ];
        let values = self
            .schema
            .columns
            .iter()
            .zip(texts.iter())
            .map(|(c, t)| {
                c.mapping
                    .as_ref()
                    .expect("mapped")
                    .convert_text(t.as_bytes())
                    .expect("valid text")
            })
            .collect();
        Struct::from_values(self.schema.value_schema.clone(), values)
    }

    fn key(&self, id: i64) -> Struct {
        Struct::from_values(
            self.schema.key_schema.clone().expect("keyed"),
            vec![Value::Int32(id as i32)],
        )
    }

    fn event(&self, i: u64) -> Vec<SourceRecord> {
        let id = (i % 100_000) as i64 + 1;
        let lsn = 0x1_0000_0000 + i * 64;
        let ts_us = 1_700_000_000_000_000 + i as i64;
        let source = self.source.build(
            &self.common,
            &SourceInfo {
                ts_us,
                last_commit_lsn: Some(lsn - 64),
                lsn: Some(lsn),
                schema: "public",
                table: "customers",
                tx_id: Some(1000 + i as i64 / 10),
                snapshot: None,
            },
        );
        let tx = transaction_block(
            &self.common,
            format!("{}:{lsn}", 1000 + i / 10).into(),
            (i % 10) as i64 + 1,
            (i % 10) as i64 + 1,
        );
        let (op, before, after) = match i % 10 {
            0..=4 => ("c", None, Some(self.row(id, 0))),
            5..=8 => ("u", None, Some(self.row(id, i as i64))),
            _ => ("d", Some(self.row(id, 0)), None),
        };
        let envelope = self
            .schema
            .envelope(op, before, after, source, Some(tx), ts_us + 50);
        let partition = Arc::new(serde_json::Map::from_iter([(
            "server".to_string(),
            json!("server1"),
        )]));
        let offset = serde_json::Map::from_iter([
            ("lsn".to_string(), json!(lsn)),
            ("txId".to_string(), json!(1000 + i / 10)),
        ]);
        let key_schema = self.schema.key_schema.clone();
        let record = SourceRecord::new(
            Some(partition.clone()),
            Some(offset.clone()),
            self.schema.topic.clone(),
            Some(self.schema.envelope_schema.clone()),
            Value::Struct(envelope),
        )
        .with_key(key_schema.clone(), Value::Struct(self.key(id)))
        .with_timestamp(ts_us / 1000);
        if op == "d" {
            let tombstone = SourceRecord::new(
                Some(partition),
                Some(offset),
                self.schema.topic.clone(),
                None,
                Value::Null,
            )
            .with_key(key_schema, Value::Struct(self.key(id)));
            vec![record, tombstone]
        } else {
            vec![record]
        }
    }

    fn batch(&self, start: u64, n: usize) -> Vec<SourceRecord> {
        let mut out = Vec::with_capacity(n + n / 10);
        let mut i = start;
        while out.len() < n {
            out.extend(self.event(i));
            i += 1;
        }
        out.truncate(n);
        out
    }
}

fn transform(class: &str, pairs: &[(&str, &str)]) -> Result<Box<dyn Transform>> {
    let plugin = sluice_transforms::all_plugins()
        .into_iter()
        .find(|p| p.class_name() == class)
        .ok_or_else(|| format!("no transform {class}"))?;
    let mut props: Props = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    props.insert("type".into(), class.into());
    Ok(plugin.create(&props)?)
}

struct Chain {
    name: &'static str,
    description: &'static str,
    transforms: Vec<Box<dyn Transform>>,
}

fn chains() -> Result<Vec<Chain>> {
    const UNWRAP: &str = "io.debezium.transforms.ExtractNewRecordState";
    let route = || {
        transform(
            "org.apache.kafka.connect.transforms.RegexRouter",
            &[
                ("regex", "server1\\.public\\.(.*)"),
                ("replacement", "cdc.$1"),
            ],
        )
    };
    let unwrap = || transform(UNWRAP, &[]);
    let rich = || {
        transform(
            UNWRAP,
            &[
                ("delete.tombstone.handling.mode", "rewrite"),
                ("add.fields", "op,table,source.ts_ms"),
                ("add.headers", "op"),
            ],
        )
    };
    Ok(vec![
        Chain {
            name: "unwrap",
            description: "ExtractNewRecordState (defaults)",
            transforms: vec![unwrap()?],
        },
        Chain {
            name: "unwrap+route",
            description: "ExtractNewRecordState (defaults) + RegexRouter",
            transforms: vec![unwrap()?, route()?],
        },
        Chain {
            name: "unwrap(rewrite,add.fields,add.headers)",
            description: "ExtractNewRecordState delete.tombstone.handling.mode=rewrite, add.fields=op,table,source.ts_ms, add.headers=op",
            transforms: vec![rich()?],
        },
        Chain {
            name: "unwrap(rewrite,add.fields,add.headers)+route",
            description: "the same + RegexRouter",
            transforms: vec![rich()?, route()?],
        },
        Chain {
            name: "unwrap+logical-table-route",
            description: "ExtractNewRecordState (defaults) + ByLogicalTableRouter (key.enforce.uniqueness=false)",
            transforms: vec![
                unwrap()?,
                transform(
                    "io.debezium.transforms.ByLogicalTableRouter",
                    &[
                        ("topic.regex", "server1\\.public\\.(.*)"),
                        ("topic.replacement", "cdc.$1"),
                        ("key.enforce.uniqueness", "false"),
                    ],
                )?,
            ],
        },
    ])
}

/// Runs `records` through `transforms` (none: the baseline, which only
/// moves each record through the loop) and returns the nanoseconds spent
/// and the number of records that came out.
fn run(table: &Table, transforms: &[Box<dyn Transform>], records: usize) -> (u128, usize) {
    let mut nanos = 0u128;
    let mut emitted = 0usize;
    let mut done = 0usize;
    while done < records {
        let n = BATCH.min(records - done);
        let batch = table.batch(done as u64, n);
        let mut out: Vec<SourceRecord> = Vec::with_capacity(n);
        let start = Instant::now();
        'records: for record in batch {
            let mut record = black_box(record);
            for t in transforms {
                match t.apply(record) {
                    Ok(Some(r)) => record = r,
                    Ok(None) => continue 'records,
                    Err(e) => panic!("transform failed: {e}"),
                }
            }
            out.push(black_box(record));
        }
        emitted += out.len();
        // Dropping what comes out is part of the cost for both: the chain
        // frees the envelope parts it discards inside `apply`, the baseline
        // frees whole records here.
        drop(black_box(out));
        nanos += start.elapsed().as_nanos();
        done += n;
    }
    (nanos, emitted)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn main() -> Result<()> {
    let mut records = 1_000_000usize;
    let mut runs = 7usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--records" => records = parse_count(&args.next().ok_or("--records N")?)? as usize,
            "--runs" => runs = parse_count(&args.next().ok_or("--runs R")?)?.max(1) as usize,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let table = table()?;
    let chains = chains()?;
    // Warm-up: caches, allocator, branch predictors.
    run(&table, &[], BATCH.min(records));
    for c in &chains {
        run(&table, &c.transforms, BATCH.min(records));
    }
    let mut baseline = Vec::new();
    let mut per_chain: Vec<(Vec<f64>, usize)> = chains.iter().map(|_| (Vec::new(), 0)).collect();
    for r in 0..runs {
        // Interleave the contenders so drift affects them alike.
        let (ns, _) = run(&table, &[], records);
        baseline.push(ns as f64 / records as f64);
        for (c, slot) in chains.iter().zip(per_chain.iter_mut()) {
            let (ns, emitted) = run(&table, &c.transforms, records);
            slot.0.push(ns as f64 / records as f64);
            slot.1 = emitted;
        }
        eprintln!("run {}/{runs} done", r + 1);
    }
    let base_runs = baseline.clone();
    let base = median(&mut baseline);
    let mut results = Vec::new();
    let mut pass = false;
    for (c, (mut v, emitted)) in chains.iter().zip(per_chain) {
        let runs_ns: Vec<Json> = v.iter().map(|x| json!(round(*x, 1))).collect();
        let m = median(&mut v);
        let added = m - base;
        if c.name == "unwrap+route" {
            pass = added < 1000.0;
        }
        results.push(json!({
            "chain": c.name,
            "description": c.description,
            "ns_per_record": round(m, 1),
            "added_ns_per_record": round(added, 1),
            "records_out": emitted,
            "runs_ns_per_record": runs_ns,
        }));
    }
    let report = json!({
        "benchmark": "transforms",
        "records": records,
        "runs": runs,
        "batch": BATCH,
        "mix": "50% insert, 40% update, 10% delete + tombstone (PostgreSQL envelopes with source and transaction blocks)",
        "baseline_ns_per_record": round(base, 1),
        "baseline_runs_ns_per_record": base_runs.iter().map(|x| round(*x, 1)).collect::<Vec<_>>(),
        "chains": results,
        "target": "unwrap+route adds < 1000 ns per record",
        "pass": pass,
        "machine": machine(),
        "commit": git_commit(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
