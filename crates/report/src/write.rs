//! Writing the output folder. Every file goes to a temporary name in the target folder
//! and is renamed into place, so a crash never leaves a half-written report.

use crate::model::Report;
use crate::{html, overlay, plots, ReportError};
use cavascope_features::Thresholds;
use cavascope_measurements::Measurements;
use cavascope_volume::{nifti_io, Mask, Point3, Volume};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `bytes` to `dir/name` through a temporary file in `dir`.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    let target = dir.join(name);
    let io = |source| ReportError::Io {
        path: target.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let prefix = format!(".{name}.");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".tmp");
    // Outputs follow the umask like any file a program creates (0644 under the usual
    // 022, group-readable under 002 on a shared cluster); tempfile's default is 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = b.tempfile_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(&target).map_err(|e| io(e.error))?;
    Ok(target)
}

/// `report.json` (pretty-printed, trailing newline).
pub fn write_report_json(dir: &Path, r: &Report) -> Result<PathBuf, ReportError> {
    let mut s = serde_json::to_string_pretty(r).map_err(|e| ReportError::Json {
        path: dir.join("report.json"),
        reason: e.to_string(),
    })?;
    s.push('\n');
    write_atomic(dir, "report.json", s.as_bytes())
}

/// `measurements.csv`: one row per IVC profile position.
pub fn measurements_csv(r: &Report) -> Result<Vec<u8>, ReportError> {
    let err = |e: csv::Error| ReportError::Csv {
        reason: e.to_string(),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "s_mm",
        "z_mm",
        "center_x_mm",
        "center_y_mm",
        "center_z_mm",
        "area_mm2",
        "equivalent_diameter_mm",
        "min_diameter_mm",
        "max_diameter_mm",
        "ap_diameter_mm",
        "transverse_diameter_mm",
        "flattening_ratio",
        "lumen_visible",
        "segment",
    ])
    .map_err(err)?;
    if let Some(ivc) = &r.ivc {
        for p in &ivc.profile {
            let f = |x: f64| format!("{x:.3}");
            w.write_record([
                f(p.s_mm),
                f(p.z_mm),
                f(p.center_mm[0]),
                f(p.center_mm[1]),
                f(p.center_mm[2]),
                f(p.area_mm2),
                f(p.equivalent_diameter_mm),
                f(p.min_diameter_mm),
                f(p.max_diameter_mm),
                f(p.ap_diameter_mm),
                f(p.transverse_diameter_mm),
                f(p.flattening_ratio),
                p.lumen_visible.map(|b| b.to_string()).unwrap_or_default(),
                p.segment.clone().unwrap_or_default(),
            ])
            .map_err(err)?;
        }
    }
    w.into_inner().map_err(|e| ReportError::Csv {
        reason: e.to_string(),
    })
}

/// The volume the overlays are drawn from: the IVC reference series, else the
/// portal-venous phase, else the first volume.
pub fn reference_volume<'a>(volumes: &[&'a Volume], m: &Measurements) -> Option<&'a Volume> {
    if let Some(ivc) = &m.ivc {
        if let Some(v) = volumes
            .iter()
            .find(|v| v.meta.series_instance_uid == ivc.reference_series)
        {
            return Some(v);
        }
    }
    let by_role = |pred: fn(cavascope_measurements::Role) -> bool| {
        m.phases
            .iter()
            .find(|p| pred(p.role))
            .and_then(|p| volumes.get(p.volume_index).copied())
    };
    by_role(|r| {
        matches!(
            r,
            cavascope_measurements::Role::CtPortalVenous | cavascope_measurements::Role::MrT1PortalVenous
        )
    })
    .or_else(|| by_role(|r| r.is_post_contrast()))
    .or_else(|| volumes.first().copied())
}

/// Where the three views cross: the mass centroid, else the middle of the IVC, else the
/// centre of the volume.
fn view_centre(m: &Measurements, vol: &Volume) -> Point3<f64> {
    if let Some(mass) = &m.mass {
        let c = mass.centroid_mm;
        if c.iter().all(|x| x.is_finite()) {
            return Point3::new(c[0], c[1], c[2]);
        }
    }
    if let Some(ivc) = &m.ivc {
        if let Some(s) = ivc.profile.get(ivc.profile.len() / 2) {
            return Point3::new(s.center_mm[0], s.center_mm[1], s.center_mm[2]);
        }
    }
    let (lo, hi) = vol.geometry.world_bounds(vol.shape());
    Point3::from((lo.coords + hi.coords) / 2.0)
}

