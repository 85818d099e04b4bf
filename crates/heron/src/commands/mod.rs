//! One module per subcommand.

mod audit;
mod backup;
mod callback_secret;
mod classify;
mod dataset;
mod eval;
mod eval_split;
mod eval_understanding;
mod extract;
mod generate;
mod keys;
pub mod models;
pub(crate) mod serve;
mod train;
mod worker;

use std::process::ExitCode;

use anyhow::Context;
use heron_core::{Settings, SettingsOverrides};

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The extraction child reads no settings: its parent passes everything.
    if let Command::ExtractWorker(args) = &cli.command {
        heron_extract::isolation::serve_child(args.memory_limit_mb * 1024 * 1024)
            .context("extraction child process")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut overrides = SettingsOverrides {
        config_file: cli.global.config.clone(),
        data_dir: cli.global.data_dir.clone(),
        ..Default::default()
    };
    match &cli.command {
        Command::Serve(args) => {
            overrides.bind = args.bind.clone();
            overrides.workers = args.workers;
            overrides.tls_cert = args.tls_cert.clone();
            overrides.tls_key = args.tls_key.clone();
            overrides.tls_client_ca = args.tls_client_ca.clone();
            overrides.embedding_model = args.embedding_model.clone();
            overrides.database_url = args.storage.database_url.clone();
            overrides.blob_store = args.storage.blob_store.clone();
        }
        Command::Keys(args) => overrides.database_url = args.database_url.clone(),
        Command::Dataset(args) => overrides.database_url = args.database_url.clone(),
        Command::Train(args) => {
            overrides.database_url = args.storage.database_url.clone();
            overrides.blob_store = args.storage.blob_store.clone();
        }
        Command::Audit(args) => overrides.database_url = args.database_url.clone(),
        Command::Worker(args) => {
            overrides.bind = Some(args.bind.clone());
            overrides.workers = args.concurrency;
            overrides.embedding_model = args.embedding_model.clone();
            overrides.database_url = args.storage.database_url.clone();
            overrides.blob_store = args.storage.blob_store.clone();
        }
        _ => {}
    }
    let settings = Settings::load(&overrides).context("invalid settings")?;
    match cli.command {
        Command::Serve(_) => serve::run(settings),
        Command::Worker(_) => worker::run(settings),
        Command::Classify(args) => classify::run(settings, &args),
        Command::Extract(args) => extract::run(settings, &args),
        Command::Generate(args) => generate::run(settings, &args),
        Command::Train(args) => train::run(settings, &args),
        Command::Eval(args) => eval::run(settings, &args),
        Command::EvalUnderstanding(args) => eval_understanding::run(settings, &args),
        Command::Models(args) => models::run(settings, &args),
        Command::Keys(args) => keys::run(settings, &args),
        Command::Audit(args) => audit::run(settings, &args),
        Command::CallbackSecret(args) => callback_secret::run(&settings, &args),
        Command::Dataset(args) => dataset::run(settings, &args),
        Command::Backup(args) => backup::backup(settings, &args),
        Command::Restore(args) => backup::restore(settings, &args),
        Command::ExtractWorker(_) => Ok(ExitCode::SUCCESS),
    }
}
