//! Sample-rate conversion to the wire rate: a windowed-sinc interpolator whose cut-off
//! follows the lower of the two rates, so downsampling does not alias.

use super::Pcm;

/// Taps on each side of the interpolation point.
const HALF_TAPS: i64 = 16;

pub fn resample(pcm: &Pcm, rate: u32) -> Pcm {
    if pcm.rate == rate || pcm.samples.is_empty() {
        return Pcm {
            rate,
            samples: pcm.samples.clone(),
        };
    }
    let ratio = rate as f64 / pcm.rate as f64;
    let cutoff = ratio.min(1.0);
    let out_len = (pcm.samples.len() as f64 * ratio).round() as usize;
    let src = &pcm.samples;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let t = n as f64 / ratio;
        let centre = t.floor() as i64;
        let mut acc = 0.0f64;
        let mut norm = 0.0f64;
        for k in (centre - HALF_TAPS + 1)..=(centre + HALF_TAPS) {
            let x = t - k as f64;
            let w = window(x / (HALF_TAPS as f64 + 1.0));
            let h = cutoff * sinc(cutoff * x) * w;
            norm += h;
            if k >= 0 && (k as usize) < src.len() {
                acc += h * src[k as usize] as f64;
            }
        }
        out.push(if norm.abs() > 1e-9 { acc / norm } else { 0.0 } as f32);
    }
    Pcm { rate, samples: out }
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-9 {
        1.0
    } else {
        let p = std::f64::consts::PI * x;
        p.sin() / p
    }
}

/// A Hann window over -1..1.
fn window(x: f64) -> f64 {
    if x.abs() >= 1.0 {
        0.0
    } else {
        0.5 * (1.0 + (std::f64::consts::PI * x).cos())
    }
}
