//! A label map written as a DICOM Segmentation (binary, one segment, empty frames
//! omitted, frames placed by per-frame Plane Position and shared Plane Orientation /
//! Pixel Measures), so tests of `--ivc-mask`/`--mass-mask` can feed a phantom's own label
//! map the way a segmentation tool would hand it over.
//!
//! ```no_run
//! # fn main() -> Result<(), cavascope_phantom::PhantomError> {
//! use cavascope_phantom::{generate, CaseName, PhantomOptions};
//! let study = generate(CaseName::Normal, &PhantomOptions::small());
//! cavascope_phantom::seg::write_seg("ivc.seg.dcm".as_ref(), &study.labels.ivc, "Inferior vena cava")?;
//! # Ok(()) }
//! ```

use crate::write::{put_seq, put_str, put_u16, write_atomic};
use crate::PhantomError;
use cavascope_volume::{Geometry, Mask};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::InMemDicomObject;
use std::path::Path;

/// SOP Class UID of the Segmentation Storage IOD.
pub const SEG_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.4";

fn ds(v: &[f64]) -> PrimitiveValue {
    PrimitiveValue::Strs(v.iter().map(|x| format!("{x:.6}")).collect())
}

/// Write `mask` as a binary DICOM SEG with one segment named `label`.
pub fn write_seg(path: &Path, mask: &Mask, label: &str) -> Result<(), PhantomError> {
    let g = &mask.geometry;
    let [_, nj, ni] = mask.shape();
    let mut obj = InMemDicomObject::new_empty();
    let uid = "1.2.826.0.1.3680043.8.498.1";
    put_str(&mut obj, tags::SOP_CLASS_UID, VR::UI, SEG_SOP_CLASS);
    put_str(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, uid);
    put_str(&mut obj, tags::MODALITY, VR::CS, "SEG");
    put_u16(&mut obj, tags::ROWS, nj as u16);
    put_u16(&mut obj, tags::COLUMNS, ni as u16);
    put_u16(&mut obj, tags::BITS_ALLOCATED, 1);
    put_u16(&mut obj, tags::BITS_STORED, 1);
    put_u16(&mut obj, tags::HIGH_BIT, 0);
    put_u16(&mut obj, tags::SAMPLES_PER_PIXEL, 1);
    put_u16(&mut obj, tags::PIXEL_REPRESENTATION, 0);
    put_str(&mut obj, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    put_str(&mut obj, tags::SEGMENTATION_TYPE, VR::CS, "BINARY");
    let mut seg = InMemDicomObject::new_empty();
    put_u16(&mut seg, tags::SEGMENT_NUMBER, 1);
    put_str(&mut seg, tags::SEGMENT_LABEL, VR::LO, label);
    put_seq(&mut obj, tags::SEGMENT_SEQUENCE, vec![seg]);
    put_seq(
        &mut obj,
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        vec![shared_groups(g)],
    );
    let (per_frame, bits) = frames(mask);
    let nframes = per_frame.len();
    put_str(&mut obj, tags::NUMBER_OF_FRAMES, VR::IS, nframes.to_string());
    put_seq(&mut obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, per_frame);
    let bytes = cavascope_volume::mask::pack_bits(&bits);
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::from(bytes),
    ));
    let dicom_err = |message: String| PhantomError::Dicom {
        path: path.to_path_buf(),
        message,
    };
    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(dicom_dictionary_std::uids::EXPLICIT_VR_LITTLE_ENDIAN)
                .media_storage_sop_class_uid(SEG_SOP_CLASS)
                .media_storage_sop_instance_uid(uid),
        )
        .map_err(|e| dicom_err(e.to_string()))?;
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).map_err(|e| dicom_err(e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Shared functional groups: orientation and pixel measures of the mask's grid.
fn shared_groups(g: &Geometry) -> InMemDicomObject {
    let (r, c) = (g.direction(0), g.direction(1));
    let sp = g.spacing();
    let mut shared = InMemDicomObject::new_empty();
    let mut orient = InMemDicomObject::new_empty();
    orient.put(DataElement::new(
        tags::IMAGE_ORIENTATION_PATIENT,
        VR::DS,
        ds(&[r.x, r.y, r.z, c.x, c.y, c.z]),
    ));
    put_seq(&mut shared, tags::PLANE_ORIENTATION_SEQUENCE, vec![orient]);
    let mut meas = InMemDicomObject::new_empty();
    meas.put(DataElement::new(tags::PIXEL_SPACING, VR::DS, ds(&[sp[1], sp[0]])));
    meas.put(DataElement::new(tags::SLICE_THICKNESS, VR::DS, ds(&[sp[2]])));
    meas.put(DataElement::new(
        tags::SPACING_BETWEEN_SLICES,
        VR::DS,
        ds(&[sp[2]]),
    ));
    put_seq(&mut shared, tags::PIXEL_MEASURES_SEQUENCE, vec![meas]);
    shared
}

/// One frame per slice with a voxel: the per-frame functional group items (position,
/// segment) and the frames' bits.
fn frames(mask: &Mask) -> (Vec<InMemDicomObject>, Vec<bool>) {
    let g = &mask.geometry;
    let [nk, nj, ni] = mask.shape();
    let mut per_frame = Vec::new();
    let mut bits: Vec<bool> = Vec::new();
    for k in 0..nk {
        if !(0..nj).any(|j| (0..ni).any(|i| mask.data[[k, j, i]])) {
            continue;
        }
        let p = g.index_to_world([0.0, 0.0, k as f64]);
        let mut item = InMemDicomObject::new_empty();
        let mut pos = InMemDicomObject::new_empty();
        pos.put(DataElement::new(
            tags::IMAGE_POSITION_PATIENT,
            VR::DS,
            ds(&[p.x, p.y, p.z]),
        ));
        put_seq(&mut item, tags::PLANE_POSITION_SEQUENCE, vec![pos]);
        let mut sid = InMemDicomObject::new_empty();
        put_u16(&mut sid, tags::REFERENCED_SEGMENT_NUMBER, 1);
        put_seq(&mut item, tags::SEGMENT_IDENTIFICATION_SEQUENCE, vec![sid]);
        per_frame.push(item);
        for j in 0..nj {
            for i in 0..ni {
                bits.push(mask.data[[k, j, i]]);
            }
        }
    }
    (per_frame, bits)
}
