// Dasbor program: the programme's figures per regency/city for DINSOS leadership and BAPPEDA,
// from `programmeStatistics` with the signed-in token (its regions, its masking, small cells
// suppressed as the API returns them). No framework: DOM built here, charts as SVG.
import "./style.css";
import { request, RequestFailed, session } from "../shared/api";
import { h } from "../shared/dom";
import { csv, download, number, percent, rupiah, rupiahShort, type Lang } from "../shared/format";
import {
  DashboardBusinessesDocument,
  DashboardMeDocument,
  DashboardStatisticsDocument,
  type AreaFragment,
  type BusinessStatus,
  type DashboardBusinessesQuery,
} from "../shared/gql/graphql";
import { words, label, type Words } from "./words";

type Count = { value?: number | null; suppressed: boolean };
type Area = AreaFragment;

const savedLang = localStorage.getItem("sinergi.lang");
const state = {
  lang: (savedLang === "en" ? "en" : "id") as Lang,
  // The last full programme year; the current one is a choice away.
  year: new Date().getFullYear() - 1,
  regency: "" as string,
  figure: "recipients" as Figure,
  names: new Map<string, string>(),
  minimumCell: 1,
  areas: [] as Area[],
  total: null as Area | null,
  /** The year and region the figures in hand are for (the controls may have moved on). */
  shown: "",
};

const choice = () => `${state.year}/${state.regency}`;

let w: Words = words[state.lang];

// ---------------------------------------------------------------------------------------------
// SVG for the charts (text as text, like `h`).

const SVG = "http://www.w3.org/2000/svg";
function s(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text != null) el.textContent = text;
  return el;
}

// ---------------------------------------------------------------------------------------------
// Formatting of the API's cells.

function count(c: Count | null | undefined): string {
  if (!c) return "–";
  if (c.suppressed) return `<${state.minimumCell}`;
  return number(state.lang, c.value ?? 0);
}

function amount(c: Count | null | undefined): string {
  if (!c) return "–";
  if (c.suppressed) return w.hidden;
  return rupiah(state.lang, c.value ?? 0);
}

function share(x: number | null | undefined): string {
  return x == null ? "–" : percent(state.lang, x);
}

function days(x: number | null | undefined): string {
  return x == null ? "–" : number(state.lang, x, 1);
}

function name(code: string | null | undefined, fallback: string): string {
  return (code && state.names.get(code)) || fallback;
}

/** A regency's name without "Kabupaten", for charts and tiles ("Kota" stays: it tells). */
function short(code: string | null | undefined, fallback: string): string {
  return name(code, fallback).replace(/^Kabupaten /, "");
}

// ---------------------------------------------------------------------------------------------
// Tables, each with its CSV export.

interface Table {
  id: string;
  title: string;
  header: string[];
  rows: { cells: (string | number)[]; raw: (string | number | null)[]; drill?: Drill }[];
}

