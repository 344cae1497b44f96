//! emo-run: declarative multimodal (speech + text) emotion-recognition experiments on burn.
//!
//! Data flows one way: config → corpus → folds → features → model → training → run directory.
//! See docs/ARCHITECTURE.md for the modules and docs/CONFIG.md for every key.

pub mod alloc;
pub mod atomic;
pub mod batch;
pub mod cli;
pub mod compare;
pub mod config;
pub mod data;
pub mod device;
pub mod embed;
pub mod encoders;
pub mod env;
pub mod fusion;
pub mod infer;
pub mod inspect;
pub mod kernels;
pub mod lock;
pub mod logging;
pub mod metrics;
pub mod modality;
pub mod model;
pub mod params;
pub mod pooling;
pub mod report;
pub mod rows;
pub mod run;
pub mod task;
pub mod train;
