//! Any folder of DICOM files → series → volumes with exact patient geometry.
//!
//! `load_study` walks a folder (any nesting, any file names, junk files), reads every
//! header in parallel, groups the images into series by a composite key (not the Series
//! Instance UID alone), sorts slices spatially, checks spacing, drops duplicates, and
//! decodes pixel data straight into preallocated volumes in LPS millimetres.
//! A bad file is data ([`SkippedFile`]), never the end of a study.
//!
//! Inside, one module per step: `scan` (folder walk), `header` (header-only pass), `group`
//! (composite key, duplicates, phases), `stack` (sort, spacing, tilt → geometry),
//! [`pixels`] (decoding into the volume), `series_meta` (what later stages read). Public
//! beside [`load_study`]: [`load_input`] (DICOM or NIfTI), [`labelmap`] (external masks),
//! [`anatomy`] (TotalSegmentator label maps), [`export`] (`convert`), [`synth`] (small
//! synthetic DICOM series for tests and benchmarks). The policies are described in
//! `docs/ingest.md`.
//!
//! ```
//! use cavascope_ingest::synth::{write_slice, SynthSlice};
//! // A 3-slice axial CT series written in shuffled order…
//! let dir = std::env::temp_dir().join(format!("ingest-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! for k in [2usize, 0, 1] {
//!     let mut s = SynthSlice::ct(4, 5, [-10.0, 20.0, 2.5 * k as f64], [0.7, 0.9]);
//!     s.sop_uid = format!("1.2.3.{k}");
//!     write_slice(&dir.join(format!("f{k}")), &s).unwrap();
//! }
//! // …comes back as one volume, sorted in space, in HU, with its LPS geometry.
//! let study = cavascope_ingest::load_study(&dir, &Default::default())?;
//! let s = &study.series[0];
//! assert_eq!(s.dims, [5, 4, 3]);
//! assert_eq!(s.spacing_mm, [0.9, 0.7, 2.5]);
//! let v = s.volume.as_ref().unwrap();
//! assert_eq!(v.data[[0, 0, 0]], -1024.0); // stored 0, RescaleIntercept −1024
//! assert!((v.geometry.index_to_world([0.0, 0.0, 2.0]).z - 5.0).abs() < 1e-9);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), cavascope_ingest::IngestError>(())
//! ```

#![warn(missing_docs)]

pub mod anatomy;
pub mod export;
mod group;
mod guard;
mod header;
mod jpeg12;
pub mod labelmap;
mod nifti_study;
pub mod pixels;
mod rle;
mod scan;
mod series_meta;
mod stack;
pub mod synth;

pub use nifti_study::{is_volume_input, load_input, load_volume_study};

use cavascope_volume::{Geometry, Volume, VolumeMeta};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors that stop a whole study (a bad *file* never does: it becomes a [`SkippedFile`]).
#[derive(Debug, Error)]
pub enum IngestError {
    /// The study folder (or a file in it) cannot be listed or read.
    #[error("{path}: cannot read study folder: {source}")]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The study path is a file where a folder was expected.
    #[error("{path}: not a folder")]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// A TotalSegmentator label map that cannot be used as anatomy.
    #[error("{path}: cannot read the anatomy label map: {why}")]
    Anatomy {
        /// The label map.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A series that cannot be written out (`convert`).
    #[error("{path}: cannot write the series: {why}")]
    Export {
        /// The output file.
        path: PathBuf,
        /// What failed.
        why: String,
    },
    /// A label map (`--ivc-mask`, `--mass-mask`) that cannot be used.
    #[error("{path}: cannot read label map: {reason}")]
    MaskRead {
        /// The label map file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The series formed no volume; `skipped` lists the files whose pixels failed.
    #[error("series {series_uid}: {why}")]
    NoVolume {
        /// Series Instance UID of the series.
        series_uid: String,
        /// Why no volume could be formed.
        why: String,
        /// The files whose pixels failed, each with its reason.
        skipped: Vec<SkippedFile>,
    },
}

/// Limits against hostile headers, checked before any allocation.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Largest number of voxels in one volume.
    pub max_voxels: u64,
    /// Largest file to open, bytes.
    pub max_file_bytes: u64,
    /// Decode pixel data (false: headers only, for `inspect`).
    pub decode_pixels: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_voxels: 2_000_000_000,
            max_file_bytes: 4 << 30,
            decode_pixels: true,
        }
    }
}

