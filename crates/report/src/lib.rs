//! cavascope-report: findings → report.json, HTML, CSV, overlays, curves, NIfTI (work in progress).
