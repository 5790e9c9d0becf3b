//! External label maps for `--ivc-mask` / `--mass-mask`: NIfTI (`.nii`, `.nii.gz`) as
//! TotalSegmentator writes it — a single-class file or its multilabel file —, 3D Slicer's
//! segmentation NRRD (`.seg.nrrd`, any `.nrrd`/`.nhdr` label map) and DICOM SEG (binary or
//! fractional). The mask keeps its own grid and geometry (LPS); callers resample it
//! (nearest) onto whatever grid they measure on.
//!
//! Choosing a label: `FILE:N` takes label value `N` (NIfTI, NRRD) or segment number `N`
//! (SEG), `FILE:NAME` a known TotalSegmentator class name (`inferior_vena_cava` = 63 in the
//! v2 multilabel file), for a Slicer NRRD the segment of that name (`SegmentK_Name`, its
//! `SegmentK_LabelValue`), or, for SEG, the segment whose label matches `NAME`. A plain `FILE`
//! takes every non-zero voxel when the file holds one label; when it holds several, the
//! caller's default (for the IVC: 63, TotalSegmentator v2) is used if present.

use crate::IngestError;
use cavascope_volume::{nifti_io, nrrd_io, Geometry, Mask, Point3, Vector3};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use ndarray::Array3;
use std::path::{Path, PathBuf};

/// TotalSegmentator v2 `total` task: label value of `inferior_vena_cava`.
pub const TOTALSEG_V2_IVC: u32 = 63;

/// Known TotalSegmentator v2 class names (only those this pipeline uses).
const NAMES: &[(&str, u32)] = &[
    ("inferior_vena_cava", 63),
    ("aorta", 52),
    ("portal_vein_and_splenic_vein", 64),
];

/// Which label of a multi-label file to take.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelChoice {
    /// A label value (NIfTI) or segment number (SEG).
    Value(u32),
    /// A class name (TotalSegmentator name, or a SEG SegmentLabel).
    Name(String),
}

pub use cavascope_volume::mask::LabelMask;

/// Split `FILE[:LABEL]`. A path that exists as written is never split (so a file name
/// may contain `:`).
pub fn parse_spec(spec: &Path) -> (PathBuf, Option<LabelChoice>) {
    if spec.exists() {
        return (spec.to_path_buf(), None);
    }
    let s = spec.to_string_lossy();
    if let Some((file, label)) = s.rsplit_once(':') {
        if !file.is_empty() && !label.is_empty() && !label.contains('/') {
            let choice = match label.trim().parse::<u32>() {
                Ok(v) => LabelChoice::Value(v),
                Err(_) => LabelChoice::Name(label.trim().to_string()),
            };
            return (PathBuf::from(file), Some(choice));
        }
    }
    (spec.to_path_buf(), None)
}

/// Read `FILE[:LABEL]`. `default_multilabel` is used when the file holds several labels
/// and none was named (the IVC caller passes [`TOTALSEG_V2_IVC`]).
pub fn read_label_mask(spec: &Path, default_multilabel: Option<u32>) -> Result<LabelMask, IngestError> {
    let (path, choice) = parse_spec(spec);
    let err = |reason: String| IngestError::MaskRead {
        path: path.clone(),
        reason,
    };
    if !path.exists() {
        return Err(err("file not found".into()));
    }
    let name = path.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".nii") || name.ends_with(".nii.gz") || nrrd_io::is_nrrd_path(&path) {
        read_volume_labels(&path, choice, default_multilabel)
    } else {
        match read_seg(&path, choice) {
            Ok(m) => Ok(m),
            Err(IngestError::MaskRead { reason, .. }) if reason.starts_with("not DICOM") => {
                // Perhaps a NIfTI without the usual extension.
                read_volume_labels(&path, None, default_multilabel).map_err(|_| err(reason))
            }
            Err(e) => Err(e),
        }
    }
}

/// A NIfTI or NRRD label map; 3D Slicer's segment names (`SegmentK_Name`,
/// `SegmentK_LabelValue`, all in one layer) name a NRRD's labels.
fn read_volume_labels(
    path: &Path,
    choice: Option<LabelChoice>,
    default_multilabel: Option<u32>,
) -> Result<LabelMask, IngestError> {
    let err = |reason: String| IngestError::MaskRead {
        path: path.to_path_buf(),
        reason,
    };
    let (data, geometry, segments) = if nrrd_io::is_nrrd_path(path) {
        let (d, g, keys) =
            nrrd_io::read_nrrd_keyed(path, nifti_io::MAX_READ_BYTES).map_err(|e| err(e.to_string()))?;
        (d, g, slicer_segments(&keys).map_err(err)?)
    } else {
        let (d, g) = nifti_io::read_nifti(path).map_err(|e| err(e.to_string()))?;
        (d, g, Vec::new())
    };
    select_label(path, data, geometry, choice, default_multilabel, &segments)
}

