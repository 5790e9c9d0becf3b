//! Study + measurements + findings → [`Report`].

use crate::model::*;
use cavascope_features::{Decided, DiagnosisScore, EnlargedCollaterals, Findings, Sign};
use cavascope_ingest::Study;
use cavascope_measurements::{IvcModel, IvcSegment, MassModel, Measurements};
use serde::Serialize;

/// The snake_case name serde gives a unit enum variant.
fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|x| x.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn seg(s: Option<IvcSegment>) -> Option<String> {
    s.map(|s| name(&s))
}

fn fin(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// Non-finite numbers become 0 only where the schema needs a number and the value is a
/// size that a missing measurement cannot have (callers warn).
fn num(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Add `w` to the warnings unless it is there already.
fn push_unique(warn: &mut Vec<String>, w: &str) {
    if !warn.iter().any(|x| x == w) {
        warn.push(w.to_string());
    }
}

/// Assemble report.json. `warnings` are the caller's (ingest, CLI); the stage warnings of
/// `m` and `findings` are appended after them, duplicates dropped.
pub fn build_report(
    study: &Study,
    m: &Measurements,
    findings: &Findings,
    tool_version: &str,
    warnings: &[String],
) -> Report {
    let mut warn: Vec<String> = Vec::new();
    for w in warnings.iter().chain(&m.warnings).chain(&findings.warnings) {
        push_unique(&mut warn, w);
    }
    let series = series_entries(study, m, &mut warn);
    let ivc = m.ivc.as_ref().map(ivc_entry);
    if let (None, Some(why)) = (&m.mass, &m.mass_not_searched) {
        push_unique(
            &mut warn,
            &format!("mass: not measured ({why}); the mass signs are indeterminate"),
        );
    }
    if m.ivc.is_none() {
        push_unique(&mut warn, "IVC: not segmented; every IVC measurement is null");
    }
    let mass = m.mass.as_ref().map(|x| mass_entry(x, &findings.decided));
    let collaterals = m
        .collaterals
        .as_ref()
        .map(|c| collaterals_entry(c, findings.decided.enlarged_collaterals.as_ref()));
    let signs = findings.signs.iter().map(sign_entry).collect();
    let differential = findings.differential.iter().map(diagnosis_entry).collect();

    Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "cavascope".into(),
            version: tool_version.to_string(),
        },
        input: Input {
            path: study.root.display().to_string(),
            files_scanned: study.files_scanned,
            files_used: study.files_used,
            files_skipped: study
                .skipped
                .iter()
                .map(|s| Skipped {
                    path: s.path.display().to_string(),
                    reason: s.reason.clone(),
                })
                .collect(),
        },
        series,
        landmarks: Landmarks {
            hepatic_vein_confluence_z_mm: fin(m.landmarks.hepatic_vein_confluence_z_mm),
            renal_vein_inflow_z_mm: fin(m.landmarks.renal_vein_inflow_z_mm),
        },
        ivc,
        mass,
        collaterals,
        quality: Quality {
            blood_pool_value: fin(m.quality.blood_pool_value),
            blood_opacified: m.quality.blood_opacified,
            ivc_expected_length_mm: fin(m.quality.ivc_expected_length_mm),
            ivc_coverage_fraction: fin(m.quality.ivc_coverage_fraction),
        },
        signs,
        differential,
        warnings: warn,
        error: None,
        timings: None,
    }
}

/// One entry per series of the study, with the role of its volume and its acquisition
/// time after the study's first; a series that formed no volume adds a warning.
fn series_entries(study: &Study, m: &Measurements, warn: &mut Vec<String>) -> Vec<SeriesEntry> {
    let acq = |s: &cavascope_ingest::Series| {
        s.volume
            .as_ref()
            .and_then(|v| v.meta.acquisition_time_s)
            .or(s.meta.acquisition_time_s)
    };
    let t0 = study
        .series
        .iter()
        .filter_map(acq)
        .filter(|t| t.is_finite())
        .fold(f64::INFINITY, f64::min);
    let mut volume_index = 0usize;
    study
        .series
        .iter()
        .map(|s| {
            let (role, role_source) = match &s.volume {
                Some(_) => {
                    let idx = volume_index;
                    volume_index += 1;
                    let phase = m.phases.iter().find(|p| p.volume_index == idx);
                    (
                        phase.map(|p| p.role.as_str().to_string()),
                        phase.map(|p| name(&p.role_source)),
                    )
                }
                None => (None, None),
            };
            let acq = acq(s).filter(|t| t.is_finite() && t0.is_finite()).map(|t| t - t0);
            if s.volume.is_none() {
                push_unique(
                    warn,
                    &format!(
                        "series {} formed no volume: {}",
                        s.series_instance_uid,
                        if s.problems.is_empty() {
                            "no reason given".to_string()
                        } else {
                            s.problems.join("; ")
                        }
                    ),
                );
            }
            SeriesEntry {
                series_instance_uid: s.series_instance_uid.clone(),
                modality: s.modality.clone(),
                description: s.description.clone(),
                role,
                role_source,
                dims: s.dims,
                spacing_mm: s.spacing_mm.map(num),
                acquisition_time_s: acq,
                problems: s.problems.clone(),
            }
        })
        .collect()
}

