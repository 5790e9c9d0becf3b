//! The values this stage hands to `features` and `report`. Field names follow
//! `shared/spec/report-v1.md`; a value that could not be measured is `None` and the
//! reason is pushed to `Measurements::warnings`.

use cavascope_volume::{LabelMask, Mask, Point3};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Phase role of a series (report-v1 "Series roles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    CtUnenhanced,
    CtArterial,
    CtPortalVenous,
    CtDelayed,
    MrT1Pre,
    MrT1Arterial,
    MrT1PortalVenous,
    MrT1Delayed,
    MrT2,
    MrDwi,
    MrAdc,
    Other,
}

impl Role {
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

    pub fn parse(s: &str) -> Option<Role> {
        Self::all().iter().copied().find(|r| r.as_str() == s)
    }

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
    Tags,
    Timing,
    Content,
    User,
}

/// The role given to one volume (indexed like the input slice of volumes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseInfo {
    pub volume_index: usize,
    pub series_instance_uid: String,
    pub role: Role,
    pub role_source: RoleSource,
}

/// Where a segmentation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Auto,
    Seed,
    Mask,
}

/// IVC segment by level (case report: upper RA→hepatic veins, middle hepatic→renal, lower).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IvcSegment {
    Upper,
    Middle,
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
    pub hepatic_vein_confluence_z_mm: Option<f64>,
    pub renal_vein_inflow_z_mm: Option<f64>,
}

/// One cross-section perpendicular to the centreline, every 1 mm of arc length.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Section {
    /// Arc length from the lower end, mm.
    pub s_mm: f64,
    pub z_mm: f64,
    pub center_mm: [f64; 3],
    /// Unit tangent of the centreline.
    pub tangent: [f64; 3],
    pub area_mm2: f64,
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
    pub segment: Option<IvcSegment>,
}

/// Lumen visibility along the IVC.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LumenSummary {
    pub visible_fraction: Option<f64>,
    pub longest_imperceptible_mm: Option<f64>,
    pub imperceptible_ranges_z_mm: Vec<[f64; 2]>,
    /// The blood-pool reference the judgement used (e.g. "aorta, portal venous phase, 165 HU").
    pub reference: Option<String>,
}

/// The IVC along its course.
#[derive(Debug, Clone)]
pub struct IvcModel {
    pub source: Source,
    /// Series the IVC was measured on.
    pub reference_series: String,
    pub length_mm: f64,
    pub max_equivalent_diameter_mm: Option<f64>,
    pub min_equivalent_diameter_mm: Option<f64>,
    pub min_flattening_ratio: Option<f64>,
    /// Smoothed centreline every 1 mm, LPS.
    pub centreline: Vec<Point3<f64>>,
    pub profile: Vec<Section>,
    pub lumen: LumenSummary,
    /// Label map on the reference series' grid.
    pub mask: Mask,
}

/// Enhancement of the mass on one phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseEnhancement {
    pub role: Role,
    pub series_instance_uid: String,
    pub acquisition_time_s: Option<f64>,
    pub mean: f64,
    pub sd: f64,
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
    Progressive,
    Washout,
    Plateau,
    None,
}

/// MRI measures of the mass.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MrMeasures {
    pub t1_ratio_to_muscle: Option<f64>,
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
    pub source: Source,
    pub volume_ml: f64,
    pub max_diameter_mm: f64,
    pub centroid_mm: [f64; 3],
    pub ivc_segment: Option<IvcSegment>,
    pub contact_arc_deg: Option<f64>,
    /// z range (LPS mm) over which the mass touches the IVC.
    pub contact_z_range_mm: Option<[f64; 2]>,
    /// Volume of mass tissue deep inside the IVC contour (not the seam where the outlines
    /// meet), ml; `None` when not measured (no IVC model). Whether it makes an
    /// intraluminal extension is `features`' decision (`intraluminal_min_ml`).
    pub intraluminal_ml: Option<f64>,
    /// Its z extent (LPS mm).
    pub intraluminal_z_range_mm: Option<[f64; 2]>,
    pub fat_fraction: Option<f64>,
    pub calcified_fraction: Option<f64>,
    pub enhancement: Vec<PhaseEnhancement>,
    pub pattern: Option<Pattern>,
    pub arterial_heterogeneity_cv: Option<f64>,
    /// Rim enhances before the core, which fills in by the delayed phase.
    pub centripetal: Option<bool>,
    pub mr: Option<MrMeasures>,
    pub mask: Mask,
}

/// A named collateral vein.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedVein {
    pub name: String,
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
    pub phases: Vec<PhaseInfo>,
    pub landmarks: Landmarks,
    pub ivc: Option<IvcModel>,
    pub mass: Option<MassModel>,
    pub collaterals: Option<Collaterals>,
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
