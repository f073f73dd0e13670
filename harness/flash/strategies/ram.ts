/**
 * ram: the partition is RAM (MicroPython's qemu boards), so the image is written straight into it
 * through `uctypes.bytearray_at(origin, size)`. The origin is the address the board reports for
 * `rom_ioctl(2, id)` (else the profile's). /rom is unmounted first; a soft reset mounts the new image.
 */
import { pyInt } from '../boardJson.js';
import type { StreamingStrategy } from './types.js';
import { umountRomCode } from './types.js';

export const ramStrategy: StreamingStrategy = {
  kind: 'stream',
  name: 'ram',
  async prepare(t) {
    const code = umountRomCode(t.partition);
    if (code) await t.device.exec(code, { timeoutMs: 10_000 });
    return { minWrite: 1 };
  },
  writerCode(t) {
    const origin = t.facts.origin ?? t.device.profile.partition.origin;
    const size = t.facts.partitionSize ?? t.device.profile.partition.size;
    return `
import uctypes
_hil_err = None
_hil_ba = uctypes.bytearray_at(${pyInt(origin)}, ${pyInt(size)})
def _hil_w(off, mv):
    _hil_ba[off:off + len(mv)] = mv
def _hil_end():
    pass
`;
  },
  async beforeResume(_t, offset) {
    return offset;
  },
  async complete() {},
};
