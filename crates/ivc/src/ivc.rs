//! The IVC model from one of three sources — `auto` (detection and tracking, see
//! [`crate::track`]), `seed` (`--ivc-seed` starts the tracking) or `mask` (`--ivc-mask`,
//! read by `cavascope_ingest::labelmap`) — measured the same way whatever the source: the mask as a
//! continuous occupancy field, a centreline from its axial centres (smoothed, re-centred
//! on the perpendicular sections once, every 1 mm), perpendicular sections with
//! rotation-minimising frames ([`crate::calibre`], [`crate::centreline`]), lumen
//! visibility ([`crate::lumen`]), landmarks and segment labels ([`crate::landmarks`]).
//!
//! ```no_run
//! use cavascope_ivc::build_ivc;
//! use cavascope_measurements::SegmentOptions;
//! # let volumes: Vec<cavascope_volume::Volume> = vec![];
//! # let phases = vec![];
//! let out = build_ivc(&volumes, &phases, &SegmentOptions::default());
//! if let Some(m) = &out.model {
//!     println!("{} sections, max CE diameter {:?}", m.profile.len(), m.max_equivalent_diameter_mm);
//! }
//! ```

use crate::calibre::{measure_section, FractionField, Plane, SectionShape};
use crate::centreline::{axial_centres, parallel_transport, smooth_resample, tangents};
use crate::model::{IvcModel, Landmarks, PhaseInfo, Quality, Role, Section, SegmentOptions, Source};
use crate::params::profile::*;
use crate::track::{self, PhaseInput, Tracker};
use crate::{landmarks, lumen};
use cavascope_volume::{Geometry, Mask, Point3, Vector3, Volume};
use ndarray::Array3;
use rayon::prelude::*;

/// What [`build_ivc`] returns.
pub struct IvcOutcome {
    /// The measured IVC, `None` when it could not be found or measured.
    pub model: Option<IvcModel>,
    /// Hepatic-vein confluence and renal-vein inflow found along it.
    pub landmarks: Landmarks,
    /// What could not be done, and why.
    pub warnings: Vec<String>,
    /// Blood pool, contrast and coverage of the model (the `Quality` IVC fields).
    pub quality: Quality,
}

pub use crate::params::profile::EXPECTED_IVC_LENGTH_MM;

/// Coverage of the IVC's expected course: its z extent over the expected length within
/// the series' z range (the whole range when shorter than [`EXPECTED_IVC_LENGTH_MM`]).
pub fn coverage(ivc_z: [f64; 2], series_z: [f64; 2]) -> (f64, f64) {
    let fov = (series_z[1] - series_z[0]).abs();
    // `fov` is finite (world bounds); at least 1 mm so a one-slice series divides safely.
    let expected = fov.clamp(1.0, EXPECTED_IVC_LENGTH_MM);
    let got = (ivc_z[1] - ivc_z[0]).abs();
    (expected, (got / expected).min(1.0))
}

/// Venous-phase preference for the reference series.
const REFERENCE_ROLES: [Role; 6] = [
    Role::CtPortalVenous,
    Role::MrT1PortalVenous,
    Role::CtDelayed,
    Role::MrT1Delayed,
    Role::CtArterial,
    Role::MrT1Arterial,
];

/// One measured section with its geometry.
pub struct ProfileSection {
    /// Arc length along the centreline, mm.
    pub s_mm: f64,
    /// Centreline point, LPS mm.
    pub centre: Point3<f64>,
    /// Unit centreline tangent.
    pub tangent: Vector3<f64>,
    /// The section's outline measures.
    pub shape: SectionShape,
}

/// Centreline and perpendicular sections of a tubular field running roughly along z.
/// Sections within `trim_mm` of either end are dropped (their planes leave the tube
/// through its cut ends).
pub fn measure_profile(field: &FractionField, trim_mm: f64) -> Vec<ProfileSection> {
    let sp = field.geometry().spacing();
    let pixel = sp[0].min(sp[1]).clamp(CENTRES_PIXEL_MIN_MM, CENTRES_PIXEL_MAX_MM);
    let raw = axial_centres(field, SECTION_STEP_MM, pixel);
    if raw.len() < MIN_SECTIONS {
        return Vec::new();
    }
    let mut cl = smooth_resample(&raw, CENTRELINE_SIGMA_MM, SECTION_STEP_MM);
    // One re-centring pass: axial centroids of a tilted tube lie on its axis, but
    // branches and the sway bias them slightly; section centroids do not.
    let first = sections(field, &cl);
    let moved: Vec<Point3<f64>> = cl
        .iter()
        .zip(&first)
        .map(|(p, s)| s.as_ref().map(|s| s.shape.centroid).unwrap_or(*p))
        .collect();
    cl = smooth_resample(&moved, CENTRELINE_SIGMA_MM, SECTION_STEP_MM);
    let secs = sections(field, &cl);
    let n = secs.len();
    let mut out: Vec<ProfileSection> = Vec::with_capacity(n);
    let total = if n > 0 { (n - 1) as f64 } else { 0.0 };
    for s in secs.into_iter().flatten() {
        if s.s_mm >= trim_mm && total - s.s_mm >= trim_mm {
            out.push(s);
        }
    }
    out
}

