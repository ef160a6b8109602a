//! The `file` sink: appends one JSON line per record (see
//! [`crate::render_line`]) and flushes — and by default fsyncs — before it
//! acknowledges the batch as durable.
//!
//! Opening the file repairs a torn tail: if a crash interrupted a write, the
//! partial last line (never acknowledged) is cut off, so the file always
//! holds whole lines.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sluice_connect_api::config::Props;
use sluice_connect_api::{
    BatchAck, ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Result, SerializedRecord,
    Sink, SinkContext, SinkPlugin, Validator,
};

use crate::line::render_line;

/// Appends JSON lines to a file.
pub struct FileSink {
    path: PathBuf,
    file: Arc<Mutex<File>>,
    fsync: bool,
    /// Reused render buffer (moved into the writer and back).
    buf: Vec<u8>,
}

impl FileSink {
    /// Opens `path` for appending (creating it and its directory), cutting
    /// off a torn last line.
    pub fn open(path: impl Into<PathBuf>, fsync: bool) -> Result<FileSink> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                ConnectError::io(format!("creating directory {}", dir.display()), e)
            })?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| ConnectError::io(format!("opening {}", path.display()), e))?;
        repair_torn_tail(&mut file, &path)?;
        Ok(FileSink {
            path,
            file: Arc::new(Mutex::new(file)),
            fsync,
            buf: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn repair_torn_tail(file: &mut File, path: &Path) -> Result<()> {
    let io = |e| ConnectError::io(format!("checking the end of {}", path.display()), e);
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok(());
    }
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let start = end.saturating_sub(chunk.len() as u64);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.read_exact(&mut chunk[..n]).map_err(io)?;
        if end == len && chunk[n - 1] == b'\n' {
            return Ok(());
        }
        if let Some(i) = chunk[..n].iter().rposition(|b| *b == b'\n') {
            let keep = start + i as u64 + 1;
            tracing::warn!(file = %path.display(), removed_bytes = len - keep, "cutting off a partial last line left by an interrupted write");
            file.set_len(keep).map_err(io)?;
            return Ok(());
        }
        if start == 0 {
            tracing::warn!(file = %path.display(), removed_bytes = len, "file holds only a partial line; truncating it");
            file.set_len(0).map_err(io)?;
            return Ok(());
        }
        end = start;
    }
}

#[async_trait]
impl Sink for FileSink {
    async fn accept(&mut self, batch: Vec<SerializedRecord>, ack: BatchAck) -> Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for r in &batch {
            render_line(r, &mut buf);
        }
        drop(batch);
        let file = self.file.clone();
        let fsync = self.fsync;
        let path = self.path.clone();
        let (buf, result) = tokio::task::spawn_blocking(move || {
            let mut f = file.lock().expect("file sink lock");
            let r = f.write_all(&buf).and_then(|_| f.flush()).and_then(|_| {
                if fsync {
                    f.sync_data()
                } else {
                    Ok(())
                }
            });
            (buf, r)
        })
        .await
        .map_err(|e| ConnectError::internal(format!("file sink writer panicked: {e}")))?;
        self.buf = buf;
        result.map_err(|e| ConnectError::io(format!("writing {}", path.display()), e))?;
        ack.durable();
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        // Every accepted batch was written and flushed before acknowledging.
        Ok(())
    }
}

/// `sink.type=file`, configured by `sink.file.path` and `sink.file.fsync`.
pub struct FileSinkPlugin {
    def: ConfigDef,
}

impl FileSinkPlugin {
    pub fn new() -> Self {
        FileSinkPlugin {
            def: ConfigDef::new()
                .define(
                    ConfigKey::new("path", ConfigType::String)
                        .validator(Validator::NonEmptyString)
                        .importance(Importance::High)
                        .doc("File the JSON lines are appended to (sink.file.path)."),
                )
                .define(ConfigKey::new("fsync", ConfigType::Boolean).default("true").importance(Importance::Medium).doc(
                    "fsync the file before acknowledging each batch (sink.file.fsync). false still flushes to the OS, which survives a crash of sluice but not of the machine.",
                )),
        }
    }
}

impl Default for FileSinkPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl SinkPlugin for FileSinkPlugin {
    fn sink_type(&self) -> &'static str {
        "file"
    }
    fn config_def(&self) -> &ConfigDef {
        &self.def
    }
    fn create(&self, props: &Props, _context: &SinkContext) -> Result<Box<dyn Sink>> {
        let values = self.def.parse(props).map_err(|i| {
            ConnectError::config(
                i.iter()
                    .map(|i| format!("sink.file.{i}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let path = values.get_string("path").unwrap_or_default();
        Ok(Box::new(FileSink::open(path, values.get_bool("fsync"))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_connect_api::record::ContentType;

    fn rec(v: &str) -> SerializedRecord {
        SerializedRecord {
            topic: "t".into(),
            partition: None,
            timestamp: Some(1),
            headers: vec![],
            key: None,
            value: Some(format!("\"{v}\"").into_bytes()),
            key_type: ContentType::Json,
            value_type: ContentType::Json,
        }
    }

    fn ack() -> (BatchAck, Arc<Mutex<Vec<bool>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        (
            BatchAck::new(
                0,
                Arc::new(move |_, r: Result<()>| s.lock().unwrap().push(r.is_ok())),
            ),
            seen,
        )
    }

    #[tokio::test]
    async fn writes_lines_then_acknowledges() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.jsonl");
        let mut sink = FileSink::open(&path, true).unwrap();
        let (a, seen) = ack();
        sink.accept(vec![rec("a"), rec("b")], a).await.unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![true]);
        let text = std::fs::read_to_string(&path).unwrap();
        let values: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(values.len(), 2);
        assert_eq!(values[1]["value"], "b");
    }

    #[tokio::test]
    async fn reopening_cuts_a_torn_last_line_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "{\"a\":1}\n{\"b\":").unwrap();
        let mut sink = FileSink::open(&path, false).unwrap();
        let (a, _) = ack();
        sink.accept(vec![rec("c")], a).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0], "{\"a\":1}");
        std::fs::write(&path, "partial only").unwrap();
        drop(FileSink::open(&path, false).unwrap());
        assert_eq!(std::fs::read(&path).unwrap().len(), 0);
    }

    #[test]
    fn plugin_requires_a_path() {
        let err = FileSinkPlugin::new()
            .create(&Props::new(), &SinkContext::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("sink.file.path"), "{err}");
    }
}
