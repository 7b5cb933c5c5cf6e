//! A byte-level test that rules out files and records before any JSON is parsed.
//!
//! It may only answer "maybe" or "no". The clauses come from the patterns: every match must
//! contain, for each clause, one of its strings inside some string value. JSON may write any
//! character as a `\uXXXX` escape, `/` as `\/`, and must escape `"`, `\` and control
//! characters; so each literal is cut at those characters and its longest piece is searched,
//! and any text containing `\u` is a "maybe".

use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;

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
    /// Many needles (a trace's access key ids, long lists of event names): one automaton.
    Many(AhoCorasick, Vec<String>),
}

impl Clause {
    fn new(needles: &[&str]) -> Clause {
        if needles.len() > MULTI_LITERAL
            && let Ok(ac) = AhoCorasick::new(needles)
        {
            return Clause::Many(ac, needles.iter().map(|n| (*n).to_string()).collect());
        }
        Clause::Few(needles.iter().map(|n| Finder::new(n.as_bytes()).into_owned()).collect())
    }

    fn found_in(&self, text: &[u8]) -> bool {
        match self {
            Clause::Few(finders) => finders.iter().any(|f| f.find(text).is_some()),
            Clause::Many(ac, _) => ac.is_match(text),
        }
    }

    fn needles(&self) -> Vec<String> {
        match self {
            Clause::Few(finders) => {
                finders.iter().map(|f| String::from_utf8_lossy(f.needle()).into_owned()).collect()
            }
            Clause::Many(_, needles) => needles.clone(),
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
        assert!(matches!(many.clauses[0], Clause::Many(..)));
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
    }
}
