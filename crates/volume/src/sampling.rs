//! Trilinear and nearest sampling, and resampling between grids.

use crate::Geometry;
use ndarray::{Array3, Axis};
use rayon::prelude::*;

/// Trilinear interpolation at a continuous index `[i, j, k]`; `None` when outside the
/// grid by more than half a voxel. Edges clamp (the half voxel at the border).
#[inline]
pub fn trilinear(data: &Array3<f32>, ijk: [f64; 3]) -> Option<f32> {
    let (nk, nj, ni) = data.dim();
    let [x, y, z] = ijk;
    let (x0, x1, fx) = axis_tap(x, ni)?;
    let (y0, y1, fy) = axis_tap(y, nj)?;
    let (z0, z1, fz) = axis_tap(z, nk)?;
    // This is the innermost loop of registration, resampling and stack building: on a
    // contiguous array, flat offsets instead of three checked indices per corner.
    let corners = match data.as_slice() {
        Some(s) => corners_at(s, [z0 * nj * ni, z1 * nj * ni], [y0 * ni, y1 * ni], [x0, x1]),
        None => {
            let c = |k, j, i| data[[k, j, i]];
            [
                c(z0, y0, x0),
                c(z0, y0, x1),
                c(z0, y1, x0),
                c(z0, y1, x1),
                c(z1, y0, x0),
                c(z1, y0, x1),
                c(z1, y1, x0),
                c(z1, y1, x1),
            ]
        }
    };
    Some(blend8(corners, [fx, fy, fz]))
}

/// A cell's eight corners from a contiguous array, in [`blend8`]'s order, given the flat
/// offsets of its two slices and two rows and the indices of its two columns.
#[inline(always)]
fn corners_at(s: &[f32], [p0, p1]: [usize; 2], [r0, r1]: [usize; 2], [x0, x1]: [usize; 2]) -> [f32; 8] {
    [
        s[p0 + r0 + x0],
        s[p0 + r0 + x1],
        s[p0 + r1 + x0],
        s[p0 + r1 + x1],
        s[p1 + r0 + x0],
        s[p1 + r0 + x1],
        s[p1 + r1 + x0],
        s[p1 + r1 + x1],
    ]
}

/// The trilinear blend of a cell's eight corners — `[c000, c001, c010, c011, c100, c101,
/// c110, c111]`, the last digit along x — with the upper corners' weights `[fx, fy, fz]`:
/// along x, then y, then z. Every trilinear sample in the project goes through here, so
/// the fast paths give the same bits as [`trilinear`].
#[inline(always)]
pub fn blend8(c: [f32; 8], [fx, fy, fz]: [f32; 3]) -> f32 {
    let [c000, c001, c010, c011, c100, c101, c110, c111] = c;
    let c00 = c000 * (1.0 - fx) + c001 * fx;
    let c01 = c010 * (1.0 - fx) + c011 * fx;
    let c10 = c100 * (1.0 - fx) + c101 * fx;
    let c11 = c110 * (1.0 - fx) + c111 * fx;
    let c0 = c00 * (1.0 - fy) + c01 * fy;
    let c1 = c10 * (1.0 - fy) + c11 * fy;
    c0 * (1.0 - fz) + c1 * fz
}

/// Nearest source index along one axis of `n` samples at continuous index `c`; `None`
/// outside (or not finite).
#[inline]
pub(crate) fn nearest_tap(c: f64, n: usize) -> Option<usize> {
    let c = c.round();
    (c >= 0.0 && (c as usize) < n).then_some(c as usize)
}

/// Nearest voxel at a continuous index `[i, j, k]`.
#[inline]
pub fn nearest(data: &Array3<f32>, ijk: [f64; 3]) -> Option<f32> {
    let (nk, nj, ni) = data.dim();
    let [x, y, z] = ijk;
    Some(data[[nearest_tap(z, nk)?, nearest_tap(y, nj)?, nearest_tap(x, ni)?]])
}

/// Resample `src` (on `src_geom`) onto `target` with `shape = [slices, rows, cols]`,
/// trilinear, slices in parallel. Points outside the source get `fill`.
pub fn resample(
    src: &Array3<f32>,
    src_geom: &Geometry,
    target: &Geometry,
    shape: [usize; 3],
    fill: f32,
) -> Array3<f32> {
    let t = src_geom.inverse() * target.affine();
    // Zeroed memory is mapped lazily: every voxel is written once below, in parallel, so
    // the pages are first touched by the threads that fill them (a `from_elem` here
    // wrote the whole output once on the calling thread first).
    let mut out = Array3::zeros(shape);
    match AxisAligned::new(&t, src, shape) {
        Some(axes) => axes.fill(src, &mut out, fill),
        None => resample_general(src, &t, &mut out, fill),
    }
    out
}

/// [`resample`] for any affine `t` (target index → source index): one [`trilinear`] per
/// output voxel.
fn resample_general(src: &Array3<f32>, t: &nalgebra::Matrix4<f64>, out: &mut Array3<f32>, fill: f32) {
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(k, mut plane)| {
            for ((j, i), v) in plane.indexed_iter_mut() {
                *v = trilinear(src, source_index(t, i, j, k)).unwrap_or(fill);
            }
        });
}

