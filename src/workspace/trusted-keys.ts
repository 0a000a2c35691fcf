import { existsSync } from 'node:fs';
import { readRegularFileSync } from '../store/regular-file.js';
import { isAbsolute, join } from 'node:path';
import { NotFoundError, UsageError, fsError, isErrnoException } from '../errors.js';
import { loadVerifyingKey } from '../signing/keys.js';
import type { TrustedKey } from '../signing/trust.js';
import { SHARED_CONFIG_FILE, readConfigFile, resolveSettings, type Settings } from './config.js';

/**
 * Loads `trust.keys` (docs/design.md §11): each entry is PEM text or a path to a PEM file,
 * relative to the repository root. Only the named keys when `names` is given (an unknown
 * name → UsageError UNKNOWN_TRUSTED_KEY, exit 2). A missing file → NotFoundError (3); a key
 * OMS does not accept → UsageError (2).
 */
export function loadTrustedKeys(settings: Settings, root: string, names?: readonly string[]): TrustedKey[] {
  const configured = settings.trustedKeys;
  const wanted = names ?? Object.keys(configured).sort();
  const keys: TrustedKey[] = [];
  for (const name of wanted) {
    const value = configured[name];
    if (value === undefined) {
      throw new UsageError('UNKNOWN_TRUSTED_KEY', `no trusted key named '${name}' (trust.keys has: ${Object.keys(configured).sort().join(', ') || 'none'})`, {
        hint: `add it: \`modelctl config set --shared trust.keys.${name} keys/${name}.pub\``,
      });
    }
    keys.push({ name, ...readKey(name, value, root) });
  }
  return keys;
}

function readKey(name: string, value: string, root: string) {
  const source = `trust.keys.${name}`;
  if (value.trimStart().startsWith('-----BEGIN')) return loadVerifyingKey(value, source);
  const path = isAbsolute(value) ? value : join(root, value);
  let pem: Buffer;
  try {
    pem = readRegularFileSync(path);
  } catch (err) {
    if (isErrnoException(err, 'ENOENT')) {
      throw new NotFoundError('TRUSTED_KEY_NOT_FOUND', `${source} names ${path}, which does not exist`, { hint: 'commit the public key file, or fix trust.keys in modelctl.json' });
    }
    throw fsError(err, path);
  }
  return loadVerifyingKey(pem, `${source} (${value})`);
}

/**
 * The trust.keys names that must have signed a version of `model` holding `stages`: the
 * model's `require_signatures` and each held stage's policy's (docs/design.md §11). Sorted.
 */
export function requiredSignerNames(settings: Settings, model: string, stages: readonly string[]): string[] {
  const names = new Set(settings.models[model]?.require_signatures ?? []);
  for (const s of stages) for (const n of settings.policies[s]?.require_signatures ?? []) names.add(n);
  return [...names].sort();
}

/**
 * Keys named on a command line (`pull --signed-by`): a `trust.keys` name, or a PEM public
 * key file (relative to `cwd`), which is then named by its path. Unknown and unreadable →
 * NotFoundError (3); not an OMS key → UsageError (2).
 */
export function keysFromArguments(values: readonly string[], settings: Settings | null, root: string, cwd: string): TrustedKey[] {
  const keys: TrustedKey[] = [];
  for (const v of values) {
    if (settings && Object.hasOwn(settings.trustedKeys, v)) {
      keys.push(...loadTrustedKeys(settings, root, [v]));
      continue;
    }
    const path = isAbsolute(v) ? v : join(cwd, v);
    let pem: Buffer;
    try {
      pem = readRegularFileSync(path);
    } catch (err) {
      if (isErrnoException(err, 'ENOENT')) {
        throw new NotFoundError('KEY_NOT_FOUND', `'${v}' is neither a trust.keys name nor a key file`, { hint: 'give a PEM public key file or a name under trust.keys in modelctl.json' });
      }
      throw fsError(err, path);
    }
    keys.push({ name: v, ...loadVerifyingKey(pem, v) });
  }
  return keys;
}

/**
 * The settings of a `modelctl.json` in `dir` that is not a repository (a deploy job in a
 * checkout of the training repository), for its trust.keys and require_signatures; null
 * when there is none. Malformed → UsageError (2), as everywhere.
 */
export async function folderSettings(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<Settings | null> {
  const path = join(dir, SHARED_CONFIG_FILE);
  if (!existsSync(path)) return null;
  return resolveSettings(await readConfigFile(path), {}, env);
}
