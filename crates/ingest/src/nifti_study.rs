//! Volume files in: a NIfTI (`.nii`/`.nii.gz`) or NRRD (`.nrrd`, or `.nhdr` with its data
//! file) volume, or a folder of them (one per phase), as a [`Study`] the rest of the pipeline
//! reads exactly like a DICOM one.
//!
//! What DICOM headers would say comes from a JSON sidecar beside each file (same stem,
//! `.json`): `cavascope convert`'s own (its `meta` object round-trips every field), or a
//! dcm2niix / BIDS sidecar (`Modality`, `SeriesDescription`, `ProtocolName`,
//! `AcquisitionTime`, `ContrastBolusAgent`, `EchoTime`/`RepetitionTime`/`InversionTime` in
//! seconds, `FlipAngle`, `SeriesNumber`, `SeriesInstanceUID`, `ImageType`…). Without a
//! sidecar the series UID is the file name (so `--phase FILE=ROLE` can name it) and the
//! modality is read from the voxels (Hounsfield air ⇒ CT); the role is then left to the
//! content rules of the segment stage.
//!
//! A real-world header error is caught where it can be: a file whose affine equals a
//! sibling's while it holds fewer slices, and whose voxels equal a contiguous slab of that
//! sibling, was cropped without shifting its origin (TotalSegmentator's
//! `example_ct_sm.nii.gz`); its origin is moved to the slab's true place, with a warning.
//! A lone file with that error cannot be detected: it is analysed in its own (consistent)
//! frame. See `docs/ingest.md`.

use crate::{IngestError, IngestOptions, Series, SkippedFile, Study};
use cavascope_volume::{bids, nifti_io, nrrd_io, Array3, Geometry, Volume, VolumeMeta};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tracing::warn;

/// Whether a path names a NIfTI file by its extension.
pub fn is_nifti_path(p: &Path) -> bool {
    let n = p.to_string_lossy().to_ascii_lowercase();
    n.ends_with(".nii") || n.ends_with(".nii.gz")
}

/// Whether a path names a volume file that [`load_input`] reads: NIfTI or NRRD.
pub fn is_volume_path(p: &Path) -> bool {
    is_nifti_path(p) || nrrd_io::is_nrrd_path(p)
}

/// The volume files directly inside `dir`, sorted, when the folder is a volume study: at
/// least one NIfTI/NRRD file and nothing else but sidecars (`.json`), hidden files and the
/// `.raw`/`.raw.gz` data files of `.nhdr` headers. `None` for a DICOM folder (or a mixed
/// one, which is read as DICOM).
pub fn volume_folder_files(dir: &Path) -> Option<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).ok()?;
    let mut vols = Vec::new();
    let mut raw_data = false;
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            return None;
        }
        if is_volume_path(&p) {
            vols.push(p);
        } else if name.ends_with(".raw") || name.ends_with(".raw.gz") {
            raw_data = true;
        } else if !name.ends_with(".json") {
            return None;
        }
    }
    let headers = vols
        .iter()
        .any(|p| p.to_string_lossy().to_ascii_lowercase().ends_with(".nhdr"));
    if raw_data && !headers {
        return None;
    }
    vols.sort();
    (!vols.is_empty()).then_some(vols)
}

/// Whether `path` is read as a volume file (NIfTI/NRRD) or a folder of them by [`load_input`].
pub fn is_volume_input(path: &Path) -> bool {
    (path.is_file() && is_volume_path(path)) || (path.is_dir() && volume_folder_files(path).is_some())
}

/// A study from a DICOM folder, a NIfTI/NRRD file or a folder of them.
pub fn load_input(path: &Path, opts: &IngestOptions) -> Result<Study, IngestError> {
    if is_volume_input(path) {
        load_volume_study(path, opts)
    } else {
        crate::load_study(path, opts)
    }
}

