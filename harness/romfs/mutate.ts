/**
 * Seeded image mutations for fuzzing the parser (used by the fuzz test and the fuzz benchmark):
 * bit flips, boundary-value overwrites, truncation, insertion, deletion, varuint bumps.
 */

/** Deterministic PRNG (mulberry32): the same seed gives the same mutants. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BOUNDARY = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7f, 0x80, 0x81, 0xff, 0xd2, 0xcd, 0x31];

export function mutateImage(src: Uint8Array, rnd: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  let b: Uint8Array = new Uint8Array(src);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    if (b.length === 0) break;
    const pos = int(b.length);
    switch (int(6)) {
      case 0:
        b[pos] = b[pos]! ^ (1 << int(8));
        break;
      case 1:
        b[pos] = BOUNDARY[int(BOUNDARY.length)]!;
        break;
      case 2:
        b = b.slice(0, pos);
        break;
      case 3: {
        const ins = new Uint8Array(1 + int(8)).map(() => BOUNDARY[int(BOUNDARY.length)]!);
        const out = new Uint8Array(b.length + ins.length);
        out.set(b.subarray(0, pos));
        out.set(ins, pos);
        out.set(b.subarray(pos), pos + ins.length);
        b = out;
        break;
      }
      case 4: {
        const n = 1 + int(16);
        const tail = b.subarray(Math.min(b.length, pos + n));
        const out = new Uint8Array(pos + tail.length);
        out.set(b.subarray(0, pos));
        out.set(tail, pos);
        b = out;
        break;
      }
      default:
        // Make a varuint continue: set the high bit, so lengths run long.
        b[pos] = b[pos]! | 0x80;
    }
  }
  return b;
}
