//! # client-pool: watch Go's Transport pool at work
//!
//! Sends N GETs through one `Client` (one `Transport`, one pool) in rounds
//! of C: a round's requests go out together, and the next round starts
//! when all of its answers are read. It logs a line per request saying
//! which connection served it, whether it was reused and how long it sat
//! idle, then prints the counters as the last line of stdout:
//!
//! ```text
//! requests=N ok=O failed=F dials=D reuses=R
//! ```
//!
//! Without `--url` it serves the course's example app in-process on
//! 127.0.0.1 (a random port, with the course's safe server timeouts) and
//! asks it for `/demo/DescribeDemo` (whose handler logs `destruct demo
//! context` after each request); that server holds each request
//! `--server-delay-ms` first, so that the requests of a round are in
//! flight together, as they are against a real server. Exit status 0 when
//! every request got a 2xx.
//!
//! Why rounds: at the end of a round every connection it used is free at
//! the same moment, and the pool keeps only `--max-idle-per-host` of them
//! (Go: `tryPutIdleConn`, `MaxIdleConnsPerHost`); the others are closed,
//! and the next round dials again. That is Go's lesson about its default
//! of 2 idle connections per host under bursts of concurrent requests.
//!
//! Flags: `--url URL` (default: the in-process example app), `--requests N`
//! (20), `--concurrency C` (1), `--max-conns-per-host K` (0 = no limit),
//! `--max-idle-per-host I` (2, Go's default), `--idle-timeout SECS` (90;
//! fractions allowed; 0 = never expire), `--server-delay-ms MS` (20; how
//! long the in-process server holds each request), `--max-body-bytes B`
//! (1048576; a longer body fails its request instead of filling memory, as
//! a server that never ends its body would), `--cacert PATH` (trust the
//! certificates of this PEM file for `https://` URLs, as curl's
//! `--cacert`; by default the Mozilla roots of `webpki-roots`),
//! `--unix-socket PATH` (send every request to this Unix socket, whatever
//! the URL's host, as curl's `--unix-socket`). `LOG_LEVEL=debug` also shows
//! the Transport's own events (dials, closes, retries). `--help` prints
//! this text.
//!
//! Try it. Lines starting with `$` are what you type; under each, the
//! last line it prints (`LOG_LEVEL=warn` keeps only that one):
//! one connection, reused 19 times; 8 at a time with Go's default of 2 idle
//! connections per host, so 6 redials a round (8 + 6 x 24); the same with
//! the idle limit raised to the concurrency, 8 dials in all; 32 at a time
//! but at most 4 connections, the others waiting their turn:
//!
//! <!-- check -->
//! ```console
//! $ LOG_LEVEL=warn cargo run -q -p demos --bin client-pool -- --requests 20 --concurrency 1
//! requests=20 ok=20 failed=0 dials=1 reuses=19
//! $ LOG_LEVEL=warn cargo run -q -p demos --bin client-pool -- --requests 200 --concurrency 8
//! requests=200 ok=200 failed=0 dials=152 reuses=48
//! $ LOG_LEVEL=warn cargo run -q -p demos --bin client-pool -- --requests 200 --concurrency 8 --max-idle-per-host 8
//! requests=200 ok=200 failed=0 dials=8 reuses=192
//! $ LOG_LEVEL=warn cargo run -q -p demos --bin client-pool -- --requests 200 --concurrency 32 --max-conns-per-host 4 --max-idle-per-host 4
//! requests=200 ok=200 failed=0 dials=4 reuses=196
//! ```
//!
//! Against any server: start `hello` in a second terminal (on 8240, a
//! port no chapter uses), and point the demo at it:
//!
//! <!-- check: start hello port=8240 -->
//! ```console
//! $ cargo run -p demos --bin hello -- --addr 127.0.0.1:8240
//! ... hello: listening on http://127.0.0.1:8240
//! ```
//!
//! <!-- check -->
//! ```console
//! $ LOG_LEVEL=warn cargo run -q -p demos --bin client-pool -- --url http://127.0.0.1:8240/ --requests 10
//! requests=10 ok=10 failed=0 dials=1 reuses=9
//! ```
//!
//! Over https: a second `hello`, with `--tls` (on 8241), and the demo
//! trusting the certificate it made, as `curl --cacert` would. One TLS
//! handshake, then nine requests on the same session:
//!
//! <!-- check: start hello-tls port=8241 -->
//! ```console
//! $ cargo run -p demos --bin hello -- --addr 127.0.0.1:8241 --tls
//! ... hello: listening on https://127.0.0.1:8241
//! ```
//!
//! <!-- check -->
//! ```console
//! $ LOG_LEVEL=warn cargo run -q -p demos --bin client-pool -- --url https://127.0.0.1:8241/ --cacert /tmp/hello-tls/cert.pem --requests 10
//! requests=10 ok=10 failed=0 dials=1 reuses=9
//! ```
//!
//! Without `--cacert` the self-signed certificate is refused, in Go's
//! words (`x509: certificate signed by unknown authority`). A `hello`
//! started with `--addr unix:/tmp/hello.sock` is reached with
//! `--unix-socket /tmp/hello.sock --url http://localhost/`.
//!
//! (With `--server-delay-ms 0` the rounds overlap less and a dial or two
//! may be saved: 150 instead of 152.) Each log line reads like the
//! course's client log:
//!
//! ```text
//! 2026/11/21 20:13:00 #7 127.0.0.1:40123 GET http://127.0.0.1:40123/demo/DescribeDemo 200 OK 21.412ms conn=2 reused=true was_idle=true idle=131µs
//! ```
//!
//! `was_idle=false` on a reused connection means it was handed straight
//! from the request that finished with it to this one, which was waiting
//! (Go: `tryPutIdleConn` serving an `idleConnWait` entry).

