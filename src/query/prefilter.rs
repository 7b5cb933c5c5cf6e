//! A byte-level test that rules out files and records before any JSON is parsed.
//!
//! It may only answer "maybe" or "no". The clauses come from the patterns: every match must
//! contain, for each clause, one of its strings inside some string value. JSON may write any
//! character as a `\uXXXX` escape, `/` as `\/`, and must escape `"`, `\` and control
//! characters; so each literal is cut at those characters and its longest piece is searched,
//! and any text containing `\u` is a "maybe".
//!
//! Folded clauses (from case-insensitive rules, [`Prefilter::add_folded`]) are searched ignoring
//! ASCII case; text holding U+017F or U+212A (which Unicode case folding matches to `s` and `k`)
//! is a "maybe" when one of them fails.

use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;

/// A compiled prefilter; `Prefilter::default()` says "maybe" to everything.
#[derive(Debug, Clone, Default)]
pub struct Prefilter {
    clauses: Vec<Vec<Finder<'static>>>,
    /// Clauses searched ignoring ASCII case, with their needles (for `--explain`).
    folded: Vec<(AhoCorasick, Vec<String>)>,
}

/// Whether `text` holds a character that Unicode case folding matches to an ASCII letter.
fn has_case_twin(text: &[u8]) -> bool {
    crate::pattern::ASCII_CASE_TWINS.iter().any(|c| {
        let mut buf = [0u8; 4];
        memchr::memmem::find(text, c.encode_utf8(&mut buf).as_bytes()).is_some()
    })
}

/// The longest piece of `literal` that JSON writes verbatim, if any.
fn verbatim_piece(literal: &str) -> Option<&str> {
    literal
        .split(|c: char| c == '"' || c == '\\' || c == '/' || c.is_control())
        .max_by_key(|p| p.len())
        .filter(|p| !p.is_empty())
}

/// Whether `text` may hold a `\uXXXX` escape (a backslash followed by `u`; an escaped
/// backslash before a `u` counts too, which only makes a "maybe" of a "no"). Backslashes are
/// rare in CloudTrail text, so looking for them first is quick (and builds no searcher).
fn has_unicode_escape(text: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', text).any(|i| text.get(i + 1) == Some(&b'u'))
}

