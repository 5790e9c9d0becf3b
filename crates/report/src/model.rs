//! `report.json`, schema version 1 (`shared/spec/report-v1.md`). Field names are a
//! contract: add fields, never rename or drop one without bumping [`SCHEMA_VERSION`].

use serde::{Deserialize, Serialize};

/// The `schema_version` this crate writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole of report.json.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The program and its version.
    pub tool: Tool,
    /// The folder or file read.
    pub input: Input,
    /// Every series that formed a volume or was tried.
    pub series: Vec<SeriesEntry>,
    /// IVC landmarks.
    pub landmarks: Landmarks,
    /// The IVC; `null` when it could not be modelled (the reason in `warnings`).
    pub ivc: Option<Ivc>,
    /// The mass; `null` when none was found or searched.
    pub mass: Option<Mass>,
    /// Collateral veins; `null` when not assessed.
    pub collaterals: Option<Collaterals>,
    /// What the quality gates of the signs looked at (blood-pool contrast, IVC coverage).
    #[serde(default)]
    pub quality: Quality,
    /// All 13 signs, each with a state.
    pub signs: Vec<SignEntry>,
    /// Diagnoses, highest score first.
    pub differential: Vec<DiagnosisEntry>,
    /// What the analysis could not do or doubted, one line each.
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

/// `tool`: what wrote the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    /// `cavascope`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

/// `input`: what was read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Input {
    /// The study folder or NIfTI file.
    pub path: String,
    /// Files found.
    pub files_scanned: usize,
    /// Files that went into a series.
    pub files_used: usize,
    /// Files not used.
    pub files_skipped: Vec<Skipped>,
}

/// One file not used, with the reason.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Skipped {
    /// The file.
    pub path: String,
    /// Why it was not used.
    pub reason: String,
}

/// `series[]`: one volume of the study and the role it was given.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeriesEntry {
    /// Series Instance UID.
    pub series_instance_uid: String,
    /// `CT` or `MR` (as in the header).
    pub modality: String,
    /// Series Description, when present.
    pub description: Option<String>,
    /// `null` when the series formed no volume (and so was given no role).
    pub role: Option<String>,
    /// What decided the role: `tags`, `timing`, `content` or `user`.
    pub role_source: Option<String>,
    /// `[columns, rows, slices]`.
    pub dims: [usize; 3],
    /// `[column, row, slice]` spacing, mm.
    pub spacing_mm: [f64; 3],
    /// Seconds after the earliest acquisition of the study.
    pub acquisition_time_s: Option<f64>,
    /// Problems ingest found while forming the volume.
    #[serde(default)]
    pub problems: Vec<String>,
}

/// `landmarks`: IVC landmarks, LPS z mm; `null` when not found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Landmarks {
    /// Where the hepatic veins join (upper/middle boundary).
    pub hepatic_vein_confluence_z_mm: Option<f64>,
    /// Where the renal veins join (middle/lower boundary).
    pub renal_vein_inflow_z_mm: Option<f64>,
}

/// `ivc`: the IVC model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ivc {
    /// How the IVC was found: `auto`, `seed` or `mask`.
    pub segmentation_source: String,
    /// Series Instance UID the IVC was measured on.
    pub reference_series: String,
    /// Centreline length, mm.
    pub length_mm: f64,
    /// Largest equivalent diameter along the profile.
    pub max_equivalent_diameter_mm: Option<f64>,
    /// Smallest equivalent diameter along the profile.
    pub min_equivalent_diameter_mm: Option<f64>,
    /// Smallest min/max Feret ratio along the profile.
    pub min_flattening_ratio: Option<f64>,
    /// Sections along the centreline, low to high.
    pub profile: Vec<ProfileEntry>,
    /// Lumen visibility.
    pub lumen: Lumen,
}

/// `ivc.profile[]`: one section perpendicular to the centreline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfileEntry {
    /// Level, LPS z mm.
    pub z_mm: f64,
    /// Centreline point, LPS mm.
    pub center_mm: [f64; 3],
    /// Section area, mm².
    pub area_mm2: f64,
    /// Diameter of the circle of the same area.
    pub equivalent_diameter_mm: f64,
    /// Minimum Feret diameter.
    pub min_diameter_mm: f64,
    /// Maximum Feret diameter.
    pub max_diameter_mm: f64,
    /// `null` without a post-contrast phase.
    pub lumen_visible: Option<bool>,
    /// `upper`, `middle` or `lower`; `null` without landmarks.
    pub segment: Option<String>,
    // Additions to v1 (allowed: new fields).
    /// Arc length from the lower end, mm.
    pub s_mm: f64,
    /// In-plane extent along patient anterior–posterior.
    pub ap_diameter_mm: f64,
    /// In-plane extent along patient left–right.
    pub transverse_diameter_mm: f64,
    /// Minimum over maximum Feret diameter.
    pub flattening_ratio: f64,
}

/// `ivc.lumen`: where the IVC shows an opacified lumen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lumen {
    /// Fraction of profile sections with a visible lumen.
    pub visible_fraction: Option<f64>,
    /// Longest stretch without a visible lumen, mm.
    pub longest_imperceptible_mm: Option<f64>,
    /// Each stretch without a visible lumen, `[z low, z high]`.
    pub imperceptible_ranges_z_mm: Vec<[f64; 2]>,
    /// The blood-pool reference used to judge opacification.
    pub reference: Option<String>,
}

