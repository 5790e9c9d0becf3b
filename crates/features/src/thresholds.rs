//! The one table of numbers that decide a sign, each with its source.
//!
//! Every field has a default; a TOML file given with `--thresholds` overrides only the
//! keys it names (`#[serde(default)]`). `docs/signs.md` mirrors this table: keep both in step.

use crate::FeaturesError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Thresholds of the 13 signs. Units are in the field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    // --- IVC calibre -------------------------------------------------------------
    /// Megacava: circumference-equivalent diameter ≥ 28 mm (Xiao, Eur Radiol 2019, n=1503).
    pub dilated_equivalent_diameter_mm: f64,
    /// 95th percentile of the *minimum* diameter, upper segment (RA level): < 30 mm
    /// (normal CT, n=100, jnmu aumn090723).
    pub normal_min_diameter_upper_mm: f64,
    /// 95th percentile of the minimum diameter, middle segment: < 22 mm at the first hepatic
    /// hilum (jnmu aumn090723); AP 16.3 ± 2.9 mm at the renal veins (Cureus 2022) agrees.
    pub normal_min_diameter_middle_mm: f64,
    /// Infrarenal: circumference-derived 20.4 ± 2.8 mm (Xiao 2019) → mean + 2 SD = 26 mm.
    pub normal_min_diameter_lower_mm: f64,
    /// Dilated against the patient's own uninvolved IVC: more than mean + k·SD ...
    pub own_ivc_sd_factor: f64,
    /// ... and at least this ratio to the uninvolved mean (default: a phantom or a very
    /// uniform IVC has SD ≈ 0, so the SD rule alone would flag noise).
    pub own_ivc_min_ratio: f64,
    /// Flat cava: AP < 9 mm at the renal veins (Eisenstat, AJR 2002).
    pub flat_ap_diameter_mm: f64,
    /// Flat-cava ratio max/min ≥ 1.9 (J Trauma 2010) → min/max ≤ 1/1.9.
    pub flattening_ratio_max: f64,
    /// Narrowed at the contact: equivalent diameter below this fraction of the uninvolved
    /// IVC (default; no published cut-off).
    pub narrowed_ratio: f64,
    /// How far above/below the contact to look for normal calibre, mm (default).
    pub compression_context_mm: f64,
    /// Margin added around the mass contact z-range when selecting sections, mm (default:
    /// one slice of a typical 2.5–3 mm CT).
    pub contact_margin_mm: f64,

    // --- Lumen -------------------------------------------------------------------
    /// Imperceptible lumen: no opacified lumen over ≥ 10 mm (brief §2, default).
    pub imperceptible_min_length_mm: f64,

    // --- Quality gates (a sign is `present` only from a measurement that passed) ----
    /// IVC signs need the model to cover at least this fraction of the IVC's expected
    /// course in the series (segment `ivc::coverage`): a short track is as likely a
    /// neighbouring vessel or a leak as the IVC, and the level and own-IVC references
    /// need the IVC beyond a lesion (**default**: half).
    pub min_ivc_coverage_fraction: f64,
    /// Calibre continuity: near the section that makes a calibre sign, no two sections
    /// ≤ 2 mm apart may differ by more than this ratio of equivalent diameters. A vein's
    /// calibre changes over centimetres (confluences, tumour expansion); a step within
    /// 2 mm is the outline jumping into an abutting organ (**default**).
    pub max_calibre_step_ratio: f64,
    /// CT: the blood pool on the phase judged must reach this (HU) for the lumen to be
    /// judged: unenhanced blood 35–55 HU, portal-venous 130–200 HU (the IVC stage judges
    /// the lumen with the same default, `cavascope_ivc::lumen::OPACIFIED_BLOOD_MIN_HU`).
    pub opacified_blood_min_hu: f64,

    // --- Mass relation to the lumen --------------------------------------------------
    /// Intraluminal extension: at least this volume (ml) of mass tissue lying deep inside
    /// the IVC contour (the mass stage's `INTRALUMINAL_MIN_DEPTH_MM`); less is the seam
    /// where the two outlines meet (**default**; no published value).
    pub intraluminal_min_ml: f64,

    // --- Collaterals ---------------------------------------------------------------
    /// Azygos / hemiazygos > 10 mm is the usual CT flag (unverified; Tatar 2008 range
    /// 4.3–16 mm): a normal azygos of 6–9 mm is not an enlarged collateral.
    pub azygos_diameter_mm: f64,
    /// Hemiazygos: no published cut-off; default 7 mm, between its usual calibre (smaller
    /// than the azygos) and the azygos flag.
    pub hemiazygos_diameter_mm: f64,
    /// Gonadal vein ≥ 6 mm dilated (PMC6445463, n=2384).
    pub gonadal_diameter_mm: f64,
    /// Any other collateral (lumbar, epidural, abdominal wall): no published cut-off;
    /// default 6 mm, the gonadal value.
    pub other_collateral_diameter_mm: f64,

    // --- Enhancement ----------------------------------------------------------------
    /// Enhancement ≥ 20 HU is definite (ACR renal white paper, Herts 2017).
    pub enhancing_delta_hu: f64,
    /// MRI: ≥ 15% signal rise is enhancement (same source).
    pub enhancing_delta_mr_percent: f64,
    /// Heterogeneous arterial enhancement: coefficient of variation of the mass on the
    /// arterial phase, image noise removed by the segment stage (default; no published
    /// cut-off: heterogeneity is described qualitatively).
    pub heterogeneous_arterial_cv: f64,
    /// Progressive: delayed − portal venous ≥ +10 HU (brief §3, unverified default).
    pub progressive_delta_hu: f64,
    /// Progressive, MRI: ≥ +10 percentage points of relative enhancement (default).
    pub progressive_delta_mr_percent: f64,
    /// Washout: a fall of ≥ 10 HU from the arterial peak to a later phase (default; LI-RADS
    /// washout is visual, no HU threshold).
    pub washout_delta_hu: f64,
    /// Washout, MRI: fall of ≥ 10 percentage points of relative enhancement (default).
    pub washout_delta_mr_percent: f64,

    // --- Tissue -------------------------------------------------------------------------
    /// Internal fat: fraction of mass voxels at −190…−10 HU (Park, AJR), none beside air
    /// (the mass stage's partial-volume rule), at or above this
    /// (default: 5%, so that partial-volume voxels at a mass margin against retroperitoneal
    /// fat, and a few noisy voxels, never call fat).
    pub fat_fraction: f64,
    /// Calcification: fraction of mass voxels ≥ 130 HU (Agatston) at or above this (default).
    pub calcified_fraction: f64,
    /// T1 hypointense: mass/muscle ratio below this (default: 10% below isointense).
    pub t1_hypointense_ratio: f64,
    /// T2 hyperintense: mass/muscle ratio above this (default: 10% above isointense).
    pub t2_hyperintense_ratio: f64,
    /// Diffusion restriction: ADC < 1.2 × 1e-3 mm²/s (brief §1e: ICC cut-off 1.178,
    /// uterine sarcoma 1.17; unverified for IVC LMS).
    pub adc_restricted: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            dilated_equivalent_diameter_mm: 28.0,
            normal_min_diameter_upper_mm: 30.0,
            normal_min_diameter_middle_mm: 22.0,
            normal_min_diameter_lower_mm: 26.0,
            own_ivc_sd_factor: 2.0,
            own_ivc_min_ratio: 1.3,
            flat_ap_diameter_mm: 9.0,
            flattening_ratio_max: 1.0 / 1.9,
            narrowed_ratio: 0.7,
            compression_context_mm: 30.0,
            contact_margin_mm: 3.0,
            imperceptible_min_length_mm: 10.0,
            min_ivc_coverage_fraction: 0.5,
            max_calibre_step_ratio: 1.25,
            opacified_blood_min_hu: 100.0,
            intraluminal_min_ml: 0.5,
            azygos_diameter_mm: 10.0,
            hemiazygos_diameter_mm: 7.0,
            gonadal_diameter_mm: 6.0,
            other_collateral_diameter_mm: 6.0,
            enhancing_delta_hu: 20.0,
            enhancing_delta_mr_percent: 15.0,
            heterogeneous_arterial_cv: 0.2,
            progressive_delta_hu: 10.0,
            progressive_delta_mr_percent: 10.0,
            washout_delta_hu: 10.0,
            washout_delta_mr_percent: 10.0,
            fat_fraction: 0.05,
            calcified_fraction: 0.002,
            t1_hypointense_ratio: 0.9,
            t2_hyperintense_ratio: 1.1,
            adc_restricted: 1.2,
        }
    }
}

