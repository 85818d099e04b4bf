//! Charts as SVG text, drawn on the server: the reliability diagram and
//! confusion matrix of `heron eval` and the dashboard, the dashboard's
//! stacked bars (documents per day by label), histogram (confidence) and
//! lines (share of `unsure`, reviews per day). A report opens in any
//! browser, the web UI needs no chart library, and every mark carries a
//! `<title>` so its number can be read by hovering or a screen reader.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Reliability diagram: per confidence bin, a bar as high as the bin's
/// accuracy, the diagonal of perfect calibration, and the gap shaded.
/// `bins` are (mean confidence, accuracy, documents) per tenth.
pub fn reliability_svg(bins: &[(f64, f64, usize)], ece: f64) -> String {
    const SIZE: f64 = 400.0;
    const MARGIN: f64 = 50.0;
    let mut svg = header(SIZE + 2.0 * MARGIN, SIZE + 2.0 * MARGIN);
    let x = |v: f64| MARGIN + v * SIZE;
    let y = |v: f64| MARGIN + (1.0 - v) * SIZE;
    let _ = writeln!(
        svg,
        r##"<rect x="{MARGIN}" y="{MARGIN}" width="{SIZE}" height="{SIZE}" fill="#fafafa" stroke="#999"/>"##
    );
    let width = SIZE / bins.len().max(1) as f64;
    for (i, &(confidence, accuracy, count)) in bins.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let left = MARGIN + i as f64 * width;
        let _ = writeln!(
            svg,
            r##"<rect x="{left:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#4878d0"><title>{count} documents, confidence {confidence:.3}, accuracy {accuracy:.3}</title></rect>"##,
            y(accuracy),
            width - 2.0,
            accuracy * SIZE
        );
        let (low, high) = if confidence > accuracy {
            (accuracy, confidence)
        } else {
            (confidence, accuracy)
        };
        let _ = writeln!(
            svg,
            r##"<rect x="{left:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#d65f5f" fill-opacity="0.5"/>"##,
            y(high),
            width - 2.0,
            (high - low) * SIZE
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333" stroke-dasharray="4 3"/>"##,
        x(0.0),
        y(0.0),
        x(1.0),
        y(1.0)
    );
    for tick in 0..=10 {
        let v = f64::from(tick) / 10.0;
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{v:.1}</text><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{v:.1}</text>"##,
            x(v),
            y(0.0) + 14.0,
            MARGIN - 4.0,
            y(v) + 3.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">confidence</text><text x="14" y="{:.1}" font-size="12" transform="rotate(-90 14 {:.1})" text-anchor="middle">accuracy</text><text x="{:.1}" y="24" font-size="14" text-anchor="middle">Reliability (ECE {ece:.4}); red: gap to the diagonal</text>"##,
        x(0.5),
        y(0.0) + 32.0,
        y(0.5),
        y(0.5),
        x(0.5)
    );
    svg.push_str("</svg>\n");
    svg
}

