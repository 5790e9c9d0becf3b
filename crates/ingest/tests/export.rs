//! Streamed NIfTI export (`export::plan_study` + `write_nifti`, what `convert` runs) against
//! the truth written into synthetic series: every voxel equals the stored pattern
//! rescaled, the affine maps voxels where the slices were written, the datatype is the
//! one the rescale allows, and series that cannot stream fall back to the whole-volume
//! path with the same result.

use cavascope_ingest::export::plan_study;
use cavascope_ingest::pixels::{DEFLATED_EXPLICIT_VR_LE, EXPLICIT_VR_BE, IMPLICIT_VR_LE};
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
            // Slope 1 on signed 16-bit samples: `.nii` is the stored int16 copied as it
            // is, the intercept in scl_inter (exact whatever the intercept).
            let copied = slope == 1.0 && name == "v.nii";
            assert_eq!(e.file_copy, copied, "slope {slope} intercept {intercept} {name}");
            let dt = if copied { 4 } else { dt };
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

/// Cut `bytes` off the end of a test file (as another process truncating it would).
fn truncate_by(path: &std::path::Path, bytes: u64) {
    let len = std::fs::metadata(path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len - bytes)
        .unwrap();
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
    truncate_by(&victim, 50);
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("t.nii");
    let e = p.write_nifti(0, &path).unwrap();
    assert!(!e.streamed && !e.file_copy);
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

/// How the slices of a file-copy test series are written.
#[derive(Clone, Copy, Debug)]
struct Variant {
    /// Intercept of spatial slice k: `intercept + k * intercept_step`.
    intercept: f64,
    intercept_step: f64,
    bits_stored: u16,
    signed: bool,
    /// Added to every stored word as written (junk above BitsStored).
    junk: i16,
    ts: &'static str,
}

const CT: Variant = Variant {
    intercept: -1024.0,
    intercept_step: 0.0,
    bits_stored: 16,
    signed: true,
    junk: 0,
    ts: cavascope_ingest::pixels::EXPLICIT_VR_LE,
};

fn write_variant(dir: &Path, n: usize, v: Variant) {
    for k in 0..n {
        let mut s = SynthSlice::ct(ROWS, COLS, [-30.0, 12.5, 5.0 + 2.0 * k as f64], [0.6, 0.8]);
        s.sop_uid = format!("1.2.826.0.1.3680043.10.1001.8.{k}");
        s.instance_number = (n - k) as i64;
        s.intercept = v.intercept + k as f64 * v.intercept_step;
        s.bits_stored = v.bits_stored;
        s.signed = v.signed;
        s.transfer_syntax = v.ts.into();
        s.pixels = (0..ROWS as usize)
            .flat_map(|j| (0..COLS as usize).map(move |i| pattern(k, j, i).wrapping_add(v.junk)))
            .collect();
        write_slice(&dir.join(format!("s{:03}", (k * 37) % 101)), &s).unwrap();
    }
}

/// Writes series 0 of `dir` with the file copy on and off: (file-copy result, its bytes,
/// the decoding path's bytes).
fn both_paths(dir: &Path, name: &str) -> (bool, Vec<u8>, Vec<u8>) {
    let mut p = plan_study(dir, &IngestOptions::default()).unwrap();
    assert_eq!(p.study.series.len(), 1, "{:?}", p.study.skipped);
    let out = tempfile::tempdir().unwrap();
    let fast = out.path().join(format!("fast_{name}"));
    let e = p.write_nifti(0, &fast).unwrap();
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    p.set_file_copy(false);
    let slow = out.path().join(format!("slow_{name}"));
    let e2 = p.write_nifti(0, &slow).unwrap();
    assert!(!e2.file_copy, "switched off");
    // Only the two outputs: no temporary file left behind.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 2);
    (
        e.file_copy,
        std::fs::read(&fast).unwrap(),
        std::fs::read(&slow).unwrap(),
    )
}

/// The file copy writes exactly the decoding path's file: byte for byte when the
/// intercept is 0; with intercept c, the same header but scl_inter = c and every int16
/// voxel c lower (stored values, not HU). Checked against the truth as well.
#[test]
fn file_copy_matches_decoding_path() {
    for (ts, intercept) in [
        (cavascope_ingest::pixels::EXPLICIT_VR_LE, 0.0),
        (IMPLICIT_VR_LE, 0.0),
        (cavascope_ingest::pixels::EXPLICIT_VR_LE, -1024.0),
        (IMPLICIT_VR_LE, 1000.0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let v = Variant { intercept, ts, ..CT };
        write_variant(dir.path(), 9, v);
        let (copied, fast, slow) = both_paths(dir.path(), "v.nii");
        assert!(copied, "{v:?} qualifies for the file copy");
        let mut want = slow.clone();
        assert_eq!(i16::from_le_bytes([want[70], want[71]]), 4, "int16 either way");
        want[116..120].copy_from_slice(&(intercept as f32).to_le_bytes());
        for c in want[352..].chunks_exact_mut(2) {
            let hu = i16::from_le_bytes([c[0], c[1]]);
            c.copy_from_slice(&((hu as f64 - intercept) as i16).to_le_bytes());
        }
        assert_eq!(fast.len(), slow.len());
        assert!(fast == want, "{v:?}: file copy differs from the decoding path");
        if intercept == 0.0 {
            assert!(fast == slow, "{v:?}: not byte-identical");
        }
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("t.nii");
        std::fs::write(&path, &fast).unwrap();
        check_against_truth(&path, 9, 1.0, intercept, 0);
    }
}

/// Series the file copy must leave alone: the stored bytes are not the voxel values (or
/// not plainly there). Same file as the decoding path, and the truth.
#[test]
fn file_copy_declines_what_needs_decoding() {
    let cases = [
        // Unsigned 16-bit above 32767: the same bits read as int16 would be negative.
        Variant {
            signed: false,
            junk: i16::MIN,
            ..CT
        },
        // 12 of 16 bits with junk above bit 11: must be sign-extended from bit 11.
        Variant {
            bits_stored: 12,
            junk: 0x5000,
            ..CT
        },
        // Unsigned 12 bits with junk: masked.
        Variant {
            bits_stored: 12,
            signed: false,
            junk: -0x7000,
            intercept: 0.0,
            ..CT
        },
        // One intercept per slice: no single scl_inter.
        Variant {
            intercept_step: 3.0,
            ..CT
        },
        // Stored big-endian.
        Variant {
            ts: EXPLICIT_VR_BE,
            ..CT
        },
        // Deflated: the bytes on disk are compressed.
        Variant {
            ts: DEFLATED_EXPLICIT_VR_LE,
            ..CT
        },
    ];
    for v in cases {
        let dir = tempfile::tempdir().unwrap();
        write_variant(dir.path(), 7, v);
        let (copied, fast, slow) = both_paths(dir.path(), "v.nii");
        assert!(!copied, "{v:?} must not be copied as stored");
        assert!(fast == slow, "{v:?}: output changed");
        // Voxel (i, j, k) = the stored word masked (unsigned) or sign-extended from
        // BitsStored (signed), plus the slice's intercept.
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("t.nii");
        std::fs::write(&path, &fast).unwrap();
        let (data, _) = read_nifti(&path).unwrap();
        let shift = 16 - v.bits_stored as u32;
        for ((k, j, i), &x) in data.indexed_iter() {
            let word = pattern(k, j, i).wrapping_add(v.junk) as u16;
            let stored = if v.signed {
                (((word << shift) as i16) >> shift) as f64
            } else {
                (word & (0xFFFF >> shift)) as f64
            };
            let want = stored + v.intercept + k as f64 * v.intercept_step;
            assert_eq!(x as f64, want, "{v:?}: voxel k={k} j={j} i={i}");
        }
    }
    // Compressed output keeps the encoding path.
    let dir = tempfile::tempdir().unwrap();
    write_variant(dir.path(), 5, CT);
    let (copied, _, _) = both_paths(dir.path(), "v.nii.gz");
    assert!(!copied, ".nii.gz is never a file copy");
}

/// A file truncated after the header pass is never copied blind: the series is written by
/// the decoding path, which leaves the file out naming it, and the output holds the other
/// slices exactly (no short or corrupt NIfTI, no temporary file).
#[test]
fn file_copy_refuses_file_truncated_after_planning() {
    for cut in [2u64, 50, 300] {
        let dir = tempfile::tempdir().unwrap();
        write_variant(dir.path(), 7, CT);
        let p = plan_study(dir.path(), &IngestOptions::default()).unwrap();
        let victim = p.study.series[0].meta.files[6].clone();
        truncate_by(&victim, cut);
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("t.nii");
        let e = p.write_nifti(0, &path).unwrap();
        assert!(!e.file_copy && !e.streamed, "cut {cut}");
        assert_eq!(e.skipped.len(), 1, "{:?}", e.skipped);
        assert_eq!(e.skipped[0].path, victim);
        assert!(e.skipped[0].reason.contains("truncat"), "{}", e.skipped[0].reason);
        check_against_truth(&path, 6, 1.0, -1024.0, 0);
        assert_eq!(
            std::fs::read_dir(out.path()).unwrap().count(),
            1,
            "no temporary file"
        );
    }
}
