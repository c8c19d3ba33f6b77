//! A tiny flag reader, so the demos need no argument-parsing crate.

/// The value after `--name` (or in `--name=value`) on the command line.
pub fn flag(name: &str) -> Option<String> {
    let long = format!("--{name}");
    let with_eq = format!("--{name}=");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == long {
            return args.next();
        }
        if let Some(value) = arg.strip_prefix(&with_eq) {
            return Some(value.to_owned());
        }
    }
    None
}

/// The value of `--name` parsed, or `default` when absent; exits with a
/// message when present but unparsable.
pub fn flag_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match flag(name) {
        None => default,
        Some(text) => text.parse().unwrap_or_else(|_| {
            eprintln!("invalid value for --{name}: {text}");
            std::process::exit(2)
        }),
    }
}

/// True when `--name` appears on the command line.
pub fn has_flag(name: &str) -> bool {
    let long = format!("--{name}");
    std::env::args().skip(1).any(|arg| arg == long)
}
