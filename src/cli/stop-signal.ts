/**
 * SIGINT/SIGTERM for long-running commands (serve, watch). Every other command is ended at
 * once by main.ts (temp files removed, exit 130). A command that runs until told to stop
 * registers here instead: the first signal asks it to finish or abandon its current step and
 * return (exit 0: stopping is how it ends); a second signal ends the process at once.
 */

let listener: ((signal: NodeJS.Signals) => void) | null = null;

/** Resolves with the signal when SIGINT or SIGTERM arrives (main.ts routes it here). */
export function untilStopSignal(): { stopped: Promise<NodeJS.Signals>; release(): void } {
  let resolve!: (s: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((r) => (resolve = r));
  listener = (s) => {
    listener = null;
    resolve(s);
  };
  return {
    stopped,
    release: () => {
      listener = null;
    },
  };
}

/** Called by main.ts on a signal: true when a long-running command took it. */
export function deliverStopSignal(signal: NodeJS.Signals): boolean {
  if (!listener) return false;
  listener(signal);
  return true;
}
