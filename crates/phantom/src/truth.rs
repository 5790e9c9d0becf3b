//! `truth.json`: what an analysis of the study should find, in the vocabulary of
//! report-v1, computed from the analytic shapes (and checked against the label maps in
//! tests).

use crate::anatomy::{Anatomy, MassKind};
use crate::case::CaseName;
use crate::ivc::Plug;
use crate::options::PhantomOptions;
use crate::protocol::{SeriesKind, SeriesSpec};
use crate::tissue::{base_props, Tissue};
use crate::PhantomError;
use cavascope_volume::Geometry;
use nalgebra::{Point3, Vector3};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Lumen counts as visible at a level when the flowing lumen is at least this fraction
/// of the IVC section (the tumour plug tapers over 5 mm at each end).
pub const LUMEN_VISIBLE_MIN_FRACTION: f64 = 0.5;

/// IVC landmarks, z in LPS mm.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Landmarks {
    /// Where the hepatic veins join the IVC (upper/middle segment boundary).
    pub hepatic_vein_confluence_z_mm: f64,
    /// Where the renal veins join the IVC (middle/lower segment boundary).
    pub renal_vein_inflow_z_mm: f64,
}

/// One level of the true IVC profile (every 1 mm of z).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfilePoint {
    /// Level, LPS z mm.
    pub z_mm: f64,
    /// Arc length from the lowest profile point, mm.
    pub s_mm: f64,
    /// Centreline point, LPS mm.
    pub center_mm: [f64; 3],
    /// Unit centreline direction.
    pub tangent: [f64; 3],
    /// Section perpendicular to the centreline.
    pub area_mm2: f64,
    /// Diameter of the circle with the section's area.
    pub equivalent_diameter_mm: f64,
    /// Minimum Feret diameter (the ellipse's short axis).
    pub min_diameter_mm: f64,
    /// Maximum Feret diameter (the ellipse's long axis).
    pub max_diameter_mm: f64,
    /// Anterior–posterior extent of the section.
    pub ap_diameter_mm: f64,
    /// Left–right extent of the section.
    pub transverse_diameter_mm: f64,
    /// Minimum over maximum Feret diameter (1 = round).
    pub flattening_ratio: f64,
    /// Area of the axial (z = const) section, what an axial label map holds.
    pub axial_area_mm2: f64,
    /// Flowing (opacifiable) lumen in the perpendicular section.
    pub lumen_area_mm2: f64,
    /// Flowing lumen ≥ `LUMEN_VISIBLE_MIN_FRACTION` of the section.
    pub lumen_visible: bool,
    /// `upper` (above the hepatic veins), `middle` or `lower` (below the renal veins).
    pub segment: String,
}

/// How much of the IVC shows a flowing, opacifiable lumen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LumenTruth {
    /// Fraction of profile levels with a visible lumen.
    pub visible_fraction: f64,
    /// Longest run of levels without a visible lumen, mm of z.
    pub longest_imperceptible_mm: f64,
    /// Each run without a visible lumen, `[z low, z high]`.
    pub imperceptible_ranges_z_mm: Vec<[f64; 2]>,
}

/// The true IVC: centreline, calibre along it, and its lumen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IvcTruth {
    /// Centreline points every 1 mm of z inside the field of view, LPS mm.
    pub centreline_mm: Vec<[f64; 3]>,
    /// Centreline length in the field of view.
    pub length_mm: f64,
    /// Largest equivalent diameter along the profile.
    pub max_equivalent_diameter_mm: f64,
    /// Smallest equivalent diameter along the profile.
    pub min_equivalent_diameter_mm: f64,
    /// Smallest flattening ratio along the profile.
    pub min_flattening_ratio: f64,
    /// Largest AP diameter where the IVC is flattened least / most (for the flat-cava rule).
    pub min_ap_diameter_mm: f64,
    /// One section per 1 mm of z.
    pub profile: Vec<ProfilePoint>,
    /// Where the lumen is visible.
    pub lumen: LumenTruth,
}

/// MRI values of the mass (MRI cases only).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MrTruth {
    /// Mass over muscle signal on the unenhanced T1.
    pub t1_ratio_to_muscle: f64,
    /// Mass over muscle signal on T2.
    pub t2_ratio_to_muscle: f64,
    /// 1e-3 mm²/s.
    pub adc_mean: f64,
    /// Liver ADC for reference, 1e-3 mm²/s.
    pub adc_liver: f64,
    /// Centre of the right paraspinal muscle at the mass centroid level.
    pub muscle_roi_center_mm: [f64; 3],
}

