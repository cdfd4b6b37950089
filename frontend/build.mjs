// Copies/bundles front-end packages from node_modules into src/viva/static/build/.
// Nothing third-party is committed; `make` runs this after `npm ci`.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "viva", "static", "build");

function copy(pkgFile, dest) {
  const target = join(out, dest);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(here, "node_modules", pkgFile), target);
}

// API reference UI, served at /api/v1/docs from our own host (works offline).
copy("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js");
copy("swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css");
copy("swagger-ui-dist/LICENSE", "swagger-ui/LICENSE");

// htmx for the dashboard's progressive enhancements (live weight sum, inline forms).
copy("htmx.org/dist/htmx.min.js", "htmx/htmx.min.js");
copy("htmx.org/LICENSE", "htmx/LICENSE");

writeFileSync(join(out, ".built"), new Date().toISOString() + "\n");
console.log("front-end assets written to", out);
