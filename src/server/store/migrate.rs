//! `kazi admin migrate`: move a centre from its SQLite file to PostgreSQL, table by table
//! and column by column, keeping every id (device tokens, leases and answers of devices
//! in the field stay valid), in one PostgreSQL transaction that commits only once the
//! row counts and checksums of both sides agree.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::postgres::{Db, PostgresStore, shown_url};
use super::{Backend, SqliteStore, StoreError};

/// The centre's tables, parents before children. A table in the source that is not here
/// stops the migration: nothing is left behind silently.
pub const TABLES: &[&str] = &[
    "users",
    "enrolment_codes",
    "devices",
    "ssh_keys",
    "projects",
    "clips",
    "tasks",
    "prior_answers",
    "leases",
    "answers",
    "review_items",
    "review_assignments",
    "gold_mix",
    "gold_results",
    "feedback",
    "training_tasks",
    "exam_attempts",
    "qualifications",
    "classes",
    "class_students",
    "class_answers",
    "centre_settings",
    "intakes",
];

/// Bind parameters in one INSERT at most (PostgreSQL allows 65,535).
const MAX_PARAMS: usize = 30_000;
const MAX_BATCH_ROWS: usize = 1000;
/// Rows of audio (a clip holds its original file, up to megabytes) per INSERT: a batch
/// of a thousand would hold a centre's whole audio in memory.
const CLIP_BATCH_ROWS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("--from must be sqlite:PATH (the centre's database file)")]
    FromNotSqlite,
    #[error("--to must be postgres://... (the new database)")]
    ToNotPostgres,
    #[error("no SQLite database at {0}")]
    NoSource(String),
    #[error(
        "{target} already holds a centre ({rows} rows in {table}); \
         add --replace to empty it first"
    )]
    TargetNotEmpty {
        target: String,
        table: &'static str,
        rows: i64,
    },
    #[error("the source has tables this build cannot move ({0}); upgrade kazi")]
    UnknownTables(String),
    #[error("table {table} has other columns in SQLite ({sqlite}) than in PostgreSQL ({postgres})")]
    ColumnsDiffer {
        table: &'static str,
        sqlite: String,
        postgres: String,
    },
    #[error("{table}.{column} holds a value PostgreSQL's {pg_type} cannot take ({found})")]
    BadValue {
        table: &'static str,
        column: String,
        pg_type: String,
        found: String,
    },
    #[error("verification failed for {table}: {what}; nothing was committed")]
    Mismatch { table: &'static str, what: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading the SQLite source failed")]
    Source(#[source] rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Source(e)
    }
}

impl From<tokio_postgres::Error> for MigrateError {
    fn from(e: tokio_postgres::Error) -> Self {
        MigrateError::Store(e.into())
    }
}

/// What was moved: per table, its rows and the checksum both sides agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMoved {
    pub table: &'static str,
    pub rows: u64,
    /// SHA-256 of the rows in key order, hex.
    pub checksum: String,
}

/// Progress of a migration: the table, rows copied so far, rows in it.
pub type Progress<'a> = dyn FnMut(&'static str, u64, u64) + 'a;

/// Move the centre at `from` (sqlite:PATH) into `to` (postgres://...). The target is
/// migrated to this build's schema first; a target that already holds rows is refused
/// unless `replace`, which empties it in the same transaction.
pub fn migrate_centre(
    from: &str,
    to: &str,
    replace: bool,
    progress: &mut Progress<'_>,
) -> Result<Vec<TableMoved>, MigrateError> {
    let Ok(Backend::Sqlite(path)) = Backend::of(from) else {
        return Err(MigrateError::FromNotSqlite);
    };
    let Ok(Backend::Postgres(url)) = Backend::of(to) else {
        return Err(MigrateError::ToNotPostgres);
    };
    if !path.is_file() {
        return Err(MigrateError::NoSource(path.display().to_string()));
    }
    // Opening migrates each side to this build's schema.
    drop(SqliteStore::open(path)?);
    let target = PostgresStore::open(url)?;
    let source = open_source(path)?;
    check_tables(&source)?;
    // One read transaction: a snapshot, even if a server still writes to the file.
    source.execute_batch("BEGIN")?;
    let moved = target.with_db(|db| {
        db.transaction(|db| copy_all(&source, db, &shown_url(url), replace, progress))
    });
    let _ = source.execute_batch("COMMIT");
    moved
}

