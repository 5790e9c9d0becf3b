//! The IVC's tuning numbers, one place, grouped by the stage that uses them: each with
//! what it is and why this value. They describe anatomy, CT/MR physics and the geometry of
//! the ray-cast contour, not one data set. (Numbers that decide a sign live in
//! `features`' thresholds table, not here.)

/// The anatomical IVC detector ([`crate::anatomical`]).
pub mod anatomical {
    /// Spacing of the axial planes searched (mm): 3 planes fit a 20-slice 2 mm series at the
    /// liver level, the shortest real coverage we accept.
    pub const PLANE_STEP_MM: f64 = 6.0;
    /// In-plane sampling (mm): the IVC (≥ 10 mm across when not collapsed) spans ≥ 5 samples.
    pub const GRID_MM: f64 = 2.0;
    /// Body outline on CT (HU): above air and lung.
    pub const BODY_MIN_HU: f32 = -500.0;
    /// Body outline on MRI: above this fraction of the plane's high percentile
    /// ([`MR_BODY_QUANTILE`]) — air reads near zero, tissue well above …
    pub const MR_BODY_FRACTION: f32 = 0.15;
    /// … the percentile (bright fat and vessels above it).
    pub const MR_BODY_QUANTILE: f64 = 0.99;
    /// Largest plane, samples (a 2.8 m field at 2 mm: anything larger is not a body).
    pub const MAX_PLANE_SAMPLES: usize = 2_000_000;
    /// Fewest samples along each in-plane axis (16 mm at 2 mm: less is no body section).
    pub const MIN_PLANE_SIDE_SAMPLES: usize = 8;
    /// Fewest body samples in a plane (200 mm² at 2 mm: less is a limb's edge or noise).
    pub const BODY_MIN_SAMPLES: f64 = 50.0;
    /// Floor of the plane's noise (modality units), so a noiseless (synthetic) plane still
    /// has a homogeneity bound.
    pub const NOISE_FLOOR: f32 = 1e-3;
    /// A core continues a chain up to this many planes after its last (one missing plane
    /// bridged).
    pub const CHAIN_MAX_PLANE_GAP: usize = 2;
    /// Bone on CT (HU), to anchor on the vertebral column.
    pub const BONE_MIN_HU: f32 = 250.0;
    /// Bone within this distance (mm) of the body's midline belongs to the spine, not the
    /// ribs or pelvis (a vertebra is ≤ 50 mm wide with its processes).
    pub const SPINE_HALF_WIDTH_MM: f64 = 30.0;
    /// Fewest bone samples that make a spine in one plane.
    pub const SPINE_MIN_SAMPLES: usize = 5;
    /// Without bone (MR): the spine's centre this far (mm) in front of the posterior skin —
    /// back muscles and the posterior elements are ~50–90 mm thick in adults.
    pub const SPINE_FROM_BACK_MM: f64 = 70.0;
    /// Where the IVC lies relative to the spine's centroid (mm, LPS): on the patient's right
    /// (smaller x) by up to this much — it runs beside the right border of the vertebral body
    /// and up to ~40 mm right of the midline at the liver …
    pub const WINDOW_RIGHT_MM: f64 = 70.0;
    /// … and at least this much right of the spine's midline: the IVC runs along the right
    /// side of the vertebral body (its centre ≥ ~10 mm right of the midline), the aorta's
    /// centre lies at or left of the midline. A left-sided IVC (≈ 0.2–0.5 % of people) is not
    /// found automatically.
    pub const WINDOW_MIN_RIGHT_MM: f64 = 8.0;
    /// In front of the spine's centroid (mm): at least past the vertebral body's centre …
    pub const WINDOW_ANTERIOR_MIN_MM: f64 = 10.0;
    /// … and at most this far (behind the liver / pancreas head, ≤ ~100 mm in front of the
    /// bone centroid that includes the posterior elements).
    pub const WINDOW_ANTERIOR_MAX_MM: f64 = 120.0;
    /// CT density of blood or soft tissue (HU): unenhanced blood is 30–60 HU, enhanced up to
    /// ~400; the lower bound leaves partial volume with fat in, fat (< −30) out.
    pub const CT_BLOOD_MIN_HU: f32 = 15.0;
    /// Upper bound: bone and dense contrast above.
    pub const CT_BLOOD_MAX_HU: f32 = 400.0;
    /// The plane's noise: this quantile of the local standard deviation (3 × 3 samples) over
    /// the body. At least a quarter of a body section is homogeneous tissue (fat, muscle,
    /// liver, blood), so the quantile measures noise, not the texture and edges above it
    /// (on MR the median is tissue texture, twice the noise).
    pub const NOISE_QUANTILE: f64 = 0.25;
    /// A lumen is homogeneous: its local standard deviation is at most this many times the
    /// noise, while edges between tissues are well above it.
    pub const HOMOGENEITY_FACTOR: f32 = 1.5;
    /// Cross-section of the homogeneous core (mm²): a normal IVC is 10–30 mm across; the core
    /// inside its edge is ≥ 50 mm²; a core larger than 1000 mm² is an organ (liver, bowel).
    pub const CORE_MIN_AREA_MM2: f64 = 50.0;
    /// … and at most this (mm²): a larger homogeneous core is an organ (liver, bowel).
    pub const CORE_MAX_AREA_MM2: f64 = 1000.0;
    /// Compactness (area over the disc through its farthest sample): a vein's section is
    /// round to oval (≥ ~0.4), a strip of organ margin or a leak is not.
    pub const CORE_MIN_COMPACTNESS: f64 = 0.35;
    /// A tube: its core centres in successive planes lie within this distance (mm) —
    /// the IVC runs nearly along z (≤ ~30° from it over 6 mm).
    pub const CHAIN_STEP_MM: f64 = 10.0;
    /// Planes a tube must span (with at most one missing plane bridged).
    pub const CHAIN_MIN_PLANES: usize = 3;
    /// Candidates handed to the tracker, best first (the tracker verifies each one).
    pub const MAX_CANDIDATES: usize = 6;
    /// A track from an anatomical candidate is kept only when its median equivalent diameter
    /// (mm) is that of a vein that can be the IVC: a normal IVC is ~13–28 mm, flat ones down
    /// to ~10 mm; below, it is a small vessel or a fold of the crus …
    pub const TRACK_MIN_MEDIAN_DIAMETER_MM: f64 = 10.0;
    /// … and above ~35 mm it is an outline around an organ or bowel, not a vein (a dilated
    /// IVC is found by its opacified lumen, not here).
    pub const TRACK_MAX_MEDIAN_DIAMETER_MM: f64 = 35.0;
    /// … and it runs along at least this many mm of z (three planes of the search).
    pub const TRACK_MIN_LENGTH_MM: f64 = 2.0 * PLANE_STEP_MM;
    /// … and its calibre is one vein's: the 90th percentile of the equivalent diameter along
    /// the track at most this many times the 10th. A normal IVC widens from ~15–20 mm below
    /// the renal veins to ~25–28 mm at them (×1.3–1.8); an outline around a muscle or an
    /// organ widens and narrows with its shape (TotalSegmentator's native CT: a track along
    /// the right psoas, 18–77 mm).
    pub const TRACK_MAX_CALIBRE_SPREAD: f64 = 2.0;
    /// … and its centre holds blood like its start's on at least this share of its planes:
    /// a vein carries blood all along, a bowel loop changes content (gas, fluid, chyme).
    /// TotalSegmentator's native CT: the IVC's tracks 100 %, a small-bowel loop in front of
    /// it (TotalSegmentator label `small_bowel`) 63–66 %, gas at its centre (−92 HU) on
    /// some planes; its track, 187 mm, was longer than the IVC's and was taken.
    pub const TRACK_MIN_BLOOD_FRACTION: f64 = 0.8;
}

