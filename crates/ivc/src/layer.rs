//! The wall along a ray when a thin layer of another tissue lies against it (a strip of
//! liver between the vein and the fat, a few mm thick): the blurred profile then shows
//! two steps closer together than the step detector's reach, and the half level of the
//! whole ramp lies inside the layer — outside the wall. Each ray's profile (every phase
//! together) is fitted with one blurred step and with two; where two clearly explain it
//! better (both steps significant, a plateau between them), the wall is the inner step.
//!
//! The model is the partial-volume edge of imaging: a step blurred by a Gaussian, on each
//! phase `y = A + (B − A)·Φ((r − r₁)/s) + (C − B)·Φ((r − r₂)/s)`, with the positions and
//! the blur shared by the phases and the levels free per phase (linear least squares
//! for each candidate position pair).
//!
//! ```
//! use cavascope_ivc::layer::{inner_wall, LayerSettings};
//! // Tumour (40) | 3 mm of liver (55) | fat (−100), blurred with σ = 1.5 mm, 0.25 mm steps.
//! let phi = |x: f64| 0.5 * (1.0 + cavascope_ivc::layer::erf(x / 2f64.sqrt()));
//! let prof: Vec<f64> = (0..60)
//!     .map(|k| {
//!         let r = 15.0 + 0.25 * k as f64;
//!         40.0 + 15.0 * phi((r - 20.0) / 1.5) - 155.0 * phi((r - 23.0) / 1.5)
//!     })
//!     .collect();
//! let set = LayerSettings { step_mm: 0.25, blur_sd_mm: 1.5, corr_mm: 1.0, min_step: 10.0, min_gap_mm: 1.5 };
//! let r = inner_wall(&[prof], &[1.0], 0, 59, &set).unwrap();
//! assert!((r - (20.0 - 15.0)).abs() < 0.3, "{r}");
//! ```

use crate::params::layer::*;

/// Settings of the two-step test for one tracker.
#[derive(Debug, Clone, Copy)]
pub struct LayerSettings {
    /// Sample spacing along the ray, mm.
    pub step_mm: f64,
    /// Expected blur SD of a wall in the profile, mm (voxel, interpolation, smoothing).
    pub blur_sd_mm: f64,
    /// Noise correlation length along the ray, mm: neighbouring samples of a smoothed
    /// image are not independent, so sums of squares count one sample per length.
    pub corr_mm: f64,
    /// Least noise-normalised size (Σ w·Δ² over phases) of each of the two steps.
    pub min_step: f64,
    /// Least plateau between the two steps, mm: a thinner "layer" is the blur of one
    /// edge, not a tissue.
    pub min_gap_mm: f64,
}

/// Error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7).
pub fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    if x >= 0.0 {
        y
    } else {
        -y
    }
}

/// Sums of one candidate step over the window: Σφ, Σφ² and Σ y·φ per phase.
struct StepSums {
    phi: Vec<f64>,
    s1: f64,
    s2: f64,
    sy: Vec<f64>,
}

/// Inner wall of a two-step profile within samples `lo..=hi` of `prof` (one profile per
/// phase, weights `w` = 1/noise² per phase), as a distance along the ray (mm, sample 0 at
/// 0). `None` where one step explains the profile as well (the caller keeps its own
/// estimate) or the window holds non-finite samples.
pub fn inner_wall(prof: &[Vec<f64>], w: &[f64], lo: usize, hi: usize, set: &LayerSettings) -> Option<f64> {
    fit_layers(prof, w, lo, hi, set)
        .filter(|f| f.accepted(set))
        .map(|f| f.inner_mm)
}

/// The best two-step fit of a profile window and how much better it explains the
/// profile than one step.
#[derive(Debug, Clone, Copy)]
pub struct LayerFit {
    /// Inner and outer step positions along the ray, mm.
    pub inner_mm: f64,
    /// Outer step position, mm (with `inner_mm`).
    pub outer_mm: f64,
    /// Drop of the noise-normalised residual from one step to two, per independent sample.
    pub gain: f64,
    /// Noise-normalised size of each step (Σ over phases of w·Δ²).
    pub inner_step: f64,
    /// Noise-normalised size of the outer step.
    pub outer_step: f64,
}

impl LayerFit {
    /// Two steps explain the profile clearly better than one, and each is a real step.
    pub fn accepted(&self, set: &LayerSettings) -> bool {
        self.gain >= MIN_GAIN && self.inner_step >= set.min_step && self.outer_step >= set.min_step
    }
}

