//! Several instances on one PostgreSQL database: 3 real `kazi serve` processes behind a
//! round-robin balancer, 200 simulated devices syncing through it with the real client's
//! protocol. Proves that no task is leased beyond its overlap, no answer is lost or
//! counted twice, leases that expire (moved into the past in the database, as time
//! would) come back exactly once, and a SIGKILL of one instance mid-load loses no
//! acknowledged answer. One greedy account syncing through every instance at once holds
//! no more than the project's lease cap. The project mixes gold in at its `gold_rate`:
//! every device's gold share stays within one task of the rate whichever instances
//! served it, the mix books agree with what the devices got, and no gold task is given
//! twice to one worker.
//!
//! Needs `KAZI_TEST_PG` (`.ci/run` sets it); without it, it says loudly that it skipped.

#[path = "support/balancer.rs"]
mod balancer;
#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/crash_kit.rs"]
mod kit;

use harness::pg;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kazi::client::Remote;
use kazi::model::{AnswerValue, Role};
use kazi::protocol::{AckStatus, AnswerUpload, Lease, LoginRequest};
use kazi::server::store::NewTask;
use kazi::server::{Clock, admin, open_store};

const INSTANCES: usize = 3;
const DEVICES: usize = 200;
/// Devices that take tasks once and never answer them: their leases must expire.
const ABANDONERS: usize = 20;
const TASKS: usize = 3000;
const OVERLAP: usize = 2;
const PER_SYNC: usize = 3;
/// How long a device keeps going at most: the test fails rather than hang.
const DEVICE_PATIENCE: Duration = Duration::from_secs(240);
const START_PATIENCE: Duration = Duration::from_secs(30);
/// The project's lease cap: above what a device at worker pace holds (`PER_SYNC`).
const LEASE_CAP: usize = 10;
/// Syncs the greedy account sends at once, each on its own connection, so the balancer
/// spreads them over every instance.
const GREEDY_SYNCS: usize = 9;
/// Gold tasks, mixed into leases at `GOLD_RATE` (items after the production ones).
const GOLD_TASKS: usize = 200;
const GOLD_RATE: f64 = 0.1;

