//! Signed distance functions (negative inside, mm) of the analytic shapes.
//!
//! Ellipses and ellipsoids use the first-order distance `f / |∇f|`: exact on the
//! boundary's tangent, with the right sign everywhere, which is all partial volume needs.

use nalgebra::{Point3, Vector3};

/// Axis-aligned world box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aabb {
    pub lo: [f64; 3],
    pub hi: [f64; 3],
}

impl Aabb {
    pub fn new(lo: [f64; 3], hi: [f64; 3]) -> Self {
        Aabb { lo, hi }
    }
    pub fn around(c: Point3<f64>, r: [f64; 3]) -> Self {
        Aabb {
            lo: [c.x - r[0], c.y - r[1], c.z - r[2]],
            hi: [c.x + r[0], c.y + r[1], c.z + r[2]],
        }
    }
    pub fn expand(&self, m: f64) -> Self {
        Aabb {
            lo: [self.lo[0] - m, self.lo[1] - m, self.lo[2] - m],
            hi: [self.hi[0] + m, self.hi[1] + m, self.hi[2] + m],
        }
    }
    #[inline]
    pub fn intersects(&self, o: &Aabb) -> bool {
        (0..3).all(|a| self.lo[a] <= o.hi[a] && o.lo[a] <= self.hi[a])
    }
    #[inline]
    pub fn contains(&self, p: &Point3<f64>) -> bool {
        p.x >= self.lo[0]
            && p.x <= self.hi[0]
            && p.y >= self.lo[1]
            && p.y <= self.hi[1]
            && p.z >= self.lo[2]
            && p.z <= self.hi[2]
    }
}

/// Signed distance to an axis-aligned ellipse with semi-axes `a` (x) and `b` (y).
#[inline]
pub fn ellipse_sd(dx: f64, dy: f64, a: f64, b: f64) -> f64 {
    let (ux, uy) = (dx / a, dy / b);
    let r = (ux * ux + uy * uy).sqrt();
    if r < 1e-9 {
        return -a.min(b);
    }
    let gx = ux / a;
    let gy = uy / b;
    let g = (gx * gx + gy * gy).sqrt() / r;
    (r - 1.0) / g
}

/// Signed distance to an axis-aligned ellipsoid.
#[inline]
pub fn ellipsoid_sd(d: Vector3<f64>, s: [f64; 3]) -> f64 {
    let u = [d.x / s[0], d.y / s[1], d.z / s[2]];
    let r = (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt();
    if r < 1e-9 {
        return -s[0].min(s[1]).min(s[2]);
    }
    let g = [u[0] / s[0], u[1] / s[1], u[2] / s[2]];
    let gn = (g[0] * g[0] + g[1] * g[1] + g[2] * g[2]).sqrt() / r;
    (r - 1.0) / gn
}

/// Signed distance to a capsule (segment `a`–`b` of radius `r`).
#[inline]
pub fn capsule_sd(p: &Point3<f64>, a: &Point3<f64>, b: &Point3<f64>, r: f64) -> f64 {
    let ab = b - a;
    let ap = p - a;
    let l2 = ab.norm_squared();
    let t = if l2 > 0.0 {
        (ap.dot(&ab) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ap - ab * t).norm() - r
}

/// Partial-volume fraction from a signed distance and the voxel size `h` (mm):
/// a linear ramp across one voxel, 0.5 on the boundary.
#[inline]
pub fn coverage(sd: f64, h: f64) -> f32 {
    (0.5 - sd / h).clamp(0.0, 1.0) as f32
}

/// Smooth 0 → 1 step between `e0` and `e1`.
#[inline]
pub fn smoothstep(e0: f64, e1: f64, x: f64) -> f64 {
    if e1 == e0 {
        return if x < e0 { 0.0 } else { 1.0 };
    }
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Smooth bump: 1 at `c`, falling to 0 at `c ± half` (raised cosine).
#[inline]
pub fn bump(x: f64, c: f64, half: f64) -> f64 {
    if half <= 0.0 {
        return 0.0;
    }
    let t = (x - c) / half;
    if t.abs() >= 1.0 {
        0.0
    } else {
        0.5 * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

/// A smooth random field in [0, 1] (sum of plane waves): mean 0.5, SD about 0.18,
/// feature size about `wavelength_mm / 2`. Deterministic from its parameters.
#[derive(Debug, Clone)]
pub struct PatchField {
    waves: Vec<(Vector3<f64>, f64)>,
}

impl PatchField {
    pub fn new(rng: &mut impl rand::Rng, wavelength_mm: f64, n: usize) -> Self {
        let k = 2.0 * std::f64::consts::PI / wavelength_mm.max(1.0);
        let waves = (0..n.max(1))
            .map(|_| {
                // Random unit direction (normalised Gaussian-ish from uniforms is enough).
                let mut d = Vector3::new(
                    rng.random::<f64>() - 0.5,
                    rng.random::<f64>() - 0.5,
                    rng.random::<f64>() - 0.5,
                );
                if d.norm() < 1e-6 {
                    d = Vector3::x();
                }
                let kf = k * (0.8 + 0.4 * rng.random::<f64>());
                (d.normalize() * kf, rng.random::<f64>() * std::f64::consts::TAU)
            })
            .collect();
        PatchField { waves }
    }

    #[inline]
    pub fn at(&self, p: &Point3<f64>) -> f64 {
        let n = self.waves.len() as f64;
        let s: f64 = self
            .waves
            .iter()
            .map(|(k, ph)| (k.x * p.x + k.y * p.y + k.z * p.z + ph).cos())
            .sum();
        0.5 + 0.5 * s / n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipse_distance_exact_on_axes() {
        assert!((ellipse_sd(15.0, 0.0, 10.0, 5.0) - 5.0).abs() < 1e-9);
        assert!((ellipse_sd(0.0, 3.0, 10.0, 5.0) + 2.0).abs() < 1e-9);
        assert!(ellipse_sd(0.0, 0.0, 10.0, 5.0) < 0.0);
    }

    #[test]
    fn capsule_and_coverage() {
        let a = Point3::new(0.0, 0.0, 0.0);
        let b = Point3::new(0.0, 0.0, 10.0);
        assert!((capsule_sd(&Point3::new(3.0, 0.0, 5.0), &a, &b, 2.0) - 1.0).abs() < 1e-12);
        assert!((capsule_sd(&Point3::new(0.0, 0.0, 13.0), &a, &b, 2.0) - 1.0).abs() < 1e-12);
        assert_eq!(coverage(0.0, 2.0), 0.5);
        assert_eq!(coverage(-5.0, 2.0), 1.0);
        assert_eq!(coverage(5.0, 2.0), 0.0);
    }
}
