/**
 * rom-ioctl: erase / write / complete through `vfs.rom_ioctl` (MicroPython's ROMFS API).
 * Every return value is checked: erase (3) returns the minimum write size or a negative errno,
 * write (4) and complete (5) return a negative errno on failure. A negative errno is a
 * BoardRefusedError (exit 5) and is never retried. Writes are whole multiples of the minimum
 * write size; the last one is padded with 0xff (the erased value).
 */
import { pyInt } from '../boardJson.js';
import { execJson } from '../boardJson.js';
import { BoardRefusedError } from '../errors.js';
import type { StreamingStrategy, StrategyTarget } from './types.js';
import { umountRomCode } from './types.js';

function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

/**
 * How long an erase may take: NOR flash erases a 64 KiB block in up to about 2 s (datasheet worst
 * cases), so the deadline grows with the length instead of one fixed long wait that would also
 * be the time to notice an answer lost on the link.
 */
export function eraseDeadlineMs(length: number): number {
  return 15_000 + Math.ceil(length / 65536) * 2000;
}

async function erase(t: StrategyTarget, offset: number, length: number): Promise<number> {
  const id = pyInt(t.partition);
  const args = offset === 0 ? `${id}, ${pyInt(length)}` : `${id}, ${pyInt(offset)}, ${pyInt(length)}`;
  const r = await execJson<{ r: unknown }>(
    t.device,
    `${umountRomCode(t.partition)}
import vfs
_hil_answer({'r': vfs.rom_ioctl(3, ${args})})
`,
    'erase',
    eraseDeadlineMs(length),
  );
  if (typeof r.r !== 'number' || r.r < 0) {
    throw new BoardRefusedError(
      `device ${t.device.name}: board refused erase: rom_ioctl(3, ${args}) = ${JSON.stringify(r.r)}; nothing was written`,
      'erase',
      typeof r.r === 'number' ? r.r : undefined,
    );
  }
  return Math.max(1, r.r);
}

/** Erase length covering the image: whole erase blocks, never past the partition. */
export function eraseLength(length: number, eraseBlock: number | null, partitionSize: number | null): number {
  const eb = eraseBlock && eraseBlock > 0 ? eraseBlock : 1;
  const n = roundUp(Math.max(1, length), eb);
  return partitionSize ? Math.min(n, partitionSize) : n;
}

export const romIoctlStrategy: StreamingStrategy = {
  kind: 'stream',
  name: 'rom-ioctl',
  async prepare(t) {
    const minWrite = await erase(t, 0, eraseLength(t.length, t.facts.eraseBlock, t.facts.partitionSize));
    return { minWrite };
  },
  writerCode(t, minWrite) {
    const id = pyInt(t.partition);
    return `
import vfs
_hil_err = None
_hil_mw = ${pyInt(minWrite)}
_hil_p = bytearray()
_hil_po = 0
def _hil_wr(off, buf):
    global _hil_err
    r = vfs.rom_ioctl(4, ${id}, off, buf)
    if not isinstance(r, int) or r < 0:
        _hil_err = ['write', r, off]
        raise OSError('HIL_REFUSED rom_ioctl(4, ${id}, %d, <%d bytes>) = %r' % (off, len(buf), r))
def _hil_w(off, mv):
    global _hil_p, _hil_po
    if len(_hil_p) == 0:
        n = len(mv) - len(mv) % _hil_mw
        if n:
            _hil_wr(off, mv[:n])
        if n < len(mv):
            _hil_p = bytearray(mv[n:])
            _hil_po = off + n
        return
    if off != _hil_po + len(_hil_p):
        raise ValueError('HIL_GAP %d %d' % (off, _hil_po + len(_hil_p)))
    _hil_p.extend(mv)
    n = len(_hil_p) - len(_hil_p) % _hil_mw
    if n:
        _hil_wr(_hil_po, _hil_p[:n])
        _hil_po += n
        _hil_p = _hil_p[n:]
def _hil_end():
    global _hil_p
    if len(_hil_p):
        _hil_p.extend(b'\\xff' * (_hil_mw - len(_hil_p)))
        _hil_wr(_hil_po, _hil_p)
        _hil_p = bytearray()
`;
  },
  async beforeResume(t, offset, dirtyFrom, blockSize) {
    if (dirtyFrom === null) return offset;
    // Flash cannot be rewritten without an erase: erase again from the erase block holding the
    // first dirty byte, and resume there (a block boundary when blocks divide erase blocks).
    const eb = t.facts.eraseBlock && t.facts.eraseBlock > 0 ? t.facts.eraseBlock : blockSize;
    let from = Math.floor(dirtyFrom / eb) * eb;
    if (from % blockSize !== 0) from = 0;
    from = Math.min(from, offset);
    const len = eraseLength(t.length - from, eb, t.facts.partitionSize === null ? null : t.facts.partitionSize - from);
    await erase(t, from, len);
    return from;
  },
  async complete(t) {
    const id = pyInt(t.partition);
    const r = await execJson<{ r: unknown }>(t.device, `import vfs\n_hil_answer({'r': vfs.rom_ioctl(5, ${id})})\n`, 'write-complete');
    if (typeof r.r !== 'number' || r.r < 0) {
      throw new BoardRefusedError(`device ${t.device.name}: board refused write-complete: rom_ioctl(5, ${id}) = ${JSON.stringify(r.r)}`, 'complete', typeof r.r === 'number' ? r.r : undefined);
    }
  },
};