fn is_gold(lease: &Lease) -> bool {
    kit::item_number(&lease.text) > TASKS as u64
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

fn start_instance(db: &str, addr: SocketAddr) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(["serve", "--db", db, "--listen", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kazi serve");
    let deadline = Instant::now() + START_PATIENCE;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "kazi serve did not come up on {addr}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn kill(child: &mut Child) {
    // SAFETY: kill(2) on the pid of our own child, not yet waited for: not reused.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGKILL);
    }
    let _ = child.wait();
}

/// Where the load is, shared by the devices and the test's conductor.
#[derive(Default)]
struct Progress {
    acked: AtomicUsize,
    abandoned: AtomicUsize,
    /// Set once the abandoned leases have been expired: devices may stop when idle.
    expired: AtomicBool,
}

/// What one device did.
#[derive(Default)]
struct Worked {
    user: String,
    /// Item number -> label of every answer the server acknowledged (Ok or Dup).
    acked: BTreeMap<u64, String>,
    /// Tasks this device ever held.
    leased: BTreeSet<i64>,
    /// Gold tasks among them, with the expiry of the lease that brought each: a lease
    /// sent again (its reply was lost) has the same; a gold task given again would not.
    gold: BTreeMap<i64, i64>,
    gold_given_again: usize,
    dups: usize,
    syncs: usize,
    failed: usize,
}

/// A device at worker pace: answer what it holds, sync (answers up, tasks down), until
/// the pool is empty. An abandoner takes one batch and goes away.
async fn device(
    remote: Remote,
    user: String,
    abandon: bool,
    seed: u64,
    progress: Arc<Progress>,
) -> Worked {
    let mut rng = kit::Rng::new(seed);
    let mut worked = Worked {
        user,
        ..Worked::default()
    };
    let mut held: Vec<Lease> = Vec::new();
    let mut pending: Vec<(AnswerUpload, u64)> = Vec::new();
    let (mut next_id, mut seen, mut idle) = (1u64, 0u64, 0);
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < DEVICE_PATIENCE,
            "{}: still working after {DEVICE_PATIENCE:?}",
            worked.user
        );
        if !abandon {
            for lease in held.drain(..) {
                let (_, label) = kit::LABELS[rng.below(3) as usize];
                let upload = AnswerUpload {
                    id: next_id,
                    task: lease.task,
                    value: AnswerValue::Labels(vec![label.into()]),
                    ago: 0,
                    replaces: None,
                };
                next_id += 1;
                pending.push((upload, kit::item_number(&lease.text)));
            }
        }
        let want = if abandon {
            PER_SYNC
        } else {
            PER_SYNC.saturating_sub(held.len())
        };
        let mut request = harness::want("shop", want as u32);
        request.answers = pending.iter().map(|(a, _)| a.clone()).collect();
        request.seen = Some(seen);
        match remote.sync(&request).await {
            Ok(response) => {
                worked.syncs += 1;
                seen = seen.max(response.reply);
                for ack in &response.acks {
                    let at = pending
                        .iter()
                        .position(|(a, _)| a.id == ack.id)
                        .expect("an ack for an answer sent");
                    let (upload, item) = pending.remove(at);
                    assert!(
                        ack.status.is_stored(),
                        "{}: answer to task {} refused: {:?}",
                        worked.user,
                        upload.task,
                        ack.status
                    );
                    if ack.status == AckStatus::Dup {
                        worked.dups += 1;
                    }
                    let labels = upload.value.labels().expect("a classify answer");
                    worked.acked.insert(item, labels[0].clone());
                    progress.acked.fetch_add(1, Ordering::SeqCst);
                }
                let got = response.leases.len();
                for lease in response.leases {
                    if is_gold(&lease) {
                        let earlier = worked.gold.insert(lease.task, lease.expires);
                        if earlier.is_some_and(|e| e != lease.expires) {
                            worked.gold_given_again += 1;
                        }
                    }
                    // A lease sent again (its reply was lost) is one already held.
                    if worked.leased.insert(lease.task) {
                        held.push(lease);
                    }
                }
                if abandon {
                    assert_eq!(
                        got, PER_SYNC,
                        "{}: an abandoner gets a full batch",
                        worked.user
                    );
                    progress.abandoned.fetch_add(1, Ordering::SeqCst);
                    return worked;
                }
                let nothing = got == 0 && pending.is_empty() && held.is_empty();
                idle = if nothing { idle + 1 } else { 0 };
                if idle >= 3 && progress.expired.load(Ordering::SeqCst) {
                    return worked;
                }
            }
            Err(_) => worked.failed += 1,
        }
        // Under `kazi serve`'s per-user rate limit of 10 syncs a second.
        tokio::time::sleep(Duration::from_millis(rng.between(150, 350))).await;
    }
}

