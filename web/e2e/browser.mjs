// Headless Chromium for the browser tests: Debian's package (`apt-get install chromium`), since
// Playwright's own browser download cannot reach the internet here. CHROMIUM names another one.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

// A browser test that hangs fails instead: the whole script has two minutes.
setTimeout(() => {
  console.error("the browser test did not finish within 120 s");
  process.exit(1);
}, 120_000).unref();

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A GraphQL request straight to the gateway, as the tests' reference for what the pages show. */
export async function graphql(url, token, query, variables) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  assert.ok(!body.errors, JSON.stringify(body.errors));
  return body.data;
}
