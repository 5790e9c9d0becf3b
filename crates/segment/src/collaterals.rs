//! Venous collaterals: enlarged veins in the paravertebral and retroperitoneal space
//! (azygos, hemiazygos, lumbar, gonadal), measured on a post-contrast phase.
//!
//! 1. The spine is found on the CT (bone ≥ 250 HU near the body midline) or, on MRI,
//!    placed from the body outline; the analysed box spans ±90 mm across and from 90 mm in
//!    front of it to 35 mm behind it, over every slice.
//! 2. Enhanced voxels (CT 100–300 HU; MRI above the midpoint of the box's median and
//!    99.5th percentile) that enhanced against the baseline phase form components.
//!    Components wider than 12.5 mm anywhere (aorta,
//!    IVC, kidneys, liver, spleen, bone) are large structures, not collaterals, and are
//!    dropped with everything connected to them (renal veins, iliac arteries). The IVC
//!    model and the mass (grown by a voxel) and the spinal canal zone are cut out first.
//! 3. The rest must be tubular: multi-scale Frangi vesselness (σ for 2–12 mm vessels) at
//!    least [`MIN_VESSELNESS`] somewhere in the component.
//! 4. Diameter of each component: twice the largest inscribed radius of its half-maximum
//!    outline on a 0.5 mm resampled grid, minus the grid step (the distance transform's
//!    half-voxel bias at each side). The outline is drawn on the enhancement (post − pre)
//!    when the baseline phase exists, else on the values against the box background.
//! 5. Names by position relative to the spine and the renal-vein level: azygos (right,
//!    in front of the spine, running craniocaudally), hemiazygos (left, same), lumbar
//!    (running across, beside the vertebral body), gonadal (craniocaudal, anterolateral,
//!    below the renal veins).
//!
//! `max_diameter_mm`, `count` and `volume_ml` cover the named pathways only.
//!
//! There is no published cut-off for lumbar or hemiazygos enlargement (research brief
//! §1b): the diameters are reported and the `features` thresholds decide.

use crate::model::{Collaterals, IvcModel, MassModel, NamedVein, PhaseInfo, Role};
use crate::morph;
use crate::stack::{crop_box_xyz, sample_on};
use crate::vesselness::{sigmas_for_diameters, vesselness, VesselnessParams};
use cavascope_volume::{Geometry, Point3, Vector3, Volume};
use ndarray::Array3;

/// Enhanced vessel on portal-venous CT, HU (blood pool 130–200 HU; enhancing parenchyma
/// stays mostly lower, bone higher).
pub const VESSEL_MIN_HU: f32 = 100.0;
pub const VESSEL_MAX_HU: f32 = 300.0;
/// A vessel enhances: portal-venous minus unenhanced ≥ 60 HU on CT (venous blood goes
/// from ~40 to 130–200 HU), or +50 % signal on T1 MRI.
pub const VESSEL_MIN_ENHANCEMENT_HU: f32 = 60.0;
pub const VESSEL_MIN_ENHANCEMENT_MR: f32 = 0.5;
/// Bone on CT, HU (locating the spine).
pub const BONE_MIN_HU: f32 = 250.0;
/// A component wider than this (mm) is a large structure, not a collateral.
pub const LARGE_STRUCTURE_MM: f64 = 12.5;
/// Smallest Frangi response (image units after σ² normalisation) of a tubular component.
pub const MIN_VESSELNESS: f32 = 5.0;
/// Collateral diameter counted as enlarged, mm (gonadal vein ≥ 6 mm, PMC6445463; no
/// published value for the others — the same default is used).
pub const ENLARGED_MM: f64 = 6.0;
/// Half-width of the spinal canal / laminae zone behind the vertebral centre, mm.
const SPINAL_CANAL_HALF_MM: f64 = 25.0;
/// A collateral segment is at least this long, mm.
pub const MIN_LENGTH_MM: f64 = 15.0;
/// Components smaller than this (voxels) are noise.
const MIN_COMPONENT_VOXELS: usize = 8;
/// Box around the spine, mm.
const BOX_HALF_LR_MM: f64 = 90.0;
const BOX_ANTERIOR_MM: f64 = 90.0;
const BOX_POSTERIOR_MM: f64 = 35.0;

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

