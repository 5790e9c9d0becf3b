//! Safe, unique, deterministic output folder names for studies.
//!
//! A name comes from the study folder's last path component only, never from DICOM text,
//! and is reduced to letters, digits, `.`, `_`, `-` and `+`: no separator, no leading dot
//! (so never `.` or `..`), at most [`MAX_NAME_BYTES`] bytes. When the reduction changed
//! anything, a hash of the original bytes is appended so that two different hostile names
//! never meet in one folder. Names are given over the whole list before sharding, so every
//! shard of a job array gives a study the same name.

use std::collections::HashSet;
use std::path::Path;

/// Longest folder name we create (well under the 255-byte limit of common file systems,
/// leaving room for the temporary suffix).
pub const MAX_NAME_BYTES: usize = 64;

/// FNV-1a, 64 bit: a hash that is the same on every machine and Rust version (std's
/// `DefaultHasher` promises neither), so shards on different nodes agree.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn short_hash(bytes: &[u8]) -> String {
    format!("{:08x}", fnv1a64(bytes) as u32)
}

#[cfg(unix)]
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}

/// The raw bytes of a path, for hashing.
pub fn path_bytes(p: &Path) -> Vec<u8> {
    os_bytes(p.as_os_str())
}

/// The safe base name of one study folder, before collisions are resolved.
pub fn safe_base_name(study: &Path) -> String {
    // `a/b/..` or `.` have no usable last component: fall back to the whole path's hash.
    let raw = match study.file_name() {
        Some(n) => os_bytes(n),
        None => Vec::new(),
    };
    let text = String::from_utf8_lossy(&raw);
    let mut out = String::new();
    for c in text.chars() {
        let keep = c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+');
        let c = if keep { c } else { '_' };
        // Room for two `-xxxxxxxx` suffixes (changed name, then collision).
        if out.len() + c.len_utf8() > MAX_NAME_BYTES - 18 {
            break;
        }
        out.push(c);
    }
    // No hidden names and never `.`/`..`: a leading dot becomes `_`.
    if out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    // Our own files in OUT are `summary*.csv`: a study folder never ends in `.csv`.
    if out.to_ascii_lowercase().ends_with(".csv") {
        out.push('_');
    }
    if out.is_empty() {
        return format!("study-{}", short_hash(&path_bytes(study)));
    }
    if out.as_bytes() != raw.as_slice() {
        out.push('-');
        out.push_str(&short_hash(&raw));
    }
    out
}

/// Names for every study of the (unsharded) list, in list order: safe, and unique even on
/// case-insensitive file systems. A second study with the same base name gets a hash of
/// its full path appended.
pub fn assign_names(studies: &[std::path::PathBuf]) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut names = Vec::with_capacity(studies.len());
    for p in studies {
        let base = safe_base_name(p);
        let mut name = base.clone();
        let mut salt = 0u32;
        while taken.contains(&name.to_lowercase()) {
            let mut bytes = path_bytes(p);
            bytes.extend_from_slice(&salt.to_le_bytes());
            name = format!("{base}-{}", short_hash(&bytes));
            salt += 1;
        }
        taken.insert(name.to_lowercase());
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn is_safe(n: &str) -> bool {
        !n.is_empty()
            && n.len() <= MAX_NAME_BYTES
            && !n.starts_with('.')
            && !n.contains('/')
            && !n.contains('\\')
            && !n.contains('\0')
    }

    #[test]
    fn fnv_matches_published_vectors() {
        // Test vectors from the FNV reference (isthe.com/chongo/tech/comp/fnv).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn plain_names_kept() {
        assert_eq!(safe_base_name(Path::new("/data/CT_0001")), "CT_0001");
        assert_eq!(safe_base_name(Path::new("rel/study-2.b")), "study-2.b");
    }

    #[test]
    fn hostile_names_are_contained() {
        let long = "x".repeat(300);
        let cases: Vec<PathBuf> = vec![
            PathBuf::from("../../x"),
            PathBuf::from(".."),
            PathBuf::from("."),
            PathBuf::from("/"),
            PathBuf::from(".hidden"),
            PathBuf::from("a b\tc\nd"),
            PathBuf::from(long.as_str()),
            PathBuf::from("summary.csv"),
            PathBuf::from("Ünïcødé-名前"),
        ];
        for c in &cases {
            let n = safe_base_name(c);
            assert!(is_safe(&n), "{c:?} -> {n:?}");
            assert!(!n.to_lowercase().ends_with(".csv"), "{n}");
        }
        assert_eq!(safe_base_name(Path::new("Ünïcødé-名前")), "Ünïcødé-名前");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let a = PathBuf::from(OsStr::from_bytes(b"/d/pat\xff\xfe1"));
        let b = PathBuf::from(OsStr::from_bytes(b"/d/pat\xfe\xff1"));
        let na = safe_base_name(&a);
        let nb = safe_base_name(&b);
        assert!(is_safe(&na) && is_safe(&nb));
        assert_ne!(na, nb, "different raw names must not meet");
    }

    #[test]
    fn collisions_resolved_case_insensitively_and_deterministically() {
        let list: Vec<PathBuf> = ["/a/s1", "/b/s1", "/c/S1", "/a/s2", "/a/s1-x"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let n1 = assign_names(&list);
        let n2 = assign_names(&list);
        assert_eq!(n1, n2);
        let lower: HashSet<String> = n1.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(lower.len(), list.len(), "{n1:?}");
        assert_eq!(n1[0], "s1");
        assert_eq!(n1[3], "s2");
        assert!(n1.iter().all(|n| is_safe(n)));
    }
}
