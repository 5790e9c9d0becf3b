//! Where the node writes, and how: every file under a temporary name first, renamed into
//! place once whole, and disk use accounted against the limits.
//!
//! ```text
//! OUT/<StudyInstanceUID>/<SOPInstanceUID>.dcm   received instances
//! OUT/<StudyInstanceUID>/report/                the analysis (report/dicom/: sent back)
//! OUT/rejected/<n>.dcm, <n>.txt                 instances that failed to parse, and why
//! OUT/.incoming/  OUT/.work/  .report.partial/  in progress; removed at start
//! ```

use crate::{NodeConfig, NodeError};
use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub const INCOMING: &str = ".incoming";
pub const WORK: &str = ".work";
pub const REJECTED: &str = "rejected";
pub const REPORT: &str = "report";
pub const REPORT_PARTIAL: &str = ".report.partial";
pub const REPORT_OLD: &str = ".report.old";

/// A UID usable as a file name: digits and dots, 1–64 characters (PS3.5 §9.1).
pub fn valid_uid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !s.starts_with('.')
        && !s.ends_with('.')
        && !s.contains("..")
}

/// Remove what an interrupted run left under temporary names.
pub fn remove_leftovers(out: &Path) -> Result<(), NodeError> {
    for d in [INCOMING, WORK] {
        let p = out.join(d);
        if p.exists() {
            std::fs::remove_dir_all(&p).map_err(|e| NodeError::io(&p, e))?;
        }
    }
    let entries = std::fs::read_dir(out).map_err(|e| NodeError::io(out, e))?;
    for e in entries.flatten() {
        for d in [REPORT_PARTIAL, REPORT_OLD] {
            let p = e.path().join(d);
            if p.is_dir() {
                std::fs::remove_dir_all(&p).map_err(|e| NodeError::io(&p, e))?;
            }
        }
    }
    // The reason files of rejected/ are written through hidden temporary names.
    if let Ok(rd) = std::fs::read_dir(out.join(REJECTED)) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with('.') {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

fn dir_bytes(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

/// Free bytes on the file system holding `p` (None where unknown).
fn free_bytes(p: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; `c` is a valid C string.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (rc == 0).then(|| s.f_bavail as u64 * s.f_frsize as u64)
}

pub struct Store {
    out: PathBuf,
    incoming: PathBuf,
    used: AtomicU64,
    counter: AtomicU64,
    max_disk: u64,
    min_free: u64,
}

impl Store {
    pub fn open(cfg: &NodeConfig) -> Result<Store, NodeError> {
        let incoming = cfg.out.join(INCOMING);
        std::fs::create_dir_all(&incoming).map_err(|e| NodeError::io(&incoming, e))?;
        // What earlier runs stored counts against the disk limit too.
        let used = dir_bytes(&cfg.out);
        Ok(Store {
            out: cfg.out.clone(),
            incoming,
            used: AtomicU64::new(used),
            counter: AtomicU64::new(0),
            max_disk: cfg.limits.max_disk_bytes,
            min_free: cfg.limits.min_free_bytes,
        })
    }

    pub fn out(&self) -> &Path {
        &self.out
    }

    pub fn used_bytes(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// May one more instance of up to `expected` bytes be taken? `Err` says which limit.
    pub fn admit(&self, expected: u64) -> Result<(), String> {
        let used = self.used_bytes();
        if used.saturating_add(expected) > self.max_disk {
            return Err(format!(
                "disk limit reached ({used} of {} bytes used)",
                self.max_disk
            ));
        }
        if let Some(free) = free_bytes(&self.out) {
            if free < self.min_free.saturating_add(expected) {
                return Err(format!(
                    "free space below the limit ({free} bytes free, {} to keep)",
                    self.min_free
                ));
            }
        }
        Ok(())
    }

    fn unique(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        format!("{t}-{}-{n}", std::process::id())
    }

    /// A fresh temporary path for an incoming instance.
    pub fn temp_path(&self) -> PathBuf {
        self.incoming.join(format!("{}.part", self.unique()))
    }

    /// Move a whole, checked instance into its study folder (replacing an earlier copy).
    pub fn publish(&self, tmp: &Path, study: &str, sop: &str) -> Result<PathBuf, String> {
        let dir = self.out.join(study);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let dst = dir.join(format!("{sop}.dcm"));
        let new = std::fs::metadata(tmp).map(|m| m.len()).unwrap_or(0);
        let old = std::fs::metadata(&dst).map(|m| m.len()).unwrap_or(0);
        std::fs::rename(tmp, &dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        self.used.fetch_add(new, Ordering::Relaxed);
        self.used.fetch_sub(old.min(self.used_bytes()), Ordering::Relaxed);
        Ok(dst)
    }

    /// Keep an instance that could not be filed, with the reason beside it.
    pub fn reject(&self, tmp: &Path, reason: &str) -> Result<PathBuf, String> {
        let dir = self.out.join(REJECTED);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let base = self.unique();
        let why = dir.join(format!("{base}.txt"));
        write_atomic(&why, format!("{reason}\n").as_bytes())?;
        let dst = dir.join(format!("{base}.dcm"));
        let n = std::fs::metadata(tmp).map(|m| m.len()).unwrap_or(0);
        std::fs::rename(tmp, &dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        self.used
            .fetch_add(n + reason.len() as u64 + 1, Ordering::Relaxed);
        Ok(dst)
    }
}

/// Write `bytes` to `path` through a temporary name in the same folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

/// What a received file says about itself.
#[derive(Debug)]
pub struct Identity {
    pub study: String,
    pub sop_instance: String,
    pub sop_class: String,
}

/// Parse a received Part-10 file (whole up to `full_parse_bytes`, else up to the pixel
/// data) and read the UIDs that file it. `Err`: why it cannot be filed.
pub fn identify(path: &Path, full_parse_bytes: u64) -> Result<Identity, String> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let opts = OpenFileOptions::new();
    let opts = if size > full_parse_bytes {
        opts.read_until(tags::PIXEL_DATA)
    } else {
        opts
    };
    let obj = opts
        .open_file(path)
        .map_err(|e| format!("not a readable DICOM data set: {e}"))?;
    let text = |tag| {
        obj.element(tag)
            .ok()
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
    };
    let study = text(tags::STUDY_INSTANCE_UID).ok_or("no StudyInstanceUID")?;
    if !valid_uid(&study) {
        return Err(format!("StudyInstanceUID {study:?} is not a valid UID"));
    }
    let sop_instance = text(tags::SOP_INSTANCE_UID).ok_or("no SOPInstanceUID")?;
    if !valid_uid(&sop_instance) {
        return Err(format!("SOPInstanceUID {sop_instance:?} is not a valid UID"));
    }
    let sop_class = text(tags::SOP_CLASS_UID).ok_or("no SOPClassUID")?;
    Ok(Identity {
        study,
        sop_instance,
        sop_class,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_as_file_names() {
        assert!(valid_uid("1.2.840.10008.5.1.4.1.1.2"));
        for bad in ["", "../x", "1..2", ".1", "1.", "1/2", "a.b", &"1".repeat(65)] {
            assert!(!valid_uid(bad), "{bad:?}");
        }
    }
}
