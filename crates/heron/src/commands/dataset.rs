//! `heron dataset export`: a tenant's reviewed documents as training
//! data. Each document's verdict in force becomes its folder
//! (`OUT/<type id>/<document id>.txt`, the text as stored: redacted when
//! the tenant keeps only redacted text), which `heron train --data` and
//! `heron eval --data` read; `OUT/reviews.jsonl` says who labelled what,
//! when, from which prediction. The export is audited (`dataset.export`).

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use heron_core::{Label, Settings};
use heron_store::AuditEntry;

use super::keys::{open_store, operator};
use crate::cli::{DatasetArgs, DatasetCommand};
use crate::setup;

pub fn run(settings: Settings, args: &DatasetArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let store = open_store(&settings).await?;
        match &args.command {
            DatasetCommand::Export { tenant, out } => export(&store, tenant, out).await,
        }
    })
}

async fn export(
    store: &heron_store::Store,
    tenant: &str,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let reviews = store.latest_reviews(tenant).await?;
    let mut index = std::fs::File::create(out.join("reviews.jsonl"))
        .with_context(|| format!("writing {}", out.join("reviews.jsonl").display()))?;
    let (mut written, mut without_text) = (0usize, 0usize);
    for review in &reviews {
        // Proposed types' ids are checked like any label before they name
        // a folder.
        let Ok(label) = Label::parse(&review.label) else {
            continue;
        };
        let Some((text, redacted)) = store.document_text(tenant, &review.document_id).await? else {
            without_text += 1;
            continue;
        };
        let folder = out.join(label.as_str());
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(format!("{}.txt", review.document_id)), &text)?;
        let filename = store
            .document(tenant, &review.document_id)
            .await?
            .map(|d| d.filename)
            .unwrap_or_default();
        let line = serde_json::json!({
            "document_id": review.document_id,
            "filename": filename,
            "label": review.label,
            "action": review.action,
            "predicted_label": review.predicted_label,
            "confidence": review.confidence,
            "fields": review.fields,
            "note": review.note,
            "reviewer": review.reviewer,
            "reviewed_at_ms": review.created_at_ms,
            "text_redacted": redacted,
            "path": format!("{}/{}.txt", label.as_str(), review.document_id),
        });
        writeln!(index, "{line}")?;
        written += 1;
    }
    let actor = operator();
    let entry = AuditEntry::ok(tenant, &actor, "dataset.export", "reviews".to_owned())
        .with_detail(serde_json::json!({ "documents": written }));
    store.audit(&entry).await?;
    println!(
        "exported {written} reviewed documents of tenant {tenant} to {} ({without_text} without stored text skipped)",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
