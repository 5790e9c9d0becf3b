//! Results as DICOM, for PACS and viewers (OHIF, Slicer, Weasis): `OUT/dicom/seg.dcm`, a
//! binary Segmentation of the IVC, the mass and the enlarged collateral veins on the grid
//! of the source series, and `OUT/dicom/sr.dcm`, a TID 1500 Measurement Report
//! (Comprehensive SR) with the IVC calibre, the mass, the collaterals and every sign as a
//! qualitative evaluation. Both belong to the source study (its Study Instance UID and
//! patient module are copied) and reference its instances. See `docs/dicom-out.md`.
//!
//! - Inside: `seg` (the Segmentation), `sr` (the report); public: [`write_dicom`] and
//!   [`codes`] (the coded concepts).

#![warn(missing_docs)]

pub mod codes;
mod elem;
mod seg;
mod sr;

use cavascope_features::Thresholds;
use cavascope_ingest::{Series, SourceImage, Study};
use cavascope_measurements::Measurements;
use cavascope_report::Report;
use cavascope_volume::{Mask, Volume};
use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;
use ndarray::Array3;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why the DICOM objects could not be written.
#[derive(Debug, Error)]
pub enum DicomOutError {
    /// No series with source DICOM images to reference (e.g. a NIfTI input).
    #[error("no series with source images to reference (DICOM output needs a DICOM input)")]
    NoSourceSeries,
    /// A source image whose header cannot be read again.
    #[error("{path}: cannot read the source header: {reason}")]
    Source {
        /// The source image.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// An object that cannot be encoded as a DICOM file.
    #[error("{path}: cannot encode: {reason}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// What the encoder said.
        reason: String,
    },
    /// The file cannot be written (atomic write of the report crate).
    #[error("{0}")]
    Write(#[from] cavascope_report::ReportError),
}

/// Study-level attributes copied from a source image (patient and general study modules).
#[derive(Debug, Clone, Default)]
pub(crate) struct StudyAttributes {
    /// (tag, VR, value): copied as found; absent ones are written empty (type 2).
    pub values: Vec<(dicom_core::Tag, dicom_core::VR, String)>,
    pub study_instance_uid: String,
}

/// Attributes of the patient and general study modules.
const COPIED: [(dicom_core::Tag, dicom_core::VR); 9] = [
    (tags::PATIENT_NAME, dicom_core::VR::PN),
    (tags::PATIENT_ID, dicom_core::VR::LO),
    (tags::PATIENT_BIRTH_DATE, dicom_core::VR::DA),
    (tags::PATIENT_SEX, dicom_core::VR::CS),
    (tags::STUDY_DATE, dicom_core::VR::DA),
    (tags::STUDY_TIME, dicom_core::VR::TM),
    (tags::REFERRING_PHYSICIAN_NAME, dicom_core::VR::PN),
    (tags::STUDY_ID, dicom_core::VR::SH),
    (tags::ACCESSION_NUMBER, dicom_core::VR::SH),
];

impl StudyAttributes {
    /// Read them from the header of `path` (pixel data not read; the file is only read).
    pub fn read(path: &Path) -> Result<StudyAttributes, DicomOutError> {
        let obj = OpenFileOptions::new()
            .read_until(tags::PIXEL_DATA)
            .open_file(path)
            .map_err(|e| DicomOutError::Source {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let text = |t| {
            obj.element_opt(t)
                .ok()
                .flatten()
                .and_then(|e| e.to_str().ok())
                .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
        };
        let study_instance_uid = text(tags::STUDY_INSTANCE_UID)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| DicomOutError::Source {
                path: path.to_path_buf(),
                reason: "no Study Instance UID".into(),
            })?;
        let values = COPIED
            .iter()
            .map(|&(t, vr)| (t, vr, text(t).unwrap_or_default()))
            .collect();
        Ok(StudyAttributes {
            values,
            study_instance_uid,
        })
    }

    /// Put them (and the Study Instance UID) into `o`.
    pub fn apply(&self, o: &mut elem::Obj) {
        for (t, vr, v) in &self.values {
            if v.is_empty() {
                elem::put_empty(o, *t, *vr);
            } else {
                elem::put_str(o, *t, *vr, v);
            }
        }
        elem::put_str(
            o,
            tags::STUDY_INSTANCE_UID,
            dicom_core::VR::UI,
            &self.study_instance_uid,
        );
    }
}

/// The series the SEG is drawn on and the SR's lines are placed on, with its volume.
pub(crate) struct Reference<'a> {
    pub series: &'a Series,
    pub volume: &'a Volume,
}

impl Reference<'_> {
    /// The nearest source image of slice `k`.
    pub fn source_of(&self, k: usize) -> Option<&SourceImage> {
        self.series.slice_sources.get(k).and_then(|v| v.first())
    }

    /// Every source SOP instance of the series (each once, in slice order), as
    /// Referenced SOP Class / Instance UID items.
    pub fn sop_items(&self) -> Vec<elem::Obj> {
        let mut seen = std::collections::BTreeSet::new();
        self.instances()
            .into_iter()
            .filter(|s| seen.insert(s.sop_instance_uid.as_str()))
            .map(|s| elem::sop_ref(&s.sop_class_uid, &s.sop_instance_uid))
            .collect()
    }

