//! The values this stage hands to `features` and `report`. Field names follow
//! `shared/spec/report-v1.md`; a value that could not be measured is `None` and the
//! reason is pushed to `Measurements::warnings`.

#![warn(missing_docs)]

use cavascope_volume::{LabelMask, Mask, Point3};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Phase role of a series (report-v1 "Series roles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Unenhanced CT.
    CtUnenhanced,
    /// CT, arterial phase.
    CtArterial,
    /// CT, portal-venous phase.
    CtPortalVenous,
    /// CT, delayed (equilibrium) phase.
    CtDelayed,
    /// MRI T1, before contrast.
    MrT1Pre,
    /// MRI T1, arterial phase.
    MrT1Arterial,
    /// MRI T1, portal-venous phase.
    MrT1PortalVenous,
    /// MRI T1, delayed phase.
    MrT1Delayed,
    /// MRI T2.
    MrT2,
    /// MRI diffusion-weighted images.
    MrDwi,
    /// MRI apparent diffusion coefficient map.
    MrAdc,
    /// Any other series (not used for a measurement).
    Other,
}

impl Role {
    /// The report-v1 name (`ct_portal_venous`…).
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::CtUnenhanced => "ct_unenhanced",
            Role::CtArterial => "ct_arterial",
            Role::CtPortalVenous => "ct_portal_venous",
            Role::CtDelayed => "ct_delayed",
            Role::MrT1Pre => "mr_t1_pre",
            Role::MrT1Arterial => "mr_t1_arterial",
            Role::MrT1PortalVenous => "mr_t1_portal_venous",
            Role::MrT1Delayed => "mr_t1_delayed",
            Role::MrT2 => "mr_t2",
            Role::MrDwi => "mr_dwi",
            Role::MrAdc => "mr_adc",
            Role::Other => "other",
        }
    }

    /// The role with this report-v1 name.
    pub fn parse(s: &str) -> Option<Role> {
        Self::all().iter().copied().find(|r| r.as_str() == s)
    }

    /// Every role, in report order.
    pub fn all() -> &'static [Role] {
        &[
            Role::CtUnenhanced,
            Role::CtArterial,
            Role::CtPortalVenous,
            Role::CtDelayed,
            Role::MrT1Pre,
            Role::MrT1Arterial,
            Role::MrT1PortalVenous,
            Role::MrT1Delayed,
            Role::MrT2,
            Role::MrDwi,
            Role::MrAdc,
            Role::Other,
        ]
    }

    /// A post-contrast phase (CT or MRI T1)?
    pub fn is_post_contrast(&self) -> bool {
        matches!(
            self,
            Role::CtArterial
                | Role::CtPortalVenous
                | Role::CtDelayed
                | Role::MrT1Arterial
                | Role::MrT1PortalVenous
                | Role::MrT1Delayed
        )
    }

    /// The matching pre-contrast role for an enhancement baseline.
    pub fn is_baseline(&self) -> bool {
        matches!(self, Role::CtUnenhanced | Role::MrT1Pre)
    }
}

/// What decided a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleSource {
    /// From the DICOM tags (description, contrast, sequence).
    Tags,
    /// From the acquisition times of the series.
    Timing,
    /// From the image content (blood-pool enhancement).
    Content,
    /// Given by the user (`--phase`).
    User,
}

/// The role given to one volume (indexed like the input slice of volumes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseInfo {
    /// Index of the volume in the slice of volumes measured.
    pub volume_index: usize,
    /// Its series.
    pub series_instance_uid: String,
    /// The role given.
    pub role: Role,
    /// What decided it.
    pub role_source: RoleSource,
}

/// Where a segmentation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Found by the automatic search.
    Auto,
    /// Grown from a user's seed point.
    Seed,
    /// A label map given by the user (or the anatomy context).
    Mask,
}

/// IVC segment by level (case report: upper RA→hepatic veins, middle hepatic→renal, lower).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IvcSegment {
    /// Right atrium to the hepatic veins.
    Upper,
    /// Hepatic veins to the renal veins.
    Middle,
    /// Below the renal veins.
    Lower,
}

/// An external label map given by the user (`--ivc-mask`, `--mass-mask`), already read
/// (`cavascope_ingest::labelmap`) so that the anatomy crates need no file formats; a file
/// that could not be read is kept with its reason, which the stage reports.
#[derive(Debug, Clone)]
pub struct MaskInput {
    /// The file as given, for messages.
    pub path: PathBuf,
    /// The mask read, or why it could not be.
    pub read: Result<LabelMask, String>,
}

