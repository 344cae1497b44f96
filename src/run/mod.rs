//! Run directories, atomic writes, locking and the experiment runner.

pub mod atomic;
pub mod dir;
pub mod experiment;
