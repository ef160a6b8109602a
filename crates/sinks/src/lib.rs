//! sluice sinks.
