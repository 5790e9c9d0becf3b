//! Binary morphology on `[slice, row, column]` grids: connected components, hole
//! filling, erosion, and the exact Euclidean distance transform in millimetres
//! (Felzenszwalb & Huttenlocher 2012, separable, anisotropic spacing).

use ndarray::{Array3, Axis, Slice, Zip};
use rayon::prelude::*;
use std::collections::VecDeque;

/// 6-connected neighbours of `[k, j, i]` inside `dim`.
#[inline]
pub fn neighbours6(p: [usize; 3], dim: (usize, usize, usize)) -> impl Iterator<Item = [usize; 3]> {
    let (nk, nj, ni) = dim;
    let [k, j, i] = p;
    let c = [
        (k > 0).then(|| [k - 1, j, i]),
        (k + 1 < nk).then(|| [k + 1, j, i]),
        (j > 0).then(|| [k, j - 1, i]),
        (j + 1 < nj).then(|| [k, j + 1, i]),
        (i > 0).then(|| [k, j, i - 1]),
        (i + 1 < ni).then(|| [k, j, i + 1]),
    ];
    c.into_iter().flatten()
}

/// The voxels of the cube of half-width `r` around `p` that lie inside `dim`, each with
/// its offset `[dk, dj, di]` from `p`, in scan order (k outermost, i innermost).
pub fn cube(
    p: [usize; 3],
    r: i64,
    dim: (usize, usize, usize),
) -> impl Iterator<Item = ([usize; 3], [i64; 3])> {
    let lim = [dim.0 as i64, dim.1 as i64, dim.2 as i64];
    (-r..=r)
        .flat_map(move |dk| (-r..=r).flat_map(move |dj| (-r..=r).map(move |di| [dk, dj, di])))
        .filter_map(move |d| {
            let q = [p[0] as i64 + d[0], p[1] as i64 + d[1], p[2] as i64 + d[2]];
            (0..3)
                .all(|a| q[a] >= 0 && q[a] < lim[a])
                .then(|| ([q[0] as usize, q[1] as usize, q[2] as usize], d))
        })
}

/// The 6-connected component of `mask` that contains `seed` (empty if the seed is off).
pub fn component_containing(mask: &Array3<bool>, seed: [usize; 3]) -> Array3<bool> {
    let dim = mask.dim();
    let mut out = Array3::from_elem(dim, false);
    if seed[0] >= dim.0 || seed[1] >= dim.1 || seed[2] >= dim.2 || !mask[seed] {
        return out;
    }
    let mut q = VecDeque::from([seed]);
    out[seed] = true;
    while let Some(p) = q.pop_front() {
        for n in neighbours6(p, dim) {
            if mask[n] && !out[n] {
                out[n] = true;
                q.push_back(n);
            }
        }
    }
    out
}

/// Label the 6-connected components (1-based; 0 = background). Returns labels and the
/// voxel count of each label (index 0 unused).
pub fn label_components(mask: &Array3<bool>) -> (Array3<u32>, Vec<usize>) {
    let dim = mask.dim();
    let mut labels = Array3::<u32>::zeros(dim);
    let mut sizes = vec![0usize];
    let mut q = VecDeque::new();
    for k in 0..dim.0 {
        for j in 0..dim.1 {
            for i in 0..dim.2 {
                if !mask[[k, j, i]] || labels[[k, j, i]] != 0 {
                    continue;
                }
                let l = sizes.len() as u32;
                let mut n = 0usize;
                labels[[k, j, i]] = l;
                q.push_back([k, j, i]);
                while let Some(p) = q.pop_front() {
                    n += 1;
                    for nb in neighbours6(p, dim) {
                        if mask[nb] && labels[nb] == 0 {
                            labels[nb] = l;
                            q.push_back(nb);
                        }
                    }
                }
                sizes.push(n);
            }
        }
    }
    (labels, sizes)
}

/// Fill cavities: background voxels not 6-connected to the grid border become set.
pub fn fill_holes(mask: &Array3<bool>) -> Array3<bool> {
    let dim = mask.dim();
    let (nk, nj, ni) = dim;
    let mut outside = Array3::from_elem(dim, false);
    let mut q = VecDeque::new();
    for k in 0..nk {
        for j in 0..nj {
            for i in 0..ni {
                let border = k == 0 || j == 0 || i == 0 || k + 1 == nk || j + 1 == nj || i + 1 == ni;
                if border && !mask[[k, j, i]] {
                    outside[[k, j, i]] = true;
                    q.push_back([k, j, i]);
                }
            }
        }
    }
    while let Some(p) = q.pop_front() {
        for n in neighbours6(p, dim) {
            if !mask[n] && !outside[n] {
                outside[n] = true;
                q.push_back(n);
            }
        }
    }
    outside.mapv(|o| !o)
}

