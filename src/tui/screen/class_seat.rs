//! The student's screen in a trainer's class: the lesson the trainer is on, answered on
//! the training screen (instant feedback: lessons carry their gold), following the
//! trainer as the class moves on. The student does not step: `next`, `prev`, `skip` and
//! `undo` are the trainer's. Each answer is handed to the runtime for the trainer's
//! class view; leaving (`projects`) or the class ending goes back to the picker.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::training::{Stage, Training, answer_text};
use super::{Context, Screen, ScreenHelp, ScreenId, View};
use crate::client::LessonTask;
use crate::model::{Project, sanitize_line};
use crate::protocol::ClassState;
use crate::tui::app::{Effect, Event};
use crate::tui::class::{ClassEffect, ClassEvent};
use crate::tui::key::Key;
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::widgets::{Painter, fit};

#[derive(Debug)]
pub struct ClassSeat {
    state: ClassState,
    training: Training,
    /// The link to the class is down: answers kept here, not yet sent.
    offline: Option<u32>,
}

impl ClassSeat {
    pub fn open(
        state: ClassState,
        project: Project,
        lessons: Vec<LessonTask>,
        cx: &mut Context,
    ) -> ClassSeat {
        let step = state.step;
        let training = Training::follow(project, lessons, step as usize, cx);
        cx.effect(Effect::Class(ClassEffect::At { step }));
        cx.say(format!(
            "in class {}: answer each lesson as the trainer shows it",
            sanitize_line(&state.code)
        ));
        ClassSeat {
            state,
            training,
            offline: None,
        }
    }

    pub fn state(&self) -> &ClassState {
        &self.state
    }

    pub fn training(&self) -> &Training {
        &self.training
    }

    fn step(&self) -> u32 {
        self.state.step
    }

    /// The trainer moved the class (or revealed, or ended it).
    fn on_state(&mut self, state: ClassState, cx: &mut Context) {
        if state.code != self.state.code || state == self.state {
            return;
        }
        if state.ended.is_some() {
            self.state = state;
            return cx.close("the class has ended: train at your own pace from here");
        }
        let moved = state.step != self.state.step;
        self.state = state;
        self.offline = None;
        if moved {
            self.training.show_lesson(self.step() as usize, cx);
            cx.effect(Effect::Class(ClassEffect::At { step: self.step() }));
        }
        cx.redraw();
    }

    fn answered(&self) -> bool {
        matches!(
            self.training.stage(),
            Stage::Practice {
                feedback: Some(_),
                ..
            }
        )
    }
}

impl Screen for ClassSeat {
    fn id(&self) -> ScreenId {
        ScreenId::ClassSeat
    }

    fn mode(&self) -> Mode {
        self.training.mode()
    }

    fn title(&self) -> Cow<'_, str> {
        Cow::Owned(format!(
            "Class {}: {}",
            sanitize_line(&self.state.code),
            sanitize_line(&self.training.project().title)
        ))
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        if matches!(
            action,
            Some(Action::Next | Action::Prev | Action::Skip | Action::Undo)
        ) {
            return cx.say("the trainer moves the class on: your screen follows");
        }
        if self.answered() || self.training.task_on_screen().is_none() {
            return cx.say("answered: the next lesson comes when the trainer moves on");
        }
        self.training.on_key(key, action, cx);
        if let Stage::Practice {
            feedback: Some(fb), ..
        } = self.training.stage()
        {
            // The App has no clock: the executor times the answer from the `At` it had.
            cx.effect(Effect::Class(ClassEffect::Answer {
                step: self.step(),
                value: fb.answer.clone(),
                took: 0,
            }));
        }
    }

    fn on_event(&mut self, event: Event, cx: &mut Context) {
        match event {
            Event::Class(ClassEvent::State(state)) => self.on_state(state, cx),
            Event::Class(ClassEvent::Joined { state, .. }) => self.on_state(state, cx),
            Event::Class(ClassEvent::Offline { unsent }) => {
                if self.offline != Some(unsent) {
                    self.offline = Some(unsent);
                    cx.redraw();
                }
            }
            Event::Class(ClassEvent::Scored(scored)) => {
                if let Some(why) = scored.iter().find_map(|s| s.refused.as_ref()) {
                    cx.say(format!(
                        "the server did not take an answer: {}",
                        sanitize_line(why)
                    ));
                }
            }
            Event::Class(ClassEvent::Failed(why)) => cx.say(why),
            // The lessons are the class's, not the sync's.
            Event::Training(_) => {}
            other => self.training.on_event(other, cx),
        }
    }

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        let mut lines = vec![format!(
            "Class {}: the trainer is on lesson {} of {}",
            sanitize_line(&self.state.code),
            self.step() + 1,
            self.state.steps.max(1)
        )];
        if let Some(n) = self.offline {
            lines.push(format!(
                "No link to the class: {n} answers kept here, sent when it returns"
            ));
        }
        if self.state.revealed
            && let Some(lesson) = self.training.lessons().get(self.step() as usize)
        {
            lines.push(format!(
                "The trainer shows the answer: {}",
                answer_text(self.training.project(), &lesson.gold.expected())
            ));
        }
        let used = (lines.len() as u16).min(body.height.saturating_sub(1));
        {
            let mut p = Painter::on(frame, view.theme);
            let w = body.width.saturating_sub(2);
            for (y, line) in (body.y..).zip(lines.iter().take(usize::from(used))) {
                p.put(
                    body.x + 1,
                    y,
                    w,
                    &fit(line, usize::from(w), p.fr.more),
                    p.st.key,
                );
            }
        }
        let rest = Rect::new(body.x, body.y + used, body.width, body.height - used);
        self.training.render(frame, rest, view);
    }

    fn guide(&self, keymap: &Keymap, width: usize) -> Option<String> {
        let leave = keymap
            .keys_for(Mode::Global, Action::Projects)
            .first()
            .map_or(String::new(), |k| format!("; {k} leaves the class"));
        if self.answered() {
            let text = format!("wait for the trainer's next lesson{leave}");
            return Some(fit(&text, width, "...").into_owned());
        }
        self.training.guide(keymap, width)
    }

    fn help(&self) -> ScreenHelp {
        let mut help = self.training.help();
        help.notes = "In a class: the lesson on screen is the one the trainer shows; answer \
                      it, see at once whether you were right, and wait for the trainer to \
                      move on. The trainer sees your step and how many you got right. \
                      The projects key leaves the class."
            .to_string();
        help
    }

    fn takes_text(&self) -> bool {
        self.training.takes_text()
    }

    fn leaving(&self) -> Vec<Effect> {
        vec![Effect::Class(ClassEffect::Leave)]
    }
}
