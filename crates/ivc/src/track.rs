//! Automatic IVC detection and slice-to-slice tracking in world space.
//!
//! 1. **Locate** (no seed): on axial world planes every 10 mm, blood-like pixels (CT:
//!    enhancement over the unenhanced phase, or HU on the venous phase; MRI: signal ratio
//!    to the pre-contrast T1) form blobs; blobs are chained through z, and the IVC is the
//!    longest, largest chain on the patient's right of the body centre (the aorta runs on
//!    the left, the azygos is small).
//! 2. **Track**: on every axial world plane 1 mm apart, rays are cast from the predicted
//!    centre on a smoothed patch of the venous phase; each ray's wall is the half-level
//!    crossing of the first significant step (the half-maximum rule of partial-volume
//!    imaging, unbiased for a blurred step). A low-order Fourier contour r(θ) is fitted
//!    robustly, so rays that run into a branch (renal, hepatic veins) are outliers.
//! 3. **Bridge**: where the lumen is not opacified (tumour filling it) the edges are looked
//!    for on all phases together (noise-normalised), and the contour is the shape from the
//!    nearest opacified sections, scaled and shifted to the walls that *are* visible (the
//!    vein against fat or liver); with too few, the shape is interpolated along z.
//!
//! Everything is sampled in world coordinates, so oblique, tilted and reversed stacks
//! need no special handling.

mod fit;
mod locate;
mod stepping;
mod walls;
pub use locate::{locate, locate_candidates};

use crate::calibre::FractionField;
use crate::params::{blood::*, contour::*, ends, smoothing::*, tracking::*, walls::*};
pub use cavascope_imaging::noise::volume_noise_sd as noise_sd;
use cavascope_imaging::smooth::gaussian2d_nan;
use cavascope_imaging::stats::{upper_mad_sd, upper_median, upper_median_f32};
use cavascope_volume::{Geometry, Point3, Vector3, Volume};
use ndarray::Array3;
use rayon::prelude::*;

/// Rays per plane.
pub const NRAYS: usize = 72;
/// Fourier order of the contour r(θ): order 6 represents an ellipse around an
/// off-centre point to 0.02 mm at caval eccentricities (order 4: 0.1 mm).
pub(crate) const ORDER: usize = 6;
pub(crate) const NCOEF: usize = 2 * ORDER + 1;

/// Size and width within the tolerance of a plane-to-plane change (not a leak).
fn similar(c: &Contour, p: &Contour) -> bool {
    let area_ratio = c.area() / p.area().max(1.0);
    let width_ratio = c.width_x() / p.width_x().max(1.0);
    (SIMILAR_AREA_MIN..=SIMILAR_AREA_MAX).contains(&area_ratio)
        && (SIMILAR_WIDTH_MIN..=SIMILAR_WIDTH_MAX).contains(&width_ratio)
}

/// One phase used for tracking, with its noise after patch smoothing.
pub struct PhaseInput<'a> {
    /// The phase's voxels.
    pub volume: &'a Volume,
    /// Noise SD of the raw volume (modality units), robustly estimated.
    pub noise: f32,
}

/// One tracked plane.
#[derive(Debug, Clone)]
pub struct Contour {
    /// Plane height (LPS z), mm.
    pub z: f64,
    /// Centre x (LPS), mm.
    pub cx: f64,
    /// Centre y (LPS), mm.
    pub cy: f64,
    /// Fourier coefficients of r(θ) about (cx, cy): [c0, a1, b1, a2, b2, …].
    pub coef: [f64; NCOEF],
    /// Fraction of rays that agreed with the fit.
    pub inliers: f64,
    /// Reference-phase value at the centre (median of a small disc).
    pub centre_value: f32,
    /// Lumen opacified at the centre on the reference phase.
    pub opacified: bool,
    /// How the contour was obtained.
    pub kind: ContourKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// How a contour was obtained.
pub enum ContourKind {
    /// Fitted freely to the rays.
    Measured,
    /// The neighbouring shape scaled/shifted to the visible walls.
    Scaled,
    /// Interpolated along z (no usable wall).
    Interpolated,
}

impl Contour {
    /// Radius (mm) of the contour at angle `theta` (radians) about its centre.
    pub fn radius(&self, theta: f64) -> f64 {
        eval(&self.coef, theta)
    }

    /// Area of the contour polygon (NRAYS vertices), mm².
    pub fn area(&self) -> f64 {
        let mut a = 0.0;
        for m in 0..NRAYS {
            let t0 = theta(m);
            let t1 = theta((m + 1) % NRAYS);
            let (r0, r1) = (self.radius(t0).max(0.0), self.radius(t1).max(0.0));
            a += 0.5 * r0 * r1 * (t1 - t0).rem_euclid(std::f64::consts::TAU).sin();
        }
        a
    }

    /// Width along patient x (transverse caliper of the contour), mm.
    pub fn width_x(&self) -> f64 {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for m in 0..NRAYS {
            let t = theta(m);
            let x = self.radius(t).max(0.0) * t.cos();
            lo = lo.min(x);
            hi = hi.max(x);
        }
        hi - lo
    }

