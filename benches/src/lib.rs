//! Shared helpers for the benchmarks (written by the benches work).
