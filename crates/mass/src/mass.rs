//! The mass: its region (from a seed, a label map, or found automatically), its size and
//! position, its relation to the IVC, its make-up (fat, calcium) and its enhancement.
//!
//! - `seed`: region growing on all dynamic phases together. Every voxel carries its
//!   smoothed value on each phase (compared in world space on the reference grid, after
//!   the breathing shifts are removed); a voxel joins when |f_c − μ_c| ≤ tol_c on every
//!   phase, with tol_c = max(3·SD_c, floor_c); the statistics are re-estimated from the
//!   region's interior until the region stops growing (ITK's ConfidenceConnected idea,
//!   on several phases). The boundary is then moved to the midpoint between the local
//!   inside and outside values (undoing the smoothing's blur), except where the layer it
//!   adds has the unsmoothed values of an organ alongside (a thin strip of it between the
//!   mass and fat), and cavities (necrosis) are filled. A last edge layer whose
//!   unsmoothed values are plainly the mass's (a thin fat plane or a flattened vein next
//!   to it blurs into the smoothed features) joins. On
//!   CT, fat
//!   lobules inside the slice-wise convex hull of the solid part are added when they are
//!   a real share of it (a fat-containing mass), so a liposarcoma keeps its fat.
//! - `mask`: a NIfTI / DICOM SEG label map, resampled (nearest) onto the reference grid.
//! - `auto`: see [`crate::mass_auto`].

use crate::enhancement::{measure_enhancement, noise_sd};
use crate::hull::{convex_hull, in_hull};
use crate::model::{IvcModel, IvcSegment, Landmarks, MassModel, PhaseInfo, Role, SegmentOptions, Source};
use crate::morph;
use crate::registration;
use crate::stack::{dynamic_phases, reference_volume, PhaseStack};
use cavascope_volume::{Mask, Point3, Vector3, Volume};
use ndarray::Array3;
use std::collections::VecDeque;

pub use crate::params::seeded::*;
pub use crate::params::shared::*;

/// Normalised convolution: smallest kernel weight of non-fat voxels giving a value.
const NORMALISED_MIN_WEIGHT: f32 = 0.05;

/// What the region finder returns: the mask on the stack grid.
pub(crate) struct Region {
    pub mask: Array3<bool>,
    pub source: Source,
}

/// What [`build_mass`] returns (the stages' one shape: what was measured, then warnings).
#[derive(Debug, Clone, Default)]
pub struct MassOutcome {
    /// The mass, `None` when none was found or none could be measured.
    pub model: Option<MassModel>,
    /// Why the search could not run or failed (no usable mask, a seed that grows nothing,
    /// no search centre…): `Measurements::mass_not_searched`. `None` with `model: None`
    /// means the automatic search ran and found no mass.
    pub not_searched: Option<String>,
    /// What could not be measured, and why.
    pub warnings: Vec<String>,
}

impl MassOutcome {
    /// The search could not run or failed; the reason is the last warning.
    fn not_searched(warnings: Vec<String>) -> Self {
        MassOutcome {
            model: None,
            not_searched: Some(
                warnings
                    .last()
                    .cloned()
                    .unwrap_or_else(|| "the mass search could not run".into()),
            ),
            warnings,
        }
    }
}

/// Build the mass model. A mass that cannot be found is `None` with the reason.
pub fn build_mass(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    ivc: Option<&IvcModel>,
    landmarks: &Landmarks,
    opts: &SegmentOptions,
) -> MassOutcome {
    let mut w: Vec<String> = Vec::new();
    let Some(ref_idx) = reference_volume(phases, volumes.len()) else {
        w.push("mass: no volume to measure on".into());
        return MassOutcome::not_searched(w);
    };
    let (ct, dynamic) = dynamic_phases(phases);
    let dyn_idx: Vec<usize> = dynamic.iter().map(|(_, i)| *i).collect();

    // The external mask, read first: its centroid places the box.
    let mut external: Option<Mask> = None;
    if let Some(input) = &opts.mass_mask {
        match &input.read {
            Ok(l) => {
                w.extend(l.warnings.iter().map(|s| format!("mass mask: {s}")));
                if l.mask.count() == 0 {
                    w.push(format!("mass mask {}: empty label map", input.path.display()));
                } else {
                    external = Some(l.mask.clone());
                }
            }
            Err(e) => w.push(format!("mass mask: {e}")),
        }
        if external.is_none() {
            w.push("mass: the mass mask could not be used; no mass measured".into());
            return MassOutcome::not_searched(w);
        }
    }

    let mut auto_start = None;
    let center: Point3<f64> = if let Some(m) = &external {
        match m.centroid() {
            Some(c) => c,
            None => {
                w.push("mass mask: no centroid; no mass measured".into());
                return MassOutcome::not_searched(w);
            }
        }
    } else if let Some(s) = opts.mass_seed {
        s
    } else {
        match crate::mass_auto::search_center(volumes, phases, ivc, opts.anatomy.as_deref()) {
            Some(c) => auto_start.insert(c).point,
            None => {
                w.push("mass: automatic search needs an IVC model or a study centre; none".into());
                return MassOutcome::not_searched(w);
            }
        }
    };

    let (shifts, notes) = registration::phase_shifts(volumes, &dyn_idx, ref_idx, &center, ct);
    w.extend(notes);
    let Some(stack) = PhaseStack::build(volumes, phases, &center, MASS_BOX_HALF_MM, &shifts) else {
        w.push("mass: the mass region lies outside the reference series".into());
        return MassOutcome::not_searched(w);
    };

    let region = if let Some(m) = &external {
        let r = m.resample_onto(&stack.geometry, stack.shape);
        if r.count() < m.count() / 2 {
            w.push("mass mask: less than half of the label map overlaps the analysed box".into());
        }
        Some(Region {
            mask: r.data,
            source: Source::Mask,
        })
    } else if let Some(seed) = opts.mass_seed {
        match stack.index_of(&seed) {
            Some(s) => grow_from_seed(&stack, s, &mut w).map(|mask| Region {
                mask,
                source: Source::Seed,
            }),
            None => {
                w.push(format!(
                    "mass seed ({:.1}, {:.1}, {:.1}) lies outside the reference series",
                    seed.x, seed.y, seed.z
                ));
                None
            }
        }
    } else {
        auto_start.as_ref().and_then(|start| {
            crate::mass_auto::find_mass(&stack, ivc, start, landmarks, opts.anatomy.as_deref(), &mut w).map(
                |mask| Region {
                    mask,
                    source: Source::Auto,
                },
            )
        })
    };
    // The automatic search ran and found nothing: no mass. A seed or a mask that gives no
    // region: the mass the user pointed at could not be measured.
    let auto = external.is_none() && opts.mass_seed.is_none();
    let no_region = |w: Vec<String>| {
        if auto {
            MassOutcome {
                warnings: w,
                ..Default::default()
            }
        } else {
            MassOutcome::not_searched(w)
        }
    };
    let Some(region) = region else {
        return no_region(w);
    };
    if !region.mask.iter().any(|&b| b) {
        w.push("mass: empty region".into());
        return no_region(w);
    }
    let model = measure_region(volumes, phases, &stack, region, ivc, landmarks, ref_idx, &mut w);
    MassOutcome {
        model,
        not_searched: None,
        warnings: w,
    }
}

/// Statistics of the smoothed features over a set of voxels.
fn feature_stats(stack: &PhaseStack, voxels: &[[usize; 3]]) -> Option<(Vec<f64>, Vec<f64>)> {
    let nc = stack.phases.len();
    let mut mu = vec![0.0; nc];
    let mut sd = vec![0.0; nc];
    for (c, ph) in stack.phases.iter().enumerate() {
        let v: Vec<f64> = voxels
            .iter()
            .map(|&p| ph.smooth[p] as f64)
            .filter(|x| x.is_finite())
            .collect();
        if v.is_empty() {
            return None;
        }
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64;
        mu[c] = m;
        sd[c] = var.sqrt();
    }
    Some((mu, sd))
}

fn ball(stack: &PhaseStack, seed: [usize; 3], r_mm: f64) -> Vec<[usize; 3]> {
    let sp = stack.spacing_kji();
    let n = [0, 1, 2].map(|a| (r_mm / sp[a]).ceil() as i64);
    let mut out = Vec::new();
    for dk in -n[0]..=n[0] {
        for dj in -n[1]..=n[1] {
            for di in -n[2]..=n[2] {
                let d2 =
                    (dk as f64 * sp[0]).powi(2) + (dj as f64 * sp[1]).powi(2) + (di as f64 * sp[2]).powi(2);
                if d2 > r_mm * r_mm {
                    continue;
                }
                let q = [seed[0] as i64 + dk, seed[1] as i64 + dj, seed[2] as i64 + di];
                if q.iter()
                    .zip(stack.shape.iter())
                    .all(|(&x, &s)| x >= 0 && (x as usize) < s)
                {
                    out.push([q[0] as usize, q[1] as usize, q[2] as usize]);
                }
            }
        }
    }
    out
}

/// On CT, a seed in fat (a fat lobule of a liposarcoma, or just outside the mass) is moved
/// to the nearest soft-tissue voxel within 25 mm, so growth follows the solid part.
fn soft_tissue_seed(stack: &PhaseStack, seed: [usize; 3]) -> Option<[usize; 3]> {
    let feat_ok = |p: [usize; 3]| {
        stack
            .phases
            .iter()
            .all(|ph| ph.smooth[p].is_finite() && ph.smooth[p] > FAT_MAX_HU && ph.smooth[p] < 300.0)
    };
    if !stack.ct || feat_ok(seed) {
        return Some(seed);
    }
    let sp = stack.spacing_kji();
    let mut best: Option<([usize; 3], f64)> = None;
    for p in ball(stack, seed, 25.0) {
        if feat_ok(p) {
            let d = (0..3)
                .map(|a| ((p[a] as f64 - seed[a] as f64) * sp[a]).powi(2))
                .sum::<f64>();
            if best.is_none_or(|(_, bd)| d < bd) {
                best = Some((p, d));
            }
        }
    }
    best.map(|(p, _)| p)
}

/// Seed statistics: the seed ball's voxels near its per-phase median (within twice the
/// floor on every phase), so that a ball straddling fat lobules or an edge starts from
/// the tissue at the seed rather than from a blend of two tissues.
fn seed_stats(stack: &PhaseStack, seed: [usize; 3], floors: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let near = ball(stack, seed, SEED_RADIUS_MM);
    let nc = stack.phases.len();
    let med: Vec<f64> = (0..nc)
        .map(|c| {
            let mut v: Vec<f64> = near
                .iter()
                .map(|&p| stack.phases[c].smooth[p] as f64)
                .filter(|x| x.is_finite())
                .collect();
            v.sort_unstable_by(|a, b| a.total_cmp(b));
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        })
        .collect();
    let close: Vec<[usize; 3]> = near
        .iter()
        .copied()
        .filter(|&p| {
            (0..nc).all(|c| {
                let v = stack.phases[c].smooth[p] as f64;
                v.is_finite() && (v - med[c]).abs() <= 2.0 * floors[c]
            })
        })
        .collect();
    if close.len() >= 7 {
        feature_stats(stack, &close)
    } else {
        feature_stats(stack, &[seed])
    }
}

/// Is the smoothed value at `p` within `[lo_c, hi_c]` on every phase?
fn in_range(stack: &PhaseStack, p: [usize; 3], lo: &[f64], hi: &[f64]) -> bool {
    stack.phases.iter().enumerate().all(|(c, ph)| {
        let v = ph.smooth[p] as f64;
        v.is_finite() && v >= lo[c] && v <= hi[c]
    })
}

