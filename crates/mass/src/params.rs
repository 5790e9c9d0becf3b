//! The mass's tuning numbers, one place: those shared by the seeded and the automatic
//! search, then each search's own. (The intraluminal volume that makes the sign is
//! `features`' `intraluminal_min_ml`; here only the depth that defines the volume.) Two searches that use a number differently give it two
//! names (`REFINE_MAX_PASSES` 6 seeded, `AUTO_REFINE_MAX_PASSES` 4 automatic; bone at
//! 200 HU for the automatic tissue classes, `BONE_CLASS_MIN_HU`).

/// Shared by both searches.
pub mod shared {
    /// Half-size of the box analysed around the mass, mm (the largest retroperitoneal masses
    /// of interest reach 10–20 cm; beyond that the box is clamped to the volume).
    pub const MASS_BOX_HALF_MM: f64 = 110.0;
    /// Smallest tolerance on CT, HU: neighbouring tissues may differ from a tumour by only
    /// ~10 HU on their most different phase (unenhanced liver 55 vs tumour 40 HU), so the
    /// floor stays below that; it is raised to 3.5× the smoothed noise when that is larger.
    pub const GROW_FLOOR_CT_HU: f64 = 6.0;
    /// Smallest tolerance on MRI, fraction of the phase's mean signal.
    pub const GROW_FLOOR_MR_FRACTION: f64 = 0.04;
    /// Floors are at least this many times the smoothed image noise.
    pub const GROW_FLOOR_NOISE_FACTOR: f64 = 3.5;
    /// Macroscopic fat on CT: ≤ −10 HU (Park, AJR; research brief §1c).
    pub const FAT_MAX_HU: f32 = -10.0;
    /// Arterial heterogeneity (CV) is measured on the mask's core: its voxels whose six
    /// neighbours are all in the mask. The boundary voxel layer blends the mass with what
    /// abuts it (fat at −100 HU) — a partial-volume effect, not heterogeneity: on the
    /// hybrid extrinsic mass (3 mm voxels, homogeneous, truth CV 0.01) the whole truth mask
    /// reads CV 0.43, its core 0.06. The core is used when it holds at least this many
    /// voxels (the noise estimate needs 30 interior voxels), else the whole mask.
    pub const CV_CORE_MIN_VOXELS: usize = 64;
    /// Adipose tissue reaches down to about −190 HU (the −190…−30 HU window of
    /// body-composition CT; Kvist et al., AJCN 1988); below it is air or lung, not fat.
    pub const FAT_MIN_HU: f32 = -190.0;
    /// A voxel with air (≤ this, HU: lung −900…−700, gas −1000) among its 26 neighbours
    /// is air and tissue in one voxel (partial volume), not fat, whatever its value: a
    /// chest tumour's lung rim read 17–56 % "fat" (pyradiomics' real chest CTs, their
    /// tumour labels as `--mass-mask`).
    pub const PARTIAL_AIR_MAX_HU: f32 = -400.0;
}

/// Seeded growth, mask measures and the relation to the IVC ([`crate::mass`]).
pub mod seeded {
    #[allow(unused_imports)]
    use super::shared::*;

