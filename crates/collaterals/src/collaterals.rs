//! Venous collaterals: enlarged veins in the paravertebral and retroperitoneal space
//! (azygos, hemiazygos, lumbar, gonadal), measured on a post-contrast phase.
//!
//! 1. The spine is found on the CT (bone ≥ 250 HU near the body midline) or, on MRI,
//!    placed from the body outline; the analysed box spans ±90 mm across and from 90 mm in
//!    front of it to 35 mm behind it, over every slice.
//! 2. Vessel voxels: CT 100–300 HU (MRI above the midpoint of the box's median and 99.5th
//!    percentile) that enhanced against the baseline phase (≥ 60 HU; +50 % on MRI) and
//!    whose smoothed enhancement reaches [`BLOOD_FRACTION`] of the box's brightest (blood
//!    enhances about twice as much as liver or spleen, so a vein running through enhancing
//!    parenchyma stays apart from it). The IVC model and the mass (grown by a voxel) and
//!    the spinal canal zone are cut out. Components wider than 12.5 mm anywhere (aorta,
//!    IVC, kidneys, bone) are large structures and are dropped with everything connected
//!    to them — except vertical veins (below).
//! 3. Two kinds of candidates: whole components (veins running across: lumbar) and
//!    vertical runs — per slice, the 2D blobs of any component that are a vessel's
//!    cross-section (≤ 12.5 mm across), joined across slices — so a vertical vein that
//!    joins a large structure (left gonadal → left renal vein) or touches a vessel stump
//!    still stands alone. Each must be ≥ 15 mm long and tubular: multi-scale Frangi
//!    vesselness (σ for 2–12 mm vessels, large scales on a 2× coarser in-plane grid) at
//!    least [`MIN_VESSELNESS`] somewhere, computed over the candidate's box plus the
//!    kernels' reach only.
//! 4. Diameter at the vesselness peak: the mean cross-section of the half-maximum outline
//!    (lumen level against the local background, a shell around the vessel) on a 0.5 mm
//!    grid, along the vessel's principal axis, as a circle's diameter.
//! 5. Names by course relative to the vertebral column (CT bone within 45 mm of the
//!    midline, discs bridged; MRI: a typical 44 × 32 mm vertebral body on the spine
//!    estimate): azygos / hemiazygos — vertical runs right / left, within
//!    [`PARAVERTEBRAL_MM`] (median in-plane distance) of the column, in front of the
//!    spine centre; gonadal — vertical runs farther from the column, in front of the
//!    vertebral bodies, ≥ 20 mm lateral; lumbar — components running across, along the
//!    column, centred in front of the spine centre.
//! 6. …and by level: a course alone does not make a vein ([`crate::levels`]). The level
//!    reference is the vertebrae when another tool labelled them (`--anatomy`), else the
//!    renal-vein inflow (the renal veins join the IVC at L1–L2) with typical vertebral
//!    heights: gonadal veins run below the renal veins (they drain into the left renal
//!    vein and the IVC just below the right one), lumbar veins beside the L1–L4 bodies
//!    ([`LUMBAR_ABOVE_RENAL_MM`] above the inflow to [`LUMBAR_BELOW_RENAL_MM`] below),
//!    azygos / hemiazygos below the azygos arch (T4). With no reference no pathway is
//!    named (a chest-only series holds the azygos at its widest, near the arch) and
//!    `Collaterals::not_assessed` says why; nor where the series does not reach a
//!    pathway's levels. A vessel at T11–T12 is never a "lumbar" or a "gonadal" vein.
//!
//! Without an unenhanced phase on CT, marrow (cancellous bone 100–300 HU, the vessel
//! range) is told apart by its cortex: a voxel enclosed in-plane by dense bone
//! ([`enclosed_by_bone`]) is not a vessel — the vertebral bodies and ribs otherwise read
//! as an 11 mm "lumbar vein".
//!
//! Every vessel on a named pathway is reported with its diameter and volume
//! (`Collaterals::vessels`); unnamed ones are not. Which are enlarged — the sign, and the
//! count and volume beside it — is decided by the `features` thresholds (there is no
//! published cut-off for lumbar or hemiazygos enlargement, research brief §1b).

use crate::levels::{Levels, VertebralLevels};
use crate::model::{
    CollateralVessel, Collaterals, IvcModel, Landmarks, MassModel, NamedVein, PhaseInfo, Role,
};
use crate::morph;
use crate::params::{column::*, diameter, naming::*, vessels::*};
use crate::stack::{crop_box_xyz, sample_on};
use crate::vesselness::{
    gaussian_smooth, sigmas_for_diameters, vesselness_pyramid, VesselnessParams, DIAMETER_PER_SIGMA,
};
use cavascope_imaging::stats::upper_median_f32;
use cavascope_phases::spine::spine_xy;
use cavascope_volume::{Anatomy, Geometry, Point3, Vector3, Volume};
use ndarray::Array3;

pub use crate::params::levels::{LUMBAR_ABOVE_RENAL_MM, LUMBAR_BELOW_RENAL_MM};
pub use crate::params::naming::PARAVERTEBRAL_MM;
pub use crate::params::vessels::{
    BLOOD_FRACTION, LARGE_STRUCTURE_MM, MIN_LENGTH_MM, MIN_VESSELNESS, VESSEL_MAX_HU,
    VESSEL_MIN_ENHANCEMENT_HU, VESSEL_MIN_ENHANCEMENT_MR, VESSEL_MIN_HU,
};
/// Bone on CT, HU (locating the spine).
pub use cavascope_phases::spine::BONE_MIN_HU;

fn post_contrast(phases: &[PhaseInfo]) -> Option<(usize, bool)> {
    let order = [
        (Role::CtPortalVenous, true),
        (Role::CtDelayed, true),
        (Role::CtArterial, true),
        (Role::MrT1PortalVenous, false),
        (Role::MrT1Delayed, false),
        (Role::MrT1Arterial, false),
    ];
    order
        .iter()
        .find_map(|&(r, ct)| phases.iter().find(|p| p.role == r).map(|p| (p.volume_index, ct)))
}

