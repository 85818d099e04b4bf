//! The BERT encoder of a sentence-transformers model (MiniLM, MPNet-free
//! BERT variants): token, position and segment embeddings, then
//! `num_hidden_layers` blocks of self-attention and feed-forward, each
//! followed by a residual connection and layer normalisation. Inference
//! only: no dropout.

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

use crate::EmbedError;

/// The fields of `config.json` the encoder needs.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "two")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "gelu")]
    pub hidden_act: String,
    #[serde(default)]
    pub model_type: String,
}

fn two() -> usize {
    2
}

fn default_eps() -> f64 {
    1e-12
}

fn gelu() -> String {
    "gelu".to_owned()
}

impl BertConfig {
    /// Refuse what this encoder does not implement, rather than compute
    /// something else.
    pub fn check(&self) -> Result<(), EmbedError> {
        if !self.model_type.is_empty() && self.model_type != "bert" {
            return Err(EmbedError::Unsupported(format!(
                "model_type {:?} (only BERT-family models)",
                self.model_type
            )));
        }
        if !matches!(self.hidden_act.as_str(), "gelu" | "gelu_new" | "relu") {
            return Err(EmbedError::Unsupported(format!(
                "hidden_act {:?}",
                self.hidden_act
            )));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(EmbedError::Unsupported(
                "hidden_size is not a multiple of num_attention_heads".to_owned(),
            ));
        }
        Ok(())
    }
}

fn layer_norm(size: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<LayerNorm> {
    let weight = vb.get(size, "weight")?;
    let bias = vb.get(size, "bias")?;
    Ok(LayerNorm::new(weight, bias, eps))
}

struct Embeddings {
    words: Embedding,
    positions: Embedding,
    segments: Embedding,
    norm: LayerNorm,
}

impl Embeddings {
    fn load(config: &BertConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Embeddings {
            words: candle_nn::embedding(
                config.vocab_size,
                config.hidden_size,
                vb.pp("word_embeddings"),
            )?,
            positions: candle_nn::embedding(
                config.max_position_embeddings,
                config.hidden_size,
                vb.pp("position_embeddings"),
            )?,
            segments: candle_nn::embedding(
                config.type_vocab_size,
                config.hidden_size,
                vb.pp("token_type_embeddings"),
            )?,
            norm: layer_norm(
                config.hidden_size,
                config.layer_norm_eps,
                vb.pp("LayerNorm"),
            )?,
        })
    }

    /// `ids`: (batch, length) token ids, one segment.
    fn forward(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        let (_, length) = ids.dims2()?;
        let positions = Tensor::arange(0u32, length as u32, ids.device())?.unsqueeze(0)?;
        let segments = ids.zeros_like()?;
        let summed = self
            .words
            .forward(ids)?
            .broadcast_add(&self.positions.forward(&positions)?)?
            .add(&self.segments.forward(&segments)?)?;
        self.norm.forward(&summed)
    }
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
    heads: usize,
    head_size: usize,
    activation: String,
}

impl Layer {
    fn load(config: &BertConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let hidden = config.hidden_size;
        let attention = vb.pp("attention");
        Ok(Layer {
            query: candle_nn::linear(hidden, hidden, attention.pp("self").pp("query"))?,
            key: candle_nn::linear(hidden, hidden, attention.pp("self").pp("key"))?,
            value: candle_nn::linear(hidden, hidden, attention.pp("self").pp("value"))?,
            attention_out: candle_nn::linear(hidden, hidden, attention.pp("output").pp("dense"))?,
            attention_norm: layer_norm(
                hidden,
                config.layer_norm_eps,
                attention.pp("output").pp("LayerNorm"),
            )?,
            intermediate: candle_nn::linear(
                hidden,
                config.intermediate_size,
                vb.pp("intermediate").pp("dense"),
            )?,
            output: candle_nn::linear(
                config.intermediate_size,
                hidden,
                vb.pp("output").pp("dense"),
            )?,
            output_norm: layer_norm(
                hidden,
                config.layer_norm_eps,
                vb.pp("output").pp("LayerNorm"),
            )?,
            heads: config.num_attention_heads,
            head_size: hidden / config.num_attention_heads,
            activation: config.hidden_act.clone(),
        })
    }

    /// (batch, length, hidden) → (batch, heads, length, head_size)
    fn split_heads(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, length, _) = x.dims3()?;
        x.reshape((batch, length, self.heads, self.head_size))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// `bias`: (batch, 1, 1, length), 0 for tokens and a large negative
    /// number for padding.
    fn forward(&self, hidden: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, length, width) = hidden.dims3()?;
        let q = self.split_heads(&self.query.forward(hidden)?)?;
        let k = self.split_heads(&self.key.forward(hidden)?)?;
        let v = self.split_heads(&self.value.forward(hidden)?)?;
        let scale = 1.0 / (self.head_size as f64).sqrt();
        let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(bias)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = weights
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((batch, length, width))?;
        let attended = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context)? + hidden)?)?;
        let inner = self.intermediate.forward(&attended)?;
        let inner = match self.activation.as_str() {
            "relu" => inner.relu()?,
            // The tanh approximation.
            "gelu_new" => inner.gelu()?,
            // BERT's "gelu" is the exact (erf) one.
            _ => inner.gelu_erf()?,
        };
        self.output_norm
            .forward(&(self.output.forward(&inner)? + attended)?)
    }
}

/// The encoder with its weights.
pub struct Bert {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    device: Device,
}

impl Bert {
    /// Load from safetensors weights named as in Hugging Face's BertModel
    /// (with or without a `bert.` prefix).
    pub fn load(config: &BertConfig, weights: Vec<u8>) -> Result<Bert, EmbedError> {
        config.check()?;
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)?;
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let embeddings = Embeddings::load(config, vb.pp("embeddings"))?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(config, vb.pp("encoder").pp("layer").pp(i.to_string())))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Bert {
            embeddings,
            layers,
            device,
        })
    }

    /// Token states of a padded batch: `ids` and `mask` are (batch,
    /// length), `mask` 1 for tokens and 0 for padding. Returns (batch,
    /// length, hidden).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, length) = mask.dims2()?;
        // 0 where attended, -10000 where padding (as BERT does).
        let bias =
            ((mask.to_dtype(DType::F32)? - 1.0)? * 10_000.0)?.reshape((batch, 1, 1, length))?;
        let mut hidden = self.embeddings.forward(ids)?;
        for layer in &self.layers {
            hidden = layer.forward(&hidden, &bias)?;
        }
        Ok(hidden)
    }

    pub fn device(&self) -> &Device {
        &self.device
    }
}

/// Mean of the token states over the mask: (batch, length, hidden) →
/// (batch, hidden).
pub fn mean_pool(states: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?;
    let summed = states.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
    summed.broadcast_div(&counts)
}
