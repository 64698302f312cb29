import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The web app is served by Dropdesk's own server from web/dist; `vite dev` proxies the API to it.
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: { "/api": "http://localhost:3000", "/portal/api": "http://localhost:3000" } },
});
