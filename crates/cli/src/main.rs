//! `cavascope`: a thin binary over the library crates. It parses arguments and calls.
//! Exit codes: 0 done; 1 the study could not be analysed; 2 bad arguments.

mod args;
mod cmd;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version with exit 0 and usage errors with 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    cmd::logging::init(cli.global.quiet, cli.global.verbose);
    // Patient names and IDs stay out of logs unless asked for.
    if let Some(n) = cli.global.threads {
        // Every parallel stage runs on rayon's global pool.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let code = match cli.command {
        None => cmd::demo::run(&cli.global),
        Some(args::Command::Analyze(a)) => cmd::analyze::run(&cli.global, a),
        Some(args::Command::Batch(a)) => cmd::batch::run(&cli.global, a),
        Some(args::Command::Inspect(a)) => cmd::inspect::run(&cli.global, a),
        Some(args::Command::Convert(a)) => cmd::convert::run(&cli.global, a),
        Some(args::Command::Phantom(a)) => cmd::phantom::run(&cli.global, a),
        Some(args::Command::Score(a)) => cmd::bench::run_score(&cli.global, a),
        Some(args::Command::Bench(a)) => cmd::bench::run(&cli.global, a),
        Some(args::Command::Listen(a)) => cmd::listen::run(a),
    };
    ExitCode::from(code)
}
