//! Clocks years off: old machines' clocks are often wrong, so the protocol never carries
//! a client's time, only `ago` (seconds since the answer, by the client's own clock).
//! Proves (a) a server whose clock is far from the system's leases, expires and counts
//! by its own time, and (b) a client whose clock jumped (answers dated in the future or
//! decades ago) still has its answers accepted and dated inside the lease's window.

#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/crash_kit.rs"]
mod kit;

use std::path::Path;

use kazi::client::{LocalStore, PlanConfig, Remote, SyncOutcome, sync_once};
use kazi::model::{AnswerValue, Role, format_utc};
use kazi::server::admin::ExportFormat;

const YEAR: i64 = 365 * 86_400;
const LEASE_SECS: i64 = 3600;

fn label(l: &str) -> AnswerValue {
    AnswerValue::Labels(vec![l.into()])
}

/// Lease expiry of each cached task, read from the client's database.
fn cached_expiry(db: &Path) -> Vec<(i64, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, expires FROM tasks ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

async fn sync(remote: &Remote, store: &mut LocalStore, want: usize) -> kazi::client::Applied {
    let config = PlanConfig {
        prefetch: want,
        batch: 0,
    };
    match sync_once(remote, store, Some("shop"), config)
        .await
        .unwrap()
    {
        SyncOutcome::Synced { applied, .. } => applied,
        SyncOutcome::Idle => panic!("nothing to sync"),
    }
}

/// Move `server`'s clock to noon UTC of the day `years` from now (negative: back), so
/// the test cannot straddle midnight. Returns the new server time.
fn set_server_clock(server: &harness::TestServer, years: i64) -> i64 {
    let now = server.clock.now();
    let target = (now + years * YEAR).div_euclid(86_400) * 86_400 + 43_200;
    server.clock.advance(target - now);
    server.clock.now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_clock_years_off_leases_and_counts_by_its_own_time() {
    for years in [12, -15] {
        let server = harness::start().await;
        let start = set_server_clock(&server, years);
        server.add_project(&harness::project(1));
        server.import_numbered("shop", 5);
        // Enrolment codes expire by the server clock too: this login works only if so.
        let asha = server.enrol("asha", Role::Worker).await;
        let remote = Remote::new(&server.base, &asha).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("client.db");
        let mut store = LocalStore::open(&db).unwrap();

        // Leases end an hour after the server's now, whatever the client's clock says.
        let applied = sync(&remote, &mut store, 2).await;
        assert_eq!(applied.new_tasks, 2, "years {years}");
        let leased_at = store.counts(None).unwrap().last_sync.unwrap();
        assert!(
            (start..start + 60).contains(&leased_at),
            "years {years}: the client keeps the server's time"
        );
        let cached = cached_expiry(&db);
        assert!(
            cached.iter().all(|&(_, e)| e == leased_at + LEASE_SECS),
            "years {years}: {cached:?}"
        );

        // An answer counts for the server's day.
        let (tasks, _) = store.queued_tasks("shop", 0, 2).unwrap();
        store.record_answer(&tasks[0], &label("food")).unwrap();
        let applied = sync(&remote, &mut store, 1).await;
        assert_eq!(applied.stored, 1);
        assert_eq!(store.counts(None).unwrap().done_today, 1, "years {years}");

        // An hour later by the server clock the other lease has expired: another worker
        // gets that task. The first worker's late answer is still accepted and credited.
        server.clock.advance(LEASE_SECS + 1);
        let bora = server.enrol("bora", Role::Worker).await;
        let got = server.want(&bora, "shop", 10).await;
        assert!(
            got.leases.iter().any(|l| l.task == tasks[1].id),
            "years {years}: expired lease not back in the pool: {:?}",
            got.leases
        );
        store.record_answer(&tasks[1], &label("toys")).unwrap();
        let answered_at = server.clock.now();
        let applied = sync(&remote, &mut store, 0).await;
        assert_eq!((applied.stored, applied.refused.len()), (1, 0));
        assert_eq!(store.counts(None).unwrap().done_today, 2, "years {years}");

        // The export dates both answers in server time, inside their lease windows.
        let export = kit::parse_export(&server.export("shop", ExportFormat::Jsonl));
        let first = &export[&kit::item_number(&tasks[0].text)][0];
        assert!(
            first.time >= format_utc(leased_at) && first.time <= format_utc(leased_at + 60),
            "years {years}: {first:?}"
        );
        let late = &export[&kit::item_number(&tasks[1].text)][0];
        assert!(
            late.time >= format_utc(leased_at) && late.time <= format_utc(answered_at + 60),
            "years {years}: {late:?}"
        );
        eprintln!(
            "clock: server {years:+} years ({}) leased, expired and counted by its own time",
            format_utc(start)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_clock_jumps_still_date_answers_inside_the_lease() {
    let server = harness::start().await;
    server.add_project(&harness::project(1));
    server.import_numbered("shop", 3);
    let token = server.enrol("chausiku", Role::Worker).await;
    let remote = Remote::new(&server.base, &token).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("client.db");
    let mut store = LocalStore::open(&db).unwrap();

    sync(&remote, &mut store, 3).await;
    let granted = store.counts(None).unwrap().last_sync.unwrap();
    let (tasks, _) = store.queued_tasks("shop", 0, 3).unwrap();
    let values = ["food", "toys", "tools"];
    for (task, v) in tasks.iter().zip(values) {
        store.record_answer(task, &label(v)).unwrap();
    }
    // The machine's clock jumped while these waited: one answer looks 10 years in the
    // future (clock set back since), one 56 years old (clock was at 1970), one normal.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let local_now: i64 = conn
        .query_row("SELECT unixepoch()", [], |r| r.get(0))
        .unwrap();
    for (task, at) in [(tasks[0].id, local_now + 10 * YEAR), (tasks[1].id, 0)] {
        let n = conn
            .execute(
                "UPDATE outbox SET answered_at = ?1 WHERE task = ?2",
                [at, task],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    drop(conn);

    // Some server time passes before the link lets them out.
    server.clock.advance(600);
    let applied = sync(&remote, &mut store, 0).await;
    assert_eq!((applied.stored, applied.refused.len()), (3, 0));
    let sent_at = store.counts(None).unwrap().last_sync.unwrap();
    assert!(sent_at >= granted + 600);

    let export = kit::parse_export(&server.export("shop", ExportFormat::Jsonl));
    let time_of = |i: usize| export[&kit::item_number(&tasks[i].text)][0].time.clone();
    // From the future: dated when it reached the server, never after.
    assert_eq!(time_of(0), format_utc(sent_at));
    // From 1970: no earlier than the lease was granted.
    assert_eq!(time_of(1), format_utc(granted));
    // The honest one: its real age, inside the window.
    let honest = time_of(2);
    assert!(
        honest >= format_utc(granted) && honest <= format_utc(sent_at),
        "{honest}"
    );
    for (i, v) in values.iter().enumerate() {
        assert_eq!(&export[&kit::item_number(&tasks[i].text)][0].value, v);
    }
    assert_eq!(store.counts(None).unwrap().done_today, 3);
}