/// Diameter (mm) of the vessel through `peak` (a voxel on its centreline, where the
/// vesselness peaks), by the half-maximum outline on a 0.5 mm grid.
///
/// The values are the enhancement (post − pre) with a baseline phase, else the
/// post-contrast values. The lumen level is the median within 1 mm of `peak`; the local
/// background the median of a shell 3–8 mm outside the vessel's scale radius
/// (`radius_mm`), so a vein inside enhancing parenchyma (liver) is outlined against the
/// parenchyma, not against fat. The diameter is that of the circle with the outline's
/// mean cross-section: the outline's volume within ±2.25 mm of `peak` along the vessel's
/// axis (its principal direction), within 8 mm of the axis, divided by the slab length.
/// A mean area, unlike an inscribed sphere, is not shrunk by noise on the outline.
fn local_diameter(v: &Volume, base: Option<&Volume>, peak: &Point3<f64>, radius_mm: f64) -> Option<f64> {
    let h = diameter::GRID_MM;
    let half = diameter::HALF_MM;
    let n = (2.0 * half / h) as usize + 1;
    let origin = peak - Vector3::new(half, half, half);
    let g = Geometry::axial(origin, [h, h, h]);
    let mut data = sample_on(v, &g, [n, n, n], &Vector3::zeros());
    if let Some(b) = base {
        let pre = sample_on(b, &g, [n, n, n], &Vector3::zeros());
        ndarray::Zip::from(&mut data).and(&pre).for_each(|x, &p| *x -= p);
    }
    let c = (n / 2) as f64;
    let r_in = radius_mm + diameter::SHELL_INNER_MM;
    let r_out = (radius_mm + diameter::SHELL_OUTER_MM).min(half);
    let (mut core, mut shell) = (Vec::new(), Vec::new());
    for ((k, j, i), &x) in data.indexed_iter() {
        if !x.is_finite() {
            continue;
        }
        let r = h * ((i as f64 - c).powi(2) + (j as f64 - c).powi(2) + (k as f64 - c).powi(2)).sqrt();
        if r <= diameter::CORE_RADIUS_MM {
            core.push(x);
        } else if r >= r_in && r <= r_out {
            shell.push(x);
        }
    }
    let (pk, bg) = (upper_median_f32(&mut core)?, upper_median_f32(&mut shell)?);
    if pk <= bg {
        return None;
    }
    let thr = bg + 0.5 * (pk - bg);
    let m = data.mapv(|x| x.is_finite() && x >= thr);
    let ci = n / 2;
    let comp = morph::component_containing(&m, [ci, ci, ci]);
    // Principal axis of the outline near the centre.
    let pts: Vec<Vector3<f64>> = comp
        .indexed_iter()
        .filter(|(_, &b)| b)
        .map(|((k, j, i), _)| h * Vector3::new(i as f64 - c, j as f64 - c, k as f64 - c))
        .filter(|p| p.norm() <= diameter::AXIS_REACH_MM)
        .collect();
    if pts.len() < diameter::MIN_AXIS_VOXELS {
        return None;
    }
    let mean = pts.iter().sum::<Vector3<f64>>() / pts.len() as f64;
    let cov = pts
        .iter()
        .map(|p| (p - mean) * (p - mean).transpose())
        .sum::<nalgebra::Matrix3<f64>>();
    let eig = cov.symmetric_eigen();
    let (mut best, mut axis) = (f64::MIN, Vector3::z());
    for q in 0..3 {
        if eig.eigenvalues[q] > best {
            best = eig.eigenvalues[q];
            axis = eig.eigenvectors.column(q).into_owned();
        }
    }
    let slab = diameter::SLAB_HALF_STEPS * h;
    let count = comp
        .indexed_iter()
        .filter(|(_, &b)| b)
        .map(|((k, j, i), _)| h * Vector3::new(i as f64 - c, j as f64 - c, k as f64 - c))
        .filter(|p| {
            let t = p.dot(&axis);
            t.abs() <= slab && (p - axis * t).norm() <= diameter::AXIS_REACH_MM
        })
        .count();
    let area = count as f64 * h * h * h / (2.0 * slab);
    Some(2.0 * (area / std::f64::consts::PI).sqrt())
}

/// Where the vertebral column lies, for naming veins by their course.
struct Column {
    /// In-plane distance (mm) of every box voxel to the vertebral column.
    dist: Array3<f32>,
    /// Anterior surface of the vertebral bodies (LPS y, mm).
    front_y: f64,
}

