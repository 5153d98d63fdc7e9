//! Time-stretch that keeps the pitch (WSOLA): the clip is rebuilt from overlapping
//! windows taken at `speed` times the output hop, each shifted within a small search
//! range to the place that best continues the previous window, then cross-faded.

pub const MIN_SPEED: f32 = 0.5;
pub const MAX_SPEED: f32 = 1.0;

/// Window of 30 ms at 16 kHz scaled by rate; hop half of it; search ±10 ms.
pub fn stretch(samples: &[f32], rate: u32, speed: f32) -> Vec<f32> {
    let speed = speed.clamp(MIN_SPEED, MAX_SPEED);
    if (speed - 1.0).abs() < 1e-3 || samples.is_empty() {
        return samples.to_vec();
    }
    let win = (rate as usize * 30 / 1000).max(8);
    let hop = win / 2;
    let search = rate as usize / 100;
    let out_len = (samples.len() as f64 / speed as f64).round() as usize;
    let hann: Vec<f32> = (0..win)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / win as f32).cos())
        .collect();
    let mut out = vec![0.0f32; out_len + win];
    let mut norm = vec![0.0f32; out_len + win];
    // Where the previous window's natural continuation starts in the input.
    let mut prev: Option<usize> = None;
    let mut o = 0usize;
    while o < out_len {
        let nominal = (o as f64 * speed as f64) as usize;
        let start = match prev {
            None => nominal,
            Some(p) => best_offset(samples, p + hop, nominal, search, hop),
        };
        for i in 0..win {
            let s = samples.get(start + i).copied().unwrap_or(0.0);
            out[o + i] += s * hann[i];
            norm[o + i] += hann[i];
        }
        prev = Some(start);
        o += hop;
    }
    for (s, n) in out.iter_mut().zip(&norm) {
        if *n > 1e-3 {
            *s /= n;
        }
    }
    out.truncate(out_len);
    out
}

/// The start near `nominal` whose first `len` samples match best (cross-correlation)
/// the samples at `target`, the natural continuation of the last window.
fn best_offset(samples: &[f32], target: usize, nominal: usize, search: usize, len: usize) -> usize {
    if target + len > samples.len() {
        return nominal;
    }
    let lo = nominal.saturating_sub(search);
    let hi = (nominal + search).min(samples.len().saturating_sub(len));
    let want = &samples[target..target + len];
    let mut best = nominal.min(hi.max(lo));
    let mut best_score = f32::MIN;
    // Stepping by 2 halves the work; a 16 kHz speech period is many samples long.
    let mut s = lo;
    while s <= hi {
        let cand = &samples[s..s + len];
        let score: f32 = cand.iter().zip(want).map(|(a, b)| a * b).sum();
        if score > best_score {
            best_score = score;
            best = s;
        }
        s += 2;
    }
    best
}
