//! The course's example application: the gohttp demo controller, routed by
//! the controller/action router and mounted on a Go-style ServeMux.
//!
//! `handler()` is what `bin/example.rs` serves (through gracehttp) and what
//! the client-pool demo serves in-process. It answers as the course's
//! transcript shows:
//!
//! ```text
//! $ curl http://127.0.0.1:8010/demo/DescribeDemo
//! before demo action
//! DescribeDemo
//! after demo action
//! $ curl http://127.0.0.1:8010/demo/args/123            (and /test/args/123)
//! Hi, Client! Your data is: 123
//! before demo action
//! after demo action
//! $ curl http://127.0.0.1:8010/demo/ProcessPost -d '{"a": 1, "b": 2, "c": 3}'
//! Hi, Client! Your data is: {"a": 1, "b": 2, "c": 3}
//! before demo action
//! after demo action
//! $ curl -i http://127.0.0.1:8010/demo/Redirect
//! HTTP/1.1 302 Found
//! Location: https://baidu.com
//! ...
//! <a href="https://baidu.com">Found</a>.
//! ```
//!
//! and logs `destruct demo context` once for each request that reaches a
//! demo action, when the request's context is dropped (an unknown action
//! is a 404 that makes no context). Why the action's own line comes *before* `before
//! demo action` for `args` and `ProcessPost`: those actions write straight
//! to the response, while the hooks and `DescribeDemo` append to the
//! context's buffer, which goes out after the `after` hook (as in gohttp).

use mux::controller::{ActionResult, Actions, Context, Controller, Jump, Router};
use mux::ServeMux;
use server::{BoxFuture, Handler, Request};
use std::sync::Arc;

/// The largest body `ProcessPost` accepts.
const MAX_POST_BYTES: usize = 1 << 20;

/// The demo controller: no data of its own; each request gets a
/// [`DemoContext`].
pub struct Demo;

/// The demo controller's per-request state. Dropping it is the end of the
/// request (gohttp: `Destruct`).
pub struct DemoContext;

impl Drop for DemoContext {
    fn drop(&mut self) {
        tracing::info!("destruct demo context");
    }
}

impl Controller for Demo {
    type State = DemoContext;

    fn name(&self) -> &str {
        "demo"
    }

    fn new_state(&self, _request: &Request) -> DemoContext {
        DemoContext
    }

    fn before(&self, ctx: &mut Context<'_, Self>) {
        ctx.append(b"before demo action\n");
    }

    fn after(&self, ctx: &mut Context<'_, Self>) {
        ctx.append(b"after demo action\n");
    }
}

/// `GET /demo/DescribeDemo`: appends its name to the buffered body.
fn describe_demo<'c>(_demo: &'c Demo, ctx: &'c mut Context<'_, Demo>) -> BoxFuture<'c, ActionResult> {
    Box::pin(async move {
        ctx.append(b"DescribeDemo\n");
        Ok(())
    })
}

/// `GET /demo/args/<data>` (and `/test/args/<data>`): echoes its argument.
fn args<'c>(_demo: &'c Demo, ctx: &'c mut Context<'_, Demo>) -> BoxFuture<'c, ActionResult> {
    Box::pin(async move {
        let line = format!("Hi, Client! Your data is: {}\n", ctx.arg(0));
        let _ = ctx.response.write(line.as_bytes()).await;
        Ok(())
    })
}

/// `POST /demo/ProcessPost`: echoes the posted body.
fn process_post<'c>(_demo: &'c Demo, ctx: &'c mut Context<'_, Demo>) -> BoxFuture<'c, ActionResult> {
    Box::pin(async move {
        match ctx.request.body.read_all(MAX_POST_BYTES).await {
            Ok(data) => {
                let mut line = b"Hi, Client! Your data is: ".to_vec();
                line.extend_from_slice(&data);
                line.push(b'\n');
                let _ = ctx.response.write(&line).await;
            }
            Err(e) => {
                tracing::info!("ProcessPost: {e}");
                server::error(ctx.response, &e.to_string(), http::StatusCode::BAD_REQUEST).await;
            }
        }
        Ok(())
    })
}

/// `GET /demo/Redirect`: jumps out with a 302 to baidu.com.
fn redirect<'c>(_demo: &'c Demo, _ctx: &'c mut Context<'_, Demo>) -> BoxFuture<'c, ActionResult> {
    Box::pin(async move {
        Err(Jump::Redirect {
            url: "https://baidu.com".to_owned(),
            code: http::StatusCode::FOUND,
        })
    })
}

/// The controller router of the example, on its own.
pub fn router() -> Router {
    let mut router = Router::new();
    let demo = Actions::new(Demo)
        .action("DescribeDemo", describe_demo)
        .action("args", args)
        .action("ProcessPost", process_post)
        .action("Redirect", redirect);
    // Every name here is a literal, so registration cannot fail; a failure
    // would be a bug in this file, caught by the tests.
    let registered = router
        .register(demo)
        .and_then(|()| router.rule("/demo/args/", "demo", "args"))
        .and_then(|()| router.rule("/test/args/", "demo", "args"));
    if let Err(e) = registered {
        tracing::error!("example app: {e}");
    }
    router
}

/// The example application's root handler: a ServeMux with the router
/// mounted at `/`.
pub fn handler() -> Arc<dyn Handler> {
    let mut mux = ServeMux::new();
    if let Err(e) = mux.handle("/", router()) {
        tracing::error!("example app: {e}");
    }
    Arc::new(mux)
}
