//! Locating the IVC without a seed (step 1 of the [parent module](super)): blood-like
//! blobs on axial planes every [`loc::PLANE_STEP_MM`], chained through z; the IVC is the
//! longest, largest chain on the patient's right of the body centre.

use crate::params::anatomical::{BODY_MIN_HU, CHAIN_MAX_PLANE_GAP, MAX_PLANE_SAMPLES};
use crate::params::locate as loc;
use cavascope_imaging::stats::upper_median;
use cavascope_volume::{Point3, Volume};
use rayon::prelude::*;

/// A blood-like blob on one plane: centroid (LPS x, y) and area, mm².
struct Blob {
    x: f64,
    y: f64,
    area: f64,
}

/// Blobs chained through z: (x, y, z, area) per plane, and the index of its last plane.
struct Chain {
    pts: Vec<(f64, f64, f64, f64)>,
    last_plane: usize,
}

/// The locator's axial sampling grid: origin (LPS), pixel (mm) and size.
struct Grid {
    lo: Point3<f64>,
    px: f64,
    nx: usize,
    ny: usize,
}

/// Where the IVC is, without a seed: see the module docs. `reference` is the venous
/// phase; `pre` the unenhanced (or T1 pre-contrast) phase when there is one.
pub fn locate(reference: &Volume, pre: Option<&Volume>, is_ct: bool) -> Option<Point3<f64>> {
    locate_candidates(reference, pre, is_ct).into_iter().next()
}

/// Seed candidates along the detected IVC, best first: the most typical section, then
/// points at a quarter and three quarters of the chain (a seed at a junction or in a
/// tumour-filled stretch can fail; the caller tries the next).
pub fn locate_candidates(reference: &Volume, pre: Option<&Volume>, is_ct: bool) -> Vec<Point3<f64>> {
    locate_impl(reference, pre, is_ct).unwrap_or_default()
}

fn locate_impl(reference: &Volume, pre: Option<&Volume>, is_ct: bool) -> Option<Vec<Point3<f64>>> {
    let (lo, hi) = reference.geometry.world_bounds(reference.shape());
    let px = loc::GRID_MM;
    let nx = ((hi.x - lo.x) / px).ceil() as usize + 1;
    let ny = ((hi.y - lo.y) / px).ceil() as usize + 1;
    if nx * ny > MAX_PLANE_SAMPLES {
        return None;
    }
    let zs: Vec<f64> = {
        let mut v = Vec::new();
        let mut z = lo.z + loc::END_MARGIN_MM;
        while z <= hi.z - loc::END_MARGIN_MM {
            v.push(z);
            z += loc::PLANE_STEP_MM;
        }
        v
    };
    let grid = Grid { lo, px, nx, ny };
    let planes: Vec<(f64, Vec<Blob>, (f64, f64))> = zs
        .par_iter()
        .map(|&z| {
            let (blobs, body) = plane_blobs(reference, pre, is_ct, &grid, z);
            (z, blobs, body)
        })
        .collect();
    // Body centre: median over planes.
    let mut bxs: Vec<f64> = planes.iter().map(|p| p.2 .0).filter(|v| v.is_finite()).collect();
    let mut bys: Vec<f64> = planes.iter().map(|p| p.2 .1).filter(|v| v.is_finite()).collect();
    if bxs.is_empty() {
        return None;
    }
    let (Some(bcx), Some(bcy)) = (upper_median(&mut bxs), upper_median(&mut bys)) else {
        return None;
    };
    let chains = chain_blobs(&planes, bcx, bcy);
    let score = |c: &Chain| chain_score(c, bcx, bcy);
    if tracing::enabled!(tracing::Level::TRACE) {
        tracing::trace!("body centre {bcx:.1} {bcy:.1}");
        for c in &chains {
            if c.pts.len() >= loc::CHAIN_MIN_PLANES {
                tracing::trace!(
                    "chain n {} score {:.0} first {:?} last {:?}",
                    c.pts.len(),
                    score(c),
                    c.pts[0],
                    c.pts[c.pts.len() - 1]
                );
            }
        }
    }
    let best = chains.iter().max_by(|a, b| score(a).total_cmp(&score(b)))?;
    if score(best) <= 0.0 {
        return None;
    }
    // The most typical member (area nearest the chain's median): away from junctions.
    let mut areas: Vec<f64> = best.pts.iter().map(|p| p.3).collect();
    let med = upper_median(&mut areas)?;
    let p = best
        .pts
        .iter()
        .min_by(|a, b| (a.3 - med).abs().total_cmp(&(b.3 - med).abs()))
        .copied()?;
    let n = best.pts.len();
    let mut out = vec![Point3::new(p.0, p.1, p.2)];
    for q in [n / 4, (3 * n) / 4, 0, n - 1] {
        let c = best.pts[q];
        let pt = Point3::new(c.0, c.1, c.2);
        if out
            .iter()
            .all(|o| (o - pt).norm() > loc::CANDIDATE_MIN_SEPARATION_MM)
        {
            out.push(pt);
        }
    }
    Some(out)
}

