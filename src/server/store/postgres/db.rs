//! One pooled PostgreSQL connection seen synchronously: each query is prepared once per
//! connection (cached), run on the store's runtime, and waited for on the caller's
//! thread. Transactions are plain BEGIN/COMMIT so the scheduler's `SyncTx` can be
//! driven one query at a time.

use deadpool_postgres::Object;
use tokio::runtime::Runtime;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::server::store::StoreError;

pub(crate) type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

pub(crate) struct Db<'r> {
    runtime: &'r Runtime,
    client: Option<Object>,
    /// A transaction was begun and neither committed nor rolled back: the connection
    /// must not go back to the pool.
    dirty: bool,
}

impl<'r> Db<'r> {
    pub(super) fn new(runtime: &'r Runtime, client: Object) -> Db<'r> {
        Db {
            runtime,
            client: Some(client),
            dirty: false,
        }
    }

    fn client(&self) -> Result<&Object, StoreError> {
        self.client.as_ref().ok_or(StoreError::WriterGone)
    }

    /// Run `f` with the runtime and the connection itself, for what the simple calls
    /// below cannot do (portals, copies).
    pub(crate) fn with_client<R>(
        &mut self,
        f: impl FnOnce(&Runtime, &mut Object) -> R,
    ) -> Result<R, StoreError> {
        let client = self.client.as_mut().ok_or(StoreError::WriterGone)?;
        Ok(f(self.runtime, client))
    }

    pub(crate) fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        let client = self.client()?;
        Ok(self.runtime.block_on(async {
            let statement = client.prepare_cached(sql).await?;
            client.query(&statement, params).await
        })?)
    }

    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<Row>, StoreError> {
        let client = self.client()?;
        Ok(self.runtime.block_on(async {
            let statement = client.prepare_cached(sql).await?;
            client.query_opt(&statement, params).await
        })?)
    }

    pub(crate) fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, StoreError> {
        let client = self.client()?;
        Ok(self.runtime.block_on(async {
            let statement = client.prepare_cached(sql).await?;
            client.query_one(&statement, params).await
        })?)
    }

    /// Run one statement; the number of rows it touched.
    pub(crate) fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StoreError> {
        let client = self.client()?;
        Ok(self.runtime.block_on(async {
            let statement = client.prepare_cached(sql).await?;
            client.execute(&statement, params).await
        })?)
    }

    /// Run statements without parameters (DDL, BEGIN/COMMIT).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        let client = self.client()?;
        Ok(self.runtime.block_on(client.batch_execute(sql))?)
    }

    /// Run `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    pub(crate) fn transaction<R, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Db<'r>) -> Result<R, E>,
    ) -> Result<R, E> {
        self.transaction_as("BEGIN", f)
    }

    /// `transaction`, begun with `begin` (a fixed `BEGIN ...` naming isolation and mode).
    pub(crate) fn transaction_as<R, E: From<StoreError>>(
        &mut self,
        begin: &'static str,
        f: impl FnOnce(&mut Db<'r>) -> Result<R, E>,
    ) -> Result<R, E> {
        self.batch(begin)?;
        self.dirty = true;
        let result = f(self);
        match result {
            Ok(value) => {
                // A failed COMMIT ends the transaction too (PostgreSQL rolls it back).
                let committed = self.batch("COMMIT");
                if committed.is_ok() || self.client().is_ok_and(|c| !c.is_closed()) {
                    self.dirty = false;
                }
                Ok(committed.map(|()| value)?)
            }
            Err(e) => {
                if self.batch("ROLLBACK").is_ok() {
                    self.dirty = false;
                }
                Err(e)
            }
        }
    }
}

impl Drop for Db<'_> {
    /// The connection goes back to the pool, unless it was left mid-transaction (a failed
    /// ROLLBACK, or a panic between BEGIN and COMMIT): then it is closed, so no later
    /// caller's work joins a transaction it did not begin.
    fn drop(&mut self) {
        if self.dirty
            && let Some(client) = self.client.take()
        {
            drop(Object::take(client));
        }
    }
}

/// A column read back with the type the schema gives it.
pub(crate) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    index: usize,
) -> Result<T, StoreError> {
    row.try_get(index).map_err(|e| StoreError::Corrupt {
        what: "row",
        source: Box::new(e),
    })
}
