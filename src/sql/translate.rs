//! From the compiled pattern (sub-rules of field tests) to one SQL condition.
//!
//! Each sub-rule ([`crate::pattern::compile::Conj`]) becomes an AND of its field tests, each
//! pattern an OR of its sub-rules. A field test is written against where the table holds the field
//! ([`crate::lake::schema::place`]): a typed column, a leaf inside a JSON text column, a field
//! of the `resources` structs, or nowhere. What SQL over that table cannot decide exactly
//! becomes a *sound superset* (every record the matcher accepts is kept) and is marked with a
//! `/* superset: ... */` comment; [`Translator::notes`] lists the reasons.

use super::Options;
use super::dialect::{Dialect, like_escape, regex_escape};
use crate::lake::schema::{self, Place, Type};
use crate::pattern::Pattern;
use crate::pattern::ast::{Alt, AnyBut, Cmp};
use crate::pattern::compile::FieldTest;
use crate::pattern::num::NumLit;
use crate::pattern::ops::{CaseSeq, Cidr, Glob};
use crate::query::View;
use chrono::{DateTime, Utc};

/// Where a field's leaves are, for one row.
#[derive(Debug, Clone)]
enum Loc {
    /// A scalar as text (typed column, struct field or envelope value). `derived`: an
    /// envelope value built from record strings, so never a number, boolean or JSON null.
    Text {
        expr: String,
        derived: bool,
        /// The record path, for the JSON-null test on `raw` (typed columns only).
        raw_path: Option<String>,
    },
    /// Leaves inside JSON text: the column and the record keys below it.
    Json { col: String, keys: Vec<String>, rec: String },
    /// A BOOLEAN column (`managementevent`): true and false as they are; a string, number or
    /// null there reads as NULL.
    Bool { expr: String, rec: String },
    /// A field of the structs in `resources`.
    Resource(&'static str),
    /// A field the row cannot have (envelope `resources`, an object).
    NoLeaf,
    /// A record field the table does not hold (and no `raw` column to read it from).
    Unknown(String),
}

/// Writes SQL conditions and collects the reasons of every superset.
pub(crate) struct Translator<'o> {
    o: &'o Options,
    notes: Vec<String>,
}

fn comment_safe(s: &str) -> String {
    s.replace("*/", "* /").replace(['\n', '\r'], " ")
}

/// Could the text a typed STRING column gives a JSON number, boolean, null, object or array
/// satisfy this string test? Then the test is a superset there.
fn nonstring_eq(s: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(s).is_ok_and(|v| !v.is_string())
}

fn numeric_chars(s: &str) -> bool {
    s.chars().all(|c| "0123456789-+.eE".contains(c))
}

fn nonstring_prefix(p: &str) -> bool {
    p.is_empty()
        || ["true", "false", "null"].iter().any(|w| w.starts_with(p))
        || p.starts_with(['{', '['])
        || numeric_chars(p)
}

fn nonstring_suffix(p: &str) -> bool {
    p.is_empty()
        || ["true", "false", "null"].iter().any(|w| w.ends_with(p))
        || p.ends_with(['}', ']'])
        || numeric_chars(p)
}

fn nonstring_glob(g: &Glob) -> bool {
    let parts = g.parts();
    ["true", "false", "null"].iter().any(|w| g.matches(w))
        || (nonstring_prefix(&parts[0]) && nonstring_suffix(&parts[parts.len() - 1]))
}

/// Does a string test's answer on a typed text column possibly include non-strings?
fn string_alt_nonstring(alt: &Alt) -> bool {
    match alt {
        Alt::Str(s) | Alt::Exactly(s) => nonstring_eq(s),
        Alt::EqIc(s, _) => nonstring_eq(&s.to_lowercase()),
        Alt::Prefix(p) => nonstring_prefix(p),
        Alt::PrefixIc(p, _) => nonstring_prefix(&p.to_lowercase()),
        Alt::Suffix(p) => nonstring_suffix(p),
        Alt::SuffixIc(p, _) => nonstring_suffix(&p.to_lowercase()),
        Alt::Wildcard(_, g) => nonstring_glob(g),
        _ => false,
    }
}

/// The double a pattern number is compared by: its value when event-ruler can compare it,
/// else the nearest double of its text (an event number with the same text has it), if finite.
fn value_of(n: &NumLit) -> Option<f64> {
    n.val.or_else(|| n.text.parse::<f64>().ok()).filter(|v| v.is_finite())
}

/// `x` within two units in the last place of `v`. The matcher reads numbers with serde_json,
/// whose float parser may be a unit off the correctly rounded value an engine reads; numbers
/// are a marked superset anyway.
fn near(x: &str, v: f64) -> String {
    format!(
        "{x} BETWEEN {} AND {}",
        double(v.next_down().next_down()),
        double(v.next_up().next_up())
    )
}

fn double(v: f64) -> String {
    format!("{v:e}")
}

fn case_regex(seq: &CaseSeq) -> String {
    let mut re = String::new();
    for [lo, up] in seq.alternatives() {
        if lo == up {
            re.push_str(&regex_escape(lo));
        } else {
            re.push_str(&format!("(?:{}|{})", regex_escape(lo), regex_escape(up)));
        }
    }
    re
}

fn glob_like(g: &Glob) -> String {
    g.parts().iter().map(|p| like_escape(p)).collect::<Vec<_>>().join("%")
}