    /// Every source image of the series (each once, in slice order).
    pub fn instances(&self) -> Vec<&SourceImage> {
        let mut seen = std::collections::BTreeSet::new();
        self.series
            .slice_sources
            .iter()
            .flatten()
            .filter(|s| seen.insert((s.sop_instance_uid.as_str(), s.frame_number)))
            .collect()
    }
}

/// The reference: the series the IVC was measured on, else the one report's overlays use.
pub(crate) fn reference<'a>(study: &'a Study, m: &Measurements) -> Option<Reference<'a>> {
    let vols: Vec<&Volume> = study.volumes().collect();
    let v = cavascope_report::reference_volume(&vols, m)?;
    let series = study
        .series
        .iter()
        .find(|s| s.volume.as_ref().is_some_and(|x| std::ptr::eq(x, v)))?;
    (!series.slice_sources.is_empty() && series.slice_sources.len() == v.shape()[0])
        .then_some(Reference { series, volume: v })
}

/// `mask` on the reference grid: itself when the grids agree, else nearest-neighbour
/// resampled (label maps are never blended).
pub(crate) fn on_grid(mask: &Mask, vol: &Volume) -> Array3<bool> {
    let same = mask.shape() == vol.shape() && {
        let (a, b) = (mask.geometry.affine(), vol.geometry.affine());
        (0..3).all(|r| (0..4).all(|c| (a[(r, c)] - b[(r, c)]).abs() < 1e-6))
    };
    if same {
        mask.data.clone()
    } else {
        mask.resample_onto(&vol.geometry, vol.shape()).data
    }
}

/// A segment of the SEG and the SR group tied to it.
#[derive(Debug, Clone)]
pub struct SegmentInfo {
    /// Segment Number (1-based).
    pub number: u16,
    /// Segment Label, e.g. `Inferior vena cava`.
    pub label: String,
    /// Tracking UID shared by the segment and its SR measurement group.
    pub tracking_uid: String,
    /// Voxels in the segment on the reference grid.
    pub voxels: usize,
    /// Their volume, ml.
    pub volume_ml: f64,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    /// `seg.dcm`; `None` when no label had voxels.
    pub seg: Option<PathBuf>,
    /// `sr.dcm`.
    pub sr: PathBuf,
    /// The segments of the SEG, in segment-number order.
    pub segments: Vec<SegmentInfo>,
}

/// Write `out/seg.dcm` (when any label has voxels) and `out/sr.dcm`. `t` are the
/// thresholds the report was judged with (they decide which collateral veins are enlarged).
pub fn write_dicom(
    out: &Path,
    study: &Study,
    m: &Measurements,
    t: &Thresholds,
    report: &Report,
) -> Result<Written, DicomOutError> {
    let r = reference(study, m).ok_or(DicomOutError::NoSourceSeries)?;
    let first = r
        .instances()
        .first()
        .map(|s| s.path.clone())
        .ok_or(DicomOutError::NoSourceSeries)?;
    let attrs = StudyAttributes::read(&first)?;
    let tool_version = report.tool.version.as_str();
    let collaterals = cavascope_report::enlarged_collaterals_mask(m, t);
    let seg = seg::build(&r, &attrs, m, collaterals.as_ref(), tool_version);
    let mut seg_path = None;
    let mut segments = Vec::new();
    let mut seg_ref = None;
    if let Some(s) = seg {
        let p = out.join("seg.dcm");
        seg_ref = Some((s.sop_instance_uid.clone(), s.series_instance_uid.clone()));
        segments = s.segments.clone();
        let bytes = s.into_bytes(&p)?;
        seg_path = Some(cavascope_report::write_atomic(out, "seg.dcm", &bytes)?);
    }
    let sr = sr::build(&r, &attrs, m, report, &segments, seg_ref.as_ref());
    let p = out.join("sr.dcm");
    let bytes = sr.into_bytes(&p)?;
    let sr_path = cavascope_report::write_atomic(out, "sr.dcm", &bytes)?;
    Ok(Written {
        seg: seg_path,
        sr: sr_path,
        segments,
    })
}

/// Encode a data set as a DICOM file (Explicit VR Little Endian).
pub(crate) fn file_bytes(
    obj: elem::Obj,
    sop_class: &str,
    sop_instance: &str,
    path: &Path,
) -> Result<Vec<u8>, DicomOutError> {
    let enc = |e: String| DicomOutError::Encode {
        path: path.to_path_buf(),
        reason: e,
    };
    let file = obj
        .with_meta(
            dicom_object::meta::FileMetaTableBuilder::new()
                .transfer_syntax(dicom_dictionary_std::uids::EXPLICIT_VR_LITTLE_ENDIAN)
                .media_storage_sop_class_uid(sop_class)
                .media_storage_sop_instance_uid(sop_instance)
                .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
                .implementation_version_name(IMPLEMENTATION_VERSION_NAME),
        )
        .map_err(|e| enc(e.to_string()))?;
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).map_err(|e| enc(e.to_string()))?;
    Ok(bytes)
}

/// cavascope's implementation class UID (a fixed 2.25 UUID).
pub(crate) const IMPLEMENTATION_CLASS_UID: &str = "2.25.186920431766386398016011454296581470413";
pub(crate) const IMPLEMENTATION_VERSION_NAME: &str = "CAVASCOPE";
/// Device Observer UID of the SR (cavascope as the observing device).
pub(crate) const DEVICE_OBSERVER_UID: &str = "2.25.265019233474734519474185233911474155741";
