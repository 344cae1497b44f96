//! Run directories and their identity, the experiment runner, and processes for grids.

pub mod dir;
pub mod experiment;
pub mod identity;
pub mod pool;
