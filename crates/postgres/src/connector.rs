//! The PostgreSQL source connector and task: slot and publication set-up,
//! the pgoutput stream turned into Debezium change events, LSN offsets,
//! standby status updates that report only what is durable, heartbeats and
//! transaction metadata.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};
use sluice_connect_api::config::Props;
use sluice_connect_api::{
    ConfigDef, ConfigValues, ConnectError, ErrorKind, KeyValidation, Result, SourceConnector,
    SourceOffset, SourcePartition, SourceRecord, SourceTask, SourceTaskContext, Struct, Text,
    Value,
};
use tokio_postgres::Client;

use crate::catalog::{self, ConnectSettings};
use crate::config::{self, CLASS};
use crate::events::{
    sanitize_topic, transaction_block, ColumnInput, CommonSchemas, SourceFields, SourceInfo,
    TableSchema,
};
use crate::filters::{parse_message_key_columns, Filters, MessageKeyColumns};
use crate::lsn::Lsn;
use crate::pgoutput::{
    pg_time_to_unix_us, ColumnRef, Decoder, Message, OldTuple, Relation, Tuple, TupleData,
};
use crate::replication::{
    ReplicationClient, ReplicationConfig, ReplicationMessage, ReplicationStream, SnapshotAction,
    SslMode,
};
use crate::snapshot::CopyRow;
use crate::types::{column_mapping, BinaryHandling, TypeRegistry, TypeSettings};
use sluice_snapshot::{
    MarkerTracker, SnapshotItem, SnapshotMarker, SnapshotOptions, SnapshotProgress, SnapshotStream,
    TableId,
};

/// The connector (a factory).
pub struct PostgresConnector {
    def: ConfigDef,
}

impl Default for PostgresConnector {
    fn default() -> Self {
        Self::new()
    }
}

impl PostgresConnector {
    pub fn new() -> Self {
        PostgresConnector {
            def: config::config_def(),
        }
    }
}

impl SourceConnector for PostgresConnector {
    fn class_name(&self) -> &'static str {
        CLASS
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["postgres", "postgresql"]
    }
    fn config_def(&self) -> &ConfigDef {
        &self.def
    }
    fn config_prefixes(&self) -> &'static [&'static str] {
        &["snapshot.select.statement.overrides."]
    }
    fn validate(&self, props: &Props) -> Vec<KeyValidation> {
        let mut out = self.def.validate(props);
        let parsed = self.def.parse(props).ok();
        for (key, message) in config::extra_issues(props, parsed.as_ref()) {
            if let Some(v) = out.iter_mut().find(|v| v.name == key) {
                v.errors.push(message);
            }
        }
        for key in config::NOT_IMPLEMENTED {
            if props.contains_key(*key) {
                tracing::warn!("connector key '{key}' is a Debezium setting sluice does not implement yet; it has no effect");
            }
        }
        out
    }
    fn task_configs(&self, props: &Props, _max_tasks: usize) -> Result<Vec<Props>> {
        // One slot is one stream: one task.
        Ok(vec![props.clone()])
    }
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(PostgresTask::default())
    }
}

/// Parsed settings of a task.
#[derive(Debug, Clone)]
struct Settings {
    connect: ConnectSettings,
    /// `schema.name.adjustment.mode`, `field.name.adjustment.mode`.
    schema_names: crate::events::NameAdjustment,
    field_names: crate::events::NameAdjustment,
    /// `event.processing.failure.handling.mode`: `fail`, `warn` or `skip`.
    failure_mode: String,
    topic_prefix: String,
    delimiter: String,
    slot: String,
    drop_slot_on_stop: bool,
    publication: String,
    publication_mode: String,
    filters: Filters,
    key_columns: MessageKeyColumns,
    tombstones: bool,
    skip_c: bool,
    skip_u: bool,
    skip_d: bool,
    skip_t: bool,
    types: TypeSettings,
    heartbeat_interval: Option<Duration>,
    heartbeat_query: Option<String>,
    heartbeat_topic: Arc<str>,
    transaction_topic: Arc<str>,
    message_topic: Arc<str>,
    tx_metadata: bool,
    max_batch: usize,
    /// `max.queue.size.in.bytes`: also bounds snapshot rows in flight.
    max_queue_bytes: usize,
    poll_interval: Duration,
    status_interval: Duration,
    flush_lsn: bool,
    message_include: Vec<regex::Regex>,
    message_exclude: Vec<regex::Regex>,
    snapshot: SnapshotSettings,
    signal_table: Option<TableId>,
    signal_source: bool,
    signal_file: Option<std::path::PathBuf>,
    inc_chunk_size: usize,
    /// `slot.lag.*`: the periodic slot check.
    slot_monitor: crate::slots::MonitorSettings,
}

/// The `snapshot.*` settings.
#[derive(Debug, Clone)]
struct SnapshotSettings {
    mode: String,
    include: Vec<regex::Regex>,
    overrides: HashMap<TableId, String>,
    fetch_size: usize,
    threads: usize,
    chunk_rows: u64,
    delay: Duration,
    cb_data: bool,
    cb_stream: bool,
    cb_on_data_error: bool,
}

