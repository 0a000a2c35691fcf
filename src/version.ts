import { readFileSync } from 'node:fs';

/** modelctl's own version, read once from package.json next to dist/. */
export const MODELCTL_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();
