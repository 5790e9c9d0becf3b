//! NRRD volumes in (`.nrrd` with attached data, `.nhdr` with a detached data file): the
//! format of 3D Slicer, ITK/SimpleITK and pyradiomics' test data.
//!
//! What is read: NRRD0001–0005 headers; scalar types from `int8` to `double`; `raw`,
//! `gzip` and `text` encodings, either byte order; `space` (LPS, RAS or LAS, turned into
//! LPS), `space directions` (shear kept), `space origin`, or, without a space, the
//! `spacings` of an axis-aligned grid at the origin; `byte skip` (−1 = data at the end of
//! a raw file) and `line skip`. A 4D file is read when its non-spatial axis holds one
//! value. Refused with the reason: block and hex data, bzip2, a data file list or
//! pattern, scanner/handedness-only spaces (no patient orientation), a header declaring
//! more than the read limit.
//!
//! The first axis varies fastest in a NRRD file, as `i` (column) does in cavascope's
//! `[slice, row, column]` arrays, so the voxels map one to one.
//!
//! ```
//! use cavascope_volume::nrrd_io::parse_nrrd;
//! use std::path::Path;
//!
//! let mut file = b"NRRD0004\ntype: short\ndimension: 3\nsizes: 2 1 1\n\
//! space: right-anterior-superior\nspace directions: (0.5,0,0) (0,0.5,0) (0,0,2)\n\
//! space origin: (10,20,30)\nendian: little\nencoding: raw\n\n".to_vec();
//! file.extend_from_slice(&[0x10, 0x00, 0xf6, 0xff]); // 16, -10
//! let (data, g) = parse_nrrd(Path::new("mem.nrrd"), &file).unwrap();
//! assert_eq!(data[[0, 0, 1]], -10.0);
//! // RAS (10, 20, 30) is LPS (−10, −20, 30); a step along i goes right, i.e. −x in LPS.
//! let p = g.index_to_world([1.0, 0.0, 0.0]);
//! assert!((p.x + 10.5).abs() < 1e-9 && (p.y + 20.0).abs() < 1e-9 && (p.z - 30.0).abs() < 1e-9);
//! ```

use crate::nifti_io::io_err;
use crate::{Array3, Geometry, VolumeError};
use nalgebra::{Point3, Vector3};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

/// Whether a path names a NRRD file by its extension (`.nrrd`, `.nhdr`).
pub fn is_nrrd_path(p: &Path) -> bool {
    let n = p.to_string_lossy().to_ascii_lowercase();
    n.ends_with(".nrrd") || n.ends_with(".nhdr")
}

/// Read a NRRD file as `f32` voxels `[slice, row, column]` and LPS geometry, at most
/// [`crate::nifti_io::MAX_READ_BYTES`] of voxels.
pub fn read_nrrd(path: &Path) -> Result<(Array3<f32>, Geometry), VolumeError> {
    read_nrrd_limited(path, crate::nifti_io::MAX_READ_BYTES)
}

/// [`read_nrrd`] with a bound on the uncompressed voxel bytes: a header declaring more is
/// refused before any allocation, and decompression stops at the declared size.
pub fn read_nrrd_limited(path: &Path, max_bytes: u64) -> Result<(Array3<f32>, Geometry), VolumeError> {
    read_nrrd_keyed(path, max_bytes).map(|(d, g, _)| (d, g))
}