fn open_source(path: &Path) -> Result<rusqlite::Connection, MigrateError> {
    Ok(rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?)
}

fn check_tables(source: &rusqlite::Connection) -> Result<(), MigrateError> {
    let mut stmt = source.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name != 'schema_version' ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let unknown: Vec<String> = names
        .into_iter()
        .filter(|n| !TABLES.contains(&n.as_str()))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(MigrateError::UnknownTables(unknown.join(", ")))
    }
}

/// One table as both sides have it: columns in SQLite's order with PostgreSQL's type,
/// and the primary key that orders its rows.
struct TablePlan {
    table: &'static str,
    columns: Vec<(String, String)>,
    key: Vec<String>,
}

impl TablePlan {
    fn read(
        source: &rusqlite::Connection,
        db: &mut Db<'_>,
        table: &'static str,
    ) -> Result<TablePlan, MigrateError> {
        // Table names come from `TABLES`, never from input.
        let mut stmt = source.prepare(&format!("PRAGMA table_info({table})"))?;
        let mut sqlite: Vec<(String, i64)> = stmt
            .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))?
            .collect::<Result<_, _>>()?;
        let rows = db.query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&table],
        )?;
        let mut postgres = Vec::with_capacity(rows.len());
        for row in &rows {
            postgres.push((row.try_get::<_, String>(0)?, row.try_get::<_, String>(1)?));
        }
        let names = |cols: &mut dyn Iterator<Item = &String>| -> BTreeSet<String> {
            cols.cloned().collect()
        };
        let (in_sqlite, in_postgres) = (
            names(&mut sqlite.iter().map(|c| &c.0)),
            names(&mut postgres.iter().map(|c| &c.0)),
        );
        if in_sqlite != in_postgres {
            let list = |set: BTreeSet<String>| set.into_iter().collect::<Vec<_>>().join(", ");
            return Err(MigrateError::ColumnsDiffer {
                table,
                sqlite: list(in_sqlite),
                postgres: list(in_postgres),
            });
        }
        let mut key: Vec<(i64, String)> = sqlite
            .iter()
            .filter(|(_, pk)| *pk > 0)
            .map(|(name, pk)| (*pk, name.clone()))
            .collect();
        key.sort();
        let columns = sqlite
            .drain(..)
            .map(|(name, _)| {
                let pg_type = postgres
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                (name, pg_type)
            })
            .collect();
        Ok(TablePlan {
            table,
            columns,
            key: key.into_iter().map(|(_, name)| name).collect(),
        })
    }

    fn column_list(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(n, _)| n.as_str()).collect();
        names.join(", ")
    }

    fn select(&self) -> String {
        format!(
            "SELECT {} FROM {} ORDER BY {}",
            self.column_list(),
            self.table,
            self.key.join(", ")
        )
    }

    fn insert(&self, rows: usize) -> String {
        let width = self.columns.len();
        let values: Vec<String> = (0..rows)
            .map(|r| {
                let params: Vec<String> =
                    (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.table,
            self.column_list(),
            values.join(", ")
        )
    }
}

/// One value on its way from SQLite to PostgreSQL, typed as PostgreSQL's column is.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    fn from_sqlite(
        value: ValueRef<'_>,
        table: &'static str,
        (column, pg_type): &(String, String),
    ) -> Result<Cell, MigrateError> {
        let cell = match (pg_type.as_str(), value) {
            (_, ValueRef::Null) => Some(Cell::Null),
            ("bigint", ValueRef::Integer(i)) => Some(Cell::Int(i)),
            ("boolean", ValueRef::Integer(i @ (0 | 1))) => Some(Cell::Bool(i == 1)),
            ("double precision", ValueRef::Real(f)) => Some(Cell::Real(f)),
            ("double precision", ValueRef::Integer(i)) => Some(Cell::Real(i as f64)),
            ("text", ValueRef::Text(t)) => std::str::from_utf8(t)
                .ok()
                .map(|t| Cell::Text(t.to_string())),
            ("bytea", ValueRef::Blob(b)) => Some(Cell::Bytes(b.to_vec())),
            _ => None,
        };
        cell.ok_or_else(|| MigrateError::BadValue {
            table,
            column: column.clone(),
            pg_type: pg_type.clone(),
            found: format!("{:?}", value.data_type()),
        })
    }

    fn from_postgres(
        row: &tokio_postgres::Row,
        index: usize,
        pg_type: &str,
    ) -> Result<Cell, tokio_postgres::Error> {
        let cell = match pg_type {
            "bigint" => row.try_get::<_, Option<i64>>(index)?.map(Cell::Int),
            "boolean" => row.try_get::<_, Option<bool>>(index)?.map(Cell::Bool),
            "double precision" => row.try_get::<_, Option<f64>>(index)?.map(Cell::Real),
            "bytea" => row.try_get::<_, Option<Vec<u8>>>(index)?.map(Cell::Bytes),
            _ => row.try_get::<_, Option<String>>(index)?.map(Cell::Text),
        };
        Ok(cell.unwrap_or(Cell::Null))
    }

    /// Feed the checksum: a tag, then the value's bytes (lengths first, so no two rows
    /// render alike).
    fn digest(&self, hasher: &mut Sha256) {
        match self {
            Cell::Null => hasher.update(b"n"),
            Cell::Int(i) => {
                hasher.update(b"i");
                hasher.update(i.to_le_bytes());
            }
            Cell::Bool(b) => hasher.update(if *b { b"T" } else { b"F" }),
            Cell::Real(f) => {
                hasher.update(b"r");
                hasher.update(f.to_bits().to_le_bytes());
            }
            Cell::Text(t) => {
                hasher.update(b"t");
                hasher.update((t.len() as u64).to_le_bytes());
                hasher.update(t.as_bytes());
            }
            Cell::Bytes(b) => {
                hasher.update(b"x");
                hasher.update((b.len() as u64).to_le_bytes());
                hasher.update(b);
            }
        }
    }
}

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(v) => v.to_sql(ty, out),
            Cell::Bool(v) => v.to_sql(ty, out),
            Cell::Real(v) => v.to_sql(ty, out),
            Cell::Text(v) => v.to_sql(ty, out),
            Cell::Bytes(v) => v.to_sql(ty, out),
        }
    }

    /// The column's type was checked against the value when the cell was made.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn copy_all(
    source: &rusqlite::Connection,
    db: &mut Db<'_>,
    target: &str,
    replace: bool,
    progress: &mut Progress<'_>,
) -> Result<Vec<TableMoved>, MigrateError> {
    let mut plans = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        plans.push(TablePlan::read(source, db, table)?);
    }
    for table in TABLES {
        let rows: i64 = db
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
            .try_get(0)?;
        if rows > 0 && !replace {
            return Err(MigrateError::TargetNotEmpty {
                target: target.to_string(),
                table,
                rows,
            });
        }
    }
    if replace {
        db.batch(&format!(
            "TRUNCATE {} RESTART IDENTITY CASCADE",
            TABLES.join(", ")
        ))?;
    }
    // An answer is copied before the later answer that replaced it.
    db.batch("SET CONSTRAINTS ALL DEFERRED")?;
    let mut moved = Vec::with_capacity(plans.len());
    for plan in &plans {
        moved.push(copy_table(source, db, plan, progress)?);
        if plan.columns.iter().any(|(name, _)| name == "id") {
            restart_ids(db, plan.table)?;
        }
    }
    for (plan, copied) in plans.iter().zip(&moved) {
        verify(db, plan, copied)?;
    }
    Ok(moved)
}

