//! Finding the mass without user input (best effort): the dominant abnormal soft-tissue
//! region next to the IVC.
//!
//! The study's own tissues are the reference, so the same method runs on CT (HU) and MRI
//! (signal units):
//!
//! 1. **Features.** Every voxel of the analysed box carries its smoothed value on each
//!    dynamic phase ([`PhaseStack`]); the search runs on a grid of about 2 mm. Each phase
//!    has a tolerance `s_c`: CT max(6 HU, 3.5 × smoothed noise), MRI max(4 % of the
//!    body's median signal, 3.5 × smoothed noise) — the region-growing floors of
//!    [`crate::mass`].
//! 2. **Tissue classes.** Homogeneous voxels (every phase changes by ≤ 0.25 `s_c` per
//!    voxel) on a 2-voxel lattice are seeds. Seeds whose values agree within `s_c` on
//!    every phase form a class (greedy, most homogeneous first); a class needs
//!    [`MIN_CLASS_SEEDS`] seeds, so partial-volume blends between two tissues do not
//!    become classes.
//! 3. **Partition.** Seeded region growing (Adams & Bischof, IEEE PAMI 1994) with every
//!    class at once: a priority flood that gives each voxel to the adjacent class whose
//!    values are nearest (largest per-phase difference in units of `s_c`), so a blurred
//!    edge is split at its midpoint. Voxels more than [`MAX_ASSIGN_DISTANCE`] from every
//!    adjacent class stay unassigned.
//! 4. **Normal tissue.** A connected region of one class is normal when its class is fat,
//!    air or bone (CT: ≤ −10 HU, ≤ −300 HU, ≥ 200 HU unenhanced) or venous blood (the
//!    class of the IVC lumen, [`mixture`], whatever its arterial value: the IVC between
//!    a tumour plug and the atrium is a bounded region of its own); when it reaches the
//!    edge of the box or of the series through voxels its class explains (liver, bowel,
//!    muscle, fat, the great vessels and the spine continue beyond the peri-caval box; a
//!    mass is a bounded lump inside it); or when it is paired: a region of the same class
//!    within [`PAIR_RADIUS_MM`] of its centroid mirrored across the spine's midline
//!    (kidneys).
//! 5. **Unexplained tissue.** A voxel farther than [`UNEXPLAINED_DISTANCE`] from its class
//!    and from every blend of that class with another one (partial volume at an edge, a
//!    vessel thinner than the smoothing), and not a mixture of up to three classes of the
//!    normal regions within 3 voxels plus venous blood ([`mixture`]: where fat, an organ
//!    and a vein meet; a vein too thin for a class of its own), belongs to no class: a
//!    heterogeneous tumour, an enhancing rim. Without the mixtures, on MRI the blends
//!    of high-contrast tissues (kidney, blood and liver against fat-suppressed fat differ
//!    by 20–70 tolerances) stay unassigned and chain the tumour to the veins and organs
//!    around it.
//! 6. **Candidates.** Non-normal regions and unexplained voxels together (on CT only soft
//!    tissue: unenhanced −10…150 HU and below 200 HU on every phase, so fat, bone and
//!    opacified blood are out; the vertebral body is out), opened by
//!    2 voxels so that thin chains of blends do not join them to their
//!    surroundings, merged where they touch (a rim and a core, solid tissue and
//!    necrosis), cavities filled. A candidate must hold ≥ [`MIN_AUTO_ML`], be thick
//!    (largest inscribed sphere radius ≥ [`MIN_INSCRIBED_MM`], which drops vessels,
//!    discs and other thin structures), lie within [`MAX_GAP_TO_IVC_MM`] of the IVC model
//!    and in front of the vertebral body. The largest wins; one covering a filled IVC
//!    stretch (the IVC stage's `imperceptible` lumen, Webb AJR 2013) first.
//! 7. **Boundary.** Each voxel within two voxels of the candidate's edge goes to the
//!    nearer of the local mean of the candidate's deeper voxels and the classes of the
//!    well-explained voxels outside (the midpoint of the blurred edge), up to 4 passes.
//!    On CT the voxels whose smoothed unenhanced value is fat then leave it (a half-fat
//!    edge voxel is not fat inside the mass).
//! 8. **Fat.** On CT, fat (≤ −10 HU) inside the candidate's slice-wise convex hull joins
//!    it when it is ≥ 10 % of the result (fat lobules of a liposarcoma), as for a seeded
//!    mass.
//! 9. **Lumen.** Next to the IVC model, voxels enhancing on the portal-venous / delayed
//!    phase by ≥ 2 tolerances above the candidate's interior (90th percentile) are
//!    opacified lumen, not tumour (a flattened IVC beside an extrinsic mass); tumour
//!    filling the IVC enhances like the mass and stays.
//!
//! The box is first centred on the IVC's middle, spanning the IVC model's length and
//! [`SEARCH_Z_MARGIN_MM`] along z ([`search_center`]: a large mass cut by the box's face
//! would look like an organ continuing beyond it), then on the candidate found, where
//! `find_mass` applies the same rule again (the candidate now lies whole inside the
//! box). When nothing qualifies the mass is `None` and the warning says why (how many
//! candidates each test rejected).

use crate::enhancement::noise_sd;
use crate::hull::{bounds, convex_hull, in_hull};
use crate::mass::is_fat;
use crate::model::{IvcModel, Landmarks, PhaseInfo, Role};
use crate::morph;
use crate::stack::{dynamic_phases, reference_volume, PhaseStack, FEATURE_SMOOTH_SIGMA_MM};
use cavascope_imaging::stats;
use cavascope_volume::{Anatomy, Geometry, Matrix4, Point3, Vector3, Volume};
use mixture::{BloodPool, Mixer, Vertex};
use ndarray::Array3;
use rayon::prelude::*;
use std::collections::VecDeque;

mod mixture;

pub use crate::params::auto::*;
use crate::params::shared::*;

/// The IVC centre at the middle of the longest imperceptible stretch.
fn filled_ivc_seed(ivc: &IvcModel) -> Option<Point3<f64>> {
    let r = ivc
        .lumen
        .imperceptible_ranges_z_mm
        .iter()
        .filter(|r| (r[1] - r[0]).abs() >= MIN_FILLED_STRETCH_MM)
        .max_by(|a, b| (a[1] - a[0]).abs().total_cmp(&(b[1] - b[0]).abs()))?;
    let zm = 0.5 * (r[0] + r[1]);
    let s = ivc
        .profile
        .iter()
        .min_by(|a, b| (a.z_mm - zm).abs().total_cmp(&(b.z_mm - zm).abs()))?;
    Some(Point3::new(s.center_mm[0], s.center_mm[1], s.center_mm[2]))
}

/// Middle of the IVC model: centre of its centreline's bounding box, else the mask's
/// centroid.
fn ivc_middle(ivc: &IvcModel) -> Option<Point3<f64>> {
    if ivc.centreline.is_empty() {
        return ivc.mask.centroid();
    }
    let mut lo = Vector3::repeat(f64::INFINITY);
    let mut hi = Vector3::repeat(f64::NEG_INFINITY);
    for p in &ivc.centreline {
        for a in 0..3 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    Some(Point3::from((lo + hi) * 0.5))
}

/// Half the z extent of the IVC model's centreline, mm.
fn ivc_half_length(ivc: &IvcModel) -> Option<f64> {
    let (lo, hi) = ivc
        .centreline
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.z), hi.max(p.z))
        });
    (hi >= lo).then_some(0.5 * (hi - lo))
}

/// Where the automatic search centres the mass box, and what the first search found.
#[derive(Debug, Clone)]
pub struct SearchCenter {
    /// The centroid of the candidate found in the box around the IVC, else the IVC's
    /// middle.
    pub point: Point3<f64>,
    /// `Err(reason)` when the box around the IVC held no candidate.
    pub found: Result<(), String>,
}

/// Where to centre the mass box: the centroid of the candidate found in a box around the
/// IVC, else the IVC's middle (where `find_mass` then reports why nothing was found).
pub fn search_center(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    ivc: Option<&IvcModel>,
    anatomy: Option<&Anatomy>,
) -> Option<SearchCenter> {
    let ivc = ivc?;
    let mid = ivc_middle(ivc)?;
    let none = |why: &str| SearchCenter {
        point: mid,
        found: Err(why.to_string()),
    };
    let (ct, dynamic) = dynamic_phases(phases);
    let dyn_idx: Vec<usize> = dynamic.iter().map(|(_, i)| *i).collect();
    let Some(ref_idx) = reference_volume(phases, volumes.len()) else {
        return Some(none("no reference series"));
    };
    let (shifts, _) = crate::registration::phase_shifts(volumes, &dyn_idx, ref_idx, &mid, ct);
    // Along z the box covers the whole IVC model and a margin: a mass next to the IVC
    // lies within its extent, and a mass cut by the box's face would look like an organ
    // continuing beyond it.
    let half_z = ivc_half_length(ivc).map_or(SEARCH_BOX_HALF_MM, |h| {
        SEARCH_BOX_HALF_MM.max(h + SEARCH_Z_MARGIN_MM)
    });
    let half = Vector3::new(SEARCH_BOX_HALF_MM, SEARCH_BOX_HALF_MM, half_z);
    let Some(stack) = PhaseStack::build_xyz(volumes, phases, &mid, half, &shifts) else {
        return Some(none("the box around the IVC lies outside the reference series"));
    };
    Some(match detect(&stack, ivc, anatomy, None) {
        Ok(d) => SearchCenter {
            point: d.centroid,
            found: Ok(()),
        },
        Err(why) => none(&why),
    })
}

