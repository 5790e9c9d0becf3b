//! The phantom's ground truth for the mass and collateral tests: the true IVC, mass mask
//! and landmarks come from `cavascope_testkit::truth` (shared with `features`' tests), so
//! these tests judge their own stage, not the IVC stage; beside them, the mass checks
//! against the truth. Included by the mass and collateral tests (`mod truth_ivc;`).

#![allow(dead_code, unused_imports)] // each test binary uses part of it

use cavascope_measurements::{MassModel, Pattern};
use cavascope_phantom::PhantomStudy;
pub use cavascope_testkit::truth::{truth_ivc, truth_landmarks, truth_mass_mask};

/// Intraluminal extension as `features` decides it under the default thresholds (the
/// stage reports the deep volume only).
pub fn intraluminal_extension(m: &MassModel) -> Option<bool> {
    cavascope_features::decided::intraluminal_extension(m, &cavascope_features::Thresholds::default())
}

/// Every measured phase mean of the mass within 5 HU (or signal units) of the truth.
pub fn check_phase_means(label: &str, m: &MassModel, s: &PhantomStudy) {
    let t = s.truth.mass.as_ref().expect("case has a mass");
    for e in &m.enhancement {
        let want = t.mean_by_role[e.role.as_str()];
        assert!(
            (e.mean - want).abs() <= 5.0,
            "{label}: {:?} mean {} vs {want}",
            e.role,
            e.mean
        );
    }
}

/// The enhancement pattern as the truth's, and the fat fraction (where measured) within 0.05.
pub fn check_pattern_and_fat(label: &str, m: &MassModel, s: &PhantomStudy) {
    let t = s.truth.mass.as_ref().expect("case has a mass");
    let pattern = match t.pattern.as_str() {
        "progressive" => Pattern::Progressive,
        "washout" => Pattern::Washout,
        "plateau" => Pattern::Plateau,
        _ => Pattern::None,
    };
    assert_eq!(m.pattern, Some(pattern), "{label}: pattern");
    // Fat is measured on CT (HU); a CT study must have it, an MRI study has none.
    let ct = s.truth.series.iter().any(|x| x.role.starts_with("ct_"));
    match m.fat_fraction {
        Some(f) => assert!(
            (f - t.fat_fraction).abs() <= 0.05,
            "{label}: fat {f} vs {}",
            t.fat_fraction
        ),
        None => assert!(!ct, "{label}: fat fraction not measured on a CT study"),
    }
}
