//! The app under development, as the proxy and the watcher share it: the
//! builder and the runner behind locks, so that a request never meets a
//! half-built or half-started app (gin keeps them apart and lets the proxy
//! race the rebuild).
//!
//! - [`App::check_for_changes`] scans the project with the watcher and, on
//!   a change, calls [`App::rebuild`]: build, then stop the old app. The
//!   tool's watch loop calls it every poll interval, and the proxy calls
//!   it on each request too, so that the request right after an edit sees
//!   the edit even if the loop has not woken up yet (that request waits
//!   for the build). A request that comes while another is already
//!   scanning or building does not wait for it.
//! - The proxy then calls [`App::ensure_running`]: if the app runs, the
//!   request goes to it, even while a new build compiles: the old app
//!   keeps serving until the build is done. Otherwise wait for any build
//!   under way, answer with the build errors if it failed, else start the
//!   app and wait until its port accepts.
//! - When a build ends, the old app is stopped (SIGTERM, and its shutdown
//!   time to finish what it is serving): after a good build the next
//!   request starts the new one; after a failed one, requests get the
//!   errors instead, so that no one reads an old app and thinks it new.
//! - The tool calls [`App::shutdown`] when it stops: abort a build, stop
//!   the app.

use super::builder::Builder;
use super::runner::{RunError, Runner};
use super::watcher::Watcher;
use client_pool::Transport;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, RwLock};

/// Why a request cannot be forwarded to the app.
#[derive(Debug)]
pub enum Unavailable {
    /// The last build failed; its output.
    BuildFailed(String),
    /// The app could not be started or did not listen in time.
    NotReady(RunError),
    /// The tool is stopping.
    ShuttingDown,
}

/// The builder and runner of one app, used from several tasks.
#[derive(Debug)]
pub struct App {
    builder: Builder,
    runner: Mutex<Runner>,
    /// Taken for writing across a build and the stop of the old app, for
    /// reading while a request starts the app: a request never starts the
    /// old binary while the new one is being built.
    build_lock: RwLock<()>,
    /// A first build has finished (well or not).
    built: AtomicBool,
    /// [`App::shutdown`] was called: start nothing any more.
    closed: AtomicBool,
    ready_timeout: Duration,
    /// The project's watcher; a std mutex, because it is used on a
    /// blocking thread (walking the tree is blocking file-system work).
    watcher: Arc<std::sync::Mutex<Watcher>>,
    /// One scan (and the rebuild it may start) at a time.
    checking: Mutex<()>,
    /// The proxy's Transport: its idle connections to the app are closed
    /// before the app is stopped, so a graceful app need not wait for them.
    transport: Transport,
}

impl App {
    /// Ties a builder, a runner and a watcher together; `transport` is the
    /// one the proxy forwards through. `ready_timeout` bounds the wait for
    /// a freshly started app to accept connections.
    pub fn new(
        builder: Builder,
        runner: Runner,
        watcher: Watcher,
        transport: Transport,
        ready_timeout: Duration,
    ) -> App {
        App {
            transport,
            watcher: Arc::new(std::sync::Mutex::new(watcher)),
            checking: Mutex::new(()),
            builder,
            runner: Mutex::new(runner),
            build_lock: RwLock::new(()),
            built: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            ready_timeout,
        }
    }

    /// The builder (for its errors and command line).
    pub fn builder(&self) -> &Builder {
        &self.builder
    }