/// The mass region on the stack grid, or `None` with the reason pushed to `w`.
pub(crate) fn find_mass(
    stack: &PhaseStack,
    ivc: Option<&IvcModel>,
    start: &SearchCenter,
    _landmarks: &Landmarks,
    anatomy: Option<&Anatomy>,
    w: &mut Vec<String>,
) -> Option<Array3<bool>> {
    let Some(ivc) = ivc else {
        w.push("mass (auto): no IVC model to search along; give --mass-seed or --mass-mask".into());
        return None;
    };
    // The box is centred on the candidate that `search_center` found; here it is taken
    // again, now whole inside the box. Only that candidate: another one this box shows
    // was judged normal by the first, larger box (an organ whose pair or continuation
    // this box cuts off), or the first box held none.
    let found = start
        .found
        .clone()
        .and_then(|()| detect(stack, ivc, anatomy, Some(start.point)));
    match found.and_then(|d| plausible(stack, &d).map(|()| d)) {
        Ok(d) => {
            w.push(format!(
                "mass (auto): {:.1} ml region of tissue unlike the study's normal tissues, centred at ({:.1}, {:.1}, {:.1}), {:.0} mm from the IVC{}",
                d.volume_ml, d.centroid.x, d.centroid.y, d.centroid.z, d.gap_mm,
                if d.fat_added { "; enclosed fat added" } else { "" }
            ));
            Some(d.mask)
        }
        Err(why) => {
            w.push(format!(
                "mass (auto): no mass found — {why}; give --mass-seed or --mass-mask if one is seen"
            ));
            None
        }
    }
}

/// A mass found automatically fills at least this share of its slice-wise convex hulls:
/// a tumour is a lump (lobulated, necrotic or fat-containing ones included: their
/// necrosis and fat are inside the region), while a chain of normal structures —
/// bowel loops, a vessel with the tissue along it, vertebral bodies with prevertebral
/// tissue — fills little of its hull (**default**).
pub const MIN_AUTO_SOLIDITY: f64 = 0.5;
/// CT: gas (≤ −300 HU on the first phase) in at least this share of a region's
/// slice-wise hulls makes it bowel: a solid tumour holds no gas (**default**: a
/// few voxels of partial volume at a bowel wall stay below it).
pub const MAX_AUTO_GAS_FRACTION: f64 = 0.01;

/// The plausibility gate of an automatic mass (module docs): a lump, without gas inside.
/// `Err` says why the region is not taken as a mass.
fn plausible(stack: &PhaseStack, d: &Detection) -> Result<(), String> {
    let first = stack.phases.first().map(|p| &p.data);
    let (mut inside, mut hull_n, mut gas) = (0usize, 0usize, 0usize);
    for (k, sl) in d.mask.outer_iter().enumerate() {
        let pts: Vec<(i64, i64)> = sl
            .indexed_iter()
            .filter(|(_, &b)| b)
            .map(|((j, i), _)| (j as i64, i as i64))
            .collect();
        if pts.is_empty() {
            continue;
        }
        inside += pts.len();
        let ((j0, j1), (i0, i1)) = bounds(&pts);
        let hull = convex_hull(pts);
        // A convex hull meets each row in one interval.
        for j in j0..=j1 {
            let Some(lo) = (i0..=i1).find(|&i| in_hull(&hull, (j, i))) else {
                continue;
            };
            let hi = (lo..=i1).rev().find(|&i| in_hull(&hull, (j, i))).unwrap_or(lo);
            hull_n += (hi - lo + 1) as usize;
            if let (true, Some(f)) = (stack.ct, first) {
                gas += (lo..=hi)
                    .filter(|&i| f[[k, j as usize, i as usize]] <= AIR_MAX_HU)
                    .count();
            }
        }
    }
    if inside == 0 || hull_n == 0 {
        return Err("the region found is empty".into());
    }
    let solidity = inside as f64 / hull_n.max(inside) as f64;
    if solidity < MIN_AUTO_SOLIDITY {
        return Err(format!(
            "the {:.0} ml region found fills {:.0}% of its slice-wise convex hulls (a mass fills at least {:.0}%): a chain of normal structures (bowel loops, vessels, vertebral bodies), not a lump",
            d.volume_ml,
            solidity * 100.0,
            MIN_AUTO_SOLIDITY * 100.0
        ));
    }
    let gas_fraction = gas as f64 / hull_n as f64;
    if gas_fraction >= MAX_AUTO_GAS_FRACTION {
        return Err(format!(
            "the {:.0} ml region found holds gas ({:.1}% of its hulls at ≤ {AIR_MAX_HU:.0} HU): bowel, not a solid mass",
            d.volume_ml,
            gas_fraction * 100.0
        ));
    }
    if let Some((base, rise)) = fluid(stack, &d.mask) {
        return Err(format!(
            "the {:.0} ml region found is fluid ({base:.0} HU unenhanced, at most {rise:+.0} HU after contrast; water ≤ {FLUID_MAX_HU:.0} HU, enhancement ≥ {SOLID_MIN_ENHANCEMENT_HU:.0} HU): bowel content or a cyst, not a solid mass",
            d.volume_ml
        ));
    }
    Ok(())
}

/// CT with an unenhanced and a contrast phase: `Some((unenhanced median, largest rise of
/// the median))` when the region is water that does not enhance — fluid in a bowel loop,
/// a cyst — rather than a solid tumour, which enhances (a necrotic one at its rim, which
/// the median over the region still shows).
fn fluid(stack: &PhaseStack, mask: &Array3<bool>) -> Option<(f64, f64)> {
    if !stack.ct {
        return None;
    }
    let base = stack.phases.iter().position(|p| p.role.is_baseline())?;
    let median_of = |data: &Array3<f32>| {
        let mut v: Vec<f64> = data
            .iter()
            .zip(mask.iter())
            .filter(|(x, &m)| m && x.is_finite())
            .map(|(&x, _)| f64::from(x))
            .collect();
        (!v.is_empty()).then(|| stats::median(&mut v))
    };
    let b = median_of(&stack.phases[base].data)?;
    let rise = stack
        .phases
        .iter()
        .enumerate()
        .filter(|(i, p)| *i != base && !p.role.is_baseline())
        .filter_map(|(_, p)| median_of(&p.data))
        .map(|v| v - b)
        .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))))?;
    (b <= FLUID_MAX_HU && rise < SOLID_MIN_ENHANCEMENT_HU).then_some((b, rise))
}

/// A detected mass.
pub(crate) struct Detection {
    /// On the stack grid.
    pub mask: Array3<bool>,
    pub centroid: Point3<f64>,
    pub volume_ml: f64,
    pub gap_mm: f64,
    pub fat_added: bool,
}

/// The search grid: the stack's smoothed features every `step` voxels.
struct Grid {
    dim: (usize, usize, usize),
    step: [usize; 3],
    spacing: [f64; 3],
    geometry: Geometry,
    feats: Vec<Array3<f32>>,
    valid: Array3<bool>,
}

impl Grid {
    fn new(stack: &PhaseStack) -> Option<Grid> {
        let sp = stack.spacing_kji();
        let step = sp.map(|s| ((SEARCH_SPACING_MM / s).round() as usize).max(1));
        let dim = (
            stack.shape[0].div_ceil(step[0]),
            stack.shape[1].div_ceil(step[1]),
            stack.shape[2].div_ceil(step[2]),
        );
        let feats: Vec<Array3<f32>> = stack
            .phases
            .iter()
            .map(|ph| {
                Array3::from_shape_fn(dim, |(k, j, i)| {
                    ph.smooth[[k * step[0], j * step[1], i * step[2]]]
                })
            })
            .collect();
        let valid = Array3::from_shape_fn(dim, |(k, j, i)| feats.iter().all(|f| f[[k, j, i]].is_finite()));
        let mut m: Matrix4<f64> = *stack.geometry.affine();
        // Index columns i, j, k of the affine scale with the column, row, slice steps.
        for (col, s) in [(0, step[2]), (1, step[1]), (2, step[0])] {
            for r in 0..3 {
                m[(r, col)] *= s as f64;
            }
        }
        let geometry = Geometry::from_affine(m)?;
        Some(Grid {
            dim,
            step,
            spacing: [
                sp[0] * step[0] as f64,
                sp[1] * step[1] as f64,
                sp[2] * step[2] as f64,
            ],
            geometry,
            feats,
            valid,
        })
    }

    fn world(&self, p: [usize; 3]) -> Point3<f64> {
        self.geometry
            .index_to_world([p[2] as f64, p[1] as f64, p[0] as f64])
    }

    fn voxel_ml(&self) -> f64 {
        self.spacing.iter().product::<f64>() / 1000.0
    }

    fn index_of(&self, p: &Point3<f64>) -> Option<[usize; 3]> {
        let [i, j, k] = self.geometry.world_to_index(p);
        let (i, j, k) = (i.round(), j.round(), k.round());
        if i < 0.0 || j < 0.0 || k < 0.0 {
            return None;
        }
        let q = [k as usize, j as usize, i as usize];
        (q[0] < self.dim.0 && q[1] < self.dim.1 && q[2] < self.dim.2).then_some(q)
    }

    fn feature(&self, p: [usize; 3]) -> Vec<f32> {
        self.feats.iter().map(|f| f[p]).collect()
    }
}

/// Largest per-phase difference in units of the phase tolerance.
#[inline]
fn distance(a: &[f32], b: &[f32], scale: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .zip(scale)
        .map(|((x, y), s)| (x - y).abs() / s)
        .fold(0.0, f32::max)
}

