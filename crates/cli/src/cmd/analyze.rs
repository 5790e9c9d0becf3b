//! `cavascope analyze STUDY_DIR --out OUT`: one study, end to end —
//! ingest → segment/measure → signs and differential → report folder.
//!
//! [`analyze_study`] is the reusable core (`batch` and the demo call it); [`run`] maps its
//! outcome to the exit codes of `shared/spec/cli.md`: 0 done, 1 the study could not be
//! analysed (reason on stderr and in `report.json` where one could be written), 2 bad
//! arguments.

use crate::args::*;
use cavascope_features::{evaluate, Thresholds};
use cavascope_ingest::{anatomy::read_anatomy, is_volume_input, load_input, IngestOptions, Study};
use cavascope_report::{build_report, failed_report, write_outputs, write_report_json, Report, Timings};
use cavascope_segment::{measure_timed, Measurements, Role, SegmentOptions};
use cavascope_volume::Anatomy;
use cavascope_volume::{Point3, Volume};
use std::path::{Path, PathBuf};
use thiserror::Error;
use tracing::{info, warn};

pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why an analysis stopped.
#[derive(Debug, Error)]
pub enum AnalyzeError {
    /// A bad argument (exit code 2).
    #[error("{0}")]
    BadArgument(String),
    /// The study could not be analysed (exit code 1). `report` is where report.json was
    /// written with the reason, if it could be.
    #[error("{path}: {reason}")]
    Study {
        path: PathBuf,
        reason: String,
        report: Option<PathBuf>,
    },
}

impl AnalyzeError {
    pub fn exit_code(&self) -> u8 {
        match self {
            AnalyzeError::BadArgument(_) => 2,
            AnalyzeError::Study { .. } => 1,
        }
    }
}

/// What one analysis produced (batch and the demo read the paths).
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct AnalysisSummary {
    pub out_dir: PathBuf,
    pub report_json: PathBuf,
    pub report_html: PathBuf,
    pub files: Vec<PathBuf>,
    pub report: Report,
}

impl AnalysisSummary {
    /// (diagnosis, score) at the top of the differential.
    pub fn top_diagnosis(&self) -> Option<(&str, f64)> {
        self.report
            .differential
            .first()
            .map(|d| (d.diagnosis.as_str(), d.score))
    }
    /// Ids of the signs found present.
    pub fn signs_present(&self) -> Vec<&str> {
        self.report
            .signs
            .iter()
            .filter(|s| s.state == "present")
            .map(|s| s.id.as_str())
            .collect()
    }
}

/// Parse `X,Y,Z` (LPS mm; negative values as written, spaces allowed).
pub fn parse_point(flag: &str, s: &str) -> Result<Point3<f64>, AnalyzeError> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let bad = || {
        AnalyzeError::BadArgument(format!(
            "--{flag} {s:?}: expected three numbers X,Y,Z in patient LPS mm, e.g. --{flag}=-24.2,-20.5,-85.1"
        ))
    };
    if parts.len() != 3 {
        return Err(bad());
    }
    let mut v = [0.0f64; 3];
    for (o, p) in v.iter_mut().zip(&parts) {
        *o = p.parse::<f64>().map_err(|_| bad())?;
        if !o.is_finite() {
            return Err(bad());
        }
    }
    Ok(Point3::new(v[0], v[1], v[2]))
}