/// A file that was not used, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// Why it was not used (one line).
    pub reason: String,
}

/// One volume formed from a group of images.
#[derive(Debug, Clone)]
pub struct Series {
    /// Series Instance UID (several volumes may share one: the group key decides).
    pub series_instance_uid: String,
    /// Modality (0008,0060), e.g. `CT`, `MR`.
    pub modality: String,
    /// Series Description (0008,103E), when present.
    pub description: Option<String>,
    /// `[columns, rows, slices]`.
    pub dims: [usize; 3],
    /// `[column spacing, row spacing, slice spacing]` mm.
    pub spacing_mm: [f64; 3],
    /// Image files that went into the series.
    pub n_files: usize,
    /// Problems found while forming the volume (uneven spacing, missing slices, tilt…).
    pub problems: Vec<String>,
    /// `None` when the images could not form a volume (the reason is in `problems`), or
    /// when pixels were not decoded.
    pub volume: Option<Volume>,
    /// Series metadata (also in `volume.meta` when decoded; here also for headers-only).
    pub meta: VolumeMeta,
    /// Geometry of the volume, known from the headers alone; `None` when no volume can be formed.
    pub geometry: Option<Geometry>,
    /// "primary", "derived" or "localizer".
    pub kind: String,
    /// Positions of the source slices along the slice normal (mm), in volume order.
    pub slice_positions_mm: Vec<f64>,
    /// Shear of the slice axis against the normal (gantry tilt), degrees.
    pub tilt_deg: f64,
    /// Images dropped as copies of another (same SOP Instance UID and position).
    pub duplicates_dropped: usize,
    /// Transfer syntax UIDs of the files used.
    pub transfer_syntaxes: Vec<String>,
    /// For each slice of the volume (volume order), the source image(s) it was made from:
    /// one, or the two neighbours a resampled slice interpolates, the nearer first. What a
    /// derived object (DICOM SEG, SR) must reference. Empty when no volume was formed.
    pub slice_sources: Vec<Vec<SourceImage>>,
}

/// One source image (or one frame of a multi-frame image) of a volume slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceImage {
    /// SOP Class UID of the source image.
    pub sop_class_uid: String,
    /// SOP Instance UID of the source image.
    pub sop_instance_uid: String,
    /// 1-based frame number inside a multi-frame file; `None` for single-frame files.
    pub frame_number: Option<u32>,
    /// The file it was read from.
    pub path: PathBuf,
}

/// Everything ingest found in a folder.
#[derive(Debug, Clone, Default)]
pub struct Study {
    /// The folder (or NIfTI file) read.
    pub root: PathBuf,
    /// Files found under `root`.
    pub files_scanned: usize,
    /// Files that went into a series.
    pub files_used: usize,
    /// Files not used, each with its reason.
    pub skipped: Vec<SkippedFile>,
    /// The series formed, one volume each.
    pub series: Vec<Series>,
}

impl Study {
    /// The volumes that could be formed.
    pub fn volumes(&self) -> impl Iterator<Item = &Volume> {
        self.series.iter().filter_map(|s| s.volume.as_ref())
    }
}

/// Scan, group, sort and decode a study folder.
pub fn load_study(dir: &Path, opts: &IngestOptions) -> Result<Study, IngestError> {
    let Scanned {
        root,
        files_scanned,
        files,
        groups,
        mut skipped,
    } = scan_and_group(dir, opts)?;
    let mut series = Vec::with_capacity(groups.len());
    let mut used: BTreeSet<usize> = BTreeSet::new();
    for g in groups {
        let (s, bad) = build_series(&files, g, opts, &mut used);
        for (fi, reason) in bad {
            skipped.push(SkippedFile {
                path: files[fi].header.path.clone(),
                reason,
            });
        }
        series.push(s);
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Study {
        root,
        files_scanned,
        files_used: used.len(),
        skipped,
        series,
    })
}

/// A study after the header pass: files parsed, grouped; nothing decoded.
pub(crate) struct Scanned {
    pub root: PathBuf,
    pub files_scanned: usize,
    pub files: Vec<header::ParsedFile>,
    pub groups: Vec<group::Group>,
    pub skipped: Vec<SkippedFile>,
}

