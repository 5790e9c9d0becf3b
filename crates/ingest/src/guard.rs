//! Structure guard: a cheap walk over a file's element headers before dicom-rs parses it.
//!
//! dicom-parser 0.10 reserves and zero-fills an element's *declared* length before reading
//! its bytes, so a 2 KB file that declares a 4 GB element costs 4 GB of memory, and a
//! deflated data set that inflates without bound, or sequences nested 100 000 deep, abort
//! the process. This walk reads only element headers (values are skipped with a seek),
//! and refuses, with a reason naming the element:
//! - any defined length larger than the bytes left in the file (or in the enclosing item);
//! - sequence/item nesting deeper than [`MAX_DEPTH`];
//! - a deflated data set that inflates beyond the file-size limit.
//!
//! Found by the fuzz targets in `fuzz/` (see `docs/reliability.md`).

use flate2::read::DeflateDecoder;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::Path;

/// Deepest sequence nesting accepted. Real data rarely exceeds 6 (enhanced multi-frame
/// functional groups); 64 leaves room and keeps the recursive parser's stack small.
pub const MAX_DEPTH: usize = 64;

/// Most elements walked in one file: a bound on time for pathological files.
const MAX_ELEMENTS: u64 = 5_000_000;

const UNDEFINED: u32 = 0xFFFF_FFFF;

/// Why the walk stopped: a hazard refuses the file; anything merely odd is left to the
/// parser, which gives its own reason (a walk must never refuse a file dicom-rs reads).
enum Stop {
    Hazard(String),
    Unsure,
}

type Walk = Result<(), Stop>;

fn hazard<T>(msg: String) -> Result<T, Stop> {
    Err(Stop::Hazard(msg))
}
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_DELIM: (u16, u16) = (0xFFFE, 0xE00D);
const SEQ_DELIM: (u16, u16) = (0xFFFE, 0xE0DD);

#[derive(Clone, Copy, PartialEq)]
enum Syntax {
    ExplicitLe,
    ImplicitLe,
    ExplicitBe,
}

struct Walker<R: Read + Seek> {
    r: R,
    pos: u64,
    end: u64,
    syntax: Syntax,
    elements: u64,
    /// A top-level native PixelData element was passed whole.
    pixels_done: bool,
    /// What follows that element is not a valid element (its hazard, as a note).
    junk_after_pixels: bool,
}

/// Tag (group, element), VR (explicit syntaxes only) and value length of one element.
type ElementHeader = ((u16, u16), Option<[u8; 2]>, u32);

