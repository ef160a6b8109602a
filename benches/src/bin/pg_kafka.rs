//! The PostgreSQL → Kafka benchmark: how fast does sluice deliver a
//! replication-slot backlog of N row changes to a Kafka-protocol broker, with
//! the JSON converter and with the Avro converter, compared with a bare
//! rdkafka producer sending the very same bytes to the same kind of broker?
//!
//! Run it with `./scripts/bench-kafka.sh [--rows N]` (docs/benchmarks.md
//! describes the method). It starts a throwaway PostgreSQL, creates one
//! pgoutput slot per contender *before* the backlog (so every run decodes the
//! same WAL), generates the backlog, drains it once with `pg_recvlogical` into
//! /dev/null (the source's own pace, for reference), then for each converter:
//!
//! 1. starts a fresh tansu broker (in-memory storage) and runs `sluice
//!    standalone` (the Kafka sink: sluice's idempotent producer, `acks=all`)
//!    from the slot to the topic `<prefix>.public.bench_rows` until the
//!    slot's `confirmed_flush_lsn` reaches the end of the backlog: sluice
//!    confirms a position only after every record before it has been
//!    acknowledged by the broker and its offset committed. (The topic's high
//!    watermark would be the natural finish line, but tansu 0.6's ListOffsets
//!    answer lags the end of the log by up to a batch, so it only serves
//!    for "first record on the broker" and the progress lines.)
//! 2. reads the records back (key, value, headers, timestamp) and checks
//!    that there are exactly N;
//! 3. replays them `--bare-runs` times, each time into a fresh broker, with a
//!    bare rdkafka `BaseProducer` configured with sluice's own producer
//!    defaults (`sluice_kafka::sink::PRODUCER_DEFAULTS`: `acks=all`,
//!    idempotence, `murmur2_random`, `linger.ms=5`, …) to a topic with the
//!    same partition count: the first record untimed (connection, producer
//!    id, metadata), then send + flush of the others, timed.
//!
//! The Avro run starts `sluice registry` first. Progress goes to stderr; one
//! JSON object with the results goes to stdout.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext, Message, Offset, TopicPartitionList};
use serde_json::{json, Map, Value};
use sluice_testkit::{PgServer, TansuServer};

use sluice_benches::pg::{create_schema, generate_backlog, start_postgres, Db, SlotPoller};
use sluice_benches::{
    bench_main, clock_ticks_per_second, fail, free_port, git_commit, log_tail, machine,
    machine_cpu, parse_count, proc_status_kb, progress, round, ChildGuard, Result, Ticks, DB, POLL,
    PUBLICATION, TABLE,
};

const SLOT_JSON: &str = "bench_kafka_json";
const SLOT_AVRO: &str = "bench_kafka_avro";
const SLOT_RECVLOGICAL: &str = "bench_kafka_recvlogical";
/// The ratio sluice / bare producer the issue asks for.
const TARGET_RATIO: f64 = 0.70;
/// The pause between starting a broker and a timed phase.
const SETTLE: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------
// Command line

struct Args {
    rows: u64,
    batch: u64,
    partitions: i32,
    bare_runs: usize,
    json: bool,
    avro: bool,
    recvlogical: bool,
    producer: Vec<(String, String)>,
    offset_flush_ms: u64,
    sluice: PathBuf,
    drain_timeout: Option<Duration>,
    work_dir: Option<PathBuf>,
}

