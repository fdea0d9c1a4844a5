// The field app in a real browser (Debian's chromium driven by playwright-core, a phone's
// screen) against a running gateway with demo data: a volunteer signs in, sees the assigned
// businesses with their owners, the app opens with the network cut (service worker), a visit
// recorded offline is sent once the network returns and appears once, and a visit whose id the
// gateway already holds with another content shows the conflict and is kept until resolved.
//
//   SINERGI_URL=… SINERGI_TOKEN=… SINERGI_FIELD_TOKEN=… SINERGI_VOLUNTEER=… node e2e/lapangan.mjs
//
// SINERGI_TOKEN: business:read monitoring:read events:subscribe over the province;
// SINERGI_FIELD_TOKEN: a RELAWAN token of volunteer SINERGI_VOLUNTEER (who has businesses).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { graphql, launch } from "./browser.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const url = process.env.SINERGI_URL ?? "http://127.0.0.1:8080";
const token = process.env.SINERGI_TOKEN;
const fieldToken = process.env.SINERGI_FIELD_TOKEN;
const volunteerId = process.env.SINERGI_VOLUNTEER;
const shots = resolve(process.env.SCREENSHOTS ?? join(here, "../../docs/screenshots"));
assert.ok(token && fieldToken && volunteerId, "SINERGI_TOKEN, SINERGI_FIELD_TOKEN and SINERGI_VOLUNTEER are required");
mkdirSync(shots, { recursive: true });

const api = (query, variables, bearer = token) => graphql(url, bearer, query, variables);

const CASES = `query($id: UUID!) { volunteer(id: $id) { name businesses { id name owner { fullName } } } }`;
const VISITS = `query($id: UUID!) { business(id: $id) { monitoringVisits(first: 100) { nodes { id notes revenueEstimate obstacles } } } }`;
const EVENTS = `query($id: UUID!) { caseEvents(filter: { entityId: $id }) { nodes { action } } }`;
const visits = async (business) => (await api(VISITS, { id: business })).business.monitoringVisits.nodes;

