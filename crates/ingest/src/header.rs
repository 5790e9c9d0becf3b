//! Header-only pass: one [`FileHeader`] per file and one [`FrameHeader`] per frame, read
//! with `read_until(PIXEL_DATA)` so the pixel bytes are never parsed here.

use dicom_dictionary_std::tags;
use dicom_object::{InMemDicomObject, OpenFileOptions};
use std::path::{Path, PathBuf};

use dicom_core::{Tag, VR};
use nalgebra::Vector3;

/// Per-file attributes (shared by all frames of the file).
#[derive(Debug, Clone)]
pub struct FileHeader {
    pub path: PathBuf,
    pub file_len: u64,
    pub transfer_syntax: String,
    pub sop_instance_uid: String,
    pub sop_class_uid: String,
    pub series_instance_uid: String,
    pub study_instance_uid: Option<String>,
    pub frame_of_reference_uid: Option<String>,
    pub modality: String,
    pub manufacturer: Option<String>,
    pub series_number: Option<i64>,
    pub series_description: Option<String>,
    pub protocol_name: Option<String>,
    pub image_type: Vec<String>,
    pub instance_number: Option<i64>,
    pub acquisition_number: Option<i64>,
    pub rows: u32,
    pub columns: u32,
    pub frames: u32,
    pub samples_per_pixel: u16,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub pixel_signed: bool,
    pub series_time_s: Option<f64>,
    pub contrast_agent: Option<String>,
    pub contrast_start_time_s: Option<f64>,
    pub repetition_time_ms: Option<f64>,
    pub inversion_time_ms: Option<f64>,
    pub flip_angle_deg: Option<f64>,
    pub sequence_name: Option<String>,
    pub scanning_sequence: Option<String>,
    pub slice_thickness: Option<f64>,
    pub spacing_between_slices: Option<f64>,
    pub echo_number: Option<i64>,
    /// Bytes that are not DICOM elements follow the complete native pixel data (the
    /// structure guard saw them): the pixels are read without a full parse.
    pub junk_after_pixels: bool,
}

/// Per-frame attributes (for single-frame files, frame 0 from the top-level dataset).
#[derive(Debug, Clone)]
pub struct FrameHeader {
    pub frame: u32,
    pub ipp: Option<[f64; 3]>,
    pub iop: Option<[f64; 6]>,
    /// `[row spacing, column spacing]` as in DICOM.
    pub pixel_spacing: Option<[f64; 2]>,
    pub slope: f64,
    pub intercept: f64,
    pub temporal_index: Option<i64>,
    pub acquisition_time_s: Option<f64>,
    pub content_time_s: Option<f64>,
    pub trigger_time_ms: Option<f64>,
    pub echo_time_ms: Option<f64>,
    pub b_value: Option<f64>,
    /// Stack ID + in-stack position, for enhanced files holding several stacks.
    pub stack_id: Option<String>,
}

/// Header of one file with its frames.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub header: FileHeader,
    pub frames: Vec<FrameHeader>,
}

/// Element value as text. Values of VR UN (explicit VR files written without the tag in
/// the writer's dictionary) are raw bytes: read them as the string they are.
fn raw_text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let e = obj.get(tag)?;
    if e.vr() == VR::UN {
        let b = e.to_bytes().ok()?;
        return Some(String::from_utf8_lossy(&b).into_owned());
    }
    e.to_str().ok().map(|s| s.into_owned())
}

pub(crate) fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let s = raw_text(obj, tag)?;
    let t = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

