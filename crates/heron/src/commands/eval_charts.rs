//! The charts of `heron eval` as standalone SVG: a reliability diagram
//! (confidence against accuracy, bars per tenth) and the confusion matrix
//! as a heat map. Plain SVG text, so a report opens in any browser and no
//! plotting library is needed.

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
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\">\n"
    )
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
}
