//! Hostile headers: each crafted file sits in a study beside a small valid series. The
//! study must still load (the valid series forms its 16 × 16 × 4 volume), the hostile file
//! or series must be skipped or flagged with a reason that names the problem, and
//! `cavascope inspect` / `analyze` must exit with a contract code, never panic or abort.
//! The sizes declared are far beyond memory: a reader that allocated before checking
//! would abort the test process.

mod reliability_support;

use cavascope_ingest::{load_study, IngestOptions, Study};
use reliability_support::*;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reasons given for `file` (skipped) and problems of every series: what a user would read.
fn reasons(study: &Study, hostile: &[PathBuf]) -> String {
    let mut text = String::new();
    for s in &study.skipped {
        if hostile.iter().any(|h| s.path.file_name() == h.file_name()) {
            text.push_str(&s.reason);
            text.push('\n');
        }
    }
    for series in &study.series {
        for p in &series.problems {
            text.push_str(p);
            text.push('\n');
        }
    }
    text.to_lowercase()
}

struct Case {
    dir: tempfile::TempDir,
    hostile: Vec<PathBuf>,
}

/// A study folder: a valid 4-slice series (series 1) plus what `make` writes.
fn case(make: impl FnOnce(&Path) -> Vec<PathBuf>) -> Case {
    let dir = tempfile::tempdir().unwrap();
    write_series(&dir.path().join("good"), 1, 4);
    let hostile = make(&dir.path().join("bad"));
    Case { dir, hostile }
}

/// The checks every hostile case shares; `keywords`: one must appear in the reasons.
fn check(name: &str, c: &Case, opts: &IngestOptions, keywords: &[&str], must_not_form: bool) {
    let study = load_study(c.dir.path(), opts).unwrap_or_else(|e| panic!("{name}: study failed: {e}"));
    let good: Vec<_> = study
        .series
        .iter()
        .filter(|s| s.series_instance_uid.ends_with(".1234.1.1"))
        .collect();
    assert_eq!(
        good.len(),
        1,
        "{name}: the valid series is missing: {:#?}",
        study.series
    );
    assert_eq!(good[0].dims, [16, 16, 4], "{name}");
    assert!(good[0].volume.is_some(), "{name}: valid series formed no volume");
    let why = reasons(&study, &c.hostile);
    assert!(
        keywords.iter().any(|k| why.contains(k)),
        "{name}: no reason naming the problem (wanted one of {keywords:?}); got:\n{why}\nskipped: {:#?}",
        study.skipped
    );
    if must_not_form {
        let formed = study
            .series
            .iter()
            .filter(|s| !s.series_instance_uid.ends_with(".1234.1.1"))
            .any(|s| s.volume.is_some() && s.problems.is_empty());
        assert!(
            !formed,
            "{name}: hostile series formed a volume without a problem noted"
        );
    }
    for s in &study.skipped {
        assert!(
            !s.reason.trim().is_empty(),
            "{name}: {} skipped without reason",
            s.path.display()
        );
    }
    run_binary(name, c);
}

fn run_binary(name: &str, c: &Case) {
    let d = c.dir.path().as_os_str();
    let inspect = run_limited(&[OsStr::new("inspect"), d], 60);
    assert_clean_exit(&inspect, &format!("{name}: inspect"));
    let out = tempfile::tempdir().unwrap();
    let analyze = run_limited(
        &[
            OsStr::new("analyze"),
            d,
            OsStr::new("--out"),
            out.path().as_os_str(),
        ],
        120,
    );
    assert_clean_exit(&analyze, &format!("{name}: analyze"));
}

fn one_bad_slice(edit: impl FnOnce(&mut Slice)) -> impl FnOnce(&Path) -> Vec<PathBuf> {
    move |dir| {
        let mut s = Slice::axial(2, 0);
        edit(&mut s);
        let p = dir.join("hostile.dcm");
        s.write(&p);
        vec![p]
    }
}

/// A 3-slice series 2, every slice edited alike.
fn bad_series(edit: impl Fn(&mut Slice, i32)) -> impl FnOnce(&Path) -> Vec<PathBuf> {
    move |dir| {
        (0..3)
            .map(|k| {
                let mut s = Slice::axial(2, k);
                edit(&mut s, k);
                let p = dir.join(format!("hostile{k}.dcm"));
                s.write(&p);
                p
            })
            .collect()
    }
}

