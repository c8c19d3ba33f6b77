//! The Client over our server: Go's redirect rules, the policy hook,
//! post_form, and connection reuse across redirects.

mod common;

use client_pool::{Client, Error, RedirectAction, RequestBody};
use common::{our_server, within};
use http::StatusCode;

/// `/r/<status>/<n>` redirects with <status> to `/r/<status>/<n-1>`, down
/// to `/r/<status>/0`, which answers with the method, the body it got, its
/// Content-Type and its Referer.
fn redirector() -> impl server::Handler {
    server::handler_fn(|w, r| {
        Box::pin(async move {
            let parts: Vec<&str> = r.target.split('/').collect();
            if let [_, "r", status, n] = parts.as_slice() {
                let n: u32 = n.parse().unwrap();
                if n > 0 {
                    let status: u16 = status.parse().unwrap();
                    // Relative Location, resolved against the request URL.
                    let location = format!("{}", n - 1);
                    w.header().insert("location", location.parse().unwrap());
                    w.write_header(StatusCode::from_u16(status).unwrap());
                    let _ = w.write(b"moved").await;
                    return;
                }
            }
            let body = r.body.read_all(1 << 20).await.unwrap_or_default();
            let content_type = r
                .headers
                .get("content-type")
                .map_or("-", |v| v.to_str().unwrap())
                .to_owned();
            let referer = r
                .headers
                .get("referer")
                .map_or("-", |v| v.to_str().unwrap())
                .to_owned();
            let answer = format!(
                "{} {} body={} type={content_type} referer={referer}",
                r.method,
                r.target,
                String::from_utf8_lossy(&body)
            );
            let _ = w.write(answer.as_bytes()).await;
        })
    })
}

#[tokio::test]
async fn redirects_follow_go_rules() {
    let server = our_server(redirector()).await;
    let client = Client::new();
    // 302 and 303 turn a POST into a GET without body.
    for status in [301, 302, 303] {
        let url = server.url(&format!("/r/{status}/2"));
        let mut resp = within("post", client.post(&url, "text/plain", "payload"))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let text = resp.body_mut().text().await.unwrap();
        let expected = format!(
            "GET /r/{status}/0 body= type=- referer=http://{}/r/{status}/1",
            server.addr
        );
        assert_eq!(text, expected);
    }
    // 307 and 308 keep the method and the body.
    for status in [307, 308] {
        let url = server.url(&format!("/r/{status}/3"));
        let mut resp = within("post", client.post(&url, "text/plain", "payload"))
            .await
            .unwrap();
        let text = resp.body_mut().text().await.unwrap();
        assert!(
            text.starts_with(&format!("POST /r/{status}/0 body=payload type=text/plain")),
            "{text}"
        );
    }
    // Every hop reused the one connection (the short bodies were drained).
    assert_eq!(server.counts.accepted(), 1);
}

#[tokio::test]
async fn ten_redirects_is_too_many_as_in_go() {
    let server = our_server(redirector()).await;
    let client = Client::new();
    let mut resp = within("9", client.get(&server.url("/r/302/9"))).await.unwrap();
    assert!(resp.body_mut().text().await.unwrap().starts_with("GET /r/302/0"));
    let err = within("10", client.get(&server.url("/r/302/10")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Redirect(_)), "{err:?}");
    assert_eq!(err.to_string(), "redirect: stopped after 10 redirects");
}

#[tokio::test]
async fn the_policy_hook_can_stop_following() {
    let server = our_server(redirector()).await;
    let client = Client::new().with_check_redirect(|attempt| {
        if attempt.via.len() >= 2 {
            RedirectAction::UseLastResponse
        } else {
            RedirectAction::Follow
        }
    });
    let mut resp = within("get", client.get(&server.url("/r/301/5"))).await.unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(
        resp.headers()["location"],
        "3",
        "the response of /r/301/4, the second hop"
    );
    assert_eq!(resp.body_mut().text().await.unwrap(), "moved");

    let refuse =
        Client::new().with_check_redirect(|a| RedirectAction::Error(format!("not following to {}", a.next)));
    let err = within("get", refuse.get(&server.url("/r/302/1")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not following to http://"), "{err}");
}

#[tokio::test]
async fn a_streamed_body_is_not_replayed_on_307() {
    let server = our_server(redirector()).await;
    let client = Client::new();
    let (mut sender, body) = RequestBody::channel(None);
    tokio::spawn(async move {
        let _ = sender.send(bytes::Bytes::from_static(b"once")).await;
    });
    let req = http::Request::post(server.url("/r/307/1")).body(body).unwrap();
    let resp = within("post", client.send(req)).await.unwrap();
    assert_eq!(
        resp.status(),
        307,
        "Go returns the 307 when the body cannot be sent again"
    );
}

#[tokio::test]
async fn post_form_encodes_and_sorts_fields() {
    let server = our_server(redirector()).await;
    let client = Client::new();
    let mut resp = within(
        "form",
        client.post_form(&server.url("/form"), &[("name", "go pher"), ("lang", "rust&go")]),
    )
    .await
    .unwrap();
    assert_eq!(
        resp.body_mut().text().await.unwrap(),
        "POST /form body=lang=rust%26go&name=go+pher type=application/x-www-form-urlencoded referer=-"
    );
}
