//! A worker's portable work record: projects, task kinds, tasks done, accuracy on gold,
//! hours and qualifications, written as a readable text and as JSON, each signed with
//! the centre's key, and checked offline by `verify`, which names what was altered.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::signing::{CentreKey, part_hash, signature_holds};
use crate::model::{format_utc, sanitize_line};

/// Where the signature block of the text record starts.
const TEXT_MARK: &str = "-- signed by the centre: kazi verify FILE --key CENTRE.pub --";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkRecord {
    pub worker: String,
    /// Server time the record was written, RFC 3339.
    pub issued: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake_date: Option<String>,
    pub projects: Vec<RecordProject>,
    pub tasks: u64,
    pub hours: f64,
    /// Share of gold tasks answered right over every project, 0-1; None without gold.
    pub accuracy: Option<f64>,
    /// Share of reviewed answers (tasks without gold) the reviewer's verdict kept, 0-1;
    /// None when none was reviewed. Absent from records written before review counted.
    #[serde(default)]
    pub review_accuracy: Option<f64>,
    pub qualifications: Vec<Qualification>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordProject {
    pub name: String,
    pub title: String,
    pub kind: String,
    pub tasks: u64,
    pub gold_checked: u64,
    pub accuracy: Option<f64>,
    /// Answers on reviewed tasks without gold, and the share the verdict kept.
    #[serde(default)]
    pub reviewed: u64,
    #[serde(default)]
    pub review_accuracy: Option<f64>,
    pub hours: f64,
    /// Days of the first and last answer, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Qualification {
    /// The project's title.
    pub name: String,
    /// The project's name.
    #[serde(default)]
    pub project: String,
    /// `YYYY-MM-DD`.
    pub gained: String,
}

/// Rounded so the record reads plainly and its JSON numbers are short.
pub fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

fn percent(accuracy: Option<f64>) -> String {
    accuracy.map_or_else(|| "no gold tasks".into(), |a| format!("{:.1}%", a * 100.0))
}

fn reviewed(accuracy: Option<f64>) -> String {
    accuracy.map_or_else(|| "none reviewed".into(), |a| format!("{:.1}%", a * 100.0))
}

impl WorkRecord {
    /// The readable lines of the record (no signature).
    pub fn text_lines(&self) -> Vec<String> {
        let mut lines = vec![
            "KAZI WORK RECORD".to_string(),
            format!("Worker: {}", sanitize_line(&self.worker)),
            format!("Issued: {}", self.issued),
        ];
        if let Some(day) = &self.intake_date {
            lines.push(format!("At the centre since: {day}"));
        }
        lines.push(format!(
            "Tasks done: {}   Hours on task: {:.1}   Accuracy on gold: {}",
            self.tasks,
            self.hours,
            percent(self.accuracy)
        ));
        lines.push(format!(
            "Accuracy on review: {}",
            reviewed(self.review_accuracy)
        ));
        lines.push(String::new());
        lines.push("Projects".to_string());
        if self.projects.is_empty() {
            lines.push("  none yet".to_string());
        }
        for p in &self.projects {
            lines.push(format!(
                "  {} ({}, {}): {} tasks, {:.1} h, accuracy {} over {} gold, {} to {}",
                sanitize_line(&p.title),
                sanitize_line(&p.name),
                p.kind,
                p.tasks,
                p.hours,
                percent(p.accuracy),
                p.gold_checked,
                p.from,
                p.to
            ));
            if p.reviewed > 0 {
                lines.push(format!(
                    "    on review: {} over {} reviewed",
                    reviewed(p.review_accuracy),
                    p.reviewed
                ));
            }
        }
        lines.push(String::new());
        lines.push("Qualifications".to_string());
        if self.qualifications.is_empty() {
            lines.push("  none recorded".to_string());
        }
        for q in &self.qualifications {
            let project = match q.project.is_empty() {
                true => String::new(),
                false => format!(" ({})", sanitize_line(&q.project)),
            };
            lines.push(format!(
                "  {}{project} since {}",
                sanitize_line(&q.name),
                q.gained
            ));
        }
        lines
    }
}

/// The text record with its signature block.
pub fn signed_text(record: &WorkRecord, key: &CentreKey) -> String {
    let lines = record.text_lines();
    let parts = text_parts(&lines);
    let signature = key.sign("text", &parts);
    text_file(&lines, &key.public_hex(), &parts, &signature)
}

fn text_parts(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| (format!("line {}", i + 1), part_hash(line)))
        .collect()
}

