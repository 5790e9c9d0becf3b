//! Streamed NIfTI export (`export::plan_study` + `write_nifti`, what `convert` runs) against
//! the truth written into synthetic series: every voxel equals the stored pattern
//! rescaled, the affine maps voxels where the slices were written, the datatype is the
//! one the rescale allows, and series that cannot stream fall back to the whole-volume
//! path with the same result.

use cavascope_ingest::export::plan_study;
use cavascope_ingest::synth::{pattern, write_slice, SynthSlice};
use cavascope_ingest::IngestOptions;
use cavascope_volume::nifti_io::read_nifti;
use std::io::Read;
use std::path::Path;

const ROWS: u16 = 10;
const COLS: u16 = 12;

/// Slices `ks` (spatial index k at z = 5 + 2k mm) written shuffled, with this rescale and
/// a stored-value offset.
fn write_series(dir: &Path, ks: &[usize], slope: f64, intercept: f64, offset: i16) {
    for (n, &k) in ks.iter().enumerate() {
        let mut s = SynthSlice::ct(ROWS, COLS, [-30.0, 12.5, 5.0 + 2.0 * k as f64], [0.6, 0.8]);
        s.sop_uid = format!("1.2.826.0.1.3680043.10.1001.7.{k}");
        s.instance_number = ((n * 5) % 7) as i64;
        s.slope = slope;
        s.intercept = intercept;
        s.pixels = (0..ROWS as usize)
            .flat_map(|j| (0..COLS as usize).map(move |i| pattern(k, j, i) + offset))
            .collect();
        write_slice(&dir.join(format!("f{:03}", (n * 37) % 101)), &s).unwrap();
    }
}

/// NIfTI datatype code of a written file.
fn datatype(path: &Path) -> i16 {
    let mut raw = Vec::new();
    let f = std::fs::File::open(path).unwrap();
    if path.to_string_lossy().ends_with(".gz") {
        flate2::read::MultiGzDecoder::new(f)
            .take(100)
            .read_to_end(&mut raw)
            .unwrap();
    } else {
        f.take(100).read_to_end(&mut raw).unwrap();
    }
    i16::from_le_bytes([raw[70], raw[71]])
}

/// Voxel (i, j, k) must hold `pattern(k) + offset` rescaled, at IPP_k + i·0.8 x + j·0.6 y.
fn check_against_truth(path: &Path, n_slices: usize, slope: f64, intercept: f64, offset: i16) {
    let (data, g) = read_nifti(path).unwrap();
    assert_eq!(data.dim(), (n_slices, ROWS as usize, COLS as usize));
    for ((k, j, i), &v) in data.indexed_iter() {
        let want = ((pattern(k, j, i) + offset) as f64 * slope + intercept) as f32;
        assert_eq!(v, want, "{}: voxel k={k} j={j} i={i}", path.display());
    }
    for (i, j, k) in [(0, 0, 0), (11, 9, n_slices - 1), (3, 4, n_slices / 2)] {
        let p = g.index_to_world([i as f64, j as f64, k as f64]);
        let want = [
            -30.0 + 0.8 * i as f64,
            12.5 + 0.6 * j as f64,
            5.0 + 2.0 * k as f64,
        ];
        for a in 0..3 {
            assert!((p[a] - want[a]).abs() < 1e-4, "({i},{j},{k}): {p} vs {want:?}");
        }
    }
}

#[test]
fn streamed_output_matches_truth_and_datatype() {
    // (slope, intercept, stored offset, expected NIfTI datatype)
    let cases = [
        (1.0, -1024.0, 0, 4),      // CT: int16
        (2.0, -1000.0, 0, 4),      // integral rescale: int16
        (0.25, 3.5, 0, 16),        // fractional rescale: float32
        (1.0, 30000.0, 5000, 16),  // integral but beyond int16: restarted as float32
        (1.0, -32768.0, -100, 16), // below int16 after rescale
    ];
    let ks: Vec<usize> = (0..9).rev().collect();
    for (slope, intercept, offset, dt) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_series(dir.path(), &ks, slope, intercept, offset);
        let p = plan_study(dir.path(), &IngestOptions::default()).unwrap();
        assert_eq!(p.study.series.len(), 1);
        assert!(p.study.series[0].volume.is_none(), "nothing decoded by the plan");
        let out = tempfile::tempdir().unwrap();
        for name in ["v.nii", "v.nii.gz"] {
            let path = out.path().join(name);
            let e = p.write_nifti(0, &path).unwrap();
            assert!(e.streamed, "slope {slope}: a regular series streams");
            assert!(e.skipped.is_empty());
            assert_eq!(datatype(&path), dt, "slope {slope} intercept {intercept} {name}");
            check_against_truth(&path, ks.len(), slope, intercept, offset);
        }
        // Only the two outputs: no temporary file left behind.
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 2);
    }
}

