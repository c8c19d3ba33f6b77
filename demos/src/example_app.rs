//! The course's example application (placeholder until the mux work lands):
//! `handler()` is what `bin/example.rs` serves.

use server::{handler_fn, Handler};
use std::sync::Arc;

/// The example application's root handler.
pub fn handler() -> Arc<dyn Handler> {
    Arc::new(handler_fn(|w, _r| {
        Box::pin(async move {
            let _ = w.write(b"Hello, World!").await;
        })
    }))
}
