//! What later stages need to know about the series a volume came from.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Series metadata carried with a volume. Every field is optional in DICOM practice;
/// absent tags stay `None` rather than being guessed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VolumeMeta {
    pub modality: String,
    pub series_instance_uid: String,
    pub study_instance_uid: Option<String>,
    pub frame_of_reference_uid: Option<String>,
    pub series_number: Option<i64>,
    pub series_description: Option<String>,
    pub protocol_name: Option<String>,
    pub image_type: Vec<String>,
    /// Seconds since midnight of AcquisitionTime (or SeriesTime/ContentTime as fallback).
    pub acquisition_time_s: Option<f64>,
    /// ContrastBolusAgent (0018,0010), when given.
    pub contrast_agent: Option<String>,
    /// ContrastBolusStartTime (0018,1042) in seconds since midnight.
    pub contrast_start_time_s: Option<f64>,
    pub echo_time_ms: Option<f64>,
    pub repetition_time_ms: Option<f64>,
    pub inversion_time_ms: Option<f64>,
    pub flip_angle_deg: Option<f64>,
    /// Diffusion b-value (0018,9087), s/mm².
    pub b_value: Option<f64>,
    pub sequence_name: Option<String>,
    pub scanning_sequence: Option<String>,
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
