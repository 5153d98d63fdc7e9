//! Transcripts: a transcribe project's rules (style hints, tags, length) and the
//! normalisation transcripts are compared in, with the word error rate over it. Pure, so
//! the server's agreement, the client's offline gold check and quality all use one.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::playback::{PlayerConfig, PlayerFile, player_from_file};
use super::sanitize_line;

/// The most a project may allow a transcript to hold, in characters.
pub const MAX_TRANSCRIPT_CHARS: u32 = 20_000;
/// A transcript's length limit when the project file names none.
pub const DEFAULT_TRANSCRIPT_CHARS: u32 = 5_000;

/// What a transcribe project's file says about transcripts (its `[transcribe]` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscribeRules {
    /// Style rules shown to the worker as hints ("write numbers as digits").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub style: Vec<String>,
    /// The tags a transcript may hold (`[inaudible]`, `[laughter]`); empty: any
    /// bracketed word is allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Longest transcript accepted, in characters.
    pub max_chars: u32,
    /// How transcripts are made comparable (agreement, gold).
    #[serde(default)]
    pub normalise: Normalisation,
    /// The player's jump, rewind and loop (`[transcribe.player]`). Left out of the schema
    /// when default, so projects that never chose keep their schema version.
    #[serde(default, skip_serializing_if = "PlayerConfig::is_default")]
    pub player: PlayerConfig,
}

/// How number forms are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberForm {
    /// Numbers compare as written: "25" and "twenty five" differ.
    #[default]
    AsWritten,
    /// English number words become digits before comparing ("twenty five" = "25"),
    /// and digit groups lose their separators ("1,000" = "1000").
    Digits,
}

/// What is ignored when two transcripts are compared. White space always is: transcripts
/// compare word by word. The default is the normal form quality has always used (case
/// and punctuation ignored, numbers as written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalisation {
    #[serde(default = "yes")]
    pub ignore_case: bool,
    /// Punctuation dropped; an apostrophe inside a word and a bracketed tag stay.
    #[serde(default = "yes")]
    pub ignore_punctuation: bool,
    /// Tags left out before comparing (`[noise]`), written with their brackets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_tags: Vec<String>,
    #[serde(default)]
    pub numbers: NumberForm,
}

fn yes() -> bool {
    true
}

impl Default for Normalisation {
    fn default() -> Self {
        Normalisation {
            ignore_case: true,
            ignore_punctuation: true,
            ignore_tags: Vec::new(),
            numbers: NumberForm::AsWritten,
        }
    }
}

impl Normalisation {
    /// The transcript's words in normal form.
    pub fn words(&self, text: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for piece in split_tags(text) {
            match piece {
                Piece::Tag(tag) => {
                    // "[No  speech]" and "[no speech]" are one tag.
                    let tag = tag.split_whitespace().collect::<Vec<_>>().join(" ");
                    let tag = if self.ignore_case {
                        tag.to_lowercase()
                    } else {
                        tag
                    };
                    if !self
                        .ignore_tags
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(&tag))
                    {
                        out.push(tag);
                    }
                }
                Piece::Plain(plain) => {
                    for token in plain.split_whitespace() {
                        self.push_plain(token, &mut out);
                    }
                }
            }
        }
        if self.numbers == NumberForm::Digits {
            out = numbers_to_digits(out);
        }
        out
    }

    fn push_plain(&self, piece: &str, out: &mut Vec<String>) {
        let cased = if self.ignore_case {
            piece.to_lowercase()
        } else {
            piece.to_string()
        };
        if !self.ignore_punctuation {
            out.push(cased);
            return;
        }
        // "1,000" and "3.5" are numbers, not two words.
        let keep_inside_number = |s: &str, i: usize, c: char| {
            matches!(c, ',' | '.')
                && s[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_ascii_digit())
                && s[i + 1..]
                    .chars()
                    .next()
                    .is_some_and(|n| n.is_ascii_digit())
        };
        let mut cleaned = String::with_capacity(cased.len());
        for (i, c) in cased.char_indices() {
            if c.is_alphanumeric() || c == '\'' || is_mark(c) {
                cleaned.push(c);
            } else if keep_inside_number(&cased, i, c) {
                cleaned.push(if c == ',' && self.numbers == NumberForm::Digits {
                    '\u{0}'
                } else {
                    c
                });
            } else {
                cleaned.push(' ');
            }
        }
        let cleaned = cleaned.replace('\u{0}', "");
        out.extend(
            cleaned
                .split_whitespace()
                .map(|w| w.trim_matches('\''))
                .filter(|w| !w.is_empty())
                .map(str::to_string),
        );
    }

    /// Normalised word error rate between two transcripts in this normal form.
    pub fn wer(&self, a: &str, b: &str) -> f64 {
        normalised_wer(&self.words(a), &self.words(b))
    }
}

