//! Graceful restart of the example binary over https and over a Unix
//! socket: the same handover as `restart.rs`, with the two listeners the
//! course's gohttp gracehttp cannot restart (it asserts a
//! `*net.TCPListener`, and a TLS listener is not one).
//!
//! Over https the restart also rotates the certificate: each new process
//! reads the files again, so a leaf certificate written before SIGUSR2 is
//! the one new connections see after it, while clients that trust the
//! issuing authority notice nothing.

#[path = "restart_harness/mod.rs"]
mod harness;

use harness::*;
use server::rustls::pki_types::CertificateDer;
use server::rustls::{ClientConfig, RootCertStore};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A certificate authority that the clients trust, and that signs a new
/// leaf certificate for 127.0.0.1 whenever asked.
struct Authority {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    cert: CertificateDer<'static>,
}

impl Authority {
    fn new() -> Authority {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "restart test authority");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap().der().clone();
        Authority { params, key, cert }
    }

    /// Writes a new leaf certificate (with the authority after it, as a
    /// chain) and its key where the server reads them.
    fn issue(&self, cert_file: &Path, key_file: &Path) {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let leaf = rcgen::CertificateParams::new(names)
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        // The key first: a process that reads the new certificate must
        // find its key beside it.
        std::fs::write(key_file, leaf_key.serialize_pem()).unwrap();
        std::fs::write(cert_file, leaf.pem()).unwrap();
    }

    /// A client configuration that trusts this authority alone.
    fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        let config = ClientConfig::builder_with_provider(server::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }
}

/// Three restarts under https load, each with a new certificate: every
/// request gets a 200, every generation serves, and new connections see
/// each new certificate in turn.
#[test]
fn https_restart_under_load_rotates_the_certificate_and_loses_no_request() {
    let authority = Authority::new();
    let dir = scratch_dir("restart-tls-files");
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    authority.issue(&cert_file, &key_file);
    let mut example = Example::start_with("restart-tls", |command| {
        command
            .args(["--idle-grace-ms", "2000", "--tls-cert"])
            .arg(&cert_file)
            .arg("--tls-key")
            .arg(&key_file);
    });
    assert!(
        example.log.contains("Listening on https://"),
        "{}",
        example.log.text()
    );
    let target = Target {
        addr: example.addr,
        tls: Some(authority.client_config()),
    };
    let load = Load::start(target, 4, 2);
    load.run_for(100, Duration::ZERO, HANDOVER_TIMEOUT);

    let mut pids = vec![example.serving_pid()];
    for _ in 0..3 {
        authority.issue(&cert_file, &key_file);
        pids.push(example.restart());
        load.run_for(100, Duration::from_millis(800), HANDOVER_TIMEOUT);
    }
    let answered_by = load.answered_by.lock().unwrap().clone();
    let certificates = load.certificates.lock().unwrap().len();
    let (ok, failures) = load.finish();

    assert!(
        failures.is_empty(),
        "{} of {} https requests failed across 3 restarts: {:?}\nlog:\n{}",
        failures.len(),
        ok + failures.len() as u64,
        &failures[..failures.len().min(20)],
        example.log.text()
    );
    assert_eq!(
        answered_by,
        pids.iter().copied().collect(),
        "every generation served"
    );
    assert_eq!(certificates, 4, "the first certificate and the three rotated in");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A new process that cannot load its certificate exits before it is
/// ready, and the old one keeps serving https.
#[test]
fn a_broken_certificate_at_restart_leaves_the_old_process_serving() {
    let authority = Authority::new();
    let dir = scratch_dir("restart-tls-broken-files");
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    authority.issue(&cert_file, &key_file);
    let example = Example::start_with("restart-tls-broken", |command| {
        command
            .arg("--tls-cert")
            .arg(&cert_file)
            .arg("--tls-key")
            .arg(&key_file);
    });
    let first = example.serving_pid();
    std::fs::write(&key_file, "not a key").unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first),
        nix::sys::signal::Signal::SIGUSR2,
    )
    .unwrap();
    example
        .log
        .wait_for("the failed restart", HANDOVER_TIMEOUT, |line| {
            line.contains("certificate:")
        });
    let target = Target {
        addr: example.addr,
        tls: Some(authority.client_config()),
    };
    let response = get(target, "/pid").unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body.trim(),
        first.to_string(),
        "the old process still serves"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The listener on a Unix socket is inherited like a TCP one: after
/// SIGUSR2 the same path is answered by the new process, and a shutdown
/// removes the socket file.
#[test]
fn a_unix_socket_listener_is_inherited_by_the_new_process() {
    let dir = scratch_dir("restart-unix-socket");
    let socket = dir.join("example.sock");
    let mut example = Example::start_with("restart-unix", |command| {
        command.arg("--addr").arg(format!("unix:{}", socket.display()));
    });
    let first = example.serving_pid();
    assert_eq!(get_pid_over_unix(&socket), first);
    let second = example.restart();
    assert_ne!(second, first);
    assert!(example.log.contains("with the listener inherited on fd 3."));
    assert_eq!(get_pid_over_unix(&socket), second);

    harness::signal(second, nix::sys::signal::Signal::SIGTERM);
    example.wait_exit(second, EXIT_TIMEOUT);
    assert!(!socket.exists(), "the socket file outlived the server");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `GET /pid` over a Unix socket, answered with `Connection: close`.
fn get_pid_over_unix(path: &Path) -> i32 {
    let mut stream = UnixStream::connect(path).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
        .write_all(b"GET /pid HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let lines: Vec<String> = BufReader::new(stream).lines().map(Result::unwrap).collect();
    assert!(lines[0].starts_with("HTTP/1.1 200"), "{lines:?}");
    lines.last().unwrap().trim().parse().unwrap()
}
