//! [`Counter`]: a [`Tally`] per distinct text, for fields with a million values, and the
//! `--by` groups each text was seen in.
//!
//! A map from boxed strings pays, for every new value, an allocation, and for every lookup of
//! a known one a pointer chase to compare its text; when the table grows it hashes every text
//! again. Here the texts sit end to end in one arena, and each entry keeps its text's hash: a
//! lookup compares hashes before texts, growing rehashes nothing, and a new value is an append.
//! The caller hashes the text (with [`super::distinct_hash`]).
//!
//! The distinct values of a field within each `--by` group are kept here too, as the groups
//! each entry was seen in: two inline in the entry (most values of a field with a million of
//! them are seen in one group), then a bitset per entry (a value seen in many groups is one of
//! the few common ones: an account, a region, a busy role). A record's value is then looked
//! up once, for its count and for its group, and what is read for the group is in the cache
//! already; a set of values per group would cost a second lookup, into a table as large as
//! the field, for every record. Bitsets cover the first [`BITSET_GROUPS`] groups, so that a
//! `--by` of a million groups cannot make them large: later groups of such values go to a
//! set of (entry, group) pairs.

use super::Tally;
use hashbrown::HashTable;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// A `--by` group, numbered by the [`super::Summary`] that holds the counter (at most
/// [`MAX_GROUP`]).
pub type GroupId = u32;

/// The largest group number.
pub const MAX_GROUP: GroupId = GroupId::MAX - 2;

/// No group (an empty inline slot).
const NO_GROUP: GroupId = GroupId::MAX;

/// In an entry's first inline slot: its groups are in a bitset, whose index is in the second.
const IN_BITSET: GroupId = GroupId::MAX - 1;

/// Groups numbered below this go to bitsets (at most 512 bytes each); the rest to pairs.
pub const BITSET_GROUPS: usize = 4096;

/// Tallies by text. Equal when they hold the same texts with the same tallies (the groups
/// are compared by [`super::Summary`], which knows what their numbers stand for).
#[derive(Debug, Clone, Default)]
pub struct Counter {
    table: HashTable<Entry>,
    /// Every text, end to end.
    arena: String,
    /// The groups of entries seen in more than two.
    beyond: Beyond,
}

/// Where the groups of an entry seen in more than two go.
#[derive(Debug, Clone, Default)]
struct Beyond {
    /// Bitsets over groups below [`BITSET_GROUPS`], by index.
    sets: Vec<Vec<u64>>,
    /// The other groups: (entry's `start`, group).
    pairs: HashSet<(usize, GroupId)>,
}

#[derive(Debug, Clone)]
struct Entry {
    hash: u64,
    /// The text: `arena[start..start + len]` (`start` also names the entry).
    start: usize,
    len: usize,
    /// The groups the text was seen in: up to two ([`NO_GROUP`]: an empty slot, the first
    /// filled first), or [`IN_BITSET`] and the index of a bitset in [`Beyond::sets`].
    groups: [GroupId; 2],
    tally: Tally,
}

impl Entry {
    /// Notes that the text was seen in group `g` (at most [`MAX_GROUP`]).
    #[inline]
    fn join(&mut self, g: GroupId, beyond: &mut Beyond) {
        let [a, b] = self.groups;
        if a == IN_BITSET {
            let Some(set) = beyond.sets.get_mut(b as usize) else { return };
            let word = g as usize / 64;
            if word < BITSET_GROUPS / 64 {
                if set.len() <= word {
                    set.resize(word + 1, 0);
                }
                set[word] |= 1 << (g % 64);
            } else {
                beyond.pairs.insert((self.start, g));
            }
        } else if a == g || b == g {
        } else if a == NO_GROUP {
            self.groups[0] = g;
        } else if b == NO_GROUP {
            self.groups[1] = g;
        } else if let Ok(at) = GroupId::try_from(beyond.sets.len()) {
            beyond.sets.push(Vec::new());
            self.groups = [IN_BITSET, at];
            for h in [a, b, g] {
                self.join(h, beyond);
            }
        } else {
            // Four billion bitsets cannot be: kept correct all the same.
            beyond.pairs.insert((self.start, g));
        }
    }

    /// The groups noted in the entry itself and its bitset (not those in [`Beyond::pairs`]).
    fn groups<'b>(&self, beyond: &'b Beyond) -> impl Iterator<Item = GroupId> + 'b {
        let [a, b] = self.groups;
        let (inline, set): ([GroupId; 2], &[u64]) = if a == IN_BITSET {
            ([NO_GROUP; 2], beyond.sets.get(b as usize).map_or(&[][..], Vec::as_slice))
        } else {
            ([a, b], &[])
        };
        let bits = set.iter().zip(0..).flat_map(|(&word, w): (&u64, GroupId)| {
            (0..64).filter(move |i| word & (1 << i) != 0).map(move |i| w * 64 + i)
        });
        inline.into_iter().filter(|g| *g != NO_GROUP).chain(bits)
    }
}

