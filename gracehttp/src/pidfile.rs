//! The pid file: one line naming the process that is serving now.
//!
//! Rewritten atomically (write a temporary file beside it, then rename
//! over it) by each new process once it is ready, so a reader such as
//! `kill -USR2 $(cat app.pid)` never sees a half-written or empty file.
//! The idea is cloudflare/tableflip's (`writePIDFile`, a temporary file
//! renamed over the old one).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `pid` to `path` atomically.
pub fn write(path: &Path, pid: u32) -> io::Result<()> {
    let tmp = temp_path(path, pid);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        // No fsync: rename is atomic for readers without it, and the file
        // only matters while the process runs; syncing would only delay the
        // handover.
        writeln!(file, "{pid}")?;
        // Closed before the rename: once the file is visible, this process
        // holds no descriptor for it.
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The pid the file names, if it names one.
pub fn read(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Removes the file if it still names `pid` (a process that stops for good
/// should not leave its pid behind; one that handed over must not remove
/// its successor's).
pub fn remove_if_ours(path: &Path, pid: u32) {
    if read(path) == Some(pid) {
        let _ = std::fs::remove_file(path);
    }
}

/// `dir/.name.tmp.PID`: in the same directory (rename is atomic only
/// within one file system), unique per process.
fn temp_path(path: &Path, pid: u32) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pid".to_owned());
    path.with_file_name(format!(".{name}.tmp.{pid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_and_remove_only_our_own() {
        let dir = std::env::temp_dir().join(format!("gracehttp-pidfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.pid");
        write(&path, 4242).unwrap();
        assert_eq!(read(&path), Some(4242));
        write(&path, 4343).unwrap();
        assert_eq!(read(&path), Some(4343));
        remove_if_ours(&path, 4242);
        assert_eq!(read(&path), Some(4343), "another process's pid file stays");
        remove_if_ours(&path, 4343);
        assert!(!path.exists());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "no temporary file left"
        );
        std::fs::remove_dir(&dir).unwrap();
    }
}
