//! The collaterals' tuning numbers, one place, grouped by the step that uses them: each
//! with what it is and why this value. (The counts that make the collateral sign are
//! `features`' thresholds, not here.)

/// What is a vessel voxel: density, enhancement and tubularity ([`crate::collaterals`]).
pub mod vessels {
    /// Enhanced vessel on portal-venous CT, HU (blood pool 130–200 HU; enhancing parenchyma
    /// stays mostly lower, bone higher).
    pub const VESSEL_MIN_HU: f32 = 100.0;
    /// Upper end of the enhanced-vessel range on CT, HU (bone lies higher).
    pub const VESSEL_MAX_HU: f32 = 300.0;
    /// A vessel enhances: portal-venous minus unenhanced ≥ 60 HU on CT (venous blood goes
    /// from ~40 to 130–200 HU), or +50 % signal on T1 MRI.
    pub const VESSEL_MIN_ENHANCEMENT_HU: f32 = 60.0;
    /// The same on T1 MRI: relative signal rise against the baseline.
    pub const VESSEL_MIN_ENHANCEMENT_MR: f32 = 0.5;
    /// The box's brightest values: this quantile, in thousandths (99.5th percentile: aorta,
    /// renal cortex, veins), on MRI for the vessel range and for [`BLOOD_FRACTION`].
    pub const BRIGHT_PERMILLE: usize = 995;
    /// Share of the box's brightest enhancement ([`BRIGHT_PERMILLE`]) a vessel voxel
    /// reaches on the smoothed enhancement. Venous blood on the portal phase enhances ~2×
    /// as much as liver, spleen or pancreas (blood +100–150 HU, liver +50–60 HU), so this
    /// keeps veins running through parenchyma apart from it.
    pub const BLOOD_FRACTION: f32 = 0.6;
    /// Gaussian σ (mm) of the enhancement smoothing before [`BLOOD_FRACTION`] is applied
    /// (noise of a subtraction is √2 that of one phase).
    pub const ENHANCEMENT_SMOOTH_MM: f64 = 1.0;
    /// A component wider than this (mm) is a large structure, not a collateral.
    pub const LARGE_STRUCTURE_MM: f64 = 12.5;
    /// Smallest Frangi response (image units after σ² normalisation) of a tubular component.
    pub const MIN_VESSELNESS: f32 = 5.0;
    /// Vessel diameters the vesselness scales cover, mm: the smallest collateral worth
    /// reporting …
    pub const VESSELNESS_MIN_DIAMETER_MM: f64 = 2.0;
    /// … up to the widest ([`LARGE_STRUCTURE_MM`] is a large structure) …
    pub const VESSELNESS_MAX_DIAMETER_MM: f64 = 12.0;
    /// … in this many scales.
    pub const VESSELNESS_SCALES: usize = 6;
    /// A vesselness kernel reaches this many σ (its Gaussian derivatives are negligible
    /// beyond).
    pub const KERNEL_REACH_SIGMAS: f64 = 4.0;
    /// A collateral segment is at least this long, mm.
    pub const MIN_LENGTH_MM: f64 = 15.0;
    /// Components smaller than this (voxels) are noise.
    pub const MIN_COMPONENT_VOXELS: usize = 8;
}

