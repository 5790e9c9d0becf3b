//! Diagnostic printouts of the IVC tracker on a phantom (not tests: they assert nothing).
//!
//! `cargo run -p cavascope-ivc --example ivc_debug -- NAME`, NAME one of the functions
//! below without `debug_` (`track`, `rays_noiseless`, …); `CASE=<phantom case>`, `Z=<mm>`
//! and the other environment variables each one reads pick what to print.

#[path = "../tests/ivc_common/mod.rs"]
mod ivc_common;
use cavascope_ivc::track::{self, PhaseInput, Tracker};
use cavascope_phantom::{CaseName, PhantomOptions};
use cavascope_volume::Point3;
use ivc_common::*;

fn debug_track() {
    let case = match std::env::var("CASE").ok().as_deref() {
        Some(c) => CaseName::parse(c).unwrap(),
        None => CaseName::Normal,
    };
    let st = study(case, &PhantomOptions::small());
    let phases = phases_from_truth(&st);
    let pv = phases
        .iter()
        .find(|p| p.role.as_str().ends_with("portal_venous"))
        .unwrap()
        .volume_index;
    let mut inputs = vec![PhaseInput {
        volume: &st.volumes[pv],
        noise: track::noise_sd(&st.volumes[pv]),
    }];
    for p in &phases {
        if p.volume_index != pv
            && (p.role.as_str().starts_with("ct_") || p.role.as_str().starts_with("mr_t1"))
        {
            inputs.push(PhaseInput {
                volume: &st.volumes[p.volume_index],
                noise: track::noise_sd(&st.volumes[p.volume_index]),
            });
        }
    }
    for i in &inputs {
        println!("noise {}", i.noise);
    }
    let mut flags = vec![true];
    for p in &phases {
        if p.volume_index != pv
            && (p.role.as_str().starts_with("ct_") || p.role.as_str().starts_with("mr_t1"))
        {
            flags.push(!p.role.as_str().ends_with("arterial"));
        }
    }
    let mut t = Tracker::new(inputs).unwrap().with_blood_phases(&flags);
    t.free_on_all_phases = st.volumes[pv].meta.modality != "CT";
    let s = st.truth.ivc_seed_mm;
    println!("seed {:?}", s);
    let cs = t.track(&Point3::new(s[0], s[1], s[2])).unwrap();
    println!("blood {}", t.blood);
    let tp = &st.truth.ivc.profile;
    let last = cs.last().unwrap().clone();
    println!("last z {} kind {:?} area {}", last.z, last.kind, last.area());
    for dz in 1..4 {
        let (gx, gy) = last.centroid();
        let c = t.contour_at(last.z + dz as f64, gx, gy, Some(&last));
        match c {
            Some(c) => println!(
                "next {} {:?} inl {:.2} area {:.1} width {:.1} vs {:.1} op {} cv {}",
                c.z,
                c.kind,
                c.inliers,
                c.area(),
                c.width_x(),
                last.width_x(),
                c.opacified,
                c.centre_value
            ),
            None => println!("next none"),
        }
    }
    let step: usize = std::env::var("STEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    for c in cs.iter().step_by(step) {
        let tr = tp.iter().find(|p| (p.z_mm - c.z).abs() < 0.5);
        let (gx, gy) = c.centroid();
        println!(
            "z {:7.1} {:?} inl {:.2} cv {:6.1} op {} area {:7.1} truth {:?} centre ({:6.1},{:6.1}) truth {:?}",
            c.z, c.kind, c.inliers, c.centre_value, c.opacified, c.area(),
            tr.map(|p| (p.axial_area_mm2 * 10.0).round() / 10.0),
            gx, gy, tr.map(|p| [(p.center_mm[0]*10.0).round()/10.0, (p.center_mm[1]*10.0).round()/10.0])
        );
    }
}

