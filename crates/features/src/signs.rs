//! The 13 signs, each judged from [`Measurements`] against [`Thresholds`].
//!
//! A sign is `indeterminate` whenever the series or the measurement it needs is missing:
//! an `absent` is only ever said when the evidence was looked at and not found.

use crate::decided::{collateral_limit, enlarged_collaterals, intraluminal_extension as deep_enough};
use crate::thresholds::Thresholds;
use crate::{Sign, SignId, SignState};
use cavascope_imaging::stats::mean_sd;
use cavascope_measurements::{
    Collaterals, IvcModel, IvcSegment, MassModel, Measurements, PhaseEnhancement, Role, Section,
};

/// Literature behind each sign (shown in the report beside the explanation).
pub fn source(id: SignId) -> &'static str {
    match id {
        SignId::DilatedIvc => {
            "Xiao, Eur Radiol 2019 (megacava ≥ 28 mm); normal CT calibre per level (jnmu aumn090723; Cureus 2022, PMID 36579206); PMC11609039"
        }
        SignId::ImperceptibleIvcLumen => {
            "Webb et al., AJR 2013 (imperceptible IVC at the contact: 3/4 LMS vs 0/14 other masses); PMC11609039"
        }
        SignId::ProminentCollaterals => {
            "PMC11609039; Kapur, RadioGraphics 2010 (pathways); gonadal ≥ 6 mm PMC6445463; azygos > 10 mm (unverified CT flag)"
        }
        SignId::IvcExtrinsicCompression => {
            "Webb et al., AJR 2013 (negative embedded-organ sign: 11/14 other masses vs 0/4 LMS); flat cava AP < 9 mm (Eisenstat, AJR 2002), ratio ≥ 1.9 (J Trauma 2010)"
        }
        SignId::IntraluminalExtension => {
            "Webb et al., AJR 2013 (not discriminating); Zou, Iran J Radiol 2017 (< 1/3 intraluminal)"
        }
        SignId::HeterogeneousArterialEnhancement => {
            "PMC11609039; Ganeshalingam, Clin Radiol 2011; Eurorad 13880"
        }
        SignId::ProgressiveDelayedEnhancement => {
            "PMC11609039 (delayed enhancement); ICC progressive centripetal (Yang, IJCEM 2017)"
        }
        SignId::Washout => "LI-RADS v2018 (washout is visual; Santillan 2020, Elsayes 2019)",
        SignId::InternalFat => "Park, AJR (macroscopic fat ≤ −10 HU); Eurorad 13880 (LMS: no fat)",
        SignId::Calcification => {
            "Agatston (≥ 130 HU); Ganeshalingam, Clin Radiol 2011 (LMS non-calcified); Eurorad 16571"
        }
        SignId::T1Hypointense => "Ganeshalingam, Clin Radiol 2011 (T1 low / T2 high)",
        SignId::T2Hyperintense => "Ganeshalingam, Clin Radiol 2011 (T1 low / T2 high)",
        SignId::DiffusionRestriction => {
            "Eurorad 12591 (restricted diffusion); ADC cut-off 1.178 (ICC vs metastases), uterine sarcoma 1.17 (Tamai 2008)"
        }
    }
}

/// What the study offers, for deciding between `absent` and `indeterminate`.
pub(crate) struct Context<'a> {
    pub measurements: &'a Measurements,
    pub thresholds: &'a Thresholds,
}

impl<'a> Context<'a> {
    fn has_role(&self, pred: impl Fn(Role) -> bool) -> bool {
        self.measurements.phases.iter().any(|p| pred(p.role))
    }
    fn is_mr(&self) -> bool {
        self.has_role(|r| r.as_str().starts_with("mr_")) && !self.has_role(|r| r.as_str().starts_with("ct_"))
    }
    fn has_post_contrast(&self) -> bool {
        self.has_role(|r| r.is_post_contrast())
    }
    fn enhancement(&self, pred: impl Fn(Role) -> bool) -> Option<&'a PhaseEnhancement> {
        self.measurements
            .mass
            .as_ref()?
            .enhancement
            .iter()
            .find(|e| pred(e.role))
    }
}

fn is_arterial(r: Role) -> bool {
    matches!(r, Role::CtArterial | Role::MrT1Arterial)
}
fn is_pv(r: Role) -> bool {
    matches!(r, Role::CtPortalVenous | Role::MrT1PortalVenous)
}
fn is_delayed(r: Role) -> bool {
    matches!(r, Role::CtDelayed | Role::MrT1Delayed)
}

fn sign_of(
    id: SignId,
    state: SignState,
    value: Option<f64>,
    threshold: Option<f64>,
    unit: Option<&str>,
    explanation: String,
) -> Sign {
    Sign {
        id,
        state,
        value: value.filter(|v| v.is_finite()),
        threshold: threshold.filter(|v| v.is_finite()),
        unit: unit.map(str::to_string),
        explanation,
        source: source(id).to_string(),
    }
}

fn indeterminate(id: SignId, unit: Option<&str>, threshold: Option<f64>, why: String) -> Sign {
    sign_of(
        id,
        SignState::Indeterminate,
        None,
        threshold,
        unit,
        format!("Not judged: {why}."),
    )
}

fn present_if(b: bool) -> SignState {
    if b {
        SignState::Present
    } else {
        SignState::Absent
    }
}

fn seg_name(s: Option<IvcSegment>) -> &'static str {
    match s {
        Some(IvcSegment::Upper) => "upper (retrohepatic/suprahepatic)",
        Some(IvcSegment::Middle) => "middle (hepatic to renal veins)",
        Some(IvcSegment::Lower) => "lower (infrarenal)",
        None => "unknown",
    }
}

/// Sections in contact with the mass (its contact z-range widened by the margin).
fn contact_range(m: &Measurements, t: &Thresholds) -> Option<[f64; 2]> {
    let r = m.mass.as_ref()?.contact_z_range_mm?;
    let (lo, hi) = (r[0].min(r[1]), r[0].max(r[1]));
    Some([lo - t.contact_margin_mm, hi + t.contact_margin_mm])
}

fn in_range(s: &Section, r: [f64; 2]) -> bool {
    s.z_mm >= r[0] && s.z_mm <= r[1]
}

fn finite_sections(ivc: &IvcModel) -> impl Iterator<Item = &Section> {
    ivc.profile
        .iter()
        .filter(|s| s.equivalent_diameter_mm.is_finite() && s.equivalent_diameter_mm > 0.0)
}

