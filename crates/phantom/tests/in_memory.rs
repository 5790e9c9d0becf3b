//! The in-memory phantom against its own analytic truth: label maps vs truth profiles,
//! voxel values vs truth probes per phase, the designed signs of every case.

use cavascope_phantom::{generate, CaseName, Orientation, PhantomOptions, PhantomStudy};
use nalgebra::Point3;
use std::sync::OnceLock;

fn study(case: CaseName) -> &'static PhantomStudy {
    static CELLS: [OnceLock<PhantomStudy>; 7] = [const { OnceLock::new() }; 7];
    let i = CaseName::all().iter().position(|c| *c == case).unwrap();
    CELLS[i].get_or_init(|| generate(case, &PhantomOptions::small().noiseless()))
}

/// Probe values (pure tissue, analytic) agree with the voxels on every series.
fn check_probes(s: &PhantomStudy) {
    assert!(s.truth.probes.len() >= 5, "{:?}", s.truth.probes);
    for p in &s.truth.probes {
        let pt = Point3::new(p.point_mm[0], p.point_mm[1], p.point_mm[2]);
        for (v, spec) in s.volumes.iter().zip(&s.specs) {
            let key = match spec.kind {
                cavascope_phantom::protocol::SeriesKind::MrDwi(b) => {
                    format!("mr_dwi_b{}", b.round() as i64)
                }
                _ => spec.role.clone(),
            };
            let want = p.values[&key];
            let got = v.sample_world(&pt).unwrap() as f64;
            assert!(
                (got - want).abs() <= 1.0,
                "{} {} on {}: voxel {got} truth {want}",
                s.case,
                p.name,
                key
            );
        }
    }
}

#[test]
fn probe_values_match_every_phase_ct_and_mri() {
    check_probes(study(CaseName::IvcLeiomyosarcoma));
    check_probes(study(CaseName::MriLeiomyosarcoma));
    // Contrast dynamics seen in the voxels: aorta 40/300/160/110 HU.
    let s = study(CaseName::Normal);
    let a = s.truth.probes.iter().find(|p| p.name == "aorta").unwrap();
    let pt = Point3::new(a.point_mm[0], a.point_mm[1], a.point_mm[2]);
    let vals: Vec<f32> = s.volumes.iter().map(|v| v.sample_world(&pt).unwrap()).collect();
    assert_eq!(vals, vec![40.0, 300.0, 160.0, 110.0]);
}

/// Mask area per axial slice against the truth profile's axial area, centroid against
/// the truth centreline, lumen against the imperceptible ranges.
fn check_profile_vs_labels(s: &PhantomStudy) {
    let g = &s.labels.geometry;
    let ps = g.spacing()[0];
    let t = &s.truth;
    let plug = t.ivc.lumen.imperceptible_ranges_z_mm.clone();
    let (zmin, zmax) = (
        t.ivc.profile.first().unwrap().z_mm + 4.0,
        t.ivc.profile.last().unwrap().z_mm - 4.0,
    );
    let mut rel_errs = Vec::new();
    for k in 0..s.labels.ivc.shape()[0] {
        let z = g.index_to_world([0.0, 0.0, k as f64]).z;
        if z < zmin || z > zmax {
            continue;
        }
        // Interpolate the 1 mm profile at this z.
        let i = t.ivc.profile.iter().position(|p| p.z_mm > z).unwrap();
        let (p0, p1) = (&t.ivc.profile[i - 1], &t.ivc.profile[i]);
        let f = (z - p0.z_mm) / (p1.z_mm - p0.z_mm);
        let area = p0.axial_area_mm2 + f * (p1.axial_area_mm2 - p0.axial_area_mm2);
        let cx = p0.center_mm[0] + f * (p1.center_mm[0] - p0.center_mm[0]);
        let cy = p0.center_mm[1] + f * (p1.center_mm[1] - p0.center_mm[1]);
        let (mut n, mut sx, mut sy, mut nl) = (0usize, 0.0, 0.0, 0usize);
        for ((kk, j, ii), &b) in s.labels.ivc.data.indexed_iter() {
            if kk != k || !b {
                continue;
            }
            let w = g.index_to_world([ii as f64, j as f64, k as f64]);
            n += 1;
            sx += w.x;
            sy += w.y;
            if s.labels.lumen.data[[kk, j, ii]] {
                nl += 1;
            }
        }
        let mask_area = n as f64 * ps * ps;
        let rel = (mask_area - area).abs() / area;
        rel_errs.push(rel);
        assert!(rel < 0.12, "{} z={z}: mask {mask_area} truth {area}", s.case);
        let (mx, my) = (sx / n as f64, sy / n as f64);
        assert!(
            (mx - cx).hypot(my - cy) < 1.0,
            "{} z={z}: centroid ({mx},{my}) truth ({cx},{cy})",
            s.case
        );
        let in_plug = plug.iter().any(|r| z >= r[0] + 2.0 && z <= r[1] - 2.0);
        let near_plug = plug.iter().any(|r| z >= r[0] - 8.0 && z <= r[1] + 8.0);
        if in_plug {
            assert_eq!(
                nl, 0,
                "{} z={z}: lumen voxels inside the imperceptible range",
                s.case
            );
        } else if !near_plug && s.truth.mass.as_ref().is_none_or(|m| !m.intraluminal_extension) {
            assert_eq!(nl, n, "{} z={z}", s.case);
        } else if !near_plug {
            assert_eq!(nl, n, "{} z={z}: lumen outside the plug", s.case);
        }
    }
    let mean = rel_errs.iter().sum::<f64>() / rel_errs.len() as f64;
    assert!(mean < 0.03, "{}: mean area error {mean}", s.case);
    assert!(rel_errs.len() > 60);
}

