//! Diagnostic (not a timed test): analyse draws of every phantom case, auto and with the
//! truth's seeds, and print how often the top diagnosis is right and which signs come
//! out `present` on a normal draw without the truth holding them (issue 16, item 7;
//! the table in docs/validation.md, section "own phantom").
//!
//! ```sh
//! cargo build -p cavascope-cli --bin cavascope --example phantom_draws
//! target/debug/examples/phantom_draws --draws 1-10 --grid small --out /tmp/draws
//! ```
//! `--grid small` keeps every draw on the 192² × 100 test grid (anatomy, bowel and noise
//! texture still vary); `--grid drawn` uses the drawn pixel / slice sizes
//! ([`PhantomOptions::draw`]). `--cases a,b` limits the cases; `--keep` keeps the
//! generated studies beside their reports. The `cavascope` binary
//! beside the example's folder does the analysis.

use cavascope_phantom::{generate, write_study, CaseName, PhantomOptions, Truth, WriteOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn parse_range(s: &str) -> Option<(u64, u64)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let v = s.trim().parse().ok()?;
            Some((v, v))
        }
    }
}

fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().and_then(Path::parent).unwrap_or(Path::new("."));
    dir.join("cavascope")
}

struct Outcome {
    top_ok: bool,
    top: String,
    /// Signs `present` that the truth does not hold.
    false_present: Vec<String>,
    /// Every sign whose state differs from the truth.
    mismatched: Vec<String>,
}

fn analyse(study: &Path, out: &Path, t: &Truth, seeds: bool) -> Result<Outcome, String> {
    let p = |v: [f64; 3]| format!("{},{},{}", v[0], v[1], v[2]);
    let mut cmd = Command::new(binary());
    cmd.arg("analyze").arg(study).arg("--out").arg(out).arg("--quiet");
    if seeds {
        cmd.arg(format!("--ivc-seed={}", p(t.ivc_seed_mm)));
        if let Some(m) = t.mass_seed_mm {
            cmd.arg(format!("--mass-seed={}", p(m)));
        }
    }
    let o = cmd.output().map_err(|e| format!("{}: {e}", binary().display()))?;
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).trim().to_string());
    }
    let text = std::fs::read_to_string(out.join("report.json")).map_err(|e| e.to_string())?;
    let r: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let top = r["differential"][0]["diagnosis"]
        .as_str()
        .unwrap_or("none")
        .to_string();
    let mut false_present = Vec::new();
    let mut mismatched = Vec::new();
    for s in r["signs"].as_array().into_iter().flatten() {
        let id = s["id"].as_str().unwrap_or("?");
        let got = s["state"].as_str().unwrap_or("?");
        let want = t.expected_signs.get(id).map(String::as_str).unwrap_or("?");
        if got != want {
            mismatched.push(format!("{id}={got}"));
            if got == "present" {
                false_present.push(id.to_string());
            }
        }
    }
    Ok(Outcome {
        top_ok: top == t.expected_top_diagnosis,
        top,
        false_present,
        mismatched,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let (d0, d1) = parse_range(&get("--draws").unwrap_or_else(|| "1-10".into())).unwrap_or((1, 10));
    let keep = args.iter().any(|a| a == "--keep");
    let grid = get("--grid").unwrap_or_else(|| "small".into());
    let out = PathBuf::from(get("--out").unwrap_or_else(|| "phantom-draws".into()));
    let cases: Vec<CaseName> = match get("--cases") {
        Some(c) => c.split(',').filter_map(CaseName::parse).collect(),
        None => CaseName::all().to_vec(),
    };
    if !binary().is_file() {
        eprintln!(
            "phantom_draws: {} not found (build the cavascope binary)",
            binary().display()
        );
        std::process::exit(2);
    }
    println!("| case | draw | grid | mode | top diagnosis | right | signs off truth |");
    println!("|---|---|---|---|---|---|---|");
    let mut n = [0usize; 2];
    let mut right = [0usize; 2];
    let mut normal_false: Vec<String> = Vec::new();
    // Draw-major, so that a run cut short has covered every case.
    for d in d0..=d1 {
        for case in &cases {
            let o = if grid == "small" {
                PhantomOptions::draw_on_small_grid(d)
            } else {
                PhantomOptions::draw(d)
            };
            let dir = out.join(format!("{case}_{d}"));
            let _ = std::fs::remove_dir_all(&dir);
            let study = dir.join("study");
            let st = generate(*case, &o);
            let w = match write_study(&st, &study, &WriteOptions::default()) {
                Ok(w) => w,
                Err(e) => {
                    eprintln!("{case} draw {d}: {e}");
                    continue;
                }
            };
            drop(st);
            let Ok(t) = Truth::load(&w.truth_path) else {
                continue;
            };
            for (m, seeds) in [(0usize, false), (1, true)] {
                let mode = if seeds { "seeded" } else { "auto" };
                let res = analyse(&study, &dir.join(format!("out_{mode}")), &t, seeds);
                n[m] += 1;
                match res {
                    Ok(r) => {
                        right[m] += r.top_ok as usize;
                        if *case == CaseName::Normal && !r.false_present.is_empty() {
                            normal_false.push(format!("draw {d} {mode}: {}", r.false_present.join(", ")));
                        }
                        println!(
                            "| {case} | {d} | {:.2}/{:.1} mm | {mode} | {} | {} | {} |",
                            o.pixel_spacing_mm,
                            o.slice_spacing_mm,
                            r.top,
                            if r.top_ok { "yes" } else { "**no**" },
                            r.mismatched.join(" ")
                        );
                    }
                    Err(e) => println!("| {case} | {d} | | {mode} | failed: {e} | **no** | |"),
                }
            }
            // Keep the disk use small: the studies are rewritten on every run.
            if !keep {
                let _ = std::fs::remove_dir_all(&study);
            }
        }
    }
    println!();
    for (m, name) in [(0, "auto"), (1, "seeded")] {
        println!(
            "{name}: top diagnosis right {} / {} ({:.0} %)",
            right[m],
            n[m],
            100.0 * right[m] as f64 / n[m].max(1) as f64
        );
    }
    if normal_false.is_empty() {
        println!("normal draws: no sign present that the truth lacks");
    } else {
        println!(
            "normal draws with a false present sign: {}",
            normal_false.join("; ")
        );
    }
}
