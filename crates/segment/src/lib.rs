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

use cavascope_collaterals::{measure_collaterals, CollateralsOutcome};
use cavascope_ingest::labelmap;
use cavascope_ivc::build_ivc;
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

/// Run every measurement of the stage on a study's volumes: series roles, the IVC model
/// and landmarks, the mass (with its enhancement and, on MRI, T1/T2/ADC), then the
/// venous collaterals. Never fails: what cannot be measured is `None` with a warning.
pub fn measure(volumes: &[Volume], opts: &SegmentOptions) -> Measurements {
    let mut m = Measurements::default();
    if volumes.is_empty() {
        m.warnings.push("no volume to measure".into());
        return m;
    }
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

    // Stage times at debug level (`RUST_LOG=debug`), for profiling a slow study.
    let t = std::time::Instant::now();
    let ivc = build_ivc(volumes, &m.phases, opts);
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "ivc stage");
    m.warnings.extend(ivc.warnings);
    m.landmarks = ivc.landmarks;
    m.ivc = ivc.model;
    m.quality = ivc.quality;

    let t = std::time::Instant::now();
    let MassOutcome {
        model,
        not_searched,
        warnings,
    } = build_mass(volumes, &m.phases, m.ivc.as_ref(), &m.landmarks, opts);
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "mass stage");
    m.warnings.extend(warnings);
    m.mass = model;
    m.mass_not_searched = not_searched;

    let t = std::time::Instant::now();
    let CollateralsOutcome {
        collaterals,
        warnings,
    } = measure_collaterals(volumes, &m.phases, m.ivc.as_ref(), m.mass.as_ref(), &m.landmarks);
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "collaterals stage");
    m.warnings.extend(warnings);
    m.collaterals = collaterals;
    m
}
