//! Synthetic crowd data with known truth: good workers (mostly right, errors spread),
//! biased workers (less right, errors pulled to one favourite label) and spammers
//! (uniformly random, or always the same label). Activity is long-tailed, as in real
//! crowds: a few workers answer thousands of tasks, many answer a few dozen. Seeded, so
//! every run sees the same data.

/// SplitMix64: small, fast, and good enough to draw workers and labels.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0.0..1.0.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
}

#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // the parameters document what each worker does
pub enum Behaviour {
    Good { accuracy: f64 },
    Biased { accuracy: f64, favourite: usize },
    RandomSpammer,
    ConstantSpammer { label: usize },
}

pub struct Crowd {
    pub labels: usize,
    pub truth: Vec<usize>,
    pub workers: Vec<Behaviour>,
    /// (task, worker, label)
    pub answers: Vec<(u32, u32, u32)>,
}

/// Label shares of the true answers: real projects are never balanced.
const PRIORS: [f64; 4] = [0.4, 0.3, 0.2, 0.1];

pub fn generate(answers: usize, overlap: usize, workers: usize, seed: u64) -> Crowd {
    let mut rng = Rng::new(seed);
    let labels = PRIORS.len();
    let tasks = answers / overlap;
    let behaviours: Vec<Behaviour> = (0..workers)
        .map(|_| {
            let kind = rng.unit();
            if kind < 0.6 {
                Behaviour::Good {
                    accuracy: 0.65 + 0.3 * rng.unit(),
                }
            } else if kind < 0.85 {
                Behaviour::Biased {
                    accuracy: 0.45 + 0.25 * rng.unit(),
                    favourite: rng.below(labels),
                }
            } else if kind < 0.93 {
                Behaviour::RandomSpammer
            } else {
                Behaviour::ConstantSpammer {
                    label: rng.below(labels),
                }
            }
        })
        .collect();
    let truth: Vec<usize> = (0..tasks)
        .map(|_| {
            let mut u = rng.unit();
            PRIORS
                .iter()
                .position(|&p| {
                    u -= p;
                    u < 0.0
                })
                .unwrap_or(labels - 1)
        })
        .collect();
    // Worker i is picked with weight 1 / (i + 20): the busiest does ~100x the least busy.
    let mut cumulative = Vec::with_capacity(workers);
    let mut total = 0.0;
    for i in 0..workers {
        total += 1.0 / (i as f64 + 20.0);
        cumulative.push(total);
    }
    let mut out = Vec::with_capacity(tasks * overlap);
    let mut chosen: Vec<usize> = Vec::with_capacity(overlap);
    for (task, &true_label) in truth.iter().enumerate() {
        chosen.clear();
        while chosen.len() < overlap.min(workers) {
            let target = rng.unit() * total;
            let w = cumulative.partition_point(|&c| c < target).min(workers - 1);
            if !chosen.contains(&w) {
                chosen.push(w);
            }
        }
        for &w in &chosen {
            let other = |rng: &mut Rng| (true_label + 1 + rng.below(labels - 1)) % labels;
            let label = match behaviours[w] {
                Behaviour::Good { accuracy } => {
                    if rng.unit() < accuracy {
                        true_label
                    } else {
                        other(&mut rng)
                    }
                }
                Behaviour::Biased {
                    accuracy,
                    favourite,
                } => {
                    if rng.unit() < accuracy {
                        true_label
                    } else if rng.unit() < 0.8 {
                        favourite
                    } else {
                        other(&mut rng)
                    }
                }
                Behaviour::RandomSpammer => rng.below(labels),
                Behaviour::ConstantSpammer { label } => label,
            };
            out.push((task as u32, w as u32, label as u32));
        }
    }
    Crowd {
        labels,
        truth,
        workers: behaviours,
        answers: out,
    }
}

/// Every `1 / share`-th task, spread evenly, gets its truth as gold.
pub fn gold_tasks(tasks: usize, share: f64) -> Vec<bool> {
    let every = (1.0 / share).round().max(1.0) as usize;
    (0..tasks).map(|t| t % every == every / 2).collect()
}
