//! NIfTI-1 reading and writing (`.nii` and `.nii.gz`), geometry in patient LPS.
//!
//! Written files follow dcm2niix: qform = sform = NIFTI_XFORM_SCANNER_ANAT (1), RAS world
//! (LPS x and y negated), `xyzt_units` = mm. Unlike dcm2niix we do **not** flip rows: voxel
//! `[k, j, i]` of the array is NIfTI voxel `(i, j, k)`, and the affine says where it is, so
//! any NIfTI reader maps the same voxel to the same world point (dcm2niix's bottom-up rows
//! differ from ours only by an index flip that its affine undoes).
//!
//! The sform carries the full affine, shear included (gantry tilt); the qform cannot encode
//! shear and holds the nearest rigid rotation (polar decomposition), as nifti1_io does.
//!
//! Voxels are stored as int16 when every value is an integer in int16 range (CT in HU,
//! most MR), otherwise float32: both are exact for the data they hold. `.nii.gz` output is
//! compressed in parallel as concatenated gzip members (valid gzip; zlib, Python's gzip and
//! nibabel read it). Files are written to a temporary name in the target folder and renamed.
//! [`NiftiStream`] writes a volume chunk by chunk without holding it in memory (used by
//! `convert`, which streams slices straight from the DICOM files).
//!
//! Reading is bounded: the header's dimensions fix how many bytes are read, and a header
//! declaring more than [`MAX_READ_BYTES`] is refused, so a `.nii.gz` decompression bomb
//! cannot exhaust memory.
//!
//! ```
//! use cavascope_volume::{nifti_io, Geometry, Point3};
//! use ndarray::Array3;
//! let dir = std::env::temp_dir().join(format!("nifti-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let g = Geometry::axial(Point3::new(-10.0, 5.0, 2.0), [0.5, 0.5, 2.0]);
//! let data = Array3::from_shape_fn((3, 4, 5), |(k, j, i)| (k * 100 + j * 10 + i) as f32);
//! let path = dir.join("x.nii.gz");
//! nifti_io::write_nifti(&path, &data, &g).unwrap();
//! let (back, g2) = nifti_io::read_nifti(&path).unwrap();
//! assert_eq!(back, data);
//! assert!(g.max_abs_diff(&g2) < 1e-5);
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

use crate::{Geometry, Mask, Volume, VolumeError};
use nalgebra::{Matrix3, Matrix4};
use ndarray::Array3;
use rayon::prelude::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const HEADER_BYTES: usize = 348;
/// Header + 4 bytes of (empty) extension flag.
const VOX_OFFSET: usize = 352;

const DT_UINT8: i16 = 2;
const DT_INT16: i16 = 4;
const DT_INT32: i16 = 8;
const DT_FLOAT32: i16 = 16;
const DT_FLOAT64: i16 = 64;
const DT_INT8: i16 = 256;
const DT_UINT16: i16 = 512;
const DT_UINT32: i16 = 768;

/// Compressed chunk size: large enough that gzip member overhead is negligible.
const GZ_CHUNK: usize = 4 << 20;

fn err(path: &Path, why: impl Into<String>) -> VolumeError {
    VolumeError::Nifti {
        path: path.to_path_buf(),
        why: why.into(),
    }
}

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> VolumeError {
    VolumeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Is `path` written gzip-compressed (`.gz` extension, any case)?
pub fn is_gz(path: &Path) -> bool {
    path.extension()
        .map(|e| e.eq_ignore_ascii_case("gz"))
        .unwrap_or(false)
}

/// Write a volume's voxels and geometry (metadata is not stored in NIfTI; see the sidecar
/// writers of the callers).
pub fn write_volume(path: &Path, volume: &Volume) -> Result<(), VolumeError> {
    write_nifti(path, &volume.data, &volume.geometry)
}

/// Write `data` (`[slice, row, column]`) with its LPS geometry as NIfTI-1; gzip when the
/// name ends in `.gz`.
pub fn write_nifti(path: &Path, data: &Array3<f32>, geometry: &Geometry) -> Result<(), VolumeError> {
    let standard;
    let values: &[f32] = match data.as_slice() {
        Some(v) => v,
        None => {
            standard = data.as_standard_layout().into_owned();
            standard.as_slice().unwrap_or(&[])
        }
    };
    // `v as i16` saturates and maps NaN to 0, so the round trip is exact only for integers
    // in range: such volumes are stored as int16, losslessly and at half the size.
    // Non-short-circuiting fold per chunk: vectorises (`all` does not).
    let as_i16 = values.par_chunks(1 << 16).all(int16_exact);
    let voxel_type = if as_i16 {
        VoxelType::Int16
    } else {
        VoxelType::Float32
    };
    let mut stream = NiftiStream::create(path, dims_ijk(data.dim()), geometry, voxel_type)?;
    let enc = stream.encoder();
    let per_chunk = GZ_CHUNK / voxel_type.bytes();
    // Batches of chunks bound the memory held at once; chunks within a batch are encoded
    // in parallel. The buffers are reused across batches: freeing and reallocating them
    // cost more in page faults than the encoding itself.
    let slots = rayon::current_num_threads().max(1) * 2;
    let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); slots];
    for part in values.chunks(per_chunk * slots) {
        let n = part.len().div_ceil(per_chunk);
        part.par_chunks(per_chunk)
            .zip(bufs[..n].par_iter_mut())
            .try_for_each(|(c, buf)| enc.encode(c, buf))
            .map_err(|e| e.at(path))?;
        for (c, buf) in part.chunks(per_chunk).zip(&bufs[..n]) {
            stream.write_encoded(buf, c.len())?;
        }
    }
    stream.finish()
}

/// Are all values integers that int16 holds exactly? (Vectorises: no short circuit.)
fn int16_exact(c: &[f32]) -> bool {
    c.iter().fold(true, |ok, &v| ok & (to_i16(v) as f32 == v))
}

/// Voxel storage of a streamed NIfTI file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoxelType {
    /// int16, for volumes whose values are all integers in range (CT in HU, most MR).
    Int16,
    /// float32, exact for any `f32` volume.
    Float32,
}

