//! Multi-scale Hessian vesselness (Frangi 1998), as ITK's
//! `MultiScaleHessianBasedMeasureImageFilter` + `HessianToObjectnessMeasureImageFilter`
//! compute it: at each scale σ (physical mm, honouring anisotropic spacing) the Hessian of
//! the Gaussian-smoothed image, normalised across scales by σ²; eigenvalues sorted by
//! magnitude |λ₁| ≤ |λ₂| ≤ |λ₃|; zero unless λ₂, λ₃ < 0 (bright tubes);
//! `V = (1 − e^{−R_A²/2α²}) · e^{−R_B²/2β²} · (1 − e^{−S²/2γ²}) · |λ₃|` with
//! `R_A = |λ₂|/|λ₃|`, `R_B = |λ₁|/√|λ₂λ₃|`, `S² = Σλ²`; the maximum over scales is kept.
//! ITK defaults: α = 0.5, β = 0.5, γ = 5 (`HessianToObjectnessMeasureImageFilter.hxx`).
//!
//! The Gaussian derivatives are separable FIR filters (15 one-dimensional passes per scale
//! instead of 18), each parallel over slices with rayon.

use crate::smooth::{convolve_axis_into, kernels};
pub use crate::smooth::{gaussian_recursive, gaussian_smooth};
use ndarray::{Array3, Zip};
use rayon::prelude::*;

/// Frangi parameters; [`Default`] gives ITK's defaults with the 2–10 mm vessel range.
#[derive(Debug, Clone)]
pub struct VesselnessParams {
    /// Plate-vs-line term weight (ITK `Alpha`).
    pub alpha: f64,
    /// Blob-vs-line term weight (ITK `Beta`).
    pub beta: f64,
    /// Structureness term weight (ITK `Gamma`), in image units after σ² normalisation.
    pub gamma: f64,
    /// Scales, mm.
    pub sigmas_mm: Vec<f64>,
    /// Bright vessels on a dark background (contrast-enhanced CT/MRI).
    pub bright: bool,
    /// Multiply by |λ₃| (ITK `ScaleObjectnessMeasure`, on by default).
    pub scale_by_lambda3: bool,
}

impl Default for VesselnessParams {
    fn default() -> Self {
        VesselnessParams {
            alpha: 0.5,
            beta: 0.5,
            gamma: 5.0,
            sigmas_mm: sigmas_for_diameters(2.0, 10.0, 5),
            bright: true,
            scale_by_lambda3: true,
        }
    }
}

/// Ratio of a solid tube's diameter to the scale σ at which its σ²-normalised Hessian
/// response across the tube peaks: σ = r/√2 for a disc cross-section (scale-space
/// blob theory, Lindeberg 1998), so d = 2√2·σ.
pub const DIAMETER_PER_SIGMA: f64 = 2.0 * std::f64::consts::SQRT_2;

/// `steps` scales spaced logarithmically (ITK `SetSigmaStepMethodToLogarithmic`, its
/// default) that cover vessel diameters `d_min..=d_max` mm.
pub fn sigmas_for_diameters(d_min: f64, d_max: f64, steps: usize) -> Vec<f64> {
    let lo = d_min / DIAMETER_PER_SIGMA;
    let hi = d_max / DIAMETER_PER_SIGMA;
    log_spaced(lo, hi, steps)
}

/// Logarithmically spaced values, as ITK computes its sigma steps.
pub fn log_spaced(lo: f64, hi: f64, steps: usize) -> Vec<f64> {
    if steps <= 1 || hi <= lo || lo <= 0.0 {
        return vec![lo.max(1e-3)];
    }
    let (a, b) = (lo.ln(), hi.ln());
    (0..steps)
        .map(|i| (a + (b - a) * i as f64 / (steps - 1) as f64).exp())
        .collect()
}

