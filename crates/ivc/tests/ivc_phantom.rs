//! The IVC model against phantom truth: calibre every mm, lumen visibility, landmarks,
//! segment labels, in auto and seed mode, on oblique and reversed grids.

mod ivc_common;

use cavascope_ivc::IvcOutcome;
use cavascope_measurements::Source;
use cavascope_phantom::{CaseName, Orientation, PhantomOptions, PhantomStudy};
use ivc_common::*;

/// Calibre, coverage, landmarks (±10 mm), segment labels and lumen ranges vs truth.
fn check_all(st: &PhantomStudy, out: &IvcOutcome, expect: Source, max_mae: f64) {
    let msg = describe(st, out);
    println!("{msg}");
    let m = out.model.as_ref().expect(&msg);
    assert_eq!(m.source, expect);
    let sc = score(m, st);
    assert!(sc.mae_eqd < max_mae, "{msg}");
    assert!(sc.coverage > 0.9, "{msg}");
    let t = &st.truth;
    let (tr, th) = (
        t.landmarks.renal_vein_inflow_z_mm,
        t.landmarks.hepatic_vein_confluence_z_mm,
    );
    let r = out.landmarks.renal_vein_inflow_z_mm.expect(&msg);
    let h = out.landmarks.hepatic_vein_confluence_z_mm.expect(&msg);
    assert!((r - tr).abs() <= 10.0 && (h - th).abs() <= 10.0, "{msg}");
    check_segment_labels(&m.profile, tr, th, &msg);
    let iou = z_iou(
        &m.lumen.imperceptible_ranges_z_mm,
        &t.ivc.lumen.imperceptible_ranges_z_mm,
    );
    if t.ivc.lumen.imperceptible_ranges_z_mm.is_empty() {
        assert!(m.lumen.imperceptible_ranges_z_mm.is_empty(), "{msg}");
        assert!(m.lumen.visible_fraction.expect(&msg) > 0.95, "{msg}");
    } else {
        assert!(iou >= 0.8, "IoU {iou}: {msg}");
    }
}

#[test]
fn normal_auto() {
    let (st, out) = run(CaseName::Normal, &PhantomOptions::small(), false);
    check_all(&st, &out, Source::Auto, 1.0);
}

#[test]
fn normal_auto_oblique_reversed() {
    let mut o = PhantomOptions::small();
    o.orientation = Orientation::Oblique {
        about_lr_deg: 15.0,
        about_ap_deg: 10.0,
    };
    o.reversed_slices = true;
    let (st, out) = run(CaseName::Normal, &o, false);
    check_all(&st, &out, Source::Auto, 1.0);
}

#[test]
fn cholangiocarcinoma_mimic_seed() {
    let (st, out) = run(CaseName::CholangiocarcinomaMimic, &PhantomOptions::small(), true);
    check_all(&st, &out, Source::Seed, 1.0);
}

#[test]
fn other_case_and_mode_pairs() {
    // The (case, mode) pairs that no test above covers, so every phantom case is checked
    // in auto and seed mode.
    for (case, seed) in [
        (CaseName::Normal, true),
        (CaseName::CholangiocarcinomaMimic, false),
        (CaseName::HccWashout, false),
        (CaseName::HccWashout, true),
    ] {
        let (st, out) = run(case, &PhantomOptions::small(), seed);
        check_all(&st, &out, if seed { Source::Seed } else { Source::Auto }, 1.0);
    }
}

#[test]
fn leiomyosarcoma_auto_oblique_reversed() {
    // The tumour-filled stretch on a tilted, reversed grid (world-space tracking).
    let mut o = PhantomOptions::small();
    o.orientation = Orientation::Oblique {
        about_lr_deg: 12.0,
        about_ap_deg: -8.0,
    };
    o.reversed_slices = true;
    let (st, out) = run(CaseName::IvcLeiomyosarcoma, &o, false);
    check_all(&st, &out, Source::Auto, 1.0);
}

