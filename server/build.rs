//! Probes for the tools the tests drive: see `scripts/tool_probe.rs`.

include!("../scripts/tool_probe.rs");
