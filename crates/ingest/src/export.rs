//! Series straight to NIfTI without assembling the volume in memory (`cavascope convert`).
//!
//! [`plan_study`] runs the header pass and plans every series (slice order, geometry)
//! without decoding a pixel. [`PlannedStudy::write_nifti`] then streams one series: a few
//! slices at a time are decoded into small reused buffers (rescale applied exactly as for
//! a [`cavascope_volume::Volume`]), encoded, and appended to the file while the next
//! slices decode. Memory stays at a few chunks instead of the whole f32 volume, and no
//! freshly allocated volume has to be faulted in page by page — on the 400-slice CT that
//! first-touch cost was most of `convert`'s time (see `docs/benchmarks.md`).
//!
//! The file holds the values `load_study` + `nifti_io::write_volume` would write: int16
//! when the rescale of every slice is integral (slope and intercept integers) and every
//! value fits, otherwise float32 (a value out of int16 range restarts the series as
//! float32). Series that cannot stream — resampled uneven spacing, frames of multi-frame
//! files — or whose files turn out undecodable take the whole-volume path, which leaves
//! the bad files out and says why.
//!
//! Uncompressed output of a signed 16-bit little-endian series with slope 1 and one
//! integral intercept skips the decoding: each file's PixelData value is copied as it is
//! and the intercept goes into scl_inter (`copy_series`; same values for any reader
//! that applies scl_slope/scl_inter, byte-identical at intercept 0).

use crate::group::{FrameRef, Group};
use crate::header::ParsedFile;
use crate::pixels::{
    decode_frames, native_frame_to_i16, open_le_pixel_value, EXPLICIT_VR_LE, IMPLICIT_VR_LE,
};
use crate::stack::{self, SliceSource, StackPlan};
use crate::{
    build_series, scan_and_group, series_meta, IngestError, IngestOptions, Series, SkippedFile, Study,
};
use cavascope_volume::nifti_io::{self, EncodeError, NiftiStream, VoxelType};
use cavascope_volume::VolumeError;
use ndarray::ArrayViewMut3;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;

/// Voxels decoded per chunk (4 MiB of f32): small enough to stay warm in cache-sized
/// reused buffers, large enough that per-chunk overhead is negligible.
const CHUNK_VOXELS: usize = 1 << 17;

/// A study after the header pass, every series planned, nothing decoded.
pub struct PlannedStudy {
    /// Series as [`crate::load_study`] reports them with `decode_pixels: false`.
    pub study: Study,
    files: Vec<ParsedFile>,
    groups: Vec<Group>,
    plans: Vec<Option<StackPlan>>,
    opts: IngestOptions,
    file_copy: bool,
}

/// What [`PlannedStudy::write_nifti`] wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The series as written (`volume` is `None`): as planned, or re-planned without the
    /// files whose pixels could not be decoded.
    pub series: Series,
    /// Files left out because their pixels could not be decoded, with the reason.
    pub skipped: Vec<SkippedFile>,
    /// Streamed slice by slice (`true`) or decoded as a whole volume first.
    pub streamed: bool,
    /// Written by copying each file's stored pixel bytes as they are, without decoding
    /// (see [`PlannedStudy::set_file_copy`]); implies `streamed`.
    pub file_copy: bool,
}

/// Header pass and plans for every series of a study folder (no pixel decoding).
pub fn plan_study(dir: &Path, opts: &IngestOptions) -> Result<PlannedStudy, IngestError> {
    let sc = scan_and_group(dir, opts)?;
    let mut series = Vec::with_capacity(sc.groups.len());
    let mut plans = Vec::with_capacity(sc.groups.len());
    let mut used = BTreeSet::new();
    for g in &sc.groups {
        match stack::plan(&sc.files, g, opts.max_voxels) {
            Ok(p) => {
                used.extend(p.frames.iter().map(|f| f.file));
                series.push(series_meta::from_plan(&sc.files, g, &p, None));
                plans.push(Some(p));
            }
            Err(reason) => {
                series.push(series_meta::failed(&sc.files, g, reason));
                plans.push(None);
            }
        }
    }
    let mut skipped = sc.skipped;
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(PlannedStudy {
        study: Study {
            root: sc.root,
            files_scanned: sc.files_scanned,
            files_used: used.len(),
            skipped,
            series,
        },
        files: sc.files,
        groups: sc.groups,
        plans,
        opts: opts.clone(),
        file_copy: true,
    })
}

enum StreamError {
    /// Some files could not be decoded: the whole-volume path handles them.
    Decode,
    /// A value does not fit int16: restart as float32.
    NotInt16,
    Write(VolumeError),
}