/// Parse `SERIES_UID=ROLE`.
pub fn parse_phase(s: &str) -> Result<(String, Role), AnalyzeError> {
    let roles = || {
        Role::all()
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (uid, role) = s.split_once('=').ok_or_else(|| {
        AnalyzeError::BadArgument(format!(
            "--phase {s:?}: expected SERIES_UID=ROLE, ROLE one of {}",
            roles()
        ))
    })?;
    let uid = uid.trim();
    if uid.is_empty() {
        return Err(AnalyzeError::BadArgument(format!(
            "--phase {s:?}: empty series UID"
        )));
    }
    let role = Role::parse(role.trim()).ok_or_else(|| {
        AnalyzeError::BadArgument(format!(
            "--phase {s:?}: unknown role {:?}; one of {}",
            role.trim(),
            roles()
        ))
    })?;
    Ok((uid.to_string(), role))
}

/// The checked inputs of an analysis.
#[derive(Debug, Clone, Default)]
pub struct ParsedInputs {
    pub segment: SegmentOptions,
    pub thresholds: Thresholds,
    /// Write OUT/dicom/ (SEG + SR) too.
    pub dicom_out: bool,
    /// `--anatomy` (read once the study's grids are known).
    pub anatomy: Option<PathBuf>,
}

/// Check every argument before touching the study (a bad argument is exit 2, always).
pub fn parse_inputs(inputs: &AnalysisInputs) -> Result<ParsedInputs, AnalyzeError> {
    let mut seg = SegmentOptions::default();
    if let Some(s) = &inputs.ivc_seed {
        seg.ivc_seed = Some(parse_point("ivc-seed", s)?);
    }
    if let Some(s) = &inputs.mass_seed {
        seg.mass_seed = Some(parse_point("mass-seed", s)?);
    }
    for (flag, p) in [("ivc-mask", &inputs.ivc_mask), ("mass-mask", &inputs.mass_mask)] {
        if let Some(p) = p {
            // FILE:N (or FILE:NAME) names a label; the suffix is split off only when the
            // whole text is not itself a file.
            let (file, _label) = cavascope_ingest::labelmap::parse_spec(p);
            if !file.is_file() {
                return Err(AnalyzeError::BadArgument(format!(
                    "--{flag} {}: no such file",
                    file.display()
                )));
            }
        }
    }
    if let Some(p) = &inputs.anatomy {
        if !p.exists() {
            return Err(AnalyzeError::BadArgument(format!(
                "--anatomy {}: no such file or folder",
                p.display()
            )));
        }
    }
    seg.ivc_mask = inputs.ivc_mask.as_deref().map(cavascope_segment::read_ivc_mask);
    seg.mass_mask = inputs.mass_mask.as_deref().map(cavascope_segment::read_mass_mask);
    for p in &inputs.phase {
        seg.phase_overrides.push(parse_phase(p)?);
    }
    let thresholds = match &inputs.thresholds {
        Some(p) => Thresholds::from_toml_file(p)
            .map_err(|e| AnalyzeError::BadArgument(format!("--thresholds {e}")))?,
        None => Thresholds::default(),
    };
    Ok(ParsedInputs {
        segment: seg,
        thresholds,
        dicom_out: inputs.dicom_out,
        anatomy: inputs.anatomy.clone(),
    })
}

/// Write a report.json that says why the study could not be analysed; its path if written.
fn write_failure(out: &Path, report: &Report) -> Option<PathBuf> {
    match write_report_json(out, report) {
        Ok(p) => Some(p),
        Err(e) => {
            warn!("cannot write the failure report: {e}");
            None
        }
    }
}

/// Analyse one study folder into `out` (created if needed).
pub fn analyze_study(
    dir: &Path,
    out: &Path,
    inputs: &AnalysisInputs,
) -> Result<AnalysisSummary, AnalyzeError> {
    if !dir.is_dir() && !is_volume_input(dir) {
        return Err(AnalyzeError::BadArgument(format!(
            "{}: not a folder or a volume file (STUDY_DIR must be a folder of DICOM files, a .nii/.nii.gz/.nrrd/.nhdr file or a folder of them)",
            dir.display()
        )));
    }
    let parsed = parse_inputs(inputs)?;
    analyze_parsed(dir, out, &parsed)
}

/// As [`analyze_study`], with arguments already checked.
pub fn analyze_parsed(
    dir: &Path,
    out: &Path,
    parsed: &ParsedInputs,
) -> Result<AnalysisSummary, AnalyzeError> {
    let fail = |reason: String, report: Option<PathBuf>| AnalyzeError::Study {
        path: dir.to_path_buf(),
        reason,
        report,
    };
    std::fs::create_dir_all(out).map_err(|e| {
        fail(
            format!("cannot create output folder {}: {e}", out.display()),
            None,
        )
    })?;

    // Stage wall times for report.json `timings`.
    let started = std::time::Instant::now();
    let mut timings = Timings::default();

    // 1. Ingest.
    let mut study = match load_input(dir, &IngestOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            let reason = e.to_string();
            let r = failed_report(&dir.display().to_string(), TOOL_VERSION, &reason);
            return Err(fail(reason, write_failure(out, &r)));
        }
    };
    timings.ingest_s = started.elapsed().as_secs_f64();
    info!(
        "{}: {} files scanned, {} used, {} series",
        dir.display(),
        study.files_scanned,
        study.files_used,
        study.series.len()
    );

    // 2. Measure. The volumes are lent to the segment stage and put back in place, so the
    // report's series table keeps them without a copy.
    let had: Vec<bool> = study.series.iter().map(|s| s.volume.is_some()).collect();
    let volumes: Vec<Volume> = study.series.iter_mut().filter_map(|s| s.volume.take()).collect();
    if volumes.is_empty() {
        let (reason, r) = no_volume_report(&study, &parsed.thresholds);
        return Err(fail(reason, write_failure(out, &r)));
    }
    let (seg, anatomy_note) = segment_options(parsed, &study, &volumes)?;
    let m = match measure_guarded(&volumes, &seg) {
        Ok((m, t)) => {
            timings.phases_s = t.phases_s;
            timings.ivc_s = t.ivc_s;
            timings.mass_s = t.mass_s;
            timings.collaterals_s = t.collaterals_s;
            m
        }
        Err(what) => {
            let reason = format!("the measurement stage failed: {what}");
            let r = failed_report(&dir.display().to_string(), TOOL_VERSION, &reason);
            return Err(fail(reason, write_failure(out, &r)));
        }
    };
    let mut back = volumes.into_iter();
    for (s, h) in study.series.iter_mut().zip(&had) {
        if *h {
            s.volume = back.next();
        }
    }

    // 3. Signs and differential.
    let t = std::time::Instant::now();
    let findings = evaluate(&m, &parsed.thresholds);
    timings.features_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();

    // 4. Report.
    let warnings = study_warnings(&study, anatomy_note);
    let mut report = build_report(&study, &m, &findings, TOOL_VERSION, &warnings);
    let vol_refs: Vec<&Volume> = study.volumes().collect();
    let mut extra = Vec::new();
    let files = write_outputs(out, &report, &vol_refs, &m, &parsed.thresholds, &mut extra)
        .map_err(|e| fail(format!("cannot write the report: {e}"), None))?;
    let mut files = files;
    if parsed.dicom_out {
        // DICOM SEG + SR beside the report; one that cannot be made is a warning in
        // report.json (e.g. a study whose series carry no SOP Instance UIDs).
        let ddir = out.join("dicom");
        match cavascope_dicomout::write_dicom(&ddir, &study, &m, &parsed.thresholds, &report) {
            Ok(w) => {
                files.extend(w.seg);
                files.push(w.sr);
            }
            Err(e) => extra.push(format!("{}: DICOM SEG/SR not written: {e}", ddir.display())),
        }
    }
    for w in extra {
        if !report.warnings.contains(&w) {
            report.warnings.push(w);
        }
    }
    timings.report_s = t.elapsed().as_secs_f64();
    timings.total_s = started.elapsed().as_secs_f64();
    report.timings = Some(timings);
    let report_json =
        write_report_json(out, &report).map_err(|e| fail(format!("cannot write report.json: {e}"), None))?;
    files.push(report_json.clone());
    Ok(AnalysisSummary {
        out_dir: out.to_path_buf(),
        report_html: out.join("report.html"),
        report_json,
        files,
        report,
    })
}

