//! The mass: its region from a seed, a label map or found automatically ([`mass`],
//! [`mass_auto`]), its size, position and relation to the IVC, its enhancement across
//! the dynamic phases ([`enhancement`]) and, on MRI, its signal ratios and ADC ([`mr`]).

#![warn(missing_docs)]

pub mod enhancement;
pub mod mass;
pub mod mass_auto;
pub mod mr;
pub mod params;

pub use mass::{build_mass, MassOutcome};

// Short paths used inside the modules.
pub(crate) use cavascope_imaging::{hull, morph, registration, vesselness};
pub(crate) use cavascope_measurements as model;
pub(crate) use cavascope_phases::stack;