fn copy_table(
    source: &rusqlite::Connection,
    db: &mut Db<'_>,
    plan: &TablePlan,
    progress: &mut Progress<'_>,
) -> Result<TableMoved, MigrateError> {
    let total: i64 =
        source.query_row(&format!("SELECT COUNT(*) FROM {}", plan.table), [], |r| {
            r.get(0)
        })?;
    let total = total as u64;
    progress(plan.table, 0, total);
    let width = plan.columns.len();
    let most = if plan.table == "clips" {
        CLIP_BATCH_ROWS
    } else {
        MAX_BATCH_ROWS
    };
    let batch_rows = (MAX_PARAMS / width.max(1)).clamp(1, most);
    let mut stmt = source.prepare(&plan.select())?;
    let mut rows = stmt.query([])?;
    let mut hasher = Sha256::new();
    let (mut batch, mut done) = (Vec::with_capacity(batch_rows * width), 0u64);
    let flush = |db: &mut Db<'_>, batch: &mut Vec<Cell>| -> Result<(), MigrateError> {
        if batch.is_empty() {
            return Ok(());
        }
        let params: Vec<&(dyn ToSql + Sync)> =
            batch.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
        db.execute(&plan.insert(batch.len() / width), &params)?;
        batch.clear();
        Ok(())
    };
    while let Some(row) = rows.next()? {
        for (i, column) in plan.columns.iter().enumerate() {
            let cell = Cell::from_sqlite(row.get_ref(i)?, plan.table, column)?;
            cell.digest(&mut hasher);
            batch.push(cell);
        }
        done += 1;
        if batch.len() >= batch_rows * width {
            flush(db, &mut batch)?;
            progress(plan.table, done, total);
        }
    }
    flush(db, &mut batch)?;
    progress(plan.table, done, total);
    Ok(TableMoved {
        table: plan.table,
        rows: done,
        checksum: hex(&hasher.finalize()),
    })
}