/// The report of a study whose files formed no volume (no signs judged, no differential),
/// with the reason.
fn no_volume_report(study: &Study, thresholds: &Thresholds) -> (String, Report) {
    let reason = format!(
        "no image volume could be formed ({} files scanned, {} skipped, {} series)",
        study.files_scanned,
        study.skipped.len(),
        study.series.len()
    );
    let f = evaluate(&Measurements::default(), thresholds);
    let mut r = build_report(study, &Measurements::default(), &f, TOOL_VERSION, &[]);
    r.differential.clear();
    r.warnings.push(format!("study could not be analysed: {reason}"));
    r.error = Some(reason.clone());
    (reason, r)
}

/// The segment stage's options for this study: `--phase` file names turned into series
/// UIDs, `--anatomy` read onto the study's grid (with the warning line that names it).
fn segment_options(
    parsed: &ParsedInputs,
    study: &Study,
    volumes: &[Volume],
) -> Result<(SegmentOptions, Option<String>), AnalyzeError> {
    let mut seg = parsed.segment.clone();
    phase_files_to_uids(study, &mut seg.phase_overrides);
    let mut anatomy_note = None;
    if let Some(p) = &parsed.anatomy {
        let a = load_anatomy(p, volumes).map_err(AnalyzeError::BadArgument)?;
        anatomy_note = Some(format!(
            "anatomy context: {} ({} structures)",
            a.source,
            a.classes.len()
        ));
        seg.anatomy = Some(std::sync::Arc::new(a));
    }
    Ok((seg, anatomy_note))
}

