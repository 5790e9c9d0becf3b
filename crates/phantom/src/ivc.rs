//! The analytic IVC: a gently curved centreline with an elliptical cross-section whose
//! semi-axes vary along z (dilated by a tumour, flattened by a mass outside it).
//!
//! The cross-section is defined in the axial plane; [`Ivc::section`] gives the exact
//! section perpendicular to the centreline (an ellipse too, to first order in the
//! centreline's curvature), which is what `truth.json` reports.

use crate::shapes::ellipse_sd;
use nalgebra::{Matrix2, Point3, Vector2, Vector3};
use serde::{Deserialize, Serialize};

/// A local dilation of the IVC (tumour expanding the vein).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dilation {
    pub z_center: f64,
    /// Half-length of the raised-cosine window, mm.
    pub half_length: f64,
    /// Semi-axes at the peak (transverse, AP), mm.
    pub a_peak: f64,
    pub b_peak: f64,
}

/// Flattening by a mass anterior to the IVC: the anterior wall keeps `gap_mm` away
/// from the mass's posterior surface (an ellipsoid), never below `b_min` (semi-axis).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flattening {
    pub mass_center: [f64; 3],
    pub mass_semi: [f64; 3],
    pub gap_mm: f64,
    pub b_min: f64,
    /// How much the transverse axis widens as the AP axis shrinks.
    pub widen: f64,
}

/// An intraluminal tumour plug filling the lumen over `[z0, z1]`, tapering to a point
/// over `taper_mm` beyond each end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plug {
    pub z0: f64,
    pub z1: f64,
    pub taper_mm: f64,
}

impl Plug {
    /// Fraction of the normalised radius filled by tumour (≤ 0 outside the plug).
    #[inline]
    pub fn fill(&self, z: f64) -> f64 {
        let out = (self.z0 - z).max(z - self.z1).max(0.0);
        1.0 - out / self.taper_mm.max(1e-6)
    }
}

/// A centreline and axial section measured from a label map (the hybrid phantom on a
/// real CT), sampled every `dz` mm from `z0` and linearly interpolated (clamped at the
/// ends). It replaces the analytic centre, semi-axes and rotation; dilation and
/// flattening then act on it as on the analytic tube.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IvcTable {
    pub z0: f64,
    pub dz: f64,
    pub cx: Vec<f64>,
    pub cy: Vec<f64>,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub rot: Vec<f64>,
}

