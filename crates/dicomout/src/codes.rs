//! Coded concepts: DCM, SCT and UCUM where a standard code exists, the private scheme
//! [`PRIVATE_SCHEME`] where none does (each listed in `docs/dicom-out.md`).

/// A coded concept (Code Value, Coding Scheme Designator, Code Meaning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// Code Value (0008,0100).
    pub value: String,
    /// Coding Scheme Designator (0008,0102): `DCM`, `SCT`, `UCUM` or [`PRIVATE_SCHEME`].
    pub scheme: String,
    /// Code Meaning (0008,0104).
    pub meaning: String,
}

pub(crate) fn code(value: &str, scheme: &str, meaning: &str) -> Code {
    Code {
        value: value.into(),
        scheme: scheme.into(),
        meaning: meaning.into(),
    }
}

/// Private coding scheme designator ("99" prefix: local scheme, PS3.16 §8.2).
pub const PRIVATE_SCHEME: &str = "99CAVASCOPE";
pub(crate) const PRIVATE_SCHEME_NAME: &str = "cavascope measurement and sign codes";

pub(crate) fn dcm(v: &str, m: &str) -> Code {
    code(v, "DCM", m)
}
pub(crate) fn sct(v: &str, m: &str) -> Code {
    code(v, "SCT", m)
}
pub(crate) fn ucum(v: &str, m: &str) -> Code {
    code(v, "UCUM", m)
}
pub(crate) fn private(v: &str, m: &str) -> Code {
    code(v, PRIVATE_SCHEME, m)
}

pub(crate) fn mm() -> Code {
    ucum("mm", "millimeter")
}
pub(crate) fn ml() -> Code {
    ucum("ml", "milliliter")
}
pub(crate) fn degree() -> Code {
    ucum("deg", "degree")
}
pub(crate) fn hounsfield() -> Code {
    ucum("[hnsf'U]", "Hounsfield unit")
}
pub(crate) fn no_units() -> Code {
    ucum("1", "no units")
}
pub(crate) fn percent() -> Code {
    ucum("%", "percent")
}
pub(crate) fn count() -> Code {
    ucum("{count}", "count")
}

pub(crate) fn ivc() -> Code {
    sct("64131007", "Inferior vena cava")
}
pub(crate) fn mass() -> Code {
    sct("4147007", "Mass")
}
pub(crate) fn vein() -> Code {
    sct("29092000", "Vein")
}
pub(crate) fn anatomical_structure() -> Code {
    sct("123037004", "Anatomical Structure")
}
pub(crate) fn morphologically_altered() -> Code {
    sct("49755003", "Morphologically Altered Structure")
}

/// Sign state → SCT qualifier value.
pub fn state(s: &str) -> Code {
    match s {
        "present" => sct("52101004", "Present"),
        "absent" => sct("2667000", "Absent"),
        _ => sct("82334004", "Indeterminate"),
    }
}

/// The 13 report-v1 signs: id → private code (code values are at most 16 characters).
pub const SIGNS: [(&str, &str, &str); 13] = [
    ("dilated_ivc", "SIGN-DILIVC", "Dilated IVC"),
    (
        "imperceptible_ivc_lumen",
        "SIGN-IMPLUMEN",
        "Imperceptible IVC lumen",
    ),
    (
        "prominent_collaterals",
        "SIGN-COLLAT",
        "Prominent venous collaterals",
    ),
    (
        "ivc_extrinsic_compression",
        "SIGN-EXTCOMP",
        "IVC extrinsic compression",
    ),
    (
        "intraluminal_extension",
        "SIGN-INTRALUM",
        "Intraluminal extension into the IVC",
    ),
    (
        "heterogeneous_arterial_enhancement",
        "SIGN-HETART",
        "Heterogeneous arterial enhancement",
    ),
    (
        "progressive_delayed_enhancement",
        "SIGN-PROGDEL",
        "Progressive delayed enhancement",
    ),
    ("washout", "SIGN-WASHOUT", "Washout"),
    ("internal_fat", "SIGN-FAT", "Internal fat"),
    ("calcification", "SIGN-CALC", "Calcification"),
    ("t1_hypointense", "SIGN-T1HYPO", "T1 hypointense to muscle"),
    ("t2_hyperintense", "SIGN-T2HYPER", "T2 hyperintense to muscle"),
    ("diffusion_restriction", "SIGN-DWI", "Diffusion restriction"),
];

/// The private code of a sign id; an unknown id (a newer report) gets a generic code
/// whose meaning carries the id.
pub fn sign(id: &str) -> Code {
    match SIGNS.iter().find(|s| s.0 == id) {
        Some((_, v, m)) => private(v, m),
        None => private("SIGN-OTHER", &format!("Sign {id}")),
    }
}

/// Phase role (report-v1 role name) → private code.
pub fn role(r: &str) -> Code {
    let (v, m) = match r {
        "ct_unenhanced" => ("PH-CT-UNENH", "CT unenhanced phase"),
        "ct_arterial" => ("PH-CT-ART", "CT arterial phase"),
        "ct_portal_venous" => ("PH-CT-PV", "CT portal venous phase"),
        "ct_delayed" => ("PH-CT-DEL", "CT delayed phase"),
        "mr_t1_pre" => ("PH-MR-T1PRE", "MR T1 pre-contrast"),
        "mr_t1_arterial" => ("PH-MR-T1ART", "MR T1 arterial phase"),
        "mr_t1_portal_venous" => ("PH-MR-T1PV", "MR T1 portal venous phase"),
        "mr_t1_delayed" => ("PH-MR-T1DEL", "MR T1 delayed phase"),
        "mr_t2" => ("PH-MR-T2", "MR T2"),
        "mr_dwi" => ("PH-MR-DWI", "MR diffusion-weighted"),
        "mr_adc" => ("PH-MR-ADC", "MR apparent diffusion coefficient"),
        _ => ("PH-OTHER", "Other series"),
    };
    private(v, m)
}

/// IVC segment (upper: right atrium to hepatic veins; middle: to the renal veins; lower).
pub fn ivc_segment(s: &str) -> Code {
    match s {
        "upper" => private("IVC-UPPER", "Upper IVC segment (suprahepatic)"),
        "middle" => private("IVC-MIDDLE", "Middle IVC segment (hepatic to renal veins)"),
        "lower" => private("IVC-LOWER", "Lower IVC segment (infrarenal)"),
        _ => private("IVC-UNKNOWN", "IVC segment not determined"),
    }
}

/// Enhancement pattern → private code.
pub fn pattern(p: &str) -> Code {
    match p {
        "progressive" => private("PAT-PROG", "Progressive enhancement"),
        "washout" => private("PAT-WASHOUT", "Washout"),
        "plateau" => private("PAT-PLATEAU", "Plateau"),
        _ => private("PAT-NONE", "No enhancement"),
    }
}

/// A collateral vein by name (report-v1 `collaterals.veins[].name`).
pub fn vein_name(n: &str) -> Code {
    let v: String = format!("VEIN-{}", n.to_ascii_uppercase())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(16)
        .collect();
    private(&v, &format!("{} vein", n.replace('_', " ")))
}
