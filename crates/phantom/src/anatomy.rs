//! The analytic abdomen of one case and seed: shapes in patient LPS mm, painted in order
//! (later layers cover earlier ones), and each tissue's values by position.

use crate::case::CaseName;
use crate::ivc::{Dilation, Flattening, Ivc, IvcAtZ, Plug};
use crate::shapes::{capsule_sd, coverage, ellipse_sd, ellipsoid_sd, smoothstep, Aabb, PatchField};
use crate::tissue::{base_props, Props, Tissue};
use nalgebra::{Point3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Shape of one painted layer.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// Elliptic cylinder along z, capped at `z0`/`z1`.
    CylZ {
        cx: f64,
        cy: f64,
        a: f64,
        b: f64,
        z0: f64,
        z1: f64,
    },
    Ellipsoid {
        c: Point3<f64>,
        s: [f64; 3],
    },
    Capsule {
        a: Point3<f64>,
        b: Point3<f64>,
        r: f64,
    },
    /// The IVC ([`Anatomy::ivc`]).
    Ivc,
    /// The mass ([`Anatomy::mass`]).
    Mass,
}

/// One painted layer.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    pub name: &'static str,
    pub tissue: Tissue,
    pub shape: Shape,
    /// World box outside which the layer's coverage is 0 (before the partial-volume margin).
    pub bbox: Aabb,
}

/// What kind of mass a case has; decides the mass's values by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MassKind {
    Leiomyosarcoma,
    Cholangiocarcinoma,
    Extrinsic,
    Liposarcoma,
    Hcc,
}

/// The mass: its shape and internal make-up.
#[derive(Debug, Clone)]
pub(crate) struct MassModel {
    pub kind: MassKind,
    /// Main (extraluminal) ellipsoid.
    pub center: Point3<f64>,
    pub semi: [f64; 3],
    /// Intraluminal tumour (leiomyosarcoma only).
    pub plug: Option<Plug>,
    /// Necrotic core (ellipsoid) — leiomyosarcoma.
    pub necrosis: Option<(Point3<f64>, [f64; 3])>,
    /// Patchy enhancement field.
    pub patch: PatchField,
    /// Fat lobules (liposarcoma): fat where the field exceeds `fat_threshold`.
    pub fat_field: Option<(PatchField, f64)>,
    pub bbox: Aabb,
}

/// A named collateral vein (a chain of capsules).
#[derive(Debug, Clone)]
pub(crate) struct Vein {
    pub name: &'static str,
    pub points: Vec<Point3<f64>>,
    pub radius: f64,
}

/// The whole analytic abdomen.
#[derive(Debug, Clone)]
pub struct Anatomy {
    pub(crate) case: CaseName,
    pub(crate) seed: u64,
    /// The IVC: centreline, cross-sections, and the case's dilation or flattening.
    pub ivc: Ivc,
    pub(crate) mass: Option<MassModel>,
    pub(crate) collaterals: Vec<Vein>,
    pub(crate) collaterals_enlarged: bool,
    pub(crate) hepatic_z: f64,
    pub(crate) renal_z: f64,
    pub(crate) aorta: (f64, f64, f64),
    pub(crate) layers: Vec<Layer>,
    /// Paraspinal muscle centre (right), where an MRI muscle ROI belongs.
    pub(crate) muscle_center_xy: (f64, f64),
    pub(crate) liver: (Point3<f64>, [f64; 3]),
    pub(crate) spleen: (Point3<f64>, [f64; 3]),
    pub(crate) kidney_r: (Point3<f64>, [f64; 3]),
    pub(crate) body: (f64, f64, f64, f64),
    /// Subcutaneous fat thickness, mm (12 in the classic anatomy).
    pub(crate) subcut_mm: f64,
    /// Bowel loops (drawn anatomy): segment ends, outer radius (3 mm wall), content.
    pub(crate) bowel_loops: Vec<(Point3<f64>, Point3<f64>, f64, Tissue)>,
}

/// The body and solid organs as drawn before the case's lesion (see [`Anatomy`]'s
/// fields of the same names).
struct Organs {
    body: (f64, f64, f64, f64),
    liver: (Point3<f64>, [f64; 3]),
    spleen: (Point3<f64>, [f64; 3]),
    kidney_r: (Point3<f64>, [f64; 3]),
    kidney_l: (Point3<f64>, [f64; 3]),
    subcut_mm: f64,
    bowel_loops: Vec<(Point3<f64>, Point3<f64>, f64, Tissue)>,
}

