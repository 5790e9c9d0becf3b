//! The DICOM Segmentation: binary, one segment per structure (IVC, mass, enlarged
//! collateral veins), frames of the source series' size placed on its slices, each frame
//! referencing its source image (Derivation Image Sequence), the series referenced as a
//! whole (Referenced Series Sequence) and the source's Frame of Reference — what strict
//! viewers (OHIF) require. Empty frames are left out, as highdicom does.

use crate::codes::{self, Code};
use crate::elem::*;
use crate::{on_grid, DicomOutError, Reference, SegmentInfo, StudyAttributes};
use cavascope_measurements::{Measurements, Source};
use cavascope_volume::{Geometry, Mask, Volume};
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use ndarray::Array3;
use std::path::Path;

/// SOP Class UID of the Segmentation Storage IOD.
pub const SEG_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.4";
/// Series numbers of the derived series (high, so they sort after the acquisitions).
pub const SEG_SERIES_NUMBER: i32 = 9901;

/// A built Segmentation, ready to encode.
pub struct Seg {
    pub obj: Obj,
    pub sop_instance_uid: String,
    pub series_instance_uid: String,
    pub segments: Vec<SegmentInfo>,
}

impl Seg {
    pub fn into_bytes(self, path: &Path) -> Result<Vec<u8>, DicomOutError> {
        crate::file_bytes(self.obj, SEG_SOP_CLASS, &self.sop_instance_uid, path)
    }
}

/// Attributes every object written here shares: SOP common, patient and study, series,
/// equipment, content date and time.
#[allow(clippy::too_many_arguments)]
pub(crate) fn common(
    o: &mut Obj,
    attrs: &StudyAttributes,
    sop_class: &str,
    sop_uid: &str,
    modality: &str,
    series_uid: &str,
    series_number: i32,
    description: &str,
    tool_version: &str,
) {
    let (date, time) = now_utc();
    put_str(o, tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192");
    put_str(o, tags::SOP_CLASS_UID, VR::UI, sop_class);
    put_str(o, tags::SOP_INSTANCE_UID, VR::UI, sop_uid);
    put_str(o, tags::INSTANCE_CREATION_DATE, VR::DA, &date);
    put_str(o, tags::INSTANCE_CREATION_TIME, VR::TM, &time);
    attrs.apply(o);
    put_str(o, tags::MODALITY, VR::CS, modality);
    put_str(o, tags::SERIES_INSTANCE_UID, VR::UI, series_uid);
    put_str(o, tags::SERIES_NUMBER, VR::IS, &series_number.to_string());
    put_str(o, tags::SERIES_DESCRIPTION, VR::LO, description);
    put_str(o, tags::INSTANCE_NUMBER, VR::IS, "1");
    put_str(o, tags::CONTENT_DATE, VR::DA, &date);
    put_str(o, tags::CONTENT_TIME, VR::TM, &time);
    put_str(o, tags::MANUFACTURER, VR::LO, "cavascope");
    put_str(o, tags::MANUFACTURER_MODEL_NAME, VR::LO, "cavascope");
    put_str(o, tags::DEVICE_SERIAL_NUMBER, VR::LO, "0");
    put_str(o, tags::SOFTWARE_VERSIONS, VR::LO, tool_version);
}

struct Structure {
    label: &'static str,
    category: Code,
    kind: Code,
    source: Option<Source>,
    rgb: [u8; 3],
    mask: Array3<bool>,
}

/// CIELab (DICOM-scaled) of an sRGB colour, for Recommended Display CIELab Value.
fn cielab(rgb: [u8; 3]) -> [u16; 3] {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(rgb[0]), lin(rgb[1]), lin(rgb[2]));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f64| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    let l = 116.0 * fy - 16.0;
    let a = 500.0 * (fx - fy);
    let bb = 200.0 * (fy - fz);
    [
        (l * 65535.0 / 100.0).round().clamp(0.0, 65535.0) as u16,
        ((a + 128.0) * 65535.0 / 255.0).round().clamp(0.0, 65535.0) as u16,
        ((bb + 128.0) * 65535.0 / 255.0).round().clamp(0.0, 65535.0) as u16,
    ]
}

fn algorithm_type(s: Option<Source>) -> &'static str {
    match s {
        Some(Source::Seed) => "SEMIAUTOMATIC",
        // A label map handed in by the user came from elsewhere; cavascope kept it as given.
        Some(Source::Mask) => "SEMIAUTOMATIC",
        _ => "AUTOMATIC",
    }
}

fn put_at(o: &mut Obj, tag: Tag, v: Tag) {
    o.put(DataElement::new(
        tag,
        VR::AT,
        PrimitiveValue::Tags(vec![v].into()),
    ));
}

