//! Untrusted text made safe and laid out: the one sanitiser every piece of text from
//! tasks, users and the network passes before it reaches a terminal, and word wrapping
//! that counts display columns (wide scripts take two, combining marks none).

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthChar;

/// Neutralise everything that could drive a terminal. Control characters become their
/// visible Control Pictures (ESC shows as `␛`), C1 controls and bidirectional overrides
/// become `�`, a tab becomes a space. Newlines are kept: `wrap` treats them as breaks.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    sanitize_with(s, true)
}

/// Like `sanitize`, for text that must stay on one line (names, labels, notes in lists):
/// a newline shows as `␤`.
pub fn sanitize_line(s: &str) -> Cow<'_, str> {
    sanitize_with(s, false)
}

/// Text typed or pasted into a text area, made to hold only what may be shown as is:
/// line breaks as `\n` (a CRLF or lone CR too), a tab as a space, every other control
/// character and bidirectional override left out. `sanitize` of the result changes nothing.
pub fn clean_typed(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter_map(|c| match c {
            '\r' => Some('\n'),
            '\t' => Some(' '),
            c if needs_replacing(c, true) => None,
            c => Some(c),
        })
        .collect()
}

fn sanitize_with(s: &str, keep_newline: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| needs_replacing(c, keep_newline)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if needs_replacing(c, keep_newline) {
                    replacement(c)
                } else {
                    c
                }
            })
            .collect(),
    )
}

fn needs_replacing(c: char, keep_newline: bool) -> bool {
    match c {
        '\n' => !keep_newline,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidirectional embeddings, overrides and isolates: they reorder what follows.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

fn replacement(c: char) -> char {
    match c {
        '\t' => ' ',
        '\n' => '\u{2424}',
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        _ => '\u{fffd}',
    }
}

/// Display width in terminal columns, as a terminal counts them: the sum of the cells
/// of `terminal_cells`. (Not `unicode-width`'s width of a string, which joins flags, ZWJ
/// emoji and Indic syllables into one cluster that terminals lay out cell by cell.)
pub fn text_width(s: &str) -> usize {
    terminal_cells(s).map(|c| usize::from(c.width)).sum()
}

/// Dotted circle: the base a mark with nothing to sit on is shown on, so it cannot join
/// whatever the terminal has in the cell before it.
pub const ORPHAN_BASE: char = '\u{25cc}';

/// One cell of text as a terminal draws it (`wcwidth` per character): a character that
/// takes columns with the zero-width characters after it (combining marks, viramas,
/// joiners, variation selectors), which the terminal puts into that same cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalCell<'s> {
    /// What to write; a leading mark gets `ORPHAN_BASE` in front of it.
    pub text: Cow<'s, str>,
    /// 1 or 2 columns.
    pub width: u8,
}

/// Text cut into the cells a terminal makes of it. This is the one model of width: the
/// painter writes these cells and `text_width` counts them, so what is laid out is what
/// the terminal shows, and each screen cell holds exactly what the terminal puts there
/// (a Devanagari vowel sign that takes a column has a cell of its own; a flag is its two
/// letters; a ZWJ emoji sequence is its emoji side by side, the joiner left out).
pub fn terminal_cells(s: &str) -> impl Iterator<Item = TerminalCell<'_>> {
    let mut rest = s;
    std::iter::from_fn(move || {
        loop {
            let mut chars = rest.char_indices();
            let (_, first) = chars.next()?;
            let first_width = UnicodeWidthChar::width(first).unwrap_or(0);
            let end = chars
                .find(|&(_, c)| UnicodeWidthChar::width(c).unwrap_or(0) > 0)
                .map_or(rest.len(), |(i, _)| i);
            let (cell, tail) = rest.split_at(end);
            rest = tail;
            // A joiner is never sent: terminals disagree on what follows it (tmux puts
            // the next character into the same cell, xterm beside it), so the two
            // sides of a ZWJ sequence are shown side by side everywhere.
            let cell: Cow<'_, str> = if cell.contains(ZWJ) {
                Cow::Owned(cell.replace(ZWJ, ""))
            } else {
                Cow::Borrowed(cell)
            };
            if cell.is_empty() {
                continue;
            }
            return Some(if first_width == 0 {
                TerminalCell {
                    text: Cow::Owned(format!("{ORPHAN_BASE}{cell}")),
                    width: 1,
                }
            } else {
                TerminalCell {
                    text: cell,
                    width: first_width.min(2) as u8,
                }
            });
        }
    })
}

