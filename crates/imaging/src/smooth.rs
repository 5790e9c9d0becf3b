//! Gaussian smoothing, one home for every variant the pipeline uses: separable FIR on a
//! 3D grid with a physical σ ([`gaussian_smooth`], whose kernels the Hessian shares), its
//! recursive counterpart with a cost independent of σ ([`gaussian_recursive`]), a
//! NaN-aware 3D version ([`smooth_nan`]) and a NaN-aware 2D version for small square
//! patches ([`gaussian2d_nan`]).

use ndarray::Array3;
use rayon::prelude::*;

/// Sampled Gaussian kernels (order 0, 1, 2) of standard deviation `s` voxels, truncated at
/// 4σ (3σ loses 1% of the second-derivative mass) and corrected so that the discrete
/// moments are exact: Σg₀ = 1, Σx·g₁ = −1, Σg₂ = 0, Σx²·g₂ = 2.
pub(crate) fn kernels(s: f64) -> [Vec<f32>; 3] {
    let s = s.max(0.3);
    let r = (4.0 * s).ceil().max(1.0) as i64;
    let xs: Vec<f64> = (-r..=r).map(|x| x as f64).collect();
    let g: Vec<f64> = xs.iter().map(|x| (-x * x / (2.0 * s * s)).exp()).collect();
    let sum: f64 = g.iter().sum();
    let g0: Vec<f64> = g.iter().map(|v| v / sum).collect();
    let mut g1: Vec<f64> = xs.iter().zip(&g0).map(|(x, v)| -x / (s * s) * v).collect();
    let m1: f64 = xs.iter().zip(&g1).map(|(x, v)| x * v).sum();
    if m1.abs() > 0.0 {
        g1.iter_mut().for_each(|v| *v *= -1.0 / m1);
    }
    let mut g2: Vec<f64> = xs
        .iter()
        .zip(&g0)
        .map(|(x, v)| (x * x / (s * s * s * s) - 1.0 / (s * s)) * v)
        .collect();
    // Remove the DC leak with a Gaussian-weighted correction (keeps the shape).
    let dc: f64 = g2.iter().sum();
    for (v, w) in g2.iter_mut().zip(&g0) {
        *v -= dc * w;
    }
    let m2: f64 = xs.iter().zip(&g2).map(|(x, v)| x * x * v).sum();
    if m2.abs() > 0.0 {
        g2.iter_mut().for_each(|v| *v *= 2.0 / m2);
    }
    let f = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
    [f(g0), f(g1), f(g2)]
}

/// Convolve along `axis` (0 = slices, 1 = rows, 2 = columns) with replicated borders. A
/// true convolution, so the first-derivative kernel gives +1 on a unit ramp.
///
/// Every output sums its taps in kernel order starting from 0 (the result is the same
/// bit for bit whatever the loop order), with the tap loop outside the voxel loop so the
/// inner loop is a contiguous `o += w·v` over a row or a cache-sized block of a plane,
/// which the compiler vectorises (a per-voxel dot product is one long dependent chain of
/// additions).
pub(crate) fn convolve_axis(input: &Array3<f32>, kernel: &[f32], axis: usize) -> Array3<f32> {
    let mut out = Array3::<f32>::zeros(input.dim());
    convolve_axis_into(input, kernel, axis, &mut out);
    out
}

