//! Keeping every process's semantic stage on what was taught anywhere:
//! the few-shot examples reviewers gave (stored by whichever process
//! received the verdict) and the types tenants defined with a
//! description. Polled cheaply every few seconds; rebuilt when changed.

use std::sync::Arc;
use std::time::Duration;

use heron_core::Label;
use heron_pipeline::Pipeline;
use heron_store::{Store, StoreError};

/// Reload the examples and described types when they changed since
/// `seen`; returns whether it did.
pub async fn refresh_semantic(
    store: &Store,
    pipeline: &Arc<Pipeline>,
    seen: &mut Option<(i64, i64)>,
) -> Result<bool, StoreError> {
    let Some(stage) = pipeline.semantic() else {
        return Ok(false);
    };
    let stamp = store.semantic_examples_stamp(stage.model_id()).await?;
    if *seen == Some(stamp) {
        return Ok(false);
    }
    let examples = store.semantic_examples(stage.model_id()).await?;
    let described = store.described_types().await?;
    let pipeline = pipeline.clone();
    let count = examples.len();
    tokio::task::spawn_blocking(move || {
        let Some(stage) = pipeline.semantic() else {
            return;
        };
        let descriptions = described
            .into_iter()
            .filter(|(_, _, _, description)| !description.trim().is_empty())
            .filter_map(|(tenant, id, name, description)| {
                let label = Label::parse(&id).ok()?;
                let text = heron_classify::semantic::description_text(&name, &description, &[]);
                match stage.embed_text(&text) {
                    Ok(vector) => Some((tenant, label, vector)),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not embed a type's description");
                        None
                    }
                }
            })
            .collect();
        let examples = examples
            .into_iter()
            .filter_map(|e| Some((e.tenant, Label::parse(&e.label).ok()?, e.vector)))
            .collect();
        if let Err(e) = stage.load_examples(descriptions, examples) {
            tracing::warn!(error = %e, "could not load the tenants' semantic examples");
        }
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("refreshing the semantic stage: {e}")))?;
    tracing::debug!(examples = count, "semantic examples reloaded");
    *seen = Some(stamp);
    Ok(true)
}

/// [`refresh_semantic`] every `interval`, for ever.
pub async fn follow_semantic(store: Store, pipeline: Arc<Pipeline>, interval: Duration) {
    if pipeline.semantic().is_none() {
        return;
    }
    let mut seen = None;
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        if let Err(e) = refresh_semantic(&store, &pipeline, &mut seen).await {
            tracing::warn!(error = %e, "could not read the semantic examples; keeping the current ones");
        }
    }
}
