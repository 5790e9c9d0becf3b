//! Times cavascope's vesselness on a phantom CT volume and writes the input and the
//! result as raw float32 files for `benches/compare_itk_vesselness.py`, which runs ITK's
//! filter on the same input and scales.
//!
//! Usage: `vesselness_bench OUT_DIR [COLS ROWS SLICES]` (default 256 256 100 at 0.75 ×
//! 0.75 × 2.5 mm: the portal venous phase of the `ivc_leiomyosarcoma` phantom, cropped).

use cavascope_imaging::vesselness::{sigmas_for_diameters, vesselness, VesselnessParams};
use cavascope_phantom::{generate, CaseName, PhantomOptions};
use std::io::Write;
use std::time::Instant;

fn write_f32(path: &std::path::Path, data: &[f32]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    for v in data {
        f.write_all(&v.to_le_bytes())?;
    }
    f.flush()?;
    drop(f);
    std::fs::rename(tmp, path)
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, clock
/// ticks of 10 ms); `None` elsewhere. The shared machine's load inflates wall time, not this.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(
        args.get(1)
            .ok_or("usage: vesselness_bench OUT_DIR [COLS ROWS SLICES]")?,
    );
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (cols, rows, slices) = (num(2, 256), num(3, 256), num(4, 100));
    std::fs::create_dir_all(&out)?;
    let mut o = PhantomOptions::standard();
    o.cols = cols;
    o.rows = rows;
    o.slices = slices;
    // 0.75 mm over 256 columns covers the retroperitoneum around the spine and IVC.
    let study = generate(CaseName::IvcLeiomyosarcoma, &o);
    let v = &study.volumes[2]; // portal venous
    let sp = v.geometry.spacing();
    let params = VesselnessParams {
        sigmas_mm: sigmas_for_diameters(2.0, 10.0, 5),
        ..Default::default()
    };
    // Warm-up (thread pool, page faults), then the timed runs.
    let _ = vesselness(&v.data, sp, &params);
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut result = None;
    for _ in 0..3 {
        let c = cpu_seconds();
        let t = Instant::now();
        let r = vesselness(&v.data, sp, &params);
        times.push(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (c, cpu_seconds()) {
            cpu.push(b - a);
        }
        result = Some(r);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    cpu.sort_by(|a, b| a.total_cmp(b));
    let r = result.ok_or("no run")?;
    let input: Vec<f32> = v.data.iter().copied().collect();
    let ours: Vec<f32> = r.response.iter().copied().collect();
    write_f32(&out.join("input.f32"), &input)?;
    write_f32(&out.join("ours.f32"), &ours)?;
    let meta = serde_json::json!({
        "dims_kji": [slices, rows, cols],
        "spacing_ijk": sp,
        "sigmas_mm": params.sigmas_mm,
        "alpha": params.alpha, "beta": params.beta, "gamma": params.gamma,
        "seconds_median": times[1],
        "seconds_all": times,
        "cpu_seconds_median": cpu.get(1),
        "cpu_seconds_all": cpu,
        "threads": rayon::current_num_threads(),
    });
    std::fs::write(out.join("meta.json"), serde_json::to_string_pretty(&meta)?)?;
    println!(
        "cavascope vesselness {cols}x{rows}x{slices}: median {:.3} s wall, {:.2} s CPU over 3 runs ({} threads)",
        times[1],
        cpu.get(1).copied().unwrap_or(f64::NAN),
        rayon::current_num_threads()
    );
    Ok(())
}
