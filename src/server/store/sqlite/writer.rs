//! The one writer of a SQLite store: a thread that owns the write connection and runs
//! the jobs queued meanwhile in one transaction (group commit). Each job runs inside its
//! own SAVEPOINT, so one failing job does not undo the others; one COMMIT (one fsync)
//! makes the whole batch durable, and only then does each caller get its answer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use rusqlite::Connection;

use crate::server::store::StoreError;

/// Called once the batch's fate is known: `Ok` when committed.
type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs one job (or learns it cannot run) and says whether it succeeded.
type Job = Box<dyn FnOnce(Result<&Connection, StoreError>) -> (bool, Finish) + Send>;

/// Most jobs in one transaction: bounds the wait of the first in a burst.
const MAX_BATCH: usize = 256;

pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(super) fn start(conn: Connection) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("kazi-db-writer".into())
            .spawn(move || write_loop(conn, queue))?;
        Ok(Writer { jobs })
    }

    /// Run `f` in the writer's transaction and return its result once committed.
    pub(super) fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => catch_unwind(AssertUnwindSafe(|| f(conn)))
                    .unwrap_or(Err(StoreError::JobPanicked)),
                Err(e) => Err(e),
            };
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |committed| {
                let _ = reply.send(committed.and(result));
            });
            (ok, finish)
        });
        self.jobs.send(job).map_err(|_| StoreError::WriterGone)?;
        answer.recv().map_err(|_| StoreError::WriterGone)?
    }
}

fn write_loop(conn: Connection, queue: mpsc::Receiver<Job>) {
    // Ends when the store (the only sender) is dropped.
    while let Ok(first) = queue.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch);
    }
}

fn run_batch(conn: &Connection, batch: Vec<Job>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        for job in batch {
            let (_, finish) = job(Err(each_caller(&e)));
            finish(Err(each_caller(&e)));
        }
        return;
    }
    let mut finishes = Vec::with_capacity(batch.len());
    for job in batch {
        let finish = match conn.execute_batch("SAVEPOINT job") {
            Ok(()) => {
                let (ok, finish) = job(Ok(conn));
                // A failed job leaves no trace; the others in the batch stand.
                let _ = if ok {
                    conn.execute_batch("RELEASE job")
                } else {
                    conn.execute_batch("ROLLBACK TO job; RELEASE job")
                };
                finish
            }
            Err(e) => job(Err(e.into())).1,
        };
        finishes.push(finish);
    }
    let committed = conn.execute_batch("COMMIT");
    if committed.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for finish in finishes {
        finish(match &committed {
            Ok(()) => Ok(()),
            Err(e) => Err(each_caller(e)),
        });
    }
}

/// One batch failure, told to each of its callers with its kind kept (a BUSY stays
/// "try again"): SQLite's error code is copied, other errors keep their text.
fn each_caller(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone()).into()
        }
        other => StoreError::Backend(other.to_string().into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_job_does_not_undo_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER NOT NULL UNIQUE)")
            .unwrap();
        let writer = std::sync::Arc::new(Writer::start(conn).unwrap());
        let threads: Vec<_> = (0..40)
            .map(|i| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    writer.run(move |conn| {
                        conn.execute("INSERT INTO t (n) VALUES (?1)", [i])?;
                        if i % 4 == 0 {
                            // Fails after writing: its row must not stay.
                            conn.execute("INSERT INTO t (n) VALUES (?1)", [i])?;
                        }
                        Ok(i)
                    })
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_ok(), i % 4 != 0, "job {i}: {r:?}");
        }
        let count: i64 = writer
            .run(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(count, 30);
    }
}
