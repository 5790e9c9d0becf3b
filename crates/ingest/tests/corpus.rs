//! The public corpus (test-data/corpus/fetch.sh): every decodable grayscale image decodes
//! and matches a peer — the same image in another transfer syntax, pydicom's decode of the
//! native file, or dcm2niix's output; the broken files are skipped with reasons.

mod common;

use common::*;
use std::path::{Path, PathBuf};

macro_rules! corpus_or_skip {
    () => {
        match corpus() {
            Some(c) => c,
            None => return,
        }
    };
}

fn assert_same(reference: &Path, variant: &Path, tol: f32) {
    let (a, ga) = decode_single(reference).unwrap_or_else(|e| panic!("{}: {e}", reference.display()));
    let (b, gb) = decode_single(variant).unwrap_or_else(|e| panic!("{}: {e}", variant.display()));
    assert_eq!(a.dim(), b.dim(), "{}", variant.display());
    assert!(
        ga.max_abs_diff(&gb) < 1e-6,
        "{}: geometry differs",
        variant.display()
    );
    let max = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(
        max <= tol,
        "{} vs {}: max |diff| {max} > {tol}",
        variant.display(),
        reference.display()
    );
}

#[test]
fn lossless_transfer_syntaxes_agree_with_native() {
    let c = corpus_or_skip!();
    let (pf, pd) = (pydicom_files(&c), pydicom_data(&c));
    let net = c.join("pynetdicom/pynetdicom/tests/dicom_files");
    let groups: Vec<(PathBuf, Vec<PathBuf>)> = vec![
        (
            pf.join("MR_small.dcm"),
            [
                "MR_small_implicit.dcm",         // implicit VR LE
                "MR_small_bigendian.dcm",        // explicit VR BE
                "MR_small_expb.dcm",             // explicit VR BE
                "MR_small_RLE.dcm",              // RLE lossless
                "MR_small_jp2klossless.dcm",     // JPEG 2000 lossless
                "MR_small_jpeg_ls_lossless.dcm", // JPEG-LS lossless
                "MR_small_padded.dcm",
            ]
            .iter()
            .map(|n| pf.join(n))
            .chain([
                net.join("MRImageStorage_ExplicitVRBigEndian.dcm"),
                net.join("MRImageStorage_JPG2000_Lossless.dcm"),
            ])
            .collect(),
        ),
        (
            pd.join("emri_small.dcm"),
            [
                "emri_small_big_endian.dcm",
                "emri_small_RLE.dcm",
                "emri_small_jpeg_2k_lossless.dcm",
                "emri_small_jpeg_ls_lossless.dcm",
            ]
            .iter()
            .map(|n| pd.join(n))
            .collect(),
        ),
        (pd.join("693_UNCR.dcm"), vec![pd.join("693_J2KR.dcm")]),
        (pd.join("MR2_UNCR.dcm"), vec![pd.join("MR2_J2KR.dcm")]),
        (pd.join("RG1_UNCR.dcm"), vec![pd.join("RG1_J2KR.dcm")]),
        (pd.join("RG3_UNCR.dcm"), vec![pd.join("RG3_J2KR.dcm")]),
        (
            pd.join("OBXXXX1A.dcm"),
            vec![pd.join("OBXXXX1A_expb.dcm"), pd.join("OBXXXX1A_rle.dcm")],
        ),
        (
            pd.join("OBXXXX1A_2frame.dcm"),
            vec![
                pd.join("OBXXXX1A_expb_2frame.dcm"),
                pd.join("OBXXXX1A_rle_2frame.dcm"),
            ],
        ),
        // 32-bit RT Dose: big endian and RLE (4 byte-plane segments per frame).
        (
            pf.join("rtdose.dcm"),
            vec![pf.join("rtdose_expb.dcm"), pf.join("rtdose_rle.dcm")],
        ),
        (
            pf.join("rtdose_1frame.dcm"),
            vec![
                pf.join("rtdose_expb_1frame.dcm"),
                pf.join("rtdose_rle_1frame.dcm"),
            ],
        ),
        (
            pd.join("gdcm-US-ALOKA-16.dcm"),
            vec![pd.join("gdcm-US-ALOKA-16_big.dcm")],
        ),
        (
            pf.join("CT_small.dcm"),
            vec![
                net.join("CTImageStorage.dcm"),
                net.join("CTImageStorage_bad_meta.dcm"),
            ],
        ),
    ];
    for (reference, variants) in groups {
        for v in variants {
            assert_same(&reference, &v, 0.0);
        }
    }
}

