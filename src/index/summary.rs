//! What a file's summary counted ([`crate::summary::Part`]), as the index keeps it, so that a
//! `summary` of files the index covers whole is answered without opening them.
//!
//! Per file, one byte string of LEB128 varints (times relative to the file's first time, in
//! whole seconds when every time of the file is one, else nanoseconds):
//!
//! ```text
//! records undated unit                   unit: 0 no time, 1 seconds, 2 nanoseconds
//! [first_ns span]                        when timed: the file's first time, last - first
//! 8 x (n, n x (text id, count, t))       t: 0 no time, else 1 + first - base, then last - first
//! n_hours, n_hours x (hour delta, count) the first delta from the file's first hour
//! dropped, n_notable, n_notable x (0 | 1 time - first, length, postcard of the action)
//! ```
//!
//! Texts are ids into one table of value texts shared by every file (kept apart from the
//! planner's dictionary, whose entries are typed values). The bytes come from an untrusted
//! file: [`decode`] checks every id, count and length, and answers an error, never a panic.

use super::format::{FormatError, Reader, corrupt, put, put_i};
use crate::summary::actions::Notable;
use crate::summary::{Part, Spec, Summary, Tally, Unlisted};

/// Nanoseconds in a second.
const SECOND: i64 = 1_000_000_000;

/// Where a summary's value texts are interned.
pub trait Texts {
    /// The id of `text`, added if new.
    fn id(&mut self, text: &str) -> u32;
}

/// The unit every time of `d` is a whole number of (nanoseconds).
fn unit(d: &Decoded) -> i64 {
    let times = d
        .values
        .iter()
        .flat_map(|(_, _, t)| [t.first(), t.last()])
        .chain([d.all.first(), d.all.last()])
        .flatten();
    let mut whole = true;
    for t in times {
        whole &= t % SECOND == 0;
    }
    if whole { SECOND } else { 1 }
}

/// `part`, as the index keeps it, its texts interned in `texts`.
pub fn encode(part: &Part, texts: &mut dyn Texts) -> Vec<u8> {
    let values = part
        .counts
        .iter()
        .zip(0u8..)
        .flat_map(|(values, dim)| values.iter().map(move |(text, tally)| (dim, text, *tally)));
    let d = Decoded {
        all: part.all,
        undated: part.undated,
        values: values.map(|(dim, text, tally)| (dim, texts.id(text), tally)).collect(),
        hours: part.hours.clone(),
        notable: part.notable.clone(),
        notable_dropped: part.notable_dropped,
    };
    encode_ids(&d)
}

/// A file's counts as the index keeps them (each field's values by id, the ids
/// delta-coded).
#[must_use]
pub fn encode_ids(d: &Decoded) -> Vec<u8> {
    let mut out = Vec::new();
    put(&mut out, d.all.count);
    put(&mut out, d.undated);
    let base = d.all.first();
    let unit = unit(d);
    match (base, d.all.last()) {
        (Some(a), Some(b)) => {
            put(&mut out, if unit == SECOND { 1 } else { 2 });
            put_i(&mut out, a);
            put(&mut out, ((b - a) / unit) as u64);
        }
        _ => put(&mut out, 0),
    }
    let base = base.unwrap_or(0);
    let mut values = d.values.clone();
    values.sort_unstable_by_key(|&(dim, id, _)| (dim, id));
    for dim in 0..8u8 {
        let mine = values.iter().filter(|v| v.0 == dim);
        put(&mut out, mine.clone().count() as u64);
        let mut prev = 0;
        for &(_, id, tally) in mine {
            put(&mut out, u64::from(id - prev));
            prev = id;
            put(&mut out, tally.count);
            match (tally.first(), tally.last()) {
                (Some(a), Some(b)) => {
                    put(&mut out, 1 + ((a - base) / unit) as u64);
                    put(&mut out, ((b - a) / unit) as u64);
                }
                _ => put(&mut out, 0),
            }
        }
    }
    put(&mut out, d.hours.len() as u64);
    let mut prev = base.div_euclid(SECOND).div_euclid(3600) * 3600;
    for &(h, n) in &d.hours {
        put_i(&mut out, (h - prev) / 3600);
        put(&mut out, n);
        prev = h;
    }
    put(&mut out, d.notable_dropped);
    put(&mut out, d.notable.len() as u64);
    for n in &d.notable {
        match n.sort_time {
            Some(t) => {
                put(&mut out, 1);
                put_i(&mut out, t.wrapping_sub(base));
            }
            None => put(&mut out, 0),
        }
        let bytes = postcard::to_allocvec(n).expect("postcard writes any action to memory");
        put(&mut out, bytes.len() as u64);
        out.extend_from_slice(&bytes);
    }
    out
}

