//! Automatic IVC candidates from anatomy, for any phase (native CT included) and MR: a
//! homogeneous blood/soft-tissue tube on the patient's right in front of the spine,
//! continuous over several planes. Used where the blood-pool detector
//! ([`crate::track::locate_candidates`]) finds nothing; the tracker verifies every
//! candidate, so a candidate here is a place to look, never the answer.

use crate::params::anatomical::*;
use cavascope_imaging::stats::upper_median;
use cavascope_volume::{Point3, Volume};
use rayon::prelude::*;

/// One homogeneous core in one plane.
#[derive(Debug, Clone, Copy)]
struct Core {
    x: f64,
    y: f64,
    area: f64,
    compact: f64,
}

/// Why no candidate was found, for the report.
pub type NotFound = String;

/// Candidate IVC points (LPS mm), best first, or why there is none.
pub fn locate_by_anatomy(v: &Volume, is_ct: bool) -> Result<Vec<Point3<f64>>, NotFound> {
    let (lo, hi) = v.geometry.world_bounds(v.shape());
    let nx = ((hi.x - lo.x) / GRID_MM).ceil() as usize + 1;
    let ny = ((hi.y - lo.y) / GRID_MM).ceil() as usize + 1;
    if nx * ny > MAX_PLANE_SAMPLES || nx < MIN_PLANE_SIDE_SAMPLES || ny < MIN_PLANE_SIDE_SAMPLES {
        return Err(format!(
            "the plane ({nx} × {ny} samples of {GRID_MM} mm) is not a body section"
        ));
    }
    let mut zs = Vec::new();
    let mut z = lo.z + PLANE_STEP_MM / 2.0;
    while z <= hi.z - PLANE_STEP_MM / 2.0 + 1e-6 {
        zs.push(z);
        z += PLANE_STEP_MM;
    }
    if zs.len() < CHAIN_MIN_PLANES {
        return Err(format!(
            "the series covers {:.0} mm along z, fewer than {CHAIN_MIN_PLANES} planes {PLANE_STEP_MM} mm apart",
            hi.z - lo.z
        ));
    }
    let planes: Vec<(f64, Option<Vec<Core>>)> = zs
        .par_iter()
        .map(|&z| (z, plane_cores(v, is_ct, z, lo, nx, ny)))
        .collect();
    let with_spine = planes.iter().filter(|p| p.1.is_some()).count();
    if with_spine < CHAIN_MIN_PLANES {
        return Err(format!(
            "no body with a spine found on {} of {} planes",
            planes.len() - with_spine,
            planes.len()
        ));
    }
    // Chain cores through z (one missing plane bridged).
    let chains = chain_cores(&planes);
    let med = |mut v: Vec<f64>| upper_median(&mut v).unwrap_or(f64::NAN);
    // Length counts most; a round core over a ragged one.
    let score = |c: &Chain| c.pts.len() as f64 * med(c.pts.iter().map(|p| p.1.compact).collect());
    let mut good: Vec<&Chain> = chains
        .iter()
        .filter(|c| c.pts.len() >= CHAIN_MIN_PLANES)
        .collect();
    good.sort_by(|a, b| score(b).total_cmp(&score(a)));
    for c in &good {
        tracing::debug!(
            planes = c.pts.len(),
            score = score(c),
            first = ?(c.pts[0].1.x, c.pts[0].1.y, c.pts[0].0),
            last = ?(c.pts[c.pts.len() - 1].1.x, c.pts[c.pts.len() - 1].1.y, c.pts[c.pts.len() - 1].0),
            "anatomical IVC candidate tube"
        );
    }
    if good.is_empty() {
        let cores: usize = planes.iter().filter_map(|p| p.1.as_ref()).map(Vec::len).sum();
        return Err(format!(
            "no homogeneous tube on the patient's right in front of the spine over {CHAIN_MIN_PLANES} planes {PLANE_STEP_MM} mm apart ({cores} round cores on {with_spine} planes, none continuous)"
        ));
    }
    let tubes: Vec<&&Chain> = good.iter().take(MAX_CANDIDATES).collect();
    // First each tube's member whose area is nearest the chain's median (away from
    // junctions), best tube first; then each tube's members at ¼ and ¾ of its length. A
    // track started where isodense tissue lies against the vein (native CT: the
    // duodenum, the crus) ends early and loses to a shorter tube elsewhere; started a
    // few planes away it follows the whole vein (TotalSegmentator's native CT: 53 mm from
    // the median member, 125 mm from the upper one).
    let mut out: Vec<Point3<f64>> = tubes
        .iter()
        .map(|c| {
            let m = med(c.pts.iter().map(|p| p.1.area).collect());
            let (z, p) = c
                .pts
                .iter()
                .min_by(|a, b| (a.1.area - m).abs().total_cmp(&(b.1.area - m).abs()))
                .copied()
                .unwrap_or(c.pts[0]);
            Point3::new(p.x, p.y, z)
        })
        .collect();
    for c in &tubes {
        for q in [c.pts.len() / 4, (3 * c.pts.len()) / 4] {
            let (z, p) = c.pts[q.min(c.pts.len() - 1)];
            let pt = Point3::new(p.x, p.y, z);
            if !out.iter().any(|o| (o - pt).norm() < 1e-6) {
                out.push(pt);
            }
        }
    }
    Ok(out)
}

