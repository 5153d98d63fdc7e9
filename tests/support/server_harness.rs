//! A real queue server for tests: SQLite in a temp dir (or PostgreSQL, a schema of its
//! own, with `every_backend`), HTTP on 127.0.0.1:0, a clock the test can move, and
//! helpers that speak the wire protocol with reqwest.
#![allow(dead_code)]

#[path = "pg.rs"]
pub mod pg;

use std::path::PathBuf;
use std::sync::Arc;

use kazi::model::{Project, Role};
use kazi::protocol::{self, AnswerUpload, Encoding, ErrorBody, SyncRequest, SyncResponse, Want};
use kazi::server::{self, Clock, ServerConfig, Store, admin};

pub const PROJECT_TOML: &str = r#"
name = "shop"
title = "Shop items"
kind = "classify"
instructions = "Pick the category."
overlap = 2
lease = "1h"

[[labels]]
id = "food"
name = "Food"
key = "1"

[[labels]]
id = "toys"
name = "Toys"
key = "2"

[[labels]]
id = "tools"
name = "Tools"
key = "3"
"#;

pub fn project(overlap: u32) -> Project {
    let mut p = Project::from_toml("shop.toml", PROJECT_TOML).expect("test project parses");
    p.overlap = overlap;
    p
}

pub struct TestServer {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The PostgreSQL schema the store lives in, dropped after the server (last field).
    postgres: Option<pg::PgSchema>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Dropping the schema blocks on a runtime of its own.
        if let Some(schema) = self.postgres.take() {
            tokio::task::block_in_place(|| drop(schema));
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub encoding: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The reason of a JSON error body (identity encoded).
    pub fn error(&self) -> String {
        let e: ErrorBody = serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not an error body ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        });
        e.error
    }
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
    start_on(None, tune).await
}

/// A server on each backend in turn: SQLite, then PostgreSQL when `KAZI_TEST_PG` names
/// a database (without it, a loud skip of `what`). Call the store only through
/// `TestServer::blocking` (PostgreSQL's store blocks on its own runtime): the test's
/// runtime must be multi-threaded.
pub async fn every_backend(what: &str, tune: impl Fn(&mut ServerConfig)) -> Vec<TestServer> {
    let mut servers = vec![start_on(None, &tune).await];
    if let Some(base) = pg::test_database(what) {
        let schema = tokio::task::block_in_place(|| pg::PgSchema::create(&base));
        servers.push(start_on(Some(schema), &tune).await);
    }
    servers
}

async fn start_on(
    postgres: Option<pg::PgSchema>,
    tune: impl FnOnce(&mut ServerConfig),
) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match &postgres {
        Some(schema) => schema.url.clone(),
        None => format!("sqlite:{}", dir.path().join("server.db").display()),
    };
    let store = if postgres.is_some() {
        tokio::task::block_in_place(|| server::open_store(&url))
    } else {
        server::open_store(&url)
    }
    .expect("store opens");
    let mut config = ServerConfig::default();
    // Tests sync in quick succession; the rate-limit test sets its own.
    config.sync_limit.per_sec = 1000.0;
    config.sync_limit.burst = 1000;
    tune(&mut config);
    let clock = config.clock.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = store.clone();
    tokio::spawn(async move {
        server::serve(listener, serving, config, async {
            let _ = stopped.await;
        })
        .await
        .expect("server runs");
    });
    TestServer {
        base: format!("http://{addr}"),
        store,
        clock,
        dir,
        http: reqwest::Client::new(),
        stop: Some(stop),
        postgres,
    }
}

