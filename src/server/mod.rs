//! The central queue server: the HTTP API (`http`), per-user rate limits, secrets, the
//! scheduling rules of a sync (`scheduler`, backend-neutral), the storage trait with its
//! SQLite backend (`store`), and the admin operations behind `kazi admin` and
//! `kazi export` (`admin`). The server draws nothing.

pub mod admin;
pub mod aggregator;
mod http;
pub mod impact;
mod limit;
mod listen;
pub mod pseudonym;
pub mod scheduler;
mod secret;
pub mod store;
pub mod watch;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use limit::RateLimit;
pub use store::{Store, StoreError, open_existing_store, open_store};

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
    /// Wrong enrolment codes per user name: slows down guessing. The right code is
    /// always checked, so a guesser cannot lock its user out.
    pub login_limit: RateLimit,
    /// How often the background aggregator looks for new answers (wmv and ds projects).
    pub aggregate_every: std::time::Duration,
    /// Connections open at once; more are shed with a 503 and `Retry-After`.
    pub max_connections: usize,
    /// How long a request's headers may take to arrive.
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive (thin links are slow, not silent).
    pub body_timeout: Duration,
    /// A connection that moves no byte for this long is closed.
    pub idle_timeout: Duration,
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
            max_connections: listen::default_max_connections(),
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(60),
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
    let background = tokio::spawn(aggregator::run(
        store.clone(),
        config.aggregate_every,
        config.clock.clone(),
    ));
    let watch = Arc::new(watch::Watch::default());
    let minutes = tokio::spawn(watch::log_minutes(watch.clone()));
    let router = http::router(store, config.clone(), watch);
    let served = listen::serve(listener, router, &config, shutdown).await;
    background.abort();
    minutes.abort();
    served
}
