//! MRI measures (T1/T2 ratios to muscle, ADC) against the phantom's truth.

use cavascope_mass::mr::measure_mr;
use cavascope_phantom::{generate, CaseName, PhantomOptions, Tissue};
use cavascope_phases::assign_roles;
use cavascope_volume::Point3;

#[test]
fn mri_ratios_and_adc_on_the_true_mass() {
    let s = generate(CaseName::MriLeiomyosarcoma, &PhantomOptions::small());
    let t = s.truth.mass.as_ref().expect("mass");
    let tr = t.mr.as_ref().expect("mr truth");
    let phases = assign_roles(&s.volumes, &[]);
    for p in &phases {
        assert_eq!(Some(p.role.as_str()), s.truth.role_of(&p.series_instance_uid));
    }
    let mass = s.labels.mass.as_ref().expect("mass mask");
    let c = t.centroid_mm;
    let (m, w) = measure_mr(&s.volumes, &phases, mass, &Point3::new(c[0], c[1], c[2]));
    eprintln!("{m:?} truth {tr:?} {w:?}");
    let rel = |a: Option<f64>, b: f64| (a.expect("measured") - b).abs() / b;
    assert!(rel(m.t1_ratio_to_muscle, tr.t1_ratio_to_muscle) <= 0.10);
    assert!(rel(m.t2_ratio_to_muscle, tr.t2_ratio_to_muscle) <= 0.10);
    assert!(rel(m.adc_mean, tr.adc_mean) <= 0.10);
    // The ROI sits in muscle.
    let r = m.muscle_roi_center_mm.expect("roi");
    let idx = s.labels.geometry.world_to_index(&Point3::new(r[0], r[1], r[2]));
    let tis = s.labels.tissue[[
        idx[2].round() as usize,
        idx[1].round() as usize,
        idx[0].round() as usize,
    ]];
    assert_eq!(tis, Tissue::Muscle as u8, "ROI centre {r:?}");
}

/// MRI mass from the seed (region growing on the T1 dynamic phases): its pattern and its
/// MRI measures (T1/T2 ratios to muscle, ADC) within 10 % of the truth.
fn mri_seeded() -> (cavascope_measurements::MassModel, cavascope_phantom::PhantomStudy) {
    mri_seeded_on(1)
}

/// As [`mri_seeded`] on the phantom drawn with `phantom_seed` (other noise, sizes, texture).
fn mri_seeded_on(phantom_seed: u64) -> (cavascope_measurements::MassModel, cavascope_phantom::PhantomStudy) {
    use cavascope_mass::{build_mass, MassOutcome};
    use cavascope_measurements::SegmentOptions;
    let s = generate(
        CaseName::MriLeiomyosarcoma,
        &PhantomOptions::small().with_seed(phantom_seed),
    );
    let phases = assign_roles(&s.volumes, &[]);
    let seed = s.truth.mass_seed_mm.expect("seed");
    let opts = SegmentOptions {
        mass_seed: Some(Point3::new(seed[0], seed[1], seed[2])),
        ..Default::default()
    };
    let MassOutcome {
        model: m,
        warnings: w,
        ..
    } = build_mass(&s.volumes, &phases, None, &Default::default(), &opts);
    let m = m.unwrap_or_else(|| panic!("no mass: {w:?}"));
    let t = s.truth.mass.as_ref().expect("mass");
    eprintln!(
        "volume {:.1} (truth {:.1}) diameter {:.1} (truth {:.1}) pattern {:?} (truth {}) arterial CV {:?} (truth {:.3}) mr {:?} (truth {:?}) {w:?}",
        m.volume_ml,
        t.volume_ml,
        m.max_diameter_mm,
        t.max_diameter_mm,
        m.pattern,
        t.pattern,
        m.arterial_heterogeneity_cv,
        t.arterial_heterogeneity_cv,
        m.mr,
        t.mr
    );
    (m, s)
}

