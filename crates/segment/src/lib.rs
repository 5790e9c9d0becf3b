//! The anatomy measured: the IVC (segmentation, centreline, calibre every mm, lumen
//! visibility, landmarks), the mass (extent, relation to the IVC, enhancement across
//! phases), venous collaterals, and MRI signal ratios and ADC.
//!
//! Input is the study's volumes (each with its [`VolumeMeta`](cavascope_volume::VolumeMeta));
//! output is a plain [`Measurements`] value that the `features` stage turns into signs.
//! Every phase is compared in world space (LPS mm), never by voxel index.
//!
//! ```no_run
//! use cavascope_segment::{measure, SegmentOptions};
//! # let volumes: Vec<cavascope_volume::Volume> = vec![];
//! let m = measure(&volumes, &SegmentOptions::default());
//! if let Some(ivc) = &m.ivc {
//!     println!("IVC max diameter {:?} mm", ivc.max_equivalent_diameter_mm);
//! }
//! ```

#![warn(missing_docs)]

pub use cavascope_measurements::*;

use cavascope_collaterals::{measure_collaterals_with, CollateralsOutcome};
use cavascope_ingest::labelmap;
use cavascope_ivc::build_ivc;
use cavascope_ivc::landmarks;
use cavascope_mass::{build_mass, MassOutcome};
use cavascope_phases::assign_roles;
use cavascope_volume::Volume;
use std::path::Path;

/// Read `--ivc-mask FILE[:LABEL]` for [`SegmentOptions::ivc_mask`]: a multi-label file
/// gives TotalSegmentator's IVC label unless another is named.
pub fn read_ivc_mask(spec: &Path) -> MaskInput {
    MaskInput::new(
        spec.to_path_buf(),
        labelmap::read_label_mask(spec, Some(labelmap::TOTALSEG_V2_IVC)),
    )
}

/// Read `--mass-mask FILE[:LABEL]` for [`SegmentOptions::mass_mask`].
pub fn read_mass_mask(spec: &Path) -> MaskInput {
    MaskInput::new(spec.to_path_buf(), labelmap::read_label_mask(spec, None))
}

/// Wall-clock seconds of each part of [`measure`] (report.json `timings`, docs/report.md);
/// 0 for a part that did not run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimings {
    /// Series roles and phase assignment.
    pub phases_s: f64,
    /// IVC model and landmarks.
    pub ivc_s: f64,
    /// Mass search and measures (enhancement, MRI signal).
    pub mass_s: f64,
    /// Venous collaterals.
    pub collaterals_s: f64,
}

/// Run every measurement of the stage on a study's volumes: series roles, the IVC model
/// and landmarks, the mass (with its enhancement and, on MRI, T1/T2/ADC), then the
/// venous collaterals. Never fails: what cannot be measured is `None` with a warning.
pub fn measure(volumes: &[Volume], opts: &SegmentOptions) -> Measurements {
    measure_timed(volumes, opts).0
}

/// [`measure`], with the wall time of each of its stages.
pub fn measure_timed(volumes: &[Volume], opts: &SegmentOptions) -> (Measurements, StageTimings) {
    let mut m = Measurements::default();
    let mut times = StageTimings::default();
    if volumes.is_empty() {
        m.warnings.push("no volume to measure".into());
        return (m, times);
    }
    let t = std::time::Instant::now();
    m.phases = assign_roles(volumes, &opts.phase_overrides);
    for (uid, _) in &opts.phase_overrides {
        if !m.phases.iter().any(|p| &p.series_instance_uid == uid) {
            m.warnings
                .push(format!("--phase {uid}: no series with this UID in the study"));
        }
    }
    tracing::info!(
        roles = ?m.phases.iter().map(|p| p.role.as_str()).collect::<Vec<_>>(),
        "series roles"
    );
    times.phases_s = t.elapsed().as_secs_f64();

    // Stage times also at debug level (`RUST_LOG=debug`), for profiling a slow study.
    let t = std::time::Instant::now();
    let ivc = build_ivc(volumes, &m.phases, opts);
    times.ivc_s = t.elapsed().as_secs_f64();
    tracing::debug!(seconds = times.ivc_s, "ivc stage");
    m.warnings.extend(ivc.warnings);
    m.landmarks = ivc.landmarks;
    m.ivc = ivc.model;
    m.quality = ivc.quality;
    if let Some(a) = opts.anatomy.as_deref() {
        anatomy_landmarks(&mut m, a);
    }

    let t = std::time::Instant::now();
    let MassOutcome {
        model,
        not_searched,
        warnings,
    } = build_mass(volumes, &m.phases, m.ivc.as_ref(), &m.landmarks, opts);
    times.mass_s = t.elapsed().as_secs_f64();
    tracing::debug!(seconds = times.mass_s, "mass stage");
    m.warnings.extend(warnings);
    m.mass = model;
    m.mass_not_searched = not_searched;

    let t = std::time::Instant::now();
    let CollateralsOutcome {
        collaterals,
        warnings,
    } = measure_collaterals_with(
        volumes,
        &m.phases,
        m.ivc.as_ref(),
        m.mass.as_ref(),
        &m.landmarks,
        opts.anatomy.as_deref(),
    );
    times.collaterals_s = t.elapsed().as_secs_f64();
    tracing::debug!(seconds = times.collaterals_s, "collaterals stage");
    m.warnings.extend(warnings);
    m.collaterals = collaterals;
    (m, times)
}

/// Landmarks from the anatomy context (`--anatomy`) where its labels give them (kidneys →
/// renal-vein inflow, IVC leaving the liver → hepatic-vein confluence): preferred over
/// those found along the IVC, which then stand where the labels are silent. The IVC
/// sections' segments follow.
fn anatomy_landmarks(m: &mut Measurements, a: &cavascope_volume::Anatomy) {
    let (hepatic, renal, notes) = landmarks::from_anatomy(a);
    for n in notes {
        tracing::info!("{n}");
    }
    use landmarks::FromLabels;
    let lm = &mut m.landmarks;
    for (got, slot, what) in [
        (
            hepatic,
            &mut lm.hepatic_vein_confluence_z_mm,
            "hepatic-vein confluence",
        ),
        (renal, &mut lm.renal_vein_inflow_z_mm, "renal-vein inflow"),
    ] {
        let found_on_ivc = *slot;
        match got {
            FromLabels::At(z) => {
                let not_found = format!("{what} not found");
                m.warnings.retain(|w| !w.starts_with(&not_found));
                tracing::info!(
                    z_mm = z,
                    ?found_on_ivc,
                    "{what} from the anatomy labels ({})",
                    a.source
                );
                *slot = Some(z);
            }
            FromLabels::AboveLabels => {
                if let Some(z) = found_on_ivc {
                    m.warnings.push(format!(
                        "{what} found along the IVC at z {z:.0} mm dropped: the anatomy labels place it above the series"
                    ));
                }
                *slot = None;
            }
            FromLabels::Unknown => {}
        }
    }
    let lm = m.landmarks.clone();
    if let Some(ivc) = m.ivc.as_mut() {
        for s in &mut ivc.profile {
            s.segment = landmarks::segment_of(s.z_mm, &lm);
        }
    }
}