/// Casting rays from a centre and finding the wall's step on each ([`crate::track`]).
pub mod walls {
    /// Longest ray, mm: a tumour-expanded IVC stays inside.
    pub const RMAX_MM: f64 = 40.0;
    /// Sampling step along a ray, mm: a quarter of the finest patch pixel, so the
    /// half-level crossing is interpolated between close samples.
    pub const RAY_STEP_MM: f64 = 0.25;
    /// Half-distance of the step detector, mm: a difference across 4 mm spans a wall
    /// blurred by a voxel and the smoothing.
    pub const STEP_HALF_MM: f64 = 2.0;
    /// The ramp of a wall reaches this many smoothing σ beyond the detector's half-distance
    /// (a Gaussian's tail past 2σ holds < 5 % of its weight).
    pub const RAMP_REACH_SIGMAS: f64 = 2.0;
    /// Patch margin beyond the longest ray and the detector's reach, mm: room for the
    /// smoothing kernel at the patch edge.
    pub const PATCH_MARGIN_MM: f64 = 4.0;
    /// A clear step: the detector statistic (σ-normalised, mean 2 per phase under noise
    /// alone) must exceed its noise mean by this much (≈ a 6σ difference on one phase).
    pub const STEP_MIN_EXCESS: f64 = 36.0;
    /// The first mm of every ray are skipped: the centre is the lumen by construction.
    pub const RAY_SKIP_MM: f64 = 2.0;
    /// How far past a step's first crossing its steepest point is looked for, mm (a wall's
    /// ramp is ≤ ~4 mm wide after blur; a second edge 8 mm out is another boundary).
    pub const STEP_CLIMB_MM: f64 = 8.0;
    /// A step has ended once its statistic falls below this fraction of its peak, so a
    /// second, stronger step further out (liver → fat) is not taken for this one.
    pub const STEP_PEAK_FRACTION: f64 = 0.6;
    /// Two steps closer than this (mm) are one blurred wall, not a thin layer against it
    /// ([`crate::layer`]): below ~1.5 mm the two edges cannot be told apart after blur.
    pub const LAYER_MIN_GAP_MM: f64 = 1.5;
    /// A jump between neighbouring rays (5° apart) larger than this (mm) or than
    /// [`ESCAPE_JUMP_FRAC`] of the shorter ray is not the wall of one convex section: along a
    /// 30 × 5 mm slit neighbouring rays differ by ≤ 2.9 mm, while a ray that finds no wall
    /// where isodense tissue (bowel, crus, liver) lies against the vein runs on to that
    /// tissue's own edge, 5–25 mm further out (native CT, TotalSegmentator's reference CT).
    pub const ESCAPE_JUMP_MM: f64 = 3.0;
    /// … or than this fraction of the shorter ray (see [`ESCAPE_JUMP_MM`]).
    pub const ESCAPE_JUMP_FRAC: f64 = 0.25;
    /// Escaped runs are looked for only while at least this many rays have a wall: fewer
    /// cannot say which run is the vein's own wall.
    pub const ESCAPE_MIN_RAYS: usize = 8;
    /// Floor of a phase's smoothed noise (modality units), so a noiseless (synthetic)
    /// phase does not divide by zero in the detector's weights.
    pub const SMOOTHED_NOISE_FLOOR: f32 = 1e-3;
}

