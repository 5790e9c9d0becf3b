//! Writing small synthetic DICOM series (for tests, benchmarks and examples): each slice
//! carries a known geometry and a pixel pattern that encodes its spatial slice index, so
//! a reader's sort, spacing and rescale can be checked exactly.

use dicom_core::smallvec::SmallVec;
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::Path;

/// CT Image Storage.
pub const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
/// MR Image Storage.
pub const MR_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.4";

/// One single-frame slice to write.
#[derive(Debug, Clone)]
pub struct SynthSlice {
    /// Modality (0008,0060).
    pub modality: String,
    /// Rows (0028,0010).
    pub rows: u16,
    /// Columns (0028,0011).
    pub cols: u16,
    /// Image Position (Patient), LPS mm.
    pub ipp: [f64; 3],
    /// Image Orientation (Patient): row then column direction cosines.
    pub iop: [f64; 6],
    /// `[row spacing, column spacing]`.
    pub pixel_spacing: [f64; 2],
    /// Study Instance UID.
    pub study_uid: String,
    /// Series Instance UID.
    pub series_uid: String,
    /// SOP Instance UID (unique per slice unless a duplicate is the point of the test).
    pub sop_uid: String,
    /// Series Number (0020,0011).
    pub series_number: i64,
    /// Instance Number (0020,0013).
    pub instance_number: i64,
    /// Image Type (0008,0008), backslash-separated.
    pub image_type: String,
    /// Acquisition Number (0020,0012); `None` leaves it out.
    pub acquisition_number: Option<i64>,
    /// Acquisition Time (0008,0032) as `HHMMSS.frac`; `None` leaves it out.
    pub acquisition_time: Option<String>,
    /// Temporal Position Identifier (0020,0100); `None` leaves it out.
    pub temporal_position: Option<i64>,
    /// Rescale Slope.
    pub slope: f64,
    /// Rescale Intercept.
    pub intercept: f64,
    /// Stored values, row-major (the 16 bits as written; bits above `bits_stored` are
    /// kept, so junk there can be tested).
    pub pixels: Vec<i16>,
    /// BitsStored (BitsAllocated is 16; HighBit = BitsStored − 1).
    pub bits_stored: u16,
    /// PixelRepresentation 1 (two's complement) or 0 (unsigned).
    pub signed: bool,
    /// Transfer syntax UID the file is written in.
    pub transfer_syntax: String,
    /// Series Description.
    pub description: String,
}

impl SynthSlice {
    /// An axial 16-bit signed CT slice with identity orientation.
    pub fn ct(rows: u16, cols: u16, ipp: [f64; 3], pixel_spacing: [f64; 2]) -> Self {
        SynthSlice {
            modality: "CT".into(),
            rows,
            cols,
            ipp,
            iop: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            pixel_spacing,
            study_uid: "1.2.826.0.1.3680043.10.1001.1".into(),
            series_uid: "1.2.826.0.1.3680043.10.1001.2".into(),
            sop_uid: "1.2.826.0.1.3680043.10.1001.3.1".into(),
            series_number: 2,
            instance_number: 1,
            image_type: "ORIGINAL\\PRIMARY\\AXIAL".into(),
            acquisition_number: Some(1),
            acquisition_time: Some("101500".into()),
            temporal_position: None,
            slope: 1.0,
            intercept: -1024.0,
            pixels: vec![0; rows as usize * cols as usize],
            bits_stored: 16,
            signed: true,
            transfer_syntax: crate::pixels::EXPLICIT_VR_LE.into(),
            description: "synthetic".into(),
        }
    }
}

fn ds(v: &[f64]) -> String {
    v.iter().map(|x| format!("{x:.6}")).collect::<Vec<_>>().join("\\")
}

fn put_str(o: &mut InMemDicomObject, tag: Tag, vr: VR, s: &str) {
    o.put(DataElement::new(tag, vr, PrimitiveValue::from(s)));
}

fn put_u16(o: &mut InMemDicomObject, tag: Tag, v: u16) {
    o.put(DataElement::new(
        tag,
        VR::US,
        PrimitiveValue::U16(SmallVec::from_slice(&[v])),
    ));
}

