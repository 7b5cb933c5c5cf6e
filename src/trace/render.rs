//! A [`Trace`] as text (a tree, the activity in time order, totals), JSON (the tree with its
//! events), JSON lines (the events tagged with their credential and path) or one HTML page.
//!
//! Every string from a record is attacker-controlled: text output goes through
//! [`sanitize::terminal`], HTML through [`html_escape`]; JSON stays exact.

use super::link::{Event, Issuance};
use super::{Link, NodeId, Totals, Trace};
use crate::output::sanitize;
use crate::summary::actions::shorten;
use crate::summary::render::html_escape;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Output formats of `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// The credential tree, the activity in time order and totals per credential.
    Text,
    /// The tree with its events, as one JSON document.
    Json,
    /// One event per line, tagged with its credential and its path from the seed.
    Jsonl,
    /// A self-contained HTML page.
    Html,
}

fn t(s: &str) -> Cow<'_, str> {
    sanitize::terminal(s)
}

/// Who a node is: actor, identity type and account, from its first event or its issuance.
fn who(tr: &Trace, id: &NodeId) -> String {
    if let Some(e) = tr.events_of(id).first() {
        let c = &e.caller;
        let extra: Vec<&str> =
            [c.identity_type.as_deref(), c.account.as_deref()].into_iter().flatten().collect();
        return if extra.is_empty() {
            c.actor.clone()
        } else {
            format!("{} ({})", c.actor, extra.join(", "))
        };
    }
    match (id, tr.issuance_of(id)) {
        (NodeId::Issuance(_), Some(i)) if i.issued == super::link::Issued::Nothing => String::new(),
        (NodeId::Issuance(_), Some(i))
            if matches!(
                i.issued,
                super::link::Issued::ConsoleSession | super::link::Issued::Sso
            ) =>
        {
            i.caller.actor.clone()
        }
        (NodeId::Issuance(_), Some(i)) => i.session_arn.clone().unwrap_or_default(),
        (_, Some(i)) => i
            .session_arn
            .clone()
            .or_else(|| i.for_user.as_ref().map(|u| format!("user {u}")))
            .unwrap_or_else(|| "-".to_string()),
        _ => "-".to_string(),
    }
}

/// How an issuance reads: what, who called, when, where from.
fn issuance_line(i: &Issuance) -> String {
    let mut s = format!("{} by {}", i.what(), i.caller.actor);
    if let Some(k) = &i.caller.key {
        s.push_str(&format!(" with {k}"));
    }
    if let Some(tm) = &i.time {
        s.push_str(&format!(" at {tm}"));
    }
    if let Some(ip) = &i.source_ip {
        s.push_str(&format!(" from {ip}"));
    }
    if let Some(r) = &i.region {
        s.push_str(&format!(" [{r}]"));
    }
    if let Some(a) = &i.account {
        s.push_str(&format!(" in account {a}"));
    }
    if let Some(ua) = &i.user_agent {
        s.push_str(&format!(" using {}", shorten(ua, 60)));
    }
    if let Some(si) = &i.source_identity {
        s.push_str(&format!("; sourceIdentity {si}"));
    }
    if let Some(id) = &i.assumed_role_id {
        s.push_str(&format!("; assumedRoleId {id}"));
    }
    if i.logged_in.len() > 1 {
        s.push_str(&format!("; logged by accounts {}", i.logged_in.join(", ")));
    }
    s
}

/// A node's line: its label, who it is, its events, whether it is a seed.
#[must_use]
pub fn node_head(tr: &Trace, id: &NodeId) -> String {
    let mut s = format!("{}  {}", tr.label(id), who(tr, id));
    let n = tr.events_of(id).len();
    if matches!(id, NodeId::Key(_)) {
        s.push_str(&format!(" · {n} event{}", if n == 1 { "" } else { "s" }));
    }
    if tr.facts.seeds.contains(id) {
        s.push_str(" · SEED");
    }
    s
}

/// A node's details: the issuing event, or the evidence of an inferred link.
#[must_use]
pub fn node_details(tr: &Trace, id: &NodeId) -> Vec<String> {
    let mut out = Vec::new();
    match tr.nodes.get(id).and_then(|n| n.link.as_ref()) {
        // The session it belongs to shows the issuing event.
        Some(Link::Inferred(e)) => out.push(format!("INFERRED link: {e}")),
        _ => out.extend(tr.issuance_of(id).map(|i| format!("issued: {}", issuance_line(i)))),
    }
    out
}

/// The text report.
pub fn text(tr: &Trace, out: &mut dyn Write) -> io::Result<()> {
    let seeds: Vec<String> = tr.facts.seeds.iter().map(|s| tr.label(s)).collect();
    let way = match tr.direction {
        super::Direction::Up => "up (provenance)",
        super::Direction::Down => "down (blast radius)",
        super::Direction::Both => "up and down",
    };
    writeln!(out, "Trace {way} from {}", t(&seeds.join(", ")))?;
    writeln!(out, "\nCredential tree")?;
    for root in tr.roots() {
        writeln!(out, "origin: {}", t(&tr.origin(&root)))?;
        tree(tr, &root, "", None, out)?;
    }
    let activity = tr.activity();
    writeln!(out, "\nActivity ({} events, in time order)", activity.len())?;
    for (id, e) in &activity {
        writeln!(
            out,
            "{}  {}  {}",
            e.time.as_deref().unwrap_or("-"),
            t(&tr.label(id)),
            t(&event_line(e))
        )?;
    }
    writeln!(out, "\nTotals per credential")?;
    let mut rows = vec![
        [
            "credential",
            "events",
            "errors",
            "services",
            "accounts",
            "regions",
            "IPs",
            "first seen",
            "last seen",
        ]
        .map(str::to_string)
        .to_vec(),
    ];
    for id in tr.nodes.keys().filter(|id| matches!(id, NodeId::Key(_))) {
        let tot = Totals::of(tr.events_of(id));
        rows.push(vec![
            tr.label(id),
            tot.events.to_string(),
            tot.errors.to_string(),
            tot.services.len().to_string(),
            tot.accounts.iter().cloned().collect::<Vec<_>>().join(","),
            tot.regions.iter().cloned().collect::<Vec<_>>().join(","),
            tot.ips.len().to_string(),
            tot.first_seen.unwrap_or_else(|| "-".into()),
            tot.last_seen.unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| t(&r[c]).chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let cells: Vec<String> =
            r.iter().zip(&widths).map(|(c, w)| format!("{:<w$}", t(c), w = *w)).collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    if tr.facts.duplicates > 0 {
        writeln!(
            out,
            "\n{} call(s) logged by a second account (same sharedEventID) counted once",
            tr.facts.duplicates
        )?;
    }
    Ok(())
}

fn tree(
    tr: &Trace,
    id: &NodeId,
    prefix: &str,
    last: Option<bool>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (branch, cont) = match last {
        None => ("", ""),
        Some(true) => ("└── ", "    "),
        Some(false) => ("├── ", "│   "),
    };
    writeln!(out, "{prefix}{branch}{}", t(&node_head(tr, id)))?;
    let inner = format!("{prefix}{cont}");
    let kids = tr.nodes.get(id).map(|n| n.children.clone()).unwrap_or_default();
    let bar = if kids.is_empty() { "    " } else { "│   " };
    for d in node_details(tr, id) {
        writeln!(out, "{inner}{bar}{}", t(&d))?;
    }
    for (n, c) in kids.iter().enumerate() {
        tree(tr, c, &inner, Some(n + 1 == kids.len()), out)?;
    }
    Ok(())
}

/// One event in plain words: the `summary`'s phrase for notable actions, else who called what.
fn event_line(e: &Event) -> String {
    if let Some(n) = &e.notable {
        return n.clone();
    }
    let mut s = String::new();
    if let Some(c) = &e.error_code {
        s.push_str(&format!("FAILED {c}: "));
    }
    let svc = e.event_source.strip_suffix(".amazonaws.com").unwrap_or(&e.event_source);
    match &e.issued {
        Some(what) => s.push_str(&format!("{} called {what}", e.caller.actor)),
        None => s.push_str(&format!("{} called {svc}:{}", e.caller.actor, e.event_name)),
    }
    if let Some(ip) = &e.source_ip {
        s.push_str(&format!(" from {ip}"));
    }
    if let Some(r) = &e.region {
        s.push_str(&format!(" [{r}]"));
    }
    if let Some(a) = &e.account {
        s.push_str(&format!(" in account {a}"));
    }
    s
}

fn event_json(e: &Event) -> Value {
    match &e.raw {
        Some(r) => serde_json::from_str(r.get()).unwrap_or(Value::Null),
        None => serde_json::to_value(e).unwrap_or(Value::Null),
    }
}

fn node_json(tr: &Trace, id: &NodeId) -> Value {
    let info = tr.nodes.get(id);
    let events = tr.events_of(id);
    let first = events.first().map(|e| &e.caller);
    json!({
        "credential": tr.label(id),
        "key": match id { NodeId::Key(k) => Value::from(k.as_str()), NodeId::Issuance(_) => Value::Null },
        "seed": tr.facts.seeds.contains(id),
        "ancestor": info.is_some_and(|n| n.ancestor),
        "principal": first,
        "issued_by": tr.issuance_of(id),
        "link": info.and_then(|n| n.link.as_ref()),
        "origin": info.filter(|n| n.parent.is_none()).map(|_| tr.origin(id)),
        "totals": Totals::of(events),
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
        "children": info.map(|n| n.children.iter().map(|c| node_json(tr, c)).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

/// The tree with its events.
pub fn json(tr: &Trace, out: &mut dyn Write) -> io::Result<()> {
    let doc = json!({
        "direction": tr.direction,
        "seeds": tr.facts.seeds.iter().map(|s| tr.label(s)).collect::<Vec<_>>(),
        "trees": tr.roots().iter().map(|r| node_json(tr, r)).collect::<Vec<_>>(),
        "events": tr.activity().len(),
        "duplicate_copies": tr.facts.duplicates,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// One event per line, with its credential, the path from the seed and how it relates.
pub fn jsonl(tr: &Trace, out: &mut dyn Write) -> io::Result<()> {
    for (id, e) in tr.activity() {
        let info = tr.nodes.get(id);
        let relation = if tr.facts.seeds.contains(id) {
            "seed"
        } else if info.is_some_and(|n| n.ancestor) {
            "ancestor"
        } else {
            "descendant"
        };
        let path: Vec<String> = tr.path_from_seed(id).iter().map(|n| tr.label(n)).collect();
        let inferred = path_inferred(tr, id);
        let tags = json!({
            "credential": tr.label(id),
            "relation": relation,
            "path": path,
            "inferred": inferred,
        });
        let tags = tags.to_string();
        // The record as it is in the archive (on one line), not re-serialised.
        let event = match &e.raw {
            Some(r) => crate::output::compact(r.get()).into_owned(),
            None => event_json(e).to_string(),
        };
        writeln!(out, "{},\"event\":{event}}}", &tags[..tags.len() - 1])?;
    }
    Ok(())
}

/// Whether any link on the way from the seed to `id` is inferred.
fn path_inferred(tr: &Trace, id: &NodeId) -> bool {
    let path = tr.path_from_seed(id);
    path.iter().any(|n| {
        tr.nodes
            .get(n)
            .is_some_and(|i| matches!(i.link, Some(Link::Inferred(_))) && i.parent.is_some())
    })
}

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;background:#fff}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}\
ul.tree,ul.tree ul{list-style:none;margin:0;padding-left:1.6em;position:relative}\
ul.tree{padding-left:0}ul.tree ul:before{content:'';position:absolute;left:.6em;top:0;bottom:.8em;\
border-left:2px solid #8aa}ul.tree ul>li:before{content:'';position:absolute;left:-1em;top:.9em;\
width:.9em;border-top:2px solid #8aa}ul.tree li{position:relative;margin:.3em 0}\
.node{display:inline-block;border:1px solid #8aa;border-radius:6px;padding:.2em .6em;background:#f5fafa}\
.node.seed{border-color:#c60;background:#fff4e6}.node.failed{border-color:#a00;background:#fdeaea}\
.key{font-family:ui-monospace,monospace;font-weight:bold}.d{color:#555;font-size:12px}\
.inferred{color:#a60;font-size:12px}.origin{color:#036;font-style:italic}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 8px;\
text-align:left;vertical-align:top;font-size:13px}th{background:#f3f3f3}tr.failed td{color:#a00}";

fn html_node(tr: &Trace, id: &NodeId, h: &mut String) {
    let e = html_escape;
    let failed = matches!(tr.issuance_of(id), Some(i) if i.error.is_some())
        && matches!(id, NodeId::Issuance(_));
    let class = if tr.facts.seeds.contains(id) {
        "node seed"
    } else if failed {
        "node failed"
    } else {
        "node"
    };
    let _ = write!(
        h,
        "<li><div class=\"{class}\"><span class=\"key\">{}</span> {}",
        e(&tr.label(id)),
        e(&node_head(tr, id).split_once("  ").map_or(String::new(), |(_, r)| r.to_string()))
    );
    for d in node_details(tr, id) {
        let cls = if d.starts_with("INFERRED") { "inferred" } else { "d" };
        let _ = write!(h, "<div class=\"{cls}\">{}</div>", e(&d));
    }
    h.push_str("</div>");
    let kids = tr.nodes.get(id).map(|n| n.children.clone()).unwrap_or_default();
    if !kids.is_empty() {
        h.push_str("<ul>");
        for c in &kids {
            html_node(tr, c, h);
        }
        h.push_str("</ul>");
    }
    h.push_str("</li>");
}

/// The self-contained page: the tree drawn as nested boxes, the activity and the totals.
pub fn html(tr: &Trace, out: &mut dyn Write) -> io::Result<()> {
    let e = html_escape;
    let mut h = String::new();
    let seeds: Vec<String> = tr.facts.seeds.iter().map(|s| tr.label(s)).collect();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>trailscan trace</title><style>{CSS}</style></head><body>\n<h1>trailscan trace</h1>\n\
<p>Seeds: {}</p>\n<h2>Credential tree</h2>\n",
        e(&seeds.join(", "))
    );
    for root in tr.roots() {
        let _ = write!(
            h,
            "<p class=\"origin\">origin: {}</p><ul class=\"tree\">",
            e(&tr.origin(&root))
        );
        html_node(tr, &root, &mut h);
        h.push_str("</ul>\n");
    }
    let activity = tr.activity();
    let _ = write!(
        h,
        "<h2>Activity ({} events, in time order)</h2>\n<table><tr><th>time</th><th>credential</th><th>event</th></tr>\n",
        activity.len()
    );
    for (id, ev) in &activity {
        let cls = if ev.error_code.is_some() { " class=\"failed\"" } else { "" };
        let _ = writeln!(
            h,
            "<tr{cls}><td>{}</td><td class=\"key\">{}</td><td>{}</td></tr>",
            e(ev.time.as_deref().unwrap_or("-")),
            e(&tr.label(id)),
            e(&event_line(ev))
        );
    }
    h.push_str(
        "</table>\n<h2>Totals per credential</h2>\n<table><tr><th>credential</th><th>events</th>\
<th>errors</th><th>services</th><th>accounts</th><th>regions</th><th>IPs</th><th>first seen</th>\
<th>last seen</th></tr>\n",
    );
    for id in tr.nodes.keys().filter(|id| matches!(id, NodeId::Key(_))) {
        let tot = Totals::of(tr.events_of(id));
        let list = |s: &std::collections::BTreeSet<String>| {
            e(&s.iter().cloned().collect::<Vec<_>>().join(", "))
        };
        let _ = writeln!(
            h,
            "<tr><td class=\"key\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&tr.label(id)),
            tot.events,
            tot.errors,
            list(&tot.services),
            list(&tot.accounts),
            list(&tot.regions),
            list(&tot.ips),
            e(tot.first_seen.as_deref().unwrap_or("-")),
            e(tot.last_seen.as_deref().unwrap_or("-")),
        );
    }
    h.push_str("</table>\n</body></html>\n");
    out.write_all(h.as_bytes())
}