impl TestServer {
    /// Which backend serves: for messages.
    pub fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// Run `f`, which calls the store, from the test's async code.
    pub fn blocking<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.postgres.is_some() {
            tokio::task::block_in_place(f)
        } else {
            f()
        }
    }

    pub fn add_project(&self, project: &Project) {
        self.blocking(|| admin::add_project(&*self.store, project))
            .expect("project added");
    }

    /// Import tasks `t1..=tn` ("item N") from a JSONL file; returns the file.
    pub fn import_numbered(&self, project: &str, n: usize) -> PathBuf {
        let lines: Vec<String> = (1..=n)
            .map(|i| format!(r#"{{"id":"t{i}","text":"item {i}"}}"#))
            .collect();
        let path = self.write_file("tasks.jsonl", &(lines.join("\n") + "\n"));
        self.blocking(|| admin::import_tasks(&*self.store, project, &path, &mut |_, _| {}))
            .expect("import");
        path
    }

    pub fn write_file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write test file");
        path
    }

    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.post(format!("{}{path}", self.base)).body(body);
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        reply(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        reply(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    pub async fn login(&self, user: &str, code: &str) -> Reply {
        let body = serde_json::to_vec(&protocol::LoginRequest {
            user: user.into(),
            code: code.into(),
            device: "test".into(),
        })
        .unwrap();
        self.post(protocol::LOGIN_PATH, None, body, &[]).await
    }

    /// A user with `role`, logged in: their device token.
    pub async fn enrol(&self, name: &str, role: Role) -> String {
        let code = self
            .blocking(|| admin::add_user(&*self.store, name, role, &self.clock))
            .expect("user added");
        let reply = self.login(name, &code).await;
        assert_eq!(
            reply.status,
            200,
            "login: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let login: protocol::LoginResponse = serde_json::from_slice(&reply.body).unwrap();
        login.token
    }

    /// Sync (zstd both ways) and expect success.
    pub async fn sync(&self, token: &str, request: &SyncRequest) -> SyncResponse {
        let reply = self.sync_raw(token, request).await;
        assert_eq!(
            reply.status,
            200,
            "sync: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.encoding.as_deref(), Some("zstd"));
        protocol::decode(&reply.body, Encoding::Zstd, protocol::MAX_DECODED_BYTES)
            .expect("sync response decodes")
    }

    pub async fn sync_raw(&self, token: &str, request: &SyncRequest) -> Reply {
        self.post(
            protocol::SYNC_PATH,
            Some(token),
            protocol::encode(request, Encoding::Zstd),
            &[("content-encoding", "zstd"), ("accept-encoding", "zstd")],
        )
        .await
    }

    /// Ask for `count` tasks of `project`, claiming to know it already.
    pub async fn want(&self, token: &str, project: &str, count: u32) -> SyncResponse {
        self.sync(token, &want(project, count)).await
    }

    /// An export naming workers by user name (`--with-names`), as the tests check them.
    pub fn export(&self, project: &str, format: admin::ExportFormat) -> String {
        let mut out = Vec::new();
        self.blocking(|| {
            admin::export_named(
                &*self.store,
                project,
                format,
                admin::ExportTarget::File,
                admin::Naming::UserNames,
                &mut out,
            )
        })
        .expect("export");
        String::from_utf8(out).expect("export is UTF-8")
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.bytes().await.expect("body").to_vec();
    Reply {
        status,
        encoding,
        body,
    }
}

/// What a current client asks: `count` tasks of `project`, able to show every kind.
pub fn want(project: &str, count: u32) -> SyncRequest {
    SyncRequest {
        want: vec![Want {
            project: project.into(),
            count,
        }],
        kinds: kazi::model::TaskKind::ALL
            .map(|k| k.name().to_string())
            .to_vec(),
        ..SyncRequest::default()
    }
}

pub fn answer(id: u64, task: i64, label: &str) -> AnswerUpload {
    AnswerUpload {
        id,
        task,
        value: kazi::model::AnswerValue::Labels(vec![label.into()]),
        ago: 0,
        replaces: None,
    }
}

pub fn answers(list: Vec<AnswerUpload>) -> SyncRequest {
    SyncRequest {
        answers: list,
        ..SyncRequest::default()
    }
}