/// Write one slice as a DICOM Part 10 file.
pub fn write_slice(path: &Path, s: &SynthSlice) -> Result<(), String> {
    let mut o = InMemDicomObject::new_empty();
    let sop_class = if s.modality == "MR" {
        MR_IMAGE_STORAGE
    } else {
        CT_IMAGE_STORAGE
    };
    put_str(&mut o, tags::SOP_CLASS_UID, VR::UI, sop_class);
    put_str(&mut o, tags::SOP_INSTANCE_UID, VR::UI, &s.sop_uid);
    put_str(&mut o, tags::STUDY_INSTANCE_UID, VR::UI, &s.study_uid);
    put_str(&mut o, tags::SERIES_INSTANCE_UID, VR::UI, &s.series_uid);
    put_str(
        &mut o,
        tags::FRAME_OF_REFERENCE_UID,
        VR::UI,
        "1.2.826.0.1.3680043.10.1001.9",
    );
    put_str(&mut o, tags::MODALITY, VR::CS, &s.modality);
    put_str(&mut o, tags::IMAGE_TYPE, VR::CS, &s.image_type);
    put_str(&mut o, tags::SERIES_DESCRIPTION, VR::LO, &s.description);
    put_str(&mut o, tags::SERIES_NUMBER, VR::IS, &s.series_number.to_string());
    put_str(
        &mut o,
        tags::INSTANCE_NUMBER,
        VR::IS,
        &s.instance_number.to_string(),
    );
    if let Some(a) = s.acquisition_number {
        put_str(&mut o, tags::ACQUISITION_NUMBER, VR::IS, &a.to_string());
    }
    if let Some(t) = &s.acquisition_time {
        put_str(&mut o, tags::ACQUISITION_TIME, VR::TM, t);
    }
    if let Some(t) = s.temporal_position {
        put_str(&mut o, tags::TEMPORAL_POSITION_IDENTIFIER, VR::IS, &t.to_string());
    }
    put_str(&mut o, tags::PATIENT_NAME, VR::PN, "Synthetic^Phantom");
    put_str(&mut o, tags::PATIENT_ID, VR::LO, "SYNTH-0001");
    put_str(&mut o, tags::IMAGE_POSITION_PATIENT, VR::DS, &ds(&s.ipp));
    put_str(&mut o, tags::IMAGE_ORIENTATION_PATIENT, VR::DS, &ds(&s.iop));
    put_str(&mut o, tags::PIXEL_SPACING, VR::DS, &ds(&s.pixel_spacing));
    put_str(&mut o, tags::SLICE_THICKNESS, VR::DS, "1.0");
    put_str(&mut o, tags::RESCALE_SLOPE, VR::DS, &ds(&[s.slope]));
    put_str(&mut o, tags::RESCALE_INTERCEPT, VR::DS, &ds(&[s.intercept]));
    put_u16(&mut o, tags::SAMPLES_PER_PIXEL, 1);
    put_str(&mut o, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    put_u16(&mut o, tags::ROWS, s.rows);
    put_u16(&mut o, tags::COLUMNS, s.cols);
    put_u16(&mut o, tags::BITS_ALLOCATED, 16);
    if !(1..=16).contains(&s.bits_stored) {
        return Err(format!("BitsStored {} with 16 bits allocated", s.bits_stored));
    }
    put_u16(&mut o, tags::BITS_STORED, s.bits_stored);
    put_u16(&mut o, tags::HIGH_BIT, s.bits_stored - 1);
    put_u16(&mut o, tags::PIXEL_REPRESENTATION, u16::from(s.signed));
    if s.pixels.len() != s.rows as usize * s.cols as usize {
        return Err(format!("{} pixels for {}×{}", s.pixels.len(), s.rows, s.cols));
    }
    let words: SmallVec<[u16; 2]> = s.pixels.iter().map(|&v| v as u16).collect();
    o.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(words),
    ));
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(s.transfer_syntax.as_str())
        .media_storage_sop_class_uid(sop_class)
        .media_storage_sop_instance_uid(s.sop_uid.as_str());
    let file = o.with_meta(meta).map_err(|e| e.to_string())?;
    file.write_to_file(path).map_err(|e| e.to_string())
}

/// The test pattern: stored value of pixel (row j, column i) of the slice that is k-th in
/// spatial order. Distinct per slice and varying in-plane, within i16.
pub fn pattern(k: usize, j: usize, i: usize) -> i16 {
    (k as i32 * 100 + ((j * 7 + i * 3) % 97) as i32) as i16
}

/// Writes the benchmark CT series: `slices` axial 16-bit slices of `size × size` at
/// 0.78 mm pixels and 0.8 mm spacing, files `IM00000`… in `dir`, with a repeating value
/// ramp (0–1999) that differs per slice.
pub fn write_bench_ct_series(dir: &Path, slices: usize, size: u16) -> Result<(), String> {
    for k in 0..slices {
        let mut s = SynthSlice::ct(size, size, [-200.0, -180.0, 0.8 * k as f64], [0.78, 0.78]);
        s.sop_uid = format!("1.2.826.0.1.3680043.10.1001.3.{}", k + 1);
        s.pixels = (0..size as usize * size as usize)
            .map(|p| ((p * 31 + k) % 2000) as i16)
            .collect();
        write_slice(&dir.join(format!("IM{k:05}")), &s)?;
    }
    Ok(())
}