/// A file's summary counts as read from the index: value texts as ids.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    /// Records, and their time span.
    pub all: Tally,
    /// Records without a readable `eventTime`.
    pub undated: u64,
    /// (field of [`crate::summary::DIMENSIONS`], text id, tally), by field and id.
    pub values: Vec<(u8, u32, Tally)>,
    /// Records per hour.
    pub hours: Vec<(i64, u64)>,
    /// Notable actions, in input order.
    pub notable: Vec<Notable>,
    /// Notable actions beyond the cap.
    pub notable_dropped: u64,
}

impl Decoded {
    /// A part of everything but the values' counts, and those counts.
    fn split(self) -> (Part, Vec<(u8, u32, Tally)>) {
        let part = Part {
            all: self.all,
            undated: self.undated,
            hours: self.hours,
            notable: self.notable,
            notable_dropped: self.notable_dropped,
            ..Part::default()
        };
        (part, self.values)
    }
}

/// Reads the summary counts in `bytes`, whose text ids must be below `texts`, and with
/// `runs`, those of field `d` in `runs[d]..runs[d + 1]`.
pub fn decode_ids(
    bytes: &[u8],
    texts: usize,
    runs: Option<&[u32; 9]>,
) -> Result<Decoded, FormatError> {
    let mut r = Reader(bytes);
    let count = r.u()?;
    let undated = r.u()?;
    if undated > count {
        return Err(corrupt("more undated records than records"));
    }
    let time = |v: i128| i64::try_from(v).map_err(|_| corrupt("a time out of range"));
    let (unit, base, all) = match r.u()? {
        0 => (1, 0, Tally::new(count, None)),
        u @ (1 | 2) => {
            let unit = if u == 1 { SECOND } else { 1 };
            let a = r.i()?;
            let b = time(i128::from(a) + i128::from(r.u()?) * i128::from(unit))?;
            (unit, a, Tally::new(count, Some((a, b))))
        }
        _ => return Err(corrupt("an unknown time unit")),
    };
    let at = |off: u64| time(i128::from(base) + i128::from(off) * i128::from(unit));
    let mut d = Decoded { all, undated, ..Decoded::default() };
    for dim in 0..8u8 {
        let n = r.u()?;
        // Every value takes at least three bytes.
        if n > r.0.len() as u64 / 3 {
            return Err(corrupt("more values than the bytes hold"));
        }
        d.values.reserve(n as usize);
        let (low, high) = runs.map_or((0, texts), |r| {
            (r[usize::from(dim)] as usize, r[usize::from(dim) + 1] as usize)
        });
        let mut id: u32 = 0;
        for i in 0..n {
            let delta = r.u32()?;
            if i > 0 && delta == 0 {
                return Err(corrupt("a repeated value"));
            }
            id = id
                .checked_add(delta)
                .filter(|&id| (id as usize) < texts.min(high))
                .ok_or_else(|| corrupt("a value text id past the table"))?;
            if (id as usize) < low {
                return Err(corrupt("a value text id of another field"));
            }
            let c = r.u()?;
            if c == 0 || c > count {
                return Err(corrupt("a value count out of range"));
            }
            let span = match r.u()? {
                0 => None,
                off => {
                    let a = at(off - 1)?;
                    let b = time(i128::from(a) + i128::from(r.u()?) * i128::from(unit))?;
                    Some((a, b))
                }
            };
            d.values.push((dim, id, Tally::new(c, span)));
        }
    }
    let n = r.u()?;
    if n > r.0.len() as u64 / 2 {
        return Err(corrupt("more hours than the bytes hold"));
    }
    let mut prev = base.div_euclid(SECOND).div_euclid(3600) * 3600;
    for _ in 0..n {
        let h = time(i128::from(prev) + i128::from(r.i()?) * 3600)?;
        d.hours.push((h, r.u()?));
        prev = h;
    }
    d.notable_dropped = r.u()?;
    let n = r.u()?;
    if n > r.0.len() as u64 / 2 {
        return Err(corrupt("more notable actions than the bytes hold"));
    }
    for _ in 0..n {
        let t = match r.u()? {
            0 => None,
            1 => Some(time(i128::from(base) + i128::from(r.i()?))?),
            _ => return Err(corrupt("a bad action time")),
        };
        let len = r.u()?;
        let mut action: Notable =
            postcard::from_bytes(r.bytes(len)?).map_err(|e| corrupt(format!("an action: {e}")))?;
        action.sort_time = t;
        d.notable.push(action);
    }
    if !r.0.is_empty() {
        return Err(corrupt("bytes after a file's summary"));
    }
    Ok(d)
}

