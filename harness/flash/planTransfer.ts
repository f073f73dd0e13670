/**
 * How the image travels: chunk size from the board's free heap, resume blocks (the unit verified
 * on the board after a link fault), and whether to deflate. Compressed, each block is one
 * independent zlib frame `u32le length + data`, so a transfer can restart at any block.
 * Compression is used when the board has deflate.DeflateIO and the stream shrinks to at most
 * `payThreshold` of the raw size.
 */
import { createHash } from 'node:crypto';
import { deflateSync, constants } from 'node:zlib';
import type { BoardFacts } from './probeBoard.js';

export interface TransferBlock {
  index: number;
  /** Offset in the image. */
  offset: number;
  length: number;
  /** First 8 bytes of sha256 of the block, hex (what the board reports for resume). */
  digest: string;
  /** Compressed frame (length prefix included) when the plan is compressed. */
  frame?: Uint8Array;
}

export interface TransferPlan {
  imageLength: number;
  /** Bytes per binary-channel chunk. */
  chunkSize: number;
  /** Bytes of image per resume block (a multiple of the minimum write size). */
  blockSize: number;
  compressed: boolean;
  /** zlib window bits used when compressed (the board allocates 2^wbits bytes). */
  wbits: number;
  blocks: TransferBlock[];
  /** Bytes the full stream carries (compressed or raw). */
  streamLength: number;
}

export interface PlanOptions {
  /** Writes must be multiples of this (rom-ioctl: what erase returned). */
  minWrite?: number;
  /** Never compress (benchmarks, tests). */
  compress?: boolean;
  /** Override chunk size. */
  chunkSize?: number;
  payThreshold?: number;
}

const MIN_CHUNK = 512;
const MAX_CHUNK = 32 * 1024;

function floorPow2(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return (a / gcd(a, b)) * b;
}

/** Chunk size that leaves the board room: about an eighth of its free heap, 512 B .. 32 KiB. */
export function chunkSizeFor(memFree: number | null, minWrite = 1): number {
  const base = memFree === null ? 4096 : Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, floorPow2(Math.floor(memFree / 8))));
  const unit = lcm(base, Math.max(1, minWrite));
  return unit;
}

export function blockDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

function splitBlocks(image: Uint8Array, blockSize: number): TransferBlock[] {
  const blocks: TransferBlock[] = [];
  for (let off = 0, i = 0; off < image.length; off += blockSize, i++) {
    const data = image.subarray(off, Math.min(off + blockSize, image.length));
    blocks.push({ index: i, offset: off, length: data.length, digest: blockDigest(data) });
  }
  return blocks;
}

/**
 * Raw: chunk = block = 1/8 of free heap. Compressed: the board holds a chunk, a frame, the inflated
 * block, the frame's copy and a window, so blocks are sized from half the heap and the window is
 * at most 4 KiB.
 */
export function planTransfer(image: Uint8Array, facts: Pick<BoardFacts, 'memFree' | 'deflate'>, opts: PlanOptions = {}): TransferPlan {
  const minWrite = Math.max(1, opts.minWrite ?? 1);
  const chunkSize = opts.chunkSize ?? chunkSizeFor(facts.memFree, minWrite);
  const blockSize = lcm(chunkSize, minWrite);
  const raw: TransferPlan = {
    imageLength: image.length, chunkSize, blockSize, compressed: false, wbits: 0,
    blocks: splitBlocks(image, blockSize), streamLength: image.length,
  };
  if (!facts.deflate || opts.compress === false || image.length === 0) return raw;
  const zChunk = opts.chunkSize ?? chunkSizeFor(facts.memFree === null ? null : Math.floor(facts.memFree / 2), minWrite);
  const zBlock = lcm(zChunk, minWrite);
  const wbits = Math.max(9, Math.min(12, Math.floor(Math.log2(zBlock))));
  const blocks = splitBlocks(image, zBlock);
  let total = 0;
  for (const b of blocks) {
    const z = deflateSync(image.subarray(b.offset, b.offset + b.length), { level: constants.Z_BEST_COMPRESSION, windowBits: wbits, memLevel: 8 });
    const frame = new Uint8Array(4 + z.length);
    new DataView(frame.buffer).setUint32(0, z.length, true);
    frame.set(z, 4);
    b.frame = frame;
    total += frame.length;
  }
  if (opts.compress !== true && total > (opts.payThreshold ?? 0.85) * image.length) return raw;
  return { imageLength: image.length, chunkSize: zChunk, blockSize: zBlock, compressed: true, wbits, blocks, streamLength: total };
}

/**
 * planTransfer memoised in `cache` (one per run, shared by the boards of a bench): boards of one
 * profile flashing one image get the same plan, so the image is compressed once, not per board.
 * The key holds everything the plan depends on.
 */
export function cachedPlan(cache: Map<string, TransferPlan> | undefined, image: Uint8Array, imageSha256: string, facts: Pick<BoardFacts, 'memFree' | 'deflate'>, opts: PlanOptions = {}): TransferPlan {
  if (!cache) return planTransfer(image, facts, opts);
  const minWrite = Math.max(1, opts.minWrite ?? 1);
  const key = JSON.stringify([
    imageSha256, image.length, minWrite, Boolean(facts.deflate), opts.compress ?? null, opts.chunkSize ?? null, opts.payThreshold ?? null,
    chunkSizeFor(facts.memFree, minWrite), chunkSizeFor(facts.memFree === null ? null : Math.floor(facts.memFree / 2), minWrite),
  ]);
  let plan = cache.get(key);
  if (!plan) {
    plan = planTransfer(image, facts, opts);
    cache.set(key, plan);
  }
  return plan;
}

/** Largest compressed frame (length prefix included); the board preallocates room for it. */
export function maxFrame(plan: TransferPlan): number {
  return plan.blocks.reduce((m, b) => Math.max(m, b.frame?.length ?? 0), 0);
}

/** The bytes to send for blocks `from..end`, and the stream offset at which each block is complete. */
export function streamFrom(plan: TransferPlan, image: Uint8Array, from: number): { data: Uint8Array; blockEnds: number[] } {
  const blocks = plan.blocks.slice(from);
  if (!plan.compressed) {
    const start = blocks[0]?.offset ?? image.length;
    const data = image.subarray(start);
    return { data, blockEnds: blocks.map((b) => b.offset + b.length - start) };
  }
  const total = blocks.reduce((n, b) => n + b.frame!.length, 0);
  const data = new Uint8Array(total);
  const blockEnds: number[] = [];
  let pos = 0;
  for (const b of blocks) {
    data.set(b.frame!, pos);
    pos += b.frame!.length;
    blockEnds.push(pos);
  }
  return { data, blockEnds };
}

/** How many whole blocks (counted from the stream's first block) the board has acknowledged. */
export function blocksAcked(blockEnds: number[], ackedBytes: number): number {
  let n = 0;
  while (n < blockEnds.length && blockEnds[n]! <= ackedBytes) n++;
  return n;
}
