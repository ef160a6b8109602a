//! Incremental snapshots (Debezium's DBLog watermarking) and signals.
//!
//! A signal (`execute-snapshot`, `stop-snapshot`, `pause-snapshot`,
//! `resume-snapshot`, `log`) arrives as an INSERT into the signal table
//! (`signal.data.collection`, columns `id, type, data`) seen in the stream,
//! or as a JSON line appended to `signal.file`.
//!
//! An incremental snapshot reads each table in primary-key order, one chunk
//! of `incremental.snapshot.chunk.size` rows at a time, while streaming goes
//! on: the connector inserts an *open* watermark into the signal table, reads
//! the chunk, inserts a *close* watermark. When the stream reaches the open
//! watermark a window opens; every streamed change of a key in the chunk
//! removes that key from the chunk (the streamed change is newer); at the
//! close watermark the rest of the chunk is emitted as `op: r` events
//! (`source.snapshot = "incremental"`). The final state per key is therefore
//! always the database's. The progress (tables, last key, maximum key) is
//! kept in the offsets, so a restart resumes at the last chunk.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use serde_json::{json, Value as Json};
use sluice_connect_api::ConnectError;
use sluice_snapshot::TableId;
use tokio_postgres::Client;

use crate::catalog::{self, quote_ident};
use crate::pgoutput::TupleData;
use crate::snapshot::parse_copy_line;

/// A signal, from the signal table or the signal file.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub id: String,
    pub kind: String,
    pub data: Json,
}

impl Signal {
    /// A line of the signal file: `{"id": …, "type": …, "data": {…}}`.
    pub fn from_json_line(line: &str) -> Result<Signal, String> {
        let v: Json = serde_json::from_str(line).map_err(|e| format!("signal is not JSON: {e}"))?;
        Ok(Signal {
            id: v["id"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| v["id"].to_string()),
            kind: v["type"]
                .as_str()
                .ok_or("signal has no \"type\"")?
                .to_string(),
            data: parse_data(&v["data"]),
        })
    }
}

/// `data` may be a JSON string holding JSON (a text column) or JSON itself.
pub fn parse_data(v: &Json) -> Json {
    match v {
        Json::String(s) if !s.trim().is_empty() => serde_json::from_str(s).unwrap_or(Json::Null),
        Json::String(_) | Json::Null => Json::Null,
        other => other.clone(),
    }
}

/// One table of an incremental snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct IncTable {
    pub id: TableId,
    pub condition: Option<String>,
}

/// The persistent part of an incremental snapshot (kept in offsets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncState {
    pub tables: VecDeque<IncTable>,
    /// Last key read of the first table (text values), `None` before the
    /// first chunk.
    pub last_key: Option<Vec<String>>,
    /// Largest key of the first table when its snapshot started.
    pub max_key: Option<Vec<String>>,
}

impl IncState {
    pub fn is_active(&self) -> bool {
        !self.tables.is_empty()
    }

    /// The offset keys (Debezium's names; sluice stores keys as JSON).
    pub fn to_offset(&self) -> Vec<(&'static str, Json)> {
        if self.tables.is_empty() {
            return Vec::new();
        }
        let collections: Vec<Json> = self
            .tables
            .iter()
            .map(|t| json!({"incremental_snapshot_collections_id": t.id.to_string(), "incremental_snapshot_collections_additional_condition": t.condition}))
            .collect();
        vec![
            (
                "incremental_snapshot_collections",
                Json::String(Json::Array(collections).to_string()),
            ),
            (
                "incremental_snapshot_primary_key",
                self.last_key
                    .as_ref()
                    .map_or(Json::Null, |k| Json::String(json!(k).to_string())),
            ),
            (
                "incremental_snapshot_maximum_key",
                self.max_key
                    .as_ref()
                    .map_or(Json::Null, |k| Json::String(json!(k).to_string())),
            ),
        ]
    }