fn debug_rays_noiseless() {
    use cavascope_phantom::anatomy::Anatomy;
    let opts = PhantomOptions::small().noiseless();
    let st = study(CaseName::Normal, &opts);
    let an = Anatomy::new(CaseName::Normal, opts.seed);
    let phases = phases_from_truth(&st);
    let pv = phases
        .iter()
        .find(|p| p.role.as_str().ends_with("portal_venous"))
        .unwrap()
        .volume_index;
    let v = &st.volumes[pv];
    let z: f64 = std::env::var("Z")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(-100.0);
    let (cx, cy) = an.ivc.center(z);
    let (a, b) = an.ivc.semi(z);
    println!("a {a} b {b} rot {} centre {cx} {cy}", an.ivc.rot);
    // Exact distance along +x from the centre to the ellipse.
    let mut lo = 0.0;
    let mut hi = 40.0;
    for _ in 0..60 {
        let m = 0.5 * (lo + hi);
        if an.ivc.rnorm(&Point3::new(cx + m, cy, z)) <= 1.0 {
            lo = m
        } else {
            hi = m
        }
    }
    println!("exact +x wall at {lo}");
    for k in 0..30 {
        let r = 8.0 + k as f64 * 0.5;
        let p = Point3::new(cx + r, cy, z);
        println!(
            "r {r:5.1} value {:7.1} sd {:6.2}",
            v.sample_world(&p).unwrap(),
            an.ivc.sd(&p)
        );
    }
    let inputs = vec![PhaseInput {
        volume: v,
        noise: 1.0,
    }];
    let mut t = Tracker::new(inputs).unwrap();
    t.blood = 150.0;
    let c = t.contour_at(z, cx, cy, None).unwrap();
    println!(
        "contour r(0) = {} area {} vs {} kind {:?} inl {}",
        c.radius(0.0),
        c.area(),
        std::f64::consts::PI * a * b,
        c.kind,
        c.inliers
    );
    for m in (0..72).step_by(4) {
        let th = m as f64 * std::f64::consts::TAU / 72.0;
        let mut lo = 0.0;
        let mut hi = 40.0;
        for _ in 0..60 {
            let mm = 0.5 * (lo + hi);
            if an
                .ivc
                .rnorm(&Point3::new(cx + mm * th.cos(), cy + mm * th.sin(), z))
                <= 1.0
            {
                lo = mm
            } else {
                hi = mm
            }
        }
        let prof: Vec<String> = (0..12)
            .map(|k| {
                let r = lo - 4.0 + k as f64;
                format!(
                    "{:.0}",
                    v.sample_world(&Point3::new(cx + r * th.cos(), cy + r * th.sin(), z))
                        .unwrap_or(f32::NAN)
                )
            })
            .collect();
        println!(
            "ray {m:2} fit {:.2} exact {:.2}  profile from exact-4mm: {}",
            c.radius(th),
            lo,
            prof.join(" ")
        );
    }
}

fn debug_locate() {
    let case = match std::env::var("CASE").ok().as_deref() {
        Some(c) => CaseName::parse(c).unwrap(),
        None => CaseName::Normal,
    };
    let st = study(case, &PhantomOptions::small());
    let phases = phases_from_truth(&st);
    let pv = phases
        .iter()
        .find(|p| p.role.as_str().ends_with("portal_venous"))
        .unwrap()
        .volume_index;
    let pre = phases
        .iter()
        .find(|p| p.role.as_str() == "ct_unenhanced" || p.role.as_str() == "mr_t1_pre")
        .map(|p| p.volume_index);
    let is_ct = st.volumes[pv].meta.modality == "CT";
    let s = track::locate(&st.volumes[pv], pre.map(|i| &st.volumes[i]), is_ct);
    println!("located {:?} truth seed {:?}", s, st.truth.ivc_seed_mm);
}