/// The true mass: size, position, make-up and enhancement.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MassTruth {
    /// Histology drawn, e.g. `leiomyosarcoma`, `retroperitoneal_soft_tissue`.
    pub kind: String,
    /// Volume, ml.
    pub volume_ml: f64,
    /// Largest extent, mm.
    pub max_diameter_mm: f64,
    /// Centroid, LPS mm.
    pub centroid_mm: [f64; 3],
    /// IVC segment at the centroid level (`upper`, `middle`, `lower`).
    pub ivc_segment: String,
    /// Fraction of the mass that is fat.
    pub fat_fraction: f64,
    /// Fraction that is calcified (0: no case draws calcification).
    pub calcified_fraction: f64,
    /// Tumour grows inside the IVC lumen.
    pub intraluminal_extension: bool,
    /// The mass touches the IVC wall.
    pub ivc_contact: bool,
    /// Arc of the IVC circumference the mass touches, degrees.
    pub contact_arc_deg: f64,
    /// Noise-free mean value inside the mass per series role (DWI: `mr_dwi_b0`,
    /// `mr_dwi_b800`).
    pub mean_by_role: BTreeMap<String, f64>,
    /// Noise-free SD inside the mass per series role.
    pub sd_by_role: BTreeMap<String, f64>,
    /// Enhancement pattern: `none`, `progressive`, `washout` or `plateau` (rule in `notes`).
    pub pattern: String,
    /// Coefficient of variation inside the mass on the arterial phase.
    pub arterial_heterogeneity_cv: f64,
    /// `arterial_heterogeneity_cv` ≥ 0.2.
    pub heterogeneous_arterial: bool,
    /// MRI values (MRI cases only).
    pub mr: Option<MrTruth>,
}

/// One collateral vein.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VeinTruth {
    /// Which vein (anatomical name).
    pub name: String,
    /// Its diameter, mm.
    pub diameter_mm: f64,
}

/// The collateral veins drawn.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CollateralTruth {
    /// Enlarged collaterals present (the `prominent_collaterals` sign).
    pub present: bool,
    /// Largest collateral diameter, mm.
    pub max_diameter_mm: f64,
    /// Every collateral drawn.
    pub veins: Vec<VeinTruth>,
}

/// A point with known noise-free values per role.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Probe {
    /// What the point is (e.g. `aorta`, `liver`).
    pub name: String,
    /// [`crate::Tissue`] name at the point.
    pub tissue: String,
    /// The point, LPS mm.
    pub point_mm: [f64; 3],
    /// Noise-free value per series role.
    pub values: BTreeMap<String, f64>,
}

/// Description of one written series.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeriesTruth {
    /// Series Instance UID written.
    pub series_instance_uid: String,
    /// report-v1 role the series should be given.
    pub role: String,
    /// SeriesDescription written.
    pub description: String,
    /// `CT` or `MR`.
    pub modality: String,
    /// AcquisitionTime, seconds since midnight.
    pub acquisition_time_s: f64,
    /// Diffusion b-value, s/mm² (DWI only).
    pub b_value: Option<f64>,
}

/// The grid every series shares.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GridTruth {
    /// `[columns, rows, slices]`.
    pub dims: [usize; 3],
    /// `[column, row, slice]` spacing, mm.
    pub spacing_mm: [f64; 3],
    /// Index `[i, j, k]` → LPS mm, row-major 4×4.
    pub affine: [[f64; 4]; 4],
    /// How the grid lies in the patient.
    pub orientation: crate::Orientation,
    /// Slice 0 at the head end.
    pub reversed_slices: bool,
}

/// Ground truth of one phantom study.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Truth {
    /// Version of this file's layout.
    pub schema_version: u32,
    /// The case drawn.
    pub case: CaseName,
    /// Seed of the anatomy and noise.
    pub seed: u64,
    /// `CT` or `MR`.
    pub modality: String,
    /// The shared grid.
    pub grid: GridTruth,
    /// IVC landmarks.
    pub landmarks: Landmarks,
    /// The IVC.
    pub ivc: IvcTruth,
    /// The mass; `None` in the normal case.
    pub mass: Option<MassTruth>,
    /// Collateral veins.
    pub collaterals: CollateralTruth,
    /// Every report-v1 sign id → "present" | "absent" | "indeterminate" (cannot be judged
    /// from this study's series, e.g. MRI signs on a CT study).
    pub expected_signs: BTreeMap<String, String>,
    /// Diagnosis the differential should rank first.
    pub expected_top_diagnosis: String,
    /// A point inside the IVC, for a seeded analysis (LPS mm).
    pub ivc_seed_mm: [f64; 3],
    /// A point inside the mass, for a seeded analysis (LPS mm).
    pub mass_seed_mm: Option<[f64; 3]>,
    /// series_instance_uid → report-v1 role.
    pub series_roles: BTreeMap<String, String>,
    /// Every series written, in order.
    pub series: Vec<SeriesTruth>,
    /// Points with known noise-free values.
    pub probes: Vec<Probe>,
    /// How the truth was computed (sampling steps, rules).
    pub notes: Vec<String>,
}

