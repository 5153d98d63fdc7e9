//! Class sessions on SQLite, as the scheduler's `ClassTx`: classes, their students and
//! the students' answers. No rule lives here.

use rusqlite::{OptionalExtension, Row, params};

use super::sync_tx::SqliteTx;
use crate::server::store::StoreError;
use crate::server::store::class::{
    ClassStudent, ClassTx, NewClass, StoredClass, StoredClassAnswer,
};
use crate::server::store::training::{items_json, parse_items};

/// Appended to the store's migrations: the class tables.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE classes (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    trainer_id INTEGER NOT NULL REFERENCES users(id),
    lessons TEXT NOT NULL,
    items TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    revealed INTEGER NOT NULL DEFAULT 0,
    step_at INTEGER NOT NULL,
    started INTEGER NOT NULL,
    ended INTEGER
);
CREATE INDEX classes_open ON classes(trainer_id) WHERE ended IS NULL;
CREATE TABLE class_students (
    class_id INTEGER NOT NULL REFERENCES classes(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    joined INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (class_id, user_id)
) WITHOUT ROWID;
CREATE TABLE class_answers (
    class_id INTEGER NOT NULL REFERENCES classes(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    device_id INTEGER NOT NULL,
    client_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    value TEXT NOT NULL,
    correct INTEGER NOT NULL,
    took INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (class_id, device_id, client_id)
) WITHOUT ROWID;
"#;

const CLASS_COLUMNS: &str = "c.id, c.code, c.project_id, p.name, c.trainer_id, c.lessons, \
     c.items, c.step, c.revealed, c.step_at, c.started, c.ended \
     FROM classes c JOIN projects p ON p.id = c.project_id";

type RawClass = (StoredClass, String);

fn class_of(r: &Row<'_>) -> rusqlite::Result<RawClass> {
    Ok((
        StoredClass {
            id: r.get(0)?,
            code: r.get(1)?,
            project_id: r.get(2)?,
            project: r.get(3)?,
            trainer_id: r.get(4)?,
            lessons: r.get(5)?,
            items: Vec::new(),
            step: r.get(7)?,
            revealed: r.get(8)?,
            step_at: r.get(9)?,
            started: r.get(10)?,
            ended: r.get(11)?,
        },
        r.get(6)?,
    ))
}

fn parsed((mut class, items): RawClass) -> Result<StoredClass, StoreError> {
    class.items = parse_items(&items)?;
    Ok(class)
}

fn answer_of(r: &Row<'_>) -> rusqlite::Result<StoredClassAnswer> {
    Ok(StoredClassAnswer {
        user_id: r.get(0)?,
        id: r.get::<_, i64>(1)? as u64,
        step: r.get(2)?,
        value: r.get(3)?,
        correct: r.get(4)?,
        took: r.get(5)?,
        at: r.get(6)?,
        device_id: r.get(7)?,
    })
}

fn student_of(r: &Row<'_>) -> rusqlite::Result<ClassStudent> {
    Ok(ClassStudent {
        user_id: r.get(0)?,
        name: r.get(1)?,
        joined: r.get(2)?,
        last_seen: r.get(3)?,
        step: r.get(4)?,
    })
}

const STUDENT_COLUMNS: &str = "s.user_id, u.name, s.joined, s.last_seen, s.step \
     FROM class_students s JOIN users u ON u.id = s.user_id";

/// Ids are sequence numbers from 1; one beyond i64 cannot be stored, and is refused as
/// the corrupt row it would be.
fn client_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|e| StoreError::Corrupt {
        what: "class answer id",
        source: Box::new(e),
    })
}

