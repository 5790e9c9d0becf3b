//! The TID 1500 Measurement Report (Comprehensive SR: 2D SCOORD is allowed there).
//!
//! ```text
//! CONTAINER Imaging Measurement Report (TID 1500)
//!   language, observer (device: cavascope), procedure reported
//!   CONTAINER Image Library → Image Library Group → IMAGE (each slice a line is drawn on)
//!   CONTAINER Imaging Measurements
//!     Measurement Group "Inferior vena cava" (TID 1411: Referenced Segment 1)
//!       NUM diameters (each INFERRED FROM a two-point SCOORD SELECTED FROM its slice),
//!       flattening, length, imperceptible lumen length, volume, segment, lumen
//!     Measurement Group "Mass" (TID 1411: its segment): volume, 3D maximum diameter
//!       (with its line), contact arc, fat and calcified fractions, intraluminal volume,
//!       enhancement per phase, pattern, IVC segment
//!     Measurement Group "Enlarged collateral veins" (TID 1411): volume, count, diameters
//!     Measurement Group "Signs" (TID 1501): each sign a qualitative evaluation
//!       (CODE: present / absent / indeterminate, with its explanation)
//! ```
//! Values are report.json's (rounded to at most 16 characters as a decimal string, and
//! exact in Floating Point Value).

use crate::codes::{self, Code};
use crate::elem::*;
use crate::seg::common;
use crate::{DicomOutError, Reference, SegmentInfo, StudyAttributes};
use cavascope_measurements::Measurements;
use cavascope_report::{model, Report};
use cavascope_volume::{Point3, Vector3};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use std::path::Path;

/// Comprehensive SR Storage.
pub const COMPREHENSIVE_SR_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.88.33";
pub const SR_SERIES_NUMBER: i32 = 9902;

/// A built SR document, ready to encode.
pub struct Sr {
    pub obj: Obj,
    pub sop_instance_uid: String,
}

impl Sr {
    pub fn into_bytes(self, path: &Path) -> Result<Vec<u8>, DicomOutError> {
        crate::file_bytes(self.obj, COMPREHENSIVE_SR_SOP_CLASS, &self.sop_instance_uid, path)
    }
}

/// A content item with its relationship (None at the root), value type and concept name.
fn item(rel: Option<&str>, vt: &str, name: Option<&Code>) -> Obj {
    let mut o = Obj::new_empty();
    if let Some(r) = rel {
        put_str(&mut o, tags::RELATIONSHIP_TYPE, VR::CS, r);
    }
    put_str(&mut o, tags::VALUE_TYPE, VR::CS, vt);
    if let Some(n) = name {
        put_code(&mut o, tags::CONCEPT_NAME_CODE_SEQUENCE, n);
    }
    o
}

fn children(mut o: Obj, c: Vec<Obj>) -> Obj {
    if !c.is_empty() {
        put_seq(&mut o, tags::CONTENT_SEQUENCE, c);
    }
    o
}

fn container(rel: Option<&str>, name: &Code, template: Option<&str>, c: Vec<Obj>) -> Obj {
    let mut o = item(rel, "CONTAINER", Some(name));
    put_str(&mut o, tags::CONTINUITY_OF_CONTENT, VR::CS, "SEPARATE");
    if let Some(t) = template {
        let mut ts = Obj::new_empty();
        put_str(&mut ts, tags::MAPPING_RESOURCE, VR::CS, "DCMR");
        put_str(&mut ts, tags::TEMPLATE_IDENTIFIER, VR::CS, t);
        put_seq(&mut o, tags::CONTENT_TEMPLATE_SEQUENCE, vec![ts]);
    }
    children(o, c)
}

fn text(rel: &str, name: &Code, v: &str) -> Obj {
    let mut o = item(Some(rel), "TEXT", Some(name));
    put_str(&mut o, tags::TEXT_VALUE, VR::UT, v);
    o
}

fn code_v(rel: &str, name: &Code, v: &Code) -> Obj {
    let mut o = item(Some(rel), "CODE", Some(name));
    put_code(&mut o, tags::CONCEPT_CODE_SEQUENCE, v);
    o
}

