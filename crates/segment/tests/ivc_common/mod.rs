//! Shared helpers for the IVC tests against phantom truth.
#![allow(dead_code)]

use cavascope_phantom::{generate, CaseName, PhantomOptions, PhantomStudy};
use cavascope_segment::{IvcModel, PhaseInfo, Role, RoleSource};

pub fn phases_from_truth(study: &PhantomStudy) -> Vec<PhaseInfo> {
    study
        .volumes
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let uid = &v.meta.series_instance_uid;
            let role = study.truth.series_roles.get(uid).and_then(|r| Role::parse(r))?;
            Some(PhaseInfo {
                volume_index: i,
                series_instance_uid: uid.clone(),
                role,
                role_source: RoleSource::User,
            })
        })
        .collect()
}

pub fn study(case: CaseName, opts: &PhantomOptions) -> PhantomStudy {
    generate(case, opts)
}

/// Linear interpolation of a profile quantity at height z (sections sorted by z).
pub fn at_z(model: &IvcModel, z: f64, f: fn(&cavascope_segment::Section) -> f64) -> Option<f64> {
    let mut s: Vec<(f64, f64)> = model.profile.iter().map(|p| (p.z_mm, f(p))).collect();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    if s.is_empty() || z < s[0].0 || z > s[s.len() - 1].0 {
        return None;
    }
    let k = s.partition_point(|p| p.0 < z);
    if k == 0 {
        return Some(s[0].1);
    }
    let (a, b) = (s[k - 1], s[k.min(s.len() - 1)]);
    if (b.0 - a.0).abs() < 1e-9 {
        return Some(a.1);
    }
    Some(a.1 + (b.1 - a.1) * (z - a.0) / (b.0 - a.0))
}

/// Comparison of a measured profile with the truth.
#[derive(Debug)]
pub struct Score {
    /// Mean absolute error of the equivalent diameter over the compared truth levels.
    pub mae_eqd: f64,
    pub max_err_eqd: f64,
    /// Fraction of truth levels (inside the FOV) that the measured profile covers.
    pub coverage: f64,
    pub n: usize,
    /// Worst levels (z, measured, truth).
    pub worst: Vec<(f64, f64, f64)>,
}

pub fn score(model: &IvcModel, study: &PhantomStudy) -> Score {
    let tp = &study.truth.ivc.profile;
    let mut errs = Vec::new();
    let mut worst = Vec::new();
    for p in tp {
        if let Some(m) = at_z(model, p.z_mm, |s| s.equivalent_diameter_mm) {
            let e = (m - p.equivalent_diameter_mm).abs();
            errs.push(e);
            worst.push((p.z_mm, m, p.equivalent_diameter_mm));
        }
    }
    worst.sort_by(|a, b| (b.1 - b.2).abs().total_cmp(&(a.1 - a.2).abs()));
    worst.truncate(6);
    let n = errs.len();
    Score {
        mae_eqd: if n > 0 {
            errs.iter().sum::<f64>() / n as f64
        } else {
            f64::INFINITY
        },
        max_err_eqd: errs.iter().copied().fold(0.0, f64::max),
        coverage: n as f64 / tp.len().max(1) as f64,
        n,
        worst,
    }
}

/// z-IoU of two sets of ranges.
pub fn z_iou(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    let len = |r: &[[f64; 2]]| r.iter().map(|x| (x[1] - x[0]).max(0.0)).sum::<f64>();
    let mut inter = 0.0;
    for x in a {
        for y in b {
            inter += (x[1].min(y[1]) - x[0].max(y[0])).max(0.0);
        }
    }
    let uni = len(a) + len(b) - inter;
    if uni <= 0.0 {
        1.0
    } else {
        inter / uni
    }
}

/// A minimal binary DICOM SEG writer (one segment, empty frames omitted), for tests.
pub mod seg {
    use cavascope_volume::Mask;
    use dicom_dictionary_std::tags;
    use dicom_object::InMemDicomObject;
    use std::path::Path;
    const SEG_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.4";

    use dicom_core::value::DataSetSequence;
    use dicom_core::{DataElement, PrimitiveValue, VR};
    use dicom_object::meta::FileMetaTableBuilder;

    fn ds(v: &[f64]) -> PrimitiveValue {
        PrimitiveValue::Strs(v.iter().map(|x| format!("{x:.6}")).collect())
    }

