//! Written studies against peer readers: cavascope-ingest must return the grid and the
//! voxels that were written, for every writing option; dciodvfy must report no errors;
//! dcm2niix must convert every series, and nibabel must read the truth values at the
//! truth points from its NIfTI files.

use cavascope_phantom::{
    generate, write_study, CaseName, Naming, Orientation, PhantomOptions, PhantomStudy, TransferSyntax,
    WriteOptions, WrittenStudy,
};
use cavascope_volume::Volume;
use std::path::Path;
use std::process::Command;

/// A coarse but complete grid (RA to the iliac confluence) so that 400+ files stay quick.
fn coarse() -> PhantomOptions {
    let mut o = PhantomOptions::small().noiseless();
    o.cols = 96;
    o.rows = 96;
    o.pixel_spacing_mm = 4.0;
    o.slices = 50;
    o.slice_spacing_mm = 5.0;
    o
}

fn write(case: CaseName, o: &PhantomOptions, w: &WriteOptions, dir: &Path) -> (PhantomStudy, WrittenStudy) {
    let s = generate(case, o);
    let ws = write_study(&s, dir, w).expect("write study");
    (s, ws)
}

/// Same voxel centres in the world (any index order) and the same values.
fn assert_same_grid(ours: &Volume, theirs: &Volume, what: &str) {
    let mut a = ours.shape();
    let mut b = theirs.shape();
    a.sort();
    b.sort();
    assert_eq!(a, b, "{what}: shape {:?} vs {:?}", ours.shape(), theirs.shape());
    let mut sa = ours.geometry.spacing();
    let mut sb = theirs.geometry.spacing();
    sa.sort_by(f64::total_cmp);
    sb.sort_by(f64::total_cmp);
    for i in 0..3 {
        assert!((sa[i] - sb[i]).abs() < 1e-4, "{what}: spacing {sa:?} vs {sb:?}");
    }
    let [ns, nr, nc] = theirs.shape();
    let mut checked = 0;
    for k in (0..ns).step_by(3) {
        for j in (0..nr).step_by(7) {
            for i in (0..nc).step_by(5) {
                let p = theirs.voxel_center([k, j, i]);
                let idx = ours.geometry.world_to_index(&p);
                for x in idx {
                    assert!(
                        (x - x.round()).abs() < 1e-3,
                        "{what}: voxel [{k},{j},{i}] at {p} is off our grid ({idx:?})"
                    );
                }
                let ours_v = ours.nearest_world(&p).expect("inside our grid");
                let v = theirs.data[[k, j, i]];
                assert!(
                    (ours_v - v).abs() < 1e-3,
                    "{what}: [{k},{j},{i}] ours {ours_v} read back {v}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100);
}

fn check_ingest(s: &PhantomStudy, ws: &WrittenStudy, what: &str) {
    let st = cavascope_ingest::load_study(&ws.dir, &Default::default()).expect("ingest");
    for v in &s.volumes {
        let uid = &v.meta.series_instance_uid;
        let found: Vec<_> = st
            .series
            .iter()
            .filter(|x| &x.series_instance_uid == uid)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{what}: series {uid} ({:?}) found {} times; problems {:?}",
            v.meta.series_description,
            found.len(),
            st.series.iter().map(|x| &x.problems).collect::<Vec<_>>()
        );
        let got = found[0]
            .volume
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: no volume: {:?}", found[0].problems));
        assert_same_grid(v, got, &format!("{what} {:?}", v.meta.series_description));
        assert_eq!(got.meta.modality, v.meta.modality);
        assert_eq!(got.meta.b_value, v.meta.b_value, "{what}");
        assert_eq!(
            got.meta.contrast_agent.is_some(),
            v.meta.contrast_agent.is_some(),
            "{what}"
        );
        let t = got.meta.acquisition_time_s.unwrap();
        assert!((t - v.meta.acquisition_time_s.unwrap()).abs() < 1e-3);
    }
    for j in &ws.junk_files {
        let name = j.file_name().unwrap().to_string_lossy();
        if name.contains("LOCALIZER") {
            continue;
        }
        if name.contains("COPY") || name.contains("TRUNCATED") {
            // Same SOP Instance UID as a real image: skipped or dropped as a duplicate.
            let dropped: usize = st.series.iter().map(|x| x.duplicates_dropped).sum();
            assert!(
                dropped > 0 || st.skipped.iter().any(|x| &x.path == j),
                "{what}: {name} neither skipped nor dropped as a duplicate"
            );
            continue;
        }
        assert!(
            st.skipped.iter().any(|x| &x.path == j),
            "{what}: junk {name} not skipped"
        );
    }
}

#[test]
fn ingest_reads_back_every_writing_option() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let w = |ts, naming, junk, signed_ct| WriteOptions {
        transfer_syntax: ts,
        naming,
        junk,
        signed_ct,
    };
    cases.push((
        CaseName::IvcLeiomyosarcoma,
        coarse(),
        w(TransferSyntax::ExplicitLE, Naming::Ordered, false, false),
    ));
    cases.push((
        CaseName::Normal,
        coarse(),
        w(TransferSyntax::ImplicitLE, Naming::PacsRandomNested, true, true),
    ));
    let mut rev = coarse();
    rev.reversed_slices = true;
    cases.push((
        CaseName::ExtrinsicCompression,
        rev,
        w(TransferSyntax::Deflate, Naming::Ordered, true, false),
    ));
    let mut tilt = coarse();
    tilt.orientation = Orientation::GantryTilt { deg: 12.0 };
    cases.push((
        CaseName::HccWashout,
        tilt,
        w(
            TransferSyntax::JpegLsLossless,
            Naming::PacsRandomNested,
            false,
            false,
        ),
    ));
    let mut obl = coarse();
    obl.orientation = Orientation::Oblique {
        about_lr_deg: 10.0,
        about_ap_deg: -6.0,
    };
    obl.slices = 30;
    cases.push((
        CaseName::MriLeiomyosarcoma,
        obl,
        w(TransferSyntax::ExplicitLE, Naming::Ordered, true, false),
    ));
    for (n, (case, o, wo)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("s{n}"));
        let (s, ws) = write(case, &o, &wo, &dir);
        check_ingest(
            &s,
            &ws,
            &format!("{case} {:?} {:?}", wo.transfer_syntax, o.orientation),
        );
        // truth.json round trip.
        // truth.json round trip (floats to within parsing precision).
        let t = cavascope_phantom::Truth::load(&ws.truth_path).unwrap();
        assert_eq!(t.case, s.truth.case);
        assert_eq!(t.series_roles, s.truth.series_roles);
        assert_eq!(t.expected_signs, s.truth.expected_signs);
        assert_eq!(t.ivc.profile.len(), s.truth.ivc.profile.len());
        for (a, b) in t.ivc.profile.iter().zip(&s.truth.ivc.profile) {
            assert!((a.area_mm2 - b.area_mm2).abs() < 1e-9 && a.lumen_visible == b.lumen_visible);
        }
    }
}

/// The peer tool `tool`: required in CI, a printed skip elsewhere.
fn have(tool: &str) -> bool {
    cavascope_testkit::require_tool(tool)
}

/// Run dciodvfy on one file; return its error lines.
fn dciodvfy_errors(path: &Path) -> Vec<String> {
    let out = Command::new("dciodvfy").arg(path).output().expect("dciodvfy");
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| l.contains("Error"))
        .map(|l| l.to_string())
        .collect()
}