/// Folder walk, parallel header pass, grouping.
pub(crate) fn scan_and_group(dir: &Path, opts: &IngestOptions) -> Result<Scanned, IngestError> {
    if !dir.is_dir() {
        return Err(IngestError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let (paths, mut skipped) = scan::scan(dir)?;
    let files_scanned = paths.len() + skipped.len();
    let parsed: Vec<Result<header::ParsedFile, SkippedFile>> = paths
        .par_iter()
        .map(|p| {
            header::read_file(p, opts.max_file_bytes)
                .and_then(|pf| check_file(pf, opts))
                .map_err(|reason| SkippedFile {
                    path: p.clone(),
                    reason,
                })
        })
        .collect();
    let mut files = Vec::with_capacity(parsed.len());
    for r in parsed {
        match r {
            Ok(f) => files.push(f),
            Err(s) => skipped.push(s),
        }
    }
    let (groups, refused) = group::group_frames(&files);
    let mut refused_files: BTreeSet<usize> = BTreeSet::new();
    for (fi, reason) in refused {
        if refused_files.insert(fi) {
            skipped.push(SkippedFile {
                path: files[fi].header.path.clone(),
                reason,
            });
        }
    }
    Ok(Scanned {
        root: dir.to_path_buf(),
        files_scanned,
        files,
        groups,
        skipped,
    })
}

/// Checks that need only the header: a transfer syntax we can decode, enough bytes for
/// native pixel data, an image size within the limits.
fn check_file(pf: header::ParsedFile, opts: &IngestOptions) -> Result<header::ParsedFile, String> {
    use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
    use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
    let h = &pf.header;
    let voxels = h.rows as u64 * h.columns as u64 * h.frames as u64;
    if voxels > opts.max_voxels {
        return Err(format!(
            "{}×{}×{} frames = {voxels} voxels exceeds the limit of {}",
            h.columns, h.rows, h.frames, opts.max_voxels
        ));
    }
    match TransferSyntaxRegistry.get(&h.transfer_syntax) {
        None => return Err(format!("unknown transfer syntax {}", h.transfer_syntax)),
        // JPEG-LS: our own decoder (crates/jpegls), whatever dicom-pixeldata was built with.
        Some(_) if pixels::is_jpegls(&h.transfer_syntax) => {}
        Some(ts) if !ts.can_decode_all() => {
            return Err(format!(
                "transfer syntax {} ({}) cannot be decoded",
                h.transfer_syntax,
                ts.name()
            ))
        }
        Some(_) => {}
    }
    if pixels::is_native(&h.transfer_syntax) && h.transfer_syntax != pixels::DEFLATED_EXPLICIT_VR_LE {
        let need = pixels::frame_bytes(h) * h.frames as u64;
        if h.file_len < need {
            return Err(format!(
                "pixel data missing or truncated: file has {} bytes, {}×{}×{} samples of {} bits need {need}",
                h.file_len, h.columns, h.rows, h.frames, h.bits_allocated
            ));
        }
    }
    Ok(pf)
}

/// Plan and (optionally) decode one group. Returns the series and the files that had to
/// be dropped because their pixels could not be decoded.
pub(crate) fn build_series(
    files: &[header::ParsedFile],
    mut g: group::Group,
    opts: &IngestOptions,
    used: &mut BTreeSet<usize>,
) -> (Series, Vec<(usize, String)>) {
    let mut bad_files = Vec::new();
    // At most two rounds: a second plan without the files that failed to decode.
    for _round in 0..2 {
        let plan = match stack::plan(files, &g, opts.max_voxels) {
            Ok(p) => p,
            Err(reason) => return (series_meta::failed(files, &g, reason), bad_files),
        };
        if !opts.decode_pixels {
            mark_used(&plan, used);
            return (series_meta::from_plan(files, &g, &plan, None), bad_files);
        }
        match pixels::assemble(files, &plan) {
            Ok(data) => {
                mark_used(&plan, used);
                return (series_meta::from_plan(files, &g, &plan, Some(data)), bad_files);
            }
            Err(errs) => {
                let bad: BTreeSet<usize> = errs.iter().map(|e| e.0).collect();
                g.frames.retain(|f| !bad.contains(&f.file));
                g.notes.push(format!(
                    "{} file(s) with undecodable pixel data left out",
                    bad.len()
                ));
                bad_files.extend(errs);
                if g.frames.is_empty() {
                    break;
                }
            }
        }
    }
    let reason = "pixel data could not be decoded".to_string();
    (series_meta::failed(files, &g, reason), bad_files)
}

fn mark_used(plan: &stack::StackPlan, used: &mut BTreeSet<usize>) {
    used.extend(plan.frames.iter().map(|f| f.file));
}
