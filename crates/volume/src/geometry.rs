//! Geometry: the affine from voxel index `[i, j, k]` (column, row, slice) to patient LPS mm.

use nalgebra::{Matrix3, Matrix4, Point3, Vector3, Vector4};
use serde::{Deserialize, Serialize};

/// Voxel index → LPS mm. Columns of the affine: step along i (columns), along j (rows),
/// along k (slices), and the centre of voxel (0,0,0). Shear (gantry tilt) is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    affine: Matrix4<f64>,
    inverse: Matrix4<f64>,
}

/// Serialisable form: the 4×4 row-major affine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AffineRows(pub [[f64; 4]; 4]);

impl Geometry {
    /// From a full affine. Returns `None` when the affine is singular.
    pub fn from_affine(affine: Matrix4<f64>) -> Option<Self> {
        let inverse = affine.try_inverse()?;
        if !inverse.iter().all(|v| v.is_finite()) {
            return None;
        }
        Some(Geometry { affine, inverse })
    }

    /// From an origin (centre of the first voxel), unit direction cosines of the row
    /// (i, along a row = DICOM IOP first triplet), column (j) and slice (k) axes and the
    /// spacing `[di, dj, dk]` in mm. The slice axis need not be orthogonal (tilt).
    ///
    /// Panics never; a degenerate set of axes yields a geometry whose inverse is the
    /// pseudo-identity, so callers that take data from files should use [`Geometry::try_from_axes`].
    pub fn from_axes(
        origin: Point3<f64>,
        row_dir: Vector3<f64>,
        col_dir: Vector3<f64>,
        slice_dir: Vector3<f64>,
        spacing: [f64; 3],
    ) -> Self {
        Self::try_from_axes(origin, row_dir, col_dir, slice_dir, spacing).unwrap_or_else(|| Geometry {
            affine: Matrix4::identity(),
            inverse: Matrix4::identity(),
        })
    }

    /// As [`Geometry::from_axes`], `None` when the axes are degenerate.
    pub fn try_from_axes(
        origin: Point3<f64>,
        row_dir: Vector3<f64>,
        col_dir: Vector3<f64>,
        slice_dir: Vector3<f64>,
        spacing: [f64; 3],
    ) -> Option<Self> {
        let a = row_dir * spacing[0];
        let b = col_dir * spacing[1];
        let c = slice_dir * spacing[2];
        Self::from_columns(a, b, c, origin)
    }

    /// From the three step vectors (mm per index step) and the origin.
    pub fn from_columns(
        di: Vector3<f64>,
        dj: Vector3<f64>,
        dk: Vector3<f64>,
        origin: Point3<f64>,
    ) -> Option<Self> {
        let mut m = Matrix4::identity();
        for r in 0..3 {
            m[(r, 0)] = di[r];
            m[(r, 1)] = dj[r];
            m[(r, 2)] = dk[r];
            m[(r, 3)] = origin[r];
        }
        Self::from_affine(m)
    }

    /// An axial identity-direction grid: handy in tests and phantoms.
    pub fn axial(origin: Point3<f64>, spacing: [f64; 3]) -> Self {
        Self::from_axes(origin, Vector3::x(), Vector3::y(), Vector3::z(), spacing)
    }

    /// The 4×4 affine, voxel index `[i, j, k, 1]` → LPS mm.
    pub fn affine(&self) -> &Matrix4<f64> {
        &self.affine
    }

    /// Its inverse, LPS mm → voxel index.
    pub fn inverse(&self) -> &Matrix4<f64> {
        &self.inverse
    }

