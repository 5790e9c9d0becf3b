//! Measurements → the 13 differentiating signs of IVC leiomyosarcoma (each with state,
//! value, threshold, explanation and literature source) → a transparent differential.
//!
//! A research aid: biopsy decides.
//!
//! ```no_run
//! use cavascope_features::{evaluate, Thresholds};
//! # let m = cavascope_segment::Measurements::default();
//! let findings = evaluate(&m, &Thresholds::default());
//! for s in &findings.signs {
//!     println!("{:?} {:?}: {}", s.id, s.state, s.explanation);
//! }
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum FeaturesError {
    #[error("{path}: cannot read thresholds: {reason}")]
    Thresholds {
        path: std::path::PathBuf,
        reason: String,
    },
}

/// The 13 sign identifiers of report-v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignId {
    DilatedIvc,
    ImperceptibleIvcLumen,
    ProminentCollaterals,
    IvcExtrinsicCompression,
    IntraluminalExtension,
    HeterogeneousArterialEnhancement,
    ProgressiveDelayedEnhancement,
    Washout,
    InternalFat,
    Calcification,
    T1Hypointense,
    T2Hyperintense,
    DiffusionRestriction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignState {
    Present,
    Absent,
    Indeterminate,
}

/// One sign with its evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sign {
    pub id: SignId,
    pub state: SignState,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub unit: Option<String>,
    pub explanation: String,
    pub source: String,
}

/// One diagnosis of the differential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiagnosisScore {
    pub diagnosis: String,
    pub score: f64,
    /// Signs that moved the score, with their effect.
    pub explanation: Vec<String>,
}

/// Signs + differential.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Findings {
    pub signs: Vec<Sign>,
    pub differential: Vec<DiagnosisScore>,
    pub warnings: Vec<String>,
}

/// Thresholds table (filled in by the features work).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Thresholds {}

/// Measurements → findings.
pub fn evaluate(_m: &cavascope_segment::Measurements, _t: &Thresholds) -> Findings {
    Findings::default()
}