fn sections(field: &FractionField, cl: &[Point3<f64>]) -> Vec<Option<ProfileSection>> {
    let t = tangents(cl);
    let frames = parallel_transport(cl, &t, -Vector3::y());
    let mut s_acc = vec![0.0; cl.len()];
    for i in 1..cl.len() {
        s_acc[i] = s_acc[i - 1] + (cl[i] - cl[i - 1]).norm();
    }
    (0..cl.len())
        .into_par_iter()
        .map(|i| {
            let plane = Plane {
                center: cl[i],
                normal: t[i],
                u: frames[i].0,
                v: frames[i].1,
            };
            measure_section(field, &plane, SECTION_SEARCH_MM).map(|shape| ProfileSection {
                s_mm: s_acc[i],
                centre: cl[i],
                tangent: t[i],
                shape,
            })
        })
        .collect()
}

/// Nearest-neighbour transfer of a field's 0.5 level onto another grid (only the
/// field's bounding box is visited).
pub fn field_to_mask(field: &FractionField, geometry: &Geometry, shape: [usize; 3]) -> Mask {
    let mut data = Array3::from_elem((shape[0], shape[1], shape[2]), false);
    let (lo, hi) = field.world_bounds();
    let mut ilo = [f64::INFINITY; 3];
    let mut ihi = [f64::NEG_INFINITY; 3];
    for x in [lo.x, hi.x] {
        for y in [lo.y, hi.y] {
            for z in [lo.z, hi.z] {
                let idx = geometry.world_to_index(&Point3::new(x, y, z));
                for a in 0..3 {
                    ilo[a] = ilo[a].min(idx[a]);
                    ihi[a] = ihi[a].max(idx[a]);
                }
            }
        }
    }
    let clampi = |v: f64, n: usize| -> usize { v.clamp(0.0, n as f64 - 1.0) as usize };
    let (i0, i1) = (clampi(ilo[0].floor(), shape[2]), clampi(ihi[0].ceil(), shape[2]));
    let (j0, j1) = (clampi(ilo[1].floor(), shape[1]), clampi(ihi[1].ceil(), shape[1]));
    let (k0, k1) = (clampi(ilo[2].floor(), shape[0]), clampi(ihi[2].ceil(), shape[0]));
    if shape.iter().all(|&n| n > 0) && ilo.iter().all(|v| v.is_finite()) {
        data.axis_iter_mut(ndarray::Axis(0))
            .into_par_iter()
            .enumerate()
            .filter(|(k, _)| *k >= k0 && *k <= k1)
            .for_each(|(k, mut plane)| {
                for j in j0..=j1 {
                    for i in i0..=i1 {
                        let p = geometry.index_to_world([i as f64, j as f64, k as f64]);
                        if field.sample(&p) >= 0.5 {
                            plane[[j, i]] = true;
                        }
                    }
                }
            });
    }
    Mask::new(data, geometry.clone())
}

fn role_index(phases: &[PhaseInfo], role: Role, n: usize) -> Option<usize> {
    phases
        .iter()
        .find(|p| p.role == role && p.volume_index < n)
        .map(|p| p.volume_index)
}

