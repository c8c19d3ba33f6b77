//! The demos' command lines, in one place: every binary reads its flags
//! through [`Flags`] (lexopt underneath), so each one answers `--help` with
//! its usage, refuses a flag it does not know by name, and refuses a flag
//! that needs a value and has none, all the same way.
//!
//! The usage a binary prints is its own doc comment (the `//!` lines at the
//! top of its source), so what `--help` says and what the source says
//! cannot drift apart.
//!
//! Flags are spelled `--name value` or `--name=value`. `muxecho` reads its
//! flags as Go's `flag` package does instead ([`Flags::go_style`]): one
//! dash (`-addr`) or two, and flags stop at the first other argument.
//!
//! The server demos share one set of timeout flags ([`Timeouts`]).

use std::ffi::OsString;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

pub use lexopt::Arg::{self, Long, Short, Value};

/// Why a command line was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// `--help` or `-h`: print the usage and exit with status 0.
    Help,
    /// Anything wrong, said in words that name the flag or argument.
    Bad(String),
}

impl From<lexopt::Error> for Error {
    fn from(e: lexopt::Error) -> Error {
        Error::Bad(e.to_string())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Help => f.write_str("help requested"),
            Error::Bad(message) => f.write_str(message),
        }
    }
}

/// One command line being read, flag by flag.
#[derive(Debug)]
pub struct Flags {
    parser: lexopt::Parser,
    /// The flag last returned by [`Flags::next`], as typed, for messages.
    current: String,
    /// A lone `--` ended the flags.
    double_dash: bool,
}

impl Flags {
    /// The flags of this process (`std::env::args`).
    pub fn from_env() -> Flags {
        Flags::new(std::env::args_os().skip(1))
    }

    /// Flags from `args` (the program name not included).
    pub fn new<I>(args: I) -> Flags
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        Flags {
            parser: lexopt::Parser::from_args(args),
            current: String::new(),
            double_dash: false,
        }
    }

    /// Flags read as Go's `flag` package reads them: `-name` means the same
    /// as `--name`, and flags end at the first argument that is not one (or
    /// at `--`). `takes_value` names the flags that are followed by a
    /// value, so that the value is not mistaken for the first argument.
    ///
    /// ```
    /// use demos::cli::{Flags, Long, Value};
    /// let mut flags = Flags::go_style(["-addr", "127.0.0.1:0", "-v", "/a", "-b"], &["addr"]);
    /// assert!(matches!(flags.next(), Ok(Some(Long("addr")))));
    /// assert_eq!(flags.value::<String>().unwrap(), "127.0.0.1:0");
    /// assert!(matches!(flags.next(), Ok(Some(Long("v")))));
    /// assert!(matches!(flags.next(), Ok(Some(Value(_)))));
    /// assert_eq!(flags.rest(), ["-b"]);
    /// ```
    pub fn go_style<I>(args: I, takes_value: &[&str]) -> Flags
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let mut args = args.into_iter().map(Into::into);
        let mut rewritten = Vec::new();
        // Go: flag.FlagSet.parseOne, one flag at a time until a non-flag.
        while let Some(arg) = args.next() {
            let flag = arg
                .strip_prefix("--")
                .or_else(|| arg.strip_prefix('-'))
                .unwrap_or("")
                .to_owned();
            if flag.is_empty() {
                // The first argument, a lone `-` (an argument in Go too),
                // or `--`: the flags end here.
                rewritten.push(arg);
                break;
            }
            rewritten.push(format!("--{flag}"));
            // `-addr x`: the next argument is the value, whatever it is.
            if takes_value.contains(&flag.as_str()) {
                rewritten.extend(args.next());
            }
        }
        rewritten.extend(args);
        Flags::new(rewritten)
    }

    /// The next flag or argument, or `None` at the end or at a lone `--`
    /// (what follows it is [`Flags::rest`]). `--help` and `-h` come back
    /// as [`Error::Help`].
    // Not `Iterator::next`: the flag borrows from the parser (lexopt's
    // own `Parser::next` has the same shape).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Arg<'_>>, Error> {
        if let Some(mut raw) = self.parser.try_raw_args() {
            if raw.peek().is_some_and(|arg| arg == "--") {
                raw.next();
                self.double_dash = true;
                return Ok(None);
            }
        }
        let arg = self.parser.next()?;
        match &arg {
            Some(Long("help")) | Some(Long("h")) | Some(Short('h')) => return Err(Error::Help),
            Some(Long(name)) => self.current = format!("--{name}"),
            Some(Short(c)) => self.current = format!("-{c}"),
            _ => {}
        }
        Ok(arg)
    }

    /// The value of the flag just read, parsed: `--requests 20` or
    /// `--requests=20`. A missing or unparsable value is an error naming
    /// the flag.
    pub fn value<T>(&mut self) -> Result<T, Error>
    where
        T: FromStr,
        T::Err: Display,
    {
        let value = self.parser.value()?;
        let text = value
            .into_string()
            .map_err(|v| Error::Bad(format!("{}: not valid UTF-8: {v:?}", self.current)))?;
        text.parse()
            .map_err(|e| Error::Bad(format!("invalid value for {}: {text:?}: {e}", self.current)))
    }

    /// A flag that is true by being there (`-v`), or given as
    /// `-v=true` / `-v=false` as Go's boolean flags may be (Go:
    /// `strconv.ParseBool`'s spellings).
    pub fn switch(&mut self) -> Result<bool, Error> {
        let Some(value) = self.parser.optional_value() else {
            return Ok(true);
        };
        match value.to_str() {
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            _ => Err(Error::Bad(format!(
                "invalid value for {}: {value:?}",
                self.current
            ))),
        }
    }

    /// A duration given in milliseconds; 0 means none (`None`), as a zero
    /// timeout means none in Go's `http.Server`.
    pub fn millis(&mut self) -> Result<Option<Duration>, Error> {
        let ms: u64 = self.value()?;
        Ok((ms > 0).then(|| Duration::from_millis(ms)))
    }

    /// The name of the flag [`Flags::next`] just returned, without its
    /// dashes: for a reader of several flags, such as [`Timeouts::read`].
    pub fn current_name(&self) -> &str {
        self.current.trim_start_matches('-')
    }

    /// True when the flags ended at a lone `--`.
    pub fn saw_double_dash(&self) -> bool {
        self.double_dash
    }

    /// Every argument not read yet, untouched (after `--`, or after the
    /// first plain argument in Go's style).
    pub fn rest(&mut self) -> Vec<String> {
        match self.parser.try_raw_args() {
            Some(raw) => raw.map(|a| a.to_string_lossy().into_owned()).collect(),
            None => Vec::new(),
        }
    }
}

