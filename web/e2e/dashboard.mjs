// The dashboard in a real browser (Debian's chromium driven by playwright-core) against a
// running gateway with demo data: sign-in, every chart rendered, its numbers equal to the
// API's, the map, drill-down, CSV export, the language switch, a region-bounded token without
// pii:read (suppressed cells), a refused token, the page with the network cut, screenshots.
//
//   SINERGI_URL=http://127.0.0.1:8080 SINERGI_TOKEN=… SINERGI_REGION_TOKEN=… node e2e/dashboard.mjs
//
// SINERGI_TOKEN: stats:read and pii:read over the province; SINERGI_REGION_TOKEN: stats:read
// and business:read for Samarinda (6472) only. Screenshots go to SCREENSHOTS (default ../docs/screenshots).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { graphql, launch } from "./browser.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const url = process.env.SINERGI_URL ?? "http://127.0.0.1:8080";
const token = process.env.SINERGI_TOKEN;
const regionToken = process.env.SINERGI_REGION_TOKEN;
const shots = resolve(process.env.SCREENSHOTS ?? join(here, "../../docs/screenshots"));
assert.ok(token && regionToken, "SINERGI_TOKEN and SINERGI_REGION_TOKEN are required");
mkdirSync(shots, { recursive: true });

// The dashboard opens on the last full programme year (the demo data's equipped cohort).
const year = new Date().getFullYear() - 1;
const STATS = `query($y: Int!) { programmeStatistics(year: $y) { minimumCell
  regencies { regencyCode recipients { value suppressed } packageValue { value } businessesByStatus { status count { value } } }
  total { recipients { value suppressed } packageValue { value } equipped { value } graduated { value }
    businessesByStatus { status count { value suppressed } } businessesByLevel { level count { value suppressed } }
    survival { months share } handovers { toAgency made { value suppressed } } } } }`;

const api = (query, variables, bearer = token) => graphql(url, bearer, query, variables);

const id = (n) => new Intl.NumberFormat("id-ID").format(n);
const rp = (n) => new Intl.NumberFormat("id-ID", { style: "currency", currency: "IDR", maximumFractionDigits: 0 }).format(n);

