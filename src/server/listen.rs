//! Accepting connections: a cap on how many are open at once (the rest are shed with a
//! 503 and `Retry-After`), header-read and idle timeouts, and graceful shutdown. Body-read
//! timeouts are the HTTP layer's (`http::read_body`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::ServerConfig;

/// Sockets being told "full" at once; past this a socket is closed without a word.
const MAX_SHEDDING: usize = 64;
/// How long a shed socket gets to take its 503.
const SHED_WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a connection checks whether it has been idle too long.
const IDLE_TICK: Duration = Duration::from_millis(500);
/// The reply to a connection over the cap: a whole response, then close.
const FULL_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\nretry-after: 1\r\nconnection: close\r\n\
content-length: 54\r\n\r\n{\"error\":\"the server is full; try again in a moment\"}\n";

/// Connections open at once by default: as many as the process may open files (Linux's
/// soft `RLIMIT_NOFILE`) less 64 kept for the database and the rest, at most 4,096 (a
/// big centre's workers each keep one open between syncs); 512 where the limit is unknown.
pub(super) fn default_max_connections() -> usize {
    const PREFERRED: usize = 4096;
    const UNKNOWN_LIMIT: usize = 512;
    const KEPT_FOR_OTHERS: usize = 64;
    let soft_limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| open_files_soft_limit(&text));
    match soft_limit {
        Some(files) => files.saturating_sub(KEPT_FOR_OTHERS).clamp(16, PREFERRED),
        None => UNKNOWN_LIMIT,
    }
}

/// The soft limit of the "Max open files" row of `/proc/self/limits`.
fn open_files_soft_limit(limits: &str) -> Option<usize> {
    let row = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = row
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

/// Serve `router` on `listener` until `shutdown` completes, then let the requests in
/// flight finish and return.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = config.max_connections.max(1);
    let open = Arc::new(Semaphore::new(max));
    let shedding = Arc::new(Semaphore::new(MAX_SHEDDING));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .keep_alive(true);
    let idle_timeout = config.idle_timeout;
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors or a reset before accept: the open
                    // connections go on; try again shortly instead of spinning.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Small request/response pairs: Nagle's delay would only add latency.
        let _ = tcp.set_nodelay(true);
        let Ok(permit) = open.clone().try_acquire_owned() else {
            shed(tcp, &shedding);
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let http = http.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let (io, last_active) = Watched::new(tcp);
            let conn = http.serve_connection(TokioIo::new(io), service);
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    _ = conn.as_mut() => break,
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    () = tokio::time::sleep(IDLE_TICK) => {
                        if last_active.idle() >= idle_timeout {
                            // No byte either way for the whole idle time: a dead or
                            // hostile peer. Dropping the connection closes the socket.
                            // A request still in the store finishes there and commits;
                            // its client resends and gets the same acknowledgements.
                            break;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit: having them all back means all have finished.
    let _all = open.acquire_many(max as u32).await;
    Ok(())
}

/// Tell a connection over the cap to come back later, without ever waiting long on it.
fn shed(mut tcp: TcpStream, shedding: &Arc<Semaphore>) {
    let Ok(slot) = shedding.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _slot = slot;
        let _ = tokio::time::timeout(SHED_WRITE_TIMEOUT, async {
            tcp.write_all(FULL_RESPONSE).await?;
            tcp.shutdown().await?;
            // Read what the client sent until it closes: closing with its request unread
            // would reset the connection and could lose the 503 before it is read.
            let mut sink = [0u8; 4096];
            while tcp.read(&mut sink).await? > 0 {}
            std::io::Result::Ok(())
        })
        .await;
    });
}

/// When a connection last moved a byte, as milliseconds since it opened.
struct LastActive {
    opened: Instant,
    at_ms: AtomicU64,
}

impl LastActive {
    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.at_ms.store(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let now = self.opened.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.at_ms.load(Ordering::Relaxed)))
    }
}

/// A socket that notes every read and write, so an idle one can be closed.
struct Watched {
    tcp: TcpStream,
    last: Arc<LastActive>,
}

impl Watched {
    fn new(tcp: TcpStream) -> (Watched, Arc<LastActive>) {
        let last = Arc::new(LastActive {
            opened: Instant::now(),
            at_ms: AtomicU64::new(0),
        });
        (
            Watched {
                tcp,
                last: last.clone(),
            },
            last,
        )
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.last.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.tcp).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.last.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_limit_bounds_the_connection_cap() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max cpu time              unlimited            unlimited            seconds\n\
                      Max open files            128                  4096                 files\n";
        assert_eq!(open_files_soft_limit(limits), Some(128));
        assert_eq!(
            open_files_soft_limit("Max open files  unlimited  unlimited  files"),
            None
        );
        assert_eq!(open_files_soft_limit(""), None);
        assert!((16..=4096).contains(&default_max_connections()));
    }
}
