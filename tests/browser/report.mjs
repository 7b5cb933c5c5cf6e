// Drives trailscan's HTML report in headless Chromium (the system's, through playwright-core)
// and checks what a reader sees and does: no console error, no network request, sorting,
// text filters, click-to-filter, the brushed time range, the record viewer, hostile text.
//
// Usage: node report.mjs ARCHIVE.html HOSTILE.html HOSTILE_RECORDS.json SCREENSHOT_DIR TRACE.html
//        COLLAPSED.html (the archive's page with --max-cells 100: few actors kept apart)
// Prints one line per check and "N passed, N failed"; exits 1 if any check failed.
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import assert from "node:assert/strict";

const [archivePage, hostilePage, hostileRecords, shots, tracePage, collapsedPage] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
mkdirSync(shots, { recursive: true });

let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n  ${String(e && e.stack || e).split("\n").join("\n  ")}`);
  }
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });

// Opens `file` in a fresh page, recording console errors, page errors, dialogs and requests.
async function open(file, viewport = { width: 1400, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const log = { errors: [], requests: [], dialogs: [] };
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") log.errors.push(m.text()); });
  page.on("pageerror", (e) => log.errors.push(String(e)));
  page.on("dialog", async (d) => { log.dialogs.push(d.message()); await d.dismiss(); });
  const url = pathToFileURL(file).href;
  page.on("request", (r) => { if (r.url() !== url) log.requests.push(r.url()); });
  await page.goto(url);
  await page.waitForSelector("body[data-ready='1']", { timeout: 20000 });
  return { page, log, context };
}

// The overview's record count as a number.
async function records(page) {
  return Number((await page.textContent("#ov-records")).replace(/,/g, ""));
}
// The value cells of a top table, in order.
async function values(page, table) {
  return page.$$eval(`#table-${table} tbody tr td.v`, (tds) => tds.map((td) => td.firstChild.textContent));
}
async function counts(page, table) {
  return page.$$eval(`#table-${table} tbody tr td.n`, (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ""))));
}
// Sum of the timeline's bucket totals.
async function timelineTotal(page) {
  return page.$$eval("#timeline-chart rect.hot", (rs) => rs.reduce((a, r) => a + Number(r.dataset.count), 0));
}

const A = await open(archivePage);
const { page } = A;

await check("the page loads with no console error and no network request", async () => {
  assert.deepEqual(A.log.errors, []);
  assert.deepEqual(A.log.requests, []);
  assert.equal(await page.locator("#timeline-chart").count(), 1);
  assert.ok(await records(page) > 0);
});

await page.screenshot({ path: `${shots}/report-desktop.png`, fullPage: false });
await page.screenshot({ path: `${shots}/report-desktop-full.png`, fullPage: true });