impl Counter {
    fn text(&self, e: &Entry) -> &str {
        &self.arena[e.start..e.start + e.len]
    }

    /// The entry of `text`, whose hash is `hash`, created when it is new.
    #[inline]
    fn slot<'c>(
        table: &'c mut HashTable<Entry>,
        arena: &mut String,
        text: &str,
        hash: u64,
    ) -> &'c mut Entry {
        use hashbrown::hash_table::Entry as Slot;
        let same = |e: &Entry| e.hash == hash && &arena[e.start..e.start + e.len] == text;
        match table.entry(hash, same, |e| e.hash) {
            Slot::Occupied(o) => o.into_mut(),
            Slot::Vacant(v) => {
                let start = arena.len();
                arena.push_str(text);
                let entry = Entry {
                    hash,
                    start,
                    len: text.len(),
                    groups: [NO_GROUP; 2],
                    tally: Tally::default(),
                };
                v.insert(entry).into_mut()
            }
        }
    }

    /// Counts one record with `text` (whose hash is `hash`) at time `t`, and notes that the
    /// text was seen in `group` (at most [`MAX_GROUP`]), if given.
    #[inline]
    pub fn add(&mut self, text: &str, hash: u64, t: Option<i64>, group: Option<GroupId>) {
        let Counter { table, arena, beyond } = self;
        let e = Self::slot(table, arena, text, hash);
        e.tally.add(t);
        if let Some(g) = group {
            e.join(g, beyond);
        }
    }

    /// Adds `other` into `self` (hashes are the same in every counter of a run); `groups`
    /// gives, for each group number of `other`, the number of the same group in `self`.
    pub fn merge(&mut self, other: &Counter, groups: &[GroupId]) {
        let mut pairs: HashMap<usize, Vec<GroupId>> = HashMap::default();
        for (start, g) in &other.beyond.pairs {
            pairs.entry(*start).or_default().push(*g);
        }
        let Counter { table, arena, beyond } = self;
        table.reserve(other.len(), |e| e.hash);
        // `other`'s texts are appended as they are, and a text new here is the one in that
        // copy: it is not read at all (taken in table order, each text read was a cache miss,
        // and they were most of the time a merge took). Texts already here stay, unused, in
        // the copy.
        let base = arena.len();
        arena.push_str(&other.arena);
        let arena = arena.as_str();
        for e in &other.table {
            use hashbrown::hash_table::Entry as Slot;
            let (at, len) = (base + e.start, e.len);
            let same = |m: &Entry| {
                m.hash == e.hash && arena[m.start..m.start + m.len] == arena[at..at + len]
            };
            let mine = match table.entry(e.hash, same, |m| m.hash) {
                Slot::Occupied(o) => o.into_mut(),
                Slot::Vacant(v) => {
                    let entry =
                        Entry { start: at, tally: Tally::default(), groups: [NO_GROUP; 2], ..*e };
                    v.insert(entry).into_mut()
                }
            };
            mine.tally.merge(&e.tally);
            let paired = pairs.get(&e.start).into_iter().flatten().copied();
            for g in e.groups(&other.beyond).chain(paired) {
                if let Some(&g) = groups.get(g as usize) {
                    mine.join(g, beyond);
                }
            }
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
        self.iter_if(|_| true)
    }

    /// The texts whose tally passes `keep`, and their tallies, in no particular order. Only
    /// their texts are read: the arena of a field with a million values is far from the cache.
    pub fn iter_if(&self, keep: impl Fn(&Tally) -> bool) -> impl Iterator<Item = (&str, &Tally)> {
        let kept = self.table.iter().filter(move |e| keep(&e.tally));
        kept.map(|e| (self.text(e), &e.tally))
    }

    /// Every tally, without its text, in no particular order.
    pub fn tallies(&self) -> impl Iterator<Item = &Tally> {
        self.table.iter().map(|e| &e.tally)
    }

    /// Every (entry's `start`, group) noted.
    fn noted(&self) -> impl Iterator<Item = (usize, GroupId)> {
        let kept = self.table.iter().flat_map(|e| e.groups(&self.beyond).map(|g| (e.start, g)));
        kept.chain(self.beyond.pairs.iter().copied())
    }

    /// The distinct texts seen in each of `n` groups (by group number).
    #[must_use]
    pub fn group_sizes(&self, n: usize) -> Vec<usize> {
        let mut sizes = vec![0; n];
        for (_, g) in self.noted() {
            if let Some(s) = sizes.get_mut(g as usize) {
                *s += 1;
            }
        }
        sizes
    }

    /// Every (text, group) the texts were seen in, in no particular order.
    pub fn members(&self) -> impl Iterator<Item = (&str, GroupId)> {
        let texts: HashMap<usize, &str> =
            self.table.iter().map(|e| (e.start, self.text(e))).collect();
        self.noted().filter_map(move |(s, g)| Some((*texts.get(&s)?, g)))
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
            a.add(s, hash(s), Some(t), None);
        }
        a.add("y", hash("y"), None, None);
        assert_eq!(a.len(), 3);
        let x = get(&a, "x").unwrap();
        assert_eq!((x.count, x.first(), x.last()), (2, Some(2), Some(5)));
        assert_eq!(get(&a, "y").unwrap().count, 2);
        assert_eq!(get(&a, "").unwrap().count, 1);
        assert!(get(&a, "z").is_none());

        let mut b = Counter::default();
        b.add("z", hash("z"), Some(1), None);
        b.add("x", hash("x"), Some(9), None);
        let mut ab = a.clone();
        ab.merge(&b, &[]);
        let x = get(&ab, "x").unwrap();
        assert_eq!((x.count, x.first(), x.last()), (3, Some(2), Some(9)));
        assert_eq!(ab.len(), 4);

        // Equality ignores insertion order.
        let mut ba = b.clone();
        ba.merge(&a, &[]);
        assert_eq!(ab, ba);
        assert_ne!(ab, a);
    }

    #[test]
    fn colliding_hashes_keep_texts_apart() {
        let mut c = Counter::default();
        for s in ["a", "b", "a", "c"] {
            c.add(s, 7, None, None);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(get(&c, "a").unwrap().count, 2);
        let mut d = Counter::default();
        d.add("b", 7, None, None);
        d.merge(&c, &[]);
        assert_eq!(get(&d, "b").unwrap().count, 2);
    }

    /// The groups each text was seen in, sorted.
    fn members(c: &Counter) -> Vec<(String, GroupId)> {
        let mut v: Vec<(String, GroupId)> = c.members().map(|(t, g)| (t.to_string(), g)).collect();
        v.sort();
        v
    }

    #[test]
    fn notes_the_groups_each_text_was_seen_in() {
        let mut c = Counter::default();
        // "x" in groups 0, 1, 2, 3 (two inline, two beyond), "y" in 1, "z" in none.
        for (s, g) in [("x", Some(0)), ("x", Some(1)), ("x", Some(0)), ("y", Some(1))] {
            c.add(s, hash(s), None, g);
        }
        for (s, g) in [("x", Some(2)), ("z", None), ("x", Some(3)), ("x", Some(2))] {
            c.add(s, hash(s), None, g);
        }
        assert_eq!(get(&c, "x").unwrap().count, 6);
        let want = |v: &[(&str, GroupId)]| -> Vec<(String, GroupId)> {
            v.iter().map(|(t, g)| (t.to_string(), *g)).collect()
        };
        assert_eq!(members(&c), want(&[("x", 0), ("x", 1), ("x", 2), ("x", 3), ("y", 1)]));
        assert_eq!(c.group_sizes(5), [1, 2, 1, 1, 0]);

        // Merging renumbers the other counter's groups: its 0, 1, 2 are 3, 4, 0 here.
        let mut d = Counter::default();
        for (s, g) in [("x", 0), ("x", 1), ("x", 2), ("w", 2), ("y", 0), ("v", 1)] {
            d.add(s, hash(s), None, Some(g));
        }
        c.merge(&d, &[3, 4, 0]);
        assert_eq!(get(&c, "x").unwrap().count, 9);
        assert_eq!(
            members(&c),
            want(&[
                ("v", 4),
                ("w", 0),
                ("x", 0),
                ("x", 1),
                ("x", 2),
                ("x", 3),
                ("x", 4),
                ("y", 1),
                ("y", 3),
            ])
        );
        assert_eq!(c.group_sizes(5), [2, 2, 1, 2, 2]);
    }

    #[test]
    fn groups_past_the_bitsets_are_noted_as_pairs() {
        let far = BITSET_GROUPS as GroupId;
        let mut c = Counter::default();
        for g in [far + 5, 1, far + 5, 63, 64, far, 1] {
            c.add("x", hash("x"), None, Some(g));
        }
        c.add("y", hash("y"), None, Some(far + 9));
        let want: Vec<(String, GroupId)> =
            [1, 63, 64, far, far + 5].iter().map(|g| ("x".to_string(), *g)).collect();
        let mut want = want;
        want.push(("y".to_string(), far + 9));
        assert_eq!(members(&c), want);
        let sizes = c.group_sizes(BITSET_GROUPS + 10);
        assert_eq!(sizes.iter().sum::<usize>(), 6);
        assert_eq!((sizes[1], sizes[64], sizes[BITSET_GROUPS + 5]), (1, 1, 1));

        // Merged into a counter that numbers those groups the other way round.
        let n = BITSET_GROUPS + 10;
        let backwards: Vec<GroupId> = (0..n as GroupId).rev().collect();
        let mut d = Counter::default();
        d.merge(&c, &backwards);
        let flip = |g: GroupId| n as GroupId - 1 - g;
        let mut want: Vec<(String, GroupId)> =
            members(&c).into_iter().map(|(t, g)| (t, flip(g))).collect();
        want.sort();
        assert_eq!(members(&d), want);
    }
}
