# Writer for rom-ioctl: _hil_wr(offset, buf) = vfs.rom_ioctl(4, id, offset, buf), which answers 0
# or a negative errno (-5 on a flash fault). A refusal is recorded in _hil_err (read back by
# refusal.py) and stops the transfer. Params: id, unit. Followed by units.py.
import vfs
_hil_err = None
_hil_id = _P['id']
_hil_u = _P['unit']


def _hil_wr(off, buf):
    global _hil_err
    r = vfs.rom_ioctl(4, _hil_id, off, buf)
    if not isinstance(r, int) or r < 0:
        _hil_err = ['write', r, off, 'rom_ioctl(4, %d, %d, <%d bytes>)' % (_hil_id, off, len(buf))]
        raise OSError('HIL_REFUSED rom_ioctl(4, %d, %d, <%d bytes>) = %r' % (_hil_id, off, len(buf), r))
