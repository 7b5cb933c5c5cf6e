//! Internal-only operators over a value's *text*, for languages compiled into patterns (Sigma):
//! a case-insensitive (or cased) glob and a regular expression. EventBridge pattern text never
//! produces them (see the module docs of [`crate::pattern`]).
//!
//! A value's text is a string's content, a number's JSON spelling as serde_json writes it, or
//! `true`/`false`; `null`, objects and arrays have no text (and match neither operator).

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};
use serde_json::Value;

/// The text a scalar value is matched by (`None` for null, objects and arrays).
pub(crate) fn value_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// One piece of a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GlobTok {
    /// Literal text.
    Lit(String),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
}

/// Upper bound on the compiled size of one glob or regex (bytes of the regex crate's program).
const SIZE_LIMIT: usize = 1 << 20;

/// A glob over the whole text of a value: `*` any run, `?` one character (Unicode scalar), the
/// rest literal; case-insensitive (Unicode simple case folding, as the regex crate's `(?i)`)
/// unless `cased`. Matched with a regex (linear time); an ASCII text against a glob of ASCII
/// literals and `*` only takes a direct path (among ASCII characters, simple case folding is
/// ASCII case folding, so both agree: a test checks it).
#[derive(Debug, Clone)]
pub(crate) struct TextGlob {
    toks: Vec<GlobTok>,
    cased: bool,
    re: Regex,
    /// The literal runs between stars, when the direct path applies.
    ascii_parts: Option<Vec<Vec<u8>>>,
}

impl TextGlob {
    /// Compiles the pieces (adjacent literals are joined).
    pub(crate) fn new(toks: Vec<GlobTok>, cased: bool) -> Result<TextGlob, String> {
        let mut norm: Vec<GlobTok> = Vec::new();
        for t in toks {
            match (norm.last_mut(), t) {
                (Some(GlobTok::Lit(a)), GlobTok::Lit(b)) => a.push_str(&b),
                (_, GlobTok::Lit(b)) if b.is_empty() => {}
                (_, t) => norm.push(t),
            }
        }
        let mut src = String::from("^");
        for t in &norm {
            match t {
                GlobTok::Lit(s) => src.push_str(&regex::escape(s)),
                GlobTok::Star => src.push_str(".*"),
                GlobTok::One => src.push('.'),
            }
        }
        src.push('$');
        let re = RegexBuilder::new(&src)
            .case_insensitive(!cased)
            .dot_matches_new_line(true)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| e.to_string())?;
        let simple = norm.iter().all(|t| match t {
            GlobTok::Lit(s) => s.is_ascii(),
            GlobTok::Star => true,
            GlobTok::One => false,
        });
        let ascii_parts = simple.then(|| {
            let mut parts = vec![Vec::new()];
            for t in &norm {
                match t {
                    GlobTok::Lit(s) => parts.last_mut().expect("non-empty").extend(s.bytes()),
                    _ => parts.push(Vec::new()),
                }
            }
            parts
        });
        Ok(TextGlob { toks: norm, cased, re, ascii_parts })
    }

    /// The direct path: `None` when the text or the glob needs the regex.
    fn match_ascii(&self, text: &str) -> Option<bool> {
        let parts = self.ascii_parts.as_ref()?;
        if !text.is_ascii() {
            return None;
        }
        let eq = |a: &[u8], b: &[u8]| if self.cased { a == b } else { a.eq_ignore_ascii_case(b) };
        let t = text.as_bytes();
        let n = parts.len();
        if n == 1 {
            return Some(eq(t, &parts[0]));
        }
        let (first, last) = (&parts[0], &parts[n - 1]);
        if first.len() + last.len() > t.len()
            || !eq(&t[..first.len()], first)
            || !eq(&t[t.len() - last.len()..], last)
        {
            return Some(false);
        }
        // Leftmost match of each inner run, in order (as for EventBridge wildcards).
        let mut rest = &t[first.len()..t.len() - last.len()];
        for mid in &parts[1..n - 1] {
            if mid.is_empty() {
                continue;
            }
            match find(rest, mid, self.cased) {
                Some(at) => rest = &rest[at + mid.len()..],
                None => return Some(false),
            }
        }
        Some(true)
    }

    /// A glob matching exactly `s` (no wildcard).
    #[cfg(test)]
    pub(crate) fn literal(s: &str, cased: bool) -> Result<TextGlob, String> {
        TextGlob::new(vec![GlobTok::Lit(s.to_string())], cased)
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        self.match_ascii(text).unwrap_or_else(|| self.re.is_match(text))
    }

    /// The pieces, for consumers that translate the glob.
    pub(crate) fn tokens(&self) -> &[GlobTok] {
        &self.toks
    }

    /// Case-sensitive?
    pub(crate) fn cased(&self) -> bool {
        self.cased
    }

    /// The longest literal piece (any matching text contains it, modulo case unless cased).
    pub(crate) fn longest_literal(&self) -> &str {
        self.toks
            .iter()
            .filter_map(|t| if let GlobTok::Lit(s) = t { Some(s.as_str()) } else { None })
            .max_by_key(|s| s.len())
            .unwrap_or("")
    }

    /// Canonical text: `*`, `?`, literal `*`/`?`/`\` escaped with `\`.
    pub(crate) fn display(&self) -> String {
        let mut out = String::new();
        for t in &self.toks {
            match t {
                GlobTok::Lit(s) => {
                    for c in s.chars() {
                        if matches!(c, '*' | '?' | '\\') {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                GlobTok::Star => out.push('*'),
                GlobTok::One => out.push('?'),
            }
        }
        out
    }
}

/// A regular expression searched anywhere in a value's text (unanchored, as Python's
/// `re.search`), with the regex crate (linear time, no look-around or back-references).
#[derive(Debug, Clone)]
pub(crate) struct TextRegex {
    source: String,
    flags: String,
    re: Regex,
}

impl TextRegex {
    /// `i` case-insensitive, `m` `^`/`$` at line ends, `s` `.` matches a newline.
    pub(crate) fn new(source: &str, i: bool, m: bool, s: bool) -> Result<TextRegex, String> {
        let re = RegexBuilder::new(source)
            .case_insensitive(i)
            .multi_line(m)
            .dot_matches_new_line(s)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| e.to_string())?;
        let flags: String =
            [(i, 'i'), (m, 'm'), (s, 's')].iter().filter(|f| f.0).map(|f| f.1).collect();
        Ok(TextRegex { source: source.to_string(), flags, re })
    }

    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }

    /// The expression as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The flags, a subset of `ims` in that order.
    pub(crate) fn flags(&self) -> &str {
        &self.flags
    }
}

