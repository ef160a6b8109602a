//! Topic creation as Kafka Connect does it for source connectors (KIP-158):
//! `topic.creation.groups`, and per group (`default` plus the listed ones)
//! `include` / `exclude` regex lists, `replication.factor`, `partitions`
//! and any other key as a topic-level config (`cleanup.policy`, …).
//!
//! The first listed group whose `include` matches a topic (and whose
//! `exclude` does not) decides; otherwise `default`. Kafka Connect creates
//! topics only when the connector configures `topic.creation.default.*`
//! and relies on the broker's auto-creation otherwise; sluice creates
//! missing topics in both cases (brokers such as tansu, and production
//! clusters, commonly disable auto-creation), using the broker's defaults
//! (`-1`, KIP-464) when the connector says nothing.

use std::collections::BTreeMap;

use regex::Regex;
use sluice_connect_api::config::Props;

/// How one topic is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopicSpec {
    /// -1: the broker's default.
    pub partitions: i32,
    /// -1: the broker's default.
    pub replication_factor: i32,
    /// Topic-level configs (`cleanup.policy`, `retention.ms`, …).
    pub configs: BTreeMap<String, String>,
    /// The group that matched (`default` when none did).
    pub group: String,
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
    partitions: Option<i32>,
    replication_factor: Option<i32>,
    configs: BTreeMap<String, String>,
}

/// A connector's topic creation rules.
#[derive(Debug, Clone)]
pub struct TopicCreation {
    enabled: bool,
    groups: Vec<Group>,
    default: Group,
}

/// A problem with a `topic.creation.*` key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct TopicCreationError {
    pub key: String,
    pub message: String,
}

fn regex_list(key: &str, value: Option<&String>) -> Result<Vec<Regex>, TopicCreationError> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|p| {
                    Regex::new(&format!("^(?:{p})$")).map_err(|e| TopicCreationError {
                        key: key.to_string(),
                        message: format!("invalid regular expression {p:?}: {e}"),
                    })
                })
                .collect()
        })
        .unwrap_or_else(|| Ok(Vec::new()))
}

fn parse_group(props: &Props, name: &str) -> Result<Group, TopicCreationError> {
    let prefix = format!("topic.creation.{name}.");
    let int = |suffix: &str, min: i32| -> Result<Option<i32>, TopicCreationError> {
        let key = format!("{prefix}{suffix}");
        match props.get(&key) {
            None => Ok(None),
            Some(v) => {
                let n: i32 = v.trim().parse().map_err(|_| TopicCreationError {
                    key: key.clone(),
                    message: format!("expected an integer, got {v:?}"),
                })?;
                if n == 0 || n < min {
                    return Err(TopicCreationError {
                        key,
                        message: format!(
                            "must be -1 (the broker's default) or at least 1, got {n}"
                        ),
                    });
                }
                Ok(Some(n))
            }
        }
    };
    let mut configs = BTreeMap::new();
    for (k, v) in props {
        if let Some(rest) = k.strip_prefix(&prefix) {
            if !matches!(
                rest,
                "include" | "exclude" | "partitions" | "replication.factor"
            ) {
                configs.insert(rest.to_string(), v.clone());
            }
        }
    }
    Ok(Group {
        name: name.to_string(),
        include: regex_list(
            &format!("{prefix}include"),
            props.get(&format!("{prefix}include")),
        )?,
        exclude: regex_list(
            &format!("{prefix}exclude"),
            props.get(&format!("{prefix}exclude")),
        )?,
        partitions: int("partitions", -1)?,
        replication_factor: int("replication.factor", -1)?,
        configs,
    })
}

impl TopicCreation {
    /// Reads a connector's keys; `worker_enabled` is the worker's
    /// `topic.creation.enable`.
    pub fn from_props(props: &Props, worker_enabled: bool) -> Result<Self, TopicCreationError> {
        let names: Vec<String> = props
            .get("topic.creation.groups")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let mut groups = Vec::new();
        for name in &names {
            if name == "default" {
                continue;
            }
            let g = parse_group(props, name)?;
            if g.include.is_empty() {
                return Err(TopicCreationError {
                    key: format!("topic.creation.{name}.include"),
                    message: "a topic creation group needs an include list".to_string(),
                });
            }
            groups.push(g);
        }
        Ok(TopicCreation {
            enabled: worker_enabled,
            groups,
            default: parse_group(props, "default")?,
        })
    }

