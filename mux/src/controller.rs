//! The gohttp controller/action router.
//!
//! The course's example comes from the gohttp project (`goinbox/gohttp`:
//! `router/simple.go`, `system/system.go`). A **controller** groups named
//! **actions**; `/demo/DescribeDemo` runs action `DescribeDemo` of
//! controller `demo`. For each request the controller makes a fresh
//! per-request state; the action gets the controller and a [`Context`]
//! (request, response, arguments, that state); the controller's `before`
//! and `after` hooks run around every action; and when the response is
//! done the context, with its state, is dropped (the example logs
//! `destruct demo context` from its state's `Drop`, where gohttp calls
//! `Destruct()`).
//!
//! **Why explicit registration.** gohttp finds actions by reflection: it
//! walks the methods of each controller value and keeps those named
//! `XxxAction`. Rust has no runtime reflection, so a controller lists its
//! actions itself, once, as `(name, function)` pairs in [`Actions`]; the
//! router keeps them in a map from the lower-cased name to a plain
//! function pointer. The compiler checks every action's signature at
//! registration, where gohttp checks it at start-up by inspecting types.
//!
//! **Routing**, as gohttp's `SimpleRouter`:
//! 1. the path is matched case-insensitively (gohttp lower-cases it);
//! 2. path rules first: a rule maps a prefix to one action, and the path
//!    segments after the prefix become the action's arguments
//!    (`/demo/args/123` and `/test/args/123` both call `args` with `123`);
//! 3. otherwise `/controller/action`; an empty controller or action is
//!    `index`;
//! 4. an unknown controller or action is a 404.
//!
//! **Jumping out.** gohttp's `Redirect302` panics out of the action and
//! recovers in the dispatcher. Here an action returns
//! `Err(Jump::Redirect { .. })` (with `?` if it likes); the `after` hook
//! is skipped, as in gohttp, and the redirect is the whole response:
//! text that `before` buffered is dropped, so the client sees Go's
//! redirect body exactly (Go: `http.Redirect`, server.go:2169).
//!
//! The router is an ordinary [`Handler`]: mount it on a
//! [`ServeMux`](crate::ServeMux) like any other.

use crate::hash::FxBuildHasher;
use crate::Error;
use http::StatusCode;
use server::{BoxFuture, Handler, Request, ResponseWriter};
use std::collections::HashMap;

/// How an action ends early (gohttp: `system.JumpOutAction`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jump {
    /// Answer with a redirect instead (gohttp: `system.Redirect302`).
    Redirect { url: String, code: StatusCode },
}

/// What an action returns: `Ok(())`, or a [`Jump`] out of it.
pub type ActionResult = Result<(), Jump>;

/// An action: a plain function of the controller and the request's context.
///
/// ```
/// use mux::controller::{ActionResult, Context};
/// # struct Demo;
/// # impl mux::controller::Controller for Demo {
/// #     type State = ();
/// #     fn name(&self) -> &str { "demo" }
/// #     fn new_state(&self, _r: &server::Request) {}
/// # }
/// fn hello<'c>(_demo: &'c Demo, ctx: &'c mut Context<'_, Demo>) -> server::BoxFuture<'c, ActionResult> {
///     Box::pin(async move {
///         ctx.append(b"hello\n");
///         Ok(())
///     })
/// }
/// ```
pub type ActionFn<C> = for<'c, 'r> fn(&'c C, &'c mut Context<'r, C>) -> BoxFuture<'c, ActionResult>;

/// A controller: a name, the per-request state it makes, and the hooks
/// around its actions (gohttp: `controller.Controller` and its
/// `ActionContext`).
pub trait Controller: Send + Sync + Sized + 'static {
    /// Per-request state, made by [`Controller::new_state`] and dropped
    /// once the response is written (gohttp: `Destruct`).
    type State: Send;

    /// The controller's name in paths, such as `demo` (matched without case).
    fn name(&self) -> &str;

    /// Makes the state of one request (gohttp: `NewActionContext`).
    fn new_state(&self, request: &Request) -> Self::State;

    /// Runs before every action (gohttp: `BeforeAction`).
    fn before(&self, _ctx: &mut Context<'_, Self>) {}

    /// Runs after every action that did not jump out (gohttp: `AfterAction`).
    fn after(&self, _ctx: &mut Context<'_, Self>) {}
}

/// What an action works with: the request, the response, its arguments,
/// a response buffer, and the controller's per-request state (gohttp:
/// `ActionContext` / `BaseContext`).
pub struct Context<'r, C: Controller> {
    pub request: &'r mut Request,
    pub response: &'r mut ResponseWriter,
    /// The path segments after a rule's prefix (empty for `/controller/action`).
    pub args: Vec<String>,
    /// The controller's state for this request.
    pub state: C::State,
    /// Bytes written after the `after` hook (gohttp: `AppendResponseBody`).
    body: Vec<u8>,
}

impl<C: Controller> Context<'_, C> {
    /// Adds bytes to the buffered body, which is written after the `after`
    /// hook. Bytes written straight to `response` go out before it.
    pub fn append(&mut self, bytes: &[u8]) {
        self.body.extend_from_slice(bytes);
    }

    /// Argument `i`, or `""` when the path had fewer (gohttp pads missing
    /// arguments with empty strings).
    pub fn arg(&self, i: usize) -> &str {
        self.args.get(i).map_or("", String::as_str)
    }
}

