//! sluice's PostgreSQL connector.
//!
//! * [`pgoutput`]: sans-io decoder of the pgoutput logical replication
//!   protocol (bytes in, messages out) and the buffer for streamed
//!   transactions.
//! * [`replication`]: the replication-protocol client (startup with
//!   `replication=database`, authentication, TLS, `IDENTIFY_SYSTEM`,
//!   `CREATE_REPLICATION_SLOT`, `START_REPLICATION`, CopyBoth streaming,
//!   standby status updates).
//! * [`types`]: PostgreSQL types → Debezium schemas and values under each
//!   handling mode.

pub mod catalog;
pub mod config;
pub mod connector;
pub mod events;
pub mod filters;
pub mod incremental;
pub mod lsn;
pub mod metrics;
pub mod pgoutput;
pub mod replication;
pub mod slots;
pub mod snapshot;
pub mod types;

pub use connector::PostgresConnector;
