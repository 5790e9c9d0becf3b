//! Shared by the batch and reliability tests: crafting DICOM files (valid and hostile),
//! running the binary, hashing folders.
#![allow(dead_code)] // each test file uses part of it

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
pub const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
pub const DEFLATED_LE: &str = "1.2.840.10008.1.2.1.99";

/// One CT image, every attribute a volume needs, each overridable to make it hostile.
#[derive(Debug, Clone)]
pub struct Slice {
    pub rows: u16,
    pub cols: u16,
    /// NumberOfFrames as written (IS text); `None` leaves it out.
    pub frames: Option<String>,
    pub samples: u16,
    pub bits_allocated: u16,
    pub pixel_spacing: String,
    pub iop: String,
    pub ipp: String,
    pub slice_thickness: String,
    pub study_uid: String,
    pub series_uid: String,
    pub sop_uid: String,
    pub instance: i32,
    pub series_description: String,
    pub patient_name: String,
    pub patient_id: String,
    /// Pixel data bytes; `None`: exactly the declared size, a ramp.
    pub pixels: Option<Vec<u8>>,
}

impl Slice {
    /// Slice `k` of a small axial series `series` (2.5 mm apart, 0.8 mm pixels).
    pub fn axial(series: u32, k: i32) -> Slice {
        Slice {
            rows: 16,
            cols: 16,
            frames: None,
            samples: 1,
            bits_allocated: 16,
            pixel_spacing: "0.8\\0.8".into(),
            iop: "1\\0\\0\\0\\1\\0".into(),
            ipp: format!("-6.4\\-6.4\\{}", 2.5 * k as f64),
            slice_thickness: "2.5".into(),
            study_uid: "1.2.826.0.1.3680043.10.1234.1".into(),
            series_uid: format!("1.2.826.0.1.3680043.10.1234.1.{series}"),
            sop_uid: format!("1.2.826.0.1.3680043.10.1234.1.{series}.{}", k + 1000),
            instance: k + 1,
            series_description: format!("series {series}"),
            patient_name: "DOE^JANE".into(),
            patient_id: "PID-0042".into(),
            pixels: None,
        }
    }

    pub fn declared_pixel_bytes(&self) -> usize {
        let frames: usize = self
            .frames
            .as_deref()
            .and_then(|f| f.trim().parse().ok())
            .unwrap_or(1);
        self.rows as usize
            * self.cols as usize
            * self.samples as usize
            * (self.bits_allocated as usize / 8)
            * frames
    }

