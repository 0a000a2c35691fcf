import { defineConfig } from 'vitest/config';

// `npm test` is the quick suite; `npm run test:full` (what CI runs) adds the long torture,
// soak, fault and scale suites, which are the files named *.full.test.ts.
const full = process.env.MODELCTL_TEST_FULL === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: full ? ['**/node_modules/**'] : ['**/node_modules/**', 'test/**/*.full.test.ts'],
    testTimeout: 60_000,
    // Cleaning up a global npm install or a multi-GiB file can outlast the 10 s default.
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default is one worker less than the cores (one on this 2-core machine); the
    // tests mostly wait on the CLI processes they start, so more workers than cores pay off:
    // on 2 cores the quick suite took 300 s with two and 235 s with three. The full suite
    // keeps two, because its torture and race suites measure timeouts and kill processes.
    maxWorkers: full ? 2 : 3,
    minWorkers: 1,
    poolOptions: {
      forks: {
        // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only offers
        // with the legacy provider (test/helpers/s3rver.ts falls back to a child process).
        execArgv: ['--openssl-legacy-provider'],
      },
    },
  },
});