impl<R: Read + Seek> Walker<R> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], Stop> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(|_| Stop::Unsure)?;
        self.pos += N as u64;
        Ok(b)
    }

    fn u16(&mut self, big: bool) -> Result<u16, Stop> {
        let b = self.bytes::<2>()?;
        Ok(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&mut self, big: bool) -> Result<u32, Stop> {
        let b = self.bytes::<4>()?;
        Ok(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn skip(&mut self, n: u64) -> Walk {
        // `seek_relative` keeps BufReader's buffer when the target is inside it; a plain
        // `seek` discards it, which cost one 16 KB read per element (~1 GB of copying for
        // the 257-file mrbias series).
        let n = i64::try_from(n).map_err(|_| Stop::Unsure)?;
        self.r.seek_relative(n).map_err(|_| Stop::Unsure)?;
        self.pos += n as u64;
        Ok(())
    }

    /// Move to absolute position `to` (relative to the tracked position, buffer kept).
    fn go_to(&mut self, to: u64) -> Walk {
        let d = to as i64 - self.pos as i64;
        self.r.seek_relative(d).map_err(|_| Stop::Unsure)?;
        self.pos = to;
        Ok(())
    }

    /// Tag, VR (explicit syntaxes) and length of the next element.
    fn header(&mut self, syntax: Syntax) -> Result<ElementHeader, Stop> {
        self.count()?;
        let big = syntax == Syntax::ExplicitBe;
        let group = self.u16(big)?;
        let elem = self.u16(big)?;
        let tag = (group, elem);
        // Item and delimiter tags never carry a VR, in any syntax.
        if group == 0xFFFE || syntax == Syntax::ImplicitLe {
            let len = self.u32(big)?;
            return Ok((tag, None, len));
        }
        let vr = self.bytes::<2>()?;
        // Short-form (2-byte length) VRs; anything else, unknown VRs included, is read
        // with the 4-byte form, as dicom-parser reads an unknown VR as UN.
        let long = !matches!(
            &vr,
            b"AE"
                | b"AS"
                | b"AT"
                | b"CS"
                | b"DA"
                | b"DS"
                | b"DT"
                | b"FL"
                | b"FD"
                | b"IS"
                | b"LO"
                | b"LT"
                | b"PN"
                | b"SH"
                | b"SL"
                | b"SS"
                | b"ST"
                | b"TM"
                | b"UI"
                | b"UL"
                | b"US"
        );
        let len = if long {
            self.skip(2)?;
            self.u32(big)?
        } else {
            self.u16(big)? as u32
        };
        Ok((tag, Some(vr), len))
    }

    fn count(&mut self) -> Walk {
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return hazard(format!("more than {MAX_ELEMENTS} data elements"));
        }
        Ok(())
    }

    fn check_len(&self, tag: (u16, u16), len: u32, limit: u64) -> Walk {
        let left = limit.saturating_sub(self.pos);
        if len as u64 > left {
            return hazard(format!(
                "truncated or corrupt: element ({:04X},{:04X}) declares {len} bytes but only {left} remain",
                tag.0, tag.1
            ));
        }
        Ok(())
    }

    /// Walk elements until `limit` (a byte position) or, with `until_delim`, an item
    /// delimiter.
    fn data_set(&mut self, limit: u64, depth: usize, until_delim: bool) -> Walk {
        while self.pos < limit {
            if self.pos + 8 > self.end {
                // Trailing padding shorter than an element header: dicom-rs stops there too.
                return if until_delim { Err(Stop::Unsure) } else { Ok(()) };
            }
            let top = depth == 0 && !until_delim;
            if top && self.pixels_done {
                // After complete native pixel data, bytes that do not walk as elements are
                // a stray tail (read past by dcm2niix, DCMTK, pydicom): noted, not refused;
                // the pixel reader then never lets the parser near them.
                let save = self.pos;
                match self.data_set_after_pixels(limit) {
                    Err(Stop::Hazard(_)) => {
                        self.junk_after_pixels = true;
                        self.pos = save;
                        return Ok(());
                    }
                    other => return other,
                }
            }
            let (tag, vr, len) = self.header(self.syntax)?;
            if tag == ITEM_DELIM {
                return if until_delim { Ok(()) } else { Err(Stop::Unsure) };
            }
            if tag == SEQ_DELIM || tag == ITEM {
                return Err(Stop::Unsure);
            }
            let is_sq = vr.map(|v| &v == b"SQ").unwrap_or(false);
            if len == UNDEFINED {
                // Undefined length: a sequence (SQ, or UN/implicit read as one) or
                // encapsulated pixel data; both are item lists up to a sequence delimiter.
                let fragments = tag == (0x7FE0, 0x0010) || tag == (0x7FE0, 0x0008) || tag == (0x7FE0, 0x0009);
                // dicom-parser reads an undefined-length UN's items in the current syntax,
                // so the walk does too: it must see the lengths the parser will allocate.
                self.items(limit, depth + 1, fragments)?;
            } else {
                self.check_len(tag, len, limit)?;
                if is_sq {
                    let end = self.pos + len as u64;
                    self.items(end, depth + 1, false)?;
                    if self.pos != end {
                        self.go_to(end)?;
                    }
                } else {
                    self.skip(len as u64)?;
                    if depth == 0 && !until_delim && tag == (0x7FE0, 0x0010) {
                        self.pixels_done = true;
                    }
                }
            }
        }
        Ok(())
    }

    /// The top-level elements after the pixel data, walked as usual.
    fn data_set_after_pixels(&mut self, limit: u64) -> Walk {
        self.pixels_done = false;
        let r = self.data_set(limit, 0, false);
        self.pixels_done = true;
        r
    }

    /// Items of a sequence (or fragments) until `limit` or a sequence delimiter.
    fn items(&mut self, limit: u64, depth: usize, fragments: bool) -> Walk {
        if depth > MAX_DEPTH {
            return hazard(format!("sequences nested deeper than {MAX_DEPTH}"));
        }
        while self.pos < limit {
            let big = self.syntax == Syntax::ExplicitBe;
            self.count()?;
            let tag = (self.u16(big)?, self.u16(big)?);
            let len = self.u32(big)?;
            if tag == SEQ_DELIM {
                return Ok(());
            }
            if tag != ITEM {
                return Err(Stop::Unsure);
            }
            if fragments {
                if len == UNDEFINED {
                    return Err(Stop::Unsure);
                }
                self.check_len(tag, len, limit)?;
                self.skip(len as u64)?;
            } else if len == UNDEFINED {
                self.data_set(limit, depth, true)?;
            } else {
                self.check_len(tag, len, limit)?;
                let end = self.pos + len as u64;
                self.data_set(end, depth, false)?;
            }
        }
        Ok(())
    }
}

/// What the walk found that the readers must know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Findings {
    /// Native pixel data complete, followed by bytes that are not DICOM elements: the
    /// pixels must be read without parsing the whole file.
    pub junk_after_pixels: bool,
}