/// `(name, label value)` of each segment of a 3D Slicer segmentation header. Slicer writes
/// overlapping segments in several layers (a 4D file, refused by the reader); segments on a
/// layer other than 0 of a 3D file cannot be told apart and are an error.
fn slicer_segments(keys: &[(String, String)]) -> Result<Vec<(String, u32)>, String> {
    let get = |k: &str| keys.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim());
    let mut out = Vec::new();
    for n in 0.. {
        let Some(name) = get(&format!("Segment{n}_Name")) else {
            break;
        };
        if get(&format!("Segment{n}_Layer")).is_some_and(|l| l != "0") {
            return Err(format!("segment {name:?} lies on another layer (overlapping segments): export a single-layer label map"));
        }
        // Slicer before 4.11 wrote no label value: segment K is K + 1.
        let value = match get(&format!("Segment{n}_LabelValue")) {
            Some(v) => v
                .parse::<u32>()
                .map_err(|_| format!("Segment{n}_LabelValue {v:?} is not a label value"))?,
            None => n + 1,
        };
        out.push((name.to_string(), value));
    }
    Ok(out)
}

/// One label of a label array as a mask: the chosen value or name (`names`: the file's own
/// segment names, then TotalSegmentator's), the only label, a fractional map's 0.5 level,
/// or the caller's default of a multi-label file.
fn select_label(
    path: &Path,
    data: Array3<f32>,
    geometry: Geometry,
    choice: Option<LabelChoice>,
    default_multilabel: Option<u32>,
    names: &[(String, u32)],
) -> Result<LabelMask, IngestError> {
    let err = |reason: String| IngestError::MaskRead {
        path: path.to_path_buf(),
        reason,
    };
    let mut values: Vec<u32> = Vec::new();
    let mut non_integer = false;
    {
        let mut seen = std::collections::BTreeSet::new();
        for &v in data.iter() {
            if v > 0.0 && v.is_finite() {
                if v.fract() != 0.0 {
                    non_integer = true;
                } else if seen.len() < 1024 {
                    seen.insert(v as u32);
                }
            }
        }
        values.extend(seen);
    }
    let mut warnings = Vec::new();
    let wanted: Option<u32> = match &choice {
        Some(LabelChoice::Value(v)) => Some(*v),
        Some(LabelChoice::Name(n)) => {
            let key = n.to_ascii_lowercase();
            let own = names
                .iter()
                .find(|(k, _)| k.to_ascii_lowercase() == key)
                .map(|(_, v)| *v);
            match own.or_else(|| NAMES.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)) {
                Some(v) => Some(v),
                None if names.is_empty() => {
                    return Err(err(format!("unknown label name {n:?} for a NIfTI label map")))
                }
                None => {
                    let list: Vec<&str> = names.iter().map(|(k, _)| k.as_str()).collect();
                    return Err(err(format!("no segment named {n:?} (segments: {list:?})")));
                }
            }
        }
        None => None,
    };
    let (select, description): (Box<dyn Fn(f32) -> bool>, String) = match wanted {
        Some(v) => {
            if !values.contains(&v) {
                return Err(err(format!("label {v} is not in the file (labels: {values:?})")));
            }
            (
                Box::new(move |x: f32| x == v as f32),
                format!("label {v} of {}", path.display()),
            )
        }
        None if non_integer => {
            // A probability / fractional map: the 0.5 level of its maximum.
            let max = data
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0f32, f32::max);
            warnings.push(format!(
                "{}: non-integer label map read as fractional (threshold {:.3})",
                path.display(),
                max / 2.0
            ));
            (
                Box::new(move |x: f32| x >= max / 2.0 && x > 0.0),
                format!("{} (fractional)", path.display()),
            )
        }
        None if values.len() <= 1 => (Box::new(|x: f32| x > 0.0), format!("{}", path.display())),
        None => match default_multilabel {
            Some(v) if values.contains(&v) => {
                warnings.push(format!(
                    "{}: multi-label file ({} labels); label {v} taken (TotalSegmentator v2 inferior_vena_cava); \
                     name another with FILE:N",
                    path.display(),
                    values.len()
                ));
                (
                    Box::new(move |x: f32| x == v as f32),
                    format!("label {v} of {}", path.display()),
                )
            }
            _ => {
                return Err(err(format!(
                    "multi-label file with labels {values:?}: choose one with FILE:N"
                )))
            }
        },
    };
    let mask = Mask::new(data.mapv(select), geometry);
    if mask.count() == 0 {
        return Err(err("the selected label is empty".into()));
    }
    Ok(LabelMask {
        mask,
        description,
        warnings,
    })
}

