//! Anatomy context from another tool: a label map on a grid with the name of every label
//! (TotalSegmentator's class names, e.g. `inferior_vena_cava`). The reader lives in
//! `cavascope-ingest` (`anatomy` module); the segment stage receives this value in its
//! options and takes from it what it can use (the IVC, organs, vessels, vertebral levels).

use crate::{Geometry, Mask, Point3};
use ndarray::Array3;
use rayon::prelude::*;

/// TotalSegmentator class names the pipeline asks for by name.
pub mod names {
    /// The inferior vena cava.
    pub const IVC: &str = "inferior_vena_cava";
    /// The aorta.
    pub const AORTA: &str = "aorta";
    /// The portal and splenic veins (one class).
    pub const PORTAL_SPLENIC_VEIN: &str = "portal_vein_and_splenic_vein";
    /// The liver.
    pub const LIVER: &str = "liver";
    /// The left kidney.
    pub const KIDNEY_LEFT: &str = "kidney_left";
    /// The right kidney.
    pub const KIDNEY_RIGHT: &str = "kidney_right";
    /// The spleen.
    pub const SPLEEN: &str = "spleen";
    /// The pancreas.
    pub const PANCREAS: &str = "pancreas";
    /// Vertebra class names are `vertebrae_<LEVEL>` (`vertebrae_L1`, `vertebrae_T12`, `vertebrae_S1`).
    pub const VERTEBRA_PREFIX: &str = "vertebrae_";
}

/// A label map with named labels, on its own grid (LPS).
#[derive(Debug, Clone)]
pub struct Anatomy {
    /// Label values, `[slice, row, column]`; 0 is background.
    pub labels: Array3<u16>,
    /// The grid of the labels.
    pub geometry: Geometry,
    /// `(label value, class name)` of every label present.
    pub classes: Vec<(u16, String)>,
    /// Where it came from, for the report ("TotalSegmentator total task, FILE").
    pub source: String,
}

impl Anatomy {
    /// `[slices, rows, columns]`.
    pub fn shape(&self) -> [usize; 3] {
        let (k, j, i) = self.labels.dim();
        [k, j, i]
    }

    /// The label value of a class, if present.
    pub fn id(&self, name: &str) -> Option<u16> {
        self.classes.iter().find(|(_, n)| n == name).map(|(v, _)| *v)
    }

    /// The voxels of one class (`None` when absent or empty).
    pub fn mask(&self, name: &str) -> Option<Mask> {
        let id = self.id(name)?;
        let m = Mask::new(self.labels.mapv(|v| v == id), self.geometry.clone());
        (m.count() > 0).then_some(m)
    }

    /// Vertebral levels present, `(level, centroid)`, ordered from head to feet by LPS z
    /// (e.g. `("T12", …)`, `("L1", …)`).
    pub fn vertebra_levels(&self) -> Vec<(String, Point3<f64>)> {
        let mut v: Vec<(String, Point3<f64>)> = self
            .classes
            .iter()
            .filter_map(|(_, n)| {
                let level = n.strip_prefix(names::VERTEBRA_PREFIX)?;
                let c = self.mask(n)?.centroid()?;
                Some((level.to_string(), c))
            })
            .collect();
        v.sort_by(|a, b| b.1.z.total_cmp(&a.1.z));
        v
    }

    /// The same labels on another grid (nearest neighbour; outside the source grid is 0).
    /// Classes whose every voxel fell outside are dropped from `classes`.
    pub fn resampled_onto(&self, target: &Geometry, shape: [usize; 3]) -> Anatomy {
        let [nk, nj, ni] = shape;
        let (sk, sj, si) = self.labels.dim();
        let map = self.geometry.inverse() * target.affine();
        let mut out = Array3::<u16>::zeros((nk, nj, ni));
        let src = &self.labels;
        out.axis_iter_mut(ndarray::Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(k, mut plane)| {
                for j in 0..nj {
                    for i in 0..ni {
                        let x = [i as f64, j as f64, k as f64];
                        let idx = |r: usize| {
                            map[(r, 0)] * x[0] + map[(r, 1)] * x[1] + map[(r, 2)] * x[2] + map[(r, 3)]
                        };
                        let (a, b, c) = (idx(0).round(), idx(1).round(), idx(2).round());
                        if a >= 0.0
                            && b >= 0.0
                            && c >= 0.0
                            && (a as usize) < si
                            && (b as usize) < sj
                            && (c as usize) < sk
                        {
                            plane[[j, i]] = src[[c as usize, b as usize, a as usize]];
                        }
                    }
                }
            });
        let mut seen = vec![false; u16::MAX as usize + 1];
        for &v in out.iter() {
            seen[v as usize] = true;
        }
        Anatomy {
            labels: out,
            geometry: target.clone(),
            classes: self
                .classes
                .iter()
                .filter(|(v, _)| seen[*v as usize])
                .cloned()
                .collect(),
            source: self.source.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resample_keeps_labels_in_world_space() {
        let g = Geometry::axial(Point3::new(0.0, 0.0, 0.0), [2.0, 2.0, 2.0]);
        let mut labels = Array3::<u16>::zeros((4, 4, 4));
        labels[[1, 1, 1]] = 63;
        labels[[3, 3, 3]] = 52;
        let a = Anatomy {
            labels,
            geometry: g,
            classes: vec![(63, names::IVC.into()), (52, names::AORTA.into())],
            source: "test".into(),
        };
        // A 1 mm grid over the first 4 mm: holds the IVC voxel (2 mm), not the aorta (6 mm).
        let t = Geometry::axial(Point3::new(0.0, 0.0, 0.0), [1.0, 1.0, 1.0]);
        let r = a.resampled_onto(&t, [4, 4, 4]);
        assert_eq!(r.labels[[2, 2, 2]], 63);
        assert_eq!(r.labels[[0, 0, 0]], 0);
        assert_eq!(r.id(names::AORTA), None);
        assert_eq!(r.mask(names::IVC).map(|m| m.count()), Some(8));
    }
}
