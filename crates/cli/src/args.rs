//! Command-line arguments (the contract of `shared/spec/cli.md`).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// cavascope: IVC leiomyosarcoma signs from a DICOM study folder.
///
/// With no command, runs the demo: generates the bundled phantom study, analyses it and
/// writes ./cavascope-demo/. A research aid: biopsy decides.
#[derive(Debug, Parser)]
#[command(name = "cavascope", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Worker threads for every parallel stage (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// No progress bars; warnings and errors only.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse one study folder: report.json, report.html, measurements.csv, overlays.
    ///
    /// Example: cavascope analyze study/ --out out/ --ivc-seed=-24.2,-20.5,-85.1
    Analyze(AnalyzeArgs),
    /// Analyse many studies: one OUT/<study>/ each and OUT/summary.csv.
    ///
    /// Example: cavascope batch studies.txt --out results/ --shard 3/10
    Batch(BatchArgs),
    /// List the series of a study folder and the files skipped; no analysis.
    ///
    /// Example: cavascope inspect study/ --json
    Inspect(InspectArgs),
    /// Write each volume of a study as NIfTI (.nii.gz) with a JSON sidecar.
    ///
    /// Example: cavascope convert study/ --out nifti/
    Convert(ConvertArgs),
    /// Write a phantom study (DICOM) and its truth.json.
    ///
    /// Example: cavascope phantom --case ivc_leiomyosarcoma --out phantom/
    /// On real anatomy: cavascope phantom --background ct.nii.gz --labels seg.nii.gz --case liposarcoma --out p/
    Phantom(PhantomArgs),
    /// Score a report.json (any tool writing report-v1) against a phantom truth.json.
    ///
    /// One line per check; exit 0 when every check passes, 1 when any fails, 2 when a file
    /// cannot be read. Example: cavascope score out/report.json study/truth.json
    Score(ScoreArgs),
    /// The phantom benchmark: generate each case × draw, analyse, score; a table,
    /// OUT/bench.csv and OUT/bench.json.
    ///
    /// Example: cavascope bench --draws 3 --out bench/
    Bench(BenchArgs),
    /// A DICOM node: C-ECHO and C-STORE SCP; each study analysed once complete.
    ///
    /// Example: cavascope listen --ae-title CAVASCOPE --port 11112 --out received/ --allow ORTHANC
    Listen(ListenArgs),
}

#[derive(Debug, Args, Clone)]
pub struct AnalysisInputs {
    /// A point inside the IVC, patient LPS mm: X,Y,Z (negative values work as written).
    #[arg(long, value_name = "X,Y,Z", allow_hyphen_values = true)]
    pub ivc_seed: Option<String>,
    /// A point inside the mass, patient LPS mm: X,Y,Z.
    #[arg(long, value_name = "X,Y,Z", allow_hyphen_values = true)]
    pub mass_seed: Option<String>,
    /// IVC label map: NIfTI (.nii/.nii.gz, TotalSegmentator single or multilabel) or DICOM SEG;
    /// FILE:N takes label N (segment N of a SEG), FILE:NAME a class or segment name.
    #[arg(long, value_name = "FILE[:N]")]
    pub ivc_mask: Option<PathBuf>,
    /// Mass label map: NIfTI or DICOM SEG (FILE:N for one label).
    #[arg(long, value_name = "FILE[:N]")]
    pub mass_mask: Option<PathBuf>,
    /// Anatomy context: TotalSegmentator's multi-label map (total / total_mr task) or its
    /// per-structure output folder. Its IVC label is used as --ivc-mask when none is given.
    #[arg(long, value_name = "FILE|DIR")]
    pub anatomy: Option<PathBuf>,
    /// Override the detected role of a series: SERIES_UID=ROLE, or FILE=ROLE for a NIfTI
    /// study (its file name) (repeatable).
    #[arg(long, value_name = "SERIES_UID=ROLE")]
    pub phase: Vec<String>,
    /// Thresholds table override (TOML).
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
    /// Also write OUT/dicom/: a DICOM SEG (IVC, mass, collaterals) and a TID 1500 SR.
    #[arg(long)]
    pub dicom_out: bool,
}

#[derive(Debug, Args, Clone)]
pub struct AnalyzeArgs {
    /// Study folder (DICOM: any nesting, any file names), a NIfTI file (.nii/.nii.gz), or a
    /// folder of NIfTI files (one per phase, optional JSON sidecars).
    pub study_dir: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub inputs: AnalysisInputs,
    /// Print report.json to stdout too.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct BatchArgs {
    /// A text file listing study folders (one per line), or a folder whose subfolders are studies.
    pub list_or_root: PathBuf,
    /// Output folder: OUT/<study>/ per study and OUT/summary.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Process shard I of N (1-based), for job-array schedulers.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Skip studies whose report is already complete.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub inputs: AnalysisInputs,
}