    /// Whether missing topics are created.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// How `topic` would be created.
    pub fn spec_for(&self, topic: &str) -> NewTopicSpec {
        let matches = |g: &Group| {
            g.include.iter().any(|r| r.is_match(topic))
                && !g.exclude.iter().any(|r| r.is_match(topic))
        };
        let group = self.groups.iter().find(|g| matches(g));
        let d = &self.default;
        let pick = |g: Option<&Group>, f: fn(&Group) -> Option<i32>| {
            g.and_then(f).or_else(|| f(d)).unwrap_or(-1)
        };
        let mut configs = d.configs.clone();
        if let Some(g) = group {
            configs.extend(g.configs.clone());
        }
        NewTopicSpec {
            partitions: pick(group, |g| g.partitions),
            replication_factor: pick(group, |g| g.replication_factor),
            configs,
            group: group.map_or_else(|| "default".to_string(), |g| g.name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn groups_match_in_order_and_fall_back_to_default() {
        let p = props(&[
            ("topic.creation.groups", "compacted,inorder"),
            ("topic.creation.default.replication.factor", "3"),
            ("topic.creation.default.partitions", "5"),
            ("topic.creation.default.retention.ms", "86400000"),
            (
                "topic.creation.compacted.include",
                "shop\\.public\\.config.*, heartbeats",
            ),
            ("topic.creation.compacted.cleanup.policy", "compact"),
            ("topic.creation.compacted.partitions", "1"),
            ("topic.creation.inorder.include", "shop\\..*"),
            ("topic.creation.inorder.exclude", "shop\\.public\\.skip"),
            ("topic.creation.inorder.partitions", "1"),
            ("topic.creation.inorder.replication.factor", "-1"),
        ]);
        let tc = TopicCreation::from_props(&p, true).unwrap();
        let s = tc.spec_for("shop.public.config_items");
        assert_eq!((s.partitions, s.replication_factor), (1, 3));
        assert_eq!(s.group, "compacted");
        assert_eq!(s.configs["cleanup.policy"], "compact");
        assert_eq!(s.configs["retention.ms"], "86400000");
        let s = tc.spec_for("shop.public.orders");
        assert_eq!(
            (s.partitions, s.replication_factor, s.group.as_str()),
            (1, -1, "inorder")
        );
        assert!(!s.configs.contains_key("cleanup.policy"));
        // Excluded from inorder; the include regex must match the whole name.
        for t in ["shop.public.skip", "xshop.public.orders", "heartbeats2"] {
            let s = tc.spec_for(t);
            assert_eq!(
                (s.partitions, s.replication_factor, s.group.as_str()),
                (5, 3, "default"),
                "{t}"
            );
        }
        assert_eq!(tc.spec_for("heartbeats").group, "compacted");
    }

    #[test]
    fn without_settings_the_broker_decides() {
        let tc = TopicCreation::from_props(&props(&[]), true).unwrap();
        let s = tc.spec_for("anything");
        assert_eq!((s.partitions, s.replication_factor), (-1, -1));
        assert!(s.configs.is_empty());
    }

    #[test]
    fn bad_settings_name_the_key() {
        let e =
            TopicCreation::from_props(&props(&[("topic.creation.default.partitions", "0")]), true)
                .unwrap_err();
        assert_eq!(e.key, "topic.creation.default.partitions");
        let e = TopicCreation::from_props(
            &props(&[
                ("topic.creation.groups", "g"),
                ("topic.creation.g.partitions", "1"),
            ]),
            true,
        )
        .unwrap_err();
        assert_eq!(e.key, "topic.creation.g.include");
        let e = TopicCreation::from_props(
            &props(&[
                ("topic.creation.groups", "g"),
                ("topic.creation.g.include", "a("),
            ]),
            true,
        )
        .unwrap_err();
        assert_eq!(e.key, "topic.creation.g.include");
    }
}
