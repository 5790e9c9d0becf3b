//! Tracking from a seed: the start plane, then plane by plane up and down with the
//! rules that stop a track (a chamber, a lost vein, a runaway).

use super::*;

impl Tracker<'_> {
    /// Track from a seed up and down. Returns contours sorted by z (ascending).
    pub fn track(&mut self, seed: &Point3<f64>) -> Option<Vec<Contour>> {
        self.blood = self.blood_at(seed);
        if !self.blood.is_finite() {
            return None;
        }
        for p in 0..self.phases.len() {
            self.blood_all[p] = if p == 0 {
                self.blood
            } else if self.blood_phases[p] {
                let raw = Patch::sample(
                    self.phases[p].volume,
                    seed.x,
                    seed.y,
                    seed.z,
                    SEED_PATCH_HALF_MM,
                    self.pixel,
                    0.0,
                );
                self.disc_median(&raw, seed.x, seed.y, SEED_DISC_MM)
            } else {
                f32::NAN
            };
        }
        let first = self
            .contour_at(seed.z, seed.x, seed.y, None)
            .map(|first| {
                // Re-centre once on the first plane (the seed may be off-centre).
                let (fx, fy) = first.centroid();
                self.contour_at(seed.z, fx, fy, None).unwrap_or(first)
            })
            .filter(|c| c.kind == ContourKind::Measured);
        // Where the wall is not seen all round at the seed (a weak blood/liver edge, a
        // branch), the first contour may be wrong and every chained plane inherits it:
        // start from the nearest plane whose wall is. Where no wall fits at the seed's
        // plane at all (native CT: isodense crus or duodenum against much of the vein;
        // seeds on 4 of 5 planes tried in TotalSegmentator's native CT IVC), that plane is
        // the only way to start.
        let first = match first {
            Some(f) if f.inliers >= FREE_INLIERS => f,
            Some(f) => self.clearer_start(f.z, f.centroid(), FREE_INLIERS).unwrap_or(f),
            None => self.clearer_start(seed.z, (seed.x, seed.y), AGREEING_INLIERS)?,
        };
        let (mut up, mut down) = rayon::join(|| self.run(&first, 1.0), || self.run(&first, -1.0));
        cut_ends(&first, &mut up);
        cut_ends(&first, &mut down);
        let mut all: Vec<Contour> = down.into_iter().rev().collect();
        all.push(first);
        all.extend(up);
        Some(all)
    }

    /// The nearest plane within [`START_SEARCH_MM`] of height `z0` ([`START_SEARCH_STEP_MM`]
    /// steps, either way), looked at around (gx, gy), whose opacified lumen has a free
    /// contour that at least `min_inliers` of the rays agree with.
    fn clearer_start(&self, z0: f64, (gx, gy): (f64, f64), min_inliers: f64) -> Option<Contour> {
        let mut dz = START_SEARCH_STEP_MM;
        while dz <= START_SEARCH_MM {
            for z in [z0 - dz, z0 + dz] {
                if z < self.z_range.0 || z > self.z_range.1 {
                    continue;
                }
                let Some(c) = self.contour_at(z, gx, gy, None) else {
                    continue;
                };
                let (nx, ny) = c.centroid();
                let c = self.contour_at(z, nx, ny, None).unwrap_or(c);
                let (cx, cy) = c.centroid();
                if c.kind == ContourKind::Measured
                    && c.opacified
                    && c.inliers >= min_inliers
                    && (cx - gx).hypot(cy - gy) < START_SHIFT_MM
                {
                    return Some(c);
                }
            }
            dz += START_SEARCH_STEP_MM;
        }
        None
    }

    fn run(&self, start: &Contour, dir: f64) -> Vec<Contour> {
        let mut out: Vec<Contour> = Vec::new();
        let mut z = start.z;
        let mut unmeasured_run = 0usize;
        let mut open_run = 0usize;
        loop {
            z += dir;
            if z < self.z_range.0 || z > self.z_range.1 {
                break;
            }
            let prev = out.last().unwrap_or(start);
            // Predict the centre: the last centroid (extrapolating the drift would let a
            // leak into a neighbour run away).
            let (cx, cy) = prev.centroid();
            // Memory: the median-area plane of the last MEMORY_PLANES. A previous plane far from it
            // (a leak into a neighbour) is not trusted as the prior.
            let (ref_area, memory) = {
                let mut recent: Vec<&Contour> = std::iter::once(start)
                    .chain(out.iter())
                    .rev()
                    .take(MEMORY_PLANES)
                    .collect();
                recent.sort_by(|a, b| a.area().total_cmp(&b.area()));
                let m = recent[recent.len() / 2];
                (m.area(), m)
            };
            let prior = if (PRIOR_AREA_MIN..=PRIOR_AREA_MAX).contains(&(prev.area() / ref_area.max(1.0))) {
                prev
            } else {
                memory
            };
            let Some(mut c) = self.contour_at_ref(z, cx, cy, Some(prior), Some(ref_area), Some(prev)) else {
                break;
            };
            // Re-centre on the contour just found when it moved (keeps rays radial).
            let (nx, ny) = c.centroid();
            if (nx - cx).hypot(ny - cy) > RECENTRE_MIN_MM
                && c.kind == ContourKind::Measured
                && c.inliers >= AGREEING_INLIERS
            {
                if let Some(c2) = self.contour_at_ref(z, nx, ny, Some(prior), Some(ref_area), Some(prev)) {
                    c = c2;
                }
            }
            // Deep in a stretch without opacified lumen the predicted centre follows the
            // last shapes, not the vein's course: look for the lumen reappearing nearby.
            if !c.opacified && unmeasured_run >= REACQUIRE_AFTER {
                if let Some((x, y)) = self.lumen_near(cx, cy, z, REACQUIRE_MM) {
                    if let Some(c2) = self
                        .contour_at_ref(z, x, y, Some(prior), None, None)
                        .filter(|c2| c2.kind == ContourKind::Measured && c2.inliers >= AGREEING_INLIERS)
                        .filter(|c2| {
                            (REACQUIRE_AREA_MIN..=REACQUIRE_AREA_MAX)
                                .contains(&(c2.area() / ref_area.max(1.0)))
                        })
                    {
                        c = c2;
                    }
                }
            }
            // Opacified blood all around, yet no wall within reach: the vein has opened
            // into a chamber (the right atrium). Not without contrast: there "like the
            // seed's blood" is any soft tissue, and a plane whose walls did not fit
            // (isodense tissue against part of the vein) is no chamber (native CT: tracks
            // ended 20–30 mm from the start).
            if c.kind == ContourKind::Interpolated && c.opacified && !self.unenhanced_ct() {
                open_run += 1;
                if open_run > CHAMBER_PLANES {
                    out.truncate(out.len().saturating_sub(open_run - 1));
                    break;
                }
            } else {
                open_run = 0;
            }
            if c.kind == ContourKind::Measured {
                unmeasured_run = 0;
            } else {
                unmeasured_run += 1;
                // A long stretch without any wall: the vein is lost.
                if unmeasured_run > LOST_PLANES {
                    out.truncate(out.len().saturating_sub(unmeasured_run - 1));
                    break;
                }
            }
            // Runaway (deep into the right atrium): stop; the ends are cut afterwards
            // from the whole area profile (see `cut_ends`).
            if tracing::enabled!(tracing::Level::TRACE) {
                let (gx, gy) = c.centroid();
                tracing::trace!(
                    "track z {:.1} {:?} inl {:.2} area {:.1} ref {:.1} op {} cv {:.0} at ({gx:.1}, {gy:.1})",
                    c.z,
                    c.kind,
                    c.inliers,
                    c.area(),
                    ref_area,
                    c.opacified,
                    c.centre_value
                );
            }
            if c.area() > RUNAWAY_AREA_FACTOR * start.area() {
                break;
            }
            out.push(c);
        }
        out
    }
}
