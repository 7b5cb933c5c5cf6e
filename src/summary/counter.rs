//! [`Counter`]: a [`Tally`] per distinct text, for fields with a million values, and the
//! `--by` groups each text was seen in.
//!
//! A map from boxed strings pays, for every new value, an allocation, and for every lookup of
//! a known one a pointer chase to compare its text; when the table grows it hashes every text
//! again. Here the texts sit end to end in one arena, and each entry keeps its text's hash: a
//! lookup compares hashes before texts, growing rehashes nothing, and a new value is an append.
//! The caller hashes the text (with [`super::distinct_hash`]). An entry is 32 bytes (a field
//! with a million values misses the cache on most lookups: one line for the entry, then the
//! text's), and the times of a text's tally sit in the arena just before it.
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
    /// Every text, end to end, each after its [`HEADER`].
    arena: Vec<u8>,
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

/// An entry of the table: what every record's lookup reads and writes, in 32 bytes on a
/// 32-byte boundary, so that it never straddles two cache lines. The rest of the tally (the
/// earliest and latest times) and the text's length are in the arena, just before the text:
/// a lookup that finds the entry reads the text to compare it, and the times are beside it.
#[derive(Debug, Clone)]
#[repr(align(32))]
struct Entry {
    hash: u64,
    /// Where the entry's header is in the arena (`start` also names the entry).
    start: usize,
    /// The groups the text was seen in: up to two ([`NO_GROUP`]: an empty slot, the first
    /// filled first), or [`IN_BITSET`] and the index of a bitset in [`Beyond::sets`].
    groups: [GroupId; 2],
    /// Records.
    count: u64,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 32);

/// The bytes before each text in the arena: its earliest time (`i64::MAX`: none), its latest
/// (`i64::MIN`: none) and its length, each 8 bytes, little-endian.
const HEADER: usize = 24;

/// The words of the header at `at`.
#[inline]
fn header(arena: &[u8], at: usize) -> [u64; 3] {
    let (w, _) = arena[at..at + HEADER].as_chunks::<8>();
    [u64::from_le_bytes(w[0]), u64::from_le_bytes(w[1]), u64::from_le_bytes(w[2])]
}

/// The text whose header is at `at`.
#[inline]
fn text_at(arena: &[u8], at: usize) -> &[u8] {
    let len = header(arena, at)[2] as usize;
    &arena[at + HEADER..at + HEADER + len]
}

/// The earliest and latest times of the header at `at`.
#[inline]
fn times(arena: &[u8], at: usize) -> (i64, i64) {
    let [first, last, _] = header(arena, at);
    (first as i64, last as i64)
}

/// Widens the times of the header at `at` to take in `first` and `last`.
#[inline]
fn widen(arena: &mut [u8], at: usize, first: i64, last: i64) {
    let (f, l) = times(arena, at);
    if first < f {
        arena[at..at + 8].copy_from_slice(&first.to_le_bytes());
    }
    if last > l {
        arena[at + 8..at + 16].copy_from_slice(&last.to_le_bytes());
    }
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
        // The arena's texts are the `&str`s given to `add`, copied whole.
        std::str::from_utf8(text_at(&self.arena, e.start)).expect("the arena holds whole strs")
    }

    fn tally(&self, e: &Entry) -> Tally {
        let (first, last) = times(&self.arena, e.start);
        Tally { count: e.count, first, last }
    }

    /// The entry of `text`, whose hash is `hash`, created when it is new.
    #[inline]
    fn slot<'c>(
        table: &'c mut HashTable<Entry>,
        arena: &mut Vec<u8>,
        text: &[u8],
        hash: u64,
    ) -> &'c mut Entry {
        use hashbrown::hash_table::Entry as Slot;
        let same = |e: &Entry| e.hash == hash && text_at(arena, e.start) == text;
        match table.entry(hash, same, |e| e.hash) {
            Slot::Occupied(o) => o.into_mut(),
            Slot::Vacant(v) => {
                let start = arena.len();
                arena.extend_from_slice(&i64::MAX.to_le_bytes());
                arena.extend_from_slice(&i64::MIN.to_le_bytes());
                arena.extend_from_slice(&(text.len() as u64).to_le_bytes());
                arena.extend_from_slice(text);
                v.insert(Entry { hash, start, groups: [NO_GROUP; 2], count: 0 }).into_mut()
            }
        }
    }

    /// Counts one record with `text` (whose hash is `hash`) at time `t`, and notes that the
    /// text was seen in `group` (at most [`MAX_GROUP`]), if given.
    #[inline]
    pub fn add(&mut self, text: &str, hash: u64, t: Option<i64>, group: Option<GroupId>) {
        let Counter { table, arena, beyond } = self;
        let e = Self::slot(table, arena, text.as_bytes(), hash);
        e.count += 1;
        if let Some(t) = t {
            widen(arena, e.start, t, t);
        }
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
        // `other`'s headers and texts are appended as they are, and a text new here is the
        // one in that copy, its times those of the copy: it is not read at all (taken in table
        // order, each text read was a cache miss, and they were most of the time a merge
        // took). Texts already here stay, unused, in the copy.
        let base = arena.len();
        arena.extend_from_slice(&other.arena);
        for e in &other.table {
            use hashbrown::hash_table::Entry as Slot;
            let at = base + e.start;
            let same =
                |m: &Entry| m.hash == e.hash && text_at(arena, m.start) == text_at(arena, at);
            let mine = match table.entry(e.hash, same, |m| m.hash) {
                Slot::Occupied(o) => {
                    let mine = o.into_mut();
                    let (first, last) = times(arena, at);
                    widen(arena, mine.start, first, last);
                    mine
                }
                Slot::Vacant(v) => {
                    v.insert(Entry { start: at, groups: [NO_GROUP; 2], count: 0, ..*e }).into_mut()
                }
            };
            mine.count += e.count;
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
    pub fn iter(&self) -> impl Iterator<Item = (&str, Tally)> {
        self.iter_if(0)
    }

    /// The texts seen in at least `least` records, and their tallies, in no particular order.
    /// The arena (far from the cache for a field with a million values) is read only for
    /// those: their texts and the times beside them.
    pub fn iter_if(&self, least: u64) -> impl Iterator<Item = (&str, Tally)> {
        let kept = self.table.iter().filter(move |e| e.count >= least);
        kept.map(|e| (self.text(e), self.tally(e)))
    }

    /// The number of records of every text, in no particular order.
    pub fn counts(&self) -> impl Iterator<Item = u64> {
        self.table.iter().map(|e| e.count)
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
            let theirs: std::collections::HashMap<&str, Tally> = other.iter().collect();
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
    fn get(c: &Counter, text: &str) -> Option<Tally> {
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
