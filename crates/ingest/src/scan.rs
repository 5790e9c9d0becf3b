//! Recursive folder walk: every regular file at any depth, in a stable order.

use crate::{IngestError, SkippedFile};
use std::path::{Path, PathBuf};

/// Names that are never images: skipped without opening them.
fn is_index_file(name: &str) -> bool {
    name.eq_ignore_ascii_case("DICOMDIR")
}

/// All regular files under `dir` (symbolic links are not followed, so a link loop cannot
/// trap the walk), sorted by path. Unreadable entries become skipped files.
pub fn scan(dir: &Path) -> Result<(Vec<PathBuf>, Vec<SkippedFile>), IngestError> {
    std::fs::read_dir(dir).map_err(|source| IngestError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(false) {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                if is_index_file(&e.file_name().to_string_lossy()) {
                    skipped.push(SkippedFile {
                        path: e.into_path(),
                        reason: "DICOMDIR index, not an image".into(),
                    });
                } else {
                    files.push(e.into_path());
                }
            }
            Ok(_) => {}
            Err(err) => skipped.push(SkippedFile {
                path: err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| dir.to_path_buf()),
                reason: format!("cannot read: {err}"),
            }),
        }
    }
    files.sort();
    Ok((files, skipped))
}