impl Truth {
    /// Read a `truth.json`.
    pub fn load(path: &Path) -> Result<Truth, PhantomError> {
        let text = std::fs::read_to_string(path).map_err(|e| PhantomError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| PhantomError::Json {
            path: path.to_path_buf(),
            source: e,
        })
    }

    /// Write it (temporary name, then rename).
    pub fn save(&self, path: &Path) -> Result<(), PhantomError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| PhantomError::Json {
            path: path.to_path_buf(),
            source: e,
        })?;
        crate::write::write_atomic(path, text.as_bytes())
    }

    /// The report-v1 role a series should get.
    pub fn role_of(&self, series_instance_uid: &str) -> Option<&str> {
        self.series_roles.get(series_instance_uid).map(|s| s.as_str())
    }
}

/// All 13 report-v1 sign ids.
pub const SIGN_IDS: [&str; 13] = [
    "dilated_ivc",
    "imperceptible_ivc_lumen",
    "prominent_collaterals",
    "ivc_extrinsic_compression",
    "intraluminal_extension",
    "heterogeneous_arterial_enhancement",
    "progressive_delayed_enhancement",
    "washout",
    "internal_fat",
    "calcification",
    "t1_hypointense",
    "t2_hyperintense",
    "diffusion_restriction",
];

pub(crate) fn segment_of(z: f64, hepatic_z: f64, renal_z: f64) -> &'static str {
    if z >= hepatic_z {
        "upper"
    } else if z >= renal_z {
        "middle"
    } else {
        "lower"
    }
}

fn role_key(s: &SeriesSpec) -> String {
    match s.kind {
        SeriesKind::MrDwi(b) => format!("mr_dwi_b{}", b.round() as i64),
        _ => s.role.clone(),
    }
}

/// Compute the truth of a study.
pub(crate) fn compute(
    an: &Anatomy,
    opts: &PhantomOptions,
    specs: &[SeriesSpec],
    uids: &[String],
    geometry: &Geometry,
) -> Truth {
    let shape = opts.shape();
    let mut notes = vec![
        "IVC profile: one point per 1 mm of z; sections perpendicular to the analytic centreline".to_string(),
        format!(
            "lumen_visible: flowing lumen >= {:.0}% of the section",
            LUMEN_VISIBLE_MIN_FRACTION * 100.0
        ),
        "mass values: noise-free means over the analytic mass (0.5-1 mm sampling), no partial volume".to_string(),
        "pattern rule: none if max delta < 10; progressive if delayed - portal >= 10; washout if mass - liver goes from >= 0 (arterial) to < 0 later; else plateau".to_string(),
    ];
    let plug = an.mass.as_ref().and_then(|m| m.plug.clone());
    let ivc = ivc_truth(an, geometry, shape, plug.as_ref());

    let mass = an.mass.as_ref().map(|m| mass_truth(an, m, specs, &mut notes));
    let collaterals = CollateralTruth {
        present: an.collaterals_enlarged,
        max_diameter_mm: an.collaterals.iter().map(|v| 2.0 * v.radius).fold(0.0, f64::max),
        veins: an
            .collaterals
            .iter()
            .map(|v| VeinTruth {
                name: v.name.to_string(),
                diameter_mm: 2.0 * v.radius,
            })
            .collect(),
    };
    let is_mr = an.case.is_mri();
    let (signs, top) = expected_signs(an, &ivc, mass.as_ref(), &collaterals, is_mr);
    let ivc_seed = ivc_seed(an, geometry, shape, plug.as_ref());
    let mass_seed = an.mass.as_ref().map(|m| match &m.plug {
        Some(p) => {
            let c = an.ivc.center_point(0.5 * (p.z0 + p.z1));
            [c.x, c.y, c.z]
        }
        None => [m.center.x, m.center.y, m.center.z],
    });

    let series: Vec<SeriesTruth> = specs
        .iter()
        .zip(uids)
        .map(|(s, u)| SeriesTruth {
            series_instance_uid: u.clone(),
            role: s.role.clone(),
            description: s.description.clone(),
            modality: if s.kind.is_ct() { "CT" } else { "MR" }.to_string(),
            acquisition_time_s: s.acquisition_time_s,
            b_value: s.b_value,
        })
        .collect();
    let series_roles = series
        .iter()
        .map(|s| (s.series_instance_uid.clone(), s.role.clone()))
        .collect();
    let probes = probes(an, specs, geometry, shape, ivc_seed);
    let aff = geometry.affine_rows().0;
    Truth {
        schema_version: 1,
        case: an.case,
        seed: an.seed,
        modality: if is_mr { "MR" } else { "CT" }.to_string(),
        grid: GridTruth {
            dims: [shape[2], shape[1], shape[0]],
            spacing_mm: geometry.spacing(),
            affine: aff,
            orientation: opts.orientation,
            reversed_slices: opts.reversed_slices,
        },
        landmarks: Landmarks {
            hepatic_vein_confluence_z_mm: an.hepatic_z,
            renal_vein_inflow_z_mm: an.renal_z,
        },
        ivc,
        mass,
        collaterals,
        expected_signs: signs,
        expected_top_diagnosis: top.to_string(),
        ivc_seed_mm: [ivc_seed.x, ivc_seed.y, ivc_seed.z],
        mass_seed_mm: mass_seed,
        series_roles,
        series,
        probes,
        notes,
    }
}