    /// Radius of the seed neighbourhood whose statistics start the growth, mm.
    pub const SEED_RADIUS_MM: f64 = 5.0;
    /// Tolerance per phase in units of the region's SD.
    pub const GROW_K_SD: f64 = 3.0;
    /// Re-estimation rounds of the growth.
    pub const GROW_MAX_ROUNDS: usize = 30;
    /// Enhancing-rim widening: share of the boundary that must be held back only by
    /// stronger post-contrast enhancement.
    pub const RIM_MIN_BOUNDARY_FRACTION: f64 = 0.5;
    /// Largest excess above a phase's range (in floors) that counts as a gradual front.
    pub const RIM_MAX_STEP_FLOORS: f64 = 3.0;
    /// Largest total widening of a phase's upper bound, in floors (120 HU on CT).
    pub const RIM_MAX_WIDEN_FLOORS: f64 = 20.0;
    /// Widening steps at most.
    pub const RIM_MAX_ROUNDS: usize = 40;
    /// Opening radius (voxels, 6-neighbourhood steps) that cuts thin leaks of the region.
    pub const LEAK_OPENING_VOX: usize = 1;
    /// Eroded parts smaller than this share of the largest are leaks (the opening).
    pub const LEAK_MIN_PART_FRACTION: f64 = 0.1;
    /// Edge layer: a voxel's raw value within this many interior SDs on every phase.
    pub const EDGE_RAW_K_SD: f64 = 2.0;
    /// Necrosis may lie this many voxels beyond the region's slice hulls.
    pub const NECROSIS_HULL_MARGIN_VOX: usize = 4;
    /// Necrosis joins when it lies within this many voxels of the region: the solid–necrosis
    /// transition (partially necrotic tissue, enhancing above the non-enhancing threshold, plus
    /// the features' smoothing) lies between. 3 voxels missed a whole eccentric necrosis on
    /// the MRI leiomyosarcoma drawn with phantom seeds 2 and 3 (its core 4 voxels out). Our
    /// default, no published value.
    pub const NECROSIS_MAX_GAP_VOX: usize = 4;
    /// Necrosis blend: voxels within this many steps of the necrosis, passes at most.
    pub const BLEND_NEAR_NECROSIS_VOX: usize = 4;
    /// Necrosis blend: passes at most (with [`BLEND_NEAR_NECROSIS_VOX`]).
    pub const BLEND_MAX_PASSES: usize = 4;
    /// The solid rim beyond a necrosis blend is grown at most this many voxels out.
    pub const RIM_REGROW_MAX_VOX: usize = 4;
    /// The raw-value rim step samples the local outside 2 to this many voxels beyond the
    /// region (beyond a rim up to 4 voxels thick, so the outside is the organ alongside).
    pub const RAW_RIM_OUTSIDE_VOX: usize = 5;
    /// Largest move of the boundary by the midpoint refinement, voxels.
    pub const REFINE_MAX_MOVE_VOX: usize = 3;
    /// Outside tissue (the organ alongside): a voxel whose smoothed value changes by at most
    /// this many floors to each 6-neighbour on every phase is pure tissue, not a blend (the
    /// same test as the automatic search's homogeneous seeds, `mass_auto::SEED_MAX_GRADIENT`).
    pub const ORGAN_MAX_STEP_FLOORS: f64 = 0.25;
    /// Outside tissue lies beyond the growth's range by at least this many floors on some
    /// phase (tissue the growth refused, not more of the mass).
    pub const ORGAN_MIN_OFFSET_FLOORS: f64 = 1.0;
    /// Outside tissue at least this many steps beyond the grown region (its blur zone).
    pub const ORGAN_MIN_DEPTH_VOX: usize = 2;
    /// Outside tissues are collected within this many steps of the grown region (the organs
    /// alongside the mass): a thin strip of an organ may have no pure voxel of its own near
    /// it (the mimic's strip is the liver's edge; its bulk lies on the other side of the
    /// mass). Our default, no published value.
    pub const ORGAN_RADIUS_VOX: usize = 10;
    /// A layer's mean matches an outside tissue when it lies within this many floors of it on
    /// every phase (the layer mean's noise is ~12 HU / √(10–25 voxels) ≈ 3 HU, half a floor,
    /// plus partial volume). Our default, no published value.
    pub const ORGAN_MATCH_FLOORS: f64 = 2.0;
    /// Unsmoothed values of a boundary layer are averaged over the layer's voxels within this
    /// many voxels (box half-size): along the surface only, so noise drops (~5× over a 5 × 5
    /// patch) without blending the mass with the tissue beyond. Our default, no published value.
    pub const LAYER_AVG_RADIUS_VOX: i64 = 2;
    /// Necrosis adding at least this share of the region has its border refined again.
    pub const NECROSIS_REFINE_MIN_FRACTION: f64 = 0.01;
    /// Radius of the neighbourhoods giving the local inside / outside values at the
    /// boundary, voxels.
    pub const REFINE_RADIUS_VOX: i64 = 3;
    /// Closing radius (voxels) under which gaps in a solid rim still enclose a cavity.
    pub const CAVITY_CLOSING_VOX: usize = 4;
    /// Necrosis: post-contrast change below this (HU on CT, % on MRI) is non-enhancing
    /// (ACR: ≤ 10 HU is no enhancement, Herts 2017).
    pub const NECROSIS_MAX_ENHANCEMENT: f64 = 10.0;
    /// Unenhanced CT range of necrotic / cystic tumour tissue, HU (water to low soft tissue;
    /// muscle and liver lie above 45).
    pub const NECROSIS_CT_MIN_HU: f64 = -5.0;
    /// Upper end of the CT necrosis range, HU (with [`NECROSIS_CT_MIN_HU`]).
    pub const NECROSIS_CT_MAX_HU: f64 = 45.0;
    /// Passes of the boundary refinement (each moves the boundary by up to two voxels).
    pub const REFINE_MAX_PASSES: usize = 6;
    /// Calcification on unenhanced CT: ≥ 130 HU (Agatston; research brief §1c).
    pub const CALCIUM_MIN_HU: f32 = 130.0;
    /// A dense (≥ [`CALCIUM_MIN_HU`]) structure counts as calcification of the mass when at
    /// least this share of it lies inside the mass and it stays inside the analysis box:
    /// calcification lies within the tumour, while bone (a rib, a vertebral body, a
    /// transverse process) that the outline touches continues outside it. Half: a
    /// calcification cut by the outline at the mass's edge still counts.
    pub const CALCIUM_ENCLOSED_MIN_SHARE: f64 = 0.5;
    /// Fat inside the solid part's hull is added to the mass when it is at least this share
    /// of the hull (below it, the hull's fat is the fat plane around a lobulated edge).
    pub const FAT_HULL_MIN_FRACTION: f64 = 0.10;
    /// Distance beyond / inside the IVC wall where mass tissue counts as contact, mm (a fat
    /// plane thinner than ~3 mm is not resolved on CT).
    pub const CONTACT_OUTSIDE_MM: f64 = 3.0;
    /// Distance inside the IVC wall where mass tissue counts as contact, mm.
    pub const CONTACT_INSIDE_MM: f64 = 1.0;
    /// Angular step of the contact probe, degrees.
    pub const CONTACT_STEP_DEG: f64 = 5.0;
    /// Smallest depth inside the IVC contour (distance to the nearest voxel outside it) at
    /// which mass tissue counts as intraluminal, mm. The IVC and mass outlines are each
    /// uncertain by about a voxel where they meet (partial volume); along a flattened,
    /// compressed IVC a boundary sliver 1–2 voxels deep fills much of the thin lumen
    /// (extrinsic liposarcoma phantom: 0.6 ml within 2.5 mm of the wall, 0.09 ml at ≥ 4 mm,
    /// none at ≥ 5 mm), while a tumour plug fills the lumen to its centre (leiomyosarcoma
    /// phantoms: ~35 ml at ≥ 4 mm). Our default, no published value.
    pub const INTRALUMINAL_MIN_DEPTH_MM: f64 = 4.0;
    /// The depth is at least this many in-plane voxels (coarse grids blur more), voxels.
    pub const INTRALUMINAL_MIN_DEPTH_VOXELS: f64 = 2.0;

