//! The training loop: folds, epochs, evaluation, checkpoints.

pub mod checkpoint;
pub mod evaluate;
pub mod fold;
pub mod objective;
pub mod optim;
