//! The server demos' TLS flags, and the certificate they make when given
//! none.
//!
//! `--tls` serves https with a self-signed certificate for `127.0.0.1` and
//! `localhost`, made with rcgen the first time and kept in the system's
//! temporary directory (`/tmp/<demo>-tls/cert.pem` and `key.pem`): the demo
//! logs its path, so that `curl --cacert PATH https://127.0.0.1:PORT/`
//! trusts it. `--tls-cert FILE --tls-key FILE` serve a certificate of your
//! own instead (either implies `--tls`).
//!
//! The files are kept and reused rather than made again at each start, for
//! the restartable demos: a new process started by a hot restart reads the
//! files again (as nginx's reload does), and a client that trusts the
//! certificate goes on trusting it. Replace the files and restart, and the
//! new certificate is served: that is how a restart rotates certificates.

use crate::cli::{Error, Flags};
use std::io;
use std::path::{Path, PathBuf};

/// What `--tls`, `--tls-cert` and `--tls-key` asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFlags {
    /// `--tls`: serve https (with a self-signed certificate unless the
    /// files are given).
    pub enabled: bool,
    /// `--tls-cert FILE`: the certificate chain, PEM.
    pub cert: Option<PathBuf>,
    /// `--tls-key FILE`: its private key, PEM.
    pub key: Option<PathBuf>,
}

/// The certificate and key files a demo serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFlags {
    /// The flags this reads, for a demo's flag loop.
    pub const FLAGS: [&'static str; 3] = ["tls", "tls-cert", "tls-key"];

    /// Reads the flag [`Flags::next`] just returned (one of
    /// [`TlsFlags::FLAGS`]).
    pub fn read(&mut self, flags: &mut Flags) -> Result<(), Error> {
        match flags.current_name() {
            "tls" => self.enabled = flags.switch()?,
            "tls-cert" => self.cert = Some(flags.value::<String>()?.into()),
            "tls-key" => self.key = Some(flags.value::<String>()?.into()),
            other => return Err(crate::cli::unknown(other)),
        }
        Ok(())
    }

    /// The files to serve, or `None` for plain http. With `--tls` alone,
    /// the demo's self-signed certificate, made now if it does not exist.
    pub fn files(&self, demo: &str) -> Result<Option<TlsFiles>, String> {
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            })),
            (Some(_), None) => Err("--tls-cert needs --tls-key".into()),
            (None, Some(_)) => Err("--tls-key needs --tls-cert".into()),
            (None, None) if self.enabled => {
                let dir = std::env::temp_dir().join(format!("{demo}-tls"));
                self_signed(&dir)
                    .map(Some)
                    .map_err(|e| format!("cannot make a certificate in {}: {e}", dir.display()))
            }
            (None, None) => Ok(None),
        }
    }
}

/// The self-signed certificate in `dir`, made there first if it is not.
pub fn self_signed(dir: &Path) -> io::Result<TlsFiles> {
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    if files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    std::fs::create_dir_all(dir)?;
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
    // The key first, readable by its owner only; the certificate last, so
    // that a certificate file that exists always has its key beside it.
    write_private(&files.key, made.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&files.cert, made.cert.pem())?;
    Ok(files)
}

/// Writes a file only its owner may read (a private key).
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_choose_the_files() {
        let mut flags = TlsFlags::default();
        assert_eq!(flags.files("t"), Ok(None));
        flags.cert = Some("c.pem".into());
        assert!(flags.files("t").is_err());
        flags.key = Some("k.pem".into());
        assert_eq!(
            flags.files("t"),
            Ok(Some(TlsFiles {
                cert: "c.pem".into(),
                key: "k.pem".into()
            }))
        );
    }

    /// The certificate is made once and then reused, so that a restarted
    /// process serves the one its clients already trust.
    #[test]
    fn self_signed_is_made_once() {
        let dir = std::env::temp_dir().join(format!("demos-tls-test-{}", std::process::id()));
        let first = self_signed(&dir).unwrap();
        let pem = std::fs::read_to_string(&first.cert).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let second = self_signed(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(&second.cert).unwrap(), pem);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
