//! Pixel data into a preallocated volume: native (uncompressed) samples are converted
//! straight from the element bytes with the rescale in the same pass; encapsulated
//! (compressed) frames go through dicom-pixeldata's decoders, frames in parallel.

use crate::group::FrameRef;
use crate::header::{one_line, FileHeader, ParsedFile};
use crate::stack::{SliceSource, StackPlan};
use dicom_core::value::PrimitiveValue;
use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;
use dicom_pixeldata::PixelDecoder;
use ndarray::{Array3, ArrayViewMut2, ArrayViewMut3, Axis};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Implicit VR Little Endian, the DICOM default.
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian.
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
/// Deflated Explicit VR Little Endian (the whole dataset zlib-compressed).
pub const DEFLATED_EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1.99";
/// Explicit VR Big Endian (retired, still found in old archives).
pub const EXPLICIT_VR_BE: &str = "1.2.840.10008.1.2.2";
/// RLE Lossless (PackBits per byte plane).
pub const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
/// JPEG Extended (processes 2 and 4): 8 or 12 bits.
pub const JPEG_EXTENDED: &str = "1.2.840.10008.1.2.4.51";
/// JPEG-LS Lossless.
pub const JPEG_LS_LOSSLESS: &str = "1.2.840.10008.1.2.4.80";
/// JPEG-LS near-lossless (bounded error per sample).
pub const JPEG_LS_NEAR_LOSSLESS: &str = "1.2.840.10008.1.2.4.81";

/// Is the pixel data stored as plain samples (parsed by dicom-object into native values)?
pub(crate) fn is_native(ts: &str) -> bool {
    matches!(
        ts,
        IMPLICIT_VR_LE | EXPLICIT_VR_LE | DEFLATED_EXPLICIT_VR_LE | EXPLICIT_VR_BE
    )
}

/// JPEG-LS lossless or near-lossless (decoded by crates/jpegls).
pub(crate) fn is_jpegls(ts: &str) -> bool {
    ts == JPEG_LS_LOSSLESS || ts == JPEG_LS_NEAR_LOSSLESS
}

/// Bytes of one frame's samples.
pub(crate) fn frame_bytes(h: &FileHeader) -> u64 {
    h.rows as u64 * h.columns as u64 * (h.bits_allocated as u64 / 8)
}

/// Converts native-endian samples to modality values: `stored * slope + intercept`.
/// Bits above BitsStored are masked (unsigned) or sign-extended (signed), as the
/// standard requires.
pub fn convert_samples(
    bytes: &[u8],
    bits_allocated: u16,
    bits_stored: u16,
    signed: bool,
    slope: f64,
    intercept: f64,
    out: &mut [f32],
) -> Result<(), String> {
    let n = out.len();
    let need = n * (bits_allocated as usize / 8);
    if bytes.len() < need {
        return Err(format!("pixel data has {} bytes, {need} expected", bytes.len()));
    }
    let shift = (bits_allocated - bits_stored.min(bits_allocated)) as u32;
    // f32 arithmetic is exact when the slope is 1 and the intercept an integer (CT, most
    // MR); otherwise compute in f64 and round once, as a float64 peer would.
    let exact_f32 = slope == 1.0 && intercept.fract() == 0.0 && intercept.abs() < 1e6;
    let src = &bytes[..need];
    macro_rules! fill {
        ($stored:expr, $w:expr) => {{
            if exact_f32 {
                let b = intercept as f32;
                for (o, c) in out.iter_mut().zip(src.chunks_exact($w)) {
                    *o = $stored(c) as f32 + b;
                }
            } else {
                for (o, c) in out.iter_mut().zip(src.chunks_exact($w)) {
                    *o = ($stored(c) as f64 * slope + intercept) as f32;
                }
            }
        }};
    }
    match (bits_allocated, signed) {
        (8, false) => {
            let mask = (0xFFu16 >> shift) as u8;
            fill!(|c: &[u8]| c[0] & mask, 1)
        }
        (8, true) => fill!(|c: &[u8]| ((c[0] << shift) as i8) >> shift, 1),
        (16, false) => {
            let mask = 0xFFFFu16 >> shift;
            fill!(|c: &[u8]| u16::from_ne_bytes([c[0], c[1]]) & mask, 2)
        }
        (16, true) => fill!(|c: &[u8]| (i16::from_ne_bytes([c[0], c[1]]) << shift) >> shift, 2),
        (32, false) => {
            let mask = u32::MAX >> shift;
            fill!(|c: &[u8]| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]) & mask, 4)
        }
        (32, true) => fill!(
            |c: &[u8]| (i32::from_ne_bytes([c[0], c[1], c[2], c[3]]) << shift) >> shift,
            4
        ),
        _ => return Err(format!("BitsAllocated {bits_allocated} not supported")),
    }
    Ok(())
}