/// See [`inner_wall`]; `None` where the window cannot be fitted or one step leaves too
/// little unexplained for two to be accepted.
pub fn fit_layers(
    prof: &[Vec<f64>],
    w: &[f64],
    lo: usize,
    hi: usize,
    set: &LayerSettings,
) -> Option<LayerFit> {
    let nph = prof.len().min(w.len());
    if nph == 0 || hi <= lo || set.step_mm <= 0.0 || set.blur_sd_mm <= 0.0 {
        return None;
    }
    let n = hi - lo + 1;
    let gap = (set.min_gap_mm / set.step_mm).ceil() as usize;
    if n < 2 * gap + MIN_WINDOW_EXTRA_SAMPLES || prof.iter().take(nph).any(|p| p.len() <= hi) {
        return None;
    }
    let y: Vec<&[f64]> = prof.iter().take(nph).map(|p| &p[lo..=hi]).collect();
    if y.iter().any(|p| p.iter().any(|v| !v.is_finite())) {
        return None;
    }
    let sum_y: Vec<f64> = y.iter().map(|p| p.iter().sum()).collect();
    let sum_yy: Vec<f64> = y.iter().map(|p| p.iter().map(|v| v * v).sum()).collect();
    let nf = n as f64;
    // Candidate step positions: not within END_MARGIN_SAMPLES of the window's ends.
    let cand: Vec<usize> = (END_MARGIN_SAMPLES..n - END_MARGIN_SAMPLES).collect();
    let eff = (set.step_mm / set.corr_mm.max(set.step_mm)).min(1.0);

    // One step, every blur: the sums each candidate position needs later too.
    let mut best1 = f64::INFINITY;
    let per_blur = step_sums_per_blur(&y, n, &cand, set);
    for st in per_blur.iter().flatten() {
        let g = nalgebra::Matrix2::new(nf, st.s1, st.s1, st.s2);
        let Some(gi) = g.try_inverse() else { continue };
        let mut rss = 0.0;
        for p in 0..nph {
            let v = nalgebra::Vector2::new(sum_y[p], st.sy[p]);
            rss += w[p] * (sum_yy[p] - (v.transpose() * gi * v)[(0, 0)]).max(0.0);
        }
        best1 = best1.min(rss);
    }
    // Two steps cannot gain more than one step leaves (a clean single edge: most rays).
    if !best1.is_finite() || best1 * eff < MIN_GAIN {
        return None;
    }
    // Two steps, the second `gap`…`max_gap` samples beyond the first: on a 2-sample grid,
    // then refined by one sample around the best pair.
    let max_gap = (MAX_LAYER_MM / set.step_mm).ceil() as usize;
    let two = |steps: &[StepSums], a: usize, b: usize| -> Option<(f64, nalgebra::Matrix3<f64>)> {
        let (sa, sb) = (&steps[a], &steps[b]);
        let x12: f64 = sa.phi.iter().zip(&sb.phi).map(|(p, q)| p * q).sum();
        let g = nalgebra::Matrix3::new(nf, sa.s1, sb.s1, sa.s1, sa.s2, x12, sb.s1, x12, sb.s2);
        let gi = g.try_inverse()?;
        let mut rss = 0.0;
        for p in 0..nph {
            let v = nalgebra::Vector3::new(sum_y[p], sa.sy[p], sb.sy[p]);
            rss += w[p] * (sum_yy[p] - (v.transpose() * gi * v)[(0, 0)]).max(0.0);
        }
        Some((rss, gi))
    };
    let nc = cand.len();
    // (rss, blur index, j1, j2)
    let mut best: Option<(f64, usize, usize, usize)> = None;
    for (fi, steps) in per_blur.iter().enumerate() {
        for a in (0..nc).step_by(COARSE_STRIDE) {
            for b in (a + gap..(a + max_gap + 1).min(nc)).step_by(COARSE_STRIDE) {
                if let Some((rss, _)) = two(steps, a, b) {
                    if best.is_none_or(|x| rss < x.0) {
                        best = Some((rss, fi, a, b));
                    }
                }
            }
        }
    }
    let (_, fi, a0, b0) = best?;
    let steps = &per_blur[fi];
    let mut fine = best;
    for a in a0.saturating_sub(1)..=(a0 + 1).min(nc - 1) {
        for b in b0.saturating_sub(1)..=(b0 + 1).min(nc - 1) {
            if b < a + gap {
                continue;
            }
            if let Some((rss, _)) = two(steps, a, b) {
                if fine.is_none_or(|x| rss < x.0) {
                    fine = Some((rss, fi, a, b));
                }
            }
        }
    }
    let (rss2, _, j1, j2) = fine?;
    let (_, gi) = two(steps, j1, j2)?;
    let coefs: Vec<[f64; 3]> = (0..nph)
        .map(|p| {
            let c = gi * nalgebra::Vector3::new(sum_y[p], steps[j1].sy[p], steps[j2].sy[p]);
            [c[0], c[1], c[2]]
        })
        .collect();
    let size = |k: usize| -> f64 { coefs.iter().zip(w).map(|(c, wi)| wi * c[k] * c[k]).sum() };
    Some(LayerFit {
        inner_mm: (lo + cand[j1]) as f64 * set.step_mm,
        outer_mm: (lo + cand[j2]) as f64 * set.step_mm,
        gain: (best1 - rss2) * eff,
        inner_step: size(1),
        outer_step: size(2),
    })
}

