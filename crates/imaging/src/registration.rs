//! Rigid (translation-only) alignment of each dynamic phase to the reference series in a
//! box around the IVC / mass, for the small breathing shifts between phases. Translation
//! is enough there: the retroperitoneum moves with the diaphragm mostly as a block
//! (a few mm to ~1 cm craniocaudally between breath-holds).
//!
//! Method: normalised cross-correlation of intensities (CT clamped to −150…250 HU so bone
//! and dense contrast do not dominate) sampled on a point grid in the box; exhaustive
//! search on a coarse grid of shifts, then refinement at 1 mm and 0.5 mm. A shift is only
//! kept when it raises the correlation clearly above the unshifted one.

use cavascope_volume::{
    sampling::{blend8, trilinear},
    Point3, Vector3, Volume,
};
use rayon::prelude::*;

/// Largest shift searched, mm (breath-hold mismatch is rarely above 1 cm).
pub const MAX_SHIFT_MM: f64 = 12.0;
/// Half-size of the box the correlation is computed in, mm.
pub const ROI_HALF_MM: f64 = 60.0;
/// Correlation gain over the unshifted alignment needed to accept a shift.
pub const MIN_NCC_GAIN: f64 = 0.02;
/// Shifts shorter than this are not applied (below a voxel, within interpolation error).
pub const MIN_SHIFT_MM: f64 = 0.75;

const CT_CLAMP: (f32, f32) = (-150.0, 250.0);

/// Fixed-image samples: points and (clamped) values.
struct Samples {
    points: Vec<Point3<f64>>,
    values: Vec<f32>,
    /// Each point's step indices `[a, b, c]` along world x, y, z on the sample grid.
    grid: Vec<[u32; 3]>,
}

fn clamp_value(v: f32, ct: bool) -> f32 {
    if ct {
        v.clamp(CT_CLAMP.0, CT_CLAMP.1)
    } else {
        v
    }
}

fn fixed_samples(fixed: &Volume, center: &Point3<f64>, half: f64, step: f64, ct: bool) -> Samples {
    let n = (2.0 * half / step).floor() as i64;
    let mut points = Vec::new();
    let mut values = Vec::new();
    let mut grid = Vec::new();
    // x innermost: consecutive samples then fall in the same rows of the same slices of
    // the moving volume (z innermost jumped a whole slice per sample; on a 512² study the
    // correlation was bound by cache misses).
    for c in 0..=n {
        for b in 0..=n {
            for a in 0..=n {
                let p = Point3::new(
                    center.x - half + a as f64 * step,
                    center.y - half + b as f64 * step,
                    center.z - half + c as f64 * step,
                );
                if let Some(v) = fixed.sample_world(&p) {
                    if v.is_finite() {
                        points.push(p);
                        values.push(clamp_value(v, ct));
                        grid.push([a as u32, b as u32, c as u32]);
                    }
                }
            }
        }
    }
    Samples { points, values, grid }
}

/// The fixed samples seen from the moving volume: each point's continuous index in
/// `moving`, and the index step of one world mm along x, y and z. A shift `d` moves every
/// index by the same `L·d` (the affine's linear part), so a candidate shift costs one
/// vector add per point instead of a 4×4 transform.
struct MovingView<'a> {
    base: Vec<[f64; 3]>,
    values: &'a [f32],
    linear: [[f64; 3]; 3],
    /// Smallest and largest index of the points per axis: a shift keeps every point
    /// strictly inside the grid iff these two do (adding the same offset is monotonic
    /// in floating point too), which is checked once per shift instead of per sample.
    lo: [f64; 3],
    hi: [f64; 3],
    /// Σx and Σx² of the fixed values, summed in sample order as [`ncc`] does: when no
    /// point is skipped they are the same numbers for every shift.
    sx: f64,
    sxx: f64,
    /// The points' indices in `moving` per grid step, when the sample grid's axes map
    /// onto the moving grid's (see [`AxisCoords`]).
    axes: Option<AxisCoords<'a>>,
}