#[test]
fn truth_profile_agrees_with_label_maps() {
    check_profile_vs_labels(study(CaseName::IvcLeiomyosarcoma));
    check_profile_vs_labels(study(CaseName::ExtrinsicCompression));
    check_profile_vs_labels(study(CaseName::Normal));
}

#[test]
fn mass_truth_agrees_with_label_map() {
    for case in [
        CaseName::IvcLeiomyosarcoma,
        CaseName::CholangiocarcinomaMimic,
        CaseName::Liposarcoma,
        CaseName::HccWashout,
    ] {
        let s = study(case);
        let m = s.truth.mass.as_ref().unwrap();
        let mask = s.labels.mass.as_ref().unwrap();
        let v = mask.volume_ml();
        assert!(
            (v - m.volume_ml).abs() / m.volume_ml < 0.03,
            "{case}: {v} vs {}",
            m.volume_ml
        );
        let c = mask.centroid().unwrap();
        let d = (c - Point3::from(m.centroid_mm)).norm();
        assert!(d < 1.5, "{case}: centroid off by {d}");
        // Interior voxels (all 6 neighbours mass) should average the truth means.
        let (ns, nr, nc) = mask.data.dim();
        for (vol, spec) in s.volumes.iter().zip(&s.specs) {
            let (mut sum, mut n) = (0.0, 0usize);
            for k in 1..ns - 1 {
                for j in 1..nr - 1 {
                    for i in 1..nc - 1 {
                        let md = &mask.data;
                        if md[[k, j, i]]
                            && md[[k - 1, j, i]]
                            && md[[k + 1, j, i]]
                            && md[[k, j - 1, i]]
                            && md[[k, j + 1, i]]
                            && md[[k, j, i - 1]]
                            && md[[k, j, i + 1]]
                        {
                            sum += vol.data[[k, j, i]] as f64;
                            n += 1;
                        }
                    }
                }
            }
            let mean = sum / n as f64;
            let want = m.mean_by_role[&spec.role];
            // Homogeneous masses agree tightly; heterogeneous ones lose their rim.
            let tol = if case == CaseName::HccWashout { 2.0 } else { 12.0 };
            assert!(
                (mean - want).abs() < tol,
                "{case} {}: interior {mean} truth {want}",
                spec.role
            );
        }
    }
}