/// The vertebral column and the box around it ([`crate::collaterals`]).
pub mod column {
    /// Half the thickness of an intervertebral disc, mm (bone is carried across it).
    pub const DISC_BRIDGE_MM: f64 = 6.0;
    /// Bone within this distance (mm) of the spine's midline belongs to the column.
    pub const COLUMN_HALF_MM: f64 = 45.0;
    /// Bone volume below which there is no column, mm³ (a vertebra is ~40 ml; half of one).
    pub const MIN_BONE_MM3: f64 = 20_000.0;
    /// The column's front: the most anterior bone within this distance (mm) of the
    /// midline per slice (the vertebral body, not the transverse processes).
    pub const FRONT_HALF_WIDTH_MM: f64 = 20.0;
    /// Without bone (MRI), the column is an ellipse about the spine centre of this
    /// half-width (mm, a lumbar body is ~45 mm wide) …
    pub const ELLIPSE_HALF_LR_MM: f64 = 22.0;
    /// … and this half-depth (mm, ~32 mm deep).
    pub const ELLIPSE_HALF_AP_MM: f64 = 16.0;
    /// Half-width of the spinal canal / laminae zone behind the vertebral centre, mm.
    pub const SPINAL_CANAL_HALF_MM: f64 = 25.0;
    /// The canal zone starts this far behind the spine centre, mm (the body's back half).
    pub const SPINAL_CANAL_BEHIND_MM: f64 = 5.0;
    /// Marrow test: in-plane rays this long (mm) from a candidate voxel; enclosed when at
    /// least [`ENCLOSED_RAYS`] of [`N_ENCLOSE_RAYS`] meet dense bone (a vertebral body is
    /// ≤ 50 mm across, so from inside every ray meets its cortex within 30 mm; a lumbar vein
    /// beside it sees bone on one side only).
    pub const ENCLOSE_MM: f64 = 30.0;
    /// Rays of the marrow test.
    pub const N_ENCLOSE_RAYS: usize = 8;
    /// Rays that must meet bone (all but one: a foramen).
    pub const ENCLOSED_RAYS: usize = 7;
    /// Box around the spine, mm: each side of the midline (gonadal veins run ≤ ~80 mm out) …
    pub const BOX_HALF_LR_MM: f64 = 90.0;
    /// … in front of the spine centre (past the IVC and aorta) …
    pub const BOX_ANTERIOR_MM: f64 = 90.0;
    /// … and behind it (the posterior elements and paraspinal veins).
    pub const BOX_POSTERIOR_MM: f64 = 35.0;
    /// Margin of the crop around the box for the vesselness kernels (3σ of the largest
    /// scale), mm.
    pub const BOX_KERNEL_MARGIN_MM: f64 = 15.0;
    /// Margin of the crop beyond the series' z range, mm (half a thick slice).
    pub const BOX_Z_MARGIN_MM: f64 = 5.0;
}

/// A vessel's diameter from its mean cross-section ([`crate::collaterals`]).
pub mod diameter {
    /// Grid of the local resampling, mm (a quarter of the smallest vein reported).
    pub const GRID_MM: f64 = 0.5;
    /// Half-size of the resampled cube, mm (the widest collateral plus background).
    pub const HALF_MM: f64 = 12.0;
    /// The peak value: median within this radius of the centre, mm.
    pub const CORE_RADIUS_MM: f64 = 1.0;
    /// The background: a shell from the vessel's radius plus this (mm) …
    pub const SHELL_INNER_MM: f64 = 3.0;
    /// … to its radius plus this (mm), within the cube.
    pub const SHELL_OUTER_MM: f64 = 8.0;
    /// The outline's axis and area are taken within this distance of the centre, mm.
    pub const AXIS_REACH_MM: f64 = 8.0;
    /// Fewest outline voxels for a principal axis.
    pub const MIN_AXIS_VOXELS: usize = 4;
    /// Half-length of the slab along the axis, in grid steps: ±2.25 mm, the edges between
    /// the grid's planes (9 of them), so the count is exactly the slab's volume on an
    /// aligned vessel too.
    pub const SLAB_HALF_STEPS: f64 = 4.5;
}

/// Naming a vein from its course ([`crate::collaterals`]).
pub mod naming {
    /// A vein whose voxels lie within this in-plane distance (median, mm) of the vertebral
    /// column runs along it (azygos, hemiazygos, lumbar veins).
    pub const PARAVERTEBRAL_MM: f64 = 15.0;
    /// A run is vertical when its z extent is more than this many times its in-plane one.
    pub const VERTICAL_ELONGATION: f64 = 1.5;
    /// The azygos/hemiazygos lie within this distance (mm) of the midline.
    pub const AZYGOS_MAX_FROM_MIDLINE_MM: f64 = 50.0;
    /// A gonadal vein lies at least this far (mm) from the midline (the IVC and aorta
    /// lie nearer).
    pub const GONADAL_MIN_FROM_MIDLINE_MM: f64 = 20.0;
    /// A lumbar vein runs across at least this far (mm).
    pub const LUMBAR_MIN_WIDTH_MM: f64 = 20.0;
}

/// Vertebral levels ([`crate::levels`]).
pub mod levels {
    /// Lumbar veins run beside the L1–L4 bodies. The renal veins join the IVC at L1–L2, so
    /// L1 reaches about one vertebral level (body + disc, ~35 mm in an adult lumbar spine)
    /// above the inflow and L4 about three and a half levels below it (**default**: typical
    /// vertebral heights; used when the vertebrae themselves are not known).
    pub const LUMBAR_ABOVE_RENAL_MM: f64 = 35.0;
    /// Lumbar veins reach this far below the renal-vein inflow, mm (L4).
    pub const LUMBAR_BELOW_RENAL_MM: f64 = 120.0;
    /// One vertebral level (body + disc) of an adult lumbar spine, mm: the spacing used to
    /// extrapolate from a single known vertebra (**default**, as above).
    pub const LEVEL_HEIGHT_MM: f64 = 35.0;
}