/// The IVC's truth within the field of view: its profile (one point per 1 mm of z),
/// length, extreme diameters and the lumen (`plug`: the tumour filling it).
fn ivc_truth(an: &Anatomy, geometry: &Geometry, shape: [usize; 3], plug: Option<&Plug>) -> IvcTruth {
    let (profile, length_mm) = ivc_profile(an, geometry, shape, plug);
    let ranges = imperceptible_ranges(&profile);
    let n = profile.len().max(1) as f64;
    let fold = |f: fn(&ProfilePoint) -> f64, max: bool| {
        profile
            .iter()
            .map(f)
            .fold(if max { f64::NEG_INFINITY } else { f64::INFINITY }, |a, b| {
                if max {
                    a.max(b)
                } else {
                    a.min(b)
                }
            })
    };
    IvcTruth {
        centreline_mm: profile.iter().map(|p| p.center_mm).collect(),
        length_mm,
        max_equivalent_diameter_mm: fold(|p| p.equivalent_diameter_mm, true),
        min_equivalent_diameter_mm: fold(|p| p.equivalent_diameter_mm, false),
        min_flattening_ratio: fold(|p| p.flattening_ratio, false),
        min_ap_diameter_mm: fold(|p| p.ap_diameter_mm, false),
        lumen: LumenTruth {
            visible_fraction: profile.iter().filter(|p| p.lumen_visible).count() as f64 / n,
            longest_imperceptible_mm: ranges.iter().map(|r| r[1] - r[0]).fold(0.0, f64::max),
            imperceptible_ranges_z_mm: ranges,
        },
        profile,
    }
}

/// The IVC profile within the field of view, one point per 1 mm of z, and its length
/// along the centreline, mm.
fn ivc_profile(
    an: &Anatomy,
    geometry: &Geometry,
    shape: [usize; 3],
    plug: Option<&Plug>,
) -> (Vec<ProfilePoint>, f64) {
    let (zlo, zhi) = {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let mut z = an.ivc.z_bot.ceil();
        while z <= an.ivc.z_top {
            if geometry.contains(&an.ivc.center_point(z), shape) {
                lo = lo.min(z);
                hi = hi.max(z);
            }
            z += 1.0;
        }
        (lo, hi)
    };
    let mut profile = Vec::new();
    let mut s_acc = 0.0;
    let mut prev: Option<Point3<f64>> = None;
    if zlo.is_finite() {
        let mut z = zlo;
        while z <= zhi + 1e-9 {
            let sec = an.ivc.section(z);
            if let Some(p) = prev {
                s_acc += (sec.center - p).norm();
            }
            prev = Some(sec.center);
            let fill = plug.map(|p| p.fill(z).clamp(0.0, 1.0)).unwrap_or(0.0);
            let lumen_area = sec.area_mm2 * (1.0 - fill * fill);
            let eqd = 2.0 * (sec.area_mm2 / std::f64::consts::PI).sqrt();
            profile.push(ProfilePoint {
                z_mm: z,
                s_mm: s_acc,
                center_mm: [sec.center.x, sec.center.y, sec.center.z],
                tangent: [sec.tangent.x, sec.tangent.y, sec.tangent.z],
                area_mm2: sec.area_mm2,
                equivalent_diameter_mm: eqd,
                min_diameter_mm: sec.min_diameter_mm,
                max_diameter_mm: sec.max_diameter_mm,
                ap_diameter_mm: sec.ap_diameter_mm,
                transverse_diameter_mm: sec.transverse_diameter_mm,
                flattening_ratio: sec.min_diameter_mm / sec.max_diameter_mm.max(1e-9),
                axial_area_mm2: sec.axial_area_mm2,
                lumen_area_mm2: lumen_area,
                lumen_visible: lumen_area >= LUMEN_VISIBLE_MIN_FRACTION * sec.area_mm2,
                segment: segment_of(z, an.hepatic_z, an.renal_z).to_string(),
            });
            z += 1.0;
        }
    }
    (profile, s_acc)
}

