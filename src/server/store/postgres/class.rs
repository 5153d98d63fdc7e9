//! Class sessions on PostgreSQL, as the scheduler's `ClassTx`, mirroring SQLite's:
//! classes, their students and the students' answers. A class's row is read `FOR
//! UPDATE`, so a trainer's step and students' presence on several instances queue on it.
//! No rule lives here.

use tokio_postgres::Row;

use super::db::get;
use super::sync_tx::PgTx;
use crate::server::store::StoreError;
use crate::server::store::class::{
    ClassStudent, ClassTx, NewClass, StoredClass, StoredClassAnswer,
};
use crate::server::store::training::{items_json, parse_items};

/// Appended to the store's migrations: the class tables.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE classes (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    trainer_id BIGINT NOT NULL REFERENCES users(id),
    lessons TEXT NOT NULL,
    items TEXT NOT NULL,
    step BIGINT NOT NULL DEFAULT 0,
    revealed BOOLEAN NOT NULL DEFAULT FALSE,
    step_at BIGINT NOT NULL,
    started BIGINT NOT NULL,
    ended BIGINT
);
CREATE INDEX classes_open ON classes(trainer_id) WHERE ended IS NULL;
CREATE TABLE class_students (
    class_id BIGINT NOT NULL REFERENCES classes(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    joined BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    step BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (class_id, user_id)
);
CREATE TABLE class_answers (
    class_id BIGINT NOT NULL REFERENCES classes(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    device_id BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    step BIGINT NOT NULL,
    value TEXT NOT NULL,
    correct BOOLEAN NOT NULL,
    took BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (class_id, device_id, client_id)
);
"#;

const CLASS_COLUMNS: &str = "c.id, c.code, c.project_id, p.name, c.trainer_id, c.lessons, \
     c.items, c.step, c.revealed, c.step_at, c.started, c.ended \
     FROM classes c JOIN projects p ON p.id = c.project_id";

fn small(n: i64, what: &'static str) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|e| StoreError::Corrupt {
        what,
        source: Box::new(e),
    })
}

fn class_of(r: &Row) -> Result<StoredClass, StoreError> {
    Ok(StoredClass {
        id: get(r, 0)?,
        code: get(r, 1)?,
        project_id: get(r, 2)?,
        project: get(r, 3)?,
        trainer_id: get(r, 4)?,
        lessons: get(r, 5)?,
        items: parse_items(&get::<String>(r, 6)?)?,
        step: small(get(r, 7)?, "class step")?,
        revealed: get(r, 8)?,
        step_at: get(r, 9)?,
        started: get(r, 10)?,
        ended: get(r, 11)?,
    })
}

fn answer_of(r: &Row) -> Result<StoredClassAnswer, StoreError> {
    let id: i64 = get(r, 1)?;
    Ok(StoredClassAnswer {
        user_id: get(r, 0)?,
        id: u64::try_from(id).map_err(|e| StoreError::Corrupt {
            what: "class answer id",
            source: Box::new(e),
        })?,
        step: small(get(r, 2)?, "class answer step")?,
        value: get(r, 3)?,
        correct: get(r, 4)?,
        took: small(get(r, 5)?, "class answer time")?,
        at: get(r, 6)?,
        device_id: get(r, 7)?,
    })
}

fn student_of(r: &Row) -> Result<ClassStudent, StoreError> {
    Ok(ClassStudent {
        user_id: get(r, 0)?,
        name: get(r, 1)?,
        joined: get(r, 2)?,
        last_seen: get(r, 3)?,
        step: small(get(r, 4)?, "class student step")?,
    })
}

const STUDENT_COLUMNS: &str = "s.user_id, u.name, s.joined, s.last_seen, s.step \
     FROM class_students s JOIN users u ON u.id = s.user_id";

impl ClassTx for PgTx<'_, '_> {
    fn insert_class(&mut self, class: &NewClass<'_>) -> Result<Option<i64>, StoreError> {
        let row = self.db().query_opt(
            "INSERT INTO classes \
               (code, project_id, trainer_id, lessons, items, step_at, started) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (code) DO NOTHING RETURNING id",
            &[
                &class.code,
                &class.project_id,
                &class.trainer_id,
                &class.lessons,
                &items_json(class.items),
                &class.at,
            ],
        )?;
        row.map(|r| get(&r, 0)).transpose()
    }