/// When the moving grid is not rotated against the world axes, a point's x index in it
/// depends only on the point's x step (likewise y, z): then a shift's interpolation taps
/// are computed once per step along each axis instead of once per point, with the same
/// arithmetic as [`interp_inside`] (each coordinate is taken from `base`, bit for bit).
struct AxisCoords<'a> {
    /// Index coordinate per step, along x, y and z.
    coords: [Vec<f64>; 3],
    /// Each point's steps (the samples' `grid`).
    grid: &'a [[u32; 3]],
}

impl<'a> AxisCoords<'a> {
    /// `None` unless every point's coordinates agree with its steps' exactly.
    fn new(base: &[[f64; 3]], grid: &'a [[u32; 3]], linear: &[[f64; 3]; 3]) -> Option<Self> {
        let rotated = (0..3).any(|r| (0..3).any(|c| r != c && linear[r][c] != 0.0));
        if rotated || grid.len() != base.len() {
            return None;
        }
        let mut coords: [Vec<Option<f64>>; 3] = Default::default();
        for (b, g) in base.iter().zip(grid) {
            for a in 0..3 {
                let step = g[a] as usize;
                if coords[a].len() <= step {
                    coords[a].resize(step + 1, None);
                }
                match coords[a][step] {
                    None => coords[a][step] = Some(b[a]),
                    Some(c) if c.to_bits() == b[a].to_bits() => {}
                    Some(_) => return None,
                }
            }
        }
        let [x, y, z] = coords.map(|v| v.into_iter().map(|c| c.unwrap_or(f64::NAN)).collect());
        Some(AxisCoords {
            coords: [x, y, z],
            grid,
        })
    }

    /// Per step along axis `a` shifted by `o`: the flat offset of the lower corner (index
    /// × `stride`) and the weight of the upper one, as [`interp_inside`] computes them.
    fn taps(&self, a: usize, o: f64, stride: usize) -> Vec<(usize, f32)> {
        self.coords[a]
            .iter()
            .map(|&b| {
                let (c0, f) = floor_frac(b + o);
                (c0 * stride, f)
            })
            .collect()
    }
}

impl<'a> MovingView<'a> {
    fn new(s: &'a Samples, moving: &Volume) -> Self {
        let inv = moving.geometry.inverse();
        let base: Vec<[f64; 3]> = s
            .points
            .iter()
            .map(|p| moving.geometry.world_to_index(p))
            .collect();
        let mut linear = [[0.0; 3]; 3];
        for (r, row) in linear.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = inv[(r, c)];
            }
        }
        let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
        for b in &base {
            for a in 0..3 {
                lo[a] = lo[a].min(b[a]);
                hi[a] = hi[a].max(b[a]);
            }
        }
        let (mut sx, mut sxx) = (0.0, 0.0);
        for &x in &s.values {
            let x = x as f64;
            sx += x;
            sxx += x * x;
        }
        let axes = AxisCoords::new(&base, &s.grid, &linear);
        MovingView {
            base,
            values: &s.values,
            linear,
            lo,
            hi,
            sx,
            sxx,
            axes,
        }
    }

    fn offset(&self, d: &Vector3<f64>) -> [f64; 3] {
        let l = &self.linear;
        [
            l[0][0] * d.x + l[0][1] * d.y + l[0][2] * d.z,
            l[1][0] * d.x + l[1][1] * d.y + l[1][2] * d.z,
            l[2][0] * d.x + l[2][1] * d.y + l[2][2] * d.z,
        ]
    }
}

/// NCC between the fixed samples and `moving` sampled at p + shift; points that fall
/// outside `moving` are skipped (at least half must remain).
fn ncc(s: &MovingView, moving: &Volume, shift: &Vector3<f64>, ct: bool) -> Option<f64> {
    let o = s.offset(shift);
    let fast = match ct {
        true => ncc_inside::<true>(s, moving, o),
        false => ncc_inside::<false>(s, moving, o),
    };
    match fast {
        Some(sums) => finish(sums, s.base.len()),
        None => ncc_checked(s, moving, o, ct),
    }
}

/// The correlation from its sums over `n` of `len` points.
fn finish((sx, sy, sxx, syy, sxy, n): (f64, f64, f64, f64, f64, usize), len: usize) -> Option<f64> {
    if n < 100 || n * 2 < len {
        return None;
    }
    let nf = n as f64;
    let cov = sxy - sx * sy / nf;
    let vx = sxx - sx * sx / nf;
    let vy = syy - sy * sy / nf;
    if vx <= 1e-9 || vy <= 1e-9 {
        return None;
    }
    Some(cov / (vx * vy).sqrt())
}