impl Thresholds {
    /// Read a TOML file; keys not named keep their defaults, unknown keys are an error
    /// (a misspelt key must not silently leave a default in place).
    pub fn from_toml_file(path: &Path) -> Result<Self, FeaturesError> {
        let text = std::fs::read_to_string(path).map_err(|e| FeaturesError::Thresholds {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::from_toml_str(&text).map_err(|reason| FeaturesError::Thresholds {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parse TOML text (see [`Thresholds::from_toml_file`]).
    pub fn from_toml_str(text: &str) -> Result<Self, String> {
        let t: Thresholds = toml::from_str(text).map_err(|e| e.to_string())?;
        t.check()?;
        Ok(t)
    }

    /// Reject values that make no sense (negative lengths, NaN).
    pub fn check(&self) -> Result<(), String> {
        let v = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let Some(map) = v.as_object() {
            for (k, x) in map {
                match x.as_f64() {
                    Some(f) if f.is_finite() && f >= 0.0 => {}
                    _ => return Err(format!("threshold `{k}` must be a finite number ≥ 0")),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_only_named_keys() {
        let t = Thresholds::from_toml_str("dilated_equivalent_diameter_mm = 30.5\n").unwrap();
        assert_eq!(t.dilated_equivalent_diameter_mm, 30.5);
        assert_eq!(t.adc_restricted, Thresholds::default().adc_restricted);
    }

    #[test]
    fn unknown_or_negative_keys_are_errors() {
        assert!(Thresholds::from_toml_str("dilated_diameter = 30\n").is_err());
        assert!(Thresholds::from_toml_str("fat_fraction = -1.0\n").is_err());
        assert!(Thresholds::from_toml_str("fat_fraction = \"x\"\n").is_err());
    }

    #[test]
    fn the_lumen_default_is_the_ivc_stage_s() {
        // The IVC stage judges the lumen against its own constant; the gate here must
        // start from the same number.
        assert_eq!(
            Thresholds::default().opacified_blood_min_hu,
            f64::from(cavascope_ivc::lumen::OPACIFIED_BLOOD_MIN_HU)
        );
    }

    #[test]
    fn file_errors_carry_the_path() {
        let e = Thresholds::from_toml_file(Path::new("/nonexistent/t.toml")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/t.toml"));
    }
}