/// Vesselness and the scale that gave it.
#[derive(Debug, Clone)]
pub struct Vesselness {
    /// Maximum response over scales, `[slice, row, column]`.
    pub response: Array3<f32>,
    /// σ (mm) of the maximum; 0 where the response is 0.
    pub sigma_mm: Array3<f32>,
}

/// The six σ²-normalised Hessian components at one scale, physical units (per mm²):
/// `[xx, yy, zz, xy, xz, yz]` where x = columns (i), y = rows (j), z = slices (k).
pub fn hessian(data: &Array3<f32>, spacing_ijk: [f64; 3], sigma_mm: f64) -> [Array3<f32>; 6] {
    hessian_axes(data, spacing_ijk, [sigma_mm; 3], sigma_mm)
}

/// [`hessian`] with a Gaussian σ (mm) per axis `[x, y, z]`, normalised by `sigma_norm`²
/// (a grid that already smoothed along some axes needs less there).
fn hessian_axes(
    data: &Array3<f32>,
    spacing_ijk: [f64; 3],
    sigma_axes: [f64; 3],
    sigma_norm: f64,
) -> [Array3<f32>; 6] {
    let mut sc = HessianScratch::new(data.dim());
    let f = hessian_unscaled(data, spacing_ijk, sigma_axes, sigma_norm, &mut sc);
    let mut h = sc.h;
    for (c, f) in h.iter_mut().zip(f) {
        c.par_mapv_inplace(|v| v * f);
    }
    h
}

/// The buffers of one Hessian, reused across scales: the six components and two
/// intermediate passes.
struct HessianScratch {
    h: [Array3<f32>; 6],
    z: Array3<f32>,
    a: Array3<f32>,
}

impl HessianScratch {
    fn new(dim: (usize, usize, usize)) -> Self {
        let z = || Array3::<f32>::zeros(dim);
        HessianScratch {
            h: [z(), z(), z(), z(), z(), z()],
            z: z(),
            a: z(),
        }
    }
}

/// The Hessian's Gaussian-derivative images per voxel step into `sc.h`, `[xx, yy, zz,
/// xy, xz, yz]`; returns the factor of each (σ² per mm²) that [`hessian_axes`] multiplies
/// in — the multi-scale loop applies them as it reads, instead of a pass over six images.
fn hessian_unscaled(
    data: &Array3<f32>,
    spacing_ijk: [f64; 3],
    sigma_axes: [f64; 3],
    sigma_norm: f64,
    sc: &mut HessianScratch,
) -> [f32; 6] {
    let [si, sj, sk] = spacing_ijk;
    let ki = kernels(sigma_axes[0] / si);
    let kj = kernels(sigma_axes[1] / sj);
    let kk = kernels(sigma_axes[2] / sk);
    let s2 = (sigma_norm * sigma_norm) as f32;
    // Scale factors turn per-voxel derivatives into per-mm ones, times σ².
    let fxx = s2 / (si * si) as f32;
    let fyy = s2 / (sj * sj) as f32;
    let fzz = s2 / (sk * sk) as f32;
    let fxy = s2 / (si * sj) as f32;
    let fxz = s2 / (si * sk) as f32;
    let fyz = s2 / (sj * sk) as f32;

    let HessianScratch { h, z, a } = sc;
    let [xx, yy, zz, xy, xz, yz] = h;
    // (z kernel, [(y kernel, x kernel, output)]): 3 + 6 + 6 one-dimensional passes.
    let plan = [
        (0, vec![(0, 2, xx), (1, 1, xy), (2, 0, yy)]),
        (1, vec![(0, 1, xz), (1, 0, yz)]),
        (2, vec![(0, 0, zz)]),
    ];
    for (dz, outs) in plan {
        convolve_axis_into(data, &kk[dz], 0, z);
        for (dy, dx, out) in outs {
            convolve_axis_into(z, &kj[dy], 1, a);
            convolve_axis_into(a, &ki[dx], 2, out);
        }
    }
    [fxx, fyy, fzz, fxy, fxz, fyz]
}

