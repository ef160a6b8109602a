//! sluice benchmarks.
