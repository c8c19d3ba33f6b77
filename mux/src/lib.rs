//! mux: see the issue; being written.