/// Eigenvalues of a symmetric 3×3 matrix (analytic, Smith 1961), sorted by magnitude.
#[inline]
pub fn eigenvalues_sym3(a: [f64; 6]) -> [f64; 3] {
    let [xx, yy, zz, xy, xz, yz] = a;
    let p1 = xy * xy + xz * xz + yz * yz;
    let mut e = if p1 <= 1e-30 * (xx * xx + yy * yy + zz * zz).max(1e-300) {
        [xx, yy, zz]
    } else {
        let q = (xx + yy + zz) / 3.0;
        let p2 = (xx - q).powi(2) + (yy - q).powi(2) + (zz - q).powi(2) + 2.0 * p1;
        let p = (p2 / 6.0).sqrt();
        let (bxx, byy, bzz) = ((xx - q) / p, (yy - q) / p, (zz - q) / p);
        let (bxy, bxz, byz) = (xy / p, xz / p, yz / p);
        let det =
            bxx * (byy * bzz - byz * byz) - bxy * (bxy * bzz - byz * bxz) + bxz * (bxy * byz - byy * bxz);
        let r = (det / 2.0).clamp(-1.0, 1.0);
        let phi = r.acos() / 3.0;
        let e1 = q + 2.0 * p * phi.cos();
        let e3 = q + 2.0 * p * (phi + 2.0 * std::f64::consts::PI / 3.0).cos();
        let e2 = 3.0 * q - e1 - e3;
        [e1, e2, e3]
    };
    e.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    e
}

/// Frangi objectness of one Hessian (ITK `HessianToObjectnessMeasureImageFilter`,
/// ObjectDimension = 1).
#[inline]
pub fn objectness(h: [f64; 6], p: &VesselnessParams) -> f64 {
    // A bright tube needs λ₂, λ₃ < 0 with |λ₁| ≤ |λ₂|, so the trace λ₁ + λ₂ + λ₃ ≤ λ₃ < 0
    // (by at least the largest |λ|, far beyond the eigen solver's rounding): a trace of
    // the wrong sign gives 0 without the eigenvalues (the common case off the vessels).
    let trace = h[0] + h[1] + h[2];
    if (p.bright && trace >= 0.0) || (!p.bright && trace <= 0.0) {
        return 0.0;
    }
    let l = eigenvalues_sym3(h);
    let (a1, a2, a3) = (l[0].abs(), l[1].abs(), l[2].abs());
    let wrong_sign = if p.bright {
        l[1] > 0.0 || l[2] > 0.0
    } else {
        l[1] < 0.0 || l[2] < 0.0
    };
    if wrong_sign || a3 == 0.0 {
        return 0.0;
    }
    let ra = a2 / a3;
    let rb_den = a2 * a3;
    let rb = if rb_den > 0.0 { a1 / rb_den.sqrt() } else { a1 };
    let s2 = l[0] * l[0] + l[1] * l[1] + l[2] * l[2];
    let mut v = (1.0 - (-0.5 * ra * ra / (p.alpha * p.alpha)).exp())
        * (-0.5 * rb * rb / (p.beta * p.beta)).exp()
        * (1.0 - (-0.5 * s2 / (p.gamma * p.gamma)).exp());
    if p.scale_by_lambda3 {
        v *= a3;
    }
    v
}

