//! Count limits on every list a request carries, checked before any store work so one
//! request's cost stays bounded and linear in its size. The reply's bounds live here too:
//! both sides read them.

use super::SyncRequest;
use crate::model::is_project_name;

/// Largest request body the server reads off the wire (compressed).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Largest body after decompression; guards against compression bombs.
pub const MAX_DECODED_BYTES: usize = 8 << 20;
/// A login carries a name, a code and a device name: this is plenty, compressed or not.
pub const MAX_LOGIN_BODY_BYTES: usize = 4 << 10;
/// A login body once decompressed.
pub const MAX_LOGIN_DECODED_BYTES: usize = 16 << 10;
/// Most answers one sync may carry; the client sends the rest in the next.
pub const MAX_ANSWERS_PER_SYNC: usize = 500;
/// Most tasks one sync may ask for, and most leases one reply carries (resent included).
pub const MAX_WANT_PER_SYNC: u32 = 200;
/// Most projects one sync may ask tasks of.
pub const MAX_WANT_ENTRIES: usize = 64;
/// Most project schemas one sync may say it holds.
pub const MAX_KNOWN_ENTRIES: usize = 256;
/// Most labels one answer may carry: more than any project has (36).
pub const MAX_LABELS_PER_ANSWER: usize = 64;
/// Most task kinds one sync may say its client can show (there are a handful).
pub const MAX_KINDS_ENTRIES: usize = 16;
/// Most exam standings one sync may ask for, and most lesson sets it may say it holds.
pub const MAX_EXAM_ENTRIES: usize = 64;
/// Most whole exam attempts one sync may carry (one per project at most is normal).
pub const MAX_EXAM_SUBMISSIONS: usize = 16;
/// Most answers one exam submission may carry: an attempt's largest size.
pub const MAX_EXAM_ANSWERS: usize = crate::model::training::MAX_EXAM_SIZE as usize;
/// Most lesson tasks a project may have: they all travel in one reply.
pub const MAX_LESSONS: usize = 200;
/// Most bytes a project's lesson set may take as sent (its tasks' JSON, gold, hints and
/// explanations included): a set travels whole in one reply, so it must fit the reply's
/// budget (`MAX_REPLY_TEXT_BYTES`). `kazi admin lessons import` refuses a larger one.
pub const MAX_LESSON_SET_BYTES: usize = MAX_REPLY_TEXT_BYTES;
/// Longest schema version a client may echo back (the server's are 16 hex digits).
pub const MAX_VERSION_LEN: usize = 64;
/// Most feedback items one reply carries; the rest follow in the next.
pub const MAX_FEEDBACK_PER_REPLY: usize = 50;
/// Most contests and flags one sync may carry.
pub const MAX_REPORTS_PER_SYNC: usize = 100;
/// Longest note a reviewer writes with a verdict, in characters.
pub const MAX_REVIEW_NOTE_CHARS: usize = 1000;
/// Most queue entries one review listing returns.
pub const MAX_QUEUE_ENTRIES: usize = 500;
/// Longest note on a contest or flag, in characters.
pub const MAX_REPORT_NOTE_CHARS: usize = 500;
/// Most task text (bytes, before compression) one reply carries; a reply always carries
/// at least one lease, so a single long task still travels. The rest follow next sync.
pub const MAX_REPLY_TEXT_BYTES: usize = 512 << 10;

/// Why a sync request is refused before it is run. The text goes to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestLimit {
    #[error(
        "a sync may carry at most {MAX_ANSWERS_PER_SYNC} answers, got {0}; send the rest in the next sync"
    )]
    Answers(usize),
    #[error("a sync may release at most {MAX_ANSWERS_PER_SYNC} tasks, got {0}")]
    Released(usize),
    #[error("a sync may ask for tasks of at most {MAX_WANT_ENTRIES} projects, got {0}")]
    WantEntries(usize),
    #[error("a sync may ask for at most {MAX_WANT_PER_SYNC} tasks, asked for {0}")]
    Wanted(u64),
    #[error("a sync may name at most {MAX_KNOWN_ENTRIES} known projects, got {0}")]
    KnownEntries(usize),
    #[error("a sync may name at most {MAX_KINDS_ENTRIES} task kinds, got {0}")]
    KindsEntries(usize),
    #[error("a sync may name at most {MAX_EXAM_ENTRIES} exams or lesson sets, got {0}")]
    ExamEntries(usize),
    #[error("a sync may carry at most {MAX_EXAM_SUBMISSIONS} exam attempts, got {0}")]
    ExamSubmissions(usize),
    #[error("exam attempt {attempt} carries {count} answers; at most {MAX_EXAM_ANSWERS}")]
    ExamAnswers { attempt: i64, count: usize },
    #[error("answer {id} carries {count} labels; at most {MAX_LABELS_PER_ANSWER}")]
    AnswerLabels { id: u64, count: usize },
    #[error("a sync may carry at most {MAX_REPORTS_PER_SYNC} contests and flags, got {0}")]
    Reports(usize),
    #[error("report {0} has a note longer than {MAX_REPORT_NOTE_CHARS} characters")]
    ReportNote(u64),
    #[error("'{0}' cannot be a project name (1-64 letters, digits, '-' or '_')")]
    BadProjectName(String),
    #[error("the schema version held for project '{0}' is longer than {MAX_VERSION_LEN} bytes")]
    BadVersion(String),
}

