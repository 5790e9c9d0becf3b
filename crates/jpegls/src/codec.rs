//! The LOCO-I coding loop of T.87 Annex A (decoder) and its mirror (encoder): context
//! modelling, MED prediction, bias correction, limited-length Golomb codes, run mode and
//! run interruption.

use crate::bits::{BitReader, BitWriter};
use crate::header::{default_preset, parse, FrameInfo, Preset};
use crate::{Image, JlsError, Limits};

/// J table of A.2.1: run-length order per RUNindex.
const J: [u32; 32] = [
    0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15,
];

/// Derived scan parameters (A.2.1).
#[derive(Clone, Copy)]
struct Traits {
    maxval: i32,
    near: i32,
    t1: i32,
    t2: i32,
    t3: i32,
    reset: i32,
    range: i32,
    qbpp: u32,
    limit: u32,
}

impl Traits {
    fn new(p: Preset, near: i32) -> Traits {
        let range = (p.maxval + 2 * near) / (2 * near + 1) + 1;
        let ceil_log2 = |v: i32| 32 - ((v - 1).max(0) as u32).leading_zeros();
        let qbpp = ceil_log2(range);
        let bpp = ceil_log2(p.maxval + 1).max(2);
        Traits {
            maxval: p.maxval,
            near,
            t1: p.t1,
            t2: p.t2,
            t3: p.t3,
            reset: p.reset,
            range,
            qbpp,
            limit: 2 * (bpp + bpp.max(8)),
        }
    }

    #[inline]
    fn quantize_gradient(&self, d: i32) -> i32 {
        if d <= -self.t3 {
            -4
        } else if d <= -self.t2 {
            -3
        } else if d <= -self.t1 {
            -2
        } else if d < -self.near {
            -1
        } else if d <= self.near {
            0
        } else if d < self.t1 {
            1
        } else if d < self.t2 {
            2
        } else if d < self.t3 {
            3
        } else {
            4
        }
    }

    /// Context index and sign of sample `x` of a one-component line, and its MED
    /// prediction (A.3, A.4.1).
    #[inline]
    fn neighbourhood(&self, l: &Lines, x: usize) -> (usize, i32, i32) {
        let (ra, rb, rc, rd) = (l.cur[x - 1], l.prev[x], l.prev[x - 1], l.prev[x + 1]);
        let (q, sign) = context(
            self.quantize_gradient(rd - rb),
            self.quantize_gradient(rb - rc),
            self.quantize_gradient(rc - ra),
        );
        (q, sign, med(ra, rb, rc))
    }

    #[inline]
    fn clamp(&self, v: i32) -> i32 {
        v.clamp(0, self.maxval)
    }

    /// Px + Errval·(2·NEAR+1), brought back into range (A.4.4 / A.6.2 modulo reduction).
    #[inline]
    fn reconstruct(&self, px: i32, err: i32) -> i32 {
        let step = 2 * self.near + 1;
        let mut v = px + err * step;
        if v < -self.near {
            v += self.range * step;
        } else if v > self.maxval + self.near {
            v -= self.range * step;
        }
        self.clamp(v)
    }

    /// Encoder: quantised and modulo-reduced prediction error.
    #[inline]
    fn error_value(&self, d: i32) -> i32 {
        let step = 2 * self.near + 1;
        let mut e = if d > 0 {
            (d + self.near) / step
        } else {
            -((self.near - d) / step)
        };
        if e < 0 {
            e += self.range;
        }
        if e >= (self.range + 1) / 2 {
            e -= self.range;
        }
        e
    }
}

#[inline]
fn med(ra: i32, rb: i32, rc: i32) -> i32 {
    if rc >= ra.max(rb) {
        ra.min(rb)
    } else if rc <= ra.min(rb) {
        ra.max(rb)
    } else {
        ra + rb - rc
    }
}

/// Context variables A, B, C, N of the 365 regular contexts and A, N, Nn of the two
/// run-interruption contexts (index 0: RItype 0, 1: RItype 1).
struct Contexts {
    a: [i32; 365],
    b: [i32; 365],
    c: [i32; 365],
    n: [i32; 365],
    ri_a: [i32; 2],
    ri_n: [i32; 2],
    ri_nn: [i32; 2],
}

impl Contexts {
    fn new(t: &Traits) -> Contexts {
        let a0 = ((t.range + 32) / 64).max(2);
        Contexts {
            a: [a0; 365],
            b: [0; 365],
            c: [0; 365],
            n: [1; 365],
            ri_a: [a0; 2],
            ri_n: [1; 2],
            ri_nn: [0; 2],
        }
    }