#[derive(Debug, Args, Clone)]
pub struct InspectArgs {
    /// Study folder.
    pub study_dir: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ConvertArgs {
    /// Study folder.
    pub study_dir: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Write uncompressed .nii instead of .nii.gz.
    #[arg(long)]
    pub uncompressed: bool,
}

#[derive(Debug, Args, Clone)]
pub struct PhantomArgs {
    /// Case name (normal, ivc_leiomyosarcoma, cholangiocarcinoma_mimic, extrinsic_compression,
    /// liposarcoma, hcc_washout, mri_leiomyosarcoma).
    #[arg(long)]
    pub case: String,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed (anatomy sizes and noise).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Grid: small (192² at 2 mm, 100 slices at 2.5 mm, fast), standard (512² at 0.75 mm,
    /// 100 slices at 2.5 mm) or clinical (512² at 0.75 mm, 300 slices at 1 mm).
    #[arg(long, default_value = "standard", value_name = "small|standard|clinical")]
    pub size: String,
    /// Number of slices (default: the size's), at the size's slice spacing, centred on
    /// the same z.
    #[arg(long, value_name = "N")]
    pub slices: Option<usize>,
    /// Transfer syntax: explicit, implicit, deflate, jpegls.
    #[arg(long, default_value = "explicit")]
    pub transfer_syntax: String,
    /// File naming: ordered (series folders) or pacs (random nested tree).
    #[arg(long, default_value = "ordered")]
    pub naming: String,
    /// Add junk: non-DICOM files, a truncated file, a duplicate and a localizer.
    #[arg(long)]
    pub junk: bool,
    /// CT noise SD in HU (MRI noise scales with it).
    #[arg(long)]
    pub noise: Option<f32>,
    /// A real unenhanced CT (NIfTI) as the background: the hybrid phantom on real anatomy
    /// (cases normal, ivc_leiomyosarcoma, extrinsic_compression, liposarcoma). Needs --labels.
    #[arg(long, value_name = "CT.nii.gz", requires = "labels")]
    pub background: Option<PathBuf>,
    /// The background's TotalSegmentator label map (task `total`, multi-label NIfTI).
    #[arg(long, value_name = "SEG.nii.gz", requires = "background")]
    pub labels: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct ScoreArgs {
    /// report.json (report-v1, from cavascope or any other tool).
    pub report: PathBuf,
    /// truth.json written with the phantom study.
    pub truth: PathBuf,
}

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Cases to run, comma-separated (default: every case).
    #[arg(long, value_delimiter = ',')]
    pub cases: Vec<String>,
    /// Draws (seeds 1..=N) per case.
    #[arg(long, default_value_t = 1)]
    pub draws: u64,
    /// Grid: small (192² at 2 mm, fast) or standard (512² at 0.75 mm).
    #[arg(long, default_value = "small", value_name = "small|standard")]
    pub size: String,
    /// Output folder: bench.csv, bench.json and one folder per study.
    #[arg(long)]
    pub out: PathBuf,
    /// Keep the generated studies (they are removed after scoring by default).
    #[arg(long)]
    pub keep_studies: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ListenArgs {
    /// This node's AE title (peers must call it by this name).
    #[arg(long, default_value = "CAVASCOPE")]
    pub ae_title: String,
    /// TCP port.
    #[arg(long, default_value_t = 11112)]
    pub port: u16,
    /// Address to listen on (0.0.0.0: every interface).
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: String,
    /// Folder for received studies: DIR/<StudyInstanceUID>/ and its report/.
    #[arg(long)]
    pub out: PathBuf,
    /// Calling AE title allowed to associate (repeatable); without any, all are accepted.
    #[arg(long, value_name = "AET")]
    pub allow: Vec<String>,
    /// Seconds without new instances after which a study is complete and analysed.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub idle: f64,
    /// Send the report's DICOM files (report/dicom/*.dcm) to this peer by C-STORE.
    #[arg(long, value_name = "AET@HOST:PORT")]
    pub send_to: Option<String>,
    /// Associations served at once (more are rejected: local limit exceeded).
    #[arg(long, default_value_t = 8)]
    pub max_associations: usize,
    /// Largest instance taken, MiB (a larger one is refused with status A700).
    #[arg(long, default_value_t = 1024)]
    pub max_instance_mb: u64,
    /// Disk the node may fill under DIR, GiB (beyond: status A700).
    #[arg(long, default_value_t = 200.0)]
    pub max_disk_gb: f64,
    /// Free space to leave on DIR's file system, MiB (below: status A700).
    #[arg(long, default_value_t = 1024)]
    pub min_free_mb: u64,
    #[command(flatten)]
    pub inputs: AnalysisInputs,
}
