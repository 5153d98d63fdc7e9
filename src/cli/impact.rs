//! Impact commands: intake records, `kazi report`, signed work records and
//! `kazi verify`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use kazi::model::intake::{IntakeForm, parse_day};
use kazi::model::sanitize_line;
use kazi::server::impact::figures::GroupBy;
use kazi::server::impact::signing::{CentreKey, public_path};
use kazi::server::impact::{self, record, report as render};
use kazi::server::store::Backend;
use kazi::server::{Clock, Store};

use super::admin::open;

pub fn intake_form(db: &str, file: &Path) -> Result<()> {
    let text =
        fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let form = IntakeForm::from_toml(&file.display().to_string(), &text)?;
    let store = open(db)?;
    store.put_intake_form(&form)?;
    let ids: Vec<&str> = form.fields.iter().map(|f| f.id.as_str()).collect();
    say!(
        "Intake form set: date, cohort{}{} (each field also takes prefer_not_to_say).",
        if ids.is_empty() { "" } else { ", " },
        ids.join(", ")
    )?;
    Ok(())
}

/// Set (part of) a user's intake record.
pub fn user_intake(db: &str, name: &str, settings: &[String]) -> Result<()> {
    let store = open(db)?;
    if settings.is_empty() {
        bail!(
            "say what to set, for example: kazi admin --db {db} user intake {name} cohort=2026-sep"
        );
    }
    let intake = impact::intake_with(store.as_ref(), name, settings)?;
    store.put_intake(name, &intake)?;
    say!("Intake record of {} set.", sanitize_line(name))?;
    Ok(())
}

/// Check intake settings before a user is added, so a bad one adds nothing.
pub fn check_intake(store: &dyn Store, name: &str, settings: &[String]) -> Result<()> {
    if !settings.is_empty() {
        impact::intake_with(store, name, settings)?;
    }
    Ok(())
}

pub fn store_intake(store: &dyn Store, name: &str, settings: &[String]) -> Result<()> {
    if !settings.is_empty() {
        let intake = impact::intake_with(store, name, settings)?;
        store.put_intake(name, &intake)?;
        say!("Intake record of {} set.", sanitize_line(name))?;
    }
    Ok(())
}

pub fn intake_list(db: &str) -> Result<()> {
    let store = open(db)?;
    let intakes = store.intakes()?;
    if intakes.is_empty() {
        say!(
            "No intake records yet; set one with kazi admin --db {db} user intake NAME cohort=..."
        )?;
    }
    for (name, intake) in intakes {
        let mut parts = Vec::new();
        if let Some(d) = &intake.date {
            parts.push(format!("date={d}"));
        }
        if let Some(c) = &intake.cohort {
            parts.push(format!("cohort={}", sanitize_line(c)));
        }
        for (k, v) in &intake.fields {
            parts.push(format!("{k}={v}"));
        }
        say!("{}: {}", sanitize_line(&name), parts.join(" "))?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
pub enum ReportFormat {
    Table,
    Csv,
    Html,
}

fn day_arg(flag: &str, text: &str) -> Result<i64> {
    parse_day(text).with_context(|| {
        format!(
            "{flag} '{}' is not a day like 2026-11-02",
            sanitize_line(text)
        )
    })
}

pub fn report(
    db: &str,
    from: Option<&str>,
    to: Option<&str>,
    by: &str,
    format: ReportFormat,
    out: Option<&Path>,
) -> Result<()> {
    let from = from
        .map(|d| day_arg("--from", d))
        .transpose()?
        .unwrap_or(i64::MIN);
    // --to names the last day included.
    let to = to
        .map(|d| day_arg("--to", d).map(|t| t + 86_400))
        .transpose()?
        .unwrap_or(i64::MAX);
    let store = open(db)?;
    let by = GroupBy::parse(by);
    if let GroupBy::Field(id) = &by
        && store.intake_form()?.field(id).is_none()
    {
        let form = store.intake_form()?;
        let fields: Vec<&str> = form.fields.iter().map(|f| f.id.as_str()).collect();
        bail!(
            "--by '{}' is not worker, project, cohort, week or an intake field ({})",
            sanitize_line(id),
            if fields.is_empty() {
                "none set".to_string()
            } else {
                fields.join(", ")
            }
        );
    }
    let rows = impact::report(store.as_ref(), from, to, &by)?;
    let text = match format {
        ReportFormat::Table => render::table(&rows, &by),
        ReportFormat::Csv => render::csv(&rows, &by)?,
        ReportFormat::Html => {
            render::html(&rows, &by, &format!("Kazi centre report by {}", by.name()))
        }
    };
    match out {
        Some(path) => {
            fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "Report of {} rows written to {}.",
                rows.len(),
                path.display()
            );
        }
        None => {
            if matches!(format, ReportFormat::Html) {
                bail!("an HTML report goes to a file: add --out report.html");
            }
            use std::io::Write as _;
            std::io::stdout().lock().write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

/// Where the centre's key lives: beside a SQLite database, or where `--key` says.
fn key_path(db: &str, key: Option<&Path>) -> Result<PathBuf> {
    if let Some(key) = key {
        return Ok(key.to_path_buf());
    }
    match Backend::of(db)? {
        Backend::Sqlite(path) => Ok(path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("centre.key")),
        Backend::Postgres(_) => bail!(
            "a PostgreSQL centre keeps its signing key in a file: add --key /var/lib/kazi/centre.key"
        ),
    }
}

pub fn record(db: &str, name: &str, out_dir: Option<&Path>, key: Option<&Path>) -> Result<()> {
    let store = open(db)?;
    let path = key_path(db, key)?;
    let record = impact::work_record(store.as_ref(), name, Clock::system().now())?;
    let (key, made) = CentreKey::load_or_create(&path)?;
    if made {
        eprintln!(
            "Made the centre's signing key {} (mode 0600); give {} to whoever checks records.",
            path.display(),
            public_path(&path).display()
        );
    }
    let dir = out_dir.unwrap_or(Path::new("."));
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let text_path = dir.join(format!("{safe}-record.txt"));
    let json_path = dir.join(format!("{safe}-record.json"));
    fs::write(&text_path, record::signed_text(&record, &key))
        .with_context(|| format!("cannot write {}", text_path.display()))?;
    fs::write(&json_path, record::signed_json(&record, &key))
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    say!(
        "Work record of {}: {} and {} (signed; check with kazi verify FILE --key {}).",
        sanitize_line(name),
        text_path.display(),
        json_path.display(),
        public_path(&path).display()
    )?;
    Ok(())
}

pub fn verify(file: &Path, key: &Path) -> Result<()> {
    let text =
        fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let public =
        fs::read_to_string(key).with_context(|| format!("cannot read {}", key.display()))?;
    match record::verify(&text, &public, &key.display().to_string()) {
        Ok(v) => {
            say!(
                "{}: a true record of {}, issued {}, signed by {}.",
                file.display(),
                sanitize_line(&v.worker),
                sanitize_line(&v.issued),
                key.display()
            )?;
            Ok(())
        }
        Err(record::VerifyError::Altered(parts)) => {
            for part in &parts {
                eprintln!("{}: {part}", file.display());
            }
            bail!(
                "{}: refused: {} part(s) differ from what the centre signed",
                file.display(),
                parts.len()
            )
        }
        Err(e) => bail!("{}: refused: {e}", file.display()),
    }
}
