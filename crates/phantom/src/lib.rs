//! Digital abdominal phantom: multiphase CT and MRI studies with exact ground truth.
//!
//! No public study with an IVC leiomyosarcoma and known truth exists, so cavascope makes
//! its own. [`generate`] samples an analytic abdomen (patient LPS mm: body wall, spine,
//! aorta, a gently curved elliptical IVC, liver, kidneys with renal veins, hepatic veins,
//! right atrium, collateral veins, and the lesion of the case) onto a grid with partial
//! volume and seeded noise, one [`Volume`] per series (CT: unenhanced, arterial, portal
//! venous, delayed; MRI: T2, DWI b0/b800, ADC, T1 pre and three post-gadolinium phases).
//! [`Truth`] holds what an analysis should find, in the vocabulary of report-v1;
//! [`write_study`] writes the series as DICOM files with `truth.json` beside them.
//!
//! ```
//! use cavascope_phantom::{generate, CaseName, PhantomOptions};
//!
//! let mut opts = PhantomOptions::small().noiseless();
//! opts.cols = 64; opts.rows = 64; opts.pixel_spacing_mm = 6.0; opts.slices = 20; opts.slice_spacing_mm = 12.0;
//! let study = generate(CaseName::IvcLeiomyosarcoma, &opts);
//! assert_eq!(study.volumes.len(), 4);
//! assert_eq!(study.volumes[0].meta.modality, "CT");
//! // The tumour dilates the IVC beyond the 28 mm megacava threshold.
//! assert!(study.truth.ivc.max_equivalent_diameter_mm > 30.0);
//! assert_eq!(study.truth.expected_signs["imperceptible_ivc_lumen"], "present");
//! ```

#![warn(missing_docs)]

pub mod anatomy;
mod case;
mod error;
pub mod hybrid;
mod ivc;
mod options;
pub mod protocol;
mod render;
pub mod seg;
mod shapes;
mod tissue;
pub mod truth;
mod write;

pub use case::CaseName;
pub use error::PhantomError;
pub use hybrid::{generate_hybrid, Background};
pub use options::{Orientation, PhantomOptions};
pub use tissue::Tissue;
pub use truth::Truth;
pub use write::{write_study, Naming, TransferSyntax, WriteOptions, WrittenStudy};

use cavascope_volume::{Geometry, Mask, Volume};
use ndarray::Array3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Label maps on the grid every series shares.
#[derive(Debug, Clone)]
pub struct Labels {
    /// The grid of every label map (and every series).
    pub geometry: Geometry,
    /// IVC contour, tumour inside it included.
    pub ivc: Mask,
    /// Flowing, opacifiable blood inside the IVC.
    pub lumen: Mask,
    /// The mass; `None` in the normal case.
    pub mass: Option<Mask>,
    /// [`Tissue`] per voxel (`Tissue as u8`), for debugging and overlays.
    pub tissue: Array3<u8>,
}

/// A generated study: volumes (one per series), labels and truth.
#[derive(Debug, Clone)]
pub struct PhantomStudy {
    /// The case drawn.
    pub case: CaseName,
    /// One volume per series, in protocol order.
    pub volumes: Vec<Volume>,
    /// Exact label maps on the shared grid.
    pub labels: Labels,
    /// What an analysis should find.
    pub truth: Truth,
    /// Study-level identifiers used when writing DICOM.
    pub study_instance_uid: String,
    /// Frame of Reference UID shared by every series.
    pub frame_of_reference_uid: String,
    /// The options actually used (after sanitising).
    pub options: PhantomOptions,
    /// Acquisition details per volume (same order as `volumes`).
    pub specs: Vec<protocol::SeriesSpec>,
}

/// A DICOM UID under the 2.25 (UUID-derived) root, deterministic from the generator.
pub(crate) fn uid(rng: &mut ChaCha8Rng) -> String {
    let v: u128 = rng.random::<u128>() >> 1;
    format!("2.25.{v}")
}

/// Generate a phantom study. Never fails: impossible options are replaced (see
/// [`PhantomOptions::sanitized`]).
pub fn generate(case: CaseName, opts: &PhantomOptions) -> PhantomStudy {
    let opts = opts.sanitized();
    let anatomy = anatomy::Anatomy::with_variety(case, opts.seed, opts.variety);
    let specs = if case.is_mri() {
        protocol::mr_protocol()
    } else {
        protocol::ct_protocol()
    };
    let geometry = opts.geometry();
    let rendered = render::render(&anatomy, &opts, &specs);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ ((case as u64 + 1) << 40) ^ 0xC0FF_EE00);
    assemble(case, &anatomy, opts, specs, geometry, rendered, &mut rng)
}

/// The study from its rendered series: one volume per series with its metadata, the
/// truth and the label maps, under UIDs drawn from `rng` (study, frame of reference,
/// then one per series).
fn assemble(
    case: CaseName,
    anatomy: &anatomy::Anatomy,
    opts: PhantomOptions,
    specs: Vec<protocol::SeriesSpec>,
    geometry: Geometry,
    rendered: render::Rendered,
    rng: &mut ChaCha8Rng,
) -> PhantomStudy {
    let study_uid = uid(rng);
    let for_uid = uid(rng);
    let uids: Vec<String> = specs.iter().map(|_| uid(rng)).collect();
    let volumes = rendered
        .series
        .into_iter()
        .zip(specs.iter().zip(&uids))
        .map(|(data, (s, u))| {
            let meta = hybrid::meta_for(s, u, &study_uid, &for_uid);
            Volume::new(data, geometry.clone(), meta)
        })
        .collect();
    let truth = truth::compute(anatomy, &opts, &specs, &uids, &geometry);
    let labels = Labels {
        geometry: geometry.clone(),
        ivc: Mask::new(rendered.ivc, geometry.clone()),
        lumen: Mask::new(rendered.lumen, geometry.clone()),
        mass: anatomy
            .mass
            .as_ref()
            .map(|_| Mask::new(rendered.mass, geometry.clone())),
        tissue: rendered.tissue,
    };
    PhantomStudy {
        case,
        volumes,
        labels,
        truth,
        study_instance_uid: study_uid,
        frame_of_reference_uid: for_uid,
        options: opts,
        specs,
    }
}
