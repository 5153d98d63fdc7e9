//! The player line: what the audio is doing, drawn from the player's last report (the
//! transcribe screen, the review screen on a transcript). Nothing here ticks.

use ratatui::layout::Rect;

use super::Painter;
use crate::client::player::{PlayState, PlayerStatus};
use crate::model::text_width;
use crate::tui::keymap::{Action, Keymap, Mode};

/// `m:ss` of milliseconds.
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The player line of a screen with audio (`mode` names its keys): the player's state
/// in words, the position bar with times, speed and loop; where there is no sound at
/// all, why.
pub(crate) fn player_line(
    p: &mut Painter,
    status: Option<&PlayerStatus>,
    area: Rect,
    keymap: &Keymap,
    mode: Mode,
) {
    let key_of = |action| keymap.keys_for(mode, action).first().map(|k| k.to_string());
    let play = key_of(Action::PlayPause).unwrap_or_else(|| "play_pause".into());
    if let Some(why) = status
        .filter(|s| s.state == PlayState::Idle)
        .and_then(|s| s.problem.as_deref())
    {
        // No sound at all here (over SSH): said instead of promising the play key.
        p.put(area.x + 1, area.y, area.width - 1, why, p.st.message);
        return;
    }
    let Some(s) = status.filter(|s| s.state != PlayState::Idle) else {
        let line = format!("audio: {play} plays");
        p.put(area.x + 1, area.y, area.width - 1, &line, p.st.dim);
        return;
    };
    let word = match s.state {
        PlayState::Missing => {
            let skip = key_of(Action::Skip).map_or_else(String::new, |k| format!("; {k} skips"));
            let line = format!("audio not on this computer yet{skip}");
            p.put(area.x + 1, area.y, area.width - 1, &line, p.st.message);
            return;
        }
        PlayState::Playing => "playing",
        _ => "paused ",
    };
    let (now, total) = (clock(s.position_ms), clock(s.duration_ms));
    let mut tail = format!(
        " {total}  {}.{}x",
        s.speed_pct / 100,
        s.speed_pct % 100 / 10
    );
    if s.looping.is_some() {
        tail.push_str(" loop");
    }
    let head = format!("{word} {now} ");
    let bar_w = usize::from(area.width.saturating_sub(2))
        .saturating_sub(text_width(&head) + text_width(&tail) + 2)
        .max(4);
    let done = (s.position_ms.min(s.duration_ms) as usize * bar_w)
        .checked_div(s.duration_ms as usize)
        .unwrap_or(0);
    let bar = format!("[{}{}]", "#".repeat(done), "-".repeat(bar_w - done));
    let line = format!("{head}{bar}{tail}");
    p.put(area.x + 1, area.y, area.width - 1, &line, p.st.text);
}
