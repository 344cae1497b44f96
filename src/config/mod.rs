//! The experiment file: typed schema, layering, validation, JSON Schema.

pub mod applicable;
pub mod audio_input;
pub mod dataset_options;
pub mod docs;
pub mod encoders;
pub mod error;
pub mod experiment;
pub mod fold_override;
pub mod load;
pub mod locate;
pub mod methods;
pub mod modality;
pub mod names;
pub mod schema;
pub mod validate;
pub mod validate_encoders;
pub mod validate_fusion;

pub use error::{ConfigError, Located};
pub use experiment::*;
pub use load::{LoadedExperiment, Overrides, load_experiment};
pub use modality::{Arrival, Form, Modality};
