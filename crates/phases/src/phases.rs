//! The role of each series in a study (unenhanced, arterial, portal venous, delayed, T1,
//! T2, DWI, ADC), decided in this order of trust:
//!
//! 1. `--phase UID=ROLE` overrides ([`RoleSource::User`]);
//! 2. tags: series description / protocol keywords in several vendors' styles, the
//!    contrast agent tag, MRI echo/repetition times, b-values, image type
//!    ([`RoleSource::Tags`]);
//! 3. acquisition time order relative to the contrast start or to the other post-contrast
//!    series ([`RoleSource::Timing`]);
//! 4. content: the vascular peak and parenchymal level measured in the volumes themselves,
//!    compared in world space ([`RoleSource::Content`]).

use crate::model::{PhaseInfo, Role, RoleSource};
use cavascope_volume::{Point3, Volume};

/// What the tags alone say about a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagGuess {
    /// A definite role.
    Role(Role),
    /// Post-contrast CT or T1 but the phase is unknown.
    PostContrast { mr: bool },
    /// A T1 series with nothing telling pre from post.
    MrT1Unknown,
    /// Nothing usable.
    Unknown,
}

/// Lower-case alphanumeric tokens of a description, with the digit/letter boundary kept
/// (so "PV3mm" gives "pv", "3mm" stays intact as "3mm").
fn tokens(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_string())
        .collect()
}

fn has_token(toks: &[String], words: &[&str]) -> bool {
    toks.iter().any(|t| words.contains(&t.as_str()))
}

fn has_prefix(toks: &[String], stems: &[&str]) -> bool {
    toks.iter().any(|t| stems.iter().any(|s| t.starts_with(s)))
}

/// Keywords for an unenhanced series (GE "NC", Siemens "nativ", Philips "plain", "pre").
fn says_unenhanced(toks: &[String], raw: &str) -> bool {
    let joined: String = toks.concat();
    has_token(
        toks,
        &[
            "nc",
            "noncon",
            "plain",
            "pre",
            "native",
            "nativ",
            "unenh",
            "unenhanced",
            "noncontrast",
            "nonenhanced",
            "precontrast",
            "woc",
            "sans",
            "ohne",
            "baseline",
            "mask",
        ],
    ) || has_prefix(toks, &["precon", "unenhanc", "nonenhanc", "noncontr", "nativ"])
        || joined.contains("noncon")
        || joined.contains("noncontrast")
        || joined.contains("withoutcontrast")
        || raw.contains("w/o")
        || raw.contains("wo contrast")
        || raw.contains("non-con")
        || raw.contains("non con")
}

fn says_arterial(toks: &[String]) -> bool {
    has_token(toks, &["art", "hap", "lap", "eap", "arterial", "cta", "angio"])
        || has_prefix(toks, &["arter", "angio"])
}

fn says_delayed(toks: &[String]) -> bool {
    has_token(
        toks,
        &[
            "del",
            "late",
            "delay",
            "delayed",
            "equil",
            "eq",
            "hbp",
            "excretory",
            "urographic",
            "pyelo",
            "5min",
            "3min",
            "10min",
            "15min",
            "20min",
        ],
    ) || has_prefix(
        toks,
        &[
            "delay",
            "equil",
            "transition",
            "hepatobil",
            "excret",
            "urogra",
            "spaet",
            "spat",
        ],
    )
}

fn says_portal(toks: &[String]) -> bool {
    has_token(
        toks,
        &[
            "pv",
            "pvp",
            "portal",
            "venous",
            "ven",
            "vp",
            "nephrographic",
            "70s",
        ],
    ) || has_prefix(toks, &["portal", "venou", "portven", "nephro"])
}

/// The roles a CT series description names, or `None`.
fn ct_keywords(desc: &str) -> Option<Role> {
    let raw = desc.to_lowercase();
    let toks = tokens(desc);
    if toks.is_empty() {
        return None;
    }
    if says_unenhanced(&toks, &raw) {
        return Some(Role::CtUnenhanced);
    }
    // "late arterial" is arterial: check the arterial words before "late".
    if says_arterial(&toks) {
        return Some(Role::CtArterial);
    }
    if says_delayed(&toks) {
        return Some(Role::CtDelayed);
    }
    if says_portal(&toks) {
        return Some(Role::CtPortalVenous);
    }
    None
}

/// Diffusion-weighted and ADC keywords.
fn says_adc(toks: &[String], image_type: &[String]) -> bool {
    has_token(toks, &["adc", "dadc", "eadc"])
        || has_prefix(toks, &["adc", "apparent"])
        || image_type.iter().any(|t| t.eq_ignore_ascii_case("ADC"))
}

