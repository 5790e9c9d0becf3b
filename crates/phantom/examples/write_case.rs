//! Write one case: `cargo run -p cavascope-phantom --example write_case --release -- CASE OUT [TS] [NAMING] [junk]`
use cavascope_phantom::{
    generate, write_study, CaseName, Naming, PhantomOptions, TransferSyntax, WriteOptions,
};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let case = CaseName::parse(a.get(1).map(String::as_str).unwrap_or("ivc_leiomyosarcoma"))
        .unwrap_or(CaseName::IvcLeiomyosarcoma);
    let out = std::path::PathBuf::from(a.get(2).cloned().unwrap_or_else(|| "phantom-out".into()));
    let w = WriteOptions {
        transfer_syntax: a
            .get(3)
            .and_then(|s| TransferSyntax::parse(s))
            .unwrap_or(TransferSyntax::ExplicitLE),
        naming: a.get(4).and_then(|s| Naming::parse(s)).unwrap_or(Naming::Ordered),
        junk: a.get(5).is_some_and(|s| s == "junk"),
        signed_ct: false,
    };
    let t0 = std::time::Instant::now();
    let s = generate(case, &PhantomOptions::small());
    let t1 = t0.elapsed();
    match write_study(&s, &out, &w) {
        Ok(ws) => println!(
            "generated in {:.2} s, wrote {} series ({} files) + {} junk in {:.2} s",
            t1.as_secs_f64(),
            ws.series_files.len(),
            ws.series_files.iter().map(|f| f.len()).sum::<usize>(),
            ws.junk_files.len(),
            (t0.elapsed() - t1).as_secs_f64()
        ),
        Err(e) => eprintln!("error: {e}"),
    }
}