/// [`convolve_axis`] into `out` (overwritten; a standard-layout array of the input's
/// shape, else it is replaced by one): lets a caller reuse its buffers instead of
/// allocating — and page-faulting in — a fresh volume per pass.
pub(crate) fn convolve_axis_into(input: &Array3<f32>, kernel: &[f32], axis: usize, out: &mut Array3<f32>) {
    let (nk, nj, ni) = input.dim();
    let plane = nj * ni;
    // Each plane is zeroed by the thread that fills it (below), not in a serial pass
    // first: on a fresh buffer that pass is also where every page faults in.
    if out.dim() != input.dim() || !out.is_standard_layout() {
        *out = Array3::<f32>::zeros(input.dim());
    }
    if plane == 0 || nk == 0 {
        return;
    }
    let input = input.as_standard_layout();
    let (Some(src), Some(dst)) = (input.as_slice(), out.as_slice_mut()) else {
        // Both are standard layout by construction.
        return;
    };
    let r = (kernel.len() / 2) as i64;
    // Kernel index t ↔ offset (t − r); out[x] = Σ_t k[t]·in[x − (t − r)] (true convolution).
    let clamp = |x: i64, n: usize| x.clamp(0, n as i64 - 1) as usize;
    match axis {
        0 => {
            // Blocks of a plane small enough to stay in L1 across the taps.
            const BLOCK: usize = 2048;
            dst.par_chunks_mut(plane).enumerate().for_each(|(k, op)| {
                op.fill(0.0);
                for b0 in (0..plane).step_by(BLOCK) {
                    let b1 = (b0 + BLOCK).min(plane);
                    let o = &mut op[b0..b1];
                    for (t, &w) in kernel.iter().enumerate() {
                        let sk = clamp(k as i64 - (t as i64 - r), nk);
                        axpy(o, &src[sk * plane + b0..sk * plane + b1], w);
                    }
                }
            });
        }
        1 => {
            dst.par_chunks_mut(plane).enumerate().for_each(|(k, op)| {
                op.fill(0.0);
                let ip = &src[k * plane..(k + 1) * plane];
                for (j, o) in op.chunks_exact_mut(ni).enumerate() {
                    for (t, &w) in kernel.iter().enumerate() {
                        let sj = clamp(j as i64 - (t as i64 - r), nj);
                        axpy(o, &ip[sj * ni..(sj + 1) * ni], w);
                    }
                }
            });
        }
        _ => {
            let ru = r as usize;
            dst.par_chunks_mut(plane).enumerate().for_each(|(k, op)| {
                op.fill(0.0);
                let ip = &src[k * plane..(k + 1) * plane];
                let mut padded = vec![0f32; ni + 2 * ru];
                for (srow, o) in ip.chunks_exact(ni).zip(op.chunks_exact_mut(ni)) {
                    for (p, v) in padded.iter_mut().enumerate() {
                        *v = srow[clamp(p as i64 - r, ni)];
                    }
                    // out[i] = Σ_t k[t]·in[i + r − t] = Σ_t k[t]·padded[i + 2r − t]
                    for (t, &w) in kernel.iter().enumerate() {
                        axpy(o, &padded[2 * ru - t..2 * ru - t + ni], w);
                    }
                }
            });
        }
    }
}

/// `o[n] += w · s[n]`: a separate multiply and add per element (never a fused
/// multiply-add, which rounds once instead of twice), so every instruction set gives the
/// same bits; 8 lanes with AVX where the CPU has it (checked once, at run time), else
/// the baseline's 4.
#[inline]
fn axpy(o: &mut [f32], s: &[f32], w: f32) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX (checked above).
            unsafe { axpy_avx(o, s, w) };
            return;
        }
    }
    axpy_plain(o, s, w);
}

