//! A DICOM node for cavascope: a C-ECHO and C-STORE SCP (dicom-rs `dicom-ul`) that files
//! each received CT/MR instance atomically into `OUT/<StudyInstanceUID>/`, declares a study
//! complete after a quiet period, has it analysed (by a caller-supplied analyzer, the same
//! analysis as `cavascope analyze`) into `OUT/<StudyInstanceUID>/report/`, and optionally
//! sends the DICOM files of `report/dicom/` back to a peer by C-STORE SCU.
//!
//! Bounded resources: associations are capped (more are rejected with "local limit
//! exceeded"), PDUs are capped (`strict` reading), received data streams to a temporary
//! file rather than memory, one analysis runs at a time, and disk use is capped (further
//! instances are refused with status A700 "out of resources"). Nothing half-written ever
//! carries a final name: instances and reports are written under a temporary name and
//! renamed. Log lines carry UIDs and AE titles, never patient names or IDs.

#![warn(missing_docs)]

mod dimse;
mod layout;
mod scp;
pub mod scu;
mod studies;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

pub use scu::{send_files, Peer, SendOutcome};

/// Errors of the node (setup, sending). Problems with one peer or one instance are never
/// errors of the node: they are logged, answered with a DIMSE status and the node goes on.
#[derive(Debug, Error)]
pub enum NodeError {
    /// A file or folder of the node could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An AE title that DICOM does not allow.
    #[error("bad AE title {0:?}: 1 to 16 characters, no backslash or control characters")]
    BadAeTitle(String),
    /// A peer not written `AET@HOST:PORT`.
    #[error("bad peer {0:?}: expected AET@HOST:PORT, e.g. ORTHANC@127.0.0.1:4242")]
    BadPeer(String),
    /// The association with the peer failed.
    #[error("sending to {peer}: {reason}")]
    Send {
        /// The peer.
        peer: String,
        /// Why.
        reason: String,
    },
    /// A file to send could not be read as DICOM.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl NodeError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        NodeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Check an AE title: 1–16 characters of the default repertoire, no backslash.
pub fn check_ae_title(s: &str) -> Result<String, NodeError> {
    let t = s.trim();
    if t.is_empty() || t.len() > 16 || t.chars().any(|c| c == '\\' || c.is_control() || !c.is_ascii()) {
        return Err(NodeError::BadAeTitle(s.to_string()));
    }
    Ok(t.to_string())
}

/// Resource limits; every one refuses with a DIMSE status or an association rejection.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Associations served at once; more are rejected (transient, local limit exceeded).
    pub max_associations: usize,
    /// Largest PDU this node accepts (bytes); a larger one aborts that association.
    pub max_pdu: u32,
    /// Largest instance (data set bytes); a larger one is refused with status A700.
    pub max_instance_bytes: u64,
    /// Bytes the node may keep under OUT (instances, rejected files); beyond, A700.
    pub max_disk_bytes: u64,
    /// Free space to leave on OUT's file system; below it, A700.
    pub min_free_bytes: u64,
    /// Instances up to this size are parsed whole to check them; larger ones up to the
    /// pixel data (memory per association stays below this).
    pub full_parse_bytes: u64,
    /// A silent peer is dropped after this long.
    pub peer_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_associations: 8,
            max_pdu: 65_536,
            max_instance_bytes: 1 << 30,
            max_disk_bytes: 200 << 30,
            min_free_bytes: 1 << 30,
            full_parse_bytes: 64 << 20,
            peer_timeout: Duration::from_secs(60),
        }
    }
}

/// What the node does.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The node's own AE title.
    pub ae_title: String,
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// Folder the studies are filed into.
    pub out: PathBuf,
    /// Calling AE titles accepted; empty: any.
    pub allow: Vec<String>,
    /// A study is complete after this long without new instances.
    pub idle: Duration,
    /// Where to send the results of each analysis (C-STORE), if anywhere.
    pub send_to: Option<Peer>,
    /// Limits on associations and sizes.
    pub limits: Limits,
}

/// Analyses one study folder (instances only) into an empty report folder.
pub type Analyzer = dyn Fn(&Path, &Path) -> Result<(), String> + Send + Sync;

/// A bound, not yet running node.
pub struct Node {
    cfg: Arc<NodeConfig>,
    listener: TcpListener,
}

impl Node {
    /// Check the configuration, prepare OUT (removing what an interrupted run left under
    /// temporary names) and bind the port.
    pub fn bind(mut cfg: NodeConfig) -> Result<Node, NodeError> {
        cfg.ae_title = check_ae_title(&cfg.ae_title)?;
        cfg.allow = cfg
            .allow
            .iter()
            .map(|a| check_ae_title(a))
            .collect::<Result<_, _>>()?;
        std::fs::create_dir_all(&cfg.out).map_err(|e| NodeError::io(&cfg.out, e))?;
        layout::remove_leftovers(&cfg.out)?;
        let listener = TcpListener::bind(cfg.bind).map_err(|source| NodeError::Bind {
            addr: cfg.bind.to_string(),
            source,
        })?;
        Ok(Node {
            cfg: Arc::new(cfg),
            listener,
        })
    }

    /// The address the node listens on (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr, NodeError> {
        self.listener.local_addr().map_err(|source| NodeError::Bind {
            addr: self.cfg.bind.to_string(),
            source,
        })
    }

    /// Serve until `stop` is set: accept associations, file instances, analyse complete
    /// studies. On stop, open associations are cut, their partial files removed, and the
    /// call returns; an analysis still running is abandoned (its hidden work folder is
    /// removed at the next start, and the study analysed again then).
    pub fn run(self, analyzer: Arc<Analyzer>, stop: Arc<AtomicBool>) -> Result<(), NodeError> {
        let cfg = self.cfg;
        let addr = self.listener.local_addr().ok();
        self.listener
            .set_nonblocking(true)
            .map_err(|e| NodeError::io(&cfg.out, e))?;
        if cfg.allow.is_empty() {
            tracing::warn!("no --allow given: associations from any calling AE title are accepted");
        }
        let store = Arc::new(layout::Store::open(&cfg)?);
        let tracker = studies::Tracker::start(cfg.clone(), store.clone(), analyzer, stop.clone());
        tracker.resume_unfinished();
        tracing::info!(
            "{} listening on {}; instances into {}",
            cfg.ae_title,
            addr.map(|a| a.to_string()).unwrap_or_default(),
            cfg.out.display()
        );
        let scp = scp::Scp::new(cfg.clone(), store, tracker.clone());
        while !stop.load(Ordering::Relaxed) {
            match self.listener.accept() {
                Ok((sock, peer)) => scp.serve(sock, peer),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    std::thread::sleep(Duration::from_millis(200))
                }
            }
        }
        tracing::info!("stopping: closing open associations");
        scp.shutdown();
        tracker.stop();
        Ok(())
    }
}

/// A poisoned lock only means a thread panicked while holding it; the data stays usable.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The stop flag set by Ctrl-C / SIGTERM handlers (the caller installs them).
pub fn stop_flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}
