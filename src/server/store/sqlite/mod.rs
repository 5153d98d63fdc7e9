//! The SQLite store: one file in WAL mode with synchronous=FULL, migrated on open.
//! Writes go through one writer thread with group commit (`writer`); reads (token
//! checks, exports) use a small pool of reader connections beside it.

mod aggregation;
mod catalogue;
mod class;
mod devices;
mod gold;
mod impact;
mod review;
mod schema;
mod ssh_keys;
mod sync_tx;
mod training;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use super::review::{NewReviewItem, ReviewFilter, ReviewItem};
use super::{
    AggregationInput, BackendError, ImportCounts, NewSshKey, Principal, ProjectAdded,
    ProjectCounts, Qualified, Reviewed, SecretHash, SshKeyAdded, SshKeySummary, Store, StoreError,
    TaskList, TaskRecord, TaskState, TaskStream, TokenStanding, UserPut, UserRemoved, UserSummary,
    WorkItem,
};
use crate::model::intake::{Intake, IntakeForm};
use crate::model::{Project, Role};
use crate::protocol::{SyncRequest, SyncResponse};
use crate::quality::Decision;
use crate::server::scheduler;
use crate::server::scheduler::review::{Decided, ReviewDecision, ReviewTake, Taken};
use sync_tx::SqliteTx;
use writer::Writer;

impl From<rusqlite::Error> for StoreError {
    /// BUSY and LOCKED (another process holds the write lock past the busy timeout) are
    /// worth trying again; everything else is a plain backend error.
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy(Box::new(e))
            }
            _ => StoreError::Backend(Box::new(e)),
        }
    }
}

/// A stored row that does not parse back: refuse it, never replace it by a default.
fn corrupt<E>(what: &'static str) -> impl FnOnce(E) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| StoreError::Corrupt {
        what,
        source: Box::new(e),
    }
}

/// How long a connection waits for another process's write lock (`kazi admin` beside a
/// running `kazi serve`) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Reader connections (token checks, exports) open at most at once.
const MAX_READERS: usize = 4;

pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Readers,
}

impl SqliteStore {
    /// Open (creating if needed) and migrate the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = connect(path)?;
        schema::migrate(&conn).map_err(|e| match e {
            StoreError::Backend(source) => open_error(path, source),
            other => other,
        })?;
        let writer = Writer::start(conn).map_err(|e| open_error(path, e))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer,
            readers: Readers::new(),
        })
    }

    /// Run `f` on a reader connection. At most `MAX_READERS` exist; callers wait for a
    /// free one rather than opening connections under load.
    fn read<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let conn = self.readers.take(&self.path)?;
        let result = f(&conn);
        self.readers.give_back(conn);
        result
    }
}

/// A bounded pool of reader connections, opened on first need.
struct Readers {
    state: Mutex<ReaderState>,
    freed: Condvar,
}

struct ReaderState {
    idle: Vec<Connection>,
    opened: usize,
}

impl Readers {
    fn new() -> Readers {
        Readers {
            state: Mutex::new(ReaderState {
                idle: Vec::new(),
                opened: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn take(&self, path: &Path) -> Result<Connection, StoreError> {
        let poisoned = |_| StoreError::Backend("reader pool lock poisoned".into());
        let mut state = self.state.lock().map_err(poisoned)?;
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(conn);
            }
            if state.opened < MAX_READERS {
                state.opened += 1;
                drop(state);
                let opened = connect(path);
                if opened.is_err()
                    && let Ok(mut state) = self.state.lock()
                {
                    state.opened -= 1;
                }
                return opened;
            }
            state = self.freed.wait(state).map_err(poisoned)?;
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut state) = self.state.lock() {
            state.idle.push(conn);
        }
        self.freed.notify_one();
    }
}

fn open_error(path: &Path, source: impl Into<BackendError>) -> StoreError {
    StoreError::Open {
        path: path.display().to_string(),
        source: source.into(),
    }
}

/// Why WAL mode could not be set up: the file system refused it.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up WAL mode (journal mode stays {0})")]
struct NoWal(String);

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| open_error(path, e))?;
    let setup = || -> Result<(), BackendError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Box::new(NoWal(mode)));
        }
        // FULL: a commit is fsynced before it returns, so an acknowledged answer survives
        // a power cut.
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        Ok(())
    };
    setup().map_err(|e| open_error(path, e))?;
    Ok(conn)
}

