//! How the terminal may be drawn on: colour or not, Unicode frames or ASCII, decided once
//! from the environment; and the styles and frame characters that follow from it. Bold,
//! reverse and text markers carry every meaning; colour only adds to them.

use ratatui::style::{Color, Modifier, Style};

/// How the terminal may be drawn on: set by the runtime from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Use the 16 named colours (off under `NO_COLOR`): bold, reverse and text markers
    /// carry every meaning either way.
    pub color: bool,
    /// Only ASCII for frames and markers (`KAZI_ASCII=1`, or a Linux console without a
    /// UTF-8 locale).
    pub ascii: bool,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme {
            color: true,
            ascii: false,
        }
    }
}

impl Theme {
    pub fn from_env() -> Theme {
        let var = |name| std::env::var(name).ok();
        let locale = var("LC_ALL")
            .filter(|v| !v.is_empty())
            .or_else(|| var("LC_CTYPE").filter(|v| !v.is_empty()))
            .or_else(|| var("LANG"));
        Theme::from_vars(
            var("NO_COLOR").as_deref(),
            var("KAZI_ASCII").as_deref(),
            var("TERM").as_deref(),
            locale.as_deref(),
        )
    }

    /// The decision, apart from reading the environment (so it can be tested).
    pub fn from_vars(
        no_color: Option<&str>,
        kazi_ascii: Option<&str>,
        term: Option<&str>,
        locale: Option<&str>,
    ) -> Theme {
        let set = |v: Option<&str>| v.is_some_and(|v| !v.is_empty() && v != "0");
        let utf8_locale = locale.is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        });
        Theme {
            // no-color.org: present and not empty disables colour.
            color: no_color.is_none_or(str::is_empty),
            ascii: set(kazi_ascii) || (term == Some("linux") && !utf8_locale),
        }
    }

    pub(crate) fn styles(self) -> Styles {
        Styles::new(self)
    }

    pub(crate) fn frames(self) -> &'static Frames {
        if self.ascii {
            &ASCII_FRAMES
        } else {
            &UNICODE_FRAMES
        }
    }
}

/// Styles for one theme: with colour off only modifiers remain.
pub(crate) struct Styles {
    pub bar: Style,
    pub key: Style,
    pub selected: Style,
    pub dim: Style,
    pub text: Style,
    pub message: Style,
    pub online: Style,
    pub offline: Style,
    pub syncing: Style,
}

impl Styles {
    fn new(theme: Theme) -> Styles {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let reverse = Style::new().add_modifier(Modifier::REVERSED);
        if !theme.color {
            return Styles {
                bar: reverse,
                key: bold,
                selected: reverse.add_modifier(Modifier::BOLD),
                dim: Style::new(),
                text: bold,
                message: bold,
                online: Style::new(),
                offline: bold,
                syncing: Style::new(),
            };
        }
        Styles {
            bar: Style::new().fg(Color::Black).bg(Color::Cyan),
            key: bold.fg(Color::Yellow),
            selected: bold.fg(Color::Black).bg(Color::Green),
            dim: Style::new().fg(Color::Gray),
            text: bold.fg(Color::White),
            message: bold.fg(Color::Yellow),
            online: Style::new().fg(Color::Green),
            offline: bold.fg(Color::Red),
            syncing: Style::new().fg(Color::Yellow),
        }
    }
}

/// Frame characters: corners, horizontal, vertical, the status separator and the mark
/// of cut text.
pub(crate) struct Frames {
    pub tl: &'static str,
    pub tr: &'static str,
    pub bl: &'static str,
    pub br: &'static str,
    pub h: &'static str,
    pub v: &'static str,
    pub sep: &'static str,
    pub more: &'static str,
}

const UNICODE_FRAMES: Frames = Frames {
    tl: "┌",
    tr: "┐",
    bl: "└",
    br: "┘",
    h: "─",
    v: "│",
    sep: " │ ",
    more: "…",
};

const ASCII_FRAMES: Frames = Frames {
    tl: "+",
    tr: "+",
    bl: "+",
    br: "+",
    h: "-",
    v: "|",
    sep: " | ",
    more: "...",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_follows_the_environment() {
        let t = |nc, ascii, term, locale| Theme::from_vars(nc, ascii, term, locale);
        assert_eq!(t(None, None, None, None), Theme::default());
        assert!(!t(Some("1"), None, None, None).color);
        // no-color.org: an empty NO_COLOR does not count.
        assert!(t(Some(""), None, None, None).color);
        assert!(t(None, Some("1"), None, None).ascii);
        assert!(!t(None, Some("0"), None, None).ascii);
        assert!(t(None, None, Some("linux"), Some("C")).ascii);
        assert!(!t(None, None, Some("linux"), Some("en_US.UTF-8")).ascii);
        assert!(!t(None, None, Some("xterm-256color"), Some("C")).ascii);
    }
}