fn says_dwi(toks: &[String]) -> bool {
    has_token(
        toks,
        &["dwi", "diff", "dwibs", "trace", "tracew", "resolve", "diffusion"],
    ) || has_prefix(toks, &["ep2d_diff", "diff", "dwi"])
        || toks.iter().any(|t| {
            // "b800", "b50": a b-value written in the description.
            t.len() >= 2 && t.starts_with('b') && t[1..].chars().all(|c| c.is_ascii_digit())
        })
}

fn says_t2(toks: &[String]) -> bool {
    has_token(
        toks,
        &[
            "t2", "t2w", "haste", "ssfse", "ssh", "stir", "frfse", "spair", "mrcp",
        ],
    ) || has_prefix(toks, &["t2", "haste", "ssfse"])
}

fn says_t1(toks: &[String]) -> bool {
    has_token(
        toks,
        &[
            "t1", "t1w", "vibe", "lava", "thrive", "flash", "dixon", "mdixon", "quick3d", "e-thrive",
            "ethrive", "starvibe", "gre", "spgr", "fl3d", "dyn", "dynamic",
        ],
    ) || has_prefix(toks, &["t1", "vibe", "lava", "thrive", "fl3d", "dyn"])
}

/// Minimum echo time (ms) above which a spin-echo series is T2-weighted. Conventional
/// T2-weighting uses TE ≳ 80 ms with TR ≳ 2000 ms; 60/1500 leaves room for short-TE
/// T2 fat-suppressed sequences (MRI physics textbooks; unverified cut-off).
const T2_MIN_TE_MS: f64 = 60.0;
const T2_MIN_TR_MS: f64 = 1500.0;
/// T1-weighted gradient echo: short TE and TR.
const T1_MAX_TE_MS: f64 = 20.0;
const T1_MAX_TR_MS: f64 = 1000.0;

fn agent_present(v: &Volume) -> Option<bool> {
    let a = v.meta.contrast_agent.as_ref()?;
    let a = a.trim().to_lowercase();
    if a.is_empty() {
        return None;
    }
    Some(!matches!(a.as_str(), "none" | "no" | "n/a" | "na" | "0" | "nil"))
}

fn description(v: &Volume) -> String {
    let mut s = String::new();
    if let Some(d) = &v.meta.series_description {
        s.push_str(d);
    }
    if let Some(p) = &v.meta.protocol_name {
        s.push(' ');
        s.push_str(p);
    }
    s
}

fn is_mr(v: &Volume) -> bool {
    v.meta.modality.eq_ignore_ascii_case("MR")
}

fn is_ct(v: &Volume) -> bool {
    v.meta.modality.eq_ignore_ascii_case("CT")
}

fn is_localizer(v: &Volume, toks: &[String]) -> bool {
    v.meta
        .image_type
        .iter()
        .any(|t| t.eq_ignore_ascii_case("LOCALIZER"))
        || has_token(
            toks,
            &[
                "scout",
                "topogram",
                "localizer",
                "localiser",
                "survey",
                "surview",
                "loc",
            ],
        )
}

fn tag_guess(v: &Volume) -> TagGuess {
    // The series description alone: the protocol name often names the whole exam
    // ("ABD 3-PHASE") and would make every series look alike.
    let desc = v.meta.series_description.clone().unwrap_or_default();
    let toks = tokens(&desc);
    let all_toks = tokens(&description(v));
    if is_localizer(v, &all_toks) {
        return TagGuess::Role(Role::Other);
    }
    if is_ct(v) {
        if let Some(r) = ct_keywords(&desc) {
            return TagGuess::Role(r);
        }
        // Protocol name as a weaker second source for the phase.
        if let Some(p) = &v.meta.protocol_name {
            if let Some(r) = ct_keywords(p) {
                return TagGuess::Role(r);
            }
        }
        return match agent_present(v) {
            Some(true) => TagGuess::PostContrast { mr: false },
            _ => TagGuess::Unknown,
        };
    }
    if is_mr(v) {
        if says_adc(&all_toks, &v.meta.image_type) {
            return TagGuess::Role(Role::MrAdc);
        }
        if v.meta.b_value.is_some() || says_dwi(&all_toks) {
            return TagGuess::Role(Role::MrDwi);
        }
        let te = v.meta.echo_time_ms;
        let tr = v.meta.repetition_time_ms;
        let long_te_tr = matches!((te, tr), (Some(te), Some(tr)) if te >= T2_MIN_TE_MS && tr >= T2_MIN_TR_MS);
        let short_te_tr =
            matches!((te, tr), (Some(te), Some(tr)) if te <= T1_MAX_TE_MS && tr <= T1_MAX_TR_MS);
        let t2 = says_t2(&toks) || (!says_t1(&toks) && long_te_tr);
        if t2 {
            return TagGuess::Role(Role::MrT2);
        }
        let t1 = says_t1(&all_toks) || short_te_tr;
        if !t1 {
            return TagGuess::Unknown;
        }
        let raw = desc.to_lowercase();
        if says_unenhanced(&toks, &raw) {
            return TagGuess::Role(Role::MrT1Pre);
        }
        if says_arterial(&toks) {
            return TagGuess::Role(Role::MrT1Arterial);
        }
        if says_delayed(&toks) {
            return TagGuess::Role(Role::MrT1Delayed);
        }
        if says_portal(&toks) {
            return TagGuess::Role(Role::MrT1PortalVenous);
        }
        return match agent_present(v) {
            Some(true) => TagGuess::PostContrast { mr: true },
            _ => TagGuess::MrT1Unknown,
        };
    }
    TagGuess::Role(Role::Other)
}

