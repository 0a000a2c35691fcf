// On its own (no vitest import) so that the crash harness, which also runs outside vitest
// (`npm run torture`), can use it.

/**
 * The environment for a CLI process a test starts: this process's, with `extra` on top (an
 * entry set to undefined is removed), and without NODE_EXTRA_CA_CERTS. Node parses that
 * bundle at every start, before any of our code runs (~50 ms of CPU here, where it names the
 * 220 KB system bundle: `node -e 0` 60 ms without, 100–140 ms with), and no CLI a test starts
 * talks TLS: every server is a plain-HTTP one on 127.0.0.1. The quick suite starts a few
 * thousand CLI processes; npm, which the packaging tests run, keeps the variable.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}
