//! `heron callback-secret`: the secret a tenant verifies its job
//! callbacks with, until it sets its own.

use std::process::ExitCode;

use anyhow::Context;
use heron_core::Settings;
use heron_core::webhook::derived_callback_secret;

use crate::cli::CallbackSecretArgs;

pub fn run(settings: &Settings, args: &CallbackSecretArgs) -> anyhow::Result<ExitCode> {
    let deployment = settings
        .webhook_secret
        .as_ref()
        .context("HERON_WEBHOOK_SECRET is not set: job callbacks are not configured")?;
    println!(
        "{}",
        derived_callback_secret(deployment.expose(), &args.tenant)
    );
    Ok(ExitCode::SUCCESS)
}
