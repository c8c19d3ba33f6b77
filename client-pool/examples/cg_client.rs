//! Temporary: fixed client load for callgrind (not committed).
use client_pool::{Client, Transport, TransportConfig};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = format!("http://{}/hello", args[1]);
    let requests: usize = args[2].parse().unwrap();
    let conc: usize = args[3].parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let client = Client::with_transport(Transport::new(TransportConfig {
            max_idle_conns_per_host: conc,
            ..TransportConfig::default()
        }));
        let mut tasks = Vec::new();
        for _ in 0..conc {
            let client = client.clone();
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..requests / conc {
                    let mut resp = client.get(&url).await.unwrap();
                    let _ = resp.body_mut().bytes().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}
