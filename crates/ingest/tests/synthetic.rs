//! Synthetic series written here with dicom-object, read back through `load_study`:
//! the ground truth is the geometry and pixel pattern we wrote.

use cavascope_ingest::synth::{pattern, write_slice, SynthSlice};
use cavascope_ingest::{load_study, IngestOptions, Series, Study};
use nalgebra::Vector3;
use std::path::Path;

const ROWS: u16 = 20;
const COLS: u16 = 24;
/// `[row spacing, column spacing]`: different on purpose (PixelSpacing order matters).
const PS: [f64; 2] = [0.7, 0.9];

/// Slice k of a stack: position `origin + k * step`, orientation `iop`, pattern value.
fn slice(k: usize, origin: [f64; 3], step: [f64; 3], iop: [f64; 6], value_offset: i16) -> SynthSlice {
    let ipp = [
        origin[0] + k as f64 * step[0],
        origin[1] + k as f64 * step[1],
        origin[2] + k as f64 * step[2],
    ];
    let mut s = SynthSlice::ct(ROWS, COLS, ipp, PS);
    s.iop = iop;
    s.sop_uid = format!("1.2.826.0.1.3680043.10.1001.3.{}.{}", value_offset, k + 1);
    // Instance numbers deliberately not spatial.
    s.instance_number = ((k * 7) % 13) as i64 + 1;
    s.slope = 2.0;
    s.intercept = -1000.0;
    s.pixels = (0..ROWS as usize)
        .flat_map(|j| (0..COLS as usize).map(move |i| pattern(k, j, i) + value_offset))
        .collect();
    s
}

const AXIAL: [f64; 6] = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];

/// Write slices under scrambled nested names.
fn write_all(dir: &Path, slices: &[SynthSlice]) {
    for (n, s) in slices.iter().enumerate() {
        let sub = dir.join(format!("d{}", (n * 5) % 3)).join(format!("x{}", n % 2));
        std::fs::create_dir_all(&sub).unwrap();
        write_slice(&sub.join(format!("IM{:04}", (n * 37) % 101)), s).unwrap();
    }
}

fn load(dir: &Path) -> Study {
    load_study(dir, &IngestOptions::default()).unwrap()
}

fn primary(study: &Study) -> &Series {
    study
        .series
        .iter()
        .find(|s| s.kind == "primary")
        .expect("a primary series")
}

/// Every voxel equals the pattern of its spatial slice, rescaled.
fn assert_pattern(s: &Series, value_offset: i16, skip_k: &[usize]) {
    let v = s.volume.as_ref().expect("decoded volume");
    for ((k, j, i), &x) in v.data.indexed_iter() {
        if skip_k.contains(&k) {
            continue;
        }
        let want = (pattern(k, j, i) + value_offset) as f32 * 2.0 - 1000.0;
        assert_eq!(x, want, "voxel k={k} j={j} i={i}");
    }
}

/// World position of voxel (i, j, k) must be IPP_k + i·row·PS[1] + j·col·PS[0].
fn assert_geometry(s: &Series, origin: [f64; 3], step: [f64; 3], iop: [f64; 6]) {
    let g = s.geometry.as_ref().unwrap();
    let row = Vector3::new(iop[0], iop[1], iop[2]);
    let col = Vector3::new(iop[3], iop[4], iop[5]);
    for &(i, j, k) in &[
        (0usize, 0usize, 0usize),
        (23, 0, 0),
        (0, 19, 0),
        (5, 7, 9),
        (23, 19, 11),
    ] {
        let ipp = Vector3::new(
            origin[0] + k as f64 * step[0],
            origin[1] + k as f64 * step[1],
            origin[2] + k as f64 * step[2],
        );
        let want = ipp + row * (i as f64 * PS[1]) + col * (j as f64 * PS[0]);
        let got = g.index_to_world([i as f64, j as f64, k as f64]);
        assert!(
            (got.coords - want).norm() < 1e-4,
            "({i},{j},{k}): {got} vs {want}"
        );
    }
}

