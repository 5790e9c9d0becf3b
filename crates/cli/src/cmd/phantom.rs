//! `cavascope phantom` (work in progress).
use crate::args::*;

pub fn run(_g: &Global, _a: PhantomArgs) -> u8 {
    eprintln!("cavascope phantom: not implemented yet");
    1
}
