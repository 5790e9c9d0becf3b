//! The tracker on a real volume against TotalSegmentator's IVC label, plane by plane (a
//! diagnostic printout, asserts nothing): for each tracked plane its z, kind, inlier share,
//! equivalent diameter, and the label's axial equivalent diameter at that z.
//!
//! `cargo run -p cavascope-ivc --example real_track -- IMAGE SEG LABEL [ct|mr] [X,Y,Z]`
//! (IMAGE a NIfTI file or a DICOM folder; without a seed: the label's centroid on its middle
//! slice, as `crates/cli/tests/real_volumes.rs` seeds).

use cavascope_ivc::track::{self, PhaseInput, Tracker};
use cavascope_volume::{nifti_io, sampling, Point3, Volume, VolumeMeta};
use std::path::Path;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 4 {
        eprintln!("usage: real_track IMAGE SEG LABEL [ct|mr] [X,Y,Z]");
        return;
    }
    let img = Path::new(&a[1]);
    let vol = if img.is_dir() {
        let st = cavascope_ingest::load_study(img, &Default::default()).expect("study loads");
        let v = st.volumes().next().expect("a volume").clone();
        v
    } else {
        let (d, g) = nifti_io::read_nifti(img).expect("volume reads");
        Volume::new(d, g, VolumeMeta::default())
    };
    let id: f32 = a[3].parse().expect("label id");
    let is_ct = a.get(4).map(|s| s != "mr").unwrap_or(true);
    let (l, lg) = nifti_io::read_nifti(Path::new(&a[2])).expect("label reads");
    let lab = l.mapv(|x| if x == id { 1.0f32 } else { 0.0 });
    // Label axial equivalent diameter at world z (label interpolated on a 0.5 mm grid).
    let label_d = |z: f64, cx: f64, cy: f64| -> f64 {
        let mut n = 0usize;
        for i in -80..=80 {
            for j in -80..=80 {
                let p = Point3::new(cx + i as f64 * 0.5, cy + j as f64 * 0.5, z);
                if sampling::trilinear(&lab, lg.world_to_index(&p)).unwrap_or(0.0) >= 0.5 {
                    n += 1;
                }
            }
        }
        2.0 * (n as f64 * 0.25 / std::f64::consts::PI).sqrt()
    };
    let seed = match a.get(5) {
        Some(s) => {
            let v: Vec<f64> = s.split(',').map(|x| x.parse().expect("seed")).collect();
            Point3::new(v[0], v[1], v[2])
        }
        None => {
            let ks: Vec<usize> = (0..lab.shape()[0])
                .filter(|&k| lab.index_axis(ndarray::Axis(0), k).iter().any(|&v| v > 0.5))
                .collect();
            let k = ks[ks.len() / 2];
            let (mut si, mut sj, mut n) = (0.0, 0.0, 0.0);
            for ((j, i), &v) in lab.index_axis(ndarray::Axis(0), k).indexed_iter() {
                if v > 0.5 {
                    si += i as f64;
                    sj += j as f64;
                    n += 1.0;
                }
            }
            lg.index_to_world([si / n, sj / n, k as f64])
        }
    };
    println!("seed {seed:?} ct {is_ct}");
    {
        let ijk = vol.geometry.world_to_index(&seed);
        let sp = vol.geometry.spacing();
        let (k0, j0, i0) = (
            ijk[2].round() as i64,
            ijk[1].round() as i64,
            ijk[0].round() as i64,
        );
        let mut v = Vec::new();
        for dj in -6i64..=6 {
            for di in -6i64..=6 {
                if ((di as f64 * sp[0]).powi(2) + (dj as f64 * sp[1]).powi(2)).sqrt() <= 5.0 {
                    if let Some(x) = vol
                        .data
                        .get([k0 as usize, (j0 + dj) as usize, (i0 + di) as usize])
                    {
                        v.push(*x as f64);
                    }
                }
            }
        }
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        println!(
            "lumen disc n {} mean {m:.1} sd {sd:.1} noise {:.1}",
            v.len(),
            track::noise_sd(&vol)
        );
    }
    // NOISE=HU: the tracker's noise estimate replaced (how the walls depend on it); the
    // estimate from neighbour differences inside the body (both voxels > −500 HU) printed.
    {
        let (nk, nj, ni) = vol.data.dim();
        let mut d: Vec<f32> = Vec::new();
        for k in (0..nk).step_by((nk / 20).max(1)) {
            for j in (0..nj).step_by((nj / 64).max(1)) {
                for i in 0..ni - 1 {
                    let (x, y) = (vol.data[[k, j, i]], vol.data[[k, j, i + 1]]);
                    if x > -500.0 && y > -500.0 && x < 300.0 && y < 300.0 {
                        d.push((x - y).abs());
                    }
                }
            }
        }
        let mut all: Vec<f32> = Vec::new();
        for k in (0..nk).step_by((nk / 20).max(1)) {
            for j in (0..nj).step_by((nj / 64).max(1)) {
                for i in 0..ni - 1 {
                    let (x, y) = (vol.data[[k, j, i]], vol.data[[k, j, i + 1]]);
                    if x != y && x.is_finite() && y.is_finite() {
                        all.push((x - y).abs());
                    }
                }
            }
        }
        all.sort_by(f32::total_cmp);
        println!(
            "noise without equal pairs: {:.1} ({} pairs)",
            all.get(all.len() / 2).copied().unwrap_or(f32::NAN) / (0.6745 * std::f32::consts::SQRT_2),
            all.len()
        );
        d.sort_by(f32::total_cmp);
        let zero = d.iter().filter(|&&x| x == 0.0).count();
        println!(
            "noise in the body (−500…300 HU pairs): {:.1} ({} pairs, {} equal)",
            d.get(d.len() / 2).copied().unwrap_or(f32::NAN) / (0.6745 * std::f32::consts::SQRT_2),
            d.len(),
            zero
        );
    }
    let noise = std::env::var("NOISE")
        .ok()
        .and_then(|s| s.parse::<f32>().ok())
        .unwrap_or_else(|| track::noise_sd(&vol));
    let inputs = vec![PhaseInput { volume: &vol, noise }];
    let mut t = Tracker::new(inputs).expect("tracker");
    t.free_on_all_phases = !is_ct;
    t.is_ct = is_ct;
    // The label's section at world z (0.5 mm grid, ±40 mm about the seed): its point
    // count and the sums x, y, x², y², xy.
    let label_moments = |z: f64| -> [f64; 6] {
        let mut m = [0.0; 6];
        for i in -80..=80 {
            for j in -80..=80 {
                let p = Point3::new(seed.x + i as f64 * 0.5, seed.y + j as f64 * 0.5, z);
                if sampling::trilinear(&lab, lg.world_to_index(&p)).unwrap_or(0.0) >= 0.5 {
                    for (s, v) in m.iter_mut().zip([1.0, p.x, p.y, p.x * p.x, p.y * p.y, p.x * p.y]) {
                        *s += v;
                    }
                }
            }
        }
        m
    };
    // ARC=1: on every label plane, the walls whose outside is fat (mean 1.5–4 mm past the
    // wall below the blood–fat midpoint, fat −100 HU): a circle fitted to those walls, to the
    // label's own boundary on the same rays, the label's equivalent diameter and its
    // aspect ratio (√ of the second moments' eigenvalue ratio): can the fat-side arc alone
    // give the section?
    if std::env::var("ARC").is_ok() {
        let circle = |pts: &[(f64, f64)]| -> f64 {
            if pts.len() < 3 {
                return f64::NAN;
            }
            let mut a = nalgebra::Matrix3::<f64>::zeros();
            let mut b = nalgebra::Vector3::<f64>::zeros();
            for &(x, y) in pts {
                let phi = nalgebra::Vector3::new(x, y, 1.0);
                a += phi * phi.transpose();
                b -= phi * (x * x + y * y);
            }
            match a.lu().solve(&b) {
                Some(v) => 2.0 * ((v[0] * v[0] + v[1] * v[1]) / 4.0 - v[2]).max(0.0).sqrt(),
                None => f64::NAN,
            }
        };
        let (mut e_arc, mut e_lab, mut e_all) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..lab.shape()[0] {
            let z = lg.index_to_world([0.0, 0.0, k as f64]).z;
            let [n, sx, sy, sxx, syy, sxy] = label_moments(z);
            if n < 20.0 {
                continue;
            }
            let (cx, cy) = (sx / n, sy / n);
            let (vxx, vyy, vxy) = (sxx / n - cx * cx, syy / n - cy * cy, sxy / n - cx * cy);
            let tr = vxx + vyy;
            let det = vxx * vyy - vxy * vxy;
            let l1 = tr / 2.0 + (tr * tr / 4.0 - det).max(0.0).sqrt();
            let l2 = tr / 2.0 - (tr * tr / 4.0 - det).max(0.0).sqrt();
            let axis = 0.5 * (2.0 * vxy).atan2(vxx - vyy);
            let eq = 2.0 * (n * 0.25 / std::f64::consts::PI).sqrt();
            t.blood = t.blood_at(&Point3::new(cx, cy, z));
            let r = t.rays(z, cx, cy, false);
            // ARC_OUT: another outside level (e.g. muscle/crus edges too).
            let fat_mid = std::env::var("ARC_OUT")
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.5 * (t.blood as f64 - 100.0));
            let (mut ours, mut theirs, mut all) = (Vec::new(), Vec::new(), Vec::new());
            // The lumen inside the label (raw), and beyond the label's boundary on each ray.
            let mut inside = Vec::new();
            for i in -60..=60 {
                for j in -60..=60 {
                    let p = Point3::new(cx + i as f64 * 0.5, cy + j as f64 * 0.5, z);
                    if sampling::trilinear(&lab, lg.world_to_index(&p)).unwrap_or(0.0) >= 0.99 {
                        if let Some(v) = sampling::trilinear(&vol.data, vol.geometry.world_to_index(&p)) {
                            inside.push(v as f64);
                        }
                    }
                }
            }
            let lm = inside.iter().sum::<f64>() / inside.len().max(1) as f64;
            let lsd =
                (inside.iter().map(|x| (x - lm).powi(2)).sum::<f64>() / inside.len().max(1) as f64).sqrt();
            let mut no_edge = 0usize;
            let mut arc = String::new();
            for (m, &ri) in r.iter().enumerate() {
                let th = track::theta(m);
                let (c, s) = (th.cos(), th.sin());
                let mut lr = 0.0;
                for q in 0..160 {
                    let d = q as f64 * 0.25;
                    let p = Point3::new(cx + d * c, cy + d * s, z);
                    if sampling::trilinear(&lab, lg.world_to_index(&p)).unwrap_or(0.0) >= 0.5 {
                        lr = d;
                    }
                }
                all.push((cx + lr * c, cy + lr * s));
                // Mean image value 1.5–4 mm past distance `r` on this ray.
                let past = |r: f64| -> f64 {
                    let v: Vec<f64> = (0..6)
                        .filter_map(|q| {
                            let d = r + 1.5 + q as f64 * 0.5;
                            let p = Point3::new(cx + d * c, cy + d * s, z);
                            sampling::trilinear(&vol.data, vol.geometry.world_to_index(&p)).map(|v| v as f64)
                        })
                        .collect();
                    v.iter().sum::<f64>() / v.len().max(1) as f64
                };
                let b = past(lr);
                if (lm - b).abs() < 2.0 * lsd {
                    no_edge += 1;
                }
                if !ri.is_finite() {
                    arc.push('.');
                    continue;
                }
                if past(ri) < fat_mid {
                    ours.push((cx + ri * c, cy + ri * s));
                    theirs.push((cx + lr * c, cy + lr * s));
                    arc.push('F');
                } else {
                    arc.push('-');
                }
            }
            let (da, dl, dall) = (circle(&ours), circle(&theirs), circle(&all));
            println!(
                "arc z {z:7.1} lumen {lm:5.1}±{lsd:4.1} no-edge rays {no_edge:2} eq {eq:5.1} aspect {:4.2} axis {:4.0} fat rays {:2} circle ours {da:5.1} label-on-arc {dl:5.1} label-all {dall:5.1} {arc}",
                (l1 / l2.max(1e-9)).sqrt(),
                axis.to_degrees(),
                ours.len()
            );
            if da.is_finite() {
                e_arc.push((da - eq).abs());
            }
            if dl.is_finite() {
                e_lab.push((dl - eq).abs());
            }
            e_all.push((dall - eq).abs());
        }
        let med = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        println!(
            "arc median |circle - eq|: ours {:.2} ({} planes), label on the arc {:.2}, label all rays {:.2}",
            med(&mut e_arc),
            e_arc.len(),
            med(&mut e_lab),
            med(&mut e_all)
        );
        return;
    }
    // RAYS=z: the wall on each ray from the label's centroid at z, beside the label's
    // own radius along that ray and the image profile.
    if let Some(z) = std::env::var("RAYS").ok().and_then(|s| s.parse::<f64>().ok()) {
        let [n, sx, sy, ..] = label_moments(z);
        let (cx, cy) = (sx / n, sy / n);
        t.blood = t.blood_at(&Point3::new(cx, cy, z));
        let r = t.rays(z, cx, cy, false);
        for (m, ri) in r.iter().enumerate() {
            let th = track::theta(m);
            let mut lr = 0.0;
            let mut prof = String::new();
            for k in 0..120 {
                let d = k as f64 * 0.25;
                let p = Point3::new(cx + d * th.cos(), cy + d * th.sin(), z);
                if sampling::trilinear(&lab, lg.world_to_index(&p)).unwrap_or(0.0) >= 0.5 {
                    lr = d;
                }
                if k % 8 == 0 {
                    let v =
                        sampling::trilinear(&vol.data, vol.geometry.world_to_index(&p)).unwrap_or(f32::NAN);
                    prof.push_str(&format!("{v:5.0}"));
                }
            }
            println!(
                "ray {m:2} th {:5.0} wall {ri:5.1} label {lr:5.1} |{prof}",
                th.to_degrees()
            );
        }
        return;
    }
    let Some(cs) = t.track(&seed) else {
        println!("no track");
        return;
    };
    println!("blood {}", t.blood);
    let mut errs = Vec::new();
    for c in &cs {
        let ours = 2.0 * (c.area() / std::f64::consts::PI).sqrt();
        let truth = label_d(c.z, c.cx, c.cy);
        if truth > 0.0 {
            errs.push((ours - truth).abs());
        }
        if (c.z * 10.0).round() as i64 % 30 == 0 || std::env::var("ALL").is_ok() {
            println!(
                "z {:7.1} c ({:6.1},{:6.1}) {:?} inl {:.2} cv {:6.1} ours {:5.1} label {:5.1}",
                c.z, c.cx, c.cy, c.kind, c.inliers, c.centre_value, ours, truth
            );
        }
    }
    errs.sort_by(f64::total_cmp);
    println!(
        "planes {} with label {} median |err| {:.2} mm (axial, before smoothing/cuts)",
        cs.len(),
        errs.len(),
        errs.get(errs.len() / 2).copied().unwrap_or(f64::NAN)
    );
}
