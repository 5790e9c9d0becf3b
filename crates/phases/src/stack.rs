//! The dynamic phases of a study (CT unenhanced/arterial/portal venous/delayed, or MRI T1
//! pre and post gadolinium) resampled onto one grid — a box of the reference series — so
//! that every voxel carries its value on every phase, compared in world space. Each phase
//! may carry a translation (breathing) found by [`cavascope_imaging::registration`].

use crate::model::{PhaseInfo, Role};
pub use cavascope_imaging::smooth::smooth_nan;
use cavascope_volume::{sampling, Geometry, Matrix4, Point3, Vector3, Volume};
use ndarray::Array3;

/// Smoothing applied to the features used for region growing, mm. Reduces voxel noise
/// about 8× (CT 12 HU → 1.5 HU at 2 mm voxels) so that tissues 10 HU apart separate; the
/// blur it adds at edges is undone by the midpoint refinement of the boundary.
pub const FEATURE_SMOOTH_SIGMA_MM: f64 = 2.5;

/// One phase on the stack grid.
#[derive(Debug, Clone)]
pub struct StackPhase {
    /// Index of the phase's volume in the study's volumes.
    pub volume_index: usize,
    /// Its role.
    pub role: Role,
    /// World translation applied when sampling: the value at stack point p is the
    /// phase's value at p + shift.
    pub shift_mm: Vector3<f64>,
    /// Trilinear samples (NaN outside the phase's volume).
    pub data: Array3<f32>,
    /// Gaussian-smoothed copy for region growing.
    pub smooth: Array3<f32>,
}

/// Phases on one grid.
#[derive(Debug, Clone)]
pub struct PhaseStack {
    /// Grid of the stack (a box of the reference volume's grid).
    pub geometry: Geometry,
    /// Shape of the stack grid `[slices, rows, columns]`.
    pub shape: [usize; 3],
    /// Volume whose grid the stack uses.
    pub reference_index: usize,
    /// Index offset `[k, j, i]` of the box inside the reference grid.
    pub offset_kji: [usize; 3],
    /// Dynamic phases, baseline first, in role order.
    pub phases: Vec<StackPhase>,
    /// CT (HU) or MRI (signal units).
    pub ct: bool,
    /// Spine centre (x, y) in LPS mm found on the reference series (the body midline for
    /// left–right comparisons), if found.
    pub spine_xy_mm: Option<(f64, f64)>,
}

/// The CT dynamic phases, in time order.
pub const CT_DYNAMIC: [Role; 4] = [
    Role::CtUnenhanced,
    Role::CtArterial,
    Role::CtPortalVenous,
    Role::CtDelayed,
];
/// The MRI T1 dynamic phases, in time order.
pub const MR_DYNAMIC: [Role; 4] = [
    Role::MrT1Pre,
    Role::MrT1Arterial,
    Role::MrT1PortalVenous,
    Role::MrT1Delayed,
];

/// The volume index of the first series with `role`.
pub fn find_role(phases: &[PhaseInfo], role: Role) -> Option<usize> {
    phases.iter().find(|p| p.role == role).map(|p| p.volume_index)
}

/// The dynamic phases present (CT preferred when both exist), as `(role, volume index)`.
pub fn dynamic_phases(phases: &[PhaseInfo]) -> (bool, Vec<(Role, usize)>) {
    let ct: Vec<(Role, usize)> = CT_DYNAMIC
        .iter()
        .filter_map(|&r| find_role(phases, r).map(|i| (r, i)))
        .collect();
    if !ct.is_empty() {
        return (true, ct);
    }
    let mr = MR_DYNAMIC
        .iter()
        .filter_map(|&r| find_role(phases, r).map(|i| (r, i)))
        .collect();
    (false, mr)
}

/// The series the stage measures on: portal venous, else delayed, arterial, baseline;
/// else the first volume.
pub fn reference_volume(phases: &[PhaseInfo], n_volumes: usize) -> Option<usize> {
    let order = [
        Role::CtPortalVenous,
        Role::CtDelayed,
        Role::CtArterial,
        Role::CtUnenhanced,
        Role::MrT1PortalVenous,
        Role::MrT1Delayed,
        Role::MrT1Arterial,
        Role::MrT1Pre,
    ];
    order
        .iter()
        .find_map(|&r| find_role(phases, r))
        .or(if n_volumes > 0 { Some(0) } else { None })
}

