//! The hybrid phantom (a lesion painted on real anatomy): its truth against what it
//! painted. Backgrounds: the analytic phantom's own unenhanced series with a
//! TotalSegmentator-style label map made from its tissue map (always runs), and the real
//! native CT of TotalSegmentator's reference files with its label map (when fetched).

#[path = "support/real_ts.rs"]
mod real_ts;

use cavascope_phantom::hybrid::{generate_hybrid, ts, Background};
use cavascope_phantom::{generate, CaseName, PhantomOptions, PhantomStudy, Tissue};
use ndarray::Array3;

const CASES: [CaseName; 4] = [
    CaseName::Normal,
    CaseName::IvcLeiomyosarcoma,
    CaseName::ExtrinsicCompression,
    CaseName::Liposarcoma,
];

/// The analytic phantom's unenhanced CT and a `total`-style label map of it.
fn analytic_background(seed: u64) -> Background {
    let st = generate(CaseName::Normal, &PhantomOptions::small().with_seed(seed));
    let g = st.volumes[0].geometry.clone();
    let lab = Array3::from_shape_fn(st.labels.tissue.dim(), |(k, j, i)| {
        let p = g.index_to_world([i as f64, j as f64, k as f64]);
        match Tissue::from_u8(st.labels.tissue[[k, j, i]]) {
            Some(Tissue::IvcBlood) => ts::IVC,
            Some(Tissue::ArterialBlood) => ts::AORTA,
            Some(Tissue::Liver) => ts::LIVER,
            Some(Tissue::Spleen) => ts::SPLEEN,
            Some(Tissue::Kidney) if p.x < 0.0 => ts::KIDNEY_RIGHT,
            Some(Tissue::Kidney) => ts::KIDNEY_LEFT,
            Some(Tissue::IliacVein) => ts::ILIAC_VEIN_RIGHT,
            // Vertebral bodies, one level per 34 mm (disc spacing) from z = −131.
            Some(Tissue::Bone) if p.y < 70.0 && p.x.abs() < 25.0 => {
                let lvl = ((p.z + 131.0) / 34.0).floor().clamp(0.0, 5.0) as u8;
                ts::VERTEBRAE_L5 + lvl
            }
            _ => 0,
        }
    });
    Background::new(
        st.volumes[0].data.clone(),
        lab,
        g,
        "analytic phantom (unenhanced)".into(),
    )
    .expect("axial background")
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Disagreements between the truth and what was painted, one line each.
fn consistency(st: &PhantomStudy, bg: &Background, vol_tol: f64) -> Vec<String> {
    let mut bad = Vec::new();
    let t = &st.truth;
    let label = format!("{} (seed {})", st.case, t.seed);
    let g = &st.labels.geometry;
    let sp = g.spacing();
    let (ns, nr, nc) = st.labels.ivc.data.dim();
    let px = sp[0] * sp[1];
    // IVC: axial label area per slice vs the truth's axial area at that z.
    let mut rel = Vec::new();
    let mut eqd_label: f64 = 0.0;
    let mut eqd_truth: f64 = 0.0;
    for k in 1..ns.saturating_sub(1) {
        let z = g.index_to_world([0.0, 0.0, k as f64]).z;
        let Some(pp) = t.ivc.profile.iter().find(|p| (p.z_mm - z).abs() <= 0.5) else {
            continue;
        };
        // Away from the ends of the tube (caps) by two slices.
        let (z0, z1) = (
            t.ivc.profile.first().map(|p| p.z_mm).unwrap_or(0.0),
            t.ivc.profile.last().map(|p| p.z_mm).unwrap_or(0.0),
        );
        if z < z0 + 2.0 * sp[2] || z > z1 - 2.0 * sp[2] {
            continue;
        }
        let n = st
            .labels
            .ivc
            .data
            .index_axis(ndarray::Axis(0), k)
            .iter()
            .filter(|b| **b)
            .count();
        let area = n as f64 * px;
        rel.push((area - pp.axial_area_mm2).abs() / pp.axial_area_mm2);
        eqd_label = eqd_label.max(2.0 * (area / std::f64::consts::PI).sqrt());
        eqd_truth = eqd_truth.max(2.0 * (pp.axial_area_mm2 / std::f64::consts::PI).sqrt());
    }
    if rel.len() < 5 {
        bad.push(format!("{label}: only {} IVC slices compared", rel.len()));
    } else if mean(&rel) > 0.06 {
        bad.push(format!(
            "{label}: IVC mask area vs truth: mean relative error {:.3}",
            mean(&rel)
        ));
    }
    if (eqd_label - eqd_truth).abs() > 1.5 {
        bad.push(format!(
            "{label}: max axial IVC diameter: mask {eqd_label:.1} mm, truth {eqd_truth:.1} mm"
        ));
    }
    // Mass: mask volume and centroid vs truth.
    match (&t.mass, &st.labels.mass) {
        (None, None) => {}
        (Some(m), Some(mask)) => {
            let v = mask.volume_ml();
            if (v - m.volume_ml).abs() > vol_tol * m.volume_ml {
                bad.push(format!(
                    "{label}: mass mask {v:.1} ml, truth {:.1} ml",
                    m.volume_ml
                ));
            }
            let c = mask.centroid().expect("mass voxels");
            let d = (c - nalgebra::Point3::from(m.centroid_mm)).norm();
            if d > 0.5 * sp[0].max(sp[2]) + 1.0 {
                bad.push(format!("{label}: mass centroid {d:.1} mm from the truth"));
            }
        }
        (m, mask) => bad.push(format!(
            "{label}: mass truth {} but mask {}",
            m.is_some(),
            mask.is_some()
        )),
    }
    // The designed signs.
    let s = |id: &str| t.expected_signs[id].as_str();
    let want: &[(&str, &str)] = match st.case {
        CaseName::Normal => &[
            ("dilated_ivc", "absent"),
            ("imperceptible_ivc_lumen", "absent"),
            ("prominent_collaterals", "absent"),
            ("ivc_extrinsic_compression", "absent"),
        ],
        CaseName::IvcLeiomyosarcoma => &[
            ("dilated_ivc", "present"),
            ("imperceptible_ivc_lumen", "present"),
            ("prominent_collaterals", "present"),
            ("intraluminal_extension", "present"),
            ("progressive_delayed_enhancement", "present"),
        ],
        CaseName::ExtrinsicCompression => &[
            ("ivc_extrinsic_compression", "present"),
            ("dilated_ivc", "absent"),
            ("internal_fat", "absent"),
        ],
        _ => &[
            ("ivc_extrinsic_compression", "present"),
            ("internal_fat", "present"),
        ],
    };
    for (id, w) in want {
        if s(id) != *w {
            bad.push(format!("{label}: truth {id} = {}, designed {w}", s(id)));
        }
    }
    // The unenhanced series is the background wherever nothing was painted.
    let v0 = &st.volumes[0].data;
    let same = v0
        .iter()
        .zip(bg.hu.iter())
        .filter(|(a, b)| **a == b.round().clamp(-1024.0, 3071.0))
        .count() as f64
        / v0.len() as f64;
    if same < 0.9 {
        bad.push(format!(
            "{label}: unenhanced equals the background in only {same:.3} of voxels"
        ));
    }
    // Virtual contrast: the aorta's interior gains 260 HU on the arterial phase.
    let inner = |id: u8, k: usize, j: usize, i: usize| {
        k > 0
            && j > 0
            && i > 0
            && k + 1 < ns
            && j + 1 < nr
            && i + 1 < nc
            && [
                (k, j, i),
                (k - 1, j, i),
                (k + 1, j, i),
                (k, j - 1, i),
                (k, j + 1, i),
                (k, j, i - 1),
                (k, j, i + 1),
            ]
            .iter()
            .all(|q| bg.labels[*q] == id)
    };
    let mut d_aorta = Vec::new();
    for ((k, j, i), &l) in bg.labels.indexed_iter() {
        if l == ts::AORTA
            && inner(ts::AORTA, k, j, i)
            && !st.labels.mass.as_ref().is_some_and(|m| m.data[[k, j, i]])
        {
            d_aorta.push((st.volumes[1].data[[k, j, i]] - st.volumes[0].data[[k, j, i]]) as f64);
        }
    }
    if d_aorta.len() < 20 || (mean(&d_aorta) - 260.0).abs() > 10.0 {
        bad.push(format!(
            "{label}: aorta arterial enhancement {:.1} HU over {} voxels, want 260",
            mean(&d_aorta),
            d_aorta.len()
        ));
    }
    // Painted IVC blood carries the background's noise: portal-phase SD in the lumen
    // interior (above the renal veins, 150 HU noise-free) near the estimated noise SD.
    let lumen = &st.labels.lumen.data;
    let mut lv = Vec::new();
    for ((k, j, i), &b) in lumen.indexed_iter() {
        let z = g.index_to_world([i as f64, j as f64, k as f64]).z;
        if b && z > t.landmarks.renal_vein_inflow_z_mm + 20.0
            && k > 0
            && k + 1 < ns
            && [
                (k, j - 1, i),
                (k, j + 1, i),
                (k, j, i - 1),
                (k, j, i + 1),
                (k - 1, j, i),
                (k + 1, j, i),
            ]
            .iter()
            .all(|q| lumen[*q])
        {
            lv.push(st.volumes[2].data[[k, j, i]] as f64);
        }
    }
    if lv.len() >= 30 {
        let m = mean(&lv);
        let sd = (lv.iter().map(|v| (v - m).powi(2)).sum::<f64>() / lv.len() as f64).sqrt();
        let want = st.options.noise_sd as f64;
        if (m - 150.0).abs() > 6.0 || sd < 0.6 * want || sd > 1.5 * want {
            bad.push(format!(
                "{label}: portal IVC lumen {m:.1} ± {sd:.1} HU over {} voxels, want 150 ± {want:.1}",
                lv.len()
            ));
        }
    } else if st.case == CaseName::Normal {
        bad.push(format!("{label}: only {} IVC lumen interior voxels", lv.len()));
    }
    bad
}

#[test]
fn hybrid_on_the_analytic_background_matches_its_truth() {
    let bg = analytic_background(2);
    let mut bad = Vec::new();
    for case in CASES {
        let st = generate_hybrid(case, &bg, 1).expect("hybrid");
        bad.extend(consistency(&st, &bg, 0.05));
        assert_eq!(st.volumes.len(), 4);
        assert_eq!(st.truth.series_roles.len(), 4);
    }
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}

#[test]
fn hybrid_is_deterministic_and_seeds_vary_the_lesion() {
    let bg = analytic_background(1);
    let a = generate_hybrid(CaseName::Liposarcoma, &bg, 4).unwrap();
    let b = generate_hybrid(CaseName::Liposarcoma, &bg, 4).unwrap();
    let c = generate_hybrid(CaseName::Liposarcoma, &bg, 5).unwrap();
    assert_eq!(a.volumes[2].data, b.volumes[2].data);
    assert_eq!(a.truth, b.truth);
    let (va, vc) = (
        a.truth.mass.as_ref().unwrap().volume_ml,
        c.truth.mass.as_ref().unwrap().volume_ml,
    );
    assert!((va - vc).abs() > 1.0, "{va} {vc}");
}

#[test]
fn hybrid_refuses_what_it_cannot_paint() {
    let bg = analytic_background(1);
    let e = generate_hybrid(CaseName::HccWashout, &bg, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("hcc_washout"), "{e}");
    // No IVC label: refused, naming the label.
    let mut no_ivc = bg.clone();
    no_ivc.labels.mapv_inplace(|v| if v == ts::IVC { 0 } else { v });
    let e = generate_hybrid(CaseName::Normal, &no_ivc, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("IVC label"), "{e}");
    // CT and labels of different shapes.
    let small = Array3::<u8>::zeros((10, 20, 20));
    assert!(Background::new(bg.hu.clone(), small, bg.geometry.clone(), String::new()).is_err());
}

#[test]
fn hybrid_on_real_ct_matches_its_truth() {
    let Some((ct, seg)) = real_ts::ct_and_labels() else {
        return;
    };
    let bg = Background::load(&ct, &seg).expect("load the real CT and labels");
    let mut bad = Vec::new();
    for case in CASES {
        for seed in [1, 2] {
            let st = generate_hybrid(case, &bg, seed).expect("hybrid on real CT");
            // 3 mm voxels: partial volume is coarser.
            bad.extend(consistency(&st, &bg, 0.08));
            if case == CaseName::Normal {
                let t = &st.truth.ivc;
                assert!(
                    t.max_equivalent_diameter_mm > 20.0 && t.max_equivalent_diameter_mm < 28.0,
                    "normal real IVC {:.1} mm",
                    t.max_equivalent_diameter_mm
                );
            }
        }
    }
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}
