//! The automatic mass search on a phantom case with the true IVC, compared with the true
//! mass label: shared by `tests/mass_auto_phantom.rs` and `examples/mass_auto_cases.rs`.

#![allow(dead_code)] // each user takes part of it

use crate::truth_ivc::{intraluminal_extension, truth_ivc, truth_landmarks};
use cavascope_mass::{build_mass, MassOutcome};
use cavascope_measurements::{MassModel, SegmentOptions};
use cavascope_phantom::{generate, CaseName, PhantomOptions, PhantomStudy};
use cavascope_phases::assign_roles;

/// What auto mode found, with its agreement with the truth label.
pub struct Found {
    pub model: Option<MassModel>,
    /// Dice coefficient with the true mass label (same grid: the study's reference series).
    pub dice: Option<f64>,
    pub centroid_error_mm: Option<f64>,
    pub volume_ratio: Option<f64>,
    pub truth_intraluminal: Option<bool>,
}

pub fn auto(case: CaseName) -> Found {
    auto_on(case, &PhantomOptions::small(), false)
}

/// Run the automatic search on a phantom case with the true IVC and print what it found
/// (with `tissues`, also the phantom tissues of its false-positive and false-negative voxels).
pub fn auto_on(case: CaseName, opts: &PhantomOptions, tissues: bool) -> Found {
    let tg = std::time::Instant::now();
    let s = generate(case, opts);
    eprintln!("{case}: phantom generated in {:.1} s", tg.elapsed().as_secs_f64());
    let phases = assign_roles(&s.volumes, &[]);
    let ivc = truth_ivc(&s);
    let t0 = std::time::Instant::now();
    let MassOutcome {
        model: m,
        warnings: w,
        ..
    } = build_mass(
        &s.volumes,
        &phases,
        Some(&ivc),
        &truth_landmarks(&s),
        &SegmentOptions::default(),
    );
    let mut f = Found {
        model: None,
        dice: None,
        centroid_error_mm: None,
        volume_ratio: None,
        truth_intraluminal: s.truth.mass.as_ref().map(|t| t.intraluminal_extension),
    };
    if let (Some(m), Some(t), Some(label)) = (&m, &s.truth.mass, &s.labels.mass) {
        let truth_on_grid = label.resample_onto(&m.mask.geometry, {
            let d = m.mask.data.dim();
            [d.0, d.1, d.2]
        });
        let inter = truth_on_grid
            .data
            .iter()
            .zip(m.mask.data.iter())
            .filter(|(&a, &b)| a && b)
            .count() as f64;
        let (a, b) = (truth_on_grid.count() as f64, m.mask.count() as f64);
        f.dice = Some(2.0 * inter / (a + b).max(1.0));
        let c = m.centroid_mm;
        f.centroid_error_mm = Some(
            ((c[0] - t.centroid_mm[0]).powi(2)
                + (c[1] - t.centroid_mm[1]).powi(2)
                + (c[2] - t.centroid_mm[2]).powi(2))
            .sqrt(),
        );
        f.volume_ratio = Some(m.volume_ml / t.volume_ml);
        if tissues {
            print_tissue_errors(&s, &m.mask);
        }
    }
    eprintln!(
        "{case}: found {:?} ml (truth {:?} ml), dice {:?}, centroid error {:?} mm, fat {:?} (truth {:?}), intraluminal {:?} (truth {:?}), arterial CV {:?} (truth {:?}), {:.1} s\n  warnings {w:?}",
        m.as_ref().map(|m| m.volume_ml),
        s.truth.mass.as_ref().map(|t| t.volume_ml),
        f.dice,
        f.centroid_error_mm,
        m.as_ref().and_then(|m| m.fat_fraction),
        s.truth.mass.as_ref().map(|t| t.fat_fraction),
        m.as_ref().and_then(intraluminal_extension),
        s.truth.mass.as_ref().map(|t| t.intraluminal_extension),
        m.as_ref().and_then(|m| m.arterial_heterogeneity_cv),
        s.truth.mass.as_ref().map(|t| t.arterial_heterogeneity_cv),
        t0.elapsed().as_secs_f64()
    );
    if let (Some(m), Some(t)) = (&m, &s.truth.mass) {
        for e in &m.enhancement {
            eprintln!(
                "  {}: mean {:.1} (truth {:?}), change {:?}",
                e.role.as_str(),
                e.mean,
                t.mean_by_role.get(e.role.as_str()),
                e.delta_from_unenhanced
            );
        }
    }
    f.model = m;
    f
}

/// Diagnostic: the phantom tissues of the false-positive and false-negative voxels (ml),
/// on the label grid.
fn print_tissue_errors(s: &PhantomStudy, found: &cavascope_volume::Mask) {
    let g = &s.labels.geometry;
    let d = s.labels.tissue.dim();
    let on_labels = found.resample_onto(g, [d.0, d.1, d.2]);
    let vox_ml = {
        let sp = g.spacing();
        sp[0] * sp[1] * sp[2] / 1000.0
    };
    let Some(truth) = &s.labels.mass else { return };
    let mut fp = [0usize; cavascope_phantom::Tissue::COUNT];
    let mut fn_ = [0usize; cavascope_phantom::Tissue::COUNT];
    for ((p, &t), (&a, &b)) in s
        .labels
        .tissue
        .indexed_iter()
        .zip(on_labels.data.iter().zip(truth.data.iter()))
    {
        let _ = p;
        let t = t as usize;
        if a && !b && t < fp.len() {
            fp[t] += 1;
        }
        if b && !a && t < fn_.len() {
            fn_[t] += 1;
        }
    }
    for (what, h) in [("false positive", fp), ("false negative", fn_)] {
        let parts: Vec<String> = h
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(t, &n)| {
                let name = cavascope_phantom::Tissue::from_u8(t as u8).map_or("?", |x| x.name());
                format!("{name} {:.1}", n as f64 * vox_ml)
            })
            .collect();
        eprintln!("  {what} ml: {}", parts.join(", "));
    }
}
