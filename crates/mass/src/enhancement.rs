//! Enhancement of the mass across the dynamic phases: mean, SD and CV per phase, change
//! from the unenhanced phase (CT, HU) or relative enhancement (MRI, %), means per shell
//! from the boundary inwards (rim-to-core), the pattern over the phases, arterial
//! heterogeneity and the centripetal flag.
//!
//! Rules (research brief §1c, §1d, §3):
//! - enhancing: a post-contrast change ≥ 10 HU (or 10 %); below that the pattern is
//!   `none` (ACR renal white paper: ≤ 10 HU is no enhancement, Herts 2017);
//! - `washout`: the arterial phase is the peak and the last phase falls ≥ 10 below it
//!   (LI-RADS v2018 treats washout as a visual fall from an earlier to a later phase);
//! - `progressive`: delayed − portal venous ≥ +10 HU / % (brief §3 classifier default);
//! - otherwise `plateau`;
//! - centripetal: the rim shell beats the core by ≥ 10 on the arterial phase, and the core
//!   has caught up (gap halved or less) and risen ≥ 10 by the delayed phase (Yang, IJCEM
//!   2017 for ICC; PMC11609039 for LMS delayed enhancement).

use crate::model::{PhaseEnhancement, Role};
use crate::morph;
use crate::params::shared::CV_CORE_MIN_VOXELS;
use crate::stack::PhaseStack;
pub use cavascope_imaging::noise::masked_noise_sd as noise_sd;
pub use cavascope_imaging::stats::mean_sd_finite as mean_sd;
use cavascope_volume::Volume;
use ndarray::Array3;

/// Change (HU, or % on MRI) below which a phase is not enhancing.
pub const ENHANCING_MIN: f64 = 10.0;
/// Fall from the arterial peak (HU / %) that counts as washout.
pub const WASHOUT_MIN_DROP: f64 = 10.0;
/// Rise from portal venous to delayed (HU / %) that counts as progressive.
pub const PROGRESSIVE_MIN_RISE: f64 = 10.0;
/// Rim-minus-core difference on the arterial phase for a centripetal pattern.
pub const CENTRIPETAL_MIN_RIM_EXCESS: f64 = 10.0;
/// Number of shells from the boundary inwards (equal fractions of the deepest depth).
pub const N_SHELLS: usize = 3;

/// Shell index (0 = boundary) of every mask voxel, from the inward distance transform:
/// depth = distance to the outside minus half the smallest spacing (boundary voxels sit
/// half a voxel deep), split into `n` equal fractions of the deepest depth.
pub fn shells(mask: &Array3<bool>, spacing_kji: [f64; 3], n: usize) -> Array3<u8> {
    let d = morph::edt_mm(mask, spacing_kji);
    let half = (spacing_kji.iter().copied().fold(f64::INFINITY, f64::min) / 2.0) as f32;
    let depth = d.mapv(|x| if x > 0.0 { (x - half).max(0.0) } else { -1.0 });
    let dmax = depth.iter().copied().fold(0.0f32, f32::max);
    let n = n.max(1);
    depth.mapv(|x| {
        if x < 0.0 {
            u8::MAX
        } else if dmax <= 0.0 {
            0
        } else {
            (((x / dmax) * n as f32).floor() as usize).min(n - 1) as u8
        }
    })
}

/// What [`measure_enhancement`] found.
#[derive(Debug, Clone, Default)]
pub struct EnhancementResult {
    /// Enhancement on each dynamic phase, in time order.
    pub phases: Vec<PhaseEnhancement>,
    /// Noise-corrected SD / |mean| on the arterial phase.
    pub arterial_heterogeneity_cv: Option<f64>,
    /// Enhancement pattern over the phases.
    pub pattern: Option<crate::model::Pattern>,
    /// Rim enhances before the core, which fills in by the delayed phase.
    pub centripetal: Option<bool>,
    /// What could not be measured, and why.
    pub warnings: Vec<String>,
}