const IPV4_RE: &str = r"\A[0-9]{1,10}\.[0-9]{1,10}\.[0-9]{1,10}\.[0-9]{1,10}\z";
const HEXCOLON_RE: &str = r"\A[0-9A-Fa-f:]*:[0-9A-Fa-f:]*\z";

fn ipv6_text(v: u128) -> String {
    std::net::Ipv6Addr::from(v).to_string()
}

fn ipv4_text(v: u128) -> String {
    std::net::Ipv4Addr::from(v as u32).to_string()
}

impl<'o> Translator<'o> {
    pub(crate) fn new(o: &'o Options) -> Self {
        Translator { o, notes: Vec::new() }
    }

    /// The reasons of the supersets written so far, each once.
    pub(crate) fn notes(&self) -> &[String] {
        &self.notes
    }

    fn d(&self) -> Dialect {
        self.o.dialect
    }

    fn lit(&self, s: &str) -> String {
        self.d().lit(s)
    }

    /// Marks `sql` as a superset for `why`.
    fn sup(&mut self, sql: String, why: &str) -> String {
        let why = comment_safe(why);
        if !self.notes.contains(&why) {
            self.notes.push(why.clone());
        }
        format!("({sql} /* superset: {why} */)")
    }

    /// The condition for a pattern in its view: any of its sub-rules.
    pub(crate) fn pattern(&mut self, p: &Pattern, view: View) -> String {
        let c = p.compiled();
        // A field test every sub-rule carries, on a place without arrays, is written once.
        let key =
            |f: &FieldTest| format!("{}\u{0}{:?}\u{0}{}", c.paths[f.path], f.alts, f.absent_ok);
        let mut common: Vec<String> = Vec::new();
        if c.conjs.len() > 1 {
            for f in &c.conjs[0].fields {
                let loc = self.locate(&c.paths[f.path], view);
                let k = key(f);
                if matches!(loc, Loc::Text { .. } | Loc::NoLeaf | Loc::Unknown(_))
                    && c.conjs[1..].iter().all(|o| o.fields.iter().any(|g| key(g) == k))
                {
                    common.push(k);
                }
            }
        }
        let mut parts = Vec::new();
        for f in c.conjs.first().map(|c| c.fields.as_slice()).unwrap_or_default() {
            if common.contains(&key(f)) {
                let loc = self.locate(&c.paths[f.path], view);
                parts.push(self.field(f, &loc, &c.paths[f.path], false));
            }
        }
        let conjs: Vec<String> = c
            .conjs
            .iter()
            .map(|conj| {
                let rest: Vec<&FieldTest> =
                    conj.fields.iter().filter(|f| !common.contains(&key(f))).collect();
                self.conj(&rest, &c.paths, view)
            })
            .collect();
        parts.push(or(conjs));
        and(parts)
    }

    fn conj(&mut self, fields: &[&FieldTest], paths: &[String], view: View) -> String {
        let locs: Vec<Loc> = fields.iter().map(|f| self.locate(&paths[f.path], view)).collect();
        // Fields that may share an array inside JSON text: those under the same top-level key
        // (`resources` counts for its struct fields too).
        let group = |i: usize| -> Option<String> {
            match &locs[i] {
                Loc::Json { col, keys, .. } => Some(if col == "raw" {
                    keys.first().cloned().unwrap_or_default()
                } else {
                    col.clone()
                }),
                Loc::Resource(_) => Some("resources".into()),
                _ => None,
            }
        };
        let shared: Vec<bool> = (0..locs.len())
            .map(|i| {
                group(i).is_some_and(|g| {
                    (0..locs.len()).any(|j| {
                        j != i
                            && group(j).as_ref() == Some(&g)
                            && !(matches!(locs[i], Loc::Resource(_))
                                && matches!(locs[j], Loc::Resource(_)))
                    })
                })
            })
            .collect();
        let mut parts = Vec::new();
        let mut resources: Vec<(&FieldTest, &'static str)> = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            let path = &paths[f.path];
            match &locs[i] {
                Loc::Resource(name) => resources.push((f, name)),
                loc => parts.push(self.field(f, loc, path, shared[i])),
            }
        }
        if !resources.is_empty() {
            parts.push(self.resources(&resources));
        }
        if shared.iter().any(|&s| s) {
            let all = and(parts);
            return self.sup(
                all,
                "fields inside one JSON value are tested one by one, without event-ruler's array consistency",
            );
        }
        and(parts)
    }

