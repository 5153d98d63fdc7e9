//! The tasks a work screen holds: those waiting behind the one on screen, the ids of
//! every task held (so a reload never shows one twice), and whether an ask for more is
//! out. Classify and entry keep their own current task and drafts; this is what they share.

use std::collections::{HashSet, VecDeque};

use super::Context;
use crate::model::Task;
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
}
