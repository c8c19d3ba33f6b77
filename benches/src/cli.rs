//! Command-line flags for the benchmark tools (`hyper-hello`, `fixed-load`,
//! `idle-conns`), read the same way the demos read theirs, with no
//! argument-parsing crate.

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
