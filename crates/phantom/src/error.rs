//! The crate's error type: every variant names the file it concerns.

use std::path::PathBuf;
use thiserror::Error;

/// Errors of phantom writing and truth loading. Generation itself cannot fail.
#[derive(Debug, Error)]
pub enum PhantomError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: truth.json: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: DICOM: {message}")]
    Dicom { path: PathBuf, message: String },
    #[error("unknown case {0:?} (known: normal, ivc_leiomyosarcoma, cholangiocarcinoma_mimic, extrinsic_compression, liposarcoma, hcc_washout, mri_leiomyosarcoma)")]
    UnknownCase(String),
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
