//! Grouping frames into volumes: a composite key, orientation clusters, duplicate removal
//! and separation of phases that share one Series Instance UID.

use crate::header::{normal_of, FrameHeader, ParsedFile};
use nalgebra::Vector3;
use std::collections::{BTreeMap, HashMap};

/// One frame of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameRef {
    pub file: usize,
    pub frame: u32,
}

impl FrameRef {
    pub fn get<'a>(&self, files: &'a [ParsedFile]) -> &'a FrameHeader {
        &files[self.file].frames[self.frame as usize]
    }
}

/// What kind of image a group holds; localizers and derived images never mix with the
/// primary acquisition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImageKind {
    Primary,
    Derived,
    Localizer,
}

/// Composite grouping key (everything that must be equal for frames to share a volume,
/// except orientation, which is clustered with a tolerance).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub series_number: Option<i64>,
    pub series_uid: String,
    pub modality: String,
    pub kind: ImageKind,
    pub rows: u32,
    pub cols: u32,
    pub echo_number: Option<i64>,
    /// TE in 1/100 ms.
    pub echo_time: Option<i64>,
    /// b-value, rounded s/mm².
    pub b_value: Option<i64>,
    pub temporal_index: Option<i64>,
    /// PixelSpacing in µm.
    pub pixel_spacing: Option<[i64; 2]>,
    pub stack_id: Option<String>,
    pub has_geometry: bool,
}

/// A group of frames meant to form one volume, with notes from grouping.
#[derive(Debug, Clone)]
pub struct Group {
    pub key: GroupKey,
    pub frames: Vec<FrameRef>,
    pub notes: Vec<String>,
    /// Phase index assigned when repeated positions were separated (1-based).
    pub phase: Option<i64>,
    pub duplicates_dropped: usize,
}

fn kind_of(image_type: &[String]) -> ImageKind {
    if image_type
        .iter()
        .any(|t| t == "LOCALIZER" || t == "SCOUT" || t == "SURVEY")
    {
        ImageKind::Localizer
    } else if image_type.first().map(|t| t == "DERIVED").unwrap_or(false) {
        ImageKind::Derived
    } else {
        ImageKind::Primary
    }
}

fn key_of(pf: &ParsedFile, fr: &FrameHeader) -> GroupKey {
    let h = &pf.header;
    GroupKey {
        series_number: h.series_number,
        series_uid: h.series_instance_uid.clone(),
        modality: h.modality.clone(),
        kind: kind_of(&h.image_type),
        rows: h.rows,
        cols: h.columns,
        echo_number: h.echo_number,
        echo_time: fr.echo_time_ms.map(|t| (t * 100.0).round() as i64),
        b_value: fr.b_value.map(|b| b.round() as i64),
        temporal_index: fr.temporal_index,
        pixel_spacing: fr
            .pixel_spacing
            .map(|p| [(p[0] * 1000.0).round() as i64, (p[1] * 1000.0).round() as i64]),
        stack_id: fr.stack_id.clone(),
        has_geometry: fr.ipp.is_some() && fr.iop.is_some(),
    }
}

const IOP_TOL: f64 = 1e-3;
/// Two positions along the normal closer than this are the same slice location.
pub const SAME_POSITION_MM: f64 = 0.05;