/// [`read_nrrd_limited`], also returning the header's `key:=value` pairs in file order
/// (3D Slicer keeps its segment names and label values there: `Segment0_Name:=IVC`).
///
/// The header is read first (up to its blank line); its declared size is checked against
/// `max_bytes` and, for raw data, against what the file holds, before any voxel is read;
/// then only the declared bytes are read (trailing bytes are left alone).
#[allow(clippy::type_complexity)]
pub fn read_nrrd_keyed(
    path: &Path,
    max_bytes: u64,
) -> Result<(Array3<f32>, Geometry, Vec<(String, String)>), VolumeError> {
    let (mut r, len) = open_sized(path)?;
    let (header, data_start) = read_header(path, &mut r)?;
    let h = Header::parse(path, &header)?;
    if h.need > max_bytes {
        return Err(err(
            path,
            format!(
                "header declares {} bytes of voxels, above the read limit of {max_bytes}",
                h.need
            ),
        ));
    }
    let payload = match &h.data_file {
        Some(rel) => {
            let dp = path.parent().unwrap_or(Path::new(".")).join(rel);
            let (d, dlen) = open_sized(&dp)?;
            h.payload(&dp, d, dlen)?
        }
        None => h.payload(path, r, len.saturating_sub(data_start))?,
    };
    let (data, geometry) = h.decode(path, &payload)?;
    Ok((data, geometry, h.key_values))
}

/// Parse a whole attached NRRD file held in memory (`path` only names it in errors).
pub fn parse_nrrd(path: &Path, bytes: &[u8]) -> Result<(Array3<f32>, Geometry), VolumeError> {
    let mut r = bytes;
    let (header, _) = read_header(path, &mut r)?;
    let h = Header::parse(path, &header)?;
    if h.data_file.is_some() {
        return Err(err(path, "detached data file: read it with read_nrrd"));
    }
    let payload = h.payload(path, std::io::Cursor::new(r), r.len() as u64)?;
    h.decode(path, &payload)
}

fn err(path: &Path, why: impl Into<String>) -> VolumeError {
    VolumeError::Nrrd {
        path: path.to_path_buf(),
        why: why.into(),
    }
}

/// A file opened for buffered reading, with its length.
fn open_sized(path: &Path) -> Result<(BufReader<File>, u64), VolumeError> {
    let f = File::open(path).map_err(|e| io_err(path, e))?;
    let len = f.metadata().map_err(|e| io_err(path, e))?.len();
    Ok((BufReader::new(f), len))
}

/// Most header lines read before its blank line.
const MAX_HEADER_LINES: usize = 10_000;
/// Most header bytes read before its blank line: a header is text of at most some
/// kilobytes (Slicer's segment key/values included); more is not a NRRD header.
const MAX_HEADER_BYTES: u64 = 16 << 20;

/// Read the header from `r` up to its first blank line, or the end for a detached header:
/// the header text and its length in bytes (where attached data starts). `r` is left at
/// the data.
fn read_header(path: &Path, r: &mut impl BufRead) -> Result<(String, u64), VolumeError> {
    let mut r = r.take(MAX_HEADER_BYTES);
    let mut pos = 0u64;
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).map_err(|e| io_err(path, e))?;
        pos += n as u64;
        if lines.is_empty()
            && (!buf.starts_with(b"NRRD000") || buf.len() < 8 || !(b'1'..=b'5').contains(&buf[7]))
        {
            return Err(err(path, "not a NRRD file (no NRRD0001–NRRD0005 magic)"));
        }
        if n == 0 {
            break;
        }
        if r.limit() == 0 && !buf.ends_with(b"\n") {
            return Err(err(path, "header has no end (no blank line in its first 16 MiB)"));
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let text = std::str::from_utf8(line).map_err(|_| err(path, "header line is not text"))?;
        lines.push(text.to_string());
        if lines.len() > MAX_HEADER_LINES {
            return Err(err(path, "header has no end (no blank line in 10 000 lines)"));
        }
    }
    Ok((lines.join("\n"), pos))
}

/// Skip past the next newline; `false` when the data ends first.
fn skip_line(r: &mut impl BufRead) -> std::io::Result<bool> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            r.consume(i + 1);
            return Ok(true);
        }
        let n = buf.len();
        r.consume(n);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

