//! Phase timings of one study: `time_ingest STUDY_DIR [OUT.nii]`.
use std::time::Instant;
fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("STUDY_DIR"));
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
    let t = Instant::now();
    let s = cavascope_ingest::load_study(&dir, &Default::default()).unwrap();
    println!("full load: {:.3} s", t.elapsed().as_secs_f64());
    let v = s.volumes().next().cloned();
    if let (Some(out), Some(v)) = (std::env::args().nth(2), v) {
        let t = Instant::now();
        cavascope_volume::nifti_io::write_volume(std::path::Path::new(&out), &v).unwrap();
        println!("write: {:.3} s", t.elapsed().as_secs_f64());
    }
}
