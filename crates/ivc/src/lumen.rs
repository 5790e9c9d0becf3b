//! Lumen visibility: is there an opacified lumen in each IVC section on the post-contrast
//! images, judged against the study's own blood pool in the same phase?
//!
//! The phase used is the portal-venous one (CT or MRI T1), else the delayed, else the
//! arterial; on the arterial phase infrarenal caval blood is normally unopacified, so it
//! is the last resort (a warning says so). The blood-pool reference is the *uninvolved
//! IVC*: the upper quartile of the per-section median values. A pixel is opacified when
//! it is above `T = max(reference − 3 SD_noise, (reference + tissue) / 2)`, where
//! `tissue` is the lower decile of section medians when it is clearly below the blood
//! (a tumour-filled stretch). A section's lumen is visible when at least half of its
//! pixels are opacified — the same 50 % rule the phantom's truth uses. Stretches of
//! ≥ 10 mm without visible lumen are reported as z ranges.

use crate::model::{LumenSummary, PhaseInfo, Role};
use crate::params::lumen::*;
use crate::track::noise_sd;
use cavascope_imaging::stats::upper_median_f32;
use cavascope_volume::{Point3, Volume};

pub use crate::params::lumen::{MIN_IMPERCEPTIBLE_MM, OPACIFIED_BLOOD_MIN_HU, VISIBLE_FRACTION};

/// Roles in order of preference for judging the lumen.
const PREFERENCE: [Role; 6] = [
    Role::CtPortalVenous,
    Role::MrT1PortalVenous,
    Role::CtDelayed,
    Role::MrT1Delayed,
    Role::CtArterial,
    Role::MrT1Arterial,
];

/// Per-section visibility plus the summary.
pub struct LumenResult {
    /// Per section: lumen seen (`Some(true)`), not seen, or not judged (`None`).
    pub visible: Vec<Option<bool>>,
    /// The study-level summary (visible fraction, imperceptible stretches, reference).
    pub summary: LumenSummary,
    /// What could not be judged, and why.
    pub warnings: Vec<String>,
    /// The phase judged (volume index) and its opacification threshold, for landmarks.
    pub phase: Option<(usize, f32)>,
    /// Blood-pool reference value and the phase's noise SD.
    pub reference: Option<(f32, f32)>,
    /// The role of the phase judged.
    pub role: Option<Role>,
}

