import type { Command } from 'commander';
import { registerCommit } from './commit.js';
import { registerInit } from './init.js';

/** Every command: each registrar adds one subcommand to the program and returns it. */
export const COMMANDS: ((program: Command) => Command)[] = [
  registerInit,
  registerCommit,
];