fn debug_timing() {
    let case = match std::env::var("CASE").ok().as_deref() {
        Some(c) => CaseName::parse(c).unwrap(),
        None => CaseName::Normal,
    };
    let st = study(case, &PhantomOptions::small());
    let phases = phases_from_truth(&st);
    let t = std::time::Instant::now();
    let out = cavascope_ivc::build_ivc(&st.volumes, &phases, &Default::default());
    println!(
        "total {:.3} s model {}",
        t.elapsed().as_secs_f64(),
        out.model.is_some()
    );
}

/// Rays in the tumour-filled stretch of the leiomyosarcoma against the true outline:
/// what the walls on all phases say (set Z, CASE).
fn debug_rays_plug() {
    use cavascope_phantom::anatomy::Anatomy;
    let case = match std::env::var("CASE").ok().as_deref() {
        Some(c) => CaseName::parse(c).unwrap(),
        None => CaseName::IvcLeiomyosarcoma,
    };
    let opts = PhantomOptions::small();
    let st = study(case, &opts);
    let an = Anatomy::new(case, opts.seed);
    let phases = phases_from_truth(&st);
    let pv = phases
        .iter()
        .find(|p| p.role.as_str().ends_with("portal_venous"))
        .unwrap()
        .volume_index;
    let mut inputs = vec![PhaseInput {
        volume: &st.volumes[pv],
        noise: track::noise_sd(&st.volumes[pv]),
    }];
    for p in &phases {
        if p.volume_index != pv
            && (p.role.as_str().starts_with("ct_") || p.role.as_str().starts_with("mr_t1"))
        {
            inputs.push(PhaseInput {
                volume: &st.volumes[p.volume_index],
                noise: track::noise_sd(&st.volumes[p.volume_index]),
            });
        }
    }
    let t = Tracker::new(inputs).unwrap();
    let all = std::env::var("ALL").map(|v| v != "0").unwrap_or(true);
    let zs: Vec<f64> = match std::env::var("Z").ok() {
        Some(z) => vec![z.parse().unwrap()],
        None => (-60..20).step_by(10).map(|z| z as f64).collect(),
    };
    for z in zs {
        let (cx, cy) = an.ivc.center(z);
        let r = if std::env::var_os("LAYERED").is_some() {
            t.wall_rays(z, cx, cy)
        } else {
            t.rays(z, cx, cy, all)
        };
        let mut line = String::new();
        for m in (0..track::NRAYS).step_by(3) {
            let th = m as f64 * std::f64::consts::TAU / track::NRAYS as f64;
            let (mut lo, mut hi) = (0.0, 60.0);
            for _ in 0..50 {
                let mm = 0.5 * (lo + hi);
                if an
                    .ivc
                    .rnorm(&Point3::new(cx + mm * th.cos(), cy + mm * th.sin(), z))
                    <= 1.0
                {
                    lo = mm
                } else {
                    hi = mm
                }
            }
            let pm = Point3::new(cx + (lo + 3.0) * th.cos(), cy + (lo + 3.0) * th.sin(), z);
            let outside_mass = an.mass_sd(&pm) < 0.0;
            line += &format!(
                " {m}:{:.1}/{:.1}{}",
                r[m],
                lo,
                if outside_mass { "M" } else { "" }
            );
        }
        println!("z {z}: {line}");
        if !all {
            let (a, b) = an.ivc.semi(z);
            let mut t2 = Tracker::new(vec![PhaseInput {
                volume: &st.volumes[pv],
                noise: track::noise_sd(&st.volumes[pv]),
            }])
            .unwrap();
            t2.blood = 150.0;
            if let Some(c) = t2.contour_at(z, cx, cy, None) {
                println!(
                    "  free fit from the true centre: area {:.1} vs {:.1} kind {:?} inl {:.2}",
                    c.area(),
                    std::f64::consts::PI * a * b,
                    c.kind,
                    c.inliers
                );
            }
        }
    }
}

