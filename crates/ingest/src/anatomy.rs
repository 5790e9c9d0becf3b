//! TotalSegmentator output as anatomy context (`--anatomy FILE|DIR`): its multi-label map
//! (`total` task for CT, `total_mr` for MR; class ids kept below, copied from
//! `totalsegmentator/map_to_binary.py` of totalsegmentator 2.18.0) or its per-structure
//! output folder (`inferior_vena_cava.nii.gz`, `aorta.nii.gz`, …, one binary file each).
//!
//! A folder is read only for the structures the pipeline uses ([`USED`]), so a 117-file
//! folder of a 512² CT costs a few files, not all of them.

use crate::IngestError;
use cavascope_volume::{nifti_io, Anatomy, Array3, Geometry};
use std::path::Path;

/// Which TotalSegmentator task a multi-label map holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// `total` (CT, 117 classes).
    Total,
    /// `total_mr` (MR, 50 classes).
    TotalMr,
}

impl Task {
    /// Label value → TotalSegmentator class name, for this task.
    pub fn table(self) -> &'static [(u16, &'static str)] {
        match self {
            Task::Total => TOTAL,
            Task::TotalMr => TOTAL_MR,
        }
    }
    /// The task's name as TotalSegmentator spells it.
    pub fn name(self) -> &'static str {
        match self {
            Task::Total => "total",
            Task::TotalMr => "total_mr",
        }
    }
}

/// Structures read from a per-structure folder: vessels, organs, bowel and vertebrae of the
/// abdomen (what the IVC, mass, landmark and collateral measurements can use).
pub const USED: &[&str] = &[
    "inferior_vena_cava",
    "aorta",
    "portal_vein_and_splenic_vein",
    "liver",
    "kidney_left",
    "kidney_right",
    "spleen",
    "pancreas",
    "gallbladder",
    "stomach",
    "duodenum",
    "small_bowel",
    "colon",
    "esophagus",
    "adrenal_gland_left",
    "adrenal_gland_right",
    "urinary_bladder",
    "iliac_artery_left",
    "iliac_artery_right",
    "iliac_vena_left",
    "iliac_vena_right",
    "kidney_cyst_left",
    "kidney_cyst_right",
    "prostate",
    "sacrum",
    "vertebrae_S1",
    "vertebrae_L5",
    "vertebrae_L4",
    "vertebrae_L3",
    "vertebrae_L2",
    "vertebrae_L1",
    "vertebrae_T12",
    "vertebrae_T11",
    "vertebrae_T10",
    "vertebrae_T9",
    "vertebrae_T8",
    "vertebrae",
    "autochthon_left",
    "autochthon_right",
    "iliopsoas_left",
    "iliopsoas_right",
    "psoas_major_left",
    "psoas_major_right",
    "heart",
];

/// Read a TotalSegmentator multi-label file or per-structure folder. `task` forces the
/// class table of a multi-label file; otherwise a label above 50 means `total`, else
/// `total_mr` when `mr` (the study is MR), else `total`.
pub fn read_anatomy(path: &Path, task: Option<Task>, mr: bool) -> Result<Anatomy, IngestError> {
    read_anatomy_inner(path, task, mr).map_err(|why| IngestError::Anatomy {
        path: path.to_path_buf(),
        why,
    })
}

fn read_anatomy_inner(path: &Path, task: Option<Task>, mr: bool) -> Result<Anatomy, String> {
    if !path.exists() {
        return Err("no such file or folder".into());
    }
    if path.is_dir() {
        return read_folder(path);
    }
    let (data, geometry) = nifti_io::read_nifti(path).map_err(|e| e.to_string())?;
    let mut present = vec![false; u16::MAX as usize + 1];
    let mut labels = Array3::<u16>::zeros(data.dim());
    for (o, &v) in labels.iter_mut().zip(data.iter()) {
        if v > 0.0 && v.is_finite() {
            if v.fract() != 0.0 || v > u16::MAX as f32 {
                return Err(format!("value {v} is not a label (integers 0–65535)"));
            }
            *o = v as u16;
            present[v as usize] = true;
        }
    }
    let max = present.iter().rposition(|&p| p).unwrap_or(0);
    if max == 0 {
        return Err("the label map is empty".into());
    }
    let task = task.unwrap_or(if max > 50 || !mr {
        Task::Total
    } else {
        Task::TotalMr
    });
    let classes: Vec<(u16, String)> = task
        .table()
        .iter()
        .filter(|(v, _)| present[*v as usize])
        .map(|(v, n)| (*v, n.to_string()))
        .collect();
    if let Some(v) = (1..=max).find(|&v| present[v] && !task.table().iter().any(|(t, _)| *t as usize == v)) {
        return Err(format!(
            "label {v} is not a class of TotalSegmentator's {} task",
            task.name()
        ));
    }
    Ok(Anatomy {
        labels,
        geometry,
        classes,
        source: format!("TotalSegmentator {} task, {}", task.name(), path.display()),
    })
}

