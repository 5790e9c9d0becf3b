//! Automatic mass detection (`mass_auto`) against the phantom's ground truth: the mass is
//! found in every case that has one — overlapping the true mass label, centroid near the
//! true centroid, volume near the true volume — and nothing is found in `normal`.
//!
//! The IVC model is the phantom's truth (mask, centreline, lumen ranges), so these tests
//! judge the mass search alone, not the IVC stage.

//!
//! The printouts of every case (`examples/mass_auto_cases.rs`) share [`auto_common`].

mod auto_common;
mod truth_ivc;
use auto_common::auto;
use cavascope_mass::{build_mass, MassOutcome};
use cavascope_measurements::{SegmentOptions, Source};
use cavascope_phantom::{generate, CaseName, PhantomOptions};
use cavascope_phases::assign_roles;
use truth_ivc::{intraluminal_extension, truth_ivc, truth_landmarks};

/// Found, with the source `auto`, overlapping the truth.
fn assert_found(case: CaseName, min_dice: f64, volume_tol: f64) {
    let f = auto(case);
    let m = f
        .model
        .as_ref()
        .unwrap_or_else(|| panic!("{case}: auto mode found no mass"));
    assert_eq!(m.source, Source::Auto);
    let dice = f.dice.expect("dice");
    assert!(
        dice >= min_dice,
        "{case}: Dice {dice:.3} with the true mass < {min_dice}"
    );
    let e = f.centroid_error_mm.expect("centroid");
    assert!(e <= 10.0, "{case}: centroid {e:.1} mm from the truth");
    let t = f.truth_intraluminal.expect("truth");
    assert_eq!(
        intraluminal_extension(m),
        Some(t),
        "{case}: intraluminal extension"
    );
    let r = f.volume_ratio.expect("volume");
    assert!(
        (r - 1.0).abs() <= volume_tol,
        "{case}: volume {:.1} ml is {:.0} % of the truth",
        m.volume_ml,
        100.0 * r
    );
}

#[test]
fn normal_has_no_mass() {
    let f = auto(CaseName::Normal);
    assert!(
        f.model.is_none(),
        "normal: auto mode reported a {:?} ml mass at {:?}",
        f.model.as_ref().map(|m| m.volume_ml),
        f.model.as_ref().map(|m| m.centroid_mm)
    );
}

#[test]
fn finds_leiomyosarcoma() {
    assert_found(CaseName::IvcLeiomyosarcoma, 0.7, 0.25);
}

#[test]
fn finds_cholangiocarcinoma_mimic() {
    assert_found(CaseName::CholangiocarcinomaMimic, 0.7, 0.25);
}

#[test]
fn finds_hcc() {
    assert_found(CaseName::HccWashout, 0.7, 0.25);
}

#[test]
fn finds_extrinsic_compression() {
    assert_found(CaseName::ExtrinsicCompression, 0.7, 0.25);
}

#[test]
fn finds_liposarcoma() {
    assert_found(CaseName::Liposarcoma, 0.7, 0.25);
}

#[test]
fn finds_mri_leiomyosarcoma() {
    assert_found(CaseName::MriLeiomyosarcoma, 0.7, 0.25);
}

/// Unusable data (uniform, NaN, a single slab of noise) gives no mass and no panic.
#[test]
fn bad_input_gives_no_mass() {
    let s = generate(CaseName::Normal, &PhantomOptions::small());
    let phases = assign_roles(&s.volumes, &[]);
    let ivc = truth_ivc(&s);
    let fills: [(&str, f32); 2] = [("uniform", 40.0), ("NaN", f32::NAN)];
    for (what, v) in fills {
        let mut vols = s.volumes.clone();
        for vol in &mut vols {
            vol.data.fill(v);
        }
        let MassOutcome {
            model: m,
            warnings: w,
            ..
        } = build_mass(
            &vols,
            &phases,
            Some(&ivc),
            &truth_landmarks(&s),
            &SegmentOptions::default(),
        );
        assert!(m.is_none(), "{what}: a mass was reported");
        assert!(!w.is_empty(), "{what}: no reason given");
    }
}
