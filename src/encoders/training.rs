//! `train = "top:N"`: only the last N transformer layers of an encoder (and a pooler after them)
//! keep requiring gradients; embeddings, the CNN, earlier layers and everything else freeze.
//!
//! Layers are found by their module path rather than by each architecture naming them: every
//! encoder keeps its transformer layers in a `Vec` field named `layer` (Hugging Face's name) or
//! `layers` (burn's and wav2vec2's), and burn's mapper reports each element's index as a path
//! segment. Other lists (wav2vec2's `conv_layers`, ALBERT's `albert_layers`) do not match. That works for
//! BERT, RoBERTa, ELECTRA and both wav2vec2 encoders alike; ALBERT, which shares one set of
//! weights across its layers, has no per-layer weights to pick and is refused.

use burn::module::{ModuleMapper, Param};
use burn::prelude::*;

/// `module` with the parameters `train` says train: all (`full`), none (`frozen`), or the top
/// layers of `layers` (`top:N`). `key` names the setting in errors.
pub fn apply_training<M: Module>(
    module: M,
    train: crate::config::EncoderTraining,
    layers: usize,
    key: &str,
) -> anyhow::Result<M> {
    use crate::config::EncoderTraining;
    match train {
        EncoderTraining::Full => Ok(module),
        EncoderTraining::Frozen => Ok(module.no_grad()),
        EncoderTraining::Top(top) => {
            train_top_layers(module, TrainableLayers { top, total: layers }, key)
        }
    }
}

/// How many layers the encoder has and how many of the last ones train.
#[derive(Debug, Clone, Copy)]
pub struct TrainableLayers {
    pub top: usize,
    pub total: usize,
}

/// `module` with only the top layers (and any pooler) trainable. `key` names the setting in
/// errors.
pub fn train_top_layers<M: Module>(
    module: M,
    layers: TrainableLayers,
    key: &str,
) -> anyhow::Result<M> {
    anyhow::ensure!(
        layers.top <= layers.total,
        "{key} = \"top:{}\", but the encoder has {} layers",
        layers.top,
        layers.total
    );
    let mut mapper = TopLayers {
        path: Vec::new(),
        first_trainable: layers.total - layers.top,
        trainable_layers: std::collections::BTreeSet::new(),
    };
    let module = module.map(&mut mapper);
    anyhow::ensure!(
        mapper.trainable_layers.len() == layers.top,
        "{key} = \"top:{}\": found per-layer weights for layers {:?} of {}, expected the last {} \
         (an architecture that shares its layers' weights, like ALBERT, cannot train only some \
         of them; use \"full\" or \"frozen\")",
        layers.top,
        mapper.trainable_layers,
        layers.total,
        layers.top
    );
    Ok(module)
}

struct TopLayers {
    /// (field or index, container type) from the root to the current module.
    path: Vec<(String, String)>,
    first_trainable: usize,
    trainable_layers: std::collections::BTreeSet<usize>,
}

impl TopLayers {
    /// The index of the transformer layer the current path is inside, if any.
    fn layer_index(&self) -> Option<usize> {
        self.path.windows(2).find_map(|pair| {
            let [(parent, _), (index, container)] = pair else {
                return None;
            };
            (container == "Vec" && (parent == "layer" || parent == "layers"))
                .then(|| index.parse().ok())
                .flatten()
        })
    }

    fn in_pooler(&self) -> bool {
        self.path.iter().any(|(name, _)| name == "pooler")
    }
}

impl ModuleMapper for TopLayers {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path
            .push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let layer = self.layer_index().filter(|&k| k >= self.first_trainable);
        if let Some(k) = layer {
            self.trainable_layers.insert(k);
        }
        let trains = layer.is_some() || self.in_pooler();
        // Keep a parameter that something else already froze (e.g. the CNN of
        // freeze_feature_encoder) frozen.
        let trains = trains && crate::params::is_trainable(&param);
        param.set_require_grad(trains)
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};

    use super::*;
    use crate::params::ModuleParams;

    #[derive(Module, Debug)]
    struct Toy {
        embed: Linear,
        layers: Vec<Linear>,
        pooler: Linear,
    }

    fn toy(device: &Device) -> Toy {
        Toy {
            embed: LinearConfig::new(2, 3).init(device),
            layers: (0..4)
                .map(|_| LinearConfig::new(3, 3).init(device))
                .collect(),
            pooler: LinearConfig::new(3, 3).init(device),
        }
    }

    #[test]
    fn only_the_last_layers_and_the_pooler_train() {
        // Parameters report their trainable flag on an autodiff device only.
        let device = Device::default().autodiff();
        let layers = TrainableLayers { top: 2, total: 4 };
        let toy = train_top_layers(toy(&device), layers, "t").unwrap();
        let counts = ModuleParams::of("toy", &toy);
        // embed 2*3+3 and layers 0, 1 frozen; layers 2, 3 (12 each) and the pooler (12) train.
        assert_eq!(counts.total, 9 + 4 * 12 + 12);
        assert_eq!(counts.trainable, 3 * 12);
    }

    #[test]
    fn too_many_layers_or_shared_layers_are_refused() {
        let device = Device::default();
        let err =
            train_top_layers(toy(&device), TrainableLayers { top: 5, total: 4 }, "k").unwrap_err();
        assert!(err.to_string().contains("has 4 layers"), "{err}");
        // A model claiming 12 layers but holding 4 weight sets (shared, like ALBERT).
        let err =
            train_top_layers(toy(&device), TrainableLayers { top: 9, total: 12 }, "k").unwrap_err();
        assert!(err.to_string().contains("ALBERT"), "{err}");
    }
}
