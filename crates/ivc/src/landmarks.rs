//! Landmarks along the IVC — the renal-vein inflow and the hepatic-vein confluence — and
//! the segment label of each section (case report PMC11609039: upper = right atrium to
//! hepatic veins, middle = hepatic to renal veins, lower = below the renal veins).
//!
//! Method: on the axial plane through each centreline point, rays leave the IVC wall (the
//! 0.5 level of the IVC mask) and the venous phase is sampled 2–6 mm beyond it; a ray is a
//! *branch* when that stretch is as bright as opacified caval blood. Veins that join the
//! IVC show as runs of branch rays at one level. The renal veins come from both sides at
//! the same level (left renal vein from the left, right renal vein from the right), so
//! the renal inflow is the level with the most branch rays on *both* sides; the hepatic
//! confluence is the highest level with many branch rays, below the right atrium. A single
//! lateral inflow (a gonadal or lumbar collateral) scores on one side only.

use crate::calibre::FractionField;
use crate::model::{IvcSegment, Landmarks};
use cavascope_volume::{Point3, Volume};

const NRAYS: usize = 72;
/// Ends of the IVC excluded from the search (iliac confluence, right atrium), mm.
const END_MARGIN_MM: f64 = 12.0;
/// Fewest branch rays on each side for a renal inflow (5° per ray).
const MIN_SIDE_RAYS: f64 = 2.0;

/// Branch-ray counts on the plane through one centreline point.
#[derive(Debug, Clone, Copy, Default)]
pub struct BranchCounts {
    pub left: f64,
    pub right: f64,
    pub anterior: f64,
    pub total: f64,
}

/// Count branch rays at each centre (world points, ascending z).
pub fn branch_counts(
    field: &FractionField,
    centres: &[Point3<f64>],
    venous: &Volume,
    threshold: f32,
) -> Vec<BranchCounts> {
    use rayon::prelude::*;
    centres
        .par_iter()
        .map(|c| {
            let mut bc = BranchCounts::default();
            for m in 0..NRAYS {
                let t = m as f64 * std::f64::consts::TAU / NRAYS as f64;
                let (dx, dy) = (t.cos(), t.sin());
                // Wall: first drop of the mask below 0.5 along the ray.
                let mut r = 0.0;
                let mut wall = None;
                while r < 60.0 {
                    let p = Point3::new(c.x + dx * r, c.y + dy * r, c.z);
                    if field.sample(&p) < 0.5 {
                        wall = Some(r);
                        break;
                    }
                    r += 0.25;
                }
                let Some(w) = wall else { continue };
                let (mut s, mut n) = (0.0f32, 0.0f32);
                for d in [2.0, 3.0, 4.0, 5.0, 6.0] {
                    let p = Point3::new(c.x + dx * (w + d), c.y + dy * (w + d), c.z);
                    if let Some(v) = venous.sample_world(&p) {
                        s += v;
                        n += 1.0;
                    }
                }
                if n < 3.0 || s / n < threshold {
                    continue;
                }
                bc.total += 1.0;
                if dx > 0.5 {
                    bc.left += 1.0;
                }
                if dx < -0.5 {
                    bc.right += 1.0;
                }
                if dy < -0.5 {
                    bc.anterior += 1.0;
                }
            }
            bc
        })
        .collect()
}

fn smooth(v: &[f64], half: usize) -> Vec<f64> {
    (0..v.len())
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half).min(v.len() - 1);
            v[lo..=hi].iter().sum::<f64>() / (hi - lo + 1) as f64
        })
        .collect()
}