impl Scalar {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "signed char" | "int8" | "int8_t" => Scalar::I8,
            "uchar" | "unsigned char" | "uint8" | "uint8_t" => Scalar::U8,
            "short" | "short int" | "signed short" | "signed short int" | "int16" | "int16_t" => Scalar::I16,
            "ushort" | "unsigned short" | "unsigned short int" | "uint16" | "uint16_t" => Scalar::U16,
            "int" | "signed int" | "int32" | "int32_t" => Scalar::I32,
            "uint" | "unsigned int" | "uint32" | "uint32_t" => Scalar::U32,
            "longlong"
            | "long long"
            | "long long int"
            | "signed long long"
            | "signed long long int"
            | "int64"
            | "int64_t" => Scalar::I64,
            "ulonglong" | "unsigned long long" | "unsigned long long int" | "uint64" | "uint64_t" => {
                Scalar::U64
            }
            "float" => Scalar::F32,
            "double" => Scalar::F64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 8,
        }
    }

    /// One value from `b` (exactly `size()` bytes), little- or big-endian.
    fn value(self, b: &[u8], little: bool) -> f32 {
        macro_rules! num {
            ($t:ty, $n:expr) => {{
                let mut a = [0u8; $n];
                a.copy_from_slice(b);
                (if little {
                    <$t>::from_le_bytes(a)
                } else {
                    <$t>::from_be_bytes(a)
                }) as f32
            }};
        }
        match self {
            Scalar::I8 => b[0] as i8 as f32,
            Scalar::U8 => b[0] as f32,
            Scalar::I16 => num!(i16, 2),
            Scalar::U16 => num!(u16, 2),
            Scalar::I32 => num!(i32, 4),
            Scalar::U32 => num!(u32, 4),
            Scalar::I64 => num!(i64, 8),
            Scalar::U64 => num!(u64, 8),
            Scalar::F32 => num!(f32, 4),
            Scalar::F64 => num!(f64, 8),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Raw,
    Gzip,
    Text,
}

#[derive(Debug)]
struct Header {
    scalar: Scalar,
    encoding: Encoding,
    little: bool,
    /// Sizes of the three spatial axes, fastest first.
    dims: [usize; 3],
    geometry: Geometry,
    data_file: Option<PathBuf>,
    line_skip: usize,
    byte_skip: i64,
    /// Uncompressed voxel bytes.
    need: u64,
    /// `key:=value` pairs, in file order.
    key_values: Vec<(String, String)>,
}

/// `(x,y,z)` → vector; `none` → `None`.
fn parse_vector(s: &str) -> Result<Option<Vector3<f64>>, String> {
    let s = s.trim();
    if s == "none" {
        return Ok(None);
    }
    let inner = s
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| format!("vector {s:?} is not (x,y,z)"))?;
    let v: Vec<f64> = inner
        .split(',')
        .map(|t| t.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("vector {s:?} holds a non-number"))?;
    if v.len() != 3 || !v.iter().all(|x| x.is_finite()) {
        return Err(format!(
            "vector {s:?} is not three finite numbers (only 3D spaces are read)"
        ));
    }
    Ok(Some(Vector3::new(v[0], v[1], v[2])))
}

/// The vectors of `space directions`, one per axis (`(x,y,z)` or `none`).
fn parse_vectors(s: &str) -> Result<Vec<Option<Vector3<f64>>>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("none") {
            out.push(None);
            rest = r.trim_start();
        } else {
            let end = rest
                .find(')')
                .ok_or_else(|| format!("space directions {s:?}: unclosed vector"))?;
            out.push(parse_vector(&rest[..=end])?);
            rest = rest[end + 1..].trim_start();
        }
    }
    Ok(out)
}

/// The header's `field: value` lines (field names lower-cased), for lookup.
struct Fields(std::collections::HashMap<String, String>);

impl Fields {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    fn need(&self, path: &Path, k: &str) -> Result<&str, VolumeError> {
        self.get(k)
            .ok_or_else(|| err(path, format!("header lacks the required field `{k}`")))
    }
}