/// Whether a track from an anatomical candidate can be the IVC (params: calibre, its
/// spread, length).
fn plausible_ivc_track(c: &[track::Contour]) -> Result<(), String> {
    use crate::params::anatomical::*;
    let len = c.last().map(|l| l.z).unwrap_or(0.0) - c.first().map(|f| f.z).unwrap_or(0.0);
    let mut d: Vec<f64> = c
        .iter()
        .map(|k| 2.0 * (k.area() / std::f64::consts::PI).sqrt())
        .filter(|v| v.is_finite())
        .collect();
    if d.is_empty() || len < TRACK_MIN_LENGTH_MM {
        return Err(format!("{len:.0} mm long"));
    }
    d.sort_by(f64::total_cmp);
    // Upper median, as the percentiles below: index by rank in the sorted list.
    let med = d[d.len() / 2];
    if !(TRACK_MIN_MEDIAN_DIAMETER_MM..=TRACK_MAX_MEDIAN_DIAMETER_MM).contains(&med) {
        return Err(format!("median diameter {med:.1} mm over {len:.0} mm"));
    }
    let blood = c.iter().filter(|k| k.opacified).count() as f64 / c.len().max(1) as f64;
    if blood < TRACK_MIN_BLOOD_FRACTION {
        return Err(format!(
            "blood like its start's at the centre of only {:.0} % of its planes over {len:.0} mm: not a vein",
            100.0 * blood
        ));
    }
    let (p10, p90) = (d[d.len() / 10], d[(9 * d.len()) / 10]);
    if p90 > TRACK_MAX_CALIBRE_SPREAD * p10 {
        return Err(format!(
            "calibre {p10:.1}–{p90:.1} mm (10th–90th percentile) over {len:.0} mm: not one vein's"
        ));
    }
    Ok(())
}

/// Where tracking starts: the seed given, or the candidates found automatically.
struct Seeds {
    source: Source,
    /// Best first.
    points: Vec<Point3<f64>>,
    /// Found by anatomy (no opacified blood pool): each must track as the IVC.
    by_anatomy: bool,
    /// Why the anatomical search found nothing, when it ran.
    anatomy_why: Option<String>,
}

/// The seed given, else candidates from the opacified blood pool on `refv`, else by
/// anatomy.
fn seed_candidates(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    opts: &SegmentOptions,
    refv: &Volume,
    is_ct: bool,
) -> Seeds {
    let n = volumes.len();
    let mut anatomy_why: Option<String> = None;
    let mut by_anatomy = false;
    let (source, points) = match opts.ivc_seed {
        Some(s) => (Source::Seed, vec![s]),
        None => {
            let pre =
                role_index(phases, Role::CtUnenhanced, n).or_else(|| role_index(phases, Role::MrT1Pre, n));
            let mut seeds = track::locate_candidates(refv, pre.map(|i| &volumes[i]), is_ct);
            if seeds.is_empty() {
                // No opacified blood pool: look for the vein by its anatomy instead
                // (any phase, native CT and MR included); the tracker verifies it.
                match crate::anatomical::locate_by_anatomy(refv, is_ct) {
                    Ok(s) => {
                        seeds = s;
                        by_anatomy = true;
                    }
                    Err(why) => anatomy_why = Some(why),
                }
            }
            (Source::Auto, seeds)
        }
    };
    Seeds {
        source,
        points,
        by_anatomy,
        anatomy_why,
    }
}

/// A tracker on the reference phase, every other phase of the same kind joining it.
fn tracker_for<'a>(
    volumes: &'a [Volume],
    phases: &[PhaseInfo],
    ref_idx: usize,
    is_ct: bool,
) -> Option<Tracker<'a>> {
    let n = volumes.len();
    let refv = &volumes[ref_idx];
    // Every other phase of the same kind (CT phases, or T1 phases) joins the edge
    // search where the lumen is not opacified.
    let same_kind = |r: Role| {
        if is_ct {
            matches!(
                r,
                Role::CtUnenhanced | Role::CtArterial | Role::CtPortalVenous | Role::CtDelayed
            )
        } else {
            matches!(
                r,
                Role::MrT1Pre | Role::MrT1Arterial | Role::MrT1PortalVenous | Role::MrT1Delayed
            )
        }
    };
    let mut inputs = vec![PhaseInput {
        volume: refv,
        noise: track::noise_sd(refv),
    }];
    for p in phases {
        if p.volume_index != ref_idx && p.volume_index < n && same_kind(p.role) {
            let v = &volumes[p.volume_index];
            inputs.push(PhaseInput {
                volume: v,
                noise: track::noise_sd(v),
            });
        }
    }
    // Phases whose blood value is uniform along the vein (all but the arterial).
    let mut blood_flags = vec![true];
    for p in phases {
        if p.volume_index != ref_idx && p.volume_index < n && same_kind(p.role) {
            blood_flags.push(!matches!(p.role, Role::CtArterial | Role::MrT1Arterial));
        }
    }
    Tracker::new(inputs).map(|t| Tracker {
        free_on_all_phases: !is_ct,
        is_ct,
        ..t.with_blood_phases(&blood_flags)
    })
}

