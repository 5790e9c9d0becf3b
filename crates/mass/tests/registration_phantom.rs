//! Breathing between phases: the phantom's arterial and delayed phases are displaced in
//! world space (as a patient who took another breath), and the mass stage must find the
//! shifts and still measure every phase of the mass as the truth.

mod truth_ivc;

use cavascope_ingest::labelmap::read_label_mask;
use cavascope_mass::{build_mass, MassOutcome};
use cavascope_measurements::{MaskInput, SegmentOptions, Source};
use cavascope_phantom::{generate, CaseName, PhantomOptions};
use cavascope_phases::assign_roles;
use cavascope_volume::{nifti_io, Geometry, Matrix4, Vector3};
use truth_ivc::{check_phase_means, truth_ivc, truth_landmarks};

/// The same voxels, seen `t` mm further along in world space.
fn displaced(g: &Geometry, t: Vector3<f64>) -> Geometry {
    Geometry::from_affine(Matrix4::new_translation(&t) * g.affine()).expect("invertible")
}

/// The translation reported for `uid` in the stage's notes, if any.
fn reported_shift(w: &[String], uid: &str) -> Option<Vector3<f64>> {
    let line = w
        .iter()
        .find(|l| l.starts_with("registration:") && l.contains(uid))?;
    let inner = line.split_once("shifted by (")?.1.split_once(')')?.0;
    let v: Vec<f64> = inner.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    (v.len() == 3).then(|| Vector3::new(v[0], v[1], v[2]))
}

#[test]
fn breathing_shifts_are_found_and_undone() {
    let mut s = generate(CaseName::IvcLeiomyosarcoma, &PhantomOptions::small());
    let phases = assign_roles(&s.volumes, &[]);
    let uid = |role: &str| {
        phases
            .iter()
            .find(|p| p.role.as_str() == role)
            .map(|p| (p.volume_index, p.series_instance_uid.clone()))
            .expect("phase")
    };
    let moves = [
        ("ct_arterial", Vector3::new(2.0, -3.0, 6.0)),
        ("ct_delayed", Vector3::new(-1.5, 2.0, -5.0)),
    ];
    for (role, d) in &moves {
        let (i, _) = uid(role);
        s.volumes[i].geometry = displaced(&s.volumes[i].geometry, *d);
    }
    let dir = tempfile::tempdir().unwrap();
    let mask = dir.path().join("mass.nii.gz");
    nifti_io::write_mask_nifti(&mask, s.labels.mass.as_ref().expect("label")).unwrap();
    let opts = SegmentOptions {
        mass_mask: Some(MaskInput::new(mask.clone(), read_label_mask(&mask, None))),
        ..Default::default()
    };
    let lm = truth_landmarks(&s);
    let ivc = truth_ivc(&s);
    let MassOutcome {
        model: m,
        warnings: w,
        ..
    } = build_mass(&s.volumes, &phases, Some(&ivc), &lm, &opts);
    let m = m.unwrap_or_else(|| panic!("no mass: {w:?}"));
    assert_eq!(m.source, Source::Mask);
    for (role, d) in &moves {
        let (_, u) = uid(role);
        let got = reported_shift(&w, &u).unwrap_or_else(|| panic!("{role}: no shift reported: {w:?}"));
        assert!((got - d).norm() <= 1.0, "{role}: shift {got:?} vs {d:?}");
    }
    // Unmoved phases are left alone.
    for role in ["ct_unenhanced", "ct_portal_venous"] {
        let (_, u) = uid(role);
        assert!(reported_shift(&w, &u).is_none(), "{role} shifted: {w:?}");
    }
    check_phase_means("breathing", &m, &s);
}