#[inline(always)]
fn axpy_plain(o: &mut [f32], s: &[f32], w: f32) {
    for (o, &v) in o.iter_mut().zip(s) {
        *o += w * v;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn axpy_avx(o: &mut [f32], s: &[f32], w: f32) {
    axpy_plain(o, s, w);
}

/// Gaussian smoothing with a physical σ (mm) on a grid of spacing `spacing_ijk`.
pub fn gaussian_smooth(data: &Array3<f32>, spacing_ijk: [f64; 3], sigma_mm: f64) -> Array3<f32> {
    let [_, _, sk] = spacing_ijk;
    let first = convolve_axis(data, &kernels(sigma_mm / sk)[0], 0);
    let spare = Array3::<f32>::zeros(data.dim());
    smooth_rows_and_columns(first, spare, spacing_ijk, sigma_mm)
}

/// [`gaussian_smooth`] of a volume the caller gives away: its buffer is reused, so the
/// smoothing holds two volumes at a time instead of four.
pub fn gaussian_smooth_owned(data: Array3<f32>, spacing_ijk: [f64; 3], sigma_mm: f64) -> Array3<f32> {
    let [_, _, sk] = spacing_ijk;
    let mut first = Array3::<f32>::zeros(data.dim());
    convolve_axis_into(&data, &kernels(sigma_mm / sk)[0], 0, &mut first);
    smooth_rows_and_columns(first, data, spacing_ijk, sigma_mm)
}

/// The row and column passes of [`gaussian_smooth`] after its slice pass (`along_k`),
/// ping-ponging between that buffer and `spare` (same shape; overwritten).
fn smooth_rows_and_columns(
    mut along_k: Array3<f32>,
    mut spare: Array3<f32>,
    [si, sj, _]: [f64; 3],
    sigma_mm: f64,
) -> Array3<f32> {
    convolve_axis_into(&along_k, &kernels(sigma_mm / sj)[0], 1, &mut spare);
    convolve_axis_into(&spare, &kernels(sigma_mm / si)[0], 2, &mut along_k);
    along_k
}

/// Young & van Vliet (1995) recursive Gaussian coefficients for σ in samples:
/// `(B, b1/b0, b2/b0, b3/b0)`.
fn yvv_coefficients(sigma: f64) -> (f32, f32, f32, f32) {
    let s = sigma.max(0.5);
    let q = if s >= 2.5 {
        0.98711 * s - 0.96330
    } else {
        3.97156 - 4.14554 * (1.0 - 0.26891 * s).sqrt()
    };
    let b0 = 1.57825 + 2.44413 * q + 1.4281 * q * q + 0.422205 * q * q * q;
    let b1 = 2.44413 * q + 2.85619 * q * q + 1.26661 * q * q * q;
    let b2 = -(1.4281 * q * q + 1.26661 * q * q * q);
    let b3 = 0.422205 * q * q * q;
    let bb = 1.0 - (b1 + b2 + b3) / b0;
    (bb as f32, (b1 / b0) as f32, (b2 / b0) as f32, (b3 / b0) as f32)
}

/// Recursive Gaussian along one line held in `v` with stride `stride` (in place), with the
/// line's end values extended (steady-state start of both passes).
#[inline]
fn yvv_line(v: &mut [f32], n: usize, stride: usize, c: (f32, f32, f32, f32)) {
    if n == 0 {
        return;
    }
    let (bb, a1, a2, a3) = c;
    let (mut w1, mut w2, mut w3) = (v[0], v[0], v[0]);
    for t in 0..n {
        let x = v[t * stride];
        let w = bb * x + a1 * w1 + a2 * w2 + a3 * w3;
        v[t * stride] = w;
        w3 = w2;
        w2 = w1;
        w1 = w;
    }
    let last = v[(n - 1) * stride];
    let (mut y1, mut y2, mut y3) = (last, last, last);
    for t in (0..n).rev() {
        let w = v[t * stride];
        let y = bb * w + a1 * y1 + a2 * y2 + a3 * y3;
        v[t * stride] = y;
        y3 = y2;
        y2 = y1;
        y1 = y;
    }
}

/// Recursive (Young–van Vliet) Gaussian smoothing, σ in mm per axis; cost independent
/// of σ. Slices in parallel.
pub fn gaussian_recursive(data: &Array3<f32>, spacing_ijk: [f64; 3], sigma_mm: f64) -> Array3<f32> {
    let mut a = data.as_standard_layout().into_owned();
    let (nk, nj, ni) = a.dim();
    let [si, sj, sk] = spacing_ijk;
    let ci = yvv_coefficients(sigma_mm / si);
    let cj = yvv_coefficients(sigma_mm / sj);
    let ck = yvv_coefficients(sigma_mm / sk);
    let plane = nj * ni;
    if let Some(buf) = a.as_slice_mut() {
        // Along i and j: each slice independently.
        buf.par_chunks_mut(plane.max(1)).for_each(|sl| {
            for j in 0..nj {
                yvv_line(&mut sl[j * ni..(j + 1) * ni], ni, 1, ci);
            }
            for i in 0..ni {
                yvv_line(&mut sl[i..], nj, ni, cj);
            }
        });
    }
    // Along k: recursions over planes, vectorised across each row, rows in parallel.
    if nk > 1 {
        let mut t = Array3::<f32>::zeros((nj, nk, ni));
        for k in 0..nk {
            for j in 0..nj {
                for i in 0..ni {
                    t[[j, k, i]] = a[[k, j, i]];
                }
            }
        }
        if let Some(tb) = t.as_slice_mut() {
            tb.par_chunks_mut((nk * ni).max(1)).for_each(|rows| {
                // rows: [k][i] for one j; run the recursion along k for every i at once.
                let (bb, a1, a2, a3) = ck;
                let mut w1 = rows[..ni].to_vec();
                let mut w2 = w1.clone();
                let mut w3 = w1.clone();
                for k in 0..nk {
                    let r = &mut rows[k * ni..(k + 1) * ni];
                    for i in 0..ni {
                        let w = bb * r[i] + a1 * w1[i] + a2 * w2[i] + a3 * w3[i];
                        r[i] = w;
                        w3[i] = w2[i];
                        w2[i] = w1[i];
                        w1[i] = w;
                    }
                }
                let mut y1 = rows[(nk - 1) * ni..].to_vec();
                let mut y2 = y1.clone();
                let mut y3 = y1.clone();
                for k in (0..nk).rev() {
                    let r = &mut rows[k * ni..(k + 1) * ni];
                    for i in 0..ni {
                        let y = bb * r[i] + a1 * y1[i] + a2 * y2[i] + a3 * y3[i];
                        r[i] = y;
                        y3[i] = y2[i];
                        y2[i] = y1[i];
                        y1[i] = y;
                    }
                }
            });
        }
        for k in 0..nk {
            for j in 0..nj {
                for i in 0..ni {
                    a[[k, j, i]] = t[[j, k, i]];
                }
            }
        }
    }
    a
}

/// Gaussian smoothing that ignores NaN (filled with the finite median first, NaN again
/// afterwards).
pub fn smooth_nan(a: &Array3<f32>, spacing_ijk: [f64; 3], sigma_mm: f64) -> Array3<f32> {
    let a = a.as_standard_layout();
    let Some(src) = a.as_slice() else {
        // Standard layout by construction.
        return a.into_owned();
    };
    let Some(med) = finite_median(src) else {
        return a.into_owned();
    };
    // The fill and the NaN restore run in parallel chunks: element-wise, so the same bits.
    let filled: Vec<f32> = src
        .par_iter()
        .map(|&v| if v.is_finite() { v } else { med })
        .collect();
    let Ok(filled) = Array3::from_shape_vec(a.dim(), filled) else {
        return a.into_owned();
    };
    let mut s = gaussian_smooth_owned(filled, spacing_ijk, sigma_mm);
    if let Some(out) = s.as_slice_mut() {
        out.par_chunks_mut(CHUNK)
            .zip(src.par_chunks(CHUNK))
            .for_each(|(o, v)| {
                for (o, &v) in o.iter_mut().zip(v) {
                    if !v.is_finite() {
                        *o = f32::NAN;
                    }
                }
            });
    }
    s
}

/// Elements per parallel chunk of the element-wise passes.
const CHUNK: usize = 1 << 16;

/// `f32` bits mapped to a `u32` whose unsigned order is [`f32::total_cmp`]'s order.
#[inline]
fn total_order_key(v: f32) -> u32 {
    let b = v.to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | 0x8000_0000
    }
}

/// The inverse of [`total_order_key`].
#[inline]
fn from_total_order_key(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & 0x7fff_ffff } else { !k })
}

