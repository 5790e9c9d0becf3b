//! One file, headers only (`inspect`'s path): scanning, tag parsing, grouping.
#![no_main]
#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::load_files(&[data], false);
});
