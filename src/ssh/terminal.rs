//! The terminal at the far end of an SSH channel, as ratatui sees it: `SshBackend`
//! writes crossterm's escape sequences for the cells ratatui's diff found changed, one
//! frame per flush, into an `Outbox` that the connection drains as fast as the client
//! reads. A client that stops reading never blocks the session: past a bound the waiting
//! frames are dropped, and the next frame is the whole screen (from the backend's copy).

use std::io::{self, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect, Size};
use tokio::sync::Notify;

/// Frames waiting for a slow client, at most: a few whole screens.
pub const MAX_PENDING: usize = 64 * 1024;

/// Bytes waiting for the channel, shared by the session thread (which fills it) and the
/// connection's writer task (which drains it).
#[derive(Debug, Default)]
pub struct Outbox {
    state: Mutex<Pending>,
    pub ready: Notify,
}

#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    /// Frames were dropped since the backend last looked: the client's screen is stale.
    lost: bool,
    /// The session ended: send what is left, then close the channel.
    finished: bool,
    /// Bytes handed to the channel so far (what `ssh_bytes_per_key` counts).
    sent: u64,
}

/// What the writer takes from the outbox.
pub enum Drained {
    Bytes(Vec<u8>),
    /// Nothing waits now.
    Empty,
    /// Nothing waits and the session ended.
    Finished,
}

impl Outbox {
    /// A frame, whole: kept behind what waits, or, past the bound, everything waiting is
    /// dropped (never half a frame) and the next frame will be the whole screen.
    pub fn push(&self, frame: &[u8]) {
        let Ok(mut p) = self.state.lock() else { return };
        if p.bytes.len() + frame.len() > MAX_PENDING {
            p.bytes.clear();
            p.lost = true;
        } else {
            p.bytes.extend_from_slice(frame);
        }
        drop(p);
        self.ready.notify_one();
    }

    pub fn finish(&self) {
        if let Ok(mut p) = self.state.lock() {
            p.finished = true;
        }
        self.ready.notify_one();
    }

    pub fn drain(&self) -> Drained {
        let Ok(mut p) = self.state.lock() else {
            return Drained::Finished;
        };
        if !p.bytes.is_empty() {
            let bytes = std::mem::take(&mut p.bytes);
            p.sent += bytes.len() as u64;
            return Drained::Bytes(bytes);
        }
        if p.finished {
            Drained::Finished
        } else {
            Drained::Empty
        }
    }

    /// Whether frames were dropped since the last call (and forget it).
    pub fn take_lost(&self) -> bool {
        self.state
            .lock()
            .map(|mut p| std::mem::take(&mut p.lost))
            .unwrap_or(false)
    }

    /// Whether frames were dropped and the client has not been sent the whole screen yet.
    pub fn is_lost(&self) -> bool {
        self.state.lock().map(|p| p.lost).unwrap_or(false)
    }

    pub fn sent(&self) -> u64 {
        self.state.lock().map(|p| p.sent).unwrap_or(0)
    }
}

/// The PTY's size as the client last told it, columns and rows in one word.
#[derive(Debug, Default)]
pub struct PtySize(AtomicU32);

impl PtySize {
    pub fn new(cols: u16, rows: u16) -> PtySize {
        let size = PtySize::default();
        size.set(cols, rows);
        size
    }

    pub fn set(&self, cols: u16, rows: u16) {
        self.0
            .store((u32::from(cols) << 16) | u32::from(rows), Ordering::Relaxed);
    }

    pub fn get(&self) -> (u16, u16) {
        let v = self.0.load(Ordering::Relaxed);
        ((v >> 16) as u16, v as u16)
    }
}

/// Collects one frame's bytes; a flush hands them to the outbox whole.
pub struct FrameSink {
    frame: Vec<u8>,
    outbox: Arc<Outbox>,
}

impl Write for FrameSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.frame.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.frame.is_empty() {
            self.outbox.push(&self.frame);
            self.frame.clear();
        }
        Ok(())
    }
}

/// ratatui's backend for an SSH channel: crossterm's encoding of cells, the PTY's size
/// from the client, and a copy of the screen to send whole after output was dropped.
pub struct SshBackend {
    inner: CrosstermBackend<FrameSink>,
    outbox: Arc<Outbox>,
    size: Arc<PtySize>,
    /// What the client's screen shows once every frame sent has arrived.
    screen: Buffer,
    cursor: Position,
    cursor_shown: bool,
}

