//! Offset tracking (which offsets are safe to commit) and the file offset
//! store (where committed offsets live).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value as Json};
use sluice_connect_api::{ConnectError, OffsetReader, SourceOffset, SourcePartition, SourceRecord};

/// Tracks batches from poll to durable acknowledgement and yields, per
/// source partition, the offset of the newest record before which **every**
/// record has been acknowledged durable.
///
/// Batches are registered in poll order and get increasing ids. A batch may
/// be acknowledged in any order, but the committable position only advances
/// over a contiguous prefix of acknowledged batches: an out-of-order ack is
/// remembered and takes effect once everything before it is acknowledged.
/// Committed offsets therefore never pass an unacknowledged record and never
/// move backwards.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    next_id: u64,
    /// Registered, not yet committable batches, oldest first.
    pending: VecDeque<PendingBatch>,
    /// Offsets that became committable since the last `take_committable`.
    ready: HashMap<PartitionKey, (SourcePartition, SourceOffset)>,
}

#[derive(Debug)]
struct PendingBatch {
    id: u64,
    acked: bool,
    /// Last offset of each partition in this batch, in first-seen order.
    offsets: Vec<(SourcePartition, SourceOffset)>,
}

/// Partitions compared by content.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PartitionKey(String);

impl PartitionKey {
    fn of(p: &Map<String, Json>) -> Self {
        PartitionKey(serde_json::to_string(p).unwrap_or_default())
    }
}

impl OffsetTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a batch of records (in poll order) and returns its id.
    pub fn register(&mut self, records: &[SourceRecord]) -> u64 {
        let mut offsets: Vec<(SourcePartition, SourceOffset)> = Vec::new();
        for r in records {
            if let (Some(p), Some(o)) = (&r.source_partition, &r.source_offset) {
                match offsets
                    .iter_mut()
                    .find(|(q, _)| Arc::ptr_eq(q, p) || q == p)
                {
                    Some(slot) => slot.1 = o.clone(),
                    None => offsets.push((p.clone(), o.clone())),
                }
            }
        }
        self.register_offsets(offsets)
    }

    /// Registers a batch given as its last offset per partition.
    pub fn register_offsets(&mut self, offsets: Vec<(SourcePartition, SourceOffset)>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.push_back(PendingBatch {
            id,
            acked: false,
            offsets,
        });
        id
    }

    /// Marks a batch durable. Unknown or already-acked ids are ignored.
    pub fn ack(&mut self, id: u64) {
        let Some(front) = self.pending.front() else {
            return;
        };
        let Some(index) = id.checked_sub(front.id) else {
            return;
        };
        if let Some(batch) = self.pending.get_mut(index as usize) {
            debug_assert_eq!(batch.id, id);
            batch.acked = true;
        }
        while self.pending.front().is_some_and(|b| b.acked) {
            let batch = self.pending.pop_front().expect("front exists");
            for (p, o) in batch.offsets {
                self.ready.insert(PartitionKey::of(&p), (p, o));
            }
        }
    }

    /// Offsets that became committable since the last call.
    pub fn take_committable(&mut self) -> Vec<(SourcePartition, SourceOffset)> {
        self.ready.drain().map(|(_, v)| v).collect()
    }

    /// Gives back offsets that could not be stored, so the next
    /// `take_committable` returns them again; offsets that became committable
    /// meanwhile are newer and win.
    pub fn requeue(&mut self, offsets: Vec<(SourcePartition, SourceOffset)>) {
        for (p, o) in offsets {
            self.ready.entry(PartitionKey::of(&p)).or_insert((p, o));
        }
    }

    /// Batches registered but not yet committable.
    pub fn pending_batches(&self) -> usize {
        self.pending.len()
    }
}