/// The part whose bytes are `bytes`; `text(id)` gives the text of an id (`None`: no such id).
pub fn decode<'t>(
    bytes: &[u8],
    text: impl Fn(u32) -> Option<&'t str>,
) -> Result<Part, FormatError> {
    let (mut part, values) = decode_ids(bytes, usize::MAX, None)?.split();
    for (dim, id, tally) in values {
        let t = text(id).ok_or_else(|| corrupt("a value text id past the table"))?;
        part.counts[usize::from(dim)].push((t.to_string(), tally));
    }
    Ok(part)
}

/// A file the index answered a `summary` for: its counts, checked, and the index whose
/// texts they name.
#[derive(Debug)]
pub struct Answered {
    /// The index.
    pub index: std::sync::Arc<super::Index>,
    /// The file's counts.
    pub counts: Decoded,
}

/// Adds up the counts of the files the index answered for by text id, so that each distinct
/// text is counted into the summary once, at the end ([`Tallies::finish`]).
#[derive(Debug, Default)]
pub struct Tallies {
    by_index: Vec<(std::sync::Arc<super::Index>, ByText)>,
    /// Files answered for by the totals ([`Covered`]), and the files read after the first of
    /// them, in walk order, until [`Tallies::settle`].
    pieces: Vec<Piece>,
    /// The values of the totals that answer for the whole index.
    totals: Option<(std::sync::Arc<super::Index>, Values)>,
}

/// Values counted: (field of [`crate::summary::DIMENSIONS`], text id, tally).
type Values = Vec<(u8, u32, Tally)>;

/// A file an index covers whole in a summary of the whole archive ([`Totals`]): its counts
/// are not read unless the totals turn out not to answer.
#[derive(Debug)]
pub struct Covered {
    /// The index.
    pub index: std::sync::Arc<super::Index>,
    /// The file's place in it.
    pub position: usize,
}

#[derive(Debug)]
enum Piece {
    Read(Box<Summary>),
    Covered(std::sync::Arc<super::Index>, usize),
}

/// Per field of [`crate::summary::DIMENSIONS`], the tally of each text id: dense over the
/// field's run of ids when the index's texts are sorted by field, else by id.
#[derive(Debug)]
enum ByText {
    Dense([u32; 9], [Vec<Tally>; 8]),
    Sparse([rustc_hash::FxHashMap<u32, Tally>; 8]),
}

