//! Parameter counts of a module, total and trainable (burn's visitor over its parameters).

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Total and trainable parameter counts of one module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleParams {
    pub module: String,
    pub total: usize,
    pub trainable: usize,
    /// Named parts inside the module that a paper counts on their own (lmf's low-rank fusion:
    /// factors, weights and bias), already included in the module's counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<ModuleParams>,
}

impl ModuleParams {
    pub fn of(name: &str, module: &impl Module) -> Self {
        let mut counter = ParamCounter::default();
        module.visit(&mut counter);
        Self {
            module: name.to_string(),
            total: counter.total,
            trainable: counter.trainable,
            parts: Vec::new(),
        }
    }

    /// The counts of several modules under one name.
    pub fn sum(name: &str, parts: &[ModuleParams]) -> Self {
        Self {
            module: name.to_string(),
            total: parts.iter().map(|p| p.total).sum(),
            trainable: parts.iter().map(|p| p.trainable).sum(),
            parts: Vec::new(),
        }
    }
}

#[derive(Default)]
struct ParamCounter {
    total: usize,
    trainable: usize,
}

impl ModuleVisitor for ParamCounter {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let n = param.shape().num_elements();
        self.total += n;
        if param.is_require_grad() {
            self.trainable += n;
        }
    }
}
