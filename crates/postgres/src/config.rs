//! The PostgreSQL connector's configuration keys: Debezium's names, defaults
//! and enumerations, declared once.

use sluice_connect_api::config::Props;
use sluice_connect_api::{ConfigDef, ConfigKey, ConfigType, ConfigValues, Importance, Validator};

pub const CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";

fn k(name: &str, ty: ConfigType) -> ConfigKey {
    ConfigKey::new(name, ty)
}

fn valid_slot_name(v: &sluice_connect_api::ConfigValue) -> Result<(), String> {
    if let sluice_connect_api::ConfigValue::String(s) = v {
        if s.is_empty()
            || s.len() > 63
            || !s
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err("Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63".into());
        }
    }
    Ok(())
}

/// Every key the PostgreSQL connector implements.
pub fn config_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    ConfigDef::new()
        .define(k("database.hostname", String).importance(High).validator(Validator::NonEmptyString).doc("Resolvable hostname or IP address of the database server."))
        .define(k("database.port", Int).default("5432").validator(Validator::between(1, 65535)).importance(High).doc("Port of the database server."))
        .define(k("database.user", String).importance(High).validator(Validator::NonEmptyString).doc("Name of the database user to be used when connecting to the database."))
        .define(k("database.password", Password).optional().importance(High).doc("Password of the database user to be used when connecting to the database."))
        .define(k("database.dbname", String).importance(High).validator(Validator::NonEmptyString).doc("The name of the database from which the connector should capture changes."))
        .define(k("database.sslmode", String).default("prefer").validator(Validator::OneOf(&["disable", "prefer", "require", "verify-ca", "verify-full"])).importance(Medium).doc("Whether to use an encrypted connection: disable, prefer, require, verify-ca or verify-full."))
        .define(k("database.sslrootcert", String).optional().importance(Low).doc("File containing the root certificate(s) against which the server is validated (verify-ca, verify-full)."))
        .define(k("database.tcpKeepAlive", Boolean).default("true").importance(Low).doc("Enable TCP keep-alive probes."))
        .define(k("topic.prefix", String).importance(High).validator(Validator::Custom(valid_topic_prefix)).doc("Topic prefix that identifies this database server; the prefix of every topic the connector writes."))
        .define(k("plugin.name", String).default("pgoutput").validator(Validator::OneOf(&["pgoutput", "decoderbufs"])).importance(Medium).doc("The logical decoding plugin. sluice implements pgoutput (decoderbufs is rejected with a message)."))
        .define(k("slot.name", String).default("debezium").validator(Validator::Custom(valid_slot_name)).importance(Medium).doc("The name of the logical decoding slot."))
        .define(k("slot.drop.on.stop", Boolean).default("false").importance(Low).doc("Drop the slot when the connector stops cleanly (for testing only: changes made while stopped are lost)."))
        .define(k("publication.name", String).default("dbz_publication").importance(Low).doc("The name of the PostgreSQL publication created for streaming changes when using pgoutput."))
        .define(k("publication.autocreate.mode", String).default("all_tables").validator(Validator::OneOf(&["all_tables", "disabled", "filtered", "no_tables"])).importance(Low).doc("all_tables: create the publication FOR ALL TABLES if missing; filtered: for the tables the filters select; no_tables: an empty publication; disabled: the publication must exist."))
        .define(k("schema.include.list", List).default("").importance(Medium).doc("Regular expressions matching schema names to capture (comma-separated); excludes all others."))
        .define(k("schema.exclude.list", List).default("").importance(Medium).doc("Regular expressions matching schema names not to capture."))
        .define(k("table.include.list", List).default("").importance(Medium).doc("Regular expressions matching fully-qualified table names (schema.table) to capture."))
        .define(k("table.exclude.list", List).default("").importance(Medium).doc("Regular expressions matching fully-qualified table names not to capture."))
        .define(k("column.include.list", List).default("").importance(Medium).doc("Regular expressions matching fully-qualified column names (schema.table.column) to include in change events."))
        .define(k("column.exclude.list", List).default("").importance(Medium).doc("Regular expressions matching fully-qualified column names to exclude from change events."))
        .define(k("message.key.columns", String).optional().importance(Low).doc("Custom keys: <schema>.<table>:<col>,<col>;… replacing the primary key in event keys."))
        .define(k("tombstones.on.delete", Boolean).default("true").importance(Medium).doc("Emit a tombstone (null value) after each delete event."))
        .define(k("skipped.operations", List).default("t").validator(Validator::EachOneOf(&["c", "u", "d", "t", "none"])).importance(Low).doc("Operations not to emit: c (inserts), u (updates), d (deletes), t (truncates), none."))
        .define(k("decimal.handling.mode", String).default("precise").validator(Validator::OneOf(&["precise", "double", "string"])).importance(Medium).doc("How DECIMAL/NUMERIC columns are represented: precise (Decimal), double or string."))
        .define(k("time.precision.mode", String).default("adaptive").validator(Validator::OneOf(&["adaptive", "adaptive_time_microseconds", "connect"])).importance(Medium).doc("Temporal types: adaptive, adaptive_time_microseconds or connect."))
        .define(k("binary.handling.mode", String).default("bytes").validator(Validator::OneOf(&["bytes", "base64", "base64-url-safe", "hex"])).importance(Low).doc("How binary columns are represented: bytes, base64, base64-url-safe or hex."))
        .define(k("interval.handling.mode", String).default("numeric").validator(Validator::OneOf(&["numeric", "string"])).importance(Low).doc("Intervals as numeric microseconds (MicroDuration) or ISO-8601 strings (Interval)."))
        .define(k("hstore.handling.mode", String).default("json").validator(Validator::OneOf(&["json", "map"])).importance(Low).doc("hstore columns as a JSON string or a map."))
        .define(k("money.fraction.digits", Int).default("2").importance(Low).doc("Number of fractional digits of money values when decimal.handling.mode=precise."))
        .define(k("include.unknown.datatypes", Boolean).default("false").importance(Low).doc("Emit columns of types sluice does not know as raw bytes instead of leaving them out."))
        .define(k("unavailable.value.placeholder", String).default("__debezium_unavailable_value").importance(Low).doc("Value emitted for unchanged TOASTed columns that the server did not send."))
        .define(k("snapshot.mode", String).default("initial").validator(Validator::OneOf(&["initial", "no_data", "never", "always", "initial_only", "when_needed", "configuration_based", "custom", "recovery"])).importance(Medium).doc("When to take the initial snapshot: initial (when there is no complete one yet), always (at every start), initial_only (snapshot, then stop), no_data / never (stream only), when_needed (also when the stored position is no longer in the slot), configuration_based (the snapshot.mode.configuration.based.* keys). custom and recovery are rejected."))
        .define(k("snapshot.mode.configuration.based.snapshot.data", Boolean).default("false").importance(Low).doc("configuration_based: take a data snapshot."))
        .define(k("snapshot.mode.configuration.based.snapshot.schema", Boolean).default("false").importance(Low).doc("configuration_based: accepted; table schemas are always read from the catalog."))
        .define(k("snapshot.mode.configuration.based.start.stream", Boolean).default("false").importance(Low).doc("configuration_based: stream changes after the snapshot."))
        .define(k("snapshot.mode.configuration.based.snapshot.on.schema.error", Boolean).default("false").importance(Low).doc("configuration_based: accepted for compatibility."))
        .define(k("snapshot.mode.configuration.based.snapshot.on.data.error", Boolean).default("false").importance(Low).doc("configuration_based: snapshot again when the stored position is no longer available in the slot."))
        .define(k("snapshot.include.collection.list", List).default("").importance(Medium).doc("Regular expressions matching fully-qualified table names to include in the snapshot (of those the filters capture)."))
        .define(k("snapshot.select.statement.overrides", List).default("").importance(Low).doc("Tables (schema.table) whose snapshot uses the SELECT given in snapshot.select.statement.overrides.<schema>.<table>."))
        .define(k("snapshot.fetch.size", Int).default("10240").validator(Validator::at_least(1)).importance(Medium).doc("Rows per batch read by the snapshot."))
        .define(k("snapshot.max.threads", Int).default("1").validator(Validator::at_least(1)).importance(Medium).doc("Readers that read the chunks of a table in parallel (all inside one consistent snapshot)."))
        .define(k("snapshot.chunk.rows", Long).default("100000").validator(Validator::at_least(1)).importance(Low).doc("sluice: target rows per chunk; larger tables are split into page ranges read in parallel."))
        .define(k("snapshot.delay.ms", Long).default("0").validator(Validator::at_least(0)).importance(Low).doc("Wait this long before starting the snapshot."))
        .define(k("snapshot.isolation.mode", String).default("serializable").validator(Validator::OneOf(&["serializable", "repeatable_read", "read_committed", "read_uncommitted"])).importance(Low).doc("Accepted; sluice always reads inside the slot's exported snapshot (REPEATABLE READ), which is consistent without table locks."))
        .define(k("snapshot.lock.timeout.ms", Long).default("10000").validator(Validator::at_least(0)).importance(Low).doc("Accepted; sluice takes no table locks for the snapshot."))
        .define(k("heartbeat.interval.ms", Int).default("0").validator(Validator::at_least(0)).importance(Medium).doc("How often a heartbeat record is emitted (0 = never); lets the slot advance on an idle database."))
        .define(k("heartbeat.action.query", String).optional().importance(Low).doc("A statement run on the source database at every heartbeat (e.g. an UPDATE on a heartbeat table), so an idle database still produces WAL for this slot."))
        .define(k("topic.heartbeat.prefix", String).default("__debezium-heartbeat").importance(Low).doc("Prefix of the heartbeat topic: <prefix>.<topic.prefix>."))
        .define(k("topic.transaction", String).default("transaction").importance(Low).doc("Suffix of the transaction metadata topic: <topic.prefix>.<suffix>."))
        .define(k("topic.delimiter", String).default(".").importance(Low).doc("Delimiter between topic name parts."))
        .define(k("provide.transaction.metadata", Boolean).default("false").importance(Low).doc("Emit BEGIN/END events on <topic.prefix>.transaction and fill the transaction block of change events."))
        .define(k("status.update.interval.ms", Int).default("10000").validator(Validator::at_least(0)).importance(Low).doc("How often the connector reports its committed (flushed) position to the server."))
        .define(k("database.initial.statements", String).optional().importance(Low).doc("Statements (semicolon-separated) run when a query connection is opened."))
        .define(k("slot.max.retries", Int).default("6").validator(Validator::at_least(0)).importance(Low).doc("How many times to retry connecting to a replication slot that is in use."))
        .define(k("slot.retry.delay.ms", Long).default("10000").validator(Validator::at_least(0)).importance(Low).doc("Delay between those retries."))
        .define(k("schema.refresh.mode", String).default("columns_diff").validator(Validator::OneOf(&["columns_diff", "columns_diff_exclude_unchanged_toast"])).importance(Low).doc("When table schemas are refreshed: on every Relation message whose columns differ."))
        .define(k("message.prefix.include.list", List).default("").importance(Low).doc("Prefixes of logical decoding messages to capture (regular expressions)."))
        .define(k("message.prefix.exclude.list", List).default("").importance(Low).doc("Prefixes of logical decoding messages not to capture."))
        .define(k("event.processing.failure.handling.mode", String).default("fail").validator(Validator::OneOf(&["fail", "warn", "skip", "ignore"])).importance(Low).doc("A change that cannot be turned into an event (e.g. a value the type mapping refuses): fail stops the task with the cause; warn logs it with its position and skips it; skip (or ignore) skips it silently."))
        .define(k("schema.name.adjustment.mode", String).default("none").validator(Validator::OneOf(&["none", "avro", "avro_unicode"])).importance(Low).doc("How schema names are adjusted for Avro compatibility."))
        .define(k("field.name.adjustment.mode", String).default("none").validator(Validator::OneOf(&["none", "avro", "avro_unicode"])).importance(Low).doc("How field names are adjusted for Avro compatibility."))
        .define(k("signal.data.collection", String).optional().importance(Low).doc("The signal table (<schema>.<table>, columns id, type, data): INSERTs into it are signals (execute-snapshot, stop-snapshot, pause-snapshot, resume-snapshot, log); incremental snapshots write their watermarks to it. It must be captured by the publication."))
        .define(k("signal.enabled.channels", List).default("source").validator(Validator::EachOneOf(&["source", "file", "kafka", "jmx"])).importance(Low).doc("Where signals come from: source (the signal table) and file (signal.file); kafka and jmx are not implemented."))
        .define(k("signal.file", String).default("file-signals.txt").importance(Low).doc("The signal file of the file channel: one JSON signal per line ({\"id\", \"type\", \"data\"}), read as lines are appended."))
        .define(k("signal.poll.interval.ms", Long).default("5000").validator(Validator::at_least(0)).importance(Low).doc("Accepted for compatibility; the signal file is checked at every poll."))
        .define(k("incremental.snapshot.chunk.size", Int).default("1024").validator(Validator::at_least(1)).importance(Medium).doc("Rows per chunk of an incremental snapshot."))
        .define(k("incremental.snapshot.watermarking.strategy", String).default("insert_insert").validator(Validator::OneOf(&["insert_insert"])).importance(Low).doc("How watermarks are written: insert_insert (an open and a close row per chunk)."))
        .define(k("slot.lag.warn.bytes", Long).default("1073741824").validator(Validator::at_least(-1)).importance(Medium).doc("sluice: replication-slot lag (bytes of WAL between the server's current position and the slot's confirmed_flush_lsn) over which the slot's health is 'warning' and a warning is logged; -1 turns the warning off. See docs/monitoring.md."))
        .define(k("slot.lag.fail.bytes", Long).default("-1").validator(Validator::at_least(-1)).importance(Medium).doc("sluice: slot lag over which the slot's health is 'critical': with slot.lag.pause.on.fail=true the connector stops reading the slot until the lag is back under slot.lag.warn.bytes, otherwise the task fails; -1 (the default) turns it off."))
        .define(k("slot.lag.check.interval.ms", Long).default("10000").validator(Validator::at_least(0)).importance(Low).doc("sluice: how often the running connector checks its replication slot (on a separate query connection) and publishes the result as the task detail 'slot' and as metrics; 0 turns the check off."))
        .define(k("slot.lag.pause.on.fail", Boolean).default("true").importance(Low).doc("sluice: when the slot lag is over slot.lag.fail.bytes, true pauses reading (the replication connection stays open, nothing is acknowledged to the server beyond what is committed) until the lag is back under slot.lag.warn.bytes; false fails the task."))
        .define(k("flush.lsn.source", Boolean).default("true").importance(Low).doc("Report committed positions to the server (confirmed_flush_lsn); false leaves the slot to an external process."))
}

