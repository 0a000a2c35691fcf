import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD, packageRoot } from './package-paths.js';

/** modelctl's own version: written into the build, else read once from package.json. */
export const MODELCTL_VERSION: string =
  BUILD?.version ??
  (() => {
    try {
      const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
      return pkg.version ?? '0.0.0';
    } catch {
      return '0.0.0';
    }
  })();
