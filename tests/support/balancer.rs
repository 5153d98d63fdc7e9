//! A round-robin TCP load balancer on 127.0.0.1 for multi-instance tests and benchmarks,
//! as HAProxy in `mode tcp` or nginx's `stream` would be: each new connection goes to the
//! next backend, and to the one after it when that one refuses (an instance killed).
//! Runs on its own thread and runtime. Included with `#[path = ...] mod balancer;`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};

pub struct Balancer {
    pub addr: SocketAddr,
    /// Connections forwarded, per backend.
    pub forwarded: Arc<Vec<AtomicUsize>>,
    _thread: std::thread::JoinHandle<()>,
}

impl Balancer {
    pub fn start(backends: Vec<SocketAddr>) -> Balancer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("balancer binds");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("balancer address");
        let forwarded: Arc<Vec<AtomicUsize>> =
            Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let counts = forwarded.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("balancer runtime");
            rt.block_on(run(listener, backends, counts));
        });
        Balancer {
            addr,
            forwarded,
            _thread: thread,
        }
    }
}

async fn run(
    listener: std::net::TcpListener,
    backends: Vec<SocketAddr>,
    forwarded: Arc<Vec<AtomicUsize>>,
) {
    let listener = TcpListener::from_std(listener).expect("balancer listener");
    let next = Arc::new(AtomicUsize::new(0));
    let backends = Arc::new(backends);
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let (backends, next, forwarded) = (backends.clone(), next.clone(), forwarded.clone());
        tokio::spawn(async move {
            let first = next.fetch_add(1, Ordering::Relaxed);
            for i in 0..backends.len() {
                let pick = (first + i) % backends.len();
                if let Ok(mut upstream) = TcpStream::connect(backends[pick]).await {
                    let _ = upstream.set_nodelay(true);
                    forwarded[pick].fetch_add(1, Ordering::Relaxed);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    return;
                }
            }
            // Every backend refused: the client sees the connection close.
        });
    }
}
