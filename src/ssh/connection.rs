//! One SSH connection, as russh's handler: a registered public key whose SSH user name is
//! its Kazi user is the only way in (passwords and keyboard-interactive are not even
//! offered); one session channel with a PTY and a shell runs the screens; exec,
//! subsystems, X11, agent and port forwarding are refused.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel as input_channel};
use std::time::Duration;

use russh::keys::{HashAlg, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Handler, Msg, Session};
use russh::{Channel, ChannelId, ChannelWriteHalf, Pty};

use super::SshConfig;
use super::input::{Raw, SshInput};
use super::seat::{self, SeatContext};
use super::sessions::Sessions;
use super::terminal::{Drained, ENTER, Outbox, PtySize, SshBackend};
use crate::server::Store;
use crate::server::store::Principal;
use crate::tui::{Keymap, Theme};

/// Input bytes the session thread may have waiting before the connection stops reading.
const MAX_INPUT_PENDING: usize = 64 * 1024;
/// Environment variables a client may set (`ssh -o SendEnv=NO_COLOR`); others refused.
const ACCEPTED_ENV: &[&str] = &["NO_COLOR", "KAZI_ASCII", "LANG", "LC_ALL", "LC_CTYPE"];

/// Makes a handler per connection.
pub struct Listener {
    store: Arc<dyn Store>,
    config: Arc<SshConfig>,
    sessions: Arc<Sessions>,
}

impl Listener {
    pub fn new(store: Arc<dyn Store>, config: SshConfig, sessions: Arc<Sessions>) -> Listener {
        Listener {
            store,
            config: Arc::new(config),
            sessions,
        }
    }
}