impl Header {
    fn parse(path: &Path, text: &str) -> Result<Self, VolumeError> {
        let mut fields = std::collections::HashMap::new();
        let mut key_values = Vec::new();
        for line in text.lines().skip(1) {
            if line.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = line.split_once(":=") {
                key_values.push((k.to_string(), v.to_string()));
                continue;
            }
            let Some((k, v)) = line.split_once(": ") else {
                return Err(err(path, format!("header line {line:?} is not `field: value`")));
            };
            fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
        let f = Fields(fields);
        let (scalar, encoding, little) = sample_format(path, &f)?;
        let dimension: usize = f
            .need(path, "dimension")?
            .parse()
            .map_err(|_| err(path, "dimension is not a number"))?;
        let sizes: Vec<usize> = f
            .need(path, "sizes")?
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| err(path, "sizes are not numbers"))?;
        if sizes.len() != dimension {
            return Err(err(
                path,
                format!("{} sizes for dimension {dimension}", sizes.len()),
            ));
        }
        if sizes.contains(&0) {
            return Err(err(path, "an axis has size 0"));
        }
        let (dims, geometry) = grid(path, &f, &sizes)?;

        let data_file = match f.get("data file").or_else(|| f.get("datafile")) {
            None => None,
            Some(name) if name.starts_with("LIST") || name.split_whitespace().count() > 1 => {
                return Err(err(
                    path,
                    "a data file list or pattern is not read (one data file is)",
                ))
            }
            Some(name) => Some(PathBuf::from(name)),
        };
        let line_skip = f
            .get("line skip")
            .or_else(|| f.get("lineskip"))
            .map_or(Ok(0), |s| {
                s.parse::<usize>()
                    .map_err(|_| err(path, "line skip is not a number"))
            })?;
        let byte_skip = f
            .get("byte skip")
            .or_else(|| f.get("byteskip"))
            .map_or(Ok(0), |s| {
                s.parse::<i64>()
                    .map_err(|_| err(path, "byte skip is not a number"))
            })?;
        if byte_skip < -1 || (byte_skip == -1 && encoding != Encoding::Raw) {
            return Err(err(path, "byte skip −1 is only valid for raw data"));
        }
        let n = dims
            .iter()
            .try_fold(1u64, |a, &s| a.checked_mul(s as u64))
            .ok_or_else(|| err(path, "sizes overflow"))?;
        let need = n
            .checked_mul(scalar.size() as u64)
            .ok_or_else(|| err(path, "sizes overflow"))?;
        Ok(Header {
            scalar,
            encoding,
            little,
            dims,
            geometry,
            data_file,
            line_skip,
            byte_skip,
            need,
            key_values,
        })
    }
}

/// Scalar type, encoding and byte order (little-endian) of the data.
fn sample_format(path: &Path, f: &Fields) -> Result<(Scalar, Encoding, bool), VolumeError> {
    let ty = f.need(path, "type")?;
    let scalar = match Scalar::parse(ty) {
        Some(s) => s,
        None => {
            return Err(err(
                path,
                format!("type {ty:?} is not a scalar type that can be read"),
            ))
        }
    };
    let encoding = match f.need(path, "encoding")? {
        "raw" => Encoding::Raw,
        "gzip" | "gz" => Encoding::Gzip,
        "text" | "txt" | "ascii" => Encoding::Text,
        other => {
            return Err(err(
                path,
                format!("encoding {other:?} is not read (raw, gzip and text are)"),
            ))
        }
    };
    let little = match f.get("endian") {
        Some("little") => true,
        Some("big") => false,
        None if scalar.size() == 1 || encoding == Encoding::Text => true,
        None => return Err(err(path, "header lacks `endian` for multi-byte data")),
        Some(other) => return Err(err(path, format!("endian {other:?} is neither little nor big"))),
    };
    Ok((scalar, encoding, little))
}

