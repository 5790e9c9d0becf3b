//! `--mass-mask`: the phantom's own mass label, written as NIfTI and as DICOM SEG, is taken
//! as the mass (source `mask`) and measured: volume, diameter, phase means and pattern as
//! the truth; a mask file that cannot be used is a warning, never a panic or a guess.

mod truth_ivc;

use cavascope_ingest::labelmap::read_label_mask;
use cavascope_mass::{build_mass, MassOutcome};
use cavascope_measurements::{MaskInput, SegmentOptions, Source};
use cavascope_phantom::{generate, seg::write_seg, CaseName, PhantomOptions, PhantomStudy};
use cavascope_phases::assign_roles;
use cavascope_volume::nifti_io;
use std::path::{Path, PathBuf};
use truth_ivc::{
    check_pattern_and_fat, check_phase_means, intraluminal_extension, truth_ivc, truth_landmarks,
};

fn check(case: CaseName, write: impl Fn(&PhantomStudy, &Path) -> PathBuf) {
    let s = generate(case, &PhantomOptions::small());
    let t = s.truth.mass.as_ref().expect("case has a mass");
    let dir = tempfile::tempdir().unwrap();
    let path = write(&s, dir.path());
    let phases = assign_roles(&s.volumes, &[]);
    let opts = SegmentOptions {
        mass_mask: Some(MaskInput::new(path.clone(), read_label_mask(&path, None))),
        ..Default::default()
    };
    let ivc = truth_ivc(&s);
    let MassOutcome {
        model: m,
        warnings: w,
        ..
    } = build_mass(&s.volumes, &phases, Some(&ivc), &truth_landmarks(&s), &opts);
    let m = m.unwrap_or_else(|| panic!("{case}: no mass from the mask: {w:?}"));
    eprintln!(
        "{case}: volume {:.1} ml (truth {:.1}), max diameter {:.1} mm (truth {:.1}), pattern {:?} (truth {})",
        m.volume_ml, t.volume_ml, m.max_diameter_mm, t.max_diameter_mm, m.pattern, t.pattern
    );
    assert_eq!(m.source, Source::Mask);
    // The label is the truth voxelised: its volume is the analytic one within 3 %.
    assert!(
        (m.volume_ml - t.volume_ml).abs() <= 0.03 * t.volume_ml,
        "{case}: volume {}",
        m.volume_ml
    );
    assert!(
        (m.max_diameter_mm - t.max_diameter_mm).abs() <= 0.10 * t.max_diameter_mm,
        "{case}: diameter {}",
        m.max_diameter_mm
    );
    check_phase_means(&case.to_string(), &m, &s);
    check_pattern_and_fat(&case.to_string(), &m, &s);
    assert_eq!(
        intraluminal_extension(&m),
        Some(t.intraluminal_extension),
        "{case}: intraluminal"
    );
}

#[test]
fn nifti_mass_label_leiomyosarcoma() {
    check(CaseName::IvcLeiomyosarcoma, |s, dir| {
        let p = dir.join("mass.nii.gz");
        nifti_io::write_mask_nifti(&p, s.labels.mass.as_ref().expect("mass label")).unwrap();
        p
    });
}

#[test]
fn dicom_seg_mass_label_liposarcoma() {
    check(CaseName::Liposarcoma, |s, dir| {
        let p = dir.join("mass_seg.dcm");
        write_seg(&p, s.labels.mass.as_ref().expect("mass label"), "mass").unwrap();
        p
    });
}

#[test]
fn unusable_mask_is_a_warning() {
    let s = generate(CaseName::IvcLeiomyosarcoma, &PhantomOptions::small());
    let phases = assign_roles(&s.volumes, &[]);
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.nii.gz");
    std::fs::write(&junk, b"not a NIfTI file").unwrap();
    let empty = dir.path().join("empty.nii.gz");
    let mut none = s.labels.mass.clone().expect("mass label");
    none.data.fill(false);
    nifti_io::write_mask_nifti(&empty, &none).unwrap();
    for path in [junk, empty, dir.path().join("missing.nii.gz")] {
        let opts = SegmentOptions {
            mass_mask: Some(MaskInput::new(path.clone(), read_label_mask(&path, None))),
            ..Default::default()
        };
        let MassOutcome {
            model: m,
            not_searched,
            warnings: w,
        } = build_mass(&s.volumes, &phases, None, &truth_landmarks(&s), &opts);
        assert!(m.is_none(), "{}: a mass from an unusable mask", path.display());
        // Not "no mass": the mass the user pointed at could not be measured, so the mass
        // signs become indeterminate rather than absent.
        let why = not_searched.unwrap_or_else(|| panic!("{}: not_searched unset", path.display()));
        assert!(why.contains("mass mask"), "{}: {why}", path.display());
        assert!(
            w.iter().any(|x| x.contains("mass mask")),
            "{}: no warning naming the mask: {w:?}",
            path.display()
        );
    }
}