    /// Row-major affine for serialisation.
    pub fn affine_rows(&self) -> AffineRows {
        let mut r = [[0.0; 4]; 4];
        for (i, row) in r.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = self.affine[(i, j)];
            }
        }
        AffineRows(r)
    }

    /// Centre of voxel `[i, j, k]` (fractional allowed) in LPS mm.
    #[inline]
    pub fn index_to_world(&self, ijk: [f64; 3]) -> Point3<f64> {
        let v = self.affine * Vector4::new(ijk[0], ijk[1], ijk[2], 1.0);
        Point3::new(v[0], v[1], v[2])
    }

    /// Continuous index `[i, j, k]` of a world point.
    #[inline]
    pub fn world_to_index(&self, p: &Point3<f64>) -> [f64; 3] {
        let v = self.inverse * Vector4::new(p.x, p.y, p.z, 1.0);
        [v[0], v[1], v[2]]
    }

    /// Centre of the first voxel.
    pub fn origin(&self) -> Point3<f64> {
        Point3::new(self.affine[(0, 3)], self.affine[(1, 3)], self.affine[(2, 3)])
    }

    /// Step vector (mm) for one index step along axis 0 = i, 1 = j, 2 = k.
    pub fn step(&self, axis: usize) -> Vector3<f64> {
        Vector3::new(
            self.affine[(0, axis)],
            self.affine[(1, axis)],
            self.affine[(2, axis)],
        )
    }

    /// Spacing `[di, dj, dk]` in mm (lengths of the step vectors).
    pub fn spacing(&self) -> [f64; 3] {
        [self.step(0).norm(), self.step(1).norm(), self.step(2).norm()]
    }

    /// Unit direction of an axis.
    pub fn direction(&self, axis: usize) -> Vector3<f64> {
        let s = self.step(axis);
        let n = s.norm();
        if n > 0.0 {
            s / n
        } else {
            s
        }
    }

    /// The slice normal (row × column), which for tilted data differs from the slice step.
    pub fn normal(&self) -> Vector3<f64> {
        self.direction(0).cross(&self.direction(1)).normalize()
    }

    /// Shear of the slice axis against the slice normal, in degrees (0 when orthogonal,
    /// the gantry tilt for a tilted CT).
    pub fn shear_deg(&self) -> f64 {
        let c = self.direction(2).dot(&self.normal()).abs().clamp(0.0, 1.0);
        c.acos().to_degrees()
    }

    /// 3×3 linear part.
    pub fn linear(&self) -> Matrix3<f64> {
        self.affine.fixed_view::<3, 3>(0, 0).into_owned()
    }

    /// Volume of one voxel in mm³.
    pub fn voxel_volume_mm3(&self) -> f64 {
        self.linear().determinant().abs()
    }

    /// The affine in NIfTI's RAS convention: LPS → RAS negates x and y.
    pub fn to_ras_affine(&self) -> Matrix4<f64> {
        let mut flip = Matrix4::identity();
        flip[(0, 0)] = -1.0;
        flip[(1, 1)] = -1.0;
        flip * self.affine
    }

    /// From a NIfTI-style RAS affine (index → RAS mm).
    pub fn from_ras_affine(ras: Matrix4<f64>) -> Option<Self> {
        let mut flip = Matrix4::identity();
        flip[(0, 0)] = -1.0;
        flip[(1, 1)] = -1.0;
        Self::from_affine(flip * ras)
    }

    /// Does the world point fall within the grid of `shape = [slices, rows, cols]`
    /// (within half a voxel of the outer centres)?
    pub fn contains(&self, p: &Point3<f64>, shape: [usize; 3]) -> bool {
        let [i, j, k] = self.world_to_index(p);
        let inside = |x: f64, n: usize| x >= -0.5 && x <= n as f64 - 0.5;
        inside(i, shape[2]) && inside(j, shape[1]) && inside(k, shape[0])
    }

    /// Axis-aligned world bounding box (min, max) of the voxel centres of a grid.
    pub fn world_bounds(&self, shape: [usize; 3]) -> (Point3<f64>, Point3<f64>) {
        let mut lo = Point3::new(f64::INFINITY, f64::INFINITY, f64::INFINITY);
        let mut hi = Point3::new(f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
        for &k in &[0.0, (shape[0].max(1) - 1) as f64] {
            for &j in &[0.0, (shape[1].max(1) - 1) as f64] {
                for &i in &[0.0, (shape[2].max(1) - 1) as f64] {
                    let p = self.index_to_world([i, j, k]);
                    for a in 0..3 {
                        lo[a] = lo[a].min(p[a]);
                        hi[a] = hi[a].max(p[a]);
                    }
                }
            }
        }
        (lo, hi)
    }

    /// Largest absolute difference between two affines' elements (mm for the translation).
    pub fn max_abs_diff(&self, other: &Geometry) -> f64 {
        (self.affine - other.affine).abs().max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_oblique_tilted() {
        let row = Vector3::new(0.9, 0.1, 0.0).normalize();
        let col = Vector3::new(-0.1, 0.9, 0.3).normalize();
        let col = (col - row * row.dot(&col)).normalize();
        let normal = row.cross(&col);
        let tilted = (normal + col * 0.2).normalize();
        let g = Geometry::from_axes(Point3::new(1.0, 2.0, 3.0), row, col, tilted, [0.7, 0.8, 2.5]);
        let p = g.index_to_world([10.5, 3.25, 7.0]);
        let back = g.world_to_index(&p);
        assert!(
            (back[0] - 10.5).abs() < 1e-9 && (back[1] - 3.25).abs() < 1e-9 && (back[2] - 7.0).abs() < 1e-9
        );
        assert!((g.shear_deg() - (0.2f64).atan().to_degrees()).abs() < 1e-6);
        let sp = g.spacing();
        assert!((sp[0] - 0.7).abs() < 1e-12 && (sp[2] - 2.5).abs() < 1e-12);
    }

    #[test]
    fn ras_round_trip() {
        let g = Geometry::axial(Point3::new(-10.0, 20.0, 5.0), [1.0, 1.0, 2.0]);
        let ras = g.to_ras_affine();
        assert_eq!(ras[(0, 3)], 10.0);
        assert_eq!(ras[(1, 3)], -20.0);
        let g2 = Geometry::from_ras_affine(ras).expect("invertible");
        assert!(g.max_abs_diff(&g2) < 1e-12);
    }

    #[test]
    fn singular_refused() {
        assert!(Geometry::from_columns(Vector3::x(), Vector3::x(), Vector3::z(), Point3::origin()).is_none());
    }
}