#[test]
fn shuffled_nested_and_reversed_order() {
    let origin = [-100.0, -80.0, 30.0];
    let step = [0.0, 0.0, 2.5];
    for reversed in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut slices: Vec<SynthSlice> = (0..12).map(|k| slice(k, origin, step, AXIAL, 0)).collect();
        if reversed {
            slices.reverse();
        }
        write_all(dir.path(), &slices);
        let study = load(dir.path());
        assert_eq!(study.series.len(), 1, "{:?}", study.series);
        let s = &study.series[0];
        assert_eq!(s.dims, [24, 20, 12]);
        assert!((s.spacing_mm[0] - 0.9).abs() < 1e-9 && (s.spacing_mm[1] - 0.7).abs() < 1e-9);
        assert!((s.spacing_mm[2] - 2.5).abs() < 1e-9);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(study.files_used, 12);
        assert!(study.skipped.is_empty());
        assert_pattern(s, 0, &[]);
        assert_geometry(s, origin, step, AXIAL);
        let m = &s.volume.as_ref().unwrap().meta;
        assert_eq!(m.modality, "CT");
        assert_eq!(m.series_number, Some(2));
        assert_eq!(m.acquisition_time_s, Some(10.0 * 3600.0 + 15.0 * 60.0));
        assert_eq!(m.files.len(), 12);
        // Each slice names its source image (what a DICOM SEG references), in volume order.
        let uids: Vec<&str> = s
            .slice_sources
            .iter()
            .map(|v| {
                assert_eq!(v.len(), 1);
                v[0].sop_instance_uid.as_str()
            })
            .collect();
        let want: Vec<String> = (0..12)
            .map(|k| format!("1.2.826.0.1.3680043.10.1001.3.0.{}", k + 1))
            .collect();
        assert_eq!(uids, want);
        assert!(s
            .slice_sources
            .iter()
            .all(|v| v[0].frame_number.is_none() && v[0].sop_class_uid == "1.2.840.10008.5.1.4.1.1.2"));
    }
}

#[test]
fn oblique_orientation() {
    let row = Vector3::new(0.8, 0.6, 0.0);
    let col = Vector3::new(-0.36, 0.48, 0.8);
    let n = row.cross(&col);
    let iop = [row.x, row.y, row.z, col.x, col.y, col.z];
    let origin = [12.0, -40.0, 5.0];
    let step = [n.x * 3.0, n.y * 3.0, n.z * 3.0];
    let dir = tempfile::tempdir().unwrap();
    let mut slices: Vec<SynthSlice> = (0..12).map(|k| slice(k, origin, step, iop, 0)).collect();
    slices.swap(0, 7);
    write_all(dir.path(), &slices);
    let study = load(dir.path());
    let s = primary(&study);
    assert_eq!(s.dims[2], 12);
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    // DS written with 6 decimals: positions exact to ~1e-6.
    assert_geometry(s, origin, step, iop);
    assert_pattern(s, 0, &[]);
}

#[test]
fn gantry_tilt_gives_sheared_affine() {
    let tilt = 15f64.to_radians();
    let origin = [-100.0, -80.0, 30.0];
    // Axial images; the table moves 2 mm per slice while the slice plane is tilted about x.
    let step = [0.0, 2.0 * tilt.tan(), 2.0];
    let dir = tempfile::tempdir().unwrap();
    let slices: Vec<SynthSlice> = (0..12).map(|k| slice(k, origin, step, AXIAL, 0)).collect();
    write_all(dir.path(), &slices);
    let study = load(dir.path());
    let s = primary(&study);
    assert!((s.tilt_deg - 15.0).abs() < 1e-3, "{}", s.tilt_deg);
    assert!((s.geometry.as_ref().unwrap().shear_deg() - 15.0).abs() < 1e-3);
    assert!(s.problems.iter().any(|p| p.contains("tilt")), "{:?}", s.problems);
    assert_geometry(s, origin, step, AXIAL);
    assert_pattern(s, 0, &[]);
}

