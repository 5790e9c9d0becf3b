//! Output files and folders that appear whole or not at all: written under a temporary
//! name in the same folder, then renamed (a rename within one file system is atomic).

use super::BatchError;
use std::path::{Path, PathBuf};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BatchError + '_ {
    move |source| BatchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `bytes` to `path` through a temporary file beside it (the report crate's writer,
/// so every output of cavascope is published the same way).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BatchError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    cavascope_report::write_atomic(parent, &name, bytes)?;
    Ok(())
}

/// Remove temporaries of `path` that a killed run left (`.<name>.<random>.tmp` beside it,
/// as [`write_atomic`] names them). Only this file's own: a concurrent shard writes a
/// summary of another name.
pub fn remove_stale_temps(path: &Path) -> Result<(), BatchError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(());
    };
    let prefix = format!(".{name}.");
    for e in std::fs::read_dir(parent).map_err(io(parent))?.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&prefix) && n.ends_with(".tmp") {
            let p = e.path();
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
    }
    Ok(())
}

/// The folder a study is written into before it is renamed to its final name.
pub fn partial_dir(out: &Path, name: &str) -> PathBuf {
    out.join(format!(".{name}.partial"))
}

fn old_dir(out: &Path, name: &str) -> PathBuf {
    out.join(format!(".{name}.old"))
}

/// Remove what a killed run of this study left: a half-written folder, and a previous
/// result moved aside but not yet deleted (put back when the final folder is missing).
pub fn clean_leftovers(out: &Path, name: &str) -> Result<(), BatchError> {
    let partial = partial_dir(out, name);
    if partial.symlink_metadata().is_ok() {
        // remove_dir_all removes a symlink itself, never what it points to.
        std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
    }
    let old = old_dir(out, name);
    let fin = out.join(name);
    if old.symlink_metadata().is_ok() {
        if fin.symlink_metadata().is_ok() {
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        } else {
            std::fs::rename(&old, &fin).map_err(io(&fin))?;
        }
    }
    Ok(())
}

/// Put the finished `partial` folder in place of `OUT/name`, replacing an earlier result.
pub fn publish_dir(out: &Path, name: &str) -> Result<PathBuf, BatchError> {
    let partial = partial_dir(out, name);
    let fin = out.join(name);
    let old = old_dir(out, name);
    let had_old = fin.symlink_metadata().is_ok();
    if had_old {
        std::fs::rename(&fin, &old).map_err(io(&fin))?;
    }
    std::fs::rename(&partial, &fin).map_err(io(&fin))?;
    if had_old {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(fin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("summary.csv");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn stale_temporaries_of_one_file_only() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("summary.csv");
        std::fs::write(d.path().join(".summary.csv.Ab12Cd.tmp"), b"half").unwrap();
        std::fs::write(
            d.path().join(".summary-shard-1-of-2.csv.Xy34Zw.tmp"),
            b"other shard",
        )
        .unwrap();
        remove_stale_temps(&p).unwrap();
        let left: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, [".summary-shard-1-of-2.csv.Xy34Zw.tmp"]);
    }

    #[test]
    fn publish_replaces_previous_and_leftovers_are_cleaned() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path();
        std::fs::create_dir_all(partial_dir(out, "s")).unwrap();
        std::fs::write(partial_dir(out, "s").join("a"), b"1").unwrap();
        publish_dir(out, "s").unwrap();
        std::fs::create_dir_all(partial_dir(out, "s")).unwrap();
        std::fs::write(partial_dir(out, "s").join("b"), b"2").unwrap();
        publish_dir(out, "s").unwrap();
        assert!(!out.join("s/a").exists() && out.join("s/b").exists());
        // A run killed after moving the old result aside: the old result comes back.
        std::fs::rename(out.join("s"), old_dir(out, "s")).unwrap();
        std::fs::create_dir_all(partial_dir(out, "s")).unwrap();
        clean_leftovers(out, "s").unwrap();
        assert!(out.join("s/b").exists());
        assert!(!partial_dir(out, "s").exists() && !old_dir(out, "s").exists());
    }
}