/// Where committed offsets are stored.
pub trait OffsetStore: Send + Sync {
    /// The committed offset of `partition` for `connector`.
    fn get(&self, connector: &str, partition: &Map<String, Json>) -> Option<SourceOffset>;
    /// Durably stores offsets (all or nothing). When this returns `Ok` the
    /// offsets survive a crash.
    fn put(
        &self,
        connector: &str,
        offsets: &[(SourcePartition, SourceOffset)],
    ) -> Result<(), ConnectError>;
    /// Every stored partition and offset of `connector`.
    fn all(&self, connector: &str) -> Vec<(Map<String, Json>, SourceOffset)>;
    /// Durably forgets the offsets of `partitions` of `connector` (KIP-875's
    /// reset); the source then starts those partitions from scratch.
    fn remove(&self, connector: &str, partitions: &[Map<String, Json>])
        -> Result<(), ConnectError>;
}

/// Offsets in a JSON file (`offset.storage.file.filename`), rewritten
/// atomically on every commit: write a temporary file, fsync it, rename it
/// over the old one, fsync the directory.
///
/// The file holds `{"version": 1, "offsets": [{"key": [connector,
/// partition], "value": offset}, …]}` — Kafka's offset key shape
/// (`["name", {partition}]`) with the offset as its value.
pub struct FileOffsetStore {
    path: PathBuf,
    state: Mutex<BTreeMap<String, (Json, SourceOffset)>>,
}

impl FileOffsetStore {
    /// Opens (or starts) the store at `path`. A missing file is an empty
    /// store; an unreadable or corrupt one is an error naming the file.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, ConnectError> {
        let path = path.into();
        let mut state = BTreeMap::new();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let doc: Json = serde_json::from_slice(&bytes).map_err(|e| {
                    ConnectError::config(format!("offset file {} is not valid JSON ({e}); move it away to start from scratch", path.display()))
                })?;
                let entries = doc.get("offsets").and_then(Json::as_array).ok_or_else(|| {
                    ConnectError::config(format!(
                        "offset file {} has no \"offsets\" array",
                        path.display()
                    ))
                })?;
                for entry in entries {
                    let key = entry.get("key").cloned().unwrap_or(Json::Null);
                    let value = entry
                        .get("value")
                        .and_then(Json::as_object)
                        .cloned()
                        .unwrap_or_default();
                    state.insert(
                        serde_json::to_string(&key).unwrap_or_default(),
                        (key, value),
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ConnectError::io(
                    format!("reading offset file {}", path.display()),
                    e,
                ))
            }
        }
        Ok(FileOffsetStore {
            path,
            state: Mutex::new(state),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn key(connector: &str, partition: &Map<String, Json>) -> Json {
        Json::Array(vec![
            Json::String(connector.to_string()),
            Json::Object(partition.clone()),
        ])
    }

    fn write(&self, state: &BTreeMap<String, (Json, SourceOffset)>) -> Result<(), ConnectError> {
        let entries: Vec<Json> = state
            .values()
            .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
            .collect();
        let doc = serde_json::json!({"version": 1, "offsets": entries});
        let bytes =
            serde_json::to_vec_pretty(&doc).map_err(|e| ConnectError::internal(e.to_string()))?;
        write_atomically(&self.path, &bytes).map_err(|e| {
            ConnectError::io(format!("writing offset file {}", self.path.display()), e)
        })
    }
}

/// Writes `bytes` to `path` atomically: temp file in the same directory,
/// fsync, rename, fsync of the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

impl OffsetStore for FileOffsetStore {
    fn get(&self, connector: &str, partition: &Map<String, Json>) -> Option<SourceOffset> {
        let key = serde_json::to_string(&Self::key(connector, partition)).ok()?;
        self.state
            .lock()
            .expect("offset store lock")
            .get(&key)
            .map(|(_, v)| v.clone())
    }

    fn put(
        &self,
        connector: &str,
        offsets: &[(SourcePartition, SourceOffset)],
    ) -> Result<(), ConnectError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let mut state = self.state.lock().expect("offset store lock");
        let mut next = state.clone();
        for (p, o) in offsets {
            let key = Self::key(connector, p);
            next.insert(
                serde_json::to_string(&key).unwrap_or_default(),
                (key, o.clone()),
            );
        }
        self.write(&next)?;
        *state = next;
        Ok(())
    }

    fn remove(
        &self,
        connector: &str,
        partitions: &[Map<String, Json>],
    ) -> Result<(), ConnectError> {
        let mut state = self.state.lock().expect("offset store lock");
        let mut next = state.clone();
        for p in partitions {
            next.remove(&serde_json::to_string(&Self::key(connector, p)).unwrap_or_default());
        }
        self.write(&next)?;
        *state = next;
        Ok(())
    }

    fn all(&self, connector: &str) -> Vec<(Map<String, Json>, SourceOffset)> {
        self.state
            .lock()
            .expect("offset store lock")
            .values()
            .filter_map(|(k, v)| {
                let arr = k.as_array()?;
                if arr.first()?.as_str()? != connector {
                    return None;
                }
                Some((arr.get(1)?.as_object()?.clone(), v.clone()))
            })
            .collect()
    }
}