    pub fn from_offset(o: &serde_json::Map<String, Json>) -> IncState {
        let mut state = IncState::default();
        let Some(collections) = o
            .get("incremental_snapshot_collections")
            .and_then(Json::as_str)
        else {
            return state;
        };
        let Ok(Json::Array(items)) = serde_json::from_str::<Json>(collections) else {
            return state;
        };
        for item in items {
            let Some(id) = item["incremental_snapshot_collections_id"].as_str() else {
                continue;
            };
            let Some((schema, table)) = id.split_once('.') else {
                continue;
            };
            state.tables.push_back(IncTable {
                id: TableId::new(schema, table),
                condition: item["incremental_snapshot_collections_additional_condition"]
                    .as_str()
                    .map(String::from),
            });
        }
        let key = |k: &str| -> Option<Vec<String>> {
            o.get(k)
                .and_then(Json::as_str)
                .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
        };
        state.last_key = key("incremental_snapshot_primary_key");
        state.max_key = key("incremental_snapshot_maximum_key");
        state
    }
}

/// Which transactions a chunk's read could see (`pg_current_snapshot()`
/// of the reading transaction), by 32-bit xid as pgoutput sends them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Visibility {
    pub xmin: u32,
    pub xmax: u32,
    pub in_progress: std::collections::HashSet<u32>,
}

impl Visibility {
    /// Parses `xmin:xmax:xip,xip,…`.
    pub fn parse(text: &str) -> Option<Visibility> {
        let mut parts = text.trim().splitn(3, ':');
        let low = |v: u64| (v & 0xffff_ffff) as u32;
        let xmin = low(parts.next()?.parse().ok()?);
        let xmax = low(parts.next()?.parse().ok()?);
        let in_progress = parts
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|x| !x.is_empty())
            .filter_map(|x| x.parse::<u64>().ok().map(low))
            .collect();
        Some(Visibility {
            xmin,
            xmax,
            in_progress,
        })
    }

    /// Could the read see the effects of transaction `xid`? (Wraparound
    /// within one chunk's lifetime is ignored.)
    pub fn sees(&self, xid: u32) -> bool {
        xid < self.xmin || (xid < self.xmax && !self.in_progress.contains(&xid))
    }
}

/// An open (or about to open) window: the chunk read between watermarks.
#[derive(Debug, Default)]
pub struct Window {
    /// What the chunk's read could see. A streamed change of a transaction
    /// it could not see supersedes the chunk's row even before the open
    /// watermark: PostgreSQL makes commits visible slightly after writing
    /// their commit records, so commit (stream) order and visibility order
    /// can differ.
    pub visibility: Visibility,
    pub chunk_id: String,
    pub open: bool,
    /// Relation OID of the chunk's table.
    pub oid: u32,
    /// Rows by key (text of the key columns); `order` keeps key order.
    pub rows: HashMap<Vec<Option<Bytes>>, TupleData>,
    pub order: Vec<Vec<Option<Bytes>>>,
    /// Key of the chunk's last row (the next chunk starts after it).
    pub last_key: Option<Vec<String>>,
    /// True when this chunk reached the end of the table.
    pub table_done: bool,
}

/// Key column positions and SQL types of a table.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub columns: Vec<String>,
    pub positions: Vec<usize>,
    pub types: Vec<String>,
}

/// Reads the primary key of a table: column names, their positions among
/// `all_columns`, and their SQL types (for casting literals).
pub async fn key_info(
    client: &Client,
    table: &TableId,
    all_columns: &[String],
) -> Result<Option<KeyInfo>, ConnectError> {
    let rows = client
        .query(
            "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod) \
             FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) ON true \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
             WHERE i.indisprimary AND n.nspname = $1 AND c.relname = $2 ORDER BY k.ord",
            &[&table.schema, &table.table],
        )
        .await
        .map_err(|e| catalog::pg_error(&format!("reading the primary key of {table}"), e))?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut info = KeyInfo {
        columns: Vec::new(),
        positions: Vec::new(),
        types: Vec::new(),
    };
    for r in rows {
        let name: String = r.get(0);
        let pos = all_columns.iter().position(|c| *c == name).ok_or_else(|| {
            ConnectError::internal(format!(
                "key column {name} of {table} is not among its columns"
            ))
        })?;
        info.columns.push(name);
        info.positions.push(pos);
        info.types.push(r.get(1));
    }
    Ok(Some(info))
}

