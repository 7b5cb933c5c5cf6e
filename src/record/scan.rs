//! A fast structural skipper over JSON text: it finds where a value ends without building or
//! checking anything. It trusts the text's lexical content (used to delimit records and to step
//! over what a projection does not need); unbalanced or cut text gives `None`, never a panic.
//!
//! Strings end at the first `"` not escaped by a backslash (a backslash escapes the next byte,
//! whatever it is). [`skip_string`] looks for `"` or `\` 16 bytes at a time ([`first_of`]), so
//! the short strings of CloudTrail records take one step.
//!
//! Objects and arrays are skipped the way simdjson's first stage finds structure, 64 bytes at a
//! time and without a branch per string:
//!
//! 1. `classify` turns the block into bit masks (bit `k` for byte `k`) of quotes, backslashes,
//!    opening and closing brackets, 16 bytes at a time (SSE2 on x86, plain Rust elsewhere:
//!    the `portable` module), or 32 at a time with AVX2, or 64 at a time with AVX-512 (the
//!    `x86` module, on x86-64 CPUs that have them, chosen at run time).
//! 2. A run of backslashes escapes every other byte from its second on, and so the byte after
//!    it when its length is odd: one carrying subtraction finds these bytes (`Escapes`); the
//!    escape of a run that ends a block falls on the next block's first byte.
//! 3. The other quotes open or close strings, so a prefix XOR of them marks the bytes inside
//!    strings (`prefix_xor`), carried from block to block.
//! 4. What is left are the brackets outside strings: the loop steps through them counting depth
//!    (`{` and `[` alike, `}` and `]` alike), stopping when it comes back to 0. (The x86
//!    skippers first count a block's closing brackets: fewer than the depth, and the block
//!    cannot end the value, so its brackets are only counted.)
//!
//! Step 2 treats every backslash as an escape, but outside a string a backslash is a plain byte
//! to the skipper. Valid JSON has none; if a block holds one, the scan starts over with the
//! byte-at-a-time loop, which gives the exact answer. The last, partial block is copied into a
//! block padded with spaces, which are inert.

/// Bytes per block of the container scan: one bit of a `u64` mask per byte.
const BLOCK: usize = 64;

/// Index just past the whitespace at `i`.
#[must_use]
pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(c) = b.get(i) {
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            break;
        }
        i += 1;
    }
    i
}

/// Whether the inside of a JSON string needs decoding (escapes) or is invalid as it is
/// (control characters): otherwise it is its own value.
///
/// Most values are short (names, ARNs, addresses), so this looks at eight bytes at a time in a
/// `u64` (the last word overlapping the one before) rather than leaving a byte loop to the
/// vectoriser, which only pays past 32 bytes.
#[must_use]
#[inline]
pub fn needs_decoding(inner: &[u8]) -> bool {
    let Some(last) = inner.last_chunk::<8>() else {
        return inner.iter().fold(false, |acc, &c| acc | (c == b'\\') | (c < 0x20));
    };
    let (words, _) = inner.as_chunks::<8>();
    let any = words.iter().fold(0, |acc, w| acc | word_needs_decoding(u64::from_le_bytes(*w)));
    (any | word_needs_decoding(u64::from_le_bytes(*last))) != 0
}

/// Nonzero when a byte of `v` is a backslash or below 0x20. Each test is the classic
/// "has a byte less than n" / "has a zero byte" trick: exact as a yes/no (a borrow can only
/// mark a byte above one that truly matches), which is all this is asked.
#[inline]
const fn word_needs_decoding(v: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES * 0x80;
    let control = v.wrapping_sub(ONES * 0x20) & !v;
    let b = v ^ (ONES * b'\\' as u64);
    let backslash = b.wrapping_sub(ONES) & !b;
    (control | backslash) & HIGHS
}

/// `b[i]` is an opening quote: index just past the closing one.
#[must_use]
#[inline]
pub fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let Some(w) = b.get(j..).and_then(<[u8]>::first_chunk) else {
            return skip_string_tail(b, j);
        };
        match first_of(w, [b'"', b'\\']) {
            None => j += PROBE,
            Some(k) if w[k] == b'"' => return Some(j + k + 1),
            Some(k) => j += k + 2,
        }
    }
}

/// [`skip_string`] from `b[j]` on, when fewer than [`PROBE`] bytes are left.
#[cold]
fn skip_string_tail(b: &[u8], mut j: usize) -> Option<usize> {
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[k] == b'"' {
            return Some(k + 1);
        }
        j = k + 2;
    }
}

