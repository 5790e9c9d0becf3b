//! Writing a phantom study as DICOM files with `truth.json` beside them.

use crate::protocol::{SeriesKind, SeriesSpec, STUDY_TIME_S};
use crate::{PhantomError, PhantomStudy};
use cavascope_volume::{Geometry, Volume};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::InMemDicomObject;
use nalgebra::{Point3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Transfer syntax of the written files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferSyntax {
    /// Explicit VR Little Endian.
    ExplicitLE,
    /// Implicit VR Little Endian.
    ImplicitLE,
    /// Deflated Explicit VR Little Endian.
    Deflate,
    /// JPEG-LS Lossless (the project's own encoder).
    JpegLsLossless,
}

/// File layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// `series_NN_role/IMG0001.dcm`.
    Ordered,
    /// Random-looking nested folders and names without extension, as a PACS export.
    PacsRandomNested,
}

/// How a study is written as DICOM files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteOptions {
    /// Encoding of every image file.
    pub transfer_syntax: TransferSyntax,
    /// Folder and file names.
    pub naming: Naming,
    /// Add non-DICOM files, a truncated file, a duplicate and a localizer.
    pub junk: bool,
    /// CT pixels as signed 16-bit (PixelRepresentation 1) rather than unsigned; both use
    /// RescaleIntercept −1024.
    pub signed_ct: bool,
}

impl TransferSyntax {
    /// The transfer syntax UID.
    pub fn uid(&self) -> &'static str {
        match self {
            TransferSyntax::ExplicitLE => uids::EXPLICIT_VR_LITTLE_ENDIAN,
            TransferSyntax::ImplicitLE => uids::IMPLICIT_VR_LITTLE_ENDIAN,
            TransferSyntax::Deflate => uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
            TransferSyntax::JpegLsLossless => uids::JPEGLS_LOSSLESS,
        }
    }

    /// Parse a command-line name (`explicit`, `implicit`, `deflate`, `jpegls`).
    pub fn parse(s: &str) -> Option<TransferSyntax> {
        match s.trim().to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "explicit" | "explicitle" | "explicitvrle" => Some(TransferSyntax::ExplicitLE),
            "implicit" | "implicitle" | "implicitvrle" => Some(TransferSyntax::ImplicitLE),
            "deflate" | "deflated" => Some(TransferSyntax::Deflate),
            "jpegls" | "jpeglslossless" | "jls" => Some(TransferSyntax::JpegLsLossless),
            _ => None,
        }
    }
}

impl Naming {
    /// Parse a command-line name (`ordered`, `pacs`).
    pub fn parse(s: &str) -> Option<Naming> {
        match s.trim().to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "ordered" => Some(Naming::Ordered),
            "pacs" | "pacsrandomnested" | "random" => Some(Naming::PacsRandomNested),
            _ => None,
        }
    }
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            transfer_syntax: TransferSyntax::ExplicitLE,
            naming: Naming::Ordered,
            junk: false,
            signed_ct: false,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenStudy {
    /// The study folder.
    pub dir: PathBuf,
    /// `truth.json` in it.
    pub truth_path: PathBuf,
    /// Image files per series (same order as the study's volumes), in slice order.
    pub series_files: Vec<Vec<PathBuf>>,
    /// Junk files added on purpose.
    pub junk_files: Vec<PathBuf>,
}

/// Write bytes to `path` via a temporary name in the same folder, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PhantomError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| PhantomError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| PhantomError::io(path, e))
}