#[test]
fn missing_slice_detected_and_interpolated() {
    let origin = [0.0, 0.0, 0.0];
    let step = [0.0, 0.0, 2.0];
    let dir = tempfile::tempdir().unwrap();
    let slices: Vec<SynthSlice> = (0..12)
        .filter(|&k| k != 5)
        .map(|k| slice(k, origin, step, AXIAL, 0))
        .collect();
    write_all(dir.path(), &slices);
    let study = load(dir.path());
    let s = primary(&study);
    assert_eq!(s.dims[2], 12, "the even grid spans the gap");
    assert!(
        s.problems.iter().any(|p| p.contains("1 missing slice")),
        "{:?}",
        s.problems
    );
    assert_geometry(s, origin, step, AXIAL);
    assert_pattern(s, 0, &[5]);
    // The interpolated slice names both neighbours; the others their own image.
    let uid = |k: usize| format!("1.2.826.0.1.3680043.10.1001.3.0.{}", k + 1);
    let src: Vec<Vec<String>> = s
        .slice_sources
        .iter()
        .map(|v| v.iter().map(|x| x.sop_instance_uid.clone()).collect())
        .collect();
    assert_eq!(src.len(), 12);
    assert_eq!(src[4], vec![uid(4)]);
    assert_eq!(src[5].len(), 2);
    assert!(
        src[5].contains(&uid(4)) && src[5].contains(&uid(6)),
        "{:?}",
        src[5]
    );
    assert_eq!(src[6], vec![uid(6)]);
    // Slice 5 is the mean of 4 and 6 (linear interpolation, said in the problems).
    let v = &s.volume.as_ref().unwrap().data;
    for j in 0..20 {
        for i in 0..24 {
            assert!((v[[5, j, i]] - 0.5 * (v[[4, j, i]] + v[[6, j, i]])).abs() < 1e-3);
        }
    }
}

#[test]
fn uneven_spacing_reported_and_resampled() {
    let dir = tempfile::tempdir().unwrap();
    let zs = [0.0, 2.0, 4.0, 6.0, 8.0, 9.0, 11.0, 13.0, 15.0];
    let slices: Vec<SynthSlice> = zs
        .iter()
        .enumerate()
        .map(|(k, &z)| {
            let mut s = slice(k, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], AXIAL, 0);
            s.ipp[2] = z;
            s
        })
        .collect();
    write_all(dir.path(), &slices);
    let s = primary(&load(dir.path())).clone();
    assert!(
        s.problems.iter().any(|p| p.contains("uneven slice spacing")),
        "{:?}",
        s.problems
    );
    assert!((s.spacing_mm[2] - 2.0).abs() < 1e-9);
    assert_eq!(s.slice_positions_mm.len(), 9, "true positions kept");
    let v = s.volume.as_ref().unwrap();
    // World z of the last slice covers the span (15 mm ≈ 8 × 2 mm; rounded to the grid).
    assert_eq!(v.data.dim().0, 9);
    // Slice at z = 10 lies midway between the stored slices at 9 and 11.
    let val = v.data[[5, 0, 0]];
    let want = 0.5 * ((pattern(5, 0, 0) as f32 * 2.0 - 1000.0) + (pattern(6, 0, 0) as f32 * 2.0 - 1000.0));
    assert!((val - want).abs() < 1e-3, "{val} vs {want}");
}

#[test]
fn duplicate_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut slices: Vec<SynthSlice> = (0..10)
        .map(|k| slice(k, [0.0; 3], [0.0, 0.0, 1.5], AXIAL, 0))
        .collect();
    slices.push(slices[3].clone());
    write_all(dir.path(), &slices);
    let study = load(dir.path());
    assert_eq!(study.series.len(), 1);
    let s = &study.series[0];
    assert_eq!(s.duplicates_dropped, 1);
    assert_eq!(s.dims[2], 10);
    assert!(
        s.problems.iter().any(|p| p.contains("duplicate")),
        "{:?}",
        s.problems
    );
    assert_pattern(s, 0, &[]);
}

