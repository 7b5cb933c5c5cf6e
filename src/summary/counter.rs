//! [`Counter`]: a [`Tally`] per distinct text, for fields with a million values, and the
//! `--by` groups each text was seen in.
//!
//! A map from boxed strings pays, for every new value, an allocation, and for every lookup of
//! a known one a pointer chase to compare its text; when the table grows it hashes every text
//! again. Here each value is one record in an arena: a header (its count, times, groups,
//! length and hash) and then its text, the records end to end. The hash table holds only
//! 8-byte slots (part of the hash and where the record is): a field with half a million
//! values keeps a table of 8 MB instead of 32 MB of fuller entries (the bench archive's
//! `summary`: peak RSS 125 → 102 MiB; not faster, as its lookups wait on the table's probe
//! either way). A new value is a probe and an append to the arena; a known one a probe and a
//! read of its record (the text to compare, the counts beside it). The caller hashes the
//! text (with [`super::distinct_hash`]); growing the table rehashes nothing.
//!
//! The distinct values of a field within each `--by` group are kept here too, as the groups
//! each record was seen in: two inline in the header (most values of a field with a million
//! of them are seen in one group), then a bitset per record (a value seen in many groups is
//! one of the few common ones: an account, a region, a busy role). A record's value is then
//! looked up once, for its count and for its group, and what is read for the group is in the
//! cache already; a set of values per group would cost a second lookup, into a table as large
//! as the field, for every record. Bitsets cover the first [`BITSET_GROUPS`] groups, so that a
//! `--by` of a million groups cannot make them large: later groups of such values go to a
//! set of (record, group) pairs.

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

/// In a record's first inline slot: its groups are in a bitset, whose index is in the second.
const IN_BITSET: GroupId = GroupId::MAX - 1;

/// Groups numbered below this go to bitsets (at most 512 bytes each); the rest to pairs.
pub const BITSET_GROUPS: usize = 4096;

/// Tallies by text. Equal when they hold the same texts with the same tallies (the groups
/// are compared by [`super::Summary`], which knows what their numbers stand for).
#[derive(Debug, Clone, Default)]
pub struct Counter {
    table: HashTable<Slot>,
    /// Every value's record ([`HEADER`], then its text, zero-padded to a multiple of 8
    /// bytes), end to end, in the order the values were first seen.
    arena: Vec<u8>,
    /// The groups of records seen in more than two.
    beyond: Beyond,
}

/// Where the groups of a record seen in more than two go.
#[derive(Debug, Clone, Default)]
struct Beyond {
    /// Bitsets over groups below [`BITSET_GROUPS`], by index.
    sets: Vec<Vec<u64>>,
    /// The other groups: (record's offset in the arena, group).
    pairs: HashSet<(usize, GroupId)>,
}

/// A slot of the table, one word: the value's [`short`] hash in the top [`HASH_BITS`] bits
/// (to pass over the other values of its bucket without reading their records), and where
/// its record starts, in 8-byte words, in the other 36 (an arena of up to 512 GiB).
#[derive(Debug, Clone, Copy)]
struct Slot(u64);

/// The bits of a value's hash kept in its slot and header.
const HASH_BITS: u32 = 28;

/// The bits of a slot that say where its record is, and of a header that give its length.
const PLACE_BITS: u32 = 64 - HASH_BITS;
const PLACE: u64 = (1 << PLACE_BITS) - 1;

impl Slot {
    fn new(hash: u32, at: usize) -> Slot {
        let word = u64::try_from(at / 8).ok().filter(|w| *w <= PLACE);
        let word = word.expect("a summary field holds less than 512 GiB of distinct text");
        Slot(u64::from(hash) << PLACE_BITS | word)
    }

    fn hash(self) -> u32 {
        (self.0 >> PLACE_BITS) as u32
    }

    /// The record's offset in the arena.
    fn at(self) -> usize {
        (self.0 & PLACE) as usize * 8
    }
}

/// The [`HASH_BITS`] bits of a value's hash kept in its slot and header.
fn short(hash: u64) -> u32 {
    (hash ^ hash >> 32) as u32 >> (32 - HASH_BITS)
}