/// Build the Segmentation; `None` when no structure has a voxel. `collaterals`: the
/// enlarged collateral veins (`cavascope_report::enlarged_collaterals_mask`).
pub fn build(
    r: &Reference,
    attrs: &StudyAttributes,
    m: &Measurements,
    collaterals: Option<&Mask>,
    tool_version: &str,
) -> Option<Seg> {
    let vol = r.volume;
    let structures = structures(m, collaterals, vol);
    if structures.is_empty() {
        return None;
    }

    let g = &vol.geometry;
    let sop_uid = new_uid();
    let series_uid = new_uid();
    let mut o = Obj::new_empty();
    common(
        &mut o,
        attrs,
        SEG_SOP_CLASS,
        &sop_uid,
        "SEG",
        &series_uid,
        SEG_SERIES_NUMBER,
        "cavascope segmentation",
        tool_version,
    );
    put_image_modules(&mut o, vol);
    let (seg_items, infos) = segment_sequence(&structures, g);
    put_seq(&mut o, tags::SEGMENT_SEQUENCE, seg_items);
    put_dimensions(&mut o);
    put_seq(
        &mut o,
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        vec![shared_groups(g)],
    );
    let (per_frame, bits) = frames(r, &structures, &infos);
    put_str(
        &mut o,
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        &per_frame.len().to_string(),
    );
    put_seq(&mut o, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, per_frame);

    // Common instance reference: the whole source series.
    let refs = r.sop_items();
    let mut rs = Obj::new_empty();
    put_str(
        &mut rs,
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        &r.series.series_instance_uid,
    );
    put_seq(&mut rs, tags::REFERENCED_INSTANCE_SEQUENCE, refs);
    put_seq(&mut o, tags::REFERENCED_SERIES_SEQUENCE, vec![rs]);

    // Pixel data: frames packed bit by bit, no padding between frames (PS3.5 8.1.1).
    let bytes = cavascope_volume::mask::pack_bits(&bits);
    o.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::from(bytes),
    ));
    Some(Seg {
        obj: o,
        sop_instance_uid: sop_uid,
        series_instance_uid: series_uid,
        segments: infos,
    })
}

/// The structures with a voxel on the reference grid: IVC, mass, enlarged collaterals.
fn structures(m: &Measurements, collaterals: Option<&Mask>, vol: &Volume) -> Vec<Structure> {
    let mut structures: Vec<Structure> = Vec::new();
    let mut add = |label, category, kind, source, rgb, mask: Option<&Mask>| {
        if let Some(mask) = mask {
            let g = on_grid(mask, vol);
            if g.iter().any(|&b| b) {
                structures.push(Structure {
                    label,
                    category,
                    kind,
                    source,
                    rgb,
                    mask: g,
                });
            }
        }
    };
    add(
        "Inferior vena cava",
        codes::anatomical_structure(),
        codes::ivc(),
        m.ivc.as_ref().map(|i| i.source),
        [0, 160, 255],
        m.ivc.as_ref().map(|i| &i.mask),
    );
    add(
        "Mass",
        codes::morphologically_altered(),
        codes::mass(),
        m.mass.as_ref().map(|x| x.source),
        [255, 120, 0],
        m.mass.as_ref().map(|x| &x.mask),
    );
    add(
        "Enlarged collateral veins",
        codes::anatomical_structure(),
        codes::vein(),
        Some(Source::Auto),
        [0, 200, 80],
        collaterals,
    );
    structures
}

