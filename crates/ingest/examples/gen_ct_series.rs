//! Write a synthetic axial CT series for benchmarks: `gen_ct_series OUT_DIR [SLICES] [SIZE]`
//! (default 400 slices of 512×512, 16-bit signed, explicit VR little endian, ~0.5 MB each).

use cavascope_ingest::synth::{write_slice, SynthSlice};
use rayon::prelude::*;
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: gen_ct_series OUT_DIR [SLICES] [SIZE]");
        std::process::exit(2);
    };
    let slices: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(400);
    let size: u16 = args.next().and_then(|s| s.parse().ok()).unwrap_or(512);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("{}: {e}", out.display());
        std::process::exit(1);
    }
    let n = size as usize;
    let r = (0..slices).into_par_iter().try_for_each(|k| {
        let mut s = SynthSlice::ct(
            size,
            size,
            [-200.0, -180.0, -300.0 + 0.8 * k as f64],
            [0.78125, 0.78125],
        );
        s.sop_uid = format!("1.2.826.0.1.3680043.10.1001.3.{}", k + 1);
        s.instance_number = k as i64 + 1;
        s.description = "bench CT".into();
        // Air outside an elliptic body of soft tissue, with deterministic noise.
        let mut seed = 0x9E37_79B9u32 ^ k as u32;
        s.pixels = (0..n * n)
            .map(|p| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 24) as i16 - 128;
                let (y, x) = ((p / n) as f64 / n as f64 - 0.5, (p % n) as f64 / n as f64 - 0.5);
                let inside = (x / 0.45).powi(2) + (y / 0.35).powi(2) < 1.0;
                if inside {
                    1064 + noise / 4
                } else {
                    24 + noise / 16
                }
            })
            .collect();
        write_slice(&out.join(format!("CT{:05}.dcm", k + 1)), &s)
    });
    if let Err(e) = r {
        eprintln!("{e}");
        std::process::exit(1);
    }
    println!("{slices} slices of {size}×{size} in {}", out.display());
}
