/// <reference types="vitest/config" />
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));
const LOCAL_DIR = process.env.VOICE_LOCAL_DIR ?? path.resolve(here, "../.local");

/**
 * `npm run dev` (Vite's dev server) answers GET /dev/harness.json like the local gateway does when it
 * serves frontend/dist: the running stack's URLs (.local/stack.json) and the seeded users' JWTs
 * (.local/dev-tokens.json). Dev only: the file never becomes part of a build.
 */
function devHarnessConfig(): Plugin {
  return {
    name: "voice-dev-harness-config",
    apply: "serve",
    configureServer(server) {
      server.middlewares.use("/dev/harness.json", (_req: IncomingMessage, res: ServerResponse) => {
        void (async () => {
          try {
            const stack = JSON.parse(await readFile(path.join(LOCAL_DIR, "stack.json"), "utf8")) as Record<string, unknown>;
            const tokens = JSON.parse(await readFile(path.join(LOCAL_DIR, "dev-tokens.json"), "utf8")) as Record<string, unknown>;
            const dailyApiUrl = typeof stack.dailyApiUrl === "string" ? stack.dailyApiUrl : "";
            const body = {
              restUrl: stack.restUrl,
              websocketUrl: stack.websocketUrl,
              dailyStandIn: dailyApiUrl.startsWith("http://127.0.0.1"),
              orgs: tokens.orgs,
              users: tokens.users,
            };
            res.setHeader("Content-Type", "application/json");
            res.setHeader("Cache-Control", "no-store");
            res.end(JSON.stringify(body));
          } catch {
            res.statusCode = 503;
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify({ error: `The local stack is not running (no ${LOCAL_DIR}/stack.json): run make dev` }));
          }
        })();
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), devHarnessConfig()],
  server: { host: "127.0.0.1", port: 5173, strictPort: false },
  preview: { host: "127.0.0.1" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./test/setup.ts"],
    include: ["**/*.test.{ts,tsx}"],
    exclude: ["node_modules/**", "dist/**", "e2e/**"],
    pool: "threads",
    maxWorkers: 2,
    // One jsdom per worker rather than per file (setting it up is most of a small suite's time); tests
    // clean up after themselves (test/setup.ts).
    isolate: false,
    testTimeout: 10_000,
    restoreMocks: true,
  },
});
