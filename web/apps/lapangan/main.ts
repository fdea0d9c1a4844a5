// Aplikasi lapangan: a volunteer's assigned businesses and their visits, usable offline. A
// visit is saved on the device first (the outbox) with an id made here, then sent; sending it
// again is harmless (the gateway returns the visit a create with that id made). A visit the
// gateway refuses stays in the outbox with the reason, and nothing the volunteer typed is lost.
import "./style.css";
import { request, RequestFailed, session } from "../shared/api";
import { h } from "../shared/dom";
import { businessStatus } from "../shared/words";
import { date, rupiah } from "../shared/format";
import {
  FieldCasesDocument,
  FieldMeDocument,
  FieldRecordVisitDocument,
  type FieldCasesQuery,
  type ObservedStatus,
  type Obstacle,
} from "../shared/gql/graphql";

// The field app keeps its token on the device: it must open with no network.
session.storage = localStorage;

type Volunteer = NonNullable<FieldCasesQuery["volunteer"]>;
type Case = NonNullable<Volunteer["businesses"]>[number];

/** A visit waiting to be sent, or refused. */
interface Pending {
  id: string;
  businessId: string;
  businessName: string;
  volunteerName: string;
  visitedOn: string;
  observedStatus: ObservedStatus;
  revenueEstimate: number | null;
  obstacles: Obstacle[];
  notes: string | null;
  followUpNeeded: boolean;
  /** Refused by the gateway: its code and message (kept until the volunteer decides). */
  refused?: { code: string; message: string };
}

const KEYS = { cases: "sinergi.lapangan.cases", outbox: "sinergi.lapangan.outbox", volunteer: "sinergi.lapangan.volunteer" };

const store = {
  get cases(): { volunteer: Volunteer; at: string } | null {
    return JSON.parse(localStorage.getItem(KEYS.cases) ?? "null");
  },
  set cases(v: { volunteer: Volunteer; at: string } | null) {
    localStorage.setItem(KEYS.cases, JSON.stringify(v));
  },
  get outbox(): Pending[] {
    return JSON.parse(localStorage.getItem(KEYS.outbox) ?? "[]");
  },
  set outbox(v: Pending[]) {
    localStorage.setItem(KEYS.outbox, JSON.stringify(v));
  },
  clear() {
    for (const key of Object.values(KEYS)) localStorage.removeItem(key);
  },
};

