//! Ideal measurements (the phantom's analytic truth, and the contact z-range from its label
//! maps) → signs and top diagnosis must equal the phantom's `expected_signs` and
//! `expected_top_diagnosis` in every case. This checks the rules and the differential
//! independently of the segment stage.

use cavascope_features::{evaluate, Thresholds};
use cavascope_measurements::*;
use cavascope_phantom::{generate, CaseName, PhantomOptions, PhantomStudy};
use cavascope_testkit::truth::{ivc_segment, truth_ivc, truth_landmarks};

/// z-range where the mass label touches the IVC label (6-neighbourhood, in-plane and across slices).
fn contact_range(st: &PhantomStudy) -> Option<[f64; 2]> {
    let mass = st.labels.mass.as_ref()?;
    let ivc = &st.labels.ivc;
    let (nk, nj, ni) = ivc.data.dim();
    let mut zs: Vec<f64> = Vec::new();
    for ((k, j, i), &b) in mass.data.indexed_iter() {
        if !b {
            continue;
        }
        let nb = [
            (k as i64, j as i64, i as i64 - 1),
            (k as i64, j as i64, i as i64 + 1),
            (k as i64, j as i64 - 1, i as i64),
            (k as i64, j as i64 + 1, i as i64),
            (k as i64 - 1, j as i64, i as i64),
            (k as i64 + 1, j as i64, i as i64),
        ];
        let touches = nb.iter().any(|&(a, b2, c)| {
            a >= 0
                && b2 >= 0
                && c >= 0
                && (a as usize) < nk
                && (b2 as usize) < nj
                && (c as usize) < ni
                && ivc.data[[a as usize, b2 as usize, c as usize]]
        }) || ivc.data[[k, j, i]];
        if touches {
            zs.push(ivc.geometry.index_to_world([i as f64, j as f64, k as f64]).z);
        }
    }
    if zs.is_empty() {
        return None;
    }
    let lo = zs.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = zs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    Some([lo, hi])
}

fn measurements(st: &PhantomStudy) -> Measurements {
    let t = &st.truth;
    let phases: Vec<PhaseInfo> = t
        .series
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            Role::parse(&s.role).map(|role| PhaseInfo {
                volume_index: i,
                series_instance_uid: s.series_instance_uid.clone(),
                role,
                role_source: RoleSource::Tags,
            })
        })
        .collect();
    let mask = st.labels.ivc.clone();
    let ivc = IvcModel {
        source: Source::Seed,
        max_equivalent_diameter_mm: Some(t.ivc.max_equivalent_diameter_mm),
        min_equivalent_diameter_mm: Some(t.ivc.min_equivalent_diameter_mm),
        min_flattening_ratio: Some(t.ivc.min_flattening_ratio),
        centreline: vec![],
        lumen: LumenSummary {
            visible_fraction: Some(t.ivc.lumen.visible_fraction),
            longest_imperceptible_mm: Some(t.ivc.lumen.longest_imperceptible_mm),
            imperceptible_ranges_z_mm: t.ivc.lumen.imperceptible_ranges_z_mm.clone(),
            reference: None,
        },
        ..truth_ivc(st)
    };
    let is_mr = t.modality == "MR";
    let mass = t.mass.as_ref().map(|m| {
        let base_role = if is_mr { "mr_t1_pre" } else { "ct_unenhanced" };
        let base = m.mean_by_role.get(base_role).copied();
        let enhancement =
            t.series
                .iter()
                .filter_map(|s| {
                    let role = Role::parse(&s.role)?;
                    if !(role.is_post_contrast() || role.is_baseline()) {
                        return None;
                    }
                    let mean = *m.mean_by_role.get(&s.role)?;
                    let sd = m.sd_by_role.get(&s.role).copied().unwrap_or(0.0);
                    Some(PhaseEnhancement {
                        role,
                        series_instance_uid: s.series_instance_uid.clone(),
                        acquisition_time_s: Some(s.acquisition_time_s),
                        mean,
                        sd,
                        cv: if mean.abs() > 1e-9 { sd / mean.abs() } else { 0.0 },
                        delta_from_unenhanced: base.map(|b| {
                            if is_mr {
                                (mean - b) / b * 100.0
                            } else {
                                mean - b
                            }
                        }),
                        shell_means: vec![],
                    })
                })
                .collect();
        MassModel {
            source: Source::Seed,
            volume_ml: m.volume_ml,
            max_diameter_mm: m.max_diameter_mm,
            centroid_mm: m.centroid_mm,
            ivc_segment: ivc_segment(&m.ivc_segment),
            contact_arc_deg: Some(m.contact_arc_deg),
            contact_z_range_mm: if m.ivc_contact { contact_range(st) } else { None },
            // The truth says whether a plug lies in the lumen, not its volume: the mass's
            // volume stands in for it (far above any limit), 0 for none.
            intraluminal_ml: Some(if m.intraluminal_extension {
                m.volume_ml
            } else {
                0.0
            }),
            intraluminal_z_range_mm: None,
            fat_fraction: if is_mr { None } else { Some(m.fat_fraction) },
            calcified_fraction: if is_mr { None } else { Some(m.calcified_fraction) },
            enhancement,
            pattern: None,
            arterial_heterogeneity_cv: Some(m.arterial_heterogeneity_cv),
            centripetal: None,
            mr: m.mr.as_ref().map(|r| MrMeasures {
                t1_ratio_to_muscle: Some(r.t1_ratio_to_muscle),
                t2_ratio_to_muscle: Some(r.t2_ratio_to_muscle),
                adc_mean: Some(r.adc_mean),
                adc_reference: Some(r.adc_liver),
                muscle_roi_center_mm: Some(r.muscle_roi_center_mm),
            }),
            mask: st.labels.mass.clone().unwrap_or_else(|| mask.clone()),
        }
    });
    Measurements {
        phases,
        landmarks: truth_landmarks(st),
        ivc: Some(ivc),
        mass,
        collaterals: Some(Collaterals {
            max_diameter_mm: Some(t.collaterals.max_diameter_mm),
            veins: t
                .collaterals
                .veins
                .iter()
                .map(|v| NamedVein {
                    name: v.name.clone(),
                    diameter_mm: Some(v.diameter_mm),
                })
                .collect(),
            ..Default::default()
        }),
        warnings: vec![],
        mass_not_searched: None,
        quality: Default::default(),
    }
}