/// Per-phase tolerances (module docs, step 1).
fn tolerances(stack: &PhaseStack, grid: &Grid) -> Vec<f32> {
    let sp = stack.geometry.spacing();
    let reduction: f64 = sp
        .iter()
        .map(|s| {
            let sv = (FEATURE_SMOOTH_SIGMA_MM / s).max(0.5);
            (2.0 * std::f64::consts::PI.sqrt() * sv).sqrt()
        })
        .product();
    // Noise from a dense block around the box centre.
    let Some(first) = stack.phases.first() else {
        return Vec::new();
    };
    let dim = first.data.dim();
    let c = [dim.0 / 2, dim.1 / 2, dim.2 / 2];
    let half = [8usize, 16, 16];
    // The block cut out as its own array (every voxel in the mask), not a box-sized mask:
    // a residual needs its six neighbours inside the block, so a neighbour beyond the
    // cut-out is refused as one outside the mask was, and the residuals come in the same
    // order — the same estimate without passes over the whole box.
    let range = |a: usize, n: usize| c[a].saturating_sub(half[a])..(c[a] + half[a] + 1).min(n);
    let (rk, rj, ri) = (range(0, dim.0), range(1, dim.1), range(2, dim.2));
    let block = Array3::from_elem((rk.len(), rj.len(), ri.len()), true);
    stack
        .phases
        .iter()
        .enumerate()
        .map(|(n, ph)| {
            let cut = ph
                .data
                .slice(ndarray::s![rk.clone(), rj.clone(), ri.clone()])
                .to_owned();
            let noise = noise_sd(&cut, &block).unwrap_or(0.0) / reduction;
            let floor = if stack.ct {
                GROW_FLOOR_CT_HU
            } else {
                let mut v: Vec<f32> = grid.feats[n]
                    .iter()
                    .zip(grid.valid.iter())
                    .filter(|(_, &ok)| ok)
                    .map(|(&x, _)| x)
                    .collect();
                if v.is_empty() {
                    1.0
                } else {
                    v.sort_by(|a, b| a.total_cmp(b));
                    let p99 = v[(v.len() - 1) * 99 / 100];
                    let body: Vec<f32> = v.iter().copied().filter(|&x| x > 0.1 * p99).collect();
                    let med = body.get(body.len() / 2).copied().unwrap_or(p99);
                    GROW_FLOOR_MR_FRACTION * med.abs() as f64
                }
            };
            floor.max(GROW_FLOOR_NOISE_FACTOR * noise).max(1e-3) as f32
        })
        .collect()
}

/// One tissue class.
struct Class {
    sum: Vec<f64>,
    n: usize,
    mean: Vec<f32>,
}

/// Seed voxels, each with the index of its class.
type ClassSeeds = Vec<([usize; 3], usize)>;

/// Seeds and their classes (module docs, step 2). Returns the class means and the seeds
/// with their class index.
fn classes(grid: &Grid, scale: &[f32]) -> (Vec<Vec<f32>>, ClassSeeds) {
    let (nk, nj, ni) = grid.dim;
    let mut seeds: Vec<(f32, [usize; 3])> = Vec::new();
    for k in (1..nk.saturating_sub(1)).step_by(2) {
        for j in (1..nj.saturating_sub(1)).step_by(2) {
            for i in (1..ni.saturating_sub(1)).step_by(2) {
                let p = [k, j, i];
                if !grid.valid[p] {
                    continue;
                }
                let mut g = 0.0f32;
                let mut ok = true;
                for a in 0..3 {
                    let mut lo = p;
                    let mut hi = p;
                    lo[a] -= 1;
                    hi[a] += 1;
                    if !grid.valid[lo] || !grid.valid[hi] {
                        ok = false;
                        break;
                    }
                    for (f, s) in grid.feats.iter().zip(scale) {
                        g = g.max((f[hi] - f[lo]).abs() * 0.5 / s);
                    }
                }
                if ok && g <= SEED_MAX_GRADIENT {
                    seeds.push((g, p));
                }
            }
        }
    }
    seeds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut cls: Vec<Class> = Vec::new();
    let mut assigned: Vec<([usize; 3], usize)> = Vec::with_capacity(seeds.len());
    for (_, p) in seeds {
        let f = grid.feature(p);
        let best = cls
            .iter()
            .enumerate()
            .map(|(n, c)| (n, distance(&f, &c.mean, scale)))
            .filter(|(_, d)| *d <= CLASS_JOIN_DISTANCE)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let n = match best {
            Some((n, _)) => n,
            None => {
                cls.push(Class {
                    sum: vec![0.0; f.len()],
                    n: 0,
                    mean: f.clone(),
                });
                cls.len() - 1
            }
        };
        let c = &mut cls[n];
        c.n += 1;
        for (s, x) in c.sum.iter_mut().zip(&f) {
            *s += *x as f64;
        }
        c.mean = c.sum.iter().map(|s| (s / c.n as f64) as f32).collect();
        assigned.push((p, n));
    }
    // Keep the classes with enough seeds, renumbered.
    let mut map = vec![usize::MAX; cls.len()];
    let mut means = Vec::new();
    for (n, c) in cls.iter().enumerate() {
        if c.n >= MIN_CLASS_SEEDS {
            map[n] = means.len();
            means.push(c.mean.clone());
        }
    }
    let seeds = assigned
        .into_iter()
        .filter(|(_, n)| map[*n] != usize::MAX)
        .map(|(p, n)| (p, map[n]))
        .collect();
    (means, seeds)
}

/// Seeded region growing with all classes at once (module docs, step 3). Labels are
/// class + 1; 0 is unassigned.
fn partition(
    grid: &Grid,
    scale: &[f32],
    means: &[Vec<f32>],
    seeds: &[([usize; 3], usize)],
) -> (Array3<u32>, Array3<f32>) {
    let dim = grid.dim;
    let (nk, nj, ni) = dim;
    let n = nk * nj * ni;
    let nf = grid.feats.len();
    // Flat arrays in scan order, the features interleaved per voxel: the flood reads a
    // neighbour's features from one cache line instead of one array per phase. Same
    // neighbours in the same order as `morph::neighbours6`, same sums: the same labels.
    let mut feats = vec![0f32; n * nf];
    for (c, a) in grid.feats.iter().enumerate() {
        for (x, &v) in a.iter().enumerate() {
            feats[x * nf + c] = v;
        }
    }
    let valid: Vec<bool> = grid.valid.iter().copied().collect();
    let mut labels = vec![0u32; n];
    let mut residual = vec![f32::INFINITY; n];
    let lin = |p: [usize; 3]| ((p[0] * nj + p[1]) * ni + p[2]) as u32;
    // A bucket queue on the distance (steps of 1/BUCKETS_PER_UNIT): the flood visits
    // voxels in order of increasing distance, as a priority queue would, at O(1) a step.
    let nb = (MAX_ASSIGN_DISTANCE * BUCKETS_PER_UNIT) as usize + 1;
    let mut buckets: Vec<Vec<(u32, u32, f32)>> = vec![Vec::new(); nb];
    for &(p, c) in seeds {
        buckets[0].push((lin(p), c as u32 + 1, 0.0));
    }
    let mut cur = 0usize;
    let plane = nj * ni;
    loop {
        while cur < nb && buckets[cur].is_empty() {
            cur += 1;
        }
        let Some((x, l, d)) = buckets.get_mut(cur).and_then(|b| b.pop()) else {
            break;
        };
        let x = x as usize;
        if labels[x] != 0 {
            continue;
        }
        labels[x] = l;
        residual[x] = d;
        let mean = &means[(l - 1) as usize];
        let (k, j, i) = (x / plane, (x / ni) % nj, x % ni);
        let nbrs = [
            (k > 0).then(|| x - plane),
            (k + 1 < nk).then(|| x + plane),
            (j > 0).then(|| x - ni),
            (j + 1 < nj).then(|| x + ni),
            (i > 0).then(|| x - 1),
            (i + 1 < ni).then(|| x + 1),
        ];
        for q in nbrs.into_iter().flatten() {
            if labels[q] != 0 || !valid[q] {
                continue;
            }
            let d = distance(&feats[q * nf..(q + 1) * nf], mean, scale);
            if d <= MAX_ASSIGN_DISTANCE {
                let b = ((d * BUCKETS_PER_UNIT) as usize).min(nb - 1);
                buckets[b].push((q as u32, l, d));
                cur = cur.min(b);
            }
        }
    }
    // The vectors hold exactly `n` elements: the shapes cannot mismatch.
    let labels = Array3::from_shape_vec(dim, labels).unwrap_or_else(|_| Array3::zeros(dim));
    let residual =
        Array3::from_shape_vec(dim, residual).unwrap_or_else(|_| Array3::from_elem(dim, f32::INFINITY));
    (labels, residual)
}

/// A connected region of one class.
struct Region {
    class: usize,
    n: usize,
    touches: bool,
    sum: Vector3<f64>,
}

