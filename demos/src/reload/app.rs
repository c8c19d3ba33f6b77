//! The app under development, as the proxy and the watcher share it: the
//! builder and the runner behind locks, so that a request never meets a
//! half-built or half-started app (gin keeps them apart and lets the proxy
//! race the rebuild).
//!
//! The rule a request keeps: **it sees every edit saved before it
//! arrived.** gin breaks it twice: it kills the app before building, so a
//! request during the build starts the old binary, and its proxy does not
//! look for edits at all, so the request right after a save can beat the
//! watcher to it.
//!
//! - [`App::catch_up`] is the proxy's first step: walk the project with
//!   the watcher and, on a change, [`App::rebuild`]: build, then stop the
//!   old app. One walk at a time: a request that comes while a walk (or
//!   the rebuild it started) is under way waits for it, then walks again
//!   unless a walk that began after it arrived has already finished, so
//!   a burst of requests shares one walk. The tool's loop calls
//!   [`App::poll`] every poll interval, which walks only when no one else
//!   is, and notices an edit even when no request comes.
//! - The proxy then calls [`App::ensure_running`]: if the app runs, the
//!   request goes to it. Otherwise answer with the build errors if the
//!   last build failed, else start the app and wait until its port
//!   accepts.
//! - During a build the old app keeps running: the requests it was
//!   already serving finish, and new ones wait for the build. When the
//!   build ends the old app is stopped (SIGTERM, and its shutdown time to
//!   finish what it is serving): after a good build the next request
//!   starts the new one; after a failed one, requests get the errors
//!   instead, so that no one reads an old app and thinks it new.
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
use tokio::time::Instant;

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
    /// One walk of the project (and the rebuild it may start) at a time;
    /// inside, when the last walk began.
    last_walk: Mutex<Option<Instant>>,
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
            last_walk: Mutex::new(None),
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

    /// Builds every edit saved before this call, if it is not built yet
    /// (the proxy's first step). Waits for a walk or a rebuild under way;
    /// walks again, and rebuilds on a change, unless a walk that began
    /// after this call has finished meanwhile. True when it rebuilt.
    pub async fn catch_up(&self) -> bool {
        let arrived = Instant::now();
        let mut last_walk = self.last_walk.lock().await;
        if last_walk.is_some_and(|began| began >= arrived) {
            return false;
        }
        *last_walk = Some(Instant::now());
        self.rebuild_if_changed().await
    }

    /// The watch loop's turn (gin: `scanChanges`): walks and rebuilds on a
    /// change, unless a request is walking already. True when it rebuilt.
    pub async fn poll(&self) -> bool {
        let Ok(mut last_walk) = self.last_walk.try_lock() else {
            return false;
        };
        *last_walk = Some(Instant::now());
        self.rebuild_if_changed().await
    }

    /// One walk of the project; on a change, builds again and stops the old
    /// app (gin: `scanChanges` and its callback). The caller holds
    /// `last_walk`.
    async fn rebuild_if_changed(&self) -> bool {
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
    /// finishes its requests while the compiler runs). The app starts
    /// again on the next request.
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
        // `catch_up` came first, so a running app is built from every edit
        // this request could have seen.
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
