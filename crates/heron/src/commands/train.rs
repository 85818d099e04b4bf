//! `heron train --data DIR`: a model from labelled folders (one per type
//! id, any formats), saved as a versioned artefact in the models
//! directory: `<id>.htm` and `<id>.json` (creation time, training-data and
//! taxonomy hashes, metrics). `--activate` makes the server use it.
//!
//! `heron train --from-reviews --tenant T`: the web UI's Retrain from the
//! command line: a training run of tenant T (its reviewed documents on
//! top of the generated base data), carried out here, its challenger
//! registered in the database and blob store; `--activate` promotes it.

use std::process::ExitCode;

use anyhow::Context;
use heron_classify::train::{self, Example, TrainingConfig};
use heron_core::{Label, Settings};

use crate::cli::TrainArgs;
use crate::{dataset, setup};

pub fn run(settings: Settings, args: &TrainArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    if args.from_reviews {
        return from_reviews(settings, args);
    }
    let data = args
        .data
        .as_ref()
        .context("--data DIR or --from-reviews is needed")?;
    if let Some(split) = &args.split {
        return with_real(&settings, args, data, split);
    }
    let taxonomy = setup::load_taxonomy(&settings)?;
    let started = std::time::Instant::now();
    let documents = dataset::load(&settings, data)?;
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
            data.display(),
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
        "training_data": data.display().to_string(),
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
            serde_json::json!({ "trained_from": data.display().to_string() }),
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

/// `heron train --data DIR --split train`: the default model from the
/// generated documents and the real ones of the split
/// ([`heron_classify::real::train_with_real`]).
fn with_real(
    settings: &Settings,
    args: &TrainArgs,
    data: &std::path::Path,
    split: &str,
) -> anyhow::Result<ExitCode> {
    let taxonomy = setup::load_taxonomy(settings)?;
    let started = std::time::Instant::now();
    let documents = dataset::load_split(settings, data, split)?;
    let extracted_seconds = started.elapsed().as_secs_f64();
    let real: Vec<heron_classify::real::RealDocument> = documents
        .iter()
        .filter(|d| !d.text.is_empty())
        .filter_map(|d| {
            Some(heron_classify::real::RealDocument {
                text: d.text.clone(),
                label: Label::parse(&d.label).ok()?,
                source: d.source.clone().unwrap_or_default(),
                read_by_ocr: d.read_by_ocr,
            })
        })
        .collect();
    let without_text = documents.len() - real.len();
    let seed = if args.seed == 42 {
        heron_classify::train::DEFAULT_SEED
    } else {
        args.seed
    };
    let config = heron_classify::real::RealConfig {
        weight: args.real_weight,
        folds: args.folds,
        ..Default::default()
    };
    let training_started = std::time::Instant::now();
    let (model, report) =
        heron_classify::real::train_with_real(&taxonomy, args.per_type, seed, &real, &config)
            .context("training")?;
    let model = if args.compact { model.compact() } else { model };
    let kinds: std::collections::BTreeMap<String, usize> =
        documents.iter().fold(Default::default(), |mut counts, d| {
            *counts
                .entry(d.kind.clone().unwrap_or_default())
                .or_default() += 1;
            counts
        });
    let card = serde_json::json!({
        "id": model.id(),
        "training_source": model.header().training_source,
        "real_documents": report.documents,
        "real_without_text": without_text,
        "real_sources": report.sources,
        "real_kinds": kinds,
        "real_weight": config.weight,
        "folds": config.folds,
        "out_of_fold_accuracy": report.out_of_fold_accuracy,
        "out_of_fold_ece": report.out_of_fold_ece,
        "temperature": report.temperature,
        "ocr_temperature": report.ocr_temperature,
        "ood_min_probability": report.ood_min_probability,
        "out_of_fold_per_type": report.per_label,
        "seconds": {
            "extraction": extracted_seconds,
            "training": training_started.elapsed().as_secs_f64()
        },
    });
    let path = match &args.out {
        Some(path) => path.clone(),
        None => {
            let directory = setup::models_dir(settings);
            std::fs::create_dir_all(&directory)?;
            directory.join(format!("{}.htm", model.id()))
        }
    };
    model
        .save(&path)
        .with_context(|| format!("saving {}", path.display()))?;
    std::fs::write(
        path.with_extension("json"),
        serde_json::to_string_pretty(&card)?,
    )?;
    if args.activate {
        let directory = setup::models_dir(settings);
        anyhow::ensure!(
            path.parent() == Some(directory.as_path()),
            "--activate needs the model in the models directory (leave out --out)"
        );
        super::models::set_active(&directory, &format!("{}.htm", model.id()))?;
    }
    println!("{}", serde_json::to_string_pretty(&card)?);
    println!("model {} saved to {}", model.id(), path.display());
    Ok(ExitCode::SUCCESS)
}

/// How long the command waits for a run another process claimed first.
const WAIT_FOR_OTHERS: std::time::Duration = std::time::Duration::from_secs(30 * 60);

fn from_reviews(settings: Settings, args: &TrainArgs) -> anyhow::Result<ExitCode> {
    // The embedded database belongs to one process: a running server
    // must do the training itself (the web UI, POST /v1/models/train).
    let _lock = if settings.database_url.is_none() {
        Some(setup::lock_data_dir(&settings.data_dir)?)
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let per_type = settings.train_per_type;
        let (_settings, store, blobs, pipeline) = super::serve::open_service(settings).await?;
        let actor = super::keys::operator();
        let (queued, _) = store.queue_training(&args.tenant, &actor).await?;
        let owner = format!("cli-{}:training", std::process::id());
        let config = heron_worker::TrainingConfig {
            per_type,
            seed: heron_classify::train::DEFAULT_SEED,
            ..heron_worker::TrainingConfig::default()
        };
        let run = match store
            .claim_training(&owner, config.lease, Some(&queued.id))
            .await?
        {
            Some(claimed) => {
                eprintln!(
                    "training a challenger for tenant {} (run {})…",
                    args.tenant, claimed.id
                );
                heron_worker::carry_out(&store, &blobs, &pipeline, &config, &claimed, &owner)
                    .await?
            }
            None => wait_for(&store, &args.tenant, &queued.id).await?,
        };
        println!("{}", serde_json::to_string_pretty(&run.report)?);
        let Some(challenger) = run.challenger_id.filter(|_| run.state == "done") else {
            anyhow::bail!(
                "training run {} {}: {}",
                run.id,
                run.state,
                run.error.unwrap_or_default()
            );
        };
        if args.activate {
            store
                .promote_model(&args.tenant, &challenger, &actor)
                .await?;
        }
        println!(
            "challenger {challenger} registered for tenant {}{}",
            args.tenant,
            if args.activate {
                " and promoted"
            } else {
                " (promote it in the web UI or with --activate)"
            }
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// A run another process (a server's worker) claimed: wait for it.
async fn wait_for(
    store: &heron_store::Store,
    tenant: &str,
    id: &str,
) -> anyhow::Result<heron_store::TrainingRun> {
    eprintln!("training run {id} is being carried out by another process; waiting…");
    let deadline = std::time::Instant::now() + WAIT_FOR_OTHERS;
    loop {
        let run = store
            .training_run(tenant, id)
            .await?
            .context("the training run vanished")?;
        if run.state == "done" || run.state == "failed" {
            return Ok(run);
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "training run {id} did not finish"
        );
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}