/// The `[transcribe]` table as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct TranscribeFile {
    #[serde(default)]
    style: Vec<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(default)]
    max_chars: Option<Spanned<i64>>,
    #[serde(default)]
    normalise: NormaliseFile,
    #[serde(default)]
    player: PlayerFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NormaliseFile {
    #[serde(default)]
    ignore_case: Option<bool>,
    #[serde(default)]
    ignore_punctuation: Option<bool>,
    #[serde(default)]
    ignore_tags: Vec<Spanned<String>>,
    #[serde(default)]
    numbers: Option<Spanned<String>>,
}

/// Check a `[transcribe]` table; an error is (byte offset in the file, what is wrong).
pub(super) fn rules_from_file(file: &TranscribeFile) -> Result<TranscribeRules, (usize, String)> {
    let mut style = Vec::with_capacity(file.style.len());
    for rule in &file.style {
        let text = rule.get_ref().trim();
        if text.is_empty() {
            return Err((rule.span().start, "a style rule is empty".into()));
        }
        style.push(text.to_string());
    }
    let tag = |spanned: &Spanned<String>| -> Result<String, (usize, String)> {
        let t = spanned.get_ref().trim();
        if !is_tag(t) || t.chars().any(char::is_control) {
            return Err((
                spanned.span().start,
                format!(
                    "tag '{}' must be written in brackets, like \"[inaudible]\"",
                    sanitize_line(t)
                ),
            ));
        }
        Ok(t.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let mut tags: Vec<String> = Vec::with_capacity(file.tags.len());
    for spanned in &file.tags {
        let t = tag(spanned)?;
        if tags.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
            return Err((
                spanned.span().start,
                format!("tag '{}' is listed twice", sanitize_line(&t)),
            ));
        }
        tags.push(t);
    }
    let max_chars = match &file.max_chars {
        None => DEFAULT_TRANSCRIPT_CHARS,
        Some(n) => {
            let v = *n.get_ref();
            if !(1..=i64::from(MAX_TRANSCRIPT_CHARS)).contains(&v) {
                return Err((
                    n.span().start,
                    format!("max_chars must be between 1 and {MAX_TRANSCRIPT_CHARS}, got {v}"),
                ));
            }
            v as u32
        }
    };
    let n = &file.normalise;
    let mut ignore_tags = Vec::with_capacity(n.ignore_tags.len());
    for spanned in &n.ignore_tags {
        let t = tag(spanned)?;
        if !tags.is_empty() && !tags.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
            return Err((
                spanned.span().start,
                format!(
                    "ignore_tags names '{}', which is not in tags",
                    sanitize_line(&t)
                ),
            ));
        }
        ignore_tags.push(t);
    }
    let numbers = match &n.numbers {
        None => NumberForm::AsWritten,
        Some(s) => match s.get_ref().trim() {
            "as_written" => NumberForm::AsWritten,
            "digits" => NumberForm::Digits,
            other => {
                return Err((
                    s.span().start,
                    format!(
                        "numbers '{}' is not known; use \"as_written\" or \"digits\" (English number words compare as digits)",
                        sanitize_line(other)
                    ),
                ));
            }
        },
    };
    Ok(TranscribeRules {
        style,
        tags,
        max_chars,
        normalise: Normalisation {
            ignore_case: n.ignore_case.unwrap_or(true),
            ignore_punctuation: n.ignore_punctuation.unwrap_or(true),
            ignore_tags,
            numbers,
        },
        player: player_from_file(&file.player)?,
    })
}

