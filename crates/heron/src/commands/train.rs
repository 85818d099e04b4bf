//! `heron train --data DIR`: a model from labelled folders (one per type
//! id, any formats), saved as a versioned artefact in the models
//! directory: `<id>.htm` and `<id>.json` (creation time, training-data and
//! taxonomy hashes, metrics). `--activate` makes the server use it.

use std::process::ExitCode;

use anyhow::Context;
use heron_classify::train::{self, Example, TrainingConfig};
use heron_core::{Label, Settings};

use crate::cli::TrainArgs;
use crate::{dataset, setup};

pub fn run(settings: Settings, args: &TrainArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    let taxonomy = setup::load_taxonomy(&settings)?;
    let started = std::time::Instant::now();
    let documents = dataset::load(&settings, &args.data)?;
    let extracted_seconds = started.elapsed().as_secs_f64();
    let mut labels: Vec<String> = documents.iter().map(|d| d.label.clone()).collect();
    labels.sort();
    labels.dedup();
    for label in &labels {
        if taxonomy.get(label).is_none() {
            eprintln!("warning: type {label:?} is not in the taxonomy (no label path for it)");
        }
    }
    let labels: Vec<Label> = labels
        .iter()
        .map(|l| Label::parse(l))
        .collect::<Result<_, _>>()?;
    let examples: Vec<Example> = documents
        .iter()
        .filter_map(|d| {
            Some(Example::new(
                d.text.clone(),
                labels.iter().position(|l| l.as_str() == d.label)?,
            ))
        })
        .collect();
    let data_hash = dataset::fingerprint(&documents);
    let config = TrainingConfig {
        seed: args.seed,
        source: format!(
            "folders {} ({} documents, data {}, taxonomy {})",
            args.data.display(),
            documents.len(),
            &data_hash[..12],
            &taxonomy.hash[..12]
        ),
        ..TrainingConfig::default()
    };
    let training_started = std::time::Instant::now();
    let (model, report) = train::train(&examples, labels, &config).context("training")?;
    let training_seconds = training_started.elapsed().as_secs_f64();

    let directory = setup::models_dir(&settings);
    std::fs::create_dir_all(&directory)?;
    let model_path = directory.join(format!("{}.htm", model.id()));
    model.save(&model_path)?;
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let card = serde_json::json!({
        "id": model.id(),
        "created_unix": created,
        "training_data": args.data.display().to_string(),
        "training_data_sha256": data_hash,
        "taxonomy_version": taxonomy.version,
        "taxonomy_sha256": taxonomy.hash,
        "labels": model.labels(),
        "documents": documents.len(),
        "metrics": {
            "validation_accuracy": report.validation_accuracy,
            "validation_log_loss": report.validation_log_loss,
            "validation_ece": report.validation_ece,
            "temperature": report.temperature,
        },
        "seconds": { "extraction": extracted_seconds, "training": training_seconds },
    });
    std::fs::write(
        directory.join(format!("{}.json", model.id())),
        serde_json::to_string_pretty(&card)?,
    )?;
    if args.activate {
        super::models::set_active(&directory, &format!("{}.htm", model.id()))?;
        super::audit::record_deployment_change(
            &settings,
            "model.activate",
            format!("model:{}", model.id()),
            serde_json::json!({ "trained_from": args.data.display().to_string() }),
        )?;
    }
    println!("{}", serde_json::to_string_pretty(&card)?);
    println!(
        "model {} saved to {}{}",
        model.id(),
        model_path.display(),
        if args.activate { " and activated" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}
