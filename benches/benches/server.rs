//! Placeholder: the server benchmark is being written.
fn main() {}
