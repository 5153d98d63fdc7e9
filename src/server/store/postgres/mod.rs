//! The PostgreSQL store: one database shared by any number of `kazi serve` instances.
//! A pool of tokio-postgres connections driven by the store's own small runtime, so the
//! synchronous `Store` can be called from any blocking thread; its own migrations; each
//! sync one READ COMMITTED transaction, retried a bounded number of times when it loses
//! a race (serialization failure, deadlock).

mod aggregation;
mod catalogue;
mod class;
pub(super) mod db;
mod devices;
mod gold;
mod impact;
mod review;
mod schema;
mod ssh_keys;
mod sync_tx;
mod training;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;

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
pub(super) use db::Db;
use db::get;
use sync_tx::PgTx;

/// Connections one instance opens at most. Three instances stay well inside PostgreSQL's
/// default of 100; callers beyond it wait for a free one.
const POOL_SIZE: usize = 16;
/// How long a caller waits for a pooled connection before the request is "busy".
const POOL_WAIT: Duration = Duration::from_secs(30);
/// Tries of one write that loses a race (a sync, a revocation, a batch of decisions)
/// before the caller is told to come back.
const WRITE_TRIES: u32 = 6;

impl From<tokio_postgres::Error> for StoreError {
    /// A lost race (serialization failure, deadlock) or a dropped connection is worth
    /// trying again: the transaction was rolled back, so nothing was stored.
    fn from(e: tokio_postgres::Error) -> Self {
        let lost_race = matches!(
            e.code(),
            Some(&SqlState::T_R_SERIALIZATION_FAILURE) | Some(&SqlState::T_R_DEADLOCK_DETECTED)
        );
        if lost_race || e.is_closed() {
            StoreError::Busy(Box::new(e))
        } else {
            StoreError::Backend(Box::new(e))
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        use deadpool_postgres::PoolError;
        match e {
            PoolError::Backend(e) => e.into(),
            // No free connection in time, or the database refused a new one: try again.
            other => StoreError::Busy(Box::new(other)),
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

fn role_of(text: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt {
        what: "user role",
        source: format!("unknown role '{text}'").into(),
    })
}

pub struct PostgresStore {
    pool: Pool,
    /// Drives the pool's connections; callers block on it from their own threads.
    runtime: Option<tokio::runtime::Runtime>,
}

impl PostgresStore {
    /// Connect to the database a `postgres://` URL names and migrate it.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let shown = shown_url(url);
        let open_error = |source: BackendError| StoreError::Open {
            path: shown.clone(),
            source,
        };
        let config: tokio_postgres::Config = url.parse().map_err(|e| open_error(Box::new(e)))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kazi-pg")
            .enable_all()
            .build()
            .map_err(|e| open_error(Box::new(e)))?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| open_error(Box::new(e)))?;
        let store = PostgresStore {
            pool,
            runtime: Some(runtime),
        };
        store.with_db(schema::migrate).map_err(|e| match e {
            StoreError::Backend(source) | StoreError::Busy(source) => open_error(source),
            other => other,
        })?;
        Ok(store)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        // Only `Drop` takes it.
        self.runtime
            .as_ref()
            .expect("runtime lives as long as the store")
    }

    /// Run `f` on a pooled connection. A connection left inside a transaction is not
    /// given back to the pool (see `Db`'s `Drop`).
    pub(super) fn with_db<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Db<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let runtime = self.runtime();
        let client = runtime
            .block_on(self.pool.get())
            .map_err(StoreError::from)?;
        f(&mut Db::new(runtime, client))
    }

