//! Phantom generation speed. The issue-3 target: a 4-phase 512 × 512 × 200 CT study in
//! under 10 s on 2 cores. `cargo bench -p cavascope-phantom`.
use cavascope_phantom::{generate, write_study, CaseName, PhantomOptions, WriteOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("phantom");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("generate ivc_leiomyosarcoma small 192x192x100 4-phase CT", |b| {
        b.iter(|| black_box(generate(CaseName::IvcLeiomyosarcoma, &PhantomOptions::small())))
    });
    let mut big = PhantomOptions::standard();
    big.slices = 200;
    big.slice_spacing_mm = 1.25;
    g.measurement_time(Duration::from_secs(60));
    g.bench_function("generate ivc_leiomyosarcoma 512x512x200 4-phase CT", |b| {
        b.iter(|| black_box(generate(CaseName::IvcLeiomyosarcoma, &big)))
    });
    let study = generate(CaseName::IvcLeiomyosarcoma, &PhantomOptions::small());
    let dir = std::env::temp_dir().join(format!("cavascope-phantom-bench-{}", std::process::id()));
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("write small study, explicit VR LE (400 files)", |b| {
        b.iter(|| {
            black_box(write_study(&study, &dir, &WriteOptions::default()).map(|w| w.series_files.len()))
        })
    });
    let _ = std::fs::remove_dir_all(&dir);
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
