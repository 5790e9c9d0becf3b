//! `cavascope inspect` (work in progress).
use crate::args::*;

pub fn run(_g: &Global, _a: InspectArgs) -> u8 {
    eprintln!("cavascope inspect: not implemented yet");
    1
}
