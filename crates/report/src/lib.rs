//! Findings → the files a radiologist or a script opens: `report.json` (schema v1,
//! `shared/spec/report-v1.md`), a self-contained `report.html`, `measurements.csv`,
//! `overlays/*.png`, `curves.png` and the IVC and mass label maps as NIfTI.
//!
//! - [`model`]: the serde structs of report.json; [`build`]: assembling them.
//! - [`overlay`]: axial/coronal/sagittal views with outlines; [`plots`]: charts.
//! - [`html`]: the page; [`write`]: atomic writes of the whole folder.
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

pub mod build;
pub mod html;
pub mod model;
pub mod overlay;
pub mod plots;
pub mod schema;
pub mod write;

pub use build::{build_report, failed_report};
pub use model::{Report, Timings, SCHEMA_VERSION};
pub use write::{
    enlarged_collaterals_mask, measurements_csv, write_atomic, write_outputs, write_report_json,
};

use std::path::PathBuf;
use thiserror::Error;

/// Errors writing the output folder.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot serialise report: {reason}")]
    Json { path: PathBuf, reason: String },
    #[error("measurements.csv: {reason}")]
    Csv { reason: String },
}
