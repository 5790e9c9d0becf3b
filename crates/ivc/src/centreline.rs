//! The vessel's centreline: raw centres from a mask, Gaussian smoothing along arc
//! length, resampling every 1 mm, tangents, and rotation-minimising (parallel-transport)
//! frames so consecutive section planes do not spin (SlicerVMTK #35).

use crate::calibre::FractionField;
use cavascope_volume::{Point3, Vector3};

/// Cumulative arc length of a polyline.
pub fn arc_lengths(points: &[Point3<f64>]) -> Vec<f64> {
    let mut s = Vec::with_capacity(points.len());
    let mut acc = 0.0;
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            acc += (p - points[i - 1]).norm();
        }
        s.push(acc);
    }
    s
}

/// Points every `step` mm of arc length along a polyline (the last point kept when the
/// remainder is over half a step). Empty input gives empty output.
pub fn resample(points: &[Point3<f64>], step: f64) -> Vec<Point3<f64>> {
    if points.len() < 2 || step <= 0.0 {
        return points.to_vec();
    }
    let s = arc_lengths(points);
    let total = s[s.len() - 1];
    if total <= 0.0 {
        return vec![points[0]];
    }
    let n = (total / step).floor() as usize;
    let mut out = Vec::with_capacity(n + 2);
    let mut seg = 0;
    for m in 0..=n {
        let t = m as f64 * step;
        while seg + 2 < s.len() && s[seg + 1] < t {
            seg += 1;
        }
        let len = s[seg + 1] - s[seg];
        let f = if len > 0.0 {
            ((t - s[seg]) / len).clamp(0.0, 1.0)
        } else {
            0.0
        };
        out.push(points[seg] + (points[seg + 1] - points[seg]) * f);
    }
    if total - n as f64 * step > 0.5 * step {
        out.push(points[points.len() - 1]);
    }
    out
}

/// Gaussian-weighted local linear regression of points spaced ~`step` mm apart (σ in
/// mm): in the middle this is Gaussian smoothing; at the ends the truncated window still
/// fits a line, so the ends are neither pulled inwards nor left noisy, and a straight
/// line stays exactly straight.
pub fn smooth(points: &[Point3<f64>], sigma_mm: f64, step: f64) -> Vec<Point3<f64>> {
    let n = points.len();
    if n < 3 || sigma_mm <= 0.0 || step <= 0.0 {
        return points.to_vec();
    }
    let sig = sigma_mm / step;
    let half = (3.0 * sig).ceil() as isize;
    let last = n as isize - 1;
    (0..n as isize)
        .map(|i| {
            let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
            let (mut sp, mut stp) = (Vector3::zeros(), Vector3::zeros());
            for d in -half..=half {
                let j = i + d;
                if j < 0 || j > last {
                    continue;
                }
                let df = d as f64;
                let w = (-df * df / (2.0 * sig * sig)).exp();
                let p = points[j as usize].coords;
                s0 += w;
                s1 += w * df;
                s2 += w * df * df;
                sp += p * w;
                stp += p * (w * df);
            }
            let det = s0 * s2 - s1 * s1;
            if det.abs() < 1e-12 {
                Point3::from(sp / s0)
            } else {
                Point3::from((sp * s2 - stp * s1) / det)
            }
        })
        .collect()
}

/// Smooth (σ mm) and resample every `step` mm: resample, smooth, resample again (the
/// smoothing shortens a curve slightly, so spacing is restored last).
pub fn smooth_resample(points: &[Point3<f64>], sigma_mm: f64, step: f64) -> Vec<Point3<f64>> {
    let fine = resample(points, step);
    let sm = smooth(&fine, sigma_mm, step);
    resample(&sm, step)
}

/// Unit tangents: the normalised mean of the unit backward and forward differences (as
/// VMTK's centreline sections do); one-sided at the ends.
pub fn tangents(points: &[Point3<f64>]) -> Vec<Vector3<f64>> {
    let n = points.len();
    let unit = |v: Vector3<f64>| {
        let l = v.norm();
        if l > 0.0 {
            v / l
        } else {
            Vector3::z()
        }
    };
    (0..n)
        .map(|i| {
            let back = if i > 0 {
                Some(unit(points[i] - points[i - 1]))
            } else {
                None
            };
            let fwd = if i + 1 < n {
                Some(unit(points[i + 1] - points[i]))
            } else {
                None
            };
            match (back, fwd) {
                (Some(b), Some(f)) => unit(b + f),
                (Some(b), None) => b,
                (None, Some(f)) => f,
                (None, None) => Vector3::z(),
            }
        })
        .collect()
}

