import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { canonicalJson } from '../core/canonical-json.js';
import { openIndex } from '../store/index-db.js';
import { ObjectStore } from '../store/objects.js';
import { DEFAULT_STAGES, SHARED_CONFIG_FILE, readConfigFile, type ConfigFile } from '../workspace/config.js';
import { META_DIR_NAME } from '../workspace/repo-paths.js';
import type { CommonOptions } from './repository.js';

export interface InitOptions extends CommonOptions {
  /** Remote URL to record as the default remote `origin`. */
  remote?: string;
  /** Models to declare in modelctl.json (the wizard and `init --model` fill this). */
  models?: ConfigFile['models'];
  stages?: string[];
}

export interface InitResult {
  root: string;
  metaDir: string;
  /** False when the repository existed already (init is idempotent). */
  created: boolean;
  configCreated: boolean;
  gitignoreUpdated: boolean;
}

/**
 * Creates `.modelctl/` (store folders, index, hooks folder) and, when absent,
 * `modelctl.json` with default stages. Safe to run again: nothing existing is replaced.
 */
export function init(opts: InitOptions = {}): InitResult {
  const root = resolve(opts.cwd ?? process.cwd());
  const metaDir = join(root, META_DIR_NAME);
  const created = !existsSync(join(metaDir, 'index.db'));
  mkdirSync(join(metaDir, 'hooks'), { recursive: true });
  new ObjectStore(metaDir).ensureLayout();
  openIndex(join(metaDir, 'index.db'), { create: true }).close();

  const configPath = join(root, SHARED_CONFIG_FILE);
  let configCreated = false;
  if (!existsSync(configPath)) {
    const config: ConfigFile = {
      models: opts.models ?? {},
      stages: opts.stages ?? DEFAULT_STAGES,
      policies: {},
      ...(opts.remote ? { remotes: { origin: { url: opts.remote } }, default_remote: 'origin' } : {}),
    };
    writeFileSync(configPath, `${JSON.stringify(JSON.parse(canonicalJson(config)), null, 2)}\n`);
    configCreated = true;
  } else {
    readConfigFile(configPath); // an existing, malformed file is reported now, not later
  }

  // Keep the store out of git when the folder is a git work tree.
  let gitignoreUpdated = false;
  if (existsSync(join(root, '.git'))) {
    const gi = join(root, '.gitignore');
    const current = existsSync(gi) ? readFileSync(gi, 'utf8') : '';
    if (!current.split(/\r?\n/).some((l) => l.trim() === `${META_DIR_NAME}/` || l.trim() === META_DIR_NAME || l.trim() === `/${META_DIR_NAME}/`)) {
      appendFileSync(gi, `${current && !current.endsWith('\n') ? '\n' : ''}# modelctl store and index (never committed)\n${META_DIR_NAME}/\n`);
      gitignoreUpdated = true;
    }
  }
  return { root, metaDir, created, configCreated, gitignoreUpdated };
}
