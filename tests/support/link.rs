//! A hostile link for tests and benchmarks: a TCP proxy on 127.0.0.1 that forwards to one
//! upstream address while capping bandwidth, adding latency, stalling, resetting connections
//! and cutting the line entirely. It runs on its own thread and tokio runtime, so sync and
//! async callers use it alike. Included with `#[path = "support/link.rs"] mod link;`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

/// Largest piece forwarded at once. Faults are drawn per chunk, so this also sets their grain.
const CHUNK: usize = 512;
/// Chunks in flight per direction: the link's "window". Bounds memory when latency is long;
/// 256 x 512 B per one-way latency is far above any capped rate we test with.
const IN_FLIGHT: usize = 256;

/// What the link does to traffic. Read afresh for every chunk, so `set_faults` applies at once.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Cap per direction in bits/s (`Some(20_000)` is 20 kbit/s); `None` is unlimited.
    /// `Some(0)` is treated as 1 bit/s: a link so thin nothing usable crosses it.
    pub bandwidth_bps: Option<u64>,
    /// Added one-way delay per chunk (round trips grow by twice this). Pipelined: it delays
    /// delivery without dividing throughput.
    pub latency: Duration,
    /// Probability per chunk that the direction goes silent for `stall` before sending it.
    pub stall_chance: f64,
    pub stall: Duration,
    /// Probability per chunk that the link kills the connection (RST to both ends) instead
    /// of forwarding it.
    pub reset_chance: f64,
    /// Seeds the per-connection fault dice. Given the same seed, connection order and chunk
    /// boundaries, the same faults happen; chunk boundaries follow the peers' writes.
    pub seed: u64,
}

impl Faults {
    /// A transparent link: no cap, no delay, no faults.
    pub fn clean() -> Faults {
        Faults {
            bandwidth_bps: None,
            latency: Duration::ZERO,
            stall_chance: 0.0,
            stall: Duration::ZERO,
            reset_chance: 0.0,
            seed: 1,
        }
    }

    /// A thin rural link: 20 kbit/s each way, 250 ms one way (500 ms RTT), an occasional
    /// two-second stall and a rare reset.
    pub fn thin() -> Faults {
        Faults {
            bandwidth_bps: Some(20_000),
            latency: Duration::from_millis(250),
            stall_chance: 0.02,
            stall: Duration::from_secs(2),
            reset_chance: 0.005,
            seed: 1,
        }
    }
}

/// Counters and switches shared between the handle and the link's thread.
struct Shared {
    faults: Mutex<Faults>,
    cut: AtomicBool,
    /// Bumped by every `cut()`: connections alive at an earlier epoch are killed.
    cut_epoch: watch::Sender<u64>,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    connections: AtomicU64,
    resets: AtomicU64,
}

