//! Which studies a batch runs: the list (a text file, or the subfolders of a root), the
//! output name of each, and the deterministic share of one `--shard I/N`.

use super::naming::{assign_names, path_bytes};
use super::BatchError;
use std::path::{Path, PathBuf};

/// One study of the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Position in the full (unsharded) list, 0-based.
    pub index: usize,
    /// The study folder as listed.
    pub dir: PathBuf,
    /// Safe folder name under OUT.
    pub name: String,
}

/// `--shard I/N`, 1-based `index` in `1..=count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, BatchError> {
        let bad = || BatchError::BadShard(text.to_string());
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Round robin over the full list: shards differ in size by at most one study, and
    /// the shards of one list are disjoint and together cover it.
    pub fn contains(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

/// Read the study list: a text file (one folder per line; blank lines and `#` comments
/// skipped; relative paths are relative to the list file's folder) or a root folder whose
/// subfolders, sorted by name, are the studies. `exclude` (the output folder) is never a
/// study.
pub fn discover(list_or_root: &Path, exclude: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let meta = std::fs::metadata(list_or_root).map_err(|source| BatchError::Io {
        path: list_or_root.to_path_buf(),
        source,
    })?;
    let studies = if meta.is_dir() {
        subfolders(list_or_root, exclude)?
    } else {
        read_list(list_or_root)?
    };
    Ok(studies)
}

fn subfolders(root: &Path, exclude: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let io = |source| BatchError::Io {
        path: root.to_path_buf(),
        source,
    };
    let exclude = std::fs::canonicalize(exclude).ok();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(root).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        // Hidden folders (.git, our own temporary folders) are not studies.
        if path_bytes(Path::new(&entry.file_name())).first() == Some(&b'.') {
            continue;
        }
        if !path.is_dir() {
            continue;
        }
        if exclude.is_some() && std::fs::canonicalize(&path).ok() == exclude {
            continue;
        }
        dirs.push(path);
    }
    // Byte order, not locale order: every node of a job array sorts alike.
    dirs.sort_by_key(|p| path_bytes(p));
    Ok(dirs)
}

fn read_list(list: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let bytes = std::fs::read(list).map_err(|source| BatchError::Io {
        path: list.to_path_buf(),
        source,
    })?;
    let base = list.parent().unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let p = bytes_to_path(line);
        let p = if p.is_absolute() { p } else { base.join(p) };
        // The same folder listed twice is analysed once.
        if seen.insert(path_bytes(&p)) {
            out.push(p);
        }
    }
    Ok(out)
}

#[cfg(unix)]
fn bytes_to_path(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn bytes_to_path(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

/// Name every study over the full list, then keep this shard's share.
pub fn plan(studies: Vec<PathBuf>, shard: Option<Shard>) -> Vec<Planned> {
    let names = assign_names(&studies);
    studies
        .into_iter()
        .zip(names)
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| s.contains(*i)))
        .map(|(index, (dir, name))| Planned { index, dir, name })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing() {
        assert_eq!(Shard::parse("3/10").ok(), Some(Shard { index: 3, count: 10 }));
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "", "-1/3", "1/3/4"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_partition_the_list() {
        let studies: Vec<PathBuf> = (0..23).map(|i| PathBuf::from(format!("/s/{i:03}"))).collect();
        let full = plan(studies.clone(), None);
        for n in 1..=7 {
            let mut union: Vec<Planned> = (1..=n)
                .flat_map(|i| plan(studies.clone(), Some(Shard { index: i, count: n })))
                .collect();
            union.sort_by_key(|p| p.index);
            assert_eq!(union, full, "n = {n}");
            let sizes: Vec<usize> = (1..=n)
                .map(|i| plan(studies.clone(), Some(Shard { index: i, count: n })).len())
                .collect();
            let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
            assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1), "{sizes:?}");
        }
    }

    #[test]
    fn list_file_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(&list, b"# comment\n\n  a \r\n/abs/b\na\n\tc\n").unwrap();
        let got = discover(&list, Path::new("/nonexistent")).unwrap();
        assert_eq!(
            got,
            vec![
                dir.path().join("a"),
                PathBuf::from("/abs/b"),
                dir.path().join("c")
            ]
        );
    }

    #[test]
    fn root_subfolders_sorted_hidden_and_out_excluded() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["b", "a", ".hidden", "out", "c"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("file.dcm"), b"x").unwrap();
        let got = discover(dir.path(), &dir.path().join("out")).unwrap();
        let names: Vec<_> = got.iter().map(|p| p.file_name().unwrap().to_owned()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }
}
