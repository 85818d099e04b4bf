//! The semantic stage: a sentence-embedding model beside the linear one.
//!
//! Every taxonomy type is embedded from its name, description and typical
//! phrases (zero-shot: a type known only by description is recognised
//! before any example of it exists), when a document first needs them:
//! a start, even the first one, waits for no model. A tenant's
//! labelled documents are added as examples ([`SemanticStage::teach`]):
//! the tenant's index — prototypes and a nearest-neighbour set per type —
//! is replaced at once, so the next document is classified with them, no
//! training run needed. A document's vector is computed from its text in
//! windows (first ones weigh more), cached by the text's SHA-256.
//!
//! The stage costs tens of milliseconds per document on a CPU, so by
//! default it runs only when the cheap stages are not already sure (the
//! cascade), or when the tenant has types the linear model does not know.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use heron_classify::Taxonomy;
use heron_classify::semantic::{SemanticCalibration, SemanticIndex, TypeScore, description_text};
use heron_core::Label;
use heron_embed::{ChunkPolicy, EmbedError, LazyEmbedder};
use sha2::{Digest, Sha256};

/// When the semantic stage runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SemanticMode {
    /// Only when the linear model's confidence is below this (or the
    /// tenant has types the linear model lacks).
    Cascade(f64),
    /// On every document with text.
    Always,
}

/// Document vectors kept in memory (by text hash).
const CACHE_ENTRIES: usize = 2048;

/// The embedding model, the shared index of taxonomy types and each
/// tenant's index with its examples.
pub struct SemanticStage {
    embedder: LazyEmbedder,
    mode: SemanticMode,
    chunks: ChunkPolicy,
    /// Types by description: every tenant starts from it. Built on first
    /// need from `descriptions`.
    base: OnceLock<Arc<SemanticIndex>>,
    /// Held while `base` is built, so that it is built once.
    building: Mutex<()>,
    descriptions: Descriptions,
    tenants: RwLock<HashMap<String, Arc<SemanticIndex>>>,
    cache: Mutex<VectorCache>,
}

impl std::fmt::Debug for SemanticStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemanticStage")
            .field("model", &self.embedder.id())
            .field("mode", &self.mode)
            .finish()
    }
}

/// The stage's reading of one document.
#[derive(Debug, Clone)]
pub struct SemanticReading {
    /// Every known type, best first.
    pub scores: Vec<TypeScore>,
}

impl SemanticReading {
    /// The best type's probability.
    pub fn confidence(&self) -> f64 {
        self.scores.first().map_or(0.0, |s| s.probability)
    }
}

impl SemanticStage {
    /// The stage for every type of `taxonomy`, known by its description.
    /// With `cache`, a folder where the descriptions' vectors are kept by
    /// the model and the texts they come from: once they are there, a
    /// start with both unchanged reads them back and leaves the model
    /// unloaded until a document needs it.
    pub fn new(
        embedder: LazyEmbedder,
        taxonomy: &Taxonomy,
        mode: SemanticMode,
        chunks: ChunkPolicy,
        cache: Option<&Path>,
    ) -> SemanticStage {
        let types = &taxonomy.types;
        let texts: Vec<String> = types
            .iter()
            .map(|t| description_text(&t.name, &t.description, &t.hints))
            .collect();
        let mut key = Sha256::new();
        key.update(embedder.id().as_bytes());
        for (kind, text) in types.iter().zip(&texts) {
            key.update(b"\0");
            key.update(kind.id.as_str().as_bytes());
            key.update(b"\0");
            key.update(text.as_bytes());
        }
        let file = cache.map(|folder| {
            folder.join(format!(
                "descriptions-{}.json",
                &hex::encode(key.finalize())[..16]
            ))
        });
        SemanticStage {
            embedder,
            mode,
            chunks,
            base: OnceLock::new(),
            building: Mutex::new(()),
            descriptions: Descriptions {
                labels: types.iter().map(|t| t.id.clone()).collect(),
                texts,
                file,
            },
            tenants: RwLock::new(HashMap::new()),
            cache: Mutex::new(VectorCache::default()),
        }
    }

