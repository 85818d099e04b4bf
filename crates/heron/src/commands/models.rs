//! `heron models list|show|activate|rollback`: the trained models kept in
//! the models directory (`<id>.htm` with its `<id>.json` card). The served
//! model is named in `active`; every activation is appended to
//! `active.history`, which `rollback` walks back. A running server notices
//! a change of `active` within seconds and switches without a restart.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use heron_classify::TextModel;
use heron_core::Settings;
use heron_core::files::write_atomically;

use crate::cli::{ModelsArgs, ModelsCommand};
use crate::setup;

pub fn run(settings: Settings, args: &ModelsArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    let directory = setup::models_dir(&settings);
    match &args.command {
        ModelsCommand::List => list(&directory),
        ModelsCommand::Show { id } => show(&directory, id),
        ModelsCommand::Activate { id } => {
            let code = activate(&directory, id)?;
            record(&settings, "model.activate", id)?;
            Ok(code)
        }
        ModelsCommand::Rollback => {
            let code = rollback(&directory)?;
            let active = std::fs::read_to_string(directory.join("active")).unwrap_or_default();
            record(&settings, "model.rollback", active.trim())?;
            Ok(code)
        }
    }
}

/// Model changes go in the audit log's deployment chain.
fn record(settings: &Settings, action: &str, model: &str) -> anyhow::Result<()> {
    let model = if model.is_empty() { "default" } else { model };
    super::audit::record_deployment_change(
        settings,
        action,
        format!("model:{model}"),
        serde_json::json!({}),
    )
}

fn list(directory: &Path) -> anyhow::Result<ExitCode> {
    let active = active_file(directory);
    let mut rows = Vec::new();
    for entry in
        std::fs::read_dir(directory).with_context(|| format!("reading {}", directory.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "htm") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let card: serde_json::Value = std::fs::read_to_string(path.with_extension("json"))
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or(serde_json::Value::Null);
            rows.push((name, card));
        }
    }
    rows.sort_by(|a, b| {
        a.1["created_unix"]
            .as_u64()
            .cmp(&b.1["created_unix"].as_u64())
    });
    println!(
        "{:<2} {:<34} {:>9} {:>6} {:>9}  SOURCE",
        "", "MODEL", "DOCS", "TYPES", "VAL.ACC"
    );
    for (name, card) in rows {
        let marker = if active.as_deref() == Some(name.as_str()) {
            "*"
        } else {
            ""
        };
        println!(
            "{marker:<2} {name:<34} {:>9} {:>6} {:>9}  {}",
            card["documents"]
                .as_u64()
                .map_or("-".to_owned(), |n| n.to_string()),
            card["labels"]
                .as_array()
                .map_or("-".to_owned(), |l| l.len().to_string()),
            card["metrics"]["validation_accuracy"]
                .as_f64()
                .map_or("-".to_owned(), |a| format!("{a:.4}")),
            card["training_data"]
                .as_str()
                .unwrap_or("default (built-in generator)"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn show(directory: &Path, id: &str) -> anyhow::Result<ExitCode> {
    let path = model_path(directory, id)?;
    let model = TextModel::load(&path)?;
    let card: serde_json::Value = std::fs::read_to_string(path.with_extension("json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    let value = serde_json::json!({
        "id": model.id(),
        "file": path.display().to_string(),
        "labels": model.labels(),
        "dimensions": model.header().dimensions,
        "temperature": model.header().temperature,
        "ocr_temperature": model.header().ocr_temperature,
        "training_source": model.header().training_source,
        "metrics": model.header().metrics,
        "feature_version": model.header().feature_version,
        "risk_coverage_measured_on": model.header().risk_coverage.as_ref().map(|c| format!("{} ({} documents)", c.source, c.documents)),
        "cutoff_for_1_percent_error": model.header().risk_coverage.as_ref().and_then(|c| c.cutoff_for(0.01)),
        "card": card,
    });
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(ExitCode::SUCCESS)
}

fn activate(directory: &Path, id: &str) -> anyhow::Result<ExitCode> {
    let path = model_path(directory, id)?;
    TextModel::load(&path).with_context(|| format!("checking {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    set_active(directory, &name)?;
    println!("activated {name}");
    Ok(ExitCode::SUCCESS)
}

fn rollback(directory: &Path) -> anyhow::Result<ExitCode> {
    let history_path = directory.join("active.history");
    let history = std::fs::read_to_string(&history_path).unwrap_or_default();
    let mut entries: Vec<&str> = history.lines().filter(|l| !l.is_empty()).collect();
    anyhow::ensure!(!entries.is_empty(), "no activation to roll back");
    entries.pop();
    let Some(previous) = entries.last().map(|p| (*p).to_owned()) else {
        // Before the first activation the default model was served.
        let _ = std::fs::remove_file(directory.join("active"));
        write_atomically(&history_path, b"")?;
        println!("rolled back to the default model");
        return Ok(ExitCode::SUCCESS);
    };
    write_atomically(
        &directory.join("active"),
        format!("{previous}\n").as_bytes(),
    )?;
    let mut kept = entries.join("\n");
    kept.push('\n');
    write_atomically(&history_path, kept.as_bytes())?;
    println!("rolled back to {previous}");
    Ok(ExitCode::SUCCESS)
}

/// Make `name` the active model and record it in the history.
pub fn set_active(directory: &Path, name: &str) -> anyhow::Result<()> {
    let history_path = directory.join("active.history");
    let mut history = std::fs::read_to_string(&history_path).unwrap_or_default();
    if history.is_empty()
        && let Some(current) = active_file(directory)
    {
        history.push_str(&current);
        history.push('\n');
    }
    history.push_str(name);
    history.push('\n');
    write_atomically(&history_path, history.as_bytes())?;
    write_atomically(&directory.join("active"), format!("{name}\n").as_bytes())?;
    Ok(())
}

fn active_file(directory: &Path) -> Option<String> {
    std::fs::read_to_string(directory.join("active"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A model file by id (`tm-…`) or file name.
fn model_path(directory: &Path, id: &str) -> anyhow::Result<std::path::PathBuf> {
    let name = if id.ends_with(".htm") {
        id.to_owned()
    } else {
        format!("{id}.htm")
    };
    let path = directory.join(&name);
    anyhow::ensure!(path.exists(), "no model {name} in {}", directory.display());
    Ok(path)
}