fn ivc_entry(ivc: &IvcModel) -> Ivc {
    Ivc {
        segmentation_source: name(&ivc.source),
        reference_series: ivc.reference_series.clone(),
        length_mm: num(ivc.length_mm),
        max_equivalent_diameter_mm: fin(ivc.max_equivalent_diameter_mm),
        min_equivalent_diameter_mm: fin(ivc.min_equivalent_diameter_mm),
        min_flattening_ratio: fin(ivc.min_flattening_ratio),
        profile: ivc
            .profile
            .iter()
            // A section without a finite area was not measured: leave it out of the table.
            .filter(|p| p.area_mm2.is_finite() && p.equivalent_diameter_mm.is_finite())
            .map(|p| ProfileEntry {
                z_mm: num(p.z_mm),
                center_mm: p.center_mm.map(num),
                area_mm2: p.area_mm2,
                equivalent_diameter_mm: p.equivalent_diameter_mm,
                min_diameter_mm: num(p.min_diameter_mm),
                max_diameter_mm: num(p.max_diameter_mm),
                lumen_visible: p.lumen_visible,
                segment: seg(p.segment),
                s_mm: num(p.s_mm),
                ap_diameter_mm: num(p.ap_diameter_mm),
                transverse_diameter_mm: num(p.transverse_diameter_mm),
                flattening_ratio: num(p.flattening_ratio),
            })
            .collect(),
        lumen: Lumen {
            visible_fraction: fin(ivc.lumen.visible_fraction),
            longest_imperceptible_mm: fin(ivc.lumen.longest_imperceptible_mm),
            imperceptible_ranges_z_mm: ivc.lumen.imperceptible_ranges_z_mm.clone(),
            reference: ivc.lumen.reference.clone(),
        },
    }
}

/// The mass, with the intraluminal extension as the thresholds decided it.
fn mass_entry(x: &MassModel, decided: &Decided) -> Mass {
    Mass {
        source: name(&x.source),
        volume_ml: num(x.volume_ml),
        max_diameter_mm: num(x.max_diameter_mm),
        centroid_mm: x.centroid_mm.map(num),
        ivc_segment: seg(x.ivc_segment),
        contact_arc_deg: fin(x.contact_arc_deg),
        intraluminal_extension: decided.intraluminal_extension,
        intraluminal_ml: fin(x.intraluminal_ml),
        fat_fraction: fin(x.fat_fraction),
        calcified_fraction: fin(x.calcified_fraction),
        enhancement: x
            .enhancement
            .iter()
            .map(|e| EnhancementEntry {
                role: e.role.as_str().to_string(),
                mean: num(e.mean),
                sd: num(e.sd),
                cv: num(e.cv),
                delta_from_unenhanced: fin(e.delta_from_unenhanced),
                series_instance_uid: e.series_instance_uid.clone(),
                acquisition_time_s: fin(e.acquisition_time_s),
            })
            .collect(),
        pattern: x.pattern.map(|p| name(&p)),
        arterial_heterogeneity_cv: fin(x.arterial_heterogeneity_cv),
        mr: x.mr.as_ref().map(|r| Mr {
            t1_ratio_to_muscle: fin(r.t1_ratio_to_muscle),
            t2_ratio_to_muscle: fin(r.t2_ratio_to_muscle),
            adc_mean: fin(r.adc_mean),
            adc_reference: fin(r.adc_reference),
        }),
        contact_z_range_mm: x.contact_z_range_mm,
        centripetal: x.centripetal,
    }
}

/// The collaterals, with the count and volume of enlarged vessels as the thresholds
/// decided them.
fn collaterals_entry(
    c: &cavascope_measurements::Collaterals,
    enlarged: Option<&EnlargedCollaterals>,
) -> Collaterals {
    Collaterals {
        volume_ml: fin(enlarged.map(|e| e.volume_ml)),
        max_diameter_mm: fin(c.max_diameter_mm),
        count: enlarged.map(|e| e.count),
        veins: c
            .veins
            .iter()
            .map(|v| Vein {
                name: v.name.clone(),
                diameter_mm: fin(v.diameter_mm),
            })
            .collect(),
        not_assessed: c.not_assessed.clone(),
    }
}

fn sign_entry(s: &Sign) -> SignEntry {
    SignEntry {
        id: s.id.as_str().to_string(),
        state: s.state.as_str().to_string(),
        value: fin(s.value),
        threshold: fin(s.threshold),
        unit: s.unit.clone(),
        explanation: s.explanation.clone(),
        source: s.source.clone(),
    }
}

/// A diagnosis with its score clamped to [0, 1] (0 when not finite).
fn diagnosis_entry(d: &DiagnosisScore) -> DiagnosisEntry {
    DiagnosisEntry {
        diagnosis: d.diagnosis.clone(),
        score: if d.score.is_finite() {
            d.score.clamp(0.0, 1.0)
        } else {
            0.0
        },
        explanation: d.explanation.clone(),
    }
}

/// A report for a study that could not be analysed: every sign indeterminate, the reason
/// in `error` and in `warnings`.
pub fn failed_report(input_path: &str, tool_version: &str, reason: &str) -> Report {
    let findings = cavascope_features::evaluate(
        &Measurements::default(),
        &cavascope_features::Thresholds::default(),
    );
    let study = Study {
        root: input_path.into(),
        ..Default::default()
    };
    let mut r = build_report(
        &study,
        &Measurements::default(),
        &findings,
        tool_version,
        &[format!("study could not be analysed: {reason}")],
    );
    r.differential.clear();
    r.error = Some(reason.to_string());
    r
}