/// The patient's own IVC away from the mass: mean and SD of the equivalent diameter.
fn uninvolved_reference(ivc: &IvcModel, contact: Option<[f64; 2]>) -> Option<(f64, f64, usize)> {
    let d: Vec<f64> = finite_sections(ivc)
        .filter(|s| contact.is_none_or(|r| !in_range(s, r)))
        .map(|s| s.equivalent_diameter_mm)
        .collect();
    // Fewer than 5 mm of uninvolved IVC is no reference.
    if d.len() < 5 {
        return None;
    }
    mean_sd(&d).map(|(m, s)| (m, s, d.len()))
}

fn level_limit(t: &Thresholds, s: Option<IvcSegment>) -> Option<f64> {
    match s? {
        IvcSegment::Upper => Some(t.normal_min_diameter_upper_mm),
        IvcSegment::Middle => Some(t.normal_min_diameter_middle_mm),
        IvcSegment::Lower => Some(t.normal_min_diameter_lower_mm),
    }
}

/// Largest ratio of equivalent diameters between two sections ≤ 2 mm apart (arc length)
/// within 10 mm of `z`, and the z where it occurs. Sections without visible lumen are
/// left out: there the outline is the tumour-filled vein's, bridged by design, and a plug
/// may expand the vein over a few millimetres.
fn calibre_step_near(ivc: &IvcModel, z: f64) -> Option<(f64, f64)> {
    let mut secs: Vec<&Section> = finite_sections(ivc)
        .filter(|s| (s.z_mm - z).abs() <= 10.0 && s.lumen_visible != Some(false))
        .collect();
    secs.sort_by(|a, b| a.s_mm.total_cmp(&b.s_mm));
    let mut worst: Option<(f64, f64)> = None;
    for (i, a) in secs.iter().enumerate() {
        for b in secs[i + 1..].iter().take_while(|b| b.s_mm - a.s_mm <= 2.0) {
            let (lo, hi) = (
                a.equivalent_diameter_mm.min(b.equivalent_diameter_mm),
                a.equivalent_diameter_mm.max(b.equivalent_diameter_mm),
            );
            let r = hi / lo;
            if worst.is_none_or(|w| r > w.0) {
                worst = Some((r, 0.5 * (a.z_mm + b.z_mm)));
            }
        }
    }
    worst
}

/// Quality gate of an IVC sign about to be `present`: the reason it fails, or `None`.
/// `at_z`: the section whose calibre makes the sign (checked for continuity);
/// `calibre`: the sign rests on the outline of the vein (walls must be seen);
/// `lumen`: it rests on opacified blood.
fn ivc_gate(c: &Context, ivc: &IvcModel, at_z: Option<f64>, calibre: bool, lumen: bool) -> Option<String> {
    let t = c.thresholds;
    let q = &c.measurements.quality;
    if let Some(f) = q.ivc_coverage_fraction {
        if f < t.min_ivc_coverage_fraction {
            return Some(format!(
                "the IVC model covers {:.0}% of its expected course in the series ({:.0} mm; at least {:.0}% needed): a short track may be another vessel or a leak",
                f * 100.0,
                q.ivc_expected_length_mm.unwrap_or(f64::NAN),
                t.min_ivc_coverage_fraction * 100.0
            ));
        }
    }
    let unopacified =
        q.blood_opacified.is_some() && q.blood_pool_value.is_some_and(|b| b < t.opacified_blood_min_hu);
    if lumen && unopacified {
        return Some(format!(
            "the IVC blood measures {:.0} HU on the phase judged, below {:.0} HU: the blood is not opacified, so an absent lumen cannot be told from unopacified blood",
            q.blood_pool_value.unwrap_or(f64::NAN),
            t.opacified_blood_min_hu
        ));
    }
    if calibre
        && ivc.source != cavascope_measurements::Source::Mask
        && (unopacified || !c.has_post_contrast())
    {
        return Some(
            "without contrast in the blood the IVC wall is not seen where liver, caudate lobe, crus or psoas abut it, so a traced outline may take them in (give --ivc-mask for a calibre from a label)"
                .into(),
        );
    }
    if let Some(z) = at_z.filter(|_| calibre) {
        if let Some((r, zs)) = calibre_step_near(ivc, z) {
            if r > t.max_calibre_step_ratio {
                return Some(format!(
                    "the IVC outline is not continuous near z = {z:.1} mm: its equivalent diameter changes ×{r:.2} within 2 mm at z = {zs:.1} mm (more than ×{:.2}), an outline jumping into an abutting structure",
                    t.max_calibre_step_ratio
                ));
            }
        }
    }
    None
}

/// A sign that would be `present` but whose measurement failed its quality gate:
/// `indeterminate`, keeping the value and what was measured.
fn gated(sign: Sign, why: String) -> Sign {
    Sign {
        state: SignState::Indeterminate,
        explanation: format!(
            "Not judged: {why}. The measurement alone would read present: {}",
            sign.explanation
        ),
        ..sign
    }
}

/// `sign` unless it is `present` and the gate fails.
fn with_gate(sign: Sign, gate: impl FnOnce() -> Option<String>) -> Sign {
    if sign.state != SignState::Present {
        return sign;
    }
    match gate() {
        Some(why) => gated(sign, why),
        None => sign,
    }
}

pub(crate) fn dilated_ivc(c: &Context) -> Sign {
    let (sign, at_z) = dilated_ivc_measured(c);
    match &c.measurements.ivc {
        Some(ivc) => with_gate(sign, || ivc_gate(c, ivc, at_z, true, false)),
        None => sign,
    }
}