impl SshBackend {
    pub fn new(outbox: Arc<Outbox>, size: Arc<PtySize>) -> SshBackend {
        let (w, h) = size.get();
        SshBackend {
            inner: CrosstermBackend::new(FrameSink {
                frame: Vec::new(),
                outbox: outbox.clone(),
            }),
            outbox,
            size,
            screen: Buffer::empty(Rect::new(0, 0, w, h)),
            cursor: Position::ORIGIN,
            cursor_shown: true,
        }
    }

    /// Bytes written outside ratatui's frames (entering and leaving the screen).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        Backend::flush(&mut self.inner)?;
        self.outbox.push(bytes);
        Ok(())
    }

    fn fit_screen(&mut self) {
        let (w, h) = self.size.get();
        let area = Rect::new(0, 0, w, h);
        if self.screen.area != area {
            self.screen.resize(area);
        }
    }

    /// The client missed frames: clear its screen and send every cell of the copy.
    fn resend_all(&mut self) -> io::Result<()> {
        self.inner.clear_region(ClearType::All)?;
        let screen = &self.screen;
        let cells = screen.area.positions().map(|p| (p.x, p.y, &screen[p]));
        self.inner.draw(cells)?;
        self.inner.set_cursor_position(self.cursor)?;
        if self.cursor_shown {
            self.inner.show_cursor()
        } else {
            self.inner.hide_cursor()
        }
    }
}

impl Backend for SshBackend {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.fit_screen();
        let cells: Vec<(u16, u16, &Cell)> = content.collect();
        for &(x, y, cell) in &cells {
            if let Some(c) = self.screen.cell_mut((x, y)) {
                *c = cell.clone();
            }
        }
        if self.outbox.take_lost() {
            self.resend_all()
        } else {
            self.inner.draw(cells.into_iter())
        }
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.cursor_shown = false;
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.cursor_shown = true;
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        // Never ask the terminal: its answer would arrive as input.
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.cursor = position.into();
        self.inner.set_cursor_position(self.cursor)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        if clear_type == ClearType::All {
            self.fit_screen();
            self.screen.reset();
        }
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        let (w, h) = self.size.get();
        Ok(Size::new(w, h))
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size()?,
            pixels: Size::new(0, 0),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

/// Enter the session's screen: the alternate screen, bracketed paste on, cursor hidden.
pub const ENTER: &[u8] = b"\x1b[?1049h\x1b[?2004h\x1b[?25l\x1b[H\x1b[2J";
/// Leave it: as the client's terminal was before.
pub const LEAVE: &[u8] = b"\x1b[0m\x1b[?2004l\x1b[?25h\x1b[?1049l";

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::widgets::Paragraph;

    fn drained(outbox: &Outbox) -> String {
        let mut all = Vec::new();
        while let Drained::Bytes(b) = outbox.drain() {
            all.extend(b);
        }
        String::from_utf8_lossy(&all).into_owned()
    }

    fn show(terminal: &mut Terminal<SshBackend>, text: &str) {
        terminal
            .draw(|f| f.render_widget(Paragraph::new(text.to_string()), f.area()))
            .unwrap();
    }

    #[test]
    fn only_changed_cells_go_out_and_after_dropped_frames_the_whole_screen() {
        let outbox = Arc::new(Outbox::default());
        let size = Arc::new(PtySize::new(20, 3));
        let mut terminal = Terminal::new(SshBackend::new(outbox.clone(), size.clone())).unwrap();
        show(&mut terminal, "hello world");
        let first = drained(&outbox);
        // Blank cells match the fresh screen: only the words go out.
        assert!(
            first.contains("hello") && first.contains("world"),
            "{first:?}"
        );

        show(&mut terminal, "hello wirld");
        let diff = drained(&outbox);
        assert!(diff.contains('i') && !diff.contains("hello"), "{diff:?}");

        // A client that stopped reading: waiting frames are dropped past the bound...
        outbox.push(&vec![b'x'; MAX_PENDING / 2]);
        outbox.push(&vec![b'y'; MAX_PENDING / 2 + 1]);
        assert!(outbox.is_lost());
        // ...and the next frame is the whole screen, not the diff.
        show(&mut terminal, "hello wirlds");
        let whole = drained(&outbox);
        assert!(
            whole.contains("\x1b[2J") && whole.contains("hello wirlds"),
            "{whole:?}"
        );
        assert!(!whole.contains('x') && !whole.contains('y'));
        assert!(!outbox.is_lost());

        // A resize redraws everything at the new size.
        size.set(12, 2);
        show(&mut terminal, "hello wirlds");
        let resized = drained(&outbox);
        assert!(resized.contains("\x1b[2J"), "{resized:?}");
        assert!(
            resized.contains("hello") && resized.contains("wirlds"),
            "{resized:?}"
        );
    }
}
