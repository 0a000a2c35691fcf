/**
 * A set of sha256 digests (64 hex characters) kept by their first 128 bits in one
 * open-addressed table: about 35 bytes a digest instead of ~150 for a Set of strings, so
 * remote gc holds the chunks of a million-chunk remote in ~34 MB (32-byte keys took 66 MB,
 * and twice that while growing). `has` may therefore answer true for a digest that only
 * shares those 128 bits with one added: a sha256 collision on 128 bits, beyond anyone's
 * reach, and on the safe side for gc's use (such a chunk is kept, never deleted). Pure.
 */
/** Bytes of each digest kept: the first half of the sha256. */
const KEY_BYTES = 16;

export class DigestSet {
  private table: Uint8Array;
  private used: Uint8Array;
  private mask: number;
  private count = 0;
  private readonly scratch = Buffer.alloc(32);

  constructor(capacity = 1024) {
    let slots = 1024;
    while (slots < capacity * 2) slots *= 2;
    this.table = new Uint8Array(slots * KEY_BYTES);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
  }

  /** How many digests the set holds. */
  get size(): number {
    return this.count;
  }

  /** Adds a 64-hex digest (anything else is ignored: it cannot name a chunk). */
  add(hex: string): this {
    if (!this.load(hex)) return this;
    if ((this.count + 1) * 2 > this.used.length) this.grow();
    this.insert(this.scratch);
    return this;
  }

  /** True when the 64-hex digest is in the set. */
  has(hex: string): boolean {
    if (!this.load(hex)) return false;
    return this.find(this.scratch) >= 0;
  }

  private load(hex: string): boolean {
    // The whole digest must be hex (write stops at the first bad pair); only its first half is kept.
    return hex.length === 64 && this.scratch.write(hex, 'hex') === 32;
  }

  private slotOf(key: Uint8Array): number {
    return ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) & this.mask;
  }

  private find(digest: Uint8Array): number {
    const key = digest.subarray(0, KEY_BYTES);
    for (let i = this.slotOf(key); ; i = (i + 1) & this.mask) {
      if (!this.used[i]) return -1;
      if (this.equalAt(i, key)) return i;
    }
  }

  private insert(digest: Uint8Array): void {
    const key = digest.subarray(0, KEY_BYTES);
    for (let i = this.slotOf(key); ; i = (i + 1) & this.mask) {
      if (!this.used[i]) {
        this.table.set(key, i * KEY_BYTES);
        this.used[i] = 1;
        this.count++;
        return;
      }
      if (this.equalAt(i, key)) return;
    }
  }

  private equalAt(i: number, key: Uint8Array): boolean {
    const o = i * KEY_BYTES;
    for (let j = 0; j < KEY_BYTES; j++) if (this.table[o + j] !== key[j]) return false;
    return true;
  }

  private grow(): void {
    const oldTable = this.table;
    const oldUsed = this.used;
    this.table = new Uint8Array(oldTable.length * 2);
    this.used = new Uint8Array(oldUsed.length * 2);
    this.mask = this.used.length - 1;
    this.count = 0;
    for (let i = 0; i < oldUsed.length; i++) if (oldUsed[i]) this.insert(oldTable.subarray(i * KEY_BYTES, i * KEY_BYTES + KEY_BYTES));
  }
}