/// The dilatation rules on the measurement, and the z of the section that decides.
fn dilated_ivc_measured(c: &Context) -> (Sign, Option<f64>) {
    let id = SignId::DilatedIvc;
    let t = c.thresholds;
    let thr = t.dilated_equivalent_diameter_mm;
    let Some(ivc) = &c.measurements.ivc else {
        return (
            indeterminate(id, Some("mm"), Some(thr), "the IVC was not segmented".into()),
            None,
        );
    };
    let Some(widest) =
        finite_sections(ivc).max_by(|a, b| a.equivalent_diameter_mm.total_cmp(&b.equivalent_diameter_mm))
    else {
        return (
            indeterminate(id, Some("mm"), Some(thr), "the IVC profile is empty".into()),
            None,
        );
    };
    let contact = contact_range(c.measurements, t);
    let own = uninvolved_reference(ivc, contact);

    // Rule 1: megacava anywhere.
    if widest.equivalent_diameter_mm >= thr {
        return (sign_of(
            id,
            SignState::Present,
            Some(widest.equivalent_diameter_mm),
            Some(thr),
            Some("mm"),
            format!(
                "IVC equivalent diameter {:.1} mm at z = {:.1} mm ({} segment) reaches the megacava cut-off {:.0} mm{}",
                widest.equivalent_diameter_mm,
                widest.z_mm,
                seg_name(widest.segment),
                thr,
                own.map(|(m, _, _)| format!("; the uninvolved IVC measures {m:.1} mm"))
                    .unwrap_or_default()
            ),
        ), Some(widest.z_mm));
    }
    // Rule 2: minimum diameter above the 95th percentile of its level.
    let over_level = finite_sections(ivc)
        .filter_map(|s| level_limit(t, s.segment).map(|l| (s, l)))
        .filter(|(s, l)| s.min_diameter_mm > *l)
        .max_by(|a, b| (a.0.min_diameter_mm - a.1).total_cmp(&(b.0.min_diameter_mm - b.1)));
    if let Some((s, l)) = over_level {
        return (sign_of(
            id,
            SignState::Present,
            Some(s.min_diameter_mm),
            Some(l),
            Some("mm"),
            format!(
                "IVC minimum diameter {:.1} mm at z = {:.1} mm exceeds the 95th percentile of the {} segment ({:.0} mm)",
                s.min_diameter_mm,
                s.z_mm,
                seg_name(s.segment),
                l
            ),
        ), Some(s.z_mm));
    }
    // Rule 3: against the patient's own uninvolved IVC.
    if let (Some((mean, sd, n)), Some(r)) = (own, contact) {
        let limit = (mean + t.own_ivc_sd_factor * sd).max(mean * t.own_ivc_min_ratio);
        let widest_contact = finite_sections(ivc)
            .filter(|s| in_range(s, r))
            .max_by(|a, b| a.equivalent_diameter_mm.total_cmp(&b.equivalent_diameter_mm));
        if let Some(s) = widest_contact {
            if s.equivalent_diameter_mm > limit {
                return (sign_of(
                    id,
                    SignState::Present,
                    Some(s.equivalent_diameter_mm),
                    Some(limit),
                    Some("mm"),
                    format!(
                        "IVC equivalent diameter {:.1} mm at the mass (z = {:.1} mm) exceeds the patient's own uninvolved IVC ({:.1} ± {:.1} mm over {} sections; limit max(mean + {:.0} SD, {:.2} × mean) = {:.1} mm)",
                        s.equivalent_diameter_mm, s.z_mm, mean, sd, n, t.own_ivc_sd_factor, t.own_ivc_min_ratio, limit
                    ),
                ), Some(s.z_mm));
            }
        }
    }
    let level_note = if ivc.profile.iter().any(|s| s.segment.is_some()) {
        format!(
            "; minimum diameters within the level limits (upper {:.0}, middle {:.0}, lower {:.0} mm)",
            t.normal_min_diameter_upper_mm, t.normal_min_diameter_middle_mm, t.normal_min_diameter_lower_mm
        )
    } else {
        "; IVC levels unknown (no landmarks), level limits not applied".to_string()
    };
    (
        sign_of(
            id,
            SignState::Absent,
            Some(widest.equivalent_diameter_mm),
            Some(thr),
            Some("mm"),
            format!(
                "Widest IVC equivalent diameter {:.1} mm at z = {:.1} mm is below {:.0} mm{}{}",
                widest.equivalent_diameter_mm,
                widest.z_mm,
                thr,
                level_note,
                own.map(|(m, s, _)| format!("; uninvolved IVC {m:.1} ± {s:.1} mm"))
                    .unwrap_or_default()
            ),
        ),
        None,
    )
}

/// Stretches without opacified lumen from the per-section judgement, leaving out sections
/// where the IVC is flattened: a slit-like lumen pressed flat by a mass outside is
/// compression (partial volume hides it), not an absent lumen. `None` when no section
/// carries a judgement. Returns (longest length mm, z-ranges, flattened sections left out).
fn lumen_runs(ivc: &IvcModel, t: &Thresholds) -> Option<(f64, Vec<[f64; 2]>, usize)> {
    let mut secs: Vec<&Section> = ivc.profile.iter().filter(|s| s.lumen_visible.is_some()).collect();
    if secs.is_empty() {
        return None;
    }
    secs.sort_by(|a, b| a.s_mm.total_cmp(&b.s_mm));
    let mut runs: Vec<(f64, [f64; 2])> = Vec::new();
    let mut cur: Option<(&Section, &Section)> = None;
    let mut flat_left_out = 0usize;
    for s in secs {
        let flat = s.flattening_ratio.is_finite() && s.flattening_ratio <= t.flattening_ratio_max;
        let dark = s.lumen_visible == Some(false) && !flat;
        if s.lumen_visible == Some(false) && flat {
            flat_left_out += 1;
        }
        cur = match (dark, cur) {
            (true, None) => Some((s, s)),
            (true, Some((a, _))) => Some((a, s)),
            (false, Some((a, b))) => {
                runs.push((b.s_mm - a.s_mm, [a.z_mm.min(b.z_mm), a.z_mm.max(b.z_mm)]));
                None
            }
            (false, None) => None,
        };
    }
    if let Some((a, b)) = cur {
        runs.push((b.s_mm - a.s_mm, [a.z_mm.min(b.z_mm), a.z_mm.max(b.z_mm)]));
    }
    let longest = runs.iter().map(|r| r.0).fold(0.0, f64::max);
    Some((longest, runs.into_iter().map(|r| r.1).collect(), flat_left_out))
}

pub(crate) fn imperceptible_lumen(c: &Context) -> Sign {
    let sign = imperceptible_lumen_measured(c);
    // Unopacified blood: the lumen is judged against the IVC's own blood, so neither a
    // visible nor an absent lumen means anything — not `absent` either.
    if let (Some(why), SignState::Absent) = (contrast_gate(c), sign.state) {
        return Sign {
            state: SignState::Indeterminate,
            explanation: format!("Not judged: {why}. Measured: {}", sign.explanation),
            ..sign
        };
    }
    match &c.measurements.ivc {
        Some(ivc) => with_gate(sign, || ivc_gate(c, ivc, None, false, true)),
        None => sign,
    }
}

