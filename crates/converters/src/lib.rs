//! sluice converters.
