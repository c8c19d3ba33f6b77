//! Taking a mutex whose holder may have panicked.
//!
//! The pool's lists and a request writer's shared state sit behind
//! `std::sync::Mutex`es. A panic while one is held poisons it; refusing all
//! later service for that would turn one bug into an outage, and every
//! update made under these locks leaves the data consistent at each step.
//! So every lock in this crate is taken through [`lock`], which keeps going.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning (see the module doc for why).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