const USAGE: &str = "\
usage: pg_kafka [--rows N] [--batch ROWS] [--partitions P] [--bare-runs K]
                [--no-json] [--no-avro] [--no-recvlogical] [--producer KEY=VALUE]...
                [--offset-flush-ms MS]
                [--sluice PATH] [--drain-timeout-s S] [--work-dir DIR]

  --rows N              row changes in the backlog (default 500000; 70% inserts, 30% updates)
  --batch ROWS          rows per generating transaction (default 50000)
  --partitions P        partitions of every topic, sluice's and the bare producer's (default 1)
  --bare-runs K         bare-producer replays per converter, each to a new topic (default 3;
                        the ratio is against their median)
  --no-json             skip the JsonConverter run
  --no-avro             skip the AvroConverter run
  --no-recvlogical      skip the reference drain of the backlog by pg_recvlogical to /dev/null
  --producer KEY=VALUE  a Java producer setting for both sides (sluice: producer.KEY in the
                        worker file; bare producer: the same key translated as sluice does)
  --offset-flush-ms MS  sluice's offset.flush.interval.ms (default 50): a run ends when the
                        slot confirms the end of the backlog, i.e. after the last commit
  --sluice PATH         the sluice binary (default: next to this program)
  --drain-timeout-s S   give up a run after S seconds (default 120 + N/2000)
  --work-dir DIR        keep configs and logs in DIR (default: a temporary directory)";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        rows: 500_000,
        batch: 50_000,
        partitions: 1,
        bare_runs: 3,
        json: true,
        avro: true,
        recvlogical: true,
        producer: Vec::new(),
        offset_flush_ms: 50,
        sluice: std::env::current_exe()?
            .parent()
            .map(|d| d.join("sluice"))
            .unwrap_or_else(|| PathBuf::from("sluice")),
        drain_timeout: None,
        work_dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}").into())
        };
        match flag.as_str() {
            "--rows" | "--changes" | "-n" => args.rows = parse_count(&value()?)?,
            "--batch" => args.batch = parse_count(&value()?)?.max(1),
            "--partitions" => args.partitions = parse_count(&value()?)?.clamp(1, 1000) as i32,
            "--bare-runs" => args.bare_runs = parse_count(&value()?)?.max(1) as usize,
            "--no-json" => args.json = false,
            "--no-avro" => args.avro = false,
            "--no-recvlogical" => args.recvlogical = false,
            "--producer" => {
                let v = value()?;
                let Some((k, val)) = v.split_once('=') else {
                    return fail(format!("--producer takes KEY=VALUE, got {v:?}"));
                };
                args.producer
                    .push((k.trim().to_string(), val.trim().to_string()));
            }
            "--offset-flush-ms" => args.offset_flush_ms = parse_count(&value()?)?,
            "--sluice" => args.sluice = PathBuf::from(value()?),
            "--drain-timeout-s" => {
                args.drain_timeout = Some(Duration::from_secs(parse_count(&value()?)?))
            }
            "--work-dir" => args.work_dir = Some(PathBuf::from(value()?)),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return fail(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.rows < 10 {
        return fail("--rows must be at least 10");
    }
    if !args.json && !args.avro {
        return fail("--no-json and --no-avro leave nothing to measure");
    }
    Ok(args)
}

// ---------------------------------------------------------------------------
// /proc readers

/// utime and stime of a process (all its threads), in clock ticks.
fn proc_cpu_user_sys(pid: u32) -> Option<(u64, u64)> {
    sluice_benches::proc_cpu_ticks(pid).map(|t| (t.user, t.sys))
}

/// Minor page faults of a process so far (`minflt`).
fn proc_minor_faults(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // rest starts at field 3 (state); minflt is field 10.
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// utime + stime of a process, in clock ticks.
fn proc_cpu_ticks(pid: u32) -> Option<u64> {
    sluice_benches::proc_cpu_ticks(pid).map(Ticks::total)
}

/// The machine's CPU use over `period`, in % of all CPUs.
fn machine_busy_pct_over(period: Duration) -> Option<f64> {
    let (b0, t0) = machine_cpu()?;
    std::thread::sleep(period);
    let (b1, t1) = machine_cpu()?;
    (t1 > t0).then(|| round(100.0 * (b1 - b0) as f64 / (t1 - t0) as f64, 1))
}

/// CPU readings at the start of a phase, turned into figures at its end.
struct CpuWatch {
    ticks_per_s: f64,
    machine: Option<(u64, u64)>,
    broker_pid: Option<u32>,
    broker: Option<u64>,
    me: Option<(u64, u64)>,
    faults: (Option<u64>, Option<u64>),
}

impl CpuWatch {
    fn start(ticks_per_s: f64, broker_pid: Option<u32>) -> CpuWatch {
        CpuWatch {
            ticks_per_s,
            machine: machine_cpu(),
            broker_pid,
            broker: broker_pid.and_then(proc_cpu_ticks),
            me: proc_cpu_user_sys(std::process::id()),
            faults: (
                broker_pid.and_then(proc_minor_faults),
                proc_minor_faults(std::process::id()),
            ),
        }
    }

    /// `broker_cpu_s` (tansu), `bench_cpu_s` (this program: its polling
    /// during a sluice run, the whole bare producer during a replay),
    /// `machine_cpu_busy_pct`, `machine_busy_cpu_s` (all CPUs) and
    /// `unaccounted_cpu_s`: the machine's busy time minus the broker, this
    /// program and `known_s` (sluice and the walsender) — other load on
    /// the machine (and PostgreSQL's background processes), a noise gauge.
    fn figures(&self, m: &mut Map<String, Value>, known_s: f64) {
        let secs = |t: u64| t as f64 / self.ticks_per_s;
        let machine = match (self.machine, machine_cpu()) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
                Some((100.0 * (b1 - b0) as f64 / (t1 - t0) as f64, secs(b1 - b0)))
            }
            _ => None,
        };
        let broker = match (self.broker, self.broker_pid.and_then(proc_cpu_ticks)) {
            (Some(a), Some(b)) => Some(secs(b.saturating_sub(a))),
            _ => None,
        };
        let me_user_sys = match (self.me, proc_cpu_user_sys(std::process::id())) {
            (Some(a), Some(b)) => {
                Some((secs(b.0.saturating_sub(a.0)), secs(b.1.saturating_sub(a.1))))
            }
            _ => None,
        };
        let me = me_user_sys.map(|(u, s)| u + s);
        let unaccounted =
            machine.map(|(_, busy)| busy - broker.unwrap_or(0.0) - me.unwrap_or(0.0) - known_s);
        let r2 = |x: Option<f64>| json!(x.map(|x| round(x, 2)));
        m.insert("broker_cpu_s".into(), r2(broker));
        m.insert("bench_cpu_s".into(), r2(me));
        m.insert(
            "bench_cpu_user_sys_s".into(),
            json!(me_user_sys.map(|(u, s)| [round(u, 2), round(s, 2)])),
        );
        m.insert(
            "machine_cpu_busy_pct".into(),
            json!(machine.map(|(p, _)| round(p, 1))),
        );
        m.insert("machine_busy_cpu_s".into(), r2(machine.map(|(_, b)| b)));
        let delta = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => json!(b.saturating_sub(a)),
            _ => Value::Null,
        };
        m.insert(
            "broker_minor_faults".into(),
            delta(self.faults.0, self.broker_pid.and_then(proc_minor_faults)),
        );
        m.insert(
            "bench_minor_faults".into(),
            delta(self.faults.1, proc_minor_faults(std::process::id())),
        );
        m.insert("unaccounted_cpu_s".into(), r2(unaccounted));
    }
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

// ---------------------------------------------------------------------------
// Kafka helpers

fn kafka_err(what: &str, e: KafkaError) -> sluice_benches::BoxError {
    format!("{what}: {e}").into()
}

/// A current-thread runtime for the admin client's futures.
fn block_on<F: std::future::Future>(fut: F) -> Result<F::Output> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(fut))
}

fn admin(bootstrap: &str) -> Result<AdminClient<DefaultClientContext>> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "pg_kafka-admin")
        .create()
        .map_err(|e| kafka_err("creating the admin client", e))
}

