//! The inferior vena cava: where it is (a seed, automatic detection, or a label map),
//! tracked slice by slice ([`track`], its wall [`layer`], through a tumour [`bridge`]),
//! then measured the same way whatever the source ([`ivc`]): centreline
//! ([`centreline`]), perpendicular calibre every mm ([`calibre`]), lumen visibility
//! ([`lumen`]) and the level landmarks ([`landmarks`]). An automatic track with lung beside
//! it over most of its length is a vein in the chest, not the IVC ([`thorax`]).

#![warn(missing_docs)]

pub mod anatomical;
pub mod bridge;
pub mod calibre;
pub mod centreline;
pub mod ivc;
pub mod landmarks;
pub mod layer;
pub mod lumen;
pub mod params;
pub mod thorax;
pub mod track;

pub use ivc::{build_ivc, IvcOutcome};

// Short path used inside the modules.
pub(crate) use cavascope_measurements as model;