/// Read a NIfTI/NRRD file or a folder of them as a study. A file that cannot be read is a
/// [`SkippedFile`] with the reason, as for DICOM.
pub fn load_volume_study(path: &Path, opts: &IngestOptions) -> Result<Study, IngestError> {
    let files = if path.is_dir() {
        volume_folder_files(path).unwrap_or_default()
    } else if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        return Err(IngestError::NotADirectory {
            path: path.to_path_buf(),
        });
    };
    let mut study = Study {
        root: path.to_path_buf(),
        files_scanned: files.len(),
        ..Default::default()
    };
    // Each voxel is 4 bytes as f32; the DICOM voxel limit bounds the read too.
    let max_bytes = opts.max_voxels.saturating_mul(8).min(nifti_io::MAX_READ_BYTES);
    for f in &files {
        match read_one(f, max_bytes, opts.decode_pixels) {
            Ok(s) => study.series.push(s),
            Err(reason) => study.skipped.push(SkippedFile {
                path: f.clone(),
                reason,
            }),
        }
    }
    fix_unshifted_slabs(&mut study.series);
    study.files_used = study.series.len();
    Ok(study)
}

fn read_one(path: &Path, max_bytes: u64, decode: bool) -> Result<Series, String> {
    let nrrd = nrrd_io::is_nrrd_path(path);
    let read = if nrrd {
        nrrd_io::read_nrrd_limited(path, max_bytes)
    } else {
        nifti_io::read_nifti_limited(path, max_bytes)
    };
    let (data, geometry) = read.map_err(|e| match e {
        cavascope_volume::VolumeError::Nifti { why, .. } => format!("not a usable NIfTI volume: {why}"),
        cavascope_volume::VolumeError::Nrrd { why, .. } => format!("not a usable NRRD volume: {why}"),
        cavascope_volume::VolumeError::Io { path: p, source } if p != path => {
            format!("NRRD data file {}: {source}", p.display())
        }
        cavascope_volume::VolumeError::Io { source, .. } => {
            format!(
                "not a usable {} file: {source}",
                if nrrd { "NRRD" } else { "NIfTI" }
            )
        }
        other => other.to_string(),
    })?;
    let mut problems = Vec::new();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut meta = match sidecar_path(path) {
        Some(sc) => match read_sidecar(&sc) {
            Ok(m) => m,
            Err(why) => {
                problems.push(format!("sidecar {} not used: {why}", sc.display()));
                VolumeMeta::default()
            }
        },
        None => VolumeMeta::default(),
    };
    if meta.series_instance_uid.trim().is_empty() {
        meta.series_instance_uid = name.clone();
    }
    if meta.series_description.is_none() {
        meta.series_description = Some(stem(path));
    }
    if meta.modality.trim().is_empty() {
        meta.modality = modality_from_content(&data).to_string();
        problems.push(format!(
            "no sidecar modality: read as {} from the voxel values",
            meta.modality
        ));
    }
    meta.files = vec![path.to_path_buf()];
    let (nk, nj, ni) = data.dim();
    let positions: Vec<f64> = (0..nk)
        .map(|k| {
            let p = geometry.index_to_world([0.0, 0.0, k as f64]);
            p.coords.dot(&geometry.normal())
        })
        .collect();
    let volume = decode.then(|| Volume::new(data, geometry.clone(), meta.clone()));
    Ok(Series {
        series_instance_uid: meta.series_instance_uid.clone(),
        modality: meta.modality.clone(),
        description: meta.series_description.clone(),
        dims: [ni, nj, nk],
        spacing_mm: geometry.spacing(),
        n_files: 1,
        problems,
        volume,
        meta,
        tilt_deg: geometry.shear_deg(),
        geometry: Some(geometry),
        kind: "primary".into(),
        slice_positions_mm: positions,
        duplicates_dropped: 0,
        slice_sources: Vec::new(),
        transfer_syntaxes: vec![if nrrd { "NRRD" } else { "NIfTI-1" }.into()],
    })
}

fn stem(path: &Path) -> String {
    let n = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = n.to_ascii_lowercase();
    for ext in [".nii.gz", ".nii", ".nrrd", ".nhdr"] {
        if lower.ends_with(ext) {
            return n[..n.len() - ext.len()].to_string();
        }
    }
    n
}

fn sidecar_path(path: &Path) -> Option<PathBuf> {
    let p = path.with_file_name(format!("{}.json", stem(path)));
    p.is_file().then_some(p)
}

/// CT when a real share of the voxels is Hounsfield air (≤ −900): MR magnitudes are ≥ 0
/// bar noise, and a CT field of view holds air outside the body or in the bowel/lungs.
const CT_AIR_HU: f32 = -900.0;
const CT_AIR_FRACTION: f64 = 0.01;