fn create_topic(bootstrap: &str, topic: &str, partitions: i32) -> Result<()> {
    let admin = admin(bootstrap)?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = block_on(admin.create_topics([&new], &opts))?
        .map_err(|e| kafka_err(&format!("creating topic {topic}"), e))?;
    for r in results {
        if let Err((name, code)) = r {
            return fail(format!("creating topic {name}: {code}"));
        }
    }
    Ok(())
}

/// Counts the records on a topic: the sum of its partitions' high
/// watermarks (none are deleted, so that is the number of records written).
struct TopicCounter {
    consumer: BaseConsumer,
    topic: String,
    partitions: Vec<i32>,
}

impl TopicCounter {
    fn new(bootstrap: &str, topic: &str) -> Result<TopicCounter> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", "pg_kafka-counter")
            .set("enable.auto.commit", "false")
            .set("client.id", "pg_kafka-counter")
            .create()
            .map_err(|e| kafka_err("creating the watermark client", e))?;
        Ok(TopicCounter {
            consumer,
            topic: topic.to_string(),
            partitions: Vec::new(),
        })
    }

    /// The partitions, once the topic exists.
    fn partitions(&mut self) -> Result<&[i32]> {
        if self.partitions.is_empty() {
            let md = self
                .consumer
                .fetch_metadata(Some(&self.topic), Duration::from_secs(5))
                .map_err(|e| kafka_err(&format!("metadata of {}", self.topic), e))?;
            self.partitions = md
                .topics()
                .iter()
                .find(|t| t.name() == self.topic && t.error().is_none())
                .map(|t| t.partitions().iter().map(|p| p.id()).collect())
                .unwrap_or_default();
            self.partitions.sort_unstable();
        }
        Ok(&self.partitions)
    }

    /// Records on the topic; 0 while it does not exist.
    fn count(&mut self) -> Result<u64> {
        let parts = self.partitions()?.to_vec();
        let mut total = 0u64;
        for p in parts {
            let (_, high) = self
                .consumer
                .fetch_watermarks(&self.topic, p, Duration::from_secs(10))
                .map_err(|e| kafka_err(&format!("watermarks of {}/{p}", self.topic), e))?;
            total += high.max(0) as u64;
        }
        Ok(total)
    }
}

/// One record as read from the topic, to be sent again.
struct Rec {
    key: Option<Box<[u8]>>,
    value: Option<Box<[u8]>>,
    headers: Vec<(String, Option<Box<[u8]>>)>,
    timestamp: Option<i64>,
}

struct Records {
    recs: Vec<Rec>,
    key_bytes: u64,
    value_bytes: u64,
    header_count: u64,
}

/// Reads a topic from the beginning of every partition: at least `expected`
/// records, then whatever else arrives until the topic has been quiet for
/// 3 s (so that duplicates would be seen too).
fn read_topic(bootstrap: &str, topic: &str, expected: u64) -> Result<Records> {
    let mut counter = TopicCounter::new(bootstrap, topic)?;
    let parts = counter.partitions()?.to_vec();
    if parts.is_empty() {
        return fail(format!("topic {topic} does not exist"));
    }
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "pg_kafka-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("client.id", "pg_kafka-reader")
        // Large fetches: the read-back is not timed, but it should not take
        // minutes either.
        .set("max.partition.fetch.bytes", "16777216")
        .set("fetch.max.bytes", "67108864")
        .set("receive.message.max.bytes", "100000000")
        .set("fetch.wait.max.ms", "10")
        .create()
        .map_err(|e| kafka_err("creating the consumer", e))?;
    let mut tpl = TopicPartitionList::new();
    for p in &parts {
        tpl.add_partition_offset(topic, *p, Offset::Beginning)
            .map_err(|e| kafka_err("assigning", e))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| kafka_err(&format!("assigning {topic}"), e))?;
    let mut out = Records {
        recs: Vec::with_capacity(expected as usize),
        key_bytes: 0,
        value_bytes: 0,
        header_count: 0,
    };
    let mut last_progress = Instant::now();
    let mut last_report = Instant::now();
    loop {
        let have = out.recs.len() as u64;
        if have >= expected && last_progress.elapsed() > Duration::from_secs(3) {
            break;
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let key: Option<Box<[u8]>> = m.key().map(Into::into);
                let value: Option<Box<[u8]>> = m.payload().map(Into::into);
                out.key_bytes += key.as_ref().map_or(0, |k| k.len() as u64);
                out.value_bytes += value.as_ref().map_or(0, |v| v.len() as u64);
                let headers: Vec<(String, Option<Box<[u8]>>)> = m
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| (h.key.to_string(), h.value.map(Into::into)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.header_count += headers.len() as u64;
                out.recs.push(Rec {
                    key,
                    value,
                    headers,
                    timestamp: m.timestamp().to_millis(),
                });
                last_progress = Instant::now();
            }
            Some(Err(e)) => return Err(kafka_err(&format!("reading {topic}"), e)),
            None => {}
        }
        if last_progress.elapsed() > Duration::from_secs(30) {
            return fail(format!(
                "reading {topic}: only {} of {expected} records (nothing more for 30 s)",
                out.recs.len()
            ));
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            progress!("  … read {} of {expected}", out.recs.len());
            last_report = Instant::now();
        }
    }
    Ok(out)
}

/// Delivery reports of the bare producer, counted.
#[derive(Default)]
struct Counting {
    delivered: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl ClientContext for Counting {}

impl ProducerContext for Counting {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                let mut first = self.first_error.lock().expect("first error");
                if first.is_none() {
                    *first = Some(e.to_string());
                }
            }
        }
    }
}

