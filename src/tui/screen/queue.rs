//! The tasks a work screen holds: those waiting behind the one on screen, the ids of
//! every task held (so a reload never shows one twice), whether an ask for more is out,
//! and the drafts kept for them until they come on screen (`DraftShelf`). Each screen
//! keeps its own task on screen; this is what classify, entry and transcribe share.

use std::collections::{HashMap, HashSet, VecDeque};

use super::Context;
use crate::model::{AnswerValue, Task, sanitize_line};
use crate::tui::app::Effect;

#[derive(Debug)]
pub struct TaskQueue {
    /// Tasks waiting behind the one on screen, in arrival order.
    pub waiting: VecDeque<Task>,
    /// Ids of the waiting tasks and of the one on screen.
    pub held: HashSet<i64>,
    /// A `WantTasks` is out and not yet answered by `Tasks`.
    wanting: bool,
    /// Fewer waiting tasks than this ask the runtime for more.
    low_water: usize,
}

impl TaskQueue {
    /// A queue whose first ask (made when the screen opened) is out.
    pub fn new(low_water: usize) -> TaskQueue {
        TaskQueue {
            waiting: VecDeque::new(),
            held: HashSet::new(),
            wanting: true,
            low_water,
        }
    }

    /// Take in tasks from the store: those of `project` not held yet wait in order. The
    /// ask for them is answered.
    pub fn arrived(&mut self, project: &str, tasks: Vec<Task>) {
        self.wanting = false;
        for task in tasks {
            if task.project == project && self.held.insert(task.id) {
                self.waiting.push_back(task);
            }
        }
    }

    /// Ask for more when the queue runs short and no ask is out; `showing` says whether a
    /// task is on screen (it counts as held).
    pub fn ask_when_low(&mut self, project: &str, showing: bool, cx: &mut Context) {
        if self.waiting.len() < self.low_water && !self.wanting {
            self.wanting = true;
            cx.effect(Effect::WantTasks {
                project: project.to_string(),
                queued: self.waiting.len() + usize::from(showing),
            });
        }
    }

    /// A task taken back by undo comes on screen: it may be queued already (back from
    /// the store), and is never held twice.
    pub fn taken_back(&mut self, id: i64) {
        if self.held.contains(&id) {
            self.waiting.retain(|t| t.id != id);
        }
        self.held.insert(id);
    }
}

/// The answer an undo took back when it is this screen's to show again; None when there
/// is nothing to show here (said on the message line).
pub fn undone_here(
    undone: Option<(Task, AnswerValue)>,
    project: &str,
    cx: &mut Context,
) -> Option<(Task, AnswerValue)> {
    let Some((task, value)) = undone else {
        cx.say("nothing to undo");
        return None;
    };
    if task.project != project {
        cx.say(format!(
            "took back an answer in project {}",
            sanitize_line(&task.project)
        ));
        return None;
    }
    Some((task, value))
}

/// Drafts read from the store for tasks of the queue, kept until their task comes on
/// screen, and why one could not be read (said then, so it is not lost). Generic over a
/// screen's draft: labels, a form's values, a transcript.
#[derive(Debug)]
pub struct DraftShelf<V> {
    drafts: HashMap<i64, V>,
    unreadable: HashMap<i64, String>,
    /// The message for a draft that could not be read, from the reason.
    message: fn(&str) -> String,
}

impl<V> DraftShelf<V> {
    pub fn new(message: fn(&str) -> String) -> DraftShelf<V> {
        DraftShelf {
            drafts: HashMap::new(),
            unreadable: HashMap::new(),
            message,
        }
    }

    /// What to say about a draft that could not be read, and why.
    pub fn unreadable_message(&self, why: &str) -> String {
        (self.message)(why)
    }

    /// A draft read from the store: given back when it is for the task on screen
    /// (`showing`), kept when its task waits in `queue`, dropped otherwise.
    pub fn arrived(
        &mut self,
        task: i64,
        draft: V,
        showing: Option<i64>,
        queue: &TaskQueue,
    ) -> Option<V> {
        if showing == Some(task) {
            return Some(draft);
        }
        if queue.held.contains(&task) {
            self.drafts.insert(task, draft);
        }
        None
    }

    /// A draft the store could not read: said at once for the task on screen (or one not
    /// held here), else when its task comes on screen.
    pub fn unreadable(
        &mut self,
        task: i64,
        why: String,
        showing: Option<i64>,
        queue: &TaskQueue,
        cx: &mut Context,
    ) {
        if showing == Some(task) || !queue.held.contains(&task) {
            cx.say(self.unreadable_message(&why));
        } else {
            self.drafts.remove(&task);
            self.unreadable.insert(task, why);
        }
    }

    /// Task `task` comes on screen: its kept draft, if any; a draft that could not be
    /// read is said now.
    pub fn on_screen(&mut self, task: i64, cx: &mut Context) -> Option<V> {
        if let Some(why) = self.unreadable.remove(&task) {
            cx.say(self.unreadable_message(&why));
        }
        self.drafts.remove(&task)
    }

    /// Keep the draft of a task going back into the queue (an undo took its place).
    pub fn keep(&mut self, task: i64, draft: V) {
        self.drafts.insert(task, draft);
    }
}