/// Fill holes slice by slice (2D, 4-connected background from the slice border): closes
/// cavities open at the top or bottom slice that a 3D fill cannot reach.
pub fn fill_holes_2d(mask: &Array3<bool>) -> Array3<bool> {
    let (nk, nj, ni) = mask.dim();
    let mut out = mask.clone();
    let mut outside = vec![false; nj * ni];
    let mut q = VecDeque::new();
    for k in 0..nk {
        outside.iter_mut().for_each(|v| *v = false);
        for j in 0..nj {
            for i in 0..ni {
                if (j == 0 || i == 0 || j + 1 == nj || i + 1 == ni) && !mask[[k, j, i]] {
                    outside[j * ni + i] = true;
                    q.push_back((j, i));
                }
            }
        }
        while let Some((j, i)) = q.pop_front() {
            let cand = [
                (j > 0).then(|| (j - 1, i)),
                (j + 1 < nj).then(|| (j + 1, i)),
                (i > 0).then(|| (j, i - 1)),
                (i + 1 < ni).then(|| (j, i + 1)),
            ];
            for (a, b) in cand.into_iter().flatten() {
                if !mask[[k, a, b]] && !outside[a * ni + b] {
                    outside[a * ni + b] = true;
                    q.push_back((a, b));
                }
            }
        }
        for j in 0..nj {
            for i in 0..ni {
                if !outside[j * ni + i] {
                    out[[k, j, i]] = true;
                }
            }
        }
    }
    out
}

/// Erode by `iterations` steps of the 6-neighbourhood (voxels on the grid border erode).
pub fn erode(mask: &Array3<bool>, iterations: usize) -> Array3<bool> {
    let mut m = mask.clone();
    for _ in 0..iterations {
        // A voxel stays when it and its six neighbours are set: the AND of the mask
        // shifted by one along each axis both ways (whole-array passes, in parallel).
        let prev = m.clone();
        combine_shifted(&mut m, &prev, |o, p| *o &= p);
        for a in 0..3 {
            let n = m.len_of(Axis(a));
            if n > 0 {
                m.index_axis_mut(Axis(a), 0).fill(false);
                m.index_axis_mut(Axis(a), n - 1).fill(false);
            }
        }
    }
    m
}

/// Dilate by `iterations` steps of the 6-neighbourhood.
pub fn dilate(mask: &Array3<bool>, iterations: usize) -> Array3<bool> {
    let mut m = mask.clone();
    for _ in 0..iterations {
        // Set when it or a neighbour inside the grid is set (the grid edge adds nothing).
        let prev = m.clone();
        combine_shifted(&mut m, &prev, |o, p| *o |= p);
    }
    m
}

/// `f(m[v], prev[v ± 1 along each axis])` for every voxel whose neighbour is in the grid.
fn combine_shifted(m: &mut Array3<bool>, prev: &Array3<bool>, f: impl Fn(&mut bool, bool) + Sync) {
    let (head, tail) = (Slice::new(0, Some(-1), 1), Slice::new(1, None, 1));
    for a in 0..3 {
        if m.len_of(Axis(a)) < 2 {
            continue;
        }
        for (to, from) in [(tail, head), (head, tail)] {
            Zip::from(m.slice_axis_mut(Axis(a), to))
                .and(prev.slice_axis(Axis(a), from))
                .par_for_each(|o, &p| f(o, p));
        }
    }
}

