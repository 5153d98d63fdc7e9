//! Crash loops for the queue server: a real `kazi serve` process on a SQLite file, several
//! worker devices syncing answers at once, and SIGKILL for the server at random moments,
//! restarted on the same database and port each time. Proves that no answer the server
//! acknowledged is lost, and that none is stored twice when the clients send again.
//!
//! `KAZI_CRASH_LOOPS=300` for more kills; `KAZI_CRASH_SEED=N` repeats a run.

#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/crash_kit.rs"]
mod kit;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kazi::client::{self, LocalStore, PlanConfig, Profile, Remote, plan};
use kazi::model::AnswerValue;
use kazi::protocol::AckStatus;

const WORKERS: usize = 4;
/// How long a restarted server may take to listen again.
const START_PATIENCE: Duration = Duration::from_secs(30);

/// What one worker device did.
#[derive(Default)]
struct Worked {
    user: String,
    /// Item number -> label of every answer saved on the device.
    saved: BTreeMap<u64, String>,
    /// Item number -> label of every answer the server acknowledged (Ok or Dup).
    acked: BTreeMap<u64, String>,
    syncs_failed: usize,
    /// Answers acknowledged as already stored: sent again after a reply the kill lost.
    dups: usize,
}

/// A worker device: answer a few cached tasks, sync (answers up, tasks down), repeat,
/// riding out the server's deaths; once `stop` is set, send what is left and return.
fn device(profile: Profile, seed: u64, stop: Arc<AtomicBool>, synced: Arc<AtomicUsize>) -> Worked {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let remote = Remote::new(&profile.server, &profile.token).expect("remote");
    let mut store = LocalStore::open(&profile.db_path()).expect("client store");
    let mut rng = kit::Rng::new(seed);
    let config = PlanConfig {
        prefetch: 10,
        batch: 10,
    };
    let mut worked = Worked {
        user: profile.user.clone(),
        ..Worked::default()
    };
    let mut item_of: BTreeMap<i64, u64> = BTreeMap::new();
    let mut drain_deadline = None;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if stopping {
            let deadline = *drain_deadline.get_or_insert(Instant::now() + START_PATIENCE);
            let unsent = store.counts(None).expect("counts").unsent;
            if unsent == 0 {
                return worked;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {unsent} answers still unsent with the server up",
                worked.user
            );
        } else {
            let (tasks, _) = store
                .queued_tasks("shop", 0, rng.between(1, 4) as usize)
                .expect("queued tasks");
            for task in tasks {
                let (_, label) = kit::LABELS[rng.below(3) as usize];
                store
                    .record_answer(&task, &AnswerValue::Labels(vec![label.into()]))
                    .expect("answer saved");
                let n = kit::item_number(&task.text);
                item_of.insert(task.id, n);
                worked.saved.insert(n, label.to_string());
            }
        }
        // One sync, by hand rather than sync_once, to see each acknowledgement.
        let state = store
            .local_state((!stopping).then_some("shop"))
            .expect("local state");
        if let Some(request) = plan(&state, config) {
            match rt.block_on(remote.sync(&request)) {
                Ok(response) => {
                    store.apply(&request, &response).expect("reply applied");
                    for lease in &response.leases {
                        item_of.insert(lease.task, kit::item_number(&lease.text));
                    }
                    for ack in &response.acks {
                        let answer = request
                            .answers
                            .iter()
                            .find(|a| a.id == ack.id)
                            .expect("ack for an answer sent");
                        assert!(
                            ack.status.is_stored(),
                            "{}: answer to task {} refused: {:?}",
                            worked.user,
                            answer.task,
                            ack.status
                        );
                        if ack.status == AckStatus::Dup {
                            worked.dups += 1;
                        }
                        let AnswerValue::Labels(labels) = &answer.value else {
                            panic!("a classify answer holds labels");
                        };
                        let n = item_of[&answer.task];
                        worked.acked.insert(n, labels[0].clone());
                    }
                    synced.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => worked.syncs_failed += 1,
            }
        }
        // ~8 syncs a second per device: under `kazi serve`'s per-user rate limit.
        std::thread::sleep(Duration::from_millis(rng.between(80, 160)));
    }
}

