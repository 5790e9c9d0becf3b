//! Binary label maps on a grid, with their geometry.

use crate::{Geometry, Volume};
use nalgebra::Point3;
use ndarray::Array3;

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
        let s = self.shape();
        let mut out = Array3::from_elem(shape, false);
        for ((k, j, i), v) in out.indexed_iter_mut() {
            let x = t[(0, 0)] * i as f64 + t[(0, 1)] * j as f64 + t[(0, 2)] * k as f64 + t[(0, 3)];
            let y = t[(1, 0)] * i as f64 + t[(1, 1)] * j as f64 + t[(1, 2)] * k as f64 + t[(1, 3)];
            let z = t[(2, 0)] * i as f64 + t[(2, 1)] * j as f64 + t[(2, 2)] * k as f64 + t[(2, 3)];
            let (si, sj, sk) = (x.round(), y.round(), z.round());
            if si >= 0.0 && sj >= 0.0 && sk >= 0.0 {
                let (si, sj, sk) = (si as usize, sj as usize, sk as usize);
                if sk < s[0] && sj < s[1] && si < s[2] {
                    *v = self.data[[sk, sj, si]];
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

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