/// The enlarged collateral vessels (those the thresholds count) as a mask on the grid the
/// collateral search ran on; `None` when the collaterals were not assessed.
pub fn enlarged_collaterals_mask(m: &Measurements, t: &Thresholds) -> Option<Mask> {
    let c = m.collaterals.as_ref()?;
    c.mask_of(&cavascope_features::decided::enlarged_collaterals(c, t).vessels)
}

/// Everything the analysis writes besides report.json. Returns the written paths.
/// A picture that cannot be made is a warning, not a failure.
pub fn write_outputs(
    dir: &Path,
    r: &Report,
    volumes: &[&Volume],
    m: &Measurements,
    t: &Thresholds,
    warnings: &mut Vec<String>,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    let mut pics = html::Pictures::default();

    // Overlays.
    match reference_volume(volumes, m) {
        Some(vol) => {
            let win = overlay::Window::for_volume(vol);
            let centre = view_centre(m, vol);
            let mut outlines: Vec<(&Mask, image::Rgb<u8>)> = Vec::new();
            if let Some(ivc) = &m.ivc {
                outlines.push((&ivc.mask, overlay::IVC_COLOUR));
            }
            if let Some(mass) = &m.mass {
                outlines.push((&mass.mask, overlay::MASS_COLOUR));
            }
            let odir = dir.join("overlays");
            for view in [
                overlay::View::Axial,
                overlay::View::Coronal,
                overlay::View::Sagittal,
            ] {
                let img = overlay::render(vol, view, &centre, &outlines, win, 512);
                match overlay::png_bytes(&img) {
                    Ok(png) => {
                        written.push(write_atomic(&odir, &format!("{}.png", view.name()), &png)?);
                        pics.overlays.push((view.name().to_string(), png));
                    }
                    Err(e) => warnings.push(format!("overlay {}: cannot encode PNG: {e}", view.name())),
                }
            }
        }
        None => warnings.push("overlays: no volume to draw".into()),
    }

    // Curves.
    match overlay::png_bytes(&plots::curves_png(r)) {
        Ok(png) => written.push(write_atomic(dir, "curves.png", &png)?),
        Err(e) => warnings.push(format!("curves.png: cannot encode PNG: {e}")),
    }
    pics.calibre_svg = plots::calibre_svg(r, t);
    pics.enhancement_svg = plots::enhancement_svg(r);

    // CSV.
    written.push(write_atomic(dir, "measurements.csv", &measurements_csv(r)?)?);

    // Label maps (nifti_io writes through a temporary name itself).
    if let Some(ivc) = &m.ivc {
        let p = dir.join("ivc_mask.nii.gz");
        match nifti_io::write_mask_nifti(&p, &ivc.mask) {
            Ok(()) => written.push(p),
            Err(e) => warnings.push(format!("{}: cannot write IVC label map: {e}", p.display())),
        }
    }
    if let Some(mass) = &m.mass {
        let p = dir.join("mass_mask.nii.gz");
        match nifti_io::write_mask_nifti(&p, &mass.mask) {
            Ok(()) => written.push(p),
            Err(e) => warnings.push(format!("{}: cannot write mass label map: {e}", p.display())),
        }
    }

    if let Some(mask) = enlarged_collaterals_mask(m, t) {
        let p = dir.join("collaterals_mask.nii.gz");
        match nifti_io::write_mask_nifti(&p, &mask) {
            Ok(()) => written.push(p),
            Err(e) => warnings.push(format!(
                "{}: cannot write collaterals label map: {e}",
                p.display()
            )),
        }
    }

    // The HTML last but one, report.json last: a complete report.json means a complete folder.
    let mut r2 = r.clone();
    for w in warnings.iter() {
        if !r2.warnings.contains(w) {
            r2.warnings.push(w.clone());
        }
    }
    written.push(write_atomic(
        dir,
        "report.html",
        html::render(&r2, &pics).as_bytes(),
    )?);
    Ok(written)
}
