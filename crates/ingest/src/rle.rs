//! DICOM RLE Lossless (1.2.840.10008.1.2.5, PS3.5 Annex G) for monochrome frames of 8,
//! 16 or 32 bits. dicom-pixeldata 0.10 refuses 32-bit RLE ("BitsAllocated other than 8
//! or 16"), which RT Dose grids use; this decoder handles every width the same way and
//! writes native-endian samples for [`crate::pixels::convert_samples`].
//!
//! A frame is a 64-byte header (segment count, then 15 segment offsets) followed by one
//! PackBits-compressed segment per byte plane, most significant byte first. Every count
//! and offset is checked against the fragment: a damaged frame is an error, never a panic
//! or an allocation beyond the frame size.

/// Decode one RLE frame of `rows × cols` single-sample pixels of `bits_allocated` (8, 16
/// or 32) into native-endian sample bytes.
pub fn decode_frame(data: &[u8], rows: u32, cols: u32, bits_allocated: u16) -> Result<Vec<u8>, String> {
    let bps = match bits_allocated {
        8 => 1,
        16 => 2,
        32 => 4,
        b => {
            return Err(format!(
                "RLE with BitsAllocated {b} is not supported (8, 16 or 32)"
            ))
        }
    };
    let n = rows as usize * cols as usize;
    if data.len() < 64 {
        return Err(format!("RLE frame of {} bytes has no 64-byte header", data.len()));
    }
    let word = |i: usize| {
        u32::from_le_bytes([data[4 * i], data[4 * i + 1], data[4 * i + 2], data[4 * i + 3]]) as usize
    };
    let segments = word(0);
    if segments != bps {
        return Err(format!(
            "RLE frame has {segments} segments; {bps} expected for one {bits_allocated}-bit sample per pixel"
        ));
    }
    let mut out = vec![0u8; n * bps];
    for seg in 0..segments {
        let start = word(1 + seg);
        let end = if seg + 1 < segments {
            word(2 + seg)
        } else {
            data.len()
        };
        if start < 64 || start > end || end > data.len() {
            return Err(format!(
                "RLE segment {seg} spans bytes {start}..{end} of a {}-byte frame",
                data.len()
            ));
        }
        // Segment 0 is the most significant byte of each sample.
        let significance = bps - 1 - seg;
        let byte = if cfg!(target_endian = "little") {
            significance
        } else {
            seg
        };
        let got = unpack_bits(&data[start..end], &mut out[byte..], bps, n);
        if got < n {
            return Err(format!("RLE segment {seg} decodes to {got} bytes; {n} expected"));
        }
    }
    Ok(out)
}

/// PackBits into every `stride`-th byte of `out`, at most `n` bytes; returns how many were
/// written. Runs past `n` are cut (encoders pad segments to an even length).
fn unpack_bits(src: &[u8], out: &mut [u8], stride: usize, n: usize) -> usize {
    let mut put = 0usize;
    let mut i = 0usize;
    while i < src.len() && put < n {
        let h = src[i] as i8;
        i += 1;
        if h >= 0 {
            // Literal run of h + 1 bytes.
            let len = (h as usize + 1).min(src.len() - i).min(n - put);
            for &b in &src[i..i + len] {
                out[put * stride] = b;
                put += 1;
            }
            i += h as usize + 1;
        } else if h != -128 {
            // One byte repeated 1 - h times.
            let Some(&b) = src.get(i) else { break };
            i += 1;
            let len = (1 - h as isize) as usize;
            for _ in 0..len.min(n - put) {
                out[put * stride] = b;
                put += 1;
            }
        }
    }
    put
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PackBits encoder (literal runs only or repeats), for round trips.
    fn pack(plane: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < plane.len() {
            let mut r = 1;
            while i + r < plane.len() && plane[i + r] == plane[i] && r < 128 {
                r += 1;
            }
            if r >= 3 {
                out.push((1i16 - r as i16) as i8 as u8);
                out.push(plane[i]);
                i += r;
            } else {
                let len = (plane.len() - i).min(128);
                out.push((len - 1) as u8);
                out.extend_from_slice(&plane[i..i + len]);
                i += len;
            }
        }
        out
    }

    fn encode(samples: &[u32], bps: usize) -> Vec<u8> {
        let mut header = vec![0u8; 64];
        header[..4].copy_from_slice(&(bps as u32).to_le_bytes());
        let mut body = Vec::new();
        for seg in 0..bps {
            let off = 64 + body.len();
            header[4 + 4 * seg..8 + 4 * seg].copy_from_slice(&(off as u32).to_le_bytes());
            let shift = 8 * (bps - 1 - seg);
            let plane: Vec<u8> = samples.iter().map(|&v| (v >> shift) as u8).collect();
            body.extend(pack(&plane));
            if body.len() % 2 == 1 {
                body.push(0);
            }
        }
        header.extend(body);
        header
    }

    #[test]
    fn round_trip_8_16_32_bits() {
        let samples: Vec<u32> = (0..300u32)
            .map(|i| if i % 50 < 20 { 7 } else { i * 2_654_435 })
            .collect();
        for (bits, bps, mask) in [(8u16, 1usize, 0xFFu32), (16, 2, 0xFFFF), (32, 4, u32::MAX)] {
            let s: Vec<u32> = samples.iter().map(|v| v & mask).collect();
            let rle = encode(&s, bps);
            let out = decode_frame(&rle, 15, 20, bits).unwrap();
            let back: Vec<u32> = out
                .chunks_exact(bps)
                .map(|c| {
                    let mut b = [0u8; 4];
                    b[..bps].copy_from_slice(c);
                    if cfg!(target_endian = "little") {
                        u32::from_le_bytes(b)
                    } else {
                        u32::from_be_bytes(b) >> (8 * (4 - bps))
                    }
                })
                .collect();
            assert_eq!(back, s, "{bits} bits");
        }
    }

    #[test]
    fn damaged_frames_are_errors() {
        let s: Vec<u32> = (0..100).collect();
        let good = encode(&s, 2);
        assert!(decode_frame(&good, 10, 10, 16).is_ok());
        assert!(decode_frame(&good[..40], 10, 10, 16).is_err(), "short header");
        assert!(decode_frame(&good, 10, 10, 32).is_err(), "segment count");
        assert!(decode_frame(&good, 20, 10, 16).is_err(), "too few bytes");
        let mut bad = good.clone();
        bad[4..8].copy_from_slice(&9999u32.to_le_bytes());
        assert!(decode_frame(&bad, 10, 10, 16).is_err(), "offset past the end");
        let mut bad = good.clone();
        bad[8..12].copy_from_slice(&10u32.to_le_bytes());
        assert!(
            decode_frame(&bad, 10, 10, 16).is_err(),
            "offset inside the header"
        );
        // Truncated mid-run: an error, not a panic.
        for cut in 64..good.len() {
            let _ = decode_frame(&good[..cut], 10, 10, 16);
        }
        assert!(decode_frame(&good, 10, 10, 12).is_err());
    }
}
