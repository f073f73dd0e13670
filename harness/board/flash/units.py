# Library for the writers (after writer_*.py, which defines _hil_wr(offset, buf)): bytes arrive
# in pieces of any length (_hil_w(offset, memoryview)), are written in whole units of _hil_u bytes
# at unit-aligned offsets, and _hil_end() pads the tail with 0xFF (the erased value) to one unit.
# (The H7 programs 32-byte flash words at 32-byte offsets, whatever min write it reports:
# ports/stm32/flash.c.)
_hil_p = bytearray()
_hil_po = 0


def _hil_w(off, mv):
    global _hil_p, _hil_po
    if len(_hil_p) == 0:
        if off % _hil_u:
            raise ValueError('HIL_ALIGN offset %d is not a multiple of %d' % (off, _hil_u))
        n = len(mv) - len(mv) % _hil_u
        if n:
            _hil_wr(off, mv[:n])
        if n < len(mv):
            _hil_p = bytearray(mv[n:])
            _hil_po = off + n
        return
    if off != _hil_po + len(_hil_p):
        raise ValueError('HIL_GAP %d %d' % (off, _hil_po + len(_hil_p)))
    _hil_p.extend(mv)
    n = len(_hil_p) - len(_hil_p) % _hil_u
    if n:
        _hil_wr(_hil_po, _hil_p[:n])
        _hil_po += n
        _hil_p = _hil_p[n:]


def _hil_end():
    global _hil_p
    if len(_hil_p):
        _hil_p.extend(b'\xff' * (_hil_u - len(_hil_p)))
        _hil_wr(_hil_po, _hil_p)
        _hil_p = bytearray()
