//! Sampling the analytic anatomy onto the grid: partial volume from signed distances,
//! every series composited in one pass, labels, then seeded Gaussian noise.

use crate::anatomy::Anatomy;
use crate::options::PhantomOptions;
use crate::protocol::{SeriesKind, SeriesSpec};
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

/// One slice's output buffers: one per series, tissue, flags.
type SliceBufs<'a> = (Vec<&'a mut [f32]>, &'a mut [u8], &'a mut [u8]);

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
    // Boxes grown by the partial-volume margin, once.
    let boxes: Vec<Aabb> = an.layers.iter().map(|l| l.bbox.expand(h)).collect();
    let normal = normal_table();

    let mut data: Vec<Vec<f32>> = (0..nser).map(|_| vec![0.0f32; ns * plane]).collect();
    let mut tissue = vec![0u8; ns * plane];
    let mut flags = vec![0u8; ns * plane]; // bit 0 IVC, bit 1 mass
    {
        let mut per_slice: Vec<SliceBufs<'_>> = Vec::with_capacity(ns);
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
                let mut at = an.ivc.at_z(f64::NAN);
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
                    for (li, b) in boxes.iter().enumerate().rev() {
                        if b.intersects(&row_box) {
                            active.push(li);
                        }
                    }
                    let ivc_active = ivc_idx.filter(|li| active.contains(li));
                    let mass_active = mass_idx.filter(|li| active.contains(li));
                    for i in 0..nc {
                        let p: Point3<f64> = p0 + di * i as f64;
                        let idx = j * nc + i;
                        let mut transmit = 1.0f32;
                        vals.iter_mut().for_each(|v| *v = 0.0);
                        let mut top = None;
                        let mut ivc_in = false;
                        let mut mass_in = false;
                        if (ivc_active.is_some() || mass_active.is_some()) && at.z != p.z {
                            at = an.ivc.at_z(p.z);
                        }
                        // Flags need the IVC and mass distances even where covered.
                        if let Some(li) = ivc_active {
                            if boxes[li].contains(&p) {
                                ivc_in = an.ivc.sd_at(&at, &p) <= 0.0;
                            }
                        }
                        if let Some(li) = mass_active {
                            if boxes[li].contains(&p) {
                                mass_in = an.mass_sd_at(&p, &at) <= 0.0;
                            }
                        }
                        for &li in &active {
                            if !boxes[li].contains(&p) {
                                continue;
                            }
                            let l = &an.layers[li];
                            let sd = an.layer_sd_at(l, &p, &at);
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
                finish_slice(&mut bufs, &kinds, opts, k, normal);
            });
    }
    Rendered::from_flags(data, tissue, &flags, (ns, nr, nc), intraluminal)
}

/// Noise, rounding to stored integers, clamping, for slice `k` of every series: per
/// slice and series from its own stream, so the result does not depend on scheduling.
fn finish_slice(
    bufs: &mut [&mut [f32]],
    kinds: &[SeriesKind],
    opts: &PhantomOptions,
    k: usize,
    normal: &[f32],
) {
    let (nr, nc) = (opts.rows, opts.cols);
    for (s, b) in bufs.iter_mut().enumerate() {
        let sd = if kinds[s].is_ct() {
            opts.noise_sd
        } else {
            opts.mr_noise_sd
        };
        let (lo, hi) = kinds[s].value_range();
        let mut rng = ChaCha8Rng::seed_from_u64(noise_seed(opts.seed, s, k));
        if opts.noise_texture > 0.0 && sd > 0.0 {
            add_textured_noise(b, sd, opts.noise_texture, nr, nc, &mut rng, normal);
        } else {
            add_noise(b, sd, &mut rng, normal);
        }
        for v in b.iter_mut() {
            // Round half up via an integer conversion (one instruction; the
            // offset keeps the operand positive over the stored range).
            let r = ((*v + 16384.5) as i32 - 16384) as f32;
            *v = r.clamp(lo, hi);
        }
    }
}

impl Rendered {
    /// The rendered volumes from per-voxel buffers of `shape` (slice, row, column):
    /// each series' values, the top tissue and the flags (bit 0 inside the IVC, bit 1
    /// inside the mass). The IVC mask holds the tumour inside it when it is
    /// `intraluminal`; the lumen never does.
    pub(crate) fn from_flags(
        series: Vec<Vec<f32>>,
        tissue: Vec<u8>,
        flags: &[u8],
        shape: (usize, usize, usize),
        intraluminal: bool,
    ) -> Rendered {
        let to3 = |v: Vec<f32>| Array3::from_shape_vec(shape, v).unwrap_or_else(|_| Array3::zeros(shape));
        let ivc: Vec<bool> = flags
            .par_iter()
            .map(|f| f & 1 == 1 && (intraluminal || f & 2 == 0))
            .collect();
        let lumen: Vec<bool> = flags.par_iter().map(|f| f & 1 == 1 && f & 2 == 0).collect();
        let mass: Vec<bool> = flags.par_iter().map(|f| f & 2 == 2).collect();
        let b3 = |v: Vec<bool>| {
            Array3::from_shape_vec(shape, v).unwrap_or_else(|_| Array3::from_elem(shape, false))
        };
        Rendered {
            series: series.into_iter().map(to3).collect(),
            tissue: Array3::from_shape_vec(shape, tissue).unwrap_or_else(|_| Array3::zeros(shape)),
            ivc: b3(ivc),
            lumen: b3(lumen),
            mass: b3(mass),
        }
    }
}