/// Breadth-first 6-connected growth of `region` (in place) over the voxels `accept` takes.
fn grow_region_from(region: &mut Array3<bool>, accept: impl Fn([usize; 3]) -> bool) {
    let dim = region.dim();
    let mut q: VecDeque<[usize; 3]> = region
        .indexed_iter()
        .filter(|(_, &b)| b)
        .map(|((k, j, i), _)| [k, j, i])
        .collect();
    while let Some(p) = q.pop_front() {
        for n in morph::neighbours6(p, dim) {
            if !region[n] && accept(n) {
                region[n] = true;
                q.push_back(n);
            }
        }
    }
}

/// Breadth-first 6-connected growth from `seed` over voxels whose smoothed value lies in
/// `[lo_c, hi_c]` on every phase. Returns the region and its voxel count.
fn grow_interval(stack: &PhaseStack, seed: [usize; 3], lo: &[f64], hi: &[f64]) -> (Array3<bool>, usize) {
    let dim = stack.phases[0].smooth.dim();
    let accept = |p: [usize; 3]| in_range(stack, p, lo, hi);
    let mut r = Array3::from_elem(dim, false);
    let mut q = VecDeque::from([seed]);
    r[seed] = true;
    let mut count = 1usize;
    while let Some(p) = q.pop_front() {
        for n in morph::neighbours6(p, dim) {
            if !r[n] && accept(n) {
                r[n] = true;
                count += 1;
                q.push_back(n);
            }
        }
    }
    (r, count)
}

/// Does the region reach the faces of the analysed box? A mass is bounded; a region that
/// runs to the box faces has leaked into something larger (bowel, fat, an organ), unless
/// the box itself was clamped to the volume.
fn reaches_box_face(region: &Array3<bool>) -> bool {
    let (nk, nj, ni) = region.dim();
    region
        .indexed_iter()
        .any(|((k, j, i), &b)| b && (j == 0 || i == 0 || j + 1 == nj || i + 1 == ni || k == 0 || k + 1 == nk))
}

/// Which post-contrast phases to widen upwards (see [`widen_for_rim`]), or none.
fn rim_widening(
    stack: &PhaseStack,
    region: &Array3<bool>,
    lo: &[f64],
    hi: &[f64],
    floors: &[f64],
) -> Vec<usize> {
    let nc = stack.phases.len();
    let dim = region.dim();
    let mut boundary = 0usize;
    let mut enh_blocked = 0usize;
    let mut by_phase = vec![0usize; nc];
    let mut seen = Array3::from_elem(dim, false);
    for ((k, j, i), &b) in region.indexed_iter() {
        if !b {
            continue;
        }
        for n in morph::neighbours6([k, j, i], dim) {
            if region[n] || seen[n] {
                continue;
            }
            seen[n] = true;
            let v: Vec<f64> = stack.phases.iter().map(|ph| ph.smooth[n] as f64).collect();
            if v.iter().any(|x| !x.is_finite()) {
                continue;
            }
            boundary += 1;
            // Blocked only by post-contrast phases lying above the range by a few floors
            // (a gradual front of stronger enhancement), the baseline inside its range.
            let mut ok = true;
            let mut fails: Vec<usize> = Vec::new();
            for c in 0..nc {
                let post = stack.phases[c].role.is_post_contrast();
                if v[c] >= lo[c] && v[c] <= hi[c] {
                    continue;
                }
                if post && v[c] > hi[c] && v[c] - hi[c] <= RIM_MAX_STEP_FLOORS * floors[c] {
                    fails.push(c);
                } else {
                    ok = false;
                }
            }
            if ok && !fails.is_empty() {
                enh_blocked += 1;
                for c in fails {
                    by_phase[c] += 1;
                }
            }
        }
    }
    if boundary == 0 || (enh_blocked as f64) < RIM_MIN_BOUNDARY_FRACTION * boundary as f64 {
        return Vec::new();
    }
    (0..nc)
        .filter(|&c| by_phase[c] as f64 >= 0.5 * enh_blocked as f64)
        .collect()
}

/// The growth rounds (module docs, "Seed") from starting statistics `mu`, `sd`: the
/// region, its voxel count and the last bounds.
/// A grown region, its voxel count and the final per-phase bounds (low, high).
type Grown = (Array3<bool>, usize, (Vec<f64>, Vec<f64>));

fn grow_rounds(
    stack: &PhaseStack,
    seed: [usize; 3],
    mut mu: Vec<f64>,
    mut sd: Vec<f64>,
    floors: &[f64],
    w: &mut Vec<String>,
) -> Grown {
    let nc = stack.phases.len();
    let dim = stack.phases[0].smooth.dim();
    let mut region = Array3::from_elem(dim, false);
    let mut prev_count = 0usize;
    let mut bounds: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for round in 0..GROW_MAX_ROUNDS {
        let t: Vec<f64> = (0..nc).map(|c| (GROW_K_SD * sd[c]).max(floors[c])).collect();
        let lo: Vec<f64> = (0..nc).map(|c| mu[c] - t[c]).collect();
        let hi: Vec<f64> = (0..nc).map(|c| mu[c] + t[c]).collect();
        let (r, count) = grow_interval(stack, seed, &lo, &hi);
        // A sudden multi-fold jump, or a region running to the box faces, is a leak into
        // a neighbouring organ: keep the last region.
        if round > 0 && prev_count > 50 && (count > 4 * prev_count || reaches_box_face(&r)) {
            w.push(format!(
                "mass growth stopped at round {round}: the region would jump from {prev_count} to {count} voxels (leak)"
            ));
            break;
        }
        region = r;
        bounds = (lo, hi);
        let interior = morph::erode(&region, 1);
        let vox: Vec<[usize; 3]> = {
            let src = if interior.iter().filter(|&&b| b).count() >= 27 {
                &interior
            } else {
                &region
            };
            src.indexed_iter()
                .filter(|(_, &b)| b)
                .map(|((k, j, i), _)| [k, j, i])
                .collect()
        };
        if let Some((m, s)) = feature_stats(stack, &vox) {
            mu = m;
            sd = s;
        }
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!("round {round}: {count} voxels, mu {mu:.1?} sd {sd:.1?} tol {t:.1?}");
        }
        let change = (count as f64 - prev_count as f64).abs() / count.max(1) as f64;
        prev_count = count;
        if change < 0.005 {
            break;
        }
    }
    (region, prev_count, bounds)
}

/// Starting statistics from the wider neighbourhood of the seed: per phase the median
/// and the robust SD (1.4826 × MAD) of the smoothed values within [`SEED_RETRY_RADIUS_MM`].
/// For a seed in a patch of a heterogeneous tumour that differs from the rest (a strongly
/// enhancing focus), the seed ball's own statistics are the patch's, and the growth never
/// leaves it; the wider ball's spread is the tumour's texture.
fn wide_seed_stats(stack: &PhaseStack, seed: [usize; 3]) -> Option<(Vec<f64>, Vec<f64>)> {
    let near = ball(stack, seed, SEED_RETRY_RADIUS_MM);
    let mut mu = Vec::new();
    let mut sd = Vec::new();
    for ph in &stack.phases {
        let mut v: Vec<f64> = near
            .iter()
            .map(|&p| ph.smooth[p] as f64)
            .filter(|x| x.is_finite())
            .collect();
        if v.len() < 7 {
            return None;
        }
        v.sort_unstable_by(|a, b| a.total_cmp(b));
        let med = v[v.len() / 2];
        let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
        dev.sort_unstable_by(|a, b| a.total_cmp(b));
        mu.push(med);
        sd.push(cavascope_imaging::stats::MAD_TO_SD * dev[dev.len() / 2]);
    }
    Some((mu, sd))
}

/// Per-phase growth floors from the smoothed noise of each phase around the seed (CT:
/// at least [`GROW_FLOOR_CT_HU`]; MRI: [`GROW_FLOOR_MR_FRACTION`] of the seed's value).
fn growth_floors(stack: &PhaseStack, seed: [usize; 3]) -> Vec<f64> {
    let near_mask = {
        let mut m = Array3::from_elem(stack.phases[0].data.dim(), false);
        for p in ball(stack, seed, 12.0) {
            m[p] = true;
        }
        m
    };
    let sp = stack.geometry.spacing();
    // Gaussian smoothing divides white noise by Π_a (2√π σ_a)^{1/2} (σ_a in voxels).
    let reduction: f64 = sp
        .iter()
        .map(|s| {
            let sv = (crate::stack::FEATURE_SMOOTH_SIGMA_MM / s).max(0.5);
            (2.0 * std::f64::consts::PI.sqrt() * sv).sqrt()
        })
        .product();
    let seed_mu: Vec<f64> = stack.phases.iter().map(|ph| ph.smooth[seed] as f64).collect();
    stack
        .phases
        .iter()
        .enumerate()
        .map(|(c, ph)| {
            let noise = noise_sd(&ph.data, &near_mask).unwrap_or(0.0) / reduction;
            let base = if stack.ct {
                GROW_FLOOR_CT_HU
            } else {
                GROW_FLOOR_MR_FRACTION * seed_mu[c].abs()
            };
            base.max(GROW_FLOOR_NOISE_FACTOR * noise)
        })
        .collect()
}

/// The growth rounds from the seed's statistics, again from its wider neighbourhood's
/// when the region stopped under [`SEED_RETRY_MAX_ML`]: the region, its voxel count and
/// the final per-phase bounds; `None` (reason in `w`) when it is too small to be a mass.
fn grow_with_retry(
    stack: &PhaseStack,
    seed: [usize; 3],
    floors: &[f64],
    w: &mut Vec<String>,
) -> Option<Grown> {
    let (mu, sd) = seed_stats(stack, seed, floors)?;
    if tracing::enabled!(tracing::Level::TRACE) {
        tracing::trace!("seed {seed:?}: mu {mu:.1?} sd {sd:.1?} floors {floors:.1?}");
    }
    let (mut region, mut prev_count, mut bounds) = grow_rounds(stack, seed, mu, sd, floors, w);
    let vox_ml = stack.geometry.voxel_volume_mm3() / 1000.0;
    if (prev_count as f64) * vox_ml < SEED_RETRY_MAX_ML {
        if let Some((mu2, sd2)) = wide_seed_stats(stack, seed) {
            let mut w2 = Vec::new();
            let (r2, c2, b2) = grow_rounds(stack, seed, mu2, sd2, floors, &mut w2);
            if c2 > prev_count {
                w.push(format!(
                    "mass seed: the region from the seed's own statistics stopped at {:.1} ml; grown again from the statistics within {SEED_RETRY_RADIUS_MM} mm of the seed ({:.1} ml)",
                    prev_count as f64 * vox_ml,
                    c2 as f64 * vox_ml
                ));
                w.extend(w2);
                (region, prev_count, bounds) = (r2, c2, b2);
            }
        }
    }
    if prev_count < 8 {
        w.push("mass seed: the region around the seed is too small to be a mass".into());
        return None;
    }
    Some((region, prev_count, bounds))
}

/// Trace the region's size and diameter after a step of the seeded growth.
fn trace_step(stack: &PhaseStack, name: &str, r: &Array3<bool>) {
    if tracing::enabled!(tracing::Level::TRACE) {
        let n = r.iter().filter(|&&b| b).count();
        tracing::trace!(
            "after {name}: {n} voxels, diameter {:.1} mm",
            max_diameter(r, stack)
        );
    }
}