    pub fn write_seg(path: &Path, mask: &Mask, label: &str) -> Result<(), Box<dyn std::error::Error>> {
        let g = &mask.geometry;
        let [nk, nj, ni] = mask.shape();
        let (r, c) = (g.direction(0), g.direction(1));
        let sp = g.spacing();
        let mut obj = InMemDicomObject::new_empty();
        let uid = "1.2.826.0.1.3680043.8.498.1";
        obj.put(DataElement::new(
            tags::SOP_CLASS_UID,
            VR::UI,
            PrimitiveValue::from(SEG_SOP_CLASS),
        ));
        obj.put(DataElement::new(
            tags::SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from(uid),
        ));
        obj.put(DataElement::new(
            tags::MODALITY,
            VR::CS,
            PrimitiveValue::from("SEG"),
        ));
        obj.put(DataElement::new(
            tags::ROWS,
            VR::US,
            PrimitiveValue::from(nj as u16),
        ));
        obj.put(DataElement::new(
            tags::COLUMNS,
            VR::US,
            PrimitiveValue::from(ni as u16),
        ));
        obj.put(DataElement::new(
            tags::BITS_ALLOCATED,
            VR::US,
            PrimitiveValue::from(1u16),
        ));
        obj.put(DataElement::new(
            tags::BITS_STORED,
            VR::US,
            PrimitiveValue::from(1u16),
        ));
        obj.put(DataElement::new(
            tags::HIGH_BIT,
            VR::US,
            PrimitiveValue::from(0u16),
        ));
        obj.put(DataElement::new(
            tags::SAMPLES_PER_PIXEL,
            VR::US,
            PrimitiveValue::from(1u16),
        ));
        obj.put(DataElement::new(
            tags::PIXEL_REPRESENTATION,
            VR::US,
            PrimitiveValue::from(0u16),
        ));
        obj.put(DataElement::new(
            tags::PHOTOMETRIC_INTERPRETATION,
            VR::CS,
            PrimitiveValue::from("MONOCHROME2"),
        ));
        obj.put(DataElement::new(
            tags::SEGMENTATION_TYPE,
            VR::CS,
            PrimitiveValue::from("BINARY"),
        ));
        let mut seg = InMemDicomObject::new_empty();
        seg.put(DataElement::new(
            tags::SEGMENT_NUMBER,
            VR::US,
            PrimitiveValue::from(1u16),
        ));
        seg.put(DataElement::new(
            tags::SEGMENT_LABEL,
            VR::LO,
            PrimitiveValue::from(label),
        ));
        obj.put(DataElement::new(
            tags::SEGMENT_SEQUENCE,
            VR::SQ,
            DataSetSequence::from(vec![seg]),
        ));
        let mut shared = InMemDicomObject::new_empty();
        let mut orient = InMemDicomObject::new_empty();
        orient.put(DataElement::new(
            tags::IMAGE_ORIENTATION_PATIENT,
            VR::DS,
            ds(&[r.x, r.y, r.z, c.x, c.y, c.z]),
        ));
        shared.put(DataElement::new(
            tags::PLANE_ORIENTATION_SEQUENCE,
            VR::SQ,
            DataSetSequence::from(vec![orient]),
        ));
        let mut meas = InMemDicomObject::new_empty();
        meas.put(DataElement::new(tags::PIXEL_SPACING, VR::DS, ds(&[sp[1], sp[0]])));
        meas.put(DataElement::new(tags::SLICE_THICKNESS, VR::DS, ds(&[sp[2]])));
        meas.put(DataElement::new(
            tags::SPACING_BETWEEN_SLICES,
            VR::DS,
            ds(&[sp[2]]),
        ));
        shared.put(DataElement::new(
            tags::PIXEL_MEASURES_SEQUENCE,
            VR::SQ,
            DataSetSequence::from(vec![meas]),
        ));
        obj.put(DataElement::new(
            tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
            VR::SQ,
            DataSetSequence::from(vec![shared]),
        ));
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
            item.put(DataElement::new(
                tags::PLANE_POSITION_SEQUENCE,
                VR::SQ,
                DataSetSequence::from(vec![pos]),
            ));
            let mut sid = InMemDicomObject::new_empty();
            sid.put(DataElement::new(
                tags::REFERENCED_SEGMENT_NUMBER,
                VR::US,
                PrimitiveValue::from(1u16),
            ));
            item.put(DataElement::new(
                tags::SEGMENT_IDENTIFICATION_SEQUENCE,
                VR::SQ,
                DataSetSequence::from(vec![sid]),
            ));
            per_frame.push(item);
            for j in 0..nj {
                for i in 0..ni {
                    bits.push(mask.data[[k, j, i]]);
                }
            }
        }
        let nframes = per_frame.len();
        obj.put(DataElement::new(
            tags::NUMBER_OF_FRAMES,
            VR::IS,
            PrimitiveValue::from(nframes.to_string()),
        ));
        obj.put(DataElement::new(
            tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
            VR::SQ,
            DataSetSequence::from(per_frame),
        ));
        let mut bytes = vec![0u8; bits.len().div_ceil(8)];
        for (n, b) in bits.iter().enumerate() {
            if *b {
                bytes[n / 8] |= 1 << (n % 8);
            }
        }
        if bytes.len() % 2 == 1 {
            bytes.push(0);
        }
        obj.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OB,
            PrimitiveValue::from(bytes),
        ));
        let file = obj.with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(dicom_dictionary_std::uids::EXPLICIT_VR_LITTLE_ENDIAN)
                .media_storage_sop_class_uid(SEG_SOP_CLASS)
                .media_storage_sop_instance_uid(uid),
        )?;
        file.write_to_file(path)?;
        Ok(())
    }
}