impl Prefilter {
    /// From clauses of literals (see [`crate::pattern::Pattern::literal_clauses`]).
    #[must_use]
    pub fn new(clauses: &[Vec<String>]) -> Prefilter {
        let mut out = Vec::new();
        'clause: for clause in clauses {
            let mut needles: Vec<&str> = Vec::new();
            for lit in clause {
                match verbatim_piece(lit) {
                    Some(p) => needles.push(p),
                    None => continue 'clause,
                }
            }
            needles.sort_unstable();
            needles.dedup();
            if !needles.is_empty() {
                out.push(needles.iter().map(|n| Finder::new(n.as_bytes()).into_owned()).collect());
            }
        }
        Prefilter { clauses: out, folded: Vec::new() }
    }

    /// Adds clauses whose literals (ASCII, see
    /// [`crate::pattern::Pattern::literal_clauses_folded`]) are searched ignoring ASCII case.
    pub fn add_folded(&mut self, clauses: &[Vec<String>]) {
        'clause: for clause in clauses {
            let mut needles: Vec<String> = Vec::new();
            for lit in clause {
                let piece = verbatim_piece(lit)
                    .and_then(|p| p.split(|c: char| !c.is_ascii()).max_by_key(|p| p.len()))
                    .filter(|p| !p.is_empty());
                match piece {
                    Some(p) => needles.push(p.to_ascii_lowercase()),
                    None => continue 'clause,
                }
            }
            needles.sort_unstable();
            needles.dedup();
            if needles.is_empty() {
                continue;
            }
            match AhoCorasick::builder().ascii_case_insensitive(true).build(&needles) {
                Ok(ac) => self.folded.push((ac, needles)),
                // Too large to build: no claim.
                Err(_) => continue,
            }
        }
    }

    /// Whether the prefilter can rule anything out at all.
    #[must_use]
    pub fn is_active(&self) -> bool {
        !self.clauses.is_empty() || !self.folded.is_empty()
    }

    /// `false` only if `text` (a file or one record) cannot hold a match.
    #[must_use]
    pub fn maybe(&self, text: &[u8]) -> bool {
        if !self.is_active() {
            return true;
        }
        let exact = self.clauses.iter().all(|c| c.iter().any(|f| f.find(text).is_some()));
        if exact && self.folded.iter().all(|(ac, _)| ac.is_match(text)) {
            return true;
        }
        has_unicode_escape(text) || (exact && has_case_twin(text))
    }

    /// The searched strings, for `--explain`.
    #[must_use]
    pub fn describe(&self) -> Vec<Vec<String>> {
        let folded = self
            .folded
            .iter()
            .map(|(_, n)| n.iter().map(|n| format!("{n} (any case)")).collect::<Vec<_>>());
        self.clauses
            .iter()
            .map(|c| c.iter().map(|f| String::from_utf8_lossy(f.needle()).into_owned()).collect())
            .chain(folded)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(clauses: &[&[&str]]) -> Prefilter {
        let c: Vec<Vec<String>> =
            clauses.iter().map(|c| c.iter().map(|s| (*s).to_string()).collect()).collect();
        Prefilter::new(&c)
    }

    #[test]
    fn clauses_and_escapes() {
        let p = pf(&[&["CreateUser", "DeleteUser"], &["iam.amazonaws.com"]]);
        assert!(p.maybe(br#"{"eventName":"CreateUser","eventSource":"iam.amazonaws.com"}"#));
        assert!(!p.maybe(br#"{"eventName":"CreateUser","eventSource":"s3.amazonaws.com"}"#));
        assert!(!p.maybe(br#"{"eventName":"GetObject","eventSource":"iam.amazonaws.com"}"#));
        // An escaped spelling cannot be ruled out.
        assert!(p.maybe(br#"{"eventName":"Create\u0055ser","eventSource":"iam.amazonaws.com"}"#));
        // `/` may be written `\/`: only the longest piece is searched.
        let arn = pf(&[&["arn:aws:iam::1:user/alice-the-admin"]]);
        assert!(arn.maybe(br#"{"arn":"arn:aws:iam::1:user\/alice-the-admin"}"#));
        assert_eq!(arn.describe(), vec![vec!["arn:aws:iam::1:user".to_string()]]);
        // A literal with nothing verbatim makes no claim.
        assert!(!pf(&[&["\"/"]]).is_active());
        assert!(Prefilter::default().maybe(b""));
    }

    #[test]
    fn folded_clauses_ignore_ascii_case() {
        let mut p = Prefilter::default();
        p.add_folded(&[vec!["CreateUser".into(), "DeleteUser".into()]]);
        assert!(p.is_active());
        assert!(p.maybe(br#"{"eventName":"createuser"}"#));
        assert!(p.maybe(br#"{"eventName":"DELETEUSER"}"#));
        assert!(!p.maybe(br#"{"eventName":"GetUser"}"#));
        // A long s or a Kelvin sign may stand for s or k: maybe.
        assert!(p.maybe("{\"eventName\":\"CreateU\u{17F}er\"}".as_bytes()));
        assert!(p.maybe(br#"{"eventName":"CreateU\u0073er"}"#));
        assert_eq!(p.describe(), vec![vec!["createuser (any case)", "deleteuser (any case)"]]);
        // With exact clauses too: both kinds must hold.
        let mut both = pf(&[&["iam.amazonaws.com"]]);
        both.add_folded(&[vec!["createuser".into()]]);
        assert!(both.maybe(br#"{"eventSource":"iam.amazonaws.com","eventName":"CreateUser"}"#));
        assert!(!both.maybe(br#"{"eventSource":"s3.amazonaws.com","eventName":"CreateUser"}"#));
        assert!(!both.maybe(
            "{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"CreateU\u{17F}er\"}".as_bytes()
        ));
    }
}
