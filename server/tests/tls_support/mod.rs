//! Shared pieces of the TLS and Unix-socket tests: a certificate made with
//! rcgen and written to PEM files, a server speaking TLS on 127.0.0.1:0
//! that stops by itself, a rustls client that trusts that certificate, and
//! a handler that tells what it saw of the connection.
#![allow(dead_code)]

use server::rustls::pki_types::{CertificateDer, ServerName};
use server::rustls::ClientConfig;
use server::{handler_fn, Config, Handler, Request, ResponseWriter, Server};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Every wait in the tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(5);

/// A directory of its own under the system's temporary one, removed on
/// drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "server-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// A file in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, with its
/// key, in PEM files of a directory removed on drop.
pub struct TestCert {
    pub dir: TempDir,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub der: CertificateDer<'static>,
}

impl TestCert {
    pub fn new() -> TestCert {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let made = rcgen::generate_simple_self_signed(names).unwrap();
        let dir = TempDir::new();
        let cert_file = dir.path("cert.pem");
        let key_file = dir.path("key.pem");
        std::fs::write(&cert_file, made.cert.pem()).unwrap();
        std::fs::write(&key_file, made.signing_key.serialize_pem()).unwrap();
        TestCert {
            dir,
            cert_file,
            key_file,
            der: made.cert.der().clone(),
        }
    }

    /// A client configuration that trusts this certificate alone and
    /// offers ALPN `alpn`.
    pub fn client_config(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut roots = server::rustls::RootCertStore::empty();
        roots.add(self.der.clone()).unwrap();
        let mut config = ClientConfig::builder_with_provider(server::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

/// A server speaking TLS on 127.0.0.1; closed when dropped.
pub struct TlsServer {
    pub addr: SocketAddr,
    pub server: Server,
    pub serving: Option<JoinHandle<Result<(), server::Error>>>,
    pub cert: TestCert,
}

impl TlsServer {
    pub async fn start(config: Config, handler: impl Handler) -> TlsServer {
        let cert = TestCert::new();
        let tls = server::load_server_config(&cert.cert_file, &cert.key_file).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server::new(config, handler);
        let serving = tokio::spawn({
            let server = server.clone();
            async move { server.serve_tls(listener, tls).await }
        });
        TlsServer {
            addr,
            server,
            serving: Some(serving),
            cert,
        }
    }

    /// A TLS connection to the server, naming it `localhost` by SNI and
    /// offering ALPN `http/1.1`.
    pub async fn connect(&self) -> TlsStream<TcpStream> {
        self.connect_as("localhost", &[b"http/1.1"]).await.unwrap()
    }

    /// A TLS connection naming the server `name` (an IP address sends no
    /// SNI) and offering the ALPN protocols `alpn`.
    pub async fn connect_as(&self, name: &str, alpn: &[&[u8]]) -> io::Result<TlsStream<TcpStream>> {
        let connector = TlsConnector::from(self.cert.client_config(alpn));
        let name = ServerName::try_from(name.to_owned()).unwrap();
        let tcp = TcpStream::connect(self.addr).await?;
        tokio::time::timeout(WAIT, connector.connect(name, tcp))
            .await
            .expect("handshake timed out")
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.server.close();
    }
}

/// Answers every request with what it saw of the connection:
/// `remote=ADDR tls=VERSION alpn=PROTO sni=NAME`, `-` for what is absent.
/// `/slow/MS` sleeps first.
pub fn conn_info_app() -> impl Handler {
    handler_fn(|w, r| Box::pin(conn_info(w, r)))
}

async fn conn_info(w: &mut ResponseWriter, r: &mut Request) {
    if let Some(ms) = r.url.path.to_str_lossy().strip_prefix("/slow/") {
        let ms: u64 = ms.parse().unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let text = match r.tls() {
        None => format!("remote={} tls=-", r.remote_addr),
        Some(tls) => format!(
            "remote={} tls={:?} alpn={} sni={}",
            r.remote_addr,
            tls.version,
            tls.negotiated_protocol.as_deref().unwrap_or("-"),
            tls.server_name.as_deref().unwrap_or("-"),
        ),
    };
    let _ = w.write(text.as_bytes()).await;
}

/// Sends `request` and reads the response until the server closes: the
/// request should say `Connection: close`. The error is the read's, as a
/// TLS client sees it: a missing close_notify is an `UnexpectedEof`.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &str,
) -> io::Result<String> {
    stream.write_all(request.as_bytes()).await?;
    read_to_close(stream).await
}

/// Reads until the peer closes, within [`WAIT`].
pub async fn read_to_close<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<String> {
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut got))
        .await
        .expect("the server did not close")?;
    Ok(String::from_utf8_lossy(&got).into_owned())
}

/// Reads one response whose body has a Content-Length, leaving the
/// connection open.
pub async fn read_response<S: AsyncRead + Unpin>(stream: &mut S) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let n = tokio::time::timeout(WAIT, stream.read(&mut byte))
            .await
            .expect("no response")
            .expect("read failed");
        assert!(n > 0, "closed mid-response: {}", String::from_utf8_lossy(&got));
        got.push(byte[0]);
        if got.ends_with(b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&got).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("no Content-Length");
    let mut body = vec![0u8; length];
    tokio::time::timeout(WAIT, stream.read_exact(&mut body))
        .await
        .expect("no body")
        .expect("body read failed");
    head + &String::from_utf8_lossy(&body)
}

/// Runs curl with `args` (in a blocking thread), and returns its output.
pub async fn curl(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "5"])
            .args(&args)
            .output()
            .expect("running curl")
    })
    .await
    .unwrap()
}
