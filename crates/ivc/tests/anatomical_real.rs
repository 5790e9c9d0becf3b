//! The anatomical IVC detector on real CT/MR (test-data/real/fetch.sh), judged against
//! TotalSegmentator's IVC label: one of its candidates lies in the label.

#[path = "../../../test-data/real/real_fixture.rs"]
mod real_fixture;

use cavascope_ivc::anatomical::locate_by_anatomy;
use cavascope_volume::{nifti_io, sampling, Volume, VolumeMeta};

#[test]
fn a_candidate_lies_in_the_totalsegmentator_ivc() {
    let ts = real_fixture::ts_file;
    let mut bad = Vec::new();
    for (name, img, seg, id, ct) in [
        (
            "example_ct",
            "example_ct.nii.gz",
            "example_seg_fast_force_split.nii.gz",
            63.0,
            true,
        ),
        (
            "example_mr_sm",
            "example_mr_sm.nii.gz",
            "example_seg_mr.nii.gz",
            24.0,
            false,
        ),
    ] {
        let (Some(img), Some(seg)) = (ts(img), ts(seg)) else {
            return;
        };
        let (d, g) = nifti_io::read_nifti(&img).expect("volume reads");
        let v = Volume::new(d, g, VolumeMeta::default());
        let (l, lg) = nifti_io::read_nifti(&seg).expect("label reads");
        let lab = l.mapv(|x| if x == id { 1.0 } else { 0.0 });
        match locate_by_anatomy(&v, ct) {
            Ok(c) => {
                let inside: Vec<bool> = c
                    .iter()
                    .map(|p| sampling::trilinear(&lab, lg.world_to_index(p)).unwrap_or(0.0) >= 0.5)
                    .collect();
                eprintln!("{name}: candidates {c:?} in the label: {inside:?}");
                if !inside.iter().any(|&b| b) {
                    bad.push(format!("{name}: no candidate in the IVC label: {c:?}"));
                }
            }
            Err(e) => bad.push(format!("{name}: not found: {e}")),
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}