    #[inline]
    fn golomb_k(&self, q: usize) -> u32 {
        let (n, a) = (self.n[q], self.a[q]);
        let mut k = 0;
        while (n << k) < a && k < 24 {
            k += 1;
        }
        k
    }

    /// A.6.1–A.6.2: update after coding `err` (the quantised error) in context `q`.
    #[inline]
    fn update(&mut self, q: usize, err: i32, t: &Traits) {
        let mut a = self.a[q] + err.abs();
        let mut b = self.b[q] + err * (2 * t.near + 1);
        let mut n = self.n[q];
        if n == t.reset {
            a >>= 1;
            b >>= 1;
            n >>= 1;
        }
        n += 1;
        let c = &mut self.c[q];
        if b + n <= 0 {
            b += n;
            if b <= -n {
                b = -n + 1;
            }
            if *c > -128 {
                *c -= 1;
            }
        } else if b > 0 {
            b -= n;
            if b > 0 {
                b = 0;
            }
            if *c < 127 {
                *c += 1;
            }
        }
        self.a[q] = a;
        self.b[q] = b;
        self.n[q] = n;
    }

    #[inline]
    fn ri_k(&self, ri: usize) -> u32 {
        let temp = self.ri_a[ri] + (self.ri_n[ri] >> 1) * ri as i32;
        let mut nst = self.ri_n[ri];
        let mut k = 0;
        while nst < temp && k < 24 {
            nst <<= 1;
            k += 1;
        }
        k
    }

    /// A.7.2.2 update of a run-interruption context.
    #[inline]
    fn ri_update(&mut self, ri: usize, err: i32, em: i32, t: &Traits) {
        if err < 0 {
            self.ri_nn[ri] += 1;
        }
        self.ri_a[ri] += (em + 1 - ri as i32) >> 1;
        if self.ri_n[ri] == t.reset {
            self.ri_a[ri] >>= 1;
            self.ri_n[ri] >>= 1;
            self.ri_nn[ri] >>= 1;
        }
        self.ri_n[ri] += 1;
    }
}

/// Context index (1..=364) and sign from the three quantised gradients; 0 means run mode.
#[inline]
fn context(q1: i32, q2: i32, q3: i32) -> (usize, i32) {
    let q = (q1 * 9 + q2) * 9 + q3;
    if q < 0 {
        ((-q) as usize, -1)
    } else {
        (q as usize, 1)
    }
}

/// The line buffers of one component: previous and current line with one sample of
/// padding on each side (index 0 is x = −1, index w + 1 is x = w).
struct Lines {
    prev: Vec<i32>,
    cur: Vec<i32>,
    run_index: usize,
}

impl Lines {
    fn new(w: usize) -> Lines {
        Lines {
            prev: vec![0; w + 2],
            cur: vec![0; w + 2],
            run_index: 0,
        }
    }

    /// Edge rules before coding a line: Ra of x = 0 is Rb (the sample above), Rd of the
    /// last sample is its Rb; Rc of x = 0 stays the previous line's Ra.
    fn start_line(&mut self, w: usize) {
        self.prev[w + 1] = self.prev[w];
        self.cur[0] = self.prev[1];
    }

    fn end_line(&mut self) {
        std::mem::swap(&mut self.prev, &mut self.cur);
    }
}

struct Decoder<'a> {
    t: Traits,
    ctx: Contexts,
    bits: BitReader<'a>,
}