/// Connected regions of equal label; returns the region map (1-based, 0 = none). A
/// region reaches the box's edge only through the voxels its class explains (residual ≤
/// [`UNEXPLAINED_DISTANCE`]): the flood also hands blends and unseeded tissue to the
/// nearest class, and those do not make a region an organ continuing beyond the box.
fn regions(
    grid: &Grid,
    labels: &Array3<u32>,
    residual: &Array3<f32>,
) -> (Array3<u32>, Vec<Region>, Array3<bool>) {
    let dim = grid.dim;
    let mut map = Array3::<u32>::zeros(dim);
    let mut out: Vec<Region> = vec![Region {
        class: 0,
        n: 0,
        touches: false,
        sum: Vector3::zeros(),
    }];
    let mut q = VecDeque::new();
    let core = |p: [usize; 3]| residual[p] <= UNEXPLAINED_DISTANCE;
    for ((k, j, i), &l) in labels.indexed_iter() {
        if l == 0 || map[[k, j, i]] != 0 {
            continue;
        }
        let id = out.len() as u32;
        let mut r = Region {
            class: (l - 1) as usize,
            n: 0,
            touches: false,
            sum: Vector3::zeros(),
        };
        map[[k, j, i]] = id;
        q.push_back([k, j, i]);
        while let Some(p) = q.pop_front() {
            r.n += 1;
            r.sum += grid.world(p).coords;
            let edge = p[0] == 0
                || p[1] == 0
                || p[2] == 0
                || p[0] + 1 == dim.0
                || p[1] + 1 == dim.1
                || p[2] + 1 == dim.2;
            if edge && core(p) {
                if !r.touches && tracing::enabled!(tracing::Level::TRACE) {
                    tracing::trace!(
                        "region {id} class {} touches the box edge at {p:?} ({:.0?})",
                        r.class,
                        grid.world(p)
                    );
                }
                r.touches = true;
            }
            for n in morph::neighbours6(p, dim) {
                if !grid.valid[n] {
                    // Next to the end of the series: continues beyond it.
                    if !core(p) {
                        continue;
                    }
                    if !r.touches && tracing::enabled!(tracing::Level::TRACE) {
                        tracing::trace!(
                            "region {id} class {} touches invalid data at {p:?} ({:.0?})",
                            r.class,
                            grid.world(p)
                        );
                    }
                    r.touches = true;
                } else if labels[n] == l && map[n] == 0 {
                    map[n] = id;
                    q.push_back(n);
                }
            }
        }
        out.push(r);
    }
    // Which of a region's explained voxels reach the edge through explained voxels of its
    // class: a blend voxel the flood handed to the class can join a lump to an organ that
    // continues beyond the box (hybrid extrinsic mass, 37 / 62 / 82 / 85 HU: joined through
    // blends to a class-like strip at the box's bottom face, so judged normal). A region is
    // an organ continuing beyond the box when most of its explained voxels do
    // (`EDGE_CORE_MIN_FRACTION`); otherwise only those voxels are.
    let mut edge_core = Array3::from_elem(dim, false);
    let mut q: VecDeque<[usize; 3]> = VecDeque::new();
    for ((k, j, i), &l) in labels.indexed_iter() {
        let p = [k, j, i];
        if l == 0 || !core(p) {
            continue;
        }
        let edge = k == 0 || j == 0 || i == 0 || k + 1 == dim.0 || j + 1 == dim.1 || i + 1 == dim.2;
        if edge || morph::neighbours6(p, dim).any(|n| !grid.valid[n]) {
            edge_core[p] = true;
            q.push_back(p);
        }
    }
    while let Some(p) = q.pop_front() {
        for n in morph::neighbours6(p, dim) {
            if !edge_core[n] && labels[n] == labels[p] && core(n) {
                edge_core[n] = true;
                q.push_back(n);
            }
        }
    }
    let mut n_core = vec![0usize; out.len()];
    let mut n_edge = vec![0usize; out.len()];
    for ((p, &id), &e) in map.indexed_iter().zip(edge_core.iter()) {
        if id != 0 && core([p.0, p.1, p.2]) {
            n_core[id as usize] += 1;
            n_edge[id as usize] += usize::from(e);
        }
    }
    for (id, r) in out.iter_mut().enumerate().skip(1) {
        if r.touches && (n_edge[id] as f64) < EDGE_CORE_MIN_FRACTION * n_core[id] as f64 {
            if tracing::enabled!(tracing::Level::TRACE) {
                tracing::trace!(
                    "region {id} class {}: {} of {} explained voxels reach the edge through explained voxels; not an organ beyond the box",
                    r.class,
                    n_edge[id],
                    n_core[id]
                );
            }
            r.touches = false;
        }
    }
    (map, out, edge_core)
}

/// Why a candidate was rejected, for the warning.
#[derive(Default)]
struct Rejections {
    small: usize,
    thin: usize,
    far: usize,
    behind_spine: usize,
    paired: usize,
    organ: usize,
}

/// The voxels of the search grid that `anatomy` labels as a normal organ
/// ([`NORMAL_ORGANS`]); `None` without anatomy or without any such organ.
fn organ_voxels(grid: &Grid, anatomy: Option<&Anatomy>) -> Option<Array3<bool>> {
    let a = anatomy?;
    let ids: Vec<u16> = NORMAL_ORGANS.iter().filter_map(|n| a.id(n)).collect();
    if ids.is_empty() {
        return None;
    }
    let r = a.resampled_onto(&grid.geometry, [grid.dim.0, grid.dim.1, grid.dim.2]);
    Some(r.labels.mapv(|v| v != 0 && ids.contains(&v)))
}

/// The partition of one box (module docs, steps 1–3): per-phase tolerances, the tissue
/// classes, each voxel's class and its distance to it, and the connected regions.
struct Partition {
    scale: Vec<f32>,
    means: Vec<Vec<f32>>,
    labels: Array3<u32>,
    residual: Array3<f32>,
    /// Region id per voxel (1-based, 0 = none), the regions, and the voxels joined to the
    /// box's face through explained voxels of their class ([`regions`]).
    map: Array3<u32>,
    regs: Vec<Region>,
    edge_core: Array3<bool>,
}

impl Partition {
    fn of(grid: &Grid, stack: &PhaseStack, lap: &dyn Fn(&str)) -> Result<Partition, String> {
        let scale = tolerances(stack, grid);
        let (means, seeds) = classes(grid, &scale);
        if means.is_empty() {
            return Err("no homogeneous tissue found in the analysed box".into());
        }
        lap("classes");
        let (labels, residual) = partition(grid, &scale, &means, &seeds);
        lap("partition");
        let (map, regs, edge_core) = regions(grid, &labels, &residual);
        lap("regions");
        Ok(Partition {
            scale,
            means,
            labels,
            residual,
            map,
            regs,
            edge_core,
        })
    }

    fn centroid(&self, id: usize) -> Point3<f64> {
        Point3::from(self.regs[id].sum / self.regs[id].n.max(1) as f64)
    }
}

/// The IVC model without its tumour-filled stretches (the IVC stage's imperceptible
/// lumen, with a margin for the plug's taper): there the mask holds tumour, not blood.
fn open_lumen(grid: &Grid, ivc: &IvcModel, ivc_grid: &Array3<bool>) -> Array3<bool> {
    ndarray::Zip::indexed(ivc_grid).map_collect(|(k, j, i), &b| {
        b && {
            let z = grid.world([k, j, i]).z;
            !ivc.lumen
                .imperceptible_ranges_z_mm
                .iter()
                .any(|r| z >= r[0].min(r[1]) - FILLED_MARGIN_MM && z <= r[0].max(r[1]) + FILLED_MARGIN_MM)
        }
    })
}

/// Normal classes (module docs, step 4): on CT fat, air and bone by their unenhanced
/// mean; venous blood whatever its arterial value (the IVC between a tumour plug and the
/// atrium is a bounded region of its own class).
fn normal_classes(stack: &PhaseStack, part: &Partition, mixer: &Mixer, base: usize) -> Vec<bool> {
    part.means
        .iter()
        .enumerate()
        .map(|(n, m)| {
            let ct_normal = stack.ct && {
                let b = m[base];
                b <= FAT_MAX_HU || b <= AIR_MAX_HU || b >= BONE_CLASS_MIN_HU
            };
            ct_normal || (mixer.blood.is_some() && mixer.explains(&[Vertex::Blood], &mixer.means[n]))
        })
        .collect()
}

/// Per region: abnormal (not of a normal class, not reaching the box's face, not paired
/// across the spine's midline); with the count of the regions rejected as paired.
fn abnormal_regions(
    stack: &PhaseStack,
    part: &Partition,
    class_normal: &[bool],
    vox_ml: f64,
) -> (Vec<bool>, usize) {
    let regs = &part.regs;
    // Paired organs: a same-class region near the mirror image across the spine's
    // midline (kidneys).
    let paired = |id: usize| -> bool {
        let Some((sx, _)) = stack.spine_xy_mm else {
            return false;
        };
        let c0 = part.centroid(id);
        let mirror = Point3::new(2.0 * sx - c0.x, c0.y, c0.z);
        (mirror - c0).norm() > PAIR_RADIUS_MM
            && regs.iter().enumerate().skip(1).any(|(o, r)| {
                o != id
                    && r.class == regs[id].class
                    && r.n * 4 >= regs[id].n
                    && (part.centroid(o) - mirror).norm() <= PAIR_RADIUS_MM
            })
    };
    let mut n_paired = 0usize;
    let abnormal = regs
        .iter()
        .enumerate()
        .map(|(id, r)| {
            if id == 0 || r.touches || class_normal[r.class] {
                return false;
            }
            if (r.n as f64) * vox_ml >= MIN_AUTO_ML && paired(id) {
                if tracing::enabled!(tracing::Level::TRACE) {
                    let c = part.centroid(id);
                    tracing::trace!(
                        "region {id} ({:.1} ml at {:.0}, {:.0}, {:.0}) paired across the midline",
                        r.n as f64 * vox_ml,
                        c.x,
                        c.y,
                        c.z
                    );
                }
                n_paired += 1;
                return false;
            }
            true
        })
        .collect();
    (abnormal, n_paired)
}

