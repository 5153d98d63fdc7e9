//! The live SSH sessions: limits per user and in all, and the watch that ends a session
//! whose key was removed, whose device was revoked or whose role changed.

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::input::Raw;
use crate::model::Role;
use crate::server::Store;
use crate::server::store::Principal;

/// One live session, as the watch sees it.
struct Live {
    user_id: i64,
    role: Role,
    fingerprint: String,
    input: Sender<Raw>,
}

/// Why a session was not let in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Full {
    #[error("{user} already has {limit} Kazi session(s) open; close one and connect again")]
    User { user: String, limit: usize },
    #[error("the server has {limit} Kazi sessions open, its most; try again in a few minutes")]
    Server { limit: usize },
}

#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<u64, Live>>,
    next: Mutex<u64>,
}

/// A session's place; dropping it frees the place.
pub struct Seat {
    id: u64,
    sessions: Arc<Sessions>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        if let Ok(mut live) = self.sessions.live.lock() {
            live.remove(&self.id);
        }
    }
}

impl Sessions {
    /// Let a session in, within `per_user` sessions of its user and `total` in all.
    pub fn admit(
        self: &Arc<Self>,
        who: &Principal,
        fingerprint: &str,
        input: Sender<Raw>,
        per_user: usize,
        total: usize,
    ) -> Result<Seat, Full> {
        let mut live = self
            .live
            .lock()
            .map_err(|_| Full::Server { limit: total })?;
        if live.len() >= total {
            return Err(Full::Server { limit: total });
        }
        if live.values().filter(|l| l.user_id == who.user_id).count() >= per_user {
            return Err(Full::User {
                user: who.user.clone(),
                limit: per_user,
            });
        }
        let id = {
            let mut next = self
                .next
                .lock()
                .map_err(|_| Full::Server { limit: total })?;
            *next += 1;
            *next
        };
        live.insert(
            id,
            Live {
                user_id: who.user_id,
                role: who.role,
                fingerprint: fingerprint.to_string(),
                input,
            },
        );
        Ok(Seat {
            id,
            sessions: self.clone(),
        })
    }

    pub fn count(&self) -> usize {
        self.live.lock().map_or(0, |l| l.len())
    }

    /// End every session (the server is stopping).
    pub fn end_all(&self, why: &str) {
        if let Ok(live) = self.live.lock() {
            for l in live.values() {
                let _ = l.input.send(Raw::End(why.to_string()));
            }
        }
    }

    /// Look up every live session's key once: a session whose key no longer signs in, or
    /// whose user's role changed, is ended with a line saying why.
    pub fn check(&self, store: &dyn Store) {
        let keys: Vec<(u64, String, Role)> = match self.live.lock() {
            Ok(live) => live
                .iter()
                .map(|(id, l)| (*id, l.fingerprint.clone(), l.role))
                .collect(),
            Err(_) => return,
        };
        for (id, fingerprint, role) in keys {
            let why = match store.ssh_principal(&fingerprint) {
                Ok(None) => "Your key was signed out by the centre's admin.".to_string(),
                Ok(Some(p)) if p.role != role => format!(
                    "Your role changed to {}; connect again for its screens.",
                    p.role
                ),
                // Unreadable for a moment: look again next time, never end on a guess.
                Ok(Some(_)) | Err(_) => continue,
            };
            if let Ok(live) = self.live.lock()
                && let Some(l) = live.get(&id)
            {
                let _ = l.input.send(Raw::End(why));
            }
        }
    }
}

/// Check the sessions every `every` until the server stops.
pub async fn watch(sessions: Arc<Sessions>, store: Arc<dyn Store>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if sessions.count() == 0 {
            continue;
        }
        let (sessions, store) = (sessions.clone(), store.clone());
        let _ = tokio::task::spawn_blocking(move || sessions.check(store.as_ref())).await;
    }
}
