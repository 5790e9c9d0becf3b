//! Shared helpers for the IVC tests against phantom truth.
#![allow(dead_code)]

use cavascope_ivc::{build_ivc, IvcOutcome};
use cavascope_measurements::{IvcModel, IvcSegment, PhaseInfo, Role, RoleSource, Section, SegmentOptions};
use cavascope_phantom::{generate, CaseName, PhantomOptions, PhantomStudy};
use cavascope_volume::Point3;

pub fn phases_from_truth(study: &PhantomStudy) -> Vec<PhaseInfo> {
    study
        .volumes
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let uid = &v.meta.series_instance_uid;
            let role = study.truth.series_roles.get(uid).and_then(|r| Role::parse(r))?;
            Some(PhaseInfo {
                volume_index: i,
                series_instance_uid: uid.clone(),
                role,
                role_source: RoleSource::User,
            })
        })
        .collect()
}

pub fn study(case: CaseName, opts: &PhantomOptions) -> PhantomStudy {
    generate(case, opts)
}

/// Linear interpolation of a profile quantity at height z (sections sorted by z).
pub fn at_z(model: &IvcModel, z: f64, f: fn(&cavascope_measurements::Section) -> f64) -> Option<f64> {
    let mut s: Vec<(f64, f64)> = model.profile.iter().map(|p| (p.z_mm, f(p))).collect();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    if s.is_empty() || z < s[0].0 || z > s[s.len() - 1].0 {
        return None;
    }
    let k = s.partition_point(|p| p.0 < z);
    if k == 0 {
        return Some(s[0].1);
    }
    let (a, b) = (s[k - 1], s[k.min(s.len() - 1)]);
    if (b.0 - a.0).abs() < 1e-9 {
        return Some(a.1);
    }
    Some(a.1 + (b.1 - a.1) * (z - a.0) / (b.0 - a.0))
}

/// Comparison of a measured profile with the truth.
#[derive(Debug)]
pub struct Score {
    /// Mean absolute error of the equivalent diameter over the compared truth levels.
    pub mae_eqd: f64,
    pub max_err_eqd: f64,
    /// Fraction of truth levels (inside the FOV) that the measured profile covers.
    pub coverage: f64,
    pub n: usize,
    /// Worst levels (z, measured, truth).
    pub worst: Vec<(f64, f64, f64)>,
}

pub fn score(model: &IvcModel, study: &PhantomStudy) -> Score {
    let tp = &study.truth.ivc.profile;
    let mut errs = Vec::new();
    let mut worst = Vec::new();
    for p in tp {
        if let Some(m) = at_z(model, p.z_mm, |s| s.equivalent_diameter_mm) {
            let e = (m - p.equivalent_diameter_mm).abs();
            errs.push(e);
            worst.push((p.z_mm, m, p.equivalent_diameter_mm));
        }
    }
    worst.sort_by(|a, b| (b.1 - b.2).abs().total_cmp(&(a.1 - a.2).abs()));
    worst.truncate(6);
    let n = errs.len();
    Score {
        mae_eqd: if n > 0 {
            errs.iter().sum::<f64>() / n as f64
        } else {
            f64::INFINITY
        },
        max_err_eqd: errs.iter().copied().fold(0.0, f64::max),
        coverage: n as f64 / tp.len().max(1) as f64,
        n,
        worst,
    }
}

/// z-IoU of two sets of ranges.
pub fn z_iou(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    let len = |r: &[[f64; 2]]| r.iter().map(|x| (x[1] - x[0]).max(0.0)).sum::<f64>();
    let mut inter = 0.0;
    for x in a {
        for y in b {
            inter += (x[1].min(y[1]) - x[0].max(y[0])).max(0.0);
        }
    }
    let uni = len(a) + len(b) - inter;
    if uni <= 0.0 {
        1.0
    } else {
        inter / uni
    }
}

/// Every section's segment label matches the truth landmarks (renal inflow `tr`, hepatic
/// confluence `th`); within 10 mm of a landmark the label may differ by the landmark error.
pub fn check_segment_labels(profile: &[Section], tr: f64, th: f64, msg: &str) {
    for s in profile {
        let truth = if s.z_mm >= th {
            IvcSegment::Upper
        } else if s.z_mm >= tr {
            IvcSegment::Middle
        } else {
            IvcSegment::Lower
        };
        if (s.z_mm - th).abs() > 10.0 && (s.z_mm - tr).abs() > 10.0 {
            assert_eq!(s.segment, Some(truth), "z {}: {msg}", s.z_mm);
        }
    }
}

/// The IVC stage on a phantom study, auto or from the truth's seed.
pub fn run(case: CaseName, opts: &PhantomOptions, seed: bool) -> (PhantomStudy, IvcOutcome) {
    let st = study(case, opts);
    let phases = phases_from_truth(&st);
    let mut so = SegmentOptions::default();
    if seed {
        let s = st.truth.ivc_seed_mm;
        so.ivc_seed = Some(Point3::new(s[0], s[1], s[2]));
    }
    let out = build_ivc(&st.volumes, &phases, &so);
    (st, out)
}

/// One line: calibre, coverage, length, peak, lumen and landmarks against the truth.
pub fn describe(st: &PhantomStudy, out: &IvcOutcome) -> String {
    let Some(m) = &out.model else {
        return format!("{}: no model: {:?}", st.case, out.warnings);
    };
    let sc = score(m, st);
    let t = &st.truth;
    format!(
        "{}: MAE {:.2} max {:.2} coverage {:.2} | len {:.0} vs {:.0} | maxCE {:?} vs {:.1} | imperceptible {:?} vs {:?} | renal {:?} vs {:.1} | hepatic {:?} vs {:.1} | worst {:?} | warnings {:?}",
        st.case, sc.mae_eqd, sc.max_err_eqd, sc.coverage, m.length_mm, t.ivc.length_mm,
        m.max_equivalent_diameter_mm, t.ivc.max_equivalent_diameter_mm,
        m.lumen.imperceptible_ranges_z_mm, t.ivc.lumen.imperceptible_ranges_z_mm,
        out.landmarks.renal_vein_inflow_z_mm, t.landmarks.renal_vein_inflow_z_mm,
        out.landmarks.hepatic_vein_confluence_z_mm, t.landmarks.hepatic_vein_confluence_z_mm,
        sc.worst, out.warnings
    )
}

/// A coarse 96 × 96 @ 4 mm, 5 mm-slice grid of the small phantom.
pub fn coarse(seed: u64) -> PhantomOptions {
    let mut o = PhantomOptions::small().with_seed(seed);
    o.cols = 96;
    o.rows = 96;
    o.pixel_spacing_mm = 4.0;
    o.slices = 50;
    o.slice_spacing_mm = 5.0;
    o
}