fn imperceptible_lumen_measured(c: &Context) -> Sign {
    let id = SignId::ImperceptibleIvcLumen;
    let thr = c.thresholds.imperceptible_min_length_mm;
    let Some(ivc) = &c.measurements.ivc else {
        return indeterminate(id, Some("mm"), Some(thr), "the IVC was not segmented".into());
    };
    if !c.has_post_contrast() {
        return indeterminate(
            id,
            Some("mm"),
            Some(thr),
            "the lumen needs a post-contrast phase and the study has none".into(),
        );
    }
    let (longest, ranges, flat_left_out) = match lumen_runs(ivc, c.thresholds) {
        Some(r) => r,
        None => match ivc.lumen.longest_imperceptible_mm {
            Some(l) if l.is_finite() => (l, ivc.lumen.imperceptible_ranges_z_mm.clone(), 0),
            _ => {
                return indeterminate(
                    id,
                    Some("mm"),
                    Some(thr),
                    "lumen visibility was not measured".into(),
                )
            }
        },
    };
    let reference = ivc
        .lumen
        .reference
        .as_deref()
        .map(|r| format!(" (reference: {r})"))
        .unwrap_or_default();
    let ranges = ranges
        .iter()
        .map(|r| format!("z {:.1} to {:.1} mm", r[0], r[1]))
        .collect::<Vec<_>>()
        .join(", ");
    let frac = ivc
        .lumen
        .visible_fraction
        .map(|f| format!("; lumen visible over {:.0}% of the IVC", f * 100.0))
        .unwrap_or_default();
    let flat_note = if flat_left_out > 0 {
        format!(
            "; {flat_left_out} flattened section(s) (min/max ≤ {:.2}) without visible lumen not counted: a slit lumen pressed flat is compression, not an absent lumen",
            c.thresholds.flattening_ratio_max
        )
    } else {
        String::new()
    };
    let present = longest >= thr;
    let expl = if present {
        format!("No opacified lumen over {longest:.1} mm of IVC ({ranges}), ≥ {thr:.0} mm{reference}{frac}{flat_note}")
    } else if longest > 0.0 {
        format!(
            "Longest stretch without opacified lumen {longest:.1} mm ({ranges}) is shorter than {thr:.0} mm{reference}{frac}{flat_note}"
        )
    } else {
        format!("Opacified lumen seen along the IVC{reference}{frac}{flat_note}")
    };
    sign_of(
        id,
        present_if(present),
        Some(longest),
        Some(thr),
        Some("mm"),
        expl,
    )
}

