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
use rustc_hash::FxHashSet;
use std::cell::RefCell;

/// Texts longer than this are lower-cased for the folded clauses a piece at a time
/// ([`Prefilter::folded_hold`]).
const PIECE: usize = 1 << 16;

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
    clauses: Vec<Clause>,
    /// Clauses searched ignoring ASCII case, with their needles (for `--explain`): lower-case
    /// needles searched in the lower-cased text, in groups of at most [`GROUP`] (aho-corasick's
    /// case-insensitive search has no SIMD prefilter, and above 64 needles neither has the
    /// case-sensitive one: several small searchers beat one large one).
    folded: Vec<(Vec<Searcher>, Vec<String>)>,
}

/// Clauses with more needles than this are searched with one Aho-Corasick automaton (one pass
/// over the text) rather than one `memmem` search per needle (one pass each).
const MULTI_LITERAL: usize = 8;

/// One clause: the text must contain one of its needles.
#[derive(Debug, Clone)]
enum Clause {
    /// A few needles, each searched on its own.
    Few(Vec<Finder<'static>>),
    /// Many needles that start with one of a few 4-byte prefixes (access key ids: `AKIA`,
    /// `ASIA`): each prefix is searched with `memmem`, and where it occurs the text that
    /// follows is looked up among the needles of each length.
    Prefixed(Vec<Prefixed>, Vec<String>),
    /// Many other needles: one automaton, one pass.
    Many(Vec<Searcher>, Vec<String>),
}

/// The needles of a [`Clause::Prefixed`] that share one prefix.
#[derive(Debug, Clone)]
struct Prefixed {
    prefix: Finder<'static>,
    /// Per needle length: the needles of that length.
    by_len: Vec<(usize, FxHashSet<Box<[u8]>>)>,
}

/// The most distinct prefixes a [`Clause::Prefixed`] searches.
const PREFIXES: usize = 4;
/// The prefix length of a [`Clause::Prefixed`].
const PREFIX_LEN: usize = 4;

impl Clause {
    fn new(needles: &[&str]) -> Clause {
        if needles.len() <= MULTI_LITERAL {
            return Clause::few(needles);
        }
        let all = || needles.iter().map(|n| (*n).to_string()).collect();
        if needles.iter().all(|n| n.len() >= PREFIX_LEN) {
            let mut groups: Vec<Prefixed> = Vec::new();
            for n in needles {
                let (head, b) = (&n.as_bytes()[..PREFIX_LEN], n.as_bytes());
                let g = match groups.iter().position(|g| g.prefix.needle() == head) {
                    Some(g) => g,
                    None => {
                        groups.push(Prefixed {
                            prefix: Finder::new(head).into_owned(),
                            by_len: Vec::new(),
                        });
                        groups.len() - 1
                    }
                };
                let by_len = &mut groups[g].by_len;
                match by_len.iter_mut().find(|(l, _)| *l == b.len()) {
                    Some((_, set)) => {
                        set.insert(b.into());
                    }
                    None => by_len.push((b.len(), std::iter::once(b.into()).collect())),
                }
                if groups.len() > PREFIXES {
                    break;
                }
            }
            if groups.len() <= PREFIXES {
                return Clause::Prefixed(groups, all());
            }
        }
        // Groups of at most GROUP needles, each searched with Teddy where the CPU has it (one
        // automaton over more needles has no SIMD prefilter).
        let owned: Vec<String> = all();
        let groups: Option<Vec<Searcher>> = owned.chunks(GROUP).map(Searcher::new).collect();
        match groups {
            Some(g) => Clause::Many(g, owned),
            None => Clause::few(needles),
        }
    }

    fn few(needles: &[&str]) -> Clause {
        Clause::Few(needles.iter().map(|n| Finder::new(n.as_bytes()).into_owned()).collect())
    }

    fn found_in(&self, text: &[u8]) -> bool {
        match self {
            Clause::Few(finders) => finders.iter().any(|f| f.find(text).is_some()),
            Clause::Prefixed(groups, _) => groups.iter().any(|g| {
                g.prefix.find_iter(text).any(|at| {
                    g.by_len
                        .iter()
                        .any(|(len, set)| text.get(at..at + len).is_some_and(|t| set.contains(t)))
                })
            }),
            Clause::Many(groups, _) => groups.iter().any(|g| g.is_match(text)),
        }
    }

