//! Which program plays the sound: `KAZI_PLAYER` if set, else the first of the usual
//! players found on `PATH`. Each reads raw signed 16-bit little-endian PCM on stdin.

use std::path::Path;

/// The players looked for, in order, with how each is told the format.
pub const KNOWN_PLAYERS: &[(&str, &str)] = &[
    (
        "pw-play",
        "pw-play --rate {rate} --channels {channels} --format s16 -",
    ),
    (
        "paplay",
        "paplay --raw --rate={rate} --channels={channels} --format=s16le",
    ),
    ("aplay", "aplay -q -t raw -f S16_LE -r {rate} -c {channels}"),
    (
        "play",
        "play -q -t raw -r {rate} -e signed -b 16 -c {channels} -",
    ),
    (
        "ffplay",
        "ffplay -nodisp -autoexit -loglevel quiet -f s16le -ar {rate} -ac {channels} -",
    ),
];

/// A player command line: a shell command with `{rate}` and `{channels}` to fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerProgram {
    pub template: String,
}

impl PlayerProgram {
    pub fn command_line(&self, rate: u32, channels: u16) -> String {
        self.template
            .replace("{rate}", &rate.to_string())
            .replace("{channels}", &channels.to_string())
    }
}

/// `KAZI_PLAYER` (when set and not blank), else the first known player on `path`
/// (a `PATH`-style list). `None`: no sound on this machine.
pub fn find_player(kazi_player: Option<&str>, path: Option<&str>) -> Option<PlayerProgram> {
    if let Some(t) = kazi_player.map(str::trim).filter(|t| !t.is_empty()) {
        return Some(PlayerProgram {
            template: t.to_string(),
        });
    }
    let dirs: Vec<&Path> = path
        .unwrap_or_default()
        .split(':')
        .filter(|d| !d.is_empty())
        .map(Path::new)
        .collect();
    KNOWN_PLAYERS.iter().find_map(|(name, template)| {
        dirs.iter()
            .any(|d| is_executable(&d.join(name)))
            .then(|| PlayerProgram {
                template: template.to_string(),
            })
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

pub(super) fn none_found() -> String {
    "no audio player found: install pipewire, pulseaudio-utils, alsa-utils, sox or ffmpeg, or set KAZI_PLAYER".to_string()
}
