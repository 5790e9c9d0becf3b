//! Is a voxel's value a mixture of the tissues around it?
//!
//! The features are smoothed (σ = 2.5 mm), so a voxel's value is a convex combination of
//! the tissues under the kernel: two at an edge, three where organs, fat and a vessel
//! meet. A voxel is explained when some mixture of at most three classes found nearby
//! (their well-explained voxels within [`LOCAL_RADIUS_VOX`]) lies within the tolerance
//! on every phase. Tumour values lie outside the mixtures of the normal tissues around
//! it (on CT the leiomyosarcoma's delayed value is above every neighbour's, on MRI its T1
//! pre value is between blood and parenchyma while its delayed value is above both).
//!
//! **Venous blood** is one more tissue, whatever its class: on the arterial phase each
//! vein carries its own mix of opacified and unopacified blood (infrarenal IVC, renal,
//! hepatic, gonadal and collateral veins all differ), but on the unenhanced and the
//! equilibrium phases blood is one pool. Its values are those of the IVC lumen's class;
//! on the arterial phase it may take any value between the unenhanced blood and the
//! brightest class (the aorta). Thin veins have no class of their own (too few
//! homogeneous seeds), so without this they would read as unexplained tissue and chain
//! the tumour to the renal and hepatic veins.

/// Classes whose well-explained voxels lie within this many search-grid voxels (2 mm:
/// about 2.4 σ of the feature smoothing, so every tissue that contributes to a voxel's
/// smoothed value) are mixed.
pub const LOCAL_RADIUS_VOX: usize = 3;

/// Most classes of one voxel's neighbourhood that are mixed (the nearest in value
/// first); more only cost time.
const MAX_LOCAL_CLASSES: usize = 8;

/// The venous blood pool, in tolerance units.
#[derive(Debug, Clone)]
pub struct BloodPool {
    /// Values on every phase (the arterial one is replaced by the range below).
    pub mean: Vec<f32>,
    /// Range of venous blood on the arterial phase: unenhanced blood to the brightest
    /// class.
    pub arterial_range: (f32, f32),
}

/// The tissues a voxel may be mixed from, in tolerance units.
pub struct Mixer {
    /// Class means divided by the phase tolerances.
    pub means: Vec<Vec<f32>>,
    pub blood: Option<BloodPool>,
    /// Phase index of the arterial phase, if any.
    pub arterial: Option<usize>,
    /// Largest distance (tolerance units, any phase) from a mixture that still explains.
    pub tolerance: f32,
}

/// One vertex of a mixture: a class, or the blood pool.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Vertex {
    Class(usize),
    Blood,
}

impl Mixer {
    fn value(&self, v: Vertex, c: usize) -> f32 {
        match v {
            Vertex::Class(n) => self.means[n][c],
            Vertex::Blood => self.blood.as_ref().map_or(f32::NAN, |b| b.mean[c]),
        }
    }

