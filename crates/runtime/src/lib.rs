//! sluice worker core.