/// A missing slice is resampled (not streamable): the whole-volume path writes it, the
/// same as `load_study` gives.
#[test]
fn missing_slice_falls_back_to_whole_volume() {
    let dir = tempfile::tempdir().unwrap();
    write_series(dir.path(), &[0, 1, 2, 4, 5], 1.0, -1024.0, 0);
    let p = plan_study(dir.path(), &IngestOptions::default()).unwrap();
    let out = tempfile::tempdir().unwrap().keep();
    let path = out.join("m.nii.gz");
    let e = p.write_nifti(0, &path).unwrap();
    assert!(!e.streamed);
    assert!(
        e.series.problems.iter().any(|q| q.contains("missing")),
        "{:?}",
        e.series.problems
    );
    let (data, _) = read_nifti(&path).unwrap();
    assert_eq!(data.dim().0, 6);
    // Slice 3 interpolated halfway between its neighbours (stored 200+x and 400+x).
    for ((k, j, i), &v) in data.indexed_iter() {
        let want = if k == 3 {
            (pattern(2, j, i) as f32 + pattern(4, j, i) as f32) / 2.0 - 1024.0
        } else {
            pattern(k, j, i) as f32 - 1024.0
        };
        assert_eq!(v, want, "k={k} j={j} i={i}");
    }
    std::fs::remove_dir_all(out).ok();
}

/// A file that breaks between the plan and the write (truncated by another process) is
/// left out with its name and reason; the rest of the series is still written.
#[test]
fn file_broken_after_planning_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    write_series(dir.path(), &(0..7).collect::<Vec<_>>(), 1.0, 0.0, 0);
    let p = plan_study(dir.path(), &IngestOptions::default()).unwrap();
    // The file holding spatial slice 6 (the last): truncate it into its pixel data.
    let victim = p.study.series[0].meta.files[6].clone();
    let len = std::fs::metadata(&victim).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&victim)
        .unwrap()
        .set_len(len - 50)
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("t.nii");
    let e = p.write_nifti(0, &path).unwrap();
    assert!(!e.streamed);
    assert_eq!(e.skipped.len(), 1, "{:?}", e.skipped);
    assert_eq!(e.skipped[0].path, victim);
    assert!(e.skipped[0].reason.contains("truncat"), "{}", e.skipped[0].reason);
    check_against_truth(&path, 6, 1.0, 0.0, 0);
}

#[test]
fn series_without_volume_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    write_series(dir.path(), &[0, 1, 2], 1.0, 0.0, 0);
    let p = plan_study(dir.path(), &IngestOptions::default()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let e = p.write_nifti(5, &out.path().join("x.nii")).unwrap_err();
    assert!(e.to_string().contains("no series 5"), "{e}");
    // Writing into a folder that does not exist: an error naming the path.
    let bad = out.path().join("missing").join("x.nii");
    let e = p.write_nifti(0, &bad).unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn int16_decode_matches_truth_or_declines() {
    let dir = tempfile::tempdir().unwrap();
    let ks: Vec<usize> = (0..5).collect();
    write_series(dir.path(), &ks, 1.0, -1024.0, 0);
    let p = plan_study(dir.path(), &IngestOptions::default()).unwrap();
    let n = ROWS as usize * COLS as usize;
    let mut out = vec![0i16; n * ks.len()];
    assert!(p.decode_int16_into(0, &mut out).unwrap());
    for k in 0..ks.len() {
        for j in 0..ROWS as usize {
            for i in 0..COLS as usize {
                assert_eq!(out[k * n + j * COLS as usize + i], pattern(k, j, i) - 1024);
            }
        }
    }
    assert!(
        p.decode_int16_into(0, &mut out[1..]).is_err(),
        "wrong buffer size"
    );
    // Slope 2: not the integer fast path.
    let dir = tempfile::tempdir().unwrap();
    write_series(dir.path(), &ks, 2.0, 0.0, 0);
    let p = plan_study(dir.path(), &IngestOptions::default()).unwrap();
    assert!(!p.decode_int16_into(0, &mut out).unwrap());
}
