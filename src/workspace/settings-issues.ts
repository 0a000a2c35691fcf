import type * as z from 'zod';
import { closest } from '../core/refs.js';

type Issue = z.core.$ZodIssue;

const EXPECTED: Record<string, string> = {
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object ({…})',
};

/**
 * One sentence a person can act on for a settings validation failure: the setting's dotted
 * name once, then what is wrong and what is allowed ("unknown setting 'checkout.lnk' — did
 * you mean 'checkout.link'? settings under checkout: link"; "checkout.link must be one of
 * auto, reflink, hardlink, copy"). Never a validator's internal path such as "(root)".
 */
export function describeSettingsIssue(issue: Issue, schema: z.ZodType): string {
  const at = issue.path.map(String);
  const name = at.join('.');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysAt(schema, at).filter((k) => !k.startsWith('$'));
      const key = issue.keys[0];
      const full = [...at, key].join('.');
      const near = closest(key, allowed);
      const where = at.length ? `settings under ${name}` : 'settings';
      return `unknown setting '${full}'${near.length ? ` — did you mean '${[...at, near[0]].join('.')}'?` : ''} (${where}: ${allowed.join(', ')})`;
    }
    case 'invalid_value':
      return `${name || 'the value'} must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const received = /received (\w+)/.exec(issue.message)?.[1];
      if (received === 'undefined') return `${name} is required (${expected})`;
      return `${name || 'the settings file'} must be ${expected}${received ? ` (got ${EXPECTED[received] ?? received})` : ''}`;
    }
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'string' ? `${name} must not be empty` : `${name}: ${issue.message}`;
    default:
      return `${name || 'the settings file'}: ${issue.message.replace(/^Invalid (input|string): /, '')}`;
  }
}

/** The keys an object in the schema accepts at `path` (records match any key). */
function keysAt(schema: z.ZodType, path: readonly string[]): string[] {
  let def = defOf(schema);
  for (const key of path) {
    if (def?.type === 'object' && def.shape) def = defOf(def.shape[key]);
    else if (def?.type === 'record') def = defOf(def.valueType);
    else return [];
  }
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

interface SchemaDef {
  type?: string;
  shape?: Record<string, unknown>;
  valueType?: unknown;
  innerType?: unknown;
}

/** The definition of a schema node, through optional/nullable/default wrappers. */
function defOf(node: unknown): SchemaDef | undefined {
  let def = (node as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
  while (def && (def.type === 'optional' || def.type === 'nullable' || def.type === 'default')) def = (def.innerType as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
  return def;
}

/**
 * Null when `key` (dotted) names a setting the schema knows (or lies under one, such as
 * `models.fraud.paths`); otherwise the sentence describeSettingsIssue gives for an unknown key.
 */
export function unknownSettingSentence(key: string, schema: z.ZodType): string | null {
  const parts = key.split('.');
  let def = defOf(schema);
  for (let i = 0; i < parts.length; i++) {
    if (def?.type === 'object' && def.shape) {
      if (!(parts[i] in def.shape)) {
        return describeSettingsIssue({ code: 'unrecognized_keys', keys: [parts[i]], path: parts.slice(0, i), message: '', input: undefined } as Issue, schema);
      }
      def = defOf(def.shape[parts[i]]);
    } else if (def?.type === 'record') {
      def = defOf(def.valueType);
    } else {
      return `'${parts.slice(0, i).join('.')}' is a single setting; '${key}' does not exist`;
    }
  }
  return null;
}
