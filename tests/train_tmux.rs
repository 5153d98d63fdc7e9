//! The trainer's screens of the real binary in a real terminal (tmux, 80x24): `kazi demo
//! --as trainer` opens the products lessons on the presentation, the answer is revealed
//! with the key echoed, a class starts against the demo's server and shows its code, and
//! ends; quitting restores the terminal. Skipped with a loud message where tmux is missing.

#[path = "support/tmux.rs"]
mod tmux;

use tmux::Tmux;

#[test]
fn the_demo_trainer_presents_starts_and_ends_a_class_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} demo --as trainer --data-dir {} --project products; echo KAZI-EXIT=$?; sleep 60",
        env!("CARGO_BIN_EXE_kazi"),
        dir.path().display()
    );
    let Some(tmux) = Tmux::start(&cmd) else {
        return;
    };
    tmux.wait("the first lesson", |s| {
        s.contains("Lesson 1 of 12") && s.contains("Lessons: Product categories")
    });
    tmux.keys(&["F4"]);
    let s = tmux.wait("the answer", |s| s.contains("ANSWER: "));
    assert!(s.contains("Keys: f4 reveal: the answer"), "{s}");
    tmux.keys(&["Right"]);
    tmux.wait("the second lesson", |s| s.contains("Lesson 2 of 12"));
    tmux.keys(&["F7"]);
    let s = tmux.wait("the class", |s| {
        s.contains("Join in kazi work: f12, then type")
    });
    assert!(s.contains("0 students"), "{s}");
    assert!(s.contains("No students yet."), "{s}");
    tmux.keys(&["C-e"]);
    tmux.wait("the end", |s| s.contains("The class has ended."));
    tmux.keys(&["C-q"]);
    tmux.wait("exit", |s| s.contains("KAZI-EXIT=0"));
}