impl SyncRequest {
    /// Check every list against its limit, and every project name for shape, in time
    /// linear in the request's size.
    pub fn check_limits(&self) -> Result<(), RequestLimit> {
        if self.answers.len() > MAX_ANSWERS_PER_SYNC {
            return Err(RequestLimit::Answers(self.answers.len()));
        }
        for answer in &self.answers {
            // A form's size is bounded by the body's; its fields are checked against the
            // project's form.
            let Some(labels) = answer.value.labels() else {
                continue;
            };
            if labels.len() > MAX_LABELS_PER_ANSWER {
                return Err(RequestLimit::AnswerLabels {
                    id: answer.id,
                    count: labels.len(),
                });
            }
        }
        if self.released.len() > MAX_ANSWERS_PER_SYNC {
            return Err(RequestLimit::Released(self.released.len()));
        }
        if self.reports.len() > MAX_REPORTS_PER_SYNC {
            return Err(RequestLimit::Reports(self.reports.len()));
        }
        if let Some(r) = self
            .reports
            .iter()
            .find(|r| r.note.chars().count() > MAX_REPORT_NOTE_CHARS)
        {
            return Err(RequestLimit::ReportNote(r.id));
        }
        if self.want.len() > MAX_WANT_ENTRIES {
            return Err(RequestLimit::WantEntries(self.want.len()));
        }
        let wanted: u64 = self.want.iter().map(|w| u64::from(w.count)).sum();
        if wanted > u64::from(MAX_WANT_PER_SYNC) {
            return Err(RequestLimit::Wanted(wanted));
        }
        if self.known.len() > MAX_KNOWN_ENTRIES {
            return Err(RequestLimit::KnownEntries(self.known.len()));
        }
        if self.kinds.len() > MAX_KINDS_ENTRIES {
            return Err(RequestLimit::KindsEntries(self.kinds.len()));
        }
        let lesson_sets = self.lessons.as_ref().map_or(0, |l| l.len());
        if self.exams.len().max(lesson_sets) > MAX_EXAM_ENTRIES {
            return Err(RequestLimit::ExamEntries(self.exams.len().max(lesson_sets)));
        }
        if self.exam_answers.len() > MAX_EXAM_SUBMISSIONS {
            return Err(RequestLimit::ExamSubmissions(self.exam_answers.len()));
        }
        for submission in &self.exam_answers {
            if submission.answers.len() > MAX_EXAM_ANSWERS {
                return Err(RequestLimit::ExamAnswers {
                    attempt: submission.attempt,
                    count: submission.answers.len(),
                });
            }
            for answer in &submission.answers {
                if let Some(labels) = answer.value.labels()
                    && labels.len() > MAX_LABELS_PER_ANSWER
                {
                    return Err(RequestLimit::AnswerLabels {
                        id: submission.attempt as u64,
                        count: labels.len(),
                    });
                }
            }
        }
        let names = self
            .want
            .iter()
            .map(|w| w.project.as_str())
            .chain(self.known.keys().map(String::as_str))
            .chain(self.exams.iter().map(String::as_str))
            .chain(
                self.lessons
                    .iter()
                    .flat_map(|l| l.keys().map(String::as_str)),
            );
        for name in names {
            if !is_project_name(name) {
                return Err(RequestLimit::BadProjectName(shown_name(name)));
            }
        }
        let versions = self
            .known
            .iter()
            .chain(self.lessons.iter().flat_map(|l| l.iter()));
        if let Some((name, _)) = versions
            .into_iter()
            .find(|(_, v)| v.len() > MAX_VERSION_LEN)
        {
            return Err(RequestLimit::BadVersion(name.clone()));
        }
        Ok(())
    }
}

/// Deserialise a list, stopping at the first element past `max`: a request with a
/// million entries costs no more to refuse than one with `max + 1`.
fn at_most<'de, D, T>(d: D, max: usize, what: &'static str) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct Bounded<T> {
        max: usize,
        what: &'static str,
        item: std::marker::PhantomData<T>,
    }
    impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Bounded<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a list of at most {} {}", self.max, self.what)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
            while let Some(item) = seq.next_element()? {
                if items.len() == self.max {
                    return Err(serde::de::Error::custom(format!(
                        "a sync may carry at most {} {}",
                        self.max, self.what
                    )));
                }
                items.push(item);
            }
            Ok(items)
        }
    }
    d.deserialize_seq(Bounded {
        max,
        what,
        item: std::marker::PhantomData,
    })
}