impl VoxelType {
    /// Bytes per voxel.
    pub fn bytes(self) -> usize {
        match self {
            VoxelType::Int16 => 2,
            VoxelType::Float32 => 4,
        }
    }
}

/// Why a chunk could not be encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum EncodeError {
    /// A value is not an integer in int16 range: the caller must restart as float32.
    NotInt16 {
        /// The first value that does not fit.
        value: f32,
    },
    /// gzip failed (out of memory).
    Gzip(String),
}

impl EncodeError {
    fn at(self, path: &Path) -> VolumeError {
        match self {
            EncodeError::NotInt16 { value } => err(path, format!("value {value} does not fit int16")),
            EncodeError::Gzip(e) => err(path, format!("gzip: {e}")),
        }
    }
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeError::NotInt16 { value } => write!(f, "value {value} does not fit int16"),
            EncodeError::Gzip(e) => write!(f, "gzip: {e}"),
        }
    }
}

/// Encodes voxel chunks for a [`NiftiStream`]; `Copy` and `Sync`, so chunks can be encoded
/// on any thread while the stream writes earlier ones.
#[derive(Debug, Clone, Copy)]
pub struct VoxelEncoder {
    voxel_type: VoxelType,
    gz: bool,
}

thread_local! {
    static RAW_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl VoxelEncoder {
    /// Voxel type the stream was created with.
    pub fn voxel_type(&self) -> VoxelType {
        self.voxel_type
    }

    /// Is the output gzip-compressed (`.gz`)?
    pub fn is_gz(&self) -> bool {
        self.gz
    }

    /// Already-encoded little-endian voxels (`raw`, of this stream's voxel type) as the
    /// stream expects them: a gzip member for `.gz`, else a copy.
    pub fn pack_raw(&self, raw: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.clear();
        if !self.gz {
            out.extend_from_slice(raw);
            return Ok(());
        }
        let mut e = flate2::write::GzEncoder::new(std::mem::take(out), flate2::Compression::fast());
        e.write_all(raw)
            .and_then(|_| e.finish())
            .map(|v| *out = v)
            .map_err(|e| EncodeError::Gzip(e.to_string()))
    }

    /// `values` as little-endian stored voxels (a gzip member for `.gz`) into `out`
    /// (cleared first; its capacity is reused).
    pub fn encode(&self, values: &[f32], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if !self.gz {
            return self.encode_raw(values, out);
        }
        // The raw bytes go to a per-thread buffer, reused: fresh multi-MB buffers cost
        // more in page faults than the encoding.
        let mut raw = RAW_BUF.with(|c| std::mem::take(&mut *c.borrow_mut()));
        let r = self
            .encode_raw(values, &mut raw)
            .and_then(|_| self.pack_raw(&raw, out));
        RAW_BUF.with(|c| *c.borrow_mut() = raw);
        r
    }

    fn encode_raw(&self, values: &[f32], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self.voxel_type {
            VoxelType::Int16 => {
                out.resize(values.len() * 2, 0);
                // Check and convert in one pass, 8 values at a time (vectorises; a
                // per-value early exit would not).
                let mut ok = true;
                let mut o8 = out.chunks_exact_mut(16);
                let mut v8 = values.chunks_exact(8);
                for (o, v) in (&mut o8).zip(&mut v8) {
                    let mut a = [0i16; 8];
                    for i in 0..8 {
                        a[i] = to_i16(v[i]);
                        ok &= a[i] as f32 == v[i];
                    }
                    for i in 0..8 {
                        o[2 * i..2 * i + 2].copy_from_slice(&a[i].to_le_bytes());
                    }
                }
                for (o, &x) in o8.into_remainder().chunks_exact_mut(2).zip(v8.remainder()) {
                    let a = to_i16(x);
                    ok &= a as f32 == x;
                    o.copy_from_slice(&a.to_le_bytes());
                }
                if !ok {
                    let value = values
                        .iter()
                        .copied()
                        .find(|&v| to_i16(v) as f32 != v)
                        .unwrap_or(f32::NAN);
                    return Err(EncodeError::NotInt16 { value });
                }
            }
            VoxelType::Float32 => {
                out.resize(values.len() * 4, 0);
                for (o, &x) in out.chunks_exact_mut(4).zip(values) {
                    o.copy_from_slice(&x.to_le_bytes());
                }
            }
        }
        Ok(())
    }
}

/// A NIfTI-1 file written front to back in voxel order (`[slice, row, column]`), without
/// the whole volume in memory: the header first, then chunks encoded by
/// [`NiftiStream::encoder`] (on any thread), then [`NiftiStream::finish`], which checks
/// the voxel count and renames the temporary file into place. Dropped unfinished, the
/// temporary file is removed.
pub struct NiftiStream {
    path: PathBuf,
    tmp: PathBuf,
    w: Option<std::io::BufWriter<std::fs::File>>,
    enc: VoxelEncoder,
    expected: u64,
    written: u64,
}

impl NiftiStream {
    /// Create the temporary file and write the header. `dims_ijk` = `[columns, rows, slices]`.
    pub fn create(
        path: &Path,
        dims_ijk: [usize; 3],
        geometry: &Geometry,
        voxel_type: VoxelType,
    ) -> Result<NiftiStream, VolumeError> {
        NiftiStream::create_with_intercept(path, dims_ijk, geometry, voxel_type, 0.0)
    }

    /// [`NiftiStream::create`] with `scl_inter` = `intercept` (scl_slope 1): the voxels
    /// written are then stored values, and readers add the intercept. For copying stored
    /// samples as they are (`convert`'s copy of signed 16-bit series).
    pub fn create_with_intercept(
        path: &Path,
        dims_ijk: [usize; 3],
        geometry: &Geometry,
        voxel_type: VoxelType,
        intercept: f32,
    ) -> Result<NiftiStream, VolumeError> {
        if !intercept.is_finite() {
            return Err(err(path, format!("intercept {intercept} cannot be written")));
        }
        if dims_ijk.iter().any(|&n| n == 0 || n > i16::MAX as usize) {
            return Err(err(
                path,
                format!("dimensions {dims_ijk:?} cannot be written (1..=32767 each)"),
            ));
        }
        let (dt, bitpix) = match voxel_type {
            VoxelType::Int16 => (DT_INT16, 16),
            VoxelType::Float32 => (DT_FLOAT32, 32),
        };
        let mut header = build_header(dims_ijk, geometry, dt, bitpix);
        header[116..120].copy_from_slice(&intercept.to_le_bytes());
        let gz = is_gz(path);
        let tmp = temp_name(path);
        let f = std::fs::File::create(&tmp).map_err(|e| io_err(path, e))?;
        let expected: u64 = dims_ijk.iter().map(|&n| n as u64).product();
        if !gz {
            preallocate(&f, VOX_OFFSET as u64 + expected * voxel_type.bytes() as u64);
        }
        let mut s = NiftiStream {
            path: path.to_path_buf(),
            tmp,
            w: Some(std::io::BufWriter::with_capacity(1 << 16, f)),
            enc: VoxelEncoder { voxel_type, gz },
            expected,
            written: 0,
        };
        let head = if gz {
            gzip_member(&header).map_err(|e| io_err(path, e))?
        } else {
            header
        };
        s.write_bytes(&head)?;
        Ok(s)
    }

    /// The encoder for this file's voxel type and compression.
    pub fn encoder(&self) -> VoxelEncoder {
        self.enc
    }

    /// Append a chunk produced by [`VoxelEncoder::encode`] from `voxels` values.
    pub fn write_encoded(&mut self, bytes: &[u8], voxels: usize) -> Result<(), VolumeError> {
        self.written += voxels as u64;
        if self.written > self.expected {
            return Err(err(
                &self.path,
                format!("{} voxels written for {} expected", self.written, self.expected),
            ));
        }
        self.write_bytes(bytes)
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), VolumeError> {
        let w = self
            .w
            .as_mut()
            .ok_or_else(|| err(&self.path, "stream already closed"))?;
        w.write_all(bytes).map_err(|e| io_err(&self.path, e))
    }

    /// Check that every voxel was written, flush and rename into place.
    pub fn finish(mut self) -> Result<(), VolumeError> {
        if self.written != self.expected {
            return Err(err(
                &self.path,
                format!("{} voxels written for {} expected", self.written, self.expected),
            ));
        }
        let w = self
            .w
            .take()
            .ok_or_else(|| err(&self.path, "stream already closed"))?;
        let r = w
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|_| std::fs::rename(&self.tmp, &self.path));
        r.map_err(|e| {
            let _ = std::fs::remove_file(&self.tmp);
            io_err(&self.path, e)
        })
    }
}