const SIZE_WORDS: &[&str] = &["limit", "too large", "exceed", "voxel", "large", "size"];
const LENGTH_WORDS: &[&str] = &[
    "short", "length", "truncat", "expected", "declared", "bytes", "size",
];

#[test]
fn dimensions_beyond_any_memory() {
    // 65535² × 1000 frames: 4.3 × 10^12 voxels behind 64 bytes of pixels.
    let c = case(one_bad_slice(|s| {
        s.rows = 65535;
        s.cols = 65535;
        s.frames = Some("1000".into());
        s.pixels = Some(vec![0; 64]);
    }));
    check("huge dims", &c, &IngestOptions::default(), SIZE_WORDS, true);
    // A frame count past i32: refused as such or as too large.
    let c = case(one_bad_slice(|s| {
        s.rows = 512;
        s.cols = 512;
        s.frames = Some("2147483648".into());
        s.pixels = Some(vec![0; 64]);
    }));
    let words = [SIZE_WORDS, &["frames", "invalid"]].concat();
    check("huge frame count", &c, &IngestOptions::default(), &words, true);
}

#[test]
fn dimensions_over_a_configured_limit() {
    // 256 × 256 × 1 is fine for the machine, but not for a 10 000-voxel limit.
    let c = case(one_bad_slice(|s| {
        s.rows = 256;
        s.cols = 256;
        s.pixels = None;
    }));
    let opts = IngestOptions {
        max_voxels: 10_000,
        ..Default::default()
    };
    let study = load_study(c.dir.path(), &opts).unwrap();
    assert!(study.volumes().all(|v| v.data.len() <= 10_000));
    let why = reasons(&study, &c.hostile);
    assert!(SIZE_WORDS.iter().any(|k| why.contains(k)), "{why}");
}

#[test]
fn pixel_data_shorter_than_declared() {
    let c = case(one_bad_slice(|s| s.pixels = Some(vec![7; 100])));
    check("short pixels", &c, &IngestOptions::default(), LENGTH_WORDS, true);
}

#[test]
fn pixel_data_longer_than_declared() {
    // Tolerable (trailing padding) or refused; either way said, never a crash.
    let c = case(one_bad_slice(|s| s.pixels = Some(vec![7; 512 + 10_000])));
    let study = load_study(c.dir.path(), &IngestOptions::default()).unwrap();
    let accounted = study.skipped.iter().any(|s| s.path.ends_with("hostile.dcm"))
        || study
            .series
            .iter()
            .any(|s| s.series_instance_uid.ends_with(".1234.1.2"));
    assert!(
        accounted,
        "long pixel data file neither used nor skipped: {study:#?}"
    );
    run_binary("long pixels", &c);
}

#[test]
fn zero_rows_and_odd_bits() {
    let c = case(one_bad_slice(|s| {
        s.rows = 0;
        s.pixels = Some(Vec::new());
    }));
    check(
        "zero rows",
        &c,
        &IngestOptions::default(),
        &["row", "empty", "zero", "size", "dimension"],
        true,
    );
    let c = case(one_bad_slice(|s| {
        s.bits_allocated = 13;
        s.pixels = Some(vec![1; 600]);
    }));
    check(
        "13 bits",
        &c,
        &IngestOptions::default(),
        &["bits", "unsupported"],
        true,
    );
}

/// Deflated transfer syntax whose stream inflates to 1 GiB of zeros (about 1 MB on disk)
/// behind a header that declares 16 × 16 pixels.
fn write_deflate_bomb(path: &Path) {
    let mut inner = Slice::axial(3, 0);
    inner.pixels = Some(Vec::new());
    let mut plain = Vec::new();
    let mut obj = inner.object();
    obj.remove_element(dicom_dictionary_std::tags::PIXEL_DATA);
    obj.write_dataset_with_ts(&mut plain, &explicit_le_ts()).unwrap();
    let inflated: u32 = 1 << 30;
    plain.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
    plain.extend_from_slice(&inflated.to_le_bytes());
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&plain).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(inflated >> 20) {
        enc.write_all(&zeros).unwrap();
    }
    write_raw(path, DEFLATED_LE, &enc.finish().unwrap());
}

