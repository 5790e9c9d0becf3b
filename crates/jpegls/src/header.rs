//! Marker segments (T.87 Annex C): SOI, SOF55, LSE, SOS, EOI; APPn and COM skipped.
//! Every length is checked against the data; values against the ranges of C.2.

use crate::JlsError;

/// The frame header (SOF55).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// Samples per line, X.
    pub width: u32,
    /// Lines, Y.
    pub height: u32,
    /// Nf, 1–4 here.
    pub components: u8,
    /// P, 2–16.
    pub precision: u8,
}

/// Coding parameters in force for a scan (LSE id 1 or the defaults of C.2.4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// MAXVAL: the largest sample value.
    pub maxval: i32,
    /// T1: first gradient threshold of the context quantisation.
    pub t1: i32,
    /// T2: second gradient threshold.
    pub t2: i32,
    /// T3: third gradient threshold.
    pub t3: i32,
    /// RESET: how often the context counters are halved.
    pub reset: i32,
}

/// One scan: its components (indices into the frame's), NEAR, interleave and coded data.
#[derive(Debug, Clone)]
pub struct ScanInfo {
    /// The components coded in this scan.
    pub components: Vec<usize>,
    /// NEAR: the largest error allowed (0 lossless).
    pub near: i32,
    /// 0 none, 1 line, 2 sample.
    pub ilv: u8,
    /// The coding parameters in force.
    pub preset: Preset,
    /// Byte range of the entropy-coded data in the stream.
    pub data: (usize, usize),
}

pub(crate) struct Stream {
    pub frame: FrameInfo,
    pub scans: Vec<ScanInfo>,
}

fn be16(d: &[u8], i: usize) -> u32 {
    u16::from_be_bytes([d[i], d[i + 1]]) as u32
}

/// Frame header only (the whole marker structure is still checked).
pub fn read_header(data: &[u8]) -> Result<FrameInfo, JlsError> {
    parse(data).map(|s| s.frame)
}

/// Defaults of C.2.4.1.1 for `maxval` and `near`; LSE values of 0 mean "default".
pub(crate) fn default_preset(maxval: i32, near: i32) -> Preset {
    const BASIC_T1: i32 = 3;
    const BASIC_T2: i32 = 7;
    const BASIC_T3: i32 = 21;
    let clamp = |i: i32, j: i32| if i > maxval || i < j { j } else { i };
    let (t1, t2, t3);
    if maxval >= 128 {
        let factor = (maxval.min(4095) + 128) / 256;
        t1 = clamp(factor * (BASIC_T1 - 2) + 2 + 3 * near, near + 1);
        t2 = clamp(factor * (BASIC_T2 - 3) + 3 + 5 * near, t1);
        t3 = clamp(factor * (BASIC_T3 - 4) + 4 + 7 * near, t2);
    } else {
        let factor = 256 / (maxval + 1);
        t1 = clamp((BASIC_T1 / factor).max(2) + 3 * near, near + 1);
        t2 = clamp((BASIC_T2 / factor).max(3) + 5 * near, t1);
        t3 = clamp((BASIC_T3 / factor).max(4) + 7 * near, t2);
    }
    Preset {
        maxval,
        t1,
        t2,
        t3,
        reset: 64,
    }
}

/// LSE id 1 values as given (0 = default), resolved for a scan's NEAR.
#[derive(Debug, Clone, Copy, Default)]
struct LsePreset {
    maxval: i32,
    t1: i32,
    t2: i32,
    t3: i32,
    reset: i32,
}

fn resolve(lse: LsePreset, precision: u8, near: i32) -> Result<Preset, JlsError> {
    let full = (1i32 << precision) - 1;
    let maxval = if lse.maxval == 0 { full } else { lse.maxval };
    if maxval > full || maxval < 1 {
        return Err(JlsError::Header(format!(
            "MAXVAL {maxval} outside 1..={full} for {precision}-bit samples"
        )));
    }
    if near > (maxval / 2).min(255) {
        return Err(JlsError::Header(format!(
            "NEAR {near} too large for MAXVAL {maxval}"
        )));
    }
    let d = default_preset(maxval, near);
    let pick = |v: i32, def: i32| if v == 0 { def } else { v };
    let p = Preset {
        maxval,
        t1: pick(lse.t1, d.t1),
        t2: pick(lse.t2, d.t2),
        t3: pick(lse.t3, d.t3),
        reset: pick(lse.reset, d.reset),
    };
    // C.2.4.1.1: NEAR+1 ≤ T1 ≤ T2 ≤ T3 ≤ MAXVAL, 3 ≤ RESET ≤ max(255, MAXVAL).
    if !(near < p.t1 && p.t1 <= p.t2 && p.t2 <= p.t3 && p.t3 <= maxval)
        || p.reset < 3
        || p.reset > maxval.max(255)
    {
        return Err(JlsError::Header(format!(
            "preset parameters out of range (T1 {} T2 {} T3 {} RESET {} MAXVAL {maxval} NEAR {near})",
            p.t1, p.t2, p.t3, p.reset
        )));
    }
    Ok(p)
}

