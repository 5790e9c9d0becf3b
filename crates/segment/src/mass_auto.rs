//! Finding the mass without user input: the dominant abnormal soft-tissue region next to
//! the IVC in the retrohepatic / retroperitoneal space (best effort).

use crate::model::{IvcModel, Landmarks, PhaseInfo};
use crate::stack::PhaseStack;
use cavascope_volume::{Point3, Volume};
use ndarray::Array3;

/// Where to centre the automatic search: the middle of the IVC model.
pub fn search_center(
    _volumes: &[Volume],
    _phases: &[PhaseInfo],
    ivc: Option<&IvcModel>,
) -> Option<Point3<f64>> {
    let ivc = ivc?;
    let n = ivc.centreline.len();
    (n > 0).then(|| ivc.centreline[n / 2])
}

/// The mass region on the stack grid, or `None` with the reason pushed to `w`.
pub(crate) fn find_mass(
    _stack: &PhaseStack,
    _ivc: Option<&IvcModel>,
    _landmarks: &Landmarks,
    w: &mut Vec<String>,
) -> Option<Array3<bool>> {
    w.push("mass: automatic detection not available yet; give --mass-seed or --mass-mask".into());
    None
}
