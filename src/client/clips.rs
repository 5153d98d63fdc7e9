//! The clip cache: each task's audio under the profile (`clips/HASH`), downloaded with
//! Range requests into `HASH.part` so a cut download resumes where it stopped, checked
//! against its hash before it counts, kept within a size bound, and removed once no
//! unacknowledged task needs it.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::media;
use crate::model::ClipRef;

use super::remote::{Remote, RemoteError};

/// The default bound of the cache: about 2 hours of speech at the wire's bitrate.
pub const DEFAULT_CLIP_CACHE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error("audio download stopped: {0}")]
    Remote(#[from] RemoteError),
    #[error("the audio cache at {path} cannot be written: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The bytes do not match the hash: the partial file is dropped and fetched anew.
    #[error("the audio {0} arrived damaged; it will be fetched again")]
    Damaged(String),
    #[error("the server named a clip '{0}' that is not a clip hash")]
    BadName(String),
}

pub struct ClipCache {
    dir: PathBuf,
    bound: u64,
}

impl ClipCache {
    pub fn new(dir: PathBuf, bound: u64) -> ClipCache {
        ClipCache { dir, bound }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, hash: &str) -> PathBuf {
        self.dir.join(hash)
    }

    fn part(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{hash}.part"))
    }

    fn io(&self, path: &Path) -> impl FnOnce(std::io::Error) -> ClipError {
        let path = path.display().to_string();
        move |source| ClipError::Io { path, source }
    }

    /// The clip's checked bytes, if it is here (a file of the wrong size is not).
    pub fn get(&self, clip: &ClipRef) -> Option<Vec<u8>> {
        if !media::is_clip_hash(&clip.hash) {
            return None;
        }
        fs::read(self.file(&clip.hash))
            .ok()
            .filter(|b| b.len() as u64 == clip.bytes)
    }

    pub fn has(&self, clip: &ClipRef) -> bool {
        media::is_clip_hash(&clip.hash)
            && fs::metadata(self.file(&clip.hash)).is_ok_and(|m| m.len() == clip.bytes)
    }

    /// Bytes held, partial downloads included.
    pub fn size(&self) -> u64 {
        fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Download a clip, resuming a partial one, and check it against its hash.
    pub async fn fetch(&self, remote: &Remote, clip: &ClipRef) -> Result<(), ClipError> {
        if !media::is_clip_hash(&clip.hash) {
            return Err(ClipError::BadName(clip.hash.clone()));
        }
        if self.has(clip) {
            return Ok(());
        }
        fs::create_dir_all(&self.dir).map_err(self.io(&self.dir))?;
        let part = self.part(&clip.hash);
        let mut have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if have > clip.bytes {
            fs::remove_file(&part).map_err(self.io(&part))?;
            have = 0;
        }
        if have < clip.bytes {
            let mut out = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&part)
                .map_err(self.io(&part))?;
            let limit = clip.bytes;
            let mut written = have;
            remote
                .fetch_clip(&clip.hash, have, &mut |piece| {
                    written += piece.len() as u64;
                    if written > limit {
                        return Err(std::io::Error::other("more bytes than the clip has"));
                    }
                    out.write_all(piece)
                })
                .await?;
        }
        let bytes = fs::read(&part).map_err(self.io(&part))?;
        if media::clip_hash(&bytes) != clip.hash {
            let _ = fs::remove_file(&part);
            return Err(ClipError::Damaged(clip.hash.clone()));
        }
        let file = self.file(&clip.hash);
        fs::rename(&part, &file).map_err(self.io(&file))?;
        Ok(())
    }

    /// Fetch the clips of `wanted` (the queue's order) that are not here, while the cache
    /// stays within its bound. Stops at the first failure: the link is likely down, and
    /// the next sync tries again.
    pub async fn prefetch(&self, remote: &Remote, wanted: &[ClipRef]) -> Result<usize, ClipError> {
        let mut size = self.size();
        let mut fetched = 0;
        for clip in wanted {
            if self.has(clip) {
                continue;
            }
            if size + clip.bytes > self.bound {
                break;
            }
            self.fetch(remote, clip).await?;
            size += clip.bytes;
            fetched += 1;
        }
        Ok(fetched)
    }

    /// Remove every clip (and partial download) not in `keep`: their answers are
    /// acknowledged, or their tasks gone.
    pub fn retain(&self, keep: &HashSet<String>) -> Result<usize, ClipError> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let hash = name.strip_suffix(".part").unwrap_or(&name);
            if !keep.contains(hash) {
                let path = entry.path();
                fs::remove_file(&path).map_err(self.io(&path))?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
