//! Aggregation benchmark, run by `cargo bench --bench aggregate`: Dawid-Skene beside
//! majority and gold-weighted vote on synthetic crowd data with known truth (1,000,000
//! answers by default, `KAZI_BENCH_ANSWERS` to change), without and with 5% gold.
//! Prints seconds, peak memory and accuracy; runs crowd-kit's DawidSkene on the same CSV
//! when `KAZI_CROWDKIT_PYTHON` names a Python with crowd-kit installed.

#[path = "aggregate/synth.rs"]
mod synth;

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kazi::quality::{CrowdBuilder, CrowdLabels, DsOptions, TaskLabel, labels};

const OVERLAP: usize = 5;
const GOLD_SHARE: f64 = 0.05;

/// Peak resident memory of this process since the last reset, in MiB (Linux).
fn peak_mib() -> Option<f64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Start a new peak-memory window (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak() {
    let _ = fs::write("/proc/self/clear_refs", "5");
}

fn current_mib() -> Option<f64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn mib(x: Option<f64>) -> String {
    x.map_or("?".into(), |m| format!("{m:.0} MiB"))
}

/// Share of scored tasks decided right; a tie or undecided task counts as wrong.
fn accuracy(data: &CrowdLabels, decided: &[TaskLabel], truth: &[usize], scored: &[bool]) -> f64 {
    let (mut right, mut total) = (0usize, 0usize);
    for (t, d) in decided.iter().enumerate() {
        let task: usize = data.tasks[t][1..].parse().expect("bench task names are tN");
        if !scored[task] {
            continue;
        }
        total += 1;
        let label = d
            .label
            .map(|l| data.labels[l as usize][1..].parse::<usize>().expect("lN"));
        right += usize::from(label == Some(truth[task]));
    }
    right as f64 / total.max(1) as f64
}

/// The names an analyst's file has for tasks, workers and labels.
struct Names {
    tasks: Vec<String>,
    workers: Vec<String>,
    labels: Vec<String>,
}

impl Names {
    fn of(crowd: &synth::Crowd) -> Names {
        Names {
            tasks: (0..crowd.truth.len()).map(|t| format!("t{t}")).collect(),
            workers: (0..crowd.workers.len()).map(|w| format!("w{w}")).collect(),
            labels: (0..crowd.labels).map(|l| format!("l{l}")).collect(),
        }
    }
}

/// The rows as an analyst's file has them: names, not indices, interned here.
fn build(crowd: &synth::Crowd, names: &Names, gold: Option<&[bool]>) -> CrowdLabels {
    let mut b = CrowdBuilder::new();
    for &(t, w, l) in &crowd.answers {
        b.vote(
            &names.tasks[t as usize],
            &names.workers[w as usize],
            &names.labels[l as usize],
        )
        .expect("cannot fail below 2^32 names");
    }
    if let Some(gold) = gold {
        for (t, _) in gold.iter().enumerate().filter(|&(_, &g)| g) {
            b.gold(&names.tasks[t], &names.labels[crowd.truth[t]])
                .expect("one gold per task");
        }
    }
    b.finish().expect("one vote per worker and task")
}

fn write_csv(dir: &Path, crowd: &synth::Crowd, gold: &[bool]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut out = BufWriter::new(fs::File::create(dir.join("answers.csv"))?);
    writeln!(out, "task,worker,label")?;
    for &(t, w, l) in &crowd.answers {
        writeln!(out, "t{t},w{w},l{l}")?;
    }
    out.flush()?;
    let mut out = BufWriter::new(fs::File::create(dir.join("truth.csv"))?);
    writeln!(out, "task,label")?;
    for (t, l) in crowd.truth.iter().enumerate() {
        writeln!(out, "t{t},l{l}")?;
    }
    out.flush()?;
    let mut out = BufWriter::new(fs::File::create(dir.join("gold.csv"))?);
    writeln!(out, "task,label")?;
    for (t, _) in gold.iter().enumerate().filter(|&(_, &g)| g) {
        writeln!(out, "t{t},l{}", crowd.truth[t])?;
    }
    out.flush()
}

struct Row {
    run: String,
    seconds: f64,
    peak: Option<f64>,
    accuracy: f64,
}

fn print_row(r: &Row) {
    println!(
        "  {:<34} {:>8.3} s {:>10}  accuracy {:.6}",
        r.run,
        r.seconds,
        mib(r.peak),
        r.accuracy
    );
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, Option<f64>) {
    reset_peak();
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64(), peak_mib())
}