impl ClassTx for SqliteTx<'_> {
    fn insert_class(&mut self, class: &NewClass<'_>) -> Result<Option<i64>, StoreError> {
        let inserted = self
            .conn()
            .prepare_cached(
                "INSERT INTO classes \
                   (code, project_id, trainer_id, lessons, items, step_at, started) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (code) DO NOTHING",
            )?
            .execute(params![
                class.code,
                class.project_id,
                class.trainer_id,
                class.lessons,
                items_json(class.items),
                class.at
            ])?;
        Ok((inserted == 1).then(|| self.conn().last_insert_rowid()))
    }

    fn class_by_code(&mut self, code: &str) -> Result<Option<StoredClass>, StoreError> {
        let sql = format!("SELECT {CLASS_COLUMNS} WHERE c.code = ?1");
        let raw = self
            .conn()
            .prepare_cached(&sql)?
            .query_row([code], class_of)
            .optional()?;
        raw.map(parsed).transpose()
    }

    fn open_classes(&mut self, trainer: Option<i64>) -> Result<Vec<StoredClass>, StoreError> {
        let sql = format!(
            "SELECT {CLASS_COLUMNS} WHERE c.ended IS NULL \
             AND (?1 IS NULL OR c.trainer_id = ?1) ORDER BY c.id"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt
            .query_map([trainer], class_of)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(parsed).collect()
    }

    fn set_class_step(
        &mut self,
        class: i64,
        step: u32,
        revealed: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "UPDATE classes SET step = ?2, revealed = ?3, step_at = ?4 WHERE id = ?1",
            )?
            .execute(params![class, step, revealed, at])?;
        Ok(())
    }

    fn end_class(&mut self, class: i64, at: i64) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("UPDATE classes SET ended = ?2 WHERE id = ?1 AND ended IS NULL")?
            .execute([class, at])?;
        Ok(())
    }

    fn join_class(&mut self, class: i64, user_id: i64, at: i64) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO class_students (class_id, user_id, joined, last_seen) \
                 VALUES (?1, ?2, ?3, ?3) ON CONFLICT (class_id, user_id) DO NOTHING",
            )?
            .execute([class, user_id, at])?;
        Ok(())
    }

    fn class_student(
        &mut self,
        class: i64,
        user_id: i64,
    ) -> Result<Option<ClassStudent>, StoreError> {
        let sql = format!("SELECT {STUDENT_COLUMNS} WHERE s.class_id = ?1 AND s.user_id = ?2");
        Ok(self
            .conn()
            .prepare_cached(&sql)?
            .query_row([class, user_id], student_of)
            .optional()?)
    }

    fn touch_student(
        &mut self,
        class: i64,
        user_id: i64,
        step: u32,
        at: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "UPDATE class_students SET last_seen = MAX(last_seen, ?3), step = MAX(step, ?4) \
                 WHERE class_id = ?1 AND user_id = ?2",
            )?
            .execute(params![class, user_id, at, step])?;
        Ok(())
    }

    fn class_students(&mut self, class: i64) -> Result<Vec<ClassStudent>, StoreError> {
        let sql = format!("SELECT {STUDENT_COLUMNS} WHERE s.class_id = ?1 ORDER BY u.name");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map([class], student_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn insert_class_answer(
        &mut self,
        class: i64,
        answer: &StoredClassAnswer,
    ) -> Result<bool, StoreError> {
        let inserted = self
            .conn()
            .prepare_cached(
                "INSERT INTO class_answers \
                   (class_id, user_id, device_id, client_id, step, value, correct, took, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (class_id, device_id, client_id) DO NOTHING",
            )?
            .execute(params![
                class,
                answer.user_id,
                answer.device_id,
                client_id(answer.id)?,
                answer.step,
                answer.value,
                answer.correct,
                answer.took,
                answer.at
            ])?;
        Ok(inserted == 1)
    }

    fn class_answers(
        &mut self,
        class: i64,
        user_id: Option<i64>,
    ) -> Result<Vec<StoredClassAnswer>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT user_id, client_id, step, value, correct, took, at, device_id \
             FROM class_answers \
             WHERE class_id = ?1 AND (?2 IS NULL OR user_id = ?2) ORDER BY user_id, at, device_id, client_id",
        )?;
        let rows = stmt.query_map(params![class, user_id], answer_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
