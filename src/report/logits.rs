//! A stage's raw class logits on one fold's training split (`train_logits.parquet`): what a
//! distilled stage trains against. Columns `utterance_id` (utf8) and `logits` (list<f32>, class
//! order). It lives in the producing stage's fold folder, never in the user's data.

use std::path::Path;

use anyhow::Context;
use polars::prelude::*;

pub const TRAIN_LOGITS: &str = "train_logits.parquet";

/// Write one row per utterance.
pub fn write_logits(path: &Path, rows: &[(String, Vec<f32>)]) -> anyhow::Result<()> {
    let logits: Vec<Series> = rows
        .iter()
        .map(|(_, l)| Series::new(PlSmallStr::EMPTY, l.as_slice()))
        .collect();
    let mut logits = Series::new("logits".into(), logits);
    if rows.is_empty() {
        logits = logits.cast(&DataType::List(Box::new(DataType::Float32)))?;
    }
    let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let mut df = DataFrame::new(vec![Column::new("utterance_id".into(), ids), logits.into()])?;
    super::parquet::write_parquet(path, &mut df)
}

/// Every row of a file written by [`write_logits`], with errors naming the file.
pub fn read_logits(path: &Path) -> anyhow::Result<Vec<(String, Vec<f32>)>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let df = ParquetReader::new(file)
        .finish()
        .with_context(|| format!("{}: not a readable parquet file", path.display()))?;
    let column = |name: &str| {
        df.column(name)
            .with_context(|| format!("{}: no column `{name}`", path.display()))
    };
    let ids = column("utterance_id")?
        .str()
        .with_context(|| format!("{}: `utterance_id` is not utf8", path.display()))?;
    let logits = column("logits")?
        .list()
        .with_context(|| format!("{}: `logits` is not a list", path.display()))?;
    ids.into_iter()
        .zip(logits)
        .map(|(id, row)| {
            let (Some(id), Some(row)) = (id, row) else {
                anyhow::bail!("{}: a row without an id or logits", path.display());
            };
            let values = row
                .f32()
                .with_context(|| format!("{}: `logits` is not a list of f32", path.display()))?
                .into_no_null_iter()
                .collect();
            Ok((id.to_string(), values))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn logits_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.parquet");
        let rows = vec![
            ("a".to_string(), vec![1.5f32, -2.0, 0.25]),
            ("b".to_string(), vec![0.0, 3.0, -1.0]),
        ];
        super::write_logits(&path, &rows).unwrap();
        assert_eq!(super::read_logits(&path).unwrap(), rows);
        let err = super::read_logits(&dir.path().join("missing.parquet")).unwrap_err();
        assert!(format!("{err:#}").contains("missing.parquet"), "{err:#}");
    }
}
