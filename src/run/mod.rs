//! Run directories and their identity, the experiment runner, and running many: local
//! processes (`pool`), Slurm job arrays (`slurm`) and their progress (`status`).

pub mod dir;
pub mod experiment;
pub mod identity;
pub mod inputs;
pub mod pool;
pub mod saved;
pub mod slurm;
pub mod stages;
pub mod status;