impl Tallies {
    /// Adds a file's counts: its values here, the rest (records, times, hours, notable
    /// actions, in input order) into `summary` now.
    pub fn add(&mut self, a: Answered, summary: &mut Summary, spec: &Spec) {
        let i = match self.by_index.iter().position(|(x, _)| std::sync::Arc::ptr_eq(x, &a.index)) {
            Some(i) => i,
            None => {
                let by = match a.index.summary_runs() {
                    Some(runs) => ByText::Dense(
                        runs,
                        std::array::from_fn(|d| {
                            vec![Tally::default(); (runs[d + 1] - runs[d]) as usize]
                        }),
                    ),
                    None => ByText::Sparse(Default::default()),
                };
                self.by_index.push((a.index, by));
                self.by_index.len() - 1
            }
        };
        let (file, values) = a.counts.split();
        match &mut self.by_index[i].1 {
            ByText::Dense(runs, dims) => {
                for &(dim, id, tally) in &values {
                    let dim = usize::from(dim);
                    // Checked against the runs when decoded.
                    if let Some(t) =
                        id.checked_sub(runs[dim]).and_then(|k| dims[dim].get_mut(k as usize))
                    {
                        t.merge(&tally);
                    }
                }
            }
            ByText::Sparse(dims) => {
                for &(dim, id, tally) in &values {
                    dims[usize::from(dim)].entry(id).or_default().merge(&tally);
                }
            }
        }
        summary.merge(Summary::from_part(&file), spec);
    }

    /// Adds what the summary of a file it read holds beyond the counts of its values (those
    /// are added up apart): now, or in walk order once the files before it are settled.
    pub fn read(&mut self, part: Summary, summary: &mut Summary, spec: &Spec) {
        if self.pieces.is_empty() {
            summary.merge(part, spec);
        } else {
            self.pieces.push(Piece::Read(Box::new(part)));
        }
    }

    /// Notes a file the totals may answer for.
    pub fn covered(&mut self, c: Covered) {
        self.pieces.push(Piece::Covered(c.index, c.position));
    }

    /// Settles the files noted as covered, once the scan is over: from the index's
    /// [`Totals`] when they are exactly the index's files in its order, nothing else was
    /// counted (`counted_elsewhere`: records read), and the totals serve `top` and the spec;
    /// else from each file's summary, in walk order, as [`Tallies::add`] would have.
    ///
    /// # Errors
    /// A covered file's summary cannot be read (a damaged index): the summary must be made
    /// again without the index's answers.
    pub fn settle(
        &mut self,
        summary: &mut Summary,
        spec: &Spec,
        top: Option<usize>,
        counted_elsewhere: bool,
    ) -> Result<(), FormatError> {
        let pieces = std::mem::take(&mut self.pieces);
        let Some(Piece::Covered(first, _)) = pieces.first() else { return Ok(()) };
        let whole = !counted_elsewhere
            && self.by_index.is_empty()
            && pieces.len() == first.files().len()
            && pieces.iter().enumerate().all(|(i, p)| {
                matches!(p, Piece::Covered(x, at) if *at == i && std::sync::Arc::ptr_eq(x, first))
            });
        if whole
            && let Some(t) = first.totals()
            && t.serves(top, spec.max_notable)
        {
            let (part, values) = t.counts()?.split();
            if part.all.count != first.records() {
                return Err(corrupt("totals of another number of records than the files'"));
            }
            let mut s = Summary::from_part(&part);
            s.files = t.files;
            summary.merge(s, spec);
            self.totals = Some((std::sync::Arc::clone(first), values));
            return Ok(());
        }
        for p in pieces {
            match p {
                Piece::Read(s) => summary.merge(*s, spec),
                Piece::Covered(index, at) => {
                    let e = &index.files()[at];
                    let counts = index
                        .summary_ids(e)
                        .ok_or_else(|| corrupt("a covered file without its summary"))??;
                    self.add(Answered { index, counts }, summary, spec);
                }
            }
        }
        Ok(())
    }