/// Length along z of a track (contours sorted by z), mm.
fn track_length(c: &[track::Contour]) -> f64 {
    c.last().map(|l| l.z).unwrap_or(0.0) - c.first().map(|f| f.z).unwrap_or(0.0)
}

/// What trying the seed candidates gave.
struct Tried {
    /// The longest acceptable track.
    best: Option<Vec<track::Contour>>,
    /// Why anatomical candidates were refused.
    implausible: Vec<String>,
    /// Why candidates in the chest were refused.
    in_chest: Vec<String>,
}

/// Track from each candidate in order, keeping the longest acceptable track; a track of
/// [`GOOD_ENOUGH_TRACK_MM`] ends the search. `check_chest`: refuse a vein with lung beside
/// it (automatic CT).
fn try_seeds(
    tracker: &mut Tracker,
    seeds: &[Point3<f64>],
    by_anatomy: bool,
    check_chest: bool,
    refv: &Volume,
) -> Tried {
    let mut best: Option<Vec<track::Contour>> = None;
    let mut implausible = Vec::new();
    let mut in_chest = Vec::new();
    for seed in seeds {
        if let Some(c) = tracker.track(seed) {
            // An anatomical candidate is only a place to look: its track must be a
            // vein of the IVC's calibre and length, or it is not the IVC.
            if by_anatomy {
                if let Err(why) = plausible_ivc_track(&c) {
                    tracing::debug!(?seed, why, "anatomical candidate rejected");
                    implausible.push(why);
                    continue;
                }
            }
            // Nor is a vein with lung beside it over most of its length.
            if check_chest {
                let sections: Vec<(Point3<f64>, f64)> = c
                    .iter()
                    .map(|k| {
                        (
                            Point3::new(k.cx, k.cy, k.z),
                            2.0 * (k.area() / std::f64::consts::PI).sqrt(),
                        )
                    })
                    .collect();
                if let Err(why) = crate::thorax::below_the_chest(&sections, refv) {
                    tracing::debug!(?seed, why, "candidate in the chest rejected");
                    in_chest.push(why);
                    continue;
                }
            }
            let len = track_length(&c);
            let measured = c
                .iter()
                .filter(|k| k.kind == track::ContourKind::Measured)
                .count();
            let blood_like = c.iter().filter(|k| k.opacified).count();
            tracing::debug!(
                ?seed,
                len,
                measured,
                blood_like,
                n = c.len(),
                "IVC candidate tracked"
            );
            let best_len = best.as_deref().map(track_length).unwrap_or(-1.0);
            if len > best_len {
                best = Some(c);
            }
            if len >= GOOD_ENOUGH_TRACK_MM {
                break;
            }
        }
    }
    Tried {
        best,
        implausible,
        in_chest,
    }
}

/// The track again from the plane whose wall it saw best, kept where it is as long (see
/// [`track_ivc`]); else `contours` unchanged.
fn retrack_from_clearest(tracker: &mut Tracker, contours: Vec<track::Contour>) -> Vec<track::Contour> {
    let clearest = contours
        .iter()
        .filter(|c| c.kind == track::ContourKind::Measured && c.opacified)
        .max_by(|a, b| a.inliers.total_cmp(&b.inliers))
        .map(|c| (c.centroid(), c.z, c.inliers));
    let len_of = track_length;
    if let Some(((gx, gy), z, inl)) = clearest {
        let len = len_of(&contours);
        if let Some(again) = tracker
            .track(&Point3::new(gx, gy, z))
            .filter(|c| plausible_ivc_track(c).is_ok() && len_of(c) >= RETRACK_MIN_LENGTH_FRACTION * len)
        {
            tracing::debug!(
                z,
                inl,
                len = len_of(&again),
                "IVC re-tracked from its clearest plane"
            );
            return again;
        }
    }
    contours
}

