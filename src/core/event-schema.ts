import * as z from 'zod';

// Apart from events.ts so that building and storing events loads no validator: only the
// readers of remote documents and bundles need this.

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The fields of an audit event read from anywhere untrusted (a remote, a bundle). Any
 * well-formed action name is accepted: a newer modelctl may record actions this one does
 * not know; the content id check covers every field.
 */
export const auditEventFields = {
  id: z.string().regex(HEX64),
  at: z.iso.datetime(),
  actor: z.string().max(1024),
  host: z.string().max(1024),
  action: z.string().regex(/^[a-z][a-z-]{0,31}$/),
  model: z.string().max(300).nullable(),
  version: z.string().regex(HEX64).nullable(),
  from: z.string().max(4096).nullable(),
  to: z.string().max(4096).nullable(),
  reason: z.string().max(65536).nullable(),
  argv: z.array(z.string().max(65536)).max(10_000),
  data: z.record(z.string(), z.unknown()),
};