/// Group all frames of all files. Returns the groups and the frames refused (with reasons).
pub fn group_frames(files: &[ParsedFile]) -> (Vec<Group>, Vec<(usize, String)>) {
    let mut refused = Vec::new();
    let mut by_key: BTreeMap<GroupKey, Vec<FrameRef>> = BTreeMap::new();
    for (fi, pf) in files.iter().enumerate() {
        for fr in &pf.frames {
            if let Some(iop) = &fr.iop {
                if fr.ipp.is_some() && normal_of(iop).is_none() {
                    refused.push((fi, format!("invalid ImageOrientationPatient {iop:?}")));
                    continue;
                }
            }
            by_key.entry(key_of(pf, fr)).or_default().push(FrameRef {
                file: fi,
                frame: fr.frame,
            });
        }
    }
    let mut groups = Vec::new();
    for (key, frames) in by_key {
        if !key.has_geometry {
            let (frames, dups, notes) = drop_duplicates(files, frames);
            groups.push(Group {
                key,
                frames,
                notes,
                phase: None,
                duplicates_dropped: dups,
            });
            continue;
        }
        let clusters = cluster_orientation(files, frames);
        let n_clusters = clusters.len();
        for (ci, frames) in clusters.into_iter().enumerate() {
            let mut notes = Vec::new();
            if n_clusters > 1 {
                notes.push(format!(
                    "orientation {} of {} in this series (split by ImageOrientationPatient)",
                    ci + 1,
                    n_clusters
                ));
            }
            let (frames, dups, dup_notes) = drop_duplicates(files, frames);
            notes.extend(dup_notes);
            for mut g in split_phases(files, frames, &key) {
                g.notes.splice(0..0, notes.iter().cloned());
                g.duplicates_dropped = dups;
                groups.push(g);
            }
        }
    }
    (groups, refused)
}

fn cluster_orientation(files: &[ParsedFile], frames: Vec<FrameRef>) -> Vec<Vec<FrameRef>> {
    let mut reps: Vec<[f64; 6]> = Vec::new();
    let mut out: Vec<Vec<FrameRef>> = Vec::new();
    for f in frames {
        let Some(iop) = f.get(files).iop else { continue };
        let pos = reps
            .iter()
            .position(|r| r.iter().zip(iop.iter()).all(|(a, b)| (a - b).abs() < IOP_TOL));
        match pos {
            Some(p) => out[p].push(f),
            None => {
                reps.push(iop);
                out.push(vec![f]);
            }
        }
    }
    // Largest cluster first: the main acquisition before stray orientations.
    out.sort_by_key(|c| std::cmp::Reverse(c.len()));
    out
}

fn position(files: &[ParsedFile], f: FrameRef, n: &Vector3<f64>) -> f64 {
    let p = f.get(files).ipp.unwrap_or([0.0; 3]);
    Vector3::new(p[0], p[1], p[2]).dot(n)
}

fn group_normal(files: &[ParsedFile], frames: &[FrameRef]) -> Vector3<f64> {
    frames
        .first()
        .and_then(|f| f.get(files).iop)
        .and_then(|iop| normal_of(&iop))
        .unwrap_or_else(Vector3::z)
}

/// Same SOP Instance UID (and frame) at the same position: a copy of one image.
fn drop_duplicates(files: &[ParsedFile], frames: Vec<FrameRef>) -> (Vec<FrameRef>, usize, Vec<String>) {
    let n = group_normal(files, &frames);
    let mut seen: HashMap<(&str, u32), f64> = HashMap::new();
    let mut keep = Vec::with_capacity(frames.len());
    let mut dropped = 0;
    let mut shared_uid = 0;
    for f in frames {
        let uid = files[f.file].header.sop_instance_uid.as_str();
        if uid.is_empty() {
            keep.push(f);
            continue;
        }
        let s = position(files, f, &n);
        match seen.get(&(uid, f.frame)) {
            Some(&s0) if (s0 - s).abs() < SAME_POSITION_MM => dropped += 1,
            Some(_) => {
                shared_uid += 1;
                keep.push(f);
            }
            None => {
                seen.insert((uid, f.frame), s);
                keep.push(f);
            }
        }
    }
    let mut notes = Vec::new();
    if dropped > 0 {
        notes.push(format!(
            "{dropped} duplicate image(s) (same SOP Instance UID and position) dropped"
        ));
    }
    if shared_uid > 0 {
        notes.push(format!(
            "{shared_uid} image(s) reuse another image's SOP Instance UID at a different position (kept; UIDs are not unique)"
        ));
    }
    (keep, dropped, notes)
}

