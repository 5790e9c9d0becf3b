//! Venous collaterals: vesselness in the paravertebral / retroperitoneal space.

use crate::model::{Collaterals, IvcModel, MassModel, PhaseInfo};
use cavascope_volume::Volume;

/// Measure enlarged collateral veins.
pub fn measure_collaterals(
    _volumes: &[Volume],
    _phases: &[PhaseInfo],
    _ivc: Option<&IvcModel>,
    _mass: Option<&MassModel>,
) -> (Option<Collaterals>, Vec<String>) {
    (None, vec!["collaterals: not assessed yet".into()])
}