    /// Counts every value added into `summary`, the last step before its report.
    ///
    /// With `top` (the report shows only the first `top` rows of each field), a field that
    /// only the index counted (nothing else in `summary`) keeps only the values whose count
    /// reaches that of its `top`th value (all of those tied with it too): the rows are the
    /// same, and the rest are counted in [`Summary::unlisted`]. Accounts and regions, which
    /// the report lists whole, are always kept.
    pub fn finish(self, summary: &mut Summary, top: Option<usize>) {
        if let Some((index, values)) = self.totals {
            let Some(t) = index.totals() else { return };
            for (d, counter) in summary.counts.iter_mut().enumerate() {
                let mut kept: Vec<u64> =
                    values.iter().filter(|v| usize::from(v.0) == d).map(|v| v.2.count).collect();
                let total = kept.len() as u64 + t.cut[d].rest.values;
                // As below: checked by `Totals::serves` to be among the kept values.
                let least = match top {
                    Some(n) if n > 0 && (n as u64) < total && d < 6 && n <= kept.len() => {
                        *kept.select_nth_unstable_by(n - 1, |a, b| b.cmp(a)).1
                    }
                    _ => 0,
                };
                summary.unlisted[d].values += t.cut[d].rest.values;
                summary.unlisted[d].records += t.cut[d].rest.records;
                for &(_, id, tally) in values.iter().filter(|v| usize::from(v.0) == d) {
                    if tally.count < least {
                        summary.unlisted[d].values += 1;
                        summary.unlisted[d].records += tally.count;
                    } else if let Some(text) = t.table.text(id) {
                        counter.add_tally(text, crate::summary::distinct_hash(text), tally);
                    }
                }
            }
            return;
        }
        let alone = self.by_index.len() == 1;
        for (index, by) in self.by_index {
            let fields: Vec<Vec<(u32, Tally)>> = match by {
                ByText::Dense(runs, dims) => dims
                    .into_iter()
                    .zip(runs)
                    .map(|(v, start)| (start..).zip(v).filter(|(_, t)| t.count > 0).collect())
                    .collect(),
                ByText::Sparse(dims) => dims.into_iter().map(|m| m.into_iter().collect()).collect(),
            };
            for (d, values) in fields.into_iter().enumerate() {
                let counter = &mut summary.counts[d];
                let least = match top {
                    Some(n)
                        if alone && n > 0 && n < values.len() && d < 6 && counter.is_empty() =>
                    {
                        let mut counts: Vec<u64> = values.iter().map(|(_, t)| t.count).collect();
                        *counts.select_nth_unstable_by(n - 1, |a, b| b.cmp(a)).1
                    }
                    _ => 0,
                };
                for (id, tally) in values {
                    if tally.count < least {
                        summary.unlisted[d].values += 1;
                        summary.unlisted[d].records += tally.count;
                    } else if let Some(text) = index.summary_text(id) {
                        counter.add_tally(text, crate::summary::distinct_hash(text), tally);
                    }
                }
            }
        }
    }
}

/// Values of a field the totals keep by text: the top rows of any summary up to this many
/// rows are answered from the totals.
pub const KEEP: usize = 1000;

/// Per field, which of its values the totals keep: every value counted at least `least`
/// times (0: every value), and the rest as numbers only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cut {
    /// The least count kept.
    pub least: u64,
    /// The values not kept.
    pub rest: Unlisted,
}

/// What a summary of every file of an index counts: the merged counts of all its files (in
/// path order, as a walk of the archive meets them), each field cut to its top values
/// ([`KEEP`], with every value tied with the last), so that a summary of the whole archive
/// reads neither the files nor their summaries.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Files with a record.
    pub files: u64,
    /// The cap on notable actions they were merged under.
    pub max_notable: u64,
    /// Per field of [`crate::summary::DIMENSIONS`].
    pub cut: [Cut; 8],
    /// The kept values' texts (by field, sorted), and the counts as one file's summary
    /// bytes (`parts`) whose ids are these texts.
    pub table: super::Summaries,
}