/// A box of `reference`'s grid around `center` with half-size `half_mm` (clamped to the
/// volume): its geometry, shape and index offset. `None` when the box misses the volume.
pub fn crop_box(
    reference: &Volume,
    center: &Point3<f64>,
    half_mm: f64,
) -> Option<(Geometry, [usize; 3], [usize; 3])> {
    crop_box_xyz(reference, center, Vector3::new(half_mm, half_mm, half_mm))
}

/// As [`crop_box`] with its own half-size along each world axis (x, y, z mm), so a
/// long thin region (the paravertebral space over the whole scan) is not cropped as a cube.
pub fn crop_box_xyz(
    reference: &Volume,
    center: &Point3<f64>,
    half_mm: Vector3<f64>,
) -> Option<(Geometry, [usize; 3], [usize; 3])> {
    let g = &reference.geometry;
    let shape = reference.shape();
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for dx in [-1.0, 1.0] {
        for dy in [-1.0, 1.0] {
            for dz in [-1.0, 1.0] {
                let p = center + Vector3::new(dx * half_mm.x, dy * half_mm.y, dz * half_mm.z);
                let idx = g.world_to_index(&p);
                for a in 0..3 {
                    lo[a] = lo[a].min(idx[a]);
                    hi[a] = hi[a].max(idx[a]);
                }
            }
        }
    }
    // idx is [i, j, k]; shape is [k, j, i].
    let n = [shape[2], shape[1], shape[0]];
    let mut a0 = [0usize; 3];
    let mut a1 = [0usize; 3];
    for a in 0..3 {
        if !(lo[a].is_finite() && hi[a].is_finite()) || n[a] == 0 {
            return None;
        }
        let l = lo[a].floor().max(0.0);
        let h = hi[a].ceil().min((n[a] - 1) as f64);
        if h < l {
            return None;
        }
        a0[a] = l as usize;
        a1[a] = h as usize;
    }
    let origin = g.index_to_world([a0[0] as f64, a0[1] as f64, a0[2] as f64]);
    let mut m: Matrix4<f64> = *g.affine();
    m[(0, 3)] = origin.x;
    m[(1, 3)] = origin.y;
    m[(2, 3)] = origin.z;
    let geom = Geometry::from_affine(m)?;
    let shape_kji = [a1[2] - a0[2] + 1, a1[1] - a0[1] + 1, a1[0] - a0[0] + 1];
    Some((geom, shape_kji, [a0[2], a0[1], a0[0]]))
}

/// The same grid translated by `shift` (world mm).
pub fn shifted(g: &Geometry, shift: &Vector3<f64>) -> Geometry {
    let mut m: Matrix4<f64> = *g.affine();
    m[(0, 3)] += shift.x;
    m[(1, 3)] += shift.y;
    m[(2, 3)] += shift.z;
    Geometry::from_affine(m).unwrap_or_else(|| g.clone())
}

/// Sample `v` on `geom`/`shape`, translated by `shift`; NaN outside.
pub fn sample_on(v: &Volume, geom: &Geometry, shape: [usize; 3], shift: &Vector3<f64>) -> Array3<f32> {
    let g = shifted(geom, shift);
    sampling::resample(&v.data, &v.geometry, &g, shape, f32::NAN)
}

impl PhaseStack {
    /// Build the stack of the dynamic phases on a box of the reference series around
    /// `center`. `shifts` gives a translation per volume index (missing: none).
    pub fn build(
        volumes: &[Volume],
        phases: &[PhaseInfo],
        center: &Point3<f64>,
        half_mm: f64,
        shifts: &[(usize, Vector3<f64>)],
    ) -> Option<PhaseStack> {
        Self::build_xyz(
            volumes,
            phases,
            center,
            Vector3::new(half_mm, half_mm, half_mm),
            shifts,
        )
    }