/// Bytes looked at per step of [`skip_string`] (and of [`first_of`]).
pub const PROBE: usize = 16;

/// The index of the first byte of `w` that is one of `set`.
#[must_use]
#[inline]
pub fn first_of<const N: usize>(w: &[u8; PROBE], set: [u8; N]) -> Option<usize> {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2"))]
    let found = sse2::first_of(w, set);
    #[cfg(not(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2")))]
    let found = portable::first_of(w, set);
    found
}

/// The masks of a block (see [`Masks`]).
#[inline]
fn classify(block: &[u8; BLOCK]) -> Masks {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2"))]
    let masks = sse2::classify(block);
    #[cfg(not(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2")))]
    let masks = portable::classify(block);
    masks
}

/// Byte masks with SSE2 `pcmpeqb` and `pmovmskb`, through `safe_arch` (whose SSE2 functions
/// are safe to call anywhere: `core::arch` needs `unsafe` for SSE2 outside functions compiled
/// for a CPU feature).
#[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2"))]
mod sse2 {
    use super::{BLOCK, Masks, PROBE};
    use safe_arch::{
        cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i, set_splat_i8_m128i,
        zeroed_m128i,
    };

    #[inline]
    pub fn first_of<const N: usize>(w: &[u8; PROBE], set: [u8; N]) -> Option<usize> {
        let m = mask(w, set);
        (m != 0).then(|| m.trailing_zeros() as usize)
    }

    /// The bytes of `w` that are one of `set`, as a mask: bit `k` for `w[k]`. One `pcmpeqb`
    /// per byte of `set`, `por`s and a `pmovmskb`.
    #[inline]
    pub fn mask<const N: usize>(w: &[u8; PROBE], set: [u8; N]) -> u32 {
        let v = load_unaligned_m128i(w);
        let hit = set.iter().fold(zeroed_m128i(), |acc, &c| {
            acc | cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(c.cast_signed()))
        });
        move_mask_i8_m128i(hit).cast_unsigned()
    }

    #[inline]
    pub fn classify(block: &[u8; BLOCK]) -> Masks {
        let mut m = Masks { quote: 0, backslash: 0, open: 0, close: 0 };
        for (h, part) in block.as_chunks::<PROBE>().0.iter().enumerate() {
            let at = PROBE * h;
            m.quote |= u64::from(mask(part, [b'"'])) << at;
            m.backslash |= u64::from(mask(part, [b'\\'])) << at;
            m.open |= u64::from(mask(part, [b'{', b'['])) << at;
            m.close |= u64::from(mask(part, [b'}', b']'])) << at;
        }
        m
    }
}

/// Byte masks in plain Rust, which has no byte-to-bit "movemask". Comparison loops that LLVM
/// vectorises give 0xFF or 0 per byte; [`first_of`] reads the first hit from that as a
/// 128-bit word. `classify` gathers the bits transposed: seeing the block as 8 rows of 8
/// bytes, byte `8r + c` sets bit `8c + r` (bit `r` of byte `c` of the mask), then an 8×8
/// bit-matrix transpose puts each mask in block order (only the quotes' in most blocks).
#[cfg(any(
    test,
    not(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2"))
))]
mod portable {
    use super::{BLOCK, Masks, PROBE};

    #[inline]
    pub fn first_of<const N: usize>(w: &[u8; PROBE], set: [u8; N]) -> Option<usize> {
        let mut hit = [0u8; PROBE];
        for (h, &c) in hit.iter_mut().zip(w) {
            *h = 0u8.wrapping_sub(set.iter().fold(0u8, |acc, &s| acc | u8::from(c == s)));
        }
        let m = u128::from_le_bytes(hit);
        (m != 0).then(|| m.trailing_zeros() as usize / 8)
    }

    /// `WEIGHT[h][k]`: the bit that byte `16h + k` of a block sets in byte `k % 8` of its
    /// transposed mask, `1 << r` for block byte `8r + c`.
    const WEIGHT: [[u8; 16]; 4] = {
        let mut w = [[0u8; 16]; 4];
        let mut h = 0;
        while h < 4 {
            let mut k = 0;
            while k < 16 {
                w[h][k] = 1 << (2 * h + k / 8);
                k += 1;
            }
            h += 1;
        }
        w
    };