/// The vertebral column in the box: on CT the bone (≥ [`BONE_MIN_HU`] on the baseline
/// phase, else the post-contrast one) within [`COLUMN_HALF_MM`] of the spine's midline;
/// on MRI (or too little bone) a typical lumbar vertebral body (44 × 32 mm) centred on
/// the spine estimate.
fn vertebral_column(bone_src: &Array3<f32>, geom: &Geometry, ct: bool, sx: f64, sy: f64) -> Column {
    let world = |k: usize, j: usize, i: usize| geom.index_to_world([i as f64, j as f64, k as f64]);
    let sp = geom.spacing();
    let mut bone = ndarray::Zip::indexed(bone_src).map_collect(|(k, j, i), &x| {
        ct && x.is_finite() && x >= BONE_MIN_HU && (world(k, j, i).x - sx).abs() <= COLUMN_HALF_MM
    });
    // Discs interrupt the bone: a slice takes the bone of its neighbours within
    // [`DISC_BRIDGE_MM`].
    let reach = (DISC_BRIDGE_MM / sp[2].max(1e-3)).round() as usize;
    if reach > 0 {
        let nk = bone.dim().0;
        let orig = bone.clone();
        for k in 0..nk {
            let (a, b) = (k.saturating_sub(reach), (k + reach + 1).min(nk));
            let mut sl = bone.index_axis_mut(ndarray::Axis(0), k);
            for kk in a..b {
                ndarray::Zip::from(&mut sl)
                    .and(orig.index_axis(ndarray::Axis(0), kk))
                    .for_each(|x, &o| *x |= o);
            }
        }
    }
    let nb = bone.iter().filter(|&&b| b).count();
    // A few hundred voxels of bone (a vertebra is ~40 ml): fewer is no column.
    let min_bone = (MIN_BONE_MM3 / geom.voxel_volume_mm3()) as usize;
    let front_y = if nb >= min_bone {
        // Per slice, the most anterior bone near the midline; the median over slices.
        let mut fronts: Vec<f32> = bone
            .outer_iter()
            .enumerate()
            .filter_map(|(k, sl)| {
                sl.indexed_iter()
                    .filter(|(_, &b)| b)
                    .map(|((j, i), _)| world(k, j, i))
                    .filter(|p| (p.x - sx).abs() <= FRONT_HALF_WIDTH_MM)
                    .map(|p| p.y as f32)
                    .reduce(f32::min)
            })
            .collect();
        upper_median_f32(&mut fronts).map(f64::from)
    } else {
        None
    };
    let front_y = match front_y {
        Some(f) => f,
        None => {
            let (a, b) = (ELLIPSE_HALF_LR_MM, ELLIPSE_HALF_AP_MM);
            for ((k, j, i), v) in bone.indexed_iter_mut() {
                let p = world(k, j, i);
                *v = ((p.x - sx) / a).powi(2) + ((p.y - sy) / b).powi(2) <= 1.0;
            }
            sy - b
        }
    };
    // In-plane distance: a huge slice spacing keeps the transform within each slice.
    let dist = morph::edt_mm(&bone.mapv(|b| !b), [1.0e6, sp[1], sp[0]]);
    Column { dist, front_y }
}

/// What [`measure_collaterals`] returns (the stages' one shape: what was measured, then
/// warnings).
#[derive(Debug, Clone, Default)]
pub struct CollateralsOutcome {
    /// `None` when the collaterals could not be assessed (the reason is a warning).
    pub collaterals: Option<Collaterals>,
    /// What could not be assessed, and why.
    pub warnings: Vec<String>,
}

impl CollateralsOutcome {
    fn not_assessed(warnings: Vec<String>) -> Self {
        CollateralsOutcome {
            collaterals: None,
            warnings,
        }
    }
}

/// Measure the collateral veins on named pathways (module docs), levels from the
/// renal-vein inflow.
pub fn measure_collaterals(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    ivc: Option<&IvcModel>,
    mass: Option<&MassModel>,
    landmarks: &Landmarks,
) -> CollateralsOutcome {
    measure_collaterals_with(volumes, phases, ivc, mass, landmarks, None)
}