const W = {
  title: "Aplikasi Lapangan",
  token: "Token relawan",
  signIn: "Masuk",
  signOut: "Keluar",
  signInHelp:
    "Tempel token relawan yang diberikan koordinator Anda. Token dan daftar usaha disimpan di perangkat ini sampai Anda keluar, agar aplikasi bisa dipakai tanpa sinyal.",
  notVolunteer: "Token ini bukan token relawan (tidak menyebut relawan).",
  online: "Daring",
  offline: "Luring — kunjungan disimpan di perangkat",
  pending: (n: number) => `Menunggu dikirim: ${n}`,
  syncNow: "Kirim sekarang",
  updated: (at: string) => `Daftar diperbarui ${at}`,
  cases: "Usaha dampingan",
  noCases: "Belum ada usaha yang ditugaskan kepada Anda.",
  lastVisit: "Kunjungan terakhir",
  never: "Belum pernah dikunjungi",
  record: "Catat kunjungan",
  visitOf: (name: string) => `Kunjungan ke ${name}`,
  visitedOn: "Tanggal kunjungan",
  observed: "Keadaan usaha",
  revenue: "Perkiraan omzet per bulan (Rp)",
  obstacles: "Kendala",
  notes: "Catatan",
  followUp: "Perlu tindak lanjut",
  save: "Simpan",
  cancel: "Batal",
  saved: "Kunjungan disimpan di perangkat dan akan dikirim.",
  allSent: "Semua kunjungan sudah terkirim.",
  outbox: "Kotak keluar",
  conflict: "Konflik",
  refused: "Ditolak",
  conflictHelp:
    "Kunjungan dengan nomor ini sudah tercatat di server dengan isi lain. Isian Anda tetap tersimpan: kirim sebagai kunjungan baru, atau buang.",
  asNew: "Kirim sebagai kunjungan baru",
  discard: "Buang",
  retry: "Coba lagi",
  waiting: "Menunggu",
  unauthenticated: "Token tidak diterima lagi: masuk dengan token baru. Kunjungan yang belum terkirim tetap tersimpan.",
  storageFull: "Penyimpanan perangkat penuh: kunjungan tidak bisa disimpan. Kosongkan ruang, lalu coba lagi.",
  otherVolunteer:
    "Ada kunjungan relawan lain yang belum terkirim di perangkat ini: masuk dengan token relawan itu, atau buang kunjungannya dulu.",
  keptVisits: (n: number) => `${n} kunjungan belum terkirim tersimpan di perangkat.`,
  discardAll: (n: number) => `Buang ${n} kunjungan yang belum terkirim? Kunjungan itu tidak bisa dikembalikan.`,
  signOutPending: (n: number) =>
    `${n} kunjungan belum terkirim. Jika keluar, kunjungan itu dibuang. Tetap keluar?`,
  revenueTooLarge: "Omzet terlalu besar: periksa angkanya.",
  status: { RUNNING: "Berjalan", STALLED: "Macet", CLOSED: "Tutup" } as Record<string, string>,
  businessStatus,
  obstacle: {
    CAPITAL: "Modal",
    MARKETING: "Pemasaran",
    SUPPLY: "Bahan baku",
    SKILLS: "Keterampilan",
    HEALTH: "Kesehatan",
    PERMITS: "Perizinan",
    INFRASTRUCTURE: "Infrastruktur",
    OTHER: "Lainnya",
  } as Record<string, string>,
};

// ---------------------------------------------------------------------------------------------


/** Today on the phone's clock, as a date (not UTC: a visit at 07:00 WITA is today's). */
const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};
const app = () => document.getElementById("app")!;
let notice = "";

/** Writes to the device's storage, or says it is full (nothing else is lost). */
function kept(write: () => void): boolean {
  try {
    write();
    return true;
  } catch {
    notice = W.storageFull;
    return false;
  }
}

/** The token's expiry (JWT `exp`, Unix seconds), when it can be read. */
function expiry(token: string): number | null {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof claims.exp === "number" ? claims.exp : null;
  } catch {
    return null;
  }
}

/** The token is no longer good (expired, revoked): it goes, and the owners' details with it;
 * the outbox stays for the next sign-in of the same volunteer. */
function tokenGone() {
  generation++;
  session.signOut();
  kept(() => (store.cases = null));
  notice = W.unauthenticated;
}

// ---------------------------------------------------------------------------------------------
// Sending the outbox.

/** Bumped at every sign-in and sign-out: a round of sending started under an earlier session
 * stops, and never sends under a later one. */
let generation = 0;
let round: Promise<void> | null = null;
let again = false;

/** Whether a request failure is the network's or the gateway's passing trouble (try later):
 * no answer, a timeout (408), too many requests (429), a server error or `UNAVAILABLE`,
 * `RATE_LIMITED`, `INTERNAL`. */
function passing(err: unknown): boolean {
  if (!(err instanceof RequestFailed)) return true;
  return (
    [0, 408, 429].includes(err.status) ||
    err.status >= 500 ||
    ["UNAVAILABLE", "RATE_LIMITED", "INTERNAL"].includes(err.code)
  );
}

/** Sends the waiting visits in order, until none waits. An unreachable gateway ends the round
 * and keeps everything; a visit the gateway refuses is marked with the reason and the round
 * goes on. Asked while a round runs, the round goes once more over the outbox; the caller gets
 * the running round. */