/// Sampling the blood at a seed or a plane's centre, and matching it ([`crate::track`]).
pub mod blood {
    /// In-plane pixel of the tracker's patches, mm: the reference's voxel, clamped to
    /// 0.5 mm (finer adds no detail) …
    pub const PATCH_PIXEL_MIN_MM: f64 = 0.5;
    /// … and 1 mm (coarser loses the wall of a 10 mm vein).
    pub const PATCH_PIXEL_MAX_MM: f64 = 1.0;
    /// Patch smoothing σ, mm: about one voxel (noise down 3–4×, the half-level of a wall
    /// of radius R moves by only ≈ σ²/2R, 0.1 mm at R = 12 mm), at least 0.8 mm …
    pub const SMOOTHING_MIN_MM: f64 = 0.8;
    /// … and at most 1.6 mm (more blurs a flattened vein's two walls together).
    pub const SMOOTHING_MAX_MM: f64 = 1.6;
    /// Radius of the disc whose median is the blood value at a seed, mm (inside the
    /// smallest IVC we track, ~10 mm across).
    pub const SEED_DISC_MM: f64 = 3.0;
    /// Half-size of the patch sampled around a seed, mm (the disc plus smoothing room).
    pub const SEED_PATCH_HALF_MM: f64 = 8.0;
    /// Radius of the disc whose median is a plane's centre value, mm: inside a flattened
    /// (slit-like) lumen ~5 mm thick.
    pub const CENTRE_DISC_MM: f64 = 2.5;
    /// Half-size of the unsmoothed patch around a plane's centre, mm (the disc plus a
    /// pixel of interpolation room).
    pub const CENTRE_PATCH_HALF_MM: f64 = 4.0;
    /// Noise of a median of n voxels is this × σ/√n (√(π/2) for a normal sample).
    pub const MEDIAN_NOISE_FACTOR: f64 = 1.25;
    /// A centre value matches blood within this many noise SDs …
    pub const BLOOD_MATCH_NOISE_SDS: f64 = 4.0;
    /// … or this fraction of the blood value, whichever is larger (enhancement varies
    /// along the vein and across the field).
    pub const BLOOD_MATCH_FRACTION: f64 = 0.2;
    /// Room around the search radius when the lumen is looked for near a prediction, mm
    /// (smoothing at the patch edge).
    pub const LUMEN_SEARCH_MARGIN_MM: f64 = 4.0;
}