impl Organs {
    /// The variety draws ([`Anatomy::with_variety`]), from their own stream of `seed`:
    /// habitus, organ positions and sizes, bowel loops.
    fn vary(&mut self, seed: u64) {
        let mut v = ChaCha8Rng::seed_from_u64(seed ^ 0x5641_5249_4554_5921);
        let (sx, sy) = (u(&mut v, 0.98, 1.15), u(&mut v, 0.95, 1.15));
        self.body.2 *= sx;
        self.body.3 *= sy;
        self.subcut_mm = u(&mut v, 8.0, 12.0 + 150.0 * (sx.min(sy) - 0.95).max(0.0));
        let jiggle = |v: &mut ChaCha8Rng, c: &mut Point3<f64>, s: &mut [f64; 3], d: f64, lo: f64, hi: f64| {
            c.x += u(v, -d, d);
            c.y += u(v, -d, d);
            c.z += u(v, -d, d);
            for a in s.iter_mut() {
                *a *= u(v, lo, hi);
            }
        };
        jiggle(&mut v, &mut self.liver.0, &mut self.liver.1, 8.0, 0.9, 1.08);
        jiggle(&mut v, &mut self.spleen.0, &mut self.spleen.1, 8.0, 0.85, 1.15);
        for k in [&mut self.kidney_r, &mut self.kidney_l] {
            let z = k.0.z;
            jiggle(&mut v, &mut k.0, &mut k.1, 6.0, 0.9, 1.1);
            // The renal vein leaves the hilum at the renal level: keep the kidney there.
            k.0.z = z + (k.0.z - z).clamp(-3.0, 3.0);
        }
        let n = 4 + (v.random::<u32>() % 5) as usize;
        for _ in 0..n {
            let r = u(&mut v, 9.0, 16.0);
            let c = Point3::new(
                u(&mut v, -90.0, 100.0),
                u(&mut v, -80.0, -45.0),
                u(&mut v, -165.0, 5.0),
            );
            let th = u(&mut v, 0.0, std::f64::consts::TAU);
            let half = u(&mut v, 15.0, 40.0);
            let d = Vector3::new(th.cos(), 0.2 * th.sin(), th.sin()) * half;
            let content = match v.random::<u32>() % 3 {
                0 => Tissue::Air,
                1 => Tissue::BowelFluid,
                _ => Tissue::OralContrast,
            };
            self.bowel_loops.push((c - d, c + d, r, content));
        }
    }
}

/// The lesion of the case, drawn from `crng`, with the IVC changes that go with it
/// (dilation, flattening); `liver_z`: the liver's centre z (the HCC sits there).
fn case_lesion(
    case: CaseName,
    ivc: &mut Ivc,
    renal_z: f64,
    hepatic_z: f64,
    liver_z: f64,
    crng: &mut ChaCha8Rng,
) -> Option<MassModel> {
    match case {
        CaseName::Normal => None,
        CaseName::IvcLeiomyosarcoma | CaseName::MriLeiomyosarcoma => {
            let (len, zc) = leiomyosarcoma_draws(crng, renal_z);
            Some(leiomyosarcoma(ivc, zc, len, crng))
        }
        CaseName::CholangiocarcinomaMimic => {
            let r = u(crng, 24.0, 30.0);
            let z = u(crng, hepatic_z - 35.0, hepatic_z - 25.0);
            // Anterior of the IVC along the ellipse's minor axis, 2 mm from its wall.
            let (cx, cy) = ivc.center(z);
            let (_, b) = ivc.semi(z);
            let dir = Vector3::new(ivc.rot.sin(), -ivc.rot.cos(), 0.0);
            let c = Point3::new(cx, cy, z) + dir * (b + 2.0 + r);
            Some(ellipsoid_mass(MassKind::Cholangiocarcinoma, c, [r, r, r], crng))
        }
        CaseName::ExtrinsicCompression | CaseName::Liposarcoma => {
            let lipo = case == CaseName::Liposarcoma;
            let (semi, z, b_contact) = extrinsic_draws(crng, lipo, renal_z);
            let (cx, cy) = ivc.center(z);
            let gap = EXTRINSIC_GAP_MM;
            let c = Point3::new(cx, cy - b_contact - gap - semi[1], z);
            Some(extrinsic_mass(ivc, c, semi, gap, b_contact, lipo, crng))
        }
        CaseName::HccWashout => {
            let r = u(crng, 20.0, 26.0);
            let c = Point3::new(-98.0, -22.0, liver_z + 5.0);
            Some(ellipsoid_mass(MassKind::Hcc, c, [r, r * 0.95, r], crng))
        }
    }
}

/// The draws of an IVC leiomyosarcoma, in this order from `crng`: its length (48–62 mm)
/// and the z of its centre (middle segment: 40–50 mm above the renal veins).
pub(crate) fn leiomyosarcoma_draws(crng: &mut ChaCha8Rng, renal_z: f64) -> (f64, f64) {
    let len = u(crng, 48.0, 62.0);
    let zc = u(crng, renal_z + 40.0, renal_z + 50.0);
    (len, zc)
}