    fn needles(&self) -> Vec<String> {
        match self {
            Clause::Few(finders) => {
                finders.iter().map(|f| String::from_utf8_lossy(f.needle()).into_owned()).collect()
            }
            Clause::Prefixed(_, needles) | Clause::Many(_, needles) => needles.clone(),
        }
    }
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
                out.push(Clause::new(&needles));
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

    /// Do all folded clauses hold in `text`, ignoring ASCII case? A record is lower-cased into a
    /// copy whole; a longer text (a whole file) a piece of [`PIECE`] bytes at a time, each with
    /// the bytes a needle starting in it may reach, until a needle is found (most files hold
    /// one in their first records: the rest is then not copied).
    fn folded_hold(&self, text: &[u8]) -> bool {
        if self.folded.is_empty() {
            return true;
        }
        LOWER.with_borrow_mut(|lower| {
            // Copied and lower-cased in one pass (a copy, then `make_ascii_lowercase`, took
            // three times as long).
            let fold = |lower: &mut Vec<u8>, piece: &[u8]| {
                lower.clear();
                lower.extend(piece.iter().map(u8::to_ascii_lowercase));
            };
            if text.len() <= PIECE {
                fold(lower, text);
                return self.folded.iter().all(|(acs, _)| acs.iter().any(|ac| ac.is_match(lower)));
            }
            self.folded.iter().all(|(acs, needles)| {
                let reach = needles.iter().map(String::len).max().unwrap_or(1) - 1;
                let mut start = 0;
                loop {
                    let end = (start + PIECE + reach).min(text.len());
                    fold(lower, &text[start..end]);
                    if acs.iter().any(|ac| ac.is_match(lower)) {
                        return true;
                    }
                    if end == text.len() {
                        return false;
                    }
                    start += PIECE;
                }
            })
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
        let exact = self.clauses.iter().all(|c| c.found_in(text));
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
        self.clauses.iter().map(Clause::needles).chain(folded).collect()
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
    fn many_needles_answer_as_few() {
        // The same answers whether a clause is searched needle by needle or by one automaton.
        let keys: Vec<String> = (0..40).map(|i| format!("ASIAEXAMPLE{i:09}")).collect();
        let many = Prefilter::new(std::slice::from_ref(&keys));
        assert!(matches!(many.clauses[0], Clause::Prefixed(..)));
        let texts = [
            format!(r#"{{"accessKeyId":"{}"}}"#, keys[0]),
            format!(r#"{{"accessKeyId":"{}"}}"#, keys[39]),
            r#"{"accessKeyId":"ASIAEXAMPLE999999999"}"#.to_string(),
            r#"{"accessKeyId":"ASIA\u0045XAMPLE000000000"}"#.to_string(),
            String::new(),
        ];
        for t in &texts {
            let one_by_one = keys.iter().any(|k| t.contains(k.as_str()));
            assert_eq!(many.maybe(t.as_bytes()), one_by_one || t.contains("\\u"), "{t}");
        }
        assert_eq!(many.describe()[0].len(), 40);
        let few = Prefilter::new(&[keys[..3].to_vec()]);
        assert!(matches!(few.clauses[0], Clause::Few(_)));
        // Needles with many prefixes (and a short one) go to the automaton; same answers.
        let mut names: Vec<String> = (0..30).map(|i| format!("{i:02}Event{i}")).collect();
        names.push("Go".into());
        let auto = Prefilter::new(std::slice::from_ref(&names));
        assert!(matches!(auto.clauses[0], Clause::Many(..)));
        for t in ["x 07Event7 y", "Go", "07Event8", "G o", "29Event2"] {
            let one_by_one = names.iter().any(|n| t.contains(n.as_str()));
            assert_eq!(auto.maybe(t.as_bytes()), one_by_one, "{t}");
        }
        // More needles than one searcher takes (GROUP): several groups, the same answers,
        // whichever group holds the needle.
        let lots: Vec<String> = (0..150).map(|i| format!("{i:03}Name{}", i * 7)).collect();
        let grouped = Prefilter::new(std::slice::from_ref(&lots));
        assert!(matches!(&grouped.clauses[0], Clause::Many(g, _) if g.len() == 3));
        for t in ["..000Name0..", "149Name1043", "x 070Name490", "070Name49", "Name", ""] {
            let one_by_one = lots.iter().any(|n| t.contains(n.as_str()));
            assert_eq!(grouped.maybe(t.as_bytes()), one_by_one, "{t}");
        }
        // Two prefixes, two lengths; a needle at the very end of the text.
        let mixed: Vec<String> =
            (0..10).flat_map(|i| [format!("AKIA{i:016}"), format!("ASIA{i:020}")]).collect();
        let p = Prefilter::new(std::slice::from_ref(&mixed));
        assert!(matches!(p.clauses[0], Clause::Prefixed(..)));
        for t in [
            format!("..{}", mixed[5]),
            format!("{}..", mixed[2]),
            "AKIA000000000000000".to_string(),
            "ASIAAKIA0000000000000009".to_string(),
            "ASIA0000000000000000000".to_string(),
        ] {
            let one_by_one = mixed.iter().any(|n| t.contains(n.as_str()));
            assert_eq!(p.maybe(t.as_bytes()), one_by_one, "{t}");
        }
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

    /// A folded clause says "no" only where no needle is in the text in any ASCII case: mixed
    /// case in the needles and the text, non-ASCII letters next to and inside the needles, the
    /// needles at either end of the text.
    #[test]
    fn folded_clauses_mixed_case_and_non_ascii() {
        let mut p = Prefilter::default();
        p.add_folded(&[vec![
            "\"CreateUSER\"".into(),
            // The fragment `Pattern::literal_clauses_folded` gives of `ÜberAdmin`.
            "berAdmin".into(),
            "kali".into(),
            "AdministratorAccess\"".into(),
        ]]);
        let maybe = |t: &str| p.maybe(t.as_bytes());
        for yes in [
            r#"{"eventName":"createuser"}"#,
            r#"{"eventName":"CREATEuser"}"#,
            "\"cReAtEuSeR\"",
            "{\"ua\":\"Mozilla ÄÖÜ KALI linux\"}",
            "KaLi",
            "{\"policyArn\":\"arn:aws:iam::aws:policy/ADMINISTRATORaccess\"}",
            // The ASCII part of a value with a non-ASCII letter is what is searched.
            "{\"role\":\"überadmin\"}",
            "{\"role\":\"ÉBERADMIN\"}",
            // U+212A KELVIN SIGN folds to `k`, U+017F LATIN SMALL LETTER LONG S to `s`:
            // Unicode-aware matchers accept them, so the prefilter says "maybe".
            "{\"ua\":\"\u{212A}ali\"}",
            "{\"eventName\":\"CreateU\u{17F}er\"}",
            // An escape may spell anything.
            r#"{"eventName":"Create\u0055ser"}"#,
        ] {
            assert!(maybe(yes), "{yes}");
        }
        for no in [
            r#"{"eventName":"CreateUsers"}"#,
            r#"{"eventName":"xCreateUser"}"#,
            "{\"eventName\":\"CréateUser\"}",
            "{\"ua\":\"kal\u{131}\"}",
            "{\"ua\":\"k\u{e1}li\"}",
            "{\"policyArn\":\"AdministratorAccessX\"}",
            // U+0130 (capital I with a dot) is not an ASCII `i` for the matcher either.
            "{\"ua\":\"KAL\u{130}\"}",
            "",
        ] {
            assert!(!maybe(no), "{no}");
        }
        // A clause with a needle that is not such a fragment makes no claim.
        let mut q = Prefilter::default();
        q.add_folded(&[vec!["ÜberAdmin".into(), "kali".into()]]);
        assert!(!q.is_active() && q.maybe(b"nothing"));
    }

    /// A long text (a file) is searched a piece at a time: a needle anywhere, across the
    /// pieces' boundaries too, is found; a text without one is not.
    #[test]
    fn folded_search_of_long_texts_crosses_pieces() {
        let mut p = Prefilter::default();
        p.add_folded(&[vec!["\"CreateUser\"".into(), "kali".into()]]);
        let mut two = Prefilter::default();
        two.add_folded(&[vec!["\"createuser\"".into()], vec!["\"iam.amazonaws.com\"".into()]]);
        let len = 3 * PIECE + 100;
        let needle = b"\"cREATEuSER\"";
        let other = b"\"IAM.amazonaws.com\"";
        for at in
            [0, 1, PIECE - 12, PIECE - 11, PIECE - 5, PIECE - 1, PIECE, 2 * PIECE - 3, len - 12]
        {
            let mut text = vec![b'x'; len];
            text[at..at + needle.len()].copy_from_slice(needle);
            assert!(p.maybe(&text), "at {at}");
            // Both clauses must hold, each wherever it is.
            assert!(!two.maybe(&text), "at {at}");
            let o = if at > PIECE { 7 } else { len - other.len() - 1 };
            text[o..o + other.len()].copy_from_slice(other);
            assert!(two.maybe(&text), "at {at}");
        }
        let mut text = vec![b'x'; len];
        text[PIECE - 2..PIECE + 2].copy_from_slice(b"KaLi");
        assert!(p.maybe(&text));
        text[PIECE + 1] = b'I';
        text[PIECE - 2] = b'-';
        assert!(!p.maybe(&text));
        assert!(!p.maybe(&vec![b'x'; len]));
    }

    /// The folded search against its definition: "maybe" exactly when, ignoring ASCII case,
    /// the text holds a needle, or holds a `\u` escape or a character Unicode folds to an ASCII
    /// letter.
    #[test]
    fn folded_search_is_its_definition() {
        use proptest::prelude::*;
        let alphabet = prop::sample::select(vec![
            "a", "A", "b", "B", "k", "K", "s", "S", "\"", "\\", "u", "\u{17F}", "\u{212A}", "é",
            "É", "\u{130}", " ",
        ]);
        let text = prop::collection::vec(alphabet.clone(), 0..40).prop_map(|v| v.concat());
        let needle = prop::collection::vec(
            prop::sample::select(vec!["a", "A", "b", "B", "k", "K", "s", "S", " "]),
            1..5,
        )
        .prop_map(|v| v.concat());
        let needles = prop::collection::vec(
            (needle, any::<bool>(), any::<bool>()).prop_map(|(n, open, close)| {
                format!("{}{n}{}", if open { "\"" } else { "" }, if close { "\"" } else { "" })
            }),
            1..4,
        );
        proptest!(ProptestConfig::with_cases(3000), |(needles in needles, text in text)| {
            let mut p = Prefilter::default();
            p.add_folded(std::slice::from_ref(&needles));
            let lower = text.to_ascii_lowercase();
            let found = needles.iter().any(|n| lower.contains(&n.to_ascii_lowercase()));
            let expected = found
                || has_unicode_escape(text.as_bytes())
                || has_case_twin(text.as_bytes());
            prop_assert_eq!(p.maybe(text.as_bytes()), expected, "{:?} in {:?}", needles, text);
        });
    }

    /// Sound against the matcher: whenever a case-insensitive Sigma value (a literal, a
    /// `contains`, a `startswith`) matches a record's field, the query's prefilter lets the
    /// record through, whatever the case and the non-ASCII letters Unicode folds.
    #[test]
    fn folded_prefilter_passes_what_the_matcher_accepts() {
        use crate::pattern::Pattern;
        use crate::pattern::ast::Alt;
        use crate::pattern::text::{GlobTok, TextGlob};
        use crate::query::{Filters, Query, View, ViewPattern};
        use proptest::prelude::*;
        let piece = prop::sample::select(vec![
            "a", "A", "k", "K", "s", "S", "\u{17F}", "\u{212A}", "é", "É", "\u{130}", "-", "\"",
        ]);
        let value = prop::collection::vec(piece, 0..12).prop_map(|v| v.concat());
        let lit = prop::collection::vec(prop::sample::select(vec!["a", "K", "s", "S", "k"]), 1..4)
            .prop_map(|v| v.concat());
        proptest!(ProptestConfig::with_cases(3000), |(lit in lit, value in value, shape in 0..3u8)| {
            let toks = match shape {
                0 => vec![GlobTok::Lit(lit.clone())],
                1 => vec![GlobTok::Star, GlobTok::Lit(lit.clone()), GlobTok::Star],
                _ => vec![GlobTok::Lit(lit.clone()), GlobTok::Star],
            };
            let glob = TextGlob::new(toks, false).unwrap();
            let pattern = Pattern::from_dnf(vec![vec![
                ("f".into(), vec![Alt::TextGlob(glob.clone())]),
            ]]).unwrap();
            let query = Query::from_patterns(
                &Filters::default(),
                vec![ViewPattern { pattern, view: View::Record }],
                true,
            ).unwrap();
            prop_assert!(query.prefilter().is_active());
            let record = serde_json::json!({ "g": "x", "f": value }).to_string();
            if glob.matches(&value) {
                prop_assert!(query.prefilter().maybe(record.as_bytes()), "{} {}", lit, record);
            }
        });
    }
}
