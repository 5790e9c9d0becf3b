//! The SCP side: one thread per association, C-ECHO and C-STORE.
//!
//! Received data never sits in memory: each P-DATA fragment is appended to a temporary
//! Part-10 file (the meta header written first, from the command and the presentation
//! context), which is checked and renamed into its study folder once the last fragment
//! arrived. Memory per association is one PDU plus the check's parse (bounded by
//! `Limits::full_parse_bytes`).

use crate::dimse::{self, Command};
use crate::layout::{self, Store};
use crate::studies::Tracker;
use crate::{lock, NodeConfig};
use dicom_object::FileMetaTableBuilder;
use dicom_ul::association::server::AccessControl;
use dicom_ul::association::Association;
use dicom_ul::pdu::{
    AssociationRJ, AssociationRJResult, AssociationRJServiceProviderPresentationReason,
    AssociationRJServiceUserReason, AssociationRJSource, PDataValue, PDataValueType, UserIdentity,
};
use dicom_ul::{Pdu, ServerAssociation, ServerAssociationOptions};
use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing::{debug, info, warn};

pub const VERIFICATION: &str = "1.2.840.10008.1.1";
/// Storage SOP classes taken: CT, enhanced CT, legacy converted enhanced CT, MR, enhanced
/// MR, legacy converted enhanced MR (what ingest builds volumes from).
pub const STORAGE_CLASSES: &[&str] = &[
    "1.2.840.10008.5.1.4.1.1.2",
    "1.2.840.10008.5.1.4.1.1.2.1",
    "1.2.840.10008.5.1.4.1.1.2.2",
    "1.2.840.10008.5.1.4.1.1.4",
    "1.2.840.10008.5.1.4.1.1.4.1",
    "1.2.840.10008.5.1.4.1.1.4.4",
];
/// Transfer syntaxes ingest decodes: native little/big endian and deflate, RLE, JPEG
/// baseline/extended/lossless, JPEG-LS, JPEG 2000. Native first: the preferred choice
/// when a peer offers several in one presentation context.
pub const TRANSFER_SYNTAXES: &[&str] = &[
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.5",
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
];
/// A command set is a few hundred bytes; more is a broken or hostile peer.
const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// `--allow` and the called AE title, checked at association.
struct Access {
    allow: Vec<String>,
}

impl AccessControl for Access {
    fn check_access(
        &self,
        this_ae_title: &str,
        calling_ae_title: &str,
        called_ae_title: &str,
        _user: Option<&UserIdentity>,
    ) -> Result<(), AssociationRJServiceUserReason> {
        if called_ae_title.trim() != this_ae_title.trim() {
            return Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized);
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|a| a == calling_ae_title.trim()) {
            return Err(AssociationRJServiceUserReason::CallingAETitleNotRecognized);
        }
        Ok(())
    }
}