fn uidref(rel: &str, name: &Code, v: &str) -> Obj {
    let mut o = item(Some(rel), "UIDREF", Some(name));
    put_str(&mut o, tags::UID, VR::UI, v);
    o
}

fn num(name: &Code, v: f64, unit: &Code, c: Vec<Obj>) -> Obj {
    let mut o = item(Some("CONTAINS"), "NUM", Some(name));
    let mut mv = Obj::new_empty();
    put_code(&mut mv, tags::MEASUREMENT_UNITS_CODE_SEQUENCE, unit);
    put_ds(&mut mv, tags::NUMERIC_VALUE, &[v]);
    mv.put(DataElement::new(
        tags::FLOATING_POINT_VALUE,
        VR::FD,
        PrimitiveValue::from(v),
    ));
    put_seq(&mut o, tags::MEASURED_VALUE_SEQUENCE, vec![mv]);
    children(o, c)
}

/// An IMAGE reference item (no concept name unless given).
fn image(
    rel: &str,
    name: Option<&Code>,
    class: &str,
    inst: &str,
    frame: Option<u32>,
    segment: Option<u16>,
) -> Obj {
    let mut o = item(Some(rel), "IMAGE", name);
    let mut r = sop_ref(class, inst);
    if let Some(f) = frame {
        put_str(&mut r, tags::REFERENCED_FRAME_NUMBER, VR::IS, &f.to_string());
    }
    if let Some(s) = segment {
        put_u16(&mut r, tags::REFERENCED_SEGMENT_NUMBER, s);
    }
    put_seq(&mut o, tags::REFERENCED_SOP_SEQUENCE, vec![r]);
    o
}

fn modifier(name: &Code, v: &Code) -> Obj {
    code_v("HAS CONCEPT MOD", name, v)
}

fn derivation(max: bool) -> Obj {
    modifier(
        &codes::dcm("121401", "Derivation"),
        &if max {
            codes::sct("56851009", "Maximum")
        } else {
            codes::sct("255605001", "Minimum")
        },
    )
}

fn method(v: &Code) -> Obj {
    modifier(&codes::sct("370129005", "Measurement Method"), v)
}

/// A line drawn on one slice of the reference series: pixel coordinates (column, row),
/// the image's top-left corner at (0, 0) as PS3.3 C.18.6.1.2 defines.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub points: [[f32; 2]; 2],
    pub sop_class_uid: String,
    pub sop_instance_uid: String,
    pub frame_number: Option<u32>,
    /// Length in the image plane, mm.
    pub length_mm: f64,
}

/// The line from world point `a` to `b` on the reference slice nearest their midpoint
/// (each end projected onto that slice along the slice axis).
pub fn line_on_slice(r: &Reference, a: &Point3<f64>, b: &Point3<f64>) -> Option<Line> {
    let g = &r.volume.geometry;
    let ia = g.world_to_index(a);
    let ib = g.world_to_index(b);
    let k = (0.5 * (ia[2] + ib[2])).round();
    let nk = r.volume.shape()[0];
    if !(k >= 0.0 && (k as usize) < nk) || ia.iter().chain(&ib).any(|x| !x.is_finite()) {
        return None;
    }
    let src = r.source_of(k as usize)?;
    let pa = g.index_to_world([ia[0], ia[1], k]);
    let pb = g.index_to_world([ib[0], ib[1], k]);
    Some(Line {
        points: [
            [(ia[0] + 0.5) as f32, (ia[1] + 0.5) as f32],
            [(ib[0] + 0.5) as f32, (ib[1] + 0.5) as f32],
        ],
        sop_class_uid: src.sop_class_uid.clone(),
        sop_instance_uid: src.sop_instance_uid.clone(),
        frame_number: src.frame_number,
        length_mm: (pa - pb).norm(),
    })
}

