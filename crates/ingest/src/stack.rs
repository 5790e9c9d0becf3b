//! Spatial sort and volume geometry of one group: slice order along the normal, spacing
//! from positions, uneven spacing / missing slices, gantry tilt (sheared affine).

use crate::group::{FrameRef, Group};
use crate::header::normal_of;
use crate::header::ParsedFile;
use cavascope_imaging::stats::median;
use cavascope_volume::Geometry;
use nalgebra::{Point3, Vector3};

/// How the output volume's slices come from the decoded frames.
#[derive(Debug, Clone)]
pub enum SliceSource {
    /// Output slice k is frame k.
    Direct,
    /// Output slice k interpolates frames `lo` and `hi` (weight `w` on `hi`).
    Interpolated(Vec<(usize, usize, f32)>),
}

/// Everything needed to assemble one volume.
#[derive(Debug, Clone)]
pub struct StackPlan {
    /// Frames in slice order (ascending along the normal).
    pub frames: Vec<FrameRef>,
    /// Their positions along the slice normal, mm.
    pub positions_mm: Vec<f64>,
    pub geometry: Geometry,
    pub out_slices: usize,
    pub source: SliceSource,
    pub problems: Vec<String>,
    /// Gantry tilt / shear of the slice axis, degrees.
    pub tilt_deg: f64,
}

fn v3(a: [f64; 3]) -> Vector3<f64> {
    Vector3::new(a[0], a[1], a[2])
}

/// Plan a volume for a group; `Err` is the reason no volume can be formed.
pub fn plan(files: &[ParsedFile], g: &Group, max_voxels: u64) -> Result<StackPlan, String> {
    let first = g.frames.first().ok_or("no images")?;
    let h0 = &files[first.file].header;
    let (rows, cols) = (h0.rows as u64, h0.columns as u64);
    if !g.key.has_geometry {
        return plan_without_geometry(files, g, max_voxels);
    }
    let f0 = first.get(files);
    let iop = f0.iop.ok_or("no ImageOrientationPatient")?;
    let n = normal_of(&iop).ok_or("degenerate ImageOrientationPatient")?;
    let row_dir = v3([iop[0], iop[1], iop[2]]).normalize();
    let col_dir = v3([iop[3], iop[4], iop[5]]).normalize();
    let mut problems = Vec::new();
    let ps = match f0.pixel_spacing {
        Some(p) if p[0] > 0.0 && p[1] > 0.0 => p,
        _ => {
            problems.push("PixelSpacing absent or invalid: 1 mm placeholder in-plane".to_string());
            [1.0, 1.0]
        }
    };
    let mut frames: Vec<(f64, FrameRef)> = g
        .frames
        .iter()
        .map(|&f| (v3(f.get(files).ipp.unwrap_or([0.0; 3])).dot(&n), f))
        .collect();
    frames.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let positions: Vec<f64> = frames.iter().map(|x| x.0).collect();
    let frames: Vec<FrameRef> = frames.into_iter().map(|x| x.1).collect();
    let nf = frames.len();
    let ipp = |i: usize| v3(frames[i].get(files).ipp.unwrap_or([0.0; 3]));
    let origin = ipp(0);
    let di = row_dir * ps[1];
    let dj = col_dir * ps[0];

    if nf == 1 {
        let (dk, why) = single_slice_spacing(h0);
        problems.push(format!("single slice: slice spacing {why}"));
        let geometry =
            Geometry::from_columns(di, dj, n * dk, Point3::from(origin)).ok_or("degenerate geometry")?;
        check_size(rows, cols, 1, max_voxels)?;
        return Ok(StackPlan {
            frames,
            positions_mm: positions,
            geometry,
            out_slices: 1,
            source: SliceSource::Direct,
            problems,
            tilt_deg: 0.0,
        });
    }

    let gaps: Vec<f64> = positions.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.iter().any(|&d| d < crate::group::SAME_POSITION_MM) {
        // group_frames separates repeats; reaching here means it could not.
        return Err("two images at the same slice position could not be separated".into());
    }
    // Two or more slices here, so at least one gap: the median is finite.
    let nominal = median(&mut gaps.clone());
    let tol = (0.05 * nominal).clamp(0.02, 0.2);
    let span = positions[nf - 1] - positions[0];
    let slice_line = ipp(nf - 1) - origin;
    let offsets: Vec<Vector3<f64>> = (0..nf).map(|i| ipp(i) - origin).collect();
    let (dir, cos, tilt_deg) = stack_axis(slice_line, &n, &offsets, tol, &mut problems)?;
    let uniform = gaps.iter().all(|&d| (d - nominal).abs() <= tol);
    if uniform {
        let dk = slice_line / (nf - 1) as f64;
        check_size(rows, cols, nf as u64, max_voxels)?;
        let geometry =
            Geometry::from_columns(di, dj, dk, Point3::from(origin)).ok_or("degenerate geometry")?;
        return Ok(StackPlan {
            frames,
            positions_mm: positions,
            geometry,
            out_slices: nf,
            source: SliceSource::Direct,
            problems,
            tilt_deg,
        });
    }
    // Uneven spacing or missing slices: resample onto an even grid at the median gap.
    let out_slices = (span / nominal).round() as usize + 1;
    if out_slices > 4 * nf + 16 {
        return Err(format!(
            "slice spacing too irregular to resample (median gap {nominal:.3} mm over a span of {span:.1} mm)"
        ));
    }
    check_size(rows, cols, out_slices as u64, max_voxels)?;
    problems.push(uneven_spacing_problem(&gaps, nominal, tol));
    let step_len = nominal / cos;
    let dk = dir * step_len;
    let map = interpolation_map(&positions, nominal, out_slices);
    let geometry = Geometry::from_columns(di, dj, dk, Point3::from(origin)).ok_or("degenerate geometry")?;
    Ok(StackPlan {
        frames,
        positions_mm: positions,
        geometry,
        out_slices,
        source: SliceSource::Interpolated(map),
        problems,
        tilt_deg,
    })
}

