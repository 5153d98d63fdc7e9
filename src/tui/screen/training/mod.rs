//! The training screen of one project: practice through its lessons with instant
//! feedback (scored here, offline, with `model::gold::check`), the `hint` of a lesson
//! before answering, then the exam: its tasks answered one by one (each answer saved
//! before the next is shown), "sent for grading", and the server's result (qualified, or
//! what was missed and when a retry comes). A task is shown and answered by the project's
//! own work screen (classify's label grid, entry's form) held inside, whose answers are
//! taken here instead of going to the outbox; a transcribe task's clip is loaded as it is
//! shown and played with the work screen's keys. Drawing is in `view`.

mod view;

pub(crate) use view::answer_text;

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;

use std::collections::BTreeSet;

use super::{Classify, Context, Entry, Screen, ScreenHelp, ScreenId, Transcribe, View, held};
use crate::client::player::PlayerCommand;
use crate::client::{ExamState, HeldAttempt, LessonPlace, LessonTask, TrainingBook};
use crate::model::gold::{self, GoldCheck};
use crate::model::{AnswerValue, ClipRef, Project, Task, TaskKind, sanitize_line};
use crate::tui::app::{Effect, Event};
use crate::tui::key::{Key, KeyCode};
use crate::tui::keymap::{Action, Keymap, Mode};

/// What the training screen hears from the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingEvent {
    /// Lessons, exam standings and held attempts, fresh from the store (at start, after
    /// each sync, after each exam answer).
    Book(TrainingBook),
}

/// What the training screen asks the runtime to do.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingEffect {
    /// Save one exam answer durably; reply with a fresh `TrainingEvent::Book`. The last
    /// answer of an attempt queues it to be sent for grading.
    ExamAnswer {
        project: String,
        attempt: i64,
        item: i64,
        value: AnswerValue,
    },
    /// Keep where the worker is in the lessons (no reply unless it fails).
    LessonPlace { project: String, place: LessonPlace },
}

/// Where the worker is in training.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Lesson `index` on screen, answered or not.
    Practice {
        index: usize,
        feedback: Option<Practised>,
    },
    /// Every lesson went by: the exam is next.
    LessonsDone,
    /// Answering exam attempt `attempt`.
    Exam { attempt: i64 },
    /// No exam to take here yet, or the answered one waits for its grade: the standing
    /// says which.
    Waiting,
    /// The latest graded attempt, `missed` the mistake shown (when failed).
    Result { missed: usize },
}

/// The feedback on a practice answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Practised {
    pub answer: AnswerValue,
    pub check: GoldCheck,
}

#[derive(Debug)]
pub struct Training {
    project: Project,
    book: TrainingBook,
    stage: Stage,
    /// The project's work screen answering the task on screen (practice and exam).
    inner: Option<Box<dyn Screen>>,
    hint: bool,
    /// Exam tasks answered on this screen: each must be in the next book, or its save
    /// failed and the task comes back.
    given: BTreeSet<i64>,
    /// The worker went through the lessons (or began the exam): when an exam arrives,
    /// it comes next, not the lessons again.
    practised: bool,
    /// The worker's own place in the lessons is kept as they move (not in a class, where
    /// the trainer moves them: their own place stays where they left it).
    keeps_place: bool,
}

impl Training {
    pub fn open(project: Project, book: TrainingBook, cx: &mut Context) -> Training {
        let mut screen = Training {
            project,
            book,
            stage: Stage::Waiting,
            inner: None,
            hint: false,
            given: BTreeSet::new(),
            practised: false,
            keeps_place: true,
        };
        let stage = screen.settled(true);
        screen.enter(stage, cx);
        screen
    }

    /// The screen on lesson `index` of `lessons`, answered with instant feedback and
    /// moved on from outside (`show_lesson`): a student in a class follows the trainer.
    pub fn follow(
        project: Project,
        lessons: Vec<LessonTask>,
        index: usize,
        cx: &mut Context,
    ) -> Training {
        let mut book = TrainingBook::default();
        book.lessons.insert(project.name.clone(), lessons);
        let mut screen = Training {
            project,
            book,
            stage: Stage::Waiting,
            inner: None,
            hint: false,
            given: BTreeSet::new(),
            practised: true,
            keeps_place: false,
        };
        screen.show_lesson(index, cx);
        screen
    }