#[test]
fn lossy_jpeg2000_close_to_its_decoded_reference() {
    // *_UNCI are the reference decodes of the irreversible *_J2KI streams: decoders may
    // differ by rounding only.
    let c = corpus_or_skip!();
    let pd = pydicom_data(&c);
    for (r, v, unit) in [
        ("693_UNCI.dcm", pydicom_files(&c).join("693_J2KI.dcm"), 1.0),
        ("MR2_UNCI.dcm", pd.join("MR2_J2KI.dcm"), 1.0),
        ("RG1_UNCI.dcm", pd.join("RG1_J2KI.dcm"), 1.0),
        ("RG3_UNCI.dcm", pd.join("RG3_J2KI.dcm"), 1.0),
    ] {
        let (a, _) = decode_single(&pd.join(r)).unwrap();
        let (b, _) = decode_single(&v).unwrap();
        let v = v.display();
        let n = a.len() as f32;
        let mean = a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).sum::<f32>() / n;
        let max = a
            .iter()
            .zip(b.iter())
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        let range = a.iter().cloned().fold(f32::MIN, f32::max) - a.iter().cloned().fold(f32::MAX, f32::min);
        eprintln!("{v}: mean |diff| {mean}, max {max}, range {range}");
        assert!(
            mean <= 0.5 * unit && max <= 0.01 * range.max(1.0) + unit,
            "{v}: mean {mean} max {max}"
        );
    }
    let pf = pydicom_files(&c);
    let (a, _) = decode_single(&pd.join("JPEG2000_UNC.dcm")).unwrap();
    let (b, _) = decode_single(&pf.join("JPEG2000.dcm")).unwrap();
    let max = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(max <= 1.0, "JPEG2000.dcm vs JPEG2000_UNC.dcm: {max}");
}