use client_pool::{Client, GotConnInfo, Transport, TransportConfig};
use demos::cli::{self, Flags, Long};
use server::{BoxFuture, Handler, Request, ResponseWriter};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the command line asks for.
struct Args {
    url: Option<String>,
    requests: usize,
    concurrency: usize,
    max_conns_per_host: usize,
    max_idle_per_host: usize,
    idle_timeout: f64,
    server_delay: Duration,
    max_body_bytes: usize,
    cacert: Option<String>,
    unix_socket: Option<String>,
}

fn parse(flags: &mut Flags) -> Result<Args, cli::Error> {
    let mut args = Args {
        url: None,
        requests: 20,
        concurrency: 1,
        max_conns_per_host: 0,
        max_idle_per_host: 2,
        idle_timeout: 90.0,
        server_delay: Duration::from_millis(20),
        max_body_bytes: 1 << 20,
        cacert: None,
        unix_socket: None,
    };
    while let Some(arg) = flags.next()? {
        match arg {
            Long("url") => args.url = Some(flags.value()?),
            Long("requests") => args.requests = flags.value()?,
            Long("concurrency") => args.concurrency = flags.value::<usize>()?.max(1),
            Long("max-conns-per-host") => args.max_conns_per_host = flags.value()?,
            Long("max-idle-per-host") => args.max_idle_per_host = flags.value()?,
            Long("idle-timeout") => args.idle_timeout = flags.value()?,
            Long("server-delay-ms") => args.server_delay = Duration::from_millis(flags.value()?),
            Long("max-body-bytes") => args.max_body_bytes = flags.value()?,
            Long("cacert") => args.cacert = Some(flags.value()?),
            Long("unix-socket") => args.unix_socket = Some(flags.value()?),
            Long(name) => return Err(cli::unknown(name)),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    let args = cli::parse_or_exit("client-pool", include_str!("client-pool.rs"), parse);
    demos::logging::init();

    // Without --url, serve the example app on 127.0.0.1:0 in this process.
    let (url, _server) = match args.url {
        Some(url) => (url, None),
        None => {
            let (url, server) = serve_example_app(args.server_delay).await;
            (url, Some(server))
        }
    };

    let idle_timeout = args.idle_timeout;
    let mut config = TransportConfig {
        max_conns_per_host: args.max_conns_per_host,
        max_idle_conns_per_host: args.max_idle_per_host,
        idle_conn_timeout: (idle_timeout > 0.0).then(|| Duration::from_secs_f64(idle_timeout)),
        unix_socket: args.unix_socket.map(Into::into),
        ..TransportConfig::default()
    };
    if let Some(path) = &args.cacert {
        match client_pool::tls_config_trusting_pem(path) {
            Ok(tls) => config.tls_config = tls,
            Err(e) => {
                eprintln!("client-pool: --cacert {path}: {e}");
                std::process::exit(2);
            }
        }
    }
    let transport = Transport::new(config);
    let client = Client::with_transport(transport.clone()).with_timeout(Duration::from_secs(30));
    let host = url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.to_string()))
        .unwrap_or_default();

    // Rounds of `concurrency` requests sent together; a round ends when
    // all of its answers are read, and every connection it used is free
    // at once: the pool keeps `max_idle_per_host` of them.
    let requests = args.requests;
    let mut ok = 0;
    let mut sent = 0;
    while sent < requests {
        let round: Vec<_> = (sent..requests.min(sent + args.concurrency))
            .map(|n| {
                let (client, url, host) = (client.clone(), url.clone(), host.clone());
                let limit = args.max_body_bytes;
                tokio::spawn(async move { one_request(&client, n + 1, &host, &url, limit).await })
            })
            .collect();
        sent += round.len();
        for request in round {
            if matches!(request.await, Ok(true)) {
                ok += 1;
            }
        }
    }

    let stats = transport.stats();
    println!(
        "requests={requests} ok={ok} failed={} dials={} reuses={}",
        requests - ok,
        stats.dials,
        stats.reuses
    );
    std::process::exit(if ok == requests { 0 } else { 1 });
}

