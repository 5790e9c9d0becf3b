//! Diagnostic printout of the seeded mass region against the phantom's true mass: missed
//! and extra voxels by tissue, the farthest extra voxels, and an ASCII map of one slice
//! (M/N: mass/necrosis found, m/n: missed, +: extra, i: IVC, l: liver). Not a test.
//!
//! `CASE=<phantom case> SEED=<draw> [FAR=1] cargo run -p cavascope-mass --example seeded_overlap`
//! (`FAR=1` centres the map on the farthest extra voxel instead of the true centroid).

#[path = "../tests/truth_ivc/mod.rs"]
mod truth_ivc;

use cavascope_mass::{build_mass, MassOutcome};
use cavascope_measurements::SegmentOptions;
use cavascope_phantom::{generate, CaseName, PhantomOptions};
use cavascope_phases::assign_roles;
use cavascope_volume::Point3;
use truth_ivc::truth_landmarks;

fn main() {
    let case = std::env::var("CASE")
        .ok()
        .and_then(|c| CaseName::parse(&c))
        .unwrap_or(CaseName::IvcLeiomyosarcoma);
    let pseed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let s = generate(case, &PhantomOptions::small().with_seed(pseed));
    let phases = assign_roles(&s.volumes, &[]);
    let seed = s.truth.mass_seed_mm.expect("seed");
    let opts = SegmentOptions {
        mass_seed: Some(Point3::new(seed[0], seed[1], seed[2])),
        ..Default::default()
    };
    let MassOutcome {
        model: m,
        warnings: w,
        ..
    } = build_mass(&s.volumes, &phases, None, &truth_landmarks(&s), &opts);
    let m = m.expect("mass");
    eprintln!("{w:?}");
    let truth = s.labels.mass.as_ref().expect("mass");
    let mut fn_by = std::collections::BTreeMap::new();
    let mut fp_by = std::collections::BTreeMap::new();
    for ((idx, &t), &g) in truth.data.indexed_iter().zip(m.mask.data.iter()) {
        let tis = s.labels.tissue[idx];
        if t && !g {
            *fn_by.entry(tis).or_insert(0usize) += 1;
        }
        if g && !t {
            *fp_by.entry(tis).or_insert(0usize) += 1;
        }
    }
    // Where the false positives lie: distance from the truth centroid, by slice.
    let tc = s.truth.mass.as_ref().expect("t").centroid_mm;
    let mut far: Vec<(f64, [usize; 3])> = Vec::new();
    for ((k, j, i), (t, &g)) in truth
        .data
        .indexed_iter()
        .zip(m.mask.data.iter())
        .map(|(a, b)| (a.0, (*a.1, b)))
    {
        if g && !t {
            let p = s.labels.geometry.index_to_world([i as f64, j as f64, k as f64]);
            let d = ((p.x - tc[0]).powi(2) + (p.y - tc[1]).powi(2) + (p.z - tc[2]).powi(2)).sqrt();
            far.push((d, [k, j, i]));
        }
    }
    far.sort_by(|a, b| b.0.total_cmp(&a.0));
    eprintln!(
        "farthest false positives (mm from truth centroid, kji): {:?}",
        &far[..far.len().min(8)]
    );
    eprintln!(
        "truth {} ours {} FN by tissue {fn_by:?} FP by tissue {fp_by:?}",
        truth.count(),
        m.mask.count()
    );
    let c = s.truth.mass.as_ref().expect("t").centroid_mm;
    let idx = s.labels.geometry.world_to_index(&Point3::new(c[0], c[1], c[2]));
    // `FAR=1` centres the print on the farthest false positive instead of the centroid.
    let (k, j0, i0) = match (std::env::var("FAR").is_ok(), far.first()) {
        (true, Some((_, [k, j, i]))) => (*k, *j, *i),
        _ => (
            idx[2].round() as usize,
            idx[1].round() as usize,
            idx[0].round() as usize,
        ),
    };
    for j in j0.saturating_sub(22)..(j0 + 22) {
        let mut line = String::new();
        for i in i0.saturating_sub(30)..(i0 + 30) {
            let t = s.labels.tissue[[k, j, i]];
            let g = m.mask.data[[k, j, i]];
            let ch = match (t, g) {
                (16, true) => 'M',
                (16, false) => 'm',
                (17, true) => 'N',
                (17, false) => 'n',
                (_, true) => '+',
                (9, false) => 'i',
                (5, false) => 'l',
                (1, false) => ' ',
                _ => '.',
            };
            line.push(ch);
        }
        eprintln!("{line}");
    }
}
