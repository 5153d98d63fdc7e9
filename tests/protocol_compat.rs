//! A client and a server one protocol version apart keep working: fields from the future
//! are ignored both ways, the version travels in every request, and a server that cannot
//! serve it answers with a clear line saying which side to update.

#[path = "support/server_harness.rs"]
mod harness;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use kazi::client::{self, LocalStore, PlanConfig, Profile, Remote, RemoteError, SyncConfig};
use kazi::model::Role;
use kazi::protocol::{self, Encoding, LOGIN_PATH, PROTOCOL_HEADER, PROTOCOL_VERSION, SYNC_PATH};

/// What a client one version ahead might send: fields this server does not know, at
/// every level of the request.
fn future_sync_body(task: i64) -> Vec<u8> {
    format!(
        r#"{{"known":{{"shop":"x"}},"battery":0.4,
            "answers":[{{"id":1,"task":{task},"value":{{"labels":["toys"]}},"ago":2,
                         "seconds_spent":12}}],
            "want":[{{"project":"shop","count":0,"priority":"high"}}]}}"#
    )
    .into_bytes()
}

#[tokio::test]
async fn a_request_from_a_newer_client_with_unknown_fields_is_served() {
    let server = harness::start().await;
    server.add_project(&harness::project(1));
    server.import_numbered("shop", 3);
    let token = server.enrol("amina", Role::Worker).await;
    let leased = server.want(&token, "shop", 1).await;
    let task = leased.leases[0].task;

    let newer = (PROTOCOL_VERSION + 1).to_string();
    let reply = server
        .post(
            SYNC_PATH,
            Some(&token),
            future_sync_body(task),
            &[(PROTOCOL_HEADER, &newer)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.error());
    let response: protocol::SyncResponse =
        protocol::decode(&reply.body, Encoding::Identity, 1 << 20).unwrap();
    assert_eq!(response.acks.len(), 1);
    assert!(response.acks[0].status.is_stored(), "{:?}", response.acks);

    let code = kazi::server::admin::add_user(&*server.store, "baraka", Role::Worker, &server.clock)
        .unwrap();
    let login = format!(r#"{{"user":"baraka","code":"{code}","device":"d","fingerprint":"f"}}"#);
    let reply = server
        .post(
            LOGIN_PATH,
            None,
            login.into_bytes(),
            &[(PROTOCOL_HEADER, &newer)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.error());
}

#[tokio::test]
async fn a_far_off_protocol_version_gets_a_line_saying_which_side_to_update() {
    let server = harness::start().await;
    let token = server.enrol("amina", Role::Worker).await;
    let far = (PROTOCOL_VERSION + 2).to_string();
    let body = protocol::encode(&harness::want("shop", 1), Encoding::Identity);
    for (path, token) in [(SYNC_PATH, Some(token.as_str())), (LOGIN_PATH, None)] {
        let reply = server
            .post(path, token, body.clone(), &[(PROTOCOL_HEADER, &far)])
            .await;
        assert_eq!(reply.status, 426, "{path}: {}", reply.error());
        assert_eq!(
            reply.error(),
            format!(
                "this server speaks Kazi protocol {PROTOCOL_VERSION} and this Kazi speaks {far}; \
                 ask your admin to update the server"
            ),
            "{path}"
        );
    }
    let reply = server
        .post(SYNC_PATH, Some(&token), body, &[(PROTOCOL_HEADER, "2.0")])
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.error().contains("Kazi-Protocol header"),
        "{}",
        reply.error()
    );
}

/// A stand-in for a server of another version: answers every sync with `status` and
/// `body`, and keeps the headers of each request it got.
struct Stub {
    base: String,
    requests: Arc<Mutex<Vec<HeaderMap>>>,
    _rt: tokio::runtime::Runtime,
}

fn stub(status: StatusCode, body: &'static str) -> Stub {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let app = axum::Router::new().route(
        SYNC_PATH,
        axum::routing::post(move |headers: HeaderMap| {
            seen.lock().unwrap().push(headers);
            async move { (status, [("content-type", "application/json")], body) }
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await });
    Stub {
        base,
        requests,
        _rt: rt,
    }
}

/// A reply from a server one version ahead: unknown fields at every level.
const FUTURE_REPLY: &str = r#"{
    "now": 1000000, "done_today": 4, "weather": "sunny",
    "acks": [{"id": 1, "s": "ok", "latency_ms": 3}],
    "leases": [{"task": 7, "project": "p", "text": "a red ball", "expires": 2000000,
                "audio": "clip.opus"}],
    "projects": [{"name": "p", "title": "P", "kind": "classify", "overlap": 1,
                  "lease_secs": 60, "exam": {"pass": 0.8},
                  "labels": [{"id": "a", "name": "A", "key": "1", "colour": "red"}]}],
    "reply": 1, "badges": [{"task": 3, "earned": true}]
}"#;

#[test]
fn a_reply_with_fields_from_the_future_is_read_and_applied_by_the_client() {
    let server = stub(StatusCode::OK, FUTURE_REPLY);
    let dir = tempfile::tempdir().unwrap();
    let mut store = LocalStore::open(&dir.path().join("client.db")).unwrap();
    let remote = Remote::new(&server.base, "token").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt
        .block_on(client::sync_once(
            &remote,
            &mut store,
            Some("p"),
            PlanConfig::default(),
        ))
        .unwrap();
    assert!(
        matches!(outcome, client::SyncOutcome::Synced { .. }),
        "{outcome:?}"
    );
    let (tasks, _) = store.queued_tasks("p", 0, 10).unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].text, "a red ball");
    assert_eq!(store.projects().unwrap()[0].labels[0].key, '1');
    assert_eq!(store.counts(None).unwrap().done_today, 4);

    // The version travelled with the request.
    let requests = server.requests.lock().unwrap();
    assert_eq!(
        requests[0].get(PROTOCOL_HEADER).map(|v| v.as_bytes()),
        Some(PROTOCOL_VERSION.to_string().as_bytes())
    );
}