    /// Where `path` (in the pattern's view) lives in a row.
    fn locate(&self, path: &str, view: View) -> Loc {
        let record_path = match view {
            View::Record => path.to_string(),
            View::Envelope => {
                let text = |expr: String| Loc::Text { expr, derived: true, raw_path: None };
                match path {
                    "version" => return text("'0'".into()),
                    "id" => return text("eventid".into()),
                    "account" => return text("recipientaccountid".into()),
                    "time" => return text("eventtime".into()),
                    "region" => return text("awsregion".into()),
                    "source" => return text(self.envelope_source()),
                    "detail-type" => return text(envelope_detail_type(self.d())),
                    _ => match path.strip_prefix("detail.") {
                        Some(p) => p.to_string(),
                        None => return Loc::NoLeaf,
                    },
                }
            }
        };
        match schema::place(&record_path) {
            Place::Column(names, ty) => {
                let expr = names.join(".");
                if ty == Type::Boolean {
                    if self.o.has_raw() && self.d().json_leaves() {
                        let keys = record_path.split('.').map(str::to_owned).collect();
                        return Loc::Json { col: "raw".into(), keys, rec: record_path };
                    }
                    return Loc::Bool { expr, rec: record_path };
                }
                Loc::Text { expr, derived: false, raw_path: Some(record_path) }
            }
            Place::InJson(col, keys) => Loc::Json { col: col.to_string(), keys, rec: record_path },
            Place::Resource(name) => Loc::Resource(name),
            Place::Absent => {
                if self.o.has_raw() && !record_path.contains('[') {
                    Loc::Json {
                        col: "raw".into(),
                        keys: record_path.split('.').map(str::to_owned).collect(),
                        rec: record_path,
                    }
                } else {
                    Loc::Unknown(record_path)
                }
            }
        }
    }

    fn envelope_source(&self) -> String {
        let d = self.d();
        format!(
            "CASE WHEN eventsource = 'monitoring.amazonaws.com' THEN 'aws.cloudwatch' WHEN eventsource IS NOT NULL THEN {} END",
            d.concat("'aws.'", &d.split_part("eventsource", 1))
        )
    }

    /// One field test (not `resources`).
    fn field(&mut self, f: &FieldTest, loc: &Loc, path: &str, shared: bool) -> String {
        match loc {
            Loc::NoLeaf => bool_sql(f.absent_ok),
            Loc::Unknown(p) => {
                let why =
                    format!("{p} is not a column of the table (export with --raw to test it)");
                self.sup("TRUE".into(), &why)
            }
            Loc::Text { expr, derived, raw_path } => {
                let mut alts = Vec::new();
                for a in &f.alts {
                    alts.push(self.text_alt(a, expr, *derived, raw_path.as_deref(), path));
                }
                if f.absent_ok {
                    alts.insert(0, self.text_absent(expr, *derived, raw_path.as_deref(), path));
                }
                or(alts)
            }
            Loc::Json { keys, .. } if keys.iter().any(|k| k.contains('[')) => self.sup(
                "TRUE".into(),
                &format!("{path}: a key with [ is not told from an array index in JSON paths"),
            ),
            Loc::Json { col, keys, rec } => {
                // A JSON text column itself as the leaf: the table reads a JSON null there as
                // NULL, like a missing key.
                let top_null = (keys.is_empty() && col != "raw").then(|| {
                    self.raw_null(Some(rec)).ok_or_else(|| {
                        format!("{path}: a JSON null reads as NULL, like a missing key")
                    })
                });
                let mut out = Vec::new();
                if f.absent_ok {
                    if shared {
                        out.push(self.sup(
                            "TRUE".into(),
                            "exists: false next to other fields of one JSON value depends on the array elements the others pick",
                        ));
                    } else {
                        let absent = self.json_absent(col, keys, path);
                        out.push(match &top_null {
                            None => absent,
                            Some(Ok(n)) => format!("({absent} AND NOT {n})"),
                            Some(Err(why)) => self.sup(absent, why),
                        });
                    }
                }
                if !f.alts.is_empty() {
                    let mut leaves = self.json_alts(&f.alts, col, keys, path);
                    let null_ok = f
                        .alts
                        .iter()
                        .any(|a| matches!(a, Alt::Null | Alt::Exists(true) | Alt::AnythingBut(_)));
                    if null_ok {
                        leaves = match &top_null {
                            None => leaves,
                            Some(Ok(n)) => format!("({leaves} OR {n})"),
                            Some(Err(why)) => self.sup(format!("({leaves} OR {col} IS NULL)"), why),
                        };
                    }
                    out.push(leaves);
                }
                or(out)
            }
            Loc::Bool { expr, rec } => {
                let why =
                    format!("{rec}: a BOOLEAN column reads strings, numbers and null as NULL");
                let mut out = Vec::new();
                if f.absent_ok {
                    out.push(self.sup(format!("{expr} IS NULL"), &why));
                }
                for a in &f.alts {
                    out.push(match a {
                        Alt::Bool(b) => format!("{expr} = {}", bool_sql(*b)),
                        _ => self.sup("TRUE".into(), &why),
                    });
                }
                or(out)
            }
            Loc::Resource(_) => unreachable!("resources are tested together"),
        }
    }

    /// Is the record's value at `raw_path` a JSON null? (Only with a `raw` column.)
    fn raw_null(&self, raw_path: Option<&str>) -> Option<String> {
        let p = raw_path?;
        if !self.o.has_raw() {
            return None;
        }
        let keys: Vec<&str> = p.split('.').collect();
        match self.d() {
            Dialect::Duckdb => Some(format!(
                "COALESCE(json_type(raw, {}) = 'NULL', FALSE)",
                self.lit(&duck_path(&keys))
            )),
            Dialect::Athena => {
                let ks: Vec<String> = keys.iter().map(|k| (*k).to_string()).collect();
                let (p, _) = athena_json(Dialect::Athena, "raw", &ks);
                Some(format!("COALESCE(json_format(json_extract(raw, {p})) = 'null', FALSE)"))
            }
            Dialect::Trino => Some(format!(
                "COALESCE(json_exists(raw, {}), FALSE)",
                self.lit(&format!("{} ? (@ == null)", sqljson_path(&keys)))
            )),
            Dialect::Spark => None,
        }
    }