    fn class_by_code(&mut self, code: &str) -> Result<Option<StoredClass>, StoreError> {
        let sql = format!("SELECT {CLASS_COLUMNS} WHERE c.code = $1 FOR UPDATE OF c");
        self.db()
            .query_opt(&sql, &[&code])?
            .map(|r| class_of(&r))
            .transpose()
    }

    fn open_classes(&mut self, trainer: Option<i64>) -> Result<Vec<StoredClass>, StoreError> {
        let sql = format!(
            "SELECT {CLASS_COLUMNS} WHERE c.ended IS NULL \
             AND ($1::BIGINT IS NULL OR c.trainer_id = $1) ORDER BY c.id"
        );
        self.db()
            .query(&sql, &[&trainer])?
            .iter()
            .map(class_of)
            .collect()
    }

    fn set_class_step(
        &mut self,
        class: i64,
        step: u32,
        revealed: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE classes SET step = $2, revealed = $3, step_at = $4 WHERE id = $1",
            &[&class, &i64::from(step), &revealed, &at],
        )?;
        Ok(())
    }

    fn end_class(&mut self, class: i64, at: i64) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE classes SET ended = $2 WHERE id = $1 AND ended IS NULL",
            &[&class, &at],
        )?;
        Ok(())
    }

    fn join_class(&mut self, class: i64, user_id: i64, at: i64) -> Result<(), StoreError> {
        self.db().execute(
            "INSERT INTO class_students (class_id, user_id, joined, last_seen) \
             VALUES ($1, $2, $3, $3) ON CONFLICT (class_id, user_id) DO NOTHING",
            &[&class, &user_id, &at],
        )?;
        Ok(())
    }

    fn class_student(
        &mut self,
        class: i64,
        user_id: i64,
    ) -> Result<Option<ClassStudent>, StoreError> {
        let sql = format!("SELECT {STUDENT_COLUMNS} WHERE s.class_id = $1 AND s.user_id = $2");
        self.db()
            .query_opt(&sql, &[&class, &user_id])?
            .map(|r| student_of(&r))
            .transpose()
    }

    fn touch_student(
        &mut self,
        class: i64,
        user_id: i64,
        step: u32,
        at: i64,
    ) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE class_students SET last_seen = GREATEST(last_seen, $3), \
               step = GREATEST(step, $4) WHERE class_id = $1 AND user_id = $2",
            &[&class, &user_id, &at, &i64::from(step)],
        )?;
        Ok(())
    }

    fn class_students(&mut self, class: i64) -> Result<Vec<ClassStudent>, StoreError> {
        let sql = format!("SELECT {STUDENT_COLUMNS} WHERE s.class_id = $1 ORDER BY u.name");
        self.db()
            .query(&sql, &[&class])?
            .iter()
            .map(student_of)
            .collect()
    }

    fn insert_class_answer(
        &mut self,
        class: i64,
        answer: &StoredClassAnswer,
    ) -> Result<bool, StoreError> {
        let id = i64::try_from(answer.id).map_err(|e| StoreError::Corrupt {
            what: "class answer id",
            source: Box::new(e),
        })?;
        let n = self.db().execute(
            "INSERT INTO class_answers \
               (class_id, user_id, device_id, client_id, step, value, correct, took, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (class_id, device_id, client_id) DO NOTHING",
            &[
                &class,
                &answer.user_id,
                &answer.device_id,
                &id,
                &i64::from(answer.step),
                &answer.value,
                &answer.correct,
                &i64::from(answer.took),
                &answer.at,
            ],
        )?;
        Ok(n == 1)
    }

    fn class_answers(
        &mut self,
        class: i64,
        user_id: Option<i64>,
    ) -> Result<Vec<StoredClassAnswer>, StoreError> {
        self.db()
            .query(
                "SELECT user_id, client_id, step, value, correct, took, at, device_id \
                 FROM class_answers \
                 WHERE class_id = $1 AND ($2::BIGINT IS NULL OR user_id = $2) \
                 ORDER BY user_id, at, device_id, client_id",
                &[&class, &user_id],
            )?
            .iter()
            .map(answer_of)
            .collect()
    }
}
