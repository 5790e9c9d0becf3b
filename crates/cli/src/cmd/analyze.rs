//! `cavascope analyze` (work in progress).
use crate::args::*;

pub fn run(_g: &Global, _a: AnalyzeArgs) -> u8 {
    eprintln!("cavascope analyze: not implemented yet");
    1
}