/// What the totals add up beyond the values' counts: records, times, hours and notable
/// actions, merged file by file as a summary merges them.
#[derive(Default)]
struct Whole {
    spec: Spec,
    summary: Summary,
}

impl Whole {
    fn add(&mut self, p: &Decoded) {
        let part = Part {
            all: p.all,
            undated: p.undated,
            hours: p.hours.clone(),
            notable: p.notable.clone(),
            notable_dropped: p.notable_dropped,
            ..Part::default()
        };
        self.summary.merge(Summary::from_part(&part), &self.spec);
    }

    /// The totals of these counts, each field's values (distinct texts, by an id `text`
    /// names, in any order) cut to its top, the values kept sorted by text; `None`: an id
    /// without its text.
    fn cut<'a>(
        self,
        mut fields: [Vec<(u32, Tally)>; 8],
        text: impl Fn(u32) -> Option<&'a str>,
    ) -> Option<Totals> {
        let (spec, whole) = (self.spec, self.summary);
        let mut t = Totals {
            files: whole.files,
            max_notable: spec.max_notable as u64,
            ..Totals::default()
        };
        let mut values = Vec::new();
        let mut local = [0u32; 9];
        for (d, field) in fields.iter_mut().enumerate() {
            let counts: Vec<u64> = field.iter().map(|(_, t)| t.count).collect();
            let least = if d >= 6 || counts.len() <= KEEP {
                0
            } else {
                let mut c = counts.clone();
                let k = *c.select_nth_unstable_by(KEEP - 1, |a, b| b.cmp(a)).1;
                let tied = counts.iter().filter(|&&x| x >= k).count();
                if tied <= 2 * KEEP { k } else { k + 1 }
            };
            field.retain(|(_, tally)| {
                let kept = tally.count >= least;
                if !kept {
                    t.cut[d].rest.values += 1;
                    t.cut[d].rest.records += tally.count;
                }
                kept
            });
            let mut kept: Vec<(&str, Tally)> =
                field.iter().map(|&(id, tally)| Some((text(id)?, tally))).collect::<Option<_>>()?;
            if !kept.is_sorted_by(|a, b| a.0 <= b.0) {
                kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
            }
            for (text, tally) in &kept {
                t.table.texts.push_str(text);
                t.table.ends.push(t.table.texts.len());
                values.push((d as u8, (t.table.ends.len() - 1) as u32, *tally));
            }
            t.cut[d].least = least;
            local[d + 1] = t.table.ends.len() as u32;
        }
        t.table.runs = Some(local);
        let mut hours: Vec<(i64, u64)> = whole.hours.iter().map(|(h, n)| (*h, *n)).collect();
        hours.sort_unstable();
        let d = Decoded {
            all: whole.all,
            undated: whole.undated,
            values,
            hours,
            notable: whole.notable,
            notable_dropped: whole.notable_dropped,
        };
        t.table.parts = encode_ids(&d);
        Some(t)
    }
}

/// Tallies by text id, with each id's field.
struct Dense {
    tallies: Vec<Tally>,
    dims: Vec<u8>,
}

impl Dense {
    fn new(texts: usize) -> Dense {
        Dense { tallies: vec![Tally::default(); texts], dims: vec![u8::MAX; texts] }
    }

    /// Adds a file's values; `None`: an id past the table, or of two fields.
    fn add(&mut self, values: &[(u8, u32, Tally)]) -> Option<()> {
        values.iter().try_for_each(|(dim, id, tally)| self.merge(*id, *dim, tally))
    }

    fn merge(&mut self, id: u32, dim: u8, tally: &Tally) -> Option<()> {
        let d = self.dims.get_mut(id as usize)?;
        if *d != dim && *d != u8::MAX {
            return None;
        }
        *d = dim;
        self.tallies[id as usize].merge(tally);
        Some(())
    }

