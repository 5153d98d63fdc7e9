//! PostgreSQL for tests: `KAZI_TEST_PG` names a database (`.ci/run` sets it to the
//! machine's service); each test gets a schema of its own, reached through the URL's
//! `options`, and dropped when the test ends. Without the variable, tests say loudly
//! that they skipped: straight to stderr, which the test harness does not capture.
#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

/// A schema of its own on the test database; dropped with everything in it.
pub struct PgSchema {
    base: String,
    pub name: String,
    /// The database URL that puts the store in this schema.
    pub url: String,
}

/// The test database, if `KAZI_TEST_PG` names one; otherwise a loud skip of `what`.
pub fn test_database(what: &str) -> Option<String> {
    match std::env::var("KAZI_TEST_PG") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let line = format!(
                "\n*** SKIPPED: {what} on PostgreSQL (set KAZI_TEST_PG=postgres://...) ***\n"
            );
            let _ = std::io::stderr().write_all(line.as_bytes());
            None
        }
    }
}

impl PgSchema {
    /// A fresh schema on the database at `base`.
    pub fn create(base: &str) -> PgSchema {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "kazi_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            getrandom::u32().unwrap_or(0)
        );
        run_sql(base, &format!("CREATE SCHEMA {name}"));
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{name}");
        PgSchema {
            base: base.to_string(),
            name,
            url,
        }
    }

    /// One number from a query on this schema.
    pub fn count(&self, sql: &str) -> i64 {
        query_i64(&self.url, sql)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        run_sql(&self.base, &format!("DROP SCHEMA {} CASCADE", self.name));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn with_client<R>(url: &str, f: impl AsyncFnOnce(&tokio_postgres::Client) -> R) -> R {
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
        let driver = tokio::spawn(connection);
        let result = f(&client).await;
        drop(client);
        let _ = driver.await;
        result
    })
}

pub fn run_sql(url: &str, sql: &str) {
    with_client(url, async |client| {
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
}

pub fn query_i64(url: &str, sql: &str) -> i64 {
    with_client(url, async |client| {
        let row = client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.get::<_, i64>(0)
    })
}
