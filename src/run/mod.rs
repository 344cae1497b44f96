//! Run directories, atomic writes, locking and the experiment runner.

pub mod dir;
pub mod experiment;
pub mod pool;
