//! The hybrid phantom: a real CT (unenhanced, with its TotalSegmentator label map) as
//! the background, virtual contrast phases painted per label, and an inserted lesion
//! with exact truth.
//!
//! - **Phases.** The unenhanced series is the background itself. Each labelled structure
//!   gets the enhancement of its tissue (`tissue.rs` values minus the unenhanced value)
//!   added to the background, so the real texture and noise stay; the added field is
//!   blurred by a 3-tap binomial kernel per axis (a smooth blend over about one voxel at
//!   label edges) and is withheld from fat and gas inside a label (smoothstep −120…−40 HU
//!   of the background).
//! - **IVC.** An elliptical tube is fitted to the IVC label slice by slice (centroid and
//!   second moments, area kept, smoothed along z) and repainted: that tube, not the label,
//!   is the phantom's IVC, so the truth profile is exact for what is painted. A lesion
//!   dilates or flattens the tube as in the analytic phantom (`ivc.rs`).
//! - **Painted tissue** (tube, renal veins, collaterals, the mass) takes its absolute
//!   value plus a residual drawn (by a fixed hash of the voxel) from the background's own
//!   high-pass residuals inside uniform organs (liver, spleen, muscles: background minus
//!   its binomial blur, rescaled to white-noise SD, within ±3.5 SD): the real noise
//!   distribution, without the ghost of the anatomy underneath (the residual in place
//!   would carry its edges); spatially white.
//!   Partial volume is the one-voxel ramp of the analytic phantom.
//! - **Lesions**: `ivc_leiomyosarcoma` (plug filling and dilating the middle-segment IVC,
//!   an extraluminal part right-posterior of it, enlarged azygos / hemiazygos / gonadal /
//!   lumbar veins placed from the vertebra labels), `extrinsic_compression` and
//!   `liposarcoma` (ellipsoid anterior of the infrarenal IVC flattening it; the vacated
//!   part of the old lumen becomes fat), `normal` (none). The lesion models and the truth
//!   are those of the analytic phantom ([`crate::truth`]).
//!
//! Renal veins are not in TotalSegmentator's `total` task: they are painted as tubes
//! from each kidney's hilum to the IVC at the renal level (the mean z of the kidney
//! centroids), the left one passing anterior to the aorta.