/// The blood-like blobs of the plane at height `z` and the body's centre there (NaN
/// without a body).
fn plane_blobs(
    reference: &Volume,
    pre: Option<&Volume>,
    is_ct: bool,
    grid: &Grid,
    z: f64,
) -> (Vec<Blob>, (f64, f64)) {
    let Grid { lo, px, nx, ny } = *grid;
    let sample = |v: &Volume, x: f64, y: f64| v.sample_world(&Point3::new(x, y, z)).unwrap_or(f32::NAN);
    let mut img = vec![f32::NAN; nx * ny];
    let mut pre_img = vec![f32::NAN; nx * ny];
    for r in 0..ny {
        for q in 0..nx {
            let (x, y) = (lo.x + q as f64 * px, lo.y + r as f64 * px);
            img[r * nx + q] = sample(reference, x, y);
            if let Some(p) = pre {
                pre_img[r * nx + q] = sample(p, x, y);
            }
        }
    }
    // Body: CT above BODY_MIN_HU; MRI above a fraction of a high percentile.
    let thr_body = if is_ct {
        BODY_MIN_HU
    } else {
        crate::anatomical::mr_body_threshold(&img).unwrap_or(f32::NAN)
    };
    let (mut bx, mut by, mut bn) = (0.0, 0.0, 0.0);
    for r in 0..ny {
        for q in 0..nx {
            if img[r * nx + q] > thr_body {
                bx += q as f64;
                by += r as f64;
                bn += 1.0;
            }
        }
    }
    let body = if bn > 0.0 {
        (lo.x + bx / bn * px, lo.y + by / bn * px)
    } else {
        (f64::NAN, f64::NAN)
    };
    // Blood-like pixels (3×3 mean to tame noise).
    let mean3 = |a: &[f32], r: usize, q: usize| -> f32 {
        let (mut s, mut c) = (0f32, 0f32);
        for dr in 0..3 {
            for dq in 0..3 {
                let (rr, qq) = (r + dr, q + dq);
                if rr >= 1 && qq >= 1 && rr - 1 < ny && qq - 1 < nx {
                    let v = a[(rr - 1) * nx + qq - 1];
                    if v.is_finite() {
                        s += v;
                        c += 1.0;
                    }
                }
            }
        }
        if c > 0.0 {
            s / c
        } else {
            f32::NAN
        }
    };
    let mut blood = vec![false; nx * ny];
    for r in 0..ny {
        for q in 0..nx {
            let v = mean3(&img, r, q);
            let b = match (pre.is_some(), is_ct) {
                (true, true) => {
                    let p = mean3(&pre_img, r, q);
                    v - p >= loc::CT_MIN_ENHANCEMENT_HU && v >= loc::CT_ENHANCED_MIN_HU
                }
                (false, true) => (loc::CT_VENOUS_MIN_HU..loc::CT_VENOUS_MAX_HU).contains(&v),
                (true, false) => {
                    let p = mean3(&pre_img, r, q);
                    p > 0.0 && v / p >= loc::MR_MIN_SIGNAL_RATIO && v > thr_body
                }
                (false, false) => false,
            };
            blood[r * nx + q] = b;
        }
    }
    let blobs = crate::centreline::components(&blood, nx, ny)
        .into_iter()
        .map(|(sx, sy, c)| Blob {
            x: lo.x + sx * px,
            y: lo.y + sy * px,
            area: c as f64 * px * px,
        })
        .filter(|b| (loc::BLOB_MIN_AREA_MM2..=loc::BLOB_MAX_AREA_MM2).contains(&b.area))
        .collect();
    (blobs, body)
}

/// Blobs chained through z (see [`Chain`]), those far from the body centre left out.
fn chain_blobs(planes: &[(f64, Vec<Blob>, (f64, f64))], bcx: f64, bcy: f64) -> Vec<Chain> {
    // Chain blobs through z: centroids within CHAIN_STEP_MM, bridging up to one missing plane
    // (at the renal veins the IVC blob merges with its inflows and is dropped).
    let mut chains: Vec<Chain> = Vec::new();
    for (pi, (z, blobs, _)) in planes.iter().enumerate() {
        let mut taken: Vec<usize> = Vec::new();
        for b in blobs {
            if (b.x - bcx).hypot(b.y - bcy) > loc::BLOB_MAX_FROM_BODY_MM {
                continue;
            }
            let found = (0..chains.len()).find(|&ci| {
                let c = &chains[ci];
                let l = c.pts[c.pts.len() - 1];
                c.last_plane + CHAIN_MAX_PLANE_GAP >= pi
                    && c.last_plane < pi
                    && (l.0 - b.x).hypot(l.1 - b.y) < loc::CHAIN_STEP_MM
                    && !taken.contains(&ci)
            });
            match found {
                Some(ci) => {
                    chains[ci].pts.push((b.x, b.y, *z, b.area));
                    chains[ci].last_plane = pi;
                    taken.push(ci);
                }
                None => {
                    chains.push(Chain {
                        pts: vec![(b.x, b.y, *z, b.area)],
                        last_plane: pi,
                    });
                    taken.push(chains.len() - 1);
                }
            }
        }
    }
    chains
}

/// How IVC-like a chain is: 0 outside the IVC's window beside the body centre
/// (`bcx`, `bcy`), else its length times its (capped) median area.
fn chain_score(c: &Chain, bcx: f64, bcy: f64) -> f64 {
    let med = |mut v: Vec<f64>| upper_median(&mut v).unwrap_or(f64::NAN);
    let mx = med(c.pts.iter().map(|p| p.0).collect());
    let my = med(c.pts.iter().map(|p| p.1).collect());
    // The IVC runs on the patient's right (LPS: smaller x) of the body centre, not far
    // out and not far back (kidneys lie further out and back; the aorta runs on the
    // left).
    if mx > bcx - loc::WINDOW_MIN_RIGHT_MM
        || mx < bcx - loc::WINDOW_MAX_RIGHT_MM
        || my > bcy + loc::WINDOW_MAX_POSTERIOR_MM
        || c.pts.len() < loc::CHAIN_MIN_PLANES
    {
        return 0.0;
    }
    // Length counts most; area is capped so a large organ pole cannot win.
    c.pts.len() as f64 * med(c.pts.iter().map(|p| p.3).collect()).min(loc::CHAIN_AREA_CAP_MM2)
}
