//! The local executor's class part: the class screens' effects carried out through the
//! class link (`client::ClassLink`), and the link's notices turned into their events. A
//! student's answer is committed to the local store before anything is sent.

use super::LocalExecutor;
use crate::client::ClassNotice;
use crate::protocol::{ClassRequest, ClassResponse, normalize_join_code};
use crate::tui::app::Event;
use crate::tui::class::{ClassEffect, ClassEvent};

fn failed(message: impl Into<String>) -> Vec<Event> {
    vec![Event::Class(ClassEvent::Failed(message.into()))]
}

impl LocalExecutor<'_> {
    pub(super) fn class_effect(&mut self, effect: ClassEffect) -> Vec<Event> {
        let Some(link) = self.class_link else {
            return failed("classes need the server: start kazi work with a profile");
        };
        match effect {
            ClassEffect::Start { project } => link.ask(ClassRequest::Start { project }),
            ClassEffect::Step {
                code,
                step,
                revealed,
            } => link.ask(ClassRequest::Step {
                code,
                step,
                revealed,
            }),
            ClassEffect::End { code } => {
                link.unwatch();
                link.ask(ClassRequest::End { code });
            }
            ClassEffect::Watch { code } => link.watch(code),
            ClassEffect::Unwatch => link.unwatch(),
            ClassEffect::Open => link.ask(ClassRequest::Open),
            ClassEffect::Report { code } => link.ask(ClassRequest::Report { code }),
            ClassEffect::Join { code } => match normalize_join_code(&code) {
                Some(code) => link.join(code),
                None => {
                    return failed(
                        "that is not a class code: 6 letters and digits, as on the trainer's screen",
                    );
                }
            },
            ClassEffect::At { step } => {
                self.class_at = Some((step, std::time::Instant::now()));
                link.at(step)
            }
            ClassEffect::Answer { step, value, took } => {
                // The screens send 0: the time since the step appeared is known here.
                let took = match self.class_at {
                    Some((at, since)) if took == 0 && at == step => {
                        u32::try_from(since.elapsed().as_secs()).unwrap_or(u32::MAX)
                    }
                    _ => took,
                };
                let Some(code) = self.class_code.clone() else {
                    return failed("you are not in a class: join one first");
                };
                match self.store.record_class_answer(&code, step, &value, took) {
                    Ok(_) => link.answered(),
                    Err(e) => return failed(format!("NOT SAVED, answer again: {e}")),
                }
            }
            ClassEffect::Leave => {
                self.class_code = None;
                link.leave();
            }
        }
        Vec::new()
    }

    pub(super) fn class_notice(&mut self, notice: ClassNotice) -> Vec<Event> {
        let event = match notice {
            ClassNotice::Replied(reply) => {
                if let ClassResponse::Join { state, .. } = &reply {
                    self.class_code = Some(state.code.clone());
                }
                match ClassEvent::of_reply(reply) {
                    Some(event) => event,
                    None => return Vec::new(),
                }
            }
            ClassNotice::Failed(message) => ClassEvent::Failed(message),
            ClassNotice::View(view) => ClassEvent::View(view),
            ClassNotice::Offline { unsent } => ClassEvent::Offline { unsent },
            ClassNotice::Presence { state, stored } => {
                let mut events = Vec::new();
                if state.ended.is_some() && self.class_code.as_deref() == Some(&state.code) {
                    self.class_code = None;
                }
                events.push(Event::Class(ClassEvent::State(state)));
                if !stored.is_empty() {
                    events.push(Event::Class(ClassEvent::Scored(stored)));
                }
                return events;
            }
        };
        vec![Event::Class(event)]
    }
}
