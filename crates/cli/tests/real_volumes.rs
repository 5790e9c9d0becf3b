//! Real CT/MR (test-data/real/fetch.sh: TotalSegmentator 2.18.0's reference files, real
//! patients) end to end through `cavascope analyze`, judged against the peer's labels:
//! TotalSegmentator's IVC label is the calibre reference (its cross-section area in the
//! plane of each of our sections), and every IVC here is normal, so no IVC-tumour sign may
//! be present and the top of the differential must be `no_mass`.
//!
//! Also NIfTI in: the native CT straight from its `.nii.gz`, `--anatomy` (multi-label map
//! and per-structure folder), and `convert` → `analyze` giving the DICOM report again.
//!
//! Assertions the algorithms do not meet yet are `#[ignore = "known gap: …"]` tests that
//! assert the target (docs/validation.md has the measured numbers).

#[path = "../../../test-data/real/real_fixture.rs"]
mod real_fixture;

use cavascope_phantom::{generate, write_study, CaseName, PhantomOptions, WriteOptions};
use cavascope_volume::{nifti_io, sampling, Array3, Geometry, Point3, Vector3};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The signs that speak of a tumour in or at the IVC.
const IVC_SIGNS: [&str; 5] = [
    "dilated_ivc",
    "imperceptible_ivc_lumen",
    "prominent_collaterals",
    "ivc_extrinsic_compression",
    "intraluminal_extension",
];

fn analyze(input: &Path, out: &Path, extra: &[&str]) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_cavascope"))
        .arg("analyze")
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("run cavascope");
    assert_eq!(
        o.status.code(),
        Some(0),
        "analyze {} {extra:?} failed: {}",
        input.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("report.json is JSON")
}

fn top(r: &Value) -> String {
    r["differential"][0]["diagnosis"]
        .as_str()
        .unwrap_or("-")
        .to_string()
}

