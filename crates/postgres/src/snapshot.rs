//! PostgreSQL's [`SnapshotDialect`]: tables are split into ranges of heap
//! pages (`ctid` ranges, which PostgreSQL 14+ scans directly), read with
//! `COPY (SELECT …) TO STDOUT` in text format — the same text the pgoutput
//! stream carries, so one type mapping serves both — by readers that all
//! import one exported snapshot.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use sluice_connect_api::{ConnectError, ErrorKind};
use sluice_snapshot::{Chunk, ChunkReader, RowSink, SnapshotDialect, TableId, TablePlan};
use tokio_postgres::Client;

use crate::catalog::{self, quote_ident, ConnectSettings};
use crate::pgoutput::{ColumnRef, ColumnValue, Tuple, TupleData};

/// Reads tables inside one exported snapshot.
pub struct PgSnapshotDialect {
    settings: ConnectSettings,
    snapshot_name: String,
    /// Columns to read per table, in the order the change events use.
    columns: Arc<std::collections::HashMap<TableId, Vec<String>>>,
    /// `snapshot.select.statement.overrides`: a full SELECT per table.
    overrides: Arc<std::collections::HashMap<TableId, String>>,
    /// Tables read with binary `COPY`: every column of a type
    /// [`crate::types::reads_binary`] accepts (and no override).
    binary: Arc<std::collections::HashSet<TableId>>,
}

impl PgSnapshotDialect {
    pub fn new(
        settings: ConnectSettings,
        snapshot_name: String,
        columns: std::collections::HashMap<TableId, Vec<String>>,
        overrides: std::collections::HashMap<TableId, String>,
        binary: std::collections::HashSet<TableId>,
    ) -> Self {
        PgSnapshotDialect {
            settings,
            snapshot_name,
            columns: Arc::new(columns),
            overrides: Arc::new(overrides),
            binary: Arc::new(binary),
        }
    }
}

/// Opens a connection inside the snapshot: REPEATABLE READ, read only,
/// `SET TRANSACTION SNAPSHOT`.
pub async fn open_in_snapshot(
    settings: &ConnectSettings,
    snapshot_name: &str,
) -> Result<Client, ConnectError> {
    let client = catalog::connect(settings, "sluice-snapshot").await?;
    let sql = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{}'",
        snapshot_name.replace('\'', "''")
    );
    client
        .batch_execute(&sql)
        .await
        .map_err(|e| catalog::pg_error(&format!("importing snapshot {snapshot_name}"), e))?;
    Ok(client)
}

#[async_trait]
impl SnapshotDialect for PgSnapshotDialect {
    type Row = CopyRow;

    async fn plan_table(
        &self,
        table: &TableId,
        chunk_rows: u64,
    ) -> Result<TablePlan, ConnectError> {
        let client = catalog::connect(&self.settings, "sluice-snapshot-plan").await?;
        let row = client
            .query_opt(
                "SELECT GREATEST(c.reltuples, 0)::int8, c.relpages::int8 FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                &[&table.schema, &table.table],
            )
            .await
            .map_err(|e| catalog::pg_error(&format!("planning {table}"), e))?
            .ok_or_else(|| ConnectError::config(format!("table {table} does not exist")))?;
        let (mut tuples, mut pages): (i64, i64) = (row.get(0), row.get(1));
        if pages <= 0 || tuples <= 0 {
            // Never analyzed: ask the storage manager for the size.
            let size: i64 = client
                .query_one(
                    "SELECT pg_catalog.pg_relation_size(format('%I.%I', $1::text, $2::text)::regclass) / current_setting('block_size')::int8",
                    &[&table.schema, &table.table],
                )
                .await
                .map_err(|e| catalog::pg_error(&format!("sizing {table}"), e))?
                .get(0);
            pages = size;
            tuples = size * 60; // a rough guess for progress only
        }
        let overridden = self.overrides.contains_key(table);
        let chunk_rows = chunk_rows.max(1) as i64;
        let chunks = if overridden || tuples <= chunk_rows || pages <= 1 {
            vec![Chunk::whole()]
        } else {
            let n = ((tuples + chunk_rows - 1) / chunk_rows).clamp(1, pages);
            let per = (pages + n - 1) / n;
            (0..n)
                .map(|i| Chunk {
                    index: i as usize,
                    lower: (i > 0).then(|| vec![format!("({},0)", i * per)]),
                    // The last chunk is open-ended: pages added since the
                    // statistics were taken are read too.
                    upper: (i < n - 1).then(|| vec![format!("({},0)", (i + 1) * per)]),
                })
                .collect()
        };
        Ok(TablePlan {
            table: table.clone(),
            estimated_rows: tuples.max(0) as u64,
            chunks,
        })
    }

