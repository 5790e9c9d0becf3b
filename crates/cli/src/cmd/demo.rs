//! `cavascope demo` (work in progress).
use crate::args::*;

pub fn run(_g: &Global) -> u8 {
    eprintln!("cavascope demo: not implemented yet");
    1
}
