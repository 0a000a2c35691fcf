import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the build (src/build.mjs) tells the code it built: the package version and an id of
 * the sources (sha256 of every file under src/). esbuild replaces the identifier with a
 * JSON object; running the TypeScript sources (vitest) leaves it undefined.
 */
declare const __MODELCTL_BUILD__: { version: string; sourceId: string } | undefined;

/** The build's facts, or null when the sources run unbuilt (tests). */
export const BUILD: { version: string; sourceId: string } | null = typeof __MODELCTL_BUILD__ === 'undefined' ? null : __MODELCTL_BUILD__;

let root: string | undefined;

/**
 * The package's root folder (where its package.json is): the repository in a clone, the
 * installed folder under node_modules otherwise. Found by walking up from this module's
 * file, because bundled code lives in dist/chunks/ at a depth the source file did not have.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'modelctl') return (root = dir);
      } catch {
        /* not ours: keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`BUG: no modelctl package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/**
 * A file the build writes under dist/ (`rel` as in src/, `.js` for `.ts`), e.g. a worker
 * thread's entry point. From the sources too, so tests use the built workers.
 */
export function builtFile(rel: string): string {
  const path = join(packageRoot(), 'dist', rel);
  if (!existsSync(path)) throw new Error(`BUG: ${path} is missing (run npm run build)`);
  return path;
}

/**
 * A non-TypeScript file shipped beside the code (`rel` relative to src/, e.g. a web UI
 * asset): the copy the build made under dist/ when running built, the source file otherwise.
 */
export function assetFile(rel: string): string {
  return join(packageRoot(), BUILD ? 'dist' : 'src', rel);
}