impl PlannedStudy {
    /// Write series `index` of [`PlannedStudy::study`] as NIfTI (`.nii`, or `.nii.gz`
    /// when the name ends in `.gz`); temporary name, then rename.
    pub fn write_nifti(&self, index: usize, path: &Path) -> Result<Exported, IngestError> {
        let fail = |why: String| IngestError::Export {
            path: path.to_path_buf(),
            why,
        };
        let (Some(g), Some(Some(plan)), Some(planned)) = (
            self.groups.get(index),
            self.plans.get(index),
            self.study.series.get(index),
        ) else {
            let s = self.study.series.get(index);
            return Err(IngestError::NoVolume {
                series_uid: s.map(|s| s.series_instance_uid.clone()).unwrap_or_default(),
                why: s
                    .and_then(|s| s.problems.last().cloned())
                    .unwrap_or_else(|| format!("no volume: no series {index}")),
                skipped: Vec::new(),
            });
        };
        if self.file_copy && !nifti_io::is_gz(path) {
            if let Some(intercept) = copyable(&self.files, plan) {
                if copy_series(&self.files, plan, path, intercept).is_some() {
                    return Ok(Exported {
                        series: planned.clone(),
                        skipped: Vec::new(),
                        streamed: true,
                        file_copy: true,
                    });
                }
                // A file changed since the header pass, or the copy failed: nothing was
                // left behind, and the normal path below decides, with its reasons.
            }
        }
        if streamable(&self.files, plan) {
            match stream_series(&self.files, plan, path) {
                Ok(()) => {
                    return Ok(Exported {
                        series: planned.clone(),
                        skipped: Vec::new(),
                        streamed: true,
                        file_copy: false,
                    })
                }
                Err(StreamError::Write(e)) => return Err(fail(e.to_string())),
                Err(StreamError::Decode | StreamError::NotInt16) => {}
            }
        }
        let opts = IngestOptions {
            decode_pixels: true,
            ..self.opts.clone()
        };
        let (mut series, bad) = build_series(&self.files, g.clone(), &opts, &mut BTreeSet::new());
        let skipped: Vec<SkippedFile> = bad
            .into_iter()
            .map(|(fi, reason)| SkippedFile {
                path: self.files[fi].header.path.clone(),
                reason,
            })
            .collect();
        let Some(volume) = series.volume.take() else {
            return Err(IngestError::NoVolume {
                series_uid: series.series_instance_uid.clone(),
                why: series.problems.last().cloned().unwrap_or_default(),
                skipped,
            });
        };
        nifti_io::write_volume(path, &volume).map_err(|e| fail(e.to_string()))?;
        Ok(Exported {
            series,
            skipped,
            streamed: false,
            file_copy: false,
        })
    }

    /// Whether [`PlannedStudy::write_nifti`] may copy stored pixel bytes file to file
    /// (default on; off forces the decoding path, e.g. to compare the two).
    pub fn set_file_copy(&mut self, on: bool) {
        self.file_copy = on;
    }
}

