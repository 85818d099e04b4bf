//! `heron audit verify`: recompute every tenant's audit chain.

use std::process::ExitCode;

use anyhow::Context;
use heron_core::Settings;

use crate::cli::{AuditArgs, AuditCommand};

/// Record a deployment-wide change (a model activated, the master key
/// rotated) in the audit log's deployment chain, as the local operator.
pub fn record_deployment_change(
    settings: &Settings,
    action: &str,
    resource: String,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let store = super::keys::open_store(settings).await?;
        let entry = heron_store::AuditEntry::ok(
            heron_core::access::DEPLOYMENT_TENANT,
            &super::keys::operator(),
            action,
            resource,
        )
        .with_detail(detail);
        store
            .audit(&entry)
            .await
            .context("recording the change in the audit log")?;
        store.close().await;
        Ok(())
    })
}

pub fn run(settings: Settings, args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let store = super::keys::open_store(&settings).await?;
        let AuditCommand::Verify = args.command;
        let report = store.verify_audit().await?;
        store.close().await;
        for chain in &report.chains {
            println!(
                "tenant {}: {} entries, head {}",
                chain.tenant, chain.entries, chain.head_hash
            );
        }
        if report.problems.is_empty() {
            println!("audit log intact ({} chains)", report.chains.len());
            return Ok(ExitCode::SUCCESS);
        }
        for problem in &report.problems {
            eprintln!("TAMPERED: {problem}");
        }
        Ok(ExitCode::FAILURE)
    })
}
