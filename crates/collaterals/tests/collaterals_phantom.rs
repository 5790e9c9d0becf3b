//! Collaterals against the phantom truth: enlarged in the leiomyosarcoma cases (CT and
//! MRI), not in the others; named veins' diameters against the drawn radii.
//!
//! Each case runs with the true IVC and the true mass mask, so the test judges this stage
//! only (the IVC and mass stages have their own tests).

#[path = "../../mass/tests/truth_ivc/mod.rs"]
mod truth_ivc;
use cavascope_collaterals::{measure_collaterals, CollateralsOutcome};
use cavascope_features::{decided::enlarged_collaterals, Thresholds};
use cavascope_measurements::{Collaterals, Landmarks, Role};
use cavascope_phantom::{generate, CaseName, PhantomOptions, Truth};
use cavascope_phases::assign_roles;
use std::sync::OnceLock;
use truth_ivc::{truth_ivc, truth_mass_mask};

/// The default limit of a gonadal, lumbar or other collateral, mm.
const ENLARGED_MM: f64 = 6.0;

/// Enlarged vessels under the default thresholds (the `features` decision).
fn enlarged_count(c: &Collaterals) -> usize {
    enlarged_collaterals(c, &Thresholds::default()).count
}

fn run(case: CaseName) -> (Collaterals, Truth) {
    run_with(case, &[])
}

/// `run` with the series of the roles in `drop` left out.
fn run_with(case: CaseName, drop: &[Role]) -> (Collaterals, Truth) {
    let mut s = generate(case, &PhantomOptions::small());
    let all = assign_roles(&s.volumes, &[]);
    let dropped: Vec<usize> = all
        .iter()
        .filter(|p| drop.contains(&p.role))
        .map(|p| p.volume_index)
        .collect();
    s.volumes = std::mem::take(&mut s.volumes)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !dropped.contains(i))
        .map(|(_, v)| v)
        .collect();
    let phases = assign_roles(&s.volumes, &[]);
    let ivc = truth_ivc(&s);
    // Only the mask of the mass matters to this stage.
    let mass = truth_mass_mask(&s);
    // The true renal-vein level: this test judges the collateral stage, not the landmarks.
    let lm = Landmarks {
        hepatic_vein_confluence_z_mm: None,
        renal_vein_inflow_z_mm: Some(s.truth.landmarks.renal_vein_inflow_z_mm),
    };
    let CollateralsOutcome {
        collaterals: c,
        warnings: w,
    } = measure_collaterals(&s.volumes, &phases, Some(&ivc), mass.as_ref(), &lm);
    let c = c.unwrap_or_else(|| panic!("{case}: not assessed {w:?}"));
    eprintln!("{case}: {c:?}\n  truth {:?}\n  {w:?}", s.truth.collaterals);
    (c, s.truth)
}

fn lms() -> &'static (Collaterals, Truth) {
    static LMS: OnceLock<(Collaterals, Truth)> = OnceLock::new();
    LMS.get_or_init(|| run(CaseName::IvcLeiomyosarcoma))
}

/// Truth diameter of the named vein (`lumbar` = the widest lumbar vein, the phantom
/// numbers them).
fn truth_diameter(t: &Truth, name: &str) -> Option<f64> {
    t.collaterals
        .veins
        .iter()
        .filter(|v| v.name == name || (name == "lumbar" && v.name.starts_with("lumbar")))
        .map(|v| v.diameter_mm)
        .reduce(f64::max)
}

/// Every vein the stage named exists in the truth and its diameter is within `tol` mm.
fn check_named(case: CaseName, c: &Collaterals, t: &Truth, tol: f64) {
    for v in &c.veins {
        let d = v
            .diameter_mm
            .unwrap_or_else(|| panic!("{case}: {} has no diameter", v.name));
        let want = truth_diameter(t, &v.name).unwrap_or_else(|| panic!("{case}: no truth vein {}", v.name));
        assert!(
            (d - want).abs() <= tol,
            "{case}: {} {d:.1} mm vs truth {want:.1} ± {tol}",
            v.name
        );
    }
}

#[test]
fn enlarged_collaterals_in_leiomyosarcoma_not_in_normal() {
    let (normal, t) = run(CaseName::Normal);
    assert!(!t.collaterals.present);
    assert_eq!(enlarged_count(&normal), 0, "normal: no enlarged collateral");
    assert!(normal.max_diameter_mm.unwrap_or(0.0) < ENLARGED_MM);

    let (lms, t) = lms();
    assert!(t.collaterals.present);
    let d = lms.max_diameter_mm.expect("collaterals measured");
    assert!(
        d >= ENLARGED_MM && d <= t.collaterals.max_diameter_mm * 1.15,
        "LMS max diameter {d}"
    );
    assert!(enlarged_count(lms) >= 1);
}

#[test]
fn azygos_diameter_in_leiomyosarcoma() {
    let (lms, t) = lms();
    let az = lms
        .veins
        .iter()
        .find(|v| v.name == "azygos")
        .and_then(|v| v.diameter_mm)
        .expect("azygos");
    let az_truth = truth_diameter(t, "azygos").expect("truth azygos");
    assert!((az - az_truth).abs() <= 1.0, "azygos {az} vs {az_truth}");
}

#[test]
fn named_veins_in_leiomyosarcoma_match_truth() {
    let (lms, t) = lms();
    for name in ["azygos", "hemiazygos", "lumbar", "left_gonadal", "right_gonadal"] {
        assert!(
            lms.veins.iter().any(|v| v.name == name),
            "{name} not identified: {:?}",
            lms.veins
        );
    }
    check_named(CaseName::IvcLeiomyosarcoma, lms, t, 1.5);
}

/// Enlarged collaterals (under the default `features` thresholds, the `prominent_collaterals` evidence) found
/// exactly where the truth has them, and every named vein the right size, in every case.
#[test]
fn prominent_collaterals_match_truth_in_every_case() {
    for case in [
        CaseName::Normal,
        CaseName::CholangiocarcinomaMimic,
        CaseName::HccWashout,
        CaseName::ExtrinsicCompression,
        CaseName::Liposarcoma,
        CaseName::MriLeiomyosarcoma,
    ] {
        let (c, t) = run(case);
        let enlarged = enlarged_count(&c) > 0;
        assert_eq!(
            enlarged, t.collaterals.present,
            "{case}: enlarged collaterals {enlarged} ({:?}) vs truth {}",
            c.veins, t.collaterals.present
        );
        check_named(case, &c, &t, 1.5);
    }
}

/// Without the unenhanced phase the vessels are told by their post-contrast values alone
/// (no blood-level enhancement): the enlarged veins in fat are still found, and nothing
/// enlarged appears in `normal`.
#[test]
fn without_the_unenhanced_phase() {
    let (normal, _) = run_with(CaseName::Normal, &[Role::CtUnenhanced]);
    assert_eq!(enlarged_count(&normal), 0, "normal: {:?}", normal.veins);
    let (lms, t) = run_with(CaseName::IvcLeiomyosarcoma, &[Role::CtUnenhanced]);
    assert!(enlarged_count(&lms) >= 1, "LMS: {:?}", lms.veins);
    check_named(CaseName::IvcLeiomyosarcoma, &lms, &t, 1.5);
}
