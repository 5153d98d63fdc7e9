//! The databases the storage suites run on: SQLite in a temp dir always, and a fresh
//! PostgreSQL schema when `KAZI_TEST_PG` names a database (else a loud SKIPPED).
#![allow(dead_code)]

use std::sync::Arc;

use kazi::server::{Store, open_store};

use super::harness::pg;

/// A database to run the suite on, and what keeps it alive.
pub struct Backend {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pub schema: Option<pg::PgSchema>,
}

/// A fresh database per backend: SQLite in a new temp dir, plus a fresh PostgreSQL
/// schema if `KAZI_TEST_PG` names a database.
pub fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("server.db").display());
    let mut list = vec![Backend {
        url,
        _dir: Some(dir),
        schema: None,
    }];
    if let Some(base) = pg::test_database("the storage suite") {
        let schema = pg::PgSchema::create(&base);
        list.push(Backend {
            url: schema.url.clone(),
            _dir: None,
            schema: Some(schema),
        });
    }
    list
}

/// Run `check` on a fresh store of every backend; the store is closed before its
/// database is dropped.
pub fn on_every_backend(check: impl Fn(&Backend, Arc<dyn Store>)) {
    for backend in backends() {
        let store = open_store(&backend.url)
            .unwrap_or_else(|e| panic!("{}: store does not open: {e}", backend.url));
        check(&backend, store);
    }
}
