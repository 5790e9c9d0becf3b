//! The spine's position on the reference series, where the mass and collateral
//! searches are anchored.

use cavascope_volume::{Point3, Volume};

/// Bone on CT, HU (locating the spine).
pub const BONE_MIN_HU: f32 = 250.0;

/// Spine centre (x, y) in LPS mm at the middle of the volume: centroid of bone near the
/// midline (CT); body-outline based on MRI (80 mm in front of the posterior skin).
pub fn spine_xy(v: &Volume, ct: bool) -> Option<(f64, f64)> {
    let (lo, hi) = v.geometry.world_bounds(v.shape());
    let zs: Vec<f64> = (1..8).map(|q| lo.z + (hi.z - lo.z) * q as f64 / 8.0).collect();
    let mut body: Vec<(f64, f64, f32)> = Vec::new();
    for &z in &zs {
        let mut x = lo.x;
        while x <= hi.x {
            let mut y = lo.y;
            while y <= hi.y {
                if let Some(s) = v.sample_world(&Point3::new(x, y, z)) {
                    body.push((x, y, s));
                }
                y += 3.0;
            }
            x += 3.0;
        }
    }
    if body.is_empty() {
        return None;
    }
    let body_thr = if ct {
        -300.0
    } else {
        let mut s: Vec<f32> = body.iter().map(|b| b.2).collect();
        s.sort_by(|a, b| a.total_cmp(b));
        0.1 * s[(s.len() - 1) * 99 / 100]
    };
    let inside: Vec<&(f64, f64, f32)> = body.iter().filter(|b| b.2 > body_thr).collect();
    if inside.is_empty() {
        return None;
    }
    let mid_x = inside.iter().map(|b| b.0).sum::<f64>() / inside.len() as f64;
    if ct {
        let bone: Vec<&&(f64, f64, f32)> = inside
            .iter()
            .filter(|b| b.2 >= BONE_MIN_HU && (b.0 - mid_x).abs() < 30.0)
            .collect();
        if bone.len() >= 5 {
            let x = bone.iter().map(|b| b.0).sum::<f64>() / bone.len() as f64;
            let y = bone.iter().map(|b| b.1).sum::<f64>() / bone.len() as f64;
            return Some((x, y));
        }
    }
    let post_y = inside.iter().map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
    Some((mid_x, post_y - 80.0))
}