impl Decoder<'_> {
    /// Limited-length Golomb value (A.5.3).
    #[inline]
    fn golomb(&mut self, k: u32, limit: u32) -> Result<i32, JlsError> {
        let qbpp = self.t.qbpp;
        let escape = limit - qbpp - 1;
        let high = self.bits.read_unary(escape)?;
        if high == escape {
            return Ok(self.bits.read(qbpp)? as i32 + 1);
        }
        if k == 0 {
            return Ok(high as i32);
        }
        Ok(((high as i32) << k) + self.bits.read(k)? as i32)
    }

    /// One sample in regular mode (A.4–A.6): context `q` with `sign`, MED prediction `p`.
    #[inline]
    fn regular(&mut self, q: usize, sign: i32, p: i32) -> Result<i32, JlsError> {
        let t = self.t;
        let k = self.ctx.golomb_k(q);
        let px = t.clamp(p + sign * self.ctx.c[q]);
        let m = self.golomb(k, t.limit)?;
        // Inverse error mapping (A.5.2), with the k = 0 special case.
        let mut err = (m >> 1) ^ -(m & 1);
        if k == 0 && t.near == 0 && 2 * self.ctx.b[q] <= -self.ctx.n[q] {
            err = !err;
        }
        if err.abs() > 65535 {
            return Err(JlsError::Data("error value out of range".into()));
        }
        self.ctx.update(q, err, &t);
        Ok(t.reconstruct(px, sign * err))
    }

    /// Run length from `x` in a line of `w` (A.7.1): the samples to fill with Ra.
    fn run_length(&mut self, run_index: &mut usize, left: usize) -> Result<usize, JlsError> {
        let mut len = 0usize;
        while self.bits.read_bit()? {
            let full = 1usize << J[*run_index];
            let count = full.min(left - len);
            len += count;
            if count == full {
                *run_index = (*run_index + 1).min(31);
            }
            if len == left {
                break;
            }
        }
        if len != left {
            len += self.bits.read(J[*run_index])? as usize;
        }
        if len > left {
            return Err(JlsError::Data("run longer than the line".into()));
        }
        Ok(len)
    }

    /// Error of a run-interruption sample in context `ri` (A.7.2).
    fn ri_error(&mut self, ri: usize, run_index: usize) -> Result<i32, JlsError> {
        let t = self.t;
        let k = self.ctx.ri_k(ri);
        let em = self.golomb(k, t.limit - J[run_index] - 1)?;
        let temp = em + ri as i32;
        let map = temp & 1;
        let abs = (temp + map) / 2;
        let neg = (k != 0 || 2 * self.ctx.ri_nn[ri] >= self.ctx.ri_n[ri]) == (map == 1);
        let err = if neg { -abs } else { abs };
        if err.abs() > 65535 {
            return Err(JlsError::Data("error value out of range".into()));
        }
        self.ctx.ri_update(ri, err, em, &t);
        Ok(err)
    }

    /// A line of a sample-interleaved scan (`nc` components per pixel, shared contexts,
    /// one RUNindex): regular mode per component unless all are flat, then a run of whole
    /// pixels; the interruption pixel codes each component in RItype 0 context, signed by
    /// Rb − Ra (+ when equal), as CharLS does.
    fn line_interleaved(&mut self, l: &mut Lines, w: usize, nc: usize) -> Result<(), JlsError> {
        for c in 0..nc {
            l.prev[(w + 1) * nc + c] = l.prev[w * nc + c];
            l.cur[c] = l.prev[nc + c];
        }
        let t = self.t;
        let mut x = 1usize;
        let mut qs = [(0usize, 1i32); 4];
        while x <= w {
            let mut flat = true;
            for (c, q) in qs.iter_mut().enumerate().take(nc) {
                let ra = l.cur[(x - 1) * nc + c];
                let rb = l.prev[x * nc + c];
                let rc = l.prev[(x - 1) * nc + c];
                let rd = l.prev[(x + 1) * nc + c];
                *q = context(
                    t.quantize_gradient(rd - rb),
                    t.quantize_gradient(rb - rc),
                    t.quantize_gradient(rc - ra),
                );
                flat &= q.0 == 0;
            }
            if !flat {
                for (c, &(q, sign)) in qs.iter().enumerate().take(nc) {
                    let ra = l.cur[(x - 1) * nc + c];
                    let rb = l.prev[x * nc + c];
                    let rc = l.prev[(x - 1) * nc + c];
                    l.cur[x * nc + c] = self.regular(q, sign, med(ra, rb, rc))?;
                }
                x += 1;
                continue;
            }
            let left = w + 1 - x;
            let mut ri_index = l.run_index;
            let len = self.run_length(&mut ri_index, left)?;
            l.run_index = ri_index;
            for p in x..x + len {
                for c in 0..nc {
                    l.cur[p * nc + c] = l.cur[(x - 1) * nc + c];
                }
            }
            let end = x + len;
            if len < left {
                for c in 0..nc {
                    let ra = l.cur[(x - 1) * nc + c];
                    let rb = l.prev[end * nc + c];
                    let err = self.ri_error(0, l.run_index)?;
                    let sign = if rb >= ra { 1 } else { -1 };
                    l.cur[end * nc + c] = t.reconstruct(rb, err * sign);
                }
                l.run_index = l.run_index.saturating_sub(1);
                x = end + 1;
            } else {
                x = end;
            }
        }
        l.end_line();
        Ok(())
    }

    fn line(&mut self, l: &mut Lines, w: usize) -> Result<(), JlsError> {
        l.start_line(w);
        let t = self.t;
        let mut x = 1usize;
        while x <= w {
            let (q, sign, p) = t.neighbourhood(l, x);
            if q != 0 {
                l.cur[x] = self.regular(q, sign, p)?;
                x += 1;
            } else {
                x = self.run(l, x, w)?;
            }
        }
        l.end_line();
        Ok(())
    }

    /// Run mode from sample `x` (1-based in the padded line); returns the next x.
    fn run(&mut self, l: &mut Lines, x: usize, w: usize) -> Result<usize, JlsError> {
        let ra = l.cur[x - 1];
        let left = w + 1 - x;
        let len = self.run_length(&mut l.run_index, left)?;
        l.cur[x..x + len].fill(ra);
        let end = x + len;
        if len == left {
            return Ok(end);
        }
        // Run interruption sample (A.7.2).
        let t = self.t;
        let rb = l.prev[end];
        let ri = ((ra - rb).abs() <= t.near) as usize;
        let err = self.ri_error(ri, l.run_index)?;
        l.cur[end] = if ri == 1 {
            t.reconstruct(ra, err)
        } else {
            t.reconstruct(rb, err * (rb - ra).signum())
        };
        l.run_index = l.run_index.saturating_sub(1);
        Ok(end + 1)
    }
}

