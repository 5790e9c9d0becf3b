//! cavascope-phantom (work in progress).
