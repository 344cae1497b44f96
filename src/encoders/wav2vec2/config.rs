//! `config.json` and `preprocessor_config.json` of a Hugging Face wav2vec2 folder.

use std::path::Path;

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};

use super::activation::Activation;

/// The fields of transformers' `Wav2Vec2Config` that the base model reads, with the same
/// defaults (transformers 4.57). Keys the base model does not use (CTC, quantizer, adapters'
/// sizes, generation settings) are ignored when read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Wav2Vec2Config {
    pub conv_dim: Vec<usize>,
    pub conv_kernel: Vec<usize>,
    pub conv_stride: Vec<usize>,
    pub conv_bias: bool,
    /// `"group"`: GroupNorm after the first conv only (base); `"layer"`: LayerNorm over the
    /// channels after every conv (large-lv60).
    pub feat_extract_norm: String,
    pub feat_extract_activation: String,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: String,
    pub hidden_dropout: f64,
    pub activation_dropout: f64,
    pub attention_dropout: f64,
    pub feat_proj_dropout: f64,
    pub layerdrop: f64,
    pub layer_norm_eps: f64,
    pub initializer_range: f64,
    pub num_conv_pos_embeddings: usize,
    pub num_conv_pos_embedding_groups: usize,
    /// Pre-LN transformer ("stable layer norm", large-lv60) instead of post-LN (base).
    pub do_stable_layer_norm: bool,
    pub apply_spec_augment: bool,
    pub mask_time_prob: f64,
    pub mask_time_length: usize,
    pub mask_time_min_masks: usize,
    pub mask_feature_prob: f64,
    pub mask_feature_length: usize,
    pub mask_feature_min_masks: usize,
    /// Not supported; read only to refuse such checkpoints instead of running them wrongly.
    pub add_adapter: bool,
    /// Not supported, for the same reason.
    pub adapter_attn_dim: Option<usize>,
}

impl Default for Wav2Vec2Config {
    fn default() -> Self {
        Self {
            conv_dim: vec![512; 7],
            conv_kernel: vec![10, 3, 3, 3, 3, 2, 2],
            conv_stride: vec![5, 2, 2, 2, 2, 2, 2],
            conv_bias: false,
            feat_extract_norm: "group".into(),
            feat_extract_activation: "gelu".into(),
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            hidden_dropout: 0.1,
            activation_dropout: 0.1,
            attention_dropout: 0.1,
            feat_proj_dropout: 0.0,
            layerdrop: 0.1,
            layer_norm_eps: 1e-5,
            initializer_range: 0.02,
            num_conv_pos_embeddings: 128,
            num_conv_pos_embedding_groups: 16,
            do_stable_layer_norm: false,
            apply_spec_augment: true,
            mask_time_prob: 0.05,
            mask_time_length: 10,
            mask_time_min_masks: 2,
            mask_feature_prob: 0.0,
            mask_feature_length: 10,
            mask_feature_min_masks: 0,
            add_adapter: false,
            adapter_attn_dim: None,
        }
    }
}

/// How the convolutional feature encoder normalises, from `feat_extract_norm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatExtractNorm {
    Group,
    Layer,
}

