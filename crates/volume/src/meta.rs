//! What later stages need to know about the series a volume came from.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Series metadata carried with a volume. Every field is optional in DICOM practice;
/// absent tags stay `None` rather than being guessed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VolumeMeta {
    /// Modality (0008,0060): `CT`, `MR`…
    pub modality: String,
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// StudyInstanceUID (0020,000D).
    pub study_instance_uid: Option<String>,
    /// FrameOfReferenceUID (0020,0052).
    pub frame_of_reference_uid: Option<String>,
    /// SeriesNumber (0020,0011).
    pub series_number: Option<i64>,
    /// SeriesDescription (0008,103E).
    pub series_description: Option<String>,
    /// ProtocolName (0018,1030).
    pub protocol_name: Option<String>,
    /// ImageType (0008,0008), its values.
    pub image_type: Vec<String>,
    /// Seconds since midnight of AcquisitionTime (or SeriesTime/ContentTime as fallback).
    pub acquisition_time_s: Option<f64>,
    /// ContrastBolusAgent (0018,0010), when given.
    pub contrast_agent: Option<String>,
    /// ContrastBolusStartTime (0018,1042) in seconds since midnight.
    pub contrast_start_time_s: Option<f64>,
    /// MRI EchoTime (0018,0081), ms.
    pub echo_time_ms: Option<f64>,
    /// MRI RepetitionTime (0018,0080), ms.
    pub repetition_time_ms: Option<f64>,
    /// MRI InversionTime (0018,0082), ms.
    pub inversion_time_ms: Option<f64>,
    /// MRI FlipAngle (0018,1314), degrees.
    pub flip_angle_deg: Option<f64>,
    /// Diffusion b-value (0018,9087), s/mm².
    pub b_value: Option<f64>,
    /// MRI SequenceName (0018,0024).
    pub sequence_name: Option<String>,
    /// MRI ScanningSequence (0018,0020).
    pub scanning_sequence: Option<String>,
    /// Manufacturer (0008,0070).
    pub manufacturer: Option<String>,
    /// Temporal position / phase index inside a series that shares one UID.
    pub temporal_index: Option<i64>,
    /// Files whose pixels went into this volume, in slice order.
    pub files: Vec<PathBuf>,
    /// SliceThickness (0018,0050), mm (BIDS sidecar `SliceThickness`).
    #[serde(default)]
    pub slice_thickness_mm: Option<f64>,
    /// AcquisitionNumber (0020,0012) of the first image.
    #[serde(default)]
    pub acquisition_number: Option<i64>,
}
