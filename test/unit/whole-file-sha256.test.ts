import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256OfFile, sha256OfFileAsync } from '../../src/store/whole-file-sha256.js';
import { pseudoRandomBytes, tempDir } from '../helpers/temp-repo.js';

const MiB = 1024 * 1024;

describe('whole-file sha256 readers', () => {
  // Sizes around the double buffer's 8 MiB halves and the one-pass reader's 1 MiB buffer.
  it.each([0, 1, MiB - 1, MiB, 8 * MiB - 1, 8 * MiB, 8 * MiB + 1, 16 * MiB + 3, 17 * MiB])('agree with sha256 of the bytes at %i bytes', async (size) => {
    const bytes = pseudoRandomBytes(size, size + 7);
    const path = join(tempDir(), 'f.bin');
    writeFileSync(path, bytes);
    const want = { sha256: createHash('sha256').update(bytes).digest('hex'), size };
    expect(await sha256OfFileAsync(path)).toEqual(want);
    expect(sha256OfFile(path)).toEqual(want);
  });
  it('a missing file is a clear error, not a crash', async () => {
    await expect(sha256OfFileAsync(join(tempDir(), 'absent'))).rejects.toMatchObject({ exitCode: 3 });
  });
});