/// SCOORD POLYLINE of a line, selected from its image, to hang under a NUM.
fn scoord(l: &Line) -> Obj {
    let mut o = item(Some("INFERRED FROM"), "SCOORD", None);
    put_str(&mut o, tags::GRAPHIC_TYPE, VR::CS, "POLYLINE");
    let pts: Vec<f32> = l.points.iter().flatten().copied().collect();
    o.put(DataElement::new(
        tags::GRAPHIC_DATA,
        VR::FL,
        PrimitiveValue::F32(pts.into()),
    ));
    let img = image(
        "SELECTED FROM",
        None,
        &l.sop_class_uid,
        &l.sop_instance_uid,
        l.frame_number,
        None,
    );
    children(o, vec![img])
}

/// The group's leading items (TID 1501/1411): tracking identifier and UID, finding.
fn group_head(label: &str, uid: &str, finding: &Code) -> Vec<Obj> {
    vec![
        text("CONTAINS", &codes::dcm("112039", "Tracking Identifier"), label),
        uidref(
            "CONTAINS",
            &codes::dcm("112040", "Tracking Unique Identifier"),
            uid,
        ),
        code_v("CONTAINS", &codes::dcm("121071", "Finding"), finding),
    ]
}

/// Items tying a group to its SEG segment (TID 1411 rows 6-7).
fn segment_ref(seg: Option<(&(String, String), &SegmentInfo)>, r: &Reference) -> Vec<Obj> {
    match seg {
        Some(((sop, _), s)) => vec![
            image(
                "CONTAINS",
                Some(&codes::dcm("121191", "Referenced Segment")),
                crate::seg::SEG_SOP_CLASS,
                sop,
                None,
                Some(s.number),
            ),
            uidref(
                "CONTAINS",
                &codes::dcm("121232", "Source series for segmentation"),
                &r.series.series_instance_uid,
            ),
        ],
        None => Vec::new(),
    }
}

/// Width line of an IVC section: through its centre, in the section plane, as close to
/// patient left–right as the plane allows, `d` long.
fn section_line(r: &Reference, centre: [f64; 3], tangent: [f64; 3], d: f64) -> Option<Line> {
    let c = Point3::new(centre[0], centre[1], centre[2]);
    let t = Vector3::new(tangent[0], tangent[1], tangent[2]);
    let t = if t.norm() > 1e-9 {
        t.normalize()
    } else {
        Vector3::z()
    };
    let x = Vector3::x();
    let u = x - t * t.dot(&x);
    let u = if u.norm() > 1e-6 {
        u.normalize()
    } else {
        Vector3::y()
    };
    line_on_slice(r, &(c - u * (d / 2.0)), &(c + u * (d / 2.0)))
}

/// The farthest pair of boundary voxel centres of a mask on the reference grid (the
/// mass's 3D maximum diameter, as segment measures it), in world mm.
fn farthest_pair(mask: &ndarray::Array3<bool>, r: &Reference) -> Option<(Point3<f64>, Point3<f64>)> {
    let g = &r.volume.geometry;
    let (nk, nj, ni) = mask.dim();
    let mut pts = Vec::new();
    for ((k, j, i), &b) in mask.indexed_iter() {
        if !b {
            continue;
        }
        let edge = k == 0 || j == 0 || i == 0 || k + 1 == nk || j + 1 == nj || i + 1 == ni;
        if edge
            || !mask[[k - 1, j, i]]
            || !mask[[k + 1, j, i]]
            || !mask[[k, j - 1, i]]
            || !mask[[k, j + 1, i]]
            || !mask[[k, j, i - 1]]
            || !mask[[k, j, i + 1]]
        {
            pts.push(g.index_to_world([i as f64, j as f64, k as f64]));
        }
    }
    let stride = (pts.len() / 3000).max(1);
    let pts: Vec<Point3<f64>> = pts.into_iter().step_by(stride).collect();
    let mut best: Option<(f64, usize, usize)> = None;
    for a in 0..pts.len() {
        for b in a + 1..pts.len() {
            let d = (pts[a] - pts[b]).norm_squared();
            if best.is_none_or(|x| d > x.0) {
                best = Some((d, a, b));
            }
        }
    }
    best.map(|(_, a, b)| (pts[a], pts[b]))
}

/// The SEG segment a group refers to: (SEG SOP Instance UID, Series Instance UID) and the
/// segment, when a SEG was written and holds one with that label.
type SegRef<'a> = Option<(&'a (String, String), &'a SegmentInfo)>;

