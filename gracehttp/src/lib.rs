//! gracehttp: see the issue; being written.
