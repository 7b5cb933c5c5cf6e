//! [`Counter`]: a [`Tally`] per distinct text, for fields with a million values.
//!
//! A map from boxed strings pays, for every new value, an allocation, and for every lookup of
//! a known one a pointer chase to compare its text; when the table grows it hashes every text
//! again. Here the texts sit end to end in one arena, and each entry keeps its text's hash: a
//! lookup compares hashes before texts, growing rehashes nothing, and a new value is an append.
//! The caller hashes the text (with [`super::distinct_hash`]), so a value that is also counted
//! as distinct in a group is hashed once.

use super::Tally;
use hashbrown::HashTable;

/// Tallies by text. Equal when they hold the same texts with the same tallies.
#[derive(Debug, Clone, Default)]
pub struct Counter {
    table: HashTable<Entry>,
    /// Every text, end to end.
    arena: String,
}

#[derive(Debug, Clone)]
struct Entry {
    hash: u64,
    /// The text: `arena[start..start + len]`.
    start: usize,
    len: usize,
    tally: Tally,
}

impl Counter {
    fn text(&self, e: &Entry) -> &str {
        &self.arena[e.start..e.start + e.len]
    }

    /// The tally of `text`, whose hash is `hash`, created when it is new.
    #[inline]
    fn slot(&mut self, text: &str, hash: u64) -> &mut Tally {
        use hashbrown::hash_table::Entry as Slot;
        let Counter { table, arena } = self;
        let same = |e: &Entry| e.hash == hash && &arena[e.start..e.start + e.len] == text;
        match table.entry(hash, same, |e| e.hash) {
            Slot::Occupied(o) => &mut o.into_mut().tally,
            Slot::Vacant(v) => {
                let start = arena.len();
                arena.push_str(text);
                let entry = Entry { hash, start, len: text.len(), tally: Tally::default() };
                &mut v.insert(entry).into_mut().tally
            }
        }
    }

    /// Counts one record with `text` (whose hash is `hash`) at time `t`.
    #[inline]
    pub fn add(&mut self, text: &str, hash: u64, t: Option<i64>) {
        self.slot(text, hash).add(t);
    }

    /// Adds `other` into `self` (hashes are the same in every counter of a run).
    pub fn merge(&mut self, other: &Counter) {
        self.table.reserve(other.len(), |e| e.hash);
        for e in &other.table {
            self.slot(other.text(e), e.hash).merge(&e.tally);
        }
    }

    /// Distinct texts.
    #[must_use]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether nothing was counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Every text and its tally, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tally)> {
        self.table.iter().map(|e| (self.text(e), &e.tally))
    }
}

impl PartialEq for Counter {
    fn eq(&self, other: &Counter) -> bool {
        self.len() == other.len() && {
            let theirs: std::collections::HashMap<&str, &Tally> = other.iter().collect();
            self.iter().all(|(k, t)| theirs.get(k) == Some(&t))
        }
    }
}

impl Eq for Counter {}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(s: &str) -> u64 {
        super::super::distinct_hash(s)
    }

    /// The tally of `text`, by looking at every entry.
    fn get<'c>(c: &'c Counter, text: &str) -> Option<&'c Tally> {
        c.iter().find(|(k, _)| *k == text).map(|(_, t)| t)
    }

    #[test]
    fn counts_merges_and_compares() {
        let mut a = Counter::default();
        for (s, t) in [("x", 5), ("y", 1), ("x", 2), ("", 9)] {
            a.add(s, hash(s), Some(t));
        }
        a.add("y", hash("y"), None);
        assert_eq!(a.len(), 3);
        let x = get(&a, "x").unwrap();
        assert_eq!((x.count, x.first(), x.last()), (2, Some(2), Some(5)));
        assert_eq!(get(&a, "y").unwrap().count, 2);
        assert_eq!(get(&a, "").unwrap().count, 1);
        assert!(get(&a, "z").is_none());

        let mut b = Counter::default();
        b.add("z", hash("z"), Some(1));
        b.add("x", hash("x"), Some(9));
        let mut ab = a.clone();
        ab.merge(&b);
        let x = get(&ab, "x").unwrap();
        assert_eq!((x.count, x.first(), x.last()), (3, Some(2), Some(9)));
        assert_eq!(ab.len(), 4);

        // Equality ignores insertion order.
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_ne!(ab, a);
    }

    #[test]
    fn colliding_hashes_keep_texts_apart() {
        let mut c = Counter::default();
        for s in ["a", "b", "a", "c"] {
            c.add(s, 7, None);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(get(&c, "a").unwrap().count, 2);
        let mut d = Counter::default();
        d.add("b", 7, None);
        d.merge(&c);
        assert_eq!(get(&d, "b").unwrap().count, 2);
    }
}
