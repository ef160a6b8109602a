//! Kafka's `FileStreamSourceConnector`: one record per line of a file (or of
//! standard input), value schema STRING, source partition
//! `{"filename": path}`, offset `{"position": <byte offset after the line>}`.
//! Resumes from its committed offset and follows the file as it grows.

use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use sluice_connect_api::config::Props;
use sluice_connect_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, KeyValidation, Result,
    SchemaBuilder, SchemaRef, SourceConnector, SourcePartition, SourceRecord, SourceTask,
    SourceTaskContext, Validator, Value,
};
use tokio::sync::mpsc;

pub const CLASS: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

/// How long a poll waits for new lines before returning an empty batch
/// (Kafka's task waits one second).
const IDLE_WAIT: Duration = Duration::from_millis(250);
const READ_CHUNK: usize = 256 * 1024;

/// The connector (a factory).
pub struct FileStreamSource {
    def: ConfigDef,
}

impl Default for FileStreamSource {
    fn default() -> Self {
        Self::new()
    }
}

impl FileStreamSource {
    pub fn new() -> Self {
        let def = ConfigDef::new()
            .define(
                ConfigKey::new("file", ConfigType::String)
                    .optional()
                    .importance(Importance::High)
                    .doc("Source filename. If not specified, the standard input will be used"),
            )
            .define(
                ConfigKey::new("topic", ConfigType::String)
                    .validator(Validator::NonEmptyString)
                    .importance(Importance::High)
                    .doc("The topic to publish data to"),
            )
            .define(
                ConfigKey::new("batch.size", ConfigType::Int)
                    .default("2000")
                    .validator(Validator::at_least(1))
                    .importance(Importance::Low)
                    .doc("The maximum number of records the source task can read from the file each time it is polled"),
            );
        FileStreamSource { def }
    }
}

impl SourceConnector for FileStreamSource {
    fn class_name(&self) -> &'static str {
        CLASS
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["FileStreamSource"]
    }

    fn config_def(&self) -> &ConfigDef {
        &self.def
    }

    fn validate(&self, props: &Props) -> Vec<KeyValidation> {
        let mut out = self.def.validate(props);
        if let Some(topic) = props.get("topic") {
            if topic.contains(',') {
                if let Some(v) = out.iter_mut().find(|v| v.name == "topic") {
                    v.errors.push("'topic' in FileStreamSourceConnector configuration requires definition of a single topic.".into());
                }
            }
        }
        out
    }

    fn task_configs(&self, props: &Props, _max_tasks: usize) -> Result<Vec<Props>> {
        // Like Kafka: one task, whatever tasks.max says.
        Ok(vec![props.clone()])
    }

    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(FileStreamSourceTask::default())
    }
}

fn value_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| SchemaBuilder::string().build())
        .clone()
}

enum Input {
    File {
        path: String,
        file: Option<std::fs::File>,
    },
    Stdin(mpsc::Receiver<std::io::Result<Vec<u8>>>),
}

/// The task: reads lines, emits one record per complete line.
#[derive(Default)]
pub struct FileStreamSourceTask {
    topic: Arc<str>,
    batch_size: usize,
    input: Option<Input>,
    partition: Option<SourcePartition>,
    /// Byte offset in the file of the first byte of `buffer`.
    position: u64,
    /// Bytes read but not yet emitted (a partial line at most, between polls).
    buffer: Vec<u8>,
    scan_from: usize,
}

