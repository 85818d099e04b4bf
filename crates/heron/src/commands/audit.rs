//! `heron audit verify`: recompute every tenant's audit chain.

use std::process::ExitCode;

use anyhow::Context;
use heron_core::Settings;

use crate::cli::{AuditArgs, AuditCommand};

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