/// Candidate voxels (module docs, steps 5–6): abnormal regions and unexplained voxels, on
/// CT soft tissue only, outside the vertebral body, opened so that thin bridges of
/// blends do not join a candidate to its surroundings.
fn candidate_voxels(
    stack: &PhaseStack,
    grid: &Grid,
    part: &Partition,
    abnormal: &[bool],
    mixer: &Mixer,
    base: usize,
) -> Array3<bool> {
    // Voxels no class explains: far from their own class and from every blend of it
    // with a neighbouring class (tissue without a class of its own, such as a
    // heterogeneous tumour or a thin enhancing rim).
    // Mixtures are of the normal tissues only: a tumour's rim is not explained by its
    // own core.
    let normal_core = ndarray::Zip::from(&part.labels)
        .and(&part.residual)
        .and(&part.map)
        .and(&part.edge_core)
        .map_collect(|&l, &r, &id, &e| l != 0 && r <= UNEXPLAINED_DISTANCE && (!abnormal[id as usize] || e));
    let unexplained = unexplained_voxels(
        grid,
        &part.scale,
        &part.means,
        &part.labels,
        &part.residual,
        &normal_core,
        mixer,
    );
    // On CT a candidate voxel is soft tissue unenhanced: fat, bone and their blends are
    // normal whatever their class.
    let soft = |p: [usize; 3]| {
        !stack.ct
            || (grid.feats[base][p] > FAT_MAX_HU
                && grid.feats[base][p] < SOFT_MAX_HU
                && grid.feats.iter().all(|f| f[p] < BLOOD_MIN_HU))
    };
    // The vertebral body is not a mass site (on MRI its blends are not told apart by
    // value).
    let in_vertebra = |p: [usize; 3]| {
        stack.spine_xy_mm.is_some_and(|(sx, sy)| {
            let w = grid.world(p);
            ((w.x - sx) / SPINE_HALF_WIDTH_MM).powi(2) + ((w.y - sy) / SPINE_HALF_DEPTH_MM).powi(2) <= 1.0
        })
    };
    let raw = ndarray::Zip::indexed(&part.map)
        .and(&unexplained)
        .and(&part.edge_core)
        .map_collect(|(k, j, i), &id, &u, &e| {
            let p = [k, j, i];
            ((abnormal[id as usize] && !e) || u) && soft(p) && !in_vertebra(p)
        });
    // Opening: thin bridges of partial-volume blends (between organs, along bone) do not
    // join a candidate to its surroundings.
    let opened = morph::dilate(&morph::erode(&raw, OPENING_VOX), OPENING_VOX);
    ndarray::Zip::from(&opened).and(&raw).map_collect(|&a, &b| a && b)
}

/// A candidate that passed the size, thickness, distance, spine and organ tests.
struct Cand {
    mask: Array3<bool>,
    volume_ml: f64,
    centroid: Point3<f64>,
    gap: f64,
    covers_filled: bool,
}

/// What the candidate tests look at besides the candidate itself.
struct CandContext<'a> {
    /// Distance to the IVC model on the search grid, mm; `has_ivc` false when the model
    /// misses the grid.
    to_ivc: Array3<f32>,
    has_ivc: bool,
    /// The middle of a tumour-filled IVC stretch.
    filled: Option<Point3<f64>>,
    /// Voxels labelled as a normal organ (`--anatomy`).
    organs: Option<&'a Array3<bool>>,
}

/// The connected candidates of `cand_mask` that pass the tests of step 6 (module docs),
/// measured; the others are counted in `rej`.
fn measure_candidates(
    stack: &PhaseStack,
    grid: &Grid,
    cand_mask: &Array3<bool>,
    ctx: &CandContext,
    rej: &mut Rejections,
) -> Vec<Cand> {
    let debug = tracing::enabled!(tracing::Level::TRACE);
    let vox_ml = grid.voxel_ml();
    let (cand_labels, cand_sizes) = morph::label_components(cand_mask);
    // Bounding boxes of the components.
    let nl = cand_sizes.len();
    let mut bb = vec![([usize::MAX; 3], [0usize; 3]); nl];
    for ((k, j, i), &l) in cand_labels.indexed_iter() {
        if l == 0 {
            continue;
        }
        let b = &mut bb[l as usize];
        for (a, v) in [k, j, i].into_iter().enumerate() {
            b.0[a] = b.0[a].min(v);
            b.1[a] = b.1[a].max(v);
        }
    }
    let mut cands: Vec<Cand> = Vec::new();
    for (l, &size) in cand_sizes.iter().enumerate().skip(1) {
        if (size as f64) * vox_ml < MIN_AUTO_ML {
            rej.small += 1;
            continue;
        }
        // Work in the component's box with a one-voxel margin.
        let (lo, hi) = bb[l];
        let lo = lo.map(|v| v.saturating_sub(1));
        let hi = [
            (hi[0] + 1).min(grid.dim.0 - 1),
            (hi[1] + 1).min(grid.dim.1 - 1),
            (hi[2] + 1).min(grid.dim.2 - 1),
        ];
        let sub_dim = (hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1);
        let sub = Array3::from_shape_fn(sub_dim, |(k, j, i)| {
            cand_labels[[k + lo[0], j + lo[1], i + lo[2]]] as usize == l
        });
        let sub = morph::fill_holes(&sub);
        let edt = morph::edt_mm(&sub, grid.spacing);
        let r_in = edt.iter().copied().fold(0.0f32, f32::max) as f64;
        let mut comp = Array3::from_elem(grid.dim, false);
        let mut sum = Vector3::zeros();
        let mut gap = f64::INFINITY;
        let mut n = 0usize;
        for ((k, j, i), &b) in sub.indexed_iter() {
            if b {
                let p = [k + lo[0], j + lo[1], i + lo[2]];
                comp[p] = true;
                n += 1;
                sum += grid.world(p).coords;
                gap = gap.min(ctx.to_ivc[p] as f64);
            }
        }
        let volume_ml = n as f64 * vox_ml;
        let centroid = Point3::from(sum / n.max(1) as f64);
        if debug {
            tracing::trace!(
                "candidate {l}: {volume_ml:.1} ml, r_in {r_in:.1} mm, gap {gap:.1} mm, centroid ({:.0}, {:.0}, {:.0})",
                centroid.x, centroid.y, centroid.z
            );
        }
        if r_in < MIN_INSCRIBED_MM {
            rej.thin += 1;
            continue;
        }
        if ctx.has_ivc && gap > MAX_GAP_TO_IVC_MM {
            rej.far += 1;
            continue;
        }
        if let Some((sx, sy)) = stack.spine_xy_mm {
            // Behind the front of the vertebral body, or inside it.
            let in_spine =
                (centroid.x - sx).abs() < SPINE_HALF_WIDTH_MM && centroid.y > sy - SPINE_HALF_DEPTH_MM;
            if centroid.y > sy || in_spine {
                rej.behind_spine += 1;
                continue;
            }
        }
        if let Some(o) = ctx.organs {
            // Mostly a labelled normal organ (liver, kidney, bowel, …): that organ.
            let inside = ndarray::Zip::from(&comp)
                .and(o)
                .fold(0usize, |n, &c, &o| n + usize::from(c && o));
            if inside as f64 > MAX_AUTO_ORGAN_FRACTION * n as f64 {
                if debug {
                    tracing::trace!(
                        "candidate {l}: {:.0} % inside labelled organs",
                        100.0 * inside as f64 / n.max(1) as f64
                    );
                }
                rej.organ += 1;
                continue;
            }
        }
        let covers_filled = ctx
            .filled
            .is_some_and(|p| grid.index_of(&p).is_some_and(|q| comp[q]));
        cands.push(Cand {
            mask: comp,
            volume_ml,
            centroid,
            gap,
            covers_filled,
        });
    }
    cands
}