impl Drop for NiftiStream {
    fn drop(&mut self) {
        // Unfinished (error, panic, early return): never leave a half-written file.
        if self.w.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Allocate the whole uncompressed file up front (its size is known): ext4's delayed
/// allocation otherwise reserves and maps blocks page by page during the writes, ~20 % of
/// the kernel time of writing a 200 MB file on our VM (see docs/benchmarks.md). Only an
/// optimisation: a filesystem without `fallocate` is written as before.
#[cfg(target_os = "linux")]
fn preallocate(f: &std::fs::File, len: u64) {
    use std::os::fd::AsRawFd;
    let Ok(len) = libc::off_t::try_from(len) else {
        return;
    };
    // SAFETY: a valid open descriptor for the life of `f`; no memory is passed.
    let _ = unsafe { libc::fallocate(f.as_raw_fd(), 0, 0, len) };
}

#[cfg(not(target_os = "linux"))]
fn preallocate(_: &std::fs::File, _: u64) {}

/// Saturating f32 → i16 (NaN → −32768) that vectorises, unlike `as i16`.
#[inline(always)]
fn to_i16(v: f32) -> i16 {
    // `max`/`min` return the non-NaN operand, so `c` is finite and within i16.
    let c = v.max(i16::MIN as f32).min(i16::MAX as f32);
    // SAFETY: `c` is finite and in i32 range.
    unsafe { c.to_int_unchecked::<i32>() as i16 }
}

/// Write a mask as uint8 labels (1 inside, 0 outside).
pub fn write_mask_nifti(path: &Path, mask: &Mask) -> Result<(), VolumeError> {
    let labels = mask.data.mapv(|b| b as u8);
    write_labels_nifti(path, &labels, &mask.geometry)
}

/// Write a uint8 label map (several labels allowed).
pub fn write_labels_nifti(path: &Path, labels: &Array3<u8>, geometry: &Geometry) -> Result<(), VolumeError> {
    let dims = dims_ijk(labels.dim());
    let body: Vec<u8> = labels.iter().copied().collect();
    let header = build_header(dims, geometry, DT_UINT8, 8);
    write_file(path, &header, &body, |c: &[u8], buf: &mut Vec<u8>| {
        buf.clear();
        buf.extend_from_slice(c)
    })
}

fn dims_ijk(d: (usize, usize, usize)) -> [usize; 3] {
    [d.2, d.1, d.0]
}

fn build_header(dims: [usize; 3], geometry: &Geometry, datatype: i16, bitpix: i16) -> Vec<u8> {
    let mut h = vec![0u8; VOX_OFFSET];
    let put_i16 = |h: &mut Vec<u8>, off: usize, v: i16| h[off..off + 2].copy_from_slice(&v.to_le_bytes());
    let put_i32 = |h: &mut Vec<u8>, off: usize, v: i32| h[off..off + 4].copy_from_slice(&v.to_le_bytes());
    let put_f32 = |h: &mut Vec<u8>, off: usize, v: f32| h[off..off + 4].copy_from_slice(&v.to_le_bytes());
    put_i32(&mut h, 0, HEADER_BYTES as i32);
    h[38] = b'r';
    // dim: rank 3; sizes above i16::MAX cannot be written (callers never produce them).
    put_i16(&mut h, 40, 3);
    for (a, &n) in dims.iter().enumerate() {
        put_i16(&mut h, 42 + 2 * a, n.min(i16::MAX as usize) as i16);
    }
    for a in 3..7 {
        put_i16(&mut h, 42 + 2 * a, 1);
    }
    put_i16(&mut h, 70, datatype);
    put_i16(&mut h, 72, bitpix);
    let ras = geometry.to_ras_affine();
    let q = Quatern::from_affine(&ras);
    put_f32(&mut h, 76, q.qfac as f32);
    for a in 0..3 {
        put_f32(&mut h, 80 + 4 * a, q.pixdim[a] as f32);
    }
    for a in 4..8 {
        put_f32(&mut h, 76 + 4 * a, 0.0);
    }
    put_f32(&mut h, 108, VOX_OFFSET as f32);
    put_f32(&mut h, 112, 1.0); // scl_slope: identity (values are stored exactly)
    put_f32(&mut h, 116, 0.0);
    h[123] = 2; // xyzt_units: NIFTI_UNITS_MM
    let descrip = b"cavascope";
    h[148..148 + descrip.len()].copy_from_slice(descrip);
    put_i16(&mut h, 252, 1); // qform_code = SCANNER_ANAT, as dcm2niix
    put_i16(&mut h, 254, 1); // sform_code = SCANNER_ANAT
    put_f32(&mut h, 256, q.b as f32);
    put_f32(&mut h, 260, q.c as f32);
    put_f32(&mut h, 264, q.d as f32);
    for a in 0..3 {
        put_f32(&mut h, 268 + 4 * a, ras[(a, 3)] as f32);
    }
    for r in 0..3 {
        for c in 0..4 {
            put_f32(&mut h, 280 + 16 * r + 4 * c, ras[(r, c)] as f32);
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    h
}

/// Temporary sibling name; renamed over `path` once complete.
fn temp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.tmp{}", std::process::id()))
}

/// Write header + encoded voxels, chunk by chunk (never a full copy of the voxels in
/// memory), gzip members compressed in parallel; temporary name, then rename.
fn write_file<T: Sync>(
    path: &Path,
    header: &[u8],
    values: &[T],
    encode: impl Fn(&[T], &mut Vec<u8>) + Sync + Send,
) -> Result<(), VolumeError> {
    let tmp = temp_name(path);
    let per_chunk = (GZ_CHUNK / std::mem::size_of::<T>().max(1)).max(1);
    let result = (|| -> std::io::Result<()> {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        let gz = is_gz(path);
        if gz {
            w.write_all(&gzip_member(header)?)?;
        } else {
            w.write_all(header)?;
        }
        // Batches of chunks bound the memory held at once; chunks within a batch run in
        // parallel. The encode buffers are reused across batches: freeing and reallocating
        // them cost more in page faults than the encoding itself.
        let slots = rayon::current_num_threads().max(1) * 2;
        let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); slots];
        for part in values.chunks(per_chunk * slots) {
            let n = part.len().div_ceil(per_chunk);
            if gz {
                let packed: Vec<std::io::Result<Vec<u8>>> = part
                    .par_chunks(per_chunk)
                    .zip(bufs[..n].par_iter_mut())
                    .map(|(c, buf)| {
                        encode(c, buf);
                        gzip_member(buf)
                    })
                    .collect();
                for m in packed {
                    w.write_all(&m?)?;
                }
            } else {
                part.par_chunks(per_chunk)
                    .zip(bufs[..n].par_iter_mut())
                    .for_each(|(c, buf)| encode(c, buf));
                for buf in &bufs[..n] {
                    w.write_all(buf)?;
                }
            }
        }
        w.flush()?;
        Ok(())
    })();
    match result.and_then(|_| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(io_err(path, e))
        }
    }
}