    /// As [`PhaseStack::build`] with its own half-size along each world axis (x, y, z
    /// mm), as [`crop_box_xyz`].
    pub fn build_xyz(
        volumes: &[Volume],
        phases: &[PhaseInfo],
        center: &Point3<f64>,
        half_mm: Vector3<f64>,
        shifts: &[(usize, Vector3<f64>)],
    ) -> Option<PhaseStack> {
        let (ct, dynamic) = dynamic_phases(phases);
        let reference_index = reference_volume(phases, volumes.len())?;
        let reference = volumes.get(reference_index)?;
        let (geometry, shape, offset_kji) = crop_box_xyz(reference, center, half_mm)?;
        let list: Vec<(Role, usize)> = if dynamic.is_empty() {
            vec![(Role::Other, reference_index)]
        } else {
            dynamic
        };
        let sp = geometry.spacing();
        let mut out = Vec::new();
        for (role, vi) in list {
            let Some(v) = volumes.get(vi) else { continue };
            let shift = shifts
                .iter()
                .find(|(i, _)| *i == vi)
                .map(|(_, s)| *s)
                .unwrap_or_else(Vector3::zeros);
            let data = sample_on(v, &geometry, shape, &shift);
            let smooth = smooth_nan(&data, sp, FEATURE_SMOOTH_SIGMA_MM);
            out.push(StackPhase {
                volume_index: vi,
                role,
                shift_mm: shift,
                data,
                smooth,
            });
        }
        if out.is_empty() {
            return None;
        }
        Some(PhaseStack {
            geometry,
            shape,
            reference_index,
            offset_kji,
            phases: out,
            ct,
            spine_xy_mm: crate::spine::spine_xy(reference, ct),
        })
    }

    /// The phase with `role`, if present.
    pub fn phase(&self, role: Role) -> Option<&StackPhase> {
        self.phases.iter().find(|p| p.role == role)
    }

    /// The baseline (unenhanced / T1 pre) phase, if present.
    pub fn baseline(&self) -> Option<&StackPhase> {
        self.phases.iter().find(|p| p.role.is_baseline())
    }

    /// Stack index `[k, j, i]` nearest to a world point, if inside.
    pub fn index_of(&self, p: &Point3<f64>) -> Option<[usize; 3]> {
        let [i, j, k] = self.geometry.world_to_index(p);
        let (i, j, k) = (i.round(), j.round(), k.round());
        if i < 0.0 || j < 0.0 || k < 0.0 {
            return None;
        }
        let (i, j, k) = (i as usize, j as usize, k as usize);
        (k < self.shape[0] && j < self.shape[1] && i < self.shape[2]).then_some([k, j, i])
    }

    /// Voxel spacing `[slices, rows, columns]` mm.
    pub fn spacing_kji(&self) -> [f64; 3] {
        let s = self.geometry.spacing();
        [s[2], s[1], s[0]]
    }

    /// World centre of stack voxel `[k, j, i]`.
    pub fn world(&self, kji: [usize; 3]) -> Point3<f64> {
        self.geometry
            .index_to_world([kji[2] as f64, kji[1] as f64, kji[0] as f64])
    }

    /// Embed a stack-grid mask into the full reference grid of shape `full_shape`.
    pub fn embed(&self, m: &Array3<bool>, full_shape: [usize; 3]) -> Array3<bool> {
        let mut out = Array3::from_elem(full_shape, false);
        let [ok, oj, oi] = self.offset_kji;
        for ((k, j, i), &b) in m.indexed_iter() {
            if b {
                let (a, bb, c) = (k + ok, j + oj, i + oi);
                if a < full_shape[0] && bb < full_shape[1] && c < full_shape[2] {
                    out[[a, bb, c]] = true;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_box_is_clamped_and_consistent() {
        let g = Geometry::axial(Point3::new(-50.0, -50.0, -25.0), [2.0, 2.0, 2.5]);
        let v = Volume::filled([21, 51, 51], g, 0.0);
        let (cg, shape, off) = crop_box(&v, &Point3::new(40.0, 0.0, 0.0), 20.0).expect("inside");
        // x from 20 to 60 clamps to 50: i from 35 to 50; z −20..20: k from 2 to 18.
        assert_eq!(off, [2, 15, 35]);
        assert_eq!(shape, [17, 21, 16]);
        let p = cg.index_to_world([0.0, 0.0, 0.0]);
        assert!((p - Point3::new(20.0, -20.0, -20.0)).norm() < 1e-9);
        assert!(crop_box(&v, &Point3::new(500.0, 0.0, 0.0), 20.0).is_none());
    }
}