/// Zero width joiner.
const ZWJ: char = '\u{200d}';

/// Wrap sanitised text into lines of at most `width` columns. Breaks at spaces where it
/// can, inside a word (between grapheme clusters, never inside one) where it must, and at
/// every newline.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for hard in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0;
        for word in hard.split(' ').filter(|w| !w.is_empty()) {
            let word_w = text_width(word);
            let sep = usize::from(line_w > 0);
            if line_w + sep + word_w <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += sep + word_w;
                continue;
            }
            if line_w > 0 && word_w <= width {
                lines.push(std::mem::take(&mut line));
                line.push_str(word);
                line_w = word_w;
                continue;
            }
            // The word is longer than a line: break it between graphemes.
            if line_w > 0 {
                if line_w + 1 < width {
                    line.push(' ');
                    line_w += 1;
                } else {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0;
                }
            }
            for g in word.graphemes(true) {
                let gw = text_width(g);
                if line_w + gw > width && line_w > 0 {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0;
                }
                line.push_str(g);
                line_w += gw;
            }
        }
        lines.push(line);
    }
    lines
}

/// Lines of sanitised text as laid out (receipts and forms keep their columns): every
/// space kept, a line longer than `width` columns cut between grapheme clusters.
pub fn wrap_layout(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for hard in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0;
        for g in hard.trim_end().graphemes(true) {
            let gw = text_width(g);
            if line_w + gw > width && line_w > 0 {
                lines.push(std::mem::take(&mut line));
                line_w = 0;
            }
            line.push_str(g);
            line_w += gw;
        }
        lines.push(line);
    }
    lines
}

