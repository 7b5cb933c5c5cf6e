//! A byte-level test that rules out files and records before any JSON is parsed.
//!
//! It may only answer "maybe" or "no". The clauses come from the patterns: every match must
//! contain, for each clause, one of its strings inside some string value. JSON may write any
//! character as a `\uXXXX` escape, `/` as `\/`, and must escape `"`, `\` and control
//! characters; so each literal is cut at those characters and its longest piece is searched,
//! and any text containing `\u` is a "maybe".

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use memchr::memmem::Finder;
use rustc_hash::FxHashSet;

/// A compiled prefilter; `Prefilter::default()` says "maybe" to everything.
#[derive(Debug, Clone, Default)]
pub struct Prefilter {
    clauses: Vec<Clause>,
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
    Many(AhoCorasick, Vec<String>),
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
        // A DFA: the fastest automaton to search with, built once per query.
        match AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).build(needles) {
            Ok(ac) => Clause::Many(ac, all()),
            Err(_) => Clause::few(needles),
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
            Clause::Many(ac, _) => ac.is_match(text),
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
        Prefilter { clauses: out }
    }

    /// Whether the prefilter can rule anything out at all.
    #[must_use]
    pub fn is_active(&self) -> bool {
        !self.clauses.is_empty()
    }

    /// `false` only if `text` (a file or one record) cannot hold a match.
    #[must_use]
    pub fn maybe(&self, text: &[u8]) -> bool {
        if self.clauses.is_empty() {
            return true;
        }
        if self.clauses.iter().all(|c| c.found_in(text)) {
            return true;
        }
        has_unicode_escape(text)
    }

    /// The searched strings, for `--explain`.
    #[must_use]
    pub fn describe(&self) -> Vec<Vec<String>> {
        self.clauses.iter().map(Clause::needles).collect()
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
}