/// The bare producer's settings: sluice's producer defaults, the
/// `--producer` overrides translated as sluice translates them.
fn bare_settings(args: &Args, bootstrap: &str) -> Result<BTreeMap<String, String>> {
    let mut settings = BTreeMap::new();
    settings.insert("bootstrap.servers".to_string(), bootstrap.to_string());
    settings.insert("client.id".to_string(), "pg_kafka-bare".to_string());
    for (k, v) in &args.producer {
        for (rk, rv) in
            sluice_kafka::client::translate(k, v).map_err(|e| format!("--producer {k}={v}: {e}"))?
        {
            settings.insert(rk, rv);
        }
    }
    for (k, v) in sluice_kafka::sink::PRODUCER_DEFAULTS {
        settings
            .entry(k.to_string())
            .or_insert_with(|| v.to_string());
    }
    Ok(settings)
}

fn base_record<'a>(topic: &'a str, r: &'a Rec) -> BaseRecord<'a, [u8], [u8]> {
    let mut record: BaseRecord<'a, [u8], [u8]> = BaseRecord::to(topic);
    if let Some(k) = &r.key {
        record = record.key(&k[..]);
    }
    if let Some(v) = &r.value {
        record = record.payload(&v[..]);
    }
    if let Some(ts) = r.timestamp {
        record = record.timestamp(ts);
    }
    if !r.headers.is_empty() {
        let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
        for (k, v) in &r.headers {
            headers = headers.insert(Header {
                key: k,
                value: v.as_deref(),
            });
        }
        record = record.headers(headers);
    }
    record
}

/// Sends one record; when the producer's queue is full, serves delivery
/// reports for 1 ms (which frees it) and tries again. Returns the number of
/// waits. (rdkafka's `BaseProducer::poll` blocks for its whole timeout.)
fn send(producer: &BaseProducer<Counting>, mut record: BaseRecord<'_, [u8], [u8]>) -> Result<u64> {
    let mut waits = 0;
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(waits),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                waits += 1;
                record = back;
                producer.poll(Duration::from_millis(1));
            }
            Err((e, _)) => return Err(kafka_err("sending a record", e)),
        }
    }
}

/// Waits until every record sent is acknowledged and its delivery report
/// served, polling in 1 ms steps (rdkafka's `flush` polls in 100 ms steps,
/// which would add up to 100 ms to a run).
fn flush(producer: &BaseProducer<Counting>, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    while producer.in_flight_count() > 0 {
        if Instant::now() > deadline {
            return fail(format!(
                "bare producer: {} records still unacknowledged after {limit:?}",
                producer.in_flight_count()
            ));
        }
        producer.poll(Duration::from_millis(1));
    }
    Ok(())
}

/// Sends `records` to a new topic with a bare `BaseProducer`. The first
/// record is sent and flushed untimed (the connection, the idempotent
/// producer's id and the topic's metadata: the warm-up sluice does while it
/// connects to PostgreSQL); then the others are sent — serving delivery
/// reports whenever the queue is full — and flushed, timed.
fn bare_replay(
    args: &Args,
    broker: &TansuServer,
    topic: &str,
    records: &Records,
    ticks_per_s: f64,
) -> Result<Value> {
    let bootstrap = broker.bootstrap_servers();
    create_topic(&bootstrap, topic, args.partitions)?;
    let settings = bare_settings(args, &bootstrap)?;
    let w0 = Instant::now();
    let producer: BaseProducer<Counting> = sluice_kafka::client::client_config(&settings, &[])
        .create_with_context(Counting::default())
        .map_err(|e| kafka_err("creating the bare producer", e))?;
    let Some((first, rest)) = records.recs.split_first() else {
        return fail("no records to replay");
    };
    send(&producer, base_record(topic, first))?;
    flush(&producer, Duration::from_secs(60))?;
    let warmup_s = w0.elapsed().as_secs_f64();
    let timed = rest.len() as u64;
    let timed_bytes: u64 = rest
        .iter()
        .map(|r| {
            r.key.as_ref().map_or(0, |k| k.len()) as u64
                + r.value.as_ref().map_or(0, |v| v.len()) as u64
        })
        .sum();
    let mut queue_full = 0u64;
    let cpu = CpuWatch::start(ticks_per_s, broker.pid());
    let t0 = Instant::now();
    for (i, r) in rest.iter().enumerate() {
        queue_full += send(&producer, base_record(topic, r))?;
        if i % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    let sent_s = t0.elapsed().as_secs_f64();
    flush(&producer, Duration::from_secs(600))?;
    let seconds = t0.elapsed().as_secs_f64();
    let mut m = Map::new();
    cpu.figures(&mut m, 0.0);
    producer.poll(Duration::ZERO);
    let ctx = producer.context();
    let delivered = ctx.delivered.load(Ordering::Relaxed);
    let failed = ctx.failed.load(Ordering::Relaxed);
    let n = records.recs.len() as u64;
    if failed > 0 || delivered != n {
        let first = ctx.first_error.lock().expect("first error").clone();
        return fail(format!(
            "bare producer: {delivered} of {n} delivered, {failed} failed (first error: {first:?})"
        ));
    }
    m.insert("topic".into(), json!(topic));
    m.insert("timed_records".into(), json!(timed));
    m.insert("seconds".into(), json!(round(seconds, 3)));
    m.insert(
        "events_per_s".into(),
        json!((timed as f64 / seconds).round()),
    );
    m.insert(
        "mb_per_s".into(),
        json!(round(timed_bytes as f64 / 1e6 / seconds, 1)),
    );
    m.insert("send_loop_s".into(), json!(round(sent_s, 3)));
    m.insert("queue_full_waits".into(), json!(queue_full));
    m.insert("warmup_s".into(), json!(round(warmup_s, 3)));
    m.insert("delivered".into(), json!(delivered));
    m.insert(
        "bench_peak_rss_mb".into(),
        json!(proc_status_kb(std::process::id(), "VmHWM").map(|k| round(k as f64 / 1024.0, 1))),
    );
    Ok(Value::Object(m))
}

// ---------------------------------------------------------------------------
// sluice

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Avro,
}

impl Format {
    fn label(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Avro => "avro",
        }
    }
}