pub(crate) fn decode(data: &[u8], limits: Limits) -> Result<Image, JlsError> {
    let stream = parse(data)?;
    let f: FrameInfo = stream.frame;
    if let Some((w, h, c)) = limits.expect {
        if (f.width, f.height, f.components) != (w, h, c) {
            return Err(JlsError::Limits(format!(
                "is {}×{} with {} component(s); the DICOM header says {w}×{h} with {c}",
                f.width, f.height, f.components
            )));
        }
    }
    let nc = f.components as usize;
    let total = f.width as u64 * f.height as u64 * nc as u64;
    if total > limits.max_samples {
        return Err(JlsError::Limits(format!(
            "of {total} samples exceeds the limit of {}",
            limits.max_samples
        )));
    }
    let (w, h) = (f.width as usize, f.height as usize);
    let mut out = vec![0u16; total as usize];
    for scan in &stream.scans {
        let t = Traits::new(scan.preset, scan.near);
        let mut dec = Decoder {
            t,
            ctx: Contexts::new(&t),
            bits: BitReader::new(&data[scan.data.0..scan.data.1]),
        };
        if scan.ilv == 2 && scan.components.len() > 1 {
            let ns = scan.components.len();
            let mut l = Lines::new((w + 2) * ns - 2);
            for y in 0..h {
                dec.line_interleaved(&mut l, w, ns)?;
                let row = &mut out[y * w * nc..(y + 1) * w * nc];
                for x in 0..w {
                    for (ci, &comp) in scan.components.iter().enumerate() {
                        row[x * nc + comp] = l.prev[(x + 1) * ns + ci] as u16;
                    }
                }
            }
            continue;
        }
        let mut lines: Vec<Lines> = scan.components.iter().map(|_| Lines::new(w)).collect();
        for y in 0..h {
            // Interleave none: one component per scan; line: each component's line in turn.
            for (li, &comp) in scan.components.iter().enumerate() {
                let l = &mut lines[li];
                dec.line(l, w)?;
                // After end_line, `prev` holds the line just decoded.
                let row = &mut out[y * w * nc..(y + 1) * w * nc];
                for (x, v) in l.prev[1..=w].iter().enumerate() {
                    row[x * nc + comp] = *v as u16;
                }
            }
        }
    }
    Ok(Image {
        info: f,
        near: stream.scans.first().map(|s| s.near as u8).unwrap_or(0),
        samples: out,
    })
}

struct Encoder {
    t: Traits,
    ctx: Contexts,
    bits: BitWriter,
}

impl Encoder {
    fn golomb(&mut self, k: u32, m: i32, limit: u32) {
        let qbpp = self.t.qbpp;
        let high = (m >> k) as u32;
        if high < limit - qbpp - 1 {
            self.bits.write_unary(high);
            self.bits.write(m as u32, k);
        } else {
            self.bits.write_unary(limit - qbpp - 1);
            self.bits.write((m - 1) as u32, qbpp);
        }
    }

