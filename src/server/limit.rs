//! Per-user limits: a token bucket per user (never per address: a centre puts many
//! workers behind one), and one request at a time per user. Kept in memory; each server
//! instance limits on its own.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Instant;

/// How fast one user may call an endpoint: `per_sec` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_sec: f64,
    pub burst: u32,
}

/// Buckets beyond this many get pruned of the full (idle) ones.
const PRUNE_AT: usize = 10_000;

struct Bucket {
    tokens: f64,
    last: Instant,
    /// Refused since the bucket last allowed: a run of refusals is reported once.
    refusing: bool,
}

/// What one call of `take` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Take {
    Allowed,
    /// The bucket is empty; `first` for the first refusal after an allowed call.
    Refused {
        first: bool,
    },
}

pub(crate) struct RateLimiter<K> {
    limit: RateLimit,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    pub(crate) fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `key`; `false` when the bucket is empty.
    pub(crate) fn allow(&self, key: K) -> bool {
        self.take_at(key, Instant::now()) == Take::Allowed
    }

    /// Take one token for `key`, saying whether a refusal starts a run of them.
    pub(crate) fn take(&self, key: K) -> Take {
        self.take_at(key, Instant::now())
    }

    #[cfg(test)]
    fn allow_at(&self, key: K, now: Instant) -> bool {
        self.take_at(key, now) == Take::Allowed
    }

    fn take_at(&self, key: K, now: Instant) -> Take {
        let burst = f64::from(self.limit.burst.max(1));
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; do not lock users out for it.
            return Take::Allowed;
        };
        if buckets.len() >= PRUNE_AT {
            let rate = self.limit.per_sec;
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            last: now,
            refusing: false,
        });
        let refill = now.duration_since(bucket.last).as_secs_f64() * self.limit.per_sec;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.refusing = false;
            Take::Allowed
        } else {
            let first = !bucket.refusing;
            bucket.refusing = true;
            Take::Refused { first }
        }
    }
}

/// One request at a time per user: a user's further requests wait their turn, so one
/// account sending from many connections at once gets no more of the server (decoding,
/// the store) than one connection would.
#[derive(Default)]
pub(crate) struct OneAtATime {
    gates: Mutex<HashMap<i64, Weak<tokio::sync::Mutex<()>>>>,
}

impl OneAtATime {
    /// Wait for this user's turn; it lasts as long as the guard.
    pub(crate) async fn turn(&self, user: i64) -> tokio::sync::OwnedMutexGuard<()> {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(PoisonError::into_inner);
            if gates.len() >= PRUNE_AT {
                gates.retain(|_, gate| gate.strong_count() > 0);
            }
            match gates.get(&user).and_then(Weak::upgrade) {
                Some(gate) => gate,
                None => {
                    let gate = Arc::new(tokio::sync::Mutex::new(()));
                    gates.insert(user, Arc::downgrade(&gate));
                    gate
                }
            }
        };
        gate.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill_per_user() {
        let limiter = RateLimiter::new(RateLimit {
            per_sec: 2.0,
            burst: 3,
        });
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.allow_at(1, t0)));
        assert!(!limiter.allow_at(1, t0));
        // Another user has their own bucket.
        assert!(limiter.allow_at(2, t0));
        // Half a second at 2/s gives one token back.
        let t1 = t0 + Duration::from_millis(500);
        assert!(limiter.allow_at(1, t1));
        assert!(!limiter.allow_at(1, t1));
    }

    #[tokio::test]
    async fn one_user_waits_for_their_own_turn_only() {
        let gates = OneAtATime::default();
        let first = gates.turn(1).await;
        // Another user goes at once; the same user waits until the first turn ends.
        drop(gates.turn(2).await);
        let waiting = tokio::time::timeout(Duration::from_millis(50), gates.turn(1)).await;
        assert!(waiting.is_err(), "a second turn while the first is held");
        drop(first);
        drop(gates.turn(1).await);
    }

    #[test]
    fn a_run_of_refusals_is_reported_once() {
        let limiter = RateLimiter::new(RateLimit {
            per_sec: 1.0,
            burst: 1,
        });
        let t0 = Instant::now();
        assert_eq!(limiter.take_at(1, t0), Take::Allowed);
        assert_eq!(limiter.take_at(1, t0), Take::Refused { first: true });
        assert_eq!(limiter.take_at(1, t0), Take::Refused { first: false });
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(limiter.take_at(1, t1), Take::Allowed);
        assert_eq!(limiter.take_at(1, t1), Take::Refused { first: true });
    }
}