/// The grown region's outline placed at the blur's midpoint (clamped to
/// [`REFINE_MAX_MOVE_VOX`]), layers of an organ alongside dropped, thin leaks cut.
fn place_outline(
    stack: &PhaseStack,
    region: &mut Array3<bool>,
    grown: &Array3<bool>,
    organ: &[Vec<f64>],
    floors: &[f64],
    weights: &[f64],
) {
    for _ in 0..REFINE_MAX_PASSES {
        if refine_boundary(stack, region, weights) == 0 {
            break;
        }
    }
    clamp_refinement(region, grown, REFINE_MAX_MOVE_VOX);
    trace_step(stack, "refine", region);
    drop_organ_like(stack, region, grown, organ, floors);
    trace_step(stack, "organ check", region);
    *region = cut_thin_leaks(region);
    trace_step(stack, "opening", region);
}

/// Necrosis inside or beside the region joins it, with its own border refined, the
/// blend to the solid part and the solid rim beyond it; the seed's component is kept.
fn join_necrosis(
    stack: &PhaseStack,
    region: &mut Array3<bool>,
    seed: [usize; 3],
    bounds: &(Vec<f64>, Vec<f64>),
    floors: &[f64],
    weights: &[f64],
) {
    let before_necrosis = region.clone();
    add_necrosis(stack, region);
    *region = fill_cavities(region);
    trace_step(stack, "necrosis", region);
    // The necrosis' own border is placed once more; the rest of the outline was placed
    // already (repeating the refinement creeps outwards along blurred contacts).
    let added = region
        .iter()
        .zip(before_necrosis.iter())
        .filter(|(&a, &b)| a && !b)
        .count();
    let n_before = before_necrosis.iter().filter(|&&b| b).count();
    let necrosis: Array3<bool> = ndarray::Zip::from(&*region)
        .and(&before_necrosis)
        .map_collect(|&r, &s| r && !s);
    let necrosis_joined = added as f64 >= NECROSIS_REFINE_MIN_FRACTION * n_before as f64;
    if necrosis_joined {
        let before = region.clone();
        for _ in 0..2 {
            refine_boundary(stack, region, weights);
        }
        clamp_refinement(region, &before, REFINE_MAX_MOVE_VOX);
        // Only the border near the necrosis moves (elsewhere the refinement would creep
        // along a blurred contact, e.g. up the IVC past an intraluminal tumour's tip).
        let near = morph::dilate(&necrosis, REFINE_MAX_MOVE_VOX + 1);
        ndarray::Zip::from(&mut *region)
            .and(&before)
            .and(&near)
            .for_each(|r, &b, &n| {
                if !n {
                    *r = b;
                }
            });
        // Before keeping the seed's component: a necrosis up to NECROSIS_MAX_GAP_VOX out
        // is bridged by the blend between it and the solid part.
        let (lo, hi) = bounds;
        add_necrosis_blend_and_rim(stack, region, &before_necrosis, lo, hi, floors);
        trace_step(stack, "blend and rim", region);
    }
    *region = seed_component(region, seed, stack.spacing_kji());
    *region = morph::fill_holes(region);
    trace_step(stack, "refine 2", region);
    if necrosis_joined {
        // Where the necrosis steps reached: the necrosis, its refined border, the blend.
        let zone: Array3<bool> = ndarray::Zip::from(&*region)
            .and(&before_necrosis)
            .map_collect(|&r, &s| r && !s);
        add_raw_rim(stack, region, &necrosis, &zone);
        trace_step(stack, "raw rim", region);
    }
}

/// The region's component that holds the seed or, when the outline steps removed the
/// seed's voxel (a seed on a solid septum thinner than the opening, between fat lobules:
/// liposarcoma draw 10 lost its whole 159 ml region so), the component nearest to it.
fn seed_component(region: &Array3<bool>, seed: [usize; 3], sp: [f64; 3]) -> Array3<bool> {
    if region[seed] {
        return morph::component_containing(region, seed);
    }
    let nearest = region
        .indexed_iter()
        .filter(|(_, &b)| b)
        .map(|((k, j, i), _)| {
            let d: f64 = [k, j, i]
                .iter()
                .zip(seed)
                .zip(sp)
                .map(|((&a, b), s)| ((a as f64 - b as f64) * s).powi(2))
                .sum();
            ([k, j, i], d)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1));
    match nearest {
        Some((p, _)) => morph::component_containing(region, p),
        None => region.clone(),
    }
}

/// Seeded multi-phase region growing (module docs), then cavity filling and fat lobules.
pub(crate) fn grow_from_seed(
    stack: &PhaseStack,
    seed: [usize; 3],
    w: &mut Vec<String>,
) -> Option<Array3<bool>> {
    // A seed among fat lobules (a fat-containing mass): the smoothed features blend fat
    // and solid tissue there, so the solid part is grown on features smoothed over the
    // non-fat voxels only; the lobules come back from the solid part's hulls at the end.
    let solid_features;
    let full_stack = stack;
    let fat_path = stack.ct && seed_fat_share(stack, seed) >= SEED_FAT_MIN_FRACTION;
    let stack: &PhaseStack = if fat_path {
        solid_features = fat_excluded(stack);
        w.push("mass seed among fat: the solid part is grown on fat-excluded features".into());
        &solid_features
    } else {
        stack
    };
    let Some(seed) = soft_tissue_seed(stack, seed) else {
        w.push("mass seed lies in fat with no soft tissue within 25 mm; no mass grown".into());
        return None;
    };
    let floors = growth_floors(stack, seed);
    let (mut region, prev_count, mut bounds) = grow_with_retry(stack, seed, &floors, w)?;
    if stack.baseline().is_some() {
        let (lo, hi) = &bounds;
        bounds.1 = widen_for_rim(stack, seed, &mut region, prev_count, lo, hi, &floors, w);
    }
    let weights: Vec<f64> = floors.iter().map(|f| 1.0 / f.max(1e-6)).collect();
    let mut region = morph::fill_holes(&region);
    trace_step(stack, "growth", &region);
    let grown = region.clone();
    let organ = {
        let (lo, hi) = &bounds;
        outside_tissue(stack, &grown, lo, hi, &floors)
    };
    place_outline(stack, &mut region, &grown, &organ, &floors, &weights);
    join_necrosis(stack, &mut region, seed, &bounds, &floors, &weights);
    add_edge_layer(stack, &mut region, &organ, &floors);
    trace_step(stack, "edge layer", &region);
    if fat_path {
        let (lo, hi) = &bounds;
        join_across_lobules(full_stack, stack, &mut region, lo, hi);
        trace_step(stack, "across lobules", &region);
    }
    if stack.ct {
        add_fat_lobules(full_stack, &mut region, fat_path);
        trace_step(stack, "fat", &region);
    }
    Some(region)
}

/// Fat on CT: adipose density ([`FAT_MIN_HU`]…[`FAT_MAX_HU`]) with no air among the 26
/// neighbours ([`PARTIAL_AIR_MAX_HU`]: air and tissue in one voxel read as fat). The one
/// fat test on unsmoothed values: the reported fat fraction and every growth step that
/// counts or adds fat (seed fat share, fat lobules, the automatic search's enclosed fat).
pub(crate) fn is_fat(data: &Array3<f32>, (k, j, i): (usize, usize, usize)) -> bool {
    let v = data[[k, j, i]];
    if !(FAT_MIN_HU..=FAT_MAX_HU).contains(&v) {
        return false;
    }
    let (nk, nj, ni) = data.dim();
    for kk in k.saturating_sub(1)..(k + 2).min(nk) {
        for jj in j.saturating_sub(1)..(j + 2).min(nj) {
            for ii in i.saturating_sub(1)..(i + 2).min(ni) {
                if data[[kk, jj, ii]] <= PARTIAL_AIR_MAX_HU {
                    return false;
                }
            }
        }
    }
    true
}

/// Share of fat voxels ([`is_fat`] on the unsmoothed baseline or first phase) within
/// [`SEED_FAT_RADIUS_MM`] of the seed: bowel gas beside a seed is not fat.
fn seed_fat_share(stack: &PhaseStack, seed: [usize; 3]) -> f64 {
    let Some(ph) = stack.baseline().or(stack.phases.first()) else {
        return 0.0;
    };
    let near = ball(stack, seed, SEED_FAT_RADIUS_MM);
    let (mut fat, mut n) = (0usize, 0usize);
    for p in near {
        if ph.data[p].is_finite() {
            n += 1;
            fat += usize::from(is_fat(&ph.data, (p[0], p[1], p[2])));
        }
    }
    fat as f64 / n.max(1) as f64
}

/// The stack with each phase's features smoothed over the non-fat voxels only
/// (normalised convolution, Knutsson & Westin 1993: G∗(w·x) / G∗w with w = 0 on fat),
/// NaN on fat and where no non-fat voxel lies within the kernel. Solid tissue between fat
/// lobules then keeps its own values instead of a fat–tissue blend.
fn fat_excluded(stack: &PhaseStack) -> PhaseStack {
    let mut out = stack.clone();
    let Some(base) = stack.baseline().or(stack.phases.first()) else {
        return out;
    };
    // Fat and its partial-volume layer (one voxel around it) are left out: a half-fat
    // edge voxel would pull the solid values towards fat. Air (bowel gas) is left out
    // too — it is not solid tissue either — so this is "not soft tissue", not `is_fat`.
    let fat = base.data.mapv(|v| !(v.is_finite() && v > FAT_MAX_HU));
    let keep: Array3<f32> = morph::dilate(&fat, 1).mapv(|f| if f { 0.0 } else { 1.0 });
    let sp = stack.geometry.spacing();
    let norm = crate::vesselness::gaussian_smooth(&keep, sp, crate::stack::FEATURE_SMOOTH_SIGMA_MM);
    for ph in &mut out.phases {
        let weighted =
            ndarray::Zip::from(&ph.data)
                .and(&keep)
                .map_collect(|&x, &k| if x.is_finite() { x * k } else { 0.0 });
        let num = crate::vesselness::gaussian_smooth(&weighted, sp, crate::stack::FEATURE_SMOOTH_SIGMA_MM);
        ph.smooth = ndarray::Zip::from(&num)
            .and(&norm)
            .and(&keep)
            .and(&ph.data)
            .map_collect(|&a, &b, &k, &x| {
                if k > 0.0 && x.is_finite() && b > NORMALISED_MIN_WEIGHT {
                    a / b
                } else {
                    f32::NAN
                }
            });
    }
    out
}

