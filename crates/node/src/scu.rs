//! The SCU side: send DICOM files (the report's SEG and SR) to a peer by C-STORE.

use crate::dimse;
use crate::NodeError;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::open_file;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use dicom_ul::pdu::{PDataValue, PDataValueType, PresentationContextResultReason};
use dicom_ul::{ClientAssociationOptions, Pdu};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";

/// `AET@HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The peer's AE title.
    pub ae_title: String,
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Peer {
    /// Read `AET@HOST:PORT`.
    pub fn parse(s: &str) -> Result<Peer, NodeError> {
        let bad = || NodeError::BadPeer(s.to_string());
        let (aet, addr) = s.split_once('@').ok_or_else(bad)?;
        let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.is_empty() || port == 0 {
            return Err(bad());
        }
        let ae_title = crate::check_ae_title(aet).map_err(|_| bad())?;
        Ok(Peer {
            ae_title,
            host: host.trim_matches(['[', ']']).to_string(),
            port,
        })
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.ae_title, self.host, self.port)
    }
}

/// What a send did: files accepted by the peer, and those that were not, with why.
#[derive(Debug, Default)]
pub struct SendOutcome {
    /// Files the peer accepted.
    pub sent: usize,
    /// Files it did not accept, each with why.
    pub failed: Vec<(PathBuf, String)>,
}

struct Item {
    path: PathBuf,
    class: String,
    instance: String,
    ts: String,
}

fn read_item(p: &Path) -> Result<Item, String> {
    let obj = open_file(p).map_err(|e| format!("not a DICOM file: {e}"))?;
    let m = obj.meta();
    let clean = |s: &str| s.trim_end_matches(['\0', ' ']).to_string();
    Ok(Item {
        path: p.to_path_buf(),
        class: clean(&m.media_storage_sop_class_uid),
        instance: clean(&m.media_storage_sop_instance_uid),
        ts: clean(&m.transfer_syntax),
    })
}

/// Send `files` to `peer` in one association, calling as `calling_ae`. An error is a
/// failure of the whole association; per-file refusals are in the outcome.
pub fn send_files(peer: &Peer, calling_ae: &str, files: &[PathBuf]) -> Result<SendOutcome, NodeError> {
    let err = |reason: String| NodeError::Send {
        peer: peer.to_string(),
        reason,
    };
    let mut out = SendOutcome::default();
    let mut items = Vec::new();
    for f in files {
        match read_item(f) {
            Ok(i) => items.push(i),
            Err(e) => out.failed.push((f.clone(), e)),
        }
    }
    if items.is_empty() {
        return Ok(out);
    }
    let mut opts = ClientAssociationOptions::new()
        .calling_ae_title(calling_ae.to_string())
        .called_ae_title(peer.ae_title.clone())
        .read_timeout(Duration::from_secs(60))
        .write_timeout(Duration::from_secs(60))
        .connection_timeout(Duration::from_secs(10));
    // One context per SOP class: the files' own syntax first, native ones as fallbacks.
    let mut classes: Vec<(String, Vec<String>)> = Vec::new();
    for i in &items {
        match classes.iter_mut().find(|(c, _)| *c == i.class) {
            Some((_, ts)) if !ts.contains(&i.ts) => ts.insert(0, i.ts.clone()),
            Some(_) => {}
            None => {
                let mut ts = vec![i.ts.clone()];
                for n in [EXPLICIT_LE, IMPLICIT_LE] {
                    if !ts.iter().any(|t| t == n) {
                        ts.push(n.to_string());
                    }
                }
                classes.push((i.class.clone(), ts));
            }
        }
    }
    for (c, ts) in &classes {
        opts = opts.with_presentation_context(c.clone(), ts.clone());
    }
    let mut assoc = opts
        .establish((peer.host.as_str(), peer.port))
        .map_err(|e| err(format!("association failed: {e}")))?;
    for (n, item) in items.iter().enumerate() {
        let pc = assoc
            .presentation_contexts()
            .iter()
            .find(|p| {
                p.reason == PresentationContextResultReason::Acceptance
                    && p.abstract_syntax.trim_end_matches('\0') == item.class
            })
            .cloned();
        let Some(pc) = pc else {
            out.failed.push((
                item.path.clone(),
                format!("SOP class {} not accepted by the peer", item.class),
            ));
            continue;
        };
        let ts_uid = pc.transfer_syntax.trim_end_matches('\0');
        let data = match encode(&item.path, &item.ts, ts_uid) {
            Ok(d) => d,
            Err(e) => {
                out.failed.push((item.path.clone(), e));
                continue;
            }
        };
        let msg_id = (n % 0xFFFF + 1) as u16;
        let cmd = Pdu::PData {
            data: vec![PDataValue {
                presentation_context_id: pc.id,
                value_type: PDataValueType::Command,
                is_last: true,
                data: dimse::store_rq(msg_id, &item.class, &item.instance),
            }],
        };
        assoc
            .send(&cmd)
            .map_err(|e| err(format!("sending a request: {e}")))?;
        {
            let mut w = assoc.send_pdata(pc.id);
            w.write_all(&data)
                .map_err(|e| err(format!("sending data: {e}")))?;
            w.finish().map_err(|e| err(format!("sending data: {e}")))?;
        }
        let status = loop {
            match assoc
                .receive()
                .map_err(|e| err(format!("waiting for the answer: {e}")))?
            {
                Pdu::PData { data } => {
                    let bytes: Vec<u8> = data
                        .iter()
                        .filter(|v| v.value_type == PDataValueType::Command)
                        .flat_map(|v| v.data.iter().copied())
                        .collect();
                    let rsp = dimse::parse(&bytes).map_err(err)?;
                    break rsp.status.unwrap_or(0xFFFF);
                }
                Pdu::AbortRQ { .. } => return Err(err("the peer aborted the association".into())),
                _ => {}
            }
        };
        // 0x0000 success; 0xB000, 0xB007, 0xB006: stored with a warning.
        if status == 0 || (status & 0xF000) == 0xB000 {
            out.sent += 1;
        } else {
            out.failed.push((
                item.path.clone(),
                format!("the peer answered status {status:#06x}"),
            ));
        }
    }
    let _ = assoc.release();
    Ok(out)
}

/// The data set of `path` in transfer syntax `ts_uid` (unchanged where that is its own).
fn encode(path: &Path, file_ts: &str, ts_uid: &str) -> Result<Vec<u8>, String> {
    let obj = open_file(path).map_err(|e| format!("not a DICOM file: {e}"))?;
    let ts = TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| format!("transfer syntax {ts_uid} unknown"))?;
    if ts_uid != file_ts && ts.is_encapsulated_pixel_data() {
        return Err(format!("cannot convert {file_ts} to {ts_uid}"));
    }
    let mut buf = Vec::new();
    obj.write_dataset_with_ts(&mut buf, ts)
        .map_err(|e| format!("cannot encode the data set in {ts_uid}: {e}"))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse() {
        let p = Peer::parse("ORTHANC@127.0.0.1:4242").unwrap();
        assert_eq!(
            (p.ae_title.as_str(), p.host.as_str(), p.port),
            ("ORTHANC", "127.0.0.1", 4242)
        );
        assert_eq!(Peer::parse("PACS@[::1]:104").unwrap().host, "::1");
        for bad in [
            "ORTHANC",
            "@h:1",
            "A@h",
            "A@h:x",
            "A@:1",
            "A@h:0",
            "TOOLONGAETITLE1234@h:1",
        ] {
            assert!(Peer::parse(bad).is_err(), "{bad}");
        }
    }
}