/// Why a transcript does not fit its project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptIssue {
    #[error("the transcript has {chars} characters; at most {max} are allowed")]
    TooLong { chars: usize, max: u32 },
    #[error("the transcript holds a control character; only line breaks are allowed")]
    Control,
    #[error("a bracket at character {0} does not make a tag; write tags like [inaudible]")]
    Bracket(usize),
    #[error("tag {tag} is not one of this project's: {allowed}")]
    UnknownTag { tag: String, allowed: String },
}

impl TranscribeRules {
    /// Check a transcript against the rules: length, characters, tags.
    pub fn check(&self, text: &str) -> Result<(), TranscriptIssue> {
        let chars = text.chars().count();
        if chars > self.max_chars as usize {
            return Err(TranscriptIssue::TooLong {
                chars,
                max: self.max_chars,
            });
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(TranscriptIssue::Control);
        }
        let tags =
            tags_in(text).map_err(|at| TranscriptIssue::Bracket(text[..at].chars().count() + 1))?;
        if self.tags.is_empty() {
            return Ok(());
        }
        for tag in tags {
            let tag = tag.split_whitespace().collect::<Vec<_>>().join(" ");
            if !self.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                return Err(TranscriptIssue::UnknownTag {
                    tag: sanitize_line(&tag).into_owned(),
                    allowed: self.tags.join(" "),
                });
            }
        }
        Ok(())
    }

    /// Whether a transcript says nothing: empty, or only white space. (A tag such as
    /// `[no speech]` says something.)
    pub fn is_empty(text: &str) -> bool {
        text.trim().is_empty()
    }
}

/// A transcript answer: the text as typed. `cursor` is for drafts only (a byte offset,
/// so a task comes back after a crash with its cursor); the normal form drops it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<usize>,
}

impl Transcript {
    pub fn new(text: impl Into<String>) -> Transcript {
        Transcript {
            text: text.into(),
            cursor: None,
        }
    }

    /// The answer as stored: line breaks as `\n`, no trailing white space, no cursor.
    pub fn normal(&self) -> Transcript {
        let text = self.text.replace("\r\n", "\n");
        Transcript::new(text.trim_end())
    }
}

/// Combining marks (Devanagari vowel signs, accents written apart) belong to their word.
fn is_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957 | 0x0962..=0x0963
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Whether `s` is one bracketed tag such as `[inaudible]` or `[no speech]`: a `[`, a
/// name without brackets, a `]`.
pub fn is_tag(s: &str) -> bool {
    s.len() > 2
        && s.starts_with('[')
        && s.ends_with(']')
        && !s[1..s.len() - 1].contains(['[', ']'])
        && !s[1..s.len() - 1].trim().is_empty()
}

enum Piece<'a> {
    Tag(&'a str),
    Plain(&'a str),
}

/// A text cut into its tags and the plain text between them: `well[noise] I` ->
/// `well`, `[noise]`, ` I`. A bracket that does not make a tag is plain text.
fn split_tags(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let candidate = &rest[open..];
        let Some(close) = candidate.find(']') else {
            break;
        };
        let tag = &candidate[..=close];
        if !is_tag(tag) || tag.contains('\n') {
            out.push(Piece::Plain(&rest[..open + 1]));
            rest = &rest[open + 1..];
            continue;
        }
        out.push(Piece::Plain(&rest[..open]));
        out.push(Piece::Tag(tag));
        rest = &candidate[close + 1..];
    }
    out.push(Piece::Plain(rest));
    out
}

/// The bracketed tags of a transcript, in order, as written. A tag may hold spaces
/// (`[no speech]`). Err: the byte offset of a `[` that never closes or a stray `]`.
pub fn tags_in(text: &str) -> Result<Vec<&str>, usize> {
    let mut tags = Vec::new();
    let mut open: Option<usize> = None;
    for (i, c) in text.char_indices() {
        match (c, open) {
            ('[', None) => open = Some(i),
            ('[', Some(at)) => return Err(at),
            (']', Some(at)) => {
                tags.push(&text[at..=i]);
                open = None;
            }
            (']', None) => return Err(i),
            ('\n', Some(at)) => return Err(at),
            _ => {}
        }
    }
    match open {
        Some(at) => Err(at),
        None => Ok(tags),
    }
}

const UNITS: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

