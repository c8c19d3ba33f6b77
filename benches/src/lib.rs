//! Shared pieces of the benchmark suite: the two servers compared (ours and
//! a hyper 1.x peer, both answering the same three routes), a minimal
//! HTTP/1.1 client that loads both the same way, and a helper that runs a
//! server on its own thread.
//!
//! The criterion benchmark `benches/server.rs` uses all of them in one
//! process; the load script `load.sh` runs the hello servers as separate
//! processes (`demos --bin hello` and `src/bin/hyper-hello.rs`) under wrk.
//!
//! Routes, identical on both servers:
//!
//! - `/big`: a 1 MiB body with `Content-Length` (both send the same framing);
//! - `/upload`: reads the whole request body, answers its length in decimal;
//! - anything else: `Hello, World!` as `text/plain; charset=utf-8`, the
//!   handler of `demos/src/bin/hello.rs`.

pub mod cli;
pub mod hyper_peer;
pub mod ours;
pub mod raw_client;
pub mod spawn;

/// The body of `/big`: 1 MiB.
pub const BIG_LEN: usize = 1 << 20;

/// The greeting every hello server answers.
pub const HELLO: &[u8] = b"Hello, World!";

/// 1 MiB of `x`, shared by both servers' `/big` and the client's upload.
pub fn big_body() -> bytes::Bytes {
    static BIG: std::sync::OnceLock<bytes::Bytes> = std::sync::OnceLock::new();
    BIG.get_or_init(|| bytes::Bytes::from(vec![b'x'; BIG_LEN]))
        .clone()
}