/// The error for a flag the binary does not take.
pub fn unknown(name: &str) -> Error {
    Error::Bad(format!("unknown flag --{name}"))
}

/// The usage text of a binary: its doc comment (`//!` lines) given its
/// source, with the code fences removed and their lines indented, and
/// without the lines that are only an HTML comment (`<!-- check -->`, the
/// marks `scripts/check-course` reads; rustdoc does not show them either).
pub fn usage_from_doc(source: &str) -> String {
    let mut usage = String::new();
    let mut in_code = false;
    for line in source.lines() {
        let Some(text) = line.strip_prefix("//!") else {
            if usage.is_empty() {
                continue;
            }
            break;
        };
        let text = text.strip_prefix(' ').unwrap_or(text);
        if is_html_comment(text) {
            continue;
        }
        if text.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            usage.push_str("    ");
        }
        usage.push_str(text);
        usage.push('\n');
    }
    usage
}

/// A line that is one HTML comment and nothing else.
fn is_html_comment(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("<!--") && line.ends_with("-->")
}

/// Reads the command line with `parse` and returns what it made of it.
/// `--help` prints `source`'s doc comment and exits with status 0; a bad
/// flag prints `program: <what is wrong>` on stderr and exits with 2.
///
/// A binary calls it as `cli::parse_or_exit("hello", include_str!("hello.rs"), parse)`.
pub fn parse_or_exit<T>(
    program: &str,
    source: &str,
    parse: impl FnOnce(&mut Flags) -> Result<T, Error>,
) -> T {
    parse_or_exit_with(program, source, Flags::from_env(), parse)
}

/// [`parse_or_exit`] on flags made another way ([`Flags::go_style`]).
pub fn parse_or_exit_with<T>(
    program: &str,
    source: &str,
    mut flags: Flags,
    parse: impl FnOnce(&mut Flags) -> Result<T, Error>,
) -> T {
    let parsed = parse(&mut flags).and_then(|parsed| match flags.rest().first() {
        // Arguments after a `--` that the binary did not take.
        Some(extra) => Err(Error::Bad(format!("unexpected argument {extra:?}"))),
        None => Ok(parsed),
    });
    match parsed {
        Ok(parsed) => parsed,
        Err(Error::Help) => {
            print!("{}", usage_from_doc(source));
            std::process::exit(0)
        }
        Err(Error::Bad(message)) => {
            eprintln!("{program}: {message}");
            eprintln!("Run `{program} --help` for the flags it takes.");
            std::process::exit(2)
        }
    }
}