fn main() {
    let answers: usize = std::env::var("KAZI_BENCH_ANSWERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let workers = (answers / 500).max(10);
    let crowd = synth::generate(answers, OVERLAP, workers, 20_240_601);
    let tasks = crowd.truth.len();
    let gold = synth::gold_tasks(tasks, GOLD_SHARE);
    let everything = vec![true; tasks];
    let not_gold: Vec<bool> = gold.iter().map(|g| !g).collect();
    println!(
        "aggregate: {} answers, {tasks} tasks x {OVERLAP}, {workers} workers (good, biased, spamming), {} labels, gold {} tasks",
        crowd.answers.len(),
        crowd.labels,
        gold.iter().filter(|&&g| g).count()
    );
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/aggregate-bench");
    if let Err(e) = write_csv(&dir, &crowd, &gold) {
        println!("cannot write the CSV files to {}: {e}", dir.display());
    }
    println!(
        "  data: {}/answers.csv (gold.csv, truth.csv beside it)",
        dir.display()
    );
    println!("  baseline memory {}", mib(current_mib()));

    let mut rows = Vec::new();
    println!("without gold (accuracy over all tasks):");
    let names = Names::of(&crowd);
    let (data, build_s, build_peak) = timed(|| build(&crowd, &names, None));
    println!(
        "  {:<34} {:>8.3} s {:>10}",
        "load rows (intern names)",
        build_s,
        mib(build_peak)
    );
    let options = DsOptions::default();
    let (mv, s, p) = timed(|| labels::majority_vote(&data));
    rows.push(Row {
        run: "kazi mv".into(),
        seconds: s,
        peak: p,
        accuracy: accuracy(&data, &mv, &crowd.truth, &everything),
    });
    print_row(rows.last().expect("pushed"));
    println!(
        "  {:<34} {} tasks tied (counted wrong)",
        "",
        mv.iter().filter(|d| d.label.is_none()).count()
    );
    let (fit, s, p) = timed(|| labels::dawid_skene(&data, &options));
    let ds_plain = Row {
        run: format!("kazi ds ({} rounds)", fit.iterations),
        seconds: s,
        peak: p,
        accuracy: accuracy(&data, &fit.decisions, &crowd.truth, &everything),
    };
    print_row(&ds_plain);
    println!(
        "  {:<34} {} tasks tied",
        "",
        fit.decisions.iter().filter(|d| d.label.is_none()).count()
    );
    println!(
        "  {:<34} {:>8.3} s",
        "kazi ds from rows (load + fit)",
        build_s + ds_plain.seconds
    );
    drop(fit);
    if std::env::var_os("KAZI_BENCH_TIGHT").is_some() {
        for (tolerance, smoothing) in [(1e-10, 0.01), (1e-7, 0.1), (1e-7, 1.0)] {
            let tuned = DsOptions {
                max_iterations: 500,
                tolerance,
                smoothing,
            };
            let (fit, s, _) = timed(|| labels::dawid_skene(&data, &tuned));
            println!(
                "  kazi ds tolerance {tolerance:e} smoothing {smoothing} ({} rounds)  {s:>8.3} s  accuracy {:.6}",
                fit.iterations,
                accuracy(&data, &fit.decisions, &crowd.truth, &everything)
            );
        }
    }
    drop(data);

    println!("with 5% gold (accuracy over the tasks without gold):");
    let (data, _, _) = timed(|| build(&crowd, &names, Some(&gold)));
    let mv = labels::majority_vote(&data);
    let mv_gold_acc = accuracy(&data, &mv, &crowd.truth, &not_gold);
    print_row(&Row {
        run: "kazi mv".into(),
        seconds: 0.0,
        peak: None,
        accuracy: mv_gold_acc,
    });
    let (wmv, s, p) = timed(|| labels::weighted_vote(&data));
    print_row(&Row {
        run: "kazi wmv".into(),
        seconds: s,
        peak: p,
        accuracy: accuracy(&data, &wmv, &crowd.truth, &not_gold),
    });
    let (fit, s, p) = timed(|| labels::dawid_skene(&data, &options));
    let ds_gold = Row {
        run: format!("kazi ds + gold ({} rounds)", fit.iterations),
        seconds: s,
        peak: p,
        accuracy: accuracy(&data, &fit.decisions, &crowd.truth, &not_gold),
    };
    print_row(&ds_gold);
    let ds_plain_on_not_gold = {
        let plain = data.without_gold();
        let fit = labels::dawid_skene(&plain, &options);
        accuracy(&plain, &fit.decisions, &crowd.truth, &not_gold)
    };
    let scored = not_gold.iter().filter(|&&s| s).count() as f64;
    println!(
        "  kazi ds without gold, same tasks:  accuracy {ds_plain_on_not_gold:.6}; with gold {:+.0} tasks right ({})",
        ((ds_gold.accuracy - ds_plain_on_not_gold) * scored).round(),
        if ds_gold.accuracy > ds_plain_on_not_gold {
            "higher with gold"
        } else {
            "NOT higher with gold"
        }
    );

    crowdkit(
        &dir,
        ds_plain.seconds,
        build_s,
        ds_plain.accuracy,
        ds_gold.accuracy,
    );
}

/// crowd-kit's DawidSkene on the same files, if a Python with it is named.
fn crowdkit(dir: &Path, kazi_fit: f64, kazi_load: f64, kazi_acc: f64, kazi_gold_acc: f64) {
    let Ok(python) = std::env::var("KAZI_CROWDKIT_PYTHON") else {
        println!();
        println!(
            "*** crowd-kit NOT RUN: set KAZI_CROWDKIT_PYTHON to a python with crowd-kit 1.4.2 ***"
        );
        println!(
            "*** (python3 -m venv /work/venv-crowdkit && /work/venv-crowdkit/bin/pip install crowd-kit==1.4.2 'scikit-learn<1.6') ***"
        );
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/crowdkit_ds.py");
    println!("crowd-kit ({python} {}):", script.display());
    let out = Command::new(&python).arg(&script).arg(dir).output();
    let out = match out {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            println!(
                "*** crowd-kit FAILED: {} ***",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
        Err(e) => {
            println!("*** crowd-kit FAILED to start {python}: {e} ***");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fit = None;
    let mut acc = None;
    let mut gold_acc = None;
    for line in text.lines() {
        println!("  {line}");
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name).and_then(|v| v.parse::<f64>().ok()))
        };
        if line.starts_with("crowdkit ds + gold") {
            gold_acc = field("accuracy=");
        } else if line.starts_with("crowdkit ds ") {
            fit = field("fit_s=");
            acc = field("accuracy=");
        }
    }
    if let (Some(fit), Some(acc)) = (fit, acc) {
        println!(
            "  speed-up: {:.0}x on the fit, {:.0}x counting Kazi's loading of the rows",
            fit / kazi_fit,
            fit / (kazi_fit + kazi_load)
        );
        println!(
            "  accuracy: kazi {kazi_acc:.6} vs crowd-kit {acc:.6} ({})",
            if kazi_acc >= acc { "no lower" } else { "LOWER" }
        );
    }
    if let Some(gold_acc) = gold_acc {
        println!("  with gold: kazi {kazi_gold_acc:.6} vs crowd-kit {gold_acc:.6}");
    }
}
