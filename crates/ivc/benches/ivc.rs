//! The whole IVC stage (auto mode: detection, tracking, field, centreline, sections,
//! lumen visibility, landmarks, mask on the reference grid) on a 4-phase CT phantom of
//! 512 × 512 × 300 voxels (0.75 × 0.75 × 0.8 mm), the size issue 4 sets the budget for
//! (< 5 s on 2 cores). `CAVASCOPE_BENCH_SMALL=1` runs the 192 × 192 × 100 test phantom.

use cavascope_ivc::build_ivc;
use cavascope_measurements::{PhaseInfo, Role, RoleSource, SegmentOptions};
use cavascope_phantom::{generate, CaseName, PhantomOptions};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let mut o = PhantomOptions::standard();
    if std::env::var_os("CAVASCOPE_BENCH_SMALL").is_some() {
        o = PhantomOptions::small();
    } else {
        o.slices = 300;
        o.slice_spacing_mm = 0.8;
    }
    let st = generate(CaseName::IvcLeiomyosarcoma, &o);
    let phases: Vec<PhaseInfo> = st
        .volumes
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let role = Role::parse(st.truth.series_roles.get(&v.meta.series_instance_uid)?)?;
            Some(PhaseInfo {
                volume_index: i,
                series_instance_uid: v.meta.series_instance_uid.clone(),
                role,
                role_source: RoleSource::User,
            })
        })
        .collect();
    let so = SegmentOptions::default();
    let shape = st.volumes[0].shape();
    let mut g = c.benchmark_group("ivc");
    g.sample_size(10);
    g.bench_function(
        format!("build_ivc_auto_4phase_{}x{}x{}", shape[2], shape[1], shape[0]),
        |b| {
            b.iter(|| {
                let out = build_ivc(&st.volumes, &phases, &so);
                assert!(out.model.is_some(), "{:?}", out.warnings);
                out
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
