//! Sentence embeddings, computed locally on the CPU.
//!
//! A sentence-transformers model directory — `config.json`,
//! `model.safetensors`, `tokenizer.json`, `modules.json`,
//! `1_Pooling/config.json`, `sentence_bert_config.json` — is loaded once
//! ([`Embedder::load`]); nothing is ever downloaded. Texts are tokenised
//! by Hugging Face's `tokenizers` (the model's own `tokenizer.json`), run
//! through the BERT encoder of [`bert`] on candle, mean-pooled over their
//! tokens and L2-normalised when the model says so: the same vectors the
//! reference `sentence-transformers` library computes (checked against
//! stored reference vectors in the tests).
//!
//! Documents are longer than a model's window: [`Embedder::embed_document`]
//! cuts the text into windows of the model's `max_seq_length` tokens,
//! weighs the first windows more (a person skimming reads the top of the
//! first page), and pools them into one normalised vector, bounded in work
//! by a maximum number of windows.

pub mod bert;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use candle_core::Tensor;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokenizers::Tokenizer;

use crate::bert::{Bert, BertConfig, mean_pool};

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("embedding model file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("embedding model: {0}")]
    Unsupported(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("tensor computation: {0}")]
    Tensor(#[from] candle_core::Error),
    /// The model failed to load on first use ([`LazyEmbedder`]); every
    /// later use gets the same answer.
    #[error("loading the embedding model: {0}")]
    Load(String),
}

/// How a document is cut and pooled.
#[derive(Debug, Clone, Copy)]
pub struct ChunkPolicy {
    /// At most this many windows are embedded (the rest of a long
    /// document is not read): bounds the time per document.
    pub max_windows: usize,
    /// Windows embedded together.
    pub batch: usize,
}

impl Default for ChunkPolicy {
    fn default() -> Self {
        ChunkPolicy {
            max_windows: 8,
            batch: 8,
        }
    }
}

#[derive(Debug, Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

#[derive(Debug, Deserialize)]
struct SentenceConfig {
    #[serde(default = "default_max_seq")]
    max_seq_length: usize,
}

fn default_max_seq() -> usize {
    256
}

#[derive(Debug, Deserialize)]
struct ModuleEntry {
    #[serde(rename = "type")]
    kind: String,
}

/// A loaded embedding model.
pub struct Embedder {
    model: Bert,
    tokenizer: Tokenizer,
    /// Tokens per window, special tokens included.
    window: usize,
    normalize: bool,
    dimensions: usize,
    id: String,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("id", &self.id)
            .field("dimensions", &self.dimensions)
            .field("window", &self.window)
            .finish()
    }
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, EmbedError> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|e| EmbedError::File {
        path,
        reason: e.to_string(),
    })
}

fn parse<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<T, EmbedError> {
    let bytes = read(dir, name)?;
    serde_json::from_slice(&bytes).map_err(|e| EmbedError::File {
        path: dir.join(name),
        reason: e.to_string(),
    })
}

/// The configuration files of a model folder, read and checked.
struct FolderConfig {
    bert: BertConfig,
    window: usize,
    normalize: bool,
}

impl FolderConfig {
    /// Only mean pooling is implemented (what sentence-transformers'
    /// general-purpose models use); others are refused by name.
    fn read(dir: &Path) -> Result<FolderConfig, EmbedError> {
        let bert: BertConfig = parse(dir, "config.json")?;
        let pooling: PoolingConfig = parse(dir, "1_Pooling/config.json")?;
        if !pooling.pooling_mode_mean_tokens
            || pooling.pooling_mode_cls_token
            || pooling.pooling_mode_max_tokens
            || pooling.pooling_mode_mean_sqrt_len_tokens
        {
            return Err(EmbedError::Unsupported(
                "pooling other than the mean of the tokens".to_owned(),
            ));
        }
        let sentence: SentenceConfig = if dir.join("sentence_bert_config.json").exists() {
            parse(dir, "sentence_bert_config.json")?
        } else {
            SentenceConfig {
                max_seq_length: default_max_seq(),
            }
        };
        let modules: Vec<ModuleEntry> = parse(dir, "modules.json")?;
        Ok(FolderConfig {
            window: sentence
                .max_seq_length
                .min(bert.max_position_embeddings)
                .max(8),
            normalize: modules.iter().any(|m| m.kind.ends_with(".Normalize")),
            bert,
        })
    }
}

/// `emb-` and the first 12 hex digits of a SHA-256 of weights.
fn model_id(digest: &[u8]) -> String {
    format!("emb-{}", &hex::encode(digest)[..12])
}

