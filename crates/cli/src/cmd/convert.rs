//! `cavascope convert` (work in progress).
use crate::args::*;

pub fn run(_g: &Global, _a: ConvertArgs) -> u8 {
    eprintln!("cavascope convert: not implemented yet");
    1
}
