//! One timed generation of the benchmark study (4-phase CT, 512 × 512 × 200).
use cavascope_phantom::{generate, CaseName, PhantomOptions};
fn main() {
    let mut o = PhantomOptions::standard();
    o.slices = 200;
    o.slice_spacing_mm = 1.25;
    let case = std::env::args()
        .nth(1)
        .and_then(|s| CaseName::parse(&s))
        .unwrap_or(CaseName::IvcLeiomyosarcoma);
    let t = std::time::Instant::now();
    let s = generate(case, &o);
    println!(
        "{case}: {:?} in {:.2} s ({} threads)",
        s.volumes[0].shape(),
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
}
