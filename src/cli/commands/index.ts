import type { Command } from 'commander';
import { registerArchive } from './archive.js';
import { registerDiff } from './diff.js';
import { registerHistory } from './history.js';
import { registerLineage } from './lineage.js';
import { registerPromote } from './promote.js';
import { registerRollback } from './rollback.js';
import { registerTag } from './tag.js';
import { registerTags } from './tags.js';
import { registerUnarchive } from './unarchive.js';
import { registerCheckout } from './checkout.js';
import { registerCommit } from './commit.js';
import { registerConfig } from './config.js';
import { registerFetch } from './fetch.js';
import { registerGc } from './gc.js';
import { registerRm } from './rm.js';
import { registerPull } from './pull.js';
import { registerServe } from './serve.js';
import { registerWatch } from './watch.js';
import { registerPush } from './push.js';
import { registerRemote } from './remote.js';
import { registerInit } from './init.js';
import { registerLog } from './log.js';
import { registerLs } from './ls.js';
import { registerShow } from './show.js';
import { registerStatus } from './status.js';
import { registerVerify } from './verify.js';
import { registerCard } from './card.js';
import { registerCompletion } from './completion.js';
import { registerExport } from './export.js';
import { registerHelp } from './help.js';
import { registerImport } from './import.js';
import { registerAttest } from './attest.js';
import { registerBom } from './bom.js';
import { registerSign } from './sign.js';
import { registerVerifySignature } from './verify-signature.js';
import { registerRun } from './run.js';
import { registerReproduce } from './reproduce.js';

/** Every command: each registrar adds one subcommand to the program and returns it. */
export const COMMANDS: ((program: Command) => Command)[] = [
  registerInit,
  registerCommit,
  registerRun,
  registerReproduce,
  registerTag,
  registerTags,
  registerPromote,
  registerRollback,
  registerArchive,
  registerUnarchive,
  registerHistory,
  registerDiff,
  registerLineage,
  registerStatus,
  registerLog,
  registerLs,
  registerShow,
  registerCheckout,
  registerVerify,
  registerSign,
  registerVerifySignature,
  registerAttest,
  registerBom,
  registerGc,
  registerRm,
  registerConfig,
  registerRemote,
  registerPush,
  registerFetch,
  registerPull,
  registerServe,
  registerWatch,
  registerCard,
  registerExport,
  registerImport,
  registerCompletion,
  registerHelp,
];