/// The continuous source index of target voxel `(i, j, k)` under `t` (target index →
/// source index), summed term by term (the per-voxel paths' arithmetic).
#[inline]
pub(crate) fn source_index(t: &nalgebra::Matrix4<f64>, i: usize, j: usize, k: usize) -> [f64; 3] {
    let (fi, fj, fk) = (i as f64, j as f64, k as f64);
    [0, 1, 2].map(|r| t[(r, 0)] * fi + t[(r, 1)] * fj + t[(r, 2)] * fk + t[(r, 3)])
}

/// `t` maps each target axis onto the same source axis (no rotation or shear): its
/// off-diagonal terms are exactly zero, so each source coordinate depends on one target
/// index only.
pub(crate) fn is_axis_aligned(t: &nalgebra::Matrix4<f64>) -> bool {
    let off_diagonal = [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)];
    off_diagonal.iter().all(|&rc| t[rc] == 0.0)
}

/// One output index's interpolation along one axis: the lower source index, the upper one
/// and the weight of the upper, or `None` where the sample falls outside the source by
/// more than half a voxel (edges clamp) — [`trilinear`]'s rule on each axis.
type AxisTap = Option<(usize, usize, f32)>;

#[inline]
fn axis_tap(c: f64, n: usize) -> AxisTap {
    if n == 0 || !c.is_finite() || c < -0.5 || c > n as f64 - 0.5 {
        return None;
    }
    let c = c.clamp(0.0, (n - 1) as f64);
    // Non-negative after the clamp: truncation is the floor (and avoids a libm call on
    // targets without SSE4.1 rounding).
    let c0 = c as usize;
    Some((c0, (c0 + 1).min(n - 1), (c - c0 as f64) as f32))
}

/// [`resample`] where the target's axes map onto the source's (no rotation or shear
/// between the grids, the usual case between phases of one study): each output column,
/// row and slice then has one source position, so the per-axis taps are computed once per
/// axis instead of once per voxel. The arithmetic is [`trilinear`]'s, in its order, so
/// the result is bit-identical to the general path.
struct AxisAligned {
    cols: Vec<AxisTap>,
    rows: Vec<AxisTap>,
    slices: Vec<AxisTap>,
}

impl AxisAligned {
    /// `t` maps target index → source index. `None` when it rotates or shears, or the
    /// source is empty or not in standard layout (the general path handles those).
    fn new(t: &nalgebra::Matrix4<f64>, src: &Array3<f32>, shape: [usize; 3]) -> Option<Self> {
        if !is_axis_aligned(t) || !src.is_standard_layout() {
            return None;
        }
        let (nk, nj, ni) = src.dim();
        if nk == 0 || nj == 0 || ni == 0 {
            return None;
        }
        // The general path computes t·(i, j, k, 1) term by term; with the off-diagonal
        // terms exactly zero each coordinate reduces to one product plus the offset.
        let taps = |row: usize, n_out: usize, n_src: usize| -> Vec<AxisTap> {
            (0..n_out)
                .map(|m| axis_tap(t[(row, row)] * m as f64 + t[(row, 3)], n_src))
                .collect()
        };
        Some(Self {
            cols: taps(0, shape[2], ni),
            rows: taps(1, shape[1], nj),
            slices: taps(2, shape[0], nk),
        })
    }

