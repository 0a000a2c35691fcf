import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { packageRoot } from '../package-paths.js';
import { COMMON_HEADERS } from './http-response.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The web UI's static files (docs/design.md §12), shipped built in the package: the pages
 * under src/server/ui/ and the vendored chart and graph libraries, both copied into
 * dist/server/ui/ by `npm run build:ui`. They are read into memory once and served by exact
 * name from that table, so no request path ever reaches the file system.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The UI may run only its own scripts and talk only to this server; styles may be inline
 * (the chart and graph libraries set element styles).
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Where the built UI lives: dist/server/ui/ of the package (from the sources too, since only
 * `npm run build:ui` puts the vendored libraries next to the pages); null when not built.
 */
export function uiDirectory(): string | null {
  const dir = join(packageRoot(), 'dist', 'server', 'ui');
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

/** The UI files by URL path (`/index.html`, `/vendor/uPlot.esm.js`, …). */
export class UiAssets {
  private readonly assets = new Map<string, Asset>();

  constructor(dir: string | null) {
    if (dir) this.load(dir, '');
  }

  /** True when the built UI was found. */
  get available(): boolean {
    return this.assets.has('/index.html');
  }

  /** Answers `path` from the table; false when there is no such asset. */
  send(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const asset = this.assets.get(path === '/' ? '/index.html' : path);
    if (!asset) return false;
    const headers: Record<string, string> = {
      ...COMMON_HEADERS,
      'Content-Type': asset.type,
      ETag: asset.etag,
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': CSP,
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'Content-Length': String(asset.body.length) });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  }

  private load(dir: string, prefix: string): void {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const urlPath = `${prefix}/${name}`;
      if (statSync(full).isDirectory()) this.load(full, urlPath);
      else {
        const type = TYPES[extname(name)];
        if (!type) continue; // source maps, licences in other formats: not served
        const body = readFileSync(full);
        this.assets.set(urlPath, { body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` });
      }
    }
  }
}
