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
use crate::params::landmarks::*;
use crate::track::{theta, NRAYS};
use cavascope_volume::anatomy::names;
use cavascope_volume::{Anatomy, Point3, Volume};

pub use crate::params::landmarks::HEPATIC_BELOW_TOP_MM;

/// Branch-ray counts on the plane through one centreline point.
#[derive(Debug, Clone, Copy, Default)]
pub struct BranchCounts {
    /// Rays leaving the vein towards the patient's left whose first 2–6 mm past the wall is
    /// as bright as blood (a branch).
    pub left: f64,
    /// The same on the patient's right.
    pub right: f64,
    /// The same anteriorly.
    pub anterior: f64,
    /// All rays with a branch.
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
                let t = theta(m);
                let (dx, dy) = (t.cos(), t.sin());
                // Wall: first drop of the mask below 0.5 along the ray.
                let mut r = 0.0;
                let mut wall = None;
                while r < WALL_SEARCH_MM {
                    let p = Point3::new(c.x + dx * r, c.y + dy * r, c.z);
                    if field.sample(&p) < 0.5 {
                        wall = Some(r);
                        break;
                    }
                    r += RAY_STEP_MM;
                }
                let Some(w) = wall else { continue };
                let (mut s, mut n) = (0.0f32, 0.0f32);
                for d in BRANCH_OFFSETS_MM {
                    let p = Point3::new(c.x + dx * (w + d), c.y + dy * (w + d), c.z);
                    if let Some(v) = venous.sample_world(&p) {
                        s += v;
                        n += 1.0;
                    }
                }
                if n < BRANCH_MIN_SAMPLES || s / n < threshold {
                    continue;
                }
                bc.total += 1.0;
                if dx > SIDE_MIN_COS {
                    bc.left += 1.0;
                }
                if dx < -SIDE_MIN_COS {
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
    let both = smooth(
        &counts.iter().map(|c| c.left.min(c.right)).collect::<Vec<_>>(),
        SMOOTH_HALF_SECTIONS,
    );
    let total = smooth(
        &counts.iter().map(|c| c.total).collect::<Vec<_>>(),
        SMOOTH_HALF_SECTIONS,
    );
    // Hepatic: the highest level with a strong inflow (the hepatic veins join just
    // below the right atrium), within [`HEPATIC_BELOW_TOP_MM`] of the IVC's top; within
    // that top cluster, its peak.
    let z_top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let cand: Vec<usize> = (0..n)
        .filter(|&i| inside(i) && total[i] >= HEPATIC_MIN_RAYS && z_top - z[i] <= HEPATIC_BELOW_TOP_MM)
        .collect();
    let hepatic = cand
        .iter()
        .copied()
        .max_by(|&a, &b| z[a].total_cmp(&z[b]))
        .map(|top| {
            cand.iter()
                .copied()
                .filter(|&i| z[top] - z[i] <= HEPATIC_CLUSTER_MM)
                .max_by(|&a, &b| total[a].total_cmp(&total[b]))
                .unwrap_or(top)
        });
    // Renal: the strongest two-sided inflow, well below the hepatic confluence.
    let below = |i: usize| match hepatic {
        Some(h) => z[i] < z[h] - RENAL_BELOW_HEPATIC_MM,
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
            .push(format!("hepatic-vein confluence not found (no venous inflow within {HEPATIC_BELOW_TOP_MM:.0} mm of the top of the IVC in view)")),
    }
    (lm, warnings)
}

/// A landmark as another tool's labels give it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FromLabels {
    /// At this z (LPS mm).
    At(f64),
    /// Above the labels' top (not in view).
    AboveLabels,
    /// The labels do not tell.
    Unknown,
}

/// Per class of a label map: `(slice range, mean z)` of its voxels, `None` when absent.
fn class_extent(a: &Anatomy, name: &str) -> Option<([usize; 2], f64)> {
    let id = a.id(name)?;
    let (mut lo, mut hi, mut sum, mut n) = (usize::MAX, 0usize, 0.0f64, 0usize);
    for ((k, j, i), &v) in a.labels.indexed_iter() {
        if v == id {
            lo = lo.min(k);
            hi = hi.max(k);
            sum += a.geometry.index_to_world([i as f64, j as f64, k as f64]).z;
            n += 1;
        }
    }
    (n > 0).then(|| ([lo, hi], sum / n as f64))
}