/// Find both landmarks from the branch counts at sections with height `z` (ascending
/// z, about 1 mm apart) and arc length `s`.
pub fn find(counts: &[BranchCounts], z: &[f64], s: &[f64]) -> (Landmarks, Vec<String>) {
    let mut warnings = Vec::new();
    let n = counts.len();
    let mut lm = Landmarks::default();
    if n < 3 || z.len() != n || s.len() != n {
        warnings.push("landmarks not found: IVC too short".into());
        return (lm, warnings);
    }
    let (s0, s1) = (s[0], s[n - 1]);
    let inside = |i: usize| s[i] - s0 >= END_MARGIN_MM && s1 - s[i] >= END_MARGIN_MM;
    let both = smooth(&counts.iter().map(|c| c.left.min(c.right)).collect::<Vec<_>>(), 2);
    let total = smooth(&counts.iter().map(|c| c.total).collect::<Vec<_>>(), 2);
    // Hepatic: the highest level with a strong inflow (the hepatic veins join just
    // below the right atrium); within that top cluster, its peak.
    let cand: Vec<usize> = (0..n).filter(|&i| inside(i) && total[i] >= 6.0).collect();
    let hepatic = cand
        .iter()
        .copied()
        .max_by(|&a, &b| z[a].total_cmp(&z[b]))
        .map(|top| {
            cand.iter()
                .copied()
                .filter(|&i| z[top] - z[i] <= 15.0)
                .max_by(|&a, &b| total[a].total_cmp(&total[b]))
                .unwrap_or(top)
        });
    // Renal: the strongest two-sided inflow, well below the hepatic confluence.
    let below = |i: usize| match hepatic {
        Some(h) => z[i] < z[h] - 40.0,
        None => true,
    };
    let renal = (0..n)
        .filter(|&i| inside(i) && below(i) && both[i] >= MIN_SIDE_RAYS)
        .max_by(|&a, &b| both[a].total_cmp(&both[b]).then(b.cmp(&a)));
    match renal {
        Some(i) => lm.renal_vein_inflow_z_mm = Some(z[i]),
        None => {
            warnings.push("renal-vein inflow not found (no two-sided venous inflow along the IVC)".into())
        }
    }
    match hepatic {
        Some(i) => lm.hepatic_vein_confluence_z_mm = Some(z[i]),
        None => warnings
            .push("hepatic-vein confluence not found (no venous inflow near the top of the IVC)".into()),
    }
    (lm, warnings)
}

/// Segment of a level (z in LPS mm); `None` when the landmark that decides it is missing.
pub fn segment_of(z: f64, lm: &Landmarks) -> Option<IvcSegment> {
    match (lm.hepatic_vein_confluence_z_mm, lm.renal_vein_inflow_z_mm) {
        (Some(h), _) if z >= h => Some(IvcSegment::Upper),
        (Some(_), Some(r)) if z >= r => Some(IvcSegment::Middle),
        (None, Some(r)) if z >= r => None,
        (_, Some(_)) => Some(IvcSegment::Lower),
        (Some(_), None) => None,
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_follow_the_case_report() {
        let lm = Landmarks {
            hepatic_vein_confluence_z_mm: Some(40.0),
            renal_vein_inflow_z_mm: Some(-60.0),
        };
        assert_eq!(segment_of(50.0, &lm), Some(IvcSegment::Upper));
        assert_eq!(segment_of(0.0, &lm), Some(IvcSegment::Middle));
        assert_eq!(segment_of(-70.0, &lm), Some(IvcSegment::Lower));
        let no_hep = Landmarks {
            hepatic_vein_confluence_z_mm: None,
            renal_vein_inflow_z_mm: Some(-60.0),
        };
        assert_eq!(segment_of(0.0, &no_hep), None);
        assert_eq!(segment_of(-70.0, &no_hep), Some(IvcSegment::Lower));
    }

    #[test]
    fn one_sided_inflow_is_not_renal() {
        // 200 levels; a two-sided inflow at index 60, a one-sided (gonadal) one at 30 that
        // is stronger, and a hepatic cluster at 170.
        let mut c = vec![BranchCounts::default(); 200];
        for x in &mut c[58..=62] {
            *x = BranchCounts {
                left: 4.0,
                right: 3.0,
                anterior: 1.0,
                total: 7.0,
            };
        }
        for x in &mut c[28..=32] {
            *x = BranchCounts {
                left: 0.0,
                right: 9.0,
                anterior: 0.0,
                total: 9.0,
            };
        }
        for x in &mut c[165..=172] {
            *x = BranchCounts {
                left: 2.0,
                right: 3.0,
                anterior: 6.0,
                total: 10.0,
            };
        }
        let z: Vec<f64> = (0..200).map(|i| -150.0 + i as f64).collect();
        let s: Vec<f64> = (0..200).map(|i| i as f64).collect();
        let (lm, w) = find(&c, &z, &s);
        assert!(w.is_empty(), "{w:?}");
        assert!((lm.renal_vein_inflow_z_mm.unwrap() - (-90.0)).abs() <= 2.0);
        let h = lm.hepatic_vein_confluence_z_mm.unwrap();
        assert!((h - 18.5).abs() <= 4.0, "{h}");
    }
}
