//! Venous collaterals: the vertebral column and the named veins beside it (azygos,
//! hemiazygos, lumbar, gonadal), and their diameters ([`collaterals`]).

#![warn(missing_docs)]

pub mod collaterals;
pub mod levels;
pub mod params;

pub use collaterals::{measure_collaterals, measure_collaterals_with, CollateralsOutcome};

// Short paths used inside the module.
pub(crate) use cavascope_imaging::{morph, vesselness};
pub(crate) use cavascope_measurements as model;
pub(crate) use cavascope_phases::stack;