/// Fitting a plane's contour r(θ) to its rays ([`crate::track`]).
pub mod contour {
    /// Ridge weight (per unit data weight, × k²) pulling even harmonics toward the
    /// previous plane's: where rays are missing, the contour follows its neighbour.
    pub const RIDGE_EVEN: f64 = 0.01;
    /// Ridge weight pulling odd harmonics of order ≥ 3 (one-sided lobes: a vein running
    /// alongside) toward zero, so a lobe cannot be learnt and carried on.
    pub const RIDGE_ODD: f64 = 0.002;
    /// The first robust fit uses rays within this fraction of the median radius …
    pub const INITIAL_GATE_FRACTION: f64 = 0.45;
    /// … plus this (mm): a run of rays escaping into a branch cannot bend the first
    /// estimate, while an ellipse of axis ratio ~2.5 keeps all its rays.
    pub const INITIAL_GATE_MM: f64 = 1.0;
    /// Coefficients of the first, low-order fit: orders 0–2, an ellipse-like shape.
    pub const LOW_ORDER_NCOEF: usize = 5;
    /// Reweighting rounds of the low-order fit (the Tukey weights settle within ~5) …
    pub const LOW_ORDER_ROUNDS: usize = 5;
    /// … and of the full-order refinement.
    pub const FULL_ORDER_ROUNDS: usize = 8;
    /// Tukey biweight constant: 95 % efficiency at the normal distribution (Holland &
    /// Welsch 1977).
    pub const TUKEY_C: f64 = 4.685;
    /// The Tukey scale is never tighter than this, mm: sub-voxel walls scatter that much.
    pub const TUKEY_MIN_SCALE_MM: f64 = 1.5;
    /// A ray within this distance (mm) of the fitted contour agrees with it (an inlier):
    /// about two voxels of wall scatter.
    pub const RAY_INLIER_MM: f64 = 2.5;
    /// Curvature used by the blur correction is clamped to ±this (1/mm): tighter bends
    /// are ray noise, not a vein's wall.
    pub const CURVATURE_MAX_PER_MM: f64 = 1.0;
    /// The correction along a ray is divided by the cosine between ray and normal, not
    /// below this (a grazing ray would multiply it without bound).
    pub const CURVATURE_MIN_COS: f64 = 0.3;
    /// A free fit needs at least this fraction of all rays through the continuity gate
    /// (as a divisor of the ray count: half of them).
    pub const FREE_MIN_RAYS_DIVISOR: usize = 2;
    /// A free fit with fewer inliers than this fraction of the rays is refused.
    pub const FREE_MIN_INLIERS: f64 = 0.5;
    /// Inlier fraction above which a plane's free fit is trusted over the chained one.
    pub const FREE_INLIERS: f64 = 0.9;
    /// Inlier fraction at which the rays agree among themselves: such a fit may differ
    /// from the prior, recentres the next plane and is accepted on reacquisition.
    pub const AGREEING_INLIERS: f64 = 0.8;
    /// Smallest mean radius of a fitted contour, mm: below it is a collapsed slit or a
    /// small branch, not a lumen we can measure.
    pub const MIN_RADIUS_MM: f64 = 2.0;
    /// Continuity gate: a ray's wall may differ from the prior's by this fraction …
    pub const CONTINUITY_FRACTION: f64 = 0.2;
    /// … or this many mm, whichever is larger; further is a branch or a neighbour.
    pub const CONTINUITY_MIN_MM: f64 = 3.0;
    /// Plane-to-plane change of area within which a contour is the same vein, not a
    /// leak (ratio to the previous plane): lower bound …
    pub const SIMILAR_AREA_MIN: f64 = 0.75;
    /// … upper bound.
    pub const SIMILAR_AREA_MAX: f64 = 1.3;
    /// Plane-to-plane change of transverse width, ratio: lower bound …
    pub const SIMILAR_WIDTH_MIN: f64 = 0.8;
    /// … upper bound.
    pub const SIMILAR_WIDTH_MAX: f64 = 1.25;
    /// A fit the rays agree with poorly may not change the recent median area by more
    /// than this ratio: lower bound …
    pub const REF_AREA_MIN: f64 = 0.6;
    /// … upper bound.
    pub const REF_AREA_MAX: f64 = 1.4;
    /// Scaled-prior fit: walls inside this fraction of the prior radius are refused …
    pub const SCALED_GATE_INNER: f64 = 0.8;
    /// … and outside this fraction of it (a tumour expands the vein) …
    pub const SCALED_GATE_OUTER: f64 = 1.35;
    /// … plus this many mm.
    pub const SCALED_GATE_OUTER_MM: f64 = 2.0;
    /// Without contrast (native CT) the outer gate is the inner one's mirror (1/0.8): a
    /// tumour cannot be told from blood there, and a wall beyond it is the far edge of
    /// isodense tissue against the vein (crus, duodenum), which the wider gate let pull
    /// the scale outward plane after plane.
    pub const SCALED_GATE_OUTER_NATIVE: f64 = 1.25;
    /// Reweighting rounds of the scaled-prior fit (three parameters settle quickly).
    pub const SCALED_ROUNDS: usize = 6;
    /// The scaled-prior fit needs at least the ray count over this many rays (a fifth).
    pub const SCALED_MIN_RAYS_DIVISOR: usize = 5;
    /// … walls on both sides: the rays' mean direction at most 1 − this long (one-sided
    /// evidence cannot tell scale from shift) …
    pub const SCALED_MIN_SPREAD: f64 = 0.3;
    /// … and a scale within this range of the prior: lower bound …
    pub const SCALED_SCALE_MIN: f64 = 0.7;
    /// … upper bound.
    pub const SCALED_SCALE_MAX: f64 = 1.6;
}

/// Stepping from plane to plane and the rules that stop a track ([`crate::track`]).
pub mod tracking {
    /// How far along z a clearer start plane is looked for, mm …
    pub const START_SEARCH_MM: f64 = 20.0;
    /// … in steps of this many mm, either way …
    pub const START_SEARCH_STEP_MM: f64 = 2.0;
    /// … and how far its centre may lie from the seed's contour, mm (the same vein, not
    /// a neighbour).
    pub const START_SHIFT_MM: f64 = 8.0;
    /// Planes remembered for the reference (median) area: 15 mm of vein, longer than a
    /// leak into a neighbour.
    pub const MEMORY_PLANES: usize = 15;
    /// The previous plane is the prior when its area is within this ratio of the
    /// remembered median: lower bound …
    pub const PRIOR_AREA_MIN: f64 = 0.85;
    /// … upper bound; otherwise the median plane is (the previous may have leaked).
    pub const PRIOR_AREA_MAX: f64 = 1.15;
    /// A plane is refitted about its own centroid when that moved further than this, mm
    /// (keeps the rays radial).
    pub const RECENTRE_MIN_MM: f64 = 1.0;
    /// Planes without a measured wall after which the lumen is looked for around the
    /// prediction (the vein's course drifts under a tumour-filled stretch) …
    pub const REACQUIRE_AFTER: usize = 5;
    /// … and how far, mm (the aorta lies further away).
    pub const REACQUIRE_MM: f64 = 12.0;
    /// A reacquired plane's area must be within this ratio of the remembered median:
    /// lower bound …
    pub const REACQUIRE_AREA_MIN: f64 = 0.4;
    /// … upper bound (wide: the lumen reappears beside or around a tumour).
    pub const REACQUIRE_AREA_MAX: f64 = 2.5;
    /// Opacified blood all round without a wall in reach for more planes than this: the
    /// vein has opened into a chamber (the right atrium).
    pub const CHAMBER_PLANES: usize = 8;
    /// Planes without any wall after which the vein is lost (80 mm: longer than any
    /// tumour-filled stretch we bridge).
    pub const LOST_PLANES: usize = 80;
    /// A section this many times the start's area is a runaway (deep into the atrium).
    pub const RUNAWAY_AREA_FACTOR: f64 = 4.0;
}