    /// Put lesson `index` on screen, unanswered.
    pub fn show_lesson(&mut self, index: usize, cx: &mut Context) {
        let stage = if index < self.lessons().len() {
            Stage::Practice {
                index,
                feedback: None,
            }
        } else {
            Stage::LessonsDone
        };
        self.enter(stage, cx);
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn stage(&self) -> &Stage {
        &self.stage
    }

    pub fn lessons(&self) -> &[LessonTask] {
        self.book
            .lessons
            .get(&self.project.name)
            .map_or(&[], Vec::as_slice)
    }

    pub fn standing(&self) -> Option<&ExamState> {
        self.book.standings.get(&self.project.name)
    }

    pub fn attempt(&self) -> Option<&HeldAttempt> {
        self.book.attempts.get(&self.project.name)
    }

    /// Whether the hint of the lesson on screen is shown.
    pub fn hint_open(&self) -> bool {
        self.hint
    }

    /// The stage the book calls for. `opening`: the screen was just opened (practice
    /// comes first unless an exam is under way or done).
    fn settled(&self, opening: bool) -> Stage {
        let standing = self.standing();
        if standing.is_some_and(|s| s.qualified.is_some()) {
            // Qualified and back for the lessons (opened by hand): they come first.
            if opening && !self.lessons().is_empty() {
                return self.kept_place();
            }
            return Stage::Result { missed: 0 };
        }
        match self.attempt() {
            Some(a) if a.submitted => return Stage::Waiting,
            Some(a) if !a.answered.is_empty() => return Stage::Exam { attempt: a.id },
            _ => {}
        }
        let failed = standing.and_then(|s| s.result.as_ref()).is_some();
        if opening && failed {
            return Stage::Result { missed: 0 };
        }
        if opening && !self.lessons().is_empty() {
            return self.kept_place();
        }
        match self.attempt() {
            Some(a) if !opening => Stage::Exam { attempt: a.id },
            _ => Stage::Waiting,
        }
    }

    /// Where the worker left the lessons: that lesson again (the first if it is gone
    /// from the set), or past the last.
    fn kept_place(&self) -> Stage {
        let index = match self.book.places.get(&self.project.name) {
            Some(LessonPlace::Done) => return Stage::LessonsDone,
            Some(LessonPlace::At(item)) => self
                .lessons()
                .iter()
                .position(|l| l.item == *item)
                .unwrap_or(0),
            None => 0,
        };
        Stage::Practice {
            index,
            feedback: None,
        }
    }

    /// Keep the place of a lesson stage in the store, when it moved.
    fn keep_place(&mut self, stage: &Stage, cx: &mut Context) {
        if !self.keeps_place {
            return;
        }
        let place = match stage {
            Stage::Practice { index, .. } => match self.lessons().get(*index) {
                Some(l) => LessonPlace::At(l.item),
                None => return,
            },
            Stage::LessonsDone => LessonPlace::Done,
            _ => return,
        };
        let name = &self.project.name;
        // No place kept yet means the first lesson.
        let kept = self
            .book
            .places
            .get(name)
            .copied()
            .or_else(|| self.lessons().first().map(|l| LessonPlace::At(l.item)));
        if kept != Some(place) {
            self.book.places.insert(name.clone(), place);
            cx.effect(Effect::Training(TrainingEffect::LessonPlace {
                project: name.clone(),
                place,
            }));
        }
    }

    /// Go to `stage`, putting its task (if any) on the inner work screen.
    fn enter(&mut self, stage: Stage, cx: &mut Context) {
        self.hint = false;
        self.given.clear();
        if self.inner.take().is_some() && self.project.kind == TaskKind::Transcribe {
            // The clip of the task that leaves the screen stops with it.
            cx.effect(Effect::Player(PlayerCommand::Stop));
        }
        let tasks: Vec<Task> = match &stage {
            Stage::Practice {
                index,
                feedback: None,
            } => self
                .lessons()
                .get(*index)
                .map(|l| self.task(l.item, &l.text, &l.suggestion, &l.clip))
                .into_iter()
                .collect(),
            Stage::Exam { attempt } => match self.attempt().filter(|a| a.id == *attempt) {
                Some(a) => a
                    .tasks
                    .iter()
                    .filter(|t| !a.answered.contains_key(&t.item))
                    .map(|t| self.task(t.item, &t.text, &t.suggestion, &t.clip))
                    .collect(),
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        if !tasks.is_empty() {
            let project = self.project.clone();
            let mut inner = self.inner_screen(project, cx);
            self.pass(&mut inner, cx, |s, cx| s.on_event(Event::Tasks(tasks), cx));
            self.inner = Some(inner);
        }
        if matches!(stage, Stage::LessonsDone | Stage::Exam { .. }) {
            self.practised = true;
        }
        self.keep_place(&stage, cx);
        self.stage = stage;
        cx.redraw();
    }

    fn task(
        &self,
        item: i64,
        text: &str,
        suggestion: &Option<String>,
        clip: &Option<ClipRef>,
    ) -> Task {
        Task {
            id: item,
            project: self.project.name.clone(),
            text: text.to_string(),
            suggestion: suggestion.clone(),
            // A transcribe lesson's clip, loaded from the cache as it is shown.
            clip: clip.clone(),
        }
    }

    /// The project's own work screen; its ask for tasks is dropped (they come from here).
    fn inner_screen(&self, project: Project, cx: &mut Context) -> Box<dyn Screen> {
        held::work_screen(project, cx)
    }

    /// Let the inner screen take a key or event, then take its answers here: a practice
    /// answer is checked against gold at once, an exam answer is saved. Its asks of the
    /// player go on to the runtime; its other effects (asks for tasks, drafts, skips,
    /// undo) have no place in training and are dropped.
    fn pass(
        &self,
        inner: &mut Box<dyn Screen>,
        cx: &mut Context,
        f: impl FnOnce(&mut dyn Screen, &mut Context),
    ) -> Vec<(Task, AnswerValue)> {
        let effects = held::pass(inner.as_mut(), cx, f);
        held::answers_with_sound(effects, cx)
    }

    fn answered(&mut self, task: Task, value: AnswerValue, cx: &mut Context) {
        match self.stage.clone() {
            Stage::Practice { index, .. } => {
                let Some(lesson) = self.lessons().get(index) else {
                    return;
                };
                let check = gold::check(&self.project, &lesson.gold, &value);
                self.inner = None;
                self.hint = false;
                self.stage = Stage::Practice {
                    index,
                    feedback: Some(Practised {
                        answer: value,
                        check,
                    }),
                };
                cx.clear_message();
                cx.redraw();
            }
            Stage::Exam { attempt } => {
                self.given.insert(task.id);
                cx.effect(Effect::Training(TrainingEffect::ExamAnswer {
                    project: self.project.name.clone(),
                    attempt,
                    item: task.id,
                    value,
                }));
            }
            _ => {}
        }
    }

    /// The next step after a practice answer (or a skipped lesson).
    fn next_lesson(&mut self, index: usize, cx: &mut Context) {
        let stage = if index + 1 < self.lessons().len() {
            Stage::Practice {
                index: index + 1,
                feedback: None,
            }
        } else {
            Stage::LessonsDone
        };
        self.enter(stage, cx);
    }

    fn start_exam(&mut self, cx: &mut Context) {
        match self.attempt() {
            Some(a) if !a.submitted => {
                let id = a.id;
                self.enter(Stage::Exam { attempt: id }, cx);
            }
            _ => {
                self.enter(Stage::Waiting, cx);
                let refresh = cx
                    .keymap()
                    .keys_for(Mode::Global, Action::Refresh)
                    .first()
                    .map_or(String::new(), |k| format!("; {k} asks now"));
                cx.say(format!(
                    "no exam on this computer yet: it comes from the server at the next sync{refresh}"
                ));
            }
        }
    }

    fn on_book(&mut self, book: TrainingBook, cx: &mut Context) {
        // Even an unchanged book matters in the exam: it may lack an answer whose save
        // failed.
        let was_qualified = self.standing().is_some_and(|s| s.qualified.is_some());
        if book != self.book {
            self.book = book;
            cx.redraw();
        }
        let qualified = self.standing().is_some_and(|s| s.qualified.is_some());
        if qualified && !was_qualified && !matches!(self.stage, Stage::Result { .. }) {
            cx.clear_message();
            return self.enter(Stage::Result { missed: 0 }, cx);
        }
        match self.stage.clone() {
            Stage::Waiting => {
                // Lessons that arrive while nothing else is under way come first.
                let stage = self.settled(!self.practised);
                if stage != Stage::Waiting {
                    cx.clear_message();
                    self.enter(stage, cx);
                }
            }
            Stage::Exam { attempt } => {
                // Each answer brings a fresh book: move on when the attempt is answered
                // whole; a failed save brings the task back (the book lacks its answer).
                let held = self.attempt().filter(|a| a.id == attempt).cloned();
                match held {
                    Some(a) if a.submitted => {
                        self.enter(Stage::Waiting, cx);
                        cx.say("exam answered: sent for grading at the next sync");
                    }
                    Some(a) if self.given.iter().any(|i| !a.answered.contains_key(i)) => {
                        self.given.clear();
                        self.enter(Stage::Exam { attempt }, cx);
                    }
                    Some(_) => {}
                    None => {
                        let stage = self.settled(false);
                        self.enter(stage, cx);
                    }
                }
            }
            Stage::Practice { index, .. } if index >= self.lessons().len() => {
                self.enter(Stage::LessonsDone, cx)
            }
            _ => {}
        }
    }

    /// The lesson or exam task on screen, if any.
    pub fn task_on_screen(&self) -> Option<&Task> {
        let inner: &dyn std::any::Any = self.inner.as_ref()?.as_ref();
        if let Some(c) = inner.downcast_ref::<Classify>() {
            return c.current().map(|c| &c.task);
        }
        if let Some(t) = inner.downcast_ref::<Transcribe>() {
            return t.current().map(|t| &t.task);
        }
        inner
            .downcast_ref::<Entry>()
            .and_then(|e| e.current().map(|f| &f.task))
    }

    /// Whether the exam comes after the lessons: the worker must pass it before work,
    /// or an attempt is here to take anyway. Otherwise the lessons lead to work.
    pub fn exam_next(&self) -> bool {
        self.book.must_qualify(&self.project) || self.attempt().is_some_and(|a| !a.submitted)
    }

    fn inner_task(&self) -> Option<i64> {
        self.task_on_screen().map(|t| t.id)
    }

    fn inner_is_empty(&self) -> bool {
        self.inner.is_none() || self.inner_task().is_none()
    }

    fn on_stage_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        let go = matches!(action, Some(Action::Submit | Action::Pick))
            || (action.is_none() && key.code == KeyCode::Enter);
        let next = matches!(action, Some(Action::Next));
        let back = matches!(action, Some(Action::Prev));
        match self.stage.clone() {
            Stage::Practice {
                index,
                feedback: Some(_),
            } if go || next => self.next_lesson(index, cx),
            Stage::Practice { index, .. } if back && index > 0 => self.enter(
                Stage::Practice {
                    index: index - 1,
                    feedback: None,
                },
                cx,
            ),
            Stage::LessonsDone if (go || next) && self.exam_next() => self.start_exam(cx),
            Stage::LessonsDone if go => cx.open(self.project.clone()),
            Stage::LessonsDone if back && !self.lessons().is_empty() => self.enter(
                Stage::Practice {
                    index: 0,
                    feedback: None,
                },
                cx,
            ),
            Stage::Result { missed } => {
                let qualified = self.standing().is_some_and(|s| s.qualified.is_some());
                let misses = self
                    .standing()
                    .and_then(|s| s.result.as_ref())
                    .map_or(0, |r| r.missed.len());
                if qualified && go {
                    // Qualified: the App opens the project's work screen.
                    cx.open(self.project.clone());
                } else if go {
                    self.start_exam(cx);
                } else if next && missed + 1 < misses {
                    self.stage = Stage::Result { missed: missed + 1 };
                    cx.redraw();
                } else if back && missed > 0 {
                    self.stage = Stage::Result { missed: missed - 1 };
                    cx.redraw();
                } else {
                    self.stage_guide_said(cx);
                }
            }
            Stage::Waiting if go && !self.book.must_qualify(&self.project) => {
                cx.open(self.project.clone())
            }
            Stage::Waiting if go => {
                let stage = self.settled(false);
                if stage == Stage::Waiting {
                    self.stage_guide_said(cx);
                } else {
                    self.enter(stage, cx);
                }
            }
            _ if key.code == KeyCode::Esc => cx.clear_message(),
            _ => self.stage_guide_said(cx),
        }
    }

    fn stage_guide_said(&self, cx: &mut Context) {
        let width = usize::from(cx.shared.size.0);
        if let Some(guide) = view::guide(self, cx.keymap(), width) {
            cx.say(guide);
        }
    }
}

impl Screen for Training {
    fn id(&self) -> ScreenId {
        ScreenId::Training
    }

    fn mode(&self) -> Mode {
        match &self.inner {
            Some(inner) if !self.inner_is_empty() => inner.mode(),
            _ => Mode::Train,
        }
    }

    fn title(&self) -> Cow<'_, str> {
        Cow::Owned(format!("Training: {}", sanitize_line(&self.project.title)))
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        if self.inner_is_empty() {
            return self.on_stage_key(key, action, cx);
        }
        let exam = matches!(self.stage, Stage::Exam { .. });
        match action {
            Some(Action::Hint) if exam => return cx.say("no hints in the exam"),
            Some(Action::Hint) => {
                let has = match &self.stage {
                    Stage::Practice { index, .. } => self
                        .lessons()
                        .get(*index)
                        .is_some_and(|l| !l.hint.is_empty()),
                    _ => false,
                };
                if !has {
                    return cx.say("this lesson has no hint");
                }
                self.hint = !self.hint;
                return cx.redraw();
            }
            Some(Action::Skip) if exam => {
                return cx.say("every exam task needs an answer: it is graded whole");
            }
            Some(Action::Skip) => {
                if let Stage::Practice { index, .. } = self.stage {
                    self.next_lesson(index, cx);
                }
                return;
            }
            Some(Action::Undo) if exam => {
                return cx.say("an exam answer is final once given");
            }
            Some(Action::Undo) => {
                if let Stage::Practice { index, .. } = self.stage
                    && index > 0
                {
                    self.enter(
                        Stage::Practice {
                            index: index - 1,
                            feedback: None,
                        },
                        cx,
                    );
                }
                return;
            }
            _ => {}
        }
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        let answers = self.pass(&mut inner, cx, |s, cx| s.on_key(key, action, cx));
        self.inner = Some(inner);
        for (task, value) in answers {
            self.answered(task, value, cx);
        }
    }

    fn on_event(&mut self, event: Event, cx: &mut Context) {
        match event {
            Event::Training(TrainingEvent::Book(book)) => self.on_book(book, cx),
            // What the player is doing, for the transcribe task on screen.
            event @ Event::Player(_) => {
                if let Some(mut inner) = self.inner.take() {
                    self.pass(&mut inner, cx, |s, cx| s.on_event(event, cx));
                    self.inner = Some(inner);
                }
            }
            Event::Projects(projects) => {
                let Some(project) = projects.into_iter().find(|p| p.name == self.project.name)
                else {
                    return cx.close(format!(
                        "project {} is no longer available; pick another",
                        sanitize_line(&self.project.name)
                    ));
                };
                self.project = project;
                cx.redraw();
            }
            _ => {}
        }
    }

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        view::render(self, frame, body, view);
    }

    fn guide(&self, keymap: &Keymap, width: usize) -> Option<String> {
        view::guide(self, keymap, width)
    }

    fn help(&self) -> ScreenHelp {
        let mut help = match &self.inner {
            Some(inner) if !self.inner_is_empty() => inner.help(),
            _ => ScreenHelp::default(),
        };
        let about = "Training: the lessons first, each scored on this computer as you answer \
                     (f2 before answering shows its hint); then the exam, saved here answer by \
                     answer and graded by the server: no hints, no skips, no undo.";
        help.notes = if help.notes.is_empty() {
            about.to_string()
        } else {
            format!("{about}\n\n{}", help.notes)
        };
        help
    }

    fn takes_text(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.takes_text()) && !self.inner_is_empty()
    }
}