    /// (id, field, tally) of every id counted.
    fn values(&self) -> impl Iterator<Item = (u32, u8, Tally)> + '_ {
        self.dims
            .iter()
            .zip(&self.tallies)
            .enumerate()
            .filter(|(_, (d, _))| **d != u8::MAX)
            .map(|(id, (d, t))| (id as u32, *d, *t))
    }
}

impl Totals {
    /// The totals of files whose summaries are `parts` (in path order), their value ids
    /// naming `texts`, sorted by field in `runs`; `None` when a file has no summary kept.
    #[must_use]
    pub fn of(
        parts: &[Option<Decoded>],
        texts: &super::Summaries,
        runs: [u32; 9],
    ) -> Option<Totals> {
        let mut whole = Whole::default();
        let mut tallies: [Vec<Tally>; 8] =
            std::array::from_fn(|d| vec![Tally::default(); (runs[d + 1] - runs[d]) as usize]);
        for p in parts {
            let p = p.as_ref()?;
            for &(dim, id, tally) in &p.values {
                let d = usize::from(dim);
                tallies[d].get_mut(id.checked_sub(runs[d])? as usize)?.merge(&tally);
            }
            whole.add(p);
        }
        let mut fields: [Vec<(u32, Tally)>; 8] = Default::default();
        for (d, field) in tallies.iter().enumerate() {
            for (k, tally) in field.iter().enumerate() {
                if tally.count > 0 {
                    fields[d].push((runs[d] + k as u32, *tally));
                }
            }
        }
        whole.cut(fields, |id| texts.text(id))
    }

    /// The totals of an updated index: of the files of `old` at `unchanged` and the files of
    /// `fresh` (the files read now), in path order; `None` when a file has no summary kept.
    /// The counts are added up by id in each index and joined by text.
    #[must_use]
    pub fn of_update(
        old: &super::Index,
        unchanged: &[usize],
        fresh: &super::Index,
    ) -> Option<Totals> {
        let (old_sums, fresh_sums) = (old.summaries().ok()?, fresh.summaries().ok()?);
        let mut whole = Whole::default();
        let mut tallies = [Dense::new(old_sums.ends.len()), Dense::new(fresh_sums.ends.len())];
        let mut base = unchanged.iter().map(|&at| &old.files()[at]).peekable();
        let mut later = fresh.files().iter().peekable();
        loop {
            let (which, idx, e) = match (base.peek(), later.peek()) {
                (Some(b), Some(d)) if b.path < d.path => (0, old, base.next()?),
                (Some(_), None) => (0, old, base.next()?),
                (_, Some(_)) => (1, fresh, later.next()?),
                (None, None) => break,
            };
            let p = idx.summary_ids(e)?.ok()?;
            tallies[which].add(&p.values)?;
            whole.add(&p);
        }
        if whole.summary.files == 0 && unchanged.is_empty() && fresh.files().is_empty() {
            return None;
        }
        let [mut olds, news] = tallies;
        // Ids past the old table's name the new texts, in `added`.
        let old_len = u32::try_from(olds.dims.len()).ok()?;
        let mut fields: [Vec<(u32, Tally)>; 8] = Default::default();
        let mut added: Vec<&str> = Vec::new();
        for (id, dim, tally) in news.values() {
            let text = fresh_sums.text(id)?;
            match old_sums.find(dim, text) {
                Some(at) => olds.merge(at, dim, &tally)?,
                None => {
                    let k = old_len.checked_add(u32::try_from(added.len()).ok()?)?;
                    fields[usize::from(dim)].push((k, tally));
                    added.push(text);
                }
            }
        }
        for (id, dim, tally) in olds.values() {
            fields[usize::from(dim)].push((id, tally));
        }
        whole.cut(fields, |id| match id.checked_sub(old_len) {
            Some(k) => added.get(k as usize).copied(),
            None => old_sums.text(id),
        })
    }

