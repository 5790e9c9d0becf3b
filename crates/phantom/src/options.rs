//! What grid a phantom is sampled on, and how noisy it is.

use cavascope_volume::Geometry;
use nalgebra::{Point3, Rotation3, Vector3};
use serde::{Deserialize, Serialize};

/// Slice orientation of every series of the study.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Rows along +x (patient left), columns along +y (posterior), slices along z.
    Axial,
    /// Axial rotated about the left–right axis, then about the anterior–posterior axis
    /// (degrees). Slices stay orthogonal to the image plane.
    Oblique {
        /// First rotation, about the left–right axis.
        about_lr_deg: f64,
        /// Second rotation, about the anterior–posterior axis.
        about_ap_deg: f64,
    },
    /// CT gantry tilt: the image plane is tilted about the left–right axis by `deg`,
    /// but slice positions advance along the table (z), so the grid is sheared.
    GantryTilt {
        /// Tilt angle, degrees.
        deg: f64,
    },
}

/// Phantom grid and noise. [`PhantomOptions::small`] is what tests use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhantomOptions {
    /// Anatomy sizes and noise derive from this seed.
    pub seed: u64,
    /// Image columns.
    pub cols: usize,
    /// Image rows.
    pub rows: usize,
    /// Slices per series.
    pub slices: usize,
    /// In-plane spacing (rows and columns), mm.
    pub pixel_spacing_mm: f64,
    /// Distance between slice centres, mm.
    pub slice_spacing_mm: f64,
    /// Nominal slice thickness written to DICOM, mm (`None`: the slice spacing).
    pub slice_thickness_mm: Option<f64>,
    /// How the grid lies in the patient.
    pub orientation: Orientation,
    /// Slice index 0 at the head end (slice axis pointing to the feet).
    pub reversed_slices: bool,
    /// CT noise, HU (Gaussian SD). 0 gives noise-free images.
    pub noise_sd: f32,
    /// MRI noise, signal units (Gaussian SD, clamped at 0). Muscle is ~400 on T1.
    pub mr_noise_sd: f32,
    /// z (LPS mm) of the centre of the field of view. The IVC runs from about −160
    /// (iliac confluence) to +60 (right atrium) for seed-average anatomy.
    pub center_z_mm: f64,
    /// More anatomy drawn from the seed (issue 16): body habitus, organ shapes and
    /// positions, bowel loops with gas, fluid or oral contrast. Off: the classic anatomy
    /// of a seed, unchanged.
    #[serde(default)]
    pub variety: bool,
    /// Noise texture: 0 white (classic); up to 1, noise smoothed in-plane (the
    /// correlated grain of a soft reconstruction kernel) at the same SD.
    #[serde(default)]
    pub noise_texture: f32,
}

impl Default for PhantomOptions {
    fn default() -> Self {
        Self::small()
    }
}

impl PhantomOptions {
    /// Fast for tests: 192 × 192 at 2.0 mm, 100 slices at 2.5 mm (z −175 … +75 mm,
    /// right atrium to the iliac confluence).
    pub fn small() -> Self {
        PhantomOptions {
            seed: 1,
            cols: 192,
            rows: 192,
            slices: 100,
            pixel_spacing_mm: 2.0,
            slice_spacing_mm: 2.5,
            slice_thickness_mm: None,
            orientation: Orientation::Axial,
            reversed_slices: false,
            noise_sd: 12.0,
            mr_noise_sd: 12.0,
            center_z_mm: -50.0,
            variety: false,
            noise_texture: 0.0,
        }
    }

    /// Voxel budget of one series of a drawn grid ([`PhantomOptions::draw`]).
    pub const DRAW_MAX_VOXELS: usize = 16_000_000;

    /// Draw `n` (anatomy, bowel, noise texture) kept on the [`PhantomOptions::small`] test
    /// grid: what the draw-variety tests and the `phantom_draws` example analyse.
    pub fn draw_on_small_grid(n: u64) -> PhantomOptions {
        let mut o = Self::draw(n);
        let s = Self::small();
        o.cols = s.cols;
        o.rows = s.rows;
        o.slices = s.slices;
        o.pixel_spacing_mm = s.pixel_spacing_mm;
        o.slice_spacing_mm = s.slice_spacing_mm;
        o.slice_thickness_mm = None;
        o
    }

