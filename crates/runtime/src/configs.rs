//! Where connector configurations are kept between runs.
//!
//! Kafka Connect keeps them in `config.storage.topic`; sluice does too (the
//! Kafka implementation is in sluice-kafka). A worker with a config store
//! writes a connector's configuration before starting it and its target
//! state when it is paused or resumed; on start, the binary restarts every
//! stored connector that no file names.

use sluice_connect_api::config::Props;
use sluice_connect_api::ConnectError;

use crate::task::TargetState;

/// A connector as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConnector {
    pub name: String,
    pub config: Props,
    pub target: TargetState,
}

/// Durable connector configurations. Calls block (call them on a blocking
/// thread); `Ok` means durable.
pub trait ConfigStore: Send + Sync {
    /// Every stored connector.
    fn connectors(&self) -> Vec<StoredConnector>;
    /// Stores a connector's configuration and its tasks' configurations.
    fn put_connector(
        &self,
        name: &str,
        config: &Props,
        tasks: &[Props],
    ) -> Result<(), ConnectError>;
    /// Stores the state the operator wants the connector in.
    fn put_target_state(&self, name: &str, target: TargetState) -> Result<(), ConnectError>;
    /// Forgets a connector.
    fn remove_connector(&self, name: &str) -> Result<(), ConnectError>;
}

/// Connector configurations in a JSON file (`config.storage.file.filename`,
/// sluice's standalone counterpart of `config.storage.topic`), rewritten
/// atomically on every change: `{"version": 1, "connectors": {"<name>":
/// {"config": {…}, "target": "STARTED"|"PAUSED"|"STOPPED"}}}`.
pub struct FileConfigStore {
    path: std::path::PathBuf,
    state: std::sync::Mutex<std::collections::BTreeMap<String, StoredConnector>>,
}

fn target_name(t: TargetState) -> &'static str {
    match t {
        TargetState::Started => "STARTED",
        TargetState::Paused => "PAUSED",
        TargetState::Stopped => "STOPPED",
    }
}

impl FileConfigStore {
    /// Opens (or starts) the store; a corrupt file is an error naming it.
    pub fn open(path: impl Into<std::path::PathBuf>) -> Result<FileConfigStore, ConnectError> {
        let path = path.into();
        let mut state = std::collections::BTreeMap::new();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
                    ConnectError::config(format!(
                        "connector config file {} is not valid JSON ({e})",
                        path.display()
                    ))
                })?;
                if let Some(map) = doc.get("connectors").and_then(|c| c.as_object()) {
                    for (name, entry) in map {
                        let config: Props = entry
                            .get("config")
                            .and_then(|c| c.as_object())
                            .map(|m| {
                                m.iter()
                                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let target = match entry.get("target").and_then(|t| t.as_str()) {
                            Some("PAUSED") => TargetState::Paused,
                            Some("STOPPED") => TargetState::Stopped,
                            _ => TargetState::Started,
                        };
                        state.insert(
                            name.clone(),
                            StoredConnector {
                                name: name.clone(),
                                config,
                                target,
                            },
                        );
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ConnectError::io(
                    format!("reading connector config file {}", path.display()),
                    e,
                ))
            }
        }
        Ok(FileConfigStore {
            path,
            state: std::sync::Mutex::new(state),
        })
    }

    fn write(
        &self,
        state: &std::collections::BTreeMap<String, StoredConnector>,
    ) -> Result<(), ConnectError> {
        let connectors: serde_json::Map<String, serde_json::Value> = state
            .values()
            .map(|c| {
                (
                    c.name.clone(),
                    serde_json::json!({"config": c.config, "target": target_name(c.target)}),
                )
            })
            .collect();
        let bytes =
            serde_json::to_vec_pretty(&serde_json::json!({"version": 1, "connectors": connectors}))
                .map_err(|e| ConnectError::internal(e.to_string()))?;
        crate::offsets::write_atomically(&self.path, &bytes).map_err(|e| {
            ConnectError::io(
                format!("writing connector config file {}", self.path.display()),
                e,
            )
        })
    }

    fn update(
        &self,
        f: impl FnOnce(&mut std::collections::BTreeMap<String, StoredConnector>),
    ) -> Result<(), ConnectError> {
        let mut state = self.state.lock().expect("configs");
        let mut next = state.clone();
        f(&mut next);
        self.write(&next)?;
        *state = next;
        Ok(())
    }
}

impl ConfigStore for FileConfigStore {
    fn connectors(&self) -> Vec<StoredConnector> {
        self.state
            .lock()
            .expect("configs")
            .values()
            .cloned()
            .collect()
    }

    fn put_connector(
        &self,
        name: &str,
        config: &Props,
        _tasks: &[Props],
    ) -> Result<(), ConnectError> {
        self.update(|s| {
            let target = s.get(name).map_or(TargetState::Started, |c| c.target);
            s.insert(
                name.to_string(),
                StoredConnector {
                    name: name.to_string(),
                    config: config.clone(),
                    target,
                },
            );
        })
    }

    fn put_target_state(&self, name: &str, target: TargetState) -> Result<(), ConnectError> {
        self.update(|s| {
            if let Some(c) = s.get_mut(name) {
                c.target = target;
            }
        })
    }

    fn remove_connector(&self, name: &str) -> Result<(), ConnectError> {
        self.update(|s| {
            s.remove(name);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_store_keeps_configs_and_targets_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connectors.json");
        let store = FileConfigStore::open(&path).unwrap();
        let config: Props = [("name", "a"), ("secret", "${env:PW}")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        store.put_connector("a", &config, &[]).unwrap();
        store.put_connector("b", &config, &[]).unwrap();
        store.put_target_state("a", TargetState::Paused).unwrap();
        store.remove_connector("b").unwrap();
        let reopened = FileConfigStore::open(&path).unwrap();
        let all = reopened.connectors();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].name, "a");
        assert_eq!(all[0].target, TargetState::Paused);
        // Placeholders are stored as written, never resolved.
        assert_eq!(all[0].config["secret"], "${env:PW}");
        std::fs::write(&path, "not json").unwrap();
        assert!(FileConfigStore::open(&path).is_err());
    }
}