/// As [`measure_collaterals`], with anatomy context (`--anatomy`): its vertebra labels
/// give the levels that name lumbar and gonadal veins ([`crate::levels`]).
pub fn measure_collaterals_with(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    ivc: Option<&IvcModel>,
    mass: Option<&MassModel>,
    landmarks: &Landmarks,
    anatomy: Option<&Anatomy>,
) -> CollateralsOutcome {
    let mut w = Vec::new();
    let Some((vi, ct)) = post_contrast(phases) else {
        w.push("collaterals: no post-contrast series; not assessed".into());
        return CollateralsOutcome::not_assessed(w);
    };
    let Some(v) = volumes.get(vi) else {
        w.push("collaterals: post-contrast series missing; not assessed".into());
        return CollateralsOutcome::not_assessed(w);
    };
    let Some((sx, sy)) = spine_xy(v, ct) else {
        w.push("collaterals: body / spine not found; not assessed".into());
        return CollateralsOutcome::not_assessed(w);
    };
    let (lo, hi) = v.geometry.world_bounds(v.shape());
    let zc = 0.5 * (lo.z + hi.z);
    let cy = sy - 0.5 * (BOX_ANTERIOR_MM - BOX_POSTERIOR_MM);
    // The box itself plus a margin for the vesselness kernels (3σ of the largest scale),
    // not a cube around it: the vesselness below costs per voxel.
    let margin = BOX_KERNEL_MARGIN_MM;
    let half = Vector3::new(
        BOX_HALF_LR_MM + margin,
        0.5 * (BOX_ANTERIOR_MM + BOX_POSTERIOR_MM) + margin,
        0.5 * (hi.z - lo.z) + BOX_Z_MARGIN_MM,
    );
    let Some((geom, shape, _)) = crop_box_xyz(v, &Point3::new(sx, cy, zc), half) else {
        w.push("collaterals: the paravertebral box lies outside the series".into());
        return CollateralsOutcome::not_assessed(w);
    };
    // Sub-stage timings at debug level (RUST_LOG=cavascope_collaterals=debug).
    let t0 = std::time::Instant::now();
    let lap = |what: &str| tracing::debug!(stage = what, seconds = t0.elapsed().as_secs_f64(), "collaterals");
    let data = sample_on(v, &geom, shape, &Vector3::zeros());
    let world = |k: usize, j: usize, i: usize| geom.index_to_world([i as f64, j as f64, k as f64]);
    let in_box = |p: &Point3<f64>| {
        (p.x - sx).abs() <= BOX_HALF_LR_MM && p.y >= sy - BOX_ANTERIOR_MM && p.y <= sy + BOX_POSTERIOR_MM
    };
    let sp = geom.spacing();
    let Some((vmin, vmax)) = vessel_range(&data, ct) else {
        return CollateralsOutcome::not_assessed(w);
    };
    // Bone and its partial-volume rim are not vessels: with a baseline phase, a vessel
    // must have enhanced; without one, the voxel next to dense bone is dropped.
    let base_role = if ct { Role::CtUnenhanced } else { Role::MrT1Pre };
    let base_vol = phases
        .iter()
        .find(|p| p.role == base_role)
        .and_then(|p| volumes.get(p.volume_index));
    let base = base_vol.map(|b| sample_on(b, &geom, shape, &Vector3::zeros()));
    // Smoothed enhancement and the level that sets blood apart from parenchyma: venous
    // blood enhances about twice as much as liver, spleen or pancreas on a post-contrast
    // phase, so [`BLOOD_FRACTION`] of the box's brightest enhancement (aorta, renal
    // cortex, veins) keeps the veins and drops the parenchyma a vein may run through.
    let enh = base.as_ref().map(|b| smoothed_enhancement(&data, b, sp));
    let enh_thr = enh.as_ref().map_or(0.0, |e| {
        enhancement_threshold(e, &|k, j, i| in_box(&world(k, j, i)), ct)
    });
    lap("sampled+enhancement");
    // The voxel-wise passes over the box run in parallel (each voxel on its own).
    let dense = morph::dilate(
        &ndarray::Zip::from(&data).par_map_collect(|&x| x.is_finite() && x > vmax),
        1,
    );
    let bright = ndarray::Zip::indexed(&data)
        .and(&dense)
        .par_map_collect(|(k, j, i), &x, &d| {
            let enhanced = match (&base, &enh) {
                (Some(b), Some(e)) => {
                    let b0 = b[[k, j, i]];
                    b0.is_finite()
                        && e[[k, j, i]] >= enh_thr
                        && if ct {
                            x - b0 >= VESSEL_MIN_ENHANCEMENT_HU
                        } else {
                            x >= b0 * (1.0 + VESSEL_MIN_ENHANCEMENT_MR)
                        }
                }
                _ => !d,
            };
            enhanced && x.is_finite() && x >= vmin && x <= vmax && in_box(&world(k, j, i))
        });
    // What is no longer needed goes before the next box-sized arrays are made.
    drop((dense, enh));
    // The IVC and the mass (each grown by a voxel) are cut out; their tributaries' stumps
    // then stand alone and are judged like any vessel. The spinal canal and laminae
    // (bone/CSF partial volume mimics enhancement there) are left out too.
    let excl = ivc_and_mass(ivc, mass, &geom, shape, bright.dim());
    if ivc.is_none() {
        w.push("collaterals: no IVC model, so IVC tributaries are only excluded by their size".into());
    }
    // Marrow has no enhancement to tell it by without a baseline: its cortex does.
    let marrow_test = ct && base.is_none();
    let bright = ndarray::Zip::indexed(&bright)
        .and(&excl)
        .par_map_collect(|(k, j, i), &b, &e| {
            let p = world(k, j, i);
            let canal = (p.x - sx).abs() < SPINAL_CANAL_HALF_MM && p.y > sy + SPINAL_CANAL_BEHIND_MM;
            let marrow = marrow_test && b && enclosed_by_bone(&data, [k, j, i], sp);
            b && !e && !canal && !marrow
        });
    drop(excl);
    // Components wider than LARGE_STRUCTURE_MM anywhere (aorta, kidneys, spleen, liver,
    // bone) are large structures and go with everything connected to them (renal veins,
    // iliac arteries).
    lap("bright+excl");
    let members = candidate_members(&bright, sp);
    drop(bright);
    lap("components+runs");
    let (params, reach) = vesselness_setup(sp);
    let filled = ndarray::Zip::from(&data).par_map_collect(|&x| if x.is_finite() { x } else { 0.0 });
    let column = vertebral_column(base.as_ref().unwrap_or(&data), &geom, ct, sx, sy);
    drop((base, data));
    lap("column");
    let debug = tracing::enabled!(tracing::Level::TRACE);

    let vertebrae = anatomy.and_then(VertebralLevels::from_anatomy);
    let levels = Levels::new(landmarks, [lo.z.min(hi.z), lo.z.max(hi.z)], vertebrae);
    tracing::debug!(reference = %levels.reference(), "collateral levels");
    let vox_ml = geom.voxel_volume_mm3() / 1000.0;
    let scene = Scene {
        v,
        base_vol,
        geom: &geom,
        filled,
        reach,
        sp,
        params,
        column,
        sx,
        sy,
        levels: &levels,
        debug,
    };
    let (veins, vessels, max_d) = named_vessels(&scene, &members, vox_ml);
    lap("per component");
    CollateralsOutcome {
        collaterals: Some(Collaterals {
            max_diameter_mm: max_d,
            veins,
            vessels,
            grid: Some((geom.clone(), shape)),
            not_assessed: levels.not_assessed(),
        }),
        warnings: w,
    }
}

/// Vesselness settings over the collaterals' diameters, and the kernels' reach per axis
/// (k, j, i), voxels: the vesselness of a voxel depends on the values within it only, so
/// a box this much larger than a component gives the same response inside the component
/// as the whole grid would.
fn vesselness_setup(sp: [f64; 3]) -> (VesselnessParams, [usize; 3]) {
    let params = VesselnessParams {
        sigmas_mm: sigmas_for_diameters(
            VESSELNESS_MIN_DIAMETER_MM,
            VESSELNESS_MAX_DIAMETER_MM,
            VESSELNESS_SCALES,
        ),
        bright: true,
        ..Default::default()
    };
    let sigma_max = params.sigmas_mm.iter().copied().fold(0.0f64, f64::max);
    let reach = [
        (KERNEL_REACH_SIGMAS * sigma_max / sp[2]).ceil() as usize + 1,
        (KERNEL_REACH_SIGMAS * sigma_max / sp[1]).ceil() as usize + 1,
        (KERNEL_REACH_SIGMAS * sigma_max / sp[0]).ceil() as usize + 1,
    ];
    (params, reach)
}

/// Post-contrast minus baseline (0 where either is undefined), smoothed by
/// [`ENHANCEMENT_SMOOTH_MM`].
fn smoothed_enhancement(data: &Array3<f32>, base: &Array3<f32>, sp: [f64; 3]) -> Array3<f32> {
    let e = ndarray::Zip::from(data).and(base).map_collect(|&x, &p| {
        if x.is_finite() && p.is_finite() {
            x - p
        } else {
            0.0
        }
    });
    gaussian_smooth(&e, sp, ENHANCEMENT_SMOOTH_MM)
}

