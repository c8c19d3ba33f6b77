//! The controller/action router called directly: the order of hooks,
//! action and buffered body, jumping out, arguments, names without case,
//! the 404s, when the per-request state is dropped, and registration
//! errors.

use http::{Method, StatusCode};
use mux::controller::{ActionResult, Actions, Context, Controller, Jump, Router};
use mux::Error;
use server::{BoxFuture, Handler, Request, ResponseWriter};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A controller that records, in its response, everything that ran.
struct Shop {
    dropped: Arc<AtomicUsize>,
}

/// Counts its drops, so the test sees when the context ends.
struct ShopState {
    dropped: Arc<AtomicUsize>,
}

impl Drop for ShopState {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

impl Controller for Shop {
    type State = ShopState;
    fn name(&self) -> &str {
        "Shop"
    }
    fn new_state(&self, _request: &Request) -> ShopState {
        ShopState {
            dropped: self.dropped.clone(),
        }
    }
    fn before(&self, ctx: &mut Context<'_, Self>) {
        ctx.append(b"[before]");
    }
    fn after(&self, ctx: &mut Context<'_, Self>) {
        ctx.append(b"[after]");
    }
}

fn list<'c>(_shop: &'c Shop, ctx: &'c mut Context<'_, Shop>) -> BoxFuture<'c, ActionResult> {
    Box::pin(async move {
        // Written straight to the response: goes out before the buffer.
        let _ = ctx.response.write(b"(direct)").await;
        ctx.append(b"[list]");
        Ok(())
    })
}

fn item<'c>(_shop: &'c Shop, ctx: &'c mut Context<'_, Shop>) -> BoxFuture<'c, ActionResult> {
    Box::pin(async move {
        let line = format!("[item {}|{}|{}]", ctx.arg(0), ctx.arg(1), ctx.arg(2));
        ctx.append(line.as_bytes());
        Ok(())
    })
}

fn away<'c>(_shop: &'c Shop, _ctx: &'c mut Context<'_, Shop>) -> BoxFuture<'c, ActionResult> {
    Box::pin(async move {
        Err(Jump::Redirect {
            url: "/elsewhere".to_owned(),
            code: StatusCode::SEE_OTHER,
        })
    })
}

fn router(dropped: &Arc<AtomicUsize>) -> Router {
    let mut router = Router::new();
    let shop = Shop {
        dropped: dropped.clone(),
    };
    router
        .register(
            Actions::new(shop)
                .action("List", list)
                .action("Item", item)
                .action("Away", away)
                .action("index", list),
        )
        .unwrap();
    router.rule("/items/", "shop", "item").unwrap();
    router
}

async fn get(router: &Router, target: &str) -> (StatusCode, String, Option<String>) {
    let mut w = ResponseWriter::recorder();
    let mut r = Request::new(Method::GET, target).unwrap();
    router.serve_http(&mut w, &mut r).await;
    let location = w
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        w.status(),
        String::from_utf8_lossy(w.recorded_body()).into_owned(),
        location,
    )
}

#[tokio::test]
async fn hooks_action_and_buffer_run_in_gohttp_order() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let router = router(&dropped);
    let (status, body, _) = get(&router, "/shop/list").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "(direct)[before][list][after]");
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the state is dropped once the response is done"
    );

    // Names match without case, and an empty action is `index`.
    assert_eq!(
        get(&router, "/SHOP/LIST").await.1,
        "(direct)[before][list][after]"
    );
    assert_eq!(get(&router, "/shop").await.1, "(direct)[before][list][after]");
    assert_eq!(get(&router, "/shop/").await.1, "(direct)[before][list][after]");
    assert_eq!(dropped.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn rules_pass_the_segments_after_the_prefix_as_arguments() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let router = router(&dropped);
    assert_eq!(
        get(&router, "/items/Red/42").await.1,
        "[before][item Red|42|][after]"
    );
    // Missing arguments are empty strings; the general form passes none.
    assert_eq!(get(&router, "/items").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&router, "/shop/item").await.1, "[before][item ||][after]");
}

#[tokio::test]
async fn a_jump_skips_after_and_replaces_the_response() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let router = router(&dropped);
    let (status, body, location) = get(&router, "/shop/away").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/elsewhere"));
    assert_eq!(body, "<a href=\"/elsewhere\">See Other</a>.\n\n");
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unknown_controllers_and_actions_are_404_without_a_context() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let router = router(&dropped);
    for target in ["/nope/list", "/shop/nope", "/", "/shop/%FF"] {
        let (status, body, _) = get(&router, target).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{target}");
        assert_eq!(body, "404 page not found\n", "{target}");
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 0);
}

#[test]
fn registration_errors() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let mut router = router(&dropped);
    let again = Shop {
        dropped: dropped.clone(),
    };
    assert_eq!(
        router.register(Actions::new(again).action("list", list)),
        Err(Error::DuplicateController("shop".to_owned()))
    );
    assert_eq!(
        router.rule("/x/", "shop", "missing"),
        Err(Error::UnknownAction("shop/missing".to_owned()))
    );
    let mut fresh = Router::new();
    let twice = Actions::new(Shop { dropped })
        .action("List", list)
        .action("list", item);
    assert_eq!(
        fresh.register(twice),
        Err(Error::DuplicateAction("shop/list".to_owned()))
    );
}
