//! JPEG extended sequential DCT with 12-bit samples (1.2.840.10008.1.2.4.51, process 4),
//! monochrome. The pure-Rust decoder behind dicom-pixeldata 0.10 (jpeg-decoder) refuses
//! 12-bit precision ("unsupported JPEG feature: SamplePrecision(12)"), and 12-bit lossy
//! JPEG is how older CT, NM and MR archives were compressed. This is a small ITU-T T.81
//! decoder for exactly that case: one component, Huffman coding, sequential (not
//! progressive, not arithmetic, not hierarchical), with restart intervals.
//!
//! The inverse DCT is the exact (double precision) transform, rounded once; libjpeg's
//! integer IDCT differs from it by at most one grey level on some pixels (both are
//! within the standard's accuracy requirement). Every length, table index and count is
//! checked: a damaged stream is an error, never a panic.

/// Zigzag position k → natural (row-major) index in the 8×8 block.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
    14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39,
    46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Sample precision declared by the stream's frame header (SOFn), if one is found.
pub fn precision(data: &[u8]) -> Option<u8> {
    let mut i = 2;
    while i + 4 < data.len() {
        if data[i] != 0xFF {
            return None;
        }
        let m = data[i + 1];
        if m == 0xFF {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
        if (0xC0..=0xCF).contains(&m) && m != 0xC4 && m != 0xC8 && m != 0xCC {
            return data.get(i + 4).copied();
        }
        i += 2 + len;
    }
    None
}

#[derive(Clone, Default)]
struct Huffman {
    /// Per code length 1..=16: largest code (−1 when none), first code, index of its value.
    maxcode: [i32; 17],
    mincode: [i32; 17],
    valptr: [usize; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: Vec<u8>) -> Result<Huffman, String> {
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        if total != values.len() || total > 256 {
            return Err("Huffman table: counts do not match the values".into());
        }
        let mut h = Huffman {
            values,
            ..Default::default()
        };
        let mut code = 0i32;
        let mut k = 0usize;
        for l in 1..=16 {
            let n = counts[l - 1] as usize;
            h.valptr[l] = k;
            h.mincode[l] = code;
            code += n as i32;
            k += n;
            h.maxcode[l] = if n > 0 { code - 1 } else { -1 };
            if code > (1 << l) {
                return Err("Huffman table: more codes than fit their lengths".into());
            }
            code <<= 1;
        }
        Ok(h)
    }
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u32,
    n: u32,
    /// A marker was met: the rest reads as zeros (T.81 F.2.2.5).
    marker: bool,
}

impl Bits<'_> {
    fn fill(&mut self) {
        while self.n <= 24 {
            let mut b = 0u8;
            if !self.marker && self.pos < self.data.len() {
                b = self.data[self.pos];
                if b == 0xFF {
                    match self.data.get(self.pos + 1) {
                        Some(0x00) => self.pos += 2,
                        _ => {
                            self.marker = true;
                            b = 0;
                        }
                    }
                } else {
                    self.pos += 1;
                }
            }
            self.acc |= (b as u32) << (24 - self.n);
            self.n += 8;
        }
    }

    fn bits(&mut self, k: u32) -> u32 {
        if k == 0 {
            return 0;
        }
        self.fill();
        let v = self.acc >> (32 - k);
        self.acc <<= k;
        self.n -= k;
        v
    }

    fn decode(&mut self, h: &Huffman) -> Result<u8, String> {
        let mut code = 0i32;
        for l in 1..=16 {
            code = (code << 1) | self.bits(1) as i32;
            if code <= h.maxcode[l] {
                let i = h.valptr[l] + (code - h.mincode[l]) as usize;
                return h
                    .values
                    .get(i)
                    .copied()
                    .ok_or_else(|| "bad Huffman code".to_string());
            }
        }
        Err("invalid Huffman code in the entropy-coded data".into())
    }

    /// `s` bits as a signed coefficient (T.81 F.2.2.1 EXTEND).
    fn receive_extend(&mut self, s: u8) -> i32 {
        if s == 0 {
            return 0;
        }
        let s = s.min(16) as u32;
        let v = self.bits(s) as i32;
        if v < (1 << (s - 1)) {
            v - (1 << s) + 1
        } else {
            v
        }
    }

    /// Skip to the byte after the next RSTn marker and reset.
    fn restart(&mut self) {
        self.acc = 0;
        self.n = 0;
        self.marker = false;
        while self.pos + 1 < self.data.len() {
            if self.data[self.pos] == 0xFF && (0xD0..=0xD7).contains(&self.data[self.pos + 1]) {
                self.pos += 2;
                return;
            }
            self.pos += 1;
        }
    }
}

