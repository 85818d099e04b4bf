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
///
/// The slow part (the base index, the described types' vectors) is done
/// before the snapshot is applied, and a snapshot overtaken meanwhile (an
/// example taught in this process after it was read) is not applied: the
/// next call reads again. Otherwise a stale snapshot would replace the
/// index a `teach` had just updated, and the example would be missing
/// until the next change.
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
    let count = examples.len();
    let worker = pipeline.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        let stage = worker.semantic()?;
        // Nothing taught: nothing to build (a first start stays lazy).
        let nothing = described.is_empty() && examples.is_empty();
        if !nothing && let Err(e) = stage.prepare() {
            tracing::warn!(error = %e, "could not build the semantic stage's index");
            return None;
        }
        let descriptions: Vec<_> = described
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
        let examples: Vec<_> = examples
            .into_iter()
            .filter_map(|e| Some((e.tenant, Label::parse(&e.label).ok()?, e.vector)))
            .collect();
        Some((descriptions, examples))
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("refreshing the semantic stage: {e}")))?;
    let Some((descriptions, examples)) = prepared else {
        return Ok(false);
    };
    if store.semantic_examples_stamp(stage.model_id()).await? != stamp {
        return Ok(false);
    }
    // The index is built: applying is quick.
    if let Err(e) = stage.load_examples(descriptions, examples) {
        tracing::warn!(error = %e, "could not load the tenants' semantic examples");
        return Ok(false);
    }
    tracing::debug!(examples = count, "semantic examples reloaded");
    *seen = Some(stamp);
    Ok(true)
}

/// [`refresh_semantic`] every `interval`, for ever.
pub async fn follow_semantic(
    store: Store,
    pipeline: Arc<Pipeline>,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    if pipeline.semantic().is_none() {
        return;
    }
    let mut seen = None;
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        if let Err(e) = refresh_semantic(&store, &pipeline, &mut seen).await {
            tracing::warn!(error = %e, "could not read the semantic examples; keeping the current ones");
        }
    }
}
