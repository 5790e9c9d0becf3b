//! Bit input and output with JPEG-LS bit stuffing (T.87 A.1): after a 0xFF byte the
//! next byte carries only 7 bits (its top bit is a stuffed 0), so no marker can appear
//! inside the coded data; 0xFF followed by a byte ≥ 0x80 is a marker and ends the data.

use crate::JlsError;

pub struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// Valid bits at the top of `cache`.
    cache: u64,
    bits: u32,
    /// The last byte loaded was 0xFF: the next one carries 7 bits.
    after_ff: bool,
    /// A marker (or the end of the data) was reached; nothing more to load.
    done: bool,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            pos: 0,
            cache: 0,
            bits: 0,
            after_ff: false,
            done: false,
        }
    }

    fn fill(&mut self) {
        while self.bits <= 56 && !self.done {
            let Some(&b) = self.data.get(self.pos) else {
                self.done = true;
                break;
            };
            if self.after_ff {
                if b >= 0x80 {
                    // FF + byte ≥ 0x80: the FF already loaded was a marker's first byte,
                    // which cannot happen in valid data (an FF data byte is always
                    // followed by a stuffed byte); stop here.
                    self.done = true;
                    break;
                }
                self.cache |= ((b & 0x7F) as u64) << (64 - 7 - self.bits);
                self.bits += 7;
                self.after_ff = false;
                self.pos += 1;
                continue;
            }
            if b == 0xFF && self.data.get(self.pos + 1).is_none_or(|&n| n >= 0x80) {
                // A marker: the coded data ends before it.
                self.done = true;
                break;
            }
            self.cache |= (b as u64) << (64 - 8 - self.bits);
            self.bits += 8;
            self.after_ff = b == 0xFF;
            self.pos += 1;
        }
    }

    #[inline]
    fn need(&mut self, n: u32) -> Result<(), JlsError> {
        if self.bits < n {
            self.fill();
            if self.bits < n {
                return Err(JlsError::Data(format!(
                    "coded data ends early (byte {} of {})",
                    self.pos,
                    self.data.len()
                )));
            }
        }
        Ok(())
    }

    /// `n` bits (0 ≤ n ≤ 32) as an unsigned value.
    #[inline]
    pub fn read(&mut self, n: u32) -> Result<u32, JlsError> {
        if n == 0 {
            return Ok(0);
        }
        self.need(n)?;
        let v = (self.cache >> (64 - n)) as u32;
        self.cache <<= n;
        self.bits -= n;
        Ok(v)
    }

    #[inline]
    pub fn read_bit(&mut self) -> Result<bool, JlsError> {
        Ok(self.read(1)? == 1)
    }

    /// Zeros before the next 1 (which is consumed); at most `max` zeros.
    #[inline]
    pub fn read_unary(&mut self, max: u32) -> Result<u32, JlsError> {
        let mut count = 0u32;
        loop {
            if self.bits == 0 {
                self.need(1)?;
            }
            let z = (self.cache.leading_zeros()).min(self.bits);
            if z < self.bits {
                count += z;
                if count > max {
                    break;
                }
                self.cache <<= z + 1;
                self.bits -= z + 1;
                return Ok(count);
            }
            count += z;
            if count > max {
                break;
            }
            self.cache = 0;
            self.bits = 0;
        }
        Err(JlsError::Data(format!(
            "Golomb code with more than {max} leading zeros"
        )))
    }
}

pub struct BitWriter {
    pub out: Vec<u8>,
    /// Bits waiting, at the top of `acc`.
    acc: u32,
    nacc: u32,
    /// The last byte written was 0xFF.
    after_ff: bool,
}

impl BitWriter {
    pub fn new(out: Vec<u8>) -> Self {
        BitWriter {
            out,
            acc: 0,
            nacc: 0,
            after_ff: false,
        }
    }

    /// The low `n` bits of `v` (n ≤ 24).
    #[inline]
    pub fn write(&mut self, v: u32, n: u32) {
        debug_assert!(n <= 24);
        if n == 0 {
            return;
        }
        let v = v & ((1u32 << n) - 1);
        self.acc |= v << (32 - n - self.nacc);
        self.nacc += n;
        self.drain();
    }

    #[inline]
    fn drain(&mut self) {
        loop {
            let width = if self.after_ff { 7 } else { 8 };
            if self.nacc < width {
                break;
            }
            let b = (self.acc >> (32 - width)) as u8;
            self.acc <<= width;
            self.nacc -= width;
            self.out.push(b);
            self.after_ff = b == 0xFF;
        }
    }

    /// `n` zero bits then a 1.
    pub fn write_unary(&mut self, mut n: u32) {
        while n > 16 {
            self.write(0, 16);
            n -= 16;
        }
        self.write(1, n + 1);
    }

    /// Pad the last byte with zeros; a final 0xFF gets its stuffed byte so the marker
    /// that follows cannot be misread.
    pub fn finish(mut self) -> Vec<u8> {
        if self.nacc > 0 {
            let width = if self.after_ff { 7 } else { 8 };
            let pad = width - self.nacc;
            self.write(0, pad);
        }
        if self.after_ff {
            self.out.push(0);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffing_round_trip() {
        let mut w = BitWriter::new(Vec::new());
        // Many ones: forces 0xFF bytes and stuffing.
        let values: Vec<(u32, u32)> = (0..500u32).map(|i| ((i * 7919) | 0xF0F, 1 + i % 24)).collect();
        for &(v, n) in &values {
            w.write(v, n);
        }
        w.write_unary(40);
        let bytes = w.finish();
        for pair in bytes.windows(2) {
            if pair[0] == 0xFF {
                assert!(pair[1] < 0x80, "marker-like pair in coded data");
            }
        }
        let mut r = BitReader::new(&bytes);
        for &(v, n) in &values {
            assert_eq!(r.read(n).unwrap(), v & ((1 << n) - 1));
        }
        assert_eq!(r.read_unary(64).unwrap(), 40);
        assert!(r.read_unary(3).is_err() || r.read(32).is_err());
    }

    #[test]
    fn marker_ends_data() {
        let data = [0x12, 0xFF, 0xD9];
        let mut r = BitReader::new(&data);
        assert_eq!(r.read(8).unwrap(), 0x12);
        assert!(r.read(1).is_err());
    }
}