/// pydicom (the wheel from the corpus, pure Python + numpy) decodes native files: stored
/// values × slope + intercept, every frame. Our slices must equal its frames (as a set:
/// we order frames spatially).
#[test]
fn native_files_match_pydicom() {
    let c = corpus_or_skip!();
    if !cavascope_testkit::require_python(&["numpy"]) {
        return;
    }
    let (pf, pd) = (pydicom_files(&c), pydicom_data(&c));
    let files = [
        pf.join("MR_small.dcm"),
        pf.join("CT_small.dcm"),
        pf.join("image_dfl.dcm"), // deflated explicit VR LE
        pf.join("rtdose.dcm"),
        pd.join("emri_small.dcm"),
        pd.join("693_UNCR.dcm"),
        pd.join("MR2_UNCR.dcm"),
        pd.join("OBXXXX1A_2frame.dcm"),
        pd.join("eCT_Supplemental.dcm"),
        pd.join("gdcm-US-ALOKA-16.dcm"),
        c.join("pynetdicom/pynetdicom/tests/dicom_files/SCImageStorage_Deflated.dcm"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let script = r#"
import sys, numpy as np, pydicom
d = pydicom.dcmread(sys.argv[1])
a = d.pixel_array.astype(np.float64)
if int(getattr(d, 'NumberOfFrames', 1) or 1) == 1:
    a = a[None]
slope = float(d.get('RescaleSlope', 1) or 1)
inter = float(d.get('RescaleIntercept', 0) or 0)
fg = d.get('SharedFunctionalGroupsSequence')
if fg and 'PixelValueTransformationSequence' in fg[0]:
    t = fg[0].PixelValueTransformationSequence[0]
    slope, inter = float(t.RescaleSlope), float(t.RescaleIntercept)
(a * slope + inter).astype('<f4').tofile(sys.argv[2])
print(a.shape[0], a.shape[1], a.shape[2])
"#;
    for f in files {
        let out = tmp.path().join("a.raw");
        let o = std::process::Command::new("python3")
            .env("PYTHONPATH", c.join("pydicom"))
            .args(["-c", script])
            .arg(&f)
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let dims: Vec<usize> = String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        let raw = std::fs::read(&out).unwrap();
        let peer: Vec<f32> = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let frame = dims[1] * dims[2];
        let (ours, _) = decode_single(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(ours.dim(), (dims[0], dims[1], dims[2]), "{}", f.display());
        let mut unmatched: Vec<&[f32]> = peer.chunks_exact(frame).collect();
        for (k, s) in ours.outer_iter().enumerate() {
            let s = s.as_slice().unwrap();
            let pos = unmatched.iter().position(|p| *p == s);
            assert!(
                pos.is_some(),
                "{}: our slice {k} matches no pydicom frame",
                f.display()
            );
            unmatched.remove(pos.unwrap());
        }
    }
}

/// JPEG lossless (process 14 SV1, 8 and 16 bit): dcm2niix decodes these itself.
#[test]
fn jpeg_lossless_matches_dcm2niix() {
    let c = corpus_or_skip!();
    if !have("dcm2niix") {
        return;
    }
    let pd = pydicom_data(&c);
    // JPEG-LL.dcm (2 fragments) is refused by dcm2niix: covered by decoding only.
    // bad_sequence.dcm: 16-bit CT, JPEG lossless, with an invalid private sequence.
    for name in ["JPGLosslessP14SV1_1s_1f_8b.dcm", "bad_sequence.dcm"] {
        let src = tempfile::tempdir().unwrap();
        std::fs::copy(pd.join(name), src.path().join(name)).unwrap();
        let out = tempfile::tempdir().unwrap();
        let niis = dcm2niix(src.path(), out.path());
        assert_eq!(niis.len(), 1, "{name}: {niis:?}");
        let (pa, pg) = read_peer(&niis[0]);
        let (study, _d) = load_single(&pd.join(name));
        let s = &study.series[0];
        let v = s.volume.as_ref().unwrap();
        if s.problems.iter().any(|p| p.contains("no patient geometry")) {
            // No geometry to compare: dcm2niix stores rows bottom-up, we top-down.
            let rows = pa.dim().1;
            assert_eq!(pa.dim(), v.data.dim(), "{name}");
            for ((k, j, i), &x) in v.data.indexed_iter() {
                assert_eq!(x, pa[[k, rows - 1 - j, i]], "{name} ({i},{j},{k})");
            }
            continue;
        }
        let (affine, max) = compare_world((&v.data, &v.geometry), (&pa, &pg));
        assert!(affine < 0.01, "{name}: affine differs by {affine} mm");
        assert_eq!(max, 0.0, "{name}: voxel values differ");
    }
}

/// Near-lossless JPEG-LS and JPEG-LS lossless within a series are covered above; the
/// near-lossless samples have no uncompressed twin, so they are checked for decoding
/// within the declared range only.
#[test]
fn jpeg_ls_near_lossless_decodes() {
    let c = corpus_or_skip!();
    let pf = pydicom_files(&c);
    for (name, hi) in [
        ("JPEGLSNearLossless_08.dcm", 255.0),
        ("JPEGLSNearLossless_16.dcm", 65535.0),
    ] {
        let (a, _) = decode_single(&pf.join(name)).unwrap();
        assert!(a.iter().all(|&v| (0.0..=hi).contains(&v)), "{name}");
        assert!(a.iter().any(|&v| v != a[[0, 0, 0]]), "{name}: constant image");
    }
}

#[test]
fn broken_files_skipped_with_reasons() {
    let c = corpus_or_skip!();
    let (pf, pd) = (pydicom_files(&c), pydicom_data(&c));
    let broken = [
        pf.join("MR_truncated.dcm"),
        pf.join("rtplan_truncated.dcm"),
        pf.join("no_meta.dcm"),
        pf.join("SC_rgb_jpeg.dcm"),
        pf.join("meta_missing_tsyntax.dcm"),
        pf.join("JPEG2000-embedded-sequence-delimiter.dcm"),
        c.join("dicognito/dicognito-0.19.0/tests/orig_data/test_conversion_error_logs_filename_and_error_type/bad.dcm"),
    ];
    for f in broken {
        let (study, _d) = load_single(&f);
        assert_eq!(study.volumes().count(), 0, "{} formed a volume", f.display());
        assert_eq!(study.skipped.len(), 1, "{}: {:?}", f.display(), study.skipped);
        let s = &study.skipped[0];
        assert!(
            s.path.ends_with(f.file_name().unwrap()) && s.reason.len() > 10,
            "{s:?}"
        );
        // The series that lost its only file is still reported.
        for s in &study.series {
            assert!(s.problems.iter().any(|p| p.contains("no volume")));
        }
    }
    // Readable despite their flaws, and equal to their intact twins.
    assert_same(
        &pd.join("emri_small.dcm"),
        &pd.join("emri_small_jpeg_2k_lossless_too_short.dcm"),
        0.0,
    );
}

#[test]
fn whole_corpus_folders_never_fail() {
    let c = corpus_or_skip!();
    for d in [pydicom_files(&c), pydicom_data(&c), c.join("dcm-classifier")] {
        let s = cavascope_ingest::load_study(&d, &Default::default()).unwrap();
        assert!(s.files_scanned > 0);
        assert!(s.skipped.iter().all(|k| !k.reason.is_empty()));
        // A file is used, skipped, or in a series that formed no volume: never two of these.
        assert!(s.files_used + s.skipped.len() <= s.files_scanned);
        assert!(s.files_used > 0);
    }
}

/// Colour images (SamplesPerPixel 3: RGB, YBR_*; any transfer syntax) are refused per
/// file with a reason that names the photometric interpretation: they are screenshots,
/// secondary captures or overlays, whose luminance is not a modality value (HU, MR
/// signal), so a scalar volume made of them would be measured as if it were.
/// (Policy in docs/ingest.md.)
#[test]
fn colour_images_refused_with_reason() {
    let c = corpus_or_skip!();
    let (pf, pd) = (pydicom_files(&c), pydicom_data(&c));
    let colour = [
        (pf.join("SC_rgb_rle.dcm"), "RGB"),
        (pf.join("SC_rgb_rle_32bit.dcm"), "RGB"),
        (pf.join("SC_rgb_jpeg_dcmtk.dcm"), "YBR_FULL"),
        (pf.join("SC_ybr_full_422_uncompressed.dcm"), "YBR_FULL_422"),
        (pf.join("GDCMJ2K_TextGBR.dcm"), "YBR_RCT"),
        (pd.join("SC_rgb.dcm"), "RGB"),
        (pd.join("US1_J2KI.dcm"), "YBR_ICT"),
        (pd.join("color3d_jpeg_baseline.dcm"), "YBR_FULL_422"),
    ];
    for (f, pi) in colour {
        let (study, _d) = load_single(&f);
        assert_eq!(study.volumes().count(), 0, "{}", f.display());
        assert_eq!(study.skipped.len(), 1, "{}", f.display());
        let r = &study.skipped[0].reason;
        assert!(
            r.contains("colour image") && r.contains("SamplesPerPixel 3") && r.contains(pi),
            "{}: {r}",
            f.display()
        );
    }
}

/// JPEG extended 12-bit (process 4): our decoder against DCMTK's `dcmdjpeg` (IJG's 12-bit
/// libjpeg) decompressing the same file to native. The exact double-precision IDCT and
/// libjpeg's integer IDCT may differ by one grey level on a few pixels.
#[test]
fn jpeg_extended_12bit_matches_dcmtk() {
    let c = corpus_or_skip!();
    if !have("dcmdjpeg") {
        return; // Debian package dcmtk
    }
    let pf = pydicom_files(&c);
    for name in ["JPEG-lossy.dcm", "JPGExtended.dcm"] {
        let src = pf.join(name);
        let dir = tempfile::tempdir().unwrap();
        let native = dir.path().join("native.dcm");
        let st = std::process::Command::new("dcmdjpeg")
            .arg(&src)
            .arg(&native)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "dcmdjpeg {name}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        let (peer, _) = decode_single(&native).unwrap_or_else(|e| panic!("{name} (native): {e}"));
        let (ours, _) = decode_single(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ours.dim(), peer.dim(), "{name}");
        let n = ours.len() as f32;
        let diffs: Vec<f32> = ours.iter().zip(peer.iter()).map(|(a, b)| (a - b).abs()).collect();
        let max = diffs.iter().cloned().fold(0f32, f32::max);
        let mean = diffs.iter().sum::<f32>() / n;
        let range = peer.iter().cloned().fold(f32::MIN, f32::max);
        eprintln!("{name}: max |diff| {max}, mean {mean}, peer max {range}");
        assert!(max <= 1.0 && mean < 0.05, "{name}: max {max} mean {mean}");
        assert!(range > 100.0, "{name}: peer image nearly empty");
    }
}

/// Our own decoders (RLE, JPEG 12-bit) on damaged streams: 300 deterministic corruptions
/// of each file's pixel data (byte flips, truncations) are decoded or refused with a
/// reason, never a panic.
#[test]
fn own_decoders_survive_corrupted_pixel_data() {
    let c = corpus_or_skip!();
    let pf = pydicom_files(&c);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in ["JPEG-lossy.dcm", "rtdose_rle.dcm", "MR_small_RLE.dcm"] {
        let orig = std::fs::read(pf.join(name)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let (mut decoded, mut refused) = (0, 0);
        for round in 0..300 {
            let mut b = orig.clone();
            // The pixel data is the tail of these files: damage the last 60 %.
            let lo = b.len() * 2 / 5;
            for _ in 0..1 + round % 8 {
                let i = lo + (next() as usize) % (b.len() - lo);
                b[i] = next() as u8;
            }
            if round % 10 == 0 {
                b.truncate(lo + (next() as usize) % (b.len() - lo));
            }
            std::fs::write(&path, &b).unwrap();
            let s = cavascope_ingest::load_study(dir.path(), &Default::default()).unwrap();
            if s.volumes().count() == 1 {
                decoded += 1;
            } else {
                refused += 1;
                assert!(s.skipped.iter().all(|k| !k.reason.is_empty()), "{name}");
            }
        }
        eprintln!("{name}: {decoded} corrupted variants decoded, {refused} refused with a reason");
    }
}

/// Every JPEG-LS file of the corpus (found by transfer syntax, not listed by name): our
/// decoder (crates/jpegls, Rust alone) gives the same samples as DCMTK's `dcmdjpls`
/// (CharLS inside), value for value — lossless and near-lossless, 8/12/16-bit, signed,
/// multi-frame, colour with line and sample interleave. For the grey files the whole
/// ingest path (rescale, sign extension) is compared too: the JPEG-LS file and DCMTK's
/// decompressed copy load as the same volume.
#[test]
fn jpeg_ls_matches_dcmtk_value_for_value() {
    use dicom_dictionary_std::tags;
    let c = corpus_or_skip!();
    if !have("dcmdjpls") {
        // .ci/run installs dcmtk; elsewhere this peer check cannot run.
        eprintln!("SKIP: dcmdjpls (dcmtk) not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = Vec::new();
    for entry in walkdir::WalkDir::new(&c).into_iter().filter_map(|e| e.ok()) {
        let p = entry.path();
        if !entry.file_type().is_file() || p.starts_with(c.join("dl")) {
            continue;
        }
        let Ok(obj) = dicom_object::OpenFileOptions::new().open_file(p) else {
            continue;
        };
        let ts = obj.meta().transfer_syntax().trim_end_matches('\0').to_string();
        if ts != "1.2.840.10008.1.2.4.80" && ts != "1.2.840.10008.1.2.4.81" {
            continue;
        }
        let int = |tag| obj.element(tag).unwrap().to_int::<u32>().unwrap();
        let (rows, cols, spp, ba) = (
            int(tags::ROWS),
            int(tags::COLUMNS),
            int(tags::SAMPLES_PER_PIXEL),
            int(tags::BITS_ALLOCATED),
        );
        let frames = obj
            .element(tags::NUMBER_OF_FRAMES)
            .ok()
            .and_then(|e| e.to_int::<u32>().ok())
            .unwrap_or(1);
        let frags = obj
            .element(tags::PIXEL_DATA)
            .unwrap()
            .value()
            .fragments()
            .unwrap();
        let streams: Vec<Vec<u8>> = if frags.len() as u32 == frames {
            frags.to_vec()
        } else {
            assert_eq!(frames, 1, "{}", p.display());
            vec![frags.concat()]
        };
        let mut ours = Vec::new();
        for s in &streams {
            let img = cavascope_jpegls::decode(s, cavascope_jpegls::Limits::exact(cols, rows, spp as u8))
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            ours.extend(img.samples);
        }
        // The peer: dcmdjpls, colour by pixel (our sample order).
        let out = tmp.path().join(format!("{}.dcm", checked.len()));
        let st = std::process::Command::new("dcmdjpls")
            .arg("+px")
            .arg(p)
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "dcmdjpls {}: {}",
            p.display(),
            String::from_utf8_lossy(&st.stderr)
        );
        let peer_obj = dicom_object::OpenFileOptions::new().open_file(&out).unwrap();
        let raw = peer_obj.element(tags::PIXEL_DATA).unwrap().to_bytes().unwrap();
        let peer: Vec<u16> = match ba {
            8 => raw.iter().map(|&b| b as u16).collect(),
            16 => raw
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
            b => panic!("{}: BitsAllocated {b}", p.display()),
        };
        let n = (rows * cols * spp * frames) as usize;
        assert_eq!(ours.len(), n, "{}", p.display());
        let diff = ours.iter().zip(&peer[..n]).filter(|(a, b)| a != b).count();
        assert_eq!(
            diff,
            0,
            "{}: {diff} of {n} samples differ from dcmdjpls",
            p.display()
        );
        if spp == 1 {
            // The same through the ingest pipeline.
            assert_same(&out, p, 0.0);
        }
        checked.push(format!(
            "{} ({}, {spp}×{ba}-bit, {frames} frame(s))",
            p.file_name().unwrap().to_string_lossy(),
            &ts[ts.len() - 2..]
        ));
    }
    eprintln!("JPEG-LS files equal to dcmdjpls: {checked:#?}");
    // The pinned corpus holds six (test-corpus.md); fewer means the walk missed some.
    assert!(
        checked.len() >= 6,
        "only {} JPEG-LS files found: {checked:?}",
        checked.len()
    );
}