/// Frame of reference, image and segmentation image modules.
fn put_image_modules(o: &mut Obj, vol: &Volume) {
    let [_, nj, ni] = vol.shape();
    let for_uid = vol.meta.frame_of_reference_uid.clone().unwrap_or_default();
    put_str(o, tags::FRAME_OF_REFERENCE_UID, VR::UI, &for_uid);
    put_empty(o, tags::POSITION_REFERENCE_INDICATOR, VR::LO);
    put_str(o, tags::IMAGE_TYPE, VR::CS, "DERIVED\\PRIMARY");
    put_str(o, tags::CONTENT_LABEL, VR::CS, "CAVASCOPE");
    put_str(
        o,
        tags::CONTENT_DESCRIPTION,
        VR::LO,
        "IVC, mass and collateral veins",
    );
    put_empty(o, tags::CONTENT_CREATOR_NAME, VR::PN);
    put_u16(o, tags::SAMPLES_PER_PIXEL, 1);
    put_str(o, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    put_u16(o, tags::ROWS, nj as u16);
    put_u16(o, tags::COLUMNS, ni as u16);
    put_u16(o, tags::BITS_ALLOCATED, 1);
    put_u16(o, tags::BITS_STORED, 1);
    put_u16(o, tags::HIGH_BIT, 0);
    put_u16(o, tags::PIXEL_REPRESENTATION, 0);
    put_str(o, tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "00");
    put_str(o, tags::SEGMENTATION_TYPE, VR::CS, "BINARY");
}

/// The Segment Sequence items and what the SR needs of each segment.
fn segment_sequence(structures: &[Structure], g: &Geometry) -> (Vec<Obj>, Vec<SegmentInfo>) {
    let mut infos = Vec::new();
    let mut seg_items = Vec::new();
    for (n, s) in structures.iter().enumerate() {
        let number = (n + 1) as u16;
        let tracking_uid = new_uid();
        let mut it = Obj::new_empty();
        put_u16(&mut it, tags::SEGMENT_NUMBER, number);
        put_str(&mut it, tags::SEGMENT_LABEL, VR::LO, s.label);
        put_str(
            &mut it,
            tags::SEGMENT_ALGORITHM_TYPE,
            VR::CS,
            algorithm_type(s.source),
        );
        put_str(&mut it, tags::SEGMENT_ALGORITHM_NAME, VR::LO, "cavascope");
        put_code(
            &mut it,
            tags::SEGMENTED_PROPERTY_CATEGORY_CODE_SEQUENCE,
            &s.category,
        );
        put_code(&mut it, tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE, &s.kind);
        put_str(&mut it, tags::TRACKING_ID, VR::UT, s.label);
        put_str(&mut it, tags::TRACKING_UID, VR::UI, &tracking_uid);
        let lab = cielab(s.rgb);
        it.put(DataElement::new(
            tags::RECOMMENDED_DISPLAY_CIE_LAB_VALUE,
            VR::US,
            PrimitiveValue::U16(lab.to_vec().into()),
        ));
        seg_items.push(it);
        let voxels = s.mask.iter().filter(|&&b| b).count();
        infos.push(SegmentInfo {
            number,
            label: s.label.to_string(),
            tracking_uid,
            voxels,
            volume_ml: voxels as f64 * g.voxel_volume_mm3() / 1000.0,
        });
    }
    (seg_items, infos)
}

/// Dimensions: segment, then position along the stack.
fn put_dimensions(o: &mut Obj) {
    let dim_org = new_uid();
    let mut org = Obj::new_empty();
    put_str(&mut org, tags::DIMENSION_ORGANIZATION_UID, VR::UI, &dim_org);
    put_seq(o, tags::DIMENSION_ORGANIZATION_SEQUENCE, vec![org]);
    let dim = |pointer: Tag, group: Tag, label: &str| {
        let mut d = Obj::new_empty();
        put_str(&mut d, tags::DIMENSION_ORGANIZATION_UID, VR::UI, &dim_org);
        put_at(&mut d, tags::DIMENSION_INDEX_POINTER, pointer);
        put_at(&mut d, tags::FUNCTIONAL_GROUP_POINTER, group);
        put_str(&mut d, tags::DIMENSION_DESCRIPTION_LABEL, VR::LO, label);
        d
    };
    put_seq(
        o,
        tags::DIMENSION_INDEX_SEQUENCE,
        vec![
            dim(
                tags::REFERENCED_SEGMENT_NUMBER,
                tags::SEGMENT_IDENTIFICATION_SEQUENCE,
                "ReferencedSegmentNumber",
            ),
            dim(
                tags::IMAGE_POSITION_PATIENT,
                tags::PLANE_POSITION_SEQUENCE,
                "ImagePositionPatient",
            ),
        ],
    );
}

/// Shared functional groups: orientation and pixel measures of the source grid.
fn shared_groups(g: &Geometry) -> Obj {
    let (rd, cd) = (g.direction(0), g.direction(1));
    let sp = g.spacing();
    let mut shared = Obj::new_empty();
    let mut orient = Obj::new_empty();
    put_ds(
        &mut orient,
        tags::IMAGE_ORIENTATION_PATIENT,
        &[rd.x, rd.y, rd.z, cd.x, cd.y, cd.z],
    );
    put_seq(&mut shared, tags::PLANE_ORIENTATION_SEQUENCE, vec![orient]);
    let mut meas = Obj::new_empty();
    put_ds(&mut meas, tags::PIXEL_SPACING, &[sp[1], sp[0]]);
    put_ds(&mut meas, tags::SLICE_THICKNESS, &[sp[2]]);
    put_ds(&mut meas, tags::SPACING_BETWEEN_SLICES, &[sp[2]]);
    put_seq(&mut shared, tags::PIXEL_MEASURES_SEQUENCE, vec![meas]);
    shared
}

/// Frames: per segment, each slice with a voxel, in slice order — the per-frame
/// functional group items and the frames' bits.
fn frames(r: &Reference, structures: &[Structure], infos: &[SegmentInfo]) -> (Vec<Obj>, Vec<bool>) {
    let [nk, nj, ni] = r.volume.shape();
    let mut per_frame = Vec::new();
    let mut bits: Vec<bool> = Vec::new();
    for (s, info) in structures.iter().zip(infos) {
        for k in 0..nk {
            let plane = s.mask.index_axis(ndarray::Axis(0), k);
            if !plane.iter().any(|&b| b) {
                continue;
            }
            per_frame.push(frame_item(r, k, info.number));
            for j in 0..nj {
                for i in 0..ni {
                    bits.push(s.mask[[k, j, i]]);
                }
            }
        }
    }
    (per_frame, bits)
}

/// The per-frame functional groups of segment `number` on slice `k`: dimension index,
/// position and the source images it derives from.
fn frame_item(r: &Reference, k: usize, number: u16) -> Obj {
    let g = &r.volume.geometry;
    let mut item = Obj::new_empty();
    let mut fc = Obj::new_empty();
    fc.put(DataElement::new(
        tags::DIMENSION_INDEX_VALUES,
        VR::UL,
        PrimitiveValue::U32(vec![number as u32, (k + 1) as u32].into()),
    ));
    put_seq(&mut item, tags::FRAME_CONTENT_SEQUENCE, vec![fc]);
    let p = g.index_to_world([0.0, 0.0, k as f64]);
    let mut pos = Obj::new_empty();
    put_ds(&mut pos, tags::IMAGE_POSITION_PATIENT, &[p.x, p.y, p.z]);
    put_seq(&mut item, tags::PLANE_POSITION_SEQUENCE, vec![pos]);
    let mut sid = Obj::new_empty();
    put_u16(&mut sid, tags::REFERENCED_SEGMENT_NUMBER, number);
    put_seq(&mut item, tags::SEGMENT_IDENTIFICATION_SEQUENCE, vec![sid]);
    let srcs = r.series.slice_sources.get(k).map(Vec::as_slice).unwrap_or(&[]);
    // One source: the frame lies on that image's pixels (viewers index by it);
    // two: an interpolated slice between them.
    let preserved = if srcs.len() == 1 { "YES" } else { "NO" };
    let sources: Vec<Obj> = srcs
        .iter()
        .map(|src| {
            let mut x = sop_ref(&src.sop_class_uid, &src.sop_instance_uid);
            if let Some(f) = src.frame_number {
                put_str(&mut x, tags::REFERENCED_FRAME_NUMBER, VR::IS, &f.to_string());
            }
            put_str(&mut x, tags::SPATIAL_LOCATIONS_PRESERVED, VR::CS, preserved);
            put_code(
                &mut x,
                tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE,
                &codes::dcm("121322", "Source image for image processing operation"),
            );
            x
        })
        .collect();
    let mut der = Obj::new_empty();
    put_code(
        &mut der,
        tags::DERIVATION_CODE_SEQUENCE,
        &codes::dcm("113076", "Segmentation"),
    );
    put_seq(&mut der, tags::SOURCE_IMAGE_SEQUENCE, sources);
    put_seq(&mut item, tags::DERIVATION_IMAGE_SEQUENCE, vec![der]);
    item
}

#[cfg(test)]
mod tests {
    use super::cielab;

    #[test]
    fn cielab_of_white_black_and_red() {
        // White: L* 100, a* = b* = 0 (scaled: 65535, 128/255 of 65535).
        let w = cielab([255, 255, 255]);
        assert!(
            w[0] >= 65530 && (w[1] as i32 - 32896).abs() < 40 && (w[2] as i32 - 32896).abs() < 40,
            "{w:?}"
        );
        assert_eq!(cielab([0, 0, 0])[0], 0);
        // sRGB red: L* 53.2, a* 80.1, b* 67.2.
        let r = cielab([255, 0, 0]);
        let l = r[0] as f64 * 100.0 / 65535.0;
        let a = r[1] as f64 * 255.0 / 65535.0 - 128.0;
        let b = r[2] as f64 * 255.0 / 65535.0 - 128.0;
        assert!(
            (l - 53.2).abs() < 0.5 && (a - 80.1).abs() < 1.0 && (b - 67.2).abs() < 1.0,
            "{l} {a} {b}"
        );
    }
}
