//! `report.json`, schema version 1 (`shared/spec/report-v1.md`). Field names are a
//! contract: add fields, never rename or drop one without bumping [`SCHEMA_VERSION`].

use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub input: Input,
    pub series: Vec<SeriesEntry>,
    pub landmarks: Landmarks,
    pub ivc: Option<Ivc>,
    pub mass: Option<Mass>,
    pub collaterals: Option<Collaterals>,
    /// What the quality gates of the signs looked at (blood-pool contrast, IVC coverage).
    #[serde(default)]
    pub quality: Quality,
    pub signs: Vec<SignEntry>,
    pub differential: Vec<DiagnosisEntry>,
    pub warnings: Vec<String>,
    /// Why the study could not be analysed (exit code 1); `null` when it was.
    #[serde(default)]
    pub error: Option<String>,
    /// Wall-clock seconds of each stage of this run (optional; absent from reports that
    /// were not timed). Varies from run to run: not a measurement, and report comparisons
    /// ignore it (`scripts/compare_reports.sh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<Timings>,
}

/// `timings`: wall-clock seconds per stage (docs/report.md).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    /// Reading the study: scanning files, assembling the volumes.
    pub ingest_s: f64,
    /// Series roles (phase detection).
    pub phases_s: f64,
    /// IVC model and landmarks.
    pub ivc_s: f64,
    /// Mass search and measures.
    pub mass_s: f64,
    /// Venous collaterals.
    pub collaterals_s: f64,
    /// Signs and differential.
    pub features_s: f64,
    /// Building the report and writing every output but report.json itself (HTML,
    /// CSV, overlays, label maps, DICOM SEG/SR when asked).
    pub report_s: f64,
    /// From the start of the analysis to the writing of report.json.
    pub total_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Input {
    pub path: String,
    pub files_scanned: usize,
    pub files_used: usize,
    pub files_skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeriesEntry {
    pub series_instance_uid: String,
    pub modality: String,
    pub description: Option<String>,
    /// `null` when the series formed no volume (and so was given no role).
    pub role: Option<String>,
    pub role_source: Option<String>,
    /// `[columns, rows, slices]`.
    pub dims: [usize; 3],
    pub spacing_mm: [f64; 3],
    /// Seconds after the earliest acquisition of the study.
    pub acquisition_time_s: Option<f64>,
    /// Problems ingest found while forming the volume.
    #[serde(default)]
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Landmarks {
    pub hepatic_vein_confluence_z_mm: Option<f64>,
    pub renal_vein_inflow_z_mm: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ivc {
    pub segmentation_source: String,
    pub reference_series: String,
    pub length_mm: f64,
    pub max_equivalent_diameter_mm: Option<f64>,
    pub min_equivalent_diameter_mm: Option<f64>,
    pub min_flattening_ratio: Option<f64>,
    pub profile: Vec<ProfileEntry>,
    pub lumen: Lumen,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfileEntry {
    pub z_mm: f64,
    pub center_mm: [f64; 3],
    pub area_mm2: f64,
    pub equivalent_diameter_mm: f64,
    pub min_diameter_mm: f64,
    pub max_diameter_mm: f64,
    /// `null` without a post-contrast phase.
    pub lumen_visible: Option<bool>,
    pub segment: Option<String>,
    // Additions to v1 (allowed: new fields).
    pub s_mm: f64,
    pub ap_diameter_mm: f64,
    pub transverse_diameter_mm: f64,
    pub flattening_ratio: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lumen {
    pub visible_fraction: Option<f64>,
    pub longest_imperceptible_mm: Option<f64>,
    pub imperceptible_ranges_z_mm: Vec<[f64; 2]>,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mass {
    pub source: String,
    pub volume_ml: f64,
    pub max_diameter_mm: f64,
    pub centroid_mm: [f64; 3],
    pub ivc_segment: Option<String>,
    pub contact_arc_deg: Option<f64>,
    pub intraluminal_extension: Option<bool>,
    /// Mass volume deep inside the IVC contour, ml (added in v1; open schema).
    #[serde(default)]
    pub intraluminal_ml: Option<f64>,
    pub fat_fraction: Option<f64>,
    pub calcified_fraction: Option<f64>,
    pub enhancement: Vec<EnhancementEntry>,
    pub pattern: Option<String>,
    pub arterial_heterogeneity_cv: Option<f64>,
    pub mr: Option<Mr>,
    pub contact_z_range_mm: Option<[f64; 2]>,
    pub centripetal: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EnhancementEntry {
    pub role: String,
    pub mean: f64,
    pub sd: f64,
    pub cv: f64,
    pub delta_from_unenhanced: Option<f64>,
    pub series_instance_uid: String,
    pub acquisition_time_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mr {
    pub t1_ratio_to_muscle: Option<f64>,
    pub t2_ratio_to_muscle: Option<f64>,
    pub adc_mean: Option<f64>,
    pub adc_reference: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Collaterals {
    pub volume_ml: Option<f64>,
    pub max_diameter_mm: Option<f64>,
    pub count: Option<usize>,
    pub veins: Vec<Vein>,
    /// Pathways not assessed, each with the reason.
    #[serde(default)]
    pub not_assessed: Vec<String>,
}

/// Measurement quality behind the signs' gates (docs/signs.md, "Quality gates").
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Quality {
    pub blood_pool_value: Option<f64>,
    pub blood_opacified: Option<bool>,
    pub ivc_expected_length_mm: Option<f64>,
    pub ivc_coverage_fraction: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Vein {
    pub name: String,
    pub diameter_mm: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignEntry {
    pub id: String,
    pub state: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub unit: Option<String>,
    pub explanation: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiagnosisEntry {
    pub diagnosis: String,
    pub score: f64,
    pub explanation: Vec<String>,
}

impl Report {
    /// The sign entry with this id.
    pub fn sign(&self, id: &str) -> Option<&SignEntry> {
        self.signs.iter().find(|s| s.id == id)
    }
}
