//! A content-addressed store of frozen encoders' outputs, shared by folds, stages, epochs, runs
//! and experiments.
//!
//! An entry is one utterance's output (`[dim]` pooled or `[tokens, dim]` as a sequence) under
//! `<root>/<encoder key>/<item key[..2]>/<item key>.feat`. The encoder key hashes everything that
//! changes the output (weights, config, layer, pooling, tokenizer, emo-run's version); the item
//! key hashes the model input itself (the text, or the processed samples), so an edited
//! transcript or a re-cut clip misses instead of returning a stale vector.
//!
//! The format is our own rather than `.npy` because an entry must prove it is whole: a
//! process killed mid-write, a full disk or a flipped bit must read as a miss and be recomputed,
//! never as a wrong feature. Each file ends with a blake3 hash of everything before it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const MAGIC: &[u8; 8] = b"EMOFEAT1";
const HASH_LEN: usize = 32;

pub use crate::data::feature::CachedFeature;

impl CachedFeature {
    /// Serialised form: magic, rank (u32), dims (u64 each), values (f32 LE), blake3 of the rest.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(12 + 8 * self.shape.len() + 4 * self.values.len() + HASH_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.shape.len() as u32).to_le_bytes());
        for &d in &self.shape {
            out.extend_from_slice(&(d as u64).to_le_bytes());
        }
        for &v in &self.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let hash = blake3::hash(&out);
        out.extend_from_slice(hash.as_bytes());
        out
    }

    /// The entry in `bytes`, or why it is unusable.
    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let body_len = bytes
            .len()
            .checked_sub(HASH_LEN)
            .ok_or("shorter than its checksum")?;
        let (body, hash) = bytes.split_at(body_len);
        if blake3::hash(body).as_bytes() != hash {
            return Err("checksum mismatch".into());
        }
        let rest = body.strip_prefix(MAGIC).ok_or("not a feature file")?;
        let (rank, mut rest) = rest.split_at_checked(4).ok_or("truncated header")?;
        let rank = u32::from_le_bytes(rank.try_into().expect("4 bytes")) as usize;
        let mut shape = Vec::with_capacity(rank);
        for _ in 0..rank {
            let (dim, tail) = rest.split_at_checked(8).ok_or("truncated shape")?;
            shape.push(u64::from_le_bytes(dim.try_into().expect("8 bytes")) as usize);
            rest = tail;
        }
        let count: usize = shape.iter().product();
        if rest.len() != 4 * count {
            return Err(format!("{} value bytes for shape {shape:?}", rest.len()));
        }
        let values = rest
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        Ok(Self { shape, values })
    }
}

/// Hits, misses and unusable entries seen by one cache handle.
#[derive(Debug, Default)]
pub struct CacheStats {
    hits: AtomicUsize,
    misses: AtomicUsize,
    corrupt: AtomicUsize,
}

impl CacheStats {
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
    pub fn misses(&self) -> usize {
        self.misses.load(Ordering::Relaxed)
    }
    /// Entries that existed but could not be read (also counted as misses).
    pub fn corrupt(&self) -> usize {
        self.corrupt.load(Ordering::Relaxed)
    }
}

/// The entries of one encoder configuration.
#[derive(Debug)]
pub struct FeatureCache {
    dir: PathBuf,
    pub stats: CacheStats,
}

impl FeatureCache {
    /// The cache of the encoder whose fingerprint is `encoder_key`, under `root`.
    pub fn open(root: &Path, encoder_key: &blake3::Hash) -> anyhow::Result<Self> {
        let dir = root.join(&encoder_key.to_hex()[..32]);
        fs::create_dir_all(&dir).map_err(|e| {
            anyhow::anyhow!("creating the feature cache folder {}: {e}", dir.display())
        })?;
        Ok(Self {
            dir,
            stats: CacheStats::default(),
        })
    }

