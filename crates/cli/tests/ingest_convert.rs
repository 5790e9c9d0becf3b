//! `cavascope convert` and `inspect` end to end: real series from the corpus against
//! dcm2niix (affine within 0.01 mm, voxel values identical), JSON output, safe names.

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use cavascope_ingest::synth::{write_slice, SynthSlice};
use std::path::{Path, PathBuf};
use std::process::Command;

fn cavascope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cavascope"))
}

fn niftis(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    v.sort();
    v
}

/// Both outputs: `.nii.gz` (encoding path) and `--uncompressed` `.nii` (signed 16-bit
/// series with one intercept are copied file to file, intercept in scl_inter).
fn convert_matches_dcm2niix(series_dir: &Path) {
    let peer_dir = tempfile::tempdir().unwrap();
    let theirs = common::dcm2niix(series_dir, peer_dir.path());
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    let (b, gb) = common::read_peer(&theirs[0]);
    for (flag, ext) in [(None, ".nii.gz"), (Some("--uncompressed"), ".nii")] {
        let ours = tempfile::tempdir().unwrap();
        let mut cmd = cavascope();
        cmd.arg("convert").arg(series_dir).arg("--out").arg(ours.path());
        cmd.args(flag);
        let st = cmd.output().unwrap();
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
        let mine = niftis(ours.path(), ext);
        assert_eq!(mine.len(), 1, "{mine:?}");
        let stem = mine[0].to_string_lossy().trim_end_matches(ext).to_string();
        assert!(Path::new(&format!("{stem}.json")).exists(), "sidecar");
        let (a, ga) = common::read_peer(&mine[0]);
        let (affine, max) = common::compare_world((&a, &ga), (&b, &gb));
        eprintln!(
            "{} ({ext}): affine diff {affine:.2e} mm, max voxel diff {max}",
            series_dir.display()
        );
        assert!(affine < 0.01, "{ext}: affine differs by {affine} mm");
        assert_eq!(max, 0.0, "{ext}: voxel values differ");
    }
}

#[test]
fn mrbias_mr_phantom_matches_dcm2niix() {
    let Some(c) = common::corpus() else { return };
    if !common::have("dcm2niix") {
        return;
    }
    convert_matches_dcm2niix(&common::mrbias_dir(&c));
}

#[test]
fn nekton_ct_slices_match_dcm2niix() {
    let Some(c) = common::corpus() else { return };
    if !common::have("dcm2niix") {
        return;
    }
    convert_matches_dcm2niix(&common::nekton_ct(&c));
}

fn synthetic_study(dir: &Path, description: &str) {
    for k in 0..5 {
        let mut s = SynthSlice::ct(8, 6, [10.0, -20.0, 2.0 * k as f64], [0.5, 0.75]);
        s.sop_uid = format!("1.2.3.4.{k}");
        s.description = description.into();
        s.pixels = (0..48).map(|i| (i * 10 + k) as i16).collect();
        write_slice(&dir.join(format!("s{k}.dcm")), &s).unwrap();
    }
    std::fs::write(dir.join("junk.txt"), "hello").unwrap();
}

#[test]
fn inspect_json_lists_series_and_skipped() {
    let d = tempfile::tempdir().unwrap();
    synthetic_study(d.path(), "AX portal");
    let o = cavascope()
        .arg("inspect")
        .arg(d.path())
        .arg("--json")
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files_scanned"], 6);
    assert_eq!(v["files_used"], 5);
    let s = &v["series"][0];
    assert_eq!(s["dims"], serde_json::json!([6, 8, 5]));
    assert_eq!(s["spacing_mm"][0], 0.75);
    assert_eq!(s["spacing_mm"][1], 0.5);
    assert_eq!(s["spacing_mm"][2], 2.0);
    assert_eq!(s["affine_lps"][0][3], 10.0);
    assert_eq!(
        v["skipped"][0]["path"].as_str().map(|p| p.ends_with("junk.txt")),
        Some(true)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains("Synthetic^Phantom") && !text.contains("SYNTH-0001"),
        "no patient names/IDs"
    );
    let t = cavascope().arg("inspect").arg(d.path()).output().unwrap();
    let t = String::from_utf8_lossy(&t.stdout);
    assert!(
        t.contains("6×8×5") && t.contains("junk.txt") && t.contains("AX portal"),
        "{t}"
    );
}