pub struct Scp {
    cfg: Arc<NodeConfig>,
    store: Arc<Store>,
    tracker: Tracker,
    /// Open associations' sockets, to cut them on shutdown.
    open: Arc<Mutex<HashMap<u64, TcpStream>>>,
    next: AtomicU64,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Scp {
    pub fn new(cfg: Arc<NodeConfig>, store: Arc<Store>, tracker: Tracker) -> Scp {
        Scp {
            cfg,
            store,
            tracker,
            open: Arc::new(Mutex::new(HashMap::new())),
            next: AtomicU64::new(1),
            threads: Mutex::new(Vec::new()),
        }
    }

    /// Serve one connection on its own thread (or refuse it when at the limit).
    pub fn serve(&self, sock: TcpStream, peer: SocketAddr) {
        let _ = sock.set_nonblocking(false);
        let mut threads = lock(&self.threads);
        threads.retain(|t| !t.is_finished());
        let busy = lock(&self.open).len() >= self.cfg.limits.max_associations;
        if busy {
            warn!(
                "{peer}: association refused: {} associations open (the limit)",
                self.cfg.limits.max_associations
            );
            threads.push(std::thread::spawn(move || refuse_busy(sock)));
            return;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(c) = sock.try_clone() {
            lock(&self.open).insert(id, c);
        }
        let (cfg, store, tracker, open) = (
            self.cfg.clone(),
            self.store.clone(),
            self.tracker.clone(),
            self.open.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name(format!("assoc-{id}"))
            .spawn(move || {
                let mut a = AssocState::new(&cfg, &store, &tracker, peer);
                a.run(sock);
                lock(&open).remove(&id);
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                warn!("{peer}: cannot start a thread for the association: {e}");
                if let Some(s) = lock(&self.open).remove(&id) {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        }
    }

    /// Cut every open association and wait for their threads (each removes its
    /// partial file).
    pub fn shutdown(&self) {
        for s in lock(&self.open).values() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let threads: Vec<_> = lock(&self.threads).drain(..).collect();
        for t in threads {
            let _ = t.join();
        }
    }
}

/// Answer an association request with "rejected (transient): local limit exceeded".
fn refuse_busy(mut sock: TcpStream) {
    let _ = sock.set_read_timeout(Some(Duration::from_secs(5)));
    // Read (and drop) the request first so the peer gets our answer rather than a reset.
    let mut head = [0u8; 6];
    if std::io::Read::read_exact(&mut sock, &mut head).is_ok() {
        let len = u32::from_be_bytes([head[2], head[3], head[4], head[5]]).min(1 << 20);
        let _ = std::io::copy(
            &mut std::io::Read::take(&mut sock, len as u64),
            &mut std::io::sink(),
        );
    }
    let rj = Pdu::AssociationRJ(AssociationRJ {
        result: AssociationRJResult::Transient,
        source: AssociationRJSource::ServiceProviderPresentation(
            AssociationRJServiceProviderPresentationReason::LocalLimitExceeded,
        ),
    });
    let mut out = Vec::new();
    if dicom_ul::write_pdu(&mut out, &rj).is_ok() {
        let _ = sock.write_all(&out);
    }
    let _ = sock.shutdown(Shutdown::Both);
}

/// The instance being received on an association.
struct Incoming {
    cmd: Command,
    pc_id: u8,
    tmp: Option<PathBuf>,
    file: Option<BufWriter<std::fs::File>>,
    bytes: u64,
    /// Why this instance will be refused once its data has been read.
    refused: Option<(u16, String)>,
}

struct AssocState<'a> {
    cfg: &'a NodeConfig,
    store: &'a Store,
    tracker: &'a Tracker,
    peer: SocketAddr,
    aet: String,
    cmd_buf: Vec<u8>,
    incoming: Option<Incoming>,
    stored: u64,
    refused: u64,
}

impl<'a> AssocState<'a> {
    fn new(cfg: &'a NodeConfig, store: &'a Store, tracker: &'a Tracker, peer: SocketAddr) -> Self {
        AssocState {
            cfg,
            store,
            tracker,
            peer,
            aet: String::new(),
            cmd_buf: Vec::new(),
            incoming: None,
            stored: 0,
            refused: 0,
        }
    }

    fn run(&mut self, sock: TcpStream) {
        let mut opts = ServerAssociationOptions::new()
            .ae_access_control(Access {
                allow: self.cfg.allow.clone(),
            })
            .ae_title(self.cfg.ae_title.as_str())
            .max_pdu_length(self.cfg.limits.max_pdu)
            .strict(true)
            .read_timeout(self.cfg.limits.peer_timeout)
            .write_timeout(self.cfg.limits.peer_timeout)
            .with_abstract_syntax(VERIFICATION);
        for c in STORAGE_CLASSES {
            opts = opts.with_abstract_syntax(*c);
        }
        for t in TRANSFER_SYNTAXES {
            opts = opts.with_transfer_syntax(*t);
        }
        let mut assoc = match opts.establish(sock) {
            Ok(a) => a,
            Err(e) => {
                warn!("{}: association refused or failed: {e}", self.peer);
                return;
            }
        };
        self.aet = assoc.peer_ae_title().trim().to_string();
        info!("{} ({}): association accepted", self.aet, self.peer);
        let end = self.serve(&mut assoc);
        self.drop_incoming();
        match end {
            Ok(()) => {
                info!(
                    "{}: association released ({} stored, {} refused)",
                    self.aet, self.stored, self.refused
                );
            }
            Err(why) => {
                warn!(
                    "{}: association ended: {why} ({} stored, {} refused)",
                    self.aet, self.stored, self.refused
                );
                let _ = assoc.abort();
            }
        }
    }

    /// Remove a half-received instance (peer gone, node stopping).
    fn drop_incoming(&mut self) {
        if let Some(mut inc) = self.incoming.take() {
            inc.file = None;
            if let Some(t) = inc.tmp.take() {
                let _ = std::fs::remove_file(&t);
            }
            warn!(
                "{}: instance {} incomplete when the association ended; discarded",
                self.aet, inc.cmd.sop_instance
            );
        }
    }

    fn serve(&mut self, assoc: &mut ServerAssociation<TcpStream>) -> Result<(), String> {
        loop {
            let pdu = assoc.receive().map_err(|e| {
                let mut s = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(x) = src {
                    s.push_str(": ");
                    s.push_str(&x.to_string());
                    src = x.source();
                }
                s
            })?;
            match pdu {
                Pdu::PData { data } => {
                    for pdv in data {
                        if let Some(reply) = self.pdv(assoc, pdv)? {
                            assoc.send(&reply).map_err(|e| format!("cannot answer: {e}"))?;
                        }
                    }
                }
                Pdu::ReleaseRQ => {
                    let _ = assoc.send(&Pdu::ReleaseRP);
                    if self.incoming.is_some() {
                        return Err("released in the middle of an instance".into());
                    }
                    return Ok(());
                }
                Pdu::AbortRQ { source } => return Err(format!("aborted by the peer ({source:?})")),
                other => {
                    return Err(format!("unexpected PDU: {}", other.short_description()));
                }
            }
        }
    }

    /// One presentation data value; the answer to send, if one is due.
    fn pdv(&mut self, assoc: &ServerAssociation<TcpStream>, pdv: PDataValue) -> Result<Option<Pdu>, String> {
        match pdv.value_type {
            PDataValueType::Command => {
                if self.incoming.is_some() {
                    return Err("a command arrived before the last data fragment".into());
                }
                if self.cmd_buf.len() + pdv.data.len() > MAX_COMMAND_BYTES {
                    return Err("command set larger than 64 KiB".into());
                }
                self.cmd_buf.extend_from_slice(&pdv.data);
                if !pdv.is_last {
                    return Ok(None);
                }
                let bytes = std::mem::take(&mut self.cmd_buf);
                let cmd = dimse::parse(&bytes)?;
                self.command(assoc, cmd, pdv.presentation_context_id)
            }
            PDataValueType::Data => {
                let Some(inc) = self.incoming.as_mut() else {
                    return Err("data without a C-STORE request".into());
                };
                if pdv.presentation_context_id != inc.pc_id {
                    return Err("data on another presentation context than its request".into());
                }
                inc.bytes += pdv.data.len() as u64;
                if inc.refused.is_none() && inc.bytes > self.cfg.limits.max_instance_bytes {
                    inc.refused = Some((
                        dimse::STATUS_OUT_OF_RESOURCES,
                        format!(
                            "instance larger than the limit of {} bytes",
                            self.cfg.limits.max_instance_bytes
                        ),
                    ));
                }
                if inc.refused.is_some() {
                    // Read and dropped: the answer comes after the last fragment.
                    inc.file = None;
                    if let Some(t) = inc.tmp.take() {
                        let _ = std::fs::remove_file(t);
                    }
                } else if let Some(f) = inc.file.as_mut() {
                    if let Err(e) = f.write_all(&pdv.data) {
                        inc.refused = Some((
                            dimse::STATUS_OUT_OF_RESOURCES,
                            format!("cannot write the instance: {e}"),
                        ));
                    }
                }
                if !pdv.is_last {
                    return Ok(None);
                }
                let inc = self.incoming.take().ok_or("no instance")?;
                Ok(Some(self.finish(inc)))
            }
        }
    }

    fn command(
        &mut self,
        assoc: &ServerAssociation<TcpStream>,
        cmd: Command,
        pc_id: u8,
    ) -> Result<Option<Pdu>, String> {
        let reply = |data: Vec<u8>| {
            Some(Pdu::PData {
                data: vec![PDataValue {
                    presentation_context_id: pc_id,
                    value_type: PDataValueType::Command,
                    is_last: true,
                    data,
                }],
            })
        };
        let pc = assoc
            .presentation_contexts()
            .iter()
            .find(|p| p.id == pc_id)
            .ok_or_else(|| format!("unknown presentation context {pc_id}"))?;
        match cmd.field {
            dimse::C_ECHO_RQ => {
                debug!("{}: C-ECHO", self.aet);
                Ok(reply(dimse::echo_rsp(cmd.message_id)))
            }
            dimse::C_STORE_RQ => {
                let mut inc = Incoming {
                    pc_id,
                    tmp: None,
                    file: None,
                    bytes: 0,
                    refused: None,
                    cmd,
                };
                if !inc.cmd.has_data_set {
                    return Ok(reply(dimse::store_rsp(
                        &inc.cmd,
                        dimse::STATUS_CANNOT_UNDERSTAND,
                        Some("C-STORE request without a data set"),
                    )));
                }
                if !STORAGE_CLASSES.contains(&inc.cmd.sop_class.as_str())
                    || pc.abstract_syntax.trim_end_matches('\0') != inc.cmd.sop_class
                {
                    inc.refused = Some((
                        dimse::STATUS_SOP_CLASS_NOT_SUPPORTED,
                        format!("SOP class {} not taken here", inc.cmd.sop_class),
                    ));
                } else if let Err(why) = self.store.admit(0) {
                    inc.refused = Some((dimse::STATUS_OUT_OF_RESOURCES, why));
                } else {
                    let ts = pc.transfer_syntax.trim_end_matches('\0').to_string();
                    match self.open_temp(&inc.cmd, &ts) {
                        Ok((p, f)) => {
                            inc.tmp = Some(p);
                            inc.file = Some(f);
                        }
                        Err(e) => inc.refused = Some((dimse::STATUS_OUT_OF_RESOURCES, e)),
                    }
                }
                self.incoming = Some(inc);
                Ok(None)
            }
            other => {
                warn!("{}: unsupported DIMSE command {other:#06x}", self.aet);
                if cmd.has_data_set {
                    return Err(format!("unsupported DIMSE command {other:#06x} with a data set"));
                }
                let mut c = cmd.clone();
                c.field = other | 0x8000;
                Ok(reply(dimse::store_rsp(
                    &c,
                    dimse::STATUS_UNRECOGNIZED_OPERATION,
                    Some("only C-ECHO and C-STORE are served"),
                )))
            }
        }
    }

    /// A temporary Part-10 file with its meta header written.
    fn open_temp(&self, cmd: &Command, ts: &str) -> Result<(PathBuf, BufWriter<std::fs::File>), String> {
        let meta = FileMetaTableBuilder::new()
            .media_storage_sop_class_uid(cmd.sop_class.as_str())
            .media_storage_sop_instance_uid(cmd.sop_instance.as_str())
            .transfer_syntax(ts)
            .source_application_entity_title(self.aet.as_str())
            .build()
            .map_err(|e| format!("cannot build the file meta header: {e}"))?;
        let path = self.store.temp_path();
        let f = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut w = BufWriter::with_capacity(64 * 1024, f);
        let res = (|| -> Result<(), String> {
            w.write_all(&[0u8; 128]).map_err(|e| e.to_string())?;
            w.write_all(b"DICM").map_err(|e| e.to_string())?;
            meta.write(&mut w).map_err(|e| e.to_string())
        })();
        if let Err(e) = res {
            let _ = std::fs::remove_file(&path);
            return Err(format!("cannot write {}: {e}", path.display()));
        }
        Ok((path, w))
    }

    /// The last fragment arrived: check, file and answer.
    fn finish(&mut self, mut inc: Incoming) -> Pdu {
        let (status, comment) = self.file_instance(&mut inc);
        if status == dimse::STATUS_SUCCESS {
            self.stored += 1;
        } else {
            self.refused += 1;
        }
        Pdu::PData {
            data: vec![PDataValue {
                presentation_context_id: inc.pc_id,
                value_type: PDataValueType::Command,
                is_last: true,
                data: dimse::store_rsp(&inc.cmd, status, comment.as_deref()),
            }],
        }
    }

    fn file_instance(&mut self, inc: &mut Incoming) -> (u16, Option<String>) {
        let flushed = inc
            .file
            .take()
            .map(|mut f| f.flush().and_then(|_| f.get_ref().sync_data()));
        if let Some(Err(e)) = flushed {
            inc.refused.get_or_insert((
                dimse::STATUS_OUT_OF_RESOURCES,
                format!("cannot write the instance: {e}"),
            ));
        }
        if let Some((status, why)) = inc.refused.take() {
            if let Some(t) = inc.tmp.take() {
                let _ = std::fs::remove_file(t);
            }
            warn!(
                "{}: instance {} refused ({status:#06x}): {why}",
                self.aet, inc.cmd.sop_instance
            );
            return (status, Some(why));
        }
        let Some(tmp) = inc.tmp.take() else {
            return (dimse::STATUS_OUT_OF_RESOURCES, Some("nothing was written".into()));
        };
        let id = layout::identify(&tmp, self.cfg.limits.full_parse_bytes).and_then(|id| {
            if id.sop_instance != inc.cmd.sop_instance {
                Err(format!(
                    "SOPInstanceUID {} differs from the request's {}",
                    id.sop_instance, inc.cmd.sop_instance
                ))
            } else if id.sop_class != inc.cmd.sop_class {
                Err(format!(
                    "SOPClassUID {} differs from the request's {}",
                    id.sop_class, inc.cmd.sop_class
                ))
            } else {
                Ok(id)
            }
        });
        match id {
            Ok(id) => match self.store.publish(&tmp, &id.study, &id.sop_instance) {
                Ok(p) => {
                    debug!("{}: stored {}", self.aet, p.display());
                    self.tracker.touch(&id.study);
                    (dimse::STATUS_SUCCESS, None)
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    warn!("{}: cannot file instance {}: {e}", self.aet, inc.cmd.sop_instance);
                    (dimse::STATUS_OUT_OF_RESOURCES, Some(e))
                }
            },
            Err(why) => {
                let kept = self.store.reject(&tmp, &why);
                match &kept {
                    Ok(p) => warn!(
                        "{}: instance {} rejected: {why} (kept as {})",
                        self.aet,
                        inc.cmd.sop_instance,
                        p.display()
                    ),
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        warn!(
                            "{}: instance {} rejected: {why}; {e}",
                            self.aet, inc.cmd.sop_instance
                        )
                    }
                }
                (dimse::STATUS_CANNOT_UNDERSTAND, Some(why))
            }
        }
    }
}