    pub fn object(&self) -> InMemDicomObject {
        let s = |tag: Tag, vr: VR, v: &str| DataElement::new(tag, vr, PrimitiveValue::from(v));
        let us = |tag: Tag, v: u16| DataElement::new(tag, VR::US, PrimitiveValue::from(v));
        let mut elems = vec![
            s(tags::SOP_CLASS_UID, VR::UI, CT_IMAGE_STORAGE),
            s(tags::SOP_INSTANCE_UID, VR::UI, &self.sop_uid),
            s(tags::STUDY_INSTANCE_UID, VR::UI, &self.study_uid),
            s(tags::SERIES_INSTANCE_UID, VR::UI, &self.series_uid),
            s(
                tags::FRAME_OF_REFERENCE_UID,
                VR::UI,
                "1.2.826.0.1.3680043.10.1234.9",
            ),
            s(tags::MODALITY, VR::CS, "CT"),
            s(tags::PATIENT_NAME, VR::PN, &self.patient_name),
            s(tags::PATIENT_ID, VR::LO, &self.patient_id),
            s(tags::SERIES_DESCRIPTION, VR::LO, &self.series_description),
            s(tags::SERIES_NUMBER, VR::IS, "1"),
            s(tags::INSTANCE_NUMBER, VR::IS, &self.instance.to_string()),
            s(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY\\AXIAL"),
            s(tags::PIXEL_SPACING, VR::DS, &self.pixel_spacing),
            s(tags::IMAGE_ORIENTATION_PATIENT, VR::DS, &self.iop),
            s(tags::IMAGE_POSITION_PATIENT, VR::DS, &self.ipp),
            s(tags::SLICE_THICKNESS, VR::DS, &self.slice_thickness),
            s(tags::RESCALE_INTERCEPT, VR::DS, "-1024"),
            s(tags::RESCALE_SLOPE, VR::DS, "1"),
            s(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
            us(tags::ROWS, self.rows),
            us(tags::COLUMNS, self.cols),
            us(tags::SAMPLES_PER_PIXEL, self.samples),
            us(tags::BITS_ALLOCATED, self.bits_allocated),
            us(tags::BITS_STORED, self.bits_allocated.min(16)),
            us(tags::HIGH_BIT, self.bits_allocated.clamp(1, 16) - 1),
            us(tags::PIXEL_REPRESENTATION, 0),
        ];
        if let Some(f) = &self.frames {
            elems.push(s(tags::NUMBER_OF_FRAMES, VR::IS, f));
        }
        let pixels = self.pixels.clone().unwrap_or_else(|| {
            (0..self.declared_pixel_bytes())
                .map(|i| ((i / 2) % 200) as u8 * (i % 2 == 0) as u8 + 4)
                .collect()
        });
        elems.push(DataElement::new(
            tags::PIXEL_DATA,
            VR::OW,
            PrimitiveValue::from(pixels),
        ));
        InMemDicomObject::from_element_iter(elems)
    }

    pub fn write(&self, path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        self.object()
            .with_meta(FileMetaTableBuilder::new().transfer_syntax(EXPLICIT_LE))
            .unwrap()
            .write_to_file(path)
            .unwrap();
    }
}

/// The transfer syntax hand-made datasets are encoded in.
pub fn explicit_le_ts() -> dicom_transfer_syntax_registry::TransferSyntax {
    dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased()
}

/// Write a small valid axial series of `n` slices into `dir`.
pub fn write_series(dir: &Path, series: u32, n: i32) -> Vec<PathBuf> {
    (0..n)
        .map(|k| {
            let p = dir.join(format!("s{series}_{k:03}.dcm"));
            Slice::axial(series, k).write(&p);
            p
        })
        .collect()
}

/// A DICOM file from hand-made dataset bytes: preamble, `DICM`, a correct file meta group
/// for `ts`, then `dataset` verbatim (for what a well-behaved writer refuses to write).
pub fn write_raw(path: &Path, ts: &str, dataset: &[u8]) {
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(ts)
        .media_storage_sop_class_uid(CT_IMAGE_STORAGE)
        .media_storage_sop_instance_uid("1.2.826.0.1.3680043.10.1234.77.1")
        .build()
        .unwrap();
    let mut bytes = vec![0u8; 128];
    bytes.extend_from_slice(b"DICM");
    meta.write(&mut bytes).unwrap();
    bytes.extend_from_slice(dataset);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Explicit VR little-endian encoding of one short-form element (for hand-made datasets).
pub fn explicit_le(tag: (u16, u16), vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&tag.0.to_le_bytes());
    v.extend_from_slice(&tag.1.to_le_bytes());
    v.extend_from_slice(vr);
    let long = matches!(
        vr,
        b"OB" | b"OW" | b"SQ" | b"UN" | b"UT" | b"OF" | b"OD" | b"OL" | b"UC" | b"UR"
    );
    if long {
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        v.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    v.extend_from_slice(value);
    v
}

/// The path of the `cavascope` binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cavascope"))
}

/// Run the binary with a time limit; a hang is a test failure, not a stuck CI.
pub fn run_limited(args: &[&std::ffi::OsStr], limit_s: u64) -> Output {
    let mut cmd = Command::new("timeout");
    cmd.arg("-s").arg("KILL").arg(limit_s.to_string()).arg(bin());
    cmd.args(args);
    cmd.env("RUST_LOG", "info");
    cmd.output().expect("spawn cavascope")
}

/// Exit codes of the contract (0, 1, 2): no signal, no panic (101), no abort.
pub fn assert_clean_exit(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{what}: status {:?} (signal, panic or timeout)\nstderr:\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{what}: panicked\n{stderr}");
}

/// Every file under `dir` (relative path → SHA-like digest of contents + permissions).
pub fn hash_tree(dir: &Path) -> BTreeMap<PathBuf, (u64, u64, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p.clone());
            }
            let bytes = if m.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            let mtime_ns = mtime.map(|d| d.as_nanos() as u64).unwrap_or(0);
            out.insert(
                p.strip_prefix(dir).unwrap().to_path_buf(),
                (fnv(&bytes) ^ bytes.len() as u64, mtime_ns, m.permissions().mode()),
            );
        }
    }
    out
}

pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Files below `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// The public DICOM corpus (test-data/corpus/fetch.sh), fetched on first use: required in
/// CI (`cavascope_testkit::corpus`), a printed skip of the corpus seeds elsewhere.
pub fn corpus_dir() -> Option<PathBuf> {
    cavascope_testkit::corpus()
}

/// A CT phantom study of `case` written as DICOM into `dir`, at a reduced grid that keeps
/// tests quick (the anatomy and signs are the same; only the sampling is coarser).
pub fn write_phantom(dir: &Path, case: &str, seed: u64) -> cavascope_phantom::WrittenStudy {
    write_phantom_grid(dir, case, seed, 96, 4.0, 50, 5.0)
}

/// A thick-slice phantom (192 × 192 at 2 mm, 50 slices at 5 mm: the in-plane resolution
/// the IVC model needs, the slice spacing of many clinical abdominal CTs) for tests that
/// check the analysis's numbers against the truth.
pub fn write_thick_slice_phantom(dir: &Path, case: &str, seed: u64) -> cavascope_phantom::WrittenStudy {
    write_phantom_grid(dir, case, seed, 192, 2.0, 50, 5.0)
}

/// A coarse phantom (48 × 48 at 8 mm, 20 slices at 12.5 mm) for tests of the machinery
/// around the analysis (naming, shards, resume, atomic outputs): the analysis runs to a
/// complete report in a fraction of the time, though its measurements are rough.
pub fn write_coarse_phantom(dir: &Path, case: &str, seed: u64) -> cavascope_phantom::WrittenStudy {
    write_phantom_grid(dir, case, seed, 48, 8.0, 20, 12.5)
}

fn write_phantom_grid(
    dir: &Path,
    case: &str,
    seed: u64,
    n: usize,
    pixel_mm: f64,
    slices: usize,
    slice_mm: f64,
) -> cavascope_phantom::WrittenStudy {
    use cavascope_phantom::{generate, write_study, CaseName, PhantomOptions, WriteOptions};
    let case: CaseName = case.parse().expect("case name");
    let mut opts = PhantomOptions::small().with_seed(seed);
    opts.cols = n;
    opts.rows = n;
    opts.pixel_spacing_mm = pixel_mm;
    opts.slices = slices;
    opts.slice_spacing_mm = slice_mm;
    let study = generate(case, &opts);
    write_study(&study, dir, &WriteOptions::default()).expect("write phantom")
}

/// Replace every occurrence of `from` by `to` (same length, so DICOM lengths stay valid)
/// in every file under `dir`; returns how many files changed.
pub fn patch_bytes(dir: &Path, from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut changed = 0;
    for f in files_under(dir) {
        let mut b = std::fs::read(&f).unwrap();
        let mut hit = false;
        let mut i = 0;
        while i + from.len() <= b.len() {
            if &b[i..i + from.len()] == from {
                b[i..i + from.len()].copy_from_slice(to);
                hit = true;
                i += from.len();
            } else {
                i += 1;
            }
        }
        if hit {
            std::fs::write(&f, b).unwrap();
            changed += 1;
        }
    }
    changed
}

/// Copy a folder tree (files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let dst = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &dst);
        } else {
            std::fs::copy(&p, &dst).unwrap();
        }
    }
}

/// Rows of a CSV file as header → value maps.
pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = csv_reader(&text);
    let header = r.remove(0);
    r.into_iter()
        .map(|row| header.iter().cloned().zip(row).collect())
        .collect()
}

/// A small RFC 4180 reader (quotes, doubled quotes, commas and newlines inside quotes),
/// independent of the csv crate that wrote the file.
fn csv_reader(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
