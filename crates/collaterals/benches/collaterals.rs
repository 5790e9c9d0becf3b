//! Collateral stage on the demo-sized study: 4-phase CT leiomyosarcoma phantom,
//! 512 × 512 × 100 (0.75 × 0.75 × 2.5 mm), with its true IVC and mass masks.

#[path = "../../mass/tests/truth_ivc/mod.rs"]
mod truth_ivc;

use cavascope_collaterals::collaterals::measure_collaterals;
use cavascope_phantom::{generate, CaseName, PhantomOptions};
use cavascope_phases::assign_roles;
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let s = generate(CaseName::IvcLeiomyosarcoma, &PhantomOptions::standard());
    let phases = assign_roles(&s.volumes, &[]);
    let ivc = truth_ivc::truth_ivc(&s);
    let mass = truth_ivc::truth_mass_mask(&s);
    let lm = cavascope_measurements::Landmarks {
        hepatic_vein_confluence_z_mm: None,
        renal_vein_inflow_z_mm: Some(s.truth.landmarks.renal_vein_inflow_z_mm),
    };
    let col = measure_collaterals(&s.volumes, &phases, Some(&ivc), mass.as_ref(), &lm);
    eprintln!(
        "collaterals on 512x512x100: {:?}",
        col.collaterals.as_ref().map(|c| &c.veins)
    );
    let mut g = c.benchmark_group("collaterals");
    g.sample_size(10);
    g.bench_function("lms_512x512x100_4_phases", |b| {
        b.iter(|| measure_collaterals(&s.volumes, &phases, Some(&ivc), mass.as_ref(), &lm))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