fn modality_from_content(data: &Array3<f32>) -> &'static str {
    let n = data.len().max(1);
    let air = data.iter().filter(|&&v| v <= CT_AIR_HU).count();
    if air as f64 / n as f64 >= CT_AIR_FRACTION {
        "CT"
    } else {
        "MR"
    }
}

/// `HH:MM:SS(.ffffff)` or DICOM `HHMMSS(.ffffff)` → seconds since midnight.
/// A sidecar: cavascope `convert`'s own (`meta` holds the whole `VolumeMeta`), else
/// dcm2niix/BIDS keys read by [`cavascope_volume::bids`] (seconds there, ms here), with
/// SeriesTime standing in for a missing AcquisitionTime.
fn read_sidecar(path: &Path) -> Result<VolumeMeta, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(meta) = v.get("meta") {
        let mut m: VolumeMeta = serde_json::from_value(meta.clone()).map_err(|e| format!("meta: {e}"))?;
        m.files.clear();
        return Ok(m);
    }
    let o = v.as_object().ok_or("not a JSON object")?;
    let mut m = bids::parse_fields(o)?;
    if m.acquisition_time_s.is_none() {
        m.acquisition_time_s = o
            .get("SeriesTime")
            .and_then(Value::as_str)
            .and_then(bids::parse_time);
    }
    Ok(m)
}