/// Build the SR. `segments` and `seg` (SOP Instance UID, Series Instance UID) come from
/// the SEG written beside it, when one was.
pub fn build(
    r: &Reference,
    attrs: &StudyAttributes,
    m: &Measurements,
    report: &Report,
    segments: &[SegmentInfo],
    seg: Option<&(String, String)>,
) -> Sr {
    let sop_uid = new_uid();
    let series_uid = new_uid();
    let mut lines: Vec<Line> = Vec::new();
    let seg_of = |label: &str| seg.and_then(|s| segments.iter().find(|x| x.label == label).map(|x| (s, x)));
    let mut groups: Vec<Obj> = Vec::new();
    if let Some(ivc) = &report.ivc {
        groups.push(ivc_group(r, m, ivc, seg_of("Inferior vena cava"), &mut lines));
    }
    if let Some(mass) = &report.mass {
        groups.push(mass_group(r, m, report, mass, seg_of("Mass"), &mut lines));
    }
    if let Some(col) = &report.collaterals {
        groups.push(collaterals_group(r, col, seg_of("Enlarged collateral veins")));
    }
    groups.push(signs_group(report));
    let root = root_content(r, &lines, groups);

    let mut o = Obj::new_empty();
    common(
        &mut o,
        attrs,
        COMPREHENSIVE_SR_SOP_CLASS,
        &sop_uid,
        "SR",
        &series_uid,
        SR_SERIES_NUMBER,
        "cavascope measurement report",
        &report.tool.version,
    );
    put_seq(&mut o, tags::REFERENCED_PERFORMED_PROCEDURE_STEP_SEQUENCE, vec![]);
    put_str(&mut o, tags::COMPLETION_FLAG, VR::CS, "COMPLETE");
    put_str(&mut o, tags::VERIFICATION_FLAG, VR::CS, "UNVERIFIED");
    put_seq(&mut o, tags::PERFORMED_PROCEDURE_CODE_SEQUENCE, vec![]);
    put_seq(
        &mut o,
        tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
        vec![evidence(r, attrs, seg)],
    );
    put_seq(
        &mut o,
        tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE,
        vec![private_scheme()],
    );
    // Root content item.
    for e in root.into_iter() {
        o.put(e);
    }
    Sr {
        obj: o,
        sop_instance_uid: sop_uid,
    }
}

/// A Measurement Group container: TID 1411 when it refers to a SEG segment, else 1501.
fn measurement_group(segmented: bool, c: Vec<Obj>) -> Obj {
    container(
        Some("CONTAINS"),
        &codes::dcm("125007", "Measurement Group"),
        Some(if segmented { "1411" } else { "1501" }),
        c,
    )
}

/// The group's leading items: its head (tracking UID from the segment when there is
/// one) and the reference to that segment.
fn group_start(label: &str, finding: &Code, s: SegRef, r: &Reference) -> Vec<Obj> {
    let tracking = s.map(|x| x.1.tracking_uid.clone()).unwrap_or_else(new_uid);
    let mut c = group_head(label, &tracking, finding);
    c.extend(segment_ref(s, r));
    c
}

