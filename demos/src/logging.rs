//! Logging for the demos: the libraries emit `tracing` events and never
//! print; a demo installs this subscriber so that the events read like the
//! Go logs the course quotes (`2026/11/21 20:13:00 http: Accept error: ...`).
//!
//! The subscriber is tracing-subscriber's `fmt` formatter with three
//! changes from its defaults: no level and no target (Go's `log` writes
//! neither), no colours, and a timer that writes the time as Go's
//! `log.LstdFlags` does (`2009/11/10 23:00:00`, date then time, one space).
//! Like this project's logs so far, the time is in UTC (Go's `log` uses
//! local time; on a server those are usually the same).
//!
//! After the time comes the event as `fmt` writes it: the message, then
//! each other field as ` name=value` with the value in `{:?}` form, and a
//! newline. Terminal control characters in a message (it may carry text
//! from the network, a bad request line say) are written escaped.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use tracing::Level;
use tracing_subscriber::fmt::time::UtcTime;
use tracing_subscriber::fmt::MakeWriter;

/// Go's `log.LstdFlags` time: `2009/11/10 23:00:00`.
// Go: log.Logger.formatHeader (log.go) with Ldate|Ltime.
pub const GO_LOG_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]/[month]/[day] [hour]:[minute]:[second]");

/// The demos' subscriber, writing its lines to `writer` and keeping events
/// at `max_level` and below (`Level::INFO` keeps info, warn and error).
pub fn go_log<W>(max_level: Level, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_timer(UtcTime::new(GO_LOG_TIME))
        .with_target(false)
        .with_level(false)
        .with_ansi(false)
        .with_max_level(max_level)
        .with_writer(writer)
        .finish()
}

