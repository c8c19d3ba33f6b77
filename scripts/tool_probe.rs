// The build script of every crate whose tests drive an outside tool
// (`server/build.rs`, `client-pool/build.rs`, `demos/build.rs` include this
// file). It looks for curl, wrk and Go on PATH when the crate is built and,
// for each one missing, sets `cfg(missing_<tool>)`. A test that needs the
// tool carries `#[cfg_attr(missing_curl, ignore = "needs curl, ...")]`, so
// that a machine without it reports the test as ignored, with the reason,
// in the test summary, instead of passing it without running it. `.ci/run`
// installs the tools and fails when any test was ignored for this reason.

use std::path::PathBuf;

/// The tools the tests drive, as their programs are named on PATH.
const TOOLS: [&str; 3] = ["curl", "wrk", "go"];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(missing_curl, missing_wrk, missing_go)");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    for tool in TOOLS {
        match dirs.iter().map(|dir| dir.join(tool)).find(|c| c.is_file()) {
            // Found: probe again if it goes away.
            Some(found) => println!("cargo::rerun-if-changed={}", found.display()),
            // Missing: probe again when it appears in one of the PATH
            // directories (Cargo watches a directory's files' times).
            None => {
                for dir in dirs.iter().filter(|dir| dir.is_dir()) {
                    println!("cargo::rerun-if-changed={}", dir.display());
                }
                println!("cargo::rustc-cfg=missing_{tool}");
            }
        }
    }
}
