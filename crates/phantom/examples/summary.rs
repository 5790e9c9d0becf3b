//! Print a summary of each case's truth and a few measured values.
//! `cargo run -p cavascope-phantom --example summary --release`
use cavascope_phantom::{generate, CaseName, PhantomOptions};

fn main() {
    for &case in CaseName::all() {
        let t0 = std::time::Instant::now();
        let s = generate(case, &PhantomOptions::small().noiseless());
        let dt = t0.elapsed();
        let t = &s.truth;
        println!("== {case} ({:.2} s)", dt.as_secs_f64());
        println!(
            "  ivc eqd {:.1}..{:.1} flat {:.2} minAP {:.1} len {:.0} imperceptible {:?} seed {:?}",
            t.ivc.min_equivalent_diameter_mm,
            t.ivc.max_equivalent_diameter_mm,
            t.ivc.min_flattening_ratio,
            t.ivc.min_ap_diameter_mm,
            t.ivc.length_mm,
            t.ivc.lumen.imperceptible_ranges_z_mm,
            t.ivc_seed_mm
        );
        if let Some(m) = &t.mass {
            println!(
                "  mass {} vol {:.1} ml (label {:.1}) dmax {:.1} seg {} fat {:.2} arc {} cv {:.2} pattern {} means {:?}",
                m.kind,
                m.volume_ml,
                s.labels.mass.as_ref().map(|x| x.volume_ml()).unwrap_or(0.0),
                m.max_diameter_mm,
                m.ivc_segment,
                m.fat_fraction,
                m.contact_arc_deg,
                m.arterial_heterogeneity_cv,
                m.pattern,
                m.mean_by_role
            );
            if let Some(mr) = &m.mr {
                println!("  mr {:?}", mr);
            }
        }
        println!("  signs {:?}", t.expected_signs);
        println!(
            "  probes {}",
            t.probes
                .iter()
                .map(|p| p.name.clone())
                .collect::<Vec<_>>()
                .join(",")
        );
    }
}