    /// Whether `f` (scaled) lies within the tolerance of a convex mixture of the
    /// vertices (1 to 3). The weights are the least-squares ones over the phases that the
    /// vertices fix (not the arterial one when blood takes part); with blood, the
    /// arterial value must lie in the range the mixture allows.
    pub fn explains(&self, verts: &[Vertex], f: &[f32]) -> bool {
        let has_blood = verts.contains(&Vertex::Blood);
        let skip = if has_blood { self.arterial } else { None };
        let nc = f.len();
        let used = |c: usize| Some(c) != skip;
        // Weights per vertex.
        let w: Vec<f32> = match verts.len() {
            1 => vec![1.0],
            2 => {
                let (a, b) = (verts[0], verts[1]);
                let (mut num, mut den) = (0.0f32, 0.0f32);
                for c in (0..nc).filter(|&c| used(c)) {
                    let d = self.value(b, c) - self.value(a, c);
                    num += (f[c] - self.value(a, c)) * d;
                    den += d * d;
                }
                let t = if den > 0.0 {
                    (num / den).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                vec![1.0 - t, t]
            }
            3 => {
                // f ≈ a + u (b − a) + v (c − a): 2×2 normal equations; outside the
                // triangle the nearest point lies on an edge, which the pairs test.
                let (a, b, cc) = (verts[0], verts[1], verts[2]);
                let (mut s11, mut s12, mut s22, mut r1, mut r2) = (0.0f32, 0.0, 0.0, 0.0, 0.0);
                for c in (0..nc).filter(|&c| used(c)) {
                    let a0 = self.value(a, c);
                    let d1 = self.value(b, c) - a0;
                    let d2 = self.value(cc, c) - a0;
                    let r = f[c] - a0;
                    s11 += d1 * d1;
                    s12 += d1 * d2;
                    s22 += d2 * d2;
                    r1 += d1 * r;
                    r2 += d2 * r;
                }
                let det = s11 * s22 - s12 * s12;
                if det.abs() <= 1e-6 * (s11 * s22).max(1e-12) {
                    return false;
                }
                let u = (r1 * s22 - r2 * s12) / det;
                let v = (s11 * r2 - s12 * r1) / det;
                if u < 0.0 || v < 0.0 || u + v > 1.0 {
                    return false;
                }
                vec![1.0 - u - v, u, v]
            }
            _ => return false,
        };
        for (c, &fc) in f.iter().enumerate() {
            if Some(c) == skip {
                continue;
            }
            let x: f32 = verts.iter().zip(&w).map(|(&v, &wt)| wt * self.value(v, c)).sum();
            if (x - fc).abs() > self.tolerance {
                return false;
            }
        }
        if let (Some(c), Some(b)) = (skip, &self.blood) {
            // The arterial value: the other vertices fixed, blood anywhere in its range.
            let (mut lo, mut hi) = (0.0f32, 0.0f32);
            for (&v, &wt) in verts.iter().zip(&w) {
                match v {
                    Vertex::Blood => {
                        lo += wt * b.arterial_range.0;
                        hi += wt * b.arterial_range.1;
                    }
                    Vertex::Class(n) => {
                        lo += wt * self.means[n][c];
                        hi += wt * self.means[n][c];
                    }
                }
            }
            if f[c] < lo - self.tolerance || f[c] > hi + self.tolerance {
                return false;
            }
        }
        true
    }

    /// Whether `f` is a mixture of at most three of the `local` classes (and the blood
    /// pool, when there is one).
    pub fn explains_locally(&self, local: &[usize], f: &[f32]) -> bool {
        let mut verts: Vec<Vertex> = local.iter().map(|&n| Vertex::Class(n)).collect();
        if verts.len() > MAX_LOCAL_CLASSES {
            // The nearest classes in value carry the mixture.
            let d = |v: &Vertex| -> f32 {
                (0..f.len())
                    .map(|c| (self.value(*v, c) - f[c]).abs())
                    .fold(0.0, f32::max)
            };
            verts.sort_by(|a, b| d(a).total_cmp(&d(b)));
            verts.truncate(MAX_LOCAL_CLASSES);
        }
        if self.blood.is_some() {
            verts.push(Vertex::Blood);
        }
        let n = verts.len();
        if verts.iter().any(|&v| self.explains(&[v], f)) {
            return true;
        }
        for a in 0..n {
            for b in a + 1..n {
                if self.explains(&[verts[a], verts[b]], f) {
                    return true;
                }
            }
        }
        for a in 0..n {
            for b in a + 1..n {
                for c in b + 1..n {
                    if self.explains(&[verts[a], verts[b], verts[c]], f) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mixer(blood: bool) -> Mixer {
        // Two phases plus an arterial one (index 1): fat, muscle, liver (CT-like, /6).
        let m = |v: [f32; 3]| v.iter().map(|x| x / 6.0).collect::<Vec<f32>>();
        Mixer {
            means: vec![
                m([-100.0, -100.0, -98.0]),
                m([50.0, 55.0, 62.0]),
                m([55.0, 70.0, 110.0]),
            ],
            blood: blood.then(|| BloodPool {
                mean: m([40.0, 0.0, 150.0]),
                arterial_range: (40.0 / 6.0, 300.0 / 6.0),
            }),
            arterial: Some(1),
            tolerance: 1.5,
        }
    }

    fn mix(a: [f32; 3], b: [f32; 3], c: [f32; 3], w: [f32; 3]) -> Vec<f32> {
        (0..3)
            .map(|i| (w[0] * a[i] + w[1] * b[i] + w[2] * c[i]) / 6.0)
            .collect()
    }

    #[test]
    fn three_tissue_mixtures_are_explained_and_others_are_not() {
        let mx = mixer(false);
        let (fat, muscle, liver) = ([-100.0, -100.0, -98.0], [50.0, 55.0, 62.0], [55.0, 70.0, 110.0]);
        let f = mix(fat, muscle, liver, [0.3, 0.3, 0.4]);
        assert!(mx.explains_locally(&[0, 1, 2], &f));
        // Without the liver among the neighbours it is not.
        assert!(!mx.explains_locally(&[0, 1], &f));
        // A tumour-like value above every class on the last phase is not a mixture.
        let t: Vec<f32> = [40.0, 90.0, 118.0].iter().map(|x| x / 6.0).collect();
        assert!(!mx.explains_locally(&[0, 1, 2], &t));
    }

    #[test]
    fn venous_blood_takes_any_arterial_value_in_its_range() {
        let mx = mixer(true);
        // A vein with half-opacified arterial blood, blended with fat.
        let vein = [40.0, 170.0, 150.0];
        let fat = [-100.0, -100.0, -98.0];
        let f: Vec<f32> = (0..3).map(|i| (0.6 * vein[i] + 0.4 * fat[i]) / 6.0).collect();
        assert!(mx.explains_locally(&[0], &f));
        assert!(!mixer(false).explains_locally(&[0], &f));
        // Arterial value beyond the brightest blood: not blood.
        let hot: Vec<f32> = [40.0, 400.0, 150.0].iter().map(|x| x / 6.0).collect();
        assert!(!mx.explains_locally(&[0, 1, 2], &hot));
    }
}