fn present(r: &Value) -> Vec<String> {
    r["signs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|s| s["state"] == "present")
                .filter_map(|s| s["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A label map as 0/1 voxels of label `id`.
fn label(path: &Path, id: f32) -> (Array3<f32>, Geometry) {
    let (d, g) = nifti_io::read_nifti(path).expect("label map reads");
    (d.mapv(|v| if v == id { 1.0 } else { 0.0 }), g)
}

/// Area (mm²) of the label in the plane through `c` normal to `t`: the label interpolated
/// (trilinear) on a 0.25 mm grid of the plane within 30 mm, counted where ≥ 0.5.
fn label_area(lab: &(Array3<f32>, Geometry), c: Point3<f64>, t: Vector3<f64>) -> f64 {
    let t = t.normalize();
    let helper = if t.x.abs() < 0.9 {
        Vector3::x()
    } else {
        Vector3::y()
    };
    let u = t.cross(&helper).normalize();
    let v = t.cross(&u);
    let step = 0.25;
    let n = (30.0 / step) as i32;
    let mut count = 0usize;
    for a in -n..=n {
        for b in -n..=n {
            let p = c + u * (a as f64 * step) + v * (b as f64 * step);
            let ijk = lab.1.world_to_index(&p);
            if sampling::trilinear(&lab.0, ijk).unwrap_or(0.0) >= 0.5 {
                count += 1;
            }
        }
    }
    count as f64 * step * step
}

/// Calibre of our profile against the label: (median |error| mm of the equivalent diameter,
/// fraction of the label's z extent covered by sections with a label cross-section).
fn calibre_vs_label(r: &Value, lab: &(Array3<f32>, Geometry)) -> (f64, f64, usize) {
    let prof = r["ivc"]["profile"].as_array().cloned().unwrap_or_default();
    let centre = |e: &Value| {
        let c = &e["center_mm"];
        Point3::new(
            c[0].as_f64().unwrap_or(0.0),
            c[1].as_f64().unwrap_or(0.0),
            c[2].as_f64().unwrap_or(0.0),
        )
    };
    let mut errs = Vec::new();
    let mut zs = Vec::new();
    for (i, e) in prof.iter().enumerate() {
        let a = centre(&prof[i.saturating_sub(3)]);
        let b = centre(&prof[(i + 3).min(prof.len() - 1)]);
        let t = b - a;
        if t.norm() < 1e-6 {
            continue;
        }
        let area = label_area(lab, centre(e), t);
        if area <= 0.0 {
            continue;
        }
        let truth = 2.0 * (area / std::f64::consts::PI).sqrt();
        let ours = e["equivalent_diameter_mm"].as_f64().unwrap_or(f64::NAN);
        errs.push((ours - truth).abs());
        zs.push(centre(e).z);
    }
    // The label's z extent (LPS) from its voxels.
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for ((k, j, i), &v) in lab.0.indexed_iter() {
        if v > 0.5 {
            let z = lab.1.index_to_world([i as f64, j as f64, k as f64]).z;
            lo = lo.min(z);
            hi = hi.max(z);
        }
    }
    let covered = match (
        zs.iter().copied().fold(f64::INFINITY, f64::min),
        zs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    ) {
        (a, b) if a.is_finite() && hi > lo => ((b - a) / (hi - lo)).min(1.0),
        _ => 0.0,
    };
    errs.sort_by(f64::total_cmp);
    let med = errs.get(errs.len() / 2).copied().unwrap_or(f64::INFINITY);
    (med, covered, errs.len())
}

fn row(name: &str, mode: &str, r: &Value, calib: Option<(f64, f64, usize)>) {
    let found = r["ivc"].is_object();
    let c = calib
        .map(|(m, f, n)| format!("{m:.2} mm over {:.0} % ({n} sections)", f * 100.0))
        .unwrap_or_else(|| "-".into());
    eprintln!(
        "VALIDATION | {name} | {mode} | {} | {c} | {} | {} |",
        if found { "yes" } else { "no" },
        {
            let p = present(r);
            if p.is_empty() {
                "none".to_string()
            } else {
                p.join(", ")
            }
        },
        top(r)
    );
}

struct Case {
    name: &'static str,
    /// Input for analyze (a NIfTI file or a DICOM folder).
    input: PathBuf,
    /// TotalSegmentator label map and the IVC's label value in it.
    seg: PathBuf,
    ivc_id: u32,
}

fn cases() -> Option<Vec<Case>> {
    let ts = real_fixture::ts_file;
    Some(vec![
        Case {
            name: "example_ct (native CT, 3 mm, NIfTI)",
            input: ts("example_ct.nii.gz")?,
            seg: ts("example_seg_fast_force_split.nii.gz")?,
            ivc_id: 63,
        },
        Case {
            name: "example_ct_dicom (contrast CT 512², DICOM J2K)",
            input: ts("example_ct_dicom")?,
            seg: ts("example_seg_dicom.nii.gz")?,
            ivc_id: 63,
        },
        Case {
            name: "example_mr_sm (abdominal MR, 3 mm, NIfTI)",
            input: ts("example_mr_sm.nii.gz")?,
            seg: ts("example_seg_mr.nii.gz")?,
            ivc_id: 24,
        },
    ])
}

/// `--ivc-mask` with TotalSegmentator's IVC label: our calibre in the label's own planes.
#[test]
fn ivc_mask_calibre_matches_the_totalsegmentator_label() {
    let Some(cases) = cases() else { return };
    let mut bad = Vec::new();
    for c in &cases {
        let out = tempfile::tempdir().unwrap();
        let spec = format!("{}:{}", c.seg.display(), c.ivc_id);
        let r = analyze(&c.input, out.path(), &["--ivc-mask", &spec]);
        let lab = label(&c.seg, c.ivc_id as f32);
        let cal = calibre_vs_label(&r, &lab);
        row(c.name, "--ivc-mask", &r, Some(cal));
        if cal.0 > 0.5 || cal.2 < 5 {
            bad.push(format!(
                "{}: median |error| {:.2} mm over {} sections",
                c.name, cal.0, cal.2
            ));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// `--anatomy`: the multi-label map and the per-structure folder give the IVC (calibre as
/// with --ivc-mask) on the CT and the MR (total_mr ids chosen for an MR study).
#[test]
fn anatomy_gives_the_ivc_from_its_label() {
    let ts = real_fixture::ts_file;
    let (Some(ct), Some(seg), Some(ct_sm), Some(folder), Some(mr), Some(mr_seg)) = (
        ts("example_ct.nii.gz"),
        ts("example_seg_fast_force_split.nii.gz"),
        ts("example_ct_sm.nii.gz"),
        ts("example_seg_fast"),
        ts("example_mr_sm.nii.gz"),
        ts("example_seg_mr.nii.gz"),
    ) else {
        return;
    };
    let seg_fast = ts("example_seg_fast/inferior_vena_cava.nii.gz").expect("fetched above");
    let mut bad = Vec::new();
    for (name, input, anatomy, lab) in [
        ("example_ct + multi-label map", &ct, &seg, label(&seg, 63.0)),
        (
            "example_ct_sm + structure folder",
            &ct_sm,
            &folder,
            label(&seg_fast, 1.0),
        ),
        ("example_mr_sm + total_mr map", &mr, &mr_seg, label(&mr_seg, 24.0)),
    ] {
        let out = tempfile::tempdir().unwrap();
        let r = analyze(input, out.path(), &["--anatomy", &anatomy.to_string_lossy()]);
        assert_eq!(r["ivc"]["segmentation_source"], "mask", "{name}: {}", r["ivc"]);
        assert!(
            r["warnings"].as_array().is_some_and(|w| w
                .iter()
                .any(|w| w.as_str().unwrap_or("").starts_with("anatomy context:"))),
            "{name}: the anatomy source is named in the warnings"
        );
        let cal = calibre_vs_label(&r, &lab);
        row(name, "--anatomy", &r, Some(cal));
        if cal.0 > 0.5 || cal.2 < 5 {
            bad.push(format!(
                "{name}: median |error| {:.2} mm over {} sections",
                cal.0, cal.2
            ));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// `--anatomy` landmarks on the native CT (no contrast, so none is found along the IVC):
/// the renal-vein inflow from the kidneys lies at L1–L2 as anatomy has it (between the
/// centroids of TotalSegmentator's L1 and L2 labels, half a vertebra of slack either
/// way), and no hepatic-vein confluence is claimed (the liver reaches the series' top).
#[test]
fn anatomy_gives_the_renal_level_at_l1_l2() {
    let ts = real_fixture::ts_file;
    let (Some(ct), Some(seg)) = (ts("example_ct.nii.gz"), ts("example_seg_fast_force_split.nii.gz")) else {
        return;
    };
    // TotalSegmentator `total` ids: vertebrae_L1 = 31, vertebrae_L2 = 30.
    let centroid_z = |id: f32| {
        let (a, g) = label(&seg, id);
        let (mut s, mut n) = (0.0, 0.0);
        for ((k, j, i), &v) in a.indexed_iter() {
            if v > 0.5 {
                s += g.index_to_world([i as f64, j as f64, k as f64]).z;
                n += 1.0;
            }
        }
        s / n
    };
    let (l1, l2) = (centroid_z(31.0), centroid_z(30.0));
    let half = 0.5 * (l1 - l2);
    let out = tempfile::tempdir().unwrap();
    let r = analyze(&ct, out.path(), &["--anatomy", &seg.to_string_lossy()]);
    let renal = r["landmarks"]["renal_vein_inflow_z_mm"].as_f64();
    println!("VALIDATION-LEVELS | example_ct --anatomy | renal {renal:?} | L1 {l1:.1} | L2 {l2:.1} |");
    assert!(
        renal.is_some_and(|z| z <= l1 + half && z >= l2 - half),
        "renal-vein inflow {renal:?}, L1 centroid {l1:.1}, L2 centroid {l2:.1}"
    );
    assert!(
        r["landmarks"]["hepatic_vein_confluence_z_mm"].is_null(),
        "{}",
        r["landmarks"]
    );
    assert!(
        !r["warnings"].as_array().is_some_and(|w| w.iter().any(|w| w
            .as_str()
            .unwrap_or("")
            .starts_with("renal-vein inflow not found"))),
        "{}",
        r["warnings"]
    );
}

/// The native CT analysed straight from its `.nii.gz`: CT read from the voxels, one series,
/// unenhanced (no sidecar: the role comes from the content), and no contrast sign present.
#[test]
fn native_ct_analyses_from_its_nifti() {
    let Some(ct) = real_fixture::ts_file("example_ct.nii.gz") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let r = analyze(&ct, out.path(), &[]);
    let s = r["series"].as_array().expect("series");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["modality"], "CT");
    assert_eq!(s[0]["dims"], serde_json::json!([122, 101, 112]));
    assert_eq!(s[0]["series_instance_uid"], "example_ct.nii.gz");
    row("example_ct (native CT, 3 mm, NIfTI)", "auto", &r, None);
    for id in [
        "heterogeneous_arterial_enhancement",
        "progressive_delayed_enhancement",
        "washout",
    ] {
        let st = r["signs"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["id"] == id))
            .map(|x| x["state"].as_str().unwrap_or("").to_string());
        assert_ne!(st.as_deref(), Some("present"), "{id} on a single native CT");
    }
    // `--phase FILE=ROLE` names the volume by its file name.
    let out2 = tempfile::tempdir().unwrap();
    let r2 = analyze(&ct, out2.path(), &["--phase", "example_ct.nii.gz=ct_unenhanced"]);
    assert_eq!(r2["series"][0]["role"], "ct_unenhanced");
    assert_eq!(r2["series"][0]["role_source"], "user");
}

/// example_ct_sm.nii.gz is the top 30 slices of example_ct.nii.gz with the unshifted affine
/// of the whole: read beside it, the slab is placed where it really lies (82 slices × 3 mm
/// up) and the header error is reported.
#[test]
fn unshifted_slab_header_is_detected_beside_its_source() {
    let ts = real_fixture::ts_file;
    let (Some(ct), Some(sm)) = (ts("example_ct.nii.gz"), ts("example_ct_sm.nii.gz")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&ct, dir.path().join("a_ct.nii.gz")).unwrap();
    std::fs::copy(&sm, dir.path().join("b_ct_sm.nii.gz")).unwrap();
    let study = cavascope_ingest::load_input(dir.path(), &Default::default()).unwrap();
    assert_eq!(study.series.len(), 2);
    let whole = study.series[0].volume.as_ref().unwrap();
    let slab = &study.series[1];
    assert!(
        slab.problems.iter().any(|p| p.contains("header error")),
        "{:?}",
        slab.problems
    );
    let g = &slab.volume.as_ref().unwrap().geometry;
    let want = whole.geometry.index_to_world([0.0, 0.0, 82.0]);
    let got = g.index_to_world([0.0, 0.0, 0.0]);
    assert!((want - got).norm() < 1e-3, "slab origin {got} vs {want}");
    // Alone, the slab cannot be corrected and is read as it says.
    let alone = cavascope_ingest::load_input(&sm, &Default::default()).unwrap();
    assert!(alone.series[0]
        .problems
        .iter()
        .all(|p| !p.contains("header error")));
}

/// `convert` → `analyze` on the NIfTI folder gives the DICOM report again (phantom
/// leiomyosarcoma, auto mode): the same roles, every sign state, the differential order and
/// the IVC calibre; so does dcm2niix's output with its BIDS sidecars.
#[test]
fn convert_then_analyze_nifti_gives_the_dicom_report() {
    let dir = tempfile::tempdir().unwrap();
    let st = generate(CaseName::IvcLeiomyosarcoma, &PhantomOptions::small());
    let written = write_study(&st, &dir.path().join("study"), &WriteOptions::default()).unwrap();
    let study = written.dir;
    let nii = dir.path().join("nii");
    let o = Command::new(env!("CARGO_BIN_EXE_cavascope"))
        .arg("convert")
        .arg(&study)
        .arg("--out")
        .arg(&nii)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = analyze(&study, &dir.path().join("out_dicom"), &[]);
    let b = analyze(&nii, &dir.path().join("out_nii"), &[]);
    same_report(&a, &b, "cavascope convert");
    assert_eq!(top(&a), "ivc_leiomyosarcoma");
    // The peer's NIfTI + BIDS sidecars (dcm2niix, UIDs kept) read the same way.
    let d2n = dir.path().join("d2n");
    std::fs::create_dir_all(&d2n).unwrap();
    match Command::new("dcm2niix")
        .args(["-z", "y", "-b", "y", "-ba", "n", "-f", "%s_%d", "-o"])
        .arg(&d2n)
        .arg(&study)
        .output()
    {
        Ok(o) if o.status.success() => {
            let c = analyze(&d2n, &dir.path().join("out_d2n"), &[]);
            same_report(&a, &c, "dcm2niix");
        }
        _ if real_fixture::in_ci() => panic!("dcm2niix is needed in CI (.ci/run installs it)"),
        _ => eprintln!("SKIP dcm2niix part: dcm2niix not installed"),
    }
}

/// Two reports of one study agree: roles, every sign state, the differential order, the
/// IVC peak diameter (0.05 mm: NIfTI stores the affine in float32).
fn same_report(a: &Value, b: &Value, what: &str) {
    // One string per entry of `r[key]`, made of the named fields.
    let column = |r: &Value, key: &str, fields: &[&str]| -> Vec<String> {
        r[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        fields
                            .iter()
                            .map(|f| e[*f].to_string())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        column(a, "signs", &["id"]).len(),
        13,
        "{what}: every sign reported"
    );
    assert!(
        !column(a, "series", &["role"]).is_empty(),
        "{what}: series listed"
    );
    for (key, fields) in [
        ("series", &["series_instance_uid", "role"][..]),
        ("signs", &["id", "state"][..]),
        ("differential", &["diagnosis"][..]),
    ] {
        assert_eq!(column(a, key, fields), column(b, key, fields), "{what}: {key}");
    }
    let d = |r: &Value| r["ivc"]["max_equivalent_diameter_mm"].as_f64().unwrap();
    assert!((d(a) - d(b)).abs() < 0.05, "{what}: IVC {} vs {}", d(a), d(b));
}

/// The target for auto and seeded modes: IVC found, calibre within 1.5 mm of the label
/// over ≥ 70 % of its length. Problems are pushed to `bad`.
fn judge_tracked_ivc(c: &Case, mode: &str, r: &Value, lab: &(Array3<f32>, Geometry), bad: &mut Vec<String>) {
    if !r["ivc"].is_object() {
        row(c.name, mode, r, None);
        bad.push(format!("{}: {mode}: IVC not found", c.name));
        return;
    }
    let cal = calibre_vs_label(r, lab);
    row(c.name, mode, r, Some(cal));
    if cal.0 > 1.5 || cal.1 < 0.7 {
        bad.push(format!(
            "{}: {mode}: median |error| {:.2} mm over {:.0} % of the label",
            c.name,
            cal.0,
            cal.1 * 100.0
        ));
    }
}

/// A normal IVC reads normal: no IVC-tumour sign present, `no_mass` on top. Problems are
/// pushed to `bad`, named by `what`.
fn reads_normal(what: &str, r: &Value, bad: &mut Vec<String>) {
    let p: Vec<String> = present(r)
        .into_iter()
        .filter(|s| IVC_SIGNS.contains(&s.as_str()))
        .collect();
    if !p.is_empty() || top(r) != "no_mass" {
        bad.push(format!("{what}: {p:?} present, top {}", top(r)));
    }
}

/// Auto mode on every real volume that covers the IVC: found, calibre within 1.5 mm of the
/// label over ≥ 70 % of its length.
#[test]
#[ignore = "known gap: auto IVC found by anatomy on the native CT (0.84 mm, passes: auto_native_ct_ivc_follows_the_label) and the MR, whose calibre is 1.65 mm off (TotalSegmentator's MR label lies ~1.5 mm inside the half level of the lumen-to-fat rise on most rays); not found on the contrast CT at the liver, isodense with it (issue 16 item 4)"]
fn auto_ivc_is_found_on_every_real_volume() {
    let Some(cases) = cases() else { return };
    let mut bad = Vec::new();
    for c in &cases {
        let out = tempfile::tempdir().unwrap();
        let r = analyze(&c.input, out.path(), &[]);
        judge_tracked_ivc(c, "auto", &r, &label(&c.seg, c.ivc_id as f32), &mut bad);
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// A seed inside the label: the centroid of its voxels on the middle slice of its extent.
fn seed_in(lab: &(Array3<f32>, Geometry)) -> Option<String> {
    seed_at(lab, 0.5)
}

/// A seed inside the label: the centroid of its voxels on the slice at `q` (0–1) of its
/// extent.
fn seed_at(lab: &(Array3<f32>, Geometry), q: f64) -> Option<String> {
    let ks: Vec<usize> = lab
        .0
        .outer_iter()
        .enumerate()
        .filter(|(_, p)| p.iter().any(|&v| v > 0.5))
        .map(|(k, _)| k)
        .collect();
    let k = *ks.get((ks.len() as f64 * q) as usize)?;
    let (mut si, mut sj, mut n) = (0.0, 0.0, 0.0);
    for ((j, i), &v) in lab.0.outer_iter().nth(k)?.indexed_iter() {
        if v > 0.5 {
            si += i as f64;
            sj += j as f64;
            n += 1.0;
        }
    }
    let p = lab.1.index_to_world([si / n, sj / n, k as f64]);
    Some(format!("{},{},{}", p.x, p.y, p.z))
}

/// Seeds on native-CT planes where no wall fits all round (isodense crus / duodenum
/// against the vein: at 20 % and 65 % of the label's slices) start from the nearest plane
/// whose wall the rays agree on, instead of "no vessel wall around the seed point" (main:
/// not found from either): the IVC is found over ≥ 70 % of the label and reads normal.
/// (Calibre from these starts: 2.08 / 1.23 mm median — the start still shapes the chain,
/// docs/validation.md.)
#[test]
fn native_ct_seed_where_no_wall_fits_still_tracks() {
    let Some(cases) = cases() else { return };
    let c = &cases[0];
    let lab = label(&c.seg, c.ivc_id as f32);
    let mut bad = Vec::new();
    for q in [0.2, 0.65] {
        let seed = seed_at(&lab, q).expect("label has voxels");
        let out = tempfile::tempdir().unwrap();
        let r = analyze(&c.input, out.path(), &[&format!("--ivc-seed={seed}")]);
        if !r["ivc"].is_object() {
            bad.push(format!("seed at {q}: IVC not found"));
            continue;
        }
        let cal = calibre_vs_label(&r, &lab);
        row(c.name, &format!("--ivc-seed at {q} of the label"), &r, Some(cal));
        if cal.1 < 0.7 {
            bad.push(format!("seed at {q}: {:.0} % of the label", cal.1 * 100.0));
        }
        reads_normal(&format!("seed at {q}"), &r, &mut bad);
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Seeded inside TotalSegmentator's IVC: the tracked IVC matches the label (calibre within
/// 1.5 mm over ≥ 70 % of its length) and reads normal.
#[test]
#[ignore = "known gap: seeded tracking on real CT/MR: calibre 0.85 (met) / 6.75 / 1.58 mm off (native CT, contrast CT at the liver, MR): on the contrast CT the liver side has no edge, and the noise estimate (4.2 HU, set by the air; 10.5 in the body) lets noise blobs pass for walls; on the MR the label lies ~1.5 mm inside the wall's half level (issue 16 item 4)"]
fn seeded_ivc_follows_the_label_and_reads_normal() {
    let Some(cases) = cases() else { return };
    let mut bad = Vec::new();
    for c in &cases {
        seeded_in_the_label(c, &mut bad);
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Seeded at the label's centroid: calibre against the label, and no IVC-tumour sign
/// present with `no_mass` on top. Problems are pushed to `bad`.
fn seeded_in_the_label(c: &Case, bad: &mut Vec<String>) {
    let lab = label(&c.seg, c.ivc_id as f32);
    let seed = seed_in(&lab).expect("label has voxels");
    let out = tempfile::tempdir().unwrap();
    let r = analyze(&c.input, out.path(), &[&format!("--ivc-seed={seed}")]);
    judge_tracked_ivc(c, "--ivc-seed", &r, &lab, bad);
    reads_normal(c.name, &r, bad);
}

/// Seeded inside TotalSegmentator's IVC on the native CT (the whole IVC, pelvis to T11):
/// the tracked IVC matches the label — the walls where isodense crus and duodenum lie
/// against it are not taken past (issue 16 item 4; before: 4.04 mm median over 74 %, then 1.39; now 0.85) — and
/// reads normal.
#[test]
fn seeded_native_ct_ivc_follows_the_label() {
    let Some(cases) = cases() else { return };
    let mut bad = Vec::new();
    seeded_in_the_label(&cases[0], &mut bad);
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Auto mode on the native CT (the whole IVC, pelvis to T11): the IVC found by anatomy —
/// not the small-bowel loop in front of it, whose track is longer but whose centre holds
/// gas and chyme — and measured within 1.5 mm of TotalSegmentator's label over ≥ 70 % of
/// its length, the wall not carried out to isodense crus or duodenum (issue 16 item 4;
/// before: 2.87 mm), and it reads normal.
#[test]
fn auto_native_ct_ivc_follows_the_label() {
    let Some(cases) = cases() else { return };
    let c = &cases[0];
    let mut bad = Vec::new();
    let out = tempfile::tempdir().unwrap();
    let r = analyze(&c.input, out.path(), &[]);
    judge_tracked_ivc(c, "auto", &r, &label(&c.seg, c.ivc_id as f32), &mut bad);
    reads_normal(c.name, &r, &mut bad);
    assert!(bad.is_empty(), "{bad:#?}");
}

fn no_tumour_signs(mode: &str, extra: impl Fn(&Case) -> Vec<String>) {
    let Some(cases) = cases() else { return };
    let mut bad = Vec::new();
    for c in &cases {
        let out = tempfile::tempdir().unwrap();
        let args = extra(c);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = analyze(&c.input, out.path(), &refs);
        row(c.name, mode, &r, None);
        let p: Vec<String> = present(&r)
            .into_iter()
            .filter(|s| IVC_SIGNS.contains(&s.as_str()))
            .collect();
        if !p.is_empty() {
            bad.push(format!("{}: {p:?} present on a normal IVC", c.name));
        }
        if top(&r) != "no_mass" {
            bad.push(format!("{}: top diagnosis {}", c.name, top(&r)));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Every real normal volume, auto mode: no IVC-tumour sign present, top `no_mass`.
#[test]
fn real_normal_volumes_read_normal_in_auto_mode() {
    no_tumour_signs("auto", |_| Vec::new());
}

/// The same with TotalSegmentator's IVC label given (`--ivc-mask`).
#[test]
fn real_normal_volumes_read_normal_with_the_ivc_label() {
    no_tumour_signs("--ivc-mask", |c| {
        vec!["--ivc-mask".into(), format!("{}:{}", c.seg.display(), c.ivc_id)]
    });
}

/// TotalSegmentator's own files through the anatomy reader: class ids of the `total` and
/// `total_mr` tables, vertebral levels in anatomical order, the structure folder equal to
/// the multi-label map it was split from, and a map refused under the wrong task.
#[test]
fn anatomy_reader_reads_totalsegmentator_outputs() {
    use cavascope_ingest::anatomy::{read_anatomy, Task};
    let ts = real_fixture::ts_file;
    let (Some(ct_map), Some(mr_map), Some(folder), Some(sm_map)) = (
        ts("example_seg_fast_force_split.nii.gz"),
        ts("example_seg_mr.nii.gz"),
        ts("example_seg_fast"),
        ts("example_seg_fast.nii.gz"),
    ) else {
        return;
    };
    let ct = read_anatomy(&ct_map, None, false).unwrap();
    assert_eq!(ct.id("inferior_vena_cava"), Some(63));
    assert_eq!(ct.id("aorta"), Some(52));
    assert_eq!(ct.id("liver"), Some(5));
    let levels: Vec<String> = ct.vertebra_levels().into_iter().map(|(l, _)| l).collect();
    assert_eq!(
        levels,
        ["T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1"],
        "head to feet"
    );
    // The MR map: total_mr ids when the study is MR.
    let mr = read_anatomy(&mr_map, None, true).unwrap();
    assert_eq!(mr.id("inferior_vena_cava"), Some(24));
    // The per-structure folder holds the same IVC voxels as the multi-label map.
    let f = read_anatomy(&folder, None, false).unwrap();
    let m = read_anatomy(&sm_map, None, false).unwrap();
    for name in ["inferior_vena_cava", "aorta", "liver", "kidney_right"] {
        let a = f.mask(name).map(|x| x.data).expect(name);
        let b = m.mask(name).map(|x| x.data).expect(name);
        assert_eq!(a, b, "{name}: folder vs multi-label map");
    }
    // Labels above 50 are not total_mr classes.
    let e = read_anatomy(&ct_map, Some(Task::TotalMr), false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a class") && e.contains("example_seg_fast_force_split"),
        "{e}"
    );
}

/// The fixture's other real volumes, none of them made for cavascope: renalsegmentor's two
/// coronal T2 kidney MRs (NIfTI), pyradiomics' two chest CTs reaching the upper abdomen
/// (NRRD, read straight from the file) and TotalSegmentator's chest CT angiogram
/// (`aorta_report`). No label, so no calibre; every one is a normal patient as far as the
/// IVC goes: no IVC-tumour sign present, top `no_mass`. The chest CTs once read
/// `prominent_collaterals` present (a 10.6 mm "hemiazygos" near the arch, no abdominal
/// level to judge it by); the angiogram `dilated_ivc` and `imperceptible_ivc_lumen` (its
/// superior vena cava, dense with the injected contrast, tracked as the IVC).
#[test]
fn other_real_volumes_read_normal_in_auto_mode() {
    use real_fixture::{file, PYRADIOMICS, RENALSEG, TOTALSEG};
    let inputs = [
        (TOTALSEG, "tests/reference_files/aorta_report/example_ct.nii.gz"),
        (RENALSEG, "segment/data/test_data/test_sub_01.nii.gz"),
        (RENALSEG, "segment/data/test_data/test_sub_02.nii.gz"),
        (PYRADIOMICS, "data/lung1_image.nrrd"),
        (PYRADIOMICS, "data/lung2_image.nrrd"),
    ];
    let mut bad = Vec::new();
    let mut analysed = 0;
    for (pkg, rel) in inputs {
        let Some(input) = file(pkg, rel) else { return };
        let out = tempfile::tempdir().unwrap();
        let r = analyze(&input, out.path(), &[]);
        row(rel, "auto", &r, None);
        assert_eq!(r["signs"].as_array().map(Vec::len), Some(13), "{rel}: 13 signs");
        assert_eq!(
            r["series"].as_array().map(Vec::len),
            Some(1),
            "{rel}: one series read"
        );
        let p: Vec<String> = present(&r)
            .into_iter()
            .filter(|s| IVC_SIGNS.contains(&s.as_str()))
            .collect();
        if !p.is_empty() {
            bad.push(format!("{rel}: {p:?} present on a normal IVC"));
        }
        if top(&r) != "no_mass" {
            bad.push(format!("{rel}: top diagnosis {}", top(&r)));
        }
        analysed += 1;
    }
    assert_eq!(analysed, inputs.len());
    assert!(bad.is_empty(), "{bad:#?}");
}

/// A NRRD label map as `--mass-mask` on its NRRD image (pyradiomics' two chest CTs and
/// their tumour labels): the mass volume is the label's voxel count × voxel volume as
/// **pynrrd** reads it (same grid, so exact), and the lung around the tumour — air and its
/// partial-volume rim — is not fat.
#[test]
fn nrrd_mass_mask_volume_matches_pynrrd() {
    use real_fixture::{file, PYRADIOMICS};
    if !cavascope_testkit::require_python(&["nrrd", "numpy"]) {
        return;
    }
    let mut checked = 0;
    for case in ["lung1", "lung2"] {
        let (Some(image), Some(label)) = (
            file(PYRADIOMICS, &format!("data/{case}_image.nrrd")),
            file(PYRADIOMICS, &format!("data/{case}_label.nrrd")),
        ) else {
            return;
        };
        let peer = Command::new("python3")
            .args([
                "-c",
                "import sys, nrrd, numpy as np\nd, h = nrrd.read(sys.argv[1])\n\
                 v = abs(np.linalg.det(np.asarray(h['space directions'], float)))\n\
                 print((d > 0).sum() * v / 1000.0)",
            ])
            .arg(&label)
            .output()
            .expect("python3 runs");
        assert!(peer.status.success(), "{}", String::from_utf8_lossy(&peer.stderr));
        let want: f64 = String::from_utf8_lossy(&peer.stdout)
            .trim()
            .parse()
            .expect("a volume");
        let out = tempfile::tempdir().unwrap();
        let mask = label.display().to_string();
        let r = analyze(&image, out.path(), &["--mass-mask", &mask]);
        let got = r["mass"]["volume_ml"].as_f64().expect("mass volume");
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "{case}: {got} ml vs pynrrd {want} ml"
        );
        let fat: Vec<&Value> = r["signs"]
            .as_array()
            .expect("signs")
            .iter()
            .filter(|s| s["id"] == "internal_fat")
            .collect();
        assert_eq!(fat.len(), 1, "{case}: one internal_fat sign");
        assert_ne!(
            fat[0]["state"], "present",
            "{case}: lung read as fat: {}",
            fat[0]["explanation"]
        );
        checked += 1;
    }
    assert_eq!(checked, 2);
}
