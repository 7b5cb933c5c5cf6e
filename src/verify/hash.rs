//! Hashing files in parallel: each worker keeps one [`Reader`] and feeds the exact delivered
//! bytes (the first gzip member inflated, or the plain file) to SHA-256 piece by piece, so the
//! content is hashed while it is still in cache and never held whole.

use crate::source::{Exact, Input, Reader};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// What reading one file gave.
#[derive(Debug, Clone)]
pub struct Hashed {
    /// SHA-256 of the content.
    pub sha256: [u8; 32],
    /// Sizes and trailing bytes.
    pub exact: Exact,
    /// The content itself, when asked for (digests, which are small).
    pub content: Option<Vec<u8>>,
}

/// Why a file gave no hash.
#[derive(Debug, Clone)]
pub enum HashError {
    /// The OS refused: the file could not be examined (an error of the run, not evidence).
    Io(String),
    /// The content is damaged (a corrupt gzip stream) or over the size cap.
    Content(String),
}

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashError::Io(e) | HashError::Content(e) => f.write_str(e),
        }
    }
}

/// Reads and hashes one file.
pub fn hash_one(reader: &mut Reader, path: &Path, keep: bool) -> Result<Hashed, HashError> {
    let mut sha = Sha256::new();
    let mut content = keep.then(Vec::new);
    let result = reader.exact(&Input::Path(path.to_path_buf()), &mut |piece| {
        sha.update(piece);
        if let Some(c) = content.as_mut() {
            c.extend_from_slice(piece);
        }
    });
    match result {
        Ok(exact) => Ok(Hashed { sha256: sha.finalize().into(), exact, content }),
        Err(crate::source::ReadError::Io(e)) => Err(HashError::Io(e.to_string())),
        Err(e) => Err(HashError::Content(e.to_string())),
    }
}

/// Hashes `paths` on `threads` worker threads, results in the order of `paths`. Each worker
/// thread has its own reader (its buffers live as long as the run). Once `stop` is set, the
/// files not yet started give [`HashError::Io`].
pub fn hash_all(
    paths: &[PathBuf],
    keep: bool,
    threads: usize,
    limit: u64,
    stop: &AtomicBool,
) -> Vec<Result<Hashed, HashError>> {
    let threads = threads.max(1);
    let readers: Vec<Mutex<Reader>> =
        (0..threads).map(|_| Mutex::new(Reader::new(limit))).collect();
    let work = || {
        paths
            .par_iter()
            .map(|path| {
                if stop.load(Ordering::Relaxed) {
                    return Err(HashError::Io("interrupted".into()));
                }
                let i = rayon::current_thread_index().unwrap_or(0) % readers.len();
                let mut reader =
                    readers[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                hash_one(&mut reader, path, keep)
            })
            .collect()
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}