fn gzip_member(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // Level 1: medical volumes compress nearly as well at level 1 and 4-5x faster than 6.
    let mut e = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 64),
        flate2::Compression::fast(),
    );
    e.write_all(bytes)?;
    e.finish()
}

/// Read a NIfTI-1 file (`.nii` or `.nii.gz`, either byte order, any scalar datatype) as
/// `f32` voxels `[slice, row, column]` (scl_slope/inter applied) and LPS geometry from the
/// sform when its code is > 0, else the qform, else the pixdim diagonal.
/// A 4D file is read only if it holds a single volume.
///
/// At most [`MAX_READ_BYTES`] are read: see [`read_nifti_limited`].
pub fn read_nifti(path: &Path) -> Result<(Array3<f32>, Geometry), VolumeError> {
    read_nifti_limited(path, MAX_READ_BYTES)
}

/// Default bound on the bytes a NIfTI file may declare (header + voxels, uncompressed):
/// 4 GiB, a 1024 × 1024 × 1024 float32 volume.
pub const MAX_READ_BYTES: u64 = 4 << 30;

/// [`read_nifti`] with a bound on the uncompressed size. The header is read first and its
/// dimensions and datatype say how many bytes the voxels take; a file declaring more than
/// `max_bytes` is refused before any allocation, and decompression stops at the declared
/// size, so a `.nii.gz` that inflates without end (a decompression bomb) costs at most
/// `max_bytes` of memory. Bytes after the voxels are ignored.
pub fn read_nifti_limited(path: &Path, max_bytes: u64) -> Result<(Array3<f32>, Geometry), VolumeError> {
    let bytes = read_bounded(path, max_bytes)?;
    parse_nifti(path, &bytes)
}

fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, VolumeError> {
    let f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let file_len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let gz = is_gz(path);
    let mut r: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f)))
    } else {
        Box::new(std::io::BufReader::new(f))
    };
    let mut bytes = Vec::with_capacity(VOX_OFFSET);
    (&mut r)
        .take(VOX_OFFSET as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(path, e))?;
    // An unreadable header is reported by the parser with its reason.
    let Ok(l) = layout(&bytes) else {
        return Ok(bytes);
    };
    if l.need > max_bytes {
        return Err(err(
            path,
            format!(
                "header declares {} bytes ({}×{}×{} voxels of {} bytes), above the read limit of {max_bytes}",
                l.need, l.dims[0], l.dims[1], l.dims[2], l.bytes_per
            ),
        ));
    }
    let rest = l.need.saturating_sub(bytes.len() as u64);
    // Reserve what the header declares only when the file can hold it (a short file ends
    // early and the parser reports it truncated); compressed input grows as it inflates.
    if !gz {
        bytes.reserve_exact(rest.min(file_len) as usize);
    }
    r.take(rest)
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(path, e))?;
    Ok(bytes)
}