/// Values along one ray from the true centre on every phase (set Z, M, CASE).
fn debug_profile_ray() {
    use cavascope_phantom::anatomy::Anatomy;
    let case = match std::env::var("CASE").ok().as_deref() {
        Some(c) => CaseName::parse(c).unwrap(),
        None => CaseName::IvcLeiomyosarcoma,
    };
    let opts = PhantomOptions::small().noiseless();
    let st = study(case, &opts);
    let an = Anatomy::new(case, opts.seed);
    let z: f64 = std::env::var("Z")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(-20.0);
    let m: f64 = std::env::var("M")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let th = m * std::f64::consts::TAU / track::NRAYS as f64;
    let (cx, cy) = an.ivc.center(z);
    for (i, v) in st.volumes.iter().enumerate() {
        let vals: Vec<String> = (0..40)
            .map(|k| {
                let r = k as f64;
                format!(
                    "{:.0}",
                    v.sample_world(&Point3::new(cx + r * th.cos(), cy + r * th.sin(), z))
                        .unwrap_or(f32::NAN)
                )
            })
            .collect();
        println!(
            "{i} {}: {}",
            v.meta.series_description.clone().unwrap_or_default(),
            vals.join(" ")
        );
    }
    let sds: Vec<String> = (0..40)
        .map(|k| {
            let p = Point3::new(cx + k as f64 * th.cos(), cy + k as f64 * th.sin(), z);
            format!("{:.0}", an.ivc.sd(&p))
        })
        .collect();
    println!("ivc sd: {}", sds.join(" "));
    let msd: Vec<String> = (0..40)
        .map(|k| {
            let p = Point3::new(cx + k as f64 * th.cos(), cy + k as f64 * th.sin(), z);
            format!("{:.1}", an.mass_sd(&p))
        })
        .collect();
    println!("mass sd: {}", msd.join(" "));
}

/// Contours chained from plane to plane at the true centres (the prior's effect), against
/// free fits without a prior (set CASE, Z0, Z1).
fn debug_chain_true_centres() {
    use cavascope_phantom::anatomy::Anatomy;
    let case = match std::env::var("CASE").ok().as_deref() {
        Some(c) => CaseName::parse(c).unwrap(),
        None => CaseName::ExtrinsicCompression,
    };
    let opts = PhantomOptions::small();
    let st = study(case, &opts);
    let an = Anatomy::new(case, opts.seed);
    let phases = phases_from_truth(&st);
    let pv = phases
        .iter()
        .find(|p| p.role.as_str().ends_with("portal_venous"))
        .unwrap()
        .volume_index;
    let mut t = Tracker::new(vec![PhaseInput {
        volume: &st.volumes[pv],
        noise: track::noise_sd(&st.volumes[pv]),
    }])
    .unwrap();
    t.blood = 150.0;
    let z0: f64 = std::env::var("Z0")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(-80.0);
    let z1: f64 = std::env::var("Z1")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(-125.0);
    let dir = if z1 < z0 { -1.0 } else { 1.0 };
    let mut prev: Option<track::Contour> = None;
    let mut z = z0;
    while (z - z1) * dir <= 0.0 {
        let (cx, cy) = an.ivc.center(z);
        let (a, b) = an.ivc.semi(z);
        let free = t.contour_at(z, cx, cy, None);
        let chained = t.contour_at(z, cx, cy, prev.as_ref());
        println!(
            "z {z:6.1} truth {:6.1} free {:?} chained {:?}",
            std::f64::consts::PI * a * b,
            free.as_ref()
                .map(|c| (c.area().round(), c.kind, (c.inliers * 100.0).round())),
            chained
                .as_ref()
                .map(|c| (c.area().round(), c.kind, (c.inliers * 100.0).round()))
        );
        if chained.is_some() {
            prev = chained;
        }
        z += 2.0 * dir;
    }
}