/// Between solid tumour and necrosis lies a blend (a few mm of partially necrotic tissue)
/// that neither the solid's ranges nor the necrosis test accept, and beyond it, on the far
/// side of an eccentric necrosis, a thin solid rim the growth never reached. Voxels next
/// to the region near the necrosis join when their smoothed values are one mix of the
/// solid's and the necrosis' means on every phase (a common weight, residual within
/// tolerance); then the solid's own ranges are grown from the whole region, at most
/// [`RIM_REGROW_MAX_VOX`] voxels out (a rim, not a new organ).
fn add_necrosis_blend_and_rim(
    stack: &PhaseStack,
    region: &mut Array3<bool>,
    solid: &Array3<bool>,
    lo: &[f64],
    hi: &[f64],
    floors: &[f64],
) {
    let nc = stack.phases.len();
    if lo.len() != nc || hi.len() != nc {
        return;
    }
    let necrosis: Array3<bool> = ndarray::Zip::from(&*region)
        .and(solid)
        .map_collect(|&r, &s| r && !s);
    let core = morph::erode(solid, 1);
    let (Some((s_mu, s_sd)), Some((n_mu, _))) = (
        stats_of(stack, &core).or_else(|| stats_of(stack, solid)),
        stats_of(stack, &necrosis),
    ) else {
        return;
    };
    let tol: Vec<f64> = (0..nc).map(|c| (2.0 * floors[c]).max(2.0 * s_sd[c])).collect();
    let near = morph::dilate(&necrosis, BLEND_NEAR_NECROSIS_VOX);
    let hull = slice_hulls(region);
    let dim = region.dim();
    for _ in 0..BLEND_MAX_PASSES {
        let mut add: Vec<[usize; 3]> = Vec::new();
        for ((k, j, i), &b) in region.indexed_iter() {
            let p = [k, j, i];
            if b || !near[p] || !hull[p] || !morph::neighbours6(p, dim).any(|n| region[n]) {
                continue;
            }
            let v: Vec<f64> = stack.phases.iter().map(|ph| ph.smooth[p] as f64).collect();
            if v.iter().any(|x| !x.is_finite()) {
                continue;
            }
            // Least-squares mixing weight, each phase in units of its tolerance.
            let (mut num, mut den) = (0.0, 0.0);
            for c in 0..nc {
                let d = (n_mu[c] - s_mu[c]) / tol[c];
                num += (v[c] - s_mu[c]) / tol[c] * d;
                den += d * d;
            }
            if den <= 1e-9 {
                continue;
            }
            let w = (num / den).clamp(0.0, 1.0);
            if (0..nc).all(|c| (v[c] - (s_mu[c] + w * (n_mu[c] - s_mu[c]))).abs() <= tol[c]) {
                add.push(p);
            }
        }
        if add.is_empty() {
            break;
        }
        for p in add {
            region[p] = true;
        }
    }
    // The solid's ranges, grown from the whole region, a few voxels out at most.
    let limit = morph::dilate(region, RIM_REGROW_MAX_VOX);
    grow_region_from(region, |n| limit[n] && in_range(stack, n, lo, hi));
    *region = morph::fill_holes(region);
}

fn stats_of(stack: &PhaseStack, mask: &Array3<bool>) -> Option<(Vec<f64>, Vec<f64>)> {
    let vox: Vec<[usize; 3]> = mask
        .indexed_iter()
        .filter(|(_, &b)| b)
        .map(|((k, j, i), _)| [k, j, i])
        .collect();
    if vox.len() < 8 {
        return None;
    }
    feature_stats(stack, &vox)
}

/// Mean and SD per phase of the unsmoothed values over a mask; `None` with fewer than 27
/// voxels.
fn raw_stats(stack: &PhaseStack, mask: &Array3<bool>) -> Option<(Vec<f64>, Vec<f64>)> {
    let mut mu = Vec::new();
    let mut sd = Vec::new();
    for ph in &stack.phases {
        let v: Vec<f64> = ph
            .data
            .iter()
            .zip(mask.iter())
            .filter(|(x, &m)| m && x.is_finite())
            .map(|(&x, _)| x as f64)
            .collect();
        if v.len() < 27 {
            return None;
        }
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64;
        mu.push(m);
        sd.push(var.sqrt().max(1e-6));
    }
    Some((mu, sd))
}

/// The thin solid rim on the far side of an eccentric necrosis (between it and an organ
/// alongside): its smoothed features blend necrosis, rim and organ, so neither the growth
/// nor the blend step takes it, while its own unsmoothed values are plainly tumour. Within
/// [`RIM_REGROW_MAX_VOX`] + 1 voxels of `zone` (where the necrosis steps added voxels), a
/// voxel next to the region
/// joins when its unsmoothed values lie within [`EDGE_RAW_K_SD`] SD of the solid part's or
/// of the necrosis' on every phase and nearer them than the local outside (median of the
/// voxels two to three steps out), layer by layer, at most [`RIM_REGROW_MAX_VOX`] layers.
fn add_raw_rim(stack: &PhaseStack, region: &mut Array3<bool>, necrosis: &Array3<bool>, zone: &Array3<bool>) {
    let solid: Array3<bool> = ndarray::Zip::from(&*region)
        .and(necrosis)
        .map_collect(|&r, &n| r && !n);
    let (Some((s_mu, s_sd)), Some((n_mu, n_sd))) = (
        raw_stats(stack, &morph::erode(&solid, 1)),
        raw_stats(stack, &morph::erode(necrosis, 1)).or_else(|| raw_stats(stack, necrosis)),
    ) else {
        return;
    };
    let near = morph::dilate(zone, RIM_REGROW_MAX_VOX + 1);
    let dim = region.dim();
    let nc = stack.phases.len();
    let r = RAW_RIM_OUTSIDE_VOX as i64;
    for _ in 0..RIM_REGROW_MAX_VOX {
        let d1 = morph::dilate(region, 1);
        let d3 = morph::dilate(region, RAW_RIM_OUTSIDE_VOX);
        let mut add: Vec<[usize; 3]> = Vec::new();
        for ((k, j, i), &b) in region.indexed_iter() {
            let p = [k, j, i];
            if b || !near[p] || !morph::neighbours6(p, dim).any(|n| region[n]) {
                continue;
            }
            let raw: Vec<f64> = stack.phases.iter().map(|ph| ph.data[p] as f64).collect();
            if raw.iter().any(|v| !v.is_finite()) {
                continue;
            }
            let within =
                |mu: &[f64], sd: &[f64]| (0..nc).all(|c| (raw[c] - mu[c]).abs() <= EDGE_RAW_K_SD * sd[c]);
            let dist =
                |mu: &[f64], sd: &[f64]| -> f64 { (0..nc).map(|c| ((raw[c] - mu[c]) / sd[c]).powi(2)).sum() };
            let d_in = match (within(&s_mu, &s_sd), within(&n_mu, &n_sd)) {
                (true, true) => dist(&s_mu, &s_sd).min(dist(&n_mu, &n_sd)),
                (true, false) => dist(&s_mu, &s_sd),
                (false, true) => dist(&n_mu, &n_sd),
                (false, false) => continue,
            };
            // The local outside, in the same units as the nearer inside class.
            let sd = if within(&s_mu, &s_sd) { &s_sd } else { &n_sd };
            let Some(med) = shell_medians(stack, &d1, &d3, p, r) else {
                continue;
            };
            let d_out: f64 = (0..nc).map(|c| ((raw[c] - med[c]) / sd[c]).powi(2)).sum();
            if d_in < d_out {
                add.push(p);
            }
        }
        if add.is_empty() {
            break;
        }
        for p in add {
            region[p] = true;
        }
    }
    *region = morph::fill_holes(region);
}

/// Per-phase median of the local outside around voxel `p`: the voxels within `r` steps of
/// it that lie in `d3` (the region dilated) but not in `d1` (its first layer). `None`
/// when a phase has fewer than five finite values there.
fn shell_medians(
    stack: &PhaseStack,
    d1: &Array3<bool>,
    d3: &Array3<bool>,
    p: [usize; 3],
    r: i64,
) -> Option<Vec<f64>> {
    let dim = d1.dim();
    let mut out: Vec<Vec<f64>> = vec![Vec::new(); stack.phases.len()];
    for (q, _) in morph::cube(p, r, dim) {
        if d1[q] || !d3[q] {
            continue;
        }
        for (c, ph) in stack.phases.iter().enumerate() {
            let v = ph.data[q];
            if v.is_finite() {
                out[c].push(v as f64);
            }
        }
    }
    if out.iter().any(|v| v.len() < 5) {
        return None;
    }
    Some(
        out.into_iter()
            .map(|mut v| {
                v.sort_unstable_by(|a, b| a.total_cmp(b));
                v[v.len() / 2]
            })
            .collect(),
    )
}

/// The partial-volume edge layer: the smoothed features blur a thin neighbour (a fat
/// plane, a flattened vein) into the mass's outer voxels, so the midpoint refinement
/// leaves out a last layer whose own values are plainly mass. A voxel next to the region
/// joins when its unsmoothed value on every phase lies within [`EDGE_RAW_K_SD`] SD of the
/// region's interior (SD of the raw interior: noise and the tumour's own texture), unless
/// the candidate layer around it is an organ alongside ([`is_organ`] on the layer's mean):
/// there the voxels passing are the organ's noise, not a layer of mass.
fn add_edge_layer(stack: &PhaseStack, region: &mut Array3<bool>, organ: &[Vec<f64>], floors: &[f64]) {
    let interior = morph::erode(region, 2);
    let nc = stack.phases.len();
    let Some((mu, sd)) = raw_stats(stack, &interior) else {
        return;
    };
    let tol: Vec<f64> = sd.iter().map(|s| EDGE_RAW_K_SD * s).collect();
    let dim = region.dim();
    // The local outside: voxels two to three steps beyond the region.
    let d1 = morph::dilate(region, 1);
    let d3 = morph::dilate(region, 3);
    let r = 3i64;
    // The candidate layer (voxels next to the region), for its local means.
    let candidates: Array3<bool> = ndarray::Zip::from(&d1)
        .and(&*region)
        .map_collect(|&a, &b| a && !b);
    let mut add: Vec<[usize; 3]> = Vec::new();
    for ((k, j, i), &b) in region.indexed_iter() {
        if b {
            continue;
        }
        let p = [k, j, i];
        if !morph::neighbours6(p, dim).any(|n| region[n]) {
            continue;
        }
        let raw: Vec<f64> = stack.phases.iter().map(|ph| ph.data[p] as f64).collect();
        let ok = raw
            .iter()
            .enumerate()
            .all(|(c, &v)| v.is_finite() && (v - mu[c]).abs() <= tol[c]);
        if !ok {
            continue;
        }
        // Nearer the interior's mean than the local outside's (per-phase median), in
        // units of each phase's tolerance: a low-contrast neighbour (muscle, bowel) keeps
        // its own voxels.
        let Some(med) = shell_medians(stack, &d1, &d3, p, r) else {
            continue;
        };
        let (mut d_in, mut d_out) = (0.0, 0.0);
        for c in 0..nc {
            let s = tol[c].max(1e-6);
            d_in += ((raw[c] - mu[c]) / s).powi(2);
            d_out += ((raw[c] - med[c]) / s).powi(2);
        }
        if d_in >= d_out {
            continue;
        }
        // A candidate layer with an outside tissue's values is that organ's first layer
        // (the boundary is already placed there); its single voxels pass by noise alone.
        // Judged only for voxels that would join: two neighbourhood scans per voxel.
        let organ_layer = !organ.is_empty()
            && match (
                layer_mean(stack, &candidates, p),
                nearest_smoothed(stack, &interior, p, REFINE_RADIUS_VOX),
            ) {
                (Some(m), Some(local)) => is_organ(organ, &m, &local, floors),
                _ => false,
            };
        if !organ_layer {
            add.push(p);
        }
    }
    for p in add {
        region[p] = true;
    }
}

/// The smoothed values of the voxels of `mask` spatially nearest `p` (averaged over ties),
/// within `r` voxels; `None` when there is none.
fn nearest_smoothed(stack: &PhaseStack, mask: &Array3<bool>, p: [usize; 3], r: i64) -> Option<Vec<f64>> {
    let dim = mask.dim();
    let sp = stack.spacing_kji();
    let nc = stack.phases.len();
    let mut best = (f64::INFINITY, vec![0.0; nc], 0usize);
    for (q, [dk, dj, di]) in morph::cube(p, r, dim) {
        if !mask[q] {
            continue;
        }
        let v: Vec<f64> = stack.phases.iter().map(|ph| ph.smooth[q] as f64).collect();
        if v.iter().any(|x| !x.is_finite()) {
            continue;
        }
        let d = (dk as f64 * sp[0]).powi(2) + (dj as f64 * sp[1]).powi(2) + (di as f64 * sp[2]).powi(2);
        if d < best.0 - 1e-9 {
            best = (d, v, 1);
        } else if (d - best.0).abs() <= 1e-9 {
            for (a, b) in best.1.iter_mut().zip(v) {
                *a += b;
            }
            best.2 += 1;
        }
    }
    (best.2 > 0).then(|| best.1.into_iter().map(|x| x / best.2 as f64).collect())
}