impl MaskInput {
    /// A read (or failed) label map of `path`.
    pub fn new<E: std::fmt::Display>(path: PathBuf, read: Result<LabelMask, E>) -> Self {
        MaskInput {
            path,
            read: read.map_err(|e| e.to_string()),
        }
    }
}

/// User inputs that steer the stage.
#[derive(Debug, Clone, Default)]
pub struct SegmentOptions {
    /// A point inside the IVC, LPS mm.
    pub ivc_seed: Option<Point3<f64>>,
    /// A point inside the mass, LPS mm.
    pub mass_seed: Option<Point3<f64>>,
    /// External IVC label map (NIfTI or DICOM SEG), as read by the caller.
    pub ivc_mask: Option<MaskInput>,
    /// External mass label map, as read by the caller.
    pub mass_mask: Option<MaskInput>,
    /// `series_instance_uid → role` overrides (`--phase`).
    pub phase_overrides: Vec<(String, Role)>,
    /// Anatomy context from another tool (`--anatomy`, TotalSegmentator labels), on the
    /// grid of one of the study's volumes. Its IVC label stands in for `ivc_mask` when that
    /// is not given (calibre still measured here); the other structures are for the mass,
    /// landmark and collateral measurements.
    pub anatomy: Option<std::sync::Arc<cavascope_volume::Anatomy>>,
}

/// Landmarks along the IVC (z in LPS mm).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Landmarks {
    /// z where the hepatic veins join the IVC, LPS mm.
    pub hepatic_vein_confluence_z_mm: Option<f64>,
    /// z where the renal veins join the IVC, LPS mm.
    pub renal_vein_inflow_z_mm: Option<f64>,
}

/// One cross-section perpendicular to the centreline, every 1 mm of arc length.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Section {
    /// Arc length from the lower end, mm.
    pub s_mm: f64,
    /// z of the section centre, LPS mm.
    pub z_mm: f64,
    /// Centre of the section, LPS mm.
    pub center_mm: [f64; 3],
    /// Unit tangent of the centreline.
    pub tangent: [f64; 3],
    /// Cross-section area, mm².
    pub area_mm2: f64,
    /// Diameter of the circle of the same area, mm.
    pub equivalent_diameter_mm: f64,
    /// Minimum Feret diameter.
    pub min_diameter_mm: f64,
    /// Maximum Feret diameter.
    pub max_diameter_mm: f64,
    /// Extent along patient anterior–posterior, in the section plane.
    pub ap_diameter_mm: f64,
    /// Extent along patient left–right, in the section plane.
    pub transverse_diameter_mm: f64,
    /// min / max Feret.
    pub flattening_ratio: f64,
    /// Opacified lumen seen on post-contrast images; `None` without a post-contrast phase.
    pub lumen_visible: Option<bool>,
    /// The IVC segment at this level, when the landmarks give it.
    pub segment: Option<IvcSegment>,
}

/// Lumen visibility along the IVC.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LumenSummary {
    /// Fraction of judged sections with an opacified lumen.
    pub visible_fraction: Option<f64>,
    /// Longest stretch (arc length) without an opacified lumen, mm.
    pub longest_imperceptible_mm: Option<f64>,
    /// The z ranges (LPS mm) of those stretches.
    pub imperceptible_ranges_z_mm: Vec<[f64; 2]>,
    /// The blood-pool reference the judgement used (e.g. "aorta, portal venous phase, 165 HU").
    pub reference: Option<String>,
}

/// The IVC along its course.
#[derive(Debug, Clone)]
pub struct IvcModel {
    /// How the IVC was segmented.
    pub source: Source,
    /// Series the IVC was measured on.
    pub reference_series: String,
    /// Length of the centreline, mm.
    pub length_mm: f64,
    /// Largest equivalent diameter along the IVC, mm.
    pub max_equivalent_diameter_mm: Option<f64>,
    /// Smallest equivalent diameter along the IVC, mm.
    pub min_equivalent_diameter_mm: Option<f64>,
    /// Smallest min/max Feret ratio along the IVC.
    pub min_flattening_ratio: Option<f64>,
    /// Smoothed centreline every 1 mm, LPS.
    pub centreline: Vec<Point3<f64>>,
    /// The sections, every 1 mm of arc length.
    pub profile: Vec<Section>,
    /// Lumen visibility along the IVC.
    pub lumen: LumenSummary,
    /// Label map on the reference series' grid.
    pub mask: Mask,
}

