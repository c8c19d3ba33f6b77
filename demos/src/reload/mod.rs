//! The live-reload tool, in the spirit of codegangsta/gin: a proxy in front
//! of the app you are writing that rebuilds and restarts it when a source
//! file changes, so that the next request in the browser sees your edit.
//!
//! gin's three parts, plus the watcher, each in its own module:
//!
//! - [`builder`]: runs the build command, keeps its errors;
//! - [`runner`]: starts the built app with `PORT` and its own arguments,
//!   waits until its port accepts, stops it (SIGTERM, its shutdown time to
//!   drain, then SIGKILL);
//! - [`proxy`]: the handler on the public port: make sure the app runs,
//!   then forward through the `ReverseProxy` of `client-pool`;
//! - [`watcher`]: scans the project for changed source files.
//!
//! [`app`] ties the builder and the runner together behind one lock, and
//! [`run`] wires everything up; `src/bin/reload.rs` is the command line.
//! See `notes/reload.md` for the walk-through and gin's flaws.

pub mod app;
pub mod builder;
pub mod options;
pub mod proxy;
pub mod runner;
pub mod watcher;

pub use options::Options;

use app::App;
use builder::Builder;
use client_pool::reverse_proxy::ReverseProxy;
use proxy::ReloadProxy;
use runner::Runner;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use watcher::Watcher;

/// How long the public server may take to finish the requests in flight
/// when the tool stops.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs the tool until `stop` resolves: listen on the public port, build,
/// watch, and on each change build again and stop the old app. When `stop`
/// resolves, the public server closes and the app (or a build under way)
/// is stopped, so no process is left behind.
pub async fn run(options: Options, stop: impl Future<Output = ()>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
    let public = listener.local_addr()?;
    let builder = Builder::new(options.build_command(), options.dir.clone());
    let runner = Runner::new(
        options.run_command(),
        options.app_args.clone(),
        options.dir.clone(),
        options.app_port,
        options.app_shutdown_timeout,
    );
    let app_addr = runner.addr();
    // The first walk of the project, off the runtime's threads.
    let (dir, extensions, exclude) = (
        options.dir.clone(),
        options.extensions.clone(),
        options.exclude.clone(),
    );
    let watcher = tokio::task::spawn_blocking(move || Watcher::new(dir, extensions, exclude))
        .await
        .map_err(std::io::Error::other)?;
    let upstream: http::Uri = format!("http://{app_addr}")
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    let forward = Arc::new(ReverseProxy::new(upstream));
    let transport = forward.transport().clone();
    let app = Arc::new(App::new(
        builder,
        runner,
        watcher,
        transport,
        options.ready_timeout,
    ));
    let server = server::Server::new(
        options.timeouts.apply(server::Config {
            addr: public.to_string(),
            ..server::Config::default()
        }),
        ReloadProxy::new(app.clone(), forward.clone()),
    );
    // The line tests and people look for: where to point the browser.
    tracing::info!("reload: listening on http://{public}, app on http://{app_addr}");

    let serving = tokio::spawn({
        let server = server.clone();
        async move { server.serve(listener).await }
    });
    let first_build = tokio::spawn({
        let app = app.clone();
        async move { app.build_once().await }
    });
    tracing::info!("reload: watching {} files", app.watched_files());
    let watching = tokio::spawn(watch(options.poll_interval, app.clone()));

    stop.await;
    tracing::info!("reload: stopping");
    watching.abort();
    let _ = server.shutdown(SHUTDOWN_TIMEOUT).await;
    server.close();
    app.shutdown().await;
    first_build.abort();
    serving.abort();
    tracing::info!("reload: stopped");
    Ok(())
}

/// The watcher's loop (gin: `scanChanges` calling `runner.Kill(); build()`).
async fn watch(every: Duration, app: Arc<App>) {
    loop {
        tokio::time::sleep(every).await;
        app.poll().await;
    }
}
