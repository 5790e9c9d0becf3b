//! Finding the mass without user input (best effort).
//!
//! What is implemented: a tumour that fills the IVC. The IVC stage reports stretches
//! where the IVC has no opacified lumen on the post-contrast phases (`imperceptible`
//! ranges); tissue filling the IVC over ≥ 10 mm is the intraluminal part of a mass (the
//! sign that separates IVC leiomyosarcoma from its mimics: Webb, AJR 2013). The seed is
//! the IVC centre at the middle of the longest such stretch, and the region grows from
//! there as with `--mass-seed`.
//!
//! Not implemented: masses outside the IVC (an intrahepatic or retroperitoneal mass that
//! leaves the lumen visible). They need `--mass-seed` or `--mass-mask`; the warning says
//! so. A study without an imperceptible stretch therefore reports no mass, as `normal`
//! must.

use crate::model::{IvcModel, Landmarks, PhaseInfo};
use crate::stack::PhaseStack;
use cavascope_volume::{Point3, Volume};
use ndarray::Array3;

/// Shortest stretch without opacified lumen taken as tumour filling the IVC, mm (the
/// imperceptible-lumen rule, research brief §2).
pub const MIN_FILLED_STRETCH_MM: f64 = 10.0;
/// Smallest region accepted as a mass, ml.
pub const MIN_MASS_ML: f64 = 1.0;

/// The IVC centre at the middle of the longest imperceptible stretch.
fn filled_ivc_seed(ivc: &IvcModel) -> Option<Point3<f64>> {
    let r = ivc
        .lumen
        .imperceptible_ranges_z_mm
        .iter()
        .filter(|r| (r[1] - r[0]).abs() >= MIN_FILLED_STRETCH_MM)
        .max_by(|a, b| (a[1] - a[0]).abs().total_cmp(&(b[1] - b[0]).abs()))?;
    let zm = 0.5 * (r[0] + r[1]);
    let s = ivc
        .profile
        .iter()
        .min_by(|a, b| (a.z_mm - zm).abs().total_cmp(&(b.z_mm - zm).abs()))?;
    Some(Point3::new(s.center_mm[0], s.center_mm[1], s.center_mm[2]))
}

/// Where to centre the automatic search: the filled IVC stretch, else the middle of the
/// IVC model.
pub fn search_center(
    _volumes: &[Volume],
    _phases: &[PhaseInfo],
    ivc: Option<&IvcModel>,
) -> Option<Point3<f64>> {
    let ivc = ivc?;
    if let Some(p) = filled_ivc_seed(ivc) {
        return Some(p);
    }
    let n = ivc.centreline.len();
    (n > 0).then(|| ivc.centreline[n / 2])
}

/// The mass region on the stack grid, or `None` with the reason pushed to `w`.
pub(crate) fn find_mass(
    stack: &PhaseStack,
    ivc: Option<&IvcModel>,
    _landmarks: &Landmarks,
    w: &mut Vec<String>,
) -> Option<Array3<bool>> {
    let Some(ivc) = ivc else {
        w.push("mass (auto): no IVC model to search along; give --mass-seed or --mass-mask".into());
        return None;
    };
    let Some(seed) = filled_ivc_seed(ivc) else {
        w.push(
            "mass (auto): no IVC stretch filled by tissue (no imperceptible lumen ≥ 10 mm); a mass outside the IVC is not searched for automatically — give --mass-seed or --mass-mask"
                .into(),
        );
        return None;
    };
    let Some(idx) = stack.index_of(&seed) else {
        w.push("mass (auto): the filled IVC stretch lies outside the analysed box".into());
        return None;
    };
    let region = crate::mass::grow_from_seed(stack, idx, w)?;
    let ml = region.iter().filter(|&&b| b).count() as f64 * stack.geometry.voxel_volume_mm3() / 1000.0;
    if ml < MIN_MASS_ML {
        w.push(format!(
            "mass (auto): the tissue filling the IVC forms only {ml:.2} ml; not reported as a mass"
        ));
        return None;
    }
    w.push(format!(
        "mass (auto): grown from the IVC centre ({:.1}, {:.1}, {:.1}) in the longest stretch without opacified lumen",
        seed.x, seed.y, seed.z
    ));
    Some(region)
}
