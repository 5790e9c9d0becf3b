//! One plane's contour from its rays: a free robust fit where the lumen is opacified,
//! else the previous shape scaled and shifted to the walls that are visible.

use super::*;

impl Tracker<'_> {
    /// Fit a contour at height z around the predicted centre. `prior`: the previous
    /// contour (continuity gate and the shape for bridging).
    pub fn contour_at(&self, z: f64, cx: f64, cy: f64, prior: Option<&Contour>) -> Option<Contour> {
        self.contour_at_ref(z, cx, cy, prior, None, prior)
    }

    /// As [`Tracker::contour_at`], with `ref_area`: the median area of the recent planes,
    /// against which a free fit that agrees poorly with its own rays must not jump, and
    /// `prev`, the plane just before (a free fit that its rays agree with may differ from
    /// the prior only as much as from one plane to the next).
    pub(super) fn contour_at_ref(
        &self,
        z: f64,
        cx: f64,
        cy: f64,
        prior: Option<&Contour>,
        ref_area: Option<f64>,
        prev: Option<&Contour>,
    ) -> Option<Contour> {
        let ref_patch = self.patches(cx, cy, z, false);
        // The centre is judged on the unsmoothed phase: smoothing mixes the wall of a
        // flattened (slit-like) lumen into its centre and would call it unopacified;
        // the disc median tames the noise.
        let raw = Patch::sample(
            self.phases[0].volume,
            cx,
            cy,
            z,
            CENTRE_PATCH_HALF_MM,
            self.pixel,
            0.0,
        );
        let centre_value = self.disc_median(&raw, cx, cy, CENTRE_DISC_MM);
        if !centre_value.is_finite() {
            return None;
        }
        // Opacified when the centre is within a noise-scaled margin of the blood value.
        let margin = blood_margin(self.snoise(0), self.blood);
        let opacified = centre_value >= self.blood - margin && self.matches_blood_elsewhere(cx, cy, z);
        let thetas: Vec<f64> = (0..NRAYS).map(theta).collect();
        let mut all_patches: Option<Vec<Patch>> = None;
        if opacified {
            // The reference phase first; where its walls do not give a contour, every
            // phase together when allowed (MRI: the venous phase barely separates blood
            // from liver, the others do).
            for all in [false, true] {
                if all && (!self.free_on_all_phases || self.phases.len() < 2) {
                    break;
                }
                let r = if all {
                    let p = self.patches(cx, cy, z, true);
                    let r = self.cast(&p, cx, cy, true, false);
                    all_patches = Some(p);
                    r
                } else {
                    self.cast(&ref_patch, cx, cy, false, false)
                };
                // First without the prior: where nearly every ray agrees with a free
                // fit, the wall is seen all round and the previous plane's shape must not
                // hold it back (a vein flattening by a few mm per plane lags behind a
                // chained fit).
                let own = self
                    .fit_free(&thetas, &r, cx, cy, z, None)
                    .filter(|c| c.inliers >= FREE_INLIERS && prev.is_none_or(|p| similar(c, p)));
                if let Some(c) = own
                    .or_else(|| self.fit_free(&thetas, &r, cx, cy, z, prior))
                    .filter(|c| match ref_area {
                        Some(a) if c.inliers < AGREEING_INLIERS => {
                            (REF_AREA_MIN..=REF_AREA_MAX).contains(&(c.area() / a.max(1.0)))
                        }
                        _ => true,
                    })
                {
                    return Some(Contour {
                        centre_value,
                        opacified,
                        ..c
                    });
                }
            }
        }
        let prior = prior?;
        // Tumour-filled (or failed) plane: walls on every phase, prior shape.
        let all = match all_patches {
            Some(p) => p,
            None => self.patches(cx, cy, z, true),
        };
        let r = self.cast(&all, cx, cy, true, false);
        let mut c = self.fit_scaled(&thetas, &r, cx, cy, z, prior);
        if let Some(a) = ref_area {
            if c.kind == ContourKind::Scaled
                && !(REF_AREA_MIN..=REF_AREA_MAX).contains(&(c.area() / a.max(1.0)))
            {
                c = self.fit_scaled(&thetas, &[f64::NAN; NRAYS], cx, cy, z, prior);
            }
        }
        Some(Contour {
            centre_value,
            opacified,
            ..c
        })
    }

    fn fit_free(
        &self,
        thetas: &[f64],
        r: &[f64],
        cx: f64,
        cy: f64,
        z: f64,
        prior: Option<&Contour>,
    ) -> Option<Contour> {
        // Rays that ran past the vein's wall (isodense tissue against it) are refused
        // before the fit ([`drop_escapes`]) where the blood is not contrast-bright (native
        // CT, MR); with opacified blood on CT every wall but the liver's shows, and
        // the rays that run on are the vein's own branches (at the iliac confluence the
        // refused branch let the hybrid's track run on into the iliac vein, 29.9 mm).
        let dropped;
        let r = if !self.is_ct || self.unenhanced_ct() {
            dropped = drop_escapes(r);
            &dropped
        } else {
            r
        };
        // Continuity gate: a wall far from the previous plane's is a branch or a
        // neighbour, not this vein.
        let pw: Vec<f64> = thetas
            .iter()
            .zip(r)
            .map(|(&t, &ri)| {
                if !ri.is_finite() {
                    return 0.0;
                }
                match prior {
                    Some(p) => {
                        // Prior radius seen from the new centre (small shift: first order).
                        let rp = p.radius(t) - (cx - p.cx) * t.cos() - (cy - p.cy) * t.sin();
                        if (ri - rp).abs() <= (CONTINUITY_FRACTION * rp).max(CONTINUITY_MIN_MM) {
                            1.0
                        } else {
                            0.0
                        }
                    }
                    None => 1.0,
                }
            })
            .collect();
        let valid = pw.iter().filter(|&&w| w > 0.0).count();
        if valid < NRAYS / FREE_MIN_RAYS_DIVISOR {
            return None;
        }
        // The prior's shape about the new centre (first order: shift terms).
        let prior_coef = prior.map(|p| {
            let mut c = p.coef;
            c[1] -= cx - p.cx;
            c[2] -= cy - p.cy;
            c
        });
        let (coef, inl) = robust_fit(thetas, r, &pw, NCOEF, prior_coef.as_ref())?;
        let coef = curvature_corrected(&coef, self.blur_var());
        let inliers = inl.iter().filter(|&&b| b).count() as f64 / NRAYS as f64;
        if inliers < FREE_MIN_INLIERS || coef[0] < MIN_RADIUS_MM || coef[0] > RMAX_MM {
            return None;
        }
        let out = Contour {
            z,
            cx,
            cy,
            coef,
            inliers,
            centre_value: f32::NAN,
            opacified: true,
            kind: ContourKind::Measured,
        };
        // A plane whose contour jumps in size or shape against its neighbour leaked into
        // a branch or a neighbour: the scaled-prior fit handles it.
        // (Unless the rays agree among themselves: then the prior was the wrong one.)
        if let Some(p) = prior.filter(|_| inliers < AGREEING_INLIERS) {
            if !similar(&out, p) {
                return None;
            }
        }
        Some(out)
    }

    /// The prior's shape, scaled (s) and shifted (dx, dy) to the walls found:
    /// r(θ) ≈ s·r_p(θ) + dx cos θ + dy sin θ.
    fn fit_scaled(&self, thetas: &[f64], r: &[f64], cx: f64, cy: f64, z: f64, prior: &Contour) -> Contour {
        let rp: Vec<f64> = thetas
            .iter()
            .map(|&t| prior.radius(t) - (cx - prior.cx) * t.cos() - (cy - prior.cy) * t.sin())
            .collect();
        // Gate: walls near the prior, more room outward (a tumour expands the vein) —
        // not without contrast, where a tumour cannot be told from blood and a wall
        // further out is the edge of isodense tissue against the vein ([`SCALED_GATE_OUTER_NATIVE`]).
        let (outer, outer_mm) = if self.unenhanced_ct() {
            (SCALED_GATE_OUTER_NATIVE, 0.0)
        } else {
            (SCALED_GATE_OUTER, SCALED_GATE_OUTER_MM)
        };
        let mut w: Vec<f64> = r
            .iter()
            .zip(&rp)
            .map(|(&ri, &p)| {
                if ri.is_finite() && ri > SCALED_GATE_INNER * p && ri < outer * p + outer_mm {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let fallback = Contour {
            z,
            cx,
            cy,
            coef: {
                let mut c = prior.coef;
                // Re-express the prior about the new centre (first order: shift terms).
                c[1] -= cx - prior.cx;
                c[2] -= cy - prior.cy;
                c
            },
            inliers: 0.0,
            centre_value: f32::NAN,
            opacified: false,
            kind: ContourKind::Interpolated,
        };
        let mut params = [1.0, 0.0, 0.0];
        for _ in 0..SCALED_ROUNDS {
            let n = w.iter().filter(|&&x| x > 0.0).count();
            if n < NRAYS / SCALED_MIN_RAYS_DIVISOR {
                return fallback;
            }
            let mut a = nalgebra::Matrix3::<f64>::zeros();
            let mut b = nalgebra::Vector3::<f64>::zeros();
            for (m, &t) in thetas.iter().enumerate() {
                if w[m] <= 0.0 {
                    continue;
                }
                let phi = nalgebra::Vector3::new(rp[m], t.cos(), t.sin());
                a += phi * phi.transpose() * w[m];
                b += phi * r[m] * w[m];
            }
            let Some(x) = a.lu().solve(&b) else {
                return fallback;
            };
            params = [x[0], x[1], x[2]];
            for (m, &t) in thetas.iter().enumerate() {
                let pred = params[0] * rp[m] + params[1] * t.cos() + params[2] * t.sin();
                if r[m].is_finite() && w[m] > 0.0 {
                    w[m] = if (r[m] - pred).abs() < RAY_INLIER_MM {
                        1.0
                    } else {
                        0.0
                    };
                }
            }
        }
        let n = w.iter().filter(|&&x| x > 0.0).count();
        // One-sided evidence cannot tell scale from shift; require walls on both sides.
        let sides = thetas
            .iter()
            .zip(&w)
            .filter(|(_, &x)| x > 0.0)
            .map(|(&t, _)| (t.cos(), t.sin()))
            .fold((0.0, 0.0), |acc, v| (acc.0 + v.0, acc.1 + v.1));
        let spread = 1.0 - (sides.0.hypot(sides.1) / n.max(1) as f64);
        if n < NRAYS / SCALED_MIN_RAYS_DIVISOR
            || spread < SCALED_MIN_SPREAD
            || !(SCALED_SCALE_MIN..=SCALED_SCALE_MAX).contains(&params[0])
        {
            return fallback;
        }
        let mut coef = fallback.coef;
        for c in coef.iter_mut() {
            *c *= params[0];
        }
        coef[1] += params[1];
        coef[2] += params[2];
        Contour {
            coef,
            inliers: n as f64 / NRAYS as f64,
            kind: ContourKind::Scaled,
            ..fallback
        }
    }
}