/// End of the entropy-coded data starting at `from`: the first 0xFF followed by a byte
/// ≥ 0x80 (bit stuffing keeps such pairs out of coded data), or the end of the buffer.
fn coded_end(data: &[u8], from: usize) -> usize {
    let mut i = from;
    while i + 1 < data.len() {
        if data[i] == 0xFF && data[i + 1] >= 0x80 {
            return i;
        }
        i += 1;
    }
    data.len()
}

pub(crate) fn parse(data: &[u8]) -> Result<Stream, JlsError> {
    if data.len() < 2 || data[0] != 0xFF || data[1] != 0xD8 {
        return Err(JlsError::NotJpegLs("no SOI marker at the start".into()));
    }
    let mut i = 2usize;
    let mut frame: Option<FrameInfo> = None;
    let mut lse = LsePreset::default();
    let mut scans: Vec<ScanInfo> = Vec::new();
    // Component ids of the frame header, in frame order.
    let mut ids: Vec<u8> = Vec::new();
    loop {
        let m = next_marker(data, &mut i)?;
        if m == 0xD9 {
            break;
        }
        if (0xD0..=0xD7).contains(&m) {
            return Err(JlsError::Unsupported("restart markers".into()));
        }
        if i + 2 > data.len() {
            return Err(JlsError::Header(format!("marker FF{m:02X} without a length")));
        }
        let len = be16(data, i) as usize;
        if len < 2 || i + len > data.len() {
            return Err(JlsError::Header(format!(
                "marker FF{m:02X} segment of {len} bytes runs past the end ({} bytes)",
                data.len()
            )));
        }
        let seg = &data[i + 2..i + len];
        let seg_end = i + len;
        match m {
            0xF7 => {
                if frame.is_some() {
                    return Err(JlsError::Header("second frame header".into()));
                }
                frame = Some(frame_header(seg, &mut ids)?);
            }
            0xF8 => lse = lse_preset(seg)?,
            0xDD => {
                if seg.len() < 2 {
                    return Err(JlsError::Header("DRI segment too short".into()));
                }
                let ri = if seg.len() == 2 { be16(seg, 0) } else { 1 };
                if ri != 0 {
                    return Err(JlsError::Unsupported("restart intervals".into()));
                }
            }
            0xDA => {
                let Some(f) = frame else {
                    return Err(JlsError::Header("scan before the frame header".into()));
                };
                let (components, near, ilv) = scan_header(seg, &f, &ids, &scans)?;
                let preset = resolve(lse, f.precision, near)?;
                let start = seg_end;
                let end = coded_end(data, start);
                scans.push(ScanInfo {
                    components,
                    near,
                    ilv,
                    preset,
                    data: (start, end),
                });
                i = end;
                continue;
            }
            0xF9 => return Err(JlsError::Unsupported("JPEG-LS extensions (SOF57)".into())),
            0xC0..=0xCF if m != 0xC4 && m != 0xC8 && m != 0xCC => {
                return Err(JlsError::NotJpegLs(format!(
                    "frame marker FF{m:02X} of another JPEG process"
                )))
            }
            // APPn, COM and other segments carry nothing the decoder needs.
            _ => {}
        }
        i = seg_end;
    }
    let frame = frame.ok_or_else(|| JlsError::Header("no frame header (SOF55)".into()))?;
    let covered: usize = scans.iter().map(|s| s.components.len()).sum();
    if covered != frame.components as usize {
        return Err(JlsError::Header(format!(
            "scans code {covered} of {} components",
            frame.components
        )));
    }
    Ok(Stream { frame, scans })
}

/// The marker at byte `i` (after any fill bytes); `i` moves past it.
fn next_marker(data: &[u8], i: &mut usize) -> Result<u8, JlsError> {
    if *i >= data.len() {
        return Err(JlsError::Header("stream ends before EOI".into()));
    }
    if data[*i] != 0xFF {
        return Err(JlsError::Header(format!(
            "marker expected at byte {i}, found 0x{:02X}",
            data[*i]
        )));
    }
    // Fill bytes (FF FF …) may precede a marker.
    while *i + 1 < data.len() && data[*i + 1] == 0xFF {
        *i += 1;
    }
    if *i + 1 >= data.len() {
        return Err(JlsError::Header("stream ends before EOI".into()));
    }
    let m = data[*i + 1];
    *i += 2;
    Ok(m)
}

