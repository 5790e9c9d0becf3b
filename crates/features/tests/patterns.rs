//! Signs and differential on hand-built measurements shaped like each phantom case.
//! The numbers are the anatomy the phantom cases draw (normal IVC ~20 mm, LMS-expanded
//! IVC ~35 mm, flattened IVC min/max ~0.4, fat −100 HU …), so each test can fail if a
//! rule or a likelihood goes wrong.

use cavascope_features::{evaluate, SignId, SignState, Thresholds};
use cavascope_measurements::*;
use cavascope_volume::{Geometry, Mask, Point3};
use ndarray::Array3;

fn tiny_mask() -> Mask {
    Mask::new(
        Array3::from_elem([1, 1, 1], false),
        Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]),
    )
}

fn segment_at(z: f64) -> IvcSegment {
    if z > 0.0 {
        IvcSegment::Upper
    } else if z > -70.0 {
        IvcSegment::Middle
    } else {
        IvcSegment::Lower
    }
}

/// An IVC from z = −160 to +60 mm; `shape(z)` gives (equivalent diameter, min/max ratio, lumen visible).
fn ivc(shape: impl Fn(f64) -> (f64, f64, bool)) -> IvcModel {
    let mut profile = Vec::new();
    let mut z = -160.0;
    let mut s = 0.0;
    while z <= 60.0 {
        let (d, ratio, vis) = shape(z);
        // An ellipse with min/max = ratio and area of a d-circle.
        let maxd = d / ratio.sqrt();
        let mind = d * ratio.sqrt();
        profile.push(Section {
            s_mm: s,
            z_mm: z,
            center_mm: [20.0, -20.0, z],
            tangent: [0.0, 0.0, 1.0],
            area_mm2: std::f64::consts::PI * d * d / 4.0,
            equivalent_diameter_mm: d,
            min_diameter_mm: mind,
            max_diameter_mm: maxd,
            ap_diameter_mm: mind,
            transverse_diameter_mm: maxd,
            flattening_ratio: ratio,
            lumen_visible: Some(vis),
            segment: Some(segment_at(z)),
        });
        z += 1.0;
        s += 1.0;
    }
    // Longest run of invisible lumen.
    let mut ranges: Vec<[f64; 2]> = Vec::new();
    let mut start: Option<f64> = None;
    for p in &profile {
        match (p.lumen_visible == Some(false), start) {
            (true, None) => start = Some(p.z_mm),
            (false, Some(s0)) => {
                ranges.push([s0, p.z_mm - 1.0]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s0) = start {
        ranges.push([s0, 60.0]);
    }
    let longest = ranges.iter().map(|r| r[1] - r[0] + 1.0).fold(0.0, f64::max);
    let vis = profile.iter().filter(|p| p.lumen_visible == Some(true)).count() as f64 / profile.len() as f64;
    let diam: Vec<f64> = profile.iter().map(|p| p.equivalent_diameter_mm).collect();
    IvcModel {
        source: Source::Seed,
        reference_series: "1.2.3.pv".into(),
        length_mm: 220.0,
        max_equivalent_diameter_mm: diam.iter().cloned().reduce(f64::max),
        min_equivalent_diameter_mm: diam.iter().cloned().reduce(f64::min),
        min_flattening_ratio: profile.iter().map(|p| p.flattening_ratio).reduce(f64::min),
        centreline: vec![],
        profile,
        lumen: LumenSummary {
            visible_fraction: Some(vis),
            longest_imperceptible_mm: Some(longest),
            imperceptible_ranges_z_mm: ranges,
            reference: Some("aorta, portal venous phase".into()),
        },
        mask: tiny_mask(),
    }
}

/// An IVC with `inside` (diameter, min/max, lumen visible) on z in `range` and `outside` elsewhere.
fn ivc_with_stretch(range: [f64; 2], inside: (f64, f64, bool), outside: (f64, f64, bool)) -> IvcModel {
    ivc(|z| {
        if (range[0]..=range[1]).contains(&z) {
            inside
        } else {
            outside
        }
    })
}

fn set_contact(m: &mut Measurements, range: [f64; 2]) {
    if let Some(x) = m.mass.as_mut() {
        x.contact_z_range_mm = Some(range);
    }
}

fn sign_of(m: &Measurements, id: SignId) -> cavascope_features::Sign {
    evaluate(m, &Thresholds::default()).sign(id).unwrap().clone()
}

fn ct_phases() -> Vec<PhaseInfo> {
    [
        Role::CtUnenhanced,
        Role::CtArterial,
        Role::CtPortalVenous,
        Role::CtDelayed,
    ]
    .iter()
    .enumerate()
    .map(|(i, r)| PhaseInfo {
        volume_index: i,
        series_instance_uid: format!("1.2.3.{i}"),
        role: *r,
        role_source: RoleSource::Tags,
    })
    .collect()
}

fn mr_phases() -> Vec<PhaseInfo> {
    [
        Role::MrT1Pre,
        Role::MrT1Arterial,
        Role::MrT1PortalVenous,
        Role::MrT1Delayed,
        Role::MrT2,
        Role::MrDwi,
        Role::MrAdc,
    ]
    .iter()
    .enumerate()
    .map(|(i, r)| PhaseInfo {
        volume_index: i,
        series_instance_uid: format!("1.2.4.{i}"),
        role: *r,
        role_source: RoleSource::Tags,
    })
    .collect()
}

/// Enhancement means per phase [unenhanced, arterial, PV, delayed] and arterial CV.
fn enhancement(roles: &[Role], means: [f64; 4], cv_art: f64, relative: bool) -> Vec<PhaseEnhancement> {
    roles
        .iter()
        .zip(means)
        .map(|(r, m)| PhaseEnhancement {
            role: *r,
            series_instance_uid: String::new(),
            acquisition_time_s: None,
            mean: m,
            sd: m.abs() * if r.is_baseline() { 0.1 } else { cv_art },
            cv: if matches!(r, Role::CtArterial | Role::MrT1Arterial) {
                cv_art
            } else {
                0.1
            },
            delta_from_unenhanced: Some(if relative {
                (m - means[0]) / means[0] * 100.0
            } else {
                m - means[0]
            }),
            shell_means: vec![],
        })
        .collect()
}

const CT_ROLES: [Role; 4] = [
    Role::CtUnenhanced,
    Role::CtArterial,
    Role::CtPortalVenous,
    Role::CtDelayed,
];
const MR_ROLES: [Role; 4] = [
    Role::MrT1Pre,
    Role::MrT1Arterial,
    Role::MrT1PortalVenous,
    Role::MrT1Delayed,
];

#[allow(clippy::too_many_arguments)]
fn mass(
    segment: IvcSegment,
    contact: Option<[f64; 2]>,
    intraluminal: bool,
    fat: f64,
    enh: Vec<PhaseEnhancement>,
    cv_art: f64,
    centripetal: bool,
    mr: Option<MrMeasures>,
) -> MassModel {
    MassModel {
        source: Source::Seed,
        volume_ml: 150.0,
        max_diameter_mm: 70.0,
        centroid_mm: [10.0, -20.0, -40.0],
        ivc_segment: Some(segment),
        contact_arc_deg: contact.map(|_| 120.0),
        contact_z_range_mm: contact,
        // A plug of 5 ml, or none at all.
        intraluminal_ml: Some(if intraluminal { 5.0 } else { 0.0 }),
        intraluminal_z_range_mm: None,
        fat_fraction: Some(fat),
        calcified_fraction: Some(0.0),
        enhancement: enh,
        pattern: None,
        arterial_heterogeneity_cv: Some(cv_art),
        centripetal: Some(centripetal),
        mr,
        mask: tiny_mask(),
    }
}

fn collaterals(d: f64) -> Collaterals {
    Collaterals {
        max_diameter_mm: Some(d),
        ..Default::default()
    }
}

/// Collaterals as the stage reports them: one vessel per `(name, diameter)`, 2 ml each.
fn named_collaterals(vessels: &[(&str, f64)], not_assessed: Vec<String>) -> Collaterals {
    Collaterals {
        max_diameter_mm: vessels.iter().map(|v| v.1).reduce(f64::max),
        veins: vessels
            .iter()
            .map(|(n, d)| NamedVein {
                name: n.to_string(),
                diameter_mm: Some(*d),
            })
            .collect(),
        vessels: vessels
            .iter()
            .map(|(n, d)| CollateralVessel {
                name: n.to_string(),
                diameter_mm: *d,
                volume_ml: 2.0,
                voxels: vec![],
            })
            .collect(),
        grid: None,
        not_assessed,
    }
}

fn normal_case() -> Measurements {
    Measurements {
        phases: ct_phases(),
        ivc: Some(ivc(|_| (20.0, 0.75, true))),
        mass: None,
        collaterals: Some(collaterals(4.0)),
        ..Default::default()
    }
}

fn lms_case() -> Measurements {
    let contact = [-60.0, -10.0];
    Measurements {
        phases: ct_phases(),
        ivc: Some(ivc(|z| {
            if (-60.0..=-10.0).contains(&z) {
                (36.0, 0.85, false)
            } else {
                (20.0, 0.75, true)
            }
        })),
        mass: Some(mass(
            IvcSegment::Middle,
            Some(contact),
            true,
            0.0,
            enhancement(&CT_ROLES, [40.0, 85.0, 100.0, 115.0], 0.4, false),
            0.4,
            false,
            None,
        )),
        collaterals: Some(collaterals(9.0)),
        ..Default::default()
    }
}

fn compressed_ivc() -> IvcModel {
    ivc(|z| {
        if (-60.0..=-20.0).contains(&z) {
            (13.0, 0.35, true)
        } else {
            (20.0, 0.75, true)
        }
    })
}

fn extrinsic_case() -> Measurements {
    Measurements {
        phases: ct_phases(),
        ivc: Some(compressed_ivc()),
        mass: Some(mass(
            IvcSegment::Middle,
            Some([-60.0, -20.0]),
            false,
            0.0,
            enhancement(&CT_ROLES, [40.0, 70.0, 85.0, 90.0], 0.15, false),
            0.15,
            false,
            None,
        )),
        collaterals: Some(collaterals(4.0)),
        ..Default::default()
    }
}

fn liposarcoma_case() -> Measurements {
    Measurements {
        phases: ct_phases(),
        ivc: Some(compressed_ivc()),
        mass: Some(mass(
            IvcSegment::Middle,
            Some([-60.0, -20.0]),
            false,
            0.6,
            enhancement(&CT_ROLES, [-60.0, -50.0, -45.0, -45.0], 0.15, false),
            0.15,
            false,
            None,
        )),
        collaterals: Some(collaterals(4.0)),
        ..Default::default()
    }
}

fn icc_case() -> Measurements {
    Measurements {
        phases: ct_phases(),
        ivc: Some(ivc(|_| (20.0, 0.75, true))),
        mass: Some(mass(
            IvcSegment::Upper,
            Some([10.0, 40.0]),
            false,
            0.0,
            enhancement(&CT_ROLES, [40.0, 70.0, 90.0, 110.0], 0.35, false),
            0.35,
            true,
            None,
        )),
        collaterals: Some(collaterals(4.0)),
        ..Default::default()
    }
}

fn hcc_case() -> Measurements {
    Measurements {
        phases: ct_phases(),
        ivc: Some(ivc(|_| (20.0, 0.75, true))),
        mass: Some(mass(
            IvcSegment::Upper,
            None,
            false,
            0.0,
            enhancement(&CT_ROLES, [40.0, 120.0, 80.0, 65.0], 0.12, false),
            0.12,
            false,
            None,
        )),
        collaterals: Some(collaterals(4.0)),
        ..Default::default()
    }
}

fn mri_lms_case() -> Measurements {
    let mut m = lms_case();
    m.phases = mr_phases();
    if let Some(mass) = m.mass.as_mut() {
        mass.enhancement = enhancement(&MR_ROLES, [300.0, 450.0, 520.0, 600.0], 0.4, true);
        mass.fat_fraction = None;
        mass.calcified_fraction = None;
        mass.mr = Some(MrMeasures {
            t1_ratio_to_muscle: Some(0.8),
            t2_ratio_to_muscle: Some(2.0),
            adc_mean: Some(0.95),
            adc_reference: Some(1.4),
            muscle_roi_center_mm: Some([60.0, 40.0, -40.0]),
        });
    }
    m
}

use SignState::{Absent as A, Indeterminate as I, Present as P};

fn check(m: &Measurements, expect: &[(SignId, SignState)], top: &str) {
    let f = evaluate(m, &Thresholds::default());
    assert_eq!(f.signs.len(), 13);
    for (id, st) in expect {
        let s = f.sign(*id).unwrap();
        assert_eq!(s.state, *st, "{:?}: {}", id, s.explanation);
        assert!(!s.explanation.is_empty());
    }
    assert_eq!(f.differential[0].diagnosis, top, "{:#?}", f.differential);
    for w in f.differential.windows(2) {
        assert!(w[0].score >= w[1].score);
    }
    let total: f64 = f.differential.iter().map(|d| d.score).sum();
    assert!((total - 1.0).abs() < 1e-9);
    assert!(!f.differential[0].explanation.is_empty());
}

use SignId::*;

#[test]
fn normal_pattern() {
    check(
        &normal_case(),
        &[
            (DilatedIvc, A),
            (ImperceptibleIvcLumen, A),
            (ProminentCollaterals, A),
            (IvcExtrinsicCompression, A),
            (IntraluminalExtension, A),
            (Washout, A),
            (InternalFat, A),
            (T1Hypointense, I),
            (DiffusionRestriction, I),
        ],
        "no_mass",
    );
}

#[test]
fn leiomyosarcoma_pattern() {
    check(
        &lms_case(),
        &[
            (DilatedIvc, P),
            (ImperceptibleIvcLumen, P),
            (ProminentCollaterals, P),
            (IvcExtrinsicCompression, A),
            (IntraluminalExtension, P),
            (HeterogeneousArterialEnhancement, P),
            (ProgressiveDelayedEnhancement, P),
            (Washout, A),
            (InternalFat, A),
            (Calcification, A),
            (T1Hypointense, I),
            (T2Hyperintense, I),
            (DiffusionRestriction, I),
        ],
        "ivc_leiomyosarcoma",
    );
}

#[test]
fn dilated_by_own_reference_below_megacava() {
    // 26 mm at the mass against a 17 mm own IVC: under 28 mm and under the lower-level
    // limit, but 1.5 × the patient's own calibre.
    // In the lower segment (limit 26 mm on the minimum diameter).
    let mut m = lms_case();
    set_contact(&mut m, [-130.0, -90.0]);
    m.ivc = Some(ivc_with_stretch(
        [-130.0, -90.0],
        (26.0, 0.9, false),
        (17.0, 0.9, true),
    ));
    let s = sign_of(&m, DilatedIvc);
    assert_eq!(s.state, P, "{}", s.explanation);
    assert!(s.explanation.contains("own uninvolved IVC"), "{}", s.explanation);
    // The same 26 mm with no mass (no contact, no own reference) is not dilated.
    m.mass = None;
    assert_eq!(sign_of(&m, DilatedIvc).state, A);
}

#[test]
fn level_aware_minimum_diameter() {
    // 24 mm round in the middle segment: above the 22 mm middle limit, below 28 mm.
    let m = Measurements {
        phases: ct_phases(),
        // −69.5 excludes −70, which is the lower segment.
        ivc: Some(ivc_with_stretch(
            [-69.5, 0.0],
            (24.0, 0.97, true),
            (20.0, 0.75, true),
        )),
        ..Default::default()
    };
    let s = sign_of(&m, DilatedIvc);
    assert_eq!(s.state, P, "{}", s.explanation);
    assert_eq!(s.threshold, Some(22.0));
    // The same calibre in the lower segment (limit 26 mm) is normal.
    let m = Measurements {
        phases: ct_phases(),
        ivc: Some(ivc_with_stretch(
            [f64::MIN, -70.0],
            (24.0, 0.97, true),
            (20.0, 0.75, true),
        )),
        ..Default::default()
    };
    assert_eq!(sign_of(&m, DilatedIvc).state, A);
}

#[test]
fn extrinsic_compression_pattern() {
    check(
        &extrinsic_case(),
        &[
            (DilatedIvc, A),
            (ImperceptibleIvcLumen, A),
            (ProminentCollaterals, A),
            (IvcExtrinsicCompression, P),
            (IntraluminalExtension, A),
            (HeterogeneousArterialEnhancement, A),
            (Washout, A),
            (InternalFat, A),
        ],
        "extrinsic_retroperitoneal_mass",
    );
}

#[test]
fn compression_needs_normal_calibre_above_and_below() {
    // Flat over the whole length: that is a flat cava (hypovolaemia), not compression.
    let mut m = extrinsic_case();
    m.ivc = Some(ivc(|_| (13.0, 0.35, true)));
    let s = sign_of(&m, IvcExtrinsicCompression);
    assert_eq!(s.state, A, "{}", s.explanation);
}

#[test]
fn liposarcoma_pattern() {
    check(
        &liposarcoma_case(),
        &[
            (IvcExtrinsicCompression, P),
            (InternalFat, P),
            (DilatedIvc, A),
            (ImperceptibleIvcLumen, A),
        ],
        "retroperitoneal_liposarcoma",
    );
}

#[test]
fn cholangiocarcinoma_pattern() {
    check(
        &icc_case(),
        &[
            (DilatedIvc, A),
            (ImperceptibleIvcLumen, A),
            (ProminentCollaterals, A),
            (IvcExtrinsicCompression, A),
            (HeterogeneousArterialEnhancement, P),
            (ProgressiveDelayedEnhancement, P),
            (Washout, A),
        ],
        "intrahepatic_cholangiocarcinoma",
    );
}

#[test]
fn hcc_pattern() {
    check(
        &hcc_case(),
        &[
            (Washout, P),
            (ProgressiveDelayedEnhancement, A),
            (IvcExtrinsicCompression, A),
            (DilatedIvc, A),
        ],
        "hepatocellular_carcinoma",
    );
}

#[test]
fn mri_leiomyosarcoma_pattern() {
    check(
        &mri_lms_case(),
        &[
            (DilatedIvc, P),
            (ImperceptibleIvcLumen, P),
            (T1Hypointense, P),
            (T2Hyperintense, P),
            (DiffusionRestriction, P),
            (ProgressiveDelayedEnhancement, P),
            (Washout, A),
            (InternalFat, I),
            (Calcification, I),
        ],
        "ivc_leiomyosarcoma",
    );
}

#[test]
fn removing_a_phase_makes_its_signs_indeterminate() {
    // Without the delayed phase: progressive cannot be judged; washout still can (PV).
    let mut m = lms_case();
    m.phases.retain(|p| p.role != Role::CtDelayed);
    if let Some(x) = m.mass.as_mut() {
        x.enhancement.retain(|e| e.role != Role::CtDelayed);
    }
    let f = evaluate(&m, &Thresholds::default());
    assert_eq!(f.sign(ProgressiveDelayedEnhancement).unwrap().state, I);
    assert_eq!(f.sign(Washout).unwrap().state, A);
    // Without the arterial phase: heterogeneity and washout are indeterminate.
    let mut m = lms_case();
    m.phases.retain(|p| p.role != Role::CtArterial);
    let f = evaluate(&m, &Thresholds::default());
    assert_eq!(f.sign(HeterogeneousArterialEnhancement).unwrap().state, I);
    assert_eq!(f.sign(Washout).unwrap().state, I);
    // Unenhanced only: the lumen cannot be judged.
    let mut m = lms_case();
    m.phases.retain(|p| p.role == Role::CtUnenhanced);
    let f = evaluate(&m, &Thresholds::default());
    assert_eq!(f.sign(ImperceptibleIvcLumen).unwrap().state, I);
    assert!(f.warnings.iter().any(|w| w.contains("imperceptible_ivc_lumen")));
    // LMS still leads on the IVC signs alone.
    assert_eq!(f.differential[0].diagnosis, "ivc_leiomyosarcoma");
}

#[test]
fn missing_measurements_never_give_absent() {
    let mut m = lms_case();
    m.ivc = None;
    m.collaterals = None;
    if let Some(x) = m.mass.as_mut() {
        x.fat_fraction = None;
        x.calcified_fraction = None;
        x.intraluminal_ml = None;
        x.arterial_heterogeneity_cv = None;
        x.enhancement.clear();
    }
    let f = evaluate(&m, &Thresholds::default());
    for s in &f.signs {
        assert_eq!(s.state, I, "{:?}: {}", s.id, s.explanation);
        assert!(s.value.is_none());
    }
}

#[test]
fn thresholds_move_the_decision() {
    let m = lms_case();
    let t = Thresholds::from_toml_str("dilated_equivalent_diameter_mm = 40.0\nnormal_min_diameter_middle_mm = 40.0\nown_ivc_min_ratio = 2.0\n").unwrap();
    let f = evaluate(&m, &t);
    assert_eq!(f.sign(DilatedIvc).unwrap().state, A);
}

#[test]
fn a_mass_search_that_could_not_run_is_not_a_negative() {
    let mut m = normal_case();
    m.mass_not_searched = Some("automatic detection unavailable".into());
    let f = evaluate(&m, &Thresholds::default());
    for id in [
        IntraluminalExtension,
        Washout,
        InternalFat,
        IvcExtrinsicCompression,
    ] {
        let s = f.sign(id).unwrap();
        assert_eq!(s.state, I, "{id:?}: {}", s.explanation);
        assert!(s.explanation.contains("automatic detection unavailable"));
    }
    // Without evidence on the mass, no_mass is not favoured by the mass search.
    assert!(
        f.differential
            .iter()
            .find(|d| d.diagnosis == "no_mass")
            .unwrap()
            .score
            < 0.9
    );
}

#[test]
fn compression_found_when_the_measured_contact_is_shorter_than_the_flattening() {
    // Flattened from −60 to −20 mm, but the segment stage saw contact only at −45..−40,
    // and the slit lumen of the flattened stretch reads as not opacified.
    let mut m = extrinsic_case();
    set_contact(&mut m, [-45.0, -40.0]);
    m.ivc = Some(ivc_with_stretch(
        [-60.0, -20.0],
        (13.0, 0.35, false),
        (20.0, 0.75, true),
    ));
    let f = evaluate(&m, &Thresholds::default());
    let s = f.sign(IvcExtrinsicCompression).unwrap();
    assert_eq!(s.state, P, "{}", s.explanation);
    assert!(
        s.explanation.contains("from z -60.0 to -20.0"),
        "{}",
        s.explanation
    );
    let s = f.sign(ImperceptibleIvcLumen).unwrap();
    assert_eq!(s.state, A, "{}", s.explanation);
    assert!(s.explanation.contains("flattened section"), "{}", s.explanation);
    assert_eq!(f.differential[0].diagnosis, "extrinsic_retroperitoneal_mass");
}

#[test]
fn flattening_far_beyond_the_mass_is_a_flat_cava() {
    // Flat from −160 to −10 mm; the mass touches −60..−40 only.
    let mut m = extrinsic_case();
    set_contact(&mut m, [-60.0, -40.0]);
    m.ivc = Some(ivc_with_stretch(
        [f64::MIN, -10.0],
        (13.0, 0.35, true),
        (20.0, 0.75, true),
    ));
    let s = sign_of(&m, IvcExtrinsicCompression);
    assert_eq!(s.state, A, "{}", s.explanation);
    assert!(s.explanation.contains("flat cava"), "{}", s.explanation);
}

#[test]
fn named_collaterals_use_their_own_limits() {
    let with = |veins: &[(&str, f64)]| {
        let mut m = normal_case();
        m.collaterals = Some(named_collaterals(veins, vec![]));
        sign_of(&m, ProminentCollaterals)
    };
    // 8 mm: enlarged for a hemiazygos (7), normal for an azygos (10).
    assert_eq!(with(&[("hemiazygos", 8.0)]).state, P);
    assert_eq!(with(&[("azygos", 8.0), ("hemiazygos", 5.0)]).state, A);
    assert_eq!(with(&[("left_gonadal", 7.0)]).state, P);
    assert_eq!(with(&[("lumbar_1", 5.0)]).state, A);
    assert!(with(&[("hemiazygos", 8.0)])
        .explanation
        .contains("hemiazygos measures 8.0 mm"));
}

#[test]
fn intraluminal_sign_reports_the_deep_volume() {
    // Measured volume: the sign carries it against the thresholds' limit, whichever state.
    let mut m = lms_case();
    let mass = m.mass.as_mut().unwrap();
    mass.intraluminal_ml = Some(30.1);
    mass.intraluminal_z_range_mm = Some([-58.8, 8.8]);
    let s = sign_of(&m, IntraluminalExtension);
    assert_eq!(s.state, SignState::Present);
    assert_eq!(s.value, Some(30.1));
    assert_eq!(s.threshold, Some(Thresholds::default().intraluminal_min_ml));
    assert_eq!(s.unit.as_deref(), Some("ml"));
    assert!(
        s.explanation.contains("30.1 ml") && s.explanation.contains("-58.8"),
        "{}",
        s.explanation
    );

    // A seam under the limit: absent, and the explanation says how much and why.
    let mass = m.mass.as_mut().unwrap();
    mass.intraluminal_ml = Some(0.09);
    let s = sign_of(&m, IntraluminalExtension);
    assert_eq!(s.state, SignState::Absent);
    assert_eq!(s.value, Some(0.09));
    assert!(s.explanation.contains("0.09 ml"), "{}", s.explanation);

    // Not measured (no IVC model): indeterminate, never a guess.
    let mass = m.mass.as_mut().unwrap();
    mass.intraluminal_ml = None;
    let s = sign_of(&m, IntraluminalExtension);
    assert_eq!(s.state, SignState::Indeterminate, "{}", s.explanation);
}

#[test]
fn an_intraluminal_override_moves_the_sign_and_the_decided_value() {
    let mut m = lms_case();
    m.mass.as_mut().unwrap().intraluminal_ml = Some(0.8);
    let f = evaluate(&m, &Thresholds::default());
    assert_eq!(f.sign(IntraluminalExtension).unwrap().state, SignState::Present);
    assert_eq!(f.decided.intraluminal_extension, Some(true));
    let t = Thresholds::from_toml_str("intraluminal_min_ml = 1.0\n").unwrap();
    let f = evaluate(&m, &t);
    let s = f.sign(IntraluminalExtension).unwrap();
    assert_eq!((s.state, s.threshold), (SignState::Absent, Some(1.0)));
    assert_eq!(f.decided.intraluminal_extension, Some(false));
}

#[test]
fn a_collateral_override_moves_the_sign_and_the_count_beside_it() {
    // An 8 mm azygos (limit 10) and a 7 mm lumbar vein (limit 6), 2 ml each.
    let mut m = normal_case();
    m.collaterals = Some(named_collaterals(&[("azygos", 8.0), ("lumbar", 7.0)], vec![]));
    let f = evaluate(&m, &Thresholds::default());
    let e = f.decided.enlarged_collaterals.clone().unwrap();
    assert_eq!((e.count, e.volume_ml, e.vessels.clone()), (1, 2.0, vec![1]));
    let s = f.sign(ProminentCollaterals).unwrap();
    assert_eq!(s.state, SignState::Present);
    assert!(
        s.explanation.contains("1 enlarged collateral"),
        "{}",
        s.explanation
    );

    // Azygos limit lowered to 7.5 mm: both enlarged, counted and summed.
    let t = Thresholds::from_toml_str("azygos_diameter_mm = 7.5\n").unwrap();
    let f = evaluate(&m, &t);
    let e = f.decided.enlarged_collaterals.clone().unwrap();
    assert_eq!((e.count, e.volume_ml, e.vessels.clone()), (2, 4.0, vec![0, 1]));
    assert!(f
        .sign(ProminentCollaterals)
        .unwrap()
        .explanation
        .contains("2 enlarged collateral"));

    // Every limit raised above both: absent, and none counted.
    let t =
        Thresholds::from_toml_str("azygos_diameter_mm = 12.0\nother_collateral_diameter_mm = 9.0\n").unwrap();
    let f = evaluate(&m, &t);
    assert_eq!(f.decided.enlarged_collaterals.as_ref().unwrap().count, 0);
    assert_eq!(f.sign(ProminentCollaterals).unwrap().state, SignState::Absent);
}

// --- Quality gates: `present` only from a measurement that passed ----------------------

fn state(m: &Measurements, id: SignId) -> SignState {
    sign_of(m, id).state
}

#[test]
fn low_ivc_coverage_turns_present_into_indeterminate() {
    let mut m = lms_case();
    m.quality.ivc_coverage_fraction = Some(0.3);
    m.quality.ivc_expected_length_mm = Some(180.0);
    for id in [SignId::DilatedIvc, SignId::ImperceptibleIvcLumen] {
        let s = sign_of(&m, id);
        assert_eq!(s.state, SignState::Indeterminate, "{id:?}: {}", s.explanation);
        assert!(s.explanation.contains("covers 30%"), "{}", s.explanation);
        // What was measured stays in the explanation.
        assert!(s.explanation.contains("would read present"), "{}", s.explanation);
    }
    // Enough coverage: the measurement decides.
    m.quality.ivc_coverage_fraction = Some(0.9);
    assert_eq!(state(&m, SignId::DilatedIvc), SignState::Present);
    assert_eq!(state(&m, SignId::ImperceptibleIvcLumen), SignState::Present);
}

#[test]
fn unopacified_blood_gates_lumen_and_enhancement_signs() {
    // A series called portal venous whose blood measures 45 HU: no contrast reached it.
    let mut m = lms_case();
    m.quality.blood_pool_value = Some(45.0);
    m.quality.blood_opacified = Some(false);
    for id in [
        SignId::ImperceptibleIvcLumen,
        SignId::HeterogeneousArterialEnhancement,
        SignId::IntraluminalExtension,
        SignId::DilatedIvc,
    ] {
        let s = sign_of(&m, id);
        assert_eq!(s.state, SignState::Indeterminate, "{id:?}: {}", s.explanation);
    }
    // Nor is an absent lumen said on unopacified blood.
    let mut n = normal_case();
    n.quality = m.quality.clone();
    assert_eq!(state(&n, SignId::ImperceptibleIvcLumen), SignState::Indeterminate);
    // Opacified blood: the same measurements are present.
    m.quality.blood_pool_value = Some(160.0);
    m.quality.blood_opacified = Some(true);
    for id in [
        SignId::ImperceptibleIvcLumen,
        SignId::HeterogeneousArterialEnhancement,
        SignId::DilatedIvc,
    ] {
        assert_eq!(state(&m, id), SignState::Present, "{id:?}");
    }
}

#[test]
fn traced_calibre_on_native_ct_is_never_present() {
    // Native CT only, a traced IVC reading 34 mm below the renal veins (the outline ran
    // into the iliac confluence / abutting tissue): not `present`.
    let mut m = normal_case();
    m.phases = vec![PhaseInfo {
        volume_index: 0,
        series_instance_uid: "1.2.3.0".into(),
        role: Role::CtUnenhanced,
        role_source: RoleSource::Tags,
    }];
    m.ivc = Some(ivc(|z| {
        let d = 20.0 + 14.0 * ((-120.0 - z) / 40.0).clamp(0.0, 1.0);
        (d, 0.75, true)
    }));
    let s = sign_of(&m, SignId::DilatedIvc);
    assert_eq!(s.state, SignState::Indeterminate, "{}", s.explanation);
    assert!(s.explanation.contains("without contrast"), "{}", s.explanation);
    // From a label (--ivc-mask) the calibre is the label's: the rule decides.
    if let Some(i) = m.ivc.as_mut() {
        i.source = Source::Mask;
    }
    assert_eq!(state(&m, SignId::DilatedIvc), SignState::Present);
}

#[test]
fn a_calibre_step_within_2_mm_is_a_leak_not_a_dilated_ivc() {
    // A 4 mm spike to 30 mm with visible lumen: the outline jumped into a neighbour.
    let mut m = normal_case();
    m.ivc = Some(ivc(|z| {
        if (-72.0..=-69.0).contains(&z) {
            (30.0, 0.75, true)
        } else {
            (20.0, 0.75, true)
        }
    }));
    let s = sign_of(&m, SignId::DilatedIvc);
    assert_eq!(s.state, SignState::Indeterminate, "{}", s.explanation);
    assert!(s.explanation.contains("not continuous"), "{}", s.explanation);
    // The same calibre reached over 30 mm is a dilated IVC.
    m.ivc = Some(ivc(|z| {
        let d = 20.0 + 10.0 * ((z + 100.0) / 30.0).clamp(0.0, 1.0);
        (d, 0.75, true)
    }));
    assert_eq!(state(&m, SignId::DilatedIvc), SignState::Present);
}

#[test]
fn collaterals_with_a_pathway_not_assessed_are_not_absent() {
    let mut m = normal_case();
    let not_assessed = vec![
        "lumbar veins (beside L1–L4): no vertebral level reference (renal-vein inflow not found)".to_string(),
    ];
    m.collaterals = Some(named_collaterals(&[("hemiazygos", 6.2)], not_assessed.clone()));
    let s = sign_of(&m, SignId::ProminentCollaterals);
    assert_eq!(s.state, SignState::Indeterminate, "{}", s.explanation);
    assert!(
        s.explanation.contains("no vertebral level reference"),
        "{}",
        s.explanation
    );
    // An enlarged named vein is present whatever else was not assessed.
    m.collaterals = Some(named_collaterals(&[("azygos", 12.0)], not_assessed));
    assert_eq!(state(&m, SignId::ProminentCollaterals), SignState::Present);
}