const browser = await launch();
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: "id-ID" });
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // A request made while the test cuts the network fails in the console too: expected (the
    // message can arrive after the network is back).
    if (m.type() === "error" && !m.text().includes("ERR_INTERNET_DISCONNECTED")) {
      problems.push(`console: ${m.text()}`);
    }
  });

  // Sign-in: the token is pasted, kept in this tab's session storage only.
  await page.goto(`${url}/dashboard`);
  await page.getByRole("heading", { name: "Dasbor Program Sinergi" }).waitFor();
  await page.fill("#token", `Bearer ${token}`);
  await page.getByRole("button", { name: "Masuk" }).click();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing in local storage but the language");

  // The figures equal the API's.
  const stats = (await api(STATS, { y: year })).programmeStatistics;
  const t = stats.total;
  assert.ok(t.recipients.value > 0, "the demo data has recipients this year");
  const stat = async (name) => (await page.textContent(`[data-stat=${name}] strong`)).trim();
  assert.equal(await stat("recipients"), id(t.recipients.value));
  const full = await page.getAttribute("[data-stat=packageValue] strong", "title");
  assert.equal(full.replace(/\s/g, " "), rp(t.packageValue.value).replace(/\s/g, " "), "the full amount on hover");
  assert.equal(await stat("equipped"), id(t.equipped.value));
  assert.equal(await stat("graduated"), id(t.graduated.value));

  // Every chart is drawn, and each bar carries the API's number.
  for (const chart of ["recipients", "packageValue", "businessesByStatus", "ladder", "survival"]) {
    const count = await page.locator(`svg[data-chart=${chart}] g[data-label]`).count();
    assert.ok(count > 0, `chart ${chart} has bars`);
  }
  const bars = async (chart) =>
    page.$$eval(`svg[data-chart=${chart}] g[data-label]`, (gs) => gs.map((g) => g.getAttribute("data-value")));
  assert.deepEqual(
    await bars("recipients"),
    stats.regencies.map((r) => String(r.recipients.value)),
    "recipients per regency",
  );
  assert.deepEqual(
    await bars("businessesByStatus"),
    t.businessesByStatus.map((b) => String(b.count.value)),
    "businesses by status",
  );
  const levels = [...t.businessesByLevel].sort((a, b) => a.level - b.level);
  assert.deepEqual(
    await bars("ladder"),
    levels.map((_, i) => String(levels.slice(i).reduce((n, l) => n + l.count.value, 0))),
    "the ladder as a funnel: at each level or above",
  );
  assert.deepEqual(await bars("survival"), t.survival.map((m) => (m.share == null ? "" : String(m.share))));
  assert.equal(await page.locator("[data-table=rujukan] tbody tr").count(), t.handovers.length);

  // The map: one tile per regency, coloured by the chosen figure.
  for (const r of stats.regencies) {
    assert.equal(await page.getAttribute(`.tile[data-regency="${r.regencyCode}"]`, "data-value"), String(r.recipients.value));
  }
  await page.selectOption("#figure", "packageValue");
  const samarinda = stats.regencies.find((r) => r.regencyCode === "6472");
  assert.equal(await page.getAttribute('.tile[data-regency="6472"]', "data-value"), String(samarinda.packageValue.value));

  // A CSV of any table.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-csv=paket]")]);
  assert.equal(download.suggestedFilename(), `sinergi-paket-${year}.csv`);
  const text = readFileSync(await download.path(), "utf8");
  assert.ok(text.startsWith("\ufeffKabupaten/kota,Penerima paket,Tersalurkan,Nilai paket\r\n"), text);
  assert.ok(text.includes(`\r\n6472,${samarinda.recipients.value},`), text);
  assert.ok(text.includes(`\r\nTotal,${t.recipients.value},`), text);

  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shots, "dashboard.png") });

  // Drill-down: Samarinda's tile opens its businesses, as the API lists them.
  await page.click('.tile[data-regency="6472"]');
  await page.waitForSelector("[data-table=daftar-usaha]");
  const listed = await api(
    `query($y: Int!) { businesses(first: 50, filter: { cohortYear: $y, regencyCodes: ["6472"] }) { totalCount nodes { name } } }`,
    { y: year },
  );
  assert.ok(listed.businesses.totalCount > 0, "Samarinda's cohort has businesses");
  assert.equal(await page.locator("[data-table=daftar-usaha] tbody tr").count(), listed.businesses.nodes.length);
  assert.ok(
    (await page.textContent("[data-table=daftar-usaha] h3")).includes(`/ ${id(listed.businesses.totalCount)})`),
    "the list's total is the cohort's",
  );
  assert.ok((await page.textContent("[data-table=daftar-usaha] h3")).includes("Kota Samarinda"));

  // The current year: the demo data's referrals, requests, services and loans are this year's.
  await page.selectOption("#year", String(year + 1));
  await page.waitForSelector("body[data-ready=true]");
  const CURRENT = `query($y: Int!) { programmeStatistics(year: $y) { total {
    handovers { toAgency made { value } } loans { status requested { value } }
    infrastructureRequests { kind count { value } } marketServices { kind count { value } } } } }`;
  const current = (await api(CURRENT, { y: year + 1 })).programmeStatistics.total;
  assert.deepEqual(await bars("handovers"), current.handovers.map((x) => String(x.made.value)));
  assert.deepEqual(await bars("loans"), current.loans.map((x) => String(x.requested.value)));
  const perKind = (list) => {
    const totals = new Map();
    for (const x of list) totals.set(x.kind, (totals.get(x.kind) ?? 0) + x.count.value);
    return [...totals.values()].map(String);
  };
  assert.deepEqual(await bars("infrastructure"), perKind(current.infrastructureRequests));
  assert.deepEqual(await bars("marketServices"), perKind(current.marketServices));
  for (const chart of ["handovers", "loans", "infrastructure", "marketServices"]) {
    assert.ok((await bars(chart)).length > 0, `chart ${chart} has bars`);
  }
  await page.selectOption("#year", String(year));
  await page.waitForSelector("body[data-ready=true]");

  // English on request; the choice is remembered, the token is not.
  await page.click("#lang");
  await page.getByRole("heading", { name: "Sinergi Programme Dashboard" }).waitFor();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await stat("recipients"), new Intl.NumberFormat("en-GB").format(t.recipients.value));
  await page.click("#lang");
  await page.waitForSelector("body[data-ready=true]");

  // The network cut after loading: the page stays, its controls work on what it has.
  await context.setOffline(true);
  await page.selectOption("#figure", "recipients");
  assert.equal(await page.getAttribute('.tile[data-regency="6472"]', "data-value"), String(samarinda.recipients.value));
  // The language switches offline too: it needs no request.
  await page.click("#lang");
  await page.getByRole("heading", { name: "Sinergi Programme Dashboard" }).waitFor();
  assert.equal(await stat("recipients"), new Intl.NumberFormat("en-GB").format(t.recipients.value));
  await page.click("#lang");
  await page.getByRole("heading", { name: "Dasbor Program Sinergi" }).waitFor();
  await page.selectOption("#year", String(year - 1));
  await page.getByRole("alert").waitFor();
  assert.match(await page.textContent("[role=alert]"), /tidak dapat dihubungi/);
  // The figures shown are never another year's: after a failed load the language switch asks
  // for the chosen year again (and fails again) rather than showing the previous year's.
  await page.click("#lang");
  await page.getByRole("heading", { name: "Sinergi Programme Dashboard" }).waitFor();
  await page.getByRole("alert").waitFor();
  assert.equal(await page.locator("[data-stat]").count(), 0, "no figures under the wrong year");
  await page.click("#lang");
  await page.getByRole("heading", { name: "Dasbor Program Sinergi" }).waitFor();
  await context.setOffline(false);
  await page.selectOption("#year", String(year));
  await page.waitForSelector("body[data-ready=true]");

  // A tablet: nothing wider than the screen.
  await page.setViewportSize({ width: 820, height: 1180 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a tablet`);

  // Signing out forgets the token.
  await page.click("#signout");
  await page.locator("#token").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await context.close();

  // A Samarinda token without pii:read: one regency, small cells suppressed as the API says.
  // Its client may run only the registered documents of the build (trusted documents), so the
  // figures compared are those the page itself received.
  const bounded = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const second = await bounded.newPage();
  second.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const sent = [];
  second.on("request", (r) => r.url().endsWith("/graphql") && sent.push(JSON.parse(r.postData())));
  const statistics = () =>
    second.waitForResponse(async (r) =>
      r.url().endsWith("/graphql") && !!(await r.json().catch(() => null))?.data?.programmeStatistics,
    );
  await second.goto(`${url}/dashboard`);
  await second.fill("#token", regionToken);
  await second.click("button[type=submit]");
  await second.waitForSelector("body[data-ready=true]");
  // The current year: Samarinda's few packages so far make small cells.
  const received = statistics();
  await second.selectOption("#year", String(year + 1));
  await second.waitForSelector("body[data-ready=true]");
  const own = (await (await received).json()).data.programmeStatistics;
  assert.ok(sent.length > 0 && sent.every((b) => b.documentId && !b.query), "documents go by id");
  const refusedText = await api(STATS, { y: year }, regionToken).then(() => null, (e) => e.message);
  assert.match(refusedText ?? "", /runs only registered documents/, "the client is a trusted-documents client");
  assert.equal(own.regencies.length, 1);
  assert.ok(own.minimumCell > 1);
  assert.deepEqual(await second.$$eval("svg[data-chart=recipients] g[data-label]", (gs) => gs.length), 1);
  assert.equal(await second.locator(".tile:not([disabled])").count(), 1, "only Samarinda's tile is live");
  assert.match(await second.textContent("#cell-note"), new RegExp(`<${own.minimumCell}`));
  const suppressed = own.total.businessesByStatus.filter((b) => b.count.suppressed).map((b) => b.status);
  const shown = await second.$$eval("svg[data-chart=businessesByStatus] g[data-label]", (gs) =>
    gs.map((g) => [g.getAttribute("data-value"), g.querySelector(".value").textContent]),
  );
  assert.equal(shown.filter(([v]) => v === "").length, suppressed.length);
  for (const [v, text] of shown.filter(([v]) => v === "")) assert.equal(text, `<${own.minimumCell}`, v);
  // Every suppressed count of the answer shows as <k somewhere, and there are some.
  const hidden = [];
  const walk = (x) => {
    if (x && typeof x === "object") {
      if (x.suppressed === true && "value" in x) hidden.push(x);
      Object.values(x).forEach(walk);
    }
  };
  walk(own);
  console.log(`bounded token: ${hidden.length} suppressed cells`);
  assert.ok(hidden.length > 0, "the demo data has small cells in Samarinda");
  const lessThan = await second.locator(`text=<${own.minimumCell}`).count();
  assert.ok(lessThan > 0, "suppressed cells are shown as such");
  await bounded.close();

  // A token the gateway refuses is told at sign-in.
  const refused = await browser.newContext();
  const third = await refused.newPage();
  await third.goto(`${url}/dashboard`);
  await third.fill("#token", "not-a-token");
  await third.click("button[type=submit]");
  await third.getByRole("alert").waitFor();
  assert.match(await third.textContent("[role=alert]"), /Token tidak diterima/);
  await refused.close();
} finally {
  await browser.close();
}
assert.deepEqual(problems, []);
console.log("dashboard: ok");
