import type { ChalkInstance } from 'chalk';
import { isTerminal } from './std-write.js';

/**
 * Colour only on a terminal, never with NO_COLOR (any value, per no-color.org) or
 * --no-color; FORCE_COLOR is left to chalk. Without colour, chalk is not loaded at all (it
 * loads node:tty and what that needs, on every command otherwise): the styles are then
 * functions that give back their text.
 */
export async function colorFor(name: 'stdout' | 'stderr', noColorFlag: boolean): Promise<ChalkInstance> {
  if (noColorFlag || 'NO_COLOR' in process.env) return plainStyles();
  const terminal = isTerminal(name);
  if (!terminal && !process.env.FORCE_COLOR) return plainStyles();
  const { Chalk } = await import('chalk');
  return new Chalk({ level: terminal ? 2 : 1 });
}

/** Style functions that change nothing, chainable as chalk's are (`c.bold.red(text)`). */
function plainStyles(): ChalkInstance {
  const paint = (...text: unknown[]): string => text.join(' ');
  // Styles that take arguments first (c.hex('#fff')('x')) return the styles again.
  const parametric = new Set(['rgb', 'hex', 'ansi256', 'bgRgb', 'bgHex', 'bgAnsi256']);
  const styles: ChalkInstance = new Proxy(paint, {
    get: (target, key) => {
      if (key === 'level') return 0;
      // Not a thenable: colorFor is async, and `await` would call a `then` style forever.
      if (key === 'then') return undefined;
      if (typeof key === 'string' && parametric.has(key)) return () => styles;
      if (typeof key === 'symbol' || key in target) return Reflect.get(target, key);
      return styles;
    },
  }) as unknown as ChalkInstance;
  return styles;
}
