//! The phantom's ground truth in the measurement contract's types, so a test can judge one
//! stage on ideal inputs (the mass and collateral stages on the true IVC, `features` on
//! ideal measurements) and every test reads the truth the same way.

use cavascope_measurements::{IvcModel, IvcSegment, Landmarks, LumenSummary, MassModel, Section, Source};
use cavascope_phantom::truth::ProfilePoint;
use cavascope_phantom::PhantomStudy;
use cavascope_volume::Point3;

/// The truth's segment name (`upper`, `middle`, `lower`) as an [`IvcSegment`].
pub fn ivc_segment(name: &str) -> Option<IvcSegment> {
    match name {
        "upper" => Some(IvcSegment::Upper),
        "middle" => Some(IvcSegment::Middle),
        "lower" => Some(IvcSegment::Lower),
        _ => None,
    }
}

/// One level of the true IVC profile as a measured [`Section`].
pub fn truth_section(p: &ProfilePoint) -> Section {
    Section {
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
        segment: ivc_segment(&p.segment),
    }
}

/// An IVC model straight from the phantom's truth: the true label as its mask, the true
/// centreline and profile, the imperceptible ranges; the summary values the IVC stage
/// would add (extreme diameters, lumen fractions) are left unset.
pub fn truth_ivc(s: &PhantomStudy) -> IvcModel {
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
        profile: s.truth.ivc.profile.iter().map(truth_section).collect(),
        lumen: LumenSummary {
            imperceptible_ranges_z_mm: s.truth.ivc.lumen.imperceptible_ranges_z_mm.clone(),
            ..Default::default()
        },
        mask: s.labels.ivc.clone(),
    }
}

/// The phantom's true mass label as a [`MassModel`] carrying only its mask (what the
/// collateral stage reads of the mass); `None` in a case without a mass.
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