    /// The depth inside the IVC contour at which mass tissue is intraluminal on a grid of
    /// this in-plane spacing, mm.
    pub fn intraluminal_min_depth_mm(inplane_spacing_mm: f64) -> f64 {
        INTRALUMINAL_MIN_DEPTH_MM.max(INTRALUMINAL_MIN_DEPTH_VOXELS * inplane_spacing_mm)
    }

    /// A seeded region smaller than this after the growth rounds is grown again from the
    /// statistics of the seed's wider neighbourhood, ml (the automatic search's smallest
    /// mass is 5 ml; a region this small means the seed's own statistics held it in a patch).
    pub const SEED_RETRY_MAX_ML: f64 = 5.0;
    /// Radius of that wider neighbourhood, mm (our default, no published value).
    pub const SEED_RETRY_RADIUS_MM: f64 = 10.0;

    /// Seed neighbourhood radius over which the fat share is measured, mm.
    pub const SEED_FAT_RADIUS_MM: f64 = 10.0;
    /// A seed neighbourhood with at least this share of fat voxels is a fat-containing
    /// mass: its solid part is grown on fat-excluded features.
    pub const SEED_FAT_MIN_FRACTION: f64 = 0.10;
    /// Fat-containing mass: a part of solid tissue cut off by fat lobules joins when at
    /// least this share of it lies within [`LOBULE_JOIN_MARGIN_MM`] of the mass's
    /// slice-wise hulls ("mostly" = half, **default**). Measured on the hybrid
    /// liposarcoma (3 mm voxels): the parts of the lump 68–100 %, the bowel wall around
    /// gas that the lump abuts 6 %.
    pub const LOBULE_JOIN_MIN_HULL_FRACTION: f64 = 0.5;
    /// How far beyond the hulls of the seed's part a joining part may reach, mm (parts
    /// are cut there: the bound does not move with the rounds, so the mass cannot creep
    /// along tissue of its density): less than a lobule (the phantoms' lobules and a
    /// liposarcoma's septa are 1–3 cm apart), about three voxels of the 2–3 mm grids
    /// (**default**, no published value; a bound that grew with each round let the
    /// analytic liposarcoma draw 3 reach 15 mm past its pole, diameter +13 %).
    pub const LOBULE_JOIN_MARGIN_MM: f64 = 8.0;
    /// Rounds of joining at most (the hulls grow with each part joined).
    pub const LOBULE_JOIN_MAX_ROUNDS: usize = 6;
}