/// The level landmarks from branch inflows on the phase the lumen was judged on, with
/// their warnings.
fn find_landmarks(
    profile: &[ProfileSection],
    field: &FractionField,
    volumes: &[Volume],
    lum: &lumen::LumenResult,
) -> (Landmarks, Vec<String>) {
    let zs: Vec<f64> = profile.iter().map(|p| p.centre.z).collect();
    let ss: Vec<f64> = profile.iter().map(|p| p.s_mm).collect();
    match lum.phase {
        Some((vi, _)) => {
            // A branch is as bright as the blood pool: the mean of its samples within a
            // few of its SDs of the reference.
            use crate::params::landmarks::{BRANCH_INDEPENDENT_SAMPLES, BRANCH_MATCH_SDS};
            let thr = match lum.reference {
                Some((r, sd)) => r - BRANCH_MATCH_SDS * sd / BRANCH_INDEPENDENT_SAMPLES.sqrt(),
                None => f32::INFINITY,
            };
            let mut order: Vec<usize> = (0..profile.len()).collect();
            order.sort_by(|&a, &b| zs[a].total_cmp(&zs[b]));
            let centres: Vec<Point3<f64>> = order.iter().map(|&i| profile[i].centre).collect();
            let counts = landmarks::branch_counts(field, &centres, &volumes[vi], thr);
            let z: Vec<f64> = order.iter().map(|&i| zs[i]).collect();
            let s: Vec<f64> = order.iter().map(|&i| ss[i]).collect();
            landmarks::find(&counts, &z, &s)
        }
        None => (
            Landmarks::default(),
            vec!["landmarks not found: no post-contrast phase".to_string()],
        ),
    }
}

/// The report's sections from the measured profile, its lumen visibility and landmarks.
fn sections_of(profile: &[ProfileSection], visible: &[Option<bool>], lm: &Landmarks) -> Vec<Section> {
    profile
        .iter()
        .zip(visible)
        .map(|(p, vis)| Section {
            s_mm: p.s_mm - profile[0].s_mm,
            z_mm: p.centre.z,
            center_mm: [p.centre.x, p.centre.y, p.centre.z],
            tangent: [p.tangent.x, p.tangent.y, p.tangent.z],
            area_mm2: p.shape.area_mm2,
            equivalent_diameter_mm: p.shape.equivalent_diameter_mm,
            min_diameter_mm: p.shape.min_feret_mm,
            max_diameter_mm: p.shape.max_feret_mm,
            ap_diameter_mm: p.shape.ap_mm,
            transverse_diameter_mm: p.shape.transverse_mm,
            flattening_ratio: p.shape.flattening_ratio,
            lumen_visible: *vis,
            segment: landmarks::segment_of(p.centre.z, lm),
        })
        .collect()
}

/// Quality for the `features` gates: contrast in the blood on the phase judged, and how
/// much of the expected course (sections at heights `zs`) the model covers.
fn quality_of(lum: &lumen::LumenResult, zs: &[f64], refv: &Volume, warnings: &mut Vec<String>) -> Quality {
    let mut quality = Quality::default();
    if let (Some((r, _)), Some(role)) = (lum.reference, lum.role) {
        quality.blood_pool_value = Some(f64::from(r));
        if role.as_str().starts_with("ct_") {
            let opacified = r >= lumen::OPACIFIED_BLOOD_MIN_HU;
            quality.blood_opacified = Some(opacified);
            if !opacified {
                warnings.push(format!(
                    "IVC blood measures {r:.0} HU on the {} series: not opacified (from {:.0} HU); lumen and enhancement not judged",
                    role.as_str(),
                    lumen::OPACIFIED_BLOOD_MIN_HU
                ));
            }
        }
    }
    let zmin = zs.iter().copied().fold(f64::INFINITY, f64::min);
    let zmax = zs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (blo, bhi) = refv.geometry.world_bounds(refv.shape());
    let (expected, cov) = coverage([zmin, zmax], [blo.z.min(bhi.z), blo.z.max(bhi.z)]);
    quality.ivc_expected_length_mm = Some(expected);
    quality.ivc_coverage_fraction = Some(cov);
    quality
}

/// The reference (venous) phase the IVC is found and measured on.
struct RefPhase {
    /// The post-contrast phase found by role (volume index, role), if any.
    found: Option<(usize, Role)>,
    /// Its volume index (the first volume without one).
    idx: usize,
    /// Its role ([`Role::Other`] without one).
    role: Role,
    /// CT (else MRI).
    is_ct: bool,
}

