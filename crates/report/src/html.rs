//! `report.html`: one self-contained page (pictures as data URIs, charts as inline SVG,
//! no scripts, no external links), readable offline.

use crate::model::Report;
use base64::Engine;

/// Pictures and charts to embed.
#[derive(Debug, Default, Clone)]
pub struct Pictures {
    /// (view name, PNG bytes).
    pub overlays: Vec<(String, Vec<u8>)>,
    pub calibre_svg: Option<String>,
    pub enhancement_svg: Option<String>,
}

/// HTML-escape text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

fn opt(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) => format!("{x:.digits$}"),
        None => "—".into(),
    }
}

fn inline_svg(svg: &str) -> String {
    // Drop an XML declaration if the backend wrote one: it is invalid inside HTML.
    let s = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    };
    s.to_string()
}

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1220px}
h1{margin:0 0 4px 0;font-size:24px} h2{border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px;font-size:19px}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3} .present{background:#ffd9d0;font-weight:600} .absent{background:#e4f4e4} .indeterminate{background:#eee;color:#666}
.aid{background:#fff4cc;border:1px solid #e0c060;padding:8px 12px;margin:10px 0;font-weight:600}
.views{display:flex;gap:10px;flex-wrap:wrap} .views figure{margin:0} .views img{height:340px;border:1px solid #999;image-rendering:pixelated}
figcaption{font-size:12px;color:#555} .bar{background:#4a7bd0;height:12px} .muted{color:#777;font-size:12px}
.warn li{font-size:13px} .kv td:first-child{width:260px;color:#555}
"#;

/// The page.
pub fn render(r: &Report, pics: &Pictures) -> String {
    let mut h = String::new();
    head(&mut h, r);
    summary(&mut h, r);
    series_table(&mut h, r);
    views(&mut h, pics);
    ivc_section(&mut h, r, pics);
    mass_section(&mut h, r, pics);
    signs_table(&mut h, r);
    differential_table(&mut h, r);
    warnings_section(&mut h, r);
    h.push_str("</body></html>\n");
    h
}

/// Doctype, title, tool line and the research-aid notice (and the error, if any).
fn head(h: &mut String, r: &Report) {
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str(&format!(
        "<title>cavascope report — {}</title><style>{STYLE}</style></head><body>",
        esc(&r.input.path)
    ));
    h.push_str(&format!(
        "<h1>cavascope — IVC leiomyosarcoma signs</h1><div class=\"muted\">{} {} · study <code>{}</code> · report schema v{}</div>",
        esc(&r.tool.name),
        esc(&r.tool.version),
        esc(&r.input.path),
        r.schema_version
    ));
    h.push_str("<div class=\"aid\">Research aid, not a diagnosis. The signs and scores below are computed from images by software and may be wrong. Biopsy decides.</div>");
    if let Some(e) = &r.error {
        h.push_str(&format!(
            "<div class=\"aid\" style=\"background:#ffd9d0\">The study could not be analysed: {}</div>",
            esc(e)
        ));
    }
}

/// The leading diagnosis and the signs present.
fn summary(h: &mut String, r: &Report) {
    if let Some(top) = r.differential.first() {
        h.push_str(&format!(
            "<p><b>Leading diagnosis in the model:</b> {} (score {:.2}). Signs present: {}.</p>",
            esc(&top.diagnosis.replace('_', " ")),
            top.score,
            {
                let p: Vec<String> = r
                    .signs
                    .iter()
                    .filter(|s| s.state == "present")
                    .map(|s| esc(&s.id.replace('_', " ")))
                    .collect();
                if p.is_empty() {
                    "none".to_string()
                } else {
                    p.join(", ")
                }
            }
        ));
    }
}

/// Files read and every series with its role.
fn series_table(h: &mut String, r: &Report) {
    h.push_str("<h2>Study and series</h2>");
    h.push_str(&format!(
        "<p class=\"muted\">{} files scanned, {} used, {} skipped.</p>",
        r.input.files_scanned,
        r.input.files_used,
        r.input.files_skipped.len()
    ));
    h.push_str("<table><tr><th>Series UID</th><th>Modality</th><th>Description</th><th>Role</th><th>Role from</th><th>Dims (cols×rows×slices)</th><th>Spacing (mm)</th><th>Time (s)</th><th>Problems</th></tr>");
    for s in &r.series {
        h.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><b>{}</b></td><td>{}</td><td>{}×{}×{}</td><td>{:.2} × {:.2} × {:.2}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.series_instance_uid),
            esc(&s.modality),
            esc(s.description.as_deref().unwrap_or("")),
            esc(s.role.as_deref().unwrap_or("—")),
            esc(s.role_source.as_deref().unwrap_or("—")),
            s.dims[0], s.dims[1], s.dims[2],
            s.spacing_mm[0], s.spacing_mm[1], s.spacing_mm[2],
            opt(s.acquisition_time_s, 0),
            esc(&s.problems.join("; "))
        ));
    }
    h.push_str("</table>");
}

/// The overlay pictures.
fn views(h: &mut String, pics: &Pictures) {
    if !pics.overlays.is_empty() {
        h.push_str("<h2>Views</h2><p class=\"muted\">Soft-tissue window. <span style=\"color:#00c8ff\">■</span> IVC outline, <span style=\"color:#ff5028\">■</span> mass outline. Patient left on image right; head up on coronal and sagittal; anterior on the left of the sagittal view.</p><div class=\"views\">");
        for (name, png) in &pics.overlays {
            h.push_str(&format!(
                "<figure><img alt=\"{n} view\" src=\"data:image/png;base64,{}\"><figcaption>{n}</figcaption></figure>",
                base64::engine::general_purpose::STANDARD.encode(png),
                n = esc(name)
            ));
        }
        h.push_str("</div>");
    }
}

/// The IVC measures and the calibre chart.
fn ivc_section(h: &mut String, r: &Report, pics: &Pictures) {
    h.push_str("<h2>IVC</h2>");
    match &r.ivc {
        Some(ivc) => {
            h.push_str("<table class=\"kv\">");
            let rows = [
                ("Segmentation", esc(&ivc.segmentation_source)),
                (
                    "Measured on series",
                    format!("<code>{}</code>", esc(&ivc.reference_series)),
                ),
                ("Length", format!("{:.0} mm", ivc.length_mm)),
                (
                    "Largest equivalent diameter",
                    format!("{} mm", opt(ivc.max_equivalent_diameter_mm, 1)),
                ),
                (
                    "Smallest equivalent diameter",
                    format!("{} mm", opt(ivc.min_equivalent_diameter_mm, 1)),
                ),
                ("Smallest min/max ratio", opt(ivc.min_flattening_ratio, 2)),
                (
                    "Lumen visible",
                    match ivc.lumen.visible_fraction {
                        Some(f) => format!("{:.0}% of the length", f * 100.0),
                        None => "not judged".into(),
                    },
                ),
                (
                    "Longest imperceptible stretch",
                    format!("{} mm", opt(ivc.lumen.longest_imperceptible_mm, 1)),
                ),
                (
                    "Hepatic-vein confluence z",
                    format!("{} mm", opt(r.landmarks.hepatic_vein_confluence_z_mm, 1)),
                ),
                (
                    "Renal-vein inflow z",
                    format!("{} mm", opt(r.landmarks.renal_vein_inflow_z_mm, 1)),
                ),
            ];
            for (k, v) in rows {
                h.push_str(&format!("<tr><td>{k}</td><td>{v}</td></tr>"));
            }
            h.push_str("</table>");
        }
        None => h.push_str("<p>The IVC was not segmented (see warnings).</p>"),
    }
    if let Some(svg) = &pics.calibre_svg {
        h.push_str("<div>");
        h.push_str(&inline_svg(svg));
        h.push_str("</div><p class=\"muted\">Grey: stretches with no opacified lumen. Green band: normal minimum diameter for the level (flat-cava AP to 95th percentile).</p>");
    }
}

/// The mass measures, enhancement table and chart, and the collaterals line.
fn mass_section(h: &mut String, r: &Report, pics: &Pictures) {
    h.push_str("<h2>Mass</h2>");
    match &r.mass {
        Some(m) => {
            h.push_str("<table class=\"kv\">");
            let rows = [
                ("Segmentation", esc(&m.source)),
                ("Volume", format!("{:.1} ml", m.volume_ml)),
                ("Largest diameter", format!("{:.1} mm", m.max_diameter_mm)),
                (
                    "Centroid (LPS)",
                    format!(
                        "[{:.1}, {:.1}, {:.1}] mm",
                        m.centroid_mm[0], m.centroid_mm[1], m.centroid_mm[2]
                    ),
                ),
                ("IVC segment", esc(m.ivc_segment.as_deref().unwrap_or("—"))),
                (
                    "Contact arc with the IVC",
                    format!("{}°", opt(m.contact_arc_deg, 0)),
                ),
                (
                    "Contact z range",
                    m.contact_z_range_mm
                        .map(|r| format!("{:.1} to {:.1} mm", r[0], r[1]))
                        .unwrap_or_else(|| "no contact".into()),
                ),
                (
                    "Intraluminal extension",
                    match (m.intraluminal_extension, m.intraluminal_ml) {
                        (Some(b), Some(ml)) => {
                            format!(
                                "{} ({ml:.1} ml deep inside the IVC contour)",
                                if b { "yes" } else { "no" }
                            )
                        }
                        (Some(b), None) => if b { "yes" } else { "no" }.to_string(),
                        (None, _) => "—".into(),
                    },
                ),
                ("Fat fraction", opt(m.fat_fraction.map(|f| f * 100.0), 1) + " %"),
                (
                    "Calcified fraction",
                    opt(m.calcified_fraction.map(|f| f * 100.0), 2) + " %",
                ),
                ("Enhancement pattern", esc(m.pattern.as_deref().unwrap_or("—"))),
                ("Arterial heterogeneity (CV)", opt(m.arterial_heterogeneity_cv, 2)),
            ];
            for (k, v) in rows {
                h.push_str(&format!("<tr><td>{k}</td><td>{v}</td></tr>"));
            }
            if let Some(mr) = &m.mr {
                h.push_str(&format!(
                    "<tr><td>T1 / T2 ratio to muscle</td><td>{} / {}</td></tr><tr><td>ADC (1e-3 mm²/s)</td><td>{} (reference {})</td></tr>",
                    opt(mr.t1_ratio_to_muscle, 2),
                    opt(mr.t2_ratio_to_muscle, 2),
                    opt(mr.adc_mean, 2),
                    opt(mr.adc_reference, 2)
                ));
            }
            h.push_str("</table>");
            if !m.enhancement.is_empty() {
                h.push_str("<table><tr><th>Phase</th><th>Mean</th><th>SD</th><th>CV</th><th>Change from unenhanced</th></tr>");
                for e in &m.enhancement {
                    h.push_str(&format!(
                        "<tr><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.2}</td><td>{}</td></tr>",
                        esc(&e.role),
                        e.mean,
                        e.sd,
                        e.cv,
                        opt(e.delta_from_unenhanced, 1)
                    ));
                }
                h.push_str("</table>");
            }
        }
        None => h.push_str("<p>No mass was found.</p>"),
    }
    if let Some(svg) = &pics.enhancement_svg {
        h.push_str("<div>");
        h.push_str(&inline_svg(svg));
        h.push_str("</div>");
    }
    if let Some(c) = &r.collaterals {
        h.push_str(&format!(
            "<p><b>Collaterals:</b> widest {} mm, volume {} ml, count {}.</p>",
            opt(c.max_diameter_mm, 1),
            opt(c.volume_ml, 1),
            c.count.map(|n| n.to_string()).unwrap_or_else(|| "—".into())
        ));
    }
}

/// Every sign with its value, cut-off and source.
fn signs_table(h: &mut String, r: &Report) {
    h.push_str("<h2>Signs</h2><table><tr><th>Sign</th><th>State</th><th>Value</th><th>Threshold</th><th>Explanation</th><th>Source</th></tr>");
    for s in &r.signs {
        let unit = esc(s.unit.as_deref().unwrap_or(""));
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"{st}\">{st}</td><td>{} {unit}</td><td>{} {unit}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
            esc(&s.id.replace('_', " ")),
            opt(s.value, 2),
            opt(s.threshold, 2),
            esc(&s.explanation),
            esc(&s.source),
            st = esc(&s.state),
        ));
    }
    h.push_str("</table>");
}

