/**
 * The board-side program of one transfer attempt: the strategy's writer (`_hil_w`, `_hil_end`)
 * plus a sink for the binary channel that either writes raw chunks at `base + offset` or
 * inflates zlib frames (one per block, `u32le length + data`) and writes each block.
 * `finish` completes the last write and prints a JSON line.
 */
import type { BinaryReceiver } from '../device/types.js';
import { pyInt } from './boardJson.js';
import { maxFrame, type TransferPlan } from './planTransfer.js';

export function buildReceiver(writerCode: string, plan: TransferPlan, fromBlock: number): BinaryReceiver {
  const base = plan.blocks[fromBlock]?.offset ?? plan.imageLength;
  const sink = plan.compressed
    ? `
import deflate, io, gc
_hil_B = ${pyInt(plan.blockSize)}
_hil_N = ${pyInt(plan.imageLength)}
_hil_k = ${pyInt(fromBlock)}
_hil_cb = bytearray(${pyInt(maxFrame(plan) + plan.chunkSize)})
_hil_cm = memoryview(_hil_cb)
_hil_n = 0
_hil_ob = bytearray(min(_hil_B, _hil_N))
def _hil_sink(mv, off):
    global _hil_k, _hil_n
    l = len(mv)
    _hil_cm[_hil_n:_hil_n + l] = mv
    _hil_n += l
    p = 0
    while _hil_n - p >= 4:
        n = _hil_cb[p] | (_hil_cb[p + 1] << 8) | (_hil_cb[p + 2] << 16) | (_hil_cb[p + 3] << 24)
        if _hil_n - p < 4 + n:
            break
        a = _hil_k * _hil_B
        want = min(_hil_B, _hil_N - a)
        d = deflate.DeflateIO(io.BytesIO(_hil_cm[p + 4:p + 4 + n]), deflate.ZLIB)
        ob = memoryview(_hil_ob)
        got = 0
        while got < want:
            r = d.readinto(ob[got:want])
            if not r:
                break
            got += r
        d = None
        if got != want:
            raise ValueError('HIL_FRAME block %d inflated to %d of %d bytes' % (_hil_k, got, want))
        _hil_w(a, ob[:want])
        _hil_k += 1
        p += 4 + n
        gc.collect()
    if p:
        _hil_cm[0:_hil_n - p] = _hil_cm[p:_hil_n]
        _hil_n -= p
`
    : `
_hil_base = ${pyInt(base)}
def _hil_sink(mv, off):
    _hil_w(_hil_base + off, mv)
`;
  return {
    setup: `${writerCode}\n${sink}`,
    sink: '_hil_sink',
    finish: `_hil_end()\nprint('{"hilWritten": true}')\n`,
  };
}