    /// Run `f` in one transaction on a pooled connection: committed when it returns `Ok`,
    /// rolled back otherwise.
    fn transaction<R>(
        &self,
        f: impl FnOnce(&mut Db<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.with_db(|db| db.transaction(f))
    }

    /// `transaction`, tried again after a short pause when it loses a race with another
    /// instance (nothing of a lost try was stored).
    fn transaction_retried<R>(
        &self,
        mut f: impl FnMut(&mut Db<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut attempt = 0;
        loop {
            match self.transaction(&mut f) {
                Err(e) if e.is_retryable() && attempt + 1 < WRITE_TRIES => {
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // The store may be dropped inside another runtime (the server's); a runtime can
        // only be dropped there without waiting.
        if let Some(runtime) = self.runtime.take() {
            self.pool.close();
            runtime.shutdown_background();
        }
    }
}

/// The URL as shown in messages: without its password.
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(name, _)| name);
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_string(),
    }
}

/// A short pause before trying a sync again, growing with each try and jittered so that
/// transactions that collided do not collide again.
fn backoff(attempt: u32) -> Duration {
    let mut noise = [0u8; 2];
    let jitter = match getrandom::fill(&mut noise) {
        Ok(()) => u64::from(u16::from_le_bytes(noise) % 20),
        Err(_) => 10,
    };
    Duration::from_millis(5u64 * (1 << attempt.min(5)) + jitter)
}

impl Store for PostgresStore {
    fn put_user(
        &self,
        name: &str,
        role: Role,
        code_hash: &SecretHash,
        code_expires: i64,
        now: i64,
    ) -> Result<UserPut, StoreError> {
        self.transaction(|db| catalogue::put_user(db, name, role, code_hash, code_expires, now))
    }

    fn redeem_enrolment(
        &self,
        user: &str,
        code_hash: &SecretHash,
        device: &str,
        token_hash: &SecretHash,
        now: i64,
    ) -> Result<Role, StoreError> {
        self.transaction(|db| {
            catalogue::redeem_enrolment(db, user, code_hash, device, token_hash, now)
        })
    }

    fn authenticate(&self, token_hash: &SecretHash) -> Result<Option<Principal>, StoreError> {
        self.with_db(|db| catalogue::authenticate(db, token_hash))
    }

    fn token_standing(&self, token_hash: &SecretHash) -> Result<TokenStanding, StoreError> {
        self.with_db(|db| catalogue::token_standing(db, token_hash))
    }

    fn sync(
        &self,
        who: &Principal,
        request: SyncRequest,
        now: i64,
    ) -> Result<SyncResponse, StoreError> {
        self.transaction_retried(|db| {
            // One sync per worker at a time across every instance: the scheduler's reads
            // of this worker's own answers and leases stay true until commit.
            db.execute(
                "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
                &[&who.user_id],
            )?;
            scheduler::sync(&mut PgTx::new(db), who, &request, now)
        })
    }

    fn users(&self) -> Result<Vec<UserSummary>, StoreError> {
        self.with_db(devices::users)
    }

    fn revoke_devices(&self, user: &str, device: Option<i64>, now: i64) -> Result<u64, StoreError> {
        self.transaction_retried(|db| devices::revoke(db, user, device, now))
    }

    fn set_user_disabled(&self, user: &str, disabled: bool, now: i64) -> Result<bool, StoreError> {
        self.transaction_retried(|db| devices::set_disabled(db, user, disabled, now))
    }

    fn remove_user(&self, user: &str, now: i64) -> Result<UserRemoved, StoreError> {
        self.transaction_retried(|db| devices::remove(db, user, now))
    }

    fn project_counts(&self) -> Result<Vec<ProjectCounts>, StoreError> {
        self.with_db(catalogue::project_counts)
    }

    fn task_list(
        &self,
        project: &str,
        state: Option<TaskState>,
        limit: u32,
    ) -> Result<TaskList, StoreError> {
        self.with_db(|db| catalogue::task_list(db, project, state, limit))
    }
    fn add_ssh_key(
        &self,
        user: &str,
        key: &NewSshKey,
        device_token: &SecretHash,
        now: i64,
    ) -> Result<SshKeyAdded, StoreError> {
        self.transaction(|db| ssh_keys::add(db, user, key, device_token, now))
    }

    fn ssh_keys(&self, user: &str) -> Result<Vec<SshKeySummary>, StoreError> {
        self.with_db(|db| ssh_keys::list(db, user))
    }

    fn remove_ssh_key(&self, user: &str, fingerprint: &str, now: i64) -> Result<(), StoreError> {
        self.transaction_retried(|db| ssh_keys::remove(db, user, fingerprint, now))
    }

    fn ssh_principal(&self, fingerprint: &str) -> Result<Option<Principal>, StoreError> {
        self.with_db(|db| ssh_keys::principal(db, fingerprint))
    }

    fn put_project(&self, project: &Project, now: i64) -> Result<ProjectAdded, StoreError> {
        self.transaction(|db| catalogue::put_project(db, project, now))
    }

    fn project(&self, name: &str) -> Result<Option<Project>, StoreError> {
        self.with_db(|db| catalogue::project(db, name))
    }

    fn correct_gold(
        &self,
        project: &str,
        task: &str,
        gold: &crate::model::Gold,
        now: i64,
    ) -> Result<scheduler::gold::Correction, StoreError> {
        self.transaction_retried(|db| gold::correct_gold(db, project, task, gold, now))
    }

    fn import_tasks(
        &self,
        project: &str,
        tasks: &mut TaskStream<'_>,
    ) -> Result<ImportCounts, StoreError> {
        self.transaction(|db| catalogue::import_tasks(db, project, tasks))
    }

    fn put_training(
        &self,
        project: &str,
        tasks: &[super::training::NewTrainingTask],
    ) -> Result<super::training::TrainingCounts, StoreError> {
        self.transaction(|db| training::put_training(db, project, tasks))
    }

    fn export(
        &self,
        project: &str,
        each: &mut dyn FnMut(TaskRecord) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.with_db(|db| catalogue::export(db, project, each))
    }

    fn project_names(&self) -> Result<Vec<String>, StoreError> {
        self.with_db(aggregation::project_names)
    }

    fn latest_answer_id(&self) -> Result<i64, StoreError> {
        self.with_db(aggregation::latest_answer_id)
    }

    fn clip_wire(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_db(|db| {
            db.query_opt("SELECT wire FROM clips WHERE hash = $1", &[&hash])?
                .map(|row| get(&row, 0))
                .transpose()
        })
    }

    fn clip_original(&self, hash: &str) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        self.with_db(|db| {
            db.query_opt(
                "SELECT original, original_ext FROM clips WHERE hash = $1",
                &[&hash],
            )?
            .map(|row| Ok((get(&row, 0)?, get(&row, 1)?)))
            .transpose()
        })
    }

    fn aggregation_input(&self, project: &str) -> Result<AggregationInput, StoreError> {
        // Two statements (the project, then its answers) from one snapshot.
        self.with_db(|db| {
            db.transaction_as("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", |db| {
                aggregation::input(db, project)
            })
        })
    }

    fn record_decisions(&self, decisions: &[(i64, Decision)]) -> Result<(), StoreError> {
        self.transaction_retried(|db| aggregation::record_decisions(db, decisions))
    }

    fn review_enqueue(&self, item: &NewReviewItem, now: i64) -> Result<Option<i64>, StoreError> {
        self.transaction_retried(|db| scheduler::review::enqueue(&mut PgTx::new(db), item, now))
    }

    fn review_list(&self, filter: &ReviewFilter) -> Result<Vec<ReviewItem>, StoreError> {
        self.with_db(|db| review::list(db, filter))
    }

    fn review_take(
        &self,
        who: &Principal,
        which: &ReviewTake,
        now: i64,
    ) -> Reviewed<Option<Taken>> {
        self.transaction_retried(|db| scheduler::review::take(&mut PgTx::new(db), who, which, now))
    }

    fn review_release(&self, who: &Principal, item: i64, now: i64) -> Reviewed<()> {
        self.transaction_retried(|db| {
            scheduler::review::release(&mut PgTx::new(db), who, item, now)
        })
    }

    fn review_decide(
        &self,
        who: &Principal,
        decision: &ReviewDecision,
        now: i64,
    ) -> Reviewed<Decided> {
        self.transaction_retried(|db| {
            scheduler::review::decide(&mut PgTx::new(db), who, decision, now)
        })
    }

    fn assign_reviewer(&self, user: &str, project: &str, now: i64) -> Result<bool, StoreError> {
        self.transaction_retried(|db| review::assign(db, user, project, now))
    }

    fn put_intake_form(&self, form: &IntakeForm) -> Result<(), StoreError> {
        self.transaction(|db| impact::put_intake_form(db, form))
    }

    fn intake_form(&self) -> Result<IntakeForm, StoreError> {
        self.with_db(impact::intake_form)
    }

    fn put_intake(&self, user: &str, intake: &Intake) -> Result<(), StoreError> {
        let now = crate::server::Clock::system().now();
        self.transaction(|db| impact::put_intake(db, user, intake, now))
    }

    fn intakes(&self) -> Result<Vec<(String, Intake)>, StoreError> {
        self.with_db(impact::intakes)
    }

    fn pseudonym_key(&self) -> Result<crate::server::pseudonym::PseudonymKey, StoreError> {
        self.transaction_retried(impact::pseudonym_key)
    }

    fn work_history(
        &self,
        user: Option<&str>,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(WorkItem) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        self.with_db(|db| impact::work_history(db, user, from, to, each))
    }

    fn qualifications(&self, user: Option<&str>) -> Result<Vec<Qualified>, StoreError> {
        self.with_db(|db| impact::qualifications(db, user))
    }

    fn class(
        &self,
        who: &Principal,
        request: &crate::protocol::ClassRequest,
        now: i64,
    ) -> scheduler::class::ClassResult {
        self.transaction_retried(|db| {
            scheduler::class::handle(&mut PgTx::new(db), who, request, now)
        })
    }

    fn class_report(&self, code: &str) -> Result<Option<crate::protocol::ClassReport>, StoreError> {
        self.transaction_retried(|db| scheduler::class::report(&mut PgTx::new(db), code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(
            shown_url("postgres://kazi:s3cret@db.centre:5432/kazi"),
            "postgres://kazi@db.centre:5432/kazi"
        );
        assert_eq!(
            shown_url("postgres://db.centre/kazi"),
            "postgres://db.centre/kazi"
        );
    }

    /// A fresh schema on the `KAZI_TEST_PG` database, and the URL that reaches it.
    /// Without `KAZI_TEST_PG`, a loud skip (straight to stderr, which the harness does not
    /// capture) and `None`.
    fn test_schema() -> Option<(String, String)> {
        let Some(base) = std::env::var("KAZI_TEST_PG").ok().filter(|u| !u.is_empty()) else {
            use std::io::Write;
            let _ = std::io::stderr()
                .write_all(b"\n*** SKIPPED: PostgreSQL unit test (set KAZI_TEST_PG) ***\n");
            return None;
        };
        let name = format!(
            "kazi_unit_{}_{}",
            std::process::id(),
            getrandom::u32().ok()?
        );
        admin_sql(&base, &format!("CREATE SCHEMA {name}"));
        let sep = if base.contains('?') { '&' } else { '?' };
        Some((format!("{base}{sep}options=-csearch_path%3D{name}"), name))
    }

    fn admin_sql(url: &str, sql: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let driver = tokio::spawn(conn);
            client.batch_execute(sql).await.unwrap();
            drop(client);
            let _ = driver.await;
        });
    }

    /// A panic between BEGIN and COMMIT must not hand the open transaction to the next
    /// caller: its work would join (and commit with) someone else's.
    #[test]
    fn a_panic_mid_transaction_does_not_leak_the_transaction() {
        let Some((url, schema)) = test_schema() else {
            return;
        };
        let store = PostgresStore::open(&url).unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = store.transaction(|db| {
                db.batch("CREATE TABLE leak_probe (n BIGINT)")?;
                panic!("a bug mid-transaction");
                #[allow(unreachable_code)]
                Ok(())
            });
        }));
        assert!(panicked.is_err());
        for _ in 0..POOL_SIZE {
            let seen = store
                .with_db(|db| {
                    let row = db.query_one(
                        "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'leak_probe'",
                        &[],
                    )?;
                    db::get::<i64>(&row, 0)
                })
                .unwrap();
            assert_eq!(seen, 0, "a later caller saw the abandoned transaction");
        }
        drop(store);
        let base = url.split('?').next().unwrap().to_string();
        admin_sql(&base, &format!("DROP SCHEMA {schema} CASCADE"));
    }

    /// Two transactions that lock rows in opposite orders: PostgreSQL aborts one, and that
    /// is "try again" (the sync is retried), while a plain SQL error is not.
    #[test]
    fn a_deadlock_is_busy_and_other_errors_are_not() {
        let Some((url, schema)) = test_schema() else {
            return;
        };
        admin_sql(
            &url,
            "CREATE TABLE rows (n BIGINT PRIMARY KEY); INSERT INTO rows VALUES (1), (2)",
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let errors: Vec<StoreError> = rt.block_on(async {
            let connect = || async {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client
            };
            let (a, b) = (connect().await, connect().await);
            let lock = "SELECT n FROM rows WHERE n = $1 FOR UPDATE";
            a.batch_execute("BEGIN").await.unwrap();
            b.batch_execute("BEGIN").await.unwrap();
            a.query(lock, &[&1i64]).await.unwrap();
            b.query(lock, &[&2i64]).await.unwrap();
            let (ra, rb) = tokio::join!(a.query(lock, &[&2i64]), b.query(lock, &[&1i64]));
            let mut errors: Vec<StoreError> = [ra.err(), rb.err()]
                .into_iter()
                .flatten()
                .map(StoreError::from)
                .collect();
            let _ = a.batch_execute("ROLLBACK").await;
            let _ = b.batch_execute("ROLLBACK").await;
            errors.push(a.batch_execute("NOT SQL").await.unwrap_err().into());
            errors
        });
        assert_eq!(errors.len(), 2, "one of the two is aborted: {errors:?}");
        assert!(errors[0].is_retryable(), "{:?}", errors[0]);
        assert!(!errors[1].is_retryable(), "{:?}", errors[1]);
        assert!(
            std::error::Error::source(&errors[1]).is_some(),
            "the cause is kept"
        );
        drop(rt);
        let base = url.split('?').next().unwrap().to_string();
        admin_sql(&base, &format!("DROP SCHEMA {schema} CASCADE"));
    }

    #[test]
    fn a_bad_url_is_refused_before_connecting() {
        let e = PostgresStore::open("postgres://user:pw@host:notaport/db")
            .err()
            .expect("refused");
        let text = e.to_string();
        assert!(matches!(e, StoreError::Open { .. }), "{e:?}");
        assert!(!text.contains("pw"), "{text}");
    }
}
