//! Logging for the demos: the libraries emit `tracing` events and never
//! print; a demo installs this subscriber so that the events read like the
//! Go logs the course quotes (`2026/11/21 20:13:00 http: Accept error: ...`).

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// The timestamp at the start of each line, as Go's `log` package writes it.
struct GoLogTime;

impl FormatTime for GoLogTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        w.write_str(&go_log_time(std::time::SystemTime::now()))
    }
}

/// `2026/11/21 20:13:00`: Go's `log` default (`log.LstdFlags`), in UTC.
fn go_log_time(now: std::time::SystemTime) -> String {
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

/// Installs the Go-style log subscriber on stderr. The level comes from
/// `LOG_LEVEL` (`error`, `warn`, `info`, `debug`, `trace`; default
/// `info`). A second call does nothing.
pub fn init() {
    let level = std::env::var("LOG_LEVEL")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_timer(GoLogTime)
        .with_target(false)
        .with_level(false)
        .with_ansi(false)
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::go_log_time;
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
}
