//! Charts: the calibre profile and the enhancement curves as SVG (plotters; its SVG
//! backend writes `<text>` and needs no system fonts), and `curves.png` drawn directly
//! with `image` (plotters' bitmap backend would need fonts).

use crate::model::Report;
use cavascope_features::Thresholds;
use image::{Rgb, RgbImage};
use plotters::prelude::*;

/// Calibre along z: equivalent and minimum diameters, the normal range of the minimum
/// diameter per level (shaded), the megacava line, imperceptible-lumen stretches (grey).
pub fn calibre_svg(r: &Report, t: &Thresholds) -> Option<String> {
    let ivc = r.ivc.as_ref()?;
    if ivc.profile.len() < 2 {
        return None;
    }
    let zmin = ivc.profile.iter().map(|p| p.z_mm).fold(f64::INFINITY, f64::min);
    let zmax = ivc
        .profile
        .iter()
        .map(|p| p.z_mm)
        .fold(f64::NEG_INFINITY, f64::max);
    let dmax = ivc
        .profile
        .iter()
        .map(|p| p.equivalent_diameter_mm.max(p.max_diameter_mm))
        .fold(t.dilated_equivalent_diameter_mm + 5.0, f64::max);
    // Headroom above the highest curve for the legend, so it never hides the data.
    let ymax = dmax * 1.5;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 360)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .caption("IVC calibre along z (head to the right)", ("sans-serif", 18))
            .build_cartesian_2d(zmin..zmax.max(zmin + 1.0), 0.0..ymax)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("z (mm, LPS)")
            .y_desc("diameter (mm)")
            .draw()
            .ok()?;
        // Imperceptible lumen stretches.
        for rg in &ivc.lumen.imperceptible_ranges_z_mm {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(rg[0].min(rg[1]), 0.0), (rg[0].max(rg[1]), ymax)],
                    RGBColor(200, 200, 200).mix(0.6).filled(),
                )))
                .ok()?;
        }
        // Normal range of the minimum diameter per level: flat-cava AP .. 95th percentile.
        let limit = |s: Option<&str>| match s {
            Some("upper") => Some(t.normal_min_diameter_upper_mm),
            Some("middle") => Some(t.normal_min_diameter_middle_mm),
            Some("lower") => Some(t.normal_min_diameter_lower_mm),
            _ => None,
        };
        let band: Vec<(f64, f64)> = ivc
            .profile
            .iter()
            .filter_map(|p| limit(p.segment.as_deref()).map(|l| (p.z_mm, l)))
            .collect();
        if !band.is_empty() {
            chart
                .draw_series(band.iter().map(|&(z, l)| {
                    Rectangle::new(
                        [(z - 0.5, t.flat_ap_diameter_mm), (z + 0.5, l)],
                        RGBColor(120, 200, 120).mix(0.25).filled(),
                    )
                }))
                .ok()?
                .label("normal range of the minimum diameter for the level")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 15, y + 5)], RGBColor(120, 200, 120).filled())
                });
        }
        chart
            .draw_series(LineSeries::new(
                [
                    (zmin, t.dilated_equivalent_diameter_mm),
                    (zmax, t.dilated_equivalent_diameter_mm),
                ],
                RED.stroke_width(1),
            ))
            .ok()?
            .label(format!("megacava {:.0} mm", t.dilated_equivalent_diameter_mm))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RED));
        let mut pts: Vec<(f64, f64, f64)> = ivc
            .profile
            .iter()
            .map(|p| (p.z_mm, p.equivalent_diameter_mm, p.min_diameter_mm))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                BLUE.stroke_width(2),
            ))
            .ok()?
            .label("equivalent diameter")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], BLUE));
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.2)),
                RGBColor(0, 140, 0).stroke_width(1),
            ))
            .ok()?
            .label("minimum diameter")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RGBColor(0, 140, 0)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Phase order on the enhancement chart.
fn phase_rank(role: &str) -> usize {
    match role {
        "ct_unenhanced" | "mr_t1_pre" => 0,
        "ct_arterial" | "mr_t1_arterial" => 1,
        "ct_portal_venous" | "mr_t1_portal_venous" => 2,
        "ct_delayed" | "mr_t1_delayed" => 3,
        _ => 9,
    }
}