    async fn open_reader(&self) -> Result<Box<dyn ChunkReader<Row = CopyRow>>, ConnectError> {
        let client = open_in_snapshot(&self.settings, &self.snapshot_name).await?;
        Ok(Box::new(PgChunkReader {
            client,
            columns: self.columns.clone(),
            overrides: self.overrides.clone(),
            binary: self.binary.clone(),
        }))
    }
}

struct PgChunkReader {
    client: Client,
    columns: Arc<std::collections::HashMap<TableId, Vec<String>>>,
    overrides: Arc<std::collections::HashMap<TableId, String>>,
    binary: Arc<std::collections::HashSet<TableId>>,
}

/// The SELECT that reads one chunk.
pub fn chunk_select(
    table: &TableId,
    columns: &[String],
    chunk: &Chunk,
    override_sql: Option<&str>,
) -> String {
    if let Some(sql) = override_sql {
        return sql.to_string();
    }
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let mut sql = format!(
        "SELECT {} FROM {}.{}",
        cols.join(", "),
        quote_ident(&table.schema),
        quote_ident(&table.table)
    );
    let mut conds = Vec::new();
    if let Some(l) = chunk.lower.as_ref().and_then(|v| v.first()) {
        conds.push(format!("ctid >= '{}'::tid", l.replace('\'', "")));
    }
    if let Some(u) = chunk.upper.as_ref().and_then(|v| v.first()) {
        conds.push(format!("ctid < '{}'::tid", u.replace('\'', "")));
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql
}

#[async_trait]
impl ChunkReader for PgChunkReader {
    type Row = CopyRow;

    async fn read_chunk(
        &mut self,
        table: &TableId,
        chunk: &Chunk,
        batch_rows: usize,
        out: &mut (dyn RowSink<CopyRow> + Send),
    ) -> Result<u64, ConnectError> {
        let columns = self
            .columns
            .get(table)
            .ok_or_else(|| ConnectError::internal(format!("no column list for {table}")))?;
        let override_sql = self.overrides.get(table);
        let binary = override_sql.is_none() && self.binary.contains(table);
        let select = chunk_select(table, columns, chunk, override_sql.map(String::as_str));
        let copy = if binary {
            format!("COPY ({select}) TO STDOUT (FORMAT binary)")
        } else {
            format!("COPY ({select}) TO STDOUT")
        };
        let stream = self
            .client
            .copy_out(&copy)
            .await
            .map_err(|e| catalog::pg_error(&format!("reading {table} ({copy})"), e))?;
        futures_util::pin_mut!(stream);
        let mut rows = Vec::with_capacity(batch_rows);
        let mut bytes = 0usize;
        let mut total = 0u64;
        let mut parser = binary.then(BinaryCopyParser::default);
        let mut lines = TextCopyLines::default();
        while let Some(data) = stream.next().await {
            let data = data.map_err(|e| catalog::pg_error(&format!("reading {table}"), e))?;
            let before = rows.len();
            match &mut parser {
                Some(parser) => parser.feed(data, &mut rows),
                None => lines.feed(data, &mut rows),
            }
            .map_err(|e| ConnectError::new(ErrorKind::Protocol, format!("{table}: {e}")))?;
            bytes += rows[before..]
                .iter()
                .map(|r| r.data.len() + 64)
                .sum::<usize>();
            total += (rows.len() - before) as u64;
            if rows.len() >= batch_rows {
                out.send(
                    std::mem::replace(&mut rows, Vec::with_capacity(batch_rows)),
                    bytes,
                )
                .await?;
                bytes = 0;
            }
        }
        if let Some(parser) = &parser {
            parser
                .finish()
                .map_err(|e| ConnectError::new(ErrorKind::Protocol, format!("{table}: {e}")))?;
        }
        if !rows.is_empty() {
            out.send(rows, bytes).await?;
        }
        Ok(total)
    }
}

/// One row read by `COPY … TO STDOUT` (text format): the line and where
/// each field is in it. Fields are zero-copy slices of the line read from
/// the connection; a line with backslash escapes is unescaped into a buffer
/// of its own. One reference count and one small vector per row, however
/// many columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRow {
    data: Bytes,
    /// `(start, end)` of each field in `data`; `start == u32::MAX` is NULL.
    fields: Vec<(u32, u32)>,
    /// Fields in binary format (`COPY … (FORMAT binary)`), not text.
    binary: bool,
}