fn opts() -> PhantomOptions {
    // Coarse grid: only the label maps (contact range) depend on it.
    let mut o = PhantomOptions::small().noiseless();
    o.cols = 96;
    o.rows = 96;
    o.pixel_spacing_mm = 4.0;
    o
}

#[test]
fn ideal_measurements_reproduce_truth_in_every_case() {
    let mut failures = Vec::new();
    for &case in CaseName::all() {
        let st = generate(case, &opts());
        let m = measurements(&st);
        let f = evaluate(&m, &Thresholds::default());
        for s in &f.signs {
            let want = st.truth.expected_signs.get(s.id.as_str()).map(String::as_str);
            if want != Some(s.state.as_str()) {
                failures.push(format!(
                    "{case}: {} = {} (truth {:?}): {}",
                    s.id.as_str(),
                    s.state.as_str(),
                    want,
                    s.explanation
                ));
            }
        }
        if f.differential[0].diagnosis != st.truth.expected_top_diagnosis {
            failures.push(format!(
                "{case}: top {} (truth {}): {:?}",
                f.differential[0].diagnosis,
                st.truth.expected_top_diagnosis,
                f.differential
                    .iter()
                    .map(|d| format!("{} {:.3}", d.diagnosis, d.score))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Removing a phase turns exactly the signs that need it indeterminate; every other sign
/// keeps its true state (never a wrong `absent`).
#[test]
fn removing_a_phase_in_every_case() {
    let needs: &[(&[Role], &[&str])] = &[
        (
            &[Role::CtArterial, Role::MrT1Arterial],
            &["heterogeneous_arterial_enhancement", "washout"],
        ),
        (
            &[Role::CtDelayed, Role::MrT1Delayed],
            &["progressive_delayed_enhancement"],
        ),
        (&[Role::MrT2], &["t2_hyperintense"]),
        (&[Role::MrT1Pre], &["t1_hypointense"]),
        (&[Role::MrAdc, Role::MrDwi], &["diffusion_restriction"]),
    ];
    let mut failures = Vec::new();
    for &case in CaseName::all() {
        let st = generate(case, &opts());
        for (roles, signs) in needs {
            let mut m = measurements(&st);
            let before = m.phases.len();
            m.phases.retain(|p| !roles.contains(&p.role));
            if m.phases.len() == before {
                continue; // the study never had this phase
            }
            if let Some(x) = m.mass.as_mut() {
                x.enhancement.retain(|e| !roles.contains(&e.role));
            }
            let f = evaluate(&m, &Thresholds::default());
            for s in &f.signs {
                let truth = st.truth.expected_signs[s.id.as_str()].as_str();
                let want = if signs.contains(&s.id.as_str()) {
                    "indeterminate"
                } else {
                    truth
                };
                if s.state.as_str() != want {
                    failures.push(format!(
                        "{case} without {roles:?}: {} = {} (want {want})",
                        s.id.as_str(),
                        s.state.as_str()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