/// The field to measure, by source: the `--ivc-mask`, the anatomy context's IVC label, or
/// the vein tracked from a seed or found automatically; `None` with the reason in
/// `warnings`.
fn field_by_source(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    opts: &SegmentOptions,
    refp: &RefPhase,
    warnings: &mut Vec<String>,
) -> Option<(Source, FractionField)> {
    if let Some(input) = &opts.ivc_mask {
        match &input.read {
            Ok(lm) => {
                warnings.extend(lm.warnings.iter().cloned());
                let field = FractionField::from_mask(&lm.mask);
                if field.is_none() {
                    warnings.push(format!("IVC mask {} is empty", input.path.display()));
                }
                field.map(|f| (Source::Mask, f))
            }
            Err(e) => {
                warnings.push(format!("IVC mask not used: {e}"));
                None
            }
        }
    } else if let Some(m) = opts
        .anatomy
        .as_ref()
        .and_then(|a| a.mask(cavascope_volume::anatomy::names::IVC))
    {
        // The IVC label of the anatomy context, read as an `--ivc-mask` would be.
        let field = FractionField::from_mask(&m);
        if field.is_none() {
            warnings.push("anatomy IVC label is empty".into());
        }
        field.map(|f| (Source::Mask, f))
    } else {
        track_ivc(volumes, phases, opts, refp, warnings)
    }
}

/// The IVC from a seed, or found automatically, tracked plane by plane: its source and
/// occupancy field, or `None` with the reason in `warnings`.
fn track_ivc(
    volumes: &[Volume],
    phases: &[PhaseInfo],
    opts: &SegmentOptions,
    refp: &RefPhase,
    warnings: &mut Vec<String>,
) -> Option<(Source, FractionField)> {
    let RefPhase {
        found: reference,
        idx: ref_idx,
        role: ref_role,
        is_ct,
    } = *refp;
    let refv = &volumes[ref_idx];
    let t0 = std::time::Instant::now();
    let dbg = tracing::enabled!(tracing::Level::TRACE);
    let tick = |what: &str| {
        if dbg {
            tracing::trace!(
                "ivc tracking timing: {what} at {:.3} s",
                t0.elapsed().as_secs_f64()
            );
        }
    };
    let Seeds {
        source,
        points: seeds,
        by_anatomy,
        anatomy_why,
    } = seed_candidates(volumes, phases, opts, refv, is_ct);
    if seeds.is_empty() {
        // Say why: automatic detection looks for an opacified blood pool.
        let why = if reference.is_none() {
            "the study has no post-contrast phase, and without contrast the IVC is as dense as the tissue around it"
                .to_string()
        } else {
            use crate::params::locate::{
                CHAIN_MIN_PLANES, CT_VENOUS_MAX_HU, CT_VENOUS_MIN_HU, PLANE_STEP_MM,
            };
            format!(
                "no tube of opacified blood (CT {CT_VENOUS_MIN_HU:.0}–{CT_VENOUS_MAX_HU:.0} HU, or enhancing over the unenhanced phase) on the patient's right of the body centre over {CHAIN_MIN_PLANES} planes {PLANE_STEP_MM:.0} mm apart of the {} series",
                ref_role.as_str()
            )
        };
        let why = match anatomy_why {
            Some(a) => format!("{why}; and by anatomy: {a}"),
            None => why,
        };
        warnings.push(format!(
            "IVC not found automatically: {why}; give --ivc-seed X,Y,Z or --ivc-mask FILE"
        ));
        return None;
    }
    let Some(mut tracker) = tracker_for(volumes, phases, ref_idx, is_ct) else {
        warnings.push("IVC tracking could not start".into());
        return None;
    };
    // Try the candidates in order; a track shorter than GOOD_ENOUGH_TRACK_MM (started at a
    // junction or inside a tumour) gives way to the next, and the longest is kept.
    tick("inputs");
    let Tried {
        best,
        implausible,
        in_chest,
    } = try_seeds(
        &mut tracker,
        &seeds,
        by_anatomy,
        source == Source::Auto && is_ct,
        refv,
    );
    let Some(mut contours) = best else {
        warnings.push(no_track_reason(
            &seeds,
            source,
            by_anatomy,
            &implausible,
            &in_chest,
        ));
        return None;
    };
    // An anatomical candidate is only a place to look: one inside a stretch where
    // isodense tissue hides part of the wall hands its poor first shape to every
    // chained plane (native CT: 3.1 mm median error from the candidate's plane, 1.4 mm
    // from a plane with the wall seen nearly all round). Track again from the plane
    // whose wall the track saw best, and keep that track where it is as long.
    if by_anatomy {
        contours = retrack_from_clearest(&mut tracker, contours);
    }
    let rebridged = crate::bridge::rebridge(&tracker, &mut contours);
    if dbg {
        tracing::trace!("bridge: {rebridged} planes re-fitted about the vein's course");
    }
    let bridged = contours
        .iter()
        .filter(|c| c.kind != track::ContourKind::Measured)
        .count();
    if bridged > 0 {
        warnings.push(format!(
            "IVC wall bridged over {bridged} mm where the lumen is not opacified (shape from the neighbouring sections)"
        ));
    }
    tick("tracked");
    track::smooth_along_z(&mut contours, CONTOUR_SIGMA_MM);
    let Some(field) = track::contours_to_field(&contours, FIELD_PIXEL_MM) else {
        warnings.push("IVC tracking gave too short a vessel".into());
        return None;
    };
    Some((source, field))
}