/// Decode a single-component JPEG (baseline or extended sequential Huffman, 8 or 12 bit)
/// into `rows × cols` samples.
pub fn decode(data: &[u8], rows: u32, cols: u32) -> Result<Vec<u16>, String> {
    if data.len() < 4 || data[0] != 0xFF || data[1] != 0xD8 {
        return Err("not a JPEG stream (no SOI marker)".into());
    }
    let mut qt = [[0u16; 64]; 4];
    let mut dc: [Option<Huffman>; 4] = Default::default();
    let mut ac: [Option<Huffman>; 4] = Default::default();
    let mut frame: Option<(u8, usize, usize, usize)> = None; // precision, height, width, table
    let mut restart = 0usize;
    let mut i = 2usize;
    let seg = |i: usize| -> Result<&[u8], String> {
        let len = data
            .get(i + 2..i + 4)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
            .ok_or("JPEG segment truncated")?;
        data.get(i + 4..i + 2 + len)
            .filter(|_| len >= 2)
            .ok_or_else(|| "JPEG segment longer than the stream".to_string())
    };
    loop {
        if i + 1 >= data.len() {
            return Err("JPEG stream ends before the scan".into());
        }
        if data[i] != 0xFF {
            return Err(format!("JPEG marker expected at byte {i}"));
        }
        let m = data[i + 1];
        match m {
            0xFF => {
                i += 1;
                continue;
            }
            0xD8 | 0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            0xD9 => return Err("JPEG stream has no scan".into()),
            _ => {}
        }
        let s = seg(i)?;
        match m {
            0xC0 | 0xC1 => frame = Some(read_sof(s)?),
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(format!(
                "JPEG process SOF{} (progressive, lossless, hierarchical or arithmetic) is not decoded here",
                m - 0xC0
            ))
            }
            0xC4 => read_dht(s, &mut dc, &mut ac)?,
            0xDB => read_dqt(s, &mut qt)?,
            0xDD => {
                restart = s
                    .get(..2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
                    .ok_or("DRI truncated")?;
            }
            0xDA => {
                let (p, h, w, tq) = frame.ok_or("scan before the frame header")?;
                if s.len() < 6 || s[0] != 1 {
                    return Err("scan header: one component expected".into());
                }
                let (td, ta) = ((s[2] >> 4) as usize & 3, (s[2] & 3) as usize);
                let dct = dc[td].as_ref().ok_or("missing DC Huffman table")?;
                let act = ac[ta].as_ref().ok_or("missing AC Huffman table")?;
                if h != rows as usize || w != cols as usize {
                    return Err(format!(
                        "JPEG frame is {w}×{h}, the DICOM header says {cols}×{rows}"
                    ));
                }
                let start = i + 4 + s.len();
                return scan(&data[start..], p, h, w, &qt[tq], dct, act, restart);
            }
            _ => {}
        }
        i += 2 + 2 + s.len();
    }
}

/// SOF0/SOF1 frame header: (precision, height, width, quantisation table) of the one
/// component.
fn read_sof(s: &[u8]) -> Result<(u8, usize, usize, usize), String> {
    if s.len() < 6 {
        return Err("SOF truncated".into());
    }
    let p = s[0];
    let h = u16::from_be_bytes([s[1], s[2]]) as usize;
    let w = u16::from_be_bytes([s[3], s[4]]) as usize;
    if s[5] != 1 || s.len() < 9 {
        return Err(format!(
            "JPEG with {} components: only monochrome is decoded",
            s[5]
        ));
    }
    if p != 8 && p != 12 {
        return Err(format!("JPEG sample precision {p} (8 or 12 expected)"));
    }
    Ok((p, h, w, (s[8] & 3) as usize))
}

/// DHT segment: every Huffman table in it, into the DC or AC slot it names.
fn read_dht(s: &[u8], dc: &mut [Option<Huffman>; 4], ac: &mut [Option<Huffman>; 4]) -> Result<(), String> {
    let mut k = 0;
    while k < s.len() {
        let tc = s[k] >> 4;
        let th = (s[k] & 3) as usize;
        let counts: [u8; 16] = s
            .get(k + 1..k + 17)
            .and_then(|c| c.try_into().ok())
            .ok_or("DHT truncated")?;
        let n: usize = counts.iter().map(|&c| c as usize).sum();
        let vals = s.get(k + 17..k + 17 + n).ok_or("DHT truncated")?.to_vec();
        let h = Huffman::new(&counts, vals)?;
        if tc == 0 {
            dc[th] = Some(h);
        } else {
            ac[th] = Some(h);
        }
        k += 17 + n;
    }
    Ok(())
}

