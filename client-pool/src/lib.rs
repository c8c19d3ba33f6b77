//! client-pool: Go's Transport and Client (being written).

pub mod reverse_proxy;
