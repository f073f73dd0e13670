/**
 * ram: the segment is RAM (MicroPython's qemu boards), so the image is written straight into it
 * through `uctypes.bytearray_at(origin, size)` (harness/board/flash/ram_writer.py). The origin is
 * the address the board reports for `rom_ioctl(2, id)` (else the profile's). /rom is unmounted
 * by the writer itself before the first byte (no round trip of its own); a soft reset mounts the
 * new image. RAM needs no erase, so resume simply writes on.
 */
import { writerProgram } from '../programs.js';
import type { StreamingStrategy } from './types.js';

export const ramStrategy: StreamingStrategy = {
  kind: 'stream',
  name: 'ram',
  writeUnit() {
    return 1;
  },
  // Nothing to erase; the writer unmounts /rom (ram_writer.py).
  async prepare() {},
  writerCode(t) {
    const origin = t.facts.origin ?? t.segment.origin;
    const size = t.facts.partitionSize ?? t.segment.size;
    return writerProgram('ram_writer', { id: t.partition, origin, size });
  },
  async resume(_t, v) {
    return { block: v.missing, note: `RAM segment: writing on from block ${v.missing}` };
  },
  async complete() {},
};
