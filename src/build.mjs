#!/usr/bin/env node
// `npm run build`: bundles src/ into dist/ with esbuild, then emits the .d.ts files of the
// Node API with tsc. Why a bundle and how it is laid out: docs/design.md §1 (Build).
//
//   node src/build.mjs            clean build of dist/
//   node src/build.mjs --analyze  also prints what each output file holds
//
// Nothing here lists modules by hand: esbuild follows imports from the entry points, the
// command files are found by program.ts's `import(`./commands/${name}.ts`)` (a glob esbuild
// expands), every `*-worker.ts` is an entry point of its own (worker threads start from a
// file path), and every file under src/ that is not TypeScript is copied to dist/ at the same
// relative path (web UI assets and the like).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeMetafile, build } from 'esbuild';
import { lazyModule, rechunk } from './build-hot-chunk.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
/** esbuild's output, before src/build-hot-chunk.mjs re-chunks it into dist/ (same depth as dist/, so source paths in maps stay right). */
const STAGE = join(ROOT, '.tmp-esbuild-dist');

/**
 * Packages left out of the bundle and loaded from node_modules at run time: packages that
 * read their own files by path, and UMD builds that require their own files at run time
 * (jsonc-parser's main; @cyclonedx reads its JSON schemas from beside its code).
 * better-sqlite3's JavaScript is bundled; its native addon (a .node binary cannot be) is
 * opened by path from node_modules (store/index-db.ts).
 */
const EXTERNAL = ['jsonc-parser', '@cyclonedx/cyclonedx-library'];

/** Source files that are not part of the program: build scripts (this one, server/build-ui.mjs). */
const isBuildScript = (rel) => /(^|\/)build(-[a-z]+)?\.mjs$/.test(rel);

function filesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out.sort();
}

const isTypeScript = (p) => p.endsWith('.ts') || p.endsWith('.mts');
const sources = filesUnder(SRC).filter((p) => !isBuildScript(relative(SRC, p)));
const entryPoints = [join(SRC, 'cli', 'main.ts'), join(SRC, 'index.ts'), ...sources.filter((p) => p.endsWith('-worker.ts'))];

// The sources' id: lets the built CLI remember verdicts of this exact code (see
// workspace/settings-verdicts.ts) and tells builds apart in bug reports.
const sourceHash = createHash('sha256');
for (const p of sources) sourceHash.update(relative(SRC, p)).update('\0').update(readFileSync(p)).update('\0');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const buildFacts = { version: pkg.version, sourceId: sourceHash.digest('hex') };

/**
 * `await import('a-commonjs-package')` gives the package's named exports in Node, but a
 * split esbuild bundle gives only `default` there (esbuild cannot know run-time export
 * names: evanw/esbuild#3245). This plugin puts a small ESM module between such an import
 * and the package that names its exports (read by loading the package here, at build time),
 * so bundled code sees what Node would give it. ESM packages pass through untouched.
 */
const commonJsDynamicImports = {
  name: 'commonjs-dynamic-imports',
  setup(b) {
    const builtin = new Set(builtinModules);
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      // Only modelctl's own imports: packages' code was written for bundlers already.
      if (args.kind !== 'dynamic-import' || !args.importer.startsWith(SRC) || args.path.startsWith('node:') || builtin.has(args.path)) return undefined;
      if (EXTERNAL.some((e) => args.path === e || args.path.startsWith(`${e}/`))) return undefined;
      return { path: args.path, namespace: 'cjs-exports', pluginData: { resolveDir: args.resolveDir } };
    });
    b.onLoad({ filter: /.*/, namespace: 'cjs-exports' }, async (args) => {
      const { resolveDir } = args.pluginData;
      const spec = JSON.stringify(args.path);
      const resolved = await b.resolve(args.path, { kind: 'import-statement', resolveDir });
      if (resolved.errors.length) return { errors: resolved.errors };
      if (isEsmFile(resolved.path)) return { contents: `export * from ${spec};`, resolveDir };
      const exported = createRequire(join(resolveDir, 'x.js'))(args.path);
      const names = Object.keys(exported).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
      return { contents: `import m from ${spec};\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`, resolveDir };
    });
  },
};

/**
 * Node built-ins that bundled packages require at load time although they rarely use them
 * (commander requires child_process for executable subcommands, which modelctl has none
 * of). Each becomes an object that loads the real module on first use: loading
 * child_process pulls in net, dgram and streams, milliseconds on every command otherwise.
 * (modelctl's own imports of built-ins are made lazy after bundling: build-hot-chunk.mjs.)
 */