/// The server timeouts a demo server takes on its command line, in
/// milliseconds (0 turns one off), with Go's meaning (`http.Server`):
///
/// - `--read-header-timeout-ms`: from the accept (or the first byte of a
///   kept-alive request) to the end of the request head (Go:
///   `ReadHeaderTimeout`). Without it, a client that sends its head one
///   byte at a time (slowloris) holds a connection for ever;
/// - `--read-timeout-ms`: the head and the body (Go: `ReadTimeout`);
/// - `--write-timeout-ms`: from the end of the head to the end of the
///   response (Go: `WriteTimeout`);
/// - `--idle-timeout-ms`: how long a kept-alive connection may wait for
///   its next request (Go: `IdleTimeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub read_header: Option<Duration>,
    pub read: Option<Duration>,
    pub write: Option<Duration>,
    pub idle: Option<Duration>,
}

impl Timeouts {
    /// Go's zero values: no timeout at all. The library's default, and
    /// `hello`'s (the benchmark server, measured against peers that set
    /// none either).
    pub const NONE: Timeouts = Timeouts {
        read_header: None,
        read: None,
        write: None,
        idle: None,
    };

    /// What the course's servers run with: a well-configured Go server's
    /// read-header and idle timeouts.
    ///
    /// - 5 s for a request head: Cloudflare's advice for Go servers facing
    ///   the Internet ("So you want to expose Go on the Internet", 2016) is
    ///   5 s to read the whole request; a head from a real client arrives
    ///   in one round trip, so 5 s is ample, and a slowloris connection is
    ///   gone after 5 s instead of never.
    /// - 120 s for an idle keep-alive connection: the same article's value
    ///   (nginx keeps 75 s, Apache 5 s); long enough for a browser to
    ///   reuse its connections, short enough that idle ones do not pile up.
    ///
    /// No read or write timeout: they bound the body and the handler too,
    /// and the lessons have handlers that take their time (`/slow/<ms>`).
    pub const SAFE: Timeouts = Timeouts {
        read_header: Some(Duration::from_secs(5)),
        read: None,
        write: None,
        idle: Some(Duration::from_secs(120)),
    };

    /// The names of the four flags, for a `match` guard.
    pub const FLAGS: [&'static str; 4] = [
        "read-header-timeout-ms",
        "read-timeout-ms",
        "write-timeout-ms",
        "idle-timeout-ms",
    ];

    /// Reads the value of the timeout flag [`Flags::next`] just returned
    /// (one of [`Timeouts::FLAGS`]) into `self`.
    pub fn read(&mut self, flags: &mut Flags) -> Result<(), Error> {
        let field = match flags.current_name() {
            "read-header-timeout-ms" => &mut self.read_header,
            "read-timeout-ms" => &mut self.read,
            "write-timeout-ms" => &mut self.write,
            "idle-timeout-ms" => &mut self.idle,
            other => return Err(unknown(other)),
        };
        *field = flags.millis()?;
        Ok(())
    }

    /// `config` with these timeouts.
    pub fn apply(&self, config: server::Config) -> server::Config {
        server::Config {
            read_header_timeout: self.read_header,
            read_timeout: self.read,
            write_timeout: self.write,
            idle_timeout: self.idle,
            ..config
        }
    }

