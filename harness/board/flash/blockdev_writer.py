# Writer for a block-device segment (mimxrt.Flash): dev.writeblocks(blk, buf, off) with an offset
# writes without erasing (the blocks were erased first) and raises OSError on failure
# (ports/mimxrt/mimxrt_flash.c); a piece never crosses a block. A refusal is recorded in _hil_err.
# Params: id, unit, blockSize. Followed by units.py.
import vfs
_hil_err = None
_hil_dev = vfs.rom_ioctl(2, _P['id'])
_hil_bs = _P['blockSize']
_hil_u = _P['unit']


def _hil_wr(off, buf):
    global _hil_err
    p = 0
    while p < len(buf):
        a = off + p
        k = min(len(buf) - p, _hil_bs - a % _hil_bs)
        try:
            _hil_dev.writeblocks(a // _hil_bs, buf[p:p + k], a % _hil_bs)
        except OSError as e:
            _hil_err = ['write', str(e), a, 'writeblocks(%d, <%d bytes>, %d)' % (a // _hil_bs, k, a % _hil_bs)]
            raise OSError('HIL_REFUSED writeblocks(%d, <%d bytes>, %d): %s' % (a // _hil_bs, k, a % _hil_bs, e))
        p += k
