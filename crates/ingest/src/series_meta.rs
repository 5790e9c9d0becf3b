//! From a planned (and decoded) group to the public [`Series`] with its [`VolumeMeta`].

use crate::group::{Group, ImageKind};
use crate::header::ParsedFile;
use crate::stack::{SliceSource, StackPlan};
use crate::Series;
use cavascope_volume::{Volume, VolumeMeta};
use ndarray::Array3;
use std::collections::BTreeSet;

fn kind_name(k: ImageKind) -> &'static str {
    match k {
        ImageKind::Primary => "primary",
        ImageKind::Derived => "derived",
        ImageKind::Localizer => "localizer",
    }
}

/// Metadata of a group: the first image's attributes, times as the earliest frame's.
pub fn meta_of(files: &[ParsedFile], g: &Group, ordered: &[crate::group::FrameRef]) -> VolumeMeta {
    let Some(first) = ordered.first().or(g.frames.first()) else {
        return VolumeMeta {
            series_instance_uid: g.key.series_uid.clone(),
            modality: g.key.modality.clone(),
            ..Default::default()
        };
    };
    let h = &files[first.file].header;
    let f = first.get(files);
    let min = |it: &mut dyn Iterator<Item = Option<f64>>| {
        it.flatten()
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))
    };
    let acq = min(&mut ordered.iter().map(|r| r.get(files).acquisition_time_s))
        .or_else(|| min(&mut ordered.iter().map(|r| r.get(files).content_time_s)))
        .or(h.series_time_s);
    let mut seen = BTreeSet::new();
    let files_used: Vec<_> = ordered
        .iter()
        .filter(|r| seen.insert(r.file))
        .map(|r| files[r.file].header.path.clone())
        .collect();
    VolumeMeta {
        modality: h.modality.clone(),
        series_instance_uid: h.series_instance_uid.clone(),
        study_instance_uid: h.study_instance_uid.clone(),
        frame_of_reference_uid: h.frame_of_reference_uid.clone(),
        series_number: h.series_number,
        series_description: h.series_description.clone(),
        protocol_name: h.protocol_name.clone(),
        image_type: h.image_type.clone(),
        acquisition_time_s: acq,
        contrast_agent: h.contrast_agent.clone(),
        contrast_start_time_s: h.contrast_start_time_s,
        echo_time_ms: f.echo_time_ms,
        repetition_time_ms: h.repetition_time_ms,
        inversion_time_ms: h.inversion_time_ms,
        flip_angle_deg: h.flip_angle_deg,
        b_value: f.b_value,
        sequence_name: h.sequence_name.clone(),
        scanning_sequence: h.scanning_sequence.clone(),
        manufacturer: h.manufacturer.clone(),
        temporal_index: g.key.temporal_index.or(g.phase),
        files: files_used,
        slice_thickness_mm: h.slice_thickness,
        acquisition_number: h.acquisition_number,
    }
}

fn base(files: &[ParsedFile], g: &Group, meta: VolumeMeta, problems: Vec<String>) -> Series {
    let mut ts: Vec<String> = g
        .frames
        .iter()
        .map(|f| files[f.file].header.transfer_syntax.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    ts.dedup();
    Series {
        series_instance_uid: g.key.series_uid.clone(),
        modality: g.key.modality.clone(),
        description: meta.series_description.clone(),
        dims: [g.key.cols as usize, g.key.rows as usize, 0],
        spacing_mm: [0.0; 3],
        n_files: g.frames.iter().map(|f| f.file).collect::<BTreeSet<_>>().len(),
        problems,
        volume: None,
        meta,
        geometry: None,
        kind: kind_name(g.key.kind).to_string(),
        slice_positions_mm: Vec::new(),
        tilt_deg: 0.0,
        duplicates_dropped: g.duplicates_dropped,
        transfer_syntaxes: ts,
        slice_sources: Vec::new(),
    }
}

fn source_image(files: &[ParsedFile], f: &crate::group::FrameRef) -> crate::SourceImage {
    let h = &files[f.file].header;
    crate::SourceImage {
        sop_class_uid: h.sop_class_uid.clone(),
        sop_instance_uid: h.sop_instance_uid.clone(),
        frame_number: (h.frames > 1).then_some(f.frame + 1),
        path: h.path.clone(),
    }
}

/// The source image(s) of each output slice of a plan (see [`Series::slice_sources`]).
fn slice_sources(files: &[ParsedFile], plan: &StackPlan) -> Vec<Vec<crate::SourceImage>> {
    match &plan.source {
        SliceSource::Direct => plan
            .frames
            .iter()
            .take(plan.out_slices)
            .map(|f| vec![source_image(files, f)])
            .collect(),
        SliceSource::Interpolated(map) => map
            .iter()
            .map(|&(lo, hi, w)| {
                // The nearer frame first; the other only when it contributes.
                let (near, far) = if w <= 0.5 { (lo, hi) } else { (hi, lo) };
                let mut idx = vec![near];
                if far != near && w > 0.0 && w < 1.0 {
                    idx.push(far);
                }
                idx.iter()
                    .filter_map(|&i| plan.frames.get(i))
                    .map(|f| source_image(files, f))
                    .collect()
            })
            .collect(),
    }
}

/// A group that could not form a volume.
pub fn failed(files: &[ParsedFile], g: &Group, reason: String) -> Series {
    let mut problems = g.notes.clone();
    problems.push(format!("no volume: {reason}"));
    base(files, g, meta_of(files, g, &g.frames), problems)
}

/// A planned group, with its voxels when decoded.
pub fn from_plan(files: &[ParsedFile], g: &Group, plan: &StackPlan, data: Option<Array3<f32>>) -> Series {
    let mut problems = g.notes.clone();
    problems.extend(plan.problems.iter().cloned());
    let meta = meta_of(files, g, &plan.frames);
    let mut s = base(files, g, meta.clone(), problems);
    s.dims[2] = plan.out_slices;
    s.spacing_mm = plan.geometry.spacing();
    s.geometry = Some(plan.geometry.clone());
    s.slice_positions_mm = plan.positions_mm.clone();
    s.tilt_deg = plan.tilt_deg;
    s.slice_sources = slice_sources(files, plan);
    s.volume = data.map(|d| Volume::new(d, plan.geometry.clone(), meta));
    s
}
