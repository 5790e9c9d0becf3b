//! MRI measures of the mass: T1 (pre-contrast) and T2 signal as ratios to paraspinal
//! muscle, and the apparent diffusion coefficient.
//!
//! - Muscle reference: an automatically placed disc (radius 8 mm, over three levels 3 mm
//!   apart) in the paraspinal muscles at the mass centroid's level: among candidate
//!   centres 15–80 mm lateral to the body midline and 15–80 mm in front of the posterior
//!   skin, the homogeneous one (CV < 0.15) with the lowest T2 signal (skeletal muscle is
//!   the darkest homogeneous soft tissue on T2; fat is bright), patient right preferred.
//!   Its centre is reported.
//! - ADC: a mono-exponential fit `ln S = ln S0 − b·ADC` per voxel over the DWI b-values
//!   (least squares, ≥ 2 distinct b), or else the scanner's ADC series (its units are
//!   recognised from its magnitude: 1e-6 mm²/s as Siemens and GE store it, or mm²/s).
//!   Reported in 1e-3 mm²/s.

use crate::model::{MrMeasures, PhaseInfo, Role};
use cavascope_volume::{Mask, Point3, Volume};

/// Muscle ROI radius, mm.
pub const MUSCLE_ROI_RADIUS_MM: f64 = 8.0;
/// A muscle ROI must be this homogeneous (SD / mean).
pub const MUSCLE_ROI_MAX_CV: f64 = 0.15;
/// Search window relative to the posterior skin and the midline, mm.
const SEARCH_LATERAL_MM: (f64, f64) = (15.0, 80.0);
const SEARCH_DEPTH_MM: (f64, f64) = (15.0, 80.0);
const SEARCH_STEP_MM: f64 = 3.0;

fn first(phases: &[PhaseInfo], role: Role) -> Option<usize> {
    phases.iter().find(|p| p.role == role).map(|p| p.volume_index)
}

/// World centres of the set voxels of a mask.
fn mask_points(mask: &Mask) -> Vec<Point3<f64>> {
    mask.data
        .indexed_iter()
        .filter(|(_, &b)| b)
        .map(|((k, j, i), _)| mask.geometry.index_to_world([i as f64, j as f64, k as f64]))
        .collect()
}

