//! Mutation test: a few thousand damaged copies (bytes flipped, truncated, spliced,
//! blocks overwritten or repeated) of phantom files in four transfer syntaxes, crafted
//! files and, when cached, the public corpus (shared/test-corpus.md), loaded the way
//! `inspect` and `analyze` load a study. No panic, no hang, and every file is either used
//! (in a volume or a series) or skipped with a reason. A tenth of the folders also go
//! through the `cavascope inspect` and `analyze` binaries.

mod reliability_support;

use cavascope_ingest::{load_study, IngestOptions, Study};
use reliability_support::*;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const FOLDERS: usize = 100;
const PER_FOLDER: usize = 30;
/// Time one damaged folder may take in process before it counts as a hang.
const HANG_S: u64 = 30;
/// The whole test's budget (it takes about a minute when every file costs what its size
/// suggests): past it, the slowness is the finding and the test stops there.
const BUDGET_S: u64 = 150;

/// splitmix64: a fixed, dependency-free generator, so a failing mutant can be remade.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, a: &[u8], b: &[u8]) -> (Vec<u8>, String) {
    let mut v = a.to_vec();
    if v.is_empty() {
        return (b.to_vec(), "empty seed".into());
    }
    // Damage lands near the header more often: that is where the decisions are made.
    let pos = |rng: &mut Rng, len: usize| {
        if rng.below(2) == 0 {
            rng.below(len.min(1024))
        } else {
            rng.below(len)
        }
    };
    match rng.below(6) {
        0 => {
            let n = 1 + rng.below(16);
            for _ in 0..n {
                let i = pos(rng, v.len());
                v[i] ^= 1 << rng.below(8);
            }
            (v, format!("{n} bits flipped"))
        }
        1 => {
            let at = pos(rng, v.len());
            v.truncate(at);
            (v, format!("truncated at {at}"))
        }
        2 => {
            let at = pos(rng, v.len());
            let from = rng.below(b.len().max(1));
            v.truncate(at);
            v.extend_from_slice(&b[from.min(b.len())..]);
            (v, format!("spliced at {at} with other[{from}..]"))
        }
        3 => {
            let at = pos(rng, v.len());
            let n = (1 + rng.below(64)).min(v.len() - at);
            let byte = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)];
            v[at..at + n].fill(byte);
            (v, format!("{n} bytes at {at} set to {byte:#x}"))
        }
        4 => {
            // Lengths are the most dangerous bytes: write a big value at a random place.
            let at = pos(rng, v.len().saturating_sub(4).max(1));
            let val: u32 = [0xFFFF_FFFF, 0xFFFF_FFF0, 0x7FFF_FFFF, 0x8000_0000, 0x0001_0000][rng.below(5)];
            let end = (at + 4).min(v.len());
            let n = end - at;
            v[at..end].copy_from_slice(&val.to_le_bytes()[..n]);
            (v, format!("u32 {val:#x} written at {at}"))
        }
        _ => {
            let at = pos(rng, v.len());
            let n = (1 + rng.below(256)).min(v.len() - at);
            let chunk = v[at..at + n].to_vec();
            let times = 1 + rng.below(8);
            for _ in 0..times {
                v.splice(at..at, chunk.iter().copied());
            }
            (v, format!("{n} bytes at {at} repeated {times}x"))
        }
    }
}

/// Seed files: phantom slices in four transfer syntaxes, crafted slices, and corpus files.
fn seeds(scratch: &Path) -> Vec<(String, Vec<u8>)> {
    use cavascope_phantom::{generate, write_study, CaseName, PhantomOptions, TransferSyntax, WriteOptions};
    let mut out = Vec::new();
    let mut opts = PhantomOptions::small();
    opts.cols = 48;
    opts.rows = 48;
    opts.pixel_spacing_mm = 8.0;
    opts.slices = 12;
    opts.slice_spacing_mm = 20.0;
    let study = generate(CaseName::IvcLeiomyosarcoma, &opts);
    for ts in [
        TransferSyntax::ExplicitLE,
        TransferSyntax::ImplicitLE,
        TransferSyntax::Deflate,
        TransferSyntax::JpegLsLossless,
    ] {
        let dir = scratch.join(format!("phantom-{ts:?}"));
        let w = WriteOptions {
            transfer_syntax: ts,
            ..Default::default()
        };
        let written = write_study(&study, &dir, &w).expect("phantom");
        for files in written.series_files.iter() {
            for f in files.iter().take(3) {
                out.push((format!("{ts:?}/{}", f.display()), std::fs::read(f).unwrap()));
            }
        }
    }
    let crafted = scratch.join("crafted.dcm");
    Slice::axial(1, 0).write(&crafted);
    out.push(("crafted".into(), std::fs::read(&crafted).unwrap()));
    if let Some(corpus) = corpus_dir() {
        // DICOM files under 256 KiB, sampled evenly over the packages (not the first 200).
        let eligible: Vec<PathBuf> = files_under(&corpus)
            .into_iter()
            .filter(|f| std::fs::metadata(f).is_ok_and(|m| m.len() < 256 * 1024))
            .filter(|f| {
                let dcm = f.extension().is_some_and(|e| e.eq_ignore_ascii_case("dcm"));
                dcm || std::fs::read(f).is_ok_and(|b| b.get(128..132) == Some(&b"DICM"[..]))
            })
            .collect();
        // The pinned corpus holds several hundred small DICOM files: far fewer means the
        // cache is incomplete and the mutation would run on a thin sample.
        assert!(
            eligible.len() >= 200,
            "only {} small DICOM files in the corpus at {}",
            eligible.len(),
            corpus.display()
        );
        let step = (eligible.len() / 200).max(1);
        let picked: Vec<&PathBuf> = eligible.iter().step_by(step).take(200).collect();
        for f in &picked {
            out.push((f.display().to_string(), std::fs::read(f).unwrap()));
        }
        eprintln!(
            "mutation: {} of {} corpus files from {}",
            picked.len(),
            eligible.len(),
            corpus.display()
        );
    }
    out
}