    /// Build the index of the taxonomy's types now, if it is not yet (see
    /// [`SemanticStage::base`]): what is slow about applying examples.
    pub fn prepare(&self) -> Result<(), EmbedError> {
        self.base().map(|_| ())
    }

    /// The index of the taxonomy's types: read back from the cache
    /// folder, or embedded (loading the model) and kept there.
    fn base(&self) -> Result<Arc<SemanticIndex>, EmbedError> {
        if let Some(base) = self.base.get() {
            return Ok(base.clone());
        }
        let _building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(base) = self.base.get() {
            return Ok(base.clone());
        }
        let Descriptions {
            labels,
            texts,
            file,
        } = &self.descriptions;
        let vectors = match file
            .as_deref()
            .and_then(|file| read_descriptions(file, labels.len()))
        {
            Some(vectors) => vectors,
            None => {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let mut vectors = Vec::with_capacity(refs.len());
                for batch in refs.chunks(16) {
                    vectors.extend(self.embedder.get()?.embed(batch)?);
                }
                if let Some(file) = file
                    && let Ok(json) = serde_json::to_vec(&vectors)
                    && let Err(e) = heron_core::files::write_atomically(file, &json)
                {
                    tracing::warn!(file = %file.display(), error = %e, "could not keep the type descriptions' vectors: the next start embeds them again");
                }
                vectors
            }
        };
        let mut base = SemanticIndex::new(self.embedder.id(), SemanticCalibration::default());
        for (label, vector) in labels.iter().zip(vectors) {
            base = base.with_description(label.clone(), vector);
        }
        Ok(self.base.get_or_init(|| Arc::new(base)).clone())
    }

    pub fn model_id(&self) -> &str {
        self.embedder.id()
    }

    /// Whether the embedding model is in memory (it loads on the first
    /// document or description that needs it).
    pub fn model_loaded(&self) -> bool {
        self.embedder.is_loaded()
    }

    pub fn mode(&self) -> SemanticMode {
        self.mode
    }

    /// The index documents of `tenant` are compared with.
    pub fn index_for(&self, tenant: &str) -> Result<Arc<SemanticIndex>, EmbedError> {
        let own = self
            .tenants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(tenant)
            .cloned();
        match own {
            Some(index) => Ok(index),
            None => self.base(),
        }
    }

    /// Add a labelled example to `tenant`'s index, effective for the next
    /// document.
    pub fn teach(&self, tenant: &str, label: Label, vector: Vec<f32>) -> Result<(), EmbedError> {
        self.update(tenant, |current| current.with_example(label, vector))
    }

    /// Describe a type of `tenant`'s own (defined through the API): it is
    /// recognised from its description before any example exists.
    pub fn describe(&self, tenant: &str, label: Label, vector: Vec<f32>) -> Result<(), EmbedError> {
        self.update(tenant, |current| {
            current.clone().with_description(label, vector)
        })
    }

    /// Replace `tenant`'s index (the base one until it has its own) by
    /// `change` of it.
    fn update(
        &self,
        tenant: &str,
        change: impl FnOnce(&SemanticIndex) -> SemanticIndex,
    ) -> Result<(), EmbedError> {
        // Built before the lock: building may embed for a while.
        let base = self.base()?;
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        let current = tenants.get(tenant).cloned().unwrap_or(base);
        tenants.insert(tenant.to_owned(), Arc::new(change(&current)));
        Ok(())
    }

    /// Embed a short text (a type's description).
    pub fn embed_text(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(self
            .embedder
            .get()?
            .embed(&[text])?
            .into_iter()
            .next()
            .unwrap_or_default())
    }

