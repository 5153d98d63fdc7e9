//! The built-in SSH server (`kazi serve --ssh-listen`): reviewers and trainers reach
//! Kazi's screens, and nothing else, from any SSH client. Public keys registered with
//! `kazi admin user key add` are the only way in; each session runs the App for its
//! user's role in-process against the server's store. This is the one place that joins
//! `server` and `tui`.
//!
//! Parts: `host_key` (made on first start), `connection` (russh's handler: auth, what a
//! channel may ask), `input` (bytes to keys), `terminal` (ratatui over the channel, with
//! backpressure), `seat` (role -> screens), `work` (the worker's executor), `review` (the
//! reviewer's link over the store), `sessions` (limits and the revocation watch).

mod connection;
pub mod host_key;
pub mod input;
pub mod review;
mod seat;
mod sessions;
pub mod terminal;
pub mod train;
pub mod work;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::server::Server as _;

use crate::server::{Clock, Store};
pub use host_key::{HostKeyError, load_or_create as load_host_key};

/// How the SSH server runs.
#[derive(Debug, Clone)]
pub struct SshConfig {
    pub host_key: PrivateKey,
    pub clock: Clock,
    /// A session without a key for this long ends (its leases stay for the next one).
    pub idle_timeout: Duration,
    /// How long a lone ESC waits for the rest of a sequence before it is the Esc key.
    pub esc_wait: Duration,
    /// Sessions open at once, in all and per user.
    pub max_sessions: usize,
    pub max_sessions_per_user: usize,
    /// How often live sessions' keys are looked up again (removed keys, revoked users).
    pub check_every: Duration,
}

impl SshConfig {
    pub fn new(host_key: PrivateKey) -> SshConfig {
        SshConfig {
            host_key,
            clock: Clock::system(),
            idle_timeout: Duration::from_secs(30 * 60),
            esc_wait: Duration::from_millis(50),
            max_sessions: 64,
            max_sessions_per_user: 3,
            check_every: Duration::from_secs(2),
        }
    }
}

/// Serve SSH on `listener` until `shutdown` completes; then every session is ended with
/// a line saying so.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    config: SshConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let russh_config = Arc::new(russh::server::Config {
        methods: russh::MethodSet::from(&[russh::MethodKind::PublicKey][..]),
        keys: vec![config.host_key.clone()],
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: 6,
        inactivity_timeout: Some(config.idle_timeout + Duration::from_secs(60)),
        keepalive_interval: Some(Duration::from_secs(30)),
        nodelay: true,
        ..Default::default()
    });
    let sessions = Arc::new(sessions::Sessions::default());
    let watch = tokio::spawn(sessions::watch(
        sessions.clone(),
        store.clone(),
        config.check_every,
    ));
    let mut server = connection::Listener::new(store, config, sessions.clone());
    let running = server.run_on_socket(russh_config, &listener);
    let handle = running.handle();
    tokio::pin!(shutdown);
    let result = tokio::select! {
        r = running => r,
        () = &mut shutdown => {
            sessions.end_all("The Kazi server is stopping; connect again in a moment.");
            // Give sessions a moment to leave their screens cleanly.
            tokio::time::sleep(Duration::from_millis(300)).await;
            handle.shutdown("server stopping".into());
            Ok(())
        }
    };
    watch.abort();
    result
}