impl Wav2Vec2Config {
    /// Read and check `dir/config.json`. Errors name the file.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let config: Self = serde_json::from_str(&text)
            .with_context(|| format!("parsing {} as a wav2vec2 config", path.display()))?;
        config
            .validate()
            .with_context(|| format!("unsupported wav2vec2 config in {}", path.display()))?;
        Ok(config)
    }

    /// Everything the model relies on when it is built: consistent conv lists, known
    /// activations and norms, divisible heads and groups, probabilities in range.
    pub fn validate(&self) -> anyhow::Result<()> {
        let layers = self.conv_dim.len();
        ensure!(layers > 0, "conv_dim is empty");
        ensure!(
            self.conv_kernel.len() == layers && self.conv_stride.len() == layers,
            "conv_dim, conv_kernel and conv_stride must have the same length, found {}, {} and {}",
            layers,
            self.conv_kernel.len(),
            self.conv_stride.len()
        );
        ensure!(
            self.conv_kernel
                .iter()
                .chain(&self.conv_stride)
                .all(|&v| v > 0),
            "conv_kernel and conv_stride must be positive"
        );
        self.feat_extract_norm()?;
        Activation::parse(&self.feat_extract_activation).context("feat_extract_activation")?;
        Activation::parse(&self.hidden_act).context("hidden_act")?;
        ensure!(
            self.num_attention_heads > 0
                && self.hidden_size.is_multiple_of(self.num_attention_heads),
            "hidden_size {} is not divisible by num_attention_heads {}",
            self.hidden_size,
            self.num_attention_heads
        );
        let groups = self.num_conv_pos_embedding_groups;
        ensure!(
            groups > 0
                && self.hidden_size.is_multiple_of(groups)
                && self.num_conv_pos_embeddings > 0,
            "hidden_size {} is not divisible by num_conv_pos_embedding_groups {groups}",
            self.hidden_size
        );
        for (name, p) in [
            ("hidden_dropout", self.hidden_dropout),
            ("activation_dropout", self.activation_dropout),
            ("attention_dropout", self.attention_dropout),
            ("feat_proj_dropout", self.feat_proj_dropout),
            ("layerdrop", self.layerdrop),
            ("mask_time_prob", self.mask_time_prob),
            ("mask_feature_prob", self.mask_feature_prob),
        ] {
            ensure!((0.0..1.0).contains(&p), "{name} = {p} is outside [0, 1)");
        }
        ensure!(
            self.mask_time_length > 0 && self.mask_feature_length > 0,
            "mask_time_length and mask_feature_length must be positive"
        );
        if self.add_adapter || self.adapter_attn_dim.is_some() {
            bail!("adapters (add_adapter, adapter_attn_dim) are not supported");
        }
        Ok(())
    }

    pub fn feat_extract_norm(&self) -> anyhow::Result<FeatExtractNorm> {
        match self.feat_extract_norm.as_str() {
            "group" => Ok(FeatExtractNorm::Group),
            "layer" => Ok(FeatExtractNorm::Layer),
            other => bail!("feat_extract_norm is {other:?}, expected \"group\" or \"layer\""),
        }
    }

    /// Frames the conv feature encoder makes of `samples` samples (transformers'
    /// `_get_feat_extract_output_lengths`); 0 when the clip is shorter than its receptive field.
    pub fn frames_for(&self, samples: usize) -> usize {
        self.conv_kernel
            .iter()
            .zip(&self.conv_stride)
            .fold(samples, |len, (&kernel, &stride)| {
                len.checked_sub(kernel).map_or(0, |rest| rest / stride + 1)
            })
    }

    /// Whether SpecAugment can change anything in training, i.e. whether transformers creates
    /// `masked_spec_embed` for this config.
    pub fn has_masked_spec_embed(&self) -> bool {
        self.mask_time_prob > 0.0 || self.mask_feature_prob > 0.0
    }
}

/// The parts of `preprocessor_config.json` (a `Wav2Vec2FeatureExtractor`) that decide what the
/// model sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Wav2Vec2Preprocessor {
    /// Zero-mean, unit-variance normalisation of each clip.
    pub do_normalize: bool,
    /// Whether the checkpoint was trained with an attention mask (lv60 yes, base no).
    pub return_attention_mask: bool,
    pub sampling_rate: u32,
}

impl Default for Wav2Vec2Preprocessor {
    fn default() -> Self {
        Self {
            do_normalize: true,
            return_attention_mask: false,
            sampling_rate: 16_000,
        }
    }
}

impl Wav2Vec2Preprocessor {
    /// `dir/preprocessor_config.json`, or `None` when the folder has none.
    pub fn read(dir: &Path) -> anyhow::Result<Option<Self>> {
        let path = dir.join("preprocessor_config.json");
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let pre = serde_json::from_str(&text)
            .with_context(|| format!("parsing {} as a wav2vec2 preprocessor", path.display()))?;
        Ok(Some(pre))
    }

