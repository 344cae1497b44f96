//! `mme2e`: seed 001's FE2E (`src/models/e2e.py`). Faces through the dense CNN `V`,
//! spectrogram pieces through `A`, then the shared branches (`branches.rs`): flatten MLPs,
//! transformers over each utterance's frames and pieces, per-modality logits with ALBERT's [CLS]
//! for text, and their learned weighting.

use burn::prelude::*;

use super::branches::{Branches, real_inputs};
use super::keys::Mme2eKeys;
use super::vgg::{VggCnn, VggCnnConfig};
use super::{FACE, PIECE};
use crate::fusion::registry::{Method, TaskShape};
use crate::fusion::{FusionInputs, FusionSpec};
use crate::modality::{Form, Modality};
use crate::params::ModuleParams;

/// The streams of both models: ALBERT's [CLS], the faces and the pieces of each utterance.
pub const NEEDS: &[(Modality, Form)] = &[
    (Modality::Text, Form::Pooled),
    (Modality::Visual, Form::Sequence),
    (Modality::Audio, Form::Sequence),
];

#[derive(Module, Debug)]
pub struct Mme2e {
    v: VggCnn,
    a: VggCnn,
    branches: Branches,
}

impl Mme2e {
    pub fn new(keys: &Mme2eKeys, spec: &FusionSpec, device: &Device) -> Self {
        Self {
            v: VggCnnConfig::new(FACE[0]).init(device),
            a: VggCnnConfig::new(PIECE[0]).init(device),
            branches: Branches::new(keys, spec.dim(Modality::Text), spec.n_classes, device),
        }
    }

    pub fn forward(&self, x: &FusionInputs) -> Tensor<2> {
        let (faces, frames) = x.sequence(Modality::Visual);
        let (pieces, piece_counts) = x.sequence(Modality::Audio);
        let faces = self.v.forward(real_inputs(faces, &frames, FACE));
        let pieces = self.a.forward(real_inputs(pieces, &piece_counts, PIECE));
        self.branches.forward(
            x.pooled(Modality::Text),
            faces,
            &frames,
            pieces,
            &piece_counts,
        )
    }

    pub fn branches(&self) -> &Branches {
        &self.branches
    }

    /// The CNNs' counts on their own (the seed's V and A).
    pub fn cnn_parts(&self) -> Vec<ModuleParams> {
        vec![
            ModuleParams::of("V", &self.v),
            ModuleParams::of("A", &self.a),
        ]
    }
}

/// The checks both models make of the stream widths: faces and pieces as the CNNs take them.
pub fn input_width_problems(spec: &FusionSpec) -> Vec<(&'static str, String)> {
    [
        (
            Modality::Visual,
            FACE,
            "the face CNN reads 3×48×48 face crops",
            "per frame",
            "[dataset.faces]",
        ),
        (
            Modality::Audio,
            PIECE,
            "the spectrogram CNN reads 128×32 mel pieces",
            "per piece",
            "encoders.audio.kind = \"mel_pieces\"",
        ),
    ]
    .into_iter()
    .filter_map(|(modality, shape, reads, unit, remedy)| {
        let values: usize = shape.iter().product();
        let width = spec.dim(modality);
        (width != values).then(|| {
            (
                "method",
                format!(
                    "{reads} ({values} values {unit}), but the {modality} stream is {width} wide; expected {remedy}"
                ),
            )
        })
    })
    .collect()
}

/// The parts of the model that seed 001's sizes name, CNNs first.
pub fn named_parts(cnns: Vec<ModuleParams>, branches: &Branches) -> Vec<ModuleParams> {
    cnns.into_iter().chain(branches.parts()).collect()
}

/// `mme2e`: FE2E.
pub struct Mme2eMethod;

impl Method for Mme2eMethod {
    const SUMMARY: &'static str = "Seed 001's FE2E: faces and mel-spectrogram pieces through VGG-style CNNs trained end to end, transformers over each utterance's frames and pieces, ALBERT's [CLS] for text, per-modality logits weighted by one learned scalar each. Needs [dataset.faces] and encoders.audio.kind = \"mel_pieces\".";
    const NEEDS: &'static [(Modality, Form)] = NEEDS;
    type Keys = Mme2eKeys;
    type Module = Mme2e;

    fn init(keys: &Mme2eKeys, spec: &FusionSpec, device: &Device) -> Mme2e {
        Mme2e::new(keys, spec, device)
    }

    fn forward(module: &Mme2e, inputs: &FusionInputs) -> Tensor<2> {
        module.forward(inputs)
    }

    fn problems(keys: &Mme2eKeys, _task: TaskShape) -> Vec<(&'static str, String)> {
        keys.problems()
    }

    fn width_problems(_keys: &Mme2eKeys, spec: &FusionSpec) -> Vec<(&'static str, String)> {
        input_width_problems(spec)
    }

    fn param_group(module: &Mme2e, name: &str) -> Option<burn::module::ParamGroup> {
        (name == "text_head").then(|| module.branches.text_head())
    }

    fn parameter_parts(module: &Mme2e) -> Vec<ModuleParams> {
        named_parts(module.cnn_parts(), &module.branches)
    }
}