/// Write the study's DICOM files and `truth.json` into `out_dir` (created if needed).
/// Each file is written under a temporary name and renamed.
pub fn write_study(
    study: &PhantomStudy,
    out_dir: &Path,
    w: &WriteOptions,
) -> Result<WrittenStudy, PhantomError> {
    std::fs::create_dir_all(out_dir).map_err(|e| PhantomError::io(out_dir, e))?;
    let mut rng = ChaCha8Rng::seed_from_u64(study.options.seed ^ 0x00D1_C0DE ^ ((study.case as u64) << 48));
    // Plan every file first (names and SOP UIDs), then write in parallel.
    let mut plans = Vec::new();
    let mut series_files = Vec::new();
    for (s, vol) in study.volumes.iter().enumerate() {
        let mut files = Vec::new();
        for k in 0..vol.shape()[0] {
            let path = match w.naming {
                Naming::Ordered => out_dir
                    .join(format!("series_{:02}_{}", s + 1, study.specs[s].role))
                    .join(format!("IMG{:04}.dcm", k + 1)),
                Naming::PacsRandomNested => {
                    let a: u32 = rng.random_range(0..6);
                    let b: u32 = rng.random::<u32>() % 12;
                    let n: u64 = rng.random();
                    out_dir
                        .join("DICOM")
                        .join(format!("{:08X}", 0x1A2B_0000u32 + a))
                        .join(format!("{:08X}", 0x3C00_0000u32 + b))
                        .join(format!("{:016X}", n))
                }
            };
            plans.push(FilePlan {
                series: s,
                slice: k,
                path: path.clone(),
                sop_uid: crate::uid(&mut rng),
            });
            files.push(path);
        }
        series_files.push(files);
    }
    let dirs: std::collections::BTreeSet<PathBuf> = plans
        .iter()
        .filter_map(|p| p.path.parent().map(Path::to_path_buf))
        .collect();
    for d in &dirs {
        std::fs::create_dir_all(d).map_err(|e| PhantomError::io(d, e))?;
    }
    plans
        .par_iter()
        .map(|p| {
            let obj = image_object(study, p.series, p.slice, &p.sop_uid, w)?;
            write_object(obj, &p.path, w.transfer_syntax)
        })
        .collect::<Result<Vec<()>, PhantomError>>()?;

    let mut junk_files = Vec::new();
    if w.junk {
        junk_files = write_junk(study, out_dir, w, &series_files, &mut rng)?;
    }
    let truth_path = out_dir.join("truth.json");
    study.truth.save(&truth_path)?;
    Ok(WrittenStudy {
        dir: out_dir.to_path_buf(),
        truth_path,
        series_files,
        junk_files,
    })
}

struct FilePlan {
    series: usize,
    slice: usize,
    path: PathBuf,
    sop_uid: String,
}

