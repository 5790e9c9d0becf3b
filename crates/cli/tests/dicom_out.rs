//! `analyze --dicom-out`: the DICOM SEG and the TID 1500 SR are checked by peers —
//! dciodvfy (dicom3tools) finds no error in either; highdicom reads both back
//! (`tests/peers/highdicom_read.py`) and what it reads equals report.json; every SEG
//! segment equals its NIfTI label map voxel for voxel, on the source slices it names.
//! With `CI=true` a missing peer fails the test, naming it; elsewhere it is skipped.

use cavascope_phantom::{generate, write_study, CaseName, PhantomOptions, Truth, WriteOptions};
use cavascope_volume::{nifti_io, Mask};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `None` (skip) when the peer is missing outside CI; a failure naming it in CI.
fn peer_missing(what: &str) -> Option<()> {
    assert!(!ci(), "peer missing in CI: {what}");
    eprintln!("SKIPPED: peer missing: {what}");
    None
}

fn analyze(study: &Path, out: &Path, truth: &Truth) -> Value {
    let p = |v: [f64; 3]| format!("{},{},{}", v[0], v[1], v[2]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cavascope"));
    cmd.arg("analyze")
        .arg(study)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .arg("--dicom-out")
        .arg(format!("--ivc-seed={}", p(truth.ivc_seed_mm)));
    if let Some(m) = truth.mass_seed_mm {
        cmd.arg(format!("--mass-seed={}", p(m)));
    }
    let o = cmd.output().expect("run cavascope");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

/// dciodvfy's errors for one file (its warnings are printed, not failed on).
fn dciodvfy_errors(file: &Path) -> Option<Vec<String>> {
    let o = match Command::new("dciodvfy").arg(file).output() {
        Ok(o) => o,
        Err(_) => return peer_missing("dciodvfy (apt install dicom3tools)").map(|_| vec![]),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("dciodvfy {}:\n{text}", file.display());
    Some(
        text.lines()
            .filter(|l| l.starts_with("Error"))
            .map(str::to_string)
            .collect(),
    )
}

fn highdicom(seg: &Path, sr: &Path) -> Option<Value> {
    let ok = Command::new("python3")
        .args(["-c", "import highdicom"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return peer_missing("highdicom (pip install highdicom)").map(|_| Value::Null);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/highdicom_read.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(seg)
        .arg(sr)
        .output()
        .expect("run python3");
    assert!(
        o.status.success(),
        "highdicom could not read the SEG/SR: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(serde_json::from_slice(&o.stdout).expect("JSON from highdicom_read.py"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

#[test]
fn ct_seg_and_sr_pass_dciodvfy_and_read_back_in_highdicom_as_report_json() {
    check_case(CaseName::IvcLeiomyosarcoma);
}

#[test]
fn mri_seg_and_sr_pass_dciodvfy_and_read_back_in_highdicom_as_report_json() {
    check_case(CaseName::MriLeiomyosarcoma);
}

fn check_case(case: CaseName) {
    let tmp = tempfile::tempdir().unwrap();
    let study_dir = tmp.path().join("study");
    let st = generate(case, &PhantomOptions::small());
    let w = write_study(&st, &study_dir, &WriteOptions::default()).unwrap();
    let truth = Truth::load(&w.truth_path).unwrap();
    let out = tmp.path().join("out");
    let r = analyze(&study_dir, &out, &truth);
    let seg = out.join("dicom/seg.dcm");
    let sr = out.join("dicom/sr.dcm");
    assert!(seg.is_file() && sr.is_file(), "dicom/ files missing");
    assert!(
        !r["warnings"].to_string().contains("DICOM SEG/SR not written"),
        "{}",
        r["warnings"]
    );

    // 1. dciodvfy: no errors in either object.
    let mut errors = Vec::new();
    for f in [&seg, &sr] {
        match dciodvfy_errors(f) {
            Some(e) => errors.extend(e.into_iter().map(|l| format!("{}: {l}", f.display()))),
            None => return,
        }
    }
    assert!(errors.is_empty(), "dciodvfy:\n{}", errors.join("\n"));

    // 2. highdicom reads both.
    let Some(h) = highdicom(&seg, &sr) else { return };

    // The reference series as ingest sees it: slice k ↔ source SOP Instance UID.
    let study = cavascope_ingest::load_study(&study_dir, &Default::default()).unwrap();
    let ref_uid = r["ivc"]["reference_series"].as_str().unwrap();
    let series = study
        .series
        .iter()
        .find(|s| s.series_instance_uid == ref_uid && s.volume.is_some())
        .unwrap();
    let vol = series.volume.as_ref().unwrap();
    let slice_of: BTreeMap<&str, usize> = series
        .slice_sources
        .iter()
        .enumerate()
        .map(|(k, s)| (s[0].sop_instance_uid.as_str(), k))
        .collect();
    assert_eq!(slice_of.len(), vol.shape()[0], "one source image per slice");

    let hs = &h["seg"];
    assert_eq!(hs["rows"], vol.shape()[1]);
    assert_eq!(hs["columns"], vol.shape()[2]);
    assert_eq!(hs["referenced_series"], serde_json::json!([ref_uid]));
    assert_eq!(
        hs["frame_of_reference_uid"].as_str(),
        vol.meta.frame_of_reference_uid.as_deref()
    );
    assert_eq!(
        hs["study_instance_uid"].as_str(),
        vol.meta.study_instance_uid.as_deref()
    );
    assert_eq!(h["sr"]["study_instance_uid"], hs["study_instance_uid"]);

    // 3. Every segment equals its NIfTI label map voxel for voxel.
    let nifti_of = |label: &str| match label {
        "Inferior vena cava" => Some(("ivc_mask.nii.gz", "64131007")),
        "Mass" => Some(("mass_mask.nii.gz", "4147007")),
        "Enlarged collateral veins" => Some(("collaterals_mask.nii.gz", "29092000")),
        _ => None,
    };
    let mut seg_number = BTreeMap::new();
    let nj_ni = vol.shape()[2];
    for s in hs["segments"].as_array().unwrap() {
        let label = s["label"].as_str().unwrap();
        let (file, sct) = nifti_of(label).unwrap_or_else(|| panic!("unexpected segment {label}"));
        assert_eq!(s["type"]["value"], sct, "{label}");
        assert_eq!(s["type"]["scheme"], "SCT", "{label}");
        let n = s["number"].as_u64().unwrap();
        seg_number.insert(label.to_string(), n);
        let mut from_seg = BTreeSet::new();
        for (uid, idx) in hs["pixels"][n.to_string()].as_object().unwrap() {
            let k = slice_of[uid.as_str()];
            for p in idx.as_array().unwrap() {
                let p = p.as_u64().unwrap() as usize;
                from_seg.insert((k, p / nj_ni, p % nj_ni));
            }
        }
        let (data, geom) = nifti_io::read_nifti(&out.join(file)).unwrap();
        let m = Mask::new(data.mapv(|x| x > 0.5), geom).resample_onto(&vol.geometry, vol.shape());
        let from_nifti: BTreeSet<(usize, usize, usize)> = m
            .data
            .indexed_iter()
            .filter(|(_, &b)| b)
            .map(|(i, _)| i)
            .collect();
        assert!(!from_nifti.is_empty(), "{label}: empty label map");
        assert_eq!(
            from_seg.len(),
            from_nifti.len(),
            "{label}: SEG {} voxels, NIfTI {}",
            from_seg.len(),
            from_nifti.len()
        );
        assert!(from_seg == from_nifti, "{label}: SEG and NIfTI differ");
    }
    assert!(seg_number.contains_key("Inferior vena cava") && seg_number.contains_key("Mass"));

    // 4. The SR's numbers are report.json's.
    let groups = h["sr"]["groups"].as_array().unwrap();
    let group = |id: &str| {
        groups
            .iter()
            .find(|g| g["tracking_identifier"] == id)
            .unwrap_or_else(|| panic!("no group {id}: {groups:?}"))
    };
    let meas = |g: &Value, name: &str, modifier: Option<(&str, &str)>| -> Vec<Value> {
        g["measurements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["name"]["meaning"] == name)
            .filter(|m| modifier.is_none_or(|(k, v)| m["modifiers"][k] == v))
            .cloned()
            .collect()
    };
    let one = |g: &Value, name: &str, modifier: Option<(&str, &str)>| -> Value {
        let v = meas(g, name, modifier);
        assert_eq!(v.len(), 1, "{name} {modifier:?} in {}", g["tracking_identifier"]);
        v[0].clone()
    };
    let spacing = vol.geometry.spacing();
    let ivc = group("Inferior vena cava");
    let seg_sop = hs["sop_instance_uid"].clone();
    assert_eq!(ivc["kind"], "volumetric");
    assert_eq!(
        ivc["referenced_segment"]["segment_number"],
        seg_number["Inferior vena cava"]
    );
    for (derivation, key) in [
        ("Maximum", "max_equivalent_diameter_mm"),
        ("Minimum", "min_equivalent_diameter_mm"),
    ] {
        let d = one(ivc, "Diameter", Some(("Derivation", derivation)));
        let want = r["ivc"][key].as_f64().unwrap();
        assert!(close(d["value"].as_f64().unwrap(), want), "{key}: {d} vs {want}");
        assert_eq!(d["unit"]["value"], "mm");
        // Its two-point line on a slice of the reference series, about as long.
        let l = &d["lines"][0];
        assert_eq!(l["graphic_type"], "POLYLINE");
        assert!(slice_of.contains_key(l["sop_instance_uid"].as_str().unwrap()));
        let p: Vec<f64> = l["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let len = (((p[2] - p[0]) * spacing[0]).powi(2) + ((p[3] - p[1]) * spacing[1]).powi(2)).sqrt();
        assert!(
            (len - want).abs() <= 0.15 * want,
            "{key}: line {len:.1} mm, value {want:.1}"
        );
    }
    let flat = one(ivc, "Flattening ratio (min/max Feret)", None);
    assert!(close(
        flat["value"].as_f64().unwrap(),
        r["ivc"]["min_flattening_ratio"].as_f64().unwrap()
    ));
    let len = one(ivc, "Length", None);
    assert!(close(
        len["value"].as_f64().unwrap(),
        r["ivc"]["length_mm"].as_f64().unwrap()
    ));
    if let Some(l) = r["ivc"]["lumen"]["longest_imperceptible_mm"].as_f64() {
        let v = one(ivc, "Longest imperceptible lumen length", None);
        assert!(close(v["value"].as_f64().unwrap(), l));
    }

    let mass = group("Mass");
    assert_eq!(mass["referenced_segment"]["segment_number"], seg_number["Mass"]);
    assert_eq!(mass["referenced_segment"]["sop_instance_uid"], seg_sop);
    let rm = &r["mass"];
    assert!(close(
        one(mass, "Volume", None)["value"].as_f64().unwrap(),
        rm["volume_ml"].as_f64().unwrap()
    ));
    let d = one(mass, "Diameter", Some(("Derivation", "Maximum")));
    assert!(close(
        d["value"].as_f64().unwrap(),
        rm["max_diameter_mm"].as_f64().unwrap()
    ));
    assert_eq!(d["lines"].as_array().map(|a| a.len()), Some(1));
    for (name, key) in [
        ("Arc of contact with the IVC wall", "contact_arc_deg"),
        ("Fat fraction of the mass", "fat_fraction"),
        ("Calcified fraction of the mass", "calcified_fraction"),
    ] {
        if let Some(want) = rm[key].as_f64() {
            assert!(
                close(one(mass, name, None)["value"].as_f64().unwrap(), want),
                "{key}"
            );
        }
    }
    let means = meas(mass, "Mean value in the mass", None);
    let enh = rm["enhancement"].as_array().unwrap();
    assert_eq!(means.len(), enh.len());
    for (m, e) in means.iter().zip(enh) {
        assert!(close(m["value"].as_f64().unwrap(), e["mean"].as_f64().unwrap()));
        assert_eq!(
            m["modifiers"]["Contrast phase"],
            cavascope_dicomout::codes::role(e["role"].as_str().unwrap()).meaning
        );
    }

    // Every sign a qualitative evaluation with its state.
    let signs = group("Signs");
    let evals = signs["evaluations"].as_array().unwrap();
    assert_eq!(evals.len(), r["signs"].as_array().unwrap().len());
    for s in r["signs"].as_array().unwrap() {
        let code = cavascope_dicomout::codes::sign(s["id"].as_str().unwrap());
        let e = evals
            .iter()
            .find(|e| e["name"]["value"] == code.value.as_str())
            .unwrap_or_else(|| panic!("sign {} missing", s["id"]));
        let want = cavascope_dicomout::codes::state(s["state"].as_str().unwrap());
        assert_eq!(e["value"]["value"], want.value.as_str(), "sign {}", s["id"]);
    }
}
