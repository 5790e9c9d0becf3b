//! Logging: `tracing` to stderr, `RUST_LOG` honoured; warnings only with `--quiet`.
//!
//! Progress bars and log lines share stderr: while a bar is shown, every log line is
//! written with the bars suspended, so lines never tear a bar apart. No command logs
//! patient names or IDs from the DICOM headers (studies are named by folder).

use indicatif::MultiProgress;
use std::io::{IsTerminal, Write};
use std::sync::{Mutex, OnceLock};

/// The bars currently drawn, if any (one batch or one study at a time).
static BARS: OnceLock<Mutex<Option<MultiProgress>>> = OnceLock::new();

pub fn init(quiet: bool, verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = if quiet {
        "warn"
    } else {
        match verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        }
    };
    // The JPEG 2000 codec (jpeg2k over openjp2) logs its progress ("Start to read j2k
    // main header" …) at INFO once per frame: kept at WARN unless everything is asked for.
    let default = if verbose >= 2 && !quiet {
        default.to_string()
    } else {
        format!("{default},jpeg2k=warn")
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| BarAwareStderr)
        // Colour codes only where a person reads them.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Whether progress bars should be drawn: stderr is a terminal and `--quiet` is off.
pub fn bars_wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// Register the bars being drawn so log lines suspend them; `None` when they are done.
pub fn set_bars(bars: Option<MultiProgress>) {
    let slot = BARS.get_or_init(|| Mutex::new(None));
    // A poisoned lock only means a thread panicked while logging; the slot is still usable.
    let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
    *guard = bars;
}

/// stderr, with any progress bars moved out of the way while a line is written.
struct BarAwareStderr;

impl Write for BarAwareStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bars = BARS
            .get()
            .and_then(|m| m.lock().unwrap_or_else(|p| p.into_inner()).clone());
        match bars {
            Some(mp) => mp.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