function sync(): Promise<void> {
  if (round) {
    again = true;
    return round;
  }
  if (!session.token) return Promise.resolve();
  round = send(generation).finally(() => {
    round = null;
    if (again && session.token) {
      again = false;
      void sync();
    }
    if (store.outbox.length === 0 && notice === W.saved) notice = W.allSent;
    render();
  });
  return round;
}

async function send(mine: number): Promise<void> {
  do {
    again = false;
    for (const { id } of store.outbox) {
      // As the outbox is now: a visit discarded, resolved or refused meanwhile is not sent.
      const visit = store.outbox.find((v) => v.id === id && !v.refused);
      if (!visit) continue;
      if (generation !== mine) return;
      const { refused: _, businessName: __, ...input } = visit;
      let outcome: "sent" | { code: string; message: string };
      try {
        const { data } = await request(FieldRecordVisitDocument, { input });
        const payload = data.recordMonitoringVisit;
        outcome = payload.monitoringVisit
          ? "sent"
          : { code: payload.userErrors[0]?.code ?? "VALIDATION", message: payload.userErrors[0]?.message ?? "" };
      } catch (err) {
        if (generation !== mine) return;
        if (err instanceof RequestFailed && err.code === "UNAUTHENTICATED") {
          tokenGone();
          return;
        }
        if (passing(err)) return; // Everything stays for the next try.
        const failed = err as RequestFailed;
        outcome = { code: failed.code, message: failed.message };
      }
      if (generation !== mine) return;
      // The outbox may have changed while the request was out: edit it as it is now.
      const refused = outcome === "sent" ? undefined : outcome;
      const written = kept(() => {
        store.outbox = refused
          ? store.outbox.map((v) => (v.id === visit.id ? { ...v, refused } : v))
          : store.outbox.filter((v) => v.id !== visit.id);
      });
      if (!written) return;
      if (refused && notice === W.saved) notice = "";
      if (!refused) markVisited(visit);
    }
  } while (again);
}

/** Shows a sent visit as the business's last one until the list is next fetched. */
function markVisited(visit: Pending) {
  const cached = store.cases;
  const business = cached?.volunteer.businesses?.find((b) => b.id === visit.businessId);
  if (!cached || !business) return;
  const last = business.monitoringVisits?.nodes[0];
  if (!last || last.visitedOn <= visit.visitedOn) {
    business.monitoringVisits = {
      nodes: [{ id: visit.id, visitedOn: visit.visitedOn, observedStatus: visit.observedStatus, revenueEstimate: visit.revenueEstimate }],
    };
    kept(() => (store.cases = cached));
  }
}

/** Fetches the volunteer's cases when the gateway can be reached; the device's copy otherwise. */
async function refresh(volunteerId: string) {
  if (!session.token) return;
  const mine = generation;
  try {
    const { data } = await request(FieldCasesDocument, { volunteer: volunteerId });
    if (generation !== mine) return; // Signed out (or in again) meanwhile.
    if (data.volunteer) kept(() => (store.cases = { volunteer: data.volunteer!, at: new Date().toISOString() }));
  } catch (err) {
    if (err instanceof RequestFailed && err.code === "UNAUTHENTICATED" && generation === mine) tokenGone();
  }
}

// ---------------------------------------------------------------------------------------------
// Screens.

