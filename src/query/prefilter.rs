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

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem::Finder;
use std::cell::RefCell;

/// Needles per aho-corasick searcher of a folded clause (Teddy, its SIMD prefilter, takes up
/// to 64; fewer give fewer false candidates).
const GROUP: usize = 64;

thread_local! {
    /// The text lower-cased (ASCII) for the folded clauses, reused between calls.
    static LOWER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A compiled prefilter; `Prefilter::default()` says "maybe" to everything.
#[derive(Debug, Clone, Default)]
pub struct Prefilter {
    clauses: Vec<Vec<Finder<'static>>>,
    /// Clauses searched ignoring ASCII case, with their needles (for `--explain`): lower-case
    /// needles searched in the lower-cased text, in groups of at most [`GROUP`] (aho-corasick's
    /// case-insensitive search has no SIMD prefilter, and above 64 needles neither has the
    /// case-sensitive one: several small searchers beat one large one).
    folded: Vec<(Vec<Searcher>, Vec<String>)>,
}

/// One group of needles: Teddy (SIMD, aho-corasick's packed searcher) where the CPU has it,
/// else an aho-corasick automaton. (aho-corasick's own choice prefers a `memchr` on the
/// needles' common first byte, the `"` most of them start with: in JSON that is no filter.)
#[derive(Debug, Clone)]
enum Searcher {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl Searcher {
    fn new(needles: &[String]) -> Option<Searcher> {
        if let Some(p) = aho_corasick::packed::Config::new().builder().extend(needles).build() {
            return Some(Searcher::Packed(p));
        }
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(needles)
            .ok()
            .map(Searcher::Automaton)
    }

    fn is_match(&self, text: &[u8]) -> bool {
        match self {
            Searcher::Packed(p) => p.find(text).is_some(),
            Searcher::Automaton(a) => a.is_match(text),
        }
    }
}

/// Whether `text` holds a character that Unicode case folding matches to an ASCII letter
/// (U+017F is `C5 BF` in UTF-8, U+212A `E2 84 AA`: their first bytes are looked for first).
fn has_case_twin(text: &[u8]) -> bool {
    memchr::memchr2_iter(0xC5, 0xE2, text).any(|i| {
        let rest = &text[i..];
        crate::pattern::ASCII_CASE_TWINS.iter().any(|c| {
            let mut buf = [0u8; 4];
            rest.starts_with(c.encode_utf8(&mut buf).as_bytes())
        })
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

    /// Adds clauses of raw-text fragments (see
    /// `Pattern::literal_clauses_folded`: ASCII, no `\`, `/` or control
    /// character, a `"` only at an end), searched ignoring ASCII case. A clause holding
    /// anything else is left out (no claim).
    pub fn add_folded(&mut self, clauses: &[Vec<String>]) {
        'clause: for clause in clauses {
            let mut needles: Vec<String> = Vec::new();
            for lit in clause {
                let inner = lit.strip_prefix('"').unwrap_or(lit);
                let inner = inner.strip_suffix('"').unwrap_or(inner);
                let fragment = !lit.is_empty()
                    && lit
                        .chars()
                        .all(|c| c.is_ascii() && !c.is_ascii_control() && c != '\\' && c != '/')
                    && !inner.contains('"');
                if !fragment {
                    continue 'clause;
                }
                needles.push(lit.to_ascii_lowercase());
            }
            needles.sort_unstable();
            needles.dedup();
            if needles.is_empty() {
                continue;
            }
            let searchers: Option<Vec<Searcher>> =
                needles.chunks(GROUP).map(Searcher::new).collect();
            match searchers {
                Some(s) => self.folded.push((s, needles)),
                // Too large to build: no claim.
                None => continue,
            }
        }
        // The clause with the most needles first: it is usually the most selective (event
        // names rather than event sources), and the first to fail ends the test.
        self.folded.sort_by_key(|(_, n)| std::cmp::Reverse(n.len()));
    }

    /// Do all folded clauses hold in `text`, ignoring ASCII case?
    fn folded_hold(&self, text: &[u8]) -> bool {
        if self.folded.is_empty() {
            return true;
        }
        LOWER.with_borrow_mut(|lower| {
            lower.clear();
            lower.extend_from_slice(text);
            lower.make_ascii_lowercase();
            self.folded.iter().all(|(acs, _)| acs.iter().any(|ac| ac.is_match(lower.as_slice())))
        })
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
        if exact && self.folded_hold(text) {
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
