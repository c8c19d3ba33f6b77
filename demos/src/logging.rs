//! Logging for the demos: the libraries emit `tracing` events and never
//! print; a demo installs this subscriber so that the events read like the
//! Go logs the course quotes (`2026/11/21 20:13:00 http: Accept error: ...`).
//!
//! A `tracing::Subscriber` is only a receiver: the `tracing` macros ask it
//! whether a level is wanted (`enabled`) and hand it each event, and it
//! decides what to do with it. `GoLog` below is the whole of one, written
//! by hand: it turns each event into one line, the way Go's `log` package
//! writes (`log.LstdFlags`: date and time, then the text), and writes that
//! line to stderr. It replaces tracing-subscriber's `fmt` subscriber, whose
//! set-up and formatting machinery is much larger than the job needs (it
//! showed in the `hello` demo's peak memory beside hyper's).
//!
//! The fields after the message are written exactly as tracing-subscriber's
//! default formatter writes them (` name=value`, the value with `{:?}`), so
//! the lines the tests and the course transcript read did not change.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::time::SystemTime;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// A `tracing` subscriber that prints each event as one Go-style log line
/// on stderr: `2026/11/21 20:13:00 <message> name=value ...`.
///
/// Events above `max_level` (more verbose) are dropped. Spans are not
/// supported: the workspace's libraries open none, so a span's name would
/// simply not appear in the line.
#[derive(Debug)]
pub struct GoLog {
    max_level: Level,
}

impl GoLog {
    /// A subscriber that prints events at `max_level` and below
    /// (`Level::INFO` prints info, warn and error events).
    pub fn new(max_level: Level) -> Self {
        GoLog { max_level }
    }
}

impl Subscriber for GoLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // tracing orders levels by verbosity: ERROR < WARN < ... < TRACE.
        *metadata.level() <= self.max_level
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Lets the macros skip a disabled level before asking us anything.
        Some(LevelFilter::from_level(self.max_level))
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        // No span is ever opened by our libraries, so every span shares
        // one id (0 is not a valid id) and nothing is kept about it.
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let line = format_event(event, SystemTime::now());
        // One write of the whole line on a locked stderr, so lines from
        // different threads never interleave. A logger has nowhere to
        // report its own failure to write, so the error is dropped.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// The whole line for `event`, newline included: the time, a space, then
/// the fields as tracing-subscriber's `DefaultFields` writes them.
// Go: log.Logger.Output with log.LstdFlags (formatHeader writes the time).
// Go adds the newline only when the text lacks one; tracing-subscriber,
// whose lines we keep, always adds it.
fn format_event(event: &Event<'_>, now: SystemTime) -> String {
    let mut fields = LineFields {
        line: go_log_time(now),
        first: true,
    };
    fields.line.push(' ');
    event.record(&mut fields);
    let mut line = fields.line;
    line.push('\n');
    line
}

/// Appends an event's fields to a line, one `Visit` call per field, in the
/// order the macro wrote them (the message comes first).
///
/// Mirrors tracing-subscriber 0.3's `DefaultVisitor`: the message is
/// written bare, every other field as `name=value` with `{:?}`, fields
/// separated by one space. So `%addr` (a Display wrapper) shows unquoted,
/// a plain `&str` shows quoted, numbers and bools show plainly.
struct LineFields {
    line: String,
    first: bool,
}

impl Visit for LineFields {
    // The other `record_*` methods (numbers, bool, bytes) fall back on
    // this one through `Visit`'s default methods, as they do in
    // tracing-subscriber.
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.first {
            self.line.push(' ');
        }
        self.first = false;
        // Writing into a String cannot fail.
        let _ = match field.name() {
            // The message may carry text from the network (a bad request
            // line, say): terminal control characters are shown escaped.
            "message" => write!(Escaped(&mut self.line), "{value:?}"),
            // `r#type = ...` in a macro names the field `r#type`.
            name => {
                let name = name.strip_prefix("r#").unwrap_or(name);
                write!(self.line, "{name}={value:?}")
            }
        };
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            // Quoted, like any other field recorded with `{:?}`.
            self.record_debug(field, &value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The error's text; if it has causes, then
        // ` <name>.sources=[cause, cause's cause, ...]`.
        let mut text = String::new();
        let _ = write!(Escaped(&mut text), "{value}");
        if let Some(source) = value.source() {
            let _ = write!(text, " {}.sources=[", field.name());
            let mut next = Some(source);
            let mut first = true;
            while let Some(error) = next {
                if !first {
                    text.push_str(", ");
                }
                first = false;
                let _ = write!(Escaped(&mut text), "{error}");
                next = error.source();
            }
            text.push(']');
        }
        self.record_debug(field, &format_args!("{text}"));
    }
}