/// Slice spacing of a lone slice, from the header, and where it came from.
fn single_slice_spacing(h0: &crate::header::FileHeader) -> (f64, String) {
    match (h0.spacing_between_slices, h0.slice_thickness) {
        (Some(s), _) if s > 0.0 => (s, format!("SpacingBetweenSlices {s} mm")),
        (_, Some(t)) if t > 0.0 => (t, format!("SliceThickness {t} mm")),
        _ => (1.0, "unknown: 1 mm placeholder".to_string()),
    }
}

/// Direction of the stack (first to last slice), its cosine with the slice normal and the
/// tilt it implies; a tilt or slices off that line are reported as problems. `offsets`:
/// each slice's position minus the first's.
fn stack_axis(
    slice_line: Vector3<f64>,
    n: &Vector3<f64>,
    offsets: &[Vector3<f64>],
    tol: f64,
    problems: &mut Vec<String>,
) -> Result<(Vector3<f64>, f64, f64), String> {
    let dir = slice_line / slice_line.norm();
    let cos = dir.dot(n);
    if cos < 0.2 {
        return Err(format!(
            "slice positions run almost parallel to the image plane (cos {cos:.3}); not a stack"
        ));
    }
    let tilt_deg = cos.clamp(-1.0, 1.0).acos().to_degrees();
    if tilt_deg > 0.01 {
        problems.push(format!(
            "gantry tilt / sheared stack {tilt_deg:.2}°: sheared affine kept (no resampling)"
        ));
    }
    // Positions off the line from the first to the last slice (in-plane jumps).
    let off_line = offsets
        .iter()
        .map(|p| (p - dir * p.dot(&dir)).norm())
        .fold(0.0, f64::max);
    if off_line > tol.max(0.1) {
        problems.push(format!(
            "slice positions are not collinear (up to {off_line:.2} mm off the stack axis)"
        ));
    }
    Ok((dir, cos, tilt_deg))
}

