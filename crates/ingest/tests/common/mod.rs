//! Test fixtures shared by ingest and CLI tests: the public DICOM corpus (fetched by pinned
//! version from PyPI on first use, cached outside git) and peer comparisons.
#![allow(dead_code)]

use cavascope_ingest::{load_study, IngestOptions, Study};
use cavascope_volume::{nifti_io, Array3, Geometry};
use std::path::{Path, PathBuf};

/// The corpus cache, fetched on first use (`cavascope_testkit::corpus`: a panic in CI
/// when the fetch fails, else `None` with a printed skip).
pub fn corpus() -> Option<PathBuf> {
    cavascope_testkit::corpus()
}

pub fn pydicom_files(c: &Path) -> PathBuf {
    c.join("pydicom/pydicom/data/test_files")
}
pub fn pydicom_data(c: &Path) -> PathBuf {
    c.join("pydicom-data/data_store/data")
}
pub fn mrbias_dir(c: &Path) -> PathBuf {
    c.join("mrbias/mrbias-1.0.2/mrbias/roi_detection_templates/siemens_skyra_3p0T/dicom")
}
pub fn nekton_ct(c: &Path) -> PathBuf {
    c.join("nekton/nekton/externals/dcmqi/data/segmentations/ct-3slice")
}

/// Load one file alone (copied into its own folder).
pub fn load_single(path: &Path) -> (Study, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(path, dir.path().join(path.file_name().unwrap()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let s = load_study(dir.path(), &IngestOptions::default()).unwrap();
    (s, dir)
}

/// The single volume decoded from one file, or the reasons it was not.
pub fn decode_single(path: &Path) -> Result<(Array3<f32>, Geometry), String> {
    let (study, _d) = load_single(path);
    let vols: Vec<_> = study.series.iter().filter_map(|s| s.volume.as_ref()).collect();
    if vols.len() == 1 {
        return Ok((vols[0].data.clone(), vols[0].geometry.clone()));
    }
    let mut why: Vec<String> = study.skipped.iter().map(|s| s.reason.clone()).collect();
    why.extend(study.series.iter().flat_map(|s| s.problems.clone()));
    Err(format!("{} volumes; {}", vols.len(), why.join("; ")))
}

/// The peer tool `tool`: required in CI, a printed skip elsewhere.
pub fn have(tool: &str) -> bool {
    cavascope_testkit::require_tool(tool)
}

/// Run dcm2niix (uncompressed output) on a folder; the NIfTI files it wrote.
pub fn dcm2niix(input: &Path, out: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(out).unwrap();
    let st = std::process::Command::new("dcm2niix")
        .args(["-z", "n", "-b", "n", "-f", "%s_%j", "-o"])
        .arg(out)
        .arg(input)
        .output()
        .expect("dcm2niix runs");
    assert!(
        st.status.success(),
        "dcm2niix failed: {}",
        String::from_utf8_lossy(&st.stdout)
    );
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().map(|e| e == "nii").unwrap_or(false))
        .collect();
    v.sort();
    v
}

/// Compare our volume with a peer's (both in world space): the peer's index of each of our
/// voxels must be a signed permutation (axis flips/reorders are allowed, as dcm2niix
/// stores rows bottom-up and may reorder axes); returns (max affine difference in mm,
/// max absolute voxel difference).
pub fn compare_world(ours: (&Array3<f32>, &Geometry), peer: (&Array3<f32>, &Geometry)) -> (f64, f32) {
    let t = peer.1.inverse() * ours.1.affine();
    let p = t.map(|x| x.round());
    let dev = (t - p).abs().max();
    assert!(
        dev < 1e-3,
        "index map is not a signed permutation: dev {dev}\n{t}"
    );
    let affine_diff = (peer.1.affine() * p - ours.1.affine()).abs().max();
    let (pk, pj, pi) = peer.0.dim();
    let mut max_diff = 0f32;
    for ((k, j, i), &v) in ours.0.indexed_iter() {
        let x = [i as f64, j as f64, k as f64];
        let m = |r: usize| (p[(r, 0)] * x[0] + p[(r, 1)] * x[1] + p[(r, 2)] * x[2] + p[(r, 3)]) as i64;
        let (a, b, c) = (m(0), m(1), m(2));
        assert!(
            a >= 0 && b >= 0 && c >= 0 && (a as usize) < pi && (b as usize) < pj && (c as usize) < pk,
            "voxel ({i},{j},{k}) maps outside the peer grid"
        );
        let w = peer.0[[c as usize, b as usize, a as usize]];
        max_diff = max_diff.max((v - w).abs());
    }
    (affine_diff, max_diff)
}

pub fn read_peer(p: &Path) -> (Array3<f32>, Geometry) {
    nifti_io::read_nifti(p).unwrap()
}
