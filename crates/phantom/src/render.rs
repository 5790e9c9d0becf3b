//! Sampling the analytic anatomy onto the grid: partial volume from signed distances,
//! every series composited in one pass, labels, then seeded Gaussian noise.

use crate::anatomy::Anatomy;
use crate::options::PhantomOptions;
use crate::protocol::SeriesSpec;
use crate::shapes::{coverage, Aabb};
use crate::tissue::{base_props, Tissue};
use nalgebra::Point3;
use ndarray::Array3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Rendered voxels: one array per series, plus label arrays.
pub struct Rendered {
    pub series: Vec<Array3<f32>>,
    pub tissue: Array3<u8>,
    pub ivc: Array3<bool>,
    pub lumen: Array3<bool>,
    pub mass: Array3<bool>,
}

/// Render every series of `specs` on the grid of `opts` (already sanitised).
pub fn render(an: &Anatomy, opts: &PhantomOptions, specs: &[SeriesSpec]) -> Rendered {
    let g = opts.geometry();
    let [ns, nr, nc] = opts.shape();
    let plane = nr * nc;
    let nser = specs.len();
    let h = opts.pixel_spacing_mm;
    let o = g.origin();
    let (di, dj, dk) = (g.step(0), g.step(1), g.step(2));
    let intraluminal = an.intraluminal();
    let kinds: Vec<_> = specs.iter().map(|s| s.kind).collect();
    let air: Vec<f32> = kinds.iter().map(|k| k.signal(&base_props(Tissue::Air))).collect();
    let ivc_idx = an.layers.iter().position(|l| l.name == "ivc");
    let mass_idx = an.layers.iter().position(|l| l.name == "mass");

    let mut data: Vec<Vec<f32>> = (0..nser).map(|_| vec![0.0f32; ns * plane]).collect();
    let mut tissue = vec![0u8; ns * plane];
    let mut flags = vec![0u8; ns * plane]; // bit 0 IVC, bit 1 mass
    {
        let mut per_slice: Vec<(Vec<&mut [f32]>, &mut [u8], &mut [u8])> = Vec::with_capacity(ns);
        let mut ser_chunks: Vec<std::slice::ChunksMut<'_, f32>> =
            data.iter_mut().map(|d| d.chunks_mut(plane)).collect();
        for (t, f) in tissue.chunks_mut(plane).zip(flags.chunks_mut(plane)) {
            let bufs: Vec<&mut [f32]> = ser_chunks.iter_mut().filter_map(|c| c.next()).collect();
            per_slice.push((bufs, t, f));
        }
        per_slice
            .into_par_iter()
            .enumerate()
            .for_each(|(k, (mut bufs, tbuf, fbuf))| {
                let mut vals = vec![0.0f32; nser];
                let mut active: Vec<usize> = Vec::with_capacity(an.layers.len());
                for j in 0..nr {
                    let p0 = o + dj * j as f64 + dk * k as f64;
                    let p1 = p0 + di * (nc.max(1) - 1) as f64;
                    let row_box = Aabb::new(
                        [p0.x.min(p1.x), p0.y.min(p1.y), p0.z.min(p1.z)],
                        [p0.x.max(p1.x), p0.y.max(p1.y), p0.z.max(p1.z)],
                    )
                    .expand(h);
                    active.clear();
                    // Front to back: topmost layer first.
                    for (li, l) in an.layers.iter().enumerate().rev() {
                        if l.bbox.intersects(&row_box) {
                            active.push(li);
                        }
                    }
                    for i in 0..nc {
                        let p: Point3<f64> = p0 + di * i as f64;
                        let idx = j * nc + i;
                        let mut transmit = 1.0f32;
                        vals.iter_mut().for_each(|v| *v = 0.0);
                        let mut top = None;
                        let mut ivc_in = false;
                        let mut mass_in = false;
                        // Flags need the IVC and mass distances even where covered.
                        if let Some(li) = ivc_idx {
                            if active.contains(&li) && an.layers[li].bbox.contains(&p) {
                                ivc_in = an.ivc.sd(&p) <= 0.0;
                            }
                        }
                        if let Some(li) = mass_idx {
                            if active.contains(&li) && an.layers[li].bbox.expand(h).contains(&p) {
                                mass_in = an.mass_sd(&p) <= 0.0;
                            }
                        }
                        for &li in &active {
                            let l = &an.layers[li];
                            if !l.bbox.expand(h).contains(&p) {
                                continue;
                            }
                            let sd = an.layer_sd(l, &p);
                            let a = coverage(sd, h);
                            if a <= 0.0 {
                                continue;
                            }
                            let (t, props) = an.layer_props(l, &p);
                            let w = transmit * a;
                            for (v, kd) in vals.iter_mut().zip(&kinds) {
                                *v += w * kd.signal(&props);
                            }
                            if top.is_none() && a >= 0.5 {
                                top = Some(t);
                            }
                            transmit *= 1.0 - a;
                            if transmit <= 0.0 {
                                break;
                            }
                        }
                        if transmit > 0.0 {
                            for (v, a) in vals.iter_mut().zip(&air) {
                                *v += transmit * a;
                            }
                        }
                        for (b, v) in bufs.iter_mut().zip(&vals) {
                            b[idx] = *v;
                        }
                        tbuf[idx] = top.unwrap_or(Tissue::Air) as u8;
                        fbuf[idx] = (ivc_in as u8) | ((mass_in as u8) << 1);
                    }
                }
                // Noise, rounding to stored integers, clamping: per slice and series
                // from its own stream, so the result does not depend on scheduling.
                for (s, b) in bufs.iter_mut().enumerate() {
                    let sd = if kinds[s].is_ct() {
                        opts.noise_sd
                    } else {
                        opts.mr_noise_sd
                    };
                    let (lo, hi) = kinds[s].value_range();
                    let mut rng = ChaCha8Rng::seed_from_u64(noise_seed(opts.seed, s, k));
                    add_noise(b, sd, &mut rng);
                    for v in b.iter_mut() {
                        *v = v.round().clamp(lo, hi);
                    }
                }
            });
    }
    let shape = (ns, nr, nc);
    let to3 = |v: Vec<f32>| Array3::from_shape_vec(shape, v).unwrap_or_else(|_| Array3::zeros(shape));
    let series = data.into_iter().map(to3).collect();
    let ivc: Vec<bool> = flags
        .iter()
        .map(|f| f & 1 == 1 && (intraluminal || f & 2 == 0))
        .collect();
    let lumen: Vec<bool> = flags.iter().map(|f| f & 1 == 1 && f & 2 == 0).collect();
    let mass: Vec<bool> = flags.iter().map(|f| f & 2 == 2).collect();
    let b3 =
        |v: Vec<bool>| Array3::from_shape_vec(shape, v).unwrap_or_else(|_| Array3::from_elem(shape, false));
    Rendered {
        series,
        tissue: Array3::from_shape_vec(shape, tissue).unwrap_or_else(|_| Array3::zeros(shape)),
        ivc: b3(ivc),
        lumen: b3(lumen),
        mass: b3(mass),
    }
}

fn noise_seed(seed: u64, series: usize, slice: usize) -> u64 {
    let mut x = seed ^ 0x5851_F42D_4C95_7F2D;
    x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (series as u64 + 1);
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (slice as u64 + 1);
    x.wrapping_mul(0x94D0_49BB_1331_11EB)
}

/// Gaussian noise by Box–Muller, two samples per pair of uniforms.
fn add_noise(buf: &mut [f32], sd: f32, rng: &mut ChaCha8Rng) {
    if sd <= 0.0 {
        return;
    }
    let mut it = buf.chunks_mut(2);
    for pair in &mut it {
        let u1: f32 = rng.random::<f32>().max(1e-12);
        let u2: f32 = rng.random::<f32>();
        let r = sd * (-2.0 * u1.ln()).sqrt();
        let (s, c) = (std::f32::consts::TAU * u2).sin_cos();
        pair[0] += r * c;
        if let Some(x) = pair.get_mut(1) {
            *x += r * s;
        }
    }
}
