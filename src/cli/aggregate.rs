//! `kazi aggregate`: final answers from any crowd CSV for analysts. Labels
//! (`task,worker,label`) by majority, gold-weighted vote or Dawid-Skene; transcripts
//! (`task,worker,text`) by ROVER or medoid. The file streams through; nothing is
//! printed unless every row is good.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use kazi::model::sanitize_line;
use kazi::quality::agreement;
use kazi::quality::transcript::{TranscriptDecision, medoid, rover};
use kazi::quality::{CrowdBuilder, CrowdError, CrowdLabels, DsOptions, Method, TaskLabel, labels};

/// What the rows hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Label,
    Transcript,
}

/// Files above this size get a progress bar on stderr.
const PROGRESS_FROM_BYTES: u64 = 8 << 20;

/// A CSV file with a header naming the columns we need (others are ignored).
struct CsvInput {
    name: String,
    reader: csv::Reader<BufReader<File>>,
    columns: Vec<(usize, &'static str)>,
    bar: indicatif::ProgressBar,
}

impl CsvInput {
    fn open(path: &Path, wanted: &[&'static str]) -> Result<CsvInput> {
        let name = path.display().to_string();
        let file = File::open(path).with_context(|| format!("cannot read {name}"))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(BufReader::with_capacity(1 << 20, file));
        let header = reader
            .headers()
            .map_err(|e| anyhow!("{name}:1: cannot read the header: {}", csv_why(&e)))?
            .clone();
        let mut columns = Vec::with_capacity(wanted.len());
        for want in wanted {
            let Some(i) = header.iter().position(|h| h.trim() == *want) else {
                bail!(
                    "{name}:1: the header must name the columns {} (found: {})",
                    wanted.join(","),
                    sanitize_line(&header.iter().collect::<Vec<_>>().join(","))
                );
            };
            columns.push((i, *want));
        }
        let bar = if size >= PROGRESS_FROM_BYTES {
            let bar = indicatif::ProgressBar::new(size);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} read")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        Ok(CsvInput {
            name,
            reader,
            columns,
            bar,
        })
    }

    /// Call `each(line, fields)` for every data row, fields in the order asked for.
    /// Empty fields are refused with their line.
    fn rows(&mut self, mut each: impl FnMut(u64, &[&str]) -> Result<()>) -> Result<u64> {
        let mut record = csv::StringRecord::new();
        let mut rows = 0u64;
        loop {
            let more = self.reader.read_record(&mut record).map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                anyhow!("{}:{line}: {}", self.name, csv_why(&e))
            })?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, |p| p.line());
            let mut fields: [&str; 3] = [""; 3];
            for (field, &(column, what)) in fields.iter_mut().zip(&self.columns) {
                let value = record.get(column).map(str::trim).unwrap_or("");
                if value.is_empty() {
                    bail!("{}:{line}: {what} is empty", self.name);
                }
                *field = value;
            }
            each(line, &fields[..self.columns.len()])
                .map_err(|e| anyhow!("{}:{line}: {e}", self.name))?;
            rows += 1;
            if rows.is_multiple_of(65_536)
                && let Some(p) = record.position()
            {
                self.bar.set_position(p.byte());
            }
        }
        self.bar.finish_and_clear();
        Ok(rows)
    }
}