/// New rows made on PostgreSQL take ids after the copied ones.
fn restart_ids(db: &mut Db<'_>, table: &'static str) -> Result<(), MigrateError> {
    let sequence = db.query_one("SELECT pg_get_serial_sequence($1, 'id')", &[&table])?;
    let sequence: Option<String> = sequence.try_get(0)?;
    if let Some(sequence) = sequence {
        db.execute(
            &format!(
                "SELECT setval($1::text::regclass, (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            ),
            &[&sequence],
        )?;
    }
    Ok(())
}

/// Read the table back from PostgreSQL: the same rows in the same order must give the
/// same count and checksum.
fn verify(db: &mut Db<'_>, plan: &TablePlan, copied: &TableMoved) -> Result<(), MigrateError> {
    use futures_util::TryStreamExt;
    let select = plan.select();
    let (rows, checksum) = db.with_client(|runtime, client| {
        runtime.block_on(async {
            let stream = client
                .query_raw(select.as_str(), std::iter::empty::<i64>())
                .await?;
            futures_util::pin_mut!(stream);
            let mut hasher = Sha256::new();
            let mut rows = 0u64;
            while let Some(row) = stream.try_next().await? {
                for (i, (_, pg_type)) in plan.columns.iter().enumerate() {
                    Cell::from_postgres(&row, i, pg_type)?.digest(&mut hasher);
                }
                rows += 1;
            }
            Ok::<_, tokio_postgres::Error>((rows, hex(&hasher.finalize())))
        })
    })??;
    if rows != copied.rows {
        return Err(MigrateError::Mismatch {
            table: plan.table,
            what: format!("{} rows in SQLite, {rows} in PostgreSQL", copied.rows),
        });
    }
    if checksum != copied.checksum {
        return Err(MigrateError::Mismatch {
            table: plan.table,
            what: "the checksums differ".into(),
        });
    }
    Ok(())
}