/// Confusion matrix heat map: rows are true types, columns predicted ones,
/// each cell shaded by its share of the row.
pub fn confusion_svg(confusion: &BTreeMap<String, BTreeMap<String, usize>>) -> String {
    const CELL: f64 = 18.0;
    const LABELS: f64 = 150.0;
    let mut classes: Vec<&String> = confusion
        .keys()
        .chain(confusion.values().flat_map(|row| row.keys()))
        .collect();
    classes.sort();
    classes.dedup();
    let n = classes.len() as f64;
    let mut svg = header(LABELS + n * CELL + 20.0, LABELS + n * CELL + 20.0);
    for (i, class) in classes.iter().enumerate() {
        let offset = LABELS + i as f64 * CELL + CELL * 0.7;
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{offset:.1}" font-size="10" text-anchor="end">{}</text><text x="{offset:.1}" y="{:.1}" font-size="10" transform="rotate(-60 {offset:.1} {:.1})">{}</text>"##,
            LABELS - 4.0,
            escape(class),
            LABELS - 4.0,
            LABELS - 4.0,
            escape(class)
        );
    }
    for (row, truth) in classes.iter().enumerate() {
        let counts = confusion.get(*truth);
        let total: usize = counts.map_or(0, |c| c.values().sum());
        for (column, predicted) in classes.iter().enumerate() {
            let count = counts.and_then(|c| c.get(*predicted)).copied().unwrap_or(0);
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            // Right answers in blue, confusions in red.
            let colour = if row == column { "#4878d0" } else { "#d65f5f" };
            let _ = writeln!(
                svg,
                r##"<rect x="{:.1}" y="{:.1}" width="{CELL}" height="{CELL}" fill="{colour}" fill-opacity="{:.3}" stroke="#ddd"><title>{} → {}: {count}</title></rect>"##,
                LABELS + column as f64 * CELL,
                LABELS + row as f64 * CELL,
                if count == 0 { 0.0 } else { 0.15 + 0.85 * share },
                escape(truth),
                escape(predicted)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn header(width: f64, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" role=\"img\">\n"
    )
}

/// Colours for labels, told apart also by their order in the legend.
const PALETTE: [&str; 10] = [
    "#4878d0", "#ee854a", "#6acc64", "#d65f5f", "#956cb4", "#8c613c", "#dc7ec0", "#797979",
    "#d5bb67", "#82c6e2",
];

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;

/// The plot area's axes with `ticks` horizontal guides up to `max`.
fn axes(svg: &mut String, max: f64, format_tick: impl Fn(f64) -> String) {
    let plot_height = HEIGHT - BOTTOM - TOP;
    for i in 0..=4 {
        let value = max * f64::from(i) / 4.0;
        let y = TOP + plot_height * (1.0 - f64::from(i) / 4.0);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="#333">{}</text>"##,
            LEFT - 4.0,
            y + 3.0,
            escape(&format_tick(value))
        );
    }
}

/// Stacked bars: one bar per x value (a day), one segment per series (a
/// label), with a legend of the series in order.
pub fn stacked_bars_svg(columns: &[(String, BTreeMap<String, usize>)]) -> String {
    let mut series: Vec<&String> = columns.iter().flat_map(|(_, s)| s.keys()).collect();
    series.sort();
    series.dedup();
    let legend_rows = series.len().div_ceil(4) as f64;
    let mut svg = header(WIDTH, HEIGHT + legend_rows * 16.0);
    let max = columns
        .iter()
        .map(|(_, s)| s.values().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    axes(&mut svg, max, |v| format!("{v:.0}"));
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / columns.len().max(1) as f64;
    for (i, (x_label, stack)) in columns.iter().enumerate() {
        let x = LEFT + i as f64 * slot + slot * 0.15;
        let mut base = 0.0;
        for (k, name) in series.iter().enumerate() {
            let count = stack.get(*name).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let height = count as f64 / max * plot_height;
            let y = TOP + plot_height - base - height;
            let _ = writeln!(
                svg,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{height:.1}" fill="{}"><title>{}: {count} {}</title></rect>"##,
                slot * 0.7,
                PALETTE[k % PALETTE.len()],
                escape(x_label),
                escape(name)
            );
            base += height;
        }
        if columns.len() <= 16 || i % (columns.len() / 8).max(1) == 0 {
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#333">{}</text>"##,
                x + slot * 0.35,
                HEIGHT - BOTTOM + 14.0,
                escape(x_label.get(5..).unwrap_or(x_label))
            );
        }
    }
    for (k, name) in series.iter().enumerate() {
        let x = LEFT + (k % 4) as f64 * 150.0;
        let y = HEIGHT + (k / 4) as f64 * 16.0;
        let _ = writeln!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{y:.1}" font-size="11" fill="#222">{}</text>"##,
            y - 9.0,
            PALETTE[k % PALETTE.len()],
            x + 14.0,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A histogram of counts in equal bins over 0..1 (e.g. confidence).
pub fn histogram_svg(bins: &[usize]) -> String {
    let mut svg = header(WIDTH, HEIGHT);
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    axes(&mut svg, max, |v| format!("{v:.0}"));
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / bins.len().max(1) as f64;
    for (i, &count) in bins.iter().enumerate() {
        let low = i as f64 / bins.len() as f64;
        let high = (i + 1) as f64 / bins.len() as f64;
        let height = count as f64 / max * plot_height;
        let x = LEFT + i as f64 * slot;
        let _ = writeln!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{height:.1}" fill="#4878d0"><title>{count} documents with confidence {low:.1}–{high:.1}</title></rect><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#333">{low:.1}</text>"##,
            x + 1.0,
            TOP + plot_height - height,
            slot - 2.0,
            x,
            HEIGHT - BOTTOM + 14.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A line through `points` (x label, value), the y axis up to `max`
/// (values shown with `format_value`).
pub fn line_svg(
    points: &[(String, f64)],
    max: f64,
    format_value: impl Fn(f64) -> String,
) -> String {
    let mut svg = header(WIDTH, HEIGHT);
    let max = if max > 0.0 { max } else { 1.0 };
    axes(&mut svg, max, &format_value);
    let plot_height = HEIGHT - BOTTOM - TOP;
    let step = (WIDTH - LEFT - 20.0) / (points.len().max(2) - 1) as f64;
    let position = |i: usize, v: f64| {
        (
            LEFT + 10.0 + i as f64 * step,
            TOP + plot_height * (1.0 - (v / max).clamp(0.0, 1.0)),
        )
    };
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let (x, y) = position(i, *v);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    if points.len() > 1 {
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#4878d0" stroke-width="2"/>"##,
            path.join(" ")
        );
    }
    for (i, (x_label, value)) in points.iter().enumerate() {
        let (x, y) = position(i, *value);
        let _ = writeln!(
            svg,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="#4878d0"><title>{}: {}</title></circle>"##,
            escape(x_label),
            escape(&format_value(*value))
        );
        if points.len() <= 16 || i % (points.len() / 8).max(1) == 0 {
            let _ = writeln!(
                svg,
                r##"<text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#333">{}</text>"##,
                HEIGHT - BOTTOM + 14.0,
                escape(x_label.get(5..).unwrap_or(x_label))
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_svg() {
        let mut bins = vec![(0.0, 0.0, 0); 10];
        bins[9] = (0.95, 0.9, 20);
        bins[6] = (0.65, 0.8, 5);
        let reliability = reliability_svg(&bins, 0.04);
        assert!(reliability.starts_with("<svg") && reliability.trim_end().ends_with("</svg>"));
        assert_eq!(reliability.matches("<title>").count(), 2);

        let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        confusion
            .entry("invoice".into())
            .or_default()
            .insert("invoice".into(), 9);
        confusion
            .entry("invoice".into())
            .or_default()
            .insert("receipt<x>".into(), 1);
        let matrix = confusion_svg(&confusion);
        assert_eq!(matrix.matches("<rect").count(), 4);
        assert!(matrix.contains("receipt&lt;x&gt;") && !matrix.contains("receipt<x>"));
    }

    #[test]
    fn dashboard_charts_have_a_mark_per_value() {
        let mut day = BTreeMap::new();
        day.insert("invoice".to_owned(), 3);
        day.insert("unsure".to_owned(), 1);
        let bars = stacked_bars_svg(&[
            ("2026-11-28".into(), day.clone()),
            ("2026-11-29".into(), day),
        ]);
        assert_eq!(bars.matches("<title>").count(), 4);
        assert!(bars.contains("11-29") && bars.trim_end().ends_with("</svg>"));
        let histogram = histogram_svg(&[0, 1, 2, 0, 0, 0, 0, 0, 3, 9]);
        assert_eq!(histogram.matches("<title>").count(), 10);
        let line = line_svg(
            &[("2026-11-28".into(), 0.25), ("2026-11-29".into(), 0.5)],
            1.0,
            |v| format!("{:.0}%", v * 100.0),
        );
        assert!(line.contains("<polyline") && line.contains("50%"));
        assert!(stacked_bars_svg(&[]).contains("</svg>"));
        assert!(line_svg(&[], 0.0, |v| v.to_string()).contains("</svg>"));
    }
}
