//! Connection hygiene on a real server over loopback: a cap on open connections with a
//! 503 and `Retry-After` past it, header, body and idle timeouts that close what hangs,
//! and a real client that still syncs while many idle and slow connections are held.

#[path = "support/server_harness.rs"]
mod harness;

use std::time::Duration;

use harness::{TestServer, project, start_with, want};
use kazi::client::{Remote, RemoteError};
use kazi::model::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CAP: usize = 8;

async fn tight_server() -> TestServer {
    let s = start_with(|c| {
        c.max_connections = CAP;
        c.header_timeout = Duration::from_secs(1);
        c.body_timeout = Duration::from_secs(2);
        c.idle_timeout = Duration::from_secs(1);
    })
    .await;
    s.add_project(&project(1));
    s.import_numbered("shop", 20);
    s
}

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// Everything the server sends until it closes the connection. The bound only keeps a
/// broken server from hanging the test; nothing here measures time.
async fn read_until_closed(tcp: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0u8; 1024];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server never closed the connection");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_cap_is_a_503_and_idle_connections_are_closed() {
    let s = tight_server().await;
    let mut idle = Vec::new();
    for _ in 0..CAP {
        idle.push(TcpStream::connect(addr(&s)).await.unwrap());
    }
    // Accepted in order: these find every slot taken.
    let mut over = TcpStream::connect(addr(&s)).await.unwrap();
    let shed = read_until_closed(&mut over).await;
    assert!(shed.starts_with("HTTP/1.1 503"), "{shed:?}");
    assert!(shed.contains("retry-after: 1"), "{shed:?}");
    assert!(shed.contains(r#"{"error":"the server is full"#), "{shed:?}");
    for tcp in &mut idle {
        assert_eq!(read_until_closed(tcp).await, "", "closed without a word");
    }
    // The slots are free again.
    let health = s.get("/healthz").await;
    assert_eq!(health.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_slow_bodies_are_cut_off() {
    let s = tight_server().await;
    let token = s.enrol("amina", Role::Worker).await;

    // Headers one byte at a time, never finished: closed by the header timeout.
    let mut slow_head = TcpStream::connect(addr(&s)).await.unwrap();
    let dripping = async {
        for b in b"POST /v1/sync HTTP/1.1\r\nhost: x\r\nx-pad: "
            .iter()
            .cycle()
        {
            if slow_head.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let cut = tokio::time::timeout(Duration::from_secs(60), dripping).await;
    assert!(cut.is_ok(), "the server kept reading headers forever");

    // A body that never finishes arriving: a 408 with the reason.
    let mut slow_body = TcpStream::connect(addr(&s)).await.unwrap();
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
         content-length: 1000\r\n\r\n{{"
    );
    slow_body.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = slow_body.into_split();
    let drip = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), reader.read_to_end(&mut got)).await;
    drip.abort();
    let reply = String::from_utf8_lossy(&got);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply:?}");
    assert!(reply.contains("took longer than"), "{reply:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_client_still_syncs_while_many_connections_hang() {
    let s = tight_server().await;
    let token = s.enrol("amina", Role::Worker).await;
    // Far more idle and slow sockets than the cap, held open for the whole test.
    let mut held = Vec::new();
    for i in 0..60 {
        let mut tcp = TcpStream::connect(addr(&s)).await.unwrap();
        if i % 2 == 0 {
            let _ = tcp.write_all(b"POST /v1/sync HTTP/1.1\r\n").await;
        }
        held.push(tcp);
    }
    let remote = Remote::new(&s.base, &token).unwrap();
    let mut refused_while_full = 0;
    let reply = loop {
        match remote.sync(&want("shop", 5)).await {
            Ok(reply) => break reply,
            // The 503 the cap sends: the client's "try again later".
            Err(RemoteError::Offline(_)) if refused_while_full < 600 => {
                refused_while_full += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("sync failed: {e}"),
        }
    };
    assert_eq!(reply.leases.len(), 5);
    drop(held);
}
