import { IntegrityError } from '../errors.js';

/**
 * JSON.parse for untrusted bytes: rejects invalid UTF-8 and nesting deeper than `maxDepth`
 * before parsing (a deeply nested document would otherwise blow the stack later).
 */
export function parseUntrustedJson(bytes: Buffer, what: string, maxDepth = 64): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new IntegrityError('INVALID_JSON', `${what} is not valid UTF-8`);
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) throw new IntegrityError('INVALID_JSON', `${what} is nested too deeply`);
    } else if (c === 125 || c === 93) depth--;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new IntegrityError('INVALID_JSON', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}