fn connector_config(args: &Args, pg: &PgServer, label: &str, slot: &str) -> Value {
    json!({
        "name": format!("bench-kafka-{label}"),
        "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1",
            "database.hostname": "127.0.0.1",
            "database.port": pg.port().to_string(),
            "database.user": "postgres",
            "database.dbname": DB,
            "topic.prefix": format!("bench_{label}"),
            "plugin.name": "pgoutput",
            "slot.name": slot,
            "publication.name": PUBLICATION,
            "publication.autocreate.mode": "disabled",
            "snapshot.mode": "no_data",
            "max.batch.size": "2048",
            "max.queue.size": "8192",
            "poll.interval.ms": "100",
            "status.update.interval.ms": "1000",
            "topic.creation.default.partitions": args.partitions.to_string(),
            "topic.creation.default.replication.factor": "1"
        }
    })
}

fn worker_config(
    args: &Args,
    broker: &TansuServer,
    offsets: &Path,
    format: Format,
    registry: Option<&str>,
) -> Result<String> {
    let mut worker = format!(
        "bootstrap.servers={}\n\
         offset.storage.file.filename={}\n\
         offset.flush.interval.ms={}\n\
         rest.host.name=127.0.0.1\n\
         rest.port={}\n",
        broker.bootstrap_servers(),
        offsets.display(),
        args.offset_flush_ms,
        free_port()?,
    );
    for side in ["key", "value"] {
        match format {
            Format::Json => worker.push_str(&format!(
                "{side}.converter=org.apache.kafka.connect.json.JsonConverter\n\
                 {side}.converter.schemas.enable=true\n"
            )),
            Format::Avro => worker.push_str(&format!(
                "{side}.converter=io.confluent.connect.avro.AvroConverter\n\
                 {side}.converter.schema.registry.url={}\n",
                registry.unwrap_or_default()
            )),
        }
    }
    for (k, v) in &args.producer {
        worker.push_str(&format!("producer.{k}={v}\n"));
    }
    Ok(worker)
}

#[allow(clippy::too_many_arguments)]
fn run_sluice(
    args: &Args,
    pg: &PgServer,
    db: &Db,
    broker: &TansuServer,
    dir: &Path,
    format: Format,
    slot: &str,
    registry: Option<&str>,
    target: &str,
    timeout: Duration,
    ticks_per_s: f64,
) -> Result<(Value, String)> {
    let label = format.label();
    let n = args.rows;
    let run_dir = dir.join(format!("sluice_{label}"));
    // A kept --work-dir must not hand a new run the offsets of an old one.
    if run_dir.exists() {
        fs::remove_dir_all(&run_dir)?;
    }
    fs::create_dir_all(&run_dir)?;
    let worker_path = run_dir.join("worker.properties");
    fs::write(
        &worker_path,
        worker_config(
            args,
            broker,
            &run_dir.join("offsets.json"),
            format,
            registry,
        )?,
    )?;
    let connector = connector_config(args, pg, label, slot);
    let connector_path = run_dir.join("pg.json");
    fs::write(&connector_path, serde_json::to_string_pretty(&connector)?)?;
    let topic = format!("bench_{label}.public.{TABLE}");
    let log = run_dir.join("sluice.log");
    let log_file = File::create(&log)?;

    progress!("sluice ({label}): slot {slot} → topic {topic}");
    let mut counter = TopicCounter::new(&broker.bootstrap_servers(), &topic)?;
    let poller = SlotPoller::new(db, slot, target)?;
    let initial = poller.poll()?.confirmed;
    let cpu = CpuWatch::start(ticks_per_s, broker.pid());
    let started = Instant::now();
    let mut child = ChildGuard::new(
        Command::new(&args.sluice)
            .arg("standalone")
            .arg(&worker_path)
            .arg(&connector_path)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", args.sluice.display()))?,
    );
    let pid = child.pid();
    let mut walsender: Option<(u32, u64)> = None;
    let mut first_record_s = None;
    let mut first_commit_s = None;
    let mut last_count: Option<Instant> = None;
    let mut last_report = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return fail(format!(
                "sluice ({label}) exited during the run ({status}); last log lines:\n{}",
                log_tail(&log, 30)
            ));
        }
        let state = poller.poll()?;
        let at = started.elapsed().as_secs_f64();
        if let Some(ws) = state.active_pid {
            if let Some(t) = proc_cpu_ticks(ws) {
                walsender = Some((ws, t));
            }
        }
        if first_commit_s.is_none() && state.confirmed != initial {
            first_commit_s = Some(at);
        }
        if state.reached {
            break;
        }
        // The broker is asked every poll until the first record shows, then
        // once a second for the progress line (its high watermark is only
        // a rough count on tansu: see docs/benchmarks.md).
        if first_record_s.is_none()
            || last_count.is_none_or(|t| t.elapsed() > Duration::from_secs(1))
        {
            last_count = Some(Instant::now());
            let count = counter.count()?;
            if first_record_s.is_none() && count > 0 {
                first_record_s = Some(at);
            }
            if last_report.elapsed() > Duration::from_secs(5) {
                progress!(
                    "  … about {count} of {n} records on the broker, confirmed_flush_lsn {} (target {target})",
                    state.confirmed
                );
                last_report = Instant::now();
            }
        }
        if started.elapsed() > timeout {
            return fail(format!(
                "sluice ({label}) did not confirm {target} on slot {slot} within {timeout:?} (confirmed_flush_lsn is {}); last log lines:\n{}",
                state.confirmed,
                log_tail(&log, 30)
            ));
        }
        std::thread::sleep(POLL);
    }
    // Every record is acknowledged by the broker and the offsets are
    // committed: the figures of this moment.
    let seconds = started.elapsed().as_secs_f64();
    let cpu_user_sys = proc_cpu_user_sys(pid);
    let cpu_ticks = cpu_user_sys.map(|(u, s)| u + s);
    let peak_rss_kb = proc_status_kb(pid, "VmHWM");
    let minor_faults = proc_minor_faults(pid);
    let walsender_ticks = walsender.and_then(|(p, t)| proc_cpu_ticks(p).or(Some(t)));
    let mut m = Map::new();
    m.insert("topic".into(), json!(topic));
    m.insert("seconds".into(), json!(round(seconds, 3)));
    m.insert("events_per_s".into(), json!((n as f64 / seconds).round()));
    m.insert(
        "first_record_on_broker_s".into(),
        json!(first_record_s.map(|x| round(x, 3))),
    );
    m.insert(
        "first_commit_s".into(),
        json!(first_commit_s.map(|x| round(x, 3))),
    );
    let steady = first_record_s
        .filter(|f| seconds - f > 0.0)
        .map(|f| (n as f64 / (seconds - f)).round());
    m.insert("events_per_s_after_first_record".into(), json!(steady));
    let secs = |t: u64| round(t as f64 / ticks_per_s, 2);
    m.insert("cpu_s".into(), json!(cpu_ticks.map(secs)));
    m.insert(
        "cpu_user_sys_s".into(),
        json!(cpu_user_sys.map(|(u, s)| [secs(u), secs(s)])),
    );
    m.insert(
        "cpu_us_per_event".into(),
        json!(cpu_ticks.map(|t| round(t as f64 / ticks_per_s * 1e6 / n as f64, 2))),
    );
    m.insert(
        "peak_rss_mb".into(),
        json!(peak_rss_kb.map(|k| round(k as f64 / 1024.0, 1))),
    );
    m.insert("minor_faults".into(), json!(minor_faults));
    m.insert("walsender_cpu_s".into(), json!(walsender_ticks.map(secs)));
    cpu.figures(
        &mut m,
        (cpu_ticks.unwrap_or(0) + walsender_ticks.unwrap_or(0)) as f64 / ticks_per_s,
    );
    m.insert(
        "broker_rss_mb".into(),
        json!(broker
            .pid()
            .and_then(|p| proc_status_kb(p, "VmRSS"))
            .map(|k| round(k as f64 / 1024.0, 1))),
    );
    let status = child.terminate(Duration::from_secs(60))?;
    if !status.success() {
        progress!(
            "WARNING: sluice ({label}) exited with {status} after SIGTERM; last log lines:\n{}",
            log_tail(&log, 20)
        );
    }
    m.insert("exit_code".into(), json!(status.code()));
    let v = Value::Object(m);
    progress!("sluice ({label}): {v}");
    Ok((v, topic))
}

