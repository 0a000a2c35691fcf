/**
 * A set of sha256 digests (64 hex characters) kept as raw 32-byte keys in one open-addressed
 * table: about 70 bytes a digest instead of ~150 for a Set of strings, so remote gc can hold
 * the chunks of a million-chunk remote in well under 100 MB. Pure.
 */
export class DigestSet {
  private table: Uint8Array;
  private used: Uint8Array;
  private mask: number;
  private count = 0;
  private readonly scratch = Buffer.alloc(32);

  constructor(capacity = 1024) {
    let slots = 1024;
    while (slots < capacity * 2) slots *= 2;
    this.table = new Uint8Array(slots * 32);
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
    return hex.length === 64 && this.scratch.write(hex, 'hex') === 32;
  }

  private slotOf(key: Uint8Array): number {
    return ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) & this.mask;
  }

  private find(key: Uint8Array): number {
    for (let i = this.slotOf(key); ; i = (i + 1) & this.mask) {
      if (!this.used[i]) return -1;
      if (this.equalAt(i, key)) return i;
    }
  }

  private insert(key: Uint8Array): void {
    for (let i = this.slotOf(key); ; i = (i + 1) & this.mask) {
      if (!this.used[i]) {
        this.table.set(key, i * 32);
        this.used[i] = 1;
        this.count++;
        return;
      }
      if (this.equalAt(i, key)) return;
    }
  }

  private equalAt(i: number, key: Uint8Array): boolean {
    const o = i * 32;
    for (let j = 0; j < 32; j++) if (this.table[o + j] !== key[j]) return false;
    return true;
  }

  private grow(): void {
    const oldTable = this.table;
    const oldUsed = this.used;
    this.table = new Uint8Array(oldTable.length * 2);
    this.used = new Uint8Array(oldUsed.length * 2);
    this.mask = this.used.length - 1;
    this.count = 0;
    for (let i = 0; i < oldUsed.length; i++) if (oldUsed[i]) this.insert(oldTable.subarray(i * 32, i * 32 + 32));
  }
}