/// The table's hash of a slot, from its short hash alone (so that growing the table reads no
/// record): spread over 64 bits, whose low bits pick the bucket and top bits its tag.
fn spread(hash: u32) -> u64 {
    u64::from(hash).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The 8-byte words of a record's header: its count, earliest time (`i64::MAX`: none), latest
/// (`i64::MIN`: none), groups (two [`GroupId`]s: [`NO_GROUP`] for an empty slot, the first
/// filled first, or [`IN_BITSET`] and the index of a bitset in [`Beyond::sets`]), and its
/// text's length (the low 36 bits) and short hash (the top 28). Little-endian, as the
/// text's bytes are.
const COUNT: usize = 0;
const FIRST: usize = 8;
const LAST: usize = 16;
const GROUPS: usize = 24;
const LEN_HASH: usize = 32;
const HEADER: usize = 40;

#[inline]
fn word(arena: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(arena[at..at + 8].try_into().unwrap_or_default())
}

#[inline]
fn set_word(arena: &mut [u8], at: usize, w: u64) {
    arena[at..at + 8].copy_from_slice(&w.to_le_bytes());
}

/// The length of the text of the record at `at`.
#[inline]
fn len_at(arena: &[u8], at: usize) -> usize {
    (word(arena, at + LEN_HASH) & PLACE) as usize
}

/// The short hash of the record at `at`.
#[inline]
fn hash_at(arena: &[u8], at: usize) -> u32 {
    (word(arena, at + LEN_HASH) >> PLACE_BITS) as u32
}

/// The text of the record at `at`.
#[inline]
fn text_at(arena: &[u8], at: usize) -> &[u8] {
    &arena[at + HEADER..at + HEADER + len_at(arena, at)]
}

/// The bytes the record at `at` takes (its header, text and padding).
#[inline]
fn size_at(arena: &[u8], at: usize) -> usize {
    HEADER + len_at(arena, at).next_multiple_of(8)
}

/// The groups of the record at `at`.
#[inline]
fn groups_at(arena: &[u8], at: usize) -> [GroupId; 2] {
    let w = word(arena, at + GROUPS);
    [w as GroupId, (w >> 32) as GroupId]
}

#[inline]
fn set_groups(arena: &mut [u8], at: usize, [a, b]: [GroupId; 2]) {
    set_word(arena, at + GROUPS, u64::from(a) | u64::from(b) << 32);
}

/// Adds `count` records seen from `first` to `last` into the record at `at`.
#[inline]
fn count_into(arena: &mut [u8], at: usize, count: u64, first: i64, last: i64) {
    set_word(arena, at + COUNT, word(arena, at + COUNT) + count);
    if first < word(arena, at + FIRST) as i64 {
        set_word(arena, at + FIRST, first as u64);
    }
    if last > word(arena, at + LAST) as i64 {
        set_word(arena, at + LAST, last as u64);
    }
}

/// Notes that the record at `at` was seen in group `g` (at most [`MAX_GROUP`]).
fn join(arena: &mut [u8], at: usize, g: GroupId, beyond: &mut Beyond) {
    let [a, b] = groups_at(arena, at);
    if a == IN_BITSET {
        let Some(set) = beyond.sets.get_mut(b as usize) else { return };
        let word = g as usize / 64;
        if word < BITSET_GROUPS / 64 {
            if set.len() <= word {
                set.resize(word + 1, 0);
            }
            set[word] |= 1 << (g % 64);
        } else {
            beyond.pairs.insert((at, g));
        }
    } else if a == g || b == g {
    } else if a == NO_GROUP {
        set_groups(arena, at, [g, b]);
    } else if b == NO_GROUP {
        set_groups(arena, at, [a, g]);
    } else if let Ok(set) = GroupId::try_from(beyond.sets.len()) {
        beyond.sets.push(Vec::new());
        set_groups(arena, at, [IN_BITSET, set]);
        for h in [a, b, g] {
            join(arena, at, h, beyond);
        }
    } else {
        // Four billion bitsets cannot be: kept correct all the same.
        beyond.pairs.insert((at, g));
    }
}

/// The groups noted in the header of the record at `at` and its bitset (not those in
/// [`Beyond::pairs`]).
fn groups<'b>(arena: &[u8], at: usize, beyond: &'b Beyond) -> impl Iterator<Item = GroupId> + 'b {
    let [a, b] = groups_at(arena, at);
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