/// 1D squared distance transform of `f` (0 at background, ∞ at foreground) with sample
/// spacing `w` mm; background is also assumed just outside both ends. `v`, `fv`, `z` are
/// scratch buffers (parabola positions, their heights, and the envelope boundaries).
///
/// `origin` is the index of `f[0]` on the whole line: positions are `(origin + q)·w`, so
/// a line cut out of a longer one (with the background sample just outside the cut on
/// each side that is not the line's end) gives the same bits as the whole line.
fn dt1d(
    f: &[f64],
    origin: usize,
    w: f64,
    out: &mut [f64],
    v: &mut Vec<f64>,
    fv: &mut Vec<f64>,
    z: &mut Vec<f64>,
) {
    let n = f.len();
    v.clear();
    fv.clear();
    z.clear();
    // Lower envelope of parabolas y = (x − q)² + f(q), for finite samples only.
    let mut add = |q: f64, fq: f64| loop {
        match (v.last(), fv.last()) {
            (Some(&lq), Some(&lf)) => {
                let s = ((fq + q * q) - (lf + lq * lq)) / (2.0 * (q - lq));
                if z.last().is_some_and(|&zl| s <= zl) {
                    v.pop();
                    fv.pop();
                    z.pop();
                    continue;
                }
                z.push(s);
                v.push(q);
                fv.push(fq);
                return;
            }
            _ => {
                v.push(q);
                fv.push(fq);
                return;
            }
        }
    };
    add((origin as f64 - 1.0) * w, 0.0);
    for (q, &fq) in f.iter().enumerate() {
        if fq.is_finite() {
            add((origin + q) as f64 * w, fq);
        }
    }
    add((origin + n) as f64 * w, 0.0);
    // z[i] separates parabola i from i + 1.
    let mut k = 0usize;
    for (q, o) in out.iter_mut().enumerate() {
        let x = (origin + q) as f64 * w;
        while k < z.len() && z[k] < x {
            k += 1;
        }
        let d = x - v[k];
        *o = d * d + fv[k];
    }
}

/// Distance (mm) from every set voxel to the nearest unset voxel or the grid outside;
/// 0 on unset voxels. `spacing_kji` = spacing along slices, rows, columns.
///
/// Separable (Felzenszwalb–Huttenlocher): one exact 1D pass per axis. Every line of a
/// pass is independent, so the lines run in parallel (by slice for the in-plane axes, by
/// row for the slice axis); each is computed exactly as serially, so the result does not
/// depend on the thread count.
pub fn edt_mm(mask: &Array3<bool>, spacing_kji: [f64; 3]) -> Array3<f32> {
    // Only the set voxels' bounding box and one voxel around it (clamped to the grid)
    // is transformed: the voxels beyond are unset, so every line out there is 0, and on a
    // line through the box the unset voxel just outside the cut stands for all the unset
    // ones beyond it (their parabolas lie outside the envelope inside the cut, which
    // `dt1d`'s `origin` keeps at the same positions) — the same bits as the whole grid,
    // with passes over the mask's region instead of the box.
    let dim = mask.dim();
    let n = [dim.0, dim.1, dim.2];
    let mut lo = n;
    let mut hi = [0usize; 3];
    for ((k, j, i), &b) in mask.indexed_iter() {
        if b {
            for (a, x) in [k, j, i].into_iter().enumerate() {
                lo[a] = lo[a].min(x);
                hi[a] = hi[a].max(x + 1);
            }
        }
    }
    let mut out = Array3::<f32>::zeros(dim);
    if (0..3).any(|a| lo[a] >= hi[a]) {
        return out;
    }
    let lo = lo.map(|x| x.saturating_sub(1));
    let hi = [0, 1, 2].map(|a| (hi[a] + 1).min(n[a]));
    let cut = ndarray::s![lo[0]..hi[0], lo[1]..hi[1], lo[2]..hi[2]];
    let d = edt_sq_cut(mask.slice(cut), lo, spacing_kji);
    Zip::from(out.slice_mut(cut))
        .and(&d)
        .par_for_each(|o, &x| *o = x.sqrt() as f32);
    out
}

/// Squared distances of [`edt_mm`] on `mask`, a cut of a grid whose index `origin`
/// (per axis) is the cut's first voxel.
fn edt_sq_cut(mask: ndarray::ArrayView3<bool>, origin: [usize; 3], spacing_kji: [f64; 3]) -> Array3<f64> {
    let big = f64::INFINITY;
    let mut d = Zip::from(mask).par_map_collect(|&b| if b { big } else { 0.0 });
    for (axis, &w) in spacing_kji.iter().enumerate() {
        // Lines along `axis`, grouped by an outer axis they do not run along.
        let (outer, inner) = if axis == 0 { (1, 0) } else { (0, axis - 1) };
        let o = origin[axis];
        d.axis_iter_mut(Axis(outer)).into_par_iter().for_each_init(
            || (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()),
            |(line, out, v, fv, z), mut group| {
                for mut lane in group.lanes_mut(Axis(inner)) {
                    line.clear();
                    line.extend(lane.iter().copied());
                    // A line of background stays 0 (each sample is its own nearest).
                    if line.iter().all(|&x| x == 0.0) {
                        continue;
                    }
                    out.resize(line.len(), 0.0);
                    dt1d(line, o, w, out, v, fv, z);
                    for (a, b) in lane.iter_mut().zip(out.iter()) {
                        *a = *b;
                    }
                }
            },
        );
    }
    d
}