/// The three spatial axes' sizes (fastest first) and their LPS geometry, from `space`,
/// `space directions` and `space origin` (or `spacings` without a space). A non-spatial
/// axis is allowed only with one value.
fn grid(path: &Path, f: &Fields, sizes: &[usize]) -> Result<([usize; 3], Geometry), VolumeError> {
    let dimension = sizes.len();
    // Which axes are spatial: from `space directions` (a vector, not `none`), else all
    // axes of a 3D file.
    let space = f.get("space").map(str::to_ascii_lowercase);
    let to_lps = match space.as_deref() {
        Some("left-posterior-superior" | "lps") => Vector3::new(1.0, 1.0, 1.0),
        Some("right-anterior-superior" | "ras") => Vector3::new(-1.0, -1.0, 1.0),
        Some("left-anterior-superior" | "las") => Vector3::new(1.0, -1.0, 1.0),
        None => Vector3::new(1.0, 1.0, 1.0),
        Some(other) => {
            return Err(err(
                path,
                format!("space {other:?} has no patient orientation (LPS, RAS or LAS is needed)"),
            ))
        }
    };
    if f.get("space dimension").is_some_and(|d| d != "3") {
        return Err(err(path, "only a 3D space is read"));
    }
    let directions: Vec<Option<Vector3<f64>>> = match f.get("space directions") {
        Some(s) => parse_vectors(s).map_err(|w| err(path, w))?,
        None => spacing_directions(path, f.get("spacings"), sizes)?,
    };
    if directions.len() != dimension {
        return Err(err(
            path,
            format!("{} space directions for dimension {dimension}", directions.len()),
        ));
    }
    let spatial: Vec<usize> = (0..dimension).filter(|&n| directions[n].is_some()).collect();
    if spatial.len() != 3 {
        return Err(err(
            path,
            format!("{} spatial axes (3 are needed)", spatial.len()),
        ));
    }
    // A non-spatial axis is read only when it holds one value, and only before the
    // spatial ones would make it interleave: with size 1 it cannot.
    if let Some(n) = (0..dimension).find(|n| !spatial.contains(n) && sizes[*n] != 1) {
        return Err(err(
            path,
            format!(
                "axis {n} is not spatial and holds {} values (one volume is read)",
                sizes[n]
            ),
        ));
    }
    let dims = [sizes[spatial[0]], sizes[spatial[1]], sizes[spatial[2]]];
    let flip = |v: Vector3<f64>| v.component_mul(&to_lps);
    let d: Vec<Vector3<f64>> = spatial.iter().filter_map(|&n| directions[n]).map(flip).collect();
    let origin = match f.get("space origin") {
        Some(s) => flip(
            parse_vector(s)
                .map_err(|w| err(path, w))?
                .unwrap_or_else(Vector3::zeros),
        ),
        None => Vector3::zeros(),
    };
    let geometry = Geometry::from_columns(d[0], d[1], d[2], Point3::from(origin))
        .ok_or_else(|| err(path, "space directions are degenerate (no invertible affine)"))?;
    Ok((dims, geometry))
}

/// No space: an axis-aligned grid from `spacings` (1 mm where absent or nan); in a file
/// of more than 3 dimensions, an axis of one value is not spatial.
fn spacing_directions(
    path: &Path,
    spacings: Option<&str>,
    sizes: &[usize],
) -> Result<Vec<Option<Vector3<f64>>>, VolumeError> {
    let dimension = sizes.len();
    let sp: Vec<f64> = spacings
        .map(|s| {
            s.split_whitespace()
                .map(|t| t.parse::<f64>().unwrap_or(f64::NAN))
                .collect()
        })
        .unwrap_or_else(|| vec![1.0; dimension]);
    if sp.len() != dimension {
        return Err(err(
            path,
            format!("{} spacings for dimension {dimension}", sp.len()),
        ));
    }
    let mut axis = 0;
    Ok(sp
        .iter()
        .enumerate()
        .map(|(n, &s)| {
            if dimension == 3 || sizes[n] > 1 {
                let mut v = Vector3::zeros();
                if axis < 3 {
                    v[axis] = if s.is_finite() && s != 0.0 { s } else { 1.0 };
                }
                axis += 1;
                Some(v)
            } else {
                None
            }
        })
        .collect())
}

