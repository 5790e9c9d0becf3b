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
    let inputs = vec![PhaseInput {
        volume: &vol,
        noise: track::noise_sd(&vol),
    }];
    let mut t = Tracker::new(inputs).expect("tracker");
    t.free_on_all_phases = !is_ct;
    t.is_ct = is_ct;
    // RAYS=z: the wall on each ray from the label's centroid at z, beside the label's
    // own radius along that ray and the image profile.
    if let Some(z) = std::env::var("RAYS").ok().and_then(|s| s.parse::<f64>().ok()) {
        let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
        for i in -80..=80 {
            for j in -80..=80 {
                let p = Point3::new(seed.x + i as f64 * 0.5, seed.y + j as f64 * 0.5, z);
                if sampling::trilinear(&lab, lg.world_to_index(&p)).unwrap_or(0.0) >= 0.5 {
                    sx += p.x;
                    sy += p.y;
                    n += 1.0;
                }
            }
        }
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