#[cfg(test)]
mod tests {
    #[test]
    fn cube_clips_to_the_grid_in_scan_order() {
        let all: Vec<_> = super::cube([1, 1, 1], 1, (3, 3, 3)).collect();
        assert_eq!(all.len(), 27);
        assert_eq!(all[0], ([0, 0, 0], [-1, -1, -1]));
        assert_eq!(all[1], ([0, 0, 1], [-1, -1, 0]));
        assert_eq!(all[26], ([2, 2, 2], [1, 1, 1]));
        // At a corner of a 2 × 5 × 4 grid only the inside part of the 5³ cube.
        let c: Vec<_> = super::cube([0, 4, 3], 2, (2, 5, 4)).collect();
        assert_eq!(c.len(), 2 * 3 * 3);
        assert!(c.iter().all(|(q, d)| q[0] < 2
            && q[1] < 5
            && q[2] < 4
            && q[0] as i64 == d[0]
            && q[1] as i64 == 4 + d[1]
            && q[2] as i64 == 3 + d[2]));
    }

    use super::*;

    #[test]
    fn edt_of_a_ball_is_radius_minus_r() {
        let sp = [2.0, 1.0, 1.0];
        let (nk, nj, ni) = (21, 41, 41);
        let r = 15.0;
        let m = Array3::from_shape_fn((nk, nj, ni), |(k, j, i)| {
            let (z, y, x) = ((k as f64 - 10.0) * sp[0], j as f64 - 20.0, i as f64 - 20.0);
            x * x + y * y + z * z <= r * r
        });
        let d = edt_mm(&m, sp);
        // Centre: nearest unset voxel lies just beyond the radius along x or y.
        assert!(
            (d[[10, 20, 20]] as f64 - 16.0).abs() <= 1.0,
            "{}",
            d[[10, 20, 20]]
        );
        // Brute force check on a few voxels.
        for &(k, j, i) in &[(10usize, 20usize, 30usize), (13, 25, 18), (10, 8, 20)] {
            let mut best = f64::INFINITY;
            for ((kk, jj, ii), &b) in m.indexed_iter() {
                if !b {
                    let dz = (kk as f64 - k as f64) * sp[0];
                    let dy = jj as f64 - j as f64;
                    let dx = ii as f64 - i as f64;
                    best = best.min((dx * dx + dy * dy + dz * dz).sqrt());
                }
            }
            assert!(
                (d[[k, j, i]] as f64 - best).abs() < 1e-4,
                "{k} {j} {i}: {} vs {best}",
                d[[k, j, i]]
            );
        }
    }

    /// Erosion and dilation as the per-voxel loops defined them before the whole-array
    /// passes: the references for `erode` and `dilate`.
    fn erode_reference(mask: &Array3<bool>, iterations: usize) -> Array3<bool> {
        let mut m = mask.clone();
        let dim = m.dim();
        for _ in 0..iterations {
            let prev = m.clone();
            for ((k, j, i), v) in m.indexed_iter_mut() {
                let border = k == 0 || j == 0 || i == 0 || k + 1 == dim.0 || j + 1 == dim.1 || i + 1 == dim.2;
                if *v && (border || neighbours6([k, j, i], dim).any(|n| !prev[n])) {
                    *v = false;
                }
            }
        }
        m
    }

    fn dilate_reference(mask: &Array3<bool>, iterations: usize) -> Array3<bool> {
        let mut m = mask.mapv(|b| !b);
        let dim = m.dim();
        for _ in 0..iterations {
            let prev = m.clone();
            for ((k, j, i), v) in m.indexed_iter_mut() {
                if *v && neighbours6([k, j, i], dim).any(|n| !prev[n]) {
                    *v = false;
                }
            }
        }
        m.mapv(|b| !b)
    }