fn text_file(
    lines: &[String],
    public: &str,
    parts: &[(String, String)],
    signature: &str,
) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(TEXT_MARK);
    out.push('\n');
    out.push_str(&format!("key {public}\n"));
    for (name, hash) in parts {
        out.push_str(&format!("{name} {hash}\n"));
    }
    out.push_str(&format!("signature {signature}\n"));
    out
}

/// The JSON record with its signature.
pub fn signed_json(record: &WorkRecord, key: &CentreKey) -> String {
    let value = serde_json::to_value(record).expect("a record is plain data");
    let parts = json_parts(&value);
    let signature = key.sign("json", &parts);
    json_file(value, &key.public_hex(), &parts, &signature)
}

fn json_file(record: Value, public: &str, parts: &[(String, String)], signature: &str) -> String {
    let fields: serde_json::Map<String, Value> = parts
        .iter()
        .map(|(name, hash)| (name.clone(), Value::String(hash.clone())))
        .collect();
    let file = serde_json::json!({
        "record": record,
        "signature": {"key": public, "fields": fields, "ed25519": signature},
    });
    let mut text = serde_json::to_string_pretty(&file).expect("plain JSON");
    text.push('\n');
    text
}

/// Every leaf of a JSON value by its JSON pointer, with its canonical text. Empty
/// arrays and objects are leaves too, so nothing can be added or removed unnoticed.
fn json_parts(value: &Value) -> Vec<(String, String)> {
    fn walk(pointer: String, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let k = k.replace('~', "~0").replace('/', "~1");
                    walk(format!("{pointer}/{k}"), v, out);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, v) in items.iter().enumerate() {
                    walk(format!("{pointer}/{i}"), v, out);
                }
            }
            leaf => out.push((pointer, part_hash(&leaf.to_string()))),
        }
    }
    let mut out = Vec::new();
    walk(String::new(), value, &mut out);
    out.sort();
    out
}

/// A record that holds: whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub worker: String,
    pub issued: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("{0} is not a public key file (64 hex digits)")]
    BadKey(String),
    #[error("not a Kazi work record: {0}")]
    NotARecord(String),
    #[error("the record was signed with another key than {0} (or its key line was altered)")]
    OtherKey(String),
    #[error("the signature does not hold: the signature block was altered")]
    BadSignature,
    /// The signature holds, but these parts differ from what was signed.
    #[error("the record was altered:\n{}", .0.join("\n"))]
    Altered(Vec<String>),
}

/// Check a record file (text or JSON) against the centre's public key, offline.
pub fn verify(file: &str, public: &str, key_file: &str) -> Result<Verified, VerifyError> {
    let public = public.trim();
    if super::signing::from_hex::<32>(public).is_none() {
        return Err(VerifyError::BadKey(key_file.to_string()));
    }
    if file.trim_start().starts_with('{') {
        verify_json(file, public, key_file)
    } else {
        verify_text(file, public, key_file)
    }
}