#[cfg(test)]
fn read_all(path: &Path) -> Result<Vec<u8>, VolumeError> {
    let f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut bytes = Vec::new();
    flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f))
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(path, e))?;
    Ok(bytes)
}

struct Reader<'a> {
    b: &'a [u8],
    swap: bool,
}

impl Reader<'_> {
    fn arr<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut a = [0u8; N];
        a.copy_from_slice(&self.b[off..off + N]);
        if self.swap {
            a.reverse();
        }
        a
    }
    fn i16(&self, off: usize) -> i16 {
        i16::from_le_bytes(self.arr(off))
    }
    fn f32(&self, off: usize) -> f32 {
        f32::from_le_bytes(self.arr(off))
    }
}

/// Where the voxels are, from the header alone.
struct Layout {
    swap: bool,
    dims: [usize; 3],
    datatype: i16,
    bytes_per: usize,
    /// Byte offset of the voxels.
    off: usize,
    /// Bytes the file needs: offset + voxels (saturating; compared against limits).
    need: u64,
}

fn layout(b: &[u8]) -> Result<Layout, String> {
    if b.len() < HEADER_BYTES {
        return Err(format!("file too short for a NIfTI header ({} bytes)", b.len()));
    }
    let le = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let swap = match le {
        348 => false,
        _ if le.swap_bytes() == 348 => true,
        540 | 0x1c020000 => return Err("NIfTI-2 is not supported".into()),
        _ => return Err("not a NIfTI-1 file (sizeof_hdr is not 348)".into()),
    };
    let r = Reader { b, swap };
    if &b[344..347] != b"n+1" && &b[344..347] != b"ni1" {
        return Err("bad NIfTI magic".into());
    }
    if &b[344..347] == b"ni1" {
        return Err("two-file NIfTI (.hdr/.img) is not supported".into());
    }
    let rank = r.i16(40);
    if !(1..=7).contains(&rank) {
        return Err(format!("dim[0] = {rank} is invalid"));
    }
    let mut dims = [1usize; 7];
    for (a, d) in dims.iter_mut().enumerate().take(rank as usize) {
        let n = r.i16(42 + 2 * a);
        if n < 1 {
            return Err(format!("dim[{}] = {n} is invalid", a + 1));
        }
        *d = n as usize;
    }
    if dims[3..].iter().any(|&n| n != 1) {
        return Err(format!(
            "{rank}D image with {:?} volumes: only one 3D volume is read",
            &dims[3..]
        ));
    }
    let datatype = r.i16(70);
    let bytes_per = match datatype {
        DT_UINT8 | DT_INT8 => 1,
        DT_INT16 | DT_UINT16 => 2,
        DT_INT32 | DT_UINT32 | DT_FLOAT32 => 4,
        DT_FLOAT64 => 8,
        other => return Err(format!("NIfTI datatype {other} is not supported")),
    };
    let vox_offset = r.f32(108);
    if !(vox_offset.is_finite() && (0.0..1e12).contains(&vox_offset)) {
        return Err("invalid vox_offset".into());
    }
    let off = (vox_offset as usize).max(HEADER_BYTES);
    // Each dim ≤ 32767 and bytes_per ≤ 8: the product fits u64.
    let need = (dims[0] * dims[1]) as u64 * dims[2] as u64 * bytes_per as u64 + off as u64;
    Ok(Layout {
        swap,
        dims: [dims[0], dims[1], dims[2]],
        datatype,
        bytes_per,
        off,
        need,
    })
}

fn parse_nifti(path: &Path, b: &[u8]) -> Result<(Array3<f32>, Geometry), VolumeError> {
    let Layout {
        swap,
        dims,
        datatype,
        bytes_per,
        off,
        need,
    } = layout(b).map_err(|why| err(path, why))?;
    let r = Reader { b, swap };
    let [nx, ny, nz] = dims;
    let n = nx * ny * nz;
    if need > b.len() as u64 {
        return Err(err(
            path,
            format!(
                "voxel data truncated: {n} voxels of {bytes_per} bytes at offset {off}, file has {} bytes",
                b.len()
            ),
        ));
    }
    let raw = &b[off..off + n * bytes_per];
    let mut slope = r.f32(112);
    let mut inter = r.f32(116);
    if slope == 0.0 || !slope.is_finite() {
        // nifti1.h: scl_slope 0 means no scaling.
        slope = 1.0;
        inter = 0.0;
    }
    if !inter.is_finite() {
        inter = 0.0;
    }
    let conv = |c: &[u8]| -> f32 {
        let mut a = [0u8; 8];
        a[..c.len()].copy_from_slice(c);
        if swap {
            a[..c.len()].reverse();
        }
        match datatype {
            DT_UINT8 => a[0] as f32,
            DT_INT8 => a[0] as i8 as f32,
            DT_INT16 => i16::from_le_bytes([a[0], a[1]]) as f32,
            DT_UINT16 => u16::from_le_bytes([a[0], a[1]]) as f32,
            DT_INT32 => i32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f32,
            DT_UINT32 => u32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f32,
            DT_FLOAT32 => f32::from_le_bytes([a[0], a[1], a[2], a[3]]),
            _ => f64::from_le_bytes(a) as f32,
        }
    };
    let values: Vec<f32> = raw
        .par_chunks(bytes_per)
        .map(|c| {
            let v = conv(c);
            if slope == 1.0 && inter == 0.0 {
                v
            } else {
                v * slope + inter
            }
        })
        .collect();
    let data = Array3::from_shape_vec((nz, ny, nx), values).map_err(|e| err(path, e.to_string()))?;
    let geometry = header_geometry(&r).ok_or_else(|| err(path, "degenerate affine (sform/qform/pixdim)"))?;
    Ok((data, geometry))
}