/// A slab cropped without shifting its affine (see the module note): same affine as a
/// longer sibling, and voxel-for-voxel equal to a contiguous run of its slices. The origin
/// is moved to where the slab really lies.
fn fix_unshifted_slabs(series: &mut [Series]) {
    let n = series.len();
    for a in 0..n {
        for b in 0..n {
            if a == b {
                continue;
            }
            let (Some(va), Some(vb)) = (series[a].volume.as_ref(), series[b].volume.as_ref()) else {
                continue;
            };
            let (ka, ja, ia) = va.data.dim();
            let (kb, jb, ib) = vb.data.dim();
            if ka >= kb || ja != jb || ia != ib || va.geometry.max_abs_diff(&vb.geometry) > 1e-4 {
                continue;
            }
            let Some(off) = (0..=kb - ka).find(|&o| {
                va.data
                    .iter()
                    .zip(vb.data.slice(ndarray::s![o..o + ka, .., ..]).iter())
                    .all(|(x, y)| x == y)
            }) else {
                let why = format!(
                    "same affine as {} but {ka} of its {kb} slices: the origin may not have been \
                     shifted when this volume was cropped (positions may be wrong)",
                    series[b]
                        .meta
                        .files
                        .first()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                );
                warn!("{why}");
                series[a].problems.push(why);
                continue;
            };
            if off == 0 {
                continue;
            }
            let g = &va.geometry;
            let shift = g.step(2) * off as f64;
            let o = g.origin() + shift;
            let fixed = Geometry::from_columns(g.step(0), g.step(1), g.step(2), o);
            let Some(fixed) = fixed else { continue };
            let why = format!(
                "header error: same affine as {} but its voxels are that volume's slices {off}–{} \
                 (cropped without shifting the origin); origin moved by {:.1} mm",
                series[b]
                    .meta
                    .files
                    .first()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                off + ka - 1,
                shift.norm()
            );
            warn!("{why}");
            let s = &mut series[a];
            s.problems.push(why);
            let normal = fixed.normal();
            s.slice_positions_mm = (0..ka)
                .map(|k| fixed.index_to_world([0.0, 0.0, k as f64]).coords.dot(&normal))
                .collect();
            s.geometry = Some(fixed.clone());
            if let Some(v) = s.volume.as_mut() {
                v.geometry = fixed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bids_seconds_become_ms() {
        let v: Value = serde_json::json!({"Modality": "MR", "EchoTime": 0.09, "RepetitionTime": 2.5,
            "SeriesDescription": "T2 HASTE", "AcquisitionTime": "10:00:00", "ContrastBolusAgent": "none"});
        let m = bids::parse_fields(v.as_object().unwrap()).unwrap();
        assert_eq!(m.modality, "MR");
        assert!((m.echo_time_ms.unwrap() - 90.0).abs() < 1e-9);
        assert!((m.repetition_time_ms.unwrap() - 2500.0).abs() < 1e-9);
        assert_eq!(m.acquisition_time_s, Some(36000.0));
        assert_eq!(m.contrast_agent.as_deref(), Some("none"));
    }

    /// A NRRD header (LPS, raw little-endian float) for the same voxels and affine.
    fn nrrd_header(data: &Array3<f32>, g: &Geometry, data_file: Option<&str>) -> String {
        let a = g.affine();
        let (nk, nj, ni) = data.dim();
        let v = |c: usize| format!("({},{},{})", a[(0, c)], a[(1, c)], a[(2, c)]);
        let mut h =
            format!(
            "NRRD0004\ntype: float\ndimension: 3\nsizes: {ni} {nj} {nk}\nspace: left-posterior-superior\n\
             space directions: {} {} {}\nspace origin: {}\nendian: little\nencoding: raw\n",
            v(0), v(1), v(2), v(3)
        );
        if let Some(f) = data_file {
            h.push_str(&format!("data file: {f}\n"));
        }
        h
    }

    #[test]
    fn nrrd_and_nifti_of_the_same_volume_load_alike() {
        let g = Geometry::from_axes(
            cavascope_volume::Point3::new(-120.0, -80.0, 300.0),
            cavascope_volume::Vector3::new(1.0, 0.0, 0.0),
            cavascope_volume::Vector3::new(0.0, 0.8, -0.6),
            cavascope_volume::Vector3::new(0.0, 0.6, 0.8),
            [0.7, 0.9, 2.5],
        );
        let data = Array3::from_shape_fn((4, 5, 6), |(k, j, i)| (k * 100 + j * 10 + i) as f32 - 1024.0);
        let dir = tempfile::tempdir().unwrap();
        let nii = dir.path().join("a.nii.gz");
        nifti_io::write_nifti(&nii, &data, &g).unwrap();
        let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut attached = nrrd_header(&data, &g, None).into_bytes();
        attached.push(b'\n');
        attached.extend_from_slice(&raw);
        let nrrd = dir.path().join("b.nrrd");
        std::fs::write(&nrrd, attached).unwrap();
        // A folder holding a detached header and its data file is a volume folder.
        let sub = dir.path().join("detached");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("c.nhdr"), nrrd_header(&data, &g, Some("c.raw"))).unwrap();
        std::fs::write(sub.join("c.raw"), &raw).unwrap();
        assert!(is_volume_input(&nrrd) && is_volume_input(&sub));

        let opts = IngestOptions::default();
        let want = load_input(&nii, &opts).unwrap();
        let wv = want.series[0].volume.as_ref().unwrap();
        for (input, syntax) in [(&nrrd, "NRRD"), (&sub, "NRRD")] {
            let st = load_input(input, &opts).unwrap();
            assert_eq!(st.series.len(), 1, "{}", input.display());
            let s = &st.series[0];
            assert_eq!(s.transfer_syntaxes, vec![syntax.to_string()]);
            assert_eq!(s.modality, "CT", "Hounsfield air read from the voxels");
            let v = s.volume.as_ref().unwrap();
            assert_eq!(v.data, wv.data);
            assert!((v.geometry.affine() - wv.geometry.affine()).abs().max() < 1e-5);
            assert_eq!(s.slice_positions_mm.len(), 4);
        }
    }

    #[test]
    fn a_broken_nrrd_is_skipped_naming_the_file_and_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("x.nrrd"),
            "NRRD0004\ntype: float\ndimension: 3\nsizes: 9 9 9\nendian: little\nencoding: raw\n\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("y.nhdr"),
            "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 1 1 1\nencoding: raw\ndata file: gone.raw\n",
        )
        .unwrap();
        let st = load_input(dir.path(), &IngestOptions::default()).unwrap();
        assert!(st.series.is_empty());
        assert_eq!(st.skipped.len(), 2);
        let why: Vec<String> = st
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.path.display(), s.reason))
            .collect();
        assert!(
            why[0].contains("x.nrrd") && why[0].contains("truncated"),
            "{why:?}"
        );
        assert!(
            why[1].contains("y.nhdr") && why[1].contains("gone.raw"),
            "{why:?}"
        );
    }
}