#[test]
fn mri_seeded_mass_measures() {
    let (m, s) = mri_seeded();
    let t = s.truth.mass.as_ref().expect("mass");
    let tr = t.mr.as_ref().expect("mr truth");
    assert_eq!(t.pattern, "progressive");
    assert_eq!(m.pattern, Some(cavascope_measurements::Pattern::Progressive));
    let mr = m.mr.as_ref().expect("mr measures");
    let rel = |a: Option<f64>, b: f64| (a.expect("measured") - b).abs() / b;
    assert!(
        rel(mr.t1_ratio_to_muscle, tr.t1_ratio_to_muscle) <= 0.10,
        "T1 {mr:?}"
    );
    assert!(
        rel(mr.t2_ratio_to_muscle, tr.t2_ratio_to_muscle) <= 0.10,
        "T2 {mr:?}"
    );
    assert!(rel(mr.adc_mean, tr.adc_mean) <= 0.10, "ADC {mr:?}");
}

#[test]
fn mri_seeded_mass_volume() {
    check_mri_seeded_volume(1);
}

/// Robustness: drawn with phantom seed 2 the tumour's eccentric necrosis has its
/// non-enhancing core 4 voxels beyond the grown solid part (it was missed at a 3-voxel
/// reach, and with it the necrosis blend and the solid rim beyond: 59.0 ml vs 89.4).
#[test]
fn mri_seeded_mass_volume_phantom_seed_2() {
    let (m, _) = check_mri_seeded_volume(2);
    assert_eq!(m.pattern, Some(cavascope_measurements::Pattern::Progressive));
}

/// Known gap (docs/measurements-mass.md): drawn with phantom seed 3 the seeded MRI mass
/// misses the solid rim beside the liver beyond the necrosis (80.9 ml vs 93.9, −13.9 %).
#[test]
#[ignore = "known gap: MRI leiomyosarcoma draw 3 seeded volume −13.9 % (target ±10 %)"]
fn known_gap_mri_seeded_mass_volume_phantom_seed_3() {
    check_mri_seeded_volume(3);
}

/// Volume and largest diameter of the seeded MRI mass within 10 % of the truth (the CT
/// checks' ±5 HU phase means do not apply to MRI signal).
fn check_mri_seeded_volume(
    phantom_seed: u64,
) -> (cavascope_measurements::MassModel, cavascope_phantom::PhantomStudy) {
    let (m, s) = mri_seeded_on(phantom_seed);
    let t = s.truth.mass.as_ref().expect("mass");
    let rel = |a: f64, b: f64| (a - b).abs() / b;
    assert!(
        rel(m.volume_ml, t.volume_ml) <= 0.10,
        "volume {:.1} vs {:.1} ml ({:+.1} %, target ±10 %)",
        m.volume_ml,
        t.volume_ml,
        100.0 * (m.volume_ml - t.volume_ml) / t.volume_ml
    );
    assert!(
        rel(m.max_diameter_mm, t.max_diameter_mm) <= 0.10,
        "diameter {} vs {}",
        m.max_diameter_mm,
        t.max_diameter_mm
    );
    (m, s)
}

/// Without the DWI series the ADC comes from the scanner's ADC map (read, not fitted):
/// the same mean within 10 % of the truth, so either path serves a study.
#[test]
fn adc_from_the_adc_series_without_dwi() {
    let s = generate(CaseName::MriLeiomyosarcoma, &PhantomOptions::small());
    let tr = s
        .truth
        .mass
        .as_ref()
        .and_then(|t| t.mr.clone())
        .expect("mr truth");
    let phases: Vec<_> = assign_roles(&s.volumes, &[])
        .into_iter()
        .filter(|p| p.role != cavascope_measurements::Role::MrDwi)
        .collect();
    assert!(phases
        .iter()
        .any(|p| p.role == cavascope_measurements::Role::MrAdc));
    let mass = s.labels.mass.as_ref().expect("mass mask");
    let c = s.truth.mass.as_ref().expect("mass").centroid_mm;
    let (m, w) = measure_mr(&s.volumes, &phases, mass, &Point3::new(c[0], c[1], c[2]));
    let adc = m.adc_mean.unwrap_or_else(|| panic!("no ADC: {w:?}"));
    assert!(
        (adc - tr.adc_mean).abs() <= 0.10 * tr.adc_mean,
        "ADC {adc} vs {}",
        tr.adc_mean
    );
}
