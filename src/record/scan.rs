//! A fast structural skipper over JSON text: it finds where a value ends without building or
//! checking anything, jumping through strings with `memchr`. It trusts the text's lexical
//! content (used to delimit records and to step over what a projection does not need);
//! unbalanced or cut text gives `None`, never a panic.

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
/// (control characters): otherwise it is its own value. Written without an early exit so that
/// it compiles to vector code.
#[must_use]
pub fn needs_decoding(inner: &[u8]) -> bool {
    inner.iter().fold(false, |acc, &c| acc | (c == b'\\') | (c < 0x20))
}

/// `b[i]` is an opening quote: index just past the closing one.
#[must_use]
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

/// Index just past the value that starts at `i` (no leading whitespace).
#[must_use]
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