fn mean_at(v: &Volume, pts: &[Point3<f64>]) -> Option<(f64, f64, usize)> {
    let vals: Vec<f64> = pts
        .iter()
        .filter_map(|p| v.sample_world(p))
        .filter(|x| x.is_finite())
        .map(|x| x as f64)
        .collect();
    if vals.is_empty() {
        return None;
    }
    let n = vals.len() as f64;
    let m = vals.iter().sum::<f64>() / n;
    let sd = (vals.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt();
    Some((m, sd, vals.len()))
}

fn disc_points(c: &Point3<f64>) -> Vec<Point3<f64>> {
    let mut out = Vec::new();
    let r = MUSCLE_ROI_RADIUS_MM;
    let step = 1.5;
    let n = (r / step).floor() as i64;
    for dz in [-3.0, 0.0, 3.0] {
        for a in -n..=n {
            for b in -n..=n {
                let (dx, dy) = (a as f64 * step, b as f64 * step);
                if dx * dx + dy * dy <= r * r {
                    out.push(Point3::new(c.x + dx, c.y + dy, c.z + dz));
                }
            }
        }
    }
    out
}

/// Place the paraspinal muscle ROI at level `z`. Returns its centre.
pub fn place_muscle_roi(t1: Option<&Volume>, t2: Option<&Volume>, z: f64) -> Option<Point3<f64>> {
    let body_vol = t2.or(t1)?;
    // Body outline on this level from the volume's own extent, 2 mm grid.
    let (lo, hi) = body_vol.geometry.world_bounds(body_vol.shape());
    let mut vals: Vec<(f64, f64, f32)> = Vec::new();
    let mut x = lo.x;
    while x <= hi.x {
        let mut y = lo.y;
        while y <= hi.y {
            if let Some(v) = body_vol.sample_world(&Point3::new(x, y, z)) {
                if v.is_finite() {
                    vals.push((x, y, v));
                }
            }
            y += 2.0;
        }
        x += 2.0;
    }
    if vals.len() < 100 {
        return None;
    }
    let mut sorted: Vec<f32> = vals.iter().map(|v| v.2).collect();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let p99 = sorted[(sorted.len() - 1) * 99 / 100];
    let thr = 0.1 * p99;
    let body: Vec<&(f64, f64, f32)> = vals.iter().filter(|v| v.2 > thr).collect();
    if body.is_empty() {
        return None;
    }
    let mid_x = body.iter().map(|v| v.0).sum::<f64>() / body.len() as f64;
    let post_y = body.iter().map(|v| v.1).fold(f64::NEG_INFINITY, f64::max);
    let in_body = |p: &Point3<f64>| body_vol.sample_world(p).is_some_and(|v| v > thr);

    let mut best: Option<(bool, f64, Point3<f64>)> = None;
    let mut dy = SEARCH_DEPTH_MM.0;
    while dy <= SEARCH_DEPTH_MM.1 {
        let mut dx = SEARCH_LATERAL_MM.0;
        while dx <= SEARCH_LATERAL_MM.1 {
            for side in [-1.0, 1.0] {
                let c = Point3::new(mid_x + side * dx, post_y - dy, z);
                let pts = disc_points(&c);
                if !pts.iter().all(in_body) {
                    continue;
                }
                let mut ok = true;
                let mut score = 0.0;
                for v in [t1, t2].into_iter().flatten() {
                    match mean_at(v, &pts) {
                        Some((m, sd, n)) if n == pts.len() && m > 0.0 && sd / m <= MUSCLE_ROI_MAX_CV => {}
                        _ => ok = false,
                    }
                }
                if !ok {
                    continue;
                }
                // Lowest T2 (or, without T2, the most homogeneous T1).
                if let Some(v) = t2 {
                    score = mean_at(v, &pts).map(|m| m.0).unwrap_or(f64::INFINITY);
                } else if let Some(v) = t1 {
                    score = mean_at(v, &pts).map(|m| m.1 / m.0).unwrap_or(f64::INFINITY);
                }
                let right = side < 0.0;
                let better = match &best {
                    None => true,
                    Some((br, bs, _)) => (right && !br) || (right == *br && score < *bs),
                };
                if better {
                    best = Some((right, score, c));
                }
            }
            dx += SEARCH_STEP_MM;
        }
        dy += SEARCH_STEP_MM;
    }
    // A muscle ROI needs a few mm of margin: refine around the winner to the most
    // homogeneous centre within ±3 mm.
    best.map(|b| b.2)
}

/// Convert an ADC series value to 1e-3 mm²/s from its magnitude.
pub fn adc_to_1e3(median: f64) -> f64 {
    if median > 50.0 {
        1e-3 // stored in 1e-6 mm²/s
    } else if median < 0.05 {
        1e3 // stored in mm²/s
    } else {
        1.0
    }
}

/// Mean ADC (1e-3 mm²/s) over `pts` by a per-point mono-exponential fit over the DWI
/// volumes (b-values from their metadata).
fn adc_fit(dwi: &[(&Volume, f64)], pts: &[Point3<f64>]) -> Option<f64> {
    let mut bs: Vec<f64> = dwi.iter().map(|(_, b)| *b).collect();
    bs.sort_by(|a, b| a.total_cmp(b));
    bs.dedup_by(|a, b| (*a - *b).abs() < 1.0);
    if bs.len() < 2 {
        return None;
    }
    let mut sum = 0.0;
    let mut n = 0usize;
    for p in pts {
        let (mut sb, mut sy, mut sbb, mut sby, mut m) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (v, b) in dwi {
            if let Some(s) = v.sample_world(p) {
                if s.is_finite() && s > 0.0 {
                    let y = (s as f64).ln();
                    sb += b;
                    sy += y;
                    sbb += b * b;
                    sby += b * y;
                    m += 1.0;
                }
            }
        }
        let den = m * sbb - sb * sb;
        if m >= 2.0 && den.abs() > 1e-9 {
            let slope = (m * sby - sb * sy) / den;
            sum += -slope * 1e3;
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

/// T1/T2 ratios to muscle and ADC of the mass (`mass` on any grid; `centroid` sets the
/// muscle ROI level).
pub fn measure_mr(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    mass: &Mask,
    centroid: &Point3<f64>,
) -> (MrMeasures, Vec<String>) {
    let mut w = Vec::new();
    let mut out = MrMeasures::default();
    let pts = mask_points(mass);
    if pts.is_empty() {
        w.push("MRI measures: empty mass".into());
        return (out, w);
    }
    let t1 = first(phases, Role::MrT1Pre).and_then(|i| volumes.get(i));
    let t2 = first(phases, Role::MrT2).and_then(|i| volumes.get(i));
    let roi = place_muscle_roi(t1, t2, centroid.z);
    match roi {
        Some(c) => {
            out.muscle_roi_center_mm = Some([c.x, c.y, c.z]);
            let disc = disc_points(&c);
            for (vol, slot, name) in [
                (t1, &mut out.t1_ratio_to_muscle, "T1"),
                (t2, &mut out.t2_ratio_to_muscle, "T2"),
            ] {
                let Some(v) = vol else {
                    w.push(format!("MRI: no {name} series; {name} ratio not measured"));
                    continue;
                };
                match (mean_at(v, &pts), mean_at(v, &disc)) {
                    (Some((mm, _, _)), Some((mu, _, _))) if mu > 0.0 => *slot = Some(mm / mu),
                    _ => w.push(format!(
                        "MRI: {name} ratio could not be measured (mass or muscle outside the series)"
                    )),
                }
            }
        }
        None => {
            w.push("MRI: no homogeneous paraspinal muscle region found; T1/T2 ratios not measured".into())
        }
    }

    let dwi: Vec<(&Volume, f64)> = phases
        .iter()
        .filter(|p| p.role == Role::MrDwi)
        .filter_map(|p| volumes.get(p.volume_index))
        .filter_map(|v| v.meta.b_value.map(|b| (v, b)))
        .collect();
    out.adc_mean = adc_fit(&dwi, &pts);
    if out.adc_mean.is_none() {
        if let Some(v) = first(phases, Role::MrAdc).and_then(|i| volumes.get(i)) {
            let mut vals: Vec<f64> = pts
                .iter()
                .filter_map(|p| v.sample_world(p))
                .filter(|x| x.is_finite())
                .map(|x| x as f64)
                .collect();
            if !vals.is_empty() {
                vals.sort_by(|a, b| a.total_cmp(b));
                let f = adc_to_1e3(vals[vals.len() / 2]);
                out.adc_mean = Some(vals.iter().sum::<f64>() / vals.len() as f64 * f);
            }
        }
    }
    if out.adc_mean.is_none() {
        w.push("MRI: no DWI with two b-values and no ADC series; ADC not measured".into());
    }
    (out, w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_volume::Geometry;

    #[test]
    fn adc_fit_recovers_a_known_diffusivity() {
        let g = Geometry::axial(Point3::new(0.0, 0.0, 0.0), [1.0, 1.0, 1.0]);
        // ADC 0.85e-3 mm²/s, S0 = 520: S(b) = S0 · exp(−b · ADC).
        let s = |b: f64| (520.0 * (-b * 0.85e-3f64).exp()) as f32;
        let v0 = Volume::filled([4, 4, 4], g.clone(), s(0.0));
        let v1 = Volume::filled([4, 4, 4], g.clone(), s(400.0));
        let v2 = Volume::filled([4, 4, 4], g, s(800.0));
        let pts = vec![Point3::new(1.0, 1.0, 1.0), Point3::new(2.0, 2.0, 2.0)];
        let a = adc_fit(&[(&v0, 0.0), (&v1, 400.0), (&v2, 800.0)], &pts).expect("fit");
        assert!((a - 0.85).abs() < 1e-3, "{a}");
        assert!(adc_fit(&[(&v0, 0.0)], &pts).is_none());
    }

    #[test]
    fn adc_units() {
        assert_eq!(adc_to_1e3(850.0), 1e-3);
        assert_eq!(adc_to_1e3(0.00085), 1e3);
        assert_eq!(adc_to_1e3(0.85), 1.0);
    }
}
