//! The validated pattern tree and its canonical JSON form.

use std::fmt::{self, Write as _};

use super::json::write_str;
use super::num::NumLit;
use super::ops::{CaseSeq, Cidr, Glob};
use super::text::{TextGlob, TextRegex};

/// An object level of a pattern: entries in document order. Duplicate keys
/// are kept; as in event-ruler, a later entry for the same field path
/// replaces an earlier one.
#[derive(Debug, Clone)]
pub(crate) struct Obj {
    pub(crate) entries: Vec<(String, Node)>,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A list of alternatives for a leaf field (OR).
    Values(Vec<Alt>),
    /// A nested object.
    Obj(Obj),
    /// `"$or": [ {..}, {..}, .. ]`.
    Or(Vec<Obj>),
}

/// One alternative of a value list.
#[derive(Debug, Clone)]
pub(crate) enum Alt {
    Str(String),
    Num(NumLit),
    Bool(bool),
    Null,
    /// event-ruler's undocumented `{"exactly": "s"}`.
    Exactly(String),
    Prefix(String),
    PrefixIc(String, CaseSeq),
    Suffix(String),
    SuffixIc(String, CaseSeq),
    EqIc(String, CaseSeq),
    Wildcard(String, Glob),
    Exists(bool),
    Numeric(Vec<(Cmp, NumLit)>),
    Cidr(String, Cidr),
    AnythingBut(AnyBut),
    // Internal-only alternatives: never produced by parsing EventBridge pattern text; built by
    // compilers of other rule languages (Sigma, `crate::audit::sigma`). See the module docs.
    /// A glob (`*`, `?`) over the value's text, case-insensitive unless cased.
    TextGlob(TextGlob),
    /// A regular expression searched in the value's text.
    TextRegex(TextRegex),
    /// The value is a scalar matching the inner alternative, or an object or array holding, at
    /// any depth, a scalar that does. Its path's objects and arrays are leaves too.
    Deep(Box<Alt>),
    /// One value matches every one of these.
    AllOf(Vec<Alt>),
}

impl Alt {
    /// Is this (or something inside it) a [`Alt::Deep`]?
    pub(crate) fn is_deep(&self) -> bool {
        match self {
            Alt::Deep(_) => true,
            Alt::AllOf(v) => v.iter().any(Alt::is_deep),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum AnyBut {
    Strs(Vec<String>),
    Nums(Vec<NumLit>),
    Prefix(Vec<String>),
    Suffix(Vec<String>),
    Wildcard(Vec<(String, Glob)>),
    EqIc(Vec<(String, CaseSeq)>),
}

fn write_strs(out: &mut String, v: &[String]) {
    out.push('[');
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s);
    }
    out.push(']');
}

fn write_op(out: &mut String, op: &str, inner: impl FnOnce(&mut String)) {
    out.push('{');
    write_str(out, op);
    out.push(':');
    inner(out);
    out.push('}');
}

impl Alt {
    fn write(&self, out: &mut String) {
        match self {
            Alt::Str(s) => write_str(out, s),
            Alt::Num(n) => out.push_str(&n.text),
            Alt::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Alt::Null => out.push_str("null"),
            Alt::Exactly(s) => write_op(out, "exactly", |o| write_str(o, s)),
            Alt::Prefix(s) => write_op(out, "prefix", |o| write_str(o, s)),
            Alt::Suffix(s) => write_op(out, "suffix", |o| write_str(o, s)),
            Alt::PrefixIc(s, _) => {
                write_op(out, "prefix", |o| write_op(o, "equals-ignore-case", |o| write_str(o, s)))
            }
            Alt::SuffixIc(s, _) => {
                write_op(out, "suffix", |o| write_op(o, "equals-ignore-case", |o| write_str(o, s)))
            }
            Alt::EqIc(s, _) => write_op(out, "equals-ignore-case", |o| write_str(o, s)),
            Alt::Wildcard(s, _) => write_op(out, "wildcard", |o| write_str(o, s)),
            Alt::Exists(b) => {
                write_op(out, "exists", |o| o.push_str(if *b { "true" } else { "false" }))
            }
            Alt::Cidr(s, _) => write_op(out, "cidr", |o| write_str(o, s)),
            Alt::Numeric(terms) => write_op(out, "numeric", |o| {
                o.push('[');
                for (i, (c, n)) in terms.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    write_str(o, c.as_str());
                    o.push(',');
                    o.push_str(&n.text);
                }
                o.push(']');
            }),
            // Internal-only alternatives are shown in the same style; they do not parse back.
            Alt::TextGlob(g) => {
                let op = if g.cased() { "text-glob-cased" } else { "text-glob" };
                write_op(out, op, |o| write_str(o, &g.display()))
            }
            Alt::TextRegex(r) => write_op(out, "text-regex", |o| {
                o.push('[');
                write_str(o, r.source());
                o.push(',');
                write_str(o, r.flags());
                o.push(']');
            }),
            Alt::Deep(inner) => write_op(out, "deep", |o| inner.write(o)),
            Alt::AllOf(v) => write_op(out, "all-of", |o| {
                o.push('[');
                for (i, a) in v.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    a.write(o);
                }
                o.push(']');
            }),
            Alt::AnythingBut(ab) => write_op(out, "anything-but", |o| match ab {
                AnyBut::Strs(v) => write_strs(o, v),
                AnyBut::Nums(v) => {
                    o.push('[');
                    for (i, n) in v.iter().enumerate() {
                        if i > 0 {
                            o.push(',');
                        }
                        o.push_str(&n.text);
                    }
                    o.push(']');
                }
                AnyBut::Prefix(v) => write_op(o, "prefix", |o| write_strs(o, v)),
                AnyBut::Suffix(v) => write_op(o, "suffix", |o| write_strs(o, v)),
                AnyBut::Wildcard(v) => write_op(o, "wildcard", |o| {
                    let v: Vec<String> = v.iter().map(|(s, _)| s.clone()).collect();
                    write_strs(o, &v)
                }),
                AnyBut::EqIc(v) => write_op(o, "equals-ignore-case", |o| {
                    let v: Vec<String> = v.iter().map(|(s, _)| s.clone()).collect();
                    write_strs(o, &v)
                }),
            }),
        }
    }
}

impl Obj {
    pub(crate) fn write(&self, out: &mut String) {
        out.push('{');
        for (i, (k, node)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(out, k);
            out.push(':');
            match node {
                Node::Values(alts) => {
                    out.push('[');
                    for (j, a) in alts.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        a.write(out);
                    }
                    out.push(']');
                }
                Node::Obj(o) => o.write(out),
                Node::Or(branches) => {
                    out.push('[');
                    for (j, b) in branches.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        b.write(out);
                    }
                    out.push(']');
                }
            }
        }
        out.push('}');
    }
}

impl fmt::Display for Obj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

/// Join a dotted path.
pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        let mut s = String::with_capacity(prefix.len() + 1 + key.len());
        let _ = write!(s, "{prefix}.{key}");
        s
    }
}