const LAZY_PACKAGE_REQUIRES = ['child_process'];

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_PACKAGE_REQUIRES.join('|')})$`);
    b.onResolve({ filter }, (args) => {
      if (args.kind !== 'require-call' || args.namespace === 'lazy-builtin' || !args.importer.includes('/node_modules/')) return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `module.exports = ${lazyModule(`require(${JSON.stringify(`node:${args.path}`)})`)};\n`,
      loader: 'js',
    }));
  },
};

/**
 * @noble/hashes (core/manifest-id.ts) imports its `crypto` helper for random bytes only,
 * which modelctl never asks it for; both of its variants load Node's crypto when the
 * package loads (node:crypto, or the globalThis.crypto getter, which loads WebCrypto). In
 * the bundle the helper is `undefined`, so hashing a manifest in JavaScript does not load
 * the module it exists to avoid (a call of noble's randomBytes would throw, loudly).
 */
const nobleWithoutNodeCrypto = {
  name: 'noble-without-node-crypto',
  setup(b) {
    b.onResolve({ filter: /^@noble\/hashes\/crypto$/ }, (args) => ({ path: args.path, namespace: 'noble-crypto' }));
    b.onLoad({ filter: /.*/, namespace: 'noble-crypto' }, () => ({ contents: 'export const crypto = undefined;\n', loader: 'js' }));
  },
};

/**
 * A package's optional dependencies that are not installed (@cyclonedx/cyclonedx-library
 * tries xmlbuilder2 and libxmljs2 and lives without them) stay run-time requires: they fail
 * there exactly as they would unbundled, and the package handles that.
 */
const missingOptionalPackages = {
  name: 'missing-optional-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.probing || !args.importer.includes('/node_modules/') || args.path.startsWith('node:')) return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { probing: true } });
      return found.errors.length ? { path: args.path, external: true } : undefined;
    });
  },
};

/**
 * Node's rule (.mjs is ESM, .cjs is CommonJS, else the nearest package.json's "type"), and
 * files that esbuild picked through a "module" field, which are ESM whatever "type" says.
 */
function isEsmFile(file) {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).type === 'module') return true;
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name) break;
  }
  return /^\s*(export|import)\s[^(]/m.test(readFileSync(file, 'utf8'));
}

/** Defines `require` (with `require.resolve`) in an ES module, created on its first call. */
const REQUIRE_BANNER = [
  "import { createRequire as __modelctlCreateRequire } from 'node:module';",
  'let __modelctlRequire;',
  'const __modelctlRequireHere = () => (__modelctlRequire ??= __modelctlCreateRequire(import.meta.url));',
  'const require = Object.assign((id) => __modelctlRequireHere()(id), { resolve: (id, options) => __modelctlRequireHere().resolve(id, options) });',
].join(' ');

const started = Date.now();
rmSync(DIST, { recursive: true, force: true });

// Declarations of the Node API, and the type check of everything, by tsc (tsconfig.json
// has emitDeclarationOnly), in a process of its own while esbuild and rollup run: on two
// cores that takes its ~8 s off the build. Incremental, into a cache that survives the clean
// dist/ above (node_modules/.cache, which npm ci empties): an unchanged tree re-checks in
// ~3 s. The .d.ts files are copied into dist/ at the end.
const TSC_CACHE = join(ROOT, 'node_modules', '.cache', 'modelctl-tsc');
const TSC_OUT = join(TSC_CACHE, 'out');
const tscDone = new Promise((resolveStatus) => {
  const args = [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json'), '--incremental', '--tsBuildInfoFile', join(TSC_CACHE, 'tsbuildinfo'), '--outDir', TSC_OUT];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  child.on('error', (err) => {
    process.stderr.write(`build: tsc did not start: ${err.message}\n`);
    resolveStatus(1);
  });
  child.on('exit', (code, signal) => resolveStatus(signal ? 1 : code));
});
rmSync(STAGE, { recursive: true, force: true });

const result = await build({
  absWorkingDir: ROOT,
  entryPoints,
  outbase: SRC,
  outdir: STAGE,
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  // One file per dynamic import() boundary: what a command does not import is never read.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  sourcemap: 'linked',
  // Bundled CommonJS packages call require(); ESM has none, so each output file makes one,
  // on first use: most files never call it, and createRequire costs ~15 µs each (~70 files
  // load together).
  banner: { js: REQUIRE_BANNER },
  define: { __MODELCTL_BUILD__: JSON.stringify(buildFacts) },
  plugins: [commonJsDynamicImports, lazyBuiltins, nobleWithoutNodeCrypto, missingOptionalPackages],
  metafile: true,
  logLevel: 'warning',
});
if (result.errors.length) process.exit(1);

// One file for what the hot commands load (src/build-hot-chunk.mjs says why).
const entries = Object.values(result.metafile.outputs)
  .filter((o) => o.entryPoint && entryPoints.some((e) => relative(ROOT, e) === o.entryPoint))
  .map((o) => relative(SRC, join(ROOT, o.entryPoint)).replace(/\.ts$/, ''));
const chunked = await rechunk({ root: ROOT, stageDir: STAGE, outDir: DIST, entries, metafile: result.metafile });
rmSync(STAGE, { recursive: true, force: true });

// Assets: everything under src/ that is not TypeScript, same relative path under dist/.
let assets = 0;
for (const p of sources.filter((f) => !isTypeScript(f))) {
  const dest = join(DIST, relative(SRC, p));
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(p, dest);
  assets++;
}

const tscStatus = await tscDone;
if (tscStatus !== 0) process.exit(tscStatus ?? 1);
// Only the declarations of today's sources: the cache keeps those of deleted files.
let declarations = 0;
for (const p of sources.filter((f) => isTypeScript(f))) {
  const rel = relative(SRC, p).replace(/\.m?ts$/, (ext) => (ext === '.mts' ? '.d.mts' : '.d.ts'));
  const from = join(TSC_OUT, rel);
  if (!existsSync(from)) continue;
  const dest = join(DIST, rel);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(from, dest);
  declarations++;
}
if (!existsSync(join(DIST, 'index.d.ts'))) {
  process.stderr.write('build: tsc wrote no index.d.ts\n');
  process.exit(1);
}

const outputs = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
process.stderr.write(
  `built dist/: ${entryPoints.length} entry points, ${outputs.length} esbuild files re-chunked into ${chunked.files} (${chunked.hotFiles} into ${chunked.hot.join(', ')}), ${assets} assets, ${declarations} declarations (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
);
if (process.argv.includes('--analyze')) process.stderr.write(await analyzeMetafile(result.metafile));
if (process.argv.includes('--metafile')) writeFileSync(join(ROOT, '.tmp-build-meta.json'), JSON.stringify(result.metafile));
