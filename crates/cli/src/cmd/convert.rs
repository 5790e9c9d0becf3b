//! `cavascope convert STUDY_DIR --out DIR [--uncompressed]`: each volume as NIfTI
//! (`.nii.gz`, qform = sform = scanner RAS like dcm2niix) plus a JSON sidecar: BIDS keys
//! as dcm2niix writes them (`cavascope_volume::bids`), then cavascope's own snake_case
//! keys (`series_instance_uid`, `affine_lps`, `affine_ras`, `slice_positions_mm`, …).
//!
//! File names come from the series number and a sanitised description (ASCII letters,
//! digits, `-` and `_` only), so no text from a DICOM header can name a path outside DIR.
//! Every file is written to a temporary name and renamed.

use crate::args::*;
use crate::cmd::inspect::series_json;
use cavascope_ingest::export::plan_study;
use cavascope_ingest::{IngestOptions, Series};
use cavascope_volume::bids;
use std::collections::HashSet;
use std::path::Path;

pub fn run(_g: &Global, a: ConvertArgs) -> u8 {
    // Headers and plans only: each series is then streamed from its files into the NIfTI
    // file (cavascope_ingest::export), never held in memory as a whole volume.
    let planned = match plan_study(&a.study_dir, &IngestOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cavascope convert: {e}");
            return 1;
        }
    };
    let study = &planned.study;
    let mut skipped = study.skipped.clone();
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("cavascope convert: {}: {e}", a.out.display());
        return 1;
    }
    let ext = if a.uncompressed { "nii" } else { "nii.gz" };
    let mut taken = HashSet::new();
    let mut written = 0usize;
    let mut failed = false;
    for (index, s) in study.series.iter().enumerate() {
        let Some(geometry) = &s.geometry else {
            eprintln!(
                "series {} ({}): no volume: {}",
                s.meta
                    .series_number
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "-".into()),
                s.series_instance_uid,
                s.problems.last().map(String::as_str).unwrap_or("not decoded")
            );
            continue;
        };
        let stem = unique(base_name(s), &mut taken);
        let nii = a.out.join(format!("{stem}.{ext}"));
        let json = a.out.join(format!("{stem}.json"));
        let s = match planned.write_nifti(index, &nii) {
            Ok(done) => {
                skipped.extend(done.skipped);
                done.series
            }
            // Undecodable pixels: reported, as a series without geometry is (not a failure of convert).
            Err(cavascope_ingest::IngestError::NoVolume {
                series_uid,
                why,
                skipped: bad,
            }) => {
                eprintln!("series {series_uid}: {why}");
                skipped.extend(bad);
                continue;
            }
            Err(e) => {
                eprintln!("cavascope convert: {e}");
                failed = true;
                continue;
            }
        };
        let geometry = s.geometry.as_ref().unwrap_or(geometry);
        // BIDS keys (dcm2niix's names and units) and cavascope's own snake_case keys.
        let (r, c) = (geometry.direction(0), geometry.direction(1));
        let mut side =
            serde_json::Value::Object(bids::bids_fields(&s.meta, Some([r.x, r.y, r.z, c.x, c.y, c.z])));
        if let (Some(o), serde_json::Value::Object(ours)) = (side.as_object_mut(), series_json(&s)) {
            o.extend(ours);
            o.insert("affine_ras".into(), serde_json::json!(ras_rows(geometry)));
            o.insert(
                "slice_positions_mm".into(),
                serde_json::json!(s.slice_positions_mm),
            );
            o.insert("meta".into(), serde_json::to_value(&s.meta).unwrap_or_default());
            o.insert(
                "converter".into(),
                serde_json::json!(concat!("cavascope ", env!("CARGO_PKG_VERSION"))),
            );
        }
        if let Err(e) = write_json(&json, &side) {
            eprintln!("cavascope convert: {}: {e}", json.display());
            failed = true;
            continue;
        }
        written += 1;
        println!(
            "{}  {}×{}×{}  {}",
            nii.display(),
            s.dims[0],
            s.dims[1],
            s.dims[2],
            s.problems.join("; ")
        );
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    for sk in &skipped {
        eprintln!("skipped {}: {}", sk.path.display(), sk.reason);
    }
    println!("{written} volume(s) written to {}", a.out.display());
    if failed || written == 0 {
        1
    } else {
        0
    }
}

fn ras_rows(g: &cavascope_volume::Geometry) -> [[f64; 4]; 4] {
    let m = g.to_ras_affine();
    let mut r = [[0.0; 4]; 4];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = m[(i, j)];
        }
    }
    r
}

/// Only `[A-Za-z0-9_-]`, at most 48 characters: safe on every file system.
pub fn sanitize(text: &str) -> String {
    let mut out = String::new();
    let mut last_us = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c);
            last_us = false;
        } else if !last_us && !out.is_empty() {
            out.push('_');
            last_us = true;
        }
        if out.len() >= 48 {
            break;
        }
    }
    out.trim_end_matches('_').to_string()
}

fn base_name(s: &Series) -> String {
    let mut name = match s.meta.series_number {
        Some(n) => format!("{n:03}"),
        None => "series".to_string(),
    };
    let d = sanitize(s.description.as_deref().unwrap_or(""));
    if !d.is_empty() {
        name.push('_');
        name.push_str(&d);
    }
    if s.kind != "primary" {
        name.push('_');
        name.push_str(&s.kind);
    }
    if let Some(t) = s.meta.temporal_index {
        name.push_str(&format!("_t{t}"));
    }
    name
}

fn unique(base: String, taken: &mut HashSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

fn write_json(path: &Path, v: &serde_json::Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape() {
        assert_eq!(sanitize("../../etc/passwd"), "etc_passwd");
        assert_eq!(sanitize("AX T1 post/Gd (arterial)"), "AX_T1_post_Gd_arterial");
        assert_eq!(sanitize("..."), "");
        assert!(sanitize(&"x".repeat(500)).len() <= 48);
        let mut t = HashSet::new();
        assert_eq!(unique("a".into(), &mut t), "a");
        assert_eq!(unique("a".into(), &mut t), "a_2");
    }
}
