//! The node's own SCU sending to its own SCP on loopback, with a stand-in analysis: files
//! land under their UIDs, a study is analysed once after `idle`, again when a new
//! instance arrives, the report is replaced whole, `--allow` rejects at association, and
//! stopping leaves nothing under a temporary name.

use cavascope_node::{send_files, Limits, Node, NodeConfig, Peer};
use dicom_core::{dicom_value, DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const STUDY: &str = "1.2.826.0.1.3680043.10.1234.1";

fn ct_file(dir: &Path, n: u32) -> PathBuf {
    let sop = format!("1.2.826.0.1.3680043.10.1234.2.{n}");
    let obj = InMemDicomObject::from_element_iter([
        DataElement::new(tags::SOP_CLASS_UID, VR::UI, dicom_value!(Str, CT)),
        DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, dicom_value!(Str, sop.as_str())),
        DataElement::new(tags::PATIENT_NAME, VR::PN, dicom_value!(Str, "DOE^SECRET")),
        DataElement::new(tags::MODALITY, VR::CS, dicom_value!(Str, "CT")),
        DataElement::new(tags::STUDY_INSTANCE_UID, VR::UI, dicom_value!(Str, STUDY)),
        DataElement::new(tags::INSTANCE_NUMBER, VR::IS, dicom_value!(Str, n.to_string())),
    ]);
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(CT)
        .media_storage_sop_instance_uid(sop.as_str())
        .transfer_syntax("1.2.840.10008.1.2.1")
        .build()
        .unwrap();
    let p = dir.join(format!("{n}.dcm"));
    obj.with_exact_meta(meta).write_to_file(&p).unwrap();
    p
}

fn wait(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn scu_to_scp_files_analyses_and_reanalyses() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let out = tmp.path().join("out");
    let cfg = NodeConfig {
        ae_title: "CAVASCOPE".into(),
        bind: "127.0.0.1:0".parse().unwrap(),
        out: out.clone(),
        allow: vec!["SENDER".into()],
        idle: Duration::from_millis(700),
        send_to: None,
        limits: Limits::default(),
    };
    let node = Node::bind(cfg).unwrap();
    let port = node.local_addr().unwrap().port();
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    // Stand-in analysis: counts the instances it was given.
    let analyzer = move |study: &Path, report: &Path| -> Result<(), String> {
        r.fetch_add(1, Ordering::SeqCst);
        let n = std::fs::read_dir(study).map_err(|e| e.to_string())?.count();
        std::fs::write(report.join("count.txt"), n.to_string()).map_err(|e| e.to_string())
    };
    let stop = cavascope_node::stop_flag();
    let s2 = stop.clone();
    let server = std::thread::spawn(move || node.run(Arc::new(analyzer), s2));

    let peer = Peer::parse(&format!("CAVASCOPE@127.0.0.1:{port}")).unwrap();
    let files: Vec<PathBuf> = (1..=3).map(|n| ct_file(&src, n)).collect();
    let o = send_files(&peer, "SENDER", &files).unwrap();
    assert_eq!((o.sent, o.failed.len()), (3, 0), "{:?}", o.failed);
    let study = out.join(STUDY);
    for n in 1..=3 {
        let f = study.join(format!("1.2.826.0.1.3680043.10.1234.2.{n}.dcm"));
        assert!(f.is_file(), "{} missing", f.display());
    }
    let count = study.join("report/count.txt");
    wait("the first analysis", Duration::from_secs(30), || count.is_file());
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "3");

    // One more instance: analysed again, on all four.
    let o = send_files(&peer, "SENDER", &[ct_file(&src, 4)]).unwrap();
    assert_eq!(o.sent, 1);
    wait("the second analysis", Duration::from_secs(30), || {
        std::fs::read_to_string(&count).is_ok_and(|c| c == "4")
    });
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // A calling AE title not in the allow list: rejected at association.
    let e = send_files(&peer, "STRANGER", &files[..1]).unwrap_err();
    assert!(e.to_string().contains("association"), "{e}");

    stop.store(true, Ordering::SeqCst);
    server.join().unwrap().unwrap();
    assert_eq!(std::fs::read_dir(out.join(".incoming")).unwrap().count(), 0);
    assert!(!study.join(".report.partial").exists());
    assert_eq!(runs.load(Ordering::SeqCst), 2, "analysed once per burst");
}
