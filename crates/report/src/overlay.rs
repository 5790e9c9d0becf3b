//! Axial, coronal and sagittal views of the reference volume with the IVC and mass
//! outlined, sampled on a regular millimetre grid in patient space (so oblique and tilted
//! series come out upright). Radiological display: patient left on image right.

use cavascope_volume::{Mask, Point3, Vector3, Volume};
use image::{Rgb, RgbImage};

/// Which plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Axial,
    Coronal,
    Sagittal,
}

impl View {
    pub fn name(&self) -> &'static str {
        match self {
            View::Axial => "axial",
            View::Coronal => "coronal",
            View::Sagittal => "sagittal",
        }
    }
    /// Image column (u) and row (v) directions in LPS.
    fn axes(&self) -> (Vector3<f64>, Vector3<f64>) {
        match self {
            // +x (patient left) to the right, +y (posterior) down.
            View::Axial => (Vector3::x(), Vector3::y()),
            // Head up.
            View::Coronal => (Vector3::x(), -Vector3::z()),
            // Anterior on the left, head up.
            View::Sagittal => (Vector3::y(), -Vector3::z()),
        }
    }
}

/// Display window: grey = (v − low) / (high − low).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub low: f32,
    pub high: f32,
}

impl Window {
    /// Soft-tissue window W400/L40 for CT; 1st–99th percentile for anything else.
    pub fn for_volume(v: &Volume) -> Window {
        if v.meta.modality.eq_ignore_ascii_case("CT") {
            return Window {
                low: -160.0,
                high: 240.0,
            };
        }
        let mut vals: Vec<f32> = v
            .data
            .iter()
            .step_by(7)
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        if vals.is_empty() {
            return Window { low: 0.0, high: 1.0 };
        }
        vals.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| vals[((vals.len() - 1) as f64 * p) as usize];
        let (low, high) = (q(0.01), q(0.99));
        Window {
            low,
            high: if high > low { high } else { low + 1.0 },
        }
    }
}

/// Outline colour of the IVC (cyan).
pub const IVC_COLOUR: Rgb<u8> = Rgb([0, 200, 255]);
/// Outline colour of the mass (orange-red).
pub const MASS_COLOUR: Rgb<u8> = Rgb([255, 80, 40]);

/// Render one view through `centre`. At most `max_px` pixels on a side.
pub fn render(
    vol: &Volume,
    view: View,
    centre: &Point3<f64>,
    outlines: &[(&Mask, Rgb<u8>)],
    window: Window,
    max_px: usize,
) -> RgbImage {
    let (u, v) = view.axes();
    let shape = vol.shape();
    let (lo, hi) = vol.geometry.world_bounds(shape);
    let ext = hi - lo;
    let (eu, ev) = (ext.dot(&u).abs().max(1.0), ext.dot(&v).abs().max(1.0));
    let sp = vol.geometry.spacing();
    let min_sp = sp.iter().cloned().fold(f64::INFINITY, f64::min).max(0.1);
    let px = (eu.max(ev) / max_px.max(16) as f64).max(min_sp.min(1.0));
    let (w, h) = (
        ((eu / px).ceil() as usize).clamp(1, max_px.max(16)),
        ((ev / px).ceil() as usize).clamp(1, max_px.max(16)),
    );
    // Top-left corner: the bounding box corner in −u, −v, through the centre in the third axis.
    let mid = Point3::from((lo.coords + hi.coords) / 2.0);
    let c_u = mid.coords.dot(&u);
    let c_v = mid.coords.dot(&v);
    let along = |p: &Point3<f64>| p.coords - u * p.coords.dot(&u) - v * p.coords.dot(&v);
    let base = along(centre) + u * (c_u - eu / 2.0) + v * (c_v - ev / 2.0);
    let span = (window.high - window.low).max(1e-6);
    let mut img = RgbImage::new(w as u32, h as u32);
    let mut inside: Vec<Vec<bool>> = vec![vec![false; w * h]; outlines.len()];
    for y in 0..h {
        for x in 0..w {
            let p = Point3::from(base + u * ((x as f64 + 0.5) * px) + v * ((y as f64 + 0.5) * px));
            let g = match vol.sample_world(&p) {
                Some(val) if val.is_finite() => (((val - window.low) / span).clamp(0.0, 1.0) * 255.0) as u8,
                _ => 0,
            };
            img.put_pixel(x as u32, y as u32, Rgb([g, g, g]));
            for (n, (m, _)) in outlines.iter().enumerate() {
                inside[n][y * w + x] = m.contains_world(&p);
            }
        }
    }
    for (n, (_, colour)) in outlines.iter().enumerate() {
        let ins = &inside[n];
        for y in 0..h {
            for x in 0..w {
                if !ins[y * w + x] {
                    continue;
                }
                let edge = x == 0
                    || y == 0
                    || x + 1 == w
                    || y + 1 == h
                    || !ins[y * w + x - 1]
                    || !ins[y * w + x + 1]
                    || !ins[(y - 1) * w + x]
                    || !ins[(y + 1) * w + x];
                if edge {
                    img.put_pixel(x as u32, y as u32, *colour);
                }
            }
        }
    }
    img
}

/// PNG bytes of an image.
pub fn png_bytes(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Png)?;
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_volume::Geometry;
    use ndarray::Array3;

    /// A bright cube in a dark volume, with a mask on the cube: the outline must lie on the
    /// cube's edge in every view, and patient left must appear on image right.
    #[test]
    fn outline_sits_on_the_structure_and_left_is_right() {
        let g = Geometry::axial(Point3::new(-20.0, -20.0, -20.0), [1.0, 1.0, 2.0]);
        let mut data = Array3::from_elem([21, 41, 41], -1000.0f32);
        let mut m = Array3::from_elem([21, 41, 41], false);
        // Cube at x in [5, 15] mm (patient left of centre), y, z in [-5, 5].
        for k in 0..21 {
            for j in 0..41 {
                for i in 0..41 {
                    let p = g.index_to_world([i as f64, j as f64, k as f64]);
                    if (5.0..=15.0).contains(&p.x) && p.y.abs() <= 5.0 && p.z.abs() <= 5.0 {
                        data[[k, j, i]] = 100.0;
                        m[[k, j, i]] = true;
                    }
                }
            }
        }
        let mut vol = Volume::new(data, g.clone(), Default::default());
        vol.meta.modality = "CT".into();
        let mask = Mask::new(m, g);
        let c = Point3::new(10.0, 0.0, 0.0);
        for view in [View::Axial, View::Coronal] {
            let img = render(
                &vol,
                view,
                &c,
                &[(&mask, IVC_COLOUR)],
                Window::for_volume(&vol),
                200,
            );
            let (w, _) = img.dimensions();
            let cols: Vec<u32> = img
                .enumerate_pixels()
                .filter(|(_, _, p)| **p == IVC_COLOUR)
                .map(|(x, _, _)| x)
                .collect();
            assert!(!cols.is_empty(), "{view:?}");
            // All outline pixels right of the middle: patient left is image right.
            assert!(cols.iter().all(|&x| x > w / 2), "{view:?}");
            // Inside the outline the cube is bright (100 HU → above the window middle).
            let bright = img
                .enumerate_pixels()
                .filter(|(_, _, p)| p.0[0] > 150 && p.0[0] == p.0[1])
                .count();
            assert!(bright > 0);
        }
    }
}