/// Gap between an extrinsic mass and the IVC wall it flattens, mm.
pub(crate) const EXTRINSIC_GAP_MM: f64 = 1.5;

/// The draws of an extrinsic mass (soft-tissue or liposarcoma), in this order from
/// `crng`: its semi-axes (x, y, z), the z of its centre (32–42 mm below the renal
/// veins) and the flattened IVC's half-thickness at the contact, mm.
pub(crate) fn extrinsic_draws(crng: &mut ChaCha8Rng, lipo: bool, renal_z: f64) -> ([f64; 3], f64, f64) {
    let semi = if lipo {
        [u(crng, 48.0, 55.0), u(crng, 36.0, 42.0), u(crng, 55.0, 65.0)]
    } else {
        [u(crng, 36.0, 42.0), u(crng, 28.0, 34.0), u(crng, 36.0, 44.0)]
    };
    let z = u(crng, renal_z - 42.0, renal_z - 32.0);
    let b_contact = u(crng, 2.8, 3.4);
    (semi, z, b_contact)
}

/// The collateral veins of the analytic body: small normally, enlarged with an
/// obstructing IVC tumour.
fn analytic_collaterals(ivc: &Ivc, renal_z: f64, enlarged: bool) -> Vec<Vein> {
    let rr = |normal: f64, big: f64| if enlarged { big } else { normal };
    let p = Point3::new;
    let mut collaterals = vec![
        Vein {
            name: "azygos",
            points: vec![p(-15.0, 30.0, renal_z), p(-14.0, 32.0, 300.0)],
            radius: rr(2.5, 5.5),
        },
        Vein {
            name: "hemiazygos",
            points: vec![p(22.0, 34.0, renal_z + 10.0), p(20.0, 35.0, 300.0)],
            radius: rr(2.0, 4.5),
        },
        Vein {
            name: "right_gonadal",
            points: vec![
                p(-42.0, -2.0, -260.0),
                p(-40.0, 0.0, renal_z - 60.0),
                p(
                    ivc.center(renal_z - 30.0).0 - 8.0,
                    ivc.center(renal_z - 30.0).1,
                    renal_z - 30.0,
                ),
            ],
            radius: rr(1.5, 4.5),
        },
        Vein {
            name: "left_gonadal",
            points: vec![
                p(42.0, -2.0, -260.0),
                p(44.0, 8.0, renal_z - 40.0),
                p(46.0, 30.0, renal_z),
            ],
            radius: rr(1.5, 4.5),
        },
    ];
    for (n, dz) in [("lumbar_1", -25.0), ("lumbar_2", -55.0), ("lumbar_3", -85.0)] {
        let z = renal_z + dz;
        collaterals.push(Vein {
            name: n,
            points: vec![
                p(-48.0, 60.0, z),
                p(-22.0, 36.0, z),
                p(0.0, 30.0, z),
                p(22.0, 36.0, z),
                p(48.0, 60.0, z),
            ],
            radius: rr(1.5, 4.0),
        });
    }
    collaterals
}

/// An elliptic cylinder along z: centre `(cx, cy)`, semi-axes `(a, b)`, from `z.0` to `z.1`.
fn cyl_layer(name: &'static str, tissue: Tissue, c: (f64, f64), ab: (f64, f64), z: (f64, f64)) -> Layer {
    let ((cx, cy), (a, b), (z0, z1)) = (c, ab, z);
    Layer {
        name,
        tissue,
        shape: Shape::CylZ { cx, cy, a, b, z0, z1 },
        bbox: Aabb::new([cx - a, cy - b, z0], [cx + a, cy + b, z1]),
    }
}

/// An axis-aligned ellipsoid: centre `c`, semi-axes `s`.
fn ell_layer(name: &'static str, tissue: Tissue, c: Point3<f64>, s: [f64; 3]) -> Layer {
    Layer {
        name,
        tissue,
        shape: Shape::Ellipsoid { c, s },
        bbox: Aabb::around(c, s),
    }
}

/// A capsule: the segment `a`–`b` grown by `r`.
fn cap_layer(name: &'static str, tissue: Tissue, a: Point3<f64>, b: Point3<f64>, r: f64) -> Layer {
    Layer {
        name,
        tissue,
        shape: Shape::Capsule { a, b, r },
        bbox: Aabb::new(
            [a.x.min(b.x) - r, a.y.min(b.y) - r, a.z.min(b.z) - r],
            [a.x.max(b.x) + r, a.y.max(b.y) + r, a.z.max(b.z) + r],
        ),
    }
}

