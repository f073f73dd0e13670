# Binary-channel sink of a raw transfer: chunk at stream offset `off` goes to the writer at
# _P['base'] + off. Params: base.
_hil_base = _P['base']


def _hil_sink(mv, off):
    _hil_w(_hil_base + off, mv)
