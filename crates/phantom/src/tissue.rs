//! Tissue classes and their values on every kind of series.
//!
//! CT values are Hounsfield units on the unenhanced, arterial, portal-venous and delayed
//! phases. MRI values are in arbitrary scanner units: T1-weighted fat-suppressed gradient
//! echo before and after gadolinium (same four timings), T2-weighted single-shot fast spin
//! echo, the b = 0 diffusion signal `s0`, and the ADC (1e-3 mm²/s); a diffusion image at
//! b is `s0 · exp(−b · ADC)`.

use serde::{Deserialize, Serialize};

/// Tissue class, stored per voxel in [`crate::Labels::tissue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Tissue {
    /// Outside the body, or gas in a bowel loop.
    Air = 0,
    /// Subcutaneous and retroperitoneal fat.
    Fat = 1,
    /// Muscle (body wall, psoas, paraspinal).
    Muscle = 2,
    /// Vertebral bone.
    Bone = 3,
    /// Unnamed soft tissue (abdominal contents, bowel wall).
    SoftTissue = 4,
    /// Liver parenchyma.
    Liver = 5,
    /// Spleen.
    Spleen = 6,
    /// Kidney parenchyma.
    Kidney = 7,
    /// Blood in the aorta.
    ArterialBlood = 8,
    /// Flowing blood in the IVC lumen.
    IvcBlood = 9,
    /// Blood in a renal vein.
    RenalVein = 10,
    /// Blood in a hepatic vein.
    HepaticVein = 11,
    /// Blood in a collateral vein.
    CollateralVein = 12,
    /// Blood in the right atrium.
    RightAtrium = 13,
    /// Cerebrospinal fluid in the spinal canal.
    Csf = 14,
    /// Intervertebral disc.
    Disc = 15,
    /// Viable mass tissue.
    Mass = 16,
    /// Necrotic mass core.
    MassNecrosis = 17,
    /// Fat inside a mass (liposarcoma lobules).
    MassFat = 18,
    /// Blood in an iliac vein.
    IliacVein = 19,
    /// Positive oral contrast in a bowel loop (drawn anatomy, [`crate::PhantomOptions::variety`]).
    OralContrast = 20,
    /// Fluid in a bowel loop.
    BowelFluid = 21,
}

impl Tissue {
    /// Number of tissues (label values `0..COUNT`).
    pub const COUNT: usize = 22;

    /// The tissue with this label value.
    pub fn from_u8(v: u8) -> Option<Tissue> {
        use Tissue::*;
        const ALL: [Tissue; Tissue::COUNT] = [
            Air,
            Fat,
            Muscle,
            Bone,
            SoftTissue,
            Liver,
            Spleen,
            Kidney,
            ArterialBlood,
            IvcBlood,
            RenalVein,
            HepaticVein,
            CollateralVein,
            RightAtrium,
            Csf,
            Disc,
            Mass,
            MassNecrosis,
            MassFat,
            IliacVein,
            OralContrast,
            BowelFluid,
        ];
        ALL.get(v as usize).copied()
    }

    /// snake_case name, as in truth.json probes.
    pub fn name(&self) -> &'static str {
        use Tissue::*;
        match self {
            Air => "air",
            Fat => "fat",
            Muscle => "muscle",
            Bone => "bone",
            SoftTissue => "soft_tissue",
            Liver => "liver",
            Spleen => "spleen",
            Kidney => "kidney",
            ArterialBlood => "arterial_blood",
            IvcBlood => "ivc_blood",
            RenalVein => "renal_vein",
            HepaticVein => "hepatic_vein",
            CollateralVein => "collateral_vein",
            RightAtrium => "right_atrium",
            Csf => "csf",
            Disc => "disc",
            Mass => "mass",
            MassNecrosis => "mass_necrosis",
            MassFat => "mass_fat",
            IliacVein => "iliac_vein",
            OralContrast => "oral_contrast",
            BowelFluid => "bowel_fluid",
        }
    }

    /// Part of the mass (any component).
    pub fn is_mass(&self) -> bool {
        matches!(self, Tissue::Mass | Tissue::MassNecrosis | Tissue::MassFat)
    }
}

/// A tissue's values on every kind of series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Props {
    /// HU: unenhanced, arterial, portal venous, delayed.
    pub ct: [f32; 4],
    /// T1 fat-suppressed GRE: pre, arterial, portal venous, delayed.
    pub t1: [f32; 4],
    /// T2 single-shot FSE (no fat suppression).
    pub t2: f32,
    /// Diffusion b = 0 signal (fat suppressed).
    pub s0: f32,
    /// ADC, 1e-3 mm²/s.
    pub adc: f32,
}

impl Props {
    const fn new(ct: [f32; 4], t1: [f32; 4], t2: f32, s0: f32, adc: f32) -> Props {
        Props { ct, t1, t2, s0, adc }
    }

    /// Linear mix `self·(1−w) + other·w` of every value.
    pub fn mix(&self, other: &Props, w: f32) -> Props {
        let l = |a: f32, b: f32| a + (b - a) * w;
        Props {
            ct: [0, 1, 2, 3].map(|i| l(self.ct[i], other.ct[i])),
            t1: [0, 1, 2, 3].map(|i| l(self.t1[i], other.t1[i])),
            t2: l(self.t2, other.t2),
            s0: l(self.s0, other.s0),
            adc: l(self.adc, other.adc),
        }
    }
}