use crate::anatomy::{
    extrinsic_draws, extrinsic_mass, leiomyosarcoma_draws, pre_aortic_point, Anatomy, MassModel, Vein,
    EXTRINSIC_GAP_MM, PLUG_TAPER_MM, RENAL_VEIN_LEFT_RADIUS_MM, RENAL_VEIN_RIGHT_RADIUS_MM,
};
use crate::case::CaseName;
use crate::ivc::{Ivc, IvcTable};
use crate::options::{Orientation, PhantomOptions};
use crate::protocol::{ct_protocol, SeriesSpec};
use crate::render::Rendered;
use crate::shapes::{capsule_sd, coverage, smoothstep, Aabb};
use crate::tissue::{base_props, Props, Tissue};
use crate::{PhantomError, PhantomStudy};
use cavascope_imaging::stats::{upper_median_f32, MAD_TO_SD};
use cavascope_volume::{Geometry, VolumeMeta};
use nalgebra::{Point3, Vector3};
use ndarray::{Array3, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::Path;

/// TotalSegmentator `total` task class ids used here (`map_to_binary.py` of
/// totalsegmentator 2.18.0, class map "total").
#[allow(missing_docs)] // each name is the TotalSegmentator class it numbers
pub mod ts {
    pub const SPLEEN: u8 = 1;
    pub const KIDNEY_RIGHT: u8 = 2;
    pub const KIDNEY_LEFT: u8 = 3;
    pub const GALLBLADDER: u8 = 4;
    pub const LIVER: u8 = 5;
    pub const STOMACH: u8 = 6;
    pub const PANCREAS: u8 = 7;
    pub const ADRENAL_RIGHT: u8 = 8;
    pub const ADRENAL_LEFT: u8 = 9;
    pub const ESOPHAGUS: u8 = 15;
    pub const SMALL_BOWEL: u8 = 18;
    pub const DUODENUM: u8 = 19;
    pub const COLON: u8 = 20;
    pub const VERTEBRAE_L5: u8 = 27;
    pub const VERTEBRAE_L4: u8 = 28;
    pub const VERTEBRAE_L3: u8 = 29;
    pub const VERTEBRAE_L2: u8 = 30;
    pub const VERTEBRAE_L1: u8 = 31;
    pub const VERTEBRAE_T12: u8 = 32;
    pub const VERTEBRAE_T11: u8 = 33;
    pub const HEART: u8 = 51;
    pub const AORTA: u8 = 52;
    pub const SVC: u8 = 62;
    pub const IVC: u8 = 63;
    pub const PORTAL_SPLENIC_VEIN: u8 = 64;
    pub const ILIAC_ARTERY_LEFT: u8 = 65;
    pub const ILIAC_ARTERY_RIGHT: u8 = 66;
    pub const ILIAC_VEIN_LEFT: u8 = 67;
    pub const ILIAC_VEIN_RIGHT: u8 = 68;
    /// Gluteal muscles 80–85, autochthon 86/87, iliopsoas 88/89.
    pub const MUSCLES: std::ops::RangeInclusive<u8> = 80..=89;
}

/// Portal / splenic vein, CT HU U/A/PV/D: splenic return opacifies it before the
/// hepatic veins (late arterial ~110), peak in the portal phase.
const PORTAL_VEIN_CT: [f32; 4] = [40.0, 110.0, 175.0, 120.0];
/// Pancreas: arterial (pancreatic phase) peak, then washing out.
const PANCREAS_CT: [f32; 4] = [40.0, 110.0, 95.0, 75.0];

/// What the phantom paints a labelled structure with.
fn label_ct(id: u8) -> Option<[f32; 4]> {
    use ts::*;
    let t = |t: Tissue| Some(base_props(t).ct);
    match id {
        AORTA | ILIAC_ARTERY_LEFT | ILIAC_ARTERY_RIGHT => t(Tissue::ArterialBlood),
        PORTAL_SPLENIC_VEIN => Some(PORTAL_VEIN_CT),
        ILIAC_VEIN_LEFT | ILIAC_VEIN_RIGHT => t(Tissue::IliacVein),
        LIVER => t(Tissue::Liver),
        SPLEEN => t(Tissue::Spleen),
        KIDNEY_RIGHT | KIDNEY_LEFT => t(Tissue::Kidney),
        PANCREAS => Some(PANCREAS_CT),
        HEART => t(Tissue::RightAtrium),
        SVC => t(Tissue::IvcBlood),
        ADRENAL_RIGHT | ADRENAL_LEFT | STOMACH | SMALL_BOWEL | DUODENUM | COLON | ESOPHAGUS => {
            t(Tissue::SoftTissue)
        }
        id if ts::MUSCLES.contains(&id) => t(Tissue::Muscle),
        // The IVC is repainted from its fitted tube; bone, fluid and the rest unchanged.
        _ => None,
    }
}

/// The tissue a label stands for in [`Labels::tissue`].
fn label_tissue(id: u8, hu: f32) -> Tissue {
    use ts::*;
    match id {
        AORTA | ILIAC_ARTERY_LEFT | ILIAC_ARTERY_RIGHT => Tissue::ArterialBlood,
        PORTAL_SPLENIC_VEIN => Tissue::HepaticVein,
        ILIAC_VEIN_LEFT | ILIAC_VEIN_RIGHT => Tissue::IliacVein,
        IVC => Tissue::IvcBlood,
        LIVER => Tissue::Liver,
        SPLEEN => Tissue::Spleen,
        KIDNEY_RIGHT | KIDNEY_LEFT => Tissue::Kidney,
        HEART => Tissue::RightAtrium,
        25..=50 | 69..=78 | 91..=117 => Tissue::Bone,
        id if ts::MUSCLES.contains(&id) => Tissue::Muscle,
        _ => tissue_by_hu(hu),
    }
}

fn tissue_by_hu(hu: f32) -> Tissue {
    if hu < -500.0 {
        Tissue::Air
    } else if hu < -30.0 {
        Tissue::Fat
    } else if hu > 250.0 {
        Tissue::Bone
    } else {
        Tissue::SoftTissue
    }
}

/// A real unenhanced CT and its TotalSegmentator label map on the same axial grid
/// (patient LPS, slice axis towards the head).
#[derive(Debug, Clone)]
pub struct Background {
    /// The CT, HU, `[slice, row, column]`.
    pub hu: Array3<f32>,
    /// TotalSegmentator `total` labels on the same grid ([`ts`]).
    pub labels: Array3<u8>,
    /// The shared grid.
    pub geometry: Geometry,
    /// Where it came from (file names), for the truth's notes.
    pub source: String,
}

impl Background {
    /// Read a CT and its label map (NIfTI, `.nii` or `.nii.gz`). Labels on another grid
    /// are resampled onto the CT's (nearest neighbour). Both are flipped (exactly, no
    /// interpolation) to the DICOM axial convention: rows along +x (patient left),
    /// columns along +y (posterior), slices towards the head.
    pub fn load(ct: &Path, labels: &Path) -> Result<Background, PhantomError> {
        let vol_err = |p: &Path, e: cavascope_volume::VolumeError| {
            PhantomError::Invalid(format!("{}: {e}", p.display()))
        };
        let (hu, g) = cavascope_volume::nifti_io::read_nifti(ct).map_err(|e| vol_err(ct, e))?;
        let (lab, lg) = cavascope_volume::nifti_io::read_nifti(labels).map_err(|e| vol_err(labels, e))?;
        if let Some(bad) = lab
            .iter()
            .find(|v| !(v.is_finite() && **v >= 0.0 && **v <= 255.0 && v.fract() == 0.0))
        {
            return Err(PhantomError::Invalid(format!(
                "{}: not a label map (value {bad}; labels are integers 0-255)",
                labels.display()
            )));
        }
        let lab = lab.mapv(|v| v as u8);
        let lab = if lab.dim() == hu.dim() && lg.max_abs_diff(&g) < 1e-3 {
            lab
        } else {
            resample_labels(&lab, &lg, &g, hu.dim())
        };
        let name = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        Background::new(hu, lab, g, format!("{} with labels {}", name(ct), name(labels)))
            .map_err(|m| PhantomError::Invalid(format!("{}: {m}", ct.display())))
    }

    /// From arrays `[slice, row, column]` on `geometry` (flipped to the axial convention;
    /// an oblique grid is refused).
    pub fn new(
        mut hu: Array3<f32>,
        mut labels: Array3<u8>,
        geometry: Geometry,
        source: String,
    ) -> Result<Background, String> {
        if hu.dim() != labels.dim() {
            return Err(format!(
                "CT {:?} and labels {:?} differ in shape",
                hu.dim(),
                labels.dim()
            ));
        }
        let (ns, nr, nc) = hu.dim();
        if ns < 8 || nr < 16 || nc < 16 {
            return Err(format!("volume {nc}×{nr}×{ns} is too small for a phantom"));
        }
        let mut origin = geometry.origin();
        let sp = geometry.spacing();
        let n = [nc, nr, ns];
        let want = [Vector3::x(), Vector3::y(), Vector3::z()];
        // Axis a of the grid (i, j, k) maps onto array axis 2, 1, 0.
        for a in 0..3 {
            let d = geometry.direction(a);
            if d.dot(&want[a]) < -0.999 {
                origin += d * sp[a] * (n[a] - 1) as f64;
                hu.invert_axis(Axis(2 - a));
                labels.invert_axis(Axis(2 - a));
            } else if d.dot(&want[a]) < 0.999 {
                return Err(format!(
                    "only axial volumes are supported (axis {a} direction {:.3} {:.3} {:.3})",
                    d.x, d.y, d.z
                ));
            }
        }
        let geometry = Geometry::from_axes(origin, want[0], want[1], want[2], sp);
        Ok(Background {
            hu: hu.as_standard_layout().to_owned(),
            labels: labels.as_standard_layout().to_owned(),
            geometry,
            source,
        })
    }

    fn shape(&self) -> [usize; 3] {
        let (a, b, c) = self.hu.dim();
        [a, b, c]
    }

    fn world(&self, k: usize, j: usize, i: usize) -> Point3<f64> {
        self.geometry.index_to_world([i as f64, j as f64, k as f64])
    }

    fn z_of(&self, k: usize) -> f64 {
        self.world(k, 0, 0).z
    }

    /// Voxels of one label per slice (world x, y), for slices that hold it.
    fn slices_of(&self, id: u8) -> Vec<(usize, Vec<(f64, f64)>)> {
        let [ns, nr, nc] = self.shape();
        (0..ns)
            .filter_map(|k| {
                let mut pts = Vec::new();
                for j in 0..nr {
                    for i in 0..nc {
                        if self.labels[[k, j, i]] == id {
                            let p = self.world(k, j, i);
                            pts.push((p.x, p.y));
                        }
                    }
                }
                (!pts.is_empty()).then_some((k, pts))
            })
            .collect()
    }

    /// Centroid and voxel count of a label.
    fn centroid(&self, id: u8) -> Option<(Point3<f64>, usize)> {
        let mut s = Vector3::zeros();
        let mut n = 0usize;
        for ((k, j, i), &v) in self.labels.indexed_iter() {
            if v == id {
                s += self.world(k, j, i).coords;
                n += 1;
            }
        }
        (n > 0).then(|| (Point3::from(s / n as f64), n))
    }
}

fn resample_labels(lab: &Array3<u8>, lg: &Geometry, g: &Geometry, dim: (usize, usize, usize)) -> Array3<u8> {
    let (ns, nr, nc) = lab.dim();
    Array3::from_shape_fn(dim, |(k, j, i)| {
        let p = g.index_to_world([i as f64, j as f64, k as f64]);
        let q = lg.world_to_index(&p);
        let r = q.map(|x| x.round());
        if r[0] < 0.0
            || r[1] < 0.0
            || r[2] < 0.0
            || r[0] >= nc as f64
            || r[1] >= nr as f64
            || r[2] >= ns as f64
        {
            0
        } else {
            lab[[r[2] as usize, r[1] as usize, r[0] as usize]]
        }
    })
}

/// Cases a real background can carry.
pub fn supports(case: CaseName) -> bool {
    matches!(
        case,
        CaseName::Normal
            | CaseName::IvcLeiomyosarcoma
            | CaseName::ExtrinsicCompression
            | CaseName::Liposarcoma
    )
}

/// Ellipse (centre, semi-axes a ≥ b, rotation of a from +x) with the same centroid,
/// second moments and area as a set of voxel centres of area `px_area` each.
fn fit_ellipse(pts: &[(f64, f64)], px_area: f64) -> (f64, f64, f64, f64, f64) {
    let n = pts.len().max(1) as f64;
    let (mx, my) = pts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let (mx, my) = (mx / n, my / n);
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for p in pts {
        sxx += (p.0 - mx).powi(2);
        syy += (p.1 - my).powi(2);
        sxy += (p.0 - mx) * (p.1 - my);
    }
    // A voxel's own extent adds h²/12 per axis.
    let h2 = px_area / 12.0;
    let (sxx, syy, sxy) = (sxx / n + h2, syy / n + h2, sxy / n);
    let tr = sxx + syy;
    let disc = (((sxx - syy) / 2.0).powi(2) + sxy * sxy).sqrt();
    let l1 = (tr / 2.0 + disc).max(1e-6);
    let l2 = (tr / 2.0 - disc).max(1e-6);
    let rot = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    // A uniform ellipse has variances a²/4, b²/4; then scale to the label's area.
    let (a, b) = (2.0 * l1.sqrt(), 2.0 * l2.sqrt());
    let area = n * px_area;
    let s = (area / (std::f64::consts::PI * a * b)).sqrt();
    (mx, my, a * s, b * s, rot)
}

/// 3-tap binomial blur along every axis (edges clamp).
fn blur3(v: &Array3<f32>) -> Array3<f32> {
    let mut out = v.clone();
    for ax in 0..3 {
        let src = out.clone();
        let n = src.len_of(Axis(ax));
        if n < 2 {
            continue;
        }
        ndarray::Zip::indexed(&mut out).par_for_each(|(k, j, i), o| {
            let idx = [k, j, i];
            let c = idx[ax];
            let at = |m: usize| {
                let mut q = idx;
                q[ax] = m;
                src[q]
            };
            let lo = at(c.saturating_sub(1));
            let hi = at((c + 1).min(n - 1));
            *o = 0.25 * lo + 0.5 * at(c) + 0.25 * hi;
        });
    }
    out
}

/// The SD a 3-D white noise keeps through the high-pass (background minus `blur3`):
/// √(1 − 2·0.125 + 0.375³) = 0.896 — the [1 2 1]/4 kernel's centre is 0.125 in 3-D and
/// its squared weights sum to 0.375 per axis.
const HIGH_PASS_NOISE_GAIN: f32 = 0.896;
/// Soft tissue inside a uniform organ's interior, HU: fat and contrast-dense voxels (an
/// odd vessel or calcification in the organ) are left out of the noise sample.
const NOISE_ORGAN_HU: std::ops::RangeInclusive<f32> = -50.0..=150.0;
/// Organ-interior voxels needed for the organ estimate; below, every soft-tissue voxel
/// of the volume (`NOISE_FALLBACK_HU`) is sampled instead.
const NOISE_MIN_ORGAN_VOXELS: usize = 1000;
/// Soft tissue, HU, for the whole-volume fallback sample.
const NOISE_FALLBACK_HU: std::ops::RangeInclusive<f32> = -50.0..=100.0;
/// Fewer soft-tissue voxels than this: no estimate; `NOISE_DEFAULT_SD` and no bank.
const NOISE_MIN_VOXELS: usize = 100;
/// The SD assumed without an estimate, HU: a typical abdominal CT's.
const NOISE_DEFAULT_SD: f32 = 10.0;
/// Floor of the estimate, HU: a denoised or synthetic background still gets some noise.
const NOISE_MIN_SD: f32 = 1.0;
/// Residuals beyond this many SD are left out of the bank (an odd edge voxel in an organ
/// is not noise).
const NOISE_BANK_CLIP_SD: f32 = 3.5;

/// Robust noise SD (MAD) of the high-pass residual inside uniform organs (interior
/// voxels of liver, spleen and the labelled muscles: away from edges, whose residual is
/// structure, not noise); all soft-tissue voxels when those are too few.
fn noise_sd(bg: &Background, hp: &Array3<f32>) -> (f32, Vec<f32>) {
    let uniform = |l: u8| l == ts::LIVER || l == ts::SPLEEN || ts::MUSCLES.contains(&l);
    let (ns, nr, nc) = bg.labels.dim();
    let mut v: Vec<f32> = Vec::new();
    for ((k, j, i), &l) in bg.labels.indexed_iter() {
        if !uniform(l) || k == 0 || j == 0 || i == 0 || k + 1 >= ns || j + 1 >= nr || i + 1 >= nc {
            continue;
        }
        let nb = [
            (k - 1, j, i),
            (k + 1, j, i),
            (k, j - 1, i),
            (k, j + 1, i),
            (k, j, i - 1),
            (k, j, i + 1),
        ];
        if nb.iter().all(|q| bg.labels[*q] == l) && NOISE_ORGAN_HU.contains(&bg.hu[[k, j, i]]) {
            v.push(hp[[k, j, i]]);
        }
    }
    if v.len() < NOISE_MIN_ORGAN_VOXELS {
        v = bg
            .hu
            .iter()
            .zip(hp.iter())
            .filter(|(b, _)| NOISE_FALLBACK_HU.contains(*b))
            .map(|(_, h)| *h)
            .collect();
    }
    if v.len() < NOISE_MIN_VOXELS {
        return (NOISE_DEFAULT_SD, Vec::new());
    }
    // The residual's median is 0 (a high-pass), so the median |residual| is its MAD.
    let mut a: Vec<f32> = v.iter().map(|x| x.abs()).collect();
    let Some(mad) = upper_median_f32(&mut a) else {
        return (NOISE_DEFAULT_SD, Vec::new());
    };
    let sd = (mad * MAD_TO_SD as f32 / HIGH_PASS_NOISE_GAIN).max(NOISE_MIN_SD);
    // The bank of residuals painted tissue draws from: rescaled to white-noise SD, clipped.
    let bank = v
        .iter()
        .map(|x| x / HIGH_PASS_NOISE_GAIN)
        .filter(|x| x.abs() <= NOISE_BANK_CLIP_SD * sd)
        .collect();
    (sd, bank)
}

/// A residual from the bank for one voxel (a fixed hash of its index and the seed).
#[inline]
fn bank_at(bank: &[f32], seed: u64, idx: usize) -> f32 {
    if bank.is_empty() {
        return 0.0;
    }
    let mut x = seed ^ (idx as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    bank[(x % bank.len() as u64) as usize]
}

/// Vertebral body of a vertebra label: (centre x, anterior-surface y, centroid z).
fn vertebral_body(bg: &Background, id: u8) -> Option<(f64, f64, f64)> {
    let (c, n) = bg.centroid(id)?;
    if n < 20 {
        return None;
    }
    // Anterior surface: the 3rd percentile of y (LPS: anterior is −y) near its mid-level.
    let mut ys: Vec<f64> = Vec::new();
    let mut xs: Vec<f64> = Vec::new();
    for ((k, j, i), &v) in bg.labels.indexed_iter() {
        if v == id {
            let p = bg.world(k, j, i);
            if (p.z - c.z).abs() <= 6.0 {
                ys.push(p.y);
                xs.push(p.x);
            }
        }
    }
    if ys.is_empty() {
        return None;
    }
    ys.sort_by(|a, b| a.total_cmp(b));
    xs.sort_by(|a, b| a.total_cmp(b));
    let y_ant = ys[ys.len() * 3 / 100];
    Some((xs[xs.len() / 2], y_ant, c.z))
}

/// Everything painted besides the label-driven enhancement.
struct Paint {
    an: Anatomy,
    renal_veins: Vec<(Point3<f64>, Point3<f64>, f64)>,
    /// The original IVC label (vacated lumen becomes fat where the tube is flattened).
    vacate: bool,
}

/// Build a hybrid study: `case` on the real background, lesion drawn from `seed`.
pub fn generate_hybrid(case: CaseName, bg: &Background, seed: u64) -> Result<PhantomStudy, PhantomError> {
    if !supports(case) {
        return Err(PhantomError::Invalid(format!(
            "case {case} is not available on a real background (normal, ivc_leiomyosarcoma, extrinsic_compression, liposarcoma are)"
        )));
    }
    let sp = bg.geometry.spacing();
    let (table, z_first, z_last) = ivc_table(bg)?;

    // Landmarks from the labels.
    let kid_r = bg.centroid(ts::KIDNEY_RIGHT);
    let kid_l = bg.centroid(ts::KIDNEY_LEFT);
    let mut notes = vec![format!("hybrid phantom: background {}", bg.source)];
    let (renal_z, hepatic_z) = hybrid_landmarks(bg, [&kid_r, &kid_l], (z_first, z_last), &mut notes);

    let tab_at = |z: f64| {
        let f = ((z - table.z0) / table.dz).clamp(0.0, (table.cx.len() - 1) as f64);
        let i = f.round() as usize;
        (table.cx[i], table.cy[i], table.a[i], table.b[i])
    };
    let mid = tab_at(renal_z);
    let mut ivc = Ivc {
        z_bot: z_first - 0.5 * sp[2],
        z_top: z_last + 0.5 * sp[2],
        z_renal: renal_z,
        x0: mid.0,
        y0: mid.1,
        sway_amp: 0.0,
        sway_wavelength: 300.0,
        ant_slope: 0.0,
        post_slope: 0.0,
        a0: mid.2,
        b0: mid.3,
        rot: 0.0,
        dilation: None,
        flattening: None,
        table: Some(table.clone()),
    };

    let case_key = match case {
        CaseName::MriLeiomyosarcoma => CaseName::IvcLeiomyosarcoma as u64,
        c => c as u64,
    };
    let mut crng = ChaCha8Rng::seed_from_u64(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (case_key + 1).wrapping_mul(0xA24B_AED4_963E_E407)
            ^ 0x4859_4252,
    );
    let (mass, collaterals) = place_lesion(case, bg, &mut ivc, renal_z, hepatic_z, &mut crng)?;
    let enlarged = case == CaseName::IvcLeiomyosarcoma;

    let ivc_r = ivc.center_point(renal_z);
    let renal_veins = renal_veins(bg, [kid_r, kid_l], ivc_r, renal_z);

    let kc = |k: &Option<(Point3<f64>, usize)>, dflt: Point3<f64>| k.map(|x| x.0).unwrap_or(dflt);
    let liver_c = kc(&bg.centroid(ts::LIVER), ivc_r + Vector3::new(-40.0, -20.0, 60.0));
    let spleen_c = kc(&bg.centroid(ts::SPLEEN), ivc_r + Vector3::new(110.0, 20.0, 80.0));
    let ac = bg
        .centroid(ts::AORTA)
        .map(|c| c.0)
        .unwrap_or(ivc_r + Vector3::new(40.0, 5.0, 0.0));
    let an = Anatomy {
        case,
        seed,
        ivc,
        mass,
        collaterals,
        collaterals_enlarged: enlarged,
        hepatic_z,
        renal_z,
        aorta: (ac.x, ac.y, 10.0),
        // Empty: the hybrid paints nothing from analytic layers, and truth probes (which
        // need noise-free values) are left out.
        layers: Vec::new(),
        muscle_center_xy: (ivc_r.x - 10.0, ivc_r.y + 80.0),
        liver: (liver_c, [80.0, 70.0, 75.0]),
        spleen: (spleen_c, [30.0, 40.0, 50.0]),
        kidney_r: (
            kc(&kid_r, ivc_r + Vector3::new(-45.0, 40.0, 0.0)),
            [27.0, 21.0, 52.0],
        ),
        body: (0.0, 0.0, 0.0, 0.0),
        subcut_mm: 0.0,
        bowel_loops: Vec::new(),
    };
    let paint = Paint {
        an,
        renal_veins,
        vacate: matches!(case, CaseName::ExtrinsicCompression | CaseName::Liposarcoma),
    };

    // Painting.
    let specs = ct_protocol();
    let hp = {
        let b = blur3(&bg.hu);
        let mut h = bg.hu.clone();
        h -= &b;
        h
    };
    let (sd, bank) = noise_sd(bg, &hp);
    notes.push(format!(
        "background noise SD {sd:.1} HU (MAD of its high-pass residual inside liver, spleen and muscles); painted tissue draws its noise from those residuals"
    ));
    let enh = enhancement(bg);
    let h = sp[0].min(sp[1]);
    let rendered = paint_volumes(bg, &paint, &specs, &enh, &bank, h);

    let opts = hybrid_options(bg, seed, sd);
    let geometry = bg.geometry.clone();

    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ ((case as u64 + 1) << 40) ^ 0x4859_4252_4944);
    let mut study = crate::assemble(case, &paint.an, opts, specs, geometry, rendered, &mut rng);
    study.truth.notes.extend(notes);
    Ok(study)
}

/// The hepatic confluence (15 mm below the heart label, else just above the field of
/// view) and the renal level (mean z of the kidney centroids, else the IVC's middle),
/// as `(renal_z, hepatic_z)`; how each was placed goes to `notes`.
fn hybrid_landmarks(
    bg: &Background,
    kidneys: [&Option<(Point3<f64>, usize)>; 2],
    (z_first, z_last): (f64, f64),
    notes: &mut Vec<String>,
) -> (f64, f64) {
    let renal_z = match (kidneys[0], kidneys[1]) {
        (Some(r), Some(l)) => 0.5 * (r.0.z + l.0.z),
        (Some(k), None) | (None, Some(k)) => k.0.z,
        (None, None) => 0.5 * (z_first + z_last),
    };
    let z_hi_fov = bg.z_of(bg.shape()[0] - 1);
    let hepatic_z = if let Some(hz) = bg.slices_of(ts::HEART).first().map(|(k, _)| bg.z_of(*k) - 15.0) {
        notes.push("hepatic_vein_confluence_z_mm: 15 mm below the heart label".into());
        hz
    } else {
        notes.push(
            "hepatic_vein_confluence_z_mm: no heart label; placed 5 mm above the field of view (the IVC in view is middle/lower segment)"
                .into(),
        );
        z_hi_fov + 5.0
    };
    notes.push(format!(
        "renal_vein_inflow_z_mm: mean z of the kidney label centroids ({renal_z:.1}); renal veins painted from each hilum"
    ));
    (renal_z, hepatic_z)
}

/// The options the painted study is assembled with: the background's grid, its noise SD.
fn hybrid_options(bg: &Background, seed: u64, sd: f32) -> PhantomOptions {
    let [ns, nr, nc] = bg.shape();
    let sp = bg.geometry.spacing();
    let (z_lo_fov, z_hi_fov) = (bg.z_of(0), bg.z_of(ns - 1));
    let mut opts = PhantomOptions::small();
    opts.seed = seed;
    opts.cols = nc;
    opts.rows = nr;
    opts.slices = ns;
    opts.pixel_spacing_mm = sp[0];
    opts.slice_spacing_mm = sp[2];
    opts.slice_thickness_mm = Some(sp[2]);
    opts.orientation = Orientation::Axial;
    opts.reversed_slices = false;
    opts.noise_sd = sd;
    opts.center_z_mm = 0.5 * (z_lo_fov + z_hi_fov);
    opts
}

/// The background's source named in a reason it cannot carry a hybrid.
fn invalid(bg: &Background, m: String) -> PhantomError {
    PhantomError::Invalid(format!("{}: {m}", bg.source))
}

/// The IVC tube from its label: an ellipse per slice over the longest continuous run,
/// smoothed along z; with the z of the run's first and last slice.
fn ivc_table(bg: &Background) -> Result<(IvcTable, f64, f64), PhantomError> {
    let sp = bg.geometry.spacing();
    let px_area = sp[0] * sp[1];
    let slices = bg.slices_of(ts::IVC);
    if slices.len() < 5 {
        return Err(invalid(
            bg,
            format!(
                "the IVC label ({}) covers {} slices; at least 5 are needed",
                ts::IVC,
                slices.len()
            ),
        ));
    }
    let mut areas: Vec<f64> = slices.iter().map(|(_, p)| p.len() as f64 * px_area).collect();
    areas.sort_by(|a, b| a.total_cmp(b));
    let median = areas[areas.len() / 2];
    // The longest run of consecutive slices with at least half the median area (the
    // tapering ends of a label are partial-volume slivers).
    let good: Vec<&(usize, Vec<(f64, f64)>)> = slices
        .iter()
        .filter(|(_, p)| p.len() as f64 * px_area >= 0.5 * median)
        .collect();
    let mut best = (0usize, 0usize);
    let mut start = 0usize;
    for w in 1..=good.len() {
        if w == good.len() || good[w].0 != good[w - 1].0 + 1 {
            if w - start > best.1 - best.0 {
                best = (start, w);
            }
            start = w;
        }
    }
    let run = &good[best.0..best.1];
    if run.len() < 5 {
        return Err(invalid(
            bg,
            "the IVC label is not continuous over 5 slices".into(),
        ));
    }
    let fits: Vec<(f64, f64, f64, f64, f64)> = run.iter().map(|(_, p)| fit_ellipse(p, px_area)).collect();
    // Rotation is defined modulo π: unwrap, then smooth everything with [1 2 1]/4.
    let mut rot: Vec<f64> = fits.iter().map(|f| f.4).collect();
    for i in 1..rot.len() {
        while rot[i] - rot[i - 1] > std::f64::consts::FRAC_PI_2 {
            rot[i] -= std::f64::consts::PI;
        }
        while rot[i] - rot[i - 1] < -std::f64::consts::FRAC_PI_2 {
            rot[i] += std::f64::consts::PI;
        }
    }
    let smooth = |v: Vec<f64>| -> Vec<f64> {
        let n = v.len();
        (0..n)
            .map(|i| 0.25 * v[i.saturating_sub(1)] + 0.5 * v[i] + 0.25 * v[(i + 1).min(n - 1)])
            .collect()
    };
    let table = IvcTable {
        z0: bg.z_of(run[0].0),
        dz: sp[2],
        cx: smooth(fits.iter().map(|f| f.0).collect()),
        cy: smooth(fits.iter().map(|f| f.1).collect()),
        a: smooth(fits.iter().map(|f| f.2).collect()),
        b: smooth(fits.iter().map(|f| f.3).collect()),
        rot: smooth(rot),
    };
    Ok((table, bg.z_of(run[0].0), bg.z_of(run[run.len() - 1].0)))
}

/// The aorta at `z` (centre x, y and equivalent radius) from its label's nearest slice.
fn aorta_at(bg: &Background, z: f64) -> Option<(f64, f64, f64)> {
    let sp = bg.geometry.spacing();
    let sl = bg.slices_of(ts::AORTA);
    let (_, pts) = sl
        .iter()
        .min_by(|a, b| (bg.z_of(a.0) - z).abs().total_cmp(&(bg.z_of(b.0) - z).abs()))?;
    let (x, y, a, b, _) = fit_ellipse(pts, sp[0] * sp[1]);
    Some((x, y, (a * b).sqrt()))
}

/// Room left between a leiomyosarcoma's tapered plug and either end of the IVC in view
/// (or the hepatic confluence), mm: the whole tumour lies on the IVC in view, with
/// normal IVC beyond it.
const LESION_SPARE_MM: f64 = 8.0;
/// How far an extrinsic mass's level stays inside the IVC in view (from its lower end)
/// and below the renal veins, mm: the flattened stretch must lie on the IVC in view.
const FLATTENING_SPARE_MM: f64 = 15.0;

/// The case's lesion, drawn from `crng`, placed on the IVC in view (which it dilates or
/// flattens), and the collateral veins (enlarged ones only for a leiomyosarcoma).
fn place_lesion(
    case: CaseName,
    bg: &Background,
    ivc: &mut Ivc,
    renal_z: f64,
    hepatic_z: f64,
    crng: &mut ChaCha8Rng,
) -> Result<(Option<MassModel>, Vec<Vein>), PhantomError> {
    match case {
        CaseName::IvcLeiomyosarcoma => {
            // Middle segment as in the analytic phantom, kept inside the IVC in view with
            // 8 mm to spare at each end.
            let (len, want) = leiomyosarcoma_draws(crng, renal_z);
            let hi = ivc.z_top.min(hepatic_z) - len / 2.0 - PLUG_TAPER_MM - LESION_SPARE_MM;
            let lo = ivc.z_bot + len / 2.0 + PLUG_TAPER_MM + LESION_SPARE_MM;
            if hi < lo {
                return Err(invalid(
                    bg,
                    format!(
                        "the IVC in view ({:.0} mm) is too short for a {len:.0} mm tumour",
                        ivc.z_top - ivc.z_bot
                    ),
                ));
            }
            let zc = want.clamp(lo, hi);
            let mass = crate::anatomy::leiomyosarcoma(ivc, zc, len, crng);
            let collaterals = collateral_veins(bg, ivc, renal_z, aorta_at(bg, renal_z));
            if collaterals.is_empty() {
                return Err(invalid(
                    bg,
                    "no lumbar vertebra labels (27-32) to place the collateral veins".into(),
                ));
            }
            Ok((Some(mass), collaterals))
        }
        CaseName::ExtrinsicCompression | CaseName::Liposarcoma => {
            let lipo = case == CaseName::Liposarcoma;
            let (semi, want, b_contact) = extrinsic_draws(crng, lipo, renal_z);
            // The flattened stretch must lie on the IVC in view.
            let z = want.clamp(
                ivc.z_bot + FLATTENING_SPARE_MM,
                (renal_z - FLATTENING_SPARE_MM).max(ivc.z_bot + FLATTENING_SPARE_MM),
            );
            let (cx, cy) = ivc.center(z);
            let gap = EXTRINSIC_GAP_MM;
            let mut c = Point3::new(cx, cy - b_contact - gap - semi[1], z);
            // Keep the aorta uncovered: shift the mass to the right (−x) up to a quarter
            // of its width, which only widens the gap to the IVC slightly.
            if let Some((ax, ay, ar)) = aorta_at(bg, z) {
                let hits = |c: &Point3<f64>| {
                    let d = Vector3::new((ax - c.x) / (semi[0] + ar), (ay - c.y) / (semi[1] + ar), 0.0);
                    d.norm() < 1.0
                };
                let mut shift = 0.0;
                while hits(&c) && shift < 0.25 * semi[0] {
                    c.x -= 2.0;
                    shift += 2.0;
                }
            }
            let mass = extrinsic_mass(ivc, c, semi, gap, b_contact, lipo, crng);
            Ok((Some(mass), Vec::new()))
        }
        _ => Ok((None, Vec::new())),
    }
}

/// Renal veins: hilum (medial edge of the kidney at its centroid level) → IVC at the
/// renal level (`ivc_r`); the left one passes in front of the aorta. `kidneys`: the
/// right and left kidney label centroids.
fn renal_veins(
    bg: &Background,
    kidneys: [Option<(Point3<f64>, usize)>; 2],
    ivc_r: Point3<f64>,
    renal_z: f64,
) -> Vec<(Point3<f64>, Point3<f64>, f64)> {
    let mut renal_veins = Vec::new();
    for (kid, left) in [(kidneys[0], false), (kidneys[1], true)] {
        let Some((kc, _)) = kid else { continue };
        let id = if left { ts::KIDNEY_LEFT } else { ts::KIDNEY_RIGHT };
        let sl = bg.slices_of(id);
        let Some((k, pts)) = sl.iter().min_by(|a, b| {
            (bg.z_of(a.0) - kc.z)
                .abs()
                .total_cmp(&(bg.z_of(b.0) - kc.z).abs())
        }) else {
            continue;
        };
        let near: Vec<&(f64, f64)> = pts.iter().filter(|p| (p.1 - kc.y).abs() < 8.0).collect();
        let medial =
            near.iter()
                .map(|p| p.0)
                .fold(if left { f64::INFINITY } else { f64::NEG_INFINITY }, |a, x| {
                    if left {
                        a.min(x)
                    } else {
                        a.max(x)
                    }
                });
        if !medial.is_finite() {
            continue;
        }
        // The vein starts 8 mm inside the kidney's medial edge, slightly anterior.
        let hilum = Point3::new(medial + if left { 8.0 } else { -8.0 }, kc.y - 5.0, bg.z_of(*k));
        if left {
            if let Some((ax, ay, ar)) = aorta_at(bg, renal_z) {
                let pre = pre_aortic_point((ax, ay, ar), renal_z);
                renal_veins.push((hilum, pre, RENAL_VEIN_LEFT_RADIUS_MM));
                renal_veins.push((pre, ivc_r, RENAL_VEIN_LEFT_RADIUS_MM));
                continue;
            }
        }
        let radius = if left {
            RENAL_VEIN_LEFT_RADIUS_MM
        } else {
            RENAL_VEIN_RIGHT_RADIUS_MM
        };
        renal_veins.push((hilum, ivc_r, radius));
    }
    renal_veins
}

/// File name of the painted study's label map (TotalSegmentator `total` ids), beside
/// `truth.json`.
pub const LABELS_FILE: &str = "labels.nii.gz";
/// File name of the painted mass's binary mask, beside `truth.json`.
pub const MASS_FILE: &str = "mass.nii.gz";

/// The painted study's label map in TotalSegmentator `total` class ids, so that it reads
/// as `--anatomy` (or `--ivc-mask FILE:63`): the background's labels, with the IVC label
/// replaced by the painted tube (tumour inside it included: the vessel, as a segmenter
/// outlines it) — the old label's voxels outside the tube are what now lies there, no
/// vessel — and the painted mass outside the IVC unlabelled (`total` has no tumour class;
/// the organ or bowel it displaced is no longer there). Same grid as the written series.
pub fn painted_labels(bg: &Background, study: &PhantomStudy) -> Result<Array3<u8>, PhantomError> {
    let ivc = &study.labels.ivc.data;
    if ivc.dim() != bg.labels.dim() {
        return Err(PhantomError::Invalid(format!(
            "painted study {:?} and background labels {:?} differ in shape",
            ivc.dim(),
            bg.labels.dim()
        )));
    }
    let mass = study.labels.mass.as_ref().map(|m| &m.data);
    Ok(Array3::from_shape_fn(bg.labels.dim(), |q| {
        if ivc[q] {
            ts::IVC
        } else if mass.is_some_and(|m| m[q]) || bg.labels[q] == ts::IVC {
            0
        } else {
            bg.labels[q]
        }
    }))
}

/// Write [`painted_labels`] as `labels.nii.gz` and the painted mass (if any) as the binary
/// `mass.nii.gz` (for `--mass-mask`) into `out_dir`, each via a temporary name. Returns
/// the paths written.
pub fn write_labels(
    bg: &Background,
    study: &PhantomStudy,
    out_dir: &Path,
) -> Result<Vec<std::path::PathBuf>, PhantomError> {
    let err =
        |p: &Path, e: cavascope_volume::VolumeError| PhantomError::Invalid(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(out_dir).map_err(|e| PhantomError::io(out_dir, e))?;
    let labels = painted_labels(bg, study)?;
    let p = out_dir.join(LABELS_FILE);
    cavascope_volume::nifti_io::write_labels_nifti(&p, &labels, &study.labels.geometry)
        .map_err(|e| err(&p, e))?;
    let mut written = vec![p];
    if let Some(m) = &study.labels.mass {
        let p = out_dir.join(MASS_FILE);
        cavascope_volume::nifti_io::write_mask_nifti(&p, m).map_err(|e| err(&p, e))?;
        written.push(p);
    }
    Ok(written)
}

/// The series metadata the phantom writes for one series (analytic and hybrid alike).
pub(crate) fn meta_for(s: &SeriesSpec, uid: &str, study_uid: &str, for_uid: &str) -> VolumeMeta {
    VolumeMeta {
        modality: if s.kind.is_ct() { "CT" } else { "MR" }.to_string(),
        series_instance_uid: uid.to_string(),
        study_instance_uid: Some(study_uid.to_string()),
        frame_of_reference_uid: Some(for_uid.to_string()),
        series_number: Some(s.series_number),
        series_description: Some(s.description.clone()),
        protocol_name: Some(s.protocol_name.clone()),
        image_type: s.image_type.clone(),
        acquisition_time_s: Some(s.acquisition_time_s),
        contrast_agent: s.contrast_agent.clone(),
        contrast_start_time_s: s.contrast_start_time_s,
        echo_time_ms: s.echo_time_ms,
        repetition_time_ms: s.repetition_time_ms,
        inversion_time_ms: None,
        flip_angle_deg: s.flip_angle_deg,
        b_value: s.b_value,
        sequence_name: s.sequence_name.clone(),
        scanning_sequence: s.scanning_sequence.clone(),
        manufacturer: Some("cavascope phantom".to_string()),
        temporal_index: None,
        files: Vec::new(),
        ..Default::default()
    }
}

/// Enlarged collateral veins placed from the vertebra labels: azygos and hemiazygos
/// beside the vertebral bodies from the renal level up, right and left gonadal veins
/// below the renal veins, lumbar veins around the sides of L2–L4.
fn collateral_veins(bg: &Background, ivc: &Ivc, renal_z: f64, aorta: Option<(f64, f64, f64)>) -> Vec<Vein> {
    let bodies: Vec<(u8, (f64, f64, f64))> = (ts::VERTEBRAE_L5..=ts::VERTEBRAE_T11)
        .filter_map(|id| vertebral_body(bg, id).map(|b| (id, b)))
        .collect();
    if bodies.is_empty() {
        return Vec::new();
    }
    let p = Point3::new;
    let mut veins = Vec::new();
    // Paravertebral chains: points beside each body from the renal level upwards.
    let chain = |dx: f64| -> Vec<Point3<f64>> {
        let mut pts: Vec<Point3<f64>> = bodies
            .iter()
            .filter(|(_, b)| b.2 >= renal_z - 20.0)
            .map(|(_, b)| p(b.0 + dx, b.1 + 8.0, b.2))
            .collect();
        pts.sort_by(|a, b| a.z.total_cmp(&b.z));
        pts
    };
    for (name, dx, r) in [("azygos", -24.0, 5.5), ("hemiazygos", 24.0, 4.5)] {
        let pts = chain(dx);
        if pts.len() >= 2 {
            veins.push(Vein {
                name,
                points: pts,
                radius: r,
            });
        }
    }
    // Gonadal veins: along the psoas, joining the IVC (right) 30 mm below the renal
    // veins and the left renal vein level (left).
    let (icx, icy) = ivc.center(renal_z - 30.0);
    let z_low = (ivc.z_bot + 10.0).max(renal_z - 110.0);
    veins.push(Vein {
        name: "right_gonadal",
        points: vec![
            p(icx - 14.0, icy - 6.0, z_low),
            p(icx - 12.0, icy, renal_z - 55.0),
            p(icx - 8.0, icy, renal_z - 30.0),
        ],
        radius: 4.5,
    });
    if let Some((ax, ay, ar)) = aorta {
        veins.push(Vein {
            name: "left_gonadal",
            points: vec![
                p(ax + ar + 22.0, ay - 4.0, z_low),
                p(ax + ar + 20.0, ay, renal_z - 40.0),
                p(ax + ar + 18.0, ay + 4.0, renal_z - 8.0),
            ],
            radius: 4.5,
        });
    }
    // Lumbar veins: arcs around the sides of L2–L4 at mid-body.
    for (name, id) in [
        ("lumbar_1", ts::VERTEBRAE_L2),
        ("lumbar_2", ts::VERTEBRAE_L3),
        ("lumbar_3", ts::VERTEBRAE_L4),
    ] {
        if let Some((_, b)) = bodies.iter().find(|(i, _)| *i == id) {
            let (x, y, z) = *b;
            veins.push(Vein {
                name,
                points: vec![
                    p(x - 40.0, y + 40.0, z),
                    p(x - 26.0, y + 12.0, z),
                    p(x - 18.0, y + 2.0, z),
                ],
                radius: 4.0,
            });
            veins.push(Vein {
                name,
                points: vec![
                    p(x + 40.0, y + 40.0, z),
                    p(x + 26.0, y + 12.0, z),
                    p(x + 18.0, y + 2.0, z),
                ],
                radius: 4.0,
            });
        }
    }
    veins
}

/// Enhancement added to the background per post-contrast phase (arterial, portal,
/// delayed), from the labels, withheld from fat and gas, blurred.
fn enhancement(bg: &Background) -> [Array3<f32>; 3] {
    let gate = |hu: f32| smoothstep(-120.0, -40.0, hu as f64) as f32;
    let mk = |p: usize| {
        let raw = ndarray::Zip::from(&bg.labels)
            .and(&bg.hu)
            .par_map_collect(|&l, &hu| label_ct(l).map(|t| (t[p] - t[0]) * gate(hu)).unwrap_or(0.0));
        blur3(&raw)
    };
    [mk(1), mk(2), mk(3)]
}

fn paint_volumes(
    bg: &Background,
    paint: &Paint,
    specs: &[SeriesSpec],
    enh: &[Array3<f32>; 3],
    bank: &[f32],
    h: f64,
) -> Rendered {
    let an = &paint.an;
    let [ns, nr, nc] = bg.shape();
    let vein_caps: Vec<(Point3<f64>, Point3<f64>, f64)> = an
        .collaterals
        .iter()
        .flat_map(|v| {
            v.points
                .windows(2)
                .map(|w| (w[0], w[1], v.radius))
                .collect::<Vec<_>>()
        })
        .collect();
    let painter = Painter {
        bg,
        paint,
        specs,
        enh,
        bank,
        h,
        fat: base_props(Tissue::Fat),
        renal: base_props(Tissue::RenalVein),
        coll: base_props(Tissue::CollateralVein),
        vein_caps,
        mass_box: an.mass.as_ref().map(|m| m.bbox.expand(h)),
    };
    let slices: Vec<PaintedSlice> = (0..ns).into_par_iter().map(|k| painter.slice(k)).collect();
    rendered_of(slices, (ns, nr, nc), specs.len(), an.intraluminal())
}

/// One painted slice: each series' values, the top tissue and the IVC (bit 0) and mass
/// (bit 1) flags, per pixel.
struct PaintedSlice {
    vals: Vec<Vec<f32>>,
    tissue: Vec<u8>,
    flags: Vec<u8>,
}

/// What painting a slice reads: the background, the painted structures and the series.
struct Painter<'a> {
    bg: &'a Background,
    paint: &'a Paint,
    specs: &'a [SeriesSpec],
    enh: &'a [Array3<f32>; 3],
    bank: &'a [f32],
    /// Partial-volume ramp width, mm.
    h: f64,
    fat: Props,
    renal: Props,
    coll: Props,
    /// The collateral veins as capsules (segment ends, radius).
    vein_caps: Vec<(Point3<f64>, Point3<f64>, f64)>,
    mass_box: Option<Aabb>,
}

impl Painter<'_> {
    /// Slice `k`: the background (plus its phase's enhancement), then renal veins,
    /// collaterals, the IVC tube and the mass layered over it.
    fn slice(&self, k: usize) -> PaintedSlice {
        let (bg, paint, specs, h) = (self.bg, self.paint, self.specs, self.h);
        let an = &paint.an;
        let [_, nr, nc] = bg.shape();
        let nser = specs.len();
        let plane = nr * nc;
        let mut vals = vec![vec![0.0f32; plane]; nser];
        let mut tissue = vec![0u8; plane];
        let mut flags = vec![0u8; plane];
        let z = bg.z_of(k);
        let at = an.ivc.at_z(z);
        let flattened_here = an
            .ivc
            .flattening
            .as_ref()
            .is_some_and(|f| ((z - f.mass_center[2]) / f.mass_semi[2]).abs() < 1.0);
        let mut v = vec![0.0f32; nser];
        for j in 0..nr {
            for i in 0..nc {
                let idx = j * nc + i;
                let p = bg.world(k, j, i);
                let b = bg.hu[[k, j, i]];
                let r = bank_at(self.bank, an.seed, (k * nr + j) * nc + i);
                let lab = bg.labels[[k, j, i]];
                v[0] = b;
                for (ph, x) in v.iter_mut().enumerate().take(nser.min(4)).skip(1) {
                    *x = b + self.enh[ph - 1][[k, j, i]];
                }
                let mut top = label_tissue(lab, b);
                let layer = |v: &mut [f32], a: f32, pr: &Props| {
                    if a <= 0.0 {
                        return;
                    }
                    for (s, spec) in specs.iter().enumerate() {
                        let t = spec.kind.signal(pr) + r;
                        v[s] = (1.0 - a) * v[s] + a * t;
                    }
                };
                // Renal veins and collaterals first: the IVC and the mass cover their ends.
                for (caps, props, tissue) in [
                    (&paint.renal_veins, &self.renal, Tissue::RenalVein),
                    (&self.vein_caps, &self.coll, Tissue::CollateralVein),
                ] {
                    for (a0, a1, rad) in caps {
                        let a = coverage(capsule_sd(&p, a0, a1, *rad), h);
                        if a > 0.0 {
                            layer(&mut v, a, props);
                            if a >= 0.5 {
                                top = tissue;
                            }
                        }
                    }
                }
                let ivc_sd = an.ivc.sd_at(&at, &p);
                let a_ivc = coverage(ivc_sd, h);
                // The part of a compressed vein's old lumen outside the tube: fat.
                if paint.vacate && flattened_here && lab == ts::IVC && a_ivc < 1.0 {
                    layer(&mut v, 1.0 - a_ivc, &self.fat);
                    top = Tissue::Fat;
                }
                if a_ivc > 0.0 {
                    layer(&mut v, a_ivc, &an.ivc_blood(z));
                    if a_ivc >= 0.5 {
                        top = Tissue::IvcBlood;
                    }
                }
                let mut mass_in = false;
                if self.mass_box.as_ref().is_some_and(|bx| bx.contains(&p)) {
                    let msd = an.mass_sd_at(&p, &at);
                    mass_in = msd <= 0.0;
                    let a = coverage(msd, h);
                    if a > 0.0 {
                        let (t, pr) = an.mass_props(&p);
                        layer(&mut v, a, &pr);
                        if a >= 0.5 {
                            top = t;
                        }
                    }
                }
                for (s, spec) in specs.iter().enumerate() {
                    let (lo, hi) = spec.kind.value_range();
                    vals[s][idx] = ((v[s] + 16384.5) as i32 - 16384).clamp(lo as i32, hi as i32) as f32;
                }
                tissue[idx] = top as u8;
                flags[idx] = ((ivc_sd <= 0.0) as u8) | ((mass_in as u8) << 1);
            }
        }
        PaintedSlice { vals, tissue, flags }
    }
}

/// The painted slices stacked into the series, tissue map and truth masks.
fn rendered_of(
    slices: Vec<PaintedSlice>,
    shape: (usize, usize, usize),
    nser: usize,
    intraluminal: bool,
) -> Rendered {
    let (ns, nr, nc) = shape;
    let mut series: Vec<Vec<f32>> = (0..nser).map(|_| Vec::with_capacity(ns * nr * nc)).collect();
    let mut tissue = Vec::with_capacity(ns * nr * nc);
    let mut flags = Vec::with_capacity(ns * nr * nc);
    for s in slices {
        for (d, v) in series.iter_mut().zip(s.vals) {
            d.extend(v);
        }
        tissue.extend(s.tissue);
        flags.extend(s.flags);
    }
    Rendered::from_flags(series, tissue, &flags, shape, intraluminal)
}