/// The z ranges (first, last profile point) where the lumen is not visible.
fn imperceptible_ranges(profile: &[ProfilePoint]) -> Vec<[f64; 2]> {
    let mut ranges: Vec<[f64; 2]> = Vec::new();
    let mut start: Option<f64> = None;
    let mut last = 0.0;
    for p in profile {
        if !p.lumen_visible {
            if start.is_none() {
                start = Some(p.z_mm);
            }
            last = p.z_mm;
        } else if let Some(s) = start.take() {
            ranges.push([s, last]);
        }
    }
    if let Some(s) = start {
        ranges.push([s, last]);
    }
    ranges
}

/// The IVC seed: an IVC level with a full, round lumen, away from the mass and in the
/// field of view (the first of a few candidate levels; 30 mm below the renal veins
/// when none qualifies).
fn ivc_seed(an: &Anatomy, geometry: &Geometry, shape: [usize; 3], plug: Option<&Plug>) -> Point3<f64> {
    for z in [
        an.renal_z - 30.0,
        an.renal_z + 15.0,
        an.hepatic_z - 5.0,
        an.ivc.z_bot + 25.0,
        an.renal_z - 10.0,
    ] {
        let c = an.ivc.center_point(z);
        let sec = an.ivc.section(z);
        let free = plug.map(|p| p.fill(z) <= 0.0).unwrap_or(true);
        let flat = sec.flattening_ratio_ok();
        if free && flat && an.mass_sd(&c) > 15.0 && geometry.contains(&c, shape) {
            return c;
        }
    }
    an.ivc.center_point(an.renal_z - 30.0)
}

impl crate::ivc::SectionGeom {
    fn flattening_ratio_ok(&self) -> bool {
        self.min_diameter_mm / self.max_diameter_mm.max(1e-9) > 0.5
    }
}

/// Sample the mass on a fine grid: volume, centroid, diameter, fractions, means.
fn mass_truth(
    an: &Anatomy,
    m: &crate::anatomy::MassModel,
    specs: &[SeriesSpec],
    notes: &mut Vec<String>,
) -> MassTruth {
    let nser = specs.len();
    let (sums, step) = sample_mass(an, m, specs);
    let count = sums.count;
    let c = count.max(1) as f64;
    let centroid = sums.cen / c;
    let dmax = boundary_diameter(&sums.boundary) + step; // sample centres sit up to half a step inside each end
    let mut mean_by_role = BTreeMap::new();
    let mut sd_by_role = BTreeMap::new();
    let mut means = vec![0.0; nser];
    for (s, spec) in specs.iter().enumerate() {
        let mu = sums.sum[s] / c;
        let var = (sums.sum2[s] / c - mu * mu).max(0.0);
        means[s] = mu;
        mean_by_role.insert(role_key(spec), mu);
        sd_by_role.insert(role_key(spec), var.sqrt());
    }
    let is_mr = an.case.is_mri();
    let (pattern, cv) = enhancement_pattern(specs, &means, &sums.sum2, c, is_mr);
    let centroid_p = Point3::from(centroid);
    let contact = contact_arc(an);
    let mr = if is_mr {
        let muscle = base_props(Tissue::Muscle);
        Some(MrTruth {
            t1_ratio_to_muscle: sums.t1s / c / muscle.t1[0] as f64,
            t2_ratio_to_muscle: sums.t2s / c / muscle.t2 as f64,
            adc_mean: sums.adcs / c,
            adc_liver: base_props(Tissue::Liver).adc as f64,
            muscle_roi_center_mm: [an.muscle_center_xy.0, an.muscle_center_xy.1, centroid.z],
        })
    } else {
        None
    };
    notes.push(format!("mass sampled at {step:.2} mm ({count} points)"));
    let kind = match m.kind {
        MassKind::Leiomyosarcoma => "leiomyosarcoma",
        MassKind::Cholangiocarcinoma => "cholangiocarcinoma",
        MassKind::Extrinsic => "retroperitoneal_soft_tissue",
        MassKind::Liposarcoma => "liposarcoma",
        MassKind::Hcc => "hepatocellular_carcinoma",
    };
    MassTruth {
        kind: kind.to_string(),
        volume_ml: count as f64 * step.powi(3) / 1000.0,
        max_diameter_mm: dmax,
        centroid_mm: [centroid.x, centroid.y, centroid.z],
        ivc_segment: segment_of(centroid_p.z, an.hepatic_z, an.renal_z).to_string(),
        fat_fraction: sums.fat as f64 / c,
        calcified_fraction: 0.0,
        intraluminal_extension: an.intraluminal(),
        ivc_contact: contact > 0.0,
        contact_arc_deg: contact,
        mean_by_role,
        sd_by_role,
        pattern: pattern.to_string(),
        arterial_heterogeneity_cv: cv,
        heterogeneous_arterial: cv >= 0.2,
        mr,
    }
}

