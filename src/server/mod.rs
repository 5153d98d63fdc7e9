//! The central queue server: the HTTP API (`http`), per-user rate limits, secrets, the
//! scheduling rules of a sync (`scheduler`, backend-neutral), the storage trait with its
//! SQLite backend (`store`), and the admin operations behind `kazi admin` and
//! `kazi export` (`admin`). The server draws nothing.

pub mod admin;
pub mod aggregator;
mod http;
mod limit;
pub mod scheduler;
mod secret;
pub mod store;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::serve::ListenerExt;

pub use limit::RateLimit;
pub use store::{Store, StoreError, open_store};

/// Server time in unix seconds: the system clock plus an offset tests can move forward
/// (to expire leases and codes) without sleeping. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        system + self.offset.load(Ordering::Relaxed)
    }

    /// Move this clock (and every clone of it) forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}

/// How a server runs. Body and batch limits are the protocol's (`protocol::MAX_*`);
/// the enrolment code lifetime is `admin::ENROLMENT_CODE_SECS`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub clock: Clock,
    /// Syncs per user: generous, a client syncs every few seconds at most.
    pub sync_limit: RateLimit,
    /// Login attempts per user name: slows down guessing enrolment codes.
    pub login_limit: RateLimit,
    /// How often the background aggregator looks for new answers (wmv and ds projects).
    pub aggregate_every: std::time::Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            clock: Clock::system(),
            sync_limit: RateLimit {
                per_sec: 10.0,
                burst: 20,
            },
            login_limit: RateLimit {
                per_sec: 0.1,
                burst: 10,
            },
            aggregate_every: std::time::Duration::from_secs(10),
        }
    }
}

/// Serve the API on `listener` until `shutdown` completes, then finish the requests in
/// flight and return. The background aggregator runs beside it and stops with it.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Small request/response pairs: Nagle's delay would only add latency.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let background = tokio::spawn(aggregator::run(store.clone(), config.aggregate_every));
    let served = axum::serve(listener, http::router(store, config))
        .with_graceful_shutdown(shutdown)
        .await;
    background.abort();
    served
}