thread_local! {
    static SLICE_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl PlannedStudy {
    /// Stored values + intercept of series `index` as int16 into `out` (`[slice, row,
    /// column]`, C order, `rows × columns × slices` long), through the integer fast path
    /// alone: `Ok(false)` when the series does not qualify for it (resampled, multi-frame,
    /// compressed, slope ≠ 1, values outside int16…) — then nothing meaningful is in `out`.
    /// For callers that keep CT at half the memory of f32, and for the native-copy
    /// benchmark (into a warm buffer, no page faults).
    pub fn decode_int16_into(&self, index: usize, out: &mut [i16]) -> Result<bool, IngestError> {
        let Some(Some(plan)) = self.plans.get(index) else {
            return Ok(false);
        };
        if !streamable(&self.files, plan) {
            return Ok(false);
        }
        let h0 = &self.files[plan.frames[0].file].header;
        let plane = h0.rows as usize * h0.columns as usize;
        if out.len() != plane * plan.frames.len() {
            return Err(IngestError::Export {
                path: self.study.root.clone(),
                why: format!(
                    "int16 buffer holds {} values; the series has {}",
                    out.len(),
                    plane * plan.frames.len()
                ),
            });
        }
        Ok(out
            .par_chunks_mut(plane)
            .zip(plan.frames.par_iter())
            .all(|(o, f)| {
                let fr = f.get(&self.files);
                let h = &self.files[f.file].header;
                if cfg!(target_endian = "little") {
                    // int16 memory is little-endian here: decode straight into `out`.
                    return native_frame_to_i16(h, fr.slope, fr.intercept, bytemuck::cast_slice_mut(o))
                        .is_some();
                }
                // Little-endian bytes of one slice in a reused per-thread buffer, then
                // into the i16 plane.
                let mut b = SLICE_BUF.with(|c| std::mem::take(&mut *c.borrow_mut()));
                b.resize(plane * 2, 0);
                let ok = native_frame_to_i16(h, fr.slope, fr.intercept, &mut b).is_some();
                for (v, c) in o.iter_mut().zip(b.chunks_exact(2)) {
                    *v = i16::from_le_bytes([c[0], c[1]]);
                }
                SLICE_BUF.with(|c| *c.borrow_mut() = b);
                ok
            }))
    }
}

/// Output slices are input frames one to one, each from its own single-frame file (a
/// multi-frame file would be re-read for every chunk).
fn streamable(files: &[ParsedFile], plan: &StackPlan) -> bool {
    matches!(plan.source, SliceSource::Direct)
        && plan.out_slices == plan.frames.len()
        && plan.frames.iter().all(|f| files[f.file].header.frames == 1)
}

/// The series' common intercept when its NIfTI voxels are exactly the concatenation of
/// its files' PixelData values, so they can be copied as they are with the intercept in
/// scl_inter: streamable, every file native little-endian, 16 of 16 bits, signed (the
/// stored bytes are the int16 values: nothing to mask or sign-extend), one sample, slope 1
/// and one integral intercept for all slices (exact in f32). Byte order is not a concern:
/// DICOM little-endian and our NIfTI output both store little-endian int16.
fn copyable(files: &[ParsedFile], plan: &StackPlan) -> Option<f64> {
    if !streamable(files, plan) {
        return None;
    }
    let first = plan.frames.first()?;
    let h0 = &files[first.file].header;
    let intercept = first.get(files).intercept;
    if intercept.fract() != 0.0 || intercept.abs() > 65536.0 {
        return None;
    }
    plan.frames
        .iter()
        .all(|f| {
            let h = &files[f.file].header;
            let fr = f.get(files);
            (h.transfer_syntax == EXPLICIT_VR_LE || h.transfer_syntax == IMPLICIT_VR_LE)
                && h.frames == 1
                && h.samples_per_pixel == 1
                && h.bits_allocated == 16
                && h.bits_stored == 16
                && h.pixel_signed
                && (h.rows, h.columns) == (h0.rows, h0.columns)
                && fr.slope == 1.0
                && fr.intercept == intercept
        })
        // -0.0 == 0.0: write +0.0, the bytes the decoding path writes.
        .then_some(if intercept == 0.0 { 0.0 } else { intercept })
}

/// Each file's PixelData value copied as it is into the output, in slice order, intercept
/// in scl_inter. A reader thread reads the values into a few reused buffers while this
/// thread writes them (the page-cache write is the larger cost). `None` — and no output
/// left behind: the unfinished stream removes its temporary file — when a file no longer
/// passes the checks, ends early, or a write fails.
///
/// Plain `read` + `write` through warm buffers, not an in-kernel file-to-file copy:
/// `copy_file_range` goes through splice, which writes the page cache 4 KiB page by page,
/// and measured ~20 % more CPU than this on the 400-slice CT (docs/benchmarks.md).
fn copy_series(files: &[ParsedFile], plan: &StackPlan, path: &Path, intercept: f64) -> Option<()> {
    use std::sync::mpsc::sync_channel;
    const BUFFERS: usize = 3;
    let h0 = &files[plan.frames.first()?.file].header;
    let (rows, cols) = (h0.rows as usize, h0.columns as usize);
    let plane = rows * cols;
    let bytes = plane * 2;
    let mut stream = NiftiStream::create_with_intercept(
        path,
        [cols, rows, plan.out_slices],
        &plan.geometry,
        VoxelType::Int16,
        intercept as f32,
    )
    .ok()?;
    let (full_tx, full_rx) = sync_channel::<Vec<u8>>(BUFFERS);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(BUFFERS);
    for _ in 0..BUFFERS {
        empty_tx.send(vec![0u8; bytes]).ok()?;
    }
    let frames = &plan.frames;
    let out = &mut stream;
    let complete = std::thread::scope(|s| {
        let reader = s.spawn(move || {
            use std::io::Read;
            for f in frames {
                // Either channel closed: the writer stopped.
                let Ok(mut buf) = empty_rx.recv() else {
                    return false;
                };
                let Some(mut src) = open_le_pixel_value(&files[f.file].header, bytes) else {
                    return false;
                };
                if src.read_exact(&mut buf).is_err() || full_tx.send(buf).is_err() {
                    return false;
                }
            }
            true
        });
        // Consumes its channel ends (FnOnce), so stopping early closes them and the
        // reader returns instead of waiting forever.
        let writer = move || {
            let (full_rx, empty_tx) = (full_rx, empty_tx);
            let mut n = 0usize;
            for buf in full_rx.iter() {
                if out.write_encoded(&buf, plane).is_err() {
                    return false;
                }
                n += 1;
                // The reader may have finished and dropped its end: nothing to refill.
                let _ = empty_tx.send(buf);
            }
            n == frames.len()
        };
        let wrote = writer();
        reader.join().unwrap_or(false) && wrote
    });
    if !complete {
        return None;
    }
    stream.finish().ok()
}

fn stream_series(files: &[ParsedFile], plan: &StackPlan, path: &Path) -> Result<(), StreamError> {
    let integral = plan.frames.iter().all(|f| {
        let fr = f.get(files);
        fr.slope.fract() == 0.0 && fr.intercept.fract() == 0.0
    });
    if integral {
        match stream_as(files, plan, path, VoxelType::Int16) {
            Err(StreamError::NotInt16) => {}
            r => return r,
        }
    }
    stream_as(files, plan, path, VoxelType::Float32)
}

fn stream_as(files: &[ParsedFile], plan: &StackPlan, path: &Path, vt: VoxelType) -> Result<(), StreamError> {
    let h0 = &files[plan.frames[0].file].header;
    let (rows, cols) = (h0.rows as usize, h0.columns as usize);
    let plane = rows * cols;
    let per_chunk = (CHUNK_VOXELS / plane.max(1)).max(1);
    let mut stream = NiftiStream::create(path, [cols, rows, plan.out_slices], &plan.geometry, vt)
        .map_err(StreamError::Write)?;
    let enc = stream.encoder();
    let slots = rayon::current_num_threads().max(1) * 2;
    // Reused for every batch: fresh multi-MB buffers would be faulted in each time.
    let mut scratch: Vec<(Vec<f32>, Vec<u8>)> = vec![(Vec::new(), Vec::new()); slots];
    let mut cur: Vec<(Vec<u8>, usize)> = vec![(Vec::new(), 0); slots];
    let mut prev: Vec<(Vec<u8>, usize)> = vec![(Vec::new(), 0); slots];
    let mut n_prev = 0usize;
    for batch in plan.frames.chunks(per_chunk * slots) {
        let chunks: Vec<&[FrameRef]> = batch.chunks(per_chunk).collect();
        let n = chunks.len();
        // Write the previous batch while this one decodes.
        let (written, decoded) = rayon::join(
            || {
                prev[..n_prev]
                    .iter()
                    .try_for_each(|(buf, voxels)| stream.write_encoded(buf, *voxels))
            },
            || {
                chunks
                    .par_iter()
                    .zip(scratch[..n].par_iter_mut())
                    .zip(cur[..n].par_iter_mut())
                    .try_for_each(|((frames, (sc, raw)), (buf, voxels))| {
                        let len = frames.len() * plane;
                        *voxels = len;
                        if vt == VoxelType::Int16 {
                            // Integer samples straight to int16, no f32 (the common case).
                            let target = if enc.is_gz() { &mut *raw } else { &mut *buf };
                            if int16_fast(files, frames, plane, target) {
                                if enc.is_gz() {
                                    enc.pack_raw(raw, buf)
                                        .map_err(|e| StreamError::Write(internal(path, e)))?;
                                }
                                return Ok(());
                            }
                        }
                        if sc.len() < len {
                            sc.resize(len, 0.0);
                        }
                        let view = ArrayViewMut3::from_shape((frames.len(), rows, cols), &mut sc[..len])
                            .map_err(|e| StreamError::Write(internal(path, e)))?;
                        decode_frames(files, frames, view).map_err(|_| StreamError::Decode)?;
                        enc.encode(&sc[..len], buf).map_err(|e| match e {
                            EncodeError::NotInt16 { .. } => StreamError::NotInt16,
                            other => StreamError::Write(internal(path, other)),
                        })
                    })
            },
        );
        written.map_err(StreamError::Write)?;
        decoded?;
        std::mem::swap(&mut prev, &mut cur);
        n_prev = n;
    }
    for (buf, voxels) in &prev[..n_prev] {
        stream.write_encoded(buf, *voxels).map_err(StreamError::Write)?;
    }
    stream.finish().map_err(StreamError::Write)
}

/// All frames of the chunk through [`native_frame_to_i16`] into `out`; `false` as soon as
/// one does not qualify (the chunk then takes the general path).
fn int16_fast(files: &[ParsedFile], frames: &[FrameRef], plane: usize, out: &mut Vec<u8>) -> bool {
    out.resize(frames.len() * plane * 2, 0);
    frames.iter().zip(out.chunks_exact_mut(plane * 2)).all(|(f, o)| {
        let fr = f.get(files);
        native_frame_to_i16(&files[f.file].header, fr.slope, fr.intercept, o).is_some()
    })
}

fn internal(path: &Path, e: impl std::fmt::Display) -> VolumeError {
    VolumeError::Nifti {
        path: path.to_path_buf(),
        why: e.to_string(),
    }
}
