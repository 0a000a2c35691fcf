import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
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