impl Embedder {
    /// Load the model in `dir` (see [`FolderConfig::read`] for what is
    /// refused).
    pub fn load(dir: &Path) -> Result<Embedder, EmbedError> {
        let FolderConfig {
            bert: config,
            window,
            normalize,
        } = FolderConfig::read(dir)?;
        let weights = read(dir, "model.safetensors")?;
        let id = model_id(&Sha256::digest(&weights));
        let model = Bert::load(&config, weights)?;
        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer_path).map_err(|e| EmbedError::File {
                path: tokenizer_path,
                reason: e.to_string(),
            })?;
        // The file may carry its own truncation and padding (128 tokens for
        // all-MiniLM-L6-v2); windows are cut and padded here instead, to the
        // model's `max_seq_length` as sentence-transformers does.
        tokenizer
            .with_truncation(None)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        Ok(Embedder {
            model,
            tokenizer,
            window,
            normalize,
            dimensions: config.hidden_size,
            id,
        })
    }

    /// `emb-` and the first 12 hex digits of the weights' SHA-256: which
    /// model made a vector (vectors of different models never mix).
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Tokens per window, special tokens included.
    pub fn window(&self) -> usize {
        self.window
    }

    /// One vector per text, each cut to the model's window (as
    /// sentence-transformers does).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut windows = Vec::with_capacity(texts.len());
        for text in texts {
            let encoding = self
                .tokenizer
                .encode(*text, true)
                .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
            let mut ids = encoding.get_ids().to_vec();
            if ids.len() > self.window {
                // Keep the closing [SEP].
                let last = ids[ids.len() - 1];
                ids.truncate(self.window - 1);
                ids.push(last);
            }
            windows.push(ids);
        }
        self.embed_ids(&windows)
    }

    /// Embed token-id windows (each already with its special tokens).
    fn embed_ids(&self, windows: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let length = windows.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut ids = Vec::with_capacity(windows.len() * length);
        let mut mask = Vec::with_capacity(windows.len() * length);
        for window in windows {
            ids.extend_from_slice(window);
            mask.extend(std::iter::repeat_n(1u32, window.len()));
            ids.extend(std::iter::repeat_n(0u32, length - window.len()));
            mask.extend(std::iter::repeat_n(0u32, length - window.len()));
        }
        let device = self.model.device();
        let ids = Tensor::from_vec(ids, (windows.len(), length), device)?;
        let mask = Tensor::from_vec(mask, (windows.len(), length), device)?;
        let states = self.model.forward(&ids, &mask)?;
        let pooled = mean_pool(&states, &mask)?;
        let rows: Vec<Vec<f32>> = pooled.to_vec2()?;
        Ok(if self.normalize {
            rows.into_iter().map(normalized).collect()
        } else {
            rows
        })
    }

    /// One vector for a whole document: its text cut into windows of
    /// the model's length (at most `policy.max_windows`), embedded in
    /// batches and pooled with weights 1, 1/2, 1/3… so the beginning
    /// counts most; normalised. `None` for text without a token.
    pub fn embed_document(
        &self,
        text: &str,
        policy: &ChunkPolicy,
    ) -> Result<Option<Vec<f32>>, EmbedError> {
        let encoding = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let tokens = encoding.get_ids();
        if tokens.is_empty() {
            return Ok(None);
        }
        let (cls, sep) = self.special_ids()?;
        let inner = self.window.saturating_sub(2).max(1);
        let windows: Vec<Vec<u32>> = tokens
            .chunks(inner)
            .take(policy.max_windows.max(1))
            .map(|chunk| {
                let mut window = Vec::with_capacity(chunk.len() + 2);
                window.push(cls);
                window.extend_from_slice(chunk);
                window.push(sep);
                window
            })
            .collect();
        let mut pooled = vec![0f32; self.dimensions];
        let mut index = 0usize;
        for batch in windows.chunks(policy.batch.max(1)) {
            for vector in self.embed_ids(batch)? {
                let weight = 1.0 / (index as f32 + 1.0);
                for (sum, value) in pooled.iter_mut().zip(&vector) {
                    *sum += weight * value;
                }
                index += 1;
            }
        }
        Ok(Some(normalized(pooled)))
    }

    /// The ids of the tokens that open and close a window (`[CLS]`,
    /// `[SEP]`), as the tokenizer adds them.
    fn special_ids(&self) -> Result<(u32, u32), EmbedError> {
        let encoding = self
            .tokenizer
            .encode("", true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        match encoding.get_ids() {
            [open, close] => Ok((*open, *close)),
            other => Err(EmbedError::Unsupported(format!(
                "the tokenizer adds {} special tokens to a text, expected two",
                other.len()
            ))),
        }
    }
}

