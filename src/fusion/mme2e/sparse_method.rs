//! `mme2e_sparse`: seed 001's MESM (`src/models/sparse_e2e.py`). MME2E with both CNNs made
//! sparse and text-guided (`sparse_cnn.rs`): every face and piece attends with its utterance's
//! ALBERT [CLS], and the upper blocks run only at the sites the top-p selection keeps.
//!
//! The module counts the multiply-accumulates its passes do against the dense network's on the
//! same inputs; training reads them after each pass (`Method::take_compute`) and logs their
//! ratio per epoch in metrics.parquet (`mac_ratio`).

use std::sync::{Arc, Mutex};

use burn::prelude::*;

use super::branches::{Branches, owners, real_inputs};
use super::dense::{NEEDS, input_width_problems, named_parts};
use super::keys::Mme2eSparseKeys;
use super::sparse_cnn::{Macs, Selection, SparseCnn};
use super::{FACE, PIECE};
use crate::fusion::registry::{Method, TaskShape};
use crate::fusion::{FusionInputs, FusionSpec};
use crate::modality::{Form, Modality};
use crate::params::ModuleParams;

#[derive(Module, Debug)]
pub struct Mme2eSparse {
    v: SparseCnn,
    a: SparseCnn,
    branches: Branches,
    #[module(skip)]
    selection: SelectionKeys,
    #[module(skip)]
    macs: MacCounter,
}

/// The keys the forward pass reads (a plain copy, so the module stays `Clone`).
#[derive(Debug, Clone)]
struct SelectionKeys(Mme2eSparseKeys);

/// MACs accumulated since they were last taken, shared by the module's copies (the training
/// model and its `valid()` view).
#[derive(Debug, Clone, Default)]
pub struct MacCounter(Arc<Mutex<Macs>>);

impl MacCounter {
    fn add(&self, macs: Macs) {
        *self.0.lock().expect("MAC counter lock") += macs;
    }

    /// The accumulated MACs, reset to zero.
    pub fn take(&self) -> Macs {
        std::mem::take(&mut *self.0.lock().expect("MAC counter lock"))
    }
}

impl Mme2eSparse {
    pub fn new(keys: &Mme2eSparseKeys, spec: &FusionSpec, device: &Device) -> Self {
        let text = spec.dim(Modality::Text);
        Self {
            v: SparseCnn::new(FACE[0], text, device),
            a: SparseCnn::new(PIECE[0], text, device),
            branches: Branches::new(&keys.dense(), text, spec.n_classes, device),
            selection: SelectionKeys(keys.clone()),
            macs: MacCounter::default(),
        }
    }

    pub fn forward(&self, x: &FusionInputs) -> Tensor<2> {
        let keys = &self.selection.0;
        let how = Selection {
            threshold: keys.sparse_threshold,
            attention: keys.attention,
            pairing: keys.stage1_pairing,
        };
        let text = x.pooled(Modality::Text);
        let (faces, frames) = x.sequence(Modality::Visual);
        let (pieces, piece_counts) = x.sequence(Modality::Audio);
        let (faces, face_macs) = self.v.forward(
            real_inputs(faces, &frames, FACE),
            per_input(&text, &frames),
            how,
        );
        let (pieces, piece_macs) = self.a.forward(
            real_inputs(pieces, &piece_counts, PIECE),
            per_input(&text, &piece_counts),
            how,
        );
        self.macs.add(face_macs);
        self.macs.add(piece_macs);
        self.branches
            .forward(text, faces, &frames, pieces, &piece_counts)
    }

    pub fn take_macs(&self) -> Macs {
        self.macs.take()
    }
}

/// Each utterance's text vector repeated for each of its inputs: `[Σ lengths, d]`.
fn per_input(text: &Tensor<2>, lengths: &[usize]) -> Tensor<2> {
    let rows: Vec<i64> = owners(lengths).into_iter().map(|b| b as i64).collect();
    let index =
        Tensor::<1, Int>::from_data(TensorData::new(rows.clone(), [rows.len()]), &text.device());
    text.clone().select(0, index)
}

/// `mme2e_sparse`: MESM.
pub struct Mme2eSparseMethod;

impl Method for Mme2eSparseMethod {
    const SUMMARY: &'static str = "Seed 001's MESM: mme2e whose face and spectrogram CNNs compute their last three blocks only at the sites a text-guided attention keeps (top-p per frame, fusion.sparse_threshold), emulated with masks; logs the ratio of its multiply-accumulates to the dense model's per epoch (mac_ratio). The seed's two defects are switches (attention, stage1_pairing).";
    const NEEDS: &'static [(Modality, Form)] = NEEDS;
    type Keys = Mme2eSparseKeys;
    type Module = Mme2eSparse;

    fn init(keys: &Mme2eSparseKeys, spec: &FusionSpec, device: &Device) -> Mme2eSparse {
        Mme2eSparse::new(keys, spec, device)
    }

    fn forward(module: &Mme2eSparse, inputs: &FusionInputs) -> Tensor<2> {
        module.forward(inputs)
    }

    fn problems(keys: &Mme2eSparseKeys, _task: TaskShape) -> Vec<(&'static str, String)> {
        keys.problems()
    }

    fn width_problems(_keys: &Mme2eSparseKeys, spec: &FusionSpec) -> Vec<(&'static str, String)> {
        input_width_problems(spec)
    }

    fn param_group(module: &Mme2eSparse, name: &str) -> Option<burn::module::ParamGroup> {
        (name == "text_head").then(|| module.branches.text_head())
    }

    fn parameter_parts(module: &Mme2eSparse) -> Vec<ModuleParams> {
        let cnns = vec![
            ModuleParams::of("V", &module.v),
            ModuleParams::of("A", &module.a),
        ];
        named_parts(cnns, &module.branches)
    }

    fn take_compute(module: &Mme2eSparse) -> Option<(u64, u64)> {
        let macs = module.take_macs();
        Some((macs.sparse, macs.dense))
    }
}
