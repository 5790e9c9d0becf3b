//! A transparent differential: naive Bayes over the signs.
//!
//! Each diagnosis has, per piece of evidence, the probability that the evidence is
//! present when the diagnosis is true ([`LIKELIHOODS`], sources beside each row). A present
//! sign multiplies a diagnosis by `p`, an absent one by `1 − p`; an indeterminate sign
//! changes nothing. Priors are uniform (the tool is run on a study where a mass near the
//! IVC is in question). The posteriors sum to 1, lie in [0, 1] and are sorted (equal scores:
//! `no_mass` first, then table order). Each score
//! lists the evidence that moved it most, against the other diagnoses.
//!
//! Signs are not independent (e.g. dilated IVC and imperceptible lumen travel together), so
//! the scores are over-confident: read them as a ranking with reasons, not as probabilities.

use crate::{DiagnosisScore, Sign, SignId, SignState};
use cavascope_measurements::{IvcSegment, Measurements};

/// The diagnoses in table column order.
pub const DIAGNOSES: [&str; 6] = [
    "ivc_leiomyosarcoma",
    "intrahepatic_cholangiocarcinoma",
    "hepatocellular_carcinoma",
    "retroperitoneal_liposarcoma",
    "extrinsic_retroperitoneal_mass",
    "no_mass",
];

/// One row of the likelihood table.
#[derive(Debug, Clone, Copy)]
pub struct Likelihood {
    /// A sign id (`dilated_ivc`…) or an extra evidence name (`mass_found`, `mass_upper_segment`,
    /// `centripetal_enhancement`).
    pub evidence: &'static str,
    /// P(evidence present | diagnosis), in [`DIAGNOSES`] order.
    pub p: [f64; 6],
    /// Where the probabilities come from.
    pub source: &'static str,
}

/// The model. Where a study gives a proportion (Webb 2013) it is used with a 0.5
/// continuity correction; the rest are defaults read from the qualitative sign map of
/// the research brief §1f, rounded to 0.05 and kept away from 0 and 1.
pub const LIKELIHOODS: &[Likelihood] = &[
    Likelihood {
        evidence: "mass_found",
        p: [0.98, 0.98, 0.98, 0.98, 0.98, 0.02],
        source: "definition: every diagnosis but no_mass is a mass; 2% segmentation error (default)",
    },
    Likelihood {
        evidence: "mass_upper_segment",
        p: [0.2, 0.9, 0.9, 0.1, 0.15, 0.5],
        source: "LMS in the upper (hepatic) segment 15–20% (Radiopaedia; Eurorad 14573); ICC/HCC arise in the liver beside the retrohepatic IVC; retroperitoneal masses mostly infrahepatic (default)",
    },
    Likelihood {
        evidence: "dilated_ivc",
        p: [0.8, 0.1, 0.25, 0.05, 0.05, 0.03],
        source: "PMC11609039 (dilated IVC differentiates LMS from ICC); brief §1f (HCC tumour-in-vein expands the vein)",
    },
    Likelihood {
        evidence: "imperceptible_ivc_lumen",
        p: [0.75, 0.05, 0.15, 0.03, 0.03, 0.01],
        source: "Webb, AJR 2013: 3/4 LMS vs 0/14 other masses (0.5/15 = 0.03); PMC11609039",
    },
    Likelihood {
        evidence: "prominent_collaterals",
        p: [0.6, 0.1, 0.15, 0.1, 0.1, 0.05],
        source: "PMC11609039; Eurorad 13880 (dilated collaterals in LMS)",
    },
    Likelihood {
        evidence: "ivc_extrinsic_compression",
        p: [0.1, 0.3, 0.1, 0.79, 0.79, 0.02],
        source: "Webb, AJR 2013: negative embedded-organ sign 11/14 other masses vs 0/4 LMS (0.5/5 = 0.1)",
    },
    Likelihood {
        evidence: "intraluminal_extension",
        p: [0.4, 0.05, 0.3, 0.25, 0.25, 0.01],
        source: "Webb, AJR 2013 (intraluminal tumour not discriminating between LMS and other masses); Zou 2017; HCC tumour thrombus (brief §1f)",
    },
    Likelihood {
        evidence: "heterogeneous_arterial_enhancement",
        p: [0.8, 0.7, 0.4, 0.3, 0.5, 0.05],
        source: "PMC11609039, Ganeshalingam 2011 (LMS heterogeneous); ICC rim 86% (Yang, IJCEM 2017); HCC non-rim APHE (LI-RADS)",
    },
    Likelihood {
        evidence: "progressive_delayed_enhancement",
        p: [0.6, 0.8, 0.1, 0.3, 0.4, 0.05],
        source: "PMC11609039 (LMS delayed enhancement); ICC progressive centripetal, > liver in 74% (brief §1f)",
    },
    Likelihood {
        evidence: "washout",
        p: [0.1, 0.1, 0.8, 0.1, 0.2, 0.02],
        source: "LI-RADS v2018 (washout is the HCC major feature); brief §1f",
    },
    Likelihood {
        evidence: "internal_fat",
        p: [0.02, 0.02, 0.1, 0.9, 0.05, 0.02],
        source: "Eurorad 13880 (LMS: no fat); Park AJR (fat ≤ −10 HU); brief §1f (WDL liposarcoma fatty; HCC fat possible)",
    },
    Likelihood {
        evidence: "calcification",
        p: [0.05, 0.1, 0.05, 0.25, 0.15, 0.02],
        source: "Ganeshalingam 2011 (LMS non-calcified); Eurorad 16571 (Ca favours liposarcoma/DDL)",
    },
    Likelihood {
        evidence: "t1_hypointense",
        p: [0.8, 0.8, 0.5, 0.2, 0.6, 0.05],
        source: "Ganeshalingam 2011 (LMS T1 low); fat is T1-bright in liposarcoma (default)",
    },
    Likelihood {
        evidence: "t2_hyperintense",
        p: [0.8, 0.7, 0.6, 0.4, 0.6, 0.05],
        source: "Ganeshalingam 2011 (LMS T2 high) (others default)",
    },
    Likelihood {
        evidence: "diffusion_restriction",
        p: [0.7, 0.6, 0.6, 0.2, 0.5, 0.05],
        source: "Eurorad 12591 (LMS restricted diffusion); HCC ≈ ICC ADC 1.09 vs 1.08 (Konošenoka 2025); myxoid sarcoma ADC 2.6 (Moustafa 2019)",
    },
    Likelihood {
        evidence: "centripetal_enhancement",
        p: [0.3, 0.75, 0.1, 0.1, 0.2, 0.05],
        source: "ICC rim then centripetal fill-in (Yang, IJCEM 2017; brief §3); LMS peripheral enhancement (Ganeshalingam 2011)",
    },
];

