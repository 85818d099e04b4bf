//! `heron eval --data DIR`: a model measured on labelled folders: accuracy,
//! macro-F1, per-class precision/recall/F1, the confusion matrix, expected
//! calibration error with its reliability table, and the risk–coverage
//! curve (error rate of auto-accepted documents at each confidence
//! cut-off). Written as `report.md`, `report.json`, `reliability.svg` and
//! `confusion.svg` in `--out`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use heron_classify::TextModel;
use heron_classify::metrics::{ClassMetrics, Metrics};
use heron_classify::risk::{Cutoff, RiskCoverage};
use heron_core::Settings;
use serde::Serialize;

use crate::cli::EvalArgs;
use crate::{dataset, setup};

#[derive(Serialize)]
struct Report {
    model: String,
    documents: usize,
    accuracy: f64,
    macro_f1: f64,
    expected_calibration_error: f64,
    per_class: BTreeMap<String, ClassMetrics>,
    /// confusion[true][predicted] = count
    confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// (mean confidence, accuracy, count) per tenth of confidence.
    reliability: Vec<(f64, f64, usize)>,
    risk_coverage: RiskCoverage,
    /// The cut-off for `--target-error` and the coverage it keeps.
    cutoff_for_target: Option<Cutoff>,
    target_error: f64,
}

pub fn run(settings: Settings, args: &EvalArgs) -> anyhow::Result<ExitCode> {
    if let Some(split) = &args.split {
        return super::eval_split::run(settings, args, split);
    }
    setup::init_logging(&settings, "warn");
    let (mut model, path) = match &args.model {
        Some(path) => (
            TextModel::load(path).with_context(|| format!("loading {}", path.display()))?,
            path.clone(),
        ),
        None => (
            setup::load_model(&settings)?,
            setup::served_model_path(&settings).0,
        ),
    };
    let documents = dataset::load(&settings, &args.data)?;
    let predictions: Vec<(String, String, f64)> = documents
        .iter()
        .map(|d| {
            let (best, p) = model.predict(&d.text).best();
            (d.label.clone(), model.labels()[best].as_str().to_owned(), p)
        })
        .collect();
    let source = format!(
        "heron eval of {} documents in {}",
        predictions.len(),
        args.data.display()
    );
    let report = measure(&model, &predictions, args.target_error, source);
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(
        args.out.join("reliability.svg"),
        heron_server::charts::reliability_svg(
            &report.reliability,
            report.expected_calibration_error,
        ),
    )?;
    std::fs::write(
        args.out.join("confusion.svg"),
        heron_server::charts::confusion_svg(&report.confusion),
    )?;
    let markdown = markdown(&report);
    std::fs::write(args.out.join("report.md"), &markdown)?;
    println!("{markdown}");
    if args.record {
        model.set_risk_coverage(report.risk_coverage.clone());
        model
            .save(&path)
            .with_context(|| format!("recording the curve in {}", path.display()))?;
        println!(
            "Recorded the risk–coverage curve in {} (model {}).",
            path.display(),
            model.id()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn measure(
    model: &TextModel,
    predictions: &[(String, String, f64)],
    target_error: f64,
    source: String,
) -> Report {
    let total = predictions.len().max(1) as f64;
    let pairs: Vec<(&str, &str)> = predictions
        .iter()
        .map(|(t, p, _)| (t.as_str(), p.as_str()))
        .collect();
    let Metrics {
        accuracy,
        macro_f1,
        per_class,
        confusion,
        ..
    } = Metrics::measure(&pairs);
    let mut bins = vec![(0.0f64, 0.0f64, 0usize); 10];
    for (t, p, c) in predictions {
        let bin = ((c * 10.0) as usize).min(9);
        bins[bin].0 += c;
        bins[bin].1 += f64::from(u8::from(t == p));
        bins[bin].2 += 1;
    }
    let reliability: Vec<(f64, f64, usize)> = bins
        .into_iter()
        .map(|(c, a, n)| {
            if n == 0 {
                (0.0, 0.0, 0)
            } else {
                (c / n as f64, a / n as f64, n)
            }
        })
        .collect();
    let ece = reliability
        .iter()
        .map(|(c, a, n)| (c - a).abs() * *n as f64)
        .sum::<f64>()
        / total;
    let outcomes: Vec<(f64, bool)> = predictions.iter().map(|(t, p, c)| (*c, t == p)).collect();
    let risk_coverage = RiskCoverage::measure(source, &outcomes);
    let cutoff_for_target = risk_coverage.cutoff_for(target_error);
    Report {
        model: model.id().to_owned(),
        documents: predictions.len(),
        accuracy,
        macro_f1,
        expected_calibration_error: ece,
        per_class,
        confusion,
        reliability,
        risk_coverage,
        cutoff_for_target,
        target_error,
    }
}

fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Evaluation of model {}\n", report.model);
    let _ = writeln!(
        out,
        "{} documents: accuracy **{:.4}**, macro-F1 **{:.4}**, ECE **{:.4}**\n",
        report.documents, report.accuracy, report.macro_f1, report.expected_calibration_error
    );
    match report.cutoff_for_target {
        Some(cutoff) => {
            let _ = writeln!(
                out,
                "Target error rate {:.2} % met from confidence {:.2}: {:.1} % of documents auto-accepted, {:.2} % of them wrong.\n",
                report.target_error * 100.0,
                cutoff.cutoff,
                cutoff.coverage * 100.0,
                cutoff.risk * 100.0
            );
        }
        None => {
            let _ = writeln!(
                out,
                "No confidence cut-off meets the target error rate {:.2} %.\n",
                report.target_error * 100.0
            );
        }
    }
    let _ = writeln!(
        out,
        "| type | support | precision | recall | F1 |\n|---|---|---|---|---|"
    );
    for (class, m) in &report.per_class {
        let _ = writeln!(
            out,
            "| {class} | {} | {:.3} | {:.3} | {:.3} |",
            m.support, m.precision, m.recall, m.f1
        );
    }
    let _ = writeln!(out, "\n## Confusions (true → predicted)\n");
    for (truth, row) in &report.confusion {
        for (predicted, n) in row.iter().filter(|(p, _)| *p != truth) {
            let _ = writeln!(out, "- {truth} → {predicted}: {n}");
        }
    }
    let _ = writeln!(
        out,
        "\n![Confusion matrix](confusion.svg)\n\n![Reliability diagram](reliability.svg)"
    );
    let _ = writeln!(
        out,
        "\n## Reliability\n\n| confidence bin | mean confidence | accuracy | documents |\n|---|---|---|---|"
    );
    for (i, (c, a, n)) in report
        .reliability
        .iter()
        .enumerate()
        .filter(|(_, r)| r.2 > 0)
    {
        let _ = writeln!(
            out,
            "| {:.1}–{:.1} | {c:.3} | {a:.3} | {n} |",
            i as f64 / 10.0,
            (i + 1) as f64 / 10.0
        );
    }
    let _ = writeln!(
        out,
        "\n## Risk–coverage\n\n| cut-off | coverage | error among accepted |\n|---|---|---|"
    );
    for point in report.risk_coverage.points.iter().step_by(5) {
        let _ = writeln!(
            out,
            "| {:.2} | {:.3} | {:.4} |",
            point.cutoff, point.coverage, point.risk
        );
    }
    out
}