/// `pixels[i]`: world points of section i (its filled component); `z[i]`, `s[i]`: the
/// section's z and arc length (mm).
/// `min_width[i]`: the section's minimum Feret diameter, mm (a section thinner than four
/// voxels is mostly partial volume: its lumen counts as visible when the upper quartile
/// of its pixels is opacified, instead of half of them).
pub fn assess(
    pixels: &[&[Point3<f64>]],
    z: &[f64],
    s: &[f64],
    min_width: &[f64],
    volumes: &[Volume],
    phases: &[PhaseInfo],
) -> LumenResult {
    let n = pixels.len();
    let mut warnings = Vec::new();
    let pick = PREFERENCE.iter().find_map(|r| {
        phases
            .iter()
            .find(|p| p.role == *r && p.volume_index < volumes.len())
            .map(|p| (p.volume_index, *r))
    });
    let Some((vi, role)) = pick else {
        warnings.push("lumen visibility not assessed: no post-contrast phase".to_string());
        return LumenResult {
            visible: vec![None; n],
            summary: LumenSummary::default(),
            warnings,
            phase: None,
            reference: None,
            role: None,
        };
    };
    if matches!(role, Role::CtArterial | Role::MrT1Arterial) {
        warnings.push(
            "lumen visibility judged on the arterial phase only: infrarenal caval blood is often unopacified then"
                .to_string(),
        );
    }
    let vol = &volumes[vi];
    // Per-section values (subsampled to ≤ SECTION_MAX_SAMPLES points).
    let values: Vec<Vec<f32>> = pixels
        .iter()
        .map(|px| {
            let step = (px.len() / SECTION_MAX_SAMPLES).max(1);
            px.iter()
                .step_by(step)
                .filter_map(|p| vol.sample_world(p))
                .filter(|v| v.is_finite())
                .collect()
        })
        .collect();
    let mut medians: Vec<f32> = values
        .iter()
        .filter(|v| !v.is_empty())
        .filter_map(|v| upper_median_f32(&mut v.clone()))
        .collect();
    if medians.len() < MIN_SECTIONS {
        warnings.push("lumen visibility not assessed: too few IVC sections inside the phase".to_string());
        return LumenResult {
            visible: vec![None; n],
            summary: LumenSummary::default(),
            warnings,
            phase: None,
            reference: None,
            role: None,
        };
    }
    medians.sort_by(f32::total_cmp);
    let q = |f: f64| medians[((medians.len() - 1) as f64 * f).round() as usize];
    let reference = q(REFERENCE_QUANTILE);
    let low = q(LOW_QUANTILE);
    let sd = noise_sd(vol);
    let mut thr = reference - THRESHOLD_NOISE_SDS * sd;
    if low < reference - BIMODAL_NOISE_SDS * sd {
        thr = thr.max(0.5 * (reference + low));
    }
    let sp = vol.geometry.spacing();
    let vox = sp[0].max(sp[1]);
    let visible: Vec<Option<bool>> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if v.is_empty() {
                None
            } else {
                let f = v.iter().filter(|&&x| x >= thr).count() as f64 / v.len() as f64;
                let thin = min_width.get(i).is_some_and(|w| *w < THIN_SECTION_VOXELS * vox);
                Some(
                    f >= if thin {
                        THIN_VISIBLE_FRACTION
                    } else {
                        VISIBLE_FRACTION
                    },
                )
            }
        })
        .collect();
    let summary = summarise(
        &visible,
        z,
        s,
        format!(
            "uninvolved IVC, {}, {:.0} (opacified above {:.0}; noise SD {:.1})",
            role.as_str(),
            reference,
            thr,
            sd
        ),
    );
    LumenResult {
        visible,
        summary,
        warnings,
        phase: Some((vi, thr)),
        reference: Some((reference, sd)),
        role: Some(role),
    }
}

/// Visible fraction, imperceptible stretches (≥ 10 mm, as z ranges) and the longest.
/// A stretch's length is its arc length plus one section spacing (each section stands
/// for 1 mm).
pub fn summarise(visible: &[Option<bool>], z: &[f64], s: &[f64], reference: String) -> LumenSummary {
    let judged: Vec<(usize, bool)> = visible
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|b| (i, b)))
        .collect();
    if judged.is_empty() {
        return LumenSummary::default();
    }
    let vis = judged.iter().filter(|(_, b)| *b).count() as f64 / judged.len() as f64;
    let mut ranges = Vec::new();
    let mut longest: f64 = 0.0;
    let mut k = 0;
    while k < judged.len() {
        if judged[k].1 {
            k += 1;
            continue;
        }
        let start = k;
        while k < judged.len() && !judged[k].1 {
            k += 1;
        }
        let (a, b) = (judged[start].0, judged[k - 1].0);
        let len = (s[b] - s[a]).abs() + 1.0;
        if len >= MIN_IMPERCEPTIBLE_MM {
            let (z0, z1) = (z[a].min(z[b]), z[a].max(z[b]));
            ranges.push([z0, z1]);
            longest = longest.max(len);
        }
    }
    LumenSummary {
        visible_fraction: Some(vis),
        longest_imperceptible_mm: Some(longest),
        imperceptible_ranges_z_mm: ranges,
        reference: Some(reference),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_shorter_than_10_mm_are_not_reported() {
        // 30 sections 1 mm apart: invisible 5..=9 (5 mm) and 15..=27 (13 mm).
        let vis: Vec<Option<bool>> = (0..30)
            .map(|i| Some(!((5..=9).contains(&i) || (15..=27).contains(&i))))
            .collect();
        let z: Vec<f64> = (0..30).map(|i| 100.0 - i as f64).collect(); // reversed z order
        let s: Vec<f64> = (0..30).map(|i| i as f64).collect();
        let sum = summarise(&vis, &z, &s, "test".into());
        assert_eq!(sum.imperceptible_ranges_z_mm, vec![[73.0, 85.0]]);
        assert_eq!(sum.longest_imperceptible_mm, Some(13.0));
        assert!((sum.visible_fraction.unwrap() - 12.0 / 30.0).abs() < 1e-12);
    }
}