/// The named veins (widest diameter per name), every vessel on a named pathway, and the
/// widest diameter. Only vessels on a named collateral pathway count: an unnamed tubular
/// piece is as likely a stump of a large vessel as a collateral.
fn named_vessels(
    scene: &Scene,
    members: &[(Vec<[usize; 3]>, bool)],
    vox_ml: f64,
) -> (Vec<NamedVein>, Vec<CollateralVessel>, Option<f64>) {
    let mut veins: Vec<NamedVein> = Vec::new();
    let mut vessels: Vec<CollateralVessel> = Vec::new();
    let mut max_d = None::<f64>;
    for (vox, run) in members.iter().filter(|m| !m.0.is_empty()) {
        let Some((name, d)) = scene.named_vessel(vox, *run) else {
            continue;
        };
        max_d = Some(max_d.map_or(d, |m: f64| m.max(d)));
        vessels.push(CollateralVessel {
            name: name.to_string(),
            diameter_mm: d,
            volume_ml: vox.len() as f64 * vox_ml,
            voxels: vox.clone(),
        });
        match veins.iter_mut().find(|x| x.name == name) {
            Some(x) => x.diameter_mm = Some(x.diameter_mm.map_or(d, |o| o.max(d))),
            None => veins.push(NamedVein {
                name: name.to_string(),
                diameter_mm: Some(d),
            }),
        }
    }
    (veins, vessels, max_d)
}

/// The vessel range on the post-contrast phase: fixed on CT; on MRI from the median to
/// midway to the brightest values (open above). `None` without a finite voxel.
fn vessel_range(data: &Array3<f32>, ct: bool) -> Option<(f32, f32)> {
    if ct {
        return Some((VESSEL_MIN_HU, VESSEL_MAX_HU));
    }
    let mut s: Vec<f32> = data.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(|a, b| a.total_cmp(b));
    let med = s[s.len() / 2];
    let p995 = s[(s.len() - 1) * BRIGHT_PERMILLE / 1000];
    Some((0.5 * (med + p995), f32::INFINITY))
}

/// The smoothed enhancement a vessel voxel reaches: [`BLOOD_FRACTION`] of the brightest in
/// the box (`in_box` by voxel index), on CT at least [`VESSEL_MIN_ENHANCEMENT_HU`].
fn enhancement_threshold(e: &Array3<f32>, in_box: &dyn Fn(usize, usize, usize) -> bool, ct: bool) -> f32 {
    let mut s: Vec<f32> = e
        .indexed_iter()
        .filter(|((k, j, i), _)| in_box(*k, *j, *i))
        .map(|(_, &x)| x)
        .collect();
    let n = s.len();
    let p995 = if n == 0 {
        0.0
    } else {
        *s.select_nth_unstable_by((n - 1) * BRIGHT_PERMILLE / 1000, |a, b| a.total_cmp(b))
            .1
    };
    let rel = BLOOD_FRACTION * p995;
    if ct {
        rel.max(VESSEL_MIN_ENHANCEMENT_HU)
    } else {
        rel
    }
}

/// The IVC and the mass on the box's grid, each grown by a voxel.
fn ivc_and_mass(
    ivc: Option<&IvcModel>,
    mass: Option<&MassModel>,
    geom: &Geometry,
    shape: [usize; 3],
    dim: (usize, usize, usize),
) -> Array3<bool> {
    let mut excl = Array3::from_elem(dim, false);
    for m in [ivc.map(|i| &i.mask), mass.map(|m| &m.mask)]
        .into_iter()
        .flatten()
    {
        let r = m.resample_onto(geom, shape);
        let d = morph::dilate(&r.data, 1);
        ndarray::Zip::from(&mut excl).and(&d).for_each(|e, &b| *e |= b);
    }
    excl
}

/// Candidate vessels among the bright voxels, each with whether it is a vertical run:
/// components that are neither noise nor part of a large structure (veins running
/// across), then runs of compact cross-sections (vertical veins).
fn candidate_members(bright: &Array3<bool>, sp: [f64; 3]) -> Vec<(Vec<[usize; 3]>, bool)> {
    let sp_kji = [sp[2], sp[1], sp[0]];
    let (labels, sizes) = morph::label_components(bright);
    let edt = edt_open_ends(bright, sp_kji);
    let nl = sizes.len();
    let mut too_big = vec![false; nl];
    for (&l, &d) in labels.iter().zip(edt.iter()) {
        let l = l as usize;
        if l > 0 && 2.0 * d as f64 > LARGE_STRUCTURE_MM {
            too_big[l] = true;
        }
    }
    drop(edt);
    let keep: Vec<bool> = (0..nl)
        .map(|l| l > 0 && sizes[l] >= MIN_COMPONENT_VOXELS && !too_big[l])
        .collect();
    // Voxels of each kept component: candidates for veins running across (lumbar).
    let mut members: Vec<(Vec<[usize; 3]>, bool)> = vec![(Vec::new(), false); nl];
    for ((k, j, i), &l) in labels.indexed_iter() {
        if keep[l as usize] {
            members[l as usize].0.push([k, j, i]);
        }
    }
    // Vertical veins (azygos, hemiazygos, gonadal) as runs of compact cross-sections,
    // slice by slice: so one that joins a large structure (the left gonadal its renal
    // vein) or touches a vessel stump low in the series stands on its own.
    let big_enough: Vec<bool> = sizes.iter().map(|&n| n >= MIN_COMPONENT_VOXELS).collect();
    members.extend(
        vertical_runs(&labels, &big_enough, sp)
            .into_iter()
            .map(|r| (r, true)),
    );
    drop(labels);
    members
}