impl Shared {
    fn faults(&self) -> MutexGuard<'_, Faults> {
        // A panic elsewhere cannot leave Faults half-written (it is replaced whole).
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running fault-injecting proxy. Dropping it stops the thread and closes every connection.
pub struct HostileLink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HostileLink {
    /// Listens on 127.0.0.1:0 and forwards every accepted connection to `upstream`.
    /// Panics if the port or the runtime cannot be set up: this is test harness, and a
    /// test without its link cannot mean anything.
    pub fn start(upstream: SocketAddr, faults: Faults) -> HostileLink {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("hostile link: cannot bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("hostile link: no local address");
        listener
            .set_nonblocking(true)
            .expect("hostile link: cannot make the listener non-blocking");
        let shared = Arc::new(Shared {
            faults: Mutex::new(faults),
            cut: AtomicBool::new(false),
            cut_epoch: watch::Sender::new(0),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            resets: AtomicU64::new(0),
        });
        let (shutdown, stop) = tokio::sync::oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("hostile link: cannot build its tokio runtime");
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("hostile-link".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener)
                        .expect("hostile link: cannot register the listener");
                    tokio::select! {
                        _ = stop => {}
                        _ = accept_loop(listener, upstream, thread_shared) => {}
                    }
                });
                // Dropping the runtime here drops every connection task and its sockets.
            })
            .expect("hostile link: cannot spawn its thread");
        HostileLink {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Where clients connect instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for clients that take a server URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the faults; chunks read from now on use the new ones.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults() = faults;
    }

    /// Cuts the line: existing connections are reset, new ones are accepted and reset at
    /// once, until `restore()`.
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        self.shared.cut_epoch.send_modify(|epoch| *epoch += 1);
    }

    /// Ends a cut; connections accepted from now on are forwarded again.
    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }

    /// Client-to-server payload bytes delivered to the upstream.
    pub fn bytes_up(&self) -> u64 {
        self.shared.bytes_up.load(Ordering::SeqCst)
    }

    /// Server-to-client payload bytes delivered to the client.
    pub fn bytes_down(&self) -> u64 {
        self.shared.bytes_down.load(Ordering::SeqCst)
    }

    /// TCP connections accepted, including those refused during a cut.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Connections the link killed: by `reset_chance`, by `cut()`, or accepted while cut.
    pub fn resets(&self) -> u64 {
        self.shared.resets.load(Ordering::SeqCst)
    }

    /// Zeroes all four counters (e.g. after login, to measure only what follows).
    pub fn reset_counters(&self) {
        self.shared.bytes_up.store(0, Ordering::SeqCst);
        self.shared.bytes_down.store(0, Ordering::SeqCst);
        self.shared.connections.store(0, Ordering::SeqCst);
        self.shared.resets.store(0, Ordering::SeqCst);
    }
}

impl Drop for HostileLink {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The thread may already be gone (it only ends on this signal or a panic).
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the link thread has already been printed; don't panic in drop.
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) {
    let mut serial: u64 = 0;
    loop {
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            // Out of descriptors or an aborted handshake: wait a moment, keep serving.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        serial += 1;
        tokio::spawn(connection(client, upstream, Arc::clone(&shared), serial));
    }
}

/// Why a connection ended early.
enum Ended {
    /// The link chose to kill it (reset dice or a cut).
    Killed,
    /// A peer went away or a socket failed: passed on as a plain close.
    Broken,
}

async fn connection(mut client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>, serial: u64) {
    // Subscribe before looking at the flag, so a cut between the two still reaches us.
    let mut epoch = shared.cut_epoch.subscribe();
    let born = *epoch.borrow_and_update();
    if shared.cut.load(Ordering::SeqCst) {
        kill(&client, None, &shared);
        return;
    }
    let _ = client.set_nodelay(true);
    let mut server = match TcpStream::connect(upstream).await {
        Ok(server) => server,
        Err(_) => {
            // Upstream down: the client sees a reset, as from a refused connection.
            let _ = client.set_zero_linger();
            return;
        }
    };
    let _ = server.set_nodelay(true);
    let seed = shared.faults().seed;
    let ended = {
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let (up_tx, up_rx) = mpsc::channel(IN_FLIGHT);
        let (down_tx, down_rx) = mpsc::channel(IN_FLIGHT);
        let mut up_dice = Dice::new(seed, serial, 0);
        let mut down_dice = Dice::new(seed, serial, 1);
        let pipes = async {
            tokio::try_join!(
                read_side(client_read, up_tx, &shared, &mut up_dice),
                write_side(up_rx, server_write, &shared.bytes_up),
                read_side(server_read, down_tx, &shared, &mut down_dice),
                write_side(down_rx, client_write, &shared.bytes_down),
            )
        };
        tokio::select! {
            outcome = pipes => outcome.err(),
            _ = epoch.wait_for(|now| *now != born) => Some(Ended::Killed),
        }
    };
    if let Some(Ended::Killed) = ended {
        kill(&client, Some(&server), &shared);
    }
    // Both sockets close here; after a kill they send RST instead of FIN.
}