/// [`ncc`]'s sums when every point shifted by `o` lies strictly inside `moving` (so no
/// sample is skipped or clamped, and Σx, Σx² are the precomputed ones), else `None`
/// (also when a sample is not finite): then [`ncc_checked`] decides.
///
/// The same arithmetic as `trilinear` followed by the clamp, in the same order, so the
/// sums are bit-identical; only the per-sample bounds tests, clamps and the
/// `Option` are gone (this loop was most of the registration's time).
fn ncc_inside<const CT: bool>(
    s: &MovingView,
    moving: &Volume,
    o: [f64; 3],
) -> Option<(f64, f64, f64, f64, f64, usize)> {
    let data = moving.data.as_slice()?;
    let (nk, nj, ni) = moving.data.dim();
    let n = [ni, nj, nk];
    for a in 0..3 {
        if !strictly_inside(s.lo[a] + o[a], s.hi[a] + o[a], n[a]) {
            return None;
        }
    }
    let plane = nj * ni;
    let (mut sy, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (b, &x) in s.base.iter().zip(s.values) {
        let v = interp_inside(data, plane, ni, [b[0] + o[0], b[1] + o[1], b[2] + o[2]]);
        if !v.is_finite() {
            return None;
        }
        let (x, y) = (x as f64, clamp_value(v, CT) as f64);
        sy += y;
        syy += y * y;
        sxy += x * y;
    }
    Some((s.sx, sy, s.sxx, syy, sxy, s.base.len()))
}

/// Every index in `lo..=hi` lies in `0 ≤ c < n − 1` (the upper corner c + 1 exists, so
/// no edge clamp); false for NaN.
fn strictly_inside(lo: f64, hi: f64, n: usize) -> bool {
    n >= 2 && lo >= 0.0 && hi < (n - 1) as f64
}

/// `trilinear(data, c)` for a point with `0 ≤ c < n − 1` on every axis (no clamp, no
/// edge): the same operations in the same order, so the same bits.
#[inline(always)]
fn interp_inside(data: &[f32], plane: usize, ni: usize, c: [f64; 3]) -> f32 {
    let [(x0, fx), (y0, fy), (z0, fz)] = c.map(floor_frac);
    lerp8(data, z0 * plane + y0 * ni + x0, plane, ni, [fx, fy, fz])
}

/// A non-negative index coordinate's lower sample and the upper one's weight
/// (truncation is the floor here), as `trilinear` computes them.
#[inline(always)]
fn floor_frac(c: f64) -> (usize, f32) {
    let c0 = c as usize;
    (c0, (c - c0 as f64) as f32)
}

/// The trilinear blend of the eight voxels whose lower corner is at flat offset `p`, with
/// the upper corners' weights `[fx, fy, fz]` ([`blend8`], as `trilinear`).
#[inline(always)]
fn lerp8(data: &[f32], p: usize, plane: usize, ni: usize, w: [f32; 3]) -> f32 {
    let c = &data[p..p + plane + ni + 2];
    let corners = [
        c[0],
        c[1],
        c[ni],
        c[ni + 1],
        c[plane],
        c[plane + 1],
        c[plane + ni],
        c[plane + ni + 1],
    ];
    blend8(corners, w)
}

/// [`ncc`] with every sample checked: points outside `moving` (or not finite there) are
/// skipped. Points strictly inside take [`interp_inside`], the rest `trilinear` (a box
/// at the end of the series has most of its points inside for most shifts).
fn ncc_checked(s: &MovingView, moving: &Volume, o: [f64; 3], ct: bool) -> Option<f64> {
    let (nk, nj, ni) = moving.data.dim();
    let (plane, hi) = (nj * ni, [ni as f64 - 1.0, nj as f64 - 1.0, nk as f64 - 1.0]);
    let flat = moving.data.as_slice().filter(|_| ni >= 2 && nj >= 2 && nk >= 2);
    let (mut sx, mut sy, mut sxx, mut syy, mut sxy, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
    for (b, &x) in s.base.iter().zip(s.values) {
        let c = [b[0] + o[0], b[1] + o[1], b[2] + o[2]];
        let inside = (0..3).all(|a| c[a] >= 0.0 && c[a] < hi[a]);
        let y = match flat {
            Some(data) if inside => interp_inside(data, plane, ni, c),
            _ => match trilinear(&moving.data, c) {
                Some(y) => y,
                None => continue,
            },
        };
        if !y.is_finite() {
            continue;
        }
        let (x, y) = (x as f64, clamp_value(y, ct) as f64);
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
        n += 1;
    }
    finish((sx, sy, sxx, syy, sxy, n), s.base.len())
}

/// Σx, Σy, Σx², Σy², Σxy and the count of [`ncc`].
type Sums = (f64, f64, f64, f64, f64, usize);

/// [`ncc`] for several shifts in one pass over the points: shifts that differ along x
/// read the same rows of `moving`, so each cache line fetched serves them all (one shift
/// at a time streamed the whole box from memory per shift). Each shift's sums still run
/// in point order, so each value is the one [`ncc`] gives for that shift alone.
fn ncc_group(s: &MovingView, moving: &Volume, shifts: &[Vector3<f64>], ct: bool) -> Vec<Option<f64>> {
    let offs: Vec<[f64; 3]> = shifts.iter().map(|d| s.offset(d)).collect();
    let sums = match ct {
        true => group_inside::<true>(s, moving, &offs),
        false => group_inside::<false>(s, moving, &offs),
    };
    match sums {
        Some(sums) => sums
            .into_iter()
            .zip(&offs)
            .map(|(sum, o)| match sum {
                Some(sum) => finish(sum, s.base.len()),
                None => ncc_checked(s, moving, *o, ct),
            })
            .collect(),
        None => shifts.iter().map(|d| ncc(s, moving, d, ct)).collect(),
    }
}

/// [`ncc_inside`] for every offset of `offs` at once; `None` unless every offset keeps
/// every point inside, an entry `None` where a sample was not finite.
fn group_inside<const CT: bool>(
    s: &MovingView,
    moving: &Volume,
    offs: &[[f64; 3]],
) -> Option<Vec<Option<Sums>>> {
    let data = moving.data.as_slice()?;
    let (nk, nj, ni) = moving.data.dim();
    let n = [ni, nj, nk];
    for o in offs {
        for a in 0..3 {
            if !strictly_inside(s.lo[a] + o[a], s.hi[a] + o[a], n[a]) {
                return None;
            }
        }
    }
    let plane = nj * ni;
    let mut acc = vec![[0.0f64; 3]; offs.len()];
    let mut bad = vec![false; offs.len()];
    let mut add = |k: usize, x: f32, v: f32| {
        if !v.is_finite() {
            bad[k] = true;
            return;
        }
        let (x, y) = (x as f64, clamp_value(v, CT) as f64);
        let a = &mut acc[k];
        a[0] += y;
        a[1] += y * y;
        a[2] += x * y;
    };
    match &s.axes {
        Some(axes) => {
            let taps: Vec<[Vec<(usize, f32)>; 3]> = offs
                .iter()
                .map(|o| {
                    [
                        axes.taps(0, o[0], 1),
                        axes.taps(1, o[1], ni),
                        axes.taps(2, o[2], plane),
                    ]
                })
                .collect();
            for (g, &x) in axes.grid.iter().zip(s.values) {
                let [a, b, c] = g.map(|v| v as usize);
                for (k, [tx, ty, tz]) in taps.iter().enumerate() {
                    let ((xo, fx), (yo, fy), (zo, fz)) = (tx[a], ty[b], tz[c]);
                    add(k, x, lerp8(data, zo + yo + xo, plane, ni, [fx, fy, fz]));
                }
            }
        }
        None => {
            for (b, &x) in s.base.iter().zip(s.values) {
                for (k, o) in offs.iter().enumerate() {
                    let c = [b[0] + o[0], b[1] + o[1], b[2] + o[2]];
                    add(k, x, interp_inside(data, plane, ni, c));
                }
            }
        }
    }
    Some(
        acc.iter()
            .zip(&bad)
            .map(|(a, &bad)| (!bad).then_some((s.sx, a[0], s.sxx, a[1], a[2], s.base.len())))
            .collect(),
    )
}

/// A searched shift (mm) and its step indices along x, y, z.
type GridShift = (Vector3<f64>, [i64; 3]);

/// The shifts searched around `around`: steps of `step` within ±`radius` per axis (x
/// outermost, z innermost: the search order), each with its step indices; and the
/// steps per side.
fn search_grid(around: Vector3<f64>, radius: f64, step: f64) -> (i64, Vec<GridShift>) {
    let n = (radius / step).round() as i64;
    let mut out = Vec::new();
    for a in -n..=n {
        for b in -n..=n {
            for c in -n..=n {
                let d = around + Vector3::new(a as f64, b as f64, c as f64) * step;
                if d.norm() <= MAX_SHIFT_MM * 1.75 {
                    out.push((d, [a, b, c]));
                }
            }
        }
    }
    (n, out)
}

fn best_on_grid(
    s: &MovingView,
    moving: &Volume,
    around: Vector3<f64>,
    radius: f64,
    step: f64,
    ct: bool,
) -> Option<(Vector3<f64>, f64)> {
    let (n, grid) = search_grid(around, radius, step);
    let side = (2 * n + 1).max(1) as usize;
    // Candidates in search order; evaluated in groups of one (y, z) step, x varying.
    let mut cands = Vec::with_capacity(grid.len());
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); side * side];
    for (d, [_, b, c]) in grid {
        groups[(b + n) as usize * side + (c + n) as usize].push(cands.len());
        cands.push(d);
    }
    let mut vals = vec![None; cands.len()];
    let done: Vec<(usize, Option<f64>)> = groups
        .par_iter()
        .filter(|g| !g.is_empty())
        .flat_map_iter(|g| {
            let shifts: Vec<Vector3<f64>> = g.iter().map(|&i| cands[i]).collect();
            g.iter().copied().zip(ncc_group(s, moving, &shifts, ct))
        })
        .collect();
    for (i, v) in done {
        vals[i] = v;
    }
    // The first best in search order (ties keep the earlier shift).
    let mut best: Option<(Vector3<f64>, f64)> = None;
    for (d, v) in cands.iter().zip(vals) {
        if let Some(v) = v {
            if best.is_none_or(|(_, bv)| v > bv) {
                best = Some((*d, v));
            }
        }
    }
    best
}

