//! Making sure topics exist before records are sent to them.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use sluice_connect_api::{ConnectError, ErrorKind};

use crate::client::client_config;
use crate::kafka_error;
use crate::topics::{NewTopicSpec, TopicCreation};

/// Creates missing topics with a connector's KIP-158 settings; remembers
/// which topics are known to exist so the hot path asks nothing.
pub struct TopicManager {
    admin: Arc<AdminClient<DefaultClientContext>>,
    known: Mutex<HashSet<String>>,
    creation: TopicCreation,
    timeout: Duration,
}

impl TopicManager {
    pub fn new(
        settings: &BTreeMap<String, String>,
        creation: TopicCreation,
    ) -> Result<TopicManager, ConnectError> {
        // Only connection and security settings matter to the admin client;
        // producer tuning keys would be rejected by it.
        let admin_settings: BTreeMap<String, String> = settings
            .iter()
            .filter(|(k, _)| {
                k.as_str() == "bootstrap.servers"
                    || k.starts_with("security.")
                    || k.starts_with("sasl.")
                    || k.starts_with("ssl.")
                    || k.starts_with("socket.")
                    || k.as_str() == "client.id"
                    || k.as_str() == "enable.ssl.certificate.verification"
                    || k.as_str() == "debug"
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let admin: AdminClient<DefaultClientContext> = client_config(&admin_settings, &[])
            .create()
            .map_err(|e| kafka_error("creating the Kafka admin client", &e))?;
        Ok(TopicManager {
            admin: Arc::new(admin),
            known: Mutex::new(HashSet::new()),
            creation,
            timeout: Duration::from_secs(30),
        })
    }

    /// The number of partitions of `topic`, `None` if it does not exist.
    pub async fn partitions(&self, topic: &str) -> Result<Option<usize>, ConnectError> {
        let admin = self.admin.clone();
        let name = topic.to_string();
        let timeout = self.timeout;
        tokio::task::spawn_blocking(move || {
            let md = admin
                .inner()
                .fetch_metadata(Some(&name), timeout)
                .map_err(|e| kafka_error(&format!("reading metadata of topic {name}"), &e))?;
            Ok(md
                .topics()
                .iter()
                .find(|t| t.name() == name)
                .filter(|t| t.error().is_none() && !t.partitions().is_empty())
                .map(|t| t.partitions().len()))
        })
        .await
        .map_err(|e| ConnectError::internal(format!("metadata task failed: {e}")))?
    }

    /// Makes sure `topic` exists, creating it when missing.
    pub async fn ensure(&self, topic: &str) -> Result<(), ConnectError> {
        if self.known.lock().expect("topics").contains(topic) {
            return Ok(());
        }
        if self.partitions(topic).await?.is_none() {
            if !self.creation.enabled() {
                return Err(ConnectError::config(format!(
                    "topic {topic} does not exist and topic.creation.enable=false; create it or enable topic creation"
                )));
            }
            let spec = self.creation.spec_for(topic);
            self.create(topic, &spec).await?;
            let deadline = tokio::time::Instant::now() + self.timeout;
            while self.partitions(topic).await?.is_none() {
                if tokio::time::Instant::now() >= deadline {
                    return Err(ConnectError::new(
                        ErrorKind::Timeout,
                        format!(
                            "topic {topic} was created but its metadata did not appear within {:?}",
                            self.timeout
                        ),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        self.known.lock().expect("topics").insert(topic.to_string());
        Ok(())
    }

    /// Creates a topic (an existing one is fine). When the broker refuses
    /// "the broker's default" (-1: brokers before 2.4, or ones that do not
    /// implement KIP-464), retries with 1 partition and replication factor
    /// 1 and says so.
    pub async fn create(&self, topic: &str, spec: &NewTopicSpec) -> Result<(), ConnectError> {
        match self
            .create_once(
                topic,
                spec.partitions,
                spec.replication_factor,
                &spec.configs,
            )
            .await
        {
            Err(code)
                if (spec.partitions == -1 || spec.replication_factor == -1)
                    && matches!(
                        code,
                        RDKafkaErrorCode::InvalidPartitions
                            | RDKafkaErrorCode::InvalidReplicationFactor
                            | RDKafkaErrorCode::InvalidRequest
                            | RDKafkaErrorCode::UnsupportedVersion
                    ) =>
            {
                let (p, r) = (
                    if spec.partitions == -1 {
                        1
                    } else {
                        spec.partitions
                    },
                    if spec.replication_factor == -1 {
                        1
                    } else {
                        spec.replication_factor
                    },
                );
                tracing::warn!(
                    topic,
                    partitions = p,
                    replication_factor = r,
                    "the broker does not take -1 (its default) for partitions/replication.factor ({code:?}); \
                     creating the topic with these; set topic.creation.default.partitions and \
                     topic.creation.default.replication.factor to choose"
                );
                self.create_once(topic, p, r, &spec.configs)
                    .await
                    .map_err(|code| create_error(topic, code))
            }
            Err(code) => Err(create_error(topic, code)),
            Ok(()) => {
                tracing::info!(
                    topic,
                    partitions = spec.partitions,
                    replication_factor = spec.replication_factor,
                    group = %spec.group,
                    "created topic"
                );
                Ok(())
            }
        }
    }

    async fn create_once(
        &self,
        topic: &str,
        partitions: i32,
        replication_factor: i32,
        configs: &BTreeMap<String, String>,
    ) -> Result<(), RDKafkaErrorCode> {
        let mut new = NewTopic::new(
            topic,
            partitions,
            TopicReplication::Fixed(replication_factor),
        );
        for (k, v) in configs {
            new = new.set(k, v);
        }
        let opts = AdminOptions::new().operation_timeout(Some(self.timeout));
        match self.admin.create_topics([&new], &opts).await {
            Ok(results) => match results.into_iter().next() {
                Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) | Some(Ok(_)) | None => Ok(()),
                Some(Err((_, code))) => Err(code),
            },
            Err(KafkaError::AdminOp(code)) => Err(code),
            Err(e) => Err(e.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail)),
        }
    }
}

fn create_error(topic: &str, code: RDKafkaErrorCode) -> ConnectError {
    let kind = match code {
        RDKafkaErrorCode::TopicAuthorizationFailed
        | RDKafkaErrorCode::ClusterAuthorizationFailed => ErrorKind::Permission,
        RDKafkaErrorCode::InvalidConfig
        | RDKafkaErrorCode::InvalidReplicationFactor
        | RDKafkaErrorCode::InvalidPartitions
        | RDKafkaErrorCode::PolicyViolation
        | RDKafkaErrorCode::InvalidTopic => ErrorKind::Config,
        _ => ErrorKind::Connection,
    };
    ConnectError::new(
        kind,
        format!("creating topic {topic} failed: {code} ({code:?}); check topic.creation.* and the broker's ACLs"),
    )
}
