//! Parameter counts of a module, total and trainable (burn's visitor over its parameters).
//!
//! Counting never initialises a parameter: burn builds modules lazily, and `emo-run inspect`
//! counts hybrid_fusion's 759 M parameters from their shapes and trainable flags alone (0.02 s
//! instead of 15.7 s and 2.9 GB of random weights, docs/PERFORMANCE.md).

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
        let n = param.lazy_shape().num_elements();
        self.total += n;
        if is_trainable(param) {
            self.trainable += n;
        }
    }
}

/// Whether `param` requires gradients, read without initialising it.
///
/// burn keeps a lazy parameter's flag private (`lazy_is_require_grad`), but its public
/// `transform_for_load` applies that flag to the tensor it is given: a one-element probe on the
/// parameter's device carries it out. The clone shares the lazy state and leaves it untouched.
pub fn is_trainable<const D: usize>(param: &Param<Tensor<D>>) -> bool {
    if param.is_initialized() {
        return param.is_require_grad();
    }
    let probe = Tensor::<D>::zeros([1; D], &param.lazy_device());
    param
        .clone()
        .transform_for_load(probe, param.id)
        .is_require_grad()
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::nn::{Linear, LinearConfig};
    use burn::prelude::*;

    use super::ModuleParams;

    #[derive(Module, Debug)]
    struct Pair {
        trained: Linear,
        frozen: Linear,
    }

    /// How many float parameters hold a value (burn initialises lazy ones on first read).
    #[derive(Default)]
    struct Initialised(usize);

    impl ModuleVisitor for Initialised {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0 += usize::from(param.is_initialized());
        }
    }

    fn initialised(module: &impl Module) -> usize {
        let mut seen = Initialised::default();
        module.visit(&mut seen);
        seen.0
    }

    fn pair(device: &Device) -> Pair {
        Pair {
            trained: LinearConfig::new(30, 20).init(device),
            frozen: LinearConfig::new(20, 10).init(device).no_grad(),
        }
    }

    #[test]
    fn counts_a_lazy_module_without_initialising_it() {
        let device = Device::default().autodiff();
        let lazy = pair(&device);
        let counts = ModuleParams::of("pair", &lazy);
        assert_eq!(initialised(&lazy), 0, "counting initialised a parameter");
        assert_eq!((counts.total, counts.trainable), (620 + 210, 620));

        // The same counts once every weight holds a value (the flags then come from the tensors).
        let eager = pair(&device);
        let _ = (eager.trained.weight.val(), eager.frozen.weight.val());
        let _ = (
            eager.trained.bias.as_ref().unwrap().val(),
            eager.frozen.bias.as_ref().unwrap().val(),
        );
        assert_eq!(initialised(&eager), 4);
        assert_eq!(ModuleParams::of("pair", &eager), counts);
    }
}
