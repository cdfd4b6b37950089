// Copies/bundles front-end packages from node_modules into src/viva/static/build/.
// Nothing third-party is committed; `make` runs this after `npm ci`.
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "viva", "static", "build");
const require = createRequire(import.meta.url);

function copy(pkgFile, dest) {
  const target = join(out, dest);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(here, "node_modules", pkgFile), target);
}

// API reference UI, served at /api/v1/docs from our own host (works offline).
copy("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js");
copy("swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css");
copy("swagger-ui-dist/LICENSE", "swagger-ui/LICENSE");

// The candidate room's code editor: CodeMirror 6 in one file.
await esbuild.build({
  entryPoints: [join(here, "editor.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outfile: join(out, "editor.js"),
  legalComments: "linked",
  logLevel: "warning",
});

// The esbuild binary itself transpiles candidates' TypeScript inside the sandbox
// (src/viva/sandbox/runtime.py); it is the same pinned version that built the editor.
const binary = require.resolve(`@esbuild/${process.platform}-${process.arch}/bin/esbuild`);
const sandboxBin = join(here, "..", "src", "viva", "sandbox", "_bin");
mkdirSync(sandboxBin, { recursive: true });
copyFileSync(binary, join(sandboxBin, "esbuild"));
chmodSync(join(sandboxBin, "esbuild"), 0o755);

// htmx for the dashboard's progressive enhancements (live weight sum, inline forms).
copy("htmx.org/dist/htmx.min.js", "htmx/htmx.min.js");
copy("htmx.org/LICENSE", "htmx/LICENSE");

writeFileSync(join(out, ".built"), new Date().toISOString() + "\n");
console.log("front-end assets written to", out);
