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
