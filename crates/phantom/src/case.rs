//! The named cases a phantom study can show.

use crate::PhantomError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A phantom case (issue 3). Names in files and on the command line are snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseName {
    /// No mass; normal IVC calibre and small collaterals.
    Normal,
    /// Middle-segment IVC leiomyosarcoma: dilated IVC filled by tumour, collaterals (CT).
    IvcLeiomyosarcoma,
    /// Intrahepatic mass abutting a normal IVC, rim then progressive enhancement.
    CholangiocarcinomaMimic,
    /// Retroperitoneal soft-tissue mass flattening the IVC.
    ExtrinsicCompression,
    /// Fat-containing retroperitoneal mass, also flattening the IVC.
    Liposarcoma,
    /// Liver mass with arterial hyperenhancement then washout.
    HccWashout,
    /// The leiomyosarcoma anatomy as an MRI study (T1 dynamic, T2, DWI, ADC).
    MriLeiomyosarcoma,
}

impl CaseName {
    /// The snake_case name used on the command line and in truth.json.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseName::Normal => "normal",
            CaseName::IvcLeiomyosarcoma => "ivc_leiomyosarcoma",
            CaseName::CholangiocarcinomaMimic => "cholangiocarcinoma_mimic",
            CaseName::ExtrinsicCompression => "extrinsic_compression",
            CaseName::Liposarcoma => "liposarcoma",
            CaseName::HccWashout => "hcc_washout",
            CaseName::MriLeiomyosarcoma => "mri_leiomyosarcoma",
        }
    }

    /// Parse a snake_case name (case-insensitive, `-` accepted for `_`).
    pub fn parse(s: &str) -> Option<CaseName> {
        let n = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::all().iter().copied().find(|c| c.as_str() == n)
    }

    /// Every case, in the order the benchmark lists them.
    pub fn all() -> &'static [CaseName] {
        &[
            CaseName::Normal,
            CaseName::IvcLeiomyosarcoma,
            CaseName::CholangiocarcinomaMimic,
            CaseName::ExtrinsicCompression,
            CaseName::Liposarcoma,
            CaseName::HccWashout,
            CaseName::MriLeiomyosarcoma,
        ]
    }

    /// MRI study (otherwise four-phase CT).
    pub fn is_mri(&self) -> bool {
        matches!(self, CaseName::MriLeiomyosarcoma)
    }
}

impl fmt::Display for CaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseName {
    type Err = PhantomError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CaseName::parse(s).ok_or_else(|| PhantomError::UnknownCase(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in CaseName::all() {
            assert_eq!(CaseName::parse(c.as_str()), Some(*c));
            let j = serde_json::to_string(c).unwrap();
            assert_eq!(j, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(
            CaseName::parse("IVC-Leiomyosarcoma"),
            Some(CaseName::IvcLeiomyosarcoma)
        );
        assert!(CaseName::parse("lms").is_none());
    }
}
