//! The App through the one runtime with a scripted input source, ratatui's TestBackend
//! and an in-memory executor: answers arrive in order, follow-up events are handled
//! first-in first-out, and quit, stop and hang-up end the loop as they should. Nothing
//! here names crossterm or the client store: an SSH adapter plugs in the same way.

mod tui_common;

use std::collections::VecDeque;

use kazi::model::{AnswerValue, Task};
use kazi::tui::runtime::{Executor, Exit, Input, InputSource, Runtime, Session};
use kazi::tui::{App, Effect, Event, Key, Keymap, Link, Status, Tally, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::*;

/// Inputs from a script; the script's end is the input closing.
struct Script(VecDeque<Input<&'static str>>);

impl Script {
    fn keys(keys: &str, last: Input<&'static str>) -> Script {
        let mut inputs: VecDeque<_> = keys
            .split(' ')
            .map(|k| Input::Key(Key::parse(k).unwrap()))
            .collect();
        inputs.push_back(last);
        Script(inputs)
    }
}

impl InputSource for Script {
    type Notice = &'static str;

    fn next(&mut self) -> Input<&'static str> {
        self.0.pop_front().unwrap_or(Input::Closed)
    }

    fn try_next(&mut self) -> Option<Input<&'static str>> {
        // One input at a time, so the runtime draws between every two.
        None
    }
}

/// Tasks served from memory, answers recorded in a Vec, and every effect and follow-up
/// event logged in the order it happened.
struct Memory {
    pool: VecDeque<Task>,
    answers: Vec<(i64, AnswerValue)>,
    log: Vec<String>,
}

impl Memory {
    fn new(tasks: Vec<Task>) -> Memory {
        Memory {
            pool: tasks.into(),
            answers: Vec::new(),
            log: Vec::new(),
        }
    }

    fn say(&mut self, text: String) -> Event {
        self.log.push(format!("-> {text}"));
        Event::Message(text)
    }
}

impl Executor for Memory {
    type Notice = &'static str;

    fn start(&mut self) -> Vec<Event> {
        vec![
            Event::Projects(vec![products()]),
            Event::Status(Status {
                link: Link::Online,
                counts: Some(Tally::default()),
            }),
        ]
    }

    fn execute(&mut self, effect: Effect) -> Vec<Event> {
        match effect {
            Effect::ChooseProject(name) => {
                self.log.push(format!("choose {name}"));
                Vec::new()
            }
            Effect::WantTasks { .. } => {
                let n = self.pool.len().min(2);
                let page: Vec<Task> = self.pool.drain(..n).collect();
                self.log.push(format!("want: {} tasks", page.len()));
                let said = self.say(format!("loaded {n} tasks"));
                vec![Event::Tasks(page), said]
            }
            Effect::Save { task, value } => {
                self.log.push(format!("save {}", task.id));
                self.answers.push((task.id, value));
                vec![self.say(format!("saved task {}", task.id))]
            }
            other => {
                self.log.push(format!("{other:?}"));
                Vec::new()
            }
        }
    }

    fn notice(&mut self, notice: &'static str) -> Vec<Event> {
        vec![self.say(notice.to_string())]
    }
}

fn labels(ids: &[&str]) -> AnswerValue {
    AnswerValue::Labels(ids.iter().map(|s| s.to_string()).collect())
}

fn run(input: Script, tasks: Vec<Task>) -> (Exit, Session<Memory>, Terminal<TestBackend>) {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let app = App::new(Keymap::default(), Theme::default(), None);
    let session = Session::new(app, Memory::new(tasks));
    let mut runtime = Runtime {
        terminal: &mut terminal,
        input,
        session,
    };
    let exit = runtime.run().expect("TestBackend never fails");
    (exit, runtime.session, terminal)
}

fn row(terminal: &Terminal<TestBackend>, y: u16) -> String {
    let buf = terminal.backend().buffer();
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

#[test]
fn answers_flow_through_the_runtime_and_follow_ups_are_first_in_first_out() {
    let script = Script::keys("1 2 3 ctrl-q 1", Input::Closed);
    let (exit, session, terminal) = run(script, tasks("products", 1..6));
    assert_eq!(exit, Exit::Quit);
    let memory = session.executor();
    assert_eq!(
        memory.answers,
        vec![
            (1, labels(&["food"])),
            (2, labels(&["drinks"])),
            (3, labels(&["beauty"])),
        ],
        "every answer, in order; nothing after quit"
    );
    // Effects are carried out in the order the App gave them: answering task 1 gives
    // [Save, WantTasks], and the save is stored before more tasks are loaded.
    assert_eq!(
        memory.log,
        vec![
            "choose products",
            "want: 2 tasks",
            "-> loaded 2 tasks",
            "want: 2 tasks",
            "-> loaded 2 tasks",
            "save 1",
            "-> saved task 1",
            "want: 1 tasks",
            "-> loaded 1 tasks",
            "save 2",
            "-> saved task 2",
            "want: 0 tasks",
            "-> loaded 0 tasks",
            "save 3",
            "-> saved task 3",
            "want: 0 tasks",
            "-> loaded 0 tasks",
        ]
    );
    // Their follow-ups are handled in the same order: "loaded" after "saved", so the
    // last frame shows it (last-in first-out would leave "saved task 3").
    assert!(
        row(&terminal, 22).starts_with(" loaded 0 tasks "),
        "{}",
        row(&terminal, 22)
    );
    assert_eq!(shown(session.app()), Some(4));
}

#[test]
fn notices_become_events_and_the_screen_redraws() {
    let mut inputs = Script::keys("1", Input::Notice("server says hello"));
    inputs.0.push_back(Input::Closed);
    let (exit, session, terminal) = run(inputs, tasks("products", 1..4));
    assert_eq!(exit, Exit::InputClosed, "the script's end closes the input");
    assert_eq!(session.app().message(), Some("server says hello"));
    assert!(row(&terminal, 22).contains("server says hello"));
    assert_eq!(session.executor().answers, vec![(1, labels(&["food"]))]);
}

#[test]
fn stop_ends_the_loop_and_keeps_what_was_answered() {
    let (exit, session, _) = run(Script::keys("1 2", Input::Stop), tasks("products", 1..4));
    assert_eq!(exit, Exit::Stopped);
    assert_eq!(session.executor().answers.len(), 2);
}

#[test]
fn follow_ups_of_one_key_are_handled_in_the_order_produced() {
    let app = App::new(Keymap::default(), Theme::default(), None);
    let mut session = Session::new(app, Memory::new(tasks("products", 1..4)));
    assert_eq!(shown(session.app()), Some(1));
    // Task 1: [Save, WantTasks] -> "saved task 1", then Tasks, then "loaded 0 tasks".
    assert!(!session.feed(key("1")));
    assert_eq!(session.app().message(), Some("loaded 0 tasks"));
    assert_eq!(shown(session.app()), Some(2));
    assert!(session.feed(key("ctrl-q")), "quit ends the session");
}