    fn text_absent(
        &mut self,
        c: &str,
        derived: bool,
        raw_path: Option<&str>,
        path: &str,
    ) -> String {
        if derived {
            return format!("{c} IS NULL");
        }
        match self.raw_null(raw_path) {
            Some(n) => format!("({c} IS NULL AND NOT {n})"),
            None => self.sup(
                format!("{c} IS NULL"),
                &format!("{path}: a JSON null reads as NULL, like a missing key"),
            ),
        }
    }

    /// One alternative against a scalar given as text.
    fn text_alt(
        &mut self,
        a: &Alt,
        c: &str,
        derived: bool,
        raw_path: Option<&str>,
        path: &str,
    ) -> String {
        let nulls = format!("{path}: a JSON null reads as NULL, like a missing key");
        let texts = format!("{path}: the column holds numbers and booleans as text");
        match a {
            // Sigma-only tests (never in an EventBridge pattern): left to the recheck.
            Alt::TextGlob(_) | Alt::TextRegex(_) | Alt::Deep(_) | Alt::AllOf(_) => {
                self.sup("TRUE".into(), &format!("{path}: a Sigma test is not translated"))
            }
            Alt::Str(_)
            | Alt::Exactly(_)
            | Alt::Prefix(_)
            | Alt::Suffix(_)
            | Alt::PrefixIc(..)
            | Alt::SuffixIc(..)
            | Alt::EqIc(..)
            | Alt::Wildcard(..)
            | Alt::Cidr(..) => {
                let sql = self.string_test(a, c);
                if !derived && string_alt_nonstring(a) { self.sup(sql, &texts) } else { sql }
            }
            Alt::Num(n) => {
                if derived {
                    return "FALSE".into();
                }
                let sql = match value_of(n) {
                    Some(v) => near(&self.d().to_double(c), v),
                    None => format!("{c} IS NOT NULL"),
                };
                self.sup(sql, &texts)
            }
            Alt::Numeric(terms) => {
                if derived {
                    return "FALSE".into();
                }
                let sql = self.numeric(&self.d().to_double(c), terms);
                self.sup(sql, &texts)
            }
            Alt::Bool(b) => {
                if derived {
                    return "FALSE".into();
                }
                let sql = format!("{c} = {}", self.lit(if *b { "true" } else { "false" }));
                self.sup(sql, &texts)
            }
            Alt::Null => {
                if derived {
                    return "FALSE".into();
                }
                match self.raw_null(raw_path) {
                    Some(n) => n,
                    None => self.sup(format!("{c} IS NULL"), &nulls),
                }
            }
            Alt::Exists(_) => {
                if derived {
                    return format!("{c} IS NOT NULL");
                }
                match self.raw_null(raw_path) {
                    Some(n) => format!("({c} IS NOT NULL OR {n})"),
                    None => self.sup("TRUE".into(), &nulls),
                }
            }
            Alt::AnythingBut(ab) => self.text_anything_but(ab, c, derived, raw_path, path),
        }
    }

    fn text_anything_but(
        &mut self,
        ab: &AnyBut,
        c: &str,
        derived: bool,
        raw_path: Option<&str>,
        path: &str,
    ) -> String {
        let mut superset: Option<String> = None;
        // The excluded string tests: those a non-string's text cannot satisfy (unless derived).
        let mut excluded: Vec<Alt> = Vec::new();
        let mut push = |alt: Alt, superset: &mut Option<String>| {
            if !derived && string_alt_nonstring(&alt) {
                *superset = Some(format!("{path}: the column holds numbers and booleans as text"));
            } else {
                excluded.push(alt);
            }
        };
        match ab {
            AnyBut::Strs(v) => v.iter().for_each(|s| push(Alt::Str(s.clone()), &mut superset)),
            AnyBut::Prefix(v) => v.iter().for_each(|s| push(Alt::Prefix(s.clone()), &mut superset)),
            AnyBut::Suffix(v) => v.iter().for_each(|s| push(Alt::Suffix(s.clone()), &mut superset)),
            AnyBut::Wildcard(v) => {
                v.iter()
                    .for_each(|(s, g)| push(Alt::Wildcard(s.clone(), g.clone()), &mut superset));
            }
            AnyBut::EqIc(v) => {
                v.iter().for_each(|(s, q)| push(Alt::EqIc(s.clone(), q.clone()), &mut superset));
            }
            AnyBut::Nums(_) => {
                // A string always passes; a number's text cannot be told from a string's.
                if !derived {
                    superset =
                        Some(format!("{path}: numbers in a text column are not told from strings"));
                }
            }
        }
        let tests: Vec<String> = excluded.iter().map(|a| self.string_test(a, c)).collect();
        let present = if tests.is_empty() {
            format!("{c} IS NOT NULL")
        } else {
            format!("({c} IS NOT NULL AND NOT {})", or(tests))
        };
        let sql = if derived {
            present
        } else {
            match self.raw_null(raw_path) {
                Some(n) => format!("({present} OR {n})"),
                None => {
                    superset.get_or_insert_with(|| {
                        format!("{path}: a JSON null reads as NULL, like a missing key")
                    });
                    format!("({present} OR {c} IS NULL)")
                }
            }
        };
        match superset {
            Some(why) => self.sup(sql, &why),
            None => sql,
        }
    }

