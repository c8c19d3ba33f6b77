//! Command-line flags and start-up steps for the benchmark tools
//! (`hyper-hello`, `fixed-response`, `fixed-load`, `idle-conns`): flags
//! read the same way the demos read theirs, with no argument-parsing
//! crate, and the runtime, listener and stop signal every benchmark server
//! starts with.

/// The value after `--name` (or in `--name=value`) on the command line.
pub fn flag(name: &str) -> Option<String> {
    let long = format!("--{name}");
    let with_eq = format!("--{name}=");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == long {
            return args.next();
        }
        if let Some(value) = arg.strip_prefix(&with_eq) {
            return Some(value.to_owned());
        }
    }
    None
}

/// Exits with `program`'s name and `message` (status 1: it could not start).
pub fn fail(program: &str, message: impl std::fmt::Display) -> ! {
    eprintln!("{program}: {message}");
    std::process::exit(1)
}

/// The tokio runtime `--threads` asks for, as the `hello` demo reads it:
/// `1`, a one-thread (current-thread) runtime, the fair match for one
/// pinned core; `N`, a multi-thread one with N workers; none, tokio's
/// default multi-thread runtime.
pub fn runtime(program: &str) -> tokio::runtime::Runtime {
    let threads: usize = match flag("threads").map(|t| t.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("{program}: --threads wants a number");
            std::process::exit(2)
        }
    };
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    if threads > 1 {
        builder.worker_threads(threads);
    }
    builder
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(program, format!("cannot start the runtime: {e}")))
}

/// Listens on `addr`, or exits saying why.
pub async fn listen(program: &str, addr: &str) -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(program, format!("cannot listen on {addr}: {e}")))
}

/// Resolves at Ctrl+C or SIGTERM, which end every benchmark server.
pub async fn stop_signal() {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
