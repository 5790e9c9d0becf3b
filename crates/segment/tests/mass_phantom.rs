//! The mass stage against the phantom's ground truth (issue 5 accuracy targets).

#[path = "../../mass/tests/truth_ivc/mod.rs"]
mod truth_ivc;
use cavascope_mass::{build_mass, MassOutcome};
use cavascope_phantom::{generate, CaseName, PhantomOptions};
use cavascope_phases::assign_roles;
use cavascope_segment::{SegmentOptions, Source};
use cavascope_volume::Point3;
use truth_ivc::{
    check_pattern_and_fat, check_phase_means, intraluminal_extension, truth_ivc, truth_landmarks,
};

fn check_seeded(case: CaseName) {
    check_seeded_on(case, 1);
}

/// As [`check_seeded`] on the phantom drawn with `phantom_seed` (other noise, sizes and
/// texture; the truth's own seed point).
fn check_seeded_on(case: CaseName, phantom_seed: u64) {
    let s = generate(case, &PhantomOptions::small().with_seed(phantom_seed));
    let t = s.truth.mass.as_ref().expect("case has a mass");
    let phases = assign_roles(&s.volumes, &[]);
    for p in &phases {
        assert_eq!(
            Some(p.role.as_str()),
            s.truth.role_of(&p.series_instance_uid),
            "{case}: role of {}",
            p.series_instance_uid
        );
    }
    let seed = s.truth.mass_seed_mm.expect("seed");
    let opts = SegmentOptions {
        mass_seed: Some(Point3::new(seed[0], seed[1], seed[2])),
        ..Default::default()
    };
    let ivc = truth_ivc(&s);
    let MassOutcome {
        model: m,
        warnings: w,
        ..
    } = build_mass(&s.volumes, &phases, Some(&ivc), &truth_landmarks(&s), &opts);
    let m = m.unwrap_or_else(|| panic!("{case}: no mass: {w:?}"));
    eprintln!(
        "{case}: volume {:.1} ml (truth {:.1}), max diameter {:.1} mm (truth {:.1}), fat {:?} (truth {:.3}), pattern {:?} (truth {}), het {:?} (truth {:.3}), arc {:?} (truth {:.0}), intraluminal {:?} (truth {}), centripetal {:?}\n  warnings {w:?}",
        m.volume_ml,
        t.volume_ml,
        m.max_diameter_mm,
        t.max_diameter_mm,
        m.fat_fraction,
        t.fat_fraction,
        m.pattern,
        t.pattern,
        m.arterial_heterogeneity_cv,
        t.arterial_heterogeneity_cv,
        m.contact_arc_deg,
        t.contact_arc_deg,
        intraluminal_extension(&m),
        t.intraluminal_extension,
        m.centripetal
    );
    for e in &m.enhancement {
        eprintln!(
            "  {:?}: mean {:.1} (truth {:.1}) sd {:.1} shells {:?}",
            e.role,
            e.mean,
            t.mean_by_role.get(e.role.as_str()).copied().unwrap_or(f64::NAN),
            e.sd,
            e.shell_means
        );
    }
    assert_eq!(m.source, Source::Seed);
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-9);
    assert!(
        rel(m.volume_ml, t.volume_ml) <= 0.10,
        "{case}: volume {:.1} vs {:.1} ml ({:+.1} %, target ±10 %)",
        m.volume_ml,
        t.volume_ml,
        100.0 * (m.volume_ml - t.volume_ml) / t.volume_ml
    );
    assert!(
        rel(m.max_diameter_mm, t.max_diameter_mm) <= 0.10,
        "{case}: diameter {:.1} vs {:.1} mm ({:+.1} %, target ±10 %)",
        m.max_diameter_mm,
        t.max_diameter_mm,
        100.0 * (m.max_diameter_mm - t.max_diameter_mm) / t.max_diameter_mm
    );
    check_phase_means(&case.to_string(), &m, &s);
    check_pattern_and_fat(&case.to_string(), &m, &s);
    // These CT cases have an unenhanced phase: the calcified fraction must be measured.
    let c = m
        .calcified_fraction
        .unwrap_or_else(|| panic!("{case}: calcified fraction not measured: {w:?}"));
    assert!((c - t.calcified_fraction).abs() <= 0.05, "{case}: calcium {c}");
    let c = m.centroid_mm;
    let d = ((c[0] - t.centroid_mm[0]).powi(2)
        + (c[1] - t.centroid_mm[1]).powi(2)
        + (c[2] - t.centroid_mm[2]).powi(2))
    .sqrt();
    assert!(d <= 5.0, "{case}: centroid off by {d} mm");
    assert_eq!(
        intraluminal_extension(&m),
        Some(t.intraluminal_extension),
        "{case}: intraluminal"
    );
    let seg = format!("{:?}", m.ivc_segment.expect("segment")).to_lowercase();
    assert_eq!(seg, t.ivc_segment, "{case}: segment");
}

#[test]
fn seeded_leiomyosarcoma() {
    check_seeded(CaseName::IvcLeiomyosarcoma);
}

#[test]
fn seeded_cholangiocarcinoma_mimic() {
    check_seeded(CaseName::CholangiocarcinomaMimic);
}