/// `mass`: the mass and its measures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mass {
    /// How the mass was found: `auto`, `seed` or `mask`.
    pub source: String,
    /// Volume, ml.
    pub volume_ml: f64,
    /// Largest extent, mm.
    pub max_diameter_mm: f64,
    /// Centroid, LPS mm.
    pub centroid_mm: [f64; 3],
    /// IVC segment at the centroid level.
    pub ivc_segment: Option<String>,
    /// Arc of the IVC circumference the mass touches, degrees.
    pub contact_arc_deg: Option<f64>,
    /// Mass inside the IVC (as the thresholds decide).
    pub intraluminal_extension: Option<bool>,
    /// Mass volume deep inside the IVC contour, ml (added in v1; open schema).
    #[serde(default)]
    pub intraluminal_ml: Option<f64>,
    /// Fraction of mass voxels in the fat range (CT).
    pub fat_fraction: Option<f64>,
    /// Fraction of mass voxels in the calcium range (CT).
    pub calcified_fraction: Option<f64>,
    /// The mass on each phase.
    pub enhancement: Vec<EnhancementEntry>,
    /// `progressive`, `washout`, `plateau` or `none`.
    pub pattern: Option<String>,
    /// Coefficient of variation on the arterial phase.
    pub arterial_heterogeneity_cv: Option<f64>,
    /// MRI measures; `null` on CT.
    pub mr: Option<Mr>,
    /// z-range of IVC contact, LPS mm.
    pub contact_z_range_mm: Option<[f64; 2]>,
    /// Rim-then-core enhancement.
    pub centripetal: Option<bool>,
}

/// `mass.enhancement[]`: the mass on one phase.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EnhancementEntry {
    /// Phase role.
    pub role: String,
    /// Mean inside the mass (HU on CT).
    pub mean: f64,
    /// Standard deviation inside the mass.
    pub sd: f64,
    /// `sd / |mean|`.
    pub cv: f64,
    /// `mean` minus the unenhanced mean; `null` without an unenhanced phase.
    pub delta_from_unenhanced: Option<f64>,
    /// The series the value came from.
    pub series_instance_uid: String,
    /// Its acquisition time, seconds after the study's earliest.
    pub acquisition_time_s: Option<f64>,
}

/// `mass.mr`: MRI measures of the mass.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mr {
    /// Mass over muscle signal, unenhanced T1.
    pub t1_ratio_to_muscle: Option<f64>,
    /// Mass over muscle signal, T2.
    pub t2_ratio_to_muscle: Option<f64>,
    /// Mean ADC in the mass, 1e-3 mm²/s.
    pub adc_mean: Option<f64>,
    /// Liver ADC, 1e-3 mm²/s.
    pub adc_reference: Option<f64>,
}

/// `collaterals`: venous collaterals (the enlarged ones, as the thresholds decide).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Collaterals {
    /// Volume of the enlarged collaterals, ml.
    pub volume_ml: Option<f64>,
    /// Largest collateral diameter, mm.
    pub max_diameter_mm: Option<f64>,
    /// Enlarged collateral components.
    pub count: Option<usize>,
    /// Named veins with their diameters.
    pub veins: Vec<Vein>,
    /// Pathways not assessed, each with the reason.
    #[serde(default)]
    pub not_assessed: Vec<String>,
}

/// Measurement quality behind the signs' gates (docs/signs.md, "Quality gates").
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Quality {
    /// Blood-pool value on the reference phase (HU on CT).
    pub blood_pool_value: Option<f64>,
    /// The blood pool is opacified enough to judge the lumen.
    pub blood_opacified: Option<bool>,
    /// Length of the IVC's expected course inside the series.
    pub ivc_expected_length_mm: Option<f64>,
    /// Fraction of that course the IVC model covers.
    pub ivc_coverage_fraction: Option<f64>,
}

/// `collaterals.veins[]`: one named collateral vein.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Vein {
    /// The vein (e.g. `azygos`, `left_gonadal`).
    pub name: String,
    /// Its diameter, mm.
    pub diameter_mm: Option<f64>,
}

/// `signs[]`: one of the 13 signs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignEntry {
    /// Sign identifier (report-v1 list).
    pub id: String,
    /// `present`, `absent` or `indeterminate`.
    pub state: String,
    /// The measurement the sign was judged on.
    pub value: Option<f64>,
    /// The cut-off it was compared with.
    pub threshold: Option<f64>,
    /// Unit of `value` and `threshold`.
    pub unit: Option<String>,
    /// One sentence: value, cut-off, and why.
    pub explanation: String,
    /// Literature behind the threshold.
    pub source: String,
}

/// `differential[]`: one diagnosis and its score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiagnosisEntry {
    /// Diagnosis identifier, e.g. `ivc_leiomyosarcoma`.
    pub diagnosis: String,
    /// Posterior probability; the scores of a report sum to 1.
    pub score: f64,
    /// The evidence that moved the score most, with its factor.
    pub explanation: Vec<String>,
}

impl Report {
    /// The sign entry with this id.
    pub fn sign(&self, id: &str) -> Option<&SignEntry> {
        self.signs.iter().find(|s| s.id == id)
    }
}
