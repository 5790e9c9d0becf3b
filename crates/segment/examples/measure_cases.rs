//! Diagnostic printout of the whole measuring stage (roles → IVC → automatic mass →
//! collaterals) on three phantom cases. Not a test: it asserts nothing.
//!
//! `cargo run -p cavascope-segment --example measure_cases`

use cavascope_phantom::{generate, CaseName, PhantomOptions};
use cavascope_segment::{measure, SegmentOptions};

fn main() {
    for case in [
        CaseName::IvcLeiomyosarcoma,
        CaseName::Normal,
        CaseName::MriLeiomyosarcoma,
    ] {
        let s = generate(case, &PhantomOptions::small());
        let m = measure(&s.volumes, &SegmentOptions::default());
        println!(
            "{case}: ivc {} mass {:?} ml pattern {:?} mr {:?} collaterals (widest mm, vessels on named pathways) {:?}\n  warnings {:?}",
            m.ivc.is_some(),
            m.mass.as_ref().map(|x| x.volume_ml),
            m.mass.as_ref().and_then(|x| x.pattern),
            m.mass.as_ref().and_then(|x| x.mr.clone()),
            m.collaterals
                .as_ref()
                .map(|c| (c.max_diameter_mm, c.vessels.len())),
            m.warnings
        );
    }
}
