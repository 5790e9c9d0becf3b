//! BIDS JSON sidecars as dcm2niix writes them (`dcm2niix -b y`): the keys and units of
//! the BIDS specification — times in seconds, `AcquisitionTime` as `HH:MM:SS.ffffff` —
//! so BIDS validators, heudiconv-style pipelines and cavascope itself read the same file.
//!
//! [`bids_fields`] gives the BIDS keys of a series (writer side: `cavascope convert`);
//! [`read_sidecar`] reads a sidecar written by cavascope or by dcm2niix back into a
//! [`VolumeMeta`] (for NIfTI input: `x.nii.gz` → `x.json`, see [`sidecar_path`]).
//! cavascope's own keys (snake_case: `series_instance_uid`, `affine_lps`, …) sit beside
//! the BIDS keys in the same object; BIDS tools ignore keys they do not know.

use crate::{VolumeError, VolumeMeta};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// The BIDS keys cavascope writes, in dcm2niix's order, with their DICOM source and unit.
/// (Documented in docs/ingest.md; a key whose DICOM value is absent is left out, as
/// dcm2niix does.)
pub const BIDS_KEYS: &[(&str, &str)] = &[
    ("Modality", "(0008,0060)"),
    ("Manufacturer", "(0008,0070)"),
    ("SeriesDescription", "(0008,103E)"),
    ("ProtocolName", "(0018,1030)"),
    ("ScanningSequence", "(0018,0020)"),
    ("SequenceName", "(0018,0024)"),
    ("ImageType", "(0008,0008), array"),
    ("SeriesNumber", "(0020,0011)"),
    (
        "AcquisitionTime",
        "(0008,0032) of the first slice in time, HH:MM:SS.ffffff",
    ),
    ("AcquisitionNumber", "(0020,0012)"),
    ("ContrastBolusAgent", "(0018,0010)"),
    ("SliceThickness", "(0018,0050), mm"),
    ("EchoTime", "(0018,0081), s"),
    ("RepetitionTime", "(0018,0080), s"),
    ("InversionTime", "(0018,0082), s"),
    ("FlipAngle", "(0018,1314), degrees"),
    (
        "ImageOrientationPatientDICOM",
        "(0020,0037) of the volume's row and column axes",
    ),
    ("ConversionSoftware", "\"cavascope\""),
    ("ConversionSoftwareVersion", "the crate version"),
];

/// Seconds since midnight → `HH:MM:SS.ffffff` (dcm2niix's AcquisitionTime form).
pub fn format_time(s: f64) -> String {
    let micros = (s * 1e6).round() as i64;
    let (h, rem) = (micros / 3_600_000_000, micros % 3_600_000_000);
    let (m, rem) = (rem / 60_000_000, rem % 60_000_000);
    format!("{h:02}:{m:02}:{:02}.{:06}", rem / 1_000_000, rem % 1_000_000)
}

/// `HH:MM:SS[.f]` (also DICOM's `HHMMSS[.f]`) → seconds since midnight.
pub fn parse_time(t: &str) -> Option<f64> {
    let t = t.trim();
    let (hms, frac) = t.split_once('.').unwrap_or((t, ""));
    let parts: Vec<&str> = if hms.contains(':') {
        hms.split(':').collect()
    } else if hms.len() == 6 && hms.is_ascii() {
        vec![&hms[..2], &hms[2..4], &hms[4..]]
    } else {
        return None;
    };
    let [h, m, s] = parts[..] else { return None };
    let (h, m, s): (f64, f64, f64) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
    let f: f64 = if frac.is_empty() {
        0.0
    } else {
        format!("0.{frac}").parse().ok()?
    };
    (h < 24.0 && m < 60.0 && s < 61.0).then_some(h * 3600.0 + m * 60.0 + s + f)
}

/// dcm2niix's vendor names ("SIEMENS" → "Siemens", "GE MEDICAL SYSTEMS" → "GE", …); any
/// other manufacturer as DICOM gives it.
pub fn manufacturer(dicom: &str) -> String {
    let u = dicom.trim().to_ascii_uppercase();
    const VENDORS: &[(&str, &str)] = &[
        ("SIEMENS", "Siemens"),
        ("PHILIPS", "Philips"),
        ("TOSHIBA", "Toshiba"),
        ("CANON", "Canon"),
        ("HITACHI", "Hitachi"),
        ("BRUKER", "Bruker"),
        ("MEDISO", "Mediso"),
        ("UNITED IMAGING", "UIH"),
        ("UIH", "UIH"),
    ];
    if let Some((_, name)) = VENDORS.iter().find(|(k, _)| u.contains(k)) {
        return name.to_string();
    }
    if u == "GE" || u.starts_with("GE ") || u.contains("GE MEDICAL") || u.contains("GE HEALTHCARE") {
        return "GE".into();
    }
    dicom.trim().to_string()
}

