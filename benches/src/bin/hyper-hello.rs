//! # hyper-hello: the peer that `load.sh` measures our hello against
//!
//! A hyper 1.x HTTP/1.1 server written as hyper's examples write one
//! (`http1::Builder` defaults, one task per connection, TCP_NODELAY set):
//! every path answers `Hello, World!` as `text/plain; charset=utf-8`, like
//! `demos/src/bin/hello.rs`. Same flags as that demo, with the same
//! meaning, so both run with the same runtime flavour:
//!
//! ```text
//! cargo run --release -p benches --bin hyper-hello -- --addr 127.0.0.1:8011 --threads 1
//! curl -i http://127.0.0.1:8011/hello
//! ```
//!
//! `--tls` serves https instead, with a self-signed certificate made at
//! start (`curl -k https://127.0.0.1:8011/hello`), as `hello --tls` does.
//!
//! `--threads 1` is a one-thread (current-thread) tokio runtime; `--threads N`
//! a multi-thread one with N workers; no flag, tokio's default multi-thread
//! runtime (one worker per CPU it may run on). SIGTERM or Ctrl+C stops it.

use benches::cli::flag;

fn main() {
    let addr = flag("addr").unwrap_or_else(|| "127.0.0.1:8011".to_owned());
    let tls = match std::env::args().any(|arg| arg == "--tls") {
        false => None,
        true => match benches::hyper_peer::self_signed_tls_config() {
            Ok(config) => Some(config),
            Err(e) => {
                eprintln!("hyper-hello: cannot make a certificate: {e}");
                std::process::exit(1)
            }
        },
    };
    let runtime = benches::cli::runtime("hyper-hello");
    runtime.block_on(async {
        let listener = benches::cli::listen("hyper-hello", &addr).await;
        let scheme = if tls.is_some() { "https" } else { "http" };
        eprintln!("hyper-hello: listening on {scheme}://{addr}");
        tokio::select! {
            _ = async {
                match tls {
                    Some(config) => benches::hyper_peer::serve_tls(listener, config).await,
                    None => benches::hyper_peer::serve(listener, false).await,
                }
            } => {}
            _ = benches::cli::stop_signal() => {}
        }
    });
}