#[test]
fn every_case_shows_its_designed_signs() {
    for &case in CaseName::all() {
        let t = &study(case).truth;
        assert_eq!(t.expected_signs.len(), 13, "{case}");
        let sign = |id: &str| t.expected_signs[id].as_str();
        match case {
            CaseName::Normal => {
                assert!(t.mass.is_none());
                assert!(t.expected_signs.values().all(|v| v != "present"));
                assert!(t.ivc.max_equivalent_diameter_mm < 24.0 && t.ivc.min_equivalent_diameter_mm > 20.0);
                assert_eq!(t.expected_top_diagnosis, "no_mass");
            }
            CaseName::IvcLeiomyosarcoma | CaseName::MriLeiomyosarcoma => {
                let m = t.mass.as_ref().unwrap();
                assert!((30.0..=40.0).contains(&t.ivc.max_equivalent_diameter_mm));
                assert_eq!(t.ivc.lumen.imperceptible_ranges_z_mm.len(), 1);
                assert!((40.0..=70.0).contains(&t.ivc.lumen.longest_imperceptible_mm));
                assert_eq!(m.ivc_segment, "middle");
                assert!(m.intraluminal_extension && m.fat_fraction == 0.0);
                assert!(t.collaterals.present && (8.0..=12.0).contains(&t.collaterals.max_diameter_mm));
                for id in [
                    "dilated_ivc",
                    "imperceptible_ivc_lumen",
                    "prominent_collaterals",
                    "intraluminal_extension",
                    "heterogeneous_arterial_enhancement",
                    "progressive_delayed_enhancement",
                ] {
                    assert_eq!(sign(id), "present", "{case} {id}");
                }
                assert_eq!(sign("washout"), "absent");
                assert_eq!(sign("ivc_extrinsic_compression"), "absent");
                assert_eq!(t.expected_top_diagnosis, "ivc_leiomyosarcoma");
                if case == CaseName::MriLeiomyosarcoma {
                    let mr = m.mr.as_ref().unwrap();
                    assert!(mr.t1_ratio_to_muscle < 0.9 && mr.t2_ratio_to_muscle > 1.5);
                    assert!(mr.adc_mean < 1.2 && mr.adc_mean < mr.adc_liver);
                    for id in ["t1_hypointense", "t2_hyperintense", "diffusion_restriction"] {
                        assert_eq!(sign(id), "present");
                    }
                    assert_eq!(t.modality, "MR");
                } else {
                    assert_eq!(sign("t1_hypointense"), "indeterminate");
                }
            }
            CaseName::CholangiocarcinomaMimic => {
                let m = t.mass.as_ref().unwrap();
                assert!(m.ivc_contact && !m.intraluminal_extension);
                assert_eq!(m.pattern, "progressive");
                assert!(t.ivc.lumen.imperceptible_ranges_z_mm.is_empty());
                assert_eq!(sign("dilated_ivc"), "absent");
                assert_eq!(t.expected_top_diagnosis, "intrahepatic_cholangiocarcinoma");
            }
            CaseName::ExtrinsicCompression | CaseName::Liposarcoma => {
                let m = t.mass.as_ref().unwrap();
                assert!(t.ivc.min_flattening_ratio <= 0.4, "{case}");
                assert!(t.ivc.min_ap_diameter_mm < 9.0, "{case}");
                assert_eq!(sign("ivc_extrinsic_compression"), "present");
                assert_eq!(sign("imperceptible_ivc_lumen"), "absent");
                // Normal calibre away from the mass.
                let far: Vec<_> = t
                    .ivc
                    .profile
                    .iter()
                    .filter(|p| (p.z_mm - m.centroid_mm[2]).abs() > 80.0)
                    .collect();
                assert!(far
                    .iter()
                    .all(|p| p.flattening_ratio > 0.6 && p.equivalent_diameter_mm > 19.0));
                if case == CaseName::Liposarcoma {
                    assert!((0.3..=0.6).contains(&m.fat_fraction), "{}", m.fat_fraction);
                    assert_eq!(sign("internal_fat"), "present");
                    assert_eq!(t.expected_top_diagnosis, "retroperitoneal_liposarcoma");
                } else {
                    assert_eq!(m.pattern, "plateau");
                    assert_eq!(sign("internal_fat"), "absent");
                }
            }
            CaseName::HccWashout => {
                let m = t.mass.as_ref().unwrap();
                assert_eq!(m.pattern, "washout");
                assert_eq!(sign("washout"), "present");
                assert!(!m.ivc_contact);
                assert_eq!(t.expected_top_diagnosis, "hepatocellular_carcinoma");
            }
        }
        // Seeds sit where they should.
        let s = study(case);
        let seed = Point3::from(t.ivc_seed_mm);
        assert!(
            s.labels.lumen.contains_world(&seed),
            "{case}: ivc seed not in lumen"
        );
        if let (Some(ms), Some(mask)) = (t.mass_seed_mm, &s.labels.mass) {
            assert!(mask.contains_world(&Point3::from(ms)), "{case}: mass seed");
        }
    }
}