/// The dominant candidate: the one covering a filled IVC stretch, else one abutting the
/// IVC (an intraluminal tumour the IVC model does not call filled: hybrid
/// leiomyosarcoma, 14 ml of its plug beside a 19 ml candidate 19 mm away), else the
/// largest; with `near`, only one holding it or centred within [`MIN_INSCRIBED_MM`].
/// `Err` says why there is none.
fn pick_candidate(
    grid: &Grid,
    mut cands: Vec<Cand>,
    near: Option<Point3<f64>>,
    n_classes: usize,
    rej: &Rejections,
    with_organs: bool,
) -> Result<Cand, String> {
    let n_cands = cands.len();
    if let Some(p) = near {
        let at = grid.index_of(&p);
        cands.retain(|c| at.is_some_and(|q| c.mask[q]) || (c.centroid - p).norm() <= MIN_INSCRIBED_MM);
    }
    let pick = cands
        .iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| {
            (a.covers_filled, a.gap <= ABUTS_IVC_MM, a.volume_ml)
                .partial_cmp(&(b.covers_filled, b.gap <= ABUTS_IVC_MM, b.volume_ml))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map(|(n, _)| n);
    if let Some(n) = pick {
        return Ok(cands.swap_remove(n));
    }
    if let (Some(p), true) = (near, n_cands > 0) {
        return Err(format!(
            "the candidate found around the IVC at ({:.1}, {:.1}, {:.1}) is not found again in the box centred on it ({n_cands} other candidates there, judged normal in the larger box)",
            p.x, p.y, p.z
        ));
    }
    Err(format!(
        "{n_classes} tissue classes; no region unlike them qualifies (rejected: {} under {MIN_AUTO_ML} ml, {} thinner than {MIN_INSCRIBED_MM} mm, {} over {MAX_GAP_TO_IVC_MM} mm from the IVC, {} at or behind the spine, {} paired across the midline{})",
        rej.small,
        rej.thin,
        rej.far,
        rej.behind_spine,
        rej.paired,
        if with_organs {
            format!(", {} mostly a labelled organ", rej.organ)
        } else {
            String::new()
        }
    ))
}

/// The chosen candidate's final mask (module docs, steps 7–9): boundary at the blur's
/// midpoint, fat edge voxels out, enclosed fat in, opacified lumen out, upsampled onto
/// the stack grid, opacified blood out.
fn finish_detection(
    stack: &PhaseStack,
    grid: &Grid,
    part: &Partition,
    ivc_grid: &Array3<bool>,
    best: Cand,
    base: usize,
    lap: &dyn Fn(&str),
) -> Detection {
    let mut mask = best.mask;
    refine_midpoint(
        grid,
        &part.scale,
        &part.labels,
        &part.residual,
        &part.means,
        &mut mask,
    );
    lap("boundary refined");
    if stack.ct {
        // At a fat edge the midpoint voxel is half fat and would read as fat inside the
        // mass; fat-containing masses get their fat back from the hull.
        for (m, &v) in mask.iter_mut().zip(grid.feats[base].iter()) {
            if *m && v <= FAT_MAX_HU {
                *m = false;
            }
        }
    }
    let fat_added = stack.ct && add_enclosed_fat(stack, grid, base, &mut mask);
    trim_lumen(stack, grid, &part.scale, ivc_grid, &mut mask);
    let n = mask.iter().filter(|&&b| b).count();
    let mut fine = upsample(grid, &mask, stack.shape);
    if stack.ct {
        drop_opacified_blood(stack, base, &mut fine);
    }
    lap("done");
    let volume_ml = fine.iter().filter(|&&b| b).count() as f64 * stack.geometry.voxel_volume_mm3() / 1000.0;
    Detection {
        mask: fine,
        centroid: if fat_added {
            let mut s = Vector3::zeros();
            for ((k, j, i), &b) in mask.indexed_iter() {
                if b {
                    s += grid.world([k, j, i]).coords;
                }
            }
            Point3::from(s / n.max(1) as f64)
        } else {
            best.centroid
        },
        volume_ml,
        gap_mm: best.gap,
        fat_added,
    }
}

/// Detect the mass on `stack` (module docs).
/// `near`: only a candidate that holds it or whose centroid lies within
/// [`MIN_INSCRIBED_MM`] of it (the candidate a larger box found, seen whole: it still
/// holds the centroid of the part that box saw, or its centroid moved less than its own
/// smallest radius).
pub(crate) fn detect(
    stack: &PhaseStack,
    ivc: &IvcModel,
    anatomy: Option<&Anatomy>,
    near: Option<Point3<f64>>,
) -> Result<Detection, String> {
    let debug = tracing::enabled!(tracing::Level::TRACE);
    let t0 = std::time::Instant::now();
    let lap = |what: &str| {
        if debug {
            tracing::trace!("mass_auto: {what} at {:.2} s", t0.elapsed().as_secs_f64());
        }
    };
    if stack.phases.is_empty() {
        return Err("no phase to search on".into());
    }
    let grid = Grid::new(stack).ok_or("the analysed box has no usable grid")?;
    if !grid.valid.iter().any(|&v| v) {
        return Err("the analysed box holds no data".into());
    }
    let part = Partition::of(&grid, stack, &lap)?;
    let vox_ml = grid.voxel_ml();

    // Normal tissue (module docs, step 4).
    let base = stack
        .phases
        .iter()
        .position(|p| p.role.is_baseline())
        .unwrap_or(0);
    let ivc_grid = ivc
        .mask
        .resample_onto(&grid.geometry, [grid.dim.0, grid.dim.1, grid.dim.2]);
    let arterial = stack
        .phases
        .iter()
        .position(|p| matches!(p.role, Role::CtArterial | Role::MrT1Arterial));
    let open_lumen = open_lumen(&grid, ivc, &ivc_grid.data);
    let mixer = Mixer {
        means: part
            .means
            .iter()
            .map(|m| m.iter().zip(&part.scale).map(|(v, s)| v / s).collect())
            .collect(),
        blood: {
            // The open lumen away from the wall, shared by both ways of finding the pool.
            let inner = morph::erode(&open_lumen, 1);
            blood_pool(
                &part.scale,
                &part.means,
                &part.labels,
                &part.residual,
                &inner,
                base,
                arterial,
            )
            .or_else(|| lumen_pool(&grid, &part.scale, &part.means, &inner, base, arterial))
        },
        arterial,
        tolerance: UNEXPLAINED_DISTANCE,
    };
    if debug {
        tracing::trace!("blood pool: {:?}", mixer.blood);
    }
    let class_normal = normal_classes(stack, &part, &mixer, base);
    let (abnormal, n_paired) = abnormal_regions(stack, &part, &class_normal, vox_ml);
    let cand_mask = candidate_voxels(stack, &grid, &part, &abnormal, &mixer, base);
    lap("unexplained");
    if debug {
        for (n, c) in part.means.iter().enumerate() {
            tracing::trace!("class {n}: {c:.0?}");
        }
    }

    let organs = organ_voxels(&grid, anatomy);
    let ctx = CandContext {
        has_ivc: ivc_grid.data.iter().any(|&b| b),
        to_ivc: morph::edt_mm(&ivc_grid.data.mapv(|b| !b), grid.spacing),
        filled: filled_ivc_seed(ivc),
        organs: organs.as_ref(),
    };
    lap("candidates labelled");
    let mut rej = Rejections {
        paired: n_paired,
        ..Default::default()
    };
    let cands = measure_candidates(stack, &grid, &cand_mask, &ctx, &mut rej);
    lap("candidates measured");
    let best = pick_candidate(&grid, cands, near, part.means.len(), &rej, organs.is_some())?;
    Ok(finish_detection(
        stack,
        &grid,
        &part,
        &ivc_grid.data,
        best,
        base,
        &lap,
    ))
}

/// CT: voxels of the final mask that are opacified blood on their own (unsmoothed) values —
/// ≥ [`BLOOD_MIN_HU`] on a post-contrast phase, soft tissue unenhanced (not calcium) —
/// leave, and the largest connected part stays. The candidate's voxels pass that test on
/// smoothed values, but the boundary refinement and the upsampling can take in an
/// abutting artery (hybrid extrinsic mass: 281 aortic voxels, median 285 HU arterial,
/// made the arterial CV 0.55 on a homogeneous mass). A tumour's own enhancement stays far
/// below it (≤ ~130 HU arterial, HCC).
fn drop_opacified_blood(stack: &PhaseStack, base: usize, mask: &mut Array3<bool>) {
    let Some(b) = stack.phases.get(base) else {
        return;
    };
    let mut dropped = 0usize;
    for (idx, m) in mask.indexed_iter_mut() {
        if *m
            && b.data[idx] < SOFT_MAX_HU
            && stack
                .phases
                .iter()
                .enumerate()
                .any(|(c, ph)| c != base && ph.data[idx] >= BLOOD_MIN_HU)
        {
            *m = false;
            dropped += 1;
        }
    }
    if dropped == 0 {
        return;
    }
    let (lab, sizes) = morph::label_components(mask);
    if let Some((best, _)) = sizes.iter().enumerate().skip(1).max_by_key(|(_, &n)| n) {
        for (m, &l) in mask.iter_mut().zip(lab.iter()) {
            *m = l as usize == best;
        }
    }
}

/// Voxels that no class explains (module docs, step 5): unassigned, or farther than
/// [`UNEXPLAINED_DISTANCE`] from their class, and neither a blend of their class with
/// another class (partial volume at an edge, or a vessel thinner than the smoothing;
/// least-squares weight in tolerance units) nor a mixture of the tissues around them
/// ([`mixture`]: up to three classes of the normal regions nearby, `normal_core`, and
/// the venous blood pool).
fn unexplained_voxels(
    grid: &Grid,
    scale: &[f32],
    means: &[Vec<f32>],
    labels: &Array3<u32>,
    residual: &Array3<f32>,
    normal_core: &Array3<bool>,
    mixer: &Mixer,
) -> Array3<bool> {
    let dim = grid.dim;
    let nc = grid.feats.len();
    let r = mixture::LOCAL_RADIUS_VOX;
    let slab = |k: usize| -> Vec<bool> {
        let mut row = vec![false; dim.1 * dim.2];
        let mut f = vec![0.0f32; nc];
        let mut fs = vec![0.0f32; nc];
        let mut blend = vec![0.0f32; nc];
        let mut local: Vec<usize> = Vec::new();
        for j in 0..dim.1 {
            for i in 0..dim.2 {
                let p = [k, j, i];
                if !grid.valid[p] {
                    continue;
                }
                let l = labels[p];
                if l != 0 && residual[p] <= UNEXPLAINED_DISTANCE {
                    continue;
                }
                for (v, a) in f.iter_mut().zip(&grid.feats) {
                    *v = a[p];
                }
                if l != 0 {
                    let ma = &means[(l - 1) as usize];
                    let blended = means.iter().enumerate().any(|(m, mb)| {
                        if m + 1 == l as usize {
                            return false;
                        }
                        // Least-squares blend weight in tolerance units, in [0, 1].
                        let (mut num, mut den) = (0.0f32, 0.0f32);
                        for c in 0..nc {
                            let d = (mb[c] - ma[c]) / scale[c];
                            num += (f[c] - ma[c]) / scale[c] * d;
                            den += d * d;
                        }
                        let w = if den > 0.0 {
                            (num / den).clamp(0.0, 1.0)
                        } else {
                            0.0
                        };
                        for c in 0..nc {
                            blend[c] = ma[c] + (mb[c] - ma[c]) * w;
                        }
                        distance(&f, &blend, scale) <= UNEXPLAINED_DISTANCE
                    });
                    if blended {
                        continue;
                    }
                }
                // The classes of the well-explained voxels around.
                local.clear();
                for qk in k.saturating_sub(r)..(k + r + 1).min(dim.0) {
                    for qj in j.saturating_sub(r)..(j + r + 1).min(dim.1) {
                        for qi in i.saturating_sub(r)..(i + r + 1).min(dim.2) {
                            let q = [qk, qj, qi];
                            if normal_core[q] {
                                let n = (labels[q] - 1) as usize;
                                if !local.contains(&n) {
                                    local.push(n);
                                }
                            }
                        }
                    }
                }
                for c in 0..nc {
                    fs[c] = f[c] / scale[c];
                }
                if !mixer.explains_locally(&local, &fs) {
                    row[j * dim.2 + i] = true;
                }
            }
        }
        row
    };
    let slabs: Vec<Vec<bool>> = (0..dim.0).into_par_iter().map(slab).collect();
    let flat: Vec<bool> = slabs.into_iter().flatten().collect();
    Array3::from_shape_vec(dim, flat).unwrap_or_else(|_| Array3::from_elem(dim, false))
}

/// The venous blood pool (module [`mixture`]): the class of most well-explained voxels
/// inside the open IVC lumen's interior `inner` (eroded, away from the wall), scaled to tolerance
/// units; on the arterial phase anything from that class's unenhanced value to the
/// brightest class's arterial value.
fn blood_pool(
    scale: &[f32],
    means: &[Vec<f32>],
    labels: &Array3<u32>,
    residual: &Array3<f32>,
    inner: &Array3<bool>,
    base: usize,
    arterial: Option<usize>,
) -> Option<BloodPool> {
    let mut count = vec![0usize; means.len()];
    for ((p, &inside), (&l, &res)) in inner.indexed_iter().zip(labels.iter().zip(residual.iter())) {
        let _ = p;
        if inside && l != 0 && res <= UNEXPLAINED_DISTANCE {
            count[(l - 1) as usize] += 1;
        }
    }
    let (n, &most) = count.iter().enumerate().max_by_key(|(_, &c)| c)?;
    // A few voxels are not a blood pool (an IVC filled by tumour, a mask off the vein).
    if most < MIN_POOL_VOXELS {
        return None;
    }
    let mean: Vec<f32> = means[n].iter().zip(scale).map(|(v, s)| v / s).collect();
    let arterial_range = arterial_range(
        scale,
        means,
        arterial,
        means[n][base],
        arterial.map(|a| (means[n][a], means[n][a])),
    );
    Some(BloodPool { mean, arterial_range })
}

/// The venous blood pool taken from the open IVC lumen's own values, where no tissue
/// class forms inside it: blood whose arterial value changes along the vein (renal venous
/// return opacifies the suprarenal IVC early while the infrarenal blood is still
/// unenhanced) gives no homogeneous arterial seeds, so no class, and the IVC would
/// otherwise be tissue no class explains — a false mass along the whole vein. The pool is
/// the lumen interior's median on every phase; on the non-arterial phases the interior must
/// be as homogeneous as a class ([`CLASS_JOIN_DISTANCE`] tolerances, robust SD), else it
/// is not one pool of blood (tumour in the lumen) and there is none. On the arterial phase
/// the pool spans the interior's [`POOL_ARTERIAL_QUANTILE`] range, widened as
/// [`blood_pool`] widens it.
fn lumen_pool(
    grid: &Grid,
    scale: &[f32],
    means: &[Vec<f32>],
    inner: &Array3<bool>,
    base: usize,
    arterial: Option<usize>,
) -> Option<BloodPool> {
    let inside: Vec<[usize; 3]> = inner
        .indexed_iter()
        .filter(|&((k, j, i), &b)| b && grid.valid[[k, j, i]])
        .map(|((k, j, i), _)| [k, j, i])
        .collect();
    if inside.len() < MIN_POOL_VOXELS {
        tracing::trace!("lumen pool: {} voxels inside the open lumen", inside.len());
        return None;
    }
    let mut mean = Vec::with_capacity(grid.feats.len());
    let mut art_lo_hi = (0.0f32, 0.0f32);
    for (c, f) in grid.feats.iter().enumerate() {
        let mut v: Vec<f64> = inside.iter().map(|p| f64::from(f[*p])).collect();
        let med = stats::median(&mut v);
        if Some(c) == arterial {
            v.sort_by(f64::total_cmp);
            let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize] as f32;
            art_lo_hi = (at(POOL_ARTERIAL_QUANTILE), at(1.0 - POOL_ARTERIAL_QUANTILE));
        }
        mean.push(med as f32 / scale[c]);
    }
    let arterial_range = arterial_range(scale, means, arterial, mean[base] * scale[base], Some(art_lo_hi));
    Some(BloodPool { mean, arterial_range })
}