/// IVC–mass contact with seeds (CASE): the measured mass against the measured IVC, and
/// the distance from the measured IVC outline to the true and the measured mass.
fn debug_contact() {
    use cavascope_ivc::build_ivc;
    use cavascope_mass::{build_mass, MassOutcome};
    use cavascope_measurements::SegmentOptions;
    let case = match std::env::var("CASE").ok().as_deref() {
        Some(c) => CaseName::parse(c).unwrap(),
        None => CaseName::ExtrinsicCompression,
    };
    let st = study(case, &PhantomOptions::small());
    let phases = phases_from_truth(&st);
    let mut so = SegmentOptions::default();
    let s = st.truth.ivc_seed_mm;
    so.ivc_seed = Some(Point3::new(s[0], s[1], s[2]));
    if let Some(m) = st.truth.mass_seed_mm {
        so.mass_seed = Some(Point3::new(m[0], m[1], m[2]));
    }
    let out = build_ivc(&st.volumes, &phases, &so);
    let ivc = out.model.as_ref().unwrap();
    let MassOutcome {
        model: mass,
        warnings: w,
        ..
    } = build_mass(&st.volumes, &phases, Some(ivc), &out.landmarks, &so);
    let mass = mass.unwrap();
    println!(
        "mass {:.1} ml contact arc {:?} z {:?} warnings {w:?}",
        mass.volume_ml, mass.contact_arc_deg, mass.contact_z_range_mm
    );
    let tm = st.labels.mass.as_ref().unwrap();
    // Nearest mass voxel to the IVC mask surface, per mask (coarse: voxel centres).
    for (name, mm) in [("true mass", tm), ("measured mass", &mass.mask)] {
        let g = &mm.geometry;
        let pts: Vec<Point3<f64>> = mm
            .data
            .indexed_iter()
            .filter(|(_, &b)| b)
            .map(|((k, j, i), _)| g.index_to_world([i as f64, j as f64, k as f64]))
            .collect();
        let ig = &ivc.mask.geometry;
        let ivc_pts: Vec<Point3<f64>> = ivc
            .mask
            .data
            .indexed_iter()
            .filter(|(_, &b)| b)
            .map(|((k, j, i), _)| ig.index_to_world([i as f64, j as f64, k as f64]))
            .collect();
        let mut best = f64::INFINITY;
        for p in ivc_pts.iter().step_by(3) {
            for q in &pts {
                if (p.z - q.z).abs() < 3.0 {
                    best = best.min((p - q).norm());
                }
            }
        }
        println!("{name}: nearest voxel centre to the measured IVC mask {best:.2} mm");
    }
}

/// Rays and the first contour at a point on the 96 × 96 @ 4 mm grid (X, Y, Z, CASE, SEED).
fn debug_coarse_point() {
    let case = match std::env::var("CASE").ok().as_deref() {
        Some(c) => CaseName::parse(c).unwrap(),
        None => CaseName::IvcLeiomyosarcoma,
    };
    let env = |k: &str, d: f64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let mut o = PhantomOptions::small().with_seed(env("SEED", 1.0) as u64);
    o.cols = 96;
    o.rows = 96;
    o.pixel_spacing_mm = 4.0;
    o.slices = 50;
    o.slice_spacing_mm = 5.0;
    let st = study(case, &o);
    let phases = phases_from_truth(&st);
    let pv = phases
        .iter()
        .find(|p| p.role.as_str().ends_with("portal_venous"))
        .unwrap()
        .volume_index;
    let v = &st.volumes[pv];
    let mut t = Tracker::new(vec![PhaseInput {
        volume: v,
        noise: track::noise_sd(v),
    }])
    .unwrap();
    let p = Point3::new(env("X", -27.6), env("Y", 1.8), env("Z", 32.5));
    t.blood = t.blood_at(&p);
    println!("noise {} blood {}", track::noise_sd(v), t.blood);
    use std::f64::consts::{FRAC_PI_2, PI};
    for (name, th) in [
        ("+x", 0.0f64),
        ("+y", FRAC_PI_2),
        ("-x", PI),
        ("-y", 3.0 * FRAC_PI_2),
    ] {
        let vals: Vec<String> = (0..30)
            .map(|k| {
                let r = k as f64;
                format!(
                    "{:.0}",
                    v.sample_world(&Point3::new(p.x + r * th.cos(), p.y + r * th.sin(), p.z))
                        .unwrap_or(f32::NAN)
                )
            })
            .collect();
        println!("{name}: {}", vals.join(" "));
    }
    let r = t.rays(p.z, p.x, p.y, false);
    let s: Vec<String> = r.iter().step_by(3).map(|x| format!("{x:.1}")).collect();
    println!("rays {}", s.join(" "));
    let c = t.contour_at(p.z, p.x, p.y, None);
    println!(
        "contour {:?}",
        c.map(|c| (c.kind, c.inliers, c.area(), c.opacified, c.centre_value))
    );
    let tp = st.truth.ivc.profile.iter().find(|q| (q.z_mm - p.z).abs() < 0.6);
    println!("truth {:?}", tp.map(|q| (q.center_mm, q.axial_area_mm2)));
}