fn floats(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<f64>> {
    let e = obj.get(tag)?;
    let v = if e.vr() == VR::UN {
        let t = raw_text(obj, tag)?;
        t.trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .split('\\')
            .map(|x| x.trim().parse::<f64>().ok())
            .collect::<Option<Vec<f64>>>()?
    } else {
        e.to_multi_float64().ok()?
    };
    if v.iter().all(|x| x.is_finite()) && !v.is_empty() {
        Some(v)
    } else {
        None
    }
}

fn float(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    floats(obj, tag).map(|v| v[0])
}

fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    let e = obj.get(tag)?;
    if e.vr() == VR::UN {
        return text(obj, tag).and_then(|t| t.split('\\').next().and_then(|x| x.trim().parse().ok()));
    }
    e.to_int::<i64>().ok().or_else(|| {
        // IS written with a decimal point happens in the wild.
        float(obj, tag)
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

fn seq_first(obj: &InMemDicomObject, tag: Tag) -> Option<&InMemDicomObject> {
    obj.get(tag)?.items()?.first()
}

/// DICOM TM (`HHMMSS.FFFFFF`, also the old `HH:MM:SS`) → seconds since midnight.
pub fn parse_tm(s: &str) -> Option<f64> {
    let s: String = s.trim().chars().filter(|&c| c != ':').collect();
    let (int_part, frac) = match s.split_once('.') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (s.clone(), String::new()),
    };
    if int_part.len() < 2 || !int_part.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let num = |a: usize, b: usize| -> Option<f64> {
        int_part
            .get(a..b)
            .map(|x| x.parse::<f64>().ok())
            .unwrap_or(Some(0.0))
    };
    let h = num(0, 2)?;
    let m = num(2, 4)?;
    let sec = num(4, 6)?;
    let f = if frac.is_empty() {
        0.0
    } else {
        format!("0.{frac}").parse::<f64>().ok()?
    };
    if h > 24.0 || m > 59.0 || sec > 60.0 {
        return None;
    }
    Some(h * 3600.0 + m * 60.0 + sec + f)
}

/// DICOM DT (`YYYYMMDDHHMMSS.FFFFFF&ZZXX`) → seconds since midnight of its time part.
fn parse_dt_time(s: &str) -> Option<f64> {
    let s = s.trim();
    let s = s.split(['+', '-']).next()?;
    if s.len() <= 8 {
        return None;
    }
    parse_tm(s.get(8..)?)
}

fn time(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    text(obj, tag).and_then(|t| parse_tm(&t))
}

/// Open one file's header. Errors are the reason text for a [`crate::SkippedFile`].
pub fn read_file(path: &Path, max_file_bytes: u64) -> Result<ParsedFile, String> {
    let md = std::fs::metadata(path).map_err(|e| format!("cannot stat: {e}"))?;
    let file_len = md.len();
    if file_len > max_file_bytes {
        return Err(format!(
            "file is {file_len} bytes, above the limit of {max_file_bytes}"
        ));
    }
    if file_len < 132 {
        return Err(format!("not DICOM: only {file_len} bytes"));
    }
    // Refuse hostile structures (declared lengths past the end, deep nesting, deflate
    // bombs) before the parser allocates for them.
    let found = crate::guard::check_file(path, max_file_bytes)?;
    let obj = OpenFileOptions::new()
        .read_until(tags::PIXEL_DATA)
        .open_file(path)
        .map_err(|e| format!("not readable as DICOM: {}", one_line(&e.to_string())))?;
    let ts = obj.meta().transfer_syntax().to_string();
    let sop_class_uid = obj
        .meta()
        .media_storage_sop_class_uid()
        .trim_end_matches('\0')
        .to_string();
    let mut header = file_header(&obj, path, file_len, ts, sop_class_uid)?;
    header.junk_after_pixels = found.junk_after_pixels;
    let frames = frame_headers(&obj, &header)?;
    Ok(ParsedFile { header, frames })
}

pub(crate) fn one_line(s: &str) -> String {
    s.replace('\n', " ").chars().take(300).collect()
}

fn file_header(
    obj: &InMemDicomObject,
    path: &Path,
    file_len: u64,
    transfer_syntax: String,
    sop_class_uid: String,
) -> Result<FileHeader, String> {
    let modality = text(obj, tags::MODALITY).unwrap_or_else(|| "OT".into());
    let rows = int(obj, tags::ROWS);
    let columns = int(obj, tags::COLUMNS);
    let (rows, columns) = match (rows, columns) {
        (Some(r), Some(c)) if r > 0 && c > 0 && r <= 65535 && c <= 65535 => (r as u32, c as u32),
        (None, _) | (_, None) => {
            let what = match modality.as_str() {
                "SR" => "structured report",
                "PR" => "presentation state",
                "RTSTRUCT" | "RTPLAN" | "RTDOSE" | "RTRECORD" => "radiotherapy object",
                "KO" => "key object selection",
                _ => "non-image object",
            };
            return Err(format!(
                "{what} (modality {modality}, no Rows/Columns): not an image"
            ));
        }
        (Some(r), Some(c)) => return Err(format!("invalid image size {r}×{c}")),
    };
    if modality == "SEG" {
        return Err("DICOM SEG label map, not an image series (pass it with --ivc-mask/--mass-mask)".into());
    }
    let frames = match int(obj, tags::NUMBER_OF_FRAMES) {
        None => 1,
        Some(n) if (1..=1_000_000).contains(&n) => n as u32,
        Some(n) => return Err(format!("invalid NumberOfFrames {n}")),
    };
    let bits_allocated = int(obj, tags::BITS_ALLOCATED).unwrap_or(0);
    if ![8, 16, 32].contains(&bits_allocated) {
        return Err(format!(
            "BitsAllocated {bits_allocated} not supported (8, 16 or 32)"
        ));
    }
    let bits_allocated = bits_allocated as u16;
    let bits_stored = int(obj, tags::BITS_STORED)
        .filter(|&b| b >= 1 && b <= bits_allocated as i64)
        .map(|b| b as u16)
        .unwrap_or(bits_allocated);
    let samples_per_pixel = int(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
    if samples_per_pixel != 1 {
        return Err(format!(
            "colour image (SamplesPerPixel {samples_per_pixel}, {}) refused: colour pixels are not modality \
             values (HU, MR signal); only scalar (monochrome) images form volumes",
            text(obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default()
        ));
    }
    let series_instance_uid = text(obj, tags::SERIES_INSTANCE_UID).unwrap_or_default();
    let sop_instance_uid = text(obj, tags::SOP_INSTANCE_UID).unwrap_or_default();
    let image_type = text(obj, tags::IMAGE_TYPE)
        .map(|t| t.split('\\').map(|p| p.trim().to_uppercase()).collect())
        .unwrap_or_default();
    // B-value and TE may also be per frame; the file-level ones serve as defaults.
    Ok(FileHeader {
        path: path.to_path_buf(),
        file_len,
        transfer_syntax,
        sop_instance_uid,
        sop_class_uid,
        series_instance_uid,
        study_instance_uid: text(obj, tags::STUDY_INSTANCE_UID),
        frame_of_reference_uid: text(obj, tags::FRAME_OF_REFERENCE_UID),
        modality,
        manufacturer: text(obj, tags::MANUFACTURER),
        series_number: int(obj, tags::SERIES_NUMBER),
        series_description: text(obj, tags::SERIES_DESCRIPTION),
        protocol_name: text(obj, tags::PROTOCOL_NAME),
        image_type,
        instance_number: int(obj, tags::INSTANCE_NUMBER),
        acquisition_number: int(obj, tags::ACQUISITION_NUMBER),
        rows,
        columns,
        frames,
        samples_per_pixel: 1,
        bits_allocated,
        bits_stored,
        pixel_signed: int(obj, tags::PIXEL_REPRESENTATION) == Some(1),
        series_time_s: time(obj, tags::SERIES_TIME),
        contrast_agent: text(obj, tags::CONTRAST_BOLUS_AGENT).or_else(|| {
            seq_first(obj, tags::CONTRAST_BOLUS_AGENT_SEQUENCE).and_then(|s| text(s, tags::CODE_MEANING))
        }),
        contrast_start_time_s: time(obj, tags::CONTRAST_BOLUS_START_TIME),
        repetition_time_ms: float(obj, tags::REPETITION_TIME),
        inversion_time_ms: float(obj, tags::INVERSION_TIME),
        flip_angle_deg: float(obj, tags::FLIP_ANGLE),
        sequence_name: text(obj, tags::SEQUENCE_NAME),
        scanning_sequence: text(obj, tags::SCANNING_SEQUENCE),
        slice_thickness: float(obj, tags::SLICE_THICKNESS),
        spacing_between_slices: float(obj, tags::SPACING_BETWEEN_SLICES),
        echo_number: int(obj, tags::ECHO_NUMBERS),
        junk_after_pixels: false,
    })
}

/// B-value from the standard tag, then vendor private tags.
fn b_value(obj: &InMemDicomObject, manufacturer: Option<&str>) -> Option<f64> {
    if let Some(b) = float(obj, tags::DIFFUSION_B_VALUE) {
        return Some(b);
    }
    let m = manufacturer.unwrap_or("").to_uppercase();
    if m.contains("SIEMENS") {
        float(obj, Tag(0x0019, 0x100C))
    } else if m.contains("GE") {
        // GE (0043,1039): first value is the b-value, sometimes plus 1e9 (slop).
        float(obj, Tag(0x0043, 0x1039)).map(|b| if b >= 1e9 { b % 1e9 } else { b })
    } else if m.contains("PHILIPS") {
        float(obj, Tag(0x2001, 0x1003))
    } else {
        None
    }
}

fn fixed<const N: usize>(v: Option<Vec<f64>>) -> Option<[f64; N]> {
    let v = v?;
    if v.len() < N {
        return None;
    }
    let mut a = [0.0; N];
    a.copy_from_slice(&v[..N]);
    Some(a)
}

fn frame_headers(obj: &InMemDicomObject, h: &FileHeader) -> Result<Vec<FrameHeader>, String> {
    let top = FrameHeader {
        frame: 0,
        ipp: fixed(floats(obj, tags::IMAGE_POSITION_PATIENT)),
        iop: fixed(floats(obj, tags::IMAGE_ORIENTATION_PATIENT)),
        pixel_spacing: fixed(floats(obj, tags::PIXEL_SPACING)),
        slope: float(obj, tags::RESCALE_SLOPE)
            .filter(|s| *s != 0.0)
            .unwrap_or(1.0),
        intercept: float(obj, tags::RESCALE_INTERCEPT).unwrap_or(0.0),
        temporal_index: int(obj, tags::TEMPORAL_POSITION_IDENTIFIER),
        acquisition_time_s: time(obj, tags::ACQUISITION_TIME)
            .or_else(|| text(obj, tags::ACQUISITION_DATE_TIME).and_then(|t| parse_dt_time(&t))),
        content_time_s: time(obj, tags::CONTENT_TIME),
        trigger_time_ms: float(obj, tags::TRIGGER_TIME),
        echo_time_ms: float(obj, tags::ECHO_TIME),
        b_value: b_value(obj, h.manufacturer.as_deref()),
        stack_id: None,
    };
    let per_frame = obj
        .get(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE)
        .and_then(|e| e.items());
    let shared = seq_first(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE);
    if h.frames == 1 && per_frame.is_none() {
        return Ok(vec![top]);
    }
    if let Some(pf) = per_frame {
        if pf.len() != h.frames as usize {
            return Err(format!(
                "PerFrameFunctionalGroupsSequence has {} items for {} frames",
                pf.len(),
                h.frames
            ));
        }
    }
    if per_frame.is_none() && shared.is_none() {
        return Ok(legacy_frames(obj, h, top));
    }
    let mut out = Vec::with_capacity(h.frames as usize);
    for f in 0..h.frames {
        let item = per_frame.and_then(|pf| pf.get(f as usize));
        // A functional group macro: per-frame item first, then shared.
        let group = |tag: Tag| -> Option<&InMemDicomObject> {
            item.and_then(|i| seq_first(i, tag))
                .or_else(|| shared.and_then(|s| seq_first(s, tag)))
        };
        let mut fr = top.clone();
        fr.frame = f;
        if let Some(g) = group(tags::PLANE_POSITION_SEQUENCE) {
            fr.ipp = fixed(floats(g, tags::IMAGE_POSITION_PATIENT)).or(fr.ipp);
        }
        if let Some(g) = group(tags::PLANE_ORIENTATION_SEQUENCE) {
            fr.iop = fixed(floats(g, tags::IMAGE_ORIENTATION_PATIENT)).or(fr.iop);
        }
        if let Some(g) = group(tags::PIXEL_MEASURES_SEQUENCE) {
            fr.pixel_spacing = fixed(floats(g, tags::PIXEL_SPACING)).or(fr.pixel_spacing);
        }
        if let Some(g) = group(tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE) {
            if let Some(s) = float(g, tags::RESCALE_SLOPE).filter(|s| *s != 0.0) {
                fr.slope = s;
            }
            if let Some(i) = float(g, tags::RESCALE_INTERCEPT) {
                fr.intercept = i;
            }
        }
        if let Some(g) = group(tags::FRAME_CONTENT_SEQUENCE) {
            fr.temporal_index = int(g, tags::TEMPORAL_POSITION_INDEX).or(fr.temporal_index);
            fr.acquisition_time_s = text(g, tags::FRAME_ACQUISITION_DATE_TIME)
                .and_then(|t| parse_dt_time(&t))
                .or(fr.acquisition_time_s);
            fr.stack_id = text(g, tags::STACK_ID);
        }
        if let Some(g) = group(tags::MR_ECHO_SEQUENCE) {
            fr.echo_time_ms = float(g, tags::EFFECTIVE_ECHO_TIME).or(fr.echo_time_ms);
        }
        if let Some(g) = group(tags::MR_DIFFUSION_SEQUENCE) {
            fr.b_value = float(g, tags::DIFFUSION_B_VALUE).or(fr.b_value);
        }
        if let Some(g) = group(tags::CARDIAC_SYNCHRONIZATION_SEQUENCE) {
            fr.trigger_time_ms = float(g, tags::NOMINAL_CARDIAC_TRIGGER_DELAY_TIME).or(fr.trigger_time_ms);
        }
        out.push(fr);
    }
    Ok(out)
}

/// Multi-frame without functional groups: frames share the top-level attributes; an
/// RT Dose grid places frame k at `IPP + normal · GridFrameOffsetVector[k]`.
fn legacy_frames(obj: &InMemDicomObject, h: &FileHeader, top: FrameHeader) -> Vec<FrameHeader> {
    let offsets = floats(obj, Tag(0x3004, 0x000C)).filter(|o| o.len() == h.frames as usize);
    let normal = top.iop.and_then(|iop| normal_of(&iop));
    (0..h.frames)
        .map(|f| {
            let mut fr = top.clone();
            fr.frame = f;
            if let (Some(o), Some(n), Some(p)) = (&offsets, normal, top.ipp) {
                let d = o[f as usize];
                fr.ipp = Some([p[0] + n.x * d, p[1] + n.y * d, p[2] + n.z * d]);
            }
            fr
        })
        .collect()
}

/// Unit normal of an IOP (row × column), `None` when degenerate.
pub fn normal_of(iop: &[f64; 6]) -> Option<Vector3<f64>> {
    let r = Vector3::new(iop[0], iop[1], iop[2]);
    let c = Vector3::new(iop[3], iop[4], iop[5]);
    if (r.norm() - 1.0).abs() > 0.01 || (c.norm() - 1.0).abs() > 0.01 || r.dot(&c).abs() > 0.01 {
        return None;
    }
    let n = r.cross(&c);
    let len = n.norm();
    if len < 0.5 {
        None
    } else {
        Some(n / len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tm_parsing() {
        assert_eq!(parse_tm("101530"), Some(10.0 * 3600.0 + 15.0 * 60.0 + 30.0));
        assert_eq!(parse_tm("10:15:30.5"), Some(36930.5));
        assert_eq!(parse_tm("1015"), Some(36900.0));
        assert_eq!(parse_tm("xx"), None);
        assert_eq!(parse_tm("996000"), None);
        assert_eq!(parse_dt_time("20240101101530.25+0100"), Some(36930.25));
        // Hostile text never panics (multi-byte characters at the slice boundary).
        assert_eq!(parse_dt_time("2024010\u{e9}1015"), None);
        assert_eq!(parse_tm("\u{e9}\u{e9}"), None);
    }
}
