//! The reviewer's own answer (`edit`, or upholding a flag that has none): the project's
//! work screen held inside the review screen (`screen::held`), so a transcript is written
//! in the workers' text area, a form in their form and a label chosen on their grid, with
//! their keys. It starts from the marked answer; its answer becomes the verdict.

use super::super::{Context, Screen, held};
use crate::model::{AnswerValue, Task};
use crate::protocol::{ReviewCase, VerdictKind};
use crate::tui::app::{Effect, Event};
use crate::tui::key::Key;
use crate::tui::keymap::Action;

#[derive(Debug)]
pub(super) struct Editor {
    pub screen: Box<dyn Screen>,
    /// What its answer is sent as: `Edit`, or `Uphold` for a claim with no answer.
    pub verdict: VerdictKind,
}

/// What the editor did with a key.
pub(super) enum Edited {
    /// Still writing.
    Writing,
    /// The answer is done: send it as the verdict.
    Answer(Task, AnswerValue),
    /// The reviewer skipped the task in the editor: drop what was written.
    Dropped,
}

impl Editor {
    /// The editor on the case's task, starting from `start` (the marked answer).
    pub fn open(
        case: &ReviewCase,
        start: Option<&AnswerValue>,
        verdict: VerdictKind,
        cx: &mut Context,
    ) -> Editor {
        let mut screen = held::work_screen(case.project.clone(), cx);
        let task = Task {
            id: case.item,
            project: case.project.name.clone(),
            text: case.text.clone(),
            suggestion: None,
            clip: None,
        };
        held::pass(screen.as_mut(), cx, |s, cx| {
            s.on_event(Event::Tasks(vec![task]), cx);
            if let Some(value) = start {
                s.on_event(
                    Event::Draft {
                        task: case.item,
                        value: value.clone(),
                    },
                    cx,
                );
            }
        });
        Editor { screen, verdict }
    }

    pub fn key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) -> Edited {
        let effects = held::pass(self.screen.as_mut(), cx, |s, cx| s.on_key(key, action, cx));
        self.outcome(effects)
    }

    pub fn event(&mut self, event: Event, cx: &mut Context) -> Edited {
        let effects = held::pass(self.screen.as_mut(), cx, |s, cx| s.on_event(event, cx));
        self.outcome(effects)
    }

    /// The answer a refused verdict carried, back in the editor to change and send again.
    pub fn restore(&mut self, task: Task, value: AnswerValue, cx: &mut Context) {
        held::pass(self.screen.as_mut(), cx, |s, cx| {
            s.on_event(Event::Undone(Some((task, value))), cx)
        });
    }

    fn outcome(&self, effects: Vec<Effect>) -> Edited {
        let mut outcome = Edited::Writing;
        for effect in effects {
            match effect {
                Effect::Save { task, value } => outcome = Edited::Answer(task, value),
                Effect::Skip { .. } => outcome = Edited::Dropped,
                _ => {}
            }
        }
        outcome
    }
}