/// Rotation-minimising frames (double reflection, Wang et al. 2008, ACM TOG 27:2):
/// returns `(u, v)` per point with `u ⟂ v ⟂ t`. The first `u` is the projection of
/// `hint` (e.g. patient anterior) into the first plane.
pub fn parallel_transport(
    points: &[Point3<f64>],
    tangents: &[Vector3<f64>],
    hint: Vector3<f64>,
) -> Vec<(Vector3<f64>, Vector3<f64>)> {
    let n = points.len().min(tangents.len());
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let t0 = tangents[0];
    let mut u = hint - t0 * hint.dot(&t0);
    if u.norm() < 1e-6 {
        // The hint is along the tangent: any perpendicular will do.
        let alt = if t0.x.abs() < 0.9 {
            Vector3::x()
        } else {
            Vector3::y()
        };
        u = alt - t0 * alt.dot(&t0);
    }
    u = u.normalize();
    out.push((u, t0.cross(&u)));
    for i in 1..n {
        let v1 = points[i] - points[i - 1];
        let c1 = v1.dot(&v1);
        let (ti, tp) = (tangents[i], tangents[i - 1]);
        let (ul, tl) = if c1 > 0.0 {
            let ul = u - v1 * (2.0 / c1) * v1.dot(&u);
            let tl = tp - v1 * (2.0 / c1) * v1.dot(&tp);
            (ul, tl)
        } else {
            (u, tp)
        };
        let v2 = ti - tl;
        let c2 = v2.dot(&v2);
        let mut un = if c2 > 0.0 {
            ul - v2 * (2.0 / c2) * v2.dot(&ul)
        } else {
            ul
        };
        // Re-orthonormalise against round-off.
        un = un - ti * un.dot(&ti);
        let l = un.norm();
        un = if l > 1e-9 { un / l } else { u };
        u = un;
        out.push((u, ti.cross(&u)));
    }
    out
}

/// Raw centres of a z-running tubular field: for each axial world plane every `dz` mm,
/// the centroid of the connected region (≥ 0.5) nearest the previous centre (the largest
/// region on the first plane). Planes are sampled at `pixel` mm over the field's world
/// bounding box. Returned bottom (low z) to top.
pub fn axial_centres(field: &FractionField, dz: f64, pixel: f64) -> Vec<Point3<f64>> {
    let (lo, hi) = field.world_bounds();
    // The grid's outer voxel centres; a slab of half a voxel beyond is still inside.
    let nx = ((hi.x - lo.x) / pixel).ceil() as usize + 1;
    let ny = ((hi.y - lo.y) / pixel).ceil() as usize + 1;
    if nx * ny > crate::params::calibre::CENTRES_MAX_PLANE_PIXELS || dz <= 0.0 {
        return Vec::new();
    }
    let nz = ((hi.z - lo.z) / dz).floor() as usize + 1;
    let mut planes: Vec<Vec<(f64, f64, usize)>> = Vec::with_capacity(nz);
    use rayon::prelude::*;
    planes.par_extend((0..nz).into_par_iter().map(|m| {
        let z = lo.z + m as f64 * dz;
        let mut img = vec![false; nx * ny];
        for r in 0..ny {
            for q in 0..nx {
                let p = Point3::new(lo.x + q as f64 * pixel, lo.y + r as f64 * pixel, z);
                img[r * nx + q] = field.sample(&p) >= 0.5;
            }
        }
        components(&img, nx, ny)
            .into_iter()
            .map(|(sx, sy, c)| (lo.x + sx * pixel, lo.y + sy * pixel, c))
            .collect()
    }));
    let mut out = Vec::new();
    let mut prev: Option<(f64, f64)> = None;
    for (m, comps) in planes.iter().enumerate() {
        let z = lo.z + m as f64 * dz;
        let pick = match prev {
            None => comps.iter().max_by_key(|c| c.2),
            Some((px, py)) => comps.iter().min_by(|a, b| {
                let da = (a.0 - px).powi(2) + (a.1 - py).powi(2);
                let db = (b.0 - px).powi(2) + (b.1 - py).powi(2);
                da.total_cmp(&db)
            }),
        };
        if let Some(&(x, y, _)) = pick {
            prev = Some((x, y));
            out.push(Point3::new(x, y, z));
        }
    }
    out
}