    /// Replace every tenant's examples (at start-up, and when another
    /// process taught something): `examples` are (tenant, label, vector).
    /// `descriptions` are (tenant, label, vector) of the tenants' own
    /// types.
    pub fn load_examples(
        &self,
        descriptions: Vec<(String, Label, Vec<f32>)>,
        examples: Vec<(String, Label, Vec<f32>)>,
    ) -> Result<(), EmbedError> {
        if descriptions.is_empty() && examples.is_empty() {
            self.tenants
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
            return Ok(());
        }
        let base = self.base()?;
        let mut built: HashMap<String, SemanticIndex> = HashMap::new();
        for (tenant, label, vector) in descriptions {
            let index = built.remove(&tenant).unwrap_or_else(|| (*base).clone());
            built.insert(tenant, index.with_description(label, vector));
        }
        for (tenant, label, vector) in examples {
            let index = built.remove(&tenant).unwrap_or_else(|| (*base).clone());
            built.insert(tenant, index.with_example(label, vector));
        }
        let built = built.into_iter().map(|(t, i)| (t, Arc::new(i))).collect();
        *self.tenants.write().unwrap_or_else(|e| e.into_inner()) = built;
        Ok(())
    }

    /// The vector of a document's text (cached by its hash); `None` for
    /// text without a token.
    pub fn embed_document(&self, text: &str) -> Result<Option<Arc<Vec<f32>>>, EmbedError> {
        let key = hex::encode(Sha256::digest(text.as_bytes()));
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            metrics::counter!("heron_semantic_cache_hits_total").increment(1);
            return Ok(Some(hit));
        }
        let started = std::time::Instant::now();
        let Some(vector) = self.embedder.get()?.embed_document(text, &self.chunks)? else {
            return Ok(None);
        };
        metrics::histogram!("heron_semantic_seconds").record(started.elapsed().as_secs_f64());
        let vector = Arc::new(vector);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(key, vector.clone());
        Ok(Some(vector))
    }

    /// Whether a document needs the stage: the cascade's test.
    pub fn needed(
        &self,
        linear_confidence: f64,
        index: &SemanticIndex,
        model_labels: &[Label],
    ) -> bool {
        match self.mode {
            SemanticMode::Always => true,
            // Types the linear model lacks (a tenant's own, described or
            // taught) can only be recognised here.
            SemanticMode::Cascade(threshold) => {
                linear_confidence < threshold
                    || index
                        .labels()
                        .any(|(label, _)| !model_labels.contains(label))
            }
        }
    }

    /// Read a document's text against `index`.
    pub fn read(
        &self,
        text: &str,
        index: &SemanticIndex,
    ) -> Result<Option<SemanticReading>, EmbedError> {
        let Some(vector) = self.embed_document(text)? else {
            return Ok(None);
        };
        Ok(Some(SemanticReading {
            scores: index.score(&vector),
        }))
    }
}

/// The taxonomy's types as the base index is built from them.
struct Descriptions {
    labels: Vec<Label>,
    /// What is embedded for each type: name, description, typical phrases.
    texts: Vec<String>,
    /// Where their vectors are kept, named by the model and the texts.
    file: Option<PathBuf>,
}

/// A bounded map of recent document vectors (oldest out first).
#[derive(Default)]
struct VectorCache {
    entries: HashMap<String, Arc<Vec<f32>>>,
    order: VecDeque<String>,
}

/// Description vectors kept by [`SemanticStage::base`], when the file
/// holds one vector of one length for each of `types`.
fn read_descriptions(file: &Path, types: usize) -> Option<Vec<Vec<f32>>> {
    let vectors: Vec<Vec<f32>> = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    let length = vectors.first()?.len();
    (vectors.len() == types && length > 0 && vectors.iter().all(|v| v.len() == length))
        .then_some(vectors)
}

impl VectorCache {
    fn get(&self, key: &str) -> Option<Arc<Vec<f32>>> {
        self.entries.get(key).cloned()
    }

    fn put(&mut self, key: String, vector: Arc<Vec<f32>>) {
        if self.entries.insert(key.clone(), vector).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > CACHE_ENTRIES {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
    }
}
