# hil's models check, placement: where each model's data sits in the board's memory
# (uctypes.addressof of a file opened on ROMFS is the address of its bytes in the partition)
# and its first bytes, so the host can judge alignment and prove which data is there.
# Parameters: _P['root'], _P['paths'] (model paths under root), _P['head'] (bytes to read).
# Answer: {'models': [[path, address, head_hex, traceback], ...]} or {'error': why}.
import sys
import binascii
try:
    import uctypes
except ImportError:
    uctypes = None
try:
    import io as _io
except ImportError:
    _io = None


def _tb(e):
    if _io is not None and hasattr(sys, 'print_exception'):
        s = _io.StringIO()
        sys.print_exception(e, s)
        return s.getvalue()
    return repr(e)


def _place(root, paths, n):
    if uctypes is None:
        return {'error': 'no uctypes module on this firmware: in-place addresses cannot be read'}
    out = []
    for p in paths:
        try:
            f = open(root + '/' + p, 'rb')
            try:
                a = uctypes.addressof(f)
                h = f.read(n)
            finally:
                f.close()
            out.append([p, a, binascii.hexlify(h).decode(), None])
        except Exception as e:
            out.append([p, None, None, _tb(e)])
    return {'models': out}


_hil_answer(_place(_P['root'], _P['paths'], _P['head']))
