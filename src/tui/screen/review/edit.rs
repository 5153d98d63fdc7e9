//! The reviewer's own answer (`edit`, or upholding a flag that has none): the project's
//! work screen held inside the review screen (`screen::held`), so a transcript is written
//! in the workers' text area, a form in their form and a label chosen on their grid, with
//! their keys. It starts from the marked answer; its answer becomes the verdict.

use super::super::{Context, Screen, held};
use crate::client::player::{PlayerCommand, PlayerStatus};
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
    /// The editor on the case's task, starting from `start` (the marked answer), with
    /// the review screen's player (`player`: its last report on the task's clip).
    pub fn open(
        case: &ReviewCase,
        start: Option<&AnswerValue>,
        verdict: VerdictKind,
        player: Option<&PlayerStatus>,
        cx: &mut Context,
    ) -> Editor {
        let mut screen = held::work_screen(case.project.clone(), cx);
        let task = Task {
            id: case.item,
            project: case.project.name.clone(),
            text: case.text.clone(),
            suggestion: None,
            clip: case.clip.clone(),
        };
        // The clip is the review screen's, loaded already: the held screen's own load
        // is dropped, and it is told what the player is doing.
        held::pass(screen.as_mut(), cx, |s, cx| {
            if let Some(status) = player {
                s.on_event(Event::Player(status.clone()), cx);
            }
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
        self.outcome(effects, cx)
    }

    pub fn event(&mut self, event: Event, cx: &mut Context) -> Edited {
        let effects = held::pass(self.screen.as_mut(), cx, |s, cx| s.on_event(event, cx));
        self.outcome(effects, cx)
    }

    /// The answer a refused verdict carried, back in the editor to change and send again.
    pub fn restore(&mut self, task: Task, value: AnswerValue, cx: &mut Context) {
        held::pass(self.screen.as_mut(), cx, |s, cx| {
            s.on_event(Event::Undone(Some((task, value))), cx)
        });
    }

    /// What the held screen's effects mean here; its player keys go to the review
    /// screen's player (loading and stopping the clip are the review screen's).
    fn outcome(&self, effects: Vec<Effect>, cx: &mut Context) -> Edited {
        let mut outcome = Edited::Writing;
        for effect in effects {
            match effect {
                Effect::Save { task, value } => outcome = Edited::Answer(task, value),
                Effect::Skip { .. } => outcome = Edited::Dropped,
                Effect::Player(PlayerCommand::Load(_) | PlayerCommand::Stop) => {}
                Effect::Player(command) => cx.effect(Effect::Player(command)),
                _ => {}
            }
        }
        outcome
    }
}
