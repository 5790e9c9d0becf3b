//! `--ivc-mask`: the phantom's own IVC label map, written as NIfTI (single-class and
//! TotalSegmentator-style multi-label) and as DICOM SEG, reproduces the truth profile.

mod ivc_common;

use cavascope_ingest::labelmap::{read_label_mask, TOTALSEG_V2_IVC};
use cavascope_ivc::build_ivc;
use cavascope_measurements::{MaskInput, SegmentOptions, Source};
use cavascope_phantom::{CaseName, Orientation, PhantomOptions};
use cavascope_volume::nifti_io;
use ivc_common::*;
use ndarray::Array3;

fn check(
    case: CaseName,
    opts: &PhantomOptions,
    write: impl Fn(&cavascope_phantom::PhantomStudy, &std::path::Path) -> std::path::PathBuf,
) {
    let st = study(case, opts);
    let dir = tempfile::tempdir().unwrap();
    let path = write(&st, dir.path());
    let so = SegmentOptions {
        ivc_mask: Some(MaskInput::new(
            path.clone(),
            read_label_mask(&path, Some(TOTALSEG_V2_IVC)),
        )),
        ..Default::default()
    };
    let out = build_ivc(&st.volumes, &phases_from_truth(&st), &so);
    let m = out
        .model
        .unwrap_or_else(|| panic!("no model: {:?}", out.warnings));
    assert_eq!(m.source, Source::Mask);
    let sc = score(&m, &st);
    println!(
        "{case}: MAE {:.3} max {:.2} coverage {:.2} worst {:?}",
        sc.mae_eqd, sc.max_err_eqd, sc.coverage, sc.worst
    );
    assert!(sc.mae_eqd < 1.0, "{sc:?}");
    assert!(sc.coverage > 0.9, "{sc:?}");
    // The label map on the reference grid covers the truth label (same grid here).
    let inter = m
        .mask
        .data
        .iter()
        .zip(st.labels.ivc.data.iter())
        .filter(|(a, b)| **a && **b)
        .count();
    let dice = 2.0 * inter as f64 / (m.mask.count() + st.labels.ivc.count()) as f64;
    assert!(dice > 0.9, "dice {dice}");
    // The truth has both landmarks: both must be found, and segments follow them.
    let (tr, th) = (
        st.truth.landmarks.renal_vein_inflow_z_mm,
        st.truth.landmarks.hepatic_vein_confluence_z_mm,
    );
    let (Some(r), Some(h)) = (
        out.landmarks.renal_vein_inflow_z_mm,
        out.landmarks.hepatic_vein_confluence_z_mm,
    ) else {
        panic!(
            "{case}: landmarks missing: {:?} {:?}",
            out.landmarks, out.warnings
        );
    };
    assert!(
        (r - tr).abs() <= 10.0 && (h - th).abs() <= 10.0,
        "renal {r} vs {tr}, hepatic {h} vs {th}"
    );
    check_segment_labels(&m.profile, tr, th, "mask input");
}

#[test]
fn nifti_single_class_lms() {
    check(
        CaseName::IvcLeiomyosarcoma,
        &PhantomOptions::small(),
        |st, dir| {
            let p = dir.join("ivc.nii.gz");
            nifti_io::write_mask_nifti(&p, &st.labels.ivc).unwrap();
            p
        },
    );
}

#[test]
fn nifti_multilabel_oblique_reversed() {
    let mut o = PhantomOptions::small();
    o.orientation = Orientation::Oblique {
        about_lr_deg: 12.0,
        about_ap_deg: -8.0,
    };
    o.reversed_slices = true;
    check(CaseName::Normal, &o, |st, dir| {
        // TotalSegmentator v2 style: IVC = 63, plus another class.
        let mut labels = Array3::<u8>::zeros(st.labels.ivc.data.dim());
        for ((idx, l), &ivc) in labels.indexed_iter_mut().zip(st.labels.ivc.data.iter()) {
            if ivc {
                *l = 63;
            } else if st.labels.tissue[idx] == cavascope_phantom::Tissue::ArterialBlood as u8 {
                *l = 52;
            }
        }
        let p = dir.join("total.nii.gz");
        nifti_io::write_labels_nifti(&p, &labels, &st.labels.geometry).unwrap();
        p
    });
}

#[test]
fn dicom_seg_lms() {
    check(
        CaseName::IvcLeiomyosarcoma,
        &PhantomOptions::small(),
        |st, dir| {
            let p = dir.join("ivc_seg.dcm");
            cavascope_phantom::seg::write_seg(&p, &st.labels.ivc, "Inferior vena cava").unwrap();
            p
        },
    );
}
