//! The terminal UI. `app` is a pure state machine routing between `screen`s and
//! `overlay`s, driven by our own keys (`key`) through data keymaps (`keymap`) and drawn
//! by `view` with shared `widgets` and a `theme`. `runtime` is the one loop that feeds it
//! events and carries out its effects, generic over terminal, input and executor; `local`
//! is the adapter for a local terminal, the client store and the sync engine.

pub mod app;
pub mod class;
pub mod key;
pub mod keymap;
pub mod local;
pub mod overlay;
pub mod review_link;
pub mod runtime;
pub mod screen;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod widgets;

pub use app::{App, Effect, Event, Link, Seat, Status, Tally};
pub use key::{Key, KeyCode, KeyDecoder, Typed};
pub use keymap::{Action, Keymap, KeymapError, Mode};
pub use screen::{Screen, ScreenId};
pub use theme::Theme;
pub use view::render;
