//! Which clips the task cache needs: the lessons' and held exam attempts' (training works
//! offline once they are here) and the queue's, to fetch ahead; those, and those of every
//! task whose answer the server has not acknowledged, to keep.

use std::collections::HashSet;
use std::path::Path;

use crate::client::clips::{ClipCache, DEFAULT_CLIP_CACHE_BYTES};
use crate::model::ClipRef;

use super::{LocalStore, StoreError, clip_column};

impl LocalStore {
    /// The clip cache beside this store (`clips/` in the profile), bounded by
    /// `KAZI_CLIP_CACHE_MB` or the default.
    pub fn clip_cache(&self) -> ClipCache {
        let dir = Path::new(&self.path)
            .parent()
            .unwrap_or(Path::new("."))
            .join("clips");
        let bound = std::env::var("KAZI_CLIP_CACHE_MB")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_CLIP_CACHE_BYTES, |mb| mb * 1024 * 1024);
        ClipCache::new(dir, bound)
    }

    /// Clips of the stored lesson sets and held exam attempts (in their order), then of
    /// queued tasks in the order they will be shown, each once.
    pub fn clips_wanted(&self) -> Result<Vec<ClipRef>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT clip FROM tasks WHERE state = 0 AND clip IS NOT NULL ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| clip_column(r, 0))
            .map_err(|e| self.err(e))?;
        let mut seen = HashSet::new();
        let mut out: Vec<ClipRef> = self
            .training_clips()?
            .into_iter()
            .filter(|c| seen.insert(c.hash.clone()))
            .collect();
        for row in rows {
            if let Some(clip) = row.map_err(|e| self.err(e))?
                && seen.insert(clip.hash.clone())
            {
                out.push(clip);
            }
        }
        Ok(out)
    }

    /// Hashes of clips still needed: of queued tasks and of tasks whose answer is not
    /// acknowledged yet (undo may bring them back).
    pub fn clips_in_use(&self) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT clip FROM tasks WHERE clip IS NOT NULL AND (state = 0 OR id IN
                   (SELECT task FROM outbox WHERE sent = 0))",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| clip_column(r, 0))
            .map_err(|e| self.err(e))?;
        let mut keep: HashSet<String> =
            self.training_clips()?.into_iter().map(|c| c.hash).collect();
        for row in rows {
            if let Some(clip) = row.map_err(|e| self.err(e))? {
                keep.insert(clip.hash);
            }
        }
        Ok(keep)
    }

    /// Clips that training needs: every stored lesson's and every held exam attempt's,
    /// attempts first (they are what the worker must pass), duplicates kept.
    fn training_clips(&self) -> Result<Vec<ClipRef>, StoreError> {
        let book = self.training()?;
        let exams = book.attempts.values().flat_map(|a| &a.tasks);
        let exams = exams.filter_map(|t| t.clip.clone());
        let lessons = book
            .lessons
            .values()
            .flatten()
            .filter_map(|t| t.clip.clone());
        Ok(exams.chain(lessons).collect())
    }
}
