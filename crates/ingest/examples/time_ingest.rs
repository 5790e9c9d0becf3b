//! Phase timings of one study: `time_ingest STUDY_DIR [OUT.nii]`.
//! With OUT: the whole-volume path (load + `write_volume`) and the streamed path
//! (`plan_study` + `write_nifti`, what `convert` runs), each timed.
use std::time::Instant;
fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("STUDY_DIR"));
    let out = std::env::args().nth(2).map(std::path::PathBuf::from);
    let t = Instant::now();
    let h = cavascope_ingest::load_study(
        &dir,
        &cavascope_ingest::IngestOptions {
            decode_pixels: false,
            ..Default::default()
        },
    )
    .unwrap();
    println!(
        "headers only: {:.3} s ({} files)",
        t.elapsed().as_secs_f64(),
        h.files_scanned
    );
    if std::env::var_os("STREAM_ONLY").is_none() {
        let t = Instant::now();
        let s = cavascope_ingest::load_study(&dir, &Default::default()).unwrap();
        println!("full load: {:.3} s", t.elapsed().as_secs_f64());
        let v = s.volumes().next().cloned();
        if let (Some(out), Some(v)) = (&out, v) {
            let t = Instant::now();
            cavascope_volume::nifti_io::write_volume(out, &v).unwrap();
            println!("write: {:.3} s", t.elapsed().as_secs_f64());
        }
    }
    if let Some(out) = &out {
        let t = Instant::now();
        let p = cavascope_ingest::export::plan_study(&dir, &Default::default()).unwrap();
        let t1 = t.elapsed().as_secs_f64();
        let e = p.write_nifti(0, out).unwrap();
        println!(
            "streamed: plan {t1:.3} s, plan + write {:.3} s (streamed: {})",
            t.elapsed().as_secs_f64(),
            e.streamed
        );
    }
}