/// (phase index, mean, sd, role) of the dynamic phases, in order.
pub fn enhancement_points(r: &Report) -> Vec<(usize, f64, f64, String)> {
    let Some(mass) = &r.mass else {
        return vec![];
    };
    let mut v: Vec<(usize, f64, f64, String)> = mass
        .enhancement
        .iter()
        .map(|e| (phase_rank(&e.role), e.mean, e.sd, e.role.clone()))
        .filter(|p| p.0 < 9)
        .collect();
    v.sort_by_key(|p| p.0);
    v
}

/// Mass mean ± SD per phase (SVG).
pub fn enhancement_svg(r: &Report) -> Option<String> {
    let pts = enhancement_points(r);
    if pts.is_empty() {
        return None;
    }
    let lo = pts.iter().map(|p| p.1 - p.2).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.1 + p.2).fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.1).max(5.0);
    let unit = if pts.iter().any(|p| p.3.starts_with("mr_")) {
        "signal (scanner units)"
    } else {
        "HU"
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (600, 320)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .caption("Mass enhancement per phase (mean ± SD)", ("sans-serif", 18))
            .build_cartesian_2d(-0.5f64..3.5f64, (lo - pad)..(hi + pad))
            .ok()?;
        chart
            .configure_mesh()
            .x_labels(4)
            .x_label_formatter(&|x| {
                match x.round() as i64 {
                    0 => "unenhanced",
                    1 => "arterial",
                    2 => "portal venous",
                    3 => "delayed",
                    _ => "",
                }
                .to_string()
            })
            .y_desc(unit)
            .draw()
            .ok()?;
        chart
            .draw_series(pts.iter().map(|p| {
                PathElement::new(
                    vec![(p.0 as f64, p.1 - p.2), (p.0 as f64, p.1 + p.2)],
                    RGBColor(230, 120, 60),
                )
            }))
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0 as f64, p.1)),
                RGBColor(220, 60, 20).stroke_width(2),
            ))
            .ok()?;
        chart
            .draw_series(
                pts.iter()
                    .map(|p| Circle::new((p.0 as f64, p.1), 4, RGBColor(220, 60, 20).filled())),
            )
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// `curves.png`: the same curve drawn with plain pixels (no text; the HTML and
/// report.json carry the numbers). x: phases in order, y: mean with SD whiskers.
pub fn curves_png(r: &Report) -> RgbImage {
    let (w, h) = (480u32, 300u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let (l, rgt, top, bot) = (40i64, w as i64 - 20, 20i64, h as i64 - 30);
    let axis = Rgb([0, 0, 0]);
    line(&mut img, (l, bot), (rgt, bot), axis);
    line(&mut img, (l, top), (l, bot), axis);
    let pts = enhancement_points(r);
    for k in 0..4 {
        let x = l + (rgt - l) * (2 * k + 1) / 8;
        line(&mut img, (x, bot), (x, bot + 5), axis);
    }
    if pts.is_empty() {
        return img;
    }
    let lo = pts.iter().map(|p| p.1 - p.2).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.1 + p.2).fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1.0);
    let map = |k: usize, v: f64| -> (i64, i64) {
        let x = l + (rgt - l) * (2 * k as i64 + 1) / 8;
        let y = bot - ((v - lo) / span * (bot - top - 10) as f64) as i64 - 5;
        (x, y)
    };
    let col = Rgb([220, 60, 20]);
    for p in &pts {
        line(
            &mut img,
            map(p.0, p.1 - p.2),
            map(p.0, p.1 + p.2),
            Rgb([230, 150, 110]),
        );
    }
    for pair in pts.windows(2) {
        let (a, b) = (map(pair[0].0, pair[0].1), map(pair[1].0, pair[1].1));
        for d in -1..=1 {
            line(&mut img, (a.0, a.1 + d), (b.0, b.1 + d), col);
        }
    }
    for p in &pts {
        let (x, y) = map(p.0, p.1);
        for dy in -3..=3i64 {
            for dx in -3..=3i64 {
                if dx * dx + dy * dy <= 9 {
                    put(&mut img, x + dx, y + dy, col);
                }
            }
        }
    }
    img
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn line(img: &mut RgbImage, a: (i64, i64), b: (i64, i64), c: Rgb<u8>) {
    let n = (b.0 - a.0).abs().max((b.1 - a.1).abs()).max(1);
    for i in 0..=n {
        let x = a.0 + (b.0 - a.0) * i / n;
        let y = a.1 + (b.1 - a.1) * i / n;
        put(img, x, y, c);
    }
}