impl IvcTable {
    #[inline]
    fn lerp(&self, v: &[f64], z: f64) -> f64 {
        let n = v.len();
        if n == 0 {
            return 0.0;
        }
        let f = ((z - self.z0) / self.dz.max(1e-9)).clamp(0.0, (n - 1) as f64);
        let i = (f.floor() as usize).min(n - 1);
        let j = (i + 1).min(n - 1);
        let w = f - i as f64;
        v[i] * (1.0 - w) + v[j] * w
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ivc {
    /// Iliac confluence (lower end of the IVC), z mm.
    pub z_bot: f64,
    /// Entry into the right atrium (upper end), z mm.
    pub z_top: f64,
    /// Renal-vein level, where the centreline is at (`x0`, `y0`).
    pub z_renal: f64,
    pub x0: f64,
    pub y0: f64,
    /// Left–right sway of the centreline: amplitude and wavelength, mm.
    pub sway_amp: f64,
    pub sway_wavelength: f64,
    /// dy/dz above the renal veins (negative: the IVC runs anteriorly toward the liver).
    pub ant_slope: f64,
    /// dy/dz below the renal veins.
    pub post_slope: f64,
    /// Normal semi-axes (transverse, AP), mm.
    pub a0: f64,
    pub b0: f64,
    /// Rotation of the long axis from the patient x axis, radians (anterior-right tilt).
    pub rot: f64,
    pub dilation: Option<Dilation>,
    pub flattening: Option<Flattening>,
    /// Measured centreline and section (hybrid phantom); `None` for the analytic tube.
    #[serde(default)]
    pub table: Option<IvcTable>,
}

/// The axial cross-section at one z: centre, semi-axes, rotation.
#[derive(Debug, Clone, Copy)]
pub struct IvcAtZ {
    pub z: f64,
    pub cx: f64,
    pub cy: f64,
    pub a: f64,
    pub b: f64,
    pub cos: f64,
    pub sin: f64,
}

impl IvcAtZ {
    /// Coordinates of p in the ellipse frame.
    #[inline]
    pub fn local(&self, p: &Point3<f64>) -> (f64, f64) {
        let (dx, dy) = (p.x - self.cx, p.y - self.cy);
        (self.cos * dx + self.sin * dy, -self.sin * dx + self.cos * dy)
    }

    /// Normalised elliptical radius (1 on the wall).
    #[inline]
    pub fn rnorm(&self, p: &Point3<f64>) -> f64 {
        let (u, v) = self.local(p);
        ((u / self.a).powi(2) + (v / self.b).powi(2)).sqrt()
    }
}

/// The exact perpendicular section at one level.
#[derive(Debug, Clone, Copy)]
pub struct SectionGeom {
    pub center: Point3<f64>,
    pub tangent: Vector3<f64>,
    pub area_mm2: f64,
    pub min_diameter_mm: f64,
    pub max_diameter_mm: f64,
    pub ap_diameter_mm: f64,
    pub transverse_diameter_mm: f64,
    /// Area of the axial (z = const) section, what an axial label map shows.
    pub axial_area_mm2: f64,
}

impl Ivc {
    /// Centre (x, y) at height z.
    #[inline]
    pub fn center(&self, z: f64) -> (f64, f64) {
        if let Some(t) = &self.table {
            return (t.lerp(&t.cx, z), t.lerp(&t.cy, z));
        }
        let dz = z - self.z_renal;
        let x = self.x0 + self.sway_amp * (2.0 * std::f64::consts::PI * dz / self.sway_wavelength).sin();
        // A smooth (C1) bend at the renal level: slope blends over ±20 mm.
        let y = self.y0 + self.bend(dz);
        (x, y)
    }

    #[inline]
    fn bend(&self, dz: f64) -> f64 {
        // Integral of a slope that blends from post_slope to ant_slope via tanh over ~20 mm.
        let w = 20.0;
        let (s1, s2) = (self.post_slope, self.ant_slope);
        let avg = 0.5 * (s1 + s2);
        let half = 0.5 * (s2 - s1);
        avg * dz + half * w * ((dz / w).cosh().ln())
    }

    /// d(center)/dz.
    #[inline]
    pub fn center_deriv(&self, z: f64) -> (f64, f64) {
        if let Some(t) = &self.table {
            // Central difference over one table step (the table is piecewise linear).
            let h = 0.5 * t.dz.max(1e-6);
            let (x1, y1) = self.center(z + h);
            let (x0, y0) = self.center(z - h);
            return ((x1 - x0) / (2.0 * h), (y1 - y0) / (2.0 * h));
        }
        let dz = z - self.z_renal;
        let k = 2.0 * std::f64::consts::PI / self.sway_wavelength;
        let dx = self.sway_amp * k * (k * dz).cos();
        let w = 20.0;
        let dy = 0.5 * (self.post_slope + self.ant_slope)
            + 0.5 * (self.ant_slope - self.post_slope) * (dz / w).tanh();
        (dx, dy)
    }

    /// Semi-axes (transverse, AP) of the axial section at z, before flattening.
    #[inline]
    fn semi_unflattened(&self, z: f64) -> (f64, f64) {
        let (a0, b0) = match &self.table {
            Some(t) => (t.lerp(&t.a, z), t.lerp(&t.b, z)),
            None => (self.a0, self.b0),
        };
        match &self.dilation {
            Some(d) => {
                let w = crate::shapes::bump(z, d.z_center, d.half_length);
                // Never narrower than the vein was (a table section may be larger than
                // the peak somewhere).
                (
                    (a0 + (d.a_peak - a0) * w).max(a0),
                    (b0 + (d.b_peak - b0) * w).max(b0),
                )
            }
            None => (a0, b0),
        }
    }

    /// Rotation of the long axis before any flattening.
    #[inline]
    fn rot_base(&self, z: f64) -> f64 {
        match &self.table {
            Some(t) => t.lerp(&t.rot, z),
            None => self.rot,
        }
    }

    /// Semi-axes (transverse, AP) of the axial section at z.
    #[inline]
    pub fn semi(&self, z: f64) -> (f64, f64) {
        let (a, b) = self.semi_unflattened(z);
        match &self.flattening {
            Some(f) => {
                let dz = (z - f.mass_center[2]) / f.mass_semi[2];
                if dz.abs() >= 1.0 {
                    return (a, b);
                }
                let y_post = f.mass_center[1] + f.mass_semi[1] * (1.0 - dz * dz).sqrt();
                let (_, cy) = self.center(z);
                // Room between the IVC centre and the mass: the anterior wall stops there.
                let room = cy - f.gap_mm - y_post;
                let bf = room.clamp(f.b_min, b);
                (a * (1.0 + f.widen * (1.0 - bf / b)), bf)
            }
            None => (a, b),
        }
    }

    /// Rotation of the long axis at z: a flattened IVC lies flat against the mass.
    #[inline]
    pub fn rot_at(&self, z: f64) -> f64 {
        match &self.flattening {
            Some(_) => {
                let (_, b) = self.semi(z);
                let (_, b0) = self.semi_unflattened(z);
                self.rot_base(z) * (b / b0).clamp(0.0, 1.0).powi(2)
            }
            None => self.rot_base(z),
        }
    }

    /// Everything about the cross-section at one z (renderers evaluate many points of
    /// one level, and these involve trigonometry).
    #[inline]
    pub fn at_z(&self, z: f64) -> IvcAtZ {
        let (cx, cy) = self.center(z);
        let (a, b) = self.semi(z);
        let rot = self.rot_at(z);
        IvcAtZ {
            z,
            cx,
            cy,
            a,
            b,
            cos: rot.cos(),
            sin: rot.sin(),
        }
    }

    /// Position of p in the ellipse frame at its z, and the semi-axes there.
    #[inline]
    pub fn local(&self, p: &Point3<f64>) -> (f64, f64, f64, f64) {
        let (cx, cy) = self.center(p.z);
        let (a, b) = self.semi(p.z);
        let (dx, dy) = (p.x - cx, p.y - cy);
        let rot = self.rot_at(p.z);
        let (c, s) = (rot.cos(), rot.sin());
        // Coordinates in the ellipse frame.
        let u = c * dx + s * dy;
        let v = -s * dx + c * dy;
        (u, v, a, b)
    }

    /// Signed distance (mm, approximate off the wall) to the IVC tube, capped at both ends.
    #[inline]
    pub fn sd(&self, p: &Point3<f64>) -> f64 {
        self.sd_at(&self.at_z(p.z), p)
    }

    /// As [`Ivc::sd`] with the level precomputed (`at.z` must equal `p.z`).
    #[inline]
    pub fn sd_at(&self, at: &IvcAtZ, p: &Point3<f64>) -> f64 {
        let (u, v) = at.local(p);
        let d = ellipse_sd(u, v, at.a, at.b);
        d.max(self.z_bot - p.z).max(p.z - self.z_top)
    }

    /// Normalised radius at p (0 on the centreline, 1 on the wall).
    #[inline]
    pub fn rnorm(&self, p: &Point3<f64>) -> f64 {
        let (u, v, a, b) = self.local(p);
        ((u / a).powi(2) + (v / b).powi(2)).sqrt()
    }

    /// Centreline point at z.
    pub fn center_point(&self, z: f64) -> Point3<f64> {
        let (x, y) = self.center(z);
        Point3::new(x, y, z)
    }

    /// The section perpendicular to the centreline at height z.
    pub fn section(&self, z: f64) -> SectionGeom {
        let (dx, dy) = self.center_deriv(z);
        let t = Vector3::new(dx, dy, 1.0).normalize();
        let mut u = Vector3::x() - t * t.x;
        if u.norm() < 1e-9 {
            u = Vector3::y() - t * t.y;
        }
        let u = u.normalize();
        let v = t.cross(&u);
        // In-plane (s, t) → axial offset: move back along the centreline to the plane's
        // own z, so the offset is (s·u + t·v)_xy − c'·(s·u + t·v)_z.
        let cp = Vector2::new(dx, dy);
        let col = |w: &Vector3<f64>| Vector2::new(w.x, w.y) - cp * w.z;
        let m = Matrix2::from_columns(&[col(&u), col(&v)]);
        let (a, b) = self.semi(z);
        let rot = self.rot_at(z);
        let (c, s) = (rot.cos(), rot.sin());
        let r = Matrix2::new(c, -s, s, c); // ellipse frame → patient
        let q = r * Matrix2::new(1.0 / (a * a), 0.0, 0.0, 1.0 / (b * b)) * r.transpose();
        let qa = m.transpose() * q * m;
        let det = qa.determinant().max(1e-300);
        let tr = qa.trace();
        let disc = ((tr * tr) / 4.0 - det).max(0.0).sqrt();
        let l_small = (tr / 2.0 - disc).max(1e-300);
        let l_big = (tr / 2.0 + disc).max(1e-300);
        let inv = qa.try_inverse().unwrap_or_else(Matrix2::identity);
        let extent = |dir: Vector3<f64>| {
            let e = dir - t * t.dot(&dir);
            let n = e.norm();
            if n < 1e-12 {
                return 0.0;
            }
            let e = e / n;
            let ev = Vector2::new(e.dot(&u), e.dot(&v));
            2.0 * (ev.transpose() * inv * ev)[(0, 0)].max(0.0).sqrt()
        };
        SectionGeom {
            center: self.center_point(z),
            tangent: t,
            area_mm2: std::f64::consts::PI / det.sqrt(),
            min_diameter_mm: 2.0 / l_big.sqrt(),
            max_diameter_mm: 2.0 / l_small.sqrt(),
            ap_diameter_mm: extent(Vector3::y()),
            transverse_diameter_mm: extent(Vector3::x()),
            axial_area_mm2: std::f64::consts::PI * a * b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn straight() -> Ivc {
        Ivc {
            z_bot: -160.0,
            z_top: 60.0,
            z_renal: -60.0,
            x0: -28.0,
            y0: 8.0,
            sway_amp: 0.0,
            sway_wavelength: 300.0,
            ant_slope: 0.0,
            post_slope: 0.0,
            a0: 13.0,
            b0: 9.0,
            rot: 0.3,
            dilation: None,
            flattening: None,
            table: None,
        }
    }

    #[test]
    fn straight_section_is_the_ellipse() {
        let s = straight().section(0.0);
        assert!((s.area_mm2 - std::f64::consts::PI * 13.0 * 9.0).abs() < 1e-9);
        assert!((s.max_diameter_mm - 26.0).abs() < 1e-9);
        assert!((s.min_diameter_mm - 18.0).abs() < 1e-9);
        // Rotated ellipse: the projection on x lies between the two diameters.
        assert!(s.transverse_diameter_mm < 26.0 && s.transverse_diameter_mm > 18.0);
    }

    #[test]
    fn tilted_section_shrinks_by_cosine() {
        let mut v = straight();
        v.rot = 0.0;
        v.ant_slope = 0.2;
        v.post_slope = 0.2;
        let s = v.section(0.0);
        let cos = 1.0 / (1.0f64 + 0.04).sqrt();
        assert!((s.area_mm2 - std::f64::consts::PI * 13.0 * 9.0 * cos).abs() < 1e-6);
        assert!((s.min_diameter_mm - 18.0 * cos).abs() < 1e-6);
        assert!((s.max_diameter_mm - 26.0).abs() < 1e-6);
    }

    #[test]
    fn centre_derivative_matches_finite_difference() {
        let mut v = straight();
        v.sway_amp = 4.0;
        v.ant_slope = -0.12;
        v.post_slope = 0.05;
        for z in [-150.0, -61.0, -20.0, 40.0] {
            let (dx, dy) = v.center_deriv(z);
            let (x1, y1) = v.center(z + 1e-4);
            let (x0, y0) = v.center(z - 1e-4);
            assert!((dx - (x1 - x0) / 2e-4).abs() < 1e-6);
            assert!((dy - (y1 - y0) / 2e-4).abs() < 1e-6);
        }
    }
}
