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

/// A file opened by [`Reader::open`].
pub enum Opened<'a> {
    /// Read whole.
    Whole(Loaded<'a>),
    /// Too large to hold: read as a stream.
    Stream(Streamed),
}

/// The text of a large file, as a stream ([`super::stream::Records`] splits it).
pub struct Streamed {
    /// The inflated text (BOM included).
    pub text: Box<dyn Read + Send>,
    /// Whether the file was gzip.
    pub compressed: bool,
    /// Bytes read from the disk so far.
    pub disk: Counter,
    /// The decompressed-size cap.
    pub limit: u64,
}

/// A byte count shared with the reader that counts.
#[derive(Debug, Clone, Default)]
pub struct Counter(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Counter {
    fn add(&self, n: u64) {
        self.0.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The count.
    #[must_use]
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    count: Counter,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.add(n as u64);
        Ok(n)
    }
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
    /// Inflated size past which [`Reader::open`] streams the file ([`super::stream`]).
    stream_from: u64,
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
            stream_from: u64::MAX,
        }
    }

    /// A reader whose [`Reader::open`] streams files past `threshold` bytes (inflated).
    #[must_use]
    pub fn streaming(limit: u64, threshold: u64) -> Reader {
        Reader { stream_from: threshold.min(limit), ..Reader::new(limit) }
    }

    /// Opens `input`: its text in memory when it is small enough, else a stream of its
    /// (inflated) text, so that no buffer holds the whole of a large file. `Err` means nothing
    /// usable was read.
    pub fn open(&mut self, input: &Input) -> Result<Opened<'_>, ReadError> {
        if self.stream_from >= self.limit {
            return self.load(input).map(Opened::Whole);
        }
        let threshold = self.stream_from;
        self.raw.clear();
        let source: Box<dyn Read + Send> = match input {
            Input::Stdin => {
                let mut stdin = io::stdin();
                (&mut stdin).take(threshold + 1).read_to_end(&mut self.raw)?;
                if self.raw.len() as u64 <= threshold {
                    return self.whole_or_stream();
                }
                let head = io::Cursor::new(std::mem::take(&mut self.raw));
                Box::new(head.chain(stdin))
            }
            Input::Path(path) => {
                let file = std::fs::File::open(path)?;
                let md = file.metadata()?;
                if md.is_dir() {
                    return Err(ReadError::Io(io::Error::other("is a directory")));
                }
                // Over the cap as it is: over it decompressed too (see `read_raw`).
                if md.is_file() && md.len() > self.limit {
                    return Err(ReadError::TooLarge { limit: self.limit });
                }
                if !md.is_file() || md.len() <= threshold {
                    (&file).take(threshold + 1).read_to_end(&mut self.raw)?;
                    if self.raw.len() as u64 <= threshold {
                        return self.whole_or_stream();
                    }
                    let head = io::Cursor::new(std::mem::take(&mut self.raw));
                    Box::new(head.chain(file))
                } else {
                    Box::new(io::BufReader::with_capacity(1 << 20, file))
                }
            }
        };
        let mut source = io::BufReader::with_capacity(1 << 16, source);
        let head = io::BufRead::fill_buf(&mut source)?;
        if head.is_empty() {
            return Err(ReadError::Empty);
        }
        let compressed = head.starts_with(&GZIP_MAGIC);
        let disk = Counter::default();
        let counted = Counted { inner: source, count: disk.clone() };
        let text: Box<dyn Read + Send> = if compressed {
            Box::new(MultiGzDecoder::new(io::BufReader::new(counted)))
        } else {
            Box::new(counted)
        };
        Ok(Opened::Stream(Streamed { text, compressed, disk, limit: self.limit }))
    }

    /// The text of `raw` (read whole, at most the streaming threshold) in memory, unless it
    /// inflates past the threshold: then a stream over it.
    fn whole_or_stream(&mut self) -> Result<Opened<'_>, ReadError> {
        let disk_bytes = self.raw.len() as u64;
        if self.raw.is_empty() {
            return Err(ReadError::Empty);
        }
        if !self.raw.starts_with(&GZIP_MAGIC) {
            let data = strip_bom(&self.raw);
            return Ok(Opened::Whole(Loaded { data, compressed: false, disk_bytes, error: None }));
        }
        let limit = self.limit;
        self.limit = self.stream_from;
        let inflated = self.inflate();
        self.limit = limit;
        let error = match inflated {
            Err(ReadError::TooLarge { .. }) => {
                // What was inflated is dropped, not kept for the stream's whole life.
                self.inflated = Vec::new();
                self.inflated_len = 0;
                return Ok(Opened::Stream(self.stream_read_bytes()));
            }
            Err(e) => return Err(e),
            Ok(error) => error,
        };
        if self.inflated_len == 0 && error.is_none() {
            return Err(ReadError::Empty);
        }
        let data = strip_bom(&self.inflated[..self.inflated_len]);
        Ok(Opened::Whole(Loaded { data, compressed: true, disk_bytes, error }))
    }

    /// A stream over the compressed bytes read whole (they inflate past the threshold).
    fn stream_read_bytes(&mut self) -> Streamed {
        let raw = std::mem::take(&mut self.raw);
        let disk = Counter::default();
        disk.add(raw.len() as u64);
        Streamed {
            text: Box::new(MultiGzDecoder::new(io::Cursor::new(raw))),
            compressed: true,
            disk,
            limit: self.limit,
        }
    }

    /// Reads the bytes of `input` into `raw`, at most one past the cap.
    fn read_raw(&mut self, input: &Input) -> Result<(), ReadError> {
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
        Ok(())
    }

    /// Reads `input` whole. `Err` means nothing usable was read.
    pub fn load(&mut self, input: &Input) -> Result<Loaded<'_>, ReadError> {
        self.read_raw(input)?;
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