    /// The feature extractor's per-clip normalisation, `(x - mean) / sqrt(var + 1e-7)` over the
    /// whole clip (transformers' `zero_mean_unit_var_norm`); the clip unchanged when
    /// `do_normalize` is off.
    pub fn normalize(&self, samples: &[f32]) -> Vec<f32> {
        if !self.do_normalize || samples.is_empty() {
            return samples.to_vec();
        }
        let n = samples.len() as f64;
        let mean = samples.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = samples
            .iter()
            .map(|&x| (x as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        let scale = 1.0 / (var + 1e-7).sqrt();
        samples
            .iter()
            .map(|&x| ((x as f64 - mean) * scale) as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn defaults_are_transformers_and_unknown_keys_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "config.json",
            r#"{"hidden_size": 1024, "num_attention_heads": 16, "do_stable_layer_norm": true,
                "vocab_size": 32,
                "feat_extract_dropout": 0.0, "architectures": ["Wav2Vec2ForCTC"]}"#,
        );
        let config = Wav2Vec2Config::read(dir.path()).unwrap();
        assert_eq!((config.hidden_size, config.num_attention_heads), (1024, 16));
        assert!(config.do_stable_layer_norm);
        assert_eq!(config.conv_kernel, vec![10, 3, 3, 3, 3, 2, 2]);
        assert_eq!(config.mask_time_min_masks, 2);
        assert_eq!(config.layerdrop, 0.1);
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Wav2Vec2Config::read(dir.path()).unwrap_err();
        assert!(
            format!("{missing:#}").contains("config.json"),
            "{missing:#}"
        );

        write(dir.path(), "config.json", r#"{"hidden_size": "wide"}"#);
        let bad = format!("{:#}", Wav2Vec2Config::read(dir.path()).unwrap_err());
        assert!(bad.contains("config.json") && bad.contains("wide"), "{bad}");

        write(
            dir.path(),
            "config.json",
            r#"{"feat_extract_norm": "batch"}"#,
        );
        let norm = format!("{:#}", Wav2Vec2Config::read(dir.path()).unwrap_err());
        assert!(
            norm.contains("config.json") && norm.contains("batch"),
            "{norm}"
        );

        write(dir.path(), "preprocessor_config.json", "{");
        let pre = format!("{:#}", Wav2Vec2Preprocessor::read(dir.path()).unwrap_err());
        assert!(pre.contains("preprocessor_config.json"), "{pre}");
    }

    #[test]
    fn frames_match_the_conv_arithmetic() {
        let config = Wav2Vec2Config::default();
        // The seed spec: 96,000 samples give 299 frames, 80,000 give 249.
        assert_eq!(config.frames_for(96_000), 299);
        assert_eq!(config.frames_for(80_000), 249);
        assert_eq!(config.frames_for(400), 1);
        assert_eq!(config.frames_for(399), 0);
        assert_eq!(config.frames_for(0), 0);
    }

    #[test]
    fn preprocessor_is_optional_and_normalises_like_transformers() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Wav2Vec2Preprocessor::read(dir.path()).unwrap(), None);
        write(
            dir.path(),
            "preprocessor_config.json",
            r#"{"do_normalize": true, "return_attention_mask": true, "padding_value": 0.0}"#,
        );
        let pre = Wav2Vec2Preprocessor::read(dir.path()).unwrap().unwrap();
        assert!(pre.return_attention_mask);
        assert_eq!(pre.sampling_rate, 16_000);
        let out = pre.normalize(&[1.0, 2.0, 3.0, 4.0]);
        // mean 2.5, population variance 1.25
        let expected = (1.0 - 2.5) / (1.25f64 + 1e-7).sqrt();
        assert!((out[0] as f64 - expected).abs() < 1e-6);
        assert!(out.iter().sum::<f32>().abs() < 1e-6);
    }
}
