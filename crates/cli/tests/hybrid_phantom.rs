//! End to end on real anatomy: the hybrid phantom (a lesion and virtual contrast phases
//! painted on TotalSegmentator's real native CT, `cavascope phantom --background`) is
//! written as DICOM and analysed, auto and with the truth's seeds; report.json is
//! compared with truth.json (issue 16, item 6). Skips (fails in CI) when the real-data
//! fixture is missing.
//!
//! What the analysis does not yet get right on real anatomy is kept as `#[ignore]` tests
//! that assert the target: every sign state and the top diagnosis as the truth,
//! IVC calibre MAE ≤ 1.5 mm over ≥ 70 % of the IVC in view, mass volume within 20 %, no
//! mass on the normal case. `cargo test -p cavascope-cli --test hybrid_phantom --
//! --include-ignored` shows where it stands.

#[path = "../../phantom/tests/support/real_ts.rs"]
mod real_ts;

use cavascope_phantom::{CaseName, Truth};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

fn cavascope(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cavascope"))
        .args(args)
        .output()
        .expect("run cavascope")
}

/// Written hybrid studies (folder, truth) by case.
type Studies = Mutex<HashMap<CaseName, Arc<(PathBuf, Truth)>>>;

/// The hybrid study of a case (seed 1), written once per test process through the CLI.
fn written(case: CaseName) -> Option<Arc<(PathBuf, Truth)>> {
    static STUDIES: OnceLock<Studies> = OnceLock::new();
    let (ct, seg) = real_ts::ct_and_labels()?;
    let mut map = STUDIES
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(w) = map.get(&case) {
        return Some(w.clone());
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hybrid_phantom")
        .join(case.as_str());
    let _ = std::fs::remove_dir_all(&dir);
    let o = cavascope(&[
        "phantom".as_ref(),
        "--quiet".as_ref(),
        "--case".as_ref(),
        case.as_str().as_ref(),
        "--background".as_ref(),
        ct.as_os_str(),
        "--labels".as_ref(),
        seg.as_os_str(),
        "--out".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "phantom --background failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let truth = Truth::load(&dir.join("truth.json")).expect("truth.json");
    let w = Arc::new((dir, truth));
    map.insert(case, w.clone());
    Some(w)
}

fn analyze(study: &Path, out: &Path, seeds: Option<&Truth>) -> Value {
    analyze_with(study, out, seeds, &[])
}

fn analyze_with(study: &Path, out: &Path, seeds: Option<&Truth>, extra: &[String]) -> Value {
    let p = |v: [f64; 3]| format!("{},{},{}", v[0], v[1], v[2]);
    let mut args: Vec<String> = vec![
        "analyze".into(),
        study.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--quiet".into(),
    ];
    args.extend(extra.iter().cloned());
    if let Some(t) = seeds {
        args.push(format!("--ivc-seed={}", p(t.ivc_seed_mm)));
        if let Some(m) = t.mass_seed_mm {
            args.push(format!("--mass-seed={}", p(m)));
        }
    }
    let o = Command::new(env!("CARGO_BIN_EXE_cavascope"))
        .args(&args)
        .output()
        .expect("run cavascope");
    assert_eq!(
        o.status.code(),
        Some(0),
        "analyze {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("report.json is JSON")
}

/// What must hold today: the report validates and every series has its role.
fn basics(label: &str, r: &Value, t: &Truth) -> Vec<String> {
    let mut bad = Vec::new();
    for e in cavascope_report::schema::validate(&cavascope_report::schema::schema(), r) {
        bad.push(format!("{label}: schema: {e}"));
    }
    let empty = vec![];
    let series = r["series"].as_array().unwrap_or(&empty);
    if series.len() != 4 {
        bad.push(format!(
            "{label}: {} series in the report, 4 written",
            series.len()
        ));
    }
    for s in series {
        let uid = s["series_instance_uid"].as_str().unwrap_or("");
        if let Some(want) = t.role_of(uid) {
            if s["role"].as_str() != Some(want) {
                bad.push(format!("{label}: series {uid} role {}, truth {want}", s["role"]));
            }
        }
    }
    bad
}

/// The target: signs, top diagnosis, calibre, mass volume.
fn target(label: &str, r: &Value, t: &Truth) -> Vec<String> {
    let mut bad = Vec::new();
    let empty = vec![];
    let signs = r["signs"].as_array().unwrap_or(&empty);
    for (id, want) in &t.expected_signs {
        match signs.iter().find(|s| s["id"] == id.as_str()) {
            Some(s) if s["state"] == want.as_str() => {}
            Some(s) => bad.push(format!(
                "{label}: {id} = {}, truth {want}: {}",
                s["state"], s["explanation"]
            )),
            None => bad.push(format!("{label}: {id} missing")),
        }
    }
    let top = r["differential"][0]["diagnosis"].as_str().unwrap_or("none");
    if top != t.expected_top_diagnosis {
        bad.push(format!(
            "{label}: top diagnosis {top}, truth {}",
            t.expected_top_diagnosis
        ));
    }
    // Calibre: mean |error| of the equivalent diameter over the truth levels the report
    // covers (nearest report level within 1.5 mm of z), and that coverage.
    let prof = r["ivc"]["profile"].as_array().unwrap_or(&empty);
    let mut errs = Vec::new();
    for p in &t.ivc.profile {
        let near = prof
            .iter()
            .filter_map(|e| Some((e["z_mm"].as_f64()?, e["equivalent_diameter_mm"].as_f64()?)))
            .filter(|(z, _)| (z - p.z_mm).abs() <= 1.5)
            .min_by(|a, b| (a.0 - p.z_mm).abs().total_cmp(&(b.0 - p.z_mm).abs()));
        if let Some((_, d)) = near {
            errs.push((d - p.equivalent_diameter_mm).abs());
        }
    }
    let cover = errs.len() as f64 / t.ivc.profile.len().max(1) as f64;
    let mae = errs.iter().sum::<f64>() / errs.len().max(1) as f64;
    if cover < 0.7 || mae > 1.5 {
        bad.push(format!(
            "{label}: IVC calibre MAE {mae:.2} mm over {:.0} % of the IVC in view (target ≤ 1.5 mm over ≥ 70 %)",
            100.0 * cover
        ));
    }
    match (&t.mass, r["mass"]["volume_ml"].as_f64()) {
        (None, None) => {}
        (Some(m), Some(v)) if (v - m.volume_ml).abs() <= 0.2 * m.volume_ml => {}
        (m, v) => bad.push(format!(
            "{label}: mass volume {v:?} ml, truth {:?} ml ± 20 %",
            m.as_ref().map(|m| m.volume_ml)
        )),
    }
    bad
}

fn run(case: CaseName, seeds: bool, full: bool) -> Option<(Value, Arc<(PathBuf, Truth)>)> {
    let w = written(case)?;
    let (study, truth) = (&w.0, &w.1);
    let label = format!("hybrid {case} ({})", if seeds { "seeds" } else { "auto" });
    let out = tempfile::tempdir().unwrap();
    let r = analyze(study, out.path(), seeds.then_some(truth));
    let mut bad = basics(&label, &r, truth);
    if full {
        bad.extend(target(&label, &r, truth));
    }
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
    Some((r, w))
}

/// The renal-vein inflow found on the IVC of the normal hybrid (the level reference that
/// names lumbar and gonadal veins) lies within 10 mm (three 3 mm slices) of the truth's,
/// and no hepatic-vein confluence is claimed: the series ends at T12, below it.
fn renal_level_found(r: &Value, t: &Truth) {
    let want = t.landmarks.renal_vein_inflow_z_mm;
    let got = r["landmarks"]["renal_vein_inflow_z_mm"].as_f64();
    assert!(
        got.is_some_and(|g| (g - want).abs() <= 10.0),
        "renal-vein inflow {got:?}, truth {want:.1}"
    );
    assert!(
        r["landmarks"]["hepatic_vein_confluence_z_mm"].is_null(),
        "hepatic confluence {} claimed below the series' top (truth {:.1})",
        r["landmarks"]["hepatic_vein_confluence_z_mm"],
        t.landmarks.hepatic_vein_confluence_z_mm
    );
}

/// Specificity on real anatomy, whatever else is still open: the normal hybrid, auto and
/// seeded, has no sign `present` that its truth lacks, and `no_mass` on top.
#[test]
fn hybrid_normal_has_no_false_present_sign() {
    let Some(w) = written(CaseName::Normal) else {
        return;
    };
    let (study, truth) = (&w.0, &w.1);
    for seeds in [false, true] {
        let label = format!("hybrid normal ({})", if seeds { "seeds" } else { "auto" });
        let out = tempfile::tempdir().unwrap();
        let r = analyze(study, out.path(), seeds.then_some(truth));
        let mut bad = basics(&label, &r, truth);
        let signs = r["signs"].as_array().cloned().unwrap_or_default();
        assert_eq!(signs.len(), truth.expected_signs.len(), "{label}: sign count");
        for s in &signs {
            let id = s["id"].as_str().unwrap_or("?");
            let want = truth.expected_signs.get(id).map(String::as_str);
            if s["state"] == "present" && want != Some("present") {
                bad.push(format!(
                    "{label}: {id} present, truth {want:?}: {}",
                    s["explanation"]
                ));
            }
        }
        let top = r["differential"][0]["diagnosis"].as_str().unwrap_or("none");
        if top != truth.expected_top_diagnosis {
            bad.push(format!(
                "{label}: top {top}, truth {}",
                truth.expected_top_diagnosis
            ));
        }
        assert!(bad.is_empty(), "\n{}", bad.join("\n"));
    }
}

/// Every hybrid case analyses, auto and seeded, to a valid report with the right roles.
/// The normal case meets the full target (tests below); the lesions do not yet.
#[test]
fn hybrid_cases_analyse_with_the_right_roles() {
    for case in [
        CaseName::Normal,
        CaseName::IvcLeiomyosarcoma,
        CaseName::ExtrinsicCompression,
        CaseName::Liposarcoma,
    ] {
        run(case, false, false);
        run(case, true, false);
    }
}

/// Full target on the normal hybrid. Was a known gap: the renal inflow was taken for the
/// hepatic confluence (the highest inflow on a series ending at T12), so no renal level
/// named lumbar/gonadal veins and `prominent_collaterals` stayed indeterminate.
#[test]
fn hybrid_normal_seeds() {
    if let Some((r, w)) = run(CaseName::Normal, true, true) {
        renal_level_found(&r, &w.1);
    }
}

#[test]
fn hybrid_normal_auto() {
    if let Some((r, w)) = run(CaseName::Normal, false, true) {
        renal_level_found(&r, &w.1);
    }
}

/// The normal hybrid with TotalSegmentator's labels of its background as `--anatomy`:
/// the full target, the renal-vein level from the kidneys (the truth's own definition:
/// within 3 mm), and lumbar / gonadal pathways assessed with levels from the vertebra
/// labels.
#[test]
fn hybrid_normal_with_anatomy() {
    let Some(w) = written(CaseName::Normal) else {
        return;
    };
    let Some((_, seg)) = real_ts::ct_and_labels() else {
        return;
    };
    let (study, truth) = (&w.0, &w.1);
    let out = tempfile::tempdir().unwrap();
    let r = analyze_with(
        study,
        out.path(),
        None,
        &["--anatomy".into(), seg.display().to_string()],
    );
    let label = "hybrid normal (auto, --anatomy)";
    let mut bad = basics(label, &r, truth);
    bad.extend(target(label, &r, truth));
    let renal = r["landmarks"]["renal_vein_inflow_z_mm"].as_f64();
    if !renal.is_some_and(|z| (z - truth.landmarks.renal_vein_inflow_z_mm).abs() <= 3.0) {
        bad.push(format!(
            "{label}: renal-vein inflow {renal:?}, truth {:.1}",
            truth.landmarks.renal_vein_inflow_z_mm
        ));
    }
    if r["collaterals"]["not_assessed"]
        .as_array()
        .is_none_or(|a| !a.is_empty())
    {
        bad.push(format!(
            "{label}: collateral pathways not assessed: {}",
            r["collaterals"]["not_assessed"]
        ));
    }
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}

/// The painted study's label maps (`labels.nii.gz`, TotalSegmentator ids; `mass.nii.gz`)
/// hold the truth: they read as `--anatomy` (every id a `total` class), the IVC label's
/// cross-section per slice gives the truth profile's equivalent diameter (axial slices;
/// mean |error| ≤ 1 mm where the IVC runs within 20° of z), the mass file's volume is the
/// truth's within 3 %, and given back as `--mass-mask` on the DICOM series it measures
/// that volume within 5 % (the NIfTI grid lies where the series lies).
#[test]
fn hybrid_label_maps_hold_the_truth() {
    for case in [
        CaseName::Normal,
        CaseName::ExtrinsicCompression,
        CaseName::Liposarcoma,
    ] {
        let Some(w) = written(case) else {
            return;
        };
        let (study, truth) = (&w.0, &w.1);
        let lp = study.join(cavascope_phantom::hybrid::LABELS_FILE);
        let an = cavascope_ingest::anatomy::read_anatomy(&lp, None, false)
            .unwrap_or_else(|e| panic!("{case}: {} does not read as --anatomy: {e}", lp.display()));
        let g = &an.geometry;
        let sp = [0, 1, 2].map(|a| g.step(a).norm());
        let vox_ml = sp[0] * sp[1] * sp[2] / 1000.0;
        let mut per_slice = vec![0usize; an.labels.dim().0];
        for ((k, _, _), &v) in an.labels.indexed_iter() {
            per_slice[k] += (v == 63) as usize;
        }
        let mut errs = Vec::new();
        for (k, &n) in per_slice.iter().enumerate() {
            let z = g.index_to_world([0.0, 0.0, k as f64]).z;
            let Some(p) = truth.ivc.profile.iter().find(|p| (p.z_mm - z).abs() <= 0.5) else {
                continue;
            };
            if n == 0 || p.tangent[2].abs() < 20f64.to_radians().cos() {
                continue;
            }
            // An oblique vessel's axial section is its true section / cos(tilt).
            let area = n as f64 * sp[0] * sp[1] * p.tangent[2].abs();
            errs.push(((4.0 * area / std::f64::consts::PI).sqrt() - p.equivalent_diameter_mm).abs());
        }
        let mae = errs.iter().sum::<f64>() / errs.len().max(1) as f64;
        assert!(
            errs.len() >= truth.ivc.profile.len() / 6 && mae <= 1.0,
            "{case}: IVC label vs truth profile: MAE {mae:.2} mm over {} slices",
            errs.len()
        );
        let mp = study.join(cavascope_phantom::hybrid::MASS_FILE);
        match &truth.mass {
            None => assert!(!mp.exists(), "{case}: mass file without a mass"),
            Some(m) => {
                let (d, _) = cavascope_volume::nifti_io::read_nifti(&mp).expect("mass.nii.gz");
                let v = d.iter().filter(|&&x| x > 0.5).count() as f64 * vox_ml;
                assert!(
                    (v - m.volume_ml).abs() <= 0.03 * m.volume_ml,
                    "{case}: mass.nii.gz {v:.1} ml, truth {:.1} ml",
                    m.volume_ml
                );
                let out = tempfile::tempdir().unwrap();
                let r = analyze_with(
                    study,
                    out.path(),
                    Some(truth),
                    &["--mass-mask".into(), mp.display().to_string()],
                );
                let got = r["mass"]["volume_ml"].as_f64();
                assert!(
                    got.is_some_and(|g| (g - m.volume_ml).abs() <= 0.05 * m.volume_ml),
                    "{case}: --mass-mask {} measures {got:?} ml, truth {:.1}",
                    mp.display(),
                    m.volume_ml
                );
            }
        }
    }
}

#[test]
#[ignore = "known gap: IVC calibre MAE 2.00 mm, imperceptible_ivc_lumen absent (3 mm longest unopacified stretch); seeded mass 58.7 of 86 ml (seed 1); top diagnosis right"]
fn hybrid_ivc_leiomyosarcoma_seeds() {
    run(CaseName::IvcLeiomyosarcoma, true, true);
}

#[test]
#[ignore = "known gap: auto IVC calibre MAE 4.68 mm and auto mass 53.9 of 86 ml on real anatomy (seed 1); signs and top diagnosis are right"]
fn hybrid_ivc_leiomyosarcoma_auto() {
    run(CaseName::IvcLeiomyosarcoma, false, true);
}

/// Was a known gap: arterial CV 0.37–0.43 (the boundary voxel layer's partial volume with
/// fat) made `heterogeneous_arterial_enhancement` present; the CV is now of the core.
#[test]
fn hybrid_extrinsic_compression_seeds() {
    run(CaseName::ExtrinsicCompression, true, true);
}

#[test]
#[ignore = "known gap: IVC calibre MAE 1.50 mm (target 1.5) (seed 1); signs, top diagnosis and mass volume (203 of 236 ml) right"]
fn hybrid_extrinsic_compression_auto() {
    run(CaseName::ExtrinsicCompression, false, true);
}

#[test]
#[ignore = "known gap: seeded mass 237.3 of 428 ml (208.8 before the join across lobules; 1.3 ml outside the truth): the top of the mass, whose solid parts join the bowel wall around gas, is not reached (seed 1); signs and top diagnosis right"]
fn hybrid_liposarcoma_seeds() {
    run(CaseName::Liposarcoma, true, true);
}

#[test]
#[ignore = "known gap: the auto search finds no mass in the fat-containing mass (top no_mass, internal_fat / compression / heterogeneous_arterial absent) (seed 1)"]
fn hybrid_liposarcoma_auto() {
    run(CaseName::Liposarcoma, false, true);
}