impl Counter {
    /// The offset of every record, in the order the values were first seen.
    fn records(&self) -> impl Iterator<Item = usize> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            let here = at;
            (here < self.arena.len()).then(|| {
                at += size_at(&self.arena, here);
                here
            })
        })
    }

    fn text(&self, at: usize) -> &str {
        // The arena's texts are the `&str`s given to `add`, copied whole.
        std::str::from_utf8(text_at(&self.arena, at)).expect("the arena holds whole strs")
    }

    fn tally(&self, at: usize) -> Tally {
        let a = &self.arena;
        Tally {
            count: word(a, at + COUNT),
            first: word(a, at + FIRST) as i64,
            last: word(a, at + LAST) as i64,
        }
    }

    /// The record of `text`, whose short hash is `hash`, appended (counting nothing, in no
    /// group) when it is new.
    #[inline]
    fn record(table: &mut HashTable<Slot>, arena: &mut Vec<u8>, text: &[u8], hash: u32) -> usize {
        use hashbrown::hash_table::Entry as Found;
        let same = |s: &Slot| s.hash() == hash && text_at(arena, s.at()) == text;
        match table.entry(spread(hash), same, |s| spread(s.hash())) {
            Found::Occupied(o) => o.get().at(),
            Found::Vacant(v) => {
                let at = arena.len();
                let slot = Slot::new(hash, at);
                // A record's text is at most one file (1 GiB by default; 64 GiB fit).
                let len = u64::try_from(text.len()).ok().filter(|n| *n <= PLACE);
                let len = len.expect("a field's text is less than 64 GiB");
                let header: [u64; HEADER / 8] = [
                    0,                                               // COUNT
                    i64::MAX as u64,                                 // FIRST
                    i64::MIN as u64,                                 // LAST
                    u64::from(NO_GROUP) | u64::from(NO_GROUP) << 32, // GROUPS
                    len | u64::from(hash) << PLACE_BITS,             // LEN_HASH
                ];
                header.iter().for_each(|w| arena.extend_from_slice(&w.to_le_bytes()));
                arena.extend_from_slice(text);
                arena.resize(arena.len().next_multiple_of(8), 0);
                v.insert(slot);
                at
            }
        }
    }

    /// Counts one record with `text` (whose hash is `hash`) at time `t`, and notes that the
    /// text was seen in `group` (at most [`MAX_GROUP`]), if given.
    #[inline]
    pub fn add(&mut self, text: &str, hash: u64, t: Option<i64>, group: Option<GroupId>) {
        let Counter { table, arena, beyond } = self;
        let at = Self::record(table, arena, text.as_bytes(), short(hash));
        let (first, last) = t.map_or((i64::MAX, i64::MIN), |t| (t, t));
        count_into(arena, at, 1, first, last);
        if let Some(g) = group {
            join(arena, at, g, beyond);
        }
    }

    /// Counts `tally` (records of `text`, whose hash is `hash`, already tallied elsewhere: a
    /// file's counts kept in the archive index) as [`Counter::add`] would have counted them
    /// one by one, in no group.
    pub fn add_tally(&mut self, text: &str, hash: u64, tally: Tally) {
        let Counter { table, arena, .. } = self;
        let at = Self::record(table, arena, text.as_bytes(), short(hash));
        count_into(arena, at, tally.count, tally.first, tally.last);
    }

    /// Adds `other` into `self` (hashes are the same in every counter of a run); `groups`
    /// gives, for each group number of `other`, the number of the same group in `self`.
    pub fn merge(&mut self, other: &Counter, groups: &[GroupId]) {
        let mut pairs: HashMap<usize, Vec<GroupId>> = HashMap::default();
        for (at, g) in &other.beyond.pairs {
            pairs.entry(*at).or_default().push(*g);
        }
        let Counter { table, arena, beyond } = self;
        table.reserve(other.len(), |s| spread(s.hash()));
        // `other`'s records are read in arena order (one pass over its memory); a value new
        // here is appended as a fresh record, then given its counts and groups.
        for at in other.records() {
            let mine =
                Self::record(table, arena, text_at(&other.arena, at), hash_at(&other.arena, at));
            let t = other.tally(at);
            count_into(arena, mine, t.count, t.first, t.last);
            let paired = pairs.get(&at).into_iter().flatten().copied();
            for g in self::groups(&other.arena, at, &other.beyond).chain(paired) {
                if let Some(&g) = groups.get(g as usize) {
                    join(arena, mine, g, beyond);
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

    /// Every text and its tally, in the order they were first seen.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Tally)> {
        self.iter_if(0)
    }

    /// The texts seen in at least `least` records, and their tallies, in the order they were
    /// first seen (one pass over the arena; the text is read only for those).
    pub fn iter_if(&self, least: u64) -> impl Iterator<Item = (&str, Tally)> {
        let kept = self.records().filter(move |&at| word(&self.arena, at + COUNT) >= least);
        kept.map(|at| (self.text(at), self.tally(at)))
    }

    /// The number of records of every text, in the order they were first seen.
    pub fn counts(&self) -> impl Iterator<Item = u64> {
        self.records().map(|at| word(&self.arena, at + COUNT))
    }

    /// Every (record's offset, group) noted.
    fn noted(&self) -> impl Iterator<Item = (usize, GroupId)> {
        let kept = self
            .records()
            .flat_map(|at| groups(&self.arena, at, &self.beyond).map(move |g| (at, g)));
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
        self.noted().map(|(at, g)| (self.text(at), g))
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
    #[cfg(target_pointer_width = "64")]
    fn slots_hold_their_hash_and_far_offsets() {
        let top = (1 << HASH_BITS) - 1;
        for (hash, at) in [(0, 0), (top, 8), (12345, 40 << 30), (top, (PLACE as usize) * 8)] {
            let s = Slot::new(hash, at);
            assert_eq!((s.hash(), s.at()), (hash, at));
        }
        assert!(short(u64::MAX) <= top && short(0x1234_5678_9abc_def0) <= top);
        assert!(std::panic::catch_unwind(|| Slot::new(1, (PLACE as usize + 1) * 8)).is_err());
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

    /// The model: per text, its tally and its groups.
    type Model = std::collections::BTreeMap<String, (Tally, std::collections::BTreeSet<GroupId>)>;

    fn model_of(c: &Counter) -> Model {
        let mut m: Model =
            c.iter().map(|(t, tally)| (t.to_string(), (tally, Default::default()))).collect();
        for (t, g) in c.members() {
            m.get_mut(t).expect("a member is a counted text").1.insert(g);
        }
        m
    }

    fn model_add(m: &mut Model, (text, t, g): &(String, Option<i64>, Option<GroupId>)) {
        let e = m.entry(text.clone()).or_default();
        e.0.add(*t);
        e.1.extend(*g);
    }

    proptest::proptest! {
        /// Adding, merging (with groups renumbered, some past the bitsets) and reading back
        /// equal a map of texts to tallies and group sets; texts of any length, including
        /// ones whose hashes collide (a few texts share a hash).
        #[test]
        fn equals_a_map_of_texts(
            adds in proptest::collection::vec(
                (
                    "[a-c]{0,3}|[a-z]{9,40}",
                    proptest::option::of(-5i64..5),
                    proptest::option::of(proptest::prop_oneof![
                        0..4u32,
                        (BITSET_GROUPS as u32 - 2)..(BITSET_GROUPS as u32 + 2)
                    ]),
                ),
                0..60,
            ),
            split in 0usize..60,
            collide in proptest::bool::ANY,
        ) {
            let n = BITSET_GROUPS as GroupId + 2;
            let hash_of = |s: &str| if collide { s.len() as u64 } else { hash(s) };
            let (first, second) = adds.split_at(split.min(adds.len()));
            let mut a = Counter::default();
            let mut b = Counter::default();
            let mut want = Model::default();
            for add in first {
                a.add(&add.0, hash_of(&add.0), add.1, add.2);
                model_add(&mut want, add);
            }
            // `b`'s group g is group n - 1 - g in `a`.
            let renumber: Vec<GroupId> = (0..n).rev().collect();
            for add in second {
                b.add(&add.0, hash_of(&add.0), add.1, add.2);
                let flipped = add.2.map(|g| n - 1 - g);
                model_add(&mut want, &(add.0.clone(), add.1, flipped));
            }
            a.merge(&b, &renumber);
            proptest::prop_assert_eq!(model_of(&a), want.clone());
            proptest::prop_assert_eq!(a.len(), want.len());
            proptest::prop_assert_eq!(a.counts().sum::<u64>(), adds.len() as u64);
            let sizes = a.group_sizes(n as usize);
            for (g, size) in sizes.iter().enumerate() {
                let expect = want.values().filter(|(_, gs)| gs.contains(&(g as GroupId))).count();
                proptest::prop_assert_eq!(*size, expect);
            }
        }
    }
}