/// The csv error without its position (we print `FILE:LINE:` ourselves).
fn csv_why(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields like the header, found {len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

/// The io error inside a CSV writer's error, kind kept: `main` ends quietly when the
/// reader closed the pipe (`kazi aggregate ... | head`).
fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

pub fn run(kind: Kind, method: Option<&str>, file: &Path, gold: Option<&Path>) -> Result<()> {
    match kind {
        Kind::Label => {
            let method = match method.unwrap_or("mv") {
                "rover" | "medoid" => bail!("--method rover|medoid is for --kind transcript"),
                name => Method::parse(name).ok_or_else(|| {
                    anyhow!(
                        "--method must be mv, wmv or ds, got '{}'",
                        sanitize_line(name)
                    )
                })?,
            };
            labels_run(method, file, gold)
        }
        Kind::Transcript => {
            if gold.is_some() {
                bail!("--gold is for labels; transcripts have no gold here");
            }
            let combine = match method.unwrap_or("rover") {
                "rover" => rover,
                "medoid" => medoid,
                other => bail!(
                    "--method for transcripts must be rover or medoid, got '{}'",
                    sanitize_line(other)
                ),
            };
            transcripts_run(combine, file)
        }
    }
}

fn read_labels(file: &Path, gold: Option<&Path>) -> Result<CrowdLabels> {
    let mut builder = CrowdBuilder::new();
    let mut input = CsvInput::open(file, &["task", "worker", "label"])?;
    input.rows(|line, f| Ok(builder.vote_on_line(line, f[0], f[1], f[2])?))?;
    if builder.is_empty() {
        bail!("{}: no answers after the header", file.display());
    }
    if let Some(path) = gold {
        let mut input = CsvInput::open(path, &["task", "label"])?;
        let mut unknown = 0u64;
        input.rows(|_, f| {
            unknown += u64::from(!builder.gold(f[0], f[1])?);
            Ok(())
        })?;
        if unknown > 0 {
            eprintln!(
                "kazi: note: {unknown} gold tasks of {} have no answers in {}",
                path.display(),
                file.display()
            );
        }
    }
    builder.finish().map_err(|e| {
        let why = sanitize_line(&e.to_string()).into_owned();
        match e {
            CrowdError::Twice { line, .. } => anyhow!("{}:{line}: {why}", file.display()),
            _ => anyhow!("{}: {why}", file.display()),
        }
    })
}

fn labels_run(method: Method, file: &Path, gold: Option<&Path>) -> Result<()> {
    let data = read_labels(file, gold)?;
    if gold.is_some() && method == Method::Majority {
        eprintln!("kazi: note: mv does not use gold; wmv and ds do");
    }
    if gold.is_none() && method == Method::Weighted {
        eprintln!("kazi: note: without --gold, wmv weighs every worker alike (it is mv)");
    }
    let (alpha, kappa) = agreement::alpha_and_kappa(&data);
    let shown = |x: Option<f64>| x.map_or("undefined".to_string(), |x| format!("{x:.4}"));
    eprintln!(
        "kazi: agreement between workers: Krippendorff's alpha {}, Fleiss' kappa {}",
        shown(alpha),
        shown(kappa)
    );
    let decisions: Vec<TaskLabel> = match method {
        Method::DawidSkene => {
            let fit = labels::dawid_skene(&data, &DsOptions::default());
            eprintln!(
                "kazi: {} answers, {} tasks ({} gold), {} workers, {} labels; Dawid-Skene {} after {} rounds",
                data.votes.len(),
                data.tasks.len(),
                data.gold_count(),
                data.workers.len(),
                data.labels.len(),
                if fit.converged {
                    "converged"
                } else {
                    "stopped at the cap"
                },
                fit.iterations
            );
            fit.decisions
        }
        other => labels::decide(&data, other, &DsOptions::default()),
    };
    let stdout = std::io::stdout();
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(stdout.lock()));
    out.write_record(["task", "label", "confidence"])
        .map_err(csv_io)?;
    for (task, decided) in data.tasks.iter().zip(&decisions) {
        let label = decided
            .label
            .map_or("", |l| data.labels[l as usize].as_str());
        out.write_record([task.as_str(), label, &format!("{:.6}", decided.confidence)])
            .map_err(csv_io)?;
    }
    out.flush()?;
    Ok(())
}

fn transcripts_run(
    combine: fn(&[(&str, &str)]) -> Option<TranscriptDecision>,
    file: &Path,
) -> Result<()> {
    // Transcripts are held per task: each task is combined from all of its rows.
    let mut by_task: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut input = CsvInput::open(file, &["task", "worker", "text"])?;
    input.rows(|_, f| {
        let entries = by_task.entry(f[0].to_string()).or_default();
        if entries.iter().any(|(w, _)| w == f[1]) {
            bail!(
                "worker '{}' gave task '{}' two transcripts",
                sanitize_line(f[1]),
                sanitize_line(f[0])
            );
        }
        entries.push((f[1].to_string(), f[2].to_string()));
        Ok(())
    })?;
    if by_task.is_empty() {
        bail!("{}: no transcripts after the header", file.display());
    }
    let stdout = std::io::stdout();
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(stdout.lock()));
    out.write_record(["task", "text", "confidence"])
        .map_err(csv_io)?;
    for (task, entries) in &by_task {
        let borrowed: Vec<(&str, &str)> = entries
            .iter()
            .map(|(w, t)| (w.as_str(), t.as_str()))
            .collect();
        let decided =
            combine(&borrowed).ok_or_else(|| anyhow!("task '{task}' has no transcripts"))?;
        out.write_record([
            task.as_str(),
            &decided.text,
            &format!("{:.6}", decided.confidence),
        ])
        .map_err(csv_io)?;
    }
    out.flush()?;
    Ok(())
}
