//! Collaterals against the phantom: enlarged in `ivc_leiomyosarcoma`, not in `normal`.

mod truth_ivc;
use cavascope_phantom::{generate, CaseName, PhantomOptions};
use cavascope_segment::collaterals::measure_collaterals;
use cavascope_segment::phases::assign_roles;
use truth_ivc::truth_ivc;

fn run(case: CaseName) -> (cavascope_segment::Collaterals, cavascope_phantom::Truth) {
    let s = generate(case, &PhantomOptions::small());
    let phases = assign_roles(&s.volumes, &[]);
    let ivc = truth_ivc(&s);
    let (c, w) = measure_collaterals(&s.volumes, &phases, Some(&ivc), None);
    let c = c.unwrap_or_else(|| panic!("{case}: not assessed {w:?}"));
    eprintln!("{case}: {c:?}\n  truth {:?}\n  {w:?}", s.truth.collaterals);
    (c, s.truth)
}

#[test]
fn enlarged_collaterals_in_leiomyosarcoma_not_in_normal() {
    let (normal, t) = run(CaseName::Normal);
    assert!(!t.collaterals.present);
    assert_eq!(normal.count, Some(0), "normal: no enlarged collateral");
    assert!(normal.max_diameter_mm.unwrap_or(0.0) < 6.0);

    let (lms, t) = run(CaseName::IvcLeiomyosarcoma);
    assert!(t.collaterals.present);
    let d = lms.max_diameter_mm.expect("collaterals measured");
    assert!(
        d >= 6.0 && d <= t.collaterals.max_diameter_mm * 1.15,
        "LMS max diameter {d}"
    );
    assert!(lms.count.unwrap_or(0) >= 1);
}

#[test]
#[ignore = "known gap: the azygos runs against the vertebral body and the dilated IVC in this phantom and is not isolated"]
fn azygos_diameter_in_leiomyosarcoma() {
    let (lms, t) = run(CaseName::IvcLeiomyosarcoma);
    let az = lms
        .veins
        .iter()
        .find(|v| v.name == "azygos")
        .and_then(|v| v.diameter_mm)
        .expect("azygos");
    let az_truth = t
        .collaterals
        .veins
        .iter()
        .find(|v| v.name == "azygos")
        .expect("truth azygos")
        .diameter_mm;
    assert!((az - az_truth).abs() <= 1.0, "azygos {az} vs {az_truth}");
}