/// Enhancement of the mass on one phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseEnhancement {
    /// The phase.
    pub role: Role,
    /// Its series.
    pub series_instance_uid: String,
    /// Seconds after the study's first acquisition.
    pub acquisition_time_s: Option<f64>,
    /// Mean value inside the mass (CT: HU; MRI: signal), image noise not removed.
    pub mean: f64,
    /// Standard deviation inside the mass.
    pub sd: f64,
    /// Coefficient of variation (SD / |mean|).
    pub cv: f64,
    /// CT: HU change from unenhanced. MRI: relative enhancement, %.
    pub delta_from_unenhanced: Option<f64>,
    /// Mean per shell from the boundary (index 0) inwards, for rim-to-core behaviour.
    pub shell_means: Vec<f64>,
}

/// Enhancement pattern over the phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Enhancement still rises from the portal-venous to the delayed phase.
    Progressive,
    /// Enhancement falls after the arterial phase.
    Washout,
    /// Enhancement stays level.
    Plateau,
    /// No enhancement.
    None,
}

/// MRI measures of the mass.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MrMeasures {
    /// Mass / muscle signal ratio on T1 before contrast.
    pub t1_ratio_to_muscle: Option<f64>,
    /// Mass / muscle signal ratio on T2.
    pub t2_ratio_to_muscle: Option<f64>,
    /// 1e-3 mm²/s.
    pub adc_mean: Option<f64>,
    /// Mean ADC of a reference tissue (liver), 1e-3 mm²/s.
    pub adc_reference: Option<f64>,
    /// Where the muscle reference was placed, LPS mm.
    pub muscle_roi_center_mm: Option<[f64; 3]>,
}

/// The mass.
#[derive(Debug, Clone)]
pub struct MassModel {
    /// How the mass was segmented.
    pub source: Source,
    /// Volume, ml.
    pub volume_ml: f64,
    /// Largest diameter (maximum Feret), mm.
    pub max_diameter_mm: f64,
    /// Centroid, LPS mm.
    pub centroid_mm: [f64; 3],
    /// The IVC segment at the centroid's level, when the landmarks give it.
    pub ivc_segment: Option<IvcSegment>,
    /// Arc of the IVC circumference the mass touches, degrees.
    pub contact_arc_deg: Option<f64>,
    /// z range (LPS mm) over which the mass touches the IVC.
    pub contact_z_range_mm: Option<[f64; 2]>,
    /// Volume of mass tissue deep inside the IVC contour (not the seam where the outlines
    /// meet), ml; `None` when not measured (no IVC model). Whether it makes an
    /// intraluminal extension is `features`' decision (`intraluminal_min_ml`).
    pub intraluminal_ml: Option<f64>,
    /// Its z extent (LPS mm).
    pub intraluminal_z_range_mm: Option<[f64; 2]>,
    /// CT: fraction of mass voxels at fat values; `None` on MRI.
    pub fat_fraction: Option<f64>,
    /// CT: fraction of mass voxels at calcium values on the unenhanced phase; `None` without it.
    pub calcified_fraction: Option<f64>,
    /// Enhancement on each phase.
    pub enhancement: Vec<PhaseEnhancement>,
    /// Enhancement pattern over the phases.
    pub pattern: Option<Pattern>,
    /// Arterial coefficient of variation with the image noise removed.
    pub arterial_heterogeneity_cv: Option<f64>,
    /// Rim enhances before the core, which fills in by the delayed phase.
    pub centripetal: Option<bool>,
    /// MRI measures; `None` on CT.
    pub mr: Option<MrMeasures>,
    /// Label map on the reference series' grid.
    pub mask: Mask,
}

/// A named collateral vein.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedVein {
    /// The pathway (`azygos`, `hemiazygos`, `lumbar`, `left_gonadal`, `right_gonadal`).
    pub name: String,
    /// Diameter of its widest vessel, mm.
    pub diameter_mm: Option<f64>,
}