/// 8-connected components of a binary image: (centroid column, centroid row, size).
pub(crate) fn components(img: &[bool], nx: usize, ny: usize) -> Vec<(f64, f64, usize)> {
    let mut seen = vec![false; img.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..img.len() {
        if !img[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut sx, mut sy, mut c) = (0.0, 0.0, 0usize);
        while let Some(idx) = stack.pop() {
            let (r, q) = ((idx / nx) as isize, (idx % nx) as isize);
            sx += q as f64;
            sy += r as f64;
            c += 1;
            for dr in -1..=1 {
                for dq in -1..=1 {
                    let (nr, nq) = (r + dr, q + dq);
                    if nr < 0 || nq < 0 || nr >= ny as isize || nq >= nx as isize {
                        continue;
                    }
                    let j = nr as usize * nx + nq as usize;
                    if img[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push((sx / c as f64, sy / c as f64, c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helix(n: usize) -> Vec<Point3<f64>> {
        // Radius 30, pitch 200 mm per turn: a strongly curved but smooth path.
        (0..n)
            .map(|k| {
                let t = k as f64 * 0.02;
                Point3::new(30.0 * t.cos(), 30.0 * t.sin(), 200.0 * t / std::f64::consts::TAU)
            })
            .collect()
    }

    #[test]
    fn resample_spacing_is_one_mm() {
        let pts = helix(300);
        let r = resample(&pts, 1.0);
        let s = arc_lengths(&r);
        for w in s.windows(2).take(r.len() - 2) {
            // Chords of a curve are a hair shorter than the arc between polyline vertices.
            assert!((w[1] - w[0] - 1.0).abs() < 1e-3, "{}", w[1] - w[0]);
        }
        let total = arc_lengths(&pts)[pts.len() - 1];
        assert!((s[s.len() - 1] - total).abs() < 1.0);
    }

    #[test]
    fn smoothing_removes_noise_keeps_line() {
        // A straight oblique line with ±1 mm alternating noise.
        let d = Vector3::new(0.3, -0.2, 1.0).normalize();
        let pts: Vec<Point3<f64>> = (0..200)
            .map(|k| {
                let e = if k % 2 == 0 { 1.0 } else { -1.0 };
                Point3::from(d * k as f64) + Vector3::new(e, 0.0, 0.0)
            })
            .collect();
        let sm = smooth_resample(&pts, 4.0, 1.0);
        for p in &sm[5..sm.len() - 5] {
            let perp = p.coords - d * p.coords.dot(&d);
            assert!(perp.norm() < 0.1, "{}", perp.norm());
        }
        // Ends are neither pulled in nor left noisy (local linear fit).
        let perp0 = sm[0].coords - d * sm[0].coords.dot(&d);
        assert!(
            perp0.norm() < 0.3 && sm[0].coords.dot(&d).abs() < 1.0,
            "{:?}",
            sm[0]
        );
    }

    #[test]
    fn frames_do_not_spin_on_helix() {
        let pts = resample(&helix(400), 1.0);
        let t = tangents(&pts);
        let f = parallel_transport(&pts, &t, -Vector3::y());
        for (i, (u, v)) in f.iter().enumerate() {
            assert!(u.dot(&t[i]).abs() < 1e-9 && v.dot(&t[i]).abs() < 1e-9);
            assert!((u.norm() - 1.0).abs() < 1e-9 && (v.norm() - 1.0).abs() < 1e-9);
        }
        // Rotation-minimising: the frame's twist about the tangent between neighbours is
        // (to second order) zero, i.e. u_{i+1} has no component along v_i beyond the
        // curvature term.
        for i in 0..f.len() - 1 {
            let twist = f[i + 1].0.dot(&f[i].1);
            assert!(twist.abs() < 2e-3, "twist {twist} at {i}");
        }
    }

    #[test]
    fn frames_on_straight_line_stay_put() {
        let pts: Vec<Point3<f64>> = (0..50).map(|k| Point3::new(0.0, 0.0, k as f64)).collect();
        let t = tangents(&pts);
        let f = parallel_transport(&pts, &t, -Vector3::y());
        for (u, v) in &f {
            assert!((u - (-Vector3::y())).norm() < 1e-12);
            assert!((v - Vector3::x()).norm() < 1e-12);
        }
    }
}