/// Installs the Go-style log subscriber ([`go_log`]) on stderr for the
/// whole process. The level comes from `LOG_LEVEL` (`error`, `warn`,
/// `info`, `debug`, `trace`; default `info`). A second call does nothing.
///
/// ```
/// demos::logging::init();
/// // stderr: 2026/11/21 20:13:00 hello: listening on http://127.0.0.1:8080
/// tracing::info!("hello: listening on http://127.0.0.1:8080");
/// ```
pub fn init() {
    let level = std::env::var("LOG_LEVEL")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(Level::INFO);
    // Fails only when a subscriber is already installed: keep that one.
    let _ = tracing::subscriber::set_global_default(go_log(level, std::io::stderr));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use time::OffsetDateTime;

    #[test]
    fn timestamps_read_as_go_logs_them() {
        for (secs, text) in [
            (0, "1970/01/01 00:00:00"),
            (951_782_400, "2000/02/29 00:00:00"),
            (1_795_293_180, "2026/11/21 20:33:00"),
            (4_107_542_399, "2100/02/28 23:59:59"),
        ] {
            let at = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            assert_eq!(at.format(GO_LOG_TIME).unwrap(), text);
        }
    }

    /// An error and its chain of causes, to see how an error field lists
    /// them.
    #[derive(Debug)]
    struct Chain {
        text: &'static str,
        cause: Option<Box<Chain>>,
    }

    impl Chain {
        fn new(texts: &[&'static str]) -> Chain {
            Chain {
                text: texts[0],
                cause: (texts.len() > 1).then(|| Box::new(Chain::new(&texts[1..]))),
            }
        }
    }

    impl fmt::Display for Chain {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.text)
        }
    }

    impl std::error::Error for Chain {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.cause.as_deref().map(|c| c as _)
        }
    }

    /// Each kind of event the workspace emits, and the text that must
    /// follow the timestamp and its space, byte for byte as the demos
    /// printed it before (the course's transcripts quote these lines).
    fn samples() -> Vec<(fn(), &'static str)> {
        vec![
            (
                || tracing::info!("hello: listening on http://127.0.0.1:8080"),
                "hello: listening on http://127.0.0.1:8080\n",
            ),
            (
                || {
                    let pid = 4242;
                    tracing::info!("[pid: {pid}] Receive signal SIGUSR2. To restart the server gracefully.")
                },
                "[pid: 4242] Receive signal SIGUSR2. To restart the server gracefully.\n",
            ),
            (
                || {
                    let remote: std::net::SocketAddr = "127.0.0.1:5000".parse().unwrap();
                    tracing::debug!(remote = %remote, "bad request: {}", "malformed HTTP version")
                },
                "bad request: malformed HTTP version remote=127.0.0.1:5000\n",
            ),
            (
                || {
                    let value = http::HeaderValue::from_static("12x");
                    tracing::warn!(value = ?value, "http: invalid Content-Length set by handler, ignored")
                },
                "http: invalid Content-Length set by handler, ignored value=\"12x\"\n",
            ),
            (
                || tracing::info!(path = "/a \"b\"", "serving"),
                "serving path=\"/a \\\"b\\\"\"\n",
            ),
            (
                || {
                    tracing::debug!(
                        conn = 7u64,
                        closed = 3usize,
                        delta = -2i64,
                        reusable = true,
                        ratio = 1.0f64,
                        "closed idle connections"
                    )
                },
                "closed idle connections conn=7 closed=3 delta=-2 reusable=true ratio=1.0\n",
            ),
            (
                || tracing::trace!(conn = 3, reusable = false, idle_time = ?Duration::from_millis(1500)),
                "conn=3 reusable=false idle_time=1.5s\n",
            ),
            (
                || tracing::info!(r#type = "demo", "raw name"),
                "raw name type=\"demo\"\n",
            ),
            (
                || tracing::info!(message = "a message given as a &str"),
                "a message given as a &str\n",
            ),
            (
                || tracing::warn!("reload: build failed:\nerror[E0425]: nope"),
                "reload: build failed:\nerror[E0425]: nope\n",
            ),
            (
                || tracing::info!("bad request line: {}", "GET /\x1b[31mred\x07\u{85} x"),
                "bad request line: GET /\\x1b[31mred\\x07\\u{85} x\n",
            ),
            (
                || {
                    let e = Chain::new(&["accept failed", "socket", "too many open files"]);
                    tracing::error!(error = &e as &(dyn std::error::Error + 'static), "serve")
                },
                "serve error=accept failed error.sources=[socket, too many open files]\n",
            ),
            (
                || {
                    let e = Chain::new(&["reset\x1b"]);
                    tracing::error!(error = &e as &(dyn std::error::Error + 'static))
                },
                "error=reset\\x1b\n",
            ),
            (|| tracing::info!(""), "\n"),
        ]
    }

    /// Collects what the subscriber writes, instead of stderr.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What [`go_log`] writes for the events `emit` sends.
    fn go_log_output(max_level: Level, emit: fn()) -> String {
        let sink = Sink::default();
        let writer = sink.clone();
        tracing::subscriber::with_default(go_log(max_level, move || writer.clone()), emit);
        let bytes = sink.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    /// The text after `2026/11/21 20:33:00 ` (any digits) at the front of
    /// a line; fails if the line does not start that way.
    fn strip_timestamp(line: &str) -> &str {
        let shape = "dddd/dd/dd dd:dd:dd ";
        assert!(line.len() >= shape.len(), "no timestamp in {line:?}");
        for (want, got) in shape.bytes().zip(line.bytes()) {
            let ok = if want == b'd' {
                got.is_ascii_digit()
            } else {
                got == want
            };
            assert!(ok, "no timestamp in {line:?}");
        }
        &line[shape.len()..]
    }

    #[test]
    fn events_format_as_go_log_lines() {
        for (emit, expected) in samples() {
            let line = go_log_output(Level::TRACE, emit);
            assert_eq!(strip_timestamp(&line), expected);
        }
    }

    #[test]
    fn levels_above_the_maximum_are_off() {
        let warn_and_info = || {
            tracing::warn!("kept");
            tracing::info!("dropped");
        };
        assert_eq!(
            strip_timestamp(&go_log_output(Level::WARN, warn_and_info)),
            "kept\n"
        );
        let trace = || tracing::trace!("kept");
        assert_eq!(strip_timestamp(&go_log_output(Level::TRACE, trace)), "kept\n");
        assert_eq!(go_log_output(Level::DEBUG, trace), "");
    }

    #[test]
    fn init_installs_a_global_subscriber_and_a_second_call_keeps_it() {
        init();
        init();
        // This thread has no scoped subscriber, so it sees the global one.
        assert!(tracing::dispatcher::has_been_set());
        assert!(tracing::enabled!(Level::INFO));
    }
}