/// A writer that shows terminal control characters (ESC, BEL, BS, FF,
/// DEL and the C1 controls) as escapes instead of passing them through,
/// as tracing-subscriber does for messages and errors.
struct Escaped<'a>(&'a mut String);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for ch in text.chars() {
            match ch {
                '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' => write!(self.0, "\\x{:02x}", u32::from(ch))?,
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", u32::from(ch))?,
                _ => self.0.push(ch),
            }
        }
        Ok(())
    }
}

/// `2026/11/21 20:13:00`: Go's `log` default (`log.LstdFlags`), in UTC.
fn go_log_time(now: SystemTime) -> String {
    let secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}/{m:02}/{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Installs the Go-style log subscriber ([`GoLog`]) on stderr for the
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
    let _ = tracing::subscriber::set_global_default(GoLog::new(level));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_read_as_go_logs_them() {
        for (secs, text) in [
            (0, "1970/01/01 00:00:00"),
            (951_782_400, "2000/02/29 00:00:00"),
            (1_795_293_180, "2026/11/21 20:33:00"),
            (4_107_542_399, "2100/02/28 23:59:59"),
        ] {
            assert_eq!(go_log_time(UNIX_EPOCH + Duration::from_secs(secs)), text);
        }
    }

    /// An error and its chain of causes, to see how `record_error` lists
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

    /// Each event the workspace's kinds of call sites emit, and the text
    /// that must follow the timestamp and its space.
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

    /// Renders every event as `GoLog::event` would, at a fixed time, into
    /// a shared list instead of stderr.
    struct Capture {
        lines: Arc<Mutex<Vec<String>>>,
    }

    const FIXED_TIME: u64 = 1_795_293_180; // 2026/11/21 20:33:00

    impl Subscriber for Capture {
        fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _span: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _span: &Id, _values: &Record<'_>) {}
        fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let now = UNIX_EPOCH + Duration::from_secs(FIXED_TIME);
            self.lines.lock().unwrap().push(format_event(event, now));
        }
        fn enter(&self, _span: &Id) {}
        fn exit(&self, _span: &Id) {}
    }

    fn go_log_output(emit: fn()) -> Vec<String> {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let capture = Capture { lines: lines.clone() };
        tracing::subscriber::with_default(capture, emit);
        let lines = lines.lock().unwrap().clone();
        lines
    }

    #[test]
    fn events_format_as_go_log_lines() {
        for (emit, expected) in samples() {
            let lines = go_log_output(emit);
            assert_eq!(lines, vec![format!("2026/11/21 20:33:00 {expected}")]);
        }
    }

    /// The timer the demos used with tracing-subscriber's `fmt`.
    struct GoLogTime;

    impl tracing_subscriber::fmt::time::FormatTime for GoLogTime {
        fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> fmt::Result {
            w.write_str(&go_log_time(SystemTime::now()))
        }
    }

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

    /// What tracing-subscriber's `fmt`, set up as `init` used to set it
    /// up, writes for the event.
    fn fmt_output(emit: fn()) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_timer(GoLogTime)
            .with_target(false)
            .with_level(false)
            .with_ansi(false)
            .with_max_level(Level::TRACE)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = out.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    /// `2026/11/21 20:33:00 ` at the front of a line, with any digits.
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
    fn lines_match_tracing_subscriber_fmt() {
        for (emit, expected) in samples() {
            let theirs = fmt_output(emit);
            let ours = go_log_output(emit).concat();
            assert_eq!(strip_timestamp(&theirs), strip_timestamp(&ours));
            assert_eq!(strip_timestamp(&ours), expected);
        }
    }

    #[test]
    fn init_installs_go_log_and_a_second_call_keeps_it() {
        init();
        init();
        // This thread has no scoped subscriber, so it sees the global one.
        assert!(tracing::dispatcher::get_default(|d| d.is::<GoLog>()));
    }

    #[test]
    fn levels_above_the_maximum_are_off() {
        tracing::subscriber::with_default(GoLog::new(Level::WARN), || {
            assert!(tracing::enabled!(Level::ERROR));
            assert!(tracing::enabled!(Level::WARN));
            assert!(!tracing::enabled!(Level::INFO));
            assert!(!tracing::enabled!(Level::TRACE));
        });
        tracing::subscriber::with_default(GoLog::new(Level::TRACE), || {
            assert!(tracing::enabled!(Level::TRACE));
        });
    }
}
