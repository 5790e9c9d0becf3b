//! The output folder on a small synthetic study: report.json validates against
//! docs/report-schema.json (our validator and Python's jsonschema), the CSV matches the
//! profile, the label maps read back in nibabel with the right voxel count and affine, and
//! the HTML is self-contained.

use cavascope_features::{evaluate, Thresholds};
use cavascope_ingest::{Series, SkippedFile, Study};
use cavascope_measurements::*;
use cavascope_report::schema::{schema, validate};
use cavascope_report::*;
use cavascope_volume::{Geometry, Mask, Point3, Volume, VolumeMeta};
use ndarray::Array3;
use std::process::Command;

const R_IVC: f64 = 10.0;
const R_MASS: f64 = 18.0;
const IVC_XY: (f64, f64) = (20.0, -10.0);
const MASS_C: [f64; 3] = [45.0, -10.0, -40.0];

fn geometry() -> Geometry {
    Geometry::axial(Point3::new(-60.0, -60.0, -90.0), [2.0, 2.0, 2.5])
}

/// CT volume: soft tissue 40 HU, IVC 150 HU (a tube along z), mass 60 HU (a sphere).
fn volume(uid: &str, ivc_hu: f32) -> Volume {
    let g = geometry();
    let mut d = Array3::from_elem([40, 60, 60], 40.0f32);
    for ((k, j, i), v) in d.indexed_iter_mut() {
        let p = g.index_to_world([i as f64, j as f64, k as f64]);
        if ((p.x - IVC_XY.0).powi(2) + (p.y - IVC_XY.1).powi(2)).sqrt() <= R_IVC {
            *v = ivc_hu;
        }
        let dm = ((p.x - MASS_C[0]).powi(2) + (p.y - MASS_C[1]).powi(2) + (p.z - MASS_C[2]).powi(2)).sqrt();
        if dm <= R_MASS {
            *v = 60.0;
        }
    }
    Volume::new(
        d,
        g,
        VolumeMeta {
            modality: "CT".into(),
            series_instance_uid: uid.into(),
            acquisition_time_s: Some(if uid.ends_with(".1") { 36000.0 } else { 36070.0 }),
            ..Default::default()
        },
    )
}

fn mask_of(vol: &Volume, f: impl Fn(Point3<f64>) -> bool) -> Mask {
    let mut m = Array3::from_elem(vol.data.dim(), false);
    for ((k, j, i), b) in m.indexed_iter_mut() {
        *b = f(vol.geometry.index_to_world([i as f64, j as f64, k as f64]));
    }
    Mask::new(m, vol.geometry.clone())
}

