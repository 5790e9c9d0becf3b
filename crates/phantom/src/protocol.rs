//! The series of a study: their roles, timing and acquisition tags.

use crate::tissue::Props;
use serde::{Deserialize, Serialize};

/// What a series shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// CT phase 0 unenhanced, 1 arterial, 2 portal venous, 3 delayed.
    Ct(usize),
    /// T1 fat-suppressed GRE, 0 pre, 1 arterial, 2 portal venous, 3 delayed.
    MrT1(usize),
    /// T2-weighted single-shot fast spin echo (HASTE).
    MrT2,
    /// Diffusion-weighted trace image at this b-value (s/mm²).
    MrDwi(f64),
    /// ADC map in 1e-6 mm²/s (the Siemens/GE convention), derived.
    MrAdc,
}

impl SeriesKind {
    /// The tissue's value on this series.
    #[inline]
    pub fn signal(&self, p: &Props) -> f32 {
        match *self {
            SeriesKind::Ct(i) => p.ct[i.min(3)],
            SeriesKind::MrT1(i) => p.t1[i.min(3)],
            SeriesKind::MrT2 => p.t2,
            SeriesKind::MrDwi(b) => p.s0 * (-(b as f32) * p.adc * 1e-3).exp(),
            SeriesKind::MrAdc => p.adc * 1000.0,
        }
    }

    /// A CT series (values in HU)?
    pub fn is_ct(&self) -> bool {
        matches!(self, SeriesKind::Ct(_))
    }

    /// Lowest and highest value the series may store.
    pub fn value_range(&self) -> (f32, f32) {
        if self.is_ct() {
            (-1024.0, 3071.0)
        } else {
            (0.0, 4095.0)
        }
    }
}

/// One series of the study with the tags a role detector can use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeriesSpec {
    /// report-v1 role this series should be given.
    pub role: String,
    /// Which image the series holds.
    pub kind: SeriesKind,
    /// SeriesDescription, as a scanner would write it.
    pub description: String,
    /// ProtocolName.
    pub protocol_name: String,
    /// SeriesNumber.
    pub series_number: i64,
    /// AcquisitionTime, seconds since midnight.
    pub acquisition_time_s: f64,
    /// ContrastBolusAgent; `None` before contrast.
    pub contrast_agent: Option<String>,
    /// ContrastBolusStartTime, seconds since midnight (with the agent only).
    pub contrast_start_time_s: Option<f64>,
    /// EchoTime (MR only).
    pub echo_time_ms: Option<f64>,
    /// RepetitionTime (MR only).
    pub repetition_time_ms: Option<f64>,
    /// FlipAngle (MR only).
    pub flip_angle_deg: Option<f64>,
    /// Diffusion b-value, s/mm² (DWI only).
    pub b_value: Option<f64>,
    /// SequenceName (MR only), e.g. `*fl3d1`.
    pub sequence_name: Option<String>,
    /// ScanningSequence (MR only), e.g. `GR`, `SE`, `EP`.
    pub scanning_sequence: Option<String>,
    /// ImageType values (`ORIGINAL\\PRIMARY\\AXIAL`, `DERIVED` for the ADC map).
    pub image_type: Vec<String>,
}

/// Study start (10:00:00), seconds since midnight.
pub const STUDY_TIME_S: f64 = 36_000.0;

fn base(role: &str, kind: SeriesKind, desc: &str, n: i64, t: f64) -> SeriesSpec {
    SeriesSpec {
        role: role.to_string(),
        kind,
        description: desc.to_string(),
        protocol_name: desc.to_string(),
        series_number: n,
        acquisition_time_s: t,
        contrast_agent: None,
        contrast_start_time_s: None,
        echo_time_ms: None,
        repetition_time_ms: None,
        flip_angle_deg: None,
        b_value: None,
        sequence_name: None,
        scanning_sequence: None,
        image_type: vec!["ORIGINAL".into(), "PRIMARY".into(), "AXIAL".into()],
    }
}