    /// A string operator on a text expression (true only for strings, given the text).
    fn string_test(&mut self, a: &Alt, c: &str) -> String {
        let d = self.d();
        match a {
            Alt::Str(s) | Alt::Exactly(s) => format!("{c} = {}", self.lit(s)),
            Alt::Prefix(p) => d.like(c, &format!("{}%", like_escape(p))),
            Alt::Suffix(p) => d.like(c, &format!("%{}", like_escape(p))),
            Alt::Wildcard(_, g) => d.like(c, &glob_like(g)),
            Alt::EqIc(_, seq) => d.regex(c, &format!(r"\A{}\z", case_regex(seq))),
            Alt::PrefixIc(_, seq) => d.regex(c, &format!(r"\A{}", case_regex(seq))),
            Alt::SuffixIc(_, seq) => d.regex(c, &format!(r"{}\z", case_regex(seq))),
            Alt::Cidr(_, cidr) => self.cidr(c, cidr),
            _ => unreachable!("not a string operator"),
        }
    }

    fn numeric(&self, x: &str, terms: &[(Cmp, NumLit)]) -> String {
        let t: Vec<String> = terms
            .iter()
            .map(|(op, lit)| match lit.val {
                Some(v) => match op {
                    Cmp::Eq => near(x, v),
                    Cmp::Lt | Cmp::Le => format!("{x} <= {}", double(v.next_up().next_up())),
                    Cmp::Gt | Cmp::Ge => format!("{x} >= {}", double(v.next_down().next_down())),
                },
                None => "FALSE".into(),
            })
            .collect();
        and(t)
    }

    /// `cidr`: IPv4 dotted quads by arithmetic in every dialect; addresses written with colons
    /// (IPv6, and IPv4-mapped IPv6, which event-ruler counts as IPv4) by the engine's address
    /// type, or as a superset where it has none.
    fn cidr(&mut self, c: &str, cidr: &Cidr) -> String {
        let d = self.d();
        let (v6, lo, hi) = cidr.range();
        let host_bits = (lo ^ hi).count_ones();
        let mut out = Vec::new();
        if !v6 {
            let part = |n: usize| d.to_bigint(&d.split_part(c, n));
            let value = format!(
                "{} * 16777216 + {} * 65536 + {} * 256 + {}",
                part(1),
                part(2),
                part(3),
                part(4)
            );
            out.push(format!(
                "({} AND {} <= 255 AND {} <= 255 AND {} <= 255 AND {} <= 255 AND {value} BETWEEN {lo} AND {hi})",
                d.regex(c, IPV4_RE),
                part(1),
                part(2),
                part(3),
                part(4)
            ));
        }
        let hex = d.regex(c, HEXCOLON_RE);
        let (net, bits) = if v6 {
            (ipv6_text(lo), 128 - host_bits)
        } else {
            (format!("::ffff:{}", ipv4_text(lo)), 128 - host_bits)
        };
        let colon = match d {
            Dialect::Duckdb => {
                let inet = |t: &str| format!("CAST({} AS INET)", self.lit(t));
                let within =
                    format!("TRY_CAST({c} AS INET) <<= {}", inet(&format!("{net}/{bits}")));
                if v6 {
                    format!(
                        "({hex} AND COALESCE({within} AND NOT TRY_CAST({c} AS INET) <<= {}, FALSE))",
                        inet("::ffff:0:0/96")
                    )
                } else {
                    format!("({hex} AND COALESCE({within}, FALSE))")
                }
            }
            Dialect::Trino => {
                let ip = format!("TRY_CAST({c} AS IPADDRESS)");
                let text = if v6 {
                    format!("{}/{bits}", ipv6_text(lo))
                } else {
                    format!("{}/{}", ipv4_text(lo), 32 - host_bits)
                };
                // Trino reads an IPv4-mapped address as the IPv4 address (and prints it dotted).
                let family = if v6 { "NOT " } else { "" };
                format!(
                    "({hex} AND COALESCE(contains({}, {ip}) AND {family}(CAST({ip} AS VARCHAR) LIKE '%.%'), FALSE))",
                    self.lit(&text)
                )
            }
            Dialect::Athena | Dialect::Spark => self.sup(
                hex,
                "cidr: no address type is used in this dialect; addresses written with colons are all kept",
            ),
        };
        out.push(colon);
        or(out)
    }

    /// Leaves of a JSON text column at `keys`: the alternatives.
    fn json_alts(&mut self, alts: &[Alt], col: &str, keys: &[String], path: &str) -> String {
        let d = self.d();
        if !d.json_leaves() {
            return self.sup(
                format!("{col} IS NOT NULL"),
                &format!("{path}: Spark's JSON functions do not flatten arrays as event-ruler does; any non-null {col} is kept"),
            );
        }
        if d == Dialect::Athena {
            return self.athena_json_alts(alts, col, keys, path);
        }
        if d == Dialect::Trino {
            return self.trino_json_alts(alts, col, keys, path);
        }
        let mut tests = Vec::new();
        for a in alts {
            tests.push(self.duck_leaf_alt(a, path));
        }
        format!(
            "EXISTS (SELECT 1 FROM json_tree({col}) AS t WHERE {} AND {})",
            self.duck_leaf_path(keys),
            or(tests)
        )
    }

