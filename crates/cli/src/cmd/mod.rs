//! One module per command; each returns the process exit code.
pub mod analyze;
pub mod batch;
pub mod bench;
pub mod convert;
pub mod demo;
pub mod inspect;
pub mod listen;
pub mod logging;
pub mod phantom;
