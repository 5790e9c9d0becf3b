//! Writing a phantom study as DICOM files with `truth.json` beside them.

use crate::{PhantomError, PhantomStudy};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Transfer syntax of the written files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferSyntax {
    ExplicitLE,
    ImplicitLE,
    Deflate,
    JpegLsLossless,
}

/// File layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// `series_NN_role/IMG0001.dcm`.
    Ordered,
    /// Random-looking nested folders and names without extension, as a PACS export.
    PacsRandomNested,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteOptions {
    pub transfer_syntax: TransferSyntax,
    pub naming: Naming,
    /// Add non-DICOM files, a truncated file, a duplicate and a localizer.
    pub junk: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            transfer_syntax: TransferSyntax::ExplicitLE,
            naming: Naming::Ordered,
            junk: false,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenStudy {
    pub dir: PathBuf,
    pub truth_path: PathBuf,
    /// Image files per series (same order as the study's volumes), in slice order.
    pub series_files: Vec<Vec<PathBuf>>,
    /// Junk files added on purpose.
    pub junk_files: Vec<PathBuf>,
}

/// Write bytes to `path` via a temporary name in the same folder, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PhantomError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| PhantomError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| PhantomError::io(path, e))
}

/// Write the study's DICOM files and `truth.json` into `out_dir` (created if needed).
pub fn write_study(
    study: &PhantomStudy,
    out_dir: &Path,
    _w: &WriteOptions,
) -> Result<WrittenStudy, PhantomError> {
    std::fs::create_dir_all(out_dir).map_err(|e| PhantomError::io(out_dir, e))?;
    let truth_path = out_dir.join("truth.json");
    study.truth.save(&truth_path)?;
    Err(PhantomError::Invalid(
        "DICOM writing is not implemented yet (truth.json was written)".into(),
    ))
}