/// For each blur of [`BLUR_FACTORS`], the sums of a blurred unit step at each candidate
/// position `cand` over the window (`y`: its `n` samples per phase).
fn step_sums_per_blur(y: &[&[f64]], n: usize, cand: &[usize], set: &LayerSettings) -> Vec<Vec<StepSums>> {
    BLUR_FACTORS
        .iter()
        .map(|f| {
            let s = set.blur_sd_mm * f;
            // Φ by offset (k − j) from −n to n: one erf per offset, not per pair.
            let table: Vec<f64> = (0..=2 * n)
                .map(|i| {
                    let x = (i as f64 - n as f64) * set.step_mm / s;
                    0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2))
                })
                .collect();
            cand.iter()
                .map(|&j| {
                    let phi: Vec<f64> = (0..n).map(|k| table[k + n - j]).collect();
                    let s1 = phi.iter().sum();
                    let s2 = phi.iter().map(|v| v * v).sum();
                    let sy = y
                        .iter()
                        .map(|p| p.iter().zip(&phi).map(|(a, b)| a * b).sum())
                        .collect();
                    StepSums { phi, s1, s2, sy }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn phi(x: f64) -> f64 {
        0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2))
    }

    /// Profiles at 0.25 mm from r = 10 mm, blur σ 1.8 mm, per-sample noise `sd` smoothed
    /// over ~4 samples (as the tracker's patches are).
    fn profile(
        levels: &[(f64, f64, f64)],
        inner: f64,
        outer: Option<f64>,
        sd: f64,
        seed: u64,
    ) -> Vec<Vec<f64>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        levels
            .iter()
            .map(|&(a, b, c)| {
                let raw: Vec<f64> = (0..80)
                    .map(|k| {
                        let r = 10.0 + 0.25 * k as f64;
                        let v = match outer {
                            Some(o) => a + (b - a) * phi((r - inner) / 1.8) + (c - b) * phi((r - o) / 1.8),
                            None => a + (c - a) * phi((r - inner) / 1.8),
                        };
                        v + sd * (rng.random::<f64>() - 0.5) * 12f64.sqrt()
                    })
                    .collect();
                (0..raw.len())
                    .map(|k| {
                        let lo = k.saturating_sub(2);
                        let hi = (k + 2).min(raw.len() - 1);
                        raw[lo..=hi].iter().sum::<f64>() / (hi - lo + 1) as f64
                    })
                    .collect()
            })
            .collect()
    }

    fn settings() -> LayerSettings {
        LayerSettings {
            step_mm: 0.25,
            blur_sd_mm: 1.8,
            corr_mm: 4.5,
            min_step: 44.0,
            min_gap_mm: 1.5,
        }
    }

    #[test]
    fn erf_matches_known_values() {
        for (x, e) in [
            (0.0, 0.0),
            (0.5, 0.520_499_876),
            (1.0, 0.842_700_793),
            (2.0, 0.995_322_265),
        ] {
            assert!((erf(x) - e).abs() < 2e-7 && (erf(-x) + e).abs() < 2e-7, "{x}");
        }
    }

    #[test]
    fn thin_layer_gives_the_inner_step_and_a_single_edge_gives_none() {
        // Four CT phases (unenhanced, arterial, portal, delayed): tumour → 3.5 mm of
        // liver → fat, the phantom's values; noise 4 (smoothed units 1/w = 16).
        let levels = [
            (40.0, 55.0, -100.0),
            (101.0, 70.0, -100.0),
            (101.0, 110.0, -98.0),
            (120.0, 90.0, -98.0),
        ];
        let set = settings();
        let w = [1.0 / 16.0; 4];
        let mut layered = 0;
        for seed in 0..20 {
            let p = profile(&levels, 20.0, Some(23.5), 4.0, seed);
            if let Some(r) = inner_wall(&p, &w, 0, 79, &set) {
                // Sample 0 lies at 10 mm.
                assert!((r + 10.0 - 20.0).abs() < 1.0, "seed {seed}: {r}");
                layered += 1;
            }
            // One edge: the caller's half level stands.
            let p = profile(&levels, 21.0, None, 4.0, seed);
            assert!(inner_wall(&p, &w, 0, 79, &set).is_none(), "seed {seed}");
        }
        assert!(layered >= 18, "{layered} of 20 layered profiles found");
    }

    #[test]
    fn bad_windows_are_none() {
        let set = settings();
        let p = vec![vec![f64::NAN; 80]];
        assert!(inner_wall(&p, &[1.0], 0, 79, &set).is_none());
        assert!(inner_wall(&[vec![1.0; 10]], &[1.0], 0, 79, &set).is_none());
        assert!(inner_wall(&[], &[], 0, 0, &set).is_none());
        assert!(inner_wall(&[vec![1.0; 80]], &[1.0], 5, 5, &set).is_none());
    }
}