    #[inline]
    pub fn classify(block: &[u8; BLOCK]) -> Masks {
        let mut quote = [0u8; 16];
        let mut backslash = [0u8; 16];
        let mut open = [0u8; 16];
        let mut close = [0u8; 16];
        for (part, weight) in block.as_chunks::<16>().0.iter().zip(&WEIGHT) {
            for k in 0..16 {
                let (c, w) = (part[k], weight[k]);
                let folded = c | 0x20; // `[` -> `{`, `]` -> `}`
                quote[k] |= w & 0u8.wrapping_sub(u8::from(c == b'"'));
                backslash[k] |= w & 0u8.wrapping_sub(u8::from(c == b'\\'));
                open[k] |= w & 0u8.wrapping_sub(u8::from(folded == b'{'));
                close[k] |= w & 0u8.wrapping_sub(u8::from(folded == b'}'));
            }
        }
        let in_order = |t: [u8; 16]| match fold(t) {
            0 => 0,
            t => transpose8(t),
        };
        Masks {
            quote: transpose8(fold(quote)),
            backslash: in_order(backslash),
            open: in_order(open),
            close: in_order(close),
        }
    }

    /// Bytes `k` and `k + 8` of `a` OR-ed together, as a word.
    #[inline]
    fn fold(a: [u8; 16]) -> u64 {
        let x = u128::from_le_bytes(a);
        (x as u64) | ((x >> 64) as u64)
    }

    /// Transposes the 8×8 bit matrix whose row `r` is byte `r` of `x`: bit `8r + c` goes to
    /// bit `8c + r` (Hacker's Delight, 7-3).
    #[inline]
    pub fn transpose8(mut x: u64) -> u64 {
        let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
        x ^= t ^ (t << 7);
        let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
        x ^= t ^ (t << 14);
        let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
        x ^ t ^ (t << 28)
    }
}

/// Index just past the value that starts at `i` (no leading whitespace).
#[must_use]
pub fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => skip_container(b, i),
        _ => {
            let n = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(b.len() - i);
            (n > 0).then_some(i + n)
        }
    }
}

/// `b[i]` is `{` or `[`: index just past the bracket that closes it, by blocks (see the module
/// documentation). On x86-64 CPUs with AVX2, PCLMULQDQ, POPCNT and BMI1 (checked at run time),
/// with wider masks, a carry-less multiplication for the prefix XOR and bracket counts, and
/// with AVX-512 where the CPU has it (the `x86` module).
#[inline]
fn skip_container(b: &[u8], i: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(end) = x86::skip_container(b, i) {
        return end;
    }
    skip_container_plain(b, i)
}

