//! What a run is: the resolved config a user reads (`resolved.toml`), and the identity that
//! names its folder (`identity.toml` and its hash).
//!
//! The identity holds what changes the numbers and nothing else. It leaves out the device, the
//! name and every path (the dataset root, split files, model folders), and puts in their place
//! fingerprints of what those paths hold. So a grid rerun on a cluster node that mounts the
//! corpus elsewhere, or on another GPU, finds and resumes its cells; an edited corpus, other
//! folds or another model's weights make a new run.

use anyhow::Context;

use crate::config::{EncoderInit, Experiment};
use crate::data::fingerprint::data_fingerprint;
use crate::data::plan::DataPlan;
use crate::encoders::folder::folder_fingerprint;

/// The resolved config as TOML: what `resolved.toml` holds. The `extends` list is left out: its
/// files are already merged in, and their relative paths would not resolve from the run
/// directory (`config.toml` keeps the file as given).
pub fn resolved_toml(exp: &Experiment) -> anyhow::Result<String> {
    toml::to_string(&resolved_table(exp)?).context("serialising the resolved config")
}

fn resolved_table(exp: &Experiment) -> anyhow::Result<toml::Table> {
    let mut exp = exp.clone();
    exp.extends.clear();
    let mut table = toml::Table::try_from(&exp).context("serialising the resolved config")?;
    // Keys the method does not read are left out: they would be refused when the file is
    // run again, and they do not describe what ran.
    if let Some(toml::Value::Table(fusion)) = table.get_mut("fusion") {
        fusion.retain(|key, _| crate::config::applicable::reads(&exp.fusion, key));
    }
    Ok(table)
}

/// A run's identity: the text it hashes, and the short hash that ends its folder's name.
pub struct Identity {
    pub toml: String,
    pub hash: String,
}

/// The identity of `exp` run on `plan`, the data it reads.
pub fn run_identity(exp: &Experiment, plan: &DataPlan) -> anyhow::Result<Identity> {
    let mut table = resolved_table(exp)?;
    for key in ["device", "name"] {
        table.remove(key);
    }
    remove_path(&mut table, &["dataset", "root"]);
    if let Some(toml::Value::Table(dataset)) = table.get_mut("dataset")
        && let Some(toml::Value::Array(also)) = dataset.get_mut("also")
    {
        for extra in also.iter_mut().filter_map(toml::Value::as_table_mut) {
            extra.remove("root");
        }
    }
    remove_path(&mut table, &["split", "files"]);
    let mut fingerprints = toml::Table::new();
    fingerprints.insert(
        "data".into(),
        data_fingerprint(plan, &exp.dataset.roots()).into(),
    );
    let encoders = [
        ("text", &exp.encoders.text.path, exp.encoders.text.init),
        ("audio", &exp.encoders.audio.path, exp.encoders.audio.init),
    ];
    for (modality, path, init) in encoders {
        let Some(dir) = path else { continue };
        remove_path(&mut table, &["encoders", modality, "path"]);
        let digest = folder_fingerprint(dir, init == EncoderInit::Pretrained)
            .with_context(|| format!("key `encoders.{modality}.path`"))?;
        fingerprints.insert(format!("{modality}_model"), digest.into());
    }
    table.insert("fingerprints".into(), fingerprints.into());
    let toml = toml::to_string(&table).context("serialising the run identity")?;
    let hash = blake3::hash(toml.as_bytes()).to_hex()[..12].to_string();
    Ok(Identity { toml, hash })
}

/// Remove the key at `path` (a dotted key split into its parts), if present.
fn remove_path(table: &mut toml::Table, path: &[&str]) {
    let (last, parents) = path.split_last().expect("a non-empty key");
    let mut current = table;
    for part in parents {
        match current.get_mut(*part) {
            Some(toml::Value::Table(next)) => current = next,
            _ => return,
        }
    }
    current.remove(*last);
}
