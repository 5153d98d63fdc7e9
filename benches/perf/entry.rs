//! Data entry at the real worker screen: a scripted typist fills in the fixture's 44
//! documents key by key (every value of their gold, rows added as it goes) through
//! `Session` with a real store, the real sync engine and a counting link, at 80x24.
//! Gives the terminal bytes per typed character, the time from submit to the next frame,
//! the wire bytes per entry task, and the validation time of the largest form.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use kazi::client::{self, LocalStore};
use kazi::model::form::{FieldKind, FieldPath, FormValues};
use kazi::model::{AnswerValue, Project};
use kazi::tui::screen::entry::{field_at, is_picked};
use kazi::tui::{Event, Key};

use crate::common::{
    self, BenchServer, CountingScreen, Report, await_report, median, micros, open_session,
    start_engine, take_reports,
};
use crate::link::{Faults, HostileLink};

/// Most keys one document may take before the typist is deemed stuck.
const MAX_KEYS_PER_TASK: usize = 2_000;

fn receipts() -> Result<(Project, Vec<serde_json::Value>)> {
    let toml = std::fs::read_to_string(common::fixture("receipts.toml"))?;
    let mut project = Project::from_toml("receipts.toml", &toml)?;
    // Every document typed, in import order: the reference file has every entry.
    project.gold_rate = 0.0;
    let lines = std::fs::read_to_string(common::fixture("reference/receipts.jsonl"))?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<Vec<serde_json::Value>, _>>()?;
    Ok((project, lines))
}

/// Gold as written in the fixture, as form values.
fn gold_values(gold: &serde_json::Value) -> FormValues {
    let mut v = FormValues::default();
    let text = |x: &serde_json::Value| x.as_str().unwrap_or_default().to_string();
    for (id, x) in gold.as_object().into_iter().flatten() {
        match x.as_array() {
            Some(rows) => {
                let rows = rows
                    .iter()
                    .map(|r| {
                        r.as_object()
                            .into_iter()
                            .flatten()
                            .map(|(k, c)| (k.clone(), text(c)))
                            .collect()
                    })
                    .collect();
                v.groups.insert(id.clone(), rows);
            }
            None => {
                v.fields.insert(id.clone(), text(x));
            }
        }
    }
    v
}

