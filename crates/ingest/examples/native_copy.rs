//! Native pixel copy bandwidth against memcpy, as the minimum of N runs (robust to a
//! loaded machine, unlike a mean): a generated 128 × 512 × 512 int16 CT series read from
//! its files into a warm int16 buffer, on all threads and on one, versus `memcpy` of the
//! same bytes and `cat`-like reading of the same files (the page-cache floor).
//! `cargo run --release -p cavascope-ingest --example native_copy [RUNS]`

use cavascope_ingest::export::plan_study;
use cavascope_ingest::synth::write_bench_ct_series;
use cavascope_ingest::IngestOptions;
use std::io::Read;
use std::time::{Duration, Instant};

fn min_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let (slices, size) = (128usize, 512u16);
    let dir = tempfile::tempdir()?;
    write_bench_ct_series(dir.path(), slices, size)?;
    let planned = plan_study(dir.path(), &IngestOptions::default())?;
    let bytes = slices * size as usize * size as usize * 2;
    let gib = |d: Duration| bytes as f64 / d.as_secs_f64() / (1u64 << 30) as f64;

    let src = vec![1u8; bytes];
    let mut dst = vec![0u8; bytes];
    let memcpy = min_of(runs, || {
        std::hint::black_box(&mut dst).copy_from_slice(std::hint::black_box(&src));
        std::hint::black_box(&dst);
    });
    let mut warm = vec![0i16; bytes / 2];
    let par = min_of(runs, || {
        assert!(planned.decode_int16_into(0, &mut warm).unwrap_or(false));
    });
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let single = one.install(|| {
        min_of(runs, || {
            assert!(planned.decode_int16_into(0, &mut warm).unwrap_or(false));
        })
    });
    let files: Vec<_> = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    let mut buf = vec![0u8; 1 << 20];
    let cat = min_of(runs, || {
        for p in &files {
            if let Ok(mut f) = std::fs::File::open(p) {
                while matches!(f.read(&mut buf), Ok(n) if n > 0) {}
            }
        }
    });
    // The pixel copy stage alone, from samples already in memory (what follows the read
    // for every native file): stored int16 → f32 HU into the preallocated volume, slices in
    // parallel as `load_study` does.
    let plane = size as usize * size as usize;
    let mut vol = vec![0f32; bytes / 2];
    let f32_par = min_of(runs, || {
        use rayon::prelude::*;
        vol.par_chunks_mut(plane)
            .zip(src.par_chunks(plane * 2))
            .for_each(|(o, c)| {
                let _ = cavascope_ingest::pixels::convert_samples(c, 16, 12, true, 1.0, -1024.0, o);
            });
    });
    let f32_one = one.install(|| {
        min_of(runs, || {
            let _ = cavascope_ingest::pixels::convert_samples(&src, 16, 12, true, 1.0, -1024.0, &mut vol);
        })
    });
    let threads = rayon::current_num_threads();
    let pct = |d: Duration| 100.0 * memcpy.as_secs_f64() / d.as_secs_f64();
    println!("memcpy                     {:7.2} GiB/s", gib(memcpy));
    for (what, d) in [
        ("read files (cat)".to_string(), cat),
        ("native copy, 1 thread".to_string(), single),
        (format!("native copy, {threads} threads"), par),
        ("in memory → f32, 1 thread".to_string(), f32_one),
        (format!("in memory → f32, {threads} threads"), f32_par),
    ] {
        println!("{what:<27}{:7.2} GiB/s {:5.1} % of memcpy", gib(d), pct(d));
    }
    Ok(())
}
