// The field app's service worker: keeps the app's shell (its page, scripts, styles, icons and
// manifest) on the device so that it opens with no network. The API is never cached here: the
// app keeps its own copy of the volunteer's cases and its outbox.
const CACHE = "lapangan-v1";
const SHELL = ["/lapangan/", "/lapangan/manifest.webmanifest", "/lapangan/icon-192.png", "/lapangan/icon-512.png"];

/** The page and every /ui/assets/ file it names. */
async function fillCache() {
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL);
  const page = await (await cache.match("/lapangan/")).text();
  const assets = [...page.matchAll(/\/ui\/assets\/[A-Za-z0-9._-]+/g)].map((m) => m[0]);
  await cache.addAll([...new Set(assets)]);
}

self.addEventListener("install", (event) => {
  event.waitUntil(fillCache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/lapangan/" || url.pathname === "/lapangan") {
    // The page: the network's when it answers (a new build), else the kept one; a new page
    // brings its new assets into the cache.
    event.respondWith(
      fetch(event.request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put("/lapangan/", copy)).then(fillCache).catch(() => {});
          }
          return response;
        })
        .catch(() => caches.match("/lapangan/")),
    );
  } else if (url.pathname.startsWith("/ui/assets/") || SHELL.includes(url.pathname)) {
    // Named by content hash (or small and rarely changed): the kept copy first.
    event.respondWith(caches.match(event.request).then((hit) => hit ?? fetch(event.request)));
  }
});