const NULL_FIELD: (u32, u32) = (u32::MAX, 0);

impl CopyRow {
    /// Parses one line (without its newline): tab-separated fields, `\N`
    /// is NULL, backslash escapes as [`parse_copy_line`] describes.
    pub fn parse(line: Bytes) -> Result<CopyRow, String> {
        if line.len() >= u32::MAX as usize {
            return Err(format!("COPY line of {} bytes is too long", line.len()));
        }
        let b = &line[..];
        let mut fields = Vec::with_capacity(8);
        let mut start = 0usize;
        // One pass over the line for tabs and backslashes together: most
        // lines have no backslash but `\N` (NULL).
        let mut at = 0usize;
        loop {
            match memchr::memchr2(b'\t', b'\\', &b[at..]).map(|p| at + p) {
                Some(p) if b[p] == b'\t' => {
                    fields.push((start as u32, p as u32));
                    start = p + 1;
                    at = start;
                }
                Some(p) => {
                    // A backslash: only a whole `\N` field stays on the fast path.
                    let end = p + 2;
                    if p == start
                        && b.get(p + 1) == Some(&b'N')
                        && (end == b.len() || b[end] == b'\t')
                    {
                        fields.push(NULL_FIELD);
                        if end == b.len() {
                            return Ok(CopyRow {
                                data: line,
                                fields,
                                binary: false,
                            });
                        }
                        start = end + 1;
                        at = start;
                    } else {
                        return Self::parse_escaped(&line);
                    }
                }
                None => {
                    fields.push((start as u32, b.len() as u32));
                    return Ok(CopyRow {
                        data: line,
                        fields,
                        binary: false,
                    });
                }
            }
        }
    }

    /// The slow path: a field with an escape other than `\N`; every field
    /// is unescaped into a buffer of the row's own.
    fn parse_escaped(line: &[u8]) -> Result<CopyRow, String> {
        let b = line;
        let mut fields = Vec::with_capacity(8);
        let mut data = Vec::with_capacity(b.len());
        for field in b.split(|c| *c == b'\t') {
            if field == b"\\N" {
                fields.push(NULL_FIELD);
                continue;
            }
            let start = data.len() as u32;
            if field.contains(&b'\\') {
                data.extend_from_slice(&unescape_copy(field)?);
            } else {
                data.extend_from_slice(field);
            }
            fields.push((start, data.len() as u32));
        }
        Ok(CopyRow {
            data: Bytes::from(data),
            fields,
            binary: false,
        })
    }

    /// The number of fields in the line.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl Tuple for CopyRow {
    fn column(&self, index: usize) -> ColumnRef<'_> {
        match self.fields.get(index) {
            None => ColumnRef::Null,
            Some(&(start, _)) if start == u32::MAX => ColumnRef::Null,
            Some(&(start, end)) => ColumnRef::Data(&self.data[start as usize..end as usize]),
        }
    }

    fn is_binary(&self) -> bool {
        self.binary
    }
}

/// Cuts text `COPY` output into rows at its newlines. The server sends one
/// row per message; rows split across messages are joined anyway.
#[derive(Debug, Default)]
struct TextCopyLines {
    pending: BytesMut,
}

impl TextCopyLines {
    fn feed(&mut self, data: Bytes, rows: &mut Vec<CopyRow>) -> Result<(), String> {
        let data = if self.pending.is_empty() {
            data
        } else {
            self.pending.extend_from_slice(&data);
            self.pending.split().freeze()
        };
        let mut start = 0usize;
        while let Some(nl) = memchr::memchr(b'\n', &data[start..]) {
            rows.push(CopyRow::parse(data.slice(start..start + nl))?);
            start += nl + 1;
        }
        if start < data.len() {
            self.pending.extend_from_slice(&data[start..]);
        }
        Ok(())
    }
}