#[test]
fn convert_names_stay_inside_out_and_values_round_trip() {
    let d = tempfile::tempdir().unwrap();
    synthetic_study(d.path(), "../../../escape/..\\x");
    let out = tempfile::tempdir().unwrap();
    let o = cavascope()
        .arg("convert")
        .arg(d.path())
        .arg("--out")
        .arg(out.path().join("nii"))
        .arg("--uncompressed")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written: Vec<_> = walk(out.path());
    assert_eq!(written.len(), 2, "{written:?}");
    for p in &written {
        assert_eq!(p.parent().unwrap(), out.path().join("nii"), "{p:?}");
        assert!(!p.file_name().unwrap().to_string_lossy().starts_with('.'));
    }
    let nii = written.iter().find(|p| p.extension().unwrap() == "nii").unwrap();
    let (a, g) = common::read_peer(nii);
    // Stored values (i*10 + k) with the synthetic rescale (slope 1, intercept -1024).
    for ((k, j, i), &v) in a.indexed_iter() {
        assert_eq!(v, ((j * 6 + i) * 10 + k) as f32 - 1024.0);
    }
    let p = g.index_to_world([1.0, 2.0, 3.0]);
    assert!(
        (p.x - 10.75).abs() < 1e-5 && (p.y + 19.0).abs() < 1e-5 && (p.z - 6.0).abs() < 1e-5,
        "{p}"
    );
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v.sort();
    v
}

/// `convert`'s sidecar against dcm2niix's own (`-b y`), key by key: every BIDS key both
/// write has the same value (times as time of day within 1 ms, numbers within 1e-6
/// relative, text and arrays equal), and every key of cavascope's BIDS list that dcm2niix
/// writes, cavascope writes too. The sidecar reads back (cavascope_volume::bids) to
/// dcm2niix's values in cavascope's units.
fn sidecar_matches_dcm2niix(series_dir: &Path) -> Vec<String> {
    use cavascope_volume::bids;
    use serde_json::Value;
    let peer = tempfile::tempdir().unwrap();
    let st = Command::new("dcm2niix")
        .args(["-b", "y", "-z", "n", "-f", "%s", "-o"])
        .arg(peer.path())
        .arg(series_dir)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "dcm2niix: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let ours = tempfile::tempdir().unwrap();
    let st = cavascope()
        .arg("convert")
        .arg(series_dir)
        .arg("--out")
        .arg(ours.path())
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let load = |d: &Path| -> serde_json::Map<String, Value> {
        let j = niftis(d, ".json");
        assert_eq!(j.len(), 1, "{j:?}");
        serde_json::from_str(&std::fs::read_to_string(&j[0]).unwrap()).unwrap()
    };
    let (a, b) = (load(ours.path()), load(peer.path()));
    let num_eq = |x: f64, y: f64| (x - y).abs() <= 1e-6 * y.abs().max(1.0);
    let mut compared = Vec::new();
    for (key, _) in bids::BIDS_KEYS {
        let (Some(x), Some(y)) = (a.get(*key), b.get(*key)) else {
            assert!(
                !b.contains_key(*key) || a.contains_key(*key),
                "{}: dcm2niix writes {key} = {}, cavascope does not",
                series_dir.display(),
                b[*key]
            );
            continue;
        };
        if key.starts_with("ConversionSoftware") {
            continue;
        }
        let same = match (x, y) {
            (Value::String(s), Value::String(t)) if *key == "AcquisitionTime" => {
                num_eq(bids::parse_time(s).unwrap(), bids::parse_time(t).unwrap()) && s.len() == t.len()
            }
            (Value::String(s), Value::String(t)) => s.trim() == t.trim(),
            (Value::Number(s), Value::Number(t)) => num_eq(s.as_f64().unwrap(), t.as_f64().unwrap()),
            (Value::Array(s), Value::Array(t)) => {
                s.len() == t.len()
                    && s.iter().zip(t).all(|(p, q)| match (p.as_f64(), q.as_f64()) {
                        (Some(p), Some(q)) => (p - q).abs() < 1e-5,
                        _ => p == q,
                    })
            }
            _ => false,
        };
        assert!(
            same,
            "{}: {key}: cavascope {x} vs dcm2niix {y}",
            series_dir.display()
        );
        compared.push(key.to_string());
    }
    // Read back through the sidecar reader: dcm2niix's file and ours give the same meta.
    let (ma, mb) = (bids::parse_fields(&a).unwrap(), bids::parse_fields(&b).unwrap());
    assert_eq!(ma.series_number, mb.series_number);
    assert_eq!(ma.image_type, mb.image_type);
    for (p, q) in [
        (ma.echo_time_ms, mb.echo_time_ms),
        (ma.repetition_time_ms, mb.repetition_time_ms),
        (ma.acquisition_time_s, mb.acquisition_time_s),
    ] {
        assert_eq!(p.is_some(), q.is_some());
        if let (Some(p), Some(q)) = (p, q) {
            assert!(num_eq(p, q), "{p} vs {q}");
        }
    }
    eprintln!(
        "{}: {} keys equal: {compared:?}",
        series_dir.display(),
        compared.len()
    );
    compared
}