/// Cores chained through z: (plane height, core) per plane, and the index of its last
/// plane.
struct Chain {
    pts: Vec<(f64, Core)>,
    last: usize,
}

/// The cores of successive planes chained (nearest within [`CHAIN_STEP_MM`], one missing
/// plane bridged).
fn chain_cores(planes: &[(f64, Option<Vec<Core>>)]) -> Vec<Chain> {
    let mut chains: Vec<Chain> = Vec::new();
    for (pi, (z, cores)) in planes.iter().enumerate() {
        let Some(cores) = cores else { continue };
        let mut taken = Vec::new();
        for c in cores {
            let found = (0..chains.len())
                .filter(|ci| !taken.contains(ci))
                .filter(|&ci| chains[ci].last < pi && chains[ci].last + CHAIN_MAX_PLANE_GAP >= pi)
                .map(|ci| {
                    let l = chains[ci].pts[chains[ci].pts.len() - 1].1;
                    (ci, (l.x - c.x).hypot(l.y - c.y))
                })
                .filter(|(_, d)| *d < CHAIN_STEP_MM)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(ci, _)| ci);
            let ci = match found {
                Some(ci) => {
                    chains[ci].pts.push((*z, *c));
                    chains[ci].last = pi;
                    ci
                }
                None => {
                    chains.push(Chain {
                        pts: vec![(*z, *c)],
                        last: pi,
                    });
                    chains.len() - 1
                }
            };
            taken.push(ci);
        }
    }
    chains
}

/// The homogeneous round cores of one plane inside the IVC window; `None` when the plane
/// has no body or no spine anchor.
fn plane_cores(v: &Volume, is_ct: bool, z: f64, lo: Point3<f64>, nx: usize, ny: usize) -> Option<Vec<Core>> {
    let at = |q: usize, r: usize| (lo.x + q as f64 * GRID_MM, lo.y + r as f64 * GRID_MM);
    let mut img = vec![f32::NAN; nx * ny];
    for r in 0..ny {
        for q in 0..nx {
            let (x, y) = at(q, r);
            img[r * nx + q] = v.sample_world(&Point3::new(x, y, z)).unwrap_or(f32::NAN);
        }
    }
    let body_thr = if is_ct {
        BODY_MIN_HU
    } else {
        mr_body_threshold(&img)?
    };
    // The body and everything it encloses: on MR flowing blood, gas and cortical bone can
    // be as dark as the air outside.
    let body = fill_holes(&img.iter().map(|&x| x > body_thr).collect::<Vec<_>>(), nx, ny);
    let (mut bx, mut bn, mut back) = (0.0, 0.0, f64::NEG_INFINITY);
    for r in 0..ny {
        for q in 0..nx {
            if body[r * nx + q] {
                let (x, y) = at(q, r);
                bx += x;
                bn += 1.0;
                back = back.max(y);
            }
        }
    }
    if bn < BODY_MIN_SAMPLES {
        return None;
    }
    let bx = bx / bn;
    // Spine: bone near the midline on CT; else a fixed depth in front of the back.
    let (mut sx, mut sy, mut sn) = (0.0, 0.0, 0usize);
    if is_ct {
        for r in 0..ny {
            for q in 0..nx {
                let (x, y) = at(q, r);
                if img[r * nx + q] >= BONE_MIN_HU && (x - bx).abs() < SPINE_HALF_WIDTH_MM {
                    sx += x;
                    sy += y;
                    sn += 1;
                }
            }
        }
    }
    let (sx, sy) = if sn >= SPINE_MIN_SAMPLES {
        (sx / sn as f64, sy / sn as f64)
    } else if is_ct {
        return None;
    } else {
        (bx, back - SPINE_FROM_BACK_MM)
    };
    // Local mean and deviation over 3 × 3 samples.
    let (mean, sd) = local_mean_sd(&img, nx, ny);
    let mut body_sd: Vec<f32> = (0..nx * ny)
        .filter(|&i| body[i] && sd[i].is_finite())
        .map(|i| sd[i])
        .collect();
    if body_sd.is_empty() {
        return None;
    }
    let k = ((body_sd.len() as f64 * NOISE_QUANTILE) as usize).min(body_sd.len() - 1);
    let noise = *body_sd.select_nth_unstable_by(k, f32::total_cmp).1;
    let blood_like = |m: f32| {
        if is_ct {
            (CT_BLOOD_MIN_HU..=CT_BLOOD_MAX_HU).contains(&m)
        } else {
            // MR: bright or dark blood (flow void) alike; homogeneity and shape decide.
            m.is_finite()
        }
    };
    let core: Vec<bool> = (0..nx * ny)
        .map(|i| body[i] && blood_like(mean[i]) && sd[i] <= HOMOGENEITY_FACTOR * noise.max(NOISE_FLOOR))
        .collect();
    let mut out = Vec::new();
    for px in components4(&core, nx, ny) {
        let area = px.len() as f64 * GRID_MM * GRID_MM;
        if !(CORE_MIN_AREA_MM2..=CORE_MAX_AREA_MM2).contains(&area) {
            continue;
        }
        let n = px.len() as f64;
        let cx = px.iter().map(|&(q, _)| q as f64).sum::<f64>() / n;
        let cy = px.iter().map(|&(_, r)| r as f64).sum::<f64>() / n;
        let rmax = px
            .iter()
            .map(|&(q, r)| (q as f64 - cx).hypot(r as f64 - cy) + 0.5)
            .fold(0.0, f64::max)
            * GRID_MM;
        let compact = area / (std::f64::consts::PI * rmax * rmax);
        let (x, y) = (lo.x + cx * GRID_MM, lo.y + cy * GRID_MM);
        let in_window = x <= sx - WINDOW_MIN_RIGHT_MM
            && x >= sx - WINDOW_RIGHT_MM
            && y <= sy - WINDOW_ANTERIOR_MIN_MM
            && y >= sy - WINDOW_ANTERIOR_MAX_MM;
        if compact >= CORE_MIN_COMPACTNESS && in_window {
            out.push(Core { x, y, area, compact });
        }
    }
    tracing::trace!(z, spine = ?(sx, sy), noise, cores = out.len(), "anatomical IVC plane");
    Some(out)
}