/// Cutting a tracked direction at the vein's end ([`crate::track::cut_ends`]).
pub mod ends {
    /// Fewest planes in one direction for its end to be judged.
    pub const MIN_PLANES: usize = 6;
    /// Planes of the reference window (its median area and width): 15 mm.
    pub const WINDOW_PLANES: usize = 15;
    /// A change must hold for this many planes in a row …
    pub const PERSIST_PLANES: usize = 4;
    /// … and on at least this many tenths of the planes to the end (it does not recover).
    pub const LASTING_TENTHS: usize = 8;
    /// Growth past this ratio of the reference (and the usual) area is the right atrium;
    /// a tumour expands the vein more slowly, a wall blurred into a thin neighbour < 35 %.
    pub const GROW_RATIO: f64 = 1.5;
    /// An area drop below this ratio …
    pub const DROP_AREA_RATIO: f64 = 0.65;
    /// … with the width below this ratio is the iliac confluence (a flattening mass
    /// widens the vein).
    pub const DROP_WIDTH_RATIO: f64 = 0.85;
    /// The cut goes back to the last plane within this ratio of the reference (growth) …
    pub const GROW_BACK_RATIO: f64 = 1.1;
    /// … or this ratio (drop): where the change began.
    pub const DROP_BACK_RATIO: f64 = 0.9;
}

/// Smoothing contours along z and rasterising them ([`crate::track`]).
pub mod smoothing {
    /// An interpolated plane borrows from this many times further along z than the
    /// kernel's σ, so a bridged stretch takes its shape from its ends.
    pub const INTERPOLATED_REACH: isize = 6;
    /// Weight of a measured plane in the z smoothing …
    pub const WEIGHT_MEASURED: f64 = 1.0;
    /// … of a scaled one (half its walls are the prior's) …
    pub const WEIGHT_SCALED: f64 = 0.5;
    /// … of an interpolated one (no wall of its own).
    pub const WEIGHT_INTERPOLATED: f64 = 0.05;
    /// Margin of the fraction field around the contours, pixels (the ramp plus room).
    pub const FIELD_MARGIN_PIXELS: f64 = 3.0;
    /// Largest fraction field, voxels (240 MB of f32): a track this large is not a vein.
    pub const FIELD_MAX_VOXELS: usize = 60_000_000;
}

/// Locating the IVC without a seed by blood-like blobs chained through z
/// ([`crate::track::locate_candidates`]).
pub mod locate {
    /// In-plane sampling, mm: the IVC (≥ 10 mm across) spans ≥ 5 samples.
    pub const GRID_MM: f64 = 2.0;
    /// Planes every this many mm …
    pub const PLANE_STEP_MM: f64 = 10.0;
    /// … from this far inside the volume's z ends (partial first/last slices).
    pub const END_MARGIN_MM: f64 = 5.0;
    /// CT with an unenhanced phase: blood enhances by at least this much (HU) …
    pub const CT_MIN_ENHANCEMENT_HU: f32 = 70.0;
    /// … to at least this (HU).
    pub const CT_ENHANCED_MIN_HU: f32 = 100.0;
    /// CT venous phase alone: opacified blood from this (HU) …
    pub const CT_VENOUS_MIN_HU: f32 = 125.0;
    /// … to below this (HU; bone and dense contrast above).
    pub const CT_VENOUS_MAX_HU: f32 = 400.0;
    /// MRI with a pre-contrast T1: blood's signal is at least this many times its
    /// pre-contrast signal.
    pub const MR_MIN_SIGNAL_RATIO: f32 = 3.5;
    /// Blob area, mm²: at least an IVC of ~10 mm across …
    pub const BLOB_MIN_AREA_MM2: f64 = 80.0;
    /// … at most this (a larger blob is an organ or the heart).
    pub const BLOB_MAX_AREA_MM2: f64 = 1600.0;
    /// Blobs further than this from the body centre (mm) are outside the abdomen's core.
    pub const BLOB_MAX_FROM_BODY_MM: f64 = 110.0;
    /// Blobs chain through z when their centroids lie within this distance, mm.
    pub const CHAIN_STEP_MM: f64 = 15.0;
    /// The IVC lies at least this far (mm) right of the body centre …
    pub const WINDOW_MIN_RIGHT_MM: f64 = 8.0;
    /// … at most this far right (kidneys lie further out) …
    pub const WINDOW_MAX_RIGHT_MM: f64 = 70.0;
    /// … and at most this far behind it (kidneys lie further back).
    pub const WINDOW_MAX_POSTERIOR_MM: f64 = 25.0;
    /// Fewest planes of a chain.
    pub const CHAIN_MIN_PLANES: usize = 3;
    /// A chain's median area counts up to this (mm²), so a large organ pole cannot win.
    pub const CHAIN_AREA_CAP_MM2: f64 = 600.0;
    /// Seed candidates closer than this (mm) to one already listed are dropped.
    pub const CANDIDATE_MIN_SEPARATION_MM: f64 = 5.0;
}

