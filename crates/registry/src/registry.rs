//! The registry's operations, with Confluent's semantics and errors,
//! independent of HTTP.

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::Schema;

use crate::avro;
use crate::compat::{self, Compatibility, Previous};
use crate::error::{ApiError, RegistryError, INCOMPATIBLE_SCHEMA, INVALID_SCHEMA};
use crate::state::{Change, State, StoredSchema, SubjectState, VersionEntry};
use crate::storage::Storage;

/// What a client sends to register, look up or check a schema.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct SchemaRequest {
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default, rename = "schemaType")]
    pub schema_type: Option<String>,
    #[serde(default)]
    pub references: Option<Vec<serde_json::Value>>,
}

/// `latest` (or -1), or a version number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionSpec {
    Latest,
    Number(u32),
}

impl VersionSpec {
    /// Confluent's `VersionId`: "latest", -1, or 1..=2^31-1.
    pub fn parse(text: &str) -> Result<VersionSpec, ApiError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("latest") {
            return Ok(VersionSpec::Latest);
        }
        match t.parse::<i32>() {
            Ok(-1) => Ok(VersionSpec::Latest),
            Ok(n) if n > 0 => Ok(VersionSpec::Number(n as u32)),
            _ => Err(ApiError::invalid_version(text)),
        }
    }

    fn as_i64(self) -> i64 {
        match self {
            VersionSpec::Latest => -1,
            VersionSpec::Number(n) => i64::from(n),
        }
    }
}

/// One subject version, as served.
#[derive(Debug, Clone)]
pub(crate) struct VersionView {
    pub subject: String,
    pub version: u32,
    pub id: u32,
    pub schema: StoredSchema,
}

pub(crate) struct Registry {
    state: State,
    /// Parsed form of every stored schema, by id.
    parsed: HashMap<u32, Arc<Schema>>,
    /// Id of every stored schema, by (type, normalized text).
    ids: HashMap<(String, String), u32>,
    storage: Arc<dyn Storage>,
}