/// Delay after the contrast start (s) that separates arterial from portal venous and
/// portal venous from delayed. Late arterial imaging is at ~35–40 s, portal venous at
/// 70–80 s, delayed 2–5 min (LI-RADS v2018; CHAOS; see research brief §1d, §3).
const ARTERIAL_MAX_DELAY_S: f64 = 55.0;
const PORTAL_MAX_DELAY_S: f64 = 130.0;
/// A contrast start this long (s) or longer before the acquisition belongs to another
/// injection (an hour: every phase of one examination lies within minutes of it).
const SAME_INJECTION_MAX_DELAY_S: f64 = 3600.0;
/// Acquisition times closer than this (s) do not order two series (times are recorded
/// to the second or worse).
const DISTINCT_TIMES_MIN_S: f64 = 1.0;
/// MRI: the pre-contrast T1 series' vascular peak lies below every other's by this
/// factor (gadolinium raises blood signal several-fold; 30 % is beyond scanner drift).
const MR_MIN_CONTRAST_RATIO: f64 = 1.3;

fn post_role(mr: bool, stage: usize) -> Role {
    match (mr, stage) {
        (false, 0) => Role::CtArterial,
        (false, 1) => Role::CtPortalVenous,
        (false, _) => Role::CtDelayed,
        (true, 0) => Role::MrT1Arterial,
        (true, 1) => Role::MrT1PortalVenous,
        (true, _) => Role::MrT1Delayed,
    }
}

/// Stages (0 arterial, 1 portal venous, 2 delayed) for `n` post-contrast series known
/// only by their order.
fn stages_by_order(n: usize) -> Vec<usize> {
    match n {
        0 => vec![],
        // A single post-contrast series is most often the portal venous one.
        1 => vec![1],
        2 => vec![0, 1],
        _ => (0..n).map(|i| i.min(2)).collect(),
    }
}

/// Content features of one volume on the shared coarse grid.
#[derive(Debug, Clone, Copy)]
struct Content {
    /// 99.5th percentile of non-bone soft tissue: the vascular peak.
    peak: f64,
}

/// Grid step for the content analysis, mm: coarse, since only percentiles are needed.
const CONTENT_STEP_MM: f64 = 4.0;
/// Voxels whose minimum over the phases lies outside this range are air, fat or bone
/// and say nothing about contrast (CT HU).
const CT_SOFT_MIN_HU: f32 = -100.0;
const CT_SOFT_MAX_HU: f32 = 150.0;
/// Peak below this (HU) means no contrast: unenhanced blood is 35–55 HU and no soft tissue
/// reaches 100 HU without contrast (calcium and bone are excluded above).
const CT_UNENHANCED_MAX_PEAK_HU: f64 = 110.0;
/// The unenhanced series' peak lies at least this far below every enhanced one (HU): even
/// delayed phases keep the aorta 40+ HU above its unenhanced value (unverified margin).
const CT_MIN_CONTRAST_GAP_HU: f64 = 20.0;
/// Single-phase absolute cut-offs on the peak: aorta ≥ 250 HU is arterial, a venous peak
/// of 130–230 is portal venous; below that, delayed (CT angiography practice; unverified).
const CT_ARTERIAL_MIN_PEAK_HU: f64 = 250.0;
const CT_PORTAL_MIN_PEAK_HU: f64 = 135.0;

