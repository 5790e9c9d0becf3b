//! Shared by the targets: fuzz bytes become files in a scratch folder (in RAM where
#![allow(dead_code)] // each target uses part of it
//! possible), which then go through ingest's public entry point exactly as a study would.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Separates the files of one input for the multi-file target (an arbitrary marker that
/// is unlikely inside DICOM data).
pub const FILE_SEPARATOR: &[u8] = b"\n--CAVASCOPE-NEXT-FILE--\n";

fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("cavascope-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        d
    })
}

/// Limits small enough that a hostile header cannot make a fuzz run swap: the limits
/// are what is under test.
pub fn options(decode_pixels: bool) -> cavascope_ingest::IngestOptions {
    cavascope_ingest::IngestOptions {
        max_voxels: 1 << 24,
        max_file_bytes: 1 << 22,
        decode_pixels,
        ..Default::default()
    }
}

/// Replace the scratch folder's files with `files` and load it as a study.
pub fn load_files(files: &[&[u8]], decode_pixels: bool) {
    let dir = scratch();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
    for (i, f) in files.iter().enumerate() {
        if std::fs::write(dir.join(format!("f{i:02}.dcm")), f).is_err() {
            return;
        }
    }
    // Errors are fine; panics, aborts, hangs and runaway allocations are the findings.
    let _ = cavascope_ingest::load_study(dir, &options(decode_pixels));
}

/// Split one fuzz input into at most `max` files.
pub fn split_files(data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < max {
        match find(rest, FILE_SEPARATOR) {
            Some(at) => {
                out.push(&rest[..at]);
                rest = &rest[at + FILE_SEPARATOR.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