/// Landmarks from another tool's labels (`--anatomy`, TotalSegmentator), where they show:
/// - **renal-vein inflow**: the renal veins leave the kidneys at the hilum, at mid-kidney,
///   and run nearly horizontally to the IVC: the mean z of the kidneys' centroids, for
///   kidneys whole in the map (one cut by the map's first or last slice has its centroid
///   off its middle);
/// - **hepatic-vein confluence**: the hepatic veins join the IVC where it leaves the
///   liver: the highest slice where the IVC label touches the liver label (in-plane
///   neighbours), only when the liver's dome is in the map. When the liver reaches the
///   map's top, the IVC is intrahepatic up to the top of the map (which the caller put on
///   the series' grid): the confluence lies above the series or at its very top, and the
///   labels say so ([`FromLabels::AboveLabels`]).
///
/// Returns `(hepatic, renal, notes)`.
pub fn from_anatomy(a: &Anatomy) -> (FromLabels, FromLabels, Vec<String>) {
    let nk = a.labels.dim().0;
    let whole = |r: [usize; 2]| r[0] > 0 && r[1] + 1 < nk;
    let mut notes = Vec::new();
    let kidneys: Vec<f64> = [names::KIDNEY_LEFT, names::KIDNEY_RIGHT]
        .iter()
        .filter_map(|n| class_extent(a, n))
        .filter(|(r, _)| whole(*r))
        .map(|(_, z)| z)
        .collect();
    let renal = if kidneys.is_empty() {
        FromLabels::Unknown
    } else {
        FromLabels::At(kidneys.iter().sum::<f64>() / kidneys.len() as f64)
    };
    if renal == FromLabels::Unknown {
        notes.push(format!(
            "{}: no whole kidney labelled, renal-vein level not taken from it",
            a.source
        ));
    }
    // Slices by height, highest first (a grid's slice index may run either way).
    let slice_z = |k: usize| a.geometry.index_to_world([0.0, 0.0, k as f64]).z;
    let mut by_height: Vec<usize> = (0..nk).collect();
    by_height.sort_by(|&p, &q| slice_z(q).total_cmp(&slice_z(p)));
    let top = by_height.first().copied();
    let hepatic = match (
        a.id(names::IVC),
        a.id(names::LIVER),
        class_extent(a, names::LIVER),
        top,
    ) {
        (Some(ivc), Some(liver), Some((r, _)), Some(top)) if top < r[0] || top > r[1] => {
            let (_, nj, ni) = a.labels.dim();
            by_height
                .iter()
                .find_map(|&k| {
                    let sl = a.labels.index_axis(ndarray::Axis(0), k);
                    let touches = sl.indexed_iter().any(|((j, i), &v)| {
                        v == ivc
                            && [(0i64, 1i64), (0, -1), (1, 0), (-1, 0)].iter().any(|(dj, di)| {
                                let (jj, ii) = (j as i64 + dj, i as i64 + di);
                                jj >= 0
                                    && ii >= 0
                                    && (jj as usize) < nj
                                    && (ii as usize) < ni
                                    && sl[[jj as usize, ii as usize]] == liver
                            })
                    });
                    touches.then(|| slice_z(k))
                })
                .map_or(FromLabels::Unknown, FromLabels::At)
        }
        (Some(_), Some(_), Some(_), Some(_)) => {
            notes.push(format!(
                "{}: the liver reaches the top of the labels, so the hepatic-vein confluence lies above them",
                a.source
            ));
            FromLabels::AboveLabels
        }
        _ => FromLabels::Unknown,
    };
    (hepatic, renal, notes)
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

    #[test]
    fn landmarks_from_labels() {
        use cavascope_volume::Geometry;
        use ndarray::Array3;
        // 2 mm slices from z = 0: kidneys at slices 20–40 (centroids z 60) and 24–40
        // (z 64), liver 50–90 holding the IVC up to slice 85, IVC 0–95.
        let g = Geometry::axial(Point3::new(0.0, 0.0, 0.0), [1.0, 1.0, 2.0]);
        let mut l = Array3::<u16>::zeros((100, 10, 10));
        for k in 0..100 {
            if k <= 95 {
                l[[k, 5, 5]] = 63;
            }
            if (50..=90).contains(&k) {
                l[[k, 5, 6]] = 5;
            }
            if k > 85 {
                l[[k, 5, 6]] = 0;
                if k <= 90 {
                    l[[k, 8, 8]] = 5;
                }
            }
            if (20..=40).contains(&k) {
                l[[k, 1, 1]] = 2;
            }
            if (24..=40).contains(&k) {
                l[[k, 1, 8]] = 3;
            }
        }
        let mut a = Anatomy {
            labels: l,
            geometry: g,
            classes: vec![
                (63, names::IVC.into()),
                (5, names::LIVER.into()),
                (2, names::KIDNEY_RIGHT.into()),
                (3, names::KIDNEY_LEFT.into()),
            ],
            source: "test".into(),
        };
        let (h, r, notes) = from_anatomy(&a);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(h, FromLabels::At(170.0));
        assert_eq!(r, FromLabels::At(62.0));
        // The same labels on a grid whose slice index runs head to feet.
        let mut flipped = a.clone();
        flipped.labels.invert_axis(ndarray::Axis(0));
        #[rustfmt::skip]
        let affine = cavascope_volume::Matrix4::new(
            1.0, 0.0, 0.0, 0.0,
            0.0, 1.0, 0.0, 0.0,
            0.0, 0.0, -2.0, 198.0,
            0.0, 0.0, 0.0, 1.0,
        );
        flipped.geometry = Geometry::from_affine(affine).expect("affine");
        let (hf, rf, notes) = from_anatomy(&flipped);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!((hf, rf), (h, r));
        // The liver cut by the top of the labels: no confluence from them.
        for k in 90..100 {
            a.labels[[k, 8, 8]] = 5;
        }
        let (h, _, notes) = from_anatomy(&a);
        assert_eq!(h, FromLabels::AboveLabels);
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn a_high_inflow_far_below_the_top_is_not_hepatic() {
        // A series that ends at T12 (the hybrid phantom's): the renal veins join 75 mm below
        // the top of the IVC in view and no hepatic vein is seen. The renal inflow must not
        // be taken for the hepatic confluence (which would leave no renal level).
        let mut c = vec![BranchCounts::default(); 160];
        for x in &mut c[80..=85] {
            *x = BranchCounts {
                left: 4.0,
                right: 4.0,
                anterior: 1.0,
                total: 9.0,
            };
        }
        let z: Vec<f64> = (0..160).map(|i| 267.0 + i as f64).collect();
        let s: Vec<f64> = (0..160).map(|i| i as f64).collect();
        let (lm, w) = find(&c, &z, &s);
        assert_eq!(lm.hepatic_vein_confluence_z_mm, None);
        let r = lm.renal_vein_inflow_z_mm.expect("renal inflow");
        assert!((r - 349.5).abs() <= 3.0, "{r}");
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