pub(crate) fn prominent_collaterals(c: &Context) -> Sign {
    let id = SignId::ProminentCollaterals;
    let t = c.thresholds;
    let Some(col): Option<&Collaterals> = c.measurements.collaterals.as_ref() else {
        return indeterminate(
            id,
            Some("mm"),
            Some(t.other_collateral_diameter_mm),
            "collateral veins were not assessed".into(),
        );
    };
    let named: Vec<(&str, f64, f64)> = col
        .veins
        .iter()
        .filter_map(|v| {
            v.diameter_mm
                .filter(|d| d.is_finite())
                .map(|d| (v.name.as_str(), d, collateral_limit(t, &v.name)))
        })
        .collect();
    if let Some((name, d, l)) = named
        .iter()
        .filter(|(_, d, l)| d > l)
        .max_by(|a, b| (a.1 - a.2).total_cmp(&(b.1 - b.2)))
    {
        return sign_of(
            id,
            SignState::Present,
            Some(*d),
            Some(*l),
            Some("mm"),
            format!("{name} measures {d:.1} mm, above {l:.0} mm{}", count_note(col, t)),
        );
    }
    // No vein above its limit, but a pathway could not be looked at (no level reference,
    // outside the series): not `absent`.
    if !col.not_assessed.is_empty() {
        let seen = if named.is_empty() {
            "no named collateral measured".to_string()
        } else {
            format!(
                "none above its limit ({})",
                named
                    .iter()
                    .map(|(n, d, l)| format!("{n} {d:.1} mm, limit {l:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return sign_of(
            id,
            SignState::Indeterminate,
            named.iter().map(|x| x.1).reduce(f64::max),
            Some(t.other_collateral_diameter_mm),
            Some("mm"),
            format!(
                "Not judged: {seen}, but not every pathway was assessed: {}",
                col.not_assessed.join("; ")
            ),
        );
    }
    if !named.is_empty() {
        let list = named
            .iter()
            .map(|(n, d, l)| format!("{n} {d:.1} mm (limit {l:.0})"))
            .collect::<Vec<_>>()
            .join(", ");
        let widest = named.iter().map(|x| x.1).fold(f64::MIN, f64::max);
        return sign_of(
            id,
            SignState::Absent,
            Some(widest),
            None,
            Some("mm"),
            format!("No collateral above its limit: {list}{}", count_note(col, t)),
        );
    }
    // Unnamed collateral vessels: the generic limit.
    let l = t.other_collateral_diameter_mm;
    let enlarged = enlarged_collaterals(col, t);
    match (col.max_diameter_mm, enlarged.count) {
        (Some(d), _) if d.is_finite() => sign_of(
            id,
            present_if(d > l),
            Some(d),
            Some(l),
            Some("mm"),
            format!(
                "Widest collateral vein {d:.1} mm {} {l:.0} mm; collateral volume {:.1} ml{}",
                if d > l { "exceeds" } else { "is within" },
                enlarged.volume_ml,
                count_note(col, t)
            ),
        ),
        (_, 0) => sign_of(
            id,
            SignState::Absent,
            None,
            Some(l),
            Some("mm"),
            format!("No enlarged collateral vein found (limit {l:.0} mm)"),
        ),
        _ => indeterminate(
            id,
            Some("mm"),
            Some(l),
            "no collateral diameter was measured".into(),
        ),
    }
}

fn count_note(col: &Collaterals, t: &Thresholds) -> String {
    format!(
        "; {} enlarged collateral vessel(s)",
        enlarged_collaterals(col, t).count
    )
}

pub(crate) fn extrinsic_compression(c: &Context) -> Sign {
    let sign = extrinsic_compression_measured(c);
    match &c.measurements.ivc {
        Some(ivc) => with_gate(sign, || ivc_gate(c, ivc, None, true, false)),
        None => sign,
    }
}

fn extrinsic_compression_measured(c: &Context) -> Sign {
    let id = SignId::IvcExtrinsicCompression;
    let t = c.thresholds;
    let unit = Some("ratio");
    let thr = Some(t.flattening_ratio_max);
    let Some(ivc) = &c.measurements.ivc else {
        return indeterminate(id, unit, thr, "the IVC was not segmented".into());
    };
    let Some(mass) = &c.measurements.mass else {
        return no_mass_sign(c, id, unit, thr);
    };
    let Some(contact) = contact_range(c.measurements, t) else {
        return sign_of(
            id,
            SignState::Absent,
            None,
            thr,
            unit,
            format!(
                "The mass (centroid z = {:.1} mm) does not touch the IVC, so it cannot compress it",
                mass.centroid_mm[2]
            ),
        );
    };
    let mut secs: Vec<&Section> = finite_sections(ivc).collect();
    secs.sort_by(|a, b| a.z_mm.total_cmp(&b.z_mm));
    let at: Vec<usize> = (0..secs.len()).filter(|&i| in_range(secs[i], contact)).collect();
    if at.is_empty() {
        return indeterminate(
            id,
            unit,
            thr,
            format!(
                "no IVC section was measured at the mass contact (z {:.1} to {:.1} mm)",
                contact[0], contact[1]
            ),
        );
    }
    let own = uninvolved_reference(ivc, Some(contact));
    let calibre = Calibre { thresholds: t, own };
    let abnormal = |s: &Section| calibre.abnormal(s);
    // An IVC widened at the contact is expanded from inside, not compressed.
    let widened = at.iter().any(|&i| calibre.widened(secs[i]));
    let flattest = at
        .iter()
        .map(|&i| secs[i])
        .min_by(|a, b| a.flattening_ratio.total_cmp(&b.flattening_ratio));
    let narrowest = at
        .iter()
        .map(|&i| secs[i])
        .min_by(|a, b| a.equivalent_diameter_mm.total_cmp(&b.equivalent_diameter_mm));
    let (Some(flattest), Some(narrowest)) = (flattest, narrowest) else {
        return indeterminate(id, unit, thr, "no section at the contact".into());
    };
    let own_note = own
        .map(|(m, s, _)| format!("; uninvolved IVC {m:.1} ± {s:.1} mm"))
        .unwrap_or_default();
    let at_note = format!(
        "at the mass contact (z {:.1} to {:.1} mm) the flattest IVC section has min/max diameter {:.2} at z = {:.1} mm (flat if ≤ {:.2}), the narrowest equivalent diameter {:.1} mm{}",
        contact[0], contact[1], flattest.flattening_ratio, flattest.z_mm, t.flattening_ratio_max,
        narrowest.equivalent_diameter_mm, own_note
    );
    let abnormal_at: Vec<usize> = at.iter().copied().filter(|&i| abnormal(secs[i])).collect();
    if abnormal_at.is_empty() {
        return sign_of(
            id,
            SignState::Absent,
            Some(flattest.flattening_ratio),
            thr,
            unit,
            if widened {
                format!("IVC widened, not compressed, at the mass: {at_note}")
            } else {
                format!("No extrinsic compression: IVC neither flattened nor narrowed {at_note}")
            },
        );
    }
    if widened {
        return sign_of(
            id,
            SignState::Absent,
            Some(flattest.flattening_ratio),
            thr,
            unit,
            format!("IVC widened, not compressed, at the mass: {at_note}"),
        );
    }
    compression_judged(
        c,
        &secs,
        contact,
        &calibre,
        &abnormal_at,
        &at_note,
        flattest.flattening_ratio,
    )
}

/// The extrinsic-compression sign once abnormal sections lie at the contact
/// (`abnormal_at`, indices into `secs`, not empty): their stretch, extended while the IVC
/// stays abnormal, must be local to the contact and have normal calibre around it.
fn compression_judged(
    c: &Context,
    secs: &[&Section],
    contact: [f64; 2],
    calibre: &Calibre,
    abnormal_at: &[usize],
    at_note: &str,
    flattest_ratio: f64,
) -> Sign {
    let id = SignId::IvcExtrinsicCompression;
    let t = c.thresholds;
    let unit = Some("ratio");
    let thr = Some(t.flattening_ratio_max);
    let abnormal = |s: &Section| calibre.abnormal(s);
    let (Some(&first), Some(&last)) = (abnormal_at.first(), abnormal_at.last()) else {
        return indeterminate(id, unit, thr, "no section at the contact".into());
    };
    // The compressed stretch: the abnormal sections at the contact, extended along the
    // IVC while the sections stay abnormal (the measured contact may be shorter than the
    // flattening it causes).
    let (lo, hi) = compressed_stretch(secs, first, last, abnormal);
    let (z_lo, z_hi) = (secs[lo].z_mm, secs[hi].z_mm);
    let ctx = t.compression_context_mm;
    let stretch_note = format!("the IVC is flattened/narrowed from z {z_lo:.1} to {z_hi:.1} mm");
    if z_hi - contact[1] > ctx || contact[0] - z_lo > ctx {
        return sign_of(
            id,
            SignState::Absent,
            Some(flattest_ratio),
            thr,
            unit,
            format!(
                "Not a local compression: {stretch_note}, more than {ctx:.0} mm beyond the mass contact (a flat cava, e.g. hypovolaemia); {at_note}"
            ),
        );
    }
    let Some((context_ok, context_note)) = calibre_around(secs, lo, hi, ctx, calibre) else {
        return indeterminate(
            id,
            unit,
            thr,
            format!("{stretch_note} but no IVC was measured above or below it to show normal calibre"),
        );
    };
    let how = format!(
        "{at_note}; {stretch_note}{}; {context_note} (within {ctx:.0} mm)",
        if abnormal_at.iter().any(|&i| calibre.flat_ap(secs[i])) {
            format!(", AP < {:.0} mm", t.flat_ap_diameter_mm)
        } else {
            String::new()
        }
    );
    let expl = if context_ok {
        format!("IVC flattened/narrowed by the mass outside it (negative embedded-organ sign): {how}")
    } else {
        format!("No extrinsic compression (calibre not normal around the narrowing): {how}")
    };
    sign_of(id, present_if(context_ok), Some(flattest_ratio), thr, unit, expl)
}

/// How an IVC section compares with the cut-offs and with the patient's own uninvolved IVC
/// (`own`: mean, SD and count of its equivalent diameters away from the mass).
struct Calibre<'a> {
    thresholds: &'a Thresholds,
    own: Option<(f64, f64, usize)>,
}

impl Calibre<'_> {
    fn flat(&self, s: &Section) -> bool {
        s.flattening_ratio <= self.thresholds.flattening_ratio_max
    }

    fn flat_ap(&self, s: &Section) -> bool {
        s.ap_diameter_mm.is_finite()
            && s.ap_diameter_mm > 0.0
            && s.ap_diameter_mm < self.thresholds.flat_ap_diameter_mm
    }

    fn narrowed(&self, s: &Section) -> bool {
        self.own
            .is_some_and(|(m, _, _)| s.equivalent_diameter_mm < self.thresholds.narrowed_ratio * m)
    }

    /// Flattened, flat in AP, or narrowed against the patient's own IVC.
    fn abnormal(&self, s: &Section) -> bool {
        self.flat(s) || self.flat_ap(s) || self.narrowed(s)
    }

    /// Dilated, or wider than the patient's own IVC allows.
    fn widened(&self, s: &Section) -> bool {
        let t = self.thresholds;
        s.equivalent_diameter_mm >= t.dilated_equivalent_diameter_mm
            || self.own.is_some_and(|(m, sd, _)| {
                s.equivalent_diameter_mm > (m + t.own_ivc_sd_factor * sd).max(m * t.own_ivc_min_ratio)
            })
    }
}

/// The compressed stretch: the abnormal sections `first..=last` at the contact, extended
/// along the IVC while the sections stay abnormal (the measured contact may be shorter
/// than the flattening it causes).
fn compressed_stretch(
    secs: &[&Section],
    first: usize,
    last: usize,
    abnormal: impl Fn(&Section) -> bool,
) -> (usize, usize) {
    let (mut lo, mut hi) = (first, last);
    while lo > 0 && abnormal(secs[lo - 1]) {
        lo -= 1;
    }
    while hi + 1 < secs.len() && abnormal(secs[hi + 1]) {
        hi += 1;
    }
    (lo, hi)
}

/// Is the IVC calibre normal within `ctx` mm above and below the stretch `lo..=hi` (most
/// sections neither abnormal nor widened), with the note that says so; `None` when no
/// section was measured on either side.
fn calibre_around(
    secs: &[&Section],
    lo: usize,
    hi: usize,
    ctx: f64,
    calibre: &Calibre,
) -> Option<(bool, String)> {
    let (z_lo, z_hi) = (secs[lo].z_mm, secs[hi].z_mm);
    let normal = |s: &Section| !calibre.abnormal(s) && !calibre.widened(s);
    let above: Vec<&Section> = secs[hi + 1..]
        .iter()
        .copied()
        .filter(|s| s.z_mm <= z_hi + ctx)
        .collect();
    let below: Vec<&Section> = secs[..lo]
        .iter()
        .copied()
        .filter(|s| s.z_mm >= z_lo - ctx)
        .collect();
    let normal_above = !above.is_empty() && above.iter().filter(|s| normal(s)).count() * 2 > above.len();
    let normal_below = !below.is_empty() && below.iter().filter(|s| normal(s)).count() * 2 > below.len();
    let word = |b: bool| if b { "normal" } else { "not normal" };
    match (above.is_empty(), below.is_empty()) {
        (true, true) => None,
        (true, false) => Some((
            normal_below,
            format!("IVC below {}; none measured above", word(normal_below)),
        )),
        (false, true) => Some((
            normal_above,
            format!("IVC above {}; none measured below", word(normal_above)),
        )),
        (false, false) => Some((
            normal_above && normal_below,
            format!(
                "IVC {} above and {} below",
                word(normal_above),
                word(normal_below)
            ),
        )),
    }
}

/// A mass sign when no mass was found: absent (there is no mass to carry it), said plainly.
fn no_mass_sign(c: &Context, id: SignId, unit: Option<&str>, thr: Option<f64>) -> Sign {
    if c.measurements.phases.is_empty() {
        return indeterminate(
            id,
            unit,
            thr,
            "no series with a known role to look for a mass".into(),
        );
    }
    if let Some(why) = &c.measurements.mass_not_searched {
        return indeterminate(id, unit, thr, format!("no mass was measured ({why})"));
    }
    sign_of(
        id,
        SignState::Absent,
        None,
        thr,
        unit,
        "No mass was found, so there is no mass to carry this sign".into(),
    )
}

pub(crate) fn intraluminal_extension(c: &Context) -> Sign {
    let id = SignId::IntraluminalExtension;
    let Some(mass) = &c.measurements.mass else {
        return no_mass_sign(c, id, None, None);
    };
    // The value is the volume lying deep inside the IVC contour, against the limit.
    let value = mass.intraluminal_ml;
    let threshold = Some(c.thresholds.intraluminal_min_ml);
    let unit = Some("ml");
    match deep_enough(mass, c.thresholds) {
        Some(true) => sign_of(
            id,
            SignState::Present,
            value,
            threshold,
            unit,
            format!(
                "Mass tissue inside the IVC lumen{}{}",
                mass.intraluminal_ml
                    .map(|v| format!(": {v:.1} ml lying deeper than the partial-volume seam at the wall"))
                    .unwrap_or_default(),
                mass.intraluminal_z_range_mm
                    .or(mass.contact_z_range_mm)
                    .map(|r| format!(", z {:.1} to {:.1} mm", r[0], r[1]))
                    .unwrap_or_default()
            ),
        ),
        Some(false) => sign_of(
            id,
            SignState::Absent,
            value,
            threshold,
            unit,
            match mass.intraluminal_ml {
                Some(v) if v > 0.0 => format!(
                    "No mass tissue inside the IVC lumen ({v:.2} ml deep inside its contour, under the {} ml limit: the seam where the outlines meet)",
                    c.thresholds.intraluminal_min_ml
                ),
                _ => "No mass tissue inside the IVC lumen".into(),
            },
        ),
        None => indeterminate(
            id,
            None,
            None,
            "the relation of the mass to the IVC lumen was not measured".into(),
        ),
    }
}

fn mass_or<'a>(
    c: &'a Context,
    id: SignId,
    unit: Option<&str>,
    thr: Option<f64>,
) -> Result<&'a MassModel, Sign> {
    c.measurements
        .mass
        .as_ref()
        .ok_or_else(|| no_mass_sign(c, id, unit, thr))
}