    /// Scans the project for changed sources; on a change, builds again
    /// and stops the old app (gin: `scanChanges` and its callback). True
    /// when it rebuilt. When a scan (or the rebuild it started) is already
    /// under way, returns false at once: the caller is not held up by it.
    pub async fn check_for_changes(&self) -> bool {
        let Ok(_one_at_a_time) = self.checking.try_lock() else {
            return false;
        };
        let watcher = self.watcher.clone();
        let scanned = tokio::task::spawn_blocking(move || match watcher.lock() {
            Ok(mut watcher) => watcher.changes(),
            Err(_) => Vec::new(),
        });
        let changes = scanned.await.unwrap_or_default();
        let Some(first) = changes.first() else {
            return false;
        };
        let more = match changes.len() - 1 {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        tracing::info!("reload: {} changed{more}; rebuilding", first.display());
        let _ = self.rebuild().await;
        true
    }

    /// Number of files the watcher looks at.
    pub fn watched_files(&self) -> usize {
        self.watcher.lock().map(|w| w.watched_files()).unwrap_or(0)
    }

    /// Builds again, then stops the old app (gin: the watcher's callback,
    /// `runner.Kill(); build(...)`, in the other order so that the old app
    /// serves while the compiler runs). The app starts again on the next
    /// request.
    pub async fn rebuild(&self) -> Result<(), String> {
        let _building = self.build_lock.write().await;
        self.build_then_stop_old().await
    }

    /// The first build, unless one already happened. The tool starts it at
    /// once; a request that comes first runs it (or waits for it) instead
    /// of starting a binary that was never built.
    pub async fn build_once(&self) {
        let _building = self.build_lock.write().await;
        if !self.built.load(Ordering::Acquire) {
            let _ = self.build_then_stop_old().await;
        }
    }

    async fn build_then_stop_old(&self) -> Result<(), String> {
        if self.closed.load(Ordering::Acquire) {
            return Err("reload is stopping".to_owned());
        }
        tracing::info!("reload: building: {}", self.builder.command_line());
        let outcome = self.builder.build().await;
        match &outcome {
            Ok(()) => tracing::info!("reload: build finished"),
            Err(errors) => tracing::warn!("reload: build failed:\n{errors}"),
        }
        // The running app is the old code either way.
        self.stop_app().await;
        self.built.store(true, Ordering::Release);
        outcome
    }

    /// Closes our idle connections to the app, then stops it. A graceful
    /// app (the course's example) waits for open connections before it
    /// exits; idle pooled ones would only make it wait.
    async fn stop_app(&self) {
        let mut runner = self.runner.lock().await;
        self.transport.close_idle_connections();
        runner.stop().await;
    }

    /// Makes sure the app runs and accepts connections (gin: the first
    /// half of `Proxy.defaultHandler` with `Runner.Run`).
    pub async fn ensure_running(&self) -> Result<(), Unavailable> {
        if !self.built.load(Ordering::Acquire) {
            self.build_once().await;
        }
        // A running app takes the request, even during a build: it is
        // stopped only once the new build is ready (or has failed).
        if self.runner.lock().await.is_running() {
            return Ok(());
        }
        // Waits for a build under way; requests share the lock.
        let _no_build = self.build_lock.read().await;
        if let Some(errors) = self.builder.errors() {
            return Err(Unavailable::BuildFailed(errors));
        }
        let mut runner = self.runner.lock().await;
        if self.closed.load(Ordering::Acquire) {
            return Err(Unavailable::ShuttingDown);
        }
        if runner.is_running() {
            return Ok(());
        }
        if runner.port_taken().await {
            return Err(Unavailable::NotReady(RunError::PortTaken(runner.addr())));
        }
        runner.start().map_err(Unavailable::NotReady)?;
        if let Err(e) = runner.wait_ready(self.ready_timeout).await {
            // Do not leave a half-started app behind: the next request
            // starts it afresh and waits again.
            runner.stop().await;
            return Err(Unavailable::NotReady(e));
        }
        Ok(())
    }

    /// Process id of the running app, if any (for logs and tests).
    pub async fn app_pid(&self) -> Option<u32> {
        let mut runner = self.runner.lock().await;
        if runner.is_running() {
            runner.pid()
        } else {
            None
        }
    }

    /// Stops everything: a build under way is aborted, the app stopped.
    pub async fn shutdown(&self) {
        self.closed.store(true, Ordering::Release);
        self.builder.abort();
        let _building = self.build_lock.write().await;
        self.stop_app().await;
    }
}
