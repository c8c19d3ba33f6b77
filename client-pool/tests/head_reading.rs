//! Reading a response head that arrives in small pieces: the work must grow
//! with the head's length, not with its square.
//!
//! A server trickles a 64 KiB head, 256 bytes at a time with a pause after
//! each piece, so the client reads it in about 256 reads. A reader that
//! parsed the whole buffer again after every read would parse it once per
//! read (and copy the head's start over and over: quadratic work). The
//! client instead asks `server::stream::HeadScan` whether the new bytes can
//! complete the head, which allows a parse only when the buffer has doubled
//! or a blank line arrived: about log₂(65536 / 256) + 2 attempts.
//!
//! The attempts are counted, not timed: the client emits a `trace` event
//! for each one ("parsing response head"), and this test counts them with
//! a subscriber of its own (set for this thread only; `#[tokio::test]`
//! runs the client and the server on this thread).

mod common;

use client_pool::{Client, Transport, TransportConfig};
use common::{raw_server, read_request, within, write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

const PIECE: usize = 256;
const FIELDS: usize = 200;
const VALUE_LEN: usize = 320;

/// Counts the client's "parsing response head" events.
struct CountHeadParses(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for CountHeadParses {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut message = MessageIs("parsing response head", false);
        event.record(&mut message);
        if message.1 {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Records whether an event's message is the one looked for.
struct MessageIs(&'static str, bool);

impl Visit for MessageIs {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && format!("{value:?}") == self.0 {
            self.1 = true;
        }
    }
}

/// A response whose head is about 64 KiB: 200 fields of 320 bytes.
fn big_head() -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_vec();
    for i in 0..FIELDS {
        head.extend_from_slice(format!("X-Filler-{i:03}: {}\r\n", "v".repeat(VALUE_LEN)).as_bytes());
    }
    head.extend_from_slice(b"\r\nok");
    head
}

#[tokio::test]
async fn a_trickled_head_is_parsed_a_logarithmic_number_of_times() {
    let response = big_head();
    let pieces = response.len().div_ceil(PIECE);
    assert!(pieces >= 250, "the head should need many reads, not {pieces}");
    let server = raw_server(move |mut stream, _| {
        let response = response.clone();
        async move {
            let mut buf = Vec::new();
            if read_request(&mut stream, &mut buf).await.is_some() {
                for piece in response.chunks(PIECE) {
                    write(&mut stream, piece).await;
                    // A pause, so that the client reads each piece alone.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
    })
    .await;

    let parses = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(CountHeadParses(parses.clone()));
    let _counting = tracing::subscriber::set_default(subscriber);

    let client = Client::with_transport(Transport::new(TransportConfig::default()));
    let mut resp = within("GET", client.get(&server.url("/"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().len(), FIELDS + 1);
    assert_eq!(resp.headers()["x-filler-199"].len(), VALUE_LEN);
    assert_eq!(within("body", resp.body_mut().text()).await.unwrap(), "ok");

    let parses = parses.load(Ordering::Relaxed);
    // First attempt, ~8 doublings from one piece to 64 KiB, the blank
    // line, and slack for reads that happen to hold several pieces. Parsing
    // after every read would take about 250.
    assert!(
        (1..=16).contains(&parses),
        "the head was parsed {parses} times in about {pieces} reads"
    );
}