fn small_number(word: &str) -> Option<u64> {
    let w = word.to_lowercase();
    if let Some(n) = UNITS.iter().position(|u| *u == w) {
        return Some(n as u64);
    }
    if let Some(n) = TENS.iter().position(|t| *t == w) {
        return Some(20 + 10 * n as u64);
    }
    // "twenty-five" written as one word once punctuation is kept.
    let (tens, unit) = w.split_once('-')?;
    let t = TENS.iter().position(|x| *x == tens)?;
    let u = UNITS[1..10].iter().position(|x| *x == unit)?;
    Some(20 + 10 * t as u64 + 1 + u as u64)
}

fn scale(word: &str) -> Option<u64> {
    match word.to_lowercase().as_str() {
        "hundred" => Some(100),
        "thousand" => Some(1_000),
        "million" => Some(1_000_000),
        _ => None,
    }
}

/// Runs of English number words as one number in digits: "two hundred and five" ->
/// "205". "and" only joins inside a number; a lone scale word ("hundred") stays a word.
fn numbers_to_digits(words: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let (mut total, mut group, mut j, mut any) = (0u64, 0u64, i, false);
        let mut end = i;
        while j < words.len() {
            let w = words[j].as_str();
            if let Some(n) = small_number(w) {
                group += n;
                any = true;
                end = j + 1;
            } else if let Some(s) = scale(w).filter(|_| any) {
                if s == 100 {
                    group = group.max(1) * 100;
                } else {
                    total += group.max(1) * s;
                    group = 0;
                }
                end = j + 1;
            } else if !(w.eq_ignore_ascii_case("and") && any) {
                break;
            }
            j += 1;
        }
        if any {
            out.push((total + group).to_string());
            i = end;
        } else {
            out.push(words[i].clone());
            i += 1;
        }
    }
    out
}