impl Header {
    /// The voxel bytes (decompressed; for text, the text) from the data in `r`, which
    /// holds `len` bytes from where it stands. Raw data is checked against `len` before
    /// it is read, and only the declared bytes are read.
    fn payload<R: BufRead + Seek>(&self, path: &Path, mut r: R, len: u64) -> Result<Vec<u8>, VolumeError> {
        let io = |e: std::io::Error| io_err(path, e);
        let start = r.stream_position().map_err(io)?;
        for _ in 0..self.line_skip {
            if !skip_line(&mut r).map_err(io)? {
                return Err(err(path, "line skip runs past the end of the data"));
            }
        }
        let len = len.saturating_sub(r.stream_position().map_err(io)? - start);
        match self.encoding {
            Encoding::Text => {
                let mut out = Vec::new();
                r.read_to_end(&mut out).map_err(io)?;
                Ok(out)
            }
            Encoding::Raw => {
                let need = self.need;
                let from = if self.byte_skip == -1 {
                    len.checked_sub(need)
                        .ok_or_else(|| err(path, format!("data holds {len} bytes, {need} are declared")))?
                } else {
                    self.byte_skip as u64
                };
                let truncated = |held: u64| {
                    err(
                        path,
                        format!("data truncated: {held} bytes after skip, {need} declared"),
                    )
                };
                if len.saturating_sub(from) < need {
                    return Err(truncated(len.saturating_sub(from)));
                }
                r.seek_relative(from as i64).map_err(io)?;
                let mut out = Vec::with_capacity(need as usize);
                r.take(need).read_to_end(&mut out).map_err(io)?;
                if (out.len() as u64) < need {
                    return Err(truncated(out.len() as u64));
                }
                Ok(out)
            }
            Encoding::Gzip => {
                let skip = self.byte_skip as u64;
                let mut out = Vec::with_capacity(self.need.min(1 << 30) as usize);
                let mut dec = flate2::read::MultiGzDecoder::new(r);
                std::io::copy(&mut (&mut dec).take(skip), &mut std::io::sink())
                    .map_err(|e| err(path, format!("gzip data: {e}")))?;
                dec.take(self.need)
                    .read_to_end(&mut out)
                    .map_err(|e| err(path, format!("gzip data: {e}")))?;
                if (out.len() as u64) < self.need {
                    return Err(err(
                        path,
                        format!(
                            "data truncated: {} bytes decompressed, {} declared",
                            out.len(),
                            self.need
                        ),
                    ));
                }
                Ok(out)
            }
        }
    }

