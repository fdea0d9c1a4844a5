// The field app's service worker: keeps the app's shell (its page, scripts, styles, icons and
// manifest) on the device so that it opens with no network. The API is never cached here: the
// app keeps its own copy of the volunteer's cases and its outbox.
const PREFIX = "lapangan-";
const CACHE = `${PREFIX}v2`;
const PAGE = "/lapangan/";
const SHELL = ["/lapangan/manifest.webmanifest", "/lapangan/icon-192.png", "/lapangan/icon-512.png"];
/** Matching ignores `Vary`: the gateway answers `Vary: Origin` (its CORS layer), and a module
 * script or stylesheet request carries an `Origin` that the worker's own fetch did not. */
const ANY = { ignoreVary: true };
/** How long a page request may take before the kept page is shown instead. */
const PAGE_WAIT_MS = 3000;

const assetsOf = (html) => [...new Set([...html.matchAll(/\/ui\/assets\/[A-Za-z0-9._-]+/g)].map((m) => m[0]))];

/** A response that may be the app's page: the gateway's own HTML, not a redirect (a captive
 * portal) or an error. Whether it is the app is told by what it names (`keepPage`). */
const keepable = (response) =>
  response.ok &&
  !response.redirected &&
  response.type === "basic" &&
  (response.headers.get("content-type") ?? "").startsWith("text/html");

/** The assets of the page kept now. */
async function keptAssets(cache) {
  const page = await cache.match(PAGE, ANY);
  return page ? assetsOf(await page.text()) : [];
}

/** Keeps `response` as the page once every asset it names is kept. A page that names none of
 * the app's scripts (a portal's or proxy's page that got through) is not the app: refused.
 * Assets that neither this page nor the one before it names are dropped (the page before may
 * still be loading its own). */
async function keepPage(response) {
  const cache = await caches.open(CACHE);
  const assets = assetsOf(await response.clone().text());
  if (!assets.some((a) => a.endsWith(".js"))) throw new Error("not the app's page");
  for (const asset of assets) {
    if (!(await cache.match(asset, ANY))) await cache.add(asset); // Named by content hash: fetched once.
  }
  const before = await keptAssets(cache);
  await cache.put(PAGE, response);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/ui/assets/") && !assets.includes(path) && !before.includes(path)) {
      await cache.delete(request);
    }
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

/** The page: the network's when it answers in time with the app's page, kept with its assets
 * for next time (a new build); else the kept one. The network's answer is awaited past the
 * 3 s (`waitUntil`) so that a slow new build is still kept. */
function page(event) {
  const network = (async () => {
    const kept = await caches.match(PAGE, ANY);
    const response = await fetch(event.request);
    if (!keepable(response)) return kept ?? response;
    try {
      await keepPage(response.clone());
      return response;
    } catch {
      // Its assets could not be kept (or it is not the app): the kept page is the safe one.
      return kept ?? response;
    }
  })();
  event.waitUntil(network.catch(() => {}));
  return (async () => {
    const kept = await caches.match(PAGE, ANY);
    if (!kept) return network;
    const late = new Promise((resolve) => setTimeout(() => resolve(kept), PAGE_WAIT_MS));
    return Promise.race([network.catch(() => kept), late]);
  })();
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (event.request.mode === "navigate" && (url.pathname === PAGE || url.pathname === "/lapangan")) {
    event.respondWith(page(event));
  } else if (url.pathname.startsWith("/ui/assets/") || SHELL.includes(url.pathname)) {
    // Named by content hash (or small and rarely changed): the kept copy first.
    event.respondWith(caches.match(event.request, ANY).then((hit) => hit ?? fetch(event.request)));
  }
});