pub(crate) fn heterogeneous_arterial(c: &Context) -> Sign {
    let id = SignId::HeterogeneousArterialEnhancement;
    let thr = c.thresholds.heterogeneous_arterial_cv;
    if !c.has_role(is_arterial) {
        return indeterminate(
            id,
            Some("cv"),
            Some(thr),
            "the study has no arterial phase".into(),
        );
    }
    let mass = match mass_or(c, id, Some("cv"), Some(thr)) {
        Ok(m) => m,
        Err(s) => return s,
    };
    let art = c.enhancement(is_arterial);
    let cv = mass.arterial_heterogeneity_cv.or(art.map(|e| e.cv));
    let Some(cv) = cv.filter(|v| v.is_finite()) else {
        return indeterminate(
            id,
            Some("cv"),
            Some(thr),
            "mass heterogeneity on the arterial phase was not measured".into(),
        );
    };
    let stats = art
        .map(|e| format!(" (mean {:.0}, SD {:.0})", e.mean, e.sd))
        .unwrap_or_default();
    let present = cv >= thr;
    sign_of(
        id,
        present_if(present),
        Some(cv),
        Some(thr),
        Some("cv"),
        format!(
            "Arterial-phase mass coefficient of variation {cv:.2}{stats} {} {thr:.2}",
            if present { "≥" } else { "<" }
        ),
    )
}