/// DQT segment: every quantisation table in it (8- or 16-bit entries, zigzag order).
fn read_dqt(s: &[u8], qt: &mut [[u16; 64]; 4]) -> Result<(), String> {
    let mut k = 0;
    while k < s.len() {
        let wide = s[k] >> 4 != 0;
        let t = (s[k] & 3) as usize;
        let size = if wide { 128 } else { 64 };
        let v = s.get(k + 1..k + 1 + size).ok_or("DQT truncated")?;
        for z in 0..64 {
            qt[t][z] = if wide {
                u16::from_be_bytes([v[2 * z], v[2 * z + 1]])
            } else {
                v[z] as u16
            };
        }
        k += 1 + size;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn scan(
    data: &[u8],
    precision: u8,
    h: usize,
    w: usize,
    q: &[u16; 64],
    dct: &Huffman,
    act: &Huffman,
    restart: usize,
) -> Result<Vec<u16>, String> {
    let (bw, bh) = (w.div_ceil(8), h.div_ceil(8));
    let mut out = vec![0u16; w * h];
    let mut bits = Bits {
        data,
        pos: 0,
        acc: 0,
        n: 0,
        marker: false,
    };
    // cos table with the C(u) factors: c[x][u] = C(u) cos((2x+1)uπ/16) / 2.
    let mut c = [[0f64; 8]; 8];
    for (x, row) in c.iter_mut().enumerate() {
        for (u, v) in row.iter_mut().enumerate() {
            let cu = if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            *v = cu * (((2 * x + 1) * u) as f64 * std::f64::consts::PI / 16.0).cos() / 2.0;
        }
    }
    let shift = (1i32 << (precision - 1)) as f64;
    let max = ((1u32 << precision) - 1) as f64;
    let mut pred = 0i32;
    for b in 0..bw * bh {
        if restart > 0 && b > 0 && b % restart == 0 {
            bits.restart();
            pred = 0;
        }
        let mut coef = [0f64; 64];
        let t = bits.decode(dct)?;
        if t > 16 {
            return Err("DC category out of range".into());
        }
        pred = pred.wrapping_add(bits.receive_extend(t));
        coef[0] = pred as f64 * q[0] as f64;
        let mut k = 1;
        while k < 64 {
            let rs = bits.decode(act)?;
            let (r, s) = ((rs >> 4) as usize, rs & 15);
            if s == 0 {
                if r == 15 {
                    k += 16;
                    continue;
                }
                break;
            }
            k += r;
            if k > 63 {
                return Err("AC coefficient index beyond 63".into());
            }
            coef[ZIGZAG[k]] = bits.receive_extend(s) as f64 * q[k] as f64;
            k += 1;
        }
        // Separable exact IDCT: rows then columns.
        let mut tmp = [0f64; 64];
        for v in 0..8 {
            for x in 0..8 {
                tmp[v * 8 + x] = (0..8).map(|u| c[x][u] * coef[v * 8 + u]).sum();
            }
        }
        let (by, bx) = (b / bw, b % bw);
        for (y, cy) in c.iter().enumerate() {
            let py = by * 8 + y;
            if py >= h {
                break;
            }
            for x in 0..8 {
                let px = bx * 8 + x;
                if px >= w {
                    break;
                }
                let s: f64 = (0..8).map(|v| cy[v] * tmp[v * 8 + x]).sum();
                out[py * w + px] = (s + shift).round().clamp(0.0, max) as u16;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_streams_are_errors_not_panics() {
        assert!(decode(&[], 8, 8).is_err());
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0xD9], 8, 8).is_err());
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0xC1, 0xFF, 0xFF], 8, 8).is_err());
        // Every prefix and a few corruptions of a minimal header never panic.
        let mut s = vec![0xFF, 0xD8, 0xFF, 0xC1, 0, 11, 12, 0, 8, 0, 8, 1, 1, 0x11, 0];
        s.extend([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0xAB, 0xCD]);
        for cut in 0..s.len() {
            let _ = decode(&s[..cut], 8, 8);
        }
        assert!(decode(&s, 8, 8).unwrap_err().contains("Huffman"));
        assert_eq!(precision(&s), Some(12));
    }
}