/// Sample `indices` volumes on one coarse grid spanning their common extent (world space)
/// and measure the vascular peak of the soft-tissue voxels of each.
fn content_features(volumes: &[Volume], indices: &[usize], ct: bool) -> Option<Vec<Content>> {
    let first = volumes.get(*indices.first()?)?;
    let (lo, hi) = first.geometry.world_bounds(first.shape());
    let n: Vec<usize> = (0..3)
        .map(|a| (((hi[a] - lo[a]) / CONTENT_STEP_MM).floor() as usize + 1).min(200))
        .collect();
    let mut samples: Vec<Vec<f32>> = vec![Vec::new(); indices.len()];
    let mut vals = vec![0f32; indices.len()];
    for z in 0..n[2] {
        for y in 0..n[1] {
            'pt: for x in 0..n[0] {
                let p = Point3::new(
                    lo.x + x as f64 * CONTENT_STEP_MM,
                    lo.y + y as f64 * CONTENT_STEP_MM,
                    lo.z + z as f64 * CONTENT_STEP_MM,
                );
                for (s, &vi) in indices.iter().enumerate() {
                    match volumes[vi].sample_world(&p) {
                        Some(v) if v.is_finite() => vals[s] = v,
                        _ => continue 'pt,
                    }
                }
                let mn = vals.iter().copied().fold(f32::INFINITY, f32::min);
                if ct && !(CT_SOFT_MIN_HU..=CT_SOFT_MAX_HU).contains(&mn) {
                    continue;
                }
                if !ct && mn <= 0.0 {
                    continue;
                }
                for (s, &v) in vals.iter().enumerate() {
                    samples[s].push(v);
                }
            }
        }
    }
    let mut out = Vec::new();
    for mut s in samples {
        if s.len() < 50 {
            return None;
        }
        s.sort_by(|a, b| a.total_cmp(b));
        let q = |f: f64| s[((s.len() - 1) as f64 * f).round() as usize] as f64;
        out.push(Content { peak: q(0.995) });
    }
    Some(out)
}

/// Assign a role to every volume. `overrides` maps a series instance UID to a role and wins
/// over everything else. The result is indexed like `volumes`.
///
/// ```
/// use cavascope_phases::phases::assign_roles;
/// use cavascope_measurements::{Role, RoleSource};
/// use cavascope_volume::{Geometry, Point3, Volume};
///
/// let g = Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]);
/// let mut v = Volume::filled([4, 4, 4], g, 40.0);
/// v.meta.modality = "CT".into();
/// v.meta.series_instance_uid = "1.2.3".into();
/// v.meta.series_description = Some("Abdomen PV 3.0 B30f".into());
/// let roles = assign_roles(&[v], &[]);
/// assert_eq!(roles[0].role, Role::CtPortalVenous);
/// assert_eq!(roles[0].role_source, RoleSource::Tags);
/// ```
pub fn assign_roles(volumes: &[Volume], overrides: &[(String, Role)]) -> Vec<PhaseInfo> {
    let mut out: Vec<PhaseInfo> = Vec::with_capacity(volumes.len());
    let mut guesses: Vec<TagGuess> = Vec::with_capacity(volumes.len());
    for (i, v) in volumes.iter().enumerate() {
        let uid = v.meta.series_instance_uid.clone();
        let user = overrides.iter().find(|(u, _)| *u == uid).map(|(_, r)| *r);
        let g = tag_guess(v);
        let (role, source) = match (user, g) {
            (Some(r), _) => (r, RoleSource::User),
            (None, TagGuess::Role(r)) => (r, RoleSource::Tags),
            _ => (Role::Other, RoleSource::Tags),
        };
        guesses.push(if user.is_some() { TagGuess::Role(role) } else { g });
        out.push(PhaseInfo {
            volume_index: i,
            series_instance_uid: uid,
            role,
            role_source: source,
        });
    }

    // Series sharing one UID with a temporal index (a dynamic T1 or a multiphase CT
    // stored as one series): order by that index.
    resolve_group(volumes, &mut out, &guesses, false);
    resolve_group(volumes, &mut out, &guesses, true);
    out
}