    fn decode(&self, path: &Path, payload: &[u8]) -> Result<(Array3<f32>, Geometry), VolumeError> {
        let [ni, nj, nk] = self.dims;
        let n = ni * nj * nk;
        let values: Vec<f32> = match self.encoding {
            Encoding::Text => {
                let text = std::str::from_utf8(payload).map_err(|_| err(path, "text data is not text"))?;
                let v: Vec<f32> = text
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|t| !t.is_empty())
                    .take(n)
                    .map(|t| t.parse::<f64>().map(|x| x as f32))
                    .collect::<Result<_, _>>()
                    .map_err(|_| err(path, "text data holds a non-number"))?;
                if v.len() < n {
                    return Err(err(
                        path,
                        format!("text data holds {} values, {n} declared", v.len()),
                    ));
                }
                v
            }
            _ => payload
                .chunks_exact(self.scalar.size())
                .map(|b| self.scalar.value(b, self.little))
                .collect(),
        };
        let data = Array3::from_shape_vec((nk, nj, ni), values)
            .map_err(|e| err(path, format!("voxels do not fill the sizes: {e}")))?;
        Ok((data, self.geometry.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nrrd(header: &str, data: &[u8]) -> Vec<u8> {
        let mut v = format!("NRRD0004\n{header}\n\n").into_bytes();
        v.extend_from_slice(data);
        v
    }

    const GRID: &str = "dimension: 3\nsizes: 3 2 2\nspace: left-posterior-superior\n\
                        space directions: (0.7,0,0) (0,0.7,0) (0,0,2.5)\nspace origin: (-5,-6,-7)";

    fn ramp_i16_le() -> Vec<u8> {
        (0..12i16).flat_map(|v| (v * 100 - 300).to_le_bytes()).collect()
    }

    #[test]
    fn raw_little_endian_short_fills_slice_row_column() {
        let f = nrrd(
            &format!("type: short\n{GRID}\nendian: little\nencoding: raw"),
            &ramp_i16_le(),
        );
        let (d, g) = parse_nrrd(Path::new("t.nrrd"), &f).unwrap();
        assert_eq!(d.dim(), (2, 2, 3));
        // Linear index 7 = i 1, j 0, k 1.
        assert_eq!(d[[1, 0, 1]], 7.0 * 100.0 - 300.0);
        let p = g.index_to_world([1.0, 1.0, 1.0]);
        assert!((p - Point3::new(-4.3, -5.3, -4.5)).norm() < 1e-9);
    }

    #[test]
    fn big_endian_gzip_and_text_give_the_same_voxels() {
        let raw = nrrd(
            &format!("type: short\n{GRID}\nendian: little\nencoding: raw"),
            &ramp_i16_le(),
        );
        let (want, _) = parse_nrrd(Path::new("a.nrrd"), &raw).unwrap();

        let be: Vec<u8> = (0..12i16).flat_map(|v| (v * 100 - 300).to_be_bytes()).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &be).unwrap();
        let f = nrrd(
            &format!("type: int16\n{GRID}\nendian: big\nencoding: gzip"),
            &gz.finish().unwrap(),
        );
        assert_eq!(parse_nrrd(Path::new("b.nrrd"), &f).unwrap().0, want);

        let text: String = (0..12).map(|v| format!("{} ", v * 100 - 300)).collect();
        let f = nrrd(&format!("type: float\n{GRID}\nencoding: text"), text.as_bytes());
        assert_eq!(parse_nrrd(Path::new("c.nrrd"), &f).unwrap().0, want);
    }

    #[test]
    fn ras_space_turns_into_lps() {
        let h = "type: uchar\ndimension: 3\nsizes: 1 1 1\nspace: RAS\n\
                 space directions: (-1,0,0) (0,-1,0) (0,0,3)\nspace origin: (12,34,56)\nencoding: raw";
        let (_, g) = parse_nrrd(Path::new("r.nrrd"), &nrrd(h, &[7])).unwrap();
        // RAS (-1,0,0) per i = LPS (+1,0,0); origin RAS (12,34,56) = LPS (-12,-34,56).
        let p = g.index_to_world([1.0, 1.0, 1.0]);
        assert!((p - Point3::new(-11.0, -33.0, 59.0)).norm() < 1e-9, "{p}");
    }

    #[test]
    fn four_d_with_a_single_component_axis_is_read() {
        let h = "type: uchar\ndimension: 4\nsizes: 1 2 1 1\nspace: LPS\nkinds: list domain domain domain\n\
                 space directions: none (2,0,0) (0,2,0) (0,0,2)\nencoding: raw";
        let (d, _) = parse_nrrd(Path::new("v.nrrd"), &nrrd(h, &[1, 2])).unwrap();
        assert_eq!(d.dim(), (1, 1, 2));
        let h4 = h.replace("sizes: 1 2 1 1", "sizes: 3 2 1 1");
        let e = parse_nrrd(Path::new("v.nrrd"), &nrrd(&h4, &[0; 6]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not spatial") && e.contains("v.nrrd"), "{e}");
    }

    #[test]
    fn byte_skip_minus_one_reads_the_tail() {
        let mut data = vec![9u8; 5];
        data.extend_from_slice(&[1, 2]);
        let h = "type: uint8\ndimension: 3\nsizes: 2 1 1\nspacings: 1 1 1\nbyte skip: -1\nencoding: raw";
        let (d, _) = parse_nrrd(Path::new("s.nrrd"), &nrrd(h, &data)).unwrap();
        assert_eq!(d.iter().copied().collect::<Vec<_>>(), vec![1.0, 2.0]);
    }

    #[test]
    fn detached_header_reads_its_data_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("v.raw"), ramp_i16_le()).unwrap();
        let h = format!("NRRD0004\ntype: short\n{GRID}\nendian: little\nencoding: raw\ndata file: v.raw\n");
        std::fs::write(dir.path().join("v.nhdr"), h).unwrap();
        let (d, _) = read_nrrd(&dir.path().join("v.nhdr")).unwrap();
        assert_eq!(d[[1, 1, 2]], 11.0 * 100.0 - 300.0);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let cases: [(&str, &[u8], &str); 6] = [
            ("NOTNRRD\n\n", &[], "magic"),
            (
                "NRRD0004\ntype: block\ndimension: 3\nsizes: 1 1 1\nencoding: raw\n\n",
                &[0],
                "scalar type",
            ),
            (
                "NRRD0004\ntype: short\ndimension: 3\nsizes: 1 1 1\nencoding: raw\n\n",
                &[0, 0],
                "endian",
            ),
            (
                "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n\n",
                &[0; 3],
                "truncated",
            ),
            (
                "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 1 1 1\nspace: scanner-xyz\nencoding: raw\n\n",
                &[0],
                "orientation",
            ),
            (
                "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 1 1 1\nencoding: bzip2\n\n",
                &[0],
                "encoding",
            ),
        ];
        for (h, d, why) in cases {
            let mut f = h.as_bytes().to_vec();
            f.extend_from_slice(d);
            let e = parse_nrrd(Path::new("bad.nrrd"), &f).unwrap_err().to_string();
            assert!(e.contains("bad.nrrd") && e.contains(why), "{why}: {e}");
        }
    }

    #[test]
    fn a_huge_declared_size_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("huge.nrrd");
        std::fs::write(
            &p,
            "NRRD0004\ntype: float\ndimension: 3\nsizes: 4096 4096 4096\nendian: little\nencoding: gzip\n\n",
        )
        .unwrap();
        let e = read_nrrd_limited(&p, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("read limit"), "{e}");
    }

