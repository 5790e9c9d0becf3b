//! Binary label maps on a grid, with their geometry.

use crate::{sampling, Geometry, Volume};
use nalgebra::Matrix4;
use nalgebra::Point3;
use ndarray::{Array3, Axis};
use rayon::prelude::*;

/// A binary mask (`true` inside) on its own grid.
#[derive(Debug, Clone)]
pub struct Mask {
    /// `[slice, row, column]`.
    pub data: Array3<bool>,
    /// The grid the mask lies on.
    pub geometry: Geometry,
}

impl Mask {
    /// An empty mask on the grid of `like`.
    pub fn empty_like(like: &Volume) -> Self {
        Mask {
            data: Array3::from_elem(like.data.dim(), false),
            geometry: like.geometry.clone(),
        }
    }

    /// A mask of `data` on `geometry`.
    pub fn new(data: Array3<bool>, geometry: Geometry) -> Self {
        Mask { data, geometry }
    }

    /// `[slices, rows, columns]`.
    pub fn shape(&self) -> [usize; 3] {
        let s = self.data.shape();
        [s[0], s[1], s[2]]
    }

    /// Number of voxels set.
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&b| b).count()
    }

    /// Volume inside the mask, ml.
    pub fn volume_ml(&self) -> f64 {
        self.count() as f64 * self.geometry.voxel_volume_mm3() / 1000.0
    }

    /// Is the nearest voxel to a world point set?
    pub fn contains_world(&self, p: &Point3<f64>) -> bool {
        let [i, j, k] = self.geometry.world_to_index(p);
        let (i, j, k) = (i.round(), j.round(), k.round());
        let s = self.shape();
        if i < 0.0 || j < 0.0 || k < 0.0 {
            return false;
        }
        let (i, j, k) = (i as usize, j as usize, k as usize);
        k < s[0] && j < s[1] && i < s[2] && self.data[[k, j, i]]
    }

    /// Nearest-neighbour resampling onto another grid (label maps must not be blended).
    pub fn resample_onto(&self, target: &Geometry, shape: [usize; 3]) -> Mask {
        let m = target.affine();
        let inv = self.geometry.inverse();
        let t = inv * m; // target index → source index
        let mut out = Array3::from_elem(shape, false);
        if !nearest_axis_aligned(&self.data, &t, &mut out) {
            nearest_general(&self.data, &t, &mut out);
        }
        Mask {
            data: out,
            geometry: target.clone(),
        }
    }

    /// World centroid of the set voxels, `None` when empty.
    pub fn centroid(&self) -> Option<Point3<f64>> {
        let (mut sx, mut sy, mut sz, mut n) = (0.0, 0.0, 0.0, 0usize);
        for ((k, j, i), &b) in self.data.indexed_iter() {
            if b {
                sx += i as f64;
                sy += j as f64;
                sz += k as f64;
                n += 1;
            }
        }
        if n == 0 {
            return None;
        }
        let n = n as f64;
        Some(self.geometry.index_to_world([sx / n, sy / n, sz / n]))
    }
}

/// A label map read from a file (`--ivc-mask`, `--mass-mask`; see
/// `cavascope_ingest::labelmap`).
#[derive(Debug, Clone)]
pub struct LabelMask {
    /// The voxels taken.
    pub mask: Mask,
    /// What was taken, for the report ("label 63 of …").
    pub description: String,
    /// What was odd about the file (resampled, labels ignored…).
    pub warnings: Vec<String>,
}
/// Pack booleans bit by bit, least significant bit first, and pad to an even length: the
/// pixel data of a DICOM binary Segmentation (frames back to back, no padding between
/// them, PS3.5 8.1.1; a value of odd length gets one zero byte, PS3.5 7.1).
pub fn pack_bits(bits: &[bool]) -> Vec<u8> {
    let mut bytes = vec![0u8; bits.len().div_ceil(8)];
    for (n, b) in bits.iter().enumerate() {
        if *b {
            bytes[n / 8] |= 1 << (n % 8);
        }
    }
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    bytes
}