/// Resolve the CT (`mr == false`) or MRI T1 (`mr == true`) volumes whose phase the tags did
/// not settle, by contrast-agent presence, timing, then content.
fn resolve_group(volumes: &[Volume], out: &mut [PhaseInfo], guesses: &[TagGuess], mr: bool) {
    let in_group = |i: usize| -> bool {
        let v = &volumes[i];
        if mr {
            is_mr(v)
                && matches!(
                    guesses[i],
                    TagGuess::MrT1Unknown
                        | TagGuess::PostContrast { mr: true }
                        | TagGuess::Role(Role::MrT1Pre)
                        | TagGuess::Role(Role::MrT1Arterial)
                        | TagGuess::Role(Role::MrT1PortalVenous)
                        | TagGuess::Role(Role::MrT1Delayed)
                )
        } else {
            is_ct(v)
                && matches!(
                    guesses[i],
                    TagGuess::Unknown
                        | TagGuess::PostContrast { mr: false }
                        | TagGuess::Role(Role::CtUnenhanced)
                        | TagGuess::Role(Role::CtArterial)
                        | TagGuess::Role(Role::CtPortalVenous)
                        | TagGuess::Role(Role::CtDelayed)
                )
        }
    };
    let group: Vec<usize> = (0..volumes.len()).filter(|&i| in_group(i)).collect();
    let unresolved: Vec<usize> = group
        .iter()
        .copied()
        .filter(|&i| !matches!(guesses[i], TagGuess::Role(_)))
        .collect();
    if unresolved.is_empty() {
        return;
    }
    let baseline = if mr { Role::MrT1Pre } else { Role::CtUnenhanced };

    // 1. Contrast agent: when some series of the group carry the tag and others do not,
    //    the untagged ones (acquired before the tagged ones, when times say so) are the
    //    baseline.
    let any_agent = group.iter().any(|&i| agent_present(&volumes[i]) == Some(true));
    let (mut post, undecided) =
        split_by_agent(volumes, out, guesses, &group, &unresolved, any_agent, baseline);

    // 2. Content: the vascular peak separates unenhanced from enhanced, and orders the
    //    enhanced phases when times are missing.
    let content = content_features(volumes, &group, !mr);
    let feat = |i: usize| -> Option<Content> {
        let c = content.as_ref()?;
        group.iter().position(|&g| g == i).map(|p| c[p])
    };
    // A baseline found by content when the tags were silent.
    let group_min_peak = group
        .iter()
        .filter_map(|&i| feat(i))
        .map(|c| c.peak)
        .fold(f64::INFINITY, f64::min);
    let mut still: Vec<usize> = Vec::new();
    for &i in &undecided {
        let pre_like = match feat(i) {
            // CT: the lowest peak of the group, below the unenhanced ceiling, and clearly
            // below every other series (a late delayed phase can fall near 110 HU too).
            Some(c) if !mr => {
                let others = group
                    .iter()
                    .filter(|&&j| j != i)
                    .filter_map(|&j| feat(j))
                    .map(|c| c.peak)
                    .fold(f64::INFINITY, f64::min);
                c.peak < CT_UNENHANCED_MAX_PEAK_HU
                    && c.peak <= group_min_peak
                    && (!others.is_finite() || others - c.peak >= CT_MIN_CONTRAST_GAP_HU)
            }
            // MRI: the darkest vascular peak of several T1 series, clearly below the others.
            Some(c) if mr => {
                let others = group
                    .iter()
                    .filter(|&&j| j != i)
                    .filter_map(|&j| feat(j))
                    .map(|c| c.peak)
                    .fold(f64::INFINITY, f64::min);
                others.is_finite() && c.peak <= group_min_peak && c.peak * MR_MIN_CONTRAST_RATIO < others
            }
            _ => false,
        };
        if pre_like {
            out[i].role = baseline;
            out[i].role_source = RoleSource::Content;
        } else if feat(i).is_some() {
            post.push(i);
        } else {
            still.push(i);
        }
    }
    // A lone T1 series and no contrast agent tag anywhere in the group: pre-contrast is
    // the reading the (absent) agent tag supports; nothing to compare it with.
    if mr && group.len() == 1 && !any_agent {
        for &i in post.iter().chain(still.iter()) {
            out[i].role = baseline;
            out[i].role_source = RoleSource::Tags;
        }
        return;
    }
    if post.is_empty() {
        return;
    }

    // 3. Timing: delay after the contrast start, or order among all post-contrast series
    //    of the group (those named by tags included, so one named "PV" anchors the rest).
    if roles_by_timing(volumes, out, guesses, &group, &post, mr, content.is_none()) {
        return;
    }

    // 4. Content ordering: the vascular peak falls from the arterial phase onwards.
    let with_feat: Vec<(usize, Content)> = post.iter().filter_map(|&i| feat(i).map(|c| (i, c))).collect();
    roles_by_content_order(out, with_feat, mr);
}