/// A file's bytes exactly as they were delivered, for integrity checks ([`Reader::exact`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exact {
    /// Whether the file was gzip.
    pub compressed: bool,
    /// Bytes read from the disk.
    pub disk_bytes: u64,
    /// Bytes of content handed to the sink (the first gzip member inflated, or the file).
    pub content_bytes: u64,
    /// Bytes on disk after the end of the first gzip member (0 for a plain file).
    pub trailing: u64,
}

impl Reader {
    /// Reads `input` and feeds its content to `sink` in pieces, byte for byte as delivered:
    /// the first gzip member inflated (nothing removed, no BOM stripped), or the whole file when
    /// it is not gzip; an empty file is empty content. [`Exact::trailing`] counts the bytes
    /// after the first member exactly: libdeflate does not say where a member ends, so its
    /// one-shot inflate is used only when the member's trailer provably ends the file
    /// (`exact_fast`), and the streaming decoder reads everything else. `Err` when the file
    /// cannot be read or its first member is damaged.
    pub fn exact(
        &mut self,
        input: &Input,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<Exact, ReadError> {
        self.read_raw(input)?;
        let disk_bytes = self.raw.len() as u64;
        if disk_bytes > self.limit {
            return Err(ReadError::TooLarge { limit: self.limit });
        }
        if !self.raw.starts_with(&GZIP_MAGIC) {
            sink(&self.raw);
            return Ok(Exact {
                compressed: false,
                disk_bytes,
                content_bytes: disk_bytes,
                trailing: 0,
            });
        }
        if let Some(size) = self.exact_fast() {
            sink(&self.inflated[..size]);
            let content_bytes = size as u64;
            return Ok(Exact { compressed: true, disk_bytes, content_bytes, trailing: 0 });
        }
        const PIECE: usize = 256 << 10;
        if self.inflated.len() < PIECE {
            self.inflated.resize(PIECE, 0);
        }
        let mut decoder = flate2::bufread::GzDecoder::new(&self.raw[..]);
        let mut content = 0u64;
        loop {
            let n = match decoder.read(&mut self.inflated[..PIECE]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::Gzip(e.to_string(), content as usize)),
            };
            content += n as u64;
            if content > self.limit {
                return Err(ReadError::TooLarge { limit: self.limit });
            }
            sink(&self.inflated[..n]);
        }
        let trailing = decoder.into_inner().len() as u64;
        Ok(Exact { compressed: true, disk_bytes, content_bytes: content, trailing })
    }
}

