//! What the registry knows: schemas by id, subjects with their versions,
//! compatibility settings. Changed only through [`Change`]s, which is also
//! what a [`Storage`](crate::Storage) makes durable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::compat::Compatibility;

/// The format written into data files; bumped on an incompatible change.
pub const STATE_FORMAT: u32 = 1;

/// The whole registry. Serialized as is into the data file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_FORMAT`] when written by this version.
    #[serde(default)]
    format: u32,
    /// The global compatibility level, when one was set (BACKWARD otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compatibility: Option<Compatibility>,
    /// Every schema that was ever given an id. An id is never reused and
    /// never means another schema, even after its versions are deleted.
    #[serde(default)]
    schemas: BTreeMap<u32, StoredSchema>,
    /// Subjects with versions or with their own compatibility level.
    #[serde(default)]
    subjects: BTreeMap<String, SubjectState>,
}

/// One schema as registered (its text normalized, see `avro::parse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSchema {
    /// The normalized schema text.
    pub schema: String,
    /// `AVRO` (the only type this registry accepts so far).
    #[serde(rename = "schemaType", default = "avro_type")]
    pub schema_type: String,
    /// Schema references (`{"name","subject","version"}`), kept verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<serde_json::Value>,
}

fn avro_type() -> String {
    "AVRO".to_string()
}

/// A subject: its versions (ascending) and its own compatibility level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubjectState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<Compatibility>,
    #[serde(default)]
    pub versions: Vec<VersionEntry>,
}

/// One version of a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEntry {
    pub version: u32,
    pub id: u32,
    /// Soft-deleted: hidden unless asked for, still resolvable by id.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// One change to the registry. A log-structured storage (such as a Kafka
/// `_schemas` topic) can append these and replay them with [`State::apply`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A schema gets its (new) global id.
    PutSchema { id: u32, schema: StoredSchema },
    /// A subject version is created, or its deleted flag changes.
    PutVersion {
        subject: String,
        version: u32,
        id: u32,
        deleted: bool,
    },
    /// A subject version is deleted permanently.
    RemoveVersion { subject: String, version: u32 },
    /// The compatibility level of a subject (or the global one when
    /// `subject` is None) is set, or removed when `level` is None.
    SetCompatibility {
        subject: Option<String>,
        level: Option<Compatibility>,
    },
}

impl State {
    /// An empty registry.
    pub fn new() -> State {
        State {
            format: STATE_FORMAT,
            ..State::default()
        }
    }

    /// Applies one change. Changes are applied in the order they were made;
    /// applying a change twice has the same effect as applying it once.
    pub fn apply(&mut self, change: &Change) {
        self.format = STATE_FORMAT;
        match change {
            Change::PutSchema { id, schema } => {
                self.schemas.insert(*id, schema.clone());
            }
            Change::PutVersion {
                subject,
                version,
                id,
                deleted,
            } => {
                let entry = VersionEntry {
                    version: *version,
                    id: *id,
                    deleted: *deleted,
                };
                let versions = &mut self.subjects.entry(subject.clone()).or_default().versions;
                match versions.binary_search_by_key(version, |v| v.version) {
                    Ok(i) => versions[i] = entry,
                    Err(i) => versions.insert(i, entry),
                }
            }
            Change::RemoveVersion { subject, version } => {
                if let Some(s) = self.subjects.get_mut(subject) {
                    s.versions.retain(|v| v.version != *version);
                }
                self.drop_if_empty(subject);
            }
            Change::SetCompatibility { subject, level } => match subject {
                None => self.compatibility = *level,
                Some(subject) => {
                    self.subjects
                        .entry(subject.clone())
                        .or_default()
                        .compatibility = *level;
                    self.drop_if_empty(subject);
                }
            },
        }
    }

    fn drop_if_empty(&mut self, subject: &str) {
        if let Some(s) = self.subjects.get(subject) {
            if s.versions.is_empty() && s.compatibility.is_none() {
                self.subjects.remove(subject);
            }
        }
    }