/// What every candidate is measured against: the box's grid and data, the vesselness
/// settings, the vertebral column and the levels that allow a name.
struct Scene<'a> {
    v: &'a Volume,
    base_vol: Option<&'a Volume>,
    geom: &'a Geometry,
    /// The post-contrast data, 0 where undefined.
    filled: Array3<f32>,
    /// Kernel reach per axis (k, j, i), voxels.
    reach: [usize; 3],
    sp: [f64; 3],
    params: VesselnessParams,
    column: Column,
    sx: f64,
    sy: f64,
    levels: &'a Levels,
    debug: bool,
}

impl Scene<'_> {
    /// The named pathway and diameter (mm) of a candidate (its voxels; `run`: a vertical
    /// run), or `None` when it is no vessel on a named pathway at its level.
    fn named_vessel(&self, vox: &[[usize; 3]], run: bool) -> Option<(&'static str, f64)> {
        let Scene {
            v,
            base_vol,
            geom,
            ref filled,
            reach,
            sp,
            ref params,
            ref column,
            sx,
            sy,
            levels,
            debug,
        } = *self;
        let world = |k: usize, j: usize, i: usize| geom.index_to_world([i as f64, j as f64, k as f64]);
        let (mut plo, mut phi) = (
            world(vox[0][0], vox[0][1], vox[0][2]),
            world(vox[0][0], vox[0][1], vox[0][2]),
        );
        let mut sum = Vector3::zeros();
        let (mut ilo, mut ihi) = (vox[0], vox[0]);
        for q in vox {
            let p = world(q[0], q[1], q[2]);
            for a in 0..3 {
                plo[a] = plo[a].min(p[a]);
                phi[a] = phi[a].max(p[a]);
                ilo[a] = ilo[a].min(q[a]);
                ihi[a] = ihi[a].max(q[a]);
            }
            sum += p.coords;
        }
        let ext = phi - plo;
        // Vessels are long (the 2×width part of this rule waits for the diameter), and
        // only a run can be named vertical, only a component across: the rest of
        // `vein_name`'s course tests come after the costly part.
        if ext.norm() < MIN_LENGTH_MM || !course_possible(&ext, run) {
            return None;
        }
        if debug {
            tracing::trace!(
                "vesselness for n={} ext {:.0?} run {run}",
                vox.len(),
                ext.as_slice()
            );
        }
        // Vesselness over the component's box plus the kernels' reach.
        let dim = filled.dim();
        let dims = [dim.0, dim.1, dim.2];
        let b0: Vec<usize> = (0..3).map(|a| ilo[a].saturating_sub(reach[a])).collect();
        let b1: Vec<usize> = (0..3).map(|a| (ihi[a] + reach[a] + 1).min(dims[a])).collect();
        let sub = filled
            .slice(ndarray::s![b0[0]..b1[0], b0[1]..b1[1], b0[2]..b1[2]])
            .to_owned();
        let ves = vesselness_pyramid(&sub, sp, params);
        let (mut best_v, mut peak, mut peak_sigma) = (f32::MIN, vox[0], 0.0f32);
        for q in vox {
            let r = [q[0] - b0[0], q[1] - b0[1], q[2] - b0[2]];
            let vv = ves.response[r];
            if vv > best_v {
                best_v = vv;
                peak = *q;
                peak_sigma = ves.sigma_mm[r];
            }
        }
        let cen = sum / vox.len() as f64;
        if best_v < MIN_VESSELNESS {
            if debug {
                tracing::trace!("dropped: vesselness {best_v} n {} centre {cen:.0?}", vox.len());
            }
            return None;
        }
        let peak_w = world(peak[0], peak[1], peak[2]);
        let radius = peak_sigma as f64 * DIAMETER_PER_SIGMA / 2.0;
        let d = local_diameter(v, base_vol, &peak_w, radius)?;
        if d > LARGE_STRUCTURE_MM || ext.norm() < MIN_LENGTH_MM.max(2.0 * d) {
            return None;
        }
        let mut dists: Vec<f32> = vox.iter().map(|q| column.dist[*q]).collect();
        let to_column = upper_median_f32(&mut dists).map_or(f64::INFINITY, f64::from);
        let course = vein_name(&cen, &ext, to_column, sx, column.front_y, sy, run);
        let name = course.filter(|n| levels.allows(n, cen.z));
        if debug {
            tracing::trace!(
            "component n={} centre ({:.0},{:.0},{:.0}) ext {:.0?} d {d:.1} v {best_v:.1} to column {to_column:.1} front {:.0} -> {course:?} at level: {name:?}",
            vox.len(),
            cen.x,
            cen.y,
            cen.z,
            ext.as_slice(),
            column.front_y
        );
        }
        name.map(|n| (n, d))
    }
}

/// A voxel inside bone (marrow): at least [`ENCLOSED_RAYS`] of [`N_ENCLOSE_RAYS`] in-plane
/// rays from it meet dense bone (≥ [`BONE_MIN_HU`]) within [`ENCLOSE_MM`].
fn enclosed_by_bone(data: &Array3<f32>, at: [usize; 3], sp: [f64; 3]) -> bool {
    let (_, nj, ni) = data.dim();
    let [k, j, i] = at;
    let step = 0.5 * sp[0].min(sp[1]);
    let mut hits = 0;
    for q in 0..N_ENCLOSE_RAYS {
        let t = q as f64 * std::f64::consts::TAU / N_ENCLOSE_RAYS as f64;
        let (dx, dy) = (t.cos() * step, t.sin() * step);
        let mut r = step;
        let mut hit = false;
        while r <= ENCLOSE_MM {
            let n = r / step;
            let (x, y) = (i as f64 + n * dx / sp[0], j as f64 + n * dy / sp[1]);
            if x < 0.0 || y < 0.0 {
                break;
            }
            let (xi, yi) = (x.round() as usize, y.round() as usize);
            if xi >= ni || yi >= nj {
                break;
            }
            if data[[k, yi, xi]] >= BONE_MIN_HU {
                hit = true;
                break;
            }
            r += step;
        }
        if hit {
            hits += 1;
        } else if q + 1 - hits > N_ENCLOSE_RAYS - ENCLOSED_RAYS {
            // Too many rays already escaped.
            return false;
        }
    }
    hits >= ENCLOSED_RAYS
}