/// Step 1 of [`resolve_group`]: where some series of the group carry the contrast-agent
/// tag and others do not, the untagged ones (acquired before the tagged ones, when times
/// say so) are the `baseline`. Returns the post-contrast and undecided series.
#[allow(clippy::too_many_arguments)]
fn split_by_agent(
    volumes: &[Volume],
    out: &mut [PhaseInfo],
    guesses: &[TagGuess],
    group: &[usize],
    unresolved: &[usize],
    any_agent: bool,
    baseline: Role,
) -> (Vec<usize>, Vec<usize>) {
    let mut post: Vec<usize> = Vec::new();
    let mut undecided: Vec<usize> = Vec::new();
    for &i in unresolved {
        match guesses[i] {
            TagGuess::PostContrast { .. } => post.push(i),
            _ if any_agent && agent_present(&volumes[i]) != Some(true) => {
                let t = volumes[i].meta.acquisition_time_s;
                let first_post = group
                    .iter()
                    .filter(|&&j| agent_present(&volumes[j]) == Some(true))
                    .filter_map(|&j| volumes[j].meta.acquisition_time_s)
                    .fold(f64::INFINITY, f64::min);
                if t.is_none_or(|t| t <= first_post) {
                    out[i].role = baseline;
                    out[i].role_source = RoleSource::Tags;
                } else {
                    undecided.push(i);
                }
            }
            _ => undecided.push(i),
        }
    }
    (post, undecided)
}

/// Step 3 of [`resolve_group`]: post-contrast roles from the delay after the contrast
/// start, or the order among all post-contrast series of the group (those named by tags
/// included, so one named "PV" anchors the rest). `true` when timing decided them.
fn roles_by_timing(
    volumes: &[Volume],
    out: &mut [PhaseInfo],
    guesses: &[TagGuess],
    group: &[usize],
    post: &[usize],
    mr: bool,
    no_content: bool,
) -> bool {
    let named_post: Vec<usize> = group
        .iter()
        .copied()
        .filter(|&i| matches!(guesses[i], TagGuess::Role(r) if r.is_post_contrast()))
        .collect();
    let times_ok = post.iter().all(|&i| volumes[i].meta.acquisition_time_s.is_some());
    if times_ok {
        let mut decided_by_start = true;
        for &i in post {
            let m = &volumes[i].meta;
            match (m.acquisition_time_s, m.contrast_start_time_s) {
                (Some(t), Some(s)) if t >= s && t - s < SAME_INJECTION_MAX_DELAY_S => {
                    let d = t - s;
                    let stage = if d < ARTERIAL_MAX_DELAY_S {
                        0
                    } else if d < PORTAL_MAX_DELAY_S {
                        1
                    } else {
                        2
                    };
                    out[i].role = post_role(mr, stage);
                    out[i].role_source = RoleSource::Timing;
                }
                _ => decided_by_start = false,
            }
        }
        if decided_by_start {
            return true;
        }
        let all_have_times = named_post
            .iter()
            .all(|&i| volumes[i].meta.acquisition_time_s.is_some());
        if named_post.is_empty() || all_have_times {
            let mut all: Vec<usize> = post.iter().chain(named_post.iter()).copied().collect();
            all.sort_by(|&a, &b| {
                let ta = volumes[a].meta.acquisition_time_s.unwrap_or(0.0);
                let tb = volumes[b].meta.acquisition_time_s.unwrap_or(0.0);
                ta.total_cmp(&tb)
            });
            let distinct = all.windows(2).all(|w| {
                let ta = volumes[w[0]].meta.acquisition_time_s.unwrap_or(0.0);
                let tb = volumes[w[1]].meta.acquisition_time_s.unwrap_or(0.0);
                tb - ta > DISTINCT_TIMES_MIN_S
            });
            if distinct && (all.len() >= 2 || no_content) {
                let stages = if named_post.is_empty() {
                    stages_by_order(all.len())
                } else {
                    stages_around_named(&all, out, mr)
                };
                for (pos, &i) in all.iter().enumerate() {
                    if post.contains(&i) {
                        out[i].role = post_role(mr, stages[pos]);
                        out[i].role_source = RoleSource::Timing;
                    }
                }
                return true;
            }
        }
    }
    false
}

/// Step 4 of [`resolve_group`]: post-contrast roles by the vascular peak, which falls from
/// the arterial phase onwards (one CT series: by absolute cut-offs).
fn roles_by_content_order(out: &mut [PhaseInfo], mut with_feat: Vec<(usize, Content)>, mr: bool) {
    if with_feat.is_empty() {
        return;
    }
    with_feat.sort_by(|a, b| b.1.peak.total_cmp(&a.1.peak));
    if with_feat.len() == 1 && !mr {
        let (i, c) = with_feat[0];
        let stage = if c.peak >= CT_ARTERIAL_MIN_PEAK_HU {
            0
        } else if c.peak >= CT_PORTAL_MIN_PEAK_HU {
            1
        } else {
            2
        };
        out[i].role = post_role(mr, stage);
        out[i].role_source = RoleSource::Content;
        return;
    }
    let stages = stages_by_order(with_feat.len());
    for (pos, (i, _)) in with_feat.iter().enumerate() {
        out[*i].role = post_role(mr, stages[pos]);
        out[*i].role_source = RoleSource::Content;
    }
}