    /// Whether these totals answer a summary showing `top` rows of each field (`None`:
    /// all) that keeps up to `max_notable` notable actions: exactly as adding up every
    /// file's summary would ([`Tallies::finish`]).
    #[must_use]
    pub fn serves(&self, top: Option<usize>, max_notable: usize) -> bool {
        let runs = self.table.runs.unwrap_or_default();
        self.max_notable == max_notable as u64
            && (0..6).all(|d| {
                let kept = (runs[d + 1] - runs[d]) as u64;
                match top {
                    // The report cuts at the `n`th value: it must be kept.
                    Some(n) if n > 0 && (n as u64) < kept + self.cut[d].rest.values => {
                        n as u64 <= kept
                    }
                    _ => self.cut[d].rest.values == 0,
                }
            })
    }

    /// The text of a value id of these totals (`None`: no such id).
    #[must_use]
    pub fn table_text(&self, id: u32) -> Option<&str> {
        self.table.text(id)
    }

    /// The counts, checked.
    pub fn counts(&self) -> Result<Decoded, FormatError> {
        decode_ids(&self.table.parts, self.table.ends.len(), self.table.runs.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{Reader as SummaryReader, Spec, Summary};

    #[derive(Default)]
    struct Table(Vec<String>);

    impl Texts for Table {
        fn id(&mut self, text: &str) -> u32 {
            match self.0.iter().position(|t| t == text) {
                Some(i) => i as u32,
                None => {
                    self.0.push(text.to_string());
                    (self.0.len() - 1) as u32
                }
            }
        }
    }

    fn part_of(records: &[&str]) -> Part {
        let spec = Spec::default();
        let mut reader = SummaryReader::new(&spec);
        let (mut s, mut notable) = (Summary::default(), Summary::default());
        for r in records {
            s.observe_raw(r, None, &spec, &mut reader, &mut notable).unwrap();
        }
        s.merge(notable, &spec);
        s.part().unwrap()
    }

    fn round_trip(p: &Part) -> Part {
        let mut t = Table::default();
        let bytes = encode(p, &mut t);
        decode(&bytes, |id| t.0.get(id as usize).map(String::as_str)).unwrap()
    }

    #[test]
    fn parts_round_trip() {
        let a = r#"{"eventTime":"2024-03-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","recipientAccountId":"1","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::1:user/alice"},"requestParameters":{"userName":"backdoor"},"sourceIPAddress":"203.0.113.5","eventID":"e1"}"#;
        let b = r#"{"eventTime":"2024-03-01T12:30:00.250Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied","userIdentity":{"type":"Root"},"readOnly":true}"#;
        let c = r#"{"eventName":"GetObject"}"#;
        // The order of a field's values is not kept (it counts for nothing).
        let sorted = |mut p: Part| {
            p.counts.iter_mut().for_each(|v| v.sort_by(|x, y| x.0.cmp(&y.0)));
            p
        };
        for records in [&[a][..], &[a, b], &[a, b, c], &[c], &[]] {
            let p = part_of(records);
            assert_eq!(sorted(round_trip(&p)), sorted(p), "{records:?}");
        }
        assert_eq!(part_of(&[a]).notable.len(), 1);
        // The summary made from the part is the summary of the records.
        let spec = Spec::default();
        let p = part_of(&[a, b, c]);
        let mut whole = Summary::default();
        for r in [a, b, c] {
            whole.observe(&serde_json::from_str(r).unwrap(), &spec);
        }
        whole.files = 1;
        assert!(Summary::from_part(&round_trip(&p)) == whole);
    }

    #[test]
    fn damaged_parts_are_errors() {
        let a = r#"{"eventTime":"2024-03-01T10:00:00Z","eventName":"CreateUser","userIdentity":{"type":"Root"},"eventSource":"iam.amazonaws.com"}"#;
        let p = part_of(&[a, a]);
        let mut t = Table::default();
        let bytes = encode(&p, &mut t);
        let text = |id: u32| t.0.get(id as usize).map(String::as_str);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], text).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, text).is_err());
        assert!(decode(&bytes, |_| None).is_err(), "ids past the table");
    }
}