    /// The data file's format number.
    pub fn format(&self) -> u32 {
        self.format
    }

    /// The global compatibility level, when one was set.
    pub fn global_compatibility(&self) -> Option<Compatibility> {
        self.compatibility
    }

    /// Every schema by id.
    pub fn schemas(&self) -> &BTreeMap<u32, StoredSchema> {
        &self.schemas
    }

    /// Every subject by name.
    pub fn subjects(&self) -> &BTreeMap<String, SubjectState> {
        &self.subjects
    }

    /// The next free schema id.
    pub fn next_id(&self) -> u32 {
        self.schemas.keys().next_back().map_or(1, |id| id + 1)
    }

    /// Checks what a data file said: every version points at a known schema,
    /// versions ascend.
    pub fn validate(&self) -> Result<(), String> {
        if self.format > STATE_FORMAT {
            return Err(format!(
                "format {} is newer than this sluice understands ({STATE_FORMAT})",
                self.format
            ));
        }
        for (name, subject) in &self.subjects {
            let mut last = 0;
            for v in &subject.versions {
                if v.version <= last {
                    return Err(format!("subject '{name}': versions are not ascending"));
                }
                last = v.version;
                if !self.schemas.contains_key(&v.id) {
                    return Err(format!(
                        "subject '{name}' version {} refers to unknown schema id {}",
                        v.version, v.id
                    ));
                }
            }
        }
        if self.schemas.contains_key(&0) {
            return Err("schema id 0 is not valid".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(text: &str) -> StoredSchema {
        StoredSchema {
            schema: text.to_string(),
            schema_type: "AVRO".to_string(),
            references: vec![],
        }
    }

    #[test]
    fn apply_builds_subjects_and_ids() {
        let mut s = State::new();
        assert_eq!(s.next_id(), 1);
        s.apply(&Change::PutSchema {
            id: 1,
            schema: schema("\"string\""),
        });
        s.apply(&Change::PutVersion {
            subject: "a".into(),
            version: 2,
            id: 1,
            deleted: false,
        });
        s.apply(&Change::PutVersion {
            subject: "a".into(),
            version: 1,
            id: 1,
            deleted: true,
        });
        assert_eq!(s.next_id(), 2);
        let versions: Vec<u32> = s.subjects()["a"]
            .versions
            .iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(versions, vec![1, 2]);
        s.apply(&Change::RemoveVersion {
            subject: "a".into(),
            version: 1,
        });
        s.apply(&Change::RemoveVersion {
            subject: "a".into(),
            version: 2,
        });
        assert!(s.subjects().is_empty(), "an empty subject is dropped");
        assert_eq!(s.next_id(), 2, "ids are not reused");
        s.validate().unwrap();
    }

    #[test]
    fn config_only_subject_is_kept_until_config_removed() {
        let mut s = State::new();
        s.apply(&Change::SetCompatibility {
            subject: Some("x".into()),
            level: Some(Compatibility::Full),
        });
        assert_eq!(s.subjects()["x"].compatibility, Some(Compatibility::Full));
        s.apply(&Change::SetCompatibility {
            subject: Some("x".into()),
            level: None,
        });
        assert!(s.subjects().is_empty());
    }

    #[test]
    fn validate_rejects_dangling_ids() {
        let mut s = State::new();
        s.apply(&Change::PutVersion {
            subject: "a".into(),
            version: 1,
            id: 7,
            deleted: false,
        });
        assert!(s.validate().unwrap_err().contains("unknown schema id 7"));
    }

    #[test]
    fn round_trips_through_json() {
        let mut s = State::new();
        s.apply(&Change::PutSchema {
            id: 1,
            schema: schema("\"int\""),
        });
        s.apply(&Change::PutVersion {
            subject: "t-value".into(),
            version: 1,
            id: 1,
            deleted: false,
        });
        s.apply(&Change::SetCompatibility {
            subject: None,
            level: Some(Compatibility::ForwardTransitive),
        });
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains("\"FORWARD_TRANSITIVE\""), "{text}");
        let back: State = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
    }
}