/// Word-level edit distance (substitutions, insertions, deletions).
pub fn word_edits<S: PartialEq>(a: &[S], b: &[S]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, wa) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, wb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(wa != wb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// Normalised word error rate between two transcripts: edits over the longer one's word
/// count, so it is symmetric and within 0.0..=1.0. Two empty transcripts agree.
pub fn normalised_wer<S: PartialEq>(a: &[S], b: &[S]) -> f64 {
    let longer = a.len().max(b.len());
    if longer == 0 {
        return 0.0;
    }
    word_edits(a, b) as f64 / longer as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Normalisation {
        Normalisation::default()
    }

    #[test]
    fn the_default_ignores_case_and_punctuation() {
        assert_eq!(
            plain().words("Hello, World!  It's  me."),
            ["hello", "world", "it's", "me"]
        );
        assert!(plain().words(" ... ").is_empty());
        assert_eq!(plain().wer("Yes.", "yes"), 0.0);
    }

    #[test]
    fn case_and_punctuation_can_count() {
        let strict = Normalisation {
            ignore_case: false,
            ignore_punctuation: false,
            ..plain()
        };
        assert_eq!(strict.words("Yes, sir."), ["Yes,", "sir."]);
        assert_eq!(strict.wer("Yes sir", "yes sir"), 0.5);
    }

    #[test]
    fn tags_stay_whole_and_listed_ones_are_left_out() {
        let n = Normalisation {
            ignore_tags: vec!["[noise]".into()],
            ..plain()
        };
        assert_eq!(
            n.words("well[noise] I [Inaudible] said"),
            ["well", "i", "[inaudible]", "said"]
        );
        assert_eq!(n.wer("[noise] hello there", "hello there"), 0.0);
        assert_eq!(plain().wer("[noise] hello there", "hello there"), 1.0 / 3.0);
        assert_eq!(plain().words("[No  Speech]"), ["[no speech]"]);
        assert_eq!(plain().words("a [b"), ["a", "b"]);
    }

    #[test]
    fn numbers_compare_as_digits_when_asked() {
        let n = Normalisation {
            numbers: NumberForm::Digits,
            ..plain()
        };
        assert_eq!(
            n.words("two hundred and five shillings"),
            ["205", "shillings"]
        );
        assert_eq!(
            n.words("Twenty-five, 1,000 people"),
            ["25", "1000", "people"]
        );
        assert_eq!(n.words("three thousand four hundred"), ["3400"]);
        assert_eq!(n.words("bread and milk"), ["bread", "and", "milk"]);
        assert_eq!(n.words("a hundred"), ["a", "hundred"]);
        assert_eq!(n.wer("I paid twenty five", "i paid 25"), 0.0);
        assert!(plain().wer("I paid twenty five", "i paid 25") > 0.0);
        assert_eq!(plain().words("3.5 kg"), ["3.5", "kg"]);
    }

    #[test]
    fn devanagari_words_keep_their_vowel_signs() {
        assert_eq!(plain().words("नमस्ते, दुनिया!"), ["नमस्ते", "दुनिया"]);
    }

    #[test]
    fn tags_are_found_and_broken_ones_pointed_at() {
        assert_eq!(
            tags_in("a [no speech] b [laughter]"),
            Ok(vec!["[no speech]", "[laughter]"])
        );
        assert_eq!(tags_in("a [noise b"), Err(2));
        assert_eq!(tags_in("a ] b"), Err(2));
        assert_eq!(tags_in("[a [b]]"), Err(0));
        assert!(is_tag("[noise]") && !is_tag("[]") && !is_tag("[ ]") && !is_tag("noise"));
    }

    fn rules(table: &str) -> Result<TranscribeRules, (usize, String)> {
        let file: TranscribeFile = toml::from_str(table).expect("test table parses");
        rules_from_file(&file)
    }

    #[test]
    fn rules_are_read_and_checked() {
        let r = rules(
            "tags = [\"[inaudible]\", \"[no  speech]\"]\nmax_chars = 300\n\
             [normalise]\nignore_tags = [\"[inaudible]\"]\nnumbers = \"digits\"\n",
        )
        .unwrap();
        assert_eq!(r.tags, ["[inaudible]", "[no speech]"]);
        assert_eq!(r.max_chars, 300);
        assert_eq!(r.normalise.numbers, NumberForm::Digits);
        assert!(r.normalise.ignore_case);
        assert_eq!(rules("").unwrap().max_chars, DEFAULT_TRANSCRIPT_CHARS);
        for (bad, says) in [
            ("tags = [\"inaudible\"]", "must be written in brackets"),
            ("tags = [\"[a]\", \"[A]\"]", "listed twice"),
            ("max_chars = 0", "max_chars must be between"),
            (
                "tags = [\"[a]\"]\n[normalise]\nignore_tags = [\"[b]\"]",
                "not in tags",
            ),
            (
                "[normalise]\nnumbers = \"roman\"",
                "numbers 'roman' is not known",
            ),
            ("style = [\" \"]", "style rule is empty"),
        ] {
            let (_, message) = rules(bad).unwrap_err();
            assert!(message.contains(says), "{bad}: {message}");
        }
    }

    #[test]
    fn transcripts_are_checked_against_the_rules() {
        let r = rules("tags = [\"[inaudible]\", \"[no speech]\"]\nmax_chars = 20").unwrap();
        assert_eq!(r.check("habari [inaudible]"), Ok(()));
        assert_eq!(r.check("[No speech]"), Ok(()));
        assert_eq!(r.check(""), Ok(()));
        assert!(matches!(
            r.check("[laughter]"),
            Err(TranscriptIssue::UnknownTag { .. })
        ));
        assert_eq!(r.check("ab [noise"), Err(TranscriptIssue::Bracket(4)));
        assert!(matches!(
            r.check(&"a".repeat(21)),
            Err(TranscriptIssue::TooLong { chars: 21, max: 20 })
        ));
        assert_eq!(r.check("a\u{1b}[31m"), Err(TranscriptIssue::Control));
        assert_eq!(r.check("line one\nline two"), Ok(()));
        let any = rules("").unwrap();
        assert_eq!(any.check("[whatever]"), Ok(()));
    }

    #[test]
    fn wer_by_hand() {
        let w = |t: &str| plain().words(t);
        assert_eq!(word_edits(&w("the cat sat"), &w("the bat sat down")), 2);
        assert_eq!(
            normalised_wer(&w("the cat sat"), &w("the bat sat down")),
            0.5
        );
        assert_eq!(normalised_wer(&w(""), &w("")), 0.0);
        assert_eq!(normalised_wer(&w("a b"), &w("")), 1.0);
    }
}
