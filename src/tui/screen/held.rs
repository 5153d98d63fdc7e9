//! A project's own work screen held inside another screen (training's lessons and exam,
//! the reviewer's `edit`): the holder gives it its task and takes its answers, so a task
//! is answered with the worker's own label grid, form or text area and keys. What else it
//! asks of the runtime (more tasks, drafts, undo) has no place there: the holder reads
//! the effects it cares about (answers; sound, with `answers_with_sound`) and drops the
//! rest.

use super::{Classify, Context, Entry, Nav, Screen, Transcribe};
use crate::model::{AnswerValue, Project, Task, TaskKind};
use crate::tui::app::Effect;

/// The project's work screen, empty; its first ask for tasks is dropped (they come from
/// the holder, as `Event::Tasks`).
pub fn work_screen(project: Project, cx: &mut Context) -> Box<dyn Screen> {
    let mut effects = Vec::new();
    let mut nav = Vec::new();
    let mut inner_cx = Context {
        shared: &mut *cx.shared,
        effects: &mut effects,
        nav: &mut nav,
    };
    match project.kind {
        TaskKind::Classify => Box::new(Classify::open(project, &mut inner_cx)),
        TaskKind::Entry => Box::new(Entry::open(project, &mut inner_cx)),
        TaskKind::Transcribe => Box::new(Transcribe::open(project, &mut inner_cx)),
    }
}

/// Let the held screen take a key or an event; the effects it asked for, in order (its
/// changes of screen are dropped: it never leaves its holder).
pub fn pass(
    inner: &mut dyn Screen,
    cx: &mut Context,
    f: impl FnOnce(&mut dyn Screen, &mut Context),
) -> Vec<Effect> {
    let mut effects = Vec::new();
    let mut nav: Vec<Nav> = Vec::new();
    let mut inner_cx = Context {
        shared: &mut *cx.shared,
        effects: &mut effects,
        nav: &mut nav,
    };
    f(inner, &mut inner_cx);
    effects
}

/// The answers among a held screen's effects.
pub fn answers(effects: Vec<Effect>) -> Vec<(Task, AnswerValue)> {
    effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Save { task, value } => Some((task, value)),
            _ => None,
        })
        .collect()
}

/// The answers among a held screen's effects; its asks of the player (load the clip of
/// the task it shows, play, pause, stop) go on to the runtime, so a transcribe task held
/// here sounds as on the work screen.
pub fn answers_with_sound(effects: Vec<Effect>, cx: &mut Context) -> Vec<(Task, AnswerValue)> {
    let mut answers = Vec::new();
    for effect in effects {
        match effect {
            Effect::Save { task, value } => answers.push((task, value)),
            Effect::Player(command) => cx.effect(Effect::Player(command)),
            _ => {}
        }
    }
    answers
}
