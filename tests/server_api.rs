//! The queue server's HTTP surface on a real port: enrolment and login, tokens and
//! roles, JSON errors with the right statuses, size limits, compression, rate limits.

#[path = "support/server_harness.rs"]
mod harness;

use harness::{answer, answers, project, start, start_with, want};
use kazi::model::Role;
use kazi::protocol::{self, Encoding, LoginResponse, SyncRequest, SyncResponse};
use kazi::server::{RateLimit, admin, open_store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_unknown_path_and_wrong_method_answer_json() {
    let s = start().await;
    let health = s.get("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, br#"{"ok":true}"#);

    let missing = s.get("/v2/everything").await;
    assert_eq!(missing.status, 404);
    assert!(missing.error().contains("no such endpoint"));

    let wrong = s.get(protocol::SYNC_PATH).await;
    assert_eq!(wrong.status, 405);
    assert!(wrong.error().contains("POST"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_code_works_once_and_expires() {
    let s = start().await;
    let code = admin::add_user(&*s.store, "amina", Role::Worker, &s.clock).unwrap();

    let wrong = s.login("amina", "AAAA-BBBB-CCCC-DDDD").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.error().contains("wrong, used or expired"));

    // Case and dashes do not matter when typing the code.
    let ok = s
        .login("amina", &code.to_lowercase().replace('-', ""))
        .await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let login: LoginResponse = serde_json::from_slice(&ok.body).unwrap();
    assert_eq!(login.user, "amina");
    assert_eq!(login.role, Role::Worker);
    assert_eq!(login.token.len(), 64);
    assert!((login.now - s.clock.now()).abs() <= 2);

    let again = s.login("amina", &code).await;
    assert_eq!(again.status, 401, "a code is used once only");
    assert!(again.error().contains("ask your admin"));

    // The token works; an unknown user gets the same answer as a wrong code.
    let synced = s.sync_raw(&login.token, &SyncRequest::default()).await;
    assert_eq!(synced.status, 200);
    assert_eq!(s.login("nobody", &code).await.status, 401);

    // A fresh code for the same user; it expires after 7 days of server time.
    let renewed = admin::add_user(&*s.store, "amina", Role::Worker, &s.clock).unwrap();
    assert_ne!(renewed, code);
    s.clock.advance(admin::ENROLMENT_CODE_SECS + 1);
    let late = s.login("amina", &renewed).await;
    assert_eq!(late.status, 401);
    assert!(late.error().contains("expired"));
    // The earlier device keeps working.
    assert_eq!(
        s.sync_raw(&login.token, &SyncRequest::default())
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_user_names_are_refused() {
    let s = start().await;
    for name in ["", "has space", "ünïcode", "x\u{1b}[2J", &"a".repeat(33)] {
        let e = admin::add_user(&*s.store, name, Role::Worker, &s.clock).unwrap_err();
        assert!(e.to_string().contains("user name"), "{e}");
    }
    assert!(admin::add_user(&*s.store, "a.b-c_9", Role::Admin, &s.clock).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_needs_a_known_token_and_a_task_taking_role() {
    let s = start().await;
    let body = protocol::encode(&SyncRequest::default(), Encoding::Identity);

    let none = s.post(protocol::SYNC_PATH, None, body.clone(), &[]).await;
    assert_eq!(none.status, 401);
    assert!(none.error().contains("log in"));

    let forged = s
        .post(
            protocol::SYNC_PATH,
            Some(&"ab".repeat(32)),
            body.clone(),
            &[],
        )
        .await;
    assert_eq!(forged.status, 401);
    assert!(forged.error().contains("not known"));

    let reviewer = s.enrol("rita", Role::Reviewer).await;
    let refused = s
        .post(protocol::SYNC_PATH, Some(&reviewer), body.clone(), &[])
        .await;
    assert_eq!(refused.status, 403);
    assert!(refused.error().contains("reviewer"));

    for (name, role) in [
        ("wanja", Role::Worker),
        ("tom", Role::Trainer),
        ("ada", Role::Admin),
    ] {
        let token = s.enrol(name, role).await;
        let ok = s
            .post(protocol::SYNC_PATH, Some(&token), body.clone(), &[])
            .await;
        assert_eq!(ok.status, 200, "{role} may sync");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversize_requests_get_json_errors() {
    let s = start().await;
    s.add_project(&project(1));
    let token = s.enrol("amina", Role::Worker).await;
    let post = |body: Vec<u8>, headers: &'static [(&'static str, &'static str)]| {
        s.post(protocol::SYNC_PATH, Some(&token), body, headers)
    };

    let broken = post(b"{\"answers\": [".to_vec(), &[]).await;
    assert_eq!(broken.status, 400);
    assert!(broken.error().contains("not valid JSON"));

    // A field from a newer client is ignored (the protocol evolves); a known field of
    // the wrong shape is still refused.
    let unknown_field = post(br#"{"known":{},"evil":1}"#.to_vec(), &[]).await;
    assert_eq!(unknown_field.status, 200, "{}", unknown_field.error());
    let wrong_shape = post(br#"{"known":{},"answers":"evil"}"#.to_vec(), &[]).await;
    assert_eq!(wrong_shape.status, 400);
    assert!(wrong_shape.error().contains("not valid JSON"));

    let brotli = post(b"{}".to_vec(), &[("content-encoding", "br")]).await;
    assert_eq!(brotli.status, 415);
    assert!(brotli.error().contains("'br'"));

    let not_zstd = post(b"plain text".to_vec(), &[("content-encoding", "zstd")]).await;
    assert_eq!(not_zstd.status, 400);
    assert!(not_zstd.error().contains("decompressed"));

    let huge = post(vec![b' '; protocol::MAX_BODY_BYTES + 1], &[]).await;
    assert_eq!(huge.status, 413);
    assert!(huge.error().contains("larger than"));

    // Small on the wire, too big once decompressed.
    let bomb = zstd::bulk::compress(&vec![b' '; protocol::MAX_DECODED_BYTES + 10], 3).unwrap();
    let bomb = post(bomb, &[("content-encoding", "zstd")]).await;
    assert_eq!(bomb.status, 413);

    let many: Vec<_> = (0..=protocol::MAX_ANSWERS_PER_SYNC as u64)
        .map(|i| answer(i, 1, "food"))
        .collect();
    let too_many = s.sync_raw(&token, &answers(many)).await;
    assert_eq!(too_many.status, 400);
    assert!(too_many.error().contains("at most 500 answers"));

    let greedy = s
        .sync_raw(&token, &want("shop", protocol::MAX_WANT_PER_SYNC + 1))
        .await;
    assert_eq!(greedy.status, 400);
    assert!(greedy.error().contains("ask for at most"));

    let login_garbage = s
        .post(protocol::LOGIN_PATH, None, b"nope".to_vec(), &[])
        .await;
    assert_eq!(login_garbage.status, 400);
    assert!(login_garbage.error().contains("JSON"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_compressed_both_ways() {
    let s = start().await;
    s.add_project(&project(1));
    s.import_numbered("shop", 30);
    let token = s.enrol("amina", Role::Worker).await;
    let request = want("shop", 10);

    let cases = [
        (Encoding::Zstd, "zstd", Some("zstd")),
        (Encoding::Gzip, "gzip", Some("gzip")),
        (Encoding::Identity, "identity", None),
    ];
    for (encoding, name, expect) in cases {
        let reply = s
            .post(
                protocol::SYNC_PATH,
                Some(&token),
                protocol::encode(&request, encoding),
                &[("content-encoding", name), ("accept-encoding", name)],
            )
            .await;
        assert_eq!(reply.status, 200, "{name}");
        assert_eq!(reply.encoding.as_deref(), expect, "{name}");
        let response: SyncResponse =
            protocol::decode(&reply.body, encoding, protocol::MAX_DECODED_BYTES).unwrap();
        assert_eq!(response.leases.len(), 10, "{name}");
        if encoding != Encoding::Identity {
            let plain = protocol::encode(&response, Encoding::Identity);
            assert!(reply.body.len() < plain.len(), "{name} compresses");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_are_rate_limited_per_user() {
    let s = start_with(|c| {
        c.sync_limit = RateLimit {
            per_sec: 0.001,
            burst: 2,
        }
    })
    .await;
    let amina = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;
    let empty = SyncRequest::default();
    assert_eq!(s.sync_raw(&amina, &empty).await.status, 200);
    assert_eq!(s.sync_raw(&amina, &empty).await.status, 200);
    let limited = s.sync_raw(&amina, &empty).await;
    assert_eq!(limited.status, 429);
    assert!(limited.error().contains("too many syncs"));
    // Same address, another user: their own bucket.
    assert_eq!(s.sync_raw(&baraka, &empty).await.status, 200);
}

#[test]
fn database_urls_are_checked() {
    // Nothing listens on port 1: the database is named in the message, without a password.
    let pg = open_store("postgres://u:secret@127.0.0.1:1/kazi")
        .err()
        .unwrap();
    assert_eq!(
        pg.to_string(),
        "cannot open database postgres://u@127.0.0.1:1/kazi"
    );
    assert!(
        std::error::Error::source(&pg).is_some(),
        "the cause is kept"
    );
    let other = open_store("mysql://x").err().unwrap();
    assert_eq!(
        other.to_string(),
        "database URL must start with sqlite: or postgres://"
    );
    // Opening twice runs the migrations once and keeps the data.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("k.db").display());
    let store = open_store(&url).unwrap();
    admin::add_project(&*store, &project(2)).unwrap();
    drop(store);
    let again = open_store(&url).unwrap();
    assert_eq!(again.project("shop").unwrap(), Some(project(2)));
}