/// The first index where `needle` (not empty) occurs in `hay`, ignoring ASCII case unless
/// `cased`: what `hay.windows(needle.len()).position(..)` gives, found by looking for the
/// needle's first byte (in both cases) with `memchr` rather than comparing at every index.
fn find(hay: &[u8], needle: &[u8], cased: bool) -> Option<usize> {
    if cased {
        return memchr::memmem::find(hay, needle);
    }
    let (&first, tail) = needle.split_first()?;
    let last = hay.len().checked_sub(needle.len())?;
    memchr::memchr2_iter(first.to_ascii_lowercase(), first.to_ascii_uppercase(), &hay[..=last])
        .find(|&i| hay[i + 1..i + needle.len()].eq_ignore_ascii_case(tail))
}

/// Non-ASCII characters that Unicode simple case folding (the regex crate's `(?i)`) matches to
/// an ASCII letter: LATIN SMALL LETTER LONG S (s) and KELVIN SIGN (k). A case-insensitive
/// prefilter that folds ASCII only must treat text holding them as a "maybe".
pub const ASCII_CASE_TWINS: [char; 2] = ['\u{17F}', '\u{212A}'];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn glob(toks: Vec<GlobTok>) -> TextGlob {
        TextGlob::new(toks, false).unwrap()
    }

    #[test]
    fn glob_is_case_insensitive_whole_text() {
        use GlobTok::*;
        let g = glob(vec![Lit("Create".into()), Star, Lit("user".into())]);
        assert!(g.matches("createUSER"));
        assert!(g.matches("CreateLoginUser"));
        assert!(!g.matches("xCreateUser"));
        let q = glob(vec![Lit("a".into()), One, Lit("c".into())]);
        assert!(q.matches("abc") && q.matches("AéC") && !q.matches("ac") && !q.matches("abbc"));
        let lit = glob(vec![Lit("a*b?".into())]);
        assert!(lit.matches("A*B?") && !lit.matches("axb?"));
        assert_eq!(lit.display(), r"a\*b\?");
        assert!(TextGlob::literal("Ab", true).unwrap().matches("Ab"));
        assert!(!TextGlob::literal("Ab", true).unwrap().matches("ab"));
        assert_eq!(g.longest_literal(), "Create");
        assert_eq!(g.tokens().len(), 3);
    }

    /// The direct path and the regex agree (every ASCII text of a small alphabet against
    /// globs over it, both cases).
    #[test]
    fn direct_path_agrees_with_the_regex() {
        use GlobTok::*;
        let globs = [
            vec![Lit("aB".into())],
            vec![Star, Lit("ab".into()), Star],
            vec![Lit("a".into()), Star, Lit("b".into())],
            vec![Star, Lit("b".into()), Star, Lit("a".into())],
            vec![Lit("ab".into()), Star],
            vec![Star, Lit("ba".into())],
            vec![Star],
            vec![Lit("a".into()), Star, Lit("a".into()), Star, Lit("a".into())],
        ];
        let mut texts = vec![String::new()];
        for len in 1..=5 {
            let mut more = Vec::new();
            for t in texts.iter().filter(|t| t.len() == len - 1) {
                for c in ['a', 'A', 'b', 'B', 'x'] {
                    more.push(format!("{t}{c}"));
                }
            }
            texts.extend(more);
        }
        for cased in [false, true] {
            for g in &globs {
                let glob = TextGlob::new(g.clone(), cased).unwrap();
                assert!(glob.ascii_parts.is_some());
                for t in &texts {
                    assert_eq!(
                        glob.match_ascii(t),
                        Some(glob.re.is_match(t)),
                        "{g:?} {t:?} {cased}"
                    );
                }
            }
        }
        // Non-ASCII text goes to the regex: a long s is an s.
        let g = TextGlob::new(vec![Lit("s".into())], false).unwrap();
        assert!(g.match_ascii("\u{17F}").is_none() && g.matches("\u{17F}"));
    }

    /// `find` gives what a comparison at every index gives.
    #[test]
    fn find_agrees_with_windows() {
        let hays = ["", "a", "xAbAB", "abab", "ba", "aB-ab", "-", "A-b", "zzzab"];
        let needles = ["a", "ab", "AB", "bA", "-", "a-B", "abab", "zzzabx"];
        for h in hays {
            for n in needles {
                for cased in [false, true] {
                    let (h, n) = (h.as_bytes(), n.as_bytes());
                    let slow = h
                        .windows(n.len())
                        .position(|w| if cased { w == n } else { w.eq_ignore_ascii_case(n) });
                    assert_eq!(find(h, n, cased), slow, "{h:?} {n:?} {cased}");
                }
            }
        }
    }

    #[test]
    fn value_texts() {
        assert_eq!(value_text(&json!("x")).as_deref(), Some("x"));
        assert_eq!(value_text(&json!(5)).as_deref(), Some("5"));
        assert_eq!(value_text(&json!(false)).as_deref(), Some("false"));
        assert!(value_text(&json!(null)).is_none() && value_text(&json!({})).is_none());
    }

    #[test]
    fn regex_flags() {
        let r = TextRegex::new("^ab.c$", true, true, true).unwrap();
        assert!(r.is_match("x\nAB\nC"));
        assert_eq!(r.flags(), "ims");
        let plain = TextRegex::new("^ab.c$", false, false, false).unwrap();
        assert!(!plain.is_match("x\nAB\nC") && plain.is_match("abxc"));
        assert!(TextRegex::new("(?<=a)b", false, false, false).is_err());
    }

    /// The only non-ASCII characters `(?i)` matches to an ASCII letter are the two twins: the
    /// folded prefilter's soundness rests on this.
    #[test]
    fn ascii_case_twins_are_complete() {
        let re = RegexBuilder::new("^[a-z]$").case_insensitive(true).build().unwrap();
        let mut found = Vec::new();
        let mut buf = [0u8; 4];
        for u in 0x80..=0x10FFFFu32 {
            if let Some(c) = char::from_u32(u)
                && re.is_match(c.encode_utf8(&mut buf))
            {
                found.push(c);
            }
        }
        assert_eq!(found, ASCII_CASE_TWINS.to_vec());
    }
}