/// Defines a container skipper (see [`skip_container`]) from a block classifier and a prefix
/// XOR: one body for the baseline build and for the AVX2 one, whose target features must be
/// on the function itself for the intrinsics it inlines.
macro_rules! container_skipper {
    ($(#[$attr:meta])* fn $name:ident, $classify:path, $prefix_xor:path, $deep:literal) => {
        $(#[$attr])*
        fn $name(b: &[u8], i: usize) -> Option<usize> {
            let mut depth = 0usize;
            // All ones when the previous block ended inside a string.
            let mut in_string = 0u64;
            let mut escapes = Escapes::default();
            let mut pos = i;
            loop {
                let padded;
                let (block, last) = match b.get(pos..).and_then(<[u8]>::first_chunk::<BLOCK>) {
                    Some(block) => (block, false),
                    None => {
                        padded = pad(b.get(pos..)?);
                        (&padded, true)
                    }
                };
                let m = $classify(block);
                let escaped = escapes.next(m.backslash);
                let inside = $prefix_xor(m.quote & !escaped) ^ in_string;
                if m.backslash & !inside != 0 {
                    // A backslash outside a string (not JSON): the escapes above may be wrong.
                    return skip_container_bytewise(b, i);
                }
                in_string = 0u64.wrapping_sub(inside >> 63);
                let opens = m.open & !inside;
                if $deep {
                    let closes = m.close & !inside;
                    let (o, c) = (opens.count_ones() as usize, closes.count_ones() as usize);
                    if c < depth {
                        depth = depth + o - c;
                        if last {
                            return None;
                        }
                        pos += BLOCK;
                        continue;
                    }
                }
                let mut brackets = (m.open | m.close) & !inside;
                while brackets != 0 {
                    let k = brackets.trailing_zeros();
                    if opens >> k & 1 != 0 {
                        depth += 1;
                    } else {
                        depth -= 1;
                        if depth == 0 {
                            return Some(pos + k as usize + 1);
                        }
                    }
                    brackets &= brackets - 1;
                }
                if last {
                    return None;
                }
                pos += BLOCK;
            }
        }
    };
}

container_skipper!(
    /// [`skip_container`] with the baseline instructions.
    fn skip_container_plain, classify, prefix_xor, false
);

/// The container skippers for x86-64 CPUs with AVX2, PCLMULQDQ, POPCNT and BMI1, and for those
/// that also have AVX-512 (F and BW, on a CPU with VBMI2), chosen at run time. The AVX2 one
/// runs on nearly every x86-64 CPU made since 2013-2015 (Intel Haswell, AMD Excavator and
/// later), including every current-generation x86 EC2 instance type; the AVX-512 one on Intel
/// since Ice Lake and AMD since Zen 4 (see [`x86::LEVEL`]), where comparing a whole block at
/// once into mask registers saves the movemasks and the joining of halves (the pattern search
/// on the bench archive spends about a fifth less time in the skipper, BENCHMARKS.md).
///
/// Calling them is the crate's only `unsafe` code: calling a function compiled for CPU
/// features the baseline does not promise, after checking that this CPU has them (one
/// function, [`x86::skip_container_at`], holds both calls). The intrinsics themselves are
/// safe to call inside them (their features enable them), and a block becomes a vector by
/// `bytemuck::cast` (safe: any 32 bytes are a valid `__m256i`).
///
/// The tests check every skipper this CPU can run; to see the whole program take the baseline
/// path on such a machine, run it (or a test binary) under `qemu-x86_64 -cpu Nehalem`
/// (Debian's `qemu-user`), whose CPU has none of the features.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{BLOCK, Escapes, Masks, pad, skip_container_bytewise};
    use std::arch::x86_64::{
        __m256i, __m512i, _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_set1_epi8,
        _mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
        _mm512_castsi256_si512, _mm512_cmpeq_epi8_mask, _mm512_inserti64x4, _mm512_set1_epi8,
    };

    /// The widest skipper a CPU can run.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Level {
        /// Neither: the baseline skipper.
        Baseline,
        /// [`skip_container_avx2`].
        Avx2,
        /// [`skip_container_avx512`].
        Avx512,
    }

    /// This CPU's level (asked once).
    pub static LEVEL: std::sync::LazyLock<Level> = std::sync::LazyLock::new(|| {
        let avx2 = std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("pclmulqdq")
            && std::is_x86_feature_detected!("popcnt")
            && std::is_x86_feature_detected!("bmi1");
        // VBMI2 is not used: it marks the CPUs (Intel since Ice Lake, AMD since Zen 4) whose
        // 512-bit integer work barely lowers the core's clock. On Skylake-SP and Cascade Lake
        // it would slow the inflating that shares the core (simdjson draws the same line for
        // its AVX-512 kernel).
        let avx512 = std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vbmi2");
        match (avx2, avx512) {
            (true, true) => Level::Avx512,
            (true, false) => Level::Avx2,
            _ => Level::Baseline,
        }
    });

    /// `Some(end)`, as [`super::skip_container`] gives it, when this CPU has AVX2, PCLMULQDQ,
    /// POPCNT and BMI1; `None` otherwise (the caller takes the baseline path).
    #[inline]
    pub fn skip_container(b: &[u8], i: usize) -> Option<Option<usize>> {
        skip_container_at(*LEVEL, b, i)
    }

    /// [`skip_container`] with the skipper of `level`, which must not be above this CPU's
    /// [`LEVEL`] (a higher one is not run: `None`, as for the baseline).
    #[inline]
    #[allow(unsafe_code)]
    pub fn skip_container_at(level: Level, b: &[u8], i: usize) -> Option<Option<usize>> {
        match (level, *LEVEL) {
            // SAFETY: `skip_container_avx512` is compiled for AVX-512 F and BW, AVX2,
            // PCLMULQDQ, POPCNT and BMI1 (its `target_feature`), and `LEVEL` is `Avx512` only
            // if this CPU has all of them.
            (Level::Avx512, Level::Avx512) => Some(unsafe { skip_container_avx512(b, i) }),
            // SAFETY: `skip_container_avx2` is compiled for AVX2, PCLMULQDQ, POPCNT and BMI1,
            // and `LEVEL` is `Avx2` or `Avx512` only if this CPU has all four.
            (Level::Avx2, Level::Avx2 | Level::Avx512) => {
                Some(unsafe { skip_container_avx2(b, i) })
            }
            _ => None,
        }
    }

    container_skipper!(
        #[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
        fn skip_container_avx2, classify, prefix_xor, true
    );

    container_skipper!(
        #[target_feature(enable = "avx512f,avx512bw,avx2,pclmulqdq,popcnt,bmi1")]
        fn skip_container_avx512, classify512, prefix_xor, true
    );

    /// 32 bytes as a vector (one unaligned load).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn load(half: &[u8; 32]) -> __m256i {
        bytemuck::cast(*half)
    }

    /// The bytes of `v` equal to one of `set`, as a mask: bit `k` for byte `k`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mask<const N: usize>(v: __m256i, set: [u8; N]) -> u64 {
        let mut hit = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(set[0].cast_signed()));
        for &c in &set[1..] {
            hit = _mm256_or_si256(hit, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c.cast_signed())));
        }
        u64::from(_mm256_movemask_epi8(hit).cast_unsigned())
    }

    /// [`mask`] of a whole block, given as its two halves.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn block_mask<const N: usize>(lo: __m256i, hi: __m256i, set: [u8; N]) -> u64 {
        mask(lo, set) | mask(hi, set) << 32
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    pub fn classify(block: &[u8; BLOCK]) -> Masks {
        let (lo, hi) = block.split_at(32);
        let lo = load(lo.try_into().expect("32 bytes"));
        let hi = load(hi.try_into().expect("32 bytes"));
        Masks {
            quote: block_mask(lo, hi, [b'"']),
            backslash: block_mask(lo, hi, [b'\\']),
            open: block_mask(lo, hi, [b'{', b'[']),
            close: block_mask(lo, hi, [b'}', b']']),
        }
    }

    /// The bytes of the 64-byte `v` equal to one of `set`, as a mask: bit `k` for byte `k`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    fn mask512<const N: usize>(v: __m512i, set: [u8; N]) -> u64 {
        set.iter()
            .fold(0, |hit, &c| hit | _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c.cast_signed())))
    }

    /// [`classify`] with the whole block in one vector.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx2")]
    pub fn classify512(block: &[u8; BLOCK]) -> Masks {
        let (lo, hi) = block.split_at(32);
        let lo = load(lo.try_into().expect("32 bytes"));
        let hi = load(hi.try_into().expect("32 bytes"));
        // The compiler makes one 64-byte load of this (bytemuck has no `__m512i` on stable).
        let v = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi);
        Masks {
            quote: mask512(v, [b'"']),
            backslash: mask512(v, [b'\\']),
            open: mask512(v, [b'{', b'[']),
            close: mask512(v, [b'}', b']']),
        }
    }

    /// [`super::prefix_xor`] as one carry-less multiplication by all ones.
    #[inline]
    #[target_feature(enable = "pclmulqdq")]
    pub fn prefix_xor(x: u64) -> u64 {
        let product =
            _mm_clmulepi64_si128(_mm_set_epi64x(0, x.cast_signed()), _mm_set1_epi8(-1), 0);
        _mm_cvtsi128_si64(product).cast_unsigned()
    }
}

