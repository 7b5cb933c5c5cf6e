//! Reading a file into memory and inflating it.
//!
//! A worker keeps two buffers for its whole life and reuses them file after file. Gzip is
//! recognised by its magic bytes, never by the file name. The fast path inflates a whole
//! single-member gzip file at once with libdeflate, sized by the gzip trailer; anything else
//! (multi-member files, trailers that lie, files over 4 GiB) goes through a streaming
//! multi-member decoder. Both stop at a size cap, so a gzip bomb costs bounded memory and time.

use super::walk::Input;
use flate2::read::MultiGzDecoder;
use std::io::{self, Read};

/// Why a file could not be (fully) read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The OS refused (missing, permission, a directory...).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Zero bytes, or a gzip of nothing.
    #[error("empty file")]
    Empty,
    /// The inflated size passes the cap.
    #[error("larger than the {limit}-byte limit once decompressed (--max-file-size)")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The gzip stream is corrupt or cut short; what inflated before the damage is kept.
    #[error("corrupt or truncated gzip data ({0}); {1} bytes recovered before it")]
    Gzip(String, usize),
}

/// Reads and inflates files; one per worker thread.
pub struct Reader {
    raw: Vec<u8>,
    inflated: Vec<u8>,
    /// How much of `inflated` holds the current file (the buffer itself only grows, so it is
    /// not zeroed again for every file).
    inflated_len: usize,
    decompressor: libdeflater::Decompressor,
    limit: u64,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: [u8; 3] = [0xef, 0xbb, 0xbf];

/// The bytes of a file, and what went wrong, if anything, while reading them.
pub struct Loaded<'a> {
    /// The document text (BOM removed). After a gzip error it holds what was recovered.
    pub data: &'a [u8],
    /// Whether the file was gzip.
    pub compressed: bool,
    /// Bytes read from the disk.
    pub disk_bytes: u64,
    /// A problem that leaves `data` incomplete.
    pub error: Option<ReadError>,
}

impl Reader {
    /// A reader that refuses files larger than `limit` bytes once decompressed.
    #[must_use]
    pub fn new(limit: u64) -> Reader {
        Reader {
            raw: Vec::new(),
            inflated: Vec::new(),
            inflated_len: 0,
            decompressor: libdeflater::Decompressor::new(),
            limit,
        }
    }

    /// Reads `input` whole. `Err` means nothing usable was read.
    pub fn load(&mut self, input: &Input) -> Result<Loaded<'_>, ReadError> {
        self.raw.clear();
        match input {
            Input::Stdin => {
                io::stdin().lock().take(self.limit + 1).read_to_end(&mut self.raw)?;
            }
            Input::Path(path) => {
                let file = std::fs::File::open(path)?;
                let md = file.metadata()?;
                if md.is_dir() {
                    return Err(ReadError::Io(io::Error::other("is a directory")));
                }
                // A compressed file is at most ~1/1000 of what it inflates to, a plain file is
                // what it is: either way a file this large is over the cap.
                if md.is_file() && md.len() > self.limit {
                    return Err(ReadError::TooLarge { limit: self.limit });
                }
                (&file).take(self.limit + 1).read_to_end(&mut self.raw)?;
            }
        }
        let disk_bytes = self.raw.len() as u64;
        if self.raw.is_empty() {
            return Err(ReadError::Empty);
        }
        if !self.raw.starts_with(&GZIP_MAGIC) {
            if disk_bytes > self.limit {
                return Err(ReadError::TooLarge { limit: self.limit });
            }
            let data = strip_bom(&self.raw);
            return Ok(Loaded { data, compressed: false, disk_bytes, error: None });
        }
        let error = self.inflate()?;
        if self.inflated_len == 0 && error.is_none() {
            return Err(ReadError::Empty);
        }
        let data = strip_bom(&self.inflated[..self.inflated_len]);
        Ok(Loaded { data, compressed: true, disk_bytes, error })
    }

    /// Inflates `raw` into `inflated`. `Ok(Some(e))`: partial data after a gzip error.
    fn inflate(&mut self) -> Result<Option<ReadError>, ReadError> {
        if self.fast_inflate() {
            return Ok(None);
        }
        self.inflated.clear();
        let mut decoder = MultiGzDecoder::new(&self.raw[..]).take(self.limit + 1);
        let result = decoder.read_to_end(&mut self.inflated);
        self.inflated_len = self.inflated.len();
        if self.inflated.len() as u64 > self.limit {
            return Err(ReadError::TooLarge { limit: self.limit });
        }
        match result {
            Ok(_) => Ok(None),
            Err(e) => Ok(Some(ReadError::Gzip(e.to_string(), self.inflated.len()))),
        }
    }

    /// One-shot libdeflate inflate of a single-member file; `false` = use the streaming path.
    fn fast_inflate(&mut self) -> bool {
        let raw = &self.raw;
        let n = raw.len();
        if n < 18 {
            return false;
        }
        let isize = u32::from_le_bytes([raw[n - 4], raw[n - 3], raw[n - 2], raw[n - 1]]);
        let size = u64::from(isize);
        if size > self.limit || size == 0 {
            return false;
        }
        let Ok(size) = usize::try_from(size) else { return false };
        if self.inflated.len() < size {
            self.inflated.resize(size, 0);
        }
        self.inflated_len = size;
        let out = &mut self.inflated[..size];
        // libdeflate inflates the first member and checks it against its own trailer (CRC and
        // size). The file's last four bytes giving that same size says the member's trailer
        // ends the file: trailing junk after a member would have to end in exactly its size
        // (2^-32 odds) to be missed here.
        if !matches!(self.decompressor.gzip_decompress(raw, out), Ok(got) if got == size) {
            return false;
        }
        // Unless a second member of the same size follows: a member starts with 1f 8b 08,
        // right after the first one's trailer, whose last four bytes are that size. Those
        // three bytes also turn up by chance in compressed data (about one file in a hundred
        // of real CloudTrail sizes), so only a match with the size before it sends the file
        // down the streaming path.
        !memchr::memmem::find_iter(&raw[2..], &[0x1f, 0x8b, 0x08])
            .any(|at| raw[..at + 2].ends_with(&isize.to_le_bytes()))
    }
}

fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(&UTF8_BOM[..]).unwrap_or(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn load_bytes(bytes: &[u8], limit: u64) -> Result<(Vec<u8>, Option<String>), String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, bytes).unwrap();
        let mut r = Reader::new(limit);
        r.load(&Input::Path(p))
            .map(|l| (l.data.to_vec(), l.error.map(|e| e.to_string())))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn plain_gzip_bom_and_multi_member() {
        assert_eq!(load_bytes(b"{\"a\":1}", 100).unwrap().0, b"{\"a\":1}");
        assert_eq!(load_bytes(&gz(b"{\"a\":1}"), 100).unwrap().0, b"{\"a\":1}");
        assert_eq!(load_bytes(b"\xef\xbb\xbf[1]", 100).unwrap().0, b"[1]");
        let mut two = gz(b"{\"Records\":[");
        two.extend(gz(b"{}]}"));
        assert_eq!(load_bytes(&two, 100).unwrap().0, b"{\"Records\":[{}]}");
        // Two identical members: the trailer cannot tell them apart, the header scan does.
        let mut same = gz(b"[1]\n");
        same.extend(gz(b"[1]\n"));
        assert_eq!(load_bytes(&same, 100).unwrap().0, b"[1]\n[1]\n");
        // ... and two members whose sizes differ, the first holding a member's magic bytes.
        let mut odd = gz(b"[\"\x1f\x8b\x08\"");
        odd.extend(gz(b",2]"));
        assert_eq!(load_bytes(&odd, 100).unwrap().0, b"[\"\x1f\x8b\x08\",2]");
    }

    /// A member's magic bytes inside a single member's compressed data (stored verbatim here,
    /// as they are by chance in about one file in a hundred) keep it on the fast path; a
    /// second member of the same size does not.
    #[test]
    fn magic_bytes_inside_a_member_keep_the_fast_path() {
        let stored = |data: &[u8]| {
            let mut e = GzEncoder::new(Vec::new(), Compression::none());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let text = b"{\"a\":\"\x1f\x8b\x08\x00 and more\"}";
        let one = stored(text);
        assert!(memchr::memmem::find(&one[2..], &[0x1f, 0x8b, 0x08]).is_some());
        let mut r = Reader::new(1 << 20);
        r.raw = one;
        assert!(r.fast_inflate());
        assert_eq!(&r.inflated[..r.inflated_len], text);

        let mut two = stored(text);
        two.extend(stored(text));
        r.raw = two;
        assert!(!r.fast_inflate());
        assert_eq!(r.inflate().unwrap().map(|e| e.to_string()), None);
        assert_eq!(&r.inflated[..r.inflated_len], [&text[..], &text[..]].concat());
    }

    #[test]
    fn errors() {
        assert_eq!(load_bytes(b"", 100).unwrap_err(), "empty file");
        assert_eq!(load_bytes(&gz(b""), 100).unwrap_err(), "empty file");
        let big = gz(&vec![b' '; 10_000]);
        assert!(load_bytes(&big, 1000).unwrap_err().contains("limit"));
        let whole = gz(&b"{\"Records\":[{\"eventName\":\"x\"}]}".repeat(50));
        let (data, err) = load_bytes(&whole[..whole.len() / 2], 1 << 20).unwrap();
        assert!(err.unwrap().contains("truncated"));
        assert!(data.len() < 50 * 32);
    }
}
