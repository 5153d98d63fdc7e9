//! The local terminal: raw mode, alternate screen, hidden cursor while Kazi runs, and
//! always restored on the way out: when the guard drops, and by a panic hook before the
//! panic message is printed (so the message is readable and the shell usable).

use std::io::{self, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::{cursor, event, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal type the runtime draws on locally.
pub type LocalTerminal = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is in Kazi's state now; restoring twice is harmless but noisy.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// Owns the set-up terminal; dropping it puts the user's terminal back.
pub struct TerminalGuard {
    terminal: LocalTerminal,
}

impl TerminalGuard {
    pub fn terminal(&mut self) -> &mut LocalTerminal {
        &mut self.terminal
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Raw mode, alternate screen, hidden cursor, panic hook. The first frame is drawn by the
/// runtime; on failure the terminal is restored before the error is returned.
pub fn enter() -> io::Result<TerminalGuard> {
    install_panic_hook();
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let setup = (|| {
        let mut out = io::stdout();
        // Cleared here rather than by `Terminal::clear`, which first asks the terminal for
        // the cursor position: a round trip over SSH, and a failure where nobody answers.
        execute!(
            out,
            terminal::EnterAlternateScreen,
            // A paste arrives as one event (one edit in a text area), not as keys.
            event::EnableBracketedPaste,
            cursor::Hide,
            terminal::Clear(terminal::ClearType::All)
        )?;
        Terminal::new(CrosstermBackend::new(io::stdout()))
    })();
    match setup {
        Ok(terminal) => Ok(TerminalGuard { terminal }),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

/// Put the terminal back as the shell expects it. Safe to call at any time, any number
/// of times; errors are ignored because there is nothing better to do on the way out.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = execute!(
        out,
        event::DisableBracketedPaste,
        cursor::Show,
        terminal::LeaveAlternateScreen
    );
    let _ = terminal::disable_raw_mode();
    let _ = out.flush();
}

/// Restore the terminal before a panic message, and keep the message short for users:
/// the full report (and backtrace) only when `RUST_BACKTRACE` asks for it.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
                previous(info);
                return;
            }
            let what = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown error".into());
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!(
                "kazi stopped on an internal error: {what}{place}\n\
                 Answers you confirmed are saved. Start kazi again to continue; \
                 please report this message."
            );
        }));
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn restore_without_enter_writes_nothing_and_does_not_fail() {
        // Tests run without a terminal: restoring an untouched one must be a no-op.
        super::restore();
        super::restore();
        assert!(!super::ACTIVE.load(std::sync::atomic::Ordering::SeqCst));
    }
}
