//! The body of an outgoing request.
//!
//! [`RequestBody`] is what a request carries: nothing, bytes in memory
//! (sent with `Content-Length`, and replayable for retries and 307/308
//! redirects), or a stream fed through a [`BodySender`] (sent with its
//! declared length, or chunked). How it goes on the wire is
//! `body_writer`'s and `exchange`'s business; this module only holds it.

use crate::Error;
use bytes::Bytes;
use std::fmt;
use tokio::sync::mpsc;

/// A request as the Transport and the Client take it.
pub type Request = http::Request<RequestBody>;

/// The body of an outgoing request.
///
/// ```
/// use client_pool::RequestBody;
/// let body = RequestBody::from("name=gopher");
/// assert_eq!(body.length(), Some(11));
/// let (_sender, streamed) = RequestBody::channel(None);
/// assert_eq!(streamed.length(), None); // will be sent chunked
/// ```
pub struct RequestBody {
    pub(crate) kind: BodyKind,
}

pub(crate) enum BodyKind {
    Empty,
    Full(Bytes),
    Stream {
        length: Option<u64>,
        rx: mpsc::Receiver<Result<Bytes, String>>,
    },
}

/// Feeds a streamed [`RequestBody`]; dropping it ends the body.
#[derive(Debug)]
pub struct BodySender {
    tx: mpsc::Sender<Result<Bytes, String>>,
}

impl RequestBody {
    /// No body.
    pub fn empty() -> RequestBody {
        RequestBody {
            kind: BodyKind::Empty,
        }
    }

    /// A streamed body and the sender that feeds it. With `Some(n)` it is
    /// sent with `Content-Length: n` and must be exactly `n` bytes; with
    /// `None` it is sent with `Transfer-Encoding: chunked`.
    pub fn channel(length: Option<u64>) -> (BodySender, RequestBody) {
        let (tx, rx) = mpsc::channel(4);
        (
            BodySender { tx },
            RequestBody {
                kind: BodyKind::Stream { length, rx },
            },
        )
    }

    /// The length to declare, when known (Go: `Request.ContentLength`, request.go:199).
    pub fn length(&self) -> Option<u64> {
        match &self.kind {
            BodyKind::Empty => Some(0),
            BodyKind::Full(bytes) => Some(bytes.len() as u64),
            BodyKind::Stream { length, .. } => *length,
        }
    }

    /// A copy for sending again (retry, 307/308 redirect), when the body is
    /// in memory; `None` for a stream (Go: `Request.GetBody`, request.go:190, is nil).
    pub fn try_clone(&self) -> Option<RequestBody> {
        match &self.kind {
            BodyKind::Empty => Some(RequestBody::empty()),
            BodyKind::Full(bytes) => Some(RequestBody {
                kind: BodyKind::Full(bytes.clone()),
            }),
            BodyKind::Stream { .. } => None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self.kind, BodyKind::Empty)
    }
}

impl Default for RequestBody {
    fn default() -> Self {
        RequestBody::empty()
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Empty => f.write_str("RequestBody::Empty"),
            BodyKind::Full(bytes) => write!(f, "RequestBody::Full({} bytes)", bytes.len()),
            BodyKind::Stream { length, .. } => write!(f, "RequestBody::Stream(length {length:?})"),
        }
    }
}

impl From<Bytes> for RequestBody {
    fn from(bytes: Bytes) -> Self {
        if bytes.is_empty() {
            RequestBody::empty()
        } else {
            RequestBody {
                kind: BodyKind::Full(bytes),
            }
        }
    }
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl From<String> for RequestBody {
    fn from(text: String) -> Self {
        Bytes::from(text).into()
    }
}

impl From<&'static str> for RequestBody {
    fn from(text: &'static str) -> Self {
        Bytes::from_static(text.as_bytes()).into()
    }
}

impl From<&'static [u8]> for RequestBody {
    fn from(bytes: &'static [u8]) -> Self {
        Bytes::from_static(bytes).into()
    }
}

impl BodySender {
    /// Sends one piece of the body; waits while the connection is behind.
    /// Fails when the request is gone (finished, failed or dropped).
    pub async fn send(&mut self, data: Bytes) -> Result<(), Error> {
        self.tx
            .send(Ok(data))
            .await
            .map_err(|_| Error::RequestBody("the request is no longer sending its body".to_owned()))
    }

    /// Ends the body with an error: the request fails and its connection is
    /// closed (a chunked body is not terminated, so the server sees the
    /// truncation instead of a shorter, valid body).
    pub async fn abort(self, why: impl Into<String>) {
        let _ = self.tx.send(Err(why.into())).await;
    }
}