    fn line(&mut self, l: &mut Lines, src: &[u16], w: usize) {
        l.start_line(w);
        let t = self.t;
        let mut x = 1usize;
        while x <= w {
            let (q, sign, p) = t.neighbourhood(l, x);
            let v = src[x - 1] as i32;
            if q != 0 {
                let k = self.ctx.golomb_k(q);
                let px = t.clamp(p + sign * self.ctx.c[q]);
                let err = t.error_value(sign * (v - px));
                let mut e = err;
                if k == 0 && t.near == 0 && 2 * self.ctx.b[q] <= -self.ctx.n[q] {
                    e = !e;
                }
                let m = if e >= 0 { 2 * e } else { -2 * e - 1 };
                self.golomb(k, m, t.limit);
                self.ctx.update(q, err, &t);
                l.cur[x] = t.reconstruct(px, sign * err);
                x += 1;
            } else {
                x = self.run(l, src, x, w);
            }
        }
        l.end_line();
    }

    fn run(&mut self, l: &mut Lines, src: &[u16], x: usize, w: usize) -> usize {
        let t = self.t;
        let ra = l.cur[x - 1];
        let left = w + 1 - x;
        let mut len = 0usize;
        while len < left && (src[x - 1 + len] as i32 - ra).abs() <= t.near {
            l.cur[x + len] = ra;
            len += 1;
        }
        let eol = len == left;
        let mut rest = len;
        while rest >= (1usize << J[l.run_index]) {
            self.bits.write(1, 1);
            rest -= 1 << J[l.run_index];
            l.run_index = (l.run_index + 1).min(31);
        }
        if eol {
            if rest != 0 {
                self.bits.write(1, 1);
            }
            return x + len;
        }
        self.bits.write(0, 1);
        self.bits.write(rest as u32, J[l.run_index]);
        let end = x + len;
        let v = src[end - 1] as i32;
        let rb = l.prev[end];
        let ri = ((ra - rb).abs() <= t.near) as usize;
        let err = if ri == 1 {
            t.error_value(v - ra)
        } else {
            t.error_value((v - rb) * (rb - ra).signum())
        };
        let k = self.ctx.ri_k(ri);
        let (n, nn) = (self.ctx.ri_n[ri], self.ctx.ri_nn[ri]);
        let map = (k == 0 && err > 0 && 2 * nn < n) || (err < 0 && 2 * nn >= n) || (err < 0 && k != 0);
        let em = 2 * err.abs() - ri as i32 - map as i32;
        self.golomb(k, em, t.limit - J[l.run_index] - 1);
        self.ctx.ri_update(ri, err, em, &t);
        l.cur[end] = if ri == 1 {
            t.reconstruct(ra, err)
        } else {
            t.reconstruct(rb, err * (rb - ra).signum())
        };
        l.run_index = l.run_index.saturating_sub(1);
        end + 1
    }
}