/// The problem line of a resampled stack: missing slices when every gap is a whole
/// multiple of the nominal spacing, uneven spacing otherwise.
fn uneven_spacing_problem(gaps: &[f64], nominal: f64, tol: f64) -> String {
    let missing: Option<usize> = gaps
        .iter()
        .map(|&d| d / nominal)
        .map(|m| {
            let r = m.round();
            if r >= 1.0 && (m - r).abs() * nominal <= tol {
                Some(r as usize - 1)
            } else {
                None
            }
        })
        .sum();
    let (gmin, gmax) = gaps.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, &d| {
        (a.0.min(d), a.1.max(d))
    });
    match missing {
        Some(m) if m > 0 => format!(
            "{m} missing slice(s) (gaps up to {gmax:.2} mm for a spacing of {nominal:.3} mm): \
             resampled to an even grid, missing slices interpolated linearly between neighbours"
        ),
        _ => format!(
            "uneven slice spacing ({gmin:.3}–{gmax:.3} mm): resampled to an even grid of {nominal:.3} mm \
             by linear interpolation along the stack axis"
        ),
    }
}

/// For each slice of the even grid (`nominal` apart from the first position), the two
/// source slices around it and the weight of the upper one.
fn interpolation_map(positions: &[f64], nominal: f64, out_slices: usize) -> Vec<(usize, usize, f32)> {
    let nf = positions.len();
    let mut map = Vec::with_capacity(out_slices);
    let mut lo = 0usize;
    for k in 0..out_slices {
        let s = positions[0] + k as f64 * nominal;
        while lo + 1 < nf - 1 && positions[lo + 1] <= s {
            lo += 1;
        }
        let hi = (lo + 1).min(nf - 1);
        let w = if hi == lo {
            0.0
        } else {
            ((s - positions[lo]) / (positions[hi] - positions[lo])).clamp(0.0, 1.0)
        };
        map.push((lo, hi, w as f32));
    }
    map
}

fn check_size(rows: u64, cols: u64, slices: u64, max_voxels: u64) -> Result<(), String> {
    let n = rows.saturating_mul(cols).saturating_mul(slices);
    if n > max_voxels {
        Err(format!(
            "{cols}×{rows}×{slices} = {n} voxels exceeds the limit of {max_voxels}"
        ))
    } else {
        Ok(())
    }
}

/// Images without patient geometry (secondary capture, some multi-frame): stacked in
/// instance/frame order on a placeholder grid, and said so.
fn plan_without_geometry(files: &[ParsedFile], g: &Group, max_voxels: u64) -> Result<StackPlan, String> {
    let mut frames = g.frames.clone();
    frames.sort_by_key(|f| (files[f.file].header.instance_number, f.file, f.frame));
    let h0 = &files[frames[0].file].header;
    check_size(h0.rows as u64, h0.columns as u64, frames.len() as u64, max_voxels)?;
    let ps = frames[0].get(files).pixel_spacing.unwrap_or([1.0, 1.0]);
    let geometry = Geometry::from_columns(
        Vector3::x() * ps[1].max(1e-6),
        Vector3::y() * ps[0].max(1e-6),
        Vector3::z(),
        Point3::origin(),
    )
    .ok_or("degenerate geometry")?;
    Ok(StackPlan {
        positions_mm: (0..frames.len()).map(|k| k as f64).collect(),
        out_slices: frames.len(),
        frames,
        geometry,
        source: SliceSource::Direct,
        problems: vec![
            "no patient geometry (ImagePositionPatient/ImageOrientationPatient absent): \
             placeholder axial grid at the origin, slices in instance/frame order, 1 mm apart"
                .to_string(),
        ],
        tilt_deg: 0.0,
    })
}
