//! The phantom's ground-truth IVC as an [`IvcModel`] (mask, centreline, profile,
//! imperceptible ranges), so the mass and collateral tests judge their own stage, not the
//! IVC stage. Shared by the segment crate's integration tests (`mod truth_ivc;`).

#![allow(dead_code)] // each test binary uses part of it

use cavascope_measurements::{IvcModel, Landmarks, LumenSummary, MassModel, Pattern, Section, Source};
use cavascope_phantom::PhantomStudy;
use cavascope_volume::Point3;

/// Intraluminal extension as `features` decides it under the default thresholds (the
/// stage reports the deep volume only).
pub fn intraluminal_extension(m: &MassModel) -> Option<bool> {
    cavascope_features::decided::intraluminal_extension(m, &cavascope_features::Thresholds::default())
}

/// An IVC model straight from the phantom's truth.
pub fn truth_ivc(s: &PhantomStudy) -> IvcModel {
    let profile = s
        .truth
        .ivc
        .profile
        .iter()
        .map(|p| Section {
            s_mm: p.s_mm,
            z_mm: p.z_mm,
            center_mm: p.center_mm,
            tangent: p.tangent,
            area_mm2: p.area_mm2,
            equivalent_diameter_mm: p.equivalent_diameter_mm,
            min_diameter_mm: p.min_diameter_mm,
            max_diameter_mm: p.max_diameter_mm,
            ap_diameter_mm: p.ap_diameter_mm,
            transverse_diameter_mm: p.transverse_diameter_mm,
            flattening_ratio: p.flattening_ratio,
            lumen_visible: Some(p.lumen_visible),
            segment: None,
        })
        .collect();
    IvcModel {
        source: Source::Mask,
        reference_series: String::new(),
        length_mm: s.truth.ivc.length_mm,
        max_equivalent_diameter_mm: None,
        min_equivalent_diameter_mm: None,
        min_flattening_ratio: None,
        centreline: s
            .truth
            .ivc
            .centreline_mm
            .iter()
            .map(|c| Point3::new(c[0], c[1], c[2]))
            .collect(),
        profile,
        lumen: LumenSummary {
            imperceptible_ranges_z_mm: s.truth.ivc.lumen.imperceptible_ranges_z_mm.clone(),
            ..Default::default()
        },
        mask: s.labels.ivc.clone(),
    }
}

/// The phantom's true mass label as a [`MassModel`] carrying only its mask (what the
/// collateral stage reads of the mass); `None` in a case without a mass.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn truth_mass_mask(s: &PhantomStudy) -> Option<MassModel> {
    s.labels.mass.clone().map(|mask| MassModel {
        source: Source::Mask,
        volume_ml: 0.0,
        max_diameter_mm: 0.0,
        centroid_mm: [0.0; 3],
        ivc_segment: None,
        contact_arc_deg: None,
        contact_z_range_mm: None,
        intraluminal_ml: None,
        intraluminal_z_range_mm: None,
        fat_fraction: None,
        calcified_fraction: None,
        enhancement: Vec::new(),
        pattern: None,
        arterial_heterogeneity_cv: None,
        centripetal: None,
        mr: None,
        mask,
    })
}

/// The phantom's true IVC landmarks.
pub fn truth_landmarks(s: &PhantomStudy) -> Landmarks {
    Landmarks {
        hepatic_vein_confluence_z_mm: Some(s.truth.landmarks.hepatic_vein_confluence_z_mm),
        renal_vein_inflow_z_mm: Some(s.truth.landmarks.renal_vein_inflow_z_mm),
    }
}

/// Every measured phase mean of the mass within 5 HU (or signal units) of the truth.
pub fn check_phase_means(label: &str, m: &MassModel, s: &PhantomStudy) {
    let t = s.truth.mass.as_ref().expect("case has a mass");
    for e in &m.enhancement {
        let want = t.mean_by_role[e.role.as_str()];
        assert!(
            (e.mean - want).abs() <= 5.0,
            "{label}: {:?} mean {} vs {want}",
            e.role,
            e.mean
        );
    }
}

/// The enhancement pattern as the truth's, and the fat fraction (where measured) within 0.05.
pub fn check_pattern_and_fat(label: &str, m: &MassModel, s: &PhantomStudy) {
    let t = s.truth.mass.as_ref().expect("case has a mass");
    let pattern = match t.pattern.as_str() {
        "progressive" => Pattern::Progressive,
        "washout" => Pattern::Washout,
        "plateau" => Pattern::Plateau,
        _ => Pattern::None,
    };
    assert_eq!(m.pattern, Some(pattern), "{label}: pattern");
    // Fat is measured on CT (HU); a CT study must have it, an MRI study has none.
    let ct = s.truth.series.iter().any(|x| x.role.starts_with("ct_"));
    match m.fat_fraction {
        Some(f) => assert!(
            (f - t.fat_fraction).abs() <= 0.05,
            "{label}: fat {f} vs {}",
            t.fat_fraction
        ),
        None => assert!(!ct, "{label}: fat fraction not measured on a CT study"),
    }
}
