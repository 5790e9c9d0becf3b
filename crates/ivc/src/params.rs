//! Tuning numbers of the anatomical IVC detector ([`crate::anatomical`]), each with its
//! reason. They describe anatomy and CT physics, not one data set.

/// Spacing of the axial planes searched (mm): 3 planes fit a 20-slice 2 mm series at the
/// liver level, the shortest real coverage we accept.
pub const PLANE_STEP_MM: f64 = 6.0;
/// In-plane sampling (mm): the IVC (≥ 10 mm across when not collapsed) spans ≥ 5 samples.
pub const GRID_MM: f64 = 2.0;
/// Body outline on CT (HU): above air and lung.
pub const BODY_MIN_HU: f32 = -500.0;
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