/// A principal from device id, user id, user name and role as stored.
fn principal_of(
    (device_id, user_id, user, role): (i64, i64, String, String),
) -> Result<Principal, StoreError> {
    Ok(Principal {
        user_id,
        device_id,
        user,
        role: role_of(&role)?,
    })
}

fn role_of(text: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt {
        what: "user role",
        source: format!("unknown role '{text}'").into(),
    })
}

impl Store for SqliteStore {
    fn put_user(
        &self,
        name: &str,
        role: Role,
        code_hash: &SecretHash,
        code_expires: i64,
        now: i64,
    ) -> Result<UserPut, StoreError> {
        let (name, code_hash) = (name.to_string(), *code_hash);
        self.writer
            .run(move |conn| catalogue::put_user(conn, &name, role, &code_hash, code_expires, now))
    }

    fn redeem_enrolment(
        &self,
        user: &str,
        code_hash: &SecretHash,
        device: &str,
        token_hash: &SecretHash,
        now: i64,
    ) -> Result<Role, StoreError> {
        // A wrong code is told on a reader: guessing never queues for the writer that
        // every sync shares. The writer checks again before using the code.
        if !self.read(|conn| catalogue::enrolment_matches(conn, user, code_hash, now))? {
            return Err(StoreError::BadEnrolment);
        }
        let (user, device) = (user.to_string(), device.to_string());
        let (code_hash, token_hash) = (*code_hash, *token_hash);
        self.writer.run(move |conn| {
            catalogue::redeem_enrolment(conn, &user, &code_hash, &device, &token_hash, now)
        })
    }

