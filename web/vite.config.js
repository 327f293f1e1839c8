// The app is served by the API under /app/ (same origin: the session cookie, no CORS). The build
// writes into the API function's package, so `sam build` ships it with the function.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/app/",
  build: {
    outDir: "../functions/api/imgtasks_api/webapp",
    emptyOutDir: true,
    // One script and one stylesheet, named by their content: the same sources build the same bytes.
    assetsInlineLimit: 0,
    modulePreload: false,
    sourcemap: false,
  },
});