function signIn(message?: string) {
  delete document.body.dataset.ready;
  // The form may be drawn again while the volunteer pastes (a round ends, the network returns):
  // what is typed stays.
  const typed = (document.getElementById("token") as HTMLTextAreaElement | null)?.value ?? "";
  const field = h("textarea", { id: "token", rows: "4", required: true, autocomplete: "off", spellcheck: "false" });
  (field as HTMLTextAreaElement).value = typed;
  const waiting = store.outbox;
  const discard = () => {
    if (confirm(W.discardAll(waiting.length))) {
      generation++;
      store.clear();
      notice = "";
      signIn();
    }
  };
  app().replaceChildren(
    h(
      "form",
      {
        class: "card",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          // The token becomes the session's only once the gateway says whose it is: nothing is
          // sent under it before.
          const candidate = (field as HTMLTextAreaElement).value;
          (field as HTMLTextAreaElement).value = "";
          try {
            const { data } = await request(FieldMeDocument, {}, candidate);
            const volunteer = data.me.volunteerId;
            if (!volunteer) return signIn(W.notVolunteer);
            const before = localStorage.getItem(KEYS.volunteer);
            if (before && before !== volunteer && store.outbox.length > 0) {
              // The outbox is another volunteer's: never send it under this token.
              return signIn(W.otherVolunteer);
            }
            const stored = kept(() => {
              if (before !== volunteer) store.cases = null;
              localStorage.setItem(KEYS.volunteer, volunteer);
              session.signIn(candidate);
            });
            if (!stored) return signIn(notice);
            generation++;
            notice = "";
            await start();
          } catch (err) {
            signIn(err instanceof RequestFailed ? err.message : String(err));
          }
        },
      },
      h("h1", {}, W.title),
      h("p", {}, W.signInHelp),
      message ? h("p", { class: "error", role: "alert" }, message) : null,
      waiting.length > 0
        ? h(
            "p",
            { class: "notice", id: "kept" },
            W.keptVisits(waiting.length),
            " ",
            h("button", { type: "button", class: "link", id: "discard-all", onclick: discard }, W.discard),
          )
        : null,
      h("label", { for: "token" }, W.token),
      field,
      h("button", { type: "submit" }, W.signIn),
    ),
  );
}

function lastVisit(b: Case): string {
  const v = b.monitoringVisits?.nodes[0];
  if (!v) return W.never;
  const revenue = v.revenueEstimate == null ? "" : ` · ${rupiah("id", v.revenueEstimate)}`;
  return `${date("id", v.visitedOn)} · ${W.status[v.observedStatus] ?? v.observedStatus}${revenue}`;
}

function visitForm(b: Case, volunteerName: string, draft?: Pending) {
  const dialog = document.getElementById("visit")!;
  const radio = (value: ObservedStatus) =>
    h(
      "label",
      { class: "choice" },
      h("input", { type: "radio", name: "observed", value, required: true, checked: (draft?.observedStatus ?? "RUNNING") === value }),
      ` ${W.status[value]}`,
    );
  const form = h(
    "form",
    {
      class: "card",
      id: "visit-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const data = new FormData(e.target as HTMLFormElement);
        const revenue = String(data.get("revenue") ?? "").replace(/\D/g, "");
        if (revenue && Number(revenue) > Number.MAX_SAFE_INTEGER) {
          const field = (e.target as HTMLFormElement).elements.namedItem("revenue") as HTMLInputElement;
          field.setCustomValidity(W.revenueTooLarge);
          field.reportValidity();
          field.addEventListener("input", () => field.setCustomValidity(""), { once: true });
          return;
        }
        const visit: Pending = {
          id: crypto.randomUUID(),
          businessId: b.id,
          businessName: b.name,
          volunteerName,
          visitedOn: String(data.get("visitedOn")),
          observedStatus: String(data.get("observed")) as ObservedStatus,
          revenueEstimate: revenue ? Number(revenue) : null,
          obstacles: data.getAll("obstacles").map(String) as Obstacle[],
          notes: String(data.get("notes") ?? "").trim() || null,
          followUpNeeded: data.get("followUp") === "on",
        };
        if (!kept(() => (store.outbox = [...store.outbox, visit]))) return render();
        notice = W.saved;
        dialog.replaceChildren();
        render();
        void sync();
      },
    },
    h("h2", {}, W.visitOf(b.name)),
    h("label", {}, W.visitedOn, h("input", { type: "date", name: "visitedOn", required: true, max: today(), value: draft?.visitedOn ?? today() })),
    h("fieldset", {}, h("legend", {}, W.observed), radio("RUNNING"), radio("STALLED"), radio("CLOSED")),
    h(
      "label",
      {},
      W.revenue,
      h("input", { type: "text", inputmode: "numeric", name: "revenue", pattern: "[0-9.]*", maxlength: "20", value: draft?.revenueEstimate == null ? "" : String(draft.revenueEstimate) }),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, W.obstacles),
      Object.entries(W.obstacle).map(([value, text]) =>
        h("label", { class: "choice" }, h("input", { type: "checkbox", name: "obstacles", value, checked: !!draft?.obstacles.includes(value as Obstacle) }), ` ${text}`),
      ),
    ),
    h("label", {}, W.notes, h("textarea", { name: "notes", rows: "3", maxlength: "2000" }, draft?.notes ?? "")),
    h("label", { class: "choice" }, h("input", { type: "checkbox", name: "followUp", checked: !!draft?.followUpNeeded }), ` ${W.followUp}`),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, W.save),
      h("button", { type: "button", class: "secondary", onclick: () => dialog.replaceChildren() }, W.cancel),
    ),
  );
  dialog.replaceChildren(form);
  form.scrollIntoView({ block: "start" });
}