/// `text` cut to `width` columns, ending in `more` when it was cut.
pub fn fit<'t>(text: &'t str, width: usize, more: &str) -> std::borrow::Cow<'t, str> {
    if text_width(text) <= width {
        return text.into();
    }
    let room = width.saturating_sub(text_width(more));
    let mut out = String::new();
    let mut used = 0;
    for g in text.graphemes(true) {
        let w = text_width(g);
        if used + w > room {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.truncate(out.trim_end().len());
    out.push_str(more);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_with_a_marker() {
        assert_eq!(fit("rice, flour", 20, "…"), "rice, flour");
        assert_eq!(fit("rice, flour", 7, "…"), "rice,…");
        assert_eq!(fit("电视机电视机", 5, "..."), "电...");
    }

    #[test]
    fn layout_wrap_keeps_columns() {
        assert_eq!(
            wrap_layout("Milk\n  2 x 60.00     120.00", 40),
            vec!["Milk", "  2 x 60.00     120.00"]
        );
        assert_eq!(wrap_layout("abcdef", 4), vec!["abcd", "ef"]);
        assert_eq!(wrap_layout("电视机", 4), vec!["电视", "机"]);
    }

    #[test]
    fn escape_sequences_become_inert() {
        let hostile = "Shoe\x1b[2J\x1b]0;pwned\x07 size 42\r\u{9b}31m";
        let s = sanitize(hostile);
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert_eq!(
            s,
            "Shoe\u{241b}[2J\u{241b}]0;pwned\u{2407} size 42\u{240d}\u{fffd}31m"
        );
    }

    #[test]
    fn typed_text_is_cleaned_to_what_shows_as_is() {
        let typed = clean_typed("a\tb\r\nc\rd\x1b[2J\u{202e}e");
        assert_eq!(typed, "a b\nc\nd[2Je");
        assert!(matches!(sanitize(&typed), Cow::Borrowed(_)));
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(sanitize("Sukari 2kg"), Cow::Borrowed(_)));
    }

    #[test]
    fn bidi_overrides_are_neutralised() {
        assert_eq!(sanitize("abc\u{202e}fed"), "abc\u{fffd}fed");
    }

    #[test]
    fn newline_kept_or_shown() {
        assert_eq!(sanitize("a\nb"), "a\nb");
        assert_eq!(sanitize_line("a\nb"), "a\u{2424}b");
    }

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("aa bb cc dd", 5), vec!["aa bb", "cc dd"]);
        assert_eq!(wrap("a\nb", 10), vec!["a", "b"]);
    }

    #[test]
    fn wide_characters_count_two_columns() {
        let lines = wrap("电视机电视机", 5);
        assert_eq!(lines, vec!["电视", "机电", "视机"]);
        for l in &lines {
            assert!(text_width(l) <= 5);
        }
    }

    #[test]
    fn combining_marks_stay_with_their_base() {
        // Devanagari with vowel signs: graphemes must not be split.
        let text = "हिन्दी किताबें बच्चों";
        for width in 3..12 {
            for line in wrap(text, width) {
                assert!(text_width(&line) <= width, "{line:?} > {width}");
            }
            let joined: String = wrap(text, width).concat();
            assert_eq!(joined.replace(' ', ""), text.replace(' ', ""));
        }
    }

    #[test]
    fn cells_are_what_a_terminal_makes_of_the_text() {
        let cells = |s: &str| -> Vec<(String, u8)> {
            terminal_cells(s)
                .map(|c| (c.text.into_owned(), c.width))
                .collect()
        };
        // A vowel sign that takes a column (U+093E) is a cell of its own; one that does
        // not (U+0941) and a virama (U+094D) stay in their consonant's cell.
        assert_eq!(
            cells("\u{092c}\u{093e}\u{0938}\u{0941}"),
            [
                ("\u{092c}".into(), 1),
                ("\u{093e}".into(), 1),
                ("\u{0938}\u{0941}".into(), 1)
            ]
        );
        assert_eq!(
            cells("\u{0915}\u{094d}\u{0937}"),
            [("\u{0915}\u{094d}".into(), 1), ("\u{0937}".into(), 1)]
        );
        // A flag is its two regional indicators.
        assert_eq!(cells("\u{1f1f0}\u{1f1ea}").len(), 2);
        // A ZWJ sequence is its emoji side by side, without the joiner (in Indic text
        // too: tmux would put the next letter into the joiner's cell, xterm beside it).
        assert_eq!(
            cells("\u{1f469}\u{200d}\u{1f4bb}"),
            [("\u{1f469}".into(), 2), ("\u{1f4bb}".into(), 2)]
        );
        assert_eq!(
            cells("\u{0915}\u{094d}\u{200d}\u{0937}"),
            [("\u{0915}\u{094d}".into(), 1), ("\u{0937}".into(), 1)]
        );
        assert_eq!(
            cells("\u{200d}a"),
            [("a".into(), 1)],
            "a lone joiner is nothing"
        );
        assert_eq!(cells("电a"), [("电".into(), 2), ("a".into(), 1)]);
        // A mark with no base sits on a dotted circle instead of joining the cell before.
        assert_eq!(
            cells("\u{0941}x"),
            [("\u{25cc}\u{0941}".into(), 1), ("x".into(), 1)]
        );
        assert_eq!(text_width("\u{092c}\u{093e}\u{0938}\u{0941}"), 3);
        assert_eq!(text_width("\u{1f469}\u{200d}\u{1f4bb}"), 4);
        assert_eq!(text_width(""), 0);
    }

    #[test]
    fn long_word_is_broken() {
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
    }
}