/// Robustness: the leiomyosarcoma phantom drawn with seed 2 puts the truth's seed point in
/// a strongly enhancing patch of the tumour (arterial ≈ 135 HU, tumour 20–170 HU).
#[test]
fn seeded_leiomyosarcoma_phantom_seed_2() {
    check_seeded_on(CaseName::IvcLeiomyosarcoma, 2);
}

/// The liposarcoma drawn with seed 3: solid parts that fat lobules cut off from the
/// seed's part join across them (volume −10.6 % before, now −7.1 %; diameter within 10 %).
#[test]
fn seeded_liposarcoma_phantom_seed_3() {
    check_seeded_on(CaseName::Liposarcoma, 3);
}

// Known gaps (docs/measurements-mass.md): seeded growth on other phantom draws.
#[test]
#[ignore = "known gap: cholangiocarcinoma mimic draw 2 seeded diameter +11.5 % (target ±10 %)"]
fn known_gap_seeded_cholangiocarcinoma_mimic_phantom_seed_2() {
    check_seeded_on(CaseName::CholangiocarcinomaMimic, 2);
}

#[test]
#[ignore = "known gap: liposarcoma draw 2 seeded volume −13.7 % (target ±10 %; −16 % before the join across lobules): 46 ml of fat lobules at the surface missed"]
fn known_gap_seeded_liposarcoma_phantom_seed_2() {
    check_seeded_on(CaseName::Liposarcoma, 2);
}

/// Any other draw: `CASE=… SEED=… cargo test … seeded_other_phantom_seed -- --ignored`
/// (both required; asserts the same targets).
#[test]
#[ignore = "on demand: a chosen phantom draw (CASE, SEED env, both required)"]
fn seeded_other_phantom_seed() {
    let case = std::env::var("CASE")
        .ok()
        .and_then(|c| CaseName::parse(&c))
        .expect("CASE=<phantom case> required");
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("SEED=<phantom seed> required");
    check_seeded_on(case, seed);
}

#[test]
fn seeded_extrinsic_compression() {
    check_seeded(CaseName::ExtrinsicCompression);
}

#[test]
fn seeded_liposarcoma() {
    check_seeded(CaseName::Liposarcoma);
}

#[test]
fn seeded_hcc() {
    check_seeded(CaseName::HccWashout);
}

/// The phantom's truth IVC with its truth lumen ranges: auto mode finds the tumour that
/// fills the IVC, and nothing in `normal`.
fn auto_case(case: CaseName) -> Option<cavascope_segment::MassModel> {
    let s = generate(case, &PhantomOptions::small());
    let phases = assign_roles(&s.volumes, &[]);
    let mut ivc = truth_ivc(&s);
    ivc.lumen.imperceptible_ranges_z_mm = s.truth.ivc.lumen.imperceptible_ranges_z_mm.clone();
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
    eprintln!("{case}: {:?} ml; {w:?}", m.as_ref().map(|m| m.volume_ml));
    if let (Some(m), Some(t)) = (&m, &s.truth.mass) {
        let c = m.centroid_mm;
        let d = ((c[0] - t.centroid_mm[0]).powi(2)
            + (c[1] - t.centroid_mm[1]).powi(2)
            + (c[2] - t.centroid_mm[2]).powi(2))
        .sqrt();
        assert!(d <= 15.0, "{case}: auto mass centroid {d} mm from truth");
        assert_eq!(m.source, Source::Auto);
    }
    m
}

#[test]
fn auto_finds_the_tumour_filling_the_ivc_and_nothing_in_normal() {
    assert!(auto_case(CaseName::Normal).is_none());
    assert!(auto_case(CaseName::IvcLeiomyosarcoma).is_some());
}

/// The whole stage with both seeds (the IVC from the tracker, not the truth): the seeded
/// extrinsic mass touches the IVC over the truth's contact, and its arc matches the
/// truth's within 20°.
#[test]
fn seeded_extrinsic_contact_with_the_tracked_ivc() {
    let s = generate(CaseName::ExtrinsicCompression, &PhantomOptions::small());
    let t = s.truth.mass.as_ref().expect("case has a mass");
    let p = |v: [f64; 3]| Point3::new(v[0], v[1], v[2]);
    let opts = SegmentOptions {
        ivc_seed: Some(p(s.truth.ivc_seed_mm)),
        mass_seed: s.truth.mass_seed_mm.map(p),
        ..Default::default()
    };
    let m = cavascope_segment::measure(&s.volumes, &opts);
    let mass = m.mass.as_ref().expect("mass");
    eprintln!(
        "arc {:?} (truth {:.0}), z range {:?}, volume {:.1}",
        mass.contact_arc_deg, t.contact_arc_deg, mass.contact_z_range_mm, mass.volume_ml
    );
    assert!(mass.contact_z_range_mm.is_some(), "no contact: {:?}", m.warnings);
    let arc = mass.contact_arc_deg.expect("arc");
    assert!(
        (arc - t.contact_arc_deg).abs() <= 20.0,
        "arc {arc} vs truth {}",
        t.contact_arc_deg
    );
}
