//! Agreement per pair of workers from the server's own answers (`kazi admin project
//! agreement`): for labels, the share of tasks both answered where they gave the same
//! answer; for transcripts, their mean normalised word error rate; for forms, the same
//! field by field. Computed by `quality` over each task's counted answers in the
//! project's normal form; workers named as an export names them (`Naming`).

use std::collections::HashSet;
use std::io::Write;

use super::{AdminError, Named, Naming, csv_io, project_schema};
use crate::model::{AnswerValue, Project, sanitize_line, text_width};
use crate::quality::CrowdBuilder;
use crate::quality::agreement::{PairAgreement, label_agreement, pairwise_wer};
use crate::quality::form::pair_field_agreement;
use crate::server::scheduler::double_entry::entered_fields;
use crate::server::store::{Store, StoreError, TaskRecord};

/// How the table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementFormat {
    /// Aligned columns for a person, every text shown inert.
    Table,
    Csv,
}

/// One row per pair of workers (per pair and field for forms), pairs by name.
#[derive(Debug, Clone, PartialEq)]
pub struct PairTable {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// Every counted answer of each task answered at least twice, by worker (one answer per
/// name: the first), in the project's normal form.
fn answered_tasks(
    store: &Named<'_>,
    name: &str,
    project: &Project,
) -> Result<Vec<Vec<(String, AnswerValue)>>, AdminError> {
    let mut tasks = Vec::new();
    store.export(name, &mut |task: TaskRecord| {
        let mut seen = HashSet::new();
        let answers: Vec<(String, AnswerValue)> = task
            .answers
            .into_iter()
            .filter(|a| !a.superseded && seen.insert(a.worker.clone()))
            .map(|a| (a.worker, project.normalise(&a.value)))
            .collect();
        if answers.len() >= 2 {
            tasks.push(answers);
        }
        Ok(())
    })?;
    Ok(tasks)
}

fn share(pair: &PairAgreement) -> String {
    pair.share()
        .map_or_else(String::new, |s| format!("{:.4}", super::rounded(s)))
}

/// The pairs of `project` with how much each agrees, naming workers as `naming` says.
pub fn pair_agreement(
    store: &dyn Store,
    name: &str,
    naming: Naming,
) -> Result<PairTable, AdminError> {
    let project = project_schema(store, name)?;
    let named = Named::new(store, naming)?;
    let tasks = answered_tasks(&named, name, &project)?;
    if let Some(form) = &project.form {
        let keyed: Vec<Vec<(&str, _)>> = tasks
            .iter()
            .map(|t| {
                t.iter()
                    .map(|(w, v)| (w.as_str(), entered_fields(form, v).keys))
                    .collect()
            })
            .collect();
        let refs: Vec<Vec<(&str, &_)>> = keyed
            .iter()
            .map(|t| t.iter().map(|(w, k)| (*w, k)).collect())
            .collect();
        let pairs = pair_field_agreement(refs.iter().map(Vec::as_slice));
        let mut rows = Vec::new();
        for ((a, b), fields) in pairs {
            for (field, pair) in fields {
                rows.push(vec![
                    a.clone(),
                    b.clone(),
                    field,
                    pair.shared.to_string(),
                    pair.agreed.to_string(),
                    share(&pair),
                ]);
            }
        }
        let header = vec![
            "worker_a",
            "worker_b",
            "field",
            "tasks",
            "agreed",
            "agreement",
        ];
        return Ok(PairTable { header, rows });
    }
    if let Some(rules) = &project.transcribe {
        let texts: Vec<Vec<(&str, &str)>> = tasks
            .iter()
            .map(|t| {
                t.iter()
                    .map(|(w, v)| (w.as_str(), v.transcript().unwrap_or("")))
                    .collect()
            })
            .collect();
        let (_, pairs) = pairwise_wer(&rules.normalise, texts.iter().map(Vec::as_slice));
        let rows = pairs
            .into_iter()
            .map(|((a, b), pair)| {
                let wer = format!("{:.4}", super::rounded(pair.mean));
                vec![a, b, pair.shared.to_string(), wer]
            })
            .collect();
        let header = vec!["worker_a", "worker_b", "tasks", "wer"];
        return Ok(PairTable { header, rows });
    }
    let mut builder = CrowdBuilder::new();
    for (t, task) in tasks.iter().enumerate() {
        for (worker, value) in task {
            builder
                .vote(&t.to_string(), worker, &value.to_compact())
                .map_err(|e| StoreError::Aborted(e.to_string()))?;
        }
    }
    let data = builder
        .finish()
        .map_err(|e| StoreError::Aborted(e.to_string()))?;
    let rows = label_agreement(&data)
        .pairs
        .into_iter()
        .map(|((a, b), pair)| {
            vec![
                data.workers[a as usize].clone(),
                data.workers[b as usize].clone(),
                pair.shared.to_string(),
                pair.agreed.to_string(),
                share(&pair),
            ]
        })
        .collect();
    let header = vec!["worker_a", "worker_b", "tasks", "agreed", "agreement"];
    Ok(PairTable { header, rows })
}

/// Write the table: CSV byte for byte (`inert` shows every text inert, for a terminal),
/// or aligned columns, always inert.
pub fn write_pairs(
    table: &PairTable,
    format: AgreementFormat,
    inert: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let show = |cell: &str| -> String {
        if inert || format == AgreementFormat::Table {
            sanitize_line(cell).into_owned()
        } else {
            cell.to_string()
        }
    };
    let mut all: Vec<Vec<String>> = vec![table.header.iter().map(|h| h.to_string()).collect()];
    all.extend(
        table
            .rows
            .iter()
            .map(|r| r.iter().map(|c| show(c)).collect()),
    );
    match format {
        AgreementFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            for row in &all {
                csv.write_record(row)
                    .map_err(|e| AdminError::Write(csv_io(e)))?;
            }
            csv.flush().map_err(AdminError::Write)?;
        }
        AgreementFormat::Table => {
            let columns = table.header.len();
            let widths: Vec<usize> = (0..columns)
                .map(|i| all.iter().map(|r| text_width(&r[i])).max().unwrap_or(0))
                .collect();
            // Names (and a form's field) to the left, figures to the right.
            let texts = table
                .header
                .iter()
                .take_while(|h| !matches!(**h, "tasks"))
                .count();
            for row in &all {
                let cells: Vec<String> = row
                    .iter()
                    .zip(&widths)
                    .enumerate()
                    .map(|(i, (cell, w))| {
                        let pad = " ".repeat(w - text_width(cell));
                        if i < texts {
                            format!("{cell}{pad}")
                        } else {
                            format!("{pad}{cell}")
                        }
                    })
                    .collect();
                writeln!(out, "{}", cells.join("  ").trim_end()).map_err(AdminError::Write)?;
            }
        }
    }
    Ok(())
}