    /// The cache of `encoder_key` if its folder exists (an experiment has stored or announced
    /// that form of the encoder's output), without creating it.
    pub fn existing(root: &Path, encoder_key: &blake3::Hash) -> Option<Self> {
        let dir = root.join(&encoder_key.to_hex()[..32]);
        dir.is_dir().then(|| Self {
            dir,
            stats: CacheStats::default(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This encoder's lock: held while a process computes entries, so that others wait and
    /// read them instead of computing them too.
    pub fn lock(&self, what: &str) -> anyhow::Result<crate::lock::FileLock> {
        crate::lock::FileLock::acquire(&self.dir.join(".lock"), what)
    }

    fn entry_path(&self, key: &blake3::Hash) -> PathBuf {
        let hex = key.to_hex();
        self.dir.join(&hex[..2]).join(format!("{hex}.feat"))
    }

    /// The stored output for `key`; a missing entry is a miss, an unreadable one a miss that is
    /// logged (it will be overwritten by the recomputed value).
    pub fn get(&self, key: &blake3::Hash) -> Option<CachedFeature> {
        let path = self.entry_path(key);
        let found = match fs::read(&path) {
            Ok(bytes) => match CachedFeature::from_bytes(&bytes) {
                Ok(feature) => Some(feature),
                Err(reason) => {
                    tracing::warn!(
                        "feature cache entry {} is unusable ({reason}); recomputing it",
                        path.display()
                    );
                    self.stats.corrupt.fetch_add(1, Ordering::Relaxed);
                    None
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!("reading {}: {e}; recomputing it", path.display());
                self.stats.corrupt.fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        let counter = if found.is_some() {
            &self.stats.hits
        } else {
            &self.stats.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Store `feature` under `key`, atomically (a reader never sees half an entry).
    pub fn put(&self, key: &blake3::Hash, feature: &CachedFeature) -> anyhow::Result<()> {
        let path = self.entry_path(key);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        crate::atomic::write_atomic(&path, &feature.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature() -> CachedFeature {
        CachedFeature::new(vec![2, 3], vec![0.5, -1.0, 2.25, 3.0, 1e-7, f32::MAX])
    }

    #[test]
    fn entries_round_trip_and_count_hits_and_misses() {
        let root = tempfile::tempdir().unwrap();
        let cache = FeatureCache::open(root.path(), &blake3::hash(b"encoder")).unwrap();
        let key = blake3::hash(b"utterance");
        assert_eq!(cache.get(&key), None);
        cache.put(&key, &feature()).unwrap();
        assert_eq!(cache.get(&key), Some(feature()));
        assert_eq!((cache.stats.hits(), cache.stats.misses()), (1, 1));
        assert_eq!(cache.stats.corrupt(), 0);
    }

    #[test]
    fn a_damaged_or_truncated_entry_reads_as_a_miss() {
        let root = tempfile::tempdir().unwrap();
        let cache = FeatureCache::open(root.path(), &blake3::hash(b"encoder")).unwrap();
        let key = blake3::hash(b"utterance");
        cache.put(&key, &feature()).unwrap();
        let path = cache.entry_path(&key);
        let mut bytes = fs::read(&path).unwrap();
        bytes[20] ^= 0x40;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.get(&key), None);
        fs::write(&path, &bytes[..10]).unwrap();
        assert_eq!(cache.get(&key), None);
        assert_eq!(cache.stats.corrupt(), 2);
        cache.put(&key, &feature()).unwrap();
        assert_eq!(cache.get(&key), Some(feature()));
    }

    #[test]
    fn different_encoders_do_not_share_entries() {
        let root = tempfile::tempdir().unwrap();
        let a = FeatureCache::open(root.path(), &blake3::hash(b"a")).unwrap();
        let b = FeatureCache::open(root.path(), &blake3::hash(b"b")).unwrap();
        let key = blake3::hash(b"utterance");
        a.put(&key, &feature()).unwrap();
        assert_eq!(b.get(&key), None);
    }
}
