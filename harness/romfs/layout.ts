/**
 * Where every byte of an image goes, for two layouts:
 *
 * - `aligned` (default; OpenMV mkromfs compatible): the image header's length varuint is padded
 *   so the payload starts at 16; every directory and file record has a fixed 8-byte prefix
 *   (kind, length padded to 7 bytes with leading 0x80), so a record's prefix never depends on its
 *   contents; each file's data length varuint gets as many leading 0x80 bytes as it takes to put
 *   the data on its alignment, counted from the start of the image. Because every prefix has a
 *   known width, positions are assigned in one top-down pass and hold at any depth.
 * - `mpremote`: mpremote's `romfs build` layout, byte for byte: minimal varuints, no alignment,
 *   one 0x80 in the header when needed to make the image length even.
 */
import { varuintLength } from './varuint.js';
import type { TreeDir, TreeFile, TreeNode } from './tree.js';

export type LayoutName = 'aligned' | 'mpremote';

export const HEADER_BYTES_ALIGNED = 16;
export const RECORD_PREFIX_ALIGNED = 8;

export interface PlacedNode {
  node: TreeNode;
  /** Offset of the record's kind byte. */
  start: number;
  /** Width of the record's length varuint. */
  lenWidth: number;
  payloadLen: number;
  /** Files: width of the data record's length varuint and where the data starts. */
  dataLenWidth?: number;
  dataOffset?: number;
  children?: PlacedNode[];
}

export interface Layout {
  /** Width of the image header's length varuint. */
  headerLenWidth: number;
  payloadLen: number;
  total: number;
  nodes: PlacedNode[];
}

const nameBytes = (n: TreeNode) => n.name.length; // names are checked ASCII
const nameRecLen = (n: TreeNode) => varuintLength(nameBytes(n)) + nameBytes(n);

/**
 * `origin`: the address the image's first byte will have on the board (its partition origin);
 * aligned data is placed so that origin + offset is a multiple of its alignment (with an origin
 * on a 4 KiB boundary, as every real partition has, that is the offset itself).
 */
export function planLayout(root: TreeDir, layout: LayoutName, origin = 0): Layout {
  return layout === 'mpremote' ? planMpremote(root) : planAligned(root, origin % 4096);
}

function planAligned(root: TreeDir, base: number): Layout {
  const place = (n: TreeNode, pos: number): { placed: PlacedNode; end: number } => {
    const payloadStart = pos + RECORD_PREFIX_ALIGNED;
    let p = payloadStart + nameRecLen(n);
    if (n.type === 'dir') {
      const children: PlacedNode[] = [];
      for (const c of n.children) {
        const r = place(c, p);
        children.push(r.placed);
        p = r.end;
      }
      return { placed: { node: n, start: pos, lenWidth: RECORD_PREFIX_ALIGNED - 1, payloadLen: p - payloadStart, children }, end: p };
    }
    p += 1; // data record kind
    const minEnd = p + varuintLength(n.size);
    const dataOffset = Math.ceil((base + minEnd) / n.align) * n.align - base;
    const end = dataOffset + n.size;
    return {
      placed: { node: n, start: pos, lenWidth: RECORD_PREFIX_ALIGNED - 1, payloadLen: end - payloadStart, dataLenWidth: dataOffset - p, dataOffset },
      end,
    };
  };
  let p = HEADER_BYTES_ALIGNED;
  const nodes: PlacedNode[] = [];
  for (const c of root.children) {
    const r = place(c, p);
    nodes.push(r.placed);
    p = r.end;
  }
  return { headerLenWidth: HEADER_BYTES_ALIGNED - 3, payloadLen: p - HEADER_BYTES_ALIGNED, total: p, nodes };
}

function planMpremote(root: TreeDir): Layout {
  const payloadOf = new Map<TreeNode, number>();
  const recordSize = (n: TreeNode): number => {
    let payload = nameRecLen(n);
    if (n.type === 'dir') for (const c of n.children) payload += recordSize(c);
    else payload += 1 + varuintLength(n.size) + n.size;
    payloadOf.set(n, payload);
    return 1 + varuintLength(payload) + payload;
  };
  let payloadLen = 0;
  for (const c of root.children) payloadLen += recordSize(c);
  let headerLenWidth = varuintLength(payloadLen);
  if ((3 + headerLenWidth + payloadLen) % 2 === 1) headerLenWidth += 1;
  const place = (n: TreeNode, pos: number): { placed: PlacedNode; end: number } => {
    const payloadLen = payloadOf.get(n)!;
    const lenWidth = varuintLength(payloadLen);
    let p = pos + 1 + lenWidth + nameRecLen(n);
    if (n.type === 'dir') {
      const children: PlacedNode[] = [];
      for (const c of n.children) {
        const r = place(c, p);
        children.push(r.placed);
        p = r.end;
      }
      return { placed: { node: n, start: pos, lenWidth, payloadLen, children }, end: p };
    }
    const dataLenWidth = varuintLength((n as TreeFile).size);
    const dataOffset = p + 1 + dataLenWidth;
    return { placed: { node: n, start: pos, lenWidth, payloadLen, dataLenWidth, dataOffset }, end: dataOffset + n.size };
  };
  let p = 3 + headerLenWidth;
  const nodes: PlacedNode[] = [];
  for (const c of root.children) {
    const r = place(c, p);
    nodes.push(r.placed);
    p = r.end;
  }
  return { headerLenWidth, payloadLen, total: p, nodes };
}