/// The IVC's group: diameters (each with its width line), flattening, length, lumen,
/// volume. The lines drawn are added to `lines`.
fn ivc_group(r: &Reference, m: &Measurements, ivc: &model::Ivc, s: SegRef, lines: &mut Vec<Line>) -> Obj {
    let mut c = group_start("Inferior vena cava", &codes::ivc(), s, r);
    let eq = codes::private("EQDIAM", "Equivalent circle diameter");
    for (max, v) in [
        (true, ivc.max_equivalent_diameter_mm),
        (false, ivc.min_equivalent_diameter_mm),
    ] {
        let Some(v) = v else { continue };
        let mut kids = vec![derivation(max), method(&eq)];
        // The section whose diameter it is: its width line on the nearest slice.
        let sec = ivc.profile.iter().min_by(|a, b| {
            (a.equivalent_diameter_mm - v)
                .abs()
                .total_cmp(&(b.equivalent_diameter_mm - v).abs())
        });
        let tangent = m
            .ivc
            .as_ref()
            .and_then(|i| {
                i.profile
                    .iter()
                    .find(|p| sec.is_some_and(|s| (p.s_mm - s.s_mm).abs() < 1e-9))
            })
            .map(|p| p.tangent)
            .unwrap_or([0.0, 0.0, 1.0]);
        if let Some(l) = sec.and_then(|s| section_line(r, s.center_mm, tangent, v)) {
            kids.push(scoord(&l));
            lines.push(l);
        }
        if let Some(seg) = sec.and_then(|s| s.segment.as_deref()) {
            kids.push(modifier(
                &codes::sct("363698007", "Finding Site"),
                &codes::ivc_segment(seg),
            ));
        }
        c.push(num(&codes::sct("81827009", "Diameter"), v, &codes::mm(), kids));
    }
    if let Some(f) = ivc.min_flattening_ratio {
        c.push(num(
            &codes::private("FLATTENING", "Flattening ratio (min/max Feret)"),
            f,
            &codes::no_units(),
            vec![derivation(false)],
        ));
    }
    c.push(num(
        &codes::sct("410668003", "Length"),
        ivc.length_mm,
        &codes::mm(),
        vec![],
    ));
    if let Some(l) = ivc.lumen.longest_imperceptible_mm {
        c.push(num(
            &codes::private("IMPLUMENLEN", "Longest imperceptible lumen length"),
            l,
            &codes::mm(),
            vec![],
        ));
    }
    if let Some(f) = ivc.lumen.visible_fraction {
        c.push(num(
            &codes::private("LUMENVISFRAC", "Fraction of IVC length with visible lumen"),
            f,
            &codes::no_units(),
            vec![],
        ));
    }
    if let Some(s) = s {
        c.push(num(
            &codes::sct("118565006", "Volume"),
            s.1.volume_ml,
            &codes::ml(),
            vec![],
        ));
    }
    measurement_group(s.is_some(), c)
}

/// The mass's group: volume, 3D maximum diameter (with its line, added to `lines`),
/// the optional measures, enhancement per phase, pattern and IVC segment.
fn mass_group(
    r: &Reference,
    m: &Measurements,
    report: &Report,
    mass: &model::Mass,
    s: SegRef,
    lines: &mut Vec<Line>,
) -> Obj {
    let mut c = group_start("Mass", &codes::mass(), s, r);
    c.push(num(
        &codes::sct("118565006", "Volume"),
        mass.volume_ml,
        &codes::ml(),
        vec![],
    ));
    let mut kids = vec![derivation(true)];
    let pair = m
        .mass
        .as_ref()
        .and_then(|x| farthest_pair(&crate::on_grid(&x.mask, r.volume), r));
    if let Some(l) = pair.and_then(|(a, b)| line_on_slice(r, &a, &b)) {
        kids.push(scoord(&l));
        lines.push(l);
    }
    c.push(num(
        &codes::sct("81827009", "Diameter"),
        mass.max_diameter_mm,
        &codes::mm(),
        kids,
    ));
    let optional = [
        (
            codes::private("CONTACTARC", "Arc of contact with the IVC wall"),
            mass.contact_arc_deg,
            codes::degree(),
        ),
        (
            codes::private("FATFRAC", "Fat fraction of the mass"),
            mass.fat_fraction,
            codes::no_units(),
        ),
        (
            codes::private("CALCFRAC", "Calcified fraction of the mass"),
            mass.calcified_fraction,
            codes::no_units(),
        ),
        (
            codes::private("INTRALUMVOL", "Volume of mass inside the IVC contour"),
            mass.intraluminal_ml,
            codes::ml(),
        ),
        (
            codes::private("ARTHETCV", "Arterial heterogeneity (coefficient of variation)"),
            mass.arterial_heterogeneity_cv,
            codes::no_units(),
        ),
    ];
    for (code, v, unit) in optional {
        if let Some(v) = v {
            c.push(num(&code, v, &unit, vec![]));
        }
    }
    c.extend(enhancement_items(report, mass));
    if let Some(p) = &mass.pattern {
        c.push(code_v(
            "CONTAINS",
            &codes::private("ENHPATTERN", "Enhancement pattern"),
            &codes::pattern(p),
        ));
    }
    if let Some(seg) = &mass.ivc_segment {
        c.push(code_v(
            "CONTAINS",
            &codes::private("IVCSEGMENT", "IVC segment involved"),
            &codes::ivc_segment(seg),
        ));
    }
    measurement_group(s.is_some(), c)
}

