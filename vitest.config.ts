import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Cleaning up a global npm install or a multi-GiB file can outlast the 10 s default.
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: {
      forks: {
        // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only offers
        // with the legacy provider (test/helpers/s3rver.ts falls back to a child process).
        execArgv: ['--openssl-legacy-provider'],
      },
    },
  },
});
