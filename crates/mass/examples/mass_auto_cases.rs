//! Diagnostic printout of the automatic mass search on every phantom case (with the true
//! IVC): volume, Dice with the true mass, centroid error, fat, intraluminal extension,
//! arterial CV and the enhancement per phase, against the truth. Not a test: it asserts
//! nothing (`tests/mass_auto_phantom.rs` does).
//!
//! `cargo run -p cavascope-mass --example mass_auto_cases [-- CASE] [--demo-grid] [--tissues]`
//! (`--demo-grid`: the demo's 512 × 512 grid instead of the small one; `--tissues`: the
//! phantom tissues of the wrongly included and missed voxels).

#[path = "../tests/auto_common/mod.rs"]
mod auto_common;
#[path = "../tests/truth_ivc/mod.rs"]
mod truth_ivc;

use cavascope_phantom::{CaseName, PhantomOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let demo = args.iter().any(|a| a == "--demo-grid");
    let tissues = args.iter().any(|a| a == "--tissues");
    let only = args.iter().find(|a| !a.starts_with("--")).map(|c| {
        CaseName::parse(c).unwrap_or_else(|| {
            eprintln!("unknown case {c}");
            std::process::exit(2)
        })
    });
    let opts = if demo {
        PhantomOptions::standard()
    } else {
        PhantomOptions::small()
    };
    for c in CaseName::all() {
        if only.is_none_or(|o| o == *c) {
            auto_common::auto_on(*c, &opts, tissues);
        }
    }
}