pub(super) fn bounded_answers<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<super::AnswerUpload>, D::Error> {
    at_most(d, MAX_ANSWERS_PER_SYNC, "answers")
}

pub(super) fn bounded_released<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<i64>, D::Error> {
    at_most(d, MAX_ANSWERS_PER_SYNC, "released tasks")
}

pub(super) fn bounded_exams<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<String>, D::Error> {
    at_most(d, MAX_EXAM_ENTRIES, "exams")
}

pub(super) fn bounded_exam_answers<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<super::ExamSubmission>, D::Error> {
    at_most(d, MAX_EXAM_SUBMISSIONS, "exam attempts")
}

pub(super) fn bounded_want<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<super::Want>, D::Error> {
    at_most(d, MAX_WANT_ENTRIES, "projects wanted")
}

pub(super) fn bounded_reports<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<super::Report>, D::Error> {
    at_most(d, MAX_REPORTS_PER_SYNC, "contests and flags")
}

/// A refused name as the error shows it: short, and inert on a terminal.
fn shown_name(name: &str) -> String {
    let short: String = name.chars().take(40).collect();
    crate::model::sanitize_line(&short).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AnswerValue;
    use crate::protocol::Want;

    fn want(project: &str, count: u32) -> Want {
        Want {
            project: project.into(),
            count,
        }
    }

    #[test]
    fn every_list_has_a_limit() {
        let ok = SyncRequest {
            want: (0..MAX_WANT_ENTRIES)
                .map(|i| want(&format!("p{i}"), 1))
                .collect(),
            known: (0..MAX_KNOWN_ENTRIES)
                .map(|i| (format!("k{i}"), "v".into()))
                .collect(),
            ..SyncRequest::default()
        };
        assert_eq!(ok.check_limits(), Ok(()));

        let mut many_wants = ok.clone();
        many_wants.want.push(want("one-more", 0));
        assert_eq!(
            many_wants.check_limits(),
            Err(RequestLimit::WantEntries(MAX_WANT_ENTRIES + 1))
        );
        let mut many_known = ok.clone();
        many_known.known.insert("extra".into(), "v".into());
        assert_eq!(
            many_known.check_limits(),
            Err(RequestLimit::KnownEntries(MAX_KNOWN_ENTRIES + 1))
        );
        let greedy = SyncRequest {
            want: vec![want("a", MAX_WANT_PER_SYNC), want("b", 1)],
            ..SyncRequest::default()
        };
        assert_eq!(
            greedy.check_limits(),
            Err(RequestLimit::Wanted(u64::from(MAX_WANT_PER_SYNC) + 1))
        );
    }

    #[test]
    fn an_answer_with_more_labels_than_any_project_is_refused() {
        let labels = (0..=MAX_LABELS_PER_ANSWER).map(|i| i.to_string()).collect();
        let bad = SyncRequest {
            answers: vec![crate::protocol::AnswerUpload {
                id: 9,
                task: 1,
                value: AnswerValue::Labels(labels),
                ago: 0,
                replaces: None,
            }],
            ..SyncRequest::default()
        };
        assert_eq!(
            bad.check_limits(),
            Err(RequestLimit::AnswerLabels {
                id: 9,
                count: MAX_LABELS_PER_ANSWER + 1
            })
        );
    }

    #[test]
    fn a_list_past_its_limit_stops_the_parse() {
        let json = format!(
            r#"{{"want":[{}],"known":{{}}}}"#,
            vec![r#"{"project":"p","count":0}"#; MAX_WANT_ENTRIES + 1].join(",")
        );
        let err = serde_json::from_str::<SyncRequest>(&json).unwrap_err();
        assert!(
            err.to_string().contains("at most 64 projects wanted"),
            "{err}"
        );
        let ok = format!(
            r#"{{"want":[{}],"known":{{}}}}"#,
            vec![r#"{"project":"p","count":0}"#; MAX_WANT_ENTRIES].join(",")
        );
        assert!(serde_json::from_str::<SyncRequest>(&ok).is_ok());
    }

    #[test]
    fn names_that_cannot_be_projects_are_refused_before_any_lookup() {
        let bad = SyncRequest {
            want: vec![want("ok", 1), want("\u{1b}]0;pwned\u{7}", 1)],
            ..SyncRequest::default()
        };
        let err = bad.check_limits().unwrap_err();
        assert!(matches!(err, RequestLimit::BadProjectName(_)), "{err}");
        assert!(!err.to_string().contains('\u{1b}'), "{err}");
        let long = SyncRequest {
            known: [("p".to_string(), "v".repeat(MAX_VERSION_LEN + 1))].into(),
            ..SyncRequest::default()
        };
        assert_eq!(
            long.check_limits(),
            Err(RequestLimit::BadVersion("p".into()))
        );
    }
}
