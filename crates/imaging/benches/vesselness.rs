//! Vesselness throughput: a 128 × 128 × 64 volume of bright tubes (2–10 mm) on CT-like
//! spacing, five scales. ITK comparison: `benches/compare_itk_vesselness.py`.

use cavascope_imaging::vesselness::{sigmas_for_diameters, vesselness, VesselnessParams};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array3;

fn tubes() -> Array3<f32> {
    let sp = [0.8, 0.8, 2.0];
    Array3::from_shape_fn((64, 128, 128), |(k, j, i)| {
        let (x, y, z) = (i as f64 * sp[0], j as f64 * sp[1], k as f64 * sp[2]);
        let mut v = -100.0f32;
        for (n, r) in [1.0, 2.0, 3.5, 5.0].iter().enumerate() {
            let cx = 15.0 + 22.0 * n as f64 + 0.1 * z;
            let cy = 50.0;
            if (x - cx).powi(2) + (y - cy).powi(2) <= r * r {
                v = 150.0;
            }
        }
        v
    })
}

fn bench(c: &mut Criterion) {
    let a = tubes();
    let p = VesselnessParams {
        sigmas_mm: sigmas_for_diameters(2.0, 10.0, 5),
        ..Default::default()
    };
    let mut g = c.benchmark_group("vesselness");
    g.sample_size(10);
    g.bench_function("128x128x64_5_scales", |b| {
        b.iter(|| vesselness(&a, [0.8, 0.8, 2.0], &p))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
