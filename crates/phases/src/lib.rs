//! Which series is which contrast phase ([`phases`]: the role of each series), and the
//! dynamic phases resampled onto one grid of the reference series ([`stack`]), with the
//! spine position the mass and collateral searches start from ([`spine`]).

#![warn(missing_docs)]

pub mod phases;
pub mod spine;
pub mod stack;

pub use phases::assign_roles;

// Short paths used inside the modules.
pub(crate) use cavascope_measurements as model;