/// A controller and its actions, ready to register (this list is what
/// replaces gohttp's reflection over `XxxAction` methods).
pub struct Actions<C: Controller> {
    controller: C,
    actions: Vec<(String, ActionFn<C>)>,
}

impl<C: Controller> Actions<C> {
    /// Starts the list of `controller`'s actions.
    pub fn new(controller: C) -> Self {
        Actions {
            controller,
            actions: Vec::new(),
        }
    }

    /// Adds an action under `name` (matched without case).
    pub fn action(mut self, name: &str, action: ActionFn<C>) -> Self {
        self.actions.push((name.to_ascii_lowercase(), action));
        self
    }
}

/// A registered controller, with its type erased so that controllers of
/// different types live in one map.
trait Dispatch: Send + Sync {
    fn has_action(&self, action: &str) -> bool;
    fn run<'a>(
        &'a self,
        action: &str,
        args: Vec<String>,
        w: &'a mut ResponseWriter,
        r: &'a mut Request,
    ) -> BoxFuture<'a, ()>;
}

struct Registered<C: Controller> {
    controller: C,
    actions: HashMap<String, ActionFn<C>, FxBuildHasher>,
}

impl<C: Controller> Dispatch for Registered<C> {
    fn has_action(&self, action: &str) -> bool {
        self.actions.contains_key(action)
    }

    /// gohttp: `System.ServeHTTP`: make the context, `before`, the action,
    /// `after`, write the buffered body, destruct.
    fn run<'a>(
        &'a self,
        action: &str,
        args: Vec<String>,
        w: &'a mut ResponseWriter,
        r: &'a mut Request,
    ) -> BoxFuture<'a, ()> {
        let action = self.actions.get(action).copied();
        Box::pin(async move {
            let Some(action) = action else {
                server::not_found(w).await;
                return;
            };
            let state = self.controller.new_state(r);
            let mut ctx = Context {
                request: r,
                response: w,
                args,
                state,
                body: Vec::new(),
            };
            self.controller.before(&mut ctx);
            match action(&self.controller, &mut ctx).await {
                Ok(()) => {
                    self.controller.after(&mut ctx);
                    let body = std::mem::take(&mut ctx.body);
                    if !body.is_empty() {
                        let _ = ctx.response.write(&body).await;
                    }
                }
                Err(Jump::Redirect { url, code }) => {
                    server::redirect(ctx.response, ctx.request, &url, code).await;
                }
            }
            // The state's Drop runs here, after the response is written.
            drop(ctx);
        })
    }
}

/// A path rule: requests under `prefix` run one action (gohttp:
/// `DefineRouteItem`, with a prefix where gohttp takes a regular expression).
struct Rule {
    prefix: String,
    controller: String,
    action: String,
}