/// The frame header (SOF55) segment; its component ids are appended to `ids`.
fn frame_header(seg: &[u8], ids: &mut Vec<u8>) -> Result<FrameInfo, JlsError> {
    if seg.len() < 6 {
        return Err(JlsError::Header("frame header too short".into()));
    }
    let precision = seg[0];
    let height = be16(seg, 1);
    let width = be16(seg, 3);
    let nf = seg[5];
    if !(2..=16).contains(&precision) {
        return Err(JlsError::Header(format!(
            "sample precision {precision} (2–16 allowed)"
        )));
    }
    if nf == 0 || nf > 4 {
        return Err(JlsError::Unsupported(format!("{nf} components (1–4 supported)")));
    }
    if seg.len() != 6 + 3 * nf as usize {
        return Err(JlsError::Header(format!(
            "frame header of {} bytes for {nf} components",
            seg.len()
        )));
    }
    if width == 0 || height == 0 {
        return Err(JlsError::Unsupported(
            "zero width or height (dimensions in an LSE or DNL segment)".into(),
        ));
    }
    for c in 0..nf as usize {
        ids.push(seg[6 + 3 * c]);
        let hv = seg[6 + 3 * c + 1];
        if hv != 0x11 {
            return Err(JlsError::Unsupported(format!(
                "subsampled component (H/V 0x{hv:02X})"
            )));
        }
    }
    Ok(FrameInfo {
        width,
        height,
        components: nf,
        precision,
    })
}

/// An LSE segment: only preset coding parameters (id 1) are read.
fn lse_preset(seg: &[u8]) -> Result<LsePreset, JlsError> {
    let Some(&id) = seg.first() else {
        return Err(JlsError::Header("empty LSE segment".into()));
    };
    if id != 1 {
        return Err(JlsError::Unsupported(format!(
            "LSE segment id {id} (mapping tables or oversize dimensions)"
        )));
    }
    if seg.len() != 11 {
        return Err(JlsError::Header(format!(
            "LSE preset segment of {} bytes",
            seg.len()
        )));
    }
    Ok(LsePreset {
        maxval: be16(seg, 1) as i32,
        t1: be16(seg, 3) as i32,
        t2: be16(seg, 5) as i32,
        t3: be16(seg, 7) as i32,
        reset: be16(seg, 9) as i32,
    })
}

/// A scan header (SOS) segment: the frame positions of its components (`ids` in frame
/// order; none coded by an earlier scan of `scans`), NEAR and the interleave mode.
fn scan_header(
    seg: &[u8],
    f: &FrameInfo,
    ids: &[u8],
    scans: &[ScanInfo],
) -> Result<(Vec<usize>, i32, u8), JlsError> {
    let Some(&ns) = seg.first() else {
        return Err(JlsError::Header("empty scan header".into()));
    };
    let ns = ns as usize;
    if ns == 0 || ns > f.components as usize || seg.len() != 1 + 2 * ns + 3 {
        return Err(JlsError::Header(format!(
            "scan header of {} bytes for {ns} of {} components",
            seg.len(),
            f.components
        )));
    }
    let mut comps = Vec::with_capacity(ns);
    for k in 0..ns {
        let id = seg[1 + 2 * k];
        let tm = seg[2 + 2 * k];
        if tm != 0 {
            return Err(JlsError::Unsupported("mapping tables".into()));
        }
        // Component ids are those of the frame header, in frame order.
        let pos = ids
            .iter()
            .position(|&c| c == id)
            .ok_or_else(|| JlsError::Header(format!("scan names unknown component {id}")))?;
        if comps.contains(&pos) || scans.iter().any(|s| s.components.contains(&pos)) {
            return Err(JlsError::Header(format!("component {id} coded twice")));
        }
        comps.push(pos);
    }
    let near = seg[1 + 2 * ns] as i32;
    let ilv = seg[2 + 2 * ns];
    let pt = seg[3 + 2 * ns] & 0x0F;
    if ilv > 2 {
        return Err(JlsError::Header(format!("interleave mode {ilv}")));
    }
    if ilv == 0 && ns != 1 {
        return Err(JlsError::Header(
            "interleave none with several components in one scan".into(),
        ));
    }
    if pt != 0 {
        return Err(JlsError::Unsupported(format!("point transform {pt}")));
    }
    Ok((comps, near, ilv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_thresholds_match_t87_table() {
        // T.87 Table C.3: 8-bit lossless 3/7/21, 12-bit 18/67/276 (FACTOR 16), 16-bit as 12.
        let p = default_preset(255, 0);
        assert_eq!((p.t1, p.t2, p.t3, p.reset), (3, 7, 21, 64));
        let p = default_preset(4095, 0);
        assert_eq!((p.t1, p.t2, p.t3), (18, 67, 276));
        let p = default_preset(65535, 0);
        assert_eq!((p.t1, p.t2, p.t3), (18, 67, 276));
        // Near-lossless 8-bit, NEAR 3: 3+9=12? T1 = 1*(1)+2+9 = 12.
        let p = default_preset(255, 3);
        assert_eq!((p.t1, p.t2, p.t3), (12, 22, 42));
    }
}