/// Mean unsmoothed value per phase over the voxels of `p`'s layer (`layer[q] ==
/// layer[p]`, non-zero) within [`LAYER_AVG_RADIUS_VOX`] of it.
fn layer_mean<T: PartialEq + Copy + Default>(
    stack: &PhaseStack,
    layer: &Array3<T>,
    p: [usize; 3],
) -> Option<Vec<f64>> {
    let dim = layer.dim();
    let id = layer[p];
    if id == T::default() {
        return None;
    }
    let r = LAYER_AVG_RADIUS_VOX;
    let nc = stack.phases.len();
    let mut sum = vec![0.0; nc];
    let mut n = 0usize;
    for (q, _) in morph::cube(p, r, dim) {
        if layer[q] != id {
            continue;
        }
        // Voxels the features leave out (fat on the fat-excluded path) stay out.
        if stack.phases.iter().any(|ph| !ph.smooth[q].is_finite()) {
            continue;
        }
        let v: Vec<f64> = stack.phases.iter().map(|ph| ph.data[q] as f64).collect();
        if v.iter().any(|x| !x.is_finite()) {
            continue;
        }
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
        n += 1;
    }
    (n > 0).then(|| sum.into_iter().map(|s| s / n as f64).collect())
}

/// Pure outside tissue around the grown region: voxels at least [`ORGAN_MIN_DEPTH_VOX`]
/// beyond it, outside the growth's range `[lo, hi]` by [`ORGAN_MIN_OFFSET_FLOORS`] on some
/// phase, and homogeneous (each 6-neighbour within [`ORGAN_MAX_STEP_FLOORS`] floors on every
/// phase: tissue, not the blend at an edge). Their smoothed values are the organs'
/// own values, which a thin strip of the organ keeps on its unsmoothed voxels even where
/// the smoothing blends it with the mass and the fat beyond.
fn outside_tissue(
    stack: &PhaseStack,
    grown: &Array3<bool>,
    lo: &[f64],
    hi: &[f64],
    floors: &[f64],
) -> Vec<Vec<f64>> {
    let dim = grown.dim();
    let near = morph::dilate(grown, ORGAN_MIN_DEPTH_VOX - 1);
    let reach = morph::dilate(grown, ORGAN_RADIUS_VOX);
    // Values binned by a floor per phase: one mean per occupied bin.
    let mut bins: std::collections::HashMap<Vec<i64>, (Vec<f64>, usize)> = Default::default();
    for ((k, j, i), &r) in reach.indexed_iter() {
        let p = [k, j, i];
        if !r || near[p] {
            continue;
        }
        let mut refused = false;
        let mut pure = true;
        let mut v = Vec::with_capacity(floors.len());
        for (c, ph) in stack.phases.iter().enumerate() {
            let x = ph.smooth[p] as f64;
            if !x.is_finite() {
                pure = false;
                break;
            }
            let f = floors[c];
            if x < lo[c] - ORGAN_MIN_OFFSET_FLOORS * f || x > hi[c] + ORGAN_MIN_OFFSET_FLOORS * f {
                refused = true;
            }
            let step = ORGAN_MAX_STEP_FLOORS * f;
            if morph::neighbours6(p, dim).any(|n| {
                let w = ph.smooth[n] as f64;
                !w.is_finite() || (w - x).abs() > step
            }) {
                pure = false;
                break;
            }
            v.push(x);
        }
        if !(refused && pure) {
            continue;
        }
        let key: Vec<i64> = v
            .iter()
            .zip(floors)
            .map(|(x, f)| (x / f.max(1e-6)).floor() as i64)
            .collect();
        let e = bins.entry(key).or_insert_with(|| (vec![0.0; v.len()], 0));
        for (a, x) in e.0.iter_mut().zip(&v) {
            *a += x;
        }
        e.1 += 1;
    }
    bins.into_values()
        .map(|(s, n)| s.into_iter().map(|x| x / n as f64).collect())
        .collect()
}

/// Is `v` (a layer's mean unsmoothed values) an outside tissue rather than the mass: within
/// [`ORGAN_MATCH_FLOORS`] floors of an outside tissue's values ([`outside_tissue`]) on
/// every phase and nearer it than the mass's local value `mass` (distances in floors),
/// while not within that tolerance of `mass` on every phase (against a neighbour of low
/// contrast, a layer straddling both matches both and is left as it is).
fn is_organ(organ: &[Vec<f64>], v: &[f64], mass: &[f64], floors: &[f64]) -> bool {
    let within = |o: &[f64]| {
        o.iter()
            .zip(v.iter().zip(floors))
            .all(|(&m, (&x, &f))| (x - m).abs() <= ORGAN_MATCH_FLOORS * f)
    };
    let dist = |o: &[f64]| -> f64 {
        o.iter()
            .zip(v.iter().zip(floors))
            .map(|(&m, (&x, &f))| ((x - m) / f.max(1e-6)).powi(2))
            .sum()
    };
    if within(mass) {
        return false;
    }
    let d_mass = dist(mass);
    organ.iter().any(|o| within(o) && dist(o) < d_mass)
}

/// The midpoint refinement judges a voxel on smoothed values against the *nearest*
/// outside voxel; where a strip of an organ 1–3 voxels thick lies between the mass and
/// fat, that outside is the fat, and the strip's blend of mass, organ and fat lies nearer
/// the mass (the mimic's liver strip: 6.7 ml, +10 mm of diameter). A voxel the
/// refinement added is dropped when its layer — the added voxels at the same depth from
/// the grown region within [`LAYER_AVG_RADIUS_VOX`], their mean unsmoothed values — is an
/// outside tissue rather than the mass ([`is_organ`]; the mass's local value is the
/// smoothed value of the nearest voxel of the grown region's interior). Single raw voxels
/// are too noisy for this (mass and liver differ by ~3 noise SDs over all phases); the
/// layer's mean is not blended across the edge.
fn drop_organ_like(
    stack: &PhaseStack,
    region: &mut Array3<bool>,
    grown: &Array3<bool>,
    organ: &[Vec<f64>],
    floors: &[f64],
) {
    // No outside tissue found: nothing can be judged an organ's layer.
    if organ.is_empty() {
        return;
    }
    // The local mass value: the nearest voxel of the grown region's interior (as the
    // midpoint refinement's inside), so a tumour's rim is judged against its rim.
    let interior = morph::erode(grown, 2);
    if !interior.iter().any(|&b| b) {
        return;
    }
    // Depth of each added voxel: 6-neighbourhood steps from the grown region.
    let dim = region.dim();
    let mut depth = Array3::from_elem(dim, 0u8);
    let mut reach = grown.clone();
    for d in 1..=(REFINE_MAX_MOVE_VOX as u8) {
        reach = morph::dilate(&reach, 1);
        ndarray::Zip::from(&mut depth)
            .and(&reach)
            .and(&*region)
            .and(grown)
            .for_each(|dp, &r, &x, &g| {
                if r && x && !g && *dp == 0 {
                    *dp = d;
                }
            });
    }
    let mut drop: Vec<[usize; 3]> = Vec::new();
    for ((k, j, i), &b) in region.indexed_iter() {
        let p = [k, j, i];
        if !b || grown[p] || depth[p] == 0 {
            continue;
        }
        let Some(raw) = layer_mean(stack, &depth, p) else {
            continue;
        };
        let Some(mu) = nearest_smoothed(
            stack,
            &interior,
            p,
            REFINE_RADIUS_VOX + REFINE_MAX_MOVE_VOX as i64,
        ) else {
            continue;
        };
        if is_organ(organ, &raw, &mu, floors) {
            drop.push(p);
        }
    }
    if tracing::enabled!(tracing::Level::TRACE) {
        tracing::trace!(
            "organ check: {} outside tissue values, {} refined voxels dropped",
            organ.len(),
            drop.len()
        );
    }
    for p in drop {
        region[p] = false;
    }
}

/// Enhancing rim: when most of the region's boundary is held back only by stronger
/// enhancement on some post-contrast phases (the baseline matching, the excess a few
/// floors: a gradual front, not an edge to another tissue), the tumour goes on as its
/// more enhancing periphery (peripheral / centripetal enhancement). Those phases' upper
/// bounds are raised one floor at a time and the growth repeated, until the boundary is
/// mostly other tissue (an organ differs on the baseline, or by an edge), the widening
/// reaches [`RIM_MAX_WIDEN_FLOORS`], or the region leaks.
#[allow(clippy::too_many_arguments)]
fn widen_for_rim(
    stack: &PhaseStack,
    seed: [usize; 3],
    region: &mut Array3<bool>,
    mut count: usize,
    lo: &[f64],
    hi: &[f64],
    floors: &[f64],
    w: &mut Vec<String>,
) -> Vec<f64> {
    let mut hi = hi.to_vec();
    let start = hi.clone();
    let count0 = count;
    for _ in 0..RIM_MAX_ROUNDS {
        let widen = rim_widening(stack, region, lo, &hi, floors);
        if widen.is_empty() {
            break;
        }
        let mut h2 = hi.clone();
        for &c in &widen {
            h2[c] += floors[c];
        }
        if widen
            .iter()
            .any(|&c| h2[c] - start[c] > RIM_MAX_WIDEN_FLOORS * floors[c])
        {
            break;
        }
        let (r, n) = grow_interval(stack, seed, lo, &h2);
        if n > 4 * count.max(1) || reaches_box_face(&r) {
            w.push("mass growth: the enhancing-rim widening would leak; stopped".into());
            break;
        }
        *region = r;
        count = n;
        hi = h2;
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!("rim widening {widen:?}: {count} voxels, hi {hi:.1?}");
        }
    }
    if count > count0 && tracing::enabled!(tracing::Level::TRACE) {
        tracing::trace!("rim widening: {count0} -> {count} voxels");
    }
    hi
}

/// The midpoint refinement corrects the blur of the smoothing (at most about two σ, two
/// voxels); it may not move the boundary further than [`REFINE_MAX_MOVE_VOX`] from where
/// it started, so a blurred contact with a vessel is not followed.
fn clamp_refinement(region: &mut Array3<bool>, start: &Array3<bool>, max_move: usize) {
    let allowed = morph::dilate(start, max_move);
    let keep = morph::erode(start, max_move);
    ndarray::Zip::from(region)
        .and(&allowed)
        .and(&keep)
        .for_each(|r, &a, &k| *r = (*r && a) || k);
}

/// Morphological opening by [`LEAK_OPENING_VOX`] steps (the largest eroded component,
/// grown back): tongues of the region thinner than about twice that (a leak along a
/// blurred contact with bowel or a vessel) are cut; the region's own outline is kept.
fn cut_thin_leaks(region: &Array3<bool>) -> Array3<bool> {
    let eroded = morph::erode(region, LEAK_OPENING_VOX);
    // Every substantial part survives (an intraluminal plug joined to the extraluminal
    // part through the wall is a neck, not a leak); small eroded pieces are leaks.
    let (labels, sizes) = morph::label_components(&eroded);
    let largest = sizes.iter().skip(1).copied().max().unwrap_or(0);
    let keep: Vec<bool> = sizes
        .iter()
        .enumerate()
        .map(|(l, &n)| l > 0 && n as f64 >= LEAK_MIN_PART_FRACTION * largest as f64)
        .collect();
    let core = labels.mapv(|l| keep[l as usize]);
    if !core.iter().any(|&b| b) {
        return region.clone();
    }
    let back = morph::dilate(&core, LEAK_OPENING_VOX);
    let mut out = region.clone();
    ndarray::Zip::from(&mut out)
        .and(&back)
        .for_each(|o, &b| *o = *o && b);
    out
}