/// Walk a file's structure; `Err` carries the reason to skip it. `max_inflated` bounds a
/// deflated data set once inflated.
pub fn check_file(path: &Path, max_inflated: u64) -> Result<Findings, String> {
    let mut found = Findings::default();
    match walk_file(path, max_inflated, &mut found) {
        Err(Stop::Hazard(why)) => Err(why),
        _ => Ok(found),
    }
}

fn walk_file(path: &Path, max_inflated: u64, found: &mut Findings) -> Walk {
    let file = File::open(path).map_err(|_| Stop::Unsure)?;
    let end = file.metadata().map_err(|_| Stop::Unsure)?.len();
    let mut r = BufReader::with_capacity(16 << 10, file);
    let mut pre = [0u8; 132];
    if r.read_exact(&mut pre).is_err() || &pre[128..132] != b"DICM" {
        // No preamble: leave the verdict to the parser (it refuses such files itself).
        return Ok(());
    }
    let mut w = Walker {
        r,
        pos: 132,
        end,
        syntax: Syntax::ExplicitLe,
        elements: 0,
        pixels_done: false,
        junk_after_pixels: false,
    };
    // File meta group: explicit VR little endian, group 0002 only.
    let mut ts = String::new();
    loop {
        let save = w.pos;
        let mut peek = [0u8; 2];
        if w.r.read_exact(&mut peek).is_err() {
            return Ok(());
        }
        w.r.seek_relative(-2).map_err(|_| Stop::Unsure)?;
        debug_assert_eq!(w.pos, save);
        if u16::from_le_bytes(peek) != 0x0002 {
            break;
        }
        let (tag, _vr, len) = w.header(Syntax::ExplicitLe)?;
        if len == UNDEFINED {
            return Err(Stop::Unsure);
        }
        w.check_len(tag, len, end)?;
        if tag == (0x0002, 0x0010) && len <= 64 {
            let mut b = vec![0u8; len as usize];
            w.r.read_exact(&mut b).map_err(|_| Stop::Unsure)?;
            w.pos += len as u64;
            ts = String::from_utf8_lossy(&b)
                .trim_end_matches(['\0', ' '])
                .to_string();
        } else {
            w.skip(len as u64)?;
        }
    }
    match ts.as_str() {
        "1.2.840.10008.1.2" => w.syntax = Syntax::ImplicitLe,
        "1.2.840.10008.1.2.2" => w.syntax = Syntax::ExplicitBe,
        "1.2.840.10008.1.2.1.99" => {
            // Deflated: inflate with a cap, then walk the inflated bytes.
            let mut inflated = Vec::new();
            let mut dec = DeflateDecoder::new(w.r).take(max_inflated.saturating_add(1));
            dec.read_to_end(&mut inflated).map_err(|_| Stop::Unsure)?;
            if inflated.len() as u64 > max_inflated {
                return hazard(format!("deflated data set inflates beyond {max_inflated} bytes"));
            }
            let n = inflated.len() as u64;
            let mut d = Walker {
                r: Cursor::new(inflated),
                pos: 0,
                end: n,
                syntax: Syntax::ExplicitLe,
                elements: 0,
                pixels_done: false,
                junk_after_pixels: false,
            };
            let r = d.data_set(n, 0, false);
            // The pixel reader's way past a stray tail reads the file as stored, which a
            // deflated data set is not: there the tail stays a reason to skip the file.
            if d.junk_after_pixels {
                return Err(Stop::Hazard(
                    "bytes after the pixel data of a deflated data set are not DICOM elements".into(),
                ));
            }
            return r;
        }
        _ => {}
    }
    let r = w.data_set(end, 0, false);
    found.junk_after_pixels = w.junk_after_pixels;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(body: &[u8], ts: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("tmp");
        let mut b = vec![0u8; 128];
        b.extend_from_slice(b"DICM");
        let mut tsv = ts.as_bytes().to_vec();
        if tsv.len() % 2 == 1 {
            tsv.push(0);
        }
        b.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I']);
        b.extend_from_slice(&(tsv.len() as u16).to_le_bytes());
        b.extend_from_slice(&tsv);
        b.extend_from_slice(body);
        f.write_all(&b).expect("write");
        f
    }

    #[test]
    fn refuses_oversized_declared_length() {
        // (0009,0010) OB with a 4 GB length in a tiny file.
        let mut body = vec![0x09, 0x00, 0x10, 0x00, b'O', b'B', 0, 0];
        body.extend_from_slice(&0xF000_0000u32.to_le_bytes());
        body.extend_from_slice(&[0u8; 16]);
        let f = file_with(&body, "1.2.840.10008.1.2.1");
        let e = check_file(f.path(), 1 << 30).expect_err("refused");
        assert!(e.contains("(0009,0010)") && e.contains("declares"), "{e}");
    }

    #[test]
    fn refuses_deep_nesting_and_accepts_shallow() {
        let nest = |depth: usize| {
            let mut body = Vec::new();
            for _ in 0..depth {
                body.extend_from_slice(&[0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
                body.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
            }
            for _ in 0..depth {
                body.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
                body.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
            }
            body
        };
        let ok = file_with(&nest(5), "1.2.840.10008.1.2.1");
        assert_eq!(check_file(ok.path(), 1 << 30), Ok(Findings::default()));
        let deep = file_with(&nest(1000), "1.2.840.10008.1.2.1");
        let e = check_file(deep.path(), 1 << 30).expect_err("refused");
        assert!(e.contains("nested"), "{e}");
    }

    #[test]
    fn refuses_deflate_bomb() {
        use flate2::{write::DeflateEncoder, Compression};
        // One OB element of 8 MiB zeros, deflated to a few KB; cap at 1 MiB.
        let mut raw = vec![0x09, 0x00, 0x10, 0x00, b'O', b'B', 0, 0];
        raw.extend_from_slice(&(8u32 << 20).to_le_bytes());
        raw.extend(std::iter::repeat_n(0u8, 8 << 20));
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
        enc.write_all(&raw).expect("deflate");
        let body = enc.finish().expect("deflate");
        let f = file_with(&body, "1.2.840.10008.1.2.1.99");
        let e = check_file(f.path(), 1 << 20).expect_err("refused");
        assert!(e.contains("inflates"), "{e}");
        assert_eq!(check_file(f.path(), 64 << 20), Ok(Findings::default()));
    }
}