/// Stages for a time-ordered list that contains some series already named by their tags:
/// each unnamed series takes the stage of the nearest named one before it, advanced by one
/// (before the first named one: one less), clamped to arterial..delayed.
fn stages_around_named(all: &[usize], out: &[PhaseInfo], mr: bool) -> Vec<usize> {
    let stage_of = |r: Role| -> Option<usize> {
        match r {
            Role::CtArterial | Role::MrT1Arterial => Some(0),
            Role::CtPortalVenous | Role::MrT1PortalVenous => Some(1),
            Role::CtDelayed | Role::MrT1Delayed => Some(2),
            _ => None,
        }
    };
    let _ = mr;
    let named: Vec<Option<usize>> = all
        .iter()
        .map(|&i| {
            if out[i].role_source == RoleSource::Tags {
                stage_of(out[i].role)
            } else {
                None
            }
        })
        .collect();
    let mut stages = vec![1usize; all.len()];
    for pos in 0..all.len() {
        if let Some(s) = named[pos] {
            stages[pos] = s;
            continue;
        }
        let before = (0..pos).rev().find_map(|p| named[p].map(|s| (pos - p, s)));
        let after = (pos + 1..all.len()).find_map(|p| named[p].map(|s| (p - pos, s)));
        stages[pos] = match (before, after) {
            (Some((_, s)), _) => (s + 1).min(2),
            (None, Some((_, s))) => s.saturating_sub(1),
            (None, None) => 1,
        };
    }
    stages
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_volume::Geometry;
    use ndarray::Array3;

    fn ct(desc: Option<&str>, uid: &str) -> Volume {
        let g = Geometry::axial(Point3::new(0.0, 0.0, 0.0), [2.0, 2.0, 2.0]);
        let mut v = Volume::filled([20, 20, 20], g, 40.0);
        v.meta.modality = "CT".into();
        v.meta.series_instance_uid = uid.into();
        v.meta.series_description = desc.map(|s| s.to_string());
        v
    }

    /// A CT phantom: soft tissue at `tissue` HU with a 4×4 voxel "aorta" column at `aorta`
    /// and a "vertebra" at 400 HU present in every phase.
    fn ct_content(aorta: f32, tissue: f32, uid: &str) -> Volume {
        let mut v = ct(None, uid);
        let mut d = Array3::from_elem([20, 20, 20], tissue);
        for k in 0..20 {
            for j in 8..12 {
                for i in 4..8 {
                    d[[k, j, i]] = aorta;
                }
                for i in 12..16 {
                    d[[k, j, i]] = 400.0;
                }
            }
        }
        v.data = d;
        v
    }

    #[test]
    fn vendor_keywords() {
        let cases = [
            ("Abdomen NC 5.0 B30f", Role::CtUnenhanced),
            ("NON-CON ABD", Role::CtUnenhanced),
            ("Plain 5mm", Role::CtUnenhanced),
            ("Nativ 3.0 I30f", Role::CtUnenhanced),
            ("w/o contrast", Role::CtUnenhanced),
            ("ARTERIAL 1.25mm", Role::CtArterial),
            ("Late Arterial", Role::CtArterial),
            ("ABD_ART_3mm", Role::CtArterial),
            ("PV 3.0", Role::CtPortalVenous),
            ("Portal Venous Phase", Role::CtPortalVenous),
            ("Venous 2.0 Br40", Role::CtPortalVenous),
            ("Delayed 5 min", Role::CtDelayed),
            ("Equilibrium", Role::CtDelayed),
            ("LATE 3min", Role::CtDelayed),
        ];
        for (d, want) in cases {
            let r = assign_roles(&[ct(Some(d), "1")], &[]);
            assert_eq!(r[0].role, want, "{d}");
            assert_eq!(r[0].role_source, RoleSource::Tags, "{d}");
        }
        // No phase word: nothing decided from tags.
        assert_eq!(ct_keywords("Abdomen 3.0 B30f"), None);
        assert_eq!(ct_keywords("Body Partial"), None);
    }

    #[test]
    fn overrides_win() {
        let r = assign_roles(&[ct(Some("PV"), "1.2")], &[("1.2".into(), Role::CtDelayed)]);
        assert_eq!(r[0].role, Role::CtDelayed);
        assert_eq!(r[0].role_source, RoleSource::User);
    }

    #[test]
    fn mri_roles_from_tags() {
        let mut t2 = ct(Some("Ax FSE"), "a");
        t2.meta.modality = "MR".into();
        t2.meta.echo_time_ms = Some(95.0);
        t2.meta.repetition_time_ms = Some(4000.0);
        let mut dwi = ct(Some("ep2d_diff_b50_800"), "b");
        dwi.meta.modality = "MR".into();
        dwi.meta.b_value = Some(800.0);
        let mut adc = ct(Some("ep2d_diff_b50_800_ADC"), "c");
        adc.meta.modality = "MR".into();
        adc.meta.image_type = vec![
            "DERIVED".into(),
            "PRIMARY".into(),
            "DIFFUSION".into(),
            "ADC".into(),
        ];
        let mut pre = ct(Some("t1_vibe_fs_tra_pre"), "d");
        pre.meta.modality = "MR".into();
        let mut art = ct(Some("LAVA arterial"), "e");
        art.meta.modality = "MR".into();
        let mut haste = ct(Some("HASTE"), "f");
        haste.meta.modality = "MR".into();
        let r = assign_roles(&[t2, dwi, adc, pre, art, haste], &[]);
        let roles: Vec<Role> = r.iter().map(|p| p.role).collect();
        assert_eq!(
            roles,
            vec![
                Role::MrT2,
                Role::MrDwi,
                Role::MrAdc,
                Role::MrT1Pre,
                Role::MrT1Arterial,
                Role::MrT2
            ]
        );
    }

    #[test]
    fn contrast_tag_and_timing() {
        // Agent on three series, absent on one: the untagged earliest is unenhanced; the
        // rest are ordered by time relative to the contrast start.
        let mut vs: Vec<Volume> = (0..4).map(|i| ct(Some("Abdomen 3.0"), &format!("{i}"))).collect();
        let times = [100.0, 175.0, 215.0, 400.0];
        for (v, t) in vs.iter_mut().zip(times) {
            v.meta.acquisition_time_s = Some(t);
        }
        for v in &mut vs[1..] {
            v.meta.contrast_agent = Some("Omnipaque 350".into());
            v.meta.contrast_start_time_s = Some(140.0);
        }
        let r = assign_roles(&vs, &[]);
        let roles: Vec<Role> = r.iter().map(|p| p.role).collect();
        assert_eq!(
            roles,
            vec![
                Role::CtUnenhanced,
                Role::CtArterial,
                Role::CtPortalVenous,
                Role::CtDelayed
            ]
        );
        assert_eq!(r[0].role_source, RoleSource::Tags);
        assert_eq!(r[2].role_source, RoleSource::Timing);
    }

    #[test]
    fn order_without_start_time() {
        let mut vs: Vec<Volume> = (0..3).map(|i| ct(Some("Abdomen"), &format!("{i}"))).collect();
        // Given out of order on purpose.
        for (v, t) in vs.iter_mut().zip([300.0, 40.0, 90.0]) {
            v.meta.acquisition_time_s = Some(t);
            v.meta.contrast_agent = Some("Iomeron".into());
        }
        let r = assign_roles(&vs, &[]);
        assert_eq!(r[1].role, Role::CtArterial);
        assert_eq!(r[2].role, Role::CtPortalVenous);
        assert_eq!(r[0].role, Role::CtDelayed);
        assert!(r.iter().all(|p| p.role_source == RoleSource::Timing));
    }

    #[test]
    fn content_when_tags_are_silent() {
        // No description, no agent, no times: the vascular peak decides.
        let vs = vec![
            ct_content(120.0, 90.0, "pv"),
            ct_content(45.0, 40.0, "nc"),
            ct_content(320.0, 60.0, "art"),
            ct_content(105.0, 75.0, "del"),
        ];
        let r = assign_roles(&vs, &[]);
        let roles: Vec<Role> = r.iter().map(|p| p.role).collect();
        assert_eq!(
            roles,
            vec![
                Role::CtPortalVenous,
                Role::CtUnenhanced,
                Role::CtArterial,
                Role::CtDelayed
            ]
        );
        assert!(r.iter().all(|p| p.role_source == RoleSource::Content));
    }

    #[test]
    fn named_series_anchor_untagged_ones() {
        let mut a = ct(Some("Arterial"), "a");
        a.meta.acquisition_time_s = Some(30.0);
        let mut b = ct(Some("Abdomen"), "b");
        b.meta.acquisition_time_s = Some(80.0);
        b.meta.contrast_agent = Some("Visipaque".into());
        let r = assign_roles(&[a, b], &[]);
        assert_eq!(r[0].role, Role::CtArterial);
        assert_eq!(r[1].role, Role::CtPortalVenous);
        assert_eq!(r[1].role_source, RoleSource::Timing);
    }

    #[test]
    fn bad_input_never_panics() {
        let mut v = ct(Some(""), "x");
        v.meta.modality = "".into();
        let r = assign_roles(&[v], &[]);
        assert_eq!(r[0].role, Role::Other);
        assert!(assign_roles(&[], &[]).is_empty());
    }
}