pub(crate) fn encode(
    samples: &[u16],
    width: u32,
    height: u32,
    precision: u8,
    near: u8,
) -> Result<Vec<u8>, JlsError> {
    if !(2..=16).contains(&precision) {
        return Err(JlsError::Encode(format!("precision {precision} (2–16 allowed)")));
    }
    if width == 0 || height == 0 || width > 65535 || height > 65535 {
        return Err(JlsError::Encode(format!("size {width}×{height} (1–65535 each)")));
    }
    let (w, h) = (width as usize, height as usize);
    if samples.len() != w * h {
        return Err(JlsError::Encode(format!(
            "{} samples for {width}×{height}",
            samples.len()
        )));
    }
    let maxval = (1i32 << precision) - 1;
    if let Some(v) = samples.iter().find(|&&v| v as i32 > maxval) {
        return Err(JlsError::Encode(format!(
            "sample {v} above {maxval} ({precision} bits)"
        )));
    }
    let near = near as i32;
    if near > (maxval / 2).min(255) {
        return Err(JlsError::Encode(format!(
            "NEAR {near} too large for {precision} bits"
        )));
    }
    let mut out = Vec::with_capacity(samples.len() + 64);
    out.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xF7, 0, 11, precision]);
    out.extend_from_slice(&(height as u16).to_be_bytes());
    out.extend_from_slice(&(width as u16).to_be_bytes());
    out.extend_from_slice(&[1, 1, 0x11, 0]);
    out.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, near as u8, 0, 0]);
    let t = Traits::new(default_preset(maxval, near), near);
    let mut enc = Encoder {
        t,
        ctx: Contexts::new(&t),
        bits: BitWriter::new(out),
    };
    let mut l = Lines::new(w);
    for y in 0..h {
        enc.line(&mut l, &samples[y * w..(y + 1) * w], w);
    }
    let mut out = enc.bits.finish();
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: usize, h: usize, bits: u32, seed: u64) -> Vec<u16> {
        let max = (1u32 << bits) - 1;
        let mut s = seed;
        (0..w * h)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let (x, y) = ((i % w) as f64, (i / w) as f64);
                // Smooth areas (run mode), edges and noise (regular mode, escapes).
                let base = if (x as usize / 7 + y as usize / 5).is_multiple_of(3) {
                    0.3
                } else {
                    0.5 + 0.4 * (x * 0.2).sin() * (y * 0.13).cos()
                };
                let noise = if i % 11 == 0 {
                    (s >> 40) as f64 / (1u64 << 24) as f64 - 0.5
                } else {
                    0.0
                };
                (((base + noise * 0.6).clamp(0.0, 1.0)) * max as f64) as u16
            })
            .collect()
    }

    #[test]
    fn lossless_round_trip_all_precisions() {
        for bits in [2u8, 5, 8, 10, 12, 15, 16] {
            for (w, h) in [(1, 1), (1, 9), (9, 1), (33, 17), (64, 64)] {
                let src = image(w, h, bits as u32, bits as u64 * 31 + w as u64);
                let jls = encode(&src, w as u32, h as u32, bits, 0).unwrap();
                let img = decode(&jls, Limits::exact(w as u32, h as u32, 1)).unwrap();
                assert_eq!(img.samples, src, "{bits} bits {w}×{h}");
            }
        }
    }

    #[test]
    fn near_lossless_round_trip_is_within_near() {
        for (bits, near) in [(8u8, 1u8), (8, 3), (12, 2), (16, 7)] {
            let src = image(40, 30, bits as u32, 5);
            let jls = encode(&src, 40, 30, bits, near).unwrap();
            let img = decode(&jls, Limits::exact(40, 30, 1)).unwrap();
            assert_eq!(img.near, near);
            let worst = src
                .iter()
                .zip(&img.samples)
                .map(|(a, b)| (*a as i32 - *b as i32).abs())
                .max()
                .unwrap();
            assert!(worst <= near as i32, "{bits} bits NEAR {near}: error {worst}");
        }
    }

    #[test]
    fn hostile_streams_are_refused() {
        let src = image(16, 16, 12, 1);
        let good = encode(&src, 16, 16, 12, 0).unwrap();
        // Wrong size for the caller.
        assert!(matches!(
            decode(&good, Limits::exact(16, 17, 1)),
            Err(JlsError::Limits(_))
        ));
        // A huge frame is refused before allocating.
        let mut big = good.clone();
        big[7..11].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        let lim = Limits {
            expect: None,
            max_samples: 1 << 20,
        };
        assert!(matches!(decode(&big, lim), Err(JlsError::Limits(_))));
        // Precision 17, NEAR too large, ILV 3, no SOI.
        let mut bad = good.clone();
        bad[6] = 17;
        assert!(matches!(decode(&bad, lim), Err(JlsError::Header(_))));
        let sos = good.windows(2).position(|p| p == [0xFF, 0xDA]).unwrap();
        // NEAR above MAXVAL/2 (8-bit stream: 127 at most).
        let mut bad = encode(&image(8, 8, 8, 2), 8, 8, 8, 0).unwrap();
        let sos8 = bad.windows(2).position(|p| p == [0xFF, 0xDA]).unwrap();
        bad[sos8 + 7] = 200;
        assert!(matches!(decode(&bad, lim), Err(JlsError::Header(_))));
        let mut bad = good.clone();
        bad[sos + 8] = 3;
        assert!(matches!(decode(&bad, lim), Err(JlsError::Header(_))));
        assert!(matches!(decode(&good[2..], lim), Err(JlsError::NotJpegLs(_))));
        // Every truncation and many byte changes: an error or an image, never a panic.
        for cut in 0..good.len() {
            let _ = decode(&good[..cut], lim);
        }
        for i in 0..good.len() {
            for v in [0x00, 0x7F, 0x80, 0xFF] {
                let mut m = good.clone();
                m[i] = v;
                let _ = decode(&m, lim);
            }
        }
        // Scan data cut short is a data error, not zeros.
        let cut = [&good[..good.len() - 40], &[0xFF, 0xD9][..]].concat();
        assert!(matches!(decode(&cut, lim), Err(JlsError::Data(_))));
    }
}
