#!/usr/bin/env node
// Build step of the web UI (`npm run build:ui`, part of `npm run build`): copies the UI's own
// files (src/server/ui/) and the vendored browser libraries (uPlot for charts; cytoscape with
// the cytoscape-dagre layout for graphs, from node_modules) into dist/server/ui/, where
// `modelctl serve` reads them. Nothing is compiled: the pages are plain ES modules, so the
// package ships ready-to-serve files and no user ever runs a build. Separate from the
// TypeScript build on purpose, so whatever compiles src/ (tsc today, a bundler tomorrow)
// only has to run this one command after it.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'dist', 'server', 'ui');
const require = createRequire(join(root, 'package.json'));

/** Browser builds to vendor: [package, file in it, name served under /vendor/]. */
const VENDORED = [
  ['uplot', 'dist/uPlot.esm.js', 'uPlot.esm.js'],
  ['uplot', 'dist/uPlot.min.css', 'uPlot.min.css'],
  ['cytoscape', 'dist/cytoscape.esm.min.mjs', 'cytoscape.esm.min.mjs'],
  ['cytoscape-dagre', 'dist/cytoscape-dagre.min.mjs', 'cytoscape-dagre.min.mjs'],
];

/** The installed folder of a package (some do not export their package.json). */
function packageDir(pkg) {
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return join(root, 'node_modules', pkg);
  }
}

rmSync(out, { recursive: true, force: true });
cpSync(join(root, 'src', 'server', 'ui'), out, { recursive: true });
mkdirSync(join(out, 'vendor'), { recursive: true });
const licences = [];
for (const [pkg, file, name] of VENDORED) {
  const pkgDir = packageDir(pkg);
  const { version, license } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  // The source maps are not shipped: drop the comment that would make browsers ask for them.
  const text = readFileSync(join(pkgDir, file), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  writeFileSync(join(out, 'vendor', name), text);
  if (!licences.some((l) => l.pkg === pkg)) {
    licences.push({ pkg, version, license, text: readFileSync(join(pkgDir, 'LICENSE'), 'utf8') });
  }
}
writeFileSync(
  join(out, 'vendor', 'LICENSES.txt'),
  licences.map((l) => `${l.pkg} ${l.version} (${l.license})\n\n${l.text.trim()}\n`).join('\n\n----------------------------------------\n\n'),
);
console.log(`build:ui: ${out} (vendored ${licences.map((l) => `${l.pkg}@${l.version}`).join(', ')})`);