/// Re-fitting the outline of a tumour-filled stretch from its visible walls
/// ([`crate::bridge`]).
pub mod bridge {
    /// Non-opacified planes a run must hold to be bridged here (shorter gaps are junctions
    /// or noise; the tracker's own bridging handles them).
    pub const MIN_UNOPACIFIED: usize = 5;
    /// Runs split by at most this many freely measured planes inside the tumour (a false
    /// wall) are one stretch.
    pub const MERGE_GAP_PLANES: usize = 3;
    /// Opacified vein each side of a run whose centroids give the course, mm.
    pub const ANCHOR_MM: f64 = 40.0;
    /// Fewest measured planes on at least one side of a run to bridge it.
    pub const ANCHOR_MIN_PLANES: usize = 5;
    /// The end shapes are the mean of this many nearest measured sections each side.
    pub const END_SHAPE_PLANES: usize = 5;
    /// The course is a cubic in z with at least this many anchor planes …
    pub const CUBIC_MIN_POINTS: usize = 8;
    /// … spanning more than this (mm); otherwise a line (one side extrapolates linearly).
    pub const CUBIC_MIN_SPAN_MM: f64 = 20.0;
    /// Planes each side pooled for one plane's scale.
    pub const POOL: usize = 2;
    /// Steps looked for along each ray: the first is often within a heterogeneous tumour
    /// (necrosis, uneven enhancement); the wall is the one that agrees with the rest.
    pub const MAX_WALLS: usize = 4;
    /// Scale range of an expanded (or compressed) vein against its opacified ends.
    pub const SCALE_RANGE: (f64, f64) = (0.7, 2.4);
    /// Prior radii up to this (mm) say nothing about the scale (the prior's outline
    /// passes near the centre there).
    pub const MIN_PRIOR_RADIUS_MM: f64 = 1.0;
    /// Bin width of the mode of log(wall / prior radius): ±8 % in scale, about a voxel
    /// at the IVC's radius.
    pub const SCALE_MODE_BIN: f64 = 0.08;
    /// Walls within this of the mode's log scale (±12 %) start the fit.
    pub const SCALE_GATE_LOG: f64 = 0.12;
    /// Reweighting rounds of a plane's scale fit.
    pub const FIT_ROUNDS: usize = 6;
    /// Fewest walls that fit a plane's scale.
    pub const FIT_MIN_WALLS: usize = 8;
    /// The second harmonic is free only where the walls' doubled angles spread round the
    /// circle: their mean resultant below this.
    pub const HARMONIC_MAX_RESULTANT: f64 = 0.75;
    /// The section's shift against the course's centre is free only where the walls face
    /// each other across it: their mean resultant below this (one-sided walls cannot
    /// tell a shift from growth). Tried: see docs/validation.md, "The bridged section's
    /// centre".
    pub const SHIFT_MAX_RESULTANT: f64 = 0.5;
    /// Ridge (per unit data weight) pulling the second harmonic toward the prior's shape.
    pub const HARMONIC_RIDGE: f64 = 0.05;
    /// Tukey scale of the wall residuals, mm (about two voxels of wall scatter).
    pub const TUKEY_SCALE_MM: f64 = 2.0;
}

/// Telling a thin layer of other tissue against the wall from the wall itself
/// ([`crate::layer`]).
pub mod layer {
    /// Blur SDs tried, as factors of the expected one (a wall cut obliquely by the plane,
    /// or a partial-volume edge wider than modelled).
    pub const BLUR_FACTORS: [f64; 4] = [0.8, 1.0, 1.3, 1.7];
    /// Least gain of the two-step fit over the one-step fit, in independent-sample χ² units
    /// (on the phantoms: single blurred edges 0.1–2.7, a 3–4 mm strip of liver 9–56).
    pub const MIN_GAIN: f64 = 6.0;
    /// Thickest layer looked for, mm: steps further apart are told apart by the step
    /// detector itself.
    pub const MAX_LAYER_MM: f64 = 6.0;
    /// Candidate steps keep this many samples from the window's ends (each side of a
    /// step needs samples of its own level).
    pub const END_MARGIN_SAMPLES: usize = 2;
    /// The window must hold two minimal gaps plus this many samples: four levels' worth
    /// (inside, layer, outside and the margins).
    pub const MIN_WINDOW_EXTRA_SAMPLES: usize = 8;
    /// The coarse search tries every this-many-th pair of step positions; the best is
    /// refined at every sample around it (a quarter of the work).
    pub const COARSE_STRIDE: usize = 2;
}