fn header_geometry(r: &Reader) -> Option<Geometry> {
    let qform_code = r.i16(252);
    let sform_code = r.i16(254);
    let mut ras = Matrix4::identity();
    if sform_code > 0 {
        for row in 0..3 {
            for c in 0..4 {
                ras[(row, c)] = r.f32(280 + 16 * row + 4 * c) as f64;
            }
        }
    } else if qform_code > 0 {
        let q = Quatern {
            b: r.f32(256) as f64,
            c: r.f32(260) as f64,
            d: r.f32(264) as f64,
            qfac: if r.f32(76) < 0.0 { -1.0 } else { 1.0 },
            pixdim: [r.f32(80) as f64, r.f32(84) as f64, r.f32(88) as f64],
        };
        ras = q.affine([r.f32(268) as f64, r.f32(272) as f64, r.f32(276) as f64]);
    } else {
        // Analyze-style: pixdim only (nifti1.h "method 1").
        for a in 0..3 {
            let p = r.f32(80 + 4 * a) as f64;
            ras[(a, a)] = if p > 0.0 && p.is_finite() { p } else { 1.0 };
        }
    }
    Geometry::from_ras_affine(ras)
}

/// NIfTI quaternion parameters (nifti1_io's `nifti_mat44_to_quatern`).
#[derive(Debug, Clone, Copy)]
struct Quatern {
    b: f64,
    c: f64,
    d: f64,
    qfac: f64,
    pixdim: [f64; 3],
}

impl Quatern {
    fn from_affine(m: &Matrix4<f64>) -> Quatern {
        let lin: Matrix3<f64> = m.fixed_view::<3, 3>(0, 0).into_owned();
        let mut pixdim = [1.0; 3];
        let mut cols = lin;
        for (a, pd) in pixdim.iter_mut().enumerate() {
            let n = lin.column(a).norm();
            if n > 0.0 {
                *pd = n;
                cols.set_column(a, &(lin.column(a) / n));
            }
        }
        // Nearest orthogonal matrix (polar decomposition): qform cannot hold shear.
        let svd = cols.svd(true, true);
        let mut rot = match (svd.u, svd.v_t) {
            (Some(u), Some(vt)) => u * vt,
            _ => Matrix3::identity(),
        };
        let qfac = if rot.determinant() < 0.0 { -1.0 } else { 1.0 };
        if qfac < 0.0 {
            let c2 = -rot.column(2);
            rot.set_column(2, &c2);
        }
        let (r11, r12, r13) = (rot[(0, 0)], rot[(0, 1)], rot[(0, 2)]);
        let (r21, r22, r23) = (rot[(1, 0)], rot[(1, 1)], rot[(1, 2)]);
        let (r31, r32, r33) = (rot[(2, 0)], rot[(2, 1)], rot[(2, 2)]);
        let mut a = r11 + r22 + r33 + 1.0;
        let (b, c, d);
        if a > 0.5 {
            a = 0.5 * a.sqrt();
            b = 0.25 * (r32 - r23) / a;
            c = 0.25 * (r13 - r31) / a;
            d = 0.25 * (r21 - r12) / a;
        } else {
            let xd = 1.0 + r11 - (r22 + r33);
            let yd = 1.0 + r22 - (r11 + r33);
            let zd = 1.0 + r33 - (r11 + r22);
            let (mut aa, mut bb, mut cc, mut dd);
            if xd > 1.0 {
                bb = 0.5 * xd.sqrt();
                cc = 0.25 * (r12 + r21) / bb;
                dd = 0.25 * (r13 + r31) / bb;
                aa = 0.25 * (r32 - r23) / bb;
            } else if yd > 1.0 {
                cc = 0.5 * yd.sqrt();
                bb = 0.25 * (r12 + r21) / cc;
                dd = 0.25 * (r23 + r32) / cc;
                aa = 0.25 * (r13 - r31) / cc;
            } else {
                dd = 0.5 * zd.sqrt();
                bb = 0.25 * (r13 + r31) / dd;
                cc = 0.25 * (r23 + r32) / dd;
                aa = 0.25 * (r21 - r12) / dd;
            }
            if aa < 0.0 {
                bb = -bb;
                cc = -cc;
                dd = -dd;
                aa = -aa;
            }
            let _ = aa;
            b = bb;
            c = cc;
            d = dd;
        }
        Quatern {
            b,
            c,
            d,
            qfac,
            pixdim,
        }
    }