/// Move the boundary to the midpoint between the local inside and outside values: each
/// voxel within two voxels of the boundary joins (or stays) when its smoothed features are
/// closer to some nearby interior voxel than to any voxel of the nearby outside band
/// (distances in units of each phase's tolerance floor). Nearest values, not means: the
/// band may hold several tissues (fat and liver), and a mean of them matches neither.
fn refine_boundary(stack: &PhaseStack, region: &mut Array3<bool>, weights: &[f64]) -> usize {
    let inner = morph::erode(region, 2);
    let d1 = morph::dilate(region, 2);
    let d2 = morph::dilate(region, 4);
    let band: Array3<bool> = ndarray::Zip::from(&d2).and(&d1).map_collect(|&a, &b| a && !b);
    let shell: Array3<bool> = ndarray::Zip::from(&d1).and(&inner).map_collect(|&a, &b| a && !b);
    let dim = region.dim();
    let r = REFINE_RADIUS_VOX + 1;
    let inv = weights;
    let feat = |q: [usize; 3]| -> Option<Vec<f64>> {
        stack
            .phases
            .iter()
            .zip(inv)
            .map(|(ph, s)| {
                let v = ph.smooth[q];
                v.is_finite().then_some(v as f64 * s)
            })
            .collect()
    };
    let mut changes: Vec<([usize; 3], bool)> = Vec::new();
    for ((k, j, i), &s) in shell.indexed_iter() {
        if !s {
            continue;
        }
        let p = [k, j, i];
        let Some(fp) = feat(p) else { continue };
        // The spatially nearest interior and band voxels (averaged over ties) give the
        // local inside and outside values.
        let sp = stack.spacing_kji();
        let nc = fp.len();
        let mut best_in = (f64::INFINITY, vec![0.0; nc], 0usize);
        let mut best_out = (f64::INFINITY, vec![0.0; nc], 0usize);
        for dk in -r..=r {
            for dj in -r..=r {
                for di in -r..=r {
                    let q = [k as i64 + dk, j as i64 + dj, i as i64 + di];
                    if q[0] < 0 || q[1] < 0 || q[2] < 0 {
                        continue;
                    }
                    let q = [q[0] as usize, q[1] as usize, q[2] as usize];
                    if q[0] >= dim.0 || q[1] >= dim.1 || q[2] >= dim.2 {
                        continue;
                    }
                    let (is_in, is_out) = (inner[q], band[q]);
                    if !(is_in || is_out) {
                        continue;
                    }
                    let Some(fq) = feat(q) else { continue };
                    let dist = (dk as f64 * sp[0]).powi(2)
                        + (dj as f64 * sp[1]).powi(2)
                        + (di as f64 * sp[2]).powi(2);
                    let slot = if is_in { &mut best_in } else { &mut best_out };
                    if dist < slot.0 - 1e-9 {
                        *slot = (dist, fq, 1);
                    } else if (dist - slot.0).abs() <= 1e-9 {
                        for (a, b) in slot.1.iter_mut().zip(&fq) {
                            *a += b;
                        }
                        slot.2 += 1;
                    }
                }
            }
        }
        let dist_to = |slot: &(f64, Vec<f64>, usize)| -> f64 {
            if slot.2 == 0 {
                return f64::INFINITY;
            }
            fp.iter()
                .zip(&slot.1)
                .map(|(a, b)| (a - b / slot.2 as f64).powi(2))
                .sum()
        };
        let (din, dout) = (dist_to(&best_in), dist_to(&best_out));
        if din.is_finite() && dout.is_finite() {
            let want = din < dout;
            if want != region[p] {
                changes.push((p, want));
            }
        }
    }
    let n = changes.len();
    for (p, v) in changes {
        region[p] = v;
    }
    n
}

/// Is voxel `p` non-enhancing tissue (necrosis; test in [`add_necrosis`]), judged on the
/// smoothed features? `base_mean`: the region's mean baseline value.
fn non_enhancing(
    ct: bool,
    base: &crate::stack::StackPhase,
    post: &[&crate::stack::StackPhase],
    p: [usize; 3],
    base_mean: f64,
) -> bool {
    let b = base.smooth[p] as f64;
    if !b.is_finite() {
        return false;
    }
    let base_ok = if ct {
        (NECROSIS_CT_MIN_HU..=NECROSIS_CT_MAX_HU).contains(&b)
    } else {
        b >= 0.5 * base_mean
    };
    base_ok
        && post.iter().all(|ph| {
            let v = ph.smooth[p] as f64;
            let d = if ct {
                v - b
            } else {
                (v - b) / b.abs().max(1e-9) * 100.0
            };
            v.is_finite() && d < NECROSIS_MAX_ENHANCEMENT
        })
}

/// Non-enhancing tissue (necrosis) within [`NECROSIS_MAX_GAP_VOX`] voxels of the region
/// joins it: every post-contrast
/// phase within [`NECROSIS_MAX_ENHANCEMENT`] of the baseline, and a baseline value of
/// fluid / necrosis (CT −5…45 HU; MRI at least half the region's T1 signal, which keeps
/// fat-suppressed fat out). A component larger than the region, or reaching the edge of
/// the analysed box, is something else (bowel, ascites) and stays out.
fn add_necrosis(stack: &PhaseStack, region: &mut Array3<bool>) {
    let Some(base) = stack.baseline() else { return };
    let post: Vec<&crate::stack::StackPhase> = stack
        .phases
        .iter()
        .filter(|p| p.role.is_post_contrast())
        .collect();
    if post.is_empty() {
        return;
    }
    let n_region = region.iter().filter(|&&b| b).count();
    let base_mean = {
        let v: Vec<f64> = base
            .smooth
            .iter()
            .zip(region.iter())
            .filter(|(x, &m)| m && x.is_finite())
            .map(|(&x, _)| x as f64)
            .collect();
        if v.is_empty() {
            return;
        }
        v.iter().sum::<f64>() / v.len() as f64
    };
    // Necrosis lies inside the tumour's outline: within the slice-wise hull, widened by
    // a few voxels where the growth missed a thin solid rim beyond an eccentric necrosis.
    let hull = morph::dilate(&slice_hulls(region), NECROSIS_HULL_MARGIN_VOX);
    let cand: Array3<bool> = ndarray::Zip::indexed(&base.smooth).map_collect(|(k, j, i), _| {
        let p = [k, j, i];
        !region[p] && hull[p] && non_enhancing(stack.ct, base, &post, p, base_mean)
    });
    if tracing::enabled!(tracing::Level::TRACE) {
        let in_hull = hull.iter().zip(region.iter()).filter(|(&h, &r)| h && !r).count();
        let base_pass =
            ndarray::Zip::from(&base.smooth)
                .and(&hull)
                .and(&*region)
                .fold(0usize, |a, &b, &h, &r| {
                    let b = b as f64;
                    a + usize::from(
                        h && !r
                            && b.is_finite()
                            && (if stack.ct {
                                (NECROSIS_CT_MIN_HU..=NECROSIS_CT_MAX_HU).contains(&b)
                            } else {
                                b >= 0.5 * base_mean
                            }),
                    )
                });
        tracing::trace!(
            "necrosis: hull-only voxels {in_hull}, baseline ok {base_pass}, base mean {base_mean:.1}"
        );
    }
    let (labels, sizes) = morph::label_components(&cand);
    if tracing::enabled!(tracing::Level::TRACE) {
        let mut big: Vec<usize> = sizes.clone();
        big.sort_unstable_by(|a, b| b.cmp(a));
        tracing::trace!(
            "necrosis candidates: {} voxels, largest components {:?}, region {n_region}",
            cand.iter().filter(|&&b| b).count(),
            &big[..big.len().min(5)]
        );
    }
    let dim = region.dim();
    // The blend between solid tumour and necrosis (a few mm) separates them.
    let near = morph::dilate(region, NECROSIS_MAX_GAP_VOX);
    let mut touching = vec![false; sizes.len()];
    let mut at_edge = vec![false; sizes.len()];
    for ((k, j, i), &l) in labels.indexed_iter() {
        if l == 0 {
            continue;
        }
        if near[[k, j, i]] {
            touching[l as usize] = true;
        }
        if k == 0 || j == 0 || i == 0 || k + 1 == dim.0 || j + 1 == dim.1 || i + 1 == dim.2 {
            at_edge[l as usize] = true;
        }
    }
    for ((k, j, i), &l) in labels.indexed_iter() {
        let l = l as usize;
        if l > 0 && touching[l] && !at_edge[l] && sizes[l] <= n_region {
            region[[k, j, i]] = true;
        }
    }
}

/// Cavities of the region after a closing of [`CAVITY_CLOSING_VOX`] voxels (a necrotic core whose thin
/// solid rim has a gap still counts as enclosed); only the cavities are added, not the
/// closing itself.
fn fill_cavities(region: &Array3<bool>) -> Array3<bool> {
    let closed = morph::erode(&morph::dilate(region, CAVITY_CLOSING_VOX), CAVITY_CLOSING_VOX);
    let filled = morph::fill_holes(&closed);
    let mut out = region.clone();
    ndarray::Zip::from(&mut out)
        .and(&filled)
        .and(&closed)
        .for_each(|o, &f, &c| {
            if f && !c {
                *o = true;
            }
        });
    morph::fill_holes(&out)
}

/// Per-slice convex hull of a mask (slices along the grid's k axis).
fn slice_hulls(region: &Array3<bool>) -> Array3<bool> {
    let (nk, nj, ni) = region.dim();
    let mut out = Array3::from_elem((nk, nj, ni), false);
    for k in 0..nk {
        let pts: Vec<(i64, i64)> = (0..nj)
            .flat_map(|j| (0..ni).map(move |i| (j, i)))
            .filter(|&(j, i)| region[[k, j, i]])
            .map(|(j, i)| (j as i64, i as i64))
            .collect();
        if pts.is_empty() {
            continue;
        }
        let (j0, j1) = (
            pts.iter().map(|p| p.0).min().unwrap_or(0),
            pts.iter().map(|p| p.0).max().unwrap_or(0),
        );
        let (i0, i1) = (
            pts.iter().map(|p| p.1).min().unwrap_or(0),
            pts.iter().map(|p| p.1).max().unwrap_or(0),
        );
        let h = convex_hull(pts);
        for j in j0..=j1 {
            for i in i0..=i1 {
                if in_hull(&h, (j, i)) {
                    out[[k, j as usize, i as usize]] = true;
                }
            }
        }
    }
    out
}

/// Add the fat voxels ([`is_fat`] on the unsmoothed baseline or first phase: adipose
/// density, no air beside it, so a gas pocket is no "fat lobule") inside the region's
/// slice-wise convex hulls when they make up ≥ [`FAT_HULL_MIN_FRACTION`] of the mass so extended.
/// `all_axes`: hulls of the axial, coronal and sagittal slices (their union stays inside
/// the region's 3-D convex hull), so fat lobules at the top and bottom of a fat-containing
/// mass, which no axial slice of its solid part encloses, join too; else axial only.
fn add_fat_lobules(stack: &PhaseStack, region: &mut Array3<bool>, all_axes: bool) {
    let Some(ph) = stack.baseline().or(stack.phases.first()) else {
        return;
    };
    let n_region = region.iter().filter(|&&b| b).count();
    let hull = region_hulls(region, all_axes);
    let fat_add = hull_fat(&ph.data, region, &hull);
    let frac = fat_add.len() as f64 / (fat_add.len() + n_region).max(1) as f64;
    if frac >= FAT_HULL_MIN_FRACTION {
        for p in fat_add {
            region[p] = true;
        }
        *region = morph::fill_holes(region);
    }
}

