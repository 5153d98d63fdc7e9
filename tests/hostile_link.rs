//! The hostile link itself, against a plain echo server on a real port: it forwards bytes
//! intact and counts them, honours its bandwidth cap and latency, cuts and restores, and
//! resets connections when told to. Plain std sockets: the link serves sync callers too.
//! Times are only asserted from below, where the link's own sleeps guarantee them.

#[path = "support/link.rs"]
mod link;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use link::{Faults, HostileLink};

/// Appended by the echo server after the client's EOF, so the two directions differ.
const TRAILER: &[u8] = b"END\n";

/// Guards against a hang only; never reached when the link works.
const HANG_GUARD: Duration = Duration::from_secs(20);

/// An echo server on 127.0.0.1:0: echoes as it reads, then sends TRAILER and closes.
/// Its threads end with the test process.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                        Err(_) => return,
                    }
                }
                let _ = stream.write_all(TRAILER);
                let _ = stream.shutdown(Shutdown::Write);
            });
        }
    });
    addr
}

fn connect(link: &HostileLink) -> TcpStream {
    let stream = TcpStream::connect(link.addr()).unwrap();
    stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
    stream.set_write_timeout(Some(HANG_GUARD)).unwrap();
    stream
}

/// Bytes that make a misplaced or dropped chunk visible.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Sends `payload`, half-closes, and returns everything the far side sent back.
/// Writes from a second thread so a capped link can't deadlock on full buffers.
fn round_trip(link: &HostileLink, payload: &[u8]) -> Vec<u8> {
    let mut stream = connect(link);
    let mut writer = stream.try_clone().unwrap();
    let payload = payload.to_vec();
    let sending = std::thread::spawn(move || {
        writer.write_all(&payload).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut received = Vec::new();
    stream.read_to_end(&mut received).unwrap();
    sending.join().unwrap();
    received
}

/// Sends one message and reads its echo, leaving the connection open.
fn ping(stream: &mut TcpStream, message: &[u8]) {
    stream.write_all(message).unwrap();
    let mut echo = vec![0u8; message.len()];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(echo, message);
}

/// True when the link has killed the connection: the next read sees a reset or an EOF,
/// never data and never a hang.
fn is_dead(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
        ),
    }
}

#[test]
fn forwards_bytes_intact_and_counts_each_direction() {
    let link = HostileLink::start(echo_server(), Faults::clean());
    let payload = pattern(300_000);

    let received = round_trip(&link, &payload);

    let mut expected = payload.clone();
    expected.extend_from_slice(TRAILER);
    assert!(received == expected, "echo came back altered");
    // The echo's EOF is only sent after every counted write, so the counts are final.
    assert_eq!(link.bytes_up(), payload.len() as u64);
    assert_eq!(link.bytes_down(), (payload.len() + TRAILER.len()) as u64);
    assert_eq!(link.connections(), 1);
    assert_eq!(link.resets(), 0);
}

#[test]
fn forwards_intact_through_latency_stalls_and_a_cap() {
    let faults = Faults {
        bandwidth_bps: Some(2_000_000),
        latency: Duration::from_millis(30),
        stall_chance: 0.2,
        stall: Duration::from_millis(20),
        reset_chance: 0.0,
        seed: 7,
    };
    let link = HostileLink::start(echo_server(), faults);
    let payload = pattern(20_000);

    let received = round_trip(&link, &payload);

    assert_eq!(&received[..payload.len()], &payload[..]);
    assert_eq!(&received[payload.len()..], TRAILER);
    assert_eq!(link.bytes_up(), payload.len() as u64);
}

#[test]
fn bandwidth_cap_slows_transfer_to_the_rate() {
    let faults = Faults {
        bandwidth_bps: Some(80_000),
        ..Faults::clean()
    };
    let link = HostileLink::start(echo_server(), faults);
    let payload = pattern(10_240);

    let started = Instant::now();
    let received = round_trip(&link, &payload);
    let took = started.elapsed();

    assert_eq!(received.len(), payload.len() + TRAILER.len());
    // 10,240 bytes at 80 kbit/s is 1.024 s of the link's own pacing sleeps, whatever else
    // happens; only this lower bound is physically guaranteed.
    assert!(took >= Duration::from_millis(1_000), "took only {took:?}");
}