    fn affine(&self, offset: [f64; 3]) -> Matrix4<f64> {
        let (mut b, mut c, mut d) = (self.b, self.c, self.d);
        let s = b * b + c * c + d * d;
        let a = if 1.0 - s < 1e-7 {
            let k = 1.0 / s.sqrt();
            b *= k;
            c *= k;
            d *= k;
            0.0
        } else {
            (1.0 - s).sqrt()
        };
        let pd = |p: f64| if p > 0.0 && p.is_finite() { p } else { 1.0 };
        let (xd, yd, mut zd) = (pd(self.pixdim[0]), pd(self.pixdim[1]), pd(self.pixdim[2]));
        if self.qfac < 0.0 {
            zd = -zd;
        }
        let mut m = Matrix4::identity();
        m[(0, 0)] = (a * a + b * b - c * c - d * d) * xd;
        m[(0, 1)] = 2.0 * (b * c - a * d) * yd;
        m[(0, 2)] = 2.0 * (b * d + a * c) * zd;
        m[(1, 0)] = 2.0 * (b * c + a * d) * xd;
        m[(1, 1)] = (a * a + c * c - b * b - d * d) * yd;
        m[(1, 2)] = 2.0 * (c * d - a * b) * zd;
        m[(2, 0)] = 2.0 * (b * d - a * c) * xd;
        m[(2, 1)] = 2.0 * (c * d + a * b) * yd;
        m[(2, 2)] = (a * a + d * d - c * c - b * b) * zd;
        for r in 0..3 {
            m[(r, 3)] = offset[r];
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Point3, Vector3};

    fn oblique() -> Geometry {
        let row = Vector3::new(0.9, 0.2, -0.1).normalize();
        let col = Vector3::new(-0.2, 0.9, 0.3);
        let col = (col - row * row.dot(&col)).normalize();
        let n = row.cross(&col);
        Geometry::from_axes(Point3::new(-120.5, 33.25, -80.0), row, col, n, [0.7, 0.8, 2.5])
    }

    fn ramp(shape: (usize, usize, usize), frac: bool) -> Array3<f32> {
        Array3::from_shape_fn(shape, |(k, j, i)| {
            let v = k as f32 * 1000.0 + j as f32 * 30.0 - i as f32 * 7.0 - 1024.0;
            if frac {
                v * 0.37
            } else {
                v
            }
        })
    }

    #[test]
    fn round_trip_int_and_float_gz_and_plain() {
        let dir = tempfile::tempdir().unwrap();
        for (name, frac) in [
            ("a.nii", false),
            ("b.nii.gz", false),
            ("c.nii.gz", true),
            ("d.nii", true),
        ] {
            let g = oblique();
            let d = ramp((5, 7, 9), frac);
            let p = dir.path().join(name);
            write_nifti(&p, &d, &g).unwrap();
            let (d2, g2) = read_nifti(&p).unwrap();
            assert_eq!(d, d2, "{name}");
            // f32 storage of the affine: ~1e-5 relative.
            assert!(g.max_abs_diff(&g2) < 1e-4, "{name}: {}", g.max_abs_diff(&g2));
        }
    }

    #[test]
    fn qform_matches_sform_for_rigid_and_reads_back() {
        // Force reading from the qform by zeroing sform_code: the rigid affine must survive.
        let g = oblique();
        for qfac_flip in [false, true] {
            let g = if qfac_flip {
                // Left-handed index frame (reversed slice order): exercises qfac = -1.
                Geometry::from_columns(g.step(0), g.step(1), -g.step(2), g.origin()).unwrap()
            } else {
                g.clone()
            };
            let h = build_header([4, 3, 2], &g, DT_UINT8, 8);
            let mut b = h.clone();
            b[254] = 0;
            b[255] = 0;
            b.extend(std::iter::repeat_n(0u8, 24));
            let (_, gq) = parse_nifti(Path::new("x"), &b).unwrap();
            assert!(
                g.max_abs_diff(&gq) < 1e-4,
                "qfac_flip={qfac_flip}: {}",
                g.max_abs_diff(&gq)
            );
        }
    }

    #[test]
    fn sheared_sform_kept_qform_rigid() {
        let row = Vector3::x();
        let col = Vector3::y();
        let slice = Vector3::new(0.0, 0.3, 1.0).normalize();
        let g = Geometry::from_axes(Point3::new(1.0, 2.0, 3.0), row, col, slice, [0.5, 0.5, 1.0]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.nii");
        write_nifti(&p, &ramp((3, 3, 3), false), &g).unwrap();
        let (_, g2) = read_nifti(&p).unwrap();
        assert!(g.max_abs_diff(&g2) < 1e-5);
        assert!((g2.shear_deg() - 0.3f64.atan().to_degrees()).abs() < 1e-3);
    }

    /// Larger than several chunks and batches: exercises the multi-member gzip and buffer reuse.
    #[test]
    fn multi_chunk_round_trip() {
        let g = oblique();
        let dir = tempfile::tempdir().unwrap();
        for frac in [false, true] {
            let d = ramp((7, 700, 900), frac);
            for name in ["big.nii", "big.nii.gz"] {
                let p = dir.path().join(name);
                write_nifti(&p, &d, &g).unwrap();
                let (d2, _) = read_nifti(&p).unwrap();
                assert!(d == d2, "{name} frac={frac}");
            }
        }
    }

    #[test]
    fn mask_written_as_uint8() {
        let g = Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]);
        let mut m = Mask::new(Array3::from_elem((2, 3, 4), false), g);
        m.data[[1, 2, 3]] = true;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.nii.gz");
        write_mask_nifti(&p, &m).unwrap();
        let raw = read_all(&p).unwrap();
        assert_eq!(i16::from_le_bytes([raw[70], raw[71]]), DT_UINT8);
        assert_eq!(raw.len(), VOX_OFFSET + 24);
        let (d, _) = read_nifti(&p).unwrap();
        assert_eq!(d.iter().filter(|&&v| v == 1.0).count(), 1);
        assert_eq!(d[[1, 2, 3]], 1.0);
    }

