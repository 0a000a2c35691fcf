import { Command } from 'commander';
import { MODELCTL_VERSION } from '../version.js';
import { withGlobalOptions } from './action.js';
import { COMMANDS } from './commands/index.js';

/** Builds the commander program with every command registered. */
export async function buildProgram(): Promise<Command> {
  const program = withGlobalOptions(new Command('modelctl'))
    .description('Version machine-learning models like code: content-addressed storage, lineage, stages and a bucket as the registry.')
    .version(MODELCTL_VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  for (const register of COMMANDS) {
    const cmd = register(program);
    withGlobalOptions(cmd).exitOverride().configureOutput({ outputError: () => undefined });
  }
  return program;
}