/// Multi-scale vesselness of `data` with voxel spacing `spacing_ijk` = `[columns, rows,
/// slices]` mm (as `Geometry::spacing`): sampled Gaussian-derivative kernels (FIR, 15
/// one-dimensional passes per scale). Agrees with ITK's filter (Pearson 0.9999 on a
/// phantom CT) and is the default; [`vesselness_recursive`] is faster at large σ but
/// smooths more.
///
/// ```
/// use cavascope_imaging::vesselness::{vesselness, VesselnessParams};
/// use ndarray::Array3;
/// // A bright tube of radius 2 mm along z in a 1 mm grid.
/// let a = Array3::from_shape_fn((16, 24, 24), |(_, j, i)| {
///     let (x, y) = (i as f64 - 12.0, j as f64 - 12.0);
///     if x * x + y * y <= 4.0 { 200.0f32 } else { 0.0 }
/// });
/// let v = vesselness(&a, [1.0, 1.0, 1.0], &VesselnessParams::default());
/// assert!(v.response[[8, 12, 12]] > 10.0 * v.response[[8, 2, 2]].max(1e-3));
/// ```
pub fn vesselness(data: &Array3<f32>, spacing_ijk: [f64; 3], params: &VesselnessParams) -> Vesselness {
    let dim = data.dim();
    let mut response = Array3::<f32>::zeros(dim);
    let mut sigma_map = Array3::<f32>::zeros(dim);
    let mut sc = None;
    for &sigma in &params.sigmas_mm {
        if !(sigma.is_finite() && sigma > 0.0) {
            continue;
        }
        let sc = sc.get_or_insert_with(|| HessianScratch::new(dim));
        let f = hessian_unscaled(data, spacing_ijk, [sigma; 3], sigma, sc);
        objectness_max(&sc.h, f, params, sigma as f32, &mut response, &mut sigma_map);
    }
    Vesselness {
        response,
        sigma_mm: sigma_map,
    }
}

/// Objectness of every voxel's Hessian `h` (component c times `f[c]`, rounded to f32 as
/// [`hessian`] stores it) at scale `s` (mm), kept where it beats the response so far.
fn objectness_max(
    h: &[Array3<f32>; 6],
    f: [f32; 6],
    params: &VesselnessParams,
    s: f32,
    response: &mut Array3<f32>,
    sigma_map: &mut Array3<f32>,
) {
    let slices: Option<Vec<&[f32]>> = h.iter().map(|c| c.as_slice()).collect();
    let (Some(h), Some(resp), Some(sm)) = (slices, response.as_slice_mut(), sigma_map.as_slice_mut()) else {
        return;
    };
    // Standard-layout arrays: walk all eight as flat slices, in parallel chunks.
    const CHUNK: usize = 4096;
    resp.par_chunks_mut(CHUNK)
        .zip(sm.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(c, (r, m))| {
            let off = c * CHUNK;
            for n in 0..r.len() {
                let q = off + n;
                let hh = [
                    (h[0][q] * f[0]) as f64,
                    (h[1][q] * f[1]) as f64,
                    (h[2][q] * f[2]) as f64,
                    (h[3][q] * f[3]) as f64,
                    (h[4][q] * f[4]) as f64,
                    (h[5][q] * f[5]) as f64,
                ];
                // With the |λ₃| scaling the measure is at most |λ₃| ≤ ‖H‖_F (every other
                // factor is ≤ 1, and rounding a product by a factor ≤ 1 cannot exceed it):
                // a voxel whose response so far beats the norm (with a margin far above
                // the eigen solver's rounding) keeps it, exactly as if computed.
                if params.scale_by_lambda3 && r[n] > 0.0 {
                    let fro2 = hh[0] * hh[0]
                        + hh[1] * hh[1]
                        + hh[2] * hh[2]
                        + 2.0 * (hh[3] * hh[3] + hh[4] * hh[4] + hh[5] * hh[5]);
                    if fro2.sqrt() * (1.0 + 1e-6) < r[n] as f64 {
                        continue;
                    }
                }
                let v = objectness(hh, params) as f32;
                if v > r[n] {
                    r[n] = v;
                    m[n] = s;
                }
            }
        });
}

/// Scales of at least this many in-plane voxels run on a grid coarsened 2× in-plane.
const COARSE_FROM_VOXELS: f64 = 2.0;