#[test]
fn series_tags_follow_the_phases() {
    let s = study(CaseName::IvcLeiomyosarcoma);
    let roles: Vec<_> = s.specs.iter().map(|x| x.role.as_str()).collect();
    assert_eq!(
        roles,
        ["ct_unenhanced", "ct_arterial", "ct_portal_venous", "ct_delayed"]
    );
    assert!(s.volumes[0].meta.contrast_agent.is_none());
    let mut last = 0.0;
    for v in &s.volumes {
        let t = v.meta.acquisition_time_s.unwrap();
        assert!(t > last);
        last = t;
        assert!(s.truth.role_of(&v.meta.series_instance_uid).is_some());
    }
    for v in &s.volumes[1..] {
        assert!(v.meta.contrast_agent.is_some());
        assert!(v.meta.contrast_start_time_s.unwrap() < v.meta.acquisition_time_s.unwrap());
    }
    let m = study(CaseName::MriLeiomyosarcoma);
    let dwi: Vec<_> = m.volumes.iter().filter_map(|v| v.meta.b_value).collect();
    assert_eq!(dwi, vec![0.0, 800.0]);
    let t2 = m
        .volumes
        .iter()
        .find(|v| v.meta.series_description.as_deref() == Some("t2_haste_tra"))
        .unwrap();
    assert!(t2.meta.echo_time_ms.unwrap() > 60.0);
    let uids: std::collections::HashSet<_> = m.volumes.iter().map(|v| &v.meta.series_instance_uid).collect();
    assert_eq!(uids.len(), m.volumes.len());
}

#[test]
fn reproducible_and_seed_dependent() {
    let mut o = PhantomOptions::small();
    o.cols = 64;
    o.rows = 64;
    o.pixel_spacing_mm = 6.0;
    o.slices = 30;
    o.slice_spacing_mm = 8.0;
    let a = generate(CaseName::IvcLeiomyosarcoma, &o);
    let b = generate(CaseName::IvcLeiomyosarcoma, &o);
    assert_eq!(a.volumes[1].data, b.volumes[1].data);
    assert_eq!(a.truth, b.truth);
    let c = generate(CaseName::IvcLeiomyosarcoma, &o.clone().with_seed(7));
    assert_ne!(a.truth.landmarks, c.truth.landmarks);
    assert_ne!(
        a.truth.mass.as_ref().unwrap().volume_ml,
        c.truth.mass.as_ref().unwrap().volume_ml
    );
}

#[test]
fn noise_has_the_requested_sd() {
    let mut o = PhantomOptions::small();
    o.noise_sd = 12.0;
    let s = generate(CaseName::Normal, &o);
    let v = &s.volumes[2];
    // Liver voxels on the portal-venous phase (every third slice is plenty).
    let mut pooled = Vec::new();
    for ((kk, jj, ii), &t) in s.labels.tissue.indexed_iter() {
        if t == cavascope_phantom::Tissue::Liver as u8 && kk % 3 == 0 {
            pooled.push(v.data[[kk, jj, ii]] as f64);
        }
    }
    // Interior liver voxels only (partial volume at the edges adds spread): use values
    // within 5 SD of the portal-venous liver value.
    let near: Vec<f64> = pooled.into_iter().filter(|x| (x - 110.0).abs() < 60.0).collect();
    let mean = near.iter().sum::<f64>() / near.len() as f64;
    let sd = (near.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / near.len() as f64).sqrt();
    assert!((mean - 110.0).abs() < 1.5, "{mean}");
    assert!((sd - 12.0).abs() < 1.0, "{sd}");
}

#[test]
fn oblique_tilted_and_reversed_grids_keep_the_anatomy() {
    for orient in [
        Orientation::Oblique {
            about_lr_deg: 12.0,
            about_ap_deg: -8.0,
        },
        Orientation::GantryTilt { deg: 15.0 },
    ] {
        let mut o = PhantomOptions::small().noiseless();
        o.orientation = orient;
        o.reversed_slices = true;
        let s = generate(CaseName::Normal, &o);
        assert!(s.labels.geometry.max_abs_diff(&o.geometry()) < 1e-9);
        assert!(s.volumes[0].geometry.max_abs_diff(&o.geometry()) < 1e-9);
        check_probes(&s);
    }
}