/// A uniform draw in `[lo, hi)`.
pub(crate) fn u(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

impl Anatomy {
    /// Build the anatomy. The same seed gives the same body in every case; the case adds
    /// its lesion and the IVC changes that go with it.
    pub fn new(case: CaseName, seed: u64) -> Anatomy {
        Self::with_variety(case, seed, false)
    }

    /// As [`Anatomy::new`]; with `variety`, more is drawn from the seed (from its own
    /// random stream, after the classic draws, so nothing else changes): body habitus
    /// (width ×0.98–1.15, depth ×0.95–1.15, subcutaneous fat 8 mm up to ~37 mm for the
    /// largest bodies), liver / spleen / kidney positions (±8 / ±8 / ±6 mm) and sizes
    /// (×0.9–1.08 / ×0.85–1.15 / ×0.9–1.1), and 4–8 bowel loops (radius 9–16 mm, 3 mm
    /// wall) anterior in the abdomen holding gas, fluid or positive oral contrast.
    pub fn with_variety(case: CaseName, seed: u64, variety: bool) -> Anatomy {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut crng = ChaCha8Rng::seed_from_u64(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (case_key(case) + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
        );
        let scale = u(&mut rng, 0.95, 1.05);
        let renal_z = u(&mut rng, -64.0, -56.0);
        let hepatic_z = u(&mut rng, 38.0, 46.0);
        let ra_r = 26.0;
        let ra_c = Point3::new(-20.0, -4.0, hepatic_z + 22.0 + ra_r - 4.0);
        let z_top = ra_c.z - ra_r + 4.0;
        let mut ivc = Ivc {
            z_bot: u(&mut rng, -165.0, -155.0),
            z_top,
            z_renal: renal_z,
            x0: u(&mut rng, -30.0, -26.0),
            y0: u(&mut rng, 6.0, 10.0),
            sway_amp: u(&mut rng, 2.0, 4.0),
            sway_wavelength: u(&mut rng, 260.0, 340.0),
            ant_slope: u(&mut rng, -0.14, -0.08),
            post_slope: u(&mut rng, 0.0, 0.06),
            a0: u(&mut rng, 12.0, 13.5),
            b0: u(&mut rng, 8.5, 9.8),
            rot: u(&mut rng, 0.15, 0.35),
            dilation: None,
            flattening: None,
            table: None,
        };
        let aorta = (
            u(&mut rng, 13.0, 17.0),
            u(&mut rng, 13.0, 17.0),
            u(&mut rng, 10.0, 11.5),
        );
        let mut organs = Organs {
            body: (0.0, 10.0, 165.0 * scale, 120.0 * scale),
            liver: (
                Point3::new(-65.0, -12.0, u(&mut rng, 15.0, 25.0)),
                [85.0 * scale, 72.0 * scale, 75.0],
            ),
            spleen: (Point3::new(88.0, 28.0, 30.0), [28.0, 38.0, 50.0]),
            kidney_r: (Point3::new(-72.0, 48.0, renal_z), [27.0, 21.0, 52.0]),
            kidney_l: (Point3::new(72.0, 48.0, renal_z + 8.0), [27.0, 21.0, 52.0]),
            subcut_mm: 12.0,
            bowel_loops: Vec::new(),
        };
        if variety {
            organs.vary(seed);
        }

        let enlarged = matches!(case, CaseName::IvcLeiomyosarcoma | CaseName::MriLeiomyosarcoma);
        let mass = case_lesion(case, &mut ivc, renal_z, hepatic_z, organs.liver.0.z, &mut crng);
        let collaterals = analytic_collaterals(&ivc, renal_z, enlarged);
        let mut a = Anatomy {
            case,
            seed,
            ivc,
            mass,
            collaterals,
            collaterals_enlarged: enlarged,
            hepatic_z,
            renal_z,
            aorta,
            layers: Vec::new(),
            muscle_center_xy: (-38.0, 90.0),
            liver: organs.liver,
            spleen: organs.spleen,
            kidney_r: organs.kidney_r,
            body: organs.body,
            subcut_mm: organs.subcut_mm,
            bowel_loops: organs.bowel_loops,
        };
        a.layers = a.build_layers(ra_c, ra_r, organs.kidney_l);
        a
    }

    /// The drawn layers, back to front: body and its organs, then the vessels.
    fn build_layers(&self, ra_c: Point3<f64>, ra_r: f64, kidney_l: (Point3<f64>, [f64; 3])) -> Vec<Layer> {
        let mut l = self.body_layers(kidney_l);
        l.extend(self.vessel_layers(ra_c, ra_r, kidney_l));
        l
    }

    /// Body wall, bowel, psoas, spine, paraspinal muscles, kidneys, spleen, liver.
    fn body_layers(&self, kidney_l: (Point3<f64>, [f64; 3])) -> Vec<Layer> {
        let mut l = Vec::new();
        let zinf = (-1.0e4, 1.0e4);
        let (bx, by, ba, bb) = self.body;
        let p = Point3::new;
        l.push(cyl_layer("body", Tissue::Fat, (bx, by), (ba, bb), zinf));
        l.push(cyl_layer(
            "abdominal_wall",
            Tissue::Muscle,
            (bx, by),
            (ba - self.subcut_mm, bb - self.subcut_mm),
            zinf,
        ));
        l.push(cyl_layer(
            "visceral_fat",
            Tissue::Fat,
            (bx, by),
            (ba - (self.subcut_mm + 9.0), bb - (self.subcut_mm + 9.0)),
            zinf,
        ));
        l.push(cyl_layer(
            "bowel",
            Tissue::SoftTissue,
            (15.0, -48.0),
            (95.0, 40.0),
            (-400.0, 10.0),
        ));
        for (a, b, r, content) in &self.bowel_loops {
            l.push(cap_layer("bowel_wall", Tissue::SoftTissue, *a, *b, *r));
            l.push(cap_layer("bowel_content", *content, *a, *b, r - 3.0));
        }
        // Psoas muscles below the renal hila.
        for s in [-1.0, 1.0] {
            l.push(cap_layer(
                "psoas",
                Tissue::Muscle,
                p(s * 32.0, 40.0, self.renal_z + 20.0),
                p(s * 52.0, 30.0, -400.0),
                15.0,
            ));
        }
        // Spine: vertebral bodies with discs, canal, laminae.
        l.push(cyl_layer(
            "vertebral_bodies",
            Tissue::Bone,
            (0.0, 50.0),
            (21.0, 17.0),
            zinf,
        ));
        let mut z = -400.0;
        while z < 400.0 {
            l.push(cyl_layer(
                "disc",
                Tissue::Disc,
                (0.0, 50.0),
                (20.5, 16.5),
                (z, z + 8.0),
            ));
            z += 34.0;
        }
        l.push(cyl_layer(
            "laminae",
            Tissue::Bone,
            (0.0, 84.0),
            (16.0, 13.0),
            zinf,
        ));
        l.push(cyl_layer(
            "spinal_canal",
            Tissue::Csf,
            (0.0, 77.0),
            (8.0, 7.0),
            zinf,
        ));
        for s in [-1.0, 1.0] {
            l.push(cyl_layer(
                "paraspinal",
                Tissue::Muscle,
                (s * 38.0, 90.0),
                (20.0, 17.0),
                zinf,
            ));
        }
        l.push(ell_layer(
            "kidney_right",
            Tissue::Kidney,
            self.kidney_r.0,
            self.kidney_r.1,
        ));
        l.push(ell_layer("kidney_left", Tissue::Kidney, kidney_l.0, kidney_l.1));
        l.push(ell_layer("spleen", Tissue::Spleen, self.spleen.0, self.spleen.1));
        l.push(ell_layer("liver", Tissue::Liver, self.liver.0, self.liver.1));
        l
    }

    /// Aorta and iliac arteries, collaterals, renal, iliac and hepatic veins, the IVC,
    /// the right atrium and the mass.
    fn vessel_layers(&self, ra_c: Point3<f64>, ra_r: f64, kidney_l: (Point3<f64>, [f64; 3])) -> Vec<Layer> {
        let mut l = Vec::new();
        let p = Point3::new;
        // Aorta and iliac arteries.
        let (ax, ay, ar) = self.aorta;
        let zbif = self.ivc.z_bot + 12.0;
        l.push(cyl_layer(
            "aorta",
            Tissue::ArterialBlood,
            (ax, ay),
            (ar, ar),
            (zbif, 400.0),
        ));
        for s in [-1.0, 1.0] {
            l.push(cap_layer(
                "iliac_artery",
                Tissue::ArterialBlood,
                p(ax, ay, zbif + 3.0),
                p(ax + s * 40.0, ay + 15.0, -420.0),
                6.5,
            ));
        }
        // Collaterals (before the big veins, which cover their ends).
        for v in &self.collaterals {
            for w in v.points.windows(2) {
                l.push(cap_layer(
                    "collateral",
                    Tissue::CollateralVein,
                    w[0],
                    w[1],
                    v.radius,
                ));
            }
        }
        // Renal veins: the left one passes anterior to the aorta.
        let iv = |z: f64| self.ivc.center_point(z);
        let kr = self.kidney_r.0;
        l.push(cap_layer(
            "renal_vein_right",
            Tissue::RenalVein,
            p(kr.x + 22.0, kr.y - 10.0, kr.z),
            iv(self.renal_z),
            RENAL_VEIN_RIGHT_RADIUS_MM,
        ));
        let kl = kidney_l.0;
        let pre_aortic = pre_aortic_point((ax, ay, ar), self.renal_z);
        l.push(cap_layer(
            "renal_vein_left",
            Tissue::RenalVein,
            p(kl.x - 22.0, kl.y - 10.0, kl.z),
            pre_aortic,
            RENAL_VEIN_LEFT_RADIUS_MM,
        ));
        l.push(cap_layer(
            "renal_vein_left",
            Tissue::RenalVein,
            pre_aortic,
            iv(self.renal_z),
            RENAL_VEIN_LEFT_RADIUS_MM,
        ));
        // Iliac veins.
        let zb = self.ivc.z_bot;
        for (s, dx) in [(-1.0, 30.0), (1.0, 45.0)] {
            l.push(cap_layer(
                "iliac_vein",
                Tissue::IliacVein,
                iv(zb + 6.0),
                p(self.ivc.x0 + s * dx + 10.0, 45.0, -420.0),
                8.0,
            ));
        }
        // Hepatic veins converging on the IVC at the hepatic confluence.
        let hz = self.hepatic_z;
        let lc = self.liver.0;
        for (tip, r) in [
            (p(lc.x - 55.0, lc.y - 25.0, hz - 20.0), 5.5),
            (p(lc.x - 10.0, lc.y - 45.0, hz - 15.0), 4.5),
            (p(lc.x + 45.0, lc.y - 40.0, hz - 15.0), 4.5),
        ] {
            l.push(cap_layer("hepatic_vein", Tissue::HepaticVein, tip, iv(hz), r));
        }
        let ivc_box = Aabb::new(
            [self.ivc.x0 - 45.0, self.ivc.y0 - 45.0, self.ivc.z_bot],
            [self.ivc.x0 + 45.0, self.ivc.y0 + 45.0, self.ivc.z_top],
        );
        l.push(Layer {
            name: "ivc",
            tissue: Tissue::IvcBlood,
            shape: Shape::Ivc,
            bbox: ivc_box,
        });
        l.push(ell_layer("right_atrium", Tissue::RightAtrium, ra_c, [ra_r; 3]));
        if let Some(m) = &self.mass {
            l.push(Layer {
                name: "mass",
                tissue: Tissue::Mass,
                shape: Shape::Mass,
                bbox: m.bbox,
            });
        }
        l
    }

    /// Signed distance to a layer's shape.
    #[inline]
    pub(crate) fn layer_sd(&self, layer: &Layer, p: &Point3<f64>) -> f64 {
        match layer.shape {
            Shape::Ivc | Shape::Mass => self.layer_sd_at(layer, p, &self.ivc.at_z(p.z)),
            _ => self.layer_sd_at(layer, p, &DUMMY_AT),
        }
    }

    /// As [`Anatomy::layer_sd`] with the IVC level precomputed (`at.z == p.z`).
    #[inline]
    pub(crate) fn layer_sd_at(&self, layer: &Layer, p: &Point3<f64>, at: &IvcAtZ) -> f64 {
        match &layer.shape {
            Shape::CylZ { cx, cy, a, b, z0, z1 } => {
                ellipse_sd(p.x - cx, p.y - cy, *a, *b).max(z0 - p.z).max(p.z - z1)
            }
            Shape::Ellipsoid { c, s } => ellipsoid_sd(p - c, *s),
            Shape::Capsule { a, b, r } => capsule_sd(p, a, b, *r),
            Shape::Ivc => self.ivc.sd_at(at, p),
            Shape::Mass => self.mass_sd_at(p, at),
        }
    }

    /// The tissue (for labels) and values of a layer at p.
    #[inline]
    pub(crate) fn layer_props(&self, layer: &Layer, p: &Point3<f64>) -> (Tissue, Props) {
        match layer.shape {
            Shape::Ivc => (Tissue::IvcBlood, self.ivc_blood(p.z)),
            Shape::Mass => self.mass_props(p),
            _ => (layer.tissue, base_props(layer.tissue)),
        }
    }

    /// IVC blood: on the arterial phase, unopacified infrarenal blood mixes with the
    /// opacified renal return above the renal veins.
    #[inline]
    pub(crate) fn ivc_blood(&self, z: f64) -> Props {
        let mut pr = base_props(Tissue::IvcBlood);
        let w = smoothstep(self.renal_z - 12.0, self.renal_z + 12.0, z) as f32;
        pr.ct[1] = 50.0 + (pr.ct[1] - 50.0) * w;
        pr.t1[1] = 300.0 + (pr.t1[1] - 300.0) * w;
        pr
    }

    /// Signed distance to the mass (∞ without one).
    #[inline]
    pub fn mass_sd(&self, p: &Point3<f64>) -> f64 {
        match self.mass.as_ref().and_then(|m| m.plug.as_ref()) {
            Some(_) => self.mass_sd_at(p, &self.ivc.at_z(p.z)),
            None => self.mass_sd_at(p, &DUMMY_AT),
        }
    }

    /// As [`Anatomy::mass_sd`] with the IVC level precomputed (`at.z == p.z`).
    #[inline]
    pub(crate) fn mass_sd_at(&self, p: &Point3<f64>, at: &IvcAtZ) -> f64 {
        let Some(m) = &self.mass else {
            return f64::INFINITY;
        };
        let main = ellipsoid_sd(p - m.center, m.semi);
        match &m.plug {
            Some(plug) => {
                let rn = at.rnorm(p);
                let fill_sd = (rn - plug.fill(p.z)) * at.a.min(at.b);
                let plug_sd = self.ivc.sd_at(at, p).max(fill_sd);
                main.min(plug_sd)
            }
            None => main,
        }
    }

    /// The mass's tissue and values at p (p inside or near the mass).
    pub(crate) fn mass_props(&self, p: &Point3<f64>) -> (Tissue, Props) {
        let Some(m) = &self.mass else {
            return (Tissue::Mass, base_props(Tissue::Mass));
        };
        let q = m.patch.at(p) as f32;
        let mut solid = base_props(Tissue::Mass);
        match m.kind {
            MassKind::Leiomyosarcoma => {
                solid.ct = [40.0, 20.0 + 150.0 * q, 92.0 + 16.0 * q, 116.0 + 6.0 * q];
                solid.t1 = [300.0, 220.0 + 850.0 * q, 760.0 + 120.0 * q, 900.0 + 40.0 * q];
                if let Some((c, s)) = &m.necrosis {
                    let w = coverage(ellipsoid_sd(p - c, *s), 4.0);
                    if w > 0.0 {
                        let nec = base_props(Tissue::MassNecrosis);
                        let t = if w >= 0.5 {
                            Tissue::MassNecrosis
                        } else {
                            Tissue::Mass
                        };
                        return (t, solid.mix(&nec, w));
                    }
                }
                (Tissue::Mass, solid)
            }
            MassKind::Cholangiocarcinoma => {
                let r = ((p - m.center).norm() / m.semi[0]).min(1.0);
                let rim = smoothstep(0.55, 0.8, r) as f32;
                let core_ct = [40.0, 45.0, 72.0, 104.0];
                let rim_ct = [40.0, 100.0, 100.0, 104.0];
                let j = 4.0 * (q - 0.5);
                for i in 0..4 {
                    solid.ct[i] = core_ct[i] + (rim_ct[i] - core_ct[i]) * rim + if i > 0 { j } else { 0.0 };
                }
                (Tissue::Mass, solid)
            }
            MassKind::Extrinsic => {
                let j = q - 0.5;
                solid.ct = [35.0, 60.0 + 6.0 * j, 80.0 + 4.0 * j, 83.0 + 2.0 * j];
                (Tissue::Mass, solid)
            }
            MassKind::Liposarcoma => {
                solid.ct = [32.0, 52.0, 68.0, 76.0];
                if let Some((f, thr)) = &m.fat_field {
                    let w = smoothstep(thr - 0.03, thr + 0.03, f.at(p)) as f32;
                    let t = if w >= 0.5 { Tissue::MassFat } else { Tissue::Mass };
                    return (t, solid.mix(&base_props(Tissue::MassFat), w));
                }
                (Tissue::Mass, solid)
            }
            MassKind::Hcc => {
                let j = 4.0 * (q - 0.5);
                solid.ct = [40.0, 125.0 + j, 88.0, 72.0];
                (Tissue::Mass, solid)
            }
        }
    }

    /// Does the mass occupy the IVC lumen?
    pub(crate) fn intraluminal(&self) -> bool {
        self.mass.as_ref().is_some_and(|m| m.plug.is_some())
    }
}

/// Placeholder level for shapes that do not use the IVC.
const DUMMY_AT: IvcAtZ = IvcAtZ {
    z: 0.0,
    cx: 0.0,
    cy: 0.0,
    a: 1.0,
    b: 1.0,
    cos: 1.0,
    sin: 0.0,
};

/// Length over which a leiomyosarcoma's plug tapers to a point beyond each end, mm.
pub(crate) const PLUG_TAPER_MM: f64 = 5.0;
/// Renal vein radii, mm, in both phantoms (`docs/phantom.md`, anatomy table: 5–5.5).
pub(crate) const RENAL_VEIN_RIGHT_RADIUS_MM: f64 = 5.5;
pub(crate) const RENAL_VEIN_LEFT_RADIUS_MM: f64 = 5.0;

/// Where the left renal vein crosses in front of the aorta (`(x, y, radius)`): 7 mm
/// anterior of its wall, 2 mm above the renal level.
pub(crate) fn pre_aortic_point((ax, ay, ar): (f64, f64, f64), renal_z: f64) -> Point3<f64> {
    Point3::new(ax, ay - ar - 7.0, renal_z + 2.0)
}

/// The leiomyosarcoma of the IVC: a plug filling the lumen over `len` mm centred at `zc`,
/// the IVC dilated around it, an extraluminal part right-posterior (necrotic core), and
/// the patchy enhancement field. Draws from `crng` (eqd, then the extraluminal semi-axes,
/// then the field), shared by the analytic and the hybrid phantom.
pub(crate) fn leiomyosarcoma(ivc: &mut Ivc, zc: f64, len: f64, crng: &mut ChaCha8Rng) -> MassModel {
    let plug = Plug {
        z0: zc - len / 2.0,
        z1: zc + len / 2.0,
        taper_mm: PLUG_TAPER_MM,
    };
    let eqd = u(crng, 33.0, 38.0);
    // Peak semi-axes keep the normal aspect a bit rounder (tumour pushes out).
    let ratio: f64 = 1.15;
    let b_peak = eqd / 2.0 / ratio.sqrt();
    ivc.dilation = Some(Dilation {
        z_center: zc,
        half_length: len / 2.0 + 14.0,
        a_peak: b_peak * ratio,
        b_peak,
    });
    let (cx, cy) = ivc.center(zc);
    let semi = [
        u(crng, 24.0, 30.0),
        u(crng, 20.0, 25.0),
        (len / 2.0 - 6.0).max(12.0),
    ];
    // Extraluminal part right-posterior of the IVC, overlapping its wall.
    let center = Point3::new(cx - 0.8 * semi[0], cy + 0.45 * semi[1], zc);
    let necrosis = (
        center + Vector3::new(-4.0, 2.0, 0.0),
        [semi[0] * 0.6, semi[1] * 0.6, semi[2] * 0.65],
    );
    let lo = [
        (center.x - semi[0]).min(cx - 25.0),
        (center.y - semi[1]).min(cy - 25.0),
        plug.z0 - plug.taper_mm,
    ];
    let hi = [
        (center.x + semi[0]).max(cx + 25.0),
        (center.y + semi[1]).max(cy + 25.0),
        plug.z1 + plug.taper_mm,
    ];
    MassModel {
        kind: MassKind::Leiomyosarcoma,
        center,
        semi,
        plug: Some(plug),
        necrosis: Some(necrosis),
        patch: PatchField::new(crng, 28.0, 6),
        fat_field: None,
        bbox: Aabb::new(lo, hi),
    }
}

/// Both leiomyosarcoma cases share their lesion for a seed (CT and MRI of one patient).
fn case_key(c: CaseName) -> u64 {
    match c {
        CaseName::MriLeiomyosarcoma => CaseName::IvcLeiomyosarcoma as u64,
        other => other as u64,
    }
}

/// A mass outside the IVC (retroperitoneal soft tissue, or a liposarcoma with fat
/// lobules) centred at `c`, and the IVC flattening it causes (`gap` mm from the wall,
/// the IVC's short semi-axis down to `b_contact` mm there).
pub(crate) fn extrinsic_mass(
    ivc: &mut Ivc,
    c: Point3<f64>,
    semi: [f64; 3],
    gap: f64,
    b_contact: f64,
    lipo: bool,
    crng: &mut ChaCha8Rng,
) -> MassModel {
    ivc.flattening = Some(Flattening {
        mass_center: [c.x, c.y, c.z],
        mass_semi: semi,
        gap_mm: gap,
        b_min: b_contact,
        widen: 0.35,
    });
    let kind = if lipo {
        MassKind::Liposarcoma
    } else {
        MassKind::Extrinsic
    };
    let mut m = ellipsoid_mass(kind, c, semi, crng);
    if lipo {
        m.fat_field = Some((PatchField::new(crng, 30.0, 6), 0.52));
    }
    m
}

pub(crate) fn ellipsoid_mass(kind: MassKind, c: Point3<f64>, s: [f64; 3], rng: &mut ChaCha8Rng) -> MassModel {
    MassModel {
        kind,
        center: c,
        semi: s,
        plug: None,
        necrosis: None,
        patch: PatchField::new(rng, 25.0, 6),
        fat_field: None,
        bbox: Aabb::around(c, s),
    }
}