function table(t: Table): HTMLElement {
  const exportCsv = () =>
    download(`sinergi-${t.id}-${state.year}.csv`, csv(t.header, t.rows.map((r) => r.raw)));
  return h(
    "div",
    { class: "table", "data-table": t.id },
    h(
      "div",
      { class: "table-head" },
      h("h3", {}, t.title),
      h("button", { type: "button", class: "link", onclick: exportCsv, "data-csv": t.id }, w.exportCsv),
    ),
    t.rows.length === 0
      ? h("p", { class: "empty" }, w.none)
      : h(
          "table",
          {},
          h("thead", {}, h("tr", {}, t.header.map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            {},
            t.rows.map((r) =>
              h(
                "tr",
                r.drill ? { class: "drill", tabindex: "0", onclick: () => drill(r.drill!), title: w.drillHint } : {},
                r.cells.map((c, i) => h(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : {}, c)),
              ),
            ),
          ),
        ),
  );
}

const raw = (c: Count | null | undefined) => (c && !c.suppressed ? (c.value ?? 0) : null);

// ---------------------------------------------------------------------------------------------
// Charts.

interface Bar {
  label: string;
  value: number | null;
  text: string;
  drill?: Drill;
}

/** Horizontal bars; a suppressed value draws no bar and says so. */
function bars(id: string, items: Bar[], baseline?: { at: number; label: string }): SVGElement {
  const row = 26;
  const width = 640;
  const left = 170;
  const right = 130;
  const max = Math.max(1, ...items.map((b) => b.value ?? 0), baseline?.at ?? 0);
  const height = items.length * row + (baseline ? 22 : 6);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-chart": id, class: "chart" });
  items.forEach((b, i) => {
    const y = i * row + 4;
    const g = s("g", { "data-label": b.label, "data-value": b.value == null ? "" : b.value });
    g.append(s("text", { x: left - 8, y: y + 15, "text-anchor": "end", class: "label" }, b.label));
    const length = b.value == null ? 0 : ((width - left - right) * b.value) / max;
    g.append(s("rect", { x: left, y, width: Math.max(length, b.value ? 2 : 0), height: row - 8, rx: 3, class: "bar" }));
    g.append(s("text", { x: left + length + 6, y: y + 15, class: "value" }, b.text));
    if (b.drill) {
      g.setAttribute("class", "drill");
      g.setAttribute("tabindex", "0");
      g.addEventListener("click", () => drill(b.drill!));
    }
    svg.append(g);
  });
  if (baseline) {
    const x = left + ((width - left - right) * baseline.at) / max;
    svg.append(s("line", { x1: x, x2: x, y1: 0, y2: height - 18, class: "baseline" }));
    svg.append(s("text", { x, y: height - 4, "text-anchor": "middle", class: "baseline-label" }, baseline.label));
  }
  return svg;
}

// ---------------------------------------------------------------------------------------------
// The map: Kaltim's ten regencies/cities as tiles placed roughly where they lie.

const TILES: Record<string, [number, number]> = {
  "6403": [3, 1], // Berau
  "6411": [1, 2], // Mahakam Ulu
  "6408": [3, 2], // Kutai Timur
  "6407": [1, 3], // Kutai Barat
  "6402": [2, 3], // Kutai Kartanegara
  "6472": [3, 3], // Samarinda
  "6474": [4, 3], // Bontang
  "6409": [2, 4], // Penajam Paser Utara
  "6471": [3, 4], // Balikpapan
  "6401": [2, 5], // Paser
};

type Figure = "recipients" | "packageValue" | "equipped" | "graduated" | "graduationRate" | "survival12";

function figureOf(a: Area, f: Figure): { value: number | null; text: string } {
  switch (f) {
    case "recipients":
      return { value: raw(a.recipients), text: count(a.recipients) };
    case "packageValue":
      return {
        value: raw(a.packageValue),
        text: a.packageValue.suppressed ? w.hidden : rupiahShort(state.lang, a.packageValue.value ?? 0),
      };
    case "equipped":
      return { value: raw(a.equipped), text: count(a.equipped) };
    case "graduated":
      return { value: raw(a.graduated), text: count(a.graduated) };
    case "graduationRate":
      return { value: a.graduationRate ?? null, text: share(a.graduationRate) };
    case "survival12": {
      const m = a.survival.find((x) => x.months === 12);
      return { value: m?.share ?? null, text: share(m?.share) };
    }
  }
}

function map(): HTMLElement {
  // Four shades from the smallest figure shown to the largest.
  const values = state.areas.map((a) => figureOf(a, state.figure).value).filter((v): v is number => v != null);
  const [min, max] = [Math.min(...values), Math.max(...values)];
  const byCode = new Map(state.areas.map((a) => [a.regencyCode ?? "", a]));
  const tiles = Object.entries(TILES).map(([code, [col, rowAt]]) => {
    const a = byCode.get(code);
    const f = a ? figureOf(a, state.figure) : null;
    const level =
      f?.value == null || max <= 0 ? 0 : max === min ? 4 : 1 + Math.min(3, Math.floor(((f.value - min) / (max - min)) * 4));
    const tile = h(
      "button",
      {
        type: "button",
        class: `tile level-${a ? level : "none"}`,
        "data-regency": code,
        "data-value": f?.value == null ? "" : String(f.value),
        disabled: !a,
        title: a ? w.drillHint : w.outsideRegions,
        onclick: () => drill({ regency: code }),
      },
      h("span", { class: "tile-name" }, short(code, code)),
      h("span", { class: "tile-value" }, f ? f.text : "–"),
    );
    // Through the CSSOM: the page's policy allows no inline style attribute.
    tile.style.gridColumn = String(col);
    tile.style.gridRow = String(rowAt);
    return tile;
  });
  const choose = h(
    "select",
    {
      id: "figure",
      "aria-label": w.mapFigure,
      onchange: (e: Event) => {
        state.figure = (e.target as HTMLSelectElement).value as Figure;
        render();
      },
    },
    (Object.keys(w.figures) as Figure[]).map((f) =>
      h("option", { value: f, selected: f === state.figure }, w.figures[f]),
    ),
  );
  return h(
    "section",
    { id: "peta", class: "card" },
    h("div", { class: "table-head" }, h("h2", {}, w.map), h("label", {}, `${w.mapFigure} `, choose)),
    h("div", { class: "tiles" }, tiles),
    h("p", { class: "note" }, w.mapNote),
  );
}

// ---------------------------------------------------------------------------------------------
// Drill-down: the (masked, region-bounded) businesses behind a figure.

interface Drill {
  regency?: string;
  status?: BusinessStatus;
}

/** Which list and which figures were asked for last: an older answer arriving later is dropped. */
let drills = 0;
let loads = 0;

async function drill(d: Drill, after?: string | null, shown: DashboardBusinessesQuery["businesses"]["nodes"] = []) {
  const box = document.getElementById("daftar")!;
  box.replaceChildren(h("h2", {}, w.list), h("p", {}, w.loading));
  box.scrollIntoView({ behavior: "smooth", block: "start" });
  try {
    const asked = ++drills;
    const { data } = await request(DashboardBusinessesDocument, {
      year: state.year,
      regencyCodes: d.regency ? [d.regency] : state.regency ? [state.regency] : null,
      statuses: d.status ? [d.status] : null,
      after: after ?? null,
    });
    if (asked !== drills) return; // A newer list was asked for meanwhile.
    const page = data.businesses;
    const nodes = [...shown, ...page.nodes];
    const title = [
      `${w.list} ${state.year}`,
      d.regency ? name(d.regency, d.regency) : w.allRegions,
      d.status ? label(w.status, d.status) : null,
    ]
      .filter(Boolean)
      .join(" · ");
    const t = table({
      id: "daftar-usaha",
      title: `${title} (${number(state.lang, nodes.length)} / ${number(state.lang, page.totalCount ?? nodes.length)})`,
      header: w.listHeader,
      rows: nodes.map((b) => ({
        cells: [
          b.name,
          label(w.sector, b.sector),
          label(w.status, b.status),
          `L${b.level}`,
          name(b.regencyCode, b.regencyCode),
          b.monthlyRevenue == null ? "–" : rupiah(state.lang, b.monthlyRevenue),
        ],
        raw: [b.name, b.sector, b.status, b.level, b.regencyCode, b.monthlyRevenue ?? null],
      })),
    });
    box.replaceChildren(
      h("h2", {}, w.list),
      t,
      page.pageInfo.hasNextPage
        ? h("button", { type: "button", onclick: () => drill(d, page.pageInfo.endCursor, nodes) }, w.more)
        : "",
    );
  } catch (err) {
    box.replaceChildren(h("h2", {}, w.list), problem(err));
  }
}

// ---------------------------------------------------------------------------------------------
// The page.

function problem(err: unknown): HTMLElement {
  const message =
    err instanceof RequestFailed
      ? (w.errors[err.code as keyof Words["errors"]] ?? err.message)
      : w.errors.UNAVAILABLE;
  return h("p", { class: "error", role: "alert" }, message);
}

function summary(t: Area): HTMLElement {
  const s12 = t.survival.find((x) => x.months === 12);
  const card = (id: string, title: string, value: string, note?: string, full?: string) =>
    h(
      "div",
      { class: "stat", "data-stat": id },
      h("span", { class: "stat-title" }, title),
      h("strong", full ? { title: full } : {}, value),
      note ? h("span", { class: "stat-note" }, note) : null,
    );
  const value = t.packageValue;
  const compact = value.suppressed ? w.hidden : rupiahShort(state.lang, value.value ?? 0);
  return h(
    "section",
    { id: "ringkasan", class: "stats" },
    card("recipients", w.recipients, count(t.recipients)),
    card("packageValue", w.packageValue, compact, undefined, amount(value)),
    card("equipped", w.equipped, count(t.equipped)),
    card("graduated", w.graduated, count(t.graduated), `${w.graduationRate}: ${share(t.graduationRate)}`),
    card("survival12", w.survival12, share(s12?.share), `${w.baseline}: ${percent(state.lang, s12?.baseline ?? 0.46)}`),
    card("relapsed", w.relapsed, count(t.relapsed)),
  );
}

function sections(): HTMLElement[] {
  const areas = state.areas;
  const t = state.total!;
  const perRegency = (f: (a: Area) => Count, fmt: (c: Count) => string = count): Bar[] =>
    areas.map((a) => ({ label: short(a.regencyCode, a.name), value: raw(f(a)), text: fmt(f(a)), drill: { regency: a.regencyCode ?? undefined } }));

  const packages = h(
    "section",
    { id: "paket", class: "card" },
    h("h2", {}, w.packages),
    h("h3", {}, w.recipients),
    bars("recipients", perRegency((a) => a.recipients)),
    h("h3", {}, w.packageValue),
    bars("packageValue", perRegency((a) => a.packageValue, amount)),
    table({
      id: "paket",
      title: w.packagesTable,
      header: [w.regency, w.recipients, w.disbursed, w.packageValue],
      rows: [...areas, t].map((a) => ({
        cells: [name(a.regencyCode, w.total), count(a.recipients), count(a.packagesDisbursed), amount(a.packageValue)],
        raw: [a.regencyCode ?? w.total, raw(a.recipients), raw(a.packagesDisbursed), raw(a.packageValue)],
        drill: a.regencyCode ? { regency: a.regencyCode } : undefined,
      })),
    }),
  );

  const statuses = t.businessesByStatus.map((b) => b.status);
  const businesses = h(
    "section",
    { id: "usaha", class: "card" },
    h("h2", {}, w.businesses),
    bars(
      "businessesByStatus",
      t.businessesByStatus.map((b) => ({
        label: label(w.status, b.status),
        value: raw(b.count),
        text: count(b.count),
        drill: { status: b.status },
      })),
    ),
    table({
      id: "usaha-status",
      title: w.businessesTable,
      header: [w.regency, ...statuses.map((st) => label(w.status, st))],
      rows: [...areas, t].map((a) => ({
        cells: [name(a.regencyCode, w.total), ...statuses.map((st) => count(a.businessesByStatus.find((b) => b.status === st)?.count))],
        raw: [a.regencyCode ?? w.total, ...statuses.map((st) => raw(a.businessesByStatus.find((b) => b.status === st)?.count))],
        drill: a.regencyCode ? { regency: a.regencyCode } : undefined,
      })),
    }),
  );

  // The ladder as a funnel: businesses at each level or above.
  const levels = [...t.businessesByLevel].sort((a, b) => a.level - b.level);
  const atOrAbove = levels.map((l, i) => {
    const rest = levels.slice(i);
    const hidden = rest.some((x) => x.count.suppressed);
    return { level: l.level, value: hidden ? null : rest.reduce((n, x) => n + (x.count.value ?? 0), 0), hidden };
  });
  const ladder = h(
    "section",
    { id: "tangga", class: "card" },
    h("h2", {}, w.ladder),
    h("p", { class: "note" }, w.ladderNote),
    bars(
      "ladder",
      atOrAbove.map((l) => ({
        label: l.level === 0 ? w.wholeCohort : `${w.level} ${l.level}+`,
        value: l.value,
        text: l.hidden ? w.hidden : number(state.lang, l.value ?? 0),
      })),
    ),
    table({
      id: "tangga",
      title: w.ladderTable,
      header: [w.level, w.businessesCount],
      rows: levels.map((l) => ({ cells: [`L${l.level}`, count(l.count)], raw: [l.level, raw(l.count)] })),
    }),
  );

  const marks = t.survival;
  const survival = h(
    "section",
    { id: "ketahanan", class: "card" },
    h("h2", {}, w.survival),
    h("p", { class: "note" }, w.survivalNote),
    bars(
      "survival",
      marks.map((m) => ({ label: `${m.months} ${w.months}`, value: m.share ?? null, text: share(m.share) })),
      { at: marks[0]?.baseline ?? 0.46, label: `KUBE ${percent(state.lang, marks[0]?.baseline ?? 0.46)}` },
    ),
    table({
      id: "ketahanan",
      title: w.survivalTable,
      header: [w.regency, ...marks.map((m) => `${m.months} ${w.months}`)],
      rows: [...areas, t].map((a) => ({
        cells: [name(a.regencyCode, w.total), ...a.survival.map((m) => `${share(m.share)} (${count(m.running)}/${count(m.reached)})`)],
        raw: [a.regencyCode ?? w.total, ...a.survival.map((m) => m.share ?? null)],
      })),
    }),
  );

  const handovers = h(
    "section",
    { id: "rujukan", class: "card" },
    h("h2", {}, w.handovers),
    bars(
      "handovers",
      t.handovers.map((x) => ({
        label: x.toAgency,
        value: raw(x.made),
        text: `${count(x.made)} · ${w.medianToComplete} ${days(x.medianDaysToComplete)} · ${w.overdueWord} ${share(x.overdueShare)}`,
      })),
    ),
    table({
      id: "rujukan",
      title: w.handoversTable,
      header: w.handoverHeader,
      rows: t.handovers.map((x) => ({
        cells: [x.toAgency, count(x.made), count(x.accepted), count(x.completed), days(x.medianDaysToAccept), days(x.medianDaysToComplete), count(x.overdue), share(x.overdueShare)],
        raw: [x.toAgency, raw(x.made), raw(x.accepted), raw(x.completed), x.medianDaysToAccept ?? null, x.medianDaysToComplete ?? null, raw(x.overdue), x.overdueShare ?? null],
      })),
    }),
    table({
      id: "rujukan-status",
      title: w.referralsTable,
      header: [w.agency, w.statusWord, w.count],
      rows: t.referrals.map((x) => ({
        cells: [x.toAgency, label(w.referralStatus, x.status), count(x.count)],
        raw: [x.toAgency, x.status, raw(x.count)],
      })),
    }),
  );

  // One bar per kind: all its statuses added up (no bar when one of them is suppressed).
  const byKind = (id: string, kinds: Record<string, string>, list: { kind: string; count: Count }[]) => {
    const seen = [...new Set(list.map((x) => x.kind))];
    return bars(
      id,
      seen.map((k) => {
        const cells = list.filter((x) => x.kind === k).map((x) => x.count);
        const value = cells.some((c) => c.suppressed) ? null : cells.reduce((n, c) => n + (c.value ?? 0), 0);
        return { label: label(kinds, k), value, text: value == null ? w.hidden : number(state.lang, value) };
      }),
    );
  };

  // Kinds down, statuses across (only those that occur).
  const pairs = (id: string, title: string, kinds: Record<string, string>, statusWords: Record<string, string>, list: { kind: string; status: string; count: Count }[]) => {
    const kindsSeen = [...new Set(list.map((x) => x.kind))];
    const statusesSeen = [...new Set(list.map((x) => x.status))];
    const cell = (k: string, st: string) => list.find((x) => x.kind === k && x.status === st)?.count;
    return table({
      id,
      title,
      header: [w.kind, ...statusesSeen.map((st) => label(statusWords, st))],
      rows: kindsSeen.map((k) => ({
        cells: [label(kinds, k), ...statusesSeen.map((st) => { const c = cell(k, st); return c ? count(c) : "0"; })],
        raw: [k, ...statusesSeen.map((st) => { const c = cell(k, st); return c ? raw(c) : 0; })],
      })),
    });
  };

  const other = h(
    "section",
    { id: "lainnya", class: "card" },
    h("h2", {}, w.otherWork),
    h("h3", {}, w.infrastructure),
    byKind("infrastructure", w.infrastructureKind, t.infrastructureRequests),
    pairs("infrastruktur", w.infrastructure, w.infrastructureKind, w.requestStatus, t.infrastructureRequests),
    h("h3", {}, w.marketServices),
    byKind("marketServices", w.marketKind, t.marketServices),
    pairs("layanan-pasar", w.marketServices, w.marketKind, w.serviceStatus, t.marketServices),
    h("h3", {}, `${w.loans}: ${w.requested}`),
    bars(
      "loans",
      t.loans.map((x) => ({ label: label(w.loanStatus, x.status), value: raw(x.requested), text: `${amount(x.requested)} (${count(x.count)})` })),
    ),
    table({
      id: "pinjaman",
      title: w.loans,
      header: [w.statusWord, w.count, w.requested, w.approved],
      rows: t.loans.map((x) => ({
        cells: [label(w.loanStatus, x.status), count(x.count), amount(x.requested), amount(x.approved)],
        raw: [x.status, raw(x.count), raw(x.requested), raw(x.approved)],
      })),
    }),
  );

  return [summary(t), map(), packages, businesses, ladder, survival, handovers, other, h("section", { id: "daftar", class: "card" })];
}

function controls(regions: string[]): HTMLElement {
  const thisYear = new Date().getFullYear();
  const years = Array.from({ length: 6 }, (_, i) => thisYear - i);
  const regencies = [...state.names.entries()].filter(([code]) => code.length === 4 && (regions.includes("64") || regions.includes(code)));
  return h(
    "form",
    { class: "controls", onsubmit: (e: Event) => e.preventDefault() },
    h(
      "label",
      {},
      `${w.year} `,
      h(
        "select",
        { id: "year", onchange: (e: Event) => { state.year = Number((e.target as HTMLSelectElement).value); load(); } },
        years.map((y) => h("option", { value: String(y), selected: y === state.year }, y)),
      ),
    ),
    h(
      "label",
      {},
      `${w.region} `,
      h(
        "select",
        { id: "regency", onchange: (e: Event) => { state.regency = (e.target as HTMLSelectElement).value; load(); } },
        h("option", { value: "" }, w.allRegions),
        regencies.map(([code, n]) => h("option", { value: code, selected: code === state.regency }, n)),
      ),
    ),
    h(
      "button",
      {
        type: "button",
        id: "lang",
        onclick: () => {
          state.lang = state.lang === "id" ? "en" : "id";
          localStorage.setItem("sinergi.lang", state.lang);
          w = words[state.lang];
          // The figures in hand, in the other language: no request, so it works offline too.
          shell();
        },
      },
      w.otherLanguage,
    ),
    h("button", { type: "button", id: "signout", onclick: signOut }, w.signOut),
  );
}

let regionsOfToken: string[] = [];
/** The signed-in token's agency and client, for the header. */
let who = "";

/** Keluar: the token and everything shown with it are forgotten. */
function signOut() {
  session.signOut();
  Object.assign(state, { regency: "", year: new Date().getFullYear() - 1, figure: "recipients", areas: [], total: null, minimumCell: 1, shown: "" });
  who = "";
  start();
}

/** The header and the figures in hand, in the current language. */
function shell() {
  document.documentElement.lang = state.lang;
  document.title = w.title;
  document.getElementById("app")!.replaceChildren(
    h("header", {}, h("div", {}, h("h1", {}, w.title), h("p", { class: "who" }, who)), controls(regionsOfToken)),
    h("main", { id: "content" }),
  );
  if (state.total && state.shown === choice()) {
    render();
    document.body.dataset.ready = "true";
  } else {
    void load();
  }
}

function render() {
  const main = document.getElementById("content")!;
  main.replaceChildren(
    h("p", { class: "note", id: "cell-note" }, state.minimumCell > 1 ? w.suppressedNote(state.minimumCell) : w.nothingSuppressed),
    ...sections(),
  );
}

async function load() {
  delete document.body.dataset.ready;
  const main = document.getElementById("content")!;
  main.replaceChildren(h("p", {}, w.loading));
  const asked = ++loads;
  try {
    const { data } = await request(DashboardStatisticsDocument, {
      year: state.year,
      regencyCodes: state.regency ? [state.regency] : null,
    });
    if (asked !== loads) return; // A newer year or region was chosen meanwhile.
    const stats = data.programmeStatistics;
    state.minimumCell = stats.minimumCell;
    state.areas = stats.regencies;
    state.total = stats.total;
    state.shown = choice();
    render();
    document.body.dataset.ready = "true";
  } catch (err) {
    if (err instanceof RequestFailed && err.code === "UNAUTHENTICATED") {
      session.signOut();
      return start(w.errors.UNAUTHENTICATED);
    }
    main.replaceChildren(problem(err));
  }
}

function signIn(message?: string) {
  const app = document.getElementById("app")!;
  const field = h("textarea", { id: "token", rows: "4", required: true, autocomplete: "off", spellcheck: "false", placeholder: "eyJ…" });
  app.replaceChildren(
    h(
      "form",
      {
        class: "signin card",
        onsubmit: (e: Event) => {
          e.preventDefault();
          session.signIn((field as HTMLTextAreaElement).value);
          start();
        },
      },
      h("h1", {}, w.title),
      h("p", {}, w.signInHelp),
      message ? h("p", { class: "error", role: "alert" }, message) : null,
      h("label", { for: "token" }, w.token),
      field,
      h("button", { type: "submit" }, w.signIn),
      h("p", { class: "note" }, w.sessionOnly),
    ),
  );
}

async function start(message?: string) {
  document.documentElement.lang = state.lang;
  document.title = w.title;
  delete document.body.dataset.ready;
  if (!session.token) return signIn(message);
  const app = document.getElementById("app")!;
  app.replaceChildren(h("p", {}, w.loading));
  try {
    const { data } = await request(DashboardMeDocument, {});
    state.names = new Map(data.regions.map((r) => [r.code, r.name]));
    regionsOfToken = data.me.regions;
    if (!data.me.scopes.includes("stats:read")) {
      session.signOut();
      return signIn(w.needsStats);
    }
    who = `${data.me.agency} / ${data.me.client}`;
    // A region chosen under an earlier token that this one does not cover is dropped.
    if (state.regency && !regionsOfToken.includes("64") && !regionsOfToken.includes(state.regency)) state.regency = "";
    state.total = null;
    shell();
  } catch (err) {
    if (err instanceof RequestFailed && err.code === "UNAUTHENTICATED") {
      session.signOut();
      return signIn(`${w.errors.UNAUTHENTICATED} (${err.message})`);
    }
    app.replaceChildren(problem(err));
  }
}

start();