fn study_and_measurements() -> (Study, Measurements) {
    let v0 = volume("1.2.3.1", 40.0);
    let v1 = volume("1.2.3.2", 150.0);
    let ivc_mask = mask_of(&v1, |p| {
        ((p.x - IVC_XY.0).powi(2) + (p.y - IVC_XY.1).powi(2)).sqrt() <= R_IVC
    });
    let mass_mask = mask_of(&v1, |p| {
        ((p.x - MASS_C[0]).powi(2) + (p.y - MASS_C[1]).powi(2) + (p.z - MASS_C[2]).powi(2)).sqrt() <= R_MASS
    });
    let d = 2.0 * R_IVC;
    let profile: Vec<Section> = (0..90)
        .map(|n| {
            let z = -85.0 + n as f64;
            Section {
                s_mm: n as f64,
                z_mm: z,
                center_mm: [IVC_XY.0, IVC_XY.1, z],
                tangent: [0.0, 0.0, 1.0],
                area_mm2: std::f64::consts::PI * R_IVC * R_IVC,
                equivalent_diameter_mm: d,
                min_diameter_mm: d,
                max_diameter_mm: d,
                ap_diameter_mm: d,
                transverse_diameter_mm: d,
                flattening_ratio: 1.0,
                lumen_visible: Some(true),
                segment: Some(IvcSegment::Middle),
            }
        })
        .collect();
    let series = [&v0, &v1]
        .iter()
        .map(|v| Series {
            series_instance_uid: v.meta.series_instance_uid.clone(),
            modality: "CT".into(),
            description: Some("synthetic".into()),
            dims: v.dims_ijk(),
            spacing_mm: v.geometry.spacing(),
            n_files: 40,
            problems: vec![],
            volume: Some((*v).clone()),
            meta: v.meta.clone(),
            geometry: Some(v.geometry.clone()),
            kind: "primary".into(),
            slice_positions_mm: vec![],
            tilt_deg: 0.0,
            duplicates_dropped: 0,
            transfer_syntaxes: vec![],
            slice_sources: vec![],
        })
        .chain(std::iter::once(Series {
            series_instance_uid: "1.2.3.9".into(),
            modality: "SR".into(),
            description: None,
            dims: [0, 0, 0],
            spacing_mm: [0.0, 0.0, 0.0],
            n_files: 1,
            problems: vec!["no pixel data".into()],
            volume: None,
            meta: VolumeMeta::default(),
            geometry: None,
            kind: "derived".into(),
            slice_positions_mm: vec![],
            tilt_deg: 0.0,
            duplicates_dropped: 0,
            transfer_syntaxes: vec![],
            slice_sources: vec![],
        }))
        .collect();
    let study = Study {
        root: "/data/study <1>".into(),
        files_scanned: 83,
        files_used: 80,
        skipped: vec![SkippedFile {
            path: "/data/study <1>/junk.txt".into(),
            reason: "not a DICOM file".into(),
        }],
        series,
    };
    let m = Measurements {
        phases: vec![
            PhaseInfo {
                volume_index: 0,
                series_instance_uid: "1.2.3.1".into(),
                role: Role::CtUnenhanced,
                role_source: RoleSource::Tags,
            },
            PhaseInfo {
                volume_index: 1,
                series_instance_uid: "1.2.3.2".into(),
                role: Role::CtPortalVenous,
                role_source: RoleSource::Timing,
            },
        ],
        landmarks: Landmarks {
            hepatic_vein_confluence_z_mm: Some(10.0),
            renal_vein_inflow_z_mm: None,
        },
        ivc: Some(IvcModel {
            source: Source::Seed,
            reference_series: "1.2.3.2".into(),
            length_mm: 89.0,
            max_equivalent_diameter_mm: Some(d),
            min_equivalent_diameter_mm: Some(d),
            min_flattening_ratio: Some(1.0),
            centreline: vec![],
            profile,
            lumen: LumenSummary {
                visible_fraction: Some(1.0),
                longest_imperceptible_mm: Some(0.0),
                imperceptible_ranges_z_mm: vec![],
                reference: None,
            },
            mask: ivc_mask,
        }),
        mass: Some(MassModel {
            source: Source::Auto,
            volume_ml: mass_mask.volume_ml(),
            max_diameter_mm: 2.0 * R_MASS,
            centroid_mm: MASS_C,
            ivc_segment: Some(IvcSegment::Middle),
            contact_arc_deg: Some(60.0),
            contact_z_range_mm: Some([-50.0, -30.0]),
            intraluminal_ml: Some(0.0),
            intraluminal_z_range_mm: None,
            fat_fraction: Some(0.0),
            calcified_fraction: Some(0.0),
            enhancement: vec![
                PhaseEnhancement {
                    role: Role::CtUnenhanced,
                    series_instance_uid: "1.2.3.1".into(),
                    acquisition_time_s: Some(0.0),
                    mean: 60.0,
                    sd: 5.0,
                    cv: 5.0 / 60.0,
                    delta_from_unenhanced: Some(0.0),
                    shell_means: vec![],
                },
                PhaseEnhancement {
                    role: Role::CtPortalVenous,
                    series_instance_uid: "1.2.3.2".into(),
                    acquisition_time_s: Some(70.0),
                    mean: 90.0,
                    sd: 9.0,
                    cv: 0.1,
                    delta_from_unenhanced: Some(30.0),
                    shell_means: vec![],
                },
            ],
            pattern: Some(Pattern::Plateau),
            arterial_heterogeneity_cv: None,
            centripetal: None,
            mr: None,
            mask: mass_mask,
        }),
        collaterals: None,
        warnings: vec!["collaterals: not assessed (test)".into()],
        mass_not_searched: None,
        quality: Default::default(),
    };
    (study, m)
}