    fn authenticate(&self, token_hash: &SecretHash) -> Result<Option<Principal>, StoreError> {
        self.read(|conn| {
            let row = conn
                .prepare_cached(
                    "SELECT d.id, u.id, u.name, u.role FROM devices d \
                     JOIN users u ON u.id = d.user_id \
                     WHERE d.token_hash = ?1 AND d.revoked IS NULL \
                       AND u.disabled IS NULL AND u.removed IS NULL",
                )?
                .query_row([&token_hash[..]], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
                })
                .optional()?;
            row.map(principal_of).transpose()
        })
    }

    fn token_standing(&self, token_hash: &SecretHash) -> Result<TokenStanding, StoreError> {
        self.read(|conn| {
            let row = conn
                .prepare_cached(
                    "SELECT d.revoked, u.disabled, u.removed FROM devices d \
                     JOIN users u ON u.id = d.user_id WHERE d.token_hash = ?1",
                )?
                .query_row([&token_hash[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            Ok(TokenStanding::of(row))
        })
    }

    fn sync(
        &self,
        who: &Principal,
        request: SyncRequest,
        now: i64,
    ) -> Result<SyncResponse, StoreError> {
        let who = who.clone();
        self.writer
            .run(move |conn| scheduler::sync(&mut SqliteTx::new(conn), &who, &request, now))
    }

    fn users(&self) -> Result<Vec<UserSummary>, StoreError> {
        self.read(devices::users)
    }

    fn revoke_devices(&self, user: &str, device: Option<i64>, now: i64) -> Result<u64, StoreError> {
        let user = user.to_string();
        self.writer
            .run(move |conn| devices::revoke(conn, &user, device, now))
    }

    fn set_user_disabled(&self, user: &str, disabled: bool, now: i64) -> Result<bool, StoreError> {
        let user = user.to_string();
        self.writer
            .run(move |conn| devices::set_disabled(conn, &user, disabled, now))
    }

    fn remove_user(&self, user: &str, now: i64) -> Result<UserRemoved, StoreError> {
        let user = user.to_string();
        self.writer
            .run(move |conn| devices::remove(conn, &user, now))
    }

    fn project_counts(&self) -> Result<Vec<ProjectCounts>, StoreError> {
        self.read(catalogue::project_counts)
    }

    fn task_list(
        &self,
        project: &str,
        state: Option<TaskState>,
        limit: u32,
    ) -> Result<TaskList, StoreError> {
        self.read(|conn| catalogue::task_list(conn, project, state, limit))
    }

    fn add_ssh_key(
        &self,
        user: &str,
        key: &NewSshKey,
        device_token: &SecretHash,
        now: i64,
    ) -> Result<SshKeyAdded, StoreError> {
        let (user, key, token) = (user.to_string(), key.clone(), *device_token);
        self.writer
            .run(move |conn| ssh_keys::add(conn, &user, &key, &token, now))
    }

    fn ssh_keys(&self, user: &str) -> Result<Vec<SshKeySummary>, StoreError> {
        self.read(|conn| ssh_keys::list(conn, user))
    }

    fn remove_ssh_key(&self, user: &str, fingerprint: &str, now: i64) -> Result<(), StoreError> {
        let (user, fingerprint) = (user.to_string(), fingerprint.to_string());
        self.writer
            .run(move |conn| ssh_keys::remove(conn, &user, &fingerprint, now))
    }

    fn ssh_principal(&self, fingerprint: &str) -> Result<Option<Principal>, StoreError> {
        self.read(|conn| ssh_keys::principal(conn, fingerprint))
    }

    fn put_project(&self, project: &Project, now: i64) -> Result<ProjectAdded, StoreError> {
        let project = project.clone();
        self.writer
            .run(move |conn| catalogue::put_project(conn, &project, now))
    }

    fn project(&self, name: &str) -> Result<Option<Project>, StoreError> {
        self.read(|conn| catalogue::project(conn, name))
    }

    fn correct_gold(
        &self,
        project: &str,
        task: &str,
        gold: &crate::model::Gold,
        now: i64,
    ) -> Result<scheduler::gold::Correction, StoreError> {
        let (project, task, gold) = (project.to_string(), task.to_string(), gold.clone());
        self.writer
            .run(move |conn| gold::correct_gold(conn, &project, &task, &gold, now))
    }

    fn import_tasks(
        &self,
        project: &str,
        tasks: &mut TaskStream<'_>,
    ) -> Result<ImportCounts, StoreError> {
        // Its own connection: the import streams from the caller's file, which cannot
        // move to the writer thread. SQLite's write lock keeps it one writer at a time.
        let conn = connect(&self.path)?;
        catalogue::import_tasks(&conn, project, tasks)
    }

    fn put_training(
        &self,
        project: &str,
        tasks: &[super::training::NewTrainingTask],
    ) -> Result<super::training::TrainingCounts, StoreError> {
        let (project, tasks) = (project.to_string(), tasks.to_vec());
        self.writer
            .run(move |conn| training::put_training(conn, &project, &tasks))
    }

    fn export(
        &self,
        project: &str,
        each: &mut dyn FnMut(TaskRecord) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.read(|conn| catalogue::export(conn, project, each))
    }

    fn project_names(&self) -> Result<Vec<String>, StoreError> {
        self.read(aggregation::project_names)
    }

    fn latest_answer_id(&self) -> Result<i64, StoreError> {
        self.read(aggregation::latest_answer_id)
    }

    fn clip_wire(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT wire FROM clips WHERE hash = ?1")?
                .query_row([hash], |r| r.get(0))
                .optional()?)
        })
    }

    fn clip_original(&self, hash: &str) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT original, original_ext FROM clips WHERE hash = ?1")?
                .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
        })
    }

    fn aggregation_input(&self, project: &str) -> Result<AggregationInput, StoreError> {
        self.read(|conn| aggregation::input(conn, project))
    }

    fn record_decisions(&self, decisions: &[(i64, Decision)]) -> Result<(), StoreError> {
        let decisions = decisions.to_vec();
        self.writer
            .run(move |conn| aggregation::record_decisions(conn, &decisions))
    }

    fn review_enqueue(&self, item: &NewReviewItem, now: i64) -> Result<Option<i64>, StoreError> {
        let item = item.clone();
        self.writer
            .run(move |conn| scheduler::review::enqueue(&mut SqliteTx::new(conn), &item, now))
    }

    fn review_list(&self, filter: &ReviewFilter) -> Result<Vec<ReviewItem>, StoreError> {
        self.read(|conn| review::list(conn, filter))
    }

    fn review_take(
        &self,
        who: &Principal,
        which: &ReviewTake,
        now: i64,
    ) -> Reviewed<Option<Taken>> {
        let (who, which) = (who.clone(), which.clone());
        self.writer
            .run(move |conn| scheduler::review::take(&mut SqliteTx::new(conn), &who, &which, now))
    }

    fn review_release(&self, who: &Principal, item: i64, now: i64) -> Reviewed<()> {
        let who = who.clone();
        self.writer
            .run(move |conn| scheduler::review::release(&mut SqliteTx::new(conn), &who, item, now))
    }

    fn review_decide(
        &self,
        who: &Principal,
        decision: &ReviewDecision,
        now: i64,
    ) -> Reviewed<Decided> {
        let (who, decision) = (who.clone(), decision.clone());
        self.writer.run(move |conn| {
            scheduler::review::decide(&mut SqliteTx::new(conn), &who, &decision, now)
        })
    }

    fn assign_reviewer(&self, user: &str, project: &str, now: i64) -> Result<bool, StoreError> {
        let (user, project) = (user.to_string(), project.to_string());
        self.writer
            .run(move |conn| review::assign(conn, &user, &project, now))
    }

    fn put_intake_form(&self, form: &IntakeForm) -> Result<(), StoreError> {
        let form = form.clone();
        self.writer
            .run(move |conn| impact::put_intake_form(conn, &form))
    }

    fn intake_form(&self) -> Result<IntakeForm, StoreError> {
        self.read(impact::intake_form)
    }

    fn put_intake(&self, user: &str, intake: &Intake) -> Result<(), StoreError> {
        let (user, intake) = (user.to_string(), intake.clone());
        let now = crate::server::Clock::system().now();
        self.writer
            .run(move |conn| impact::put_intake(conn, &user, &intake, now))
    }

    fn intakes(&self) -> Result<Vec<(String, Intake)>, StoreError> {
        self.read(impact::intakes)
    }

    fn pseudonym_key(&self) -> Result<crate::server::pseudonym::PseudonymKey, StoreError> {
        self.writer.run(impact::pseudonym_key)
    }

    fn work_history(
        &self,
        user: Option<&str>,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(WorkItem) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.read(|conn| impact::work_history(conn, user, from, to, each))
    }

    fn qualifications(&self, user: Option<&str>) -> Result<Vec<Qualified>, StoreError> {
        self.read(|conn| impact::qualifications(conn, user))
    }

    fn class(
        &self,
        who: &Principal,
        request: &crate::protocol::ClassRequest,
        now: i64,
    ) -> scheduler::class::ClassResult {
        let (who, request) = (who.clone(), request.clone());
        self.writer.run(move |conn| {
            scheduler::class::handle(&mut SqliteTx::new(conn), &who, &request, now)
        })
    }

    fn class_report(&self, code: &str) -> Result<Option<crate::protocol::ClassReport>, StoreError> {
        let code = code.to_string();
        self.writer
            .run(move |conn| scheduler::class::report(&mut SqliteTx::new(conn), &code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another process holding the write lock past the busy timeout is "try again", not a
    /// failure to report: the HTTP layer answers it with 503 and the client retries.
    #[test]
    fn a_write_lock_held_elsewhere_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(SqliteStore::open(&path).unwrap());
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let waiter = Connection::open(&path).unwrap();
        waiter.busy_timeout(Duration::ZERO).unwrap();
        let e = StoreError::from(
            waiter
                .execute_batch("BEGIN IMMEDIATE")
                .expect_err("the lock is held"),
        );
        assert!(matches!(e, StoreError::Busy(_)), "{e:?}");
        assert!(e.is_retryable());

        holder.execute_batch("COMMIT").unwrap();
        let e = StoreError::from(waiter.execute_batch("NOT SQL").unwrap_err());
        assert!(matches!(e, StoreError::Backend(_)), "{e:?}");
        assert!(!e.is_retryable());
        assert!(std::error::Error::source(&e).is_some(), "the cause is kept");
    }
}
