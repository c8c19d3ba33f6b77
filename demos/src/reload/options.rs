//! The reload tool's settings and their command line.
//!
//! Everything after a lone `--` belongs to the app, not to the tool (gin
//! handed the app the tool's own arguments). `{port}` in those arguments
//! is replaced by the app port, so an app that takes its address as a flag
//! works: `-- --addr 127.0.0.1:{port}`.

use crate::cli::{self, Flags, Long, Timeouts};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the tool is told to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Public port the proxy listens on, on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Port the app is told to listen on (via `PORT` and `{port}`).
    pub app_port: u16,
    /// Cargo binary to build and run, when no build or run command is given.
    pub bin: Option<String>,
    /// Build command line, run by `sh -c` (default `cargo build --bin BIN`).
    pub build: Option<String>,
    /// Run command line, run by `sh -c` with the app's arguments appended
    /// (default: the binary cargo built).
    pub run: Option<String>,
    /// The project: watched, and where the commands run.
    pub dir: PathBuf,
    /// Extensions of source files (`rs`, `toml`).
    pub extensions: Vec<String>,
    /// Directories never watched (besides `.git`, `target`, hidden ones).
    pub exclude: Vec<String>,
    /// Pause between two scans of the project.
    pub poll_interval: Duration,
    /// Longest wait for a started app to accept connections.
    pub ready_timeout: Duration,
    /// How long a stopped app has, after SIGTERM, to finish the requests
    /// it is serving and exit before it is killed.
    pub app_shutdown_timeout: Duration,
    /// The public server's timeouts (the proxy's own, not the app's).
    pub timeouts: Timeouts,
    /// The app's own arguments (after `--`).
    pub app_args: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 8283,
            app_port: 13109,
            bin: None,
            build: None,
            run: None,
            dir: PathBuf::from("."),
            extensions: vec!["rs".into(), "toml".into()],
            exclude: Vec::new(),
            poll_interval: Duration::from_millis(500),
            ready_timeout: Duration::from_secs(10),
            app_shutdown_timeout: DEFAULT_APP_SHUTDOWN_TIMEOUT,
            timeouts: Timeouts::SAFE,
            app_args: Vec::new(),
        }
    }
}

/// The app's arguments when `--bin` names a cargo binary and no `--` is
/// given: the workspace's demo servers listen on `--addr`.
pub const DEFAULT_BIN_ARGS: [&str; 2] = ["--addr", "127.0.0.1:{port}"];

/// How long a stopped app may take to drain by default: longer than the
/// course's example takes at most (its own shutdown timeout is 30 s, after
/// which it closes what is left and exits by itself), so that a request in
/// flight when a file changes still gets its answer. gin gives 3 s.
pub const DEFAULT_APP_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(35);

impl Options {
    /// Reads the tool's flags; the arguments after `--` are the app's.
    ///
    /// ```
    /// let o = demos::reload::Options::parse(
    ///     ["--port", "0", "--bin", "example", "--", "--addr", "127.0.0.1:{port}"].map(String::from),
    /// ).unwrap();
    /// assert_eq!(o.port, 0);
    /// assert_eq!(o.build_command(), ["cargo", "build", "--bin", "example"]);
    /// assert_eq!(o.app_args, ["--addr", "127.0.0.1:{port}"]);
    /// ```
    ///
    /// With `--bin` and no `--`, the app gets [`DEFAULT_BIN_ARGS`]; a bare
    /// `--` gives it no arguments at all.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, cli::Error> {
        Options::from_flags(&mut Flags::new(args))
    }

    /// [`Options::parse`] on flags being read (`src/bin/reload.rs` gives
    /// the process's own).
    pub fn from_flags(flags: &mut Flags) -> Result<Options, cli::Error> {
        let mut options = Options::default();
        while let Some(arg) = flags.next()? {
            match arg {
                Long("port") => options.port = flags.value()?,
                Long("app-port") => options.app_port = flags.value()?,
                Long("bin") => options.bin = Some(flags.value()?),
                Long("build") => options.build = Some(flags.value()?),
                Long("run") => options.run = Some(flags.value()?),
                Long("path") => options.dir = flags.value()?,
                Long("ext") => options.extensions = list(&flags.value::<String>()?),
                Long("exclude") => options.exclude = list(&flags.value::<String>()?),
                Long("poll-ms") => {
                    options.poll_interval = Duration::from_millis(flags.value::<u64>()?.max(10))
                }
                Long("ready-timeout-ms") => options.ready_timeout = Duration::from_millis(flags.value()?),
                Long("app-shutdown-timeout-ms") => {
                    options.app_shutdown_timeout = Duration::from_millis(flags.value()?)
                }
                Long(name) if Timeouts::FLAGS.contains(&name) => options.timeouts.read(flags)?,
                Long(name) => return Err(cli::unknown(name)),
                other => return Err(other.unexpected().into()),
            }
        }
        if flags.saw_double_dash() {
            options.app_args = flags.rest();
        } else if options.bin.is_some() && options.run.is_none() {
            // The workspace's demos (hello, example...) take their address
            // as `--addr`, not from PORT: give them the app port that way.
            options.app_args = DEFAULT_BIN_ARGS.map(String::from).to_vec();
        }
        if options.bin.is_none() && (options.build.is_none() || options.run.is_none()) {
            return Err(cli::Error::Bad(
                "give --bin NAME, or both --build and --run".to_owned(),
            ));
        }
        Ok(options)
    }

    /// The build command as a program and its arguments.
    pub fn build_command(&self) -> Vec<String> {
        match (&self.build, &self.bin) {
            (Some(line), _) => shell(line, false),
            (None, Some(bin)) => ["cargo", "build", "--bin", bin].map(String::from).to_vec(),
            (None, None) => Vec::new(),
        }
    }

    /// The run command as a program and its arguments; the app's own
    /// arguments are added after these by the runner.
    pub fn run_command(&self) -> Vec<String> {
        match (&self.run, &self.bin) {
            (Some(line), _) => shell(line, true),
            (None, Some(bin)) => vec![target_dir(&self.dir)
                .join("debug")
                .join(bin)
                .display()
                .to_string()],
            (None, None) => Vec::new(),
        }
    }
}

