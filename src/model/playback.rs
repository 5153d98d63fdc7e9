//! The player's timings for a transcribe project: how far `back` and `forward` jump, how
//! much playing after a pause rewinds, how long a `loop` is. A centre sets them in the
//! project file's `[transcribe.player]` table; they travel in the schema to every device.

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// How the player behaves; the defaults are what transcription tools usually do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayerConfig {
    /// `back` and `forward` jump this far.
    pub skip_ms: u64,
    /// Playing after a pause starts this much earlier (0: off).
    pub rewind_ms: u64,
    /// `loop` repeats this much before the position.
    pub loop_ms: u64,
}

impl Default for PlayerConfig {
    fn default() -> Self {
        PlayerConfig {
            skip_ms: 2000,
            rewind_ms: 1000,
            loop_ms: 3000,
        }
    }
}

/// The range each timing may take in a project file, in seconds.
const JUMP_SECS: (f64, f64) = (0.5, 30.0);
const REWIND_SECS: (f64, f64) = (0.0, 10.0);
const LOOP_SECS: (f64, f64) = (1.0, 30.0);

impl PlayerConfig {
    /// Left out of the schema when default, so projects that never chose keep their
    /// schema version.
    pub fn is_default(&self) -> bool {
        *self == PlayerConfig::default()
    }

    /// One line for the help screen: what the keys do with these timings.
    pub fn describe(&self) -> String {
        let rewind = if self.rewind_ms == 0 {
            "play after a pause goes on where it stopped".to_string()
        } else {
            format!(
                "play after a pause starts {} earlier",
                seconds(self.rewind_ms)
            )
        };
        format!(
            "Player: back and forward jump {}; {rewind}; loop repeats the last {}.",
            seconds(self.skip_ms),
            seconds(self.loop_ms)
        )
    }
}

/// "2 s", "1.5 s", "0.25 s".
fn seconds(ms: u64) -> String {
    let s = format!("{:.3}", ms as f64 / 1000.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} s")
}

/// The `[transcribe.player]` table as written: seconds, whole or not.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PlayerFile {
    #[serde(default)]
    jump_secs: Option<Spanned<f64>>,
    #[serde(default)]
    rewind_secs: Option<Spanned<f64>>,
    #[serde(default)]
    loop_secs: Option<Spanned<f64>>,
}

/// Check a `[transcribe.player]` table; an error is (byte offset in the file, what is wrong).
pub(super) fn player_from_file(file: &PlayerFile) -> Result<PlayerConfig, (usize, String)> {
    let d = PlayerConfig::default();
    let ms = |value: &Option<Spanned<f64>>,
              name: &str,
              what: &str,
              (lo, hi): (f64, f64),
              default: u64|
     -> Result<u64, (usize, String)> {
        let Some(v) = value else { return Ok(default) };
        let secs = *v.get_ref();
        if !(lo..=hi).contains(&secs) {
            return Err((
                v.span().start,
                format!("{name} ({what}) must be from {lo} to {hi} seconds, got {secs}"),
            ));
        }
        Ok((secs * 1000.0).round() as u64)
    };
    Ok(PlayerConfig {
        skip_ms: ms(
            &file.jump_secs,
            "jump_secs",
            "how far back and forward jump",
            JUMP_SECS,
            d.skip_ms,
        )?,
        rewind_ms: ms(
            &file.rewind_secs,
            "rewind_secs",
            "how much play after a pause goes back; 0 turns it off",
            REWIND_SECS,
            d.rewind_ms,
        )?,
        loop_ms: ms(
            &file.loop_secs,
            "loop_secs",
            "how much a loop repeats",
            LOOP_SECS,
            d.loop_ms,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn player(table: &str) -> Result<PlayerConfig, (usize, String)> {
        let file: PlayerFile = toml::from_str(table).expect("test table parses");
        player_from_file(&file)
    }

    #[test]
    fn timings_are_read_in_seconds_and_checked() {
        assert_eq!(player("").unwrap(), PlayerConfig::default());
        let p = player("jump_secs = 5\nrewind_secs = 0\nloop_secs = 1.5").unwrap();
        assert_eq!((p.skip_ms, p.rewind_ms, p.loop_ms), (5000, 0, 1500));
        assert!(!p.is_default());
        for (bad, says) in [
            (
                "jump_secs = 0",
                "jump_secs (how far back and forward jump) must be from 0.5",
            ),
            ("rewind_secs = -1", "rewind_secs"),
            (
                "loop_secs = 31",
                "loop_secs (how much a loop repeats) must be from 1 to 30",
            ),
        ] {
            let (_, message) = player(bad).unwrap_err();
            assert!(message.contains(says), "{bad}: {message}");
        }
    }

    #[test]
    fn the_help_line_says_the_timings() {
        assert_eq!(
            PlayerConfig::default().describe(),
            "Player: back and forward jump 2 s; play after a pause starts 1 s earlier; loop repeats the last 3 s."
        );
        let off = PlayerConfig {
            skip_ms: 1500,
            rewind_ms: 0,
            loop_ms: 3000,
        };
        assert!(
            off.describe()
                .contains("jump 1.5 s; play after a pause goes on where it stopped")
        );
    }
}