/// Euclidean distance transform (mm) of `mask` with the grid's first and last slices
/// extended outwards: a structure cut by the end of the series is not thinner for it.
fn edt_open_ends(mask: &Array3<bool>, sp_kji: [f64; 3]) -> Array3<f32> {
    let (nk, nj, ni) = mask.dim();
    if nk == 0 {
        return Array3::zeros(mask.dim());
    }
    let pad = (LARGE_STRUCTURE_MM / sp_kji[0].max(1e-3)).ceil() as usize + 1;
    let padded = Array3::from_shape_fn((nk + 2 * pad, nj, ni), |(k, j, i)| {
        mask[[k.saturating_sub(pad).min(nk - 1), j, i]]
    });
    morph::edt_mm(&padded, sp_kji)
        .slice(ndarray::s![pad..pad + nk, .., ..])
        .to_owned()
}

/// Voxel lists of vertical vessel runs in the components marked `of`: per slice, the 2D
/// blobs that are a vessel's cross-section (at most [`LARGE_STRUCTURE_MM`] across and
/// the area of that circle), joined across slices.
fn vertical_runs(labels: &Array3<u32>, of: &[bool], sp: [f64; 3]) -> Vec<Vec<[usize; 3]>> {
    let (nk, nj, ni) = labels.dim();
    let max_area = std::f64::consts::PI * (0.5 * LARGE_STRUCTURE_MM).powi(2);
    let mut compact = Array3::from_elem((nk, nj, ni), false);
    for k in 0..nk {
        let sl = ndarray::Zip::from(labels.index_axis(ndarray::Axis(0), k))
            .map_collect(|&l| of.get(l as usize).copied().unwrap_or(false));
        if !sl.iter().any(|&b| b) {
            continue;
        }
        let (l2, sz2) = morph::label_components(&sl.insert_axis(ndarray::Axis(0)));
        let n2 = sz2.len();
        let (mut jlo, mut jhi, mut ilo, mut ihi) = (
            vec![usize::MAX; n2],
            vec![0; n2],
            vec![usize::MAX; n2],
            vec![0; n2],
        );
        for ((_, j, i), &l) in l2.indexed_iter() {
            let l = l as usize;
            if l > 0 {
                jlo[l] = jlo[l].min(j);
                jhi[l] = jhi[l].max(j);
                ilo[l] = ilo[l].min(i);
                ihi[l] = ihi[l].max(i);
            }
        }
        let ok: Vec<bool> = (0..n2)
            .map(|l| {
                l > 0
                    && sz2[l] as f64 * sp[0] * sp[1] <= max_area
                    && ((jhi[l] - jlo[l] + 1) as f64 * sp[1]).max((ihi[l] - ilo[l] + 1) as f64 * sp[0])
                        <= LARGE_STRUCTURE_MM
            })
            .collect();
        for ((_, j, i), &l) in l2.indexed_iter() {
            if ok[l as usize] {
                compact[[k, j, i]] = true;
            }
        }
    }
    let (runs, sizes) = morph::label_components(&compact);
    let mut out: Vec<Vec<[usize; 3]>> = vec![Vec::new(); sizes.len()];
    for ((k, j, i), &l) in runs.indexed_iter() {
        let l = l as usize;
        if l > 0 && sizes[l] >= MIN_COMPONENT_VOXELS {
            out[l].push([k, j, i]);
        }
    }
    out.retain(|v| !v.is_empty());
    out
}

/// Vertical for a run, across for a component ([`vein_name`]'s first tests).
fn course_possible(ext: &Vector3<f64>, run: bool) -> bool {
    if run {
        ext.z > VERTICAL_ELONGATION * ext.x.max(ext.y)
    } else {
        ext.z < ext.x.max(ext.y)
    }
}

