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

use crate::pattern::StrKey;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem::Finder;
use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::RefCell;
use std::sync::Arc;

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
    /// For single records ([`Prefilter::maybe_record`]): the patterns chosen by the record's
    /// `eventName`, each with its own clauses.
    dispatch: Option<Arc<Dispatch>>,
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
        Prefilter { clauses: out, folded: Vec::new(), dispatch: None }
    }

    /// Adds clauses of raw-text fragments (see
    /// `Pattern::literal_clauses_folded`: ASCII, no `\`, `/` or control
    /// character, a `"` only at an end), searched ignoring ASCII case. A clause holding
    /// anything else is left out (no claim).
    pub fn add_folded(&mut self, clauses: &[Vec<String>]) {
        'clause: for clause in clauses {
            let mut needles: Vec<String> = Vec::new();
            for lit in clause {
                let Some(needle) = folded_needle(lit) else { continue 'clause };
                needles.push(needle);
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

    /// Like [`Prefilter::maybe`] for one record. The prefilter of a prefilter-only query
    /// ([`crate::query::Query::prefilter_only`]) first reads the record's `eventName` (a byte
    /// search for the key): then the record may match only if the flags' clauses hold and the
    /// clauses of a pattern its name selects, or of one that names no event, hold (for the
    /// latter, one field's clause in that field's values). That needs no search
    /// ignoring case of the whole record for most records, and passes fewer (a pattern's
    /// clauses together, not one clause of the union). Where the name cannot be read so, as
    /// [`Prefilter::maybe`].
    #[must_use]
    pub fn maybe_record(&self, text: &[u8]) -> bool {
        if !self.is_active() {
            return true;
        }
        if let Some(d) = &self.dispatch
            && let Some((names, n)) = event_names(text)
        {
            return d.maybe(text, &names[..n]);
        }
        self.maybe(text)
    }

    /// [`Prefilter::maybe`], with `text` lower-cased (ASCII) in `lower` already (when there
    /// are folded clauses).
    fn maybe_lowered(&self, text: &[u8], lower: &[u8]) -> bool {
        let exact = self.clauses.iter().all(|c| c.found_in(text));
        if exact && self.folded.iter().all(|(acs, _)| acs.iter().any(|ac| ac.is_match(lower))) {
            return true;
        }
        has_unicode_escape(text) || (exact && has_case_twin(text))
    }

    /// Sets the patterns [`Prefilter::maybe_record`] chooses by a record's `eventName`.
    pub(crate) fn set_dispatch(&mut self, dispatch: Dispatch) {
        self.dispatch = Some(Arc::new(dispatch));
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

/// Which patterns can match a record, by the record's `eventName` (each pattern's
/// [`crate::pattern::Pattern::string_keys`] at its `eventName` path): shared by the record
/// prefilter ([`Prefilter::maybe_record`]) and the audit's tester, so both choose alike.
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    exact: FxHashMap<String, Vec<usize>>,
    prefix: Vec<(String, usize)>,
    /// By the lower-cased name (ASCII names only).
    nocase: FxHashMap<String, Vec<usize>>,
    /// Every pattern in `nocase`: chosen for a name that is not ASCII (Unicode case folding
    /// matches U+212A to `k`: the matcher decides).
    nocase_all: Vec<usize>,
}

impl NameIndex {
    /// Pattern `i` can match only a record whose name one of `keys` accepts.
    pub(crate) fn add(&mut self, i: usize, keys: Vec<StrKey>) {
        for k in keys {
            match k {
                StrKey::Exact(s) => self.exact.entry(s).or_default().push(i),
                StrKey::Prefix(p) => self.prefix.push((p, i)),
                StrKey::AsciiNoCase(s) => {
                    self.nocase.entry(s).or_default().push(i);
                    if !self.nocase_all.contains(&i) {
                        self.nocase_all.push(i);
                    }
                }
            }
        }
    }

    /// Calls `each` with every pattern a record whose only `eventName` is `name` may match
    /// (a pattern may come more than once), until it returns `true`; whether one did.
    pub(crate) fn any(&self, name: &str, mut each: impl FnMut(usize) -> bool) -> bool {
        if let Some(v) = self.exact.get(name)
            && v.iter().any(|&i| each(i))
        {
            return true;
        }
        if self.prefix.iter().any(|(p, i)| name.starts_with(p.as_str()) && each(*i)) {
            return true;
        }
        if self.nocase.is_empty() {
            return false;
        }
        if !name.is_ascii() {
            return self.nocase_all.iter().any(|&i| each(i));
        }
        let mut buf = [0u8; 64];
        let lower: std::borrow::Cow<'_, str> = match buf.get_mut(..name.len()) {
            Some(b) => {
                for (d, s) in b.iter_mut().zip(name.bytes()) {
                    *d = s.to_ascii_lowercase();
                }
                // ASCII: UTF-8.
                std::borrow::Cow::Borrowed(std::str::from_utf8(b).unwrap_or_default())
            }
            None => std::borrow::Cow::Owned(name.to_ascii_lowercase()),
        };
        self.nocase.get(lower.as_ref()).is_some_and(|v| v.iter().any(|&i| each(i)))
    }
}

/// The patterns of a prefilter-only query, for single records: a record can match only a
/// pattern its `eventName` selects, or one that names no event, and only if that pattern's
/// own clauses hold ([`Prefilter::maybe_record`]).
#[derive(Debug)]
pub(crate) struct Dispatch {
    /// The filter flags' clauses (every match holds them).
    flags: Prefilter,
    names: NameIndex,
    /// Per pattern the index names: all its own clauses.
    patterns: Vec<Prefilter>,
    /// Patterns that name no event, each by one clause on one field ([`Scoped`]).
    scoped: Vec<Scoped>,
    /// The other patterns that name no event, as one prefilter (the union of their clauses),
    /// if any.
    others: Option<Prefilter>,
}

thread_local! {
    /// A value lower-cased (ASCII) for a folded [`Scoped`] clause, reused between calls.
    static LOWER_VALUE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A pattern's clause on one field, searched only in the values of keys named as the
/// field's last key (for a pattern that names no event, tested on every record: a byte
/// search for the key is cheaper than searching the whole record, ignoring case).
#[derive(Debug)]
pub(crate) struct Scoped {
    /// The field's last key and the quote that closes it (`type"` for `userIdentity.type`).
    key: Finder<'static>,
    /// The clause's needles (lower-cased when `fold`).
    needles: Vec<Finder<'static>>,
    /// Searched ignoring ASCII case.
    fold: bool,
    /// Folded needles that are each a whole value with its quotes (`"root"`, from a Sigma
    /// value without wildcards): in a string value written without `\` such a needle can
    /// only be the value itself, compared ignoring case without a lower-cased copy.
    whole: Option<Vec<Box<[u8]>>>,
}

impl Scoped {
    /// For a record's dotted field path and a clause on it ([`crate::pattern::Pattern`]'s
    /// `field_clauses`), exact or folded; `None` when the key or a needle cannot be searched
    /// so.
    pub(crate) fn new(path: &str, clause: &[String], fold: bool) -> Option<Scoped> {
        let last = path.rsplit('.').next()?;
        if last.is_empty()
            || !last.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return None;
        }
        let mut needles: Vec<String> = Vec::new();
        for lit in clause {
            if fold {
                needles.push(folded_needle(lit)?);
            } else {
                needles.push(verbatim_piece(lit)?.to_string());
            }
        }
        needles.sort_unstable();
        needles.dedup();
        if needles.is_empty() {
            return None;
        }
        let whole = (fold
            && needles.iter().all(|n| n.len() >= 2 && n.starts_with('"') && n.ends_with('"')))
        .then(|| needles.iter().map(|n| n.as_bytes().into()).collect());
        Some(Scoped {
            key: Finder::new(format!("{last}\"").as_bytes()).into_owned(),
            needles: needles.iter().map(|n| Finder::new(n.as_bytes()).into_owned()).collect(),
            fold,
            whole,
        })
    }

    /// The length of the key searched (a longer key is rarer).
    pub(crate) fn key_len(&self) -> usize {
        self.key.needle().len()
    }

    /// `false` only if no value of such a key holds a needle and each is a string: the
    /// pattern cannot match a record without a `\u` escape (the caller checks).
    fn holds(&self, text: &[u8]) -> bool {
        let k = self.key.needle().len();
        for at in self.key.find_iter(text) {
            if at == 0 || !matches!(text[at - 1], b'"' | b'.') {
                continue;
            }
            let colon = skip_ws(text, at + k);
            if text.get(colon) != Some(&b':') {
                continue;
            }
            let open = skip_ws(text, colon + 1);
            if text.get(open) != Some(&b'"') {
                // Not a string: the pattern decides.
                return true;
            }
            let Some(end) = string_end(text, open + 1) else {
                return true;
            };
            if self.found_in(&text[open..=end]) {
                return true;
            }
        }
        false
    }

    /// Whether a value's raw text (with its quotes) holds a needle.
    fn found_in(&self, value: &[u8]) -> bool {
        if !self.fold {
            return self.needles.iter().any(|n| n.find(value).is_some());
        }
        if has_case_twin(value) {
            return true;
        }
        // The value's only quotes are its ends when it holds no `\`, and a whole-value
        // needle has quotes only at its ends: it is in the value only as the value.
        if let Some(whole) = &self.whole
            && let Some(inner) = value.get(1..value.len().saturating_sub(1))
            && !inner.contains(&b'\\')
        {
            return whole.iter().any(|w| w.eq_ignore_ascii_case(value));
        }
        LOWER_VALUE.with_borrow_mut(|lower| {
            lower.clear();
            lower.extend(value.iter().map(u8::to_ascii_lowercase));
            self.needles.iter().any(|n| n.find(lower).is_some())
        })
    }
}

/// The index of the quote that closes the string whose text starts at `from`, if any.
fn string_end(text: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', text.get(i..)?)?;
        if text[j] == b'"' {
            return Some(j);
        }
        // An escape: the next byte is its character (or the start of `uXXXX`).
        i = j + 2;
    }
}

impl Dispatch {
    /// From the flags' prefilter, the patterns that name their events (their keys, their own
    /// prefilter) and the prefilter of those that do not (if any).
    pub(crate) fn new(
        flags: Prefilter,
        named: Vec<(Vec<StrKey>, Prefilter)>,
        scoped: Vec<Scoped>,
        others: Option<Prefilter>,
    ) -> Dispatch {
        let mut names = NameIndex::default();
        let mut patterns = Vec::new();
        for (i, (keys, pf)) in named.into_iter().enumerate() {
            names.add(i, keys);
            patterns.push(pf);
        }
        Dispatch { flags, names, patterns, scoped, others }
    }

    fn maybe(&self, text: &[u8], names: &[&str]) -> bool {
        if !self.flags.maybe(text) {
            return false;
        }
        if self.scoped.iter().any(|s| s.holds(text)) {
            return true;
        }
        if text.len() > PIECE {
            // A long record: each prefilter folds it a piece at a time.
            return self.others.as_ref().is_some_and(|o| o.maybe(text))
                || names.iter().any(|n| self.names.any(n, |i| self.patterns[i].maybe(text)));
        }
        LOWER.with_borrow_mut(|lower| {
            let mut lowered = false;
            let mut holds = |p: &Prefilter| {
                if !lowered && !p.folded.is_empty() {
                    lower.clear();
                    lower.extend(text.iter().map(u8::to_ascii_lowercase));
                    lowered = true;
                }
                p.maybe_lowered(text, lower)
            };
            self.others.as_ref().is_some_and(&mut holds)
                || names.iter().any(|n| self.names.any(n, |i| holds(&self.patterns[i])))
        })
    }
}

/// The most `"eventName"` keys [`event_names`] reads in one record.
const NAMES: usize = 4;

/// The JSON key `eventName`, as written without escapes.
static EVENT_NAME_KEY: std::sync::LazyLock<Finder<'static>> =
    std::sync::LazyLock::new(|| Finder::new(b"\"eventName\"").into_owned());

/// Skips JSON whitespace from `i`.
fn skip_ws(text: &[u8], mut i: usize) -> usize {
    while matches!(text.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The strings the record's text gives the key `eventName` (anywhere: the top-level key is
/// one of them), when each is a string written without escapes; `None` when the record may
/// hold a top-level `eventName` that is not one of them or not such a string: no such key,
/// a `\u` escape anywhere (a key may be spelled with one), a value that is not a string or
/// holds a `\`, more than [`NAMES`] keys, or text that is not UTF-8.
fn event_names(text: &[u8]) -> Option<([&str; NAMES], usize)> {
    if has_unicode_escape(text) {
        return None;
    }
    let mut names = [""; NAMES];
    let mut n = 0;
    for at in EVENT_NAME_KEY.find_iter(text) {
        let colon = skip_ws(text, at + EVENT_NAME_KEY.needle().len());
        if text.get(colon) != Some(&b':') {
            // A string value, not a key.
            continue;
        }
        let open = skip_ws(text, colon + 1);
        if text.get(open) != Some(&b'"') || n == NAMES {
            return None;
        }
        let start = open + 1;
        let len = memchr::memchr2(b'"', b'\\', &text[start..])?;
        if text[start + len] != b'"' {
            return None;
        }
        names[n] = std::str::from_utf8(&text[start..start + len]).ok()?;
        n += 1;
    }
    (n > 0).then_some((names, n))
}

/// A raw-text fragment searched ignoring ASCII case, lower-cased: ASCII, no `\`, `/` or
/// control character, a `"` only at an end (`None`: anything else, of which no claim is made).
fn folded_needle(lit: &str) -> Option<String> {
    let inner = lit.strip_prefix('"').unwrap_or(lit);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let fragment = !lit.is_empty()
        && lit.chars().all(|c| c.is_ascii() && !c.is_ascii_control() && c != '\\' && c != '/')
        && !inner.contains('"');
    fragment.then(|| lit.to_ascii_lowercase())
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

    #[test]
    fn event_names_are_read_from_keys_only() {
        fn names(t: &str) -> Option<Vec<&str>> {
            event_names(t.as_bytes()).map(|(n, k)| n[..k].to_vec())
        }
        assert_eq!(names(r#"{"eventName":"CreateUser"}"#), Some(vec!["CreateUser"]));
        assert_eq!(names("{\"eventName\" :\n\t\"A\" , \"x\":1}"), Some(vec!["A"]));
        // Nested keys count too (a union); a value spelled `eventName` does not.
        assert_eq!(
            names(r#"{"a":"eventName","r":{"eventName":"B"},"eventName":"C"}"#),
            Some(vec!["B", "C"])
        );
        assert_eq!(names(r#"{"eventName":""}"#), Some(vec![""]));
        // Cannot be read so: the record is tested as before.
        for t in [
            r#"{"eventName":["CreateUser"]}"#,
            r#"{"eventName":null}"#,
            r#"{"eventName":"Create\"User"}"#,
            r#"{"eventName":"CreateUser\n"}"#,
            r#"{"event\u004eame":"CreateUser"}"#,
            r#"{"eventName":"CreateUser","x":"\u0041"}"#,
            r#"{"eventSource":"iam.amazonaws.com"}"#,
            r#"{"eventName":"CreateUs"#,
            r#"{"eventName":"1","eventName":"2","eventName":"3","eventName":"4","eventName":"5"}"#,
        ] {
            assert_eq!(names(t), None, "{t}");
        }
        assert_eq!(event_names(b"{\"eventName\":\"\xff\"}").map(|x| x.1), None);
    }

    #[test]
    fn whole_value_needles_answer_as_the_search() {
        // A scoped clause of whole values (`"root"`) compares a value written without `\`
        // instead of lower-casing it and searching: the same answers as the search.
        use proptest::prelude::*;
        let needle = prop::sample::select(vec![
            "\"Root\"",
            "\"root\"",
            "\"\"",
            "\"AccessDenied\"",
            "\"a b\"",
        ]);
        let needles = prop::collection::vec(needle, 1..3);
        let piece = prop::sample::select(vec![
            "root",
            "ROOT",
            "Ro",
            "ot",
            "\\\"",
            "\\\\",
            "\\u0052",
            "x",
            " ",
            "a b",
            "A B",
            "accessdenied",
            "\u{212A}",
            "\u{17F}",
            "\"",
            "",
        ]);
        let value = prop::collection::vec(piece, 0..5);
        proptest!(ProptestConfig::with_cases(3000), |(needles in needles, value in value)| {
            let clause: Vec<String> = needles.iter().map(|n| (*n).to_string()).collect();
            let fast = Scoped::new("userIdentity.type", &clause, true).unwrap();
            prop_assert!(fast.whole.is_some());
            let slow = Scoped { whole: None, ..Scoped::new("userIdentity.type", &clause, true).unwrap() };
            // As `holds` cuts it: from the opening quote to the first unescaped quote.
            let text = format!("\"{}\"", value.concat());
            let Some(end) = string_end(text.as_bytes(), 1) else {
                return Ok(());
            };
            let v = &text.as_bytes()[..=end];
            prop_assert_eq!(fast.found_in(v), slow.found_in(v), "{}", text);
            let record = format!("{{\"userIdentity\":{{\"type\":{text}}}}}");
            prop_assert_eq!(fast.holds(record.as_bytes()), slow.holds(record.as_bytes()), "{}", record);
        });
        // Not all whole: searched as before.
        let mixed = Scoped::new("errorCode", &["\"accessdenied".into(), "\"root\"".into()], true);
        assert!(mixed.unwrap().whole.is_none());
        let exact = Scoped::new("userIdentity.type", &["Root".into()], false);
        assert!(exact.unwrap().whole.is_none());
    }

    /// The record prefilter of a prefilter-only query passes every record some pattern
    /// matches (whatever the shape and spelling of its `eventName` and of the fields checked
    /// for the patterns that name no event), and no record the query's whole prefilter rules
    /// out but where such a field holds no string.
    #[test]
    fn record_prefilter_passes_what_the_patterns_match() {
        use crate::pattern::Pattern;
        use crate::pattern::ast::Alt;
        use crate::pattern::text::{GlobTok, TextGlob};
        use crate::query::{Filters, Query, ViewPattern};
        use proptest::prelude::*;
        let texts = [
            r#"{"eventSource":["iam.amazonaws.com"],"eventName":["CreateUser","DeleteUser"]}"#,
            r#"{"eventName":[{"prefix":"Attach"}],"requestParameters":{"policyArn":[{"suffix":":policy/AdministratorAccess"}]}}"#,
            r#"{"eventName":[{"equals-ignore-case":"getobject"}],"userAgent":[{"prefix":"kali"}]}"#,
            r#"{"errorCode":["AccessDenied"]}"#,
            r#"{"source":["aws.iam"],"detail":{"eventName":["StopLogging"]}}"#,
        ];
        let mut patterns: Vec<ViewPattern> =
            texts.iter().map(|t| ViewPattern::new(Pattern::parse(t).unwrap())).collect();
        // Sigma values: whole (any case) and `contains`; a rule's clauses, all of them.
        let whole =
            |s: &str| Alt::TextGlob(TextGlob::new(vec![GlobTok::Lit(s.into())], false).unwrap());
        let contains = |s: &str| {
            let toks = vec![GlobTok::Star, GlobTok::Lit(s.into()), GlobTok::Star];
            Alt::TextGlob(TextGlob::new(toks, false).unwrap())
        };
        let rule = |clauses: Vec<(&str, Alt)>| {
            let and = clauses.into_iter().map(|(f, a)| (f.into(), vec![a])).collect();
            ViewPattern::new(Pattern::from_dnf(vec![and]).unwrap())
        };
        // `eventName: ConsoleLogin` and `userAgent|contains: Sqlmap`; then rules that name
        // no event: `userAgent|contains: kali`, `userIdentity.type: Root`.
        patterns.push(rule(vec![
            ("eventName", whole("ConsoleLogin")),
            ("userAgent", contains("Sqlmap")),
        ]));
        patterns.push(rule(vec![("userAgent", contains("kali"))]));
        patterns.push(rule(vec![("userIdentity.type", whole("Root"))]));
        let filtered = Filters { regions: vec!["us-east-1".into()], ..Filters::default() };
        let queries: Vec<Query> = [Filters::default(), filtered]
            .iter()
            .map(|f| Query::prefilter_only(f, patterns.clone(), true).unwrap())
            .collect();
        // A policy named AdministratorAccess, in a record no pattern names: the union
        // of one clause per pattern lets it through, the record prefilter does not.
        let sso = r#"{"eventName":"AssumeRole","eventSource":"sts.amazonaws.com","policyArn":"arn:aws:iam::1:policy/AdministratorAccess"}"#;
        assert!(queries[0].prefilter().maybe(sso.as_bytes()));
        assert!(!queries[0].prefilter().maybe_record(sso.as_bytes()));
        let attach = r#"{"eventName":"AttachRolePolicy","requestParameters":{"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}}"#;
        assert!(queries[0].prefilter().maybe_record(attach.as_bytes()));
        assert!(!queries[1].prefilter().maybe_record(attach.as_bytes()));
        // A pattern that names no event is checked in its field's values only.
        let ua = |t: &str| queries[0].prefilter().maybe_record(t.as_bytes());
        assert!(ua(r#"{"eventName":"Other","userAgent":"x KALI"}"#));
        assert!(ua(r#"{"eventName":"Other","userIdentity":{"type":"root"}}"#));
        assert!(queries[0].prefilter().maybe(br#"{"eventName":"Other","x":"kali"}"#));
        assert!(!ua(r#"{"eventName":"Other","x":"kali","userAgent":"curl"}"#));
        assert!(!ua(r#"{"eventName":"Other","userIdentity":{"type":"IAMUser"},"x":"Root"}"#));
        let key = prop::sample::select(vec![
            "\"eventName\":",
            "\"eventName\" : ",
            "\"event\\u004eame\":",
            "\"EventName\":",
            "\"x\":\"eventName\",\"eventName\":",
        ]);
        let name = prop::sample::select(vec![
            "\"CreateUser\"",
            "\"createuser\"",
            "\"AttachRolePolicy\"",
            "\"CONSOLElogin\"",
            "\"Console\u{212A}ogin\"",
            "\"GetObject\"",
            "\"StopLogging\"",
            "\"Stop\\u004cogging\"",
            "[\"CreateUser\"]",
            "null",
            "\"Other\"",
        ]);
        let field = prop::sample::select(vec![
            r#""eventSource":"iam.amazonaws.com""#,
            r#""errorCode":"AccessDenied""#,
            r#""userAgent":"Kali Linux""#,
            r#""userAgent":"x SQLMAP y""#,
            r#""requestParameters":{"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#,
            r#""requestParameters":{"eventName":"CreateUser"}"#,
            r#""awsRegion":"us-east-1""#,
            r#""x":"y""#,
            r#""userAgent":"a \"KALI\" b""#,
            r#""userAgent":["kali"]"#,
            "\"userAgent\":\"\u{212A}ali\"",
            r#""userAgent" : "Kali""#,
            r#""userIdentity":{"type":"ROOT"}"#,
            r#""userIdentity":{"type":"IAMUser","x":{"type":"root"}}"#,
            r#""userIdentity.type":"root""#,
            r#""userIdentity":{"type":null}"#,
            r#""userIdentity":{"ty\u0070e":"Root"}"#,
            r#""type":"Root""#,
            r#""userIdentity":[{"type":"Root"}]"#,
            r#""userIdentity" : { "x" : [1, {"a":"}"}], "type" : "root" }"#,
            r#""userIdentity":{"type":"Root","type":"IAMUser"}"#,
            r#""userIdentity":{"type":"Roo\"t"}"#,
        ]);
        let fields = prop::collection::vec(field, 0..5);
        proptest!(ProptestConfig::with_cases(4000), |(key in key, name in name, fields in fields, at in 0..5usize)| {
            let mut parts: Vec<String> = fields.iter().map(|f| (*f).to_string()).collect();
            parts.insert(at.min(parts.len()), format!("{key}{name}"));
            let text = format!("{{{}}}", parts.join(","));
            let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
                return Ok(());
            };
            for q in &queries {
                let pf = q.prefilter();
                let flags = q.flags().is_none_or(|f| f.matches_record(&record));
                let matches = flags && patterns.iter().any(|p| p.matches_record(&record));
                let passed = pf.maybe_record(text.as_bytes());
                prop_assert!(!matches || passed, "{}", text);
                // Fewer pass, but where a field a pattern is checked on holds no string
                // (the pattern decides).
                let odd = text.contains("null") || text.contains(":[");
                prop_assert!(!passed || odd || pf.maybe(text.as_bytes()), "{}", text);
            }
        });
    }
}