/// One vessel on a named collateral pathway: a component (veins running across) or a
/// vertical run, with its diameter. Whether it is enlarged is `features`' decision.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollateralVessel {
    /// Its pathway (`azygos`, `hemiazygos`, `lumbar`, `left_gonadal`, `right_gonadal`).
    pub name: String,
    /// Diameter at its vesselness peak, mm.
    pub diameter_mm: f64,
    /// Volume of its voxels, ml.
    pub volume_ml: f64,
    /// Its voxels `[slice, row, column]` on [`Collaterals::grid`] (vessels may overlap: a
    /// vertical run lies inside a component).
    #[serde(skip)]
    pub voxels: Vec<[usize; 3]>,
}

/// Venous collaterals, as measured: every vessel on a named pathway with its diameter.
/// Which are enlarged (the count and volume in the report) is decided in `features`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Collaterals {
    /// Widest vessel on a named pathway, mm.
    pub max_diameter_mm: Option<f64>,
    /// The widest vessel of each pathway.
    pub veins: Vec<NamedVein>,
    /// Every vessel measured on a named pathway, in the order found.
    #[serde(default)]
    pub vessels: Vec<CollateralVessel>,
    /// The grid the search ran on (a box of the post-contrast series) and its shape
    /// `[slices, rows, columns]`: where [`CollateralVessel::voxels`] lie. `None` when not
    /// assessed.
    #[serde(skip)]
    pub grid: Option<(cavascope_volume::Geometry, [usize; 3])>,
    /// Pathways that could not be assessed, each with the reason (lumbar and gonadal
    /// veins are only named at their levels: with no level reference they are not).
    #[serde(default)]
    pub not_assessed: Vec<String>,
}

impl Collaterals {
    /// The voxels of the vessels with these indices (into [`Collaterals::vessels`]) as a
    /// mask on [`Collaterals::grid`]; `None` without a grid.
    pub fn mask_of(&self, vessels: &[usize]) -> Option<Mask> {
        let (geometry, shape) = self.grid.as_ref()?;
        let mut data = ndarray::Array3::from_elem(*shape, false);
        for v in vessels.iter().filter_map(|&i| self.vessels.get(i)) {
            for q in &v.voxels {
                if let Some(x) = data.get_mut(*q) {
                    *x = true;
                }
            }
        }
        Some(Mask::new(data, geometry.clone()))
    }
}

/// How far the measurements can be trusted: what `features` checks (its quality gates)
/// before a sign may be `present`. `None` = not measured (the gate then cannot pass).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Quality {
    /// Blood-pool value on the phase the IVC lumen was judged on (CT: HU; the upper
    /// quartile of the IVC's section medians, see `lumen`).
    pub blood_pool_value: Option<f64>,
    /// `Some(false)` when the IVC blood on that CT phase is not opacified (blood-pool value
    /// below `lumen::OPACIFIED_BLOOD_MIN_HU`): a series called post-contrast that is not,
    /// or one too early for contrast to reach the IVC (unopacified return mixing at the
    /// liver). `None` on MRI or when not measured.
    pub blood_opacified: Option<bool>,
    /// z extent (mm) of the IVC's expected course inside the field of view (from the
    /// series' z range, the IVC's own ends where they are anatomical).
    pub ivc_expected_length_mm: Option<f64>,
    /// Fraction of that expected course the IVC model covers (0–1).
    pub ivc_coverage_fraction: Option<f64>,
}

/// Everything the stage measured.
#[derive(Debug, Clone, Default)]
pub struct Measurements {
    /// The role of each volume.
    pub phases: Vec<PhaseInfo>,
    /// Landmarks along the IVC.
    pub landmarks: Landmarks,
    /// The IVC, when segmented.
    pub ivc: Option<IvcModel>,
    /// The mass, when found.
    pub mass: Option<MassModel>,
    /// The collaterals, when assessed.
    pub collaterals: Option<Collaterals>,
    /// What could not be measured, and why.
    pub warnings: Vec<String>,
    /// Set when `mass` is `None` because the mass search could not run or failed (e.g.
    /// automatic detection unavailable, seed in fat): the reason. `features` then calls
    /// the mass signs `indeterminate` instead of `absent`. `None` with `mass: None` means
    /// the search ran and found no mass. (Added by the features/report work.)
    pub mass_not_searched: Option<String>,
    /// Quality of the measurements, for the `features` gates.
    pub quality: Quality,
}

impl Measurements {
    /// Role of a volume, if one was assigned.
    pub fn role_of(&self, volume_index: usize) -> Option<Role> {
        self.phases
            .iter()
            .find(|p| p.volume_index == volume_index)
            .map(|p| p.role)
    }
}