/// The blood pool's span on the arterial phase (tolerance units): from the lower of its
/// unenhanced value and its own arterial low to the higher of its arterial high and the
/// brightest class's arterial value — every vein carries its own mix of opacified and
/// unopacified blood there. `(0, 0)` without an arterial phase.
fn arterial_range(
    scale: &[f32],
    means: &[Vec<f32>],
    arterial: Option<usize>,
    unenhanced: f32,
    own: Option<(f32, f32)>,
) -> (f32, f32) {
    match (arterial, own) {
        (Some(a), Some((low, high))) => {
            let brightest = means.iter().map(|m| m[a]).fold(f32::NEG_INFINITY, f32::max);
            (unenhanced.min(low) / scale[a], brightest.max(high) / scale[a])
        }
        _ => (0.0, 0.0),
    }
}

/// Move the candidate's boundary to the midpoint between the tissue inside and the
/// tissue outside: each voxel within [`REFINE_BAND_VOX`] of the boundary goes to the
/// nearer (Euclidean, tolerance units) of the local mean of the candidate's deeper
/// voxels and the classes of the well-explained outside voxels nearby (within
/// [`AUTO_REFINE_RADIUS_VOX`]). Unexplained tissue at the edge of a mass is partly a blend of
/// the mass with its surroundings; this gives the outer half of the blend back.
fn refine_midpoint(
    grid: &Grid,
    scale: &[f32],
    labels: &Array3<u32>,
    residual: &Array3<f32>,
    means: &[Vec<f32>],
    mask: &mut Array3<bool>,
) {
    let dim = grid.dim;
    let nc = grid.feats.len();
    let r = AUTO_REFINE_RADIUS_VOX as i64;
    let d2 = |a: &[f32], b: &[f32]| -> f32 {
        a.iter()
            .zip(b)
            .zip(scale)
            .map(|((x, y), s)| ((x - y) / s).powi(2))
            .sum()
    };
    for _ in 0..AUTO_REFINE_MAX_PASSES {
        let deep_in = morph::erode(mask, REFINE_BAND_VOX);
        let near = morph::dilate(mask, REFINE_BAND_VOX);
        let deep_out = morph::dilate(mask, REFINE_BAND_VOX).mapv(|b| !b);
        let mut changes: Vec<([usize; 3], bool)> = Vec::new();
        let mut f = vec![0.0f32; nc];
        let mut inside = vec![0.0f64; nc];
        for ((k, j, i), &nb) in near.indexed_iter() {
            let p = [k, j, i];
            if !nb || deep_in[p] || !grid.valid[p] {
                continue;
            }
            inside.iter_mut().for_each(|x| *x = 0.0);
            let mut n_in = 0usize;
            let mut out_classes: Vec<u32> = Vec::new();
            for dk in -r..=r {
                for dj in -r..=r {
                    for di in -r..=r {
                        let q = [k as i64 + dk, j as i64 + dj, i as i64 + di];
                        if q.iter().any(|&x| x < 0) {
                            continue;
                        }
                        let q = [q[0] as usize, q[1] as usize, q[2] as usize];
                        if q[0] >= dim.0 || q[1] >= dim.1 || q[2] >= dim.2 || !grid.valid[q] {
                            continue;
                        }
                        if deep_in[q] {
                            for (c, a) in grid.feats.iter().enumerate() {
                                inside[c] += a[q] as f64;
                            }
                            n_in += 1;
                        } else if deep_out[q] && residual[q] <= UNEXPLAINED_DISTANCE {
                            let l = labels[q];
                            if l != 0 && !out_classes.contains(&l) {
                                out_classes.push(l);
                            }
                        }
                    }
                }
            }
            if n_in == 0 || out_classes.is_empty() {
                continue;
            }
            let in_mean: Vec<f32> = inside.iter().map(|x| (x / n_in as f64) as f32).collect();
            for (v, a) in f.iter_mut().zip(&grid.feats) {
                *v = a[p];
            }
            let d_in = d2(&f, &in_mean);
            let d_out = out_classes
                .iter()
                .map(|&l| d2(&f, &means[(l - 1) as usize]))
                .fold(f32::INFINITY, f32::min);
            let want = d_in <= d_out;
            if want != mask[p] {
                changes.push((p, want));
            }
        }
        if changes.is_empty() {
            break;
        }
        for (p, v) in changes {
            mask[p] = v;
        }
    }
    // One piece, no cavities.
    let (lab, sizes) = morph::label_components(mask);
    if let Some((big, _)) = sizes.iter().enumerate().skip(1).max_by_key(|(_, &n)| n) {
        *mask = morph::fill_holes(&lab.mapv(|l| l as usize == big));
    }
}