impl Reader {
    /// The fast path of [`Reader::exact`]: libdeflate inflates the first member (checking it
    /// against its own trailer) into a buffer sized by the file's last four bytes. That member
    /// ends where its 8-byte trailer (CRC-32 and size of what was inflated) does; when those 8
    /// bytes occur in the file only at its very end, the member ends there, and no byte follows
    /// it. Anything else (a second member, bytes appended, those 8 bytes by chance inside the
    /// compressed data) goes through the streaming decoder, which says exactly. `Some(size)`:
    /// the content is `inflated[..size]`.
    fn exact_fast(&mut self) -> Option<usize> {
        let n = self.raw.len();
        if n < 18 {
            return None;
        }
        let tail: [u8; 4] = self.raw[n - 4..].try_into().ok()?;
        let size = u32::from_le_bytes(tail);
        if size == 0 || u64::from(size) > self.limit {
            return None;
        }
        let size = usize::try_from(size).ok()?;
        if self.inflated.len() < size {
            self.inflated.resize(size, 0);
        }
        let out = &mut self.inflated[..size];
        if !matches!(self.decompressor.gzip_decompress(&self.raw, out), Ok(got) if got == size) {
            return None;
        }
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&libdeflater::crc32(out).to_le_bytes());
        trailer[4..].copy_from_slice(&tail);
        (memchr::memmem::find(&self.raw, &trailer) == Some(n - 8)).then_some(size)
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

    fn exact_bytes(bytes: &[u8]) -> Result<(Vec<u8>, Exact), String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, bytes).unwrap();
        let mut out = Vec::new();
        let e = Reader::new(1 << 20)
            .exact(&Input::Path(p), &mut |b| out.extend_from_slice(b))
            .map_err(|e| e.to_string())?;
        Ok((out, e))
    }

    #[test]
    fn exact_first_member_and_trailing_bytes() {
        let text = b"\xef\xbb\xbf{\"a\":1}".repeat(100_000);
        let (data, e) = exact_bytes(&gz(&text)).unwrap();
        assert_eq!(data, text, "every byte, BOM included, across pieces");
        assert_eq!((e.compressed, e.trailing, e.content_bytes), (true, 0, text.len() as u64));
        let mut two = gz(b"[1]");
        let first = two.len() as u64;
        two.extend(gz(b"[2]"));
        let (data, e) = exact_bytes(&two).unwrap();
        assert_eq!(data, b"[1]");
        assert_eq!(e.trailing, two.len() as u64 - first);
        let mut junk = gz(b"[1]");
        junk.extend(b"x\x03\0\0\0");
        assert_eq!(exact_bytes(&junk).unwrap().1.trailing, 5);
        // Junk that ends with a copy of the member's own trailer (CRC and size): the fast path
        // cannot tell where the member ends, and leaves it to the streaming decoder.
        let one = gz(b"[1]");
        let mut forged = one.clone();
        forged.extend(b"appended");
        forged.extend_from_slice(&one[one.len() - 8..]);
        let (data, e) = exact_bytes(&forged).unwrap();
        assert_eq!((data.as_slice(), e.trailing), (&b"[1]"[..], 16));
        let mut r = Reader::new(1 << 20);
        r.raw = forged;
        assert_eq!(r.exact_fast(), None);
        r.raw = one;
        assert_eq!(r.exact_fast(), Some(3));
        let (data, e) = exact_bytes(b"plain").unwrap();
        assert_eq!((data.as_slice(), e.compressed, e.trailing), (&b"plain"[..], false, 0));
        assert_eq!(exact_bytes(b"").unwrap().0, b"");
        let whole = gz(&b"{\"Records\":[]}".repeat(50));
        assert!(exact_bytes(&whole[..whole.len() / 2]).is_err());
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