/// The 19-byte header of binary `COPY` output: the signature, flags (bit
/// 16: OIDs included, which sluice never asks for) and an empty header
/// extension.
const BINARY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Cuts binary `COPY` output into rows: the header first, then tuples (a
/// 16-bit field count, then per field a 32-bit length, -1 for NULL, and
/// the bytes), then the trailer (a field count of -1). Input may be split
/// anywhere; a whole tuple in one piece (PostgreSQL sends one per message)
/// becomes a row without copying.
#[derive(Debug, Default)]
pub struct BinaryCopyParser {
    header_done: bool,
    trailer_seen: bool,
    pending: BytesMut,
}

impl BinaryCopyParser {
    /// Feeds one piece of output; complete rows are pushed to `rows`.
    pub fn feed(&mut self, data: Bytes, rows: &mut Vec<CopyRow>) -> Result<(), String> {
        let mut data = if self.pending.is_empty() {
            data
        } else {
            self.pending.extend_from_slice(&data);
            self.pending.split().freeze()
        };
        loop {
            if self.trailer_seen {
                if !data.is_empty() {
                    return Err("binary COPY data after its trailer".into());
                }
                return Ok(());
            }
            if !self.header_done {
                if data.len() < 19 {
                    break;
                }
                if &data[..11] != BINARY_SIGNATURE {
                    return Err("binary COPY output without its signature".into());
                }
                let flags = u32::from_be_bytes([data[11], data[12], data[13], data[14]]);
                if flags & (1 << 16) != 0 {
                    return Err("binary COPY output with OIDs".into());
                }
                let ext = u32::from_be_bytes([data[15], data[16], data[17], data[18]]) as usize;
                if data.len() < 19 + ext {
                    break;
                }
                let _ = data.split_to(19 + ext);
                self.header_done = true;
                continue;
            }
            match parse_tuple(&data)? {
                Some(BinaryTuple::Trailer) => {
                    let _ = data.split_to(2);
                    self.trailer_seen = true;
                }
                Some(BinaryTuple::Row(len, fields)) => {
                    // PostgreSQL sends a row per message: then the row is
                    // the whole piece, taken without a new reference.
                    let tuple = if len == data.len() {
                        std::mem::take(&mut data)
                    } else {
                        data.split_to(len)
                    };
                    rows.push(CopyRow {
                        data: tuple,
                        fields,
                        binary: true,
                    });
                }
                None => break,
            }
        }
        self.pending.extend_from_slice(&data);
        Ok(())
    }

    /// Whether the output ended where it should: after the trailer.
    pub fn finish(&self) -> Result<(), String> {
        if self.trailer_seen && self.pending.is_empty() {
            Ok(())
        } else {
            Err("binary COPY output ended before its trailer".into())
        }
    }
}

enum BinaryTuple {
    Trailer,
    /// Bytes of the whole tuple, and where each field is in it.
    Row(usize, Vec<(u32, u32)>),
}

/// The tuple at the start of `b` (one pass: lengths checked and field spans
/// taken together), or `None` when `b` does not hold all of it yet.
fn parse_tuple(b: &[u8]) -> Result<Option<BinaryTuple>, String> {
    if b.len() < 2 {
        return Ok(None);
    }
    let count = i16::from_be_bytes([b[0], b[1]]);
    if count == -1 {
        return Ok(Some(BinaryTuple::Trailer));
    }
    if count < 0 {
        return Err(format!("binary COPY tuple with {count} fields"));
    }
    let mut fields = Vec::with_capacity(count as usize);
    let mut at = 2usize;
    for _ in 0..count {
        let Some(len) = b.get(at..at + 4) else {
            return Ok(None);
        };
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        at += 4;
        match len {
            -1 => fields.push(NULL_FIELD),
            n if n < 0 => return Err(format!("binary COPY field of length {n}")),
            n => {
                let end = at + n as usize;
                fields.push((at as u32, end as u32));
                at = end;
            }
        }
    }
    if b.len() < at {
        return Ok(None);
    }
    // Spans are u32 offsets.
    if at >= u32::MAX as usize {
        return Err(format!("binary COPY tuple of {at} bytes is too long"));
    }
    Ok(Some(BinaryTuple::Row(at, fields)))
}

/// Parses one line of `COPY … TO STDOUT` text format into column values:
/// tab-separated, `\N` is NULL, backslash escapes (`\\`, `\t`, `\n`, `\r`,
/// `\b`, `\f`, `\v`, octal `\NNN`, hex `\xHH`). Fields without a backslash
/// are zero-copy slices of the line.
pub fn parse_copy_line(line: &Bytes) -> Result<TupleData, String> {
    let mut columns = Vec::with_capacity(16);
    let mut start = 0usize;
    let b = &line[..];
    loop {
        let end = b[start..]
            .iter()
            .position(|c| *c == b'\t')
            .map_or(b.len(), |p| start + p);
        let field = &b[start..end];
        columns.push(if field == b"\\N" {
            ColumnValue::Null
        } else if !field.contains(&b'\\') {
            ColumnValue::Text(line.slice(start..end))
        } else {
            ColumnValue::Text(Bytes::from(unescape_copy(field)?))
        });
        if end == b.len() {
            break;
        }
        start = end + 1;
    }
    Ok(TupleData { columns })
}

fn unescape_copy(field: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let c = field[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let next = *field
            .get(i + 1)
            .ok_or("COPY field ends in a lone backslash")?;
        i += 2;
        match next {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(next - b'0');
                let mut n = 1;
                while n < 3 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                    v = v * 8 + u32::from(field[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                    v = v * 16 + (field[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.push(b'x');
                } else {
                    out.push(v as u8);
                }
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_lines_parse_with_nulls_and_escapes() {
        let line = Bytes::from_static(b"1\t\\N\ta\\tb\\\\c\\nd\t\\101\\x42\t");
        let t = parse_copy_line(&line).unwrap();
        let got: Vec<Option<&[u8]>> = t.columns.iter().map(|c| c.as_bytes()).collect();
        assert_eq!(
            got,
            vec![
                Some(&b"1"[..]),
                None,
                Some(&b"a\tb\\c\nd"[..]),
                Some(&b"AB"[..]),
                Some(&b""[..])
            ]
        );
    }

    #[test]
    fn copy_rows_agree_with_the_tuple_parser() {
        let lines: &[&[u8]] = &[
            b"1\t\\N\ta\\tb\\\\c\\nd\t\\101\\x42\t",
            b"plain",
            b"",
            b"\\N",
            b"\t",
            b"1\t\\N\t\\N\tx",
            b"a\\Nb\t\\\\N",
            b"\\x4\t\\x\t\\7777",
            b"\\N\t",
            b"\t\\N",
            b"\\Nx\ty",
            b"x\\N\t\\N",
            b"\\N\\N",
            b"\\N\t\\N\t\\N",
            b"long field without escapes\tanother one, longer than sixteen bytes\t\\N",
        ];
        for line in lines {
            let line = Bytes::copy_from_slice(line);
            let tuple = parse_copy_line(&line).unwrap();
            let row = CopyRow::parse(line.clone()).unwrap();
            assert_eq!(row.len(), tuple.columns.len(), "{line:?}");
            for i in 0..=row.len() {
                assert_eq!(row.column(i), tuple.column(i), "{line:?} column {i}");
            }
        }
        assert!(CopyRow::parse(Bytes::from_static(b"a\\")).is_err());
    }

    #[test]
    fn chunk_selects_use_tid_ranges() {
        let t = TableId::new("public", "Orders");
        let cols = vec!["id".to_string(), "Note".to_string()];
        let c = Chunk {
            index: 1,
            lower: Some(vec!["(10,0)".into()]),
            upper: Some(vec!["(20,0)".into()]),
        };
        assert_eq!(
            chunk_select(&t, &cols, &c, None),
            "SELECT \"id\", \"Note\" FROM \"public\".\"Orders\" WHERE ctid >= '(10,0)'::tid AND ctid < '(20,0)'::tid"
        );
        assert_eq!(
            chunk_select(&t, &cols, &Chunk::whole(), None),
            "SELECT \"id\", \"Note\" FROM \"public\".\"Orders\""
        );
    }
}