    fn json_absent(&mut self, col: &str, keys: &[String], path: &str) -> String {
        let d = self.d();
        if !d.json_leaves() {
            return self.sup(
                "TRUE".into(),
                &format!("{path}: Spark cannot tell a missing leaf inside JSON text"),
            );
        }
        if d == Dialect::Athena {
            let (value, arrays) = athena_json(d, col, keys);
            let arrays = self.sup(arrays, &athena_arrays(path));
            return format!(
                "(json_extract({col}, {value}) IS NULL OR json_format(json_extract({col}, {value})) LIKE '{{%' OR {arrays})"
            );
        }
        if d.is_trino() {
            return format!(
                "NOT COALESCE(json_exists({col}, {}), FALSE)",
                self.lit(&format!("{} ? ({SCALAR})", trino_leaf_path(keys)))
            );
        }
        format!(
            "NOT EXISTS (SELECT 1 FROM json_tree({col}) AS t WHERE {})",
            self.duck_leaf_path(keys)
        )
    }

    /// DuckDB: `t` is a scalar of `json_tree` at the event-ruler path `keys` (array indexes dropped).
    fn duck_leaf_path(&self, keys: &[String]) -> String {
        let target =
            if keys.is_empty() { "$".to_string() } else { format!("$.{}", keys.join(".")) };
        format!(
            "t.type NOT IN ('OBJECT', 'ARRAY') AND regexp_replace(t.fullkey, '\\[[0-9]+\\]', '', 'g') = {}",
            self.lit(&target)
        )
    }

    /// DuckDB: one alternative on the `json_tree` leaf `t`.
    fn duck_leaf_alt(&mut self, a: &Alt, path: &str) -> String {
        let s = "json_extract_string(t.atom, '$')";
        let is_num = "t.type IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT')";
        let nums = format!("{path}: numbers inside JSON text are compared as DOUBLE");
        match a {
            // Sigma-only tests (never in an EventBridge pattern): left to the recheck.
            Alt::TextGlob(_) | Alt::TextRegex(_) | Alt::Deep(_) | Alt::AllOf(_) => {
                self.sup("TRUE".into(), &format!("{path}: a Sigma test is not translated"))
            }
            Alt::Str(_)
            | Alt::Exactly(_)
            | Alt::Prefix(_)
            | Alt::Suffix(_)
            | Alt::PrefixIc(..)
            | Alt::SuffixIc(..)
            | Alt::EqIc(..)
            | Alt::Wildcard(..)
            | Alt::Cidr(..) => format!("(t.type = 'VARCHAR' AND {})", self.string_test(a, s)),
            Alt::Num(n) => {
                let sql = match value_of(n) {
                    Some(v) => format!(
                        "({is_num} AND {})",
                        near("TRY_CAST(CAST(t.atom AS VARCHAR) AS DOUBLE)", v)
                    ),
                    None => is_num.to_string(),
                };
                self.sup(sql, &nums)
            }
            Alt::Numeric(terms) => {
                let sql = format!(
                    "({is_num} AND {})",
                    self.numeric("TRY_CAST(CAST(t.atom AS VARCHAR) AS DOUBLE)", terms)
                );
                self.sup(sql, &nums)
            }
            Alt::Bool(b) => format!("(t.type = 'BOOLEAN' AND CAST(t.atom AS VARCHAR) = '{b}')"),
            Alt::Null => "t.type = 'NULL'".into(),
            Alt::Exists(_) => "TRUE".into(),
            Alt::AnythingBut(AnyBut::Nums(_)) => self.sup("TRUE".into(), &nums),
            Alt::AnythingBut(ab) => {
                let tests: Vec<String> =
                    anything_but_strings(ab).iter().map(|x| self.string_test(x, s)).collect();
                format!("NOT (t.type = 'VARCHAR' AND {})", or(tests))
            }
        }
    }

    /// Athena: `json_extract` along the path, exact where no array lies on it; a row with an
    /// array on the path is kept (a superset), for Athena's documented functions cannot flatten.
    fn athena_json_alts(&mut self, alts: &[Alt], col: &str, keys: &[String], path: &str) -> String {
        let d = self.d();
        let (p, arrays) = athena_json(d, col, keys);
        let node = format!("json_extract({col}, {p})");
        let text = format!("json_format({node})");
        let s = format!("json_extract_scalar({col}, {p})");
        let is_str = format!("{text} LIKE '\"%'");
        let nums = format!("{path}: numbers inside JSON text are compared as DOUBLE");
        let mut tests = Vec::new();
        for a in alts {
            let t = match a {
                // Sigma-only tests (never in an EventBridge pattern): left to the recheck.
                Alt::TextGlob(_) | Alt::TextRegex(_) | Alt::Deep(_) | Alt::AllOf(_) => {
                    self.sup("TRUE".into(), &format!("{path}: a Sigma test is not translated"))
                }
                Alt::Str(_)
                | Alt::Exactly(_)
                | Alt::Prefix(_)
                | Alt::Suffix(_)
                | Alt::PrefixIc(..)
                | Alt::SuffixIc(..)
                | Alt::EqIc(..)
                | Alt::Wildcard(..)
                | Alt::Cidr(..) => format!("({is_str} AND {})", self.string_test(a, &s)),
                Alt::Bool(b) => format!("{text} = '{b}'"),
                Alt::Null => format!("{text} = 'null'"),
                Alt::Exists(_) => format!("({node} IS NOT NULL AND {text} NOT LIKE '{{%')"),
                Alt::Num(n) => {
                    let sql = match value_of(n) {
                        Some(v) => format!(
                            "(NOT {is_str} AND {})",
                            near(&format!("TRY_CAST({s} AS DOUBLE)"), v)
                        ),
                        None => format!("(NOT {is_str} AND TRY_CAST({s} AS DOUBLE) IS NOT NULL)"),
                    };
                    self.sup(sql, &nums)
                }
                Alt::Numeric(terms) => {
                    let sql = format!(
                        "(NOT {is_str} AND {})",
                        self.numeric(&format!("TRY_CAST({s} AS DOUBLE)"), terms)
                    );
                    self.sup(sql, &nums)
                }
                Alt::AnythingBut(AnyBut::Nums(_)) => {
                    let sql = format!("({node} IS NOT NULL AND {text} NOT LIKE '{{%')");
                    self.sup(sql, &nums)
                }
                Alt::AnythingBut(ab) => {
                    let ex: Vec<String> =
                        anything_but_strings(ab).iter().map(|x| self.string_test(x, &s)).collect();
                    format!(
                        "({node} IS NOT NULL AND {text} NOT LIKE '{{%' AND NOT ({is_str} AND {}))",
                        or(ex)
                    )
                }
            };
            tests.push(t);
        }
        let arrays = self.sup(arrays, &athena_arrays(path));
        format!("({} OR {arrays})", or(tests))
    }