/// Spine centre (x, y) in LPS mm at the middle of the volume: centroid of bone near the
/// midline (CT); body-outline based on MRI (80 mm in front of the posterior skin).
pub(crate) fn spine_xy(v: &Volume, ct: bool) -> Option<(f64, f64)> {
    let (lo, hi) = v.geometry.world_bounds(v.shape());
    let zs: Vec<f64> = (1..8).map(|q| lo.z + (hi.z - lo.z) * q as f64 / 8.0).collect();
    let mut body: Vec<(f64, f64, f32)> = Vec::new();
    for &z in &zs {
        let mut x = lo.x;
        while x <= hi.x {
            let mut y = lo.y;
            while y <= hi.y {
                if let Some(s) = v.sample_world(&Point3::new(x, y, z)) {
                    body.push((x, y, s));
                }
                y += 3.0;
            }
            x += 3.0;
        }
    }
    if body.is_empty() {
        return None;
    }
    let body_thr = if ct {
        -300.0
    } else {
        let mut s: Vec<f32> = body.iter().map(|b| b.2).collect();
        s.sort_by(|a, b| a.total_cmp(b));
        0.1 * s[(s.len() - 1) * 99 / 100]
    };
    let inside: Vec<&(f64, f64, f32)> = body.iter().filter(|b| b.2 > body_thr).collect();
    if inside.is_empty() {
        return None;
    }
    let mid_x = inside.iter().map(|b| b.0).sum::<f64>() / inside.len() as f64;
    if ct {
        let bone: Vec<&&(f64, f64, f32)> = inside
            .iter()
            .filter(|b| b.2 >= BONE_MIN_HU && (b.0 - mid_x).abs() < 30.0)
            .collect();
        if bone.len() >= 5 {
            let x = bone.iter().map(|b| b.0).sum::<f64>() / bone.len() as f64;
            let y = bone.iter().map(|b| b.1).sum::<f64>() / bone.len() as f64;
            return Some((x, y));
        }
    }
    let post_y = inside.iter().map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
    Some((mid_x, post_y - 80.0))
}

/// Diameter (mm) of the vessel around `peak` by the half-maximum outline on a fine grid.
/// With a baseline phase the outline is drawn on the enhancement (post − pre), which is
/// zero for every non-enhancing neighbour (fat, muscle barely), so it is the vessel's own
/// full width at half maximum; without one, on the post-contrast values against `bg`.
fn local_diameter(
    v: &Volume,
    base: Option<&Volume>,
    peak: &Point3<f64>,
    peak_value: f32,
    bg: f32,
) -> Option<f64> {
    let h = 0.5;
    let half = 12.0;
    let n = (2.0 * half / h) as usize + 1;
    let origin = peak - Vector3::new(half, half, half);
    let g = Geometry::axial(origin, [h, h, h]);
    let mut data = sample_on(v, &g, [n, n, n], &Vector3::zeros());
    let thr = match base {
        Some(b) => {
            let pre = sample_on(b, &g, [n, n, n], &Vector3::zeros());
            ndarray::Zip::from(&mut data).and(&pre).for_each(|x, &p| *x -= p);
            // Peak enhancement within 2 mm of the centre.
            let c = (n / 2) as i64;
            let r = (2.0 / h) as i64;
            let mut pk = f32::MIN;
            for dk in -r..=r {
                for dj in -r..=r {
                    for di in -r..=r {
                        let q = [(c + dk) as usize, (c + dj) as usize, (c + di) as usize];
                        let x = data[q];
                        if x.is_finite() {
                            pk = pk.max(x);
                        }
                    }
                }
            }
            if pk <= 0.0 {
                return None;
            }
            0.5 * pk
        }
        None => 0.5 * (peak_value + bg),
    };
    let m = data.mapv(|x| x.is_finite() && x >= thr);
    let c = n / 2;
    let comp = morph::component_containing(&m, [c, c, c]);
    if !comp.iter().any(|&b| b) {
        return None;
    }
    let d = morph::edt_mm(&comp, [h, h, h]);
    let r = d.iter().copied().fold(0.0f32, f32::max) as f64;
    Some((2.0 * r - h).max(0.0))
}