fn literal_tuple(key: &[String], types: &[String]) -> String {
    let parts: Vec<String> = key
        .iter()
        .zip(types)
        .map(|(v, t)| format!("'{}'::{t}", v.replace('\'', "''")))
        .collect();
    format!("ROW({})", parts.join(", "))
}

fn key_tuple(info: &KeyInfo) -> String {
    let cols: Vec<String> = info.columns.iter().map(|c| quote_ident(c)).collect();
    format!("ROW({})", cols.join(", "))
}

async fn copy_rows(client: &Client, select: &str) -> Result<Vec<TupleData>, ConnectError> {
    use futures_util::StreamExt;
    let copy = format!("COPY ({select}) TO STDOUT");
    let stream = client
        .copy_out(&copy)
        .await
        .map_err(|e| catalog::pg_error(&format!("incremental snapshot: {copy}"), e))?;
    futures_util::pin_mut!(stream);
    let mut rows = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    while let Some(data) = stream.next().await {
        let data = data.map_err(|e| catalog::pg_error("incremental snapshot read", e))?;
        pending.extend_from_slice(&data);
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let line = Bytes::from(pending.drain(..=nl).collect::<Vec<u8>>());
            let line = line.slice(..line.len() - 1);
            rows.push(parse_copy_line(&line).map_err(ConnectError::protocol)?);
        }
    }
    Ok(rows)
}

/// The text of the key columns of a row.
pub fn key_of(row: &TupleData, info: &KeyInfo) -> Vec<Option<Bytes>> {
    info.positions
        .iter()
        .map(|p| {
            row.columns
                .get(*p)
                .and_then(|c| c.as_bytes().map(Bytes::copy_from_slice))
        })
        .collect()
}