fn read_folder(dir: &Path) -> Result<Anatomy, String> {
    let mut grid: Option<(Geometry, (usize, usize, usize))> = None;
    let mut labels: Option<Array3<u16>> = None;
    let mut classes = Vec::new();
    for (i, name) in USED.iter().enumerate() {
        let Some(p) = ["nii.gz", "nii"]
            .iter()
            .map(|e| dir.join(format!("{name}.{e}")))
            .find(|p| p.is_file())
        else {
            continue;
        };
        let (data, g) = nifti_io::read_nifti(&p).map_err(|e| e.to_string())?;
        match &grid {
            None => grid = Some((g, data.dim())),
            Some((g0, d0)) => {
                if *d0 != data.dim() || g0.max_abs_diff(&g) > 1e-3 {
                    return Err(format!(
                        "{}: grid differs from the folder's other structures",
                        p.display()
                    ));
                }
            }
        }
        let id = (i + 1) as u16;
        let out = labels.get_or_insert_with(|| Array3::zeros(data.dim()));
        let mut any = false;
        for (o, &v) in out.iter_mut().zip(data.iter()) {
            // A voxel claimed by two files keeps the first (USED order: vessels first).
            if v > 0.0 && *o == 0 {
                *o = id;
                any = true;
            }
        }
        if any {
            classes.push((id, name.to_string()));
        }
    }
    let (Some((geometry, _)), Some(labels)) = (grid, labels) else {
        return Err(format!(
            "no TotalSegmentator structure file (e.g. inferior_vena_cava.nii.gz) in {}",
            dir.display()
        ));
    };
    Ok(Anatomy {
        labels,
        geometry,
        classes,
        source: format!("TotalSegmentator structure folder {}", dir.display()),
    })
}