/// Every file of `dir` is used (listed by a series) or skipped with a reason; duplicates
/// dropped on purpose are the only others.
fn assert_accounted(dir: &Path, study: &Study, decoded: bool, log: &str) {
    let mut accounted: BTreeSet<PathBuf> = BTreeSet::new();
    for s in &study.skipped {
        assert!(
            !s.reason.trim().is_empty(),
            "{}: skipped without reason\n{log}",
            s.path.display()
        );
        accounted.insert(s.path.clone());
    }
    let mut dups = 0;
    for s in &study.series {
        accounted.extend(s.meta.files.iter().cloned());
        if let Some(v) = &s.volume {
            accounted.extend(v.meta.files.iter().cloned());
        } else if decoded {
            // Headers only, no series has a volume; decoded, a missing one needs a reason.
            assert!(
                !s.problems.is_empty(),
                "series without volume and without a reason\n{log}"
            );
        }
        dups += s.duplicates_dropped;
    }
    let all = files_under(dir);
    let missing: Vec<_> = all.iter().filter(|f| !accounted.contains(*f)).collect();
    assert!(
        missing.len() <= dups,
        "{} file(s) neither used nor skipped ({} duplicates dropped): {:?}\n{log}",
        missing.len(),
        dups,
        missing.iter().take(5).collect::<Vec<_>>()
    );
    assert_eq!(study.files_scanned, all.len(), "files scanned\n{log}");
}

/// Load with a time limit and panics caught; the failure message names the mutants.
fn load_guarded(dir: &Path, opts: IngestOptions) -> Result<Study, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.to_path_buf();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load_study(&d, &opts)));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(HANG_S)) {
        Ok(Ok(Ok(study))) => Ok(study),
        Ok(Ok(Err(e))) => Err(format!("study error: {e}")),
        Ok(Err(p)) => Err(format!(
            "PANIC: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
        Err(_) => Err(format!("HANG: more than {HANG_S} s")),
    }
}

#[test]
fn mutated_files_never_crash_and_are_all_accounted_for() {
    let scratch = tempfile::tempdir().unwrap();
    let seeds = seeds(scratch.path());
    assert!(seeds.len() >= 40, "too few seeds: {}", seeds.len());
    let root = scratch.path().join("mutants");
    let mut rng = Rng(0x00CA_7A5C_0BE5_EED5);
    let mut failures = Vec::new();
    let mut skipped_total = 0;
    let mut used_total = 0;
    let t0 = std::time::Instant::now();
    for folder in 0..FOLDERS {
        if t0.elapsed().as_secs() > BUDGET_S {
            failures.push(format!(
                "too slow: {folder} of {FOLDERS} folders in {:.0} s (budget {BUDGET_S} s)",
                t0.elapsed().as_secs_f64()
            ));
            break;
        }
        let dir = root.join(format!("m{folder:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut log = String::new();
        for i in 0..PER_FOLDER {
            let a = &seeds[rng.below(seeds.len())];
            let b = &seeds[rng.below(seeds.len())];
            let (bytes, what) = mutate(&mut rng, &a.1, &b.1);
            let name = format!("f{i:02}.dcm");
            log.push_str(&format!("  {name}: {} — {what}\n", a.0));
            std::fs::write(dir.join(&name), bytes).unwrap();
        }
        let log = format!("folder {}:\n{log}", dir.display());
        for decode in [false, true] {
            let opts = IngestOptions {
                decode_pixels: decode,
                ..Default::default()
            };
            match load_guarded(&dir, opts) {
                Ok(study) => {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        assert_accounted(&dir, &study, decode, &log)
                    }));
                    if r.is_err() {
                        failures.push(format!("accounting (decode {decode})\n{log}"));
                    }
                    if decode {
                        skipped_total += study.skipped.len();
                        used_total += study.files_used;
                    }
                }
                Err(e) => failures.push(format!("{e} (decode {decode})\n{log}")),
            }
        }
        if folder % 10 == 0 {
            let out = scratch.path().join(format!("out{folder}"));
            for args in [
                vec![OsStr::new("inspect"), dir.as_os_str()],
                vec![
                    OsStr::new("analyze"),
                    dir.as_os_str(),
                    OsStr::new("--out"),
                    out.as_os_str(),
                ],
            ] {
                let res = run_limited(&args, 120);
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    assert_clean_exit(&res, "binary")
                }))
                .is_err()
                {
                    failures.push(format!(
                        "{:?}: {:?}\n{}\n{log}",
                        args[0],
                        res.status,
                        String::from_utf8_lossy(&res.stderr)
                    ));
                }
            }
        }
        if !failures.is_empty() {
            // Keep the folder for a look, outside the temporary tree.
            let keep = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join("mutation-failures")
                .join(format!("m{folder:03}"));
            let _ = std::fs::remove_dir_all(&keep);
            copy_tree(&dir, &keep);
            break;
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!(
        "mutation: {} files used, {skipped_total} skipped with a reason",
        used_total
    );
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
    // The mutants are not all trivially rejected: some still form volumes.
    assert!(
        used_total > 0,
        "no mutant was usable: the mutations are too coarse to test anything"
    );
}