/// The BIDS keys of a series. `orientation` is DICOM ImageOrientationPatient (row then
/// column direction cosines, LPS), when the volume has a geometry.
pub fn bids_fields(meta: &VolumeMeta, orientation: Option<[f64; 6]>) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let text = |s: &Option<String>| s.as_ref().filter(|s| !s.is_empty()).map(|s| json!(s));
    // Milliseconds → seconds, rounded to dcm2niix's precision (µs) so 2.79 ms is 0.00279.
    let secs = |ms: Option<f64>| {
        ms.filter(|v| v.is_finite())
            .map(|v| json!((v * 1000.0).round() / 1e6))
    };
    put(
        "Modality",
        (!meta.modality.is_empty()).then(|| json!(meta.modality)),
    );
    put(
        "Manufacturer",
        meta.manufacturer.as_deref().map(manufacturer).map(|m| json!(m)),
    );
    put("SeriesDescription", text(&meta.series_description));
    put("ProtocolName", text(&meta.protocol_name));
    put("ScanningSequence", text(&meta.scanning_sequence));
    put("SequenceName", text(&meta.sequence_name));
    put(
        "ImageType",
        (!meta.image_type.is_empty()).then(|| json!(meta.image_type)),
    );
    put("SeriesNumber", meta.series_number.map(|n| json!(n)));
    put(
        "AcquisitionTime",
        meta.acquisition_time_s
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(|t| json!(format_time(t))),
    );
    put("AcquisitionNumber", meta.acquisition_number.map(|n| json!(n)));
    put("ContrastBolusAgent", text(&meta.contrast_agent));
    put(
        "SliceThickness",
        meta.slice_thickness_mm
            .filter(|v| v.is_finite())
            .map(|v| json!(v)),
    );
    put("EchoTime", secs(meta.echo_time_ms));
    put("RepetitionTime", secs(meta.repetition_time_ms));
    put("InversionTime", secs(meta.inversion_time_ms));
    put(
        "FlipAngle",
        meta.flip_angle_deg.filter(|v| v.is_finite()).map(|v| json!(v)),
    );
    put(
        "ImageOrientationPatientDICOM",
        orientation.map(|o| json!(o.map(|v| (v * 1e6).round() / 1e6))),
    );
    put("ConversionSoftware", Some(json!("cavascope")));
    put(
        "ConversionSoftwareVersion",
        Some(json!(env!("CARGO_PKG_VERSION"))),
    );
    m
}

/// The sidecar of a NIfTI file: `x.nii.gz` or `x.nii` → `x.json`.
pub fn sidecar_path(nifti: &Path) -> PathBuf {
    let name = nifti
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".nii.gz")
        .or_else(|| name.strip_suffix(".nii"))
        .unwrap_or(&name);
    nifti.with_file_name(format!("{stem}.json"))
}