/// The samples as native-endian bytes. dicom-object parses OW as 16-bit words (swapped to
/// native order in big-endian files) and OB as raw bytes; samples of another width in a
/// big-endian file need their bytes reordered.
fn native_sample_bytes(prim: &PrimitiveValue, bits_allocated: u16, big_endian: bool) -> Cow<'_, [u8]> {
    let raw = prim.to_bytes();
    let word_parsed = matches!(prim, PrimitiveValue::U16(_) | PrimitiveValue::I16(_));
    // 8-bit samples come back in sample order either way (checked against pydicom on
    // OBXXXX1A_expb.dcm, an OW 8-bit big-endian file).
    if !big_endian || (word_parsed && bits_allocated == 16) || bits_allocated == 8 {
        return raw;
    }
    let mut v = raw.into_owned();
    match (word_parsed, bits_allocated) {
        // 32-bit samples split into two big-endian words: swap the words.
        (true, 32) => v.chunks_exact_mut(4).for_each(|c| {
            c.swap(0, 2);
            c.swap(1, 3);
        }),
        // Raw big-endian bytes.
        (false, 16) => v.chunks_exact_mut(2).for_each(|c| c.reverse()),
        (false, 32) => v.chunks_exact_mut(4).for_each(|c| c.reverse()),
        _ => {}
    }
    Cow::Owned(v)
}

/// An error with its causes, on one line (the top-level message alone is often vague).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.dedup();
    one_line(&parts.join(": "))
}

/// Target of one frame: its plane in the output and its rescale.
struct Target<'a> {
    frame: u32,
    slope: f64,
    intercept: f64,
    plane: ArrayViewMut2<'a, f32>,
}

/// A zeroed volume. (Tried for the 400 MB case: MADV_HUGEPAGE cut page-fault time ~3× but
/// stalled for seconds in direct compaction on a busy machine; MADV_POPULATE_WRITE did
/// not help measurably.)
fn alloc_zeroed(shape: (usize, usize, usize)) -> Array3<f32> {
    Array3::zeros(shape)
}

/// Decode the planned frames into a new volume. `Err` lists the files (index, reason)
/// whose pixels could not be decoded.
pub(crate) fn assemble(files: &[ParsedFile], plan: &StackPlan) -> Result<Array3<f32>, Vec<(usize, String)>> {
    let h0 = &files[plan.frames[0].file].header;
    let (rows, cols) = (h0.rows as usize, h0.columns as usize);
    let n_in = plan.frames.len();
    let mut stack = alloc_zeroed((n_in, rows, cols));
    decode_frames(files, &plan.frames, stack.view_mut())?;
    match &plan.source {
        SliceSource::Direct => Ok(stack),
        SliceSource::Interpolated(map) => {
            let mut out = alloc_zeroed((plan.out_slices, rows, cols));
            out.axis_iter_mut(Axis(0))
                .into_par_iter()
                .zip(map.par_iter())
                .for_each(|(mut p, &(lo, hi, w))| {
                    let a = stack.index_axis(Axis(0), lo);
                    let b = stack.index_axis(Axis(0), hi);
                    ndarray::Zip::from(&mut p)
                        .and(&a)
                        .and(&b)
                        .for_each(|o, &x, &y| *o = x * (1.0 - w) + y * w);
                });
            Ok(out)
        }
    }
}