/// Nearest-neighbour resampling where the target's axes map onto the source's (`t`:
/// target index → source index, no rotation or shear): one source index per output
/// column, row and slice, computed once per axis with [`nearest_general`]'s arithmetic.
/// `false` (nothing written) when `t` rotates or shears.
fn nearest_axis_aligned(src: &Array3<bool>, t: &Matrix4<f64>, out: &mut Array3<bool>) -> bool {
    if !sampling::is_axis_aligned(t) {
        return false;
    }
    let ((nk, nj, ni), (ok, oj, oi)) = (src.dim(), out.dim());
    let nearest = |row: usize, n_out: usize, n_src: usize| -> Vec<Option<usize>> {
        (0..n_out)
            .map(|m| sampling::nearest_tap(t[(row, row)] * m as f64 + t[(row, 3)], n_src))
            .collect()
    };
    let (cols, rows, slices) = (nearest(0, oi, ni), nearest(1, oj, nj), nearest(2, ok, nk));
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(slices.par_iter())
        .for_each(|(mut plane, sk)| {
            let Some(sk) = *sk else { return };
            for (mut line, sj) in plane.axis_iter_mut(Axis(0)).zip(&rows) {
                let Some(sj) = *sj else { continue };
                for (v, si) in line.iter_mut().zip(&cols) {
                    if let Some(si) = *si {
                        *v = src[[sk, sj, si]];
                    }
                }
            }
        });
    true
}

/// Nearest-neighbour resampling for any affine `t` (target index → source index).
fn nearest_general(src: &Array3<bool>, t: &Matrix4<f64>, out: &mut Array3<bool>) {
    let n = src.dim();
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(k, mut plane)| {
            for ((j, i), v) in plane.indexed_iter_mut() {
                let [x, y, z] = sampling::source_index(t, i, j, k);
                let tap = |c, n| sampling::nearest_tap(c, n);
                if let (Some(si), Some(sj), Some(sk)) = (tap(x, n.2), tap(y, n.1), tap(z, n.0)) {
                    *v = src[[sk, sj, si]];
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The axis-aligned path against the general one: flipped axes, other spacings, a
    /// target reaching outside the source, odd sizes.
    #[test]
    fn axis_aligned_nearest_matches_the_general_path() {
        use nalgebra::Vector3;
        let g = Geometry::from_axes(
            Point3::new(-20.0, 13.0, 40.0),
            Vector3::new(1.0, 0.0, 0.0),
            Vector3::new(0.0, 1.0, 0.0),
            Vector3::new(0.0, 0.0, -1.0),
            [0.7, 0.9, 2.5],
        );
        let src = Array3::from_shape_fn((9, 11, 13), |(k, j, i)| (k * 7 + j * 3 + i * 5) % 4 == 0);
        for (origin, dx, spacing) in [
            (Point3::new(-21.3, 12.1, 41.7), 1.0, [0.5, 0.6, 1.1]),
            (Point3::new(-11.0, 20.0, 20.0), -1.0, [1.3, 0.4, 3.0]),
        ] {
            let tg = Geometry::from_axes(
                origin,
                Vector3::new(dx, 0.0, 0.0),
                Vector3::new(0.0, 1.0, 0.0),
                Vector3::new(0.0, 0.0, -1.0),
                spacing,
            );
            let t = g.inverse() * tg.affine();
            let (mut fast, mut general) = (
                Array3::from_elem((12, 17, 19), false),
                Array3::from_elem((12, 17, 19), false),
            );
            assert!(nearest_axis_aligned(&src, &t, &mut fast));
            nearest_general(&src, &t, &mut general);
            let set = general.iter().filter(|&&b| b).count();
            assert!(set > 5, "{set}");
            assert_eq!(fast, general);
        }
    }

    #[test]
    fn pack_bits_is_lsb_first_and_even() {
        // Bits 0 and 8 of nine set: 0x01, 0x01 (even already).
        let mut b = vec![false; 9];
        b[0] = true;
        b[8] = true;
        assert_eq!(pack_bits(&b), vec![0x01, 0x01]);
        // 1, 0, 1 → 0b101, then one zero byte to an even length.
        assert_eq!(pack_bits(&[true, false, true]), vec![0x05, 0x00]);
        assert!(pack_bits(&[]).is_empty());
    }
}
