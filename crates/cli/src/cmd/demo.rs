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

    // The analysis is the same call `cavascope analyze` makes, in auto mode (no seeds).
    let out = root.join("report");
    let inputs = AnalysisInputs {
        ivc_seed: None,
        mass_seed: None,
        ivc_mask: None,
        mass_mask: None,
        anatomy: None,
        phase: Vec::new(),
        thresholds: None,
        dicom_out: false,
    };
    let t1 = std::time::Instant::now();
    if !g.quiet {
        eprintln!("cavascope demo: analysing {} …", study_dir.display());
    }
    match super::analyze::analyze_study(&study_dir, &out, &inputs) {
        Ok(s) => {
            println!("analysis:      {:.1} s", t1.elapsed().as_secs_f64());
            if let Some((d, p)) = s.top_diagnosis() {
                println!("top of the differential: {d} ({p:.2}) — a research aid; biopsy decides");
            }
            println!("signs present: {}", s.signs_present().join(", "));
            println!("report:        {}", s.report_html.display());
            println!("report.json:   {}", s.report_json.display());
            println!("compare with the truth: {}", written.truth_path.display());
        }
        Err(e) => {
            eprintln!("cavascope demo: analysis failed: {e}");
            return e.exit_code();
        }
    }
    0
}