/// The named pathway a vessel follows, from its course (module docs, step 5).
/// `ext` is its extent, `to_column` the median in-plane distance of its voxels to the
/// vertebral column, `front_y` the column's anterior surface, `sy` the spine centre;
/// `run`: a run of compact cross-sections (vertical veins are named from those only),
/// else a whole component (veins running across).
fn vein_name(
    cen: &Vector3<f64>,
    ext: &Vector3<f64>,
    to_column: f64,
    sx: f64,
    front_y: f64,
    sy: f64,
    run: bool,
) -> Option<&'static str> {
    let vertical = run && course_possible(ext, run);
    let across = !run && course_possible(ext, run);
    let right = cen.x < sx;
    let paravertebral = to_column <= PARAVERTEBRAL_MM;
    if vertical && paravertebral && cen.y < sy && (cen.x - sx).abs() <= AZYGOS_MAX_FROM_MIDLINE_MM {
        Some(if right { "azygos" } else { "hemiazygos" })
    } else if vertical
        && !paravertebral
        && cen.y < front_y
        && (cen.x - sx).abs() >= GONADAL_MIN_FROM_MIDLINE_MM
    {
        Some(if right { "right_gonadal" } else { "left_gonadal" })
    } else if across && paravertebral && ext.x > LUMBAR_MIN_WIDTH_MM && cen.y < sy {
        // Lumbar veins wrap round the front and sides of the vertebral body; a vessel-like
        // piece behind the spine centre is in the posterior elements (marrow), not one.
        Some("lumbar")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_volume::VolumeMeta;
    use rand::{Rng, SeedableRng};

    /// Pre- and post-contrast volumes on a 2 × 2 × 2.5 mm grid: a vein of diameter `d` mm
    /// (40 → 150 HU) through the centre, tilted `tilt_deg` from the z axis towards x,
    /// in a background going `bg` (pre, post), 4 × 4 × 4 supersampled edges, uniform noise
    /// of SD `noise` HU per phase.
    fn vein(d: f64, tilt_deg: f64, bg: (f32, f32), noise: f32) -> (Volume, Volume) {
        let sp = [2.0, 2.0, 2.5];
        let shape = (40, 40, 40);
        let g = Geometry::axial(Point3::new(-39.0, -39.0, -48.75), sp);
        let (s, c) = tilt_deg.to_radians().sin_cos();
        let axis = Vector3::new(s, 0.0, c);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut pre = Array3::<f32>::zeros(shape);
        let mut post = Array3::<f32>::zeros(shape);
        for ((k, j, i), x) in post.indexed_iter_mut() {
            let mut inside = 0.0;
            for a in 0..4 {
                for b in 0..4 {
                    for e in 0..4 {
                        let f = |t: usize| (t as f64 + 0.5) / 4.0 - 0.5;
                        let p = g.index_to_world([i as f64 + f(a), j as f64 + f(b), k as f64 + f(e)]);
                        let v = p.coords;
                        if (v - axis * v.dot(&axis)).norm() <= d / 2.0 {
                            inside += 1.0 / 64.0;
                        }
                    }
                }
            }
            // Uniform noise of SD `noise`: half-width √3·SD.
            let mut n = || noise * 3f32.sqrt() * (2.0 * rng.random::<f32>() - 1.0);
            *x = inside * 150.0 + (1.0 - inside) * bg.1 + n();
            pre[[k, j, i]] = inside * 40.0 + (1.0 - inside) * bg.0 + n();
        }
        let mk = |a| Volume::new(a, g.clone(), VolumeMeta::default());
        (mk(pre), mk(post))
    }

    fn diameter(d: f64, tilt: f64, bg: (f32, f32), noise: f32) -> f64 {
        let (pre, post) = vein(d, tilt, bg, noise);
        local_diameter(&post, Some(&pre), &Point3::origin(), d / 2.0).expect("diameter")
    }

    #[test]
    fn diameter_of_a_vein_in_fat() {
        for d in [5.0, 9.0, 11.0] {
            let m = diameter(d, 0.0, (-100.0, -100.0), 0.0);
            assert!((m - d).abs() <= 0.5, "{d} mm vein: {m:.2}");
        }
        // With CT noise (12 HU per phase) it stays unbiased.
        let m = diameter(9.0, 0.0, (-100.0, -100.0), 12.0);
        assert!((m - 9.0).abs() <= 0.7, "noisy 9 mm vein: {m:.2}");
    }

    #[test]
    fn diameter_of_a_vein_through_enhancing_liver() {
        // Liver 55 → 110 HU: an outline against the box background would take the liver.
        for d in [7.0, 11.0] {
            let m = diameter(d, 0.0, (55.0, 110.0), 12.0);
            assert!((m - d).abs() <= 0.8, "{d} mm vein in liver: {m:.2}");
        }
    }

    #[test]
    fn diameter_of_an_oblique_vein() {
        let m = diameter(8.0, 35.0, (-100.0, -100.0), 0.0);
        assert!((m - 8.0).abs() <= 0.6, "8 mm vein tilted 35°: {m:.2}");
    }

    #[test]
    fn marrow_is_enclosed_by_bone_a_vein_beside_it_is_not() {
        // A 40 mm vertebral body (200 HU marrow, 1.5 mm cortex at 600 HU) at the centre
        // of a 1 mm grid, and a 140 HU vein 8 mm beside it in fat.
        let n = 100;
        let mut d = Array3::<f32>::from_elem((1, n, n), -100.0);
        for ((_, j, i), x) in d.indexed_iter_mut() {
            let r = ((i as f64 - 50.0).powi(2) + (j as f64 - 50.0).powi(2)).sqrt();
            if r <= 20.0 {
                *x = if r >= 18.5 { 600.0 } else { 200.0 };
            }
            let rv = ((i as f64 - 78.0).powi(2) + (j as f64 - 50.0).powi(2)).sqrt();
            if rv <= 4.0 {
                *x = 140.0;
            }
        }
        let sp = [1.0, 1.0, 3.0];
        assert!(enclosed_by_bone(&d, [0, 50, 50], sp));
        assert!(enclosed_by_bone(&d, [0, 40, 60], sp));
        assert!(!enclosed_by_bone(&d, [0, 50, 78], sp));
    }

    #[test]
    fn names_follow_the_course() {
        // Spine at x = 0, y = 50, vertebral bodies' front at y = 33.
        let n = |c: [f64; 3], e: [f64; 3], to: f64, run: bool| {
            vein_name(&Vector3::from(c), &Vector3::from(e), to, 0.0, 33.0, 50.0, run)
        };
        assert_eq!(
            n([-15.0, 30.0, 0.0], [10.0, 10.0, 120.0], 8.0, true),
            Some("azygos")
        );
        assert_eq!(
            n([22.0, 34.0, 0.0], [8.0, 8.0, 120.0], 8.0, true),
            Some("hemiazygos")
        );
        assert_eq!(
            n([-42.0, 0.0, 0.0], [8.0, 8.0, 80.0], 40.0, true),
            Some("right_gonadal")
        );
        assert_eq!(
            n([0.0, 43.0, 0.0], [100.0, 35.0, 5.0], 9.0, false),
            Some("lumbar")
        );
        // A renal vein: across, far from the column; a vertical piece as a component.
        assert_eq!(n([-40.0, 25.0, 0.0], [30.0, 30.0, 10.0], 30.0, false), None);
        assert_eq!(n([-15.0, 30.0, 0.0], [10.0, 10.0, 120.0], 8.0, false), None);
        // Behind the spine centre (canal, laminae side): not the azygos, not a lumbar vein.
        assert_eq!(n([-15.0, 70.0, 0.0], [10.0, 10.0, 120.0], 8.0, true), None);
        assert_eq!(n([0.0, 62.0, 0.0], [60.0, 50.0, 10.0], 1.0, false), None);
    }
}