/// The region's slice-wise convex hulls: axial, or (`all_axes`) the union of the axial,
/// coronal and sagittal ones (inside the region's 3-D convex hull).
fn region_hulls(region: &Array3<bool>, all_axes: bool) -> Array3<bool> {
    let mut hull = slice_hulls(region);
    if all_axes {
        for axis in [1, 2] {
            // Put `axis` first, take its slices' hulls, and swap back.
            let swapped = region.view().permuted_axes(swap_first(axis)).to_owned();
            let h = slice_hulls(&swapped);
            let back = h.view().permuted_axes(swap_first(axis)).to_owned();
            ndarray::Zip::from(&mut hull)
                .and(&back)
                .for_each(|a, &b| *a = *a || b);
        }
    }
    hull
}

/// The fat voxels ([`is_fat`] on `data`) inside `hull` and outside `region`.
fn hull_fat(data: &Array3<f32>, region: &Array3<bool>, hull: &Array3<bool>) -> Vec<[usize; 3]> {
    hull.indexed_iter()
        .filter(|&((k, j, i), &h)| h && !region[[k, j, i]] && is_fat(data, (k, j, i)))
        .map(|((k, j, i), _)| [k, j, i])
        .collect()
}

/// A fat-containing mass: its solid parts that fat lobules cut off from the seed's part
/// (the growth runs on fat-excluded features, so it crosses no lobule). A connected part
/// of solid tissue in the growth's range (`lo`, `hi` on `solid`'s features) joins when it
/// touches the mass (the region with the fat of its hulls) and at least
/// [`LOBULE_JOIN_MIN_HULL_FRACTION`] of it lies within [`LOBULE_JOIN_MARGIN_MM`] of the
/// hulls of the seed's part: a part of the same compact lump, kept within that margin.
/// Tissue of the same density that runs on beyond the lump (bowel wall around gas, an
/// organ alongside) lies mostly outside and stays out. Repeated while parts join (a part
/// may touch only one joined before), at most [`LOBULE_JOIN_MAX_ROUNDS`] times.
fn join_across_lobules(
    full: &PhaseStack,
    solid: &PhaseStack,
    region: &mut Array3<bool>,
    lo: &[f64],
    hi: &[f64],
) {
    let Some(ph) = full.baseline().or(full.phases.first()) else {
        return;
    };
    let in_range_tissue =
        ndarray::Zip::indexed(&*region).map_collect(|(k, j, i), &r| !r && in_range(solid, [k, j, i], lo, hi));
    let sp = solid.spacing_kji();
    let coarsest = sp.iter().copied().fold(0.0f64, f64::max);
    let margin = ((LOBULE_JOIN_MARGIN_MM / coarsest).round() as usize).max(1);
    let hull_wide = morph::dilate(&region_hulls(region, true), margin);
    for round in 0..LOBULE_JOIN_MAX_ROUNDS {
        let hull = region_hulls(region, true);
        let mut mass = region.clone();
        for p in hull_fat(&ph.data, region, &hull) {
            mass[p] = true;
        }
        // The fat-excluded features leave one voxel beside fat without a value: a part
        // across a lobule's edge lies up to two voxels from the mass.
        let near = morph::dilate(&mass, 2);
        let avail = ndarray::Zip::from(&in_range_tissue)
            .and(&*region)
            .map_collect(|&t, &r| t && !r);
        let (labels, sizes) = morph::label_components(&avail);
        // Per part: voxels, voxels near the mass, voxels within the margin of the hulls.
        let mut stats = vec![(0usize, 0usize, 0usize); sizes.len()];
        for ((k, j, i), &l) in labels.indexed_iter() {
            if l != 0 {
                let p = [k, j, i];
                let s = &mut stats[l as usize];
                s.0 += 1;
                s.1 += usize::from(near[p]);
                s.2 += usize::from(hull_wide[p]);
            }
        }
        let accepted: Vec<bool> = stats
            .iter()
            .map(|&(n, n_near, n_hull)| {
                n > 0 && n_near > 0 && n_hull as f64 >= LOBULE_JOIN_MIN_HULL_FRACTION * n as f64
            })
            .collect();
        let n_join: usize = stats
            .iter()
            .zip(&accepted)
            .filter(|(_, &a)| a)
            .map(|(s, _)| s.0)
            .sum();
        tracing::debug!(
            "fat-containing mass, round {round}: {n_join} voxels of solid tissue joined across lobules"
        );
        if n_join == 0 {
            break;
        }
        for ((k, j, i), &l) in labels.indexed_iter() {
            if l != 0 && accepted[l as usize] && hull_wide[[k, j, i]] {
                region[[k, j, i]] = true;
            }
        }
    }
}

/// Axis order that exchanges axis 0 with `axis` (its own inverse).
fn swap_first(axis: usize) -> [usize; 3] {
    match axis {
        1 => [1, 0, 2],
        2 => [2, 1, 0],
        _ => [0, 1, 2],
    }
}

/// Largest distance between boundary voxel centres, plus the voxel's extent along that
/// direction (the centres sit half a voxel inside the surface at each end).
fn max_diameter(mask: &Array3<bool>, stack: &PhaseStack) -> f64 {
    let dim = mask.dim();
    let mut pts: Vec<Point3<f64>> = Vec::new();
    for ((k, j, i), &b) in mask.indexed_iter() {
        if !b {
            continue;
        }
        let p = [k, j, i];
        let border = k == 0 || j == 0 || i == 0 || k + 1 == dim.0 || j + 1 == dim.1 || i + 1 == dim.2;
        if border || morph::neighbours6(p, dim).any(|n| !mask[n]) {
            pts.push(stack.world(p));
        }
    }
    let stride = (pts.len() / 3000).max(1);
    let pts: Vec<Point3<f64>> = pts.into_iter().step_by(stride).collect();
    let mut best = (0.0f64, Vector3::x());
    for (a, p) in pts.iter().enumerate() {
        for q in &pts[a + 1..] {
            let d = (p - q).norm();
            if d > best.0 {
                best = (d, (p - q) / d.max(1e-12));
            }
        }
    }
    let g = &stack.geometry;
    let extent: f64 = (0..3).map(|a| g.step(a).dot(&best.1).abs()).sum();
    best.0 + extent
}

fn segment_at(z: f64, l: &Landmarks) -> Option<IvcSegment> {
    let (h, r) = (l.hepatic_vein_confluence_z_mm?, l.renal_vein_inflow_z_mm?);
    Some(if z >= h {
        IvcSegment::Upper
    } else if z >= r {
        IvcSegment::Middle
    } else {
        IvcSegment::Lower
    })
}

/// Contact arc (degrees, largest over the sections) and the z range of contact, probing
/// 72 directions per IVC section: the wall is where the IVC mask ends along each ray;
/// contact where the mass lies 3 mm outside or 1 mm inside it.
fn contact(ivc: &IvcModel, mass: &Mask) -> (Option<f64>, Option<[f64; 2]>) {
    let mut best: f64 = 0.0;
    let mut zr: Option<[f64; 2]> = None;
    let steps = (360.0 / CONTACT_STEP_DEG).round() as usize;
    for s in &ivc.profile {
        let c = Point3::new(s.center_mm[0], s.center_mm[1], s.center_mm[2]);
        let t = Vector3::new(s.tangent[0], s.tangent[1], s.tangent[2]);
        let t = if t.norm() > 1e-9 {
            t.normalize()
        } else {
            Vector3::z()
        };
        let a = if t.x.abs() < 0.9 {
            Vector3::x()
        } else {
            Vector3::y()
        };
        let u = (a - t * a.dot(&t)).normalize();
        let v = t.cross(&u);
        let mut hits = 0usize;
        for n in 0..steps {
            let th = (n as f64 * CONTACT_STEP_DEG).to_radians();
            let d = u * th.cos() + v * th.sin();
            // Walk out of the IVC mask in 0.5 mm steps, up to 40 mm.
            let mut r = 0.0;
            let mut inside_seen = false;
            while r < 40.0 {
                let p = c + d * r;
                if ivc.mask.contains_world(&p) {
                    inside_seen = true;
                } else if inside_seen {
                    break;
                }
                r += 0.5;
            }
            if !inside_seen || r >= 40.0 {
                continue;
            }
            let out = c + d * (r + CONTACT_OUTSIDE_MM);
            let inn = c + d * (r - CONTACT_INSIDE_MM).max(0.0);
            if mass.contains_world(&out) || mass.contains_world(&inn) {
                hits += 1;
            }
        }
        if hits >= 2 {
            let arc = hits as f64 * CONTACT_STEP_DEG;
            best = best.max(arc);
            zr = Some(match zr {
                Some([lo, hi]) => [lo.min(s.z_mm), hi.max(s.z_mm)],
                None => [s.z_mm, s.z_mm],
            });
        }
    }
    (Some(best), zr)
}

/// Mass tissue deep inside the IVC contour: its volume and z extent.
struct Intraluminal {
    volume_ml: f64,
    z_range_mm: Option<[f64; 2]>,
}

/// The part of `mass` lying at least [`intraluminal_min_depth_mm`] inside `ivc` (both on
/// the stack grid): tissue in the lumen, not the partial-volume seam where the two
/// outlines meet.
fn intraluminal_part(stack: &PhaseStack, ivc: &Array3<bool>, mass: &Array3<bool>) -> Intraluminal {
    let sp = stack.geometry.spacing(); // [di, dj, dk]
    let depth = morph::edt_mm(ivc, [sp[2], sp[1], sp[0]]);
    let min_depth = intraluminal_min_depth_mm(sp[0].max(sp[1])) as f32;
    let vox_ml = stack.geometry.voxel_volume_mm3() / 1000.0;
    let mut n = 0usize;
    let mut zr: Option<[f64; 2]> = None;
    for (((k, j, i), &d), &m) in depth.indexed_iter().zip(mass.iter()) {
        if m && d >= min_depth {
            n += 1;
            let z = stack.geometry.index_to_world([i as f64, j as f64, k as f64]).z;
            zr = Some(match zr {
                Some([lo, hi]) => [lo.min(z), hi.max(z)],
                None => [z, z],
            });
        }
    }
    Intraluminal {
        volume_ml: n as f64 * vox_ml,
        z_range_mm: zr,
    }
}

/// Mass voxels that are calcification on unenhanced CT: dense (≥ [`CALCIUM_MIN_HU`])
/// structures enclosed by the mass. A dense structure mostly outside the mass, or reaching
/// the edge of the analysis box, is bone the outline touched, not calcium in the tumour
/// ([`CALCIUM_ENCLOSED_MIN_SHARE`]).
fn calcified_voxels(unenhanced: &Array3<f32>, mask: &Array3<bool>) -> usize {
    let dense = unenhanced.mapv(|x| x.is_finite() && x >= CALCIUM_MIN_HU);
    let (labels, sizes) = morph::label_components(&dense);
    let (nk, nj, ni) = labels.dim();
    let mut inside = vec![0usize; sizes.len()];
    let mut at_face = vec![false; sizes.len()];
    for ((k, j, i), &l) in labels.indexed_iter() {
        if l == 0 {
            continue;
        }
        if mask[[k, j, i]] {
            inside[l as usize] += 1;
        }
        if k == 0 || j == 0 || i == 0 || k + 1 == nk || j + 1 == nj || i + 1 == ni {
            at_face[l as usize] = true;
        }
    }
    (1..sizes.len())
        .filter(|&l| !at_face[l] && inside[l] as f64 >= CALCIUM_ENCLOSED_MIN_SHARE * sizes[l] as f64)
        .map(|l| inside[l])
        .sum()
}

