//! `cavascope inspect STUDY_DIR [--json]`: the series a folder holds and the files skipped,
//! from the headers alone (no pixel data is decoded, so it is fast on large studies).
//!
//! Patient names and IDs are never read into the output.

use crate::args::*;
use cavascope_ingest::{load_input, IngestOptions, Series, Study};
use serde_json::json;

pub fn run(_g: &Global, a: InspectArgs) -> u8 {
    let opts = IngestOptions {
        decode_pixels: false,
        ..Default::default()
    };
    let study = match load_input(&a.study_dir, &opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cavascope inspect: {e}");
            return 1;
        }
    };
    if a.json {
        match serde_json::to_string_pretty(&study_json(&study)) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("cavascope inspect: {e}");
                return 1;
            }
        }
    } else {
        print!("{}", table(&study));
    }
    0
}

/// JSON form of one series (shared with `convert`'s sidecars).
pub fn series_json(s: &Series) -> serde_json::Value {
    json!({
        "series_instance_uid": s.series_instance_uid,
        "series_number": s.meta.series_number,
        "modality": s.modality,
        "kind": s.kind,
        "description": s.description,
        "dims": s.dims,
        "spacing_mm": s.spacing_mm,
        "n_files": s.n_files,
        "problems": s.problems,
        "affine_lps": s.geometry.as_ref().map(|g| g.affine_rows().0),
        "tilt_deg": s.tilt_deg,
        "duplicates_dropped": s.duplicates_dropped,
        "transfer_syntaxes": s.transfer_syntaxes,
        "temporal_index": s.meta.temporal_index,
        "acquisition_time_s": s.meta.acquisition_time_s,
        "echo_time_ms": s.meta.echo_time_ms,
        "b_value": s.meta.b_value,
        "image_type": s.meta.image_type,
    })
}

pub fn study_json(study: &Study) -> serde_json::Value {
    json!({
        "root": study.root,
        "files_scanned": study.files_scanned,
        "files_used": study.files_used,
        "series": study.series.iter().map(series_json).collect::<Vec<_>>(),
        "skipped": study.skipped,
    })
}

fn table(study: &Study) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{}: {} files, {} used, {} series, {} skipped\n\n",
        study.root.display(),
        study.files_scanned,
        study.files_used,
        study.series.len(),
        study.skipped.len()
    ));
    let header = [
        "#",
        "uid",
        "mod",
        "kind",
        "description",
        "dims",
        "spacing mm",
        "files",
        "problems",
    ];
    let mut rows: Vec<[String; 9]> = Vec::new();
    for s in &study.series {
        rows.push([
            s.meta
                .series_number
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            s.series_instance_uid.clone(),
            s.modality.clone(),
            s.kind.clone(),
            s.description
                .clone()
                .unwrap_or_default()
                .chars()
                .take(32)
                .collect(),
            format!("{}×{}×{}", s.dims[0], s.dims[1], s.dims[2]),
            format!(
                "{:.3}×{:.3}×{:.3}",
                s.spacing_mm[0], s.spacing_mm[1], s.spacing_mm[2]
            ),
            s.n_files.to_string(),
            if s.problems.is_empty() {
                "-".into()
            } else {
                s.problems.len().to_string()
            },
        ]);
    }
    let mut w = header.map(|h| h.chars().count());
    for r in &rows {
        for (c, v) in r.iter().enumerate() {
            w[c] = w[c].max(v.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let mut l = cells
            .iter()
            .enumerate()
            .map(|(c, v)| format!("{v}{}", " ".repeat(w[c] - v.chars().count())))
            .collect::<Vec<_>>()
            .join("  ");
        l.truncate(l.trim_end().len());
        l + "\n"
    };
    out.push_str(&line(header.iter().map(|h| h.to_string()).collect()));
    for r in &rows {
        out.push_str(&line(r.to_vec()));
    }
    let with_problems: Vec<&Series> = study.series.iter().filter(|s| !s.problems.is_empty()).collect();
    if !with_problems.is_empty() {
        out.push_str("\nproblems:\n");
        for s in with_problems {
            let n = s
                .meta
                .series_number
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into());
            for p in &s.problems {
                out.push_str(&format!("  #{n} {}: {p}\n", short_uid(&s.series_instance_uid)));
            }
        }
    }
    if !study.skipped.is_empty() {
        out.push_str("\nskipped files:\n");
        for s in &study.skipped {
            let p = s.path.strip_prefix(&study.root).unwrap_or(&s.path);
            out.push_str(&format!("  {}: {}\n", p.display(), s.reason));
        }
    }
    out
}

fn short_uid(uid: &str) -> String {
    let n = uid.chars().count();
    if n <= 16 {
        uid.to_string()
    } else {
        format!("…{}", uid.chars().skip(n - 15).collect::<String>())
    }
}