impl Registry {
    pub async fn open(storage: Arc<dyn Storage>) -> Result<Registry, RegistryError> {
        let state = storage.load().await?;
        let mut parsed = HashMap::new();
        let mut ids = HashMap::new();
        for (id, stored) in state.schemas() {
            let p = avro::parse(&stored.schema)
                .map_err(|message| RegistryError::StoredSchema { id: *id, message })?;
            parsed.insert(*id, Arc::new(p.avro));
            if stored.references.is_empty() {
                ids.insert((stored.schema_type.clone(), stored.schema.clone()), *id);
            }
        }
        Ok(Registry {
            state,
            parsed,
            ids,
            storage,
        })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Stores `changes`, then applies them. Nothing changes when storing fails.
    async fn commit(&mut self, changes: Vec<Change>, what: &str) -> Result<(), ApiError> {
        let mut next = self.state.clone();
        for c in &changes {
            next.apply(c);
        }
        if let Err(e) = self.storage.append(&changes, &next).await {
            tracing::error!("schema registry: {what} failed: {e}");
            return Err(ApiError::store(&format!("{what} failed while writing"), &e));
        }
        self.state = next;
        Ok(())
    }

    fn subject(&self, subject: &str) -> Option<&SubjectState> {
        self.state.subjects().get(subject)
    }

    /// Versions of a subject: all, or only those not soft-deleted.
    fn versions_of(&self, subject: &str, include_deleted: bool) -> Vec<VersionEntry> {
        self.subject(subject)
            .map(|s| {
                s.versions
                    .iter()
                    .filter(|v| include_deleted || !v.deleted)
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn has_versions(&self, subject: &str, include_deleted: bool) -> bool {
        self.subject(subject)
            .is_some_and(|s| s.versions.iter().any(|v| include_deleted || !v.deleted))
    }

    fn view(&self, subject: &str, entry: VersionEntry) -> VersionView {
        VersionView {
            subject: subject.to_string(),
            version: entry.version,
            id: entry.id,
            schema: self.state.schemas()[&entry.id].clone(),
        }
    }

    /// The compatibility level that applies to `subject`.
    pub fn effective_compatibility(&self, subject: &str) -> Compatibility {
        self.subject(subject)
            .and_then(|s| s.compatibility)
            .or(self.state.global_compatibility())
            .unwrap_or(Compatibility::Backward)
    }

    /// Validates what a client sent.
    fn parse_request(req: &SchemaRequest) -> Result<(avro::ParsedSchema, String), ApiError> {
        let schema_type = match req.schema_type.as_deref() {
            None => "AVRO".to_string(),
            Some(t) if t.eq_ignore_ascii_case("AVRO") => "AVRO".to_string(),
            Some(t) => {
                return Err(ApiError::new(
                    INVALID_SCHEMA,
                    format!("Invalid schema type {t}"),
                ))
            }
        };
        if req.references.as_ref().is_some_and(|r| !r.is_empty()) {
            return Err(ApiError::new(
                INVALID_SCHEMA,
                "Invalid schema of type AVRO, details: schema references are not supported by this registry",
            ));
        }
        let text = req.schema.as_deref().unwrap_or("");
        if text.trim().is_empty() {
            return Err(ApiError::new(INVALID_SCHEMA, "Empty schema"));
        }
        let parsed = avro::parse(text).map_err(|e| {
            ApiError::new(
                INVALID_SCHEMA,
                format!("Invalid schema of type {schema_type}, details: {e}"),
            )
        })?;
        Ok((parsed, schema_type))
    }

    fn find_in_subject(
        &self,
        subject: &str,
        schema_type: &str,
        canonical: &str,
        include_deleted: bool,
    ) -> Option<VersionEntry> {
        let id = *self
            .ids
            .get(&(schema_type.to_string(), canonical.to_string()))?;
        // The latest matching version (a schema can be registered twice in a
        // subject when another schema came in between).
        self.versions_of(subject, include_deleted)
            .into_iter()
            .rev()
            .find(|v| v.id == id)
    }

    /// Messages (empty when compatible) for `new` against `against` under the
    /// subject's level.
    fn compatibility_messages(
        &self,
        subject: &str,
        new: &Schema,
        against: &[VersionEntry],
    ) -> Vec<String> {
        let previous: Vec<Previous<'_>> = against
            .iter()
            .map(|v| Previous {
                version: v.version,
                schema: &self.parsed[&v.id],
                text: &self.state.schemas()[&v.id].schema,
            })
            .collect();
        compat::check(self.effective_compatibility(subject), new, &previous)
    }

    /// `POST /subjects/{subject}/versions`: the schema's global id.
    pub async fn register(&mut self, subject: &str, req: &SchemaRequest) -> Result<u32, ApiError> {
        let (parsed, schema_type) = Self::parse_request(req)?;
        // Already registered under this subject: same id, no new version,
        // no compatibility check.
        if let Some(v) = self.find_in_subject(subject, &schema_type, &parsed.canonical, false) {
            return Ok(v.id);
        }
        let live = self.versions_of(subject, false);
        let messages = self.compatibility_messages(subject, &parsed.avro, &live);
        if !messages.is_empty() {
            return Err(ApiError::new(
                INCOMPATIBLE_SCHEMA,
                format!(
                    "Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]",
                    messages.join(", ")
                ),
            ));
        }

        let key = (schema_type.clone(), parsed.canonical.clone());
        let existing_id = self.ids.get(&key).copied();
        let id = existing_id.unwrap_or_else(|| self.state.next_id());
        let version = self
            .subject(subject)
            .and_then(|s| s.versions.last())
            .map_or(1, |v| v.version + 1);
        let mut changes = Vec::new();
        if existing_id.is_none() {
            changes.push(Change::PutSchema {
                id,
                schema: StoredSchema {
                    schema: parsed.canonical.clone(),
                    schema_type,
                    references: Vec::new(),
                },
            });
        }
        // Like Confluent: soft-deleted versions of the same schema in this
        // subject are removed when it is registered again.
        for old in self.versions_of(subject, true) {
            if old.deleted && old.id == id {
                changes.push(Change::RemoveVersion {
                    subject: subject.to_string(),
                    version: old.version,
                });
            }
        }
        changes.push(Change::PutVersion {
            subject: subject.to_string(),
            version,
            id,
            deleted: false,
        });
        self.commit(changes, "Register schema operation").await?;
        if existing_id.is_none() {
            self.parsed.insert(id, Arc::new(parsed.avro));
            self.ids.insert(key, id);
        }
        tracing::info!(
            "schema registry: registered subject '{subject}' version {version} (id {id})"
        );
        Ok(id)
    }

    /// `POST /subjects/{subject}`: the version holding this schema.
    pub fn lookup(
        &self,
        subject: &str,
        req: &SchemaRequest,
        include_deleted: bool,
    ) -> Result<VersionView, ApiError> {
        let (parsed, schema_type) = Self::parse_request(req)?;
        match self.find_in_subject(subject, &schema_type, &parsed.canonical, include_deleted) {
            Some(v) => Ok(self.view(subject, v)),
            None if !self.has_versions(subject, include_deleted) => {
                Err(ApiError::subject_not_found(subject))
            }
            None => Err(ApiError::schema_not_found()),
        }
    }

    /// `GET /schemas/ids/{id}`: known while some version (even soft-deleted)
    /// holds it.
    pub fn schema_by_id(&self, id: u32) -> Result<StoredSchema, ApiError> {
        if self.holders_of(id, true).is_empty() {
            return Err(ApiError::schema_id_not_found(i64::from(id)));
        }
        Ok(self.state.schemas()[&id].clone())
    }

    /// `(subject, version)` pairs holding schema `id`.
    pub fn holders_of(&self, id: u32, include_deleted: bool) -> Vec<(String, u32)> {
        let mut out = Vec::new();
        for (name, s) in self.state.subjects() {
            for v in &s.versions {
                if v.id == id && (include_deleted || !v.deleted) {
                    out.push((name.clone(), v.version));
                }
            }
        }
        out
    }

    /// `GET /subjects`.
    pub fn subjects(&self, include_deleted: bool) -> Vec<String> {
        self.state
            .subjects()
            .iter()
            .filter(|(_, s)| s.versions.iter().any(|v| include_deleted || !v.deleted))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// `GET /subjects/{subject}/versions`.
    pub fn versions(&self, subject: &str, include_deleted: bool) -> Result<Vec<u32>, ApiError> {
        let versions = self.versions_of(subject, include_deleted);
        if versions.is_empty() {
            return Err(ApiError::subject_not_found(subject));
        }
        Ok(versions.iter().map(|v| v.version).collect())
    }

    /// `GET /subjects/{subject}/versions/{version}`.
    pub fn version(
        &self,
        subject: &str,
        spec: VersionSpec,
        include_deleted: bool,
    ) -> Result<VersionView, ApiError> {
        let versions = self.versions_of(subject, include_deleted);
        let found = match spec {
            VersionSpec::Latest => versions.last().copied(),
            VersionSpec::Number(n) => versions.iter().find(|v| v.version == n).copied(),
        };
        match found {
            Some(v) => Ok(self.view(subject, v)),
            None if versions.is_empty() => Err(ApiError::subject_not_found(subject)),
            None => Err(ApiError::version_not_found(spec.as_i64())),
        }
    }

    /// `DELETE /subjects/{subject}`: the versions deleted.
    pub async fn delete_subject(
        &mut self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<u32>, ApiError> {
        let all = self.versions_of(subject, true);
        if all.is_empty() {
            return Err(ApiError::subject_not_found(subject));
        }
        let mut changes = Vec::new();
        let mut deleted = Vec::new();
        if permanent {
            if all.iter().any(|v| !v.deleted) {
                return Err(ApiError::subject_not_soft_deleted(subject));
            }
            for v in &all {
                deleted.push(v.version);
                changes.push(Change::RemoveVersion {
                    subject: subject.to_string(),
                    version: v.version,
                });
            }
            if self
                .subject(subject)
                .is_some_and(|s| s.compatibility.is_some())
            {
                changes.push(Change::SetCompatibility {
                    subject: Some(subject.to_string()),
                    level: None,
                });
            }
        } else {
            let live: Vec<VersionEntry> = all.into_iter().filter(|v| !v.deleted).collect();
            if live.is_empty() {
                return Err(ApiError::subject_soft_deleted(subject));
            }
            for v in live {
                deleted.push(v.version);
                changes.push(Change::PutVersion {
                    subject: subject.to_string(),
                    version: v.version,
                    id: v.id,
                    deleted: true,
                });
            }
        }
        self.commit(changes, "Delete subject operation").await?;
        tracing::info!(
            "schema registry: {} subject '{subject}' (versions {deleted:?})",
            if permanent {
                "permanently deleted"
            } else {
                "soft-deleted"
            }
        );
        Ok(deleted)
    }

    /// `DELETE /subjects/{subject}/versions/{version}`: the version deleted.
    pub async fn delete_version(
        &mut self,
        subject: &str,
        spec: VersionSpec,
        permanent: bool,
    ) -> Result<u32, ApiError> {
        let all = self.versions_of(subject, true);
        let target = match spec {
            VersionSpec::Number(n) => all.iter().find(|v| v.version == n).copied(),
            VersionSpec::Latest if permanent => all.last().copied(),
            VersionSpec::Latest => all
                .iter()
                .rev()
                .find(|v| !v.deleted)
                .or(all.last())
                .copied(),
        };
        let Some(target) = target else {
            return Err(if all.is_empty() {
                ApiError::subject_not_found(subject)
            } else {
                ApiError::version_not_found(spec.as_i64())
            });
        };
        let change = if permanent {
            if !target.deleted {
                return Err(ApiError::version_not_soft_deleted(subject, target.version));
            }
            Change::RemoveVersion {
                subject: subject.to_string(),
                version: target.version,
            }
        } else {
            if target.deleted {
                return Err(ApiError::version_soft_deleted(subject, target.version));
            }
            Change::PutVersion {
                subject: subject.to_string(),
                version: target.version,
                id: target.id,
                deleted: true,
            }
        };
        let mut changes = vec![change];
        // The last version gone for good takes the subject's config with it.
        if permanent
            && all.len() == 1
            && self
                .subject(subject)
                .is_some_and(|s| s.compatibility.is_some())
        {
            changes.push(Change::SetCompatibility {
                subject: Some(subject.to_string()),
                level: None,
            });
        }
        self.commit(changes, "Delete Schema Version operation")
            .await?;
        tracing::info!(
            "schema registry: {} subject '{subject}' version {}",
            if permanent {
                "permanently deleted"
            } else {
                "soft-deleted"
            },
            target.version
        );
        Ok(target.version)
    }

    /// `GET /config[/{subject}]`.
    pub fn get_config(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<Compatibility, ApiError> {
        let global = self
            .state
            .global_compatibility()
            .unwrap_or(Compatibility::Backward);
        match subject {
            None => Ok(global),
            Some(s) => match self.subject(s).and_then(|s| s.compatibility) {
                Some(level) => Ok(level),
                None if default_to_global => Ok(global),
                None => Err(ApiError::compatibility_not_configured(s)),
            },
        }
    }

    /// `PUT /config[/{subject}]`.
    pub async fn set_config(
        &mut self,
        subject: Option<&str>,
        level: Compatibility,
    ) -> Result<(), ApiError> {
        self.commit(
            vec![Change::SetCompatibility {
                subject: subject.map(str::to_string),
                level: Some(level),
            }],
            "Update compatibility level",
        )
        .await?;
        tracing::info!(
            "schema registry: compatibility of {} set to {level}",
            subject.map_or("the registry".to_string(), |s| format!("subject '{s}'"))
        );
        Ok(())
    }

    /// `DELETE /config[/{subject}]`: the level that was set.
    pub async fn delete_config(
        &mut self,
        subject: Option<&str>,
    ) -> Result<Compatibility, ApiError> {
        let previous = match subject {
            None => self
                .state
                .global_compatibility()
                .unwrap_or(Compatibility::Backward),
            Some(s) => self
                .subject(s)
                .and_then(|s| s.compatibility)
                .ok_or_else(|| ApiError::subject_not_found(s))?,
        };
        self.commit(
            vec![Change::SetCompatibility {
                subject: subject.map(str::to_string),
                level: None,
            }],
            "Delete compatibility level",
        )
        .await?;
        Ok(previous)
    }

    /// `POST /compatibility/subjects/{subject}/versions[/{version}]`:
    /// the messages explaining the incompatibility (empty: compatible).
    /// `version` None checks against every live version (the subject's level
    /// then decides which of them count).
    pub fn check_compatibility(
        &self,
        subject: &str,
        version: Option<VersionSpec>,
        req: &SchemaRequest,
        verbose: bool,
    ) -> Result<Vec<String>, ApiError> {
        let live = self.versions_of(subject, false);
        let against: Vec<VersionEntry> = match version {
            None => live,
            Some(VersionSpec::Latest) => live.last().copied().into_iter().collect(),
            Some(VersionSpec::Number(n)) => match live.iter().find(|v| v.version == n) {
                Some(v) => vec![*v],
                None => return Err(ApiError::version_not_found(i64::from(n))),
            },
        };
        let parsed = match Self::parse_request(req) {
            Ok((parsed, _)) => parsed,
            Err(e) if verbose => return Ok(vec![e.message]),
            Err(e) => return Err(e),
        };
        Ok(self.compatibility_messages(subject, &parsed.avro, &against))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    fn req(schema: &str) -> SchemaRequest {
        SchemaRequest {
            schema: Some(schema.to_string()),
            ..SchemaRequest::default()
        }
    }

    #[test]
    fn version_ids_parse_like_confluent() {
        assert_eq!(VersionSpec::parse("latest").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("LATEST").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("-1").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("7").unwrap(), VersionSpec::Number(7));
        for bad in ["0", "-2", "x", "2147483648", ""] {
            assert_eq!(VersionSpec::parse(bad).unwrap_err().code, 42202, "{bad}");
        }
    }

    #[tokio::test]
    async fn soft_deleted_same_schema_is_replaced_on_reregistration() {
        let mut r = Registry::open(Arc::new(MemoryStorage)).await.unwrap();
        assert_eq!(r.register("s", &req("\"string\"")).await.unwrap(), 1);
        r.delete_version("s", VersionSpec::Number(1), false)
            .await
            .unwrap();
        assert_eq!(r.register("s", &req("\"string\"")).await.unwrap(), 1);
        assert_eq!(r.versions("s", true).unwrap(), vec![2]);
    }
}
