//! The reload tool's settings and their command line.
//!
//! Everything after a lone `--` belongs to the app, not to the tool (gin
//! handed the app the tool's own arguments). `{port}` in those arguments
//! is replaced by the app port, so an app that takes its address as a flag
//! works: `-- --addr 127.0.0.1:{port}`.

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
            app_args: Vec::new(),
        }
    }
}

/// The app's arguments when `--bin` names a cargo binary and no `--` is
/// given: the workspace's demo servers listen on `--addr`.
pub const DEFAULT_BIN_ARGS: [&str; 2] = ["--addr", "127.0.0.1:{port}"];

/// The usage text printed for `--help` and after a bad flag.
pub const USAGE: &str = "\
usage: reload [--port 8283] [--app-port 13109] [--bin NAME]
              [--build 'CMD'] [--run 'CMD'] [--path DIR]
              [--ext rs,toml] [--exclude DIR,...] [--poll-ms 500]
              [--ready-timeout-ms 10000] [-- APP ARGS... ({port} = app port)]
With --bin and no `--`, the app gets `--addr 127.0.0.1:{port}`.";

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
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut options = Options::default();
        let mut args = args.into_iter();
        let mut saw_double_dash = false;
        while let Some(arg) = args.next() {
            if arg == "--" {
                options.app_args = args.collect();
                saw_double_dash = true;
                break;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (arg.clone(), None),
            };
            if name == "--help" || name == "-h" {
                return Err(USAGE.to_owned());
            }
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
            };
            let number = |text: String| -> Result<u64, String> {
                text.parse()
                    .map_err(|_| format!("{name}: not a number: {text}\n{USAGE}"))
            };
            match name.as_str() {
                "--port" => options.port = number(value()?)?.try_into().map_err(|_| "--port: too large")?,
                "--app-port" => {
                    options.app_port = number(value()?)?
                        .try_into()
                        .map_err(|_| "--app-port: too large")?
                }
                "--bin" => options.bin = Some(value()?),
                "--build" => options.build = Some(value()?),
                "--run" => options.run = Some(value()?),
                "--path" => options.dir = PathBuf::from(value()?),
                "--ext" => options.extensions = list(&value()?),
                "--exclude" => options.exclude = list(&value()?),
                "--poll-ms" => options.poll_interval = Duration::from_millis(number(value()?)?.max(10)),
                "--ready-timeout-ms" => options.ready_timeout = Duration::from_millis(number(value()?)?),
                _ => return Err(format!("unknown flag {arg}\n{USAGE}")),
            }
        }
        if !saw_double_dash && options.bin.is_some() && options.run.is_none() {
            // The workspace's demos (hello, example...) take their address
            // as `--addr`, not from PORT: give them the app port that way.
            options.app_args = DEFAULT_BIN_ARGS.map(String::from).to_vec();
        }
        if options.bin.is_none() && (options.build.is_none() || options.run.is_none()) {
            return Err(format!("give --bin NAME, or both --build and --run\n{USAGE}"));
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

    fn parse(args: &[&str]) -> Result<Options, String> {
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

    #[test]
    fn bad_flags_are_refused_with_the_usage() {
        assert!(parse(&["--bin"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--bin", "x", "--port", "http"])
            .unwrap_err()
            .contains("not a number"));
        assert!(parse(&["--bin", "x", "--frobnicate"])
            .unwrap_err()
            .contains("unknown flag"));
        assert!(parse(&["--port", "1"]).unwrap_err().contains("--bin NAME"));
    }
}