/// Sums over the mass's sample points (one z plane's, or all of them).
#[derive(Default)]
struct MassSums {
    count: usize,
    cen: Vector3<f64>,
    /// Per series: sum and sum of squares of the noise-free signal.
    sum: Vec<f64>,
    sum2: Vec<f64>,
    fat: usize,
    t1s: f64,
    t2s: f64,
    adcs: f64,
    /// Sample points with a face neighbour outside the mass.
    boundary: Vec<Point3<f64>>,
}

impl MassSums {
    fn new(nser: usize) -> Self {
        MassSums {
            sum: vec![0.0; nser],
            sum2: vec![0.0; nser],
            ..Default::default()
        }
    }

    fn add(&mut self, pt: MassSums) {
        self.count += pt.count;
        self.cen += pt.cen;
        for s in 0..self.sum.len() {
            self.sum[s] += pt.sum[s];
            self.sum2[s] += pt.sum2[s];
        }
        self.fat += pt.fat;
        self.t1s += pt.t1s;
        self.t2s += pt.t2s;
        self.adcs += pt.adcs;
        self.boundary.extend(pt.boundary);
    }
}

/// Sample the mass on a regular grid over its box (about 1.5 million points, at least
/// 0.5 mm apart): the sums and the step, mm.
fn sample_mass(an: &Anatomy, m: &crate::anatomy::MassModel, specs: &[SeriesSpec]) -> (MassSums, f64) {
    let b = m.bbox.expand(1.0);
    let vol_box = (0..3).map(|a| b.hi[a] - b.lo[a]).product::<f64>();
    let step = (vol_box / 1.5e6).cbrt().max(0.5);
    let n = [0, 1, 2].map(|a| ((b.hi[a] - b.lo[a]) / step).ceil() as usize + 1);
    let nser = specs.len();
    // Inside/outside on the sample grid, one z plane per task (the IVC level is shared
    // by a plane, so its trigonometry is done once).
    let plane = n[0] * n[1];
    let zs = |kz: usize| b.lo[2] + kz as f64 * step;
    let ins: Vec<bool> = (0..n[2])
        .into_par_iter()
        .flat_map_iter(|kz| {
            let z = zs(kz);
            let at = an.ivc.at_z(z);
            (0..plane).map(move |q| {
                let p = Point3::new(
                    b.lo[0] + (q % n[0]) as f64 * step,
                    b.lo[1] + (q / n[0]) as f64 * step,
                    z,
                );
                an.mass_sd_at(&p, &at) <= 0.0
            })
        })
        .collect();
    let at = |kx: isize, ky: isize, kz: isize| {
        if kx < 0 || ky < 0 || kz < 0 || kx >= n[0] as isize || ky >= n[1] as isize || kz >= n[2] as isize {
            return false;
        }
        ins[kz as usize * plane + ky as usize * n[0] + kx as usize]
    };
    let parts: Vec<MassSums> = (0..n[2])
        .into_par_iter()
        .map(|kz| {
            let mut pt = MassSums::new(nser);
            for ky in 0..n[1] {
                for kx in 0..n[0] {
                    let (x, y, z) = (kx as isize, ky as isize, kz as isize);
                    if !at(x, y, z) {
                        continue;
                    }
                    let p = Point3::new(b.lo[0] + kx as f64 * step, b.lo[1] + ky as f64 * step, zs(kz));
                    pt.count += 1;
                    pt.cen += p.coords;
                    let (_, pr) = an.mass_props(&p);
                    for (s, spec) in specs.iter().enumerate() {
                        let v = spec.kind.signal(&pr) as f64;
                        pt.sum[s] += v;
                        pt.sum2[s] += v * v;
                    }
                    if pr.ct[0] <= -10.0 {
                        pt.fat += 1;
                    }
                    pt.t1s += pr.t1[0] as f64;
                    pt.t2s += pr.t2 as f64;
                    pt.adcs += pr.adc as f64;
                    // Boundary sample: a face neighbour is outside.
                    if !(at(x + 1, y, z)
                        && at(x - 1, y, z)
                        && at(x, y + 1, z)
                        && at(x, y - 1, z)
                        && at(x, y, z + 1)
                        && at(x, y, z - 1))
                    {
                        pt.boundary.push(p);
                    }
                }
            }
            pt
        })
        .collect();
    let mut sums = MassSums::new(nser);
    for pt in parts {
        sums.add(pt);
    }
    (sums, step)
}

/// Largest distance between (a subsample of at most about 4000 of) the boundary points.
fn boundary_diameter(boundary: &[Point3<f64>]) -> f64 {
    let stride = (boundary.len() / 4000).max(1);
    let pts: Vec<_> = boundary.iter().step_by(stride).collect();
    pts.par_iter()
        .enumerate()
        .map(|(i, a)| {
            pts[i + 1..]
                .iter()
                .map(|bb| (*a - *bb).norm())
                .fold(0.0f64, f64::max)
        })
        .reduce(|| 0.0, f64::max)
}