/// Four-phase CT: unenhanced, arterial (35 s), portal venous (75 s), delayed (180 s)
/// after the injection at study start + 120 s.
pub fn ct_protocol() -> Vec<SeriesSpec> {
    let inj = STUDY_TIME_S + 120.0;
    let agent = "Iohexol 350 mgI/ml";
    let phases = [
        ("ct_unenhanced", "ABD NON CONTRAST 2.5mm", None),
        ("ct_arterial", "ABD ARTERIAL 2.5mm", Some(35.0)),
        ("ct_portal_venous", "ABD PORTAL VENOUS 2.5mm", Some(75.0)),
        ("ct_delayed", "ABD DELAYED 3MIN 2.5mm", Some(180.0)),
    ];
    phases
        .iter()
        .enumerate()
        .map(|(i, (role, desc, after))| {
            let t = match after {
                Some(a) => inj + a,
                None => STUDY_TIME_S + 30.0,
            };
            let mut s = base(role, SeriesKind::Ct(i), desc, (i as i64 + 2) * 100 + 1, t);
            if after.is_some() {
                s.contrast_agent = Some(agent.to_string());
                s.contrast_start_time_s = Some(inj);
            }
            s
        })
        .collect()
}

/// MRI: T2 HASTE, DWI (b = 0 and b = 800 as two series, plus the ADC map), then T1
/// VIBE pre and after gadolinium (arterial 20 s, portal venous 70 s, delayed 180 s).
pub fn mr_protocol() -> Vec<SeriesSpec> {
    let inj = STUDY_TIME_S + 900.0;
    let agent = "Gadobutrol 1.0 mmol/ml";
    let mut out = Vec::new();
    let mut t2 = base(
        "mr_t2",
        SeriesKind::MrT2,
        "t2_haste_tra",
        201,
        STUDY_TIME_S + 60.0,
    );
    t2.echo_time_ms = Some(92.0);
    t2.repetition_time_ms = Some(1400.0);
    t2.flip_angle_deg = Some(160.0);
    t2.sequence_name = Some("*haste1_256".into());
    t2.scanning_sequence = Some("SE".into());
    out.push(t2);
    for (i, b) in [0.0, 800.0].iter().enumerate() {
        let mut d = base(
            "mr_dwi",
            SeriesKind::MrDwi(*b),
            &format!("ep2d_diff_tra_b{b}"),
            301 + i as i64,
            STUDY_TIME_S + 240.0,
        );
        d.echo_time_ms = Some(62.0);
        d.repetition_time_ms = Some(5200.0);
        d.flip_angle_deg = Some(90.0);
        d.b_value = Some(*b);
        d.sequence_name = Some(format!("*ep_b{b}t"));
        d.scanning_sequence = Some("EP".into());
        d.image_type.push("DIFFUSION".into());
        d.image_type.push("TRACEW".into());
        out.push(d);
    }
    let mut adc = base(
        "mr_adc",
        SeriesKind::MrAdc,
        "ep2d_diff_tra_ADC",
        303,
        STUDY_TIME_S + 240.0,
    );
    adc.image_type = vec![
        "DERIVED".into(),
        "PRIMARY".into(),
        "DIFFUSION".into(),
        "ADC".into(),
    ];
    adc.echo_time_ms = Some(62.0);
    adc.repetition_time_ms = Some(5200.0);
    adc.scanning_sequence = Some("EP".into());
    out.push(adc);
    let t1 = [
        ("mr_t1_pre", "t1_vibe_fs_tra_pre", None),
        ("mr_t1_arterial", "t1_vibe_fs_tra_arterial", Some(20.0)),
        ("mr_t1_portal_venous", "t1_vibe_fs_tra_portal", Some(70.0)),
        ("mr_t1_delayed", "t1_vibe_fs_tra_delayed_3min", Some(180.0)),
    ];
    for (i, (role, desc, after)) in t1.iter().enumerate() {
        let t = match after {
            Some(a) => inj + a,
            None => inj - 60.0,
        };
        let mut s = base(role, SeriesKind::MrT1(i), desc, 401 + i as i64, t);
        s.echo_time_ms = Some(2.46);
        s.repetition_time_ms = Some(5.2);
        s.flip_angle_deg = Some(10.0);
        s.sequence_name = Some("*fl3d1".into());
        s.scanning_sequence = Some("GR".into());
        if after.is_some() {
            s.contrast_agent = Some(agent.to_string());
            s.contrast_start_time_s = Some(inj);
        }
        out.push(s);
    }
    out
}
