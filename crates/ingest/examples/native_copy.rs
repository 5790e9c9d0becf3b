//! Native pixel copy bandwidth against memcpy, as the minimum of N runs (robust to a
//! loaded machine, unlike a mean): a generated 128 × 512 × 512 int16 CT series read from
//! its files into a warm int16 buffer, on all threads and on one, versus `memcpy` of the
//! same bytes and `cat`-like reading of the same files (the page-cache floor).
//! `cargo run --release -p cavascope-ingest --example native_copy [RUNS]`

use cavascope_ingest::export::plan_study;
use cavascope_ingest::synth::{write_slice, SynthSlice};
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
    for k in 0..slices {
        let mut s = SynthSlice::ct(size, size, [-200.0, -180.0, 0.8 * k as f64], [0.78, 0.78]);
        s.sop_uid = format!("1.2.826.0.1.3680043.10.1001.3.{}", k + 1);
        s.pixels = (0..size as usize * size as usize)
            .map(|p| ((p * 31 + k) % 2000) as i16)
            .collect();
        write_slice(&dir.path().join(format!("IM{k:05}")), &s)?;
    }
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
    println!("memcpy              {:7.2} GiB/s", gib(memcpy));
    println!(
        "read files (cat)    {:7.2} GiB/s  {:5.1} % of memcpy",
        gib(cat),
        100.0 * memcpy.as_secs_f64() / cat.as_secs_f64()
    );
    println!(
        "native copy, 1 thr  {:7.2} GiB/s  {:5.1} % of memcpy",
        gib(single),
        100.0 * memcpy.as_secs_f64() / single.as_secs_f64()
    );
    println!(
        "native copy, {} thr  {:7.2} GiB/s  {:5.1} % of memcpy",
        rayon::current_num_threads(),
        gib(par),
        100.0 * memcpy.as_secs_f64() / par.as_secs_f64()
    );
    println!(
        "in memory → f32, 1 thr  {:7.2} GiB/s  {:5.1} % of memcpy",
        gib(f32_one),
        100.0 * memcpy.as_secs_f64() / f32_one.as_secs_f64()
    );
    println!(
        "in memory → f32, {} thr  {:7.2} GiB/s  {:5.1} % of memcpy",
        rayon::current_num_threads(),
        gib(f32_par),
        100.0 * memcpy.as_secs_f64() / f32_par.as_secs_f64()
    );
    Ok(())
}