/// The controller/action router (gohttp: `SimpleRouter` + `System`).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use mux::controller::{ActionResult, Actions, Context, Controller, Router};
/// use server::{BoxFuture, Handler, Request, ResponseWriter};
///
/// struct Hello;
/// impl Controller for Hello {
///     type State = ();
///     fn name(&self) -> &str { "hello" }
///     fn new_state(&self, _r: &Request) {}
///     fn before(&self, ctx: &mut Context<'_, Self>) { ctx.append(b"[") }
///     fn after(&self, ctx: &mut Context<'_, Self>) { ctx.append(b"]") }
/// }
/// fn say<'c>(_: &'c Hello, ctx: &'c mut Context<'_, Hello>) -> BoxFuture<'c, ActionResult> {
///     Box::pin(async move {
///         let who = ctx.arg(0).to_owned();
///         ctx.append(format!("hi {who}").as_bytes());
///         Ok(())
///     })
/// }
///
/// let mut router = Router::new();
/// router.register(Actions::new(Hello).action("Say", say)).unwrap();
/// router.rule("/greet/", "hello", "say").unwrap();
///
/// let mut w = ResponseWriter::recorder();
/// let mut r = Request::new(http::Method::GET, "/greet/bob").unwrap();
/// router.serve_http(&mut w, &mut r).await;
/// assert_eq!(w.recorded_body(), b"[hi bob]");
/// # });
/// ```
#[derive(Default)]
pub struct Router {
    controllers: HashMap<String, Box<dyn Dispatch>, FxBuildHasher>,
    rules: Vec<Rule>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.controllers.keys().collect();
        names.sort();
        f.debug_struct("Router")
            .field("controllers", &names)
            .field("rules", &self.rules.iter().map(|r| &r.prefix).collect::<Vec<_>>())
            .finish()
    }
}

/// The name used when a path leaves the controller or action empty.
const EMPTY_NAME: &str = "index";

impl Router {
    /// An empty router.
    pub fn new() -> Router {
        Router::default()
    }

    /// Registers a controller and its actions, once (gohttp:
    /// `MapRouteItems`). A second controller with the same name, or an
    /// action listed twice, is an error.
    pub fn register<C: Controller>(&mut self, actions: Actions<C>) -> Result<(), Error> {
        let name = actions.controller.name().to_ascii_lowercase();
        if self.controllers.contains_key(&name) {
            return Err(Error::DuplicateController(name));
        }
        let mut map = HashMap::default();
        for (action, function) in actions.actions {
            if map.insert(action.clone(), function).is_some() {
                return Err(Error::DuplicateAction(format!("{name}/{action}")));
            }
        }
        let registered = Registered {
            controller: actions.controller,
            actions: map,
        };
        self.controllers.insert(name, Box::new(registered));
        Ok(())
    }

    /// Adds a path rule: a request whose path starts with `prefix` runs
    /// `action` of `controller`, with the segments after the prefix as
    /// arguments. Rules are tried in the order they were added, before the
    /// `/controller/action` form. The action must be registered already.
    pub fn rule(&mut self, prefix: &str, controller: &str, action: &str) -> Result<(), Error> {
        let controller = controller.to_ascii_lowercase();
        let action = action.to_ascii_lowercase();
        let known = self
            .controllers
            .get(&controller)
            .is_some_and(|c| c.has_action(&action));
        if !known {
            return Err(Error::UnknownAction(format!("{controller}/{action}")));
        }
        self.rules.push(Rule {
            prefix: prefix.to_ascii_lowercase(),
            controller,
            action,
        });
        Ok(())
    }

    /// Which controller and action a path runs, and with which arguments
    /// (gohttp: `FindRoute`); `None` when nothing is registered for it.
    ///
    /// ```
    /// let router = mux::controller::Router::new();
    /// assert_eq!(router.find("/demo/DescribeDemo"), None);
    /// ```
    pub fn find(&self, path: &str) -> Option<RouteGuide> {
        let lower = path.to_ascii_lowercase();
        for rule in &self.rules {
            if lower.starts_with(&rule.prefix) {
                // ASCII lower-casing keeps byte offsets, so the arguments can
                // be taken from the path as sent, in their own case.
                let args = path[rule.prefix.len()..]
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                return Some(RouteGuide {
                    controller: rule.controller.clone(),
                    action: rule.action.clone(),
                    args,
                });
            }
        }
        let mut segments = lower.trim_matches('/').split('/').map(str::trim);
        let controller = segments.next().filter(|s| !s.is_empty()).unwrap_or(EMPTY_NAME);
        let action = segments.next().filter(|s| !s.is_empty()).unwrap_or(EMPTY_NAME);
        if !self.controllers.get(controller)?.has_action(action) {
            return None;
        }
        Some(RouteGuide {
            controller: controller.to_owned(),
            action: action.to_owned(),
            args: Vec::new(),
        })
    }
}

/// Where a path leads (gohttp: `RouteGuide`): names lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteGuide {
    pub controller: String,
    pub action: String,
    pub args: Vec<String>,
}

impl Handler for Router {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        let found = r.url.path.as_str().and_then(|path| self.find(path));
        let Some(guide) = found else {
            return Box::pin(server::not_found(w));
        };
        match self.controllers.get(&guide.controller) {
            Some(dispatch) => dispatch.run(&guide.action, guide.args, w, r),
            None => Box::pin(server::not_found(w)),
        }
    }
}
