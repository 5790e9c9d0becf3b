//! Vertebral levels for naming collateral veins ([`crate::collaterals`], step 6): a named
//! vein is only named where that vein runs — lumbar veins beside the L1–L4 bodies,
//! gonadal veins below the renal veins, azygos / hemiazygos paravertebral below the azygos
//! arch (T4).
//!
//! The reference, best first:
//! 1. **Vertebral bodies** from another tool's labels (`--anatomy`: TotalSegmentator's
//!    `vertebrae_T12`, `vertebrae_L1`, …): each whole vertebra's centroid gives its level's
//!    height; levels between and beyond them are interpolated / extrapolated with the
//!    spacing the labels show.
//! 2. **The renal-vein inflow** found on the IVC (the renal veins join it at L1–L2) with
//!    typical vertebral heights ([`LUMBAR_ABOVE_RENAL_MM`], [`LUMBAR_BELOW_RENAL_MM`]).
//!
//! With neither, no pathway is named and `not_assessed` says why: without an abdominal
//! level the series may be a chest one, where a normal azygos near its arch is as wide as
//! the enlargement flag (pyradiomics' two real chest CTs: a 10.6 mm "hemiazygos" and an
//! 8.7 mm azygos made `prominent_collaterals` present on normal patients).

use crate::model::Landmarks;
use cavascope_volume::anatomy::names::VERTEBRA_PREFIX;
use cavascope_volume::Anatomy;

pub use crate::params::levels::{LEVEL_HEIGHT_MM, LUMBAR_ABOVE_RENAL_MM, LUMBAR_BELOW_RENAL_MM};

/// Ordinal of a vertebral level along the spine, head to feet: C1 = 1 … C7 = 7, T1 = 8 …
/// T12 = 19, L1 = 20 … L5 = 24, S1 = 25. `None` for anything else.
pub fn level_ordinal(name: &str) -> Option<i32> {
    let region = name.chars().next()?;
    let n: i32 = name[region.len_utf8()..].parse().ok()?;
    let (base, count) = match region {
        'C' => (0, 7),
        'T' => (7, 12),
        'L' => (19, 5),
        'S' => (24, 1),
        _ => return None,
    };
    (1..=count).contains(&n).then_some(base + n)
}

/// Name of a level ordinal ([`level_ordinal`]'s inverse).
pub fn level_name(ord: i32) -> String {
    match ord {
        1..=7 => format!("C{ord}"),
        8..=19 => format!("T{}", ord - 7),
        20..=24 => format!("L{}", ord - 19),
        25 => "S1".into(),
        _ => format!("#{ord}"),
    }
}

/// L1 and L4.
const L1: i32 = 20;
const L4: i32 = 23;
/// The azygos arch joins the superior vena cava at T4: above it the vein is no longer the
/// paravertebral pathway whose calibre the collateral sign judges.
const AZYGOS_ARCH: i32 = 11;

/// Heights (LPS z, mm) of vertebral bodies whose level is known.
#[derive(Debug, Clone)]
pub struct VertebralLevels {
    /// `(ordinal, z of the body's centre)`, ordered by ordinal (head first).
    known: Vec<(i32, f64)>,
    /// Where they came from, for messages.
    pub source: String,
}

impl VertebralLevels {
    /// From `(level name, z)` pairs; `None` when none is a vertebral level.
    pub fn new(bodies: &[(String, f64)], source: &str) -> Option<Self> {
        let mut known: Vec<(i32, f64)> = bodies
            .iter()
            .filter_map(|(n, z)| Some((level_ordinal(n)?, *z)).filter(|(_, z)| z.is_finite()))
            .collect();
        known.sort_by_key(|k| k.0);
        known.dedup_by_key(|k| k.0);
        (!known.is_empty()).then(|| VertebralLevels {
            known,
            source: source.to_string(),
        })
    }

