//! Values beside the signs that the thresholds decide too: whether the mass extends into
//! the lumen, and which collateral vessels are enlarged (their count and volume). The
//! measuring stage reports the raw volumes and diameters; these follow a thresholds
//! override exactly as the signs do.

use crate::thresholds::Thresholds;
use cavascope_measurements::{Collaterals, MassModel, Measurements};
use serde::{Deserialize, Serialize};

/// The enlarged collateral vessels: each vessel on a named pathway at or above its
/// pathway's diameter limit ([`collateral_limit`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnlargedCollaterals {
    /// How many vessels are enlarged.
    pub count: usize,
    /// Their volume, ml.
    pub volume_ml: f64,
    /// Their indices in `Collaterals::vessels` (for the label map: `Collaterals::mask_of`).
    pub vessels: Vec<usize>,
}

/// Everything the thresholds decide beside the signs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    /// Mass tissue deep inside the IVC contour of at least `intraluminal_min_ml`; `None`
    /// when there is no mass or the volume was not measured.
    pub intraluminal_extension: Option<bool>,
    /// `None` when the collaterals were not assessed.
    pub enlarged_collaterals: Option<EnlargedCollaterals>,
}

/// Decide the values beside the signs.
pub fn decide(m: &Measurements, t: &Thresholds) -> Decided {
    Decided {
        intraluminal_extension: m.mass.as_ref().and_then(|x| intraluminal_extension(x, t)),
        enlarged_collaterals: m.collaterals.as_ref().map(|c| enlarged_collaterals(c, t)),
    }
}

/// Does the mass extend into the lumen? `None` when the deep volume was not measured.
pub fn intraluminal_extension(mass: &MassModel, t: &Thresholds) -> Option<bool> {
    mass.intraluminal_ml.map(|v| v >= t.intraluminal_min_ml)
}

/// The diameter limit of a collateral pathway, mm.
pub fn collateral_limit(t: &Thresholds, name: &str) -> f64 {
    let n = name.to_ascii_lowercase();
    if n.contains("hemiazygos") {
        t.hemiazygos_diameter_mm
    } else if n.contains("azygos") {
        t.azygos_diameter_mm
    } else if n.contains("gonadal") || n.contains("ovarian") || n.contains("testicular") {
        t.gonadal_diameter_mm
    } else {
        t.other_collateral_diameter_mm
    }
}

/// The vessels at or above their pathway's limit, counted and summed in the order measured.
pub fn enlarged_collaterals(col: &Collaterals, t: &Thresholds) -> EnlargedCollaterals {
    let mut e = EnlargedCollaterals::default();
    for (i, v) in col.vessels.iter().enumerate() {
        if v.diameter_mm >= collateral_limit(t, &v.name) {
            e.count += 1;
            e.volume_ml += v.volume_ml;
            e.vessels.push(i);
        }
    }
    e
}