/// Counts (65 536 buckets) of the finite values' [`total_order_key`]s by `bucket` (None:
/// not counted), in parallel chunks summed as integers.
fn key_histogram(src: &[f32], bucket: impl Fn(u32) -> Option<usize> + Sync) -> Vec<u32> {
    const B: usize = 1 << 16;
    src.par_chunks(CHUNK)
        .fold(
            || vec![0u32; B],
            |mut h, c| {
                for &v in c.iter().filter(|v| v.is_finite()) {
                    if let Some(b) = bucket(total_order_key(v)) {
                        h[b] += 1;
                    }
                }
                h
            },
        )
        .reduce(
            || vec![0u32; B],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    *x += y;
                }
                a
            },
        )
}

/// The element of rank `len / 2` of the finite values in [`f32::total_cmp`] order (the
/// value `select_nth_unstable_by(len / 2, total_cmp)` picks, bit for bit); `None` when
/// none is finite. A two-pass radix select on the ordered bits (high 16, then low 16
/// within the bucket holding that rank), histograms counted in parallel chunks and
/// summed (integer counts: the same whatever the split), instead of a serial copy and
/// selection of the whole box.
fn finite_median(src: &[f32]) -> Option<f32> {
    // Bucket holding rank `rank`, and the rank within it.
    let pick = |h: &[u32], mut rank: u64| -> Option<(usize, u64)> {
        for (b, &c) in h.iter().enumerate() {
            if rank < c as u64 {
                return Some((b, rank));
            }
            rank -= c as u64;
        }
        None
    };
    let high = key_histogram(src, |k| Some((k >> 16) as usize));
    let n: u64 = high.iter().map(|&c| c as u64).sum();
    if n == 0 {
        return None;
    }
    let (hb, rank) = pick(&high, n / 2)?;
    let low = key_histogram(src, |k| {
        ((k >> 16) as usize == hb).then_some((k & 0xffff) as usize)
    });
    let (lb, _) = pick(&low, rank)?;
    Some(from_total_order_key(((hb as u32) << 16) | lb as u32))
}

