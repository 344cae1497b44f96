//! How a clip is read: the `[encoders.audio.input]` table.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How each clip is turned into the samples the front end sees, after it is decoded and
/// resampled to `sample_rate`. The order is: channel, truncate, normalize, pad.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct AudioInputOptions {
    /// Channel of a multi-channel file: `"mix"` averages the channels (torchaudio's
    /// `wav.mean(0)`), a number picks that 0-based channel (a file with fewer channels is
    /// dropped, or is an error with `dataset.strict`). Mono files are used as they are.
    pub channel: ChannelSelect,
    /// Which part of a clip longer than `max_samples` is kept.
    pub truncate: TruncateMode,
    /// How a clip shorter than `max_samples` is lengthened. The log-mel front end masks padded
    /// frames in the batch already, so padding here only changes what the model sees.
    pub pad: PadMode,
    /// Per-clip zero mean and unit variance, as Hugging Face's Wav2Vec2FeatureExtractor with
    /// `do_normalize=True`: `(x - mean) / sqrt(var + 1e-7)` over the kept samples (population
    /// variance, computed in f64), after truncation and before padding, so padding stays 0 as
    /// HF leaves it with an attention mask; `repeat` padding repeats the normalised samples.
    pub normalize: bool,
    /// With `normalize`: compute the statistics over the WHOLE decoded clip and normalise it
    /// before truncating (seed 000, docs/methods/seed-000-rsa-cfn.md, quirk 4: `Wav2Vec2FeatureExtractor` runs on the
    /// full clips in the dataset, the collator cuts them to 6 s afterwards). `false`: truncate
    /// first, normalise the kept samples (Hugging Face's order when it truncates itself).
    pub normalize_before_truncate: bool,
}

/// One channel of the file, or their mean. Written `"mix"` or a 0-based index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ChannelSelect {
    /// The mean of all channels.
    Mix(ChannelMix),
    /// This 0-based channel.
    Index(u16),
}

impl ChannelSelect {
    /// The mean of all channels (the default).
    pub const MIX: Self = ChannelSelect::Mix(ChannelMix::Mix);
}

impl Default for ChannelSelect {
    fn default() -> Self {
        Self::MIX
    }
}

/// The keyword `"mix"` of [`ChannelSelect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelMix {
    /// The mean of all channels.
    Mix,
}

/// Which `max_samples` of a longer clip are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TruncateMode {
    /// The first `max_samples` samples.
    #[default]
    Head,
    /// The middle `max_samples` samples, starting at `(len - max_samples) / 2` (rounded down).
    Center,
    /// Every sample: `max_samples` is then only the length that padding reaches.
    None,
}

/// How a clip shorter than `max_samples` reaches that length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    /// Leave it shorter; batches pad and mask it.
    #[default]
    None,
    /// Append zeros (silence).
    Zeros,
    /// Repeat the clip from its start until it is long enough.
    Repeat,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_reads_mix_or_an_index_and_rejects_other_words() {
        #[derive(Deserialize)]
        struct T {
            input: AudioInputOptions,
        }
        let parse = |s: &str| toml::from_str::<T>(s).map(|t| t.input);
        assert_eq!(parse("input = {}").unwrap(), AudioInputOptions::default());
        assert_eq!(
            parse("input = { channel = \"mix\" }").unwrap().channel,
            ChannelSelect::MIX
        );
        assert_eq!(
            parse("input = { channel = 1 }").unwrap().channel,
            ChannelSelect::Index(1)
        );
        assert!(parse("input = { channel = \"left\" }").is_err());
        assert!(parse("input = { chanel = 1 }").is_err());
        let full =
            parse("input = { truncate = \"center\", pad = \"repeat\", normalize = true }").unwrap();
        assert_eq!(
            (full.truncate, full.pad, full.normalize),
            (TruncateMode::Center, PadMode::Repeat, true)
        );
    }
}
