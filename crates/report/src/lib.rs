//! Findings → the files a radiologist or a script opens: `report.json` (schema v1,
//! `shared/spec/report-v1.md`), a self-contained `report.html`, `measurements.csv`,
//! `overlays/*.png`, `curves.png` and the IVC and mass label maps as NIfTI.
//!
//! - [`model`]: the serde structs of report.json; [`build_report`]: assembling them;
//!   [`schema`]: the JSON Schema and a validator.
//! - Inside: `overlay` (axial/coronal/sagittal views with outlines), `plots` (charts),
//!   `html` (the page), `write` ([`write_outputs`]: atomic writes of the whole folder).
//!
//! A research aid: biopsy decides.
//!
//! ```
//! use cavascope_report::{build_report, write_report_json};
//! let m = cavascope_measurements::Measurements::default();
//! let f = cavascope_features::evaluate(&m, &Default::default());
//! let study = cavascope_ingest::Study::default();
//! let r = build_report(&study, &m, &f, "0.1.0", &[]);
//! assert_eq!(r.schema_version, 1);
//! assert_eq!(r.signs.len(), 13);
//! let dir = tempfile::tempdir()?;
//! let path = write_report_json(dir.path(), &r)?;
//! assert!(path.ends_with("report.json"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod build;
mod html;
pub mod model;
mod overlay;
mod plots;
pub mod schema;
mod write;

pub use build::{build_report, failed_report};
pub use model::{Report, Timings, SCHEMA_VERSION};
pub use overlay::{IVC_COLOUR, MASS_COLOUR};
pub use write::{
    enlarged_collaterals_mask, measurements_csv, reference_volume, write_atomic, write_outputs,
    write_report_json,
};

use std::path::PathBuf;
use thiserror::Error;

/// Errors writing the output folder.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A file or folder that cannot be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The report cannot be turned into JSON.
    #[error("{path}: cannot serialise report: {reason}")]
    Json {
        /// The file being written.
        path: PathBuf,
        /// What serde said.
        reason: String,
    },
    /// measurements.csv cannot be written.
    #[error("measurements.csv: {reason}")]
    Csv {
        /// What the CSV writer said.
        reason: String,
    },
}