/// Half-width (3σ) and unnormalised taps of [`gaussian2d_nan`]'s kernel, σ in pixels.
fn gaussian2d_taps(sigma: f64) -> (usize, Vec<f32>) {
    let h = (3.0 * sigma).ceil() as usize;
    let k = (0..=2 * h)
        .map(|i| {
            let d = i as f64 - h as f64;
            (-(d * d) / (2.0 * sigma * sigma)).exp() as f32
        })
        .collect();
    (h, k)
}

/// Separable Gaussian (σ in pixels) on an n×n image; NaN (outside the volume) is
/// excluded from the weights.
pub fn gaussian2d_nan(img: &mut [f32], n: usize, sigma: f64) {
    if sigma < 0.3 || n == 0 {
        return;
    }
    let (h, k) = gaussian2d_taps(sigma);
    // One pass per axis, taps outer and pixels inner so the inner loop runs over
    // contiguous memory and vectorises: each output still adds its in-range finite taps in
    // kernel order from 0 (the sum the per-pixel loop made, bit for bit), a non-finite
    // tap leaving the sums as they were.
    let tap = |acc: &mut [f32], wsum: &mut [f32], src: &[f32], kw: f32| {
        for ((a, w), &v) in acc.iter_mut().zip(wsum.iter_mut()).zip(src) {
            let fin = v.is_finite();
            *a = if fin { *a + kw * v } else { *a };
            *w = if fin { *w + kw } else { *w };
        }
    };
    let finish = |dst: &mut [f32], acc: &[f32], wsum: &[f32], here: &[f32]| {
        for (((o, &a), &w), &v) in dst.iter_mut().zip(acc).zip(wsum).zip(here) {
            *o = if w > 0.0 && v.is_finite() { a / w } else { f32::NAN };
        }
    };
    let (mut acc, mut wsum) = (vec![0f32; n], vec![0f32; n]);
    let mut tmp = vec![f32::NAN; n * n];
    // Along rows: output q takes src[q + t − h] for the taps inside the row.
    for (row, out) in img.chunks_exact(n).zip(tmp.chunks_exact_mut(n)) {
        acc.fill(0.0);
        wsum.fill(0.0);
        for (t, &kw) in k.iter().enumerate() {
            // q + t − h in 0..n  ⇔  q in h−t .. n+h−t.
            let q0 = h.saturating_sub(t);
            let q1 = (n + h).saturating_sub(t).min(n);
            if q0 < q1 {
                let s0 = q0 + t - h;
                tap(&mut acc[q0..q1], &mut wsum[q0..q1], &row[s0..s0 + (q1 - q0)], kw);
            }
        }
        finish(out, &acc, &wsum, row);
    }
    // Along columns: output row q takes whole rows q + t − h of the first pass.
    for (q, out) in img.chunks_exact_mut(n).enumerate() {
        acc.fill(0.0);
        wsum.fill(0.0);
        for (t, &kw) in k.iter().enumerate() {
            let Some(r) = (q + t).checked_sub(h).filter(|&r| r < n) else {
                continue;
            };
            tap(&mut acc, &mut wsum, &tmp[r * n..(r + 1) * n], kw);
        }
        finish(out, &acc, &wsum, &tmp[q * n..(q + 1) * n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The radix-select median is the value a full selection in `total_cmp` order picks,
    /// bit for bit: negatives, ±0, ties, infinities (finite-filtered away) and NaN mixed in.
    #[test]
    fn finite_median_matches_selection() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for len in [1usize, 2, 3, 10, 1000, 70_001, 200_000] {
            let v: Vec<f32> = (0..len)
                .map(|_| match next() % 10 {
                    0 => f32::NAN,
                    1 => -0.0,
                    2 => 0.0,
                    3 => f32::INFINITY,
                    4 => (next() % 7) as f32 - 3.0,
                    _ => ((next() % 2_000_001) as f32 - 1.0e6) * 0.37,
                })
                .collect();
            let mut finite: Vec<f32> = v.iter().copied().filter(|v| v.is_finite()).collect();
            let want = if finite.is_empty() {
                None
            } else {
                let mid = finite.len() / 2;
                Some(*finite.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1)
            };
            let got = finite_median(&v);
            assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits), "len {len}");
        }
        assert_eq!(finite_median(&[f32::NAN, f32::INFINITY]), None);
        for v in [-3.5f32, -0.0, 0.0, 1e-40, f32::MAX, f32::MIN] {
            assert_eq!(from_total_order_key(total_order_key(v)).to_bits(), v.to_bits());
        }
    }

    /// `gaussian2d_nan` as the per-pixel loop defined it: the reference for the
    /// vectorised passes.
    fn gaussian2d_nan_reference(img: &mut [f32], n: usize, sigma: f64) {
        if sigma < 0.3 || n == 0 {
            return;
        }
        let (h, k) = gaussian2d_taps(sigma);
        let pass = |src: &[f32], dst: &mut [f32], stride: usize| {
            for line in 0..n {
                let base = if stride == 1 { line * n } else { line };
                for q in 0..n {
                    let (lo, hi) = (q.saturating_sub(h), (q + h).min(n - 1));
                    let (mut acc, mut wsum) = (0f32, 0f32);
                    for qq in lo..=hi {
                        let v = src[base + qq * stride];
                        if v.is_finite() {
                            acc += k[qq + h - q] * v;
                            wsum += k[qq + h - q];
                        }
                    }
                    let here = src[base + q * stride];
                    dst[base + q * stride] = if wsum > 0.0 && here.is_finite() {
                        acc / wsum
                    } else {
                        f32::NAN
                    };
                }
            }
        };
        let mut tmp = vec![f32::NAN; n * n];
        pass(img, &mut tmp, 1);
        pass(&tmp, img, n);
    }

    #[test]
    fn gaussian2d_nan_is_bit_identical_to_the_per_pixel_loop() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        // Kernels wider than the image too (h ≥ n), NaN borders and holes.
        for (n, sigma) in [(1, 1.0), (5, 2.0), (17, 0.8), (33, 1.5), (40, 4.0)] {
            let img: Vec<f32> = (0..n * n)
                .map(|p| {
                    let (j, i) = (p / n, p % n);
                    if i + j < n / 4 || rng.random_bool(0.05) {
                        f32::NAN
                    } else {
                        rng.random_range(-200.0..300.0)
                    }
                })
                .collect();
            let (mut a, mut b) = (img.clone(), img);
            gaussian2d_nan(&mut a, n, sigma);
            gaussian2d_nan_reference(&mut b, n, sigma);
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "n {n} σ {sigma}"
            );
        }
    }

    /// The convolution written per output voxel, taps summed in kernel order from 0: the
    /// definition [`convolve_axis`] must reproduce bit for bit.
    fn convolve_reference(a: &Array3<f32>, kernel: &[f32], axis: usize) -> Array3<f32> {
        let d = a.dim();
        let n = [d.0, d.1, d.2][axis] as i64;
        let r = (kernel.len() / 2) as i64;
        Array3::from_shape_fn(d, |(k, j, i)| {
            let mut acc = 0f32;
            for (t, &w) in kernel.iter().enumerate() {
                let mut at = [k, j, i];
                at[axis] = (at[axis] as i64 - (t as i64 - r)).clamp(0, n - 1) as usize;
                acc += w * a[at];
            }
            acc
        })
    }

    #[test]
    fn convolve_axis_is_bit_identical_to_the_per_voxel_sum() {
        // Odd sizes (not multiples of any vector width or block), borders inside the
        // kernel reach, a non-standard-layout input, and all three kernel orders.
        let a = Array3::from_shape_fn((7, 13, 2100), |(k, j, i)| {
            ((k * 31 + j * 7 + i * 13) % 97) as f32 * 1.37 - 40.0 + (i as f32 * 0.01).sin()
        });
        for s in [0.6, 2.3] {
            for kern in kernels(s) {
                for axis in 0..3 {
                    let got = convolve_axis(&a, &kern, axis);
                    let want = convolve_reference(&a, &kern, axis);
                    assert!(
                        got.iter()
                            .zip(want.iter())
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "σ {s} axis {axis}"
                    );
                }
                let mut t = Array3::<f32>::zeros(ndarray::ShapeBuilder::f(a.dim()));
                t.assign(&a);
                assert!(!t.is_standard_layout());
                let got = convolve_axis(&t, &kern, 1);
                let want = convolve_reference(&a, &kern, 1);
                assert_eq!(got, want);
            }
        }
    }

    /// The buffer-reusing smoothers against the three passes written out, bit for bit,
    /// and `smooth_nan` keeping its NaN.
    #[test]
    fn gaussian_smooth_reusing_buffers_is_bit_identical() {
        let a = Array3::from_shape_fn((9, 21, 17), |(k, j, i)| {
            ((k * 31 + j * 7 + i * 13) % 97) as f32 * 1.37 - 40.0
        });
        let (sp, sigma) = ([0.7, 0.8, 2.5], 2.5);
        let want = convolve_reference(
            &convolve_reference(
                &convolve_reference(&a, &kernels(sigma / sp[2])[0], 0),
                &kernels(sigma / sp[1])[0],
                1,
            ),
            &kernels(sigma / sp[0])[0],
            2,
        );
        let same = |x: &Array3<f32>| x.iter().zip(want.iter()).all(|(p, q)| p.to_bits() == q.to_bits());
        assert!(same(&gaussian_smooth(&a, sp, sigma)));
        assert!(same(&gaussian_smooth_owned(a.clone(), sp, sigma)));
        let mut holes = a.clone();
        holes[[4, 10, 8]] = f32::NAN;
        let s = smooth_nan(&holes, sp, sigma);
        assert!(s[[4, 10, 8]].is_nan());
        assert_eq!(s.iter().filter(|v| v.is_nan()).count(), 1);
    }

    #[test]
    fn gaussian2d_keeps_constants_and_mass_and_skips_nan() {
        let n = 31;
        // An impulse in the middle spreads to a normalised, symmetric Gaussian.
        let mut img = vec![0f32; n * n];
        img[15 * n + 15] = 1.0;
        gaussian2d_nan(&mut img, n, 2.0);
        let sum: f32 = img.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
        assert!((img[15 * n + 13] - img[15 * n + 17]).abs() < 1e-7);
        assert!((img[13 * n + 15] - img[15 * n + 13]).abs() < 1e-7);
        let g = |d: f32| (-(d * d) / 8.0).exp();
        assert!((img[15 * n + 17] / img[15 * n + 15] - g(2.0)).abs() < 1e-4);
        // A constant with a NaN region: finite pixels stay constant, NaN stays NaN.
        let mut c = vec![5f32; n * n];
        for v in c.iter_mut().take(3 * n) {
            *v = f32::NAN;
        }
        gaussian2d_nan(&mut c, n, 1.5);
        assert!(c[..3 * n].iter().all(|v| v.is_nan()));
        assert!(c[3 * n..].iter().all(|v| (v - 5.0).abs() < 1e-4));
    }
}
