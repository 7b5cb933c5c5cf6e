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

/// The byte-at-a-time skipper, kept as the specification the tests compare the skipper with
/// (so that a faster one can replace it).
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
    }

    /// `skip_value` and `skip_string` agree with the reference at every index of `b` (and just
    /// past its end).
    fn agrees_everywhere(b: &[u8]) {
        for i in 0..=b.len() + 1 {
            assert_eq!(skip_value(b, i), reference::skip_value(b, i), "skip_value at {i} of {b:?}");
            assert_eq!(
                skip_string(b, i),
                reference::skip_string(b, i),
                "skip_string at {i} of {b:?}"
            );
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

    /// Runs of backslashes (inside a string, or outside one) ending around the block boundary,
    /// before a quote, a bracket or a letter, from every starting offset in a block.
    #[test]
    fn backslash_runs_across_blocks() {
        for before in 0..64 + 3 {
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