/// Enhancement pattern and arterial heterogeneity (coefficient of variation) from the
/// four dynamic phases (CT or T1); `("none", 0)` without all four. `means` and `sum2`:
/// per series, `c` the sample count.
fn enhancement_pattern(
    specs: &[SeriesSpec],
    means: &[f64],
    sum2: &[f64],
    c: f64,
    is_mr: bool,
) -> (&'static str, f64) {
    let dyn_idx: Vec<usize> = (0..4)
        .filter_map(|i| {
            specs.iter().position(|s| {
                matches!(s.kind, SeriesKind::Ct(j) if j == i)
                    || matches!(s.kind, SeriesKind::MrT1(j) if j == i)
            })
        })
        .collect();
    if dyn_idx.len() != 4 {
        return ("none", 0.0);
    }
    let liver = base_props(Tissue::Liver);
    let u0 = means[dyn_idx[0]];
    let d: Vec<f64> = dyn_idx.iter().map(|&i| means[i] - u0).collect();
    // MRI: relative enhancement in %, thresholds scaled the same way.
    let scale = if is_mr { 100.0 / u0.max(1e-9) } else { 1.0 };
    let d: Vec<f64> = d.iter().map(|x| x * scale).collect();
    let lv: Vec<f64> = (0..4)
        .map(|i| {
            if is_mr {
                liver.t1[i] as f64
            } else {
                liver.ct[i] as f64
            }
        })
        .collect();
    let maxd = d[1].max(d[2]).max(d[3]);
    let rel = |i: usize| means[dyn_idx[i]] - lv[i];
    let pattern = if maxd < 10.0 {
        "none"
    } else if rel(1) >= 0.0 && (rel(2) < 0.0 || rel(3) < 0.0) && d[3] < d[1] {
        "washout"
    } else if d[3] - d[2] >= 10.0 {
        "progressive"
    } else {
        "plateau"
    };
    let a = dyn_idx[1];
    let mu = means[a];
    let sd = (sum2[a] / c - mu * mu).max(0.0).sqrt();
    (pattern, if mu.abs() > 1e-9 { sd / mu.abs() } else { 0.0 })
}

/// Largest arc (degrees) of the IVC wall in contact with the mass over all levels:
/// wall points 3 mm outside (or 1 mm inside, for tumour in the lumen) that are mass.
fn contact_arc(an: &Anatomy) -> f64 {
    let Some(m) = &an.mass else { return 0.0 };
    let mut best: f64 = 0.0;
    let (z0, z1) = (m.bbox.lo[2].max(an.ivc.z_bot), m.bbox.hi[2].min(an.ivc.z_top));
    let mut z = z0.ceil();
    while z <= z1 {
        let (cx, cy) = an.ivc.center(z);
        let (a, b) = an.ivc.semi(z);
        let rot = an.ivc.rot_at(z);
        let (c, s) = (rot.cos(), rot.sin());
        let mut hits = 0;
        for k in 0..72 {
            let th = k as f64 * 5f64.to_radians();
            let (u, v) = (a * th.cos(), b * th.sin());
            let (x, y) = (c * u - s * v, s * u + c * v);
            let r = (x * x + y * y).sqrt().max(1e-9);
            let out = Point3::new(cx + x * (1.0 + 3.0 / r), cy + y * (1.0 + 3.0 / r), z);
            let inn = Point3::new(cx + x * (1.0 - 1.0 / r), cy + y * (1.0 - 1.0 / r), z);
            if an.mass_sd(&out) <= 0.0 || an.mass_sd(&inn) <= 0.0 {
                hits += 1;
            }
        }
        best = best.max(hits as f64 * 5.0);
        z += 1.0;
    }
    best
}