    #[test]
    fn hostile_headers_refused() {
        let g = Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]);
        let mut h = build_header([1000, 1000, 1000], &g, DT_FLOAT32, 32);
        assert!(parse_nifti(Path::new("x"), &h).is_err()); // truncated data
        h[70] = 99;
        assert!(parse_nifti(Path::new("x"), &h).is_err());
        assert!(parse_nifti(Path::new("x"), &h[..100]).is_err());
        assert!(parse_nifti(Path::new("x"), &[0u8; 400]).is_err());
    }

    /// A `.nii.gz` whose voxels inflate far beyond what its header declares (a
    /// decompression bomb) is read only up to the declared size; a header declaring more
    /// than the limit is refused before anything is allocated.
    #[test]
    fn gz_read_is_bounded() {
        let g = Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]);
        let dir = tempfile::tempdir().unwrap();
        // 4×4×4 uint8 volume followed by 64 MiB of zeros in the same gzip stream (~64 KB on disk).
        let p = dir.path().join("bomb.nii.gz");
        {
            let f = std::fs::File::create(&p).unwrap();
            let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::best());
            e.write_all(&build_header([4, 4, 4], &g, DT_UINT8, 8)).unwrap();
            let zeros = vec![7u8; 1 << 20];
            for _ in 0..64 {
                e.write_all(&zeros).unwrap();
            }
            e.finish().unwrap();
        }
        assert!(std::fs::metadata(&p).unwrap().len() < 1 << 20);
        let bytes = read_bounded(&p, MAX_READ_BYTES).unwrap();
        assert_eq!(bytes.len(), VOX_OFFSET + 64, "read stops at the declared size");
        let (d, _) = read_nifti(&p).unwrap();
        assert_eq!(d.dim(), (4, 4, 4));
        assert!(d.iter().all(|&v| v == 7.0));
        // 1000³ float32 declared (4 GB) against a 1 MB limit: refused from the header alone.
        let p2 = dir.path().join("huge.nii.gz");
        {
            let f = std::fs::File::create(&p2).unwrap();
            let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            e.write_all(&build_header([1000, 1000, 1000], &g, DT_FLOAT32, 32))
                .unwrap();
            e.finish().unwrap();
        }
        let e = read_nifti_limited(&p2, 1 << 20).unwrap_err().to_string();
        assert!(
            e.contains("above the read limit") && e.contains("huge.nii.gz"),
            "{e}"
        );
        // Within the default limit but truncated: the parser says so.
        let e = read_nifti(&p2).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn stream_with_intercept_reads_back_shifted() {
        let g = Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]);
        let dir = tempfile::tempdir().unwrap();
        // Stored int16 bytes as they are, intercept in scl_inter.
        let stored: Vec<i16> = (0..24).map(|v| v * 3 - 40).collect();
        let bytes: Vec<u8> = stored.iter().flat_map(|v| v.to_le_bytes()).collect();
        let p = dir.path().join("c.nii");
        let mut s = NiftiStream::create_with_intercept(&p, [4, 3, 2], &g, VoxelType::Int16, -1024.0).unwrap();
        s.write_encoded(&bytes[..24], 12).unwrap();
        s.write_encoded(&bytes[24..], 12).unwrap();
        s.finish().unwrap();
        let raw = std::fs::read(&p).unwrap();
        assert_eq!(raw.len(), VOX_OFFSET + 48, "preallocated length = written length");
        assert_eq!(&raw[VOX_OFFSET..], &bytes[..]);
        let (d, _) = read_nifti(&p).unwrap();
        let want: Vec<f32> = stored.iter().map(|&v| v as f32 - 1024.0).collect();
        assert_eq!(d.as_slice().unwrap(), &want[..]);
        // Short (preallocated to full length): finish refuses, nothing left behind.
        let q = dir.path().join("short.nii");
        let mut s = NiftiStream::create_with_intercept(&q, [4, 3, 2], &g, VoxelType::Int16, 0.0).unwrap();
        s.write_encoded(&bytes[..24], 12).unwrap();
        assert!(s.finish().is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "only c.nii");
        assert!(NiftiStream::create_with_intercept(&q, [4, 3, 2], &g, VoxelType::Int16, f32::NAN).is_err());
    }

    #[test]
    fn stream_checks_count_and_cleans_up() {
        let g = Geometry::axial(Point3::origin(), [1.0, 1.0, 1.0]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.nii");
        let values: Vec<f32> = (0..24).map(|v| v as f32 - 5.0).collect();
        // Int16 refuses a fraction or an out-of-range value (the caller restarts as float32).
        let mut s = NiftiStream::create(&p, [4, 3, 2], &g, VoxelType::Int16).unwrap();
        let enc = s.encoder();
        let mut buf = Vec::new();
        assert_eq!(
            enc.encode(&[1.0, 2.5], &mut buf),
            Err(EncodeError::NotInt16 { value: 2.5 })
        );
        assert!(enc.encode(&[40000.0], &mut buf).is_err());
        // Too few voxels: finish fails and leaves nothing behind.
        enc.encode(&values[..12], &mut buf).unwrap();
        s.write_encoded(&buf, 12).unwrap();
        assert!(s.finish().is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Dropped unfinished: nothing behind either.
        let s = NiftiStream::create(&p, [4, 3, 2], &g, VoxelType::Float32).unwrap();
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // In two chunks, gz and plain, both types: reads back exactly.
        for (name, t) in [
            ("a.nii", VoxelType::Int16),
            ("b.nii.gz", VoxelType::Int16),
            ("c.nii.gz", VoxelType::Float32),
        ] {
            let p = dir.path().join(name);
            let mut s = NiftiStream::create(&p, [4, 3, 2], &g, t).unwrap();
            let enc = s.encoder();
            for c in values.chunks(10) {
                enc.encode(c, &mut buf).unwrap();
                s.write_encoded(&buf, c.len()).unwrap();
            }
            assert!(s.write_encoded(&buf, 1).is_err(), "more voxels than declared");
            drop(s);
            let mut s = NiftiStream::create(&p, [4, 3, 2], &g, t).unwrap();
            for c in values.chunks(10) {
                enc.encode(c, &mut buf).unwrap();
                s.write_encoded(&buf, c.len()).unwrap();
            }
            s.finish().unwrap();
            let (d, _) = read_nifti(&p).unwrap();
            assert_eq!(d.as_slice().unwrap(), &values[..], "{name}");
            let raw = read_bounded(&p, MAX_READ_BYTES).unwrap();
            let dt = i16::from_le_bytes([raw[70], raw[71]]);
            assert_eq!(
                dt,
                if t == VoxelType::Int16 {
                    DT_INT16
                } else {
                    DT_FLOAT32
                }
            );
        }
    }

    /// Peer check: nibabel must map our voxels to the same RAS points and values.
    #[test]
    fn nibabel_agrees() {
        if !cavascope_testkit::require_python(&["nibabel"]) {
            return;
        }
        let g = oblique();
        let d = ramp((4, 5, 6), true);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n.nii.gz");
        write_nifti(&p, &d, &g).unwrap();
        let script = "import nibabel as nib, sys, json\nimg = nib.load(sys.argv[1])\n\
            a = img.get_fdata()\nprint(json.dumps({'s': img.affine.tolist(), 'q': img.get_qform().tolist(), \
            'v': float(a[5, 3, 2]), 'codes': [int(img.header['qform_code']), int(img.header['sform_code'])]}))";
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&p)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        let nums: Vec<f64> = text
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
            .filter_map(|t| t.parse().ok())
            .collect();
        // 16 sform, 16 qform, value, 2 codes.
        assert_eq!(nums.len(), 35, "{text}");
        let ras = g.to_ras_affine();
        for r in 0..4 {
            for c in 0..4 {
                assert!(
                    (nums[r * 4 + c] - ras[(r, c)]).abs() < 1e-4,
                    "sform {r},{c}: {text}"
                );
                assert!(
                    (nums[16 + r * 4 + c] - ras[(r, c)]).abs() < 1e-4,
                    "qform {r},{c}: {text}"
                );
            }
        }
        // nibabel indexes (i, j, k); our array is [k, j, i].
        assert!((nums[32] - d[[2, 3, 5]] as f64).abs() < 1e-3, "{text}");
        assert_eq!(&nums[33..35], &[1.0, 1.0]);
    }
}
