//! Find where a dotted key is written in a TOML document, for error messages.

use toml::de::{DeTable, DeValue};

/// 1-based (line, column) of the key at `path` in `text`, following nested tables, dotted keys
/// and inline tables. `None` when the file does not set it.
pub fn locate_key(text: &str, path: &[String]) -> Option<(usize, usize)> {
    let root = DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let (last, parents) = path.split_last()?;
    for part in parents {
        let (_, value) = table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == part.as_str())?;
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            // Arrays of tables and scalars: the parent is as close as we can point.
            _ => return Some(line_col(text, value.span().start)),
        }
    }
    let (key, _) = table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == last.as_str())?;
    Some(line_col(text, key.span().start))
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(path: &str) -> Vec<String> {
        path.split('.').map(String::from).collect()
    }

    #[test]
    fn finds_keys_in_tables_dotted_keys_and_inline_tables() {
        let text = "name = \"x\"\n\n[train]\nepochs = 3\noptimizer = { kind = \"adamw\", lr = 0.1 }\n\n[dataset]\nsynthetic.seed = 4\n";
        assert_eq!(locate_key(text, &key("name")), Some((1, 1)));
        assert_eq!(locate_key(text, &key("train.epochs")), Some((4, 1)));
        assert_eq!(locate_key(text, &key("train.optimizer.lr")), Some((5, 31)));
        assert_eq!(
            locate_key(text, &key("dataset.synthetic.seed")),
            Some((8, 11))
        );
        assert_eq!(locate_key(text, &key("train.batch_size")), None);
    }
}
