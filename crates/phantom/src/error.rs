//! The crate's error type: every variant names the file it concerns.

use std::path::PathBuf;
use thiserror::Error;

/// Errors of phantom writing and truth loading. Generation itself cannot fail.
#[derive(Debug, Error)]
pub enum PhantomError {
    /// A file or folder that cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A `truth.json` that cannot be written or parsed.
    #[error("{path}: truth.json: {source}")]
    Json {
        /// The truth file.
        path: PathBuf,
        /// What serde said.
        source: serde_json::Error,
    },
    /// A DICOM file that cannot be encoded (or, for a background, read).
    #[error("{path}: DICOM: {message}")]
    Dicom {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A case name that is not one of [`crate::CaseName::all`].
    #[error("unknown case {0:?} (known: normal, ivc_leiomyosarcoma, cholangiocarcinoma_mimic, extrinsic_compression, liposarcoma, hcc_washout, mri_leiomyosarcoma)")]
    UnknownCase(String),
    /// Inputs that cannot make a study (e.g. a background the hybrid phantom cannot use).
    #[error("{0}")]
    Invalid(String),
}

impl PhantomError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PhantomError::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn dicom(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        PhantomError::Dicom {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