/// One stored entry: connector, partition, offset.
type MemoryEntry = (String, Map<String, Json>, SourceOffset);

/// In-memory store, for tests and for sources that cannot resume.
#[derive(Default)]
pub struct MemoryOffsetStore {
    state: Mutex<BTreeMap<String, MemoryEntry>>,
}

impl OffsetStore for MemoryOffsetStore {
    fn get(&self, connector: &str, partition: &Map<String, Json>) -> Option<SourceOffset> {
        let key = format!("{connector}\u{0}{}", serde_json::to_string(partition).ok()?);
        self.state
            .lock()
            .expect("lock")
            .get(&key)
            .map(|(_, _, o)| o.clone())
    }
    fn put(
        &self,
        connector: &str,
        offsets: &[(SourcePartition, SourceOffset)],
    ) -> Result<(), ConnectError> {
        let mut state = self.state.lock().expect("lock");
        for (p, o) in offsets {
            let key = format!(
                "{connector}\u{0}{}",
                serde_json::to_string(&**p).unwrap_or_default()
            );
            state.insert(key, (connector.to_string(), (**p).clone(), o.clone()));
        }
        Ok(())
    }
    fn remove(
        &self,
        connector: &str,
        partitions: &[Map<String, Json>],
    ) -> Result<(), ConnectError> {
        let mut state = self.state.lock().expect("lock");
        for p in partitions {
            state.remove(&format!(
                "{connector}\u{0}{}",
                serde_json::to_string(p).unwrap_or_default()
            ));
        }
        Ok(())
    }
    fn all(&self, connector: &str) -> Vec<(Map<String, Json>, SourceOffset)> {
        self.state
            .lock()
            .expect("lock")
            .values()
            .filter(|(c, _, _)| c == connector)
            .map(|(_, p, o)| (p.clone(), o.clone()))
            .collect()
    }
}

/// An [`OffsetReader`] over one connector's entries of a store.
pub struct ConnectorOffsets {
    pub connector: String,
    pub store: Arc<dyn OffsetStore>,
}