    /// The vertebrae of a label map ([`Anatomy`], e.g. TotalSegmentator's `vertebrae_L1`):
    /// each one's centroid, for those whole in the map (a vertebra cut by the map's first
    /// or last slice has a centroid off its centre).
    pub fn from_anatomy(a: &Anatomy) -> Option<Self> {
        let nk = a.labels.dim().0;
        let ids: Vec<(u16, &str)> = a
            .classes
            .iter()
            .filter_map(|(v, n)| Some((*v, n.strip_prefix(VERTEBRA_PREFIX)?)))
            .filter(|(_, n)| level_ordinal(n).is_some())
            .collect();
        if ids.is_empty() || nk == 0 {
            return None;
        }
        // Per class: voxel-index sums and the slice range.
        let mut acc: Vec<([f64; 3], usize, usize, usize)> = vec![([0.0; 3], 0, usize::MAX, 0); ids.len()];
        for ((k, j, i), &v) in a.labels.indexed_iter() {
            if v == 0 {
                continue;
            }
            if let Some(q) = ids.iter().position(|(id, _)| *id == v) {
                let e = &mut acc[q];
                e.0[0] += i as f64;
                e.0[1] += j as f64;
                e.0[2] += k as f64;
                e.1 += 1;
                e.2 = e.2.min(k);
                e.3 = e.3.max(k);
            }
        }
        let bodies: Vec<(String, f64)> = ids
            .iter()
            .zip(&acc)
            .filter(|(_, e)| e.1 > 0 && e.2 > 0 && e.3 + 1 < nk)
            .map(|((_, n), e)| {
                let c = e.0.map(|s| s / e.1 as f64);
                (n.to_string(), a.geometry.index_to_world(c).z)
            })
            .collect();
        Self::new(&bodies, &format!("vertebrae from {}", a.source))
    }

    /// Height (z, mm) of a fractional level ordinal (19.5 = the T12/L1 disc): linear
    /// between known bodies, extrapolated beyond them with the mean spacing they show
    /// ([`LEVEL_HEIGHT_MM`] with a single one).
    pub fn z_of(&self, ord: f64) -> f64 {
        let k = &self.known;
        let (first, last) = (k[0], k[k.len() - 1]);
        // z falls as the ordinal grows (head first).
        let per_level = if k.len() >= 2 && last.0 > first.0 {
            (first.1 - last.1) / (last.0 - first.0) as f64
        } else {
            LEVEL_HEIGHT_MM
        };
        if ord <= first.0 as f64 {
            return first.1 + (first.0 as f64 - ord) * per_level;
        }
        if ord >= last.0 as f64 {
            return last.1 - (ord - last.0 as f64) * per_level;
        }
        let w = k
            .windows(2)
            .find(|w| ord <= w[1].0 as f64)
            .unwrap_or(&k[k.len() - 2..]);
        let t = (ord - w[0].0 as f64) / (w[1].0 - w[0].0) as f64;
        w[0].1 + t * (w[1].1 - w[0].1)
    }

    /// The known levels, head first, as names (for messages).
    pub fn span(&self) -> String {
        let k = &self.known;
        format!("{}–{}", level_name(k[0].0), level_name(k[k.len() - 1].0))
    }
}

/// The level reference for naming veins ([module docs](self)).
pub struct Levels {
    renal_z: Option<f64>,
    vertebrae: Option<VertebralLevels>,
    /// The series' z range, mm.
    z: [f64; 2],
}

impl Levels {
    /// The level reference of a series spanning `z` (mm): vertebrae from the anatomy
    /// labels where given, else the renal-vein inflow among `lm`.
    pub fn new(lm: &Landmarks, z: [f64; 2], vertebrae: Option<VertebralLevels>) -> Self {
        Levels {
            renal_z: lm.renal_vein_inflow_z_mm.filter(|v| v.is_finite()),
            vertebrae,
            z,
        }
    }

    /// z range (mm) where the pathway runs, `None` with no reference.
    pub fn range(&self, name: &str) -> Option<[f64; 2]> {
        let v = self.vertebrae.as_ref();
        if name.ends_with("gonadal") {
            // Below the renal veins (they join the IVC at L1–L2): the inflow found, else
            // the L1/L2 disc.
            self.renal_z
                .or_else(|| v.map(|v| v.z_of(L1 as f64 + 0.5)))
                .map(|r| [f64::NEG_INFINITY, r])
        } else if name == "lumbar" {
            match v {
                // From the T12/L1 disc to the L4/L5 disc.
                Some(v) => Some([v.z_of(L4 as f64 + 0.5), v.z_of(L1 as f64 - 0.5)]),
                None => self
                    .renal_z
                    .map(|r| [r - LUMBAR_BELOW_RENAL_MM, r + LUMBAR_ABOVE_RENAL_MM]),
            }
        } else {
            // Azygos and hemiazygos: paravertebral below the arch; a level reference is
            // needed all the same (module docs).
            match v {
                Some(v) => Some([f64::NEG_INFINITY, v.z_of(AZYGOS_ARCH as f64)]),
                None => self.renal_z.map(|_| [f64::NEG_INFINITY, f64::INFINITY]),
            }
        }
    }

