// Second step of `npm run build` (src/build.mjs): re-chunks esbuild's split output with
// rollup so that what every read command loads is one file (docs/design.md §1, Build).
//
// Why: esbuild cuts a chunk for every distinct set of entry points that reaches a module.
// With ~100 dynamic imports (each command, each api verb, each heavy package) that makes
// ~300 chunks, and `modelctl status` read 50 of them; Node's ES module loader spends
// ~0.4 ms resolving, reading and linking each, a third of the command's time beyond `node`.
// esbuild cannot be told how to chunk; rollup can (`manualChunks`). So esbuild still does
// the work it is good at (TypeScript, CommonJS packages, the command-file glob) and rollup
// then treats each esbuild output file as one module and puts the files the hot commands
// load into `chunks/hot-*.js` (and what only one of them uses, when big, into
// `chunks/hot-<command>-*.js`). Everything else keeps esbuild's split: a command that is
// not hot loads the hot chunk (it needs most of it: commander, the index, the repository)
// and its own chunks, and heavy packages stay behind their dynamic imports.
//
// The hot set is computed, never listed: the static closure, in esbuild's metafile, of the
// output files of HOT_COMMANDS (each one's command file and api verb, and cli/run.ts).
import { readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { transform } from 'esbuild';
import { rollup } from 'rollup';

/**
 * The hot commands: the read commands run most, measured against `node -e 0` (README,
 * Performance). Each one's outputs (command file, api verb, and run.ts, which every command
 * goes through), with everything they import statically, go into the hot chunk.
 */
const HOT_COMMANDS = ['log', 'ls', 'show', 'status'];
const hotEntries = (command) => ['src/cli/run.ts', `src/cli/commands/${command}.ts`, `src/api/${command}.ts`];

/**
 * What only one hot command uses goes into a chunk of its own (`hot-status`) when it is at
 * least this big: V8 compiles ~2.3 ms per 100 KB a command loads, and a file costs ~0.4 ms
 * in the loader, so `log` should not parse what only `status` runs (29 KB now), while a few
 * KB are cheaper parsed than opened.
 */
const OWN_CHUNK_MIN_BYTES = 16 * 1024;

/**
 * The manual chunk of each hot file (absolute path → 'hot' or 'hot-<command>'), from each
 * hot command's static closure in esbuild's metafile, less the files in `early`.
 */
function hotChunks(metafile, root, early) {
  const users = new Map();
  for (const command of HOT_COMMANDS) {
    for (const f of staticClosure(metafile, root, hotEntries(command))) if (!early.has(f)) users.set(f, [...(users.get(f) ?? []), command]);
  }
  const bytesOf = (f) => metafile.outputs[relative(root, f)].bytes;
  const ownBytes = new Map();
  for (const [f, u] of users) if (u.length === 1) ownBytes.set(u[0], (ownBytes.get(u[0]) ?? 0) + bytesOf(f));
  const chunk = new Map();
  for (const [f, u] of users) chunk.set(f, u.length === 1 && ownBytes.get(u[0]) >= OWN_CHUNK_MIN_BYTES ? `hot-${u[0]}` : 'hot');
  return chunk;
}

/**
 * Node built-ins are loaded with require(), not `import`: an ES import of a built-in builds
 * its ES module facade, which reads every export once, and reading `fs.ReadStream` loads
 * the stream modules (node:fs costs 1.4 ms by import, 0.1 ms by require; path, os, url,
 * util, events and timers/promises ~0.2 ms more each). Each built-in becomes a virtual
 * module whose default export is the required module, with rollup's
 * syntheticNamedExports, so `createHash` in the code reads `crypto.createHash` when used,
 * as CommonJS would. node:module itself (createRequire) stays an import.
 */
const BUILTINS = new Set(builtinModules.filter((m) => m !== 'module' && !m.startsWith('_')));
/**
 * Built-ins that cost milliseconds to load and that most commands never call: loaded on
 * the first use of one of their exports (a Proxy stands for the module until then).
 * node:crypto alone is 4.5 ms, streams included, in a command that hashes nothing.
 */
// (build.mjs has a list of its own for the require() calls of bundled packages.)
const LAZY_BUILTINS = new Set(['crypto', 'worker_threads', 'fs/promises', 'child_process', 'zlib', 'http', 'https', 'net', 'tls', 'readline', 'dns', 'http2', 'stream/promises', 'util/types']);

// Only modules that are plain objects can be stood for by a Proxy of an object: node:stream
// is the Stream function itself (called, extended, the right side of instanceof).
for (const name of LAZY_BUILTINS) if (typeof createRequire(import.meta.url)(`node:${name}`) !== 'object') throw new Error(`build: node:${name} is not an object; it cannot be a lazy built-in`);
const builtinName = (id) => (id.startsWith('node:') ? id.slice(5) : id);
const isRequiredBuiltin = (id) => BUILTINS.has(builtinName(id));
const VIRTUAL = '\0builtin:';

/**
 * JavaScript for an object that stands for the module `loadExpression` gives, evaluating it
 * on the first access. Descriptors are reported configurable: the Proxy's own target holds
 * none of them, and a Proxy may not report a missing property as non-configurable.
 */
export function lazyModule(loadExpression) {
  return `(() => {
  let real;
  const load = () => (real ??= ${loadExpression});
  return new Proxy({}, {
    get: (_, k) => load()[k],
    has: (_, k) => k in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, k) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), k);
      return d && { ...d, configurable: true };
    },
  });
})()`;
}

const builtinsThroughRequire = {
  name: 'builtins-through-require',
  // `await import('node:crypto')` stays what it is: rollup would build the module's
  // namespace object for it, which reads every export (and loads a lazy built-in) up front.
  resolveDynamicImport(specifier) {
    return typeof specifier === 'string' && isRequiredBuiltin(specifier) ? { id: specifier.startsWith('node:') ? specifier : `node:${specifier}`, external: true } : null;
  },
  resolveId(source, importer) {
    if (!importer || importer.startsWith(VIRTUAL) || !isRequiredBuiltin(source)) return null;
    return `${VIRTUAL}${builtinName(source)}`;
  },
  load(id) {
    if (!id.startsWith(VIRTUAL)) return null;
    const name = id.slice(VIRTUAL.length);
    const load = `createRequire(import.meta.url)(${JSON.stringify(`node:${name}`)})`;
    const value = LAZY_BUILTINS.has(name) ? lazyModule(load) : load;
    return { code: `import { createRequire } from 'node:module';\nexport default ${value};\n`, syntheticNamedExports: true };
  },
};

/**
 * `import * as http from "node:http"` becomes `import http from "node:http"`: rollup builds a
 * namespace object by reading every export of the module, up front, where the namespace
 * lives, which would load a lazy built-in (http → https → tls → crypto) in every command.
 * The default export is the module object itself, which is what the code reads from.
 * esbuild writes these statements one per line, so the rewrite keeps lines (and maps).
 */
function defaultImportsOfBuiltins(code) {
  return code.replace(/^import \* as ([\w$]+) from (["'])([\w:/]+)\2;$/gm, (all, name, q, spec) => (isRequiredBuiltin(spec) ? `import ${name} from ${q}${spec}${q};` : all));
}

/**
 * Each output chunk loses its comments and whitespace (esbuild's minifyWhitespace and
 * minifySyntax; names stay, so stack traces stay readable): V8 pre-parses every byte a
 * command loads, and the hot chunk is 290 KB unminified, 190 KB minified. rollup chains the
 * map this returns with the ones that lead back to src/.
 */
const minifiedChunks = {
  name: 'minified-chunks',
  async renderChunk(code, chunk) {
    const out = await transform(code, { minifyWhitespace: true, minifySyntax: true, format: 'esm', target: 'node20', sourcemap: 'external', sourcefile: chunk.fileName, legalComments: 'none' });
    return { code: out.code, map: out.map };
  },
};

/** The CLI's entry: what it imports statically is loaded by every run, `--version` too, so it stays out of the hot chunk. */
const EARLY_ENTRY = 'src/cli/main.ts';

/** Output files (absolute paths) of `entries` and their static imports, from esbuild's metafile. */
function staticClosure(metafile, root, entries) {
  const outputs = metafile.outputs;
  const want = new Set(entries);
  const start = Object.keys(outputs).filter((o) => want.has(outputs[o].entryPoint));
  const found = new Set();
  if (start.length !== want.size) {
    const missing = entries.filter((e) => !start.some((o) => outputs[o].entryPoint === e));
    throw new Error(`build: no esbuild output for hot entr${missing.length === 1 ? 'y' : 'ies'} ${missing.join(', ')} (a file renamed? see HOT_COMMANDS in src/build-hot-chunk.mjs)`);
  }
  const stack = [...start];
  while (stack.length) {
    const o = stack.pop();
    if (found.has(o)) continue;
    found.add(o);
    for (const imp of outputs[o].imports) if (!imp.external && imp.kind === 'import-statement') stack.push(imp.path);
  }
  return new Set([...found].map((o) => resolve(root, o)));
}

/**
 * Reads esbuild's output under `stageDir` (entry files `entries`, relative to it, without
 * `.js`) and writes the re-chunked program to `outDir` at the same relative paths, with
 * source maps that lead back to src/ through esbuild's maps.
 */
export async function rechunk({ root, stageDir, outDir, entries, metafile }) {
  // Less what cli/main.js loads before it knows the command: `--version` reads only that.
  const early = staticClosure(metafile, root, [EARLY_ENTRY]);
  const hot = hotChunks(metafile, root, early);
  const input = Object.fromEntries(entries.map((e) => [e, join(stageDir, `${e}.js`)]));
  const entryFiles = new Set(Object.values(input));
  const bundle = await rollup({
    input,
    // esbuild bundled every package but these; built-ins and EXTERNAL stay imports.
    external: (id) => !id.startsWith('\0') && !isRequiredBuiltin(id) && (id.startsWith('node:') || /^[@a-z]/i.test(id)),
    // esbuild tree-shook already; rollup only moves whole files between chunks.
    treeshake: false,
    plugins: [
      builtinsThroughRequire,
      {
        name: 'esbuild-sourcemaps',
        load(id) {
          if (!id.startsWith(stageDir)) return null;
          const code = defaultImportsOfBuiltins(readFileSync(id, 'utf8'));
          let map = null;
          try {
            map = JSON.parse(readFileSync(`${id}.map`, 'utf8'));
          } catch {
            /* a file without a map (none today): rollup maps it to itself */
          }
          return { code, map };
        },
      },
      minifiedChunks,
    ],
    onwarn(warning, warn) {
      // esbuild's chunks import each other in cycles (a cycle of source modules split
      // across chunks); the order is esbuild's and stays valid.
      if (warning.code === 'CIRCULAR_DEPENDENCY') return;
      warn(warning);
    },
  });
  const { output } = await bundle.write({
    dir: outDir,
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    // Entry files keep their paths (workers start from them; bin/ loads cli/main.js), so
    // the hot chunk holds only what they import.
    // What cli/main.js imports is a chunk of its own: rollup would otherwise pull a manual
    // chunk's dependencies into it, and main.js would load the hot chunk for `--version`.
    // A built-in's virtual module goes with what main.js loads if that uses it, else into the
    // hot chunk if it is lazy (a Proxy: free until used) or only the hot chunks' files use
    // it. Any other is left to rollup: in the hot chunk it would be required by every
    // command (perf_hooks, assert, readline, … for the AWS SDK alone).
    manualChunks: (id, { getModuleInfo }) => {
      if (id.startsWith(VIRTUAL)) {
        const importers = getModuleInfo(id).importers;
        if (importers.some((i) => early.has(i))) return 'early';
        return LAZY_BUILTINS.has(id.slice(VIRTUAL.length)) || importers.every((i) => hot.has(i)) ? 'hot' : undefined;
      }
      return entryFiles.has(id) ? undefined : early.has(id) ? 'early' : hot.get(id);
    },
    sourcemap: true,
  });
  await bundle.close();
  const hotOut = output.filter((o) => o.type === 'chunk' && /^hot(-|$)/.test(o.name));
  if (!hotOut.some((o) => o.name === 'hot')) throw new Error('build: rollup made no hot chunk');
  return { files: output.filter((o) => o.type === 'chunk').length, hotFiles: hot.size, hot: hotOut.map((o) => `${o.fileName} ${(Buffer.byteLength(o.code) / 1024).toFixed(0)} KiB`) };
}