fn noise_seed(seed: u64, series: usize, slice: usize) -> u64 {
    let mut x = seed ^ 0x5851_F42D_4C95_7F2D;
    x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (series as u64 + 1);
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (slice as u64 + 1);
    x.wrapping_mul(0x94D0_49BB_1331_11EB)
}

const TABLE_BITS: u32 = 12;

/// Inverse normal CDF at the centres of 2^12 equal-probability cells, for fast
/// Gaussian samples (tails beyond ±3.5 SD are cut; irrelevant for image noise).
fn normal_table() -> &'static [f32] {
    static T: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let n = 1usize << TABLE_BITS;
        (0..=n)
            .map(|i| {
                let p = (i as f64 + 0.5) / (n as f64 + 1.0);
                inv_normal_cdf(p) as f32
            })
            .collect()
    })
}

/// Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9).
fn inv_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let lo = 0.02425;
    if p < lo {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p > 1.0 - lo {
        -inv_normal_cdf(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Gaussian noise: a table lookup with linear interpolation per 32-bit random word.
fn add_noise(buf: &mut [f32], sd: f32, rng: &mut ChaCha8Rng, table: &[f32]) {
    if sd <= 0.0 {
        return;
    }
    let frac_bits = 32 - TABLE_BITS;
    let scale = 1.0 / (1u32 << frac_bits) as f32;
    for v in buf.iter_mut() {
        let r: u32 = rng.random();
        let i = (r >> frac_bits) as usize;
        let f = (r & ((1 << frac_bits) - 1)) as f32 * scale;
        let (a, b) = (table[i], table[i + 1]);
        *v += sd * (a + (b - a) * f);
    }
}

/// Noise with a texture: white noise blended with its in-plane [1 2 1]² binomial blur
/// (`t` = blend weight), rescaled to SD `sd` — the grain of a softer kernel.
fn add_textured_noise(
    buf: &mut [f32],
    sd: f32,
    t: f32,
    nr: usize,
    nc: usize,
    rng: &mut ChaCha8Rng,
    table: &[f32],
) {
    let mut w = vec![0.0f32; buf.len()];
    add_noise(&mut w, 1.0, rng, table);
    let mut tmp = w.clone();
    // Rows then columns (edges clamp).
    for j in 0..nr {
        for i in 0..nc {
            let a = w[j * nc + i.saturating_sub(1)];
            let c = w[j * nc + (i + 1).min(nc - 1)];
            tmp[j * nc + i] = 0.25 * a + 0.5 * w[j * nc + i] + 0.25 * c;
        }
    }
    let mut bl = tmp.clone();
    for j in 0..nr {
        for i in 0..nc {
            let a = tmp[j.saturating_sub(1) * nc + i];
            let c = tmp[(j + 1).min(nr - 1) * nc + i];
            bl[j * nc + i] = 0.25 * a + 0.5 * tmp[j * nc + i] + 0.25 * c;
        }
    }
    // Var of (1−t)·n + t·B n for white n: (1−t)² + 2t(1−t)·w0 + t²·Σw², with the 2D
    // binomial's centre weight w0 = 1/4 and Σw² = (3/8)².
    let var = (1.0 - t).powi(2) + 2.0 * t * (1.0 - t) * 0.25 + t * t * 0.140625;
    let k = sd / var.sqrt();
    for ((v, n), b) in buf.iter_mut().zip(&w).zip(&bl) {
        *v += k * ((1.0 - t) * n + t * b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_noise_is_standard_normal() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut buf = vec![0.0f32; 200_000];
        add_noise(&mut buf, 1.0, &mut rng, normal_table());
        let n = buf.len() as f64;
        let mean = buf.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = buf.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var.sqrt() - 1.0).abs() < 0.01, "{var}");
        // About 68.3 % within one SD, 95.4 % within two.
        let w1 = buf.iter().filter(|x| x.abs() < 1.0).count() as f64 / n;
        let w2 = buf.iter().filter(|x| x.abs() < 2.0).count() as f64 / n;
        assert!(
            (w1 - 0.6827).abs() < 0.01 && (w2 - 0.9545).abs() < 0.005,
            "{w1} {w2}"
        );
        assert!((inv_normal_cdf(0.975) - 1.959964).abs() < 1e-6);
    }

    #[test]
    fn textured_noise_keeps_its_sd_and_correlates_neighbours() {
        let (nr, nc) = (300, 300);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut buf = vec![0.0f32; nr * nc];
        add_textured_noise(&mut buf, 10.0, 0.8, nr, nc, &mut rng, normal_table());
        let n = buf.len() as f64;
        let mean = buf.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = buf.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!((var.sqrt() - 10.0).abs() < 0.3, "{}", var.sqrt());
        // Neighbour correlation: white noise ~0, this texture clearly positive.
        let mut c = 0.0;
        for j in 0..nr {
            for i in 0..nc - 1 {
                c += (buf[j * nc + i] as f64 - mean) * (buf[j * nc + i + 1] as f64 - mean);
            }
        }
        let r = c / (nr * (nc - 1)) as f64 / var;
        assert!(r > 0.3, "{r}");
    }
}