/// Measuring the tracked vein: its centreline and perpendicular sections ([`crate::ivc`]).
pub mod profile {
    /// The IVC's course below the diaphragm, from the iliac confluence (L4–L5) to the
    /// diaphragm (T10–T11), spans about seven vertebral levels: ~180 mm in an adult
    /// (**default**, from typical vertebral heights of 25–30 mm). A series covering more than
    /// this is expected to hold this much IVC.
    pub const EXPECTED_IVC_LENGTH_MM: f64 = 180.0;
    /// Centreline smoothing σ, mm: removes the voxel-scale jitter of per-plane centres while
    /// following the caval curvature (radius of curvature ≫ 50 mm).
    pub const CENTRELINE_SIGMA_MM: f64 = 4.0;
    /// Contour smoothing along z in tracking, mm: two planes, the scatter of one wall.
    pub const CONTOUR_SIGMA_MM: f64 = 2.0;
    /// Pixel of the tracked field, mm (the brief asks for sections at ≤ 0.5 mm).
    pub const FIELD_PIXEL_MM: f64 = 0.5;
    /// Pixel of the axial centres: the field's, clamped to 0.25 mm (finer adds nothing) …
    pub const CENTRES_PIXEL_MIN_MM: f64 = 0.25;
    /// … and 0.5 mm.
    pub const CENTRES_PIXEL_MAX_MM: f64 = 0.5;
    /// Distance between sections along the centreline, mm (calibre every mm).
    pub const SECTION_STEP_MM: f64 = 1.0;
    /// Sections within this distance (mm) of either end of the field are dropped: their
    /// planes leave the tube through its cut ends.
    pub const PROFILE_TRIM_MM: f64 = 2.0;
    /// Fewest sections that make a profile (a centreline needs three points to bend).
    pub const MIN_SECTIONS: usize = 3;
    /// A section must cut the field within this distance of its centre, mm (the
    /// centreline lies inside a vein ≥ 10 mm across).
    pub const SECTION_SEARCH_MM: f64 = 6.0;
    /// An automatic track this long (mm) ends the search among seed candidates: two thirds
    /// of the expected IVC, more than any other vein in reach offers.
    pub const GOOD_ENOUGH_TRACK_MM: f64 = 120.0;
    /// A track re-run from its clearest plane replaces the first only when at least this
    /// fraction as long.
    pub const RETRACK_MIN_LENGTH_FRACTION: f64 = 0.9;
}

/// Lumen visibility per section ([`crate::lumen`]).
pub mod lumen {
    /// Shortest imperceptible stretch that is reported, mm (research brief §2).
    pub const MIN_IMPERCEPTIBLE_MM: f64 = 10.0;
    /// A section's lumen is visible when this fraction of its pixels is opacified.
    pub const VISIBLE_FRACTION: f64 = 0.5;
    /// On CT, caval blood at or above this (HU) carries contrast: unenhanced blood measures
    /// 35–55 HU (haematocrit-dependent), portal-venous blood 130–200 HU. Below it the phase
    /// judged shows no contrast in the blood, whatever its role says, and the lumen cannot
    /// be judged (`features` gate).
    pub const OPACIFIED_BLOOD_MIN_HU: f32 = 100.0;
    /// Pixels sampled per section at most (a median of 600 is within ~5 % of the whole's).
    pub const SECTION_MAX_SAMPLES: usize = 600;
    /// Fewest sections inside the phase for a judgement.
    pub const MIN_SECTIONS: usize = 3;
    /// The blood reference: this quantile of the section medians (most sections are
    /// opacified lumen; the top quarter may be inflow jets).
    pub const REFERENCE_QUANTILE: f64 = 0.75;
    /// The low quantile of the section medians (a tumour-filled stretch, when there is one).
    pub const LOW_QUANTILE: f64 = 0.10;
    /// Opacified: within this many noise SDs below the reference …
    pub const THRESHOLD_NOISE_SDS: f32 = 3.0;
    /// … raised to midway to the low quantile when that lies more than this many noise
    /// SDs below the reference (two populations: lumen and tumour).
    pub const BIMODAL_NOISE_SDS: f32 = 6.0;
    /// A section narrower than this many voxels (its smallest Feret) is mostly partial
    /// volume …
    pub const THIN_SECTION_VOXELS: f64 = 4.0;
    /// … and is visible with this fraction of opacified pixels.
    pub const THIN_VISIBLE_FRACTION: f64 = 0.25;
}