fn python_validates(json: &str) -> Result<(), String> {
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/report-schema.json");
    let out = Command::new("python3")
        .args([
            "-c",
            "import json,sys,jsonschema; s=json.load(open(sys.argv[1])); jsonschema.Draft202012Validator(s).validate(json.load(sys.stdin)); print('valid')",
            schema_path,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(json.as_bytes())?;
            c.wait_with_output()
        })
        .map_err(|e| format!("python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

/// The Python peers (jsonschema validates report.json, nibabel reads the label maps):
/// required in CI, a printed skip elsewhere.
fn python_available() -> bool {
    cavascope_testkit::require_python(&["jsonschema", "nibabel", "numpy"])
}

#[test]
fn full_output_folder() {
    let (study, m) = study_and_measurements();
    let t = Thresholds::default();
    let f = evaluate(&m, &t);
    let r = build_report(&study, &m, &f, "0.1.0-test", &["ingest: test warning".into()]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut warnings = vec![];
    let files = write_outputs(
        &out,
        &r,
        &study.volumes().collect::<Vec<_>>(),
        &m,
        &t,
        &mut warnings,
    )
    .unwrap();
    let json_path = write_report_json(&out, &r).unwrap();
    // To look at the page: CAVASCOPE_REPORT_SAMPLE_DIR=/tmp/sample cargo test -p cavascope-report
    if let Some(keep) = std::env::var_os("CAVASCOPE_REPORT_SAMPLE_DIR") {
        let keep = std::path::PathBuf::from(keep);
        let mut w = vec![];
        write_outputs(&keep, &r, &study.volumes().collect::<Vec<_>>(), &m, &t, &mut w).unwrap();
        write_report_json(&keep, &r).unwrap();
    }
    for name in [
        "report.html",
        "measurements.csv",
        "curves.png",
        "overlays/axial.png",
        "overlays/coronal.png",
        "overlays/sagittal.png",
        "ivc_mask.nii.gz",
        "mass_mask.nii.gz",
    ] {
        assert!(out.join(name).is_file(), "{name} missing; wrote {files:?}");
    }
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // report.json against the schema, ours and Python's.
    let text = std::fs::read_to_string(&json_path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let errs = validate(&schema(), &v);
    assert!(errs.is_empty(), "{errs:#?}");
    if python_available() {
        python_validates(&text).unwrap();
    }
    // Round trip and contents.
    let back: Report = serde_json::from_str(&text).unwrap();
    assert!(back.signs == r.signs && back.series == r.series && back.warnings == r.warnings);
    assert_eq!(v["series"][0]["role"], "ct_unenhanced");
    assert_eq!(v["series"][1]["role"], "ct_portal_venous");
    assert_eq!(v["series"][1]["acquisition_time_s"], 70.0);
    assert!(v["series"][2]["role"].is_null());
    assert_eq!(v["input"]["files_skipped"][0]["reason"], "not a DICOM file");
    assert!(r.warnings.iter().any(|w| w == "ingest: test warning"));
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("1.2.3.9") && w.contains("no pixel data")));
    assert!(r.warnings.iter().any(|w| w.contains("prominent_collaterals")));
    assert_eq!(v["collaterals"], serde_json::Value::Null);
    let ids: std::collections::BTreeSet<&str> = r.signs.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), 13);

    // CSV: one row per profile section, diameters as measured.
    let mut rd = csv::Reader::from_path(out.join("measurements.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 90);
    assert_eq!(rows[0][6].parse::<f64>().unwrap(), 20.0);
    assert_eq!(&rows[0][13], "middle");

    // HTML: self-contained, all parts present, text escaped.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("data:image/png;base64,").count(), 3);
    assert!(html.contains("<svg"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script"));
    assert!(html.contains("Biopsy decides") || html.contains("biopsy decides"));
    assert!(html.contains("/data/study &lt;1&gt;"));
    assert!(html.contains("dilated ivc"));
    assert!(html.contains("no_mass") || html.contains("no mass"));

    // Label maps: nibabel reads the same voxel count and the same world position of
    // voxel (0,0,0) (LPS → RAS flips x and y).
    if python_available() {
        let py = "import nibabel as nb, numpy as np, sys\nfor p in sys.argv[1:]:\n    i = nb.load(p)\n    a = np.asarray(i.dataobj)\n    print(int((a > 0).sum()), *['%.3f' % x for x in i.affine[:3, 3]])";
        let o = Command::new("python3")
            .args(["-c", py])
            .arg(out.join("ivc_mask.nii.gz"))
            .arg(out.join("mass_mask.nii.gz"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let s = String::from_utf8_lossy(&o.stdout);
        let lines: Vec<Vec<f64>> = s
            .lines()
            .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
            .collect();
        assert_eq!(lines.len(), 2, "nibabel printed {s}");
        assert!(lines.iter().all(|l| l.len() == 4), "nibabel printed {s}");
        let ivc = m.ivc.as_ref().unwrap();
        let mass = m.mass.as_ref().unwrap();
        assert_eq!(lines[0][0] as usize, ivc.mask.count());
        assert_eq!(lines[1][0] as usize, mass.mask.count());
        assert_eq!(&lines[0][1..], &[60.0, 60.0, -90.0]);
    }

    // Overlays: the IVC outline colour and the mass outline colour both appear in the axial view.
    let ax = image::open(out.join("overlays/axial.png")).unwrap().to_rgb8();
    let has = |c: image::Rgb<u8>| ax.pixels().any(|p| *p == c);
    assert!(has(cavascope_report::IVC_COLOUR));
    assert!(has(cavascope_report::MASS_COLOUR));
}

#[test]
fn schema_rejects_broken_reports() {
    let (study, m) = study_and_measurements();
    let f = evaluate(&m, &Thresholds::default());
    let r = build_report(&study, &m, &f, "0.1.0", &[]);
    let good = serde_json::to_value(&r).unwrap();
    assert!(validate(&schema(), &good).is_empty());
    let mut bad = good.clone();
    bad["signs"][0]["state"] = "maybe".into();
    assert!(!validate(&schema(), &bad).is_empty());
    let mut bad = good.clone();
    bad["signs"].as_array_mut().unwrap().pop();
    assert!(!validate(&schema(), &bad).is_empty());
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("landmarks");
    assert!(!validate(&schema(), &bad).is_empty());
    let mut bad = good.clone();
    bad["differential"][0]["score"] = 1.5.into();
    assert!(!validate(&schema(), &bad).is_empty());
    let mut bad = good;
    bad["ivc"]["profile"][0]["segment"] = "left".into();
    assert!(!validate(&schema(), &bad).is_empty());
    if python_available() {
        // Rejected by the validator, not by a failing interpreter.
        let err = python_validates(&bad.to_string()).expect_err("jsonschema accepted a broken report");
        assert!(err.contains("ValidationError"), "{err}");
    }
}

#[test]
fn failed_report_validates() {
    let r = failed_report("/no/such/study", "0.1.0", "not a folder");
    let v = serde_json::to_value(&r).unwrap();
    assert!(
        validate(&schema(), &v).is_empty(),
        "{:?}",
        validate(&schema(), &v)
    );
    assert_eq!(v["error"], "not a folder");
    assert!(r.signs.iter().all(|s| s.state == "indeterminate"));
    assert!(r.warnings.iter().any(|w| w.contains("not a folder")));
}

/// A thresholds override moves the collateral count, volume and label map beside the sign,
/// and the intraluminal flag beside its sign: the report shows what `features` decided.
#[test]
fn overrides_move_the_counts_beside_the_signs() {
    let (study, mut m) = study_and_measurements();
    let g = geometry();
    let vessel = |name: &str, d: f64, voxels: Vec<[usize; 3]>| CollateralVessel {
        name: name.into(),
        diameter_mm: d,
        volume_ml: voxels.len() as f64 * g.voxel_volume_mm3() / 1000.0,
        voxels,
    };
    // An 8 mm azygos (limit 10 mm) of 3 voxels, a 7 mm lumbar vein (limit 6 mm) of 2.
    m.collaterals = Some(Collaterals {
        max_diameter_mm: Some(8.0),
        veins: vec![],
        vessels: vec![
            vessel("azygos", 8.0, vec![[1, 1, 1], [2, 1, 1], [3, 1, 1]]),
            vessel("lumbar", 7.0, vec![[5, 5, 5], [5, 5, 6]]),
        ],
        grid: Some((g.clone(), [20, 20, 20])),
        not_assessed: vec![],
    });
    m.mass.as_mut().unwrap().intraluminal_ml = Some(0.8);
    let report_with = |toml: &str| {
        let t = Thresholds::from_toml_str(toml).unwrap();
        let f = evaluate(&m, &t);
        let r = build_report(&study, &m, &f, "0.1.0", &[]);
        let voxels = enlarged_collaterals_mask(&m, &t).unwrap().count();
        (r, voxels)
    };
    let (r, voxels) = report_with("");
    let c = r.collaterals.as_ref().unwrap();
    assert_eq!((c.count, voxels), (Some(1), 2));
    assert_eq!(r.mass.as_ref().unwrap().intraluminal_extension, Some(true));

    let (r, voxels) = report_with("azygos_diameter_mm = 7.5\nintraluminal_min_ml = 1.0\n");
    let c = r.collaterals.as_ref().unwrap();
    assert_eq!((c.count, voxels), (Some(2), 5));
    let ml = 5.0 * g.voxel_volume_mm3() / 1000.0;
    assert!((c.volume_ml.unwrap() - ml).abs() < 1e-12, "{:?}", c.volume_ml);
    assert_eq!(r.mass.as_ref().unwrap().intraluminal_extension, Some(false));
    let sign = |id: &str| r.signs.iter().find(|s| s.id == id).unwrap().state.clone();
    assert_eq!(sign("intraluminal_extension"), "absent");
}
