import type { Command } from 'commander';
import { registerCheckout } from './checkout.js';
import { registerCommit } from './commit.js';
import { registerConfig } from './config.js';
import { registerGc } from './gc.js';
import { registerInit } from './init.js';
import { registerLog } from './log.js';
import { registerLs } from './ls.js';
import { registerShow } from './show.js';
import { registerStatus } from './status.js';
import { registerVerify } from './verify.js';

/** Every command: each registrar adds one subcommand to the program and returns it. */
export const COMMANDS: ((program: Command) => Command)[] = [
  registerInit,
  registerCommit,
  registerStatus,
  registerLog,
  registerLs,
  registerShow,
  registerCheckout,
  registerVerify,
  registerGc,
  registerConfig,
];
