//! Is a tracked tube in the chest? The IVC runs below the diaphragm, behind the liver and
//! in the retroperitoneum, with soft tissue all round it; only its last centimetre or two
//! enters the right atrium. A vein with lung beside it over most of its length is a
//! mediastinal one — on a chest CT angiogram, the superior vena cava and brachiocephalic
//! vein dense with the injected contrast (TotalSegmentator's `aorta_report` CT: an
//! automatic "IVC" of 225 mm there read `dilated_ivc` and `imperceptible_ivc_lumen` present
//! on a normal patient).
//!
//! The test, CT only: on a ring [`RING_MM`] outside each section's equivalent-diameter
//! outline, in the axial plane, the share of samples at air density ([`AIR_MAX_HU`]: lung
//! parenchyma is −900 to −700 HU, gas the same); a section is beside lung when at least
//! [`AIR_RING_FRACTION`] of its ring is air, and the tube is in the chest when at least
//! [`CHEST_SECTION_FRACTION`] of its sections are. On the fixture's native abdominal CT
//! (the automatic track, bowel gas in the pelvis included) 10 % of sections are beside
//! air; on the chest angiogram 66 %.

use crate::params::thorax::RING_SAMPLES;
pub use crate::params::thorax::{AIR_MAX_HU, AIR_RING_FRACTION, CHEST_SECTION_FRACTION, RING_MM};
use cavascope_volume::{Point3, Vector3, Volume};

/// Share of the sections `(centre, equivalent diameter mm)` whose ring is beside air, or
/// `None` when no ring could be sampled (every point outside the volume).
pub fn air_beside_fraction(sections: &[(Point3<f64>, f64)], ct: &Volume) -> Option<f64> {
    let mut judged = 0usize;
    let mut beside = 0usize;
    for (centre, diameter) in sections {
        if !diameter.is_finite() {
            continue;
        }
        let r = diameter / 2.0 + RING_MM;
        let (mut n, mut air) = (0usize, 0usize);
        for a in 0..RING_SAMPLES {
            let t = a as f64 * std::f64::consts::TAU / RING_SAMPLES as f64;
            let p = centre + Vector3::new(t.cos(), t.sin(), 0.0) * r;
            if let Some(v) = ct.nearest_world(&p) {
                n += 1;
                air += usize::from(v <= AIR_MAX_HU);
            }
        }
        if n * 2 < RING_SAMPLES {
            continue;
        }
        judged += 1;
        beside += usize::from(air as f64 >= AIR_RING_FRACTION * n as f64);
    }
    (judged > 0).then(|| beside as f64 / judged as f64)
}

/// `Err(why)` when the sections lie in the chest ([`air_beside_fraction`] at least
/// [`CHEST_SECTION_FRACTION`]).
pub fn below_the_chest(sections: &[(Point3<f64>, f64)], ct: &Volume) -> Result<(), String> {
    match air_beside_fraction(sections, ct) {
        Some(f) if f >= CHEST_SECTION_FRACTION => Err(format!(
            "the tube tracked has lung or air beside it on {:.0} % of its sections (at least {:.0} % is a vein in the chest: the superior vena cava or a mediastinal vein, not the IVC)",
            100.0 * f,
            100.0 * CHEST_SECTION_FRACTION
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_volume::Geometry;

    /// A 20 mm vein at x = 0 in soft tissue (40 HU); air (−850 HU) beyond x > `lung_x` mm.
    fn chest(lung_x: f64) -> Volume {
        let g = Geometry::axial(Point3::new(-60.0, -60.0, 0.0), [1.0, 1.0, 2.0]);
        let mut v = Volume::filled([20, 121, 121], g, 40.0);
        for ((_, _, i), x) in v.data.indexed_iter_mut() {
            if -60.0 + i as f64 > lung_x {
                *x = -850.0;
            }
        }
        v
    }

    fn tube(n: usize) -> Vec<(Point3<f64>, f64)> {
        (0..n)
            .map(|k| (Point3::new(0.0, 0.0, 2.0 * k as f64), 20.0))
            .collect()
    }

    #[test]
    fn lung_on_one_side_is_the_chest_soft_tissue_is_not() {
        // Lung from the wall (x > 10 mm) on: a third of the ring at 20 mm is air.
        let v = chest(10.0);
        let f = air_beside_fraction(&tube(20), &v).unwrap();
        assert!((f - 1.0).abs() < 1e-9, "{f}");
        let why = below_the_chest(&tube(20), &v).unwrap_err();
        assert!(why.contains("not the IVC"), "{why}");
        // Lung 40 mm away: never reached by the ring.
        let v = chest(50.0);
        assert_eq!(air_beside_fraction(&tube(20), &v), Some(0.0));
        assert!(below_the_chest(&tube(20), &v).is_ok());
    }

    #[test]
    fn a_short_stretch_beside_air_is_still_below_the_chest() {
        let mut v = chest(1000.0);
        // Air beside the top 4 of 20 sections only (an IVC entering the atrium).
        for ((k, _, i), x) in v.data.indexed_iter_mut() {
            if k >= 16 && -60.0 + i as f64 > 10.0 {
                *x = -850.0;
            }
        }
        let f = air_beside_fraction(&tube(20), &v).unwrap();
        assert!((f - 0.2).abs() < 1e-9, "{f}");
        assert!(below_the_chest(&tube(20), &v).is_ok());
        // Outside the volume: nothing judged.
        let far: Vec<_> = (0..3)
            .map(|k| (Point3::new(500.0, 0.0, k as f64), 20.0))
            .collect();
        assert_eq!(air_beside_fraction(&far, &v), None);
    }
}