/// Separate volumes whose slice positions repeat (phases or repeats sharing one series).
fn split_phases(files: &[ParsedFile], frames: Vec<FrameRef>, _key: &GroupKey) -> Vec<Group> {
    let n = group_normal(files, &frames);
    let mut sorted: Vec<(f64, FrameRef)> = frames.iter().map(|&f| (position(files, f, &n), f)).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Cluster positions.
    let mut locs: Vec<Vec<FrameRef>> = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for (s, f) in sorted {
        if s - last < SAME_POSITION_MM {
            if let Some(l) = locs.last_mut() {
                l.push(f);
            }
        } else {
            locs.push(vec![f]);
        }
        last = s;
    }
    let max_rep = locs.iter().map(|l| l.len()).max().unwrap_or(1);
    let single = |frames: Vec<FrameRef>| Group {
        key: _key.clone(),
        frames,
        notes: Vec::new(),
        phase: None,
        duplicates_dropped: 0,
    };
    if max_rep <= 1 {
        return vec![single(frames)];
    }
    type Attr = fn(&ParsedFile, &FrameHeader) -> Option<i64>;
    let splitters: [(&str, Attr); 4] = [
        ("TemporalPositionIdentifier", |_, f| f.temporal_index),
        ("AcquisitionNumber", |p, _| p.header.acquisition_number),
        ("TriggerTime", |_, f| {
            f.trigger_time_ms.map(|t| (t * 1000.0).round() as i64)
        }),
        ("AcquisitionTime", |_, f| {
            f.acquisition_time_s.map(|t| (t * 1000.0).round() as i64)
        }),
    ];
    for (name, attr) in splitters {
        let mut parts: BTreeMap<Option<i64>, Vec<FrameRef>> = BTreeMap::new();
        for &f in &frames {
            parts
                .entry(attr(&files[f.file], f.get(files)))
                .or_default()
                .push(f);
        }
        // A real separator makes exactly as many parts as a position repeats, none of
        // which repeats a position (per-slice acquisition times would make far more).
        if parts.len() == max_rep && parts.values().all(|p| !has_repeats(files, p, &n)) {
            return parts
                .into_values()
                .enumerate()
                .map(|(i, frames)| Group {
                    key: _key.clone(),
                    frames,
                    notes: vec![format!(
                        "slice positions repeat {max_rep}×: volume {} of {max_rep}, separated by {name}",
                        i + 1
                    )],
                    phase: Some(i as i64 + 1),
                    duplicates_dropped: 0,
                })
                .collect();
        }
    }
    // Fallback: the n-th image at each position (in acquisition order) belongs to volume n.
    let order_key = |f: &FrameRef| {
        let fr = f.get(files);
        let h = &files[f.file].header;
        (
            fr.acquisition_time_s.map(|t| (t * 1e6) as i64),
            fr.content_time_s.map(|t| (t * 1e6) as i64),
            h.instance_number,
            f.frame,
            h.path.clone(),
        )
    };
    let mut phases: Vec<Vec<FrameRef>> = vec![Vec::new(); max_rep];
    for mut l in locs {
        l.sort_by_key(order_key);
        for (r, f) in l.into_iter().enumerate() {
            phases[r].push(f);
        }
    }
    phases
        .into_iter()
        .enumerate()
        .map(|(i, frames)| Group {
            key: _key.clone(),
            frames,
            notes: vec![format!(
                "slice positions repeat {max_rep}× with no separating tag: volume {} of {max_rep} by acquisition order at each position",
                i + 1
            )],
            phase: Some(i as i64 + 1),
            duplicates_dropped: 0,
        })
        .collect()
}

fn has_repeats(files: &[ParsedFile], frames: &[FrameRef], n: &Vector3<f64>) -> bool {
    let mut s: Vec<f64> = frames.iter().map(|&f| position(files, f, n)).collect();
    s.sort_by(|a, b| a.total_cmp(b));
    s.windows(2).any(|w| w[1] - w[0] < SAME_POSITION_MM)
}
