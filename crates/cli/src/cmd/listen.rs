//! `cavascope listen`: the DICOM node of `cavascope-node`, analysing each complete study
//! as `cavascope analyze` does. Ctrl-C / SIGTERM stop it cleanly (exit 0).

use crate::args::*;
use crate::cmd::analyze;
use cavascope_node::{Limits, Node, NodeConfig, Peer};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Set by SIGINT / SIGTERM; the node polls it.
static STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(cavascope_node::stop_flag);

extern "C" fn on_stop_signal(_: libc::c_int) {
    // Initialised before the handler is installed: only an atomic store happens here.
    STOP.store(true, Ordering::Relaxed);
}

fn install_stop_handlers() {
    LazyLock::force(&STOP);
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an initialised atomic (async-signal-safe).
        let prev = unsafe { libc::signal(sig, on_stop_signal as *const () as libc::sighandler_t) };
        if prev == libc::SIG_ERR {
            tracing::warn!("cannot install the handler for signal {sig}: stop with kill -9 only");
        }
    }
}

pub fn run(a: ListenArgs) -> u8 {
    let bad = |m: String| {
        eprintln!("cavascope listen: {m}");
        2
    };
    let ip: IpAddr = match a.bind.parse() {
        Ok(ip) => ip,
        Err(_) => return bad(format!("--bind {:?}: not an IP address", a.bind)),
    };
    if !(a.idle.is_finite() && a.idle >= 0.0 && a.idle <= 86_400.0) {
        return bad(format!("--idle {}: seconds between 0 and 86400", a.idle));
    }
    if !(a.max_disk_gb.is_finite() && a.max_disk_gb > 0.0) {
        return bad(format!("--max-disk-gb {}: a positive number", a.max_disk_gb));
    }
    if a.max_associations == 0 {
        return bad("--max-associations: at least 1".into());
    }
    let send_to = match a.send_to.as_deref().map(Peer::parse).transpose() {
        Ok(p) => p,
        Err(e) => return bad(format!("--send-to: {e}")),
    };
    let mut parsed = match analyze::parse_inputs(&a.inputs) {
        Ok(p) => p,
        Err(e) => return bad(e.to_string()),
    };
    // `--send-to` sends report/dicom/*.dcm: the analysis writes the DICOM SEG and SR there
    // (as `analyze --dicom-out`) whenever there is a peer to send them to.
    parsed.dicom_out |= send_to.is_some();
    let cfg = NodeConfig {
        ae_title: a.ae_title.clone(),
        bind: SocketAddr::new(ip, a.port),
        out: a.out.clone(),
        allow: a.allow.clone(),
        idle: Duration::from_secs_f64(a.idle),
        send_to,
        limits: Limits {
            max_associations: a.max_associations,
            max_instance_bytes: a.max_instance_mb.saturating_mul(1 << 20),
            max_disk_bytes: (a.max_disk_gb * (1u64 << 30) as f64) as u64,
            min_free_bytes: a.min_free_mb.saturating_mul(1 << 20),
            ..Limits::default()
        },
    };
    let node = match Node::bind(cfg) {
        Ok(n) => n,
        Err(e @ cavascope_node::NodeError::Bind { .. }) => {
            eprintln!("cavascope listen: {e}");
            return 1;
        }
        Err(e) => return bad(e.to_string()),
    };
    let stop = STOP.clone();
    install_stop_handlers();
    let analyzer = move |study: &std::path::Path, out: &std::path::Path| {
        analyze::analyze_parsed(study, out, &parsed)
            .map(drop)
            .map_err(|e| match e {
                analyze::AnalyzeError::Study { reason, .. } => reason,
                other => other.to_string(),
            })
    };
    match node.run(Arc::new(analyzer), stop) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cavascope listen: {e}");
            1
        }
    }
}