/// The automatic search ([`crate::mass_auto`]).
pub mod auto {
    #[allow(unused_imports)]
    use super::shared::*;

    /// Shortest stretch without opacified lumen taken as tumour filling the IVC, mm (the
    /// imperceptible-lumen rule, research brief §2).
    pub const MIN_FILLED_STRETCH_MM: f64 = 10.0;
    /// Half-size of the first search box around the IVC's middle, mm (the mass box,
    /// [`super::shared::MASS_BOX_HALF_MM`]; a larger one, 150 mm, doubles the search time and
    /// did not yet find the liposarcoma).
    pub const SEARCH_BOX_HALF_MM: f64 = super::shared::MASS_BOX_HALF_MM;
    /// The first search box reaches this far beyond the IVC model's ends, mm.
    pub const SEARCH_Z_MARGIN_MM: f64 = 20.0;
    /// Margin around a tumour-filled IVC stretch where the IVC mask is not taken as blood, mm
    /// (the plug tapers over about 5 mm).
    pub const FILLED_MARGIN_MM: f64 = 10.0;
    /// With anatomy labels (`--anatomy`), a candidate this share or more of whose voxels
    /// another tool labelled as one of the normal organs ([`NORMAL_ORGANS`]) is that organ,
    /// not a mass: "mostly" = more than half (**default**). A mass growing inside an organ
    /// that the labels take in (a liver tumour inside TotalSegmentator's liver) is then not
    /// found automatically either: seed it.
    pub const MAX_AUTO_ORGAN_FRACTION: f64 = 0.5;
    /// The normal organs of TotalSegmentator's classes (`total` / `total_mr`) that a mass
    /// found automatically may not mostly be: solid organs, bowel, glands.
    pub const NORMAL_ORGANS: &[&str] = &[
        "liver",
        "spleen",
        "kidney_left",
        "kidney_right",
        "pancreas",
        "gallbladder",
        "stomach",
        "duodenum",
        "small_bowel",
        "colon",
        "esophagus",
        "urinary_bladder",
        "adrenal_gland_left",
        "adrenal_gland_right",
        "prostate",
    ];
    /// Smallest candidate accepted as a mass, ml (a lump smaller than a 2 cm sphere is not
    /// the dominant mass of a study).
    pub const MIN_AUTO_ML: f64 = 5.0;
    /// Grid spacing the search runs on, mm (the features are smoothed with σ = 2.5 mm, so a
    /// coarser grid loses nothing).
    pub const SEARCH_SPACING_MM: f64 = 2.0;
    /// Seeds: largest change per voxel on any phase, in units of the phase tolerance.
    pub const SEED_MAX_GRADIENT: f32 = 0.25;
    /// A tissue class needs this many seeds (blends at edges give only a few).
    pub const MIN_CLASS_SEEDS: usize = 4;
    /// Seeds join a class within this distance (units of the phase tolerance).
    pub const CLASS_JOIN_DISTANCE: f32 = 1.0;
    /// Voxels farther than this from every adjacent class stay unassigned.
    pub const MAX_ASSIGN_DISTANCE: f32 = 8.0;
    /// Resolution of the flood's priority (buckets per unit of distance).
    pub const BUCKETS_PER_UNIT: f32 = 20.0;
    /// A candidate's largest inscribed sphere, radius mm (vessels up to 14 mm across, discs
    /// and bowel wall are thinner).
    pub const MIN_INSCRIBED_MM: f64 = 7.0;
    /// Largest gap between a candidate and the IVC, mm ("next to the IVC": an intrahepatic
    /// mass up to the liver's lateral half, a retroperitoneal mass anywhere around the IVC).
    pub const MAX_GAP_TO_IVC_MM: f64 = 50.0;
    /// A region of the same class this close to the mirrored centroid makes a pair, mm.
    pub const PAIR_RADIUS_MM: f64 = 30.0;
    /// A voxel farther than this from its class and from every blend with a neighbouring
    /// class is unexplained (units of the phase tolerance).
    pub const UNEXPLAINED_DISTANCE: f32 = 1.5;
    /// A region reaching the box's face is an organ continuing beyond it only when at
    /// least this share of its explained voxels reach the face through explained voxels
    /// of its class (not through blends the flood handed it). Measured (hybrid extrinsic
    /// and leiomyosarcoma boxes): the homogeneous extrinsic mass 0.03–0.07 % (a sliver
    /// joined by blends), organs cut by the face 13–44 %; 5 % lies between
    /// (**default**, no published value; 50 % made organs cut by the face candidates).
    pub const EDGE_CORE_MIN_FRACTION: f64 = 0.05;
    /// A candidate this close to the IVC model (mm, ~ one search-grid voxel) abuts it;
    /// among candidates not covering a filled IVC stretch, one abutting the IVC is
    /// preferred to a larger one that does not (the paper's masses are the IVC's).
    pub const ABUTS_IVC_MM: f64 = 3.0;
    /// CT: unenhanced values above this are bone or calcium, or blends with them, HU.
    pub const SOFT_MAX_HU: f32 = 150.0;
    /// Boundary refinement: band half-width and neighbourhood radius (search-grid voxels),
    /// passes.
    pub const REFINE_BAND_VOX: usize = 2;
    /// Boundary refinement: neighbourhood radius, search-grid voxels.
    pub const AUTO_REFINE_RADIUS_VOX: usize = 3;
    /// Boundary refinement: passes at most.
    pub const AUTO_REFINE_MAX_PASSES: usize = 4;
    /// CT: above this on any phase is opacified blood (aorta, atrium) or bone, not a soft
    /// tissue mass, HU.
    pub const BLOOD_MIN_HU: f32 = 200.0;
    /// Opacified lumen beside a candidate: enhancement above the candidate's interior on a
    /// late phase, in tolerances.
    pub const LUMEN_MARGIN: f32 = 2.0;
    /// Opening radius of the candidate mask, search-grid voxels.
    pub const OPENING_VOX: usize = 2;
    /// The vertebral body around the spine centre: half-width and half-depth, mm.
    pub const SPINE_HALF_WIDTH_MM: f64 = 25.0;
    /// The vertebral body's half-depth, mm (with [`SPINE_HALF_WIDTH_MM`]).
    pub const SPINE_HALF_DEPTH_MM: f64 = 20.0;
    /// Fat enclosed by the candidate joins it when it is at least this share (as
    /// [`super::seeded::FAT_HULL_MIN_FRACTION`]).
    pub const FAT_ENCLOSED_MIN_FRACTION: f64 = 0.10;
    /// CT: a tissue class whose unenhanced mean is at or below this is air (bowel gas,
    /// lung), a normal class; a candidate holding it is bowel, HU.
    pub const AIR_MAX_HU: f32 = -300.0;
    /// CT: a tissue class whose unenhanced mean is at or above this is bone, a normal
    /// class, HU (a class mean, so lower than the 250 HU voxel threshold of the spine).
    pub const BONE_CLASS_MIN_HU: f32 = 200.0;
    /// A venous blood pool needs this many voxels inside the open IVC lumen (a few are an
    /// IVC filled by tumour or a mask off the vein).
    pub const MIN_POOL_VOXELS: usize = 8;
    /// Blood pool from the lumen's own values: its arterial range runs from this quantile
    /// of the lumen interior to its complement (the interior is eroded from the wall; the
    /// quantiles keep the last wall blends out).
    pub const POOL_ARTERIAL_QUANTILE: f64 = 0.05;
    /// CT: a region whose unenhanced median is at most this is water density, HU (simple
    /// fluid −9…20 HU, Bosniak classification v2019, Silverman et al., Radiology 2019).
    pub const FLUID_MAX_HU: f64 = 20.0;
    /// CT: a rise of the median by at least this on a contrast phase is enhancement, HU
    /// (≥ 20 HU definite, same source and ACR renal white paper, Herts 2017 — features'
    /// `enhancing_delta_hu`); water that rises less is fluid, not a solid mass.
    pub const SOLID_MIN_ENHANCEMENT_HU: f64 = 20.0;
}