#[test]
fn deflate_bomb() {
    let c = case(|dir| {
        let p = dir.join("bomb.dcm");
        write_deflate_bomb(&p);
        vec![p]
    });
    assert!(std::fs::metadata(&c.hostile[0]).unwrap().len() < 4 << 20);
    // With a 64 MiB limit, inflating past it is refused with a reason.
    let opts = IngestOptions {
        max_file_bytes: 64 << 20,
        ..Default::default()
    };
    let study = load_study(c.dir.path(), &opts).unwrap();
    let bomb = study.skipped.iter().find(|s| s.path.ends_with("bomb.dcm"));
    assert!(bomb.is_some(), "deflate bomb not skipped: {:#?}", study.skipped);
    assert_eq!(study.volumes().count(), 1);
    // The binary, defaults, under a 768 MiB address-space cap: it must not inflate 1 GiB.
    for cmd in ["inspect", "analyze"] {
        let out_dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 786432; exec timeout -s KILL 120 \"$0\" \"$@\"")
            .arg(bin())
            .arg(cmd)
            .arg(c.dir.path())
            .args(if cmd == "analyze" {
                vec![OsStr::new("--out"), out_dir.path().as_os_str()]
            } else {
                vec![]
            })
            .args(["--threads", "1"])
            .output()
            .unwrap();
        assert_clean_exit(&out, &format!("deflate bomb: {cmd}"));
    }
}

/// A sequence nested `depth` levels (undefined lengths), between the header and pixels.
fn write_nested(path: &Path, depth: usize) {
    let slice = Slice::axial(4, 0);
    let mut obj = slice.object();
    let pixels = obj.take_element(dicom_dictionary_std::tags::PIXEL_DATA).unwrap();
    let mut bytes = Vec::new();
    obj.write_dataset_with_ts(&mut bytes, &explicit_le_ts()).unwrap();
    for _ in 0..depth {
        // (0040,A730) Content Sequence, SQ, undefined length; then an item, undefined length.
        bytes.extend_from_slice(&[0x40, 0x00, 0x30, 0xA7, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    }
    for _ in 0..depth {
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    }
    let px = pixels.to_bytes().unwrap().into_owned();
    bytes.extend_from_slice(&explicit_le((0x7FE0, 0x0010), b"OW", &px));
    write_raw(path, EXPLICIT_LE, &bytes);
}

#[test]
fn deeply_nested_sequences() {
    let c = case(|dir| {
        let p = dir.join("nested.dcm");
        write_nested(&p, 100_000);
        vec![p]
    });
    // Parsed or refused, the process must survive (a recursive reader overflows its
    // stack). The binary first: an abort there fails this test instead of the harness.
    run_binary("nested", &c);
    let study = load_study(c.dir.path(), &IngestOptions::default()).unwrap();
    assert_eq!(study.volumes().filter(|v| v.shape() == [4, 16, 16]).count(), 1);
    let accounted = study.skipped.iter().any(|s| s.path.ends_with("nested.dcm"))
        || study
            .series
            .iter()
            .any(|s| s.series_instance_uid.ends_with(".1234.1.4"));
    assert!(accounted, "nested file neither used nor skipped");
}

#[test]
fn bad_pixel_spacing() {
    for (label, spacing) in [
        ("NaN", "NaN\\NaN"),
        ("zero", "0\\0"),
        ("negative", "-0.8\\-0.8"),
        ("inf", "inf\\1"),
    ] {
        let c = case(bad_series(|s, _| s.pixel_spacing = spacing.into()));
        check(
            &format!("{label} spacing"),
            &c,
            &IngestOptions::default(),
            &["spacing"],
            true,
        );
    }
}

#[test]
fn orientation_not_orthonormal() {
    for (label, iop) in [
        ("parallel", "1\\0\\0\\1\\0\\0"),
        ("skewed", "1\\0\\0\\0.7071\\0.7071\\0"),
        ("zero", "0\\0\\0\\0\\0\\0"),
        ("NaN", "NaN\\0\\0\\0\\1\\0"),
    ] {
        let c = case(bad_series(|s, _| s.iop = iop.into()));
        check(
            &format!("{label} orientation"),
            &c,
            &IngestOptions::default(),
            &["orient", "orthonormal", "orthogonal", "cosine", "direction"],
            true,
        );
    }
}

#[test]
fn all_positions_equal() {
    let c = case(bad_series(|s, _| s.ipp = "-6.4\\-6.4\\10".into()));
    check(
        "equal positions",
        &c,
        &IngestOptions::default(),
        &["position", "duplicate", "spacing", "equal", "same", "coincid"],
        true,
    );
}