fn ds(v: f64) -> String {
    // DS allows 16 characters: 6 decimals keep sub-micrometre precision in that budget.
    let s = format!("{:.6}", v);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

fn ds_multi(v: &[f64]) -> String {
    v.iter().map(|x| ds(*x)).collect::<Vec<_>>().join("\\")
}

/// Seconds since midnight → DICOM TM.
fn tm(t: f64) -> String {
    let t = t.rem_euclid(86_400.0);
    let h = (t / 3600.0).floor();
    let m = ((t - h * 3600.0) / 60.0).floor();
    let s = t - h * 3600.0 - m * 60.0;
    format!("{:02}{:02}{:09.6}", h as u32, m as u32, s)
}

const STUDY_DATE: &str = "20260315";

pub(crate) fn put_str(o: &mut InMemDicomObject, tag: dicom_core::Tag, vr: VR, v: impl Into<String>) {
    o.put(DataElement::new(tag, vr, PrimitiveValue::from(v.into())));
}

pub(crate) fn put_u16(o: &mut InMemDicomObject, tag: dicom_core::Tag, v: u16) {
    o.put(DataElement::new(tag, VR::US, PrimitiveValue::from(v)));
}

pub(crate) fn put_seq(o: &mut InMemDicomObject, tag: dicom_core::Tag, items: Vec<InMemDicomObject>) {
    o.put(DataElement::new(
        tag,
        VR::SQ,
        dicom_core::value::DataSetSequence::from(items),
    ));
}

/// Attributes every image of a series shares, for a given geometry.
#[allow(clippy::too_many_arguments)]
fn common_object(
    study: &PhantomStudy,
    spec: &SeriesSpec,
    modality: &str,
    series_uid: &str,
    series_number: i64,
    sop_uid: &str,
    image_type: &str,
) -> InMemDicomObject {
    let mut o = InMemDicomObject::new_empty();
    let sop_class = if modality == "CT" {
        uids::CT_IMAGE_STORAGE
    } else {
        uids::MR_IMAGE_STORAGE
    };
    put_str(&mut o, tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100");
    put_str(&mut o, tags::IMAGE_TYPE, VR::CS, image_type);
    put_str(&mut o, tags::SOP_CLASS_UID, VR::UI, sop_class);
    put_str(&mut o, tags::SOP_INSTANCE_UID, VR::UI, sop_uid);
    put_str(&mut o, tags::STUDY_DATE, VR::DA, STUDY_DATE);
    put_str(&mut o, tags::SERIES_DATE, VR::DA, STUDY_DATE);
    put_str(&mut o, tags::ACQUISITION_DATE, VR::DA, STUDY_DATE);
    put_str(&mut o, tags::CONTENT_DATE, VR::DA, STUDY_DATE);
    put_str(&mut o, tags::STUDY_TIME, VR::TM, tm(STUDY_TIME_S));
    put_str(&mut o, tags::SERIES_TIME, VR::TM, tm(spec.acquisition_time_s));
    put_str(
        &mut o,
        tags::ACQUISITION_TIME,
        VR::TM,
        tm(spec.acquisition_time_s),
    );
    put_str(&mut o, tags::CONTENT_TIME, VR::TM, tm(spec.acquisition_time_s));
    put_str(
        &mut o,
        tags::ACCESSION_NUMBER,
        VR::SH,
        format!("CS{:08}", study.options.seed % 100_000_000),
    );
    put_str(&mut o, tags::MODALITY, VR::CS, modality);
    put_str(&mut o, tags::BODY_PART_EXAMINED, VR::CS, "ABDOMEN");
    put_str(&mut o, tags::MANUFACTURER, VR::LO, "cavascope phantom");
    put_str(&mut o, tags::INSTITUTION_NAME, VR::LO, "cavascope");
    put_str(&mut o, tags::REFERRING_PHYSICIAN_NAME, VR::PN, "");
    put_str(
        &mut o,
        tags::STUDY_DESCRIPTION,
        VR::LO,
        format!("PHANTOM {}", study.case.as_str().to_uppercase()),
    );
    put_str(&mut o, tags::SERIES_DESCRIPTION, VR::LO, spec.description.clone());
    put_str(&mut o, tags::MANUFACTURER_MODEL_NAME, VR::LO, "digital phantom");
    put_str(
        &mut o,
        tags::PATIENT_NAME,
        VR::PN,
        format!("PHANTOM^{}", study.case.as_str().to_uppercase()),
    );
    put_str(
        &mut o,
        tags::PATIENT_ID,
        VR::LO,
        format!("CAVASCOPE-{}-{}", study.case.as_str(), study.options.seed),
    );
    put_str(&mut o, tags::PATIENT_BIRTH_DATE, VR::DA, "19640101");
    put_str(&mut o, tags::PATIENT_SEX, VR::CS, "F");
    put_str(&mut o, tags::PATIENT_AGE, VR::AS, "062Y");
    put_str(&mut o, tags::PROTOCOL_NAME, VR::LO, spec.protocol_name.clone());
    put_str(&mut o, tags::PATIENT_POSITION, VR::CS, "FFS");
    put_str(
        &mut o,
        tags::STUDY_INSTANCE_UID,
        VR::UI,
        study.study_instance_uid.clone(),
    );
    put_str(&mut o, tags::SERIES_INSTANCE_UID, VR::UI, series_uid);
    put_str(&mut o, tags::STUDY_ID, VR::SH, "1");
    put_str(&mut o, tags::SERIES_NUMBER, VR::IS, series_number.to_string());
    put_str(&mut o, tags::ACQUISITION_NUMBER, VR::IS, "1");
    put_str(
        &mut o,
        tags::FRAME_OF_REFERENCE_UID,
        VR::UI,
        study.frame_of_reference_uid.clone(),
    );
    put_str(&mut o, tags::POSITION_REFERENCE_INDICATOR, VR::LO, "");
    if let Some(agent) = &spec.contrast_agent {
        put_str(&mut o, tags::CONTRAST_BOLUS_AGENT, VR::LO, agent.clone());
        put_str(&mut o, tags::CONTRAST_BOLUS_ROUTE, VR::LO, "IV");
        if let Some(t) = spec.contrast_start_time_s {
            put_str(&mut o, tags::CONTRAST_BOLUS_START_TIME, VR::TM, tm(t));
        }
    }
    o
}

/// Image plane and pixel attributes of one slice of `geometry`, with its pixels.
#[allow(clippy::too_many_arguments)]
fn put_plane_and_pixels(
    o: &mut InMemDicomObject,
    geometry: &Geometry,
    k: usize,
    thickness: f64,
    rows: usize,
    cols: usize,
    pixels: &[f32],
    ct: bool,
    signed_ct: bool,
) {
    let ipp = geometry.index_to_world([0.0, 0.0, k as f64]);
    let r = geometry.direction(0);
    let c = geometry.direction(1);
    let sp = geometry.spacing();
    put_str(
        o,
        tags::IMAGE_POSITION_PATIENT,
        VR::DS,
        ds_multi(&[ipp.x, ipp.y, ipp.z]),
    );
    put_str(
        o,
        tags::IMAGE_ORIENTATION_PATIENT,
        VR::DS,
        ds_multi(&[r.x, r.y, r.z, c.x, c.y, c.z]),
    );
    // PixelSpacing is row spacing (between rows, along j) then column spacing.
    put_str(o, tags::PIXEL_SPACING, VR::DS, ds_multi(&[sp[1], sp[0]]));
    put_str(o, tags::SLICE_THICKNESS, VR::DS, ds(thickness));
    let n = geometry.normal();
    put_str(o, tags::SLICE_LOCATION, VR::DS, ds(ipp.coords.dot(&n)));
    put_u16(o, tags::SAMPLES_PER_PIXEL, 1);
    put_str(o, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    put_u16(o, tags::ROWS, rows as u16);
    put_u16(o, tags::COLUMNS, cols as u16);
    put_u16(o, tags::BITS_ALLOCATED, 16);
    let mut bytes = Vec::with_capacity(pixels.len() * 2);
    if ct {
        let (bits, rep) = if signed_ct { (16, 1) } else { (12, 0) };
        put_u16(o, tags::BITS_STORED, bits);
        put_u16(o, tags::HIGH_BIT, bits - 1);
        put_u16(o, tags::PIXEL_REPRESENTATION, rep);
        put_str(o, tags::RESCALE_INTERCEPT, VR::DS, "-1024");
        put_str(o, tags::RESCALE_SLOPE, VR::DS, "1");
        put_str(o, tags::RESCALE_TYPE, VR::LO, "HU");
        put_str(o, tags::WINDOW_CENTER, VR::DS, "40");
        put_str(o, tags::WINDOW_WIDTH, VR::DS, "400");
        for v in pixels {
            let stored = (v.round() + 1024.0).clamp(0.0, 4095.0);
            if signed_ct {
                bytes.extend_from_slice(&(stored as i16).to_le_bytes());
            } else {
                bytes.extend_from_slice(&(stored as u16).to_le_bytes());
            }
        }
    } else {
        put_u16(o, tags::BITS_STORED, 12);
        put_u16(o, tags::HIGH_BIT, 11);
        put_u16(o, tags::PIXEL_REPRESENTATION, 0);
        let mx = pixels.iter().fold(1.0f32, |a, b| a.max(*b));
        put_str(o, tags::WINDOW_CENTER, VR::DS, ds((mx / 2.0) as f64));
        put_str(o, tags::WINDOW_WIDTH, VR::DS, ds(mx as f64));
        for v in pixels {
            bytes.extend_from_slice(&(v.round().clamp(0.0, 4095.0) as u16).to_le_bytes());
        }
    }
    o.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::from(bytes),
    ));
}

fn put_mr_tags(o: &mut InMemDicomObject, spec: &SeriesSpec, slice_spacing: f64) {
    let (seq, var, opts, acq, etl) = match spec.kind {
        SeriesKind::MrT1(_) => ("GR", "SP\\SK", "FS", "3D", "1"),
        SeriesKind::MrT2 => ("SE", "SK\\SP", "", "2D", "128"),
        SeriesKind::MrDwi(_) | SeriesKind::MrAdc => ("EP", "SK\\SP", "FS", "2D", "64"),
        SeriesKind::Ct(_) => ("GR", "NONE", "", "2D", "1"),
    };
    put_str(
        o,
        tags::SCANNING_SEQUENCE,
        VR::CS,
        spec.scanning_sequence.clone().unwrap_or_else(|| seq.into()),
    );
    put_str(o, tags::SEQUENCE_VARIANT, VR::CS, var);
    put_str(o, tags::SCAN_OPTIONS, VR::CS, opts);
    put_str(o, tags::MR_ACQUISITION_TYPE, VR::CS, acq);
    put_str(o, tags::ECHO_TRAIN_LENGTH, VR::IS, etl);
    if let Some(v) = spec.repetition_time_ms {
        put_str(o, tags::REPETITION_TIME, VR::DS, ds(v));
    }
    if let Some(v) = spec.echo_time_ms {
        put_str(o, tags::ECHO_TIME, VR::DS, ds(v));
    }
    if let Some(v) = spec.flip_angle_deg {
        put_str(o, tags::FLIP_ANGLE, VR::DS, ds(v));
    }
    if let Some(v) = &spec.sequence_name {
        put_str(o, tags::SEQUENCE_NAME, VR::SH, v.clone());
    }
    put_str(o, tags::MAGNETIC_FIELD_STRENGTH, VR::DS, "1.5");
    put_str(o, tags::IMAGED_NUCLEUS, VR::SH, "1H");
    put_str(o, tags::SPACING_BETWEEN_SLICES, VR::DS, ds(slice_spacing));
    if let Some(b) = spec.b_value {
        o.put(DataElement::new(
            tags::DIFFUSION_B_VALUE,
            VR::FD,
            PrimitiveValue::from(b),
        ));
    }
}

fn image_object(
    study: &PhantomStudy,
    s: usize,
    k: usize,
    sop_uid: &str,
    w: &WriteOptions,
) -> Result<InMemDicomObject, PhantomError> {
    let vol: &Volume = &study.volumes[s];
    let spec = &study.specs[s];
    let ct = spec.kind.is_ct();
    let modality = if ct { "CT" } else { "MR" };
    let mut o = common_object(
        study,
        spec,
        modality,
        &vol.meta.series_instance_uid,
        spec.series_number,
        sop_uid,
        &spec.image_type.join("\\"),
    );
    put_str(&mut o, tags::INSTANCE_NUMBER, VR::IS, (k + 1).to_string());
    let [_, rows, cols] = vol.shape();
    let plane = vol.data.index_axis(ndarray::Axis(0), k);
    let pixels: Vec<f32> = plane.iter().copied().collect();
    put_plane_and_pixels(
        &mut o,
        &vol.geometry,
        k,
        study.options.thickness_mm(),
        rows,
        cols,
        &pixels,
        ct,
        w.signed_ct,
    );
    if ct {
        put_str(&mut o, tags::KVP, VR::DS, "120");
        let tilt = match study.options.orientation {
            crate::Orientation::GantryTilt { deg } => deg,
            _ => 0.0,
        };
        put_str(&mut o, tags::GANTRY_DETECTOR_TILT, VR::DS, ds(tilt));
        put_str(&mut o, tags::CONVOLUTION_KERNEL, VR::SH, "B30f");
    } else {
        put_mr_tags(&mut o, spec, study.options.slice_spacing_mm);
    }
    Ok(o)
}

fn encode(
    mut obj: InMemDicomObject,
    path: &Path,
    ts: TransferSyntax,
) -> Result<dicom_object::FileDicomObject<InMemDicomObject>, PhantomError> {
    if ts == TransferSyntax::JpegLsLossless {
        encapsulate_jpegls(&mut obj).map_err(|e| PhantomError::dicom(path, e))?;
    }
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(ts.uid())
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name("CAVASCOPE_010");
    obj.with_meta(meta).map_err(|e| PhantomError::dicom(path, e))
}

/// Replace the native 16-bit PixelData by one JPEG-LS lossless fragment (our encoder,
/// crates/jpegls: no CharLS build). Precision is BitsStored for unsigned samples and 16
/// for signed ones (their two's-complement patterns are coded as unsigned, as CharLS and
/// DCMTK do).
fn encapsulate_jpegls(obj: &mut InMemDicomObject) -> Result<(), String> {
    let u16_of = |tag| {
        obj.get(tag)
            .and_then(|e| e.to_int::<u16>().ok())
            .ok_or_else(|| format!("{tag} missing"))
    };
    let (rows, cols, bits, rep) = (
        u16_of(tags::ROWS)?,
        u16_of(tags::COLUMNS)?,
        u16_of(tags::BITS_STORED)?,
        u16_of(tags::PIXEL_REPRESENTATION)?,
    );
    let raw = obj
        .get(tags::PIXEL_DATA)
        .and_then(|e| e.to_bytes().ok())
        .ok_or("no native PixelData")?;
    let samples: Vec<u16> = raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let precision = if rep == 1 { 16 } else { bits as u8 };
    let mut jls = cavascope_jpegls::encode(&samples, cols as u32, rows as u32, precision, 0)
        .map_err(|e| e.to_string())?;
    // Fragments have even length; bytes after EOI are ignored by decoders.
    if jls.len() % 2 == 1 {
        jls.push(0);
    }
    obj.put(DataElement::<InMemDicomObject>::new(
        tags::PIXEL_DATA,
        VR::OB,
        dicom_core::value::Value::from(dicom_core::value::PixelFragmentSequence::new(
            Vec::<u32>::new(),
            vec![jls],
        )),
    ));
    Ok(())
}

/// Our implementation class UID (2.25 root, fixed).
const IMPLEMENTATION_CLASS_UID: &str = "2.25.166337392539117616466036151437498862631";

fn write_object(obj: InMemDicomObject, path: &Path, ts: TransferSyntax) -> Result<(), PhantomError> {
    let file = encode(obj, path, ts)?;
    let mut bytes = Vec::new();
    file.write_all(&mut bytes)
        .map_err(|e| PhantomError::dicom(path, e))?;
    write_atomic(path, &bytes)
}

/// Non-DICOM files, a truncated copy, a duplicate under another name, and a localizer.
fn write_junk(
    study: &PhantomStudy,
    out_dir: &Path,
    w: &WriteOptions,
    series_files: &[Vec<PathBuf>],
    rng: &mut ChaCha8Rng,
) -> Result<Vec<PathBuf>, PhantomError> {
    let mut out = Vec::new();
    let first_dir = series_files
        .first()
        .and_then(|f| f.first())
        .and_then(|p| p.parent())
        .unwrap_or(out_dir)
        .to_path_buf();
    let readme = out_dir.join("README.TXT");
    write_atomic(&readme, b"Exported by a PACS. Not a DICOM file.\n")?;
    out.push(readme);
    let ds_store = first_dir.join(".DS_Store");
    let noise: Vec<u8> = (0..700).map(|_| rng.random::<u8>()).collect();
    write_atomic(&ds_store, &noise)?;
    out.push(ds_store);
    let thumbs = first_dir.join("Thumbs.db");
    write_atomic(
        &thumbs,
        &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0],
    )?;
    out.push(thumbs);
    // A file with a .dcm name that is not DICOM at all.
    let fake = first_dir.join("IMG9999.dcm");
    write_atomic(&fake, b"<html><body>404 Not Found</body></html>")?;
    out.push(fake);
    if let Some(files) = series_files.get(1).or(series_files.first()) {
        if let Some(src) = files.get(files.len() / 2) {
            let bytes = std::fs::read(src).map_err(|e| PhantomError::io(src, e))?;
            let parent = src.parent().unwrap_or(out_dir);
            let trunc = parent.join("IMG_TRUNCATED.dcm");
            write_atomic(&trunc, &bytes[..bytes.len() * 6 / 10])?;
            out.push(trunc);
            let dup = parent.join("IMG_COPY.dcm");
            write_atomic(&dup, &bytes)?;
            out.push(dup);
        }
    }
    // Localizer: one coronal image in its own series.
    let loc = localizer_object(study, rng);
    let p = out_dir.join("LOCALIZER.dcm");
    write_object(loc, &p, w.transfer_syntax)?;
    out.push(p);
    Ok(out)
}