#[test]
fn localizer_split_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut slices: Vec<SynthSlice> = (0..10)
        .map(|k| slice(k, [0.0; 3], [0.0, 0.0, 1.5], AXIAL, 0))
        .collect();
    for (n, iop) in [[0.0, 1.0, 0.0, 0.0, 0.0, -1.0], [1.0, 0.0, 0.0, 0.0, 0.0, -1.0]]
        .iter()
        .enumerate()
    {
        let mut l = slice(0, [0.0, 0.0, 50.0], [0.0; 3], *iop, 0);
        l.image_type = "ORIGINAL\\PRIMARY\\LOCALIZER".into();
        l.sop_uid = format!("1.2.826.0.1.3680043.10.1001.4.{n}");
        slices.push(l);
    }
    write_all(dir.path(), &slices);
    let study = load(dir.path());
    let p = primary(&study);
    assert_eq!(p.dims[2], 10);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_pattern(p, 0, &[]);
    let locs: Vec<_> = study.series.iter().filter(|s| s.kind == "localizer").collect();
    assert_eq!(locs.len(), 2, "one per orientation");
    assert!(locs.iter().all(|s| s.dims[2] == 1));
}

#[test]
fn two_phases_sharing_one_series_uid() {
    // Variant A: AcquisitionNumber separates; variant B: nothing but acquisition time per slice.
    for variant in ["acqnum", "time"] {
        let dir = tempfile::tempdir().unwrap();
        let mut slices = Vec::new();
        for (phase, offset) in [(1i64, 0i16), (2, 1000)] {
            for k in 0..8 {
                let mut s = slice(k, [0.0; 3], [0.0, 0.0, 2.0], AXIAL, offset);
                if variant == "acqnum" {
                    s.acquisition_number = Some(phase);
                    s.acquisition_time = Some(format!("10{:02}00", phase * 10));
                } else {
                    s.acquisition_number = None;
                    // Per-slice times: phase 2 starts 70 s after phase 1.
                    s.acquisition_time = Some(format!("10{:02}{:02}", phase, 10 + k * 2));
                }
                slices.push(s);
            }
        }
        write_all(dir.path(), &slices);
        let study = load(dir.path());
        assert_eq!(
            study.series.len(),
            2,
            "{variant}: {:?}",
            study.series.iter().map(|s| &s.problems).collect::<Vec<_>>()
        );
        for (idx, offset) in [(0usize, 0i16), (1, 1000)] {
            let s = &study.series[idx];
            assert_eq!(s.dims[2], 8, "{variant}");
            assert_eq!(s.meta.temporal_index, Some(idx as i64 + 1), "{variant}");
            assert_pattern(s, offset, &[]);
        }
        assert!(study.series[0].meta.acquisition_time_s < study.series[1].meta.acquisition_time_s);
    }
}

#[test]
fn broken_files_skipped_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let slices: Vec<SynthSlice> = (0..6)
        .map(|k| slice(k, [0.0; 3], [0.0, 0.0, 2.0], AXIAL, 0))
        .collect();
    write_all(dir.path(), &slices);
    std::fs::write(dir.path().join("notes.txt"), "not a dicom file at all, just text").unwrap();
    std::fs::write(dir.path().join("empty"), "").unwrap();
    // Truncated copy of a valid slice under another series UID (so the main series is intact).
    let mut t = slice(0, [0.0; 3], [0.0; 3], AXIAL, 0);
    t.series_uid = "1.2.3.999".into();
    let tp = dir.path().join("trunc.dcm");
    write_slice(&tp, &t).unwrap();
    let bytes = std::fs::read(&tp).unwrap();
    std::fs::write(&tp, &bytes[..bytes.len() - 300]).unwrap();
    let study = load(dir.path());
    let s = study
        .series
        .iter()
        .find(|s| s.series_instance_uid != "1.2.3.999")
        .unwrap();
    assert_eq!(s.dims[2], 6);
    // The truncated file is refused by the structure guard before parsing (its pixel data
    // declares more bytes than remain), so its series never forms a volume; never fatal.
    assert!(study
        .series
        .iter()
        .filter(|s| s.series_instance_uid == "1.2.3.999")
        .all(|t| t.volume.is_none()));
    assert_eq!(study.skipped.len(), 3, "{:?}", study.skipped);
    for sk in &study.skipped {
        assert!(!sk.reason.is_empty());
    }
    let reason = |name: &str| {
        study
            .skipped
            .iter()
            .find(|s| s.path.ends_with(name))
            .map(|s| s.reason.clone())
    };
    assert!(
        reason("trunc.dcm").unwrap().contains("truncated"),
        "{:?}",
        reason("trunc.dcm")
    );
    assert!(reason("notes.txt").is_some() && reason("empty").is_some());
}