/// Translation (world mm) such that `moving(p + t) ≈ fixed(p)` in the box around
/// `center`, with the correlation reached and the unshifted correlation.
pub fn estimate_translation(
    fixed: &Volume,
    moving: &Volume,
    center: &Point3<f64>,
    half_mm: f64,
    ct: bool,
) -> Option<(Vector3<f64>, f64, f64)> {
    let coarse_samples = fixed_samples(fixed, center, half_mm, 5.0, ct);
    let fine_samples = fixed_samples(fixed, center, half_mm, 2.5, ct);
    let coarse = MovingView::new(&coarse_samples, moving);
    let fine = MovingView::new(&fine_samples, moving);
    let zero = ncc(&fine, moving, &Vector3::zeros(), ct)?;
    let (c, _) = best_on_grid(&coarse, moving, Vector3::zeros(), MAX_SHIFT_MM, 3.0, ct)?;
    let (c, _) = best_on_grid(&fine, moving, c, 2.0, 1.0, ct)?;
    let (c, v) = best_on_grid(&fine, moving, c, 0.5, 0.5, ct)?;
    Some((c, v, zero))
}

/// Shifts of each dynamic phase relative to the reference volume, with notes. Phases
/// whose alignment could not be judged (or did not improve) keep a zero shift.
pub fn phase_shifts(
    volumes: &[Volume],
    dynamic: &[usize],
    reference_index: usize,
    center: &Point3<f64>,
    ct: bool,
) -> (Vec<(usize, Vector3<f64>)>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let Some(fixed) = volumes.get(reference_index) else {
        return (out, notes);
    };
    for &vi in dynamic {
        if vi == reference_index {
            continue;
        }
        let Some(moving) = volumes.get(vi) else { continue };
        match estimate_translation(fixed, moving, center, ROI_HALF_MM, ct) {
            Some((t, v, zero)) if t.norm() >= MIN_SHIFT_MM && v - zero >= MIN_NCC_GAIN => {
                notes.push(format!(
                    "registration: series {} shifted by ({:.1}, {:.1}, {:.1}) mm to the reference (correlation {:.3} → {:.3})",
                    moving.meta.series_instance_uid, t.x, t.y, t.z, zero, v
                ));
                out.push((vi, t));
            }
            Some(_) => {}
            None => notes.push(format!(
                "registration: series {} could not be aligned to the reference (too little overlap or contrast); used unshifted",
                moving.meta.series_instance_uid
            )),
        }
    }
    (out, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_volume::Geometry;
    use ndarray::Array3;

    /// A blobby CT-like volume: a few spheres of different HU on fat.
    fn scene(shift: Vector3<f64>, contrast: f32) -> Volume {
        let g = Geometry::axial(Point3::new(-60.0, -60.0, -40.0), [2.0, 2.0, 2.5]);
        let blobs = [
            (Point3::new(-20.0, -10.0, 0.0), 18.0, 60.0),
            (Point3::new(25.0, 10.0, 10.0), 12.0, 150.0 + contrast),
            (Point3::new(0.0, 30.0, -15.0), 10.0, 400.0),
            (Point3::new(10.0, -30.0, 20.0), 8.0, 40.0 + contrast),
        ];
        let data = Array3::from_shape_fn((33, 61, 61), |(k, j, i)| {
            let p = g.index_to_world([i as f64, j as f64, k as f64]) - shift;
            let mut v = -100.0f32;
            for (c, r, hu) in &blobs {
                if (p - c).norm() <= *r {
                    v = *hu;
                }
            }
            v
        });
        Volume::new(data, g, Default::default())
    }

    /// The correlation as it was computed before the fast paths: every sample through
    /// `trilinear`, skipped when outside or not finite.
    fn ncc_reference(s: &MovingView, moving: &Volume, o: [f64; 3], ct: bool) -> Option<f64> {
        let (mut sx, mut sy, mut sxx, mut syy, mut sxy, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
        for (b, &x) in s.base.iter().zip(s.values) {
            let Some(y) = trilinear(&moving.data, [b[0] + o[0], b[1] + o[1], b[2] + o[2]]) else {
                continue;
            };
            if !y.is_finite() {
                continue;
            }
            let (x, y) = (x as f64, clamp_value(y, ct) as f64);
            sx += x;
            sy += y;
            sxx += x * x;
            syy += y * y;
            sxy += x * y;
            n += 1;
        }
        finish((sx, sy, sxx, syy, sxy, n), s.base.len())
    }

    /// The grid search as it was: one correlation per shift (the original per-sample
    /// loop), the best by a parallel reduction keeping the earlier of equal values.
    fn best_on_grid_reference(
        s: &MovingView,
        moving: &Volume,
        around: Vector3<f64>,
        radius: f64,
        step: f64,
        ct: bool,
    ) -> Option<(Vector3<f64>, f64)> {
        let cands: Vec<Vector3<f64>> = search_grid(around, radius, step)
            .1
            .into_iter()
            .map(|c| c.0)
            .collect();
        cands
            .par_iter()
            .filter_map(|d| ncc_reference(s, moving, s.offset(d), ct).map(|v| (*d, v)))
            .reduce_with(|a, b| if b.1 > a.1 { b } else { a })
    }

    #[test]
    fn grouped_grid_search_picks_the_same_shift_and_value() {
        let fixed = scene(Vector3::zeros(), 0.0);
        let moving = scene(Vector3::new(2.0, -3.0, 6.0), 60.0);
        for (half, step, around, radius, grid) in [
            (30.0, 5.0, Vector3::zeros(), MAX_SHIFT_MM, 3.0),
            (30.0, 2.5, Vector3::new(3.0, -3.0, 6.0), 2.0, 1.0),
            (58.0, 2.5, Vector3::new(2.0, -3.0, 6.0), 0.5, 0.5),
        ] {
            for ct in [true, false] {
                let samples = fixed_samples(&fixed, &Point3::origin(), half, step, ct);
                let mut view = MovingView::new(&samples, &moving);
                assert!(view.axes.is_some(), "an axial grid takes the per-axis taps");
                let want = best_on_grid_reference(&view, &moving, around, radius, grid, ct);
                let got = best_on_grid(&view, &moving, around, radius, grid, ct);
                assert_eq!(
                    got.map(|(d, v)| (d, v.to_bits())),
                    want.map(|(d, v)| (d, v.to_bits())),
                    "half {half} grid {grid} ct {ct}"
                );
                view.axes = None;
                let per_point = best_on_grid(&view, &moving, around, radius, grid, ct);
                assert_eq!(
                    per_point.map(|(d, v)| (d, v.to_bits())),
                    want.map(|(d, v)| (d, v.to_bits())),
                    "per point: half {half} grid {grid} ct {ct}"
                );
            }
        }
    }

    /// Both fast paths give the original per-sample computation's correlation bit for bit:
    /// the unchecked one for shifts that keep every point inside, the per-point one near
    /// the edge (boxes reaching out of the grid) and around a non-finite voxel.
    #[test]
    fn inside_path_is_bit_identical_to_the_checked_one() {
        let fixed = scene(Vector3::zeros(), 0.0);
        let mut with_nan = scene(Vector3::new(2.0, -3.0, 6.0), 60.0);
        with_nan.data[[16, 28, 20]] = f32::NAN;
        for (half, step, nan) in [
            (30.0, 2.5, false),
            (20.0, 5.0, false),
            (58.0, 2.5, false),
            (30.0, 2.5, true),
        ] {
            let moving = match nan {
                true => with_nan.clone(),
                false => scene(Vector3::new(2.0, -3.0, 6.0), 60.0),
            };
            for ct in [true, false] {
                let samples = fixed_samples(&fixed, &Point3::origin(), half, step, ct);
                let view = MovingView::new(&samples, &moving);
                let (mut inside, mut outside) = (0, 0);
                for d in [-4.5, -1.3, 0.0, 0.25, 2.0, 7.7] {
                    for shift in [
                        Vector3::new(d, 0.3 * d, -d),
                        Vector3::new(0.0, d, 0.5),
                        Vector3::zeros(),
                    ] {
                        let o = view.offset(&shift);
                        let fast = match ct {
                            true => ncc_inside::<true>(&view, &moving, o),
                            false => ncc_inside::<false>(&view, &moving, o),
                        };
                        let checked = ncc_reference(&view, &moving, o, ct);
                        let edge = ncc_checked(&view, &moving, o, ct);
                        assert_eq!(edge.map(f64::to_bits), checked.map(f64::to_bits), "{shift:?}");
                        let got = ncc(&view, &moving, &shift, ct);
                        assert_eq!(got.map(f64::to_bits), checked.map(f64::to_bits), "{shift:?}");
                        match fast {
                            Some(sums) => {
                                inside += 1;
                                let f = finish(sums, view.base.len());
                                assert_eq!(f.map(f64::to_bits), checked.map(f64::to_bits));
                            }
                            None => outside += 1,
                        }
                    }
                }
                if nan {
                    assert!(outside > 0, "the NaN voxel was never sampled");
                } else if half < 50.0 {
                    assert!(inside > 0, "half {half}: the inside path never ran");
                } else {
                    assert!(outside > 0, "half {half}: no shift reached the edge");
                }
            }
        }
    }

    #[test]
    fn recovers_a_breathing_shift_across_phases() {
        let fixed = scene(Vector3::zeros(), 0.0);
        let t = Vector3::new(2.0, -3.0, 6.0);
        // The moving phase has different contrast in two structures.
        let moving = scene(t, 60.0);
        let (est, v, zero) =
            estimate_translation(&fixed, &moving, &Point3::origin(), 45.0, true).expect("overlap");
        assert!((est - t).norm() <= 1.0, "{est:?}");
        assert!(v > zero + MIN_NCC_GAIN);
        // No shift: stays at zero.
        let same = scene(Vector3::zeros(), 60.0);
        let (est, _, _) =
            estimate_translation(&fixed, &same, &Point3::origin(), 45.0, true).expect("overlap");
        assert!(est.norm() < MIN_SHIFT_MM, "{est:?}");
    }
}