    /// May a vessel whose centre lies at `z` carry this name?
    pub fn allows(&self, name: &str, z: f64) -> bool {
        self.range(name).is_some_and(|r| z >= r[0] && z <= r[1])
    }

    /// What the levels come from, for messages.
    pub fn reference(&self) -> String {
        match (&self.vertebrae, self.renal_z) {
            (Some(v), _) => format!("{} {}", v.source, v.span()),
            (None, Some(r)) => format!("renal-vein inflow at z {r:.0} mm"),
            (None, None) => "none".into(),
        }
    }

    /// Pathways this study cannot show, with the reason.
    pub fn not_assessed(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, what) in [
            ("azygos", "azygos / hemiazygos (paravertebral, below the arch)"),
            ("lumbar", "lumbar veins (beside L1–L4)"),
            ("left_gonadal", "gonadal veins (below the renal veins)"),
        ] {
            match self.range(name) {
                None => out.push(format!(
                    "{what}: no vertebral level reference (neither vertebrae nor the renal-vein inflow found), so none is named"
                )),
                Some(r) if r[1] < self.z[0] || r[0] > self.z[1] => out.push(format!(
                    "{what}: outside the series (z {:.0} to {:.0} mm; levels from {})",
                    self.z[0],
                    self.z[1],
                    self.reference()
                )),
                Some(_) => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cavascope_volume::{Geometry, Point3};
    use ndarray::Array3;

    #[test]
    fn ordinals_round_trip() {
        for n in ["C1", "C7", "T1", "T12", "L1", "L5", "S1"] {
            assert_eq!(level_name(level_ordinal(n).unwrap()), n);
        }
        assert_eq!(level_ordinal("L1"), Some(L1));
        assert_eq!(level_ordinal("L4"), Some(L4));
        assert_eq!(level_ordinal("T13"), None);
        assert_eq!(level_ordinal("sacrum"), None);
        assert_eq!(level_ordinal(""), None);
        assert_eq!(level_ordinal("É1"), None);
    }

    #[test]
    fn heights_between_and_beyond_known_bodies() {
        let v = VertebralLevels::new(
            &[("L1".into(), 380.0), ("L3".into(), 310.0), ("S1".into(), 230.0)],
            "test",
        )
        .unwrap();
        assert!((v.z_of(20.0) - 380.0).abs() < 1e-9);
        assert!((v.z_of(21.0) - 345.0).abs() < 1e-9);
        // Beyond: the mean spacing (380 − 230) / 5 = 30 mm per level.
        assert!((v.z_of(19.0) - 410.0).abs() < 1e-9);
        assert!((v.z_of(26.0) - 200.0).abs() < 1e-9);
        // One body: typical heights.
        let one = VertebralLevels::new(&[("T12".into(), 100.0)], "test").unwrap();
        assert!((one.z_of(20.0) - (100.0 - LEVEL_HEIGHT_MM)).abs() < 1e-9);
        assert!(VertebralLevels::new(&[("sacrum".into(), 1.0)], "test").is_none());
    }

    #[test]
    fn vertebrae_decide_lumbar_and_gonadal_levels() {
        // L1 at 380 … L5 at 240 (35 mm per level); no renal inflow found.
        let bodies: Vec<(String, f64)> = (1..=5)
            .map(|n| (format!("L{n}"), 380.0 - 35.0 * (n - 1) as f64))
            .collect();
        let v = VertebralLevels::new(&bodies, "test");
        let l = Levels::new(&Landmarks::default(), [200.0, 430.0], v);
        // Lumbar: T12/L1 disc (397.5) to L4/L5 disc (257.5).
        assert!(l.allows("lumbar", 395.0) && l.allows("lumbar", 260.0));
        assert!(!l.allows("lumbar", 400.0) && !l.allows("lumbar", 255.0));
        // Gonadal: below the L1/L2 disc (362.5) without a renal inflow …
        assert!(l.allows("right_gonadal", 360.0) && !l.allows("left_gonadal", 365.0));
        assert!(l.not_assessed().is_empty(), "{:?}", l.not_assessed());
        // Azygos below the arch (T4, nine levels above L1 at 380, 35 mm each: 695).
        assert!(l.allows("azygos", 600.0) && !l.allows("hemiazygos", 700.0));
        // … and below the inflow when there is one.
        let lm = Landmarks {
            hepatic_vein_confluence_z_mm: None,
            renal_vein_inflow_z_mm: Some(350.0),
        };
        let v = VertebralLevels::new(&bodies, "test");
        let l = Levels::new(&lm, [200.0, 430.0], v);
        assert!(!l.allows("left_gonadal", 355.0) && l.allows("left_gonadal", 345.0));
        // A liver-level series (T10–T12 only in view): lumbar outside it.
        let v = VertebralLevels::new(&[("T11".into(), 440.0), ("T12".into(), 410.0)], "test");
        let high = Levels::new(&Landmarks::default(), [400.0, 460.0], v);
        let why = high.not_assessed();
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(why.iter().all(|w| w.contains("outside the series")), "{why:?}");
        assert!(high.allows("azygos", 430.0));
    }

    #[test]
    fn renal_inflow_alone_names_by_typical_heights() {
        let lm = Landmarks {
            hepatic_vein_confluence_z_mm: None,
            renal_vein_inflow_z_mm: Some(-60.0),
        };
        let l = Levels::new(&lm, [-250.0, 0.0], None);
        // Gonadal below the renal veins only; lumbar beside L1–L4 only.
        assert!(l.allows("right_gonadal", -120.0) && !l.allows("right_gonadal", -40.0));
        assert!(l.allows("lumbar", -85.0) && l.allows("lumbar", -30.0));
        assert!(!l.allows("lumbar", 0.0) && !l.allows("lumbar", -200.0));
        assert!(l.allows("azygos", 0.0));
        assert!(l.not_assessed().is_empty());
        // No reference: no pathway is named, and the report says why for each.
        let none = Levels::new(&Landmarks::default(), [-250.0, 0.0], None);
        assert!(!none.allows("lumbar", -85.0) && !none.allows("left_gonadal", -120.0));
        assert!(!none.allows("hemiazygos", -85.0) && !none.allows("azygos", -85.0));
        let why = none.not_assessed();
        assert_eq!(why.len(), 3, "{why:?}");
        assert!(why.iter().all(|w| w.contains("no vertebral level reference")));
        // A series entirely above the lumbar levels (liver level, T11–T12).
        let high = Levels::new(&lm, [60.0, 100.0], None);
        let why = high.not_assessed();
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(why.iter().all(|w| w.contains("outside the series")));
    }

    #[test]
    fn vertebrae_from_a_label_map_skip_cut_ones() {
        // 1 mm grid, 100 slices; L1 at slices 60–80, L2 at 30–50, T12 cut by the top.
        let g = Geometry::axial(Point3::new(0.0, 0.0, 0.0), [1.0, 1.0, 1.0]);
        let mut labels = Array3::<u16>::zeros((100, 4, 4));
        for k in 0..100 {
            let v = match k {
                30..=50 => 30,
                60..=80 => 31,
                90..=99 => 32,
                _ => 0,
            };
            labels[[k, 1, 1]] = v;
        }
        let a = Anatomy {
            labels,
            geometry: g,
            classes: vec![
                (30, "vertebrae_L2".into()),
                (31, "vertebrae_L1".into()),
                (32, "vertebrae_T12".into()),
            ],
            source: "test".into(),
        };
        let v = VertebralLevels::from_anatomy(&a).unwrap();
        assert_eq!(v.span(), "L1–L2");
        assert!((v.z_of(20.0) - 70.0).abs() < 1e-9 && (v.z_of(21.0) - 40.0).abs() < 1e-9);
    }
}
