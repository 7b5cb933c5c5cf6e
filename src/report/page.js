"use strict";
// trailscan report page. Everything is drawn with createElement/textContent: no string from
// the data is ever parsed as HTML. No dependency, nothing fetched.
(function () {
  var D = JSON.parse(document.getElementById("data").textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var NDIM = D.dims.length;
  var ERR = 5, ACTOR = 2;
  var BS = D.bucket_seconds;
  // Cells are embedded in small numbers (the bucket's place from the first, times from the
  // bucket's start): back to (bucket start, ids, count, first, last), in seconds.
  [D.cube, D.identity_cube].forEach(function (rs) {
    rs.forEach(function (r) { var b = D.cube_origin + r[0] * BS; r[0] = b; r[2 + NDIM] += b; r[3 + NDIM] += b; });
  });
  // Filters: one value id per field (or none), and a time range of bucket starts [t0, t1).
  var F = { ids: {}, t0: null, t1: null };
  var state = { stack: "event_sources", sorts: {}, texts: {} };

  // ---------- helpers ----------
  // Control, bidirectional and invisible format characters are shown as visible escapes, so
  // no value can hide or reorder what is around it on screen.
  var HIDDEN = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
  function vis(s) {
    return String(s).replace(HIDDEN, function (c) { return "\u27e8U+" + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0") + "\u27e9"; });
  }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") e.textContent = vis(attrs[k]);
      else if (k === "cls") e.className = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === "string" ? document.createTextNode(vis(c)) : c); });
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) {
      // Colours through the CSSOM: the policy forbids style attributes, and var() needs CSS.
      if (k === "fill") e.style.fill = attrs[k]; else e.setAttribute(k, attrs[k]);
    }
    if (text != null) e.textContent = vis(text);
    return e;
  }
  function fmt(n) { return Number(n).toLocaleString("en-US"); }
  function iso(s) { return s == null ? "-" : new Date(s * 1000).toISOString().slice(0, 19).replace("T", " ") + "Z"; }
  function isoT(s) { return new Date(s * 1000).toISOString().slice(0, 19) + "Z"; }
  function rfc(t) { return t == null ? "-" : String(t).replace("T", " "); }
  function color(i) { return "var(--s" + Math.min(i, 6) + ")"; }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function valueOf(d, id) {
    if (id === -1) return "(other values)";
    if (id === -2) return "(no error)";
    var v = D.dims[d].values[id];
    return v ? v.value : "?";
  }
  function active() { return F.t0 != null || Object.keys(F.ids).length > 0; }
  function passes(ids, t, except) {
    for (var k in F.ids) { if (+k !== except && ids[k] !== F.ids[k]) return false; }
    if (F.t0 != null && except !== "time") { if (t == null || t < F.t0 || t >= F.t1) return false; }
    return true;
  }
  // The cube rows passing the filters (all, or all but field `except`, or all but time).
  function rows(except) {
    var out = [];
    for (var i = 0; i < D.cube.length; i++) {
      var r = D.cube[i];
      if (passes(r.slice(1, 1 + NDIM), r[0], except)) out.push(r);
    }
    return out;
  }
  function total(rs) { var n = 0; rs.forEach(function (r) { n += r[1 + NDIM]; }); return n; }
  function copy(text, btn) {
    function done() { if (btn) { btn.textContent = "copied"; setTimeout(function () { btn.textContent = "copy"; }, 1200); } }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else fallback();
    function fallback() {
      var ta = el("textarea", {}); ta.value = text; document.body.appendChild(ta); ta.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selectable */ }
      document.body.removeChild(ta);
    }
  }
  // POSIX shell quoting.
  function q(s) { return /^[A-Za-z0-9_\-.\/:=@,+%]+$/.test(s) ? s : "'" + String(s).replace(/'/g, "'\\''") + "'"; }
  var FLAG = ["--source", "--event", "--user", "--ip", null, "--error-code", "--account", "--region"];
  // The `trailscan search` command listing every record behind the filters plus `extra`
  // (field -> value id), or null when a filter cannot be written as flags.
  function searchCommand(extra) {
    var ids = {}; for (var k in F.ids) ids[k] = F.ids[k];
    for (k in extra || {}) ids[k] = extra[k];
    var words = ["trailscan", "search"].concat(D.command.paths.map(q));
    var over = {}, pat = null, superset = false;
    for (k in ids) {
      var id = ids[k], d = +k;
      if (id < 0 || D.dims[d].values[id].value === "-") return null;
      var v = D.dims[d].values[id].value;
      // --ip takes addresses; a source that is a service name goes in the pattern.
      var flag = FLAG[d] === "--ip" && !/^[0-9.]+$|^[0-9a-fA-F:]+$/.test(v) ? null : FLAG[d];
      if (flag) over[flag] = v;
      else { pat = pat || {}; pat[D.dims[d].field] = [v]; }
      if (d === ACTOR) superset = true;
    }
    if (pat) pat = JSON.stringify(pat);
    if (F.t0 != null) { over["--since"] = isoT(F.t0); over["--until"] = isoT(F.t1); }
    var userPatterns = false;
    D.command.flags.forEach(function (f) {
      if (over[f[0]] !== undefined) return;
      if (f[0] === "--pattern") userPatterns = true;
      words.push(f[0]); if (f[1] != null) words.push(q(f[1]));
    });
    for (k in over) { words.push(k); words.push(q(over[k])); }
    if (pat) { words.push("--pattern"); words.push(q(pat)); if (userPatterns) superset = true; }
    return { text: words.join(" "), superset: superset };
  }
  function cmdBox(c, label) {
    if (!c) return el("p", { cls: "note", text: "No single search command selects these records (a missing value or \"other values\")." });
    var b = el("button", { text: "copy", type: "button" });
    b.addEventListener("click", function () { copy(c.text, b); });
    var kids = [el("div", { cls: "cmd" }, [el("code", { text: c.text }), b])];
    if (c.superset) kids.push(el("p", { cls: "note", text: "--user matches every record naming that identity, and --pattern alternatives are OR-ed: this command may list a few more records." }));
    return el("div", {}, [el("div", { cls: "note", text: label })].concat(kids));
  }

  // ---------- layout ----------
  var main = document.getElementById("main");
  var sections = {};
  function section(id, title) {
    var s = el("section", { id: id }, [el("h2", { text: title })]);
    var body = el("div", {}); s.appendChild(body); main.appendChild(s); sections[id] = body; return body;
  }
  var ov = D.overview;
  document.getElementById("subtitle").textContent = fmt(ov.records) + " records, " +
    (ov.first_seen ? rfc(ov.first_seen) + " to " + rfc(ov.last_seen) : "no time span") +
    " \u2014 generated " + rfc(D.generated_at) + " by " + D.generator;
  section("overview", "Overview");
  section("timeline", "Activity over time");
  section("tables", "Top values");
  section("notable", "Notable actions");
  section("findings", "Audit findings");
  section("identities", "Identities");
  if (D.groups) section("groups", "Groups by " + D.groups.by.join(", "));
  main.appendChild(el("footer", { text: "Times are UTC. " + D.generator + ", page schema " + D.schema + ". Self-contained: nothing on this page is fetched from a network." }));

  // ---------- filter bar ----------
  function setFilter(d, id) {
    if (F.ids[d] === id) delete F.ids[d]; else F.ids[d] = id;
    render();
  }
  function setRange(t0, t1) { F.t0 = t0; F.t1 = t1; render(); }
  function drawFilters() {
    var bar = clear(document.getElementById("filters"));
    if (!active()) { bar.appendChild(el("span", { cls: "muted", text: "No filter: click a value, a bar, or drag across the timeline to filter the page." })); return; }
    bar.appendChild(el("span", { cls: "muted", text: "Filtered to" }));
    Object.keys(F.ids).forEach(function (k) {
      var x = el("button", { cls: "x", type: "button", "aria-label": "remove filter", text: "\u00d7", "data-dim": D.dims[k].key });
      x.addEventListener("click", function () { delete F.ids[k]; render(); });
      bar.appendChild(el("span", { cls: "chip", title: D.dims[k].field + " = " + valueOf(+k, F.ids[k]) }, [el("span", { text: D.dims[k].field + " = " + valueOf(+k, F.ids[k]) }), x]));
    });
    if (F.t0 != null) {
      var x = el("button", { cls: "x", type: "button", "aria-label": "remove time filter", text: "\u00d7" });
      x.addEventListener("click", function () { setRange(null, null); });
      bar.appendChild(el("span", { cls: "chip", id: "range-chip" }, [el("span", { text: iso(F.t0) + " \u2192 " + iso(F.t1) }), x]));
    }
    var all = el("button", { type: "button", text: "clear all", id: "clear-filters" });
    all.addEventListener("click", function () { F.ids = {}; F.t0 = F.t1 = null; render(); });
    bar.appendChild(all);
    if (D.undated > 0) bar.appendChild(el("span", { cls: "note", text: fmt(D.undated) + " records without a readable eventTime are outside every filter." }));
  }

  // ---------- overview ----------
  function card(k, v, small, id) {
    return el("div", { cls: "card" }, [el("div", { cls: "k", text: k }), el("div", { cls: "v" + (small ? " small" : ""), text: v, id: id || null })]);
  }
  function drawOverview() {
    var b = clear(sections.overview);
    var rs = rows(), n = active() ? total(rs) : ov.records;
    var first = null, last = null;
    if (active()) rs.forEach(function (r) { var f = r[2 + NDIM], l = r[3 + NDIM]; if (first == null || f < first) first = f; if (last == null || l > last) last = l; });
    var distinct = function (d) {
      if (!active()) return D.dims[d].distinct;
      if (D.dims[d].filterable === 0) return "-";
      var s = {}; rs.forEach(function (r) { if (r[1 + d] >= 0) s[r[1 + d]] = 1; });
      var c = Object.keys(s).length; return c + (rs.some(function (r) { return r[1 + d] === -1; }) ? "+" : "");
    };
    var cards = el("div", { cls: "cards" }, [
      card(active() ? "Records (filtered)" : "Records", fmt(n), false, "ov-records"),
      card("Files with records", fmt(ov.files_with_records)),
      card("Files failed", fmt(ov.files_failed)),
      card("Accounts", String(distinct(6))),
      card("Regions", String(distinct(7))),
      card("Actors", String(distinct(ACTOR))),
      card(active() ? "Failed calls (filtered)" : "Failed calls", fmt(active() ? total(rs.filter(function (r) { return r[1 + ERR] !== -2; })) : D.dims[ERR].records), false, "ov-errors"),
      card("Notable actions", fmt(D.notable.total) + (D.notable.failed ? " (" + fmt(D.notable.failed) + " failed)" : "")),
      card("Findings", D.audit.ran ? fmt(D.audit.findings) : "not run"),
      card("From", active() ? iso(first) : rfc(ov.first_seen), true),
      card("To", active() ? iso(last) : rfc(ov.last_seen), true)
    ]);
    b.appendChild(cards);
    if (!active()) {
      var ac = el("p", { cls: "note" }, ["Accounts: " + (ov.accounts.join(", ") || "-") + ". Regions: " + (ov.regions.join(", ") || "-") + "."]);
      b.appendChild(ac);
    }
    b.appendChild(el("p", { cls: "accounting", id: "accounting", text: "Accounting: " + D.accounting + (ov.undated_records ? "; " + fmt(ov.undated_records) + " records without a readable eventTime" : "") + "." }));
    if (ov.files_failed > 0) b.appendChild(el("p", { cls: "bad", text: fmt(ov.files_failed) + " files could not be read: their records are not in this report (each was named on the terminal when the report was made)." }));
  }

  // ---------- timeline ----------
  var STACKS = [["event_sources", 0], ["accounts", 6], ["error", ERR], ["event_names", 1], ["regions", 7], ["actors", ACTOR], ["none", null]];
  function niceStep(span, want) {
    var steps = [3600, 7200, 10800, 21600, 43200, 86400, 172800, 345600, 604800, 1209600, 2592000, 7776000, 31536000];
    for (var i = 0; i < steps.length; i++) if (span / steps[i] <= want) return Math.max(steps[i], BS);
    return steps[steps.length - 1];
  }
  // Time axis ticks in UTC: whole hours or days, or the first of a month for long spans.
  function ticks(tmin, tmax, want) {
    var out = [], span = tmax - tmin;
    if (span / 2592000 > want / 2 && span > 60 * 86400) {
      var months = [1, 2, 3, 6, 12, 24, 60, 120].filter(function (m) { return span / (m * 2629800) <= want; })[0] || 120;
      var d = new Date(tmin * 1000), y = d.getUTCFullYear(), m = d.getUTCMonth() + 1;
      m = Math.ceil(m / months) * months;
      for (;;) {
        var t = Date.UTC(y + Math.floor(m / 12), m % 12, 1) / 1000;
        if (t > tmax) break;
        if (t >= tmin) out.push([t, isoT(t).slice(0, months >= 12 ? 4 : 7)]);
        m += months;
      }
      return out;
    }
    var step = niceStep(span, want);
    for (var tt = Math.ceil(tmin / step) * step; tt <= tmax; tt += step) {
      out.push([tt, step >= 86400 ? isoT(tt).slice(0, 10) : isoT(tt).slice(5, 10) + " " + isoT(tt).slice(11, 16)]);
    }
    return out;
  }
  function niceMax(m) {
    if (m <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(m))), f = m / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }
  function drawTimeline() {
    var b = clear(sections.timeline);
    var tools = el("div", { cls: "chart-tools" });
    var sel = el("select", { id: "stack-by", "aria-label": "stack by" });
    STACKS.forEach(function (s) {
      var label = s[0] === "error" ? "error or not" : s[0] === "none" ? "nothing" : D.dims[s[1]].title;
      var o = el("option", { value: s[0], text: label }); if (s[0] === state.stack) o.selected = true; sel.appendChild(o);
    });
    sel.addEventListener("change", function () { state.stack = sel.value; drawTimeline(); });
    tools.appendChild(el("label", {}, ["Stack by ", sel]));
    tools.appendChild(el("span", { cls: "muted", text: "Records per " + D.bucket + " (UTC). Hover a bar for counts; click it, or drag across the chart, to filter the page to that time." }));
    b.appendChild(tools);
    var rs = rows("time");
    if (!D.cube.length) { b.appendChild(el("p", { cls: "empty", text: "No dated records." })); return; }
    var tmin = D.cube[0][0], tmax = D.cube[0][0];
    D.cube.forEach(function (r) { if (r[0] < tmin) tmin = r[0]; if (r[0] > tmax) tmax = r[0]; });
    tmax += BS;
    if (F.t0 != null) {
      var zb = el("button", { type: "button", id: "zoom", text: state.zoom ? "show the whole span" : "zoom to the selection" });
      zb.addEventListener("click", function () { state.zoom = !state.zoom; drawTimeline(); });
      tools.appendChild(zb);
      if (state.zoom) { tmin = F.t0; tmax = F.t1; rs = rs.filter(function (r) { return r[0] >= tmin && r[0] < tmax; }); }
    }
    var st = STACKS.filter(function (s) { return s[0] === state.stack; })[0] || STACKS[0];
    var d = st[1];
    // Series: the 6 largest values in the filtered rows, then the rest.
    var key = function (r) {
      if (d == null) return "all";
      if (st[0] === "error") return r[1 + ERR] === -2 ? "succeeded" : "failed (errorCode)";
      return valueOf(d, r[1 + d]);
    };
    var sums = {}; rs.forEach(function (r) { var k = key(r); sums[k] = (sums[k] || 0) + r[1 + NDIM]; });
    var names = Object.keys(sums).sort(function (a, c) { return sums[c] - sums[a] || (a < c ? -1 : 1); });
    var shown = names.slice(0, 6);
    if (names.length > 6) { shown.push("(the rest)"); sums["(the rest)"] = names.slice(6).reduce(function (a, n) { return a + sums[n]; }, 0); }
    var idx = {}; shown.forEach(function (n, i) { idx[n] = i; });
    var buckets = {};
    rs.forEach(function (r) {
      var k = key(r), i = idx[k] !== undefined ? idx[k] : shown.length - 1;
      var arr = buckets[r[0]] || (buckets[r[0]] = shown.map(function () { return 0; }));
      arr[i] += r[1 + NDIM];
    });
    var max = 0; for (var t in buckets) { var s = buckets[t].reduce(function (a, c) { return a + c; }, 0); if (s > max) max = s; }
    var W = Math.max(320, Math.min(b.clientWidth || 900, 1460) - 20), H = 240, L = 56, R = 10, T = 10, B = 34;
    var pw = W - L - R, ph = H - T - B;
    var x = function (tt) { return L + (tt - tmin) / (tmax - tmin) * pw; };
    var ymax = niceMax(max), y = function (v) { return T + ph - v / ymax * ph; };
    var svg = sv("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, id: "timeline-chart", role: "img", "aria-label": "records per " + D.bucket });
    for (var i = 0; i <= 4; i++) {
      var v = ymax * i / 4, yy = y(v);
      svg.appendChild(sv("line", { x1: L, x2: W - R, y1: yy, y2: yy, "class": i ? "grid" : "axis" }));
      svg.appendChild(sv("text", { x: L - 6, y: yy + 4, "text-anchor": "end" }, fmt(Math.round(v))));
    }
    ticks(tmin, tmax, Math.max(2, Math.floor(pw / 110))).forEach(function (tk) {
      var xx = x(tk[0]);
      svg.appendChild(sv("line", { x1: xx, x2: xx, y1: T + ph, y2: T + ph + 4, "class": "axis" }));
      var anchor = xx > W - R - 40 ? "end" : xx < L + 30 ? "start" : "middle";
      svg.appendChild(sv("text", { x: xx, y: T + ph + 16, "text-anchor": anchor, "class": "tick" }, tk[1]));
    });
    svg.appendChild(sv("text", { x: L, y: H - 2 }, "UTC"));
    var bw = Math.max(2, pw * BS / (tmax - tmin) - 1);
    var tip = el("div", { cls: "tip", hidden: "" });
    Object.keys(buckets).forEach(function (k) {
      var tb = +k, arr = buckets[k], acc = 0, bx = x(tb);
      var dim = F.t0 != null && (tb < F.t0 || tb >= F.t1);
      arr.forEach(function (c, si) {
        if (!c) return;
        var y1 = y(acc + c), y0 = y(acc); acc += c;
        svg.appendChild(sv("rect", { x: bx, y: y1, width: bw, height: Math.max(0.5, y0 - y1), fill: color(si), "fill-opacity": dim ? 0.3 : 1 }));
      });
      var hot = sv("rect", { x: bx, y: T, width: Math.max(bw, 3), height: ph, "class": "hot", "data-t": tb, "data-count": acc });
      hot.addEventListener("mousemove", function (ev) {
        clear(tip); tip.hidden = false;
        tip.appendChild(el("div", {}, [el("b", { text: iso(tb) + " \u2192 " + iso(tb + BS) })]));
        tip.appendChild(el("div", { text: fmt(acc) + " records" }));
        arr.forEach(function (c, si) {
          if (!c) return;
          var sw = el("i", {}); sw.style.background = color(si); sw.style.display = "inline-block"; sw.style.width = "0.7rem"; sw.style.height = "0.7rem"; sw.style.marginRight = "0.3rem";
          tip.appendChild(el("div", {}, [sw, shown[si] + ": " + fmt(c)]));
        });
        var box = wrap.getBoundingClientRect();
        tip.style.left = Math.min(ev.clientX - box.left + 12, box.width - 260) + "px";
        tip.style.top = (ev.clientY - box.top + 12) + "px";
      });
      hot.addEventListener("mouseleave", function () { tip.hidden = true; });
      svg.appendChild(hot);
    });
    if (F.t0 != null) svg.appendChild(sv("rect", { x: x(F.t0), y: T, width: Math.max(1, x(F.t1) - x(F.t0)), height: ph, "class": "brush", "pointer-events": "none" }));
    // Brush: drag across the plot to filter to that range (snapped to buckets); a click
    // without a drag filters to the bucket under it.
    var drag = null, band = null;
    var pt = function (ev) { var r = svg.getBoundingClientRect(); return (ev.clientX - r.left) * W / r.width; };
    var toT = function (px) { return tmin + (Math.min(Math.max(px, L), L + pw) - L) / pw * (tmax - tmin); };
    svg.addEventListener("mousedown", function (ev) { drag = pt(ev); band = sv("rect", { x: drag, y: T, width: 0, height: ph, "class": "brush", "pointer-events": "none" }); svg.appendChild(band); ev.preventDefault(); });
    svg.addEventListener("mousemove", function (ev) { if (drag == null) return; var p = pt(ev); band.setAttribute("x", Math.min(p, drag)); band.setAttribute("width", Math.abs(p - drag)); });
    var end = function (ev) {
      if (drag == null) return;
      var p = pt(ev), a = Math.min(p, drag), c = Math.max(p, drag); drag = null;
      if (band) { svg.removeChild(band); band = null; }
      var ta, tc;
      if (c - a < 3) { ta = Math.floor((toT(a) - tmin) / BS) * BS + tmin; tc = ta + BS; }
      else { ta = Math.floor((toT(a) - tmin) / BS) * BS + tmin; tc = Math.ceil((toT(c) - tmin) / BS) * BS + tmin; }
      if (tc > ta) setRange(ta, tc);
    };
    svg.addEventListener("mouseup", end);
    svg.addEventListener("mouseleave", function (ev) { if (drag != null) end(ev); });
    var wrap = el("div", { cls: "chart-wrap" }, [svg, tip]);
    b.appendChild(wrap);
    var legend = el("div", { cls: "legend" });
    shown.forEach(function (n, si) { legend.appendChild(el("span", {}, [el("i", {}), n + " (" + fmt(sums[n] || 0) + ")"])); });
    // Swatch colours are set through the CSSOM (allowed by the policy), not style attributes.
    Array.prototype.forEach.call(legend.querySelectorAll("i"), function (i, si) { i.style.background = color(si); });
    if (d != null || st[0] === "error") b.appendChild(legend);
    if (d != null && D.dims[d].filterable < D.dims[d].values.length) b.appendChild(el("p", { cls: "note warn", text: "Too many combinations to keep every " + D.dims[d].title.replace(/s$/, "") + " apart in this page: beyond the top " + D.dims[d].filterable + " they are merged as \"(other values)\"." }));
  }

  // ---------- top tables ----------
  function tableRows(d) {
    var dim = D.dims[d];
    if (!active() || dim.filterable === 0) {
      return dim.values.map(function (v, i) { return { id: i, value: v.value, count: v.count, first: v.first_seen ? Date.parse(v.first_seen) / 1000 : null, last: v.last_seen ? Date.parse(v.last_seen) / 1000 : null }; });
    }
    var acc = {};
    rows(d).forEach(function (r) {
      var id = r[1 + d]; if (id === -2) return;
      var a = acc[id] || (acc[id] = { id: id, value: valueOf(d, id), count: 0, first: null, last: null });
      a.count += r[1 + NDIM];
      if (a.first == null || r[2 + NDIM] < a.first) a.first = r[2 + NDIM];
      if (a.last == null || r[3 + NDIM] > a.last) a.last = r[3 + NDIM];
    });
    return Object.keys(acc).map(function (k) { return acc[k]; });
  }
  var COLS = [["value", "value"], ["count", "records"], ["first", "first seen"], ["last", "last seen"]];
  function drawTables() {
    var b = clear(sections.tables);
    b.appendChild(el("p", { cls: "note", text: "Click a value to filter the page to it (again to remove). Columns sort on click. \"records\" opens the records behind a number." }));
    var grid = el("div", { cls: "tables" });
    D.dims.forEach(function (dim, d) {
      var box = el("div", { cls: "tbl", id: "table-" + dim.key });
      var input = el("input", { type: "search", placeholder: "filter " + dim.title, "aria-label": "filter " + dim.title });
      input.value = state.texts[d] || "";
      var head = el("div", { cls: "head" }, [el("h3", { text: dim.title.charAt(0).toUpperCase() + dim.title.slice(1) + " (" + fmt(dim.distinct) + " distinct)" }), input]);
      box.appendChild(head);
      var holder = el("div", { cls: "scroll" });
      box.appendChild(holder);
      var foot = el("div", {});
      box.appendChild(foot);
      function fill() {
        clear(holder); clear(foot);
        var list = tableRows(d);
        var s = state.sorts[d] || { key: "count", dir: -1 };
        list.sort(function (a, c) {
          var x = a[s.key], y = c[s.key];
          if (a.id === -1) return 1; if (c.id === -1) return -1;
          if (x == null) x = s.dir > 0 ? Infinity : -Infinity; if (y == null) y = s.dir > 0 ? Infinity : -Infinity;
          var r = x < y ? -1 : x > y ? 1 : 0;
          return r * s.dir || (a.value < c.value ? -1 : a.value > c.value ? 1 : 0);
        });
        var text = (state.texts[d] || "").toLowerCase();
        var max = 1; list.forEach(function (r) { if (r.id !== -1 && r.count > max) max = r.count; });
        var tbl = el("table", {});
        var tr = el("tr", {});
        COLS.forEach(function (c) {
          var th = el("th", { cls: "sort" + (c[0] === "first" || c[0] === "last" ? " t" : c[0] === "count" ? " c-n" : ""), text: c[1], scope: "col", "data-key": c[0] });
          if (s.key === c[0]) th.setAttribute("aria-sort", s.dir > 0 ? "ascending" : "descending");
          th.addEventListener("click", function () {
            var cur = state.sorts[d] || { key: "count", dir: -1 };
            state.sorts[d] = { key: c[0], dir: cur.key === c[0] ? -cur.dir : (c[0] === "value" ? 1 : -1) };
            fill();
          });
          tr.appendChild(th);
        });
        tr.appendChild(el("th", { cls: "c-r", text: "" }));
        tbl.appendChild(el("thead", {}, [tr]));
        var body = el("tbody", {});
        var shownRows = 0;
        list.forEach(function (r) {
          if (text && r.value.toLowerCase().indexOf(text) < 0) return;
          shownRows++;
          var row = el("tr", { "data-id": r.id });
          if (F.ids[d] === r.id) row.className = "selected";
          var vcell = el("td", { cls: "v" });
          if (r.id >= 0 && r.id < dim.filterable) {
            var btn = el("button", { cls: "link", type: "button", text: r.value, title: "filter to " + dim.field + " = " + r.value });
            btn.addEventListener("click", function () { setFilter(d, r.id); });
            vcell.appendChild(btn);
          } else vcell.appendChild(document.createTextNode(vis(r.value)));
          if (r.id !== -1) { var bar = el("span", { cls: "bar" }); bar.style.width = Math.max(1, r.count / max * 100) + "%"; vcell.appendChild(bar); }
          row.appendChild(vcell);
          row.appendChild(el("td", { cls: "n", text: fmt(r.count) }));
          row.appendChild(el("td", { cls: "t", text: iso(r.first) }));
          row.appendChild(el("td", { cls: "t", text: iso(r.last) }));
          var rc = el("td", {});
          if (r.id >= 0) {
            var rb = el("button", { cls: "link", type: "button", text: "records" });
            rb.addEventListener("click", function () { var x = {}; x[d] = r.id; openRecords(dim.field + " = " + r.value, x, r.count); });
            rc.appendChild(rb);
          }
          row.appendChild(rc);
          body.appendChild(row);
        });
        tbl.appendChild(body);
        holder.appendChild(tbl);
        if (!shownRows) holder.appendChild(el("p", { cls: "empty", text: "No value." }));
        var note = dim.values.length < dim.distinct ? "Top " + dim.values.length + " of " + fmt(dim.distinct) + " distinct values (the rest are \"other values\" under a filter); trailscan summary --top 0 lists them all." : "";
        if (dim.filterable === 0) note += " Too many combinations to filter by this field in one page: counts here are for the whole report.";
        else if (dim.filterable < dim.values.length) note += " Too many combinations to filter by every value: the top " + dim.filterable + " are (the others are counted as \"other values\" under a filter).";
        if (active() && dim.filterable > 0) note += " Counts are for the filters on the other fields" + (F.ids[d] !== undefined ? " (the selected row is highlighted)." : ".");
        if (note) foot.appendChild(el("p", { cls: "note", text: note.trim() }));
      }
      input.addEventListener("input", function () { state.texts[d] = input.value; fill(); });
      fill();
      grid.appendChild(box);
    });
    b.appendChild(grid);
  }

  // ---------- notable actions ----------
  function drawNotable() {
    var b = clear(sections.notable);
    var n = D.notable;
    var list = n.actions.filter(function (a) { return passes(a.ids, a.t, null); });
    b.appendChild(el("p", { cls: "note", text: "What changed or could matter, in plain words: " + fmt(n.total) + " actions, " + fmt(n.failed) + " failed" + (active() ? "; " + fmt(list.length) + " of those embedded match the filters." : ".") }));
    if (n.actions.length < n.total) {
      b.appendChild(cmdBox({ text: "trailscan summary " + D.command.paths.map(q).join(" ") + " --format csv --section notable", superset: false }, "The page embeds the first " + fmt(n.actions.length) + " of " + fmt(n.total) + "; this lists them all:"));
    }
    if (!list.length) { b.appendChild(el("p", { cls: "empty", text: "None." })); return; }
    var ol = el("ol", { cls: "notable", id: "notable-list" });
    list.slice(0, 400).forEach(function (a) {
      var li = el("li", { cls: a.failed ? "failed" : "" });
      li.appendChild(el("span", { cls: "when", text: rfc(a.time) }));
      li.appendChild(el("span", { cls: "desc", text: a.description }));
      if (a.record != null) {
        var rb = el("button", { cls: "link", type: "button", text: " [record]" });
        rb.addEventListener("click", function () { openList("Notable action: " + a.event, [a.record], null, null); });
        li.appendChild(rb);
      }
      ol.appendChild(li);
    });
    b.appendChild(el("div", { cls: "scroll" }, [ol]));
    if (list.length > 400) b.appendChild(el("p", { cls: "note", text: (list.length - 400) + " more match: narrow the filters to see them here." }));
  }

  // ---------- findings ----------
  var SEV = ["critical", "high", "medium", "low", "info"];
  function drawFindings() {
    var b = clear(sections.findings);
    var a = D.audit;
    if (!a.ran) { b.appendChild(el("p", { cls: "empty", text: "No audit rules were run (--no-audit)." })); return; }
    b.appendChild(el("p", { cls: "note", text: "Rules run: " + a.note + ". " + fmt(a.findings) + " findings." + (active() ? " Shown: the findings with a record that matches the filters." : "") }));
    if (!a.by_rule.length) { b.appendChild(el("p", { cls: "empty", text: "No rule matched." })); return; }
    var rulesSorted = a.by_rule.slice().sort(function (x, y) { return SEV.indexOf(x.severity) - SEV.indexOf(y.severity) || y.findings - x.findings; });
    var any = false;
    rulesSorted.forEach(function (r) {
      var shown = r.shown.filter(function (f) {
        if (!active()) return true;
        return f.records.some(function (i) { var rec = D.records[i]; return passes(rec.ids, rec.t, null); });
      });
      if (!shown.length) return;
      any = true;
      var det = el("details", { cls: "finding", "data-rule": r.id });
      det.appendChild(el("summary", {}, [el("span", { cls: "sev sev-" + r.severity, text: r.severity }), el("b", { text: r.title }), " ", el("span", { cls: "muted", text: "\u2014 " + fmt(r.findings) + " findings, " + fmt(r.events) + " events, " + iso(r.first) + " to " + iso(r.last) + " (" + r.id + ")" })]));
      var body = el("div", { cls: "body" });
      if (r.description) body.appendChild(el("p", { text: r.description }));
      body.appendChild(el("p", { cls: "note", text: "From " + r.origin + (r.tags.length ? "; " + r.tags.join(", ") : "") + (r.threshold ? "; threshold " + r.threshold : "") }));
      var tbl = el("table", {}, [el("thead", {}, [el("tr", {}, [el("th", { text: "first" }), el("th", { text: "last" }), el("th", { text: "actors" }), el("th", { text: "events" }), el("th", { text: "" })])])]);
      var tb = el("tbody", {});
      shown.forEach(function (f) {
        var rb = el("button", { cls: "link", type: "button", text: f.records.length ? "records (" + f.records.length + ")" : "" });
        rb.addEventListener("click", function () { openList(r.title, f.records, null, f.events > f.records.length ? f.events : null); });
        var who = f.actors.join(", ") + (f.group ? " [" + f.group.map(function (g) { return g[0] + "=" + (typeof g[1] === "string" ? g[1] : JSON.stringify(g[1])); }).join(", ") + "]" : "");
        tb.appendChild(el("tr", {}, [el("td", { cls: "t", text: rfc(f.first) }), el("td", { cls: "t", text: rfc(f.last) }), el("td", { cls: "v", text: who }), el("td", { cls: "n", text: fmt(f.events) }), el("td", {}, [rb])]));
      });
      tbl.appendChild(tb);
      body.appendChild(tbl);
      if (r.shown.length < r.findings) body.appendChild(el("p", { cls: "note", text: "The first " + r.shown.length + " of " + fmt(r.findings) + " findings are embedded; trailscan audit with the same inputs lists them all." }));
      det.appendChild(body);
      b.appendChild(det);
    });
    if (!any) b.appendChild(el("p", { cls: "empty", text: "No finding matches the filters." }));
  }

  // ---------- identities ----------
  function spark(list) {
    if (!D.cube.length) return null;
    var tmin = Infinity, tmax = -Infinity;
    D.cube.forEach(function (r) { if (r[0] < tmin) tmin = r[0]; if (r[0] > tmax) tmax = r[0]; });
    tmax += BS;
    var W = 300, H = 34, max = 1;
    list.forEach(function (p) { if (p[1] > max) max = p[1]; });
    var s = sv("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, "class": "spark", role: "img", "aria-label": "activity over time" });
    var slot = W * BS / (tmax - tmin), bw = Math.min(12, Math.max(1, slot - 0.5));
    list.forEach(function (p) {
      var h = Math.max(1, p[1] / max * (H - 2));
      s.appendChild(sv("rect", { x: (p[0] - tmin) / (tmax - tmin) * W + (slot - bw) / 2, y: H - h, width: bw, height: h }, null));
      s.lastChild.appendChild(sv("title", {}, iso(p[0]) + ": " + fmt(p[1])));
    });
    return s;
  }
  function plist(p) {
    if (!p.rows.length) return "-";
    return p.rows.map(function (r) { return r[0] + " (" + fmt(r[1]) + ")"; }).join(", ") + (p.distinct > p.rows.length ? ", \u2026 " + (p.distinct - p.rows.length) + " more" : "");
  }
  // The profile lists and the cube field each is by: services, source IPs, errors, accounts.
  var PLISTS = [["services", 0], ["ips", 3], ["errors", ERR], ["accounts", 6]];
  var keptApart = {};
  PLISTS.forEach(function (p) {
    var d = p[1], m = keptApart[d] = {};
    D.dims[d].values.forEach(function (v, id) { if (id < D.dims[d].filterable) m[v.value] = id; });
  });
  // An identity under the page's filters, from the cube: its records (count, first and last,
  // per bucket) and per list the values' counts, all exact. Null when the filters are on
  // this actor alone (or none): the whole profile is then exact as it is. `unknown` when the
  // cube does not keep this actor apart.
  function identityUnder(i) {
    var others = Object.keys(F.ids).some(function (k) { return +k !== ACTOR; });
    if (F.t0 == null && !others) return null;
    // An actor the cube does not keep apart is counted from its own cells, when the page has them.
    var own = i.id >= D.dims[ACTOR].filterable;
    if (own && D.identity_cube_actors.indexOf(i.id) < 0) return { unknown: true };
    var rs = (own ? D.identity_cube : D.cube).filter(function (r) { return r[1 + ACTOR] === i.id && passes(r.slice(1, 1 + NDIM), r[0], ACTOR); });
    var u = { count: total(rs), first: null, last: null, spark: [], lists: {} };
    var buckets = {};
    rs.forEach(function (r) {
      if (u.first == null || r[2 + NDIM] < u.first) u.first = r[2 + NDIM];
      if (u.last == null || r[3 + NDIM] > u.last) u.last = r[3 + NDIM];
      buckets[r[0]] = (buckets[r[0]] || 0) + r[1 + NDIM];
    });
    u.spark = Object.keys(buckets).map(function (t) { return [+t, buckets[t]]; });
    PLISTS.forEach(function (p) {
      var whole = i[p[0]], d = p[1], acc = {}, other = 0;
      rs.forEach(function (r) {
        var id = r[1 + d], n = r[1 + NDIM];
        if (id === -2) return;
        if (id === -1) other += n; else acc[id] = (acc[id] || 0) + n;
      });
      var list = Object.keys(acc).map(function (id) { return [valueOf(d, +id), acc[id]]; });
      if (other) {
        // Records under values the cube merges: when the whole profile names every value of
        // this identity and only one of them is merged, they are all that one's.
        var merged = whole.distinct === whole.rows.length
          ? whole.rows.filter(function (w) { return keptApart[d][w[0]] === undefined; }) : [];
        if (merged.length === 1) { list.push([merged[0][0], other]); other = 0; }
      }
      list.sort(function (a, c) { return c[1] - a[1] || (a[0] < c[0] ? -1 : a[0] > c[0] ? 1 : 0); });
      u.lists[p[0]] = { distinct: list.length, rows: list.slice(0, 12), other: other };
    });
    // The identity type is not a field of the cube: exact only when the actor has one type.
    u.lists.types = i.types.distinct === 1 && u.count
      ? { distinct: 1, rows: [[i.types.rows[0][0], u.count]], other: 0 }
      : { distinct: 0, rows: [], other: 0, unknown: i.types };
    return u;
  }
  function plistUnder(p, d) {
    if (p.unknown) return "not broken down under a filter (the page has no identity type by record); over the whole report: " + plist(p.unknown);
    var text = p.rows.length ? plist(p) : p.other ? "" : "-";
    if (p.other) text += (text ? "; " : "") + fmt(p.other) + (p.other === 1 ? " record" : " records") + " with values this page does not keep apart (" + (D.dims[d].filterable ? "it keeps the top " + D.dims[d].filterable + " " + D.dims[d].title : "it keeps no " + D.dims[d].title.replace(/s$/, "") + " apart") + ")";
    return text;
  }
  function drawIdentities() {
    var b = clear(sections.identities);
    var ids = D.identities.filter(function (i) { return F.ids[ACTOR] === undefined || F.ids[ACTOR] === i.id; });
    var filtered = ids.map(function (i) { return [i, identityUnder(i)]; });
    var unknown = filtered.filter(function (x) { return x[1] && x[1].unknown; }).map(function (x) { return x[0].actor; });
    filtered = filtered.filter(function (x) { return !x[1] || (!x[1].unknown && x[1].count > 0); });
    var under = filtered.some(function (x) { return x[1]; }) || unknown.length > 0;
    b.appendChild(el("p", { cls: "note", id: "identities-note", text: "The " + D.identities.length + " most active actors over the whole report: activity per " + D.bucket + ", services, source IPs, errors." +
      (under ? " Under the filters: those with records that match them, their figures counted from the page's cube (records without a readable eventTime are outside every filter)." : "") }));
    if (unknown.length) {
      b.appendChild(el("p", { cls: "note warn", id: "identities-unknown", "data-actors": JSON.stringify(unknown), text: "Not shown under these filters: " + unknown.join(", ") + ". This page keeps " + (D.dims[ACTOR].filterable ? "only the top " + D.dims[ACTOR].filterable + " actors apart" : "no actor apart") + ", and the records of " + D.identity_cube_actors.length + " more (a bound on its size), so it cannot count theirs under a filter; trailscan summary with the same filters and --by actor does." }));
    }
    if (!filtered.length) b.appendChild(el("p", { cls: "empty", text: "No identity matches the filters." }));
    var grid = el("div", { cls: "ids" });
    filtered.forEach(function (x) {
      var i = x[0], u = x[1];
      var name = i.id < D.dims[ACTOR].filterable
        ? el("button", { cls: "link name", type: "button", text: i.actor, title: "filter to this actor" })
        : el("div", { cls: "name", text: i.actor });
      name.addEventListener("click", function () { if (i.id < D.dims[ACTOR].filterable) setFilter(ACTOR, i.id); });
      var dl = el("dl", {});
      var items = u
        ? [["records", fmt(u.count)], ["seen", iso(u.first) + " \u2192 " + iso(u.last)], ["type", plistUnder(u.lists.types)], ["accounts", plistUnder(u.lists.accounts, 6)], ["services", plistUnder(u.lists.services, 0)], ["source IPs", plistUnder(u.lists.ips, 3)], ["errors", plistUnder(u.lists.errors, ERR)]]
        : [["records", fmt(i.count)], ["seen", rfc(i.first_seen) + " \u2192 " + rfc(i.last_seen)], ["type", plist(i.types)], ["accounts", plist(i.accounts)], ["services", plist(i.services)], ["source IPs", plist(i.ips)], ["errors", plist(i.errors)]];
      var errs = u ? u.lists.errors.rows.length || u.lists.errors.other : i.errors.rows.length;
      items.forEach(function (kv) {
        dl.appendChild(el("dt", { text: kv[0] }));
        dl.appendChild(el("dd", { text: kv[1], cls: kv[0] === "errors" && errs ? "bad" : "", "data-k": kv[0] }));
      });
      grid.appendChild(el("div", { cls: "id", "data-actor": i.actor, "data-count": u ? u.count : i.count }, [name, spark(u ? u.spark : i.spark), dl]));
    });
    b.appendChild(grid);
    if (D.trace) drawTrace(b);
  }

  // The credential tree of `--trace-user` / `--trace-key`: one row per credential, its
  // issuer above it, links drawn as elbows (dashed when inferred), seeds outlined.
  function drawTrace(b) {
    var tr = D.trace;
    b.appendChild(el("h3", { id: "credential-trees", text: "Credential tree of " + tr.seeds.join(", ") }));
    b.appendChild(el("p", { cls: "note", text: "As trailscan trace draws it (up to where each credential came from, down to every credential it obtained; " + tr.passes + " passes). Dashed: linked by inference (principal and session time), not by key. Hover a credential for how it was issued." }));
    if (!tr.roots.length) { b.appendChild(el("p", { cls: "empty", text: "The seeds were not found in the archive." })); return; }
    tr.roots.forEach(function (root) {
      var rowsOut = [];
      (function walk(n, depth, parent) {
        var me = rowsOut.length;
        rowsOut.push({ n: n, depth: depth, parent: parent });
        n.children.forEach(function (c) { walk(c, depth + 1, me); });
      })(root.tree, 0, -1);
      var deepest = rowsOut.reduce(function (a, r) { return Math.max(a, r.depth); }, 0);
      var RH = 46, IND = 28, W = Math.max(1100, 8 + deepest * IND + 1060), H = rowsOut.length * RH + 8;
      var svg = sv("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, "class": "trace", role: "img", "aria-label": "credential tree" });
      rowsOut.forEach(function (r, i) {
        var x = 8 + r.depth * IND, y = 6 + i * RH;
        if (r.parent >= 0) {
          var px = 8 + rowsOut[r.parent].depth * IND + 8, py = 6 + r.parent * RH + 30;
          var path = sv("path", { d: "M" + px + " " + py + " V" + (y + 12) + " H" + x, fill: "none", "class": "axis" });
          path.style.stroke = "var(--muted)";
          if (r.n.inferred) path.setAttribute("stroke-dasharray", "4 3");
          svg.appendChild(path);
        }
        var g = sv("g", {});
        var box = sv("rect", { x: x, y: y, width: W - x - 8, height: RH - 8, rx: 4 });
        box.style.fill = r.n.failed ? "transparent" : "var(--panel)";
        box.style.stroke = r.n.seed ? "var(--accent)" : r.n.failed ? "var(--bad)" : "var(--line)";
        box.style.strokeWidth = r.n.seed ? "2" : "1";
        g.appendChild(box);
        var head = sv("text", { x: x + 8, y: y + 15 }, r.n.head.length > 140 ? r.n.head.slice(0, 139) + "\u2026" : r.n.head);
        head.style.fill = r.n.failed ? "var(--bad)" : "var(--fg)";
        head.style.fontWeight = "600";
        g.appendChild(head);
        var detail = (r.n.details[0] || "") + (r.n.errors ? "  [" + r.n.errors + " failed calls]" : "") + (r.n.cut ? "  [deeper links cut: see trailscan trace]" : "");
        g.appendChild(sv("text", { x: x + 8, y: y + 31 }, detail.length > 165 ? detail.slice(0, 164) + "\u2026" : detail));
        g.appendChild(sv("title", {}, r.n.head + "\n" + r.n.details.join("\n")));
        svg.appendChild(g);
      });
      b.appendChild(el("p", { cls: "note", text: "Origin: " + root.origin }));
      b.appendChild(el("div", { cls: "trace-wrap" }, [svg]));
    });
  }

  // ---------- record viewer ----------
  // Re-indents JSON text without parsing its values: numbers, escapes and key order stay
  // exactly as in the archive.
  function pretty(raw) {
    var out = [], ind = 0, i = 0, n = raw.length, pad = function () { return "\n" + "  ".repeat(ind); };
    while (i < n) {
      var c = raw[i];
      if (c === '"') {
        var j = i + 1;
        while (j < n && raw[j] !== '"') j += raw[j] === "\\" ? 2 : 1;
        out.push(raw.slice(i, j + 1)); i = j + 1; continue;
      }
      if (c === " " || c === "\n" || c === "\r" || c === "\t") { i++; continue; }
      if (c === "{" || c === "[") {
        var k = i + 1; while (k < n && /\s/.test(raw[k])) k++;
        if (raw[k] === (c === "{" ? "}" : "]")) { out.push(c + raw[k]); i = k + 1; continue; }
        ind++; out.push(c + pad()); i++; continue;
      }
      if (c === "}" || c === "]") { ind--; out.push(pad() + c); i++; continue; }
      if (c === ",") { out.push("," + pad()); i++; continue; }
      if (c === ":") { out.push(": "); i++; continue; }
      out.push(c); i++;
    }
    return out.join("");
  }
  var viewer = document.getElementById("viewer");
  function closeViewer() { viewer.hidden = true; clear(viewer); }
  viewer.addEventListener("click", function (ev) { if (ev.target === viewer) closeViewer(); });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && !viewer.hidden) closeViewer(); });
  function summaryOf(rec) {
    var parts = [iso(rec.t)];
    [1, ACTOR, ERR].forEach(function (d) { if (rec.ids[d] >= 0) parts.push(valueOf(d, rec.ids[d])); else if (d === ERR && rec.ids[d] === -1) parts.push("error"); });
    return parts.join("  ");
  }
  // The embedded records behind the filters plus `extra`, with the true count `count`.
  function openRecords(title, extra, count) {
    var list = [];
    D.records.forEach(function (rec, i) {
      for (var k in extra) if (rec.ids[k] !== extra[k]) return;
      if (passes(rec.ids, rec.t, null)) list.push(i);
    });
    list.sort(function (a, c) { return (D.records[a].t || 0) - (D.records[c].t || 0); });
    openList(title, list, searchCommand(extra), count);
  }
  function openList(title, list, cmd, count) {
    clear(viewer); viewer.hidden = false;
    var close = el("button", { type: "button", text: "close", id: "viewer-close" });
    close.addEventListener("click", closeViewer);
    var headLeft = el("div", {}, [el("h3", { text: title })]);
    var cut = count != null && count > list.length;
    headLeft.appendChild(el("p", { cls: "note", id: "viewer-count", text: cut ? "Showing the " + list.length + " embedded of " + fmt(count) + " records (the page embeds up to " + D.per_value + " per value, plus those of notable actions and findings)." : list.length + " record" + (list.length === 1 ? "" : "s") + "." }));
    if (cmd !== undefined && (cut || cmd)) headLeft.appendChild(cmdBox(cmd, "Every record behind this number:"));
    var box = el("div", { cls: "vbox", role: "dialog", "aria-modal": "true", "aria-label": "records" }, [el("div", { cls: "vhead" }, [headLeft, close])]);
    var lst = el("div", { cls: "vlist", role: "listbox", id: "viewer-list" });
    var pre = el("pre", { id: "viewer-json", tabindex: "0" });
    var copyBtn = el("button", { type: "button", text: "copy", id: "viewer-copy" });
    var current = null;
    copyBtn.addEventListener("click", function () { if (current != null) copy(D.records[current].raw, copyBtn); });
    var right = el("div", { cls: "vjson" }, [el("div", { cls: "cmd" }, [el("span", { cls: "note", text: "The record as in the archive (re-indented; copy gives the original text)." }), copyBtn]), pre]);
    box.appendChild(el("div", { cls: "vbody" }, [lst, right]));
    viewer.appendChild(box);
    var buttons = [];
    function show(i, b) {
      current = i; pre.textContent = vis(pretty(D.records[i].raw)).replace(/\u27e8U\+000A\u27e9/g, "\n");
      buttons.forEach(function (x) { x.setAttribute("aria-selected", "false"); });
      b.setAttribute("aria-selected", "true");
    }
    list.forEach(function (i) {
      var b = el("button", { type: "button", role: "option", text: summaryOf(D.records[i]), "data-record": i });
      b.addEventListener("click", function () { show(i, b); });
      buttons.push(b); lst.appendChild(b);
    });
    if (!list.length) { lst.appendChild(el("p", { cls: "empty", text: "No embedded record matches." })); pre.textContent = ""; }
    else show(list[0], buttons[0]);
    close.focus();
  }

  // ---------- --by groups (summary --format html --by ...) ----------
  function drawGroups() {
    if (!D.groups) return;
    var b = clear(sections.groups), g = D.groups;
    var cols = g.by.map(function (f, i) { return [f, function (r) { return r.key[i]; }]; }).concat([
      ["records", function (r) { return r.count; }], ["events", function (r) { return r.distinct.event_names; }],
      ["actors", function (r) { return r.distinct.actors; }], ["IPs", function (r) { return r.distinct.source_ips; }],
      ["accounts", function (r) { return r.distinct.accounts; }], ["regions", function (r) { return r.distinct.regions; }],
      ["first seen", function (r) { return r.first_seen; }], ["last seen", function (r) { return r.last_seen; }]]);
    var s = state.groupSort || { col: g.by.length, dir: -1 };
    var rowsG = g.rows.slice().sort(function (a, c) { var x = cols[s.col][1](a), y = cols[s.col][1](c); return (x < y ? -1 : x > y ? 1 : 0) * s.dir; });
    var tr = el("tr", {});
    cols.forEach(function (c, i) {
      var th = el("th", { cls: "sort", text: c[0] });
      if (s.col === i) th.setAttribute("aria-sort", s.dir > 0 ? "ascending" : "descending");
      th.addEventListener("click", function () { state.groupSort = { col: i, dir: s.col === i ? -s.dir : (i < g.by.length ? 1 : -1) }; drawGroups(); });
      tr.appendChild(th);
    });
    var body = el("tbody", {});
    rowsG.forEach(function (r) {
      body.appendChild(el("tr", {}, cols.map(function (c, i) {
        var v = c[1](r);
        return el("td", { cls: i < g.by.length ? "v" : i >= cols.length - 2 ? "t" : "n", text: i < g.by.length ? v : typeof v === "number" ? fmt(v) : rfc(v) });
      })));
    });
    b.appendChild(el("div", { cls: "tbl" }, [el("div", { cls: "scroll" }, [el("table", {}, [el("thead", {}, [tr]), body])])]));
    b.appendChild(el("p", { cls: "note", text: (g.rows.length < g.total ? "The first " + fmt(g.rows.length) + " of " + fmt(g.total) + " groups (--top); " : fmt(g.total) + " groups; ") + "for the whole report, not filtered." }));
  }

  // ---------- render ----------
  function render() {
    drawFilters(); drawOverview(); drawTimeline(); drawNotable(); drawFindings(); drawTables(); drawIdentities(); drawGroups();
  }
  render();
  var resized = null;
  window.addEventListener("resize", function () { clearTimeout(resized); resized = setTimeout(drawTimeline, 150); });
  document.body.setAttribute("data-ready", "1");
})();