/** The visit's id is taken on the gateway by a visit with another content: `CONFLICT` when this
 * client made it, `DUPLICATE` when another did. Either way a new id resolves it. */
function taken(refusal: { code: string }): boolean {
  return refusal.code === "CONFLICT" || refusal.code === "DUPLICATE";
}

function outboxView(): HTMLElement | null {
  const outbox = store.outbox;
  if (outbox.length === 0) return null;
  const resolve = (visit: Pending, how: "new" | "discard" | "retry") => {
    kept(() => {
      store.outbox = store.outbox.flatMap((v) => {
        if (v.id !== visit.id) return [v];
        if (how === "discard") return [];
        // A new id for "new"; the same one to try again.
        return [{ ...v, id: how === "new" ? crypto.randomUUID() : v.id, refused: undefined }];
      });
    });
    render();
    void sync();
  };
  return h(
    "section",
    { id: "outbox", class: "card" },
    h("h2", {}, W.outbox),
    h(
      "ul",
      {},
      outbox.map((v) =>
        h(
          "li",
          { "data-visit": v.id, "data-state": v.refused ? (taken(v.refused) ? "conflict" : "refused") : "waiting" },
          h("strong", {}, v.businessName),
          ` · ${date("id", v.visitedOn)} · ${W.status[v.observedStatus]}`,
          v.notes ? h("div", { class: "notes" }, v.notes) : null,
          v.refused
            ? h(
                "div",
                { class: "refusal", role: "alert" },
                h("strong", {}, taken(v.refused) ? W.conflict : `${W.refused} (${v.refused.code})`),
                h("p", {}, taken(v.refused) ? W.conflictHelp : v.refused.message),
                h(
                  "div",
                  { class: "actions" },
                  taken(v.refused)
                    ? h("button", { type: "button", class: "as-new", onclick: () => resolve(v, "new") }, W.asNew)
                    : h("button", { type: "button", class: "retry", onclick: () => resolve(v, "retry") }, W.retry),
                  h("button", { type: "button", class: "secondary discard", onclick: () => resolve(v, "discard") }, W.discard),
                ),
              )
            : h("span", { class: "pill" }, ` ${W.waiting}`),
        ),
      ),
    ),
  );
}