/// TotalSegmentator 2.18.0 `total` task (CT) class ids.
pub const TOTAL: &[(u16, &str)] = &[
    (1, "spleen"),
    (2, "kidney_right"),
    (3, "kidney_left"),
    (4, "gallbladder"),
    (5, "liver"),
    (6, "stomach"),
    (7, "pancreas"),
    (8, "adrenal_gland_right"),
    (9, "adrenal_gland_left"),
    (10, "lung_upper_lobe_left"),
    (11, "lung_lower_lobe_left"),
    (12, "lung_upper_lobe_right"),
    (13, "lung_middle_lobe_right"),
    (14, "lung_lower_lobe_right"),
    (15, "esophagus"),
    (16, "trachea"),
    (17, "thyroid_gland"),
    (18, "small_bowel"),
    (19, "duodenum"),
    (20, "colon"),
    (21, "urinary_bladder"),
    (22, "prostate"),
    (23, "kidney_cyst_left"),
    (24, "kidney_cyst_right"),
    (25, "sacrum"),
    (26, "vertebrae_S1"),
    (27, "vertebrae_L5"),
    (28, "vertebrae_L4"),
    (29, "vertebrae_L3"),
    (30, "vertebrae_L2"),
    (31, "vertebrae_L1"),
    (32, "vertebrae_T12"),
    (33, "vertebrae_T11"),
    (34, "vertebrae_T10"),
    (35, "vertebrae_T9"),
    (36, "vertebrae_T8"),
    (37, "vertebrae_T7"),
    (38, "vertebrae_T6"),
    (39, "vertebrae_T5"),
    (40, "vertebrae_T4"),
    (41, "vertebrae_T3"),
    (42, "vertebrae_T2"),
    (43, "vertebrae_T1"),
    (44, "vertebrae_C7"),
    (45, "vertebrae_C6"),
    (46, "vertebrae_C5"),
    (47, "vertebrae_C4"),
    (48, "vertebrae_C3"),
    (49, "vertebrae_C2"),
    (50, "vertebrae_C1"),
    (51, "heart"),
    (52, "aorta"),
    (53, "pulmonary_vein"),
    (54, "brachiocephalic_trunk"),
    (55, "subclavian_artery_right"),
    (56, "subclavian_artery_left"),
    (57, "common_carotid_artery_right"),
    (58, "common_carotid_artery_left"),
    (59, "brachiocephalic_vein_left"),
    (60, "brachiocephalic_vein_right"),
    (61, "atrial_appendage_left"),
    (62, "superior_vena_cava"),
    (63, "inferior_vena_cava"),
    (64, "portal_vein_and_splenic_vein"),
    (65, "iliac_artery_left"),
    (66, "iliac_artery_right"),
    (67, "iliac_vena_left"),
    (68, "iliac_vena_right"),
    (69, "humerus_left"),
    (70, "humerus_right"),
    (71, "scapula_left"),
    (72, "scapula_right"),
    (73, "clavicula_left"),
    (74, "clavicula_right"),
    (75, "femur_left"),
    (76, "femur_right"),
    (77, "hip_left"),
    (78, "hip_right"),
    (79, "spinal_cord"),
    (80, "gluteus_maximus_left"),
    (81, "gluteus_maximus_right"),
    (82, "gluteus_medius_left"),
    (83, "gluteus_medius_right"),
    (84, "gluteus_minimus_left"),
    (85, "gluteus_minimus_right"),
    (86, "autochthon_left"),
    (87, "autochthon_right"),
    (88, "iliopsoas_left"),
    (89, "iliopsoas_right"),
    (90, "brain"),
    (91, "skull"),
    (92, "rib_left_1"),
    (93, "rib_left_2"),
    (94, "rib_left_3"),
    (95, "rib_left_4"),
    (96, "rib_left_5"),
    (97, "rib_left_6"),
    (98, "rib_left_7"),
    (99, "rib_left_8"),
    (100, "rib_left_9"),
    (101, "rib_left_10"),
    (102, "rib_left_11"),
    (103, "rib_left_12"),
    (104, "rib_right_1"),
    (105, "rib_right_2"),
    (106, "rib_right_3"),
    (107, "rib_right_4"),
    (108, "rib_right_5"),
    (109, "rib_right_6"),
    (110, "rib_right_7"),
    (111, "rib_right_8"),
    (112, "rib_right_9"),
    (113, "rib_right_10"),
    (114, "rib_right_11"),
    (115, "rib_right_12"),
    (116, "sternum"),
    (117, "costal_cartilages"),
];

/// TotalSegmentator 2.18.0 `total_mr` task class ids.
pub const TOTAL_MR: &[(u16, &str)] = &[
    (1, "spleen"),
    (2, "kidney_right"),
    (3, "kidney_left"),
    (4, "gallbladder"),
    (5, "liver"),
    (6, "stomach"),
    (7, "pancreas"),
    (8, "adrenal_gland_right"),
    (9, "adrenal_gland_left"),
    (10, "lung_left"),
    (11, "lung_right"),
    (12, "esophagus"),
    (13, "small_bowel"),
    (14, "duodenum"),
    (15, "colon"),
    (16, "urinary_bladder"),
    (17, "prostate"),
    (18, "sacrum"),
    (19, "vertebrae"),
    (20, "intervertebral_discs"),
    (21, "spinal_cord"),
    (22, "heart"),
    (23, "aorta"),
    (24, "inferior_vena_cava"),
    (25, "portal_vein_and_splenic_vein"),
    (26, "iliac_artery_left"),
    (27, "iliac_artery_right"),
    (28, "iliac_vena_left"),
    (29, "iliac_vena_right"),
    (30, "humerus_left"),
    (31, "humerus_right"),
    (32, "scapula_left"),
    (33, "scapula_right"),
    (34, "clavicula_left"),
    (35, "clavicula_right"),
    (36, "femur_left"),
    (37, "femur_right"),
    (38, "hip_left"),
    (39, "hip_right"),
    (40, "gluteus_maximus_left"),
    (41, "gluteus_maximus_right"),
    (42, "gluteus_medius_left"),
    (43, "gluteus_medius_right"),
    (44, "gluteus_minimus_left"),
    (45, "gluteus_minimus_right"),
    (46, "autochthon_left"),
    (47, "autochthon_right"),
    (48, "iliopsoas_left"),
    (49, "iliopsoas_right"),
    (50, "brain"),
];