/// Why no candidate gave an acceptable track, for the warnings.
fn no_track_reason(
    seeds: &[Point3<f64>],
    source: Source,
    by_anatomy: bool,
    implausible: &[String],
    in_chest: &[String],
) -> String {
    if by_anatomy && !implausible.is_empty() {
        return format!(
            "IVC not found automatically: no opacified blood pool, and none of the {} tubes found by anatomy (right in front of the spine) tracks as the IVC ({}); give --ivc-seed X,Y,Z or --ivc-mask FILE",
            seeds.len(),
            implausible.join("; ")
        );
    }
    if let Some(why) = in_chest.first() {
        return format!("IVC not found automatically: {why}; give --ivc-seed X,Y,Z or --ivc-mask FILE");
    }
    let Some(seed) = seeds.first() else {
        return "IVC tracking failed: no seed to start from".into();
    };
    format!(
        "IVC tracking failed from ({:.1}, {:.1}, {:.1}) mm: no vessel wall around the {} point",
        seed.x,
        seed.y,
        seed.z,
        if source == Source::Seed {
            "seed"
        } else {
            "detected"
        }
    )
}

/// Build the IVC model. Never panics; what could not be done is a warning.
pub fn build_ivc(volumes: &[Volume], phases: &[PhaseInfo], opts: &SegmentOptions) -> IvcOutcome {
    let mut warnings = Vec::new();
    let t0 = std::time::Instant::now();
    let dbg = tracing::enabled!(tracing::Level::TRACE);
    let tick = |what: &str| {
        if dbg {
            tracing::trace!("ivc timing: {what} at {:.3} s", t0.elapsed().as_secs_f64());
        }
    };
    let fail = |warnings: Vec<String>| IvcOutcome {
        model: None,
        landmarks: Landmarks::default(),
        warnings,
        quality: Quality::default(),
    };
    if volumes.is_empty() {
        warnings.push("IVC not measured: no volume".into());
        return fail(warnings);
    }
    let n = volumes.len();
    let reference = REFERENCE_ROLES
        .iter()
        .find_map(|r| role_index(phases, *r, n).map(|i| (i, *r)));
    let (ref_idx, ref_role) = match reference {
        Some(r) => r,
        None => {
            warnings.push(
                "no post-contrast phase among the series roles: the IVC is measured on the first series"
                    .into(),
            );
            (0, Role::Other)
        }
    };
    let refv = &volumes[ref_idx];
    let is_ct = refv.meta.modality.eq_ignore_ascii_case("CT")
        || matches!(
            ref_role,
            Role::CtPortalVenous | Role::CtDelayed | Role::CtArterial
        );

    // The field to measure, by source.
    let refp = RefPhase {
        found: reference,
        idx: ref_idx,
        role: ref_role,
        is_ct,
    };
    let Some((source, field)) = field_by_source(volumes, phases, opts, &refp, &mut warnings) else {
        return fail(warnings);
    };

    tick("field");
    let profile = measure_profile(&field, PROFILE_TRIM_MM);
    tick("profile");
    if profile.len() < MIN_SECTIONS {
        warnings.push(format!(
            "IVC too short to measure (fewer than {MIN_SECTIONS} sections)"
        ));
        return fail(warnings);
    }
    // Lumen visibility.
    let pixels: Vec<&[Point3<f64>]> = profile.iter().map(|p| p.shape.pixels.as_slice()).collect();
    let zs: Vec<f64> = profile.iter().map(|p| p.centre.z).collect();
    let ss: Vec<f64> = profile.iter().map(|p| p.s_mm).collect();
    let widths: Vec<f64> = profile.iter().map(|p| p.shape.min_feret_mm).collect();
    let lum = lumen::assess(&pixels, &zs, &ss, &widths, volumes, phases);
    warnings.extend(lum.warnings.iter().cloned());
    // Landmarks on the venous phase.
    let (lm, lw) = find_landmarks(&profile, &field, volumes, &lum);
    warnings.extend(lw);
    tick("lumen+landmarks");

    let sections = sections_of(&profile, &lum.visible, &lm);
    let fold = |f: fn(&Section) -> f64, max: bool| -> Option<f64> {
        sections
            .iter()
            .map(f)
            .filter(|v| v.is_finite())
            .reduce(|a, b| if max { a.max(b) } else { a.min(b) })
    };
    let length = sections.last().map(|s| s.s_mm).unwrap_or(0.0);
    let mask = field_to_mask(&field, &refv.geometry, refv.shape());
    tick("mask");
    let quality = quality_of(&lum, &zs, refv, &mut warnings);
    let model = IvcModel {
        source,
        reference_series: refv.meta.series_instance_uid.clone(),
        length_mm: length,
        max_equivalent_diameter_mm: fold(|s| s.equivalent_diameter_mm, true),
        min_equivalent_diameter_mm: fold(|s| s.equivalent_diameter_mm, false),
        min_flattening_ratio: fold(|s| s.flattening_ratio, false),
        centreline: profile.iter().map(|p| p.centre).collect(),
        profile: sections,
        lumen: lum.summary,
        mask,
    };
    IvcOutcome {
        model: Some(model),
        landmarks: lm,
        warnings,
        quality,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RoleSource;

    fn pv(i: usize) -> PhaseInfo {
        PhaseInfo {
            volume_index: i,
            series_instance_uid: format!("uid{i}"),
            role: Role::CtPortalVenous,
            role_source: RoleSource::User,
        }
    }

    #[test]
    fn bad_input_is_a_warning_not_a_panic() {
        let o = SegmentOptions::default();
        assert!(build_ivc(&[], &[], &o).model.is_none());
        let g = Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]);
        for shape in [[1, 1, 1], [3, 2, 1], [20, 30, 30]] {
            let v = Volume::filled(shape, g.clone(), 40.0);
            let out = build_ivc(std::slice::from_ref(&v), &[pv(0)], &o);
            assert!(out.model.is_none() && !out.warnings.is_empty());
            // A seed in a uniform volume: no wall anywhere.
            let so = SegmentOptions {
                ivc_seed: Some(Point3::new(0.5, 0.5, 0.5)),
                ..Default::default()
            };
            assert!(build_ivc(std::slice::from_ref(&v), &[pv(0)], &so).model.is_none());
            // A NaN-filled volume and a phase index out of range.
            let n = Volume::filled(shape, g.clone(), f32::NAN);
            let _ = build_ivc(&[n], &[pv(3)], &so);
        }
        let so = SegmentOptions {
            ivc_mask: Some(crate::model::MaskInput::new(
                "/nonexistent/ivc.nii.gz".into(),
                Err::<cavascope_volume::LabelMask, _>(
                    "/nonexistent/ivc.nii.gz: cannot read label map: no such file",
                ),
            )),
            ..Default::default()
        };
        let v = Volume::filled([4, 4, 4], g, 0.0);
        let out = build_ivc(&[v], &[pv(0)], &so);
        assert!(out.model.is_none() && out.warnings.iter().any(|w| w.contains("nonexistent")));
    }

    /// A track of circles (radius r mm, 1 mm apart) whose centre holds blood like its
    /// start's on the planes where `blood(i)`.
    fn track_of(n: usize, r: f64, blood: impl Fn(usize) -> bool) -> Vec<track::Contour> {
        (0..n)
            .map(|i| {
                let mut coef = [0.0; track::NCOEF];
                coef[0] = r;
                track::Contour {
                    z: i as f64,
                    cx: 0.0,
                    cy: 0.0,
                    coef,
                    inliers: 1.0,
                    centre_value: 40.0,
                    opacified: blood(i),
                    kind: track::ContourKind::Measured,
                }
            })
            .collect()
    }

    #[test]
    fn an_anatomical_track_must_hold_blood_along_it() {
        // A vein: blood at the centre all along (one plane off: a valve, noise).
        assert!(plausible_ivc_track(&track_of(120, 10.0, |i| i != 60)).is_ok());
        // A bowel loop of the same calibre and length: gas or chyme at its centre on a
        // third of its planes (TotalSegmentator's native CT: 63–66 %).
        let why = plausible_ivc_track(&track_of(120, 10.0, |i| i % 3 != 0)).unwrap_err();
        assert!(why.contains("not a vein"), "{why}");
    }
}