/// Wait until `ready` holds, failing after `patience`.
fn wait_for(what: &str, patience: Duration, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + patience;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn three_instances_on_one_database_keep_every_guarantee() {
    let Some(base) = pg::test_database("the 3-instance fleet test") else {
        return;
    };
    let started = Instant::now();
    let seed = kit::seed("pg_fleet");
    let mut rng = kit::Rng::new(seed);
    let schema = pg::PgSchema::create(&base);
    let db = schema.url.clone();

    // The centre, set up through the library on the same database.
    let store = open_store(&db).expect("store opens");
    let mut project = harness::project(OVERLAP as u32);
    project.lease_cap = LEASE_CAP as u32;
    project.gold_rate = GOLD_RATE;
    admin::add_project(&*store, &project).unwrap();
    let mut tasks = (1..=TASKS).map(|i| {
        Ok(NewTask {
            id: format!("t{i}"),
            text: format!("item {i}"),
            suggestion: None,
            gold: None,
            gold_spec: None,
            prior: Vec::new(),
            clip: None,
        })
    });
    assert_eq!(
        store.import_tasks("shop", &mut tasks).unwrap().added,
        TASKS as u64
    );
    let mut golds = (TASKS + 1..=TASKS + GOLD_TASKS).map(|i| {
        Ok(NewTask {
            id: format!("g{i}"),
            text: format!("item {i}"),
            suggestion: None,
            gold: Some(vec!["food".into()]),
            gold_spec: None,
            prior: Vec::new(),
            clip: None,
        })
    });
    assert_eq!(
        store.import_tasks("shop", &mut golds).unwrap().added,
        GOLD_TASKS as u64
    );
    let users: Vec<(String, String)> = (0..DEVICES)
        .map(|i| {
            let name = format!("w{i:03}");
            let code = admin::add_user(&*store, &name, Role::Worker, &Clock::system()).unwrap();
            (name, code)
        })
        .collect();
    // Sorts before every w0NN: its leases expire with the abandoners'.
    let greedy_code = admin::add_user(&*store, "greedy", Role::Worker, &Clock::system()).unwrap();
    drop(store);

    let addrs: Vec<SocketAddr> = (0..INSTANCES).map(|_| free_addr()).collect();
    let mut instances: Vec<Child> = addrs.iter().map(|a| start_instance(&db, *a)).collect();
    let balancer = balancer::Balancer::start(addrs.clone());
    let url = format!("http://{}", balancer.addr);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let progress = Arc::new(Progress::default());
    // Every device logs in first, so the load starts at once.
    let tokens: Vec<String> = rt.block_on(async {
        let logins: Vec<_> = users
            .iter()
            .enumerate()
            .map(|(i, (user, code))| {
                let request = LoginRequest {
                    user: user.clone(),
                    code: code.clone(),
                    device: format!("device {i}"),
                };
                let anonymous = Remote::new(&url, "").unwrap();
                tokio::spawn(async move { anonymous.login(&request).await })
            })
            .collect();
        let mut tokens = Vec::with_capacity(logins.len());
        for login in logins {
            tokens.push(login.await.expect("login task").expect("login").token);
        }
        tokens
    });
    // The greedy account asks for far more than its cap from every instance at once:
    // the user's row lock serialises its syncs across instances, so the cap holds.
    let greedy_held = rt.block_on(async {
        let request = LoginRequest {
            user: "greedy".into(),
            code: greedy_code,
            device: "greedy".into(),
        };
        let token = Remote::new(&url, "")
            .unwrap()
            .login(&request)
            .await
            .unwrap()
            .token;
        let syncs: Vec<_> = (0..GREEDY_SYNCS)
            .map(|_| {
                let remote = Remote::new(&url, &token).unwrap();
                tokio::spawn(async move { remote.sync(&harness::want("shop", 50)).await })
            })
            .collect();
        let (mut held, mut gold) = (BTreeSet::new(), BTreeSet::new());
        for sync in syncs {
            let response = sync.await.expect("sync task").expect("greedy sync");
            held.extend(response.leases.iter().map(|l| l.task));
            gold.extend(
                response
                    .leases
                    .iter()
                    .filter(|l| is_gold(l))
                    .map(|l| l.task),
            );
        }
        (held.len(), gold.len())
    });
    let (greedy_held, greedy_gold) = greedy_held;
    assert_eq!(greedy_held, LEASE_CAP, "the greedy account holds its cap");
    assert_eq!(
        schema.count(
            "SELECT COUNT(*) FROM leases l JOIN users u ON u.id = l.user_id \
             WHERE u.name = 'greedy' AND l.live"
        ) as usize,
        LEASE_CAP,
        "live leases of the greedy account across all instances"
    );
    let devices: Vec<_> = users
        .iter()
        .zip(tokens)
        .enumerate()
        .map(|(i, ((user, _), token))| {
            let remote = Remote::new(&url, &token).unwrap();
            let abandon = i < ABANDONERS;
            rt.spawn(device(
                remote,
                user.clone(),
                abandon,
                rng.next_u64(),
                progress.clone(),
            ))
        })
        .collect();

    // Time passes for the abandoned leases only: every instance's next sync expires them.
    wait_for("the abandoners", START_PATIENCE, || {
        progress.abandoned.load(Ordering::SeqCst) == ABANDONERS
    });
    let slots = TASKS * OVERLAP;
    wait_for("a fifth of the work", DEVICE_PATIENCE, || {
        progress.acked.load(Ordering::SeqCst) >= slots / 5
    });
    let abandoned = schema.count(&format!(
        "WITH moved AS (UPDATE leases SET expires = 0 WHERE live AND user_id IN \
           (SELECT id FROM users WHERE name < 'w{ABANDONERS:03}') RETURNING 1) \
         SELECT COUNT(*) FROM moved"
    ));
    assert_eq!(
        abandoned as usize,
        ABANDONERS * PER_SYNC + LEASE_CAP,
        "abandoned leases (the greedy account's too) still live"
    );
    progress.expired.store(true, Ordering::SeqCst);
    eprintln!(
        "pg_fleet: {abandoned} abandoned leases expired at {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // One instance dies mid-load; the balancer sends new connections to the others.
    wait_for("half of the work", DEVICE_PATIENCE, || {
        progress.acked.load(Ordering::SeqCst) >= slots / 2
    });
    let acked_at_kill = progress.acked.load(Ordering::SeqCst);
    kill(&mut instances[1]);
    eprintln!(
        "pg_fleet: instance 1 killed at {:.1} s with {acked_at_kill} answers acknowledged",
        started.elapsed().as_secs_f64()
    );

    let worked: Vec<Worked> = devices
        .into_iter()
        .map(|d| rt.block_on(d).expect("device task"))
        .collect();
    for instance in &mut instances {
        kill(instance);
    }

    // Every task has exactly its overlap in answers, each by another worker: the
    // abandoned ones came back, and nothing was over-assigned or counted twice.
    let store = open_store(&db).expect("store opens again");
    let mut stored: HashMap<String, BTreeMap<u64, String>> = HashMap::new();
    store
        .export("shop", &mut |task| {
            let item = kit::item_number(&task.text);
            let live: Vec<_> = task.answers.iter().filter(|a| !a.superseded).collect();
            // A gold task takes no overlap slot: each worker it was given answers it.
            if task.gold.is_none() {
                assert_eq!(live.len(), OVERLAP, "item {item}: {:?}", task.answers);
            }
            for a in live {
                let labels = a.value.labels().expect("a classify answer");
                let mine = stored.entry(a.worker.clone()).or_default();
                assert!(
                    mine.insert(item, labels[0].clone()).is_none(),
                    "{}: item {item} stored twice",
                    a.worker
                );
            }
            Ok(())
        })
        .unwrap();
    drop(store);
    let (mut dups, mut syncs, mut failed) = (0, 0, 0);
    let (mut leased, mut gold) = (greedy_held, greedy_gold);
    for w in &worked {
        let on_server = stored.remove(&w.user).unwrap_or_default();
        assert_eq!(on_server, w.acked, "{}: acknowledged vs stored", w.user);
        dups += w.dups;
        syncs += w.syncs;
        failed += w.failed;
        // The gold rate held for this device whichever instances served it.
        let (l, g) = (w.leased.len(), w.gold.len());
        assert!(
            (g as f64 - GOLD_RATE * l as f64).abs() <= 1.0,
            "{}: {g} gold in {l} leases at a rate of {GOLD_RATE}",
            w.user
        );
        assert_eq!(w.gold_given_again, 0, "{}: a gold task given twice", w.user);
        leased += l;
        gold += g;
    }
    // The mix books of every worker hold the rate too, and say what the devices got.
    assert_eq!(
        schema.count("SELECT COUNT(*) FROM gold_mix WHERE ABS(gold - leased * 0.1) > 1"),
        0,
        "a worker's gold share strayed from the rate"
    );
    assert_eq!(
        schema.count("SELECT COALESCE(SUM(leased), 0)::BIGINT FROM gold_mix") as usize,
        leased
    );
    assert_eq!(
        schema.count("SELECT COALESCE(SUM(gold), 0)::BIGINT FROM gold_mix") as usize,
        gold
    );
    assert!(gold > 0, "no gold was mixed in");
    assert_eq!(
        schema.count(
            "SELECT COUNT(*) FROM (SELECT a.user_id, a.task_id FROM answers a \
             JOIN tasks t ON t.id = a.task_id WHERE t.gold IS NOT NULL \
             GROUP BY a.user_id, a.task_id HAVING COUNT(*) > 1) twice"
        ),
        0,
        "a gold task answered twice by one worker"
    );
    assert!(
        stored.is_empty(),
        "answers of unknown workers: {:?}",
        stored.keys()
    );
    // The books: nothing held, nothing open, every slot answered once.
    assert_eq!(schema.count("SELECT COUNT(*) FROM leases WHERE live"), 0);
    assert_eq!(
        schema.count(&format!(
            "SELECT COUNT(*) FROM tasks WHERE gold IS NULL \
             AND (open_slots != 0 OR counted != {OVERLAP})"
        )),
        0,
        "slot books drifted"
    );
    assert_eq!(
        schema.count(&format!(
            "SELECT COUNT(*) FROM tasks WHERE gold IS NOT NULL \
             AND (open_slots != {OVERLAP} OR counted != 0)"
        )),
        0,
        "gold took an overlap slot or kept one"
    );
    for (i, n) in balancer.forwarded.iter().enumerate() {
        assert!(
            n.load(Ordering::Relaxed) > 0,
            "instance {i} got no connection"
        );
    }
    eprintln!(
        "pg_fleet: {INSTANCES} instances, {DEVICES} devices, {slots} answers ({acked_at_kill} \
         acknowledged when instance 1 was killed, {dups} acknowledged again after a lost \
         reply), {gold} gold in {leased} leases, {syncs} syncs ok, {failed} failed, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