const NEWER_SERVER: &str = r#"{"error":"this server speaks Kazi protocol 3 and this Kazi speaks 1; update Kazi on this computer"}"#;

#[test]
fn the_sync_engine_shows_an_update_message_and_does_not_retry_fast() {
    let server = stub(StatusCode::UPGRADE_REQUIRED, NEWER_SERVER);
    let home = tempfile::tempdir().unwrap();
    let profile = write_profile(home.path(), &server.base);
    let config = SyncConfig {
        backoff_min: Duration::from_millis(5),
        backoff_max: Duration::from_secs(3600),
        ..SyncConfig::default()
    };
    let (tx, statuses) = std::sync::mpsc::channel();
    let engine = client::SyncEngine::start(&profile, config, move |s| {
        let _ = tx.send(s);
    })
    .unwrap();
    let status = statuses
        .recv_timeout(Duration::from_secs(30))
        .expect("a status arrives");
    assert_eq!(status.link, client::Link::Offline);
    assert_eq!(
        status.message.as_deref(),
        Some(
            "this server speaks Kazi protocol 3 and this Kazi speaks 1; update Kazi on this computer"
        )
    );
    assert_eq!(status.counts.map(|c| c.unsent), Some(0));
    // Changes do not make it ask again before the long wait; a loop on the short
    // backoff would have asked dozens of times by now.
    for _ in 0..5 {
        engine.changed();
        std::thread::sleep(Duration::from_millis(20));
    }
    engine.shutdown(Duration::from_secs(1));
    assert_eq!(server.requests.lock().unwrap().len(), 1);
}

#[test]
fn the_client_reads_an_incompatible_server_as_its_own_error() {
    let server = stub(StatusCode::UPGRADE_REQUIRED, NEWER_SERVER);
    let remote = Remote::new(&server.base, "token").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(remote.sync(&protocol::SyncRequest::default()))
        .unwrap_err();
    assert!(matches!(err, RemoteError::Incompatible(_)), "{err:?}");
    assert!(
        err.to_string().ends_with("update Kazi on this computer"),
        "{err}"
    );
}

/// A profile as `kazi login` writes it, pointing at `server`.
fn write_profile(home: &std::path::Path, server: &str) -> Profile {
    let dir = home.join("default");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("profile.toml"),
        format!("server = \"{server}\"\nuser = \"amina\"\nrole = \"worker\"\n"),
    )
    .unwrap();
    std::fs::write(dir.join("token"), "token").unwrap();
    Profile::load(home, "default").unwrap()
}
