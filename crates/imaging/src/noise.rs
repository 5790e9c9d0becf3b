//! Image noise (SD) estimates. Two, because they answer two questions:
//!
//! - [`volume_noise_sd`]: the noise of a whole series, before anything is segmented
//!   (the IVC tracker's tolerances) — neighbour differences along rows, where
//!   homogeneous regions dominate;
//! - [`masked_noise_sd`]: the noise inside a region (the mass), where smooth
//!   heterogeneity must not count — residuals against the six face neighbours.

use crate::morph;
use crate::stats::{median, upper_median_f32, MAD_TO_SD};
use cavascope_volume::Volume;
use ndarray::Array3;

/// Normal quartile Φ⁻¹(3/4), written as the tracker's noise estimate has always used it
/// (`/ 0.6745` is within 1e-5 of `× MAD_TO_SD`; kept so its tolerances are unchanged).
pub const NORMAL_QUARTILE: f32 = 0.6745;

/// Robust noise SD of a volume: median absolute difference of neighbours along a row
/// (homogeneous regions dominate), / (0.6745 √2). Samples every 20th slice and 64 rows
/// per slice at most; 1.0 when nothing can be sampled, never below 1e-3.
pub fn volume_noise_sd(vol: &Volume) -> f32 {
    let (nk, nj, ni) = vol.data.dim();
    if ni < 2 {
        return 1.0;
    }
    let mut d: Vec<f32> = Vec::new();
    let step_k = (nk / 20).max(1);
    let step_j = (nj / 64).max(1);
    for k in (0..nk).step_by(step_k) {
        for j in (0..nj).step_by(step_j) {
            for i in 0..ni - 1 {
                let a = vol.data[[k, j, i]];
                let b = vol.data[[k, j, i + 1]];
                if a.is_finite() && b.is_finite() {
                    d.push((a - b).abs());
                }
            }
        }
    }
    let Some(med) = upper_median_f32(&mut d) else {
        return 1.0;
    };
    (med / (NORMAL_QUARTILE * std::f32::consts::SQRT_2)).max(1e-3)
}

/// Image noise (SD) of `raw` inside `mask`, from the residual against the mean of the six
/// face neighbours (smooth heterogeneity cancels, white noise stays): the residual's SD is
/// σ·√(7/6); a robust (MAD) estimate guards against edges. `None` under 30 residuals.
pub fn masked_noise_sd(raw: &Array3<f32>, mask: &Array3<bool>) -> Option<f64> {
    let dim = raw.dim();
    let mut r: Vec<f64> = Vec::new();
    for ((k, j, i), &m) in mask.indexed_iter() {
        if !m {
            continue;
        }
        let p = [k, j, i];
        let x = raw[p];
        if !x.is_finite() {
            continue;
        }
        let mut s = 0.0;
        let mut n = 0;
        let mut ok = true;
        for q in morph::neighbours6(p, dim) {
            if !mask[q] || !raw[q].is_finite() {
                ok = false;
                break;
            }
            s += raw[q] as f64;
            n += 1;
        }
        if ok && n == 6 {
            r.push(x as f64 - s / 6.0);
        }
    }
    if r.len() < 30 {
        return None;
    }
    let med = median(&mut r.clone());
    let mut dev: Vec<f64> = r.iter().map(|v| (v - med).abs()).collect();
    let mad = median(&mut dev);
    Some(mad * MAD_TO_SD / (7.0f64 / 6.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_volume::{Geometry, Point3};
    use rand::{Rng, SeedableRng};

    /// Box–Muller without an extra crate.
    fn normal(rng: &mut impl Rng) -> f32 {
        let u1: f64 = rng.random::<f64>().max(1e-12);
        let u2: f64 = rng.random::<f64>();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }

    #[test]
    fn volume_noise_matches_injected_noise() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let g = Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]);
        let mut v = Volume::filled([20, 64, 64], g, 100.0);
        for x in v.data.iter_mut() {
            *x += 12.0 * normal(&mut rng);
        }
        // A sharp edge through part of the volume must not bias the estimate much.
        for ((_, _, i), x) in v.data.indexed_iter_mut() {
            if i > 40 {
                *x += 300.0;
            }
        }
        let s = volume_noise_sd(&v);
        assert!((s - 12.0).abs() < 1.0, "{s}");
    }

    #[test]
    fn masked_noise_ignores_smooth_trends() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // Ramp of 3 per voxel plus Gaussian noise SD 12 (Box–Muller).
        let a = Array3::from_shape_fn((20, 20, 20), |(k, j, i)| {
            let u1: f64 = rng.random::<f64>().max(1e-12);
            let u2: f64 = rng.random();
            let g = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            (3.0 * (i + j + k) as f64 + 12.0 * g) as f32
        });
        let m = Array3::from_elem((20, 20, 20), true);
        let s = masked_noise_sd(&a, &m).expect("enough voxels");
        assert!((s - 12.0).abs() < 0.8, "{s}");
    }
}
