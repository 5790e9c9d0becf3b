//! The anatomy measured: the IVC (segmentation, centreline, calibre every mm, lumen
//! visibility, landmarks), the mass (extent, relation to the IVC, enhancement across
//! phases), venous collaterals, and MRI signal ratios and ADC.
//!
//! Input is the study's volumes (each with its [`VolumeMeta`](cavascope_volume::VolumeMeta));
//! output is a plain [`Measurements`] value that the `features` stage turns into signs.
//! Every phase is compared in world space (LPS mm), never by voxel index.
//!
//! ```no_run
//! use cavascope_segment::{measure, SegmentOptions};
//! # let volumes: Vec<cavascope_volume::Volume> = vec![];
//! let m = measure(&volumes, &SegmentOptions::default());
//! if let Some(ivc) = &m.ivc {
//!     println!("IVC max diameter {:?} mm", ivc.max_equivalent_diameter_mm);
//! }
//! ```

pub mod calibre;
pub mod centreline;
pub mod ivc;
pub mod labelmap;
pub mod landmarks;
pub mod lumen;
pub mod enhancement;
pub mod mass;
pub mod mass_auto;
pub mod model;
pub mod morph;
pub mod mr;
pub mod phases;
pub mod registration;
pub mod stack;
pub mod track;
pub mod vesselness;

pub use model::*;

use cavascope_volume::Volume;
use thiserror::Error;

/// Errors of the segment stage. A measurement that cannot be made is a `None` plus a
/// warning in [`Measurements::warnings`]; these errors are for unusable inputs.
#[derive(Debug, Error)]
pub enum SegmentError {
    #[error("{path}: cannot read label map: {reason}")]
    MaskRead {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("no usable volume: {0}")]
    NoVolume(String),
}

/// Run every measurement of the stage on a study's volumes.
pub fn measure(_volumes: &[Volume], _opts: &SegmentOptions) -> Measurements {
    Measurements::default()
}