fn parse_settings(props: &Props) -> Result<Settings> {
    let def = config::config_def();
    let v: ConfigValues = def.parse(props).map_err(|i| {
        ConnectError::config(
            i.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    if let Some((key, message)) = config::extra_issues(props, Some(&v)).into_iter().next() {
        return Err(ConnectError::config(format!("{key}: {message}")));
    }
    let s = |k: &str| v.get_string(k).unwrap_or_default().to_string();
    let list = |k: &str| v.get_list(k).join(",");
    let invalid = |k: &str, e: String| ConnectError::config(format!("{k}: {e}"));
    let sslmode: SslMode =
        s("database.sslmode")
            .parse()
            .map_err(|e: crate::replication::ReplicationError| {
                invalid("database.sslmode", e.to_string())
            })?;
    let filters = Filters::new(
        &list("schema.include.list"),
        &list("schema.exclude.list"),
        &list("table.include.list"),
        &list("table.exclude.list"),
        &list("column.include.list"),
        &list("column.exclude.list"),
    )
    .map_err(|e| invalid("table.include.list", e))?;
    let key_columns = match v.get_string("message.key.columns") {
        Some(spec) => {
            parse_message_key_columns(spec).map_err(|e| invalid("message.key.columns", e))?
        }
        None => MessageKeyColumns::default(),
    };
    let skipped: Vec<String> = v
        .get_list("skipped.operations")
        .iter()
        .map(|o| o.to_ascii_lowercase())
        .collect();
    let types = TypeSettings {
        decimal: s("decimal.handling.mode")
            .parse()
            .map_err(|e| invalid("decimal.handling.mode", format!("{e}")))?,
        time_precision: s("time.precision.mode")
            .parse()
            .map_err(|e| invalid("time.precision.mode", format!("{e}")))?,
        binary: s("binary.handling.mode")
            .parse()
            .map_err(|e| invalid("binary.handling.mode", format!("{e}")))?,
        interval: s("interval.handling.mode")
            .parse()
            .map_err(|e| invalid("interval.handling.mode", format!("{e}")))?,
        hstore: s("hstore.handling.mode")
            .parse()
            .map_err(|e| invalid("hstore.handling.mode", format!("{e}")))?,
        money_fraction_digits: v.get_int("money.fraction.digits"),
        unavailable_value_placeholder: s("unavailable.value.placeholder").into_bytes(),
        include_unknown_datatypes: v.get_bool("include.unknown.datatypes"),
    };
    let prefix = s("topic.prefix");
    let delimiter = s("topic.delimiter");
    let heartbeat_ms = v.get_int("heartbeat.interval.ms");
    Ok(Settings {
        connect: ConnectSettings {
            host: s("database.hostname"),
            port: v.get_int("database.port") as u16,
            user: s("database.user"),
            password: v
                .get_password("database.password")
                .map(|p| p.expose().to_string()),
            dbname: s("database.dbname"),
            sslmode,
            ssl_root_cert: v.get_string("database.sslrootcert").map(Into::into),
        },
        heartbeat_topic: Arc::from(format!(
            "{}{delimiter}{prefix}",
            s("topic.heartbeat.prefix")
        )),
        transaction_topic: Arc::from(format!("{prefix}{delimiter}{}", s("topic.transaction"))),
        message_topic: Arc::from(format!("{prefix}{delimiter}message")),
        failure_mode: s("event.processing.failure.handling.mode").to_ascii_lowercase(),
        schema_names: crate::events::NameAdjustment::parse(&s("schema.name.adjustment.mode")),
        field_names: crate::events::NameAdjustment::parse(&s("field.name.adjustment.mode")),
        topic_prefix: prefix,
        delimiter,
        slot: s("slot.name"),
        drop_slot_on_stop: v.get_bool("slot.drop.on.stop"),
        publication: s("publication.name"),
        publication_mode: s("publication.autocreate.mode").to_ascii_lowercase(),
        filters,
        key_columns,
        tombstones: v.get_bool("tombstones.on.delete"),
        skip_c: skipped.iter().any(|o| o == "c"),
        skip_u: skipped.iter().any(|o| o == "u"),
        skip_d: skipped.iter().any(|o| o == "d"),
        skip_t: skipped.iter().any(|o| o == "t"),
        types,
        heartbeat_interval: (heartbeat_ms > 0).then(|| Duration::from_millis(heartbeat_ms as u64)),
        heartbeat_query: v
            .get_string("heartbeat.action.query")
            .filter(|q| !q.trim().is_empty())
            .map(String::from),
        tx_metadata: v.get_bool("provide.transaction.metadata"),
        max_queue_bytes: props
            .get("max.queue.size.in.bytes")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0usize),
        max_batch: props
            .get("max.batch.size")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(2048usize)
            .max(1),
        poll_interval: Duration::from_millis(
            props
                .get("poll.interval.ms")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(500u64)
                .max(1),
        ),
        status_interval: Duration::from_millis(v.get_int("status.update.interval.ms").max(0) as u64),
        flush_lsn: v.get_bool("flush.lsn.source"),
        message_include: crate::filters::compile_list(&list("message.prefix.include.list"))
            .map_err(|e| invalid("message.prefix.include.list", e))?,
        message_exclude: crate::filters::compile_list(&list("message.prefix.exclude.list"))
            .map_err(|e| invalid("message.prefix.exclude.list", e))?,
        snapshot: SnapshotSettings {
            mode: s("snapshot.mode").to_ascii_lowercase(),
            include: crate::filters::compile_list(&list("snapshot.include.collection.list"))
                .map_err(|e| invalid("snapshot.include.collection.list", e))?,
            overrides: v
                .get_list("snapshot.select.statement.overrides")
                .iter()
                .map(|t| {
                    let (schema, table) = t.split_once('.').ok_or_else(|| {
                        invalid(
                            "snapshot.select.statement.overrides",
                            format!("'{t}' is not <schema>.<table>"),
                        )
                    })?;
                    let key = format!("snapshot.select.statement.overrides.{t}");
                    let sql = props.get(&key).cloned().ok_or_else(|| {
                        invalid(&key, "missing: the SELECT for this table".into())
                    })?;
                    Ok((TableId::new(schema, table), sql))
                })
                .collect::<Result<_>>()?,
            fetch_size: v.get_int("snapshot.fetch.size").max(1) as usize,
            threads: v.get_int("snapshot.max.threads").max(1) as usize,
            chunk_rows: v.get_long("snapshot.chunk.rows").max(1) as u64,
            delay: Duration::from_millis(v.get_long("snapshot.delay.ms").max(0) as u64),
            cb_data: v.get_bool("snapshot.mode.configuration.based.snapshot.data"),
            cb_stream: v.get_bool("snapshot.mode.configuration.based.start.stream"),
            cb_on_data_error: v
                .get_bool("snapshot.mode.configuration.based.snapshot.on.data.error"),
        },
        signal_table: match v
            .get_string("signal.data.collection")
            .filter(|t| !t.trim().is_empty())
        {
            Some(t) => {
                // Debezium accepts <schema>.<table> (and <db>.<schema>.<table>).
                let parts: Vec<&str> = t.split('.').collect();
                match parts.as_slice() {
                    [schema, table] | [_, schema, table] => Some(TableId::new(*schema, *table)),
                    _ => {
                        return Err(invalid(
                            "signal.data.collection",
                            format!("'{t}' is not <schema>.<table>"),
                        ))
                    }
                }
            }
            None => None,
        },
        signal_source: v
            .get_list("signal.enabled.channels")
            .iter()
            .any(|c| c.eq_ignore_ascii_case("source")),
        signal_file: v
            .get_list("signal.enabled.channels")
            .iter()
            .any(|c| c.eq_ignore_ascii_case("file"))
            .then(|| std::path::PathBuf::from(s("signal.file"))),
        inc_chunk_size: v.get_int("incremental.snapshot.chunk.size").max(1) as usize,
        slot_monitor: crate::slots::MonitorSettings::from_values(&v),
    })
}

/// The `database.*` connection settings of a connector configuration.
pub(crate) fn connect_settings(props: &Props) -> Result<ConnectSettings> {
    parse_settings(props).map(|s| s.connect)
}

/// Where a restarted task resumes inside a partly delivered transaction.
#[derive(Debug, Clone, Copy)]
struct ResumePoint {
    xid: u32,
    lsn: u64,
    /// Events already delivered at `lsn`.
    events_at_lsn: u64,
}

/// The transaction being decoded.
#[derive(Debug)]
struct TxState {
    xid: u32,
    ts_us: i64,
    last_lsn: u64,
    events_at_lsn: u64,
    total_order: i64,
    per_table: Vec<(Arc<str>, i64)>,
    skipping: Option<ResumePoint>,
}

impl TxState {
    /// Position of the next event at `lsn`; true when it was already
    /// delivered before a restart.
    fn advance(&mut self, lsn: u64) -> (u64, bool) {
        if lsn == self.last_lsn {
            self.events_at_lsn += 1;
        } else {
            self.last_lsn = lsn;
            self.events_at_lsn = 1;
        }
        let delivered = self.skipping.is_some_and(|r| {
            lsn < r.lsn || (lsn == r.lsn && self.events_at_lsn <= r.events_at_lsn)
        });
        (self.events_at_lsn, delivered)
    }

    fn tx_id(&self, lsn: u64) -> Text {
        // At most 31 bytes: an inline `Text`, no allocation.
        Text::from_fmt(format_args!("{}:{}", self.xid, lsn))
    }

    fn count_table(&mut self, data_collection: &Arc<str>) -> i64 {
        self.total_order += 1;
        match self
            .per_table
            .iter_mut()
            .find(|(t, _)| t == data_collection)
        {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.per_table.push((data_collection.clone(), 1));
                1
            }
        }
    }
}

/// What the task is doing.
enum Phase {
    Snapshot(Box<SnapshotPhase>),
    Streaming,
    /// `initial_only` after its snapshot: nothing more to do.
    Done,
}

struct SnapshotPhase {
    stream: SnapshotStream<CopyRow>,
    reporter_sink: Arc<dyn sluice_connect_api::TaskReporter>,
    last_report: Instant,
    markers: MarkerTracker<(usize, CopyRow)>,
    /// Relation OID per snapshot table index.
    oids: Vec<u32>,
    /// The idle replication connection whose exported snapshot the readers
    /// use; streaming starts on it once the snapshot is read.
    repl: Option<ReplicationClient>,
    /// A query connection holding an exported snapshot open (when the slot
    /// already existed).
    _holder: Option<Client>,
    then_stream: bool,
    /// A blocking snapshot during streaming (not the initial one).
    blocking: bool,
    lsn: u64,
    ts_us: i64,
    /// The last source block built, for (table index, marker): every
    /// record of one table with one marker has the same block (the
    /// snapshot's LSN and time), so it is shared ([`Struct::into_shared`]),
    /// not built again, and the JSON converter recognizes it.
    source_memo: Option<(usize, SnapshotMarker, Struct)>,
    progress: Arc<SnapshotProgress>,
    reporter: tokio::task::JoinHandle<()>,
}

struct Running {
    settings: Settings,
    query: Client,
    stream: Option<ReplicationStream>,
    phase: Phase,
    decoder: Decoder,
    registry: TypeRegistry,
    relations: HashMap<u32, Relation>,
    tables: HashMap<u32, Option<Arc<TableSchema>>>,
    common: CommonSchemas,
    source: SourceFields,
    partition: SourcePartition,
    tx: Option<TxState>,
    /// End LSN of the last transaction whose commit was processed.
    last_commit_end: Option<u64>,
    last_xid: Option<u32>,
    last_received: Lsn,
    /// Everything below this was received and processed, with no
    /// transaction open (commit ends and idle keepalives).
    processed: Lsn,
    resume: Option<ResumePoint>,
    /// What the server was told is flushed. Never moves backwards.
    flushed: Lsn,
    /// The offset of the newest record handed to the worker.
    last_emitted: Option<SourceOffset>,
    /// Position of the newest record pushed into the current batch.
    pending_position: Option<Position>,
    /// Incremental snapshot: persistent state, its offset form, the open
    /// window, pause flag, the current table's key, the signal file read
    /// position.
    inc: crate::incremental::IncState,
    inc_offset: Option<Arc<Vec<(&'static str, Json)>>>,
    window: Option<crate::incremental::Window>,
    /// Changes streamed while an incremental snapshot runs but no window is
    /// open: `(xid, relation, key)`. A chunk read right after may not yet
    /// see a transaction whose commit was already streamed (PostgreSQL
    /// makes a commit visible just after writing its record), so those keys
    /// are dropped from the chunk when its snapshot cannot see the xid.
    inc_recent: std::collections::VecDeque<(u32, u32, Vec<Option<bytes::Bytes>>)>,
    inc_paused: bool,
    inc_table: Option<(TableId, u32, Vec<String>, crate::incremental::KeyInfo)>,
    signal_file_pos: u64,
    chunk_counter: u64,
    /// Tables of a requested blocking snapshot, started at the next
    /// transaction boundary.
    pending_blocking: Vec<TableId>,
    /// True when every emitted record has been committed.
    all_committed: bool,
    /// A snapshot ended with the last poll's records: ask the worker to
    /// commit them as soon as they are durable.
    commit_promptly: bool,
    last_status: Instant,
    last_heartbeat: Instant,
    /// Debezium's metrics of this connector.
    metrics: crate::metrics::PgMetrics,
    /// The periodic replication-slot check (`slot.lag.*`).
    monitor: Option<crate::slots::SlotMonitor>,
}

/// What a task run starts from.
struct RunningInit {
    settings: Settings,
    query: Client,
    stream: Option<ReplicationStream>,
    phase: Phase,
    registry: TypeRegistry,
    relations: HashMap<u32, Relation>,
    common: CommonSchemas,
    source: SourceFields,
    partition: SourcePartition,
    /// Everything before this position is received and processed.
    position: Lsn,
    last_commit_end: Option<u64>,
    resume: Option<ResumePoint>,
}

impl Running {
    fn new(init: RunningInit) -> Running {
        Running {
            metrics: crate::metrics::PgMetrics::new(&init.settings.topic_prefix),
            settings: init.settings,
            query: init.query,
            stream: init.stream,
            phase: init.phase,
            decoder: Decoder::new(1),
            registry: init.registry,
            relations: init.relations,
            tables: HashMap::new(),
            common: init.common,
            source: init.source,
            partition: init.partition,
            tx: None,
            last_commit_end: init.last_commit_end,
            last_xid: None,
            last_received: init.position,
            processed: init.position,
            resume: init.resume,
            flushed: init.position,
            last_emitted: None,
            pending_position: None,
            inc: crate::incremental::IncState::default(),
            inc_offset: None,
            window: None,
            inc_recent: std::collections::VecDeque::new(),
            inc_paused: false,
            inc_table: None,
            signal_file_pos: 0,
            chunk_counter: 0,
            pending_blocking: Vec::new(),
            all_committed: true,
            commit_promptly: false,
            last_status: Instant::now(),
            last_heartbeat: Instant::now(),
            monitor: None,
        }
    }
}

/// The task.
#[derive(Default)]
pub struct PostgresTask {
    running: Option<Running>,
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

fn offset_u64(o: &SourceOffset, key: &str) -> Option<u64> {
    o.get(key).and_then(Json::as_u64)
}

async fn ensure_publication(client: &Client, s: &Settings) -> Result<()> {
    let exists = client
        .query_opt(
            "SELECT puballtables FROM pg_catalog.pg_publication WHERE pubname = $1",
            &[&s.publication],
        )
        .await
        .map_err(|e| catalog::pg_error("looking up the publication", e))?;
    let name = catalog::quote_ident(&s.publication);
    let filtered_tables = || async {
        let rows = client
            .query(
                "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') ORDER BY 1, 2",
                &[],
            )
            .await
            .map_err(|e| catalog::pg_error("listing tables", e))?;
        let tables: Vec<String> = rows
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
            .filter(|(n, t)| s.filters.includes_table(n, t))
            .map(|(n, t)| format!("{}.{}", catalog::quote_ident(&n), catalog::quote_ident(&t)))
            .collect();
        Ok::<_, ConnectError>(tables)
    };
    let sql = match (exists.is_some(), s.publication_mode.as_str()) {
        (true, "filtered") => {
            let tables = filtered_tables().await?;
            if tables.is_empty() {
                return Err(ConnectError::config("publication.autocreate.mode=filtered but the filters select no table"));
            }
            Some(format!("ALTER PUBLICATION {name} SET TABLE {}", tables.join(", ")))
        }
        (true, _) => None,
        (false, "disabled") => {
            return Err(ConnectError::config(format!(
                "publication '{}' does not exist and publication.autocreate.mode=disabled; create it (CREATE PUBLICATION {name} FOR ALL TABLES) or change the mode",
                s.publication
            )))
        }
        (false, "filtered") => {
            let tables = filtered_tables().await?;
            if tables.is_empty() {
                return Err(ConnectError::config("publication.autocreate.mode=filtered but the filters select no table"));
            }
            Some(format!("CREATE PUBLICATION {name} FOR TABLE {}", tables.join(", ")))
        }
        (false, "no_tables") => Some(format!("CREATE PUBLICATION {name}")),
        (false, _) => Some(format!("CREATE PUBLICATION {name} FOR ALL TABLES")),
    };
    if let Some(sql) = sql {
        tracing::info!(publication = %s.publication, "{sql}");
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| catalog::pg_error(&format!("{sql} failed"), e))?;
    }
    Ok(())
}

/// A record's position, turned into Debezium's offset map only for the
/// last record of each poll batch: the worker commits per batch, so the
/// maps of the records before it would never be read.
#[derive(Debug, Clone)]
struct Position {
    lsn: u64,
    lsn_commit: Option<u64>,
    events_at_lsn: u64,
    xid: Option<u32>,
    ts_us: i64,
    message_type: &'static str,
    /// Snapshot records: `Some(is the last snapshot record)`.
    snapshot: Option<bool>,
    /// Incremental snapshot state at this record.
    incremental: Option<Arc<Vec<(&'static str, Json)>>>,
}

impl Position {
    fn to_offset(&self) -> SourceOffset {
        let mut o = Map::new();
        if let Some(last) = self.snapshot {
            // Debezium's snapshot keys: a stored offset without
            // last_snapshot_record=true means the snapshot is incomplete.
            o.insert("snapshot".into(), json!("INITIAL"));
            o.insert("last_snapshot_record".into(), json!(last));
            o.insert("snapshot_completed".into(), json!(last));
            o.insert("lsn".into(), json!(self.lsn));
            o.insert("ts_usec".into(), json!(self.ts_us));
            return o;
        }
        o.insert("lsn_proc".into(), json!(self.lsn));
        if let Some(c) = self.lsn_commit {
            o.insert("lsn_commit".into(), json!(c));
        }
        o.insert("lsn".into(), json!(self.lsn));
        if let Some(x) = self.xid {
            o.insert("txId".into(), json!(x));
        }
        o.insert("ts_usec".into(), json!(self.ts_us));
        o.insert("messageType".into(), json!(self.message_type));
        if self.events_at_lsn > 0 {
            o.insert("lsn_events_processed".into(), json!(self.events_at_lsn));
        }
        if let Some(inc) = &self.incremental {
            for (k, v) in inc.iter() {
                o.insert((*k).into(), v.clone());
            }
        }
        o
    }
}

impl Running {
    /// Notes the position of the record about to be pushed.
    fn position(
        &mut self,
        lsn: u64,
        events_at_lsn: u64,
        xid: Option<u32>,
        ts_us: i64,
        message_type: &'static str,
    ) {
        self.pending_position = Some(Position {
            lsn,
            lsn_commit: self.last_commit_end,
            events_at_lsn,
            xid,
            ts_us,
            message_type,
            snapshot: None,
            incremental: self.inc_offset.clone(),
        });
    }

    fn push(&mut self, out: &mut Vec<SourceRecord>, record: SourceRecord) {
        self.all_committed = false;
        out.push(record);
    }

    fn set_inc_state(&mut self, state: crate::incremental::IncState) {
        self.inc = state;
        self.inc_offset = self.inc.is_active().then(|| Arc::new(self.inc.to_offset()));
    }

    /// A streamed change of `oid`: inside an open window, it supersedes the
    /// chunk's row of the same key.
    fn inc_observe(&mut self, oid: u32, tuples: &[&TupleData]) {
        // Remembered for the next chunk's read (see `inc_recent`).
        if let (Some((_, table_oid, _, info)), Some(tx)) =
            (self.inc_table.as_ref(), self.tx.as_ref())
        {
            if *table_oid == oid {
                for t in tuples {
                    self.inc_recent
                        .push_back((tx.xid, oid, crate::incremental::key_of(t, info)));
                }
                while self.inc_recent.len() > 100_000 {
                    self.inc_recent.pop_front();
                }
            }
        }
        let (Some(w), Some((_, _, _, info))) = (self.window.as_mut(), self.inc_table.as_ref())
        else {
            return;
        };
        if w.oid != oid {
            return;
        }
        // Inside the window every change supersedes the chunk's row (DBLog);
        // before it, so do changes of transactions the read could not see.
        let unseen = self.tx.as_ref().is_some_and(|t| !w.visibility.sees(t.xid));
        if !w.open && !unseen {
            return;
        }
        for t in tuples {
            w.rows.remove(&crate::incremental::key_of(t, info));
        }
    }

    fn is_signal_table(&self, table: &TableSchema) -> bool {
        self.settings
            .signal_table
            .as_ref()
            .is_some_and(|t| t.schema == table.schema_name && t.table == table.table_name)
    }

    fn signal_from_row(&self, oid: u32, row: &TupleData) -> Option<crate::incremental::Signal> {
        let rel = self.relations.get(&oid)?;
        let col = |name: &str| -> Option<String> {
            let i = rel.columns.iter().position(|c| c.name == name)?;
            row.columns
                .get(i)?
                .as_bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        Some(crate::incremental::Signal {
            id: col("id")?,
            kind: col("type")?,
            data: col("data")
                .map(|d| crate::incremental::parse_data(&Json::String(d)))
                .unwrap_or(Json::Null),
        })
    }

    /// Acts on a signal. `position` is the stream position of a signal read
    /// from the signal table (the file channel has none).
    async fn process_signal(
        &mut self,
        signal: crate::incremental::Signal,
        position: Option<(u64, u64)>,
        out: &mut Vec<SourceRecord>,
    ) -> Result<()> {
        let chunk = self.window.as_ref().map(|w| w.chunk_id.clone());
        match signal.kind.as_str() {
            "snapshot-window-open" => {
                if chunk.is_some_and(|c| signal.id == format!("{c}-open")) {
                    if let Some(w) = self.window.as_mut() {
                        w.open = true;
                    }
                }
            }
            "snapshot-window-close" => {
                if let (Some(c), Some((lsn, at))) = (chunk, position) {
                    if signal.id == format!("{c}-close") {
                        self.close_window(lsn, at, out).await?;
                    }
                }
            }
            "execute-snapshot" => {
                let kind = signal.data["type"]
                    .as_str()
                    .unwrap_or("incremental")
                    .to_ascii_lowercase();
                if kind == "blocking" {
                    let tables: Vec<TableId> = signal.data["data-collections"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Json::as_str)
                        .filter_map(|n| n.split_once('.').map(|(a, b)| TableId::new(a, b)))
                        .collect();
                    tracing::info!(signal = %signal.id, tables = ?tables.iter().map(ToString::to_string).collect::<Vec<_>>(), "blocking snapshot requested");
                    self.pending_blocking.extend(tables);
                    return Ok(());
                }
                if kind != "incremental" {
                    tracing::warn!(signal = %signal.id, "execute-snapshot of type '{kind}' is unknown; signal ignored");
                    return Ok(());
                }
                let conditions: HashMap<String, String> = signal.data["additional-conditions"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|c| {
                                Some((
                                    c["data-collection"].as_str()?.to_string(),
                                    c["filter"].as_str()?.to_string(),
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mut state = self.inc.clone();
                for name in signal.data["data-collections"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Json::as_str)
                {
                    let Some((schema, table)) = name.split_once('.') else {
                        tracing::warn!(signal = %signal.id, "data collection '{name}' is not <schema>.<table>; skipped");
                        continue;
                    };
                    let id = TableId::new(schema, table);
                    if !state.tables.iter().any(|t| t.id == id) {
                        state.tables.push_back(crate::incremental::IncTable {
                            id,
                            condition: conditions.get(name).cloned(),
                        });
                    }
                }
                tracing::info!(signal = %signal.id, tables = ?state.tables.iter().map(|t| t.id.to_string()).collect::<Vec<_>>(), "incremental snapshot requested");
                self.set_inc_state(state);
            }
            "stop-snapshot" => {
                let names: Vec<String> = signal.data["data-collections"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Json::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default();
                let mut state = self.inc.clone();
                let current = state.tables.front().map(|t| t.id.to_string());
                if names.is_empty() {
                    state = crate::incremental::IncState::default();
                } else {
                    state.tables.retain(|t| !names.contains(&t.id.to_string()));
                }
                if state.tables.front().map(|t| t.id.to_string()) != current {
                    state.last_key = None;
                    state.max_key = None;
                    self.window = None;
                    self.inc_table = None;
                }
                tracing::info!(signal = %signal.id, "incremental snapshot stopped for {}", if names.is_empty() { "all tables".to_string() } else { names.join(", ") });
                self.set_inc_state(state);
            }
            "pause-snapshot" => {
                tracing::info!(signal = %signal.id, "incremental snapshot paused");
                self.inc_paused = true;
            }
            "resume-snapshot" => {
                tracing::info!(signal = %signal.id, "incremental snapshot resumed");
                self.inc_paused = false;
            }
            "log" => {
                tracing::info!(signal = %signal.id, "{}", signal.data["message"].as_str().unwrap_or(""));
            }
            other => tracing::warn!(signal = %signal.id, "unknown signal type '{other}' ignored"),
        }
        Ok(())
    }

    /// The close watermark reached the stream: emit what is left of the
    /// chunk, then move on.
    async fn close_window(&mut self, lsn: u64, at: u64, out: &mut Vec<SourceRecord>) -> Result<()> {
        let Some(mut window) = self.window.take() else {
            return Ok(());
        };
        let Some(table) = self.table(window.oid).await? else {
            return Ok(());
        };
        let (xid, ts_us) = self
            .tx
            .as_ref()
            .map_or((None, now_us()), |t| (Some(t.xid), t.ts_us));
        let mut emitted = 0usize;
        for key in std::mem::take(&mut window.order) {
            let Some(row) = window.rows.remove(&key) else {
                continue;
            };
            let (after, key) = self.row(&table, &row)?;
            let source = self.source.build(
                &self.common,
                &SourceInfo {
                    ts_us,
                    last_commit_lsn: self.last_commit_end,
                    lsn: Some(lsn),
                    schema: &table.schema_name,
                    table: &table.table_name,
                    tx_id: xid.map(i64::from),
                    snapshot: Some("incremental"),
                },
            );
            let now = now_us();
            let envelope = table.envelope("r", None, Some(after), source, None, now);
            // The chunk's rows carry the state *before* this chunk: a restart
            // after some of them reads the chunk again (duplicates, no gap).
            self.position(lsn, at, xid, ts_us, "INSERT");
            let rec = SourceRecord::new(
                Some(self.partition.clone()),
                None,
                table.topic.clone(),
                Some(table.envelope_schema.clone()),
                Value::Struct(envelope),
            )
            .with_key(
                table.key_schema.clone(),
                key.map_or(Value::Null, Value::Struct),
            )
            .with_timestamp(now_us() / 1000);
            self.push(out, rec);
            emitted += 1;
        }
        let mut state = self.inc.clone();
        if window.table_done {
            let done = state.tables.pop_front();
            state.last_key = None;
            state.max_key = None;
            self.inc_table = None;
            tracing::info!(table = ?done.map(|t| t.id.to_string()), "incremental snapshot of table done");
        } else {
            state.last_key = window.last_key.clone();
        }
        tracing::debug!(emitted, "incremental snapshot chunk emitted");
        if !state.is_active() {
            tracing::info!("incremental snapshot completed");
        }
        self.set_inc_state(state);
        Ok(())
    }

    /// Starts the next chunk when an incremental snapshot is running and no
    /// window is open: open watermark, read, close watermark.
    async fn maybe_next_chunk(&mut self) -> Result<()> {
        if !self.inc.is_active() || self.inc_paused || self.window.is_some() {
            return Ok(());
        }
        let Some(signal_table) = self.settings.signal_table.clone() else {
            tracing::error!("an incremental snapshot needs signal.data.collection (its watermarks are written there); dropped");
            self.set_inc_state(crate::incremental::IncState::default());
            return Ok(());
        };
        loop {
            let Some(next) = self.inc.tables.front().cloned() else {
                return Ok(());
            };
            if self
                .inc_table
                .as_ref()
                .is_none_or(|(id, ..)| *id != next.id)
            {
                let (relations, tables, columns, _) =
                    snapshot_tables(&self.query, &self.settings).await?;
                let found = tables.iter().position(|t| *t == next.id);
                let info = match found {
                    Some(i) => {
                        let cols = columns.get(&next.id).cloned().unwrap_or_default();
                        crate::incremental::key_info(&self.query, &next.id, &cols)
                            .await?
                            .map(|k| (relations[i].clone(), cols, k))
                    }
                    None => None,
                };
                let Some((relation, cols, key)) = info else {
                    tracing::warn!(table = %next.id, "incremental snapshot: table is not captured or has no primary key; skipped");
                    let mut st = self.inc.clone();
                    st.tables.pop_front();
                    st.last_key = None;
                    st.max_key = None;
                    self.set_inc_state(st);
                    continue;
                };
                let oid = relation.oid;
                self.relations.entry(oid).or_insert(relation);
                self.inc_table = Some((next.id.clone(), oid, cols, key));
            }
            if self.inc.max_key.is_none() {
                let (_, _, _, key) = self.inc_table.as_ref().expect("set above");
                match crate::incremental::max_key(
                    &self.query,
                    &next.id,
                    key,
                    next.condition.as_deref(),
                )
                .await?
                {
                    Some(max) => {
                        let mut st = self.inc.clone();
                        st.max_key = Some(max);
                        self.set_inc_state(st);
                    }
                    None => {
                        let mut st = self.inc.clone();
                        st.tables.pop_front();
                        st.last_key = None;
                        self.inc_table = None;
                        self.set_inc_state(st);
                        continue;
                    }
                }
            }
            break;
        }
        let (table_id, oid, cols, key) = self.inc_table.clone().expect("resolved above");
        let condition = self.inc.tables.front().and_then(|t| t.condition.clone());
        self.chunk_counter += 1;
        let chunk_id = format!("sluice-{}-{}", now_us(), self.chunk_counter);
        let target = format!(
            "{}.{}",
            catalog::quote_ident(&signal_table.schema),
            catalog::quote_ident(&signal_table.table)
        );
        let watermark = |kind: &str, suffix: &str| {
            format!(
                "INSERT INTO {target} (id, type, data) VALUES ('{chunk_id}-{suffix}', '{kind}', '{{\"{}\": \"{}\"}}')",
                if suffix == "open" { "openWindowTimestamp" } else { "closeWindowTimestamp" },
                now_us()
            )
        };
        self.query
            .batch_execute(&watermark("snapshot-window-open", "open"))
            .await
            .map_err(|e| {
                catalog::pg_error(&format!("writing the open watermark to {target}"), e)
            })?;
        let (rows, visibility) = crate::incremental::read_chunk(
            &self.query,
            &table_id,
            &cols,
            &key,
            self.inc.last_key.as_deref(),
            self.inc.max_key.as_deref().unwrap_or_default(),
            self.settings.inc_chunk_size,
            condition.as_deref(),
        )
        .await?;
        self.query
            .batch_execute(&watermark("snapshot-window-close", "close"))
            .await
            .map_err(|e| {
                catalog::pg_error(&format!("writing the close watermark to {target}"), e)
            })?;
        let mut window = crate::incremental::Window {
            chunk_id,
            oid,
            visibility,
            ..Default::default()
        };
        crate::incremental::fill_window(&mut window, rows, &key, self.settings.inc_chunk_size);
        // Changes already streamed by transactions this read could not see
        // are newer than the chunk's rows.
        for (xid, rel, k) in &self.inc_recent {
            if *rel == window.oid && !window.visibility.sees(*xid) {
                window.rows.remove(k);
            }
        }
        // Changes this read saw are in its rows; keep only the others.
        self.inc_recent
            .retain(|(xid, _, _)| !window.visibility.sees(*xid));
        self.window = Some(window);
        Ok(())
    }

    /// Starts a requested blocking snapshot: streaming pauses (status
    /// updates keep the replication connection alive), the tables are read
    /// in a fresh exported snapshot, then streaming resumes where it paused.
    async fn maybe_start_blocking(&mut self) -> Result<()> {
        if self.pending_blocking.is_empty()
            || self.tx.is_some()
            || !matches!(self.phase, Phase::Streaming)
        {
            return Ok(());
        }
        let wanted = std::mem::take(&mut self.pending_blocking);
        let holder = catalog::connect(&self.settings.connect, "sluice-blocking-snapshot").await?;
        holder
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(|e| catalog::pg_error("opening the blocking snapshot transaction", e))?;
        let name: String = holder
            .query_one("SELECT pg_catalog.pg_export_snapshot()", &[])
            .await
            .map_err(|e| catalog::pg_error("exporting a snapshot", e))?
            .get(0);
        let (relations, tables, columns, binary) =
            snapshot_tables(&self.query, &self.settings).await?;
        let mut oids = Vec::new();
        let mut chosen = Vec::new();
        for (rel, id) in relations.into_iter().zip(tables) {
            if wanted.contains(&id) {
                oids.push(rel.oid);
                self.relations.entry(rel.oid).or_insert(rel);
                chosen.push(id);
            }
        }
        for w in &wanted {
            if !chosen.contains(w) {
                tracing::warn!(table = %w, "blocking snapshot: table is not captured; skipped");
            }
        }
        tracing::info!(tables = chosen.len(), "blocking snapshot: streaming paused");
        let dialect = crate::snapshot::PgSnapshotDialect::new(
            self.settings.connect.clone(),
            name,
            columns,
            self.settings.snapshot.overrides.clone(),
            binary,
        );
        let progress = Arc::new(SnapshotProgress::new());
        let options = SnapshotOptions {
            threads: self.settings.snapshot.threads,
            chunk_rows: self.settings.snapshot.chunk_rows,
            batch_rows: self
                .settings
                .snapshot
                .fetch_size
                .min(self.settings.max_batch),
            max_bytes: self.settings.max_queue_bytes,
        };
        let count = chosen.len();
        let stream =
            sluice_snapshot::start_snapshot(Arc::new(dialect), chosen, options, progress.clone());
        let reporter = sluice_snapshot::progress::spawn_reporter(
            progress.clone(),
            self.settings.topic_prefix.clone(),
        );
        self.phase = Phase::Snapshot(Box::new(SnapshotPhase {
            stream,
            reporter_sink: Arc::new(sluice_connect_api::NoopReporter),
            last_report: Instant::now(),
            markers: MarkerTracker::new(count),
            oids,
            repl: None,
            _holder: Some(holder),
            then_stream: true,
            blocking: true,
            lsn: self.processed.0,
            ts_us: now_us(),
            source_memo: None,
            progress,
            reporter,
        }));
        Ok(())
    }

    /// New signals appended to the signal file.
    async fn read_signal_file(&mut self, out: &mut Vec<SourceRecord>) -> Result<()> {
        let Some(path) = self.settings.signal_file.clone() else {
            return Ok(());
        };
        let Ok(bytes) = std::fs::read(&path) else {
            return Ok(());
        };
        let start = (self.signal_file_pos as usize).min(bytes.len());
        let Some(end) = bytes[start..]
            .iter()
            .rposition(|b| *b == b'\n')
            .map(|i| start + i + 1)
        else {
            return Ok(());
        };
        self.signal_file_pos = end as u64;
        for line in String::from_utf8_lossy(&bytes[start..end])
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            match crate::incremental::Signal::from_json_line(line) {
                Ok(signal) => self.process_signal(signal, None, out).await?,
                Err(e) => tracing::warn!(file = %path.display(), "ignoring a bad signal line: {e}"),
            }
        }
        Ok(())
    }

    /// Gives the batch's last record its offset.
    fn finish_batch(&mut self, out: &mut [SourceRecord]) {
        let pending = self.pending_position.take();
        if let Some(last) = out.last_mut() {
            if last.source_offset.is_none() {
                last.source_offset = pending.map(|p| p.to_offset());
            }
            self.last_emitted = last.source_offset.clone();
        }
    }

    async fn table(&mut self, oid: u32) -> Result<Option<Arc<TableSchema>>> {
        if let Some(t) = self.tables.get(&oid) {
            return Ok(t.clone());
        }
        let rel = self.relations.get(&oid).cloned().ok_or_else(|| {
            ConnectError::protocol(format!(
                "change for relation {oid} arrived before its Relation message"
            ))
        })?;
        let built = if self
            .settings
            .filters
            .includes_table(&rel.namespace, &rel.name)
        {
            Some(Arc::new(self.build_table(&rel).await?))
        } else {
            None
        };
        self.tables.insert(oid, built.clone());
        Ok(built)
    }

    async fn build_table(&mut self, rel: &Relation) -> Result<TableSchema> {
        let meta = catalog::table_columns(&self.query, rel.oid).await?;
        // A type the registry does not know (created after start): reload.
        if rel
            .columns
            .iter()
            .any(|c| self.registry.get(c.type_oid).is_none())
        {
            let rows = self
                .query
                .query(TypeRegistry::CATALOG_QUERY, &[])
                .await
                .map_err(|e| catalog::pg_error("reading the type catalog", e))?;
            self.registry
                .add_catalog_rows(&rows)
                .map_err(|e| ConnectError::protocol(e.to_string()))?;
        }
        let custom_key = self
            .settings
            .key_columns
            .for_table(&rel.namespace, &rel.name)
            .map(|c| c.to_vec());
        let mut inputs = Vec::with_capacity(rel.columns.len());
        for c in &rel.columns {
            let m = meta.get(&c.name).cloned().unwrap_or_default();
            let key_position = match &custom_key {
                Some(cols) => cols.iter().position(|k| k == &c.name),
                None => m.pk_position,
            };
            let included = key_position.is_some()
                || self
                    .settings
                    .filters
                    .includes_column(&rel.namespace, &rel.name, &c.name);
            let mapping = if included {
                match column_mapping(
                    &self.registry,
                    c.type_oid,
                    c.type_modifier,
                    !m.not_null && key_position.is_none(),
                    &self.settings.types,
                ) {
                    Ok(mapping) => {
                        // Debezium's default-value rules (literals, and
                        // placeholders for nextval()/now()-like defaults).
                        let mut mapping = match m.default_expr.as_deref() {
                            Some(expr) => mapping.with_default_expression(expr),
                            None => mapping,
                        };
                        if m.comment.is_some() {
                            let mut schema = (*mapping.schema).clone();
                            schema.doc = m.comment.clone();
                            mapping.schema = Arc::new(schema);
                        }
                        Some(mapping)
                    }
                    Err(e) => {
                        tracing::warn!(table = %format!("{}.{}", rel.namespace, rel.name), column = %c.name, "column left out of change events: {e}");
                        None
                    }
                }
            } else {
                None
            };
            inputs.push(ColumnInput {
                name: c.name.clone(),
                mapping,
                key_position,
            });
        }
        let d = &self.settings.delimiter;
        let topic = sanitize_topic(&format!(
            "{}{d}{}{d}{}",
            self.settings.topic_prefix, rel.namespace, rel.name
        ));
        Ok(TableSchema::build(
            &topic,
            &rel.namespace,
            &rel.name,
            inputs,
            &self.common,
            (self.settings.schema_names, self.settings.field_names),
        ))
    }

    /// Value struct (and key) of a tuple. `old` tuples may lack columns.
    fn row<T: Tuple + ?Sized>(
        &self,
        table: &TableSchema,
        tuple: &T,
    ) -> Result<(Struct, Option<Struct>)> {
        // Value fields follow the column order (`TableSchema::build`), so
        // they are pushed as the columns are read.
        let mut values = Vec::with_capacity(table.value_schema.fields.len());
        // Key fields usually follow the column order too; a key declared in
        // another order is placed by index.
        let key_len = table.key_schema.as_ref().map(|k| k.fields.len());
        let mut key = key_len.map(Vec::with_capacity);
        let binary = tuple.is_binary();
        for (i, plan) in table.columns.iter().enumerate() {
            let Some(mapping) = &plan.mapping else {
                continue;
            };
            let v = match tuple.column(i) {
                ColumnRef::Data(b) => if binary {
                    mapping.convert_binary(b)
                } else {
                    mapping.convert_text(b)
                }
                .map_err(|e| {
                    ConnectError::data(format!(
                        "{}.{} column {}: {e}",
                        table.schema_name, table.table_name, plan.name
                    ))
                })?,
                ColumnRef::Unchanged => mapping.unavailable_value(),
                ColumnRef::Null => mapping.null_value(),
            };
            if let (Some(k), Some(ki)) = (key.as_mut(), plan.key_index) {
                if ki == k.len() {
                    k.push(v.clone());
                } else {
                    if k.len() <= ki {
                        k.resize(ki + 1, Value::Null);
                    }
                    k[ki] = v.clone();
                }
            }
            if let Some(vi) = plan.value_index {
                debug_assert_eq!(vi, values.len(), "value fields in column order");
                values.push(v);
            }
        }
        let key = match (key, &table.key_schema) {
            (Some(mut k), Some(schema)) => {
                k.resize(schema.fields.len(), Value::Null);
                Some(Struct::from_values(schema.clone(), k))
            }
            _ => None,
        };
        Ok((Struct::from_values(table.value_schema.clone(), values), key))
    }

    fn source_info(&self, lsn: u64, table: &TableSchema) -> Struct {
        let tx = self.tx.as_ref();
        self.source.build(
            &self.common,
            &SourceInfo {
                ts_us: tx.map_or_else(now_us, |t| t.ts_us),
                last_commit_lsn: self.last_commit_end,
                lsn: Some(lsn),
                schema: &table.schema_name,
                table: &table.table_name,
                tx_id: tx.map(|t| i64::from(t.xid)),
                snapshot: None,
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn change_record(
        &mut self,
        table: &Arc<TableSchema>,
        op: &'static str,
        before: Option<Struct>,
        after: Option<Struct>,
        key: Option<Struct>,
        lsn: u64,
        at: u64,
        message_type: &'static str,
    ) -> SourceRecord {
        let source = self.source_info(lsn, table);
        let transaction = if self.settings.tx_metadata {
            self.tx.as_mut().map(|tx| {
                let order = tx.count_table(&table.topic);
                let id = tx.tx_id(lsn);
                (id, tx.total_order, order)
            })
        } else {
            None
        }
        .map(|(id, total, order)| transaction_block(&self.common, id, total, order));
        let now = now_us();
        let envelope = table.envelope(op, before, after, source, transaction, now);
        let (xid, ts_us) = self
            .tx
            .as_ref()
            .map_or((None, now), |t| (Some(t.xid), t.ts_us));
        self.position(lsn, at, xid, ts_us, message_type);
        SourceRecord::new(
            Some(self.partition.clone()),
            None,
            table.topic.clone(),
            Some(table.envelope_schema.clone()),
            Value::Struct(envelope),
        )
        .with_key(
            table.key_schema.clone(),
            key.map_or(Value::Null, Value::Struct),
        )
        .with_timestamp(now / 1000)
    }

    fn tombstone(&self, of: &SourceRecord) -> SourceRecord {
        let mut t = of.clone();
        t.value_schema = None;
        t.value = Value::Null;
        t
    }

    /// The position of a change in its transaction and its table; `None`
    /// when the change is not emitted (outside a transaction, delivered
    /// before a restart, a skipped operation, a table not captured).
    async fn change_target(
        &mut self,
        lsn: u64,
        skipped_op: bool,
        relation: u32,
    ) -> Result<Option<(u64, Arc<TableSchema>)>> {
        let Some((at, delivered)) = self.tx.as_mut().map(|t| t.advance(lsn)) else {
            return Ok(None);
        };
        if delivered || skipped_op {
            return Ok(None);
        }
        Ok(self.table(relation).await?.map(|t| (at, t)))
    }

    /// Handles one XLogData payload.
    async fn handle(
        &mut self,
        wal_start: Lsn,
        data: bytes::Bytes,
        out: &mut Vec<SourceRecord>,
    ) -> Result<()> {
        let lsn = wal_start.0;
        let message = self
            .decoder
            .decode(data)
            .map_err(|e| ConnectError::protocol(format!("pgoutput message at {wal_start}: {e}")))?;
        match message {
            Message::Begin {
                commit_time_us,
                xid,
                ..
            } => {
                let skipping = self.resume.filter(|r| r.xid == xid);
                self.tx = Some(TxState {
                    xid,
                    ts_us: pg_time_to_unix_us(commit_time_us),
                    last_lsn: 0,
                    events_at_lsn: 0,
                    total_order: 0,
                    per_table: Vec::new(),
                    skipping,
                });
                if self.settings.tx_metadata && skipping.is_none() {
                    let rec = self.tx_record("BEGIN", lsn);
                    self.push(out, rec);
                }
            }
            Message::Commit { end_lsn, .. } => {
                // Flushing the end of the commit record makes the server skip
                // this transaction after a restart.
                let lsn = end_lsn.0;
                if self.settings.tx_metadata
                    && self
                        .tx
                        .as_ref()
                        .is_some_and(|t| t.skipping.is_none() || t.total_order > 0)
                {
                    let rec = self.tx_record("END", lsn);
                    self.push(out, rec);
                }
                if let Some(tx) = self.tx.take() {
                    self.metrics.transaction_committed(tx.ts_us, now_us());
                    self.last_xid = Some(tx.xid);
                    if tx.skipping.is_some() {
                        self.resume = None;
                    }
                }
                self.last_commit_end = Some(lsn);
                self.processed = self.processed.max(end_lsn);
            }
            Message::Relation { relation, .. } => {
                let changed = self.relations.get(&relation.oid) != Some(&relation);
                if changed {
                    tracing::info!(table = %format!("{}.{}", relation.namespace, relation.name), "table schema (re)read from Relation message");
                    self.tables.remove(&relation.oid);
                    self.relations.insert(relation.oid, relation);
                }
            }
            Message::Type { .. } | Message::Origin { .. } => {}
            Message::Insert { relation, new, .. } => {
                let Some((at, table)) = self
                    .change_target(lsn, self.settings.skip_c, relation)
                    .await?
                else {
                    return Ok(());
                };
                let (after, key) = self.row(&table, &new)?;
                let rec =
                    self.change_record(&table, "c", None, Some(after), key, lsn, at, "INSERT");
                self.push(out, rec);
                self.inc_observe(relation, &[&new]);
                if self.settings.signal_source && self.is_signal_table(&table) {
                    if let Some(signal) = self.signal_from_row(relation, &new) {
                        self.process_signal(signal, Some((lsn, at)), out).await?;
                    }
                }
            }
            Message::Update {
                relation, old, new, ..
            } => {
                let Some((at, table)) = self
                    .change_target(lsn, self.settings.skip_u, relation)
                    .await?
                else {
                    return Ok(());
                };
                let (after, key) = self.row(&table, &new)?;
                match &old {
                    Some(o) => self.inc_observe(relation, &[&new, o.tuple()]),
                    None => self.inc_observe(relation, &[&new]),
                }
                let before = match &old {
                    Some(OldTuple::Full(t)) => Some(self.row(&table, t)?),
                    Some(OldTuple::Key(t)) => Some(self.row(&table, t)?),
                    None => None,
                };
                let old_key = before.as_ref().and_then(|(_, k)| k.clone());
                if table.key_schema.is_some() && old_key.is_some() && old_key != key {
                    // The primary key changed: Debezium emits a delete of the
                    // old key (plus tombstone) and a create of the new one.
                    let (before_value, _) = before.expect("checked");
                    let del = self.change_record(
                        &table,
                        "d",
                        Some(before_value),
                        None,
                        old_key,
                        lsn,
                        at,
                        "UPDATE",
                    );
                    let tomb = self.settings.tombstones.then(|| self.tombstone(&del));
                    self.push(out, del);
                    if let Some(t) = tomb {
                        self.push(out, t);
                    }
                    let create =
                        self.change_record(&table, "c", None, Some(after), key, lsn, at, "UPDATE");
                    self.push(out, create);
                } else {
                    let before = match old {
                        Some(OldTuple::Full(_)) => before.map(|(b, _)| b),
                        _ => None,
                    };
                    let rec = self.change_record(
                        &table,
                        "u",
                        before,
                        Some(after),
                        key,
                        lsn,
                        at,
                        "UPDATE",
                    );
                    self.push(out, rec);
                }
            }
            Message::Delete { relation, old, .. } => {
                let Some((at, table)) = self
                    .change_target(lsn, self.settings.skip_d, relation)
                    .await?
                else {
                    return Ok(());
                };
                let (before, key) = self.row(&table, old.tuple())?;
                self.inc_observe(relation, &[old.tuple()]);
                let rec =
                    self.change_record(&table, "d", Some(before), None, key, lsn, at, "DELETE");
                let tomb = self.settings.tombstones.then(|| self.tombstone(&rec));
                self.push(out, rec);
                if let Some(t) = tomb {
                    self.push(out, t);
                }
            }
            Message::Truncate { relations, .. } => {
                let Some((at, delivered)) = self.tx.as_mut().map(|t| t.advance(lsn)) else {
                    return Ok(());
                };
                if delivered || self.settings.skip_t {
                    return Ok(());
                }
                for oid in relations {
                    let Some(table) = self.table(oid).await? else {
                        continue;
                    };
                    // Debezium (EventDispatcher): a truncate has neither
                    // key nor key schema.
                    let mut rec =
                        self.change_record(&table, "t", None, None, None, lsn, at, "TRUNCATE");
                    rec.key_schema = None;
                    self.push(out, rec);
                }
            }
            Message::Message {
                transactional,
                prefix,
                content,
                ..
            } => {
                let position = match self.tx.as_mut() {
                    Some(t) if transactional => Some(t.advance(lsn)),
                    _ => None,
                };
                if position.is_some_and(|(_, delivered)| delivered) {
                    return Ok(());
                }
                if !self.settings.message_include.is_empty()
                    && !self
                        .settings
                        .message_include
                        .iter()
                        .any(|r| r.is_match(&prefix))
                {
                    return Ok(());
                }
                if self
                    .settings
                    .message_exclude
                    .iter()
                    .any(|r| r.is_match(&prefix))
                {
                    return Ok(());
                }
                let rec = self.message_record(
                    lsn,
                    position.map_or(0, |(at, _)| at),
                    transactional,
                    &prefix,
                    &content,
                );
                self.push(out, rec);
                if !transactional {
                    self.processed = self.processed.max(wal_start);
                }
            }
            other => {
                return Err(ConnectError::protocol(format!(
                    "unexpected pgoutput message {:?} with protocol version 1",
                    other.kind()
                )))
            }
        }
        Ok(())
    }

    fn message_record(
        &mut self,
        lsn: u64,
        at: u64,
        transactional: bool,
        prefix: &str,
        content: &[u8],
    ) -> SourceRecord {
        let content = match self.settings.types.binary {
            BinaryHandling::Bytes => Value::Bytes(content.to_vec()),
            BinaryHandling::Base64 => Value::String(base64_std(content).into()),
            BinaryHandling::Base64UrlSafe => Value::String(base64_url(content).into()),
            BinaryHandling::Hex => Value::String(
                content
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
                    .into(),
            ),
        };
        let tx = self.tx.as_ref().filter(|_| transactional);
        let source = self.source.build(
            &self.common,
            &SourceInfo {
                ts_us: tx.map_or_else(now_us, |t| t.ts_us),
                last_commit_lsn: self.last_commit_end,
                lsn: Some(lsn),
                schema: "",
                table: "",
                tx_id: tx.map(|t| i64::from(t.xid)),
                snapshot: None,
            },
        );
        let block = Struct::from_values(
            self.common.message_block.clone(),
            vec![Value::String(prefix.into()), content],
        );
        let value = Struct::from_values(
            self.common.message_value.clone(),
            vec![
                Value::String(Text::from_static("m")),
                Value::Int64(now_us() / 1000),
                Value::Struct(source),
                Value::Null,
                Value::Struct(block),
            ],
        );
        let key = Struct::from_values(
            self.common.message_key.clone(),
            vec![Value::String(prefix.into())],
        );
        let (xid, ts_us) = tx.map_or((None, now_us()), |t| (Some(t.xid), t.ts_us));
        self.position(lsn, at, xid, ts_us, "MESSAGE");
        SourceRecord::new(
            Some(self.partition.clone()),
            None,
            self.settings.message_topic.clone(),
            Some(self.common.message_value.clone()),
            Value::Struct(value),
        )
        .with_key(Some(self.common.message_key.clone()), Value::Struct(key))
        .with_timestamp(now_us() / 1000)
    }

    fn tx_record(&mut self, status: &'static str, lsn: u64) -> SourceRecord {
        let tx = self.tx.as_ref().expect("inside a transaction");
        let id = tx.tx_id(lsn);
        let ts_ms = tx.ts_us.div_euclid(1000);
        let (event_count, collections) = if status == "END" {
            let items: Vec<Value> = tx
                .per_table
                .iter()
                .map(|(t, n)| {
                    Value::Struct(Struct::from_values(
                        self.common.tx_collection.clone(),
                        vec![Value::from(&**t), Value::Int64(*n)],
                    ))
                })
                .collect();
            (Value::Int64(tx.total_order), Value::Array(items))
        } else {
            (Value::Null, Value::Null)
        };
        let value = Struct::from_values(
            self.common.tx_value.clone(),
            vec![
                Value::String(Text::from_static(status)),
                Value::String(id.clone()),
                event_count,
                collections,
                Value::Int64(ts_ms),
            ],
        );
        let key = Struct::from_values(self.common.tx_key.clone(), vec![Value::String(id)]);
        let (xid, ts_us) = (tx.xid, tx.ts_us);
        self.position(
            lsn,
            0,
            Some(xid),
            ts_us,
            if status == "END" { "COMMIT" } else { "BEGIN" },
        );
        SourceRecord::new(
            Some(self.partition.clone()),
            None,
            self.settings.transaction_topic.clone(),
            Some(self.common.tx_value.clone()),
            Value::Struct(value),
        )
        .with_key(Some(self.common.tx_key.clone()), Value::Struct(key))
        .with_timestamp(now_us() / 1000)
    }

    fn heartbeat_record(&mut self) -> SourceRecord {
        let p = self.processed.0.max(self.last_commit_end.unwrap_or(0));
        let mut o = Map::new();
        o.insert("lsn_proc".into(), json!(p));
        o.insert("lsn_commit".into(), json!(p));
        o.insert("lsn".into(), json!(p));
        if let Some(x) = self.last_xid {
            o.insert("txId".into(), json!(x));
        }
        o.insert("ts_usec".into(), json!(now_us()));
        if let Some(inc) = &self.inc_offset {
            for (k, v) in inc.iter() {
                o.insert((*k).into(), v.clone());
            }
        }
        let key = Struct::from_values(
            self.common.heartbeat_key.clone(),
            vec![Value::from(self.settings.topic_prefix.as_str())],
        );
        let value = Struct::from_values(
            self.common.heartbeat_value.clone(),
            vec![Value::Int64(now_us() / 1000)],
        );
        SourceRecord::new(
            Some(self.partition.clone()),
            Some(o),
            self.settings.heartbeat_topic.clone(),
            Some(self.common.heartbeat_value.clone()),
            Value::Struct(value),
        )
        .with_key(Some(self.common.heartbeat_key.clone()), Value::Struct(key))
        .with_timestamp(now_us() / 1000)
    }

    async fn send_status(&mut self, reply_requested: bool) -> Result<()> {
        let flushed = if self.settings.flush_lsn {
            self.flushed
        } else {
            Lsn(0)
        };
        let Some(stream) = self.stream.as_mut() else {
            // Not streaming (snapshot, or initial_only done): nothing to report.
            return Ok(());
        };
        tracing::debug!(write = %self.last_received, flush = %flushed, "standby status update");
        stream
            .send_status_update(self.last_received, flushed, flushed, reply_requested)
            .await
            .map_err(ConnectError::from)?;
        self.last_status = Instant::now();
        Ok(())
    }

    /// One poll during the snapshot: rows become `op: r` events with
    /// Debezium's markers; when the last table is read, streaming starts.
    async fn poll_snapshot(&mut self) -> Result<Vec<SourceRecord>> {
        let deadline = tokio::time::Instant::now() + self.settings.poll_interval;
        // Sized for a full batch up front: growing a vector of records by
        // doubling copied about a batch's worth of records per poll.
        let mut out = Vec::with_capacity(self.settings.max_batch.min(4096));
        let mut finished = false;
        while out.len() < self.settings.max_batch {
            let Phase::Snapshot(snap) = &mut self.phase else {
                break;
            };
            let item = match tokio::time::timeout_at(deadline, snap.stream.next()).await {
                Err(_) => break,
                Ok(item) => item?,
            };
            let ready: Vec<((usize, CopyRow), SnapshotMarker)> = match item {
                Some(SnapshotItem::TableStarted {
                    table_index,
                    table,
                    estimated_rows,
                    ..
                }) => {
                    tracing::info!(table = %table, estimated_rows, "snapshotting table");
                    snap.markers.table_started(table_index);
                    Vec::new()
                }
                Some(SnapshotItem::Rows { table_index, rows }) => rows
                    .into_iter()
                    .filter_map(|row| snap.markers.row((table_index, row)))
                    .collect(),
                Some(SnapshotItem::TableDone { table_index, rows }) => {
                    tracing::info!(rows, "table snapshot done");
                    snap.markers.table_done(table_index).into_iter().collect()
                }
                None => {
                    finished = true;
                    snap.markers.finish().into_iter().collect()
                }
            };
            // The table is looked up once per run of rows of one table.
            let mut table: Option<(usize, Arc<TableSchema>)> = None;
            for ((table_index, row), marker) in &ready {
                if table.as_ref().is_none_or(|(i, _)| i != table_index) {
                    table = Some((*table_index, self.snapshot_table(*table_index).await?));
                }
                let (_, schema) = table.as_ref().expect("looked up above");
                let rec = self.snapshot_record(*table_index, schema, row, *marker)?;
                self.push(&mut out, rec);
            }
            // The rows go together, not one by one between records: they
            // share reference-counted buffers with the rows their reader
            // is cutting on another thread right now.
            drop(ready);
            if finished {
                break;
            }
        }
        self.finish_batch(&mut out);
        if let Phase::Snapshot(snap) = &mut self.phase {
            if finished || snap.last_report.elapsed() >= Duration::from_secs(1) {
                snap.last_report = Instant::now();
                let mut metrics = snap.progress.metrics();
                if finished {
                    metrics["SnapshotRunning"] = json!(false);
                    metrics["SnapshotCompleted"] = json!(true);
                }
                self.metrics.snapshot(&metrics);
                snap.reporter_sink.report("snapshot", metrics);
            }
        }
        if finished {
            self.finish_snapshot().await?;
        }
        if self.stream.is_some() && self.last_status.elapsed() >= self.settings.status_interval {
            // A blocking snapshot: keep the paused replication connection alive.
            self.send_status(false).await?;
        }
        Ok(out)
    }

    /// The schema of snapshot table `table_index`.
    async fn snapshot_table(&mut self, table_index: usize) -> Result<Arc<TableSchema>> {
        let Phase::Snapshot(snap) = &self.phase else {
            return Err(ConnectError::internal(
                "snapshot record outside the snapshot",
            ));
        };
        let oid = snap.oids[table_index];
        self.table(oid).await?.ok_or_else(|| {
            ConnectError::internal(format!(
                "snapshot of a table that is not captured (oid {oid})"
            ))
        })
    }

    fn snapshot_record(
        &mut self,
        table_index: usize,
        table: &TableSchema,
        row: &CopyRow,
        marker: SnapshotMarker,
    ) -> Result<SourceRecord> {
        let (after, key) = self.row(table, row)?;
        let Phase::Snapshot(snap) = &mut self.phase else {
            return Err(ConnectError::internal(
                "snapshot record outside the snapshot",
            ));
        };
        let (lsn, ts_us, blocking) = (snap.lsn, snap.ts_us, snap.blocking);
        let source = match &snap.source_memo {
            Some((index, m, source)) if *index == table_index && *m == marker => source.clone(),
            _ => {
                let source = self
                    .source
                    .build(
                        &self.common,
                        &SourceInfo {
                            ts_us,
                            last_commit_lsn: None,
                            lsn: Some(lsn),
                            schema: &table.schema_name,
                            table: &table.table_name,
                            tx_id: None,
                            snapshot: Some(marker.as_str()),
                        },
                    )
                    .into_shared();
                snap.source_memo = Some((table_index, marker, source.clone()));
                source
            }
        };
        let now = now_us();
        let envelope = table.envelope("r", None, Some(after), source, None, now);
        self.pending_position = Some(if blocking {
            // A blocking snapshot keeps the stream's position: a restart
            // continues streaming (the blocking snapshot is not redone).
            Position {
                lsn,
                lsn_commit: self.last_commit_end,
                events_at_lsn: 0,
                xid: None,
                ts_us,
                message_type: "COMMIT",
                snapshot: None,
                incremental: self.inc_offset.clone(),
            }
        } else {
            Position {
                lsn,
                lsn_commit: None,
                events_at_lsn: 0,
                xid: None,
                ts_us,
                message_type: "",
                snapshot: Some(marker == SnapshotMarker::Last),
                incremental: None,
            }
        });
        Ok(SourceRecord::new(
            Some(self.partition.clone()),
            None,
            table.topic.clone(),
            Some(table.envelope_schema.clone()),
            Value::Struct(envelope),
        )
        .with_key(
            table.key_schema.clone(),
            key.map_or(Value::Null, Value::Struct),
        )
        .with_timestamp(now / 1000))
    }

    async fn finish_snapshot(&mut self) -> Result<()> {
        let Phase::Snapshot(snap) = std::mem::replace(&mut self.phase, Phase::Streaming) else {
            return Ok(());
        };
        let snap = *snap;
        snap.progress.completed();
        self.commit_promptly = true;
        snap.reporter.abort();
        tracing::info!(duration = ?snap.progress.duration(), "snapshot completed");
        if snap.blocking {
            tracing::info!("blocking snapshot done: streaming resumes");
            self.phase = Phase::Streaming;
            return Ok(());
        }
        match (snap.then_stream, snap.repl) {
            (true, Some(repl)) => {
                self.stream = Some(start_streaming(repl, &self.settings, Lsn(0)).await?);
                self.phase = Phase::Streaming;
            }
            _ => {
                tracing::info!(
                    "snapshot.mode: the snapshot is complete and streaming is not requested"
                );
                self.phase = Phase::Done;
            }
        }
        Ok(())
    }

    /// Reading is paused (slot lag over `slot.lag.fail.bytes`): nothing is
    /// read from the slot; status updates keep the replication connection
    /// alive and report what commits confirm meanwhile.
    async fn poll_paused(&mut self) -> Result<Vec<SourceRecord>> {
        if self.last_status.elapsed() >= self.settings.status_interval.min(Duration::from_secs(10))
        {
            self.send_status(false).await?;
        }
        tokio::time::sleep(self.settings.poll_interval).await;
        Ok(Vec::new())
    }

    /// When nothing is in flight and no transaction is open, everything
    /// received so far may be reported as flushed.
    fn idle_flush_candidate(&self) -> Option<Lsn> {
        (self.all_committed && self.tx.is_none()).then_some(self.processed)
    }
}

fn base64_std(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn base64_url(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE.encode(b)
}

/// Starts pgoutput streaming on the replication connection.
async fn start_streaming(
    repl: ReplicationClient,
    settings: &Settings,
    start: Lsn,
) -> Result<ReplicationStream> {
    let pubnames = format!("\"{}\"", settings.publication.replace('"', "\"\""));
    repl.start_logical_replication(
        &settings.slot,
        start,
        &[
            ("proto_version", "1"),
            ("publication_names", pubnames.as_str()),
            ("messages", "true"),
        ],
    )
    .await
    .map_err(ConnectError::from)
}

/// Whether a stored offset says the snapshot finished (Debezium: an offset
/// with `snapshot` set but not `last_snapshot_record` is mid-snapshot).
fn snapshot_completed(o: &SourceOffset) -> bool {
    !o.contains_key("snapshot")
        || o.get("last_snapshot_record").and_then(Json::as_bool) == Some(true)
        || o.get("snapshot_completed").and_then(Json::as_bool) == Some(true)
}

/// (take a snapshot now, stream afterwards) per `snapshot.mode`.
fn snapshot_decision(
    s: &SnapshotSettings,
    stored: Option<&SourceOffset>,
    slot_exists: bool,
) -> (bool, bool) {
    let incomplete = stored.is_none_or(|o| !snapshot_completed(o));
    let position_lost = stored.is_some() && !slot_exists;
    match s.mode.as_str() {
        "no_data" | "never" => (false, true),
        "always" => (true, true),
        "initial_only" => (incomplete, false),
        "when_needed" => (incomplete || position_lost, true),
        "configuration_based" => (
            s.cb_data && (incomplete || (s.cb_on_data_error && position_lost)),
            s.cb_stream,
        ),
        _ => (incomplete, true),
    }
}

/// The tables the snapshot reads (captured by the filters and
/// `snapshot.include.collection.list`), as Relation-like descriptions built
/// from the catalog, and the column list of each.
async fn snapshot_tables(query: &Client, settings: &Settings) -> Result<SnapshotTables> {
    let rows = query
        .query(
            "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relreplident::text, \
             array_agg(a.attname::text ORDER BY a.attnum), array_agg(a.atttypid::int8 ORDER BY a.attnum), \
             array_agg(a.atttypmod ORDER BY a.attnum) \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' \
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
             GROUP BY c.oid, n.nspname, c.relname, c.relreplident ORDER BY n.nspname, c.relname",
            &[],
        )
        .await
        .map_err(|e| catalog::pg_error("listing the tables to snapshot", e))?;
    let mut relations = Vec::new();
    let mut tables = Vec::new();
    let mut columns = HashMap::new();
    let mut binary = std::collections::HashSet::new();
    for row in rows {
        let (schema, name): (String, String) = (row.get(1), row.get(2));
        if !settings.filters.includes_table(&schema, &name) {
            continue;
        }
        let full = format!("{schema}.{name}");
        if !settings.snapshot.include.is_empty()
            && !settings.snapshot.include.iter().any(|r| r.is_match(&full))
        {
            continue;
        }
        let names: Vec<String> = row.get(4);
        let types: Vec<i64> = row.get(5);
        let mods: Vec<i32> = row.get(6);
        let ident: String = row.get(3);
        let relation = Relation {
            oid: row.get::<_, i64>(0) as u32,
            namespace: schema.clone(),
            name: name.clone(),
            replica_identity: crate::pgoutput::ReplicaIdentity::from_byte(
                ident.bytes().next().unwrap_or(b'd'),
            )
            .unwrap_or(crate::pgoutput::ReplicaIdentity::Default),
            columns: names
                .iter()
                .zip(types.iter().zip(mods.iter()))
                .map(|(n, (t, m))| crate::pgoutput::RelationColumn {
                    is_key: false,
                    name: n.clone(),
                    type_oid: *t as u32,
                    type_modifier: *m,
                })
                .collect(),
        };
        let id = TableId::new(schema, name);
        if types.iter().all(|t| crate::types::reads_binary(*t as u32)) {
            binary.insert(id.clone());
        }
        columns.insert(id.clone(), names);
        tables.push(id);
        relations.push(relation);
    }
    Ok((relations, tables, columns, binary))
}

/// The tables to snapshot: their relations, ids, column names, and which
/// are read with binary `COPY`.
type SnapshotTables = (
    Vec<Relation>,
    Vec<TableId>,
    HashMap<TableId, Vec<String>>,
    std::collections::HashSet<TableId>,
);

impl PostgresTask {
    /// Starts the periodic slot check once the slot exists.
    fn start_monitor(&mut self, context: &SourceTaskContext) {
        if let Some(r) = self.running.as_mut() {
            r.metrics.set_connected(!matches!(r.phase, Phase::Done));
            r.monitor = crate::slots::SlotMonitor::start(
                r.settings.connect.clone(),
                r.settings.slot.clone(),
                context.connector_name.clone(),
                r.settings.slot_monitor.clone(),
                context.reporter.clone(),
            );
        }
    }
}

#[async_trait]
impl SourceTask for PostgresTask {
    async fn start(&mut self, context: SourceTaskContext) -> Result<()> {
        let settings = parse_settings(&context.config)?;
        let query = catalog::connect(&settings.connect, "sluice").await?;
        let version: i32 = query
            .query_one("SELECT current_setting('server_version_num')::int", &[])
            .await
            .map_err(|e| catalog::pg_error("reading the server version", e))?
            .get(0);
        if version < 100000 {
            return Err(ConnectError::unsupported(format!(
                "PostgreSQL {version} is too old: pgoutput needs PostgreSQL 10 or later"
            )));
        }
        let wal_level: String = query
            .query_one("SHOW wal_level", &[])
            .await
            .map_err(|e| catalog::pg_error("reading wal_level", e))?
            .get(0);
        if wal_level != "logical" {
            return Err(ConnectError::config(format!(
                "the server's wal_level is '{wal_level}': set wal_level = logical in postgresql.conf and restart PostgreSQL"
            )));
        }
        ensure_publication(&query, &settings).await?;

        let mut registry = TypeRegistry::builtin();
        let rows = query
            .query(TypeRegistry::CATALOG_QUERY, &[])
            .await
            .map_err(|e| catalog::pg_error("reading the type catalog", e))?;
        registry
            .add_catalog_rows(&rows)
            .map_err(|e| ConnectError::protocol(e.to_string()))?;

        let partition: SourcePartition = Arc::new(
            json!({"server": settings.topic_prefix})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let stored = context.offsets.offset(&partition);

        let repl_config = ReplicationConfig {
            host: settings.connect.host.clone(),
            port: settings.connect.port,
            user: settings.connect.user.clone(),
            password: settings.connect.password.clone(),
            dbname: settings.connect.dbname.clone(),
            sslmode: settings.connect.sslmode,
            ssl_root_cert: settings.connect.ssl_root_cert.clone(),
            application_name: format!("sluice-{}", settings.slot),
            connect_timeout: Duration::from_secs(30),
        };
        let mut repl = ReplicationClient::connect(&repl_config)
            .await
            .map_err(ConnectError::from)?;
        let slot = query
            .query_opt(
                "SELECT plugin::text, database::text, confirmed_flush_lsn::text FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
                &[&settings.slot],
            )
            .await
            .map_err(|e| catalog::pg_error("looking up the replication slot", e))?;
        if let Some(row) = &slot {
            let plugin: Option<String> = row.get(0);
            let db: Option<String> = row.get(1);
            if plugin.as_deref() != Some("pgoutput")
                || db.as_deref() != Some(settings.connect.dbname.as_str())
            {
                return Err(ConnectError::config(format!(
                    "slot.name: replication slot '{}' exists but uses plugin {:?} on database {:?}; sluice needs a pgoutput slot on '{}'",
                    settings.slot, plugin, db, settings.connect.dbname
                )));
            }
        }
        // A slot the server invalidated (wal_status=lost) cannot stream: drop
        // it and start from a new one when a new snapshot is due anyway
        // (snapshot.mode=when_needed, or nothing stored yet); otherwise say so.
        let slot = match slot {
            Some(row) => match crate::slots::is_lost(&query, &settings.slot).await? {
                Some(lost)
                    if stored.is_none()
                        || snapshot_decision(&settings.snapshot, stored.as_ref(), false).0 =>
                {
                    tracing::warn!(slot = %settings.slot, "{}: dropping it; a new slot and a new snapshot follow", lost.message);
                    query
                        .execute(
                            "SELECT pg_catalog.pg_drop_replication_slot($1)",
                            &[&settings.slot],
                        )
                        .await
                        .map_err(|e| {
                            catalog::pg_error("dropping the invalidated replication slot", e)
                        })?;
                    None
                }
                Some(lost) => return Err(crate::slots::lost_error(&lost)),
                None => Some(row),
            },
            None => None,
        };
        let (do_snapshot, then_stream) =
            snapshot_decision(&settings.snapshot, stored.as_ref(), slot.is_some());
        let mut snapshot_name: Option<String> = None;
        let mut holder: Option<Client> = None;
        let confirmed: Lsn = match &slot {
            Some(row) => row
                .get::<_, Option<String>>(2)
                .and_then(|l| l.parse().ok())
                .unwrap_or_default(),
            None => {
                let action = if do_snapshot {
                    SnapshotAction::Export
                } else {
                    SnapshotAction::NoExport
                };
                let created = repl
                    .create_logical_slot(&settings.slot, "pgoutput", false, action)
                    .await
                    .map_err(ConnectError::from)?;
                tracing::info!(slot = %settings.slot, consistent_point = %created.consistent_point, snapshot = ?created.snapshot_name, "created replication slot");
                snapshot_name = created.snapshot_name;
                created.consistent_point
            }
        };
        let common = CommonSchemas::new(!matches!(settings.types.binary, BinaryHandling::Bytes));
        let source = SourceFields {
            name: Text::from(&settings.topic_prefix),
            db: Text::from(&settings.connect.dbname),
        };

        if do_snapshot {
            if !settings.snapshot.delay.is_zero() {
                tokio::time::sleep(settings.snapshot.delay).await;
            }
            let snapshot_lsn = confirmed;
            if snapshot_name.is_none() {
                // The slot already exists (a snapshot that did not finish,
                // snapshot.mode=always, …): export a fresh snapshot from a
                // transaction kept open for the readers. Streaming then starts
                // at the slot's position, before this snapshot: changes in
                // between arrive again (at-least-once), none is lost.
                let client = catalog::connect(&settings.connect, "sluice-snapshot-holder").await?;
                client
                    .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
                    .map_err(|e| catalog::pg_error("opening the snapshot transaction", e))?;
                let name: String = client
                    .query_one("SELECT pg_catalog.pg_export_snapshot()", &[])
                    .await
                    .map_err(|e| catalog::pg_error("exporting a snapshot", e))?
                    .get(0);
                snapshot_name = Some(name);
                holder = Some(client);
            }
            let snapshot_name = snapshot_name.expect("set above");
            let (relations, tables, columns, binary) = snapshot_tables(&query, &settings).await?;
            tracing::info!(tables = tables.len(), snapshot = %snapshot_name, "starting the initial snapshot");
            let mut relation_map = HashMap::new();
            let mut oids = Vec::with_capacity(relations.len());
            for rel in relations {
                oids.push(rel.oid);
                relation_map.insert(rel.oid, rel);
            }
            let dialect = crate::snapshot::PgSnapshotDialect::new(
                settings.connect.clone(),
                snapshot_name,
                columns,
                settings.snapshot.overrides.clone(),
                binary,
            );
            let progress = Arc::new(SnapshotProgress::new());
            let options = SnapshotOptions {
                threads: settings.snapshot.threads,
                chunk_rows: settings.snapshot.chunk_rows,
                batch_rows: settings.snapshot.fetch_size.min(settings.max_batch),
                max_bytes: settings.max_queue_bytes,
            };
            let table_count = tables.len();
            let stream = sluice_snapshot::start_snapshot(
                Arc::new(dialect),
                tables,
                options,
                progress.clone(),
            );
            let reporter = sluice_snapshot::progress::spawn_reporter(
                progress.clone(),
                context.connector_name.clone(),
            );
            let phase = Phase::Snapshot(Box::new(SnapshotPhase {
                stream,
                markers: MarkerTracker::new(table_count),
                oids,
                repl: Some(repl),
                _holder: holder,
                then_stream,
                blocking: false,
                lsn: snapshot_lsn.0,
                ts_us: now_us(),
                source_memo: None,
                progress,
                reporter,
                reporter_sink: context.reporter.clone(),
                last_report: Instant::now(),
            }));
            self.running = Some(Running::new(RunningInit {
                settings,
                query,
                stream: None,
                phase,
                registry,
                relations: relation_map,
                common,
                source,
                partition,
                position: confirmed,
                last_commit_end: None,
                resume: None,
            }));
            self.start_monitor(&context);
            return Ok(());
        }

        let (start_lsn, resume) = match &stored {
            Some(o) if !o.contains_key("snapshot") => {
                let start = offset_u64(o, "lsn_commit").map(Lsn).unwrap_or_default();
                let resume = match (o.get("txId").and_then(Json::as_u64), offset_u64(o, "lsn")) {
                    (Some(xid), Some(lsn))
                        if o.get("messageType").and_then(Json::as_str) != Some("COMMIT") =>
                    {
                        Some(ResumePoint {
                            xid: xid as u32,
                            lsn,
                            events_at_lsn: offset_u64(o, "lsn_events_processed")
                                .unwrap_or(u64::MAX),
                        })
                    }
                    _ => None,
                };
                (start, resume)
            }
            _ => (Lsn(0), None),
        };
        let (stream, phase) = if then_stream {
            tracing::info!(slot = %settings.slot, start = %start_lsn, confirmed_flush = %confirmed, resume = ?resume, "starting replication");
            (
                Some(start_streaming(repl, &settings, start_lsn).await?),
                Phase::Streaming,
            )
        } else {
            tracing::info!("the snapshot is complete and snapshot.mode asks for no streaming");
            (None, Phase::Done)
        };
        let flushed = confirmed.max(start_lsn);
        self.running = Some(Running::new(RunningInit {
            settings,
            query,
            stream,
            phase,
            registry,
            relations: HashMap::new(),
            common,
            source,
            partition,
            position: flushed,
            last_commit_end: stored.as_ref().and_then(|o| offset_u64(o, "lsn_commit")),
            resume,
        }));
        if let (Some(r), Some(o)) = (self.running.as_mut(), stored.as_ref()) {
            if !o.contains_key("snapshot") {
                // An incremental snapshot in progress resumes at its last chunk.
                let state = crate::incremental::IncState::from_offset(o);
                if state.is_active() {
                    tracing::info!(
                        tables = state.tables.len(),
                        "resuming the incremental snapshot"
                    );
                }
                r.set_inc_state(state);
            }
        }
        self.start_monitor(&context);
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let r = self
            .running
            .as_mut()
            .ok_or_else(|| ConnectError::internal("poll before start"))?;
        if let Some(monitor) = r.monitor.as_mut() {
            let streaming = matches!(r.phase, Phase::Streaming);
            if let crate::slots::Verdict::Pause = monitor.check(streaming, r.all_committed)? {
                return r.poll_paused().await;
            }
        }
        match r.phase {
            Phase::Snapshot(_) => {
                let out = r.poll_snapshot().await?;
                r.metrics.events(true, out.len());
                return Ok(out);
            }
            Phase::Done => {
                tokio::time::sleep(r.settings.poll_interval).await;
                return Ok(Vec::new());
            }
            Phase::Streaming => {}
        }
        let deadline = tokio::time::Instant::now() + r.settings.poll_interval;
        let mut out = Vec::with_capacity(r.settings.max_batch.min(4096));
        r.read_signal_file(&mut out).await?;
        loop {
            let Some(stream) = r.stream.as_mut() else {
                return Err(ConnectError::internal(
                    "streaming without a replication stream",
                ));
            };
            let next = match stream.try_next_buffered().map_err(ConnectError::from)? {
                Some(m) => Some(m),
                None => {
                    // At a transaction boundary with records in hand: hand
                    // them over now (latency) rather than wait for more.
                    if !out.is_empty() && r.tx.is_none() {
                        break;
                    }
                    match tokio::time::timeout_at(deadline, stream.next()).await {
                        Err(_) => break,
                        Ok(m) => m.map_err(ConnectError::from)?,
                    }
                }
            };
            match next {
                None => {
                    return Err(ConnectError::new(
                        ErrorKind::Connection,
                        "the server ended the replication stream",
                    ));
                }
                Some(ReplicationMessage::XLogData {
                    wal_start,
                    wal_end,
                    data,
                    ..
                }) => {
                    r.last_received = r.last_received.max(wal_end).max(wal_start);
                    match r.handle(wal_start, data, &mut out).await {
                        // A change that cannot become an event:
                        // event.processing.failure.handling.mode decides.
                        Err(e)
                            if e.kind() == ErrorKind::Data && r.settings.failure_mode != "fail" =>
                        {
                            if r.settings.failure_mode == "warn" {
                                tracing::warn!(lsn = %wal_start, "skipping a change that cannot be processed (event.processing.failure.handling.mode=warn): {e}");
                            }
                        }
                        other => other?,
                    }
                }
                Some(ReplicationMessage::PrimaryKeepalive {
                    wal_end,
                    reply_requested,
                    ..
                }) => {
                    r.last_received = r.last_received.max(wal_end);
                    if r.tx.is_none() {
                        r.processed = r.processed.max(wal_end);
                    }
                    if let Some(candidate) = r.idle_flush_candidate() {
                        r.flushed = r.flushed.max(candidate);
                    }
                    if reply_requested {
                        r.send_status(false).await?;
                    }
                }
            }
            if out.len() >= r.settings.max_batch {
                break;
            }
        }
        if let Some(interval) = r.settings.heartbeat_interval {
            if r.tx.is_none() && r.last_heartbeat.elapsed() >= interval {
                r.last_heartbeat = Instant::now();
                if let Some(q) = r.settings.heartbeat_query.clone() {
                    if let Err(e) = r.query.batch_execute(&q).await {
                        tracing::warn!("heartbeat.action.query failed: {e}");
                    }
                }
                let hb = r.heartbeat_record();
                r.push(&mut out, hb);
            }
        }
        r.maybe_next_chunk().await?;
        r.finish_batch(&mut out);
        r.maybe_start_blocking().await?;
        if r.last_status.elapsed() >= r.settings.status_interval {
            r.send_status(false).await?;
        }
        r.metrics.events(false, out.len());
        Ok(out)
    }

    fn commit_promptly(&mut self) -> bool {
        // The end of a snapshot: committing it late risks doing it again.
        self.running
            .as_mut()
            .is_some_and(|r| std::mem::take(&mut r.commit_promptly))
    }

    async fn commit(&mut self, committed: &[(SourcePartition, SourceOffset)]) -> Result<()> {
        let Some(r) = self.running.as_mut() else {
            return Ok(());
        };
        let Some((_, offset)) = committed.iter().find(|(p, _)| **p == *r.partition) else {
            return Ok(());
        };
        tracing::debug!(?offset, last_emitted = ?r.last_emitted, in_tx = r.tx.is_some(), processed = %r.processed, "offsets committed");
        if let Some(c) = offset_u64(offset, "lsn_commit") {
            r.flushed = r.flushed.max(Lsn(c));
        }
        if r.last_emitted.as_ref() == Some(offset) {
            r.all_committed = true;
            if let Some(candidate) = r.idle_flush_candidate() {
                r.flushed = r.flushed.max(candidate);
            }
        }
        r.send_status(false).await
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(r) = self.running.take() {
            if let Some(monitor) = &r.monitor {
                monitor.stop();
            }
            r.metrics.remove();
            let slot = r.settings.slot.clone();
            let drop_slot = r.settings.drop_slot_on_stop;
            let query = r.query;
            if let Some(stream) = r.stream {
                if let Err(e) = stream.stop().await {
                    tracing::debug!("ending the replication stream: {e}");
                }
            }
            if let Phase::Snapshot(snap) = r.phase {
                snap.progress.aborted();
                snap.reporter.abort();
            }
            if drop_slot {
                tracing::info!(slot = %slot, "dropping the replication slot (slot.drop.on.stop=true)");
                for _ in 0..20 {
                    match query
                        .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
                        .await
                    {
                        Ok(_) => break,
                        Err(e) => {
                            tracing::debug!("dropping slot: {e}");
                            tokio::time::sleep(Duration::from_millis(250)).await;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