/// [`skip_container`] a byte at a time, jumping through strings with [`skip_string`].
fn skip_container_bytewise(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    loop {
        match *b.get(j)? {
            b'"' => {
                j = skip_string(b, j)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
}

/// The last, partial block (`rest` is shorter than a block), padded with spaces.
#[cold]
fn pad(rest: &[u8]) -> [u8; BLOCK] {
    let mut block = [b' '; BLOCK];
    block[..rest.len()].copy_from_slice(rest);
    block
}

/// One block's masks: bit `k` for byte `k`.
struct Masks {
    quote: u64,
    backslash: u64,
    /// `{` and `[`.
    open: u64,
    /// `}` and `]`.
    close: u64,
}

/// Bit `k` of the result: the XOR of bits `0..=k` of `x`.
#[inline]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^ (x << 32)
}

/// The bytes escaped by backslashes, block after block (simdjson's `json_escape_scanner`).
#[derive(Default)]
struct Escapes {
    /// 1 when the previous block ended with a backslash that escapes the next byte.
    next_is_escaped: u64,
}

impl Escapes {
    /// The mask of escaped bytes of a block, given its backslashes.
    #[inline]
    fn next(&mut self, backslash: u64) -> u64 {
        const ODD: u64 = 0xAAAA_AAAA_AAAA_AAAA;
        if backslash == 0 {
            return std::mem::take(&mut self.next_is_escaped);
        }
        // A backslash escaped from the previous block does not escape anything itself.
        let potential = backslash & !self.next_is_escaped;
        // The carrying subtraction marks, in each run of backslashes, the ones that escape the
        // next byte (at even offsets from the run's start) and, after a run of odd length, the
        // byte it escapes. XOR-ing the backslashes back in leaves every escaped byte: the
        // backslashes at odd offsets and that last byte.
        let code = (((potential << 1) | ODD).wrapping_sub(potential)) ^ ODD;
        let escaped = code ^ (backslash | self.next_is_escaped);
        self.next_is_escaped = (code & backslash) >> 63;
        escaped
    }
}

/// The byte-at-a-time skipper this module replaced, kept as the specification the tests compare
/// the fast one with.
#[cfg(test)]
mod reference {
    pub fn skip_string(b: &[u8], i: usize) -> Option<usize> {
        let mut j = i + 1;
        loop {
            let k = j + memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
            if b[k] == b'"' {
                return Some(k + 1);
            }
            j = k + 2;
        }
    }

    pub fn skip_value(b: &[u8], i: usize) -> Option<usize> {
        match *b.get(i)? {
            b'"' => skip_string(b, i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    match *b.get(j)? {
                        b'"' => {
                            j = skip_string(b, j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => {
                let n = b[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(b.len() - i);
                (n > 0).then_some(i + n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    #[test]
    fn skips_values() {
        let s = br#"{"a":"x\"}","b":[1,{"c":"]"}],"d":-1.5e3,"e":null} tail"#;
        assert_eq!(skip_value(s, 0), Some(s.len() - 5));
        assert_eq!(skip_value(b"\"a\\\\\"", 0), Some(5));
        assert_eq!(skip_value(b"123,", 0), Some(3));
        assert_eq!(skip_value(b"true", 0), Some(4));
        assert_eq!(skip_value(b"{\"a\":", 0), None);
        assert_eq!(skip_value(b"\"abc", 0), None);
        assert_eq!(skip_value(b"", 0), None);
        assert_eq!(skip_ws(b"  \n x", 0), 4);
        assert!(!needs_decoding(b"plain text, long enough to take the vector path: 0123456789"));
        assert!(needs_decoding(b"a tab\there"));
        assert!(needs_decoding(br"an escape \n"));
        // Every byte value at every place of every length up to three words, among bytes just
        // above what it tests for, and among the highest.
        for fill in [b' ', 0xff] {
            for len in 1..=24 {
                for at in 0..len {
                    for c in 0..=255u8 {
                        let mut b = vec![fill; len];
                        b[at] = c;
                        assert_eq!(
                            needs_decoding(&b),
                            c == b'\\' || c < 0x20,
                            "{c:#x} at {at} of {len}"
                        );
                    }
                }
            }
        }
        assert!(!needs_decoding(b""));
    }

    /// `skip_value` and `skip_string` agree with the reference at every index of `b` (and just
    /// past its end).
    fn agrees_everywhere(b: &[u8]) {
        for i in 0..=b.len() + 1 {
            assert_eq!(skip_value(b, i), reference::skip_value(b, i), "skip_value at {i} of {b:?}");
            if matches!(b.get(i), Some(b'{' | b'[')) {
                assert_containers_agree(b, i);
            }
            assert_eq!(
                skip_string(b, i),
                reference::skip_string(b, i),
                "skip_string at {i} of {b:?}"
            );
        }
    }

    /// Every container skipper (the baseline one and those this CPU can run: `skip_value`
    /// takes only the widest) agrees with the reference at `i`.
    fn assert_containers_agree(b: &[u8], i: usize) {
        let want = reference::skip_value(b, i);
        assert_eq!(skip_container_plain(b, i), want, "baseline skipper at {i} of {b:?}");
        #[cfg(target_arch = "x86_64")]
        for level in [x86::Level::Avx2, x86::Level::Avx512] {
            if let Some(got) = x86::skip_container_at(level, b, i) {
                assert_eq!(got, want, "{level:?} skipper at {i} of {b:?}");
            }
        }
    }

    #[test]
    fn edge_cases() {
        for s in [
            &b"{]"[..],
            b"[}",
            b"{\\\"}\"}",
            b"[\\\"]",
            b"{\"\\",
            b"{\"a\\\"",
            b"\"\\",
            b"\"",
            b"{",
            b"{}}",
            b"[[]",
            b"\\{}",
            b"{\"}\\\\\"}",
        ] {
            agrees_everywhere(s);
        }
    }

    /// Deep nesting, where whole blocks cannot bring the depth back to 0 (the x86 skippers
    /// count their brackets instead of stepping through them), with brackets in strings.
    #[test]
    fn deep_nesting() {
        for depth in [1, 2, 3, 31, 32, 33, 63, 64, 65, 200] {
            for filler in [&b""[..], b"\"]}[{\",", b"1,", b"{},[]"] {
                let mut s = Vec::new();
                for _ in 0..depth {
                    s.extend_from_slice(b"[");
                    s.extend_from_slice(filler);
                }
                s.extend_from_slice(b"\"x\"");
                for _ in 0..depth {
                    s.extend_from_slice(b"]");
                }
                agrees_everywhere(&s);
                agrees_everywhere(&s[..s.len() - 1]);
            }
        }
    }

    /// Runs of backslashes (inside a string, or outside one) ending around the block boundary,
    /// before a quote, a bracket or a letter, from every starting offset in a block.
    #[test]
    fn backslash_runs_across_blocks() {
        for before in 0..BLOCK + 3 {
            for run in 0..6 {
                for after in [&b"\""[..], b"]", b"a", b"\\"] {
                    for inside in [true, false] {
                        let mut s = b"{\"k\":".to_vec();
                        if inside {
                            s.push(b'"');
                        }
                        s.resize(s.len() + before, b'x');
                        s.resize(s.len() + run, b'\\');
                        s.extend_from_slice(after);
                        s.extend_from_slice(b"x\"}]\"}  {\"k\":[\"]\"]} ");
                        for start in [0, 1] {
                            let t = [&b" "[..start], &s].concat();
                            assert_eq!(
                                skip_value(&t, start),
                                reference::skip_value(&t, start),
                                "{}",
                                String::from_utf8_lossy(&t)
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn escape_masks() {
        // Escaped: every byte after a backslash that is not itself escaped.
        let mut e = Escapes::default();
        assert_eq!(e.next(0b0000_0001), 0b0000_0010);
        assert_eq!(e.next(0b0000_0011), 0b0000_0010);
        assert_eq!(e.next(0b0000_0111), 0b0000_1010);
        assert_eq!(e.next(0b0110_0110), 0b0100_0100);
        assert_eq!(e.next(0b0111_0110), 0b1010_0100);
        // A run that ends the block escapes the next block's first byte, even a backslash.
        assert_eq!(e.next(1 << 63), 0);
        assert_eq!(e.next(0b0000_0011), 0b0000_0101);
        assert_eq!(e.next(0b11 << 62), 1 << 63);
        assert_eq!(e.next(0), 0);
        assert_eq!(e.next(1 << 63), 0);
        assert_eq!(e.next(0), 1);
        assert_eq!(e.next(0), 0);
    }

    /// Bit `k`: the XOR of bits `0..=k` of `x`.
    fn prefix_xor_bitwise(mut x: u64) -> u64 {
        for k in 1..64 {
            x ^= (x >> (k - 1) & 1) << k;
        }
        x
    }

    #[test]
    fn classifies_each_byte() {
        let mut block = [b'x'; BLOCK];
        for k in 0..BLOCK {
            for (c, class) in [(b'"', 0), (b'\\', 1), (b'{', 2), (b'[', 2), (b'}', 3), (b']', 3)] {
                block[k] = c;
                let want = |n| if class == n { 1u64 << k } else { 0 };
                for m in [classify(&block), portable::classify(&block)] {
                    assert_eq!(
                        (m.quote, m.backslash, m.open, m.close),
                        (want(0), want(1), want(2), want(3))
                    );
                }
            }
            block[k] = b'x';
        }
        assert_eq!(prefix_xor_bitwise(0b1001_0010), 0b1110 | !0 << 7);
    }

    #[test]
    fn transposes() {
        for (bit, to) in [(0, 0), (1, 8), (8, 1), (63, 63), (7, 56), (57, 15), (42, 21)] {
            assert_eq!(portable::transpose8(1 << bit), 1 << to);
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[ -~\\\\\"\\]\\[{}\u{e9}\u{1b}\u{1F600}]{0,12}".prop_map(Value::from),
            "[a\\\\\"\\]]{0,80}".prop_map(Value::from),
            "[ -~\\\\\"]{40,140}".prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
                prop::collection::btree_map("[a-z\\]\\[\"\\\\{]{0,6}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The escape masks of consecutive blocks, against a byte-at-a-time scan.
        #[test]
        fn escapes_as_byte_by_byte(blocks in prop::collection::vec(
            prop_oneof![any::<u64>(), any::<u64>().prop_map(|x| x | x << 1 | 1 << 63)], 1..5)
        ) {
            let mut fast = Escapes::default();
            let mut pending = false;
            for backslash in blocks {
                let mut want = 0u64;
                for k in 0..64 {
                    if pending {
                        want |= 1 << k;
                        pending = false;
                    } else {
                        pending = backslash >> k & 1 == 1;
                    }
                }
                prop_assert_eq!(fast.next(backslash), want);
            }
        }

        /// [`needs_decoding`] against a byte-at-a-time look, on text dense in the bytes near
        /// the edges it tests (controls, backslash, 0x20, 0x5b/0x5d, high bytes).
        #[test]
        fn needs_decoding_as_byte_by_byte(b in prop::collection::vec(prop_oneof![
            any::<u8>(),
            Just(b'\\'), Just(0x1f), Just(0x20), Just(0x5b), Just(0x5d), Just(0x7f), Just(0x80),
            (b'a'..=b'z'), (b'a'..=b'z'), (b'a'..=b'z'), (b'a'..=b'z'), (b'a'..=b'z'),
        ], 0..40)) {
            let want = b.iter().any(|&c| c == b'\\' || c < 0x20);
            prop_assert_eq!(needs_decoding(&b), want);
        }

        #[test]
        fn prefix_xor_as_bit_by_bit(x in any::<u64>()) {
            prop_assert_eq!(prefix_xor(x), prefix_xor_bitwise(x));
        }

        /// [`first_of`] and the block masks, against a byte-at-a-time look (and, on x86, the
        /// SSE2 forms against the plain Rust ones, which other targets use).
        #[test]
        fn masks_as_byte_by_byte(
            block in prop::array::uniform32(
                prop::sample::select(&b"\"\\{}[]a \x80\xFF"[..])
            ).prop_flat_map(|a| prop::array::uniform32(any::<u8>()).prop_map(move |b| {
                let mut block = [0u8; BLOCK];
                block[..32].copy_from_slice(&a);
                block[32..].copy_from_slice(&b);
                block
            })),
            rotate in 0usize..BLOCK,
        ) {
            let mut block = block;
            block.rotate_left(rotate);
            let want = |set: &[u8]| {
                (0..BLOCK).filter(|&k| set.contains(&block[k])).fold(0u64, |m, k| m | 1 << k)
            };
            let wanted = (want(b"\""), want(b"\\"), want(b"{["), want(b"}]"));
            for m in [classify(&block), portable::classify(&block)] {
                prop_assert_eq!((m.quote, m.backslash, m.open, m.close), wanted);
            }
            for w in block.as_chunks::<PROBE>().0 {
                let first = w.iter().position(|c| b"\"{".contains(c));
                prop_assert_eq!(first_of(w, [b'"', b'{']), first);
                prop_assert_eq!(portable::first_of(w, [b'"', b'{']), first);
                let first = w.iter().position(|&c| c == 0x80);
                prop_assert_eq!(first_of(w, [0x80]), first);
                prop_assert_eq!(portable::first_of(w, [0x80]), first);
            }
        }

        /// A serialised value at any offset: both skippers find its end, and agree on every
        /// cut of the text.
        #[test]
        fn agrees_on_json(
            v in json_value(),
            pretty in any::<bool>(),
            offset in 0usize..140,
            tail in "([ ,\\]}][ ,\\]}\"\\\\a]{0,3})?",
        ) {
            let json = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }
                .unwrap();
            let text = [" ".repeat(offset), json.clone(), tail].concat();
            let b = text.as_bytes();
            prop_assert_eq!(skip_value(b, offset), Some(offset + json.len()));
            prop_assert_eq!(reference::skip_value(b, offset), Some(offset + json.len()));
            for cut in offset..b.len() {
                let b = &b[..cut];
                prop_assert_eq!(skip_value(b, offset), reference::skip_value(b, offset), "cut {}", cut);
                if matches!(b.get(offset), Some(b'{' | b'[')) {
                    assert_containers_agree(b, offset);
                }
            }
        }

        /// Text made of the bytes the skipper cares about: the same answer at every index.
        #[test]
        fn agrees_on_byte_soup(soup in prop::collection::vec(
            prop::sample::select(&b"{}[]\"\\,: a"[..]), 0..300)
        ) {
            agrees_everywhere(&soup);
        }

        /// Strings dense in backslashes and quotes, around block boundaries.
        #[test]
        fn agrees_on_backslash_soup(
            lead in 0usize..70,
            soup in prop::collection::vec(prop::sample::select(&b"\\\\\\\"x{]"[..]), 0..200),
        ) {
            let text = [b"[\"".to_vec(), vec![b'x'; lead], soup, b"\"]\"]}".to_vec()].concat();
            agrees_everywhere(&text);
        }
    }
}