    #[test]
    fn erode_and_dilate_match_the_per_voxel_definition() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for (dim, p) in [
            ((1, 9, 7), 0.5),
            ((2, 1, 5), 0.5),
            ((8, 13, 11), 0.1),
            ((9, 10, 12), 0.8),
        ] {
            let m = Array3::from_shape_fn(dim, |_| rng.random_bool(p));
            for it in 0..3 {
                assert_eq!(
                    erode(&m, it),
                    erode_reference(&m, it),
                    "erode {dim:?} p={p} it={it}"
                );
                assert_eq!(
                    dilate(&m, it),
                    dilate_reference(&m, it),
                    "dilate {dim:?} p={p} it={it}"
                );
            }
        }
    }

    /// The serial pass order edt_mm had before it ran lines in parallel (and before the
    /// background-line shortcut): the reference the parallel one must equal bit for bit.
    fn edt_mm_serial(mask: &Array3<bool>, spacing_kji: [f64; 3]) -> Array3<f32> {
        let mut d = mask.mapv(|b| if b { f64::INFINITY } else { 0.0 });
        let (mut v, mut fv, mut z) = (Vec::new(), Vec::new(), Vec::new());
        for (axis, &w) in spacing_kji.iter().enumerate() {
            let n = d.len_of(Axis(axis));
            let (mut line, mut out) = (vec![0.0; n], vec![0.0; n]);
            for mut lane in d.lanes_mut(Axis(axis)) {
                for (a, b) in line.iter_mut().zip(lane.iter()) {
                    *a = *b;
                }
                dt1d(&line, 0, w, &mut out, &mut v, &mut fv, &mut z);
                for (a, b) in lane.iter_mut().zip(&out) {
                    *a = *b;
                }
            }
        }
        d.mapv(|x| x.sqrt() as f32)
    }

    #[test]
    fn parallel_edt_is_bit_identical_to_the_serial_passes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
        // Sparse and dense masks (many all-background and all-foreground lines), odd
        // sizes, the spacings the stages use (in-plane only: 1e6 along slices).
        for (dim, p) in [((7, 33, 29), 0.05), ((13, 17, 40), 0.5), ((9, 21, 21), 0.97)] {
            let m = Array3::from_shape_fn(dim, |_| rng.random_bool(p));
            for sp in [
                [0.8, 0.75, 0.75],
                [2.5, 0.7, 0.7],
                [1.0e6, 0.75, 0.75],
                [1.0, 1.0, 1.0],
            ] {
                let (a, b) = (edt_mm(&m, sp), edt_mm_serial(&m, sp));
                assert!(
                    a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{dim:?} p={p} sp={sp:?}"
                );
            }
        }
    }

    /// A mask in a corner, in the middle and at a face of a larger grid: the transform
    /// of the cut around it (with spacings whose multiples round) equals the whole
    /// grid's, bit for bit.
    #[test]
    fn edt_on_the_masks_box_is_bit_identical_to_the_whole_grid() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let dim = (23, 37, 41);
        for (lo, hi) in [
            ([0, 0, 0], [6, 9, 11]),
            ([8, 12, 15], [15, 25, 30]),
            ([3, 20, 0], [20, 37, 17]),
        ] {
            let m = Array3::from_shape_fn(dim, |(k, j, i)| {
                let p = [k, j, i];
                (0..3).all(|a| p[a] >= lo[a] && p[a] < hi[a]) && rng.random_bool(0.85)
            });
            for sp in [
                [0.742188, 0.742188, 0.742188],
                [2.5, 0.7, 0.7],
                [1.0e6, 0.683594, 0.683594],
            ] {
                let (a, b) = (edt_mm(&m, sp), edt_mm_serial(&m, sp));
                assert!(
                    a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{lo:?}..{hi:?} sp={sp:?}"
                );
            }
        }
        assert!(edt_mm(&Array3::from_elem(dim, false), [1.0; 3])
            .iter()
            .all(|&x| x == 0.0));
    }

    #[test]
    fn edt_counts_the_grid_outside_as_background() {
        let m = Array3::from_elem((5, 5, 5), true);
        let d = edt_mm(&m, [1.0, 1.0, 1.0]);
        assert!((d[[2, 2, 2]] - 3.0).abs() < 1e-6);
        assert!((d[[0, 2, 2]] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn holes_components_erosion() {
        let mut m = Array3::from_elem((7, 7, 7), false);
        for k in 1..6 {
            for j in 1..6 {
                for i in 1..6 {
                    m[[k, j, i]] = true;
                }
            }
        }
        m[[3, 3, 3]] = false;
        let f = fill_holes(&m);
        assert!(f[[3, 3, 3]]);
        assert_eq!(f.iter().filter(|&&b| b).count(), 125);
        let e = erode(&f, 1);
        assert_eq!(e.iter().filter(|&&b| b).count(), 27);
        let d = dilate(&e, 1);
        assert_eq!(d.iter().filter(|&&b| b).count(), 27 + 6 * 9);
        let mut two = f.clone();
        two[[0, 0, 0]] = true;
        let (_, sizes) = label_components(&two);
        let mut s = sizes[1..].to_vec();
        s.sort();
        assert_eq!(s, vec![1, 125]);
        assert_eq!(
            component_containing(&two, [3, 3, 3])
                .iter()
                .filter(|&&b| b)
                .count(),
            125
        );
    }
}