/// Enhancement of a phase in the study's unit: ΔHU (CT) or relative enhancement % (MRI).
fn level(e: &PhaseEnhancement) -> f64 {
    e.delta_from_unenhanced.unwrap_or(e.mean)
}

fn change(c: &Context, from: &PhaseEnhancement, to: &PhaseEnhancement) -> (f64, &'static str) {
    if c.is_mr() {
        match (from.delta_from_unenhanced, to.delta_from_unenhanced) {
            // Relative enhancements: the difference is in percentage points.
            (Some(a), Some(b)) => (b - a, "percentage points"),
            _ if from.mean.abs() > 1e-9 => ((to.mean - from.mean) / from.mean * 100.0, "%"),
            _ => (f64::NAN, "%"),
        }
    } else {
        (level(to) - level(from), "HU")
    }
}

pub(crate) fn progressive(c: &Context) -> Sign {
    let id = SignId::ProgressiveDelayedEnhancement;
    let thr = if c.is_mr() {
        c.thresholds.progressive_delta_mr_percent
    } else {
        c.thresholds.progressive_delta_hu
    };
    let unit = if c.is_mr() { "%" } else { "HU" };
    if !c.has_role(is_pv) || !c.has_role(is_delayed) {
        return indeterminate(
            id,
            Some(unit),
            Some(thr),
            "needs both a portal-venous and a delayed phase".into(),
        );
    }
    if let Err(s) = mass_or(c, id, Some(unit), Some(thr)) {
        return s;
    }
    let (Some(pv), Some(del)) = (c.enhancement(is_pv), c.enhancement(is_delayed)) else {
        return indeterminate(
            id,
            Some(unit),
            Some(thr),
            "mass enhancement on the portal-venous or delayed phase was not measured".into(),
        );
    };
    let (d, u) = change(c, pv, del);
    if !d.is_finite() {
        return indeterminate(id, Some(unit), Some(thr), "enhancement change undefined".into());
    }
    let present = d >= thr;
    sign_of(
        id,
        present_if(present),
        Some(d),
        Some(thr),
        Some(unit),
        format!(
            "Mass mean {:.0} on portal-venous → {:.0} on delayed: change {:+.1} {u} {} +{thr:.0}{}",
            pv.mean,
            del.mean,
            d,
            if present { "≥" } else { "<" },
            baseline_note(c)
        ),
    )
}

fn baseline_note(c: &Context) -> String {
    match c.enhancement(|r| r.is_baseline()) {
        Some(b) => format!(" (unenhanced mean {:.0})", b.mean),
        None => String::new(),
    }
}

pub(crate) fn washout(c: &Context) -> Sign {
    let id = SignId::Washout;
    let thr = if c.is_mr() {
        c.thresholds.washout_delta_mr_percent
    } else {
        c.thresholds.washout_delta_hu
    };
    let unit = if c.is_mr() { "%" } else { "HU" };
    if !c.has_role(is_arterial) || !(c.has_role(is_pv) || c.has_role(is_delayed)) {
        return indeterminate(
            id,
            Some(unit),
            Some(thr),
            "needs an arterial phase and a later (portal-venous or delayed) phase".into(),
        );
    }
    if let Err(s) = mass_or(c, id, Some(unit), Some(thr)) {
        return s;
    }
    let Some(art) = c.enhancement(is_arterial) else {
        return indeterminate(
            id,
            Some(unit),
            Some(thr),
            "mass enhancement on the arterial phase was not measured".into(),
        );
    };
    let later: Vec<&PhaseEnhancement> = [c.enhancement(is_pv), c.enhancement(is_delayed)]
        .into_iter()
        .flatten()
        .collect();
    // The largest fall from the arterial phase to any later phase.
    let Some((drop, u, which)) = later
        .iter()
        .map(|e| {
            let (d, u) = change(c, art, e);
            (-d, u, *e)
        })
        .filter(|x| x.0.is_finite())
        .max_by(|a, b| a.0.total_cmp(&b.0))
    else {
        return indeterminate(
            id,
            Some(unit),
            Some(thr),
            "mass enhancement on the later phases was not measured".into(),
        );
    };
    // Washout needs arterial enhancement first (when a baseline tells us).
    let enh_thr = if c.is_mr() {
        c.thresholds.enhancing_delta_mr_percent
    } else {
        c.thresholds.enhancing_delta_hu
    };
    let art_enhances = art.delta_from_unenhanced.map(|d| d >= enh_thr);
    let present = drop >= thr && art_enhances != Some(false);
    let enh_note = match art.delta_from_unenhanced {
        Some(d) => format!(" (arterial enhancement {d:+.0} {unit} over unenhanced)"),
        None => " (no unenhanced baseline: arterial enhancement not checked)".into(),
    };
    sign_of(
        id,
        present_if(present),
        Some(drop),
        Some(thr),
        Some(unit),
        format!(
            "Mass mean {:.0} on arterial → {:.0} on {}: fall {:.1} {u} {} {thr:.0}{enh_note}",
            art.mean,
            which.mean,
            which.role.as_str(),
            drop,
            if drop >= thr { "≥" } else { "<" },
        ),
    )
}

pub(crate) fn internal_fat(c: &Context) -> Sign {
    ct_fraction_sign(
        c,
        SignId::InternalFat,
        c.thresholds.fat_fraction,
        "fat is measured on CT (≤ −10 HU); this MRI study has no fat-specific measure",
        "the mass fat fraction was not measured",
        |m| m.fat_fraction,
        |v, thr, m| {
            format!(
                "{v:.1}% of the mass ({:.0} ml) at −190 to −10 HU, away from air, {} {thr:.0}%",
                m.volume_ml,
                if v >= thr { "≥" } else { "<" }
            )
        },
    )
}