/// The level landmarks from branch inflows ([`crate::landmarks`]).
pub mod landmarks {
    /// Ends of the IVC excluded from the search (iliac confluence, right atrium), mm.
    pub const END_MARGIN_MM: f64 = 12.0;
    /// Fewest branch rays on each side for a renal inflow (5° per ray).
    pub const MIN_SIDE_RAYS: f64 = 2.0;
    /// The hepatic veins join the IVC at its top: the suprahepatic IVC, from the confluence
    /// to the right atrium, is 1–2 cm long, and the three hepatic veins enter over ~1.5 cm.
    /// An inflow lower than this below the IVC's upper end in view is not the hepatic
    /// confluence (on a series that ends at T12 the strongest high inflow is the renal veins,
    /// with 75 mm of IVC above them). Own phantom: the confluence lies 22–24 mm below the
    /// tracked top.
    pub const HEPATIC_BELOW_TOP_MM: f64 = 35.0;
    /// Longest ray looking for the vein's wall, mm (past a 60 mm radius is no IVC).
    pub const WALL_SEARCH_MM: f64 = 60.0;
    /// Step along a ray, mm (a quarter voxel of a fine series).
    pub const RAY_STEP_MM: f64 = 0.25;
    /// Samples outside the wall, mm from it, that must be as bright as blood for a
    /// branch: 2–6 mm out, past the wall's partial volume, inside a renal vein's width.
    pub const BRANCH_OFFSETS_MM: [f64; 5] = [2.0, 3.0, 4.0, 5.0, 6.0];
    /// Fewest of them inside the volume.
    pub const BRANCH_MIN_SAMPLES: f32 = 3.0;
    /// A branch: the mean of the samples (≈ this many independent voxels: 5 samples 1 mm
    /// apart) …
    pub const BRANCH_INDEPENDENT_SAMPLES: f32 = 2.5;
    /// … within this many of their SDs of the reference blood, which keeps enhanced liver
    /// (40 HU below blood in the portal phase) out.
    pub const BRANCH_MATCH_SDS: f32 = 2.5;
    /// A ray counts as left or right when its direction's x component exceeds this
    /// (within 60° of the transverse axis: renal veins run sideways).
    pub const SIDE_MIN_COS: f64 = 0.5;
    /// Counts are smoothed over this many sections each side (the renal veins are
    /// ~5–8 mm across).
    pub const SMOOTH_HALF_SECTIONS: usize = 2;
    /// Fewest branch rays (of 72) at a section for the hepatic confluence.
    pub const HEPATIC_MIN_RAYS: f64 = 6.0;
    /// The hepatic confluence: the strongest section within this distance (mm) below the
    /// highest candidate (the three hepatic veins enter over ~1.5 cm).
    pub const HEPATIC_CLUSTER_MM: f64 = 15.0;
    /// The renal veins join at least this far (mm) below the hepatic confluence (L1–L2
    /// against T11–T12: ≥ ~5 cm in adults).
    pub const RENAL_BELOW_HEPATIC_MM: f64 = 40.0;
}

/// Cross-sections of the vein's fraction field ([`crate::calibre`]).
pub mod calibre {
    /// Voxels of margin around the mask when a field is built from it, so the 0.5
    /// crossing at the border is interpolated against real zeros rather than clamped.
    pub const FIELD_MARGIN_VOXELS: usize = 2;
    /// A [1 2 1]/4 pass rounds off the voxel staircase along each axis at most this fine,
    /// mm (a staircase biases Feret diameters by up to a voxel; coarser axes would blur
    /// the section too much).
    pub const STAIRCASE_MAX_SPACING_MM: f64 = 1.2;
    /// First half-width of a section's window, mm (a normal IVC is ≤ 30 mm across) …
    pub const START_HALF_WIDTH_MM: f64 = 20.0;
    /// … doubled while the section touches its border, up to this (mm).
    pub const MAX_HALF_WIDTH_MM: f64 = 80.0;
    /// The window's pixel is its half-width over this many, …
    pub const HALF_WIDTH_PIXELS: f64 = 80.0;
    /// … at least this (mm): the brief asks for ≤ 0.5 mm, finer gains nothing for a vein …
    pub const FINE_PIXEL_MM: f64 = 0.3;
    /// … and at most this (mm).
    pub const COARSE_PIXEL_MM: f64 = 0.5;
    /// Largest axial plane of the centre search, pixels (a 1 m square at 0.5 mm).
    pub const CENTRES_MAX_PLANE_PIXELS: usize = 4_000_000;
}

/// A vein in the chest, not the IVC: lung beside it ([`crate::thorax`]).
pub mod thorax {
    /// Distance outside the vein's outline at which the ring is sampled, mm: past the wall and
    /// a thin fat or pleural layer, within the structure that abuts the vein.
    pub const RING_MM: f64 = 10.0;
    /// Air or lung on CT, HU (lung parenchyma −900 to −700; fat −100, so far above).
    pub const AIR_MAX_HU: f32 = -400.0;
    /// A section is beside air when this share of its ring is air (a quarter: lung on one
    /// side of the vein, not a stray gas bubble).
    pub const AIR_RING_FRACTION: f64 = 0.25;
    /// The tube is in the chest when this share of its sections is beside air (most of it:
    /// an IVC reaching the atrium, or passing one gas-filled bowel loop, is not).
    pub const CHEST_SECTION_FRACTION: f64 = 0.5;
    /// Samples on each ring (10° apart: a lung's edge spans several).
    pub const RING_SAMPLES: usize = 36;
}