    /// Centroid of the contour polygon (world x, y).
    pub fn centroid(&self) -> (f64, f64) {
        let (mut sx, mut sy, mut sa) = (0.0, 0.0, 0.0);
        for m in 0..NRAYS {
            let (t0, t1) = (theta(m), theta((m + 1) % NRAYS));
            let (r0, r1) = (self.radius(t0).max(0.0), self.radius(t1).max(0.0));
            let (x0, y0, x1, y1) = (r0 * t0.cos(), r0 * t0.sin(), r1 * t1.cos(), r1 * t1.sin());
            let c = x0 * y1 - x1 * y0;
            sa += c;
            sx += (x0 + x1) * c;
            sy += (y0 + y1) * c;
        }
        if sa.abs() < 1e-9 {
            return (self.cx, self.cy);
        }
        (self.cx + sx / (3.0 * sa), self.cy + sy / (3.0 * sa))
    }
}

/// Angle (radians) of ray `m` of the [`NRAYS`] cast around a centre.
pub fn theta(m: usize) -> f64 {
    m as f64 * std::f64::consts::TAU / NRAYS as f64
}

fn basis(t: f64) -> [f64; NCOEF] {
    let mut b = [0.0; NCOEF];
    b[0] = 1.0;
    // cos kt, sin kt by the angle-addition recurrence: one sin/cos per evaluation
    // instead of one per harmonic (contours are evaluated per pixel of the field).
    let (s1, c1) = t.sin_cos();
    let (mut ck, mut sk) = (c1, s1);
    for k in 1..=ORDER {
        b[2 * k - 1] = ck;
        b[2 * k] = sk;
        let next_c = ck * c1 - sk * s1;
        sk = sk * c1 + ck * s1;
        ck = next_c;
    }
    b
}

pub(crate) fn eval(c: &[f64; NCOEF], t: f64) -> f64 {
    basis(t).iter().zip(c).map(|(b, c)| b * c).sum()
}

/// r, r′ and r″ of the Fourier contour at θ.
fn eval_d(c: &[f64; NCOEF], t: f64) -> (f64, f64, f64) {
    let (mut r, mut r1, mut r2) = (c[0], 0.0, 0.0);
    for k in 1..=ORDER {
        let kf = k as f64;
        let (a, b) = (c[2 * k - 1], c[2 * k]);
        let (ck, sk) = ((kf * t).cos(), (kf * t).sin());
        r += a * ck + b * sk;
        r1 += kf * (-a * sk + b * ck);
        r2 += -kf * kf * (a * ck + b * sk);
    }
    (r, r1, r2)
}

/// Undo the inward drift of the half-level contour of a blurred shape: with a Gaussian
/// blur of variance σ², the 0.5 level of a smooth boundary moves by ≈ σ²κ/2 along its
/// normal (κ the curvature, positive where convex). The correction is applied along the
/// ray (÷ cos of the angle between ray and normal) and refitted.
fn curvature_corrected(c: &[f64; NCOEF], blur_var: f64) -> [f64; NCOEF] {
    let thetas: Vec<f64> = (0..NRAYS).map(theta).collect();
    let r: Vec<f64> = thetas
        .iter()
        .map(|&t| {
            let (r, r1, r2) = eval_d(c, t);
            let den = (r * r + r1 * r1).powf(1.5);
            if r <= 0.0 || den <= 0.0 {
                return r;
            }
            let kappa = (r * r + 2.0 * r1 * r1 - r * r2) / den;
            let cos_psi = r / (r * r + r1 * r1).sqrt();
            r + 0.5 * blur_var * kappa.clamp(-CURVATURE_MAX_PER_MM, CURVATURE_MAX_PER_MM)
                / cos_psi.max(CURVATURE_MIN_COS)
        })
        .collect();
    let w = vec![1.0; NRAYS];
    lsq(&thetas, &r, &w, NCOEF).unwrap_or(*c)
}

/// Weighted least squares for r(θ) = Σ c_k φ_k(θ); `None` when singular.
pub(crate) fn lsq(thetas: &[f64], r: &[f64], w: &[f64], ncoef: usize) -> Option<[f64; NCOEF]> {
    lsq_ridge(thetas, r, w, ncoef, None)
}

/// Harmonic order of coefficient p.
fn order_of(p: usize) -> usize {
    p.div_ceil(2)
}

/// Least squares with a ridge pulling harmonics of order ≥ 2 toward a prior contour
/// (weight ∝ k² and the total data weight): where rays are missing, the contour follows
/// the neighbouring plane instead of oscillating freely.
fn lsq_ridge(
    thetas: &[f64],
    r: &[f64],
    w: &[f64],
    ncoef: usize,
    prior: Option<&[f64; NCOEF]>,
) -> Option<[f64; NCOEF]> {
    let n = ncoef;
    let mut a = nalgebra::DMatrix::<f64>::zeros(n, n);
    let mut b = nalgebra::DVector::<f64>::zeros(n);
    for ((&t, &ri), &wi) in thetas.iter().zip(r).zip(w) {
        if wi <= 0.0 {
            continue;
        }
        let phi = basis(t);
        for p in 0..n {
            b[p] += wi * phi[p] * ri;
            for q in 0..n {
                a[(p, q)] += wi * phi[p] * phi[q];
            }
        }
    }
    // Even harmonics (an ellipse's shape: orders 2, 4, 6) are pulled toward the previous
    // plane's, so where rays are missing the contour follows its neighbour; odd ones of
    // order ≥ 3 (one-sided lobes: a vein running alongside) toward zero, so a lobe cannot
    // be learnt and carried from plane to plane. Orders 0 and 1 (size, shift) are free.
    let wsum: f64 = w.iter().filter(|v| **v > 0.0).sum();
    for p in 0..n {
        let k = order_of(p);
        if k >= 2 && k.is_multiple_of(2) {
            if let Some(pc) = prior {
                let lam = RIDGE_EVEN * wsum * (k * k) as f64;
                a[(p, p)] += lam;
                b[p] += lam * pc[p];
            }
        } else if k >= 3 {
            let lam = RIDGE_ODD * wsum * (k * k) as f64;
            a[(p, p)] += lam;
        }
    }
    let x = a.lu().solve(&b)?;
    let mut c = [0.0; NCOEF];
    for p in 0..n {
        c[p] = x[p];
    }
    Some(c)
}

/// Rays of `r` (NaN: no wall) that escaped: runs of neighbouring rays that lie beyond a
/// jump outward at both ends — a stretch of the section without contrast at its wall,
/// where each ray runs to the next edge beyond — set to NaN, so the contour there is
/// interpolated from the rays that do see the wall. Rays without a wall count as escaped
/// runs too. A run is only refused while the rays kept stay the majority: the vein's own
/// wall is the one seen over most of its circumference, not a short inward run (a
/// contrast jet, a valve).
pub(crate) fn drop_escapes(r: &[f64]) -> Vec<f64> {
    let mut out = r.to_vec();
    let n = out.len();
    let total = out.iter().filter(|v| v.is_finite()).count();
    if total < ESCAPE_MIN_RAYS {
        return out;
    }
    let jump = |a: f64, b: f64| (a - b).abs() > ESCAPE_JUMP_MM.max(ESCAPE_JUMP_FRAC * a.min(b));
    loop {
        let idx: Vec<usize> = (0..n).filter(|&m| out[m].is_finite()).collect();
        let kept = idx.len();
        if kept < ESCAPE_MIN_RAYS {
            break;
        }
        // Runs of valid rays (in angular order, NaN rays skipped) split at jumps.
        let Some(first_cut) = (0..kept).find(|&i| jump(out[idx[i]], out[idx[(i + 1) % kept]])) else {
            break;
        };
        let mut runs: Vec<Vec<usize>> = Vec::new();
        let mut cur = Vec::new();
        for s in 1..=kept {
            let i = (first_cut + s) % kept;
            cur.push(idx[i]);
            if jump(out[idx[i]], out[idx[(i + 1) % kept]]) {
                runs.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            runs.push(cur);
        }
        if runs.len() < 2 {
            break;
        }
        let med = |run: &[usize]| {
            let mut v: Vec<f64> = run.iter().map(|&m| out[m]).collect();
            upper_median(&mut v).unwrap_or(f64::NAN)
        };
        let meds: Vec<f64> = runs.iter().map(|x| med(x)).collect();
        // The escaped run reaching furthest out, outward of both its neighbours, and
        // small enough that the rays kept stay the majority of those with a wall.
        let k = runs.len();
        let cand = (0..k)
            .filter(|&i| {
                let (a, b) = (meds[(i + k - 1) % k], meds[(i + 1) % k]);
                meds[i] > a && meds[i] > b && 2 * (total - kept + runs[i].len()) < total
            })
            .max_by(|&i, &j| meds[i].total_cmp(&meds[j]));
        let Some(i) = cand else { break };
        for &m in &runs[i] {
            out[m] = f64::NAN;
        }
    }
    out
}

/// Robust (Tukey biweight) Fourier fit. Returns the coefficients and the inlier mask.
/// Starts from rays near the median radius and a low-order (ellipse-like) fit, so a run
/// of rays escaping into a branch cannot bend the first estimate, then refines at full
/// order.
fn robust_fit(
    thetas: &[f64],
    r: &[f64],
    prior_w: &[f64],
    ncoef: usize,
    prior: Option<&[f64; NCOEF]>,
) -> Option<([f64; NCOEF], Vec<bool>)> {
    let mut valid: Vec<f64> = r
        .iter()
        .zip(prior_w)
        .filter(|(v, &w)| w > 0.0 && v.is_finite())
        .map(|(v, _)| *v)
        .collect();
    if valid.len() < ncoef + 2 {
        return None;
    }
    let med = upper_median(&mut valid)?;
    let mut w: Vec<f64> = r
        .iter()
        .zip(prior_w)
        .map(|(&v, &pw)| {
            if pw > 0.0 && (v - med).abs() <= INITIAL_GATE_FRACTION * med + INITIAL_GATE_MM {
                pw
            } else {
                0.0
            }
        })
        .collect();
    let mut c = [0.0; NCOEF];
    for (rounds, nc) in [
        (LOW_ORDER_ROUNDS, LOW_ORDER_NCOEF.min(ncoef)),
        (FULL_ORDER_ROUNDS, ncoef),
    ] {
        c = lsq_ridge(thetas, r, &w, nc, prior)?;
        for _ in 0..rounds {
            let res: Vec<f64> = thetas.iter().zip(r).map(|(&t, &ri)| ri - eval(&c, t)).collect();
            let mut abs: Vec<f64> = res
                .iter()
                .zip(prior_w)
                .filter(|(x, &pw)| pw > 0.0 && x.is_finite())
                .map(|(x, _)| x.abs())
                .collect();
            if abs.len() < nc + 2 {
                return None;
            }
            let sd = upper_mad_sd(&mut abs)?;
            let k = (TUKEY_C * sd).max(TUKEY_MIN_SCALE_MM);
            for ((wi, &pw), x) in w.iter_mut().zip(prior_w).zip(&res) {
                let u = x / k;
                *wi = if pw > 0.0 && u.abs() < 1.0 {
                    pw * (1.0 - u * u).powi(2)
                } else {
                    0.0
                };
            }
            c = lsq_ridge(thetas, r, &w, nc, prior)?;
        }
    }
    let inl: Vec<bool> = thetas
        .iter()
        .zip(r)
        .zip(prior_w)
        .map(|((&t, &ri), &pw)| pw > 0.0 && (ri - eval(&c, t)).abs() < RAY_INLIER_MM)
        .collect();
    Some((c, inl))
}

/// A smoothed axial patch of one volume around (cx, cy) at height z.
struct Patch {
    data: Vec<f32>,
    n: usize,
    pixel: f64,
    x0: f64,
    y0: f64,
}

impl Patch {
    fn sample(vol: &Volume, cx: f64, cy: f64, z: f64, half: f64, pixel: f64, sigma: f64) -> Patch {
        let n = (2.0 * half / pixel).ceil() as usize + 1;
        let (x0, y0) = (cx - half, cy - half);
        let g = &vol.geometry;
        // Index-space steps for +x and +y world moves: one affine per patch, not per pixel.
        let base = g.world_to_index(&Point3::new(x0, y0, z));
        let ex = g.world_to_index(&Point3::new(x0 + pixel, y0, z));
        let ey = g.world_to_index(&Point3::new(x0, y0 + pixel, z));
        let dx = [ex[0] - base[0], ex[1] - base[1], ex[2] - base[2]];
        let dy = [ey[0] - base[0], ey[1] - base[1], ey[2] - base[2]];
        let mut data = vec![f32::NAN; n * n];
        for r in 0..n {
            for q in 0..n {
                let idx = [
                    base[0] + dx[0] * q as f64 + dy[0] * r as f64,
                    base[1] + dx[1] * q as f64 + dy[1] * r as f64,
                    base[2] + dx[2] * q as f64 + dy[2] * r as f64,
                ];
                if let Some(v) = cavascope_volume::sampling::trilinear(&vol.data, idx) {
                    data[r * n + q] = v;
                }
            }
        }
        gaussian2d_nan(&mut data, n, sigma / pixel);
        Patch {
            data,
            n,
            pixel,
            x0,
            y0,
        }
    }

    #[inline]
    fn at(&self, x: f64, y: f64) -> f32 {
        let fx = (x - self.x0) / self.pixel;
        let fy = (y - self.y0) / self.pixel;
        if !(fx >= 0.0 && fy >= 0.0) {
            return f32::NAN;
        }
        let (q, r) = (fx.floor() as usize, fy.floor() as usize);
        if q + 1 >= self.n || r + 1 >= self.n {
            return f32::NAN;
        }
        let (tx, ty) = ((fx - q as f64) as f32, (fy - r as f64) as f32);
        let d = &self.data;
        let n = self.n;
        let a = d[r * n + q] * (1.0 - tx) + d[r * n + q + 1] * tx;
        let b = d[(r + 1) * n + q] * (1.0 - tx) + d[(r + 1) * n + q + 1] * tx;
        a * (1.0 - ty) + b * ty
    }
}

/// Settings of the tracker derived from the reference volume.
pub struct Tracker<'a> {
    /// Phases: index 0 is the reference (venous) phase.
    pub phases: Vec<PhaseInput<'a>>,
    /// Patch pixel, mm.
    pub pixel: f64,
    /// Patch smoothing σ, mm.
    pub sigma: f64,
    /// Reference-phase blood value (opacified IVC).
    pub blood: f32,
    /// Phases whose blood value is the same all along the IVC (not the arterial phase,
    /// where infrarenal blood is still unopacified): the lumen must match the blood on
    /// each of them, so a tumour that enhances nearly as much as blood on the venous
    /// phase (MRI) but differs before contrast or late is not taken for lumen.
    pub blood_phases: Vec<bool>,
    /// Blood value at the seed per phase (NaN where not used).
    pub blood_all: Vec<f32>,
    /// The reference phase is CT (HU: blood below
    /// [`crate::lumen::OPACIFIED_BLOOD_MIN_HU`] is not opacified).
    pub is_ct: bool,
    /// z range covered by the reference volume (world).
    pub z_range: (f64, f64),
    /// Fit an opacified plane on all phases together where the reference phase alone
    /// fails (MRI; on CT the venous phase shows every wall the others do).
    pub free_on_all_phases: bool,
}

/// Margin within which a smoothed value still matches `blood` (see
/// [`BLOOD_MATCH_NOISE_SDS`], [`BLOOD_MATCH_FRACTION`]), for smoothed noise `snoise`.
fn blood_margin(snoise: f32, blood: f32) -> f32 {
    (BLOOD_MATCH_NOISE_SDS as f32 * snoise).max(BLOOD_MATCH_FRACTION as f32 * blood.abs())
}

/// Noise of a patch value after Gaussian smoothing with σ (mm) of a volume with in-plane
/// voxel size `vox` (mm): white noise averages over ≈ 4πσ²/vox² voxels in 2D.
fn smoothed_noise(noise: f32, vox: f64, sigma: f64) -> f32 {
    let f = (vox / (2.0 * std::f64::consts::PI.sqrt() * sigma)).min(1.0);
    (noise as f64 * f) as f32
}

impl<'a> Tracker<'a> {
    /// A tracker over the phases (the reference first); `None` without a phase.
    pub fn new(phases: Vec<PhaseInput<'a>>) -> Option<Tracker<'a>> {
        let reference = phases.first()?.volume;
        let sp = reference.geometry.spacing();
        let vox = sp[0].min(sp[1]);
        let pixel = vox.clamp(PATCH_PIXEL_MIN_MM, PATCH_PIXEL_MAX_MM);
        let sigma = vox.clamp(SMOOTHING_MIN_MM, SMOOTHING_MAX_MM);
        let (lo, hi) = reference.geometry.world_bounds(reference.shape());
        let n = phases.len();
        let mut blood_phases = vec![false; n];
        blood_phases[0] = true;
        Some(Tracker {
            phases,
            pixel,
            sigma,
            blood: f32::NAN,
            blood_phases,
            blood_all: vec![f32::NAN; n],
            z_range: (lo.z, hi.z),
            free_on_all_phases: false,
            is_ct: false,
        })
    }

    /// Which phases (besides the reference) the lumen's blood must match; see
    /// [`Tracker::blood_phases`]. Extra flags are ignored, missing ones are false.
    pub fn with_blood_phases(mut self, flags: &[bool]) -> Self {
        for (i, f) in self.blood_phases.iter_mut().enumerate().skip(1) {
            *f = flags.get(i).copied().unwrap_or(false);
        }
        self
    }

    /// Median of a phase's unsmoothed values in a [`CENTRE_DISC_MM`] disc, and the margin
    /// within which it still matches blood: [`BLOOD_MATCH_NOISE_SDS`] noise SDs of that
    /// median, or [`BLOOD_MATCH_FRACTION`] of the value.
    fn centre_match(&self, p: usize, cx: f64, cy: f64, z: f64) -> (f32, f32) {
        let raw = Patch::sample(
            self.phases[p].volume,
            cx,
            cy,
            z,
            CENTRE_PATCH_HALF_MM,
            self.pixel,
            0.0,
        );
        let v = self.disc_median(&raw, cx, cy, CENTRE_DISC_MM);
        let vox = self.vox(p);
        let n_eff = (std::f64::consts::PI * CENTRE_DISC_MM * CENTRE_DISC_MM / (vox * vox)).max(1.0);
        let sd = self.phases[p].noise as f64 * MEDIAN_NOISE_FACTOR / n_eff.sqrt();
        let margin =
            (BLOOD_MATCH_NOISE_SDS * sd).max(BLOOD_MATCH_FRACTION * self.blood_all[p].abs() as f64) as f32;
        (v, margin)
    }

    /// The point within `radius` mm of (cx, cy) that looks most like the seed's blood on
    /// every blood phase together (smoothed), if its unsmoothed centre matches blood on
    /// each of them.
    fn lumen_near(&self, cx: f64, cy: f64, z: f64, radius: f64) -> Option<(f64, f64)> {
        let used: Vec<usize> = (0..self.phases.len())
            .filter(|&p| self.blood_phases[p] && self.blood_all[p].is_finite())
            .collect();
        let patches: Vec<Patch> = used
            .iter()
            .map(|&p| {
                Patch::sample(
                    self.phases[p].volume,
                    cx,
                    cy,
                    z,
                    radius + LUMEN_SEARCH_MARGIN_MM,
                    self.pixel,
                    self.sigma,
                )
            })
            .collect();
        let scale: Vec<f32> = used
            .iter()
            .map(|&p| blood_margin(self.snoise(p), self.blood_all[p]))
            .collect();
        let steps = radius.ceil() as i32;
        let mut best: Option<(f32, f64, f64)> = None;
        for a in -steps..=steps {
            for b in -steps..=steps {
                let (dx, dy) = (a as f64, b as f64);
                if dx.hypot(dy) > radius {
                    continue;
                }
                let mut d = 0f32;
                for ((&p, patch), sc) in used.iter().zip(&patches).zip(&scale) {
                    let v = patch.at(cx + dx, cy + dy);
                    d += ((v - self.blood_all[p]) / sc).powi(2);
                }
                if d.is_finite() && best.is_none_or(|(bd, _, _)| d < bd) {
                    best = Some((d, cx + dx, cy + dy));
                }
            }
        }
        let (_, x, y) = best?;
        let (v, margin) = self.centre_match(0, x, y, z);
        (v >= self.blood - margin && self.matches_blood_elsewhere(x, y, z)).then_some((x, y))
    }

    /// The lumen at (cx, cy, z) matches the seed's blood on the other blood phases.
    fn matches_blood_elsewhere(&self, cx: f64, cy: f64, z: f64) -> bool {
        (1..self.phases.len())
            .filter(|&p| self.blood_phases[p] && self.blood_all[p].is_finite())
            .all(|p| {
                let (v, margin) = self.centre_match(p, cx, cy, z);
                // Outside a phase's volume: no evidence against.
                !v.is_finite() || (v - self.blood_all[p]).abs() <= margin
            })
    }

    fn vox(&self, p: usize) -> f64 {
        let sp = self.phases[p].volume.geometry.spacing();
        sp[0].min(sp[1])
    }

    /// Variance (mm²) of the blur between the true wall and the patch the rays read:
    /// the voxel's box (h²/12), trilinear interpolation (≈ h²/6) and our Gaussian.
    fn blur_var(&self) -> f64 {
        let h = self.vox(0);
        h * h / 12.0 + h * h / 6.0 + self.sigma * self.sigma
    }

    /// Smoothed noise of phase p.
    fn snoise(&self, p: usize) -> f32 {
        smoothed_noise(self.phases[p].noise, self.vox(p), self.sigma).max(SMOOTHED_NOISE_FLOOR)
    }

    /// Median of the reference phase in a disc of radius `r` mm.
    fn disc_median(&self, patch: &Patch, cx: f64, cy: f64, r: f64) -> f32 {
        let mut v = Vec::new();
        let steps = (r / self.pixel).ceil() as i32;
        for a in -steps..=steps {
            for b in -steps..=steps {
                let (dx, dy) = (a as f64 * self.pixel, b as f64 * self.pixel);
                if dx * dx + dy * dy <= r * r {
                    let x = patch.at(cx + dx, cy + dy);
                    if x.is_finite() {
                        v.push(x);
                    }
                }
            }
        }
        if v.is_empty() {
            return f32::NAN;
        }
        upper_median_f32(&mut v).unwrap_or(f32::NAN)
    }

    /// Reference-phase blood value at a seed (median of a [`SEED_DISC_MM`] disc).
    pub fn blood_at(&self, seed: &Point3<f64>) -> f32 {
        let p = Patch::sample(
            self.phases[0].volume,
            seed.x,
            seed.y,
            seed.z,
            SEED_PATCH_HALF_MM,
            self.pixel,
            self.sigma,
        );
        self.disc_median(&p, seed.x, seed.y, SEED_DISC_MM)
    }

    /// CT whose blood at the seed is not contrast-opacified (native, or too early).
    fn unenhanced_ct(&self) -> bool {
        self.is_ct && self.blood < crate::lumen::OPACIFIED_BLOOD_MIN_HU
    }
}

/// Cut one tracked direction (contours ordered away from the seed) at the end of the
/// vein: where the section *keeps* growing past 1.5× the median of the previous 15 mm
/// (the right atrium; a tumour expands the vein more slowly, a wall blurred into a thin
/// neighbour by < 35 %), or where area and width *keep* dropping below 0.65× and 0.85×
/// (the iliac confluence; a flattening mass widens the vein). The cut is placed where
/// the change began (the last plane within 10 % of the reference).
pub fn cut_ends(start: &Contour, dir: &mut Vec<Contour>) {
    let n = dir.len();
    if n < ends::MIN_PLANES {
        return;
    }
    let areas: Vec<f64> = std::iter::once(start)
        .chain(dir.iter())
        .map(|c| c.area())
        .collect();
    let widths: Vec<f64> = std::iter::once(start)
        .chain(dir.iter())
        .map(|c| c.width_x())
        .collect();
    let median = |v: &[f64]| -> f64 { upper_median(&mut v.to_vec()).unwrap_or(f64::NAN) };
    for i in 1..areas.len() {
        let lo = i.saturating_sub(ends::WINDOW_PLANES);
        let ref_a = median(&areas[lo..i]);
        let ref_w = median(&widths[lo..i]);
        // Growth is judged against the vein's usual size too: a vein recovering from a
        // flattened stretch grows back to it, an atrium grows past it.
        let usual_a = median(&areas[..i]);
        let grows = |j: usize| areas[j] > ends::GROW_RATIO * ref_a.max(usual_a);
        let drops =
            |j: usize| areas[j] < ends::DROP_AREA_RATIO * ref_a && widths[j] < ends::DROP_WIDTH_RATIO * ref_w;
        let end = (i + ends::PERSIST_PLANES).min(areas.len());
        if end - i < ends::PERSIST_PLANES {
            break;
        }
        // The change must last to the end of the tracked direction (an atrium or the
        // iliac veins), not recover (a local leak into a neighbour, a flattened stretch).
        let lasting = |f: &dyn Fn(usize) -> bool| {
            (i..end).all(f)
                && (i..areas.len()).filter(|&j| f(j)).count() * 10 >= (areas.len() - i) * ends::LASTING_TENTHS
        };
        let kind = if lasting(&grows) {
            1
        } else if lasting(&drops) {
            -1
        } else {
            0
        };
        if kind != 0 {
            // Back to where the change began.
            let mut cut = i;
            while cut > 1 {
                let a = areas[cut - 1];
                let within = if kind > 0 {
                    a <= ends::GROW_BACK_RATIO * ref_a
                } else {
                    a >= ends::DROP_BACK_RATIO * ref_a
                };
                if within {
                    break;
                }
                cut -= 1;
            }
            // areas[k] is dir[k-1]: keep dir[..cut-1].
            dir.truncate(cut.saturating_sub(1));
            return;
        }
    }
}

/// A tracked vein as a fractional (0–1) field on a fine axial world grid: the 0.5 level
/// is exactly the tracked contour (linear ramp one pixel wide), so cross-sections keep
/// sub-pixel accuracy. `pixel` mm in-plane, 1 mm between planes.
pub fn contours_to_field(contours: &[Contour], pixel: f64) -> Option<FractionField> {
    if contours.len() < 2 {
        return None;
    }
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for c in contours {
        for m in 0..NRAYS {
            let t = theta(m);
            let r = c.radius(t).max(0.0);
            x0 = x0.min(c.cx + r * t.cos());
            x1 = x1.max(c.cx + r * t.cos());
            y0 = y0.min(c.cy + r * t.sin());
            y1 = y1.max(c.cy + r * t.sin());
        }
    }
    let margin = FIELD_MARGIN_PIXELS * pixel;
    let (x0, y0) = (x0 - margin, y0 - margin);
    let nx = ((x1 + margin - x0) / pixel).ceil() as usize + 1;
    let ny = ((y1 + margin - y0) / pixel).ceil() as usize + 1;
    let nz = contours.len();
    let z0 = contours[0].z;
    let dz = if nz > 1 {
        (contours[nz - 1].z - z0) / (nz - 1) as f64
    } else {
        1.0
    };
    if nx * ny * nz > FIELD_MAX_VOXELS || dz <= 0.0 {
        return None;
    }
    let mut data = Array3::<f32>::zeros((nz, ny, nx));
    data.axis_iter_mut(ndarray::Axis(0))
        .into_par_iter()
        .zip(contours.par_iter())
        .for_each(|(mut plane, c)| {
            for ((j, i), v) in plane.indexed_iter_mut() {
                let x = x0 + i as f64 * pixel - c.cx;
                let y = y0 + j as f64 * pixel - c.cy;
                let r = x.hypot(y);
                let t = y.atan2(x);
                let rc = c.radius(t);
                *v = (0.5 + (rc - r) / pixel).clamp(0.0, 1.0) as f32;
            }
        });
    let g = Geometry::from_axes(
        Point3::new(x0, y0, z0),
        Vector3::x(),
        Vector3::y(),
        Vector3::z(),
        [pixel, pixel, dz],
    );
    Some(FractionField::new(data, g))
}

/// Smooth contours along z: each Fourier coefficient and the centre with a Gaussian of
/// σ mm over neighbouring planes (1 mm apart). Measured planes weigh 1, scaled 0.5,
/// interpolated ones 0.05, so a bridged stretch takes its shape from its ends.
pub fn smooth_along_z(contours: &mut [Contour], sigma: f64) {
    let n = contours.len();
    if n < 3 {
        return;
    }
    let h = (3.0 * sigma).ceil() as isize;
    let src = contours.to_vec();
    for (i, c) in contours.iter_mut().enumerate() {
        let mut acc = [0.0; NCOEF];
        let (mut ax, mut ay, mut ws) = (0.0, 0.0, 0.0);
        // Interpolated planes borrow from much further away.
        let reach = if c.kind == ContourKind::Interpolated {
            INTERPOLATED_REACH * h
        } else {
            h
        };
        for d in -reach..=reach {
            let j = i as isize + d;
            if j < 0 || j >= n as isize {
                continue;
            }
            let s = &src[j as usize];
            let kw = match s.kind {
                ContourKind::Measured => WEIGHT_MEASURED,
                ContourKind::Scaled => WEIGHT_SCALED,
                ContourKind::Interpolated => WEIGHT_INTERPOLATED,
            };
            let sg = if c.kind == ContourKind::Interpolated {
                INTERPOLATED_REACH as f64 * sigma
            } else {
                sigma
            };
            let w = kw * (-(d * d) as f64 / (2.0 * sg * sg)).exp();
            // Coefficients about a common centre: shift terms follow the centre offset.
            let mut cf = s.coef;
            cf[1] += s.cx - c.cx;
            cf[2] += s.cy - c.cy;
            for (a, v) in acc.iter_mut().zip(&cf) {
                *a += w * v;
            }
            ax += w * s.cx;
            ay += w * s.cy;
            ws += w;
        }
        if ws > 0.0 {
            for a in acc.iter_mut() {
                *a /= ws;
            }
            // Centre kept; the shift terms carry any displacement.
            c.coef = acc;
            let _ = (ax, ay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A convex section's rays, with a run of 20 rays escaping to a neighbour's far edge
    /// and 4 without any wall: the escaped run is refused, the wall's rays are kept.
    #[test]
    fn escaped_rays_are_refused_and_the_wall_kept() {
        let ell = |t: f64, a: f64, b: f64| 1.0 / ((t.cos() / a).powi(2) + (t.sin() / b).powi(2)).sqrt();
        let mut r: Vec<f64> = (0..NRAYS).map(|m| ell(theta(m), 12.0, 8.0)).collect();
        for (m, v) in r.iter_mut().enumerate().skip(30).take(20) {
            *v = if m % 7 == 0 {
                f64::NAN
            } else {
                25.0 + (m % 3) as f64
            };
        }
        let out = drop_escapes(&r);
        for m in 0..NRAYS {
            if (30..50).contains(&m) {
                assert!(out[m].is_nan(), "ray {m} escaped ({}) but kept", r[m]);
            } else {
                assert_eq!(out[m], r[m], "ray {m} on the wall refused");
            }
        }
        // A 30 × 5 mm slit: neighbouring rays change fast near its ends, but steadily.
        let slit: Vec<f64> = (0..NRAYS).map(|m| ell(theta(m), 15.0, 2.5)).collect();
        assert_eq!(drop_escapes(&slit), slit);
        // The longer rays are the majority: they are the wall, the short run is kept too
        // (nothing is refused that would leave the minority).
        let mut most: Vec<f64> = vec![25.0; NRAYS];
        for v in most.iter_mut().take(30) {
            *v = 10.0;
        }
        assert_eq!(drop_escapes(&most), most);
    }

    #[test]
    fn fourier_fit_recovers_ellipse_with_outliers() {
        let (a, b, rot) = (13.0f64, 9.0f64, 0.3f64);
        let (ox, oy) = (1.5, -0.8); // rays from an off-centre point
        let thetas: Vec<f64> = (0..NRAYS).map(theta).collect();
        let mut r: Vec<f64> = thetas
            .iter()
            .map(|&t| {
                // Distance from (ox, oy) to the ellipse along direction t (bisection).
                let (c, s) = (t.cos(), t.sin());
                let inside = |d: f64| {
                    let (x, y) = (ox + c * d, oy + s * d);
                    let u = x * rot.cos() + y * rot.sin();
                    let v = -x * rot.sin() + y * rot.cos();
                    (u / a).powi(2) + (v / b).powi(2) <= 1.0
                };
                let (mut lo, mut hi) = (0.0, 30.0);
                for _ in 0..60 {
                    let m = 0.5 * (lo + hi);
                    if inside(m) {
                        lo = m
                    } else {
                        hi = m
                    }
                }
                lo
            })
            .collect();
        let truth = r.clone();
        // A branch: 8 consecutive rays run 15 mm too far; two rays found nothing.
        for v in r.iter_mut().skip(10).take(8) {
            *v += 15.0;
        }
        r[40] = f64::NAN;
        r[41] = f64::NAN;
        let pw: Vec<f64> = r.iter().map(|v| if v.is_finite() { 1.0 } else { 0.0 }).collect();
        let (c, inl) = robust_fit(&thetas, &r, &pw, NCOEF, None).unwrap();
        for (m, &t) in thetas.iter().enumerate() {
            assert!(
                (eval(&c, t) - truth[m]).abs() < 0.15,
                "ray {m}: {} vs {}",
                eval(&c, t),
                truth[m]
            );
        }
        assert!(!inl[12] && inl[30]);
        let cont = Contour {
            z: 0.0,
            cx: ox,
            cy: oy,
            coef: c,
            inliers: 1.0,
            centre_value: 0.0,
            opacified: true,
            kind: ContourKind::Measured,
        };
        let area = std::f64::consts::PI * a * b;
        assert!(
            (cont.area() - area).abs() / area < 0.01,
            "{} vs {area}",
            cont.area()
        );
        let (gx, gy) = cont.centroid();
        assert!(gx.abs() < 0.1 && gy.abs() < 0.1, "{gx} {gy}");
    }

    #[test]
    fn basis_recurrence_matches_direct_harmonics() {
        for i in 0..1000 {
            let t = -10.0 + i as f64 * 0.0201;
            let b = basis(t);
            for k in 1..=ORDER {
                let kf = k as f64;
                assert!((b[2 * k - 1] - (kf * t).cos()).abs() < 1e-12);
                assert!((b[2 * k] - (kf * t).sin()).abs() < 1e-12);
            }
        }
    }
}