#[test]
fn dciodvfy_reports_no_errors() {
    if !have("dciodvfy") {
        return; // Debian package dicom3tools
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut o = coarse();
    o.slices = 6;
    for (case, ts) in [
        (CaseName::IvcLeiomyosarcoma, TransferSyntax::ExplicitLE),
        (CaseName::IvcLeiomyosarcoma, TransferSyntax::ImplicitLE),
        (CaseName::IvcLeiomyosarcoma, TransferSyntax::JpegLsLossless),
        (CaseName::MriLeiomyosarcoma, TransferSyntax::ExplicitLE),
        (CaseName::MriLeiomyosarcoma, TransferSyntax::JpegLsLossless),
    ] {
        let dir = tmp.path().join(format!("{case}_{ts:?}"));
        let w = WriteOptions {
            transfer_syntax: ts,
            junk: true,
            ..Default::default()
        };
        let (_, ws) = write(case, &o, &w, &dir);
        let mut files: Vec<_> = ws.series_files.iter().map(|f| f[2].clone()).collect();
        files.push(dir.join("LOCALIZER.dcm"));
        for f in files {
            let e = dciodvfy_errors(&f);
            assert!(e.is_empty(), "{case} {ts:?} {}: {e:?}", f.display());
        }
    }
}

#[test]
fn deflated_files_inflate_to_valid_dicom() {
    // This dciodvfy build cannot read deflated files, so inflate with dicom-object (which
    // also proves the deflate stream is valid), re-encode explicit, and check that.
    let tmp = tempfile::tempdir().unwrap();
    let mut o = coarse();
    o.slices = 4;
    let w = WriteOptions {
        transfer_syntax: TransferSyntax::Deflate,
        ..Default::default()
    };
    let (s, ws) = write(CaseName::Normal, &o, &w, &tmp.path().join("d"));
    let f = &ws.series_files[1][1];
    let obj = dicom_object::open_file(f).expect("dicom-object reads the deflated file");
    assert_eq!(
        obj.meta().transfer_syntax().trim_end_matches('\0'),
        "1.2.840.10008.1.2.1.99"
    );
    let px = dicom_object::InMemDicomObject::element(&obj, dicom_dictionary_std::tags::PIXEL_DATA)
        .unwrap()
        .to_bytes()
        .unwrap()
        .into_owned();
    // Stored = HU + 1024, unsigned little endian.
    let first = s.volumes[1].data[[1, 0, 0]];
    assert_eq!(u16::from_le_bytes([px[0], px[1]]) as f32 - 1024.0, first);
    if have("dciodvfy") {
        let mut obj = obj;
        obj.meta_mut().set_transfer_syntax(
            &dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased(),
        );
        let out = tmp.path().join("inflated.dcm");
        obj.write_to_file(&out).unwrap();
        let e = dciodvfy_errors(&out);
        assert!(e.is_empty(), "{e:?}");
    }
}

#[test]
fn dcm2niix_converts_every_series_and_nibabel_reads_truth_values() {
    if !have("dcm2niix") {
        return;
    }
    let nib_ok = cavascope_testkit::require_python(&["nibabel", "numpy"]);
    let tmp = tempfile::tempdir().unwrap();
    // This dcm2niix build has no JPEG-LS and no deflate support: the uncompressed syntaxes.
    for (case, ts, naming) in [
        (
            CaseName::IvcLeiomyosarcoma,
            TransferSyntax::ExplicitLE,
            Naming::Ordered,
        ),
        (
            CaseName::MriLeiomyosarcoma,
            TransferSyntax::ImplicitLE,
            Naming::PacsRandomNested,
        ),
    ] {
        let o = PhantomOptions::small().noiseless();
        let dir = tmp.path().join(format!("{case}"));
        let w = WriteOptions {
            transfer_syntax: ts,
            naming,
            junk: true,
            ..Default::default()
        };
        let (s, _) = write(case, &o, &w, &dir);
        let nii = tmp.path().join(format!("{case}_nii"));
        std::fs::create_dir_all(&nii).unwrap();
        let out = Command::new("dcm2niix")
            .args(["-z", "n", "-f", "%s", "-o"])
            .arg(&nii)
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        for spec in &s.specs {
            let f = nii.join(format!("{}.nii", spec.series_number));
            assert!(
                f.exists(),
                "{case}: dcm2niix did not convert series {} ({}): {}",
                spec.series_number,
                spec.description,
                String::from_utf8_lossy(&out.stdout)
            );
        }
        if !nib_ok {
            continue; // skipped outside CI, said so above
        }
        // nibabel: value at each truth probe (LPS → RAS), nearest voxel.
        let probes: Vec<[f64; 3]> = s.truth.probes.iter().map(|p| p.point_mm).collect();
        let script = r#"
import sys, json, nibabel as nib, numpy as np
probes = json.loads(sys.argv[2])
out = {}
import glob, os
for f in sorted(glob.glob(os.path.join(sys.argv[1], '*.nii'))):
    img = nib.load(f)
    data = img.get_fdata()
    inv = np.linalg.inv(img.affine)
    vals = []
    for x, y, z in probes:
        ijk = inv @ np.array([-x, -y, z, 1.0])
        i, j, k = [int(round(v)) for v in ijk[:3]]
        vals.append(float(data[i, j, k]) if 0 <= i < data.shape[0] and 0 <= j < data.shape[1] and 0 <= k < data.shape[2] else None)
    out[os.path.basename(f)[:-4]] = vals
print(json.dumps(out))
"#;
        let out = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&nii)
            .arg(serde_json::to_string(&probes).unwrap())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let got: std::collections::BTreeMap<String, Vec<Option<f64>>> =
            serde_json::from_slice(&out.stdout).unwrap();
        for spec in &s.specs {
            let key = match spec.kind {
                cavascope_phantom::protocol::SeriesKind::MrDwi(b) => format!("mr_dwi_b{}", b.round() as i64),
                _ => spec.role.clone(),
            };
            let vals = &got[&spec.series_number.to_string()];
            for (p, v) in s.truth.probes.iter().zip(vals) {
                let want = p.values[&key];
                let v = v.unwrap_or_else(|| {
                    panic!("{case} {}: probe {} outside the NIfTI", spec.description, p.name)
                });
                assert!(
                    (v - want).abs() <= 1.0,
                    "{case} {} probe {}: nibabel {v} truth {want}",
                    spec.description,
                    p.name
                );
            }
        }
    }
}