/// Read a sidecar written by cavascope `convert` or by dcm2niix into series metadata.
/// BIDS keys are read in BIDS units (seconds); cavascope's `series_instance_uid`,
/// `temporal_index` and `b_value` when present. Unknown keys are ignored; a key of the
/// wrong type is an error naming it (a sidecar is small and hand-edited at times).
pub fn read_sidecar(path: &Path) -> Result<VolumeMeta, VolumeError> {
    let err = |why: String| VolumeError::Sidecar {
        path: path.to_path_buf(),
        why,
    };
    let text = std::fs::read_to_string(path).map_err(|source| VolumeError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let v: Value = serde_json::from_str(&text).map_err(|e| err(format!("not JSON: {e}")))?;
    let o = v.as_object().ok_or_else(|| err("not a JSON object".into()))?;
    parse_fields(o).map_err(err)
}

/// [`read_sidecar`] on an already parsed object.
pub fn parse_fields(o: &Map<String, Value>) -> Result<VolumeMeta, String> {
    let s = |k: &str| -> Result<Option<String>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            // dcm2niix writes some numeric-looking DICOM strings as numbers.
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(format!("{k}: text expected")),
        }
    };
    let f = |k: &str| -> Result<Option<f64>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| format!("{k}: number expected")),
        }
    };
    let i = |k: &str| -> Result<Option<i64>, String> {
        match f(k)? {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => Ok(Some(x as i64)),
            Some(_) => Err(format!("{k}: integer expected")),
            None => Ok(None),
        }
    };
    let ms = |k: &str| f(k).map(|v| v.map(|s| s * 1000.0));
    let image_type = match o.get("ImageType") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or("ImageType: text items expected")
            })
            .collect::<Result<_, _>>()?,
        // A single DICOM-style value "ORIGINAL\PRIMARY\AXIAL".
        Some(Value::String(t)) => t.split('\\').map(str::to_string).collect(),
        Some(_) => return Err("ImageType: array expected".into()),
    };
    let acquisition_time_s = match s("AcquisitionTime")? {
        Some(t) => Some(parse_time(&t).ok_or_else(|| format!("AcquisitionTime {t:?}: HH:MM:SS.f expected"))?),
        None => None,
    };
    Ok(VolumeMeta {
        modality: s("Modality")?.unwrap_or_default(),
        series_instance_uid: s("series_instance_uid")?
            .or(s("SeriesInstanceUID")?)
            .unwrap_or_default(),
        study_instance_uid: s("StudyInstanceUID")?,
        frame_of_reference_uid: None,
        series_number: i("SeriesNumber")?,
        series_description: s("SeriesDescription")?,
        protocol_name: s("ProtocolName")?,
        image_type,
        acquisition_time_s,
        contrast_agent: s("ContrastBolusAgent")?,
        contrast_start_time_s: None,
        echo_time_ms: ms("EchoTime")?,
        repetition_time_ms: ms("RepetitionTime")?,
        inversion_time_ms: ms("InversionTime")?,
        flip_angle_deg: f("FlipAngle")?,
        b_value: f("b_value")?,
        sequence_name: s("SequenceName")?,
        scanning_sequence: s("ScanningSequence")?,
        manufacturer: s("Manufacturer")?,
        temporal_index: i("temporal_index")?,
        files: Vec::new(),
        slice_thickness_mm: f("SliceThickness")?,
        acquisition_number: i("AcquisitionNumber")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_dcm2niix_form() {
        assert_eq!(format_time(11.0 * 3600.0 + 29.0 * 60.0 + 36.0), "11:29:36.000000");
        assert_eq!(format_time(13.0 * 3600.0 + 53.0 * 60.0 + 56.9), "13:53:56.900000");
        assert_eq!(parse_time("13:53:56.900000"), Some(50036.9));
        assert_eq!(parse_time("135356.9"), Some(50036.9));
        assert_eq!(parse_time("25:00:00"), None);
        assert_eq!(parse_time("noon"), None);
    }

    #[test]
    fn write_then_read_keeps_the_values_in_bids_units() {
        let meta = VolumeMeta {
            modality: "MR".into(),
            series_instance_uid: "1.2.3".into(),
            series_number: Some(7),
            series_description: Some("t1_vibe_fs_tra_art".into()),
            image_type: vec!["ORIGINAL".into(), "PRIMARY".into()],
            acquisition_time_s: Some(36000.25),
            contrast_agent: Some("Gadovist".into()),
            echo_time_ms: Some(2.79),
            repetition_time_ms: Some(6.3),
            flip_angle_deg: Some(10.0),
            slice_thickness_mm: Some(3.0),
            ..Default::default()
        };
        let m = bids_fields(&meta, Some([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]));
        assert_eq!(m["EchoTime"], json!(0.00279));
        assert_eq!(m["RepetitionTime"], json!(0.0063));
        assert_eq!(m["AcquisitionTime"], json!("10:00:00.250000"));
        assert_eq!(m["ImageType"], json!(["ORIGINAL", "PRIMARY"]));
        assert!(!m.contains_key("InversionTime"), "absent values are left out");
        let back = parse_fields(&m).unwrap();
        assert_eq!(back.echo_time_ms, Some(2.79));
        assert_eq!(back.acquisition_time_s, Some(36000.25));
        assert_eq!(back.contrast_agent.as_deref(), Some("Gadovist"));
        assert_eq!(back.series_number, Some(7));
        assert_eq!(back.image_type, meta.image_type);
        let mut bad = m.clone();
        bad.insert("EchoTime".into(), json!("short"));
        assert!(parse_fields(&bad).unwrap_err().contains("EchoTime"));
        assert_eq!(
            sidecar_path(Path::new("/a/b/301_ART.nii.gz")),
            Path::new("/a/b/301_ART.json")
        );
        assert_eq!(sidecar_path(Path::new("x.nii")), Path::new("x.json"));
        assert_eq!(manufacturer("SIEMENS"), "Siemens");
        assert_eq!(manufacturer("GE MEDICAL SYSTEMS"), "GE");
        assert_eq!(manufacturer("Philips Medical Systems"), "Philips");
        assert_eq!(manufacturer("cavascope phantom"), "cavascope phantom");
    }
}
