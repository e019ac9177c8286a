// Vite build of the web UI: static files in dist/ that `sbridge server`
// serves (http.ui_dir) under a strict CSP — no inline script or style is
// emitted (modulePreload polyfill off: it would be an inline script).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8080" } },
});
