//! Untrusted text made safe and laid out: the one sanitiser every piece of text from
//! tasks, users and the network passes before it reaches a terminal, and word wrapping
//! that counts display columns (wide scripts take two, combining marks none).

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

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

/// Display width in terminal columns.
pub fn text_width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn long_word_is_broken() {
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
    }
}