#[test]
fn hostile_sizes_refused_before_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let slices: Vec<SynthSlice> = (0..6)
        .map(|k| slice(k, [0.0; 3], [0.0, 0.0, 2.0], AXIAL, 0))
        .collect();
    write_all(dir.path(), &slices);
    let opts = IngestOptions {
        max_voxels: 20 * 24 * 5,
        ..Default::default()
    };
    let study = load_study(dir.path(), &opts).unwrap();
    let s = &study.series[0];
    assert!(s.volume.is_none());
    assert!(
        s.problems.iter().any(|p| p.contains("exceeds the limit")),
        "{:?}",
        s.problems
    );
    assert!(load_study(&dir.path().join("nope"), &opts).is_err());
}

#[test]
fn headers_only_mode_has_geometry_without_voxels() {
    let dir = tempfile::tempdir().unwrap();
    let slices: Vec<SynthSlice> = (0..6)
        .map(|k| slice(k, [1.0, 2.0, 3.0], [0.0, 0.0, 2.0], AXIAL, 0))
        .collect();
    write_all(dir.path(), &slices);
    let opts = IngestOptions {
        decode_pixels: false,
        ..Default::default()
    };
    let study = load_study(dir.path(), &opts).unwrap();
    let s = &study.series[0];
    assert!(s.volume.is_none());
    assert_geometry(s, [1.0, 2.0, 3.0], [0.0, 0.0, 2.0], AXIAL);
}

/// Truncations and byte corruptions of a valid file at many offsets: never a panic, and
/// every unusable file is skipped with a reason.
#[test]
fn corrupted_files_never_panic() {
    let src = tempfile::tempdir().unwrap();
    let s = slice(0, [0.0; 3], [0.0; 3], AXIAL, 0);
    let p = src.path().join("ok.dcm");
    write_slice(&p, &s).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 12345u64;
    for n in 0..120 {
        let mut b = bytes.clone();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let at = (seed >> 33) as usize % b.len();
        if n % 2 == 0 {
            b.truncate(at);
        } else {
            for k in 0..8 {
                let i = (at + k * 7) % b.len();
                b[i] ^= (seed >> (8 * k)) as u8 | 1;
            }
        }
        std::fs::write(dir.path().join(format!("c{n:03}.dcm")), &b).unwrap();
    }
    let study = load(dir.path());
    assert_eq!(study.files_scanned, 120);
    for sk in &study.skipped {
        assert!(!sk.reason.is_empty());
    }
}

/// A slice with extra bytes after its complete pixel data (a stray tail left by some
/// exporters) is read, with a warning, as dcm2niix, DCMTK and pydicom read it: the volume
/// keeps all its slices and every voxel its value. Explicit and implicit VR; short and
/// long tails, zeros and junk.
#[test]
fn extra_bytes_after_pixel_data_are_read() {
    for (ts, tail) in [
        (
            cavascope_ingest::pixels::EXPLICIT_VR_LE,
            vec![0x12u8, 0x34, 0x56, 0x78, 0x9A],
        ),
        (cavascope_ingest::pixels::EXPLICIT_VR_LE, vec![0u8; 3]),
        (cavascope_ingest::pixels::IMPLICIT_VR_LE, (0..=255u8).collect()),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let slices: Vec<SynthSlice> = (0..6)
            .map(|k| {
                let mut s = slice(k, [0.0; 3], [0.0, 0.0, 2.0], AXIAL, 0);
                s.transfer_syntax = ts.into();
                s
            })
            .collect();
        for (k, s) in slices.iter().enumerate() {
            let p = dir.path().join(format!("s{k}.dcm"));
            write_slice(&p, s).unwrap();
            if k == 3 {
                let mut b = std::fs::read(&p).unwrap();
                b.extend_from_slice(&tail);
                std::fs::write(&p, b).unwrap();
            }
        }
        let study = load(dir.path());
        assert!(
            study.skipped.is_empty(),
            "{ts} {}: {:?}",
            tail.len(),
            study.skipped
        );
        let s = primary(&study);
        assert_eq!(s.dims[2], 6, "{ts}: a slice went missing: {:?}", s.problems);
        assert_pattern(s, 0, &[]);
    }
}
