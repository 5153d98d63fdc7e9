//! The terminal UI: a pure state machine (`app`) driven by our own keys (`key`) through
//! data keymaps (`keymap`), drawn by `view` from state alone. `terminal` sets up and
//! restores a local crossterm terminal; the runtime loop that joins them to the client
//! store lives in `run`.

pub mod app;
pub mod key;
pub mod keymap;
pub mod run;
pub mod terminal;
pub mod view;

pub use app::{App, Effect, Event, Link, Screen, Status};
pub use key::{Key, KeyCode, KeyDecoder};
pub use keymap::{Action, Keymap, KeymapError, Mode};
pub use view::{Theme, render};
