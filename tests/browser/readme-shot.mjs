// Makes doc/report.png, the README's picture of the report (not a test):
//   trailscan report fixtures/archive --since 2023-07-10 --until 2023-07-14 --bucket hour -o /tmp/readme.html
//   node tests/browser/readme-shot.mjs /tmp/readme.html doc/report.png
// The page filtered to the busiest actor, stacked by error or not, a bar hovered.
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [page, out] = process.argv.slice(2);
const b = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const p = await b.newPage({ viewport: { width: 1280, height: 1000 } });
await p.goto(pathToFileURL(page).href);
await p.waitForSelector("body[data-ready='1']");
await p.selectOption("#stack-by", "error");
await p.click("#table-actors tbody tr:first-child td.v button");
await p.evaluate(() => window.scrollTo(0, 0));
const n = await p.locator("#timeline-chart rect.hot").count();
await p.locator("#timeline-chart rect.hot").nth(Math.floor(n / 2)).hover();
await p.screenshot({ path: out });
await b.close();