    /// Draw `n` of the phantom: draws 1–3 are exactly `small().with_seed(n)` (the
    /// classic anatomy on the test grid, what the end-to-end tests use); from draw 4 on,
    /// the anatomy varies more ([`PhantomOptions::variety`]), the noise has a texture
    /// (0–0.8), and the grid is drawn: pixel 0.6–2 mm, slices 0.6–5 mm (thickness =
    /// spacing) over the same 384 mm field of view and 250 mm of z. Where a draw exceeds
    /// [`PhantomOptions::DRAW_MAX_VOXELS`] per series, the slices are made thicker and, past
    /// 5 mm, the pixels larger, until it fits (fine pixels come with thick slices).
    pub fn draw(n: u64) -> PhantomOptions {
        let mut o = Self::small().with_seed(n);
        if n <= 3 {
            return o;
        }
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n ^ 0x4752_4944_4452_4157);
        let mut px: f64 = 0.6 + 1.4 * rng.random::<f64>();
        let mut ss: f64 = 0.6 + 4.4 * rng.random::<f64>();
        let (fov, zcov) = (384.0, 250.0);
        let count = |px: f64, ss: f64| {
            let n = (fov / px).round();
            n * n * ((zcov / ss).round() + 1.0)
        };
        let budget = Self::DRAW_MAX_VOXELS as f64;
        if count(px, ss) > budget {
            let plane = (fov / px).round().powi(2);
            ss = (zcov / (budget / plane - 1.0).max(1.0)).max(ss);
            if ss > 5.0 {
                ss = 5.0;
                let slices = (zcov / ss).round() + 1.0;
                px = fov / (budget / slices).sqrt().floor();
            }
        }
        // Round to what a scanner would write (0.01 mm pixels, 0.1 mm slices).
        o.pixel_spacing_mm = (px * 100.0).ceil() / 100.0;
        o.slice_spacing_mm = (ss * 10.0).ceil() / 10.0;
        o.cols = (fov / o.pixel_spacing_mm).round() as usize;
        o.rows = o.cols;
        o.slices = (zcov / o.slice_spacing_mm).round() as usize + 1;
        // Rounding can leave a draw just over the budget: thicker slices, then larger pixels.
        while o.cols * o.rows * o.slices > Self::DRAW_MAX_VOXELS {
            if o.slice_spacing_mm < 5.0 {
                o.slice_spacing_mm = ((o.slice_spacing_mm + 0.1) * 10.0).round() / 10.0;
            } else {
                o.pixel_spacing_mm += 0.01;
                o.cols = (fov / o.pixel_spacing_mm).round() as usize;
                o.rows = o.cols;
            }
            o.slices = (zcov / o.slice_spacing_mm).round() as usize + 1;
        }
        o.slice_thickness_mm = None;
        o.variety = true;
        o.noise_texture = (0.8 * rng.random::<f64>()) as f32;
        o
    }

    /// Clinical-like: 512 × 512 at 0.75 mm, 100 slices at 2.5 mm.
    pub fn standard() -> Self {
        PhantomOptions {
            cols: 512,
            rows: 512,
            pixel_spacing_mm: 0.75,
            ..Self::small()
        }
    }

    /// A thin-slice clinical study (the benchmark of docs/benchmarks.md): 512 × 512 at
    /// 0.75 mm, 300 slices at 1 mm (z −199.5 … +99.5 mm: the whole IVC and the pelvis).
    pub fn clinical() -> Self {
        PhantomOptions {
            slices: 300,
            slice_spacing_mm: 1.0,
            ..Self::standard()
        }
    }

    /// Same grid, no noise (for exact value checks).
    pub fn noiseless(mut self) -> Self {
        self.noise_sd = 0.0;
        self.mr_noise_sd = 0.0;
        self
    }

    /// The same options with another seed (another body and noise).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Most voxels one series may have (about 1.2 GB per CT study of four series);
    /// [`PhantomOptions::sanitized`] reduces the slice count to stay below it.
    pub const MAX_VOXELS: usize = 75_000_000;

    /// A copy with impossible values (zero sizes, non-finite or non-positive spacing)
    /// replaced and the slice count capped at [`PhantomOptions::MAX_VOXELS`], so
    /// generation never panics or exhausts memory.
    pub fn sanitized(&self) -> PhantomOptions {
        let d = Self::small();
        let cols = self.cols.clamp(1, 4096);
        let rows = self.rows.clamp(1, 4096);
        let max_slices = (Self::MAX_VOXELS / (cols * rows)).max(1);
        let pos = |v: f64, dflt: f64| if v.is_finite() && v > 0.0 { v } else { dflt };
        let fin = |v: f64| if v.is_finite() { v } else { 0.0 };
        PhantomOptions {
            cols,
            rows,
            slices: self.slices.clamp(1, max_slices),
            pixel_spacing_mm: pos(self.pixel_spacing_mm, d.pixel_spacing_mm),
            slice_spacing_mm: pos(self.slice_spacing_mm, d.slice_spacing_mm),
            slice_thickness_mm: self.slice_thickness_mm.filter(|t| t.is_finite() && *t > 0.0),
            orientation: match self.orientation {
                Orientation::Axial => Orientation::Axial,
                Orientation::Oblique {
                    about_lr_deg,
                    about_ap_deg,
                } => Orientation::Oblique {
                    about_lr_deg: fin(about_lr_deg).clamp(-60.0, 60.0),
                    about_ap_deg: fin(about_ap_deg).clamp(-60.0, 60.0),
                },
                Orientation::GantryTilt { deg } => Orientation::GantryTilt {
                    deg: fin(deg).clamp(-45.0, 45.0),
                },
            },
            noise_sd: if self.noise_sd.is_finite() {
                self.noise_sd.max(0.0)
            } else {
                0.0
            },
            mr_noise_sd: if self.mr_noise_sd.is_finite() {
                self.mr_noise_sd.max(0.0)
            } else {
                0.0
            },
            center_z_mm: fin(self.center_z_mm),
            noise_texture: if self.noise_texture.is_finite() {
                self.noise_texture.clamp(0.0, 1.0)
            } else {
                0.0
            },
            ..self.clone()
        }
    }

    /// Nominal slice thickness, mm.
    pub fn thickness_mm(&self) -> f64 {
        self.slice_thickness_mm.unwrap_or(self.slice_spacing_mm)
    }

    /// `[slices, rows, cols]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.slices, self.rows, self.cols]
    }

    /// The grid every series of the study shares: centred on (0, 0, `center_z_mm`).
    pub fn geometry(&self) -> Geometry {
        let (row, col, slice) = match self.orientation {
            Orientation::Axial => (Vector3::x(), Vector3::y(), Vector3::z()),
            Orientation::Oblique {
                about_lr_deg,
                about_ap_deg,
            } => {
                let r = Rotation3::from_axis_angle(&Vector3::y_axis(), about_ap_deg.to_radians())
                    * Rotation3::from_axis_angle(&Vector3::x_axis(), about_lr_deg.to_radians());
                (r * Vector3::x(), r * Vector3::y(), r * Vector3::z())
            }
            Orientation::GantryTilt { deg } => {
                let t = deg.to_radians();
                // Image plane tilted about x; the table still moves along z.
                (Vector3::x(), Vector3::new(0.0, t.cos(), -t.sin()), Vector3::z())
            }
        };
        let slice = if self.reversed_slices { -slice } else { slice };
        let ps = self.pixel_spacing_mm;
        let ss = self.slice_spacing_mm;
        let centre = Point3::new(0.0, 0.0, self.center_z_mm);
        let origin = centre
            - row * (ps * (self.cols.max(1) - 1) as f64 / 2.0)
            - col * (ps * (self.rows.max(1) - 1) as f64 / 2.0)
            - slice * (ss * (self.slices.max(1) - 1) as f64 / 2.0);
        Geometry::from_axes(origin, row, col, slice, [ps, ps, ss])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_covers_ra_to_iliac_confluence() {
        let o = PhantomOptions::small();
        let g = o.geometry();
        let (lo, hi) = g.world_bounds(o.shape());
        assert!(lo.z <= -165.0 && hi.z >= 65.0, "{lo} {hi}");
        assert!((g.spacing()[2] - 2.5).abs() < 1e-12);
    }

    #[test]
    fn reversed_and_tilted_grids() {
        let mut o = PhantomOptions::small();
        o.reversed_slices = true;
        let g = o.geometry();
        assert!(g.step(2).z < 0.0);
        o.reversed_slices = false;
        o.orientation = Orientation::GantryTilt { deg: 15.0 };
        let g = o.geometry();
        assert!((g.shear_deg() - 15.0).abs() < 1e-9);
        o.orientation = Orientation::Oblique {
            about_lr_deg: 20.0,
            about_ap_deg: 10.0,
        };
        assert!(o.geometry().shear_deg() < 1e-9);
    }

    #[test]
    fn draws() {
        for n in 1..=3 {
            assert_eq!(PhantomOptions::draw(n), PhantomOptions::small().with_seed(n));
        }
        let mut px = Vec::new();
        let mut ss = Vec::new();
        for n in 4..=40 {
            let o = PhantomOptions::draw(n);
            assert!(o.variety && o.noise_texture >= 0.0 && o.noise_texture <= 0.8);
            assert!(
                o.cols * o.rows * o.slices <= PhantomOptions::DRAW_MAX_VOXELS,
                "{o:?}"
            );
            assert!((0.6..=2.0).contains(&o.pixel_spacing_mm), "{o:?}");
            assert!((0.6..=5.0).contains(&o.slice_spacing_mm), "{o:?}");
            let (lo, hi) = o.geometry().world_bounds(o.shape());
            assert!(lo.z <= -170.0 && hi.z >= 70.0, "{o:?}");
            px.push(o.pixel_spacing_mm);
            ss.push(o.slice_spacing_mm);
        }
        let span = |v: &[f64]| {
            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                - v.iter().cloned().fold(f64::INFINITY, f64::min)
        };
        assert!(span(&px) > 0.8 && span(&ss) > 2.5, "{px:?} {ss:?}");
    }

    #[test]
    fn sanitize_never_degenerate() {
        let mut o = PhantomOptions::small();
        o.cols = 0;
        o.pixel_spacing_mm = f64::NAN;
        o.slice_spacing_mm = -1.0;
        let s = o.sanitized();
        assert_eq!(s.cols, 1);
        o.cols = 4096;
        o.rows = 4096;
        o.slices = 4096;
        let s = o.sanitized();
        assert!(s.cols * s.rows * s.slices <= PhantomOptions::MAX_VOXELS);
        assert!(s.geometry().voxel_volume_mm3() > 0.0);
    }
}