/// Serves the course's example app on 127.0.0.1 (a free port), each
/// request held `delay` first, so that the requests of a round are all in
/// flight together, as they are against a real server over a real
/// network. Returns the URL to ask and the server.
async fn serve_example_app(delay: Duration) -> (String, server::Server) {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("client-pool: cannot listen on 127.0.0.1: {e}");
            std::process::exit(1);
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let server = server::Server::from_arc(
        cli::Timeouts::SAFE.apply(server::Config {
            addr: addr.clone(),
            ..server::Config::default()
        }),
        Arc::new(Delayed {
            delay,
            app: demos::example_app::handler(),
        }),
    );
    let serving = server.clone();
    tokio::spawn(async move {
        let _ = serving.serve(listener).await;
    });
    tracing::info!("serving the example app on {addr}, each answer after {delay:?}");
    (format!("http://{addr}/demo/DescribeDemo"), server)
}

/// A handler that waits `delay`, then lets `app` answer.
struct Delayed {
    delay: Duration,
    app: Arc<dyn Handler>,
}

impl Handler for Delayed {
    fn serve_http<'a>(&'a self, w: &'a mut ResponseWriter, r: &'a mut Request) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.app.serve_http(w, r).await
        })
    }
}

/// One GET, its body read to the end (at most `limit` bytes), logged;
/// true on a 2xx.
async fn one_request(client: &Client, n: usize, host: &str, url: &str, limit: usize) -> bool {
    let start = Instant::now();
    let mut resp = match client.get(url).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::info!("#{n} {host} GET {url} error after {:?}: {e}", start.elapsed());
            return false;
        }
    };
    // A body longer than the limit is an error, not a reason to grow
    // without bound: a server may send one that never ends.
    let body = resp.body_mut().bytes_limited(limit).await;
    let elapsed = start.elapsed();
    let conn = match resp.extensions().get::<GotConnInfo>() {
        Some(info) => format!(
            "conn={} reused={} was_idle={} idle={:?}",
            info.conn_id, info.reused, info.was_idle, info.idle_time
        ),
        None => String::new(),
    };
    match body {
        Ok(_) => {
            tracing::info!("#{n} {host} GET {url} {} {elapsed:?} {conn}", resp.status());
            resp.status().is_success()
        }
        Err(e) => {
            tracing::info!(
                "#{n} {host} GET {url} {} body error after {elapsed:?}: {e} {conn}",
                resp.status()
            );
            false
        }
    }
}