impl OffsetReader for ConnectorOffsets {
    fn offset(&self, partition: &Map<String, Json>) -> Option<SourceOffset> {
        self.store.get(&self.connector, partition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn partition(name: &str) -> SourcePartition {
        Arc::new(json!({"filename": name}).as_object().unwrap().clone())
    }
    fn offset(pos: u64) -> SourceOffset {
        json!({"position": pos}).as_object().unwrap().clone()
    }
    fn record(p: &SourcePartition, pos: u64) -> SourceRecord {
        SourceRecord::new(
            Some(p.clone()),
            Some(offset(pos)),
            "t",
            None,
            sluice_connect_api::Value::Null,
        )
    }

    #[test]
    fn out_of_order_acks_never_pass_an_unacknowledged_batch() {
        let p = partition("a");
        let mut t = OffsetTracker::new();
        let b0 = t.register(&[record(&p, 10), record(&p, 20)]);
        let b1 = t.register(&[record(&p, 30)]);
        let b2 = t.register(&[record(&p, 40)]);
        t.ack(b2);
        t.ack(b1);
        assert!(
            t.take_committable().is_empty(),
            "batch 0 is not acknowledged yet"
        );
        t.ack(b0);
        let c = t.take_committable();
        assert_eq!(c, vec![(p.clone(), offset(40))]);
        assert_eq!(t.pending_batches(), 0);
        // Double and unknown acks are harmless.
        t.ack(b0);
        t.ack(999);
        assert!(t.take_committable().is_empty());
    }

    #[test]
    fn committable_advances_only_over_the_acknowledged_prefix() {
        let (a, b) = (partition("a"), partition("b"));
        let mut t = OffsetTracker::new();
        let b0 = t.register(&[record(&a, 1), record(&b, 100), record(&a, 2)]);
        let b1 = t.register(&[record(&b, 200)]);
        let _b2 = t.register(&[record(&a, 3)]);
        t.ack(b0);
        let mut c = t.take_committable();
        c.sort_by_key(|(p, _)| p["filename"].as_str().unwrap().to_string());
        assert_eq!(c, vec![(a.clone(), offset(2)), (b.clone(), offset(100))]);
        t.ack(b1);
        assert_eq!(t.take_committable(), vec![(b, offset(200))]);
        assert_eq!(t.pending_batches(), 1);
    }

    #[test]
    fn records_without_offsets_still_hold_their_place() {
        let a = partition("a");
        let mut t = OffsetTracker::new();
        let mut no_offset = record(&a, 0);
        no_offset.source_offset = None;
        let b0 = t.register(&[no_offset]);
        let b1 = t.register(&[record(&a, 5)]);
        t.ack(b1);
        assert!(t.take_committable().is_empty());
        t.ack(b0);
        assert_eq!(t.take_committable(), vec![(a, offset(5))]);
    }

    #[test]
    fn file_store_is_atomic_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.json");
        let store = FileOffsetStore::open(&path).unwrap();
        assert!(store.get("c", &partition("a")).is_none());
        store.put("c", &[(partition("a"), offset(7))]).unwrap();
        store
            .put(
                "c",
                &[(partition("a"), offset(9)), (partition("b"), offset(1))],
            )
            .unwrap();
        store.put("other", &[(partition("a"), offset(3))]).unwrap();
        // No temporary files are left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["offsets.json".to_string()]);
        let doc: Json = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert!(doc["offsets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == json!(["c", {"filename": "a"}])
                && e["value"] == json!({"position": 9})));
        let reopened = FileOffsetStore::open(&path).unwrap();
        assert_eq!(reopened.get("c", &partition("a")), Some(offset(9)));
        assert_eq!(reopened.get("other", &partition("a")), Some(offset(3)));
        assert_eq!(reopened.all("c").len(), 2);
    }

    #[test]
    fn failed_write_keeps_the_old_file_and_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.json");
        let store = FileOffsetStore::open(&path).unwrap();
        store.put("c", &[(partition("a"), offset(1))]).unwrap();
        let before = std::fs::read(&path).unwrap();
        // Make the rename target a directory: the write must fail and the
        // previous file and in-memory state must survive.
        let blocked = FileOffsetStore {
            path: dir.path().to_path_buf(),
            state: Mutex::new(store.state.lock().unwrap().clone()),
        };
        assert!(blocked.put("c", &[(partition("a"), offset(2))]).is_err());
        assert_eq!(blocked.get("c", &partition("a")), Some(offset(1)));
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.json");
        std::fs::write(&path, b"{not json").unwrap();
        let err = FileOffsetStore::open(&path).err().unwrap();
        assert!(err.to_string().contains("offsets.json"), "{err}");
    }
}
