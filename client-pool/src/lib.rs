//! client-pool: see the issue; being written.
