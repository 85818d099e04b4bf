//! `heron audit verify`: recompute every tenant's audit chain and check it
//! against anchors kept elsewhere.

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
        let AuditCommand::Verify { anchors } = &args.command;
        let mut report = store.verify_audit().await?;
        let mut anchored = 0;
        if let Some(path) = anchors {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the anchors {}", path.display()))?;
            for anchor in heron_store::AuditAnchor::find(&text) {
                anchored += 1;
                report.problems.extend(store.check_anchor(&anchor).await?);
            }
            if anchored == 0 {
                anyhow::bail!("{} holds no anchor lines", path.display());
            }
        }
        store.close().await;
        for chain in &report.chains {
            let unkeyed = match chain.unkeyed {
                0 => String::new(),
                n => format!(" ({n} from before the audit key, unkeyed)"),
            };
            println!(
                "tenant {}: {} entries{unkeyed}",
                chain.tenant, chain.entries
            );
            let anchor = heron_store::AuditAnchor {
                tenant: chain.tenant.clone(),
                seq: chain.head_seq,
                hash: chain.head_hash.clone(),
            };
            println!("{}", anchor.line());
        }
        if anchored > 0 {
            println!("{anchored} anchors checked");
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