#[test]
fn latency_delays_each_round_trip_both_ways() {
    let faults = Faults {
        latency: Duration::from_millis(150),
        ..Faults::clean()
    };
    let link = HostileLink::start(echo_server(), faults);
    let mut stream = connect(&link);

    let started = Instant::now();
    ping(&mut stream, b"are you there");
    let took = started.elapsed();

    // One delay on the way up, one on the way down.
    assert!(took >= Duration::from_millis(300), "took only {took:?}");
}

#[test]
fn cut_kills_open_connections_and_refuses_new_ones_until_restore() {
    let link = HostileLink::start(echo_server(), Faults::clean());
    let mut open = connect(&link);
    ping(&mut open, b"before the cut");

    link.cut();
    assert!(is_dead(&mut open), "an open connection survived the cut");
    assert_eq!(link.resets(), 1);

    // The link still accepts during a cut, but closes at once: nothing gets through.
    let mut during = connect(&link);
    let _ = during.write_all(b"anyone?");
    assert!(is_dead(&mut during), "a connection got through a cut");
    assert_eq!(link.resets(), 2);
    assert_eq!(link.bytes_up(), "before the cut".len() as u64);

    link.restore();
    let mut after = connect(&link);
    ping(&mut after, b"after the restore");
    assert_eq!(link.connections(), 3);
    assert_eq!(link.resets(), 2);
}

#[test]
fn reset_chance_one_kills_the_connection_before_any_byte_passes() {
    let faults = Faults {
        reset_chance: 1.0,
        ..Faults::clean()
    };
    let link = HostileLink::start(echo_server(), faults);
    let mut doomed = connect(&link);
    doomed.write_all(b"hello").unwrap();

    assert!(
        is_dead(&mut doomed),
        "the connection survived a certain reset"
    );
    assert_eq!(link.resets(), 1);
    assert_eq!(link.bytes_up(), 0);
    assert_eq!(link.bytes_down(), 0);

    // New faults apply to new chunks: a clean link forwards again.
    link.set_faults(Faults::clean());
    let mut healthy = connect(&link);
    ping(&mut healthy, b"hello again");
    assert_eq!(link.resets(), 1);
}

#[test]
fn reset_counters_starts_every_count_from_zero() {
    let faults = Faults {
        reset_chance: 1.0,
        ..Faults::clean()
    };
    let link = HostileLink::start(echo_server(), faults);
    let mut doomed = connect(&link);
    doomed.write_all(b"x").unwrap();
    assert!(is_dead(&mut doomed));
    link.set_faults(Faults::clean());
    round_trip(&link, b"counted");
    assert_eq!(link.connections(), 2);

    link.reset_counters();
    assert_eq!(
        (
            link.bytes_up(),
            link.bytes_down(),
            link.connections(),
            link.resets()
        ),
        (0, 0, 0, 0)
    );

    round_trip(&link, b"four");
    assert_eq!(link.bytes_up(), 4);
    assert_eq!(link.bytes_down(), 4 + TRAILER.len() as u64);
    assert_eq!(link.connections(), 1);
    assert_eq!(link.resets(), 0);
}

#[test]
fn url_points_at_the_listening_port() {
    let link = HostileLink::start(echo_server(), Faults::clean());
    assert_eq!(
        link.url(),
        format!("http://127.0.0.1:{}", link.addr().port())
    );
    assert!(link.addr().ip().is_loopback());
}

#[test]
fn dropping_the_link_closes_its_connections() {
    let link = HostileLink::start(echo_server(), Faults::clean());
    let mut open = connect(&link);
    ping(&mut open, b"still here");

    drop(link);

    assert!(is_dead(&mut open), "a connection outlived its link");
}