    /// Trino and Athena: SQL/JSON path in lax mode (arrays unwrapped at each step).
    fn trino_json_alts(&mut self, alts: &[Alt], col: &str, keys: &[String], path: &str) -> String {
        let mut filters = Vec::new();
        let mut superset = None;
        for a in alts {
            let f = match a {
                Alt::Str(s) | Alt::Exactly(s) => format!("@ == {}", json_string(s)),
                Alt::Prefix(p) => format!("@ starts with {}", json_string(p)),
                Alt::Bool(b) => format!("@ == {b}"),
                Alt::Null => "@ == null".into(),
                Alt::Exists(_) => SCALAR.into(),
                Alt::Num(n) if value_of(n).is_some() => {
                    superset = Some(format!(
                        "{path}: numbers inside JSON text are compared by Trino's JSON path"
                    ));
                    let v = value_of(n).unwrap_or_default();
                    format!(
                        "@ >= {} && @ <= {}",
                        double(v.next_down().next_down()),
                        double(v.next_up().next_up())
                    )
                }
                _ => {
                    superset = Some(format!(
                        "{path}: inside JSON text, Trino's JSON path tests only equality, prefix, booleans, null and existence; other operators keep every leaf"
                    ));
                    SCALAR.into()
                }
            };
            if !filters.contains(&f) {
                filters.push(f);
            }
        }
        let filter = filters.iter().map(|f| format!("({f})")).collect::<Vec<_>>().join(" || ");
        let sql = format!(
            "COALESCE(json_exists({col}, {}), FALSE)",
            self.lit(&format!("{} ? ({filter})", trino_leaf_path(keys)))
        );
        match superset {
            Some(why) => self.sup(sql, &why),
            None => sql,
        }
    }