fn verify_text(file: &str, public: &str, key_file: &str) -> Result<Verified, VerifyError> {
    let not = |why: &str| VerifyError::NotARecord(why.to_string());
    let (body, block) = file
        .split_once(&format!("\n{TEXT_MARK}\n"))
        .ok_or_else(|| not("its signature block is missing"))?;
    let lines: Vec<String> = body.split('\n').map(str::to_string).collect();
    let mut block_lines = block.lines();
    let signer = block_lines
        .next()
        .and_then(|l| l.strip_prefix("key "))
        .ok_or_else(|| not("the signature block has no key line"))?;
    let mut signed = Vec::new();
    let mut signature = None;
    for line in block_lines {
        if let Some(sig) = line.strip_prefix("signature ") {
            signature = Some(sig);
        } else if let Some((name, hash)) = line.rsplit_once(' ') {
            signed.push((name.to_string(), hash.to_string()));
        } else {
            return Err(not("a line of the signature block is damaged"));
        }
    }
    let signature = signature.ok_or_else(|| not("the signature line is missing"))?;
    if signer != public {
        return Err(VerifyError::OtherKey(key_file.to_string()));
    }
    if !signature_holds(public, signature, "text", &signed) {
        return Err(VerifyError::BadSignature);
    }
    let now = text_parts(&lines);
    let mut altered = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match signed.get(i) {
            Some(s) if *s == now[i] => {}
            Some(_) => altered.push(format!(
                "line {}: altered, now \"{}\"",
                i + 1,
                sanitize_line(line)
            )),
            None => altered.push(format!(
                "line {}: added, \"{}\"",
                i + 1,
                sanitize_line(line)
            )),
        }
    }
    for i in lines.len()..signed.len() {
        altered.push(format!("line {}: removed", i + 1));
    }
    if altered.is_empty() && text_file(&lines, public, &signed, signature) != file {
        altered.push("the signature block's layout was changed (its content holds)".into());
    }
    if !altered.is_empty() {
        return Err(VerifyError::Altered(altered));
    }
    let field = |prefix: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_default()
            .to_string()
    };
    Ok(Verified {
        worker: field("Worker: "),
        issued: field("Issued: "),
    })
}

fn verify_json(file: &str, public: &str, key_file: &str) -> Result<Verified, VerifyError> {
    let parsed: Value = serde_json::from_str(file)
        .map_err(|e| VerifyError::NotARecord(format!("line {}: {e}", e.line())))?;
    let not = |why: &str| VerifyError::NotARecord(why.to_string());
    let record = parsed
        .get("record")
        .ok_or_else(|| not("it has no \"record\""))?;
    let sig = parsed
        .get("signature")
        .ok_or_else(|| not("it has no \"signature\""))?;
    let signer = sig
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| not("the signature has no key"))?;
    let signature = sig
        .get("ed25519")
        .and_then(Value::as_str)
        .ok_or_else(|| not("the signature has no ed25519 value"))?;
    let fields = sig
        .get("fields")
        .and_then(Value::as_object)
        .ok_or_else(|| not("the signature has no fields"))?;
    let mut signed = Vec::new();
    for (name, hash) in fields {
        let hash = hash
            .as_str()
            .ok_or_else(|| not("a field hash is not text"))?;
        signed.push((name.clone(), hash.to_string()));
    }
    if signer != public {
        return Err(VerifyError::OtherKey(key_file.to_string()));
    }
    if !signature_holds(public, signature, "json", &signed) {
        return Err(VerifyError::BadSignature);
    }
    let now = json_parts(record);
    let signed_map: std::collections::BTreeMap<_, _> = signed.iter().cloned().collect();
    let now_map: std::collections::BTreeMap<_, _> = now.iter().cloned().collect();
    let mut altered = Vec::new();
    for (name, hash) in &now_map {
        let shown = record
            .pointer(name)
            .map(|v| sanitize_line(&v.to_string()).into_owned())
            .unwrap_or_default();
        match signed_map.get(name) {
            Some(h) if h == hash => {}
            Some(_) => altered.push(format!("{name}: altered, now {shown}")),
            None => altered.push(format!("{name}: added, {shown}")),
        }
    }
    for name in signed_map.keys().filter(|n| !now_map.contains_key(*n)) {
        altered.push(format!("{name}: removed"));
    }
    if altered.is_empty() && json_file(record.clone(), public, &signed, signature) != file {
        altered.push("the file's spacing or layout was changed (every signed field holds)".into());
    }
    if !altered.is_empty() {
        return Err(VerifyError::Altered(altered));
    }
    let text = |key: &str| {
        record
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Ok(Verified {
        worker: text("worker"),
        issued: text("issued"),
    })
}

/// The day of a server time, `YYYY-MM-DD`.
pub fn day(at: i64) -> String {
    format_utc(at)[..10].to_string()
}