/// Our JPEG-LS encoder (crates/jpegls) against the reference decoder: every JPEG-LS
/// phantom file that DCMTK's `dcmdjpls` (CharLS) decompresses holds exactly the samples of
/// the same file written uncompressed — CT 12-bit unsigned, CT 16-bit signed, MR 12-bit.
#[test]
fn jpegls_files_decode_in_dcmtk_to_the_native_samples() {
    if !have("dcmdjpls") {
        eprintln!("NOTICE: dcmdjpls (dcmtk) not installed; JPEG-LS peer check skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut o = coarse();
    o.slices = 4;
    let mut compared = 0;
    for (case, signed) in [
        (CaseName::IvcLeiomyosarcoma, false),
        (CaseName::IvcLeiomyosarcoma, true),
        (CaseName::MriLeiomyosarcoma, false),
    ] {
        let files = |ts: TransferSyntax| {
            let dir = tmp.path().join(format!("{case}_{signed}_{ts:?}"));
            let w = WriteOptions {
                transfer_syntax: ts,
                signed_ct: signed,
                ..Default::default()
            };
            write(case, &o, &w, &dir).1.series_files
        };
        let (jls, native) = (
            files(TransferSyntax::JpegLsLossless),
            files(TransferSyntax::ExplicitLE),
        );
        for (js, ns) in jls.iter().zip(&native) {
            for (j, n) in js.iter().zip(ns) {
                let out = j.with_extension("decoded");
                let st = Command::new("dcmdjpls").arg(j).arg(&out).output().unwrap();
                assert!(
                    st.status.success(),
                    "{}: {}",
                    j.display(),
                    String::from_utf8_lossy(&st.stderr)
                );
                let pixels = |p: &Path| {
                    dicom_object::open_file(p)
                        .unwrap()
                        .element(dicom_dictionary_std::tags::PIXEL_DATA)
                        .unwrap()
                        .to_bytes()
                        .unwrap()
                        .into_owned()
                };
                assert!(pixels(&out) == pixels(n), "{}: samples differ", j.display());
                compared += 1;
            }
        }
    }
    assert!(compared >= 12, "{compared} files compared");
}