/// The mass's mean value per phase and its enhancement over the unenhanced phase.
fn enhancement_items(report: &Report, mass: &model::Mass) -> Vec<Obj> {
    let ct = report.series.iter().any(|x| x.modality == "CT");
    let unit = if ct {
        codes::hounsfield()
    } else {
        codes::no_units()
    };
    let phase = codes::private("PHASE", "Contrast phase");
    let mut c = Vec::new();
    for e in &mass.enhancement {
        let role = codes::role(&e.role);
        c.push(num(
            &codes::private("MEANSIGNAL", "Mean value in the mass"),
            e.mean,
            &unit,
            vec![modifier(&phase, &role)],
        ));
        if let Some(d) = e.delta_from_unenhanced {
            // CT: HU over unenhanced; MRI: relative enhancement, %.
            c.push(num(
                &codes::private("ENHANCEMENT", "Enhancement over the unenhanced phase"),
                d,
                &if ct { codes::hounsfield() } else { codes::percent() },
                vec![modifier(&phase, &role)],
            ));
        }
    }
    c
}

/// The enlarged collateral veins' group: volume, count, largest diameter, each vein's.
fn collaterals_group(r: &Reference, col: &model::Collaterals, s: SegRef) -> Obj {
    let mut c = group_start("Enlarged collateral veins", &codes::vein(), s, r);
    if let Some(v) = col.volume_ml {
        c.push(num(&codes::sct("118565006", "Volume"), v, &codes::ml(), vec![]));
    }
    if let Some(n) = col.count {
        c.push(num(
            &codes::private("ENLVEINCOUNT", "Number of enlarged collateral veins"),
            n as f64,
            &codes::count(),
            vec![],
        ));
    }
    if let Some(d) = col.max_diameter_mm {
        c.push(num(
            &codes::sct("81827009", "Diameter"),
            d,
            &codes::mm(),
            vec![derivation(true)],
        ));
    }
    for v in &col.veins {
        if let Some(d) = v.diameter_mm {
            c.push(num(
                &codes::sct("81827009", "Diameter"),
                d,
                &codes::mm(),
                vec![modifier(
                    &codes::sct("363698007", "Finding Site"),
                    &codes::vein_name(&v.name),
                )],
            ));
        }
    }
    measurement_group(s.is_some(), c)
}

/// The signs' group (TID 1501): each sign a qualitative evaluation with its explanation
/// and the value it was decided from.
fn signs_group(report: &Report) -> Obj {
    let mut c = group_head(
        "Signs",
        &new_uid(),
        &codes::private("SIGNS", "IVC leiomyosarcoma differentiating signs"),
    );
    for s in &report.signs {
        let it = code_v("CONTAINS", &codes::sign(&s.id), &codes::state(&s.state));
        let mut kids = vec![text(
            "HAS PROPERTIES",
            &codes::private("EXPLANATION", "Explanation"),
            &s.explanation,
        )];
        if let Some(v) = s.value {
            let unit = match s.unit.as_deref() {
                Some("mm") => codes::mm(),
                Some("ml") => codes::ml(),
                Some("deg") | Some("degrees") => codes::degree(),
                Some("HU") => codes::hounsfield(),
                Some("%") => codes::percent(),
                _ => codes::no_units(),
            };
            let mut n = num(&codes::private("SIGNVALUE", "Measured value"), v, &unit, vec![]);
            n.put(DataElement::new(
                tags::RELATIONSHIP_TYPE,
                VR::CS,
                PrimitiveValue::from("INFERRED FROM"),
            ));
            kids.push(n);
        }
        c.push(children(it, kids));
    }
    measurement_group(false, c)
}

