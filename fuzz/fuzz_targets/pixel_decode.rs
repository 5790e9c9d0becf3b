//! One file, pixels decoded: transfer syntaxes, codecs, rescale, length checks.
#![no_main]
#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::load_files(&[data], true);
});