fn localizer_object(study: &PhantomStudy, rng: &mut ChaCha8Rng) -> InMemDicomObject {
    let vol = &study.volumes[0];
    let spec = &study.specs[0];
    let ct = spec.kind.is_ct();
    // Coronal plane through y = 0: rows along +x, columns along −z.
    let (lo, hi) = vol.geometry.world_bounds(vol.shape());
    let cols = 128usize;
    let rows = 128usize;
    let px = (hi.x - lo.x).max(1.0) / cols as f64;
    let pz = (hi.z - lo.z).max(1.0) / rows as f64;
    let g = Geometry::from_axes(
        Point3::new(lo.x, 0.0, hi.z),
        Vector3::x(),
        -Vector3::z(),
        Vector3::y(),
        [px, pz, 1.0],
    );
    let mut pixels = Vec::with_capacity(rows * cols);
    for j in 0..rows {
        for i in 0..cols {
            let p = g.index_to_world([i as f64, j as f64, 0.0]);
            pixels.push(vol.sample_world(&p).unwrap_or(if ct { -1000.0 } else { 0.0 }));
        }
    }
    let series_uid = crate::uid(rng);
    let sop = crate::uid(rng);
    let mut o = common_object(
        study,
        spec,
        if ct { "CT" } else { "MR" },
        &series_uid,
        1,
        &sop,
        "ORIGINAL\\PRIMARY\\LOCALIZER",
    );
    put_str(&mut o, tags::SERIES_DESCRIPTION, VR::LO, "Topogram 0.6 T20f");
    put_str(&mut o, tags::INSTANCE_NUMBER, VR::IS, "1");
    put_plane_and_pixels(&mut o, &g, 0, 1.0, rows, cols, &pixels, ct, false);
    if ct {
        put_str(&mut o, tags::KVP, VR::DS, "120");
    } else {
        put_mr_tags(&mut o, spec, 1.0);
    }
    o
}
