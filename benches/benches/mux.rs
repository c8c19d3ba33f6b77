//! Placeholder: the mux benchmark is being written.
fn main() {}
