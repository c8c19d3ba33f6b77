//! The live-reload tool (placeholder until the reload work lands).
