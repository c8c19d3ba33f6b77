//! A small, fast hasher for the mux's lookup tables.
//!
//! Rust's default hasher (SipHash) is built to resist hash flooding, where
//! an attacker inserts many colliding keys. The mux's tables are filled
//! only by the program (its patterns) and only *read* with request paths,
//! so flooding is not possible: a request can only probe the buckets the
//! patterns made. What matters is speed on short strings, so we use the
//! word-at-a-time multiply-rotate hash that rustc uses (FxHash), written
//! out here rather than pulled in as a dependency.

use std::hash::{BuildHasherDefault, Hasher};

/// The hasher of the mux's tables.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut word = [0u8; 8];
            word[..tail.len()].copy_from_slice(tail);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves its best-mixed bits at the top; the table
        // picks buckets with the low bits, so bring the good bits down.
        self.hash.rotate_left(26)
    }
}

/// Builds [`FxHasher`]s for a `HashMap`.
pub type FxBuildHasher = BuildHasherDefault<FxHasher>;