fn expected_signs(
    an: &Anatomy,
    ivc: &IvcTruth,
    mass: Option<&MassTruth>,
    col: &CollateralTruth,
    is_mr: bool,
) -> (BTreeMap<String, String>, &'static str) {
    let pa = |b: bool| if b { "present" } else { "absent" };
    let mut s = BTreeMap::new();
    s.insert("dilated_ivc", pa(ivc.max_equivalent_diameter_mm >= 28.0));
    s.insert(
        "imperceptible_ivc_lumen",
        pa(ivc.lumen.longest_imperceptible_mm >= 10.0),
    );
    s.insert("prominent_collaterals", pa(col.present));
    s.insert(
        "ivc_extrinsic_compression",
        pa(an.ivc.flattening.is_some() && ivc.min_ap_diameter_mm < 9.0),
    );
    s.insert("intraluminal_extension", pa(an.intraluminal()));
    let m = mass;
    s.insert(
        "heterogeneous_arterial_enhancement",
        pa(m.is_some_and(|m| m.heterogeneous_arterial)),
    );
    s.insert(
        "progressive_delayed_enhancement",
        pa(m.is_some_and(|m| m.pattern == "progressive")),
    );
    s.insert("washout", pa(m.is_some_and(|m| m.pattern == "washout")));
    // Fat and calcium are CT judgements here (no Dixon, no susceptibility series).
    let ct_only = |b: bool| if is_mr { "indeterminate" } else { pa(b) };
    s.insert("internal_fat", ct_only(m.is_some_and(|m| m.fat_fraction > 0.05)));
    s.insert(
        "calcification",
        ct_only(m.is_some_and(|m| m.calcified_fraction > 0.0)),
    );
    let mr_only = |b: bool| if is_mr { pa(b) } else { "indeterminate" };
    let mr = m.and_then(|m| m.mr.as_ref());
    s.insert(
        "t1_hypointense",
        mr_only(mr.is_some_and(|r| r.t1_ratio_to_muscle < 0.9)),
    );
    s.insert(
        "t2_hyperintense",
        mr_only(mr.is_some_and(|r| r.t2_ratio_to_muscle > 1.2)),
    );
    s.insert(
        "diffusion_restriction",
        mr_only(mr.is_some_and(|r| r.adc_mean < 1.2)),
    );
    let top = match an.case {
        CaseName::Normal => "no_mass",
        CaseName::IvcLeiomyosarcoma | CaseName::MriLeiomyosarcoma => "ivc_leiomyosarcoma",
        CaseName::CholangiocarcinomaMimic => "intrahepatic_cholangiocarcinoma",
        CaseName::ExtrinsicCompression => "extrinsic_retroperitoneal_mass",
        CaseName::Liposarcoma => "retroperitoneal_liposarcoma",
        CaseName::HccWashout => "hepatocellular_carcinoma",
    };
    (
        s.into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        top,
    )
}

/// Named points with noise-free values per role, checked to lie well inside their tissue.
fn probes(
    an: &Anatomy,
    specs: &[SeriesSpec],
    geometry: &Geometry,
    shape: [usize; 3],
    ivc_seed: Point3<f64>,
) -> Vec<Probe> {
    let (ax, ay, _) = an.aorta;
    let z_mid = an.renal_z + 20.0;
    let lc = an.liver.0;
    let cands: Vec<(&str, Point3<f64>)> = vec![
        ("aorta", Point3::new(ax, ay, z_mid)),
        ("ivc_lumen", ivc_seed),
        (
            "muscle_paraspinal",
            Point3::new(an.muscle_center_xy.0, an.muscle_center_xy.1, an.renal_z),
        ),
        ("liver", Point3::new(lc.x - 20.0, lc.y - 30.0, lc.z + 35.0)),
        ("spleen", an.spleen.0),
        ("kidney_right", an.kidney_r.0 + Vector3::new(-8.0, 0.0, 20.0)),
        (
            "subcutaneous_fat",
            Point3::new(an.body.0, an.body.1 - an.body.3 + 6.0, z_mid),
        ),
        ("vertebral_body", Point3::new(0.0, 50.0, an.renal_z + 17.0 + 4.0)),
    ];
    let mut out = Vec::new();
    for (name, p) in cands {
        if !geometry.contains(&p, shape) {
            continue;
        }
        let Some((t, props)) = pure_at(an, &p, 4.0) else {
            continue;
        };
        let values = specs
            .iter()
            .map(|s| (role_key(s), s.kind.signal(&props) as f64))
            .collect();
        out.push(Probe {
            name: name.to_string(),
            tissue: t.name().to_string(),
            point_mm: [p.x, p.y, p.z],
            values,
        });
    }
    out
}

/// The tissue at p when the top layer covers a ball of `radius` around it and its
/// values do not vary there; `None` otherwise.
pub(crate) fn pure_at(an: &Anatomy, p: &Point3<f64>, radius: f64) -> Option<(Tissue, crate::tissue::Props)> {
    let top = |q: &Point3<f64>| {
        an.layers
            .iter()
            .rev()
            .find(|l| an.layer_sd(l, q) < 0.0)
            .map(|l| an.layer_props(l, q))
    };
    let (t, pr) = top(p)?;
    let offs = [
        Vector3::new(radius, 0.0, 0.0),
        Vector3::new(-radius, 0.0, 0.0),
        Vector3::new(0.0, radius, 0.0),
        Vector3::new(0.0, -radius, 0.0),
        Vector3::new(0.0, 0.0, radius),
        Vector3::new(0.0, 0.0, -radius),
    ];
    for d in offs {
        let (t2, p2) = top(&(p + d))?;
        if t2 != t || p2 != pr {
            return None;
        }
    }
    // Layer distances: the top layer's boundary and any layer above must be ≥ radius away.
    for l in an.layers.iter().rev() {
        let sd = an.layer_sd(l, p);
        if sd < 0.0 {
            if sd > -radius {
                return None;
            }
            break;
        } else if sd < radius {
            return None;
        }
    }
    Some((t, pr))
}