/// Bridged planes of the real track (CASE, SEED_MODE=1 for the truth seed, Z0, Z1, STEP):
/// walls on all phases without and with the layer model, against the true radius seen
/// from the bridge's centre.
fn debug_bridge_walls() {
    use cavascope_phantom::anatomy::Anatomy;
    let case = match std::env::var("CASE").ok().as_deref() {
        Some(c) => CaseName::parse(c).unwrap(),
        None => CaseName::IvcLeiomyosarcoma,
    };
    let env = |k: &str, d: f64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let opts = PhantomOptions::small();
    let st = study(case, &opts);
    let an = Anatomy::new(case, opts.seed);
    let phases = phases_from_truth(&st);
    let pv = phases
        .iter()
        .find(|p| p.role.as_str().ends_with("portal_venous"))
        .unwrap()
        .volume_index;
    let kind = |r: &str| r.starts_with("ct_") || r.starts_with("mr_t1");
    let mut inputs = vec![PhaseInput {
        volume: &st.volumes[pv],
        noise: track::noise_sd(&st.volumes[pv]),
    }];
    let mut flags = vec![true];
    for p in &phases {
        if p.volume_index != pv && kind(p.role.as_str()) {
            inputs.push(PhaseInput {
                volume: &st.volumes[p.volume_index],
                noise: track::noise_sd(&st.volumes[p.volume_index]),
            });
            flags.push(!p.role.as_str().ends_with("arterial"));
        }
    }
    let mut t = Tracker::new(inputs).unwrap().with_blood_phases(&flags);
    t.free_on_all_phases = st.volumes[pv].meta.modality != "CT";
    // As `build_ivc` sets it: the wall detector's one-way rule and the escaped rays'
    // refusal depend on it.
    t.is_ct = st.volumes[pv].meta.modality == "CT";
    let s = st.truth.ivc_seed_mm;
    let mut cs = t.track(&Point3::new(s[0], s[1], s[2])).unwrap();
    cavascope_ivc::bridge::rebridge(&t, &mut cs);
    if std::env::var_os("CENTRES").is_some() {
        for c in &cs {
            let (tx, ty) = an.ivc.center(c.z);
            let (gx, gy) = c.centroid();
            println!(
                "C {:.1} {:?} {} {gx:.3} {gy:.3} {tx:.3} {ty:.3}",
                c.z, c.kind, c.opacified
            );
        }
    }
    let (z0, z1, step) = (env("Z0", -30.0), env("Z1", 0.0), env("STEP", 6.0) as usize);
    let mut next = z0;
    for c in &cs {
        if c.z < next || c.z > z1 || c.kind == track::ContourKind::Measured {
            continue;
        }
        next = c.z + step as f64;
        let plain = t.rays(c.z, c.cx, c.cy, true);
        let layered = t.wall_rays(c.z, c.cx, c.cy);
        let cands = t.wall_candidates(c.z, c.cx, c.cy, 4);
        let mut line = String::new();
        for m in (0..track::NRAYS).step_by(3) {
            let th = m as f64 * std::f64::consts::TAU / track::NRAYS as f64;
            let (mut lo, mut hi) = (0.0, 60.0);
            for _ in 0..50 {
                let mm = 0.5 * (lo + hi);
                let p = Point3::new(c.cx + mm * th.cos(), c.cy + mm * th.sin(), c.z);
                if an.ivc.rnorm(&p) <= 1.0 {
                    lo = mm
                } else {
                    hi = mm
                }
            }
            let fit = c.radius(th);
            let cs: Vec<String> = cands[m].iter().map(|x| format!("{x:.1}")).collect();
            line += &format!(
                "\n   {m}: plain {:.1} layered {:.1} fit {:.1} truth {:.1} candidates {}",
                plain[m],
                layered[m],
                fit,
                lo,
                cs.join(",")
            );
        }
        let (tx, ty) = an.ivc.center(c.z);
        let (gx, gy) = c.centroid();
        println!(
            "z {:.1} centre ({:.2}, {:.2}) centroid ({:.2}, {:.2}) truth ({:.2}, {:.2}) area {:.1} vs {:.1} (plain/layered/fit/truth):{}",
            c.z,
            c.cx,
            c.cy,
            gx,
            gy,
            tx,
            ty,
            c.area(),
            {
                let (a, b) = an.ivc.semi(c.z);
                std::f64::consts::PI * a * b
            },
            if std::env::var_os("RAYS").is_some() { line.as_str() } else { "" }
        );
    }
}

