//! Placeholder: the client benchmark is being written.
fn main() {}
