//! Measurements → the 13 differentiating signs of IVC leiomyosarcoma (each with state,
//! value, threshold, explanation and literature source) → a transparent differential.
//!
//! - [`thresholds`]: the one table of cut-offs, each with its source; TOML-overridable.
//! - [`signs`]: each sign judged from [`Measurements`]; `indeterminate` when the series or
//!   measurement it needs is missing, never a guessed `absent`.
//! - [`differential`]: naive Bayes over the signs with a documented likelihood table.
//!
//! A research aid: biopsy decides.
//!
//! ```
//! use cavascope_features::{evaluate, SignState, Thresholds};
//! let m = cavascope_measurements::Measurements::default();
//! let findings = evaluate(&m, &Thresholds::default());
//! // Every sign is listed; with nothing measured, none can be judged.
//! assert_eq!(findings.signs.len(), 13);
//! assert!(findings.signs.iter().all(|s| s.state == SignState::Indeterminate));
//! assert_eq!(findings.differential.len(), 6);
//! ```

#![warn(missing_docs)]

pub mod decided;
pub mod differential;
pub mod signs;
pub mod thresholds;

pub use decided::{Decided, EnlargedCollaterals};
pub use differential::{differential, DIAGNOSES, LIKELIHOODS};
pub use thresholds::Thresholds;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why the features stage could not start.
#[derive(Debug, Error)]
pub enum FeaturesError {
    /// The thresholds file could not be read or holds a bad value.
    #[error("{path}: cannot read thresholds: {reason}")]
    Thresholds {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
}

/// The 13 sign identifiers of report-v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignId {
    /// IVC wider than its level's normal (or than the patient's own uninvolved IVC).
    DilatedIvc,
    /// No opacified lumen over a stretch of the IVC.
    ImperceptibleIvcLumen,
    /// Enlarged venous collaterals.
    ProminentCollaterals,
    /// The IVC flattened or narrowed by a mass from outside (negative embedded-organ sign).
    IvcExtrinsicCompression,
    /// Mass tissue inside the IVC lumen.
    IntraluminalExtension,
    /// Heterogeneous arterial-phase enhancement of the mass.
    HeterogeneousArterialEnhancement,
    /// Enhancement of the mass still rising on the delayed phase.
    ProgressiveDelayedEnhancement,
    /// Enhancement of the mass falling after the arterial phase.
    Washout,
    /// Macroscopic fat inside the mass.
    InternalFat,
    /// Calcification inside the mass.
    Calcification,
    /// Mass hypointense to muscle on T1.
    T1Hypointense,
    /// Mass hyperintense to muscle on T2.
    T2Hyperintense,
    /// Restricted diffusion (low ADC) in the mass.
    DiffusionRestriction,
}

/// All sign ids in report order.
pub const ALL_SIGNS: [SignId; 13] = [
    SignId::DilatedIvc,
    SignId::ImperceptibleIvcLumen,
    SignId::ProminentCollaterals,
    SignId::IvcExtrinsicCompression,
    SignId::IntraluminalExtension,
    SignId::HeterogeneousArterialEnhancement,
    SignId::ProgressiveDelayedEnhancement,
    SignId::Washout,
    SignId::InternalFat,
    SignId::Calcification,
    SignId::T1Hypointense,
    SignId::T2Hyperintense,
    SignId::DiffusionRestriction,
];

impl SignId {
    /// The report-v1 identifier (`dilated_ivc`…).
    pub fn as_str(&self) -> &'static str {
        match self {
            SignId::DilatedIvc => "dilated_ivc",
            SignId::ImperceptibleIvcLumen => "imperceptible_ivc_lumen",
            SignId::ProminentCollaterals => "prominent_collaterals",
            SignId::IvcExtrinsicCompression => "ivc_extrinsic_compression",
            SignId::IntraluminalExtension => "intraluminal_extension",
            SignId::HeterogeneousArterialEnhancement => "heterogeneous_arterial_enhancement",
            SignId::ProgressiveDelayedEnhancement => "progressive_delayed_enhancement",
            SignId::Washout => "washout",
            SignId::InternalFat => "internal_fat",
            SignId::Calcification => "calcification",
            SignId::T1Hypointense => "t1_hypointense",
            SignId::T2Hyperintense => "t2_hyperintense",
            SignId::DiffusionRestriction => "diffusion_restriction",
        }
    }

    /// The sign with this report-v1 identifier.
    pub fn parse(s: &str) -> Option<SignId> {
        ALL_SIGNS.iter().copied().find(|i| i.as_str() == s)
    }
}

/// The state of a sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignState {
    /// The evidence was looked at and shows the sign.
    Present,
    /// The evidence was looked at and does not show it.
    Absent,
    /// The evidence is missing or failed its quality gate (the explanation says which).
    Indeterminate,
}

impl SignState {
    /// The report-v1 name (`present`…).
    pub fn as_str(&self) -> &'static str {
        match self {
            SignState::Present => "present",
            SignState::Absent => "absent",
            SignState::Indeterminate => "indeterminate",
        }
    }
}

/// One sign with its evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sign {
    /// Which sign.
    pub id: SignId,
    /// Its state.
    pub state: SignState,
    /// The measured value it was judged on, when there is one.
    pub value: Option<f64>,
    /// The threshold it was compared with.
    pub threshold: Option<f64>,
    /// The unit of value and threshold.
    pub unit: Option<String>,
    /// Why this state, in words, with the numbers.
    pub explanation: String,
    /// Literature behind the rule.
    pub source: String,
}

/// One diagnosis of the differential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiagnosisScore {
    /// The diagnosis (one of [`DIAGNOSES`]).
    pub diagnosis: String,
    /// Posterior probability over the six diagnoses (they sum to 1).
    pub score: f64,
    /// Signs that moved the score, with their effect.
    pub explanation: Vec<String>,
}

/// Signs + differential.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Findings {
    /// All 13 signs, in report order.
    pub signs: Vec<Sign>,
    /// The diagnoses, most probable first.
    pub differential: Vec<DiagnosisScore>,
    /// Why a sign is indeterminate, one line each.
    pub warnings: Vec<String>,
    /// The values beside the signs that the thresholds decide (intraluminal extension,
    /// enlarged collaterals): the report shows these, not a stage's own cut-off.
    #[serde(default)]
    pub decided: Decided,
}

impl Findings {
    /// The sign with this id (every report has all 13).
    pub fn sign(&self, id: SignId) -> Option<&Sign> {
        self.signs.iter().find(|s| s.id == id)
    }
}

/// Measurements → findings: all 13 signs and the sorted differential. Indeterminate
/// signs carry their reason in `warnings` too.
pub fn evaluate(m: &cavascope_measurements::Measurements, t: &Thresholds) -> Findings {
    let ctx = signs::Context {
        measurements: m,
        thresholds: t,
    };
    let signs = signs::all(&ctx);
    let warnings = signs
        .iter()
        .filter(|s| s.state == SignState::Indeterminate)
        .map(|s| format!("sign {} indeterminate: {}", s.id.as_str(), s.explanation))
        .collect();
    let differential = differential::differential(m, &signs);
    Findings {
        signs,
        differential,
        warnings,
        decided: decided::decide(m, t),
    }
}