fn sign_key(id: SignId) -> String {
    serde_json::to_value(id)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The evidence states fed to the model: the 13 signs plus mass presence, level and
/// centripetal enhancement (`None` = unknown, ignored).
pub fn evidence(m: &Measurements, signs: &[Sign]) -> Vec<(&'static str, Option<bool>)> {
    let mut out = Vec::new();
    for row in LIKELIHOODS {
        let state = match row.evidence {
            "mass_found" => {
                if m.phases.is_empty() || (m.mass.is_none() && m.mass_not_searched.is_some()) {
                    None
                } else {
                    Some(m.mass.is_some())
                }
            }
            "mass_upper_segment" => m
                .mass
                .as_ref()
                .and_then(|x| x.ivc_segment)
                .map(|s| s == IvcSegment::Upper),
            "centripetal_enhancement" => m.mass.as_ref().and_then(|x| x.centripetal),
            name => signs
                .iter()
                .find(|s| sign_key(s.id) == name)
                .and_then(|s| match s.state {
                    SignState::Present => Some(true),
                    SignState::Absent => Some(false),
                    SignState::Indeterminate => None,
                }),
        };
        out.push((row.evidence, state));
    }
    out
}

/// Scores for the six diagnoses, sorted, highest first.
pub fn differential(m: &Measurements, signs: &[Sign]) -> Vec<DiagnosisScore> {
    let ev = evidence(m, signs);
    let n = DIAGNOSES.len();
    let mut logl = vec![(1.0 / n as f64).ln(); n];
    // Per diagnosis: (evidence, state, log-factor relative to the other diagnoses).
    let mut moves: Vec<Vec<(String, f64)>> = vec![Vec::new(); n];
    for (row, (_, state)) in LIKELIHOODS.iter().zip(ev.iter()) {
        let Some(present) = *state else { continue };
        let lf: Vec<f64> = row
            .p
            .iter()
            .map(|&p| {
                let p = p.clamp(1e-6, 1.0 - 1e-6);
                if present {
                    p.ln()
                } else {
                    (1.0 - p).ln()
                }
            })
            .collect();
        for d in 0..n {
            logl[d] += lf[d];
            let others = (lf.iter().sum::<f64>() - lf[d]) / (n - 1) as f64;
            let rel = lf[d] - others;
            let label = format!("{} {}", row.evidence, if present { "present" } else { "absent" });
            moves[d].push((label, rel));
        }
    }
    let max = logl.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = logl.iter().map(|l| (l - max).exp()).sum();
    let mut out: Vec<DiagnosisScore> = (0..n)
        .map(|d| {
            let score = ((logl[d] - max).exp() / z).clamp(0.0, 1.0);
            let mut mv = moves[d].clone();
            mv.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
            let explanation = mv
                .iter()
                .filter(|(_, r)| r.abs() >= 0.4)
                .take(5)
                .map(|(label, r)| {
                    let f = r.exp();
                    if *r > 0.0 {
                        format!("{label}: raises it ×{f:.1} against the others")
                    } else {
                        format!("{label}: lowers it ÷{:.1} against the others", 1.0 / f)
                    }
                })
                .collect();
            DiagnosisScore {
                diagnosis: DIAGNOSES[d].to_string(),
                score,
                explanation,
            }
        })
        .collect();
    // Equal scores (no evidence tells them apart — a study where neither the IVC nor a
    // mass could be looked for) list `no_mass` first: the order among equals is not a
    // finding, and a tumour at the top of it would read as one.
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| (b.diagnosis == "no_mass").cmp(&(a.diagnosis == "no_mass")))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_well_formed() {
        for row in LIKELIHOODS {
            assert!(row.p.iter().all(|&p| p > 0.0 && p < 1.0), "{}", row.evidence);
            assert!(!row.source.is_empty());
        }
        // Every sign has a row.
        for id in crate::ALL_SIGNS {
            let k = sign_key(id);
            assert!(LIKELIHOODS.iter().any(|r| r.evidence == k), "{k}");
        }
    }

    #[test]
    fn no_evidence_gives_uniform_scores() {
        let m = Measurements::default();
        let d = differential(&m, &[]);
        assert_eq!(d.len(), 6);
        for s in &d {
            assert!((s.score - 1.0 / 6.0).abs() < 1e-12);
        }
        // A tie names no tumour first.
        assert_eq!(d[0].diagnosis, "no_mass");
        assert_eq!(d[1].diagnosis, "ivc_leiomyosarcoma");
    }
}