/// Every case, auto and seeded, one line each against the truth (`CASE=` one case).
fn debug_all_cases() {
    // CASE=name restricts the run to one case.
    let only = std::env::var("CASE").ok().and_then(|c| CaseName::parse(&c));
    for &case in CaseName::all() {
        if only.is_some_and(|o| o != case) {
            continue;
        }
        for seed in [false, true] {
            let (st, out) = run(case, &PhantomOptions::small(), seed);
            println!("seed={seed} {}", describe(&st, &out));
        }
    }
}

/// The coarse 4 mm grid, auto and seeded.
fn debug_coarse_grid() {
    for (case, seed) in [
        (CaseName::Normal, 1),
        (CaseName::IvcLeiomyosarcoma, 2),
        (CaseName::IvcLeiomyosarcoma, 1),
    ] {
        for ivc_seed in [false, true] {
            let t = std::time::Instant::now();
            let (st, out) = run(case, &coarse(seed), ivc_seed);
            println!(
                "anatomy seed {seed} ivc seed={ivc_seed} ({:.1} s) {}",
                t.elapsed().as_secs_f64(),
                describe(&st, &out)
            );
        }
    }
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    match which.as_str() {
        "track" => debug_track(),
        "rays_noiseless" => debug_rays_noiseless(),
        "locate" => debug_locate(),
        "timing" => debug_timing(),
        "rays_plug" => debug_rays_plug(),
        "profile_ray" => debug_profile_ray(),
        "chain_true_centres" => debug_chain_true_centres(),
        "contact" => debug_contact(),
        "coarse_point" => debug_coarse_point(),
        "bridge_walls" => debug_bridge_walls(),
        "all_cases" => debug_all_cases(),
        "coarse_grid" => debug_coarse_grid(),
        _ => {
            eprintln!("usage: ivc_debug NAME, NAME one of: track, rays_noiseless, locate, timing, rays_plug, profile_ray, chain_true_centres, contact, coarse_point, bridge_walls, all_cases, coarse_grid");
            std::process::exit(2);
        }
    }
}
