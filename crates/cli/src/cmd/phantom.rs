//! `cavascope phantom`: write a phantom study (DICOM) and its truth.json.
use crate::args::*;
use cavascope_phantom::{
    generate, hybrid, write_study, CaseName, Naming, PhantomOptions, TransferSyntax, WriteOptions,
    WrittenStudy,
};
use std::path::Path;

/// Options for `--size`.
pub fn options_for_size(size: &str) -> Option<PhantomOptions> {
    match size.trim().to_ascii_lowercase().as_str() {
        "small" => Some(PhantomOptions::small()),
        "standard" => Some(PhantomOptions::standard()),
        "clinical" => Some(PhantomOptions::clinical()),
        _ => None,
    }
}

/// The case names, comma-separated (for error messages).
pub fn known_cases() -> String {
    CaseName::all()
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Generate `case` and write it to `out`; prints nothing.
pub fn make(
    case: CaseName,
    opts: &PhantomOptions,
    out: &Path,
    w: &WriteOptions,
) -> Result<WrittenStudy, cavascope_phantom::PhantomError> {
    let study = generate(case, opts);
    write_study(&study, out, w)
}

/// The hybrid phantom: `case` painted on a real CT and its TotalSegmentator labels.
pub fn make_hybrid(
    case: CaseName,
    ct: &Path,
    labels: &Path,
    seed: u64,
    out: &Path,
    w: &WriteOptions,
) -> Result<WrittenStudy, cavascope_phantom::PhantomError> {
    let bg = cavascope_phantom::Background::load(ct, labels)?;
    let mut study = cavascope_phantom::generate_hybrid(case, &bg, seed)?;
    study.truth.notes.push(format!(
        "label maps of the painted study: {} (TotalSegmentator total class ids: the painted IVC as 63, the mass unlabelled; for --anatomy / --ivc-mask {}:63){}",
        hybrid::LABELS_FILE,
        hybrid::LABELS_FILE,
        if study.labels.mass.is_some() {
            format!(", {} (the painted mass, for --mass-mask)", hybrid::MASS_FILE)
        } else {
            String::new()
        }
    ));
    let written = write_study(&study, out, w)?;
    hybrid::write_labels(&bg, &study, out)?;
    Ok(written)
}

pub fn run(_g: &Global, a: PhantomArgs) -> u8 {
    let Some(case) = CaseName::parse(&a.case) else {
        eprintln!(
            "cavascope phantom: unknown case {:?}; known: {}",
            a.case,
            known_cases()
        );
        return 2;
    };
    if a.background.is_some() && !cavascope_phantom::hybrid::supports(case) {
        eprintln!(
            "cavascope phantom: case {case} is not available on a real background (normal, ivc_leiomyosarcoma, extrinsic_compression, liposarcoma are)"
        );
        return 2;
    }
    let Some(mut opts) = options_for_size(&a.size) else {
        eprintln!(
            "cavascope phantom: --size must be small, standard or clinical, not {:?}",
            a.size
        );
        return 2;
    };
    let Some(ts) = TransferSyntax::parse(&a.transfer_syntax) else {
        eprintln!(
            "cavascope phantom: --transfer-syntax must be explicit, implicit, deflate or jpegls, not {:?}",
            a.transfer_syntax
        );
        return 2;
    };
    let Some(naming) = Naming::parse(&a.naming) else {
        eprintln!(
            "cavascope phantom: --naming must be ordered or pacs, not {:?}",
            a.naming
        );
        return 2;
    };
    opts.seed = a.seed;
    if let Some(n) = a.slices {
        if a.background.is_some() {
            eprintln!(
                "cavascope phantom: --slices does not apply to --background (the real CT's grid is kept)"
            );
            return 2;
        }
        if n == 0 || opts.cols * opts.rows * n > PhantomOptions::MAX_VOXELS {
            eprintln!(
                "cavascope phantom: --slices must be 1 to {} on this grid, not {n}",
                PhantomOptions::MAX_VOXELS / (opts.cols * opts.rows)
            );
            return 2;
        }
        // Same z coverage centre; the slice spacing stays the preset's.
        opts.slices = n;
    }
    if let Some(n) = a.noise {
        if !(n.is_finite() && n >= 0.0) {
            eprintln!("cavascope phantom: --noise must be a non-negative number");
            return 2;
        }
        opts.mr_noise_sd = opts.mr_noise_sd * n / opts.noise_sd.max(1e-6);
        opts.noise_sd = n;
    }
    let w = WriteOptions {
        transfer_syntax: ts,
        naming,
        junk: a.junk,
        signed_ct: false,
    };
    let t0 = std::time::Instant::now();
    let made = match (&a.background, &a.labels) {
        (Some(ct), Some(seg)) => make_hybrid(case, ct, seg, a.seed, &a.out, &w),
        _ => make(case, &opts, &a.out, &w),
    };
    match made {
        Ok(ws) => {
            let n: usize = ws.series_files.iter().map(|f| f.len()).sum();
            println!(
                "wrote {} ({} series, {} images{}) to {} in {:.1} s",
                case,
                ws.series_files.len(),
                n,
                if ws.junk_files.is_empty() {
                    String::new()
                } else {
                    format!(", {} junk files", ws.junk_files.len())
                },
                ws.dir.display(),
                t0.elapsed().as_secs_f64()
            );
            println!("truth: {}", ws.truth_path.display());
            0
        }
        Err(e) => {
            eprintln!("cavascope phantom: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(case: &str, out: &Path) -> PhantomArgs {
        PhantomArgs {
            case: case.into(),
            out: out.to_path_buf(),
            seed: 3,
            size: "small".into(),
            transfer_syntax: "implicit".into(),
            naming: "pacs".into(),
            junk: false,
            noise: Some(0.0),
            slices: None,
            background: None,
            labels: None,
        }
    }

    fn global() -> Global {
        Global {
            threads: None,
            quiet: true,
            verbose: 0,
        }
    }

    #[test]
    fn writes_a_study_with_truth_and_refuses_bad_arguments() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("p");
        assert_eq!(run(&global(), args("hcc_washout", &out)), 0);
        let t = cavascope_phantom::Truth::load(&out.join("truth.json")).unwrap();
        assert_eq!(t.case, CaseName::HccWashout);
        assert_eq!(t.seed, 3);
        assert_eq!(t.grid.dims, [192, 192, 100]);
        let files = std::fs::read_dir(out.join("DICOM")).unwrap().count();
        assert!(files > 0);
        assert_eq!(run(&global(), args("lms", &out)), 2);
        let mut a = args("normal", &out);
        a.transfer_syntax = "jpeg2000".into();
        assert_eq!(run(&global(), a), 2);
        let mut a = args("normal", &out);
        a.size = "huge".into();
        assert_eq!(run(&global(), a), 2);
        // --slices: the grid's slice count, the preset's spacing and centre.
        let thin = tmp.path().join("thin");
        let mut a = args("normal", &thin);
        a.slices = Some(24);
        assert_eq!(run(&global(), a), 0);
        let t = cavascope_phantom::Truth::load(&thin.join("truth.json")).unwrap();
        assert_eq!(t.grid.dims, [192, 192, 24]);
        for bad in [0, PhantomOptions::MAX_VOXELS] {
            let mut a = args("normal", &thin);
            a.slices = Some(bad);
            assert_eq!(run(&global(), a), 2, "--slices {bad}");
        }
        let c = options_for_size("clinical").unwrap();
        assert_eq!((c.cols, c.rows, c.slices), (512, 512, 300));
        assert_eq!((c.pixel_spacing_mm, c.slice_spacing_mm), (0.75, 1.0));
    }
}
