//! MRI measures of the mass: T1 and T2 signal ratios to paraspinal muscle, and ADC.

use crate::model::{MrMeasures, PhaseInfo};
use cavascope_volume::{Mask, Point3, Volume};

/// Measure T1/T2 ratios and ADC of the mass.
pub fn measure_mr(
    _volumes: &[Volume],
    _phases: &[PhaseInfo],
    _mass: &Mask,
    _centroid: &Point3<f64>,
) -> (MrMeasures, Vec<String>) {
    (
        MrMeasures::default(),
        vec!["MRI measures not available yet".into()],
    )
}
