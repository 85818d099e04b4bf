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

impl Embedder {
    /// Load the model in `dir`. Only mean pooling is implemented (what
    /// sentence-transformers' general-purpose models use); others are
    /// refused by name.
    pub fn load(dir: &Path) -> Result<Embedder, EmbedError> {
        let config: BertConfig = parse(dir, "config.json")?;
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
        let normalize = modules.iter().any(|m| m.kind.ends_with(".Normalize"));
        let weights = read(dir, "model.safetensors")?;
        let id = hex::encode(Sha256::digest(&weights))[..12].to_owned();
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
            window: sentence
                .max_seq_length
                .min(config.max_position_embeddings)
                .max(8),
            normalize,
            dimensions: config.hidden_size,
            id: format!("emb-{id}"),
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
