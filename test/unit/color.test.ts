/**
 * cli/color.ts: without colour chalk is not loaded and the styles give back their text
 * (chainable like chalk's); with FORCE_COLOR chalk's escapes are there. colorFor is async,
 * so the plain styles must not look like a promise (an awaited thenable never settles, and
 * every command would end silently with exit 0).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { colorFor } from '../../src/cli/color.js';

const notATerminal = { isTTY: false } as NodeJS.WriteStream;
const saved = { ...process.env };

afterEach(() => {
  process.env = { ...saved };
});

describe('colorFor', () => {
  it('without a terminal: plain text through any chain of styles, and the promise settles', async () => {
    delete process.env.FORCE_COLOR;
    const c = await Promise.race([colorFor(notATerminal, false), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('colorFor never settled')), 2000))]);
    expect(c.level).toBe(0);
    expect(c.bold.red('x')).toBe('x');
    expect(c.dim('a', 'b')).toBe('a b');
    expect(c.hex('#ffffff').bold('y')).toBe('y');
    expect(c.bgRgb(1, 2, 3)('z')).toBe('z');
  });

  it('--no-color and NO_COLOR win over FORCE_COLOR; FORCE_COLOR alone colours', async () => {
    process.env.FORCE_COLOR = '1';
    expect((await colorFor(notATerminal, true)).red('x')).toBe('x');
    process.env.NO_COLOR = '';
    expect((await colorFor(notATerminal, false)).red('x')).toBe('x');
    delete process.env.NO_COLOR;
    const c = await colorFor(notATerminal, false);
    expect(c.level).toBeGreaterThan(0);
    expect(c.red('x')).not.toBe('x');
    expect(c.red('x')).toContain('x');
  });
});