/// The root container (TID 1500): context, the image library (each slice a line is
/// drawn on, once) and the measurement groups.
fn root_content(r: &Reference, lines: &[Line], groups: Vec<Obj>) -> Obj {
    let mut seen = std::collections::BTreeSet::new();
    let lib_images: Vec<Obj> = lines
        .iter()
        .filter(|l| seen.insert((l.sop_instance_uid.clone(), l.frame_number)))
        .map(|l| {
            image(
                "CONTAINS",
                None,
                &l.sop_class_uid,
                &l.sop_instance_uid,
                l.frame_number,
                None,
            )
        })
        .collect();
    let modality = r.series.modality.as_str();
    let procedure = if modality == "MR" {
        codes::sct("113091000", "Magnetic resonance imaging")
    } else {
        codes::sct("77477000", "Computerized axial tomography")
    };
    let mut root_items = vec![
        modifier(
            &codes::dcm("121049", "Language of Content Item and Descendants"),
            &codes::code("en-US", "RFC5646", "English (United States)"),
        ),
        code_v(
            "HAS OBS CONTEXT",
            &codes::dcm("121005", "Observer Type"),
            &codes::dcm("121007", "Device"),
        ),
        uidref(
            "HAS OBS CONTEXT",
            &codes::dcm("121012", "Device Observer UID"),
            crate::DEVICE_OBSERVER_UID,
        ),
        text(
            "HAS OBS CONTEXT",
            &codes::dcm("121013", "Device Observer Name"),
            "cavascope",
        ),
        modifier(&codes::dcm("121058", "Procedure reported"), &procedure),
    ];
    if !lib_images.is_empty() {
        root_items.push(container(
            Some("CONTAINS"),
            &codes::dcm("111028", "Image Library"),
            None,
            vec![container(
                Some("CONTAINS"),
                &codes::dcm("126200", "Image Library Group"),
                None,
                lib_images,
            )],
        ));
    }
    root_items.push(container(
        Some("CONTAINS"),
        &codes::dcm("126010", "Imaging Measurements"),
        None,
        groups,
    ));
    container(
        None,
        &codes::dcm("126000", "Imaging Measurement Report"),
        Some("1500"),
        root_items,
    )
}

/// The evidence item: the source series (every instance) and the SEG.
fn evidence(r: &Reference, attrs: &StudyAttributes, seg: Option<&(String, String)>) -> Obj {
    let mut series_items = Vec::new();
    let sops = r.sop_items();
    let mut si = Obj::new_empty();
    put_str(
        &mut si,
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        &r.series.series_instance_uid,
    );
    put_seq(&mut si, tags::REFERENCED_SOP_SEQUENCE, sops);
    series_items.push(si);
    if let Some((seg_sop, seg_series)) = seg {
        let x = sop_ref(crate::seg::SEG_SOP_CLASS, seg_sop);
        let mut si = Obj::new_empty();
        put_str(&mut si, tags::SERIES_INSTANCE_UID, VR::UI, seg_series);
        put_seq(&mut si, tags::REFERENCED_SOP_SEQUENCE, vec![x]);
        series_items.push(si);
    }
    let mut st = Obj::new_empty();
    put_str(
        &mut st,
        tags::STUDY_INSTANCE_UID,
        VR::UI,
        &attrs.study_instance_uid,
    );
    put_seq(&mut st, tags::REFERENCED_SERIES_SEQUENCE, series_items);
    st
}

/// The private coding scheme, declared (PS3.3 C.12.1.1.4).
fn private_scheme() -> Obj {
    let mut cs = Obj::new_empty();
    put_str(
        &mut cs,
        tags::CODING_SCHEME_DESIGNATOR,
        VR::SH,
        codes::PRIVATE_SCHEME,
    );
    put_str(
        &mut cs,
        tags::CODING_SCHEME_NAME,
        VR::ST,
        codes::PRIVATE_SCHEME_NAME,
    );
    put_str(
        &mut cs,
        tags::CODING_SCHEME_RESPONSIBLE_ORGANIZATION,
        VR::ST,
        "cavascope project",
    );
    cs
}