function render() {
  expireToken();
  const cached = store.cases;
  if (!session.token) return signIn(notice || undefined);
  const volunteer = cached?.volunteer;
  const waiting = store.outbox.filter((v) => !v.refused).length;
  const businesses = [...(volunteer?.businesses ?? [])].sort((a, b) =>
    (a.monitoringVisits?.nodes[0]?.visitedOn ?? "").localeCompare(b.monitoringVisits?.nodes[0]?.visitedOn ?? ""),
  );
  const dialog = document.getElementById("visit");
  app().replaceChildren(
    h(
      "header",
      {},
      h("div", {}, h("h1", {}, W.title), h("p", { class: "who" }, volunteer?.name ?? "")),
      h("button", { type: "button", class: "secondary", id: "signout", onclick: signOut }, W.signOut),
    ),
    h(
      "p",
      { id: "network", class: navigator.onLine ? "online" : "offline" },
      navigator.onLine ? W.online : W.offline,
      waiting ? h("span", { id: "waiting" }, ` · ${W.pending(waiting)} `) : null,
      waiting && navigator.onLine ? h("button", { type: "button", class: "link", onclick: () => void sync() }, W.syncNow) : null,
    ),
    notice ? h("p", { class: "notice", role: "status" }, notice) : "",
    outboxView() ?? "",
    dialog ?? h("div", { id: "visit" }),
    h(
      "section",
      { id: "cases" },
      h("h2", {}, W.cases),
      cached ? h("p", { class: "note" }, W.updated(new Date(cached.at).toLocaleString("id-ID"))) : null,
      businesses.length === 0
        ? h("p", {}, W.noCases)
        : h(
            "ul",
            { class: "cases" },
            businesses.map((b) =>
              h(
                "li",
                { class: "card", "data-business": b.id },
                h("h3", {}, b.name, " ", h("span", { class: "pill" }, W.businessStatus[b.status] ?? b.status)),
                b.owner ? h("p", { class: "owner" }, b.owner.fullName) : null,
                b.owner?.address ? h("p", {}, b.owner.address) : null,
                b.owner?.phone ? h("p", {}, h("a", { href: `tel:${b.owner.phone}` }, b.owner.phone)) : null,
                h("p", { class: "last" }, `${W.lastVisit}: ${lastVisit(b)}`),
                h("button", { type: "button", class: "record", onclick: () => visitForm(b, volunteer!.name) }, W.record),
              ),
            ),
          ),
    ),
  );
}

/** Keluar: the token, the cases and the outbox leave the device — unsent visits only when the
 * volunteer confirms. */
function signOut() {
  const waiting = store.outbox.length;
  if (waiting > 0 && !confirm(W.signOutPending(waiting))) return;
  generation++;
  session.signOut();
  store.clear();
  notice = "";
  render();
}

/** Drops the token once its `exp` has passed (checked at start, on every drawing and when its
 * time comes while the app is open). */
function expireToken(): void {
  const token = session.token;
  const exp = token ? expiry(token) : null;
  if (exp != null && exp * 1000 <= Date.now()) tokenGone();
}
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

async function start() {
  document.documentElement.lang = "id";
  delete document.body.dataset.ready;
  expireToken();
  if (!session.token) return signIn(notice || undefined);
  clearTimeout(expiryTimer);
  const exp = expiry(session.token);
  if (exp != null) {
    // (setTimeout holds at most ~24.8 days; a RELAWAN token lives 7.)
    expiryTimer = setTimeout(() => {
      expireToken();
      render();
    }, Math.min(exp * 1000 - Date.now() + 1000, 2 ** 31 - 1));
  }
  const volunteerId = localStorage.getItem(KEYS.volunteer);
  if (!volunteerId) {
    session.signOut();
    return signIn();
  }
  render();
  await refresh(volunteerId);
  await sync();
  render();
  document.body.dataset.ready = "true";
}

window.addEventListener("online", () => {
  render();
  const volunteerId = localStorage.getItem(KEYS.volunteer);
  void sync()
    .then(() => (volunteerId ? refresh(volunteerId) : undefined))
    .then(render);
});
window.addEventListener("offline", render);
// A visit that waits is tried again while the app is open and whenever it comes back to view.
setInterval(() => navigator.onLine && store.outbox.some((v) => !v.refused) && void sync(), 60_000);
document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && void sync());
// Ask the browser not to evict the outbox under storage pressure (best effort).
void navigator.storage?.persist?.().catch(() => false);

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/lapangan/sw.js", { scope: "/lapangan/" }).catch(() => {
    // Without a worker the app still works while the page is open.
  });
}

start();