/// Decode `frames` into the planes of `stack` (one plane per frame, in order). `Err` lists
/// the files (index, reason) whose pixels could not be decoded.
pub(crate) fn decode_frames(
    files: &[ParsedFile],
    frames: &[FrameRef],
    mut stack: ArrayViewMut3<f32>,
) -> Result<(), Vec<(usize, String)>> {
    // Group the planes by file so each file is opened once.
    let mut by_file: BTreeMap<usize, Vec<Target>> = BTreeMap::new();
    for (plane, f) in stack.axis_iter_mut(Axis(0)).zip(frames) {
        let fr = f.get(files);
        by_file.entry(f.file).or_default().push(Target {
            frame: f.frame,
            slope: fr.slope,
            intercept: fr.intercept,
            plane,
        });
    }
    let errors: Vec<(usize, String)> = by_file
        .into_par_iter()
        .filter_map(|(fi, targets)| decode_file(&files[fi].header, targets).err().map(|e| (fi, e)))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

thread_local! {
    static TAIL_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Fast path for native pixel data stored as the file's last element (the usual case):
/// read just the tail of the file and check that the element header right before it is
/// PixelData with exactly the expected length. `None` when that does not hold (trailing
/// elements, undefined length, deflate...): the caller then parses the whole file.
fn read_native_tail(h: &FileHeader, need: usize, buf: &mut Vec<u8>) -> Option<usize> {
    use std::io::Read;
    let (mut f, head) = open_native_tail(h, need)?;
    // read_exact overwrites every byte: resize only when the length changes (a clear +
    // resize memset the buffer for every file).
    if buf.len() != need + head.len {
        buf.resize(need + head.len, 0);
    }
    buf[..head.len].copy_from_slice(&head.bytes[..head.len]);
    f.read_exact(&mut buf[head.len..]).ok()?;
    if head.big_endian {
        // File order → native. 8-bit samples in an OW element are stored in byte-swapped
        // 16-bit words (as pydicom and dicom-object read OBXXXX1A_expb.dcm).
        match h.bits_allocated {
            8 if head.ow => buf[head.len..].chunks_exact_mut(2).for_each(|c| c.swap(0, 1)),
            16 => buf[head.len..].chunks_exact_mut(2).for_each(|c| c.reverse()),
            32 => buf[head.len..].chunks_exact_mut(4).for_each(|c| c.reverse()),
            _ => {}
        }
    }
    Some(head.len)
}

/// The PixelData element header in front of a native tail.
struct TailHead {
    bytes: [u8; 12],
    len: usize,
    big_endian: bool,
    ow: bool,
}

/// Opens the file positioned at the PixelData value when PixelData is its last element
/// with exactly `need` bytes (checked from the element header just before the tail).
fn open_native_tail(h: &FileHeader, need: usize) -> Option<(std::fs::File, TailHead)> {
    use std::io::{Read, Seek, SeekFrom};
    if h.transfer_syntax == DEFLATED_EXPLICIT_VR_LE || need == 0 {
        return None;
    }
    let be = h.transfer_syntax == EXPLICIT_VR_BE;
    let explicit = h.transfer_syntax != IMPLICIT_VR_LE;
    let head = if explicit { 12 } else { 8 };
    let start = (h.file_len as usize).checked_sub(need + head)?;
    let mut f = std::fs::File::open(&h.path).ok()?;
    f.seek(SeekFrom::Start(start as u64)).ok()?;
    let mut bytes = [0u8; 12];
    f.read_exact(&mut bytes[..head]).ok()?;
    let hd = &bytes[..head];
    let (tag_ok, len) = if be {
        (
            hd[..4] == [0x7F, 0xE0, 0x00, 0x10],
            u32::from_be_bytes([hd[8], hd[9], hd[10], hd[11]]),
        )
    } else if explicit {
        (
            hd[..4] == [0xE0, 0x7F, 0x10, 0x00],
            u32::from_le_bytes([hd[8], hd[9], hd[10], hd[11]]),
        )
    } else {
        (
            hd[..4] == [0xE0, 0x7F, 0x10, 0x00],
            u32::from_le_bytes([hd[4], hd[5], hd[6], hd[7]]),
        )
    };
    let ow = explicit && &hd[4..6] == b"OW";
    let vr_ok = !explicit || (ow || &hd[4..6] == b"OB") && hd[6..8] == [0, 0];
    if !(tag_ok && vr_ok && len as usize == need) {
        return None;
    }
    Some((
        f,
        TailHead {
            bytes,
            len: head,
            big_endian: be,
            ow,
        },
    ))
}

/// Native PixelData followed by bytes that are not a DICOM element: the last element
/// header in the file that is PixelData (OB/OW, or implicit) with exactly `need` bytes
/// and room for them. `None` when there is none (the file is then reported unreadable).
fn read_native_before_junk(
    h: &FileHeader,
    need: usize,
    targets: &mut [Target],
) -> Option<Result<(), String>> {
    if h.transfer_syntax == DEFLATED_EXPLICIT_VR_LE || need == 0 {
        return None;
    }
    let data = std::fs::read(&h.path).ok()?;
    let be = h.transfer_syntax == EXPLICIT_VR_BE;
    let explicit = h.transfer_syntax != IMPLICIT_VR_LE;
    let head = if explicit { 12 } else { 8 };
    let last = data.len().checked_sub(need + head)?;
    let tag: [u8; 4] = if be {
        [0x7F, 0xE0, 0x00, 0x10]
    } else {
        [0xE0, 0x7F, 0x10, 0x00]
    };
    let pos = (0..=last).rev().find(|&p| {
        let hd = &data[p..p + head];
        if hd[..4] != tag {
            return false;
        }
        let len = match (be, explicit) {
            (true, _) => u32::from_be_bytes([hd[8], hd[9], hd[10], hd[11]]),
            (false, true) => u32::from_le_bytes([hd[8], hd[9], hd[10], hd[11]]),
            (false, false) => u32::from_le_bytes([hd[4], hd[5], hd[6], hd[7]]),
        };
        let vr_ok = !explicit || (&hd[4..6] == b"OW" || &hd[4..6] == b"OB") && hd[6..8] == [0, 0];
        vr_ok && len as usize == need
    })?;
    let ow = explicit && &data[pos + 4..pos + 6] == b"OW";
    let mut bytes = data[pos + head..pos + head + need].to_vec();
    if be {
        match h.bits_allocated {
            8 if ow => bytes.chunks_exact_mut(2).for_each(|c| c.swap(0, 1)),
            16 => bytes.chunks_exact_mut(2).for_each(|c| c.reverse()),
            32 => bytes.chunks_exact_mut(4).for_each(|c| c.reverse()),
            _ => {}
        }
    }
    let extra = data.len() - (pos + head + need);
    tracing::warn!(
        file = %h.path.display(),
        "{extra} extra byte(s) after the pixel data: ignored, the image is read"
    );
    Some(fill_native(h, &bytes, targets))
}

/// The file of a single-frame native little-endian series slice, opened read-only and
/// positioned at its PixelData value, when that value is the file's last element, exactly
/// `need` bytes long (checked from the element header in front of it, as the direct-read
/// path does), and the file still has the length the header pass saw. For copying the
/// stored bytes as they are (`export`'s file-copy path); `None` otherwise.
pub(crate) fn open_le_pixel_value(h: &FileHeader, need: usize) -> Option<std::fs::File> {
    let (f, head) = open_native_tail(h, need)?;
    // A file truncated or rewritten since the header pass is not copied blind.
    let now = f.metadata().ok()?.len();
    (!head.big_endian && now == h.file_len).then_some(f)
}

/// Fast path for `convert`'s int16 output: one single-frame native file's stored samples
/// plus an integral intercept (slope 1) straight into little-endian int16 bytes, with no
/// f32 in between. `None` when the frame does not qualify — another layout (deflate,
/// trailing elements, multi-frame), 32-bit samples, slope ≠ 1, a fractional intercept, or
/// a value outside int16 — and the caller takes the general path, which decides.
pub(crate) fn native_frame_to_i16(h: &FileHeader, slope: f64, intercept: f64, out: &mut [u8]) -> Option<()> {
    let n = h.rows as usize * h.columns as usize;
    if h.frames != 1
        || !is_native(&h.transfer_syntax)
        || slope != 1.0
        || intercept.fract() != 0.0
        || intercept.abs() > 65536.0
        || out.len() != n * 2
        || !(h.bits_allocated == 8 || h.bits_allocated == 16)
    {
        return None;
    }
    let need = frame_bytes(h) as usize;
    if h.bits_allocated == 16 {
        // The common CT case: read the samples straight into the output (one copy out of
        // the page cache) and convert them in place, while they are still in cache.
        let (mut f, head) = open_native_tail(h, need)?;
        if head.big_endian || need != out.len() {
            return native_frame_to_i16_buffered(h, need, intercept, out);
        }
        use std::io::Read;
        f.read_exact(out).ok()?;
        return stored16_le_to_i16_in_place(out, h.bits_stored, h.pixel_signed, intercept as i32)
            .then_some(());
    }
    native_frame_to_i16_buffered(h, need, intercept, out)
}

/// [`native_frame_to_i16`] through the per-thread tail buffer (8-bit and big-endian).
fn native_frame_to_i16_buffered(h: &FileHeader, need: usize, intercept: f64, out: &mut [u8]) -> Option<()> {
    let mut buf = TAIL_BUF.with(|c| std::mem::take(&mut *c.borrow_mut()));
    let done = read_native_tail(h, need, &mut buf).and_then(|head| {
        let src = buf.get(head..head + need)?;
        stored_to_i16(
            src,
            h.bits_allocated,
            h.bits_stored,
            h.pixel_signed,
            intercept as i32,
            out,
        )
        .then_some(())
    });
    TAIL_BUF.with(|c| *c.borrow_mut() = buf);
    done
}

/// Little-endian 16-bit stored samples → stored value + `intercept` as little-endian
/// int16, in place; `false` when a value falls outside int16. Masking and sign extension
/// as in [`convert_samples`].
fn stored16_le_to_i16_in_place(buf: &mut [u8], bits_stored: u16, signed: bool, intercept: i32) -> bool {
    let shift = 16 - bits_stored.clamp(1, 16) as u32;
    // Whole-register int16 arithmetic when every stored value is an int16 (signed, or
    // unsigned below 16 bits) and so is the intercept: 8 lanes per SSE2 register instead of
    // widening to i32 (the conversion was the larger half of the native copy's time).
    if cfg!(target_endian = "little") && (signed || shift > 0) {
        if let (Ok(b), Ok(v)) = (
            i16::try_from(intercept),
            bytemuck::try_cast_slice_mut::<u8, i16>(buf),
        ) {
            return add_intercept_i16(v, shift, signed, b);
        }
    }
    let mask = 0xFFFFu16 >> shift;
    let mut ok = true;
    // No early exit (vectorises); 8 at a time.
    macro_rules! run {
        ($stored:expr) => {{
            let mut c8 = buf.chunks_exact_mut(16);
            for c in &mut c8 {
                let mut a = [0i32; 8];
                for i in 0..8 {
                    a[i] = $stored(u16::from_le_bytes([c[2 * i], c[2 * i + 1]])) + intercept;
                }
                for i in 0..8 {
                    ok &= a[i] >= i16::MIN as i32 && a[i] <= i16::MAX as i32;
                    c[2 * i..2 * i + 2].copy_from_slice(&(a[i] as i16).to_le_bytes());
                }
            }
            for c in c8.into_remainder().chunks_exact_mut(2) {
                let v = $stored(u16::from_le_bytes([c[0], c[1]])) + intercept;
                ok &= v >= i16::MIN as i32 && v <= i16::MAX as i32;
                c.copy_from_slice(&(v as i16).to_le_bytes());
            }
        }};
    }
    if signed {
        run!(|u: u16| (((u << shift) as i16) >> shift) as i32)
    } else {
        run!(|u: u16| (u & mask) as i32)
    }
    ok
}

/// `v` (stored samples as native int16) → sign-extended from / masked to the stored bits,
/// plus `b`, in place; `false` when a sum overflows int16 (the overflow test of two's
/// complement addition: the result's sign differs from both operands').
fn add_intercept_i16(v: &mut [i16], shift: u32, signed: bool, b: i16) -> bool {
    let mut bad = 0i16;
    if signed {
        for x in v.iter_mut() {
            let s = (*x << shift) >> shift;
            let r = s.wrapping_add(b);
            bad |= (s ^ r) & (b ^ r);
            *x = r;
        }
    } else {
        let m = (0xFFFFu16 >> shift) as i16;
        for x in v.iter_mut() {
            let s = *x & m;
            let r = s.wrapping_add(b);
            bad |= (s ^ r) & (b ^ r);
            *x = r;
        }
    }
    bad >= 0
}

/// Native-endian stored samples + `intercept` → little-endian int16; `false` when a value
/// falls outside int16. Masking and sign extension as in [`convert_samples`].
fn stored_to_i16(
    src: &[u8],
    bits_allocated: u16,
    bits_stored: u16,
    signed: bool,
    intercept: i32,
    out: &mut [u8],
) -> bool {
    let shift = (bits_allocated - bits_stored.min(bits_allocated)) as u32;
    let mut ok = true;
    // No early exit (vectorises); 8 at a time.
    macro_rules! run {
        ($w:expr, $stored:expr) => {{
            let mut o8 = out.chunks_exact_mut(16);
            let mut s8 = src.chunks_exact(8 * $w);
            for (o, c) in (&mut o8).zip(&mut s8) {
                let mut a = [0i32; 8];
                for i in 0..8 {
                    a[i] = $stored(&c[i * $w..]) as i32 + intercept;
                }
                for i in 0..8 {
                    ok &= a[i] >= i16::MIN as i32 && a[i] <= i16::MAX as i32;
                    o[2 * i..2 * i + 2].copy_from_slice(&(a[i] as i16).to_le_bytes());
                }
            }
            for (o, c) in o8
                .into_remainder()
                .chunks_exact_mut(2)
                .zip(s8.remainder().chunks_exact($w))
            {
                let v = $stored(c) as i32 + intercept;
                ok &= v >= i16::MIN as i32 && v <= i16::MAX as i32;
                o.copy_from_slice(&(v as i16).to_le_bytes());
            }
        }};
    }
    match (bits_allocated, signed) {
        (8, false) => {
            let mask = (0xFFu16 >> shift) as u8;
            run!(1, |c: &[u8]| c[0] & mask)
        }
        (8, true) => run!(1, |c: &[u8]| ((c[0] << shift) as i8) >> shift),
        (16, false) => {
            let mask = 0xFFFFu16 >> shift;
            run!(2, |c: &[u8]| u16::from_ne_bytes([c[0], c[1]]) & mask)
        }
        (16, true) => run!(2, |c: &[u8]| (i16::from_ne_bytes([c[0], c[1]]) << shift) >> shift),
        _ => return false,
    }
    ok
}

fn fill_native(h: &FileHeader, bytes: &[u8], targets: &mut [Target]) -> Result<(), String> {
    let fb = frame_bytes(h) as usize;
    targets.par_iter_mut().try_for_each(|t| {
        let off = t.frame as usize * fb;
        let out = t.plane.as_slice_mut().ok_or("internal: plane not contiguous")?;
        convert_samples(
            &bytes[off..off + fb],
            h.bits_allocated,
            h.bits_stored,
            h.pixel_signed,
            t.slope,
            t.intercept,
            out,
        )
    })
}

/// 12-bit JPEG extended frames with our own decoder (`None`: not 12-bit, dicom-pixeldata
/// decodes it).
fn decode_jpeg12(
    obj: &dicom_object::DefaultDicomObject,
    h: &FileHeader,
    targets: &mut [Target],
) -> Option<Result<(), String>> {
    let frags = obj.element(tags::PIXEL_DATA).ok()?.value().fragments()?;
    let first = frags.iter().find(|f| !f.is_empty())?;
    if crate::jpeg12::precision(first) != Some(12) {
        return None;
    }
    let whole = (h.frames == 1 && frags.len() > 1).then(|| frags.concat());
    Some(targets.par_iter_mut().try_for_each(|t| {
        let data = match &whole {
            Some(d) => d.as_slice(),
            None => frames_fragment(frags, h.frames, t.frame)?,
        };
        let samples = crate::jpeg12::decode(data, h.rows, h.columns)
            .map_err(|e| format!("cannot decode frame {} (JPEG 12-bit): {e}", t.frame))?;
        let bytes: Vec<u8> = samples.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let out = t.plane.as_slice_mut().ok_or("internal: plane not contiguous")?;
        convert_samples(
            &bytes,
            16,
            h.bits_stored.min(12),
            h.pixel_signed,
            t.slope,
            t.intercept,
            out,
        )
    }))
}

/// Fragment of frame `f` when there is one fragment per frame.
fn frames_fragment(frags: &[Vec<u8>], frames: u32, f: u32) -> Result<&[u8], String> {
    if frags.len() == frames as usize {
        return Ok(&frags[f as usize]);
    }
    Err(format!(
        "{} fragments for {frames} frames (one per frame expected)",
        frags.len()
    ))
}

/// JPEG-LS frames with our own decoder (cavascope-jpegls: Rust alone, no CharLS build).
/// `None` when the decoder refuses a feature it does not implement and the `charls`
/// feature is built in: dicom-pixeldata's CharLS then decodes the file.
fn decode_jpegls(
    obj: &dicom_object::DefaultDicomObject,
    h: &FileHeader,
    targets: &mut [Target],
) -> Option<Result<(), String>> {
    let frags = match obj
        .element(tags::PIXEL_DATA)
        .ok()
        .and_then(|e| e.value().fragments())
    {
        Some(f) => f,
        None => return Some(Err("JPEG-LS pixel data is not encapsulated".into())),
    };
    let whole = (h.frames == 1 && frags.len() > 1).then(|| frags.concat());
    let result = targets.par_iter_mut().try_for_each(|t| {
        let data = match &whole {
            Some(d) => d.as_slice(),
            None => frames_fragment(frags, h.frames, t.frame).map_err(|e| (false, e))?,
        };
        let img = cavascope_jpegls::decode(data, cavascope_jpegls::Limits::exact(h.columns, h.rows, 1))
            .map_err(|e| {
                let unsupported = matches!(e, cavascope_jpegls::JlsError::Unsupported(_));
                (
                    unsupported,
                    format!("cannot decode frame {} (JPEG-LS): {e}", t.frame),
                )
            })?;
        let bytes: &[u8] = bytemuck::cast_slice(&img.samples);
        let out = t
            .plane
            .as_slice_mut()
            .ok_or((false, "internal: plane not contiguous".to_string()))?;
        // The stream's precision can be below BitsStored (never above, for valid files):
        // its samples are the stored values, masked or sign-extended as native ones.
        convert_samples(
            bytes,
            16,
            h.bits_stored.min(16),
            h.pixel_signed,
            t.slope,
            t.intercept,
            out,
        )
        .map_err(|e| (false, e))
    });
    match result {
        Ok(()) => Some(Ok(())),
        Err((true, _)) if cfg!(feature = "charls") => None,
        Err((_, e)) => Some(Err(e)),
    }
}

/// RLE frames with our own decoder (all widths, 32-bit included), one fragment per frame
/// as the standard requires (a single-frame file may split its frame over fragments).
fn decode_rle(
    obj: &dicom_object::DefaultDicomObject,
    h: &FileHeader,
    targets: &mut [Target],
) -> Result<(), String> {
    let frags = obj
        .element(tags::PIXEL_DATA)
        .ok()
        .and_then(|e| e.value().fragments())
        .ok_or("RLE pixel data is not encapsulated")?;
    let whole;
    let frame_data = |f: u32| -> Result<&[u8], String> {
        if frags.len() == h.frames as usize {
            return Ok(&frags[f as usize]);
        }
        Err(format!(
            "{} RLE fragments for {} frames (one per frame expected)",
            frags.len(),
            h.frames
        ))
    };
    let single: Option<&[u8]> = if h.frames == 1 && frags.len() > 1 {
        whole = frags.concat();
        Some(&whole)
    } else {
        None
    };
    targets.par_iter_mut().try_for_each(|t| {
        let data = match single {
            Some(d) => d,
            None => frame_data(t.frame)?,
        };
        let samples = crate::rle::decode_frame(data, h.rows, h.columns, h.bits_allocated)
            .map_err(|e| format!("cannot decode frame {} (RLE): {e}", t.frame))?;
        let out = t.plane.as_slice_mut().ok_or("internal: plane not contiguous")?;
        convert_samples(
            &samples,
            h.bits_allocated,
            h.bits_stored,
            h.pixel_signed,
            t.slope,
            t.intercept,
            out,
        )
    })
}

fn decode_file(h: &FileHeader, mut targets: Vec<Target>) -> Result<(), String> {
    let need = frame_bytes(h) as usize * h.frames as usize;
    if is_native(&h.transfer_syntax) {
        // One buffer per worker thread, reused across files: fresh allocations per file
        // cost more in page faults than the copy itself. Taken out of the cell (not
        // borrowed) so a nested rayon task on this thread cannot hit a borrowed cell.
        let mut buf = TAIL_BUF.with(|c| std::mem::take(&mut *c.borrow_mut()));
        let done = read_native_tail(h, need, &mut buf).map(|head| fill_native(h, &buf[head..], &mut targets));
        TAIL_BUF.with(|c| *c.borrow_mut() = buf);
        if let Some(r) = done {
            return r;
        }
    }
    if h.junk_after_pixels && is_native(&h.transfer_syntax) {
        // The parser would take the junk for elements (and allocate what they declare).
        if let Some(r) = read_native_before_junk(h, need, &mut targets) {
            return r;
        }
        return Err(
            "pixel data unreadable: bytes after it are not DICOM and no complete PixelData element was found"
                .into(),
        );
    }
    let obj = match OpenFileOptions::new().open_file(&h.path) {
        Ok(o) => o,
        Err(e) => {
            // Extra bytes after a complete native PixelData element make the parser fail
            // on the "next element"; dcm2niix, DCMTK and pydicom read such files.
            if is_native(&h.transfer_syntax) {
                if let Some(r) = read_native_before_junk(h, need, &mut targets) {
                    return r;
                }
            }
            return Err(format!(
                "pixel data unreadable (truncated or corrupt file): {}",
                one_line(&e.to_string())
            ));
        }
    };
    if is_native(&h.transfer_syntax) {
        let elem = obj
            .element(tags::PIXEL_DATA)
            .map_err(|_| "no PixelData element".to_string())?;
        let prim = elem
            .value()
            .primitive()
            .ok_or("PixelData is encapsulated in a native transfer syntax")?;
        let bytes = native_sample_bytes(prim, h.bits_allocated, h.transfer_syntax == EXPLICIT_VR_BE);
        if bytes.len() < need {
            return Err(format!(
                "pixel data truncated: {} bytes, {need} expected",
                bytes.len()
            ));
        }
        return fill_native(h, &bytes, &mut targets);
    }
    if obj.get(tags::PIXEL_DATA).is_none() {
        return Err("no PixelData element".into());
    }
    if h.transfer_syntax == RLE_LOSSLESS {
        return decode_rle(&obj, h, &mut targets);
    }
    if h.transfer_syntax == JPEG_EXTENDED {
        if let Some(r) = decode_jpeg12(&obj, h, &mut targets) {
            return r;
        }
    }
    if is_jpegls(&h.transfer_syntax) {
        if let Some(r) = decode_jpegls(&obj, h, &mut targets) {
            return r;
        }
    }
    targets.par_iter_mut().try_for_each(|t| {
        let d = obj.decode_pixel_data_frame(t.frame).map_err(|e| {
            format!(
                "cannot decode frame {} ({}): {}",
                t.frame,
                h.transfer_syntax,
                error_chain(&e)
            )
        })?;
        if d.samples_per_pixel() != 1 {
            return Err(format!(
                "decoded {} samples per pixel; expected 1",
                d.samples_per_pixel()
            ));
        }
        let bits = d.bits_allocated();
        let signed = matches!(
            d.pixel_representation(),
            dicom_pixeldata::PixelRepresentation::Signed
        );
        let data = d.data();
        let per = h.rows as usize * h.columns as usize * (bits as usize / 8);
        // Multi-frame decodes may return only the requested frame or all of them.
        let bytes = if data.len() >= per * (t.frame as usize + 1)
            && data.len() >= per * h.frames as usize
            && h.frames > 1
        {
            &data[t.frame as usize * per..(t.frame as usize + 1) * per]
        } else {
            data
        };
        let out = t.plane.as_slice_mut().ok_or("internal: plane not contiguous")?;
        convert_samples(
            bytes,
            bits,
            h.bits_stored.min(bits),
            signed,
            t.slope,
            t.intercept,
            out,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_extension_and_masking() {
        // 12 bits stored in 16: 0x0FFF unsigned = 4095; signed 0x0FFF = -1; high garbage masked.
        let mut out = [0f32; 3];
        let b: Vec<u8> = [0x0FFFu16, 0xF800, 0x0800]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        convert_samples(&b, 16, 12, false, 1.0, 0.0, &mut out).unwrap();
        assert_eq!(out, [4095.0, 2048.0, 2048.0]);
        convert_samples(&b, 16, 12, true, 1.0, 0.0, &mut out).unwrap();
        assert_eq!(out, [-1.0, -2048.0, -2048.0]);
        convert_samples(&b, 16, 16, true, 2.0, -1024.0, &mut out).unwrap();
        assert_eq!(
            out,
            [
                4095.0 * 2.0 - 1024.0,
                -2048.0 * 2.0 - 1024.0,
                2048.0 * 2.0 - 1024.0
            ]
        );
        assert!(convert_samples(&b[..4], 16, 16, true, 1.0, 0.0, &mut out).is_err());
    }

    /// The int16 fast path gives what the f32 path gives, and refuses out-of-range values.
    #[test]
    fn int16_fast_path_agrees_with_f32_path() {
        let words: Vec<u16> = (0..4096u32)
            .map(|v| (v * 37 % 65536) as u16 | (0x8000 * (v % 3 == 0) as u16))
            .collect();
        let b: Vec<u8> = words.iter().flat_map(|v| v.to_ne_bytes()).collect();
        for (bits, signed, intercept) in [
            (12, false, -1024),
            (12, true, 0),
            (16, true, 7),
            (15, false, -16384),
        ] {
            let mut f = vec![0f32; words.len()];
            convert_samples(&b, 16, bits, signed, 1.0, intercept as f64, &mut f).unwrap();
            let mut o = vec![0u8; words.len() * 2];
            assert!(
                stored_to_i16(&b, 16, bits, signed, intercept, &mut o),
                "{bits} {signed}"
            );
            for (x, c) in f.iter().zip(o.chunks_exact(2)) {
                assert_eq!(*x, i16::from_le_bytes([c[0], c[1]]) as f32);
            }
            // The in-place path (file bytes are little-endian), on an odd length so the
            // remainder loop runs too.
            // Aligned (whole-int16 arithmetic) and one byte off (the i32 loop).
            let le: Vec<u8> = words.iter().take(4093).flat_map(|v| v.to_le_bytes()).collect();
            let mut aligned = vec![0i16; 4093];
            bytemuck::cast_slice_mut::<i16, u8>(&mut aligned).copy_from_slice(&le);
            let mut odd = vec![0u8; le.len() + 1];
            odd[1..].copy_from_slice(&le);
            assert!(stored16_le_to_i16_in_place(
                bytemuck::cast_slice_mut(&mut aligned),
                bits,
                signed,
                intercept
            ));
            assert!(stored16_le_to_i16_in_place(
                &mut odd[1..],
                bits,
                signed,
                intercept
            ));
            for ((x, a), c) in f.iter().zip(&aligned).zip(odd[1..].chunks_exact(2)) {
                assert_eq!(*x, i16::from_le(*a) as f32);
                assert_eq!(*x, i16::from_le_bytes([c[0], c[1]]) as f32);
            }
        }
        let mut le: Vec<u8> = words.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(!stored16_le_to_i16_in_place(&mut le, 16, false, 0));
        // Overflow past either end of int16 is caught by the int16 arithmetic too.
        for (w, bits, signed, b) in [
            (32000i16, 16, true, 1000),
            (-32000, 16, true, -1000),
            (0x7FFF, 15, false, 1),
        ] {
            let mut v = vec![0i16; 64];
            v[37] = w;
            assert!(!stored16_le_to_i16_in_place(
                bytemuck::cast_slice_mut(&mut v),
                bits,
                signed,
                b
            ));
        }
        // 16-bit unsigned up to 65535: beyond int16.
        let mut o = vec![0u8; words.len() * 2];
        assert!(!stored_to_i16(&b, 16, 16, false, 0, &mut o));
        let b8: Vec<u8> = (0..=255u8).collect();
        let mut f = vec![0f32; 256];
        let mut o = vec![0u8; 512];
        for signed in [false, true] {
            convert_samples(&b8, 8, 7, signed, 1.0, -3.0, &mut f).unwrap();
            assert!(stored_to_i16(&b8, 8, 7, signed, -3, &mut o));
            for (x, c) in f.iter().zip(o.chunks_exact(2)) {
                assert_eq!(*x, i16::from_le_bytes([c[0], c[1]]) as f32);
            }
        }
    }
}