#[test]
fn bids_sidecars_match_dcm2niix_key_by_key() {
    let Some(c) = common::corpus() else { return };
    if !common::have("dcm2niix") {
        eprintln!("SKIP: dcm2niix not installed");
        return;
    }
    let singles = tempfile::tempdir().unwrap();
    let single = |name: &str| {
        let d = singles.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(common::pydicom_files(&c).join(name), d.join(name)).unwrap();
        d
    };
    let mr = sidecar_matches_dcm2niix(&common::mrbias_dir(&c));
    for k in [
        "Modality",
        "SeriesDescription",
        "ImageType",
        "SeriesNumber",
        "AcquisitionTime",
        "EchoTime",
        "RepetitionTime",
        "FlipAngle",
        "ImageOrientationPatientDICOM",
    ] {
        assert!(mr.iter().any(|x| x == k), "MR: {k} not compared");
    }
    let ct = sidecar_matches_dcm2niix(&common::nekton_ct(&c));
    assert!(ct.len() >= 5, "CT: {ct:?}");
    sidecar_matches_dcm2niix(&single("CT_small.dcm"));
    sidecar_matches_dcm2niix(&single("MR_small.dcm"));
}

/// `convert` on a JPEG 2000 series: the codec's progress messages ("Start to read j2k main
/// header", "Main header has been correctly decoded", once per frame at INFO) stay out of
/// the log at the default level; `-vv` (everything) still shows them.
#[test]
fn jpeg2000_decoder_chatter_is_silent() {
    let Some(c) = common::corpus() else { return };
    let d = tempfile::tempdir().unwrap();
    let study = d.path().join("study");
    std::fs::create_dir_all(&study).unwrap();
    std::fs::copy(
        common::pydicom_files(&c).join("MR_small_jp2klossless.dcm"),
        study.join("x.dcm"),
    )
    .unwrap();
    let run = |verbose: bool| {
        let mut cmd = cavascope();
        cmd.env_remove("RUST_LOG");
        if verbose {
            cmd.arg("-vv");
        }
        let o = cmd
            .arg("convert")
            .arg(&study)
            .arg("--out")
            .arg(d.path().join("o"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).to_lowercase()
    };
    let quiet = run(false);
    assert!(!quiet.contains("main header"), "{quiet}");
    assert!(
        run(true).contains("main header"),
        "-vv shows the codec's messages"
    );
}