    #[test]
    fn a_huge_raw_size_on_a_small_file_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("small.nrrd");
        // 2 PB declared, 4 bytes held: refused from the file size, nothing allocated.
        let f = nrrd(
            "type: short\ndimension: 3\nsizes: 100000 100000 100000\nendian: little\nencoding: raw",
            &[1, 0, 2, 0],
        );
        std::fs::write(&p, f).unwrap();
        let e = read_nrrd_limited(&p, u64::MAX).unwrap_err().to_string();
        assert!(
            e.contains("small.nrrd") && e.contains("truncated") && e.contains("2000000000000000 declared"),
            "{e}"
        );
    }

    #[test]
    fn trailing_bytes_after_the_data_are_left_unread() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tail.nrrd");
        let f = nrrd(
            &format!("type: short\n{GRID}\nendian: little\nencoding: raw"),
            &ramp_i16_le(),
        );
        let (want, _) = parse_nrrd(Path::new("mem.nrrd"), &f).unwrap();
        std::fs::write(&p, &f).unwrap();
        // A sparse 1 TiB tail (no disk used): read whole, the file would not fit in memory.
        let file = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        if file.set_len(f.len() as u64 + (1 << 40)).is_err() {
            file.set_len(f.len() as u64 + (1 << 32)).unwrap();
        }
        let (d, _) = read_nrrd(&p).unwrap();
        assert_eq!(d, want);
        // Trailing bytes in memory are ignored the same way.
        let mut junk = f.clone();
        junk.extend_from_slice(b"junk after the voxels");
        assert_eq!(parse_nrrd(Path::new("mem.nrrd"), &junk).unwrap().0, want);
    }
}