fn valid_topic_prefix(v: &sluice_connect_api::ConfigValue) -> Result<(), String> {
    if let sluice_connect_api::ConfigValue::String(s) = v {
        if s.is_empty() {
            return Err("topic.prefix must not be empty".into());
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!("topic.prefix has an invalid character '{c}' (use letters, digits, '.', '_' and '-')"));
        }
    }
    Ok(())
}

/// Debezium keys sluice knows but does not implement yet: validation names
/// them so a user knows their setting has no effect.
pub const NOT_IMPLEMENTED: &[&str] = &[
    "snapshot.locking.mode",
    "replica.identity.autoset.values",
    "slot.stream.params",
    "slot.failover",
    "publish.via.partition.root",
    "column.mask.hash",
    "column.propagate.source.type",
    "datatype.propagate.source.type",
    "converters",
    "custom.metric.tags",
    "read.only",
    "xmin.fetch.interval.ms",
    "lsn.flush.mode",
    "offset.mismatch.strategy",
];

/// Cross-key checks that the declarations cannot express.
pub fn extra_issues(props: &Props, values: Option<&ConfigValues>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(v) = values {
        if v.get_string("plugin.name")
            .is_some_and(|p| p.eq_ignore_ascii_case("decoderbufs"))
        {
            out.push(("plugin.name".into(), "sluice implements only the pgoutput plugin (built into PostgreSQL 10+); set plugin.name=pgoutput".into()));
        }
        if let Some(mode) = v.get_string("snapshot.mode") {
            if matches!(mode.to_ascii_lowercase().as_str(), "custom" | "recovery") {
                out.push((
                    "snapshot.mode".into(),
                    format!("snapshot.mode={mode} is not implemented by sluice; use initial, always, initial_only, no_data, when_needed or configuration_based"),
                ));
            }
        }
    }
    if let Some(keys) = props.get("message.key.columns") {
        if let Err(e) = crate::filters::parse_message_key_columns(keys) {
            out.push(("message.key.columns".into(), e));
        }
    }
    for key in [
        "schema.include.list",
        "schema.exclude.list",
        "table.include.list",
        "table.exclude.list",
        "column.include.list",
        "column.exclude.list",
    ] {
        if let Some(list) = props.get(key) {
            if let Err(e) = crate::filters::compile_list(list) {
                out.push((key.into(), e));
            }
        }
    }
    for (a, b) in [
        ("schema.include.list", "schema.exclude.list"),
        ("table.include.list", "table.exclude.list"),
        ("column.include.list", "column.exclude.list"),
    ] {
        if props.get(a).is_some_and(|s| !s.trim().is_empty())
            && props.get(b).is_some_and(|s| !s.trim().is_empty())
        {
            out.push((b.into(), format!("\"{a}\" is already specified")));
        }
    }
    out
}