    /// The fields of one sub-rule that live in `resources`: array-consistent, one element.
    fn resources(&mut self, fields: &[(&FieldTest, &'static str)]) -> String {
        let required: Vec<&(&FieldTest, &'static str)> =
            fields.iter().filter(|(f, _)| !f.absent_ok).collect();
        let optional: Vec<&(&FieldTest, &'static str)> =
            fields.iter().filter(|(f, _)| f.absent_ok).collect();
        let elem_alts = |t: &mut Self, f: &FieldTest, name: &str| -> String {
            let c = format!("r.{name}");
            let path = format!("resources.{name}");
            or(f.alts.iter().map(|a| t.text_alt(a, &c, false, None, &path)).collect())
        };
        if optional.is_empty() {
            let pred = and(required.iter().map(|(f, n)| elem_alts(self, f, n)).collect());
            return self.d().any_element("resources", &pred);
        }
        if required.is_empty() && optional.len() == 1 {
            let (f, name) = optional[0];
            let none = format!(
                "NOT {}",
                self.d().any_element("resources", &format!("r.{name} IS NOT NULL"))
            );
            let none = self.sup(
                none,
                &format!("resources.{name}: a JSON null reads as NULL, like a missing key"),
            );
            let mut out = vec![none];
            if !f.alts.is_empty() {
                let pred = elem_alts(self, f, name);
                out.push(self.d().any_element("resources", &pred));
            }
            return or(out);
        }
        let pred = and(required.iter().map(|(f, n)| elem_alts(self, f, n)).collect());
        let sql = if required.is_empty() {
            "TRUE".to_string()
        } else {
            self.d().any_element("resources", &pred)
        };
        self.sup(sql, "exists: false on a resources field next to others depends on the element the others pick")
    }
}

/// The form CloudTrail writes `eventTime` in (fractions allowed), for string comparisons.
const CANONICAL_TIME: &str =
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z\z";

fn second_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

impl Translator<'_> {
    /// `since` (inclusive) and `until` (exclusive) on `eventtime`, compared as CloudTrail's
    /// text to the second; rows in another form are kept (a superset).
    pub(crate) fn time_window(
        &mut self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> String {
        let d = self.d();
        let sec = "substr(eventtime, 1, 19)";
        let mut cmp = Vec::new();
        let mut coarse = false;
        if let Some(s) = since {
            coarse |= s.timestamp_subsec_nanos() != 0;
            cmp.push(format!("{sec} >= {}", d.lit(&second_text(s))));
        }
        if let Some(u) = until {
            if u.timestamp_subsec_nanos() == 0 {
                cmp.push(format!("{sec} < {}", d.lit(&second_text(u))));
            } else {
                coarse = true;
                cmp.push(format!("{sec} <= {}", d.lit(&second_text(u))));
            }
        }
        let canonical = d.regex("eventtime", CANONICAL_TIME);
        let mut exact = format!("({canonical} AND {})", and(cmp));
        if coarse {
            exact = self
                .sup(exact, "a time bound with a fraction of a second is compared to the second");
        }
        let other = self.sup(
            format!("(eventtime IS NOT NULL AND NOT {canonical})"),
            "eventtime values not in CloudTrail's form (YYYY-MM-DDTHH:MM:SS[.f]Z) are kept",
        );
        format!("({exact} OR {other})")
    }
}

/// Athena: the JSON path of `keys` (as a SQL literal) and the test "some value along it is an
/// array" (where event-ruler flattens and `json_extract` stops).
fn athena_json(d: Dialect, col: &str, keys: &[String]) -> (String, String) {
    let mut p = String::from("$");
    let mut arrays = Vec::new();
    let step =
        |p: &str| format!("json_array_length(json_extract({col}, {})) IS NOT NULL", d.lit(p));
    arrays.push(step(&p));
    for k in keys {
        p.push_str(&format!("[{}]", json_string(k)));
        arrays.push(step(&p));
    }
    (d.lit(&p), or(arrays))
}

fn athena_arrays(path: &str) -> String {
    format!(
        "{path}: a row with an array on the path is kept (Athena's JSON functions do not flatten arrays)"
    )
}

/// A scalar leaf in a Trino JSON path filter.
const SCALAR: &str = "@.type() != \"object\" && @.type() != \"array\"";

fn anything_but_strings(ab: &AnyBut) -> Vec<Alt> {
    match ab {
        AnyBut::Strs(v) => v.iter().map(|s| Alt::Str(s.clone())).collect(),
        AnyBut::Prefix(v) => v.iter().map(|s| Alt::Prefix(s.clone())).collect(),
        AnyBut::Suffix(v) => v.iter().map(|s| Alt::Suffix(s.clone())).collect(),
        AnyBut::Wildcard(v) => v.iter().map(|(s, g)| Alt::Wildcard(s.clone(), g.clone())).collect(),
        AnyBut::EqIc(v) => v.iter().map(|(s, q)| Alt::EqIc(s.clone(), q.clone())).collect(),
        AnyBut::Nums(_) => Vec::new(),
    }
}

fn envelope_detail_type(d: Dialect) -> String {
    let mut s = String::from("CASE eventtype");
    for t in [
        "AwsApiCall",
        "AwsConsoleSignIn",
        "AwsConsoleAction",
        "AwsServiceEvent",
        "AwsCloudTrailInsight",
    ] {
        let dt = crate::record::envelope::detail_type(t).unwrap_or_default();
        s.push_str(&format!(" WHEN {} THEN {}", d.lit(t), d.lit(dt)));
    }
    s.push_str(" END");
    s
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A DuckDB JSON path for record keys (quoted when not plain).
fn duck_path(keys: &[&str]) -> String {
    let mut p = String::from("$");
    for k in keys {
        if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            p.push('.');
            p.push_str(k);
        } else {
            p.push('.');
            p.push_str(&json_string(k));
        }
    }
    p
}

/// A strict SQL/JSON member path for typed columns (no arrays there).
fn sqljson_path(keys: &[&str]) -> String {
    let mut p = String::from("lax $");
    for k in keys {
        p.push('.');
        p.push_str(&json_string(k));
    }
    p
}

/// A lax SQL/JSON path that unwraps arrays at every step (two levels: `[*]` and lax unwrapping).
fn trino_leaf_path(keys: &[String]) -> String {
    // In lax mode `[*]` on a non-array is that value alone, so each `[*]` unwraps one more
    // level of arrays directly inside arrays where there is one, and changes nothing where
    // there is not: three per step, plus the member accessor's and the filter's own unwrapping.
    let mut p = String::from("lax $[*][*][*]");
    for k in keys {
        p.push('.');
        p.push_str(&json_string(k));
        p.push_str("[*][*][*]");
    }
    p
}

pub(crate) fn bool_sql(b: bool) -> String {
    if b { "TRUE".into() } else { "FALSE".into() }
}

/// `a OR b OR ...` (FALSE when empty), parenthesised.
pub(crate) fn or(v: Vec<String>) -> String {
    match v.len() {
        0 => "FALSE".into(),
        1 => v.into_iter().next().unwrap_or_default(),
        _ => format!("({})", v.join(" OR ")),
    }
}

/// `a AND b AND ...` (TRUE when empty), parenthesised.
pub(crate) fn and(v: Vec<String>) -> String {
    match v.len() {
        0 => "TRUE".into(),
        1 => v.into_iter().next().unwrap_or_default(),
        _ => format!("({})", v.join(" AND ")),
    }
}