impl russh::server::Server for Listener {
    type Handler = Connection;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> Connection {
        Connection {
            store: self.store.clone(),
            config: self.config.clone(),
            sessions: self.sessions.clone(),
            peer,
            who: None,
            channel: None,
            writer: None,
            term: None,
            env: HashMap::new(),
            size: Arc::new(PtySize::new(80, 24)),
            input: None,
            pending: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// One connection's state.
pub struct Connection {
    store: Arc<dyn Store>,
    config: Arc<SshConfig>,
    sessions: Arc<Sessions>,
    #[allow(dead_code)]
    peer: Option<SocketAddr>,
    /// The signed-in user and the fingerprint of their key.
    who: Option<(Principal, String)>,
    channel: Option<ChannelId>,
    writer: Option<ChannelWriteHalf<Msg>>,
    /// The PTY's TERM, once asked for.
    term: Option<String>,
    env: HashMap<String, String>,
    size: Arc<PtySize>,
    /// The running session's input, once the shell started.
    input: Option<Sender<Raw>>,
    /// Input bytes sent to the session and not yet decoded.
    pending: Arc<AtomicUsize>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(input) = &self.input {
            let _ = input.send(Raw::Closed);
        }
    }
}

/// A failure inside the handler: russh ends the connection on it.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error(transparent)]
    Ssh(#[from] russh::Error),
    #[error("the server's database cannot be read: {0}")]
    Store(String),
}

impl Connection {
    /// The principal of a key, looked up off the async threads.
    async fn principal(
        &self,
        key: &PublicKey,
    ) -> Result<Option<(Principal, String)>, ConnectionError> {
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let store = self.store.clone();
        let fp = fingerprint.clone();
        let found = tokio::task::spawn_blocking(move || store.ssh_principal(&fp))
            .await
            .map_err(|e| ConnectionError::Store(e.to_string()))?
            .map_err(|e| ConnectionError::Store(e.to_string()))?;
        Ok(found.map(|p| (p, fingerprint)))
    }

    /// Say something on the channel's stderr and close it with a failing status.
    fn refuse(
        &self,
        channel: ChannelId,
        session: &mut Session,
        why: &str,
    ) -> Result<(), russh::Error> {
        session.extended_data(channel, 1, format!("kazi: {why}\r\n").into_bytes())?;
        session.exit_status_request(channel, 1)?;
        session.eof(channel)?;
        session.close(channel)
    }

    /// The client closed the session's channel (or sent its end): the session ends.
    fn channel_ended(&self, channel: ChannelId) {
        if let Some(input) = self
            .input
            .as_ref()
            .filter(|_| Some(channel) == self.channel)
        {
            let _ = input.send(Raw::Closed);
        }
    }

    fn theme(&self) -> Theme {
        let var = |name: &str| self.env.get(name).map(String::as_str);
        let locale = var("LC_ALL")
            .filter(|v| !v.is_empty())
            .or_else(|| var("LC_CTYPE").filter(|v| !v.is_empty()))
            .or_else(|| var("LANG"));
        Theme::from_vars(
            var("NO_COLOR"),
            var("KAZI_ASCII"),
            self.term.as_deref(),
            // A client sending no locale is taken as UTF-8: nearly every SSH client is.
            locale.or(Some("C.UTF-8")),
        )
    }

    /// Start the screens for the signed-in user on this channel.
    fn start(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), russh::Error> {
        let Some((who, fingerprint)) = self.who.clone() else {
            return self.refuse(channel, session, "not signed in");
        };
        if self.term.is_none() {
            return self.refuse(
                channel,
                session,
                "Kazi's screens need a terminal: connect with ssh -t (or without -T)",
            );
        }
        let Some(writer) = self.writer.take() else {
            return self.refuse(channel, session, "one Kazi session per connection");
        };
        let (tx, rx) = input_channel::<Raw>();
        let seat = match self.sessions.admit(
            &who,
            &fingerprint,
            tx.clone(),
            self.config.max_sessions_per_user,
            self.config.max_sessions,
        ) {
            Ok(seat) => seat,
            Err(full) => return self.refuse(channel, session, &full.to_string()),
        };
        session.channel_success(channel)?;
        self.input = Some(tx.clone());

        let outbox = Arc::new(Outbox::default());
        let mut backend = SshBackend::new(outbox.clone(), self.size.clone());
        let _ = backend.write_raw(ENTER);
        tokio::spawn(write_out(writer, outbox.clone(), tx));
        let ended = Arc::default();
        let input = SshInput::new(
            rx,
            self.size.get(),
            self.config.esc_wait,
            self.config.idle_timeout,
            Arc::clone(&ended),
        )
        .with_pending(self.pending.clone());
        let cx = SeatContext {
            store: self.store.clone(),
            who,
            fingerprint,
            clock: self.config.clock.clone(),
            keymap: Keymap::default(),
            theme: self.theme(),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("kazi-ssh-{}", cx.who.user_id))
            .spawn(move || {
                let _seat = seat;
                seat::run(cx, backend, input, ended, &outbox);
            });
        if spawned.is_err() {
            return self.refuse(
                channel,
                session,
                "the server cannot start a session now; try again",
            );
        }
        Ok(())
    }
}

/// Drain the outbox into the channel as fast as the client takes it (russh waits for the
/// client's window), then close the channel once the session ended. After frames were
/// dropped for a slow client, ask the session to send the whole screen.
async fn write_out(writer: ChannelWriteHalf<Msg>, outbox: Arc<Outbox>, input: Sender<Raw>) {
    let mut asked = false;
    loop {
        match outbox.drain() {
            Drained::Bytes(bytes) => {
                asked = false;
                if writer.data_bytes(bytes).await.is_err() {
                    let _ = input.send(Raw::Closed);
                    return;
                }
            }
            Drained::Empty => {
                if outbox.is_lost() && !asked {
                    asked = true;
                    let _ = input.send(Raw::Redraw);
                }
                outbox.ready.notified().await;
            }
            Drained::Finished => {
                let _ = writer.exit_status(0).await;
                let _ = writer.eof().await;
                let _ = writer.close().await;
                return;
            }
        }
    }
}

impl Handler for Connection {
    type Error = ConnectionError;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(match self.principal(offer.public_key).await? {
            Some((p, _)) if p.user == user => Auth::Accept,
            _ => Auth::reject(),
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        match self.principal(key.public_key).await? {
            Some((p, fingerprint)) if p.user == user => {
                self.who = Some((p, fingerprint));
                Ok(Auth::Accept)
            }
            _ => Ok(Auth::reject()),
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel.is_some() || self.who.is_none() {
            // Dropping the reply refuses the channel.
            return Ok(());
        }
        self.channel = Some(channel.id());
        let (mut read, write) = channel.split();
        self.writer = Some(write);
        // Everything the channel says is handled by the callbacks below; its own queue is
        // drained so it never fills and stalls the connection.
        tokio::spawn(async move { while read.wait().await.is_some() {} });
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) != self.channel {
            session.channel_failure(channel)?;
            return Ok(());
        }
        self.term = Some(crate::model::sanitize_line(term).into_owned());
        self.size.set(clamp(col_width), clamp(row_height));
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if ACCEPTED_ENV.contains(&name) && value.len() <= 64 {
            self.env.insert(name.to_string(), value.to_string());
            session.channel_success(channel)?;
        } else {
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) != self.channel || self.input.is_some() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        self.start(channel, session)?;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Taken, so that the client shows why, and ended at once: nothing runs.
        session.channel_success(channel)?;
        self.refuse(
            channel,
            session,
            "this server runs Kazi's screens only, no commands; connect without a command",
        )?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        self.refuse(
            channel,
            session,
            "this server runs Kazi's screens only (no sftp or subsystems)",
        )?;
        Ok(())
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single: bool,
        _protocol: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn agent_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<bool, Self::Error> {
        session.channel_failure(channel)?;
        Ok(false)
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) == self.channel {
            let (w, h) = (clamp(col_width), clamp(row_height));
            self.size.set(w, h);
            if let Some(input) = &self.input {
                let _ = input.send(Raw::Resize(w, h));
            }
        }
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(input) = self
            .input
            .as_ref()
            .filter(|_| Some(channel) == self.channel)
        else {
            return Ok(());
        };
        // A flood of input waits here, and so stops this connection's reads, never the
        // server's threads.
        while self.pending.load(Ordering::Relaxed) > MAX_INPUT_PENDING {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.pending.fetch_add(data.len(), Ordering::Relaxed);
        let _ = input.send(Raw::Bytes(data.to_vec()));
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channel_ended(channel);
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channel_ended(channel);
        Ok(())
    }
}

/// A PTY dimension as the screens take it: 1..=1000 (a client may send 0 or nonsense).
fn clamp(n: u32) -> u16 {
    n.clamp(1, 1000) as u16
}
