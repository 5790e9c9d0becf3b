//! Several files (split on `common::FILE_SEPARATOR`) formed into volumes: grouping,
//! spatial sorting, spacing and orientation checks, duplicates, then decoding.
#![no_main]
#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let files = common::split_files(data, 8);
    common::load_files(&files, true);
});