/// Marks sockets to reset on close (SO_LINGER 0) and counts the kill.
fn kill(client: &TcpStream, server: Option<&TcpStream>, shared: &Shared) {
    let _ = client.set_zero_linger();
    if let Some(server) = server {
        let _ = server.set_zero_linger();
    }
    shared.resets.fetch_add(1, Ordering::SeqCst);
}

/// A chunk on its way through the link, due at the far end at `arrival`.
struct InFlight {
    arrival: Instant,
    bytes: Vec<u8>,
}

/// Reads chunks from one peer, rolls the dice, paces them to the bandwidth and hands them
/// to the writer stamped with their arrival time. Ends at EOF (dropping the sender, which
/// makes the writer pass the EOF on once the last chunk is out).
async fn read_side<R: AsyncRead + Unpin>(
    mut from: R,
    to: mpsc::Sender<InFlight>,
    shared: &Shared,
    dice: &mut Dice,
) -> Result<(), Ended> {
    let mut buf = [0u8; CHUNK];
    // When the previous chunk finished "transmitting" at the capped rate.
    let mut line_free = Instant::now();
    loop {
        let n = from.read(&mut buf).await.map_err(|_| Ended::Broken)?;
        if n == 0 {
            return Ok(());
        }
        let faults = shared.faults().clone();
        if dice.roll(faults.reset_chance) {
            return Err(Ended::Killed);
        }
        if dice.roll(faults.stall_chance) {
            tokio::time::sleep(faults.stall).await;
        }
        let sent = line_free.max(Instant::now()) + transmit_time(n, faults.bandwidth_bps);
        let chunk = InFlight {
            arrival: sent + faults.latency,
            bytes: buf[..n].to_vec(),
        };
        if to.send(chunk).await.is_err() {
            return Err(Ended::Broken);
        }
        // Don't read on until the line is free: the cap pushes back on the sender as a
        // real thin link would, instead of buffering without bound here.
        wait_until(sent).await;
        line_free = sent;
    }
}

/// Delivers chunks to the other peer when they are due, counting delivered bytes; passes
/// the EOF on (shutdown) after the last one.
async fn write_side<W: AsyncWrite + Unpin>(
    mut from: mpsc::Receiver<InFlight>,
    mut to: W,
    delivered: &AtomicU64,
) -> Result<(), Ended> {
    while let Some(chunk) = from.recv().await {
        wait_until(chunk.arrival).await;
        to.write_all(&chunk.bytes)
            .await
            .map_err(|_| Ended::Broken)?;
        delivered.fetch_add(chunk.bytes.len() as u64, Ordering::SeqCst);
    }
    to.shutdown().await.map_err(|_| Ended::Broken)
}

/// Sleeps until `deadline`, without a trip through the timer when it has already passed
/// (the common case on a clean link).
async fn wait_until(deadline: Instant) {
    if deadline > Instant::now() {
        sleep_until(deadline).await;
    }
}

/// Time to send `bytes` at `bps` bits per second; zero when uncapped.
fn transmit_time(bytes: usize, bps: Option<u64>) -> Duration {
    match bps {
        None => Duration::ZERO,
        Some(bps) => {
            let nanos = bytes as u128 * 8 * 1_000_000_000 / u128::from(bps.max(1));
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
        }
    }
}

/// Seeded xorshift64* dice, one per connection direction, so a run is reproducible from
/// `Faults::seed` and no two directions share a sequence.
struct Dice(u64);

impl Dice {
    fn new(seed: u64, serial: u64, direction: u64) -> Dice {
        // splitmix64 over the inputs: spreads nearby seeds apart and never yields zero state
        // in practice; `| 1` makes sure of it.
        let mut z = seed ^ serial.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (direction << 63);
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Dice((z ^ (z >> 31)) | 1)
    }

    /// True with probability `chance` (clamped to 0..=1); consumes no randomness at 0.
    fn roll(&mut self, chance: f64) -> bool {
        if chance <= 0.0 {
            return false;
        }
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let draw = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (draw as f64 / (1u64 << 53) as f64) < chance
    }
}