/// The measuring stage, a panic inside it turned into its message, so a bug on one study
/// ends in a failure report rather than a crash.
fn measure_guarded(
    volumes: &[Volume],
    seg: &SegmentOptions,
) -> Result<(Measurements, cavascope_segment::StageTimings), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| measure_timed(volumes, seg))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown".into())
    })
}

/// Warnings the study itself gives: series with problems, the anatomy used, skipped files.
fn study_warnings(study: &Study, anatomy_note: Option<String>) -> Vec<String> {
    let mut warnings: Vec<String> = study
        .series
        .iter()
        .filter(|s| !s.problems.is_empty() && s.volume.is_some())
        .map(|s| format!("series {}: {}", s.series_instance_uid, s.problems.join("; ")))
        .collect();
    warnings.extend(anatomy_note);
    if !study.skipped.is_empty() {
        warnings.push(format!(
            "{} file(s) skipped (listed in input.files_skipped)",
            study.skipped.len()
        ));
    }
    warnings
}

/// `--phase FILE=ROLE` on a NIfTI study: a name that is no series UID but the file name (or
/// path) of a volume's file names that volume.
fn phase_files_to_uids(study: &Study, overrides: &mut [(String, Role)]) {
    for (name, _) in overrides.iter_mut() {
        if study.series.iter().any(|s| s.series_instance_uid == *name) {
            continue;
        }
        let hit = study.series.iter().find(|s| {
            s.meta.files.len() == 1
                && s.meta.files.iter().any(|f| {
                    f.file_name()
                        .is_some_and(|n| n.to_string_lossy() == name.as_str())
                        || f.as_os_str() == std::ffi::OsStr::new(name.as_str())
                })
        });
        if let Some(s) = hit {
            *name = s.series_instance_uid.clone();
        }
    }
}

/// Read `--anatomy` and put it on the grid of the study volume it was made from (same grid),
/// else of the finest volume (nearest neighbour; measurements are in world space anyway).
fn load_anatomy(path: &Path, volumes: &[Volume]) -> Result<Anatomy, String> {
    let mr = volumes.iter().all(|v| v.meta.modality.eq_ignore_ascii_case("MR"));
    let a = read_anatomy(path, None, mr).map_err(|e| format!("--anatomy {e}"))?;
    let same = volumes
        .iter()
        .any(|v| v.shape() == a.shape() && v.geometry.max_abs_diff(&a.geometry) < 1e-3);
    if same {
        return Ok(a);
    }
    let Some(target) = volumes.iter().max_by_key(|v| v.data.len()) else {
        return Ok(a);
    };
    let r = a.resampled_onto(&target.geometry, target.shape());
    if r.classes.is_empty() {
        return Err(format!(
            "--anatomy {}: no labelled voxel falls inside the study's volumes (another patient or frame?)",
            path.display()
        ));
    }
    Ok(r)
}

pub fn run(g: &Global, a: AnalyzeArgs) -> u8 {
    match analyze_study(&a.study_dir, &a.out, &a.inputs) {
        Ok(s) => {
            if a.json {
                match serde_json::to_string_pretty(&s.report) {
                    Ok(j) => println!("{j}"),
                    Err(e) => {
                        eprintln!("cavascope analyze: cannot print report.json: {e}");
                        return 1;
                    }
                }
            }
            if !g.quiet {
                let top = s
                    .top_diagnosis()
                    .map(|(d, p)| format!("{d} ({p:.2})"))
                    .unwrap_or_else(|| "—".into());
                eprintln!(
                    "cavascope analyze: {} — top of the differential: {top}; signs present: {}",
                    s.report_html.display(),
                    {
                        let p = s.signs_present();
                        if p.is_empty() {
                            "none".to_string()
                        } else {
                            p.join(", ")
                        }
                    }
                );
                eprintln!("Research aid: biopsy decides.");
            }
            0
        }
        Err(e) => {
            eprintln!("cavascope analyze: {e}");
            if let AnalyzeError::Study { report: Some(p), .. } = &e {
                eprintln!("cavascope analyze: the reason is also in {}", p.display());
            }
            e.exit_code()
        }
    }
}