#[test]
fn acknowledged_answers_survive_server_sigkill() {
    let started = Instant::now();
    let seed = kit::seed("crash_server");
    let loops = kit::loops("crash_server", 15);
    let mut rng = kit::Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.db");
    let db = format!("sqlite:{}", db_path.display());
    kazi::server::open_store(&db).expect("a fresh database");
    let project_file = dir.path().join("shop.toml");
    std::fs::write(&project_file, harness::PROJECT_TOML).unwrap();
    kit::kazi(
        &["admin", "--db", &db, "project", "add", path(&project_file)],
        None,
    );
    let tasks = kit::write_tasks(dir.path(), loops * 100 + 500);
    kit::kazi(
        &[
            "admin",
            "--db",
            &db,
            "tasks",
            "import",
            "shop",
            path(&tasks),
        ],
        None,
    );
    let codes: Vec<(String, String)> = (0..WORKERS)
        .map(|i| {
            let name = format!("worker{i}");
            let out = kit::kazi(
                &[
                    "admin", "--db", &db, "user", "add", &name, "--role", "worker",
                ],
                None,
            );
            (name, kit::enrolment_code(&out))
        })
        .collect();

    // A free port, kept for every restart so the devices need not be re-pointed.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let base = format!("http://{addr}");
    let mut server = kit::start_server(&db, addr);

    let home = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let synced = Arc::new(AtomicUsize::new(0));
    let devices: Vec<_> = codes
        .iter()
        .map(|(name, code)| {
            let profile = client::login(home.path(), name, &base, name, code).expect("login");
            let (stop, synced, seed) = (stop.clone(), synced.clone(), rng.next_u64());
            std::thread::spawn(move || device(profile, seed, stop, synced))
        })
        .collect();

    for _ in 0..loops {
        std::thread::sleep(Duration::from_millis(rng.between(100, 700)));
        kit::sigkill(&mut server);
        // Sometimes the server stays down a while; the devices back off and go on.
        std::thread::sleep(Duration::from_millis(rng.between(0, 300)));
        server = kit::start_server(&db, addr);
    }
    // Let the devices send what is left with the server up, then stop it the hard way.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let worked: Vec<Worked> = devices
        .into_iter()
        .map(|d| d.join().expect("device thread"))
        .collect();
    kit::sigkill(&mut server);

    let export = kit::kazi(
        &[
            "export",
            "--db",
            &db,
            "shop",
            "--format",
            "jsonl",
            "--with-names",
        ],
        None,
    );
    let export = kit::parse_export(&export);
    let (mut acked, mut saved, mut failed, mut dups) = (0, 0, 0, 0);
    for w in &worked {
        // Each worker's answers on the server, by item: never two for one task.
        let mut stored: BTreeMap<u64, &str> = BTreeMap::new();
        for (n, answers) in &export {
            for a in answers.iter().filter(|a| a.worker == w.user) {
                assert!(
                    stored.insert(*n, &a.value).is_none(),
                    "{}: item {n} stored twice: {answers:?}",
                    w.user
                );
            }
        }
        for (n, label) in &w.acked {
            assert_eq!(
                stored.get(n),
                Some(&label.as_str()),
                "{}: acknowledged answer to item {n} lost",
                w.user
            );
        }
        // Everything saved on the device got there in the end, once.
        let saved_here: BTreeMap<u64, &str> =
            w.saved.iter().map(|(n, l)| (*n, l.as_str())).collect();
        assert_eq!(stored, saved_here, "{}: server vs device", w.user);
        acked += w.acked.len();
        saved += w.saved.len();
        failed += w.syncs_failed;
        dups += w.dups;
    }
    assert!(acked > 0, "no answer was acknowledged at all");
    eprintln!(
        "crash_server: {loops} kills, {WORKERS} devices, {saved} answers saved, {acked} \
         acknowledged ({dups} of them again after a lost reply), {} syncs ok, {failed} \
         failed, {:.1} s",
        synced.load(Ordering::SeqCst),
        started.elapsed().as_secs_f64()
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}
