//! A server you can watch: `/metrics` in Prometheus' text format counts syncs, answers,
//! leases, logins, errors by kind and sync latency on a real server over HTTP; and the
//! real `kazi serve` logs logins, refusals and errors as one `key=value` line each on
//! standard error, at the levels `RUST_LOG` names.

#[path = "support/binary.rs"]
mod binary;
#[path = "support/server_harness.rs"]
mod harness;

use std::io::Read;
use std::process::{Command, Stdio};

use harness::{answer, answers, project, start};
use kazi::model::Role;
use kazi::server::admin;

/// The value of the metric line `name` (with its labels) in a Prometheus text body.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_the_server_did() {
    let s = start().await;
    s.add_project(&project(1));
    s.import_numbered("shop", 5);
    let token = s.enrol("amina", Role::Worker).await;
    let got = s.want(&token, "shop", 3).await;
    assert_eq!(got.leases.len(), 3);
    let sent = answers(vec![
        answer(1, got.leases[0].task, "food"),
        answer(2, got.leases[1].task, "toys"),
    ]);
    let acks = s.sync(&token, &sent).await.acks;
    assert!(acks.iter().all(|a| a.status.is_stored()), "{acks:?}");
    assert_eq!(s.sync_raw("not-a-token", &sent).await.status, 401);
    s.blocking(|| admin::add_user(&*s.store, "baraka", Role::Worker, &s.clock))
        .unwrap();
    assert_eq!(s.login("baraka", "AAAA-BBBB-CCCC-DDDD").await.status, 401);
    assert_eq!(s.get("/nowhere").await.status, 404);

    let reply = s.get("/metrics").await;
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body).unwrap();
    assert_eq!(metric(&text, "kazi_syncs_total"), 2.0);
    assert_eq!(metric(&text, "kazi_answers_total"), 2.0);
    assert_eq!(metric(&text, "kazi_leases_total"), 3.0);
    assert_eq!(metric(&text, "kazi_logins_total"), 1.0);
    assert_eq!(
        metric(&text, "kazi_errors_total{kind=\"unauthorized\"}"),
        2.0
    );
    assert_eq!(metric(&text, "kazi_errors_total{kind=\"not_found\"}"), 1.0);
    assert_eq!(metric(&text, "kazi_errors_total{kind=\"internal\"}"), 0.0);
    // Every sync request is timed, the refused one too; buckets are cumulative.
    assert_eq!(metric(&text, "kazi_sync_duration_seconds_count"), 3.0);
    assert_eq!(
        metric(&text, "kazi_sync_duration_seconds_bucket{le=\"+Inf\"}"),
        3.0
    );
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("kazi_sync_duration_seconds_bucket"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert!(metric(&text, "kazi_sync_duration_seconds_sum") > 0.0);
    for family in [
        "kazi_syncs_total",
        "kazi_errors_total",
        "kazi_sync_duration_seconds",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family}: {text}"
        );
    }
}

#[test]
fn kazi_serve_logs_logins_refusals_and_errors_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let kazi = env!("CARGO_BIN_EXE_kazi");
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    let home = dir.path().join("home");
    let run = |args: &[&str]| {
        Command::new(kazi)
            .args(args)
            .env("KAZI_HOME", &home)
            .output()
            .unwrap()
    };
    assert!(run(&["admin", "--db", &db, "init"]).status.success());
    let added = run(&[
        "admin", "--db", &db, "user", "add", "amina", "--role", "worker",
    ]);
    let code = binary::enrolment_code(&String::from_utf8_lossy(&added.stdout));

    let mut server = binary::serve(&db, &[("RUST_LOG", "info")], Stdio::piped());
    let url = server.url.clone();
    let wrong = run(&[
        "login",
        "--server",
        &url,
        "--user",
        "amina",
        "--code",
        "AAAA-BBBB-CCCC-DDDD",
    ]);
    assert!(!wrong.status.success());
    let ok = run(&[
        "login", "--server", &url, "--user", "amina", "--code", &code,
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut log = String::new();
    let mut stderr = server.child.stderr.take().unwrap();
    stderr.read_to_string(&mut log).unwrap();

    let lines: Vec<&str> = log.lines().collect();
    let has = |all: &[&str]| lines.iter().any(|l| all.iter().all(|w| l.contains(w)));
    assert!(has(&["INFO", "serving", "addr="]), "{log}");
    assert!(has(&["WARN", "login refused", "user=amina"]), "{log}");
    assert!(
        has(&["WARN", "refused", "status=401", "kind=unauthorized"]),
        "{log}"
    );
    assert!(
        has(&["INFO", "login", "user=amina", "role=worker"]),
        "{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a log file: {log:?}"
    );
    assert!(!log.contains(&code), "the enrolment code is never logged");
}
