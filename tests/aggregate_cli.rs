//! `kazi aggregate` as an analyst runs it, on real files: results per task sorted by
//! task, gold used by wmv and ds, transcripts combined, and every bad row named by its
//! line with nothing printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kazi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kazi"))
        .arg("aggregate")
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("kazi runs")
}

fn file(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write test file");
    path
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "kazi failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

/// One line on stderr starting `kazi: `, a failure exit, nothing on stdout, no panic.
fn refused(out: &Output) -> String {
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing is printed on a bad file");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("kazi: ") && !err.contains("panicked"),
        "{err}"
    );
    err.trim_end().to_string()
}

/// Worked by hand. t2 (listed first) is 2 "x" against 1 "y"; t1 ties 1:1; t10 is
/// unanimous. Tasks print in name order: t1, t10, t2.
const ANSWERS: &str = "task,worker,label\n\
                       t2,ann,x\nt2,bob,x\nt2,cy,y\n\
                       t1,ann,x\nt1,bob,y\n\
                       t10,cy,y\nt10,ann,y\n";

#[test]
fn majority_prints_every_task_sorted_with_ties_empty() {
    let dir = tempfile::tempdir().unwrap();
    let answers = file(dir.path(), "a.csv", ANSWERS);
    let run = kazi(&["--method", "mv", answers.to_str().unwrap()]);
    assert_eq!(
        stdout(&run),
        "task,label,confidence\nt1,,0.500000\nt10,y,1.000000\nt2,x,0.666667\n"
    );
    let summary = String::from_utf8_lossy(&run.stderr);
    assert!(
        summary.contains("Krippendorff's alpha") && summary.contains("Fleiss' kappa"),
        "{summary}"
    );
}

/// Gold on t1 says "y": bob is right there and ann wrong, so weights are bob 2/3, ann
/// 1/3, cy 1/2 (never checked). t2: x = 1/3 + 2/3 = 1, y = 1/2: x at 2/3.
#[test]
fn gold_weights_workers_and_decides_gold_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let answers = file(dir.path(), "a.csv", ANSWERS);
    let gold = file(dir.path(), "g.csv", "task,label\nt1,y\nnot-answered,x\n");
    let args = |m| {
        vec![
            "--method",
            m,
            answers.to_str().unwrap(),
            "--gold",
            gold.to_str().unwrap(),
        ]
    };
    let wmv = kazi(&args("wmv"));
    assert_eq!(
        stdout(&wmv),
        "task,label,confidence\nt1,y,1.000000\nt10,y,1.000000\nt2,x,0.666667\n"
    );
    let note = String::from_utf8_lossy(&wmv.stderr);
    assert!(note.contains("1 gold tasks"), "unused gold is said: {note}");
    let ds = stdout(&kazi(&args("ds")));
    let rows: Vec<&str> = ds.lines().collect();
    assert_eq!(rows[0], "task,label,confidence");
    assert!(rows[1].starts_with("t1,y,1.0"), "gold is fixed: {ds}");
    // Three tasks are too few to say what Dawid-Skene should make of t2 (it learns
    // that ann's "x" came with a "y" on gold); every task is still decided, in order.
    assert!(
        rows[2].starts_with("t10,y,") && rows[3].starts_with("t2,"),
        "{ds}"
    );
    assert_eq!(rows.len(), 4);
}

#[test]
fn transcripts_are_combined_per_clip() {
    let dir = tempfile::tempdir().unwrap();
    let input = file(
        dir.path(),
        "t.csv",
        "task,worker,text\n\
         c2,a,\"Hello, world!\"\nc2,b,hello word\nc2,c,hello world\n\
         c1,a,one two three\nc1,b,one too three\nc1,c,won two three\n",
    );
    let out = stdout(&kazi(&["--kind", "transcript", input.to_str().unwrap()]));
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows[0], "task,text,confidence");
    assert!(rows[1].starts_with("c1,one two three,"), "{out}");
    assert!(rows[2].starts_with("c2,hello world,"), "{out}");
    let medoid = stdout(&kazi(&[
        "--kind",
        "transcript",
        "--method",
        "medoid",
        input.to_str().unwrap(),
    ]));
    assert!(
        medoid.contains("c2,\"Hello, world!\","),
        "as written: {medoid}"
    );
}

#[test]
fn bad_input_is_named_by_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name, content| file(dir.path(), name, content);
    let run = |p: PathBuf| refused(&kazi(&["--method", "ds", p.to_str().unwrap()]));

    let e = run(path(
        "twice.csv",
        "task,worker,label\nt1,a,x\nt2,a,x\nt1,a,y\n",
    ));
    assert!(
        e.ends_with("twice.csv:4: worker 'a' answered task 't1' twice (first on line 2)"),
        "{e}"
    );
    let e = run(path("short.csv", "task,worker,label\nt1,a,x\nt1,b\n"));
    assert!(
        e.ends_with("short.csv:3: expected 3 fields like the header, found 2"),
        "{e}"
    );
    let e = run(path("empty.csv", "task,worker,label\nt1,a,x\nt1, ,y\n"));
    assert!(e.ends_with("empty.csv:3: worker is empty"), "{e}");
    let e = run(path("header.csv", "task,annotator,label\nt1,a,x\n"));
    assert!(
        e.contains("header.csv:1: the header must name the columns task,worker,label"),
        "{e}"
    );
    let e = run(path("none.csv", "task,worker,label\n"));
    assert!(e.ends_with("none.csv: no answers after the header"), "{e}");
    let e = run(dir.path().join("missing.csv"));
    assert!(
        e.contains("cannot read") && e.contains("missing.csv"),
        "{e}"
    );

    let good = path("good.csv", "task,worker,label\nt1,a,x\n");
    let gold = path("gold.csv", "task,label\nt1,x\nt1,y\n");
    let e = refused(&kazi(&[
        good.to_str().unwrap(),
        "--gold",
        gold.to_str().unwrap(),
        "--method",
        "ds",
    ]));
    assert!(
        e.contains("gold.csv:3: task 't1' has two gold answers"),
        "{e}"
    );
    let e = refused(&kazi(&["--method", "em", good.to_str().unwrap()]));
    assert!(
        e.ends_with("--method must be mv, wmv or ds, got 'em'"),
        "{e}"
    );
    let e = refused(&kazi(&[
        "--kind",
        "transcript",
        "--method",
        "ds",
        good.to_str().unwrap(),
    ]));
    assert!(e.contains("rover or medoid"), "{e}");

    let bad_utf8 = dir.path().join("latin1.csv");
    std::fs::write(&bad_utf8, b"task,worker,label\nt1,a,caf\xe9\n").unwrap();
    let e = run(bad_utf8);
    assert!(e.ends_with("latin1.csv:2: not valid UTF-8"), "{e}");
}
