//! The smallest restartable server: `Hello, World!` plus the serving pid.
//!
//! ```text
//! cargo run -p gracehttp --example grace_hello -- 127.0.0.1:8011 /tmp/grace_hello.pid
//! curl http://127.0.0.1:8011/
//! kill -USR2 $(cat /tmp/grace_hello.pid)
//! curl http://127.0.0.1:8011/        # another pid answers
//! kill -TERM $(cat /tmp/grace_hello.pid)
//! ```

use server::handler_fn;

fn main() {
    tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8011".to_owned());
    let mut grace = gracehttp::GraceServer::new(addr);
    if let Some(pid_file) = args.next() {
        grace = grace.pid_file(pid_file);
    }
    let hello = handler_fn(|w, _r| {
        Box::pin(async move {
            let _ = w
                .write(format!("Hello, World! from pid {}\n", std::process::id()).as_bytes())
                .await;
        })
    });
    if let Err(e) = grace.run(hello) {
        eprintln!("grace_hello: {e}");
        std::process::exit(1);
    }
}