/// The differential with what moved each score.
fn differential_table(h: &mut String, r: &Report) {
    h.push_str("<h2>Differential (transparent model)</h2><p class=\"muted\">Naive Bayes over the signs with published or default likelihoods (docs/signs.md). Signs are correlated, so the scores are over-confident: read them as a ranking with reasons. Research aid only: biopsy decides.</p>");
    h.push_str("<table><tr><th>Diagnosis</th><th>Score</th><th style=\"width:160px\"></th><th>What moved it</th></tr>");
    for d in &r.differential {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{:.3}</td><td><div class=\"bar\" style=\"width:{:.0}%\"></div></td><td>{}</td></tr>",
            esc(&d.diagnosis.replace('_', " ")),
            d.score,
            (d.score * 100.0).clamp(0.0, 100.0),
            esc(&d.explanation.join("; "))
        ));
    }
    h.push_str("</table>");
}

/// Warnings, skipped files and the closing notice.
fn warnings_section(h: &mut String, r: &Report) {
    h.push_str("<h2>Warnings</h2>");
    if r.warnings.is_empty() {
        h.push_str("<p>None.</p>");
    } else {
        h.push_str("<ul class=\"warn\">");
        for w in &r.warnings {
            h.push_str(&format!("<li>{}</li>", esc(w)));
        }
        h.push_str("</ul>");
    }
    if !r.input.files_skipped.is_empty() {
        h.push_str("<h2>Files skipped</h2><table><tr><th>File</th><th>Reason</th></tr>");
        for s in r.input.files_skipped.iter().take(500) {
            h.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                esc(&s.path),
                esc(&s.reason)
            ));
        }
        h.push_str("</table>");
        if r.input.files_skipped.len() > 500 {
            h.push_str(&format!(
                "<p class=\"muted\">… and {} more (see report.json).</p>",
                r.input.files_skipped.len() - 500
            ));
        }
    }
    h.push_str("<div class=\"aid\">This report is a research aid. It does not replace a radiologist's reading, and the diagnosis of a mass rests on histology: biopsy decides.</div>");
}
