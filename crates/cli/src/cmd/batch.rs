//! `cavascope batch` (work in progress).
use crate::args::*;

pub fn run(_g: &Global, _a: BatchArgs) -> u8 {
    eprintln!("cavascope batch: not implemented yet");
    1
}