#[allow(clippy::too_many_arguments)]
fn measure_region(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    stack: &PhaseStack,
    region: Region,
    ivc: Option<&IvcModel>,
    landmarks: &Landmarks,
    ref_idx: usize,
    w: &mut Vec<String>,
) -> Option<MassModel> {
    let mask = region.mask;
    let count = mask.iter().filter(|&&b| b).count();
    let vox_ml = stack.geometry.voxel_volume_mm3() / 1000.0;
    let volume_ml = count as f64 * vox_ml;
    let stack_mask = Mask::new(mask.clone(), stack.geometry.clone());
    let centroid = stack_mask.centroid()?;
    let max_diameter_mm = max_diameter(&mask, stack);
    let ivc_segment = segment_at(centroid.z, landmarks);
    if ivc_segment.is_none() {
        w.push("mass: IVC segment not given (hepatic / renal vein landmarks missing)".into());
    }

    // Fat and calcium on CT.
    let (mut fat_fraction, mut calcified_fraction) = (None, None);
    if stack.ct {
        let fat_phase = stack.baseline().or_else(|| {
            w.push("mass fat fraction measured on a contrast phase (no unenhanced CT)".into());
            stack.phases.first()
        });
        if let Some(ph) = fat_phase {
            let vals: Vec<f32> = ph
                .data
                .iter()
                .zip(mask.iter())
                .filter(|(x, &m)| m && x.is_finite())
                .map(|(&x, _)| x)
                .collect();
            if !vals.is_empty() {
                let n = vals.len() as f64;
                let fat = mask
                    .indexed_iter()
                    .filter(|&(p, &m)| m && is_fat(&ph.data, p))
                    .count();
                fat_fraction = Some(fat as f64 / n);
                if ph.role == Role::CtUnenhanced {
                    calcified_fraction = Some(calcified_voxels(&ph.data, &mask) as f64 / n);
                }
            }
        }
        if calcified_fraction.is_none() {
            w.push("mass calcified fraction needs the unenhanced CT phase; not measured".into());
        }
    }

    let enh = measure_enhancement(stack, &mask, volumes);
    w.extend(enh.warnings.iter().cloned());

    // Full reference grid mask for overlays and later stages.
    let full = volumes.get(ref_idx).map(|v| v.shape()).unwrap_or(stack.shape);
    let full_mask = Mask::new(stack.embed(&mask, full), volumes[ref_idx].geometry.clone());

    let (contact_arc_deg, contact_z_range_mm, intraluminal) = match ivc {
        Some(m) => {
            let (arc, zr) = contact(m, &stack_mask);
            let ivc_on_stack = m.mask.resample_onto(&stack.geometry, stack.shape);
            (arc, zr, Some(intraluminal_part(stack, &ivc_on_stack.data, &mask)))
        }
        None => {
            w.push("mass: no IVC model, so no contact arc or intraluminal extension".into());
            (None, None, None)
        }
    };

    let mr = if stack.ct {
        None
    } else {
        let (m, notes) = crate::mr::measure_mr(volumes, phases, &full_mask, &centroid);
        w.extend(notes);
        Some(m)
    };

    Some(MassModel {
        source: region.source,
        volume_ml,
        max_diameter_mm,
        centroid_mm: [centroid.x, centroid.y, centroid.z],
        ivc_segment,
        contact_arc_deg,
        contact_z_range_mm,
        intraluminal_ml: intraluminal.as_ref().map(|x| x.volume_ml),
        intraluminal_z_range_mm: intraluminal.and_then(|x| x.z_range_mm),
        fat_fraction,
        calcified_fraction,
        enhancement: enh.phases,
        pattern: enh.pattern,
        arterial_heterogeneity_cv: enh.arterial_heterogeneity_cv,
        centripetal: enh.centripetal,
        mr,
        mask: full_mask,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::StackPhase;
    use cavascope_volume::Geometry;

    /// The seed's voxel removed from the region: the component nearest to it (in mm, so
    /// the coarse slice axis counts), not nothing; with the seed inside, its own.
    #[test]
    fn seed_component_falls_back_to_the_nearest() {
        let mut r = Array3::from_elem((9, 9, 9), false);
        r[[4, 4, 0]] = true; // 4 columns from the seed
        r[[4, 4, 1]] = true;
        r[[6, 4, 4]] = true; // 2 slices away: 5 mm at 2.5 mm, 2 mm at 1 mm
        let c = seed_component(&r, [4, 4, 4], [2.5, 1.0, 1.0]);
        assert!(c[[4, 4, 1]] && c[[4, 4, 0]] && !c[[6, 4, 4]]);
        let c = seed_component(&r, [4, 4, 4], [1.0, 1.0, 1.0]);
        assert!(c[[6, 4, 4]] && !c[[4, 4, 1]]);
        let c = seed_component(&r, [4, 4, 1], [1.0, 1.0, 1.0]);
        assert!(c[[4, 4, 0]] && !c[[6, 4, 4]]);
        assert!(
            !seed_component(&Array3::from_elem((3, 3, 3), false), [1, 1, 1], [1.0; 3])
                .iter()
                .any(|&b| b)
        );
    }

    /// A mass (a 12³ block of 40 HU) holding a 2³ calcification (400 HU), touched at its
    /// edge by a bone bar (700 HU) that runs on outside it: the calcification's 8 voxels
    /// count, the bar's voxels inside the outline do not, nor does a dense rim that reaches
    /// the box's face.
    #[test]
    fn calcification_is_enclosed_bone_the_outline_touches_is_not() {
        let mut ct = Array3::from_elem((20, 20, 20), 40.0f32);
        let mut mass = Array3::from_elem((20, 20, 20), false);
        mass.slice_mut(ndarray::s![4..16, 4..16, 4..16]).fill(true);
        ct.slice_mut(ndarray::s![8..10, 8..10, 8..10]).fill(400.0);
        assert_eq!(calcified_voxels(&ct, &mass), 8);
        // A bar 2 voxels thick along the columns, its first 2 columns inside the mass.
        ct.slice_mut(ndarray::s![12..14, 12..14, 14..19]).fill(700.0);
        assert_eq!(calcified_voxels(&ct, &mass), 8);
        // The same bar wholly inside the mass is calcification (its 20 voxels)...
        mass.slice_mut(ndarray::s![12..14, 12..14, 14..19]).fill(true);
        assert_eq!(calcified_voxels(&ct, &mass), 8 + 20);
        // ...unless it reaches the box's face: bone leaving the box.
        ct.slice_mut(ndarray::s![12..14, 12..14, 14..20]).fill(700.0);
        mass.slice_mut(ndarray::s![12..14, 12..14, 14..20]).fill(true);
        assert_eq!(calcified_voxels(&ct, &mass), 8);
        // NaN (outside the scanned volume) is not dense.
        ct[[9, 9, 9]] = f32::NAN;
        assert_eq!(calcified_voxels(&ct, &mass), 7);
    }

    /// Slabs along the columns: 3 voxels of fat (−100 HU on both phases), 5 of solid
    /// tissue (32 / 52 HU), noise-free; plain smoothing blends them.
    fn slab_stack() -> PhaseStack {
        let shape = [16usize, 16, 32];
        let fat = |i: usize| i % 8 < 3;
        let mk = |role: Role, solid: f32| {
            let data = Array3::from_shape_fn((shape[0], shape[1], shape[2]), |(_, _, i)| {
                if fat(i) {
                    -100.0
                } else {
                    solid
                }
            });
            let smooth = crate::stack::smooth_nan(&data, [2.0; 3], crate::stack::FEATURE_SMOOTH_SIGMA_MM);
            StackPhase {
                volume_index: 0,
                role,
                shift_mm: Vector3::zeros(),
                data,
                smooth,
            }
        };
        PhaseStack {
            geometry: Geometry::axial(Point3::origin(), [2.0; 3]),
            shape,
            reference_index: 0,
            offset_kji: [0; 3],
            phases: vec![mk(Role::CtUnenhanced, 32.0), mk(Role::CtArterial, 52.0)],
            ct: true,
            spine_xy_mm: None,
        }
    }

    #[test]
    fn fat_is_adipose_density_away_from_air() {
        let mut d = Array3::from_elem((5, 5, 5), 40.0f32);
        d[[2, 2, 2]] = -100.0;
        assert!(is_fat(&d, (2, 2, 2)));
        // Air (lung) beside it, even diagonally: partial volume, not fat.
        d[[3, 3, 3]] = -850.0;
        assert!(!is_fat(&d, (2, 2, 2)));
        // Below the adipose window, or soft tissue: never fat.
        d[[1, 1, 1]] = -300.0;
        assert!(!is_fat(&d, (1, 1, 1)) && !is_fat(&d, (0, 4, 0)));
        // A fat voxel at the array's corner has fewer neighbours, none of them air.
        d[[0, 0, 4]] = -60.0;
        assert!(is_fat(&d, (0, 0, 4)));
    }

    #[test]
    fn fat_excluded_features_keep_the_solid_values_between_fat_slabs() {
        let st = slab_stack();
        let fx = fat_excluded(&st);
        let p_solid = [8, 8, 5]; // the middle of a 5-voxel solid slab (i 3..8)
        let p_fat = [8, 8, 9];
        // Plain smoothing blends fat into the solid slab: the growth would see a blend.
        assert!(
            st.phases[0].smooth[p_solid] < 32.0 - 3.0,
            "{}",
            st.phases[0].smooth[p_solid]
        );
        for (ph, want) in fx.phases.iter().zip([32.0f32, 52.0]) {
            assert!(
                (ph.smooth[p_solid] - want).abs() < 1e-3,
                "{} vs {want}",
                ph.smooth[p_solid]
            );
            assert!(ph.smooth[p_fat].is_nan());
            // The solid voxel next to fat (partial-volume layer) carries no value either.
            assert!(ph.smooth[[8, 8, 3]].is_nan());
        }
        // 3 of every 8 columns are fat: the seed ball's share is close to 3/8.
        let share = seed_fat_share(&st, p_solid);
        assert!((share - 0.375).abs() < 0.08, "{share}");
    }

    #[test]
    fn fat_lobules_above_and_below_the_solid_part_join_with_all_axes() {
        // A solid block with fat caps above and below (k), inside its 3-D outline; the
        // axial hulls of the solid part cannot enclose the caps, the coronal ones do.
        let st = slab_stack();
        let mut s = st.clone();
        let shape = (12usize, 12, 12);
        s.shape = [12, 12, 12];
        for ph in &mut s.phases {
            ph.data = Array3::from_shape_fn(shape, |(k, j, i)| {
                let inside = (2..10).contains(&j) && (2..10).contains(&i);
                match (inside, k) {
                    (true, 2..=3) | (true, 8..=9) => -100.0,
                    (true, 4..=7) => 40.0,
                    _ => 40.0 + 60.0, // another tissue around
                }
            });
            ph.smooth = ph.data.clone();
        }
        let solid = Array3::from_shape_fn(shape, |(k, j, i)| {
            (4..=7).contains(&k) && (2..10).contains(&j) && (2..10).contains(&i)
        });
        // Thin solid plates outside the caps (a capsule): no axial slice of the region
        // holds fat, every coronal and sagittal slice spans the caps.
        let mut region = solid.clone();
        for k in [1usize, 10] {
            for j in 2..10 {
                for i in 2..10 {
                    region[[k, j, i]] = true;
                }
            }
        }
        let mut axial = region.clone();
        add_fat_lobules(&s, &mut axial, false);
        let mut all = region.clone();
        add_fat_lobules(&s, &mut all, true);
        let caps = |m: &Array3<bool>| {
            m.indexed_iter()
                .filter(|&((k, _, _), &b)| b && matches!(k, 2 | 3 | 8 | 9))
                .count()
        };
        assert_eq!(caps(&axial), 0);
        assert_eq!(caps(&all), 4 * 64);
    }
}
