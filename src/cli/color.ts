import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colour only on a terminal, never with NO_COLOR (any value, per no-color.org) or
 * --no-color; FORCE_COLOR is left to chalk.
 */
export function colorFor(stream: NodeJS.WriteStream, noColorFlag: boolean): ChalkInstance {
  const disabled = noColorFlag || 'NO_COLOR' in process.env || (!stream.isTTY && !process.env.FORCE_COLOR);
  return new Chalk({ level: disabled ? 0 : stream.isTTY ? 2 : 1 });
}
