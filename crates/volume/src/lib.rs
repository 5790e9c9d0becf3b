//! Voxels with exact patient geometry.
//!
//! A [`Volume`] is a 3D array of `f32` in modality units (Hounsfield units for CT after
//! rescale, scanner units for MRI) together with a [`Geometry`]: a 4×4 affine from voxel
//! index to DICOM patient coordinates (LPS, millimetres). The affine keeps shear, so a
//! gantry-tilted CT stays exact. Nothing here knows about DICOM: this crate is what every
//! later stage (segmentation, features, reports, phantoms) shares.
//!
//! Conventions, used everywhere in cavascope:
//! - the array is indexed `[slice, row, column]` (`[k, j, i]`), C order;
//! - a voxel *index* is written `[i, j, k]` = `[column, row, slice]`, as in DICOM and NIfTI;
//! - world points are LPS mm: +x patient left, +y posterior, +z head.
//!
//! ```
//! use cavascope_volume::{Geometry, Volume};
//! use nalgebra::{Point3, Vector3};
//!
//! // 10 slices of 20 × 30 voxels, 0.8 mm in-plane, 2.5 mm between slices, axial.
//! let g = Geometry::from_axes(
//!     Point3::new(-100.0, -50.0, 20.0),
//!     Vector3::x(), Vector3::y(), Vector3::z(),
//!     [0.8, 0.8, 2.5],
//! );
//! let v = Volume::filled([10, 20, 30], g, 40.0);
//! let p = v.geometry.index_to_world([2.0, 3.0, 4.0]);
//! assert!((p.z - 30.0).abs() < 1e-9);
//! assert_eq!(v.sample_world(&p), Some(40.0));
//! ```

#![warn(missing_docs)]

pub mod anatomy;
pub mod bids;
pub mod geometry;
pub mod mask;
pub mod meta;
pub mod nifti_io;
pub mod nrrd_io;
pub mod sampling;

pub use anatomy::Anatomy;
pub use geometry::Geometry;
pub use mask::{LabelMask, Mask};
pub use meta::VolumeMeta;
pub use nalgebra::{Matrix4, Point3, Vector3};
pub use ndarray::Array3;

use thiserror::Error;

/// Errors of the volume crate.
#[derive(Debug, Error)]
pub enum VolumeError {
    /// The axes or spacing give no invertible affine.
    #[error("geometry is degenerate: {0}")]
    DegenerateGeometry(String),
    /// The array does not fit the geometry or the other arrays.
    #[error("array shape {shape:?} does not match geometry: {why}")]
    ShapeMismatch {
        /// The array's shape.
        shape: [usize; 3],
        /// What it should be.
        why: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A NIfTI file that cannot be read or written.
    #[error("{path}: NIfTI: {why}")]
    Nifti {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        why: String,
    },
    /// A NRRD file that cannot be read.
    #[error("{path}: NRRD: {why}")]
    Nrrd {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        why: String,
    },
    /// A BIDS JSON sidecar that cannot be read or written.
    #[error("{path}: JSON sidecar: {why}")]
    Sidecar {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        why: String,
    },
}

/// A 3D image in modality units with its patient geometry and series metadata.
#[derive(Debug, Clone)]
pub struct Volume {
    /// Voxels, `[slice, row, column]`.
    pub data: Array3<f32>,
    /// Voxel index `[i, j, k]` → LPS mm.
    pub geometry: Geometry,
    /// What later stages need to know about where the voxels came from.
    pub meta: VolumeMeta,
}

impl Volume {
    /// A volume of `shape = [slices, rows, columns]` with every voxel set to `value`.
    pub fn filled(shape: [usize; 3], geometry: Geometry, value: f32) -> Self {
        Volume {
            data: Array3::from_elem(shape, value),
            geometry,
            meta: VolumeMeta::default(),
        }
    }

    /// Wrap an existing array.
    pub fn new(data: Array3<f32>, geometry: Geometry, meta: VolumeMeta) -> Self {
        Volume { data, geometry, meta }
    }

    /// `[slices, rows, columns]`.
    pub fn shape(&self) -> [usize; 3] {
        let s = self.data.shape();
        [s[0], s[1], s[2]]
    }

    /// `[columns, rows, slices]`, the order DICOM and NIfTI use for dimensions.
    pub fn dims_ijk(&self) -> [usize; 3] {
        let [k, j, i] = self.shape();
        [i, j, k]
    }

    /// Trilinear sample at a world point (LPS mm); `None` outside the volume.
    pub fn sample_world(&self, p: &Point3<f64>) -> Option<f32> {
        let idx = self.geometry.world_to_index(p);
        sampling::trilinear(&self.data, idx)
    }

    /// Nearest voxel value at a world point; `None` outside.
    pub fn nearest_world(&self, p: &Point3<f64>) -> Option<f32> {
        let idx = self.geometry.world_to_index(p);
        sampling::nearest(&self.data, idx)
    }

    /// Resample onto another grid (trilinear), e.g. to compare phases voxel by voxel in
    /// world space. Points outside this volume get `fill`.
    pub fn resample_onto(&self, target: &Geometry, shape: [usize; 3], fill: f32) -> Volume {
        let data = sampling::resample(&self.data, &self.geometry, target, shape, fill);
        Volume {
            data,
            geometry: target.clone(),
            meta: self.meta.clone(),
        }
    }

    /// World coordinates of the centre of voxel `[k, j, i]` (array order).
    pub fn voxel_center(&self, kji: [usize; 3]) -> Point3<f64> {
        self.geometry
            .index_to_world([kji[2] as f64, kji[1] as f64, kji[0] as f64])
    }
}
