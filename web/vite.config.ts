// The front ends the gateway serves (docs/frontend.md): built into ../api/assets/ui and
// embedded in the binary; their pages load /ui/assets/… and call /graphql on the same origin.
import { defineConfig } from "vite";

export default defineConfig({
  root: "apps",
  base: "/ui/",
  build: {
    outDir: "../../api/assets/ui",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: { dashboard: "apps/dashboard/index.html", lapangan: "apps/lapangan/index.html" },
    },
  },
});
