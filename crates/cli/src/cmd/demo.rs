//! `cavascope` with no arguments: generate the `ivc_leiomyosarcoma` phantom into
//! `./cavascope-demo/study`, analyse it, and print where everything is.
use crate::args::*;
use cavascope_phantom::{CaseName, PhantomOptions, WriteOptions};
use std::path::PathBuf;

/// Where the demo writes.
pub fn demo_root() -> PathBuf {
    PathBuf::from("cavascope-demo")
}

pub fn run(g: &Global) -> u8 {
    let root = demo_root();
    let study_dir = root.join("study");
    let case = CaseName::IvcLeiomyosarcoma;
    let opts = PhantomOptions::standard();
    let t0 = std::time::Instant::now();
    if !g.quiet {
        eprintln!(
            "cavascope demo: generating the {} phantom (4-phase CT, {}x{}x{}) …",
            case, opts.cols, opts.rows, opts.slices
        );
    }
    let written = match super::phantom::make(case, &opts, &study_dir, &WriteOptions::default()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("cavascope demo: could not write the phantom study: {e}");
            return 1;
        }
    };
    println!(
        "phantom study: {} ({} series) in {:.1} s",
        written.dir.display(),
        written.series_files.len(),
        t0.elapsed().as_secs_f64()
    );
    println!("ground truth:  {}", written.truth_path.display());

    // ---- ANALYSIS STEP (lead / report engineer) -------------------------------------
    // Analyse `study_dir` into `root.join("report")` here (the same call `cavascope
    // analyze` makes) and print where report.html / report.json are. Until then the
    // demo stops after generating the study.
    // -----------------------------------------------------------------------------------
    println!(
        "analyse it with: cavascope analyze {} --out {}",
        study_dir.display(),
        root.join("report").display()
    );
    0
}
