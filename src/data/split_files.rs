//! Committed split lists (seed 001's; docs/DATASETS.md, IEMOCAP and CMU-MOSEI): a folder of `<split>_split.txt` files, one utterance id
//! per line (`IEMOCAP_SPLIT/`, `MOSEI_SPLIT/`, or the repository copy under `data split/`). The
//! `files` fold protocol reads them through the corpus loaders' wrappers.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::error::DataError;

const SUFFIX: &str = "_split.txt";

/// Split name (`train`, `valid`, `test`, ...) → the ids it lists, in file order. Every
/// `*_split.txt` in `dir` is read; blank lines and surrounding whitespace are ignored. A missing
/// folder, a folder without split files, or an id listed in two splits is an error: the folds
/// would silently leak test utterances into training otherwise.
pub fn read_split_dir(dir: &Path) -> Result<BTreeMap<String, Vec<String>>, DataError> {
    let mut splits = BTreeMap::new();
    for (name, path) in split_files(dir)? {
        splits.insert(name, read_id_list(&path)?);
    }
    reject_shared_ids(dir, &splits)?;
    Ok(splits)
}

/// One utterance id per non-empty line, surrounding whitespace removed.
pub fn read_id_list(path: &Path) -> Result<Vec<String>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// Every id that two differently named lists share, as `(id, first list, second list)`, in
/// reading order; an id repeated within one list is not a clash.
pub fn shared_ids<'a, N: PartialEq + Copy>(
    lists: impl IntoIterator<Item = (N, &'a [String])>,
) -> Vec<(&'a str, N, N)> {
    let mut owner: HashMap<&str, N> = HashMap::new();
    let mut clashes = Vec::new();
    for (name, ids) in lists {
        for id in ids {
            if let Some(first) = owner.insert(id, name)
                && first != name
            {
                clashes.push((id.as_str(), first, name));
            }
        }
    }
    clashes
}

fn split_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?;
            let split = name.strip_suffix(SUFFIX)?;
            (!split.is_empty() && !name.starts_with('.')).then(|| (split.to_string(), path.clone()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DataError::format(
            dir,
            "no <split>_split.txt file; expected train_split.txt, valid_split.txt, test_split.txt",
        ));
    }
    Ok(files)
}

fn reject_shared_ids(dir: &Path, splits: &BTreeMap<String, Vec<String>>) -> Result<(), DataError> {
    let lists = splits
        .iter()
        .map(|(split, ids)| (split.as_str(), ids.as_slice()));
    match shared_ids(lists).first() {
        Some((id, first, split)) => Err(DataError::format(
            dir,
            format!("id {id} is listed in both {first}_split.txt and {split}_split.txt"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_split_file_and_skips_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train_split.txt"), "a_1\na_2\n\n").unwrap();
        std::fs::write(dir.path().join("valid_split.txt"), "b_1\r\n").unwrap();
        std::fs::write(dir.path().join("test_split.txt"), "c_1\nc_2").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a split").unwrap();
        let splits = read_split_dir(dir.path()).unwrap();
        assert_eq!(
            splits.keys().collect::<Vec<_>>(),
            vec!["test", "train", "valid"]
        );
        assert_eq!(splits["train"], vec!["a_1", "a_2"]);
        assert_eq!(splits["valid"], vec!["b_1"]);
        assert_eq!(splits["test"], vec!["c_1", "c_2"]);
    }

    #[test]
    fn an_id_in_two_splits_or_no_split_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_split_dir(dir.path()).is_err());
        std::fs::write(dir.path().join("train_split.txt"), "a_1\n").unwrap();
        std::fs::write(dir.path().join("test_split.txt"), "a_1\n").unwrap();
        let err = read_split_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("a_1 is listed in both"), "{err}");
        assert!(read_split_dir(&dir.path().join("missing")).is_err());
    }
}
