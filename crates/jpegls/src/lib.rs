//! JPEG-LS (ITU-T T.87 | ISO/IEC 14495-1) in Rust alone: the decoder DICOM needs for
//! transfer syntaxes 1.2.840.10008.1.2.4.80 (lossless) and .81 (near-lossless), and a
//! lossless/near-lossless encoder for one component (the phantom writer and the tests).
//!
//! Decoding covers what DICOM files carry: sample precision 2–16 bits, NEAR 0–255, one
//! to four components with interleave none (one scan per component), line or sample,
//! preset parameters (LSE id 1). Refused with [`JlsError::Unsupported`] and a reason:
//! restart intervals, mapping tables, point transform,
//! oversize-dimension segments, JPEG-LS part 2 (SOF57).
//!
//! Hostile streams: every marker length, dimension and parameter is checked before use;
//! the output is allocated only after the frame header passed [`Limits`]; the entropy
//! decoder stops with an error at the end of the scan data instead of reading past it.
//! Nothing here panics on input (fuzzed: `fuzz/fuzz_targets/jpegls_decode.rs`).
//!
//! The algorithm and its variable names follow T.87 Annex A; the order of the context
//! updates, the edge rules (Ra = Rb in the first column, Rc = the previous line's Ra, Rd
//! = Rb in the last column) and the run-interruption mapping are those of the standard,
//! as CharLS implements them — the test suite compares with CharLS/DCMTK sample for
//! sample.

#![warn(missing_docs)]

mod bits;
mod codec;
mod header;

pub use header::{read_header, FrameInfo, ScanInfo};

use thiserror::Error;

/// Why a stream was not decoded (or an image not encoded).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum JlsError {
    /// The bytes are not a JPEG-LS stream (no SOI, another JPEG process).
    #[error("not a JPEG-LS stream: {0}")]
    NotJpegLs(String),
    /// A marker segment is malformed or its values are out of range.
    #[error("invalid JPEG-LS header: {0}")]
    Header(String),
    /// Valid JPEG-LS that this decoder does not implement.
    #[error("JPEG-LS feature not supported: {0}")]
    Unsupported(String),
    /// The entropy-coded data is damaged or ends early.
    #[error("JPEG-LS scan data damaged: {0}")]
    Data(String),
    /// The frame is not what the caller expected (or exceeds its limit).
    #[error("JPEG-LS frame {0}")]
    Limits(String),
    /// Encoder input out of range.
    #[error("cannot encode JPEG-LS: {0}")]
    Encode(String),
}

/// What the caller accepts, checked against the frame header before any allocation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Exact width, height and component count expected (DICOM Columns, Rows,
    /// SamplesPerPixel), or `None` to accept any frame up to `max_samples`.
    pub expect: Option<(u32, u32, u8)>,
    /// Largest `width × height × components` to allocate.
    pub max_samples: u64,
}

impl Limits {
    /// Exactly `columns × rows × components`.
    pub fn exact(columns: u32, rows: u32, components: u8) -> Limits {
        Limits {
            expect: Some((columns, rows, components)),
            max_samples: columns as u64 * rows as u64 * components as u64,
        }
    }
}

/// A decoded frame: samples in pixel order, components interleaved per pixel (DICOM
/// PlanarConfiguration 0), each in `0..=maxval`.
#[derive(Debug, Clone)]
pub struct Image {
    /// The frame header.
    pub info: FrameInfo,
    /// NEAR of the (first) scan: 0 for lossless.
    pub near: u8,
    /// The samples.
    pub samples: Vec<u16>,
}

/// Decode a whole JPEG-LS stream (SOI … EOI).
pub fn decode(data: &[u8], limits: Limits) -> Result<Image, JlsError> {
    codec::decode(data, limits)
}

/// Encode one component (`samples.len() == width × height`, each `< 2^precision`) as a
/// JPEG-LS stream with default parameters, interleave none, `near` 0 for lossless.
pub fn encode(
    samples: &[u16],
    width: u32,
    height: u32,
    precision: u8,
    near: u8,
) -> Result<Vec<u8>, JlsError> {
    codec::encode(samples, width, height, precision, near)
}