const SEG_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.4";

fn get_str(o: &InMemDicomObject, tag: dicom_core::Tag) -> Option<String> {
    o.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).trim().to_string())
}

fn get_f64s(o: &InMemDicomObject, tag: dicom_core::Tag) -> Option<Vec<f64>> {
    o.get(tag).and_then(|e| e.to_multi_float64().ok())
}

fn get_int(o: &InMemDicomObject, tag: dicom_core::Tag) -> Option<i64> {
    o.get(tag).and_then(|e| e.to_int::<i64>().ok())
}

fn mask_err(path: &Path, reason: String) -> IngestError {
    IngestError::MaskRead {
        path: path.to_path_buf(),
        reason,
    }
}

/// The SEG's segments: (Segment Number, Segment Label).
fn seg_segments(obj: &InMemDicomObject) -> Vec<(i64, String)> {
    obj.get(tags::SEGMENT_SEQUENCE)
        .and_then(|e| e.items())
        .map(|items| {
            items
                .iter()
                .filter_map(|it| {
                    Some((
                        get_int(it, tags::SEGMENT_NUMBER)?,
                        get_str(it, tags::SEGMENT_LABEL).unwrap_or_default(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The segment number to read: the one asked for (number or label), the only one, or
/// the one whose label says IVC.
fn choose_segment(
    path: &Path,
    segments: &[(i64, String)],
    choice: &Option<LabelChoice>,
) -> Result<i64, IngestError> {
    let err = |reason: String| mask_err(path, reason);
    Ok(match choice {
        Some(LabelChoice::Value(v)) => *v as i64,
        Some(LabelChoice::Name(n)) => {
            let key = n.to_ascii_lowercase().replace([' ', '-'], "_");
            segments
                .iter()
                .find(|(_, l)| l.to_ascii_lowercase().replace([' ', '-'], "_") == key)
                .map(|(s, _)| *s)
                .ok_or_else(|| err(format!("no segment labelled {n:?} (segments {segments:?})")))?
        }
        None if segments.len() <= 1 => segments.first().map(|s| s.0).unwrap_or(1),
        None => {
            // Prefer a segment that says it is the IVC.
            segments
                .iter()
                .find(|(_, l)| {
                    let l = l.to_ascii_lowercase();
                    l.contains("vena cava") || l.contains("vena_cava") || l == "ivc"
                })
                .map(|s| s.0)
                .ok_or_else(|| {
                    err(format!(
                        "{} segments {segments:?}: choose one with FILE:N",
                        segments.len()
                    ))
                })?
        }
    })
}

/// The frames of one segment with the plane they share.
struct SegPlanes {
    /// Unit row and column directions.
    row_dir: Vector3<f64>,
    col_dir: Vector3<f64>,
    /// Spacing along a row and along a column, mm.
    spacing: [f64; 2],
    /// SpacingBetweenSlices (else SliceThickness) of the first frame that has one.
    between: Option<f64>,
    /// (frame index, ImagePositionPatient).
    frames: Vec<(usize, Point3<f64>)>,
}

/// The frames of `segment` with their positions; every frame must have a position, an
/// orientation (the same for all) and a pixel spacing, from its own functional groups or
/// the shared ones.
fn segment_planes(
    path: &Path,
    per_frame: &[InMemDicomObject],
    shared: Option<&InMemDicomObject>,
    segment: i64,
) -> Result<SegPlanes, IngestError> {
    let err = |reason: String| mask_err(path, reason);
    // A functional group from the frame's own item, else the shared one.
    let group = |f: &InMemDicomObject, seq: dicom_core::Tag| -> Option<InMemDicomObject> {
        first_item(f, seq)
            .or_else(|| shared.and_then(|s| first_item(s, seq)))
            .cloned()
    };
    let mut row_dir: Option<Vector3<f64>> = None;
    let mut col_dir: Option<Vector3<f64>> = None;
    let mut spacing: Option<[f64; 2]> = None;
    let mut between: Option<f64> = None;
    let mut frames: Vec<(usize, Point3<f64>)> = Vec::new();
    for (f, item) in per_frame.iter().enumerate() {
        let seg_no = group(item, tags::SEGMENT_IDENTIFICATION_SEQUENCE)
            .and_then(|g| get_int(&g, tags::REFERENCED_SEGMENT_NUMBER))
            .unwrap_or(1);
        if seg_no != segment {
            continue;
        }
        let pos = group(item, tags::PLANE_POSITION_SEQUENCE)
            .and_then(|g| get_f64s(&g, tags::IMAGE_POSITION_PATIENT))
            .filter(|v| v.len() >= 3 && v.iter().all(|x| x.is_finite()))
            .ok_or_else(|| err(format!("frame {}: no ImagePositionPatient", f + 1)))?;
        let iop = group(item, tags::PLANE_ORIENTATION_SEQUENCE)
            .and_then(|g| get_f64s(&g, tags::IMAGE_ORIENTATION_PATIENT))
            .filter(|v| v.len() >= 6 && v.iter().all(|x| x.is_finite()))
            .ok_or_else(|| err(format!("frame {}: no ImageOrientationPatient", f + 1)))?;
        let measures = group(item, tags::PIXEL_MEASURES_SEQUENCE);
        let ps = measures
            .as_ref()
            .and_then(|g| get_f64s(g, tags::PIXEL_SPACING))
            .filter(|v| v.len() >= 2 && v[0] > 0.0 && v[1] > 0.0)
            .ok_or_else(|| err(format!("frame {}: no PixelSpacing", f + 1)))?;
        if between.is_none() {
            between = measures
                .as_ref()
                .and_then(|g| get_f64s(g, tags::SPACING_BETWEEN_SLICES))
                .and_then(|v| v.first().copied())
                .filter(|v| *v > 0.0)
                .or_else(|| {
                    measures
                        .as_ref()
                        .and_then(|g| get_f64s(g, tags::SLICE_THICKNESS))
                        .and_then(|v| v.first().copied())
                        .filter(|v| *v > 0.0)
                });
        }
        let r = Vector3::new(iop[0], iop[1], iop[2]);
        let c = Vector3::new(iop[3], iop[4], iop[5]);
        if r.norm() < 1e-6 || c.norm() < 1e-6 {
            return Err(err(format!(
                "frame {}: degenerate ImageOrientationPatient",
                f + 1
            )));
        }
        let (r, c) = (r.normalize(), c.normalize());
        match (row_dir, col_dir) {
            (None, _) | (_, None) => {
                row_dir = Some(r);
                col_dir = Some(c);
                // DICOM PixelSpacing is (row spacing, column spacing) = (Δ along a column, Δ along a row).
                spacing = Some([ps[1], ps[0]]);
            }
            (Some(r0), Some(c0)) => {
                if (r - r0).norm() > 1e-3 || (c - c0).norm() > 1e-3 {
                    return Err(err("frames of one segment have different orientations".into()));
                }
            }
        }
        frames.push((f, Point3::new(pos[0], pos[1], pos[2])));
    }
    let (Some(row_dir), Some(col_dir), Some(spacing)) = (row_dir, col_dir, spacing) else {
        return Err(err(format!("no frame of segment {segment}")));
    };
    Ok(SegPlanes {
        row_dir,
        col_dir,
        spacing,
        between,
        frames,
    })
}

impl SegPlanes {
    /// Sorts the frames along the normal and places them on an even grid: its geometry
    /// (slice step from the frame positions, so a sheared stack stays exact), each
    /// frame's slice index, and the slice count.
    fn grid(&mut self, path: &Path) -> Result<(Geometry, Vec<usize>, usize), IngestError> {
        let err = |reason: String| mask_err(path, reason);
        let (r, c, [di, dj]) = (self.row_dir, self.col_dir, self.spacing);
        let normal = r.cross(&c);
        let between = self.between;
        let frames = &mut self.frames;
        frames.sort_by(|a, b| a.1.coords.dot(&normal).total_cmp(&b.1.coords.dot(&normal)));
        let d0 = frames[0].1.coords.dot(&normal);
        // Slice step: SpacingBetweenSlices, else the smallest gap between distinct frames.
        let gaps: Vec<f64> = frames
            .windows(2)
            .map(|w| w[1].1.coords.dot(&normal) - w[0].1.coords.dot(&normal))
            .filter(|g| *g > 1e-3)
            .collect();
        let dk = between
            .or_else(|| gaps.iter().copied().reduce(f64::min))
            .unwrap_or(1.0);
        let ks: Vec<usize> = frames
            .iter()
            .map(|(_, p)| ((p.coords.dot(&normal) - d0) / dk).round().max(0.0) as usize)
            .collect();
        let nk = ks.iter().copied().max().unwrap_or(0) + 1;
        if nk > 4096 {
            return Err(err(format!(
                "frames span {nk} slices of {dk} mm: inconsistent positions"
            )));
        }
        // Slice step vector from the frame positions (keeps a sheared stack exact).
        let first = frames[0].1;
        let (klast, plast) = (ks[ks.len() - 1], frames[frames.len() - 1].1);
        let step = if klast > 0 {
            (plast - first) / klast as f64
        } else {
            normal * dk
        };
        let geometry = Geometry::from_columns(r * di, c * dj, step, first)
            .ok_or_else(|| err("degenerate frame geometry".into()))?;
        Ok((geometry, ks, nk))
    }
}

fn first_item(o: &InMemDicomObject, tag: dicom_core::Tag) -> Option<&InMemDicomObject> {
    o.get(tag).and_then(|e| e.items()).and_then(|i| i.first())
}

/// Read a DICOM SEG. Frames are placed by their per-frame PlanePositionSequence along
/// the shared (or per-frame) PlaneOrientationSequence, with PixelMeasuresSequence spacing;
/// frames the SEG omits (empty slices are often left out) stay empty.
pub(crate) fn read_seg(path: &Path, choice: Option<LabelChoice>) -> Result<LabelMask, IngestError> {
    let err = |reason: String| mask_err(path, reason);
    let file = dicom_object::open_file(path).map_err(|e| err(format!("not DICOM: {e}")))?;
    let ts = file.meta().transfer_syntax().trim_end_matches('\0').to_string();
    let obj: &InMemDicomObject = &file;
    let sop = get_str(obj, tags::SOP_CLASS_UID).unwrap_or_default();
    if sop != SEG_SOP_CLASS {
        return Err(err(format!("not a DICOM SEG (SOP class {sop:?})")));
    }
    let rows = get_int(obj, tags::ROWS)
        .filter(|&v| v > 0)
        .ok_or_else(|| err("no Rows".into()))? as usize;
    let cols = get_int(obj, tags::COLUMNS)
        .filter(|&v| v > 0)
        .ok_or_else(|| err("no Columns".into()))? as usize;
    let nframes = get_int(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(0) as usize;
    let bits = get_int(obj, tags::BITS_ALLOCATED).unwrap_or(1);
    let seg_type = get_str(obj, tags::SEGMENTATION_TYPE).unwrap_or_else(|| "BINARY".into());
    if !matches!(bits, 1 | 8) {
        return Err(err(format!("BitsAllocated {bits} is not supported for SEG")));
    }
    let segments = seg_segments(obj);
    let segment = choose_segment(path, &segments, &choice)?;
    let shared = first_item(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE);
    let per_frame: Vec<InMemDicomObject> = obj
        .get(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE)
        .and_then(|e| e.items())
        .map(|i| i.to_vec())
        .unwrap_or_default();
    if per_frame.len() < nframes {
        return Err(err(format!(
            "PerFrameFunctionalGroupsSequence has {} items for {nframes} frames",
            per_frame.len()
        )));
    }
    let pixels = obj
        .get(tags::PIXEL_DATA)
        .ok_or_else(|| err("no PixelData".into()))?;
    if pixels.value().fragments().is_some() || ts.starts_with("1.2.840.10008.1.2.5") {
        return Err(err(format!(
            "encapsulated SEG pixel data (transfer syntax {ts}) is not supported"
        )));
    }
    let bytes = pixels.to_bytes().map_err(|e| err(format!("PixelData: {e}")))?;
    let frame_px = rows * cols;
    let need_bits = nframes * frame_px * bits as usize;
    if bytes.len() * 8 < need_bits {
        return Err(err(format!(
            "PixelData has {} bytes, {nframes} frames of {rows}×{cols} need {}",
            bytes.len(),
            need_bits.div_ceil(8)
        )));
    }
    let max_frac = get_int(obj, tags::MAXIMUM_FRACTIONAL_VALUE).unwrap_or(255).max(1) as f64;

    let mut planes = segment_planes(path, &per_frame[..nframes], shared, segment)?;
    let (geometry, ks, nk) = planes.grid(path)?;
    let mut data = Array3::from_elem((nk, rows, cols), false);
    let fractional = seg_type.eq_ignore_ascii_case("FRACTIONAL");
    for ((f, _), &k) in planes.frames.iter().zip(&ks) {
        for j in 0..rows {
            for i in 0..cols {
                let px = f * frame_px + j * cols + i;
                let on = if bits == 1 {
                    (bytes[px / 8] >> (px % 8)) & 1 == 1
                } else {
                    let v = bytes[px] as f64;
                    if fractional {
                        v / max_frac >= 0.5
                    } else {
                        v > 0.0
                    }
                };
                if on {
                    data[[k, j, i]] = true;
                }
            }
        }
    }
    let mask = Mask::new(data, geometry);
    let mut warnings = Vec::new();
    if mask.count() == 0 {
        return Err(err(format!("segment {segment} is empty")));
    }
    if segments.len() > 1 && choice.is_none() {
        warnings.push(format!(
            "{}: SEG has {} segments; segment {segment} taken",
            path.display(),
            segments.len()
        ));
    }
    Ok(LabelMask {
        mask,
        description: format!("segment {segment} of DICOM SEG {}", path.display()),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parsing() {
        let (p, c) = parse_spec(Path::new("/nonexistent/seg.nii.gz:63"));
        assert_eq!(p, PathBuf::from("/nonexistent/seg.nii.gz"));
        assert_eq!(c, Some(LabelChoice::Value(63)));
        let (_, c) = parse_spec(Path::new("/nonexistent/seg.nii.gz:inferior_vena_cava"));
        assert_eq!(c, Some(LabelChoice::Name("inferior_vena_cava".into())));
        let (p, c) = parse_spec(Path::new("/nonexistent/seg.nii.gz"));
        assert_eq!(p, PathBuf::from("/nonexistent/seg.nii.gz"));
        assert!(c.is_none());
    }

    #[test]
    fn multilabel_nifti_takes_label_63_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let g = Geometry::axial(Point3::new(-5.0, 3.0, 1.0), [1.0, 1.0, 2.0]);
        let mut labels = Array3::<u8>::zeros((4, 5, 6));
        labels[[1, 2, 3]] = 63;
        labels[[2, 2, 3]] = 63;
        labels[[0, 0, 0]] = 52;
        let path = dir.path().join("total.nii.gz");
        nifti_io::write_labels_nifti(&path, &labels, &g).unwrap();
        let m = read_label_mask(&path, Some(TOTALSEG_V2_IVC)).unwrap();
        assert_eq!(m.mask.count(), 2);
        assert!(m.mask.data[[1, 2, 3]] && !m.mask.data[[0, 0, 0]]);
        assert!(m.mask.geometry.max_abs_diff(&g) < 1e-4);
        assert!(!m.warnings.is_empty());
        let spec = PathBuf::from(format!("{}:52", path.display()));
        assert_eq!(read_label_mask(&spec, Some(63)).unwrap().mask.count(), 1);
        let spec = PathBuf::from(format!("{}:aorta", path.display()));
        assert_eq!(read_label_mask(&spec, Some(63)).unwrap().mask.count(), 1);
        // No default and several labels: refused, with the reason.
        assert!(read_label_mask(&path, None).is_err());
        let spec = PathBuf::from(format!("{}:7", path.display()));
        assert!(read_label_mask(&spec, Some(63)).is_err());
    }

    /// A 3D Slicer segmentation as Slicer 5 writes it: one layer, segment names and label
    /// values as `key:=value` pairs, LPS geometry, gzip.
    fn slicer_seg(dir: &Path, layer1: bool) -> PathBuf {
        let mut labels = vec![0u8; 6 * 5 * 4];
        labels[3 + 6 * (2 + 5)] = 2; // IVC at i 3, j 2, k 1
        labels[3 + 6 * (2 + 5 * 2)] = 2; // … and k 2
        labels[0] = 5; // Tumour at the first voxel
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &labels).unwrap();
        let mut f = format!(
            "NRRD0004\ntype: unsigned char\ndimension: 3\nspace: left-posterior-superior\nsizes: 6 5 4\n\
             space directions: (1,0,0) (0,1,0) (0,0,2)\nkinds: domain domain domain\nencoding: gzip\n\
             space origin: (-5,3,1)\nSegment0_ID:=Segment_1\nSegment0_Name:=IVC\nSegment0_LabelValue:=2\n\
             Segment0_Layer:=0\nSegment1_ID:=Segment_2\nSegment1_Name:=Tumour\nSegment1_LabelValue:=5\n\
             Segment1_Layer:={}\n\n",
            u8::from(layer1)
        )
        .into_bytes();
        f.extend_from_slice(&gz.finish().unwrap());
        let path = dir.join(if layer1 {
            "layers.seg.nrrd"
        } else {
            "case.seg.nrrd"
        });
        std::fs::write(&path, f).unwrap();
        path
    }

    #[test]
    fn slicer_segmentation_nrrd_by_segment_name_or_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = slicer_seg(dir.path(), false);
        let g = Geometry::axial(Point3::new(-5.0, 3.0, 1.0), [1.0, 1.0, 2.0]);
        let by_name = read_label_mask(&PathBuf::from(format!("{}:ivc", path.display())), Some(63)).unwrap();
        assert_eq!(by_name.mask.count(), 2);
        assert!(by_name.mask.data[[1, 2, 3]] && by_name.mask.data[[2, 2, 3]]);
        assert!(by_name.mask.geometry.max_abs_diff(&g) < 1e-9);
        let by_value = read_label_mask(&PathBuf::from(format!("{}:5", path.display())), None).unwrap();
        assert_eq!(by_value.mask.count(), 1);
        assert!(by_value.mask.data[[0, 0, 0]]);
        // Two labels, no choice and no default among them: refused, naming the choice.
        let e = read_label_mask(&path, Some(63)).unwrap_err().to_string();
        assert!(e.contains("case.seg.nrrd") && e.contains("FILE:N"), "{e}");
        let e = read_label_mask(&PathBuf::from(format!("{}:liver", path.display())), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no segment named") && e.contains("Tumour"), "{e}");
        // A segment on another layer cannot be told apart in a 3D file.
        let e = read_label_mask(&slicer_seg(dir.path(), true), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("layer"), "{e}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.dcm");
        std::fs::write(&p, b"not dicom at all").unwrap();
        assert!(read_label_mask(&p, None).is_err());
        let p = dir.path().join("x.nii");
        std::fs::write(&p, vec![0u8; 400]).unwrap();
        assert!(read_label_mask(&p, None).is_err());
        assert!(read_label_mask(Path::new("/nonexistent/x.nii"), None).is_err());
    }

    #[test]
    fn seg_round_trip_oblique_with_omitted_frames() {
        // An oblique, sheared-free grid; a ball in the middle slices only, so the SEG
        // omits empty frames and the reader must place frames by position.
        let row = Vector3::new(0.9, 0.2, 0.1).normalize();
        let col = (Vector3::new(-0.2, 0.9, 0.3) - row * row.dot(&Vector3::new(-0.2, 0.9, 0.3))).normalize();
        let g = Geometry::from_axes(
            Point3::new(-20.0, -15.0, 30.0),
            row,
            col,
            -row.cross(&col),
            [0.8, 0.9, 1.5],
        );
        let c = g.index_to_world([12.0, 10.0, 9.0]);
        let data = Array3::from_shape_fn((20, 22, 25), |(k, j, i)| {
            (g.index_to_world([i as f64, j as f64, k as f64]) - c).norm() <= 6.0
        });
        let mask = Mask::new(data, g.clone());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ivc.seg.dcm");
        cavascope_phantom::seg::write_seg(&path, &mask, "Inferior vena cava").unwrap();
        let back = read_label_mask(&path, None).unwrap().mask;
        // Compare in world space: every voxel of the original maps to the same value.
        let mut n = 0;
        for ((k, j, i), &v) in mask.data.indexed_iter() {
            let p = g.index_to_world([i as f64, j as f64, k as f64]);
            assert_eq!(back.contains_world(&p), v, "{k} {j} {i}");
            n += v as usize;
        }
        assert_eq!(back.count(), n);
        assert!(
            back.shape()[0] < 20,
            "empty frames were omitted, so the stack is shorter"
        );
    }
}