/// [`vesselness`] with the large scales on a coarser grid: a scale σ ≥ 2 in-plane voxels
/// runs on 2 × 2 in-plane block means (its Gaussian narrowed by the block's own
/// variance, h²/4 per axis, so the total smoothing is still σ), and each voxel takes its
/// block's response. The large kernels dominate the cost (taps grow with σ), so this is
/// ~3× faster on sub-millimetre CT; the response moves by a few per cent and its peak by
/// at most a voxel (test `pyramid_matches_full_grid_on_tubes`).
pub fn vesselness_pyramid(
    data: &Array3<f32>,
    spacing_ijk: [f64; 3],
    params: &VesselnessParams,
) -> Vesselness {
    let h_in = spacing_ijk[0].max(spacing_ijk[1]);
    let (fine, coarse): (Vec<f64>, Vec<f64>) = params
        .sigmas_mm
        .iter()
        .copied()
        .filter(|s| s.is_finite() && *s > 0.0)
        .partition(|&s| s < COARSE_FROM_VOXELS * h_in);
    let (nk, nj, ni) = data.dim();
    let mut out = vesselness(
        data,
        spacing_ijk,
        &VesselnessParams {
            sigmas_mm: fine,
            ..params.clone()
        },
    );
    if coarse.is_empty() || nj < 4 || ni < 4 {
        if !coarse.is_empty() {
            let rest = vesselness(
                data,
                spacing_ijk,
                &VesselnessParams {
                    sigmas_mm: coarse,
                    ..params.clone()
                },
            );
            merge_max(&mut out, &rest.response, &rest.sigma_mm, |k, j, i| [k, j, i]);
        }
        return out;
    }
    let (cj, ci) = (nj.div_ceil(2), ni.div_ceil(2));
    let small = Array3::from_shape_fn((nk, cj, ci), |(k, j, i)| {
        let mut acc = 0.0f32;
        let mut n = 0.0f32;
        for jj in 2 * j..(2 * j + 2).min(nj) {
            for ii in 2 * i..(2 * i + 2).min(ni) {
                acc += data[[k, jj, ii]];
                n += 1.0;
            }
        }
        acc / n
    });
    let csp = [2.0 * spacing_ijk[0], 2.0 * spacing_ijk[1], spacing_ijk[2]];
    let mut resp = Array3::<f32>::zeros((nk, cj, ci));
    let mut smap = Array3::<f32>::zeros((nk, cj, ci));
    let mut sc = HessianScratch::new((nk, cj, ci));
    for &sigma in &coarse {
        // A 2-sample block mean has variance h²/4 along its axis.
        let ax = |h: f64| (sigma * sigma - 0.25 * h * h).max(0.0).sqrt();
        let sig = [ax(spacing_ijk[0]), ax(spacing_ijk[1]), sigma];
        let f = hessian_unscaled(&small, csp, sig, sigma, &mut sc);
        objectness_max(&sc.h, f, params, sigma as f32, &mut resp, &mut smap);
    }
    merge_max(&mut out, &resp, &smap, |k, j, i| [k, j / 2, i / 2]);
    out
}

/// Keep, per voxel of `out`, the larger of its response and `resp[at(k, j, i)]`.
fn merge_max(
    out: &mut Vesselness,
    resp: &Array3<f32>,
    smap: &Array3<f32>,
    at: impl Fn(usize, usize, usize) -> [usize; 3] + Sync,
) {
    Zip::indexed(&mut out.response)
        .and(&mut out.sigma_mm)
        .par_for_each(|(k, j, i), r, m| {
            let q = at(k, j, i);
            if resp[q] > *r {
                *r = resp[q];
                *m = smap[q];
            }
        });
}