    /// One line for a start-up log: `read-header 5s, idle 120s` (the ones
    /// that are on), or `no timeouts`.
    pub fn describe(&self) -> String {
        let named = [
            ("read-header", self.read_header),
            ("read", self.read),
            ("write", self.write),
            ("idle", self.idle),
        ];
        let on: Vec<String> = named
            .iter()
            .filter_map(|(name, t)| t.map(|t| format!("{name} {t:?}")))
            .collect();
        if on.is_empty() {
            "no timeouts".to_owned()
        } else {
            format!("timeouts: {}", on.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `--n N`, `--on`, the timeout flags and plain arguments, as a
    /// binary's parse function does.
    fn parse(args: &[&str]) -> Result<(u32, bool, Timeouts, Vec<String>), Error> {
        let mut flags = Flags::new(args.iter().copied());
        let (mut n, mut on, mut timeouts, mut plain) = (0, false, Timeouts::SAFE, Vec::new());
        while let Some(arg) = flags.next()? {
            match arg {
                Long("n") => n = flags.value()?,
                Long("on") => on = flags.switch()?,
                Long(name) if Timeouts::FLAGS.contains(&name) => timeouts.read(&mut flags)?,
                Long(name) => return Err(unknown(name)),
                Value(v) => plain.push(v.to_string_lossy().into_owned()),
                other => return Err(other.unexpected().into()),
            }
        }
        Ok((n, on, timeouts, plain))
    }

    #[test]
    fn values_come_after_a_space_or_an_equals_sign() {
        let (n, on, _, plain) = parse(&["--n", "3", "x", "--on"]).unwrap();
        assert_eq!((n, on, plain), (3, true, vec!["x".to_owned()]));
        assert_eq!(parse(&["--n=4"]).unwrap().0, 4);
    }

    #[test]
    fn help_unknown_flags_and_missing_values_are_told_apart() {
        assert_eq!(parse(&["--help"]), Err(Error::Help));
        assert_eq!(parse(&["-h"]), Err(Error::Help));
        assert_eq!(
            parse(&["--tls-cert", "x"]),
            Err(Error::Bad("unknown flag --tls-cert".into()))
        );
        let Err(Error::Bad(missing)) = parse(&["--n"]) else {
            panic!()
        };
        assert!(missing.contains("--n"), "{missing}");
        let Err(Error::Bad(bad)) = parse(&["--n", "many"]) else {
            panic!()
        };
        assert!(bad.starts_with("invalid value for --n: \"many\""), "{bad}");
        let Err(Error::Bad(flag_value)) = parse(&["--on=yes"]) else {
            panic!()
        };
        assert!(flag_value.contains("--on"), "{flag_value}");
        assert!(!parse(&["--on=false"]).unwrap().1);
    }

    #[test]
    fn timeouts_default_to_safe_and_zero_turns_one_off() {
        let (_, _, t, _) = parse(&[]).unwrap();
        assert_eq!(t, Timeouts::SAFE);
        let (_, _, t, _) = parse(&["--read-header-timeout-ms", "0", "--write-timeout-ms=250"]).unwrap();
        assert_eq!(t.read_header, None);
        assert_eq!(t.write, Some(Duration::from_millis(250)));
        assert_eq!(t.idle, Some(Duration::from_secs(120)));
        assert_eq!(t.describe(), "timeouts: write 250ms, idle 120s");
        assert_eq!(Timeouts::NONE.describe(), "no timeouts");
    }

    #[test]
    fn go_style_flags_take_one_dash_and_stop_at_the_first_argument() {
        let mut flags = Flags::go_style(["-on", "-n=2", "-addr", "-x", "/a", "-on"], &["addr"]);
        let mut seen = Vec::new();
        while let Some(arg) = flags.next().unwrap() {
            match arg {
                Long("addr") => seen.push(format!("addr={}", flags.value::<String>().unwrap())),
                Long("n") => seen.push(format!("n={}", flags.value::<u32>().unwrap())),
                Long(name) => seen.push(name.to_owned()),
                Value(v) => {
                    seen.push(format!("arg {}", v.to_string_lossy()));
                    seen.extend(flags.rest());
                    break;
                }
                Short(c) => seen.push(format!("short {c}")),
            }
        }
        assert_eq!(seen, ["on", "n=2", "addr=-x", "arg /a", "-on"]);
        assert_eq!(Flags::go_style(["-help"], &[]).next(), Err(Error::Help));
    }

    #[test]
    fn usage_is_the_doc_comment_without_its_fences() {
        let source = "//! # tool\n//!\n//! ```text\n//! tool --x\n//! ```\n\nuse x;\n//! not this\n";
        assert_eq!(usage_from_doc(source), "# tool\n\n    tool --x\n");
    }

    #[test]
    fn usage_leaves_out_the_check_marks() {
        let source = "//! # tool\n//!\n//! <!-- check: start tool port=8200 -->\n//! ```console\n//! $ tool --x\n//! ```\n//! Say <!-- this --> inline.\n";
        assert_eq!(
            usage_from_doc(source),
            "# tool\n\n    $ tool --x\nSay <!-- this --> inline.\n"
        );
    }
}
