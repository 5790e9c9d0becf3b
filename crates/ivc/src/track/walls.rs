//! Casting rays from a centre and finding the vein's wall on each: the step detector,
//! its half-level crossing and the thin-layer test ([`crate::layer`]).

use super::*;

/// The step detector's settings for one cast, the same on every ray.
struct RayScan {
    /// Phases read.
    nph: usize,
    /// Half-width of a wall's ramp, ray steps.
    span: usize,
    /// Detector statistic of a clear step.
    thr: f64,
    /// The thin-layer test's settings.
    layer_set: crate::layer::LayerSettings,
    /// Trace every layer fit.
    layer_debug: bool,
    /// Samples per ray.
    ns: usize,
    /// Half-distance of the step detector, ray steps.
    d: usize,
    /// Weight of each phase (inverse smoothed noise variance).
    w: Vec<f64>,
    /// A step has one direction (blood not contrast-bright).
    one_way: bool,
    /// Look for a thin layer against the wall.
    layered: bool,
    /// Steps wanted per ray.
    max_walls: usize,
}

impl Tracker<'_> {
    /// Wall distance along each ray from (cx, cy); NaN where no wall was found.
    /// `all_phases`: detect steps on every phase together (tumour-filled lumen).
    /// `layered`: where a thin layer of other tissue lies against the wall (two steps
    /// closer than the detector's reach), the inner step is the wall ([`crate::layer`]).
    pub(super) fn cast(
        &self,
        patches: &[Patch],
        cx: f64,
        cy: f64,
        all_phases: bool,
        layered: bool,
    ) -> Vec<f64> {
        self.cast_walls(patches, cx, cy, all_phases, layered, 1)
            .into_iter()
            .map(|w| w.first().copied().unwrap_or(f64::NAN))
            .collect()
    }

    /// Up to `max_walls` steps along each ray, inside out (see [`Tracker::cast`]).
    fn cast_walls(
        &self,
        patches: &[Patch],
        cx: f64,
        cy: f64,
        all_phases: bool,
        layered: bool,
        max_walls: usize,
    ) -> Vec<Vec<f64>> {
        let nph = if all_phases { patches.len() } else { 1 };
        let span = self.ramp_span();
        // Noise of one smoothed difference is √2 σ: in σ-normalised units the detector
        // statistic Σ w Δ² has mean 2·nph under noise alone; demand a clear step.
        let thr = 2.0 * nph as f64 + STEP_MIN_EXCESS;
        let layer_set = crate::layer::LayerSettings {
            step_mm: RAY_STEP_MM,
            blur_sd_mm: self.blur_var().sqrt(),
            corr_mm: (2.0 * std::f64::consts::PI).sqrt()
                * (self.sigma * self.sigma + self.vox(0) * self.vox(0) / 6.0).sqrt(),
            min_step: thr,
            min_gap_mm: LAYER_MIN_GAP_MM,
        };
        let layer_debug = layered && tracing::enabled!(tracing::Level::TRACE);
        let ns = (RMAX_MM / RAY_STEP_MM) as usize + 1;
        let d = (STEP_HALF_MM / RAY_STEP_MM) as usize;
        let w: Vec<f64> = (0..nph).map(|p| 1.0 / (self.snoise(p) as f64).powi(2)).collect();
        let one_way = !self.is_ct || self.unenhanced_ct();
        let scan = RayScan {
            nph,
            span,
            thr,
            layer_set,
            layer_debug,
            ns,
            d,
            w,
            one_way,
            layered,
            max_walls,
        };
        (0..NRAYS)
            .into_par_iter()
            .map(|m| {
                let t = theta(m);
                let (c, s) = (t.cos(), t.sin());
                let prof: Vec<Vec<f64>> = (0..nph)
                    .map(|p| {
                        (0..ns)
                            .map(|k| {
                                patches[p]
                                    .at(cx + c * k as f64 * RAY_STEP_MM, cy + s * k as f64 * RAY_STEP_MM)
                                    as f64
                            })
                            .collect()
                    })
                    .collect();
                self.walls_on_ray(&scan, &prof, m)
            })
            .collect()
    }

    /// Up to `max_walls` steps along ray `m` (its profile per phase, `prof`), inside out.
    fn walls_on_ray(&self, scan: &RayScan, prof: &[Vec<f64>], m: usize) -> Vec<f64> {
        let RayScan {
            nph,
            span,
            thr,
            ref layer_set,
            layer_debug,
            ns,
            d,
            ref w,
            one_way,
            layered,
            max_walls,
        } = *scan;
        let stat = |k: usize| -> f64 {
            (0..nph)
                .map(|p| {
                    let dd = prof[p][k - d] - prof[p][k + d];
                    w[p] * dd * dd
                })
                .sum()
        };
        let mut walls = Vec::new();
        let start = d.max((RAY_SKIP_MM / RAY_STEP_MM) as usize);
        let mut k = start;
        while k + d < ns && walls.len() < max_walls {
            let sk = stat(k);
            if !sk.is_finite() {
                break;
            }
            if sk < thr {
                k += 1;
                continue;
            }
            // The step's steepest point: climb to the first maximum of the
            // statistic (past it once it falls below STEP_PEAK_FRACTION of the best), so an
            // early crossing on the foot of the ramp does not bias the wall and a
            // second, stronger step further out (liver → fat) is not taken for
            // this one.
            // A step has one direction: where the differences turn (a thin
            // plane of fat between the vein and an isodense neighbour, blurred to
            // a valley), the step has ended, and the rise beyond is another
            // boundary, not this one. Only where blood is not contrast-bright
            // (native CT, MR): on opacified CT the rule let the hybrid phantom's
            // seeded track run on past the iliac confluence (31.2 mm "dilated").
            let dir0: Vec<f64> = (0..nph).map(|p| prof[p][k + d] - prof[p][k - d]).collect();
            let same_way = |kk: usize| -> bool {
                (0..nph)
                    .map(|p| w[p] * dir0[p] * (prof[p][kk + d] - prof[p][kk - d]))
                    .sum::<f64>()
                    > 0.0
            };
            let mut best = k;
            let mut peak = sk;
            let lim = (k + (STEP_CLIMB_MM / RAY_STEP_MM) as usize).min(ns - d - 1);
            let mut end = lim;
            for kk in k..=lim {
                let v = stat(kk);
                if !v.is_finite() || v < thr || v < STEP_PEAK_FRACTION * peak || (one_way && !same_way(kk)) {
                    end = kk;
                    break;
                }
                if v > peak {
                    peak = v;
                    best = kk;
                }
            }
            let mut layer = None;
            if layered {
                let lo = k.saturating_sub(span);
                let hi = (best + span).min(ns - 1);
                let fit = crate::layer::fit_layers(prof, w, lo, hi, layer_set);
                if layer_debug {
                    tracing::trace!(
                        "layer ray {m}: half {:.2} fit {fit:?}",
                        self.half_level(prof, w, best, d, ns)
                    );
                }
                layer = fit.filter(|f| f.accepted(layer_set));
            }
            // The next step starts past this one's reach (past the layer's outer
            // boundary, which is not another wall) and its falling tail.
            k = end.max(best + d) + 1;
            match layer {
                Some(f) => {
                    walls.push(f.inner_mm);
                    k = k.max((f.outer_mm / RAY_STEP_MM) as usize + d + 1);
                }
                None => walls.push(self.half_level(prof, w, best, d, ns)),
            }
            while k + d < ns && stat(k) >= thr.max(STEP_PEAK_FRACTION * peak) && (!one_way || same_way(k)) {
                k += 1;
            }
        }
        walls
    }

    /// Half-level crossing near step index `ke`, on the projection onto the step
    /// direction (one phase: the profile itself).
    fn half_level(&self, prof: &[Vec<f64>], w: &[f64], ke: usize, d: usize, ns: usize) -> f64 {
        let span = self.ramp_span();
        let lo = ke.saturating_sub(span);
        let hi = (ke + span).min(ns - 1);
        let delta: Vec<f64> = prof.iter().map(|p| p[hi] - p[lo]).collect();
        let q = |k: usize| -> f64 {
            prof.iter()
                .zip(&delta)
                .zip(w)
                .map(|((p, dl), wi)| wi * dl * p[k])
                .sum()
        };
        let level = 0.5 * (q(lo) + q(hi));
        // The crossing nearest the step peak.
        let mut best: Option<(f64, f64)> = None;
        for k in lo..hi {
            let (a, b) = (q(k) - level, q(k + 1) - level);
            if !(a.is_finite() && b.is_finite()) {
                continue;
            }
            if (a >= 0.0) != (b >= 0.0) || a == 0.0 {
                let f = if (a - b).abs() > 0.0 { a / (a - b) } else { 0.0 };
                let r = (k as f64 + f) * RAY_STEP_MM;
                let dist = (r - ke as f64 * RAY_STEP_MM).abs();
                if best.is_none_or(|(_, bd)| dist < bd) {
                    best = Some((r, dist));
                }
            }
        }
        let _ = d;
        best.map(|b| b.0).unwrap_or(ke as f64 * RAY_STEP_MM)
    }

    /// Wall distances of the NRAYS rays (θ = 2πm/NRAYS from +x toward +y) cast from
    /// (cx, cy) at height z, on the reference phase or on all phases (diagnostics).
    pub fn rays(&self, z: f64, cx: f64, cy: f64, all_phases: bool) -> Vec<f64> {
        let p = self.patches(cx, cy, z, all_phases);
        self.cast(&p, cx, cy, all_phases, false)
    }

    /// Half-width of a wall's ramp in ray steps: the step detector's reach plus the
    /// smoothing.
    fn ramp_span(&self) -> usize {
        ((STEP_HALF_MM + RAMP_REACH_SIGMAS * self.sigma) / RAY_STEP_MM) as usize
    }

    /// Wall distances on every phase together, a thin layer of other tissue against the
    /// wall told from the wall itself ([`crate::layer`]): the outer wall of a
    /// tumour-filled vein ([`crate::bridge`]).
    pub fn wall_rays(&self, z: f64, cx: f64, cy: f64) -> Vec<f64> {
        let p = self.patches(cx, cy, z, true);
        self.cast(&p, cx, cy, true, true)
    }

    /// As [`Tracker::wall_rays`], every step along each ray (up to `max_walls`, inside
    /// out): inside a heterogeneous tumour the first step is often within it, and the
    /// vein's wall is the one that agrees with its neighbours ([`crate::bridge`]).
    pub fn wall_candidates(&self, z: f64, cx: f64, cy: f64, max_walls: usize) -> Vec<Vec<f64>> {
        let p = self.patches(cx, cy, z, true);
        self.cast_walls(&p, cx, cy, true, true, max_walls)
    }

    pub(super) fn patches(&self, cx: f64, cy: f64, z: f64, all: bool) -> Vec<Patch> {
        let half = RMAX_MM + 2.0 * STEP_HALF_MM + PATCH_MARGIN_MM;
        let n = if all { self.phases.len() } else { 1 };
        (0..n)
            .map(|p| Patch::sample(self.phases[p].volume, cx, cy, z, half, self.pixel, self.sigma))
            .collect()
    }
}