await check("sorting a column reorders rows", async () => {
  const byCount = await counts(page, "event_names");
  assert.deepEqual(byCount, [...byCount].sort((a, b) => b - a), "records, most first");
  await page.click("#table-event_names th[data-key=value]");
  const asc = await values(page, "event_names");
  assert.deepEqual(asc, [...asc].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  assert.notDeepEqual(asc, await (async () => byCount)());
  await page.click("#table-event_names th[data-key=value]");
  const desc = await values(page, "event_names");
  assert.deepEqual(desc, [...asc].reverse());
  await page.click("#table-event_names th[data-key=count]");
  const again = await counts(page, "event_names");
  assert.deepEqual(again, [...again].sort((a, b) => b - a));
});

await check("typing a filter hides rows", async () => {
  const all = await values(page, "event_names");
  const before = all.length;
  // A piece of a value that some rows lack.
  const pieces = all.flatMap((v) => [v.slice(0, 4), v.slice(-4)]).map((p) => p.toLowerCase());
  const piece = pieces.find((p) => all.some((v) => !v.toLowerCase().includes(p)));
  const want = all.filter((v) => v.toLowerCase().includes(piece));
  await page.fill("#table-event_names input", piece.toUpperCase());
  const after = await values(page, "event_names");
  assert.ok(after.length > 0 && after.length < before, `${after.length} of ${before}`);
  assert.deepEqual(after, want);
  await page.fill("#table-event_names input", "");
  assert.equal((await values(page, "event_names")).length, before);
});

await check("clicking a value filters the overview, the timeline and the other tables", async () => {
  const total = await records(page);
  const src = (await values(page, "event_sources"))[0];
  const n = (await counts(page, "event_sources"))[0];
  await page.click(`#table-event_sources tbody tr:first-child td.v button`);
  await page.waitForSelector("#filters .chip");
  assert.match(await page.textContent("#filters"), new RegExp(`eventSource = ${src.replace(/\./g, "\\.")}`));
  const got = await records(page);
  assert.ok(got < total, `${got} < ${total}`);
  assert.equal(await timelineTotal(page), got, "timeline sums to the filtered records");
  // Every other table now adds up to the filtered records (the regions table lists each).
  const regions = (await counts(page, "regions")).reduce((a, b) => a + b, 0);
  assert.equal(regions, got);
  // The clicked value's own count is unchanged up to undated records.
  assert.ok(Math.abs(got - n) <= n, "count near the table's");
  await page.click("#clear-filters");
  assert.equal(await records(page), total);
});

await check("a brushed time range filters the page", async () => {
  const total = await records(page);
  await page.locator("#timeline-chart").scrollIntoViewIfNeeded();
  const box = await page.locator("#timeline-chart").boundingBox();
  const hot = await page.$$eval("#timeline-chart rect.hot", (rs) => rs.map((r) => ({ t: Number(r.dataset.t), n: Number(r.dataset.count), x: r.getBoundingClientRect().x, w: r.getBoundingClientRect().width })));
  // Drag over the second half of the busiest bars' span.
  const xs = hot.map((h) => h.x).sort((a, b) => a - b);
  const from = xs[Math.floor(xs.length / 2)] - 1, to = box.x + box.width - 12;
  await page.mouse.move(from, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move((from + to) / 2, box.y + box.height / 2, { steps: 4 });
  await page.mouse.move(to, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForSelector("#range-chip");
  const got = await records(page);
  // The brush snaps to buckets: the range it shows holds the bar under the start of the drag
  // and not the first bar; the page counts exactly the bars inside it.
  const [t0, t1] = (await page.textContent("#range-chip")).split("\u2192").map((s) => Date.parse(s.trim().replace(" ", "T").replace(/\u00d7$/, "")) / 1000);
  const sorted = [...hot].sort((a, b) => a.x - b.x);
  const mid = sorted[Math.floor(sorted.length / 2)];
  assert.ok(t0 <= mid.t && mid.t < t1 && sorted[0].t < t0, `${t0} ${t1}`);
  const want = hot.filter((h) => h.t >= t0 && h.t < t1).reduce((a, h) => a + h.n, 0);
  assert.ok(got > 0 && got < total, `${got} of ${total}`);
  assert.equal(got, want, "the bars inside the brush");
  const regions = (await counts(page, "regions")).reduce((a, b) => a + b, 0);
  assert.equal(regions, got, "tables follow the range");
  await page.click("#zoom");
  assert.equal(await timelineTotal(page), got, "zoomed to the selection");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/report-zoomed.png` });
  await page.click("#clear-filters");
  assert.equal(await records(page), total);
});

// What the Identities section shows: per card, the actor, its records, first and last seen and
// each list as [value, count] rows with how many values it has (tests/report.rs compares them
// with `trailscan summary --by actor,FIELD` under the same filter).
async function identities(page) {
  return page.$$eval("#identities .id", (cards) => cards.map((c) => {
    const dd = (k) => c.querySelector(`dd[data-k='${k}']`).textContent;
    const list = (k) => {
      const text = dd(k);
      if (text === "-") return { rows: [], distinct: 0, other: 0 };
      const rows = [...text.matchAll(/(?:^|, )([^,]+?) \(([\d,]+)\)/g)].map((m) => [m[1], Number(m[2].replace(/,/g, ""))]);
      const more = text.match(/\u2026 (\d+) more/);
      const other = text.match(/([\d,]+) records? with values this page does not keep apart/);
      return { rows, distinct: rows.length + (more ? Number(more[1]) : 0), other: other ? Number(other[1].replace(/,/g, "")) : 0, text };
    };
    const [first, last] = dd("seen").split("\u2192").map((s) => s.trim().replace(" ", "T"));
    return {
      actor: c.dataset.actor,
      count: Number(dd("records").replace(/,/g, "")),
      first, last,
      services: list("services"), ips: list("source IPs"), errors: list("errors"), accounts: list("accounts"), types: list("type"),
    };
  }));
}
// The actors table's counts by actor, for the actors the page can filter by (the others'
// counts there are for the whole report).
async function actorCounts(page) {
  const v = await values(page, "actors"), n = await counts(page, "actors");
  const apart = await page.evaluate(() => {
    const d = JSON.parse(document.getElementById("data").textContent).dims[2];
    return d.values.slice(0, d.filterable).map((x) => x.value);
  });
  return Object.fromEntries(v.map((a, i) => [a, n[i]]).filter((x) => apart.includes(x[0])));
}

// Clicks the busiest event source, then brushes the middle third of the timeline, and
// returns what the Identities section showed each time (and with no filter), with the actors
// it said it could not count.
async function identityScenarios(page) {
  const shown = async () => ({
    identities: await identities(page),
    unknown: JSON.parse(await page.getAttribute("#identities-unknown", "data-actors").catch(() => null) || "[]"),
  });
  const whole = await shown();
  assert.deepEqual(whole.unknown, [], "with no filter every profile is whole");
  const out = { whole: { flags: [], ...whole } };
  const src = (await values(page, "event_sources"))[0];
  await page.click(`#table-event_sources tbody tr:first-child td.v button`);
  await page.waitForSelector("#filters .chip");
  out.source = { flags: ["--source", src], ...(await shown()) };
  const table = await actorCounts(page);
  for (const i of out.source.identities) {
    if (table[i.actor] !== undefined) assert.equal(i.count, table[i.actor], `${i.actor}: the card counts what the actors table counts`);
    assert.equal(i.services.rows.length + (i.services.other ? 1 : 0), 1, `${i.actor}: one service under eventSource = ${src}`);
  }
  assert.ok(out.source.identities.some((i) => i.count < whole.identities.find((w) => w.actor === i.actor).count), "the filter changed some identity's figures");
  await page.click("#clear-filters");
  assert.deepEqual(await identities(page), whole.identities, "clearing the filter restores the whole profiles");
  await page.locator("#timeline-chart").scrollIntoViewIfNeeded();
  const box = await page.locator("#timeline-chart").boundingBox();
  const xs = (await page.$$eval("#timeline-chart rect.hot", (rs) => rs.map((r) => r.getBoundingClientRect().x))).sort((a, b) => a - b);
  const from = xs[Math.floor(xs.length / 3)] - 1, to = xs[Math.floor(xs.length * 2 / 3)] + 2;
  await page.mouse.move(from, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(to, box.y + box.height / 2, { steps: 6 });
  await page.mouse.up();
  await page.waitForSelector("#range-chip");
  const [t0, t1] = (await page.textContent("#range-chip")).split("\u2192").map((s) => s.trim().replace(/\u00d7$/, "").replace(" ", "T"));
  out.range = { flags: ["--since", t0, "--until", t1], ...(await shown()) };
  const ids = out.range.identities;
  assert.ok(ids.length > 0);
  assert.ok(ids.length < whole.identities.length || ids.some((i) => i.count < whole.identities.find((w) => w.actor === i.actor).count), "the range changed the identities");
  await page.click("#clear-filters");
  return out;
}

await check("the identities follow a clicked value and a brushed range", async () => {
  const out = await identityScenarios(page);
  for (const s of ["source", "range"]) assert.deepEqual(out[s].unknown, [], "the fixtures' cube keeps every actor apart");
  writeFileSync(`${shots}/identities.json`, JSON.stringify(out, null, 1));
});

await check("the identities follow the filters when the cube keeps few actors apart", async () => {
  const C = await open(collapsedPage);
  assert.deepEqual(C.log.errors, []);
  const out = await identityScenarios(C.page);
  assert.ok(out.source.unknown.length > 0 || out.range.unknown.length > 0, "some actor could not be counted, and the page says so");
  writeFileSync(`${shots}/identities-collapsed.json`, JSON.stringify(out, null, 1));
  await C.context.close();
});

await check("the record viewer shows the exact record", async () => {
  await page.click("#table-event_names tbody tr:first-child td:last-child button");
  await page.waitForSelector("#viewer-json");
  const shown = await page.textContent("#viewer-json");
  const i = Number(await page.getAttribute("#viewer-list button[aria-selected=true]", "data-record"));
  const raw = await page.evaluate((i) => JSON.parse(document.getElementById("data").textContent).records[i].raw, i);
  assert.deepEqual(JSON.parse(shown), JSON.parse(raw));
  // Re-indented only: the same text once the whitespace between tokens is gone.
  assert.equal(shown.replace(/\n\s*/g, "").replace(/": /g, '":'), raw.replace(/\n\s*/g, "").replace(/": /g, '":').replace(/, (?=")/g, ","));
  const name = (await values(page, "event_names"))[0];
  assert.equal(JSON.parse(shown).eventName, name);
  assert.match(await page.textContent("#viewer"), /trailscan search/);
  await page.click("#viewer-close");
  assert.equal(await page.isVisible("#viewer"), false);
});

await check("the search command beside each number is written down for the Rust test to run", async () => {
  // For the first row of each table: the command the viewer shows and the count it stands
  // for; tests/report.rs runs each with --count and compares.
  const out = [];
  for (const t of ["event_sources", "event_names", "source_ips", "user_agents", "error_codes", "accounts", "regions"]) {
    const n = (await counts(page, t))[0];
    await page.click(`#table-${t} tbody tr:first-child td:last-child button`);
    await page.waitForSelector("#viewer-count");
    const code = await page.locator("#viewer .cmd code").first().textContent().catch(() => null);
    const note = await page.textContent("#viewer");
    await page.click("#viewer-close");
    if (code && !note.includes("may list a few more")) out.push({ table: t, command: code, count: n });
  }
  assert.ok(out.length >= 5, JSON.stringify(out));
  writeFileSync(`${shots}/commands.json`, JSON.stringify(out, null, 1));
});

await check("narrow screens and print", async () => {
  const N = await open(archivePage, { width: 420, height: 900 });
  assert.deepEqual(N.log.errors, []);
  await N.page.screenshot({ path: `${shots}/report-narrow.png`, fullPage: false });
  await N.page.emulateMedia({ media: "print" });
  await N.page.screenshot({ path: `${shots}/report-print.png`, fullPage: false });
  await N.context.close();
  const dark = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: "dark" });
  const p = await dark.newPage();
  await p.goto(pathToFileURL(archivePage).href);
  await p.waitForSelector("body[data-ready='1']");
  const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, "rgb(20, 23, 28)", "dark theme");
  await p.screenshot({ path: `${shots}/report-dark.png` });
  await dark.close();
});

await check("hostile strings render as text", async () => {
  const H = await open(hostilePage);
  assert.deepEqual(H.log.errors, []);
  assert.deepEqual(H.log.requests, [], "no <img src> was fetched");
  assert.deepEqual(H.log.dialogs, [], "no script ran");
  const p = H.page;
  assert.equal(await p.locator("script").count(), 2, "only the page's own scripts");
  assert.equal(await p.locator("img, iframe, object, embed, svg script, [onerror], [onload]").count(), 0);
  const agents = await values(p, "user_agents");
  assert.ok(agents.includes("<script>alert('ua')</script>"), JSON.stringify(agents));
  assert.ok(agents.includes('<img src=x onerror="alert(1)">'), JSON.stringify(agents));
  const text = await p.textContent("main");
  assert.ok(text.includes("</script><script>alert(2)</script>"), "the event name, as text");
  assert.ok(!text.includes("\u202e") && !text.includes("\u001b"), "no raw control or bidi character on screen");
  assert.ok(text.includes("\u27e8U+202E\u27e9"), "shown as an escape");
  // The record viewer shows the hostile record exactly.
  const want = JSON.parse(readFileSync(hostileRecords, "utf8")).Records;
  await p.click("#table-user_agents tbody tr:first-child td:last-child button");
  await p.waitForSelector("#viewer-json");
  const shown = JSON.parse((await p.textContent("#viewer-json")).replace(/\u27e8U\+([0-9A-F]{4})\u27e9/g, (_, h) => String.fromCharCode(parseInt(h, 16))));
  assert.deepEqual(shown, want.find((r) => r.eventID === shown.eventID));
  await p.screenshot({ path: `${shots}/report-hostile.png` });
  await H.context.close();
});

await check("the credential tree is drawn", async () => {
  const T = await open(tracePage);
  assert.deepEqual(T.log.errors, []);
  const rows = await T.page.$$eval("svg.trace g text:first-of-type", (ts) => ts.map((t) => t.textContent));
  assert.ok(rows[0].startsWith("AKIAIOSFODNN7EXAMPLE"), rows[0]);
  assert.ok(rows.some((r) => r.includes("ASIAQRSTUVWXCHAINED1") && r.includes("SEED")), JSON.stringify(rows));
  assert.ok(rows.some((r) => r.startsWith("FAILED AssumeRole")), "the failed issuance, a leaf");
  await T.page.locator("#credential-trees").scrollIntoViewIfNeeded();
  await T.page.screenshot({ path: `${shots}/report-trace.png` });
  await T.context.close();
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
