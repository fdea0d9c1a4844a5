// The field app's service worker: keeps the app's shell (its page, scripts, styles, icons and
// manifest) on the device so that it opens with no network. The API is never cached here: the
// app keeps its own copy of the volunteer's cases and its outbox.
const PREFIX = "lapangan-";
const CACHE = `${PREFIX}v2`;
const PAGE = "/lapangan/";
const SHELL = ["/lapangan/manifest.webmanifest", "/lapangan/icon-192.png", "/lapangan/icon-512.png"];
/** How long a page request may take before the kept page is shown instead. */
const PAGE_WAIT_MS = 3000;

const assetsOf = (html) => [...new Set([...html.matchAll(/\/ui\/assets\/[A-Za-z0-9._-]+/g)].map((m) => m[0]))];

/** A page worth keeping: this gateway's own HTML, not a redirect (a captive portal) or an error. */
const keepable = (response) =>
  response.ok &&
  !response.redirected &&
  response.type === "basic" &&
  (response.headers.get("content-type") ?? "").startsWith("text/html");

/** Keeps `response` as the page once every asset it names is kept; drops assets no longer named. */
async function keepPage(response) {
  const cache = await caches.open(CACHE);
  const html = await response.clone().text();
  const assets = assetsOf(html);
  for (const asset of assets) {
    if (!(await cache.match(asset))) await cache.add(asset); // Named by content hash: fetched once.
  }
  await cache.put(PAGE, response);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/ui/assets/") && !assets.includes(path)) await cache.delete(request);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL);
      const page = await fetch(PAGE, { cache: "no-cache" });
      if (!keepable(page)) throw new Error("the app's page did not load");
      await keepPage(page);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

/** The page: the network's when it answers in time with a page worth keeping (a new build,
 * kept for next time), else the kept one. */
async function page(request) {
  const kept = await caches.match(PAGE);
  const network = fetch(request).then(async (response) => {
    if (keepable(response)) {
      await keepPage(response.clone()).catch(() => {});
      return response;
    }
    return kept ?? response;
  });
  if (!kept) return network;
  const late = new Promise((resolve) => setTimeout(() => resolve(kept), PAGE_WAIT_MS));
  return Promise.race([network.catch(() => kept), late]);
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (event.request.mode === "navigate" && (url.pathname === PAGE || url.pathname === "/lapangan")) {
    event.respondWith(page(event.request));
  } else if (url.pathname.startsWith("/ui/assets/") || SHELL.includes(url.pathname)) {
    // Named by content hash (or small and rarely changed): the kept copy first.
    event.respondWith(caches.match(event.request).then((hit) => hit ?? fetch(event.request)));
  }
});
