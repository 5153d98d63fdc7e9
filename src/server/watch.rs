//! What an operator watches on one `kazi serve` instance: counters and a latency
//! histogram kept in memory, served as Prometheus text at `/metrics`, and a log line per
//! minute of syncs. Per instance by design: several instances each expose their own and
//! the monitoring sums them; nothing here is shared or needed by another instance.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;

/// Upper bounds of the sync latency buckets, in seconds (a sync on SQLite takes a few
/// milliseconds; seconds mean a queue or a slow disk).
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Why a request was refused or failed, as the `kind` label of `kazi_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    TooLarge,
    Timeout,
    RateLimited,
    Version,
    Busy,
    Internal,
}

impl ErrorKind {
    const ALL: [ErrorKind; 10] = [
        ErrorKind::BadRequest,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::TooLarge,
        ErrorKind::Timeout,
        ErrorKind::RateLimited,
        ErrorKind::Version,
        ErrorKind::Busy,
        ErrorKind::Internal,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Version => "version",
            ErrorKind::Busy => "busy",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind an error response's status stands for.
    pub(crate) fn of(status: StatusCode) -> ErrorKind {
        match status {
            StatusCode::UNAUTHORIZED => ErrorKind::Unauthorized,
            StatusCode::FORBIDDEN => ErrorKind::Forbidden,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => ErrorKind::NotFound,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::TooLarge,
            StatusCode::REQUEST_TIMEOUT => ErrorKind::Timeout,
            StatusCode::TOO_MANY_REQUESTS => ErrorKind::RateLimited,
            StatusCode::UPGRADE_REQUIRED => ErrorKind::Version,
            StatusCode::SERVICE_UNAVAILABLE => ErrorKind::Busy,
            s if s.is_server_error() => ErrorKind::Internal,
            _ => ErrorKind::BadRequest,
        }
    }
}

/// Counts since the instance started, and the current minute's for the log line.
#[derive(Debug, Default)]
pub struct Watch {
    syncs: AtomicU64,
    answers: AtomicU64,
    leases: AtomicU64,
    logins: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
    minute: Minute,
}

/// This minute's syncs, taken (and zeroed) by the summary line.
#[derive(Debug, Default)]
struct Minute {
    syncs: AtomicU64,
    answers: AtomicU64,
    leases: AtomicU64,
    errors: AtomicU64,
    slowest_micros: AtomicU64,
}

/// One minute of syncs as the log line gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteSummary {
    pub syncs: u64,
    pub answers: u64,
    pub leases: u64,
    pub errors: u64,
    pub slowest_ms: u64,
}

impl Watch {
    /// A sync served: how many answers it carried and how many leases it granted.
    pub(crate) fn synced(&self, answers: usize, leases: usize) {
        for (total, minute, n) in [
            (&self.syncs, &self.minute.syncs, 1),
            (&self.answers, &self.minute.answers, answers as u64),
            (&self.leases, &self.minute.leases, leases as u64),
        ] {
            total.fetch_add(n, Ordering::Relaxed);
            minute.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// A sync request's time from arrival to reply, whatever its outcome.
    pub(crate) fn sync_took(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&le| secs <= le) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        let micros = took.as_micros().min(u128::from(u64::MAX)) as u64;
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_micros.fetch_add(micros, Ordering::Relaxed);
        self.minute
            .slowest_micros
            .fetch_max(micros, Ordering::Relaxed);
    }

    pub(crate) fn logged_in(&self) {
        self.logins.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn failed(&self, kind: ErrorKind) {
        let i = ErrorKind::ALL.iter().position(|&k| k == kind).unwrap_or(0);
        self.errors[i].fetch_add(1, Ordering::Relaxed);
        self.minute.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The minute so far, and a fresh one begins.
    pub fn take_minute(&self) -> MinuteSummary {
        let take = |a: &AtomicU64| a.swap(0, Ordering::Relaxed);
        MinuteSummary {
            syncs: take(&self.minute.syncs),
            answers: take(&self.minute.answers),
            leases: take(&self.minute.leases),
            errors: take(&self.minute.errors),
            slowest_ms: take(&self.minute.slowest_micros).div_ceil(1000),
        }
    }

    /// Everything in Prometheus' text format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        for (name, help, value) in [
            ("kazi_syncs_total", "Syncs served.", get(&self.syncs)),
            (
                "kazi_answers_total",
                "Answers received in served syncs.",
                get(&self.answers),
            ),
            (
                "kazi_leases_total",
                "Leases sent in served syncs (tasks sent again included).",
                get(&self.leases),
            ),
            ("kazi_logins_total", "Devices logged in.", get(&self.logins)),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP kazi_errors_total Requests refused or failed, by kind.\n\
             # TYPE kazi_errors_total counter"
        );
        for (kind, count) in ErrorKind::ALL.iter().zip(&self.errors) {
            let _ = writeln!(
                out,
                "kazi_errors_total{{kind=\"{}\"}} {}",
                kind.name(),
                get(count)
            );
        }
        let name = "kazi_sync_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from a sync's arrival to its reply.\n# TYPE {name} histogram"
        );
        let mut cumulative = 0;
        for (le, count) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += get(count);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = get(&self.latency_count);
        let sum = get(&self.latency_micros) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
        out
    }
}

/// Log one line per minute in which syncs or errors happened (an idle minute logs
/// nothing), until the server stops.
pub async fn log_minutes(watch: std::sync::Arc<Watch>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        let m = watch.take_minute();
        if m.syncs > 0 || m.errors > 0 {
            tracing::info!(
                syncs = m.syncs,
                answers = m.answers,
                leases = m.leases,
                errors = m.errors,
                slowest_ms = m.slowest_ms,
                "syncs in the last minute"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_the_histogram_are_prometheus_text() {
        let w = Watch::default();
        w.synced(10, 4);
        w.synced(0, 2);
        w.sync_took(Duration::from_micros(700));
        w.sync_took(Duration::from_millis(30));
        w.sync_took(Duration::from_secs(60));
        w.failed(ErrorKind::of(StatusCode::UNAUTHORIZED));
        let text = w.prometheus();
        for line in [
            "kazi_syncs_total 2",
            "kazi_answers_total 10",
            "kazi_leases_total 6",
            "kazi_errors_total{kind=\"unauthorized\"} 1",
            "kazi_errors_total{kind=\"internal\"} 0",
            "kazi_sync_duration_seconds_bucket{le=\"0.001\"} 1",
            "kazi_sync_duration_seconds_bucket{le=\"0.025\"} 1",
            "kazi_sync_duration_seconds_bucket{le=\"0.05\"} 2",
            "kazi_sync_duration_seconds_bucket{le=\"10\"} 2",
            "kazi_sync_duration_seconds_bucket{le=\"+Inf\"} 3",
            "kazi_sync_duration_seconds_count 3",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        let m = w.take_minute();
        assert_eq!((m.syncs, m.answers, m.leases, m.errors), (2, 10, 6, 1));
        assert_eq!(m.slowest_ms, 60_000);
        assert_eq!(w.take_minute().syncs, 0, "a new minute starts from nothing");
        assert!(w.prometheus().contains("kazi_syncs_total 2"), "totals stay");
    }
}