pub fn run(report: &mut Report, _titles: &[String]) -> Result<()> {
    let (project, lines) = receipts()?;
    let gold_by_text: BTreeMap<String, FormValues> = lines
        .iter()
        .map(|l| {
            (
                l["text"].as_str().unwrap_or_default().to_string(),
                gold_values(&l["gold"]),
            )
        })
        .collect();

    // Validation of the largest form of the fixture, as client and server run it.
    let largest = gold_by_text
        .values()
        .max_by_key(|g| g.groups.values().map(Vec::len).sum::<usize>() + g.fields.len())
        .context("the fixture has documents")?;
    let answer = AnswerValue::Form(largest.clone());
    project
        .validate(&answer)
        .map_err(|e| anyhow::anyhow!("largest gold: {e}"))?;
    let mut validate_us = Vec::with_capacity(200);
    for _ in 0..200 {
        let start = Instant::now();
        for _ in 0..20 {
            std::hint::black_box(project.validate(std::hint::black_box(&answer)).is_ok());
        }
        validate_us.push(micros(start.elapsed()) / 20.0);
    }
    report.add("validate_form_us", median(&validate_us), "us");

    let server = BenchServer::start(kazi::server::ServerConfig::default())?;
    server.add_project(&project)?;
    kazi::server::admin::import_tasks(
        &*server.store,
        "receipts",
        &common::fixture("reference/receipts.jsonl"),
        &mut |_, _| {},
    )?;
    let code = server.add_worker("amina")?;
    let link = HostileLink::start(server.addr, Faults::clean());
    let wire = || link.bytes_up() + link.bytes_down();
    let home = tempfile::tempdir()?;
    let profile = client::login(home.path(), "default", &link.url(), "amina", &code)?;
    let after_login = wire();

    let mut store = LocalStore::open(&profile.db_path())?;
    let (engine, statuses) = start_engine(&profile)?;
    let mut session = open_session(&mut store, &engine, "receipts")?;
    let mut screen = CountingScreen::new()?;

    // A bare durable write beside the session's store right after each submit: what the
    // disk charged at that moment (the screen moves on only once the form is on disk).
    let probe = LocalStore::open(&home.path().join("commit-probe.db"))?;
    let probe_value = AnswerValue::Form(FormValues::default());
    let mut commit_us = Vec::new();
    let (mut char_bytes, mut submit_us) = (Vec::new(), Vec::new());
    let mut done = 0;
    let waiting = Instant::now();
    while done < lines.len() {
        take_reports(&mut session, &statuses);
        screen.draw_if_needed(&mut session)?;
        let Some(form) = session.app().entry().and_then(|e| e.current()) else {
            if waiting.elapsed() > Duration::from_secs(30) {
                bail!("no document on screen after {done} were entered");
            }
            await_report(&mut session, &statuses);
            continue;
        };
        let gold = gold_by_text
            .get(&form.task.text)
            .context("a document that is not in the fixture")?
            .clone();
        let task = form.task.id;
        for _ in 0..MAX_KEYS_PER_TASK {
            let form = session
                .app()
                .entry()
                .and_then(|e| e.current())
                .context("the form went away mid-entry")?;
            let (key, typed_char) = next_key(&project, form, &gold);
            let submit = key == Key::parse("ctrl-s")?;
            let before = screen.bytes();
            let start = Instant::now();
            session.feed(Event::Key(key));
            screen.draw_if_needed(&mut session)?;
            let took = start.elapsed();
            if typed_char {
                char_bytes.push((screen.bytes() - before) as f64);
            }
            if submit {
                if session
                    .app()
                    .entry()
                    .and_then(|e| e.current())
                    .map(|f| f.task.id)
                    == Some(task)
                {
                    bail!(
                        "document {task} was not sent: {}",
                        session.app().message().unwrap_or("no reason shown")
                    );
                }
                submit_us.push(micros(took));
                let start = Instant::now();
                probe.save_draft(done as i64 + 1, &probe_value)?;
                commit_us.push(micros(start.elapsed()));
                done += 1;
                break;
            }
        }
    }
    drop(session);
    common::flush(engine, "forms")?;
    report.add(
        "typing_terminal_bytes_per_char",
        median(&char_bytes),
        "bytes",
    );
    report.add("answer_to_next_frame_entry_us", median(&submit_us), "us");
    let rest: Vec<f64> = submit_us
        .iter()
        .zip(&commit_us)
        .map(|(frame, commit)| (frame - commit).max(0.0))
        .collect();
    report.add("entry_store_commit_us", median(&commit_us), "us");
    report.add(
        "answer_to_next_frame_entry_excl_commit_us",
        median(&rest),
        "us",
    );
    report.add(
        "wire_bytes_per_entry_task",
        (wire() - after_login) as f64 / done as f64,
        "bytes",
    );
    println!(
        "  {done} documents, {} characters typed; terminal bytes per character p90 {:.0}",
        char_bytes.len(),
        common::quantile(&char_bytes, 0.9)
    );
    Ok(())
}

/// The typist's next key toward the gold: the value at the cursor first, then a new row
/// while the gold has more, then the next place, and submit after the last.
fn next_key(
    project: &Project,
    form: &kazi::tui::screen::entry::Filling,
    gold: &FormValues,
) -> (Key, bool) {
    let schema = project.form.as_ref().expect("an entry project");
    let at = &form.at;
    let want = gold.get(at);
    let have = form.values.get(at);
    let key = |s: &str| Key::parse(s).expect("a key name");
    if have != want
        && let Some(field) = field_at(schema, at)
    {
        if is_picked(field) {
            let c = match &field.kind {
                FieldKind::Choice { options } | FieldKind::Choices { options } => {
                    options.iter().find(|o| o.id == want).map_or('?', |o| o.key)
                }
                _ => want.chars().next().unwrap_or('n'),
            };
            return (Key::char(c), false);
        }
        return match want.strip_prefix(have) {
            Some(rest) if !rest.is_empty() => (Key::char(rest.chars().next().unwrap_or(' ')), true),
            _ => (key("backspace"), false),
        };
    }
    if let FieldPath::Cell { group, row, .. } = at {
        let last_place_of_row = form.places.iter().rposition(
            |p| matches!(p, FieldPath::Cell { group: g, row: r, .. } if g == group && r == row),
        );
        let here = form.places.iter().position(|p| p == at);
        if here == last_place_of_row
            && *row + 1 == form.values.row_count(group)
            && gold.row_count(group) > row + 1
        {
            return (key("ctrl-n"), false);
        }
    }
    if form.at_last() {
        (key("ctrl-s"), false)
    } else {
        (key("tab"), false)
    }
}