/// A mass outside the IVC flattens it (AP ≈ 7 mm, a slit at 2 mm voxels) without
/// filling it: calibre, flattening, landmarks, and no imperceptible stretch anywhere —
/// the lumen is visible all along (auto and seed).
fn flattened_case(case: CaseName) {
    for seed in [false, true] {
        let (st, out) = run(case, &PhantomOptions::small(), seed);
        let msg = describe(&st, &out);
        assert!(st.truth.ivc.lumen.imperceptible_ranges_z_mm.is_empty(), "{msg}");
        check_all(&st, &out, if seed { Source::Seed } else { Source::Auto }, 1.0);
        let m = out.model.as_ref().expect(&msg);
        // The flattening is measured: the minimum flattening ratio is well below normal.
        let tmin = st.truth.ivc.min_flattening_ratio;
        assert!((m.min_flattening_ratio.expect(&msg) - tmin).abs() < 0.15, "{msg}");
        // No plane chained from a wrong start contour inflates the peak (the report's
        // tolerance is ±3 mm; liposarcoma auto read 25.1 vs 21.7 when tracking started
        // from a plane whose wall was seen only partly).
        let t = st.truth.ivc.max_equivalent_diameter_mm;
        let mx = m.max_equivalent_diameter_mm.expect(&msg);
        assert!((mx - t).abs() < 2.5, "max CE {mx} vs {t}: {msg}");
    }
}

#[test]
fn extrinsic_compression_flattened_no_false_imperceptible() {
    flattened_case(CaseName::ExtrinsicCompression);
}

#[test]
fn liposarcoma_flattened_no_false_imperceptible() {
    flattened_case(CaseName::Liposarcoma);
}

#[test]
fn leiomyosarcoma_whole_ivc_calibre() {
    // The tumour-filled, dilated stretch is the outer wall of the expanded vein (see
    // `bridge`): the calibre along the whole IVC, landmarks and the imperceptible range.
    for seed in [false, true] {
        let (st, out) = run(CaseName::IvcLeiomyosarcoma, &PhantomOptions::small(), seed);
        check_all(&st, &out, if seed { Source::Seed } else { Source::Auto }, 1.0);
        // The peak of the dilated stretch, where a strip of liver lies against the vein
        // (see `layer`): within the report's ±3 mm (read 40.2/39.4 vs 37.2 before).
        let t = st.truth.ivc.max_equivalent_diameter_mm;
        let mx = out
            .model
            .as_ref()
            .and_then(|m| m.max_equivalent_diameter_mm)
            .expect("max");
        assert!((mx - t).abs() < 3.0, "max CE {mx} vs {t}");
    }
}

#[test]
fn mri_leiomyosarcoma_whole_ivc() {
    // MRI T1 dynamic series: the tumour enhances almost like blood on the venous phase,
    // so the lumen is told from it on the pre-contrast and delayed phases too; the
    // tracking goes through the tumour and finds the lumen again above it. Calibre along
    // the whole IVC, the imperceptible range, landmarks and segment labels.
    for seed in [false, true] {
        let (st, out) = run(CaseName::MriLeiomyosarcoma, &PhantomOptions::small(), seed);
        check_all(&st, &out, if seed { Source::Seed } else { Source::Auto }, 1.0);
        let m = out.model.as_ref().expect("model");
        // The dilation is measured: the peak within 1.5 mm of the truth's (read 41.0/41.1
        // vs 37.2 before the walls were taken from every step along each ray).
        let t = st.truth.ivc.max_equivalent_diameter_mm;
        let mx = m.max_equivalent_diameter_mm.expect("max");
        assert!((mx - t).abs() < 1.5, "max CE {mx} vs {t}");
    }
}

/// The 96 × 96 @ 4 mm grid (50 slices @ 5 mm) of the batch tests, other anatomy seeds.
// Known gap (docs/measurements.md "Known limits"): on 4 mm in-plane grids auto tracking
// is not reliable (no wall passes the step threshold in the intrahepatic segment; the
// normal case is covered over ~56 %). Held to the fine grid's targets, with a 2 mm MAE
// allowance for the 4 mm voxels.
#[test]
#[ignore = "known gap: auto IVC tracking on a 96 × 96 @ 4 mm grid (normal case covered ~56 %, target > 90 %)"]
fn known_gap_coarse_grid_normal_auto() {
    let (st, out) = run(CaseName::Normal, &coarse(1), false);
    check_all(&st, &out, Source::Auto, 2.0);
}

#[test]
#[ignore = "known gap: auto IVC tracking on a 96 × 96 @ 4 mm grid, leiomyosarcoma draw 2"]
fn known_gap_coarse_grid_leiomyosarcoma_auto() {
    let (st, out) = run(CaseName::IvcLeiomyosarcoma, &coarse(2), false);
    check_all(&st, &out, Source::Auto, 2.0);
}