/// Measure enlarged collateral veins (module docs).
pub fn measure_collaterals(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    ivc: Option<&IvcModel>,
    mass: Option<&MassModel>,
) -> (Option<Collaterals>, Vec<String>) {
    let mut w = Vec::new();
    let Some((vi, ct)) = post_contrast(phases) else {
        w.push("collaterals: no post-contrast series; not assessed".into());
        return (None, w);
    };
    let v = &volumes[vi];
    let Some((sx, sy)) = spine_xy(v, ct) else {
        w.push("collaterals: body / spine not found; not assessed".into());
        return (None, w);
    };
    let (lo, hi) = v.geometry.world_bounds(v.shape());
    let zc = 0.5 * (lo.z + hi.z);
    let cy = sy - 0.5 * (BOX_ANTERIOR_MM - BOX_POSTERIOR_MM);
    // The box itself plus a margin for the vesselness kernels (3σ of the largest scale),
    // not a cube around it: the vesselness below costs per voxel.
    let margin = 15.0;
    let half = Vector3::new(
        BOX_HALF_LR_MM + margin,
        0.5 * (BOX_ANTERIOR_MM + BOX_POSTERIOR_MM) + margin,
        0.5 * (hi.z - lo.z) + 5.0,
    );
    let Some((geom, shape, _)) = crop_box_xyz(v, &Point3::new(sx, cy, zc), half) else {
        w.push("collaterals: the paravertebral box lies outside the series".into());
        return (None, w);
    };
    let data = sample_on(v, &geom, shape, &Vector3::zeros());
    let world = |k: usize, j: usize, i: usize| geom.index_to_world([i as f64, j as f64, k as f64]);
    let in_box = |p: &Point3<f64>| {
        (p.x - sx).abs() <= BOX_HALF_LR_MM && p.y >= sy - BOX_ANTERIOR_MM && p.y <= sy + BOX_POSTERIOR_MM
    };
    let (vmin, vmax) = if ct {
        (VESSEL_MIN_HU, VESSEL_MAX_HU)
    } else {
        let mut s: Vec<f32> = data.iter().copied().filter(|x| x.is_finite()).collect();
        if s.is_empty() {
            return (None, w);
        }
        s.sort_by(|a, b| a.total_cmp(b));
        let med = s[s.len() / 2];
        let p995 = s[(s.len() - 1) * 995 / 1000];
        (0.5 * (med + p995), f32::INFINITY)
    };
    // Bone and its partial-volume rim are not vessels: with a baseline phase, a vessel
    // must have enhanced; without one, the voxel next to dense bone is dropped.
    let base_role = if ct { Role::CtUnenhanced } else { Role::MrT1Pre };
    let base_vol = phases
        .iter()
        .find(|p| p.role == base_role)
        .and_then(|p| volumes.get(p.volume_index));
    let base = base_vol.map(|b| sample_on(b, &geom, shape, &Vector3::zeros()));
    let dense = morph::dilate(&data.mapv(|x| x.is_finite() && x > vmax), 1);
    let bright = ndarray::Zip::indexed(&data)
        .and(&dense)
        .map_collect(|(k, j, i), &x, &d| {
            let enhanced = match &base {
                Some(b) => {
                    let b0 = b[[k, j, i]];
                    b0.is_finite()
                        && if ct {
                            x - b0 >= VESSEL_MIN_ENHANCEMENT_HU
                        } else {
                            x >= b0 * (1.0 + VESSEL_MIN_ENHANCEMENT_MR)
                        }
                }
                None => !d,
            };
            enhanced && x.is_finite() && x >= vmin && x <= vmax && in_box(&world(k, j, i))
        });
    // The IVC and the mass (each grown by a voxel) are cut out; their tributaries' stumps
    // then stand alone and are judged like any vessel. The spinal canal and laminae
    // (bone/CSF partial volume mimics enhancement there) are left out too.
    let mut excl = Array3::from_elem(bright.dim(), false);
    for m in [ivc.map(|i| &i.mask), mass.map(|m| &m.mask)]
        .into_iter()
        .flatten()
    {
        let r = m.resample_onto(&geom, shape);
        let d = morph::dilate(&r.data, 1);
        ndarray::Zip::from(&mut excl).and(&d).for_each(|e, &b| *e |= b);
    }
    if ivc.is_none() {
        w.push("collaterals: no IVC model, so IVC tributaries are only excluded by their size".into());
    }
    let bright = ndarray::Zip::indexed(&bright)
        .and(&excl)
        .map_collect(|(k, j, i), &b, &e| {
            let p = world(k, j, i);
            let canal = (p.x - sx).abs() < SPINAL_CANAL_HALF_MM && p.y > sy + 5.0;
            b && !e && !canal
        });
    let sp = geom.spacing();
    let sp_kji = [sp[2], sp[1], sp[0]];
    // Components wider than LARGE_STRUCTURE_MM anywhere (aorta, kidneys, spleen, liver,
    // bone) are large structures and go with everything connected to them (renal veins,
    // iliac arteries).
    let (labels, sizes) = morph::label_components(&bright);
    let edt = morph::edt_mm(&bright, sp_kji);
    let nl = sizes.len();
    let mut too_big = vec![false; nl];
    for (&l, &d) in labels.iter().zip(edt.iter()) {
        let l = l as usize;
        if l > 0 && 2.0 * d as f64 > LARGE_STRUCTURE_MM {
            too_big[l] = true;
        }
    }
    let keep: Vec<bool> = (0..nl)
        .map(|l| l > 0 && sizes[l] >= MIN_COMPONENT_VOXELS && !too_big[l])
        .collect();
    if !keep.iter().any(|&k| k) {
        return (
            Some(Collaterals {
                volume_ml: Some(0.0),
                max_diameter_mm: None,
                veins: Vec::new(),
                count: Some(0),
            }),
            w,
        );
    }
    let params = VesselnessParams {
        sigmas_mm: sigmas_for_diameters(2.0, 12.0, 6),
        bright: true,
        ..Default::default()
    };
    let ves = vesselness(&data.mapv(|x| if x.is_finite() { x } else { 0.0 }), sp, &params);

    // Per component: peak vesselness voxel, extents, peak value.
    struct Comp {
        best_v: f32,
        peak: [usize; 3],
        peak_val: f32,
        lo: Point3<f64>,
        hi: Point3<f64>,
        sum: Vector3<f64>,
        n: usize,
    }
    let mut comps: Vec<Option<Comp>> = (0..nl).map(|_| None).collect();
    for ((k, j, i), &l) in labels.indexed_iter() {
        let l = l as usize;
        if l == 0 || !keep[l] {
            continue;
        }
        let p = world(k, j, i);
        let vv = ves.response[[k, j, i]];
        let val = data[[k, j, i]];
        let c = comps[l].get_or_insert(Comp {
            best_v: f32::MIN,
            peak: [k, j, i],
            peak_val: val,
            lo: p,
            hi: p,
            sum: Vector3::zeros(),
            n: 0,
        });
        if vv > c.best_v {
            c.best_v = vv;
            c.peak = [k, j, i];
        }
        c.peak_val = c.peak_val.max(val);
        for a in 0..3 {
            c.lo[a] = c.lo[a].min(p[a]);
            c.hi[a] = c.hi[a].max(p[a]);
        }
        c.sum += p.coords;
        c.n += 1;
    }
    // Background: the box's median of non-bright soft tissue / fat (CT) or signal.
    let bg = {
        let mut s: Vec<f32> = data
            .iter()
            .zip(bright.iter())
            .filter(|(x, &b)| !b && x.is_finite())
            .map(|(&x, _)| x)
            .collect();
        if s.is_empty() {
            0.0
        } else {
            let mid = s.len() / 2;
            *s.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1
        }
    };
    let vox_ml = geom.voxel_volume_mm3() / 1000.0;
    let mut veins: Vec<NamedVein> = Vec::new();
    let (mut max_d, mut n_enl, mut vol) = (None::<f64>, 0usize, 0.0f64);
    for c in comps.into_iter().flatten() {
        if c.best_v < MIN_VESSELNESS {
            if std::env::var("CAVASCOPE_DEBUG_COLLATERALS").is_ok() {
                eprintln!("dropped: vesselness {} n {}", c.best_v, c.n);
            }
            continue;
        }
        let peak_w = world(c.peak[0], c.peak[1], c.peak[2]);
        // The lumen value: the brightest voxel of the component near the peak of tubularity.
        let Some(d) = local_diameter(v, base_vol, &peak_w, c.peak_val, bg) else {
            continue;
        };
        // Vessels are long: at least 15 mm and twice their width.
        let length = (c.hi - c.lo).norm();
        if d > LARGE_STRUCTURE_MM || length < MIN_LENGTH_MM.max(2.0 * d) {
            continue;
        }
        if std::env::var("CAVASCOPE_DEBUG_COLLATERALS").is_ok() {
            let cen = c.sum / c.n as f64;
            eprintln!(
                "component n={} centre ({:.0},{:.0},{:.0}) ext {:.0?} d {d:.1} v {:.1} peak {:.0} bg {bg:.0}",
                c.n,
                cen.x,
                cen.y,
                cen.z,
                (c.hi - c.lo).as_slice(),
                c.best_v,
                c.peak_val
            );
        }
        let cen = c.sum / c.n as f64;
        let ext = c.hi - c.lo;
        let vertical = ext.z > 1.5 * ext.x.max(ext.y);
        let name = if vertical && cen.y < sy && cen.y > sy - 45.0 && (cen.x - sx).abs() < 40.0 {
            if cen.x < sx {
                Some("azygos")
            } else {
                Some("hemiazygos")
            }
        } else if vertical && cen.y <= sy - 45.0 {
            if cen.x < sx {
                Some("right_gonadal")
            } else {
                Some("left_gonadal")
            }
        } else if !vertical && ext.x > 20.0 {
            Some("lumbar")
        } else {
            None
        };
        // Only vessels on a named collateral pathway count: an unnamed tubular piece is
        // as likely a stump of a large vessel as a collateral.
        if let Some(n) = name {
            max_d = Some(max_d.map_or(d, |m: f64| m.max(d)));
            if d >= ENLARGED_MM {
                n_enl += 1;
                vol += c.n as f64 * vox_ml;
            }
            match veins.iter_mut().find(|x| x.name == n) {
                Some(x) => x.diameter_mm = Some(x.diameter_mm.map_or(d, |o| o.max(d))),
                None => veins.push(NamedVein {
                    name: n.to_string(),
                    diameter_mm: Some(d),
                }),
            }
        }
    }
    (
        Some(Collaterals {
            volume_ml: Some(vol),
            max_diameter_mm: max_d,
            veins,
            count: Some(n_enl),
        }),
        w,
    )
}