/// Per-phase statistics of the mass on every phase of the stack.
pub fn measure_enhancement(stack: &PhaseStack, mask: &Array3<bool>, volumes: &[Volume]) -> EnhancementResult {
    let mut res = EnhancementResult::default();
    let sh = shells(mask, stack.spacing_kji(), N_SHELLS);
    let base_mean = stack.baseline().and_then(|b| {
        let v: Vec<f32> = b
            .data
            .iter()
            .zip(mask.iter())
            .filter(|(_, &m)| m)
            .map(|(&x, _)| x)
            .collect();
        mean_sd(&v).map(|(m, _)| m)
    });
    for ph in &stack.phases {
        let vals: Vec<f32> = ph
            .data
            .iter()
            .zip(mask.iter())
            .filter(|(_, &m)| m)
            .map(|(&x, _)| x)
            .collect();
        let Some((mean, sd)) = mean_sd(&vals) else {
            res.warnings.push(format!(
                "mass enhancement: the mass lies outside the {} series",
                ph.role.as_str()
            ));
            continue;
        };
        let mut shell_sum = [0.0f64; N_SHELLS];
        let mut shell_n = vec![0usize; N_SHELLS];
        for ((&x, &s), &m) in ph.data.iter().zip(sh.iter()).zip(mask.iter()) {
            if m && x.is_finite() && (s as usize) < N_SHELLS {
                shell_sum[s as usize] += x as f64;
                shell_n[s as usize] += 1;
            }
        }
        let shell_means: Vec<f64> = shell_sum
            .iter()
            .zip(&shell_n)
            .map(|(s, &n)| if n > 0 { s / n as f64 } else { f64::NAN })
            .collect();
        let delta = base_mean.map(|b| {
            if stack.ct {
                mean - b
            } else if b.abs() > 1e-9 {
                (mean - b) / b * 100.0
            } else {
                f64::NAN
            }
        });
        let v = volumes.get(ph.volume_index);
        res.phases.push(PhaseEnhancement {
            role: ph.role,
            series_instance_uid: v.map(|v| v.meta.series_instance_uid.clone()).unwrap_or_default(),
            acquisition_time_s: v.and_then(|v| v.meta.acquisition_time_s),
            mean,
            sd,
            cv: if mean.abs() > 1e-9 {
                sd / mean.abs()
            } else {
                f64::NAN
            },
            delta_from_unenhanced: delta.filter(|d| d.is_finite()),
            shell_means,
        });
        if matches!(ph.role, Role::CtArterial | Role::MrT1Arterial) {
            res.arterial_heterogeneity_cv = core_cv(&ph.data, mask, (mean, sd));
        }
    }
    if base_mean.is_none() {
        res.warnings.push(
            "mass enhancement: no unenhanced / T1 pre-contrast phase, so no change from baseline".to_string(),
        );
    }
    res.pattern = classify_pattern(&res.phases, stack.ct);
    res.centripetal = centripetal(&res.phases, stack.ct);
    res
}

/// Noise-corrected CV on the mask's core (the boundary voxel layer removed: it blends the
/// mass with its neighbour, `CV_CORE_MIN_VOXELS`); on the whole mask (its mean and SD
/// `whole`) when the core is too small. The noise comes from the core as before.
fn core_cv(data: &Array3<f32>, mask: &Array3<bool>, whole: (f64, f64)) -> Option<f64> {
    let core = morph::erode(mask, 1);
    let core_vals: Vec<f32> = data
        .iter()
        .zip(core.iter())
        .filter(|(_, &m)| m)
        .map(|(&x, _)| x)
        .collect();
    let (mean, sd) = match mean_sd(&core_vals) {
        Some(ms) if core_vals.len() >= CV_CORE_MIN_VOXELS => ms,
        _ => whole,
    };
    let noise = noise_sd(data, &core).unwrap_or(0.0);
    let sd_true = (sd * sd - noise * noise).max(0.0).sqrt();
    (mean.abs() > 1e-9).then(|| sd_true / mean.abs())
}

fn value_for(p: &PhaseEnhancement, have_baseline: bool) -> f64 {
    if have_baseline {
        p.delta_from_unenhanced.unwrap_or(f64::NAN)
    } else {
        p.mean
    }
}

/// Pattern over the phases (rules in the module docs). `None` with fewer than two
/// post-contrast phases.
pub fn classify_pattern(phases: &[PhaseEnhancement], ct: bool) -> Option<crate::model::Pattern> {
    use crate::model::Pattern;
    let have_baseline = phases.iter().any(|p| p.role.is_baseline());
    let get = |roles: [Role; 2]| {
        phases
            .iter()
            .find(|p| p.role == roles[0] || p.role == roles[1])
            .map(|p| value_for(p, have_baseline))
            .filter(|v| v.is_finite())
    };
    let art = get([Role::CtArterial, Role::MrT1Arterial]);
    let pv = get([Role::CtPortalVenous, Role::MrT1PortalVenous]);
    let del = get([Role::CtDelayed, Role::MrT1Delayed]);
    let post: Vec<f64> = [art, pv, del].into_iter().flatten().collect();
    if post.len() < 2 && !(have_baseline && post.len() == 1) {
        return None;
    }
    // Without a baseline on MRI the signal scale is arbitrary: use % of the first phase.
    let scale = |x: f64| -> f64 {
        if have_baseline || ct {
            x
        } else {
            let first = post.first().copied().unwrap_or(1.0).abs().max(1e-9);
            x / first * 100.0
        }
    };
    if have_baseline {
        let maxd = post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if maxd < ENHANCING_MIN {
            return Some(Pattern::None);
        }
    }
    let last = post.last().copied()?;
    if let Some(a) = art {
        let peak = post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if a >= peak && post.len() >= 2 && scale(a) - scale(last) >= WASHOUT_MIN_DROP {
            return Some(Pattern::Washout);
        }
    }
    let rise = match (pv, del, art) {
        (Some(p), Some(d), _) => Some(scale(d) - scale(p)),
        (None, Some(d), Some(a)) => Some(scale(d) - scale(a)),
        (Some(p), None, Some(a)) => Some(scale(p) - scale(a)),
        _ => None,
    };
    match rise {
        Some(r) if r >= PROGRESSIVE_MIN_RISE => Some(Pattern::Progressive),
        Some(_) => Some(Pattern::Plateau),
        None => Some(Pattern::Plateau),
    }
}