/// Mean and standard deviation over each sample's 3 × 3 neighbourhood of a plane (NaN at
/// the border and where any neighbour is undefined).
fn local_mean_sd(img: &[f32], nx: usize, ny: usize) -> (Vec<f32>, Vec<f32>) {
    let mut mean = vec![f32::NAN; nx * ny];
    let mut sd = vec![f32::NAN; nx * ny];
    for r in 1..ny - 1 {
        for q in 1..nx - 1 {
            let (mut s, mut s2, mut c) = (0f64, 0f64, 0f64);
            for dr in 0..3 {
                for dq in 0..3 {
                    let x = img[(r + dr - 1) * nx + q + dq - 1];
                    if x.is_finite() {
                        s += x as f64;
                        s2 += (x as f64) * (x as f64);
                        c += 1.0;
                    }
                }
            }
            if c >= 9.0 {
                let m = s / c;
                mean[r * nx + q] = m as f32;
                sd[r * nx + q] = ((s2 / c - m * m).max(0.0)).sqrt() as f32;
            }
        }
    }
    (mean, sd)
}

/// 4-connected components of a binary image as lists of (column, row).
fn components4(img: &[bool], nx: usize, ny: usize) -> Vec<Vec<(usize, usize)>> {
    let mut seen = vec![false; img.len()];
    let mut out = Vec::new();
    for start in 0..img.len() {
        if !img[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![start];
        let mut px = Vec::new();
        while let Some(i) = stack.pop() {
            px.push((i % nx, i / nx));
            for j in neighbours4(i, nx, ny) {
                if img[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        out.push(px);
    }
    out
}

/// The 4-connected neighbours of sample `i` of an `nx` × `ny` image.
fn neighbours4(i: usize, nx: usize, ny: usize) -> impl Iterator<Item = usize> {
    let (r, q) = (i / nx, i % nx);
    [
        (q > 0).then(|| i - 1),
        (q + 1 < nx).then(|| i + 1),
        (r > 0).then(|| i - nx),
        (r + 1 < ny).then(|| i + nx),
    ]
    .into_iter()
    .flatten()
}

/// A mask with its holes filled: everything not reachable from the image border through
/// the background.
fn fill_holes(mask: &[bool], nx: usize, ny: usize) -> Vec<bool> {
    let mut outside = vec![false; mask.len()];
    let mut stack: Vec<usize> = (0..nx)
        .flat_map(|q| [q, (ny - 1) * nx + q])
        .chain((0..ny).flat_map(|r| [r * nx, r * nx + nx - 1]))
        .filter(|&i| !mask[i])
        .collect();
    for &i in &stack {
        outside[i] = true;
    }
    while let Some(i) = stack.pop() {
        for j in neighbours4(i, nx, ny) {
            if !mask[j] && !outside[j] {
                outside[j] = true;
                stack.push(j);
            }
        }
    }
    outside.iter().map(|&o| !o).collect()
}

/// The MR body outline's threshold in a plane of samples: a fraction
/// ([`MR_BODY_FRACTION`]) of a high percentile ([`MR_BODY_QUANTILE`]) of its finite
/// values; `None` without any.
pub(crate) fn mr_body_threshold(img: &[f32]) -> Option<f32> {
    let mut vals: Vec<f32> = img.iter().copied().filter(|x| x.is_finite()).collect();
    if vals.is_empty() {
        return None;
    }
    let k = ((vals.len() as f64 * MR_BODY_QUANTILE) as usize).min(vals.len() - 1);
    Some(MR_BODY_FRACTION * *vals.select_nth_unstable_by(k, f32::total_cmp).1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_volume::{Array3, Geometry, VolumeMeta};
    use rand::{Rng, SeedableRng};

    /// An axial section every 3 mm, 1.5 mm pixels, 240 mm square, centre at x = y = 0:
    /// a body of `fill` with a vertebra (bone, CT only) behind the centre, a liver-sized
    /// block of soft tissue on the right, and `tube` discs (x, y, r, value) on every slice
    /// whose z index lies in its range; Gaussian noise of SD `noise`.
    fn volume(
        fill: f32,
        bone: f32,
        tubes: &[(f64, f64, f64, f32, std::ops::Range<usize>)],
        noise: f32,
    ) -> Volume {
        let (n, nz, px) = (160usize, 20usize, 1.5);
        let g = Geometry::axial(Point3::new(-120.0, -120.0, 0.0), [px, px, 3.0]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let data = Array3::from_shape_fn((nz, n, n), |(k, j, i)| {
            let (x, y) = (-120.0 + i as f64 * px, -120.0 + j as f64 * px);
            let mut v = if (x / 110.0).powi(2) + (y / 80.0).powi(2) <= 1.0 {
                fill
            } else {
                -1000.0
            };
            if v > -1000.0 {
                // Vertebral body and the liver (not a tube: too large).
                if x.hypot(y - 40.0) <= 16.0 {
                    v = bone;
                }
                if (-95.0..-35.0).contains(&x) && (-70.0..-30.0).contains(&y) {
                    v = 55.0;
                }
                for (tx, ty, r, tv, ks) in tubes {
                    if ks.contains(&k) && (x - tx).hypot(y - ty) <= *r {
                        v = *tv;
                    }
                }
                let u: f64 = rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>() - 1.5;
                v += noise * u as f32 * 2.0;
            }
            v
        });
        Volume::new(data, g, VolumeMeta::default())
    }

    #[test]
    fn native_ct_tube_beside_the_spine_is_found() {
        // IVC 40 HU (native blood, as dense as muscle) right-anterior of the spine; the
        // aorta on the left is not a candidate.
        let v = volume(
            -90.0,
            600.0,
            &[(-25.0, 5.0, 10.0, 40.0, 0..20), (22.0, 10.0, 9.0, 40.0, 0..20)],
            8.0,
        );
        let c = locate_by_anatomy(&v, true).expect("a tube");
        assert!(
            (c[0].x + 25.0).abs() < 4.0 && (c[0].y - 5.0).abs() < 4.0,
            "{:?}",
            c[0]
        );
        assert!(c.iter().all(|p| p.x < 10.0), "aorta is not a candidate: {c:?}");
    }

    #[test]
    fn no_tube_is_not_found_with_the_reason() {
        // The same body without a vein; a round blob on one slice only is no tube.
        let v = volume(-90.0, 600.0, &[(-25.0, 5.0, 10.0, 40.0, 9..11)], 8.0);
        let e = locate_by_anatomy(&v, true).unwrap_err();
        assert!(e.contains("no homogeneous tube"), "{e}");
        // Without a spine on CT there is no anchor.
        let v = volume(-90.0, -90.0, &[(-25.0, 5.0, 10.0, 40.0, 0..20)], 8.0);
        let e = locate_by_anatomy(&v, true).unwrap_err();
        assert!(e.contains("spine"), "{e}");
    }

    #[test]
    fn mr_flow_void_tube_is_found() {
        // MR: bright body, dark (flow-void) IVC; no bone signal needed.
        let v = volume(400.0, 400.0, &[(-20.0, -15.0, 10.0, 30.0, 0..20)], 20.0);
        let c = locate_by_anatomy(&v, false).expect("a tube");
        assert!(
            (c[0].x + 20.0).abs() < 4.0 && (c[0].y + 15.0).abs() < 4.0,
            "{:?}",
            c[0]
        );
    }
}