/// An embedding model known by its folder and id, its weights loaded on
/// first use: a service whose documents the cheap stages already decide
/// never pays the model's ~90 MB of memory, and starts without reading it.
pub struct LazyEmbedder {
    dir: PathBuf,
    id: String,
    loaded: OnceLock<Result<Embedder, String>>,
}

impl std::fmt::Debug for LazyEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyEmbedder")
            .field("dir", &self.dir)
            .field("id", &self.id)
            .field("loaded", &self.is_loaded())
            .finish()
    }
}

/// What [`LazyEmbedder::open`] records of a weights file it hashed: the
/// hash is reused while the file keeps its size and modification time.
#[derive(Debug, serde::Serialize, Deserialize)]
struct KnownWeights {
    path: PathBuf,
    bytes: u64,
    modified_ns: u128,
    id: String,
}

impl LazyEmbedder {
    /// Check that `dir` is a model folder this crate can load (its
    /// configuration files, [`FolderConfig::read`]) and name its weights by
    /// their SHA-256, read in pieces and not kept. With `known`, a folder
    /// where that name is recorded: a weights file of the recorded size and
    /// modification time is not read again (start-up reads no weights).
    pub fn open(dir: &Path, known: Option<&Path>) -> Result<LazyEmbedder, EmbedError> {
        FolderConfig::read(dir)?;
        let weights = dir.join("model.safetensors");
        let file_error = |e: std::io::Error| EmbedError::File {
            path: weights.clone(),
            reason: e.to_string(),
        };
        let metadata = std::fs::metadata(&weights).map_err(file_error)?;
        let modified_ns = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let path = std::fs::canonicalize(&weights).map_err(file_error)?;
        let record = known.map(|folder| {
            let key = hex::encode(Sha256::digest(path.to_string_lossy().as_bytes()));
            folder.join(format!("weights-{}.json", &key[..16]))
        });
        let recorded = record
            .as_ref()
            .and_then(|file| std::fs::read(file).ok())
            .and_then(|bytes| serde_json::from_slice::<KnownWeights>(&bytes).ok())
            .filter(|k| {
                k.path == path && k.bytes == metadata.len() && k.modified_ns == modified_ns
            });
        let id = match recorded {
            Some(known) => known.id,
            None => {
                let mut hasher = Sha256::new();
                let mut file = std::fs::File::open(&weights).map_err(file_error)?;
                let mut buffer = vec![0u8; 1 << 20];
                loop {
                    let read = std::io::Read::read(&mut file, &mut buffer).map_err(file_error)?;
                    if read == 0 {
                        break;
                    }
                    hasher.update(&buffer[..read]);
                }
                let id = model_id(&hasher.finalize());
                if let Some(record) = &record {
                    // Best effort: without the record the next start hashes again.
                    let known = KnownWeights {
                        path,
                        bytes: metadata.len(),
                        modified_ns,
                        id: id.clone(),
                    };
                    if let Ok(json) = serde_json::to_vec(&known) {
                        let _ = heron_core::files::write_atomically(record, &json);
                    }
                }
                id
            }
        };
        Ok(LazyEmbedder {
            dir: dir.to_path_buf(),
            id,
            loaded: OnceLock::new(),
        })
    }

    /// The model's id (see [`Embedder::id`]), known without loading it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the weights are in memory.
    pub fn is_loaded(&self) -> bool {
        self.loaded.get().is_some_and(Result::is_ok)
    }

    /// The model, loaded by the first caller (the others wait for it). A
    /// folder whose weights changed since [`LazyEmbedder::open`] is refused:
    /// its vectors would be filed under the old id.
    pub fn get(&self) -> Result<&Embedder, EmbedError> {
        let loaded = self.loaded.get_or_init(|| {
            let embedder = Embedder::load(&self.dir).map_err(|e| e.to_string())?;
            if embedder.id() != self.id {
                return Err(format!(
                    "the weights in {} changed since start-up ({} then, {} now): restart to use them",
                    self.dir.display(),
                    self.id,
                    embedder.id()
                ));
            }
            Ok(embedder)
        });
        loaded.as_ref().map_err(|e| EmbedError::Load(e.clone()))
    }
}

impl From<Embedder> for LazyEmbedder {
    /// A model already loaded.
    fn from(embedder: Embedder) -> LazyEmbedder {
        LazyEmbedder {
            dir: PathBuf::new(),
            id: embedder.id().to_owned(),
            loaded: OnceLock::from(Ok(embedder)),
        }
    }
}

/// `v / |v|` (unchanged when zero).
pub fn normalized(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut vector {
            *x /= norm;
        }
    }
    vector
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norms =
        a.iter().map(|x| x * x).sum::<f32>().sqrt() * b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norms > 0.0 { dot / norms } else { 0.0 }
}