fn key_strings(key: &[Option<Bytes>]) -> Vec<String> {
    key.iter()
        .map(|k| {
            k.as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// The largest key of the table now (`None` for an empty table).
pub async fn max_key(
    client: &Client,
    table: &TableId,
    info: &KeyInfo,
    condition: Option<&str>,
) -> Result<Option<Vec<String>>, ConnectError> {
    let cols: Vec<String> = info.columns.iter().map(|c| quote_ident(c)).collect();
    let desc: Vec<String> = cols.iter().map(|c| format!("{c} DESC")).collect();
    let mut sql = format!(
        "SELECT {} FROM {}.{}",
        cols.join(", "),
        quote_ident(&table.schema),
        quote_ident(&table.table)
    );
    if let Some(c) = condition {
        sql.push_str(&format!(" WHERE ({c})"));
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT 1", desc.join(", ")));
    let rows = copy_rows(client, &sql).await?;
    Ok(rows.first().map(|r| {
        key_strings(&key_of(
            r,
            &KeyInfo {
                positions: (0..info.columns.len()).collect(),
                ..info.clone()
            },
        ))
    }))
}

/// Reads the next chunk: rows with `last < key <= max` in key order.
#[allow(clippy::too_many_arguments)]
pub async fn read_chunk(
    client: &Client,
    table: &TableId,
    columns: &[String],
    info: &KeyInfo,
    last: Option<&[String]>,
    max: &[String],
    chunk_size: usize,
    condition: Option<&str>,
) -> Result<(Vec<TupleData>, Visibility), ConnectError> {
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let order: Vec<String> = info.columns.iter().map(|c| quote_ident(c)).collect();
    let mut conds = vec![format!(
        "{} <= {}",
        key_tuple(info),
        literal_tuple(max, &info.types)
    )];
    if let Some(last) = last {
        conds.push(format!(
            "{} > {}",
            key_tuple(info),
            literal_tuple(last, &info.types)
        ));
    }
    if let Some(c) = condition {
        conds.push(format!("({c})"));
    }
    let sql = format!(
        "SELECT {} FROM {}.{} WHERE {} ORDER BY {} LIMIT {}",
        cols.join(", "),
        quote_ident(&table.schema),
        quote_ident(&table.table),
        conds.join(" AND "),
        order.join(", "),
        chunk_size
    );
    // One REPEATABLE READ transaction: the snapshot that tells which
    // transactions the read saw is the one the read used.
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| catalog::pg_error("incremental snapshot: BEGIN", e))?;
    let result = async {
        let snapshot: String = client
            .query_one("SELECT pg_catalog.pg_current_snapshot()::text", &[])
            .await
            .map_err(|e| catalog::pg_error("incremental snapshot: pg_current_snapshot()", e))?
            .get(0);
        let visibility = Visibility::parse(&snapshot).ok_or_else(|| {
            ConnectError::protocol(format!("unexpected pg_current_snapshot() {snapshot:?}"))
        })?;
        Ok::<_, ConnectError>((copy_rows(client, &sql).await?, visibility))
    }
    .await;
    let end = client
        .batch_execute(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })
        .await;
    let (rows, visibility) = result?;
    end.map_err(|e| catalog::pg_error("incremental snapshot: COMMIT", e))?;
    Ok((rows, visibility))
}

/// Fills a window with a chunk's rows.
pub fn fill_window(window: &mut Window, rows: Vec<TupleData>, info: &KeyInfo, chunk_size: usize) {
    window.table_done = rows.len() < chunk_size;
    for row in rows {
        let key = key_of(&row, info);
        window.last_key = Some(key_strings(&key));
        window.order.push(key.clone());
        window.rows.insert(key, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_offsets() {
        let mut s = IncState::default();
        s.tables.push_back(IncTable {
            id: TableId::new("public", "a"),
            condition: Some("x > 1".into()),
        });
        s.tables.push_back(IncTable {
            id: TableId::new("public", "b"),
            condition: None,
        });
        s.last_key = Some(vec!["10".into(), "it's".into()]);
        s.max_key = Some(vec!["99".into(), "z".into()]);
        let mut o = serde_json::Map::new();
        for (k, v) in s.to_offset() {
            o.insert(k.into(), v);
        }
        assert_eq!(IncState::from_offset(&o), s);
        assert!(IncState::from_offset(&serde_json::Map::new())
            .tables
            .is_empty());
    }

    #[test]
    fn signals_parse_from_file_lines_and_text_columns() {
        let s = Signal::from_json_line(r#"{"id":"x1","type":"execute-snapshot","data":{"data-collections":["public.t"],"type":"incremental"}}"#).unwrap();
        assert_eq!(s.kind, "execute-snapshot");
        assert_eq!(s.data["data-collections"][0], "public.t");
        assert_eq!(parse_data(&Json::String("{\"a\":1}".into()))["a"], 1);
        assert!(Signal::from_json_line("nope").is_err());
    }

    #[test]
    fn visibility_follows_the_snapshot() {
        let v = Visibility::parse("100:110:102,105").unwrap();
        assert!(v.sees(99));
        assert!(v.sees(101));
        assert!(!v.sees(102));
        assert!(!v.sees(105));
        assert!(!v.sees(110));
        assert!(!v.sees(200));
        let v = Visibility::parse("4294967396:4294967400:").unwrap();
        assert_eq!((v.xmin, v.xmax), (100, 104));
    }

    #[test]
    fn chunk_literals_are_quoted_and_cast() {
        let info = KeyInfo {
            columns: vec!["id".into(), "Name".into()],
            positions: vec![0, 1],
            types: vec!["integer".into(), "text".into()],
        };
        assert_eq!(
            literal_tuple(&["1".into(), "o'k".into()], &info.types),
            "ROW('1'::integer, 'o''k'::text)"
        );
        assert_eq!(key_tuple(&info), "ROW(\"id\", \"Name\")");
    }
}
