/**
 * Whether a command of the user's runs in the foreground (modelctl run, reproduce). While
 * one does, SIGINT and SIGTERM belong to it: run-command.ts forwards them to the command and
 * ends modelctl (exit 130) once the command has stopped, so the CLI's own signal handler must
 * not exit first and orphan it.
 */
let running = 0;

/** Marks a foreground command as started; call the returned function when it has ended. */
export function enterForegroundChild(): () => void {
  running++;
  let left = false;
  return () => {
    if (!left) running--;
    left = true;
  };
}

/** True while a foreground command runs (the CLI's signal handler then leaves the signal to it). */
export function foregroundChildRunning(): boolean {
  return running > 0;
}