/// `a,b, c` -> `["a", "b", "c"]`.
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A command line for `sh -c`. For the run command, `exec` makes the app
/// replace the shell (one process to signal), and `"$@"` receives the
/// app's arguments the runner appends (`$0` is a label).
fn shell(line: &str, takes_args: bool) -> Vec<String> {
    if takes_args {
        vec![
            "sh".into(),
            "-c".into(),
            format!("exec {line} \"$@\""),
            "reload-app".into(),
        ]
    } else {
        vec!["sh".into(), "-c".into(), line.to_owned()]
    }
}

/// Where cargo puts what it builds: `$CARGO_TARGET_DIR`, else `target`
/// beside the nearest `Cargo.lock` above the project (the workspace root).
fn target_dir(dir: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let start = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    start
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .unwrap_or(&start)
        .join("target")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, cli::Error> {
        Options::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn app_arguments_are_the_ones_after_the_double_dash() {
        let o = parse(&["--bin", "example", "--port=1", "--", "--port", "9", "--bin"]).unwrap();
        assert_eq!(o.port, 1);
        assert_eq!(o.bin.as_deref(), Some("example"));
        assert_eq!(o.app_args, ["--port", "9", "--bin"]);
    }

    #[test]
    fn a_cargo_binary_gets_its_address_flag_unless_told_otherwise() {
        let o = parse(&["--bin", "example"]).unwrap();
        assert_eq!(o.app_args, ["--addr", "127.0.0.1:{port}"]);
        let o = parse(&["--bin", "example", "--"]).unwrap();
        assert!(o.app_args.is_empty());
        let o = parse(&["--bin", "x", "--run", "./x"]).unwrap();
        assert!(o.app_args.is_empty());
    }

    #[test]
    fn commands_given_as_lines_run_through_sh() {
        let o = parse(&["--build", "make app", "--run", "./app -v", "--ext", "py, sh"]).unwrap();
        assert_eq!(o.build_command(), ["sh", "-c", "make app"]);
        assert_eq!(
            o.run_command(),
            ["sh", "-c", "exec ./app -v \"$@\"", "reload-app"]
        );
        assert_eq!(o.extensions, ["py", "sh"]);
    }

    fn refusal(args: &[&str]) -> String {
        match parse(args) {
            Err(cli::Error::Bad(message)) => message,
            other => panic!("{args:?} accepted: {other:?}"),
        }
    }

    #[test]
    fn bad_flags_are_refused_by_name() {
        assert!(refusal(&["--bin"]).contains("missing argument for option '--bin'"));
        assert!(refusal(&["--bin", "x", "--port", "http"]).contains("invalid value for --port: \"http\""));
        assert!(refusal(&["--bin", "x", "--port", "70000"]).contains("--port"));
        assert_eq!(
            refusal(&["--bin", "x", "--frobnicate"]),
            "unknown flag --frobnicate"
        );
        assert!(refusal(&["--port", "1"]).contains("--bin NAME"));
        assert!(matches!(parse(&["--help"]), Err(cli::Error::Help)));
    }

    #[test]
    fn the_app_drains_as_long_as_the_example_may_and_the_proxy_has_safe_timeouts() {
        let o = parse(&["--bin", "example"]).unwrap();
        assert!(o.app_shutdown_timeout > gracehttp::DEFAULT_SHUTDOWN_TIMEOUT);
        assert_eq!(o.timeouts, Timeouts::SAFE);
        let o = parse(&[
            "--bin",
            "x",
            "--app-shutdown-timeout-ms",
            "500",
            "--idle-timeout-ms",
            "0",
        ])
        .unwrap();
        assert_eq!(o.app_shutdown_timeout, Duration::from_millis(500));
        assert_eq!(o.timeouts.idle, None);
    }
}
