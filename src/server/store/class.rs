//! What the store keeps for class sessions: the class (its join code, project, the
//! lesson items it runs on, the trainer's step), who joined, and each student's answers,
//! all at server time. `ClassTx` is the scheduler's narrow interface to them inside one
//! transaction; every rule is `scheduler::class`'s.

use crate::server::store::{StoreError, SyncTx};

/// A class as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClass {
    pub id: i64,
    pub code: String,
    pub project_id: i64,
    pub project: String,
    pub trainer_id: i64,
    /// The lesson set's version when the class started.
    pub lessons: String,
    /// The lesson items it runs on, in step order.
    pub items: Vec<i64>,
    pub step: u32,
    pub revealed: bool,
    /// Server time the current step was set.
    pub step_at: i64,
    pub started: i64,
    pub ended: Option<i64>,
}

/// A class to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClass<'a> {
    pub code: &'a str,
    pub project_id: i64,
    pub trainer_id: i64,
    pub lessons: &'a str,
    pub items: &'a [i64],
    pub at: i64,
}

/// A student in a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassStudent {
    pub user_id: i64,
    pub name: String,
    pub joined: i64,
    /// Server time of the last presence or answer.
    pub last_seen: i64,
    /// The furthest step the student was present at or answered.
    pub step: u32,
}

/// A student's answer as stored, scored on arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClassAnswer {
    pub user_id: i64,
    /// The device that sent it; with `id`, the idempotency key within the class.
    pub device_id: i64,
    /// The device's own id of the answer.
    pub id: u64,
    pub step: u32,
    /// The JSON of the `AnswerValue`.
    pub value: String,
    pub correct: bool,
    pub took: u32,
    pub at: i64,
}

/// The scheduler's access to class records inside a transaction.
pub trait ClassTx: SyncTx {
    /// Store a new class; None when its code is taken (the scheduler draws another).
    fn insert_class(&mut self, class: &NewClass<'_>) -> Result<Option<i64>, StoreError>;

    fn class_by_code(&mut self, code: &str) -> Result<Option<StoredClass>, StoreError>;

    /// Classes not ended, oldest first; only this trainer's when `trainer` is given.
    fn open_classes(&mut self, trainer: Option<i64>) -> Result<Vec<StoredClass>, StoreError>;

    fn set_class_step(
        &mut self,
        class: i64,
        step: u32,
        revealed: bool,
        at: i64,
    ) -> Result<(), StoreError>;

    fn end_class(&mut self, class: i64, at: i64) -> Result<(), StoreError>;

    /// Add the student (a second join changes nothing).
    fn join_class(&mut self, class: i64, user_id: i64, at: i64) -> Result<(), StoreError>;

    fn class_student(
        &mut self,
        class: i64,
        user_id: i64,
    ) -> Result<Option<ClassStudent>, StoreError>;

    /// The student was seen at `at`, at `step`: last seen moves to `at` (never back),
    /// the step reached to the greater of the two.
    fn touch_student(
        &mut self,
        class: i64,
        user_id: i64,
        step: u32,
        at: i64,
    ) -> Result<(), StoreError>;

    /// Every student of the class by name.
    fn class_students(&mut self, class: i64) -> Result<Vec<ClassStudent>, StoreError>;

    /// Store an answer; false when the device's id was stored before (nothing changes).
    fn insert_class_answer(
        &mut self,
        class: i64,
        answer: &StoredClassAnswer,
    ) -> Result<bool, StoreError>;

    /// The class's answers (one student's when `user_id` is given), in the order they
    /// were given: by student, then time, then id.
    fn class_answers(
        &mut self,
        class: i64,
        user_id: Option<i64>,
    ) -> Result<Vec<StoredClassAnswer>, StoreError>;
}