/// Within a voxel of the IVC model, candidate voxels that enhance on the portal-venous /
/// delayed phases by at least [`LUMEN_MARGIN`] tolerances more than the candidate's
/// interior (its 90th percentile) are opacified lumen (a flattened IVC beside an
/// extrinsic mass), not tumour; tumour filling the IVC enhances like the rest of the mass
/// and stays.
fn trim_lumen(stack: &PhaseStack, grid: &Grid, scale: &[f32], ivc: &Array3<bool>, mask: &mut Array3<bool>) {
    let late: Vec<usize> = stack
        .phases
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            matches!(
                p.role,
                Role::CtPortalVenous | Role::CtDelayed | Role::MrT1PortalVenous | Role::MrT1Delayed
            )
        })
        .map(|(c, _)| c)
        .collect();
    let near_ivc = morph::dilate(ivc, 1);
    if !late.is_empty() && near_ivc.iter().any(|&b| b) {
        let deep = morph::erode(mask, 2);
        let interior: Vec<f64> = late
            .iter()
            .map(|&c| {
                // The 90th percentile: a heterogeneous or necrotic interior must not make
                // its own brighter parts read as lumen.
                let mut v: Vec<f32> = grid.feats[c]
                    .iter()
                    .zip(deep.iter())
                    .filter(|(v, &d)| d && v.is_finite())
                    .map(|(&v, _)| v)
                    .collect();
                if v.is_empty() {
                    return f64::INFINITY;
                }
                let q = (v.len() - 1) * 9 / 10;
                *v.select_nth_unstable_by(q, |a, b| a.total_cmp(b)).1 as f64
            })
            .collect();
        for ((k, j, i), m) in mask.indexed_iter_mut() {
            let p = [k, j, i];
            if *m
                && near_ivc[p]
                && late
                    .iter()
                    .zip(&interior)
                    .any(|(&c, &mu)| (grid.feats[c][p] as f64 - mu) >= LUMEN_MARGIN as f64 * scale[c] as f64)
            {
                *m = false;
            }
        }
    }
    let (lab, sizes) = morph::label_components(mask);
    if let Some((big, _)) = sizes.iter().enumerate().skip(1).max_by_key(|(_, &n)| n) {
        *mask = morph::fill_holes(&lab.mapv(|l| l as usize == big));
    }
}

/// Add the fat (CT, [`crate::mass::is_fat`] on the unsmoothed phase `base` at the search
/// voxel: adipose density with no air beside it, so bowel gas is not fat) inside the
/// candidate's slice-wise convex hull when it makes up at least
/// [`FAT_ENCLOSED_MIN_FRACTION`] of the result (fat lobules of a liposarcoma, as for a
/// seeded mass). Returns whether it was added.
fn add_enclosed_fat(stack: &PhaseStack, grid: &Grid, base: usize, mask: &mut Array3<bool>) -> bool {
    let raw = &stack.phases[base].data;
    let st = grid.step;
    let (nk, nj, ni) = grid.dim;
    let mut add = Vec::new();
    let mut n = 0usize;
    for k in 0..nk {
        let pts: Vec<(i64, i64)> = (0..nj)
            .flat_map(|j| (0..ni).map(move |i| (j, i)))
            .filter(|&(j, i)| mask[[k, j, i]])
            .map(|(j, i)| (j as i64, i as i64))
            .collect();
        n += pts.len();
        if pts.len() < 3 {
            continue;
        }
        let ((j0, j1), (i0, i1)) = bounds(&pts);
        let hull = convex_hull(pts);
        for j in j0..=j1 {
            for i in i0..=i1 {
                let p = [k, j as usize, i as usize];
                let fine = (k * st[0], j as usize * st[1], i as usize * st[2]);
                if !mask[p] && is_fat(raw, fine) && in_hull(&hull, (j, i)) {
                    add.push(p);
                }
            }
        }
    }
    let frac = add.len() as f64 / (add.len() + n).max(1) as f64;
    if frac < FAT_ENCLOSED_MIN_FRACTION {
        return false;
    }
    for p in add {
        mask[p] = true;
    }
    *mask = morph::fill_holes(mask);
    true
}

/// Search-grid mask onto the stack grid (nearest search voxel).
fn upsample(grid: &Grid, m: &Array3<bool>, shape: [usize; 3]) -> Array3<bool> {
    let s = grid.step;
    let d = grid.dim;
    let near = |x: usize, a: usize, n: usize| ((x + s[a] / 2) / s[a]).min(n - 1);
    // The row and column maps once, then the box's slices in parallel (a plain copy per
    // voxel: the same mask, without a division per voxel on one core).
    let qj: Vec<usize> = (0..shape[1]).map(|j| near(j, 1, d.1)).collect();
    let qi: Vec<usize> = (0..shape[2]).map(|i| near(i, 2, d.2)).collect();
    let mut out = Array3::from_elem((shape[0], shape[1], shape[2]), false);
    out.axis_iter_mut(ndarray::Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(k, mut plane)| {
            let src = m.index_axis(ndarray::Axis(0), near(k, 0, d.0));
            for (mut row, &j) in plane.rows_mut().into_iter().zip(&qj) {
                let sr = src.row(j);
                for (o, &i) in row.iter_mut().zip(&qi) {
                    *o = sr[i];
                }
            }
        });
    out
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::StackPhase;

    /// A one-phase CT stack of 60³ voxels of 1 mm, soft tissue (40 HU), with `air` set to
    /// −900 HU.
    fn stack(air: impl Fn(usize, usize, usize) -> bool) -> PhaseStack {
        let n = 60;
        let data = Array3::from_shape_fn((n, n, n), |(k, j, i)| if air(k, j, i) { -900.0 } else { 40.0 });
        PhaseStack {
            geometry: Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]),
            shape: [n, n, n],
            reference_index: 0,
            offset_kji: [0, 0, 0],
            phases: vec![StackPhase {
                volume_index: 0,
                role: Role::CtUnenhanced,
                shift_mm: Vector3::zeros(),
                smooth: data.clone(),
                data,
            }],
            ct: true,
            spine_xy_mm: None,
        }
    }

    fn detection(mask: Array3<bool>) -> Detection {
        let n = mask.iter().filter(|&&b| b).count();
        Detection {
            mask,
            centroid: Point3::origin(),
            volume_ml: n as f64 / 1000.0,
            gap_mm: 0.0,
            fat_added: false,
        }
    }

    #[test]
    fn a_lump_is_plausible_a_chain_or_bowel_is_not() {
        let ball = Array3::from_shape_fn((60, 60, 60), |(k, j, i)| {
            let d = |a: usize| a as f64 - 30.0;
            (d(i).powi(2) + d(j).powi(2) + d(k).powi(2)).sqrt() <= 20.0
        });
        assert!(plausible(&stack(|_, _, _| false), &detection(ball.clone())).is_ok());
        // The same lump with gas inside (a bowel loop's content): not a mass.
        let gassy = stack(|k, j, i| {
            let d = |a: usize| a as f64 - 30.0;
            (d(i).powi(2) + d(j).powi(2) + d(k).powi(2)).sqrt() <= 8.0
        });
        let mut shell = ball.clone();
        for (p, s) in shell.indexed_iter_mut() {
            if gassy.phases[0].data[p] < -300.0 {
                *s = false;
            }
        }
        let e = plausible(&gassy, &detection(shell)).unwrap_err();
        assert!(e.contains("gas"), "{e}");
        // Two 6 mm tubes in an L on every slice (vessels with the tissue along them):
        // they fill 37 % of their hull.
        let chain = Array3::from_shape_fn((60, 60, 60), |(_, j, i)| {
            ((5..11).contains(&j) && (5..55).contains(&i)) || ((5..11).contains(&i) && (5..55).contains(&j))
        });
        let e = plausible(&stack(|_, _, _| false), &detection(chain)).unwrap_err();
        assert!(e.contains("convex hulls"), "{e}");
    }

    /// Two-phase CT (unenhanced, portal venous): soft tissue everywhere, a 20 mm ball with
    /// the given values.
    fn two_phase(ball_hu: (f32, f32)) -> (PhaseStack, Array3<bool>) {
        let ball = Array3::from_shape_fn((60, 60, 60), |(k, j, i)| {
            let d = |a: usize| a as f64 - 30.0;
            (d(i).powi(2) + d(j).powi(2) + d(k).powi(2)).sqrt() <= 20.0
        });
        let mut st = stack(|_, _, _| false);
        let phase = |role: Role, ball_v: f32, tissue: f32| {
            let data = ball.mapv(|b| if b { ball_v } else { tissue });
            StackPhase {
                volume_index: 0,
                role,
                shift_mm: Vector3::zeros(),
                smooth: data.clone(),
                data,
            }
        };
        st.phases = vec![
            phase(Role::CtUnenhanced, ball_hu.0, 40.0),
            phase(Role::CtPortalVenous, ball_hu.1, 100.0),
        ];
        (st, ball)
    }

    #[test]
    fn water_that_does_not_enhance_is_fluid_not_a_mass() {
        // Fluid in a bowel loop or a cyst: water density, no enhancement.
        let (st, ball) = two_phase((10.0, 14.0));
        assert!(fluid(&st, &ball).is_some());
        assert!(plausible(&st, &detection(ball)).is_err());
        // A solid tumour: soft tissue that enhances.
        let (st, ball) = two_phase((40.0, 90.0));
        assert!(fluid(&st, &ball).is_none());
        assert!(plausible(&st, &detection(ball)).is_ok());
        // Low density that enhances (a hypodense solid tumour) is not fluid either, nor is
        // soft tissue that does not enhance (an unenhancing solid mass).
        assert!(fluid(&two_phase((15.0, 45.0)).0, &two_phase((15.0, 45.0)).1).is_none());
        assert!(fluid(&two_phase((35.0, 40.0)).0, &two_phase((35.0, 40.0)).1).is_none());
        // Without a contrast phase nothing can be said.
        assert!(fluid(&stack(|_, _, _| false), &ball_of(20.0)).is_none());
    }

    fn ball_of(r: f64) -> Array3<bool> {
        Array3::from_shape_fn((60, 60, 60), |(k, j, i)| {
            let d = |a: usize| a as f64 - 30.0;
            (d(i).powi(2) + d(j).powi(2) + d(k).powi(2)).sqrt() <= r
        })
    }
}