/// Multi-scale vesselness with recursive Gaussian smoothing (Young–van Vliet, cost
/// independent of σ) and the σ²-normalised Hessian by central differences fused with the
/// objectness, so no Hessian image is stored. Faster than [`vesselness`], but the extra
/// smoothing of the differences lowers the response at small σ (Pearson 0.97 against ITK
/// instead of 0.9999).
pub fn vesselness_recursive(
    data: &Array3<f32>,
    spacing_ijk: [f64; 3],
    params: &VesselnessParams,
) -> Vesselness {
    let dim = data.dim();
    let (nk, nj, ni) = dim;
    let mut response = Array3::<f32>::zeros(dim);
    let mut sigma_map = Array3::<f32>::zeros(dim);
    let [hi, hj, hk] = spacing_ijk;
    for &sigma in &params.sigmas_mm {
        if !(sigma.is_finite() && sigma > 0.0) {
            continue;
        }
        let sm = gaussian_recursive(data, spacing_ijk, sigma);
        let Some(s) = sm.as_slice() else { continue };
        let s2 = sigma * sigma;
        let (fxx, fyy, fzz) = (s2 / (hi * hi), s2 / (hj * hj), s2 / (hk * hk));
        let (fxy, fxz, fyz) = (s2 / (4.0 * hi * hj), s2 / (4.0 * hi * hk), s2 / (4.0 * hj * hk));
        let plane = nj * ni;
        let sf = sigma as f32;
        let (Some(resp), Some(smap)) = (response.as_slice_mut(), sigma_map.as_slice_mut()) else {
            continue;
        };
        resp.par_chunks_mut(plane.max(1))
            .zip(smap.par_chunks_mut(plane.max(1)))
            .enumerate()
            .for_each(|(k, (r, m))| {
                let km = k.saturating_sub(1);
                let kp = (k + 1).min(nk - 1);
                let at = |kk: usize, j: usize, i: usize| s[kk * plane + j * ni + i] as f64;
                for j in 0..nj {
                    let jm = j.saturating_sub(1);
                    let jp = (j + 1).min(nj - 1);
                    for i in 0..ni {
                        let im = i.saturating_sub(1);
                        let ip = (i + 1).min(ni - 1);
                        let c = at(k, j, i);
                        let xx = (at(k, j, ip) - 2.0 * c + at(k, j, im)) * fxx;
                        let yy = (at(k, jp, i) - 2.0 * c + at(k, jm, i)) * fyy;
                        let zz = (at(kp, j, i) - 2.0 * c + at(km, j, i)) * fzz;
                        let xy = (at(k, jp, ip) - at(k, jm, ip) - at(k, jp, im) + at(k, jm, im)) * fxy;
                        let xz = (at(kp, j, ip) - at(km, j, ip) - at(kp, j, im) + at(km, j, im)) * fxz;
                        let yz = (at(kp, jp, i) - at(km, jp, i) - at(kp, jm, i) + at(km, jm, i)) * fyz;
                        let v = objectness([xx, yy, zz, xy, xz, yz], params) as f32;
                        let q = j * ni + i;
                        if v > r[q] {
                            r[q] = v;
                            m[q] = sf;
                        }
                    }
                }
            });
    }
    Vesselness {
        response,
        sigma_mm: sigma_map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bright solid tube of radius `r` mm along the slice axis, on spacing `sp`.
    fn tube(shape: (usize, usize, usize), sp: [f64; 3], r: f64, value: f32) -> Array3<f32> {
        let (_, nj, ni) = shape;
        let (cx, cy) = (ni as f64 / 2.0 * sp[0], nj as f64 / 2.0 * sp[1]);
        Array3::from_shape_fn(shape, |(_, j, i)| {
            // Supersample the cross-section so the tube edge is partial-volumed.
            let mut inside = 0;
            for a in 0..4 {
                for b in 0..4 {
                    let x = (i as f64 + (a as f64 + 0.5) / 4.0 - 0.5) * sp[0] - cx;
                    let y = (j as f64 + (b as f64 + 0.5) / 4.0 - 0.5) * sp[1] - cy;
                    if x * x + y * y <= r * r {
                        inside += 1;
                    }
                }
            }
            value * inside as f32 / 16.0
        })
    }

    #[test]
    fn kernel_moments() {
        for s in [0.7, 1.5, 3.0] {
            let [g0, g1, g2] = kernels(s);
            let r = (g0.len() / 2) as f64;
            let sum0: f32 = g0.iter().sum();
            let m1: f64 = g1
                .iter()
                .enumerate()
                .map(|(t, &v)| (t as f64 - r) * v as f64)
                .sum();
            let m2: f64 = g2
                .iter()
                .enumerate()
                .map(|(t, &v)| (t as f64 - r).powi(2) * v as f64)
                .sum();
            assert!((sum0 - 1.0).abs() < 1e-5);
            assert!((m1 + 1.0).abs() < 1e-5);
            assert!((m2 - 2.0).abs() < 1e-5);
        }
    }

    #[test]
    fn hessian_of_a_quadratic_is_exact() {
        // f = 0.5·x² + 3·y·z (mm), anisotropic spacing: σ² · ∂² must give σ²·(1, 0, 0, 0, 0, 3).
        let sp = [0.8, 1.1, 2.5];
        let a = Array3::from_shape_fn((30, 40, 40), |(k, j, i)| {
            let (x, y, z) = (i as f64 * sp[0], j as f64 * sp[1], k as f64 * sp[2]);
            (0.5 * x * x + 3.0 * y * z) as f32
        });
        let sigma = 1.5;
        let h = hessian(&a, sp, sigma);
        let s2 = sigma * sigma;
        let want = [s2, 0.0, 0.0, 0.0, 0.0, 3.0 * s2];
        for (c, w) in h.iter().zip(want) {
            let got = c[[15, 20, 20]] as f64;
            assert!((got - w).abs() < 0.02 * s2.max(w.abs()), "{got} vs {w}");
        }
    }

    #[test]
    fn eigen_matches_nalgebra() {
        let m = [3.0, -1.0, 2.0, 0.5, -0.7, 1.3];
        let e = eigenvalues_sym3(m);
        let mat = nalgebra::Matrix3::new(m[0], m[3], m[4], m[3], m[1], m[5], m[4], m[5], m[2]);
        let mut want: Vec<f64> = mat.symmetric_eigenvalues().iter().copied().collect();
        want.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
        for (a, b) in e.iter().zip(&want) {
            assert!((a - b).abs() < 1e-9, "{e:?} vs {want:?}");
        }
    }

    #[test]
    fn tube_peaks_at_its_scale_and_centre() {
        // Radius 3 mm tube on 0.75 × 0.75 × 2 mm voxels (anisotropic, CT-like).
        let sp = [0.75, 0.75, 2.0];
        let shape = (24, 48, 48);
        let a = tube(shape, sp, 3.0, 200.0);
        let params = VesselnessParams {
            sigmas_mm: log_spaced(0.7, 3.5, 8),
            ..Default::default()
        };
        let v = vesselness(&a, sp, &params);
        let c = v.response[[12, 24, 24]];
        // Centre beats the background and the tube wall.
        assert!(c > 0.0);
        assert!(v.response[[12, 5, 5]] < 0.01 * c);
        // The best scale gives the diameter within one scale step (~25 %).
        let d = v.sigma_mm[[12, 24, 24]] as f64 * DIAMETER_PER_SIGMA;
        assert!((d - 6.0).abs() / 6.0 < 0.25, "diameter from scale {d}");
        // A blob and a plate score low relative to a tube.
        let blob = Array3::from_shape_fn(shape, |(k, j, i)| {
            let (x, y, z) = (
                (i as f64 - 24.0) * sp[0],
                (j as f64 - 24.0) * sp[1],
                (k as f64 - 12.0) * sp[2],
            );
            if x * x + y * y + z * z <= 16.0 {
                200.0f32
            } else {
                0.0
            }
        });
        let vb = vesselness(&blob, sp, &params);
        assert!(
            vb.response[[12, 24, 24]] < 0.3 * c,
            "blob {} tube {c}",
            vb.response[[12, 24, 24]]
        );
        let plate = Array3::from_shape_fn(shape, |(_, _, i)| {
            if ((i as f64 - 24.0) * sp[0]).abs() <= 2.0 {
                200.0f32
            } else {
                0.0
            }
        });
        let vp = vesselness(&plate, sp, &params);
        assert!(vp.response[[12, 24, 24]] < 0.3 * c);
    }

    #[test]
    fn recursive_matches_fir_on_a_tube() {
        let sp = [0.75, 0.75, 2.0];
        let a = tube((20, 48, 48), sp, 3.0, 200.0);
        let p = VesselnessParams::default();
        let f = vesselness_recursive(&a, sp, &p);
        let r = vesselness(&a, sp, &p);
        let (x, y) = (f.response[[10, 24, 24]] as f64, r.response[[10, 24, 24]] as f64);
        assert!((x - y).abs() / y < 0.15, "centre {x} vs {y}");
        // Correlation over the slab.
        let (mut sx, mut sy, mut sxx, mut syy, mut sxy, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for (a, b) in f.response.iter().zip(r.response.iter()) {
            let (a, b) = (*a as f64, *b as f64);
            sx += a;
            sy += b;
            sxx += a * a;
            syy += b * b;
            sxy += a * b;
            n += 1.0;
        }
        let c = (sxy - sx * sy / n) / ((sxx - sx * sx / n) * (syy - sy * sy / n)).sqrt();
        assert!(c > 0.95, "correlation {c}");
    }

    #[test]
    fn dark_tube_needs_dark_mode() {
        let sp = [1.0, 1.0, 1.0];
        let a = tube((16, 32, 32), sp, 2.0, -200.0);
        let v = vesselness(&a, sp, &VesselnessParams::default());
        assert_eq!(v.response[[8, 16, 16]], 0.0);
        let dark = VesselnessParams {
            bright: false,
            ..Default::default()
        };
        let v = vesselness(&a, sp, &dark);
        assert!(v.response[[8, 16, 16]] > 1.0);
    }

    #[test]
    fn pyramid_matches_full_grid_on_tubes() {
        // CT-like spacing, so the three largest of six scales (2–12 mm vessels) go coarse.
        let sp = [0.75, 0.75, 2.5];
        let p = VesselnessParams {
            sigmas_mm: sigmas_for_diameters(2.0, 12.0, 6),
            ..Default::default()
        };
        for r in [1.5, 3.0, 5.0] {
            let a = tube((16, 64, 64), sp, r, 200.0);
            let full = vesselness(&a, sp, &p);
            let pyr = vesselness_pyramid(&a, sp, &p);
            // Peak over the central cross-section: same height within 10 %, same place
            // within a voxel, same scale within one step.
            let peak = |v: &Vesselness| {
                let mut best = (0.0f32, 0usize, 0usize, 0.0f32);
                for j in 0..64 {
                    for i in 0..64 {
                        let x = v.response[[8, j, i]];
                        if x > best.0 {
                            best = (x, j, i, v.sigma_mm[[8, j, i]]);
                        }
                    }
                }
                best
            };
            let (f, p2) = (peak(&full), peak(&pyr));
            assert!((f.0 - p2.0).abs() <= 0.1 * f.0, "r {r}: peak {} vs {}", p2.0, f.0);
            assert!(
                f.1.abs_diff(p2.1) <= 1 && f.2.abs_diff(p2.2) <= 1,
                "r {r}: {f:?} vs {p2:?}"
            );
            let step = (12.0f32 / 2.0).ln() / 5.0;
            assert!(
                (f.3.ln() - p2.3.ln()).abs() <= step + 1e-3,
                "r {r}: σ {} vs {}",
                p2.3,
                f.3
            );
        }
    }
}