const browser = await launch();
const problems = [];
try {
  const context = await browser.newContext({
    viewport: { width: 412, height: 915 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    locale: "id-ID",
  });
  const page = await context.newPage();

  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // Requests made while the test cuts the network, and the refused token's 401s, fail in the
    // console too (the message can arrive after the network is back: not tied to the moment).
    const expected = m.text().includes("ERR_INTERNET_DISCONNECTED") || m.text().includes("401 (Unauthorized)");
    if (m.type() === "error" && !expected) {
      problems.push(`console: ${m.text()}`);
    }
  });

  // Sign in: the volunteer's businesses, with their owners' names (assigned: unmasked).
  const response = await page.goto(`${url}/lapangan`);
  assert.equal(new URL(response.url()).pathname, "/lapangan/", "/lapangan redirects into the app's scope");
  await page.fill("#token", fieldToken);
  await page.click("button[type=submit]");
  await page.waitForSelector("body[data-ready=true]");
  const expected = (await api(CASES, { id: volunteerId }, fieldToken)).volunteer;
  assert.ok(expected.businesses.length >= 2, "the volunteer has businesses to visit");
  assert.equal(await page.locator("li[data-business]").count(), expected.businesses.length);
  for (const b of expected.businesses) {
    assert.equal(await page.textContent(`li[data-business="${b.id}"] .owner`), b.owner.fullName);
  }
  assert.equal(await page.textContent(".who"), expected.name);
  const manifest = await page.evaluate(async () => (await fetch("/lapangan/manifest.webmanifest")).json());
  assert.equal(manifest.start_url, "/lapangan/");
  assert.ok(manifest.icons.some((i) => i.sizes === "512x512"), "installable: a 512px icon");

  // The service worker keeps the shell: with the network cut the app opens from the device.
  await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 15000 });
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), "the page is the worker's");
  // The browser's own HTTP cache is emptied first: only the worker's keeping counts.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.clearBrowserCache");
  await cdp.detach();
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector("li[data-business]");
  assert.equal(await page.locator("li[data-business]").count(), expected.businesses.length, "cases from the device");
  assert.match(await page.textContent("#network"), /Luring/);

  // A visit recorded offline waits in the outbox.
  const [first, second] = expected.businesses;
  const before = (await visits(first.id)).length;
  await page.click(`li[data-business="${first.id}"] button.record`);
  await page.fill("#visit-form input[name=revenue]", "1500000");
  await page.check('#visit-form input[name=obstacles][value="CAPITAL"]');
  await page.fill("#visit-form textarea[name=notes]", "Kunjungan luring uji");
  await page.click("#visit-form button[type=submit]");
  await page.waitForSelector('#outbox li[data-state="waiting"]');
  assert.match(await page.textContent("#waiting"), /Menunggu dikirim: 1/);

  // The network returns: it is sent once, and appears once with its case event.
  await context.setOffline(false);
  await page.waitForSelector("#outbox", { state: "detached" });
  let now = await visits(first.id);
  const mine = now.filter((v) => v.notes === "Kunjungan luring uji");
  assert.equal(mine.length, 1, "the visit appears once");
  assert.equal(now.length, before + 1);
  assert.deepEqual([mine[0].revenueEstimate, mine[0].obstacles], [1500000, ["CAPITAL"]]);
  const events = (await api(EVENTS, { id: mine[0].id })).caseEvents.nodes.map((e) => e.action);
  assert.deepEqual(events, ["CREATED"], "one case event");
  assert.match(await page.textContent(`li[data-business="${first.id}"] .last`), /Berjalan · Rp/);
  // Opening the app again sends nothing twice.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal((await visits(first.id)).length, before + 1);

  // A conflict: the gateway already holds a visit under the outbox entry's id, with another
  // content. The volunteer's input stays until they decide.
  await context.setOffline(true);
  await page.click(`li[data-business="${second.id}"] button.record`);
  await page.check('#visit-form input[name=observed][value="STALLED"]');
  await page.fill("#visit-form textarea[name=notes]", "Isian relawan di lapangan");
  await page.click("#visit-form button[type=submit]");
  await page.waitForSelector('#outbox li[data-state="waiting"]');
  const [pending] = await page.evaluate(() => JSON.parse(localStorage.getItem("sinergi.lapangan.outbox")));
  const other = await api(
    `mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { monitoringVisit { id } userErrors { code } } }`,
    { i: { id: pending.id, businessId: second.id, volunteerName: expected.name, visitedOn: pending.visitedOn, observedStatus: "RUNNING", notes: "Dicatat di kantor" } },
    fieldToken,
  );
  assert.equal(other.recordMonitoringVisit.monitoringVisit.id, pending.id);
  await context.setOffline(false);
  await page.waitForSelector('#outbox li[data-state="conflict"]');
  assert.match(await page.textContent("#outbox [role=alert]"), /Konflik/);
  assert.match(await page.textContent("#outbox"), /Isian relawan di lapangan/, "the input is kept");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shots, "lapangan.png") });
  await page.click("#outbox button.as-new");
  await page.waitForSelector("#outbox", { state: "detached" });
  now = await visits(second.id);
  assert.equal(now.filter((v) => v.notes === "Dicatat di kantor").length, 1);
  assert.equal(now.filter((v) => v.notes === "Isian relawan di lapangan").length, 1, "sent under a new id");

  // A token the gateway no longer accepts (expired, revoked): back to sign-in with the unsent
  // visit kept, and sent once the volunteer signs in again.
  await context.setOffline(true);
  await page.click(`li[data-business="${first.id}"] button.record`);
  await page.fill("#visit-form textarea[name=notes]", "Setelah token habis");
  await page.click("#visit-form button[type=submit]");
  await page.waitForSelector('#outbox li[data-state="waiting"]');
  await page.evaluate(() => localStorage.setItem("sinergi.token", "not-a-token"));
  await context.setOffline(false);
  await page.locator("#token").waitFor();
  assert.match(await page.textContent("#kept"), /1 kunjungan belum terkirim/);
  assert.equal(await page.evaluate(() => localStorage.getItem("sinergi.lapangan.cases")), "null", "the owners' details are gone");
  await page.fill("#token", fieldToken);
  await page.click("button[type=submit]");
  await page.waitForSelector("body[data-ready=true]");
  await page.waitForSelector("li[data-business]");
  await page.waitForSelector("#outbox", { state: "detached" });
  assert.equal((await visits(first.id)).filter((v) => v.notes === "Setelah token habis").length, 1);

  // Signing out with a visit unsent asks first; then nothing of the volunteer's is left.
  await context.setOffline(true);
  await page.click(`li[data-business="${first.id}"] button.record`);
  await page.fill("#visit-form textarea[name=notes]", "Dibuang saat keluar");
  await page.click("#visit-form button[type=submit]");
  await page.waitForSelector('#outbox li[data-state="waiting"]');
  page.once("dialog", (d) => d.dismiss());
  await page.click("#signout");
  assert.equal(await page.locator('#outbox li[data-state="waiting"]').count(), 1, "kept when the volunteer says no");
  page.once("dialog", (d) => d.accept());
  await page.click("#signout");
  await page.locator("#token").waitFor();
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  await context.setOffline(false);

  // A token that is not a volunteer's is told so.
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.getByRole("alert").waitFor();
  assert.match(await page.textContent("[role=alert]"), /bukan token relawan/);
  await context.close();
} finally {
  await browser.close();
}
assert.deepEqual(problems, []);
console.log("lapangan: ok");