    /// Write every voxel of `out`: the blend, or `fill` outside the source.
    fn fill(&self, src: &Array3<f32>, out: &mut Array3<f32>, fill: f32) {
        let (_, nj, ni) = src.dim();
        let Some(s) = src.as_slice() else {
            out.fill(fill);
            return;
        };
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(self.slices.par_iter())
            .for_each(|(mut plane, zt)| {
                let Some((z0, z1, fz)) = *zt else {
                    plane.fill(fill);
                    return;
                };
                let (p0, p1) = (z0 * nj * ni, z1 * nj * ni);
                for (mut line, yt) in plane.axis_iter_mut(Axis(0)).zip(&self.rows) {
                    let Some((y0, y1, fy)) = *yt else {
                        line.fill(fill);
                        continue;
                    };
                    let (r0, r1) = (y0 * ni, y1 * ni);
                    for (v, xt) in line.iter_mut().zip(&self.cols) {
                        let Some((x0, x1, fx)) = *xt else {
                            *v = fill;
                            continue;
                        };
                        *v = blend8(corners_at(s, [p0, p1], [r0, r1], [x0, x1]), [fx, fy, fz]);
                    }
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use crate::{Geometry, Volume};
    use nalgebra::{Point3, Vector3};

    /// The axis-aligned fast path against the general per-voxel path, bit for bit: flipped
    /// and swapped-sign axes, other spacings, a target reaching outside the source on every
    /// side, odd sizes.
    #[test]
    fn axis_aligned_resample_is_bit_identical_to_the_general_path() {
        let src_g = Geometry::from_axes(
            Point3::new(-20.0, 13.0, 40.0),
            Vector3::new(1.0, 0.0, 0.0),
            Vector3::new(0.0, 1.0, 0.0),
            Vector3::new(0.0, 0.0, -1.0),
            [0.7, 0.9, 2.5],
        );
        let shape = [9usize, 11, 13];
        let mut v = Volume::filled(shape, src_g.clone(), 0.0);
        let mut x = 12345u32;
        v.data.mapv_inplace(|_| {
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            (x >> 8) as f32 / 65536.0 - 100.0
        });
        for (origin, dx, dz, spacing) in [
            (Point3::new(-21.3, 12.1, 41.7), 1.0, -1.0, [0.5, 0.6, 1.1]),
            (Point3::new(-11.0, 20.0, 20.0), -1.0, 1.0, [1.3, 0.4, 3.0]),
            (Point3::new(-20.0, 13.0, 40.0), 1.0, -1.0, [0.7, 0.9, 2.5]),
        ] {
            let tg = Geometry::from_axes(
                origin,
                Vector3::new(dx, 0.0, 0.0),
                Vector3::new(0.0, 1.0, 0.0),
                Vector3::new(0.0, 0.0, dz),
                spacing,
            );
            let out_shape = [12, 17, 19];
            let fast = super::resample(&v.data, &src_g, &tg, out_shape, f32::NAN);
            let t = src_g.inverse() * tg.affine();
            assert!(super::AxisAligned::new(&t, &v.data, out_shape).is_some());
            let mut general = ndarray::Array3::<f32>::zeros(out_shape);
            super::resample_general(&v.data, &t, &mut general, f32::NAN);
            let inside = general.iter().filter(|x| x.is_finite()).count();
            assert!(inside > 100 && inside < general.len(), "{inside}");
            for (a, b) in fast.iter().zip(general.iter()) {
                assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }

    fn ramp() -> Volume {
        // value = world x + 2 y + 3 z: trilinear reproduces a linear field exactly.
        let g = Geometry::from_axes(
            Point3::new(-5.0, 3.0, 10.0),
            Vector3::new(0.0, 1.0, 0.0),
            Vector3::new(-1.0, 0.0, 0.0),
            Vector3::new(0.0, 0.0, -1.0),
            [0.5, 0.75, 2.0],
        );
        let mut v = Volume::filled([8, 9, 10], g, 0.0);
        let geom = v.geometry.clone();
        for ((k, j, i), x) in v.data.indexed_iter_mut() {
            let p = geom.index_to_world([i as f64, j as f64, k as f64]);
            *x = (p.x + 2.0 * p.y + 3.0 * p.z) as f32;
        }
        v
    }

    #[test]
    fn trilinear_reproduces_linear_field() {
        let v = ramp();
        let p = v.geometry.index_to_world([3.3, 4.7, 2.25]);
        let s = v.sample_world(&p).expect("inside");
        assert!((s as f64 - (p.x + 2.0 * p.y + 3.0 * p.z)).abs() < 1e-3);
        assert!(v.sample_world(&Point3::new(1000.0, 0.0, 0.0)).is_none());
    }

    #[test]
    fn trilinear_same_on_any_memory_layout() {
        // The flat-offset path (standard layout) and the indexed path (any other layout)
        // must agree exactly, at the edges' half voxel too.
        use ndarray::{Array3, ShapeBuilder};
        let (nk, nj, ni) = (5, 6, 7);
        let f = |k: usize, j: usize, i: usize| ((k * 31 + j * 7 + i * 3) % 17) as f32 - 4.0;
        let c = Array3::from_shape_fn((nk, nj, ni), |(k, j, i)| f(k, j, i));
        let fortran = Array3::from_shape_fn((nk, nj, ni).f(), |(k, j, i)| f(k, j, i));
        assert!(c.as_slice().is_some() && fortran.as_slice().is_none());
        for t in 0..500 {
            let u = |a: u64, n: usize| ((t as u64 * a) % 1000) as f64 / 1000.0 * (n as f64 + 1.2) - 0.6;
            let ijk = [u(389, ni), u(613, nj), u(877, nk)];
            let (a, b) = (super::trilinear(&c, ijk), super::trilinear(&fortran, ijk));
            assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "{ijk:?}");
        }
        assert_eq!(super::trilinear(&c, [1.0, 2.0, 3.0]), Some(f(3, 2, 1)));
    }

    #[test]
    fn resample_onto_axial_grid() {
        let v = ramp();
        let target = Geometry::axial(Point3::new(-3.0, -2.0, -2.0), [1.0, 1.0, 1.0]);
        let r = v.resample_onto(&target, [4, 3, 3], f32::NAN);
        for ((k, j, i), x) in r.data.indexed_iter() {
            let p = target.index_to_world([i as f64, j as f64, k as f64]);
            if v.geometry.contains(&p, v.shape()) {
                assert!(
                    (*x as f64 - (p.x + 2.0 * p.y + 3.0 * p.z)).abs() < 1e-3,
                    "{k} {j} {i}"
                );
            }
        }
    }
}
