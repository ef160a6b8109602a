//! Where the registry keeps its contents.
//!
//! The registry changes its in-memory [`State`] only after the storage said
//! a change is durable, one change set at a time (changes are serialized).
//! [`FileStorage`] rewrites one JSON file atomically; [`MemoryStorage`]
//! keeps nothing. A log-structured storage (a Kafka `_schemas` topic) can
//! append the [`Change`]s it is given and rebuild the state at start with
//! [`State::apply`].

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::error::RegistryError;
use crate::state::{Change, State};

/// Durable storage of the registry's contents.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The contents as last stored (an empty [`State::new`] for a new store).
    async fn load(&self) -> Result<State, RegistryError>;

    /// Makes `changes` durable before returning Ok. `after` is the whole
    /// registry with the changes applied: a snapshot storage writes it, a log
    /// storage appends `changes`. On Err the registry forgets the changes
    /// and answers the client with error 50001.
    async fn append(&self, changes: &[Change], after: &State) -> Result<(), RegistryError>;
}

/// Keeps nothing: everything is lost when the process ends.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryStorage;

#[async_trait]
impl Storage for MemoryStorage {
    async fn load(&self) -> Result<State, RegistryError> {
        Ok(State::new())
    }

    async fn append(&self, _changes: &[Change], _after: &State) -> Result<(), RegistryError> {
        Ok(())
    }
}

/// The whole registry in one JSON file, replaced atomically on every change:
/// written to a temporary file beside it, fsynced, renamed over it, and the
/// directory fsynced. A crash leaves either the old or the new contents.
#[derive(Debug, Clone)]
pub struct FileStorage {
    path: PathBuf,
}

impl FileStorage {
    /// Storage in `path` (created, with its directory, on first load).
    pub fn new(path: impl Into<PathBuf>) -> FileStorage {
        FileStorage { path: path.into() }
    }

    /// The data file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, context: &'static str) -> impl FnOnce(std::io::Error) -> RegistryError + '_ {
        move |source| RegistryError::Io {
            context,
            path: self.path.clone(),
            source,
        }
    }

    async fn write(&self, state: &State) -> Result<(), RegistryError> {
        let mut bytes = serde_json::to_vec_pretty(state)
            .map_err(|e| RegistryError::Storage(format!("serializing the registry: {e}")))?;
        bytes.push(b'\n');
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(|e| RegistryError::Storage(format!("writer task failed: {e}")))?
    }
}

#[async_trait]
impl Storage for FileStorage {
    async fn load(&self) -> Result<State, RegistryError> {
        let bytes = match tokio::fs::read(&self.path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    tokio::fs::create_dir_all(dir)
                        .await
                        .map_err(self.io("creating the directory of"))?;
                }
                let state = State::new();
                self.write(&state).await?;
                return Ok(state);
            }
            Err(e) => return Err(self.io("reading")(e)),
        };
        let state: State = serde_json::from_slice(&bytes).map_err(|e| RegistryError::Corrupt {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        state.validate().map_err(|message| RegistryError::Corrupt {
            path: self.path.clone(),
            message,
        })?;
        Ok(state)
    }

    async fn append(&self, _changes: &[Change], after: &State) -> Result<(), RegistryError> {
        self.write(after).await
    }
}

/// write temp → fsync → rename → fsync directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let io = |context: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| RegistryError::Io {
            context,
            path: p,
            source,
        }
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "registry".to_string());
    let tmp = dir.join(format!(".{file_name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io("creating", &tmp))?;
        f.write_all(bytes).map_err(io("writing", &tmp))?;
        f.sync_all().map_err(io("syncing", &tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io("replacing", path))?;
    let d = std::fs::File::open(&dir).map_err(io("opening the directory", &dir))?;
    d.sync_all().map_err(io("syncing the directory", &dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StoredSchema;

    #[tokio::test]
    async fn file_is_created_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/registry.json");
        let storage = FileStorage::new(&path);
        let state = storage.load().await.unwrap();
        assert_eq!(state, State::new());
        assert!(path.exists(), "created on first load");

        let mut next = state.clone();
        let changes = vec![
            Change::PutSchema {
                id: 1,
                schema: StoredSchema {
                    schema: "\"int\"".into(),
                    schema_type: "AVRO".into(),
                    references: vec![],
                },
            },
            Change::PutVersion {
                subject: "s".into(),
                version: 1,
                id: 1,
                deleted: false,
            },
        ];
        for c in &changes {
            next.apply(c);
        }
        storage.append(&changes, &next).await.unwrap();
        assert_eq!(FileStorage::new(&path).load().await.unwrap(), next);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    }

    #[tokio::test]
    async fn damaged_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.json");
        std::fs::write(&path, "{\"schemas\": 3").unwrap();
        let err = FileStorage::new(&path).load().await.unwrap_err();
        assert!(matches!(err, RegistryError::Corrupt { .. }), "{err}");
        std::fs::write(
            &path,
            r#"{"format":1,"subjects":{"s":{"versions":[{"version":1,"id":4}]}}}"#,
        )
        .unwrap();
        let err = FileStorage::new(&path).load().await.unwrap_err();
        assert!(err.to_string().contains("unknown schema id 4"), "{err}");
    }
}