/// Values of a tissue where they do not depend on position (blood in the infrarenal IVC
/// on the arterial phase and the mass do; see `anatomy`).
pub fn base_props(t: Tissue) -> Props {
    use Tissue::*;
    match t {
        Air => Props::new([-1000.0; 4], [5.0; 4], 5.0, 5.0, 0.0),
        Fat => Props::new(
            [-100.0, -100.0, -98.0, -98.0],
            [120.0, 125.0, 125.0, 125.0],
            500.0,
            30.0,
            0.3,
        ),
        Muscle => Props::new(
            [50.0, 55.0, 62.0, 60.0],
            [400.0, 430.0, 470.0, 480.0],
            180.0,
            220.0,
            1.4,
        ),
        Bone => Props::new(
            [450.0, 455.0, 460.0, 460.0],
            [350.0, 380.0, 400.0, 400.0],
            250.0,
            150.0,
            0.5,
        ),
        SoftTissue => Props::new(
            [35.0, 45.0, 70.0, 65.0],
            [380.0, 500.0, 600.0, 580.0],
            300.0,
            300.0,
            1.6,
        ),
        Liver => Props::new(
            [55.0, 70.0, 110.0, 90.0],
            [520.0, 620.0, 900.0, 850.0],
            220.0,
            350.0,
            1.3,
        ),
        Spleen => Props::new(
            [50.0, 120.0, 115.0, 95.0],
            [420.0, 800.0, 850.0, 760.0],
            420.0,
            500.0,
            0.8,
        ),
        Kidney => Props::new(
            [35.0, 180.0, 170.0, 130.0],
            [450.0, 1300.0, 1100.0, 900.0],
            500.0,
            600.0,
            2.0,
        ),
        ArterialBlood => Props::new(
            [40.0, 300.0, 160.0, 110.0],
            [180.0, 1500.0, 900.0, 700.0],
            60.0,
            120.0,
            3.0,
        ),
        // Suprarenal value on the arterial phase; infrarenal blood mixes (anatomy).
        IvcBlood => Props::new(
            [40.0, 140.0, 150.0, 110.0],
            [180.0, 900.0, 950.0, 720.0],
            60.0,
            120.0,
            3.0,
        ),
        RenalVein => Props::new(
            [40.0, 170.0, 155.0, 110.0],
            [180.0, 1100.0, 950.0, 720.0],
            60.0,
            120.0,
            3.0,
        ),
        HepaticVein => Props::new(
            [40.0, 60.0, 160.0, 110.0],
            [180.0, 300.0, 950.0, 720.0],
            60.0,
            120.0,
            3.0,
        ),
        CollateralVein => Props::new(
            [40.0, 80.0, 150.0, 110.0],
            [180.0, 400.0, 900.0, 720.0],
            60.0,
            120.0,
            3.0,
        ),
        RightAtrium => Props::new(
            [40.0, 200.0, 160.0, 110.0],
            [180.0, 1200.0, 900.0, 700.0],
            60.0,
            120.0,
            3.0,
        ),
        IliacVein => Props::new(
            [40.0, 50.0, 145.0, 110.0],
            [180.0, 300.0, 930.0, 720.0],
            60.0,
            120.0,
            3.0,
        ),
        Csf => Props::new([15.0; 4], [150.0; 4], 1200.0, 1200.0, 3.0),
        // Dilute positive oral contrast (barium/iodine, ~250 HU, unchanged by IV
        // contrast); on MRI a fluid-like signal.
        OralContrast => Props::new([250.0; 4], [250.0; 4], 1000.0, 900.0, 2.8),
        BowelFluid => Props::new([10.0; 4], [130.0; 4], 1100.0, 1000.0, 2.9),
        Disc => Props::new(
            [80.0, 80.0, 85.0, 85.0],
            [300.0, 300.0, 320.0, 330.0],
            600.0,
            500.0,
            1.8,
        ),
        // Mass components: defaults; each case's mass model sets its own values.
        Mass => Props::new(
            [40.0, 85.0, 98.0, 117.0],
            [300.0, 575.0, 800.0, 900.0],
            520.0,
            520.0,
            0.8,
        ),
        MassNecrosis => Props::new(
            [25.0, 27.0, 30.0, 33.0],
            [250.0, 255.0, 260.0, 265.0],
            950.0,
            900.0,
            1.8,
        ),
        MassFat => Props::new(
            [-90.0, -90.0, -88.0, -88.0],
            [130.0, 135.0, 135.0, 135.0],
            520.0,
            35.0,
            0.3,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for v in 0..Tissue::COUNT as u8 {
            let t = Tissue::from_u8(v).unwrap();
            assert_eq!(t as u8, v);
        }
        assert!(Tissue::from_u8(Tissue::COUNT as u8).is_none());
    }

    #[test]
    fn contrast_dynamics_as_specified() {
        // Issue 3: aorta 40/300/160/110 HU; liver 55/70/110/90.
        assert_eq!(base_props(Tissue::ArterialBlood).ct, [40.0, 300.0, 160.0, 110.0]);
        assert_eq!(base_props(Tissue::Liver).ct, [55.0, 70.0, 110.0, 90.0]);
        // Unenhanced blood is not opacified anywhere.
        for t in [Tissue::IvcBlood, Tissue::RenalVein, Tissue::HepaticVein] {
            assert_eq!(base_props(t).ct[0], 40.0);
        }
    }
}