/// Rim enhancing before the core, which fills in by the delayed phase.
pub fn centripetal(phases: &[PhaseEnhancement], ct: bool) -> Option<bool> {
    let find = |a: Role, b: Role| phases.iter().find(|p| p.role == a || p.role == b);
    let art = find(Role::CtArterial, Role::MrT1Arterial)?;
    let del = find(Role::CtDelayed, Role::MrT1Delayed)
        .or_else(|| find(Role::CtPortalVenous, Role::MrT1PortalVenous))?;
    let rim_core = |p: &PhaseEnhancement| -> Option<(f64, f64)> {
        let r = *p.shell_means.first()?;
        let c = *p.shell_means.last()?;
        (r.is_finite() && c.is_finite() && p.shell_means.len() >= 2).then_some((r, c))
    };
    let (ra, ca) = rim_core(art)?;
    let (rd, cd) = rim_core(del)?;
    // MRI: express differences as % of the arterial rim signal.
    let norm = |x: f64| if ct { x } else { x / ra.abs().max(1e-9) * 100.0 };
    let excess = norm(ra - ca);
    let gap_late = norm(rd - cd);
    let core_rise = norm(cd - ca);
    Some(excess >= CENTRIPETAL_MIN_RIM_EXCESS && gap_late <= excess / 2.0 && core_rise >= ENHANCING_MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Pattern;

    fn pe(role: Role, mean: f64, base: f64, shells: Vec<f64>) -> PhaseEnhancement {
        PhaseEnhancement {
            role,
            series_instance_uid: String::new(),
            acquisition_time_s: None,
            mean,
            sd: 0.0,
            cv: 0.0,
            delta_from_unenhanced: Some(mean - base),
            shell_means: shells,
        }
    }

    fn ct(means: [f64; 4]) -> Vec<PhaseEnhancement> {
        let roles = [
            Role::CtUnenhanced,
            Role::CtArterial,
            Role::CtPortalVenous,
            Role::CtDelayed,
        ];
        roles
            .iter()
            .zip(means)
            .map(|(&r, m)| pe(r, m, means[0], vec![m, m, m]))
            .collect()
    }

    #[test]
    fn patterns_of_the_phantom_lesions() {
        // Values from the lesions' definitions (phantom tissue tables), not from this code.
        assert_eq!(
            classify_pattern(&ct([40.0, 90.0, 100.0, 119.0]), true),
            Some(Pattern::Progressive)
        );
        assert_eq!(
            classify_pattern(&ct([40.0, 125.0, 88.0, 72.0]), true),
            Some(Pattern::Washout)
        );
        assert_eq!(
            classify_pattern(&ct([35.0, 60.0, 80.0, 83.0]), true),
            Some(Pattern::Plateau)
        );
        assert_eq!(
            classify_pattern(&ct([40.0, 43.0, 45.0, 46.0]), true),
            Some(Pattern::None)
        );
    }

    #[test]
    fn centripetal_rim_then_core() {
        let roles = [
            Role::CtUnenhanced,
            Role::CtArterial,
            Role::CtPortalVenous,
            Role::CtDelayed,
        ];
        let shells = [
            vec![40.0, 40.0, 40.0],
            vec![100.0, 70.0, 45.0],
            vec![100.0, 85.0, 72.0],
            vec![104.0, 104.0, 104.0],
        ];
        let p: Vec<_> = roles
            .iter()
            .zip(shells)
            .map(|(&r, s)| pe(r, s[1], 40.0, s))
            .collect();
        assert_eq!(centripetal(&p, true), Some(true));
        // Uniform lesion: no.
        assert_eq!(centripetal(&ct([40.0, 125.0, 88.0, 72.0]), true), Some(false));
    }
}