/// The source's own pace: `pg_recvlogical` (pgoutput) draining the same
/// backlog from its own slot into /dev/null. Wall time and the walsender's
/// CPU; no Kafka involved.
fn run_recvlogical(
    pg: &PgServer,
    db: &Db,
    dir: &Path,
    n: u64,
    target: &str,
    timeout: Duration,
    ticks_per_s: f64,
) -> Result<Value> {
    progress!(
        "pg_recvlogical: draining slot {SLOT_RECVLOGICAL} into /dev/null (the source's pace)"
    );
    let log = dir.join("pg_recvlogical.log");
    let poller = SlotPoller::new(db, SLOT_RECVLOGICAL, target)?;
    let cpu = CpuWatch::start(ticks_per_s, None);
    let t0 = Instant::now();
    let mut child = ChildGuard::new(
        Command::new(pg.bin_dir().join("pg_recvlogical"))
            .args(["-d", &pg.conn_string(DB)])
            .args(["--slot", SLOT_RECVLOGICAL, "--start"])
            .args(["-o", "proto_version=1"])
            .arg("-o")
            .arg(format!("publication_names={PUBLICATION}"))
            .args(["--endpos", target, "-f", "/dev/null", "--no-loop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log)?)
            .spawn()
            .map_err(|e| format!("cannot run pg_recvlogical: {e}"))?,
    );
    let mut walsender: Option<(u32, u64)> = None;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if t0.elapsed() > timeout {
            return fail(format!(
                "pg_recvlogical did not reach {target} within {timeout:?}\n{}",
                log_tail(&log, 20)
            ));
        }
        match walsender {
            Some((pid, _)) => {
                if let Some(t) = proc_cpu_ticks(pid) {
                    walsender = Some((pid, t));
                }
            }
            None => {
                if let Some(pid) = poller.poll()?.active_pid {
                    walsender = proc_cpu_ticks(pid).map(|t| (pid, t));
                }
            }
        }
        std::thread::sleep(POLL);
    };
    let seconds = t0.elapsed().as_secs_f64();
    if !status.success() {
        return fail(format!(
            "pg_recvlogical failed ({status}):\n{}",
            log_tail(&log, 20)
        ));
    }
    let mut m = Map::new();
    m.insert("seconds".into(), json!(round(seconds, 3)));
    m.insert("events_per_s".into(), json!((n as f64 / seconds).round()));
    m.insert(
        "walsender_cpu_s".into(),
        json!(walsender.map(|(_, t)| round(t as f64 / ticks_per_s, 2))),
    );
    cpu.figures(&mut m, 0.0);
    // pg_recvlogical's own CPU is not known once it has exited.
    for k in [
        "broker_cpu_s",
        "bench_cpu_s",
        "bench_cpu_user_sys_s",
        "unaccounted_cpu_s",
        "broker_minor_faults",
        "bench_minor_faults",
    ] {
        m.remove(k);
    }
    let v = Value::Object(m);
    progress!("pg_recvlogical: {v}");
    Ok(v)
}

fn start_registry(args: &Args, dir: &Path) -> Result<(ChildGuard, String)> {
    let port = free_port()?;
    let log = dir.join("registry.log");
    let _ = fs::remove_file(dir.join("registry.json"));
    let child = Command::new(&args.sluice)
        .arg("registry")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data")
        .arg(dir.join("registry.json"))
        .stdin(Stdio::null())
        .stdout(File::create(&log)?)
        .stderr(File::create(dir.join("registry.err"))?)
        .spawn()
        .map_err(|e| format!("cannot run {} registry: {e}", args.sluice.display()))?;
    let mut guard = ChildGuard::new(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = guard.try_wait()? {
            return fail(format!(
                "sluice registry exited ({status}): {}",
                log_tail(&dir.join("registry.err"), 10)
            ));
        }
        if Instant::now() > deadline {
            return fail("sluice registry did not listen within 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    progress!("schema registry on 127.0.0.1:{port}");
    Ok((guard, format!("http://127.0.0.1:{port}")))
}

/// A new tansu broker (in-memory storage) for one timed phase: every
/// contender writes into a fresh broker. (With one broker for all phases, the
/// first ~1.8 GB written cost the broker ~450,000 page faults and the later
/// runs almost none, which made the first run — sluice's — about half as
/// fast as the later ones for reasons that had nothing to do with it.)
fn fresh_broker() -> Result<TansuServer> {
    let broker = TansuServer::start()?;
    std::thread::sleep(SETTLE);
    Ok(broker)
}

/// One converter: sluice, the read-back, the bare replays, the ratio.
#[allow(clippy::too_many_arguments)]
fn measure(
    args: &Args,
    pg: &PgServer,
    db: &Db,
    dir: &Path,
    format: Format,
    slot: &str,
    registry: Option<&str>,
    target: &str,
    timeout: Duration,
    ticks_per_s: f64,
) -> Result<Value> {
    let label = format.label();
    let broker = fresh_broker()?;
    let bootstrap = broker.bootstrap_servers();
    let (sluice, topic) = run_sluice(
        args,
        pg,
        db,
        &broker,
        dir,
        format,
        slot,
        registry,
        target,
        timeout,
        ticks_per_s,
    )?;
    let mut sluice = sluice;
    progress!("reading the records of {topic} back");
    let t0 = Instant::now();
    let records = read_topic(&bootstrap, &topic, args.rows)?;
    let n = records.recs.len() as u64;
    sluice["records_on_topic"] = json!(n);
    if n != args.rows {
        progress!(
            "WARNING: {n} records on {topic}, expected {} (duplicates)",
            args.rows
        );
        sluice["warning"] = json!(format!("{n} records on the topic, expected {}", args.rows));
    }
    let total_bytes = records.key_bytes + records.value_bytes;
    progress!(
        "read {n} records in {:.1}s: {:.0} MB (keys {:.0} B, values {:.0} B on average, {} headers)",
        t0.elapsed().as_secs_f64(),
        total_bytes as f64 / 1e6,
        records.key_bytes as f64 / n as f64,
        records.value_bytes as f64 / n as f64,
        records.header_count
    );
    drop(broker);
    let mut bare = Vec::new();
    for i in 1..=args.bare_runs {
        let bare_topic = format!("bare_{label}_{i}");
        let broker = fresh_broker()?;
        progress!(
            "bare producer ({label}, run {i}): {n} records → {bare_topic} on a new broker ({})",
            broker.bootstrap_servers()
        );
        let v = bare_replay(args, &broker, &bare_topic, &records, ticks_per_s)?;
        progress!("bare producer ({label}, run {i}): {v}");
        bare.push(v);
    }
    let rates: Vec<f64> = bare
        .iter()
        .filter_map(|v| v.get("events_per_s").and_then(Value::as_f64))
        .collect();
    let bare_median = median(&rates);
    let bare_min = rates.iter().copied().reduce(f64::min);
    let bare_max = rates.iter().copied().reduce(f64::max);
    let sluice_eps = sluice.get("events_per_s").and_then(Value::as_f64);
    let sluice_steady = sluice
        .get("events_per_s_after_first_record")
        .and_then(Value::as_f64);
    let ratio = |a: Option<f64>| match (a, bare_median) {
        (Some(a), Some(b)) if b > 0.0 => Some(round(a / b, 3)),
        _ => None,
    };
    let mut m = Map::new();
    m.insert("sluice".into(), sluice.clone());
    m.insert("bare_producer".into(), json!(bare));
    m.insert(
        "bare_producer_median_events_per_s".into(),
        json!(bare_median.map(f64::round)),
    );
    m.insert("ratio".into(), json!(ratio(sluice_eps)));
    let ratio_to = |b: Option<f64>| match (sluice_eps, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(round(a / b, 3)),
        _ => None,
    };
    m.insert(
        "ratio_range".into(),
        json!([ratio_to(bare_max), ratio_to(bare_min)]),
    );
    m.insert(
        "ratio_after_first_record".into(),
        json!(ratio(sluice_steady)),
    );
    m.insert(
        "records".into(),
        json!({
            "count": n,
            "key_bytes_avg": round(records.key_bytes as f64 / n as f64, 1),
            "value_bytes_avg": round(records.value_bytes as f64 / n as f64, 1),
            "total_mb": round(total_bytes as f64 / 1e6, 1),
            "headers": records.header_count,
        }),
    );
    m.insert(
        "sluice_mb_per_s".into(),
        json!(sluice
            .get("seconds")
            .and_then(Value::as_f64)
            .map(|s| round(total_bytes as f64 / 1e6 / s, 1))),
    );
    m.insert(
        "meets_70pct".into(),
        json!(ratio(sluice_eps).map(|r| r >= TARGET_RATIO)),
    );
    progress!(
        "{label}: sluice {:?} events/s, bare producer median {:?} events/s, ratio {:?}",
        sluice_eps,
        bare_median.map(f64::round),
        ratio(sluice_eps)
    );
    Ok(Value::Object(m))
}

// ---------------------------------------------------------------------------

fn run(args: &Args) -> Result<Value> {
    let n = args.rows;
    let ticks_per_s = clock_ticks_per_second();
    let timeout = args
        .drain_timeout
        .unwrap_or(Duration::from_secs(120 + n / 2_000));
    if !args.sluice.exists() {
        return fail(format!(
            "{} not found: build it with cargo build --release -p sluice, or pass --sluice PATH",
            args.sluice.display()
        ));
    }
    if sluice_testkit::tansu_program().is_none() {
        return fail(
            "tansu (the Kafka-protocol broker) is not installed: cargo install tansu --locked --features dynostore",
        );
    }
    let started_unix = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let busy_before = machine_busy_pct_over(Duration::from_secs(2));
    progress!("machine busy before the run: {busy_before:?} % (2 s sample)");
    let tmp = tempfile::Builder::new()
        .prefix("sluice-bench-kafka-")
        .tempdir()?;
    let dir = match &args.work_dir {
        Some(d) => {
            fs::create_dir_all(d)?;
            d.canonicalize()?
        }
        None => tmp.path().to_path_buf(),
    };

    let pg = start_postgres("256MB")?;
    pg.create_database(DB)?;
    let db = Db::connect(&pg, DB)?;
    let pg_version = db.value("SHOW server_version")?;
    progress!("PostgreSQL {pg_version} on port {}", pg.port());
    let mut slots = Vec::new();
    if args.json {
        slots.push(SLOT_JSON);
    }
    if args.avro {
        slots.push(SLOT_AVRO);
    }
    if args.recvlogical {
        slots.push(SLOT_RECVLOGICAL);
    }
    create_schema(&db, &slots)?;
    let backlog = generate_backlog(&db, n, args.batch, 100)?;
    let target = backlog.target_lsn.clone();

    let recvlogical = if args.recvlogical {
        std::thread::sleep(Duration::from_secs(1));
        Some(run_recvlogical(
            &pg,
            &db,
            &dir,
            n,
            &target,
            timeout,
            ticks_per_s,
        )?)
    } else {
        None
    };

    let tansu_version = sluice_testkit::tansu_program()
        .and_then(|p| Command::new(p).arg("--version").output().ok())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());

    let json_result = if args.json {
        Some(measure(
            args,
            &pg,
            &db,
            &dir,
            Format::Json,
            SLOT_JSON,
            None,
            &target,
            timeout,
            ticks_per_s,
        )?)
    } else {
        None
    };
    let avro_result = if args.avro {
        let (mut registry, url) = start_registry(args, &dir)?;
        std::thread::sleep(Duration::from_secs(1));
        let v = measure(
            args,
            &pg,
            &db,
            &dir,
            Format::Avro,
            SLOT_AVRO,
            Some(&url),
            &target,
            timeout,
            ticks_per_s,
        )?;
        let _ = registry.terminate(Duration::from_secs(10));
        Some(v)
    } else {
        None
    };

    let ratio_of = |v: &Option<Value>| v.as_ref().and_then(|v| v.get("ratio")).cloned();
    let producer: Map<String, Value> = bare_settings(args, "")?
        .into_iter()
        .filter(|(k, _)| k != "bootstrap.servers" && k != "client.id")
        .map(|(k, v)| (k, json!(v)))
        .collect();
    let mut out = Map::new();
    out.insert("benchmark".into(), json!("pg_kafka"));
    out.insert("rows".into(), json!(n));
    out.insert("row_bytes".into(), json!(round(backlog.row_bytes, 1)));
    out.insert(
        "backlog".into(),
        json!({
            "inserts": backlog.inserts,
            "updates": backlog.updates,
            "rows_per_transaction": args.batch,
            "wal_mb": round(backlog.wal_bytes as f64 / 1e6, 1),
            "generate_seconds": round(backlog.seconds, 2),
            "target_lsn": target,
        }),
    );
    if let Some(v) = &recvlogical {
        out.insert("pg_recvlogical".into(), v.clone());
    }
    if let Some(v) = &json_result {
        out.insert("json".into(), v.clone());
    }
    if let Some(v) = &avro_result {
        out.insert("avro".into(), v.clone());
    }
    let source_eps = recvlogical
        .as_ref()
        .and_then(|v| v.get("events_per_s"))
        .and_then(Value::as_f64);
    let vs_source = |v: &Option<Value>| {
        let eps = v
            .as_ref()
            .and_then(|v| v.pointer("/sluice/events_per_s"))
            .and_then(Value::as_f64);
        match (eps, source_eps) {
            (Some(a), Some(b)) if b > 0.0 => json!(round(a / b, 3)),
            _ => Value::Null,
        }
    };
    out.insert(
        "ratios".into(),
        json!({
            "json_vs_bare": ratio_of(&json_result),
            "avro_vs_bare": ratio_of(&avro_result),
            "json_vs_recvlogical": vs_source(&json_result),
            "avro_vs_recvlogical": vs_source(&avro_result),
        }),
    );
    out.insert(
        "targets".into(),
        json!({
            "json_ge_70pct_of_bare": json_result.as_ref().and_then(|v| v.get("meets_70pct")).cloned(),
            "avro_ge_70pct_of_bare": avro_result.as_ref().and_then(|v| v.get("meets_70pct")).cloned(),
        }),
    );
    out.insert(
        "settings".into(),
        json!({
            "partitions": args.partitions,
            "replication_factor": 1,
            "bare_runs": args.bare_runs,
            "producer": producer,
            "offset_flush_interval_ms": args.offset_flush_ms,
            "connector": connector_config(args, &pg, "<label>", "<slot>")["config"].clone(),
        }),
    );
    out.insert(
        "environment".into(),
        json!({
            "machine": machine(),
            "postgres": pg_version,
            "broker": tansu_version,
            "commit": git_commit(),
            "started_unix": started_unix,
            "machine_busy_before_pct": busy_before,
            "sluice": args.sluice.display().to_string(),
        }),
    );
    drop(db);
    drop(pg);
    Ok(Value::Object(out))
}

fn main() {
    bench_main("pg_kafka", parse_args, run);
}