impl FileStreamSourceTask {
    /// Splits complete lines off the buffer into records.
    fn take_lines(&mut self, out: &mut Vec<SourceRecord>) {
        let now = now_ms();
        let mut start = 0usize;
        let mut i = self.scan_from;
        let bytes = &self.buffer;
        while out.len() < self.batch_size {
            let Some(rel) = memchr_newline(&bytes[i..]) else {
                i = bytes.len();
                break;
            };
            let nl = i + rel;
            // "\r\n" or "\r" or "\n" end a line, as in Kafka's task.
            let (line_end, next) = if bytes[nl] == b'\r' {
                if nl + 1 < bytes.len() {
                    (
                        nl,
                        if bytes[nl + 1] == b'\n' {
                            nl + 2
                        } else {
                            nl + 1
                        },
                    )
                } else {
                    // A trailing '\r' may be followed by '\n': wait for more.
                    i = nl;
                    break;
                }
            } else {
                (nl, nl + 1)
            };
            let line = String::from_utf8_lossy(&bytes[start..line_end]).into_owned();
            let end_position = self.position + next as u64;
            let offset = self.partition.as_ref().map(|_| {
                json!({"position": end_position})
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            });
            out.push(
                SourceRecord::new(
                    self.partition.clone(),
                    offset,
                    self.topic.clone(),
                    Some(value_schema()),
                    Value::String(line.into()),
                )
                .with_timestamp(now),
            );
            start = next;
            i = next;
        }
        self.buffer.drain(..start);
        self.position += start as u64;
        self.scan_from = i.saturating_sub(start);
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'\n' || *b == b'\r')
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[async_trait]
impl SourceTask for FileStreamSourceTask {
    async fn start(&mut self, context: SourceTaskContext) -> Result<()> {
        let config = FileStreamSource::new()
            .def
            .parse(&context.config)
            .map_err(|issues| {
                ConnectError::config(
                    issues
                        .iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
        self.topic = Arc::from(config.get_string("topic").unwrap_or_default());
        self.batch_size = config.get_int("batch.size").max(1) as usize;
        match config.get_string("file").filter(|f| !f.is_empty()) {
            Some(path) => {
                let partition: SourcePartition = Arc::new(
                    json!({"filename": path})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                );
                let position = context
                    .offsets
                    .offset(&partition)
                    .and_then(|o| o.get("position").and_then(serde_json::Value::as_u64))
                    .unwrap_or(0);
                tracing::info!(file = %path, position, "FileStreamSource starting");
                self.position = position;
                self.partition = Some(partition);
                self.input = Some(Input::File {
                    path: path.to_string(),
                    file: None,
                });
            }
            None => {
                let (tx, rx) = mpsc::channel(16);
                std::thread::Builder::new()
                    .name("filestream-stdin".into())
                    .spawn(move || {
                        let mut stdin = std::io::stdin().lock();
                        loop {
                            let mut buf = vec![0u8; 64 * 1024];
                            match stdin.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => {
                                    buf.truncate(n);
                                    if tx.blocking_send(Ok(buf)).is_err() {
                                        break;
                                    }
                                }
                                Err(e) => {
                                    let _ = tx.blocking_send(Err(e));
                                    break;
                                }
                            }
                        }
                    })
                    .map_err(|e| ConnectError::io("starting the standard input reader", e))?;
                self.input = Some(Input::Stdin(rx));
            }
        }
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let mut out = Vec::new();
        self.take_lines(&mut out);
        if out.len() >= self.batch_size {
            return Ok(out);
        }
        let Some(input) = self.input.as_mut() else {
            return Ok(out);
        };
        let got_data = match input {
            Input::File { path, file } => {
                if file.is_none() {
                    match std::fs::File::open(&*path) {
                        Ok(mut f) => {
                            f.seek(SeekFrom::Start(self.position + self.buffer.len() as u64))
                                .map_err(|e| ConnectError::io(format!("seeking in {path}"), e))?;
                            *file = Some(f);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                            tracing::warn!(file = %path, "couldn't find file for FileStreamSourceTask, sleeping to wait for it to be created");
                            tokio::time::sleep(IDLE_WAIT).await;
                            return Ok(out);
                        }
                        Err(e) => return Err(ConnectError::io(format!("opening {path}"), e)),
                    }
                }
                let f = file.as_mut().expect("opened above");
                let old_len = self.buffer.len();
                self.buffer.resize(old_len + READ_CHUNK, 0);
                // Local file reads are short; they do not need the blocking pool.
                let n = f.read(&mut self.buffer[old_len..]);
                let n = match n {
                    Ok(n) => n,
                    Err(e) => {
                        self.buffer.truncate(old_len);
                        *file = None;
                        return Err(ConnectError::io(format!("reading {path}"), e));
                    }
                };
                self.buffer.truncate(old_len + n);
                n > 0
            }
            Input::Stdin(rx) => match tokio::time::timeout(IDLE_WAIT, rx.recv()).await {
                Ok(Some(Ok(chunk))) => {
                    self.buffer.extend_from_slice(&chunk);
                    true
                }
                Ok(Some(Err(e))) => return Err(ConnectError::io("reading standard input", e)),
                Ok(None) => {
                    // End of input: emit a last unterminated line, then idle.
                    if !self.buffer.is_empty() {
                        self.buffer.push(b'\n');
                        self.take_lines(&mut out);
                    }
                    tokio::time::sleep(IDLE_WAIT).await;
                    return Ok(out);
                }
                Err(_) => false,
            },
        };
        if got_data {
            self.take_lines(&mut out);
        } else if out.is_empty() && matches!(self.input, Some(Input::File { .. })) {
            tokio::time::sleep(IDLE_WAIT).await;
        }
        Ok(out)
    }

    async fn stop(&mut self) -> Result<()> {
        self.input = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offsets::{ConnectorOffsets, MemoryOffsetStore, OffsetStore};

    fn context(path: &std::path::Path, store: Arc<dyn OffsetStore>) -> SourceTaskContext {
        let mut config = Props::new();
        config.insert("file".into(), path.display().to_string());
        config.insert("topic".into(), "lines".into());
        config.insert("batch.size".into(), "3".into());
        SourceTaskContext {
            connector_name: "c".into(),
            config,
            offsets: Arc::new(ConnectorOffsets {
                connector: "c".into(),
                store,
            }),
            reporter: Arc::new(sluice_connect_api::NoopReporter),
        }
    }

    async fn drain(task: &mut FileStreamSourceTask) -> Vec<SourceRecord> {
        let mut all = Vec::new();
        loop {
            let batch = task.poll().await.unwrap();
            if batch.is_empty() {
                return all;
            }
            assert!(batch.len() <= 3);
            all.extend(batch);
        }
    }

    #[tokio::test]
    async fn reads_lines_with_byte_offsets_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        std::fs::write(&path, "a\r\nbé\n\nc\rd\npartial").unwrap();
        let store: Arc<dyn OffsetStore> = Arc::new(MemoryOffsetStore::default());
        let mut task = FileStreamSourceTask::default();
        task.start(context(&path, store.clone())).await.unwrap();
        let records = drain(&mut task).await;
        let lines: Vec<&str> = records.iter().map(|r| r.value.as_str().unwrap()).collect();
        assert_eq!(lines, ["a", "bé", "", "c", "d"]);
        let positions: Vec<u64> = records
            .iter()
            .map(|r| {
                r.source_offset.as_ref().unwrap()["position"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(positions, [3, 7, 8, 10, 12]);
        let r = &records[0];
        assert_eq!(r.topic.as_ref(), "lines");
        assert_eq!(r.key, Value::Null);
        assert!(r.key_schema.is_none());
        assert_eq!(
            **r.value_schema.as_ref().unwrap(),
            *SchemaBuilder::string().build()
        );
        assert_eq!(
            r.source_partition.as_ref().unwrap()["filename"],
            path.display().to_string()
        );
        assert!(r.timestamp.is_some());
        // The file grows: the partial line completes.
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b" line\n")
            .unwrap();
        let more = drain(&mut task).await;
        assert_eq!(more.len(), 1);
        assert_eq!(more[0].value.as_str(), Some("partial line"));
        assert_eq!(more[0].source_offset.as_ref().unwrap()["position"], 25);
        task.stop().await.unwrap();

        // Resume after "bé": only the later lines come again.
        store
            .put(
                "c",
                &[(
                    records[1].source_partition.clone().unwrap(),
                    records[1].source_offset.clone().unwrap(),
                )],
            )
            .unwrap();
        let mut task = FileStreamSourceTask::default();
        task.start(context(&path, store)).await.unwrap();
        let again: Vec<String> = drain(&mut task)
            .await
            .iter()
            .map(|r| r.value.as_str().unwrap().to_string())
            .collect();
        assert_eq!(again, ["", "c", "d", "partial line"]);
    }

    #[test]
    fn validation_rejects_several_topics() {
        let mut props = Props::new();
        props.insert("topic".into(), "a,b".into());
        let v = FileStreamSource::new().validate(&props);
        let topic = v.iter().find(|v| v.name == "topic").unwrap();
        assert!(topic.errors[0].contains("single topic"));
    }
}
