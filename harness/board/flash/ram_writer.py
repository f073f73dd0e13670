# Writer for a RAM segment (MicroPython's qemu boards): the bytes go straight into memory through
# uctypes.bytearray_at(origin, size), a bytearray (its slices have no 16 MiB offset limit).
# Params: origin, size. Followed by units.py (unit 1).
import uctypes
_hil_err = None
_hil_u = 1
_hil_ba = uctypes.bytearray_at(_P['origin'], _P['size'])


def _hil_wr(off, buf):
    _hil_ba[off:off + len(buf)] = buf
