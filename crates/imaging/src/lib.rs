//! General image tools with no anatomy in them, shared by the measuring crates:
//! binary morphology and distance transforms ([`morph`]), the slice-wise convex hull
//! ([`hull`]), translation-only phase registration ([`registration`]) and Gaussian
//! smoothing with multi-scale Hessian vesselness ([`vesselness`]).

#![warn(missing_docs)]

pub mod hull;
pub mod morph;
pub mod noise;
pub mod registration;
pub mod smooth;
pub mod stats;
pub mod vesselness;