pub(crate) fn calcification(c: &Context) -> Sign {
    ct_fraction_sign(
        c,
        SignId::Calcification,
        c.thresholds.calcified_fraction,
        "calcification is measured on CT; MRI does not show it reliably",
        "the mass calcified fraction was not measured",
        |m| m.calcified_fraction,
        |v, thr, _| {
            format!(
                "{v:.2}% of the mass at ≥ 130 HU {} {thr:.1}%",
                if v >= thr { "≥" } else { "<" }
            )
        },
    )
}

/// A sign that is a fraction of the mass's CT voxels (fat, calcium): present at or above
/// the threshold, indeterminate on MRI or when the fraction was not measured.
fn ct_fraction_sign(
    c: &Context,
    id: SignId,
    threshold_fraction: f64,
    mr_reason: &str,
    missing_reason: &str,
    get: impl Fn(&MassModel) -> Option<f64>,
    describe: impl Fn(f64, f64, &MassModel) -> String,
) -> Sign {
    let thr = threshold_fraction * 100.0;
    if c.is_mr() {
        return indeterminate(id, Some("%"), Some(thr), mr_reason.into());
    }
    let mass = match mass_or(c, id, Some("%"), Some(thr)) {
        Ok(m) => m,
        Err(s) => return s,
    };
    let Some(f) = get(mass).filter(|v| v.is_finite()) else {
        return indeterminate(id, Some("%"), Some(thr), missing_reason.into());
    };
    let v = f * 100.0;
    sign_of(
        id,
        present_if(v >= thr),
        Some(v),
        Some(thr),
        Some("%"),
        describe(v, thr, mass),
    )
}

fn mr_value(
    c: &Context,
    id: SignId,
    unit: &str,
    thr: f64,
    role_needed: &[Role],
    get: impl Fn(&cavascope_measurements::MrMeasures) -> Option<f64>,
) -> Result<(f64, String), Sign> {
    if !c.has_role(|r| role_needed.contains(&r)) {
        let names = role_needed
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(indeterminate(
            id,
            Some(unit),
            Some(thr),
            format!("needs an MRI {names} series and the study has none"),
        ));
    }
    let mass = mass_or(c, id, Some(unit), Some(thr))?;
    let mr = mass.mr.as_ref();
    let v = mr.and_then(&get).filter(|v| v.is_finite());
    let muscle = mr
        .and_then(|m| m.muscle_roi_center_mm)
        .map(|p| {
            format!(
                " (muscle reference at [{:.0}, {:.0}, {:.0}] mm)",
                p[0], p[1], p[2]
            )
        })
        .unwrap_or_default();
    match v {
        Some(v) => Ok((v, muscle)),
        None => Err(indeterminate(
            id,
            Some(unit),
            Some(thr),
            "the MRI measure was not made".into(),
        )),
    }
}

pub(crate) fn t1_hypointense(c: &Context) -> Sign {
    let id = SignId::T1Hypointense;
    let thr = c.thresholds.t1_hypointense_ratio;
    match mr_value(c, id, "ratio", thr, &[Role::MrT1Pre], |m| m.t1_ratio_to_muscle) {
        Err(s) => s,
        Ok((v, muscle)) => sign_of(
            id,
            present_if(v < thr),
            Some(v),
            Some(thr),
            Some("ratio"),
            format!(
                "Mass/muscle signal on unenhanced T1 {v:.2} {} {thr:.2}{muscle}",
                if v < thr { "<" } else { "≥" }
            ),
        ),
    }
}

pub(crate) fn t2_hyperintense(c: &Context) -> Sign {
    let id = SignId::T2Hyperintense;
    let thr = c.thresholds.t2_hyperintense_ratio;
    match mr_value(c, id, "ratio", thr, &[Role::MrT2], |m| m.t2_ratio_to_muscle) {
        Err(s) => s,
        Ok((v, muscle)) => sign_of(
            id,
            present_if(v > thr),
            Some(v),
            Some(thr),
            Some("ratio"),
            format!(
                "Mass/muscle signal on T2 {v:.2} {} {thr:.2}{muscle}",
                if v > thr { ">" } else { "≤" }
            ),
        ),
    }
}

pub(crate) fn diffusion_restriction(c: &Context) -> Sign {
    let id = SignId::DiffusionRestriction;
    let thr = c.thresholds.adc_restricted;
    let unit = "1e-3 mm2/s";
    match mr_value(c, id, unit, thr, &[Role::MrAdc, Role::MrDwi], |m| m.adc_mean) {
        Err(s) => s,
        Ok((v, _)) => {
            let reference = c
                .measurements
                .mass
                .as_ref()
                .and_then(|m| m.mr.as_ref())
                .and_then(|m| m.adc_reference)
                .filter(|r| r.is_finite());
            let below_ref = reference.is_none_or(|r| v < r);
            let present = v < thr && below_ref;
            let ref_note = match reference {
                Some(r) => format!(
                    "; liver reference {r:.2} ({})",
                    if v < r { "mass lower" } else { "mass not lower" }
                ),
                None => "; no reference tissue ADC".into(),
            };
            sign_of(
                id,
                present_if(present),
                Some(v),
                Some(thr),
                Some(unit),
                format!(
                    "Mean mass ADC {v:.2} × 1e-3 mm²/s {} {thr:.2}{ref_note}",
                    if v < thr { "<" } else { "≥" }
                ),
            )
        }
    }
}

/// All 13 signs in report order.
/// Gate of the signs that rest on contrast in the blood (enhancement, tumour inside an
/// opacified lumen): a CT "post-contrast" series whose blood is not opacified.
fn contrast_gate(c: &Context) -> Option<String> {
    let q = &c.measurements.quality;
    match (q.blood_opacified, q.blood_pool_value) {
        (Some(_), Some(b)) if b < c.thresholds.opacified_blood_min_hu => Some(format!(
            "the IVC blood measures {b:.0} HU on the post-contrast series judged, below {:.0} HU: not opacified (an unenhanced or too early series)",
            c.thresholds.opacified_blood_min_hu
        )),
        _ => None,
    }
}

pub(crate) fn all(c: &Context) -> Vec<Sign> {
    let contrast = |s: Sign| with_gate(s, || contrast_gate(c));
    vec![
        dilated_ivc(c),
        imperceptible_lumen(c),
        prominent_collaterals(c),
        extrinsic_compression(c),
        contrast(intraluminal_extension(c)),
        contrast(heterogeneous_arterial(c)),
        contrast(progressive(c)),
        contrast(washout(c)),
        internal_fat(c),
        calcification(c),
        t1_hypointense(c),
        t2_hyperintense(c),
        diffusion_restriction(c),
    ]
}
